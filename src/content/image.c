/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: image decoding by content - the decoder table, limits and allocation. */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tried in this order; the first whose signature matches decodes. */
static const struct image_decoder *const decoders[] = {
    &image_jpeg, &image_png, &image_webp, &image_gif, &image_bmp, &image_tiff, &image_heif,
};
#define NDECODERS (sizeof(decoders) / sizeof(decoders[0]))

static const char *const format_names[DP_IMAGE_FORMAT_COUNT] = {
    "none", "jpeg", "png", "webp", "gif", "bmp", "tiff", "heif",
};

const char *dp_image_format_name(enum dp_image_format f)
{
    if ((unsigned)f >= DP_IMAGE_FORMAT_COUNT)
        dp_misuse("dp_image_format_name: bad format");
    return format_names[f];
}

enum dp_image_format dp_image_sniff(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < NDECODERS; i++)
        if (decoders[i]->sniff(buf, len))
            return decoders[i]->format;
    return DP_IMAGE_NONE;
}

enum dp_status image_check_dims(uint64_t w, uint64_t h, const struct dp_image_opts *opts,
                                struct dp_error *err)
{
    uint64_t max = opts->max_pixels ? opts->max_pixels : DP_IMAGE_MAX_PIXELS_DEFAULT;
    if (w == 0 || h == 0)
        return dp_error_set(err, DP_ERR_PARSE, 0, "image declares no pixels (%llux%llu)",
                            (unsigned long long)w, (unsigned long long)h);
    if (w > UINT32_MAX || h > UINT32_MAX || w * h > max)
        return dp_error_set(err, DP_ERR_LIMIT, 0,
                            "image declares %llux%llu pixels, over the limit of %llu (--max-pixels)",
                            (unsigned long long)w, (unsigned long long)h, (unsigned long long)max);
    return DP_OK;
}

enum dp_status image_alloc(struct dp_image *out, size_t w, size_t h, int channels,
                           struct dp_error *err)
{
    if (w == 0 || h == 0 || w > SIZE_MAX / (size_t)channels || w * (size_t)channels > SIZE_MAX / h)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "image too large to hold");
    out->stride = w * (size_t)channels;
    out->pix = malloc(out->stride * h);
    if (out->pix == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory for %zux%zu pixels", w, h);
    out->w = w;
    out->h = h;
    out->channels = channels;
    return DP_OK;
}

enum dp_status dp_image_decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                               struct dp_image *out, struct dp_error *err)
{
    static const struct dp_image_opts defaults;
    memset(out, 0, sizeof(*out));
    opts = opts ? opts : &defaults;
    for (size_t i = 0; i < NDECODERS; i++) {
        if (!decoders[i]->sniff(buf, len))
            continue;
        out->format = decoders[i]->format;
        enum dp_status st = decoders[i]->decode(buf, len, opts, out, err);
        if (st != DP_OK)
            dp_image_release(out);
        return st;
    }
    return dp_error_set(err, DP_ERR_UNSUPPORTED, 0, "not an image format deprive decodes");
}

void dp_image_release(struct dp_image *img)
{
    if (img == NULL)
        return;
    free(img->pix);
    memset(img, 0, sizeof(*img));
}

static char versions[512];
static pthread_once_t versions_once = PTHREAD_ONCE_INIT;

static void versions_init(void)
{
    size_t used = 0;
    for (size_t i = 0; i < NDECODERS && used < sizeof(versions); i++)
        used += (size_t)snprintf(versions + used, sizeof(versions) - used, "%s%s", i ? "; " : "",
                                 decoders[i]->version());
}

const char *dp_image_decoder_versions(void)
{
    pthread_once(&versions_once, versions_init);
    return versions;
}
