/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: journal - round trip, chain, torn tails, corruption, crashes, refusals. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "deprive/journal.h"
#include "testutil.h"

static const char ZEROS[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* ---- interposed syncs: the library links statically, so these replace libc's ---------- */

static unsigned n_fsync, n_fdatasync;
static int fail_fdatasync; /* errno to fail with, 0 = pass through */

int fsync(int fd)
{
    n_fsync++;
    return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd)
{
    n_fdatasync++;
    if (fail_fdatasync != 0) {
        errno = fail_fdatasync;
        return -1;
    }
    return (int)syscall(SYS_fdatasync, fd);
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* Deterministic data for record k: several JSON kinds, awkward strings. */
static json_t *data_for(uint64_t k)
{
    json_t *d = json_pack("{s:I, s:s, s:[i,f,b,n], s:{s:s}}", "i", (json_int_t)k, "name", "file-",
                          "list", (int)(k % 7), 0.1 * (double)k, (int)(k & 1), "nested", "path",
                          "a\nb\"c\\d\xc3\xa9");
    assert_non_null(d);
    char name[32];
    snprintf(name, sizeof(name), "file-%llu", (unsigned long long)k);
    assert_int_equal(json_object_set_new(d, "name", json_string(name)), 0);
    assert_int_equal(json_object_set_new(d, "nul", json_stringn("x\0y", 3)), 0);
    assert_int_equal(json_object_set_new(d, "big", json_integer(-9007199254740993LL)), 0);
    return d;
}

static void write_file(const char *path, const void *buf, size_t len, bool append)
{
    int fd = open(path, O_WRONLY | O_NOFOLLOW | (append ? O_APPEND : O_TRUNC));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

static off_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_size;
}

/* Make dir/journal with n records of data_for(k), type "step". */
static char *make_journal(const char *dir, uint64_t n)
{
    char *path = tu_path(dir, "journal");
    struct dp_journal *j;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j, path, &e), DP_OK);
    for (uint64_t k = 0; k < n; k++) {
        json_t *d = data_for(k);
        assert_int_equal(dp_journal_append(j, "step", d, &e), DP_OK);
        json_decref(d);
    }
    assert_int_equal(dp_journal_seq(j), n);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    return path;
}

/* Split a file into lines (without newlines). *complete says whether it ends in '\n'. */
#define MAX_LINES 100000
struct lines {
    char *buf;
    char **line;
    size_t *len;
    size_t n;
    bool complete;
};

static void read_lines(struct lines *l, const char *path)
{
    size_t len;
    memset(l, 0, sizeof(*l));
    l->buf = tu_read(path, &len);
    assert_non_null(l->buf);
    l->line = calloc(MAX_LINES, sizeof(*l->line));
    l->len = calloc(MAX_LINES, sizeof(*l->len));
    assert_non_null(l->line);
    assert_non_null(l->len);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (l->buf[i] == '\n') {
            assert_true(l->n < MAX_LINES);
            l->line[l->n] = l->buf + start;
            l->len[l->n++] = i - start;
            start = i + 1;
        }
    }
    l->complete = start == len;
}

static void lines_free(struct lines *l)
{
    free(l->buf);
    free(l->line);
    free(l->len);
}

static void write_lines(const char *path, char **line, const size_t *len, size_t n)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW);
    assert_true(fd >= 0);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(write(fd, line[i], len[i]), (ssize_t)len[i]);
        assert_int_equal(write(fd, "\n", 1), 1);
    }
    assert_int_equal(close(fd), 0);
}

static void hash_hex(char out[65], const char *line, size_t len)
{
    unsigned char h[32];
    crypto_generichash(h, 32, (const unsigned char *)line, len, NULL, 0);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Recompute the chain independently of the journal code: every line parses, seq counts,
 * prev links; returns the record count and the head. */
static uint64_t independent_chain(const char *path, char head[65])
{
    struct lines l;
    read_lines(&l, path);
    assert_true(l.complete);
    memcpy(head, ZEROS, sizeof(ZEROS));
    for (size_t i = 0; i < l.n; i++) {
        json_error_t je;
        json_t *r = json_loadb(l.line[i], l.len[i], JSON_ALLOW_NUL, &je);
        assert_non_null(r);
        assert_int_equal(json_integer_value(json_object_get(r, "seq")), (json_int_t)i);
        assert_string_equal(json_string_value(json_object_get(r, "prev")), head);
        json_decref(r);
        hash_hex(head, l.line[i], l.len[i]);
    }
    lines_free(&l);
    return l.n;
}

/* Visit callback collecting (seq, type, data). */
struct collect {
    uint64_t calls;
    json_t *datas;
    uint64_t fail_at;    /* return DP_ERR_INVALID at this seq (UINT64_MAX: never) */
    bool check_data_for; /* compare with data_for(seq) */
    bool bad_order;
};

static enum dp_status collect_cb(void *ctx, uint64_t seq, const char *type, json_t *data,
                                 struct dp_error *err)
{
    struct collect *c = ctx;
    if (seq != c->calls || strcmp(type, "step") != 0)
        c->bad_order = true;
    c->calls++;
    if (seq == c->fail_at)
        return dp_error_set(err, DP_ERR_INVALID, 0, "callback refused seq %llu",
                            (unsigned long long)seq);
    if (c->datas != NULL)
        json_array_append(c->datas, data);
    if (c->check_data_for) {
        json_t *want = data_for(seq);
        if (!json_equal(want, data))
            c->bad_order = true;
        json_decref(want);
    }
    return DP_OK;
}

static void collect_init(struct collect *c)
{
    memset(c, 0, sizeof(*c));
    c->fail_at = UINT64_MAX;
    c->check_data_for = true;
}

/* Expect open and verify_file to reject the file with DP_ERR_VERIFY naming want_line,
 * without calling visit and without changing the file. */
static void expect_rejected(const char *path, int want_line)
{
    size_t len0;
    char *before = tu_read(path, &len0);
    char needle[32];
    snprintf(needle, sizeof(needle), "line %d:", want_line);

    struct collect c;
    collect_init(&c);
    struct dp_journal *j = (struct dp_journal *)1;
    struct dp_error e = {0};
    struct dp_journal_replay info;
    assert_int_equal(dp_journal_open(&j, path, collect_cb, &c, &info, &e), DP_ERR_VERIFY);
    assert_null(j);
    if (strstr(e.msg, needle) == NULL)
        fail_msg("open: want '%s' in: %s", needle, e.msg);
    assert_int_equal(c.calls, 0);

    memset(&e, 0, sizeof(e));
    assert_int_equal(dp_journal_verify_file(path, NULL, NULL, collect_cb, &c, &e), DP_ERR_VERIFY);
    if (strstr(e.msg, needle) == NULL)
        fail_msg("verify: want '%s' in: %s", needle, e.msg);
    assert_int_equal(c.calls, 0);

    size_t len1;
    char *after = tu_read(path, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(before);
    free(after);
}

/* ---- round trip and format ---------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const uint64_t n = 20;
    char *path = tu_path(dir, "journal");
    struct dp_journal *j;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j, path, &e), DP_OK);
    for (uint64_t k = 0; k < n; k++) {
        json_t *d = data_for(k);
        assert_int_equal(dp_journal_append(j, "step", d, &e), DP_OK);
        assert_int_equal(d->refcount, 1); /* borrowed, not stolen or kept */
        json_decref(d);
    }
    char head_w[65], head_i[65];
    dp_journal_head(j, head_w);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    assert_int_equal(independent_chain(path, head_i), n);
    assert_string_equal(head_w, head_i);

    struct collect c;
    collect_init(&c);
    c.datas = json_array();
    struct dp_journal_replay info;
    assert_int_equal(dp_journal_open(&j, path, collect_cb, &c, &info, &e), DP_OK);
    assert_int_equal(c.calls, n);
    assert_false(c.bad_order);
    assert_int_equal(json_array_size(c.datas), n);
    assert_int_equal(info.records, n);
    assert_false(info.torn_tail);
    assert_int_equal(info.torn_bytes, 0);
    assert_string_equal(info.head, head_i);
    assert_int_equal(dp_journal_seq(j), n);
    char h[65];
    dp_journal_head(j, h);
    assert_string_equal(h, head_i);

    /* Appending resumes the chain; NULL data is {}. */
    assert_int_equal(dp_journal_append(j, "done", NULL, &e), DP_OK);
    dp_journal_head(j, head_w);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);

    uint64_t records = 0;
    char head_v[65];
    assert_int_equal(dp_journal_verify_file(path, head_v, &records, NULL, NULL, &e), DP_OK);
    assert_int_equal(records, n + 1);
    assert_int_equal(independent_chain(path, head_i), n + 1);
    assert_string_equal(head_v, head_i);
    assert_string_equal(head_w, head_i);

    json_decref(c.datas);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* The exact bytes: compact, sorted keys, one line per record. */
static void test_line_format(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "journal");
    struct dp_journal *j;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j, path, &e), DP_OK);
    json_t *d = json_pack("{s:i, s:s}", "z", 1, "a", "x y");
    assert_int_equal(dp_journal_append(j, "wipe.start", d, &e), DP_OK);
    assert_int_equal(dp_journal_append(j, "wipe.end", d, &e), DP_OK);
    json_decref(d);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);

    struct lines l;
    read_lines(&l, path);
    assert_int_equal(l.n, 2);
    assert_true(l.complete);
    const char *time_at = strstr(l.line[0], "\"time\":\"");
    assert_non_null(time_at);
    char tm[21];
    memcpy(tm, time_at + 8, 20);
    tm[20] = '\0';
    char want[512];
    snprintf(want, sizeof(want),
             "{\"data\":{\"a\":\"x y\",\"z\":1},\"prev\":\"%s\",\"seq\":0,\"time\":\"%s\","
             "\"type\":\"wipe.start\"}",
             ZEROS, tm);
    assert_int_equal(l.len[0], strlen(want));
    assert_memory_equal(l.line[0], want, l.len[0]);
    char h0[65];
    hash_hex(h0, l.line[0], l.len[0]);
    assert_non_null(strstr(l.line[1], h0));
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* The recipe docs/journal.md gives auditors, with coreutils' own BLAKE2b (no libsodium). */
static void test_head_matches_b2sum(void **state)
{
    (void)state;
    if (!tu_have("b2sum")) {
        printf("journal head vs b2sum: skipped: b2sum (coreutils) is not on PATH\n");
        skip();
    }
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 3);
    char head[65];
    struct dp_error e = {0};
    assert_int_equal(dp_journal_verify_file(path, head, NULL, NULL, NULL, &e), DP_OK);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "tail -n 1 '%s' | tr -d '\\n' | b2sum -l 256", path);
    char *argv[] = {"sh", "-c", cmd, NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    assert_int_equal(r.status, 0);
    assert_true(strlen(r.out) > 64);
    assert_memory_equal(r.out, head, 64);
    tu_run_free(&r);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_empty(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "journal");
    struct dp_journal *j;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j, path, &e), DP_OK);
    char h[65];
    dp_journal_head(j, h);
    assert_string_equal(h, ZEROS);
    assert_int_equal(dp_journal_seq(j), 0);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777 & ~0600, 0);
    assert_int_equal(st.st_size, 0);

    struct dp_journal_replay info;
    assert_int_equal(dp_journal_open(&j, path, NULL, NULL, &info, &e), DP_OK);
    assert_int_equal(info.records, 0);
    assert_string_equal(info.head, ZEROS);
    dp_journal_free(j);
    uint64_t records = 99;
    assert_int_equal(dp_journal_verify_file(path, h, &records, NULL, NULL, &e), DP_OK);
    assert_int_equal(records, 0);
    assert_string_equal(h, ZEROS);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* A record near the size limit, and one over it (refused; the handle stays usable). */
static void test_large_records(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "journal");
    struct dp_journal *j;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j, path, &e), DP_OK);
    size_t big = DP_JOURNAL_LINE_MAX - 300;
    char *s = malloc(big + 1);
    assert_non_null(s);
    memset(s, 'q', big);
    s[big] = '\0';
    json_t *d = json_pack("{s:s}", "blob", s);
    assert_int_equal(dp_journal_append(j, "big", d, &e), DP_OK);
    json_decref(d);
    s[big - 1000] = '\0';
    d = json_pack("{s:s}", "blob", s);
    assert_int_equal(dp_journal_append(j, "big", d, &e), DP_OK);
    json_decref(d);
    free(s);
    s = malloc(DP_JOURNAL_LINE_MAX + 1);
    memset(s, 'q', DP_JOURNAL_LINE_MAX);
    s[DP_JOURNAL_LINE_MAX] = '\0';
    d = json_pack("{s:s}", "blob", s);
    assert_int_equal(dp_journal_append(j, "big", d, &e), DP_ERR_LIMIT);
    json_decref(d);
    free(s);
    assert_int_equal(dp_journal_append(j, "small", NULL, &e), DP_OK);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    uint64_t records;
    char h[65], hi[65];
    assert_int_equal(dp_journal_verify_file(path, h, &records, NULL, NULL, &e), DP_OK);
    assert_int_equal(records, 3);
    assert_int_equal(independent_chain(path, hi), 3);
    assert_string_equal(h, hi);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* ---- torn tails --------------------------------------------------------------------------- */

/* Open must drop exactly the tail, report it, and let appending continue on a valid chain. */
static void expect_torn(const char *path, uint64_t want_records, uint64_t want_dropped)
{
    off_t size0 = file_size(path);
    struct dp_error e = {0};
    /* The auditor's read-only check refuses a torn tail and changes nothing. */
    assert_int_equal(dp_journal_verify_file(path, NULL, NULL, NULL, NULL, &e), DP_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "incomplete"));
    assert_int_equal(file_size(path), size0);

    struct collect c;
    collect_init(&c);
    struct dp_journal *j;
    struct dp_journal_replay info;
    assert_int_equal(dp_journal_open(&j, path, collect_cb, &c, &info, &e), DP_OK);
    assert_true(info.torn_tail);
    assert_int_equal(info.records, want_records);
    assert_int_equal(c.calls, want_records);
    assert_false(c.bad_order);
    assert_int_equal(info.torn_bytes, want_dropped);
    assert_int_equal(info.torn_offset, (uint64_t)size0 - want_dropped);
    assert_int_equal(file_size(path), (off_t)info.torn_offset);
    json_t *d = data_for(want_records);
    assert_int_equal(dp_journal_append(j, "step", d, &e), DP_OK);
    json_decref(d);
    char hw[65], hi[65];
    dp_journal_head(j, hw);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    assert_int_equal(independent_chain(path, hi), want_records + 1);
    assert_string_equal(hw, hi);
    uint64_t records;
    assert_int_equal(dp_journal_verify_file(path, hi, &records, NULL, NULL, &e), DP_OK);
    assert_int_equal(records, want_records + 1);
    assert_string_equal(hw, hi);
}

static void test_torn_garbage_tail(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    const char junk[] = "{\"data\":{\"i\":5,\"na";
    write_file(path, junk, strlen(junk), true);
    expect_torn(path, 5, strlen(junk));
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_torn_truncated_line(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    size_t last = l.len[4] + 1;
    lines_free(&l);
    assert_int_equal(truncate(path, file_size(path) - 10), 0);
    expect_torn(path, 4, last - 10);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* A whole record without its newline is not committed either. */
static void test_torn_missing_newline(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 3);
    struct lines l;
    read_lines(&l, path);
    size_t last = l.len[2];
    lines_free(&l);
    assert_int_equal(truncate(path, file_size(path) - 1), 0);
    expect_torn(path, 2, last);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* What delayed allocation can leave after a power cut: zeros, with or without a newline; and
 * an unparsable complete last line. */
static void test_torn_zeros_and_junk_line(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 4);
    char zeros[300] = {0};
    write_file(path, zeros, sizeof(zeros), true);
    expect_torn(path, 4, sizeof(zeros));
    zeros[299] = '\n';
    write_file(path, zeros, sizeof(zeros), true);
    expect_torn(path, 5, sizeof(zeros));
    write_file(path, "garbage\n", 8, true);
    expect_torn(path, 6, 8);
    write_file(path, "\n", 1, true);
    expect_torn(path, 7, 1);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* ---- files that are not journals (issue 14, item 5) --------------------------------------- */

/* Open for resume must refuse path, which holds no journal record, as "not a deprive journal"
 * naming line 1, without calling visit and leaving every byte as it was. The auditor's
 * read-only check refuses it too. */
static void expect_foreign(const char *path)
{
    size_t len0, len1;
    char *before = tu_read(path, &len0);
    assert_non_null(before);
    struct collect c;
    collect_init(&c);
    struct dp_journal *j = (struct dp_journal *)1;
    struct dp_journal_replay info;
    struct dp_error e = {0};
    enum dp_status st = dp_journal_open(&j, path, collect_cb, &c, &info, &e);
    if (st == DP_OK)
        fail_msg("open accepted it (torn_tail %d, %llu bytes dropped): the file is now %lld "
                 "bytes, was %zu",
                 (int)info.torn_tail, (unsigned long long)info.torn_bytes,
                 (long long)file_size(path), len0);
    assert_int_equal(st, DP_ERR_VERIFY);
    assert_null(j);
    if (strstr(e.msg, "is not a deprive journal (line 1: ") == NULL ||
        strstr(e.msg, "): refusing to modify it") == NULL)
        fail_msg("open: want a 'not a deprive journal' refusal, got: %s", e.msg);
    assert_int_equal(c.calls, 0);
    memset(&e, 0, sizeof(e));
    assert_int_equal(dp_journal_verify_file(path, NULL, NULL, collect_cb, &c, &e), DP_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "line 1: "));
    assert_int_equal(c.calls, 0);
    char *after = tu_read(path, &len1);
    assert_non_null(after);
    assert_int_equal(len1, len0);
    assert_memory_equal(after, before, len0);
    free(before);
    free(after);
}

/* The reported case: a one-line text file given as the journal was cut to zero as a "torn
 * tail", then written to. With and without its newline, and other one-liners. */
static void test_foreign_text_file_refused(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "remember to buy milk\n",
        "remember to buy milk",
        "\n",
        "{\"data\":{\"id\":7,\"name\":\"x\"}}", /* parsable JSON without newline (curl -o) */
        "{\"data\":[1,2,3]}\n",
        "[\"not\",\"an\",\"object\"]",
        "{\"date",               /* not a prefix of the record opening */
        " {\"data\":{\"seq\":0", /* nor is this */
    };
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "notes.txt");
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        unlink(path);
        tu_write(dir, "notes.txt", texts[i], strlen(texts[i]));
        expect_foreign(path);
    }
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_foreign_binary_refused(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "blob.bin");
    unsigned char *b = tu_random_bytes(8192, 14);
    /* no newline at all; one line with a final newline; as it comes (several "lines") */
    unsigned char *nl = memchr(b, '\n', 8192);
    assert_non_null(nl);
    for (size_t i = 0; i < 8192; i++)
        if (b[i] == '\n')
            b[i] = 'x';
    tu_write(dir, "blob.bin", b, 8191);
    expect_foreign(path);
    b[8191] = '\n';
    unlink(path);
    tu_write(dir, "blob.bin", b, 8192);
    expect_foreign(path);
    *nl = '\n';
    unlink(path);
    tu_write(dir, "blob.bin", b, 8192);
    expect_foreign(path);
    /* zeros alone are no evidence of a journal either (a preallocated file, an image) */
    memset(b, 0, 8192);
    unlink(path);
    tu_write(dir, "blob.bin", b, 8192);
    expect_foreign(path);
    b[4095] = '\n';
    unlink(path);
    tu_write(dir, "blob.bin", b, 4096);
    expect_foreign(path);
    free(b);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* Prepend text to the file at path. */
static void prepend(const char *path, const char *text)
{
    size_t len;
    char *old = tu_read(path, &len);
    assert_non_null(old);
    size_t tl = strlen(text);
    char *buf = malloc(tl + len);
    assert_non_null(buf);
    memcpy(buf, text, tl);
    memcpy(buf + tl, old, len);
    write_file(path, buf, tl + len, false);
    free(buf);
    free(old);
}

/* Format 1 has no header. A file that starts with one (a later format, or something else)
 * is not a journal this code may append to, whether or not valid records follow it. */
static void test_foreign_header_refused(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "journal");
    tu_write(dir, "journal", "# deprive journal, format 2\n", 28);
    expect_foreign(path);
    unlink(path);
    free(path);
    path = make_journal(dir, 3);
    prepend(path, "# deprive journal, format 2\n");
    expect_foreign(path);
    unlink(path);
    free(path);
    path = make_journal(dir, 3);
    prepend(path, "{\"format\":\"deprive-journal\",\"version\":2}\n");
    expect_foreign(path);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* More than one bad line after valid records is damage, not a torn tail: refused, unchanged. */
static void test_journal_then_garbage_lines_refused(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 3);
    size_t len;
    char *orig = tu_read(path, &len);
    write_file(path, "garbage one\ngarbage two\n", 24, true);
    expect_rejected(path, 4);
    write_file(path, orig, len, false);
    write_file(path, "garbage\n{\"data\":{\"i\":", 21, true);
    expect_rejected(path, 4);
    free(orig);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* Still a journal: a torn tail after one valid record, and a first record whose append was
 * interrupted (cut, cut with a hole of zeros, complete but for its newline). The first two
 * leave no valid record, but the bytes begin as every record does; wipe --resume then starts
 * afresh (tests/test_kill.c, test_kill_before_first_record). An empty file is an empty
 * journal: it holds nothing to lose. */
static void test_torn_journal_still_repaired(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 1);
    write_file(path, "{\"data\":{\"i\":1,\"na", 18, true);
    expect_torn(path, 1, 18);
    unlink(path);
    free(path);

    path = make_journal(dir, 0);
    const char cut[] = "{\"data\":{\"groups\":100,\"meth";
    write_file(path, cut, strlen(cut), true);
    expect_torn(path, 0, strlen(cut));
    unlink(path);
    free(path);

    path = make_journal(dir, 0);
    char holed[200];
    memset(holed, 0, sizeof(holed));
    memcpy(holed, cut, strlen(cut));
    holed[sizeof(holed) - 1] = '\n';
    write_file(path, holed, sizeof(holed), true);
    expect_torn(path, 0, sizeof(holed));
    unlink(path);
    free(path);

    path = make_journal(dir, 1);
    off_t size = file_size(path);
    assert_int_equal(truncate(path, size - 1), 0);
    expect_torn(path, 0, (uint64_t)size - 1);
    unlink(path);
    free(path);

    tu_write(dir, "empty", "", 0);
    path = tu_path(dir, "empty");
    struct dp_journal *j;
    struct dp_journal_replay info;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_open(&j, path, NULL, NULL, &info, &e), DP_OK);
    assert_int_equal(info.records, 0);
    assert_false(info.torn_tail);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    assert_int_equal(file_size(path), 0);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* ---- corruption --------------------------------------------------------------------------- */

static void test_corrupt_flip_data_byte(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    char *p = strstr(l.line[2], "file-2");
    assert_non_null(p);
    p[5] = '3'; /* still valid JSON, so the next line's prev catches it */
    write_lines(path, l.line, l.len, l.n);
    expect_rejected(path, 4);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_corrupt_flip_structure_byte(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    l.line[2][0] ^= 0x01; /* '{' -> 'z': unparsable, followed by more lines */
    write_lines(path, l.line, l.len, l.n);
    expect_rejected(path, 3);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_corrupt_every_byte_of_middle_line(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    /* Any single bit flip in line 3 must be caught at line 3 or 4. */
    for (size_t i = 0; i < l.len[2]; i += 7) {
        l.line[2][i] ^= 0x20;
        write_lines(path, l.line, l.len, l.n);
        struct dp_error e = {0};
        enum dp_status st = dp_journal_verify_file(path, NULL, NULL, NULL, NULL, &e);
        if (st != DP_ERR_VERIFY ||
            (strstr(e.msg, "line 3:") == NULL && strstr(e.msg, "line 4:") == NULL))
            fail_msg("flip at %zu: status %d: %s", i, st, e.msg);
        l.line[2][i] ^= 0x20;
    }
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_corrupt_deleted_line(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    char *line[4] = {l.line[0], l.line[1], l.line[3], l.line[4]};
    size_t len[4] = {l.len[0], l.len[1], l.len[3], l.len[4]};
    write_lines(path, line, len, 4);
    expect_rejected(path, 3);
    /* Deleting the first line too. */
    write_lines(path, l.line + 1, l.len + 1, 4);
    expect_rejected(path, 1);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_corrupt_swapped_lines(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    char *line[5] = {l.line[0], l.line[2], l.line[1], l.line[3], l.line[4]};
    size_t len[5] = {l.len[0], l.len[2], l.len[1], l.len[3], l.len[4]};
    write_lines(path, line, len, 5);
    expect_rejected(path, 2);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_corrupt_changed_seq(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    char *p = strstr(l.line[2], "\"seq\":2");
    assert_non_null(p);
    p[6] = '7';
    write_lines(path, l.line, l.len, l.n);
    expect_rejected(path, 3);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_corrupt_junk_line_in_middle(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    struct lines l;
    read_lines(&l, path);
    char junk[] = "garbage";
    char *line[6] = {l.line[0], l.line[1], junk, l.line[2], l.line[3], l.line[4]};
    size_t len[6] = {l.len[0], l.len[1], 7, l.len[2], l.len[3], l.len[4]};
    write_lines(path, line, len, 6);
    expect_rejected(path, 3);
    /* An empty line in the middle, too. */
    len[2] = 0;
    write_lines(path, line, len, 6);
    expect_rejected(path, 3);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* Tampering with the last record keeps a valid chain: only the head shows it, which is why
 * the certificate records the head. */
static void test_last_record_tamper_changes_head(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    char h0[65], h1[65];
    struct dp_error e = {0};
    assert_int_equal(dp_journal_verify_file(path, h0, NULL, NULL, NULL, &e), DP_OK);
    struct lines l;
    read_lines(&l, path);
    char *p = strstr(l.line[4], "file-4");
    assert_non_null(p);
    p[5] = '9';
    write_lines(path, l.line, l.len, l.n);
    assert_int_equal(dp_journal_verify_file(path, h1, NULL, NULL, NULL, &e), DP_OK);
    assert_string_not_equal(h0, h1);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* Lines with a valid chain but a bad shape. recs are JSON texts without "prev"; the test
 * inserts the correct prev (unless the text has one) so only the shape is wrong. */
static void write_chained(const char *path, const char *const *recs, size_t n)
{
    char *line[8];
    size_t len[8];
    char prev[65];
    memcpy(prev, ZEROS, sizeof(ZEROS));
    for (size_t i = 0; i < n; i++) {
        /* "DUP:" prefix: the record, then a second "seq" key spliced in after the brace */
        bool dup = strncmp(recs[i], "DUP:", 4) == 0;
        json_error_t je;
        json_t *r = json_loads(recs[i] + (dup ? 4 : 0), JSON_DECODE_ANY, &je);
        assert_non_null(r);
        if (json_is_object(r) && json_object_get(r, "prev") == NULL)
            json_object_set_new(r, "prev", json_string(prev));
        char *s = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_decref(r);
        assert_non_null(s);
        if (dup) {
            line[i] = malloc(strlen(s) + 16);
            assert_non_null(line[i]);
            snprintf(line[i], strlen(s) + 16, "{\"seq\":%zu,%s", i, s + 1);
            free(s);
        } else {
            line[i] = s;
        }
        len[i] = strlen(line[i]);
        hash_hex(prev, line[i], len[i]);
    }
    write_lines(path, line, len, n);
    for (size_t i = 0; i < n; i++)
        free(line[i]);
}

#define OK0 "{\"seq\":0,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{}}"
#define OK1 "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{}}"
#define OK2 "{\"seq\":2,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{}}"

static void test_corrupt_shapes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"seq\":\"1\",\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{}}",
        "{\"seq\":1.0,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{}}",
        "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":[]}",
        "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"data\":{}}",
        "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{},\"x\":1}",
        "{\"seq\":1,\"time\":\"2024-01-02 03:04:05\",\"type\":\"a\",\"data\":{}}",
        "{\"seq\":1,\"time\":5,\"type\":\"a\",\"data\":{}}",
        "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"Bad Type\",\"data\":{}}",
        "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"\",\"data\":{}}",
        "{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{},"
        "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
        "DUP:{\"seq\":1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{}}",
        "[1,2,3]",
        "{\"seq\":-1,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{}}",
    };
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "journal");
    tu_write(dir, "journal", "", 0);
    /* The helper itself makes acceptable journals. */
    const char *const good[3] = {OK0, OK1, OK2};
    write_chained(path, good, 3);
    struct dp_error e = {0};
    uint64_t records;
    assert_int_equal(dp_journal_verify_file(path, NULL, &records, NULL, NULL, &e), DP_OK);
    assert_int_equal(records, 3);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* In the middle, and as the last line (a parsable last line is not a torn tail). */
        const char *const mid[3] = {OK0, bad[i], OK2};
        write_chained(path, mid, 3);
        expect_rejected(path, 2);
        const char *const end[2] = {OK0, bad[i]};
        write_chained(path, end, 2);
        expect_rejected(path, 2);
    }
    /* First record whose prev is not zeros; upper-case hex prev. */
    const char *const first[1] = {
        "{\"seq\":0,\"time\":\"2024-01-02T03:04:05Z\",\"type\":\"a\",\"data\":{},"
        "\"prev\":\"0000000000000000000000000000000000000000000000000000000000000001\"}"};
    write_chained(path, first, 1);
    expect_rejected(path, 1);
    struct lines l;
    write_chained(path, good, 2);
    read_lines(&l, path);
    char *p = strstr(l.line[1], "\"prev\":\"");
    assert_non_null(p);
    for (char *q = p + 8; *q != '"'; q++)
        if (*q >= 'a' && *q <= 'f')
            *q = (char)(*q - 'a' + 'A');
    write_lines(path, l.line, l.len, l.n);
    expect_rejected(path, 2);
    lines_free(&l);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* ---- callbacks, refusals, locking --------------------------------------------------------- */

static void test_visit_error_stops_open(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 5);
    write_file(path, "{\"da", 4, true); /* a torn tail that must not be truncated */
    off_t size0 = file_size(path);
    struct collect c;
    collect_init(&c);
    c.fail_at = 2;
    struct dp_journal *j;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_open(&j, path, collect_cb, &c, NULL, &e), DP_ERR_INVALID);
    assert_null(j);
    assert_non_null(strstr(e.msg, "line 3: callback refused seq 2"));
    assert_int_equal(c.calls, 3);
    assert_int_equal(file_size(path), size0);
    collect_init(&c);
    c.fail_at = 4;
    assert_int_equal(dp_journal_verify_file(path, NULL, NULL, collect_cb, &c, &e),
                     DP_ERR_VERIFY); /* torn tail found before any callback */
    assert_int_equal(c.calls, 0);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_refusals(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 2);
    struct dp_journal *j;
    struct dp_error e = {0};

    /* create never reuses an existing file */
    assert_int_equal(dp_journal_create(&j, path, &e), DP_ERR_IO);
    assert_null(j);
    assert_int_equal(e.sys_errno, EEXIST);

    /* symlinks: to a valid journal (open/verify), and dangling (create must not follow) */
    char *link = tu_path(dir, "link");
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(dp_journal_open(&j, link, NULL, NULL, NULL, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ELOOP);
    assert_null(j);
    assert_int_equal(dp_journal_verify_file(link, NULL, NULL, NULL, NULL, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ELOOP);
    char *dangling = tu_path(dir, "dangling");
    char *target = tu_path(dir, "target");
    assert_int_equal(symlink(target, dangling), 0);
    assert_int_equal(dp_journal_create(&j, dangling, &e), DP_ERR_IO);
    assert_int_not_equal(access(target, F_OK), 0);

    /* not a regular file; missing file */
    assert_int_not_equal(dp_journal_open(&j, dir, NULL, NULL, NULL, &e), DP_OK);
    assert_int_not_equal(dp_journal_verify_file(dir, NULL, NULL, NULL, NULL, &e), DP_OK);
    char *fifo = tu_path(dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(dp_journal_open(&j, fifo, NULL, NULL, NULL, &e), DP_ERR_INVALID);
    assert_int_equal(dp_journal_verify_file(fifo, NULL, NULL, NULL, NULL, &e), DP_ERR_INVALID);
    char *missing = tu_path(dir, "missing");
    assert_int_equal(dp_journal_open(&j, missing, NULL, NULL, NULL, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ENOENT);
    assert_non_null(strstr(e.msg, "missing"));

    free(link);
    free(dangling);
    free(target);
    free(fifo);
    free(missing);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static void test_single_writer_lock(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "journal");
    struct dp_journal *j1, *j2;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j1, path, &e), DP_OK);
    assert_int_equal(dp_journal_open(&j2, path, NULL, NULL, NULL, &e), DP_ERR_IO);
    assert_non_null(strstr(e.msg, "in use"));
    assert_int_equal(dp_journal_append(j1, "a", NULL, &e), DP_OK);
    /* readers are not locked out */
    uint64_t records;
    assert_int_equal(dp_journal_verify_file(path, NULL, &records, NULL, NULL, &e), DP_OK);
    assert_int_equal(records, 1);
    assert_int_equal(dp_journal_close(j1, &e), DP_OK);
    assert_int_equal(dp_journal_open(&j1, path, NULL, NULL, NULL, &e), DP_OK);
    assert_int_equal(dp_journal_open(&j2, path, NULL, NULL, NULL, &e), DP_ERR_IO);
    assert_int_equal(dp_journal_close(j1, &e), DP_OK);
    assert_int_equal(dp_journal_close(NULL, &e), DP_OK);
    dp_journal_free(NULL);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* Each append ends in fdatasync; create syncs file and directory; a failed sync breaks the
 * handle, and the record it was for may still be there after a reopen. */
static void test_syncs_and_sync_failure(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "journal");
    struct dp_journal *j;
    struct dp_error e = {0};
    n_fsync = n_fdatasync = 0;
    assert_int_equal(dp_journal_create(&j, path, &e), DP_OK);
    assert_true(n_fsync >= 2);
    for (uint64_t k = 0; k < 3; k++) {
        json_t *d = data_for(k);
        assert_int_equal(dp_journal_append(j, "step", d, &e), DP_OK);
        json_decref(d);
        assert_int_equal(n_fdatasync, k + 1);
    }
    off_t size0 = file_size(path);
    fail_fdatasync = EIO;
    json_t *d = data_for(3);
    assert_int_equal(dp_journal_append(j, "step", d, &e), DP_ERR_IO);
    fail_fdatasync = 0;
    assert_int_equal(e.sys_errno, EIO);
    assert_int_equal(dp_journal_seq(j), 3);
    off_t size1 = file_size(path);
    assert_true(size1 > size0);
    assert_int_equal(dp_journal_append(j, "step", d, &e), DP_ERR_IO);
    assert_non_null(strstr(e.msg, "reopen"));
    assert_int_equal(file_size(path), size1); /* nothing more written */
    json_decref(d);
    assert_int_equal(dp_journal_close(j, &e), DP_ERR_IO);

    struct collect c;
    collect_init(&c);
    struct dp_journal_replay info;
    assert_int_equal(dp_journal_open(&j, path, collect_cb, &c, &info, &e), DP_OK);
    assert_int_equal(info.records, 4); /* it reached the page cache, so it survived */
    assert_false(info.torn_tail);
    assert_false(c.bad_order);
    unsigned before = n_fsync;
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    assert_int_equal(n_fsync, before + 1);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

static int child_status(pid_t pid)
{
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static void test_misuse_aborts(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 1);
    for (int k = 0; k < 2; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 2);
            struct dp_journal *j;
            if (dp_journal_open(&j, path, NULL, NULL, NULL, NULL) != DP_OK)
                _exit(3);
            json_t *arr = json_array();
            if (k == 0)
                (void)!dp_journal_append(j, "Bad Type", NULL, NULL);
            else
                (void)!dp_journal_append(j, "ok", arr, NULL);
            _exit(0);
        }
        assert_int_equal(child_status(pid), 128 + SIGABRT);
    }
    uint64_t records;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_verify_file(path, NULL, &records, NULL, NULL, &e), DP_OK);
    assert_int_equal(records, 1);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* A write cut short (RLIMIT_FSIZE stands in for ENOSPC): the append fails, the handle refuses
 * more, and a reopen drops the partial line. */
static void test_short_write_breaks_handle(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 3);
    off_t size0 = file_size(path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct dp_journal *j;
        struct dp_error e = {0};
        if (dp_journal_open(&j, path, NULL, NULL, NULL, &e) != DP_OK)
            _exit(3);
        struct rlimit rl = {(rlim_t)size0 + 100, (rlim_t)size0 + 100};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(4);
        json_t *d = data_for(3);
        json_object_set_new(d, "pad",
                            json_string("......................................"
                                        "......................................"));
        if (dp_journal_append(j, "step", d, &e) != DP_ERR_IO || e.sys_errno != EFBIG)
            _exit(5);
        if (dp_journal_append(j, "step", d, &e) != DP_ERR_IO || strstr(e.msg, "reopen") == NULL)
            _exit(6);
        if (dp_journal_close(j, &e) != DP_ERR_IO)
            _exit(7);
        json_decref(d);
        _exit(0);
    }
    assert_int_equal(child_status(pid), 0);
    assert_int_equal(file_size(path), size0 + 100);
    expect_torn(path, 3, 100);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* ---- crashes ------------------------------------------------------------------------------ */

/* Data whose size varies a lot, so kills land inside large writes too. */
static json_t *crash_data(uint64_t seq)
{
    size_t n = (size_t)((seq * 7919u) % 60000u);
    char *pad = malloc(n + 1);
    memset(pad, (int)('a' + seq % 26), n);
    pad[n] = '\0';
    json_t *d = json_pack("{s:I, s:s}", "i", (json_int_t)seq, "pad", pad);
    free(pad);
    return d;
}

static enum dp_status crash_cb(void *ctx, uint64_t seq, const char *type, json_t *data,
                               struct dp_error *err)
{
    uint64_t *calls = ctx;
    json_t *want = crash_data(seq);
    bool ok = seq == *calls && strcmp(type, "step") == 0 && json_equal(want, data);
    json_decref(want);
    (*calls)++;
    return ok ? DP_OK
              : dp_error_set(err, DP_ERR_INVALID, 0, "record %llu differs",
                             (unsigned long long)seq);
}

static _Noreturn void crash_child(const char *path, int wfd)
{
    struct dp_journal *j;
    if (dp_journal_open(&j, path, NULL, NULL, NULL, NULL) != DP_OK)
        _exit(3);
    for (;;) {
        uint64_t seq = dp_journal_seq(j);
        json_t *d = crash_data(seq);
        if (dp_journal_append(j, "step", d, NULL) != DP_OK)
            _exit(4);
        json_decref(d);
        /* Only now is the record promised durable. */
        if (write(wfd, &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
            _exit(5);
    }
}

static void test_kill9_crashes(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = make_journal(dir, 0);
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    printf("# kill -9 test seed %u\n", seed);
    srand(seed);
    int torn = 0;
    uint64_t prev_records = 0;
    for (int it = 0; it < 10; it++) {
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(pfd[0]);
            crash_child(path, pfd[1]);
        }
        close(pfd[1]);
        struct timespec ts = {0, (long)(5000000 + rand() % 55000000)};
        nanosleep(&ts, NULL);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int st = child_status(pid);
        if (st != 128 + SIGKILL)
            fail_msg("child exited with %d before the kill", st);
        /* The highest seq the child was told is durable. */
        uint64_t seq, promised = 0;
        bool any = false;
        while (read(pfd[0], &seq, sizeof(seq)) == (ssize_t)sizeof(seq)) {
            promised = seq;
            any = true;
        }
        close(pfd[0]);
        /* Every other time, also simulate a power cut that kept part of a write: a record
         * prefix, sometimes followed by zeros (data blocks allocated but never written). */
        bool cut = it % 2 == 1;
        if (cut) {
            char junk[4096] = "{\"data\":{\"i\":";
            size_t jl = strlen(junk) + (size_t)(rand() % 2) * (size_t)(rand() % 4000);
            write_file(path, junk, jl, true);
        }

        uint64_t calls = 0;
        struct dp_journal *j;
        struct dp_journal_replay info;
        struct dp_error e = {0};
        if (dp_journal_open(&j, path, crash_cb, &calls, &info, &e) != DP_OK)
            fail_msg("iteration %d: open failed: %s", it, e.msg);
        torn += info.torn_tail;
        if (cut)
            assert_true(info.torn_tail);
        assert_int_equal(calls, info.records);
        if (any && info.records < promised + 1)
            fail_msg("iteration %d: lost records: %llu on disk, %llu promised", it,
                     (unsigned long long)info.records, (unsigned long long)promised + 1);
        /* at most one record beyond the last promise (written, not yet reported) */
        assert_true(info.records <= (any ? promised + 2 : prev_records + 1));
        assert_true(info.records >= prev_records);
        prev_records = info.records;
        char hw[65], hi[65];
        dp_journal_head(j, hw);
        assert_int_equal(dp_journal_close(j, &e), DP_OK);
        assert_int_equal(independent_chain(path, hi), info.records);
        assert_string_equal(hw, hi);
    }
    printf("# kill -9 test: %llu records after 10 kills, %d torn tails dropped\n",
           (unsigned long long)prev_records, torn);
    assert_true(prev_records > 0);
    tu_rm_rf(dir);
    free(path);
    free(dir);
}

/* ---- the CLI ------------------------------------------------------------------------------ */

/* The reported case end to end: `wipe --resume --journal notes.txt` on a one-line text file
 * exits 2 naming it, leaves it byte-identical, and erases nothing. */
static void test_cli_resume_refuses_foreign_journal(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *dev = tu_path(dir, "device");
    char *work = tu_path(dir, "work");
    assert_int_equal(mkdir(dev, 0755), 0);
    assert_int_equal(mkdir(work, 0755), 0);
    tu_write_random(dev, "victim.jpg", 20000, 5);
    char *victim = tu_path(dev, "victim.jpg");
    char sum0[65], sum1[65];
    assert_true(tu_sha256_hex(victim, sum0));
    struct tu_run r;
    tu_deprive(&r, NULL, "hash", victim, NULL);
    assert_int_equal(r.status, 0);
    tu_write(work, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *list = tu_path(work, "list.txt");
    char *plan = tu_path(work, "plan.json");
    tu_deprive(&r, NULL, "scan", "--hashes", list, "-o", plan, dev, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    const char notes[] = "remember to buy milk\n";
    tu_write(work, "notes.txt", notes, strlen(notes));
    char *np = tu_path(work, "notes.txt");

    /* same filesystem as the device here, so --journal-on-same-fs gets past that check */
    tu_deprive(&r, NULL, "wipe", "--resume", "--journal", np, "--journal-on-same-fs", "--yes",
               "--order", "ORD-1", "--hashes", list, plan, NULL);
    if (r.status != 2 || strstr(r.err, "is not a deprive journal (line 1: ") == NULL ||
        strstr(r.err, "refusing to modify it") == NULL)
        fail_msg("wipe --resume on a text file: exit %d, stderr:\n%s", r.status, r.err);
    tu_run_free(&r);
    size_t len;
    char *after = tu_read(np, &len);
    assert_non_null(after);
    assert_int_equal(len, strlen(notes));
    assert_memory_equal(after, notes, len);
    free(after);
    assert_true(tu_sha256_hex(victim, sum1));
    assert_string_equal(sum0, sum1);

    free(np);
    free(plan);
    free(list);
    free(victim);
    tu_rm_rf(dir);
    free(work);
    free(dev);
    free(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_line_format),
        cmocka_unit_test(test_head_matches_b2sum),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_large_records),
        cmocka_unit_test(test_torn_garbage_tail),
        cmocka_unit_test(test_torn_truncated_line),
        cmocka_unit_test(test_torn_missing_newline),
        cmocka_unit_test(test_torn_zeros_and_junk_line),
        cmocka_unit_test(test_foreign_text_file_refused),
        cmocka_unit_test(test_foreign_binary_refused),
        cmocka_unit_test(test_foreign_header_refused),
        cmocka_unit_test(test_journal_then_garbage_lines_refused),
        cmocka_unit_test(test_torn_journal_still_repaired),
        cmocka_unit_test(test_corrupt_flip_data_byte),
        cmocka_unit_test(test_corrupt_flip_structure_byte),
        cmocka_unit_test(test_corrupt_every_byte_of_middle_line),
        cmocka_unit_test(test_corrupt_deleted_line),
        cmocka_unit_test(test_corrupt_swapped_lines),
        cmocka_unit_test(test_corrupt_changed_seq),
        cmocka_unit_test(test_corrupt_junk_line_in_middle),
        cmocka_unit_test(test_last_record_tamper_changes_head),
        cmocka_unit_test(test_corrupt_shapes),
        cmocka_unit_test(test_visit_error_stops_open),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_single_writer_lock),
        cmocka_unit_test(test_syncs_and_sync_failure),
        cmocka_unit_test(test_misuse_aborts),
        cmocka_unit_test(test_short_write_breaks_handle),
        cmocka_unit_test(test_kill9_crashes),
        cmocka_unit_test(test_cli_resume_refuses_foreign_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
