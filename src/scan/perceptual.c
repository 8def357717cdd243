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

/* Best distance and variant per target within radius, over the variants of r. */
struct near {
    int *dist;       /* per target, INT32_MAX when not within radius */
    uint8_t *variant;
};

static bool on_hit(void *ctx, const struct dp_pdq_match *m)
{
    struct near *n = ctx;
    n->dist[m->id] = m->distance;
    n->variant[m->id] = (uint8_t)m->variant;
    return true;
}

static void nearest(const struct scan_pdq *t, const struct dp_pdq_result *r, int radius,
                    struct near *n)
{
    for (size_t i = 0; i < t->n; i++)
        n->dist[i] = INT32_MAX;
    dp_pdq_index_query_variants(t->index, r, t->dihedral, radius, on_hit, n);
}

static enum dp_status decode_hash(const struct scan_pdq *t, const uint8_t *buf, size_t len,
                                  unsigned min_side, struct dp_pdq_result *r, bool *scaled,
                                  struct dp_error *err)
{
    struct dp_image img;
    struct dp_image_opts o = t->img;
    o.min_side = min_side;
    enum dp_status st = dp_image_decode(buf, len, &o, &img, err);
    if (st != DP_OK)
        return st;
    *scaled = img.scaled;
    st = dp_pdq_hash_pixels(img.pix, img.w, img.h, img.stride, img.channels, t->dihedral, r, err);
    dp_image_release(&img);
    return st;
}

enum dp_status scan_pdq_match(const struct scan_pdq *t, const uint8_t *buf, size_t len,
                              struct scan_pdq_outcome *out, struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    struct near n = {calloc(t->n, sizeof(int)), calloc(t->n, 1)};
    enum dp_status st = DP_OK;
    if (n.dist == NULL || n.variant == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    bool scaled = false;
    st = decode_hash(t, buf, len, t->exact ? 0 : DP_PDQ_MAX_DIM, &out->pdq, &scaled, err);
    if (st != DP_OK)
        goto out;
    out->decoded = true;
    out->decode = scaled ? "scaled" : "full";
    nearest(t, &out->pdq, t->threshold + (scaled ? SCALE_MARGIN : 0), &n);
    bool any = false;
    for (size_t i = 0; i < t->n && !any; i++)
        any = n.dist[i] != INT32_MAX;
    if (any && scaled) { /* near: the full decode decides */
        bool again = false;
        if ((st = decode_hash(t, buf, len, 0, &out->pdq, &again, err)) != DP_OK)
            goto out;
        nearest(t, &out->pdq, t->threshold, &n);
        out->decode = "scaled, then full";
    }
    for (size_t i = 0; i < t->n; i++)
        out->count += n.dist[i] <= t->threshold;
    if (out->count > 0 && (out->matches = calloc(out->count, sizeof(*out->matches))) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0, k = 0; i < t->n; i++) {
        if (n.dist[i] > t->threshold)
            continue;
        const struct dp_hash_entry *e = &t->entries[i];
        out->matches[k++] = (struct dp_match){.algo = DP_ALGO_PDQ, .source = e->source,
                                              .line = e->line, .label = e->label,
                                              .distance = (int16_t)n.dist[i],
                                              .variant = n.variant[i],
                                              .target_quality = e->quality};
    }
out:
    free(n.dist);
    free(n.variant);
    return st;
}
