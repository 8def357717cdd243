/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the PDQ index - a linear scan for small target sets, multi-index hashing (16
 * chunks of 16 bits, probing each chunk within floor(r / 16) bits) for large ones. */
#include "deprive/pdq_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define WORDS 4   /* a hash as four 64-bit words */
#define CHUNKS 16 /* mih: chunks of CHUNK_BITS bits */
#define CHUNK_BITS 16
#define BUCKETS (1u << CHUNK_BITS)
#define NBITS (DP_PDQ_BYTES * 8)
#define MAX_SLACK (DP_PDQ_INDEX_MIH_MAX_RADIUS / CHUNKS)
#define MAX_MASKS (1 + CHUNK_BITS + CHUNK_BITS * (CHUNK_BITS - 1) / 2) /* within 2 bits */

_Static_assert(MAX_SLACK <= 2, "MAX_MASKS counts masks of up to 2 bits");

/* The hot loops want the popcnt instruction, which the x86-64 baseline lacks (without it
 * __builtin_popcountll is a libgcc call, ten times slower). They are compiled twice, and
 * the index picks the popcnt copy when the CPU has it. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(__POPCNT__)
#define HAVE_POPCNT_CLONE 1
#endif

/* Targets are stored split in halves: lo[] holds bits 0..127 of each, hi[] bits 128..255.
 * Nearly every candidate is rejected on its low half alone (a random target is within 31
 * bits there with odds of 2e-9, 5e-7 when one of its chunks there is the query's), so the
 * data a query touches at random is 16 bytes a target, not 32, and stays in cache better;
 * hi[] is read only for near ones. */
struct dp_pdq_index {
    size_t n;
    enum dp_pdq_index_kind kind; /* linear or mih */
    bool popcnt;                 /* the CPU has popcnt (HAVE_POPCNT_CLONE) */
    uint64_t *lo;                /* n x 2 words, 64-byte aligned; one allocation with hi */
    uint64_t *hi;                /* n x 2 words, lo + 2 n */
    uint32_t *start;             /* mih: CHUNKS x (BUCKETS + 1) offsets into ids */
    uint32_t *ids;               /* mih: CHUNKS x n target ids, by chunk value */
};

static const char *const kind_names[DP_PDQ_INDEX_KINDS] = {"auto", "linear", "mih"};

const char *dp_pdq_index_kind_name(enum dp_pdq_index_kind kind)
{
    if ((unsigned)kind >= DP_PDQ_INDEX_KINDS)
        dp_misuse("dp_pdq_index_kind_name: bad kind");
    return kind_names[kind];
}

static void load_words(const struct dp_pdq *h, uint64_t w[WORDS])
{
    memcpy(w, h->b, sizeof(uint64_t) * WORDS);
}

static void target_words(const struct dp_pdq_index *idx, size_t id, uint64_t w[WORDS])
{
    w[0] = idx->lo[2 * id];
    w[1] = idx->lo[2 * id + 1];
    w[2] = idx->hi[2 * id];
    w[3] = idx->hi[2 * id + 1];
}

/* Chunk c of a hash; the same native-endian split for targets and queries. */
static unsigned chunk_of(const uint64_t *w, int c)
{
    return (unsigned)(w[c / 4] >> (CHUNK_BITS * (c % 4))) & (BUCKETS - 1);
}

/* ---- queries ---- */

struct query {
    const struct dp_pdq_index *idx;
    uint64_t q[WORDS];
    int radius;
    int slack; /* mih: bits a chunk may differ by, floor(radius / CHUNKS) */
    /* variants: the distinct variant hashes searched, and which is being searched */
    const uint64_t (*var)[WORDS];
    int nvar, v;
    enum dp_pdq_variant var_id[DP_PDQ_VARIANTS];
    bool (*fn)(void *ctx, const struct dp_pdq_match *m);
    void *ctx;
    size_t count;
    bool stop;
    void (*search_mih)(struct query *qs);
    void (*scan_all)(struct query *qs);
};

static int distance_words(const uint64_t *a, const uint64_t *b)
{
    int d = 0;
    for (int i = 0; i < WORDS; i++)
        d += __builtin_popcountll(a[i] ^ b[i]);
    return d;
}

/* A target within radius (the rare path). In chunk c (or -1 for a linear scan): skip it
 * when an earlier chunk was already within slack bits, as that chunk's probe reported it. In
 * a variants query: skip it unless this variant is the first at the smallest distance. */
static void found(struct query *qs, int c, uint32_t id, int d)
{
    uint64_t t[WORDS];
    target_words(qs->idx, id, t);
    for (int j = 0; j < c; j++)
        if (__builtin_popcount(chunk_of(t, j) ^ chunk_of(qs->q, j)) <= qs->slack)
            return;
    enum dp_pdq_variant variant = DP_PDQ_ORIGINAL;
    if (qs->var != NULL) {
        int best = d, first = qs->v;
        for (int u = 0; u < qs->nvar; u++) {
            int du = u == qs->v ? d : distance_words(qs->var[u], t);
            if (du < best || (du == best && u < first))
                best = du, first = u;
        }
        if (first != qs->v)
            return;
        variant = qs->var_id[qs->v];
    }
    struct dp_pdq_match m = {.id = id, .distance = d, .variant = variant};
    qs->count++;
    if (!qs->fn(qs->ctx, &m))
        qs->stop = true;
}

/* The hot loops, inlined into a generic and (on x86) a popcnt copy each. check: the
 * distance from target id to the query when it is within radius, else -1. */
#define INLINE static inline __attribute__((always_inline))

INLINE int check(const struct dp_pdq_index *idx, const uint64_t *q, int r, size_t id)
{
    const uint64_t *lo = idx->lo + 2 * id;
    int d = __builtin_popcountll(lo[0] ^ q[0]) + __builtin_popcountll(lo[1] ^ q[1]);
    if (__builtin_expect(d > r, 1))
        return -1;
    const uint64_t *hi = idx->hi + 2 * id;
    d += __builtin_popcountll(hi[0] ^ q[2]) + __builtin_popcountll(hi[1] ^ q[3]);
    return d <= r ? d : -1;
}

/* The masks of up to slack bits (slack <= 2), fewest bits first. */
static int make_masks(int slack, uint16_t *mask)
{
    int n = 0;
    mask[n++] = 0;
    for (int a = 0; slack >= 1 && a < CHUNK_BITS; a++)
        mask[n++] = (uint16_t)(1u << a);
    for (int a = 0; slack >= 2 && a < CHUNK_BITS; a++)
        for (int b = a + 1; b < CHUNK_BITS; b++)
            mask[n++] = (uint16_t)(1u << a | 1u << b);
    return n;
}

/* A query probes, in each chunk c, the buckets of the query's value there with each mask
 * flipped. Each probe costs three dependent memory reads - the bucket's offsets, its ids,
 * each id's target - scattered over 100 MB, so they are software-pipelined: the offsets of
 * the probe AHEAD_OFFSETS on are prefetched, the bucket of the current probe is located and
 * its ids prefetched, the ids of the probe AHEAD_BUCKETS back are read and each one's target
 * prefetched, and a target is checked AHEAD_TARGETS candidates after its prefetch. Waiting
 * for one miss after another instead takes twice as long. */
#define AHEAD_OFFSETS 8
#define AHEAD_BUCKETS 4
#define AHEAD_TARGETS 48
#define RING 64 /* > AHEAD_TARGETS and > AHEAD_BUCKETS, a power of two */

struct probes {
    uint16_t mask[MAX_MASKS];
    unsigned nm;
    unsigned key[CHUNKS]; /* the query's value in each chunk */
};

/* A position in the probe sequence: chunk c, mask m. */
struct pos {
    unsigned c, m;
};

INLINE void advance(struct pos *at, unsigned nm)
{
    if (++at->m == nm) {
        at->m = 0;
        at->c++;
    }
}

INLINE const uint32_t *offsets_at(const struct dp_pdq_index *idx, const struct probes *p,
                                  struct pos at)
{
    return idx->start + (size_t)at.c * (BUCKETS + 1) + (p->key[at.c] ^ p->mask[at.m]);
}

/* Check candidate id, found in chunk c. */
INLINE void check_one(struct query *qs, const uint64_t *q, uint32_t id, int c)
{
    int d = check(qs->idx, q, qs->radius, id);
    if (__builtin_expect(d >= 0, 0))
        found(qs, c, id, d);
}

INLINE void search_mih_body(struct query *qs)
{
    const struct dp_pdq_index *idx = qs->idx;
    const uint64_t q[WORDS] = {qs->q[0], qs->q[1], qs->q[2], qs->q[3]};
    struct probes p;
    p.nm = (unsigned)make_masks(qs->slack, p.mask);
    for (int c = 0; c < CHUNKS; c++)
        p.key[c] = chunk_of(q, c);
    size_t bfrom[RING], bto[RING];
    uint8_t bc[RING], cc[RING];
    uint32_t cid[RING];
    size_t head = 0, tail = 0; /* candidates prefetched [tail, head) */
    struct pos po = {0, 0}, pb = {0, 0};
    for (int i = 0; i < AHEAD_OFFSETS && po.c < CHUNKS; i++, advance(&po, p.nm))
        __builtin_prefetch(offsets_at(idx, &p, po));
    for (size_t j = 0; j < (size_t)CHUNKS * p.nm + AHEAD_BUCKETS; j++) {
        if (po.c < CHUNKS) {
            __builtin_prefetch(offsets_at(idx, &p, po));
            advance(&po, p.nm);
        }
        if (pb.c < CHUNKS) {
            const uint32_t *st = offsets_at(idx, &p, pb);
            size_t base = (size_t)pb.c * idx->n;
            bfrom[j % RING] = base + st[0];
            bto[j % RING] = base + st[1];
            bc[j % RING] = (uint8_t)pb.c;
            if (st[1] > st[0]) {
                __builtin_prefetch(idx->ids + base + st[0]);
                __builtin_prefetch(idx->ids + base + st[1] - 1);
            }
            advance(&pb, p.nm);
        }
        if (j < AHEAD_BUCKETS)
            continue;
        size_t jb = (j - AHEAD_BUCKETS) % RING;
        for (size_t k = bfrom[jb]; k < bto[jb]; k++) {
            uint32_t id = idx->ids[k];
            /* read once: non-temporal, to leave the cache to the offsets and ids */
            __builtin_prefetch(idx->lo + 2 * (size_t)id, 0, 0);
            cid[head % RING] = id;
            cc[head % RING] = bc[jb];
            if (++head - tail > AHEAD_TARGETS) {
                check_one(qs, q, cid[tail % RING], cc[tail % RING]);
                tail++;
                if (qs->stop)
                    return;
            }
        }
    }
    for (; tail < head && !qs->stop; tail++)
        check_one(qs, q, cid[tail % RING], cc[tail % RING]);
}

INLINE void scan_all_body(struct query *qs)
{
    const struct dp_pdq_index *idx = qs->idx;
    const uint64_t q[WORDS] = {qs->q[0], qs->q[1], qs->q[2], qs->q[3]};
    const int r = qs->radius;
    for (size_t i = 0; i < idx->n; i++) {
        int d = check(idx, q, r, i);
        if (__builtin_expect(d >= 0, 0)) {
            found(qs, -1, (uint32_t)i, d);
            if (qs->stop)
                return;
        }
    }
}

static void search_mih_generic(struct query *qs)
{
    search_mih_body(qs);
}

static void scan_all_generic(struct query *qs)
{
    scan_all_body(qs);
}

#ifdef HAVE_POPCNT_CLONE
__attribute__((target("popcnt"))) static void search_mih_popcnt(struct query *qs)
{
    search_mih_body(qs);
}

__attribute__((target("popcnt"))) static void scan_all_popcnt(struct query *qs)
{
    scan_all_body(qs);
}
#endif

/* Search qs->q: probe the chunks when the index and radius allow, else scan. */
static void search(struct query *qs)
{
    const struct dp_pdq_index *idx = qs->idx;
    if (idx->n == 0)
        return;
    if (idx->kind == DP_PDQ_INDEX_MIH && qs->radius <= DP_PDQ_INDEX_MIH_MAX_RADIUS) {
        qs->slack = qs->radius / CHUNKS;
        qs->search_mih(qs);
    } else {
        qs->slack = NBITS;
        qs->scan_all(qs);
    }
}

static void query_init(struct query *qs, const struct dp_pdq_index *idx, int radius,
                       bool (*fn)(void *ctx, const struct dp_pdq_match *m), void *ctx)
{
    if (radius < 0 || radius > NBITS)
        dp_misuse("dp_pdq_index_query: radius outside 0..256");
    memset(qs, 0, sizeof(*qs));
    qs->idx = idx;
    qs->radius = radius;
    qs->fn = fn;
    qs->ctx = ctx;
    qs->search_mih = search_mih_generic;
    qs->scan_all = scan_all_generic;
#ifdef HAVE_POPCNT_CLONE
    if (idx->popcnt) {
        qs->search_mih = search_mih_popcnt;
        qs->scan_all = scan_all_popcnt;
    }
#endif
}

size_t dp_pdq_index_query(const struct dp_pdq_index *idx, const struct dp_pdq *q, int radius,
                          bool (*fn)(void *ctx, const struct dp_pdq_match *m), void *ctx)
{
    struct query qs;
    query_init(&qs, idx, radius, fn, ctx);
    load_words(q, qs.q);
    search(&qs);
    return qs.count;
}

size_t dp_pdq_index_query_variants(const struct dp_pdq_index *idx, const struct dp_pdq_result *r,
                                   bool dihedral, int radius,
                                   bool (*fn)(void *ctx, const struct dp_pdq_match *m), void *ctx)
{
    struct query qs;
    query_init(&qs, idx, radius, fn, ctx);
    uint64_t var[DP_PDQ_VARIANTS][WORDS];
    int nvar = 0;
    for (int v = 0; v < (dihedral ? DP_PDQ_VARIANTS : 1); v++) {
        uint64_t w[WORDS];
        load_words(&r->hash[v], w);
        bool seen = false;
        for (int u = 0; u < nvar && !seen; u++)
            seen = memcmp(var[u], w, sizeof(w)) == 0;
        if (!seen) {
            memcpy(var[nvar], w, sizeof(w));
            qs.var_id[nvar++] = (enum dp_pdq_variant)v;
        }
    }
    qs.var = (const uint64_t(*)[WORDS])var;
    qs.nvar = nvar;
    for (qs.v = 0; qs.v < nvar && !qs.stop; qs.v++) {
        memcpy(qs.q, var[qs.v], sizeof(qs.q));
        search(&qs);
    }
    return qs.count;
}

/* ---- the array form: a max-heap of the cap nearest, by (distance, id) ---- */

struct collect {
    struct dp_pdq_match *out;
    size_t cap, len;
};

static bool worse(const struct dp_pdq_match *a, const struct dp_pdq_match *b)
{
    return a->distance != b->distance ? a->distance > b->distance : a->id > b->id;
}

static void sift_down(struct dp_pdq_match *h, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && worse(&h[l], &h[m]))
            m = l;
        if (r < len && worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct dp_pdq_match t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static bool collect_one(void *ctx, const struct dp_pdq_match *m)
{
    struct collect *c = ctx;
    if (c->len < c->cap) {
        size_t i = c->len++;
        c->out[i] = *m;
        while (i > 0 && worse(&c->out[i], &c->out[(i - 1) / 2])) {
            struct dp_pdq_match t = c->out[i];
            c->out[i] = c->out[(i - 1) / 2];
            c->out[(i - 1) / 2] = t;
            i = (i - 1) / 2;
        }
    } else if (c->cap > 0 && worse(&c->out[0], m)) {
        c->out[0] = *m;
        sift_down(c->out, c->len, 0);
    }
    return true;
}

static int cmp_match(const void *a, const void *b)
{
    const struct dp_pdq_match *x = a, *y = b;
    return worse(x, y) ? 1 : worse(y, x) ? -1 : 0;
}

size_t dp_pdq_index_query_array(const struct dp_pdq_index *idx, struct dp_pdq_match *out,
                                size_t cap, const struct dp_pdq *q, int radius)
{
    if (out == NULL && cap > 0)
        dp_misuse("dp_pdq_index_query_array: NULL out with cap > 0");
    struct collect c = {.out = out, .cap = cap, .len = 0};
    size_t total = dp_pdq_index_query(idx, q, radius, collect_one, &c);
    /* collect_one keeps at most cap matches: out is not NULL here */
    if (c.len > 1)
        qsort(out, c.len, sizeof(*out), cmp_match); /* NOLINT(clang-analyzer-core.NonNull*) */
    return total;
}

/* ---- building ---- */

/* Memory for the big arrays. Queries read them at random, so from 4 MiB on they are asked
 * for in 2 MiB pages (transparent huge pages, which the kernel may give only on request):
 * with 4 KiB pages most probes would also miss the TLB, and queries take 1.4 times as long.
 * Small ones are 64-byte aligned. Free with free(). */
static void *big_alloc(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (posix_memalign(&p, bytes >= 2 * huge ? huge : 64, bytes ? bytes : 64) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= 2 * huge)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: without it, smaller pages */
#endif
    return p;
}

/* Chunk c of target i. */
static unsigned target_chunk(const struct dp_pdq_index *idx, size_t i, int c)
{
    int w = c / 4;
    uint64_t word = w < 2 ? idx->lo[2 * i + (size_t)w] : idx->hi[2 * i + (size_t)w - 2];
    return (unsigned)(word >> (CHUNK_BITS * (c % 4))) & (BUCKETS - 1);
}

/* One chunk's table: count each value, prefix sums, then place ids in target order (so a
 * bucket lists ids ascending). cursor is BUCKETS scratch words. */
static void build_chunk(struct dp_pdq_index *idx, int c, uint32_t *cursor)
{
    uint32_t *st = idx->start + (size_t)c * (BUCKETS + 1);
    uint32_t *ids = idx->ids + (size_t)c * idx->n;
    memset(st, 0, sizeof(uint32_t) * (BUCKETS + 1));
    for (size_t i = 0; i < idx->n; i++)
        st[target_chunk(idx, i, c) + 1]++;
    for (unsigned v = 0; v < BUCKETS; v++)
        st[v + 1] += st[v];
    memcpy(cursor, st, sizeof(uint32_t) * BUCKETS);
    for (size_t i = 0; i < idx->n; i++)
        ids[cursor[target_chunk(idx, i, c)]++] = (uint32_t)i;
}

static enum dp_status build_mih(struct dp_pdq_index *idx, struct dp_error *err)
{
    /* n <= UINT32_MAX - 1 was checked; with a 32-bit size_t this product can still overflow */
    if (idx->n > SIZE_MAX / sizeof(uint32_t) / CHUNKS)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "pdq index: too many targets");
    uint32_t *cursor = malloc(sizeof(uint32_t) * BUCKETS);
    idx->start = big_alloc(sizeof(uint32_t) * CHUNKS * (BUCKETS + 1));
    idx->ids = big_alloc(sizeof(uint32_t) * CHUNKS * idx->n);
    if (cursor == NULL || idx->start == NULL || idx->ids == NULL) {
        free(cursor);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    for (int c = 0; c < CHUNKS; c++)
        build_chunk(idx, c, cursor);
    free(cursor);
    return DP_OK;
}

static void set_target(struct dp_pdq_index *idx, size_t i, const uint8_t b[DP_PDQ_BYTES])
{
    memcpy(idx->lo + 2 * i, b, DP_PDQ_BYTES / 2);
    memcpy(idx->hi + 2 * i, b + DP_PDQ_BYTES / 2, DP_PDQ_BYTES / 2);
}

/* Allocate an index for n targets with room for their hashes (filled by the caller). */
static enum dp_status index_alloc(struct dp_pdq_index **out, size_t n, enum dp_pdq_index_kind kind,
                                  struct dp_error *err)
{
    *out = NULL;
    if ((unsigned)kind >= DP_PDQ_INDEX_KINDS)
        dp_misuse("dp_pdq_index_new: bad kind");
    if (n > DP_PDQ_INDEX_MAX_TARGETS || n > SIZE_MAX / DP_PDQ_BYTES - 1)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "pdq index: %zu targets, at most %zu", n,
                            (size_t)DP_PDQ_INDEX_MAX_TARGETS);
    struct dp_pdq_index *idx = calloc(1, sizeof(*idx));
    if (idx == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    idx->n = n;
    if (kind == DP_PDQ_INDEX_AUTO)
        kind = n >= DP_PDQ_INDEX_MIH_MIN ? DP_PDQ_INDEX_MIH : DP_PDQ_INDEX_LINEAR;
    idx->kind = kind;
#ifdef HAVE_POPCNT_CLONE
    __builtin_cpu_init();
    idx->popcnt = __builtin_cpu_supports("popcnt");
#endif
    idx->lo = big_alloc(n * DP_PDQ_BYTES); /* 64-byte aligned: no half straddles lines */
    idx->hi = idx->lo + 2 * n;
    if (idx->lo == NULL) {
        free(idx);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    *out = idx;
    return DP_OK;
}

static enum dp_status index_finish(struct dp_pdq_index **out, struct dp_pdq_index *idx,
                                   struct dp_error *err)
{
    if (idx->kind == DP_PDQ_INDEX_MIH && idx->n > 0) {
        enum dp_status st = build_mih(idx, err);
        if (st != DP_OK) {
            dp_pdq_index_free(idx);
            return st;
        }
    }
    *out = idx;
    return DP_OK;
}

enum dp_status dp_pdq_index_new_kind(struct dp_pdq_index **out, const struct dp_pdq *targets,
                                     size_t n, enum dp_pdq_index_kind kind, struct dp_error *err)
{
    if (targets == NULL && n > 0)
        dp_misuse("dp_pdq_index_new: NULL targets");
    struct dp_pdq_index *idx;
    enum dp_status st = index_alloc(&idx, n, kind, err);
    if (st != DP_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        set_target(idx, i, targets[i].b);
    return index_finish(out, idx, err);
}

enum dp_status dp_pdq_index_new(struct dp_pdq_index **out, const struct dp_pdq *targets, size_t n,
                                struct dp_error *err)
{
    return dp_pdq_index_new_kind(out, targets, n, DP_PDQ_INDEX_AUTO, err);
}

enum dp_status dp_pdq_index_from_hashset(struct dp_pdq_index **out, const struct dp_hashset *set,
                                         struct dp_error *err)
{
    size_t n = 0;
    const struct dp_hash_entry *e = dp_hashset_entries(set, DP_ALGO_PDQ, &n);
    struct dp_pdq_index *idx;
    enum dp_status st = index_alloc(&idx, n, DP_PDQ_INDEX_AUTO, err);
    if (st != DP_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        set_target(idx, i, e[i].digest);
    return index_finish(out, idx, err);
}

void dp_pdq_index_free(struct dp_pdq_index *idx)
{
    if (idx == NULL)
        return;
    free(idx->lo);
    free(idx->start);
    free(idx->ids);
    free(idx);
}

size_t dp_pdq_index_count(const struct dp_pdq_index *idx)
{
    return idx->n;
}

enum dp_pdq_index_kind dp_pdq_index_kind(const struct dp_pdq_index *idx)
{
    return idx->kind;
}

size_t dp_pdq_index_memory(const struct dp_pdq_index *idx)
{
    size_t bytes = sizeof(*idx) + (idx->n * DP_PDQ_BYTES + 63) / 64 * 64;
    if (idx->start != NULL)
        bytes += sizeof(uint32_t) * CHUNKS * ((BUCKETS + 1) + idx->n);
    return bytes;
}
