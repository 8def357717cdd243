/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: carving. Real streams are made here (libjpeg baseline, restart intervals and
 * progressive, a JPEG carrying an EXIF thumbnail; libpng; giflib; libwebp lossy, lossless and
 * extended; BMP by hand) and embedded in random bytes and text at odd offsets, alone and
 * back to back: the finder names each start, the validator gives each exact length. Near
 * misses (truncation, a bad CRC, a stray marker, sizes that disagree) are refused; the finder
 * gives the same candidates whatever the pieces it is fed in; a fuzz loop validates every
 * candidate with random windows held in exactly sized buffers, so that ASan sees any read past
 * them. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "deprive/carve.h"

/* ---- small helpers ---- */

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void buf_put(struct buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0). */
static size_t rng_below(uint64_t *s, size_t n)
{
    return (size_t)(rng_next(s) % n);
}

static void put_random(struct buf *b, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)rng_next(s);
        buf_put(b, &c, 1);
    }
}

/* Text made of words a finder could trip on (BM, GIF89a, RIFF, capitals) among plain ones. */
static void put_text(struct buf *b, size_t n, uint64_t *s)
{
    static const char *const words[] = {
        "the",          "image",      "BMP",        "BM",
        "BMW",          "GIF89a",     "GIF87a",     "GIF",
        "RIFF",         "WEBP",       "VP8L",       "PNG",
        "IHDR",         "JFIF",       "Exif",       "COPYRIGHT",
        "CONTRIBUTORS", "PRINTED",    "RIGHTS",     "BMI",
        "GIMP",         "software",   "license",    "\n",
        ", ",           "Permission", "granted",    "RIFFWEBP",
        "of",           "and",        "WARRANTIES", "MERCHANTABILITY",
        "GIF89a image", "BM6",        "RIFF$"};
    size_t end = b->len + n;
    while (b->len < end) {
        const char *w = words[rng_below(s, sizeof(words) / sizeof(words[0]))];
        size_t l = strlen(w), room = end - b->len;
        buf_put(b, w, l < room ? l : room);
        if (b->len < end)
            buf_put(b, " ", 1);
    }
}

static void put_le16(struct buf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    buf_put(b, x, 2);
}

static void set_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(struct buf *b, uint32_t v)
{
    uint8_t x[4];
    set_le32(x, v);
    buf_put(b, x, 4);
}

/* RGB pixels: gradients and noise, so that every encoder has something to code. */
static uint8_t *pixels(int w, int h, int channels, uint64_t seed)
{
    uint8_t *p = malloc((size_t)w * (size_t)h * (size_t)channels);
    assert_non_null(p);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++) {
                int v = (x * 255 / w + y * 255 / h * (c + 1)) / 2 + (int)(rng_next(&seed) % 48);
                if (c == 3) /* alpha: some of it transparent */
                    v = x < w / 3 ? 96 : 255;
                p[((size_t)y * (size_t)w + (size_t)x) * (size_t)channels + (size_t)c] =
                    (uint8_t)(v > 255 ? 255 : v);
            }
    return p;
}

/* ---- making real streams ---- */

static struct buf make_jpeg(int w, int h, int quality, bool progressive, unsigned restart,
                            const uint8_t *app1, size_t app1_len, uint64_t seed)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr je;
    ci.err = jpeg_std_error(&je);
    jpeg_create_compress(&ci);
    unsigned char *out = NULL;
    unsigned long out_len = 0;
    jpeg_mem_dest(&ci, &out, &out_len);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality, TRUE);
    if (progressive)
        jpeg_simple_progression(&ci);
    ci.restart_interval = restart;
    if (app1 != NULL)
        ci.write_JFIF_header = FALSE; /* as a camera writes it: SOI, APP1 Exif */
    jpeg_start_compress(&ci, TRUE);
    if (app1 != NULL)
        jpeg_write_marker(&ci, JPEG_APP0 + 1, app1, (unsigned)app1_len);
    uint8_t *pix = pixels(w, h, 3, seed);
    for (int y = 0; y < h; y++) {
        JSAMPROW row = pix + (size_t)y * (size_t)w * 3;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    free(pix);
    struct buf b = {0};
    buf_put(&b, out, out_len);
    free(out);
    return b;
}

static struct buf make_png(int w, int h, uint64_t seed)
{
    png_image im;
    memset(&im, 0, sizeof(im));
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = PNG_FORMAT_RGB;
    uint8_t *pix = pixels(w, h, 3, seed);
    png_alloc_size_t n = 0;
    assert_true(png_image_write_to_memory(&im, NULL, &n, 0, pix, 0, NULL));
    struct buf b = {0};
    b.p = malloc(n);
    assert_non_null(b.p);
    b.cap = n;
    assert_true(png_image_write_to_memory(&im, b.p, &n, 0, pix, 0, NULL));
    b.len = n;
    free(pix);
    return b;
}

static int gif_out(GifFileType *g, const GifByteType *d, int n)
{
    buf_put(g->UserData, d, (size_t)n);
    return n;
}

/* A GIF89a with a graphic control extension, a comment and two frames (the second with a
 * local colour table). */
static struct buf make_gif(int w, int h, uint64_t seed)
{
    struct buf b = {0};
    int err = 0;
    GifFileType *g = EGifOpen(&b, gif_out, &err);
    assert_non_null(g);
    EGifSetGifVersion(g, true);
    GifColorType colours[256];
    for (int i = 0; i < 256; i++)
        colours[i] = (GifColorType){(GifByteType)i, (GifByteType)(255 - i), (GifByteType)(i * 7)};
    ColorMapObject *cm = GifMakeMapObject(256, colours);
    assert_non_null(cm);
    assert_int_equal(EGifPutScreenDesc(g, w, h, 8, 0, cm), GIF_OK);
    GifByteType gce[4] = {0, 10, 0, 0};
    assert_int_equal(EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, gce), GIF_OK);
    assert_int_equal(EGifPutComment(g, "made by test_carve"), GIF_OK);
    GifPixelType *line = malloc((size_t)w);
    assert_non_null(line);
    for (int frame = 0; frame < 2; frame++) {
        int fw = frame ? w / 2 : w, fh = frame ? h / 2 : h;
        assert_int_equal(EGifPutImageDesc(g, 0, 0, fw, fh, false, frame ? cm : NULL), GIF_OK);
        for (int y = 0; y < fh; y++) {
            for (int x = 0; x < fw; x++)
                line[x] = (GifPixelType)((x + y) / 3 + (int)(rng_next(&seed) % 4));
            assert_int_equal(EGifPutLine(g, line, fw), GIF_OK);
        }
    }
    free(line);
    assert_int_equal(EGifCloseFile(g, &err), GIF_OK);
    GifFreeMapObject(cm);
    return b;
}

enum webp_variant { WEBP_LOSSY, WEBP_LOSSLESS, WEBP_ALPHA };

static struct buf make_webp(int w, int h, enum webp_variant v, uint64_t seed)
{
    uint8_t *pix = pixels(w, h, v == WEBP_ALPHA ? 4 : 3, seed), *out = NULL;
    size_t n;
    if (v == WEBP_LOSSY)
        n = WebPEncodeRGB(pix, w, h, w * 3, 75, &out);
    else if (v == WEBP_LOSSLESS)
        n = WebPEncodeLosslessRGB(pix, w, h, w * 3, &out);
    else
        n = WebPEncodeRGBA(pix, w, h, w * 4, 75, &out);
    assert_true(n > 0);
    struct buf b = {0};
    buf_put(&b, out, n);
    WebPFree(out);
    free(pix);
    return b;
}

/* BI_RGB, 8-bit (with a palette) or 24-bit, rows padded to 4 bytes; a BITMAPINFOHEADER
 * (top-down when h < 0) or an OS/2 core header. */
static struct buf make_bmp(int w, int h, unsigned bpp, bool core, uint64_t seed)
{
    uint32_t ah = (uint32_t)(h < 0 ? -h : h), entry = core ? 3 : 4, hs = core ? 12 : 40;
    uint32_t row = ((uint32_t)w * bpp + 31) / 32 * 4, pal = bpp == 8 ? 256 * entry : 0;
    uint32_t off = 14 + hs + pal, size = off + row * ah;
    struct buf b = {0};
    buf_put(&b, "BM", 2);
    put_le32(&b, size);
    put_le32(&b, 0);
    put_le32(&b, off);
    put_le32(&b, hs);
    if (core) {
        put_le16(&b, (unsigned)w);
        put_le16(&b, ah);
    } else {
        put_le32(&b, (uint32_t)w);
        put_le32(&b, (uint32_t)h);
    }
    put_le16(&b, 1);
    put_le16(&b, bpp);
    if (!core) {
        put_le32(&b, 0);
        put_le32(&b, row * ah);
        put_le32(&b, 2835);
        put_le32(&b, 2835);
        put_le32(&b, bpp == 8 ? 256 : 0);
        put_le32(&b, 0);
    }
    for (uint32_t i = 0; i < pal / entry; i++) {
        uint8_t grey[4] = {(uint8_t)i, (uint8_t)i, (uint8_t)i, 0};
        buf_put(&b, grey, entry);
    }
    put_random(&b, row * ah, &seed);
    assert_int_equal(b.len, size);
    return b;
}

/* An APP1 'Exif' payload: TIFF header, IFD0 (orientation), IFD1 pointing at thumb. */
static struct buf make_exif_app1(const struct buf *thumb)
{
    struct buf b = {0};
    buf_put(&b, "Exif\0\0II*\0", 10);
    put_le32(&b, 8);      /* IFD0 at 8 */
    put_le16(&b, 1);      /* IFD0: one entry */
    put_le16(&b, 0x0112); /* orientation, SHORT, 1, value 1 */
    put_le16(&b, 3);
    put_le32(&b, 1);
    put_le32(&b, 1);
    put_le32(&b, 26);     /* IFD1 at 26 */
    put_le16(&b, 2);      /* IFD1: two entries */
    put_le16(&b, 0x0201); /* JPEGInterchangeFormat */
    put_le16(&b, 4);
    put_le32(&b, 1);
    put_le32(&b, 56);
    put_le16(&b, 0x0202); /* JPEGInterchangeFormatLength */
    put_le16(&b, 4);
    put_le32(&b, 1);
    put_le32(&b, (uint32_t)thumb->len);
    put_le32(&b, 0); /* no further IFD */
    assert_int_equal(b.len, 6 + 56);
    buf_put(&b, thumb->p, thumb->len);
    return b;
}

/* ---- the streams every test uses ---- */

struct stream {
    const char *what;
    enum dp_carve_kind kind;
    struct buf b;
};

enum { NSTREAMS = 11 };
static struct stream streams[NSTREAMS];

static void make_streams(void)
{
    if (streams[0].b.p != NULL)
        return;
    int i = 0;
    streams[i++] =
        (struct stream){"jpeg", DP_CARVE_JPEG, make_jpeg(64, 48, 85, false, 0, NULL, 0, 1)};
    streams[i++] =
        (struct stream){"jpeg-restart", DP_CARVE_JPEG, make_jpeg(80, 40, 70, false, 2, NULL, 0, 2)};
    streams[i++] = (struct stream){"jpeg-progressive", DP_CARVE_JPEG,
                                   make_jpeg(72, 56, 80, true, 0, NULL, 0, 3)};
    streams[i++] = (struct stream){"png", DP_CARVE_PNG, make_png(96, 64, 4)};
    streams[i++] = (struct stream){"gif", DP_CARVE_GIF, make_gif(40, 30, 5)};
    streams[i++] = (struct stream){"webp-lossy", DP_CARVE_WEBP, make_webp(48, 32, WEBP_LOSSY, 6)};
    streams[i++] =
        (struct stream){"webp-lossless", DP_CARVE_WEBP, make_webp(24, 16, WEBP_LOSSLESS, 7)};
    streams[i++] = (struct stream){"webp-alpha", DP_CARVE_WEBP, make_webp(32, 24, WEBP_ALPHA, 8)};
    streams[i++] = (struct stream){"bmp-24", DP_CARVE_BMP, make_bmp(21, 13, 24, false, 9)};
    streams[i++] = (struct stream){"bmp-8", DP_CARVE_BMP, make_bmp(17, -9, 8, false, 10)};
    streams[i++] = (struct stream){"bmp-core", DP_CARVE_BMP, make_bmp(11, 7, 24, true, 11)};
    assert_int_equal(i, NSTREAMS);
}

static int setup(void **state)
{
    (void)state;
    make_streams();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NSTREAMS; i++)
        buf_free(&streams[i].b);
    return 0;
}

/* ---- running the finder ---- */

struct cand {
    uint64_t off;
    enum dp_carve_kind kind;
};

struct cands {
    struct cand *v;
    size_t n, cap;
};

static void on_cand(void *ctx, uint64_t off, enum dp_carve_kind kind)
{
    struct cands *c = ctx;
    assert_true(kind > DP_CARVE_NONE && kind < DP_CARVE_KIND_COUNT);
    if (c->n > 0)
        assert_true(off > c->v[c->n - 1].off); /* increasing, one kind per offset */
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = realloc(c->v, c->cap * sizeof(*c->v));
        assert_non_null(c->v);
    }
    c->v[c->n++] = (struct cand){off, kind};
}

/* Feed a copy of b[0..n) held in a buffer of exactly that size (ASan sees a read past it). */
static void feed_exact(struct dp_carve_finder *f, const uint8_t *b, size_t n, struct cands *c)
{
    uint8_t *copy = malloc(n);
    assert_true(copy != NULL || n == 0);
    if (n > 0)
        memcpy(copy, b, n);
    dp_carve_feed(f, copy, n, on_cand, c);
    free(copy);
}

/* The candidates in b, fed whole. */
static struct cands find_whole(const uint8_t *b, size_t len)
{
    struct cands c = {0};
    struct dp_carve_finder f;
    dp_carve_finder_init(&f);
    feed_exact(&f, b, len, &c);
    dp_carve_finish(&f, on_cand, &c);
    assert_int_equal(f.fed, len);
    return c;
}

/* The candidates in b, fed in pieces of `piece` bytes (0: random sizes up to max_piece, some
 * of them empty). */
static struct cands find_pieces(const uint8_t *b, size_t len, size_t piece, size_t max_piece,
                                uint64_t *seed)
{
    struct cands c = {0};
    struct dp_carve_finder f;
    memset(&f, 0, sizeof(f)); /* zeroing is as good as init */
    size_t pos = 0;
    while (pos < len) {
        size_t n = piece ? piece : rng_below(seed, max_piece + 1);
        if (n > len - pos)
            n = len - pos;
        feed_exact(&f, b + pos, n, &c);
        pos += n;
    }
    dp_carve_finish(&f, on_cand, &c);
    return c;
}

static void assert_same(const struct cands *a, const struct cands *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->v[i].off, b->v[i].off);
        assert_int_equal(a->v[i].kind, b->v[i].kind);
    }
}

static const struct cand *cand_at(const struct cands *c, uint64_t off)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].off == off)
            return &c->v[i];
    return NULL;
}

/* Validate from a copy of src[0..avail) in a buffer of exactly that size (ASan sees a read past
 * it) and check what every verdict promises. */
static enum dp_carve_verdict validate(enum dp_carve_kind k, const uint8_t *src, size_t avail,
                                      bool at_end, uint64_t max_len, uint64_t *len)
{
    uint8_t *copy = malloc(avail);
    assert_true(copy != NULL || avail == 0);
    if (avail > 0)
        memcpy(copy, src, avail);
    uint64_t l = 0xdeadbeef;
    enum dp_carve_verdict v = dp_carve_validate(k, copy, avail, at_end, max_len, &l);
    free(copy);
    if (v == DP_CARVE_OK) {
        assert_true(l >= DP_CARVE_MIN_STREAM);
        assert_true(l <= avail && l <= max_len);
    } else if (v == DP_CARVE_MORE) {
        assert_false(at_end);
        assert_true(l > avail && l <= max_len);
    } else {
        assert_int_equal(v, DP_CARVE_NO);
    }
    if (len != NULL)
        *len = l;
    return v;
}

static void assert_carved(enum dp_carve_kind k, const uint8_t *b, size_t avail, uint64_t want)
{
    uint64_t len = 0;
    assert_int_equal(validate(k, b, avail, true, UINT64_MAX, &len), DP_CARVE_OK);
    assert_int_equal(len, want);
}

static void assert_refused(enum dp_carve_kind k, const uint8_t *b, size_t avail)
{
    assert_int_equal(validate(k, b, avail, true, UINT64_MAX, NULL), DP_CARVE_NO);
}

/* ---- tests ---- */

static void test_kind_names(void **state)
{
    (void)state;
    static const char *const want[] = {"none", "jpeg", "png", "gif", "webp", "bmp"};
    for (int k = 0; k < DP_CARVE_KIND_COUNT; k++)
        assert_string_equal(dp_carve_kind_name((enum dp_carve_kind)k), want[k]);
    assert_null(dp_carve_kind_name(DP_CARVE_KIND_COUNT));
    assert_null(dp_carve_kind_name((enum dp_carve_kind) - 1));
}

#define L16(v) (uint8_t)(v), (uint8_t)((v) >> 8)
#define L32(v)                                                                                     \
    (uint8_t)(uint32_t)(v), (uint8_t)((uint32_t)(v) >> 8), (uint8_t)((uint32_t)(v) >> 16),         \
        (uint8_t)((uint32_t)(v) >> 24)
#define B32(v) (uint8_t)((v) >> 24), (uint8_t)((v) >> 16), (uint8_t)((v) >> 8), (uint8_t)(v)
#define PNG_SIG 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'
#define IHDR(w, h, depth, type, comp, filter, il)                                                  \
    PNG_SIG, 0, 0, 0, 13, 'I', 'H', 'D', 'R', B32(w), B32(h), depth, type, comp, filter, il
#define BMP(size, off, w, h, planes, bpp)                                                          \
    'B', 'M', L32(size), 0, 0, 0, 0, L32(off), L32(40), L32(w), L32(h), L16(planes), L16(bpp)
#define KAT(want, ...)                                                                             \
    kat(#__VA_ARGS__, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), want)

/* One header, zero-padded to the look-ahead, between zeros: the finder names it (as want) or
 * nothing; and at the very end of the bytes, with only its own bytes after it. */
static void kat(const char *what, const uint8_t *v, size_t n, enum dp_carve_kind want)
{
    uint8_t b[5 + DP_CARVE_LOOKAHEAD + 40] = {0};
    assert_true(n <= DP_CARVE_LOOKAHEAD);
    memcpy(b + 5, v, n);
    for (int end = 0; end < 2; end++) {
        struct cands c = end ? find_whole(b, 5 + n) : find_whole(b, sizeof(b));
        if (c.n != (want != DP_CARVE_NONE) ||
            (c.n == 1 && (c.v[0].off != 5 || c.v[0].kind != want)))
            fail_msg("%s: %zu candidates, want %s%s", what, c.n, dp_carve_kind_name(want),
                     end ? " (at the end)" : "");
        free(c.v);
    }
}

/* The finder's cheap checks, as known answers. */
static void test_finder_vectors(void **state)
{
    (void)state;
    /* JPEG: SOI, then a marker that can follow it, with a length it can have */
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xe1, 0x12, 0x34, 'E', 'x', 'i', 'f', 0, 0);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xdb, 0, 0x43);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xdb, 0, 0x42);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xc4, 0, 0x1f);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xc4, 0, 0x12);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xdd, 0, 4);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xdd, 0, 5);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xc0, 0, 17);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xc2, 0, 11);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xc0, 0, 10);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xff, 0xff, 0xe0, 0, 16);
    KAT(DP_CARVE_JPEG, 0xff, 0xd8, 0xff, 0xfe, 0, 2);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xfe, 0, 1);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xda, 0, 12);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xd9);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xc8, 0, 16);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xfe, 0xe0, 0, 16);
    KAT(DP_CARVE_NONE, 0xff, 0xd8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xe0, 0, 16);
    /* PNG: signature, IHDR with dimensions and a depth its colour type allows */
    KAT(DP_CARVE_PNG, IHDR(1, 1, 8, 2, 0, 0, 0));
    KAT(DP_CARVE_PNG, IHDR(0x7fffffff, 3, 1, 0, 0, 0, 1));
    KAT(DP_CARVE_PNG, IHDR(5, 5, 16, 6, 0, 0, 0));
    KAT(DP_CARVE_PNG, IHDR(5, 5, 4, 3, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(0, 1, 8, 2, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(1, 0x80000000u, 8, 2, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 16, 3, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 4, 2, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 8, 5, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 8, 7, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 0, 0, 0, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 8, 2, 1, 0, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 8, 2, 0, 1, 0));
    KAT(DP_CARVE_NONE, IHDR(5, 5, 8, 2, 0, 0, 2));
    KAT(DP_CARVE_NONE, PNG_SIG, 0, 0, 0, 14, 'I', 'H', 'D', 'R', B32(5), B32(5), 8, 2, 0, 0, 0);
    KAT(DP_CARVE_NONE, PNG_SIG, 0, 0, 0, 13, 'I', 'H', 'D', 'r', B32(5), B32(5), 8, 2, 0, 0, 0);
    /* GIF: version, a screen that is not empty */
    KAT(DP_CARVE_GIF, 'G', 'I', 'F', '8', '9', 'a', L16(1), L16(1));
    KAT(DP_CARVE_GIF, 'G', 'I', 'F', '8', '7', 'a', L16(640), L16(480), 0xf7);
    KAT(DP_CARVE_NONE, 'G', 'I', 'F', '8', '8', 'a', L16(1), L16(1));
    KAT(DP_CARVE_NONE, 'G', 'I', 'F', '8', '9', 'b', L16(1), L16(1));
    KAT(DP_CARVE_NONE, 'G', 'I', 'F', '8', '9', 'a', L16(0), L16(1));
    KAT(DP_CARVE_NONE, 'G', 'I', 'F', '8', '9', 'a', L16(1), L16(0));
    /* WebP: RIFF, an even size, WEBP, a VP8 chunk that fits */
    KAT(DP_CARVE_WEBP, 'R', 'I', 'F', 'F', L32(0x100), 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L',
        L32(0x20));
    KAT(DP_CARVE_WEBP, 'R', 'I', 'F', 'F', L32(0x100), 'W', 'E', 'B', 'P', 'V', 'P', '8', ' ',
        L32(0xf4));
    KAT(DP_CARVE_WEBP, 'R', 'I', 'F', 'F', L32(0x100), 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X',
        L32(10));
    KAT(DP_CARVE_NONE, 'R', 'I', 'F', 'F', L32(0x100), 'W', 'E', 'B', 'P', 'V', 'P', '8', ' ',
        L32(0xf5));
    KAT(DP_CARVE_NONE, 'R', 'I', 'F', 'F', L32(0x101), 'W', 'E', 'B', 'P', 'V', 'P', '8', 'L',
        L32(0x20));
    KAT(DP_CARVE_NONE, 'R', 'I', 'F', 'F', L32(0x100), 'W', 'E', 'B', 'P', 'V', 'P', '8', 'Y',
        L32(0x20));
    KAT(DP_CARVE_NONE, 'R', 'I', 'F', 'F', L32(0x100), 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
        L32(16));
    /* BMP: sizes that agree, reserved zero, a known DIB header, one plane, a usual depth */
    KAT(DP_CARVE_BMP, BMP(1000, 54, 10, 10, 1, 24));
    KAT(DP_CARVE_BMP, BMP(1000, 54, 10, -10, 1, 32));
    KAT(DP_CARVE_BMP, BMP(2000, 1078, 10, 10, 1, 8));
    KAT(DP_CARVE_NONE, BMP(1000, 54, 10, 0, 1, 24));
    KAT(DP_CARVE_NONE, BMP(1000, 54, -10, 10, 1, 24));
    KAT(DP_CARVE_NONE, BMP(1000, 54, 10, 10, 0, 24));
    KAT(DP_CARVE_NONE, BMP(1000, 54, 10, 10, 1, 7));
    KAT(DP_CARVE_NONE, BMP(1000, 1000, 10, 10, 1, 24));
    KAT(DP_CARVE_NONE, BMP(1000, 53, 10, 10, 1, 24));
    KAT(DP_CARVE_NONE, 'B', 'M', L32(1000), 0, 0, 0, 1, L32(54), L32(40), L32(10), L32(10), L16(1),
        L16(24));
    KAT(DP_CARVE_NONE, 'B', 'M', L32(1000), 0, 0, 0, 0, L32(54), L32(41), L32(10), L32(10), L16(1),
        L16(24));
    KAT(DP_CARVE_BMP, 'B', 'M', L32(1000), 0, 0, 0, 0, L32(794), L32(12), L16(10), L16(10), L16(1),
        L16(8));
    KAT(DP_CARVE_NONE, 'B', 'M', L32(1000), 0, 0, 0, 0, L32(794), L32(12), L16(10), L16(10), L16(1),
        L16(16));
    /* nothing to validate as */
    uint64_t len;
    assert_int_equal(dp_carve_validate(DP_CARVE_NONE, (const uint8_t *)"x", 1, true, 1, &len),
                     DP_CARVE_NO);
    assert_int_equal(dp_carve_validate(DP_CARVE_KIND_COUNT, (const uint8_t *)"x", 1, true, 1, &len),
                     DP_CARVE_NO);
}

/* Each stream alone inside random bytes and inside text, at odd offsets: found there, carved
 * to its exact length, and nothing else in the buffer carved. */
static void test_embedded(void **state)
{
    (void)state;
    uint64_t seed = 11;
    for (int i = 0; i < NSTREAMS; i++) {
        const struct stream *s = &streams[i];
        for (int bg = 0; bg < 2; bg++) {
            struct buf b = {0};
            size_t off = 1001 + 2 * (size_t)i + (size_t)bg * 300;
            bg ? put_text(&b, off, &seed) : put_random(&b, off, &seed);
            buf_put(&b, s->b.p, s->b.len);
            bg ? put_text(&b, 517, &seed) : put_random(&b, 517, &seed);
            struct cands c = find_whole(b.p, b.len);
            const struct cand *hit = cand_at(&c, off);
            if (hit == NULL)
                fail_msg("%s in %s: not found at %zu", s->what, bg ? "text" : "random", off);
            assert_int_equal(hit->kind, s->kind);
            assert_carved(s->kind, b.p + off, b.len - off, s->b.len);
            /* and exactly, with nothing after it */
            assert_carved(s->kind, b.p + off, s->b.len, s->b.len);
            size_t carved = 0;
            for (size_t j = 0; j < c.n; j++)
                carved += validate(c.v[j].kind, b.p + c.v[j].off, b.len - c.v[j].off, true,
                                   UINT64_MAX, NULL) == DP_CARVE_OK;
            assert_int_equal(carved, 1);
            free(c.v);
            buf_free(&b);
        }
    }
}

/* All streams back to back, in two orders, after an odd lead-in: each found and carved to its
 * own length, none running into the next. */
static void test_adjacent(void **state)
{
    (void)state;
    uint64_t seed = 12;
    for (int order = 0; order < 2; order++) {
        struct buf b = {0};
        size_t at[NSTREAMS];
        put_random(&b, 333, &seed);
        for (int j = 0; j < NSTREAMS; j++) {
            int i = order ? NSTREAMS - 1 - j : j;
            at[i] = b.len;
            buf_put(&b, streams[i].b.p, streams[i].b.len);
        }
        struct cands c = find_whole(b.p, b.len);
        for (int i = 0; i < NSTREAMS; i++) {
            const struct cand *hit = cand_at(&c, at[i]);
            assert_non_null(hit);
            assert_int_equal(hit->kind, streams[i].kind);
            assert_carved(streams[i].kind, b.p + at[i], b.len - at[i], streams[i].b.len);
        }
        free(c.v);
        buf_free(&b);
    }
}

/* A JPEG whose APP1 holds an EXIF thumbnail: the outer stream is walked by its segment lengths
 * (the thumbnail's EOI does not end it), and the thumbnail is found and carved on its own. */
static void test_exif_thumbnail(void **state)
{
    (void)state;
    struct buf thumb = make_jpeg(32, 24, 50, false, 0, NULL, 0, 21);
    struct buf app1 = make_exif_app1(&thumb);
    struct buf outer = make_jpeg(160, 120, 85, false, 0, app1.p, app1.len, 22);
    const uint8_t *t = memmem(outer.p, outer.len, thumb.p, thumb.len);
    assert_non_null(t);
    uint64_t seed = 23;
    struct buf b = {0};
    put_random(&b, 777, &seed);
    buf_put(&b, outer.p, outer.len);
    put_random(&b, 99, &seed);
    size_t toff = 777 + (size_t)(t - outer.p);
    struct cands c = find_whole(b.p, b.len);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.v[0].off, 777);
    assert_int_equal(c.v[0].kind, DP_CARVE_JPEG);
    assert_int_equal(c.v[1].off, toff);
    assert_int_equal(c.v[1].kind, DP_CARVE_JPEG);
    assert_carved(DP_CARVE_JPEG, b.p + 777, b.len - 777, outer.len);
    assert_carved(DP_CARVE_JPEG, b.p + toff, b.len - toff, thumb.len);
    free(c.v);
    buf_free(&b);
    buf_free(&outer);
    buf_free(&app1);
    buf_free(&thumb);
}

static size_t count_markers(const struct buf *b, uint8_t m)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < b->len; i++)
        n += b->p[i] == 0xff && b->p[i + 1] == m;
    return n;
}

/* Progressive (several scans, tables between them) and restart intervals (RSTn inside the
 * entropy-coded data) carved to their exact lengths. */
static void test_progressive_and_restart(void **state)
{
    (void)state;
    const struct buf *prog = &streams[2].b, *rst = &streams[1].b;
    assert_true(count_markers(prog, 0xda) >= 5); /* the scans of jpeg_simple_progression */
    assert_true(count_markers(rst, 0xd0) >= 1);
    assert_carved(DP_CARVE_JPEG, prog->p, prog->len, prog->len);
    assert_carved(DP_CARVE_JPEG, rst->p, rst->len, rst->len);
    struct buf big = make_jpeg(400, 300, 90, true, 0, NULL, 0, 31);
    assert_carved(DP_CARVE_JPEG, big.p, big.len, big.len);
    buf_free(&big);
}

static struct buf copy_of(const struct buf *s)
{
    struct buf b = {0};
    buf_put(&b, s->p, s->len);
    return b;
}

/* The first entropy-coded byte after the first SOS, and where a marker could be written
 * (a byte not preceded by FF) somewhere in the middle of the data. */
static size_t jpeg_mid_entropy(const struct buf *b)
{
    size_t sos = 0;
    for (size_t i = 2; i + 1 < b->len; i++)
        if (b->p[i] == 0xff && b->p[i + 1] == 0xda) {
            sos = i;
            break;
        }
    assert_true(sos > 0);
    size_t start = sos + 2 + ((size_t)b->p[sos + 2] << 8 | b->p[sos + 3]);
    size_t p = start + (b->len - 2 - start) / 2;
    while (b->p[p - 1] == 0xff || b->p[p] == 0xff || b->p[p + 1] == 0xff)
        p++;
    return p;
}

static void test_near_misses_jpeg(void **state)
{
    (void)state;
    const struct buf *j = &streams[0].b;
    /* truncated: no EOI, or cut inside the entropy data, or inside a segment */
    assert_refused(DP_CARVE_JPEG, j->p, j->len - 2);
    assert_refused(DP_CARVE_JPEG, j->p, j->len - 1);
    assert_refused(DP_CARVE_JPEG, j->p, j->len / 2);
    assert_refused(DP_CARVE_JPEG, j->p, 30);
    /* a truncated JPEG at the end of a buffer: found, not carved */
    uint64_t seed = 41;
    struct buf b = {0};
    put_random(&b, 501, &seed);
    buf_put(&b, j->p, j->len - 2);
    struct cands c = find_whole(b.p, b.len);
    const struct cand *hit = cand_at(&c, 501);
    assert_non_null(hit);
    assert_refused(DP_CARVE_JPEG, b.p + 501, b.len - 501);
    free(c.v);
    buf_free(&b);
    /* a stray marker inside the entropy-coded data: reserved, SOI, a second SOF */
    static const uint8_t stray[] = {0x02, 0xd8, 0xc0, 0xbf};
    size_t mid = jpeg_mid_entropy(j);
    for (size_t i = 0; i < sizeof(stray); i++) {
        struct buf m = copy_of(j);
        m.p[mid] = 0xff;
        m.p[mid + 1] = stray[i];
        assert_refused(DP_CARVE_JPEG, m.p, m.len);
        buf_free(&m);
    }
    /* a stuffed FF (FF 00) and a restart marker in the data are fine: not corruption of the
     * structure (the decoder may mind, the carver does not) */
    struct buf m = copy_of(j);
    m.p[mid] = 0xff;
    m.p[mid + 1] = 0x00;
    assert_carved(DP_CARVE_JPEG, m.p, m.len, m.len);
    m.p[mid + 1] = 0xd3;
    assert_carved(DP_CARVE_JPEG, m.p, m.len, m.len);
    /* fill bytes after SOI and before EOI: part of the stream */
    struct buf fill = {0};
    buf_put(&fill, j->p, 2);
    buf_put(&fill, "\xff\xff", 2);
    buf_put(&fill, j->p + 2, j->len - 4);
    buf_put(&fill, "\xff\xff", 2);
    buf_put(&fill, j->p + j->len - 2, 2);
    c = find_whole(fill.p, fill.len);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.v[0].off, 0);
    free(c.v);
    assert_carved(DP_CARVE_JPEG, fill.p, fill.len, j->len + 4);
    buf_free(&fill);
    /* a segment length that runs past EOI */
    memcpy(m.p, j->p, j->len);
    m.p[4] = 0xff;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    /* EOI right after the header, no frame */
    static const uint8_t bare[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x3e};
    memcpy(m.p, bare, sizeof(bare));
    memset(m.p + sizeof(bare), 0, 0x3c);
    m.p[6 + 0x3c] = 0xff;
    m.p[7 + 0x3c] = 0xd9;
    assert_refused(DP_CARVE_JPEG, m.p, 8 + 0x3c);
    buf_free(&m);
}

static void test_near_misses_png(void **state)
{
    (void)state;
    const struct buf *p = &streams[3].b;
    /* more than one IDAT, so that a middle chunk's CRC is tested */
    size_t idats = 0;
    for (size_t i = 0; i + 4 <= p->len; i++)
        idats += memcmp(p->p + i, "IDAT", 4) == 0;
    assert_true(idats >= 2);
    /* one CRC byte changed: IHDR's, the first IDAT's, IEND's; one data byte changed */
    size_t first_idat = (size_t)((const uint8_t *)memmem(p->p, p->len, "IDAT", 4) - p->p) - 4;
    size_t idat_len = (size_t)p->p[first_idat] << 24 | (size_t)p->p[first_idat + 1] << 16 |
                      (size_t)p->p[first_idat + 2] << 8 | p->p[first_idat + 3];
    size_t at[] = {8 + 8 + 13 + 2, first_idat + 8 + idat_len + 3, p->len - 1,
                   first_idat + 8 + idat_len / 2};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        struct buf m = copy_of(p);
        m.p[at[i]] ^= 0x20;
        assert_refused(DP_CARVE_PNG, m.p, m.len);
        buf_free(&m);
    }
    /* truncated before IEND, inside IEND, inside IDAT */
    assert_refused(DP_CARVE_PNG, p->p, p->len - 12);
    assert_refused(DP_CARVE_PNG, p->p, p->len - 5);
    assert_refused(DP_CARVE_PNG, p->p, p->len / 2);
    uint64_t len = 0;
    assert_int_equal(validate(DP_CARVE_PNG, p->p, p->len - 12, false, UINT64_MAX, &len),
                     DP_CARVE_MORE);
    /* a chunk type that is not letters */
    struct buf m = copy_of(p);
    m.p[first_idat + 5] = '1';
    assert_refused(DP_CARVE_PNG, m.p, m.len);
    buf_free(&m);
}

/* A 1x1 GIF89a with a two-colour table: complete, 35 bytes. */
static const uint8_t gif_tiny[35] = "GIF89a\x01\x00\x01\x00\x80\x00\x00" /* screen, 2 colours */
                                    "\x00\x00\x00\xff\xff\xff"           /* the table */
                                    "\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00" /* image */
                                    "\x02\x02\x44\x01\x00"                     /* code size, data */
                                    "\x3b";

/* gif_tiny with a 40-byte comment before its image (or instead of it): 79 (or 64) bytes. */
static struct buf gif_long(bool image)
{
    struct buf b = {0};
    buf_put(&b, gif_tiny, 19);
    buf_put(&b, "\x21\xfe\x28", 3);
    buf_put(&b, "forty bytes of comment, for the length..", 40);
    buf_put(&b, "", 1);
    if (image)
        buf_put(&b, gif_tiny + 19, sizeof(gif_tiny) - 19);
    else
        buf_put(&b, "\x3b", 1);
    return b;
}

static void test_near_misses_gif(void **state)
{
    (void)state;
    const struct buf *g = &streams[4].b;
    assert_int_equal(g->p[g->len - 1], 0x3b);
    assert_refused(DP_CARVE_GIF, g->p, g->len - 1); /* no trailer */
    struct buf m = copy_of(g);
    m.p[m.len - 1] = 0x00; /* something else where the trailer is */
    assert_refused(DP_CARVE_GIF, m.p, m.len);
    buf_free(&m);
    assert_refused(DP_CARVE_GIF, g->p, g->len / 2);
    /* complete but tiny (35 bytes): below DP_CARVE_MIN_STREAM */
    assert_refused(DP_CARVE_GIF, gif_tiny, sizeof(gif_tiny));
    /* the same with a comment extension making it long enough: carved */
    struct buf b = gif_long(true);
    assert_carved(DP_CARVE_GIF, b.p, b.len, b.len);
    /* the LZW code size: 1..11 */
    b.p[b.len - 6] = 0;
    assert_refused(DP_CARVE_GIF, b.p, b.len);
    b.p[b.len - 6] = 12;
    assert_refused(DP_CARVE_GIF, b.p, b.len);
    b.p[b.len - 6] = 11;
    assert_carved(DP_CARVE_GIF, b.p, b.len, b.len);
    /* a trailer where the code size should be */
    b.p[b.len - 6] = 0x3b;
    assert_refused(DP_CARVE_GIF, b.p, b.len);
    buf_free(&b);
    /* no image before the trailer */
    b = gif_long(false);
    assert_true(b.len >= DP_CARVE_MIN_STREAM);
    assert_refused(DP_CARVE_GIF, b.p, b.len);
    buf_free(&b);
}

static void test_near_misses_webp_bmp(void **state)
{
    (void)state;
    for (int i = 5; i <= 7; i++) {
        const struct buf *w = &streams[i].b;
        /* RIFF size larger than the data */
        struct buf m = copy_of(w);
        uint32_t size = get_le32(w->p + 4);
        assert_int_equal(size + 8, w->len);
        set_le32(m.p + 4, size + 2);
        assert_refused(DP_CARVE_WEBP, m.p, m.len);
        /* ... and smaller than the chunks */
        set_le32(m.p + 4, size - 2);
        assert_refused(DP_CARVE_WEBP, m.p, m.len);
        buf_free(&m);
        assert_refused(DP_CARVE_WEBP, w->p, w->len - 1);
    }
    const struct buf *bm = &streams[8].b;
    struct buf m = copy_of(bm);
    /* file size below the pixel rows */
    set_le32(m.p + 2, (uint32_t)bm->len - 3);
    assert_refused(DP_CARVE_BMP, m.p, m.len);
    /* pixel offset past the file size */
    memcpy(m.p, bm->p, bm->len);
    m.p[10] = 0xff;
    m.p[11] = 0xff;
    assert_refused(DP_CARVE_BMP, m.p, m.len);
    /* file size past the data */
    memcpy(m.p, bm->p, bm->len);
    set_le32(m.p + 2, (uint32_t)bm->len + 2);
    assert_refused(DP_CARVE_BMP, m.p, m.len);
    /* two planes; reserved field set; RLE8 with 24 bits */
    memcpy(m.p, bm->p, bm->len);
    m.p[26] = 2;
    assert_refused(DP_CARVE_BMP, m.p, m.len);
    memcpy(m.p, bm->p, bm->len);
    m.p[7] = 1;
    assert_refused(DP_CARVE_BMP, m.p, m.len);
    memcpy(m.p, bm->p, bm->len);
    m.p[30] = 1;
    assert_refused(DP_CARVE_BMP, m.p, m.len);
    buf_free(&m);
}

/* s with n bytes at `at` replaced by ins[0..ins_len). */
static struct buf splice(const struct buf *s, size_t at, size_t n, const void *ins, size_t ins_len)
{
    struct buf b = {0};
    buf_put(&b, s->p, at);
    buf_put(&b, ins, ins_len);
    buf_put(&b, s->p + at + n, s->len - at - n);
    return b;
}

/* The FF of the first segment with marker m before the first scan (SOS itself for 0xda),
 * walking by lengths; 0 when there is none. */
static size_t jpeg_segment(const struct buf *b, uint8_t m)
{
    size_t p = 2;
    while (p + 4 <= b->len && b->p[p] == 0xff) {
        if (b->p[p + 1] == m)
            return p;
        if (b->p[p + 1] == 0xda)
            break;
        p += 2 + ((size_t)b->p[p + 2] << 8 | b->p[p + 3]);
    }
    return 0;
}

/* The JPEG walk's rules, each broken once (and a few things it allows). */
static void test_rules_jpeg(void **state)
{
    (void)state;
    const struct buf *j = &streams[0].b, *r = &streams[1].b;
    size_t app0 = jpeg_segment(j, 0xe0), sof = jpeg_segment(j, 0xc0), sos = jpeg_segment(j, 0xda),
           dri = jpeg_segment(r, 0xdd);
    assert_int_equal(app0, 2);
    assert_true(sof > 0 && sos > sof && dri > 0);
    size_t sof_len = (size_t)j->p[sof + 2] << 8 | j->p[sof + 3];
    assert_int_equal(sof_len, 8 + 3 * 3);
    /* allowed: TEM and RSTn between header segments (libjpeg skips them) */
    struct buf m = splice(j, sof, 0, "\xff\x01\xff\xd5", 4);
    assert_carved(DP_CARVE_JPEG, m.p, m.len, j->len + 4);
    buf_free(&m);
    /* allowed: FF FF 00 in the entropy-coded data (fill, then a stuffed FF, as libjpeg
     * reads it) */
    size_t mid = jpeg_mid_entropy(j);
    m = splice(j, mid, 0, "\xff\xff\x00", 3);
    assert_carved(DP_CARVE_JPEG, m.p, m.len, j->len + 3);
    buf_free(&m);
    /* SOI where a marker is (APP0 made SOI) */
    m = copy_of(j);
    m.p[app0 + 1] = 0xd8;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    /* a reserved marker */
    m.p[app0 + 1] = 0x02;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    /* no frame before the scan (SOF0 made APP5) */
    memcpy(m.p, j->p, j->len);
    m.p[sof + 1] = 0xe5;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    /* components counted wrong, zero width, precision 1 */
    memcpy(m.p, j->p, j->len);
    m.p[sof + 9] = 2;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    memcpy(m.p, j->p, j->len);
    m.p[sof + 7] = m.p[sof + 8] = 0;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    memcpy(m.p, j->p, j->len);
    m.p[sof + 4] = 1;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    /* scan components counted wrong */
    memcpy(m.p, j->p, j->len);
    m.p[sos + 4] = 4;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    buf_free(&m);
    /* a second frame */
    m = splice(j, sof, 0, j->p + sof, 2 + sof_len);
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    buf_free(&m);
    /* DRI of length 5 (one byte more, so that the walk stays in step) */
    m = splice(r, dri + 6, 0, "\x00", 1);
    m.p[dri + 3] = 5;
    assert_refused(DP_CARVE_JPEG, m.p, m.len);
    m.p[dri + 1] = 0xe7; /* the same bytes as an APP7 segment: fine */
    assert_carved(DP_CARVE_JPEG, m.p, m.len, r->len + 1);
    buf_free(&m);
}

static uint32_t test_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c >> 1 ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* A PNG chunk with its CRC. */
static void put_chunk(struct buf *b, const char *type, const void *data, uint32_t n)
{
    uint8_t h[8] = {B32(n), (uint8_t)type[0], (uint8_t)type[1], (uint8_t)type[2], (uint8_t)type[3]};
    buf_put(b, h, 8);
    buf_put(b, data, n);
    uint32_t c = test_crc32(b->p + b->len - n - 4, n + 4);
    uint8_t t[4] = {B32(c)};
    buf_put(b, t, 4);
}

/* The PNG walk's rules, each broken with right CRCs (and an extra chunk that is fine). */
static void test_rules_png(void **state)
{
    (void)state;
    const struct buf *p = &streams[3].b;
    const size_t after_ihdr = 8 + 8 + 13 + 4;
    assert_int_equal(test_crc32(p->p + 12, 17), (uint32_t)p->p[29] << 24 |
                                                    (uint32_t)p->p[30] << 16 |
                                                    (uint32_t)p->p[31] << 8 | p->p[32]);
    struct buf c = {0};
    const char text[] = "Comment\0a chunk the carver need not know";
    put_chunk(&c, "tEXt", text, sizeof(text) - 1);
    struct buf m = splice(p, after_ihdr, 0, c.p, c.len);
    assert_carved(DP_CARVE_PNG, m.p, m.len, p->len + c.len);
    buf_free(&m);
    /* a type that is not four letters */
    c.len = 0;
    put_chunk(&c, "tEX1", text, sizeof(text) - 1);
    m = splice(p, after_ihdr, 0, c.p, c.len);
    assert_refused(DP_CARVE_PNG, m.p, m.len);
    buf_free(&m);
    /* a second IHDR */
    m = splice(p, after_ihdr, 0, p->p + 8, after_ihdr - 8);
    assert_refused(DP_CARVE_PNG, m.p, m.len);
    buf_free(&m);
    /* IHDR that the finder would refuse (4-bit RGB), CRC right */
    c.len = 0;
    uint8_t ihdr[13];
    memcpy(ihdr, p->p + 16, 13);
    ihdr[8] = 4;
    put_chunk(&c, "IHDR", ihdr, 13);
    m = splice(p, 8, after_ihdr - 8, c.p, c.len);
    assert_int_equal(m.len, p->len);
    assert_refused(DP_CARVE_PNG, m.p, m.len);
    buf_free(&m);
    /* IEND with data */
    c.len = 0;
    put_chunk(&c, "IEND", "oops", 4);
    m = splice(p, p->len - 12, 12, c.p, c.len);
    assert_refused(DP_CARVE_PNG, m.p, m.len);
    buf_free(&m);
    /* no IDAT */
    struct buf n = {0};
    buf_put(&n, p->p, after_ihdr);
    put_chunk(&n, "tEXt", text, sizeof(text) - 1);
    put_chunk(&n, "IEND", "", 0);
    assert_true(n.len >= DP_CARVE_MIN_STREAM);
    assert_refused(DP_CARVE_PNG, n.p, n.len);
    buf_free(&n);
    /* a length past 2^31 - 1 */
    m = copy_of(p);
    m.p[after_ihdr] = 0x80;
    assert_int_equal(validate(DP_CARVE_PNG, m.p, m.len, false, UINT64_MAX, NULL), DP_CARVE_NO);
    buf_free(&m);
    buf_free(&c);
}

/* WebP's and BMP's header rules, each broken once. */
static void test_rules_webp_bmp(void **state)
{
    (void)state;
    const struct buf *lossy = &streams[5].b, *lossless = &streams[6].b, *ext = &streams[7].b;
    assert_memory_equal(lossy->p + 12, "VP8 ", 4);
    assert_memory_equal(lossless->p + 12, "VP8L", 4);
    assert_memory_equal(ext->p + 12, "VP8X", 4);
    struct buf m = copy_of(lossless);
    m.p[20] = 0x2e; /* VP8L's signature byte */
    assert_refused(DP_CARVE_WEBP, m.p, m.len);
    buf_free(&m);
    m = copy_of(lossy);
    m.p[23] = 0x9c; /* VP8's start code */
    assert_refused(DP_CARVE_WEBP, m.p, m.len);
    buf_free(&m);
    /* VP8X of 12 bytes (the RIFF size grown to match) */
    m = splice(ext, 30, 0, "\0\0", 2);
    m.p[16] = 12;
    set_le32(m.p + 4, get_le32(m.p + 4) + 2);
    assert_refused(DP_CARVE_WEBP, m.p, m.len);
    buf_free(&m);
    /* a later chunk whose name is not printable */
    m = copy_of(ext);
    assert_memory_equal(m.p + 30, "ALPH", 4);
    m.p[30] = 1;
    assert_refused(DP_CARVE_WEBP, m.p, m.len);
    buf_free(&m);
    /* complete but short */
    struct buf w = {0};
    buf_put(&w, "RIFF", 4);
    put_le32(&w, 4 + 8 + 20);
    buf_put(&w, "WEBPVP8L", 8);
    put_le32(&w, 20);
    buf_put(&w, "\x2f", 1);
    put_random(&w, 19, &(uint64_t){1});
    assert_int_equal(w.len, 40);
    assert_refused(DP_CARVE_WEBP, w.p, w.len);
    /* known from the header alone: not worth asking for more */
    assert_int_equal(validate(DP_CARVE_WEBP, w.p, 35, false, UINT64_MAX, NULL), DP_CARVE_NO);
    buf_free(&w);

    /* BMP: complete but short (a 1x1 core header) */
    struct buf b = make_bmp(1, 1, 24, true, 1);
    assert_int_equal(b.len, 30);
    assert_refused(DP_CARVE_BMP, b.p, b.len);
    assert_int_equal(validate(DP_CARVE_BMP, b.p, 29, false, UINT64_MAX, NULL), DP_CARVE_NO);
    buf_free(&b);
    /* RLE8 bottom-up is fine as far as the carver knows; top-down it cannot be */
    b = make_bmp(9, 9, 8, false, 2);
    b.p[30] = 1;
    assert_carved(DP_CARVE_BMP, b.p, b.len, b.len);
    buf_free(&b);
    b = make_bmp(9, -9, 8, false, 2);
    b.p[30] = 1;
    assert_refused(DP_CARVE_BMP, b.p, b.len);
    b.p[30] = 2; /* RLE4 with 8 bits */
    assert_refused(DP_CARVE_BMP, b.p, b.len);
    b.p[30] = 4; /* JPEG inside */
    assert_refused(DP_CARVE_BMP, b.p, b.len);
    buf_free(&b);
    /* BI_BITFIELDS: 16 or 32 bits, and the rows must fit too */
    b = make_bmp(5, 5, 32, false, 3);
    b.p[30] = 3;
    assert_carved(DP_CARVE_BMP, b.p, b.len, b.len);
    set_le32(b.p + 2, (uint32_t)b.len - 4);
    assert_refused(DP_CARVE_BMP, b.p, b.len - 4);
    buf_free(&b);
    b = make_bmp(5, 5, 24, false, 3);
    b.p[30] = 3;
    assert_refused(DP_CARVE_BMP, b.p, b.len);
    buf_free(&b);
}

/* Half a stream, not at the end: MORE with a larger *len; retried as a reader would (never
 * past the stream's own end plus some bytes that follow) until it is carved. */
static void test_more(void **state)
{
    (void)state;
    uint64_t seed = 51;
    for (int i = 0; i < NSTREAMS; i++) {
        const struct stream *s = &streams[i];
        struct buf b = {0};
        buf_put(&b, s->b.p, s->b.len);
        put_random(&b, 5000, &seed);
        uint64_t len = 0;
        size_t avail = s->b.len / 2;
        assert_int_equal(validate(s->kind, b.p, avail, false, UINT64_MAX, &len), DP_CARVE_MORE);
        assert_true(len > avail);
        if (s->kind == DP_CARVE_WEBP || s->kind == DP_CARVE_BMP)
            assert_int_equal(len, s->b.len); /* the header gives the length */
        /* at the end: refused */
        assert_refused(s->kind, b.p, avail);
        int rounds = 0;
        enum dp_carve_verdict v;
        do {
            avail = len < b.len ? (size_t)len : b.len;
            v = validate(s->kind, b.p, avail, avail == b.len, UINT64_MAX, &len);
            assert_true(++rounds < 20);
        } while (v == DP_CARVE_MORE);
        assert_int_equal(v, DP_CARVE_OK);
        assert_int_equal(len, s->b.len);
        /* and from very little */
        assert_int_equal(validate(s->kind, b.p, 0, false, UINT64_MAX, &len), DP_CARVE_MORE);
        assert_int_equal(validate(s->kind, b.p, 5, false, UINT64_MAX, &len), DP_CARVE_MORE);
        buf_free(&b);
    }
}

/* max_len bounds the stream: exactly its length carves, one less refuses (whatever avail and
 * at_end say), and MORE never asks past it. */
static void test_max_len(void **state)
{
    (void)state;
    uint64_t seed = 61;
    for (int i = 0; i < NSTREAMS; i++) {
        const struct stream *s = &streams[i];
        struct buf b = {0};
        buf_put(&b, s->b.p, s->b.len);
        put_random(&b, 300, &seed);
        uint64_t len = 0, n = s->b.len;
        assert_int_equal(validate(s->kind, b.p, b.len, true, n, &len), DP_CARVE_OK);
        assert_int_equal(len, n);
        for (int at_end = 0; at_end < 2; at_end++)
            assert_int_equal(validate(s->kind, b.p, b.len, at_end, n - 1, &len), DP_CARVE_NO);
        assert_int_equal(validate(s->kind, b.p, n / 2, true, n - 1, &len), DP_CARVE_NO);
        /* not at the end, a stream whose length the header gives is known to be too long;
         * another may only be asked for more */
        enum dp_carve_verdict v = validate(s->kind, b.p, n / 2, false, n - 1, &len);
        if (s->kind == DP_CARVE_WEBP || s->kind == DP_CARVE_BMP)
            assert_int_equal(v, DP_CARVE_NO);
        else
            assert_int_equal(v, DP_CARVE_MORE);
        assert_int_equal(validate(s->kind, b.p, n / 2, false, n, &len), DP_CARVE_MORE);
        assert_true(len <= n);
        assert_int_equal(validate(s->kind, b.p, b.len, true, 20, &len), DP_CARVE_NO);
        buf_free(&b);
    }
}

/* A buffer mixing random bytes, text, every stream (some at the very end) and bare headers. */
static struct buf mixed(uint64_t *seed, size_t *plants, size_t *nplants)
{
    struct buf b = {0};
    *nplants = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < NSTREAMS; i++) {
            size_t r = rng_below(seed, 200);
            round ? put_text(&b, r, seed) : put_random(&b, r, seed);
            plants[(*nplants)++] = b.len;
            /* the whole stream, or only its header */
            buf_put(&b, streams[i].b.p, round ? DP_CARVE_LOOKAHEAD : streams[i].b.len);
        }
    /* a PNG header with only 29 bytes left: found by finish */
    put_random(&b, 40, seed);
    plants[(*nplants)++] = b.len;
    buf_put(&b, streams[3].b.p, 29);
    return b;
}

/* The same candidates whatever the pieces: every size 1..100, random splits with empty
 * pieces among them. */
static void test_pieces(void **state)
{
    (void)state;
    uint64_t seed = 71;
    size_t plants[2 * NSTREAMS + 1], nplants;
    struct buf b = mixed(&seed, plants, &nplants);
    struct cands whole = find_whole(b.p, b.len);
    for (size_t i = 0; i < nplants; i++)
        assert_non_null(cand_at(&whole, plants[i]));
    assert_int_equal(whole.v[whole.n - 1].off, plants[nplants - 1]);
    for (size_t piece = 1; piece <= 100; piece++) {
        struct cands c = find_pieces(b.p, b.len, piece, 0, &seed);
        assert_same(&whole, &c);
        free(c.v);
    }
    for (int r = 0; r < 300; r++) {
        size_t max = r % 3 == 0 ? 8 : r % 3 == 1 ? 70 : 5000;
        struct cands c = find_pieces(b.p, b.len, 0, max, &seed);
        assert_same(&whole, &c);
        free(c.v);
    }
    free(whole.v);
    buf_free(&b);
}

/* Buffers of nothing, of FF, of zeros, of text: the few candidates text has are not carved. */
static void test_no_false_carves(void **state)
{
    (void)state;
    size_t n = 1 << 16;
    uint8_t *z = calloc(n, 1);
    assert_non_null(z);
    struct cands c = find_whole(z, n);
    assert_int_equal(c.n, 0);
    free(c.v);
    memset(z, 0xff, n);
    c = find_whole(z, n);
    assert_int_equal(c.n, 0);
    free(c.v);
    c = find_whole(z, 0);
    assert_int_equal(c.n, 0);
    free(c.v);
    free(z);
    uint64_t seed = 81;
    struct buf t = {0};
    put_text(&t, 1 << 18, &seed);
    c = find_whole(t.p, t.len);
    assert_true(c.n > 0); /* "GIF89a image" passes the cheap checks */
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(
            validate(c.v[i].kind, t.p + c.v[i].off, t.len - c.v[i].off, true, UINT64_MAX, NULL),
            DP_CARVE_NO);
    free(c.v);
    buf_free(&t);
}

/* Random buffers with planted headers and streams (whole, cut, mutated), fed in random pieces
 * (the same candidates as whole); every candidate validated with a random window, at_end and
 * max_len; garbage validated as every kind. A carve, re-validated with exactly its bytes,
 * gives the same length. */
static void test_fuzz(void **state)
{
    (void)state;
    uint64_t seed = 91;
    for (int it = 0; it < 2000; it++) {
        struct buf b = {0};
        size_t size = rng_below(&seed, 3000);
        rng_below(&seed, 4) == 0 ? put_text(&b, size, &seed) : put_random(&b, size, &seed);
        size_t plants = rng_below(&seed, 6);
        for (size_t p = 0; p < plants && b.len > 0; p++) {
            const struct buf *s = &streams[rng_below(&seed, NSTREAMS)].b;
            size_t at = rng_below(&seed, b.len), n = s->len;
            if (rng_below(&seed, 2))
                n = rng_below(&seed, 64) + 1;
            if (n > b.len - at)
                n = b.len - at;
            memcpy(b.p + at, s->p, n);
            for (int f = (int)rng_below(&seed, 3); f > 0; f--) /* mutations */
                b.p[at + rng_below(&seed, n)] = (uint8_t)rng_next(&seed);
        }
        struct cands whole = find_whole(b.p, b.len);
        struct cands c = find_pieces(b.p, b.len, 0, rng_below(&seed, 200) + 1, &seed);
        assert_same(&whole, &c);
        free(c.v);
        for (size_t i = 0; i < whole.n; i++) {
            size_t off = (size_t)whole.v[i].off, rest = b.len - off;
            size_t avail = rng_below(&seed, 2) ? rest : rng_below(&seed, rest + 1);
            bool at_end = avail == rest ? rng_below(&seed, 4) != 0 : rng_below(&seed, 4) == 0;
            uint64_t max_len = rng_below(&seed, 3) ? UINT64_MAX : rng_below(&seed, 4000);
            uint64_t len;
            enum dp_carve_kind k = whole.v[i].kind;
            if (validate(k, b.p + off, avail, at_end, max_len, &len) == DP_CARVE_OK) {
                uint64_t again;
                assert_int_equal(validate(k, b.p + off, (size_t)len, true, len, &again),
                                 DP_CARVE_OK);
                assert_int_equal(again, len);
            }
        }
        for (int g = 0; g < 3 && b.len > 0; g++) {
            size_t off = rng_below(&seed, b.len);
            enum dp_carve_kind k = (enum dp_carve_kind)(1 + rng_below(&seed, 5));
            validate(k, b.p + off, b.len - off, rng_below(&seed, 2), UINT64_MAX, NULL);
        }
        free(whole.v);
        buf_free(&b);
    }
    /* every real stream with a few bytes changed, or cut, validated at its end */
    for (int it = 0; it < 400; it++) {
        const struct stream *s = &streams[rng_below(&seed, NSTREAMS)];
        struct buf m = copy_of(&s->b);
        for (int f = (int)rng_below(&seed, 4); f >= 0; f--)
            m.p[rng_below(&seed, m.len)] = (uint8_t)rng_next(&seed);
        size_t avail = rng_below(&seed, 3) ? m.len : rng_below(&seed, m.len + 1);
        validate(s->kind, m.p, avail, true, UINT64_MAX, NULL);
        validate(s->kind, m.p, avail, false, UINT64_MAX, NULL);
        buf_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),       cmocka_unit_test(test_finder_vectors),
        cmocka_unit_test(test_embedded),         cmocka_unit_test(test_adjacent),
        cmocka_unit_test(test_exif_thumbnail),   cmocka_unit_test(test_progressive_and_restart),
        cmocka_unit_test(test_near_misses_jpeg), cmocka_unit_test(test_near_misses_png),
        cmocka_unit_test(test_near_misses_gif),  cmocka_unit_test(test_near_misses_webp_bmp),
        cmocka_unit_test(test_rules_jpeg),       cmocka_unit_test(test_rules_png),
        cmocka_unit_test(test_rules_webp_bmp),   cmocka_unit_test(test_more),
        cmocka_unit_test(test_max_len),          cmocka_unit_test(test_pieces),
        cmocka_unit_test(test_no_false_carves),  cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
