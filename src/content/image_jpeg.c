/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: JPEG decoding with libjpeg-turbo - grey stays grey, CMYK and YCCK (Adobe inverted
 * or not) become RGB, optional DCT scaling to the smallest M/8 that keeps both sides at least a
 * minimum. */
#include "internal.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
};

static void on_error(j_common_ptr c)
{
    struct jerr *e = (struct jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jump, 1);
}

/* Warnings (corrupt data the decoder can step over) are not printed: libjpeg would write to
 * stderr. A truncated file decodes with grey filled in, as every viewer shows it. */
static void on_message(j_common_ptr c)
{
    (void)c;
}

static bool sniff(const uint8_t *b, size_t n)
{
    return n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff;
}

/* The smallest M/8 (M = 1..8) that keeps both sides >= min. */
static unsigned scale_for(JDIMENSION w, JDIMENSION h, unsigned min)
{
    for (unsigned m = 1; m < 8; m++)
        if ((uint64_t)w * m / 8 >= min && (uint64_t)h * m / 8 >= min)
            return m;
    return 8;
}

static void cmyk_to_rgb(const uint8_t *in, uint8_t *out, size_t w, bool inverted)
{
    for (size_t x = 0; x < w; x++, in += 4, out += 3) {
        unsigned c = in[0], m = in[1], y = in[2], k = in[3];
        if (!inverted) /* plain CMYK: 0 is no ink */
            c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
        out[0] = (uint8_t)((c * k + 127) / 255);
        out[1] = (uint8_t)((m * k + 127) / 255);
        out[2] = (uint8_t)((y * k + 127) / 255);
    }
}

static enum dp_status run(struct jpeg_decompress_struct *ci, struct jerr *je, const uint8_t *buf,
                          size_t len, const struct dp_image_opts *opts, struct dp_image *out,
                          uint8_t **row, struct dp_error *err)
{
    if (setjmp(je->jump))
        return dp_error_set(err, DP_ERR_PARSE, 0, "JPEG: %s", je->msg);
    jpeg_create_decompress(ci);
    ci->mem->max_memory_to_use = 512L * 1024 * 1024; /* a progressive bomb's buffers too */
    jpeg_mem_src(ci, buf, (unsigned long)len);
    jpeg_read_header(ci, TRUE);
    enum dp_status st = image_check_dims(ci->image_width, ci->image_height, opts, err);
    if (st != DP_OK)
        return st;
    out->full_w = ci->image_width;
    out->full_h = ci->image_height;
    bool cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    ci->out_color_space = ci->jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE
                          : cmyk                                ? JCS_CMYK
                                                                : JCS_RGB;
    if (opts->min_side > 0) {
        ci->scale_num = scale_for(ci->image_width, ci->image_height, opts->min_side);
        ci->scale_denom = 8;
        out->scaled = ci->scale_num < 8;
    }
    jpeg_start_decompress(ci);
    int channels = ci->out_color_space == JCS_GRAYSCALE ? 1 : 3;
    if ((st = image_alloc(out, ci->output_width, ci->output_height, channels, err)) != DP_OK)
        return st;
    if (cmyk && (*row = malloc((size_t)ci->output_width * 4)) == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    while (ci->output_scanline < ci->output_height) {
        uint8_t *dst = out->pix + (size_t)ci->output_scanline * out->stride;
        JSAMPROW r = cmyk ? *row : dst;
        jpeg_read_scanlines(ci, &r, 1);
        if (cmyk) /* Adobe's marker means the inks are stored inverted (Photoshop) */
            cmyk_to_rgb(*row, dst, ci->output_width, ci->saw_Adobe_marker);
    }
    jpeg_finish_decompress(ci);
    return DP_OK;
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    struct jpeg_decompress_struct ci;
    struct jerr je;
    memset(&ci, 0, sizeof(ci));
    memset(&je, 0, sizeof(je));
    ci.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = on_error;
    je.pub.output_message = on_message;
    uint8_t *row = NULL;
    enum dp_status st = run(&ci, &je, buf, len, opts, out, &row, err);
    free(row);
    jpeg_destroy_decompress(&ci);
    return st;
}

static const char *version(void)
{
#ifdef LIBJPEG_TURBO_VERSION
#define DP_STR2(x) #x
#define DP_STR(x) DP_STR2(x)
    return "libjpeg-turbo " DP_STR(LIBJPEG_TURBO_VERSION);
#else
    return "libjpeg";
#endif
}

const struct image_decoder image_jpeg = {DP_IMAGE_JPEG, "jpeg", sniff, decode, version};
