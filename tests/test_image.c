/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the WebP, GIF, BMP, TIFF and HEIF decoders on images generated here with the
 * libraries' own encoders (BMP written by hand): the same pixels back (exact when lossless,
 * within PDQ distance 8 when lossy), grey kept grey, truncated and corrupted input refused or
 * decoded but never a crash, headers declaring huge sizes refused before allocation, a GIF of
 * 10,000 frames decoded from its first quickly. HEIF decodes in a child process: the same
 * pixels as libheif in-process, a coded frame larger than declared stopped by the child's
 * memory limit; and the child runner itself (sandbox.c) - timeout, crashes, memory limit,
 * descriptors, EINTR. */
#include "testutil.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gif_lib.h>
#include <png.h>
#include <libheif/heif.h>
#include <tiffio.h>
#include <webp/encode.h>
#include <webp/types.h>

#include "deprive/image.h"
#include "deprive/pdq.h"

#include "../src/content/internal.h" /* the child-process runner, tested directly */

enum { W = 160, H = 112 };

/* LeakSanitizer (ASan builds): x265, the HEIC encoder these tests use, keeps one allocation for
 * the life of the process; deprive's decoders never reach it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}

/* A picture whose 16x16 low frequencies (the ones PDQ keys on) all carry clear energy in every
 * channel, as in test_pdq.c: a lossy codec then moves few hash bits. RGB or grey. */
static uint8_t *make_image(int channels, uint32_t seed)
{
    uint8_t *img = malloc((size_t)W * H * channels);
    assert_non_null(img);
    static double cy[16][H], cx[16][W];
    for (int u = 0; u < 16; u++) {
        for (int y = 0; y < H; y++)
            cy[u][y] = cos(M_PI * (u + 1) * (2 * ((y + 0.5) * 64 / H - 0.5) + 1) / 128);
        for (int x = 0; x < W; x++)
            cx[u][x] = cos(M_PI * (u + 1) * (2 * ((x + 0.5) * 64 / W - 0.5) + 1) / 128);
    }
    for (int ch = 0; ch < channels; ch++) {
        double c[16][16];
        for (int u = 0; u < 16; u++)
            for (int v = 0; v < 16; v++) {
                seed = seed * 1103515245 + 12345;
                c[u][v] = (2.0 + (seed >> 16) % 100 / 50.0) * ((seed >> 30) & 1 ? 1 : -1);
            }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                double val = 128;
                for (int u = 0; u < 16; u++)
                    for (int v = 0; v < 16; v++)
                        val += c[u][v] * cy[u][y] * cx[v][x];
                img[((size_t)y * W + x) * channels + ch] =
                    (uint8_t)(val < 0 ? 0 : val > 255 ? 255 : val);
            }
    }
    return img;
}

static void decode_ok(const uint8_t *buf, size_t len, enum dp_image_format fmt,
                      struct dp_image *img)
{
    struct dp_error e = {0};
    assert_int_equal(dp_image_sniff(buf, len), fmt);
    enum dp_status st = dp_image_decode(buf, len, NULL, img, &e);
    if (st != DP_OK)
        fail_msg("%s: %s", dp_image_format_name(fmt), e.msg);
    assert_int_equal(img->format, fmt);
}

/* Decoded pixels equal want (w x h x channels, packed). */
static void expect_exact(const uint8_t *buf, size_t len, enum dp_image_format fmt,
                         const uint8_t *want, size_t w, size_t h, int channels)
{
    struct dp_image img;
    decode_ok(buf, len, fmt, &img);
    assert_int_equal(img.w, w);
    assert_int_equal(img.h, h);
    assert_int_equal(img.channels, channels);
    for (size_t y = 0; y < h; y++)
        if (memcmp(img.pix + y * img.stride, want + y * w * channels, w * channels) != 0)
            fail_msg("%s: row %zu differs", dp_image_format_name(fmt), y);
    dp_image_release(&img);
}

/* Lossy: the PDQ hash within distance 8 of the source's. */
static void expect_close(const uint8_t *buf, size_t len, enum dp_image_format fmt,
                         const uint8_t *src, int channels, const char *what)
{
    struct dp_image img;
    decode_ok(buf, len, fmt, &img);
    assert_int_equal(img.w, W);
    assert_int_equal(img.h, H);
    struct dp_pdq_result a, b;
    assert_int_equal(dp_pdq_hash_pixels(src, W, H, (size_t)W * channels, channels, false, &a,
                                        NULL),
                     DP_OK);
    assert_int_equal(
        dp_pdq_hash_pixels(img.pix, img.w, img.h, img.stride, img.channels, false, &b, NULL),
        DP_OK);
    int d = dp_pdq_distance(&a.hash[0], &b.hash[0]);
    printf("image: %s: PDQ distance %d from the source (quality %d)\n", what, d, a.quality);
    assert_true(a.quality >= DP_PDQ_MIN_QUALITY);
    assert_true(d <= 8);
    dp_image_release(&img);
}

/* Truncated at many lengths and with bytes corrupted: refused or decoded, never a crash (ASan
 * and UBSan check the rest). */
static void hostile(const uint8_t *buf, size_t len, const char *what, int corruptions)
{
    struct dp_image img;
    struct dp_error e = {0};
    int refused = 0, ok = 0;
    for (size_t cut = 0; cut < len; cut += len / 61 + 1) {
        enum dp_status st = dp_image_decode(buf, cut, NULL, &img, &e);
        assert_true(st == DP_OK || st == DP_ERR_PARSE || st == DP_ERR_UNSUPPORTED);
        refused += st != DP_OK;
        ok += st == DP_OK;
        dp_image_release(&img);
    }
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    uint32_t s = 99;
    int cok = 0, cbad = 0;
    for (int i = 0; i < corruptions; i++) {
        memcpy(copy, buf, len);
        for (int k = 0; k < 4; k++) {
            s = s * 1103515245 + 12345;
            size_t at = (s >> 8) % len;
            s = s * 1103515245 + 12345;
            copy[at] = (uint8_t)(s >> 16);
        }
        enum dp_status st = dp_image_decode(copy, len, NULL, &img, &e);
        if (st == DP_ERR_NOMEM)
            fail_msg("%s corrupted: %s", what, e.msg);
        assert_true(st == DP_OK || st == DP_ERR_PARSE || st == DP_ERR_UNSUPPORTED ||
                    st == DP_ERR_LIMIT);
        cok += st == DP_OK;
        cbad += st != DP_OK;
        dp_image_release(&img);
    }
    free(copy);
    printf("image: %s: truncated at 62 lengths: %d refused, %d decoded; %d corrupted copies: "
           "%d refused, %d decoded\n",
           what, refused, ok, corruptions, cbad, cok);
}

static void expect_limit(const uint8_t *buf, size_t len, const char *what)
{
    struct dp_image img;
    struct dp_error e = {0};
    enum dp_status st = dp_image_decode(buf, len, NULL, &img, &e);
    printf("image: %s: %s\n", what, e.msg);
    assert_int_equal(st, DP_ERR_LIMIT);
    assert_null(img.pix);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void put24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
}

/* ---- WebP ---- */

/* An animated WebP by hand: VP8X + ANIM + one ANMF per frame, each wrapping the chunks of a
 * still lossless WebP (everything after its 12-byte RIFF header). */
static uint8_t *webp_animation(uint8_t *const frames[], const size_t flen[], int n, size_t *len)
{
    size_t total = 12 + 18 + 14;
    for (int i = 0; i < n; i++)
        total += 8 + 16 + (flen[i] - 12);
    uint8_t *b = calloc(1, total), *p = b;
    assert_non_null(b);
    memcpy(p, "RIFF", 4), put32(p + 4, (uint32_t)(total - 8)), memcpy(p + 8, "WEBP", 4);
    p += 12;
    memcpy(p, "VP8X", 4), put32(p + 4, 10), p[8] = 0x02; /* animation */
    put24(p + 12, W - 1), put24(p + 15, H - 1);
    p += 18;
    memcpy(p, "ANIM", 4), put32(p + 4, 6); /* background 0, loop 0 */
    p += 14;
    for (int i = 0; i < n; i++) {
        size_t body = 16 + (flen[i] - 12);
        memcpy(p, "ANMF", 4), put32(p + 4, (uint32_t)body);
        put24(p + 14, W - 1), put24(p + 17, H - 1), put24(p + 20, 100), p[23] = 0x02;
        memcpy(p + 24, frames[i] + 12, flen[i] - 12);
        p += 8 + body;
    }
    *len = total;
    return b;
}

static void test_webp(void **state)
{
    (void)state;
    uint8_t *rgb = make_image(3, 1), *other = make_image(3, 2), *out = NULL, *lossy = NULL;
    size_t n = WebPEncodeLosslessRGB(rgb, W, H, W * 3, &out);
    assert_true(n > 0);
    expect_exact(out, n, DP_IMAGE_WEBP, rgb, W, H, 3);
    hostile(out, n, "lossless WebP", 300);
    size_t nl = WebPEncodeRGB(rgb, W, H, W * 3, 85, &lossy);
    assert_true(nl > 0);
    expect_close(lossy, nl, DP_IMAGE_WEBP, rgb, 3, "lossy WebP q85");
    hostile(lossy, nl, "lossy WebP", 300);
    /* animated: the first frame, not the second */
    uint8_t *o2 = NULL;
    size_t n2 = WebPEncodeLosslessRGB(other, W, H, W * 3, &o2);
    assert_true(n2 > 0);
    uint8_t *frames[2] = {out, o2};
    size_t flen[2] = {n, n2}, alen = 0;
    uint8_t *anim = webp_animation(frames, flen, 2, &alen);
    expect_exact(anim, alen, DP_IMAGE_WEBP, rgb, W, H, 3);
    hostile(anim, alen, "animated WebP", 300);
    /* a VP8X canvas of 100000 x 100000 */
    put24(anim + 24, 100000 - 1), put24(anim + 27, 100000 - 1);
    expect_limit(anim, alen, "animated WebP declaring 100000x100000");
    put24(anim + 24, 20000 - 1), put24(anim + 27, 20000 - 1); /* what libwebp itself accepts */
    expect_limit(anim, alen, "animated WebP declaring 20000x20000");
    anim[20] &= (uint8_t)~0x02; /* not animated: the VP8X canvas still bounds it */
    expect_limit(anim, alen, "still extended WebP declaring 20000x20000");
    free(anim);
    WebPFree(out), WebPFree(lossy), WebPFree(o2);
    free(rgb), free(other);
}

/* ---- GIF ---- */

struct membuf {
    uint8_t *p;
    size_t len, cap;
};

static int mem_write(GifFileType *g, const GifByteType *data, int n)
{
    struct membuf *m = g->UserData;
    if (m->len + (size_t)n > m->cap) {
        m->cap = (m->len + (size_t)n) * 2;
        m->p = realloc(m->p, m->cap);
        assert_non_null(m->p);
    }
    memcpy(m->p + m->len, data, (size_t)n);
    m->len += (size_t)n;
    return n;
}

/* One or many frames of idx (w x h) with palette pal (256 entries); every later frame is the
 * same size with its indices shifted. */
static struct membuf gif_make(const uint8_t *idx, int sw, int sh, int w, int h,
                              const GifColorType *pal, int frames, bool interlace)
{
    struct membuf m = {0};
    int e = 0;
    GifFileType *g = EGifOpen(&m, mem_write, &e);
    assert_non_null(g);
    ColorMapObject *cm = GifMakeMapObject(256, pal);
    assert_non_null(cm);
    EGifSetGifVersion(g, true);
    assert_int_equal(EGifPutScreenDesc(g, sw, sh, 8, 0, cm), GIF_OK);
    GifPixelType *line = malloc((size_t)w);
    assert_non_null(line);
    for (int f = 0; f < frames; f++) {
        assert_int_equal(EGifPutImageDesc(g, 0, 0, w, h, interlace, NULL), GIF_OK);
        /* the encoder takes rows in stored order: the four passes when interlaced */
        static const int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
        for (int p = 0; p < (interlace ? 4 : 1); p++)
            for (int y = interlace ? start[p] : 0; y < h; y += interlace ? step[p] : 1) {
                for (int x = 0; x < w; x++)
                    line[x] = (GifPixelType)(idx[(size_t)y * w + x] + f);
                assert_int_equal(EGifPutLine(g, line, w), GIF_OK);
            }
    }
    free(line);
    assert_int_equal(EGifCloseFile(g, &e), GIF_OK);
    GifFreeMapObject(cm);
    return m;
}

static void test_gif(void **state)
{
    (void)state;
    /* colour: a 6x6x6 cube quantization of the picture */
    uint8_t *rgb = make_image(3, 3), *idx = malloc((size_t)W * H), *want = malloc((size_t)W * H * 3);
    assert_non_null(idx);
    assert_non_null(want);
    GifColorType pal[256] = {{0, 0, 0}};
    for (int i = 0; i < 216; i++)
        pal[i] = (GifColorType){(uint8_t)(i / 36 * 51), (uint8_t)(i / 6 % 6 * 51),
                                (uint8_t)(i % 6 * 51)};
    for (size_t i = 0; i < (size_t)W * H; i++) {
        int r = (rgb[3 * i] + 25) / 51, g = (rgb[3 * i + 1] + 25) / 51, b = (rgb[3 * i + 2] + 25) / 51;
        idx[i] = (uint8_t)(r * 36 + g * 6 + b);
        want[3 * i] = pal[idx[i]].Red, want[3 * i + 1] = pal[idx[i]].Green,
                 want[3 * i + 2] = pal[idx[i]].Blue;
    }
    for (int il = 0; il < 2; il++) {
        struct membuf m = gif_make(idx, W, H, W, H, pal, 2, il);
        expect_exact(m.p, m.len, DP_IMAGE_GIF, want, W, H, 3);
        hostile(m.p, m.len, il ? "interlaced GIF" : "GIF", 300);
        free(m.p);
    }
    /* grey palette: grey output */
    uint8_t *grey = make_image(1, 4);
    GifColorType gp[256];
    for (int i = 0; i < 256; i++)
        gp[i] = (GifColorType){(uint8_t)i, (uint8_t)i, (uint8_t)i};
    struct membuf m = gif_make(grey, W, H, W, H, gp, 1, false);
    expect_exact(m.p, m.len, DP_IMAGE_GIF, grey, W, H, 1);
    /* a screen of 65535 x 65535 (GIF's largest) */
    m.p[6] = m.p[7] = m.p[8] = m.p[9] = 0xff;
    expect_limit(m.p, m.len, "GIF screen 65535x65535");
    free(m.p);
    /* a small screen, a frame declaring 65535 x 65535 */
    m = gif_make(grey, 16, 16, 16, 16, gp, 1, false);
    size_t at = 13 + 3 * 256; /* the image descriptor: ',' left top width height */
    assert_int_equal(m.p[at], ',');
    m.p[at + 5] = m.p[at + 6] = m.p[at + 7] = m.p[at + 8] = 0xff;
    expect_limit(m.p, m.len, "GIF frame 65535x65535 on a 16x16 screen");
    free(m.p);
    /* a bomb: 10,000 frames of 16 x 16; the first decodes, quickly */
    m = gif_make(grey, 16, 16, 16, 16, gp, 10000, false);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct dp_image img;
    decode_ok(m.p, m.len, DP_IMAGE_GIF, &img);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("image: GIF of 10000 frames (%zu bytes): first frame in %.2f ms\n", m.len, ms);
    assert_int_equal(img.w, 16);
    for (int y = 0; y < 16; y++)
        assert_memory_equal(img.pix + y * img.stride, grey + y * 16, 16);
    assert_true(ms < 200);
    dp_image_release(&img);
    free(m.p);
    free(rgb), free(idx), free(want), free(grey);
}

/* ---- BMP ---- */

/* A BMP by hand: bpp 1/4/8 (palette pal, indices idx), 24, or 32 (BI_BITFIELDS when fields). */
static uint8_t *bmp_make(const uint8_t *rgb, const uint8_t *idx, const uint32_t *pal, int npal,
                         int bpp, bool top_down, bool fields, size_t *len)
{
    size_t row = ((size_t)W * bpp + 31) / 32 * 4;
    size_t hs = fields ? 108 : 40, off = 14 + hs + 4 * (size_t)npal;
    *len = off + row * H;
    uint8_t *b = calloc(1, *len);
    assert_non_null(b);
    b[0] = 'B', b[1] = 'M', put32(b + 2, (uint32_t)*len), put32(b + 10, (uint32_t)off);
    put32(b + 14, (uint32_t)hs), put32(b + 18, W), put32(b + 22, top_down ? (uint32_t)-H : H);
    b[26] = 1, b[28] = (uint8_t)bpp, put32(b + 30, fields ? 3 : 0), put32(b + 46, (uint32_t)npal);
    if (fields) /* R, G, B, A masks: byte order A R G B little-endian -> B G R A in memory */
        put32(b + 54, 0x00ff0000), put32(b + 58, 0x0000ff00), put32(b + 62, 0x000000ff),
            put32(b + 66, 0xff000000);
    for (int i = 0; i < npal; i++)
        put32(b + 14 + hs + 4 * i, pal[i]);
    for (int y = 0; y < H; y++) {
        uint8_t *r = b + off + (size_t)(top_down ? y : H - 1 - y) * row;
        for (int x = 0; x < W; x++) {
            size_t i = (size_t)y * W + x;
            if (bpp <= 8)
                r[x * bpp / 8] |= (uint8_t)(idx[i] << (8 - bpp - x * bpp % 8));
            else if (bpp == 24)
                r[3 * x] = rgb[3 * i + 2], r[3 * x + 1] = rgb[3 * i + 1], r[3 * x + 2] = rgb[3 * i];
            else
                r[4 * x] = rgb[3 * i + 2], r[4 * x + 1] = rgb[3 * i + 1], r[4 * x + 2] = rgb[3 * i],
                       r[4 * x + 3] = 0x80;
        }
    }
    return b;
}

static void test_bmp(void **state)
{
    (void)state;
    uint8_t *rgb = make_image(3, 5), *grey = make_image(1, 6);
    size_t len;
    uint8_t *b = bmp_make(rgb, NULL, NULL, 0, 24, false, false, &len);
    expect_exact(b, len, DP_IMAGE_BMP, rgb, W, H, 3);
    hostile(b, len, "24-bit BMP", 300);
    free(b);
    b = bmp_make(rgb, NULL, NULL, 0, 32, true, true, &len);
    expect_exact(b, len, DP_IMAGE_BMP, rgb, W, H, 3);
    hostile(b, len, "32-bit bitfields top-down BMP", 300);
    free(b);
    b = bmp_make(rgb, NULL, NULL, 0, 32, false, false, &len);
    expect_exact(b, len, DP_IMAGE_BMP, rgb, W, H, 3);
    free(b);
    /* 8-bit grey palette: grey */
    uint32_t pal[256];
    for (int i = 0; i < 256; i++)
        pal[i] = (uint32_t)i * 0x010101;
    b = bmp_make(NULL, grey, pal, 256, 8, false, false, &len);
    expect_exact(b, len, DP_IMAGE_BMP, grey, W, H, 1);
    hostile(b, len, "8-bit grey BMP", 300);
    free(b);
    /* 4- and 1-bit colour palettes */
    uint8_t *idx = malloc((size_t)W * H), *want = malloc((size_t)W * H * 3);
    assert_non_null(idx);
    assert_non_null(want);
    for (int bpp = 1; bpp <= 4; bpp *= 4) {
        int n = 1 << bpp;
        for (int i = 0; i < n; i++)
            pal[i] = (uint32_t)(i * 37 % 256) << 16 | (uint32_t)(255 - i * 16) << 8 | (uint32_t)i;
        for (size_t i = 0; i < (size_t)W * H; i++) {
            idx[i] = (uint8_t)(grey[i] * n / 256);
            want[3 * i] = (uint8_t)(pal[idx[i]] >> 16), want[3 * i + 1] = (uint8_t)(pal[idx[i]] >> 8),
                     want[3 * i + 2] = (uint8_t)pal[idx[i]];
        }
        b = bmp_make(NULL, idx, pal, n, bpp, bpp == 1, false, &len);
        expect_exact(b, len, DP_IMAGE_BMP, want, W, H, 3);
        hostile(b, len, bpp == 1 ? "1-bit BMP" : "4-bit BMP", 100);
        free(b);
    }
    /* refused: RLE8, a 100000 x 100000 header */
    b = bmp_make(NULL, grey, pal, 256, 8, false, false, &len);
    put32(b + 30, 1);
    struct dp_image img;
    struct dp_error e = {0};
    assert_int_equal(dp_image_decode(b, len, NULL, &img, &e), DP_ERR_PARSE);
    printf("image: RLE8 BMP: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "compression 1 not supported"));
    put32(b + 30, 0), put32(b + 18, 100000), put32(b + 22, 100000);
    expect_limit(b, len, "BMP declaring 100000x100000");
    put32(b + 18, 100000), put32(b + 22, 1); /* within the limit, but past the data */
    assert_int_equal(dp_image_decode(b, len, NULL, &img, &e), DP_ERR_PARSE);
    printf("image: BMP with too little pixel data: %s\n", e.msg);
    free(b);
    free(rgb), free(grey), free(idx), free(want);
}

/* ---- TIFF ---- */

static void tiff_silent(const char *m, const char *f, va_list ap)
{
    (void)m, (void)f, (void)ap;
}

static uint8_t *tiff_make(const char *dir, const uint8_t *pix, int channels, uint16_t comp,
                          bool tiled, size_t *len)
{
    char *p = tu_path(dir, "t.tif");
    TIFF *t = TIFFOpen(p, "w");
    assert_non_null(t);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, W);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, H);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, channels);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, channels == 1 ? PHOTOMETRIC_MINISBLACK : PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, comp);
    if (tiled) {
        TIFFSetField(t, TIFFTAG_TILEWIDTH, 32);
        TIFFSetField(t, TIFFTAG_TILELENGTH, 32);
        uint8_t *tile = malloc(32 * 32 * (size_t)channels);
        assert_non_null(tile);
        for (int ty = 0; ty < H; ty += 32)
            for (int tx = 0; tx < W; tx += 32) {
                memset(tile, 0, 32 * 32 * (size_t)channels);
                for (int y = 0; y < 32 && ty + y < H; y++)
                    memcpy(tile + (size_t)y * 32 * channels,
                           pix + ((size_t)(ty + y) * W + tx) * channels,
                           (size_t)(tx + 32 <= W ? 32 : W - tx) * channels);
                assert_true(TIFFWriteTile(t, tile, (uint32_t)tx, (uint32_t)ty, 0, 0) > 0);
            }
        free(tile);
    } else {
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
        for (int y = 0; y < H; y++)
            assert_int_equal(
                TIFFWriteScanline(t, (void *)(pix + (size_t)y * W * channels), (uint32_t)y, 0), 1);
    }
    TIFFClose(t);
    uint8_t *b = (uint8_t *)tu_read(p, len);
    assert_non_null(b);
    free(p);
    return b;
}

static void test_tiff(void **state)
{
    (void)state;
    TIFFSetWarningHandler(tiff_silent); /* the writer's, in this test only */
    char *dir = tu_mkdtemp();
    uint8_t *rgb = make_image(3, 7), *grey = make_image(1, 8);
    size_t len;
    uint8_t *b = tiff_make(dir, rgb, 3, COMPRESSION_NONE, false, &len);
    expect_exact(b, len, DP_IMAGE_TIFF, rgb, W, H, 3);
    hostile(b, len, "RGB TIFF", 300);
    free(b);
    b = tiff_make(dir, rgb, 3, COMPRESSION_LZW, true, &len);
    expect_exact(b, len, DP_IMAGE_TIFF, rgb, W, H, 3);
    hostile(b, len, "tiled LZW RGB TIFF", 300);
    free(b);
    b = tiff_make(dir, grey, 1, COMPRESSION_ADOBE_DEFLATE, false, &len);
    expect_exact(b, len, DP_IMAGE_TIFF, grey, W, H, 1);
    hostile(b, len, "grey deflate TIFF", 300);
    free(b);
    /* a directory declaring 100000 x 100000 (uncompressed, one strip) */
    b = tiff_make(dir, grey, 1, COMPRESSION_NONE, false, &len);
    uint32_t ifd = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    assert_true(ifd + 2 < len);
    int n = b[ifd] | b[ifd + 1] << 8, patched = 0;
    for (int i = 0; i < n; i++) {
        uint8_t *ent = b + ifd + 2 + 12 * i;
        int tag = ent[0] | ent[1] << 8, type = ent[2] | ent[3] << 8;
        if (tag == 256 || tag == 257) {
            assert_true(type == 3 || type == 4);
            if (type == 3) /* SHORT: 100000 does not fit, make it LONG */
                ent[2] = 4, ent[3] = 0;
            put32(ent + 8, 100000);
            patched++;
        }
    }
    assert_int_equal(patched, 2);
    expect_limit(b, len, "TIFF declaring 100000x100000");
    free(b);
    free(rgb), free(grey);
    tu_rm_rf(dir);
    free(dir);
    TIFFSetWarningHandler(NULL);
}

/* ---- HEIF ---- */

static struct heif_error heif_mem_write(struct heif_context *ctx, const void *data, size_t size,
                                        void *user)
{
    (void)ctx;
    struct membuf *m = user;
    m->p = realloc(m->p, m->len + size);
    assert_non_null(m->p);
    memcpy(m->p + m->len, data, size);
    m->len += size;
    return (struct heif_error){heif_error_Ok, heif_suberror_Unspecified, "ok"};
}

static bool heif_make(enum heif_compression_format fmt, const uint8_t *rgb, struct membuf *m)
{
    if (!heif_have_encoder_for_format(fmt))
        return false;
    struct heif_context *ctx = heif_context_alloc();
    struct heif_encoder *enc = NULL;
    struct heif_image *img = NULL;
    assert_int_equal(heif_context_get_encoder_for_format(ctx, fmt, &enc).code, heif_error_Ok);
    heif_encoder_set_lossy_quality(enc, 90);
    heif_encoder_set_logging_level(enc, 0);
    assert_int_equal(
        heif_image_create(W, H, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img).code,
        heif_error_Ok);
    assert_int_equal(heif_image_add_plane(img, heif_channel_interleaved, W, H, 8).code,
                     heif_error_Ok);
    int stride = 0;
    uint8_t *p = heif_image_get_plane(img, heif_channel_interleaved, &stride);
    for (int y = 0; y < H; y++)
        memcpy(p + (size_t)y * stride, rgb + (size_t)y * W * 3, W * 3);
    assert_int_equal(heif_context_encode_image(ctx, img, enc, NULL, NULL).code, heif_error_Ok);
    struct heif_writer wr = {1, heif_mem_write};
    *m = (struct membuf){0};
    assert_int_equal(heif_context_write(ctx, &wr, m).code, heif_error_Ok);
    heif_image_release(img);
    heif_encoder_release(enc);
    heif_context_free(ctx);
    return true;
}

/* The ispe box's width and height, patched. */
static void patch_ispe(struct membuf *m, uint32_t v)
{
    for (size_t i = 0; i + 16 <= m->len; i++)
        if (memcmp(m->p + i, "ispe", 4) == 0) {
            uint8_t *q = m->p + i + 8;
            q[0] = (uint8_t)(v >> 24), q[1] = (uint8_t)(v >> 16), q[2] = (uint8_t)(v >> 8),
            q[3] = (uint8_t)v;
            memcpy(q + 4, q, 4);
            return;
        }
    fail_msg("no ispe box");
}

/* Decoded in the child exactly as libheif decodes in this process: the same pixels. */
static void expect_heif_reference(const uint8_t *buf, size_t len, const char *what)
{
    struct heif_context *ctx = heif_context_alloc();
    struct heif_image_handle *hd = NULL;
    struct heif_image *ref = NULL;
    assert_int_equal(heif_context_read_from_memory_without_copy(ctx, buf, len, NULL).code,
                     heif_error_Ok);
    assert_int_equal(heif_context_get_primary_image_handle(ctx, &hd).code, heif_error_Ok);
    struct heif_decoding_options *o = heif_decoding_options_alloc();
    o->convert_hdr_to_8bit = 1;
    assert_int_equal(
        heif_decode_image(hd, &ref, heif_colorspace_RGB, heif_chroma_interleaved_RGB, o).code,
        heif_error_Ok);
    int stride = 0;
    const uint8_t *p = heif_image_get_plane_readonly(ref, heif_channel_interleaved, &stride);
    struct dp_image img;
    decode_ok(buf, len, DP_IMAGE_HEIF, &img);
    assert_int_equal(img.w, heif_image_get_width(ref, heif_channel_interleaved));
    assert_int_equal(img.h, heif_image_get_height(ref, heif_channel_interleaved));
    assert_int_equal(img.channels, 3);
    for (size_t y = 0; y < img.h; y++)
        if (memcmp(img.pix + y * img.stride, p + y * (size_t)stride, img.w * 3) != 0)
            fail_msg("%s: row %zu differs from libheif's in-process decode", what, y);
    printf("image: %s: the child's pixels equal libheif's in-process decode\n", what);
    dp_image_release(&img);
    heif_image_release(ref);
    heif_decoding_options_free(o);
    heif_image_handle_release(hd);
    heif_context_free(ctx);
}

static void test_heif(void **state)
{
    (void)state;
    heif_init(NULL);
    uint8_t *rgb = make_image(3, 9);
    static const struct {
        enum heif_compression_format fmt;
        const char *name;
    } kinds[] = {{heif_compression_HEVC, "HEIC"}, {heif_compression_AV1, "AVIF"}};
    int done = 0;
    for (size_t k = 0; k < 2; k++) {
        struct membuf m;
        if (!heif_make(kinds[k].fmt, rgb, &m)) {
            printf("image: no %s encoder in this libheif: that part skipped\n", kinds[k].name);
            continue;
        }
        char what[64];
        snprintf(what, sizeof(what), "%s q90 (%zu bytes)", kinds[k].name, m.len);
        expect_close(m.p, m.len, DP_IMAGE_HEIF, rgb, 3, what);
        expect_heif_reference(m.p, m.len, kinds[k].name);
        hostile(m.p, m.len, kinds[k].name, 60);
        /* the limit from the declared size, before decoding */
        struct dp_image_opts o = {.max_pixels = (uint64_t)W * H - 1};
        struct dp_image img;
        struct dp_error e = {0};
        assert_int_equal(dp_image_decode(m.p, m.len, &o, &img, &e), DP_ERR_LIMIT);
        patch_ispe(&m, 100000);
        expect_limit(m.p, m.len, "HEIF declaring 100000x100000");
        free(m.p);
        done++;
    }
    free(rgb);
    heif_deinit();
    if (done == 0)
        skip();
}

static bool sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

static long maxrss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

/* fuzz/regress/image_heif/avif-declares-64x64-codes-16384x16384: an AVIF declaring 64x64 whose
 * AV1 frame is 16384x16384 (dav1d allocated 780 MB in this process before). Now the child's
 * memory limit of the declared size stops it - under the fuzzers' 1 MP limit and the default
 * 100 MP - and this process does not grow. Under ASan the child has no memory limit: it only
 * fails (the decoded size is not the declared one). */
static void test_heif_coded_larger(void **state)
{
    (void)state;
    char *path =
        tu_path(DP_SOURCE_DIR, "fuzz/regress/image_heif/avif-declares-64x64-codes-16384x16384");
    size_t len = 0;
    char *buf = tu_read(path, &len);
    assert_non_null(buf);
    for (int k = 0; k < 2; k++) {
        const struct dp_image_opts o = {.max_pixels = k == 0 ? (uint64_t)1 << 20 : 0};
        long before = maxrss_mb();
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct dp_image img;
        struct dp_error e = {0};
        enum dp_status st = dp_image_decode((const uint8_t *)buf, len, &o, &img, &e);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long grew = maxrss_mb() - before;
        printf("image: 16384x16384 AVIF declaring 64x64, %s: %s (%.2f s, this process grew %ld "
               "MB)\n",
               k == 0 ? "1 MP limit" : "default limit", e.msg,
               (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, grew);
        assert_int_not_equal(st, DP_OK);
        assert_true(grew < 32);
        if (!sanitized()) {
            assert_int_equal(st, DP_ERR_LIMIT);
            assert_non_null(strstr(e.msg, "HEIF: decoder exceeded its memory limit of "));
        }
    }
    free(buf);
    free(path);
}

/* ---- the child-process runner (src/content/sandbox.c) ---- */

enum child_kind {
    CHILD_OK,
    CHILD_SPIN,
    CHILD_SEGV,
    CHILD_ABORT,
    CHILD_EXIT,
    CHILD_FAIL,
    CHILD_MALLOC,
    CHILD_NEW,
    CHILD_SLEEP,
    CHILD_FDS,
};

struct child_job {
    enum child_kind kind;
    uint64_t limit; /* sandbox_limit_memory, 0 = none set */
    size_t alloc;   /* CHILD_MALLOC, CHILD_NEW: bytes */
    int parent_fd;  /* CHILD_FDS: a descriptor of the parent */
};

static enum dp_status child_fn(void *arg, uint8_t *out, size_t out_size,
                               uint64_t info[SANDBOX_INFO], struct dp_error *err)
{
    const struct child_job *j = arg;
    if (j->limit)
        info[1] = sandbox_limit_memory(j->limit);
    switch (j->kind) {
    case CHILD_OK:
        for (size_t i = 0; i < out_size; i++)
            out[i] = (uint8_t)(i * 7);
        info[0] = 42;
        return DP_OK;
    case CHILD_SPIN:
        for (volatile unsigned long n = 0;; n++)
            ;
    case CHILD_SEGV:
        raise(SIGSEGV);
        break;
    case CHILD_ABORT:
        abort();
    case CHILD_EXIT:
        _exit(3);
    case CHILD_FAIL:
        return dp_error_set(err, DP_ERR_PARSE, EINVAL, "TEST: %s", "refused");
    case CHILD_MALLOC: {
        uint8_t *p = malloc(j->alloc);
        if (p == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "TEST: out of memory");
        memset(p, 1, j->alloc);
        info[0] = p[j->alloc - 1];
        free(p);
        return DP_OK;
    }
    case CHILD_NEW: { /* libstdc++'s operator new(size_t), as libheif allocates */
        void *(*op_new)(size_t) = NULL;
        void *sym = dlsym(RTLD_DEFAULT, "_Znwm");
        memcpy(&op_new, &sym, sizeof(sym));
        if (op_new == NULL)
            return dp_error_set(err, DP_ERR_UNSUPPORTED, 0, "TEST: no operator new");
        info[0] = op_new(j->alloc) != NULL;
        return DP_OK;
    }
    case CHILD_SLEEP: {
        struct timespec ts = {0, 300 * 1000 * 1000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        info[0] = 7;
        return DP_OK;
    }
    case CHILD_FDS:
        info[0] = fcntl(j->parent_fd, F_GETFD) == -1 && errno == EBADF;
        info[2] = fcntl(2, F_GETFD) != -1;
        return DP_OK;
    }
    return DP_ERR_INVALID;
}

/* Open descriptors and shared anonymous mappings of this process. */
static void resources(int *fds, int *maps)
{
    *fds = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        *fds += e->d_name[0] != '.';
    closedir(d);
    *maps = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL)
        *maps += strstr(line, "/dev/zero") != NULL;
    fclose(f);
}

static enum dp_status run_child(struct child_job *j, unsigned timeout_ms, struct sandbox_result *r,
                                struct dp_error *e, double *secs)
{
    int fds0, maps0, fds1, maps1;
    resources(&fds0, &maps0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    *e = (struct dp_error){0};
    enum dp_status st = sandbox_run(r, "TEST", 4096, timeout_ms, child_fn, j, e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (st == DP_OK)
        sandbox_release(r);
    resources(&fds1, &maps1);
    assert_int_equal(fds1, fds0);   /* the pipe closed */
    assert_int_equal(maps1, maps0); /* the shared mapping gone */
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* the child reaped */
    assert_int_equal(errno, ECHILD);
    printf("image: child %d: %s (%.3f s)\n", (int)j->kind, st == DP_OK ? "ok" : e->msg, *secs);
    return st;
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void test_sandbox(void **state)
{
    (void)state;
    struct sandbox_result r;
    struct dp_error e;
    double secs;
    struct child_job j = {.kind = CHILD_OK};

    /* a result, through shared memory */
    int fds0, maps0;
    resources(&fds0, &maps0);
    assert_int_equal(sandbox_run(&r, "TEST", 4096, 5000, child_fn, &j, &e), DP_OK);
    assert_int_equal(r.info[0], 42);
    assert_int_equal(r.out_size, 4096);
    for (size_t i = 0; i < 4096; i++)
        assert_int_equal(r.out[i], (uint8_t)(i * 7));
    sandbox_release(&r);
    assert_null(r.map);

    /* the function's own failure: status, message and errno as it set them */
    j.kind = CHILD_FAIL;
    assert_int_equal(run_child(&j, 5000, &r, &e, &secs), DP_ERR_PARSE);
    assert_string_equal(e.msg, "TEST: refused: Invalid argument");
    assert_int_equal(e.sys_errno, EINVAL);

    /* spinning: stopped at the timeout, killed and reaped */
    j.kind = CHILD_SPIN;
    assert_int_equal(run_child(&j, 300, &r, &e, &secs), DP_ERR_LIMIT);
    assert_string_equal(e.msg, "TEST: decoding took longer than 300 ms (stopped)");
    assert_true(secs >= 0.29 && secs < 5);
    j.kind = CHILD_SPIN;
    assert_int_equal(run_child(&j, 1000, &r, &e, &secs), DP_ERR_LIMIT);
    assert_string_equal(e.msg, "TEST: decoding took longer than 1 s (stopped)");

    /* crashes: the signal, whatever handlers this process (cmocka) has */
    j.kind = CHILD_SEGV;
    assert_int_equal(run_child(&j, 5000, &r, &e, &secs), DP_ERR_PARSE);
    assert_string_equal(e.msg, "TEST: decoder crashed (signal 11)");
    j.kind = CHILD_ABORT;
    assert_int_equal(run_child(&j, 5000, &r, &e, &secs), DP_ERR_PARSE);
    assert_string_equal(e.msg, "TEST: decoder crashed (signal 6)");
    j.kind = CHILD_EXIT;
    assert_int_equal(run_child(&j, 5000, &r, &e, &secs), DP_ERR_PARSE);
    assert_string_equal(e.msg, "TEST: decoder exited unexpectedly (status 3)");

    /* the parent's descriptors are closed in the child, 0-2 kept */
    j = (struct child_job){.kind = CHILD_FDS, .parent_fd = open("/dev/null", O_RDONLY)};
    assert_true(j.parent_fd > 2);
    assert_int_equal(sandbox_run(&r, "TEST", 16, 5000, child_fn, &j, &e), DP_OK);
    assert_int_equal(r.info[0], 1);
    assert_int_equal(r.info[2], 1);
    sandbox_release(&r);
    close(j.parent_fd);

    /* interrupted by signals while it waits (EINTR): the result all the same */
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
    struct itimerval every = {{0, 5000}, {0, 5000}}, off = {{0, 0}, {0, 0}};
    assert_int_equal(setitimer(ITIMER_REAL, &every, NULL), 0);
    j = (struct child_job){.kind = CHILD_SLEEP};
    enum dp_status st = run_child(&j, 5000, &r, &e, &secs);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    assert_int_equal(st, DP_OK);
    assert_true(secs >= 0.29 && secs < 5);

    /* the memory limit: within it an allocation works; past it a failed malloc, and a failed
       C++ new (which would throw), are reported as the limit */
    if (sanitized()) {
        printf("image: sanitizer build: the child has no memory limit, not tested\n");
        return;
    }
    j = (struct child_job){.kind = CHILD_MALLOC, .limit = (uint64_t)64 << 20, .alloc = 32 << 20};
    assert_int_equal(sandbox_run(&r, "TEST", 16, 5000, child_fn, &j, &e), DP_OK);
    assert_int_equal(r.info[0], 1);
    assert_int_equal(r.info[1], (uint64_t)64 << 20);
    sandbox_release(&r);
    j = (struct child_job){.kind = CHILD_MALLOC, .limit = (uint64_t)16 << 20, .alloc = 64 << 20};
    assert_int_equal(run_child(&j, 5000, &r, &e, &secs), DP_ERR_LIMIT);
    assert_string_equal(e.msg, "TEST: decoder exceeded its memory limit of 16 MB");
    j = (struct child_job){.kind = CHILD_NEW, .limit = (uint64_t)16 << 20, .alloc = 64 << 20};
    assert_int_equal(run_child(&j, 5000, &r, &e, &secs), DP_ERR_LIMIT);
    assert_string_equal(e.msg, "TEST: decoder exceeded its memory limit of 16 MB");
}

static void test_names_and_versions(void **state)
{
    (void)state;
    static const char *const names[] = {"none", "jpeg", "png", "webp", "gif", "bmp", "tiff", "heif"};
    for (int f = 0; f < DP_IMAGE_FORMAT_COUNT; f++)
        assert_string_equal(dp_image_format_name((enum dp_image_format)f), names[f]);
    const char *v = dp_image_decoder_versions();
    printf("image: %s\n", v);
    assert_non_null(strstr(v, "libwebp 1."));
    assert_non_null(strstr(v, "giflib 5."));
    assert_non_null(strstr(v, "libtiff 4."));
    assert_non_null(strstr(v, "libheif 1."));
    /* sniffing by content: an MP4 video's ftyp is not HEIF, an AVIF's is */
    const uint8_t mp4[] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0,
                           'i', 's', 'o', 'm', 'm', 'p', '4', '1'};
    assert_int_equal(dp_image_sniff(mp4, sizeof(mp4)), DP_IMAGE_NONE);
    const uint8_t avif[] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'a', 'v', 'i', 'f', 0, 0, 0, 0,
                            'm', 'i', 'f', '1', 'm', 'i', 'a', 'f'};
    assert_int_equal(dp_image_sniff(avif, sizeof(avif)), DP_IMAGE_HEIF);
}

/* A palette PNG with a tRNS chunk (icons with transparency; libpng expands tRNS into an
 * alpha channel): decoded to RGB, each pixel its palette colour. It once failed "unexpected
 * row layout" (found on the system's own icons, issue 12). The same for grey with tRNS. */
static void png_mem_write(png_structp png, png_bytep d, png_size_t n)
{
    struct membuf *m = png_get_io_ptr(png);
    if (m->len + n > m->cap) {
        m->cap = (m->len + n) * 2;
        m->p = realloc(m->p, m->cap);
        assert_non_null(m->p);
    }
    memcpy(m->p + m->len, d, n);
    m->len += n;
}

static void png_mem_flush(png_structp png)
{
    (void)png;
}

static void test_png_transparency(void **state)
{
    (void)state;
    enum { W = 40, H = 36 };
    png_color pal[4] = {{200, 10, 10}, {10, 200, 10}, {10, 10, 200}, {250, 250, 0}};
    png_byte trans[4] = {0, 128, 255, 40};
    for (int grey = 0; grey < 2; grey++) {
        struct membuf m = {0};
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        assert_non_null(png), assert_non_null(info);
        if (setjmp(png_jmpbuf(png)))
            fail_msg("libpng could not write the test image");
        png_set_write_fn(png, &m, png_mem_write, png_mem_flush);
        png_set_IHDR(png, info, W, H, 8, grey ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_PALETTE,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        if (grey) {
            png_color_16 tv = {.gray = 77};
            png_set_tRNS(png, info, NULL, 0, &tv);
        } else {
            png_set_PLTE(png, info, pal, 4);
            png_set_tRNS(png, info, trans, 4, NULL);
        }
        png_write_info(png, info);
        png_byte row[W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++)
                row[x] = grey ? (png_byte)(x * 6 + y) : (png_byte)((x / 10 + y / 9) % 4);
            png_write_row(png, row);
        }
        png_write_end(png, info);
        png_destroy_write_struct(&png, &info);

        const struct dp_image_opts o = {0};
        struct dp_image im;
        struct dp_error e = {0};
        assert_int_equal(dp_image_decode(m.p, m.len, &o, &im, &e), DP_OK);
        assert_int_equal(im.w, W);
        assert_int_equal(im.h, H);
        assert_int_equal(im.channels, grey ? 1 : 3);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const uint8_t *px = im.pix + (size_t)y * im.stride + (size_t)x * im.channels;
                if (grey) {
                    assert_int_equal(px[0], (uint8_t)(x * 6 + y));
                } else {
                    const png_color *c = &pal[(x / 10 + y / 9) % 4];
                    assert_int_equal(px[0], c->red);
                    assert_int_equal(px[1], c->green);
                    assert_int_equal(px[2], c->blue);
                }
            }
        struct dp_pdq_result r;
        assert_int_equal(dp_pdq_hash_pixels(im.pix, im.w, im.h, im.stride, im.channels, true,
                                            &r, NULL),
                         DP_OK);
        dp_image_release(&im);
        free(m.p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webp), cmocka_unit_test(test_gif),  cmocka_unit_test(test_bmp),
        cmocka_unit_test(test_tiff), cmocka_unit_test(test_heif),
        cmocka_unit_test(test_heif_coded_larger), cmocka_unit_test(test_sandbox),
        cmocka_unit_test(test_names_and_versions), cmocka_unit_test(test_png_transparency),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
