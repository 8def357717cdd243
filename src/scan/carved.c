/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: carving inside the scan. While a file is read for its digests the finder sees every
 * byte (container/carve.h); afterwards each candidate is walked, from the file held in memory
 * or read again (the page cache has it), and a complete stream is digested, decoded when an
 * image, and matched like any file. A match is an embedded finding: the container's identity,
 * the stream's range, digests and PDQ. */
#include "internal.h"

#include "deprive/sqlite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Candidates kept per file; past it the rest of the file is not carved (a recorded limit). */
#define CARVE_MAX_CANDIDATES 65536
/* Bytes walked per file when validating candidates, beyond the file's own size 4 times: a file
 * of many false starts each running long cannot make carving quadratic. */
#define CARVE_WALK_SLACK ((uint64_t)256 << 20)
/* First read for a candidate: most false starts are refused within a few hundred bytes, and
 * a stream that goes on asks for more. The walk budget counts these reads. */
#define CARVE_FIRST_READ (4 * 1024)

void scan_carve_begin(struct worker *w)
{
    dp_carve_finder_init(&w->finder);
    w->cand_n = 0;
    w->cand_overflow = false;
}

static void on_candidate(void *ctx, uint64_t off, enum dp_carve_kind kind)
{
    struct worker *w = ctx;
    if (w->cand_n == w->cand_cap) {
        if (w->cand_cap >= CARVE_MAX_CANDIDATES) {
            w->cand_overflow = true;
            return;
        }
        size_t cap = w->cand_cap ? w->cand_cap * 2 : 64;
        uint64_t *o = realloc(w->cand_off, cap * sizeof(*o));
        if (o != NULL)
            w->cand_off = o;
        uint8_t *k = o ? realloc(w->cand_kind, cap) : NULL;
        if (k == NULL) {
            w->cand_overflow = true;
            return;
        }
        w->cand_kind = k;
        w->cand_cap = cap;
    }
    w->cand_off[w->cand_n] = off;
    w->cand_kind[w->cand_n++] = (uint8_t)kind;
}

void scan_carve_observe(void *ctx, const void *buf, size_t n)
{
    struct worker *w = ctx;
    dp_carve_feed(&w->finder, buf, n, on_candidate, w);
}

void scan_carve_finish(struct worker *w)
{
    dp_carve_finish(&w->finder, on_candidate, w);
}

void scan_carve_release(struct worker *w)
{
    free(w->cand_off);
    free(w->cand_kind);
    free(w->cbuf);
    w->cand_off = NULL;
    w->cand_kind = NULL;
    w->cbuf = NULL;
    w->cand_cap = w->cbuf_cap = w->cand_n = 0;
}

/* n bytes of fd at off into the worker's carve buffer. */
static bool read_at(struct worker *w, int fd, uint64_t off, size_t n)
{
    if (n > w->cbuf_cap) {
        uint8_t *b = realloc(w->cbuf, n);
        if (b == NULL)
            return false;
        w->cbuf = b;
        w->cbuf_cap = n;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, w->cbuf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* The stream at off, walked: its bytes (*p, in mem or the carve buffer) and length, or false.
 * *walked counts the bytes looked at. */
static bool walk(struct worker *w, int fd, uint64_t size, const uint8_t *mem, uint64_t off,
                 enum dp_carve_kind kind, const uint8_t **p, uint64_t *len, uint64_t *walked)
{
    uint64_t rest = size - off, max = w->s->res->carve_max_stream;
    uint64_t want = rest < CARVE_FIRST_READ ? rest : CARVE_FIRST_READ;
    for (;;) {
        if (want > max + 1)
            want = max + 1 < rest ? max + 1 : rest;
        if (mem != NULL)
            *p = mem + off;
        else if (!read_at(w, fd, off, (size_t)want))
            return false;
        else
            *p = w->cbuf;
        uint64_t n = 0;
        enum dp_carve_verdict v = dp_carve_validate(kind, *p, (size_t)want, want == rest, max, &n);
        *walked += v == DP_CARVE_OK && n <= want ? n : want; /* as the sweep counts */
        if (v == DP_CARVE_OK) {
            *len = n;
            return n > 0 && n <= want;
        }
        if (v != DP_CARVE_MORE || n <= want || want == rest || want > max)
            return false;
        want = n < rest ? n : rest;
    }
}

bool scan_match_stream(struct worker *w, const uint8_t *p, uint64_t len, bool pdq,
                         struct dp_finding *f, bool *decoded)
{
    struct scan *s = w->s;
    unsigned mask = s->mask | DP_DIGEST_MASK(DP_ALGO_SHA256);
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    if (dp_digest_begin(w->digest, mask, NULL) != DP_OK)
        return false;
    dp_digest_update(w->digest, p, (size_t)len);
    dp_digest_end(w->digest, dg);
    struct dp_match *m = NULL;
    size_t mc = scan_collect_matches(s, dg, &m);
    if (mc == SIZE_MAX)
        return false;
    struct scan_pdq_outcome po = {0};
    if (pdq && s->pdq.n > 0) {
        struct dp_error pe = {0};
        if (scan_pdq_match(&s->pdq, p, (size_t)len, &po, &pe) == DP_OK && po.count > 0) {
            struct dp_match *all = realloc(m, (mc + po.count) * sizeof(*all));
            if (all == NULL) {
                free(m);
                free(po.matches);
                return false;
            }
            memcpy(all + mc, po.matches, po.count * sizeof(*all));
            m = all;
            mc += po.count;
        }
        *decoded = po.decoded;
    }
    free(po.matches);
    if (mc == 0) {
        free(m);
        return false;
    }
    memset(f, 0, sizeof(*f));
    f->digest_mask = mask;
    memcpy(f->digests, dg, sizeof(f->digests));
    f->matches = m;
    f->match_count = mc;
    scan_finding_pdq(f, &po);
    f->perceptual_only = true;
    for (size_t i = 0; i < mc; i++)
        f->perceptual_only &= m[i].algo == DP_ALGO_PDQ;
    size_t hl = len < DP_CLASSIFY_HEAD ? (size_t)len : DP_CLASSIFY_HEAD;
    scan_classify_head(w, p, hl, f->mime, sizeof(f->mime));
    f->embedded = true;
    f->embedded_length = len;
    return true;
}

void scan_free_findings(struct dp_finding *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].path);
        free(v[i].matches);
        free(v[i].embedded_ranges);
    }
}

/* One file's carving: what it found and counted. */
struct carving {
    struct worker *w;
    const struct item *it;
    struct dp_finding *found;
    size_t nfound;
    uint64_t carved, carved_bytes, decoded;
    bool oom;
};

/* Keep a matched stream as a finding of the container (f's heap parts taken). */
static void keep(struct carving *c, struct dp_finding *f, enum dp_carve_kind kind)
{
    f->embedded_kind = (uint8_t)kind;
    f->id = c->it->id;
    f->path_len = c->it->path_len;
    f->path = malloc(c->it->path_len + 1);
    struct dp_finding *v = f->path ? realloc(c->found, (c->nfound + 1) * sizeof(*v)) : NULL;
    if (v == NULL) {
        scan_free_findings(f, 1);
        c->oom = true;
        return;
    }
    memcpy(f->path, c->it->path, c->it->path_len + 1);
    c->found = v;
    c->found[c->nfound++] = *f;
}

/* A SQLite record put together from its overflow pages: the streams in it that lie in more
 * than one piece of the file (one piece: the contiguous pass saw it already). */
static bool on_record(void *ctx, const struct dp_sqlite_record *rec)
{
    struct carving *c = ctx;
    struct worker *w = c->w;
    uint64_t max = w->s->res->carve_max_stream;
    scan_carve_begin(w);
    scan_carve_observe(w, rec->payload, rec->len);
    dp_carve_finish(&w->finder, on_candidate, w);
    for (size_t i = 0; i < w->cand_n && !c->oom; i++) {
        uint64_t off = w->cand_off[i], len = 0;
        enum dp_carve_kind kind = (enum dp_carve_kind)w->cand_kind[i];
        if (dp_carve_validate(kind, rec->payload + off, rec->len - (size_t)off, true, max,
                              &len) != DP_CARVE_OK ||
            len == 0 || len > rec->len - off)
            continue;
        /* the file's pieces holding [off, off + len) of the record, in order */
        uint64_t(*pieces)[2] = calloc(rec->nsegs, sizeof(*pieces));
        size_t np = 0;
        for (size_t k = 0; pieces != NULL && k < rec->nsegs; k++) {
            uint64_t a = rec->segs[k][0], b = a + rec->segs[k][2];
            uint64_t lo = a > off ? a : off, hi = b < off + len ? b : off + len;
            if (lo < hi) {
                pieces[np][0] = rec->segs[k][1] + (lo - a);
                pieces[np++][1] = hi - lo;
            }
        }
        if (pieces == NULL) {
            c->oom = true;
            break;
        }
        if (np < 2) {
            free(pieces);
            continue;
        }
        c->carved++;
        c->carved_bytes += len;
        struct dp_finding f;
        bool dec = false;
        bool m = scan_match_stream(w, rec->payload + off, len, true, &f, &dec);
        c->decoded += dec;
        if (!m) {
            free(pieces);
            continue;
        }
        f.embedded_offset = pieces[0][0];
        f.embedded_ranges = pieces;
        f.embedded_nranges = np;
        keep(c, &f, kind);
    }
    return !c->oom;
}

/* The candidates named (w->cand_*) walked over [0, size) - from mem, or read again from fd -
 * and each complete stream that is not the whole of it matched. *limited: the walk budget ran
 * out. image: the bytes were decoded as an image (the stream at offset 0 is its own image,
 * matched exactly only). */
static void carve_candidates(struct carving *c, int fd, uint64_t size, const uint8_t *mem,
                             bool image, bool *limited)
{
    struct worker *w = c->w;
    uint64_t budget = size * 4 + CARVE_WALK_SLACK, walked = 0;
    for (size_t i = 0; i < w->cand_n && !c->oom; i++) {
        if (walked > budget) {
            *limited = true;
            break;
        }
        uint64_t off = w->cand_off[i], len = 0;
        const uint8_t *p = NULL;
        if (!walk(w, fd, size, mem, off, (enum dp_carve_kind)w->cand_kind[i], &p, &len, &walked))
            continue;
        if (off == 0 && len == size) /* the file (member) itself, not an embedded copy */
            continue;
        c->carved++;
        c->carved_bytes += len;
        struct dp_finding f;
        bool dec = false;
        bool m = scan_match_stream(w, p, len, !(off == 0 && image), &f, &dec);
        c->decoded += dec;
        if (m) {
            f.embedded_offset = off;
            keep(c, &f, (enum dp_carve_kind)w->cand_kind[i]);
        }
    }
}

/* With s->lock held: what one carving counted added to the totals. */
static void add_totals(struct scan *s, const struct carving *c, size_t ncand,
                       const struct dp_sqlite_stats *sq)
{
    struct dp_scan_totals *t = &s->res->totals;
    t->carve_candidates += ncand;
    t->carved += c->carved;
    t->carved_bytes += c->carved_bytes;
    t->carved_decoded += c->decoded;
    t->sqlite_records += sq->records;
    t->sqlite_broken += sq->broken;
    t->sqlite_too_long += sq->too_long;
}

enum dp_status scan_carve_limit_skip(struct scan *s, const struct item *it, char **members,
                                     size_t *lens, unsigned depth, const char *detail)
{
    s->res->totals.skipped[DP_SKIP_LIMIT]++; /* totals.skipped counts every skip listed */
    return scan_add_skip_rec(s, it->path, it->path_len,
                             (struct dp_skip){.reason = DP_SKIP_LIMIT, .member_reason = -1,
                                              .members = members, .member_lens = lens,
                                              .member_depth = depth, .detail = strdup(detail)});
}

static void drop_big_buffer(struct worker *w)
{
    if (w->cbuf_cap > 16u * 1024 * 1024) { /* do not keep a big buffer per worker */
        free(w->cbuf);
        w->cbuf = NULL;
        w->cbuf_cap = 0;
    }
}

void scan_carve_file(struct worker *w, const struct item *it, const uint8_t *mem,
                     bool file_image)
{
    struct scan *s = w->s;
    dp_carve_finish(&w->finder, on_candidate, w);
    bool cand_overflow = w->cand_overflow; /* more candidate streams than are kept */
    bool limited = cand_overflow;          /* that, or the walk budget ran out */
    size_t ncand = w->cand_n;
    struct carving c = {.w = w, .it = it};
    carve_candidates(&c, it->fd, it->id.size, mem, file_image, &limited);
    uint8_t head[100];
    struct dp_sqlite_stats sq = {0};
    if (!c.oom && pread(it->fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
        dp_sqlite_sniff(head, sizeof(head)))
        (void)dp_sqlite_overflow_records(it->fd, it->id.size, s->res->carve_max_stream,
                                         on_record, &c, &sq, NULL);
    /* the container must still be the file that was read: else nothing carved is kept */
    struct dp_file_id now;
    bool changed = dp_file_id_stat(it->fd, "", &now, NULL) != DP_OK ||
                   !dp_file_id_same(&it->id, &now);
    pthread_mutex_lock(&s->lock);
    add_totals(s, &c, ncand, &sq);
    size_t pushed = 0;
    enum dp_status st = c.oom ? DP_ERR_NOMEM : DP_OK;
    if (changed && c.nfound > 0) {
        s->res->totals.skipped[DP_SKIP_CHANGED]++;
        st = scan_add_skip_rec(s, it->path, it->path_len,
                               (struct dp_skip){.reason = DP_SKIP_CHANGED, .member_reason = -1,
                                                .detail = strdup("changed while its embedded "
                                                                 "streams were carved")});
    } else {
        for (; pushed < c.nfound && st == DP_OK; pushed++)
            st = scan_push_finding(s, &c.found[pushed]);
        if (st != DP_OK)
            pushed--;
    }
    if (st == DP_OK && limited) {
        char d[224];
        snprintf(d, sizeof(d), "carving stopped at a limit (%s): the file was digested whole, "
                 "its later embedded streams were not examined",
                 cand_overflow ? "65536 candidate streams"
                               : "bytes walked 4 times its size plus 256 MiB");
        s->res->totals.carve_limited++;
        st = scan_carve_limit_skip(s, it, NULL, NULL, 0, d);
    }
    if (st != DP_OK)
        scan_set_fatal(s, DP_ERR_NOMEM, "out of memory recording carved streams");
    pthread_mutex_unlock(&s->lock);
    scan_free_findings(c.found + pushed, c.nfound - pushed); /* those not handed to the result */
    free(c.found);
    drop_big_buffer(w);
}

size_t scan_carve_member(struct worker *w, const struct item *it, const uint8_t *mem,
                         uint64_t len, bool image, struct dp_finding **found, const char **limit)
{
    scan_carve_begin(w);
    scan_carve_observe(w, mem, (size_t)len);
    dp_carve_finish(&w->finder, on_candidate, w);
    bool limited = w->cand_overflow;
    *limit = limited ? "65536 candidate streams" : NULL;
    size_t ncand = w->cand_n;
    struct carving c = {.w = w, .it = it};
    carve_candidates(&c, -1, len, mem, image, &limited);
    if (limited && *limit == NULL)
        *limit = "bytes walked 4 times its size plus 256 MiB";
    struct dp_sqlite_stats sq = {0};
    pthread_mutex_lock(&w->s->lock);
    add_totals(w->s, &c, ncand, &sq);
    w->s->res->totals.carved_members++;
    pthread_mutex_unlock(&w->s->lock);
    drop_big_buffer(w);
    if (c.oom) {
        scan_free_findings(c.found, c.nfound);
        free(c.found);
        *found = NULL;
        return SIZE_MAX;
    }
    *found = c.found;
    return c.nfound;
}
