/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: WebP decoding with libwebp - lossy and lossless to RGB (WebP has no grey mode),
 * alpha dropped; an animation gives its first frame, composed on its canvas by libwebpdemux's
 * animation decoder (what a viewer shows first, and the frame a thumbnail is made from). */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/demux.h>

static bool sniff(const uint8_t *b, size_t n)
{
    return n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0;
}

static const char *status_text(VP8StatusCode s)
{
    switch (s) {
    case VP8_STATUS_OK: return "ok";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated (not enough data)";
    }
    return "unknown error";
}

/* The first frame of an animation: the canvas after frame 1 (RGBA, transparent where the
 * frame does not cover it; alpha then dropped). */
static enum dp_status first_frame(const uint8_t *buf, size_t len, struct dp_image *out,
                                  struct dp_error *err)
{
    WebPAnimDecoderOptions o;
    if (!WebPAnimDecoderOptionsInit(&o))
        return dp_error_set(err, DP_ERR_PARSE, 0, "WebP: libwebp version mismatch");
    o.color_mode = MODE_RGBA;
    o.use_threads = 0;
    WebPData data = {buf, len};
    WebPAnimDecoder *dec = WebPAnimDecoderNew(&data, &o);
    if (dec == NULL)
        return dp_error_set(err, DP_ERR_PARSE, 0, "WebP: animation is corrupt or truncated");
    enum dp_status st = DP_OK;
    WebPAnimInfo info;
    uint8_t *rgba = NULL;
    int ts = 0;
    if (!WebPAnimDecoderGetInfo(dec, &info) || info.canvas_width != out->full_w ||
        info.canvas_height != out->full_h) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "WebP: inconsistent animation canvas");
        goto out;
    }
    if (!WebPAnimDecoderGetNext(dec, &rgba, &ts)) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "WebP: first animation frame is corrupt");
        goto out;
    }
    if ((st = image_alloc(out, out->full_w, out->full_h, 3, err)) != DP_OK)
        goto out;
    for (size_t i = 0, n = out->w * out->h; i < n; i++)
        memcpy(out->pix + 3 * i, rgba + 4 * i, 3);
out:
    WebPAnimDecoderDelete(dec);
    return st;
}

static uint32_t le24(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    /* an extended file's canvas (up to 2^24 a side) is checked here first: libwebp refuses one
       of 2^32 pixels or more as a bitstream error, and would hide the limit behind it */
    if (len >= 30 && memcmp(buf + 12, "VP8X", 4) == 0) {
        enum dp_status st = image_check_dims((uint64_t)le24(buf + 24) + 1,
                                             (uint64_t)le24(buf + 27) + 1, opts, err);
        if (st != DP_OK)
            return st;
    }
    WebPBitstreamFeatures f;
    VP8StatusCode vs = WebPGetFeatures(buf, len, &f);
    if (vs != VP8_STATUS_OK)
        return dp_error_set(err, DP_ERR_PARSE, 0, "WebP: %s", status_text(vs));
    enum dp_status st = image_check_dims((uint64_t)f.width, (uint64_t)f.height, opts, err);
    if (st != DP_OK)
        return st;
    out->full_w = (size_t)f.width;
    out->full_h = (size_t)f.height;
    if (f.has_animation)
        return first_frame(buf, len, out, err);
    if ((st = image_alloc(out, out->full_w, out->full_h, 3, err)) != DP_OK)
        return st;
    if (WebPDecodeRGBInto(buf, len, out->pix, out->stride * out->h, (int)out->stride) == NULL) {
        /* WebPDecode names the failure; the simple API only says it failed */
        WebPDecoderConfig c;
        const char *why = "corrupt or truncated";
        if (WebPInitDecoderConfig(&c)) {
            c.output.colorspace = MODE_RGB;
            c.output.is_external_memory = 1;
            c.output.u.RGBA.rgba = out->pix;
            c.output.u.RGBA.stride = (int)out->stride;
            c.output.u.RGBA.size = out->stride * out->h;
            vs = WebPDecode(buf, len, &c);
            if (vs != VP8_STATUS_OK)
                why = status_text(vs);
            WebPFreeDecBuffer(&c.output);
        }
        return dp_error_set(err, DP_ERR_PARSE, 0, "WebP: %s", why);
    }
    return DP_OK;
}

static const char *version(void)
{
    static char v[32];
    /* written once under image.c's pthread_once, then only read */
    int n = WebPGetDecoderVersion();
    snprintf(v, sizeof(v), "libwebp %d.%d.%d", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
    return v;
}

const struct image_decoder image_webp = {DP_IMAGE_WEBP, "webp", sniff, decode, version};
