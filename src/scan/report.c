/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the scan report JSON, built from a scan. */
#include "deprive/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "deprive/carve.h"
#include "deprive/digest.h"
#include "deprive/extents.h"
#include "deprive/image.h"
#include "deprive/pdq.h"
#include "deprive/source.h"
#include "deprive/util.h"
#include "dp_config.h"

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
        json_array_append_new(
            arr, json_pack("{s:o, s:o, s:s, s:o, s:I, s:I, s:I}", "file",
                           dp_json_bytes(src->path, strlen(src->path)), "sha256",
                           hex_string(src->sha256, 32), "format",
                           src->format ? src->format : "unknown", "entries", counts,
                           "low_quality", (json_int_t)src->low_quality, "unused",
                           (json_int_t)src->unused, "withdrawn", (json_int_t)src->withdrawn));
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

/* ["path", "member", "member inside it", ...] */
static json_t *location_json(const char *path, size_t len, char *const *members,
                             const size_t *lens, unsigned depth)
{
    json_t *loc = json_array();
    json_array_append_new(loc, dp_json_bytes(path, len));
    for (unsigned i = 0; i < depth; i++)
        json_array_append_new(loc, dp_json_bytes(members[i], lens[i]));
    return loc;
}

json_t *dp_report_matched_json(const struct dp_finding *f, const struct dp_hashset *set)
{
    json_t *matched = json_array();
    for (size_t i = 0; i < f->match_count; i++) {
        const struct dp_match *m = &f->matches[i];
        const struct dp_hash_source *src = dp_hashset_source(set, m->source);
        bool pdq = m->algo == DP_ALGO_PDQ;
        json_t *mo = json_pack("{s:s, s:s, s:o, s:I}", "method", pdq ? "pdq" : "exact", "algo",
                               dp_algo_name((enum dp_algo)m->algo), "list",
                               dp_json_bytes(src->path, strlen(src->path)), "line",
                               (json_int_t)m->line);
        if (mo != NULL && pdq) {
            json_object_set_new(mo, "distance", json_integer(m->distance));
            json_object_set_new(mo, "variant",
                                json_string(dp_pdq_variant_name((enum dp_pdq_variant)m->variant)));
            json_object_set_new(mo, "target_quality",
                                m->target_quality < 0 ? json_null()
                                                      : json_integer(m->target_quality));
        }
        struct dp_hash_entry probe = {.label = m->label};
        const char *label = dp_hashset_label(set, &probe);
        if (label != NULL)
            json_object_set_new(mo, "label", dp_json_bytes(label, strlen(label)));
        json_array_append_new(matched, mo);
    }
    return matched;
}

json_t *dp_report_pdq_json(const struct dp_finding *f)
{
    if (!f->has_pdq)
        return NULL;
    char hex[DP_PDQ_HEX + 1];
    struct dp_pdq h;
    memcpy(h.b, f->pdq, sizeof(h.b));
    dp_pdq_hex(&h, hex);
    return json_pack("{s:s, s:i, s:s, s:b}", "hash", hex, "quality", f->pdq_quality, "decode",
                     f->pdq_decode, "low_confidence", f->pdq_quality < DP_PDQ_MIN_QUALITY);
}

json_t *dp_report_digests_json(unsigned mask, const uint8_t dg[][DP_DIGEST_MAX])
{
    return digests_json(mask, dg);
}

/* A remnant: a copy on the device that no live file holds (scan.h). */
static json_t *remnant_json(const struct dp_finding *f, size_t index,
                            const struct dp_hashset *set)
{
    char id[32];
    dp_plan_finding_id(index, id, sizeof(id));
    json_t *o = json_pack(
        "{s:s, s:[{s:o}, {s:I, s:I}], s:{s:s, s:I, s:I, s:s}, s:I, s:{s:I, s:I}, s:s, s:o, "
        "s:o, s:b}",
        "id", id, "location", "device", dp_json_bytes(f->path, f->path_len), "offset",
        (json_int_t)f->embedded_offset, "length", (json_int_t)f->embedded_length, "remnant",
        "kind", dp_carve_kind_name((enum dp_carve_kind)f->embedded_kind), "offset",
        (json_int_t)f->embedded_offset, "length", (json_int_t)f->embedded_length, "use",
        dp_fsmap_use_name((enum dp_fsmap_use)f->remnant_use), "size",
        (json_int_t)f->embedded_length, "device", "major", (json_int_t)f->id.dev_major, "minor",
        (json_int_t)f->id.dev_minor, "mime", f->mime, "digests",
        digests_json(f->digest_mask, f->digests), "matched", dp_report_matched_json(f, set),
        "perceptual_only", f->perceptual_only);
    if (o != NULL && f->has_pdq)
        json_object_set_new(o, "pdq", dp_report_pdq_json(f));
    const struct dp_remnant_owner *ow = f->owner;
    if (o != NULL && ow != NULL) {
        json_t *in = json_pack("{s:o, s:I, s:I, s:I, s:b, s:I, s:I}", "path",
                               dp_json_bytes(ow->path, ow->path_len), "inode",
                               (json_int_t)ow->id.ino, "size", (json_int_t)ow->id.size,
                               "file_offset", (json_int_t)ow->file_offset, "slack",
                               ow->in_slack, "mtime_ns",
                               ns_of(ow->id.mtime_sec, ow->id.mtime_nsec), "ctime_ns",
                               ns_of(ow->id.ctime_sec, ow->id.ctime_nsec));
        json_object_set_new(json_object_get(o, "remnant"), "in_file", in);
    }
    return o;
}

/* The sweep of a scan --sweep (docs/sweep.md). */
static json_t *sweep_json(const struct dp_scan_result *r)
{
    const struct dp_scan_sweep *sw = r->sweep;
    json_t *att = json_array();
    for (size_t i = 0; att != NULL && i < sw->nattributed; i++) {
        char id[32];
        dp_plan_finding_id(sw->attributed[i].finding, id, sizeof(id));
        json_array_append_new(att, json_pack("{s:I, s:I, s:s, s:s}", "offset",
                                             (json_int_t)sw->attributed[i].offset, "length",
                                             (json_int_t)sw->attributed[i].length, "finding", id,
                                             "by", sw->attributed[i].by_extents ? "extents"
                                                                                : "digests"));
    }
    json_t *o = json_pack(
        "{s:o, s:s, s:s, s:{s:I, s:I}, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:b, s:o, s:b, s:o, "
        "s:I, s:s}",
        "device", dp_json_bytes(sw->device, strlen(sw->device)), "device_from",
        sw->device_given ? "--device" : "mount", "kind",
        dp_source_kind_name((enum dp_source_kind)sw->source_kind), "rdev", "major",
        (json_int_t)sw->rdev_major, "minor", (json_int_t)sw->rdev_minor, "size",
        (json_int_t)sw->size, "bytes_swept", (json_int_t)sw->bytes_swept, "seconds", sw->seconds,
        "candidates", (json_int_t)sw->candidates, "streams", (json_int_t)sw->streams,
        "stream_bytes", (json_int_t)sw->stream_bytes, "decoded", (json_int_t)sw->decoded,
        "limited", sw->limited, "limit_detail",
        sw->limited ? json_string(sw->limit_detail) : json_null(), "extents", sw->extents,
        "attributed", att, "remnants", (json_int_t)sw->remnants, "scope",
        "this filesystem's device only, read after the walk: other partitions, unpartitioned "
        "space and HPA/DCO areas are not swept; a copy stored in pieces (fragmented) is not "
        "found; matches in files with findings are theirs, every other match is a remnant; "
        "the bytes of files the walk read are not read again where the filesystem reports "
        "where they lie");
    if (o != NULL) { /* their bytes before their end: the slack after it is swept */
        json_object_set_new(o, "bytes_skipped_live", json_integer((json_int_t)sw->bytes_skipped));
        json_object_set_new(o, "device_checked",
                            json_string(sw->device_given ? "boot sector size" : "mount source"));
    }
    return o;
}

static json_t *finding_json(const struct dp_finding *f, size_t index,
                            const struct dp_hashset *set)
{
    if (f->remnant)
        return remnant_json(f, index, set);
    json_t *matched = dp_report_matched_json(f, set);
    json_t *loc = location_json(f->path, f->path_len, f->members, f->member_lens,
                                f->member_depth);
    const uint64_t one[1][2] = {{f->embedded_offset, f->embedded_length}};
    const uint64_t(*pieces)[2] = f->embedded_nranges ? (const uint64_t(*)[2])f->embedded_ranges
                                                      : one;
    size_t npieces = f->embedded_nranges ? f->embedded_nranges : 1;
    if (f->embedded)
        json_array_append_new(loc, dp_json_ranges(pieces, npieces));
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
    if (o != NULL && f->has_pdq)
        json_object_set_new(o, "pdq", dp_report_pdq_json(f));
    if (o != NULL && f->member_depth > 0) {
        json_t *m = json_pack("{s:I, s:I, s:s}", "size", (json_int_t)f->member_size, "index",
                              (json_int_t)f->member_index, "archive",
                              dp_archive_kind_name((enum dp_archive_kind)f->member_archive));
        if (m != NULL && f->member_mtime != 0) {
            char mm[32];
            dp_utc_format(mm, sizeof(mm), (time_t)f->member_mtime);
            json_object_set_new(m, "mtime", json_string(mm));
        }
        if (m != NULL && f->member_compression != NULL)
            json_object_set_new(m, "compression", json_string(f->member_compression));
        if (m != NULL && f->member_unlisted) {
            json_object_set_new(m, "unlisted", json_true());
            json_object_set_new(m, "local_header_offset",
                                json_integer((json_int_t)f->member_local_offset));
        }
        if (m != NULL && f->hardlink_of != NULL)
            json_object_set_new(m, "hardlink_of",
                                dp_json_bytes(f->hardlink_of, f->hardlink_of_len));
        json_object_set_new(o, "member", m);
    }
    if (o != NULL && f->embedded)
        json_object_set_new(o, "embedded",
                            json_pack("{s:s, s:I, s:I, s:I}", "kind",
                                      dp_carve_kind_name((enum dp_carve_kind)f->embedded_kind),
                                      "offset", (json_int_t)f->embedded_offset, "length",
                                      (json_int_t)f->embedded_length, "pieces",
                                      (json_int_t)npieces));
    if (o != NULL) {
        char id[32];
        dp_plan_finding_id(index, id, sizeof(id));
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "perceptual_only", json_boolean(f->perceptual_only));
    }
    return o;
}

/* The reason name of a member skip: "archive-" and dp_member_skip_name. */
static json_t *member_reason_json(int r)
{
    char name[48];
    snprintf(name, sizeof(name), "archive-%s", dp_member_skip_name((enum dp_member_skip)r));
    return json_string(name);
}

static json_t *skip_json(const struct dp_skip *s)
{
    json_t *loc = location_json(s->path, s->path_len, s->members, s->member_lens,
                                s->member_depth);
    json_t *o = json_pack("{s:o, s:o}", "location", loc, "reason",
                          s->member_reason >= 0 ? member_reason_json(s->member_reason)
                                                : json_string(dp_skip_reason_name(s->reason)));
    if (o != NULL && s->detail != NULL)
        json_object_set_new(o, "detail", json_string(s->detail));
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
    for (int i = 0; r->archives && i < DP_MEMBER_SKIP_COUNT; i++) {
        json_t *name = member_reason_json(i);
        json_object_set_new(skipped, json_string_value(name),
                            json_integer((json_int_t)t->archive_skipped[i]));
        json_decref(name);
        nskip += t->archive_skipped[i];
    }
    json_t *arch = r->archives
                       ? json_pack("{s:I, s:I, s:I, s:I}", "opened", (json_int_t)t->archives,
                                   "members", (json_int_t)t->archive_members, "bytes_expanded",
                                   (json_int_t)t->archive_bytes, "files_head_read",
                                   (json_int_t)t->files_head_read)
                       : json_null();
    json_t *carve = r->carve
                        ? json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                                    "candidates",
                                    (json_int_t)t->carve_candidates, "streams",
                                    (json_int_t)t->carved, "bytes", (json_int_t)t->carved_bytes,
                                    "decoded", (json_int_t)t->carved_decoded, "files_limited",
                                    (json_int_t)t->carve_limited, "sqlite_records",
                                    (json_int_t)t->sqlite_records, "sqlite_chains_broken",
                                    (json_int_t)t->sqlite_broken, "sqlite_records_too_long",
                                    (json_int_t)t->sqlite_too_long, "members",
                                    (json_int_t)t->carved_members, "members_too_large",
                                    (json_int_t)t->members_too_large)
                        : json_null();
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:o, "
                     "s:o}",
                     "files",
                     (json_int_t)t->files, "files_read", (json_int_t)t->files_read, "bytes_read",
                     (json_int_t)t->bytes_read, "files_skipped_by_size",
                     (json_int_t)t->files_size_skipped, "bytes_skipped_by_size",
                     (json_int_t)t->bytes_size_skipped, "directories",
                     (json_int_t)t->directories, "skipped", (json_int_t)nskip,
                     "skipped_by_reason", skipped, "findings", (json_int_t)r->finding_count,
                     "noatime_fallbacks", (json_int_t)t->noatime_fallbacks, "images_decoded",
                     (json_int_t)t->images_decoded, "images_undecodable",
                     (json_int_t)t->images_undecodable, "images_too_large",
                     (json_int_t)t->images_too_large, "archives", arch, "carved", carve);
}

enum dp_status dp_report_build(const struct dp_scan_result *r, const struct dp_hashset *set,
                               json_t **out, struct dp_error *err)
{
    json_t *findings = json_array(), *skips = json_array(), *algos = json_array();
    for (size_t i = 0; findings && i < r->finding_count; i++)
        json_array_append_new(findings, finding_json(&r->findings[i], i, set));
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
    json_t *perc = json_pack("{s:b, s:o, s:b, s:s}", "used", r->pdq_used, "threshold",
                             r->pdq_used ? json_integer(r->pdq_threshold) : json_null(),
                             "dihedral", r->pdq_used && r->pdq_dihedral, "decoders",
                             dp_image_decoder_versions());
    if (doc != NULL && perc != NULL)
        json_object_set_new(json_object_get(doc, "scope"), "perceptual", perc);
    else
        json_decref(perc);
    const struct dp_archive_limits *al = &r->archive_limits;
    json_t *arch = r->archives
                       ? json_pack("{s:b, s:i, s:I, s:I, s:I, s:I, s:b}", "used", 1, "max_depth",
                                   (int)al->max_depth, "max_bytes", (json_int_t)al->max_bytes,
                                   "max_ratio", (json_int_t)al->max_ratio, "max_members",
                                   (json_int_t)al->max_members, "nested_buffer",
                                   (json_int_t)al->nested_buffer, "passwords",
                                   al->password_count > 0)
                       : json_pack("{s:b}", "used", 0);
    if (doc != NULL && arch != NULL)
        json_object_set_new(json_object_get(doc, "scope"), "archives", arch);
    else
        json_decref(arch);
    json_t *kinds = json_array();
    for (int k = DP_CARVE_NONE + 1; r->carve && kinds != NULL && k < DP_CARVE_KIND_COUNT; k++)
        json_array_append_new(kinds, json_string(dp_carve_kind_name((enum dp_carve_kind)k)));
    json_t *carving = r->carve ? json_pack("{s:b, s:o, s:I, s:b, s:b, s:I}", "used", 1,
                                           "formats", kinds, "max_stream",
                                           (json_int_t)r->carve_max_stream, "sqlite_overflow",
                                           1, "inside_archive_members", r->archives,
                                           "max_member", (json_int_t)r->carve_max_stream)
                               : json_pack("{s:b}", "used", 0);
    if (!r->carve)
        json_decref(kinds);
    if (doc != NULL && carving != NULL)
        json_object_set_new(json_object_get(doc, "scope"), "carving", carving);
    else
        json_decref(carving);
    if (doc != NULL && r->sweep != NULL)
        json_object_set_new(doc, "sweep", sweep_json(r));
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
