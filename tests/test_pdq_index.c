/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the PDQ index answers exactly what a brute-force scan with dp_pdq_distance
 * answers (ids and distances) - random and clustered targets, neighbours planted at 0..40
 * bits, radii 0..256, both kinds and the switch-over; empty indexes, duplicates, early stop,
 * bounded arrays, dihedral variants, hash sets, concurrent queries. */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deprive/hashset.h"
#include "deprive/pdq.h"
#include "deprive/pdq_index.h"

static const int radii[] = {0, 1, 8, 15, 16, 17, 24, 31, 32, 40, 47, 48, 64};
#define NRADII (sizeof(radii) / sizeof(radii[0]))

/* ---- helpers ---- */

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

/* h = from with k distinct bits flipped. */
static void flip(uint64_t *s, const struct dp_pdq *from, int k, struct dp_pdq *h)
{
    *h = *from;
    bool used[256] = {false};
    for (int done = 0; done < k;) {
        int b = (int)(next(s) % 256);
        if (used[b])
            continue;
        used[b] = true;
        h->b[b / 8] ^= (uint8_t)(1u << (b % 8));
        done++;
    }
}

static int cmp_match(const void *a, const void *b)
{
    const struct dp_pdq_match *x = a, *y = b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Brute force from precomputed distances: the matches within radius, sorted. */
static size_t brute(const int *dist, size_t n, int radius, struct dp_pdq_match *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (dist[i] <= radius)
            out[k++] = (struct dp_pdq_match){.id = i, .distance = dist[i]};
    qsort(out, k, sizeof(*out), cmp_match);
    return k;
}

static struct dp_pdq_index *build(const struct dp_pdq *t, size_t n, enum dp_pdq_index_kind kind)
{
    struct dp_pdq_index *idx = NULL;
    struct dp_error e = {0};
    if (dp_pdq_index_new_kind(&idx, t, n, kind, &e) != DP_OK)
        fail_msg("dp_pdq_index_new_kind: %s", e.msg);
    assert_int_equal(dp_pdq_index_count(idx), n);
    return idx;
}

/* Every query, every radius: each index answers what brute force answers. */
static void check_all(struct dp_pdq_index **idx, int nidx, const struct dp_pdq *t, size_t n,
                      const struct dp_pdq *q, size_t nq, size_t *total_out)
{
    int *dist = malloc(n * sizeof(int));
    struct dp_pdq_match *want = malloc((n + 1) * sizeof(*want));
    struct dp_pdq_match *got = malloc((n + 1) * sizeof(*got));
    assert_true(dist != NULL && want != NULL && got != NULL);
    size_t total = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        for (size_t i = 0; i < n; i++)
            dist[i] = dp_pdq_distance(&q[qi], &t[i]);
        for (size_t r = 0; r < NRADII; r++) {
            size_t k = brute(dist, n, radii[r], want);
            if (radii[r] == 31)
                total += k;
            for (int x = 0; x < nidx; x++) {
                size_t g = dp_pdq_index_query_array(idx[x], got, n + 1, &q[qi], radii[r]);
                if (g != k)
                    fail_msg("%s index, query %zu, radius %d: %zu matches, brute force %zu",
                             dp_pdq_index_kind_name(dp_pdq_index_kind(idx[x])), qi, radii[r], g, k);
                for (size_t i = 0; i < k; i++) {
                    assert_int_equal(got[i].id, want[i].id);
                    assert_int_equal(got[i].distance, want[i].distance);
                    assert_int_equal(got[i].variant, DP_PDQ_ORIGINAL);
                }
            }
        }
    }
    if (total_out != NULL)
        *total_out = total;
    free(dist);
    free(want);
    free(got);
}

/* n random targets and nq queries; every other query gets 3 targets planted at distances
 * cycling through 0..40, at random positions. */
static void make_planted(uint64_t seed, size_t n, size_t nq, struct dp_pdq **t_out,
                         struct dp_pdq **q_out)
{
    uint64_t s = seed;
    struct dp_pdq *t = malloc(n * sizeof(*t)), *q = malloc(nq * sizeof(*q));
    assert_true(t != NULL && q != NULL);
    for (size_t i = 0; i < n; i++)
        random_hash(&s, &t[i]);
    int d = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        random_hash(&s, &q[qi]);
        for (int j = 0; qi % 2 == 0 && j < 3; j++, d = (d + 1) % 41)
            flip(&s, &q[qi], d, &t[next(&s) % n]);
    }
    *t_out = t;
    *q_out = q;
}

/* ---- tests ---- */

static void test_random_planted(void **state)
{
    (void)state;
    const size_t n = 12000, nq = 160;
    struct dp_pdq *t, *q;
    make_planted(1, n, nq, &t, &q);
    struct dp_pdq_index *idx[3] = {build(t, n, DP_PDQ_INDEX_AUTO), build(t, n, DP_PDQ_INDEX_LINEAR),
                                   build(t, n, DP_PDQ_INDEX_MIH)};
    assert_int_equal(dp_pdq_index_kind(idx[0]), DP_PDQ_INDEX_MIH);
    assert_int_equal(dp_pdq_index_kind(idx[1]), DP_PDQ_INDEX_LINEAR);
    size_t total = 0;
    check_all(idx, 3, t, n, q, nq, &total);
    /* 240 planted targets, 32 of every 41 within 31 (a later plant may overwrite one) */
    assert_true(total >= 150 && total <= 200);
    /* radius 256: everything, from both kinds */
    struct dp_pdq_match *got = malloc(n * sizeof(*got));
    assert_non_null(got);
    for (int x = 0; x < 3; x++)
        assert_int_equal(dp_pdq_index_query_array(idx[x], got, n, &q[0], 256), n);
    free(got);
    for (int x = 0; x < 3; x++)
        dp_pdq_index_free(idx[x]);
    free(t);
    free(q);
}

/* Targets bunched around a few centres: big buckets, targets close to the query in many
 * chunks at once (the once-only rule is exercised on every match). */
static void test_clustered(void **state)
{
    (void)state;
    const size_t n = 4000, nq = 60, ncentre = 8;
    uint64_t s = 2;
    struct dp_pdq centre[8], *t = malloc(n * sizeof(*t)), q[60];
    assert_non_null(t);
    for (size_t c = 0; c < ncentre; c++)
        random_hash(&s, &centre[c]);
    for (size_t i = 0; i < n; i++)
        flip(&s, &centre[i % ncentre], (int)(next(&s) % 48), &t[i]);
    for (size_t qi = 0; qi < nq; qi++)
        flip(&s, &centre[qi % ncentre], (int)(next(&s) % 24), &q[qi]);
    struct dp_pdq_index *idx[2] = {build(t, n, DP_PDQ_INDEX_MIH), build(t, n, DP_PDQ_INDEX_LINEAR)};
    size_t total = 0;
    check_all(idx, 2, t, n, q, nq, &total);
    assert_true(total > nq * 10); /* many matches per query: the test means something */
    dp_pdq_index_free(idx[0]);
    dp_pdq_index_free(idx[1]);
    free(t);
}

static bool count_cb(void *ctx, const struct dp_pdq_match *m)
{
    (void)m;
    (*(size_t *)ctx)++;
    return true;
}

static void test_empty(void **state)
{
    (void)state;
    struct dp_pdq q;
    uint64_t s = 3;
    random_hash(&s, &q);
    struct dp_pdq_result r = {0};
    for (int k = DP_PDQ_INDEX_AUTO; k < DP_PDQ_INDEX_KINDS; k++) {
        struct dp_pdq_index *idx = build(NULL, 0, (enum dp_pdq_index_kind)k);
        size_t calls = 0;
        assert_int_equal(dp_pdq_index_query(idx, &q, 256, count_cb, &calls), 0);
        assert_int_equal(dp_pdq_index_query_array(idx, NULL, 0, &q, 31), 0);
        assert_int_equal(dp_pdq_index_query_variants(idx, &r, true, 256, count_cb, &calls), 0);
        assert_int_equal(calls, 0);
        assert_true(dp_pdq_index_memory(idx) < 4096);
        dp_pdq_index_free(idx);
    }
    dp_pdq_index_free(NULL);
}

/* 250 copies of two hashes among random targets: every copy reported, each once. */
static void test_duplicates(void **state)
{
    (void)state;
    const size_t n = 11000;
    uint64_t s = 4;
    struct dp_pdq *t = malloc(n * sizeof(*t)), q, near;
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        random_hash(&s, &t[i]);
    random_hash(&s, &q);
    flip(&s, &q, 5, &near);
    for (size_t i = 0; i < 200; i++)
        t[i * 50] = q;
    for (size_t i = 0; i < 50; i++)
        t[i * 50 + 7] = near;
    struct dp_pdq_index *idx[2] = {build(t, n, DP_PDQ_INDEX_AUTO),
                                   build(t, n, DP_PDQ_INDEX_LINEAR)};
    struct dp_pdq_match got[300];
    for (int x = 0; x < 2; x++) {
        assert_int_equal(dp_pdq_index_query_array(idx[x], got, 300, &q, 31), 250);
        for (size_t i = 0; i < 200; i++) {
            assert_int_equal(got[i].id, i * 50);
            assert_int_equal(got[i].distance, 0);
        }
        for (size_t i = 0; i < 50; i++) {
            assert_int_equal(got[200 + i].id, i * 50 + 7);
            assert_int_equal(got[200 + i].distance, 5);
        }
        assert_int_equal(dp_pdq_index_query_array(idx[x], got, 300, &q, 4), 200);
    }
    check_all(idx, 2, t, n, &q, 1, NULL);
    dp_pdq_index_free(idx[0]);
    dp_pdq_index_free(idx[1]);
    free(t);
}

/* Just below and at the switch-over: auto picks linear, then mih; both answer right. */
static void test_switch_over(void **state)
{
    (void)state;
    const size_t nq = 40;
    for (size_t n = DP_PDQ_INDEX_MIH_MIN - 1; n <= DP_PDQ_INDEX_MIH_MIN + 1; n++) {
        struct dp_pdq *t, *q;
        make_planted(5 + n, n, nq, &t, &q);
        struct dp_pdq_index *idx = build(t, n, DP_PDQ_INDEX_AUTO);
        assert_int_equal(dp_pdq_index_kind(idx),
                         n < DP_PDQ_INDEX_MIH_MIN ? DP_PDQ_INDEX_LINEAR : DP_PDQ_INDEX_MIH);
        size_t total = 0;
        check_all(&idx, 1, t, n, q, nq, &total);
        assert_true(total > 0);
        size_t per = n < DP_PDQ_INDEX_MIH_MIN ? 32 : 96;
        assert_true(dp_pdq_index_memory(idx) >= per * n);
        assert_true(dp_pdq_index_memory(idx) < per * n + (5u << 20));
        dp_pdq_index_free(idx);
        free(t);
        free(q);
    }
}

struct stopper {
    size_t calls, stop_at;
};

static bool stop_cb(void *ctx, const struct dp_pdq_match *m)
{
    (void)m;
    struct stopper *st = ctx;
    return ++st->calls < st->stop_at;
}

static void test_stop_and_cap(void **state)
{
    (void)state;
    const size_t n = 10500;
    uint64_t s = 6;
    struct dp_pdq *t = malloc(n * sizeof(*t)), q;
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        random_hash(&s, &t[i]);
    random_hash(&s, &q);
    for (size_t i = 0; i < 30; i++) /* distances 0..29, ids in reverse order of distance */
        flip(&s, &q, (int)i, &t[n - 1 - i * 100]);
    for (int k = DP_PDQ_INDEX_LINEAR; k <= DP_PDQ_INDEX_MIH; k++) {
        struct dp_pdq_index *idx = build(t, n, (enum dp_pdq_index_kind)k);
        struct stopper st = {0, 4};
        assert_int_equal(dp_pdq_index_query(idx, &q, 31, stop_cb, &st), 4);
        assert_int_equal(st.calls, 4);
        struct dp_pdq_match got[8];
        assert_int_equal(dp_pdq_index_query_array(idx, got, 8, &q, 31), 30);
        for (int i = 0; i < 8; i++) { /* the 8 nearest, nearest first */
            assert_int_equal(got[i].distance, i);
            assert_int_equal(got[i].id, n - 1 - (size_t)i * 100);
        }
        assert_int_equal(dp_pdq_index_query_array(idx, got, 1, &q, 31), 30);
        assert_int_equal(got[0].distance, 0);
        assert_int_equal(dp_pdq_index_query_array(idx, NULL, 0, &q, 31), 30);
        dp_pdq_index_free(idx);
    }
    free(t);
}

struct var_hits {
    struct dp_pdq_match m[64];
    size_t n;
};

static bool var_cb(void *ctx, const struct dp_pdq_match *m)
{
    struct var_hits *h = ctx;
    assert_true(h->n < 64);
    h->m[h->n++] = *m;
    return true;
}

/* Variant queries: each target once, at its smallest distance over the variants and the
 * first variant giving it - what dp_pdq_min_distance says. */
static void test_variants(void **state)
{
    (void)state;
    const size_t n = 10200;
    uint64_t s = 7;
    struct dp_pdq *t = malloc(n * sizeof(*t));
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        random_hash(&s, &t[i]);
    struct dp_pdq_result r = {.quality = 100};
    for (int v = 0; v < DP_PDQ_VARIANTS; v++)
        random_hash(&s, &r.hash[v]);
    r.hash[DP_PDQ_FLIP_Y] = r.hash[DP_PDQ_ROTATE_90]; /* a symmetric image: equal variants */
    flip(&s, &r.hash[DP_PDQ_ROTATE_180], 10, &r.hash[DP_PDQ_FLIP_X]);
    for (int v = 0; v < DP_PDQ_VARIANTS; v++)
        for (int j = 0; j < 3; j++)
            flip(&s, &r.hash[v], (v * 7 + j * 13) % 41, &t[next(&s) % n]);
    /* rotate180 and flipx 10 bits apart; targets between them: 5 and 5 (a tie: rotate180,
     * the earlier), 3 and 7, 8 and 2 */
    static const int toward[] = {5, 3, 8};
    for (int i = 0; i < 3; i++) {
        struct dp_pdq *m = &t[17 + i];
        *m = r.hash[DP_PDQ_ROTATE_180];
        for (int b = 0, moved = 0; b < 256 && moved < toward[i]; b++) {
            uint8_t bit = (uint8_t)(1u << (b % 8));
            if ((r.hash[DP_PDQ_FLIP_X].b[b / 8] ^ m->b[b / 8]) & bit) {
                m->b[b / 8] ^= bit;
                moved++;
            }
        }
        assert_int_equal(dp_pdq_distance(m, &r.hash[DP_PDQ_ROTATE_180]), toward[i]);
        assert_int_equal(dp_pdq_distance(m, &r.hash[DP_PDQ_FLIP_X]), 10 - toward[i]);
    }
    for (int k = DP_PDQ_INDEX_LINEAR; k <= DP_PDQ_INDEX_MIH; k++) {
        struct dp_pdq_index *idx = build(t, n, (enum dp_pdq_index_kind)k);
        for (int dihedral = 0; dihedral < 2; dihedral++) {
            for (size_t ri = 0; ri < NRADII; ri++) {
                struct var_hits h = {.n = 0};
                size_t cnt = dp_pdq_index_query_variants(idx, &r, dihedral, radii[ri], var_cb, &h);
                assert_int_equal(cnt, h.n);
                size_t want = 0;
                for (size_t i = 0; i < n; i++) {
                    enum dp_pdq_variant wv;
                    int d = dp_pdq_min_distance(&r, dihedral, &t[i], &wv);
                    if (d > radii[ri])
                        continue;
                    want++;
                    size_t found = 0;
                    for (size_t j = 0; j < h.n; j++) {
                        if (h.m[j].id != i)
                            continue;
                        found++;
                        assert_int_equal(h.m[j].distance, d);
                        assert_int_equal(h.m[j].variant, wv);
                    }
                    assert_int_equal(found, 1);
                }
                assert_int_equal(h.n, want);
            }
        }
        dp_pdq_index_free(idx);
    }
    free(t);
}

static void test_from_hashset(void **state)
{
    (void)state;
    uint64_t s = 8;
    struct dp_pdq base, near;
    random_hash(&s, &base);
    flip(&s, &base, 12, &near);
    char hb[DP_PDQ_HEX + 1], hn[DP_PDQ_HEX + 1], buf[1024];
    dp_pdq_hex(&base, hb);
    dp_pdq_hex(&near, hn);
    snprintf(buf, sizeof(buf),
             "sha256:%064d\npdq:%s label=a\npdq:%s label=b\npdq:%s label=c\n"
             "pdq:%064d\n",
             0, hn, hb, hn, 0);
    struct dp_hashset *set = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_hashset_new(&set, &e), DP_OK);
    assert_int_equal(dp_hashset_load_buffer(set, "list", buf, strlen(buf), &e), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &e), DP_OK);
    struct dp_pdq_index *idx = NULL;
    assert_int_equal(dp_pdq_index_from_hashset(&idx, set, &e), DP_OK);
    size_t n = 0;
    const struct dp_hash_entry *ent = dp_hashset_entries(set, DP_ALGO_PDQ, &n);
    assert_int_equal(n, 4);
    assert_int_equal(dp_pdq_index_count(idx), 4);
    struct dp_pdq_match got[8];
    assert_int_equal(dp_pdq_index_query_array(idx, got, 8, &base, 31), 3);
    for (int i = 0; i < 3; i++) {
        struct dp_pdq hit;
        memcpy(hit.b, ent[got[i].id].digest, DP_PDQ_BYTES);
        assert_int_equal(dp_pdq_distance(&hit, &base), got[i].distance);
    }
    assert_int_equal(got[0].distance, 0);
    assert_int_equal(got[1].distance, 12);
    assert_int_equal(got[2].distance, 12);
    dp_pdq_index_free(idx);
    dp_hashset_free(set);

    /* no PDQ entries: an empty index */
    assert_int_equal(dp_hashset_new(&set, &e), DP_OK);
    snprintf(buf, sizeof(buf), "sha256:%064d\n", 1);
    assert_int_equal(dp_hashset_load_buffer(set, "list2", buf, strlen(buf), &e), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &e), DP_OK);
    assert_int_equal(dp_pdq_index_from_hashset(&idx, set, &e), DP_OK);
    assert_int_equal(dp_pdq_index_count(idx), 0);
    assert_int_equal(dp_pdq_index_query_array(idx, got, 8, &base, 256), 0);
    dp_pdq_index_free(idx);
    dp_hashset_free(set);
}

/* ---- concurrent queries ---- */

struct worker {
    const struct dp_pdq_index *idx;
    const struct dp_pdq *q;
    size_t nq;
    uint64_t sum; /* order-independent: sum of a mix of (query, id, distance) */
    size_t matches;
};

struct sum_ctx {
    uint64_t sum, qi;
    size_t matches;
};

static bool sum_cb(void *ctx, const struct dp_pdq_match *m)
{
    struct sum_ctx *c = ctx;
    uint64_t x = c->qi << 40 ^ (uint64_t)m->id << 8 ^ (uint64_t)m->distance;
    c->sum += next(&x);
    c->matches++;
    return true;
}

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct sum_ctx c = {0, 0, 0};
    for (int rep = 0; rep < 3; rep++)
        for (c.qi = 0; c.qi < w->nq; c.qi++)
            dp_pdq_index_query(w->idx, &w->q[c.qi], 31, sum_cb, &c);
    w->sum = c.sum;
    w->matches = c.matches;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    const size_t n = 30000, nq = 300;
    struct dp_pdq *t, *q;
    make_planted(9, n, nq, &t, &q);
    struct dp_pdq_index *idx = build(t, n, DP_PDQ_INDEX_AUTO);
    struct worker one = {idx, q, nq, 0, 0};
    worker_run(&one);
    assert_true(one.matches > 0);
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){idx, q, nq, 0, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].matches, one.matches);
        assert_true(w[i].sum == one.sum);
    }
    dp_pdq_index_free(idx);
    free(t);
    free(q);
}

/* A radius outside 0..256 is API misuse: the library aborts (in a child here). */
static void test_radius_misuse(void **state)
{
    (void)state;
    uint64_t s = 10;
    struct dp_pdq t[4], q;
    for (int i = 0; i < 4; i++)
        random_hash(&s, &t[i]);
    random_hash(&s, &q);
    struct dp_pdq_index *idx = build(t, 4, DP_PDQ_INDEX_AUTO);
    size_t calls = 0;
    assert_int_equal(dp_pdq_index_query(idx, &q, 256, count_cb, &calls), 4);
    static const int bad[] = {-1, 257, 1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (freopen("/dev/null", "w", stderr) == NULL)
                _exit(3);
            dp_pdq_index_query(idx, &q, bad[i], count_cb, &calls);
            _exit(0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
    }
    dp_pdq_index_free(idx);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(dp_pdq_index_kind_name(DP_PDQ_INDEX_AUTO), "auto");
    assert_string_equal(dp_pdq_index_kind_name(DP_PDQ_INDEX_LINEAR), "linear");
    assert_string_equal(dp_pdq_index_kind_name(DP_PDQ_INDEX_MIH), "mih");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_planted), cmocka_unit_test(test_clustered),
        cmocka_unit_test(test_empty),          cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_switch_over),    cmocka_unit_test(test_stop_and_cap),
        cmocka_unit_test(test_variants),       cmocka_unit_test(test_from_hashset),
        cmocka_unit_test(test_threads),        cmocka_unit_test(test_radius_misuse),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
