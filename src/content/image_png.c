/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: PNG decoding with libpng - palette and low bit depths expanded, 16-bit samples
 * scaled to 8 (the PDQ reference truncates them to their low byte: a known quirk of its
 * decoder, not followed here), alpha dropped, grey kept grey. */
#include "internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

struct src {
    const uint8_t *buf;
    size_t len, off;
    char msg[200];
};

static void on_read(png_structp png, png_bytep data, png_size_t n)
{
    struct src *s = png_get_io_ptr(png);
    if (n > s->len - s->off)
        png_error(png, "truncated");
    memcpy(data, s->buf + s->off, n);
    s->off += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
    struct src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof(s->msg), "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg; /* libpng would print to stderr */
}

static bool sniff(const uint8_t *b, size_t n)
{
    return n >= 8 && png_sig_cmp(b, 0, 8) == 0;
}

/* Transformations to 8-bit grey or RGB without alpha; returns the channels. */
static int set_transforms(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16)
        png_set_scale_16(png);
    /* alpha is dropped, also the alpha a palette's or grey image's tRNS chunk would expand
     * into (a palette icon with transparency) */
    if ((type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_strip_alpha(png);
    if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE)
        png_set_interlace_handling(png);
    png_read_update_info(png, info);
    return (type & PNG_COLOR_MASK_COLOR) || type == PNG_COLOR_TYPE_PALETTE ? 3 : 1;
}

static enum dp_status run(png_structp png, png_infop info, struct src *s,
                          const struct dp_image_opts *opts, struct dp_image *out,
                          png_bytep **rows, struct dp_error *err)
{
    if (setjmp(png_jmpbuf(png)))
        return dp_error_set(err, DP_ERR_PARSE, 0, "PNG: %s", s->msg[0] ? s->msg : "corrupt");
    png_set_read_fn(png, s, on_read);
    png_set_user_limits(png, 1000000, 1000000);
    png_set_chunk_malloc_max(png, 64u * 1024 * 1024);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    enum dp_status st = image_check_dims(w, h, opts, err);
    if (st != DP_OK)
        return st;
    out->full_w = w;
    out->full_h = h;
    int channels = set_transforms(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * (size_t)channels)
        return dp_error_set(err, DP_ERR_PARSE, 0, "PNG: unexpected row layout");
    if ((st = image_alloc(out, w, h, channels, err)) != DP_OK)
        return st;
    if ((*rows = malloc(h * sizeof(**rows))) == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        (*rows)[y] = out->pix + (size_t)y * out->stride;
    png_read_image(png, *rows);
    return DP_OK;
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    /* the header's dimensions are checked before libpng reads anything else */
    if (len >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
        uint32_t w = (uint32_t)buf[16] << 24 | (uint32_t)buf[17] << 16 | (uint32_t)buf[18] << 8 |
                     buf[19];
        uint32_t h = (uint32_t)buf[20] << 24 | (uint32_t)buf[21] << 16 | (uint32_t)buf[22] << 8 |
                     buf[23];
        enum dp_status st = image_check_dims(w, h, opts, err);
        if (st != DP_OK)
            return st;
    }
    struct src s = {buf, len, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    png_bytep *rows = NULL;
    enum dp_status st = run(png, info, &s, opts, out, &rows, err);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return st;
}

static const char *version(void)
{
    return "libpng " PNG_LIBPNG_VER_STRING;
}

const struct image_decoder image_png = {DP_IMAGE_PNG, "png", sniff, decode, version};
