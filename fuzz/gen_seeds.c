/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: make the seed corpora (fuzz/gen-seeds.sh runs it; the output is committed).
 * Real inputs made by the library itself, small: a scan report of a little tree with exact and
 * perceptual-only matches and skips (the plan), the wipe journal of erasing it, certificates
 * built from that run and signed with the fuzzing key, confirmations files for the fixed plan
 * of fuzz_confirm (written to fuzz/data/confirm-plan.json), keys and signatures, small images
 * of every format in the variants the decoders branch on, and PDQ inputs. The text hash lists
 * are fixtures/hashlists, copied by gen-seeds.sh.
 *   gen_seeds FUZZ_DIR     writes FUZZ_DIR/corpus/<target>/<name> and FUZZ_DIR/data/
 * Not a fuzzer: linked against the instrumented library, but run once by hand. */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <libheif/heif.h>
#include <png.h>
#include <sodium.h>
#include <tiffio.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include "deprive/cert.h"
#include "deprive/confirm.h"
#include "deprive/fingerprint.h"
#include "deprive/hashset.h"
#include "deprive/journal.h"
#include "deprive/json.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/sign.h"
#include "deprive/util.h"
#include "deprive/wipe.h"

#include "fuzz_key.h"
#include "fuzz_sign_doc.h"

static const char *outdir;

static _Noreturn void fail(const char *what, const char *why)
{
    fprintf(stderr, "gen_seeds: %s: %s\n", what, why ? why : strerror(errno));
    exit(1);
}

static void check(enum dp_status st, const struct dp_error *e, const char *what)
{
    if (st != DP_OK)
        fail(what, e->msg);
}

static void mkdirs(const char *path)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            fail(p, NULL);
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        fail(p, NULL);
}

/* FUZZ_DIR/corpus/target/name = [prefix byte when >= 0] + data. */
static void seed(const char *target, const char *name, int prefix, const void *data, size_t n)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/corpus/%s", outdir, target);
    mkdirs(dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        fail(path, NULL);
    if (prefix >= 0)
        fputc(prefix, f);
    if (n > 0 && fwrite(data, 1, n, f) != n)
        fail(path, NULL);
    if (fclose(f) != 0)
        fail(path, NULL);
}

static void seed_str(const char *target, const char *name, int prefix, const char *s)
{
    seed(target, name, prefix, s, strlen(s));
}

/* ---- images ---------------------------------------------------------------------------- */

/* A small picture with structure (so PDQ's quality is not zero): a gradient, a disc and bars;
 * seed varies it. RGB, w * 3 bytes a row. */
static uint8_t *picture(int w, int h, unsigned seed)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    if (p == NULL)
        fail("picture", "out of memory");
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 3;
            int dx = x - w / 3 - (int)(seed % 7), dy = y - h / 2;
            bool disc = dx * dx + dy * dy < (w * h) / 12;
            bool bar = ((x + (int)seed) / 5) % 3 == 0 && y > h * 2 / 3;
            q[0] = (uint8_t)(disc ? 230 : bar ? 20 : 255 * x / w);
            q[1] = (uint8_t)(disc ? 40 + seed * 20 : 255 * y / h);
            q[2] = (uint8_t)(bar ? 250 : (x * y + seed * 31) & 0xff);
        }
    return p;
}

static void grey_of(uint8_t *g, const uint8_t *rgb, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g[i] = (uint8_t)((rgb[3 * i] * 3 + rgb[3 * i + 1] * 5 + rgb[3 * i + 2] * 2) / 10);
}

/* Both the generic and the format's own target. */
static void image_seed(const char *fmt, const char *name, const void *data, size_t n)
{
    char t[64], nm[128];
    snprintf(t, sizeof(t), "image_%s", fmt);
    seed(t, name, -1, data, n);
    snprintf(nm, sizeof(nm), "%s-%s", fmt, name);
    seed("image", nm, -1, data, n);
}

static void jpeg_one(const char *name, int w, int h, int kind)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *mem = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&c, &mem, &len);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    /* kind: 0 RGB baseline, 1 grey, 2 progressive RGB, 3 CMYK, 4 RGB 4:4:4 with restart marks */
    c.input_components = kind == 1 ? 1 : kind == 3 ? 4 : 3;
    c.in_color_space = kind == 1 ? JCS_GRAYSCALE : kind == 3 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 70, TRUE);
    if (kind == 2)
        jpeg_simple_progression(&c);
    if (kind == 4) {
        c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1;
        c.restart_interval = 2;
    }
    jpeg_start_compress(&c, TRUE);
    uint8_t *rgb = picture(w, h, (unsigned)kind);
    uint8_t *row = malloc((size_t)w * 4);
    for (int y = 0; y < h; y++) {
        const uint8_t *s = rgb + (size_t)y * w * 3;
        if (kind == 1)
            grey_of(row, s, (size_t)w);
        else if (kind == 3)
            for (int x = 0; x < w; x++)
                row[4 * x] = (uint8_t)(255 - s[3 * x]), row[4 * x + 1] = (uint8_t)(255 - s[3 * x + 1]),
                row[4 * x + 2] = (uint8_t)(255 - s[3 * x + 2]), row[4 * x + 3] = 30;
        else
            memcpy(row, s, (size_t)w * 3);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    image_seed("jpeg", name, mem, len);
    free(mem), free(rgb), free(row);
}

struct membuf {
    uint8_t *p;
    size_t n, cap;
};

static void mem_put(struct membuf *m, const void *d, size_t n)
{
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2;
        m->p = realloc(m->p, m->cap);
        if (m->p == NULL)
            fail("memory", "out of memory");
    }
    memcpy(m->p + m->n, d, n);
    m->n += n;
}

static void png_write_cb(png_structp png, png_bytep d, png_size_t n)
{
    mem_put(png_get_io_ptr(png), d, n);
}

static void png_flush_cb(png_structp png)
{
    (void)png;
}

/* kind: 0 RGB 8, 1 grey 2-bit, 2 palette, 3 RGBA 16-bit, 4 RGB interlaced with a tRNS */
static void png_one(const char *name, int w, int h, int kind)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    struct membuf m = {0};
    if (setjmp(png_jmpbuf(png)))
        fail("png", "libpng failed");
    png_set_write_fn(png, &m, png_write_cb, png_flush_cb);
    int type = kind == 1 ? PNG_COLOR_TYPE_GRAY : kind == 2 ? PNG_COLOR_TYPE_PALETTE
               : kind == 3                     ? PNG_COLOR_TYPE_RGB_ALPHA
                                               : PNG_COLOR_TYPE_RGB;
    int depth = kind == 1 ? 2 : kind == 3 ? 16 : 8;
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, type,
                 kind == 4 ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_color pal[16];
    for (int i = 0; i < 16; i++)
        pal[i].red = (png_byte)(i * 16), pal[i].green = (png_byte)(255 - i * 16),
        pal[i].blue = (png_byte)(i * 7);
    if (kind == 2)
        png_set_PLTE(png, info, pal, 16);
    if (kind == 4) {
        png_color_16 t = {0, 10, 20, 30, 0};
        png_set_tRNS(png, info, NULL, 0, &t);
    }
    png_write_info(png, info);
    if (kind == 4)
        png_set_interlace_handling(png);
    uint8_t *rgb = picture(w, h, (unsigned)kind + 10);
    size_t rb = png_get_rowbytes(png, info);
    uint8_t *rows = calloc((size_t)h, rb);
    for (int y = 0; y < h; y++) {
        uint8_t *r = rows + (size_t)y * rb;
        const uint8_t *s = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            if (kind == 1)
                r[x / 4] |= (uint8_t)((s[3 * x] >> 6) << (6 - 2 * (x % 4)));
            else if (kind == 2)
                r[x] = (uint8_t)(s[3 * x] >> 4);
            else if (kind == 3)
                for (int c = 0; c < 4; c++)
                    r[8 * x + 2 * c] = c < 3 ? s[3 * x + c] : 200, r[8 * x + 2 * c + 1] = 0x55;
            else
                memcpy(r + 3 * x, s + 3 * x, 3);
        }
    }
    int passes = kind == 4 ? 7 : 1;
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < h; y++)
            png_write_row(png, rows + (size_t)y * rb);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    image_seed("png", name, m.p, m.n);
    free(m.p), free(rgb), free(rows);
}

/* kind: 0 lossy, 1 lossless with alpha (VP8X), 2 a two-frame animation */
static void webp_one(const char *name, int w, int h, int kind)
{
    uint8_t *rgb = picture(w, h, (unsigned)kind + 20);
    uint8_t *out = NULL;
    size_t n = 0;
    if (kind == 0) {
        n = WebPEncodeRGB(rgb, w, h, w * 3, 60, &out);
    } else if (kind == 1) {
        uint8_t *rgba = malloc((size_t)w * h * 4);
        for (int i = 0; i < w * h; i++)
            memcpy(rgba + 4 * i, rgb + 3 * i, 3), rgba[4 * i + 3] = (uint8_t)(i % 2 ? 255 : 128);
        n = WebPEncodeLosslessRGBA(rgba, w, h, w * 4, &out);
        free(rgba);
    } else {
        WebPAnimEncoderOptions ao;
        WebPConfig cfg;
        if (!WebPAnimEncoderOptionsInit(&ao) || !WebPConfigInit(&cfg))
            fail("webp", "init");
        cfg.quality = 50;
        WebPAnimEncoder *enc = WebPAnimEncoderNew(w, h, &ao);
        for (int f = 0; f < 2; f++) {
            WebPPicture pic;
            WebPPictureInit(&pic);
            pic.width = w, pic.height = h, pic.use_argb = 1;
            uint8_t *fr = picture(w, h, (unsigned)(30 + f));
            WebPPictureImportRGB(&pic, fr, w * 3);
            if (!WebPAnimEncoderAdd(enc, &pic, f * 100, &cfg))
                fail("webp", "animation frame");
            WebPPictureFree(&pic);
            free(fr);
        }
        WebPAnimEncoderAdd(enc, NULL, 200, NULL);
        WebPData d;
        WebPDataInit(&d);
        if (!WebPAnimEncoderAssemble(enc, &d))
            fail("webp", "animation");
        out = malloc(d.size);
        memcpy(out, d.bytes, d.size);
        n = d.size;
        WebPDataClear(&d);
        WebPAnimEncoderDelete(enc);
    }
    if (n == 0)
        fail("webp", "encode");
    image_seed("webp", name, out, n);
    if (kind == 2)
        free(out);
    else
        WebPFree(out);
    free(rgb);
}

static int gif_write_cb(GifFileType *g, const GifByteType *d, int n)
{
    mem_put(g->UserData, d, (size_t)n);
    return n;
}

/* kind: 0 static, 1 interlaced with a local colour map at an offset, 2 two frames */
static void gif_one(const char *name, int w, int h, int kind)
{
    struct membuf m = {0};
    int e = 0;
    GifFileType *g = EGifOpen(&m, gif_write_cb, &e);
    if (g == NULL)
        fail("gif", "open");
    GifColorType cols[16];
    for (int i = 0; i < 16; i++)
        cols[i].Red = (GifByteType)(i * 17), cols[i].Green = (GifByteType)(kind == 0 ? i * 17 : 255 - i * 9),
        cols[i].Blue = (GifByteType)(kind == 0 ? i * 17 : i * 3);
    ColorMapObject *cm = GifMakeMapObject(16, cols);
    EGifSetGifVersion(g, kind != 0);
    if (EGifPutScreenDesc(g, w, h, 4, 0, cm) == GIF_ERROR)
        fail("gif", "screen");
    uint8_t *rgb = picture(w, h, (unsigned)kind + 40);
    int frames = kind == 2 ? 2 : 1;
    for (int f = 0; f < frames; f++) {
        if (kind == 2) {
            GraphicsControlBlock gcb = {0, false, 10, 3};
            GifByteType ext[4];
            EGifGCBToExtension(&gcb, ext);
            EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, ext);
        }
        int fx = kind == 1 ? 2 : 0, fw = w - fx, fh = h - fx;
        ColorMapObject *lcm = kind == 1 ? GifMakeMapObject(16, cols) : NULL;
        if (EGifPutImageDesc(g, fx, fx, fw, fh, kind == 1, lcm) == GIF_ERROR)
            fail("gif", "image");
        GifByteType *line = malloc((size_t)fw);
        int rows[512], nr = 0;
        if (kind == 1) { /* interlaced: the four passes */
            static const int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
            for (int p = 0; p < 4; p++)
                for (int y = start[p]; y < fh; y += step[p])
                    rows[nr++] = y;
        } else {
            for (int y = 0; y < fh; y++)
                rows[nr++] = y;
        }
        for (int i = 0; i < nr; i++) {
            for (int x = 0; x < fw; x++)
                line[x] = (GifByteType)((rgb[((size_t)rows[i] * w + x) * 3 + f] >> 4) & 15);
            if (EGifPutLine(g, line, fw) == GIF_ERROR)
                fail("gif", "line");
        }
        free(line);
        GifFreeMapObject(lcm);
    }
    GifFreeMapObject(cm);
    if (EGifCloseFile(g, &e) == GIF_ERROR)
        fail("gif", "close");
    image_seed("gif", name, m.p, m.n);
    free(m.p), free(rgb);
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* kind: 0 24-bit bottom-up, 1 8-bit grey palette top-down, 2 32-bit BI_BITFIELDS with a V4
 * header, 3 4-bit palette, 4 16-bit 5-5-5, 5 1-bit */
static void bmp_one(const char *name, int w, int h, int kind)
{
    static const unsigned bpps[] = {24, 8, 32, 4, 16, 1};
    unsigned bpp = bpps[kind];
    uint32_t hs = kind == 2 ? 108 : 40;
    unsigned npal = bpp <= 8 ? 1u << bpp : 0;
    size_t rowb = ((size_t)w * bpp + 31) / 32 * 4;
    size_t off = 14 + hs + 4 * npal, total = off + rowb * (size_t)h;
    uint8_t *b = calloc(1, total);
    b[0] = 'B', b[1] = 'M';
    put32(b + 2, (uint32_t)total);
    put32(b + 10, (uint32_t)off);
    put32(b + 14, hs);
    put32(b + 18, (uint32_t)w);
    put32(b + 22, (uint32_t)(kind == 1 ? -h : h));
    put16(b + 26, 1);
    put16(b + 28, bpp);
    put32(b + 30, kind == 2 ? 3 : 0);
    put32(b + 34, (uint32_t)(rowb * (size_t)h));
    if (kind == 2) {
        put32(b + 54, 0x00ff0000), put32(b + 58, 0x0000ff00), put32(b + 62, 0x000000ff);
        put32(b + 66, 0xff000000);
    }
    for (unsigned i = 0; i < npal; i++) {
        uint8_t *p = b + 14 + hs + 4 * i;
        unsigned v = npal > 1 ? i * 255 / (npal - 1) : 0;
        p[0] = (uint8_t)v, p[1] = (uint8_t)(kind == 1 ? v : 255 - v), p[2] = (uint8_t)v;
    }
    uint8_t *rgb = picture(w, h, (unsigned)kind + 50);
    for (int y = 0; y < h; y++) {
        uint8_t *r = b + off + rowb * (size_t)(kind == 1 ? y : h - 1 - y);
        for (int x = 0; x < w; x++) {
            const uint8_t *s = rgb + ((size_t)y * w + x) * 3;
            if (bpp == 24)
                r[3 * x] = s[2], r[3 * x + 1] = s[1], r[3 * x + 2] = s[0];
            else if (bpp == 32)
                put32(r + 4 * x, (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2] | 0xff000000u);
            else if (bpp == 16)
                put16(r + 2 * x, (unsigned)(s[0] >> 3) << 10 | (unsigned)(s[1] >> 3) << 5 | s[2] >> 3);
            else
                r[x * bpp / 8] |= (uint8_t)((s[0] >> (8 - bpp)) << (8 - bpp - (x * bpp) % 8));
        }
    }
    image_seed("bmp", name, b, total);
    free(b), free(rgb);
}

static void tiff_silent(const char *m, const char *f, va_list ap)
{
    (void)m, (void)f, (void)ap;
}

/* kind: 0 RGB uncompressed, 1 RGB LZW with a predictor, 2 grey deflate min-is-white,
 * 3 RGB tiled, 4 palette, big-endian */
static void tiff_one(const char *name, int w, int h, int kind)
{
    char *p = fz_path("seed.tif");
    unlink(p);
    TIFFSetErrorHandler(tiff_silent);
    TIFFSetWarningHandler(tiff_silent);
    TIFF *t = TIFFOpen(p, kind == 4 ? "wb" : "wl");
    if (t == NULL)
        fail("tiff", "open");
    int spp = kind == 2 || kind == 4 ? 1 : 3;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)h);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, kind == 4 ? 4 : 8);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, kind == 2   ? PHOTOMETRIC_MINISWHITE
                                         : kind == 4 ? PHOTOMETRIC_PALETTE
                                                     : PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_COMPRESSION, kind == 1   ? COMPRESSION_LZW
                                         : kind == 2 ? COMPRESSION_ADOBE_DEFLATE
                                                     : COMPRESSION_NONE);
    if (kind == 1)
        TIFFSetField(t, TIFFTAG_PREDICTOR, 2);
    uint16_t cmap[3][16];
    if (kind == 4) {
        for (int i = 0; i < 16; i++)
            cmap[0][i] = (uint16_t)(i * 4369), cmap[1][i] = (uint16_t)(65535 - i * 4369),
            cmap[2][i] = (uint16_t)(i * 1000);
        TIFFSetField(t, TIFFTAG_COLORMAP, cmap[0], cmap[1], cmap[2]);
    }
    uint8_t *rgb = picture(w, h, (unsigned)kind + 60);
    if (kind == 3) {
        TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
        TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
        uint8_t tile[16 * 16 * 3];
        for (int ty = 0; ty < h; ty += 16)
            for (int tx = 0; tx < w; tx += 16) {
                memset(tile, 0, sizeof(tile));
                for (int y = 0; y < 16 && ty + y < h; y++)
                    for (int x = 0; x < 16 && tx + x < w; x++)
                        memcpy(tile + (y * 16 + x) * 3, rgb + ((size_t)(ty + y) * w + tx + x) * 3, 3);
                TIFFWriteTile(t, tile, (uint32_t)tx, (uint32_t)ty, 0, 0);
            }
    } else {
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 8);
        uint8_t *row = calloc((size_t)w, 3);
        for (int y = 0; y < h; y++) {
            const uint8_t *s = rgb + (size_t)y * w * 3;
            if (kind == 2) {
                grey_of(row, s, (size_t)w);
            } else if (kind == 4) {
                memset(row, 0, (size_t)w);
                for (int x = 0; x < w; x++)
                    row[x / 2] |= (uint8_t)((s[3 * x] >> 4) << (x % 2 ? 0 : 4));
            } else {
                memcpy(row, s, (size_t)w * 3);
            }
            if (TIFFWriteScanline(t, row, (uint32_t)y, 0) < 0)
                fail("tiff", "scanline");
        }
        free(row);
    }
    TIFFClose(t);
    size_t n = 0;
    char *d = fz_read(p, &n);
    image_seed("tiff", name, d, n);
    free(d), free(rgb), free(p);
}

static struct heif_error heif_write_cb(struct heif_context *ctx, const void *d, size_t n,
                                       void *user)
{
    (void)ctx;
    mem_put(user, d, n);
    struct heif_error ok = {heif_error_Ok, heif_suberror_Unspecified, ""};
    return ok;
}

static void heif_one(const char *name, enum heif_compression_format fmt, int w, int h)
{
    if (!heif_have_encoder_for_format(fmt)) {
        fprintf(stderr, "gen_seeds: no encoder for %s, not made\n", name);
        return;
    }
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    if (heif_context_get_encoder_for_format(ctx, fmt, &enc).code != heif_error_Ok)
        fail("heif", "encoder");
    heif_encoder_set_lossy_quality(enc, 30);
    heif_encoder_set_logging_level(enc, 0);
    struct heif_image *img = NULL;
    heif_image_create(w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img);
    heif_image_add_plane(img, heif_channel_interleaved, w, h, 8);
    int stride = 0;
    uint8_t *p = heif_image_get_plane(img, heif_channel_interleaved, &stride);
    uint8_t *rgb = picture(w, h, 70);
    for (int y = 0; y < h; y++)
        memcpy(p + (size_t)y * stride, rgb + (size_t)y * w * 3, (size_t)w * 3);
    if (heif_context_encode_image(ctx, img, enc, NULL, NULL).code != heif_error_Ok)
        fail("heif", "encode");
    struct membuf m = {0};
    struct heif_writer wr = {1, heif_write_cb};
    heif_context_write(ctx, &wr, &m);
    heif_image_release(img);
    heif_encoder_release(enc);
    heif_context_free(ctx);
    image_seed("heif", name, m.p, m.n);
    free(m.p), free(rgb);
}

static void images(void)
{
    jpeg_one("rgb.jpg", 40, 30, 0);
    jpeg_one("grey.jpg", 33, 17, 1);
    jpeg_one("progressive.jpg", 40, 30, 2);
    jpeg_one("cmyk.jpg", 24, 24, 3);
    jpeg_one("444-restart.jpg", 40, 30, 4);
    png_one("rgb.png", 32, 24, 0);
    png_one("grey2.png", 33, 9, 1);
    png_one("palette.png", 32, 24, 2);
    png_one("rgba16.png", 12, 10, 3);
    png_one("interlaced.png", 20, 15, 4);
    webp_one("lossy.webp", 32, 24, 0);
    webp_one("lossless-alpha.webp", 24, 16, 1);
    webp_one("animated.webp", 24, 16, 2);
    gif_one("static.gif", 32, 24, 0);
    gif_one("interlaced-offset.gif", 32, 24, 1);
    gif_one("animated.gif", 24, 16, 2);
    static const char *const bmps[] = {"rgb24.bmp", "grey8-topdown.bmp", "bitfields32-v4.bmp",
                                       "pal4.bmp", "rgb555.bmp", "mono1.bmp"};
    for (int k = 0; k < 6; k++)
        bmp_one(bmps[k], 19, 13, k);
    static const char *const tiffs[] = {"rgb.tif", "lzw-predictor.tif", "grey-deflate-white.tif",
                                        "tiled.tif", "palette4-be.tif"};
    for (int k = 0; k < 5; k++)
        tiff_one(tiffs[k], 32, 20, k);
    heif_one("small.heic", heif_compression_HEVC, 64, 64);
    heif_one("small.avif", heif_compression_AV1, 64, 64);
}

/* ---- PDQ --------------------------------------------------------------------------------- */

static void pdq_seeds(void)
{
    seed_str("pdq_hex", "lower", -1,
             "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
    seed_str("pdq_hex", "upper", -1,
             "AE2E7AF1F1BDA1E0293C1A07FE6666FB9AF08393DFCDA2788DC4EB6672C80AAA");
    seed_str("pdq_hex", "mixed", -1,
             "3fB301eaA65988699578437b17adcfb69cfbfcbfa45f61a73d6255812506d8A6");
    seed_str("pdq_hex", "short", -1, "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2");
    seed_str("pdq_hex", "nonhex", -1,
             "g8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22");
    /* width, height (16-bit little-endian, modulo 96, or 700 with flag 0x80), flags (1: RGB,
       2: dihedral, 4..28: row padding, 0x80: large), pixels */
    static const struct {
        const char *name;
        unsigned w, h, flags;
    } px[] = {{"tiny-grey", 4, 4, 0}, {"grey-64", 64, 48, 2}, {"rgb-90-dihedral", 90, 80, 3},
              {"rgb-600-padded", 600, 530, 0x80 | 3 | 4 << 2}, {"tall", 8, 650, 0x80 | 1}};
    for (size_t i = 0; i < sizeof(px) / sizeof(px[0]); i++) {
        uint8_t b[5 + 256];
        b[0] = (uint8_t)px[i].w, b[1] = (uint8_t)(px[i].w >> 8);
        b[2] = (uint8_t)px[i].h, b[3] = (uint8_t)(px[i].h >> 8), b[4] = (uint8_t)px[i].flags;
        for (int k = 0; k < 256; k++)
            b[5 + k] = (uint8_t)(k * 37 + (int)i * 11 + (k / 16) * 50);
        seed("pdq_pixels", px[i].name, -1, b, sizeof(b));
    }
}

/* ---- keys and signatures ------------------------------------------------------------------ */

static void b64(char *out, size_t cap, const uint8_t *d, size_t n)
{
    sodium_bin2base64(out, cap, d, n, sodium_base64_VARIANT_ORIGINAL);
}

/* A minisign signature made by hand with libsodium: prehashed ("ED") or legacy ("Ed"). */
static void hand_signature(bool legacy)
{
    uint8_t pk[32], sk[64], id[8], sig[64], gsig[64], hash[64];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(id, sizeof(id));
    uint8_t pkb[42];
    memcpy(pkb, "Ed", 2), memcpy(pkb + 2, id, 8), memcpy(pkb + 10, pk, 32);
    static const char doc[] = FUZZ_SIGN_DOCUMENT;
    if (legacy) {
        crypto_sign_detached(sig, NULL, (const uint8_t *)doc, sizeof(doc) - 1, sk);
    } else {
        crypto_generichash(hash, sizeof(hash), (const uint8_t *)doc, sizeof(doc) - 1, NULL, 0);
        crypto_sign_detached(sig, NULL, hash, sizeof(hash), sk);
    }
    const char tc[] = "timestamp:1767225600\tfile:doc.txt\thashed";
    uint8_t gm[64 + sizeof(tc) - 1];
    memcpy(gm, sig, 64), memcpy(gm + 64, tc, sizeof(tc) - 1);
    crypto_sign_detached(gsig, NULL, gm, sizeof(gm), sk);
    uint8_t sb[74];
    memcpy(sb, legacy ? "Ed" : "ED", 2), memcpy(sb + 2, id, 8), memcpy(sb + 10, sig, 64);
    char pk64[64], s64[128], g64[128], text[1024];
    b64(pk64, sizeof(pk64), pkb, sizeof(pkb));
    b64(s64, sizeof(s64), sb, sizeof(sb));
    b64(g64, sizeof(g64), gsig, sizeof(gsig));
    snprintf(text, sizeof(text),
             "%s\nuntrusted comment: signature from a hand-made key\n%s\ntrusted comment: %s\n%s\n",
             pk64, s64, tc, g64);
    seed_str("sign", legacy ? "verify-legacy" : "verify-prehashed", 0, text);
    sodium_memzero(sk, sizeof(sk));
}

static struct dp_sign_seckey *fuzz_key(void)
{
    static const char text[] = FUZZ_KEY_SECRET;
    char *p = fz_write("fuzz.sec", text, sizeof(text) - 1);
    struct dp_sign_seckey *sk = NULL;
    struct dp_error e = {0};
    check(dp_sign_seckey_load(&sk, p, NULL, &e), &e, "fuzzing key");
    free(p);
    return sk;
}

static void sign_seeds(struct dp_sign_seckey *sk)
{
    struct dp_error e = {0};
    hand_signature(false);
    hand_signature(true);
    static const char doc[] = FUZZ_SIGN_DOCUMENT;
    char *sig = NULL;
    check(dp_sign_document(&sig, sk, doc, sizeof(doc) - 1, "doc.txt", NULL, 0, NULL, &e), &e,
          "sign");
    char text[2048];
    snprintf(text, sizeof(text), "%s\n%s", FUZZ_KEY_PUBLIC, sig);
    seed_str("sign", "verify-deprive", 0, text);
    free(sig);
    snprintf(text, sizeof(text), "untrusted comment: minisign public key %s\n%s\n", FUZZ_KEY_ID,
             FUZZ_KEY_PUBLIC);
    seed_str("sign", "pubkey-file", 1, text);
    seed_str("sign", "pubkey-file-crlf", 1,
             "untrusted comment: minisign public key 2495A200A42B5950\r\n"
             "RWRQWSukAKKVJG5HWGkAX3sYF6WahYI+WS6tgm+yhGQuAbFaj2S5XrtH\r\n\r\n");
    seed_str("sign", "seckey-unencrypted", 2, FUZZ_KEY_SECRET);
    /* an encrypted key at libsodium's cheapest scrypt cost: loading it without a passphrase
       stops before the KDF */
    char *pub = fz_path("enc.pub"), *sec = fz_path("enc.sec");
    unlink(pub), unlink(sec);
    struct dp_sign_keygen_opts o = {.passphrase = "fuzz",
                                    .opslimit = crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN,
                                    .memlimit = crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN};
    check(dp_sign_keygen(NULL, pub, sec, &o, &e), &e, "keygen");
    size_t n = 0;
    char *t = fz_read(sec, &n);
    seed("sign", "seckey-encrypted", 2, t, n);
    free(t), free(pub), free(sec);
    seed_str("sign", "trusted-cert", 3,
             "timestamp:1767225600\tfile:CERT.json\tsha256:"
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\tkeyid:"
             "2495A200A42B5950\tcertificate:6f1c8a52-3d0e-4b7a-9c1e-2f4d5a6b7c8d");
    seed_str("sign", "trusted-audit", 3,
             "file:a?b.json\tkeyid:2495a200a42b5950\tsha256:"
             "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\tx-extra:1:2");
}

/* ---- the tree, the plan, the journal, the certificates, the confirmations ----------------- */

static void write_file(const char *dir, const char *rel, const void *d, size_t n)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdirs(p);
    *slash = '/';
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, d, n) != (ssize_t)n || close(fd) != 0)
        fail(p, NULL);
}

static void write_png(const char *dir, const char *rel, const uint8_t *rgb, int w, int h)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdirs(p);
    *slash = '/';
    png_image im;
    memset(&im, 0, sizeof(im));
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w, im.height = (png_uint_32)h, im.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&im, p, 0, rgb, w * 3, NULL))
        fail(p, im.message);
}

static void line_for(char *list, size_t cap, const char *dir, const char *rel, bool pdq_only)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    int fd = open(p, O_RDONLY);
    struct dp_fingerprint fp;
    struct dp_error e = {0};
    check(dp_fingerprint_fd(fd, 0, NULL, &fp, &e), &e, p);
    close(fd);
    char *l = dp_fingerprint_line(&fp, true, "seed");
    size_t u = strlen(list);
    if (pdq_only) {
        char hex[DP_PDQ_HEX + 1];
        dp_pdq_hex(&fp.pdq, hex);
        snprintf(list + u, cap - u, "pdq:%s:%d label=perceptual\n", hex, fp.quality);
    } else {
        snprintf(list + u, cap - u, "%s\n", l);
    }
    free(l);
}

struct run {
    char *dir, *root;
    json_t *report, *wipe, *rescan;
    char *journal;
    size_t journal_n;
};

/* A little tree: two exact targets (one under a Latin-1 name), an image listed by PDQ only
 * with a copy and a turned copy, an unrelated image and file, a symlink and a FIFO (skips). */
static void tree(struct run *r, bool perceptual)
{
    r->root = fz_path(perceptual ? "root-p" : "root-x");
    mkdirs(r->root);
    char list[4096] = "# deprive-hashes 1\n";
    uint8_t bytes[300];
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < sizeof(bytes); k++)
            bytes[k] = (uint8_t)(k * 7 + (size_t)i * 13 + k / 5);
        const char *rel = i == 0 ? "docs/a.bin" : "docs/x\xe9.bin";
        write_file(r->root, rel, bytes, sizeof(bytes) - (size_t)i);
        line_for(list, sizeof(list), r->root, rel, false);
    }
    write_file(r->root, "keep.txt", "keep me\n", 8);
    char p[4096];
    snprintf(p, sizeof(p), "%s/link", r->root);
    if (symlink("keep.txt", p) != 0)
        fail(p, NULL);
    snprintf(p, sizeof(p), "%s/fifo", r->root);
    if (mkfifo(p, 0600) != 0)
        fail(p, NULL);
    if (perceptual) {
        const int w = 64, h = 48;
        uint8_t *img = picture(w, h, 3), *turned = malloc((size_t)w * h * 3);
        for (int i = 0; i < w * h; i++)
            memcpy(turned + 3 * i, img + 3 * (w * h - 1 - i), 3);
        uint8_t *other = picture(w, h, 6);
        for (int i = 0; i < w * h * 3; i++)
            other[i] = (uint8_t)(other[i] ^ (i * 5));
        char *victim = fz_path("victim");
        mkdirs(victim);
        write_png(victim, "v.png", img, w, h);
        line_for(list, sizeof(list), victim, "v.png", true);
        write_png(r->root, "img/copy.png", img, w, h);
        write_png(r->root, "img/turned.png", turned, w, h);
        write_png(r->root, "img/other.png", other, w, h);
        free(img), free(turned), free(other), free(victim);
    }
    struct dp_hashset *set = NULL;
    struct dp_error e = {0};
    check(dp_hashset_new(&set, &e), &e, "set");
    check(dp_hashset_load_buffer(set, "victim.hashes", list, strlen(list), &e), &e, "list");
    check(dp_hashset_finalize(set, &e), &e, "finalize");
    struct dp_scan_opts so = {.jobs = 1};
    struct dp_scan_result *sr = NULL;
    check(dp_scan_run(set, r->root, &so, &sr, &e), &e, "scan");
    check(dp_report_build(sr, set, &r->report, &e), &e, "report");
    dp_scan_result_free(sr);
    if (perceptual) { /* the plan of fuzz_confirm */
        char d[4096];
        snprintf(d, sizeof(d), "%s/data", outdir);
        mkdirs(d);
        snprintf(d, sizeof(d), "%s/data/confirm-plan.json", outdir);
        check(dp_json_write_file(r->report, d, &e), &e, d);
    }
    char *plan_file = fz_path(perceptual ? "plan-p.json" : "plan-x.json");
    check(dp_json_write_file(r->report, plan_file, &e), &e, plan_file);
    struct dp_plan *plan = NULL;
    json_incref(r->report);
    check(dp_plan_from_report(r->report, &plan, &e), &e, "plan");
    json_decref(r->report);
    r->journal = fz_path(perceptual ? "p.journal" : "x.journal");
    unlink(r->journal);
    struct dp_journal *j = NULL;
    check(dp_journal_create(&j, r->journal, &e), &e, "journal");
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = set, .plan_file = plan_file};
    check(dp_wipe_run(plan, j, &o, NULL, &r->wipe, &e), &e, "wipe");
    check(dp_journal_close(j, &e), &e, "journal close");
    check(dp_scan_run(set, r->root, &so, &sr, &e), &e, "rescan");
    check(dp_report_build(sr, set, &r->rescan, &e), &e, "rescan report");
    dp_scan_result_free(sr);
    dp_plan_free(plan);
    dp_hashset_free(set);
    free(plan_file);
}

static void plan_and_journal_seeds(struct run *r, const char *tag)
{
    char name[64];
    char *rep = dp_json_dump(r->report);
    snprintf(name, sizeof(name), "report-%s.json", tag);
    seed_str("plan", name, -1, rep);
    free(rep);
    size_t n = 0;
    char *jt = fz_read(r->journal, &n);
    snprintf(name, sizeof(name), "wipe-%s.journal", tag);
    seed("journal", name, -1, jt, n);
    /* torn: the last record cut in the middle, as a crash leaves it */
    const char *last = n > 1 ? memrchr(jt, '\n', n - 1) : NULL;
    if (last != NULL) {
        snprintf(name, sizeof(name), "torn-%s.journal", tag);
        seed("journal", name, -1, jt, (size_t)(last - jt) + 1 + (n - (size_t)(last - jt)) / 2);
    }
    free(jt);
}

static void cert_seeds(struct run *r, struct dp_sign_seckey *sk, const char *tag)
{
    struct dp_error e = {0};
    json_t *cs = NULL;
    check(dp_cert_case_new(&cs, &e), &e, "case");
    static const char *const fields[][2] = {
        {"order", "ORDER/2026/1"}, {"exhibit", "EX/1"}, {"officer", "DC Fuzz"},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        check(dp_cert_case_set(cs, fields[i][0], fields[i][1], &e), &e, fields[i][0]);
    json_t *cert = NULL;
    check(dp_cert_build(&cert, cs, r->report, r->wipe, r->rescan, FUZZ_KEY_ID, &e), &e, "cert");
    /* compact (keys sorted): the same document in fewer bytes for the fuzzer to mutate */
    char *text = json_dumps(cert, JSON_COMPACT | JSON_SORT_KEYS);
    char name[64];
    snprintf(name, sizeof(name), "cert-%s.json", tag);
    seed_str("cert", name, -1, text);
    seed_str("cert_pdf", name, -1, text);
    seed_str("cert_verify", name, -1, text);
    char *sig = NULL;
    check(dp_cert_sign(&sig, sk, text, strlen(text), name, &e), &e, "cert sign");
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s\n%s", FUZZ_KEY_PUBLIC, sig);
    snprintf(name, sizeof(name), "verify-cert-%s", tag);
    seed("sign", name, 0, buf, strlen(buf));
    free(sig), free(text);
    json_decref(cert), json_decref(cs);
}

static void confirm_seeds(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/data/confirm-plan.json", outdir);
    struct dp_plan *plan = NULL;
    struct dp_error e = {0};
    uint8_t sha[32];
    char hex[65];
    check(dp_plan_load(path, &plan, &e), &e, path);
    check(dp_sha256_file(path, sha, &e), &e, path);
    dp_hex_encode(hex, sha, 32);
    size_t pi[8], np = 0;
    for (size_t i = 0; i < plan->count && np < 8; i++)
        if (plan->targets[i].perceptual_only)
            pi[np++] = i;
    if (np == 0)
        fail("confirm plan", "no perceptual-only finding");
    for (int k = 0; k < 3; k++) {
        char *c = fz_path("seed.confirmations");
        unlink(c);
        struct dp_confirmations *cf = NULL;
        check(dp_confirm_open(c, plan, hex, true, &cf, &e), &e, "confirm open");
        for (int d = 0; d < k; d++)
            check(dp_confirm_record(cf, pi[(size_t)d % np],
                                    d % 2 ? DP_CONFIRM_REJECTED : DP_CONFIRM_CONFIRMED,
                                    d ? "DC Two" : "DC One", d ? "interactive" : "command", &e),
                  &e, "confirm record");
        check(dp_confirm_close(cf, &e), &e, "confirm close");
        size_t n = 0;
        char *t = fz_read(c, &n);
        char name[64];
        snprintf(name, sizeof(name), "decisions-%d", k);
        seed("confirm", name, -1, t, n);
        if (k == 2) /* a confirmations file is a journal too */
            seed("journal", "confirmations.journal", -1, t, n);
        free(t), free(c);
    }
    seed("confirm", "empty", -1, "", 0);
    dp_plan_free(plan);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_seeds FUZZ_DIR\n");
        return 2;
    }
    outdir = argv[1];
    if (sodium_init() < 0)
        fail("libsodium", "init");
    struct dp_sign_seckey *sk = fuzz_key();
    images();
    pdq_seeds();
    sign_seeds(sk);
    struct run x = {0}, p = {0};
    tree(&x, false);
    tree(&p, true);
    plan_and_journal_seeds(&x, "exact");
    plan_and_journal_seeds(&p, "perceptual");
    cert_seeds(&x, sk, "exact");
    cert_seeds(&p, sk, "perceptual");
    confirm_seeds();
    json_decref(x.report), json_decref(x.wipe), json_decref(x.rescan);
    json_decref(p.report), json_decref(p.wipe), json_decref(p.rescan);
    free(x.root), free(x.journal), free(p.root), free(p.journal);
    dp_sign_seckey_free(sk);
    return 0;
}
