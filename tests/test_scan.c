/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the scan pipeline - matches with every list line, the size filter, digests
 * computed only as needed, odd names through the report and back as a plan. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    assert_int_equal(dp_scan_run(s, dir, NULL, &r, NULL), DP_OK);
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
    assert_int_equal(dp_scan_run(s, dir, NULL, &r, NULL), DP_OK);
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
static void test_pdq_only_reads_nothing(void **state)
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
    assert_int_equal(r->totals.files, 2);
    assert_int_equal(r->totals.files_read, 0);
    assert_int_equal(r->totals.files_size_skipped, 2);
    assert_int_equal(r->finding_count, 0);
    dp_scan_result_free(r);
    dp_hashset_free(s);
    tu_rm_rf(dir);
    free(dir);
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
        cmocka_unit_test(test_pdq_only_reads_nothing),
    };
    return cmocka_run_group_tests_name("scan", tests, NULL, NULL);
}
