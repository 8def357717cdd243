/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the raw sweep (sweep.h). The source is read once from start to end in chunks; the
 * carver's finder sees every byte; after each chunk the candidates it named are walked (read
 * again from the source, which its cache or the page cache mostly holds), and each complete
 * stream goes through the same digests, decode and matching as a stream carved from a file
 * (carved.c). An EWF set's media is hashed on the way (MD5, SHA-1) to compare with the hashes
 * stored at acquisition. Nothing is ever written to the source. */
#include "deprive/sweep.h"
#include "deprive/report.h"
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "deprive/carve.h"
#include "deprive/image.h"
#include "deprive/util.h"
#include "dp_config.h"

#define SWEEP_CHUNK ((size_t)4 << 20)
/* First read for a candidate: most false starts are refused within a few hundred bytes,
 * and a stream that goes on asks for more (the validator doubles what it asks). Reads are
 * what the walk budget counts, so a small first read keeps a flood of false starts from
 * using up the budget that the real copies after it need. */
#define SWEEP_FIRST_READ ((uint64_t)4 << 10)
/* Bytes walked validating candidates, beyond the source's size 4 times: a source of false
 * starts each running long cannot make the sweep quadratic. */
#define SWEEP_WALK_SLACK ((uint64_t)256 << 20)
/* Streams matched together (on --jobs threads): at most this many, or this many bytes. */
#define SWEEP_BATCH 256
#define SWEEP_BATCH_BYTES ((uint64_t)64 << 20)
#define SWEEP_JOBS_MAX 64

/* Streams walked and waiting to be matched: their bytes copied out of the walk's buffer. */
struct pending {
    uint64_t off, len;
    uint8_t kind;
    uint8_t *bytes;
    bool matched, decoded;
    struct dp_finding f;
};

struct sweep {
    struct scan s;
    struct worker w;
    struct dp_source *src;
    struct dp_sweep_result *r;
    uint8_t *vbuf; /* a candidate's bytes */
    size_t vcap;
    uint64_t walked, budget;
    uint64_t base; /* the source offset the finder's offsets count from (after a skip) */
    pthread_mutex_t src_lock; /* one source read at a time (source_read) */
    /* --jobs: streams waiting to be matched, and the other threads' workers (pool[0] unused:
       the sweep's own worker w matches on this thread) */
    size_t jobs;
    struct pending pend[SWEEP_BATCH];
    size_t npend;
    uint64_t pend_bytes;
    struct worker pool[SWEEP_JOBS_MAX];
    size_t cap;
    bool oom;
};

static double since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* A read of the source: an EWF chunk that failed its checksum still delivers its bytes - the
 * sweep goes on with them, and the report counts the damaged chunks and names the first. */
static enum dp_status source_read(struct sweep *sw, uint64_t off, void *buf, size_t len,
                                  size_t *got, struct dp_error *err)
{
    struct dp_error e = {0};
    /* the reader thread reads ahead while candidates are walked: one read at a time (libewf
       and the page-cache drop behind the reader keep state) */
    pthread_mutex_lock(&sw->src_lock);
    enum dp_status st = dp_source_read(sw->src, off, buf, len, got, &e);
    if (st == DP_ERR_VERIFY) {
        if (sw->r->damage[0] == '\0')
            snprintf(sw->r->damage, sizeof(sw->r->damage), "%s", e.msg);
        st = DP_OK;
    }
    pthread_mutex_unlock(&sw->src_lock);
    if (st != DP_OK && err != NULL)
        *err = e;
    return st;
}

/* ---- reading ahead: the next piece read on a thread of its own while this one is carved ---- */

enum piece_kind { PIECE_DATA, PIECE_SKIP, PIECE_END, PIECE_ERROR };

/* One piece of the source in order: bytes read, a live file's range not read, the end. */
struct piece {
    enum piece_kind kind;
    uint64_t off, end; /* [off, end): read (end = off + got) or skipped */
    uint8_t *buf;      /* PIECE_DATA: SWEEP_CHUNK bytes */
    enum dp_status st; /* PIECE_ERROR */
    struct dp_error err;
};

struct ahead {
    struct sweep *sw;
    const struct dp_sweep_opts *opts;
    size_t nskip;
    pthread_t tid;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct piece slot[2];
    bool full[2];
    size_t next_in, next_out;
    bool stop, started;
};

/* The piece at *off, as the skip ranges have it; *k the first skip range not behind. */
static void next_piece(struct ahead *a, uint64_t *off, size_t *k, struct piece *p)
{
    const struct dp_sweep_opts *o = a->opts;
    uint64_t size = a->sw->r->info.size;
    while (*k < a->nskip && o->skip[*k][0] + o->skip[*k][1] <= *off)
        (*k)++;
    if (*off >= size) {
        p->kind = PIECE_END;
        return;
    }
    if (*k < a->nskip && o->skip[*k][0] <= *off) { /* a live file's bytes: not read again */
        uint64_t end = o->skip[*k][0] + o->skip[*k][1];
        *p = (struct piece){.kind = PIECE_SKIP, .off = *off, .end = end < size ? end : size,
                            .buf = p->buf};
        *off = p->end;
        return;
    }
    uint64_t lim = *k < a->nskip ? o->skip[*k][0] : size;
    size_t want = lim - *off < SWEEP_CHUNK ? (size_t)(lim - *off) : SWEEP_CHUNK, got = 0;
    p->off = *off;
    p->st = source_read(a->sw, *off, p->buf, want, &got, &p->err);
    p->kind = p->st != DP_OK ? PIECE_ERROR : got == 0 ? PIECE_END : PIECE_DATA;
    p->end = *off + got; /* got 0: the media is shorter than it said */
    *off = p->end;
}

static void *reader(void *arg)
{
    struct ahead *a = arg;
    uint64_t off = 0;
    size_t k = 0;
    for (bool done = false; !done;) {
        pthread_mutex_lock(&a->lock);
        while (a->full[a->next_in] && !a->stop)
            pthread_cond_wait(&a->cond, &a->lock);
        bool stop = a->stop;
        pthread_mutex_unlock(&a->lock);
        if (stop)
            break;
        struct piece *p = &a->slot[a->next_in];
        next_piece(a, &off, &k, p);
        done = p->kind == PIECE_END || p->kind == PIECE_ERROR;
        pthread_mutex_lock(&a->lock);
        a->full[a->next_in] = true;
        a->next_in ^= 1;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
    }
    return NULL;
}

/* The next piece in order (waits for it); give it back with ahead_done. */
static struct piece *ahead_take(struct ahead *a)
{
    pthread_mutex_lock(&a->lock);
    while (!a->full[a->next_out])
        pthread_cond_wait(&a->cond, &a->lock);
    pthread_mutex_unlock(&a->lock);
    return &a->slot[a->next_out];
}

static void ahead_done(struct ahead *a)
{
    pthread_mutex_lock(&a->lock);
    a->full[a->next_out] = false;
    a->next_out ^= 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
}

static enum dp_status ahead_start(struct ahead *a, struct sweep *sw,
                                  const struct dp_sweep_opts *opts, size_t nskip,
                                  struct dp_error *err)
{
    *a = (struct ahead){.sw = sw, .opts = opts, .nskip = nskip};
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->slot[0].buf = malloc(SWEEP_CHUNK);
    a->slot[1].buf = malloc(SWEEP_CHUNK);
    if (a->slot[0].buf == NULL || a->slot[1].buf == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    if (pthread_create(&a->tid, NULL, reader, a) != 0)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "cannot start the reading thread");
    a->started = true;
    return DP_OK;
}

static void ahead_stop(struct ahead *a)
{
    if (a->started) {
        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_broadcast(&a->cond);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->tid, NULL);
    }
    free(a->slot[0].buf);
    free(a->slot[1].buf);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
}

/* want bytes of the source at off into sw->vbuf; *got what there was. */
static enum dp_status read_at(struct sweep *sw, uint64_t off, size_t want, size_t *got,
                              struct dp_error *err)
{
    if (want > sw->vcap) {
        uint8_t *b = realloc(sw->vbuf, want);
        if (b == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        sw->vbuf = b;
        sw->vcap = want;
    }
    return source_read(sw, off, sw->vbuf, want, got, err);
}

/* The stream of kind at off walked to its end: its length, or 0. */
static enum dp_status walk(struct sweep *sw, uint64_t off, enum dp_carve_kind kind,
                           uint64_t *len, struct dp_error *err)
{
    uint64_t size = sw->r->info.size, max = sw->r->max_stream;
    uint64_t rest = size - off;
    uint64_t want = rest < SWEEP_FIRST_READ ? rest : SWEEP_FIRST_READ;
    *len = 0;
    for (;;) {
        if (want > max + 1)
            want = max + 1 < rest ? max + 1 : rest;
        size_t got = 0;
        enum dp_status st = read_at(sw, off, (size_t)want, &got, err);
        if (st != DP_OK)
            return st;
        uint64_t n = 0;
        enum dp_carve_verdict v = dp_carve_validate(kind, sw->vbuf, got, got == rest, max, &n);
        /* the budget counts the bytes a walk needed: a complete stream its length (a dense
           cache of small images is no flood), a refused one what was read for it */
        sw->walked += v == DP_CARVE_OK && n <= got ? n : got;
        if (v == DP_CARVE_OK) {
            *len = n <= got ? n : 0;
            return DP_OK;
        }
        if (v != DP_CARVE_MORE || n <= got || got < want || want == rest || want > max)
            return DP_OK;
        want = n < rest ? n : rest;
    }
}

static void keep(struct sweep *sw, struct dp_finding *f)
{
    struct dp_sweep_result *r = sw->r;
    if (r->count == sw->cap) {
        size_t cap = sw->cap ? sw->cap * 2 : 16;
        struct dp_finding *v = realloc(r->matches, cap * sizeof(*v));
        if (v == NULL) {
            free(f->matches);
            sw->oom = true;
            return;
        }
        r->matches = v;
        sw->cap = cap;
    }
    f->path_len = strlen(r->source);
    f->path = strdup(r->source);
    if (f->path == NULL) {
        free(f->matches);
        sw->oom = true;
        return;
    }
    r->matches[r->count++] = *f;
}

/* ---- matching carved streams on several threads (--jobs) ---- */

struct matcher {
    struct sweep *sw;
    struct worker *w;
    size_t first, step;
};

static void *match_some(void *arg)
{
    struct matcher *m = arg;
    struct sweep *sw = m->sw;
    for (size_t i = m->first; i < sw->npend; i += m->step) {
        struct pending *p = &sw->pend[i];
        p->matched = scan_match_stream(m->w, p->bytes, p->len, true, &p->f, &p->decoded);
    }
    return NULL;
}

/* Match every pending stream (on up to sw->jobs threads, each with its own worker), then keep
 * the matches in offset order. */
static void flush(struct sweep *sw)
{
    size_t threads = sw->npend < sw->jobs ? sw->npend : sw->jobs;
    pthread_t tid[SWEEP_JOBS_MAX];
    struct matcher m[SWEEP_JOBS_MAX];
    size_t started = 0;
    for (size_t t = 1; t < threads; t++) {
        if (sw->pool[t].digest == NULL &&
            dp_digest_new(&sw->pool[t].digest, NULL) != DP_OK)
            break;
        sw->pool[t].s = &sw->s;
        m[t] = (struct matcher){sw, &sw->pool[t], t, threads};
        if (pthread_create(&tid[t], NULL, match_some, &m[t]) != 0)
            break;
        started = t;
    }
    /* this thread takes what no started thread does */
    for (size_t i = 0; i < sw->npend; i++) {
        size_t t = i % threads;
        if (t == 0 || t > started) {
            struct pending *p = &sw->pend[i];
            p->matched = scan_match_stream(&sw->w, p->bytes, p->len, true, &p->f, &p->decoded);
        }
    }
    for (size_t t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
    for (size_t i = 0; i < sw->npend; i++) {
        struct pending *p = &sw->pend[i];
        sw->r->decoded += p->decoded;
        if (p->matched) {
            p->f.embedded_offset = p->off;
            p->f.embedded_kind = p->kind;
            keep(sw, &p->f);
        }
        free(p->bytes);
    }
    sw->npend = 0;
    sw->pend_bytes = 0;
}

/* A walked stream (its bytes in sw->vbuf) queued for matching; the queue is matched when it
 * holds SWEEP_BATCH_BYTES or SWEEP_BATCH streams. */
static void queue(struct sweep *sw, uint64_t off, uint64_t len, enum dp_carve_kind kind)
{
    if (sw->npend == SWEEP_BATCH || sw->pend_bytes + len > SWEEP_BATCH_BYTES)
        flush(sw);
    uint8_t *b = malloc(len ? (size_t)len : 1);
    if (b == NULL) {
        sw->oom = true;
        return;
    }
    memcpy(b, sw->vbuf, (size_t)len);
    sw->pend[sw->npend++] = (struct pending){.off = off, .len = len, .kind = (uint8_t)kind,
                                             .bytes = b};
    sw->pend_bytes += len;
}

/* The candidates named so far, walked and matched; the list emptied (the finder goes on). */
static enum dp_status candidates(struct sweep *sw, struct dp_error *err)
{
    struct worker *w = &sw->w;
    struct dp_sweep_result *r = sw->r;
    if (w->cand_overflow && !r->limited) {
        r->limited = true;
        snprintf(r->limit_detail, sizeof(r->limit_detail),
                 "more than 65536 candidate streams in one 4 MiB piece: some were not examined");
    }
    r->candidates += w->cand_n;
    for (size_t i = 0; i < w->cand_n && !sw->oom; i++) {
        if (sw->walked > sw->budget) {
            if (!r->limited) {
                r->limited = true;
                snprintf(r->limit_detail, sizeof(r->limit_detail),
                         "bytes walked exceeded 4 times the size plus 256 MiB: later candidate "
                         "streams were not examined");
            }
            break;
        }
        uint64_t off = sw->base + w->cand_off[i], len = 0;
        enum dp_carve_kind kind = (enum dp_carve_kind)w->cand_kind[i];
        enum dp_status st = walk(sw, off, kind, &len, err);
        if (st != DP_OK)
            return st;
        if (len == 0)
            continue;
        r->streams++;
        r->stream_bytes += len;
        queue(sw, off, len, kind); /* sw->vbuf holds the stream's bytes from the walk */
    }
    flush(sw);
    w->cand_n = 0;
    w->cand_overflow = false;
    return sw->oom ? dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory") : DP_OK;
}

static int cmp_offset(const void *a, const void *b)
{
    const struct dp_finding *x = a, *y = b;
    if (x->embedded_offset != y->embedded_offset)
        return x->embedded_offset > y->embedded_offset ? 1 : -1;
    return (x->embedded_length > y->embedded_length) - (x->embedded_length < y->embedded_length);
}

enum dp_status dp_sweep_run(const struct dp_hashset *set, struct dp_source *src,
                            const char *source_path, const struct dp_sweep_opts *opts,
                            struct dp_sweep_result **out, struct dp_error *err)
{
    static const struct dp_scan_opts no_match;
    static const struct dp_sweep_opts no_opts;
    opts = opts ? opts : &no_opts;
    const struct dp_scan_opts *mo = opts->match ? opts->match : &no_match;
    struct sweep *sw = calloc(1, sizeof(*sw));
    struct dp_sweep_result *r = calloc(1, sizeof(*r));
    struct dp_digest *media = NULL;
    enum dp_status st = DP_OK;
    if (sw != NULL)
        pthread_mutex_init(&sw->src_lock, NULL);
    if (sw == NULL || r == NULL || (r->source = strdup(source_path)) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    sw->src = src;
    sw->r = r;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    sw->jobs = opts->jobs ? opts->jobs : cpus > 0 ? (size_t)cpus : 1;
    sw->jobs = sw->jobs > SWEEP_JOBS_MAX ? SWEEP_JOBS_MAX : sw->jobs;
    r->info = *dp_source_info(src);
    r->started = time(NULL);
    r->max_stream = mo->carve_max_stream ? mo->carve_max_stream : DP_SCAN_CARVE_MAX_STREAM;
    sw->budget = r->info.size * 4 + SWEEP_WALK_SLACK;
    sw->s.set = set;
    sw->s.opts = mo;
    sw->s.mask = scan_wanted_mask(set);
    sw->w.s = &sw->s;
    if ((st = scan_pdq_prepare(&sw->s.pdq, set, mo, err)) != DP_OK ||
        (st = dp_digest_new(&sw->w.digest, err)) != DP_OK)
        goto out;
    r->pdq_used = sw->s.pdq.n > 0;
    r->pdq_threshold = sw->s.pdq.threshold;
    r->pdq_dihedral = sw->s.pdq.dihedral;
    /* an EWF set's media hashed as it is read, to compare with the acquisition's hashes */
    r->media_hashed = r->info.kind == DP_SOURCE_EWF;
    if (r->media_hashed &&
        ((st = dp_digest_new(&media, err)) != DP_OK ||
         (st = dp_digest_begin(media, DP_DIGEST_MASK(DP_ALGO_MD5) | DP_DIGEST_MASK(DP_ALGO_SHA1),
                               err)) != DP_OK))
        goto out;
    scan_carve_begin(&sw->w);
    struct timespec t0, last = {0};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct ahead a;
    if ((st = ahead_start(&a, sw, opts, media == NULL ? opts->nskip : 0, err)) != DP_OK) {
        ahead_stop(&a);
        goto out;
    }
    for (struct piece *p = ahead_take(&a); p->kind != PIECE_END; p = ahead_take(&a)) {
        if (p->kind == PIECE_ERROR) {
            st = p->st;
            if (err != NULL)
                *err = p->err;
            break;
        }
        if (p->kind == PIECE_SKIP) { /* the finder starts afresh after a live file's bytes */
            scan_carve_finish(&sw->w);
            st = candidates(sw, err);
            r->bytes_skipped += p->end - p->off;
            sw->base = p->end;
            scan_carve_begin(&sw->w);
        } else {
            size_t got = (size_t)(p->end - p->off);
            if (media != NULL)
                dp_digest_update(media, p->buf, got);
            scan_carve_observe(&sw->w, p->buf, got);
            r->bytes_swept += got;
            st = candidates(sw, err);
        }
        uint64_t at = p->end;
        ahead_done(&a);
        if (st != DP_OK)
            break;
        if (opts->progress != NULL && (since(&last) >= 0.1 || at == r->info.size)) {
            clock_gettime(CLOCK_MONOTONIC, &last);
            const struct dp_sweep_progress pg = {at, r->info.size, r->count, since(&t0)};
            opts->progress(opts->progress_ctx, &pg);
        }
    }
    ahead_stop(&a);
    if (st != DP_OK)
        goto out;
    scan_carve_finish(&sw->w);
    if ((st = candidates(sw, err)) != DP_OK)
        goto out;
    r->checksum_errors = dp_source_checksum_errors(src);
    if (media != NULL) {
        uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
        dp_digest_end(media, dg);
        dp_hex_encode(r->md5, dg[DP_ALGO_MD5], 16);
        dp_hex_encode(r->sha1, dg[DP_ALGO_SHA1], 20);
    }
    if (r->count > 1)
        qsort(r->matches, r->count, sizeof(*r->matches), cmp_offset);
    r->finished = time(NULL);
out:
    dp_digest_free(media);
    dp_digest_free(sw ? sw->w.digest : NULL);
    if (sw != NULL) {
        for (size_t i = 0; i < sw->npend; i++) /* an error left them */
            free(sw->pend[i].bytes);
        for (size_t t = 0; t < SWEEP_JOBS_MAX; t++) {
            dp_digest_free(sw->pool[t].digest);
            dp_classify_free(sw->pool[t].classify);
        }
        dp_classify_free(sw->w.classify);
        scan_carve_release(&sw->w);
        scan_pdq_release(&sw->s.pdq);
        free(sw->vbuf);
    }
    if (sw != NULL)
        pthread_mutex_destroy(&sw->src_lock);
    free(sw);
    if (st != DP_OK) {
        dp_sweep_result_free(r);
        return st;
    }
    *out = r;
    return DP_OK;
}

void dp_sweep_result_free(struct dp_sweep_result *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->matches[i].path);
        free(r->matches[i].matches);
    }
    free(r->matches);
    free(r->source);
    free(r);
}

/* ---- the report ---- */

static json_t *time_json(time_t t)
{
    char b[32];
    dp_utc_format(b, sizeof(b), t);
    return json_string(b);
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? dp_json_bytes(s, strlen(s)) : json_null();
}

static json_t *source_json(const struct dp_sweep_result *r)
{
    const struct dp_source_info *in = &r->info;
    json_t *o = json_pack("{s:o, s:s, s:I, s:I}", "path", dp_json_bytes(r->source, strlen(r->source)),
                          "kind", dp_source_kind_name(in->kind), "size", (json_int_t)in->size,
                          "sector_size", (json_int_t)in->sector_size);
    if (o != NULL && in->kind == DP_SOURCE_BLOCK_DEVICE)
        json_object_set_new(o, "device",
                            json_pack("{s:I, s:I, s:b}", "major", (json_int_t)in->dev_major,
                                      "minor", (json_int_t)in->dev_minor, "read_only",
                                      in->read_only_device));
    if (o != NULL && in->kind == DP_SOURCE_EWF) {
        json_object_set_new(o, "ewf_checksum_errors", json_integer((json_int_t)r->checksum_errors));
        json_object_set_new(o, "ewf_damage", r->damage[0] ? json_string(r->damage) : json_null());
        json_t *stored = json_pack("{s:o, s:o}", "md5", text_or_null(in->md5), "sha1",
                                   text_or_null(in->sha1));
        json_t *now = r->media_hashed ? json_pack("{s:s, s:s}", "md5", r->md5, "sha1", r->sha1)
                                      : json_null();
        /* verified: every stored hash equals the media's as read; null when none is stored */
        json_t *ver = json_null();
        /* a chunk that failed its checksum is handed over as zeros by libewf: the media hash
           can then still equal the stored one (a chunk of zeros damaged), so damage alone
           makes the set unverified */
        if (r->media_hashed && (in->md5[0] || in->sha1[0]))
            ver = json_boolean(r->checksum_errors == 0 && r->damage[0] == '\0' &&
                               (!in->md5[0] || strcasecmp(in->md5, r->md5) == 0) &&
                               (!in->sha1[0] || strcasecmp(in->sha1, r->sha1) == 0));
        json_t *c = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "case_number",
                              text_or_null(in->case_number), "evidence_number",
                              text_or_null(in->evidence_number), "examiner_name",
                              text_or_null(in->examiner_name), "description",
                              text_or_null(in->description), "notes", text_or_null(in->notes),
                              "acquiry_date", text_or_null(in->acquiry_date),
                              "acquiry_software", text_or_null(in->acquiry_software));
        json_object_set_new(o, "ewf",
                            json_pack("{s:I, s:o, s:o, s:o, s:o}", "segments",
                                      (json_int_t)in->segments, "stored_hashes", stored,
                                      "media_hashes", now, "hashes_verified", ver, "case", c));
    }
    return o;
}

static json_t *match_json(const struct dp_sweep_result *r, const struct dp_finding *f,
                          size_t index, const struct dp_hashset *set)
{
    char id[32];
    snprintf(id, sizeof(id), "R%zu", index + 1);
    json_t *loc = json_pack("[{s:o}, {s:I, s:I}]",
                            r->info.kind == DP_SOURCE_BLOCK_DEVICE ? "device" : "image",
                            dp_json_bytes(f->path, f->path_len), "offset",
                            (json_int_t)f->embedded_offset, "length",
                            (json_int_t)f->embedded_length);
    json_t *o = json_pack("{s:s, s:o, s:{s:s, s:I, s:I}, s:s, s:o, s:o, s:b}", "id", id,
                          "location", loc, "embedded", "kind",
                          dp_carve_kind_name((enum dp_carve_kind)f->embedded_kind), "offset",
                          (json_int_t)f->embedded_offset, "length",
                          (json_int_t)f->embedded_length, "mime", f->mime, "digests",
                          dp_report_digests_json(f->digest_mask,
                                                 (const uint8_t(*)[DP_DIGEST_MAX])f->digests),
                          "matched", dp_report_matched_json(f, set), "perceptual_only",
                          f->perceptual_only);
    if (o != NULL && f->has_pdq)
        json_object_set_new(o, "pdq", dp_report_pdq_json(f));
    return o;
}

enum dp_status dp_sweep_report_build(const struct dp_sweep_result *r, const struct dp_hashset *set,
                                     json_t **out, struct dp_error *err)
{
    json_t *matches = json_array(), *kinds = json_array();
    for (size_t i = 0; matches != NULL && i < r->count; i++)
        json_array_append_new(matches, match_json(r, &r->matches[i], i, set));
    for (int k = DP_CARVE_NONE + 1; kinds != NULL && k < DP_CARVE_KIND_COUNT; k++)
        json_array_append_new(kinds, json_string(dp_carve_kind_name((enum dp_carve_kind)k)));
    json_t *doc = json_pack(
        "{s:s, s:i, s:{s:s, s:s, s:s}, s:o, s:o, s:o, "
        "s:{s:o, s:I, s:b, s:s, s:{s:b, s:o, s:b}}, s:o, "
        "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:o}, s:o}",
        "format", DP_SWEEP_FORMAT, "version", DP_SWEEP_VERSION, "tool", "name", "deprive",
        "version", DP_VERSION, "build", DP_BUILD_ID, "started", time_json(r->started),
        "finished", time_json(r->finished), "source", source_json(r), "scope", "formats", kinds,
        "max_stream", (json_int_t)r->max_stream, "contiguous_only", 1, "statement",
        "This source only, read from its first byte to its last: every contiguous JPEG, PNG, "
        "GIF, WebP or BMP stream on it, whether in a live file, a deleted file's old blocks or "
        "free space. A copy stored in pieces (a fragmented file), cut short or compressed "
        "inside another format is not found; other partitions, unpartitioned space and "
        "HPA/DCO areas of the disk are outside a source that is one partition.",
        "perceptual", "used", r->pdq_used, "threshold",
        r->pdq_used ? json_integer(r->pdq_threshold) : json_null(), "dihedral",
        r->pdq_used && r->pdq_dihedral, "hash_lists", dp_report_hash_lists(set), "totals",
        "bytes_swept", (json_int_t)r->bytes_swept, "candidates", (json_int_t)r->candidates,
        "streams", (json_int_t)r->streams, "stream_bytes", (json_int_t)r->stream_bytes,
        "decoded", (json_int_t)r->decoded, "matches", (json_int_t)r->count, "limited",
        r->limited, "limit_detail", r->limited ? json_string(r->limit_detail) : json_null(),
        "matches", matches);
    if (doc == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "cannot build the sweep report");
    *out = doc;
    return DP_OK;
}
