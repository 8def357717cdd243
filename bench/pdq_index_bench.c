/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive bench: the PDQ index (multi-index hashing) against a linear scan of the same
 * targets - build time, memory, queries per second, and that both give the same answers.
 * Run through bench/pdq_index.sh; see bench/README.md. Prints figures, asserts only that the
 * answers agree (exit 1 when they do not). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deprive/pdq.h"
#include "deprive/pdq_index.h"

struct opts {
    size_t targets, queries, linear_queries, planted_every;
    int radius, threads, repeat;
    uint64_t seed;
    bool sweep;
};

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void random_hash(uint64_t *s, struct dp_pdq *h)
{
    for (int i = 0; i < DP_PDQ_BYTES; i += 8) {
        uint64_t w = next(s);
        memcpy(h->b + i, &w, 8);
    }
}

static void flip(uint64_t *s, const struct dp_pdq *from, int k, struct dp_pdq *h)
{
    *h = *from;
    bool used[256] = {false};
    for (int done = 0; done < k;) {
        int b = (int)(next(s) % 256);
        if (!used[b]) {
            used[b] = true;
            h->b[b / 8] ^= (uint8_t)(1u << (b % 8));
            done++;
        }
    }
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL) {
        fprintf(stderr, "pdq_index_bench: out of memory\n");
        exit(2);
    }
    return p;
}

/* "1,234,567" */
static const char *grouped(uint64_t v, char buf[32])
{
    char raw[24];
    int n = snprintf(raw, sizeof(raw), "%" PRIu64, v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
    return buf;
}

/* ---- running queries ---- */

struct tally {
    uint64_t qi, sum;
    size_t matches;
};

/* Order-independent checksum: the sum of a mix of (query, id, distance) over all matches. */
static bool tally_cb(void *ctx, const struct dp_pdq_match *m)
{
    struct tally *t = ctx;
    uint64_t x = t->qi << 40 ^ (uint64_t)m->id << 8 ^ (uint64_t)m->distance;
    t->sum += next(&x);
    t->matches++;
    return true;
}

struct run {
    const struct dp_pdq_index *idx;
    const struct dp_pdq *q;
    size_t from, to;
    int radius;
    struct tally t;
    double cpu; /* this thread's CPU seconds */
};

static void *run_queries(void *arg)
{
    struct run *r = arg;
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    for (r->t.qi = r->from; r->t.qi < r->to; r->t.qi++)
        dp_pdq_index_query(r->idx, &r->q[r->t.qi], r->radius, tally_cb, &r->t);
    r->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    return NULL;
}

/* Wall seconds and CPU seconds (all threads) of a measurement: the best of the repeats for
 * each. CPU time is what to compare when other work shares the cores. */
struct timing {
    double wall, cpu;
};

/* Queries [0, nq) on `threads` threads, once; totals in *t. */
static struct timing timed_once(const struct dp_pdq_index *idx, const struct dp_pdq *q, size_t nq,
                                int radius, int threads, struct tally *t)
{
    struct run r[64];
    pthread_t th[64];
    double t0 = now();
    for (int i = 0; i < threads; i++) {
        r[i] = (struct run){.idx = idx, .q = q, .radius = radius};
        r[i].from = nq * (size_t)i / (size_t)threads;
        r[i].to = nq * (size_t)(i + 1) / (size_t)threads;
        if (threads > 1 && pthread_create(&th[i], NULL, run_queries, &r[i]) != 0) {
            fprintf(stderr, "pdq_index_bench: pthread_create failed\n");
            exit(2);
        }
    }
    if (threads == 1)
        run_queries(&r[0]);
    *t = (struct tally){0, 0, 0};
    struct timing tm = {0, 0};
    for (int i = 0; i < threads; i++) {
        if (threads > 1)
            pthread_join(th[i], NULL);
        t->sum += r[i].t.sum;
        t->matches += r[i].t.matches;
        tm.cpu += r[i].cpu;
    }
    tm.wall = now() - t0;
    return tm;
}

static struct timing timed(const struct dp_pdq_index *idx, const struct dp_pdq *q, size_t nq,
                           int radius, int threads, int repeat, struct tally *t)
{
    struct timing best = {0, 0};
    for (int i = 0; i < repeat; i++) {
        struct timing tm = timed_once(idx, q, nq, radius, threads, t);
        if (i == 0 || tm.wall < best.wall)
            best.wall = tm.wall;
        if (i == 0 || tm.cpu < best.cpu)
            best.cpu = tm.cpu;
    }
    return best;
}

static struct dp_pdq_index *build(const struct dp_pdq *t, size_t n, enum dp_pdq_index_kind kind,
                                  double *secs)
{
    struct dp_pdq_index *idx = NULL;
    struct dp_error e = {0};
    double t0 = now();
    if (dp_pdq_index_new_kind(&idx, t, n, kind, &e) != DP_OK) {
        fprintf(stderr, "pdq_index_bench: %s\n", e.msg);
        exit(2);
    }
    *secs = now() - t0;
    return idx;
}

#define RULE                                                                                       \
    "----------------------------------------------------------------------------"                 \
    "--------------------------------------------------------"

static void header(void)
{
    printf("%-38s %8s %8s %8s %10s %9s %8s  %-16s  %s\n", "measurement", "queries", "wall s",
           "CPU s", "queries/s", "CPU us/q", "matches", "checksum", "note");
    printf("%s\n", RULE);
}

/* queries/s from wall time; CPU microseconds a query (all threads' CPU time / queries). */
static void row(const char *label, size_t nq, struct timing tm, const struct tally *t, bool sum,
                const char *note)
{
    char a[32], b[32], c[32], h[24] = "";
    if (sum)
        snprintf(h, sizeof(h), "%016" PRIx64, t->sum);
    printf("%-38s %8s %8.3f %8.3f %10s %9.1f %8s  %-16s  %s\n", label, grouped(nq, a), tm.wall,
           tm.cpu, grouped((uint64_t)(nq / tm.wall + 0.5), b), tm.cpu / (double)nq * 1e6,
           grouped(t->matches, c), h, note);
}

/* ---- the main measurement ---- */

/* Targets random; every planted_every-th query gets two targets planted at distances cycling
 * through 0..40, at distinct positions. Returns how many plants are within radius. */
static size_t make_data(const struct opts *o, struct dp_pdq *t, struct dp_pdq *q)
{
    uint64_t s = o->seed;
    for (size_t i = 0; i < o->targets; i++)
        random_hash(&s, &t[i]);
    size_t nplant = 2 * ((o->queries + o->planted_every - 1) / o->planted_every), k = 0, within = 0;
    size_t stride = o->targets / (nplant ? nplant : 1);
    for (size_t qi = 0; qi < o->queries; qi++) {
        random_hash(&s, &q[qi]);
        for (int j = 0; qi % o->planted_every == 0 && j < 2 && stride > 0; j++, k++) {
            int d = (int)(k % 41);
            flip(&s, &q[qi], d, &t[k * stride + next(&s) % stride]);
            within += d <= o->radius;
        }
    }
    return within;
}

/* 8 dihedral variants an image: each 8 queries taken as one image's variants. */
static struct timing timed_variants(const struct dp_pdq_index *idx, const struct dp_pdq *q,
                                    size_t nimg, int radius, int repeat, struct tally *t)
{
    struct timing best = {0, 0};
    for (int rep = 0; rep < repeat; rep++) {
        *t = (struct tally){0, 0, 0};
        double w0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        for (size_t i = 0; i < nimg; i++) {
            struct dp_pdq_result r = {.quality = 100};
            memcpy(r.hash, &q[i * DP_PDQ_VARIANTS], sizeof(r.hash));
            t->qi = i;
            dp_pdq_index_query_variants(idx, &r, true, radius, tally_cb, t);
        }
        double w = now() - w0, c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (rep == 0 || w < best.wall)
            best.wall = w;
        if (rep == 0 || c < best.cpu)
            best.cpu = c;
    }
    return best;
}

static void print_builds(const struct opts *o, const struct dp_pdq_index *lin, double bl,
                         const struct dp_pdq_index *mih, double bm)
{
    printf("%-38s %8s %11s %13s\n", "build", "wall s", "memory MiB", "bytes/target");
    printf("%s\n", RULE);
    printf("%-38s %8.3f %11.1f %13.1f\n", "linear (baseline): copy the hashes", bl,
           dp_pdq_index_memory(lin) / 1048576.0, (double)dp_pdq_index_memory(lin) / o->targets);
    printf("%-38s %8.3f %11.1f %13.1f   %s\n", "index: mih, 16 chunks of 16 bits", bm,
           dp_pdq_index_memory(mih) / 1048576.0, (double)dp_pdq_index_memory(mih) / o->targets,
           "(96 a target + 4 MiB of bucket offsets)");
    if (dp_pdq_index_kind(mih) != DP_PDQ_INDEX_MIH)
        printf("(below %d targets the index is a linear scan too)\n", DP_PDQ_INDEX_MIH_MIN);
}

static int measure(const struct opts *o)
{
    char a[32], b[32], c[32], d[32];
    struct dp_pdq *t = xmalloc(o->targets * sizeof(*t)), *q = xmalloc(o->queries * sizeof(*q));
    size_t within = make_data(o, t, q);
    size_t nplanted_q = (o->queries + o->planted_every - 1) / o->planted_every;
    printf("targets: %s random; %s of them planted at distances 0..40 (cycling) from %s of the "
           "%s queries, %zu of those within radius %d\n",
           grouped(o->targets, a), grouped(2 * nplanted_q, b), grouped(nplanted_q, c),
           grouped(o->queries, d), within, o->radius);
    printf("radius %d; each figure the best of %d run(s); queries/s from wall time, CPU us a "
           "query from the threads' CPU time\n\n",
           o->radius, o->repeat);

    double bl, bm;
    struct dp_pdq_index *lin = build(t, o->targets, DP_PDQ_INDEX_LINEAR, &bl);
    struct dp_pdq_index *mih = build(t, o->targets, DP_PDQ_INDEX_AUTO, &bm);
    print_builds(o, lin, bl, mih, bm);

    size_t nl = o->linear_queries < o->queries ? o->linear_queries : o->queries;
    int rp = o->repeat;
    struct tally tl, tms, tma, tmt, tv;
    struct timing sl = timed(lin, q, nl, o->radius, 1, rp, &tl);
    struct timing sms = timed(mih, q, nl, o->radius, 1, rp, &tms);
    struct timing sma = timed(mih, q, o->queries, o->radius, 1, rp, &tma);
    struct timing smt = timed(mih, q, o->queries, o->radius, o->threads, rp, &tmt);
    size_t nimg = o->queries / DP_PDQ_VARIANTS;
    struct timing sv = timed_variants(mih, q, nimg, o->radius, rp, &tv);
    char note[96];
    printf("\n");
    header();
    snprintf(note, sizeof(note), "%s", nl < o->queries ? "the first queries only" : "");
    row("linear scan (baseline), 1 thread", nl, sl, &tl, true, note);
    row("index, 1 thread, the same queries", nl, sms, &tms, true, "");
    row("index, 1 thread, all queries", o->queries, sma, &tma, true, "");
    snprintf(note, sizeof(note), "%d threads, one index", o->threads);
    row("index, all queries, threads", o->queries, smt, &tmt, true, note);
    row("index, 8 variants an image, 1 thread", nimg, sv, &tv, false,
        "queries = images, 8 hashes each");

    double lw = nl / sl.wall, mw = o->queries / sma.wall;
    double lc = nl / sl.cpu, mc = o->queries / sma.cpu;
    printf("\nspeed-up, 1 thread (index over all queries / linear): %.1fx by wall time (%s / %s "
           "queries/s), %.1fx by CPU time; target >= 20x\n",
           mw / lw, grouped((uint64_t)(mw + 0.5), a), grouped((uint64_t)(lw + 0.5), b), mc / lc);
    bool same = tl.matches == tms.matches && tl.sum == tms.sum;
    printf("answers on the %s queries both ran: linear %zu matches, checksum %016" PRIx64
           "; index %zu matches, checksum %016" PRIx64 ": %s\n",
           grouped(nl, a), tl.matches, tl.sum, tms.matches, tms.sum,
           same ? "identical" : "DIFFERENT");
    bool same_all = tma.matches == tmt.matches && tma.sum == tmt.sum;
    printf("index on all %s queries: %zu matches (%zu plants within radius); 1 thread and %d "
           "threads %s\n",
           grouped(o->queries, a), tma.matches, within, o->threads,
           same_all ? "agree" : "DISAGREE");
    if (nl < o->queries)
        printf("linear scan timed on the first %s of the %s queries and extrapolated: all of them "
               "would take about %.1f s\n",
               grouped(nl, a), grouped(o->queries, b), sl.wall / nl * o->queries);

    /* radius: the index's cost grows with floor(r / 16); the linear scan's does not */
    printf("\n%-38s %8s %10s %9s %8s  %s\n", "index by radius, 1 thread, all queries", "radius",
           "queries/s", "CPU us/q", "matches", "buckets probed");
    printf("%s\n", RULE);
    static const int rs[] = {0, 15, 16, 31, 32, 47};
    for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
        struct tally tr;
        struct timing s = timed(mih, q, o->queries, rs[i], 1, rp, &tr);
        static const int probes[] = {1, 17, 137}; /* buckets a chunk within 0, 1, 2 bits */
        printf("%-38s %8d %10s %9.1f %8s  %d\n", "", rs[i],
               grouped((uint64_t)(o->queries / s.wall + 0.5), a), s.cpu / o->queries * 1e6,
               grouped(tr.matches, b), 16 * probes[rs[i] / 16]);
    }
    printf("(the linear scan costs the same at every radius: %.1f us a query above)\n",
           sl.cpu / nl * 1e6);
    dp_pdq_index_free(lin);
    dp_pdq_index_free(mih);
    free(t);
    free(q);
    return same && same_all ? 0 : 1;
}

/* Where the switch-over belongs: linear and mih at small target counts. */
static int sweep(const struct opts *o)
{
    static const size_t ns[] = {1000, 2500, 5000, 10000, 20000, 50000, 100000};
    const size_t nq = 2000;
    char a[32], b[32], c[32];
    int rc = 0;
    struct dp_pdq *q = xmalloc(nq * sizeof(*q));
    printf("\n%-12s %14s %14s %8s   (radius %d, %zu queries, 1 thread, CPU time)\n", "targets",
           "linear q/s", "mih q/s", "mih/lin", o->radius, nq);
    printf("%s\n", "--------------------------------------------------------");
    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        size_t n = ns[i];
        struct dp_pdq *t = xmalloc(n * sizeof(*t));
        struct opts so = *o;
        so.targets = n;
        so.queries = nq;
        so.seed = o->seed + n;
        make_data(&so, t, q);
        double bl, bm;
        struct dp_pdq_index *lin = build(t, n, DP_PDQ_INDEX_LINEAR, &bl);
        struct dp_pdq_index *mih = build(t, n, DP_PDQ_INDEX_MIH, &bm);
        struct tally tl, tm;
        struct timing sl = timed(lin, q, nq, o->radius, 1, o->repeat + 2, &tl);
        struct timing sm = timed(mih, q, nq, o->radius, 1, o->repeat + 2, &tm);
        bool same = tl.matches == tm.matches && tl.sum == tm.sum;
        rc |= !same;
        printf("%-12s %14s %14s %7.1fx%s\n", grouped(n, a),
               grouped((uint64_t)(nq / sl.cpu + 0.5), b), grouped((uint64_t)(nq / sm.cpu + 0.5), c),
               sl.cpu / sm.cpu, same ? "" : "  ANSWERS DIFFER");
        dp_pdq_index_free(lin);
        dp_pdq_index_free(mih);
        free(t);
    }
    printf("(auto uses mih from %s targets)\n", grouped(DP_PDQ_INDEX_MIH_MIN, a));
    free(q);
    return rc;
}

static size_t num(const char *arg, const char *what)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v == 0) {
        fprintf(stderr, "pdq_index_bench: bad %s '%s'\n", what, arg);
        exit(2);
    }
    return (size_t)v;
}

int main(int argc, char **argv)
{
    struct opts o = {.targets = 1000000,
                     .queries = 10000,
                     .linear_queries = 1000,
                     .planted_every = 10,
                     .radius = DP_PDQ_THRESHOLD,
                     .threads = 2,
                     .repeat = 3,
                     .seed = 20240601,
                     .sweep = false};
    static const struct option lo[] = {
        {"targets", required_argument, NULL, 't'},
        {"queries", required_argument, NULL, 'q'},
        {"linear-queries", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 'j'},
        {"seed", required_argument, NULL, 's'},
        {"repeat", required_argument, NULL, 'r'},
        {"sweep", no_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 't':
            o.targets = num(optarg, "--targets");
            break;
        case 'q':
            o.queries = num(optarg, "--queries");
            break;
        case 'l':
            o.linear_queries = num(optarg, "--linear-queries");
            break;
        case 'j':
            o.threads = (int)num(optarg, "--threads");
            break;
        case 's':
            o.seed = num(optarg, "--seed");
            break;
        case 'r':
            o.repeat = (int)num(optarg, "--repeat");
            break;
        case 'w':
            o.sweep = true;
            break;
        default:
            fprintf(stderr,
                    "usage: pdq_index_bench [--targets N] [--queries N] "
                    "[--linear-queries N] [--threads N] [--seed N] [--repeat N] [--sweep]\n");
            return 2;
        }
    }
    if (o.threads > 64)
        o.threads = 64;
    if (o.repeat > 100)
        o.repeat = 100;
    int rc = measure(&o);
    if (o.sweep)
        rc |= sweep(&o);
    return rc;
}
