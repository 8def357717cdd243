/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: content-stage internals: the image decoders' table. Each decoder, in its own file
 * (image_<fmt>.c), exports one struct image_decoder; image.c sniffs, checks limits and
 * dispatches. */
#ifndef DEPRIVE_CONTENT_INTERNAL_H
#define DEPRIVE_CONTENT_INTERNAL_H

#include "deprive/image.h"

struct image_decoder {
    enum dp_image_format format;
    const char *name;
    /* Does buf start like this format? */
    bool (*sniff)(const uint8_t *buf, size_t len);
    /* Decode into out (format, pix, w, h, stride, channels, full_w, full_h, scaled), checking
     * the declared dimensions against opts->max_pixels before allocating pixels. */
    enum dp_status (*decode)(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err);
    /* The library and its version, e.g. "libpng 1.6.39". */
    const char *(*version)(void);
};

extern const struct image_decoder image_jpeg;
extern const struct image_decoder image_png;
extern const struct image_decoder image_webp;
extern const struct image_decoder image_gif;
extern const struct image_decoder image_bmp;
extern const struct image_decoder image_tiff;
extern const struct image_decoder image_heif;

/* Allocate out->pix for w x h x channels (checked for overflow). */
enum dp_status image_alloc(struct dp_image *out, size_t w, size_t h, int channels,
                           struct dp_error *err);
/* Declared dimensions acceptable under opts? Else DP_ERR_LIMIT with the reason. */
enum dp_status image_check_dims(uint64_t w, uint64_t h, const struct dp_image_opts *opts,
                                struct dp_error *err);

#endif
