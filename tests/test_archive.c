/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: archives. Real archives are made here with libarchive's writer (zip, tar,
 * compressed tars, 7z, cpio, ISO 9660, single compressed files, nested ones) and scanned in
 * process and through the CLI: members found with their exact location chain, what could not
 * be examined recorded as skips with their reason, totals counted. Hostile archives (bombs,
 * nested bombs, truncation, garbage, encryption, names that are paths) end as recorded skips
 * in bounded time and memory, and nothing is ever written from them. A zip's entries that its
 * central directory does not list (cat y.zip x.zip) are recorded as not examined, and such a
 * zip is not rewritten. The rewrite primitive (dp_archive_rewrite, dp_archive_verify) is
 * checked by reading both archives back with libarchive.
 *
 * Tests marked BUG fail on purpose: they state what the code should do and what it does. */
#include "testutil.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deprive/archive.h"
#include "deprive/digest.h"
#include "deprive/hashset.h"
#include "deprive/json.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/util.h"

#define T0 1600000000 /* even: zip's DOS time has 2-second steps */
#define MIB (1024u * 1024u)

/* ---- making archives ---- */

enum fmt { ZIP, ZIP_STORE, ZIP64, PAX, USTAR, GNUTAR, SEVENZ, CPIO, ISO, RAW };
enum flt { NOF, GZ, BZ2, XZ, ZST };

/* One entry to write. */
struct ment {
    const char *name;
    const void *data;
    size_t len;
    uint64_t zeros;       /* instead of data: this many zero bytes, streamed */
    const char *hardlink; /* a hard-link entry naming an earlier one (no data) */
    unsigned mode;        /* permission bits; 0: 0644 */
    int64_t mtime;        /* 0: T0 */
    bool store;           /* zip: this entry stored (the others deflated) */
    const char *symlink;  /* a symbolic link to this target */
    bool dir;             /* a directory */
};

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static void buf_put(struct buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *d, size_t n)
{
    (void)a;
    buf_put(ctx, d, n);
    return (la_ssize_t)n;
}

static void ok_or_fail(struct archive *a, int r, const char *what)
{
    if (r != ARCHIVE_OK)
        fail_msg("%s: %d %s", what, r, archive_error_string(a) ? archive_error_string(a) : "");
}

/* An archive of m[0..n) in memory (heap, *len bytes). pass: zip traditional encryption. */
static uint8_t *build(enum fmt f, enum flt x, const char *pass, const struct ment *m, size_t n,
                      size_t *len)
{
    struct archive *a = archive_write_new();
    assert_non_null(a);
    int r = ARCHIVE_FATAL;
    switch (f) {
    case ZIP:
    case ZIP_STORE:
    case ZIP64: r = archive_write_set_format_zip(a); break;
    case PAX: r = archive_write_set_format_pax(a); break;
    case USTAR: r = archive_write_set_format_ustar(a); break;
    case GNUTAR: r = archive_write_set_format_gnutar(a); break;
    case SEVENZ: r = archive_write_set_format_7zip(a); break;
    case CPIO: r = archive_write_set_format_cpio_newc(a); break;
    case ISO: r = archive_write_set_format_iso9660(a); break;
    case RAW: r = archive_write_set_format_raw(a); break;
    }
    ok_or_fail(a, r, "format");
    switch (x) {
    case NOF: r = ARCHIVE_OK; break;
    case GZ: r = archive_write_add_filter_gzip(a); break;
    case BZ2: r = archive_write_add_filter_bzip2(a); break;
    case XZ: r = archive_write_add_filter_xz(a); break;
    case ZST: r = archive_write_add_filter_zstd(a); break;
    }
    ok_or_fail(a, r, "filter");
    if (f == ZIP_STORE)
        ok_or_fail(a, archive_write_zip_set_compression_store(a), "store");
    if (f == ZIP64) /* zip64 extra fields in every header, 64-bit data descriptors */
        ok_or_fail(a, archive_write_set_format_option(a, "zip", "zip64", "1"), "zip64");
    if (pass != NULL) {
        ok_or_fail(a, archive_write_set_options(a, "zip:encryption=zipcrypt"), "encryption");
        ok_or_fail(a, archive_write_set_passphrase(a, pass), "passphrase");
    }
    /* no padding to 10240-byte blocks, as written to a file (zstd and xz would take trailing
     * zeros for another, broken frame) */
    ok_or_fail(a, archive_write_set_bytes_in_last_block(a, 1), "last block");
    struct buf b = {0};
    ok_or_fail(a, archive_write_open(a, &b, NULL, write_cb, NULL), "open");
    static const uint8_t zero[1 << 16];
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        assert_non_null(e);
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_mtime(e, m[i].mtime ? m[i].mtime : T0, 0);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 100);
        archive_entry_set_mode(e, (m[i].dir       ? AE_IFDIR
                                   : m[i].symlink ? AE_IFLNK
                                                  : AE_IFREG) |
                                      (m[i].mode ? m[i].mode : 0644));
        if (m[i].symlink != NULL)
            archive_entry_set_symlink(e, m[i].symlink);
        if (m[i].dir || m[i].symlink != NULL) {
            archive_entry_set_size(e, 0);
        } else if (m[i].hardlink != NULL) {
            archive_entry_set_hardlink(e, m[i].hardlink);
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_size(e, (la_int64_t)(m[i].zeros ? m[i].zeros : m[i].len));
        }
        if (f == ZIP) /* per entry: the format option may be set only before opening */
            ok_or_fail(a, m[i].store ? archive_write_zip_set_compression_store(a)
                                     : archive_write_zip_set_compression_deflate(a),
                       "compression");
        ok_or_fail(a, archive_write_header(a, e), m[i].name);
        if (m[i].zeros) {
            for (uint64_t left = m[i].zeros; left > 0;) {
                size_t k = left < sizeof(zero) ? (size_t)left : sizeof(zero);
                assert_int_equal(archive_write_data(a, zero, k), (la_ssize_t)k);
                left -= k;
            }
        } else if (m[i].hardlink == NULL && m[i].len > 0) {
            assert_int_equal(archive_write_data(a, m[i].data, m[i].len), (la_ssize_t)m[i].len);
        }
        archive_entry_free(e);
    }
    ok_or_fail(a, archive_write_close(a), "close");
    archive_write_free(a);
    *len = b.len;
    return b.p;
}

/* build() straight into dir/rel. */
static void put_archive(const char *dir, const char *rel, enum fmt f, enum flt x,
                        const char *pass, const struct ment *m, size_t n)
{
    size_t len;
    uint8_t *p = build(f, x, pass, m, n, &len);
    tu_write(dir, rel, p, len);
    free(p);
}

/* A ustar header (name, size, type) written by hand: for archives libarchive would not make. */
static void octal(uint8_t *field, size_t width, uint64_t v)
{
    field[width - 1] = '\0';
    for (size_t i = width - 1; i > 0; i--) {
        field[i - 1] = (uint8_t)('0' + (v & 7));
        v >>= 3;
    }
}

static void tar_header(uint8_t h[512], const char *name, uint64_t size)
{
    memset(h, 0, 512);
    size_t nl = strlen(name);
    assert_true(nl < 100);
    memcpy(h, name, nl);
    octal(h + 100, 8, 0644);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, size);
    octal(h + 136, 12, T0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += h[i];
    octal(h + 148, 7, sum);
}

/* ---- reading archives back (for the rewrite) ---- */

struct mrec {
    char name[256];
    char link[256];
    char symlink[256];
    int64_t mtime, uid, gid, size;
    unsigned mode;
    uint8_t sha[32];
};

struct mlist {
    struct mrec e[64];
    size_t n;
    int format, filter;
};

static struct archive *reader(void)
{
    struct archive *a = archive_read_new();
    assert_non_null(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_cpio(a);
    archive_read_support_format_7zip(a);
    archive_read_support_format_iso9660(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    return a;
}

/* Every entry of the archive p[0..len), with its content's SHA-256. When want is given, that
 * member's content is returned (heap, *want_len). */
static uint8_t *list_mem(const uint8_t *p, size_t len, struct mlist *out, const char *want,
                         size_t *want_len)
{
    struct archive *a = reader();
    memset(out, 0, sizeof(*out));
    uint8_t *got = NULL;
    if (archive_read_open_memory(a, p, len) != ARCHIVE_OK)
        fail_msg("cannot read back: %s", archive_error_string(a));
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        assert_true(out->n < 64);
        struct mrec *m = &out->e[out->n++];
        snprintf(m->name, sizeof(m->name), "%s", archive_entry_pathname(e));
        const char *l = archive_entry_hardlink(e);
        snprintf(m->link, sizeof(m->link), "%s", l ? l : "");
        const char *sl = archive_entry_symlink(e);
        snprintf(m->symlink, sizeof(m->symlink), "%s", sl ? sl : "");
        m->mtime = archive_entry_mtime(e);
        m->uid = archive_entry_uid(e);
        m->gid = archive_entry_gid(e);
        m->mode = archive_entry_mode(e);
        struct buf b = {0};
        const void *d;
        size_t n;
        la_int64_t off;
        int rr;
        while ((rr = archive_read_data_block(a, &d, &n, &off)) == ARCHIVE_OK)
            buf_put(&b, d, n);
        if (rr != ARCHIVE_EOF)
            fail_msg("reading back %s: %s", m->name, archive_error_string(a));
        m->size = (int64_t)b.len;
        dp_sha256_buf(m->sha, b.p ? b.p : (const uint8_t *)"", b.len);
        if (want != NULL && strcmp(want, m->name) == 0 && got == NULL) {
            got = b.p ? b.p : calloc(1, 1);
            *want_len = b.len;
        } else {
            free(b.p);
        }
        out->format = archive_format(a);
    }
    if (r != ARCHIVE_EOF)
        fail_msg("reading back: %s", archive_error_string(a));
    out->filter = archive_filter_code(a, 0);
    archive_read_free(a);
    return got;
}

static void list_file(const char *path, struct mlist *out)
{
    size_t len;
    char *p = tu_read(path, &len);
    assert_non_null(p);
    list_mem((const uint8_t *)p, len, out, NULL, NULL);
    free(p);
}

/* The same member: name, link, mtime, mode, owner, content. */
static void same_member(const struct mrec *a, const struct mrec *b, bool content)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->link, b->link);
    assert_string_equal(a->symlink, b->symlink);
    assert_int_equal(a->mtime, b->mtime);
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->uid, b->uid);
    assert_int_equal(a->gid, b->gid);
    if (content) {
        assert_int_equal(a->size, b->size);
        assert_memory_equal(a->sha, b->sha, 32);
    }
}

/* ---- hash lists and scans ---- */

struct lst {
    char t[16384];
};

static void lst_add(struct lst *l, const void *d, size_t n)
{
    uint8_t sha[32];
    char hex[65];
    dp_sha256_buf(sha, d, n);
    dp_hex_encode(hex, sha, 32);
    size_t used = strlen(l->t);
    snprintf(l->t + used, sizeof(l->t) - used, "sha256:%s\n", hex);
}

struct scanned {
    struct dp_scan_result *r;
    json_t *doc;
    struct dp_hashset *set;
};

static void scan_in(struct scanned *s, const char *root, const struct lst *l,
                    const struct dp_scan_opts *o)
{
    struct dp_error e = {0};
    memset(s, 0, sizeof(*s));
    assert_int_equal(dp_hashset_new(&s->set, NULL), DP_OK);
    if (dp_hashset_load_buffer(s->set, "list", l->t, strlen(l->t), &e) != DP_OK)
        fail_msg("list: %s", e.msg);
    assert_int_equal(dp_hashset_finalize(s->set, NULL), DP_OK);
    if (dp_scan_run(s->set, root, o, &s->r, &e) != DP_OK)
        fail_msg("scan: %s", e.msg);
    assert_int_equal(dp_report_build(s->r, s->set, &s->doc, NULL), DP_OK);
}

static void scanned_free(struct scanned *s)
{
    json_decref(s->doc);
    dp_scan_result_free(s->r);
    dp_hashset_free(s->set);
}

/* deprive scan --hashes dir/list.txt -o dir/report.json EXTRA... root: the report. */
static json_t *scan_cli(const char *dir, const char *root, const struct lst *l,
                        const char *const *extra)
{
    tu_write(dir, "list.txt", l->t, strlen(l->t));
    char *lp = tu_path(dir, "list.txt"), *op = tu_path(dir, "report.json");
    unlink(op);
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)DP_TEST_BIN;
    argv[n++] = (char *)"scan";
    argv[n++] = (char *)"--hashes";
    argv[n++] = lp;
    argv[n++] = (char *)"-o";
    argv[n++] = op;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 30; i++)
        argv[n++] = (char *)extra[i];
    argv[n++] = (char *)root;
    argv[n] = NULL;
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    if (r.status != 0)
        fail_msg("deprive scan exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    json_t *doc = tu_load_json(op);
    free(lp);
    free(op);
    return doc;
}

#define LOC(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool loc_is(const json_t *loc, const char *const *want)
{
    size_t n = 0;
    while (want[n] != NULL)
        n++;
    if (!json_is_array(loc) || json_array_size(loc) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(loc, i);
        if (!json_is_string(v) || strcmp(json_string_value(v), want[i]) != 0)
            return false;
    }
    return true;
}

static void print_locs(const json_t *doc, const char *arr)
{
    const json_t *a = json_object_get(doc, arr);
    for (size_t i = 0; i < json_array_size(a); i++) {
        char *s = json_dumps(json_array_get(a, i), JSON_COMPACT);
        print_message("  %s[%zu]: %.300s\n", arr, i, s);
        free(s);
    }
}

/* The element of doc.arr whose location is want (NULL when none). */
static const json_t *at_loc(const json_t *doc, const char *arr, const char *const *want)
{
    const json_t *a = json_object_get(doc, arr);
    for (size_t i = 0; i < json_array_size(a); i++)
        if (loc_is(json_object_get(json_array_get(a, i), "location"), want))
            return json_array_get(a, i);
    return NULL;
}

static const json_t *want_finding(const json_t *doc, const char *const *loc)
{
    const json_t *f = at_loc(doc, "findings", loc);
    if (f == NULL) {
        print_locs(doc, "findings");
        fail_msg("no finding at %s/%s/...", loc[0], loc[1] ? loc[1] : "");
    }
    return f;
}

static void want_skip(const json_t *doc, const char *const *loc, const char *reason)
{
    const json_t *a = json_object_get(doc, "skips");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *s = json_array_get(a, i);
        if (loc_is(json_object_get(s, "location"), loc) &&
            strcmp(json_string_value(json_object_get(s, "reason")), reason) == 0) {
            const json_t *d = json_object_get(s, "detail");
            assert_true(json_is_string(d) && json_string_length(d) > 0);
            return;
        }
    }
    print_locs(doc, "skips");
    fail_msg("no %s skip at %s/%s/...", reason, loc[0], loc[1] ? loc[1] : "");
}

static json_int_t jint(const json_t *doc, const char *dotted)
{
    const json_t *v = tu_jget(doc, dotted);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", dotted);
    return json_integer_value(v);
}

static void want_counts(const json_t *doc, size_t findings, size_t skips)
{
    if (json_array_size(json_object_get(doc, "findings")) != findings ||
        json_array_size(json_object_get(doc, "skips")) != skips) {
        print_locs(doc, "findings");
        print_locs(doc, "skips");
        fail_msg("wanted %zu finding(s) and %zu skip(s), got %zu and %zu", findings, skips,
                 json_array_size(json_object_get(doc, "findings")),
                 json_array_size(json_object_get(doc, "skips")));
    }
    assert_int_equal(jint(doc, "totals.findings"), findings);
    assert_int_equal(jint(doc, "totals.skipped"), skips);
}

static const char *member_str(const json_t *f, const char *key)
{
    return json_string_value(json_object_get(json_object_get(f, "member"), key));
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Run argv with no input or output; its exit status, wall time and peak RSS (KiB). */
static int run_measured(char *const argv[], double *secs, long *rss_kb)
{
    double t0 = now_s();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    while (wait4(pid, &st, 0, &ru) < 0)
        assert_int_equal(errno, EINTR);
    *secs = now_s() - t0;
    *rss_kb = ru.ru_maxrss;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A fresh case: dir (temp) and dir/root. */
struct tcase {
    char *dir, *root;
};

static void tc_new(struct tcase *t)
{
    t->dir = tu_mkdtemp();
    t->root = tu_path(t->dir, "root");
    assert_int_equal(mkdir(t->root, 0755), 0);
}

static void tc_free(struct tcase *t)
{
    tu_rm_rf(t->dir);
    free(t->dir);
    free(t->root);
}

/* ---- hostile: bombs (first, so the peak RSS measured is this test's) ---- */

/* A member of 300 MB of zeros (a 300 KB zip): stopped by the ratio, quickly, in bounded
 * memory; the member after it is not examined. */
static void test_zip_bomb(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(30000, 1);
    const struct ment m[] = {{.name = "zeros.bin", .zeros = 300ull * 1000 * 1000},
                             {.name = "after.jpg", .data = victim, .len = 30000}};
    put_archive(t.root, "bomb.zip", ZIP, NOF, NULL, m, 2);
    struct stat st;
    char *bp = tu_path(t.root, "bomb.zip");
    assert_int_equal(stat(bp, &st), 0);
    assert_true(st.st_size < 2 * 1000 * 1000);
    struct lst l = {""};
    lst_add(&l, victim, 30000);

    long rss0 = maxrss_kb();
    double t0 = now_s();
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    double secs = now_s() - t0;
    long rss1 = maxrss_kb();
    print_message("  zip bomb: %.2f s, peak RSS +%ld KiB\n", secs, rss1 - rss0);
    assert_true(secs < 20.0);
    assert_true(rss1 - rss0 < 200 * 1024);
    want_counts(s.doc, 0, 1);
    want_skip(s.doc, LOC("bomb.zip", "zeros.bin"), "archive-max-ratio");
    assert_int_equal(jint(s.doc, "totals.skipped_by_reason.archive-max-ratio"), 1);
    assert_int_equal(jint(s.doc, "totals.archives.opened"), 1);
    assert_int_equal(jint(s.doc, "totals.archives.members"), 1);
    json_int_t ex = jint(s.doc, "totals.archives.bytes_expanded");
    assert_true(ex > (json_int_t)DP_ARCHIVE_RATIO_ALLOWANCE);
    assert_true(ex < (json_int_t)DP_ARCHIVE_RATIO_ALLOWANCE + 4 * MIB);
    scanned_free(&s);

    /* the CLI, measured as its own process */
    tu_write(t.dir, "list.txt", l.t, strlen(l.t));
    char *lp = tu_path(t.dir, "list.txt"), *op = tu_path(t.dir, "r.json");
    char *argv[] = {(char *)DP_TEST_BIN, (char *)"scan", (char *)"--hashes", lp, (char *)"-o",
                    op, t.root, NULL};
    long rss;
    assert_int_equal(run_measured(argv, &secs, &rss), 0);
    print_message("  zip bomb via the CLI: %.2f s, peak RSS %ld KiB\n", secs, rss);
    assert_true(secs < 20.0);
    assert_true(rss < 200 * 1024);
    json_t *doc = tu_load_json(op);
    want_counts(doc, 0, 1);
    want_skip(doc, LOC("bomb.zip", "zeros.bin"), "archive-max-ratio");
    json_decref(doc);

    /* a ratio that allows it: every byte expanded, the member after it found; the 300 MB
       member is over the carving buffer, so it is not carved, and that is a recorded limit */
    doc = scan_cli(t.dir, t.root, &l, ARGS("--archive-max-ratio", "100000"));
    want_counts(doc, 1, 1);
    want_finding(doc, LOC("bomb.zip", "after.jpg"));
    want_skip(doc, LOC("bomb.zip", "zeros.bin"), "limit");
    assert_int_equal(jint(doc, "totals.carved.members_too_large"), 1);
    assert_int_equal(jint(doc, "scope.archives.max_ratio"), 100000);
    assert_int_equal(jint(doc, "totals.archives.bytes_expanded"), 300ll * 1000 * 1000 + 30000);
    json_decref(doc);
    free(lp);
    free(op);
    free(bp);
    free(victim);
    tc_free(&t);
}

/* 42.zip in small: zips of zips, each level deflated again. 16 x 16 x 100 MiB expanded from a
 * few KB: stopped by the ratio after the allowance. */
static void test_nested_bomb(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    const struct ment z = {.name = "z.bin", .zeros = 100ull * MIB};
    size_t l1n, l2n, l3n;
    uint8_t *l1 = build(ZIP, NOF, NULL, &z, 1, &l1n);
    char names[16][8];
    struct ment m[16];
    for (int i = 0; i < 16; i++) {
        snprintf(names[i], sizeof(names[i]), "%d.zip", i);
        m[i] = (struct ment){.name = names[i], .data = l1, .len = l1n};
    }
    uint8_t *l2 = build(ZIP, NOF, NULL, m, 16, &l2n);
    for (int i = 0; i < 16; i++)
        m[i].data = l2, m[i].len = l2n;
    uint8_t *l3 = build(ZIP, NOF, NULL, m, 16, &l3n);
    print_message("  nested bomb: %zu bytes, %llu expanded\n", l3n,
                  (unsigned long long)(256ull * 100 * MIB));
    tu_write(t.root, "nb.zip", l3, l3n);
    struct lst l = {""};
    lst_add(&l, "not there", 9);
    long rss0 = maxrss_kb();
    double t0 = now_s();
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    double secs = now_s() - t0;
    long rss1 = maxrss_kb();
    print_message("  nested bomb: %.2f s, peak RSS +%ld KiB\n", secs, rss1 - rss0);
    assert_true(secs < 20.0);
    assert_true(rss1 - rss0 < 200 * 1024);
    want_counts(s.doc, 0, 1);
    want_skip(s.doc, LOC("nb.zip", "0.zip", "0.zip", "z.bin"), "archive-max-ratio");
    assert_int_equal(jint(s.doc, "totals.archives.opened"), 3);
    assert_int_equal(jint(s.doc, "totals.archives.members"), 3);
    assert_true(jint(s.doc, "totals.archives.bytes_expanded") <
                (json_int_t)DP_ARCHIVE_RATIO_ALLOWANCE + 4 * MIB);
    scanned_free(&s);
    free(l1);
    free(l2);
    free(l3);
    tc_free(&t);
}

/* ---- finding members ---- */

struct fcase {
    const char *file;
    enum fmt f;
    enum flt x;
    const char *archive;     /* member.archive */
    const char *compression; /* member.compression, NULL: none */
};

static void test_formats(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(20000, 2), *other = tu_random_bytes(5000, 3);
    const struct ment two[] = {{.name = "docs/readme.txt", .data = other, .len = 5000},
                               {.name = "img/victim.jpg", .data = victim, .len = 20000}};
    const struct ment one[] = {{.name = "victim.jpg", .data = victim, .len = 20000}};
    static const struct fcase cases[] = {
        {"a.zip", ZIP, NOF, "zip", NULL},
        {"b-stored.zip", ZIP_STORE, NOF, "zip", NULL},
        {"c.tar", PAX, NOF, "tar", NULL},
        {"d.tar.gz", PAX, GZ, "tar", "gzip"},
        {"e.tar.bz2", USTAR, BZ2, "tar", "bzip2"},
        {"f.tar.xz", GNUTAR, XZ, "tar", "xz"},
        {"g.tar.zst", PAX, ZST, "tar", "zstd"},
        {"h.7z", SEVENZ, NOF, "7zip", NULL},
        {"i.cpio", CPIO, NOF, "cpio", NULL},
        {"j.iso", ISO, NOF, "iso9660", NULL},
        {"k.jpg.gz", RAW, GZ, "compressed", "gzip"},
        {"l.jpg.xz", RAW, XZ, "compressed", "xz"},
        /* content, not extension */
        {"m-backup.bak", ZIP, NOF, "zip", NULL},
        {"n-photo.jpg", USTAR, NOF, "tar", NULL},
    };
    size_t nc = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < nc; i++)
        put_archive(t.root, cases[i].file, cases[i].f, cases[i].x, NULL,
                    cases[i].f == RAW ? one : two, cases[i].f == RAW ? 1 : 2);
    tu_write_random(t.root, "o-not.zip", 7000, 4); /* not a zip: just a file */
    struct lst l = {""};
    lst_add(&l, victim, 20000);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    want_counts(s.doc, nc, 0);
    for (size_t i = 0; i < nc; i++) {
        const json_t *f = want_finding(
            s.doc, LOC(cases[i].file, cases[i].f == RAW ? "data" : "img/victim.jpg"));
        assert_string_equal(member_str(f, "archive"), cases[i].archive);
        if (cases[i].compression != NULL)
            assert_string_equal(member_str(f, "compression"), cases[i].compression);
        else
            assert_null(json_object_get(json_object_get(f, "member"), "compression"));
        assert_int_equal(json_integer_value(tu_jget(f, "member.size")), 20000);
        assert_null(json_object_get(json_object_get(f, "member"), "hardlink_of"));
        char hex[65];
        uint8_t sha[32];
        dp_sha256_buf(sha, victim, 20000);
        dp_hex_encode(hex, sha, 32);
        assert_string_equal(json_string_value(tu_jget(f, "digests.sha256")), hex);
    }
    /* BUG (seen under UBSan only): libarchive ends a stored zip member (b-stored.zip) with a
     * zero-length block whose pointer is NULL, and src/container/archive.c member()
     * (memcpy(nest + nest_len, buf, n)) and src/scan/members.c data() (memcpy(k->head + ...,
     * buf, n)) pass it to memcpy: "null pointer passed as argument 2", fatal with
     * scripts/test.sh's UBSAN_OPTIONS=halt_on_error=1. (The same memcpy in member() also
     * gets nest == NULL with n == 0: test_mutants.) */
    /* the struct side agrees with the report */
    assert_int_equal(s.r->finding_count, nc);
    assert_int_equal(s.r->findings[0].member_depth, 1);
    assert_string_equal(s.r->findings[0].path, "a.zip");
    assert_string_equal(s.r->findings[0].members[0], "img/victim.jpg");
    assert_int_equal(jint(s.doc, "totals.files"), nc + 1);
    assert_int_equal(jint(s.doc, "totals.archives.opened"), nc);
    assert_int_equal(jint(s.doc, "totals.archives.members"), 2 * (nc - 2) + 2);
    assert_int_equal(jint(s.doc, "totals.archives.bytes_expanded"),
                     25000 * (nc - 2) + 2 * 20000);
    assert_int_equal(jint(s.doc, "totals.archives.files_head_read"), 0);
    assert_true(json_is_true(tu_jget(s.doc, "scope.archives.used")));
    assert_int_equal(jint(s.doc, "scope.archives.max_depth"), DP_ARCHIVE_MAX_DEPTH_DEFAULT);
    scanned_free(&s);

    /* a list whose entries carry a size, without carving (which reads every byte): other
     * files only head-read, archives still opened */
    struct lst ls = {""};
    uint8_t sha[32];
    char hex[65];
    dp_sha256_buf(sha, victim, 20000);
    dp_hex_encode(hex, sha, 32);
    snprintf(ls.t, sizeof(ls.t), "sha256:%s size:20000\n", hex);
    const struct dp_scan_opts no_carve = {.no_carve = true};
    scan_in(&s, t.root, &ls, &no_carve);
    want_counts(s.doc, nc, 0);
    assert_int_equal(jint(s.doc, "totals.archives.files_head_read"), nc + 1);
    assert_int_equal(jint(s.doc, "totals.files_read"), 0);
    scanned_free(&s);
    free(victim);
    free(other);
    tc_free(&t);
}

/* zip > tar.gz > zip: the chain of 4; --archive-max-depth stops it and records why. */
static void test_nested(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(15000, 5), *note = tu_random_bytes(300, 6),
            *readme = tu_random_bytes(400, 7), *x = tu_random_bytes(500, 8);
    const struct ment im[] = {{.name = "victim.jpg", .data = victim, .len = 15000},
                              {.name = "note.txt", .data = note, .len = 300}};
    size_t inner_n, mid_n;
    uint8_t *inner = build(ZIP, NOF, NULL, im, 2, &inner_n);
    const struct ment mm[] = {{.name = "readme", .data = readme, .len = 400},
                              {.name = "inner.zip", .data = inner, .len = inner_n}};
    uint8_t *mid = build(PAX, GZ, NULL, mm, 2, &mid_n);
    const struct ment om[] = {{.name = "mid.tar.gz", .data = mid, .len = mid_n},
                              {.name = "x.txt", .data = x, .len = 500}};
    put_archive(t.root, "outer.zip", ZIP, NOF, NULL, om, 2);
    struct lst l = {""};
    lst_add(&l, victim, 15000);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    want_counts(s.doc, 1, 0);
    const json_t *f =
        want_finding(s.doc, LOC("outer.zip", "mid.tar.gz", "inner.zip", "victim.jpg"));
    assert_string_equal(member_str(f, "archive"), "zip");
    assert_int_equal(jint(s.doc, "totals.archives.opened"), 3);
    assert_int_equal(jint(s.doc, "totals.archives.members"), 6);
    assert_int_equal(jint(s.doc, "totals.archives.bytes_expanded"),
                     mid_n + 500 + 400 + inner_n + 15000 + 300);
    assert_int_equal(s.r->findings[0].member_depth, 3);
    scanned_free(&s);

    /* depth 1: the tar.gz is a member, not opened - but its own digest is checked */
    lst_add(&l, mid, mid_n);
    struct dp_scan_opts o = {.archive = {.max_depth = 1}};
    scan_in(&s, t.root, &l, &o);
    want_counts(s.doc, 1, 1);
    want_finding(s.doc, LOC("outer.zip", "mid.tar.gz"));
    want_skip(s.doc, LOC("outer.zip", "mid.tar.gz"), "archive-depth");
    assert_int_equal(jint(s.doc, "totals.archives.opened"), 1);
    assert_int_equal(jint(s.doc, "totals.archives.members"), 2);
    assert_int_equal(jint(s.doc, "totals.skipped_by_reason.archive-depth"), 1);
    scanned_free(&s);

    /* the same through the CLI; and depth 2 stops at the inner zip */
    json_t *doc = scan_cli(t.dir, t.root, &l, ARGS("--archive-max-depth", "1"));
    want_counts(doc, 1, 1);
    want_finding(doc, LOC("outer.zip", "mid.tar.gz"));
    want_skip(doc, LOC("outer.zip", "mid.tar.gz"), "archive-depth");
    assert_int_equal(jint(doc, "scope.archives.max_depth"), 1);
    json_decref(doc);
    doc = scan_cli(t.dir, t.root, &l, ARGS("--archive-max-depth", "2"));
    want_counts(doc, 1, 1);
    want_finding(doc, LOC("outer.zip", "mid.tar.gz"));
    want_skip(doc, LOC("outer.zip", "mid.tar.gz", "inner.zip"), "archive-depth");
    assert_int_equal(jint(doc, "totals.archives.opened"), 2);
    json_decref(doc);
    free(victim);
    free(note);
    free(readme);
    free(x);
    free(inner);
    free(mid);
    tc_free(&t);
}

/* A nested archive larger than the in-memory limit: recorded, not opened, its own digest
 * still checked. */
static void test_nested_too_large(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(30000, 24);
    const struct ment im[] = {{.name = "victim.jpg", .data = victim, .len = 30000}};
    size_t inner_n;
    uint8_t *inner = build(ZIP_STORE, NOF, NULL, im, 1, &inner_n);
    const struct ment om[] = {{.name = "inner.zip", .data = inner, .len = inner_n}};
    put_archive(t.root, "outer.tar", USTAR, NOF, NULL, om, 1);
    struct lst l = {""};
    lst_add(&l, victim, 30000);
    lst_add(&l, inner, inner_n);
    struct dp_scan_opts o = {.archive = {.nested_buffer = 64 * 1024}};
    struct scanned s;
    scan_in(&s, t.root, &l, &o);
    want_counts(s.doc, 2, 0);
    want_finding(s.doc, LOC("outer.tar", "inner.zip"));
    want_finding(s.doc, LOC("outer.tar", "inner.zip", "victim.jpg"));
    scanned_free(&s);
    o.archive.nested_buffer = 8 * 1024;
    scan_in(&s, t.root, &l, &o);
    print_locs(s.doc, "skips");
    /* BUG (src/container/archive.c member(), the too_big branch): the kind of a nested archive
     * too large to hold is sniffed from the bytes held so far (nest[0..nest_len)); when the
     * first data block alone is larger than the limit nothing is held, the sniff sees no
     * bytes, and the nested archive is neither opened nor recorded: no
     * "archive-nested-too-large" skip. Here the 30 KiB zip comes in one block over an 8 KiB
     * limit; with the default 256 MiB limit the same happens to a stored member over 256 MiB
     * inside a nested archive (opened from memory, its data comes as one block). */
    want_counts(s.doc, 1, 1);
    want_finding(s.doc, LOC("outer.tar", "inner.zip"));
    want_skip(s.doc, LOC("outer.tar", "inner.zip"), "archive-nested-too-large");
    scanned_free(&s);
    free(victim);
    free(inner);
    tc_free(&t);
}

/* A tar hard-link entry to a matching member: two findings, the link's says so. */
static void test_hardlink_scan(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(9000, 9), *other = tu_random_bytes(700, 10);
    const struct ment m[] = {{.name = "victim.jpg", .data = victim, .len = 9000},
                             {.name = "link.jpg", .hardlink = "victim.jpg"},
                             {.name = "other.txt", .data = other, .len = 700}};
    static const char *const files[] = {"h-gnu.tar", "h-pax.tar", "h-ustar.tar"};
    put_archive(t.root, files[0], GNUTAR, NOF, NULL, m, 3);
    put_archive(t.root, files[1], PAX, NOF, NULL, m, 3);
    put_archive(t.root, files[2], USTAR, NOF, NULL, m, 3);
    /* the same tar inside a zip, next to a tar whose link names another "victim.jpg" */
    size_t tn, t2n;
    uint8_t *tb = build(USTAR, NOF, NULL, m, 3, &tn);
    const struct ment m2[] = {{.name = "victim.jpg", .data = other, .len = 700},
                              {.name = "link.jpg", .hardlink = "victim.jpg"}};
    uint8_t *t2 = build(USTAR, NOF, NULL, m2, 2, &t2n);
    const struct ment zm[] = {{.name = "a/other.tar", .data = t2, .len = t2n},
                              {.name = "b/h.tar", .data = tb, .len = tn}};
    put_archive(t.root, "z.zip", ZIP, NOF, NULL, zm, 2);
    free(tb);
    free(t2);
    struct lst l = {""};
    lst_add(&l, victim, 9000);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    want_counts(s.doc, 8, 0);
    /* links are no members */
    assert_int_equal(jint(s.doc, "totals.archives.members"), 6 + 2 + 1 + 2);
    const json_t *nf = want_finding(s.doc, LOC("z.zip", "b/h.tar", "link.jpg"));
    assert_string_equal(member_str(nf, "hardlink_of"), "victim.jpg");
    want_finding(s.doc, LOC("z.zip", "b/h.tar", "victim.jpg"));
    for (int i = 0; i < 3; i++) {
        const char *file = files[i];
        const json_t *lf = want_finding(s.doc, LOC(file, "link.jpg"));
        const json_t *vf = want_finding(s.doc, LOC(file, "victim.jpg"));
        assert_string_equal(member_str(lf, "hardlink_of"), "victim.jpg");
        assert_null(json_object_get(json_object_get(vf, "member"), "hardlink_of"));
        assert_int_equal(json_integer_value(tu_jget(lf, "member.size")), 9000);
        assert_true(json_equal(tu_jget(lf, "digests"), tu_jget(vf, "digests")));
    }
    scanned_free(&s);
    free(victim);
    free(other);
    tc_free(&t);
}

/* ---- hostile ---- */

/* A member whose header claims far more than the archive holds: the member is corrupt, what
 * came before it is still found. */
static void test_huge_claim_truncated(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(3000, 11), *rest = tu_random_bytes(20480, 12);
    /* tar: victim.jpg, then huge.bin claiming 1 GiB with 20 KiB present */
    struct buf b = {0};
    uint8_t h[512], pad[512] = {0};
    tar_header(h, "victim.jpg", 3000);
    buf_put(&b, h, 512);
    buf_put(&b, victim, 3000);
    buf_put(&b, pad, 512 - 3000 % 512);
    tar_header(h, "huge.bin", 1ull << 30);
    buf_put(&b, h, 512);
    buf_put(&b, rest, 20480);
    tu_write(t.root, "t.tar", b.p, b.len);
    free(b.p);
    /* zip: stored victim.jpg, then big.bin whose local header claims 1 GiB, cut short */
    const struct ment zm[] = {{.name = "victim.jpg", .data = victim, .len = 3000},
                              {.name = "big.bin", .data = rest, .len = 20480}};
    size_t zn;
    uint8_t *z = build(ZIP_STORE, NOF, NULL, zm, 2, &zn);
    uint8_t *second = memmem(z + 4, zn - 4, "PK\x03\x04", 4);
    assert_non_null(second);
    assert_memory_equal(second + 30, "big.bin", 7);
    for (int k = 0; k < 2; k++) { /* compressed and uncompressed sizes: 1 GiB */
        second[18 + 4 * k] = 0;
        second[19 + 4 * k] = 0;
        second[20 + 4 * k] = 0;
        second[21 + 4 * k] = 0x40;
    }
    size_t cut = (size_t)(second - z) + 30 + 7 + 10000;
    tu_write(t.root, "z.zip", z, cut);
    free(z);
    struct lst l = {""};
    lst_add(&l, victim, 3000);
    lst_add(&l, rest, 20480);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    print_locs(s.doc, "skips");
    want_finding(s.doc, LOC("t.tar", "victim.jpg"));
    want_finding(s.doc, LOC("z.zip", "victim.jpg"));
    want_skip(s.doc, LOC("t.tar", "huge.bin"), "archive-corrupt");
    want_skip(s.doc, LOC("z.zip", "big.bin"), "archive-corrupt");
    assert_int_equal(json_array_size(json_object_get(s.doc, "findings")), 2);
    const json_t *sk = json_object_get(s.doc, "skips");
    for (size_t i = 0; i < json_array_size(sk); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(sk, i), "reason")),
                            "archive-corrupt");
    assert_true(jint(s.doc, "totals.archives.bytes_expanded") < 4 * MIB);
    scanned_free(&s);
    free(victim);
    free(rest);
    tc_free(&t);
}

/* Archives cut short: what precedes the cut is found, the member cut is corrupt. */
static void test_truncated(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *a = tu_random_bytes(1000, 13), *v1 = tu_random_bytes(200000, 14),
            *v2 = tu_random_bytes(200000, 15);
    const struct ment m[] = {{.name = "a.txt", .data = a, .len = 1000},
                             {.name = "first.jpg", .data = v1, .len = 200000},
                             {.name = "second.jpg", .data = v2, .len = 200000}};
    size_t n;
    uint8_t *p = build(PAX, GZ, NULL, m, 3, &n);
    tu_write(t.root, "t.tar.gz", p, 300000);
    free(p);
    p = build(ZIP, NOF, NULL, m, 3, &n);
    tu_write(t.root, "t.zip", p, 300000);
    free(p);
    p = build(SEVENZ, NOF, NULL, m, 3, &n);
    tu_write(t.root, "t.7z", p, n / 2);
    free(p);
    struct lst l = {""};
    lst_add(&l, v1, 200000);
    lst_add(&l, v2, 200000);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    print_locs(s.doc, "skips");
    want_finding(s.doc, LOC("t.tar.gz", "first.jpg"));
    want_finding(s.doc, LOC("t.zip", "first.jpg"));
    want_skip(s.doc, LOC("t.tar.gz", "second.jpg"), "archive-corrupt");
    want_skip(s.doc, LOC("t.zip", "second.jpg"), "archive-corrupt");
    assert_int_equal(json_array_size(json_object_get(s.doc, "findings")), 2);
    /* 7z keeps its index at the end: nothing to read, the archive itself is corrupt */
    bool seven = false;
    const json_t *sk = json_object_get(s.doc, "skips");
    for (size_t i = 0; i < json_array_size(sk); i++) {
        const json_t *e = json_array_get(sk, i);
        assert_string_equal(json_string_value(json_object_get(e, "reason")), "archive-corrupt");
        seven |= loc_is(json_object_get(e, "location"), LOC("t.7z"));
    }
    assert_true(seven);
    scanned_free(&s);
    free(a);
    free(v1);
    free(v2);
    tc_free(&t);
}

/* Signatures followed by garbage: recorded as corrupt, never a crash, the file's own digest
 * still checked. */
static void test_garbage(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(4000, 16);
    const struct ment m[] = {{.name = "victim.jpg", .data = victim, .len = 4000}};
    size_t zn;
    uint8_t *z = build(ZIP, NOF, NULL, m, 1, &zn);
    struct buf g = {0};
    buf_put(&g, z, 30 + strlen("victim.jpg")); /* a valid local header ... */
    uint8_t *junk = tu_random_bytes(8192, 17);
    buf_put(&g, junk, 8192); /* ... then garbage */
    tu_write(t.root, "g.zip", g.p, g.len);
    static const struct {
        const char *name;
        const char *sig;
        size_t len;
    } sigs[] = {
        {"h.7z", "7z\xbc\xaf\x27\x1c", 6},      {"i.rar", "Rar!\x1a\x07\x00", 7},
        {"j.rar5", "Rar!\x1a\x07\x01\x00", 8}, {"k.gz", "\x1f\x8b\x08\x00", 4},
        {"m.xz", "\xfd" "7zXZ\x00", 6},
        {"n.zst", "\x28\xb5\x2f\xfd", 4},      {"o.cpio", "070701", 6},
        {"p.zip", "PK\x05\x06", 4},
    };
    size_t ns = sizeof(sigs) / sizeof(sigs[0]);
    for (size_t i = 0; i < ns; i++) {
        struct buf b = {0};
        buf_put(&b, sigs[i].sig, sigs[i].len);
        buf_put(&b, junk, 4096);
        tu_write(t.root, sigs[i].name, b.p, b.len);
        free(b.p);
    }
    struct lst l = {""};
    lst_add(&l, victim, 4000);
    lst_add(&l, g.p, g.len); /* the damaged file itself is listed */
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    want_counts(s.doc, 1, 7);
    want_finding(s.doc, LOC("g.zip"));
    static const char *const corrupt[] = {"g.zip", "h.7z", "i.rar", "k.gz",
                                          "m.xz",  "n.zst", "o.cpio"};
    for (size_t i = 0; i < 7; i++)
        want_skip(s.doc, LOC(corrupt[i]), "archive-corrupt");
    /* "opened" counts the archives libarchive opened, their first header read or not (g.zip,
     * h.7z, i.rar, o.cpio); j.rar5 and p.zip libarchive reads as empty archives (no entry, no
     * error): no member, no skip */
    assert_int_equal(jint(s.doc, "totals.archives.opened"), 6);
    assert_int_equal(jint(s.doc, "totals.archives.members"), 0);
    scanned_free(&s);
    free(g.p);
    free(junk);
    free(z);
    free(victim);
    tc_free(&t);
}

/* A compression signature at offset 0 over bytes that are no such stream (the gzip header's
 * reserved flag bits set; bzip2's block magic missing): not a compressed file. */
/* A member removed by a certified run, then a plain copy of it planted: the audit (with the
 * signature verified, so the certificate's sizes are trusted) reads files of the member's
 * size, not the archive's, and finds it. */
static void test_audit_member_size(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(50000, 31), *lawful = tu_random_bytes(7000, 32);
    const struct ment m[] = {{.name = "victim.bin", .data = victim, .len = 50000},
                             {.name = "notes.txt", .data = lawful, .len = 7000}};
    put_archive(t.root, "backup.tar.gz", PAX, GZ, NULL, m, 2);
    struct lst l = {""};
    lst_add(&l, victim, 50000);
    tu_write(t.dir, "list.txt", l.t, strlen(l.t));
    char *list = tu_path(t.dir, "list.txt"), *pub = tu_path(t.dir, "k.pub");
    char *sec = tu_path(t.dir, "k.sec"), *cert = tu_path(t.dir, "cert.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "run", "--hashes", list, "--key", sec, "-o", cert, "--order", "R/1",
               "--exhibit", "E/1", "--officer", "PC A", "--journal-on-same-fs", "--yes", t.root,
               NULL);
    if (r.status != 0)
        fail_msg("run: %d\n%s", r.status, r.err);
    tu_run_free(&r);
    json_t *c = tu_load_json(cert);
    const json_t *t0 = json_array_get(json_object_get(c, "targets"), 0);
    assert_int_equal(json_integer_value(tu_jget(t0, "member.size")), 50000);
    assert_true(json_is_true(tu_jget(t0, "archive.rewritten")));
    json_decref(c);
    tu_write(t.root, "planted.bin", victim, 50000);
    tu_deprive(&r, NULL, "audit", "--cert", cert, "-p", pub, t.root, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "planted.bin"));
    tu_run_free(&r);
    free(list), free(pub), free(sec), free(cert), free(victim), free(lawful);
    tc_free(&t);
}

/* An archive that matches as a whole and also holds a matching member: the file is erased,
 * and its member is reported erased with it (not "changed since scan"). */
static void test_member_of_whole_match(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(20000, 51), *lawful = tu_random_bytes(2000, 52);
    const struct ment m[] = {{.name = "victim.bin", .data = victim, .len = 20000},
                             {.name = "notes.txt", .data = lawful, .len = 2000}};
    size_t zlen;
    uint8_t *zip = build(ZIP, NOF, NULL, m, 2, &zlen);
    tu_write(t.root, "both.zip", zip, zlen);
    struct lst l = {""};
    lst_add(&l, victim, 20000);
    lst_add(&l, zip, zlen);
    tu_write(t.dir, "list.txt", l.t, strlen(l.t));
    char *list = tu_path(t.dir, "list.txt"), *plan = tu_path(t.dir, "plan.json");
    char *res = tu_path(t.dir, "plan.json.wipe.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "scan", "--hashes", list, "-o", plan, t.root, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "R/1", "--hashes", list,
               "--journal-on-same-fs", plan, NULL);
    if (r.status != 0)
        fail_msg("wipe: %d\n%s\n%s", r.status, r.out, r.err);
    tu_run_free(&r);
    json_t *doc = tu_load_json(res);
    assert_int_equal(json_integer_value(tu_jget(doc, "summary.erased")), 2);
    json_decref(doc);
    char *p = tu_path(t.root, "both.zip");
    assert_int_equal(access(p, F_OK), -1);
    free(p), free(list), free(plan), free(res), free(zip), free(victim), free(lawful);
    tc_free(&t);
}

/* An encrypted zip holding a match: libarchive cannot write encrypted members, so it cannot
 * be rewritten faithfully - refused before anything is done without --archive-policy; left
 * with leave; erased whole with wipe-whole. */
static void test_encrypted_zip_policy(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(30000, 41), *lawful = tu_random_bytes(3000, 42);
    const struct ment m[] = {{.name = "victim.bin", .data = victim, .len = 30000},
                             {.name = "notes.txt", .data = lawful, .len = 3000}};
    put_archive(t.root, "locked.zip", ZIP, NOF, "s3cret", m, 2);
    struct lst l = {""};
    lst_add(&l, victim, 30000);
    tu_write(t.dir, "list.txt", l.t, strlen(l.t));
    tu_write(t.dir, "pw.txt", "s3cret\n", 7);
    char *list = tu_path(t.dir, "list.txt"), *pw = tu_path(t.dir, "pw.txt");
    char *plan = tu_path(t.dir, "plan.json"), *zip = tu_path(t.root, "locked.zip");
    char before[65], after[65];
    assert_true(tu_sha256_hex(zip, before));
    struct tu_run r;
    tu_deprive(&r, NULL, "scan", "--hashes", list, "--archive-password-file", pw, "-o", plan,
               t.root, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "locked.zip -> victim.bin"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "R/1", "--hashes", list,
               "--journal-on-same-fs", plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "encrypted members"));
    assert_non_null(strstr(r.err, "--archive-policy"));
    tu_run_free(&r);
    assert_true(tu_sha256_hex(zip, after));
    assert_string_equal(before, after);
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "R/1", "--hashes", list,
               "--archive-policy=leave", "--journal-on-same-fs", plan, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "archive left"));
    tu_run_free(&r);
    assert_true(tu_sha256_hex(zip, after));
    assert_string_equal(before, after);
    char *j2 = tu_path(t.dir, "j2");
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "R/1", "--hashes", list, "--journal", j2,
               "--archive-policy=wipe-whole", "--journal-on-same-fs", plan, NULL);
    if (r.status != 0)
        fail_msg("wipe-whole: %d\n%s\n%s", r.status, r.out, r.err);
    tu_run_free(&r);
    assert_int_equal(access(zip, F_OK), -1);
    free(list), free(pw), free(plan), free(zip), free(j2), free(victim), free(lawful);
    tc_free(&t);
}

/* An empty compressed file (a 20-byte gzip of nothing: Debian ships man-page stubs like that)
 * is no damage: nothing recorded, nothing to examine. */
static void test_empty_compressed(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    static const uint8_t empty_gz[20] = {0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x02, 0x03,
                                         0x03, 0,    0,    0, 0, 0, 0, 0, 0,    0};
    tu_write(t.root, "stub.1.gz", empty_gz, sizeof(empty_gz));
    struct lst l = {""};
    lst_add(&l, "not there", 9);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    assert_int_equal(json_array_size(json_object_get(s.doc, "skips")), 0);
    assert_int_equal(jint(s.doc, "totals.archives.opened"), 1);
    assert_int_equal(jint(s.doc, "totals.archives.members"), 0);
    scanned_free(&s);
    tc_free(&t);
}

static void test_fake_compressed(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *junk = tu_random_bytes(4096, 22);
    struct buf b = {0};
    buf_put(&b, "\x1f\x8b\x08\xe0", 4);
    buf_put(&b, junk, 4096);
    tu_write(t.root, "k.gz", b.p, b.len);
    b.len = 0;
    buf_put(&b, "BZh9", 4);
    buf_put(&b, junk, 4096);
    tu_write(t.root, "l.bz2", b.p, b.len);
    free(b.p);
    struct lst l = {""};
    lst_add(&l, "not there", 9);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    print_locs(s.doc, "skips");
    print_message("  archives opened: %lld, members %lld\n",
                  (long long)jint(s.doc, "totals.archives.opened"),
                  (long long)jint(s.doc, "totals.archives.members"));
    /* BUG (src/container/archive.c new_reader/open_nested): for DP_ARCHIVE_COMPRESSED the raw
     * format is enabled whether or not a decompression filter took the input; when the filter
     * refuses it (here: a gzip header with reserved flags set, "BZh9" without a block magic),
     * libarchive's raw format reads the file unchanged as member "data", which sniffs as
     * compressed again and is opened again, 8 times over: skips
     * ["k.gz","data","data","data","data","data","data","data","data"] "archive-depth",
     * 8 archives "opened", and at every level the whole member held in memory (next test).
     * Expected: no member at all (at most an "archive-corrupt" skip for the file). */
    const json_t *sk = json_object_get(s.doc, "skips");
    for (size_t i = 0; i < json_array_size(sk); i++) {
        const json_t *e = json_array_get(sk, i);
        assert_string_equal(json_string_value(json_object_get(e, "reason")), "archive-corrupt");
        assert_int_equal(json_array_size(json_object_get(e, "location")), 1);
    }
    assert_int_equal(jint(s.doc, "totals.archives.members"), 0);
    scanned_free(&s);
    free(junk);
    tc_free(&t);
}

/* The same over 30 MiB: memory must stay bounded (the nested copies above are 8 x 30 MiB). */
static void test_fake_compressed_memory(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    size_t n = 30 * MIB;
    uint8_t *p = tu_random_bytes(n, 23);
    memcpy(p, "\x1f\x8b\x08\xe0", 4);
    tu_write(t.root, "big.gz", p, n);
    free(p);
    struct lst l = {""};
    lst_add(&l, "not there", 9);
    tu_write(t.dir, "list.txt", l.t, strlen(l.t));
    char *lp = tu_path(t.dir, "list.txt"), *op = tu_path(t.dir, "r.json");
    char *argv[] = {(char *)DP_TEST_BIN, (char *)"scan", (char *)"--hashes", lp, (char *)"-o",
                    op, (char *)"--jobs", (char *)"1", t.root, NULL};
    double secs;
    long rss;
    assert_int_equal(run_measured(argv, &secs, &rss), 0);
    json_t *doc = tu_load_json(op);
    print_locs(doc, "skips");
    print_message("  30 MiB fake gzip: %.2f s, peak RSS %ld KiB, %lld bytes expanded\n", secs, rss,
                  (long long)jint(doc, "totals.archives.bytes_expanded"));
    assert_true(secs < 20.0);
    /* BUG: see test_fake_compressed - every nesting level holds another copy */
    assert_true(rss < 200 * 1024);
    json_decref(doc);
    free(lp);
    free(op);
    tc_free(&t);
}

/* A visitor that only counts, for many mutated archives through dp_archive_scan. */
struct counter {
    uint64_t begins, ends, bytes, skips;
    int depth_open;
};

static void *c_begin(void *ctx, void *parent, const struct dp_member_info *m)
{
    struct counter *c = ctx;
    (void)parent;
    assert_true(m->depth >= 1 && m->depth <= DP_ARCHIVE_MAX_DEPTH_DEFAULT + 1);
    assert_true(m->name != NULL && strlen(m->name) == m->name_len);
    c->begins++;
    c->depth_open++;
    return c;
}

static void c_data(void *ctx, void *sink, const uint8_t *buf, size_t len)
{
    struct counter *c = ctx;
    (void)sink;
    (void)buf;
    c->bytes += len;
}

static enum dp_status c_end(void *ctx, void *sink, bool ok, const char *detail)
{
    struct counter *c = ctx;
    (void)sink;
    (void)ok;
    (void)detail;
    c->ends++;
    c->depth_open--;
    return DP_OK;
}

static void c_skip(void *ctx, void *parent, const struct dp_member_info *m,
                   enum dp_member_skip r, const char *detail)
{
    struct counter *c = ctx;
    (void)parent;
    (void)m;
    assert_true((unsigned)r < DP_MEMBER_SKIP_COUNT);
    assert_non_null(detail);
    c->skips++;
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Real archives of every kind, mutated (bytes flipped, cut, ranges zeroed) and read through
 * dp_archive_scan: always DP_OK, every begin ended, no crash (ASan and UBSan run this too). */
static void test_mutants(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *a = tu_random_bytes(3000, 18);
    uint8_t text[6000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (uint8_t)("the quick brown fox "[i % 20]);
    size_t inner_n;
    const struct ment im[] = {{.name = "in.txt", .data = text, .len = sizeof(text)}};
    uint8_t *inner = build(ZIP, NOF, NULL, im, 1, &inner_n);
    const struct ment m[] = {{.name = "a.bin", .data = a, .len = 3000},
                             {.name = "t.txt", .data = text, .len = sizeof(text)},
                             {.name = "l", .hardlink = "a.bin"},
                             {.name = "n.zip", .data = inner, .len = inner_n}};
    static const struct {
        enum fmt f;
        enum flt x;
        size_t n;
    } kinds[] = {{ZIP, NOF, 4}, {PAX, GZ, 4}, {USTAR, BZ2, 4}, {GNUTAR, XZ, 4},
                 {PAX, ZST, 4}, {SEVENZ, NOF, 2}, {CPIO, NOF, 4}, {ISO, NOF, 2},
                 {RAW, GZ, 1}};
    char *path = tu_path(dir, "m");
    int total = 0;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        const struct ment *mm = kinds[k].f == SEVENZ || kinds[k].f == ISO ? m + 1 : m;
        size_t n;
        uint8_t *p = build(kinds[k].f, kinds[k].x, NULL, mm, kinds[k].n, &n);
        uint8_t *q = malloc(n);
        assert_non_null(q);
        for (int it = 0; it < 150; it++) {
            memcpy(q, p, n);
            size_t len = n;
            int ops = 1 + (int)(next_rand() % 4);
            for (int o = 0; o < ops; o++) {
                size_t at = (size_t)(next_rand() % len);
                switch (next_rand() % 4) {
                case 0: q[at] ^= (uint8_t)(1u << (next_rand() % 8)); break;
                case 1: q[at] = (uint8_t)next_rand(); break;
                case 2: memset(q + at, next_rand() % 2 ? 0xff : 0, (len - at) < 8 ? len - at : 8);
                        break;
                default: len = at > 64 ? at : len; break;
                }
            }
            int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
            assert_true(fd >= 0);
            assert_int_equal(write(fd, q, len), (ssize_t)len);
            enum dp_archive_kind kind = dp_archive_sniff(q, len);
            if (kind != DP_ARCHIVE_NONE) {
                struct counter c = {0};
                const struct dp_archive_visitor v = {c_begin, c_data, c_end, c_skip, &c};
                struct dp_archive_limits lim = {.max_bytes = 64 * MIB};
                struct dp_archive_stats st = {0};
                struct dp_error e = {0};
                assert_int_equal(dp_archive_scan(fd, len, kind, &lim, &v, &st, &e), DP_OK);
                assert_int_equal(c.begins, c.ends);
                assert_int_equal(c.depth_open, 0);
                assert_true(c.bytes <= st.bytes); /* counted, then maybe stopped by a limit */
                total++;
            }
            close(fd);
        }
        free(q);
        free(p);
    }
    print_message("  %d mutated archives read\n", total);
    assert_true(total > 500);
    free(path);
    free(inner);
    free(a);
    tu_rm_rf(dir);
    free(dir);
}

/* Encrypted members: recorded as such without a password; found with the right one. */
static void test_encrypted(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *victim = tu_random_bytes(6000, 19), *other = tu_random_bytes(800, 20);
    const struct ment m[] = {{.name = "secret.jpg", .data = victim, .len = 6000},
                             {.name = "readme.txt", .data = other, .len = 800}};
    put_archive(t.root, "enc.zip", ZIP, NOF, "correct horse", m, 2);
    struct lst l = {""};
    lst_add(&l, victim, 6000);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    want_counts(s.doc, 0, 2);
    want_skip(s.doc, LOC("enc.zip", "secret.jpg"), "archive-encrypted");
    want_skip(s.doc, LOC("enc.zip", "readme.txt"), "archive-encrypted");
    assert_int_equal(jint(s.doc, "totals.skipped_by_reason.archive-encrypted"), 2);
    assert_false(json_is_true(tu_jget(s.doc, "scope.archives.passwords")));
    scanned_free(&s);

    /* the right password (among others) */
    const char *pw = "wrong one\ncorrect horse\n";
    tu_write(t.dir, "pw.txt", pw, strlen(pw));
    char *pwp = tu_path(t.dir, "pw.txt");
    json_t *doc = scan_cli(t.dir, t.root, &l, ARGS("--archive-password-file", pwp));
    want_counts(doc, 1, 0);
    want_finding(doc, LOC("enc.zip", "secret.jpg"));
    assert_true(json_is_true(tu_jget(doc, "scope.archives.passwords")));
    assert_int_equal(jint(doc, "totals.archives.members"), 2);
    json_decref(doc);

    /* only wrong ones: still "encrypted", once per member, nothing found */
    const char *bad = "wrong one\nhorse correct\n";
    tu_write(t.dir, "pw.txt", bad, strlen(bad));
    doc = scan_cli(t.dir, t.root, &l, ARGS("--archive-password-file", pwp));
    want_skip(doc, LOC("enc.zip", "secret.jpg"), "archive-encrypted");
    want_skip(doc, LOC("enc.zip", "readme.txt"), "archive-encrypted");
    /* BUG (src/container/archive.c walk_archive + src/scan/members.c end): a wrong password
     * makes the member's data break off, so end() records an "archive-corrupt" skip for it and
     * walk_archive then records "archive-encrypted" for the same member: two skips, one of
     * them false. Expected: one "archive-encrypted" skip per member. */
    want_counts(doc, 0, 2);
    json_decref(doc);
    free(pwp);
    free(victim);
    free(other);
    tc_free(&t);
}

/* Names that are paths elsewhere: reported as stored, byte for byte; nothing is created. */
static void test_hostile_names(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    char absdir[64], abs[96], esc[64], esc2[64];
    snprintf(absdir, sizeof(absdir), "/tmp/deprive-archive-abs-%ld", (long)getpid());
    snprintf(abs, sizeof(abs), "%s/evil.jpg", absdir);
    snprintf(esc, sizeof(esc), "../../escape-%ld.jpg", (long)getpid());
    snprintf(esc2, sizeof(esc2), "./../x/../../up-%ld.jpg", (long)getpid());
    const char *bad = "bad\xff\xfe.jpg", *nl = "new\nline.jpg";
    uint8_t *victim = tu_random_bytes(5000, 21);
    const struct ment m[] = {{.name = esc, .data = victim, .len = 5000},
                             {.name = abs, .data = victim, .len = 5000},
                             {.name = bad, .data = victim, .len = 5000},
                             {.name = nl, .data = victim, .len = 5000},
                             {.name = esc2, .data = victim, .len = 5000}};
    put_archive(t.root, "names.tar", USTAR, NOF, NULL, m, 5);
    const struct ment zm[] = {{.name = esc, .data = victim, .len = 5000},
                              {.name = nl, .data = victim, .len = 5000}};
    put_archive(t.root, "names.zip", ZIP, NOF, NULL, zm, 2);
    struct lst l = {""};
    lst_add(&l, victim, 5000);
    char *before = tu_fingerprint(t.root);
    struct scanned s;
    scan_in(&s, t.root, &l, NULL);
    want_counts(s.doc, 7, 0);
    /* every name exactly as stored */
    const char *tar_names[] = {esc, abs, bad, nl, esc2};
    for (size_t i = 0; i < 5; i++) {
        bool seen = false;
        for (size_t k = 0; k < s.r->finding_count; k++) {
            const struct dp_finding *f = &s.r->findings[k];
            seen |= strcmp(f->path, "names.tar") == 0 && f->member_depth == 1 &&
                    f->member_lens[0] == strlen(tar_names[i]) &&
                    memcmp(f->members[0], tar_names[i], f->member_lens[0]) == 0;
        }
        if (!seen)
            fail_msg("no finding for tar member %zu", i);
    }
    want_finding(s.doc, LOC("names.tar", nl));
    want_finding(s.doc, LOC("names.tar", abs));
    want_finding(s.doc, LOC("names.tar", esc));
    want_finding(s.doc, LOC("names.zip", esc));
    want_finding(s.doc, LOC("names.zip", nl));
    /* the name that is not UTF-8 goes into the report as bytes (base64), not as a string */
    size_t bad_json = 0;
    const json_t *fs = json_object_get(s.doc, "findings");
    for (size_t i = 0; i < json_array_size(fs); i++) {
        const json_t *e = json_array_get(json_object_get(json_array_get(fs, i), "location"), 1);
        if (json_is_object(e)) {
            char *b = NULL;
            size_t bl = 0;
            assert_true(dp_json_bytes_get(e, &b, &bl));
            assert_int_equal(bl, strlen(bad));
            assert_memory_equal(b, bad, bl);
            free(b);
            bad_json++;
        }
    }
    assert_int_equal(bad_json, 1);
    scanned_free(&s);
    json_t *doc = scan_cli(t.dir, t.root, &l, NULL);
    want_counts(doc, 7, 0);
    json_decref(doc);
    /* the summary for people: every name escaped, no raw control or invalid byte */
    char *lp = tu_path(t.dir, "list.txt");
    struct tu_run run;
    tu_deprive(&run, NULL, "scan", "--hashes", lp, t.root, NULL);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "archives: 2 opened"));
    assert_null(strstr(run.out, "new\nline"));
    assert_null(strchr(run.out, '\xff'));
    assert_null(strchr(run.out, '\033'));
    tu_run_free(&run);
    free(lp);
    /* nothing was written anywhere: not in the case directory, not where the names point */
    char *after = tu_fingerprint(t.root);
    assert_string_equal(before, after);
    size_t nent = 0;
    DIR *dd = opendir(t.dir);
    assert_non_null(dd);
    for (struct dirent *de; (de = readdir(dd)) != NULL;)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            assert_true(strcmp(de->d_name, "root") == 0 || strcmp(de->d_name, "list.txt") == 0 ||
                        strcmp(de->d_name, "report.json") == 0);
            nent++;
        }
    closedir(dd);
    assert_int_equal(nent, 3);
    struct stat st;
    assert_int_equal(stat(absdir, &st), -1);
    char *dcopy = strdup(t.dir);
    const char *parent = dirname(dcopy);
    char probe[512];
    const char *where[] = {parent, ".", "..", "../..", t.root};
    for (size_t i = 0; i < 5; i++) {
        snprintf(probe, sizeof(probe), "%s/escape-%ld.jpg", where[i], (long)getpid());
        assert_int_equal(stat(probe, &st), -1);
        snprintf(probe, sizeof(probe), "%s/up-%ld.jpg", where[i], (long)getpid());
        assert_int_equal(stat(probe, &st), -1);
    }
    free(dcopy);
    free(before);
    free(after);
    free(victim);
    tc_free(&t);
}

/* --archive-max-members, --archive-max-bytes, --no-archives through the CLI. */
static void test_limits_cli(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    uint8_t *d[10];
    char names[10][16];
    struct ment m[10];
    for (int i = 0; i < 10; i++) {
        d[i] = tu_random_bytes(1000, 30 + (uint32_t)i);
        snprintf(names[i], sizeof(names[i]), "m%02d.bin", i);
        m[i] = (struct ment){.name = names[i], .data = d[i], .len = 1000};
    }
    put_archive(t.root, "ten.zip", ZIP, NOF, NULL, m, 10);
    struct lst l = {""};
    lst_add(&l, d[0], 1000);
    lst_add(&l, d[9], 1000);

    json_t *doc = scan_cli(t.dir, t.root, &l, NULL);
    want_counts(doc, 2, 0);
    want_finding(doc, LOC("ten.zip", "m00.bin"));
    want_finding(doc, LOC("ten.zip", "m09.bin"));
    assert_int_equal(jint(doc, "totals.archives.members"), 10);
    json_decref(doc);

    doc = scan_cli(t.dir, t.root, &l, ARGS("--archive-max-members", "3"));
    want_counts(doc, 1, 1);
    want_finding(doc, LOC("ten.zip", "m00.bin"));
    want_skip(doc, LOC("ten.zip"), "archive-max-members");
    assert_int_equal(jint(doc, "totals.archives.members"), 3);
    assert_int_equal(jint(doc, "totals.skipped_by_reason.archive-max-members"), 1);
    assert_int_equal(jint(doc, "scope.archives.max_members"), 3);
    json_decref(doc);

    doc = scan_cli(t.dir, t.root, &l, ARGS("--archive-max-bytes", "2K"));
    want_counts(doc, 1, 1);
    want_finding(doc, LOC("ten.zip", "m00.bin"));
    want_skip(doc, LOC("ten.zip", "m02.bin"), "archive-max-bytes");
    assert_int_equal(jint(doc, "totals.archives.members"), 3);
    assert_int_equal(jint(doc, "totals.archives.bytes_expanded"), 3000);
    assert_int_equal(jint(doc, "scope.archives.max_bytes"), 2048);
    json_decref(doc);

    doc = scan_cli(t.dir, t.root, &l, ARGS("--no-archives"));
    want_counts(doc, 0, 0);
    assert_false(json_is_true(tu_jget(doc, "scope.archives.used")));
    assert_true(json_is_null(tu_jget(doc, "totals.archives")));
    assert_null(tu_jget(doc, "totals.skipped_by_reason.archive-corrupt"));
    json_decref(doc);

    /* the archive's own digest is checked with or without --no-archives */
    size_t zl;
    char *zp = tu_path(t.root, "ten.zip");
    char *z = tu_read(zp, &zl);
    lst_add(&l, z, zl);
    doc = scan_cli(t.dir, t.root, &l, ARGS("--no-archives"));
    want_counts(doc, 1, 0);
    want_finding(doc, LOC("ten.zip"));
    json_decref(doc);
    free(z);
    free(zp);
    for (int i = 0; i < 10; i++)
        free(d[i]);
    tc_free(&t);
}

/* ---- the rewrite primitive ---- */

/* A removal of chain[0..depth) whose content is data (all three digests). */
struct rm1 {
    char *chain[4];
    size_t lens[4];
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    struct dp_archive_removal r;
};

static void rm_init(struct rm1 *x, const char *const *chain, const void *data, size_t len)
{
    memset(x, 0, sizeof(*x));
    unsigned d = 0;
    for (; chain[d] != NULL; d++) {
        x->chain[d] = (char *)chain[d];
        x->lens[d] = strlen(chain[d]);
    }
    struct dp_digest *g = NULL;
    assert_int_equal(dp_digest_new(&g, NULL), DP_OK);
    assert_int_equal(dp_digest_begin(g, DP_DIGEST_ALL, NULL), DP_OK);
    dp_digest_update(g, data, len);
    dp_digest_end(g, x->dg);
    dp_digest_free(g);
    x->r = (struct dp_archive_removal){.chain = x->chain, .lens = x->lens, .depth = d,
                                       .digest_mask = DP_DIGEST_ALL,
                                       .digests = (const uint8_t(*)[DP_DIGEST_MAX])x->dg};
}

/* Rewrite dir/in without rm[0..n) into dir/out; the status, and *res. */
static enum dp_status rewrite_file(const char *dir, const uint8_t *in, size_t in_len,
                                   struct dp_archive_removal *rm, size_t n, bool keep,
                                   struct dp_archive_rewrite_result *res, struct dp_error *e)
{
    tu_write(dir, "in", in, in_len);
    char *ip = tu_path(dir, "in"), *op = tu_path(dir, "out");
    int ifd = open(ip, O_RDONLY), ofd = open(op, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(ifd >= 0 && ofd >= 0);
    enum dp_status st = dp_archive_rewrite(ifd, ofd, rm, n, keep, res, e);
    close(ifd);
    close(ofd);
    free(ip);
    free(op);
    return st;
}

static enum dp_status verify_out(const char *dir, const struct dp_archive_rewrite_result *res,
                                 struct dp_error *e)
{
    char *op = tu_path(dir, "out");
    int fd = open(op, O_RDONLY);
    assert_true(fd >= 0);
    enum dp_status st = dp_archive_verify(fd, res, e);
    close(fd);
    free(op);
    return st;
}

/* orig without the entries at skip[] (indexes, ascending, -1 ended) == now, in order. */
static void same_but(const struct mlist *orig, const struct mlist *now, const int *skip)
{
    size_t j = 0;
    for (size_t i = 0; i < orig->n; i++) {
        if (*skip >= 0 && (size_t)*skip == i) {
            skip++;
            continue;
        }
        assert_true(j < now->n);
        same_member(&orig->e[i], &now->e[j++], true);
    }
    assert_int_equal(j, now->n);
}

struct wcase {
    const char *what;
    enum fmt f;
    enum flt x;
    enum dp_archive_kind kind;
    const char *compression;
};

static void test_rewrite_formats(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *a = tu_random_bytes(3000, 40), *v = tu_random_bytes(12000, 41),
            *b = tu_random_bytes(70000, 42), *c = tu_random_bytes(10, 43);
    const struct ment m[] = {
        {.name = "a.txt", .data = a, .len = 3000, .mode = 0644, .mtime = T0},
        {.name = "dir/victim.jpg", .data = v, .len = 12000, .mode = 0600, .mtime = T0 + 2},
        {.name = "b.bin", .data = b, .len = 70000, .mode = 0755, .mtime = T0 + 4},
        {.name = "c.txt", .data = c, .len = 10, .mode = 0640, .mtime = T0 + 6},
        {.name = "empty", .data = NULL, .len = 0, .mode = 0444, .mtime = T0 + 8},
        {.name = "sub/", .dir = true, .mode = 0750, .mtime = T0 + 10},
        {.name = "sym", .symlink = "a.txt", .mode = 0777, .mtime = T0 + 12},
    };
    static const struct wcase cases[] = {
        {"zip", ZIP, NOF, DP_ARCHIVE_ZIP, ""},
        {"stored zip", ZIP_STORE, NOF, DP_ARCHIVE_ZIP, ""},
        {"pax tar", PAX, NOF, DP_ARCHIVE_TAR, ""},
        {"ustar tar", USTAR, NOF, DP_ARCHIVE_TAR, ""},
        {"gnu tar", GNUTAR, NOF, DP_ARCHIVE_TAR, ""},
        {"tar.gz", PAX, GZ, DP_ARCHIVE_TAR, "gzip"},
        {"tar.bz2", USTAR, BZ2, DP_ARCHIVE_TAR, "bzip2"},
        {"tar.xz", PAX, XZ, DP_ARCHIVE_TAR, "xz"},
        {"tar.zst", PAX, ZST, DP_ARCHIVE_TAR, "zstd"},
        {"cpio", CPIO, NOF, DP_ARCHIVE_CPIO, ""},
        {"cpio.gz", CPIO, GZ, DP_ARCHIVE_CPIO, "gzip"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        print_message("  rewrite %s\n", cases[k].what);
        size_t n;
        uint8_t *p = build(cases[k].f, cases[k].x, NULL, m, 7, &n);
        struct rm1 r;
        rm_init(&r, LOC("dir/victim.jpg"), v, 12000);
        struct dp_archive_rewrite_result res;
        struct dp_error e = {0};
        enum dp_status st = rewrite_file(dir, p, n, &r.r, 1, true, &res, &e);
        if (st != DP_OK)
            fail_msg("%s: rewrite: %s", cases[k].what, e.msg);
        assert_true(r.r.found);
        assert_false(r.r.mismatch);
        assert_int_equal(r.r.content_len, 12000);
        assert_memory_equal(r.r.content, v, 12000);
        free(r.r.content);
        print_message("    changes: %s\n", res.changes);
        assert_int_equal(res.kept, 6);
        assert_int_equal(res.removed, 1);
        assert_int_equal(res.kind, cases[k].kind);
        assert_string_equal(res.compression, cases[k].compression);
        if ((st = verify_out(dir, &res, &e)) != DP_OK)
            fail_msg("%s: verify: %s", cases[k].what, e.msg);
        struct mlist orig, now;
        list_mem(p, n, &orig, NULL, NULL);
        char *op = tu_path(dir, "out");
        list_file(op, &now);
        free(op);
        assert_int_equal(orig.n, 7);
        same_but(&orig, &now, (const int[]){1, -1});
        assert_string_equal(now.e[4].name, "sub/");
        assert_int_equal(now.e[4].mode & AE_IFMT, AE_IFDIR);
        assert_string_equal(now.e[5].symlink, "a.txt");
        assert_int_equal(now.e[5].mode & AE_IFMT, AE_IFLNK);
        /* same format family and compression */
        assert_int_equal(now.format & ARCHIVE_FORMAT_BASE_MASK,
                         orig.format & ARCHIVE_FORMAT_BASE_MASK);
        assert_int_equal(now.filter, orig.filter);
        free(p);
    }
    free(a);
    free(v);
    free(b);
    free(c);
    tu_rm_rf(dir);
    free(dir);
}

/* A member of a zip inside a tar.gz: the inner zip rewritten, the outer keeps the rest. */
static void test_rewrite_nested(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *x = tu_random_bytes(2000, 50), *v = tu_random_bytes(9000, 51),
            *y = tu_random_bytes(3000, 52), *a = tu_random_bytes(4000, 53),
            *b = tu_random_bytes(500, 54);
    const struct ment im[] = {{.name = "x.txt", .data = x, .len = 2000, .mtime = T0 + 10},
                              {.name = "victim.jpg", .data = v, .len = 9000},
                              {.name = "y.txt", .data = y, .len = 3000, .mode = 0600}};
    size_t in_n, out_n;
    uint8_t *inner = build(ZIP, NOF, NULL, im, 3, &in_n);
    const struct ment om[] = {{.name = "a.txt", .data = a, .len = 4000},
                              {.name = "doc.zip", .data = inner, .len = in_n, .mode = 0640,
                               .mtime = T0 + 20},
                              {.name = "b.txt", .data = b, .len = 500}};
    uint8_t *outer = build(PAX, GZ, NULL, om, 3, &out_n);
    struct rm1 r;
    rm_init(&r, LOC("doc.zip", "victim.jpg"), v, 9000);
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};
    if (rewrite_file(dir, outer, out_n, &r.r, 1, false, &res, &e) != DP_OK)
        fail_msg("rewrite: %s", e.msg);
    assert_true(r.r.found);
    assert_null(r.r.content);
    assert_int_equal(res.removed, 1);
    assert_int_equal(res.kind, DP_ARCHIVE_TAR);
    assert_string_equal(res.compression, "gzip");
    if (verify_out(dir, &res, &e) != DP_OK)
        fail_msg("verify: %s", e.msg);
    /* the outer: every member kept as it was, doc.zip with new content */
    struct mlist o1, o2, i1, i2;
    list_mem(outer, out_n, &o1, NULL, NULL);
    char *op = tu_path(dir, "out");
    size_t nl;
    char *nb = tu_read(op, &nl);
    size_t doc_n = 0;
    uint8_t *doc = list_mem((const uint8_t *)nb, nl, &o2, "doc.zip", &doc_n);
    assert_non_null(doc);
    assert_int_equal(o2.n, 3);
    same_member(&o1.e[0], &o2.e[0], true);
    same_member(&o1.e[1], &o2.e[1], false);
    same_member(&o1.e[2], &o2.e[2], true);
    assert_int_equal(o2.e[1].size, (int64_t)doc_n);
    /* the inner: the victim gone, the others as they were */
    list_mem(inner, in_n, &i1, NULL, NULL);
    list_mem(doc, doc_n, &i2, NULL, NULL);
    same_but(&i1, &i2, (const int[]){1, -1});
    assert_int_equal(i2.format & ARCHIVE_FORMAT_BASE_MASK, ARCHIVE_FORMAT_ZIP);
    /* res.kept: deprive/archive.h says "members kept, all levels" (3 + 2); the rewrite
     * counts the top level only, which dp_archive_verify compares with the read-back count */
    assert_int_equal(res.kept, 3);
    free(doc);
    free(nb);

    /* removals at both levels at once, the removed bytes kept for a re-check */
    struct rm1 r2[3];
    rm_init(&r2[0], LOC("doc.zip", "victim.jpg"), v, 9000);
    rm_init(&r2[1], LOC("b.txt"), b, 500);
    rm_init(&r2[2], LOC("doc.zip", "x.txt"), x, 2000);
    struct dp_archive_removal rr[3] = {r2[0].r, r2[1].r, r2[2].r};
    if (rewrite_file(dir, outer, out_n, rr, 3, true, &res, &e) != DP_OK)
        fail_msg("rewrite of three: %s", e.msg);
    assert_int_equal(res.removed, 3);
    assert_int_equal(res.kept, 2);
    for (int i = 0; i < 3; i++)
        assert_true(rr[i].found);
    assert_int_equal(rr[0].content_len, 9000);
    assert_memory_equal(rr[0].content, v, 9000);
    assert_int_equal(rr[1].content_len, 500);
    assert_memory_equal(rr[1].content, b, 500);
    assert_int_equal(rr[2].content_len, 2000);
    assert_memory_equal(rr[2].content, x, 2000);
    for (int i = 0; i < 3; i++)
        free(rr[i].content);
    if (verify_out(dir, &res, &e) != DP_OK)
        fail_msg("verify of three: %s", e.msg);
    nb = tu_read(op, &nl);
    doc = list_mem((const uint8_t *)nb, nl, &o2, "doc.zip", &doc_n);
    assert_non_null(doc);
    assert_int_equal(o2.n, 2);
    same_member(&o1.e[0], &o2.e[0], true);  /* a.txt */
    same_member(&o1.e[1], &o2.e[1], false); /* doc.zip, rewritten */
    list_mem(doc, doc_n, &i2, NULL, NULL);
    same_but(&i1, &i2, (const int[]){0, 1, -1});
    free(doc);
    free(nb);
    free(op);
    free(inner);
    free(outer);
    free(x);
    free(v);
    free(y);
    free(a);
    free(b);
    tu_rm_rf(dir);
    free(dir);
}

/* ---- zip entries by their local headers that the central directory does not list ----
 *
 * libarchive reads a zip file by its central directory; a streaming reader (bsdtar reading a
 * pipe) by its local headers. An entry only the second finds is recorded as not examined, and
 * a rewrite, which would drop it, is refused. */

/* a[0..an) then b[0..bn), as cat writes them (heap, *n bytes). */
static uint8_t *cat2(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, size_t *n)
{
    uint8_t *p = malloc(an + bn);
    assert_non_null(p);
    memcpy(p, a, an);
    memcpy(p + an, b, bn);
    *n = an + bn;
    return p;
}

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

static void wr16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, v & 0xffff);
    wr16(p + 2, v >> 16);
}

#define EOCD_LEN 22

/* The length of the central directory record at c. */
static size_t central_len(const uint8_t *c)
{
    assert_int_equal(rd32(c), 0x02014b50);
    return 46 + rd16(c + 28) + rd16(c + 30) + rd16(c + 32);
}

/* The zip p[0..*n) (an end record without comment, no zip64) without its central directory's
 * k-th record: that entry's local header and data stay, listed nowhere. */
static void drop_central(uint8_t *p, size_t *n, int k)
{
    assert_true(*n >= EOCD_LEN);
    uint8_t *end = p + *n - EOCD_LEN;
    assert_int_equal(rd32(end), 0x06054b50);
    uint32_t cd_size = rd32(end + 12), cd_off = rd32(end + 16);
    uint8_t *c = p + cd_off;
    while (k-- > 0)
        c += central_len(c);
    size_t rec = central_len(c);
    memmove(c, c + rec, *n - (size_t)(c - p) - rec);
    *n -= rec;
    end = p + *n - EOCD_LEN;
    wr16(end + 8, rd16(end + 8) - 1);
    wr16(end + 10, rd16(end + 10) - 1);
    wr32(end + 12, cd_size - (uint32_t)rec);
}

/* The offset of the k-th (0-based) occurrence of sig[0..4) in p[0..n). */
static size_t nth_sig(const uint8_t *p, size_t n, const char *sig, int k)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(p + i, sig, 4) == 0 && k-- == 0)
            return i;
    fail_msg("no occurrence %d of the signature", k);
    return 0;
}

/* The zip p[0..*n) (no comment, no zip64) with its first data descriptor's signature taken out
 * and the offsets after it moved: an unsigned descriptor, as some writers make them. */
static void unsign_first_descriptor(uint8_t *p, size_t *n)
{
    size_t d = nth_sig(p, *n, "PK\x07\x08", 0);
    memmove(p + d, p + d + 4, *n - d - 4);
    *n -= 4;
    uint8_t *end = p + *n - EOCD_LEN;
    uint32_t cd_off = rd32(end + 16) - 4, count = rd16(end + 10);
    wr32(end + 16, cd_off);
    uint8_t *c = p + cd_off;
    for (uint32_t i = 0; i < count; c += central_len(c), i++)
        if (rd32(c + 42) > d)
            wr32(c + 42, rd32(c + 42) - 4);
}

/* The unlisted-entries skip at loc, its detail starting with count ("1 entry", "at least"). */
static void want_unlisted(const json_t *doc, const char *const *loc, const char *count,
                          const char *then)
{
    want_skip(doc, loc, "archive-corrupt");
    const json_t *sk = at_loc(doc, "skips", loc);
    const char *d = json_string_value(json_object_get(sk, "detail"));
    if (strncmp(d, count, strlen(count)) != 0 || strstr(d, then) == NULL)
        fail_msg("%s: the skip says \"%s\", want \"%s ...%s\"", loc[0], d, count, then);
    print_message("  %s: %s\n", loc[0], d);
}

/* The finding at loc is of an entry the zip's central directory does not list: read by its
 * local header at offset, given the index after the listed entries. */
static void want_hidden_found(const json_t *doc, const char *const *loc, long long offset,
                              long long index)
{
    const json_t *f = want_finding(doc, loc);
    if (!json_is_true(tu_jget(f, "member.unlisted")) ||
        jint(f, "member.local_header_offset") != offset || jint(f, "member.index") != index)
        fail_msg("%s: member %s; want unlisted, local_header_offset %lld, index %lld", loc[0],
                 tu_dumps(json_object_get(f, "member")), offset, index);
}

/* The zips of one case: hidden entries in front (cat), an orphan local entry, a lower bound;
 * and zips with nothing hidden. */
struct unlisted {
    uint8_t *victim, *hidden, *lawful;
    uint8_t *front, *orphan, *plain, *stored, *z64, *early;
    size_t front_n, orphan_n, plain_n, stored_n, z64_n, early_n;
};

static void unlisted_init(struct unlisted *u)
{
    u->victim = tu_random_bytes(20000, 70);
    u->hidden = tu_random_bytes(9000, 71);
    u->lawful = tu_random_bytes(3000, 72);
    const struct ment hm[] = {{.name = "hidden.jpg", .data = u->hidden, .len = 9000}};
    const struct ment vm[] = {{.name = "victim.jpg", .data = u->victim, .len = 20000}};
    const struct ment nm[] = {{.name = "d", .dir = true},
                              {.name = "a.txt", .data = u->lawful, .len = 3000},
                              {.name = "victim.jpg", .data = u->victim, .len = 20000},
                              {.name = "empty", .data = "", .len = 0}};
    size_t yn, xn;
    /* one deflated entry in front of one: as many hidden as listed. libarchive's writer
     * streams a deflated entry (sizes in a data descriptor after the data) */
    uint8_t *y = build(ZIP, NOF, NULL, hm, 1, &yn), *x = build(ZIP, NOF, NULL, vm, 1, &xn);
    u->front = cat2(y, yn, x, xn, &u->front_n);
    const struct ment om[] = {hm[0], nm[1], vm[0]};
    u->orphan = build(ZIP_STORE, NOF, NULL, om, 3, &u->orphan_n);
    drop_central(u->orphan, &u->orphan_n, 0);
    u->plain = build(ZIP, NOF, NULL, nm, 4, &u->plain_n);
    u->stored = build(ZIP_STORE, NOF, NULL, nm, 4, &u->stored_n);
    u->z64 = build(ZIP64, NOF, NULL, nm, 4, &u->z64_n);
    free(y);
    /* a stored entry in front whose zip's end record is damaged (a comment length past the
     * file's end): the walk stops there, having met 1 local header, no more than libarchive
     * listed - the directory's offsets, all at local headers, still show it hidden */
    y = build(ZIP_STORE, NOF, NULL, hm, 1, &yn);
    y[yn - 2] = y[yn - 1] = 0xff;
    u->early = cat2(y, yn, x, xn, &u->early_n);
    free(y);
    free(x);
}

static void unlisted_free(struct unlisted *u)
{
    free(u->victim);
    free(u->hidden);
    free(u->lawful);
    free(u->front);
    free(u->orphan);
    free(u->plain);
    free(u->stored);
    free(u->z64);
    free(u->early);
}

/* root/name: a deflated zip of m[0..nm) whose last data descriptor's signature is damaged,
 * followed by the zip x. */
static void put_damaged_front(const char *root, const char *name, const struct ment *m,
                              size_t nm, const uint8_t *x, size_t xn)
{
    size_t yn, n;
    uint8_t *y = build(ZIP, NOF, NULL, m, nm, &yn);
    y[nth_sig(y, yn, "PK\x07\x08", (int)nm - 1)] ^= 0xff;
    uint8_t *c = cat2(y, yn, x, xn, &n);
    tu_write(root, name, c, n);
    free(y);
    free(c);
}

/* Hidden entries read by their local headers and reported as unlisted, in a zip file and in
 * a zip inside a tar (and the one whose end only decompressing tells); where the walk of the
 * records stopped early, that recorded; the listed ones examined as before; zips hiding
 * nothing (deflated and streamed, stored, zip64, empty, a zip stored in a zip, a
 * self-extractor's layout) record nothing. */
static void test_zip_unlisted(void **state)
{
    (void)state;
    struct tcase t;
    tc_new(&t);
    struct unlisted u;
    unlisted_init(&u);
    tu_write(t.root, "front.zip", u.front, u.front_n);
    tu_write(t.root, "orphan.zip", u.orphan, u.orphan_n);
    tu_write(t.root, "early.zip", u.early, u.early_n);
    /* two stored entries in front of one (sizes in the local headers) */
    const struct ment two[] = {{.name = "hidden.jpg", .data = u.hidden, .len = 9000},
                               {.name = "h2.txt", .data = u.lawful, .len = 3000}};
    const struct ment vm[] = {{.name = "victim.jpg", .data = u.victim, .len = 20000}};
    size_t yn, xn, n;
    uint8_t *y = build(ZIP_STORE, NOF, NULL, two, 2, &yn), *x = build(ZIP, NOF, NULL, vm, 1, &xn);
    uint8_t *c = cat2(y, yn, x, xn, &n);
    tu_write(t.root, "front2.zip", c, n);
    free(y);
    free(c);
    /* two deflated in front, the second's data descriptor damaged: its end cannot be told
     * without decompressing, and the walk stops there; then the same with the hidden copy
     * itself that entry */
    put_damaged_front(t.root, "damaged.zip", two, 2, x, xn);
    put_damaged_front(t.root, "opened.zip", two, 1, x, xn);
    free(x);
    /* a streamed entry with an unsigned data descriptor, listed (stepped over by the size the
     * central directory gives it), then one the directory does not list */
    const struct ment three[] = {two[1], two[0], vm[0]};
    y = build(ZIP, NOF, NULL, three, 3, &yn);
    unsign_first_descriptor(y, &yn);
    drop_central(y, &yn, 1);
    tu_write(t.root, "unsigned.zip", y, yn);
    const uint8_t *y2 = tu_own(y);
    size_t y2n = yn;
    const struct ment tm[] = {{.name = "front.zip", .data = u.front, .len = u.front_n}};
    put_archive(t.root, "outer.tar", PAX, NOF, NULL, tm, 1);
    /* nothing hidden */
    tu_write(t.root, "plain.zip", u.plain, u.plain_n);
    tu_write(t.root, "stored.zip", u.stored, u.stored_n);
    tu_write(t.root, "zip64.zip", u.z64, u.z64_n);
    put_archive(t.root, "empty.zip", ZIP, NOF, NULL, NULL, 0);
    const struct ment im[] = {{.name = "inner.zip", .data = u.stored, .len = u.stored_n}};
    put_archive(t.root, "inzip.zip", ZIP_STORE, NOF, NULL, im, 1);
    uint8_t *sfx = calloc(1, 4096 + u.plain_n); /* a stub, then the zip */
    assert_non_null(sfx);
    memcpy(sfx, "MZ", 2);
    memcpy(sfx + 4096, u.plain, u.plain_n);
    tu_write(t.root, "setup.exe", sfx, 4096 + u.plain_n);
    free(sfx);

    struct lst l = {""};
    lst_add(&l, u.victim, 20000);
    lst_add(&l, u.hidden, 9000);
    json_t *doc = scan_cli(t.dir, t.root, &l, NULL);
    /* the hidden entries: read by their local headers, found, said to be unlisted */
    want_hidden_found(doc, LOC("front.zip", "hidden.jpg"), 0, 1);
    want_hidden_found(doc, LOC("front2.zip", "hidden.jpg"), 0, 1);
    want_hidden_found(doc, LOC("orphan.zip", "hidden.jpg"), 0, 2);
    want_hidden_found(doc, LOC("damaged.zip", "hidden.jpg"), 0, 1);
    want_hidden_found(doc, LOC("outer.tar", "front.zip", "hidden.jpg"), 0, 1);
    want_hidden_found(doc, LOC("unsigned.zip", "hidden.jpg"),
                      (long long)nth_sig(y2, y2n, "PK\x03\x04", 1), 2);
    /* the entry whose end the walk could not tell (its descriptor damaged) is read by
     * decompressing it; what follows it is not walked, and that is said */
    want_hidden_found(doc, LOC("opened.zip", "hidden.jpg"), 0, 1);
    /* the walk stopped early (a damaged end record), having counted no more entries than
     * libarchive listed: the directory's offsets show the one it met hidden */
    want_hidden_found(doc, LOC("early.zip", "hidden.jpg"), 0, 1);
    want_unlisted(doc, LOC("early.zip"), "the zip's records could not be walked past offset ",
                  "if any, are not examined");
    want_finding(doc, LOC("early.zip", "victim.jpg"));
    want_unlisted(doc, LOC("damaged.zip"), "the zip's records could not be walked past the "
                  "entry at offset", "entries after it that the central directory does not "
                  "list, if any, are not examined");
    want_unlisted(doc, LOC("opened.zip"), "the zip's records could not be walked past the "
                  "entry at offset 0", "if any, are not examined");
    /* what the central directories list is examined as before */
    want_finding(doc, LOC("front.zip", "victim.jpg"));
    want_finding(doc, LOC("front2.zip", "victim.jpg"));
    want_finding(doc, LOC("orphan.zip", "victim.jpg"));
    want_finding(doc, LOC("damaged.zip", "victim.jpg"));
    want_finding(doc, LOC("opened.zip", "victim.jpg"));
    want_finding(doc, LOC("outer.tar", "front.zip", "victim.jpg"));
    want_finding(doc, LOC("plain.zip", "victim.jpg"));
    want_finding(doc, LOC("stored.zip", "victim.jpg"));
    want_finding(doc, LOC("zip64.zip", "victim.jpg"));
    want_finding(doc, LOC("inzip.zip", "inner.zip", "victim.jpg"));
    want_finding(doc, LOC("unsigned.zip", "victim.jpg"));
    want_counts(doc, 20, 3);
    assert_int_equal(jint(doc, "totals.skipped_by_reason.archive-corrupt"), 3);
    /* setup.exe is not a zip by its first bytes: not opened (the others, inner.zip and the
     * front.zip in outer.tar are) */
    assert_int_equal(jint(doc, "totals.archives.opened"), 15);
    json_decref(doc);
    unlisted_free(&u);
    tc_free(&t);
}

/* A removal from a zip hiding entries: refused before anything is written, for the file and
 * for a zip inside a tar; a zip hiding nothing is rewritten as before. */
static void test_rewrite_unlisted(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct unlisted u;
    unlisted_init(&u);
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};
    struct rm1 r;
    char *op = tu_path(dir, "out");
    struct stat sb;
    struct zbytes {
        const uint8_t *p;
        size_t n;
    };
    const struct zbytes hiding[] = {{u.front, u.front_n}, {u.orphan, u.orphan_n},
                                    {u.early, u.early_n}};
    for (size_t i = 0; i < 3; i++) {
        rm_init(&r, LOC("victim.jpg"), u.victim, 20000);
        e = (struct dp_error){0};
        assert_int_equal(rewrite_file(dir, hiding[i].p, hiding[i].n, &r.r, 1, true, &res, &e),
                         DP_ERR_UNSUPPORTED);
        print_message("  refused: %s\n", e.msg);
        assert_string_equal(e.msg, i == 2 ? "the zip holds at least 1 entry by its local header "
                                            "that its central directory does not list; "
                                            "rewriting it would drop that entry"
                                          : "the zip holds 1 entry by its local header that its "
                                            "central directory does not list; rewriting it "
                                            "would drop that entry");
        assert_false(r.r.found);
        assert_null(r.r.content);
        assert_int_equal(stat(op, &sb), 0);
        assert_int_equal(sb.st_size, 0); /* not a byte written */
    }
    const struct ment tm[] = {{.name = "a.txt", .data = u.lawful, .len = 3000},
                              {.name = "front.zip", .data = u.front, .len = u.front_n}};
    size_t tn;
    uint8_t *tar = build(PAX, GZ, NULL, tm, 2, &tn);
    rm_init(&r, LOC("front.zip", "victim.jpg"), u.victim, 20000);
    e = (struct dp_error){0};
    assert_int_equal(rewrite_file(dir, tar, tn, &r.r, 1, false, &res, &e), DP_ERR_UNSUPPORTED);
    print_message("  refused: %s\n", e.msg);
    assert_non_null(strstr(e.msg, "the nested zip 'front.zip' holds 1 entry by its local "
                                  "header"));
    assert_false(r.r.found);
    /* nothing hidden: rewritten and read back as before */
    const struct zbytes fine[] = {{u.plain, u.plain_n}, {u.stored, u.stored_n}, {u.z64, u.z64_n}};
    for (size_t i = 0; i < 3; i++) {
        rm_init(&r, LOC("victim.jpg"), u.victim, 20000);
        e = (struct dp_error){0};
        if (rewrite_file(dir, fine[i].p, fine[i].n, &r.r, 1, false, &res, &e) != DP_OK)
            fail_msg("zip %zu hiding nothing: %s", i, e.msg);
        assert_true(r.r.found);
        assert_int_equal(res.kept, 3);
        assert_int_equal(verify_out(dir, &res, &e), DP_OK);
    }
    free(tar);
    free(op);
    unlisted_free(&u);
    tu_rm_rf(dir);
    free(dir);
}

/* What the skips said (the last one), for the hostile walks below. */
static void last_skip(void *ctx, void *parent, const struct dp_member_info *m,
                      enum dp_member_skip r, const char *detail)
{
    (void)parent;
    (void)m;
    assert_true((unsigned)r < DP_MEMBER_SKIP_COUNT);
    snprintf(ctx, 256, "%s", detail);
}

static void *nop_begin(void *ctx, void *parent, const struct dp_member_info *m)
{
    (void)parent;
    (void)m;
    return ctx;
}

static void nop_data(void *ctx, void *sink, const uint8_t *buf, size_t len)
{
    (void)ctx, (void)sink, (void)buf, (void)len;
}

static enum dp_status nop_end(void *ctx, void *sink, bool ok, const char *detail)
{
    (void)ctx, (void)sink, (void)ok, (void)detail;
    return DP_OK;
}

/* Scan p[0..n) as the file dir/h (limits lim): DP_OK always; the last skip's detail. */
static void scan_hostile(const char *dir, const uint8_t *p, size_t n,
                         const struct dp_archive_limits *lim, char detail[256])
{
    char *path = tu_path(dir, "h");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    detail[0] = '\0';
    enum dp_archive_kind kind = dp_archive_sniff(p, n);
    const struct dp_archive_visitor v = {nop_begin, nop_data, nop_end, last_skip, detail};
    struct dp_error e = {0};
    if (kind != DP_ARCHIVE_NONE)
        assert_int_equal(dp_archive_scan(fd, n, kind, lim, &v, NULL, &e), DP_OK);
    close(fd);
    free(path);
}

/* The local headers made hostile: sizes, name and extra lengths, flags, zip64 fields and
 * data descriptors changed at random, then scanned and rewritten: no crash, no hang (the walk
 * is bounded by the file and the member limit; each record moves it on), nothing read outside
 * the file (ASan). And records that barely move: 30-byte empty entries by the thousand stop at
 * the member limit, 22-byte end records walk through. */
static void test_zip_local_hostile(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct unlisted u;
    unlisted_init(&u);
    const struct {
        const uint8_t *p;
        size_t n;
    } seeds[] = {{u.front, u.front_n}, {u.orphan, u.orphan_n}, {u.stored, u.stored_n},
                 {u.z64, u.z64_n}};
    struct dp_archive_limits lim = {.max_bytes = 64 * MIB};
    char detail[256];
    double t0 = now_s();
    int runs = 0;
    for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
        size_t n = seeds[k].n, heads = 0, at[16];
        for (size_t i = 0; i + 4 <= n && heads < 16; i++)
            if (memcmp(seeds[k].p + i, "PK\x03\x04", 4) == 0)
                at[heads++] = i;
        assert_true(heads > 0);
        uint8_t *q = malloc(n);
        assert_non_null(q);
        for (int it = 0; it < 100; it++, runs++) {
            memcpy(q, seeds[k].p, n);
            size_t len = n;
            for (int o = 1 + (int)(next_rand() % 3); o > 0; o--) {
                uint8_t *h = q + at[next_rand() % heads];
                uint32_t v = (uint32_t)next_rand();
                uint32_t big = next_rand() % 2 ? 0xffffffffu : v;
                size_t pos = (size_t)(next_rand() % (len - 12)); /* room for 12 bytes */
                switch (next_rand() % 9) {
                case 0: wr32(h + 18, big); break;                  /* compressed size */
                case 1: wr32(h + 22, big); break;                  /* uncompressed size */
                case 2: wr16(h + 26, next_rand() % 2 ? 0xffff : v); break; /* name length */
                case 3: wr16(h + 28, next_rand() % 2 ? 0xffff : v); break; /* extra length */
                case 4: h[6] ^= 0x08; wr32(h + 18, 0); break;      /* streamed, size unknown */
                case 5: /* a zip64 field of any length where the name was */
                    wr16(h + 30, 1);
                    wr16(h + 32, v);
                    wr16(h + 28, next_rand() % 40);
                    break;
                case 6: memcpy(q + pos, "PK\x07\x08\0\0\0\0\0\0\0\0", 12); break;
                case 7: memcpy(q + pos, next_rand() % 2 ? "PK\x03\x04" : "PK\x05\x06", 4); break;
                default: len = pos > 64 ? pos : len; break;
                }
            }
            scan_hostile(dir, q, len, &lim, detail);
            /* the rewrite: refused, changed or written, never more */
            struct rm1 r;
            rm_init(&r, LOC("victim.jpg"), u.victim, 20000);
            struct dp_archive_rewrite_result res;
            struct dp_error e = {0};
            enum dp_status st = rewrite_file(dir, q, len, &r.r, 1, false, &res, &e);
            assert_true(st == DP_OK || st == DP_ERR_UNSUPPORTED || st == DP_ERR_CHANGED ||
                        st == DP_ERR_PARSE || st == DP_ERR_VERIFY);
        }
        free(q);
    }
    print_message("  %d mutated zips scanned and rewritten in %.1f s\n", runs, now_s() - t0);

    /* 5000 empty stored entries of 30 bytes in front of a zip: the walk stops at the member
     * limit, and says so */
    size_t n = 5000 * 30 + u.plain_n;
    uint8_t *p = calloc(1, n);
    assert_non_null(p);
    for (size_t i = 0; i < 5000; i++) {
        memcpy(p + i * 30, "PK\x03\x04\x0a", 5);
        wr32(p + i * 30 + 18, 0);
    }
    memcpy(p + 5000 * 30, u.plain, u.plain_n);
    lim.max_members = 100;
    scan_hostile(dir, p, n, &lim, detail);
    print_message("  5000 empty entries in front, 100 members at most: %s\n", detail);
    assert_string_equal(detail, "more than 100 members (--archive-max-members)");
    free(p);
    /* 5000 end records (empty zips) in front of one: walked through, nothing hidden */
    n = 5000 * EOCD_LEN + u.plain_n;
    p = calloc(1, n);
    assert_non_null(p);
    for (size_t i = 0; i < 5000; i++)
        memcpy(p + i * EOCD_LEN, "PK\x05\x06", 4);
    memcpy(p + 5000 * EOCD_LEN, u.plain, u.plain_n);
    lim.max_members = 0;
    scan_hostile(dir, p, n, &lim, detail);
    assert_string_equal(detail, "");
    free(p);
    unlisted_free(&u);
    tu_rm_rf(dir);
    free(dir);
}

/* Refusals: a wrong digest, a member not there; nothing is kept. */
static void test_rewrite_refusals(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *a = tu_random_bytes(2500, 60), *v = tu_random_bytes(8000, 61);
    const struct ment m[] = {{.name = "a.txt", .data = a, .len = 2500},
                             {.name = "victim.jpg", .data = v, .len = 8000}};
    size_t n;
    uint8_t *p = build(ZIP, NOF, NULL, m, 2, &n);
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};

    /* the content is not what the plan says: nothing kept */
    struct rm1 r;
    rm_init(&r, LOC("victim.jpg"), a, 2500);
    assert_int_equal(rewrite_file(dir, p, n, &r.r, 1, true, &res, &e), DP_ERR_CHANGED);
    assert_false(r.r.found);
    assert_true(r.r.mismatch);
    assert_null(r.r.content);
    assert_int_equal(r.r.content_len, 0);
    assert_true(e.msg[0] != '\0');
    /* one digest of three wrong is enough */
    rm_init(&r, LOC("victim.jpg"), v, 8000);
    r.dg[DP_ALGO_MD5][3] ^= 1;
    assert_int_equal(rewrite_file(dir, p, n, &r.r, 1, true, &res, &e), DP_ERR_CHANGED);
    assert_true(r.r.mismatch);
    assert_null(r.r.content);

    /* a member that is not there, at the top or below a member that is not an archive */
    rm_init(&r, LOC("nothere.jpg"), v, 8000);
    e = (struct dp_error){0};
    assert_int_equal(rewrite_file(dir, p, n, &r.r, 1, false, &res, &e), DP_ERR_CHANGED);
    assert_false(r.r.found);
    assert_false(r.r.mismatch);
    /* the right one and a missing one together: refused as a whole */
    struct rm1 two[2];
    rm_init(&two[0], LOC("victim.jpg"), v, 8000);
    rm_init(&two[1], LOC("gone.jpg"), v, 8000);
    struct dp_archive_removal rr[2] = {two[0].r, two[1].r};
    assert_int_equal(rewrite_file(dir, p, n, rr, 2, true, &res, &e), DP_ERR_CHANGED);
    assert_null(rr[0].content);
    free(p);
    free(a);
    free(v);
    tu_rm_rf(dir);
    free(dir);
}

/* A chain through a member that is not (or no longer) an archive: not found, so changed. */
static void test_rewrite_missing_nested(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *a = tu_random_bytes(2500, 60), *v = tu_random_bytes(8000, 61);
    const struct ment m[] = {{.name = "a.txt", .data = a, .len = 2500},
                             {.name = "victim.jpg", .data = v, .len = 8000}};
    size_t n;
    uint8_t *p = build(PAX, GZ, NULL, m, 2, &n);
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};
    struct rm1 r;
    rm_init(&r, LOC("a.txt", "victim.jpg"), v, 8000);
    enum dp_status st = rewrite_file(dir, p, n, &r.r, 1, false, &res, &e);
    assert_false(r.r.found);
    /* BUG (minor; src/container/rewrite.c copy_level -> copy_nested -> rewrite_nested): a
     * removal whose chain passes through a member that is not an archive (the plan says
     * a.txt held victim.jpg: a.txt changed since the scan) returns DP_ERR_PARSE ("a nested
     * archive: Unrecognized archive format"), which the wipe reports as "archive not
     * rewritten" (failed) rather than "changed since scan" (skipped). deprive/archive.h: "A
     * member not found: DP_ERR_CHANGED". */
    if (st != DP_ERR_CHANGED)
        fail_msg("wanted DP_ERR_CHANGED (%d), got %d: %s", DP_ERR_CHANGED, st, e.msg);
    free(p);
    free(a);
    free(v);
    tu_rm_rf(dir);
    free(dir);
}

/* 7z, ISO 9660, RAR: no writer. */
static void test_rewrite_7z(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *a = tu_random_bytes(2500, 60), *v = tu_random_bytes(8000, 61);
    const struct ment m[] = {{.name = "a.txt", .data = a, .len = 2500},
                             {.name = "victim.jpg", .data = v, .len = 8000}};
    size_t n;
    uint8_t *p;
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};
    struct rm1 r;
    enum dp_status st;
    assert_false(dp_archive_writable(DP_ARCHIVE_7ZIP, NULL));
    assert_false(dp_archive_writable(DP_ARCHIVE_ISO9660, NULL));
    assert_false(dp_archive_writable(DP_ARCHIVE_RAR, NULL));
    assert_true(dp_archive_writable(DP_ARCHIVE_ZIP, NULL));
    assert_true(dp_archive_writable(DP_ARCHIVE_TAR, "zstd"));
    assert_true(dp_archive_writable(DP_ARCHIVE_CPIO, NULL));
    p = build(SEVENZ, NOF, NULL, m, 2, &n);
    rm_init(&r, LOC("victim.jpg"), v, 8000);
    e = (struct dp_error){0};
    st = rewrite_file(dir, p, n, &r.r, 1, false, &res, &e);
    /* BUG (src/container/rewrite.c reader()/dp_archive_rewrite): deprive/archive.h promises
     * DP_ERR_UNSUPPORTED for an archive that is not writable, but the rewrite's reader knows
     * only zip, tar and cpio, so archive_read_open_fd fails on a 7z ("Unrecognized archive
     * format") and DP_ERR_PARSE comes back, as for a damaged archive. */
    if (st != DP_ERR_UNSUPPORTED)
        fail_msg("7z: wanted DP_ERR_UNSUPPORTED (%d), got %d: %s", DP_ERR_UNSUPPORTED, st,
                 e.msg);
    assert_false(r.r.found);
    free(p);
    free(a);
    free(v);
    tu_rm_rf(dir);
    free(dir);
}

/* Hard links to the removed member go with it; links to kept members stay links. */
static void test_rewrite_hardlinks(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *a = tu_random_bytes(1500, 70), *v = tu_random_bytes(6000, 71),
            *b = tu_random_bytes(900, 72);
    const struct ment m[] = {{.name = "a.txt", .data = a, .len = 1500},
                             {.name = "victim.jpg", .data = v, .len = 6000},
                             {.name = "link.jpg", .hardlink = "victim.jpg"},
                             {.name = "b.txt", .data = b, .len = 900},
                             {.name = "keep.lnk", .hardlink = "a.txt"}};
    static const enum fmt fmts[] = {USTAR, PAX, GNUTAR};
    for (size_t k = 0; k < 3; k++) {
        size_t n;
        uint8_t *p = build(fmts[k], NOF, NULL, m, 5, &n);
        struct rm1 r;
        rm_init(&r, LOC("victim.jpg"), v, 6000);
        struct dp_archive_rewrite_result res;
        struct dp_error e = {0};
        if (rewrite_file(dir, p, n, &r.r, 1, false, &res, &e) != DP_OK)
            fail_msg("format %zu: rewrite: %s", k, e.msg);
        print_message("  hard links, format %zu: removed %llu kept %llu\n", k,
                      (unsigned long long)res.removed, (unsigned long long)res.kept);
        assert_int_equal(res.removed, 2);
        assert_int_equal(res.kept, 3);
        if (verify_out(dir, &res, &e) != DP_OK)
            fail_msg("format %zu: verify: %s", k, e.msg);
        struct mlist orig, now;
        list_mem(p, n, &orig, NULL, NULL);
        char *op = tu_path(dir, "out");
        list_file(op, &now);
        free(op);
        assert_int_equal(now.n, 3);
        same_but(&orig, &now, (const int[]){1, 2, -1});
        assert_string_equal(now.e[2].link, "a.txt");
        free(p);
    }
    free(a);
    free(v);
    free(b);
    tu_rm_rf(dir);
    free(dir);
}

static const char odf_mime[] = "application/vnd.oasis.opendocument.text";

static uint8_t *odf(const uint8_t *v, size_t vn, size_t *n)
{
    static const char content[] = "<office:document-content>hello</office:document-content>";
    static const char manifest[] = "<manifest:manifest/>";
    const struct ment m[] = {
        {.name = "mimetype", .data = odf_mime, .len = sizeof(odf_mime) - 1, .store = true},
        {.name = "content.xml", .data = content, .len = sizeof(content) - 1},
        {.name = "Pictures/victim.jpg", .data = v, .len = vn},
        {.name = "META-INF/manifest.xml", .data = manifest, .len = sizeof(manifest) - 1}};
    uint8_t *p = build(ZIP, NOF, NULL, m, 4, n);
    /* as ODF needs: the first local header is "mimetype", stored */
    assert_memory_equal(p, "PK\x03\x04", 4);
    assert_int_equal(p[8] | p[9] << 8, 0);
    assert_memory_equal(p + 30, "mimetype", 8);
    return p;
}

/* ODF and EPUB: "mimetype" first and stored, before and after. */
static void test_rewrite_odf(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *v = tu_random_bytes(7000, 80);
    size_t n;
    uint8_t *p = odf(v, 7000, &n);
    struct rm1 r;
    rm_init(&r, LOC("Pictures/victim.jpg"), v, 7000);
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};
    /* BUG (src/container/rewrite.c copy_level, the `mimetype` branch): libarchive accepts
     * archive_write_set_format_option only before the writer is opened; called between
     * entries it fails with "INTERNAL ERROR: Function 'archive_write_set_format_option'
     * invoked with archive structure in state 'header'" and puts the writer in the FATAL
     * state, so every zip whose first member is "mimetype" (ODF, EPUB) fails to rewrite with
     * DP_ERR_IO. archive_write_zip_set_compression_store()/_deflate() are the calls that work
     * between entries (this test's builder uses them). */
    if (rewrite_file(dir, p, n, &r.r, 1, false, &res, &e) != DP_OK)
        fail_msg("rewrite: %s", e.msg);
    assert_int_equal(verify_out(dir, &res, &e), DP_OK);
    char *op = tu_path(dir, "out");
    size_t nl;
    char *nb = tu_read(op, &nl);
    const uint8_t *q = (const uint8_t *)nb;
    assert_memory_equal(q, "PK\x03\x04", 4);
    assert_int_equal(q[8] | q[9] << 8, 0); /* stored */
    assert_int_equal(q[26] | q[27] << 8, 8);
    assert_memory_equal(q + 30, "mimetype", 8);
    struct mlist o, w;
    list_mem(p, n, &o, NULL, NULL);
    list_mem(q, nl, &w, NULL, NULL);
    same_but(&o, &w, (const int[]){2, -1});
    free(nb);
    free(op);
    free(p);
    free(v);
    tu_rm_rf(dir);
    free(dir);
}

/* The same document inside a tar.gz. */
static void test_rewrite_odf_nested(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *v = tu_random_bytes(7000, 80);
    size_t n, nl;
    struct rm1 r;
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};
    struct mlist w;
    char *op = tu_path(dir, "out"), *nb;
    /* the same document inside a tar.gz: the nested zip rewritten, mimetype still stored */
    uint8_t *p = odf(v, 7000, &n);
    uint8_t *other = tu_random_bytes(1000, 81);
    const struct ment om[] = {{.name = "report.odt", .data = p, .len = n},
                              {.name = "other.txt", .data = other, .len = 1000}};
    size_t tn;
    uint8_t *t = build(PAX, GZ, NULL, om, 2, &tn);
    rm_init(&r, LOC("report.odt", "Pictures/victim.jpg"), v, 7000);
    if (rewrite_file(dir, t, tn, &r.r, 1, false, &res, &e) != DP_OK)
        fail_msg("nested rewrite: %s", e.msg);
    assert_int_equal(verify_out(dir, &res, &e), DP_OK);
    nb = tu_read(op, &nl);
    size_t dn = 0;
    uint8_t *d = list_mem((const uint8_t *)nb, nl, &w, "report.odt", &dn);
    assert_non_null(d);
    assert_memory_equal(d, "PK\x03\x04", 4);
    assert_memory_equal(d + 30, "mimetype", 8);
    struct mlist o;
    list_mem(p, n, &o, NULL, NULL);
    struct mlist dw;
    list_mem(d, dn, &dw, NULL, NULL);
    same_but(&o, &dw, (const int[]){2, -1});
    /* BUG (src/container/rewrite.c copy_level, the `mimetype` test): it asks
     * w->res->kind == DP_ARCHIVE_ZIP, the kind of the *top-level* archive, so inside a tar a
     * nested ODF/EPUB zip gets its "mimetype" deflated (method 8) and the document is no
     * longer a valid ODF/EPUB (deprive/archive.h: "'mimetype' first and stored ... is kept so").
     * Expected: method 0 (stored), as at the top level. */
    if ((d[8] | d[9] << 8) != 0)
        fail_msg("nested ODF: 'mimetype' written with compression method %d, wanted 0",
                 d[8] | d[9] << 8);
    free(d);
    free(nb);
    free(t);
    free(other);
    free(op);
    free(p);
    free(v);
    tu_rm_rf(dir);
    free(dir);
}

/* The only member removed: an empty archive that reads back as empty. */
static void test_rewrite_last_member(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *v = tu_random_bytes(5000, 90);
    const struct ment m[] = {{.name = "victim.jpg", .data = v, .len = 5000}};
    static const struct {
        const char *what;
        enum fmt f;
        enum flt x;
    } cases[] = {{"zip", ZIP, NOF}, {"ustar", USTAR, NOF}, {"tar.gz", PAX, GZ},
                 {"cpio", CPIO, NOF}};
    char failures[512] = "";
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t n;
        uint8_t *p = build(cases[k].f, cases[k].x, NULL, m, 1, &n);
        struct rm1 r;
        rm_init(&r, LOC("victim.jpg"), v, 5000);
        struct dp_archive_rewrite_result res;
        struct dp_error e = {0};
        enum dp_status st = rewrite_file(dir, p, n, &r.r, 1, false, &res, &e);
        if (st == DP_OK) {
            assert_int_equal(res.kept, 0);
            assert_int_equal(res.removed, 1);
            st = verify_out(dir, &res, &e);
        }
        if (st != DP_OK) {
            size_t u = strlen(failures);
            snprintf(failures + u, sizeof(failures) - u, " %s: %d %.80s;", cases[k].what,
                     st, e.msg);
        }
        free(p);
    }
    /* BUG if this fails (src/container/rewrite.c): an archive whose every member was removed
     * must still be a valid, empty archive of its kind that dp_archive_verify accepts. */
    if (failures[0] != '\0')
        fail_msg("removing the only member:%s", failures);
    free(v);
    tu_rm_rf(dir);
    free(dir);
}

/* One byte changed in a kept member after the rewrite: verify says so. */
static void test_rewrite_tampered(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    uint8_t *a = tu_random_bytes(3000, 95), *v = tu_random_bytes(4000, 96),
            *b = tu_random_bytes(2000, 97);
    const struct ment m[] = {{.name = "a.txt", .data = a, .len = 3000},
                             {.name = "victim.jpg", .data = v, .len = 4000},
                             {.name = "b.txt", .data = b, .len = 2000}};
    size_t n;
    uint8_t *p = build(USTAR, NOF, NULL, m, 3, &n);
    struct rm1 r;
    rm_init(&r, LOC("victim.jpg"), v, 4000);
    struct dp_archive_rewrite_result res;
    struct dp_error e = {0};
    assert_int_equal(rewrite_file(dir, p, n, &r.r, 1, false, &res, &e), DP_OK);
    assert_int_equal(verify_out(dir, &res, &e), DP_OK);
    char *op = tu_path(dir, "out");
    size_t nl;
    char *nb = tu_read(op, &nl);
    uint8_t *at = memmem(nb, nl, b + 100, 64); /* inside b.txt's data */
    assert_non_null(at);
    off_t off = (off_t)(at - (uint8_t *)nb);
    uint8_t byte = at[0] ^ 0x01;
    int fd = open(op, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &byte, 1, off), 1);
    close(fd);
    e = (struct dp_error){0};
    assert_int_equal(verify_out(dir, &res, &e), DP_ERR_VERIFY);
    assert_true(e.msg[0] != '\0');
    /* a kept member dropped (the output cut after a.txt) fails too */
    assert_int_equal(truncate(op, 512 + 3072), 0);
    assert_int_equal(verify_out(dir, &res, &e), DP_ERR_VERIFY);
    free(nb);
    free(op);
    free(p);
    free(a);
    free(v);
    free(b);
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zip_bomb),
        cmocka_unit_test(test_nested_bomb),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_nested_too_large),
        cmocka_unit_test(test_hardlink_scan),
        cmocka_unit_test(test_huge_claim_truncated),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_empty_compressed),
        cmocka_unit_test(test_audit_member_size),
        cmocka_unit_test(test_encrypted_zip_policy),
        cmocka_unit_test(test_member_of_whole_match),
        cmocka_unit_test(test_fake_compressed),
        cmocka_unit_test(test_fake_compressed_memory),
        cmocka_unit_test(test_mutants),
        cmocka_unit_test(test_encrypted),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_limits_cli),
        cmocka_unit_test(test_rewrite_formats),
        cmocka_unit_test(test_rewrite_nested),
        cmocka_unit_test(test_rewrite_refusals),
        cmocka_unit_test(test_rewrite_missing_nested),
        cmocka_unit_test(test_rewrite_7z),
        cmocka_unit_test(test_rewrite_hardlinks),
        cmocka_unit_test(test_rewrite_odf),
        cmocka_unit_test(test_rewrite_odf_nested),
        cmocka_unit_test(test_rewrite_last_member),
        cmocka_unit_test(test_rewrite_tampered),
        cmocka_unit_test(test_zip_unlisted),
        cmocka_unit_test(test_rewrite_unlisted),
        cmocka_unit_test(test_zip_local_hostile),
    };
    return cmocka_run_group_tests_name("archive", tests, NULL, NULL);
}
