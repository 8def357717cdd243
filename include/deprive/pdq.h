/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: PDQ, the 256-bit perceptual image hash StopNCII and ThreatExchange exchange,
 * computed exactly as Meta's reference does (src/content/pdq.c), with its quality metric and the
 * eight dihedral variants (rotations and flips) from one DCT. */
#ifndef DEPRIVE_PDQ_H
#define DEPRIVE_PDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

#define DP_PDQ_BYTES 32
#define DP_PDQ_HEX 64
/* A match: Hamming distance at most this (the reference's and StopNCII's default). */
#define DP_PDQ_THRESHOLD 31
/* Below this quality a hash is unreliable (flat or tiny images). */
#define DP_PDQ_MIN_QUALITY 50
/* Images larger than this on either side are first resized to it by nearest neighbour, as
 * the reference hasher does. */
#define DP_PDQ_MAX_DIM 512

/* A hash as 32 bytes in the order of its hex text (the reference prints 16-bit word 15
 * first): byte 0 is the first two hex digits. */
struct dp_pdq {
    uint8_t b[DP_PDQ_BYTES];
};

/* The dihedral transforms, in the reference's order. */
enum dp_pdq_variant {
    DP_PDQ_ORIGINAL = 0,
    DP_PDQ_ROTATE_90,
    DP_PDQ_ROTATE_180,
    DP_PDQ_ROTATE_270,
    DP_PDQ_FLIP_X,
    DP_PDQ_FLIP_Y,
    DP_PDQ_FLIP_PLUS_1,  /* transpose */
    DP_PDQ_FLIP_MINUS_1, /* anti-transpose */
    DP_PDQ_VARIANTS
};
/* "original", "rotate90", "rotate180", "rotate270", "flipx", "flipy", "flipplus1",
 * "flipminus1". */
const char *dp_pdq_variant_name(enum dp_pdq_variant v);

struct dp_pdq_result {
    struct dp_pdq hash[DP_PDQ_VARIANTS]; /* hash[DP_PDQ_ORIGINAL] always; the rest when asked */
    int quality;                         /* 0..100 */
};

/* Hash an image given as 8-bit RGB (rgb: h rows of w pixels, row stride bytes apart, 3 bytes a
 * pixel) or grey (channels 1). Images over DP_PDQ_MAX_DIM on a side are resized to 512x512 by
 * nearest neighbour first; images under 5 pixels on a side get the all-zero hash and quality
 * 0, as in the reference. dihedral: also fill the seven other variants. Thread-safe; allocates
 * up to 2 MiB of scratch. DP_ERR_NOMEM, DP_ERR_INVALID (bad arguments). */
enum dp_status dp_pdq_hash_pixels(const uint8_t *pix, size_t w, size_t h, size_t stride,
                                  int channels, bool dihedral, struct dp_pdq_result *out,
                                  struct dp_error *err) DP_WUR;

/* The variant hashes above are the reference's: computed from the unturned image's DCT, which
 * approximates hashing the turned image - exactly for some turns, within about 16 bits for
 * those that mirror the x axis (the reference's filters and sampling are not symmetric), so a
 * copy turned 180 degrees can land just outside the radius. This computes hash[v] from the
 * pixels actually turned as variant v describes (hash[DP_PDQ_ORIGINAL] as dp_pdq_hash_pixels):
 * seven more hashes, for deciding near misses. Same arguments and errors. */
enum dp_status dp_pdq_hash_pixels_turned(const uint8_t *pix, size_t w, size_t h, size_t stride,
                                         int channels, struct dp_pdq_result *out,
                                         struct dp_error *err) DP_WUR;
/* The same from a luminance plane (rows x cols floats, row-major; overwritten as scratch). */
enum dp_status dp_pdq_hash_luma(float *luma, size_t rows, size_t cols, bool dihedral,
                                struct dp_pdq_result *out, struct dp_error *err) DP_WUR;

/* Hex text (64 lower-case digits + NUL) in the reference's word order. */
void dp_pdq_hex(const struct dp_pdq *h, char out[DP_PDQ_HEX + 1]);
/* Parse 64 hex digits (either case); false when malformed. */
bool dp_pdq_parse(const char *hex, size_t len, struct dp_pdq *out) DP_WUR;
/* Hamming distance (0..256). */
int dp_pdq_distance(const struct dp_pdq *a, const struct dp_pdq *b);
/* The smallest distance from target to any of the variants of r (all eight when dihedral,
 * else the original); *variant receives which. */
int dp_pdq_min_distance(const struct dp_pdq_result *r, bool dihedral, const struct dp_pdq *target,
                        enum dp_pdq_variant *variant);

#endif
