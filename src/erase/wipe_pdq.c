/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the wipe's perceptual side - a perceptual-only target is erased only with a person's
 * consent and only when its content, hashed again from the device, still matches a PDQ entry
 * of the lists; and every erased image's PDQ goes into the result, so that an audit can look
 * for altered copies of it later. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deprive/confirm.h"
#include "deprive/fingerprint.h"
#include "deprive/image.h"
#include "deprive/json.h"
#include "deprive/pdq.h"

json_t *wipe_consent(const struct dp_wipe_opts *opts, const struct dp_plan *plan,
                     const size_t *names, size_t count, bool *rejected, char *why,
                     size_t why_len)
{
    *rejected = false;
    json_t *confirmed = json_array();
    size_t undecided = 0;
    for (size_t i = 0; i < count && confirmed != NULL; i++) {
        const struct dp_plan_target *t = &plan->targets[names[i]];
        const struct dp_confirmation *c =
            opts->confirmations ? dp_confirm_get(opts->confirmations, names[i]) : NULL;
        if (c != NULL && c->decision == DP_CONFIRM_REJECTED) {
            snprintf(why, why_len, "%s: %.200s decided at %s that it is not a copy of a listed image",
                     t->finding_id, c->examiner, c->time);
            *rejected = true;
            json_decref(confirmed);
            return NULL;
        }
        if (c != NULL && c->decision == DP_CONFIRM_CONFIRMED)
            json_array_append_new(confirmed,
                                  json_pack("{s:s, s:s, s:s, s:s, s:I}", "finding",
                                            t->finding_id, "examiner", c->examiner, "how", c->how,
                                            "time", c->time, "record", (json_int_t)c->seq));
        else
            undecided++;
    }
    if (confirmed == NULL) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    if (undecided == 0)
        return json_pack("{s:s, s:o}", "kind", "confirmed", "decisions", confirmed);
    json_decref(confirmed);
    if (opts->blanket_consent != NULL)
        return json_pack("{s:s, s:s}", "kind", "blanket", "examiner", opts->blanket_consent);
    snprintf(why, why_len,
             "only its PDQ hash matched and no examiner has confirmed it (deprive confirm, or "
             "--erase-perceptual)");
    return NULL;
}

/* The nearest PDQ entry of the lists to any variant of the image's hash - the reference's
 * variants (ref) and, when turned is given, the hashes of the pixels turned - as a "match"
 * object, when within the radius; NULL otherwise. */
static json_t *nearest(const struct dp_pdq_result *ref, const struct dp_pdq_result *turned,
                       const struct dp_wipe_opts *opts)
{
    const struct dp_scan_opts *so = opts->perceptual;
    int radius = so != NULL && so->pdq_threshold_given ? so->pdq_threshold : DP_PDQ_THRESHOLD;
    bool dihedral = so == NULL || !so->no_dihedral;
    size_t n = 0;
    const struct dp_hash_entry *e = opts->lists
                                        ? dp_hashset_entries(opts->lists, DP_ALGO_PDQ, &n)
                                        : NULL;
    const struct dp_hash_entry *best = NULL;
    int best_d = radius + 1;
    enum dp_pdq_variant best_v = DP_PDQ_ORIGINAL;
    for (size_t i = 0; i < n; i++) {
        struct dp_pdq target;
        memcpy(target.b, e[i].digest, sizeof(target.b));
        enum dp_pdq_variant v, tv;
        int d = dp_pdq_min_distance(ref, dihedral, &target, &v);
        int td = dihedral && turned ? dp_pdq_min_distance(turned, true, &target, &tv) : 257;
        /* distances are at most 256: td < d only when dp_pdq_min_distance set tv */
        if (td < d)
            d = td, v = tv; /* NOLINT(clang-analyzer-core.uninitialized.Assign) */
        if (d < best_d) {
            best_d = d;
            best = &e[i];
            best_v = v;
        }
    }
    if (best == NULL)
        return NULL;
    const struct dp_hash_source *src = dp_hashset_source(opts->lists, best->source);
    json_t *m = json_pack("{s:s, s:i, s:i, s:s, s:i, s:o, s:o, s:I}", "method", "pdq", "radius",
                          radius, "distance", best_d, "variant", dp_pdq_variant_name(best_v),
                          "quality", ref->quality, "target_quality",
                          best->quality < 0 ? json_null() : json_integer(best->quality), "list",
                          dp_json_bytes(src->path, strlen(src->path)), "line",
                          (json_int_t)best->line);
    const char *label = dp_hashset_label(opts->lists, best);
    if (m != NULL && label != NULL)
        json_object_set_new(m, "label", dp_json_bytes(label, strlen(label)));
    if (m != NULL) /* a flat or tiny image: its hash says little */
        json_object_set_new(m, "low_confidence", json_boolean(ref->quality < DP_PDQ_MIN_QUALITY));
    return m;
}

enum dp_status wipe_pdq_check_buf(const uint8_t *buf, size_t len, const struct dp_wipe_opts *opts,
                                  bool need_match, json_t **pdq, json_t **match,
                                  struct dp_error *err)
{
    *pdq = *match = NULL;
    if (dp_image_sniff(buf, len) == DP_IMAGE_NONE)
        return DP_OK;
    const struct dp_scan_opts *so = opts->perceptual;
    struct dp_image_opts io = {.max_pixels = so ? so->max_pixels : 0};
    struct dp_image img;
    struct dp_error e = {0};
    if (dp_image_decode(buf, len, &io, &img, &e) != DP_OK) {
        *pdq = json_pack("{s:s}", "error", e.msg);
        return DP_OK;
    }
    struct dp_pdq_result r, turned;
    enum dp_status st =
        dp_pdq_hash_pixels(img.pix, img.w, img.h, img.stride, img.channels, true, &r, err);
    if (st == DP_OK && need_match)
        st = dp_pdq_hash_pixels_turned(img.pix, img.w, img.h, img.stride, img.channels, &turned,
                                       err);
    dp_image_release(&img);
    if (st != DP_OK)
        return st;
    char hex[DP_PDQ_HEX + 1];
    dp_pdq_hex(&r.hash[DP_PDQ_ORIGINAL], hex);
    *pdq = json_pack("{s:s, s:i}", "hash", hex, "quality", r.quality);
    if (need_match)
        *match = nearest(&r, &turned, opts);
    return DP_OK;
}

enum dp_status wipe_pdq_check(int fd, const struct dp_wipe_opts *opts, bool need_match,
                              json_t **pdq, json_t **match, struct dp_error *err)
{
    *pdq = *match = NULL;
    const struct dp_scan_opts *so = opts->perceptual;
    uint64_t max = so && so->max_image_bytes ? so->max_image_bytes : DP_MAX_IMAGE_BYTES_DEFAULT;
    struct stat sb;
    uint8_t head[32];
    if (fstat(fd, &sb) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot stat");
    ssize_t hn = pread(fd, head, sizeof(head), 0);
    if (hn < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "read failed");
    if (dp_image_sniff(head, (size_t)hn) == DP_IMAGE_NONE)
        return DP_OK;
    if ((uint64_t)sb.st_size > max) {
        *pdq = json_pack("{s:s}", "error", "image larger than --max-image-bytes: not decoded");
        return DP_OK;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    uint8_t *buf = malloc(len ? len : 1);
    if (buf == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory for a %zu-byte image", len);
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            return dp_error_set(err, DP_ERR_IO, r < 0 ? errno : 0, "read failed");
        }
        got += (size_t)r;
    }
    enum dp_status st = wipe_pdq_check_buf(buf, len, opts, need_match, pdq, match, err);
    free(buf);
    return st;
}
