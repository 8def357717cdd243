/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the read-only byte source (src/container/source.c, ewf.c). A raw image read
 * whole, at odd offsets and lengths and past its end; the cache dropped when asked (mincore
 * sees no page left); O_NOATIME. EWF sets made by ewfacquire (several segments) read back
 * byte for byte with their stored hashes and case headers; a missing or truncated segment, a
 * damaged header, a damaged chunk, a FIFO for a segment, a later segment given first: clear
 * errors, no hang. An empty file, a directory, a FIFO, a socket, a character device: refused.
 * Every source file keeps its bytes and mtime. A read-only loop device over the raw image
 * (root only) reads the same and says it is a block device. EWF cases are skipped without
 * ewfacquire (ewf-tools). */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "deprive/source.h"

struct fx {
    char *dir;
    char *loopdev; /* attached by the block-device case; detached in teardown */
    int holder;    /* the loop device held open (its page cache lives while it is open) */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tu_mkdtemp();
    f->holder = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->holder >= 0)
        close(f->holder);
    if (f->loopdev != NULL)
        tu_sh("losetup -d '%s'", f->loopdev);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f->loopdev);
    free(f);
    return 0;
}

/* ---- helpers ---- */

/* An image of n bytes: random, with runs of zeros and of a repeated pattern (so that a
 * compressing acquisition compresses some chunks and stores others). */
static unsigned char *make_image(size_t n, uint32_t seed)
{
    unsigned char *b = tu_random_bytes(n, seed);
    for (size_t at = 65536; at + 100000 < n; at += 700000) {
        memset(b + at, 0, 70000);
        for (size_t i = 0; i < 20000; i++)
            b[at + 80000 + i] = (unsigned char)("deprive"[i % 7]);
    }
    return b;
}

/* "sha256 mtime" of every file in dir (sorted), to compare before and after. */
static char *snapshot(const char *dir)
{
    char *fp = tu_fingerprint(dir);
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "cd '%s' && find . -type f -printf '%%p %%T@ %%s\\n' | sort", dir) >
                0);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    assert_int_equal(r.status, 0);
    char *out = NULL;
    assert_true(asprintf(&out, "%s\n%s", fp, r.out) > 0);
    tu_run_free(&r);
    free(cmd);
    free(fp);
    return out;
}

static void digest_hex(const char *algo, const void *b, size_t n, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(b, n, md, &len, EVP_get_digestbyname(algo), NULL), 1);
    for (unsigned i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static struct dp_source *open_ok(const char *path, unsigned flags)
{
    struct dp_source *s = NULL;
    struct dp_error err = {0};
    enum dp_status st = dp_source_open(&s, path, flags, &err);
    if (st != DP_OK)
        fail_msg("open '%s': %s", path, err.msg);
    assert_non_null(s);
    return s;
}

/* Open path expecting failure with code want and a message holding needle. */
static void open_fails(const char *path, enum dp_status want, const char *needle)
{
    struct dp_source *s = (struct dp_source *)1;
    struct dp_error err = {0};
    enum dp_status st = dp_source_open(&s, path, 0, &err);
    printf("source: '%s': %s (%s)\n", path, err.msg, dp_status_str(st));
    assert_null(s);
    assert_int_equal(st, want);
    assert_int_equal(err.code, want);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message for '%s' lacks '%s': %s", path, needle, err.msg);
}

/* The source reads back as img[0..n): whole in pieces of an odd size, then random reads at
 * odd offsets and lengths, then reads at and past the end. */
static void reads_back(struct dp_source *s, const unsigned char *img, size_t n, uint32_t seed)
{
    assert_int_equal(dp_source_info(s)->size, n);
    unsigned char *buf = malloc(n + 4096);
    assert_non_null(buf);
    struct dp_error err = {0};
    size_t got = 0, at = 0;
    while (at < n) {
        enum dp_status st = dp_source_read(s, at, buf + at, 65537, &got, &err);
        if (st != DP_OK)
            fail_msg("read at %zu: %s", at, err.msg);
        assert_true(got > 0);
        at += got;
    }
    assert_int_equal(at, n);
    assert_memory_equal(buf, img, n);
    srand(seed);
    for (int i = 0; i < 300; i++) {
        size_t off = ((size_t)rand() * 7919u + (size_t)rand()) % n;
        size_t len = 1 + (size_t)rand() % (i % 10 == 0 ? 300000 : 5000);
        assert_int_equal(dp_source_read(s, off, buf, len, &got, &err), DP_OK);
        size_t want = off + len <= n ? len : n - off;
        assert_int_equal(got, want);
        assert_memory_equal(buf, img + off, got);
    }
    /* the end: short, then nothing */
    assert_int_equal(dp_source_read(s, n - 10, buf, 4096, &got, &err), DP_OK);
    assert_int_equal(got, 10);
    assert_memory_equal(buf, img + n - 10, 10);
    assert_int_equal(dp_source_read(s, n, buf, 4096, &got, &err), DP_OK);
    assert_int_equal(got, 0);
    assert_int_equal(dp_source_read(s, n + 12345, buf, 4096, &got, &err), DP_OK);
    assert_int_equal(got, 0);
    assert_int_equal(dp_source_read(s, UINT64_MAX - 5, buf, 4096, &got, &err), DP_OK);
    assert_int_equal(got, 0);
    assert_int_equal(dp_source_read(s, 0, buf, 0, &got, &err), DP_OK);
    assert_int_equal(got, 0);
    free(buf);
}

/* Pages of the first size bytes of path (a file or a block device) in the page cache. */
static size_t resident_pages(const char *path, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    size_t ps = (size_t)sysconf(_SC_PAGESIZE), np = (size + ps - 1) / ps;
    void *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    unsigned char *vec = malloc(np);
    assert_non_null(vec);
    assert_int_equal(mincore(m, size, vec), 0);
    size_t r = 0;
    for (size_t i = 0; i < np; i++)
        r += vec[i] & 1;
    free(vec);
    munmap(m, size);
    close(fd);
    return r;
}

/* The EWF set dir/<base>.E01... of img made by ewfacquire (segments of seg_size bytes; 0: one
 * segment) with case fields; false when ewfacquire is missing. */
static bool acquire(const char *dir, const char *base, const char *raw, uint64_t seg_size)
{
    if (!tu_have("ewfacquire")) {
        printf("source: EWF cases skipped: no ewfacquire (package ewf-tools)\n");
        return false;
    }
    char seg[64] = "";
    if (seg_size != 0)
        snprintf(seg, sizeof(seg), "-S %llu", (unsigned long long)seg_size);
    assert_int_equal(tu_sh("cd '%s' && ewfacquire -u -q -t '%s' -C 'Case 2024/17' "
                           "-D 'USB stick, blue' -E 'EV-0042' -e 'J. Examiner' "
                           "-N 'seized at desk 3; sealed bag 88' -d sha1 -c fast %s '%s' "
                           "</dev/null >/dev/null",
                           dir, base, seg, raw),
                     0);
    return true;
}

/* make_image(n, seed) as dir/raw.img, acquired as the set dir/<base>.E01... (seg_size as for
 * acquire); the image's bytes (heap, caller frees). Skips the test without ewfacquire. */
static unsigned char *acquired_image(const struct fx *f, size_t n, uint32_t seed, const char *base,
                                     uint64_t seg_size)
{
    unsigned char *img = make_image(n, seed);
    tu_write(f->dir, "raw.img", img, n);
    if (!acquire(f->dir, base, "raw.img", seg_size)) {
        free(img);
        skip();
    }
    return img;
}

/* ---- cases ---- */

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(dp_source_kind_name(DP_SOURCE_IMAGE_FILE), "image-file");
    assert_string_equal(dp_source_kind_name(DP_SOURCE_BLOCK_DEVICE), "block-device");
    assert_string_equal(dp_source_kind_name(DP_SOURCE_EWF), "ewf");
    assert_null(dp_source_kind_name(DP_SOURCE_KIND_COUNT));
    for (int k = 0; k < DP_SOURCE_KIND_COUNT; k++)
        assert_non_null(dp_source_kind_name((enum dp_source_kind)k));
}

static void test_raw_image(void **state)
{
    struct fx *f = *state;
    const size_t n = (1u << 20) + 333; /* not a multiple of any sector size */
    unsigned char *img = make_image(n, 11);
    tu_write(f->dir, "disk.img", img, n);
    char *path = tu_path(f->dir, "disk.img");
    char *snap = snapshot(f->dir);
    /* the access time in the past (before mtime): relatime would move it on a plain read */
    struct timespec ts[2] = {{.tv_sec = time(NULL) - 86400 * 3}, {.tv_nsec = UTIME_OMIT}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);

    struct dp_source *s = open_ok(path, 0);
    const struct dp_source_info *in = dp_source_info(s);
    assert_int_equal(in->kind, DP_SOURCE_IMAGE_FILE);
    assert_int_equal(in->size, n);
    assert_int_equal(in->sector_size, 512);
    assert_int_equal(in->segments, 0);
    assert_string_equal(in->md5, "");
    assert_int_equal(dp_source_file_count(s), 1);
    assert_string_equal(dp_source_file(s, 0), path);
    reads_back(s, img, n, 1);
    assert_int_equal(dp_source_checksum_errors(s), 0);
    struct dp_error err = {0};
    assert_int_equal(dp_source_drop_cache(s, 0, 0, &err), DP_OK);
    assert_int_equal(dp_source_drop_cache(s, n + 1, 10, &err), DP_OK);
    dp_source_free(s);
    dp_source_free(NULL);

    struct stat after;
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(after.st_atim.tv_sec, before.st_atim.tv_sec); /* O_NOATIME */
    /* a plain read would have moved it: the check means something here */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char c;
    assert_int_equal(pread(fd, &c, 1, 0), 1);
    close(fd);
    assert_int_equal(stat(path, &after), 0);
    if (after.st_atim.tv_sec == before.st_atim.tv_sec)
        printf("source: atime does not move here (noatime mount?): O_NOATIME unproven\n");
    char *snap2 = snapshot(f->dir);
    assert_string_equal(snap, snap2);
    free(snap2), free(snap), free(path), free(img);
}

/* DP_SOURCE_DROP_CACHE: what was read leaves no page behind (mincore), and the bytes are the
 * same. The file is written in one call, so that the page cache holds it in large folios
 * (which the kernel drops only whole). */
static void test_drop_cache(void **state)
{
    struct fx *f = *state;
    const size_t n = 24u << 20;
    unsigned char *img = make_image(n, 12);
    tu_write(f->dir, "disk.img", img, n);
    char *path = tu_path(f->dir, "disk.img");
    assert_int_equal(tu_sh("sync '%s'", path), 0); /* clean pages: only those can be dropped */

    struct dp_source *s = open_ok(path, 0);
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    size_t got = 0;
    struct dp_error err = {0};
    assert_int_equal(dp_source_read(s, 0, buf, n, &got, &err), DP_OK);
    dp_source_free(s);
    size_t plain = resident_pages(path, n);
    printf("source: %zu pages cached after a plain read\n", plain);
    if (plain == 0)
        printf("source: a plain read leaves nothing cached here: the checks prove little\n");

    /* pieces of odd sizes at odd offsets, to the end */
    s = open_ok(path, DP_SOURCE_DROP_CACHE);
    assert_true(resident_pages(path, n) <= 2); /* dropped at open */
    for (size_t at = 0; at < n; at += got) {
        assert_int_equal(dp_source_read(s, at, buf + at, 300001, &got, &err), DP_OK);
        assert_true(got > 0);
    }
    assert_memory_equal(buf, img, n);
    size_t left = resident_pages(path, n);
    printf("source: %zu pages cached after reading with DP_SOURCE_DROP_CACHE\n", left);
    assert_true(left <= 2);
    /* stopping half-way: the stretch not yet dropped goes at free */
    assert_int_equal(dp_source_read(s, 1000, buf, 5u << 20, &got, &err), DP_OK);
    assert_int_equal(dp_source_read(s, 9u << 20, buf, 3u << 20, &got, &err), DP_OK);
    assert_int_equal(dp_source_read(s, 12u << 20, buf, 1u << 20, &got, &err), DP_OK);
    printf("source: %zu pages cached half-way\n", resident_pages(path, n));
    dp_source_free(s);
    assert_true(resident_pages(path, n) <= 2);
    /* the separate call: read without the flag, then drop a range, then the rest */
    s = open_ok(path, 0);
    assert_int_equal(dp_source_read(s, 0, buf, n, &got, &err), DP_OK);
    assert_int_equal(dp_source_drop_cache(s, 8u << 20, 8u << 20, &err), DP_OK);
    size_t mid = resident_pages(path, n);
    printf("source: %zu pages cached after dropping 8 of 24 MiB\n", mid);
    assert_true(mid <= plain && mid + 2048 >= plain); /* 8 MiB: 2048 pages of 4 KiB */
    assert_int_equal(dp_source_drop_cache(s, 0, 0, &err), DP_OK);
    assert_true(resident_pages(path, n) <= 2);
    dp_source_free(s);
    free(buf), free(path), free(img);
}

static void test_ewf_set(void **state)
{
    struct fx *f = *state;
    const size_t n = 7000 * 512; /* ewfacquire drops a tail shorter than a sector */
    unsigned char *img = acquired_image(f, n, 13, "ev", 1u << 20);
    char *e01 = tu_path(f->dir, "ev.E01");
    char *snap = snapshot(f->dir);
    unsigned nseg = 0;
    for (;; nseg++) {
        char rel[16];
        snprintf(rel, sizeof(rel), "ev.E%02u", nseg + 1);
        char *p = tu_path(f->dir, rel);
        bool there = access(p, F_OK) == 0;
        free(p);
        if (!there)
            break;
    }
    printf("source: ewfacquire made %u segments\n", nseg);
    assert_true(nseg >= 3);

    struct dp_source *s = open_ok(e01, 0);
    const struct dp_source_info *in = dp_source_info(s);
    assert_int_equal(in->kind, DP_SOURCE_EWF);
    assert_string_equal(dp_source_kind_name(in->kind), "ewf");
    assert_int_equal(in->size, n);
    assert_int_equal(in->sector_size, 512);
    assert_int_equal(in->segments, nseg);
    assert_int_equal(dp_source_file_count(s), nseg);
    assert_string_equal(dp_source_file(s, 0), e01);
    char *last = tu_path(f->dir, "ev.E03");
    assert_string_equal(dp_source_file(s, 2), last);
    free(last);
    char md5[33], sha1[41];
    digest_hex("MD5", img, n, md5);
    digest_hex("SHA1", img, n, sha1);
    assert_string_equal(in->md5, md5);
    assert_string_equal(in->sha1, sha1);
    assert_string_equal(in->case_number, "Case 2024/17");
    assert_string_equal(in->evidence_number, "EV-0042");
    assert_string_equal(in->examiner_name, "J. Examiner");
    assert_string_equal(in->description, "USB stick, blue");
    assert_string_equal(in->notes, "seized at desk 3; sealed bag 88");
    assert_string_equal(in->format, "encase6");
    assert_true(in->chunk_size >= 512);
    printf("source: acquired %s with %s (%s), chunk %u\n", in->acquiry_date, in->acquiry_software,
           in->acquiry_os, in->chunk_size);
    assert_int_equal(strlen(in->acquiry_date), 19);
    assert_true(in->acquiry_date[4] == '-' && in->acquiry_date[10] == 'T');
    assert_true(in->acquiry_software[0] != '\0');
    reads_back(s, img, n, 2);
    assert_int_equal(dp_source_checksum_errors(s), 0);
    struct dp_error err = {0};
    assert_int_equal(dp_source_drop_cache(s, 0, 0, &err), DP_OK); /* nothing to do */
    dp_source_free(s);

    /* a later segment given first */
    char *e02 = tu_path(f->dir, "ev.E02");
    open_fails(e02, DP_ERR_INVALID, "segment 2 of an EWF set");
    free(e02);

    char *snap2 = snapshot(f->dir);
    assert_string_equal(snap, snap2);
    free(snap2), free(snap), free(e01), free(img);
}

/* A one-segment set under a name libewf_glob does not know is found by its content. */
static void test_ewf_by_content(void **state)
{
    struct fx *f = *state;
    const size_t n = 300 * 512;
    unsigned char *img = acquired_image(f, n, 14, "one", 0);
    char *from = tu_path(f->dir, "one.E01"), *to = tu_path(f->dir, "evidence.bin");
    assert_int_equal(rename(from, to), 0);
    struct dp_source *s = open_ok(to, 0);
    assert_int_equal(dp_source_info(s)->kind, DP_SOURCE_EWF);
    assert_int_equal(dp_source_info(s)->segments, 1);
    assert_string_equal(dp_source_file(s, 0), to);
    reads_back(s, img, n, 3);
    dp_source_free(s);
    free(from), free(to), free(img);
}

/* A copy of the set dir/ev.E* in dir/<sub>, made by the caller's shell commands after. */
static char *copy_set(const char *dir, const char *sub)
{
    char *d = tu_path(dir, sub);
    assert_int_equal(tu_sh("mkdir '%s' && cp '%s'/ev.E* '%s'/", d, dir, d), 0);
    return d;
}

static void test_ewf_broken_sets(void **state)
{
    struct fx *f = *state;
    const size_t n = 7000 * 512;
    unsigned char *img = acquired_image(f, n, 15, "ev", 1u << 20);
    struct {
        const char *sub, *how;
        enum dp_status want;
        const char *needle;
    } cases[] = {
        {"no-middle", "rm ev.E02", DP_ERR_PARSE, "incomplete or damaged"},
        {"no-last", "rm ev.E04", DP_ERR_PARSE, "incomplete or damaged"},
        {"cut-last", "truncate -s $(($(stat -c %s ev.E04) / 2)) ev.E04", DP_ERR_PARSE,
         "incomplete or damaged"},
        {"cut-middle", "truncate -s $(($(stat -c %s ev.E02) / 2)) ev.E02", DP_ERR_PARSE,
         "incomplete or damaged"},
        {"cut-first", "truncate -s 60 ev.E01", DP_ERR_PARSE, "cannot open EWF set"},
        {"header", "head -c 300 /dev/urandom | dd of=ev.E01 bs=1 seek=13 conv=notrunc 2>/dev/null",
         DP_ERR_PARSE, "cannot open EWF set"},
        {"foreign", "head -c 100000 /dev/urandom > ev.E02", DP_ERR_PARSE,
         "is not an EWF segment file"},
        {"renumbered", "cp ev.E03 ev.E02", DP_ERR_PARSE, "says it is segment 3, not 2"},
        {"fifo", "rm ev.E02 && mkfifo ev.E02", DP_ERR_UNSUPPORTED, "not a regular file"},
        {"dir", "rm ev.E03 && mkdir ev.E03", DP_ERR_UNSUPPORTED, "not a regular file"},
        {"bare",
         "printf 'EVF\\011\\015\\012\\377\\000\\001\\001\\000\\000' > ev.E01 && "
         "head -c 200 /dev/urandom >> ev.E01 && rm ev.E0[2-9]",
         DP_ERR_PARSE, "EWF set"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *d = copy_set(f->dir, cases[i].sub);
        assert_int_equal(tu_sh("cd '%s' && %s", d, cases[i].how), 0);
        char *snap = snapshot(d);
        char *e01 = tu_path(d, "ev.E01");
        time_t t0 = time(NULL);
        open_fails(e01, cases[i].want, cases[i].needle);
        assert_true(time(NULL) - t0 < 10);
        char *snap2 = snapshot(d);
        assert_string_equal(snap, snap2);
        free(snap2), free(snap), free(e01), free(d);
    }
    free(img);
}

/* A chunk whose bytes changed: the set opens, the chunk's range reads as DP_ERR_VERIFY every
 * time (libewf reports it once), the rest reads clean. */
static void test_ewf_damaged_chunk(void **state)
{
    struct fx *f = *state;
    const size_t n = 7000 * 512;
    unsigned char *img = acquired_image(f, n, 16, "ev", 1u << 20);
    /* random media bytes (stored as they are: they do not compress) found in segment 2 */
    size_t segn = 0;
    char *e02 = tu_path(f->dir, "ev.E02");
    unsigned char *seg = (unsigned char *)tu_read(e02, &segn);
    assert_non_null(seg);
    size_t media_off = 0, file_off = 0;
    for (size_t m = 1300000; m < n - 64 && file_off == 0; m += 4096) {
        unsigned char *hit = memmem(seg, segn, img + m, 64);
        if (hit != NULL)
            media_off = m, file_off = (size_t)(hit - seg);
    }
    assert_true(file_off != 0);
    int fd = open(e02, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "damaged!", 8, (off_t)file_off + 20), 8);
    close(fd);

    char *e01 = tu_path(f->dir, "ev.E01");
    struct dp_source *s = open_ok(e01, 0);
    unsigned char *buf = malloc(n);
    assert_non_null(buf);
    struct dp_error err = {0};
    size_t got = 0;
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(dp_source_read(s, media_off, buf, 4096, &got, &err), DP_ERR_VERIFY);
        printf("source: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "checksum error in sectors"));
        assert_int_equal(got, 4096);
    }
    assert_int_equal(dp_source_checksum_errors(s), 1);
    /* away from the chunk: clean */
    assert_int_equal(dp_source_read(s, 0, buf, 65536, &got, &err), DP_OK);
    assert_memory_equal(buf, img, 65536);
    assert_int_equal(dp_source_read(s, n - 65536, buf, 65536, &got, &err), DP_OK);
    assert_memory_equal(buf, img + n - 65536, 65536);
    /* the whole media: flagged */
    assert_int_equal(dp_source_read(s, 0, buf, n, &got, &err), DP_ERR_VERIFY);
    assert_int_equal(got, n);
    dp_source_free(s);
    free(buf), free(e01), free(e02), free(seg), free(img);
}

static void test_refused(void **state)
{
    struct fx *f = *state;
    tu_write(f->dir, "empty.img", "", 0);
    tu_write(f->dir, "empty.E01", "", 0);
    tu_write(f->dir, "lef.L01", "LVF\t\r\n\xff\0\x01\x01\0\0\0", 13);
    char *p = tu_path(f->dir, "empty.img");
    open_fails(p, DP_ERR_INVALID, "is empty");
    free(p);
    p = tu_path(f->dir, "empty.E01");
    open_fails(p, DP_ERR_INVALID, "is empty");
    free(p);
    p = tu_path(f->dir, "lef.L01");
    open_fails(p, DP_ERR_UNSUPPORTED, "logical evidence file");
    free(p);
    open_fails(f->dir, DP_ERR_UNSUPPORTED, "is a directory");
    p = tu_path(f->dir, "fifo");
    assert_int_equal(mkfifo(p, 0600), 0);
    open_fails(p, DP_ERR_UNSUPPORTED, "is a FIFO");
    free(p);
    p = tu_path(f->dir, "sock");
    int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(sfd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    assert_true(strlen(p) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, p, strlen(p) + 1);
    assert_int_equal(bind(sfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    open_fails(p, DP_ERR_UNSUPPORTED, "is a socket");
    close(sfd);
    free(p);
    open_fails("/dev/null", DP_ERR_UNSUPPORTED, "is a character device");
    p = tu_path(f->dir, "absent.img");
    open_fails(p, DP_ERR_IO, "No such file");
    free(p);
    /* a few bytes that start like the signature are a (tiny) raw image */
    tu_write(f->dir, "short.img", "EVF\t\r", 5);
    p = tu_path(f->dir, "short.img");
    struct dp_source *s = open_ok(p, 0);
    assert_int_equal(dp_source_info(s)->kind, DP_SOURCE_IMAGE_FILE);
    assert_int_equal(dp_source_info(s)->size, 5);
    dp_source_free(s);
    free(p);
}

/* A read-only loop device over the raw image: the same bytes, a block device. */
static void test_block_device(void **state)
{
    struct fx *f = *state;
    if (!tu_can_loop("source: block device") || !tu_have("losetup"))
        skip();
    const size_t n = (2u << 20) + 3 * 512;
    unsigned char *img = make_image(n, 17);
    tu_write(f->dir, "disk.img", img, n);
    char *path = tu_path(f->dir, "disk.img");
    char *snap = snapshot(f->dir);
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "losetup -f -r --show '%s'", path) > 0);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    free(cmd);
    if (r.status != 0) {
        printf("source: block device: skipped: losetup failed: %s\n", r.err);
        tu_run_free(&r);
        free(snap), free(path), free(img);
        skip();
    }
    r.out[strcspn(r.out, "\n")] = '\0';
    f->loopdev = strdup(r.out); /* teardown detaches it, pass or fail */
    tu_run_free(&r);
    assert_non_null(f->loopdev);

    /* the kernel drops a block device's page cache when its last user closes it: held open
       here, as a mounted filesystem holds its device */
    f->holder = open(f->loopdev, O_RDONLY | O_CLOEXEC);
    assert_true(f->holder >= 0);
    for (unsigned flags = 0; flags <= DP_SOURCE_DROP_CACHE; flags += DP_SOURCE_DROP_CACHE) {
        struct dp_source *s = open_ok(f->loopdev, flags);
        const struct dp_source_info *in = dp_source_info(s);
        assert_int_equal(in->kind, DP_SOURCE_BLOCK_DEVICE);
        assert_string_equal(dp_source_kind_name(in->kind), "block-device");
        assert_int_equal(in->sector_size, 512);
        assert_int_equal(in->dev_major, 7); /* loop */
        assert_true(in->read_only_device);
        assert_false(in->is_partition);
        assert_string_equal(dp_source_file(s, 0), f->loopdev);
        printf("source: %s: %llu bytes, %u/%u, %llu:%llu, ro %d, rotational %d, removable %d, "
               "model '%s'\n",
               f->loopdev, (unsigned long long)in->size, in->sector_size, in->physical_sector_size,
               (unsigned long long)in->dev_major, (unsigned long long)in->dev_minor,
               in->read_only_device, in->rotational, in->removable, in->model);
        reads_back(s, img, n, 4 + flags);
        dp_source_free(s);
        /* the device's own page cache: kept after a plain read, dropped with the flag */
        size_t cached = resident_pages(f->loopdev, n);
        printf("source: %zu pages of %s cached after reading %s\n", cached, f->loopdev,
               flags ? "with DP_SOURCE_DROP_CACHE" : "plainly");
        if (flags)
            assert_true(cached <= 2);
        else
            assert_true(cached > 0);
        struct dp_error err = {0};
        s = open_ok(f->loopdev, 0);
        assert_int_equal(dp_source_drop_cache(s, 0, 0, &err), DP_OK);
        assert_true(resident_pages(f->loopdev, n) <= 2);
        dp_source_free(s);
    }
    close(f->holder);
    f->holder = -1;
    assert_int_equal(tu_sh("losetup -d '%s'", f->loopdev), 0);
    free(f->loopdev);
    f->loopdev = NULL;
    char *snap2 = snapshot(f->dir);
    assert_string_equal(snap, snap2);
    free(snap2), free(snap), free(path), free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test_setup_teardown(test_raw_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ewf_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ewf_by_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ewf_broken_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ewf_damaged_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_device, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
