/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the raw sweep - a block device, a raw image or an EWF set read from start to end,
 * read-only, carving the same image streams as inside files (carve.h), each digested, decoded
 * and matched against the lists. What it finds on a device whose files were not walked is
 * every contiguous copy on it, live files and deleted remnants alike; where a copy lies in
 * pieces (a fragmented file) it is not found. */
#ifndef DEPRIVE_SWEEP_H
#define DEPRIVE_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "deprive/json.h"
#include "deprive/scan.h"
#include "deprive/source.h"

struct dp_sweep_progress {
    uint64_t bytes_done, bytes_total, matches;
    double elapsed;
};

struct dp_sweep_opts {
    /* matching: pdq_threshold(_given), no_dihedral, pdq_exact, max_pixels, max_image_bytes,
       carve_max_stream (NULL: defaults) */
    const struct dp_scan_opts *match;
    unsigned jobs; /* threads matching carved streams (0: one per online CPU); the source
                      is read on one */
    void (*progress)(void *ctx, const struct dp_sweep_progress *p); /* optional, ~10/s */
    void *progress_ctx;
    /* Ranges not to read ({offset, length}, sorted, not overlapping): the bytes of live files
     * a scan has read (scan --sweep). The finder starts afresh after each, so no stream is
     * found across one; a candidate's walk may read into one. Not for EWF sets (their media
     * hash needs every byte). */
    const uint64_t (*skip)[2];
    size_t nskip;
};

struct dp_sweep_result {
    char *source;                /* as given */
    struct dp_source_info info;
    time_t started, finished;
    bool pdq_used;
    int pdq_threshold;
    bool pdq_dihedral;
    uint64_t max_stream;
    uint64_t bytes_swept, candidates, streams, stream_bytes, decoded;
    uint64_t bytes_skipped;      /* in opts->skip ranges, not read */
    bool limited;                /* a limit stopped carving somewhere (limit_detail says) */
    char limit_detail[160];
    /* An EWF set: MD5 and SHA-1 of its media as read now (hex), compared with the stored ones */
    bool media_hashed;
    char md5[33], sha1[41];
    uint64_t checksum_errors;    /* EWF chunks whose stored checksum did not match */
    char damage[512];            /* the first such error met, "" when none */
    /* the matches: embedded findings whose path is the source and whose embedded_offset and
       embedded_length say where; sorted by offset */
    struct dp_finding *matches;
    size_t count;
};

/* Sweep src (opened by dp_source_open) for streams matching set (finalized). Fails only on a
 * read error of the source or out of memory. Caller frees *out. */
enum dp_status dp_sweep_run(const struct dp_hashset *set, struct dp_source *src,
                            const char *source_path, const struct dp_sweep_opts *opts,
                            struct dp_sweep_result **out, struct dp_error *err)
    DP_WUR DP_NONNULL(1, 2, 3, 5);
void dp_sweep_result_free(struct dp_sweep_result *r);

/* The sweep report (docs/sweep.md): format "deprive-sweep-report". */
#define DP_SWEEP_FORMAT "deprive-sweep-report"
#define DP_SWEEP_VERSION 1
enum dp_status dp_sweep_report_build(const struct dp_sweep_result *r, const struct dp_hashset *set,
                                     json_t **out, struct dp_error *err) DP_WUR;

#endif
