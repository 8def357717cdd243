/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: victim-supplied hash lists - load (file, buffer, mapping), stage and merge, sort,
 * index, look up. The formats are in fmt_*.c behind the table in formats.c. */
#include "deprive/hashset.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "deprive/util.h"

#include "internal.h"

/* docs/hashlists.md promises 56 bytes an entry; a new field must fit the padding. */
_Static_assert(sizeof(struct dp_hash_entry) == 56, "struct dp_hash_entry grew");

/* Hostile-input limits (documented in docs/hashlists.md; the line limit is in internal.h). */
#define MAX_FILE ((size_t)1 << 32)       /* 4 GiB: a list bigger than this is not a hash list */
#define SHA_THREAD_MIN ((size_t)1 << 20) /* hash the list on a second thread from 1 MiB */

struct dp_hashset {
    struct dp_hash_entry *entries; /* committed [0, n), staged [n, n + staged) during a load */
    size_t n, cap;
    struct dp_hash_source *sources;
    size_t nsrc, srccap;
    char *labels; /* arena of NUL-terminated labels; offset 0 is a reserved empty string */
    size_t labels_len, labels_cap;
    bool finalized;
    size_t range[DP_ALGO_COUNT + 1]; /* entries of algo a are [range[a], range[a + 1]) */
    size_t unique[DP_ALGO_COUNT];
    uint64_t *sizes; /* sorted distinct sizes of exact entries that carry one */
    size_t nsizes;
    bool sizes_complete;
};

/* ---- staging (for the format parsers) ------------------------------------------------------ */

static bool reserve_entries(struct dp_hashset *set, size_t want)
{
    if (want <= set->cap)
        return true;
    if (want > SIZE_MAX / sizeof(struct dp_hash_entry))
        return false;
    struct dp_hash_entry *e = realloc(set->entries, want * sizeof(*e));
    if (e == NULL)
        return false;
    set->entries = e;
    set->cap = want;
    return true;
}

enum dp_status list_stage(struct loader *ld, enum dp_algo algo, const uint8_t *digest, int64_t size,
                          uint32_t label, int quality)
{
    if (quality < -1 || quality > LIST_PDQ_MAX_QUALITY || (algo != DP_ALGO_PDQ && quality != -1))
        dp_misuse("list_stage: bad quality");
    struct dp_hashset *set = ld->set;
    size_t idx = set->n + ld->staged;
    if (idx == set->cap) {
        size_t ncap = set->cap < 1024 ? 1024 : set->cap + set->cap / 2;
        if (!reserve_entries(set, ncap))
            return list_nomem(ld);
    }
    struct dp_hash_entry *e = &set->entries[idx];
    memset(e, 0, sizeof(*e));
    memcpy(e->digest, digest, dp_algo_len(algo));
    e->size = size;
    e->source = ld->source;
    e->line = ld->line;
    e->label = label;
    e->algo = (uint8_t)algo;
    e->quality = (int16_t)quality;
    ld->staged++;
    ld->counts[algo]++;
    if (quality >= 0 && quality < LIST_PDQ_MIN_QUALITY)
        ld->low_quality++;
    return DP_OK;
}

enum dp_status list_add_label(struct loader *ld, const char *s, size_t n, uint32_t *handle)
{
    struct dp_hashset *set = ld->set;
    *handle = 0;
    if (n == 0)
        return DP_OK;
    if (set->labels_len + n + 1 > UINT32_MAX)
        return list_error(ld, DP_ERR_LIMIT, "labels exceed 4 GiB in total");
    if (set->labels_len + n + 1 > set->labels_cap) {
        size_t ncap = set->labels_cap ? set->labels_cap : 4096;
        while (ncap < set->labels_len + n + 1)
            ncap *= 2;
        char *nl = realloc(set->labels, ncap);
        if (nl == NULL)
            return list_nomem(ld);
        set->labels = nl;
        set->labels_cap = ncap;
    }
    if (set->labels_len == 0)
        set->labels[set->labels_len++] = '\0'; /* handle 0 means "no label" */
    char *out = set->labels + set->labels_len;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        uint8_t b = 0;
        if (n - i < 3 || !list_hex_decode(&b, 1, s + i + 1, 2)) {
            char q[32];
            return list_error(ld, DP_ERR_PARSE, "bad percent escape in label: '%s'",
                              list_show(q, sizeof(q), s + i, n - i < 3 ? n - i : 3));
        }
        if (b == 0)
            return list_error(ld, DP_ERR_PARSE, "label contains %%00");
        out[o++] = (char)b;
        i += 2;
    }
    out[o] = '\0';
    *handle = (uint32_t)set->labels_len;
    set->labels_len += o + 1;
    return DP_OK;
}

/* ---- set lifecycle and loading ------------------------------------------------------------- */

enum dp_status dp_hashset_new(struct dp_hashset **out, struct dp_error *err)
{
    struct dp_hashset *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    *out = set;
    return DP_OK;
}

void dp_hashset_free(struct dp_hashset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nsrc; i++)
        free(set->sources[i].path);
    free(set->sources);
    free(set->entries);
    free(set->labels);
    free(set->sizes);
    free(set);
}

static void shrink_entries(struct dp_hashset *set)
{
    if (set->n == set->cap)
        return;
    if (set->n == 0) {
        free(set->entries);
        set->entries = NULL;
        set->cap = 0;
        return;
    }
    struct dp_hash_entry *e = realloc(set->entries, set->n * sizeof(*e));
    if (e != NULL) {
        set->entries = e;
        set->cap = set->n;
    }
}

static size_t count_lines(struct loader *ld, const char *buf, size_t len)
{
    size_t lines = 1;
    const char *p = buf, *end = buf + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
        list_drop_behind(ld, p);
    }
    list_drop_all(ld);
    return lines;
}

enum dp_status list_reserve_lines(struct loader *ld, const char *buf, size_t len)
{
    if (!reserve_entries(ld->set, ld->set->n + count_lines(ld, buf, len)))
        return list_nomem(ld);
    return DP_OK;
}

static enum dp_status check_nul(struct loader *ld, const char *buf, size_t len)
{
    const char *z = NULL;
    for (size_t off = 0; off < len && z == NULL; off += LIST_DROP_WINDOW) {
        size_t n = len - off < LIST_DROP_WINDOW ? len - off : LIST_DROP_WINDOW;
        z = memchr(buf + off, '\0', n);
        list_drop_behind(ld, buf + off + n);
    }
    list_drop_all(ld);
    if (z == NULL)
        return DP_OK;
    size_t line = count_lines(ld, buf, (size_t)(z - buf));
    ld->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    return list_error(ld, DP_ERR_PARSE, "NUL byte in the list");
}

static enum dp_status parse_any(struct loader *ld, const char *buf, size_t len,
                                const struct list_format **fmt)
{
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        buf += 3; /* UTF-8 byte order mark from Windows tools */
        len -= 3;
    }
    enum dp_status st = check_nul(ld, buf, len);
    if (st == DP_OK)
        st = list_detect(ld, buf, len, fmt);
    if (st != DP_OK)
        return st;
    return (*fmt)->parse(ld, buf, len);
}

/* The source digest does not depend on the parse, so big lists are hashed on a second thread
 * while the first one parses (SHA-256 is about a third of a big load). */
struct sha_job {
    const char *buf;
    size_t len;
    uint8_t out[32];
    pthread_t thread;
    bool running;
};

static void *sha_thread(void *arg)
{
    struct sha_job *job = arg;
    dp_sha256_buf(job->out, job->buf, job->len);
    return NULL;
}

static void sha_start(struct sha_job *job, struct loader *ld, const char *buf, size_t len)
{
    job->buf = buf;
    job->len = len;
    job->running = false;
    if (ld->map != NULL) {
        /* mapped: hash window by window here, giving the pages back behind us */
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
            for (size_t off = 0; off < len; off += LIST_DROP_WINDOW) {
                size_t n = len - off < LIST_DROP_WINDOW ? len - off : LIST_DROP_WINDOW;
                EVP_DigestUpdate(ctx, buf + off, n);
                list_drop_behind(ld, buf + off + n);
            }
            EVP_DigestFinal_ex(ctx, job->out, NULL);
            EVP_MD_CTX_free(ctx);
            list_drop_all(ld);
            job->len = 0; /* done: sha_finish must not hash again */
            job->buf = NULL;
            return;
        }
        EVP_MD_CTX_free(ctx);
    }
    job->running =
        len >= SHA_THREAD_MIN && pthread_create(&job->thread, NULL, sha_thread, job) == 0;
}

/* Wait for the digest (or compute it here when no thread runs); want false just waits. */
static void sha_finish(struct sha_job *job, bool want)
{
    if (job->running) {
        pthread_join(job->thread, NULL);
        job->running = false;
    } else if (want && job->buf != NULL) {
        dp_sha256_buf(job->out, job->buf, job->len);
    }
}

/* Room for one more source in set->sources. */
static enum dp_status source_slot(struct dp_hashset *set, struct dp_error *err)
{
    if (set->nsrc >= UINT32_MAX)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "too many hash lists");
    if (set->nsrc == set->srccap) {
        size_t ncap = set->srccap ? set->srccap * 2 : 4;
        struct dp_hash_source *ns = realloc(set->sources, ncap * sizeof(*ns));
        if (ns == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        set->sources = ns;
        set->srccap = ncap;
    }
    return DP_OK;
}

static enum dp_status load(struct dp_hashset *set, const char *name, const char *buf, size_t len,
                           bool mapped, struct dp_error *err)
{
    if (set->finalized)
        dp_misuse("dp_hashset_load_buffer after dp_hashset_finalize");
    if (buf == NULL && len > 0)
        dp_misuse("dp_hashset_load_buffer: NULL buffer");
    if (len > MAX_FILE)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "'%s' is larger than %zu bytes", name, MAX_FILE);
    enum dp_status st = source_slot(set, err);
    if (st != DP_OK)
        return st;
    char *path = strdup(name);
    if (path == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");

    struct loader ld = {
        .set = set,
        .name = name,
        .err = err,
        .label_mark = set->labels_len,
        .source = (uint32_t)set->nsrc,
        .map = mapped ? buf : NULL,
        .map_len = mapped ? len : 0,
    };
    const struct list_format *fmt = NULL;
    struct sha_job sha;
    sha_start(&sha, &ld, buf ? buf : "", len);
    st = parse_any(&ld, buf ? buf : "", len, &fmt);
    if (st == DP_OK && ld.staged == 0)
        st = dp_error_set(err, DP_ERR_INVALID, 0, "%s: no hashes in the list", name);
    sha_finish(&sha, st == DP_OK);
    if (st != DP_OK) {
        set->labels_len = ld.label_mark; /* drop staged labels; staged entries lie beyond n */
        shrink_entries(set);             /* and give back what the failed load reserved */
        free(path);
        return st;
    }

    struct dp_hash_source *src = &set->sources[set->nsrc];
    memset(src, 0, sizeof(*src));
    src->path = path;
    memcpy(src->sha256, sha.out, sizeof(src->sha256));
    src->format = fmt->name;
    memcpy(src->counts, ld.counts, sizeof(src->counts));
    src->low_quality = ld.low_quality;
    src->unused = ld.unused;
    src->withdrawn = ld.withdrawn;
    set->n += ld.staged;
    set->nsrc++;
    return DP_OK;
}

enum dp_status dp_hashset_load_buffer(struct dp_hashset *set, const char *name, const char *buf,
                                      size_t len, struct dp_error *err)
{
    return load(set, name, buf, len, false, err);
}

enum dp_status dp_hashset_load_file(struct dp_hashset *set, const char *path, struct dp_error *err)
{
    if (set->finalized)
        dp_misuse("dp_hashset_load_file after dp_hashset_finalize");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open '%s'", path);
    if (fstat(fd, &sb) != 0) {
        enum dp_status st = dp_error_set(err, DP_ERR_IO, errno, "cannot stat '%s'", path);
        close(fd);
        return st;
    }
    /* big regular files are mapped (and given back pass by pass); the rest are read */
    if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size >= SHA_THREAD_MIN &&
        (uint64_t)sb.st_size <= MAX_FILE) {
        size_t len = (size_t)sb.st_size;
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
            return dp_error_set(err, DP_ERR_IO, errno, "cannot map '%s'", path);
        madvise(map, len, MADV_SEQUENTIAL);
        enum dp_status st = load(set, path, map, len, true, err);
        munmap(map, len);
        return st;
    }
    close(fd);
    char *buf = NULL;
    size_t len = 0;
    enum dp_status st = dp_read_file(path, MAX_FILE, &buf, &len, err);
    if (st != DP_OK)
        return st;
    st = load(set, path, buf, len, false, err);
    free(buf);
    return st;
}

/* ---- sorting and finalize ------------------------------------------------------------------ */

/* Order: algorithm, digest, then load order (source, line) so duplicate runs list lists and
 * lines in the order they were read. Unused digest bytes are zero, so comparing all 32 works
 * for every algorithm. */
static inline int entry_cmp(const struct dp_hash_entry *a, const struct dp_hash_entry *b)
{
    if (a->algo != b->algo)
        return a->algo < b->algo ? -1 : 1;
    int c = memcmp(a->digest, b->digest, DP_DIGEST_MAX);
    if (c != 0)
        return c;
    if (a->source != b->source)
        return a->source < b->source ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return 0;
}

static inline void entry_swap(struct dp_hash_entry *a, struct dp_hash_entry *b)
{
    struct dp_hash_entry t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(struct dp_hash_entry *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct dp_hash_entry x = a[i];
        size_t j = i;
        while (j > 0 && entry_cmp(&x, &a[j - 1]) < 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

static void sift_down(struct dp_hash_entry *a, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && entry_cmp(&a[child], &a[child + 1]) < 0)
            child++;
        if (entry_cmp(&a[root], &a[child]) >= 0)
            return;
        entry_swap(&a[root], &a[child]);
        root = child;
    }
}

static void heap_sort(struct dp_hash_entry *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t i = n; i-- > 1;) {
        entry_swap(&a[0], &a[i]);
        sift_down(a, 0, i);
    }
}

static void intro_sort(struct dp_hash_entry *a, size_t n, unsigned depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heap_sort(a, n);
            return;
        }
        size_t mid = n / 2;
        if (entry_cmp(&a[mid], &a[0]) < 0)
            entry_swap(&a[mid], &a[0]);
        if (entry_cmp(&a[n - 1], &a[mid]) < 0) {
            entry_swap(&a[n - 1], &a[mid]);
            if (entry_cmp(&a[mid], &a[0]) < 0)
                entry_swap(&a[mid], &a[0]);
        }
        struct dp_hash_entry pivot = a[mid];
        size_t i = 0, j = n - 1;
        for (;;) { /* Hoare: a[0] <= pivot <= a[n-1] keeps both scans in bounds */
            while (entry_cmp(&a[i], &pivot) < 0)
                i++;
            while (entry_cmp(&pivot, &a[j]) < 0)
                j--;
            if (i >= j)
                break;
            entry_swap(&a[i], &a[j]);
            i++;
            j--;
        }
        size_t left = j + 1; /* [0, j] <= pivot <= [j + 1, n) */
        if (left < n - left) {
            intro_sort(a, left, depth);
            a += left;
            n -= left;
        } else {
            intro_sort(a + left, n - left, depth);
            n = left;
        }
    }
    insertion_sort(a, n);
}

/* Radix key byte at a level: the algorithm first, then the digest bytes in order. */
static unsigned key_byte(const struct dp_hash_entry *e, unsigned level)
{
    return level == 0 ? e->algo : e->digest[level - 1];
}

/* In-place MSD radix sort (American flag sort): random digests split into tiny buckets within
 * two or three levels, with no scratch array (the entry array is the set's biggest allocation).
 * Runs of equal digests end in intro_sort, which orders them by source and line. */
static void radix_sort(struct dp_hash_entry *a, size_t n, unsigned level)
{
    for (;;) {
        if (n <= 32) {
            insertion_sort(a, n);
            return;
        }
        if (level > DP_DIGEST_MAX) {
            unsigned depth = 0;
            for (size_t x = n; x > 1; x >>= 1)
                depth += 2;
            intro_sort(a, n, depth);
            return;
        }
        size_t start[257] = {0}, next[256];
        for (size_t i = 0; i < n; i++)
            start[key_byte(&a[i], level) + 1]++;
        if (start[key_byte(&a[0], level) + 1] == n) {
            level++; /* one bucket only: nothing to move */
            continue;
        }
        for (unsigned b = 0; b < 256; b++) {
            start[b + 1] += start[b];
            next[b] = start[b];
        }
        for (unsigned b = 0; b < 256; b++) {
            while (next[b] < start[b + 1]) {
                unsigned k = key_byte(&a[next[b]], level);
                if (k == b)
                    next[b]++;
                else
                    entry_swap(&a[next[b]], &a[next[k]++]);
            }
        }
        for (unsigned b = 0; b < 256; b++)
            radix_sort(a + start[b], start[b + 1] - start[b], level + 1);
        return;
    }
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Distinct sizes of exact entries, sorted; and whether every exact entry has one. */
static enum dp_status build_sizes(struct dp_hashset *set)
{
    size_t exact = set->range[DP_ALGO_EXACT_COUNT], with = 0;
    for (size_t i = 0; i < exact; i++)
        with += set->entries[i].size >= 0;
    set->sizes_complete = exact > 0 && with == exact;
    if (with == 0)
        return DP_OK;
    uint64_t *sz = malloc(with * sizeof(*sz));
    if (sz == NULL)
        return DP_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < exact; i++) {
        if (set->entries[i].size >= 0)
            sz[k++] = (uint64_t)set->entries[i].size;
    }
    qsort(sz, k, sizeof(*sz), u64_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (u == 0 || sz[u - 1] != sz[i])
            sz[u++] = sz[i];
    }
    uint64_t *shrunk = realloc(sz, u * sizeof(*sz));
    set->sizes = shrunk ? shrunk : sz;
    set->nsizes = u;
    return DP_OK;
}

enum dp_status dp_hashset_finalize(struct dp_hashset *set, struct dp_error *err)
{
    if (set->finalized)
        return DP_OK;
    if (set->n == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "no hashes loaded");
    shrink_entries(set);
    radix_sort(set->entries, set->n, 0);
    size_t i = 0;
    for (int a = 0; a < DP_ALGO_COUNT; a++) {
        set->range[a] = i;
        set->unique[a] = 0;
        for (; i < set->n && set->entries[i].algo == a; i++) {
            if (i == set->range[a] ||
                memcmp(set->entries[i].digest, set->entries[i - 1].digest, DP_DIGEST_MAX) != 0)
                set->unique[a]++;
        }
    }
    set->range[DP_ALGO_COUNT] = i;
    free(set->sizes);
    set->sizes = NULL;
    set->nsizes = 0;
    if (build_sizes(set) != DP_OK)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory indexing sizes");
    set->finalized = true;
    return DP_OK;
}

/* ---- queries ------------------------------------------------------------------------------- */

static void need_final(const struct dp_hashset *set, const char *fn)
{
    if (set == NULL || !set->finalized)
        dp_misuse(fn);
}

static void need_algo(enum dp_algo algo)
{
    if ((unsigned)algo >= DP_ALGO_COUNT)
        dp_misuse("bad algorithm");
}

size_t dp_hashset_lookup(const struct dp_hashset *set, enum dp_algo algo, const uint8_t *digest,
                         const struct dp_hash_entry **first)
{
    need_final(set, "dp_hashset_lookup before dp_hashset_finalize");
    need_algo(algo);
    size_t len = dp_algo_len(algo);
    size_t lo = set->range[algo], hi = set->range[algo + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(set->entries[mid].digest, digest, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < set->range[algo + 1] && memcmp(set->entries[end].digest, digest, len) == 0)
        end++;
    if (first != NULL)
        *first = end > lo ? &set->entries[lo] : NULL;
    return end - lo;
}

size_t dp_hashset_count(const struct dp_hashset *set, enum dp_algo algo)
{
    need_final(set, "dp_hashset_count before dp_hashset_finalize");
    need_algo(algo);
    return set->range[algo + 1] - set->range[algo];
}

size_t dp_hashset_unique(const struct dp_hashset *set, enum dp_algo algo)
{
    need_final(set, "dp_hashset_unique before dp_hashset_finalize");
    need_algo(algo);
    return set->unique[algo];
}

const struct dp_hash_entry *dp_hashset_entries(const struct dp_hashset *set, enum dp_algo algo,
                                               size_t *count)
{
    need_final(set, "dp_hashset_entries before dp_hashset_finalize");
    need_algo(algo);
    if (count != NULL)
        *count = set->range[algo + 1] - set->range[algo];
    return set->entries + set->range[algo];
}

bool dp_hashset_sizes_complete(const struct dp_hashset *set)
{
    need_final(set, "dp_hashset_sizes_complete before dp_hashset_finalize");
    return set->sizes_complete;
}

bool dp_hashset_size_wanted(const struct dp_hashset *set, uint64_t size)
{
    need_final(set, "dp_hashset_size_wanted before dp_hashset_finalize");
    size_t lo = 0, hi = set->nsizes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->sizes[mid] < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->nsizes && set->sizes[lo] == size;
}

size_t dp_hashset_source_count(const struct dp_hashset *set)
{
    return set->nsrc;
}

const struct dp_hash_source *dp_hashset_source(const struct dp_hashset *set, size_t index)
{
    if (index >= set->nsrc)
        dp_misuse("dp_hashset_source: index out of range");
    return &set->sources[index];
}

const char *dp_hashset_label(const struct dp_hashset *set, const struct dp_hash_entry *entry)
{
    if (entry->label == 0)
        return NULL;
    if (entry->label >= set->labels_len)
        dp_misuse("dp_hashset_label: bad handle");
    return set->labels + entry->label;
}

/* ---- entries added directly (dp_hashset_add) ------------------------------------------------
 * Kept in one block at the end of this file: it needs the set's internals and nothing of the
 * format parsers. */

enum dp_status dp_hashset_add(struct dp_hashset *set, const char *name, const char *format,
                              const uint8_t sha256[32], const struct dp_hash_entry *entries,
                              size_t count, struct dp_error *err)
{
    if (set->finalized)
        dp_misuse("dp_hashset_add after dp_hashset_finalize");
    for (size_t i = 0; i < count; i++)
        if (entries[i].algo >= DP_ALGO_COUNT)
            dp_misuse("dp_hashset_add: bad algorithm");
    if (count == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "%s: no hashes", name);
    if (set->nsrc >= UINT32_MAX || count > UINT32_MAX)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "%s: too many hash lists or entries", name);
    if (count > SIZE_MAX / sizeof(struct dp_hash_entry) - set->n)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory adding '%s'", name);
    /* every allocation first, so a failure leaves the set as it was */
    char *path = strdup(name);
    if (path == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory adding '%s'", name);
    if (set->nsrc == set->srccap) {
        size_t ncap = set->srccap ? set->srccap * 2 : 4;
        struct dp_hash_source *ns = realloc(set->sources, ncap * sizeof(*ns));
        if (ns == NULL) {
            free(path);
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory adding '%s'", name);
        }
        set->sources = ns;
        set->srccap = ncap;
    }
    if (set->n + count > set->cap) {
        struct dp_hash_entry *ne = realloc(set->entries, (set->n + count) * sizeof(*ne));
        if (ne == NULL) {
            free(path);
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory adding '%s'", name);
        }
        set->entries = ne;
        set->cap = set->n + count;
    }
    struct dp_hash_source *src = &set->sources[set->nsrc];
    memset(src, 0, sizeof(*src));
    src->path = path;
    memcpy(src->sha256, sha256, sizeof(src->sha256));
    src->format = format;
    for (size_t i = 0; i < count; i++) {
        struct dp_hash_entry *e = &set->entries[set->n + i];
        size_t len = dp_algo_len((enum dp_algo)entries[i].algo);
        memset(e, 0, sizeof(*e));
        memcpy(e->digest, entries[i].digest, len);
        e->size = entries[i].size < 0 ? -1 : entries[i].size;
        e->source = (uint32_t)set->nsrc;
        e->line = (uint32_t)(i + 1);
        e->algo = entries[i].algo;
        e->quality = -1;
        src->counts[e->algo]++;
    }
    set->n += count;
    set->nsrc++;
    return DP_OK;
}
