/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: PDF rendering - text content (via pdftotext when installed), pagination of
 * many targets, hostile paths and strings, error paths, and `deprive show --pdf`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/pdf.h"
#include "deprive/report.h"
#include "deprive/sign.h"
#include "deprive/util.h"
#include "testutil.h"

#define KEYID "89ABCDEF01234567"
#define LIST_SHA "1111111111111111111111111111111111111111111111111111111111111111"
#define HEAD0 "2222222222222222222222222222222222222222222222222222222222222222"

/* ---- synthetic inputs, built with jansson ------------------------------------------------- */

static json_t *hexj(const uint8_t *b, size_t n)
{
    char h[65];
    dp_hex_encode(h, b, n);
    return json_string(h);
}

static json_t *digests(int k)
{
    char seed[32];
    uint8_t d[32];
    snprintf(seed, sizeof(seed), "file-%d", k);
    dp_sha256_buf(d, seed, strlen(seed));
    return json_pack("{s:o, s:o, s:o}", "md5", hexj(d, 16), "sha1", hexj(d + 4, 20), "sha256",
                     hexj(d, 32));
}

/* Path of finding k: long, non-UTF-8, non-Latin-1, with spaces, or plain. */
static json_t *path_of(int k)
{
    char buf[2048];
    size_t n = 0;
    switch (k % 7) {
    case 0:
        for (int d = 0; d < 40; d++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "very-long-directory-name-%d/", d);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "file-%d.jpg", k);
        break;
    case 1:
        n = (size_t)snprintf(buf, sizeof(buf), "bad\xff\xfe-%d.jpg", k);
        break;
    case 2:
        n = (size_t)snprintf(buf, sizeof(buf), "caf\xc3\xa9/\xe5\x86\x99\xe7\x9c\x9f-%d.jpg", k);
        break;
    case 3:
        n = (size_t)snprintf(buf, sizeof(buf), "My Pictures/holiday %d.jpg", k);
        break;
    default:
        n = (size_t)snprintf(buf, sizeof(buf), "photos/img-%04d.jpg", k);
    }
    return json_pack("[o]", dp_json_bytes(buf, n));
}

static json_t *finding(int k, int ino, int links)
{
    json_t *f =
        json_pack("{s:o, s:I, s:{s:i, s:i}, s:i, s:i, s:s, s:I, s:I, s:s, s:o, s:[{s:s, "
                  "s:s, s:s, s:i, s:s}]}",
                  "location", path_of(k), "size", (json_int_t)(1000 + k * 4096), "device", "major",
                  8, "minor", 1, "inode", ino, "links", links, "mtime", "2026-01-01T00:00:00Z",
                  "mtime_ns", (json_int_t)1, "ctime_ns", (json_int_t)2, "mime", "image/jpeg",
                  "digests", digests(ino), "matched", "method", "exact", "algo", "sha256", "list",
                  "/case/list.txt", "line", k + 1, "label", "Victim Name");
    assert_non_null(f);
    return f;
}

static json_t *report(json_t *findings, int nskips)
{
    json_t *skips = json_array();
    for (int i = 0; i < nskips; i++) {
        char p[64];
        snprintf(p, sizeof(p), "proc-like/fifo-%d", i);
        json_array_append_new(skips,
                              json_pack("{s:[s], s:s}", "location", p, "reason", "special-file"));
    }
    json_t *r = json_pack(
        "{s:s, s:i, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:b, "
        "s:i, s:{s:i, s:i}, s:s, s:b, s:b}, s:{s:b, s:i, s:[s], s:b, s:b}, s:[{s:s, s:s, s:s, "
        "s:{s:i, s:i, s:i, s:i}}], s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:{s:i}, s:I, s:i}, "
        "s:o, s:o}",
        "format", "deprive-scan-report", "version", 1, "tool", "name", "deprive", "version",
        "0.1.0", "build", "abc123", "started", "2026-11-22T13:00:00Z", "finished",
        "2026-11-22T13:10:00Z", "root", "/mnt/exhibit", "root_abs", "/mnt/exhibit", "filesystem",
        "type", "ext4", "mount_type", "ext4", "source", "/dev/sdb1", "mount_point", "/mnt/exhibit",
        "options", "rw", "read_only", 0, "mount_id", 40, "device", "major", 8, "minor", 17,
        "block_device", "sdb", "rotational", 0, "discard", 1, "scope", "cross_mounts", 0, "jobs", 8,
        "digests", "sha256", "size_filter", 0, "noatime", 1, "hash_lists", "file", "/case/list.txt",
        "sha256", LIST_SHA, "format", "deprive", "entries", "md5", 0, "sha1", 0, "sha256", 600,
        "pdq", 0, "totals", "files", 90000, "files_read", 80000, "bytes_read", 123456789,
        "files_skipped_by_size", 10000, "bytes_skipped_by_size", 5000, "directories", 1200,
        "skipped", nskips, "skipped_by_reason", "special-file", nskips, "findings",
        (json_int_t)json_array_size(findings), "noatime_fallbacks", 0, "skips", skips, "findings",
        findings);
    assert_non_null(r);
    return r;
}

static json_t *target(json_t *names, int ino, const char *status)
{
    bool erased = strcmp(status, "erased") == 0;
    json_t *t = json_pack("{s:{s:i, s:i}, s:i, s:o, s:s, s:o, s:s}", "device", "major", 8, "minor",
                          1, "inode", ino, "names", names, "status", status, "verification",
                          erased ? json_pack("{s:s, s:s}", "method", "o_direct", "result", "match")
                                 : json_null(),
                          "assurance", erased ? "flash-media-residual-risk" : "not-erased");
    json_object_set_new(
        t, "assurance_facts",
        erased ? json_pack("[s, s]", "read-back matched", "the medium is non-rotational")
               : json_array());
    if (!erased)
        json_object_set_new(t, "reason",
                            json_string("read-back mismatch after overwrite: the device "
                                        "returned different data than was written, twice; "
                                        "the file was left in place for examination"));
    return t;
}

struct big {
    json_t *scan, *wipe, *rescan, *cert;
};

/* 520 findings: 20 hard-linked names of one inode, then 500 single files; every 50th of those
 * fails, so the result is PARTIAL. */
static void big_make(struct big *b)
{
    json_t *findings = json_array(), *targets = json_array(), *group = json_array();
    for (int k = 0; k < 20; k++) {
        json_array_append_new(findings, finding(k, 5000, 20));
        json_array_append_new(group, json_pack("{s:o, s:i, s:b}", "location", path_of(k),
                                               "plan_index", k, "removed", 1));
    }
    json_array_append_new(targets, target(group, 5000, "erased"));
    int failed = 0;
    for (int k = 20; k < 520; k++) {
        json_array_append_new(findings, finding(k, 6000 + k, 1));
        bool fail = k % 50 == 0;
        failed += fail;
        json_t *names = json_pack("[{s:o, s:i, s:b}]", "location", path_of(k), "plan_index", k,
                                  "removed", !fail);
        json_array_append_new(targets, target(names, 6000 + k, fail ? "failed" : "erased"));
    }
    b->scan = report(findings, 45);
    b->rescan = report(json_array(), 45);
    b->wipe = json_pack("{s:s, s:b, s:s, s:s, s:{s:s, s:i}, s:o, s:[s], s:{s:i, s:i, s:i, s:i, "
                        "s:i}}",
                        "method", "nist-clear", "dry_run", 0, "started", "2026-11-22T13:11:00Z",
                        "finished", "2026-11-22T13:20:00Z", "journal", "head", HEAD0, "records",
                        1500, "targets", targets, "residual_risks",
                        "The medium is flash (non-rotational): device-level sanitize is "
                        "recommended.",
                        "summary", "targets", 501, "names", 520, "erased", 501 - failed, "skipped",
                        0, "failed", failed);
    assert_non_null(b->wipe);
    json_t *c = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_cert_case_new(&c, &err), DP_OK);
    char longname[1100];
    memset(longname, 'x', 1000);
    longname[1000] = '\0';
    memcpy(longname, "DC ", 3);
    assert_int_equal(dp_cert_case_set(c, "order",
                                      "DO/2026/9999 (continuation of order "
                                      "DO/2025/1234, varied on appeal) \xe2\x80\x94 "
                                      "r\xc3\xa9"
                                      "f\xc3\xa9rence \xe5\x86\x99",
                                      &err),
                     DP_OK);
    assert_int_equal(dp_cert_case_set(c, "exhibit", "XB/7", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "officer", longname, &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "court", "Cour d'assises \xc3\xa0 Paris", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "media-type", "microSD card", &err), DP_OK);
    enum dp_status st = dp_cert_build(&b->cert, c, b->scan, b->wipe, b->rescan, KEYID, &err);
    if (st != DP_OK)
        fprintf(stderr, "build: %s\n", err.msg);
    assert_int_equal(st, DP_OK);
    json_decref(c);
}

static void big_free(struct big *b)
{
    json_decref(b->scan);
    json_decref(b->wipe);
    json_decref(b->rescan);
    json_decref(b->cert);
}

/* A small ERASED certificate. */
static json_t *small_cert(void)
{
    json_t *findings = json_pack("[o]", finding(3, 77, 1));
    json_t *names =
        json_pack("[{s:o, s:i, s:b}]", "location", path_of(3), "plan_index", 0, "removed", 1);
    json_t *scan = report(findings, 0), *rescan = report(json_array(), 0);
    json_t *wipe = json_pack("{s:s, s:s, s:s, s:{s:s, s:i}, s:[o]}", "method", "zero", "started",
                             "2026-11-22T13:11:00Z", "finished", "2026-11-22T13:12:00Z", "journal",
                             "head", HEAD0, "records", 3, "targets", target(names, 77, "erased"));
    json_t *c = NULL, *cert = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_cert_case_from_file(&c, DP_SOURCE_DIR "/fixtures/case-example.json", &err),
                     DP_OK);
    enum dp_status st = dp_cert_build(&cert, c, scan, wipe, rescan, KEYID, &err);
    if (st != DP_OK)
        fprintf(stderr, "build: %s\n", err.msg);
    assert_int_equal(st, DP_OK);
    json_decref(c), json_decref(scan), json_decref(rescan), json_decref(wipe);
    return cert;
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* Text of a PDF via pdftotext, or NULL (with a message) when pdftotext is not installed. */
static char *pdf_text(const char *pdf)
{
    if (!tu_have("pdftotext")) {
        printf("pdftotext not installed: skipping the PDF text checks\n");
        return NULL;
    }
    char *argv[] = {"pdftotext", "-layout", (char *)pdf, "-", NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    assert_int_equal(r.status, 0);
    char *out = r.out;
    r.out = NULL;
    tu_run_free(&r);
    return out;
}

static int page_count(const char *pdf)
{
    size_t len = 0;
    char *b = tu_read(pdf, &len);
    assert_non_null(b);
    assert_true(len > 5 && memcmp(b, "%PDF-", 5) == 0);
    int n = 0;
    /* libharu writes page objects uncompressed: count "/Type /Page" not followed by "s" */
    for (char *p = b; (p = memmem(p, len - (size_t)(p - b), "/Type /Page", 11)) != NULL; p += 11)
        n += p[11] != 's';
    free(b);
    return n;
}

/* DP_KEEP_PDF=DIR keeps a copy of each rendered PDF there, to look at. */
static void keep(const char *pdf, const char *name)
{
    const char *d = getenv("DP_KEEP_PDF");
    if (d != NULL)
        assert_int_equal(tu_sh("cp '%s' '%s/%s'", pdf, d, name), 0);
}

static void must_contain(const char *text, const char *what)
{
    if (strstr(text, what) == NULL)
        fprintf(stderr, "PDF text lacks '%s'\n", what);
    assert_non_null(strstr(text, what));
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_render_small(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), *out = tu_path(dir, "cert.pdf");
    json_t *cert = small_cert();
    const char *sha = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    struct dp_error err = {0};
    assert_int_equal(dp_pdf_render(cert, KEYID, sha, out, &err), DP_OK);
    keep(out, "small.pdf");
    int pages = page_count(out);
    assert_true(pages >= 1 && pages <= 3);
    char *t = pdf_text(out);
    if (t != NULL) {
        must_contain(t, "DO/2026/04417");
        must_contain(t, "AE/1");
        must_contain(t, "ERASED");
        must_contain(t, KEYID);
        must_contain(t, "(signature verified when this PDF was made)");
        must_contain(t, sha);
        must_contain(t, HEAD0);
        must_contain(t, "DC Alex Example");
        must_contain(t, "Crown Court at Exampleton");
        must_contain(t, "S5SUNG0R123456X");
        must_contain(t, "My Pictures/holiday 3.jpg");
        must_contain(t, "deprive verify -p force.pub CERT.json");
        must_contain(t, "minisign -Vm CERT.json -p force.pub");
        must_contain(t, "Post-erasure re-scan: 0 match(es) found");
        char want[32];
        snprintf(want, sizeof(want), "Page %d of %d", pages, pages);
        must_contain(t, want);
        must_contain(t, LIST_SHA);
        must_contain(t, "cloud storage");
        assert_null(strstr(t, "Victim Name"));
        free(t);
    }
    /* not verified: the certificate's own signer id, marked */
    assert_int_equal(dp_pdf_render(cert, NULL, NULL, out, &err), DP_OK);
    t = pdf_text(out);
    if (t != NULL) {
        must_contain(t, "NOT verified");
        must_contain(t, KEYID);
        free(t);
    }
    /* unwritable destination */
    assert_int_equal(dp_pdf_render(cert, KEYID, sha, "/nonexistent/dir/x.pdf", &err), DP_ERR_IO);
    json_decref(cert);
    tu_rm_rf(dir);
    free(out);
    free(dir);
}

static void test_render_many(void **state)
{
    (void)state;
    struct big b;
    big_make(&b);
    struct dp_error err = {0};
    assert_int_equal(dp_cert_check(b.cert, NULL, &err), DP_OK);
    assert_string_equal(dp_cert_get_str(b.cert, "outcome.result"), "PARTIAL");
    char *dir = tu_mkdtemp(), *out = tu_path(dir, "many.pdf");
    assert_int_equal(dp_pdf_render(b.cert, KEYID, NULL, out, &err), DP_OK);
    keep(out, "many.pdf");
    int pages = page_count(out);
    printf("500-target certificate: %d pages\n", pages);
    assert_true(pages > 10);
    char *t = pdf_text(out);
    if (t != NULL) {
        char want[64];
        snprintf(want, sizeof(want), "Page %d of %d", pages, pages);
        must_contain(t, want);
        must_contain(t, "PARTIAL");
        must_contain(t, "XB/7");
        must_contain(t, "bad\\xff\\xfe-1.jpg"); /* non-UTF-8 shown escaped */
        must_contain(t, "caf\xc3\xa9/?"
                        "?-2.jpg"); /* Latin-1 kept, CJK as '?' */
        must_contain(t, "Cour d'assises \xc3\xa0 Paris");
        must_contain(t, "r\xc3\xa9"
                        "f\xc3\xa9rence ?");
        must_contain(t, "NOT ERASED");
        must_contain(t, "reason: read-back mismatch");
        must_contain(t, "... and ");            /* 20 names of one inode, truncated */
        must_contain(t, "photos/img-0515.jpg"); /* the last target made it */
        must_contain(t, "proc-like/fifo-0");
        must_contain(t, "(listed in the JSON certificate)");
        must_contain(t, "device-level sanitize is recommended");
        assert_null(strstr(t, "Victim Name"));
        free(t);
    }
    big_free(&b);
    tu_rm_rf(dir);
    free(out);
    free(dir);
}

/* Whatever JSON it is given, rendering neither crashes nor fails. */
static void test_render_garbage(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), *out = tu_path(dir, "g.pdf");
    static const char *const docs[] = {
        "{}",
        "{\"outcome\":{\"result\":7,\"summary\":[]},\"targets\":[1,\"x\",{\"names\":3}],"
        "\"scan\":{\"skips\":[{\"location\":{\"base64\":\"!!\"}}]},\"hash_set\":{\"lists\":"
        "[{\"file\":{\"base64\":\"/w==\"}}]}}",
        "{\"targets\":[{\"names\":[{\"location\":[\"\"]}],\"assurance\":\"\",\"reason\":\"\"}]}",
    };
    struct dp_error err = {0};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        json_t *d = json_loads(docs[i], 0, NULL);
        assert_non_null(d);
        assert_int_equal(dp_pdf_render(d, NULL, NULL, out, &err), DP_OK);
        assert_true(page_count(out) >= 1);
        json_decref(d);
    }
    /* one huge unbroken string in every text position */
    json_t *cert = small_cert();
    char *huge = malloc(200001);
    memset(huge, 'W', 200000);
    huge[200000] = '\0';
    json_object_set_new(json_object_get(cert, "authority"), "court", json_string(huge));
    json_object_set_new(json_object_get(cert, "authority"), "order_reference", json_string(huge));
    json_t *t0 = json_array_get(json_object_get(cert, "targets"), 0);
    json_object_set_new(t0, "assurance", json_string(huge));
    json_object_set_new(t0, "reason", json_string(huge));
    json_object_set_new(json_object_get(t0, "verification"), "result", json_string(huge));
    json_object_set_new(json_object_get(cert, "outcome"), "result", json_string(huge));
    json_object_set_new(json_object_get(cert, "identity"), "issued", json_string(huge));
    json_object_set_new(json_object_get(cert, "signer"), "keyid", json_string(huge));
    json_object_set_new(json_object_get(cert, "scan"), "root", json_string(huge));
    json_object_set_new(json_object_get(json_object_get(cert, "outcome"), "journal"), "head",
                        json_string(huge));
    json_t *l0 = json_array_get(json_object_get(json_object_get(cert, "hash_set"), "lists"), 0);
    json_object_set_new(l0, "sha256", json_string(huge));
    json_object_set_new(l0, "format", json_string(huge));
    json_array_append_new(json_object_get(json_object_get(cert, "outcome"), "residual_risks"),
                          json_string(huge));
    enum dp_status st = dp_pdf_render(cert, KEYID, NULL, out, &err);
    if (st != DP_OK)
        fprintf(stderr, "huge: %s\n", err.msg);
    assert_int_equal(st, DP_OK);
    free(huge);
    json_decref(cert);
    tu_rm_rf(dir);
    free(out);
    free(dir);
}

static void test_cli_show_pdf(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *pub = tu_path(dir, "force.pub"), *sec = tu_path(dir, "force.key");
    char *cp = tu_path(dir, "CERT.json"), *sp = tu_path(dir, "CERT.json.minisig");
    char *pdf = tu_path(dir, "CERT.pdf");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    struct dp_error err = {0};
    struct dp_sign_seckey *sk = NULL;
    assert_int_equal(dp_sign_seckey_load(&sk, sec, NULL, &err), DP_OK);
    char id[DP_SIGN_KEYID_HEX_SIZE];
    dp_sign_seckey_keyid(sk, id);
    json_t *cert = small_cert();
    json_object_set_new(json_object_get(cert, "signer"), "keyid", json_string(id));
    char *text = dp_json_dump(cert), *sig = NULL;
    assert_int_equal(dp_cert_sign(&sig, sk, text, strlen(text), "CERT.json", &err), DP_OK);
    tu_write(dir, "CERT.json", text, strlen(text));
    tu_write(dir, "CERT.json.minisig", sig, strlen(sig));
    char sha[65];
    assert_true(tu_sha256_hex(cp, sha));
    tu_deprive(&r, NULL, "show", "-p", pub, "--pdf", pdf, cp, NULL);
    if (r.status != 0)
        fprintf(stderr, "%s", r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "DO/2026/04417"));
    assert_non_null(strstr(r.err, "PDF written"));
    tu_run_free(&r);
    assert_true(page_count(pdf) >= 1);
    char *t = pdf_text(pdf);
    if (t != NULL) {
        must_contain(t, id);
        must_contain(t, sha);
        must_contain(t, "(signature verified when this PDF was made)");
        free(t);
    }
    /* a bad signature renders nothing */
    unlink(pdf);
    text[10] ^= 1;
    tu_write(dir, "CERT.json", text, strlen(text));
    tu_deprive(&r, NULL, "show", "-p", pub, "--pdf", pdf, cp, NULL);
    assert_int_equal(r.status, 1);
    tu_run_free(&r);
    struct stat st;
    assert_int_equal(stat(pdf, &st), -1);
    (void)sp;
    dp_sign_seckey_free(sk);
    json_decref(cert);
    free(text), free(sig);
    tu_rm_rf(dir);
    free(dir), free(pub), free(sec), free(cp), free(sp), free(pdf);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_small),
        cmocka_unit_test(test_render_many),
        cmocka_unit_test(test_render_garbage),
        cmocka_unit_test(test_cli_show_pdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
