/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: certificate - case details, build, outcome rules, consistency check against
 * tampering, trusted comment, text rendering, signing, and `deprive verify`/`show` end to end. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/journal.h"
#include "deprive/report.h"
#include "deprive/sign.h"
#include "deprive/util.h"
#include "testutil.h"

#define CASE_FIXTURE DP_SOURCE_DIR "/fixtures/case-example.json"
#define KEYID "0123456789ABCDEF"

/* Digests of "a" and "b". */
#define MD5_A "0cc175b9c0f1b6a831c399e269772661"
#define SHA1_A "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
#define SHA256_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define MD5_B "92eb5ffee6ae2fec3ad71c777531578f"
#define SHA1_B "e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98"
#define SHA256_B "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
#define LIST_SHA "1111111111111111111111111111111111111111111111111111111111111111"
#define HEAD0 "2222222222222222222222222222222222222222222222222222222222222222"

/* ---- JSON helpers ---------------------------------------------------------------------- */

/* printf into JSON text written with ' for " (no apostrophes in the data), then parse. */
static json_t *J(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *J(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    assert_true(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t je;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &je);
    if (v == NULL)
        fprintf(stderr, "bad test JSON: %s at %d: %s\n", je.text, je.column, s);
    assert_non_null(v);
    free(s);
    return v;
}

/* Walk "a.0.b" (numbers index arrays). */
static json_t *tget(json_t *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = root;
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save)) {
        if (json_is_array(cur))
            cur = json_array_get(cur, strtoul(seg, NULL, 10));
        else
            cur = json_object_get(cur, seg);
    }
    return cur;
}

/* Set (v stolen) or delete (v NULL) the last segment of path. */
static void tset(json_t *root, const char *path, json_t *v)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    char *dot = strrchr(buf, '.');
    json_t *parent = root;
    const char *key = buf;
    if (dot != NULL) {
        *dot = '\0';
        parent = tget(root, buf);
        key = dot + 1;
    }
    assert_non_null(parent);
    if (json_is_array(parent)) {
        size_t i = strtoul(key, NULL, 10);
        if (v == NULL)
            assert_int_equal(json_array_remove(parent, i), 0);
        else
            assert_int_equal(json_array_set_new(parent, i, v), 0);
    } else if (v == NULL) {
        assert_int_equal(json_object_del(parent, key), 0);
    } else {
        assert_int_equal(json_object_set_new(parent, key, v), 0);
    }
}

static const char *tstr(json_t *root, const char *path)
{
    const char *s = json_string_value(tget(root, path));
    assert_non_null(s);
    return s;
}

/* ---- synthetic inputs ------------------------------------------------------------------- */

#define FINDING(path, ino, links, md5, sha1, sha256, line)                                         \
    "{'location':['" path "'],'size':4096,'device':{'major':7,'minor':7},'inode':" #ino ","        \
    "'links':" #links ",'mtime':'2026-01-01T00:00:00Z','mtime_ns':1767225600000000000,"            \
    "'ctime_ns':1767225600000000000,'mime':'image/jpeg','digests':{'md5':'" md5 "','sha1':'" sha1  \
    "','sha256':'" sha256 "'},'matched':[{'method':'exact','algo':'sha256','list':"                \
    "'/case/lists/victim-list.txt','line':" #line ",'label':'Jane Doe'}]}"

#define FINDINGS3                                                                                  \
    FINDING("backup/a-copy.jpg", 12, 2, MD5_A, SHA1_A, SHA256_A, 1)                                \
    "," FINDING("photos/a.jpg", 12, 2, MD5_A, SHA1_A, SHA256_A,                                    \
                1) "," FINDING("photos/b.png", 13, 1, MD5_B, SHA1_B, SHA256_B, 2)

/* A scan report as src/report.c writes it, with the given findings. */
static json_t *report(const char *root, const char *findings, int n, const char *started,
                      const char *finished)
{
    return J("{'format':'deprive-scan-report','version':1,"
             "'tool':{'name':'deprive','version':'0.1.0','build':'abc123def456'},"
             "'started':'%s','finished':'%s','root':'%s','root_abs':'%s',"
             "'filesystem':{'type':'ext4','mount_type':'ext4','source':'/dev/loop7',"
             "'mount_point':'%s','options':'rw,relatime','read_only':false,'mount_id':99,"
             "'device':{'major':7,'minor':7},'block_device':'loop7','rotational':true,"
             "'discard':false},"
             "'scope':{'cross_mounts':false,'jobs':4,'digests':['md5','sha1','sha256'],"
             "'size_filter':false,'noatime':true},"
             "'hash_lists':[{'file':'/case/lists/victim-list.txt','sha256':'" LIST_SHA "',"
             "'format':'sha256sum','entries':{'md5':0,'sha1':0,'sha256':2,'pdq':0}}],"
             "'totals':{'files':10,'files_read':9,'bytes_read':40960,'files_skipped_by_size':0,"
             "'bytes_skipped_by_size':0,'directories':3,'skipped':1,'skipped_by_reason':"
             "{'symlink':1,'special-file':0,'other-filesystem':0,'permission':0,'io-error':0,"
             "'vanished':0,'changed':0,'limit':0},'findings':%d,'noatime_fallbacks':0},"
             "'skips':[{'location':['link-to-etc'],'reason':'symlink'}],"
             "'findings':[%s]}",
             started, finished, root, root, root, n, findings);
}

static json_t *scan3(void)
{
    return report("/mnt/exhibit", FINDINGS3, 3, "2026-11-22T13:59:00Z", "2026-11-22T13:59:30Z");
}

static json_t *rescan0(void)
{
    return report("/mnt/exhibit", "", 0, "2026-11-22T14:01:00Z", "2026-11-22T14:01:20Z");
}

#define ERASED_FIELDS                                                                              \
    "'status':'erased','overwrite':{'passes':[{'pattern':'chacha20','bytes':4096,"                 \
    "'synced':true}],'bytes':4096,'direct_io':true},'verification':{'method':'o_direct',"          \
    "'result':'match'},'extents':{'available':true,'before':[{'logical':0,'physical':1234,"        \
    "'length':4096,'flags':0}],'after':[{'logical':0,'physical':1234,'length':4096,"               \
    "'flags':0}],'moved':false},'links_remaining':0,"                                              \
    "'assurance':'overwritten-in-place-verified','assurance_facts':['ext4 overwrites in "          \
    "place','extents unchanged after overwrite','read-back matched']"

#define TARGET12                                                                                   \
    "{'device':{'major':7,'minor':7},'inode':12,'size':4096,'digests':{'sha256':'" SHA256_A        \
    "','md5':'" MD5_A "'},'names':[{'location':['backup/a-copy.jpg'],'plan_index':0,"              \
    "'removed':true},{'location':['photos/a.jpg'],'plan_index':1,'removed':true}]," ERASED_FIELDS  \
    "}"

#define TARGET13                                                                                   \
    "{'device':{'major':7,'minor':7},'inode':13,'size':4096,'digests':{'sha256':'" SHA256_B        \
    "'},'names':[{'location':['photos/b.png'],'plan_index':2,'removed':true}]," ERASED_FIELDS "}"

#define TARGET13_SKIPPED                                                                           \
    "{'device':{'major':7,'minor':7},'inode':13,'size':4096,'digests':{'sha256':'" SHA256_B        \
    "'},'names':[{'location':['photos/b.png'],'plan_index':2,'removed':false}],"                   \
    "'status':'skipped','reason':'changed since scan','overwrite':null,'verification':null,"       \
    "'extents':null,'links_remaining':null,'assurance':'not-erased','assurance_facts':[]}"

/* A wipe result per docs/wipe-result.md. */
static json_t *wipe(const char *targets, int nt, int names, int erased, int skipped, int failed,
                    const char *head, int records)
{
    return J(
        "{'method':'nist-clear','dry_run':false,'started':'2026-11-22T14:00:00Z',"
        "'finished':'2026-11-22T14:00:05Z','plan':{'file':'/case/plan.json','sha256':'" LIST_SHA
        "'},'journal':{'file':'/case/plan.json.journal','head':'%s','records':%d},"
        "'targets':[%s],'cleanup':{'ext4_checkpoint':{'attempted':true,'done':true,"
        "'error':null}},'residual_risks':['The ext4 journal was checkpointed after the "
        "overwrite.'],'summary':{'targets':%d,'names':%d,'erased':%d,'skipped':%d,"
        "'failed':%d}}",
        head, records, targets, nt, names, erased, skipped, failed);
}

static json_t *wipe_all(void)
{
    return wipe(TARGET12 "," TARGET13, 2, 3, 2, 0, 0, HEAD0, 9);
}

static json_t *case_doc(void)
{
    json_t *c = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_cert_case_from_file(&c, CASE_FIXTURE, &err), DP_OK);
    return c;
}

/* Build from the standard inputs (wipe and rescan may be replaced); asserts success. */
static json_t *build_with(json_t *wipe_result, json_t *rescan, const char *keyid)
{
    json_t *c = case_doc(), *s = scan3(), *cert = NULL;
    struct dp_error err = {0};
    enum dp_status st = dp_cert_build(&cert, c, s, wipe_result, rescan, keyid, &err);
    if (st != DP_OK)
        fprintf(stderr, "build: %s\n", err.msg);
    assert_int_equal(st, DP_OK);
    json_decref(c);
    json_decref(s);
    json_decref(wipe_result);
    json_decref(rescan);
    return cert;
}

static json_t *good_cert(void)
{
    return build_with(wipe_all(), rescan0(), KEYID);
}

static void assert_check_ok(const json_t *cert)
{
    struct dp_error err = {0};
    enum dp_status st = dp_cert_check(cert, NULL, &err);
    if (st != DP_OK)
        fprintf(stderr, "check: %s\n", err.msg);
    assert_int_equal(st, DP_OK);
}

/* ---- building ------------------------------------------------------------------------- */

static void test_build_erased(void **state)
{
    (void)state;
    json_t *cert = good_cert();
    assert_check_ok(cert);
    assert_string_equal(tstr(cert, "format"), DP_CERT_FORMAT);
    assert_int_equal(json_integer_value(tget(cert, "schema")), 1);
    assert_string_equal(tstr(cert, "outcome.result"), "ERASED");
    assert_int_equal(json_integer_value(tget(cert, "outcome.summary.targets")), 2);
    assert_int_equal(json_integer_value(tget(cert, "outcome.summary.names")), 3);
    assert_int_equal(json_integer_value(tget(cert, "outcome.summary.erased")), 2);
    assert_int_equal(json_integer_value(tget(cert, "outcome.rescan.findings")), 0);
    assert_string_equal(tstr(cert, "identity.started"), "2026-11-22T13:59:00Z");
    assert_string_equal(tstr(cert, "identity.finished"), "2026-11-22T14:01:20Z");
    assert_string_equal(tstr(cert, "identity.tool.build"), "abc123def456");
    assert_string_equal(tstr(cert, "authority.order_reference"), "DO/2026/04417");
    assert_string_equal(tstr(cert, "authority.officer.name"), "DC Alex Example");
    assert_true(json_is_null(tget(cert, "authority.independent_verifier.name")));
    assert_string_equal(tstr(cert, "exhibit.device.serial"), "S5SUNG0R123456X");
    assert_string_equal(tstr(cert, "exhibit.filesystem.type"), "ext4");
    assert_string_equal(tstr(cert, "hash_set.supplier"),
                        "Victim's solicitor via CPS, ref VS-2026-18");
    assert_string_equal(tstr(cert, "hash_set.lists.0.file"), "victim-list.txt");
    assert_int_equal(json_integer_value(tget(cert, "hash_set.entries.sha256")), 2);
    assert_true(json_is_null(tget(cert, "hash_set.perceptual_thresholds")));
    assert_true(json_is_true(tget(cert, "scan.one_filesystem")));
    assert_string_equal(tstr(cert, "scan.skips.0.reason"), "symlink");
    /* target 0 is the hard-linked inode with both names */
    assert_int_equal(json_array_size(tget(cert, "targets.0.names")), 2);
    assert_string_equal(tstr(cert, "targets.0.names.1.location.0"), "photos/a.jpg");
    assert_int_equal(json_integer_value(tget(cert, "targets.0.links_at_scan")), 2);
    assert_string_equal(tstr(cert, "targets.0.matched.0.list"), "victim-list.txt");
    assert_string_equal(tstr(cert, "targets.0.matched.0.algo"), "sha256");
    assert_int_equal(json_integer_value(tget(cert, "targets.0.matched.0.distance")), 0);
    assert_int_equal(json_array_size(tget(cert, "targets.0.matched")), 1); /* deduplicated */
    assert_string_equal(tstr(cert, "targets.0.digests.sha1"), SHA1_A);
    assert_string_equal(tstr(cert, "targets.1.assurance"), "overwritten-in-place-verified");
    assert_string_equal(tstr(cert, "targets.1.verification.result"), "match");
    assert_string_equal(tstr(cert, "outcome.journal.head"), HEAD0);
    assert_string_equal(tstr(cert, "signer.keyid"), KEYID);
    char *dump = dp_json_dump(cert);
    assert_null(strstr(dump, "Jane Doe"));     /* labels may name victims: never copied */
    assert_null(strstr(dump, "/case/lists/")); /* list by base name only */
    assert_non_null(strstr(dump, "could not be examined"));
    assert_non_null(strstr(dump, "The ext4 journal was checkpointed"));
    assert_non_null(strstr(dump, "cloud storage"));
    free(dump);
    json_decref(cert);
}

static void test_build_failed_and_partial(void **state)
{
    (void)state;
    /* re-scan still finds one file: FAILED, and the certificate is still consistent */
    json_t *r1 = report("/mnt/exhibit", FINDING("photos/b.png", 13, 1, MD5_B, SHA1_B, SHA256_B, 2),
                        1, "2026-11-22T14:01:00Z", "2026-11-22T14:01:20Z");
    json_t *cert = build_with(wipe_all(), r1, KEYID);
    assert_check_ok(cert);
    assert_string_equal(tstr(cert, "outcome.result"), "FAILED");
    assert_string_equal(tstr(cert, "outcome.rescan.remaining.0.location.0"), "photos/b.png");
    json_decref(cert);
    /* no re-scan: FAILED */
    cert = build_with(wipe_all(), NULL, KEYID);
    assert_check_ok(cert);
    assert_string_equal(tstr(cert, "outcome.result"), "FAILED");
    assert_true(json_is_false(tget(cert, "outcome.rescan.performed")));
    json_decref(cert);
    /* one target skipped, re-scan clean: PARTIAL */
    cert =
        build_with(wipe(TARGET12 "," TARGET13_SKIPPED, 2, 3, 1, 1, 0, HEAD0, 9), rescan0(), KEYID);
    assert_check_ok(cert);
    assert_string_equal(tstr(cert, "outcome.result"), "PARTIAL");
    assert_string_equal(tstr(cert, "targets.1.reason"), "changed since scan");
    assert_string_equal(tstr(cert, "targets.1.action"), "none");
    json_decref(cert);
    /* a finding the wipe never attempted is carried as not erased: PARTIAL */
    cert = build_with(wipe(TARGET12, 1, 2, 1, 0, 0, HEAD0, 9), rescan0(), KEYID);
    assert_check_ok(cert);
    assert_string_equal(tstr(cert, "outcome.result"), "PARTIAL");
    assert_int_equal(json_array_size(tget(cert, "targets")), 2);
    assert_string_equal(tstr(cert, "targets.1.status"), "skipped");
    assert_non_null(strstr(tstr(cert, "targets.1.reason"), "not in the wipe result"));
    json_decref(cert);
}

/* Inputs that must not become a certificate. */
static void test_build_rejects(void **state)
{
    (void)state;
    struct {
        const char *what, *path, *value; /* value: JSON text with ', NULL = delete */
        int which;                       /* 0 wipe, 1 rescan, 2 scan */
        const char *msg;
    } cases[] = {
        {"dry run", "dry_run", "true", 0, "dry-run"},
        {"planned", "targets.0.status", "'planned'", 0, "only planned"},
        {"bad status", "targets.0.status", "'done'", 0, "unknown status"},
        {"other location", "targets.0.names.0.location", "['x.jpg']", 0, "differs"},
        {"bad index", "targets.0.names.0.plan_index", "7", 0, "bad plan_index"},
        {"other digest", "targets.0.digests.sha256", "'" SHA256_B "'", 0, "digests differ"},
        {"other inode", "targets.0.inode", "99", 0, "inode"},
        {"summary", "summary.erased", "1", 0, "summary disagrees"},
        {"no targets", "targets", NULL, 0, "no targets"},
        {"rescan root", "root_abs", "'/mnt/other'", 1, "did not cover"},
        {"rescan lists", "hash_lists.0.sha256", "'" HEAD0 "'", 1, "did not cover"},
        {"rescan totals", "totals.findings", "4", 1, "totals.findings"},
        {"not a report", "format", "'other'", 2, "not a deprive scan report"},
        {"erased unverified", "targets.1.verification.result", "'mismatch'", 0,
         "inconsistent certificate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *c = case_doc(), *s = scan3(), *w = wipe_all(), *r = rescan0(), *cert = NULL;
        json_t *victim = cases[i].which == 0 ? w : cases[i].which == 1 ? r : s;
        tset(victim, cases[i].path, cases[i].value ? J("%s", cases[i].value) : NULL);
        struct dp_error err = {0};
        enum dp_status st = dp_cert_build(&cert, c, s, w, r, KEYID, &err);
        if (st != DP_ERR_INVALID || strstr(err.msg, cases[i].msg) == NULL)
            fprintf(stderr, "case '%s': status %d, '%s'\n", cases[i].what, st, err.msg);
        assert_int_equal(st, DP_ERR_INVALID);
        assert_non_null(strstr(err.msg, cases[i].msg));
        assert_null(cert);
        json_decref(c), json_decref(s), json_decref(w), json_decref(r);
    }
    /* bad signer key id */
    json_t *c = case_doc(), *s = scan3(), *w = wipe_all(), *cert = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_cert_build(&cert, c, s, w, NULL, "xyz", &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "key id"));
    json_decref(c), json_decref(s), json_decref(w);
}

static void test_missing_case_fields(void **state)
{
    (void)state;
    static const char *const req[] = {"authority.order_reference", "exhibit.exhibit_reference",
                                      "authority.officer.name"};
    for (size_t i = 0; i < 3; i++) {
        json_t *c = case_doc(), *s = scan3(), *w = wipe_all(), *cert = NULL;
        tset(c, req[i], NULL);
        struct dp_error err = {0};
        assert_int_equal(dp_cert_build(&cert, c, s, w, NULL, KEYID, &err), DP_ERR_INVALID);
        assert_non_null(strstr(err.msg, req[i]));
        assert_null(cert);
        json_decref(c), json_decref(s), json_decref(w);
    }
}

/* Issue 7.3a: every missing required field is named in one message, not one per attempt. */
static void test_case_all_missing_named(void **state)
{
    (void)state;
    struct dp_error err = {0};
    json_t *c = NULL;
    assert_int_equal(dp_cert_case_new(&c, &err), DP_OK);
    assert_int_equal(dp_cert_case_validate(c, &err), DP_ERR_INVALID);
    static const char *const want[] = {"authority.order_reference (--order)",
                                       "authority.officer.name (--officer)",
                                       "exhibit.exhibit_reference (--exhibit)"};
    for (size_t i = 0; i < 3; i++)
        if (strstr(err.msg, want[i]) == NULL)
            fail_msg("'%s' does not name %s", err.msg, want[i]);
    /* one missing: only that one */
    assert_int_equal(dp_cert_case_set(c, "order", "DO/1", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "officer", "DC X", &err), DP_OK);
    assert_int_equal(dp_cert_case_validate(c, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "exhibit.exhibit_reference (--exhibit)"));
    assert_null(strstr(err.msg, "order_reference"));
    assert_null(strstr(err.msg, "officer.name"));
    json_decref(c);
}

static void test_case_details(void **state)
{
    (void)state;
    struct dp_error err = {0};
    json_t *c = NULL;
    assert_int_equal(dp_cert_case_new(&c, &err), DP_OK);
    assert_int_equal(dp_cert_case_validate(c, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "authority.order_reference (--order)"));
    assert_int_equal(dp_cert_case_set(c, "order", "DO/1", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "exhibit", "AE/1", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "authority.officer.name", "DC X", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "device-serial", "SN1", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "order-date", "2026-10-30", &err), DP_OK);
    assert_int_equal(dp_cert_case_validate(c, &err), DP_OK);
    assert_string_equal(tstr(c, "exhibit.device.serial"), "SN1");
    assert_int_equal(dp_cert_case_set(c, "order", "DO/2", &err), DP_OK); /* flags override */
    assert_string_equal(tstr(c, "authority.order_reference"), "DO/2");
    assert_int_equal(dp_cert_case_set(c, "colour", "red", &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "unknown field 'colour'"));
    assert_int_equal(dp_cert_case_set(c, "order-date", "2026-13-01", &err), DP_ERR_INVALID);
    assert_int_equal(dp_cert_case_set(c, "order-date", "2026-02-31", &err), DP_ERR_INVALID);
    assert_int_equal(dp_cert_case_set(c, "order-date", "2025-02-29", &err), DP_ERR_INVALID);
    assert_int_equal(dp_cert_case_set(c, "order-date", "2024-02-29", &err), DP_OK);
    assert_int_equal(dp_cert_case_set(c, "conviction-date", "yesterday", &err), DP_ERR_INVALID);
    assert_int_equal(dp_cert_case_set(c, "officer", "a\nb", &err), DP_ERR_INVALID);
    assert_int_equal(dp_cert_case_set(c, "officer", "\x1b[2J", &err), DP_ERR_INVALID);
    assert_int_equal(dp_cert_case_set(c, "officer", "\xff\xfe", &err), DP_ERR_INVALID);
    assert_int_equal(dp_cert_case_set(c, "officer", "", &err), DP_ERR_INVALID);
    assert_string_equal(tstr(c, "authority.officer.name"), "DC X"); /* unchanged */
    /* the document: unknown keys, wrong types, wrong format */
    tset(c, "authority.colour", json_string("red"));
    assert_int_equal(dp_cert_case_validate(c, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "unknown field 'authority.colour'"));
    tset(c, "authority.colour", NULL);
    tset(c, "exhibit.device", json_string("phone"));
    assert_int_equal(dp_cert_case_validate(c, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "exhibit.device: must be an object"));
    tset(c, "exhibit.device", json_object());
    tset(c, "exhibit.capacity", json_integer(512));
    assert_int_equal(dp_cert_case_validate(c, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "exhibit.capacity (--capacity): must be a string"));
    tset(c, "exhibit.capacity", NULL);
    tset(c, "format", json_string("other"));
    assert_int_equal(dp_cert_case_validate(c, &err), DP_ERR_INVALID);
    tset(c, "format", json_string(DP_CERT_CASE_FORMAT));
    assert_int_equal(dp_cert_case_validate(c, &err), DP_OK);
    json_decref(c);
    /* the field table: flags unique, required ones as documented */
    size_t n = 0;
    const struct dp_cert_case_field *f = dp_cert_case_fields(&n);
    size_t required = 0;
    for (size_t i = 0; i < n; i++) {
        required += f[i].required;
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(f[i].flag, f[j].flag);
    }
    assert_int_equal(required, 3);
    /* a case file: the fixture loads; a broken one names the file */
    char *dir = tu_mkdtemp();
    const char *badtext = "{\"authority\":{\"order_reference\":\"x\"}}";
    tu_write(dir, "bad.json", badtext, strlen(badtext));
    char *bad = tu_path(dir, "bad.json");
    assert_int_equal(dp_cert_case_from_file(&c, bad, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "bad.json: case details: missing authority.officer.name"));
    c = case_doc();
    json_decref(c);
    free(bad);
    tu_rm_rf(dir);
    free(dir);
}

static void test_determinism(void **state)
{
    (void)state;
    json_t *a = good_cert(), *b = good_cert();
    assert_string_not_equal(tstr(a, "identity.certificate_id"), tstr(b, "identity.certificate_id"));
    tset(a, "identity.certificate_id", NULL);
    tset(b, "identity.certificate_id", NULL);
    tset(a, "identity.issued", NULL);
    tset(b, "identity.issued", NULL);
    char *da = dp_json_dump(a), *db = dp_json_dump(b);
    assert_string_equal(da, db);
    free(da);
    free(db);
    json_decref(a);
    json_decref(b);
}

/* ---- checking ------------------------------------------------------------------------- */

static void test_check_tamper(void **state)
{
    (void)state;
    struct {
        const char *path, *value; /* JSON text with ', NULL = delete */
        const char *msg;
    } cases[] = {
        {"outcome.summary.erased", "1", "outcome.summary.erased: says 1, the targets give 2"},
        {"scan.totals.skipped", "5", "scan.totals.skipped: 5, but the reasons add up to 1"},
        {"targets.0.status", NULL, "targets[0].status: missing"},
        {"targets.1.status", "'failed'", "outcome.result: ERASED, but targets[1] is failed"},
        {"targets.0.digests.sha256", "'xyz'", "targets[0].digests.sha256: not 64"},
        {"targets.0.digests.md5", "'" SHA256_A "'", "targets[0].digests.md5: not 32"},
        {"targets.0.digests.crc", "'00'", "targets[0].digests.crc: unknown algorithm"},
        {"format", "'other'", "format"},
        {"schema", "2", "schema: not 1"},
        {"authority.order_reference", NULL, "authority.order_reference: missing"},
        {"exhibit.exhibit_reference", "''", "exhibit.exhibit_reference: missing"},
        {"outcome.result", "'FAILED'",
         "outcome.result: FAILED, but the targets and the re-scan "
         "make it ERASED"},
        {"outcome.result", "'DONE'", "outcome.result: unknown value"},
        {"targets.0.verification.result", "'mismatch'",
         "targets[0].verification.result: erased target not verified"},
        {"targets.0.assurance", "'not-erased'", "targets[0].assurance"},
        {"outcome.residual_risks", "[]", "outcome.residual_risks"},
        {"outcome.rescan.findings", "1", "outcome.rescan.remaining"},
        {"outcome.rescan.root", "'/elsewhere'", "outcome.rescan.root"},
        {"outcome.rescan.hash_lists", "[]", "outcome.rescan.hash_lists"},
        {"outcome.rescan.performed", NULL, "outcome.rescan.performed"},
        {"signer.keyid", "'nothex'", "signer.keyid"},
        {"hash_set.entries.sha256", "5", "hash_set.entries"},
        {"hash_set.lists.0.sha256", "'abc'", "hash_set.lists[0].sha256"},
        {"scan.totals.files_read", "-1", "scan.totals.files_read: negative"},
        {"scan.totals.files_read", "11", "more files read"},
        {"scan.skips", "[]", "scan.skips: 0 listed"},
        {"targets.0.names.0.removed", "false", "this name was not removed"},
        {"targets.0.names.0.location", "[]", "targets[0].names[0].location"},
        {"targets.0.names.1", NULL, "the scan reported 3 findings"},
        {"targets.0.matched", "[]", "targets[0].matched"},
        {"targets.0.matched.0.line", "0", "targets[0].matched[0]"},
        {"targets.0.size", "-4", "targets[0].size: negative"},
        {"targets.1", NULL, "outcome.summary.targets"},
        {"identity.certificate_id", "'x'", "identity.certificate_id"},
        {"identity.issued", "'yesterday'", "identity.issued"},
        {"outcome.journal.head", "'abc'", "outcome.journal.head"},
    };
    json_t *good = good_cert();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *cert = json_deep_copy(good);
        tset(cert, cases[i].path, cases[i].value ? J("%s", cases[i].value) : NULL);
        struct dp_error err = {0};
        struct dp_cert_problems probs = {0};
        enum dp_status st = dp_cert_check(cert, &probs, &err);
        bool found = false;
        for (size_t k = 0; k < probs.count; k++)
            found = found || strstr(probs.items[k], cases[i].msg) != NULL;
        if (st != DP_ERR_VERIFY || !found)
            fprintf(stderr, "tamper %s: status %d, '%s'\n", cases[i].path, st, err.msg);
        assert_int_equal(st, DP_ERR_VERIFY);
        assert_true(found);
        assert_true(strstr(err.msg, "problem") != NULL);
        dp_cert_problems_release(&probs);
        json_decref(cert);
    }
    /* every problem is listed, not just the first */
    json_t *cert = json_deep_copy(good);
    tset(cert, "outcome.summary.erased", json_integer(7));
    tset(cert, "targets.1.digests.sha256", json_string("zz"));
    struct dp_cert_problems probs = {0};
    struct dp_error err = {0};
    assert_int_equal(dp_cert_check(cert, &probs, &err), DP_ERR_VERIFY);
    assert_int_equal(probs.count, 2);
    assert_non_null(strstr(err.msg, "2 problems: "));
    assert_non_null(strstr(err.msg, "outcome.summary.erased"));
    assert_non_null(strstr(err.msg, "targets[1].digests.sha256"));
    dp_cert_problems_release(&probs);
    json_decref(cert);
    /* not an object at all */
    json_t *arr = json_array();
    assert_int_equal(dp_cert_check(arr, NULL, &err), DP_ERR_VERIFY);
    json_decref(arr);
    json_decref(good);
}

/* ---- trusted comment -------------------------------------------------------------------- */

static void test_trusted_comment(void **state)
{
    (void)state;
    uint8_t sha[32];
    for (int i = 0; i < 32; i++)
        sha[i] = (uint8_t)(i * 7);
    const char *id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    char tc[DP_CERT_TRUSTED_MAX];
    struct dp_error err = {0};
    assert_int_equal(dp_cert_trusted_comment(tc, sizeof(tc), "cert\tname\n\xc3\xa9.json", sha,
                                             "0123456789abcdef", id, &err),
                     DP_OK);
    assert_non_null(strstr(tc, "timestamp:"));
    assert_non_null(strstr(tc, "\tfile:cert?name???.json\t"));
    assert_non_null(strstr(tc, "\tkeyid:0123456789ABCDEF\t"));
    assert_null(strchr(tc, '\n'));
    struct dp_cert_trusted t;
    assert_int_equal(dp_cert_trusted_parse(&t, tc, &err), DP_OK);
    assert_memory_equal(t.sha256, sha, 32);
    assert_string_equal(t.keyid, "0123456789ABCDEF");
    assert_string_equal(t.cert_id, id);
    assert_string_equal(t.file, "cert?name???.json");
    assert_true(t.timestamp > 1700000000);
    /* refusals */
    assert_int_equal(dp_cert_trusted_comment(tc, 40, "c.json", sha, KEYID, id, &err), DP_ERR_LIMIT);
    assert_int_equal(dp_cert_trusted_comment(tc, sizeof(tc), "c.json", sha, "12", id, &err),
                     DP_ERR_INVALID);
    assert_int_equal(dp_cert_trusted_comment(tc, sizeof(tc), "c.json", sha, KEYID, "x", &err),
                     DP_ERR_INVALID);
    static const char *const bad[] = {
        "timestamp:1\tfile:x",                                 /* no sha256, keyid */
        "timestamp:1700000000\tfile:c.json",                   /* minisign's default */
        "sha256:" HEAD0 "\tkeyid:0123",                        /* short keyid */
        "sha256:" HEAD0 "x\tkeyid:" KEYID,                     /* long sha */
        "sha256:" HEAD0 "\tsha256:" HEAD0 "\tkeyid:" KEYID,    /* duplicate */
        "sha256:" HEAD0 "\tkeyid:" KEYID "\tcertificate:nope", /* bad uuid */
        "sha256:" HEAD0 "\tkeyid:" KEYID "\tnocolon",          /* malformed field */
        "timestamp:-5\tsha256:" HEAD0 "\tkeyid:" KEYID,        /* negative time */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(dp_cert_trusted_parse(&t, bad[i], &err), DP_ERR_VERIFY);
    assert_int_equal(dp_cert_trusted_parse(&t, "sha256:" HEAD0 "\tkeyid:" KEYID "\tother:1", &err),
                     DP_OK);
    assert_int_equal(t.timestamp, -1);
}

/* ---- text ----------------------------------------------------------------------------- */

static char *render(const json_t *cert)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    struct dp_error err = {0};
    assert_int_equal(dp_cert_render_text(f, cert, &err), DP_OK);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_render_text(void **state)
{
    (void)state;
    json_t *cert = good_cert();
    char *t = render(cert);
    assert_non_null(strstr(t, "DO/2026/04417"));
    assert_non_null(strstr(t, "AE/1"));
    assert_non_null(strstr(t, "ERASED"));
    assert_non_null(strstr(t, "photos/a.jpg"));
    assert_non_null(strstr(t, "backup/a-copy.jpg"));
    assert_non_null(strstr(t, SHA256_B));
    assert_non_null(strstr(t, KEYID));
    assert_non_null(strstr(t, "not examined (symlink): link-to-etc"));
    free(t);
    /* hostile strings never reach the terminal raw; non-UTF-8 names show escaped */
    tset(cert, "authority.officer.name",
         json_string("evil\x1b[2J\xc2\x9b"
                     "31m"));
    char raw[] = "ph\xff"
                 "to.jpg";
    tset(cert, "targets.0.names.0.location", json_pack("[o]", dp_json_bytes(raw, 9)));
    tset(cert, "targets.1.names.0.location", json_pack("[s]", "caf\xc3\xa9\\x41.jpg"));
    t = render(cert);
    assert_null(strchr(t, '\x1b'));
    assert_null(strstr(t, "\xc2\x9b"));
    assert_non_null(strstr(t, "evil\\x1b[2J\\x9b31m"));
    assert_non_null(strstr(t, "ph\\xffto.jpg"));
    assert_non_null(strstr(t, "caf\xc3\xa9\\\\x41.jpg")); /* UTF-8 kept, backslash escaped */
    free(t);
    /* anything renders, even garbage */
    json_t *junk = J("{'outcome':7,'targets':{'a':1},'scan':[]}");
    t = render(junk);
    assert_non_null(strstr(t, "DEPRIVE ERASURE CERTIFICATE"));
    free(t);
    json_decref(junk);
    json_decref(cert);
}

/* ---- signing (library) ------------------------------------------------------------------ */

struct keys {
    char *dir, *pub, *sec, *pub2, *sec2;
    struct dp_sign_seckey *sk, *sk2;
    struct dp_sign_pubkey *pk, *pk2;
    char id[DP_SIGN_KEYID_HEX_SIZE], id2[DP_SIGN_KEYID_HEX_SIZE];
};

static void keys_make(struct keys *k)
{
    memset(k, 0, sizeof(*k));
    k->dir = tu_mkdtemp();
    k->pub = tu_path(k->dir, "force.pub");
    k->sec = tu_path(k->dir, "force.key");
    k->pub2 = tu_path(k->dir, "other.pub");
    k->sec2 = tu_path(k->dir, "other.key");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", k->pub, "-s", k->sec, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    struct dp_error err = {0};
    assert_int_equal(dp_sign_keygen(NULL, k->pub2, k->sec2, NULL, &err), DP_OK);
    assert_int_equal(dp_sign_seckey_load(&k->sk, k->sec, NULL, &err), DP_OK);
    assert_int_equal(dp_sign_seckey_load(&k->sk2, k->sec2, NULL, &err), DP_OK);
    assert_int_equal(dp_sign_pubkey_load(&k->pk, k->pub, &err), DP_OK);
    assert_int_equal(dp_sign_pubkey_load(&k->pk2, k->pub2, &err), DP_OK);
    dp_sign_pubkey_keyid(k->pk, k->id);
    dp_sign_pubkey_keyid(k->pk2, k->id2);
}

static void keys_free(struct keys *k)
{
    dp_sign_seckey_free(k->sk);
    dp_sign_seckey_free(k->sk2);
    dp_sign_pubkey_free(k->pk);
    dp_sign_pubkey_free(k->pk2);
    tu_rm_rf(k->dir);
    free(k->dir), free(k->pub), free(k->sec), free(k->pub2), free(k->sec2);
}

/* Write cert to dir/name and its signature (by sk) to dir/name.minisig. */
static void write_signed(const char *dir, const char *name, const json_t *cert,
                         const struct dp_sign_seckey *sk)
{
    char *text = dp_json_dump(cert), *sig = NULL;
    struct dp_error err = {0};
    enum dp_status st = dp_cert_sign(&sig, sk, text, strlen(text), name, &err);
    if (st != DP_OK)
        fprintf(stderr, "sign: %s\n", err.msg);
    assert_int_equal(st, DP_OK);
    char sname[256];
    snprintf(sname, sizeof(sname), "%s.minisig", name);
    tu_write(dir, name, text, strlen(text));
    tu_write(dir, sname, sig, strlen(sig));
    free(text);
    free(sig);
}

static void test_sign_verify_library(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k);
    json_t *cert = build_with(wipe_all(), rescan0(), k.id);
    char *text = dp_json_dump(cert), *sig = NULL;
    size_t len = strlen(text);
    struct dp_error err = {0};
    assert_int_equal(dp_cert_sign(&sig, k.sk, text, len, "case 1.json", &err), DP_OK);
    size_t slen = strlen(sig);
    struct dp_cert_verified v;
    assert_int_equal(dp_cert_verify(&v, k.pk, text, len, sig, slen, &err), DP_OK);
    assert_string_equal(v.result, "ERASED");
    assert_string_equal(v.keyid, k.id);
    assert_string_equal(v.trusted.file, "case 1.json");
    assert_string_equal(v.trusted.cert_id, tstr(cert, "identity.certificate_id"));
    dp_cert_verified_release(&v);
    /* every single flipped byte of the certificate is caught */
    for (size_t i = 0; i < len; i++) {
        text[i] ^= 0x20;
        assert_int_equal(dp_cert_verify(NULL, k.pk, text, len, sig, slen, &err), DP_ERR_VERIFY);
        text[i] ^= 0x20;
    }
    assert_int_equal(dp_cert_verify(NULL, k.pk, text, len - 1, sig, slen, &err), DP_ERR_VERIFY);
    /* every flipped byte of the signature after the (unauthenticated) first line */
    size_t from = (size_t)(strchr(sig, '\n') - sig) + 1;
    for (size_t i = from; i < slen; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            sig[i] ^= (char)(1 << bit);
            enum dp_status st = dp_cert_verify(NULL, k.pk, text, len, sig, slen, &err);
            if (st != DP_ERR_VERIFY)
                fprintf(stderr, "signature byte %zu bit %d: %d\n", i, bit, st);
            assert_int_equal(st, DP_ERR_VERIFY);
            sig[i] ^= (char)(1 << bit);
        }
    }
    /* another key */
    assert_int_equal(dp_cert_verify(NULL, k.pk2, text, len, sig, slen, &err), DP_ERR_VERIFY);
    /* signing refuses a certificate that names another signer */
    char *sig2 = NULL;
    assert_int_equal(dp_cert_sign(&sig2, k.sk2, text, len, "c.json", &err), DP_ERR_INVALID);
    assert_null(sig2);
    /* a valid signature over an inconsistent certificate */
    tset(cert, "outcome.summary.failed", json_integer(1));
    char *bad = dp_json_dump(cert);
    assert_int_equal(dp_cert_sign(&sig2, k.sk, bad, strlen(bad), "c.json", &err), DP_OK);
    assert_int_equal(dp_cert_verify(&v, k.pk, bad, strlen(bad), sig2, strlen(sig2), &err),
                     DP_ERR_VERIFY);
    assert_int_equal(v.problems.count, 1);
    assert_non_null(strstr(err.msg, "outcome.summary.failed"));
    dp_cert_verified_release(&v);
    free(sig2);
    /* validly signed, but the trusted comment does not describe this file */
    uint8_t sha[32];
    dp_sha256_buf(sha, text, len);
    const char *cid = tstr(cert, "identity.certificate_id");
    char tc[DP_CERT_TRUSTED_MAX], other_sha[32];
    memcpy(other_sha, sha, 32);
    other_sha[5] ^= 1;
    struct {
        const char *what;
        const uint8_t *sha;
        const char *keyid, *cid, *msg;
    } lies[] = {
        {"sha", (const uint8_t *)other_sha, k.id, cid, "differs from the signed"},
        {"keyid", sha, k.id2, cid, "names key"},
        {"cert id", sha, k.id, "0f8fad5b-d9cb-469f-a165-70867728950e", "certificate id"},
    };
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        assert_int_equal(dp_cert_trusted_comment(tc, sizeof(tc), "c.json", lies[i].sha,
                                                 lies[i].keyid, lies[i].cid, &err),
                         DP_OK);
        assert_int_equal(dp_sign_sign(&sig2, k.sk, text, len, tc, NULL, &err), DP_OK);
        enum dp_status st = dp_cert_verify(NULL, k.pk, text, len, sig2, strlen(sig2), &err);
        if (st != DP_ERR_VERIFY || strstr(err.msg, lies[i].msg) == NULL)
            fprintf(stderr, "lie %s: %d '%s'\n", lies[i].what, st, err.msg);
        assert_int_equal(st, DP_ERR_VERIFY);
        assert_non_null(strstr(err.msg, lies[i].msg));
        free(sig2);
    }
    /* minisign's own default comment carries no certificate digest */
    assert_int_equal(dp_sign_sign(&sig2, k.sk, text, len, "timestamp:1\tfile:c.json", NULL, &err),
                     DP_OK);
    assert_int_equal(dp_cert_verify(NULL, k.pk, text, len, sig2, strlen(sig2), &err),
                     DP_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "trusted comment"));
    free(sig2);
    /* signed data that is not JSON */
    assert_int_equal(dp_cert_sign(&sig2, k.sk, "nope", 4, "c.json", &err), DP_ERR_PARSE);
    free(bad);
    free(sig);
    free(text);
    json_decref(cert);
    keys_free(&k);
}

/* ---- the CLI ---------------------------------------------------------------------------- */

static void expect(struct tu_run *r, int status, const char *out, const char *errtext)
{
    if (r->status != status || (out && !strstr(r->out, out)) ||
        (errtext && !strstr(r->err, errtext)))
        fprintf(stderr, "exit %d (want %d)\nstdout: %s\nstderr: %s\n", r->status, status, r->out,
                r->err);
    assert_int_equal(r->status, status);
    if (out != NULL)
        assert_non_null(strstr(r->out, out));
    if (errtext != NULL)
        assert_non_null(strstr(r->err, errtext));
    tu_run_free(r);
}

static void flip_file(const char *path, size_t off)
{
    size_t len = 0;
    char *b = tu_read(path, &len);
    assert_non_null(b);
    assert_true(off < len);
    b[off] ^= 0x01;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(b);
}

static void test_cli_verify(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k);
    json_t *cert = build_with(wipe_all(), rescan0(), k.id);
    write_signed(k.dir, "cert.json", cert, k.sk);
    char *cp = tu_path(k.dir, "cert.json"), *sp = tu_path(k.dir, "cert.json.minisig");
    char want[128];
    snprintf(want, sizeof(want), "certificate valid: ERASED, signed by key %s\n", k.id);
    struct tu_run r;
    tu_deprive(&r, NULL, "verify", "-p", k.pub, cp, NULL);
    expect(&r, 0, want, NULL);
    tu_deprive(&r, NULL, "verify", "--require-erased", "-x", sp, "--public-key", k.pub, cp, NULL);
    expect(&r, 0, want, NULL);
    tu_deprive(&r, NULL, "-v", "verify", "-p", k.pub, cp, NULL);
    expect(&r, 0, tstr(cert, "identity.certificate_id"), NULL);
    /* minisign itself accepts it */
    if (tu_have("minisign")) {
        char *argv[] = {"minisign", "-Vm", cp, "-p", k.pub, NULL};
        tu_run_argv(&r, argv, NULL);
        expect(&r, 0, "certificate:", NULL);
        char *argq[] = {"minisign", "-Vm", cp, "-p", k.pub2, NULL};
        tu_run_argv(&r, argq, NULL);
        assert_int_not_equal(r.status, 0);
        tu_run_free(&r);
    } else {
        printf("minisign not installed: skipping the minisign -V check\n");
    }
    /* another key, wrong signature file, flipped bytes */
    tu_deprive(&r, NULL, "verify", "-p", k.pub2, cp, NULL);
    expect(&r, 1, NULL, "deprive: certificate INVALID: signature: ");
    size_t clen = 0, slen = 0;
    free(tu_read(cp, &clen));
    free(tu_read(sp, &slen));
    for (size_t s = 0; s < 12; s++) {
        size_t off = s * (clen - 1) / 11;
        flip_file(cp, off);
        tu_deprive(&r, NULL, "verify", "-p", k.pub, cp, NULL);
        expect(&r, 1, NULL, "deprive: certificate INVALID: ");
        flip_file(cp, off);
    }
    char *sig = tu_read(sp, NULL);
    size_t first = (size_t)(strchr(sig, '\n') - sig) + 1;
    free(sig);
    for (size_t s = 0; s < 8; s++) {
        size_t off = first + s * (slen - 1 - first) / 7;
        flip_file(sp, off);
        tu_deprive(&r, NULL, "verify", "-p", k.pub, cp, NULL);
        expect(&r, 1, NULL, "deprive: certificate INVALID: signature: ");
        flip_file(sp, off);
    }
    tu_write(k.dir, "empty.minisig", "", 0);
    char *ep = tu_path(k.dir, "empty.minisig");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, "-x", ep, cp, NULL);
    expect(&r, 1, NULL, "certificate INVALID");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, cp, NULL);
    expect(&r, 0, want, NULL); /* all flips undone */
    /* a valid signature over an inconsistent certificate */
    json_t *bad = json_deep_copy(cert);
    tset(bad, "targets.1.status", json_string("failed"));
    write_signed(k.dir, "bad.json", bad, k.sk);
    char *bp = tu_path(k.dir, "bad.json");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, bp, NULL);
    expect(&r, 1, NULL, "outcome.result: ERASED, but targets[1] is failed");
    /* a valid PARTIAL certificate, with and without --require-erased */
    json_t *part =
        build_with(wipe(TARGET12 "," TARGET13_SKIPPED, 2, 3, 1, 1, 0, HEAD0, 9), rescan0(), k.id);
    write_signed(k.dir, "part.json", part, k.sk);
    char *pp = tu_path(k.dir, "part.json");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, pp, NULL);
    expect(&r, 0, "certificate valid: PARTIAL", NULL);
    tu_deprive(&r, NULL, "verify", "--require-erased", "-p", k.pub, pp, NULL);
    expect(&r, 1, "certificate valid: PARTIAL", "not ERASED");
    /* errors: 2 */
    tu_deprive(&r, NULL, "verify", cp, NULL);
    expect(&r, 2, NULL, "-p PUBKEY is required");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, NULL);
    expect(&r, 2, NULL, "certificate file is required");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, "/nonexistent/cert.json", NULL);
    expect(&r, 2, NULL, "nonexistent");
    tu_deprive(&r, NULL, "verify", "-p", "/nonexistent/k.pub", cp, NULL);
    expect(&r, 2, NULL, "nonexistent");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, "-x", "/nonexistent/s.minisig", cp, NULL);
    expect(&r, 2, NULL, "nonexistent");
    tu_deprive(&r, NULL, "verify", "--bogus", NULL);
    expect(&r, 2, NULL, "unknown option");
    tu_deprive(&r, NULL, "verify", "--help", NULL);
    expect(&r, 0, "usage: deprive verify", NULL);
    free(ep), free(bp), free(pp), free(cp), free(sp);
    json_decref(cert), json_decref(bad), json_decref(part);
    keys_free(&k);
}

static void test_cli_verify_journal(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k);
    char *jp = tu_path(k.dir, "plan.json.journal");
    struct dp_journal *j = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_journal_create(&j, jp, &err), DP_OK);
    for (int i = 0; i < 4; i++) {
        json_t *d = json_pack("{s:i}", "step", i);
        assert_int_equal(dp_journal_append(j, "step", d, &err), DP_OK);
        json_decref(d);
    }
    char head[DP_JOURNAL_HEX_LEN];
    dp_journal_head(j, head);
    assert_int_equal(dp_journal_close(j, &err), DP_OK);
    json_t *cert = build_with(wipe(TARGET12 "," TARGET13, 2, 3, 2, 0, 0, head, 4), rescan0(), k.id);
    write_signed(k.dir, "cert.json", cert, k.sk);
    char *cp = tu_path(k.dir, "cert.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "verify", "-p", k.pub, "--journal", jp, cp, NULL);
    expect(&r, 0, "certificate valid: ERASED", NULL);
    /* a journal that goes on past the certified head (other than by a resume's "retry") */
    assert_int_equal(dp_journal_open(&j, jp, NULL, NULL, NULL, &err), DP_OK);
    assert_int_equal(dp_journal_append(j, "extra", NULL, &err), DP_OK);
    assert_int_equal(dp_journal_close(j, &err), DP_OK);
    tu_deprive(&r, NULL, "verify", "-p", k.pub, "--journal", jp, cp, NULL);
    expect(&r, 1, NULL, "but the certificate records");
    /* a damaged journal */
    size_t len = 0;
    char *b = tu_read(jp, &len);
    char *step = strstr(b, "\"step\":1");
    assert_non_null(step);
    step[7] = '5';
    unlink(jp);
    tu_write(k.dir, "plan.json.journal", b, len);
    free(b);
    tu_deprive(&r, NULL, "verify", "-p", k.pub, "--journal", jp, cp, NULL);
    expect(&r, 1, NULL, "certificate INVALID: journal");
    tu_deprive(&r, NULL, "verify", "-p", k.pub, "--journal", "/nonexistent/j", cp, NULL);
    expect(&r, 2, NULL, "nonexistent");
    free(jp), free(cp);
    json_decref(cert);
    keys_free(&k);
}

static void test_cli_show(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k);
    json_t *cert = build_with(wipe_all(), rescan0(), k.id);
    write_signed(k.dir, "cert.json", cert, k.sk);
    char *cp = tu_path(k.dir, "cert.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "show", cp, NULL);
    expect(&r, 0, "DO/2026/04417", "signature not checked");
    tu_deprive(&r, NULL, "show", cp, NULL);
    expect(&r, 0, "NOT CHECKED", NULL);
    tu_deprive(&r, NULL, "show", "-p", k.pub, cp, NULL);
    expect(&r, 0, "Signature                          verified", NULL);
    tu_deprive(&r, NULL, "show", "-p", k.pub2, cp, NULL);
    expect(&r, 1, NULL, "certificate INVALID");
    json_t *bad = json_deep_copy(cert);
    tset(bad, "outcome.summary.names", json_integer(2));
    write_signed(k.dir, "bad.json", bad, k.sk);
    char *bp = tu_path(k.dir, "bad.json");
    tu_deprive(&r, NULL, "show", bp, NULL);
    expect(&r, 1, NULL, "outcome.summary.names");
    tu_write(k.dir, "junk.json", "{nope", 5);
    char *jp = tu_path(k.dir, "junk.json");
    tu_deprive(&r, NULL, "show", jp, NULL);
    expect(&r, 2, NULL, "not JSON");
    tu_deprive(&r, NULL, "show", "-x", "s", cp, NULL);
    expect(&r, 2, NULL, "needs -p");
    tu_deprive(&r, NULL, "show", "--help", NULL);
    expect(&r, 0, "usage: deprive show", NULL);
    free(cp), free(bp), free(jp);
    json_decref(cert), json_decref(bad);
    keys_free(&k);
}

/* ---- signatures under hostile file names (one trusted comment builder) ------------------ */

/* Output names a person may give; the trusted comment carries them cleaned. */
static const struct {
    const char *name, *want;
} HOSTILE[] = {
    {"audit\nreport.json", "audit?report.json"},
    {"a\tsha256:00\tcertificate:0f8fad5b-d9cb-469f-a165-70867728950e",
     "a?sha256:00?certificate:0f8fad5b-d9cb-469f-a165-70867728950e"},
    {"\x1b[2J\x1b[31mred\x07.json", "?[2J?[31mred?.json"},
    {"bad\xff\xfe.json", "bad??.json"},
    {"r\xc3\xa9sum\xc3\xa9.json", "r??sum??.json"},
};
#define N_HOSTILE (sizeof(HOSTILE) / sizeof(HOSTILE[0]))

/* path's signature (path.minisig) verifies over path with pk; its trusted comment is one
 * printable ASCII line that deprive parses back to file want, the file's SHA-256 and pk's id;
 * minisign -V accepts it when installed. Returns the parsed comment. */
static struct dp_cert_trusted check_signed(const char *path, const struct keys *k,
                                           const char *want)
{
    size_t len = 0, slen = 0;
    char *data = tu_read(path, &len), *sp = NULL, *tc = NULL;
    assert_true(asprintf(&sp, "%s.minisig", path) > 0);
    char *sig = tu_read(sp, &slen);
    assert_non_null(data);
    assert_non_null(sig);
    struct dp_error err = {0};
    assert_int_equal(dp_sign_verify(&tc, k->pk, data, len, sig, slen, 0, &err), DP_OK);
    for (const char *p = tc; *p; p++)
        assert_true(*p == '\t' || (*p >= 0x20 && *p <= 0x7e));
    struct dp_cert_trusted t;
    if (dp_cert_trusted_parse(&t, tc, &err) != DP_OK)
        fail_msg("trusted comment '%s': %s", tc, err.msg);
    assert_string_equal(t.file, want);
    assert_string_equal(t.keyid, k->id);
    uint8_t sha[32];
    dp_sha256_buf(sha, data, len);
    assert_memory_equal(t.sha256, sha, 32);
    if (tu_have("minisign")) {
        struct tu_run r;
        char *argv[] = {"minisign", "-Vm", (char *)path, "-p", k->pub, NULL};
        tu_run_argv(&r, argv, NULL);
        char line[600];
        snprintf(line, sizeof(line), "Trusted comment: %s\n", tc);
        expect(&r, 0, line, NULL);
    }
    free(data), free(sig), free(sp), free(tc);
    return t;
}

/* `deprive audit --key` signs its report through the same builder as certificates: a hostile
 * -o name gives a comment minisign accepts and deprive parses (the CLI used to print the name
 * raw into the comment: a newline failed the signing, a tab forged fields). */
static void test_cli_audit_signed_names(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k);
    json_t *cert = build_with(wipe_all(), rescan0(), k.id);
    write_signed(k.dir, "cert.json", cert, k.sk);
    char *cp = tu_path(k.dir, "cert.json"), *root = tu_path(k.dir, "root");
    assert_int_equal(mkdir(root, 0700), 0);
    if (!tu_have("minisign"))
        printf("minisign not installed: the audit signatures are checked by deprive only\n");
    for (size_t i = 0; i < N_HOSTILE; i++) {
        char *out = tu_path(k.dir, HOSTILE[i].name);
        struct tu_run r;
        tu_deprive(&r, NULL, "audit", "--cert", cp, "-p", k.pub, "--key", k.sec, "-o", out, root,
                   NULL);
        expect(&r, 0, NULL, NULL);
        struct dp_cert_trusted t = check_signed(out, &k, HOSTILE[i].want);
        assert_string_equal(t.cert_id, ""); /* an audit report is not a certificate */
        free(out);
    }
    free(cp), free(root);
    json_decref(cert);
    keys_free(&k);
}

/* A certificate written under a hostile name: `deprive verify` and minisign accept it. */
static void test_cli_verify_signed_names(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k);
    json_t *cert = build_with(wipe_all(), rescan0(), k.id);
    for (size_t i = 0; i < N_HOSTILE; i++) {
        write_signed(k.dir, HOSTILE[i].name, cert, k.sk);
        char *cp = tu_path(k.dir, HOSTILE[i].name);
        struct dp_cert_trusted t = check_signed(cp, &k, HOSTILE[i].want);
        assert_string_equal(t.cert_id, tstr(cert, "identity.certificate_id"));
        struct tu_run r;
        tu_deprive(&r, NULL, "verify", "-p", k.pub, cp, NULL);
        expect(&r, 0, "certificate valid: ERASED", NULL);
        free(cp);
    }
    json_decref(cert);
    keys_free(&k);
}

/* ---- the audit's hash set (issue 7.2) ---------------------------------------------------- */

/* Every digest of every erased target is in set, with the target's size or -1. */
static void assert_erased_in_set(const json_t *cert, const struct dp_hashset *set, bool sized)
{
    size_t i, total = 0;
    const json_t *t;
    json_array_foreach(json_object_get(cert, "targets"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "status")), "erased") != 0)
            continue;
        const char *algo;
        json_t *v;
        json_object_foreach(json_object_get(t, "digests"), algo, v) {
            enum dp_algo a;
            uint8_t d[DP_DIGEST_MAX];
            assert_true(dp_algo_parse(algo, strlen(algo), &a));
            assert_true(dp_hex_decode(d, dp_algo_len(a), json_string_value(v),
                                      json_string_length(v)));
            const struct dp_hash_entry *e = NULL;
            assert_int_equal(dp_hashset_lookup(set, a, d, &e), 1);
            assert_int_equal(e->size, sized ? json_integer_value(json_object_get(t, "size")) : -1);
            total++;
        }
    }
    size_t have = 0;
    for (int a = 0; a < DP_ALGO_COUNT; a++)
        have += dp_hashset_count(set, (enum dp_algo)a);
    assert_int_equal(have, total);
}

static void test_erased_hashset(void **state)
{
    (void)state;
    struct dp_error err = {0};
    struct dp_hashset *set = NULL;
    json_t *cert = good_cert();
    /* a verified certificate: its sizes may drive the size filter */
    assert_int_equal(dp_cert_erased_hashset(&set, cert, "cert.json (erased digests)", true, &err),
                     DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &err), DP_OK);
    assert_true(dp_hashset_sizes_complete(set));
    assert_true(dp_hashset_size_wanted(set, 4096));
    assert_erased_in_set(cert, set, true);
    assert_int_equal(dp_hashset_source_count(set), 1);
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_string_equal(src->path, "cert.json (erased digests)");
    assert_string_equal(src->format, "certificate");
    char *dump = dp_json_dump(cert);
    uint8_t sha[32];
    dp_sha256_buf(sha, dump, strlen(dump));
    assert_memory_equal(src->sha256, sha, 32); /* the certificate's bytes as deprive writes them */
    free(dump);
    dp_hashset_free(set);
    set = NULL;

    /* an unverified one: no size is trusted, so nothing is skipped by size */
    assert_int_equal(dp_cert_erased_hashset(&set, cert, "c", false, &err), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &err), DP_OK);
    assert_false(dp_hashset_sizes_complete(set));
    assert_erased_in_set(cert, set, false);
    dp_hashset_free(set);
    set = NULL;

    /* further lists load into the same set before it is finalized */
    assert_int_equal(dp_cert_erased_hashset(&set, cert, "c", true, &err), DP_OK);
    const char *more = "sha256:" SHA256_B " size:9\n";
    assert_int_equal(dp_hashset_load_buffer(set, "more", more, strlen(more), &err), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &err), DP_OK);
    assert_int_equal(dp_hashset_source_count(set), 2);
    assert_true(dp_hashset_size_wanted(set, 9));
    dp_hashset_free(set);
    set = NULL;
    json_decref(cert);

    /* only erased targets: a skipped one is not claimed gone, so it is not looked for here */
    cert = build_with(wipe(TARGET12 "," TARGET13_SKIPPED, 2, 3, 1, 1, 0, HEAD0, 9), rescan0(),
                      KEYID);
    assert_int_equal(dp_cert_erased_hashset(&set, cert, "c", true, &err), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &err), DP_OK);
    assert_erased_in_set(cert, set, true);
    uint8_t b[32];
    assert_true(dp_hex_decode(b, 32, SHA256_B, 64));
    assert_int_equal(dp_hashset_lookup(set, DP_ALGO_SHA256, b, NULL), 0);
    dp_hashset_free(set);
    set = NULL;
    json_decref(cert);

    /* an inconsistent certificate is refused whatever is trusted: a target without its size
     * (the old audit turned it into size:0 and then read nothing) */
    cert = good_cert();
    tset(cert, "targets.0.size", NULL);
    for (int trust = 0; trust < 2; trust++) {
        assert_int_equal(dp_cert_erased_hashset(&set, cert, "c", trust, &err), DP_ERR_VERIFY);
        assert_null(set);
        assert_non_null(strstr(err.msg, "targets[0].size"));
    }
    json_decref(cert);
}

/* dp_hashset_add: entries straight into a set, all or nothing. */
static void test_hashset_add(void **state)
{
    (void)state;
    struct dp_error err = {0};
    struct dp_hashset *set = NULL;
    assert_int_equal(dp_hashset_new(&set, &err), DP_OK);
    uint8_t sha[32] = {1};
    assert_int_equal(dp_hashset_add(set, "empty", "test", sha, NULL, 0, &err), DP_ERR_INVALID);
    assert_int_equal(dp_hashset_source_count(set), 0);
    struct dp_hash_entry e[2] = {{.algo = DP_ALGO_SHA256, .size = 5, .label = 7, .source = 9},
                                 {.algo = DP_ALGO_MD5, .size = -1}};
    assert_true(dp_hex_decode(e[0].digest, 32, SHA256_A, 64));
    assert_true(dp_hex_decode(e[1].digest, 16, MD5_B, 32));
    assert_int_equal(dp_hashset_add(set, "direct", "test", sha, e, 2, &err), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &err), DP_OK);
    const struct dp_hash_entry *got = NULL;
    assert_int_equal(dp_hashset_lookup(set, DP_ALGO_SHA256, e[0].digest, &got), 1);
    assert_int_equal(got->size, 5);
    assert_int_equal(got->source, 0);
    assert_int_equal(got->line, 1);
    assert_null(dp_hashset_label(set, got)); /* labels are not taken from the caller */
    assert_int_equal(dp_hashset_lookup(set, DP_ALGO_MD5, e[1].digest, &got), 1);
    assert_int_equal(got->line, 2);
    assert_false(dp_hashset_sizes_complete(set)); /* one entry without a size */
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_string_equal(src->path, "direct");
    assert_string_equal(src->format, "test");
    assert_memory_equal(src->sha256, sha, 32);
    assert_int_equal(src->counts[DP_ALGO_SHA256], 1);
    assert_int_equal(src->counts[DP_ALGO_MD5], 1);
    dp_hashset_free(set);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_erased),  cmocka_unit_test(test_build_failed_and_partial),
        cmocka_unit_test(test_build_rejects), cmocka_unit_test(test_missing_case_fields),
        cmocka_unit_test(test_case_details),  cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_check_tamper),  cmocka_unit_test(test_trusted_comment),
        cmocka_unit_test(test_render_text),   cmocka_unit_test(test_sign_verify_library),
        cmocka_unit_test(test_cli_verify),    cmocka_unit_test(test_cli_verify_journal),
        cmocka_unit_test(test_cli_show),
        cmocka_unit_test(test_cli_audit_signed_names),
        cmocka_unit_test(test_cli_verify_signed_names),
        cmocka_unit_test(test_case_all_missing_named),
        cmocka_unit_test(test_erased_hashset),
        cmocka_unit_test(test_hashset_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
