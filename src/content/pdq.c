/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: PDQ perceptual hashing, written from the algorithm's published description and made
 * to reproduce Meta's reference hasher bit for bit: the same single-precision arithmetic in the
 * same order (luma, two X/Y passes of a box filter, decimation to 64x64, the quality metric,
 * a 16x16 DCT without DC, bits above the median). */
#include "deprive/pdq.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MIN_DIM 5   /* smaller images hash to zero, quality 0 */
#define DOWN 64     /* the blurred image is sampled to 64x64 */
#define NDCT 16     /* the 16x16 lowest non-DC frequencies */
#define JAROSZ_PASSES 2

static const char *const variant_names[DP_PDQ_VARIANTS] = {
    "original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1", "flipminus1",
};

const char *dp_pdq_variant_name(enum dp_pdq_variant v)
{
    if ((unsigned)v >= DP_PDQ_VARIANTS)
        dp_misuse("dp_pdq_variant_name: bad variant");
    return variant_names[v];
}

/* ---- the DCT matrix: 16 rows (frequencies 1..16) of 64 ---- */

static float dct[NDCT][DOWN];
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void dct_init(void)
{
    const double pi = 3.14159265358979323846;
    const float scale = (float)sqrt(2.0 / DOWN);
    for (int i = 0; i < NDCT; i++)
        for (int j = 0; j < DOWN; j++)
            dct[i][j] = (float)(scale * cos((pi / 2.0 / DOWN) * (i + 1) * (2 * j + 1)));
}

/* ---- blur and decimate ---- */

/* Window of each box pass: ceil(old / (2 * 64)), two passes making a tent of one 64th. */
static size_t window_of(size_t old)
{
    return (old + 2 * DOWN - 1) / (2 * DOWN);
}

/* One box filter along a vector of n values `stride` apart: the running mean over a window
 * centred on each output, shrinking at the edges (sum kept in single precision, as the
 * reference does). */
static void box1d(const float *in, float *out, size_t n, size_t stride, size_t win)
{
    size_t half = (win + 2) / 2;
    size_t li = 0, ri = 0, oi = 0;
    float sum = 0.0f;
    int cur = 0;
    for (size_t i = 0; i + 1 < half; i++, ri += stride)
        sum += in[ri], cur++;
    for (size_t i = 0; i < win - half + 1; i++, ri += stride, oi += stride) {
        sum += in[ri];
        cur++;
        out[oi] = sum / (float)cur;
    }
    for (size_t i = 0; i + win < n; i++, li += stride, ri += stride, oi += stride) {
        sum += in[ri];
        sum -= in[li];
        out[oi] = sum / (float)cur;
    }
    for (size_t i = 0; i + 1 < half; i++, li += stride, oi += stride) {
        sum -= in[li];
        cur--;
        out[oi] = sum / (float)cur;
    }
}

static void jarosz(float *a, float *b, size_t rows, size_t cols)
{
    size_t wr = window_of(cols), wc = window_of(rows);
    for (int pass = 0; pass < JAROSZ_PASSES; pass++) {
        for (size_t i = 0; i < rows; i++)
            box1d(a + i * cols, b + i * cols, cols, 1, wr);
        for (size_t j = 0; j < cols; j++)
            box1d(b + j, a + j, rows, cols, wc);
    }
}

static void decimate(const float *in, size_t rows, size_t cols, float out[DOWN][DOWN])
{
    for (int i = 0; i < DOWN; i++) {
        size_t ii = (size_t)(((i + 0.5) * (double)rows) / DOWN);
        for (int j = 0; j < DOWN; j++) {
            size_t jj = (size_t)(((j + 0.5) * (double)cols) / DOWN);
            out[i][j] = in[ii * cols + jj];
        }
    }
}

/* ---- quality, DCT, bits ---- */

static int quality_of(float a[DOWN][DOWN])
{
    int sum = 0;
    for (int i = 0; i < DOWN - 1; i++)
        for (int j = 0; j < DOWN; j++)
            sum += abs((int)(((a[i][j] - a[i + 1][j]) * 100) / 255));
    for (int i = 0; i < DOWN; i++)
        for (int j = 0; j < DOWN - 1; j++)
            sum += abs((int)(((a[i][j] - a[i][j + 1]) * 100) / 255));
    int q = sum / 90;
    return q > 100 ? 100 : q;
}

/* out = D a D^T, accumulated in single precision in the reference's order. */
static void dct_16(float a[DOWN][DOWN], float out[NDCT][NDCT])
{
    static _Thread_local float t[NDCT][DOWN];
    for (int i = 0; i < NDCT; i++) {
        for (int j = 0; j < DOWN; j++) {
            float s = 0.0f;
            for (int k = 0; k < DOWN; k++)
                s += dct[i][k] * a[k][j];
            t[i][j] = s;
        }
    }
    for (int i = 0; i < NDCT; i++) {
        for (int j = 0; j < NDCT; j++) {
            float s = 0.0f;
            for (int k = 0; k < DOWN; k++)
                s += t[i][k] * dct[j][k];
            out[i][j] = s;
        }
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Bit (i, j) is set when coefficient (i, j) is above the median: the 128th smallest of the 256
 * (what the reference's Torben selection returns). Bit k = 16 i + j lives in 16-bit word i, bit
 * j, and word 15 is printed first. */
static void to_bits(float c[NDCT][NDCT], struct dp_pdq *h)
{
    float sorted[NDCT * NDCT];
    memcpy(sorted, c, sizeof(sorted));
    qsort(sorted, NDCT * NDCT, sizeof(float), cmp_float);
    float median = sorted[(NDCT * NDCT + 1) / 2 - 1];
    memset(h, 0, sizeof(*h));
    for (int i = 0; i < NDCT; i++)
        for (int j = 0; j < NDCT; j++)
            if (c[i][j] > median)
                h->b[2 * (15 - i) + (j < 8)] |= (uint8_t)(1u << (j & 7));
}

/* The seven other variants come from the original's coefficients: a transform of the image
 * permutes and negates DCT terms. sign(i, j) says which to negate, xpose whether to
 * transpose. */
static void variant(float c[NDCT][NDCT], enum dp_pdq_variant v, struct dp_pdq *h)
{
    float o[NDCT][NDCT];
    for (int i = 0; i < NDCT; i++) {
        for (int j = 0; j < NDCT; j++) {
            bool neg = false, xpose = false;
            switch (v) {
            case DP_PDQ_ROTATE_90: neg = !(j & 1), xpose = true; break;
            case DP_PDQ_ROTATE_180: neg = (i + j) & 1; break;
            case DP_PDQ_ROTATE_270: neg = !(i & 1), xpose = true; break;
            case DP_PDQ_FLIP_X: neg = !(i & 1); break;
            case DP_PDQ_FLIP_Y: neg = !(j & 1); break;
            case DP_PDQ_FLIP_PLUS_1: xpose = true; break;
            case DP_PDQ_FLIP_MINUS_1: neg = (i + j) & 1, xpose = true; break;
            case DP_PDQ_ORIGINAL:
            case DP_PDQ_VARIANTS: break;
            }
            float x = neg ? -c[i][j] : c[i][j];
            if (xpose)
                o[j][i] = x;
            else
                o[i][j] = x;
        }
    }
    to_bits(o, h);
}

enum dp_status dp_pdq_hash_luma(float *luma, size_t rows, size_t cols, bool dihedral,
                                struct dp_pdq_result *out, struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    if (luma == NULL || rows > SIZE_MAX / sizeof(float) / (cols ? cols : 1))
        return dp_error_set(err, DP_ERR_INVALID, 0, "pdq: bad image dimensions");
    if (rows < MIN_DIM || cols < MIN_DIM)
        return DP_OK;
    pthread_once(&dct_once, dct_init);
    float *tmp = malloc(rows * cols * sizeof(float));
    if (tmp == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    static _Thread_local float small[DOWN][DOWN];
    float c[NDCT][NDCT];
    jarosz(luma, tmp, rows, cols);
    decimate(luma, rows, cols, small);
    free(tmp);
    out->quality = quality_of(small);
    dct_16(small, c);
    to_bits(c, &out->hash[DP_PDQ_ORIGINAL]);
    for (int v = 1; dihedral && v < DP_PDQ_VARIANTS; v++)
        variant(c, (enum dp_pdq_variant)v, &out->hash[v]);
    return DP_OK;
}

/* The luminance plane the reference hashes: pixels resized to 512x512 by nearest neighbour
 * when a side is over 512 (source index floor(x * W / 512)). Heap; NULL on bad input or
 * memory (err set). */
static float *luma_of(const uint8_t *pix, size_t w, size_t h, size_t stride, int channels,
                      size_t *rows_out, size_t *cols_out, struct dp_error *err)
{
    if (pix == NULL || (channels != 1 && channels != 3) || w == 0 || h == 0 ||
        stride < w * (size_t)channels) {
        dp_error_set(err, DP_ERR_INVALID, 0, "pdq: bad pixel buffer");
        return NULL;
    }
    bool resize = w > DP_PDQ_MAX_DIM || h > DP_PDQ_MAX_DIM;
    size_t cols = resize ? DP_PDQ_MAX_DIM : w, rows = resize ? DP_PDQ_MAX_DIM : h;
    float *luma = malloc(rows * cols * sizeof(float));
    if (luma == NULL) {
        dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < rows; i++) {
        const uint8_t *row = pix + (resize ? i * h / rows : i) * stride;
        for (size_t j = 0; j < cols; j++) {
            const uint8_t *p = row + (resize ? j * w / cols : j) * (size_t)channels;
            luma[i * cols + j] =
                channels == 1 ? (float)p[0] : 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
        }
    }
    *rows_out = rows;
    *cols_out = cols;
    return luma;
}

enum dp_status dp_pdq_hash_pixels(const uint8_t *pix, size_t w, size_t h, size_t stride,
                                  int channels, bool dihedral, struct dp_pdq_result *out,
                                  struct dp_error *err)
{
    size_t rows, cols;
    float *luma = luma_of(pix, w, h, stride, channels, &rows, &cols, err);
    if (luma == NULL)
        return err != NULL && err->code != DP_OK ? err->code : DP_ERR_INVALID;
    enum dp_status st = dp_pdq_hash_luma(luma, rows, cols, dihedral, out, err);
    free(luma);
    return st;
}

/* out (rows x cols, or cols x rows for the turns that transpose) = in turned as variant v
 * means: the variant hash of in approximates the hash of out (measured against the
 * reference's coefficient permutations). */
static void turn(const float *in, size_t rows, size_t cols, enum dp_pdq_variant v, float *out)
{
    bool xpose = v == DP_PDQ_ROTATE_90 || v == DP_PDQ_ROTATE_270 || v == DP_PDQ_FLIP_PLUS_1 ||
                 v == DP_PDQ_FLIP_MINUS_1;
    size_t orows = xpose ? cols : rows, ocols = xpose ? rows : cols;
    for (size_t y = 0; y < orows; y++)
        for (size_t x = 0; x < ocols; x++) {
            size_t sy = y, sx = x;
            switch (v) {
            case DP_PDQ_ROTATE_90: sy = x, sx = cols - 1 - y; break;         /* 90 ccw */
            case DP_PDQ_ROTATE_180: sy = rows - 1 - y, sx = cols - 1 - x; break;
            case DP_PDQ_ROTATE_270: sy = rows - 1 - x, sx = y; break;        /* 90 cw */
            case DP_PDQ_FLIP_X: sy = rows - 1 - y; break;                    /* upside down */
            case DP_PDQ_FLIP_Y: sx = cols - 1 - x; break;                    /* mirrored */
            case DP_PDQ_FLIP_PLUS_1: sy = x, sx = y; break;                  /* transpose */
            case DP_PDQ_FLIP_MINUS_1: sy = rows - 1 - x, sx = cols - 1 - y; break;
            case DP_PDQ_ORIGINAL:
            case DP_PDQ_VARIANTS: break;
            }
            out[y * ocols + x] = in[sy * cols + sx];
        }
}

enum dp_status dp_pdq_hash_pixels_turned(const uint8_t *pix, size_t w, size_t h, size_t stride,
                                         int channels, struct dp_pdq_result *out,
                                         struct dp_error *err)
{
    size_t rows, cols;
    float *luma = luma_of(pix, w, h, stride, channels, &rows, &cols, err);
    if (luma == NULL)
        return err != NULL && err->code != DP_OK ? err->code : DP_ERR_INVALID;
    float *t = malloc(rows * cols * sizeof(float));
    enum dp_status st = t == NULL ? dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory") : DP_OK;
    memset(out, 0, sizeof(*out));
    for (int v = DP_PDQ_VARIANTS - 1; st == DP_OK && v >= 0; v--) {
        struct dp_pdq_result one;
        bool xpose = v == DP_PDQ_ROTATE_90 || v == DP_PDQ_ROTATE_270 ||
                     v == DP_PDQ_FLIP_PLUS_1 || v == DP_PDQ_FLIP_MINUS_1;
        turn(luma, rows, cols, (enum dp_pdq_variant)v, t); /* v 0 last: luma is scratch then */
        st = dp_pdq_hash_luma(v == 0 ? luma : t, xpose ? cols : rows, xpose ? rows : cols, false,
                              &one, err);
        out->hash[v] = one.hash[DP_PDQ_ORIGINAL];
        if (v == 0)
            out->quality = one.quality;
    }
    free(t);
    free(luma);
    return st;
}

/* ---- text and distance ---- */

void dp_pdq_hex(const struct dp_pdq *h, char out[DP_PDQ_HEX + 1])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < DP_PDQ_BYTES; i++) {
        out[2 * i] = d[h->b[i] >> 4];
        out[2 * i + 1] = d[h->b[i] & 15];
    }
    out[DP_PDQ_HEX] = '\0';
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

bool dp_pdq_parse(const char *hex, size_t len, struct dp_pdq *out)
{
    if (len != DP_PDQ_HEX)
        return false;
    for (int i = 0; i < DP_PDQ_BYTES; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out->b[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

int dp_pdq_distance(const struct dp_pdq *a, const struct dp_pdq *b)
{
    int d = 0;
    for (int i = 0; i < DP_PDQ_BYTES; i++)
        d += __builtin_popcount((unsigned)(a->b[i] ^ b->b[i]));
    return d;
}

int dp_pdq_min_distance(const struct dp_pdq_result *r, bool dihedral, const struct dp_pdq *target,
                        enum dp_pdq_variant *variant_out)
{
    int best = DP_PDQ_BYTES * 8 + 1;
    enum dp_pdq_variant bv = DP_PDQ_ORIGINAL;
    for (int v = 0; v < (dihedral ? DP_PDQ_VARIANTS : 1); v++) {
        int d = dp_pdq_distance(&r->hash[v], target);
        if (d < best)
            best = d, bv = (enum dp_pdq_variant)v;
    }
    if (variant_out != NULL)
        *variant_out = bv;
    return best;
}
