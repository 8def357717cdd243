/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: scan-stage internals shared by scan.c and perceptual.c. */
#ifndef DEPRIVE_SCAN_INTERNAL_H
#define DEPRIVE_SCAN_INTERNAL_H

#include "deprive/fingerprint.h"
#include "deprive/image.h"
#include "deprive/pdq.h"
#include "deprive/pdq_index.h"
#include "deprive/scan.h"

/* The lists' PDQ targets and how to match them. */
struct scan_pdq {
    const struct dp_hash_entry *entries; /* the PDQ entries; an index id is a position here */
    size_t n;
    struct dp_pdq_index *index;
    int threshold;
    bool dihedral, exact;
    uint64_t max_image_bytes;
    struct dp_image_opts img;
};

enum dp_status scan_pdq_prepare(struct scan_pdq *t, const struct dp_hashset *set,
                                const struct dp_scan_opts *o, struct dp_error *err);
void scan_pdq_release(struct scan_pdq *t);

/* What matching one image gave. */
struct scan_pdq_outcome {
    bool decoded;
    const char *decode;          /* "full", "scaled", "scaled, then full", + ", turned" */
    struct dp_pdq_result pdq;    /* of the decode that decided */
    struct dp_match *matches;    /* heap, count entries (DP_ALGO_PDQ) */
    size_t count;
};

/* Decode an image held in memory and match it. A decoding failure is the status (the caller
 * records the file as not perceptually examinable); matches may be none. */
enum dp_status scan_pdq_match(const struct scan_pdq *t, const uint8_t *buf, size_t len,
                              struct scan_pdq_outcome *out, struct dp_error *err);

/* ---- the scan's state, shared by scan.c and members.c ---- */

#include <pthread.h>
#include <time.h>

#include "deprive/carve.h"
#include "deprive/classify.h"
#include "deprive/digest.h"

#define QUEUE_CAP 512               /* bounds open descriptors and queued paths */
/* 256 KiB reads digested in 64 KiB pieces: the copy and both digests stay in L2; measured
 * 12% faster than 1 MiB / 128 KiB on the bench corpus (bench/scan.sh) */
#define READ_BUF (256 * 1024)
/* Deepest nesting of archives the scan follows (--archive-max-depth at most this). */
#define SCAN_MEMBER_DEPTH_MAX 32


struct item {
    int fd;
    char *path;
    size_t path_len;
    struct dp_file_id id;
};

struct scan {
    const struct dp_hashset *set;
    const struct dp_scan_opts *opts;
    struct dp_scan_result *res;
    unsigned mask;
    struct scan_pdq pdq; /* the lists' PDQ targets (n 0: no perceptual matching) */

    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    struct item queue[QUEUE_CAP];
    size_t head, count;
    bool done;           /* walker finished: workers exit when the queue is empty */
    enum dp_status fatal;
    struct dp_error fatal_err;

    size_t finding_cap, skip_cap;
    /* scan --sweep: the device ranges of the files read ({offset, length}; only their bytes
     * before their end, not the slack after it), which the sweep then does not read again.
     * live_on: collected (the filesystem's extents are device offsets). */
    bool live_on;
    uint64_t (*live)[2];
    size_t nlive, live_cap;
    uint64_t files_queued, files_done;
    struct timespec t0, last_progress;
    char current[512]; /* a copy: the queued path itself is freed by the worker that reads it */
};

struct worker {
    struct scan *s;
    struct dp_digest *digest;
    struct dp_classify *classify; /* made on the first match only: libmagic loads slowly */
    unsigned char *buf;
    unsigned char *head;
    uint8_t *img;   /* an image held in memory while it is digested and decoded */
    size_t img_cap;
    /* archive members: one digest and one head buffer per nesting level (members.c) */
    struct dp_digest *mdigest[SCAN_MEMBER_DEPTH_MAX + 1];
    unsigned char *mhead[SCAN_MEMBER_DEPTH_MAX + 1];
    /* carving (carved.c): the finder over the file being read, the candidates it named, a
     * buffer for a stream read back */
    struct dp_carve_finder finder;
    uint64_t *cand_off;
    uint8_t *cand_kind;
    size_t cand_n, cand_cap;
    bool cand_overflow;
    uint8_t *cbuf;
    size_t cbuf_cap;
};

/* The exact digests the lists hold entries of (DP_DIGEST_MASK bits). */
unsigned scan_wanted_mask(const struct dp_hashset *set);
/* Exact matches of digests dg against the lists: *out heap, the count returned (0: none,
 * *out untouched; SIZE_MAX: out of memory). */
size_t scan_collect_matches(const struct scan *s, uint8_t dg[][DP_DIGEST_MAX],
                            struct dp_match **out);
/* The MIME type of a head of content (the worker's libmagic, made on first use). */
void scan_classify_head(struct worker *w, const unsigned char *head, size_t head_len,
                        char *mime, size_t size);
/* With s->lock held: append a finding (taken as is: its heap parts become the result's). */
enum dp_status scan_push_finding(struct scan *s, const struct dp_finding *f);
/* The PDQ fields of a finding from what matching its image gave. */
void scan_finding_pdq(struct dp_finding *f, const struct scan_pdq_outcome *po);
/* With s->lock held: record a skip (path copied, the rest of sk taken as is). */
enum dp_status scan_add_skip_rec(struct scan *s, const char *path, size_t len,
                                 struct dp_skip sk);
/* With s->lock held: remember the first fatal failure. */
void scan_set_fatal(struct scan *s, enum dp_status st, const char *what);
/* The members of the archive in it->fd (kind from its head) examined and matched; findings
 * and skips recorded with their member chains. Called from the worker, lock not held. */
void scan_archive(struct worker *w, const struct item *it, enum dp_archive_kind kind);

/* Carving (carved.c). Before a file is read: */
void scan_carve_begin(struct worker *w);
/* Every byte of the file, in order (a dp_digest_observer; ctx the worker). */
void scan_carve_observe(void *ctx, const void *buf, size_t n);
/* The end of the bytes: the last candidates named (w->cand_*). */
void scan_carve_finish(struct worker *w);
/* After the file was read whole and found unchanged: each candidate stream walked (from mem,
 * the whole file, when it is held in memory; else read again from it->fd), digested, decoded
 * when an image and matched; matches recorded as embedded findings. file_image: the file
 * itself was decoded as an image (a stream at offset 0 is then its own image: matched exactly
 * only). Lock not held. */
void scan_carve_file(struct worker *w, const struct item *it, const uint8_t *mem,
                     bool file_image);
void scan_carve_release(struct worker *w);
/* An archive member's bytes mem[0..len), held whole, carved as a file is (image: they were
 * decoded as an image); the SQLite overflow walk is not done. The matches as embedded findings
 * of it->path without their member chain (*found heap, the count returned; SIZE_MAX: out of
 * memory); totals counted. *limit: why carving stopped early (a static text), or NULL. Lock
 * not held. */
size_t scan_carve_member(struct worker *w, const struct item *it, const uint8_t *mem,
                         uint64_t len, bool image, struct dp_finding **found, const char **limit);
/* With s->lock held: a `limit` skip of the file (depth 0) or of its member members[0..depth)
 * (taken), detail copied; counted in totals.skipped. */
enum dp_status scan_carve_limit_skip(struct scan *s, const struct item *it, char **members,
                                     size_t *lens, unsigned depth, const char *detail);
/* Free the heap parts of findings v[0..n) (not v). */
void scan_free_findings(struct dp_finding *v, size_t n);
/* Digest (the lists' algorithms and SHA-256), decode when pdq and the lists hold PDQ entries,
 * and match one carved stream; a match becomes *f, an embedded finding without its path, id
 * and offset (heap parts: matches). *decoded: it was decoded. True when it matched. */
bool scan_match_stream(struct worker *w, const uint8_t *p, uint64_t len, bool pdq,
                       struct dp_finding *f, bool *decoded);

/* scan --sweep (remnants.c): the device to sweep, checked before the walk (*device heap);
 * after the walk, the sweep, its matches attributed to findings or appended as remnants
 * (r->sweep set; device taken). */
enum dp_status scan_sweep_device(const struct dp_scan_result *r, const struct dp_scan_opts *o,
                                 char **device, bool *given, struct dp_error *err);
enum dp_status scan_sweep_after(struct scan *s, char *device, bool given, struct dp_error *err);
void scan_sweep_free(struct dp_scan_sweep *sw);
/* The device ranges of a file just read (fd, size), added to s->live. Takes the lock. */
void scan_live_extents(struct scan *s, int fd, uint64_t size);

#endif
