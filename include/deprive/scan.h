/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the scan pipeline - walk, then N workers read each file once, digest, match,
 * classify matches. */
#ifndef DEPRIVE_SCAN_H
#define DEPRIVE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "deprive/archive.h"
#include "deprive/error.h"
#include "deprive/fsinfo.h"
#include "deprive/hashset.h"
#include "deprive/walk.h"

/* One list entry a finding matched. */
struct dp_match {
    uint8_t algo;    /* enum dp_algo */
    uint32_t source; /* dp_hashset_source index */
    uint32_t line;
    uint32_t label;  /* dp_hashset_label handle */
    /* PDQ matches only (algo DP_ALGO_PDQ): */
    int16_t distance;       /* Hamming distance of the full decode's nearest variant */
    uint8_t variant;        /* enum dp_pdq_variant of that variant */
    int16_t target_quality; /* the list's quality for the entry, -1 when it gives none */
};

/* A file whose content matched at least one list entry. */
struct dp_finding {
    char *path;            /* relative to root, raw bytes, NUL-terminated */
    size_t path_len;
    struct dp_file_id id;  /* as opened and read */
    char mime[96];
    unsigned digest_mask;  /* DP_DIGEST_MASK bits computed */
    uint8_t digests[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    struct dp_match *matches;
    size_t match_count;
    /* Perceptual: the file is an image whose PDQ was computed (pdq_decode says how). A finding
     * whose matches are all PDQ is perceptual-only: a person must confirm it before it is
     * erased. */
    bool has_pdq;
    uint8_t pdq[32];       /* struct dp_pdq of the original orientation */
    int pdq_quality;
    const char *pdq_decode; /* static text: "full", "scaled", "scaled, then full"; with
                               ", turned" when the turned pixels decided (perceptual.c) */
    bool perceptual_only;
    /* An archive member: path is the file that holds it, members[0..member_depth) the names
     * inside it, outermost first (2: a member of an archive inside the file). 0: the file
     * itself. digests, matches and the PDQ are then the member's; id stays the file's. */
    unsigned member_depth;
    char **members;
    size_t *member_lens;
    int64_t member_size;     /* bytes of the member's content */
    uint64_t member_index;   /* its entry number in the archive holding it */
    int64_t member_mtime;
    uint64_t member_local_offset; /* member_unlisted: its local header's offset in the zip */
    uint8_t member_archive;  /* enum dp_archive_kind of the archive holding it */
    bool member_unlisted;    /* a zip entry its central directory does not list */
    const char *member_compression; /* static: its compression ("gzip", ...), or NULL */
    char *hardlink_of;       /* a tar/cpio hard-link entry: the member it names (NULL else) */
    size_t hardlink_of_len;
    /* An embedded stream (carved, container/carve.h): path names the file holding it (the
     * container) and id is the container's; the stream is the container's bytes
     * [embedded_offset, embedded_offset + embedded_length); digests (SHA-256 always), matches,
     * mime and the PDQ are the stream's. */
    bool embedded;
    uint64_t embedded_offset, embedded_length; /* the first piece's offset; all pieces' bytes */
    uint8_t embedded_kind;   /* enum dp_carve_kind */
    bool remnant;            /* below */
    uint8_t remnant_use;
    /* A stream stored in pieces (a SQLite record across overflow pages): {offset, length} of
     * each in the stream's order (heap); NULL when it is one contiguous range. */
    uint64_t (*embedded_ranges)[2];
    size_t embedded_nranges;
    /* A remnant (dp_scan_opts.sweep): a copy the sweep of the device found where no live file
     * the walk read holds it - deleted, most often. path is then the device (absolute), id is
     * zero but for dev_major/dev_minor (the device's st_rdev; 0 for an image file) and the
     * stream is the device's bytes [embedded_offset, embedded_offset + embedded_length);
     * embedded is false. remnant_use is the enum dp_fsmap_use of those bytes. */
    struct dp_remnant_owner *owner; /* a remnant in space a file holds: that file, or NULL */
};

/* The live file whose extents hold a remnant (found by the extents of every file, when the
 * filesystem reports them): in its slack - past its end, in its last allocated block(s) - or,
 * unmatched, inside its data (a file the walk could not read, or a stream its carving did not
 * reach). */
struct dp_remnant_owner {
    char *path;           /* relative to the root */
    size_t path_len;
    struct dp_file_id id; /* as seen */
    uint64_t file_offset; /* where the remnant starts in the file */
    bool in_slack;        /* file_offset >= its size */
};

/* An object not examined. */
struct dp_skip {
    char *path;
    size_t path_len;
    enum dp_skip_reason reason;
    int errnum;
    /* DP_SKIP_TOO_LARGE only (else 0): the apparent size and the limit it exceeded */
    uint64_t size, limit;
    enum dp_size_limit limit_source;
    /* Inside an archive: members[0..member_depth) as in dp_finding (the member, or the
     * archive member whose archive could not be examined); member_reason is then the
     * enum dp_member_skip (reason is unused) and detail says more. member_reason -1: a file. */
    unsigned member_depth;
    char **members;
    size_t *member_lens;
    int member_reason;
    char *detail;
};

struct dp_scan_totals {
    uint64_t files;              /* regular files seen */
    uint64_t files_read;         /* read and digested to the end */
    uint64_t bytes_read;
    uint64_t files_size_skipped; /* not opened: no entry of that size */
    uint64_t bytes_size_skipped;
    uint64_t directories;
    uint64_t skipped[DP_SKIP_REASON_COUNT];
    uint64_t noatime_fallbacks;
    /* Perceptual matching (when the lists hold PDQ entries): */
    uint64_t images_decoded;     /* images decoded and PDQ-hashed */
    uint64_t images_undecodable; /* recognised as images but not decodable (corrupt, over
                                    --max-pixels): digested, not perceptually examined */
    uint64_t images_too_large;   /* over --max-image-bytes: digested only */
    /* Archives (unless dp_scan_opts.no_archives): */
    uint64_t archives;           /* archives opened, nested ones included */
    uint64_t archive_members;    /* regular members examined */
    uint64_t archive_bytes;      /* member bytes expanded */
    uint64_t archive_skipped[DP_MEMBER_SKIP_COUNT]; /* recorded in skips[] too */
    uint64_t files_head_read;    /* files of sizes no entry has: only their first 32 KiB read,
                                    to recognise archives (counted in files_size_skipped) */
    /* Carving (unless dp_scan_opts.no_carve): */
    uint64_t carve_candidates;   /* offsets where a stream's signature and header passed */
    uint64_t carved;             /* complete streams carved (not the file itself) */
    uint64_t carved_bytes;
    uint64_t carved_decoded;     /* carved images decoded and PDQ-hashed */
    uint64_t carve_limited;      /* files whose carving stopped at a limit (skips[] too) */
    uint64_t carved_members;     /* archive members held in memory and carved */
    uint64_t members_too_large;  /* members over the longest stream, not carved (skips[] too) */
    uint64_t sqlite_records;     /* SQLite records put together from overflow pages */
    uint64_t sqlite_broken;      /* overflow chains that looped, left the file or ended early */
    uint64_t sqlite_too_long;    /* records over the longest stream: not put together */
};

struct dp_scan_result {
    char *root;                  /* as given */
    char *root_abs;              /* realpath at scan time, or NULL */
    time_t started, finished;
    struct dp_fsinfo fs;
    bool cross_mounts;
    unsigned jobs;
    unsigned digest_mask;        /* algorithms computed for every file read */
    bool size_filter;            /* files of unwanted sizes were not read */
    uint64_t max_file_size;      /* dp_scan_opts.max_file_size (0: the filesystem's size) */
    bool pdq_used;               /* the lists held PDQ entries: images were matched */
    int pdq_threshold;           /* the Hamming radius used */
    bool pdq_dihedral;           /* rotated and mirrored variants matched too */
    bool archives;               /* archives were opened and their members examined */
    struct dp_archive_limits archive_limits; /* as used (defaults filled in) */
    bool carve;                  /* embedded image streams were carved from every file read */
    uint64_t carve_max_stream;   /* the longest stream carved (bytes) */
    struct dp_scan_totals totals;
    struct dp_finding *findings; /* sorted by path bytes; remnants after the files, by offset */
    struct dp_scan_sweep *sweep; /* dp_scan_opts.sweep: what the sweep did (NULL without) */
    size_t finding_count;
    struct dp_skip *skips;       /* sorted by path bytes */
    size_t skip_count;
};

/* Progress snapshot, delivered from the walking thread about 10 times a second. */
struct dp_sweep_progress;

struct dp_scan_progress {
    uint64_t files_seen, files_done, bytes_done, findings;
    double elapsed;
    const char *current; /* a path being read, borrowed for the call; may be NULL */
};

#define DP_SCAN_CARVE_MAX_STREAM ((uint64_t)64 << 20)

struct dp_scan_opts {
    unsigned jobs;      /* worker threads; 0 = one per online CPU */
    bool cross_mounts;
    /* Files larger than this are not read but skipped as DP_SKIP_TOO_LARGE; 0 = larger than
     * the whole filesystem they are on (only a sparse file can be). See dp_walk_opts. */
    uint64_t max_file_size;
    /* Perceptual matching, used when the lists hold PDQ entries: */
    bool pdq_threshold_given;
    int pdq_threshold;          /* Hamming radius (default DP_PDQ_THRESHOLD, 31) */
    bool no_dihedral;           /* compare the plain hash only */
    bool pdq_exact;             /* always decode in full (default: JPEG at a reduced scale
                                   first; a near match is decided by the full decode anyway) */
    uint64_t max_pixels;        /* images declaring more are not decoded (0: 100 MP) */
    uint64_t max_image_bytes;   /* images larger are not held in memory or decoded (0: 256 MiB) */
    /* Archives: every file whose content is an archive (container.h) is read member by member,
     * nested ones followed, under these limits; no_archives: files only. */
    bool no_archives;
    struct dp_archive_limits archive;
    /* Carving: every file read is searched for embedded image streams (container/carve.h),
     * each digested and matched; it reads every byte of every file, so the size filter is off.
     * no_carve: files (and members) as wholes only. carve_max_stream: the longest stream
     * followed (0: DP_SCAN_CARVE_MAX_STREAM); it is also the largest archive member held in
     * memory to be carved (a larger one is a `limit` skip of the member). */
    bool no_carve;
    bool sweep;                 /* below */
    uint64_t carve_max_stream;
    /* Sweep (issue 11): after the walk, the block device holding root (or sweep_device, for a
     * mount that names none, such as fusefat's) is read from start to end as dp_sweep_run
     * reads it, read-only; root must be the root of its mount. A match lying in the extents of
     * a file with a finding, or - where the filesystem reports no usable extents (FUSE, btrfs)
     * - carrying the digests of a live finding, is that finding's; every other match is a
     * remnant, appended to the findings. sweep_progress is told how the sweep goes. */
    const char *sweep_device;
    void (*sweep_progress)(void *ctx, const struct dp_sweep_progress *p);
    void (*progress)(void *ctx, const struct dp_scan_progress *p); /* optional */
    void *progress_ctx; /* for progress and sweep_progress */
};

/* What the sweep of a scan did (dp_scan_opts.sweep). */
struct dp_scan_sweep_match {
    uint64_t offset, length;
    size_t finding;  /* the finding it is attributed to (index into findings) */
    bool by_extents; /* the finding's file extents hold it; false: its digests are that
                        finding's, the filesystem reporting no usable extents */
};
struct dp_scan_sweep {
    char *device;               /* as opened */
    bool device_given;          /* named by sweep_device where the mount names no device
                                   (fusefat): checked by its FAT/exFAT boot sector, whose
                                   filesystem size must be the mounted one's */
    int source_kind;            /* enum dp_source_kind */
    uint64_t rdev_major, rdev_minor; /* a block device's number (0 for an image file) */
    uint64_t size, bytes_swept, candidates, streams, stream_bytes, decoded;
    uint64_t bytes_skipped;     /* device bytes of files the walk read, not read again */
    double seconds;
    bool limited;
    char limit_detail[160];
    bool extents;               /* the filesystem reports device extents of files (FIEMAP or
                                   FIBMAP), so matches in live files were told by place */
    struct dp_scan_sweep_match *attributed; /* matches in live files with findings */
    size_t nattributed;
    uint64_t remnants;          /* matches appended to the findings as remnants */
};

/* Scan root for files matching set (finalized). Per-object failures are recorded as skips;
 * fails only when root cannot be walked or memory runs out. Caller frees *out. */
enum dp_status dp_scan_run(const struct dp_hashset *set, const char *root,
                           const struct dp_scan_opts *opts, struct dp_scan_result **out,
                           struct dp_error *err) DP_WUR DP_NONNULL(1, 2, 4);

void dp_scan_result_free(struct dp_scan_result *r);

#endif
