/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: pieces shared by wipe.c (per-file steps) and wipe_io.c (overwrite, verify,
 * extents, filesystem clean-up). */
#ifndef DEPRIVE_ERASE_INTERNAL_H
#define DEPRIVE_ERASE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "deprive/error.h"
#include "deprive/fsinfo.h"
#include "deprive/assurance.h"
#include "deprive/wipe.h"

#define WIPE_CHUNK (4u * 1024 * 1024)

enum pattern { PAT_ZERO, PAT_ONES, PAT_STREAM, PAT_RANDOM };

/* Per-run overwrite context: the stream key lives only in memory (sodium_malloc). */
struct wipe_io {
    enum dp_wipe_method method;
    uint8_t *key;    /* 32 bytes, sodium_malloc */
    struct evp_cipher_ctx_st *cipher; /* OpenSSL ChaCha20 keyed with key */
    uint8_t *buf;    /* WIPE_CHUNK, 4096-aligned */
    uint8_t *rbuf;   /* WIPE_CHUNK, 4096-aligned, for read-back */
};

enum dp_status wipe_io_init(struct wipe_io *io, enum dp_wipe_method method,
                            struct dp_error *err);
void wipe_io_release(struct wipe_io *io);

/* The keyed stream's bytes [off, off+n) for a file salt (off a multiple of 64); exposed for
 * the known-answer test against libsodium's ChaCha20-IETF. */
void wipe_io_stream(struct wipe_io *io, const uint8_t salt[8], uint64_t off, uint8_t *buf,
                    size_t n);

/* Overwrite the data of fd (a regular file open O_RDWR) within [0, len) with every pass of the
 * method, fdatasync after each pass, then verify the last pass from the device. Only ranges
 * holding data (SEEK_DATA/SEEK_HOLE, widened to blocks of blk) are written: holes own no
 * blocks, and writing them would allocate new ones. Fills *out with the "overwrite" and
 * "verification" objects of docs/wipe-result.md. A failed verification is DP_ERR_VERIFY. */
enum dp_status wipe_io_overwrite(struct wipe_io *io, int fd, uint64_t len, uint64_t blk,
                                 json_t **overwrite, json_t **verification,
                                 struct dp_error *err);

/* The same for byte ranges of fd ({offset, length}, any order, may overlap): every pass
 * written with buffered writes (ranges need not be block-aligned), fdatasync after each, the
 * last verified from the device (the clean pages dropped first). The "overwrite" object
 * has "ranges" (merged) instead of "length". */
enum dp_status wipe_io_overwrite_ranges(struct wipe_io *io, int fd, const uint64_t (*ranges)[2],
                                        size_t n, json_t **overwrite, json_t **verification,
                                        struct dp_error *err);

/* Physical extents of fd (FIEMAP, synced first); *available false when the filesystem does
 * not report them. Returns a new JSON array (empty when unavailable). */
/* (dp_extents_json, extents.h, gives a file's extents) */
/* Do two extent lists differ in where the data lives? */
bool wipe_extents_moved(const json_t *before, const json_t *after);

/* Who else references the shared extents of fd (the target, still open, before its overwrite).
 * extents: dp_extents_json()'s array (taken before the overwrite). Returns a new JSON array of
 * strings, one per sharer, e.g. "inode 261 in subvolume 5: outside/copy.jpg", at most 16
 * entries (then a last "... and N more"). Empty when no extent has FIEMAP_EXTENT_SHARED or the
 * filesystem cannot tell (then *can_tell is false). fs_kind is dp_fsinfo_kind() of the
 * target's filesystem. (wipe_shared.c) */
json_t *wipe_shared_owners(int fd, const json_t *extents, const char *fs_kind, bool *can_tell);

/* Appends a journal record (data stolen); the wipe's jlog. */
typedef enum dp_status (*slack_log_fn)(void *ctx, const char *type, json_t *data,
                                       struct dp_error *err);

/* Filesystem clean-up after all targets: ext4 journal checkpoint with zero-out; free-space
 * fill (keyed stream, verified, deleted) and FITRIM when asked or on copy-on-write. On ext4 the
 * reserved clusters are lowered to 0 for the fill ("reserve-lowered" journaled first) and put
 * back ("reserve-restored"). The fill files carry a random per-run prefix, journaled
 * ("fill-begin") before the first is made and closed by "fill-done"; stale_prefix (may be NULL)
 * is the prefix of an interrupted run's fill, whose leftover files are removed first - no other
 * file is ever removed by name. *out is the "cleanup" object (always set). rootfd is the plan
 * root. Only a journal failure fails it. */
enum dp_status wipe_fs_cleanup(struct wipe_io *io, int rootfd, const struct dp_fsinfo *fs,
                               bool fill_free_space, const char *stale_prefix, slack_log_fn log,
                               void *log_ctx, json_t **out, struct dp_error *err);

/* After an interruption between "reserve-lowered" (data: lowered) and its "reserve-restored":
 * write the saved value back to the ext4 reserve of fs (or the XFS reserve pool, by rootfd) (the plan root's filesystem as mounted
 * now) and journal "reserve-restored", or "reserve-restore-failed". Only a journal failure or a
 * malformed record fails it. */
enum dp_status wipe_reserve_resume(const struct dp_fsinfo *fs, int rootfd, const json_t *lowered,
                                   slack_log_fn log, void *log_ctx, struct dp_error *err);

/* ---- directory slack scrub (wipe_slack.c) ---- */

/* A directory where names were removed. */
struct slack_dir {
    int fd;
    uint64_t dev, ino;
    char *rel;     /* path from the root ("" for the root itself) */
    size_t maxlen; /* longest removed name */
    size_t names;  /* names removed there */
};

struct slack {
    struct slack_dir *dirs;
    size_t n;
};

/* Filesystems known to keep freed names in directory slack. */
bool slack_wanted(const struct dp_fsinfo *fs);
/* Remember the directory (dirfd, the removed file's path from the root, its name length). */
void slack_note(struct slack *s, int dirfd, const char *path, size_t name_len);
/* Create and remove same-length random-named empty files in every noted directory, journaled
 * ("slack-begin" with the names, then "slack-done"); *out summarises. Only a journal failure
 * fails it. */
enum dp_status slack_scrub(struct slack *s, slack_log_fn log, void *ctx, json_t **out,
                           struct dp_error *err);
/* After an interruption: remove the fillers a slack-begin record names, where they still are
 * empty regular files. */
void slack_undo(int rootfd, bool cross_mounts, const json_t *begin);
void slack_release(struct slack *s);

/* ---- assurance policy (assurance.c) ---- */

/* Give the target result res its assurance level and facts, from its own filesystem facts (or,
 * for older journals, fs) and the clean-up; a target whose extents were shared becomes failed
 * (shared-extents-remain). */
void wipe_assure(json_t *res, const struct dp_fsinfo *fs, const json_t *cleanup);
/* The residual risks the filesystem and the clean-up leave (new array). */
json_t *wipe_residual_risks(const struct dp_fsinfo *fs, const json_t *cleanup,
                           bool journal_on_device);
/* Count target results (an array) by status; DP_ERR_PARSE for an unknown status. */
enum dp_status wipe_count_results(const json_t *results, struct dp_wipe_summary *out,
                                  struct dp_error *err);
/* The "summary" object of a wipe result (targets, names, a count per status). */
json_t *wipe_summary_json(const json_t *results);

/* ---- perceptual-only targets and the PDQ of erased images (wipe_pdq.c) ---- */

/* The consent to erase the inode group names[0..count) of plan (all perceptual-only): every
 * finding confirmed in opts->confirmations -> {"kind": "confirmed", "decisions": [{"finding",
 * "examiner", "how", "time", "record"}]}; else opts->blanket_consent -> {"kind": "blanket",
 * "examiner"}. NULL when there is none - a finding rejected (*rejected set) or undecided
 * without blanket consent - with why in why. New reference. */
json_t *wipe_consent(const struct dp_wipe_opts *opts, const struct dp_plan *plan,
                     const size_t *names, size_t count, bool *rejected, char *why,
                     size_t why_len);
/* Read fd (the target, from offset 0) again and, when it is an image, hash it (full decode,
 * every variant; opts->perceptual's image limits): *pdq = {"hash", "quality"}, or {"error"}
 * for an image that cannot be decoded, or NULL for a file that is not an image. need_match:
 * *match = the nearest PDQ entry of opts->lists within the radius ({"method": "pdq",
 * "radius", "distance", "variant", "quality", "target_quality", "list", "line"[, "label"]}),
 * NULL when none is. Fails only on read errors and memory. */
enum dp_status wipe_pdq_check(int fd, const struct dp_wipe_opts *opts, bool need_match,
                              json_t **pdq, json_t **match, struct dp_error *err);
/* The same for content held in memory (an archive member). A near miss of a turned variant
 * is decided from the pixels turned (dp_pdq_hash_pixels_turned), as the scan does. */
enum dp_status wipe_pdq_check_buf(const uint8_t *buf, size_t len, const struct dp_wipe_opts *opts,
                                  bool need_match, json_t **pdq, json_t **match,
                                  struct dp_error *err);

/* ---- the wipe's state, shared by wipe.c and wipe_archive.c ---- */

#include "deprive/report.h"
#include "deprive/scan.h"

/* The private directory a name is moved into to be unlinked: ".dq" + random, and its entry. */
#define QUARANTINE_LEN 11
#define QUARANTINE_ENTRY "x"
/* What the journal says about one name (plan target). */
struct name_state {
    bool unlinked;
    char *quarantine;  /* the quarantine directory made for it, if any */
    char *current;     /* name after the last rename intent (base name), or NULL */
    char *previous;    /* name before it */
};

/* What the journal says about one inode group. */
struct group_state {
    bool overwrite_begun, overwrite_done;
    json_t *overwrite_facts; /* from overwrite-done */
    json_t *checked;         /* data of the checked record: consent, pdq, match */
    json_t *done;            /* the target-done result */
    /* an archive rewrite (wipe_archive.c): the new archive's temporary name, the
     * archive-written record (NULL until then), archive-renamed seen */
    char *archive_temp;
    json_t *archive_written;
    bool archive_renamed;
    /* embedded copies removed by overwriting their ranges (wipe_embedded.c): the
     * embedded-begin record (groups, ranges, the digest outside them, consent) */
    json_t *embedded_begin;
};

struct dp_wipe_state {
    json_t *start;           /* data of the start record */
    bool finished;
    json_t *finish_cleanup;  /* the cleanup object of the finish record */
    json_t *slack_pending;   /* slack-begin records without their slack-done, by dir index */
    json_t *reserve_pending; /* data of a reserve-lowered record without its reserve-restored */
    char *fill_pending;      /* prefix of a fill-begin record without its fill-done */
    size_t ngroups, nnames;
    struct group_state *groups;
    struct name_state *names;
};

struct group {
    size_t *names; /* plan indexes sharing one inode */
    size_t count;
};

struct run {
    const struct dp_plan *plan;
    struct dp_journal *j;
    const struct dp_wipe_opts *opts;
    const struct dp_wipe_state *resume;
    int rootfd;
    struct dp_fsinfo fs;
    struct wipe_io io;
    struct dp_digest *digest;
    uint8_t *rbuf;
    struct group *groups;
    size_t ngroups;
    bool journal_failed;
    struct slack slack; /* directories whose names were removed */
    bool *archive_done; /* [ngroups]: member (or embedded) groups decided with an earlier
                           one of the same file */
    struct wipe_remnant **remnants; /* [ngroups]: the remnant groups' state (wipe_remnant.c) */
    size_t remnants_pending;        /* re-checked remnants waiting for the free-space fill */
};

/* One opened name of a group. */
struct opened {
    int fd, dirfd;
    char *base;    /* current base name in dirfd */
    bool removed;  /* already gone (journal says so, or absent after our renames) */
    char error[256];
};

/* One inode group on its way through the steps. status stays NULL while all is well. */
struct work {
    struct run *r;
    size_t g;
    const struct group_state *gs; /* from the journal on resume, else NULL */
    const struct group *gr;
    const struct dp_plan_target *t0;
    struct opened *o;
    int fd;                       /* the first open name's descriptor, -1 if none */
    bool gone_after_overwrite;    /* every name unlinked before an interruption */
    bool decided;                 /* status set: the target goes no further */
    enum dp_wipe_status status;
    char reason[512];
    json_t *facts;                /* overwrite facts */
    json_t *consent;              /* perceptual-only: the examiner's consent (wipe_consent) */
    json_t *extra;                /* an archive member removed: what the rewrite did
                                     (borrowed; the result's "archive") */
    json_t *pdq, *match;          /* the content's PDQ; a perceptual-only target's match */
    json_t *embedded;             /* an embedded copy: what was done to its range (borrowed;
                                     the result's "embedded") */
    json_t *remnant;              /* a remnant: where it was and what removed it (owned by
                                     wipe_remnant.c; the result's "remnant") */
};

/* Append a record (data stolen); a failure is fatal (r->journal_failed). */
enum dp_status wipe_jlog(struct run *r, const char *type, json_t *data, struct dp_error *err);
/* The base name of a relative path, and the path with another base name (heap). */
const char *wipe_base_of(const char *path);
char *wipe_with_base(const char *path, const char *base);
/* Open path below the root, one component at a time, no symlink followed. */
int wipe_try_open(struct run *r, const char *path, int flags, int *dirfd, struct dp_error *err);
/* Open plan target k where the journal says it may now be: read-only, checked against the
 * plan (relaxed: after its overwrite began, identity only), then read-write on the same
 * inode unless a dry run. DP_ERR_CHANGED, DP_ERR_UNSUPPORTED, DP_ERR_IO; DP_ERR_LIMIT when the
 * inode has more names (links) than the plan gives it: erasing it would change a name outside
 * the plan. */
enum dp_status wipe_open_name(struct run *r, size_t k, bool relaxed, struct opened *o,
                              struct dp_error *err);
void wipe_close_opened(struct opened *o, size_t n);
/* May the work's target be removed? Consent for a perceptual-only one (kept when the journal
 * already gave it), the lists for the others; else its status and reason are set (skipped,
 * rejected) and false returned. (wipe.c) */
bool wipe_decide(struct work *w);
/* What wipe_open_name's failure os means for the target: its status, *what the reason's head
 * (a name outside the plan, DP_ERR_LIMIT, and a change since the scan leave it skipped). */
enum dp_wipe_status wipe_open_failure(enum dp_status os, const char **what);
/* Is one of the target's digests in the hash lists? */
bool wipe_listed(const struct run *r, const struct dp_plan_target *t);
void wipe_set_reason(struct work *w, enum dp_wipe_status status, const char *what,
                     const char *msg);
/* Overwrite group g's data through fd, verify, journal overwrite-begin/done; *facts: the
 * overwrite, verification, extents, filesystem and assurance facts. */
enum dp_status wipe_overwrite_group(struct run *r, size_t g, int fd, json_t **facts,
                                    struct dp_error *err);
/* The same for byte ranges of the file only ({offset, length}; wipe_io_overwrite_ranges). */
enum dp_status wipe_overwrite_group_ranges(struct run *r, size_t g, int fd,
                                           const uint64_t (*ranges)[2], size_t nranges,
                                           json_t **facts, struct dp_error *err);
/* Truncate, then scrub and unlink every name of the work's group (after its overwrite). */
enum dp_status wipe_scrub_work(struct work *w, struct dp_error *err);
/* The target's result into results, and (unless a dry run) its target-done record. */
enum dp_status wipe_record_work(struct work *w, json_t *results, struct dp_error *err);
json_t *wipe_group_result(struct run *r, size_t g, const struct opened *o);
void wipe_set_status(json_t *res, const char *status, const char *reason);
void wipe_progress(struct run *r, size_t g, enum dp_wipe_phase phase, const char *path);
void wipe_random_name(char *out, size_t len);

/* ---- archive members (wipe_archive.c) ---- */

/* Group g is an archive member: remove it - with every other member of the same file not yet
 * done - by rewriting the archive, overwriting the old one and putting the new one in its
 * place; the results of all of them go to results. */
enum dp_status wipe_archive_group(struct run *r, size_t g, json_t *results,
                                  struct dp_error *err);
/* Before the first record of a fresh wipe: a member of an archive deprive cannot rewrite
 * faithfully, without --archive-policy, refuses the whole wipe (DP_ERR_UNSUPPORTED, naming
 * the archive). */
enum dp_status wipe_archive_precheck(struct run *r, struct dp_error *err);
/* The file of target t matched as a whole and was erased earlier in this wipe: its result in
 * results, else NULL. */
const json_t *wipe_file_erased(const struct dp_plan_target *t, const json_t *results);

/* ---- remnants (wipe_remnant.c) ---- */

struct wipe_remnant;
/* Group g is a remnant: re-read it from the device and re-check it (journal "checked");
 * r->remnants_pending counts those the fill is to remove. Its result comes later. */
enum dp_status wipe_remnant_check(struct run *r, size_t g, struct dp_error *err);
/* After the clean-up (the free-space fill): each remnant read back from the device, its result
 * (and target-done record) into results. */
enum dp_status wipe_remnant_finish(struct run *r, json_t *results, const json_t *cleanup,
                                   struct dp_error *err);
void wipe_remnant_release(struct run *r);

/* ---- embedded copies (wipe_embedded.c) ---- */

/* Group g is an embedded copy: remove it - with every other embedded copy in the same file
 * not yet done - as the embedded policy says; the results of all of them go to results. */
/* Why an embedded copy in a container (its name, whose first bytes are head[0..n), at least
 * 18 when it has them) may not have its range overwritten, or NULL: the container is a SQLite
 * -wal or -journal file; or, for copy t (NULL: not asked), a range crosses a page boundary of
 * a SQLite database (docs/embedded.md, "SQLite rules"). */
const char *wipe_sqlite_rule(const char *name, const uint8_t *head, size_t n,
                             const struct dp_plan_target *t);
/* What was done to an embedded copy's range, for its result and the certificate: kind, offset,
 * length, ranges (in pieces), method, residual risk, and the outside facts merged in. */
json_t *wipe_range_facts(const struct dp_plan_target *t, const char *method,
                         const json_t *outside);
enum dp_status wipe_embedded_group(struct run *r, size_t g, json_t *results,
                                   struct dp_error *err);

#endif
