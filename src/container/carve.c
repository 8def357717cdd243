/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: carving - a finder that names where an image stream may start, fast enough to see
 * every byte the scan reads, and a validator that walks a stream's structure to its end
 * (include/deprive/carve.h). */
#include "deprive/carve.h"

#include <pthread.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const char *const kind_names[DP_CARVE_KIND_COUNT] = {"none", "jpeg", "png",
                                                            "gif",  "webp", "bmp"};

const char *dp_carve_kind_name(enum dp_carve_kind k)
{
    return (unsigned)k < DP_CARVE_KIND_COUNT ? kind_names[k] : NULL;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

/* ---- header checks: what the finder and the validator both ask of a stream's first bytes ---- */

/* A start-of-frame marker (C0-CF except DHT C4, JPG C8, DAC CC). */
static bool jpeg_is_sof(unsigned m)
{
    return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* The shortest segment (length field included) a marker may have as the first after SOI;
 * 0: that marker does not follow SOI in a real file. */
static unsigned jpeg_first_min(unsigned m)
{
    if ((m >= 0xe0 && m <= 0xef) || m == 0xfe || m == 0xcc)
        return 2; /* APPn, COM, DAC */
    if (m == 0xdb)
        return 2 + 65; /* DQT: one 8-bit table */
    if (m == 0xc4)
        return 2 + 17; /* DHT: class/id and 16 counts */
    if (m == 0xdd)
        return 4; /* DRI */
    if (jpeg_is_sof(m))
        return 8 + 3; /* one component */
    return 0;
}

/* FF D8 FF, maybe fill bytes, then a marker that can follow SOI with a length it can have. */
static bool jpeg_head(const uint8_t *p, size_t n)
{
    if (n < 6 || p[0] != 0xff || p[1] != 0xd8 || p[2] != 0xff)
        return false;
    size_t i = 3;
    while (i < 8 && i < n && p[i] == 0xff)
        i++;
    if (i + 3 > n)
        return false;
    unsigned min = jpeg_first_min(p[i]), len = be16(p + i + 1);
    return min > 0 && len >= min && (p[i] != 0xdd || len == 4);
}

/* IHDR's 13 data bytes: dimensions 1..2^31-1, a bit depth the colour type allows. */
static bool png_ihdr_ok(const uint8_t *d)
{
    /* allowed bit depths per colour type, bit d set for depth d */
    static const uint32_t depths[7] = {
        [0] = 1u << 1 | 1u << 2 | 1u << 4 | 1u << 8 | 1u << 16,
        [2] = 1u << 8 | 1u << 16,
        [3] = 1u << 1 | 1u << 2 | 1u << 4 | 1u << 8,
        [4] = 1u << 8 | 1u << 16,
        [6] = 1u << 8 | 1u << 16,
    };
    uint32_t w = be32(d), h = be32(d + 4);
    if (w - 1 >= 0x7fffffffu || h - 1 >= 0x7fffffffu)
        return false;
    if (d[9] > 6 || d[8] > 16 || !(depths[d[9]] >> d[8] & 1))
        return false;
    return d[10] == 0 && d[11] == 0 && d[12] <= 1;
}

/* The signature and a well-formed IHDR (its CRC is the validator's). */
static bool png_head(const uint8_t *p, size_t n)
{
    return n >= 8 + 8 + 13 && memcmp(p, png_sig, 8) == 0 &&
           memcmp(p + 8, "\0\0\0\x0dIHDR", 8) == 0 && png_ihdr_ok(p + 16);
}

/* GIF87a/GIF89a and a logical screen that is not empty. */
static bool gif_head(const uint8_t *p, size_t n)
{
    return n >= 10 && memcmp(p, "GIF8", 4) == 0 && (p[4] == '7' || p[4] == '9') && p[5] == 'a' &&
           le16(p + 6) > 0 && le16(p + 8) > 0;
}

/* RIFF, an even size, WEBP, a first chunk of a kind WebP starts with that fits in the size. */
static bool webp_head(const uint8_t *p, size_t n)
{
    if (n < 20 || memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WEBPVP8", 7) != 0)
        return false;
    uint32_t size = le32(p + 4), chunk = le32(p + 16);
    if (p[15] != ' ' && p[15] != 'L' && p[15] != 'X')
        return false;
    return (size & 1) == 0 && size >= 12 && chunk <= size - 12;
}

static bool bmp_dib_size_ok(uint32_t hs)
{
    return hs == 12 || hs == 40 || hs == 52 || hs == 56 || hs == 64 || hs == 108 || hs == 124;
}

/* "BM", reserved fields zero, a pixel offset past the headers and inside the file, a DIB header
 * of a size writers use, dimensions, one plane and a usual bit count. The cheapest tests that
 * reject text ("BM" followed by letters) come first. */
static bool bmp_head(const uint8_t *p, size_t n)
{
    if (n < 26 || p[0] != 'B' || p[1] != 'M' || le32(p + 6) != 0)
        return false;
    uint32_t size = le32(p + 2), off = le32(p + 10), hs = le32(p + 14);
    if (!bmp_dib_size_ok(hs) || off < 14 + hs || off >= size)
        return false;
    if (hs == 12) { /* OS/2 core header: 16-bit dimensions */
        unsigned bpp = le16(p + 24);
        return le16(p + 18) > 0 && le16(p + 20) > 0 && le16(p + 22) == 1 &&
               (bpp == 1 || bpp == 4 || bpp == 8 || bpp == 24);
    }
    if (n < 30)
        return false;
    int32_t w = (int32_t)le32(p + 18), h = (int32_t)le32(p + 22);
    unsigned bpp = le16(p + 28);
    return w > 0 && h != 0 && h != INT32_MIN && le16(p + 26) == 1 &&
           (bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32);
}

/* ---- the finder ---- */

/* Every signature's second byte plus one, indexed by its first (0: no signature starts so):
 * the scan looks for these pairs, and only a pair costs a header check. */
static const uint16_t second_byte[256] = {
    [0xff] = 0xd8 + 1, [0x89] = 'P' + 1, ['G'] = 'I' + 1, ['R'] = 'I' + 1, ['B'] = 'M' + 1,
};

/* The kind of stream whose header starts at p (n bytes of it seen, n <= LOOKAHEAD). */
static enum dp_carve_kind head_kind(const uint8_t *p, size_t n)
{
    switch (p[0]) {
    case 0xff:
        return jpeg_head(p, n) ? DP_CARVE_JPEG : DP_CARVE_NONE;
    case 0x89:
        return png_head(p, n) ? DP_CARVE_PNG : DP_CARVE_NONE;
    case 'G':
        return gif_head(p, n) ? DP_CARVE_GIF : DP_CARVE_NONE;
    case 'R':
        return webp_head(p, n) ? DP_CARVE_WEBP : DP_CARVE_NONE;
    case 'B':
        return bmp_head(p, n) ? DP_CARVE_BMP : DP_CARVE_NONE;
    default:
        return DP_CARVE_NONE;
    }
}

static void examine(const uint8_t *p, size_t n, uint64_t off, dp_carve_cb cb, void *ctx)
{
    if (n < 2 || second_byte[p[0]] != p[1] + 1u)
        return;
    enum dp_carve_kind k = head_kind(p, n);
    if (k != DP_CARVE_NONE)
        cb(ctx, off, k);
}

/* Positions [0, count) of b, each with LOOKAHEAD bytes readable from it. Sixteen positions at
 * a time: their first bytes compared with each signature's first byte, the bytes after them
 * with its second, the five pairs or-ed into one mask - random data has a pair about once in
 * 13 KB, licence texts (GI, RI, BM in capitals) and image files about once in 2 KB, so the
 * mask is nearly always zero and a byte costs about one vector instruction. */
static void scan(const uint8_t *b, size_t count, uint64_t base, dp_carve_cb cb, void *ctx)
{
    size_t i = 0;
#ifdef __SSE2__
    const __m128i c_ff = _mm_set1_epi8((char)0xff), c_d8 = _mm_set1_epi8((char)0xd8);
    const __m128i c_89 = _mm_set1_epi8((char)0x89), c_p = _mm_set1_epi8('P');
    const __m128i c_g = _mm_set1_epi8('G'), c_r = _mm_set1_epi8('R'), c_i = _mm_set1_epi8('I');
    const __m128i c_b = _mm_set1_epi8('B'), c_m = _mm_set1_epi8('M');
    /* b[i + 16] is read: within the look-ahead of position i + 15 */
    for (; i + 16 <= count; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)(b + i + 1));
        __m128i h = _mm_and_si128(_mm_cmpeq_epi8(x, c_ff), _mm_cmpeq_epi8(y, c_d8));
        h = _mm_or_si128(h, _mm_and_si128(_mm_cmpeq_epi8(x, c_89), _mm_cmpeq_epi8(y, c_p)));
        __m128i gr = _mm_or_si128(_mm_cmpeq_epi8(x, c_g), _mm_cmpeq_epi8(x, c_r));
        h = _mm_or_si128(h, _mm_and_si128(gr, _mm_cmpeq_epi8(y, c_i)));
        h = _mm_or_si128(h, _mm_and_si128(_mm_cmpeq_epi8(x, c_b), _mm_cmpeq_epi8(y, c_m)));
        unsigned m = (unsigned)_mm_movemask_epi8(h);
        while (m != 0) {
            size_t p = i + (size_t)__builtin_ctz(m);
            m &= m - 1;
            examine(b + p, DP_CARVE_LOOKAHEAD, base + p, cb, ctx);
        }
    }
#endif
    for (; i < count; i++)
        if (second_byte[b[i]] == b[i + 1] + 1u)
            examine(b + i, DP_CARVE_LOOKAHEAD, base + i, cb, ctx);
}

void dp_carve_finder_init(struct dp_carve_finder *f)
{
    memset(f, 0, sizeof(*f));
}

/* A position is examined once the LOOKAHEAD bytes from it have been fed, so the same bytes are
 * examined whatever the pieces: the tail keeps the last LOOKAHEAD - 1 bytes (the positions not
 * yet examined) and is joined to the head of the next piece. */
void dp_carve_feed(struct dp_carve_finder *f, const uint8_t *buf, size_t len, dp_carve_cb cb,
                   void *ctx)
{
    enum { K = DP_CARVE_LOOKAHEAD, KEEP = DP_CARVE_LOOKAHEAD - 1 };
    size_t t = f->tail_len;
    uint8_t j[2 * K];
    size_t add = len < KEEP ? len : KEEP;
    memcpy(j, f->tail, t);
    if (add > 0)
        memcpy(j + t, buf, add);
    size_t jl = t + add, done = 0;
    if (jl >= K)
        done = jl - K + 1 < t ? jl - K + 1 : t;
    for (size_t q = 0; q < done; q++)
        examine(j + q, K, f->fed - t + q, cb, ctx);
    if (len >= K) { /* every tail position is done (add == KEEP); the piece's own next */
        scan(buf, len - K + 1, f->fed, cb, ctx);
        memcpy(f->tail, buf + len - KEEP, KEEP);
        f->tail_len = KEEP;
    } else {
        f->tail_len = jl - done;
        memmove(f->tail, j + done, f->tail_len);
    }
    f->fed += len;
}

void dp_carve_finish(struct dp_carve_finder *f, dp_carve_cb cb, void *ctx)
{
    size_t t = f->tail_len;
    for (size_t q = 0; q < t; q++)
        examine(f->tail + q, t - q, f->fed - t + q, cb, ctx);
    f->tail_len = 0;
}

/* ---- the validator ---- */

struct win {
    const uint8_t *b;
    size_t lim; /* bytes that may be read and be part of the stream: min(avail, max_len) */
    size_t avail;
    bool at_end;
    uint64_t max_len;
};

/* How far a stream whose end is not known yet is asked to grow at least: doubling keeps a
 * caller that retries with *len linear overall. */
#define GROW_MIN 4096

/* The structure needs the bytes before `need` and b holds fewer. exact: the stream ends at need
 * (its length is known); else more bytes will likely be wanted after those. */
static enum dp_carve_verdict short_of(const struct win *w, uint64_t need, bool exact, uint64_t *len)
{
    if (need > w->max_len || w->at_end)
        return DP_CARVE_NO;
    uint64_t next = need;
    if (!exact) {
        uint64_t g = (uint64_t)w->avail * 2 > GROW_MIN ? (uint64_t)w->avail * 2 : GROW_MIN;
        next = g > need ? g : need;
        next = next < w->max_len ? next : w->max_len;
    }
    *len = next;
    return DP_CARVE_MORE;
}

static enum dp_carve_verdict complete(uint64_t end, uint64_t *len)
{
    if (end < DP_CARVE_MIN_STREAM)
        return DP_CARVE_NO;
    *len = end;
    return DP_CARVE_OK;
}

/* Entropy-coded data from *pos: true with *pos at the FF of the marker ending it; false when
 * the bytes run out first. FF 00 (a stuffed FF), RSTn and fill FFs are part of the data. */
static bool jpeg_entropy(const uint8_t *b, size_t lim, size_t *pos)
{
    size_t p = *pos;
    while (p < lim) {
        const uint8_t *q = memchr(b + p, 0xff, lim - p);
        if (q == NULL)
            break;
        p = (size_t)(q - b) + 1;
        while (p < lim && b[p] == 0xff)
            p++;
        if (p >= lim)
            break;
        if (b[p] != 0 && (b[p] < 0xd0 || b[p] > 0xd7)) {
            *pos = p - 1;
            return true;
        }
        p++;
    }
    return false;
}

/* A segment's own checks (s at its length field, len bytes): SOF and SOS count their
 * components, DRI and DNL have fixed lengths. */
static bool jpeg_segment_ok(unsigned m, const uint8_t *s, unsigned len)
{
    if (jpeg_is_sof(m))
        return len >= 11 && s[2] >= 2 && s[2] <= 16 && be16(s + 5) > 0 && s[7] >= 1 &&
               len == 8 + 3u * s[7];
    if (m == 0xda)
        return len >= 8 && s[2] >= 1 && s[2] <= 4 && len == 6 + 2u * s[2];
    if (m == 0xdd || m == 0xdc)
        return len == 4;
    return len >= 2;
}

/* SOI, then marker segments by their lengths; after each SOS the entropy-coded data up to the
 * next marker; EOI after a frame and a scan ends it. */
static enum dp_carve_verdict jpeg_walk(const struct win *w, uint64_t *len)
{
    const uint8_t *b = w->b;
    size_t pos = 2;
    bool sof = false, sos = false;
    if (w->lim < 2)
        return short_of(w, 2, false, len);
    if (b[0] != 0xff || b[1] != 0xd8)
        return DP_CARVE_NO;
    for (;;) {
        if (pos >= w->lim)
            return short_of(w, (uint64_t)pos + 1, false, len);
        if (b[pos] != 0xff)
            return DP_CARVE_NO;
        while (pos < w->lim && b[pos] == 0xff)
            pos++;
        if (pos >= w->lim)
            return short_of(w, (uint64_t)pos + 1, false, len);
        unsigned m = b[pos++];
        if (m == 0xd9)
            return sos ? complete(pos, len) : DP_CARVE_NO;
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd7)) /* TEM, RSTn: no length */
            continue;
        if (m < 0xc0 || m == 0xd8 || (jpeg_is_sof(m) && sof) || (m == 0xda && !sof))
            return DP_CARVE_NO;
        if ((uint64_t)pos + 2 > w->lim)
            return short_of(w, (uint64_t)pos + 2, false, len);
        unsigned seg = be16(b + pos);
        if (seg < 2)
            return DP_CARVE_NO;
        if ((uint64_t)pos + seg > w->lim)
            return short_of(w, (uint64_t)pos + seg, false, len);
        if (!jpeg_segment_ok(m, b + pos, seg))
            return DP_CARVE_NO;
        pos += seg;
        sof = sof || jpeg_is_sof(m);
        if (m == 0xda) {
            sos = true;
            if (!jpeg_entropy(b, w->lim, &pos))
                return short_of(w, (uint64_t)w->lim + 1, false, len);
        }
    }
}

/* ---- CRC-32 (ISO-HDLC, as PNG uses), slicing by 8 ---- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++)
            crc_table[t][n] = crc_table[0][crc_table[t - 1][n] & 0xff] ^ (crc_table[t - 1][n] >> 8);
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    uint32_t c = 0xffffffffu;
    for (; n >= 8; p += 8, n -= 8) {
        uint32_t lo = c ^ le32(p), hi = le32(p + 4);
        c = crc_table[7][lo & 0xff] ^ crc_table[6][lo >> 8 & 0xff] ^ crc_table[5][lo >> 16 & 0xff] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xff] ^ crc_table[2][hi >> 8 & 0xff] ^
            crc_table[1][hi >> 16 & 0xff] ^ crc_table[0][hi >> 24];
    }
    while (n-- > 0)
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static bool png_type_ok(const uint8_t *t)
{
    for (int i = 0; i < 4; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
            return false;
    return true;
}

/* The signature, IHDR first, chunks with letters for a type and a right CRC, IDAT before
 * IEND; the stream ends after IEND's CRC. */
static enum dp_carve_verdict png_walk(const struct win *w, uint64_t *len)
{
    const uint8_t *b = w->b;
    size_t pos = 8;
    bool idat = false;
    if (w->lim < 8)
        return short_of(w, 8, false, len);
    if (memcmp(b, png_sig, 8) != 0)
        return DP_CARVE_NO;
    for (;;) {
        if ((uint64_t)pos + 8 > w->lim)
            return short_of(w, (uint64_t)pos + 8, false, len);
        uint32_t n = be32(b + pos);
        const uint8_t *type = b + pos + 4;
        if (n > 0x7fffffffu || !png_type_ok(type) || (pos == 8) != (memcmp(type, "IHDR", 4) == 0))
            return DP_CARVE_NO;
        uint64_t end = (uint64_t)pos + 12 + n;
        if (end > w->lim)
            return short_of(w, end, false, len);
        if (crc32_of(type, 4 + (size_t)n) != be32(type + 4 + n))
            return DP_CARVE_NO;
        if (pos == 8 && (n != 13 || !png_ihdr_ok(type + 4)))
            return DP_CARVE_NO;
        if (memcmp(type, "IDAT", 4) == 0)
            idat = true;
        if (memcmp(type, "IEND", 4) == 0)
            return n == 0 && idat ? complete(end, len) : DP_CARVE_NO;
        pos = (size_t)end;
    }
}

/* Data sub-blocks from *pos: true with *pos after the terminator; false (with *pos the byte
 * needed) when the bytes run out. */
static bool gif_sub_blocks(const uint8_t *b, size_t lim, uint64_t *pos)
{
    uint64_t p = *pos;
    for (;;) {
        if (p >= lim) {
            *pos = p + 1;
            return false;
        }
        unsigned n = b[p];
        p += 1 + n;
        if (n == 0) {
            *pos = p;
            return true;
        }
    }
}

static uint64_t gif_colour_table(unsigned flags)
{
    return flags & 0x80 ? 3u << ((flags & 7) + 1) : 0;
}

/* Header, logical screen, global colour table, then extensions and images (each with its
 * sub-blocks) up to the trailer, after at least one image. */
static enum dp_carve_verdict gif_walk(const struct win *w, uint64_t *len)
{
    const uint8_t *b = w->b;
    if (w->lim < 13)
        return short_of(w, 13, false, len);
    if (!gif_head(b, 13))
        return DP_CARVE_NO;
    uint64_t pos = 13 + gif_colour_table(b[10]);
    unsigned images = 0;
    for (;;) {
        if (pos >= w->lim)
            return short_of(w, pos + 1, false, len);
        switch (b[pos]) {
        case 0x21: /* extension: label, sub-blocks */
            pos += 2;
            break;
        case 0x2c: /* image: descriptor, local colour table, LZW code size, sub-blocks */
            if (pos + 10 > w->lim)
                return short_of(w, pos + 10, false, len);
            pos += 10 + gif_colour_table(b[pos + 9]);
            if (pos >= w->lim)
                return short_of(w, pos + 1, false, len);
            if (b[pos] < 1 || b[pos] > 11)
                return DP_CARVE_NO;
            pos++;
            images++;
            break;
        case 0x3b:
            return images > 0 ? complete(pos + 1, len) : DP_CARVE_NO;
        default:
            return DP_CARVE_NO;
        }
        if (!gif_sub_blocks(b, w->lim, &pos))
            return short_of(w, pos, false, len);
    }
}

static bool fourcc_ok(const uint8_t *t)
{
    for (int i = 0; i < 4; i++)
        if (t[i] < 0x20 || t[i] > 0x7e)
            return false;
    return true;
}

/* The first chunk (at 12, its header and first bytes within total) is one a WebP starts with,
 * with its own signature. */
static bool webp_first_ok(const uint8_t *b, uint64_t total)
{
    uint32_t n = le32(b + 16);
    if (!webp_head(b, 20) || 20 + (uint64_t)n > total)
        return false;
    switch (b[15]) {
    case 'L':
        return n >= 5 && b[20] == 0x2f;
    case 'X':
        return n == 10;
    default: /* VP8: a frame tag, then the key frame's start code */
        return n >= 10 && b[23] == 0x9d && b[24] == 0x01 && b[25] == 0x2a;
    }
}

/* RIFF's size says where the stream ends; its chunks must tile it exactly. */
static enum dp_carve_verdict webp_walk(const struct win *w, uint64_t *len)
{
    const uint8_t *b = w->b;
    if (w->lim < 30)
        return short_of(w, 30, false, len);
    uint64_t total = (uint64_t)le32(b + 4) + 8;
    if (!webp_first_ok(b, total) || total < DP_CARVE_MIN_STREAM)
        return DP_CARVE_NO;
    if (total > w->lim)
        return short_of(w, total, true, len);
    uint64_t pos = 12;
    while (pos < total) {
        if (pos + 8 > total || !fourcc_ok(b + pos))
            return DP_CARVE_NO;
        uint32_t n = le32(b + pos + 4);
        pos += 8 + (uint64_t)n + (n & 1);
    }
    return pos == total ? complete(total, len) : DP_CARVE_NO;
}

/* The header's file size is the length: past the pixel offset, and for uncompressed pixels at
 * least their rows (each padded to 4 bytes). */
static enum dp_carve_verdict bmp_walk(const struct win *w, uint64_t *len)
{
    const uint8_t *b = w->b;
    if (w->lim < 18)
        return short_of(w, 18, false, len);
    uint32_t hs = le32(b + 14);
    if (!bmp_dib_size_ok(hs))
        return DP_CARVE_NO;
    if (14 + hs > w->lim)
        return short_of(w, 14 + hs, false, len);
    if (!bmp_head(b, 14 + hs))
        return DP_CARVE_NO;
    uint64_t size = le32(b + 2), off = le32(b + 10), wd, ht, bpp, comp = 0;
    if (hs == 12) {
        wd = le16(b + 18), ht = le16(b + 20), bpp = le16(b + 24);
    } else {
        int64_t h = (int32_t)le32(b + 22);
        wd = le32(b + 18), ht = (uint64_t)(h < 0 ? -h : h);
        bpp = le16(b + 28), comp = le32(b + 30);
        bool rle = comp == 1 || comp == 2;
        if ((rle && (h < 0 || bpp != (comp == 1 ? 8 : 4))) ||
            ((comp == 3 || comp == 6) && bpp != 16 && bpp != 32) || (comp > 3 && comp != 6))
            return DP_CARVE_NO;
    }
    if (comp != 1 && comp != 2) {
        uint64_t row = (wd * bpp + 31) / 32 * 4; /* wd < 2^31, bpp <= 32: no overflow */
        if (ht > (size - off) / row)
            return DP_CARVE_NO;
    }
    if (size > w->max_len || size < DP_CARVE_MIN_STREAM)
        return DP_CARVE_NO;
    if (size > w->lim)
        return short_of(w, size, true, len);
    return complete(size, len);
}

enum dp_carve_verdict dp_carve_validate(enum dp_carve_kind k, const uint8_t *b, size_t avail,
                                        bool at_end, uint64_t max_len, uint64_t *len)
{
    struct win w = {b, avail < max_len ? avail : (size_t)max_len, avail, at_end, max_len};
    switch (k) {
    case DP_CARVE_JPEG:
        return jpeg_walk(&w, len);
    case DP_CARVE_PNG:
        return png_walk(&w, len);
    case DP_CARVE_GIF:
        return gif_walk(&w, len);
    case DP_CARVE_WEBP:
        return webp_walk(&w, len);
    case DP_CARVE_BMP:
        return bmp_walk(&w, len);
    default:
        return DP_CARVE_NO;
    }
}
