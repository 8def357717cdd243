/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: decoding images from memory, chosen by content (never by file name), bounded -
 * dimensions are read from the header and checked before any pixel is decoded. One file per
 * decoder behind a table (src/content/image*.c). */
#ifndef DEPRIVE_IMAGE_H
#define DEPRIVE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

enum dp_image_format {
    DP_IMAGE_NONE = 0, /* not an image deprive decodes */
    DP_IMAGE_JPEG,
    DP_IMAGE_PNG,
    DP_IMAGE_WEBP,
    DP_IMAGE_GIF,
    DP_IMAGE_BMP,
    DP_IMAGE_TIFF,
    DP_IMAGE_HEIF, /* HEIC and AVIF */
    DP_IMAGE_FORMAT_COUNT
};
/* "none", "jpeg", "png", "webp", "gif", "bmp", "tiff", "heif". */
const char *dp_image_format_name(enum dp_image_format f);

/* The format from the first bytes (signatures), DP_IMAGE_NONE when none matches. */
enum dp_image_format dp_image_sniff(const uint8_t *buf, size_t len);

#define DP_IMAGE_MAX_PIXELS_DEFAULT (100ull * 1000 * 1000) /* --max-pixels: 100 MP */

struct dp_image_opts {
    uint64_t max_pixels; /* declared width x height above this: refused before decoding
                            (0 = DP_IMAGE_MAX_PIXELS_DEFAULT) */
    unsigned min_side;   /* 0: full decode. Else JPEG may decode at the smallest M/8 scale
                            that keeps both sides >= min_side (faster; PDQ resizes anyway) */
};

/* Decoded pixels, 8 bits a sample, alpha dropped: grey images stay grey (channels 1), every
 * other kind is RGB (channels 3), as the PDQ reference reads them. */
struct dp_image {
    enum dp_image_format format;
    uint8_t *pix;            /* h rows, stride bytes apart */
    size_t w, h, stride;
    int channels;            /* 1 or 3 */
    size_t full_w, full_h;   /* the image's declared size (w, h are smaller when scaled) */
    bool scaled;
};

/* Decode buf (a whole file or embedded stream). Animated GIF and WebP give their first frame
 * (on its canvas); HEIF/AVIF the primary image; TIFF the first directory. DP_ERR_UNSUPPORTED:
 * not a known format; DP_ERR_LIMIT: declared dimensions over the limit (nothing decoded), or
 * HEIF/AVIF only, decoded in a child process: its memory limit or 60 s timeout hit;
 * DP_ERR_PARSE: truncated or corrupt (the message says what the decoder said; HEIF: also a
 * crashed decoder); DP_ERR_NOMEM; DP_ERR_IO: no process could be started for a HEIF decoder.
 * Thread-safe. */
enum dp_status dp_image_decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                               struct dp_image *out, struct dp_error *err) DP_WUR;
void dp_image_release(struct dp_image *img);

/* The decoder libraries' versions, e.g. "libjpeg-turbo 2.1.5; libpng 1.6.39; ..." (static). */
const char *dp_image_decoder_versions(void);

#endif
