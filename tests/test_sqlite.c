/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: SQLite records across overflow pages (src/container/sqlite.c). Databases made
 * by the sqlite3 program with blobs of every size around a page: every record that spilled is
 * handed over once, its payload holds the blob byte for byte, its pieces tile the payload and
 * lie where the file holds those bytes; hostile chains (a loop, a page past the end, a
 * truncated file) are counted as broken, never followed forever. Skipped without sqlite3. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deprive/sqlite.h"

struct seen {
    const uint8_t *file;
    size_t size;
    const uint8_t *blobs[8];
    size_t blob_len[8];
    size_t nblobs;
    unsigned found[8];
    unsigned records;
};

static const uint8_t *find_bytes(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl)
{
    for (size_t i = 0; nl <= hl && i <= hl - nl; i++)
        if (memcmp(h + i, n, nl) == 0)
            return h + i;
    return NULL;
}

static bool on_record(void *ctx, const struct dp_sqlite_record *r)
{
    struct seen *s = ctx;
    s->records++;
    uint64_t at = 0;
    for (size_t i = 0; i < r->nsegs; i++) {
        assert_int_equal(r->segs[i][0], at);
        assert_true(r->segs[i][2] > 0);
        assert_true(r->segs[i][1] + r->segs[i][2] <= s->size);
        assert_memory_equal(s->file + r->segs[i][1], r->payload + at, r->segs[i][2]);
        at += r->segs[i][2];
    }
    assert_int_equal(at, r->len);
    for (size_t b = 0; b < s->nblobs; b++)
        if (find_bytes(r->payload, r->len, s->blobs[b], s->blob_len[b]) != NULL)
            s->found[b]++;
    return true;
}

/* A database at path with page size ps holding the blobs (written to files first). */
static void make_db(const char *dir, const char *path, unsigned ps, const uint8_t *const *blobs,
                    const size_t *lens, size_t n)
{
    char sql[8192];
    int k = snprintf(sql, sizeof(sql),
                     "pragma page_size=%u; create table t(id integer primary key, note text, "
                     "b blob); create table u(x);",
                     ps);
    for (size_t i = 0; i < n; i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "blob%zu", i);
        tu_write(dir, rel, blobs[i], lens[i]);
        char *bp = tu_path(dir, rel);
        k += snprintf(sql + k, sizeof(sql) - (size_t)k,
                      " insert into t(note, b) values ('row %zu', readfile('%s'));"
                      " insert into u values (randomblob(%zu));",
                      i, bp, 100 + 37 * i);
        free(bp);
    }
    char *sqlf = tu_path(dir, "make.sql");
    tu_write(dir, "make.sql", sql, (size_t)k);
    assert_int_equal(tu_sh("sqlite3 '%s' < '%s'", path, sqlf), 0);
    free(sqlf);
}

static void walk(const char *path, struct seen *s, struct dp_sqlite_stats *st,
                 enum dp_status want)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    struct dp_error e = {0};
    enum dp_status r = dp_sqlite_overflow_records(fd, (uint64_t)sb.st_size, 1 << 24, on_record,
                                                 s, st, &e);
    close(fd);
    if (r != want)
        fail_msg("walk of %s: status %d (%s), want %d", path, r, e.msg, want);
}

static bool have_sqlite3(void)
{
    if (tu_have("sqlite3"))
        return true;
    printf("sqlite: skipped: the sqlite3 program is missing (package sqlite3; "
           "scripts/bootstrap.sh installs it)\n");
    return false;
}

/* Blobs from under a page to many pages, at page sizes 512, 4096 and 65536. */
static void test_reassembled(void **state)
{
    (void)state;
    if (!have_sqlite3())
        skip();
    static const unsigned sizes[] = {512, 4096, 65536};
    static const size_t lens[] = {50, 300, 480, 1000, 4000, 4090, 70000, 300000};
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
        char *dir = tu_mkdtemp(), *db = tu_path(dir, "x.db");
        uint8_t *blobs[8];
        for (size_t i = 0; i < 8; i++)
            blobs[i] = tu_random_bytes(lens[i], (uint32_t)(100 + i));
        make_db(dir, db, sizes[z], (const uint8_t *const *)blobs, lens, 8);
        size_t size = 0;
        char *file = tu_read(db, &size);
        assert_non_null(file);
        struct seen s = {.file = (const uint8_t *)file, .size = size, .nblobs = 8};
        for (size_t i = 0; i < 8; i++)
            s.blobs[i] = blobs[i], s.blob_len[i] = lens[i];
        struct dp_sqlite_stats st;
        walk(db, &s, &st, DP_OK);
        assert_int_equal(st.broken, 0);
        /* a blob the file holds contiguously is not a record the walk hands over; every other
           is, exactly once */
        for (size_t i = 0; i < 8; i++) {
            bool contiguous = find_bytes((const uint8_t *)file, size, blobs[i], lens[i]) != NULL;
            printf("sqlite: page %u, blob %zu bytes: %s, handed over %u time(s)\n", sizes[z],
                   lens[i], contiguous ? "contiguous" : "in pieces", s.found[i]);
            if (!contiguous)
                assert_int_equal(s.found[i], 1);
        }
        assert_true(s.records >= 1);
        assert_int_equal(st.records, s.records);
        for (size_t i = 0; i < 8; i++)
            free(blobs[i]);
        free(file);
        tu_rm_rf(dir);
        free(db), free(dir);
    }
}

/* Chains that loop, leave the file or are cut short: counted broken, the walk ends. */
static void test_hostile_chains(void **state)
{
    (void)state;
    if (!have_sqlite3())
        skip();
    char *dir = tu_mkdtemp(), *db = tu_path(dir, "x.db");
    size_t len = 20000;
    uint8_t *blob = tu_random_bytes(len, 7);
    const uint8_t *blobs[1] = {blob};
    make_db(dir, db, 512, blobs, &len, 1);
    size_t size = 0;
    uint8_t *file = (uint8_t *)tu_read(db, &size);
    assert_non_null(file);
    /* every overflow page's link (its first 4 bytes): overflow pages are the pages holding the
       blob's bytes at offset 4 */
    size_t loops = 0;
    for (int mode = 0; mode < 3; mode++) {
        uint8_t *m = malloc(size);
        assert_non_null(m);
        memcpy(m, file, size);
        for (uint64_t pg = 2; pg <= size / 512; pg++) {
            uint8_t *p = m + (pg - 1) * 512;
            if (find_bytes(blob, len, p + 4, 64) == NULL)
                continue; /* not an overflow page of the blob */
            uint32_t to = mode == 0 ? (uint32_t)pg : mode == 1 ? 0x7fffffffu : 0;
            uint32_t next = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            if (mode == 2 && next == 0)
                continue;
            p[0] = (uint8_t)(to >> 24), p[1] = (uint8_t)(to >> 16), p[2] = (uint8_t)(to >> 8),
            p[3] = (uint8_t)to;
            loops++;
            break;
        }
        tu_write(dir, "bad.db", m, size);
        char *bad = tu_path(dir, "bad.db");
        struct seen s = {.file = m, .size = size, .blobs = {blob}, .blob_len = {len}, .nblobs = 1};
        struct dp_sqlite_stats st;
        walk(bad, &s, &st, DP_OK);
        printf("sqlite: %s: broken %llu, handed over %u\n",
               mode == 0 ? "a link to itself" : mode == 1 ? "a link past the end"
                                                          : "a chain cut short",
               (unsigned long long)st.broken, s.found[0]);
        assert_int_equal(s.found[0], 0);
        assert_true(st.broken >= 1);
        free(bad);
        free(m);
    }
    assert_int_equal(loops, 3);
    /* truncated in the middle of the chain */
    tu_write(dir, "short.db", file, size / 2);
    char *shortp = tu_path(dir, "short.db");
    struct seen s = {.file = file, .size = size / 2, .blobs = {blob}, .blob_len = {len},
                     .nblobs = 1};
    struct dp_sqlite_stats st;
    walk(shortp, &s, &st, DP_OK);
    assert_int_equal(s.found[0], 0);
    /* not a database at all */
    tu_write(dir, "text.db", "hello", 5);
    char *text = tu_path(dir, "text.db");
    walk(text, &s, &st, DP_ERR_PARSE);
    free(text), free(shortp), free(blob), free(file);
    tu_rm_rf(dir);
    free(db), free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reassembled),
        cmocka_unit_test(test_hostile_chains),
    };
    return cmocka_run_group_tests_name("sqlite", tests, NULL, NULL);
}
