/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: GIF decoding with giflib 5 - the first image only, read record by record (never
 * DGifSlurp: a GIF bomb carries thousands of frames), placed on the logical screen filled with
 * the background colour; interlacing undone; the transparent index is drawn in its palette
 * colour, as alpha is dropped elsewhere. RGB, or grey when the palette is all greys. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gif_lib.h>

struct src {
    const uint8_t *buf;
    size_t len, off;
};

static int on_read(GifFileType *g, GifByteType *data, int n)
{
    struct src *s = g->UserData;
    size_t want = n > 0 ? (size_t)n : 0, left = s->len - s->off;
    if (want > left)
        want = left; /* a short read: giflib reports D_GIF_ERR_READ_FAILED */
    memcpy(data, s->buf + s->off, want);
    s->off += want;
    return (int)want;
}

static bool sniff(const uint8_t *b, size_t n)
{
    return n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0);
}

static enum dp_status gif_fail(GifFileType *g, struct dp_error *err)
{
    const char *why = GifErrorString(g->Error);
    return dp_error_set(err, DP_ERR_PARSE, 0, "GIF: %s", why ? why : "corrupt");
}

/* Skip extensions until the first image descriptor has been read. */
static enum dp_status to_first_image(GifFileType *g, struct dp_error *err)
{
    for (;;) {
        GifRecordType t;
        if (DGifGetRecordType(g, &t) == GIF_ERROR)
            return gif_fail(g, err);
        if (t == IMAGE_DESC_RECORD_TYPE)
            return DGifGetImageDesc(g) == GIF_ERROR ? gif_fail(g, err) : DP_OK;
        if (t == TERMINATE_RECORD_TYPE)
            return dp_error_set(err, DP_ERR_PARSE, 0, "GIF: no image in the file");
        if (t != EXTENSION_RECORD_TYPE)
            return dp_error_set(err, DP_ERR_PARSE, 0, "GIF: unexpected record");
        int code;
        GifByteType *ext = NULL;
        if (DGifGetExtension(g, &code, &ext) == GIF_ERROR)
            return gif_fail(g, err);
        while (ext != NULL)
            if (DGifGetExtensionNext(g, &ext) == GIF_ERROR)
                return gif_fail(g, err);
    }
}

/* The frame's indices, rows in display order (interlaced GIFs store them in four passes). */
static enum dp_status read_indices(GifFileType *g, uint8_t *idx, size_t w, size_t h,
                                   struct dp_error *err)
{
    if (!g->Image.Interlace) {
        for (size_t y = 0; y < h; y++)
            if (DGifGetLine(g, idx + y * w, (int)w) == GIF_ERROR)
                return gif_fail(g, err);
        return DP_OK;
    }
    static const size_t start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
    for (int p = 0; p < 4; p++)
        for (size_t y = start[p]; y < h; y += step[p])
            if (DGifGetLine(g, idx + y * w, (int)w) == GIF_ERROR)
                return gif_fail(g, err);
    return DP_OK;
}

static bool palette_grey(const ColorMapObject *cm)
{
    for (int i = 0; i < cm->ColorCount; i++)
        if (cm->Colors[i].Red != cm->Colors[i].Green || cm->Colors[i].Red != cm->Colors[i].Blue)
            return false;
    return true;
}

/* Paint the screen: background colour, then the frame at its offset (clipped). */
static void paint(GifFileType *g, const ColorMapObject *cm, const uint8_t *idx, size_t fw,
                  size_t fh, struct dp_image *out)
{
    const GifColorType black = {0, 0, 0};
    const ColorMapObject *gcm = g->SColorMap;
    GifColorType bg = gcm && g->SBackGroundColor < gcm->ColorCount
                          ? gcm->Colors[g->SBackGroundColor]
                          : black;
    size_t fx = (size_t)g->Image.Left, fy = (size_t)g->Image.Top;
    for (size_t y = 0; y < out->h; y++) {
        uint8_t *row = out->pix + y * out->stride;
        for (size_t x = 0; x < out->w; x++) {
            GifColorType c = bg;
            if (y >= fy && y - fy < fh && x >= fx && x - fx < fw) {
                unsigned i = idx[(y - fy) * fw + (x - fx)];
                c = (int)i < cm->ColorCount ? cm->Colors[i] : black;
            }
            if (out->channels == 1) {
                row[x] = c.Red;
            } else {
                row[3 * x] = c.Red, row[3 * x + 1] = c.Green, row[3 * x + 2] = c.Blue;
            }
        }
    }
}

static enum dp_status run(GifFileType *g, const struct dp_image_opts *opts, struct dp_image *out,
                          uint8_t **idx, struct dp_error *err)
{
    /* the logical screen first, before any record is read */
    enum dp_status st = image_check_dims(g->SWidth > 0 ? (uint64_t)g->SWidth : 1,
                                         g->SHeight > 0 ? (uint64_t)g->SHeight : 1, opts, err);
    if (st != DP_OK || (st = to_first_image(g, err)) != DP_OK)
        return st;
    GifImageDesc *d = &g->Image;
    if (d->Left < 0 || d->Top < 0 || d->Width <= 0 || d->Height <= 0)
        return dp_error_set(err, DP_ERR_PARSE, 0, "GIF: bad frame geometry");
    size_t fw = (size_t)d->Width, fh = (size_t)d->Height;
    if ((st = image_check_dims(fw, fh, opts, err)) != DP_OK)
        return st;
    /* a frame reaching past a (too small or zero) screen widens it, as browsers do */
    uint64_t sw = (uint64_t)d->Left + fw, sh = (uint64_t)d->Top + fh;
    sw = sw > (uint64_t)g->SWidth ? sw : (uint64_t)g->SWidth;
    sh = sh > (uint64_t)g->SHeight ? sh : (uint64_t)g->SHeight;
    if ((st = image_check_dims(sw, sh, opts, err)) != DP_OK)
        return st;
    const ColorMapObject *cm = d->ColorMap ? d->ColorMap : g->SColorMap;
    if (cm == NULL || cm->ColorCount <= 0 || cm->Colors == NULL)
        return dp_error_set(err, DP_ERR_PARSE, 0, "GIF: no colour map for the first image");
    out->full_w = (size_t)sw;
    out->full_h = (size_t)sh;
    if ((*idx = malloc(fw * fh)) == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    if ((st = read_indices(g, *idx, fw, fh, err)) != DP_OK)
        return st;
    bool grey = palette_grey(cm) && (g->SColorMap == NULL || palette_grey(g->SColorMap));
    if ((st = image_alloc(out, (size_t)sw, (size_t)sh, grey ? 1 : 3, err)) != DP_OK)
        return st;
    paint(g, cm, *idx, fw, fh, out);
    return DP_OK;
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    struct src s = {buf, len, 0};
    int e = 0;
    GifFileType *g = DGifOpen(&s, on_read, &e);
    if (g == NULL) {
        const char *why = GifErrorString(e);
        return dp_error_set(err, e == D_GIF_ERR_NOT_ENOUGH_MEM ? DP_ERR_NOMEM : DP_ERR_PARSE, 0,
                            "GIF: %s", why ? why : "cannot open");
    }
    uint8_t *idx = NULL;
    enum dp_status st = run(g, opts, out, &idx, err);
    free(idx);
    DGifCloseFile(g, &e);
    return st;
}

static const char *version(void)
{
#define DP_STR2(x) #x
#define DP_STR(x) DP_STR2(x)
    return "giflib " DP_STR(GIFLIB_MAJOR) "." DP_STR(GIFLIB_MINOR) "." DP_STR(GIFLIB_RELEASE);
}

const struct image_decoder image_gif = {DP_IMAGE_GIF, "gif", sniff, decode, version};
