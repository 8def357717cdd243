/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: TIFF decoding with libtiff from memory - the first directory only, through libtiff's
 * RGBA interface (every photometric, compression, bit depth and tiling it supports, oriented
 * top-left), then alpha dropped; single-sample grey (min-is-black or min-is-white, any depth)
 * stays grey. libtiff's messages are captured per handle (TIFFOpenOptions), never printed. */
#include "internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

struct src {
    const uint8_t *buf;
    size_t len, off;
    char msg[200];
};

static tmsize_t on_read(thandle_t h, void *data, tmsize_t n)
{
    struct src *s = h;
    size_t want = n > 0 ? (size_t)n : 0, left = s->len - s->off;
    if (want > left)
        want = left;
    memcpy(data, s->buf + s->off, want);
    s->off += want;
    return (tmsize_t)want;
}

static tmsize_t on_write(thandle_t h, void *data, tmsize_t n)
{
    (void)h, (void)data, (void)n;
    return -1;
}

static toff_t on_seek(thandle_t h, toff_t off, int whence)
{
    struct src *s = h;
    uint64_t base = whence == SEEK_CUR ? s->off : whence == SEEK_END ? s->len : 0;
    if (off > UINT64_MAX - base || base + off > s->len)
        return (toff_t)-1; /* past the end: a corrupt offset */
    s->off = (size_t)(base + off);
    return s->off;
}

static int on_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t on_size(thandle_t h)
{
    return ((struct src *)h)->len;
}

/* The buffer is the mapping: libtiff reads strips in place. */
static int on_map(thandle_t h, void **base, toff_t *size)
{
    struct src *s = h;
    *base = (void *)s->buf;
    *size = s->len;
    return 1;
}

static void on_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h, (void)base, (void)size;
}

/* Keep the first error as the reason; returning 1 stops libtiff printing it. */
static int on_error(TIFF *t, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)t, (void)module;
    struct src *s = user;
    if (s->msg[0] == '\0')
        vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    return 1;
}

static int on_warning(TIFF *t, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)t, (void)user, (void)module, (void)fmt, (void)ap;
    return 1;
}

static bool sniff(const uint8_t *b, size_t n)
{
    /* II*\0, MM\0*, and BigTIFF (43) */
    return n >= 4 && ((b[0] == 'I' && b[1] == 'I' && (b[2] == 42 || b[2] == 43) && b[3] == 0) ||
                      (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && (b[3] == 42 || b[3] == 43)));
}

static enum dp_status fail(const struct src *s, const char *what, struct dp_error *err)
{
    return dp_error_set(err, DP_ERR_PARSE, 0, "TIFF: %s", s->msg[0] ? s->msg : what);
}

static enum dp_status run(TIFF *t, struct src *s, const struct dp_image_opts *opts,
                          struct dp_image *out, uint32_t **raster, struct dp_error *err)
{
    uint32_t w = 0, h = 0;
    uint16_t spp = 1, photo = PHOTOMETRIC_RGB;
    if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h))
        return fail(s, "no image dimensions", err);
    enum dp_status st = image_check_dims(w, h, opts, err);
    if (st != DP_OK)
        return st;
    out->full_w = w;
    out->full_h = h;
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo);
    char why[1024] = "";
    if (!TIFFRGBAImageOK(t, why)) {
        if (s->msg[0] == '\0')
            snprintf(s->msg, sizeof(s->msg), "%s", why);
        return fail(s, "not decodable", err);
    }
    /* 4 bytes a pixel: bounded by the dimension check above */
    if ((*raster = malloc((size_t)w * h * sizeof(**raster))) == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory for %ux%u pixels", w, h);
    if (!TIFFReadRGBAImageOriented(t, w, h, *raster, ORIENTATION_TOPLEFT, 1))
        return fail(s, "corrupt or truncated", err);
    bool grey = spp == 1 && (photo == PHOTOMETRIC_MINISBLACK || photo == PHOTOMETRIC_MINISWHITE);
    if ((st = image_alloc(out, w, h, grey ? 1 : 3, err)) != DP_OK)
        return st;
    uint8_t *d = out->pix;
    for (size_t i = 0, n = (size_t)w * h; i < n; i++) {
        uint32_t px = (*raster)[i];
        *d++ = (uint8_t)TIFFGetR(px);
        if (!grey) {
            *d++ = (uint8_t)TIFFGetG(px);
            *d++ = (uint8_t)TIFFGetB(px);
        }
    }
    return DP_OK;
}

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

/* Messages libtiff raises without a handle (allocation, codec set-up) go to its global
 * handlers, which print to stderr: none, process-wide. */
static void quiet(void)
{
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    pthread_once(&quiet_once, quiet);
    struct src s = {buf, len, 0, ""};
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (o == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, &s);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, &s);
    /* a single allocation of libtiff's own (a strip, a tag array) past this is corrupt */
    TIFFOpenOptionsSetMaxSingleMemAlloc(o, 256 * 1024 * 1024);
    TIFF *t = TIFFClientOpenExt("memory", "r", &s, on_read, on_write, on_seek, on_close, on_size,
                                on_map, on_unmap, o);
    TIFFOpenOptionsFree(o);
    if (t == NULL)
        return fail(&s, "cannot open", err);
    uint32_t *raster = NULL;
    enum dp_status st = run(t, &s, opts, out, &raster, err);
    free(raster);
    TIFFClose(t);
    return st;
}

static char ver[64];
static pthread_once_t ver_once = PTHREAD_ONCE_INIT;

/* "LIBTIFF, Version 4.5.0\nCopyright ..." -> "libtiff 4.5.0" */
static void ver_init(void)
{
    const char *v = TIFFGetVersion(), *p = strstr(v, "Version ");
    p = p ? p + 8 : v;
    size_t n = strcspn(p, "\n");
    snprintf(ver, sizeof(ver), "libtiff %.*s", (int)n, p);
}

static const char *version(void)
{
    pthread_once(&ver_once, ver_init);
    return ver;
}

const struct image_decoder image_tiff = {DP_IMAGE_TIFF, "tiff", sniff, decode, version};
