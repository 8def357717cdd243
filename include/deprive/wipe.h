/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the wipe engine - re-check each planned file, overwrite it in place, verify from
 * the device, scrub its names, unlink; journal every step; resume after a crash. */
#ifndef DEPRIVE_WIPE_H
#define DEPRIVE_WIPE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "deprive/assurance.h"
#include "deprive/error.h"
#include "deprive/fsinfo.h"
#include "deprive/hashset.h"
#include "deprive/journal.h"
#include "deprive/report.h"
#include "deprive/scan.h"

struct dp_confirmations;

enum dp_wipe_method {
    DP_WIPE_NIST_CLEAR = 0, /* one pass of a keyed ChaCha20 stream, verified byte for byte */
    DP_WIPE_ZERO,           /* one pass of zeros, verified */
    DP_WIPE_RANDOM,         /* one pass of OS random bytes, verified by BLAKE2b of both sides */
    DP_WIPE_DOD3,           /* zeros, ones, keyed stream; the last pass verified */
};
const char *dp_wipe_method_name(enum dp_wipe_method m);
bool dp_wipe_method_parse(const char *name, enum dp_wipe_method *out) DP_WUR;

/* What to do with a member of an archive deprive cannot rewrite faithfully (7z, rar, ISO 9660:
 * libarchive has no writer for them, or one that loses what they hold). */
enum dp_archive_policy {
    DP_ARCHIVE_POLICY_ASK = 0,    /* none given: such a wipe is refused before anything is done */
    DP_ARCHIVE_POLICY_LEAVE,      /* "leave": the member is reported not erased */
    DP_ARCHIVE_POLICY_WIPE_WHOLE, /* "wipe-whole": the whole archive is erased, and the result
                                     names the other members destroyed with it */
};
bool dp_archive_policy_parse(const char *name, enum dp_archive_policy *out) DP_WUR;

/* How an embedded copy (a carved stream inside a container file) is removed. */
enum dp_embedded_policy {
    DP_EMBEDDED_OVERWRITE_RANGE = 0, /* "overwrite-range": exactly the stream's bytes, in place,
                                        the rest of the container proved unchanged */
    DP_EMBEDDED_WIPE_CONTAINER,      /* "wipe-container": the whole container file erased */
    DP_EMBEDDED_REPORT_ONLY,         /* "report-only": left, and reported not erased */
};
bool dp_embedded_policy_parse(const char *name, enum dp_embedded_policy *out) DP_WUR;
const char *dp_embedded_policy_name(enum dp_embedded_policy p);

struct dp_wipe_progress {
    size_t target, targets;  /* inode groups */
    enum dp_wipe_phase phase;
    const char *path;        /* borrowed; may be NULL */
};

/* What dp_wipe_journaled found in the journal it was asked to resume. */
struct dp_wipe_journal_info {
    const char *path;                /* the journal (borrowed) */
    struct dp_journal_replay replay; /* records replayed; a torn last record dropped */
    bool afresh;   /* no start record (interrupted before its first record was durable):
                      nothing was done yet, the wipe starts afresh in this journal */
    bool finished; /* a finish record: nothing is done again, the result reports the journal */
    size_t retried; /* a finished wipe's failed targets tried again (dp_wipe_state_retry_failed);
                       finished is then false */
};

struct dp_wipe_opts {
    enum dp_wipe_method method;
    bool dry_run;            /* check identity and content, change nothing, no journal */
    bool wipe_free_space;    /* fill free space afterwards on any filesystem (always done on
                                copy-on-write ones) */
    bool scrub_slack;        /* a remnant in a live file's slack (past its end, in its last
                                block): overwrite it there, the file's content proved unchanged
                                and its mtime put back (its ctime changes) */
    const char *plan_file;   /* recorded in the journal and the result */
    const struct dp_hashset *lists; /* the hash lists (finalized): a target none of whose
                                       digests is in them is skipped - a plan edited to name
                                       another file cannot get it wiped. NULL: not checked */
    /* Perceptual-only targets (only a PDQ hash matched them) are erased only with a person's
       consent - every finding of the inode confirmed in confirmations, or blanket_consent -
       and only when the content, hashed again from the device, is still within the radius of
       a PDQ entry of lists. A rejected finding is never erased, blanket consent or not. */
    const struct dp_confirmations *confirmations; /* the examiner's decisions, or NULL */
    const char *blanket_consent;    /* --erase-perceptual: the examiner who gave it, or NULL */
    const struct dp_scan_opts *perceptual; /* pdq_threshold(_given), no_dihedral, max_pixels,
                                              max_image_bytes for the re-hash; NULL: defaults.
                                              Every erased image's PDQ is recorded, too */
    enum dp_archive_policy archive_policy; /* --archive-policy */
    enum dp_embedded_policy embedded_policy; /* --embedded; SQLite -wal and -journal files
                                                never get overwrite-range (report-only then) */
    bool journal_on_device;  /* the caller let the journal live on the wiped filesystem: it
                                holds the erased names, so the result says so */
    void (*progress)(void *ctx, const struct dp_wipe_progress *p);
    void *progress_ctx;
    /* The examiner's statement of the medium (--media-class, the case file's
       exhibit.media_class); DP_MEDIA_UNKNOWN with media_class_source NULL: decided from sysfs.
       It applies to the plan root's filesystem. */
    enum dp_media_class media_class;
    const char *media_class_source; /* e.g. "--media-class"; non-NULL = media_class is set */
    /* Tests only: called between each check and the destructive act it guards ("rename",
       "quarantine", "unlink", "overwrite-begun"), with the directory and the name about to be
       acted on, so a test can change the tree exactly there. NULL in production. */
    void (*test_seam)(void *ctx, const char *point, int dirfd, const char *name);
    void *test_seam_ctx;
    /* dp_wipe_journaled only: told, before the wipe starts, what a resumed journal held (a
       torn last record dropped, no start record, a finish record); called with progress_ctx.
       NULL: not told. */
    void (*journal_note)(void *ctx, const struct dp_wipe_journal_info *info);
};

/* What an existing journal says was done; built by replaying it with dp_wipe_state_visit. */
struct dp_wipe_state;
enum dp_status dp_wipe_state_new(struct dp_wipe_state **out, struct dp_error *err) DP_WUR;
void dp_wipe_state_free(struct dp_wipe_state *st);
/* dp_journal_visit_fn for dp_journal_open / dp_journal_verify_file; ctx is the state. */
enum dp_status dp_wipe_state_visit(void *ctx, uint64_t seq, const char *type, json_t *data,
                                   struct dp_error *err);
/* From the journal's start record: the plan file and its SHA-256 (hex), the method. NULL /
 * false when the journal has no start record. */
const char *dp_wipe_state_plan_file(const struct dp_wipe_state *st);
const char *dp_wipe_state_plan_sha256(const struct dp_wipe_state *st);
bool dp_wipe_state_method(const struct dp_wipe_state *st, enum dp_wipe_method *out);
/* True when the journal holds a finish record: nothing left to do. */
bool dp_wipe_state_finished(const struct dp_wipe_state *st);
/* How many targets the journal records as failed (their last result). */
size_t dp_wipe_state_failed(const struct dp_wipe_state *st);
/* A finished wipe's failed targets (an I/O error, a full filesystem: faults that may be gone
 * now) are made pending again: a "retry" record {"group", "status", "reason"} appended to j
 * for each and applied to st, which is then no longer finished - the wipe goes on as after an
 * interruption just before their results (every check made again; a failed overwrite made
 * again). Skipped and rejected targets stay as they are. *retried: how many. */
enum dp_status dp_wipe_state_retry_failed(struct dp_wipe_state *st, struct dp_journal *j,
                                          size_t *retried, struct dp_error *err);

/* Before anything is written (the plan, the journal): would a wipe of root with its journal
 * at journal_path be refused? A caller that scans first calls it before the scan, so a
 * refusal costs nothing and leaves no file behind. Checks:
 *   - root opens as a directory (not through a symlink); unless opts->dry_run, it is not on a
 *     read-only mount; it is not on a stacked filesystem (overlayfs) - the refusals
 *     dp_wipe_run makes at its start, which it still makes (things change meanwhile);
 *   - unless opts->dry_run or journal_path is NULL: the journal's directory (the file need
 *     not exist) is a writable directory on a read-write mount and, unless
 *     opts->journal_on_device, not on root's filesystem (the journal names the erased files).
 *     One filesystem is recognised by any shared identity: mount id, device number,
 *     filesystem UUID, backing block device or mount source - so a bind mount of it or a
 *     btrfs subvolume (its own st_dev, the same mount) counts as the same.
 * Only opts->dry_run and opts->journal_on_device are read. DP_OK when the wipe may start;
 * DP_ERR_INVALID (read-only root; journal on the wiped filesystem: "the journal '...' must
 * not be on the filesystem being wiped ('ROOT', why): ..."), DP_ERR_UNSUPPORTED (stacked),
 * DP_ERR_IO (cannot open a directory, journal directory not writable), DP_ERR_NOMEM.
 * Thread-safe (no state; reads /proc/self/mountinfo and sysfs). */
enum dp_status dp_wipe_preflight(const char *root, const char *journal_path,
                                 const struct dp_wipe_opts *opts, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 3);

/* Wipe every target of plan. j is the journal (NULL only with dry_run); resume is the
 * replayed state of j when continuing an interrupted wipe, else NULL. Per-target problems
 * (changed since scan, I/O errors) are recorded in the result and the run goes on; fails only
 * on journal failure, bad arguments or memory. *result follows docs/wipe-result.md. */
enum dp_status dp_wipe_run(const struct dp_plan *plan, struct dp_journal *j,
                           const struct dp_wipe_opts *opts, const struct dp_wipe_state *resume,
                           json_t **result, struct dp_error *err) DP_WUR DP_NONNULL(1, 3, 5);

/* The journaled wipe, as deprive wipe and deprive run do it:
 *   - resume false: create the journal at journal_path (dp_journal_create: never over an
 *     existing file - DP_ERR_IO, EEXIST, "a wipe of this plan was started before (continue it
 *     with --resume): ...");
 *   - resume true: open it, verify it and replay it into a dp_wipe_state (dp_journal_open
 *     drops a torn last record); a journal with no start record starts the wipe afresh; a
 *     journal with a finish record does nothing again and reports what it holds;
 *     dp_wipe_run refuses a journal whose start record names another plan (SHA-256 of
 *     plan_file, group and name counts). opts->journal_note, when set, is told what was found
 *     before the wipe starts;
 *   - opts->dry_run: no journal at all (journal_path and plan_file may be NULL, resume must
 *     be false).
 * Then dp_wipe_run with opts (its plan_file replaced by plan_file, which is hashed into the
 * journal's start record and compared with it on resume; required unless dry_run), the
 * result's journal.file set to journal_path, and the journal closed (fsynced). The caller
 * has called dp_wipe_preflight before writing anything. *result follows
 * docs/wipe-result.md; the caller json_decref's it. Statuses as dp_journal_create,
 * dp_journal_open and dp_wipe_run. */
enum dp_status dp_wipe_journaled(const struct dp_plan *plan, const char *plan_file,
                                 const char *journal_path, bool resume,
                                 const struct dp_wipe_opts *opts, json_t **result,
                                 struct dp_error *err) DP_WUR DP_NONNULL(1, 5, 6);

#endif
