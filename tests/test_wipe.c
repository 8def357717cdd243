/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the wipe engine in a temp directory - matches gone, everything else
 * byte-identical, hard links, changes since the scan, symlink swaps, journal resume. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deprive/hashset.h"
#include "deprive/journal.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/wipe.h"
#include "src/erase/internal.h"

#include <sodium.h>

struct fx {
    char *dir, *root, *work;
    struct dp_hashset *set;
    char list[8192];
};

static void add_match(struct fx *f, const char *rel, size_t size, uint32_t seed)
{
    tu_write_random(f->root, rel, size, seed);
    char *p = tu_path(f->root, rel), hex[65];
    assert_true(tu_sha256_hex(p, hex));
    size_t n = strlen(f->list);
    snprintf(f->list + n, sizeof(f->list) - n, "sha256:%s\n", hex);
    free(p);
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->dir = tu_mkdtemp();
    f->root = tu_path(f->dir, "root");
    f->work = tu_path(f->dir, "work");
    mkdir(f->root, 0755);
    mkdir(f->work, 0755);
}

static void fx_free(struct fx *f)
{
    dp_hashset_free(f->set);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f->root);
    free(f->work);
}

static json_t *scan(struct fx *f)
{
    return tu_scan_report(f->root, f->list, &f->set);
}

static json_t *wipe(struct fx *f, json_t *report, const char *jname, struct dp_wipe_opts *o)
{
    char *jp = tu_path(f->work, jname);
    json_t *res = tu_wipe_report(report, jp, o, false, DP_OK, NULL, 0);
    free(jp);
    return res;
}

static const char *status_of(const json_t *res, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(res, "targets"), i),
                                             "status"));
}

static void test_erase_and_nothing_else(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    add_match(&f, "photos/victim1.jpg", 300000, 1);
    add_match(&f, "deep/er/victim2.png", 5000, 2);
    add_match(&f, "empty-ish", 1, 3);
    for (int i = 0; i < 30; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "keep/k%02d.jpg", i);
        tu_write_random(f.root, rel, 1000 + (size_t)i * 777, 100 + (uint32_t)i);
    }
    tu_write_random(f.root, "photos/neighbour.jpg", 300000, 99);
    char *before = tu_fingerprint(f.root);
    json_t *report = scan(&f);
    assert_int_equal(json_array_size(json_object_get(report, "findings")), 3);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR};
    json_t *res = wipe(&f, report, "j1", &o);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(status_of(res, i), "erased");
    char *p = tu_path(f.root, "photos/victim1.jpg");
    assert_int_equal(access(p, F_OK), -1);
    free(p);
    /* the directory holds no other name now: no scrubbed leftovers */
    p = tu_path(f.root, "photos");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", p);
    assert_int_equal(tu_sh("%s", cmd), 0);
    free(p);
    /* every non-matching file byte-identical: the fingerprint minus the three matches */
    char *after = tu_fingerprint(f.root);
    char *b = before, *line, *before_mem = before;
    size_t kept = 0;
    while ((line = strsep(&b, "\n")) != NULL && *line) {
        if (strstr(line, "victim") || strstr(line, "empty-ish"))
            continue;
        assert_non_null(strstr(after, line));
        kept++;
    }
    assert_int_equal(kept, 31);
    json_t *again = scan(&f);
    assert_int_equal(json_array_size(json_object_get(again, "findings")), 0);
    json_decref(again);
    json_decref(res);
    json_decref(report);
    free(after);
    free(before_mem);
    fx_free(&f);
}

/* A matching file a/one.jpg and a hard link to it, b/two.jpg: *p1 and *p2 their paths. */
static void linked_match(struct fx *f, char **p1, char **p2)
{
    add_match(f, "a/one.jpg", 70000, 5);
    *p1 = tu_path(f->root, "a/one.jpg"), *p2 = tu_path(f->root, "b/two.jpg");
    char *bdir = tu_path(f->root, "b");
    mkdir(bdir, 0755);
    free(bdir);
    assert_int_equal(link(*p1, *p2), 0);
}

static void test_hard_links_and_methods(void **state)
{
    (void)state;
    const enum dp_wipe_method ms[] = {DP_WIPE_ZERO, DP_WIPE_RANDOM, DP_WIPE_DOD3};
    for (size_t m = 0; m < 3; m++) {
        struct fx f;
        fx_init(&f);
        char *p1, *p2;
        linked_match(&f, &p1, &p2);
        json_t *report = scan(&f);
        struct dp_wipe_opts o = {.method = ms[m]};
        json_t *res = wipe(&f, report, "j", &o);
        const json_t *t = json_array_get(json_object_get(res, "targets"), 0);
        assert_int_equal(json_array_size(json_object_get(res, "targets")), 1);
        assert_string_equal(status_of(res, 0), "erased");
        assert_int_equal(json_array_size(json_object_get(t, "names")), 2);
        assert_int_equal(json_integer_value(json_object_get(t, "links_remaining")), 0);
        assert_int_equal(access(p1, F_OK), -1);
        assert_int_equal(access(p2, F_OK), -1);
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(t, "verification"), "result")),
                            "match");
        json_decref(res);
        json_decref(report);
        free(p1), free(p2);
        fx_free(&f);
    }
}

/* A third name of the inode outside the root: its content is that file's too, so the target
 * is left, skipped with the reason, and nothing is changed under any of its names. */
static void test_hard_link_outside_root(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    char *p1, *p2;
    linked_match(&f, &p1, &p2);
    char *outside = tu_path(f.work, "outside-link");
    assert_int_equal(link(p1, outside), 0); /* a name the plan does not cover */
    size_t len = 0;
    char *before = tu_read(outside, &len);
    json_t *report = scan(&f);
    struct dp_wipe_opts o = {.method = DP_WIPE_RANDOM};
    json_t *res = wipe(&f, report, "j", &o);
    assert_int_equal(json_array_size(json_object_get(res, "targets")), 1);
    assert_string_equal(status_of(res, 0), "skipped");
    const json_t *t = json_array_get(json_object_get(res, "targets"), 0);
    const char *why = json_string_value(json_object_get(t, "reason"));
    assert_non_null(strstr(why, "names outside the plan: the file has 3 names and the plan only 2"));
    assert_null(json_object_get(t, "overwrite"));
    size_t after_len = 0;
    char *after = tu_read(outside, &after_len);
    assert_int_equal(after_len, len);
    assert_memory_equal(after, before, len);
    assert_int_equal(access(p1, F_OK), 0);
    assert_int_equal(access(p2, F_OK), 0);
    free(after), free(before);
    json_decref(res);
    json_decref(report);
    free(p1), free(p2), free(outside);
    fx_free(&f);
}

static void test_changed_since_scan(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    add_match(&f, "modified.jpg", 4000, 11);
    add_match(&f, "replaced.jpg", 4000, 12);
    add_match(&f, "symlinked.jpg", 4000, 13);
    add_match(&f, "dir/parent-swapped.jpg", 4000, 14);
    add_match(&f, "stays.jpg", 4000, 15);
    json_t *report = scan(&f);
    assert_int_equal(json_array_size(json_object_get(report, "findings")), 5);
    /* after the scan: modify one in place (same size), replace one with a new file, turn one
     * into a symlink to a file outside the root, swap a parent directory for a symlink */
    char *p = tu_path(f.root, "modified.jpg");
    int fd = open(p, O_WRONLY);
    assert_int_equal(pwrite(fd, "X", 1, 10), 1);
    close(fd);
    free(p);
    tu_write_random(f.root, "replaced.jpg", 4000, 12); /* same bytes, new inode */
    char *victim = tu_path(f.work, "precious.txt");
    tu_write(f.work, "precious.txt", "must survive", 12);
    p = tu_path(f.root, "symlinked.jpg");
    unlink(p);
    assert_int_equal(symlink(victim, p), 0);
    free(p);
    char *d = tu_path(f.root, "dir"), *d2 = tu_path(f.root, "dir.real");
    tu_write(f.work, "evil/parent-swapped.jpg", "outside!", 8);
    char *evil = tu_path(f.work, "evil");
    assert_int_equal(rename(d, d2), 0);
    assert_int_equal(symlink(evil, d), 0);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR};
    json_t *res = wipe(&f, report, "j", &o);
    size_t i;
    const json_t *t;
    int skipped = 0, erased = 0;
    json_array_foreach(json_object_get(res, "targets"), i, t) {
        const char *s = json_string_value(json_object_get(t, "status"));
        skipped += strcmp(s, "skipped") == 0;
        erased += strcmp(s, "erased") == 0;
        if (strcmp(s, "skipped") == 0)
            assert_non_null(strstr(json_string_value(json_object_get(t, "reason")),
                                   "changed since scan"));
    }
    assert_int_equal(skipped, 4);
    assert_int_equal(erased, 1);
    size_t len;
    char *c = tu_read(victim, &len);
    assert_int_equal(len, 12);
    assert_memory_equal(c, "must survive", 12);
    free(c);
    char *e2 = tu_path(evil, "parent-swapped.jpg");
    c = tu_read(e2, &len);
    assert_memory_equal(c, "outside!", 8);
    free(c);
    p = tu_path(f.root, "modified.jpg");
    assert_int_equal(access(p, F_OK), 0); /* left in place */
    free(p);
    json_decref(res);
    json_decref(report);
    free(victim), free(d), free(d2), free(evil), free(e2);
    fx_free(&f);
}

static void test_dry_run_changes_nothing(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    add_match(&f, "m.jpg", 10000, 21);
    tu_write_random(f.root, "other.jpg", 10000, 22);
    char *before = tu_fingerprint(f.root);
    json_t *report = scan(&f);
    struct dp_plan *plan = NULL;
    assert_int_equal(dp_plan_from_report(report, &plan, NULL), DP_OK);
    struct dp_wipe_opts o = {.dry_run = true};
    json_t *res = NULL;
    assert_int_equal(dp_wipe_run(plan, NULL, &o, NULL, &res, NULL), DP_OK);
    assert_string_equal(status_of(res, 0), "planned");
    char *after = tu_fingerprint(f.root);
    assert_string_equal(before, after);
    free(before), free(after);
    json_decref(res);
    json_decref(report);
    dp_plan_free(plan);
    fx_free(&f);
}

/* Replay a finished journal: a resume does nothing again and reports the same outcome. */
static void test_resume_after_finish(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    add_match(&f, "x/y.jpg", 20000, 31);
    json_t *report = scan(&f);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR};
    json_t *res = wipe(&f, report, "j", &o);
    struct dp_plan *plan = NULL;
    assert_int_equal(dp_plan_from_report(report, &plan, NULL), DP_OK);
    struct dp_wipe_state *st = NULL;
    assert_int_equal(dp_wipe_state_new(&st, NULL), DP_OK);
    char *jp = tu_path(f.work, "j");
    struct dp_journal *j = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_open(&j, jp, dp_wipe_state_visit, st, NULL, &e), DP_OK);
    assert_true(dp_wipe_state_finished(st));
    json_t *res2 = NULL;
    assert_int_equal(dp_wipe_run(plan, j, &o, st, &res2, &e), DP_OK);
    assert_string_equal(status_of(res2, 0), "erased");
    assert_true(json_equal(json_object_get(json_array_get(json_object_get(res, "targets"), 0),
                                           "overwrite"),
                           json_object_get(json_array_get(json_object_get(res2, "targets"), 0),
                                           "overwrite")));
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    dp_wipe_state_free(st);
    dp_plan_free(plan);
    free(jp);
    json_decref(res);
    json_decref(res2);
    json_decref(report);
    fx_free(&f);
}

/* The overwrite stream is ChaCha20-IETF: byte-identical to libsodium's at any offset, and
 * regenerable at any 64-byte-aligned position. */
static void test_stream_known_answer(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    struct wipe_io io;
    assert_int_equal(wipe_io_init(&io, DP_WIPE_NIST_CLEAR, NULL), DP_OK);
    const uint8_t salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const uint64_t offs[] = {0, 64, 4096 * 64 + 128, ((uint64_t)1 << 38) + 640};
    for (size_t i = 0; i < 4; i++) {
        uint8_t got[1024], want[1024] = {0}, nonce[12];
        wipe_io_stream(&io, salt, offs[i], got, sizeof(got));
        uint64_t block = offs[i] / 64;
        uint32_t hi = (uint32_t)(block >> 32);
        memcpy(nonce, salt, 8);
        for (int b = 0; b < 4; b++)
            nonce[8 + b] = (uint8_t)(hi >> (8 * b));
        crypto_stream_chacha20_ietf_xor_ic(want, want, sizeof(want), nonce, (uint32_t)block,
                                           io.key);
        assert_memory_equal(got, want, sizeof(got));
    }
    uint8_t whole[256], part[128];
    wipe_io_stream(&io, salt, 0, whole, sizeof(whole));
    wipe_io_stream(&io, salt, 128, part, sizeof(part));
    assert_memory_equal(whole + 128, part, sizeof(part));
    wipe_io_release(&io);
}

/* What an overwrite leaves in the file, per method, before the name is scrubbed. */
static void test_overwrite_content(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    const enum dp_wipe_method ms[] = {DP_WIPE_NIST_CLEAR, DP_WIPE_ZERO, DP_WIPE_RANDOM,
                                      DP_WIPE_DOD3};
    for (size_t m = 0; m < 4; m++) {
        tu_write_random(dir, "f", 100000, 9);
        char *p = tu_path(dir, "f");
        size_t len;
        char *orig = tu_read(p, &len);
        struct wipe_io io;
        assert_int_equal(wipe_io_init(&io, ms[m], NULL), DP_OK);
        int fd = open(p, O_RDWR);
        json_t *ow = NULL, *ver = NULL;
        assert_int_equal(wipe_io_overwrite(&io, fd, 102400, 4096, &ow, &ver, NULL), DP_OK);
        close(fd);
        char *now = tu_read(p, &len);
        assert_int_equal(len, 102400); /* the whole last block, slack included */
        size_t zeros = 0, same = 0;
        for (size_t i = 0; i < 100000; i++) {
            zeros += now[i] == 0;
            same += now[i] == orig[i];
        }
        if (ms[m] == DP_WIPE_ZERO) {
            assert_int_equal(zeros, 100000);
        } else {
            assert_true(zeros < 1000); /* about 1/256 of the bytes by chance */
            assert_true(same < 1000);
        }
        assert_string_equal(json_string_value(json_object_get(ver, "result")), "match");
        assert_int_equal(json_array_size(json_object_get(ow, "passes")),
                         ms[m] == DP_WIPE_DOD3 ? 3 : 1);
        json_decref(ow);
        json_decref(ver);
        wipe_io_release(&io);
        free(orig);
        free(now);
        free(p);
    }
    tu_rm_rf(dir);
    free(dir);
}

/* A crash between creating and removing directory-slack fillers leaves empty files behind:
 * the resume removes exactly those (empty, regular, named in the journal) and nothing else. */
static void test_resume_removes_slack_fillers(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    add_match(&f, "sub/victim.jpg", 9000, 41);
    tu_write(f.root, "sub/aaaaaaaa", "", 0);          /* a filler left by the crash */
    tu_write(f.root, "sub/bbbbbbbb", "not ours", 8);  /* same kind of name, but has data */
    tu_write(f.root, "sub/cccccccc", "", 0);          /* empty, but not named in the journal */
    json_t *report = scan(&f);
    struct dp_plan *plan = NULL;
    assert_int_equal(dp_plan_from_report(report, &plan, NULL), DP_OK);
    char *jp = tu_path(f.work, "j");
    struct dp_journal *j = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j, jp, &e), DP_OK);
    json_t *start = json_pack("{s:s, s:s, s:s, s:I, s:I}", "plan_sha256", "", "method",
                              "nist-clear", "root", plan->root, "groups", (json_int_t)1, "names",
                              (json_int_t)1);
    json_t *begin = json_pack("{s:i, s:s, s:[s, s]}", "dir", 0, "path", "sub", "fillers",
                              "aaaaaaaa", "bbbbbbbb");
    assert_int_equal(dp_journal_append(j, "start", start, &e), DP_OK);
    assert_int_equal(dp_journal_append(j, "slack-begin", begin, &e), DP_OK);
    json_decref(start);
    json_decref(begin);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    struct dp_wipe_state *st = NULL;
    assert_int_equal(dp_wipe_state_new(&st, NULL), DP_OK);
    assert_int_equal(dp_journal_open(&j, jp, dp_wipe_state_visit, st, NULL, &e), DP_OK);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR};
    json_t *res = NULL;
    assert_int_equal(dp_wipe_run(plan, j, &o, st, &res, &e), DP_OK);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    assert_string_equal(status_of(res, 0), "erased");
    char *a = tu_path(f.root, "sub/aaaaaaaa"), *b = tu_path(f.root, "sub/bbbbbbbb"),
         *c = tu_path(f.root, "sub/cccccccc");
    assert_int_equal(access(a, F_OK), -1);
    assert_int_equal(access(b, F_OK), 0);
    assert_int_equal(access(c, F_OK), 0);
    free(a), free(b), free(c), free(jp);
    json_decref(res);
    dp_wipe_state_free(st);
    dp_plan_free(plan);
    json_decref(report);
    fx_free(&f);
}

/* A plan whose root is now mounted read-only is refused before anything (a read-only bind
 * mount of the temp tree stands in for a write-protected device). */
static void test_read_only_mount_refused(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        printf("read-only mount test skipped: needs root\n");
        skip();
    }
    struct fx f;
    fx_init(&f);
    add_match(&f, "m.jpg", 4000, 51);
    json_t *report = scan(&f);
    struct dp_plan *plan = NULL;
    assert_int_equal(dp_plan_from_report(report, &plan, NULL), DP_OK);
    if (tu_sh("mount --bind '%s' '%s' && mount -o remount,bind,ro '%s'", f.root, f.root,
              f.root) != 0) {
        tu_sh("umount '%s' 2>/dev/null", f.root);
        printf("read-only mount test skipped: bind mount failed\n");
        dp_plan_free(plan);
        json_decref(report);
        fx_free(&f);
        skip();
    }
    char *jp = tu_path(f.work, "j");
    struct dp_journal *j = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_journal_create(&j, jp, &e), DP_OK);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR};
    json_t *res = NULL;
    enum dp_status st = dp_wipe_run(plan, j, &o, NULL, &res, &e);
    dp_journal_free(j);
    tu_sh("umount '%s'", f.root);
    assert_int_equal(st, DP_ERR_INVALID);
    assert_non_null(strstr(e.msg, "read-only"));
    char *m = tu_path(f.root, "m.jpg");
    assert_int_equal(access(m, F_OK), 0);
    free(m), free(jp);
    dp_plan_free(plan);
    json_decref(report);
    fx_free(&f);
}

/* A plan naming a file that is not in the hash lists (an edited plan, or one made with other
 * lists) cannot get it wiped: the target is skipped and the file left byte-identical. */
static void test_unlisted_target_skipped(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    add_match(&f, "victim.jpg", 7000, 61);
    size_t victim_only = strlen(f.list);
    add_match(&f, "innocent.jpg", 7000, 62); /* in the plan's list, not in the lists given */
    json_t *report = scan(&f);
    assert_int_equal(json_array_size(json_object_get(report, "findings")), 2);
    struct dp_hashset *given = NULL;
    assert_int_equal(dp_hashset_new(&given, NULL), DP_OK);
    assert_int_equal(dp_hashset_load_buffer(given, "given", f.list, victim_only, NULL), DP_OK);
    assert_int_equal(dp_hashset_finalize(given, NULL), DP_OK);
    char *inn = tu_path(f.root, "innocent.jpg"), before[65], after[65];
    assert_true(tu_sha256_hex(inn, before));
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = given};
    json_t *res = wipe(&f, report, "j", &o);
    size_t i;
    const json_t *t;
    int skipped = 0, erased = 0;
    json_array_foreach(json_object_get(res, "targets"), i, t) {
        const char *st = json_string_value(json_object_get(t, "status"));
        if (strcmp(st, "skipped") == 0) {
            skipped++;
            assert_non_null(strstr(json_string_value(json_object_get(t, "reason")),
                                   "not in the hash lists"));
        }
        erased += strcmp(st, "erased") == 0;
    }
    assert_int_equal(skipped, 1);
    assert_int_equal(erased, 1);
    assert_true(tu_sha256_hex(inn, after));
    assert_string_equal(before, after);
    free(inn);
    json_decref(res);
    json_decref(report);
    dp_hashset_free(given);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_known_answer),
        cmocka_unit_test(test_overwrite_content),
        cmocka_unit_test(test_erase_and_nothing_else),
        cmocka_unit_test(test_hard_links_and_methods),
        cmocka_unit_test(test_hard_link_outside_root),
        cmocka_unit_test(test_changed_since_scan),
        cmocka_unit_test(test_dry_run_changes_nothing),
        cmocka_unit_test(test_resume_after_finish),
        cmocka_unit_test(test_resume_removes_slack_fillers),
        cmocka_unit_test(test_read_only_mount_refused),
        cmocka_unit_test(test_unlisted_target_skipped),
    };
    return cmocka_run_group_tests_name("wipe", tests, NULL, NULL);
}
