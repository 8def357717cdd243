/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: a scan report read back as the wipe plan, every field the wipe relies on checked. */
#include "deprive/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/json.h"
#include "deprive/util.h"

static bool get_u64(const json_t *o, const char *key, uint64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool get_ns(const json_t *o, const char *key, int64_t *sec, uint32_t *nsec)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return false;
    json_int_t ns = json_integer_value(v);
    *sec = ns / 1000000000;
    int64_t rem = ns % 1000000000;
    if (rem < 0) {
        rem += 1000000000;
        (*sec)--;
    }
    *nsec = (uint32_t)rem;
    return true;
}

/* Optional birth_ns / generation; false when present but malformed. */
static bool get_id_extra(const json_t *o, struct dp_file_id *id)
{
    if (json_object_get(o, "birth_ns") != NULL) {
        if (!get_ns(o, "birth_ns", &id->btime_sec, &id->btime_nsec))
            return false;
        id->has_btime = true;
    }
    if (json_object_get(o, "generation") != NULL) {
        if (!get_u64(o, "generation", &id->generation))
            return false;
        id->has_generation = true;
    }
    return true;
}

/* The root's identity as scanned: filesystem UUID, root inode (+ birth time, generation),
 * mount id within a boot. */
static bool parse_root_id(const json_t *doc, struct dp_plan_root *r)
{
    const json_t *fs = json_object_get(doc, "filesystem");
    const json_t *rid = json_object_get(doc, "root_identity");
    const json_t *dev = json_object_get(fs, "device");
    if (!json_is_object(fs) || !json_is_object(rid) || !get_u64(rid, "inode", &r->id.ino) ||
        !get_id_extra(rid, &r->id) || !get_u64(fs, "mount_id", &r->mnt_id) ||
        !get_u64(dev, "major", &r->id.dev_major) || !get_u64(dev, "minor", &r->id.dev_minor))
        return false;
    /* uuid: null (none known) or the canonical 8-4-4-4-12 text; boot_id: a string that fits.
     * Anything else is refused, not read as "none": a plan edited to drop them must not switch
     * the root checks off. */
    const json_t *uj = json_object_get(fs, "uuid");
    const json_t *bj = json_object_get(fs, "boot_id");
    if (!json_is_string(bj) || json_string_length(bj) >= sizeof(r->boot_id) ||
        (!json_is_null(uj) && !json_is_string(uj)))
        return false;
    snprintf(r->boot_id, sizeof(r->boot_id), "%s", json_string_value(bj));
    if (json_is_string(uj)) {
        const char *u = json_string_value(uj);
        char hex[33];
        size_t n = 0;
        if (json_string_length(uj) != 36)
            return false;
        for (size_t k = 0; k < 36; k++) {
            bool dash = k == 8 || k == 13 || k == 18 || k == 23;
            if (dash != (u[k] == '-'))
                return false;
            if (!dash)
                hex[n++] = u[k];
        }
        hex[n] = '\0';
        if (!dp_hex_decode(r->uuid, 16, hex, 32))
            return false;
        r->has_uuid = true;
    }
    r->present = true;
    return true;
}

void dp_plan_finding_id(size_t index, char *out, size_t out_size)
{
    snprintf(out, out_size, "F%zu", index + 1);
}

static enum dp_status parse_digests(const json_t *f, size_t index, struct dp_plan_target *t,
                                    struct dp_error *err);
static enum dp_status parse_ids(const json_t *f, size_t index, struct dp_plan_target *t,
                                struct dp_error *err);

/* A remnant: location [{"device": DEV}, {"offset", "length"}], the device's number and the
 * digests; no inode, no names. */
static enum dp_status parse_remnant(const json_t *f, size_t index, struct dp_plan_target *t,
                                    struct dp_error *err)
{
    const json_t *loc = json_object_get(f, "location");
    const json_t *range = json_array_get(loc, 1), *dev = json_object_get(f, "device");
    const json_t *rem = json_object_get(f, "remnant");
    uint64_t ro = 0, rl = 0;
    if (json_array_size(loc) != 2 ||
        !dp_json_bytes_get(json_object_get(json_array_get(loc, 0), "device"), &t->path,
                           &t->path_len) ||
        t->path_len == 0 || t->path[0] != '/' || !get_u64(range, "offset", &t->remnant_offset) ||
        !get_u64(range, "length", &t->id.size) || t->id.size == 0 ||
        t->remnant_offset > UINT64_MAX - t->id.size || !json_is_object(rem) ||
        !get_u64(rem, "offset", &ro) || !get_u64(rem, "length", &rl) ||
        ro != t->remnant_offset || rl != t->id.size || !json_is_object(dev) ||
        !get_u64(dev, "major", &t->id.dev_major) || !get_u64(dev, "minor", &t->id.dev_minor))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad remnant location", index);
    t->remnant = true;
    const json_t *in = json_object_get(rem, "in_file");
    if (json_is_true(json_object_get(in, "slack")) &&
        (!dp_json_bytes_get(json_object_get(in, "path"), &t->slack_path, &t->slack_path_len) ||
         t->slack_path_len == 0 || t->slack_path[0] == '/' ||
         !get_u64(in, "inode", &t->slack_id.ino) || !get_u64(in, "size", &t->slack_id.size) ||
         !get_u64(in, "file_offset", &t->slack_offset) || t->slack_offset < t->slack_id.size ||
         t->slack_offset - t->slack_id.size > ((uint64_t)1 << 20) ||
         !get_ns(in, "mtime_ns", &t->slack_id.mtime_sec, &t->slack_id.mtime_nsec) ||
         !get_ns(in, "ctime_ns", &t->slack_id.ctime_sec, &t->slack_id.ctime_nsec)))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad remnant in_file", index);
    enum dp_status st = parse_digests(f, index, t, err);
    return st == DP_OK ? parse_ids(f, index, t, err) : st;
}

static enum dp_status parse_target(const json_t *f, size_t index, struct dp_plan_target *t,
                                   struct dp_error *err)
{
    /* a path that is not UTF-8 is an object too ({"base64": ...}), without "device" */
    if (json_object_get(json_array_get(json_object_get(f, "location"), 0), "device") != NULL)
        return parse_remnant(f, index, t, err);
    const json_t *loc = json_object_get(f, "location");
    const json_t *dev = json_object_get(f, "device");
    uint64_t nlink = 0;
    size_t depth = json_is_array(loc) ? json_array_size(loc) : 0;
    if (depth == 0 || depth > 33 ||
        !dp_json_bytes_get(json_array_get(loc, 0), &t->path, &t->path_len))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad location", index);
    const json_t *range = json_array_get(loc, depth - 1);
    if (depth > 1 && json_is_object(range)) {
        /* an embedded copy: {"offset", "length"} last, within the container's size (a
           member's, for a copy inside an archive member), and the same as the finding's
           "embedded" object says */
        const json_t *emb = json_object_get(f, "embedded");
        uint64_t eo = 0, el = 0, total = 0;
        bool ok = dp_json_ranges_get(range, &t->embedded_ranges, &t->embedded_nranges);
        for (size_t k = 0; ok && k < t->embedded_nranges; k++)
            total += t->embedded_ranges[k][1];
        if (!ok || !json_is_object(emb) || !get_u64(emb, "offset", &eo) ||
            !get_u64(emb, "length", &el) || eo != t->embedded_ranges[0][0] || el != total)
            return dp_error_set(err, DP_ERR_PARSE, 0,
                                "finding %zu: bad embedded range in its location", index);
        t->embedded = true;
        t->embedded_offset = eo;
        t->embedded_length = total;
        depth--;
    }
    if (depth > 1) {
        t->member_depth = (unsigned)(depth - 1);
        t->members = calloc(depth - 1, sizeof(*t->members));
        t->member_lens = calloc(depth - 1, sizeof(*t->member_lens));
        if (t->members == NULL || t->member_lens == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        for (size_t k = 1; k < depth; k++)
            if (!dp_json_bytes_get(json_array_get(loc, k), &t->members[k - 1],
                                   &t->member_lens[k - 1]) ||
                t->member_lens[k - 1] == 0)
                return dp_error_set(err, DP_ERR_PARSE, 0,
                                    "finding %zu: bad archive member name in its location",
                                    index);
    }
    if (!json_is_object(dev) || !get_u64(dev, "major", &t->id.dev_major) ||
        !get_u64(dev, "minor", &t->id.dev_minor) || !get_u64(f, "inode", &t->id.ino) ||
        !get_u64(f, "size", &t->id.size) || !get_u64(f, "links", &nlink) ||
        !get_ns(f, "mtime_ns", &t->id.mtime_sec, &t->id.mtime_nsec) ||
        !get_ns(f, "ctime_ns", &t->id.ctime_sec, &t->id.ctime_nsec))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: missing or bad identity fields",
                            index);
    uint64_t csize = t->id.size; /* the container's: the file, or the member holding it */
    if (t->embedded && t->member_depth > 0 &&
        !get_u64(json_object_get(f, "member"), "size", &csize))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad member size", index);
    t->container_size = csize;
    for (size_t k = 0; t->embedded && k < t->embedded_nranges; k++)
        if (t->embedded_ranges[k][0] > csize ||
            t->embedded_ranges[k][1] > csize - t->embedded_ranges[k][0])
            return dp_error_set(err, DP_ERR_PARSE, 0,
                                "finding %zu: embedded range outside its container", index);
    if (nlink > UINT32_MAX)
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: missing or bad identity fields",
                            index);
    t->id.nlink = (uint32_t)nlink;
    if (!get_id_extra(f, &t->id))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad birth_ns or generation",
                            index);
    if (t->path_len == 0 || t->path[0] == '/')
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: path must be relative", index);
    enum dp_status st = parse_digests(f, index, t, err);
    return st == DP_OK ? parse_ids(f, index, t, err) : st;
}

static enum dp_status parse_digests(const json_t *f, size_t index, struct dp_plan_target *t,
                                    struct dp_error *err)
{
    const json_t *dg = json_object_get(f, "digests");
    if (!json_is_object(dg))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: missing or bad identity fields",
                            index);
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++) {
        const json_t *h = json_object_get(dg, dp_algo_name((enum dp_algo)a));
        if (h == NULL)
            continue;
        size_t n = dp_algo_len((enum dp_algo)a);
        if (!json_is_string(h) ||
            !dp_hex_decode(t->digests[a], n, json_string_value(h), json_string_length(h)))
            return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad %s digest", index,
                                dp_algo_name((enum dp_algo)a));
        t->digest_mask |= DP_DIGEST_MASK(a);
    }
    if (t->digest_mask == 0)
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: no digest", index);
    return DP_OK;
}

/* perceptual_only and the finding's id */
static enum dp_status parse_ids(const json_t *f, size_t index, struct dp_plan_target *t,
                                struct dp_error *err)
{
    const json_t *po = json_object_get(f, "perceptual_only");
    if (po != NULL && !json_is_boolean(po))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad perceptual_only", index);
    t->perceptual_only = json_is_true(po);
    dp_plan_finding_id(index, t->finding_id, sizeof(t->finding_id));
    const json_t *idj = json_object_get(f, "id");
    if (idj != NULL &&
        (!json_is_string(idj) || strcmp(json_string_value(idj), t->finding_id) != 0))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: id is not %s", index,
                            t->finding_id);
    t->finding = (json_t *)f;
    return DP_OK;
}

enum dp_status dp_plan_from_report(json_t *doc, struct dp_plan **out, struct dp_error *err)
{
    struct dp_plan *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    p->report = json_incref(doc);
    enum dp_status st = DP_OK;
    const json_t *fmt = json_object_get(doc, "format");
    const json_t *findings = json_object_get(doc, "findings");
    const json_t *scope = json_object_get(doc, "scope");
    size_t rl = 0;
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), DP_REPORT_FORMAT) != 0 ||
        json_integer_value(json_object_get(doc, "version")) != DP_REPORT_VERSION) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "not a deprive scan report (version %d)",
                          DP_REPORT_VERSION);
        goto out;
    }
    if (!dp_json_bytes_get(json_object_get(doc, "root_abs"), &p->root, &rl) ||
        p->root[0] != '/' || !json_is_array(findings)) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "report has no absolute root or findings");
        goto out;
    }
    p->cross_mounts = json_is_true(json_object_get(scope, "cross_mounts"));
    if (json_object_get(doc, "root_identity") != NULL && !parse_root_id(doc, &p->root_id)) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "report has a malformed root identity");
        goto out;
    }
    p->count = json_array_size(findings);
    p->targets = calloc(p->count ? p->count : 1, sizeof(*p->targets));
    if (p->targets == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < p->count && st == DP_OK; i++) {
        st = parse_target(json_array_get(findings, i), i, &p->targets[i], err);
        p->remnants += p->targets[i].remnant;
    }
    p->sweep = json_object_get(doc, "sweep");
    if (st == DP_OK && (p->remnants > 0 || p->sweep != NULL) &&
        (!json_is_object(p->sweep) ||
         !json_is_string(json_object_get(p->sweep, "device"))))
        st = dp_error_set(err, DP_ERR_PARSE, 0, "report has remnants but no valid sweep");
out:
    if (st != DP_OK) {
        dp_plan_free(p);
        return st;
    }
    *out = p;
    return DP_OK;
}

enum dp_status dp_plan_load(const char *path, struct dp_plan **out, struct dp_error *err)
{
    json_t *doc = NULL;
    enum dp_status st = dp_json_load_file(path, (size_t)1 << 30, &doc, err);
    if (st != DP_OK)
        return st;
    st = dp_plan_from_report(doc, out, err);
    if (st != DP_OK)
        dp_error_prefix(err, "%s: ", path);
    json_decref(doc);
    return st;
}

void dp_plan_free(struct dp_plan *plan)
{
    if (plan == NULL)
        return;
    for (size_t i = 0; plan->targets && i < plan->count; i++) {
        struct dp_plan_target *t = &plan->targets[i];
        free(t->path);
        for (unsigned d = 0; t->members != NULL && d < t->member_depth; d++)
            free(t->members[d]);
        free(t->members);
        free(t->member_lens);
        free(t->embedded_ranges);
        free(t->slack_path);
    }
    free(plan->targets);
    free(plan->root);
    json_decref(plan->report);
    free(plan);
}
