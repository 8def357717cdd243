/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: perceptual matching inside the scan - an image read into memory once is decoded
 * (JPEG at a reduced DCT scale first), PDQ-hashed with its dihedral variants and compared with
 * every PDQ entry of the lists; a near miss of the scaled decode is hashed again from the full
 * decode, which alone decides and is recorded. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "deprive/image.h"

/* The scaled decode decides nothing: anything within this much of the threshold is hashed
 * again at full resolution (1/4 scale stays within a median 4 and a maximum 10 bits). */
#define SCALE_MARGIN 12
/* The reference's turned hashes are computed from the unturned image and differ from hashing
 * the turned pixels by up to about 16 bits (on a mirrored x axis): a near miss of a turned
 * variant is decided by hashing the pixels turned (dp_pdq_hash_pixels_turned). */
#define TURN_MARGIN 16

enum dp_status scan_pdq_prepare(struct scan_pdq *t, const struct dp_hashset *set,
                                const struct dp_scan_opts *o, struct dp_error *err)
{
    memset(t, 0, sizeof(*t));
    t->entries = dp_hashset_entries(set, DP_ALGO_PDQ, &t->n);
    t->threshold = o->pdq_threshold_given ? o->pdq_threshold : DP_PDQ_THRESHOLD;
    t->dihedral = !o->no_dihedral;
    t->exact = o->pdq_exact;
    t->max_image_bytes = o->max_image_bytes ? o->max_image_bytes : DP_MAX_IMAGE_BYTES_DEFAULT;
    t->img.max_pixels = o->max_pixels;
    if (t->threshold < 0 || t->threshold > 64)
        return dp_error_set(err, DP_ERR_INVALID, 0, "PDQ threshold %d out of range (0..64)",
                            t->threshold);
    if (t->n == 0)
        return DP_OK;
    return dp_pdq_index_from_hashset(&t->index, set, err);
}

void scan_pdq_release(struct scan_pdq *t)
{
    dp_pdq_index_free(t->index);
    memset(t, 0, sizeof(*t));
}

/* The targets within radius of any variant of r, each once at its smallest distance (the
 * index does that): only the hits are kept, so an image costs nothing per list entry. */
struct hits {
    struct dp_pdq_match *m;
    size_t n, cap;
    bool oom;
};

static bool on_hit(void *ctx, const struct dp_pdq_match *m)
{
    struct hits *h = ctx;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        struct dp_pdq_match *v = realloc(h->m, cap * sizeof(*v));
        if (v == NULL) {
            h->oom = true;
            return false;
        }
        h->m = v;
        h->cap = cap;
    }
    h->m[h->n++] = *m;
    return true;
}

static void nearest(const struct scan_pdq *t, const struct dp_pdq_result *r, int radius,
                    struct hits *h)
{
    h->n = 0;
    dp_pdq_index_query_variants(t->index, r, t->dihedral, radius, on_hit, h);
}

/* Decode (img kept for the caller to release) and hash. */
static enum dp_status decode_hash(const struct scan_pdq *t, const uint8_t *buf, size_t len,
                                  unsigned min_side, struct dp_image *img,
                                  struct dp_pdq_result *r, struct dp_error *err)
{
    struct dp_image_opts o = t->img;
    o.min_side = min_side;
    enum dp_status st = dp_image_decode(buf, len, &o, img, err);
    if (st != DP_OK)
        return st;
    st = dp_pdq_hash_pixels(img->pix, img->w, img->h, img->stride, img->channels, t->dihedral,
                            r, err);
    if (st != DP_OK)
        dp_image_release(img);
    return st;
}

/* Near misses of turned variants (full decode) decided from the turned pixels: a hit's
 * distance becomes the smaller of the two. */
static enum dp_status refine_turned(const struct scan_pdq *t, const struct dp_image *img,
                                    struct hits *h, bool *used, struct dp_error *err)
{
    *used = false;
    bool any = false;
    for (size_t i = 0; i < h->n; i++)
        any |= h->m[i].distance > t->threshold;
    if (!any || !t->dihedral)
        return DP_OK;
    struct dp_pdq_result turned;
    enum dp_status st = dp_pdq_hash_pixels_turned(img->pix, img->w, img->h, img->stride,
                                                  img->channels, &turned, err);
    if (st != DP_OK)
        return st;
    for (size_t i = 0; i < h->n; i++) {
        if (h->m[i].distance <= t->threshold)
            continue;
        struct dp_pdq target;
        memcpy(target.b, t->entries[h->m[i].id].digest, sizeof(target.b));
        enum dp_pdq_variant v;
        int d = dp_pdq_min_distance(&turned, true, &target, &v);
        if (d < h->m[i].distance) {
            h->m[i].distance = d;
            h->m[i].variant = v;
            *used |= d <= t->threshold;
        }
    }
    return DP_OK;
}

enum dp_status scan_pdq_match(const struct scan_pdq *t, const uint8_t *buf, size_t len,
                              struct scan_pdq_outcome *out, struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    struct hits h = {0};
    struct dp_image img;
    int turn = t->dihedral ? TURN_MARGIN : 0;
    enum dp_status st = decode_hash(t, buf, len, t->exact ? 0 : DP_PDQ_MAX_DIM, &img, &out->pdq,
                                    err);
    if (st != DP_OK)
        return st;
    bool scaled = img.scaled;
    out->decoded = true;
    out->decode = scaled ? "scaled" : "full";
    nearest(t, &out->pdq, t->threshold + turn + (scaled ? SCALE_MARGIN : 0), &h);
    if (h.n > 0 && scaled) { /* near: the full decode decides */
        dp_image_release(&img);
        if ((st = decode_hash(t, buf, len, 0, &img, &out->pdq, err)) != DP_OK)
            goto out;
        nearest(t, &out->pdq, t->threshold + turn, &h);
        out->decode = "scaled, then full";
    }
    bool turned = false;
    if (st == DP_OK && h.n > 0 && !h.oom)
        st = refine_turned(t, &img, &h, &turned, err);
    if (turned)
        out->decode = scaled ? "scaled, then full, turned" : "full, turned";
    dp_image_release(&img);
    if (st != DP_OK)
        goto out;
    if (h.oom) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < h.n; i++)
        out->count += h.m[i].distance <= t->threshold;
    if (out->count > 0 && (out->matches = calloc(out->count, sizeof(*out->matches))) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0, k = 0; i < h.n; i++) {
        if (h.m[i].distance > t->threshold)
            continue;
        const struct dp_hash_entry *e = &t->entries[h.m[i].id];
        out->matches[k++] = (struct dp_match){.algo = DP_ALGO_PDQ, .source = e->source,
                                              .line = e->line, .label = e->label,
                                              .distance = (int16_t)h.m[i].distance,
                                              .variant = (uint8_t)h.m[i].variant,
                                              .target_quality = e->quality};
    }
out:
    free(h.m);
    return st;
}
