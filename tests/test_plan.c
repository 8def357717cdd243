/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: a scan report read back as the wipe plan (src/scan/plan.c). A real report
 * from an in-process scan round-trips field by field against the files themselves; every
 * field the wipe relies on, missing or malformed, is DP_ERR_PARSE naming the finding; byte
 * paths ({"base64": ...}) and the relative / absolute path rules. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "deprive/fsinfo.h"
#include "deprive/hashset.h"
#include "deprive/json.h"
#include "deprive/report.h"
#include "deprive/util.h"

/* The scanned tree: four findings, sorted by path bytes -
 *   0 a.jpg            sha256 listed
 *   1 sub/a-link.jpg   a hard link to a.jpg
 *   2 sub/b.jpg        md5 listed
 *   3 x\xe9.jpg        a copy of a.jpg under a Latin-1 (not UTF-8) name
 * and other.jpg, which no list holds. */
#define N_FINDINGS 4
static const char *const rels[N_FINDINGS] = {"a.jpg", "sub/a-link.jpg", "sub/b.jpg",
                                             "x\xe9.jpg"};

struct fx {
    char *dir, *root, *root_real;
    struct dp_hashset *set;
    json_t *report; /* the pristine report; tests work on deep copies */
};

static void hex_of(const char *path, const EVP_MD *md, char *hex)
{
    size_t len;
    char *b = tu_read(path, &len);
    assert_non_null(b);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    assert_int_equal(EVP_Digest(b, len, d, &dl, md, NULL), 1);
    dp_hex_encode(hex, d, dl);
    free(b);
}

static int group_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->dir = tu_mkdtemp();
    f->root = tu_path(f->dir, "root");
    assert_int_equal(mkdir(f->root, 0755), 0);
    tu_write_random(f->root, "a.jpg", 3000, 1);
    tu_write_random(f->root, "sub/b.jpg", 4000, 2);
    tu_write_random(f->root, "x\xe9.jpg", 3000, 1);
    tu_write_random(f->root, "other.jpg", 3000, 3);
    char *a = tu_path(f->root, "a.jpg"), *l = tu_path(f->root, "sub/a-link.jpg");
    char *b = tu_path(f->root, "sub/b.jpg");
    assert_int_equal(link(a, l), 0);
    char sha[65], md5[33], list[512];
    hex_of(a, EVP_sha256(), sha);
    hex_of(b, EVP_md5(), md5);
    snprintf(list, sizeof(list), "sha256:%s size:3000\nmd5:%s size:4000 label=b\n", sha, md5);
    f->report = tu_scan_report(f->root, list, &f->set);
    f->root_real = realpath(f->root, NULL);
    assert_non_null(f->root_real);
    free(a), free(l), free(b);
    assert_int_equal(json_array_size(json_object_get(f->report, "findings")), N_FINDINGS);
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    struct fx *f = *state;
    json_decref(f->report);
    dp_hashset_free(f->set);
    tu_rm_rf(f->dir);
    free(f->dir), free(f->root), free(f->root_real);
    free(f);
    return 0;
}

/* ---- editing a report by dotted path ("findings.1.device.major") ---- */

/* Set (value non-NULL, reference stolen) or delete (value NULL) the member at dotted. */
static void jset(json_t *doc, const char *dotted, json_t *value)
{
    char key[64];
    json_t *o = doc;
    for (;;) {
        size_t n = strcspn(dotted, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, dotted);
        bool last = dotted[n] == '\0';
        if (json_is_array(o)) {
            size_t i = (size_t)strtoul(key, NULL, 10);
            if (last) {
                assert_int_equal(value ? json_array_set_new(o, i, value) : json_array_remove(o, i),
                                 0);
                return;
            }
            o = json_array_get(o, i);
        } else {
            if (last) {
                if (value != NULL)
                    assert_int_equal(json_object_set_new(o, key, value), 0);
                else
                    json_object_del(o, key);
                return;
            }
            o = json_object_get(o, key);
        }
        if (o == NULL)
            fail_msg("no '%s' in the report", key);
        dotted += n + 1;
    }
}

/* A JSON value from text (any type). */
static json_t *jv(const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (v == NULL)
        fail_msg("bad test JSON '%s': %s", text, je.text);
    return v;
}

/* A copy of the report with one member set to text (NULL: deleted). */
static json_t *mutated(const struct fx *f, const char *path, const char *text)
{
    json_t *doc = json_deep_copy(f->report);
    assert_non_null(doc);
    jset(doc, path, text ? jv(text) : NULL);
    return doc;
}

/* doc must load; returns the plan (doc's reference stays with the caller). */
static struct dp_plan *load_ok(json_t *doc, const char *what)
{
    struct dp_plan *p = NULL;
    struct dp_error e = {0};
    if (dp_plan_from_report(doc, &p, &e) != DP_OK)
        fail_msg("%s: refused: %s", what, e.msg);
    assert_non_null(p);
    return p;
}

/* doc must be refused with DP_ERR_PARSE and a message containing want; nothing handed back,
 * no reference kept. Returns false (with a printed line) instead of failing when soft. */
static bool refused(json_t *doc, const char *want, const char *what, bool soft)
{
    struct dp_plan *p = NULL;
    struct dp_error e = {0};
    enum dp_status st = dp_plan_from_report(doc, &p, &e);
    char why[700] = "";
    if (st != DP_ERR_PARSE)
        snprintf(why, sizeof(why), "status %d (%s), wanted a parse error", (int)st, e.msg);
    else if (strstr(e.msg, want) == NULL)
        snprintf(why, sizeof(why), "message '%s' does not contain '%s'", e.msg, want);
    else if (p != NULL)
        snprintf(why, sizeof(why), "a plan was handed back");
    else if (doc->refcount != 1)
        snprintf(why, sizeof(why), "the report's reference count is %zu", doc->refcount);
    if (st == DP_OK)
        dp_plan_free(p);
    if (why[0] == '\0')
        return true;
    if (!soft)
        fail_msg("%s: %s", what, why);
    printf("NOT REFUSED: %s: %s\n", what, why);
    return false;
}

/* ---- a real report round-trips ---- */

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    json_t *doc = json_deep_copy(f->report);
    struct dp_plan *p = load_ok(doc, "the scan's report");
    assert_ptr_equal(p->report, doc);
    assert_int_equal(doc->refcount, 2); /* the plan holds its own reference */
    assert_string_equal(p->root, f->root_real);
    assert_false(p->cross_mounts);
    assert_int_equal(p->count, N_FINDINGS);
    const json_t *findings = json_object_get(doc, "findings");
    for (size_t i = 0; i < N_FINDINGS; i++) {
        const struct dp_plan_target *t = &p->targets[i];
        assert_int_equal(t->path_len, strlen(rels[i]));
        assert_memory_equal(t->path, rels[i], t->path_len);
        assert_int_equal(t->path[t->path_len], '\0');
        assert_ptr_equal(t->finding, json_array_get(findings, i));
        /* identity as the file has it now (nothing changed since the scan) */
        char *fp = tu_path(f->root, rels[i]);
        struct stat st;
        assert_int_equal(lstat(fp, &st), 0);
        assert_int_equal(t->id.dev_major, major(st.st_dev));
        assert_int_equal(t->id.dev_minor, minor(st.st_dev));
        assert_int_equal(t->id.ino, st.st_ino);
        assert_int_equal(t->id.size, st.st_size);
        assert_int_equal(t->id.nlink, st.st_nlink);
        assert_int_equal(t->id.mtime_sec, st.st_mtim.tv_sec);
        assert_int_equal(t->id.mtime_nsec, st.st_mtim.tv_nsec);
        assert_int_equal(t->id.ctime_sec, st.st_ctim.tv_sec);
        assert_int_equal(t->id.ctime_nsec, st.st_ctim.tv_nsec);
        /* birth time and generation exactly where the report has them, with its values */
        const json_t *fo = t->finding;
        assert_int_equal(t->id.has_btime, json_object_get(fo, "birth_ns") != NULL);
        if (t->id.has_btime) {
            struct dp_file_id now;
            assert_int_equal(dp_file_id_stat(AT_FDCWD, fp, &now, NULL), DP_OK);
            assert_true(now.has_btime);
            assert_int_equal(t->id.btime_sec, now.btime_sec);
            assert_int_equal(t->id.btime_nsec, now.btime_nsec);
        }
        assert_int_equal(t->id.has_generation, json_object_get(fo, "generation") != NULL);
        if (t->id.has_generation) {
            int fd = open(fp, O_RDONLY), gen = 0;
            assert_true(fd >= 0);
            assert_int_equal(ioctl(fd, FS_IOC_GETVERSION, &gen), 0);
            close(fd);
            assert_int_equal(t->id.generation, (uint32_t)gen);
        }
        /* the digests the lists asked for, of the content */
        assert_int_equal(t->digest_mask, DP_DIGEST_MASK(DP_ALGO_MD5) |
                                             DP_DIGEST_MASK(DP_ALGO_SHA256));
        char want[65], got[65];
        hex_of(fp, EVP_md5(), want);
        dp_hex_encode(got, t->digests[DP_ALGO_MD5], 16);
        assert_string_equal(got, want);
        hex_of(fp, EVP_sha256(), want);
        dp_hex_encode(got, t->digests[DP_ALGO_SHA256], 32);
        assert_string_equal(got, want);
        free(fp);
    }
    /* the hard links share the inode; b.jpg does not */
    assert_int_equal(p->targets[0].id.ino, p->targets[1].id.ino);
    assert_int_equal(p->targets[0].id.nlink, 2);
    assert_int_not_equal(p->targets[0].id.ino, p->targets[2].id.ino);
    /* the root as scanned */
    const struct dp_plan_root *r = &p->root_id;
    assert_true(r->present);
    struct stat rs;
    assert_int_equal(stat(f->root, &rs), 0);
    assert_int_equal(r->id.ino, rs.st_ino);
    assert_int_equal(r->id.dev_major, major(rs.st_dev));
    assert_int_equal(r->id.dev_minor, minor(rs.st_dev));
    int rfd = open(f->root, O_RDONLY | O_DIRECTORY);
    assert_true(rfd >= 0);
    struct dp_fsinfo fs;
    assert_int_equal(dp_fsinfo_get(rfd, &fs, NULL), DP_OK);
    close(rfd);
    assert_int_equal(r->mnt_id, fs.mnt_id);
    assert_string_equal(r->boot_id, fs.boot_id);
    assert_true(r->boot_id[0] != '\0');
    assert_int_equal(r->has_uuid, fs.have_uuid);
    if (r->has_uuid)
        assert_memory_equal(r->uuid, fs.uuid, 16);
    assert_int_equal(r->id.has_btime, fs.obj.has_btime);
    if (r->id.has_btime)
        assert_int_equal(r->id.btime_sec, fs.obj.btime_sec);
    assert_int_equal(r->id.has_generation, fs.obj.has_generation);
    if (r->id.has_generation)
        assert_int_equal(r->id.generation, fs.obj.generation);
    dp_plan_free(p);
    assert_int_equal(doc->refcount, 1);
    json_decref(doc);
    dp_plan_free(NULL);
}

/* Through a file: written as deprive writes reports, loaded by dp_plan_load. */
static void test_load_file(void **state)
{
    struct fx *f = *state;
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "plan.json");
    struct dp_error e = {0};
    assert_int_equal(dp_json_write_file(f->report, path, &e), DP_OK);
    struct dp_plan *p = NULL;
    assert_int_equal(dp_plan_load(path, &p, &e), DP_OK);
    assert_int_equal(p->count, N_FINDINGS);
    for (size_t i = 0; i < N_FINDINGS; i++)
        assert_memory_equal(p->targets[i].path, rels[i], strlen(rels[i]) + 1);
    assert_string_equal(p->root, f->root_real);
    assert_true(p->root_id.present);
    dp_plan_free(p);
    p = NULL;
    /* not there */
    char *missing = tu_path(dir, "missing.json");
    assert_int_equal(dp_plan_load(missing, &p, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ENOENT);
    assert_null(p);
    /* not JSON, trailing bytes, duplicate keys: parse errors with the file and line */
    static const struct {
        const char *text;
        const char *want;
    } bad[] = {
        {"{\"format\": ", ":1:"},
        {"{} {}", ":1:"},
        {"{\"format\": \"deprive-scan-report\",\n \"format\": \"deprive-scan-report\"}", ":2:"},
        {"[]", "not a deprive scan report"},
        {"", ":"},
    };
    char *bp = tu_path(dir, "bad.json");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tu_write(dir, "bad.json", bad[i].text, strlen(bad[i].text));
        dp_error_clear(&e);
        assert_int_equal(dp_plan_load(bp, &p, &e), DP_ERR_PARSE);
        assert_null(p);
        if (strstr(e.msg, bad[i].want) == NULL || strstr(e.msg, bp) == NULL)
            fail_msg("'%s': message '%s'", bad[i].text, e.msg);
    }
    /* a malformed finding: the file, then the finding */
    json_t *doc = mutated(f, "findings.2.inode", "\"12\"");
    assert_int_equal(dp_json_write_file(doc, bp, &e), DP_OK);
    json_decref(doc);
    assert_int_equal(dp_plan_load(bp, &p, &e), DP_ERR_PARSE);
    char want[600];
    snprintf(want, sizeof(want), "%s: finding 2: ", bp);
    if (strncmp(e.msg, want, strlen(want)) != 0)
        fail_msg("message '%s' does not start with '%s'", e.msg, want);
    tu_rm_rf(dir);
    free(dir), free(path), free(missing), free(bp);
}

/* ---- byte paths ---- */

static void test_non_utf8_paths(void **state)
{
    struct fx *f = *state;
    /* the scan wrote the Latin-1 name as {"base64": ...}; the plan has the raw bytes */
    const json_t *loc3 = json_array_get(
        json_object_get(json_array_get(json_object_get(f->report, "findings"), 3), "location"),
        0);
    assert_true(json_is_object(loc3));
    assert_string_equal(json_string_value(json_object_get(loc3, "base64")), "eOkuanBn");
    json_t *doc = json_deep_copy(f->report);
    struct dp_plan *p = load_ok(doc, "report");
    assert_int_equal(p->targets[3].path_len, 6);
    assert_memory_equal(p->targets[3].path, "x\xe9.jpg", 7);
    dp_plan_free(p);
    json_decref(doc);
    /* hand-made: a byte path in a subdirectory, and the same bytes as a string when valid */
    doc = mutated(f, "findings.1.location", "[{\"base64\": \"ZP4vZg==\"}]"); /* d\xfe/f */
    p = load_ok(doc, "base64 location");
    assert_int_equal(p->targets[1].path_len, 4);
    assert_memory_equal(p->targets[1].path, "d\xfe/f", 5);
    dp_plan_free(p);
    json_decref(doc);
    doc = mutated(f, "findings.1.location", "[{\"base64\": \"Y2Fmw6kuanBn\"}]"); /* café.jpg */
    p = load_ok(doc, "base64 of UTF-8");
    assert_memory_equal(p->targets[1].path, "caf\xc3\xa9.jpg", 10);
    dp_plan_free(p);
    json_decref(doc);
    doc = mutated(f, "findings.1.location", "[\"caf\\u00e9.jpg\"]");
    p = load_ok(doc, "escaped UTF-8 string");
    assert_memory_equal(p->targets[1].path, "caf\xc3\xa9.jpg", 10);
    dp_plan_free(p);
    json_decref(doc);
    /* malformed byte strings */
    static const char *const bad[] = {
        "[{\"base64\": \"!!!!\"}]",             /* not base64 */
        "[{\"base64\": \"eA\"}]",               /* padding missing */
        "[{\"base64\": 42}]",                   /* not a string */
        "[{\"base64\": \"eA==\", \"x\": 1}]",   /* another member */
        "[{\"b64\": \"eA==\"}]",                /* no base64 member */
        "[{}]",
        "[{\"base64\": \"YQBi\"}]",             /* a\0b */
        "[\"a\\u0000b\"]",                      /* a\0b as a string */
        "[null]",
        "[42]",
        "[[\"a.jpg\"]]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = mutated(f, "findings.1.location", bad[i]);
        refused(doc, "finding 1: bad location", bad[i], false);
        json_decref(doc);
    }
    /* a root that is not UTF-8: root_abs as base64 */
    doc = mutated(f, "root_abs", "{\"base64\": \"L3RtcC9y/w==\"}"); /* /tmp/r\xff */
    p = load_ok(doc, "base64 root");
    assert_string_equal(p->root, "/tmp/r\xff");
    dp_plan_free(p);
    json_decref(doc);
}

/* A real scan of a root whose own name is not UTF-8. */
static void test_non_utf8_root(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *root = tu_path(dir, "r\xff");
    assert_int_equal(mkdir(root, 0755), 0);
    tu_write_random(root, "\x80\x81.bin", 500, 9);
    char *fp = tu_path(root, "\x80\x81.bin"), sha[65], list[128];
    hex_of(fp, EVP_sha256(), sha);
    snprintf(list, sizeof(list), "sha256:%s\n", sha);
    struct dp_hashset *set = NULL;
    json_t *doc = tu_scan_report(root, list, &set);
    assert_true(json_is_object(json_object_get(doc, "root_abs")));
    struct dp_plan *p = load_ok(doc, "scan of a Latin-1 root");
    char *real = realpath(root, NULL);
    assert_non_null(real);
    assert_string_equal(p->root, real);
    assert_int_equal(p->count, 1);
    assert_int_equal(p->targets[0].path_len, 6);
    assert_memory_equal(p->targets[0].path, "\x80\x81.bin", 7);
    dp_plan_free(p);
    json_decref(doc);
    dp_hashset_free(set);
    tu_rm_rf(dir);
    free(dir), free(root), free(fp), free(real);
}

/* ---- relative and absolute ---- */

static void test_path_rules(void **state)
{
    struct fx *f = *state;
    /* a target's path is relative to the root and not empty */
    static const char *const absolute[] = {
        "[\"/etc/passwd\"]", "[\"/\"]", "[\"\"]", "[{\"base64\": \"L2V0Yw==\"}]", /* /etc */
        "[{\"base64\": \"\"}]",
    };
    for (size_t i = 0; i < sizeof(absolute) / sizeof(absolute[0]); i++) {
        json_t *doc = mutated(f, "findings.1.location", absolute[i]);
        refused(doc, "finding 1: ", absolute[i], false);
        json_decref(doc);
    }
    json_t *doc = mutated(f, "findings.1.location", "[\"/etc/passwd\"]");
    refused(doc, "finding 1: path must be relative", "absolute path", false);
    json_decref(doc);
    /* a longer chain is an archive member: the file, then the names inside it */
    doc = mutated(f, "findings.1.location", "[\"a.zip\", \"inner.zip\", \"x.jpg\"]");
    struct dp_plan *mp = load_ok(doc, "a member of a nested archive");
    assert_int_equal(mp->targets[1].member_depth, 2);
    assert_string_equal(mp->targets[1].path, "a.zip");
    assert_string_equal(mp->targets[1].members[0], "inner.zip");
    assert_string_equal(mp->targets[1].members[1], "x.jpg");
    assert_int_equal(mp->targets[0].member_depth, 0);
    dp_plan_free(mp);
    json_decref(doc);
    doc = mutated(f, "findings.1.location", "[\"a.zip\", \"\"]");
    refused(doc, "bad archive member name", "an empty member name", false);
    json_decref(doc);
    doc = mutated(f, "findings.1.location", "[]");
    refused(doc, "finding 1: bad location", "empty location", false);
    json_decref(doc);
    /* "..", "." and empty components load (docs/report.md): the wipe's component-by-component
     * open from the root refuses them */
    static const char *const dots[] = {"../outside.jpg", "a/../../etc/shadow", "./a.jpg",
                                       "sub//b.jpg"};
    for (size_t i = 0; i < sizeof(dots) / sizeof(dots[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "[\"%s\"]", dots[i]);
        doc = mutated(f, "findings.1.location", text);
        struct dp_plan *p = load_ok(doc, dots[i]);
        assert_string_equal(p->targets[1].path, dots[i]);
        dp_plan_free(p);
        json_decref(doc);
    }
    /* the root must be absolute */
    static const char *const roots[] = {
        "\"relative/root\"", "\"\"", "\"./root\"", "{\"base64\": \"cmVs\"}", /* rel */
        "42", "null", "[\"/tmp\"]", "{\"base64\": \"L3QAeA==\"}", /* /t\0x */
    };
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        doc = mutated(f, "root_abs", roots[i]);
        refused(doc, "report has no absolute root or findings", roots[i], false);
        json_decref(doc);
    }
    doc = mutated(f, "root_abs", NULL);
    refused(doc, "report has no absolute root or findings", "no root_abs", false);
    json_decref(doc);
    /* "root" (as given on the command line) is not what the wipe uses */
    doc = mutated(f, "root", "\"relative\"");
    struct dp_plan *p = load_ok(doc, "relative root");
    assert_string_equal(p->root, f->root_real);
    dp_plan_free(p);
    json_decref(doc);
}

/* ---- every field a finding needs ---- */

struct mutation {
    const char *path;
    const char *value; /* JSON text; NULL deletes the member */
    const char *want;  /* in the message */
};

static void run_mutations(const struct fx *f, const struct mutation *m, size_t n, bool soft)
{
    size_t not_refused = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *doc = mutated(f, m[i].path, m[i].value);
        char what[256];
        snprintf(what, sizeof(what), "%s = %s", m[i].path, m[i].value ? m[i].value : "(missing)");
        if (!refused(doc, m[i].want, what, soft))
            not_refused++;
        json_decref(doc);
    }
    if (not_refused > 0)
        fail_msg("%zu malformed report(s) of %zu were accepted (listed above)", not_refused, n);
}

static void test_malformed_findings(void **state)
{
    struct fx *f = *state;
    static const struct mutation m[] = {
        {"findings.1.location", NULL, "finding 1: bad location"},
        {"findings.1.location", "\"sub/a-link.jpg\"", "finding 1: bad location"},
        {"findings.1.device", NULL, "finding 1: missing or bad identity"},
        {"findings.1.device", "\"254:0\"", "finding 1: missing or bad identity"},
        {"findings.1.device", "[254, 0]", "finding 1: missing or bad identity"},
        {"findings.1.device.major", NULL, "finding 1: missing or bad identity"},
        {"findings.1.device.major", "-1", "finding 1: missing or bad identity"},
        {"findings.1.device.major", "\"254\"", "finding 1: missing or bad identity"},
        {"findings.1.device.major", "254.0", "finding 1: missing or bad identity"},
        {"findings.1.device.minor", NULL, "finding 1: missing or bad identity"},
        {"findings.1.device.minor", "null", "finding 1: missing or bad identity"},
        {"findings.1.inode", NULL, "finding 1: missing or bad identity"},
        {"findings.1.inode", "-5", "finding 1: missing or bad identity"},
        {"findings.1.inode", "\"12\"", "finding 1: missing or bad identity"},
        {"findings.1.inode", "1e3", "finding 1: missing or bad identity"},
        {"findings.1.inode", "true", "finding 1: missing or bad identity"},
        {"findings.1.size", NULL, "finding 1: missing or bad identity"},
        {"findings.1.size", "-1", "finding 1: missing or bad identity"},
        {"findings.1.size", "\"3000\"", "finding 1: missing or bad identity"},
        {"findings.1.size", "3000.5", "finding 1: missing or bad identity"},
        {"findings.1.links", NULL, "finding 1: missing or bad identity"},
        {"findings.1.links", "-1", "finding 1: missing or bad identity"},
        {"findings.1.links", "\"2\"", "finding 1: missing or bad identity"},
        {"findings.1.mtime_ns", NULL, "finding 1: missing or bad identity"},
        {"findings.1.mtime_ns", "\"1795355896548543377\"", "finding 1: missing or bad identity"},
        {"findings.1.mtime_ns", "1.5e18", "finding 1: missing or bad identity"},
        {"findings.1.ctime_ns", NULL, "finding 1: missing or bad identity"},
        {"findings.1.ctime_ns", "null", "finding 1: missing or bad identity"},
        {"findings.1.digests", NULL, "finding 1: missing or bad identity"},
        {"findings.1.digests", "\"ab\"", "finding 1: missing or bad identity"},
        {"findings.1.digests", "[]", "finding 1: missing or bad identity"},
        {"findings.1.digests", "{}", "finding 1: no digest"},
        {"findings.1.digests", "{\"crc32\": \"00000000\"}", "finding 1: no digest"},
        {"findings.1.digests.sha256", "\"abc\"", "finding 1: bad sha256 digest"},
        {"findings.1.digests.sha256", "42", "finding 1: bad sha256 digest"},
        {"findings.1.digests.sha256", "null", "finding 1: bad sha256 digest"},
        {"findings.1.digests.sha256",
         "\"zz00000000000000000000000000000000000000000000000000000000000000\"",
         "finding 1: bad sha256 digest"},
        {"findings.1.digests.sha256",
         "\"00000000000000000000000000000000000000000000000000000000000000000\"",
         "finding 1: bad sha256 digest"},
        {"findings.1.digests.md5", "\"0000000000000000000000000000000\"",
         "finding 1: bad md5 digest"},
        {"findings.1.digests.md5", "\"00000000000000000000000000000000000000000000000000000000"
                                   "00000000\"",
         "finding 1: bad md5 digest"}, /* a SHA-256 where the MD5 goes */
        {"findings.1.digests.sha1", "\"00000000000000000000000000000000\"",
         "finding 1: bad sha1 digest"},
        {"findings.1.birth_ns", "\"0\"", "finding 1: bad birth_ns or generation"},
        {"findings.1.birth_ns", "null", "finding 1: bad birth_ns or generation"},
        {"findings.1.birth_ns", "1.5", "finding 1: bad birth_ns or generation"},
        {"findings.1.generation", "-1", "finding 1: bad birth_ns or generation"},
        {"findings.1.generation", "\"7\"", "finding 1: bad birth_ns or generation"},
        {"findings.1.generation", "null", "finding 1: bad birth_ns or generation"},
        {"findings.1", "\"a.jpg\"", "finding 1: "},
        {"findings.1", "null", "finding 1: "},
        {"findings.3.inode", NULL, "finding 3: "}, /* the last one is named too */
        {"findings.0.digests", "{}", "finding 0: no digest"},
    };
    run_mutations(f, m, sizeof(m) / sizeof(m[0]), false);
}

/* ---- the document ---- */

static void test_malformed_document(void **state)
{
    struct fx *f = *state;
    static const struct mutation m[] = {
        {"format", NULL, "not a deprive scan report"},
        {"format", "\"deprive-certificate\"", "not a deprive scan report"},
        {"format", "\"Deprive-Scan-Report\"", "not a deprive scan report"},
        {"format", "42", "not a deprive scan report"},
        {"version", NULL, "not a deprive scan report"},
        {"version", "2", "not a deprive scan report"},
        {"version", "0", "not a deprive scan report"},
        {"version", "\"1\"", "not a deprive scan report"},
        {"version", "1.0", "not a deprive scan report"},
        {"version", "true", "not a deprive scan report"},
        {"findings", NULL, "report has no absolute root or findings"},
        {"findings", "{}", "report has no absolute root or findings"},
        {"findings", "\"none\"", "report has no absolute root or findings"},
        {"root_identity", "42", "report has a malformed root identity"},
        {"root_identity", "{}", "report has a malformed root identity"},
        {"root_identity.inode", NULL, "report has a malformed root identity"},
        {"root_identity.inode", "-1", "report has a malformed root identity"},
        {"root_identity.inode", "\"2\"", "report has a malformed root identity"},
        {"root_identity.birth_ns", "\"0\"", "report has a malformed root identity"},
        {"root_identity.generation", "-3", "report has a malformed root identity"},
        {"filesystem", NULL, "report has a malformed root identity"},
        {"filesystem", "\"ext4\"", "report has a malformed root identity"},
        {"filesystem.mount_id", NULL, "report has a malformed root identity"},
        {"filesystem.mount_id", "-1", "report has a malformed root identity"},
        {"filesystem.mount_id", "\"27\"", "report has a malformed root identity"},
        {"filesystem.device", NULL, "report has a malformed root identity"},
        {"filesystem.device", "\"254:0\"", "report has a malformed root identity"},
        {"filesystem.device.major", NULL, "report has a malformed root identity"},
        {"filesystem.device.minor", "-1", "report has a malformed root identity"},
        {"filesystem.uuid", "\"not-a-uuid\"", "report has a malformed root identity"},
        {"filesystem.uuid", "\"\"", "report has a malformed root identity"},
        {"filesystem.uuid", "\"0011223344556677-8899aabbccddee\"",
         "report has a malformed root identity"}, /* 31 digits */
        {"filesystem.uuid", "\"0011223344556677-8899aabbccddeeXX\"",
         "report has a malformed root identity"},
    };
    run_mutations(f, m, sizeof(m) / sizeof(m[0]), false);
}

/* ---- the root's identity: present, absent, optional parts ---- */

static void test_root_identity(void **state)
{
    struct fx *f = *state;
    /* a report from before deprive recorded it loads, marked absent (the wipe then refuses:
     * "scan again") */
    json_t *doc = mutated(f, "root_identity", NULL);
    struct dp_plan *p = load_ok(doc, "no root_identity");
    assert_false(p->root_id.present);
    dp_plan_free(p);
    json_decref(doc);
    /* no UUID (FUSE filesystems): null */
    doc = mutated(f, "filesystem.uuid", "null");
    p = load_ok(doc, "uuid null");
    assert_true(p->root_id.present);
    assert_false(p->root_id.has_uuid);
    dp_plan_free(p);
    json_decref(doc);
    /* a UUID in either case, in the canonical 8-4-4-4-12 form deprive writes (an undashed one
       is refused by test_root_identity_strict) */
    static const char *const uuids[] = {"\"00112233-4455-6677-8899-aabbccddeeff\"",
                                        "\"00112233-4455-6677-8899-AABBCCDDEEFF\""};
    for (size_t i = 0; i < sizeof(uuids) / sizeof(uuids[0]); i++) {
        doc = mutated(f, "filesystem.uuid", uuids[i]);
        p = load_ok(doc, uuids[i]);
        assert_true(p->root_id.has_uuid);
        assert_memory_equal(p->root_id.uuid,
                            "\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
                            16);
        dp_plan_free(p);
        json_decref(doc);
    }
    /* birth time and generation are optional (not every filesystem reports them) */
    doc = mutated(f, "root_identity", "{\"inode\": 77}");
    p = load_ok(doc, "bare root_identity");
    assert_true(p->root_id.present);
    assert_int_equal(p->root_id.id.ino, 77);
    assert_false(p->root_id.id.has_btime);
    assert_false(p->root_id.id.has_generation);
    dp_plan_free(p);
    json_decref(doc);
    doc = mutated(f, "root_identity",
                  "{\"inode\": 77, \"birth_ns\": -1500000000, \"generation\": 4294967295}");
    p = load_ok(doc, "full root_identity");
    assert_true(p->root_id.id.has_btime);
    assert_int_equal(p->root_id.id.btime_sec, -2);
    assert_int_equal(p->root_id.id.btime_nsec, 500000000);
    assert_true(p->root_id.id.has_generation);
    assert_int_equal(p->root_id.id.generation, 4294967295u);
    dp_plan_free(p);
    json_decref(doc);
}

/* Found while writing these tests: src/scan/plan.c accepts these root identities. A missing
 * or non-string boot_id turns off the mount-id comparison (same_boot is false), a boot_id
 * longer than the field is cut silently, a UUID of the wrong type reads as "no UUID", and
 * characters after 32 UUID digits are ignored. Each should be DP_ERR_PARSE. */
static void test_root_identity_strict(void **state)
{
    struct fx *f = *state;
    static const struct mutation m[] = {
        {"filesystem.boot_id", NULL, "report has a malformed root identity"},
        {"filesystem.boot_id", "42", "report has a malformed root identity"},
        {"filesystem.boot_id", "null", "report has a malformed root identity"},
        {"filesystem.boot_id", "\"0123456789abcdef0123456789abcdef0123456789abcdef\"",
         "report has a malformed root identity"}, /* longer than a boot id */
        {"filesystem.uuid", NULL, "report has a malformed root identity"},
        {"filesystem.uuid", "42", "report has a malformed root identity"},
        {"filesystem.uuid", "{\"base64\": \"ABEiM0RVZneImaq7zN3u/w==\"}",
         "report has a malformed root identity"},
        {"filesystem.uuid", "\"00112233445566778899aabbccddeeff\"",
         "report has a malformed root identity"},
        {"filesystem.uuid", "\"00112233-4455-6677-8899-aabbccddeeff-0123\"",
         "report has a malformed root identity"},
        {"filesystem.uuid", "\"0-0-1-1-2-2-3-3-4-4-5-5-6-6-7-7-8-8-9-9-a-a-b-b-c-c-d-d-e-e-f-f\"",
         "report has a malformed root identity"},
        {"findings.1.links", "4294967298", "finding 1: "}, /* would be read as 2 */
    };
    run_mutations(f, m, sizeof(m) / sizeof(m[0]), true);
}

/* ---- values that are well-formed ---- */

static void test_values(void **state)
{
    struct fx *f = *state;
    /* nanosecond times before 1970 split into seconds and a positive remainder */
    static const struct {
        const char *ns;
        int64_t sec;
        uint32_t nsec;
    } t[] = {
        {"0", 0, 0},
        {"-1", -1, 999999999},
        {"-1000000000", -1, 0},
        {"-1000000001", -2, 999999999},
        {"1500000000", 1, 500000000},
        {"9223372036854775807", 9223372036, 854775807},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        json_t *doc = mutated(f, "findings.1.mtime_ns", t[i].ns);
        jset(doc, "findings.1.ctime_ns", jv(t[i].ns));
        jset(doc, "findings.1.birth_ns", jv(t[i].ns));
        struct dp_plan *p = load_ok(doc, t[i].ns);
        const struct dp_file_id *id = &p->targets[1].id;
        assert_int_equal(id->mtime_sec, t[i].sec);
        assert_int_equal(id->mtime_nsec, t[i].nsec);
        assert_int_equal(id->ctime_sec, t[i].sec);
        assert_int_equal(id->ctime_nsec, t[i].nsec);
        assert_true(id->has_btime);
        assert_int_equal(id->btime_sec, t[i].sec);
        assert_int_equal(id->btime_nsec, t[i].nsec);
        dp_plan_free(p);
        json_decref(doc);
    }
    /* digests: upper case accepted; members other than the three are ignored; only the
     * digests given are set */
    json_t *doc = mutated(f, "findings.1.digests",
                          "{\"sha1\": \"A9993E364706816ABA3E25717850C26C9CD0D89D\", "
                          "\"pdq\": \"zz\", \"crc32\": 7}");
    struct dp_plan *p = load_ok(doc, "sha1 only");
    assert_int_equal(p->targets[1].digest_mask, DP_DIGEST_MASK(DP_ALGO_SHA1));
    assert_memory_equal(p->targets[1].digests[DP_ALGO_SHA1],
                        "\xa9\x99\x3e\x36\x47\x06\x81\x6a\xba\x3e\x25\x71\x78\x50\xc2\x6c\x9c\xd0"
                        "\xd8\x9d",
                        20);
    dp_plan_free(p);
    json_decref(doc);
    /* large identity numbers come through whole */
    doc = mutated(f, "findings.1.inode", "9223372036854775807");
    jset(doc, "findings.1.size", jv("9223372036854775807"));
    jset(doc, "findings.1.device.major", jv("4095"));
    jset(doc, "findings.1.device.minor", jv("1048575"));
    jset(doc, "findings.1.generation", jv("0"));
    p = load_ok(doc, "large numbers");
    assert_int_equal(p->targets[1].id.ino, 9223372036854775807ULL);
    assert_int_equal(p->targets[1].id.size, 9223372036854775807ULL);
    assert_int_equal(p->targets[1].id.dev_major, 4095);
    assert_int_equal(p->targets[1].id.dev_minor, 1048575);
    assert_true(p->targets[1].id.has_generation);
    assert_int_equal(p->targets[1].id.generation, 0);
    dp_plan_free(p);
    json_decref(doc);
    /* scope.cross_mounts: only JSON true */
    static const struct {
        const char *v;
        bool want;
    } cm[] = {{"true", true}, {"false", false}, {"\"true\"", false}, {"1", false}};
    for (size_t i = 0; i < sizeof(cm) / sizeof(cm[0]); i++) {
        doc = mutated(f, "scope.cross_mounts", cm[i].v);
        p = load_ok(doc, cm[i].v);
        assert_int_equal(p->cross_mounts, cm[i].want);
        dp_plan_free(p);
        json_decref(doc);
    }
    doc = mutated(f, "scope", NULL);
    p = load_ok(doc, "no scope");
    assert_false(p->cross_mounts);
    dp_plan_free(p);
    json_decref(doc);
    /* what the wipe ignores may be anything */
    static const char *const ignored[] = {"tool", "started", "finished", "root", "hash_lists",
                                          "totals", "skips", "findings.1.mtime",
                                          "findings.1.mime", "findings.1.matched"};
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        doc = mutated(f, ignored[i], NULL);
        p = load_ok(doc, ignored[i]);
        assert_int_equal(p->count, N_FINDINGS);
        dp_plan_free(p);
        json_decref(doc);
    }
    /* no findings at all: an empty plan */
    doc = mutated(f, "findings", "[]");
    p = load_ok(doc, "no findings");
    assert_int_equal(p->count, 0);
    assert_non_null(p->targets);
    dp_plan_free(p);
    json_decref(doc);
}

/* A refused report leaves nothing behind: *out untouched, the reference given back. */
static void test_refusal_leaves_nothing(void **state)
{
    struct fx *f = *state;
    json_t *doc = mutated(f, "findings.3.digests", "{}");
    static struct dp_plan marker; /* any non-NULL value */
    struct dp_plan *keep = &marker;
    struct dp_plan *p = keep;
    struct dp_error e = {0};
    assert_int_equal(dp_plan_from_report(doc, &p, &e), DP_ERR_PARSE);
    assert_ptr_equal(p, keep);
    assert_int_equal(e.code, DP_ERR_PARSE);
    assert_int_equal(doc->refcount, 1);
    /* and without an error record */
    p = NULL;
    assert_int_equal(dp_plan_from_report(doc, &p, NULL), DP_ERR_PARSE);
    assert_null(p);
    json_decref(doc);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_non_utf8_paths),
        cmocka_unit_test(test_non_utf8_root),
        cmocka_unit_test(test_path_rules),
        cmocka_unit_test(test_malformed_findings),
        cmocka_unit_test(test_malformed_document),
        cmocka_unit_test(test_root_identity),
        cmocka_unit_test(test_root_identity_strict),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_refusal_leaves_nothing),
    };
    return cmocka_run_group_tests_name("plan", tests, group_setup, group_teardown);
}
