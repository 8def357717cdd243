/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the scan pipeline - matches with every list line, the size filter, digests
 * computed only as needed, odd names through the report and back as a plan, files too large
 * to read (sparse beyond their filesystem, --max-file-size) skipped unread with a reason. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "deprive/cert.h"
#include "deprive/digest.h"
#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/scan.h"

static struct dp_hashset *set_of(const char *name, const char *text, const char *name2,
                                 const char *text2)
{
    struct dp_hashset *s = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_hashset_new(&s, NULL), DP_OK);
    assert_int_equal(dp_hashset_load_buffer(s, name, text, strlen(text), &e), DP_OK);
    if (name2 != NULL)
        assert_int_equal(dp_hashset_load_buffer(s, name2, text2, strlen(text2), &e), DP_OK);
    assert_int_equal(dp_hashset_finalize(s, &e), DP_OK);
    return s;
}

static void sha_of(const char *dir, const char *rel, char hex[65])
{
    char *p = tu_path(dir, rel);
    assert_true(tu_sha256_hex(p, hex));
    free(p);
}

static void test_matches_all_lines(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_random(dir, "a/match.jpg", 12345, 1);
    tu_write_random(dir, "b/copy.jpg", 12345, 1); /* same content, second name */
    tu_write_random(dir, "c/other.jpg", 12345, 2);
    char hex[65], l1[256], l2[256];
    sha_of(dir, "a/match.jpg", hex);
    snprintf(l1, sizeof(l1), "# list one\nsha256:%s label=first\n", hex);
    snprintf(l2, sizeof(l2), "%s  whatever.jpg\n", hex);
    struct dp_hashset *s = set_of("one", l1, "two", l2);
    struct dp_scan_result *r = NULL;
    struct dp_scan_opts o = {.jobs = 3};
    assert_int_equal(dp_scan_run(s, dir, &o, &r, NULL), DP_OK);
    assert_int_equal(r->finding_count, 2);
    assert_string_equal(r->findings[0].path, "a/match.jpg"); /* sorted by path */
    assert_string_equal(r->findings[1].path, "b/copy.jpg");
    assert_int_equal(r->findings[0].match_count, 2);
    assert_int_equal(r->digest_mask, DP_DIGEST_MASK(DP_ALGO_SHA256));
    assert_int_equal(r->totals.files, 3);
    assert_int_equal(r->totals.files_read, 3);
    assert_int_equal(r->totals.bytes_read, 3 * 12345);
    assert_int_equal(r->totals.directories, 4);
    json_t *doc = NULL;
    assert_int_equal(dp_report_build(r, s, &doc, NULL), DP_OK);
    const json_t *m = json_object_get(json_array_get(json_object_get(doc, "findings"), 0),
                                      "matched");
    assert_int_equal(json_array_size(m), 2);
    int lines = 0;
    for (size_t i = 0; i < 2; i++)
        lines += (int)json_integer_value(json_object_get(json_array_get(m, i), "line"));
    assert_int_equal(lines, 2 + 1); /* line 2 of "one", line 1 of "two" */
    json_decref(doc);
    dp_scan_result_free(r);
    dp_hashset_free(s);
    tu_rm_rf(dir);
    free(dir);
}

static void test_size_filter(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_random(dir, "target.bin", 7777, 3);
    for (int i = 0; i < 20; i++) {
        char rel[32];
        snprintf(rel, sizeof(rel), "n/%d.bin", i);
        tu_write_random(dir, rel, 1000 + (size_t)i, 10 + (uint32_t)i);
    }
    char hex[65], l[256];
    sha_of(dir, "target.bin", hex);
    snprintf(l, sizeof(l), "sha256:%s size:7777\n", hex);
    struct dp_hashset *s = set_of("sized", l, NULL, NULL);
    struct dp_scan_result *r = NULL;
    /* carving reads every byte of every file: the size filter applies without it */
    const struct dp_scan_opts nc = {.no_carve = true};
    assert_int_equal(dp_scan_run(s, dir, NULL, &r, NULL), DP_OK);
    assert_false(r->size_filter);
    assert_int_equal(r->totals.files_read, 21);
    dp_scan_result_free(r);
    assert_int_equal(dp_scan_run(s, dir, &nc, &r, NULL), DP_OK);
    assert_true(r->size_filter);
    assert_int_equal(r->finding_count, 1);
    assert_int_equal(r->totals.files, 21);
    assert_int_equal(r->totals.files_read, 1);
    assert_int_equal(r->totals.files_size_skipped, 20);
    assert_int_equal(r->totals.bytes_read, 7777);
    dp_scan_result_free(r);
    dp_hashset_free(s);
    /* one entry without a size turns the filter off */
    char l2[512];
    snprintf(l2, sizeof(l2), "sha256:%s size:7777\nmd5:00000000000000000000000000000000\n", hex);
    s = set_of("mixed", l2, NULL, NULL);
    assert_int_equal(dp_scan_run(s, dir, &nc, &r, NULL), DP_OK);
    assert_false(r->size_filter);
    assert_int_equal(r->totals.files_read, 21);
    assert_int_equal(r->digest_mask, DP_DIGEST_MASK(DP_ALGO_SHA256) | DP_DIGEST_MASK(DP_ALGO_MD5));
    dp_scan_result_free(r);
    dp_hashset_free(s);
    tu_rm_rf(dir);
    free(dir);
}

/* A name that is not UTF-8 goes into the report as base64 and comes back byte-exact. */
static void test_odd_name_round_trip(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const char *odd = "sub/na\xffme\nwith newline.jpg";
    tu_write_random(dir, odd, 4096, 5);
    char hex[65], l[256];
    sha_of(dir, odd, hex);
    snprintf(l, sizeof(l), "%s\n", hex);
    struct dp_hashset *s = set_of("plain", l, NULL, NULL);
    struct dp_scan_result *r = NULL;
    assert_int_equal(dp_scan_run(s, dir, NULL, &r, NULL), DP_OK);
    json_t *doc = NULL;
    assert_int_equal(dp_report_build(r, s, &doc, NULL), DP_OK);
    const json_t *loc0 = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "findings"), 0), "location"), 0);
    assert_true(json_is_object(loc0));
    assert_non_null(json_object_get(loc0, "base64"));
    char *text = dp_json_dump(doc);
    json_t *back = json_loads(text, 0, NULL);
    struct dp_plan *plan = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_plan_from_report(back, &plan, &e), DP_OK);
    assert_int_equal(plan->count, 1);
    assert_int_equal(plan->targets[0].path_len, strlen(odd));
    assert_memory_equal(plan->targets[0].path, odd, strlen(odd));
    assert_int_equal(plan->targets[0].id.size, 4096);
    dp_plan_free(plan);
    json_decref(back);
    free(text);
    json_decref(doc);
    dp_scan_result_free(r);
    dp_hashset_free(s);
    tu_rm_rf(dir);
    free(dir);
}

static void test_plan_rejects_bad_reports(void **state)
{
    (void)state;
    const char *bad[] = {
        "{}",
        "{\"format\":\"deprive-scan-report\",\"version\":99,\"root_abs\":\"/x\",\"findings\":[]}",
        "{\"format\":\"deprive-scan-report\",\"version\":1,\"root_abs\":\"rel\",\"findings\":[]}",
        "{\"format\":\"deprive-scan-report\",\"version\":1,\"root_abs\":\"/x\",\"findings\":"
        "[{\"location\":[\"/abs\"],\"device\":{\"major\":1,\"minor\":2},\"inode\":3,\"size\":4,"
        "\"links\":1,\"mtime_ns\":5,\"ctime_ns\":6,\"digests\":{\"md5\":"
        "\"00000000000000000000000000000000\"}}]}",
        "{\"format\":\"deprive-scan-report\",\"version\":1,\"root_abs\":\"/x\",\"findings\":"
        "[{\"location\":[\"a\"],\"device\":{\"major\":1,\"minor\":2},\"inode\":3,\"size\":4,"
        "\"links\":1,\"mtime_ns\":5,\"ctime_ns\":6,\"digests\":{\"md5\":\"zz\"}}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *doc = json_loads(bad[i], 0, NULL);
        assert_non_null(doc);
        struct dp_plan *plan = NULL;
        struct dp_error e = {0};
        assert_int_equal(dp_plan_from_report(doc, &plan, &e), DP_ERR_PARSE);
        assert_null(plan);
        json_decref(doc);
    }
}

static void progress_cb(void *ctx, const struct dp_scan_progress *p)
{
    size_t *calls = ctx;
    (*calls)++;
    if (p->current != NULL)
        assert_true(strlen(p->current) < 512); /* readable: a copy, never a freed path */
    assert_true(p->files_done <= p->files_seen);
}

/* Progress reports run while workers free the paths they finished: they must only ever see
 * the scan's own copy (this test is meant for the ASan build). */
static void test_progress_reports(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    for (int i = 0; i < 3000; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "d%02d/a-rather-long-file-name-%04d.jpg", i % 50, i);
        tu_write_random(dir, rel, 64 + (size_t)(i % 7), (uint32_t)i);
    }
    struct dp_hashset *s = set_of("one", "md5:00000000000000000000000000000000\n", NULL, NULL);
    size_t calls = 0;
    struct dp_scan_opts o = {.jobs = 2, .progress = progress_cb, .progress_ctx = &calls};
    struct dp_scan_result *r = NULL;
    assert_int_equal(dp_scan_run(s, dir, &o, &r, NULL), DP_OK);
    assert_int_equal(r->totals.files, 3000);
    assert_true(calls >= 1); /* at least the final report */
    dp_scan_result_free(r);
    dp_hashset_free(s);
    tu_rm_rf(dir);
    free(dir);
}

/* Locations print on one line, safe for a terminal: UTF-8 kept, controls escaped. */
static void test_location_text(void **state)
{
    (void)state;
    json_t *loc = json_array();
    json_array_append_new(loc, dp_json_bytes("caf\xc3\xa9/a\nb\x1b[31m.zip", 18));
    json_array_append_new(loc, dp_json_bytes("x\xffy\\z", 5));
    char *t = dp_json_location_text(loc);
    assert_string_equal(t, "caf\xc3\xa9/a\\x0ab\\x1b[31m.zip -> x\\xffy\\\\z");
    free(t);
    json_decref(loc);
    t = dp_json_location_text(json_null());
    assert_string_equal(t, "?");
    free(t);
}

/* A list with only perceptual (PDQ) hashes has nothing the exact scan can use: no file is
 * read, and the totals say why. */
/* A PDQ-only list: every file is read (an image is known by its content, not its size or
 * name); files named .jpg that are not images are digested, not decoded, and match nothing. */
static void test_pdq_only_reads_every_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_random(dir, "a.jpg", 5000, 1);
    tu_write_random(dir, "b.jpg", 6000, 2);
    struct dp_hashset *s = set_of(
        "pdq", "pdq:f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22\n", NULL,
        NULL);
    struct dp_scan_result *r = NULL;
    assert_int_equal(dp_scan_run(s, dir, NULL, &r, NULL), DP_OK);
    assert_int_equal(r->digest_mask, 0);
    assert_true(r->pdq_used);
    assert_false(r->size_filter);
    assert_int_equal(r->totals.files, 2);
    assert_int_equal(r->totals.files_read, 2);
    assert_int_equal(r->totals.files_size_skipped, 0);
    assert_int_equal(r->totals.images_decoded, 0);
    assert_int_equal(r->finding_count, 0);
    dp_scan_result_free(r);
    dp_hashset_free(s);
    tu_rm_rf(dir);
    free(dir);
}

/* ---- files too large to read ------------------------------------------------------------ */

/* The skips[] entry of a report for location rel, or NULL. */
static const json_t *report_skip(const json_t *doc, const char *rel)
{
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(doc, "skips"), i, s)
    {
        const json_t *l0 = json_array_get(json_object_get(s, "location"), 0);
        if (json_is_string(l0) && strcmp(json_string_value(l0), rel) == 0)
            return s;
    }
    return NULL;
}

static json_int_t jint(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* A too-large skip record in a report: reason, the sizes and which limit. */
static void assert_too_large(const json_t *doc, const char *rel, json_int_t size,
                             json_int_t limit, const char *source)
{
    const json_t *s = report_skip(doc, rel);
    if (s == NULL)
        fail_msg("'%s' is not among the report's skips", rel);
    assert_string_equal(jstr(s, "reason"), "too-large");
    assert_int_equal(jint(s, "size"), size);
    assert_int_equal(jint(s, "limit"), limit);
    assert_string_equal(jstr(s, "limit_source"), source);
    const json_t *by = json_object_get(json_object_get(doc, "totals"), "skipped_by_reason");
    assert_true(jint(by, "too-large") >= 1);
}

/* A sparse file far larger than its whole filesystem (a prepared device: 2^63-1 bytes would
 * be read for centuries) is not read at all: skipped as too-large with both sizes, while the
 * rest of the tree is still scanned and matched. */
static void test_sparse_larger_than_filesystem(void **state)
{
    (void)state;
    if (!tu_can_loop("sparse file larger than its filesystem"))
        skip();
    struct tu_fs fs;
    if (!tu_fs_create(&fs, "ext4", 64)) {
        printf("sparse file larger than its filesystem: skipped: no ext4 image\n");
        skip();
    }
    tu_write_random(fs.mnt, "keep/match.jpg", 20000, 7);
    tu_write_random(fs.mnt, "keep/other.jpg", 30000, 8);
    char *huge = tu_path(fs.mnt, "huge.bin");
    int fd = open(huge, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    const off_t big = (off_t)2 << 30; /* 2 GiB of holes on a 64 MiB filesystem */
    assert_int_equal(ftruncate(fd, big), 0);
    close(fd);
    struct statvfs sv;
    assert_int_equal(statvfs(fs.mnt, &sv), 0);
    json_int_t fs_bytes = (json_int_t)sv.f_blocks * (json_int_t)sv.f_frsize;
    assert_true(fs_bytes < (json_int_t)big);
    char hex[65], l[256];
    sha_of(fs.mnt, "keep/match.jpg", hex);
    snprintf(l, sizeof(l), "%s  match.jpg\n", hex); /* no size: every file is a candidate */
    struct dp_hashset *s = set_of("list", l, NULL, NULL);
    struct dp_scan_result *r = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(dp_scan_run(s, fs.mnt, &(struct dp_scan_opts){.jobs = 2}, &r, NULL), DP_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("scan with a 2 GiB sparse file took %.2f s, read %llu bytes\n", took,
           (unsigned long long)r->totals.bytes_read);
    assert_true(took < 10.0);
    assert_int_equal(r->totals.bytes_read, 20000 + 30000); /* the sparse file: not a byte */
    assert_int_equal(r->totals.files, 3);
    assert_int_equal(r->totals.files_read, 2);
    assert_int_equal(r->finding_count, 1);
    assert_string_equal(r->findings[0].path, "keep/match.jpg");
    assert_int_equal(r->skip_count, 1);
    assert_string_equal(r->skips[0].path, "huge.bin");
    assert_string_equal(dp_skip_reason_name(r->skips[0].reason), "too-large");
    json_t *doc = NULL;
    assert_int_equal(dp_report_build(r, s, &doc, NULL), DP_OK);
    assert_too_large(doc, "huge.bin", (json_int_t)big, fs_bytes, "filesystem");
    assert_int_equal(jint(json_object_get(doc, "totals"), "skipped"), 1);
    /* the report is still a valid plan, with the one match as its target */
    char *text = dp_json_dump(doc);
    json_t *back = json_loads(text, 0, NULL);
    struct dp_plan *plan = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_plan_from_report(back, &plan, &e), DP_OK);
    assert_int_equal(plan->count, 1);
    assert_memory_equal(plan->targets[0].path, "keep/match.jpg", 14);
    dp_plan_free(plan);
    json_decref(back);
    free(text);
    json_decref(doc);
    dp_scan_result_free(r);
    dp_hashset_free(s);
    free(huge);
    tu_fs_destroy(&fs);
}

/* A file in the hash list that is over --max-file-size is skipped, not found and not read:
 * the examiner sees that it was not examined (and why) instead of a silent miss. */
static void test_max_file_size_applies_to_matching_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write_random(dir, "big/victim.jpg", 300 * 1024, 21);
    tu_write_random(dir, "small/victim.jpg", 50 * 1024, 22);
    char h1[65], h2[65], l[512];
    sha_of(dir, "big/victim.jpg", h1);
    sha_of(dir, "small/victim.jpg", h2);
    snprintf(l, sizeof(l), "sha256:%s size:%d\nsha256:%s size:%d\n", h1, 300 * 1024, h2,
             50 * 1024);
    struct dp_hashset *s = set_of("sized", l, NULL, NULL);
    struct dp_scan_result *r = NULL;
    struct dp_scan_opts o = {.jobs = 2, .max_file_size = 100 * 1024};
    assert_int_equal(dp_scan_run(s, dir, &o, &r, NULL), DP_OK);
    assert_int_equal(r->finding_count, 1);
    assert_string_equal(r->findings[0].path, "small/victim.jpg");
    assert_int_equal(r->totals.bytes_read, 50 * 1024);
    assert_int_equal(r->totals.files_read, 1);
    assert_int_equal(r->skip_count, 1);
    assert_string_equal(r->skips[0].path, "big/victim.jpg");
    assert_string_equal(dp_skip_reason_name(r->skips[0].reason), "too-large");
    json_t *doc = NULL;
    assert_int_equal(dp_report_build(r, s, &doc, NULL), DP_OK);
    assert_too_large(doc, "big/victim.jpg", 300 * 1024, 100 * 1024, "max-file-size");
    assert_int_equal(jint(json_object_get(doc, "scope"), "max_file_size"), 100 * 1024);
    json_decref(doc);
    dp_scan_result_free(r);
    /* at exactly the limit a file is read: only larger ones are skipped */
    o.max_file_size = 300 * 1024;
    assert_int_equal(dp_scan_run(s, dir, &o, &r, NULL), DP_OK);
    assert_int_equal(r->finding_count, 2);
    assert_int_equal(r->skip_count, 0);
    dp_scan_result_free(r);
    dp_hashset_free(s);
    tu_rm_rf(dir);
    free(dir);
}

/* deprive scan / run / audit take --max-file-size SIZE (bytes, or K/M/G/T binary multiples);
 * the skip reaches the JSON report, the summary, the certificate and its text and PDF. */
static void test_max_file_size_cli(void **state)
{
    (void)state;
    char *work = tu_mkdtemp();
    char *dev = tu_path(work, "dev");
    tu_write_random(dev, "big.bin", 2 << 20, 31);
    tu_write_random(dev, "photos/match.jpg", 4000, 32);
    char *big = tu_path(dev, "big.bin"), *small = tu_path(dev, "photos/match.jpg");
    struct tu_run r;
    char *argv[] = {(char *)DP_TEST_BIN, "hash", "--no-size", big, small, NULL};
    tu_run_argv(&r, argv, NULL); /* both listed, no sizes: the size filter is off */
    assert_int_equal(r.status, 0);
    tu_write(work, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *list = tu_path(work, "list.txt");

    tu_deprive(&r, NULL, "scan", "--json", "--max-file-size", "1M", "--hashes", list, dev, NULL);
    if (r.status != 0)
        fail_msg("scan --max-file-size failed (%d): %s", r.status, r.err);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_too_large(doc, "big.bin", 2 << 20, 1 << 20, "max-file-size");
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 1);
    assert_int_equal(jint(json_object_get(doc, "totals"), "bytes_read"), 4000);
    json_decref(doc);
    tu_run_free(&r);
    /* the human summary names it and says why */
    tu_deprive(&r, NULL, "scan", "--max-file-size", "1024K", "--hashes", list, dev, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "not examined: 1 (too-large 1)\n"));
    assert_non_null(strstr(r.out, "big.bin"));
    assert_non_null(strstr(r.out, "apparent size 2097152 bytes exceeds --max-file-size 1048576"));
    tu_run_free(&r);
    /* plain bytes; a file exactly at the limit is read */
    tu_deprive(&r, NULL, "scan", "--json", "--max-file-size", "2097152", "--hashes", list, dev,
               NULL);
    assert_int_equal(r.status, 0);
    doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "skips")), 0);
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 2);
    json_decref(doc);
    tu_run_free(&r);
    const char *bad[] = {"0", "", "1X", "-1", "1MB", "K", "17179869184T", "1.5M", " 1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_deprive(&r, NULL, "scan", "--max-file-size", bad[i], "--hashes", list, dev, NULL);
        if (r.status != 2 || strstr(r.err, "--max-file-size") == NULL)
            fail_msg("--max-file-size '%s' accepted (%d): %s", bad[i], r.status, r.err);
        tu_run_free(&r);
    }

    /* run: the skip goes into the certificate, which verifies and renders it */
    char *pub = tu_path(work, "k.pub"), *sec = tu_path(work, "k.sec");
    char *cert = tu_path(work, "cert.json"), *pdf = tu_path(work, "cert.pdf");
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "run", "--max-file-size", "1M", "--hashes", list, "--key", sec, "-o",
               cert, "--order", "DO/2026/14", "--exhibit", "EX-10", "--officer", "DC Example",
               "--journal-on-same-fs", "--yes", dev, NULL);
    if (r.status != 0)
        fail_msg("run --max-file-size failed (%d): %s", r.status, r.err);
    tu_run_free(&r);
    assert_int_equal(access(big, F_OK), 0); /* not examined, so not erased */
    assert_int_equal(access(small, F_OK), -1);
    char *text = tu_read(cert, NULL);
    json_t *c = json_loads(text, 0, NULL);
    assert_non_null(c);
    free(text);
    const json_t *sk = json_array_get(json_object_get(json_object_get(c, "scan"), "skips"), 0);
    assert_non_null(sk);
    assert_string_equal(jstr(sk, "reason"), "too-large");
    assert_int_equal(jint(sk, "size"), 2 << 20);
    assert_int_equal(jint(sk, "limit"), 1 << 20);
    /* the consistency check accepts the record, and refuses one without its sizes */
    struct dp_error e = {0};
    assert_int_equal(dp_cert_check(c, NULL, &e), DP_OK);
    json_object_set_new((json_t *)sk, "limit", json_integer(3 << 20)); /* not exceeded */
    assert_int_equal(dp_cert_check(c, NULL, &e), DP_ERR_VERIFY);
    assert_non_null(strstr(e.msg, "scan.skips[0]: too-large"));
    json_object_del((json_t *)sk, "limit");
    assert_int_equal(dp_cert_check(c, NULL, &e), DP_ERR_VERIFY);
    json_decref(c);
    tu_deprive(&r, NULL, "verify", "-p", pub, cert, NULL);
    if (r.status != 0)
        fail_msg("verify failed (%d): %s%s", r.status, r.out, r.err);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "show", "--pdf", pdf, cert, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "not examined (too-large): big.bin"));
    assert_non_null(strstr(r.out, "apparent size 2097152 bytes exceeds --max-file-size 1048576"));
    tu_run_free(&r);
    if (tu_have("pdftotext")) {
        char *pargv[] = {"pdftotext", pdf, "-", NULL};
        tu_run_argv(&r, pargv, NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out, "too-large: big.bin"));
        assert_non_null(strstr(r.out, "apparent size 2097152 bytes exceeds --max-file-size"));
        tu_run_free(&r);
    } else {
        printf("pdftotext not installed: PDF text not checked\n");
    }

    /* audit: the same option, the same record */
    tu_write_random(dev, "photos/match.jpg", 4000, 32); /* back again */
    tu_deprive(&r, NULL, "audit", "--cert", cert, "--hashes", list, "--json", "--max-file-size",
               "1M", dev, NULL);
    assert_int_equal(r.status, 1);
    doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_too_large(doc, "big.bin", 2 << 20, 1 << 20, "max-file-size");
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 1);
    json_decref(doc);
    tu_run_free(&r);
    tu_rm_rf(work);
    free(work), free(dev), free(big), free(small), free(list), free(pub), free(sec), free(cert),
        free(pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_all_lines),
        cmocka_unit_test(test_size_filter),
        cmocka_unit_test(test_odd_name_round_trip),
        cmocka_unit_test(test_plan_rejects_bad_reports),
        cmocka_unit_test(test_progress_reports),
        cmocka_unit_test(test_location_text),
        cmocka_unit_test(test_pdq_only_reads_every_file),
        cmocka_unit_test(test_sparse_larger_than_filesystem),
        cmocka_unit_test(test_max_file_size_applies_to_matching_file),
        cmocka_unit_test(test_max_file_size_cli),
    };
    return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
