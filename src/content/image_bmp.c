/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: BMP decoding by hand (no Debian library decodes BMP on its own) - a parser of hostile
 * input, so it takes only the common cases: BITMAPINFOHEADER and its later versions (V2..V5),
 * 1/4/8-bit palettes, 24-bit, 16- and 32-bit BI_RGB or BI_BITFIELDS with contiguous masks of at
 * most 8 bits, bottom-up and top-down. RLE, JPEG/PNG-in-BMP, OS/2 headers and the rest are
 * refused with their compression or header named. Every offset and size is checked against the
 * buffer before it is read; grey when a palette holds only greys, else RGB; alpha dropped. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BI_RGB = 0, BI_BITFIELDS = 3 };

struct bmp {
    const uint8_t *buf;
    size_t len;
    uint64_t w, h;
    bool top_down;
    unsigned bpp, compression;
    uint32_t pal[256]; /* 0x00RRGGBB */
    unsigned npal;
    uint32_t mask[3]; /* R, G, B */
    uint64_t data, row_bytes;
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static bool sniff(const uint8_t *b, size_t n)
{
    /* "BM", then a DIB header size BMP writers use (12 core, 40..124 info) */
    if (n < 18 || b[0] != 'B' || b[1] != 'M')
        return false;
    uint32_t hs = le32(b + 14);
    return hs == 12 || hs == 40 || hs == 52 || hs == 56 || hs == 64 || hs == 108 || hs == 124;
}

/* A mask usable as a channel: non-zero, its bits contiguous, at most 8 of them. */
static bool mask_ok(uint32_t m)
{
    if (m == 0)
        return false;
    uint32_t low = m >> __builtin_ctz(m);
    return (low & (low + 1)) == 0 && __builtin_popcount(m) <= 8;
}

static uint8_t channel(uint32_t px, uint32_t m)
{
    uint32_t v = (px & m) >> __builtin_ctz(m), max = m >> __builtin_ctz(m);
    return (uint8_t)((v * 255 + max / 2) / max);
}

static enum dp_status read_masks(struct bmp *b, uint32_t hs, struct dp_error *err)
{
    if (b->compression == BI_RGB) {
        if (b->bpp == 16)
            b->mask[0] = 0x7c00, b->mask[1] = 0x03e0, b->mask[2] = 0x001f;
        else
            b->mask[0] = 0xff0000, b->mask[1] = 0xff00, b->mask[2] = 0xff;
        return DP_OK;
    }
    /* in the header for V2 and later, just after a 40-byte header otherwise */
    if (14 + 40 + 12 > b->len || (hs > 40 && hs < 52))
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: truncated colour masks");
    for (int i = 0; i < 3; i++)
        if (!mask_ok(b->mask[i] = le32(b->buf + 54 + 4 * i)))
            return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: colour mask 0x%08x not supported",
                                b->mask[i]);
    return DP_OK;
}

static enum dp_status read_palette(struct bmp *b, uint32_t hs, struct dp_error *err)
{
    uint32_t used = le32(b->buf + 46), max = 1u << b->bpp;
    if (used > max)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: %u palette entries for %u bits", used,
                            b->bpp);
    b->npal = used ? used : max;
    uint64_t off = 14 + (uint64_t)hs + (hs == 40 && b->compression == BI_BITFIELDS ? 12 : 0);
    if (off + 4ull * b->npal > b->len)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: truncated palette");
    for (unsigned i = 0; i < b->npal; i++) {
        const uint8_t *p = b->buf + off + 4 * i; /* B, G, R, reserved */
        b->pal[i] = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    }
    return DP_OK;
}

static enum dp_status parse_header(struct bmp *b, const struct dp_image_opts *opts,
                                   struct dp_error *err)
{
    uint32_t hs = le32(b->buf + 14);
    if (hs < 40)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: header of %u bytes not supported", hs);
    if (b->len < 14 + 40 || 14 + (uint64_t)hs > b->len)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: truncated header");
    int32_t w = (int32_t)le32(b->buf + 18), h = (int32_t)le32(b->buf + 22);
    b->bpp = le16(b->buf + 28);
    b->compression = le32(b->buf + 30);
    b->data = le32(b->buf + 10);
    if (w <= 0 || h == 0 || h == INT32_MIN)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: bad dimensions %dx%d", w, h);
    b->w = (uint64_t)w;
    b->top_down = h < 0;
    b->h = (uint64_t)(h < 0 ? -(int64_t)h : h);
    enum dp_status st = image_check_dims(b->w, b->h, opts, err);
    if (st != DP_OK)
        return st;
    if (le16(b->buf + 26) != 1)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: %u planes", le16(b->buf + 26));
    bool fields = b->compression == BI_BITFIELDS && (b->bpp == 16 || b->bpp == 32);
    if (b->compression != BI_RGB && !fields)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: compression %u not supported",
                            b->compression);
    if (b->bpp != 1 && b->bpp != 4 && b->bpp != 8 && b->bpp != 16 && b->bpp != 24 &&
        b->bpp != 32)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: %u bits a pixel not supported", b->bpp);
    st = b->bpp <= 8 ? read_palette(b, hs, err) : b->bpp != 24 ? read_masks(b, hs, err) : DP_OK;
    if (st != DP_OK)
        return st;
    b->row_bytes = (b->w * b->bpp + 31) / 32 * 4; /* w < 2^32, bpp <= 32: no overflow */
    if (b->data > b->len || b->row_bytes > (b->len - b->data) / b->h)
        return dp_error_set(err, DP_ERR_PARSE, 0, "BMP: pixel data truncated");
    return DP_OK;
}

static bool palette_grey(const struct bmp *b)
{
    for (unsigned i = 0; i < b->npal; i++) {
        uint32_t c = b->pal[i];
        if ((c >> 16 & 0xff) != (c & 0xff) || (c >> 8 & 0xff) != (c & 0xff))
            return false;
    }
    return true;
}

static void put(uint8_t *dst, int channels, uint32_t rgb)
{
    if (channels == 1) {
        dst[0] = (uint8_t)rgb;
    } else {
        dst[0] = (uint8_t)(rgb >> 16), dst[1] = (uint8_t)(rgb >> 8), dst[2] = (uint8_t)rgb;
    }
}

static void decode_row(const struct bmp *b, const uint8_t *src, uint8_t *dst, int channels)
{
    for (size_t x = 0; x < b->w; x++, dst += channels) {
        if (b->bpp <= 8) {
            size_t bit = x * b->bpp;
            unsigned i = (src[bit / 8] >> (8 - b->bpp - bit % 8)) & ((1u << b->bpp) - 1);
            put(dst, channels, i < b->npal ? b->pal[i] : 0); /* out of range: black */
        } else if (b->bpp == 24) {
            const uint8_t *p = src + 3 * x;
            put(dst, channels, (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]);
        } else {
            uint32_t px = b->bpp == 16 ? le16(src + 2 * x) : le32(src + 4 * x);
            dst[0] = channel(px, b->mask[0]);
            dst[1] = channel(px, b->mask[1]);
            dst[2] = channel(px, b->mask[2]);
        }
    }
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    struct bmp b;
    memset(&b, 0, sizeof(b));
    b.buf = buf;
    b.len = len;
    enum dp_status st = parse_header(&b, opts, err);
    if (st != DP_OK)
        return st;
    out->full_w = (size_t)b.w;
    out->full_h = (size_t)b.h;
    int channels = b.bpp <= 8 && palette_grey(&b) ? 1 : 3;
    if ((st = image_alloc(out, (size_t)b.w, (size_t)b.h, channels, err)) != DP_OK)
        return st;
    for (size_t y = 0; y < out->h; y++) {
        size_t row = b.top_down ? y : out->h - 1 - y;
        decode_row(&b, buf + b.data + row * b.row_bytes, out->pix + y * out->stride, channels);
    }
    return DP_OK;
}

static const char *version(void)
{
    return "bmp (built in)";
}

const struct image_decoder image_bmp = {DP_IMAGE_BMP, "bmp", sniff, decode, version};
