/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: HEIF decoding with libheif - HEIC (HEVC) and AVIF (AV1), the primary image with its
 * transformations (rotation, mirroring, crop) applied, decoded to 8-bit interleaved RGB (HDR
 * reduced to 8 bits), alpha ignored. Always RGB: libheif 1.15 does not say reliably whether an
 * image is monochrome before decoding it. */
#include "internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libheif/heif.h>

static bool brand_ok(const uint8_t *b)
{
    static const char brands[][4] = {"heic", "heix", "hevc", "heim", "heis",
                                     "hevx", "mif1", "msf1", "avif", "avis"};
    for (size_t i = 0; i < sizeof(brands) / sizeof(brands[0]); i++)
        if (memcmp(b, brands[i], 4) == 0)
            return true;
    return false;
}

/* An ISO-BMFF 'ftyp' box first, whose major brand or one of whose compatible brands is an
 * image brand (an MP4 video's are not). */
static bool sniff(const uint8_t *b, size_t n)
{
    if (n < 16 || memcmp(b + 4, "ftyp", 4) != 0)
        return false;
    if (brand_ok(b + 8))
        return true;
    size_t size = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
    size = size < n ? size : n;
    for (size_t off = 16; off + 4 <= size; off += 4)
        if (brand_ok(b + off))
            return true;
    return false;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init(void)
{
    heif_init(NULL); /* loads the codec plugins; never undone (process lifetime) */
}

/* libheif's security limits (box sizes, item counts, image sizes) come back as allocation
 * errors: they are a limit hit, not a failed malloc. */
static enum dp_status heif_fail(struct heif_error e, struct dp_error *err)
{
    enum dp_status st = e.subcode == heif_suberror_Security_limit_exceeded ? DP_ERR_LIMIT
                        : e.code == heif_error_Memory_allocation_error  ? DP_ERR_NOMEM
                                                                         : DP_ERR_PARSE;
    return dp_error_set(err, st, 0, "HEIF: %s", e.message ? e.message : "corrupt");
}

static enum dp_status copy_out(const struct heif_image *img, const struct dp_image_opts *opts,
                               struct dp_image *out, struct dp_error *err)
{
    int w = heif_image_get_width(img, heif_channel_interleaved);
    int h = heif_image_get_height(img, heif_channel_interleaved);
    int stride = 0;
    const uint8_t *p = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    if (p == NULL || w <= 0 || h <= 0 || stride < 3 * w)
        return dp_error_set(err, DP_ERR_PARSE, 0, "HEIF: decoder returned no RGB plane");
    /* the same size as the handle declared (transformations applied): an AVIF whose coded
       frame is not the size its 'ispe' box declares is corrupt (found by fuzzing) */
    if ((size_t)w != out->full_w || (size_t)h != out->full_h)
        return dp_error_set(err, DP_ERR_PARSE, 0,
                            "HEIF: decoded %dx%d, but the image declares %zux%zu", w, h,
                            out->full_w, out->full_h);
    enum dp_status st = image_check_dims((uint64_t)w, (uint64_t)h, opts, err);
    if (st != DP_OK)
        return st;
    st = image_alloc(out, (size_t)w, (size_t)h, 3, err);
    if (st != DP_OK)
        return st;
    for (size_t y = 0; y < (size_t)h; y++)
        memcpy(out->pix + y * out->stride, p + y * (size_t)stride, (size_t)w * 3);
    return DP_OK;
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    pthread_once(&init_once, init);
    struct heif_context *ctx = heif_context_alloc();
    struct heif_image_handle *hd = NULL;
    struct heif_image *img = NULL;
    struct heif_decoding_options *o = NULL;
    enum dp_status st = DP_OK;
    if (ctx == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    /* a per-side limit, checked by libheif while it parses (also on grid tiles); the pixel
       count is checked below from the primary image's declared size */
    uint64_t max = opts->max_pixels ? opts->max_pixels : DP_IMAGE_MAX_PIXELS_DEFAULT;
    heif_context_set_maximum_image_size_limit(ctx, max < INT_MAX ? (int)max : INT_MAX);
    struct heif_error e = heif_context_read_from_memory_without_copy(ctx, buf, len, NULL);
    if (e.code != heif_error_Ok || (e = heif_context_get_primary_image_handle(ctx, &hd)).code !=
                                       heif_error_Ok) {
        st = heif_fail(e, err);
        goto out;
    }
    int w = heif_image_handle_get_width(hd), h = heif_image_handle_get_height(hd);
    if ((st = image_check_dims(w > 0 ? (uint64_t)w : 0, h > 0 ? (uint64_t)h : 0, opts, err)) !=
        DP_OK)
        goto out;
    out->full_w = (size_t)w;
    out->full_h = (size_t)h;
    if ((o = heif_decoding_options_alloc()) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    o->convert_hdr_to_8bit = 1;
    /* libheif cannot be interrupted once it decodes: the dimension check just above (and the
       per-side limit set before parsing) is the only bound on its time and memory */
    e = heif_decode_image(hd, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, o);
    if (e.code != heif_error_Ok) {
        st = heif_fail(e, err);
        goto out;
    }
    st = copy_out(img, opts, out, err);
out:
    heif_image_release(img);
    heif_decoding_options_free(o);
    heif_image_handle_release(hd);
    heif_context_free(ctx);
    return st;
}

static const char *version(void)
{
    static char v[32];
    /* written once under image.c's pthread_once, then only read */
    snprintf(v, sizeof(v), "libheif %s", heif_get_version());
    return v;
}

const struct image_decoder image_heif = {DP_IMAGE_HEIF, "heif", sniff, decode, version};
