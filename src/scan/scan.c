/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: scan pipeline. The walking thread opens each regular file (so the descriptor is
 * the object that was checked) and queues it; workers read it once, digest, match. */
#include "deprive/scan.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deprive/classify.h"
#include "deprive/digest.h"

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Called with lock held. sk carries everything but the path, which is copied. */
enum dp_status scan_add_skip_rec(struct scan *s, const char *path, size_t len,
                                   struct dp_skip sk)
{
    struct dp_scan_result *r = s->res;
    if (r->skip_count == s->skip_cap) {
        size_t cap = s->skip_cap ? s->skip_cap * 2 : 64;
        struct dp_skip *n = realloc(r->skips, cap * sizeof(*n));
        if (n == NULL)
            return DP_ERR_NOMEM;
        r->skips = n;
        s->skip_cap = cap;
    }
    char *p = malloc(len + 1);
    if (p == NULL)
        return DP_ERR_NOMEM;
    memcpy(p, path, len);
    p[len] = '\0';
    sk.path = p;
    sk.path_len = len;
    r->skips[r->skip_count++] = sk;
    return DP_OK;
}

/* Called with lock held. */
static enum dp_status add_skip(struct scan *s, const char *path, size_t len,
                               enum dp_skip_reason reason, int errnum)
{
    return scan_add_skip_rec(s, path, len, (struct dp_skip){.reason = reason, .errnum = errnum,
                                                            .member_reason = -1});
}

void scan_set_fatal(struct scan *s, enum dp_status st, const char *what)
{
    if (s->fatal == DP_OK) {
        s->fatal = st;
        dp_error_set(&s->fatal_err, st, 0, "%s", what);
    }
}

/* Walker-thread skip callback (counts are kept by the walker's stats). */
static void on_skip(void *ctx, const char *path, size_t len, enum dp_skip_reason reason,
                    int errnum)
{
    struct scan *s = ctx;
    pthread_mutex_lock(&s->lock);
    if (add_skip(s, path, len, reason, errnum) != DP_OK)
        scan_set_fatal(s, DP_ERR_NOMEM, "out of memory recording a skipped object");
    pthread_mutex_unlock(&s->lock);
}

/* Walker-thread callback: a file over the size limit, never read. */
static void on_too_large(void *ctx, const char *path, size_t len, uint64_t size,
                         uint64_t limit, enum dp_size_limit which)
{
    struct scan *s = ctx;
    struct dp_skip sk = {.reason = DP_SKIP_TOO_LARGE, .size = size, .limit = limit,
                         .limit_source = which, .member_reason = -1};
    pthread_mutex_lock(&s->lock);
    if (scan_add_skip_rec(s, path, len, sk) != DP_OK)
        scan_set_fatal(s, DP_ERR_NOMEM, "out of memory recording a skipped object");
    pthread_mutex_unlock(&s->lock);
}

static bool want_size(void *ctx, uint64_t size)
{
    const struct scan *s = ctx;
    if (s->pdq.n > 0) /* any file may be an image: the content says, not the size */
        return true;
    if (s->res->archives) /* or an archive: process() reads the head to know */
        return true;
    if (s->res->carve) /* or hold an embedded copy anywhere in its bytes */
        return true;
    if (s->mask == 0) /* no exact hash at all: nothing to read */
        return false;
    return !s->res->size_filter || dp_hashset_size_wanted(s->set, size);
}

static void report_progress(struct scan *s, bool force)
{
    if (s->opts->progress == NULL)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!force && since(&s->last_progress, &now) < 0.1)
        return;
    s->last_progress = now;
    struct dp_scan_progress p = {
        .files_seen = s->files_queued,
        .files_done = s->files_done,
        .bytes_done = s->res->totals.bytes_read,
        .findings = s->res->finding_count,
        .elapsed = since(&s->t0, &now),
        .current = s->current[0] ? s->current : NULL,
    };
    s->opts->progress(s->opts->progress_ctx, &p);
}

static enum dp_status on_file(void *ctx, struct dp_walk_file *f, struct dp_error *err)
{
    struct scan *s = ctx;
    char *path = malloc(f->path_len + 1);
    if (path == NULL) {
        close(f->fd);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    memcpy(path, f->path, f->path_len + 1);
    pthread_mutex_lock(&s->lock);
    s->files_queued++;
    while (s->count == QUEUE_CAP && s->fatal == DP_OK) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_nsec += 100 * 1000 * 1000;
        if (dl.tv_nsec >= 1000000000) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&s->not_full, &s->lock, &dl);
        report_progress(s, false);
    }
    if (s->fatal != DP_OK) {
        enum dp_status st = s->fatal;
        *err = s->fatal_err;
        pthread_mutex_unlock(&s->lock);
        close(f->fd);
        free(path);
        return st;
    }
    s->queue[(s->head + s->count) % QUEUE_CAP] =
        (struct item){.fd = f->fd, .path = path, .path_len = f->path_len, .id = f->id};
    s->count++;
    size_t cl = f->path_len < sizeof(s->current) - 1 ? f->path_len : sizeof(s->current) - 1;
    memcpy(s->current, f->path + (f->path_len - cl), cl); /* the tail: the file name */
    s->current[cl] = '\0';
    report_progress(s, false);
    pthread_cond_signal(&s->not_empty);
    pthread_mutex_unlock(&s->lock);
    return DP_OK;
}

size_t scan_collect_matches(const struct scan *s, uint8_t dg[][DP_DIGEST_MAX],
                              struct dp_match **out)
{
    size_t n = 0;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++) {
        const struct dp_hash_entry *e;
        if (s->mask & DP_DIGEST_MASK(a))
            n += dp_hashset_lookup(s->set, (enum dp_algo)a, dg[a], &e);
    }
    if (n == 0)
        return 0;
    struct dp_match *m = calloc(n, sizeof(*m));
    if (m == NULL)
        return SIZE_MAX;
    size_t k = 0;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++) {
        const struct dp_hash_entry *e = NULL;
        size_t c = (s->mask & DP_DIGEST_MASK(a))
                       ? dp_hashset_lookup(s->set, (enum dp_algo)a, dg[a], &e)
                       : 0;
        for (size_t i = 0; i < c; i++)
            m[k++] = (struct dp_match){.algo = e[i].algo, .source = e[i].source, .line = e[i].line, .label = e[i].label, .distance = -1, .target_quality = -1};
    }
    *out = m;
    return k;
}

void scan_classify_head(struct worker *w, const unsigned char *head, size_t head_len,
                        char *mime, size_t size)
{
    if (w->classify == NULL && dp_classify_new(&w->classify, NULL) != DP_OK)
        w->classify = NULL;
    if (w->classify != NULL)
        dp_classify_buffer(w->classify, head, head_len, mime, size);
    else
        snprintf(mime, size, "unknown");
}

void scan_finding_pdq(struct dp_finding *f, const struct scan_pdq_outcome *po)
{
    if (po == NULL || !po->decoded)
        return;
    f->has_pdq = true;
    memcpy(f->pdq, po->pdq.hash[DP_PDQ_ORIGINAL].b, sizeof(f->pdq));
    f->pdq_quality = po->pdq.quality;
    f->pdq_decode = po->decode;
}

enum dp_status scan_push_finding(struct scan *s, const struct dp_finding *f)
{
    struct dp_scan_result *r = s->res;
    if (r->finding_count == s->finding_cap) {
        size_t cap = s->finding_cap ? s->finding_cap * 2 : 16;
        struct dp_finding *n = realloc(r->findings, cap * sizeof(*n));
        if (n == NULL)
            return DP_ERR_NOMEM;
        r->findings = n;
        s->finding_cap = cap;
    }
    r->findings[r->finding_count++] = *f;
    return DP_OK;
}

/* Called with lock held. */
static enum dp_status add_finding(struct scan *s, struct item *it, uint8_t dg[][DP_DIGEST_MAX],
                                  unsigned mask, struct dp_match *m, size_t mc, const char *mime,
                                  const struct scan_pdq_outcome *po)
{
    struct dp_finding f = {.path = it->path, .path_len = it->path_len, .id = it->id,
                           .digest_mask = mask, .matches = m, .match_count = mc};
    scan_finding_pdq(&f, po);
    f.perceptual_only = true;
    for (size_t i = 0; i < mc; i++)
        f.perceptual_only &= m[i].algo == DP_ALGO_PDQ;
    memcpy(f.digests, dg, sizeof(f.digests));
    snprintf(f.mime, sizeof(f.mime), "%s", mime);
    enum dp_status st = scan_push_finding(s, &f);
    if (st == DP_OK)
        it->path = NULL; /* owned by the finding now */
    return st;
}

/* Read an image (size bytes) into the worker's buffer. */
static enum dp_status slurp(struct worker *w, int fd, uint64_t size, struct dp_error *err)
{
    if (size > w->img_cap) {
        uint8_t *n = realloc(w->img, size ? (size_t)size : 1);
        if (n == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory holding an image");
        w->img = n;
        w->img_cap = (size_t)size;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(fd, w->img + got, (size_t)size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return dp_error_set(err, DP_ERR_IO, r < 0 ? errno : 0, "read failed");
        got += (size_t)r;
    }
    return DP_OK;
}

/* Is this file an image to match perceptually (and small enough to hold)? */
static bool perceptual_candidate(struct scan *s, struct item *it, bool *too_large)
{
    uint8_t head[32];
    *too_large = false;
    if (s->pdq.n == 0)
        return false;
    ssize_t n = pread(it->fd, head, sizeof(head), 0);
    if (n <= 0 || dp_image_sniff(head, (size_t)n) == DP_IMAGE_NONE)
        return false;
    *too_large = it->id.size > s->pdq.max_image_bytes;
    return !*too_large;
}

/* The one read of an image: into memory, digested there (SHA-256 too, which identifies a
 * perceptual finding in the plan), then decoded and matched. */
static enum dp_status read_image(struct worker *w, struct item *it, unsigned mask,
                                 uint8_t dg[][DP_DIGEST_MAX], uint64_t *bytes, size_t *head_len,
                                 struct scan_pdq_outcome *po, bool *undecodable,
                                 struct dp_error *e)
{
    enum dp_status st = slurp(w, it->fd, it->id.size, e);
    if (st != DP_OK || (st = dp_digest_begin(w->digest, mask, e)) != DP_OK)
        return st;
    dp_digest_update(w->digest, w->img, (size_t)it->id.size);
    dp_digest_end(w->digest, dg);
    *bytes = it->id.size;
    *head_len = it->id.size < DP_CLASSIFY_HEAD ? (size_t)it->id.size : DP_CLASSIFY_HEAD;
    memcpy(w->head, w->img, *head_len);
    struct dp_error pe = {0};
    *undecodable = scan_pdq_match(&w->s->pdq, w->img, (size_t)it->id.size, po, &pe) != DP_OK;
    return DP_OK;
}

/* Exact matches and perceptual ones in one array (*out heap; SIZE_MAX: out of memory). */
static size_t merge_matches(struct dp_match *exact, size_t ne, struct scan_pdq_outcome *po,
                            struct dp_match **out)
{
    size_t np = po->count;
    if (np == 0) {
        *out = exact;
        return ne;
    }
    struct dp_match *m = realloc(exact, (ne + np) * sizeof(*m));
    if (m == NULL) {
        free(exact);
        return SIZE_MAX;
    }
    memcpy(m + ne, po->matches, np * sizeof(*m));
    *out = m;
    return ne + np;
}

/* The archive kind of a file from its first bytes (DP_ARCHIVE_NONE when archives are not
 * examined or it is none). */
static enum dp_archive_kind archive_kind(struct worker *w, struct item *it)
{
    if (!w->s->res->archives || it->id.size < 4)
        return DP_ARCHIVE_NONE;
    ssize_t n = pread(it->fd, w->buf, DP_ARCHIVE_SNIFF_BYTES, 0);
    return n > 0 ? dp_archive_sniff(w->buf, (size_t)n) : DP_ARCHIVE_NONE;
}

/* A file of a size no exact entry has, read only to see whether it is an archive. */
static bool head_only(const struct scan *s, const struct item *it)
{
    return s->res->archives && s->res->size_filter && !s->res->carve &&
           !dp_hashset_size_wanted(s->set, it->id.size);
}

static void process(struct worker *w, struct item *it)
{
    struct scan *s = w->s;
    enum dp_archive_kind kind = archive_kind(w, it);
    if (head_only(s, it)) {
        if (kind != DP_ARCHIVE_NONE)
            scan_archive(w, it, kind);
        pthread_mutex_lock(&s->lock);
        s->res->totals.files_size_skipped++;
        s->res->totals.bytes_size_skipped += it->id.size;
        s->res->totals.files_head_read++;
        s->files_done++;
        pthread_mutex_unlock(&s->lock);
        close(it->fd);
        free(it->path);
        return;
    }
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    uint64_t bytes = 0;
    size_t head_len = 0;
    struct dp_error e;
    struct scan_pdq_outcome po = {0};
    bool too_large = false, undecodable = false, live = false;
    bool image = perceptual_candidate(s, it, &too_large);
    /* the members get their own copy: a finding of the file itself takes it->path */
    char *apath = NULL;
    if (kind != DP_ARCHIVE_NONE && (apath = malloc(it->path_len + 1)) != NULL)
        memcpy(apath, it->path, it->path_len + 1);
    unsigned mask = image ? s->mask | DP_DIGEST_MASK(DP_ALGO_SHA256) : s->mask;
    enum dp_status st;
    /* an archive's members are examined as files (members.c): carving its raw bytes would
       find its stored members a second time, as embedded copies of the archive */
    bool carve = s->res->carve && kind == DP_ARCHIVE_NONE;
    if (carve)
        scan_carve_begin(w);
    if (image) {
        st = read_image(w, it, mask, dg, &bytes, &head_len, &po, &undecodable, &e);
        if (st == DP_OK && carve)
            scan_carve_observe(w, w->img, (size_t)it->id.size);
    } else {
        posix_fadvise(it->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        st = dp_digest_fd_observed(w->digest, mask, it->fd, w->buf, READ_BUF, w->head,
                                   DP_CLASSIFY_HEAD, &head_len, &bytes, dg,
                                   carve ? scan_carve_observe : NULL, w, &e);
    }
    struct dp_file_id after;
    bool changed = st == DP_OK && (dp_file_id_stat(it->fd, "", &after, NULL) != DP_OK ||
                                   !dp_file_id_same(&it->id, &after) || bytes != it->id.size);
    if (carve && st == DP_OK && !changed) /* before the digests are reused for the streams */
        scan_carve_file(w, it, image ? w->img : NULL, image && po.decoded);
    if (w->img_cap > 16u * 1024 * 1024) { /* do not keep a big buffer per worker */
        free(w->img);
        w->img = NULL;
        w->img_cap = 0;
    }
    struct dp_match *m = NULL;
    size_t mc = (st == DP_OK && !changed) ? scan_collect_matches(s, dg, &m) : 0;
    if (st == DP_OK && !changed && mc != SIZE_MAX)
        mc = merge_matches(m, mc, &po, &m);
    char mime[96] = "";
    if (mc > 0 && mc != SIZE_MAX)
        scan_classify_head(w, w->head, head_len, mime, sizeof(mime));
    pthread_mutex_lock(&s->lock);
    s->res->totals.bytes_read += bytes;
    s->res->totals.images_decoded += po.decoded;
    s->res->totals.images_undecodable += image && undecodable;
    s->res->totals.images_too_large += too_large;
    s->files_done++;
    enum dp_status rs = DP_OK;
    if (st != DP_OK) {
        rs = add_skip(s, it->path, it->path_len, DP_SKIP_IO, e.sys_errno);
        s->res->totals.skipped[DP_SKIP_IO]++;
    } else if (changed) {
        rs = add_skip(s, it->path, it->path_len, DP_SKIP_CHANGED, 0);
        s->res->totals.skipped[DP_SKIP_CHANGED]++;
    } else {
        s->res->totals.files_read++;
        /* only this filesystem's files: --cross-mounts reaches others, with other offsets */
        live = s->live_on && it->id.dev_major == s->res->fs.dev_major &&
               it->id.dev_minor == s->res->fs.dev_minor;
        if (mc == SIZE_MAX)
            rs = DP_ERR_NOMEM;
        else if (mc > 0)
            rs = add_finding(s, it, dg, mask, m, mc, mime, &po);
        if (rs != DP_OK && mc != SIZE_MAX)
            free(m);
    }
    /* mc is SIZE_MAX only when m holds nothing (merge_matches freed it, or none was made) */
    /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
    if (rs != DP_OK)
        scan_set_fatal(s, rs, "out of memory recording a result");
    pthread_mutex_unlock(&s->lock);
    if (live)
        scan_live_extents(s, it->fd, it->id.size);
    free(po.matches);
    if (kind != DP_ARCHIVE_NONE && apath == NULL) {
        pthread_mutex_lock(&s->lock);
        scan_set_fatal(s, DP_ERR_NOMEM, "out of memory opening an archive");
        pthread_mutex_unlock(&s->lock);
    }
    if (apath != NULL && st == DP_OK && !changed) {
        struct item a = *it;
        a.path = apath;
        scan_archive(w, &a, kind);
    }
    free(apath);
    close(it->fd);
    free(it->path);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct scan *s = w->s;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->count == 0 && !s->done)
            pthread_cond_wait(&s->not_empty, &s->lock);
        if (s->count == 0) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        struct item it = s->queue[s->head];
        s->head = (s->head + 1) % QUEUE_CAP;
        s->count--;
        pthread_cond_signal(&s->not_full);
        pthread_mutex_unlock(&s->lock);
        process(w, &it);
    }
    return NULL;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* Path bytes, then the member chain element by element (a file before its members). */
static int cmp_chain(const char *p, size_t pl, char *const *m, const size_t *ml, unsigned md,
                     const char *q, size_t ql, char *const *n, const size_t *nl, unsigned nd)
{
    int c = cmp_bytes(p, pl, q, ql);
    for (unsigned i = 0; c == 0 && i < md && i < nd; i++)
        c = cmp_bytes(m[i], ml[i], n[i], nl[i]);
    return c != 0 ? c : (md > nd) - (md < nd);
}

/* The file (or member) first, then its embedded streams by offset. */
static int cmp_finding(const void *a, const void *b)
{
    const struct dp_finding *x = a, *y = b;
    int c = cmp_chain(x->path, x->path_len, x->members, x->member_lens, x->member_depth, y->path,
                      y->path_len, y->members, y->member_lens, y->member_depth);
    if (c != 0 || x->embedded != y->embedded)
        return c != 0 ? c : (x->embedded > y->embedded) - (x->embedded < y->embedded);
    if (x->embedded_offset != y->embedded_offset)
        return x->embedded_offset > y->embedded_offset ? 1 : -1;
    return (x->embedded_length > y->embedded_length) - (x->embedded_length < y->embedded_length);
}

static int cmp_skip(const void *a, const void *b)
{
    const struct dp_skip *x = a, *y = b;
    return cmp_chain(x->path, x->path_len, x->members, x->member_lens, x->member_depth, y->path,
                     y->path_len, y->members, y->member_lens, y->member_depth);
}

static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 64 ? 64 : (unsigned)n);
}

unsigned scan_wanted_mask(const struct dp_hashset *set)
{
    unsigned mask = 0;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++)
        if (dp_hashset_count(set, (enum dp_algo)a) > 0)
            mask |= DP_DIGEST_MASK(a);
    return mask;
}

static enum dp_status start_workers(struct scan *s, struct worker *ws, pthread_t *tids,
                                    unsigned jobs, unsigned *started, struct dp_error *err)
{
    for (unsigned i = 0; i < jobs; i++) {
        ws[i].s = s;
        ws[i].buf = aligned_alloc(4096, READ_BUF);
        ws[i].head = malloc(DP_CLASSIFY_HEAD);
        if (ws[i].buf == NULL || ws[i].head == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        enum dp_status st = dp_digest_new(&ws[i].digest, err);
        if (st != DP_OK)
            return st;
        if (pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0)
            return dp_error_set(err, DP_ERR_IO, errno, "cannot start a worker thread");
        (*started)++;
    }
    return DP_OK;
}

static enum dp_status init_result(struct dp_scan_result *r, const char *root,
                                  const struct dp_scan_opts *opts, struct dp_error *err)
{
    r->root = strdup(root);
    if (r->root == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    r->root_abs = realpath(root, NULL);
    r->started = time(NULL);
    r->cross_mounts = opts->cross_mounts;
    r->max_file_size = opts->max_file_size;
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open directory '%s'", root);
    enum dp_status st = dp_fsinfo_get(fd, &r->fs, err);
    close(fd);
    return st;
}

enum dp_status dp_scan_run(const struct dp_hashset *set, const char *root,
                           const struct dp_scan_opts *opts, struct dp_scan_result **out,
                           struct dp_error *err)
{
    static const struct dp_scan_opts no_opts;
    opts = opts ? opts : &no_opts;
    struct dp_scan_result *r = calloc(1, sizeof(*r));
    struct scan s = {.set = set, .opts = opts, .res = r};
    unsigned jobs = opts->jobs ? opts->jobs : default_jobs(), started = 0;
    struct worker *ws = calloc(jobs, sizeof(*ws));
    pthread_t *tids = calloc(jobs, sizeof(*tids));
    enum dp_status st;
    char *sweep_device = NULL;
    bool sweep_given = false;
    if (r == NULL || ws == NULL || tids == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    st = init_result(r, root, opts, err);
    if (st == DP_OK && opts->sweep)
        st = scan_sweep_device(r, opts, &sweep_device, &sweep_given, err);
    /* btrfs FIEMAP answers btrfs logical addresses, not device offsets */
    s.live_on = opts->sweep && strcmp(dp_fsinfo_kind(&r->fs), "btrfs") != 0;
    if (st != DP_OK)
        goto out;
    r->jobs = jobs;
    s.mask = r->digest_mask = scan_wanted_mask(set);
    if ((st = scan_pdq_prepare(&s.pdq, set, opts, err)) != DP_OK)
        goto out;
    r->pdq_used = s.pdq.n > 0;
    r->pdq_threshold = s.pdq.threshold;
    r->pdq_dihedral = s.pdq.dihedral;
    r->carve = !opts->no_carve;
    r->carve_max_stream = opts->carve_max_stream ? opts->carve_max_stream
                                                 : DP_SCAN_CARVE_MAX_STREAM;
    r->size_filter = dp_hashset_sizes_complete(set) && !r->pdq_used && !r->carve;
    r->archives = !opts->no_archives;
    r->archive_limits = opts->archive;
    dp_archive_limits_fill(&r->archive_limits);
    if (r->archive_limits.max_depth > SCAN_MEMBER_DEPTH_MAX - 1)
        r->archive_limits.max_depth = SCAN_MEMBER_DEPTH_MAX - 1;
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.not_empty, NULL);
    pthread_cond_init(&s.not_full, NULL);
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    st = start_workers(&s, ws, tids, jobs, &started, err);
    struct dp_walk_stats ws_stats = {0};
    if (st == DP_OK) {
        const struct dp_walk_ops ops = {.file = on_file, .skip = on_skip,
                                        .want_size = want_size, .too_large = on_too_large};
        const struct dp_walk_opts wopts = {.cross_mounts = opts->cross_mounts,
                                           .max_file_size = opts->max_file_size};
        st = dp_walk(root, &wopts, &ops, &s, &ws_stats, err);
    }
    pthread_mutex_lock(&s.lock);
    s.done = true;
    pthread_cond_broadcast(&s.not_empty);
    pthread_mutex_unlock(&s.lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    s.current[0] = '\0';
    report_progress(&s, true);
    if (st == DP_OK && s.fatal != DP_OK) {
        st = s.fatal;
        if (err)
            *err = s.fatal_err;
    }
    r->finished = time(NULL);
    r->totals.directories = ws_stats.directories;
    r->totals.files_size_skipped += ws_stats.files_size_skipped;
    r->totals.bytes_size_skipped += ws_stats.bytes_size_skipped;
    r->totals.noatime_fallbacks = ws_stats.noatime_fallbacks;
    r->totals.files = ws_stats.files;
    for (int i = 0; i < DP_SKIP_REASON_COUNT; i++)
        r->totals.skipped[i] += ws_stats.skipped[i];
    if (r->finding_count > 1)
        qsort(r->findings, r->finding_count, sizeof(*r->findings), cmp_finding);
    if (r->skip_count > 1)
        qsort(r->skips, r->skip_count, sizeof(*r->skips), cmp_skip);
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.not_empty);
    pthread_cond_destroy(&s.not_full);
    if (st == DP_OK && opts->sweep) {
        st = scan_sweep_after(&s, sweep_device, sweep_given, err);
        sweep_device = NULL;
        r->finished = time(NULL);
    }
out:
    free(sweep_device);
    free(s.live);
    for (unsigned i = 0; ws != NULL && i < jobs; i++) {
        dp_digest_free(ws[i].digest);
        dp_classify_free(ws[i].classify);
        free(ws[i].buf);
        free(ws[i].head);
        free(ws[i].img);
        scan_carve_release(&ws[i]);
        for (int d = 0; d <= SCAN_MEMBER_DEPTH_MAX; d++) {
            dp_digest_free(ws[i].mdigest[d]);
            free(ws[i].mhead[d]);
        }
    }
    scan_pdq_release(&s.pdq);
    free(ws);
    free(tids);
    if (st != DP_OK) {
        dp_scan_result_free(r);
        return st;
    }
    *out = r;
    return DP_OK;
}

void dp_scan_result_free(struct dp_scan_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->finding_count; i++) {
        struct dp_finding *f = &r->findings[i];
        free(f->path);
        free(f->matches);
        for (unsigned d = 0; d < f->member_depth; d++)
            free(f->members[d]);
        free(f->members);
        free(f->member_lens);
        free(f->hardlink_of);
        free(f->embedded_ranges);
        if (f->owner != NULL)
            free(f->owner->path);
        free(f->owner);
    }
    for (size_t i = 0; i < r->skip_count; i++) {
        struct dp_skip *k = &r->skips[i];
        free(k->path);
        for (unsigned d = 0; d < k->member_depth; d++)
            free(k->members[d]);
        free(k->members);
        free(k->member_lens);
        free(k->detail);
    }
    free(r->findings);
    free(r->skips);
    scan_sweep_free(r->sweep);
    free(r->root);
    free(r->root_abs);
    free(r);
}
