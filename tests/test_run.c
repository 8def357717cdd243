/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the erasure run in-process (dp_run, dp_run_check, dp_wipe_journaled) - the
 * names of its files, refusals that write nothing, a whole run, a run interrupted in its wipe
 * and resumed, a finished journal only reported, a journal with no start record, a declined
 * confirmation and a dry run. On a loop-mounted ext4 image when there are loop devices (the
 * run's files on the temp filesystem), else in a temp directory with the journal allowed on
 * the same filesystem. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/journal.h"
#include "deprive/json.h"
#include "deprive/run.h"

static const char *const victims[] = {"DCIM/victim-a.jpg", "Downloads/victim-b.png"};
static const char *const keeps[] = {"DCIM/holiday.jpg", "notes.txt"};

/* What the hooks saw. */
struct seen {
    int steps[DP_RUN_STEP_COUNT];
    enum dp_run_step order[16];
    size_t nsteps;
    int confirms, possible;
    size_t confirm_count; /* plan->count at the question */
    bool decline;
    int notes;
    struct dp_wipe_journal_info note; /* the last journal note (path not kept) */
};

struct rfx {
    struct tu_fs fs;  /* ext4 image when loop devices are available */
    char *tmproot;    /* else the tree's temp directory */
    const char *root; /* the tree */
    char *work;       /* keys */
    char *out;        /* work/out: the certificate and the run's files, nothing else */
    bool same_fs;     /* the journal is on the wiped filesystem (no loop device) */
    struct dp_hashset *set;
    struct dp_sign_seckey *key;
    struct dp_sign_pubkey *pub;
    json_t *case_doc;
    struct dp_run_paths paths;
    char *fingerprint; /* of the tree before the run */
    struct seen seen;
};

static void on_event(void *ctx, const struct dp_run_event *ev)
{
    struct seen *s = ctx;
    assert_true(ev->step < DP_RUN_STEP_COUNT);
    assert_non_null(ev->result);
    s->steps[ev->step]++;
    if (s->nsteps < 16)
        s->order[s->nsteps++] = ev->step;
    if (ev->step == DP_RUN_STEP_PLAN)
        assert_non_null(ev->plan);
    if (ev->step == DP_RUN_STEP_WIPED)
        assert_non_null(ev->wipe_result);
}

static enum dp_status on_possible(void *ctx, struct dp_error *err)
{
    (void)err;
    ((struct seen *)ctx)->possible++;
    return DP_OK;
}

static bool on_confirm(void *ctx, const struct dp_plan *plan)
{
    struct seen *s = ctx;
    s->confirms++;
    s->confirm_count = plan->count;
    return !s->decline;
}

static void on_note(void *ctx, const struct dp_wipe_journal_info *info)
{
    struct seen *s = ctx;
    s->notes++;
    s->note = *info;
    s->note.path = NULL;
}

static char *hex_of(const char *root, const char *rel)
{
    char *p = tu_path(root, rel), *hex = malloc(65);
    assert_true(tu_sha256_hex(p, hex));
    free(p);
    return hex;
}

static int setup(void **state)
{
    struct rfx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    *state = f;
    assert_true(sodium_init() >= 0);
    f->work = tu_mkdtemp();
    f->out = tu_path(f->work, "out");
    assert_int_equal(mkdir(f->out, 0755), 0);
    if (tu_can_loop("run: ext4") && tu_fs_create(&f->fs, "ext4", 64)) {
        f->root = f->fs.mnt;
    } else {
        f->tmproot = tu_mkdtemp();
        f->root = f->tmproot;
        f->same_fs = true;
        printf("run: the tree in %s, the journal allowed on its filesystem\n", f->root);
    }
    tu_write_random(f->root, victims[0], 40000, 1);
    tu_write_random(f->root, victims[1], 9000, 2);
    tu_write_random(f->root, keeps[0], 40000, 3);
    tu_write_random(f->root, keeps[1], 500, 4);
    char list[512] = "";
    for (size_t i = 0; i < 2; i++) {
        char *hex = hex_of(f->root, victims[i]);
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "sha256:%s\n", hex);
        free(hex);
    }
    struct dp_error e = {0};
    assert_int_equal(dp_hashset_new(&f->set, NULL), DP_OK);
    if (dp_hashset_load_buffer(f->set, "victims.txt", list, strlen(list), &e) != DP_OK)
        fail_msg("hash list: %s", e.msg);
    assert_int_equal(dp_hashset_finalize(f->set, NULL), DP_OK);
    char *pub = tu_path(f->work, "k.pub"), *sec = tu_path(f->work, "k.sec");
    if (dp_sign_keygen(&f->pub, pub, sec, NULL, &e) != DP_OK ||
        dp_sign_seckey_load(&f->key, sec, NULL, &e) != DP_OK)
        fail_msg("key: %s", e.msg);
    free(pub), free(sec);
    assert_int_equal(dp_cert_case_new(&f->case_doc, NULL), DP_OK);
    assert_int_equal(dp_cert_case_set(f->case_doc, "order", "DO/2026/1", NULL), DP_OK);
    assert_int_equal(dp_cert_case_set(f->case_doc, "exhibit", "EX-1", NULL), DP_OK);
    assert_int_equal(dp_cert_case_set(f->case_doc, "officer", "DC Example", NULL), DP_OK);
    char *cert = tu_path(f->out, "cert.json");
    assert_int_equal(dp_run_paths_init(&f->paths, cert, NULL), DP_OK);
    free(cert);
    f->fingerprint = tu_fingerprint(f->root);
    return 0;
}

static int teardown(void **state)
{
    struct rfx *f = *state;
    tu_fs_destroy(&f->fs);
    if (f->tmproot != NULL)
        tu_rm_rf(f->tmproot);
    tu_rm_rf(f->work);
    free(f->tmproot), free(f->work), free(f->out), free(f->fingerprint);
    dp_hashset_free(f->set);
    dp_sign_seckey_free(f->key);
    dp_sign_pubkey_free(f->pub);
    json_decref(f->case_doc);
    dp_run_paths_release(&f->paths);
    free(f);
    return 0;
}

static struct dp_run_opts opts_of(struct rfx *f)
{
    memset(&f->seen, 0, sizeof(f->seen));
    struct dp_run_opts o = {.scan = {.jobs = 2},
                            .wipe = {.method = DP_WIPE_NIST_CLEAR,
                                     .journal_on_device = f->same_fs,
                                     .journal_note = on_note,
                                     .progress_ctx = &f->seen},
                            .confirm_possible = on_possible,
                            .confirm = on_confirm,
                            .event = on_event,
                            .ctx = &f->seen};
    return o;
}

/* How many entries out/ holds. */
static size_t out_entries(const struct rfx *f)
{
    DIR *d = opendir(f->out);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void assert_tree_unchanged(const struct rfx *f)
{
    char *now = tu_fingerprint(f->root);
    assert_string_equal(now, f->fingerprint);
    free(now);
}

static void assert_victims_gone_keeps_kept(const struct rfx *f)
{
    for (size_t i = 0; i < 2; i++) {
        char *p = tu_path(f->root, victims[i]);
        if (access(p, F_OK) == 0)
            fail_msg("%s survived", victims[i]);
        free(p);
        char line[600], *hex = hex_of(f->root, keeps[i]);
        snprintf(line, sizeof(line), "%s  ./%s\n", hex, keeps[i]);
        if (strstr(f->fingerprint, line) == NULL)
            fail_msg("%s changed", keeps[i]);
        free(hex);
    }
}

/* The certificate on disk verifies with the key, states ERASED and ends at the journal. */
static void assert_certificate(const struct rfx *f)
{
    size_t len = 0, slen = 0;
    char *data = tu_read(f->paths.file[DP_RUN_FILE_CERT], &len);
    char *sig = tu_read(f->paths.file[DP_RUN_FILE_SIG], &slen);
    assert_non_null(data);
    assert_non_null(sig);
    struct dp_cert_verified v = {0};
    struct dp_error e = {0};
    if (dp_cert_verify(&v, f->pub, data, len, sig, slen, &e) != DP_OK)
        fail_msg("the certificate does not verify: %s", e.msg);
    assert_string_equal(v.result, DP_CERT_ERASED);
    if (dp_cert_check_journal(v.cert, f->paths.file[DP_RUN_FILE_JOURNAL], &e) != DP_OK)
        fail_msg("the certificate does not end at its journal: %s", e.msg);
    dp_cert_verified_release(&v);
    free(data), free(sig);
}

static void assert_erased_result(const struct rfx *f, const struct dp_run_result *r)
{
    assert_int_equal(r->outcome, DP_RUN_ERASED);
    assert_string_equal(dp_run_outcome_name(r->outcome), "erased");
    assert_int_equal(r->findings, 2);
    assert_true(r->wiped && r->rescanned && r->certified);
    assert_int_equal(r->wipe.targets, 2);
    assert_int_equal(r->wipe.by_status[DP_WIPE_ERASED], 2);
    assert_int_equal(r->remaining, 0);
    assert_int_equal(r->certificate, DP_OUTCOME_ERASED);
    assert_int_equal(strlen(r->keyid), 16);
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++)
        if (access(f->paths.file[i], F_OK) != 0)
            fail_msg("%s was not written", f->paths.file[i]);
}

/* ---- the names ---- */

static void test_file_names(void **state)
{
    (void)state;
    struct dp_run_paths p;
    assert_int_equal(dp_run_paths_init(&p, "/case/cert.json", NULL), DP_OK);
    static const char *const want[DP_RUN_FILE_COUNT] = {
        "/case/cert.json",         "/case/cert.json.minisig",   "/case/cert.json.plan.json",
        "/case/cert.json.journal", "/case/cert.json.wipe.json", "/case/cert.json.rescan.json"};
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++)
        assert_string_equal(p.file[i], want[i]);
    dp_run_paths_release(&p);
    dp_run_paths_release(&p); /* released twice: fine */
    char *j = NULL, *w = NULL;
    assert_int_equal(dp_run_file_path(&j, "plan.json", DP_RUN_FILE_JOURNAL, NULL), DP_OK);
    assert_int_equal(dp_run_file_path(&w, "plan.json", DP_RUN_FILE_WIPE, NULL), DP_OK);
    assert_string_equal(j, "plan.json.journal");
    assert_string_equal(w, "plan.json.wipe.json");
    free(j), free(w);
    assert_string_equal(dp_run_file_suffix(DP_RUN_FILE_SIG), ".minisig");
    for (int o = 0; o < DP_RUN_OUTCOME_COUNT; o++)
        assert_non_null(dp_run_outcome_name((enum dp_run_outcome)o));
    assert_string_equal(dp_run_outcome_name(DP_RUN_DECLINED), "declined");
}

/* ---- refusals: nothing scanned, nothing written ---- */

static void expect_refusal(struct rfx *f, const struct dp_run_opts *o, const char *want,
                           size_t out_files)
{
    struct dp_run_result r;
    struct dp_error e = {0};
    enum dp_status st = dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, o, &e);
    if (st == DP_OK || strstr(e.msg, want) == NULL)
        fail_msg("wanted a refusal saying '%s', got %d: %s", want, (int)st, e.msg);
    assert_int_equal(f->seen.nsteps, 0); /* not even scanned */
    assert_int_equal(f->seen.confirms, 0);
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++)
        assert_false(r.written[i]);
    assert_int_equal(out_entries(f), out_files);
    assert_tree_unchanged(f);
}

static void test_refusals_write_nothing(void **state)
{
    struct rfx *f = *state;
    struct dp_run_opts o = opts_of(f);
    /* every one of the run's files in the way, one at a time */
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++) {
        tu_write(f->out, strrchr(f->paths.file[i], '/') + 1, "x", 1);
        o = opts_of(f);
        expect_refusal(f, &o, "already exists", 1);
        char want[4200];
        snprintf(want, sizeof(want), "'%s' already exists", f->paths.file[i]);
        struct dp_error e = {0};
        assert_int_equal(dp_run_check(&f->paths, f->root, f->case_doc, &o, &e), DP_ERR_INVALID);
        assert_non_null(strstr(e.msg, want));
        assert_int_equal(unlink(f->paths.file[i]), 0);
    }
    /* a dangling symlink is in the way as well */
    assert_int_equal(symlink("/nonexistent/x", f->paths.file[DP_RUN_FILE_JOURNAL]), 0);
    o = opts_of(f);
    expect_refusal(f, &o, "already exists", 1);
    assert_int_equal(unlink(f->paths.file[DP_RUN_FILE_JOURNAL]), 0);
    /* resume: the plan and the journal are needed; a certificate may be there (a run that
     * finished with failed targets is resumed to try them again: it is kept under another
     * name when the new one is written), so here the bad plan is what refuses */
    o = opts_of(f);
    o.resume = true;
    expect_refusal(f, &o, "cannot resume: '", 0);
    tu_write(f->out, "cert.json.plan.json", "{}", 2);
    expect_refusal(f, &o, ".journal' does not exist", 1);
    tu_write(f->out, "cert.json.journal", "", 0);
    tu_write(f->out, "cert.json", "x", 1);
    expect_refusal(f, &o, "not a deprive scan report", 3);
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++)
        unlink(f->paths.file[i]);
    /* incomplete case details: every missing field named */
    json_t *partial = NULL;
    assert_int_equal(dp_cert_case_new(&partial, NULL), DP_OK);
    assert_int_equal(dp_cert_case_set(partial, "order", "DO/1", NULL), DP_OK);
    o = opts_of(f);
    struct dp_run_result r;
    struct dp_error e = {0};
    assert_int_not_equal(dp_run(&r, &f->paths, f->root, f->set, partial, f->key, &o, &e), DP_OK);
    assert_non_null(strstr(e.msg, "--exhibit"));
    assert_non_null(strstr(e.msg, "--officer"));
    assert_int_equal(f->seen.possible, 0); /* refused before the confirmation is considered */
    json_decref(partial);
    /* no confirmation to be had */
    o = opts_of(f);
    o.confirm_possible = NULL;
    o.confirm = NULL;
    struct dp_error e2 = {0};
    assert_int_equal(dp_run_check(&f->paths, f->root, f->case_doc, &o, &e2), DP_OK);
    assert_int_equal(out_entries(f), 0);
    assert_tree_unchanged(f);
}

/* The journal on the filesystem being wiped: refused with the way out named. */
static void test_refusal_journal_place(void **state)
{
    struct rfx *f = *state;
    struct dp_run_paths p;
    char *cert = tu_path(f->root, "cert.json");
    assert_int_equal(dp_run_paths_init(&p, cert, NULL), DP_OK);
    struct dp_run_opts o = opts_of(f);
    o.wipe.journal_on_device = false;
    struct dp_run_result r;
    struct dp_error e = {0};
    assert_int_equal(dp_run(&r, &p, f->root, f->set, f->case_doc, f->key, &o, &e), DP_ERR_INVALID);
    assert_non_null(strstr(e.msg, "must not be on the filesystem being wiped"));
    assert_non_null(strstr(e.msg, "pass --journal-on-same-fs"));
    assert_int_equal(f->seen.nsteps, 0);
    assert_tree_unchanged(f);
    dp_run_paths_release(&p);
    free(cert);
}

/* ---- whole runs ---- */

static void test_complete_run(void **state)
{
    struct rfx *f = *state;
    struct dp_run_opts o = opts_of(f);
    struct dp_run_result r;
    struct dp_error e = {0};
    if (dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e) != DP_OK)
        fail_msg("run: %s", e.msg);
    assert_erased_result(f, &r);
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++)
        assert_true(r.written[i]);
    assert_int_equal(out_entries(f), DP_RUN_FILE_COUNT);
    static const enum dp_run_step want[] = {DP_RUN_STEP_PLAN, DP_RUN_STEP_WIPED,
                                            DP_RUN_STEP_RESCANNED, DP_RUN_STEP_CERTIFIED};
    assert_int_equal(f->seen.nsteps, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(f->seen.order[i], want[i]);
    assert_int_equal(f->seen.confirms, 1);
    assert_int_equal(f->seen.confirm_count, 2);
    assert_int_equal(f->seen.possible, 1); /* dp_run checks (again, after a caller) */
    assert_int_equal(f->seen.notes, 0);    /* a new journal: nothing to say */
    assert_victims_gone_keeps_kept(f);
    assert_certificate(f);
    /* the wipe result names its journal; the re-scan found nothing */
    json_t *w = tu_load_json(f->paths.file[DP_RUN_FILE_WIPE]);
    assert_string_equal(json_string_value(tu_jget(w, "journal.file")),
                        f->paths.file[DP_RUN_FILE_JOURNAL]);
    json_decref(w);
    json_t *rs = tu_load_json(f->paths.file[DP_RUN_FILE_RESCAN]);
    assert_int_equal(json_array_size(json_object_get(rs, "findings")), 0);
    json_decref(rs);
    /* a second run into the same names is refused, and the first run's files stay */
    char before[65], after[65];
    assert_true(tu_sha256_hex(f->paths.file[DP_RUN_FILE_CERT], before));
    o = opts_of(f);
    assert_int_equal(dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e),
                     DP_ERR_INVALID);
    assert_true(tu_sha256_hex(f->paths.file[DP_RUN_FILE_CERT], after));
    assert_string_equal(before, after);
}

static void stop_seam(void *ctx, const char *point, int dirfd, const char *name)
{
    (void)ctx, (void)dirfd, (void)name;
    if (strcmp(point, "overwrite-begun") == 0)
        _exit(0); /* as a kill right after the overwrite-begin record */
}

struct jcount {
    size_t records, starts, resumes, finishes;
};

static enum dp_status count_visit(void *ctx, uint64_t seq, const char *type, json_t *data,
                                  struct dp_error *err)
{
    (void)seq, (void)data, (void)err;
    struct jcount *c = ctx;
    c->records++;
    c->starts += strcmp(type, "start") == 0;
    c->resumes += strcmp(type, "resume") == 0;
    c->finishes += strcmp(type, "finish") == 0;
    return DP_OK;
}

static struct jcount journal_counts(const char *path, char head[DP_JOURNAL_HEX_LEN])
{
    struct jcount c = {0};
    struct dp_error e = {0};
    if (dp_journal_verify_file(path, head, NULL, count_visit, &c, &e) != DP_OK)
        fail_msg("journal: %s", e.msg);
    return c;
}

static void test_resume_after_interruption(void **state)
{
    struct rfx *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct dp_run_opts o = opts_of(f);
        o.wipe.test_seam = stop_seam;
        struct dp_run_result r;
        enum dp_status st = dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, NULL);
        _exit(st == DP_OK ? 3 : 4); /* the seam was never reached */
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    assert_int_equal(access(f->paths.file[DP_RUN_FILE_PLAN], F_OK), 0);
    assert_int_equal(access(f->paths.file[DP_RUN_FILE_CERT], F_OK), -1);
    struct jcount c = journal_counts(f->paths.file[DP_RUN_FILE_JOURNAL], NULL);
    assert_int_equal(c.starts, 1);
    assert_int_equal(c.finishes, 0);

    /* a plan file that is not the one the journal started with is refused */
    size_t plen = 0;
    char *plan = tu_read(f->paths.file[DP_RUN_FILE_PLAN], &plen);
    json_t *doc = tu_load_json(f->paths.file[DP_RUN_FILE_PLAN]);
    assert_int_equal(json_dump_file(doc, f->paths.file[DP_RUN_FILE_PLAN], JSON_COMPACT), 0);
    json_decref(doc);
    struct dp_run_opts o = opts_of(f);
    o.resume = true;
    struct dp_run_result r;
    struct dp_error e = {0};
    assert_int_equal(dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e),
                     DP_ERR_INVALID);
    assert_non_null(strstr(e.msg, "another plan"));
    assert_false(r.wiped);
    assert_int_equal(journal_counts(f->paths.file[DP_RUN_FILE_JOURNAL], NULL).records, c.records);
    tu_write(f->out, "cert.json.plan.json", plan, plen);
    free(plan);

    /* the real plan: the run finishes and certifies */
    o = opts_of(f);
    o.resume = true;
    if (dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e) != DP_OK)
        fail_msg("resume: %s", e.msg);
    assert_erased_result(f, &r);
    assert_false(r.written[DP_RUN_FILE_PLAN]); /* read back, not written */
    assert_true(r.written[DP_RUN_FILE_JOURNAL] && r.written[DP_RUN_FILE_CERT]);
    assert_int_equal(f->seen.notes, 1);
    assert_false(f->seen.note.afresh);
    assert_false(f->seen.note.finished);
    assert_true(f->seen.note.replay.records >= 2);
    c = journal_counts(f->paths.file[DP_RUN_FILE_JOURNAL], NULL);
    assert_int_equal(c.starts, 1);
    assert_int_equal(c.resumes, 1);
    assert_int_equal(c.finishes, 1);
    assert_victims_gone_keeps_kept(f);
    assert_certificate(f);
}

static void test_finished_journal_only_reported(void **state)
{
    struct rfx *f = *state;
    struct dp_run_opts o = opts_of(f);
    struct dp_run_result r;
    struct dp_error e = {0};
    if (dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e) != DP_OK)
        fail_msg("run: %s", e.msg);
    char head[DP_JOURNAL_HEX_LEN], head2[DP_JOURNAL_HEX_LEN];
    struct jcount c = journal_counts(f->paths.file[DP_RUN_FILE_JOURNAL], head);
    /* certified, nothing failed: a resume has nothing to do and is refused, writing nothing */
    o.resume = true;
    struct dp_error re = {0};
    assert_int_equal(dp_run_check(&f->paths, f->root, f->case_doc, &o, &re), DP_ERR_INVALID);
    assert_non_null(strstr(re.msg, "finished with no failed target"));
    char *earlier = tu_path(f->out, "cert.json.earlier-1.json");
    assert_int_equal(access(earlier, F_OK), -1);
    free(earlier);
    /* the certificate lost (say, killed before it was written): resume makes it again */
    assert_int_equal(unlink(f->paths.file[DP_RUN_FILE_CERT]), 0);
    assert_int_equal(unlink(f->paths.file[DP_RUN_FILE_SIG]), 0);
    o = opts_of(f);
    o.resume = true;
    if (dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e) != DP_OK)
        fail_msg("resume of a finished run: %s", e.msg);
    assert_erased_result(f, &r);
    assert_int_equal(f->seen.notes, 1);
    assert_true(f->seen.note.finished);
    assert_false(f->seen.note.afresh);
    struct jcount c2 = journal_counts(f->paths.file[DP_RUN_FILE_JOURNAL], head2);
    assert_int_equal(c2.records, c.records); /* nothing appended */
    assert_string_equal(head, head2);
    assert_victims_gone_keeps_kept(f);
    assert_certificate(f);
}

static void test_no_start_record_starts_afresh(void **state)
{
    struct rfx *f = *state;
    /* the state a kill leaves between creating the journal and its first record */
    json_t *report = tu_scan_report(f->root, NULL, &f->set);
    struct dp_error e = {0};
    assert_int_equal(dp_json_write_file(report, f->paths.file[DP_RUN_FILE_PLAN], &e), DP_OK);
    json_decref(report);
    static const char torn[] = "{\"data\":{\"groups\":2,\"me";
    tu_write(f->out, "cert.json.journal", torn, strlen(torn));
    struct dp_run_opts o = opts_of(f);
    o.resume = true;
    struct dp_run_result r;
    if (dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e) != DP_OK)
        fail_msg("resume from a journal without a start record: %s", e.msg);
    assert_erased_result(f, &r);
    assert_int_equal(f->seen.notes, 1);
    assert_true(f->seen.note.afresh);
    assert_true(f->seen.note.replay.torn_tail);
    struct jcount c = journal_counts(f->paths.file[DP_RUN_FILE_JOURNAL], NULL);
    assert_int_equal(c.starts, 1);
    assert_int_equal(c.resumes, 0);
    assert_victims_gone_keeps_kept(f);
    assert_certificate(f);
}

static void test_declined_and_dry_run(void **state)
{
    struct rfx *f = *state;
    struct dp_run_opts o = opts_of(f);
    f->seen.decline = true;
    struct dp_run_result r;
    struct dp_error e = {0};
    if (dp_run(&r, &f->paths, f->root, f->set, f->case_doc, f->key, &o, &e) != DP_OK)
        fail_msg("declined run: %s", e.msg);
    assert_int_equal(r.outcome, DP_RUN_DECLINED);
    assert_int_equal(r.findings, 2);
    assert_false(r.wiped);
    assert_int_equal(f->seen.confirms, 1);
    assert_int_equal(f->seen.nsteps, 1); /* the plan, and nothing after */
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++)
        assert_false(r.written[i]);
    assert_int_equal(out_entries(f), 0);
    assert_tree_unchanged(f);

    /* a dry run: every target checked, no question, nothing written, no key needed */
    o = opts_of(f);
    o.wipe.dry_run = true;
    if (dp_run(&r, NULL, f->root, f->set, NULL, NULL, &o, &e) != DP_OK)
        fail_msg("dry run: %s", e.msg);
    assert_int_equal(r.outcome, DP_RUN_DRY_COMPLETE);
    assert_true(r.wiped);
    assert_int_equal(r.wipe.by_status[DP_WIPE_PLANNED], 2);
    assert_false(r.rescanned || r.certified);
    assert_int_equal(f->seen.confirms, 0);
    assert_int_equal(f->seen.possible, 0);
    assert_int_equal(f->seen.nsteps, 2);
    assert_int_equal(out_entries(f), 0);
    assert_tree_unchanged(f);
    /* resume and dry run together: refused */
    o.resume = true;
    assert_int_equal(dp_run(&r, NULL, f->root, f->set, NULL, NULL, &o, &e), DP_ERR_INVALID);
}

/* dp_wipe_journaled on its own (deprive wipe): an existing journal is never taken over
 * without resume. */
static void test_journaled_existing_journal(void **state)
{
    struct rfx *f = *state;
    json_t *report = tu_scan_report(f->root, NULL, &f->set);
    struct dp_error e = {0};
    assert_int_equal(dp_json_write_file(report, f->paths.file[DP_RUN_FILE_PLAN], &e), DP_OK);
    struct dp_plan *plan = NULL;
    assert_int_equal(dp_plan_from_report(report, &plan, &e), DP_OK);
    json_decref(report);
    tu_write(f->out, "cert.json.journal", "", 0);
    struct dp_wipe_opts o = {
        .method = DP_WIPE_NIST_CLEAR, .lists = f->set, .journal_on_device = f->same_fs};
    json_t *res = NULL;
    assert_int_equal(dp_wipe_journaled(plan, f->paths.file[DP_RUN_FILE_PLAN],
                                       f->paths.file[DP_RUN_FILE_JOURNAL], false, &o, &res, &e),
                     DP_ERR_IO);
    assert_null(res);
    assert_non_null(strstr(e.msg, "a wipe of this plan was started before"));
    assert_tree_unchanged(f);
    /* with resume it starts afresh in it */
    if (dp_wipe_journaled(plan, f->paths.file[DP_RUN_FILE_PLAN], f->paths.file[DP_RUN_FILE_JOURNAL],
                          true, &o, &res, &e) != DP_OK)
        fail_msg("journaled resume: %s", e.msg);
    struct dp_wipe_summary s;
    assert_int_equal(dp_wipe_summary_of(res, &s, NULL), DP_OK);
    assert_true(dp_wipe_summary_complete(&s));
    assert_string_equal(json_string_value(tu_jget(res, "journal.file")),
                        f->paths.file[DP_RUN_FILE_JOURNAL]);
    json_decref(res);
    dp_plan_free(plan);
    assert_victims_gone_keeps_kept(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_names),     T(test_refusals_write_nothing),
        T(test_refusal_journal_place),         T(test_complete_run),
        T(test_resume_after_interruption),     T(test_finished_journal_only_reported),
        T(test_no_start_record_starts_afresh), T(test_declined_and_dry_run),
        T(test_journaled_existing_journal),
    };
    return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
