/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the scan report (docs/report.md) - built from a scan, written as JSON, and read
 * back as the wipe plan. This module, journal and cert share jansson's json_t in their APIs:
 * JSON is their subject matter, and a private wrapper would only copy it. */
#ifndef DEPRIVE_REPORT_H
#define DEPRIVE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "deprive/error.h"
#include "deprive/hashset.h"
#include "deprive/json.h"
#include "deprive/scan.h"
#include "deprive/walk.h"

#define DP_REPORT_FORMAT "deprive-scan-report"
#define DP_REPORT_VERSION 1

/* Object describing the hash lists of set (file, sha256, format, counts). New reference. */
json_t *dp_report_hash_lists(const struct dp_hashset *set);
/* The "filesystem" object of reports and wipe results. New reference. */
json_t *dp_report_fs_json(const struct dp_fsinfo *fs);
/* A finding's "matched" array, its "pdq" object (NULL without one) and a "digests" object:
 * as in the scan report, for the sweep report too. New references. */
json_t *dp_report_matched_json(const struct dp_finding *f, const struct dp_hashset *set);
json_t *dp_report_pdq_json(const struct dp_finding *f);
json_t *dp_report_digests_json(unsigned mask, const uint8_t dg[][DP_DIGEST_MAX]);
/* The reason of a skips[] element (of a report or a certificate) in words, when it has
 * details beyond its name: for "too-large", "apparent size S bytes exceeds the filesystem
 * size L bytes" (or "... exceeds --max-file-size L"). Heap string; NULL when there is nothing
 * to add, the element is malformed, or memory runs out. */
char *dp_report_skip_detail(const json_t *skip);
/* The id of the finding at index (0-based) of a report's sorted findings: "F" and index + 1.
 * Reports without ids (older versions) get the same ids when read as plans. */
void dp_plan_finding_id(size_t index, char *out, size_t out_size);
/* Build the report document for a finished scan. */
enum dp_status dp_report_build(const struct dp_scan_result *r, const struct dp_hashset *set,
                               json_t **out, struct dp_error *err) DP_WUR;

/* One file to erase, read from a report. */
struct dp_plan_target {
    char *path;            /* relative to the root, raw bytes */
    size_t path_len;
    struct dp_file_id id;  /* dev, ino, size, nlink, mtime, ctime, birth time, generation
                              as scanned */
    unsigned digest_mask;
    uint8_t digests[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    char finding_id[24];   /* the finding's stable id in its report ("F1", "F2", ...): how an
                              examiner names it to deprive confirm */
    bool perceptual_only;  /* only PDQ matched: needs an examiner's confirmation */
    json_t *finding;       /* the report's finding object (borrowed from the plan) */
    /* An archive member: path and id are the file holding it; members[0..member_depth) the
     * names inside it, outermost first; digests are the member's. 0: the file itself. */
    unsigned member_depth;
    char **members;
    size_t *member_lens;
    /* An embedded copy: the container's bytes in embedded_ranges[0..embedded_nranges)
     * ({offset, length} pieces in the stream's order; the last element of the location);
     * embedded_offset is the first piece's offset, embedded_length all pieces' bytes; path and
     * id are the container's, digests the stream's. */
    bool embedded;
    uint64_t embedded_offset, embedded_length;
    uint64_t (*embedded_ranges)[2];
    size_t embedded_nranges;
    /* An embedded copy: the size of what holds it - the file (id.size) or, with
     * member_depth > 0, the archive member whose content holds the range. */
    uint64_t container_size;
    /* A remnant (scan --sweep): path is the device (absolute), id.dev_major/dev_minor its
     * number (0 for an image file), id.size the length; the copy is the device's bytes
     * [remnant_offset, remnant_offset + id.size). It is never written to: a verified
     * free-space fill of the filesystem removes it (wipe_remnant.c). */
    bool remnant;
    uint64_t remnant_offset;
    /* A remnant in a live file's slack (report remnant.in_file.slack): that file, relative to
     * the root, its identity as scanned (ino, size, mtime, ctime), and where in it the remnant
     * starts; slack_path NULL otherwise. Only --scrub-slack writes there. */
    char *slack_path;
    size_t slack_path_len;
    struct dp_file_id slack_id;
    uint64_t slack_offset;
};

/* What the scanned root was: a wipe refuses a root that is no longer the same directory of
 * the same filesystem (a bind mount placed over it, another device mounted there). */
struct dp_plan_root {
    bool present;          /* false for reports written before deprive recorded it */
    bool has_uuid;
    uint8_t uuid[16];      /* filesystem UUID */
    char boot_id[40];      /* the boot the scan ran in: mount ids compare only within it */
    uint64_t mnt_id;
    struct dp_file_id id;  /* the root directory: dev, inode, birth time, generation */
};

struct dp_plan {
    json_t *report;        /* the whole report (owned) */
    char *root;            /* absolute root path the scan used */
    struct dp_plan_root root_id;
    bool cross_mounts;
    const json_t *sweep;   /* the report's "sweep" object (scan --sweep), or NULL */
    size_t remnants;       /* targets that are remnants */
    struct dp_plan_target *targets;
    size_t count;
};

/* Parse a report document into a plan; takes a new reference to doc. Validates every field
 * the wipe relies on; a malformed report is DP_ERR_PARSE naming the finding. */
enum dp_status dp_plan_from_report(json_t *doc, struct dp_plan **out,
                                   struct dp_error *err) DP_WUR;
enum dp_status dp_plan_load(const char *path, struct dp_plan **out, struct dp_error *err) DP_WUR;
void dp_plan_free(struct dp_plan *plan);

#endif
