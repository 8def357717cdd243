/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: scan report JSON and the wipe plan read back from it. */
#include "deprive/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "deprive/digest.h"
#include "deprive/util.h"
#include "dp_config.h"

json_t *dp_json_bytes(const char *p, size_t n)
{
    /* jansson refuses invalid UTF-8, which is exactly the test we need */
    json_t *s = json_stringn(p, n);
    if (s != NULL)
        return s;
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(cap);
    if (b == NULL)
        return NULL;
    sodium_bin2base64(b, cap, (const unsigned char *)p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *o = json_pack("{s:s}", "base64", b);
    free(b);
    return o;
}

bool dp_json_bytes_get(const json_t *v, char **out, size_t *len)
{
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (memchr(s, '\0', n) != NULL)
            return false;
        *out = strndup(s, n);
        *len = n;
        return *out != NULL;
    }
    const json_t *b = json_object_get(v, "base64");
    if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_string(b))
        return false;
    size_t bl = json_string_length(b);
    char *buf = malloc(bl + 1);
    size_t n = 0;
    if (buf == NULL ||
        sodium_base642bin((unsigned char *)buf, bl, json_string_value(b), bl, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        memchr(buf, '\0', n) != NULL) {
        free(buf);
        return false;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return true;
}

char *dp_json_location_text(const json_t *location)
{
    size_t used = 0, cap = 64;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    if (!json_is_array(location) || json_array_size(location) == 0)
        return dp_text_escape_append(&out, &used, &cap, "?", 1) ? out : (free(out), NULL);
    size_t i;
    const json_t *el;
    json_array_foreach(location, i, el)
    {
        bool ok = i == 0 || dp_text_escape_append(&out, &used, &cap, " -> ", 4);
        if (json_is_string(el)) {
            ok = ok && dp_text_escape_append(&out, &used, &cap, json_string_value(el), json_string_length(el));
        } else {
            char *raw = NULL, *q = NULL;
            size_t n = 0;
            if (dp_json_bytes_get(el, &raw, &n))
                q = dp_quote_bytes(raw, n);
            /* q is already escaped; its backslashes must stay single */
            size_t ql = q ? strlen(q) : 1;
            if (ok && used + ql + 1 > cap) {
                char *nb = realloc(out, cap = used + ql + 64);
                ok = nb != NULL;
                out = nb ? nb : out;
            }
            if (ok) {
                memcpy(out + used, q ? q : "?", ql + 1);
                used += ql;
            }
            free(raw);
            free(q);
        }
        if (!ok) {
            free(out);
            return NULL;
        }
    }
    return out;
}

char *dp_json_dump(const json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (t == NULL) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

enum dp_status dp_json_write_file(const json_t *doc, const char *path, struct dp_error *err)
{
    char *s = dp_json_dump(doc);
    if (s == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "cannot serialize JSON");
    enum dp_status st = dp_write_file_atomic(path, s, strlen(s), 0644, err);
    free(s);
    return st;
}

enum dp_status dp_json_load_file(const char *path, size_t max, json_t **out,
                                 struct dp_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    enum dp_status st = dp_read_file(path, max, &buf, &len, err);
    if (st != DP_OK)
        return st;
    json_error_t je;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (doc == NULL)
        return dp_error_set(err, DP_ERR_PARSE, 0, "%s:%d: %s", path, je.line, je.text);
    *out = doc;
    return DP_OK;
}

static json_t *hex_string(const uint8_t *b, size_t n)
{
    char hex[2 * DP_DIGEST_MAX + 1];
    dp_hex_encode(hex, b, n);
    return json_string(hex);
}

json_t *dp_report_hash_lists(const struct dp_hashset *set)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < dp_hashset_source_count(set); i++) {
        const struct dp_hash_source *src = dp_hashset_source(set, i);
        json_t *counts = json_object();
        for (int a = 0; a < DP_ALGO_COUNT; a++)
            json_object_set_new(counts, dp_algo_name((enum dp_algo)a),
                                json_integer((json_int_t)src->counts[a]));
        json_array_append_new(arr, json_pack("{s:o, s:o, s:s, s:o}", "file",
                                             dp_json_bytes(src->path, strlen(src->path)),
                                             "sha256", hex_string(src->sha256, 32), "format",
                                             src->format ? src->format : "unknown", "entries",
                                             counts));
    }
    return arr;
}

static json_t *time_json(time_t t)
{
    char b[32];
    dp_utc_format(b, sizeof(b), t);
    return json_string(b);
}

static json_int_t ns_of(int64_t sec, uint32_t nsec)
{
    return (json_int_t)sec * 1000000000 + (json_int_t)nsec;
}

static json_t *digests_json(unsigned mask, const uint8_t dg[][DP_DIGEST_MAX])
{
    json_t *o = json_object();
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++)
        if (mask & DP_DIGEST_MASK(a))
            json_object_set_new(o, dp_algo_name((enum dp_algo)a),
                                hex_string(dg[a], dp_algo_len((enum dp_algo)a)));
    return o;
}

/* Birth time and inode generation, where the filesystem reports them: what tells the object
 * from a later one that reused its inode number. */
static void id_extra_json(json_t *o, const struct dp_file_id *id)
{
    if (o == NULL)
        return;
    if (id->has_btime)
        json_object_set_new(o, "birth_ns", json_integer(ns_of(id->btime_sec, id->btime_nsec)));
    if (id->has_generation)
        json_object_set_new(o, "generation", json_integer((json_int_t)id->generation));
}

static json_t *finding_json(const struct dp_finding *f, const struct dp_hashset *set)
{
    json_t *matched = json_array();
    for (size_t i = 0; i < f->match_count; i++) {
        const struct dp_match *m = &f->matches[i];
        const struct dp_hash_source *src = dp_hashset_source(set, m->source);
        json_t *mo = json_pack("{s:s, s:s, s:o, s:I}", "method", "exact", "algo",
                               dp_algo_name((enum dp_algo)m->algo), "list",
                               dp_json_bytes(src->path, strlen(src->path)), "line",
                               (json_int_t)m->line);
        struct dp_hash_entry probe = {.label = m->label};
        const char *label = dp_hashset_label(set, &probe);
        if (label != NULL)
            json_object_set_new(mo, "label", dp_json_bytes(label, strlen(label)));
        json_array_append_new(matched, mo);
    }
    json_t *loc = json_array();
    json_array_append_new(loc, dp_json_bytes(f->path, f->path_len));
    char mt[32];
    dp_utc_format(mt, sizeof(mt), (time_t)f->id.mtime_sec);
    json_t *o = json_pack("{s:o, s:I, s:{s:I, s:I}, s:I, s:I, s:s, s:I, s:I, s:s, s:o, s:o}",
                     "location", loc, "size", (json_int_t)f->id.size, "device", "major",
                     (json_int_t)f->id.dev_major, "minor", (json_int_t)f->id.dev_minor, "inode",
                     (json_int_t)f->id.ino, "links", (json_int_t)f->id.nlink, "mtime", mt,
                     "mtime_ns", ns_of(f->id.mtime_sec, f->id.mtime_nsec), "ctime_ns",
                     ns_of(f->id.ctime_sec, f->id.ctime_nsec), "mime", f->mime, "digests",
                     digests_json(f->digest_mask, f->digests), "matched", matched);
    id_extra_json(o, &f->id);
    return o;
}

static json_t *skip_json(const struct dp_skip *s)
{
    json_t *loc = json_array();
    json_array_append_new(loc, dp_json_bytes(s->path, s->path_len));
    json_t *o = json_pack("{s:o, s:s}", "location", loc, "reason",
                          dp_skip_reason_name(s->reason));
    if (o != NULL && s->errnum != 0) {
        json_object_set_new(o, "errno", json_integer(s->errnum));
        json_object_set_new(o, "error", json_string(strerror(s->errnum)));
    }
    if (o != NULL && s->reason == DP_SKIP_TOO_LARGE) {
        json_object_set_new(o, "size", json_integer((json_int_t)s->size));
        json_object_set_new(o, "limit", json_integer((json_int_t)s->limit));
        json_object_set_new(o, "limit_source",
                            json_string(dp_size_limit_name(s->limit_source)));
    }
    return o;
}

char *dp_report_skip_detail(const json_t *skip)
{
    const json_t *reason = json_object_get(skip, "reason");
    const json_t *size = json_object_get(skip, "size"), *limit = json_object_get(skip, "limit");
    const json_t *src = json_object_get(skip, "limit_source");
    enum dp_size_limit which;
    if (!json_is_string(reason) ||
        strcmp(json_string_value(reason), dp_skip_reason_name(DP_SKIP_TOO_LARGE)) != 0 ||
        !json_is_integer(size) || json_integer_value(size) < 0 || !json_is_integer(limit) ||
        json_integer_value(limit) < 0 || !json_is_string(src) ||
        !dp_size_limit_parse(json_string_value(src), &which))
        return NULL;
    char buf[160];
    dp_size_limit_text(buf, sizeof(buf), (uint64_t)json_integer_value(size),
                       (uint64_t)json_integer_value(limit), which);
    return strdup(buf);
}

json_t *dp_report_fs_json(const struct dp_fsinfo *fs)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:b, s:I, s:{s:I, s:I}}", "type",
                          dp_fsinfo_kind(fs), "mount_type", fs->fstype, "source", fs->source,
                          "mount_point", dp_json_bytes(fs->mount_point, strlen(fs->mount_point)),
                          "options", fs->options, "read_only", fs->read_only, "mount_id",
                          (json_int_t)fs->mnt_id, "device", "major", (json_int_t)fs->dev_major,
                          "minor", (json_int_t)fs->dev_minor);
    if (o != NULL) {
        char magic[32];
        snprintf(magic, sizeof(magic), "0x%llx", (unsigned long long)fs->fs_magic);
        json_object_set_new(o, "statfs_magic", json_string(magic));
    }
    if (o != NULL) {
        char uuid[37];
        dp_fsinfo_uuid_text(fs, uuid);
        json_object_set_new(o, "uuid", uuid[0] ? json_string(uuid) : json_null());
        json_object_set_new(o, "boot_id", json_string(fs->boot_id));
        json_object_set_new(o, "media_class", json_string(dp_media_class_name(fs->media_class)));
        json_object_set_new(o, "media_class_source", json_string(fs->media_source));
        json_object_set_new(o, "transport", json_string(fs->transport));
        json_object_set_new(o, "stacked", json_boolean(fs->stacked));
    }
    if (o != NULL && fs->have_block) {
        json_object_set_new(o, "block_device", json_string(fs->block_name));
        json_object_set_new(o, "rotational",
                            fs->rotational < 0 ? json_null() : json_boolean(fs->rotational));
        json_object_set_new(o, "discard",
                            fs->discard < 0 ? json_null() : json_boolean(fs->discard));
    }
    return o;
}

static json_t *totals_json(const struct dp_scan_result *r)
{
    const struct dp_scan_totals *t = &r->totals;
    json_t *skipped = json_object();
    uint64_t nskip = 0;
    for (int i = 0; i < DP_SKIP_REASON_COUNT; i++) {
        json_object_set_new(skipped, dp_skip_reason_name((enum dp_skip_reason)i),
                            json_integer((json_int_t)t->skipped[i]));
        nskip += t->skipped[i];
    }
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I}", "files",
                     (json_int_t)t->files, "files_read", (json_int_t)t->files_read, "bytes_read",
                     (json_int_t)t->bytes_read, "files_skipped_by_size",
                     (json_int_t)t->files_size_skipped, "bytes_skipped_by_size",
                     (json_int_t)t->bytes_size_skipped, "directories",
                     (json_int_t)t->directories, "skipped", (json_int_t)nskip,
                     "skipped_by_reason", skipped, "findings", (json_int_t)r->finding_count,
                     "noatime_fallbacks", (json_int_t)t->noatime_fallbacks);
}

enum dp_status dp_report_build(const struct dp_scan_result *r, const struct dp_hashset *set,
                               json_t **out, struct dp_error *err)
{
    json_t *findings = json_array(), *skips = json_array(), *algos = json_array();
    for (size_t i = 0; findings && i < r->finding_count; i++)
        json_array_append_new(findings, finding_json(&r->findings[i], set));
    for (size_t i = 0; skips && i < r->skip_count; i++)
        json_array_append_new(skips, skip_json(&r->skips[i]));
    for (int a = 0; algos && a < DP_ALGO_EXACT_COUNT; a++)
        if (r->digest_mask & DP_DIGEST_MASK(a))
            json_array_append_new(algos, json_string(dp_algo_name((enum dp_algo)a)));
    const char *root_abs = r->root_abs ? r->root_abs : r->root;
    json_t *doc = json_pack(
        "{s:s, s:i, s:{s:s, s:s, s:s}, s:o, s:o, s:o, s:o, s:o, s:{s:b, s:i, s:o, s:b, s:b, s:o}, "
        "s:o, s:o, s:o, s:o}",
        "format", DP_REPORT_FORMAT, "version", DP_REPORT_VERSION, "tool", "name", "deprive",
        "version", DP_VERSION, "build", DP_BUILD_ID, "started", time_json(r->started),
        "finished", time_json(r->finished), "root", dp_json_bytes(r->root, strlen(r->root)),
        "root_abs", dp_json_bytes(root_abs, strlen(root_abs)), "filesystem", dp_report_fs_json(&r->fs),
        "scope", "cross_mounts", r->cross_mounts, "jobs", (int)r->jobs, "digests", algos,
        "size_filter", r->size_filter, "noatime", r->totals.noatime_fallbacks == 0,
        "max_file_size",
        r->max_file_size ? json_integer((json_int_t)r->max_file_size) : json_null(),
        "hash_lists", dp_report_hash_lists(set), "totals", totals_json(r), "skips", skips,
        "findings", findings);
    json_t *rid = doc ? json_pack("{s:I}", "inode", (json_int_t)r->fs.obj.ino) : NULL;
    id_extra_json(rid, &r->fs.obj);
    if (doc == NULL || rid == NULL || json_object_set_new(doc, "root_identity", rid) != 0) {
        json_decref(doc);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "cannot build the report");
    }
    *out = doc;
    return DP_OK;
}

/* ---- plan ---- */

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
    const char *uuid = json_string_value(json_object_get(fs, "uuid"));
    const char *boot = json_string_value(json_object_get(fs, "boot_id"));
    if (uuid != NULL) {
        char hex[33];
        size_t n = 0;
        for (const char *c = uuid; *c && n < 32; c++)
            if (*c != '-')
                hex[n++] = *c;
        hex[n] = '\0';
        if (n != 32 || !dp_hex_decode(r->uuid, 16, hex, 32))
            return false;
        r->has_uuid = true;
    }
    if (boot != NULL)
        snprintf(r->boot_id, sizeof(r->boot_id), "%s", boot);
    r->present = true;
    return true;
}

static enum dp_status parse_target(const json_t *f, size_t index, struct dp_plan_target *t,
                                   struct dp_error *err)
{
    const json_t *loc = json_object_get(f, "location");
    const json_t *dev = json_object_get(f, "device");
    const json_t *dg = json_object_get(f, "digests");
    uint64_t nlink = 0;
    if (!json_is_array(loc) || json_array_size(loc) != 1 ||
        !dp_json_bytes_get(json_array_get(loc, 0), &t->path, &t->path_len))
        return dp_error_set(err, DP_ERR_PARSE, 0,
                            "finding %zu: bad location (archive members are not wipeable "
                            "targets in this version)", index);
    if (!json_is_object(dev) || !get_u64(dev, "major", &t->id.dev_major) ||
        !get_u64(dev, "minor", &t->id.dev_minor) || !get_u64(f, "inode", &t->id.ino) ||
        !get_u64(f, "size", &t->id.size) || !get_u64(f, "links", &nlink) ||
        !get_ns(f, "mtime_ns", &t->id.mtime_sec, &t->id.mtime_nsec) ||
        !get_ns(f, "ctime_ns", &t->id.ctime_sec, &t->id.ctime_nsec) || !json_is_object(dg))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: missing or bad identity fields",
                            index);
    t->id.nlink = (uint32_t)nlink;
    if (!get_id_extra(f, &t->id))
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: bad birth_ns or generation",
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
    if (t->path_len == 0 || t->path[0] == '/')
        return dp_error_set(err, DP_ERR_PARSE, 0, "finding %zu: path must be relative", index);
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
    for (size_t i = 0; i < p->count && st == DP_OK; i++)
        st = parse_target(json_array_get(findings, i), i, &p->targets[i], err);
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
    for (size_t i = 0; plan->targets && i < plan->count; i++)
        free(plan->targets[i].path);
    free(plan->targets);
    free(plan->root);
    json_decref(plan->report);
    free(plan);
}
