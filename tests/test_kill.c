/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: `deprive wipe` killed with SIGKILL at random points and resumed, again and
 * again, must end with every match erased once, everything else untouched, no scrubbed names
 * left behind and a journal that verifies. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "deprive/journal.h"

#define N_MATCH 100
#define N_KEEP 50
#define KILLS 20
#define ORDER "ORD-KILL-0001"

struct kfx {
    struct tu_fs fs; /* ext4 image when loop devices are available */
    char *tmproot;   /* else: the root's parent, a temp dir */
    char *base;      /* where the trees go (fs.mnt or tmproot) */
    char *work;      /* plans, journals, lists: another filesystem */
    char *list;      /* hash list path */
    char listbuf[N_MATCH * 80];
    int kills;      /* SIGKILLs delivered so far */
    int completed;  /* runs that finished before their kill */
    double t_full;  /* uninterrupted wipe, seconds */
    double t_start; /* a --resume of a finished plan: start-up cost */
    double scale;   /* shrinks when runs finish before their kill */
};

struct tree {
    char *root;
    char *plan;
    char match[N_MATCH][48];
    char keep[N_KEEP][48];
    char keep_sha[N_KEEP][65];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static dev_t dev_of(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_dev;
}

static int setup(void **state)
{
    struct kfx *k = calloc(1, sizeof(*k));
    assert_non_null(k);
    *state = k;
    k->work = tu_mkdtemp();
    if (tu_can_loop("kill: ext4") && tu_fs_create(&k->fs, "ext4", 256)) {
        k->base = strdup(k->fs.mnt);
        printf("kill: trees on a loop-mounted ext4 image, journals in %s\n", k->work);
        return 0;
    }
    /* no loop device: the tree in a temp dir, the journal on another filesystem (/dev/shm) */
    k->tmproot = tu_mkdtemp();
    if (dev_of(k->tmproot) == dev_of(k->work)) {
        tu_rm_rf(k->work);
        free(k->work);
        k->work = NULL;
        char shm[] = "/dev/shm/deprive-kill-XXXXXX";
        if (access("/dev/shm", W_OK) == 0 && mkdtemp(shm) != NULL &&
            dev_of(shm) != dev_of(k->tmproot))
            k->work = strdup(shm);
    }
    if (k->work != NULL) {
        k->base = strdup(k->tmproot);
        printf("kill: trees in %s, journals in %s\n", k->base, k->work);
    }
    return 0;
}

static int teardown(void **state)
{
    struct kfx *k = *state;
    tu_fs_destroy(&k->fs);
    if (k->tmproot != NULL)
        tu_rm_rf(k->tmproot);
    if (k->work != NULL && strncmp(k->work, "/dev/shm/", 9) == 0)
        tu_sh("rm -rf '%s'", k->work);
    else if (k->work != NULL)
        tu_rm_rf(k->work);
    free(k->tmproot);
    free(k->work);
    free(k->base);
    free(k->list);
    free(k);
    return 0;
}

/* A tree of N_MATCH matching files (20..200 KiB, the same contents in every tree) and N_KEEP
 * others (contents unique to the tree). */
static void make_tree(struct kfx *k, struct tree *t, const char *name, uint32_t salt)
{
    memset(t, 0, sizeof(*t));
    t->root = tu_path(k->base, name);
    char plan[64];
    snprintf(plan, sizeof(plan), "%s.plan.json", name);
    t->plan = tu_path(k->work, plan);
    mkdir(t->root, 0755);
    for (int i = 0; i < N_MATCH; i++) {
        snprintf(t->match[i], sizeof(t->match[i]), "d%d/victim_%03d.jpg", i % 7, i);
        size_t size = 20 * 1024 + (size_t)(i * 7919u % (180 * 1024));
        tu_write_random(t->root, t->match[i], size, 100 + (uint32_t)i);
    }
    for (int i = 0; i < N_KEEP; i++) {
        snprintf(t->keep[i], sizeof(t->keep[i]), "d%d/keep_%03d.dat", i % 9, i);
        size_t size = 1024 + (size_t)(i * 4099u % (150 * 1024));
        tu_write_random(t->root, t->keep[i], size, salt * 1000 + 7 + (uint32_t)i);
        char *p = tu_path(t->root, t->keep[i]);
        assert_true(tu_sha256_hex(p, t->keep_sha[i]));
        free(p);
    }
    if (k->list == NULL) {
        k->listbuf[0] = '\0';
        for (int i = 0; i < N_MATCH; i++) {
            char *p = tu_path(t->root, t->match[i]), hex[65];
            assert_true(tu_sha256_hex(p, hex));
            size_t n = strlen(k->listbuf);
            snprintf(k->listbuf + n, sizeof(k->listbuf) - n, "sha256:%s\n", hex);
            free(p);
        }
        tu_write(k->work, "victims.hashes", k->listbuf, strlen(k->listbuf));
        k->list = tu_path(k->work, "victims.hashes");
    }
    sync();
    struct tu_run r;
    tu_deprive(&r, NULL, "scan", "--hashes", k->list, "-o", t->plan, t->root, NULL);
    if (r.status != 0)
        fail_msg("scan of %s failed (%d): %s", t->root, r.status, r.err);
    tu_run_free(&r);
    json_error_t je;
    json_t *rep = json_load_file(t->plan, 0, &je);
    assert_non_null(rep);
    assert_int_equal(json_array_size(json_object_get(rep, "findings")), N_MATCH);
    json_decref(rep);
}

static void free_tree(struct tree *t)
{
    free(t->root);
    free(t->plan);
}

static char *journal_of(const struct tree *t)
{
    size_t n = strlen(t->plan) + 16;
    char *p = malloc(n);
    snprintf(p, n, "%s.journal", t->plan);
    return p;
}

/* Start `deprive wipe` (with --resume once a journal exists); output appended to work/log. */
static pid_t start_wipe(struct kfx *k, const struct tree *t)
{
    char *j = journal_of(t), *log = tu_path(k->work, "wipe.log");
    bool resume = access(j, F_OK) == 0;
    free(j);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        if (resume)
            execl(DP_TEST_BIN, DP_TEST_BIN, "wipe", "--resume", "--hashes", k->list, "--order",
                  ORDER, "--yes", t->plan, (char *)NULL);
        else
            execl(DP_TEST_BIN, DP_TEST_BIN, "wipe", "--hashes", k->list, "--order", ORDER,
                  "--yes", t->plan, (char *)NULL);
        _exit(127);
    }
    free(log);
    return pid;
}

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int run_wipe(struct kfx *k, const struct tree *t, double *secs)
{
    double t0 = now_s();
    int rc = wait_status(start_wipe(k, t));
    if (secs != NULL)
        *secs = now_s() - t0;
    return rc;
}

/* One uninterrupted wipe of a separate tree, and a --resume of the finished plan: how long the
 * work takes and how long start-up alone takes. */
static void calibrate(struct kfx *k)
{
    k->t_full = k->t_start = 1e9;
    for (int c = 0; c < 2; c++) {
        struct tree *t = malloc(sizeof(*t));
        char name[32];
        double full, start;
        snprintf(name, sizeof(name), "calibration%d", c);
        make_tree(k, t, name, 1 + (uint32_t)c * 100);
        assert_int_equal(run_wipe(k, t, &full), 0);
        assert_int_equal(run_wipe(k, t, &start), 0);
        k->t_full = full < k->t_full ? full : k->t_full;
        k->t_start = start < k->t_start ? start : k->t_start;
        free_tree(t);
        free(t);
    }
    printf("kill: calibration: uninterrupted wipe of %d files %.2f s, start-up %.3f s (best "
           "of 2)\n",
           N_MATCH, k->t_full, k->t_start);
}

static double uniform(void)
{
    return (double)random() / ((double)RAND_MAX + 1.0);
}

/* Kill wipes of this tree at random points until the plan is done or the kills are used up;
 * returns true when a run finished on its own (the plan is complete). */
static bool kill_loop(struct kfx *k, const struct tree *t)
{
    double work = k->t_full > k->t_start ? k->t_full - k->t_start : k->t_full;
    while (k->kills < KILLS) {
        /* start-up plus, on average, a twentieth of the work: the kills spread over the wipe,
         * some during start-up and journal replay */
        double delay = k->t_start * uniform() * 1.5 + k->scale * work * uniform() * 2.0 / KILLS;
        pid_t pid = start_wipe(k, t);
        struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        int kr = kill(pid, SIGKILL);
        int rc = wait_status(pid);
        if (rc == 128 + SIGKILL && kr == 0) {
            k->kills++;
            /* where it stopped: how far the journal got, or a torn last record */
            char *jp = journal_of(t);
            uint64_t records = 0;
            struct dp_error e = {0};
            char where[96] = "before the journal existed";
            if (access(jp, F_OK) == 0) {
                if (dp_journal_verify_file(jp, NULL, &records, NULL, NULL, &e) == DP_OK)
                    snprintf(where, sizeof(where), "journal at %llu records",
                             (unsigned long long)records);
                else
                    snprintf(where, sizeof(where), "journal: %.80s", e.msg);
            }
            free(jp);
            printf("kill: %s: kill %2d at %.3f s, %s\n", strrchr(t->root, '/') + 1, k->kills, delay,
                   where);
            continue;
        }
        /* it finished first */
        if (rc != 0) {
            tu_sh("tail -n 15 '%s/wipe.log'", k->work);
            fail_msg("an interrupted-and-resumed wipe exited %d", rc);
        }
        k->completed++;
        k->scale *= 0.7; /* the machine is faster than calibrated: kill sooner */
        printf("kill: %s: run finished before its kill at %.3f s\n", strrchr(t->root, '/') + 1,
               delay);
        return true;
    }
    return false;
}

/* ---- checks ---- */

static char (*files)[512];
static size_t nfiles;

static int list_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_D && flag != FTW_DP && nfiles < 1024)
        snprintf(files[nfiles++], 512, "%s", path);
    (void)st;
    return 0;
}

struct jcount {
    size_t records, resumes, starts, done;
    size_t done_per_group[N_MATCH];
};

static enum dp_status count_visit(void *ctx, uint64_t seq, const char *type, json_t *data,
                                  struct dp_error *err)
{
    (void)seq;
    (void)err;
    struct jcount *c = ctx;
    c->records++;
    c->resumes += strcmp(type, "resume") == 0;
    c->starts += strcmp(type, "start") == 0;
    if (strcmp(type, "target-done") == 0) {
        c->done++;
        json_int_t g = json_integer_value(json_object_get(data, "group"));
        if (g >= 0 && g < N_MATCH)
            c->done_per_group[g]++;
    }
    return DP_OK;
}

static void check_tree(struct kfx *k, const struct tree *t)
{
    const char *name = strrchr(t->root, '/') + 1;
    /* the matches: gone; the others: byte-identical; nothing else: no scrubbed names */
    for (int i = 0; i < N_MATCH; i++) {
        char *p = tu_path(t->root, t->match[i]);
        if (access(p, F_OK) == 0)
            fail_msg("%s: %s survived", name, t->match[i]);
        free(p);
    }
    for (int i = 0; i < N_KEEP; i++) {
        char *p = tu_path(t->root, t->keep[i]), hex[65];
        if (!tu_sha256_hex(p, hex) || strcmp(hex, t->keep_sha[i]) != 0)
            fail_msg("%s: %s changed or vanished", name, t->keep[i]);
        free(p);
    }
    files = calloc(1024, 512);
    nfiles = 0;
    assert_int_equal(nftw(t->root, list_cb, 16, FTW_PHYS), 0);
    size_t rl = strlen(t->root);
    for (size_t i = 0; i < nfiles; i++) {
        bool known = false;
        for (int j = 0; j < N_KEEP && !known; j++)
            known = strcmp(files[i] + rl + 1, t->keep[j]) == 0;
        if (!known)
            fail_msg("%s: left behind: %s", name, files[i] + rl + 1);
    }
    assert_int_equal(nfiles, N_KEEP);
    free(files);

    /* a re-scan finds nothing */
    char *rescan = tu_path(k->work, "rescan.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "scan", "--hashes", k->list, "-o", rescan, t->root, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    json_error_t je;
    json_t *rep = json_load_file(rescan, 0, &je);
    assert_non_null(rep);
    assert_int_equal(json_array_size(json_object_get(rep, "findings")), 0);
    json_decref(rep);
    free(rescan);

    /* the journal verifies, and matches the result */
    char *jp = journal_of(t), head[DP_JOURNAL_HEX_LEN];
    uint64_t records = 0;
    struct jcount *c = calloc(1, sizeof(*c));
    struct dp_error e = {0};
    if (dp_journal_verify_file(jp, head, &records, count_visit, c, &e) != DP_OK)
        fail_msg("%s: journal does not verify: %s", name, e.msg);
    assert_int_equal(c->starts, 1);

    size_t n = strlen(t->plan) + 16;
    char *wp = malloc(n);
    snprintf(wp, n, "%s.wipe.json", t->plan);
    json_t *res = json_load_file(wp, 0, &je);
    if (res == NULL)
        fail_msg("%s: %s: %s", name, wp, je.text);
    const json_t *targets = json_object_get(res, "targets");
    assert_int_equal(json_array_size(targets), N_MATCH);
    int seen[N_MATCH] = {0};
    size_t i;
    const json_t *tg;
    json_array_foreach(targets, i, tg) {
        const char *st = json_string_value(json_object_get(tg, "status"));
        if (st == NULL || strcmp(st, "erased") != 0)
            fail_msg("%s: target %zu is %s (%s)", name, i, st ? st : "?",
                     json_string_value(json_object_get(tg, "reason")));
        const json_t *names = json_object_get(tg, "names");
        assert_int_equal(json_array_size(names), 1);
        json_int_t pi = json_integer_value(json_object_get(json_array_get(names, 0), "plan_index"));
        assert_true(pi >= 0 && pi < N_MATCH);
        seen[pi]++;
        assert_true(json_is_true(json_object_get(json_array_get(names, 0), "removed")));
    }
    for (int j = 0; j < N_MATCH; j++)
        if (seen[j] != 1)
            fail_msg("%s: plan entry %d appears %d times in the result", name, j, seen[j]);
    for (int g = 0; g < N_MATCH; g++)
        if (c->done_per_group[g] != 1)
            fail_msg("%s: the journal records target %d done %zu times", name, g,
                     c->done_per_group[g]);
    const json_t *s = json_object_get(res, "summary");
    assert_int_equal(json_integer_value(json_object_get(s, "erased")), N_MATCH);
    assert_string_equal(json_string_value(json_object_get(json_object_get(res, "journal"), "head")),
                        head);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(res, "journal"), "records")),
        (json_int_t)records);
    printf("kill: %s: %d erased once each, %d others byte-identical, no leftovers, re-scan 0, "
           "journal verifies (%llu records, %zu resumes)\n",
           name, N_MATCH, N_KEEP, (unsigned long long)records, c->resumes);
    json_decref(res);
    free(wp);
    free(c);
    free(jp);
}

static void test_kill_resume(void **state)
{
    struct kfx *k = *state;
    if (k->work == NULL || k->base == NULL) {
        printf("kill: skipped: no second filesystem for the journal (need root for a loop "
               "device, or /dev/shm on another filesystem than $TMPDIR)\n");
        skip();
    }
    unsigned seed = (unsigned)time(NULL);
    if (getenv("DP_TEST_SEED") != NULL)
        seed = (unsigned)strtoul(getenv("DP_TEST_SEED"), NULL, 10);
    printf("kill: seed %u (DP_TEST_SEED to repeat)\n", seed);
    srandom(seed);
    calibrate(k);
    k->scale = 1.0;
    double t0 = now_s();
    int plans = 0;
    while (k->kills < KILLS && plans < 20) {
        struct tree *t = malloc(sizeof(*t));
        char name[32];
        snprintf(name, sizeof(name), "plan%d", plans);
        make_tree(k, t, name, 2 + (uint32_t)plans);
        plans++;
        if (!kill_loop(k, t)) {
            /* kills used up: finish it */
            int rc = run_wipe(k, t, NULL);
            if (rc != 0) {
                tu_sh("tail -n 15 '%s/wipe.log'", k->work);
                fail_msg("the final --resume exited %d", rc);
            }
        }
        check_tree(k, t);
        free_tree(t);
        free(t);
    }
    assert_int_equal(k->kills, KILLS);
    printf("kill: %d SIGKILLs over %d plan(s), %d run(s) finished on their own, %.1f s\n", KILLS,
           plans, k->completed, now_s() - t0);
}

/* The states a kill leaves between creating the journal and making its first record durable:
 * an empty journal, and a torn first record. Timing makes them rare in the random kills, so
 * they are made here directly; --resume must start the wipe afresh from either. */
static void test_kill_before_first_record(void **state)
{
    struct kfx *k = *state;
    if (k->work == NULL || k->base == NULL) {
        printf("kill: skipped: no second filesystem for the journal\n");
        skip();
    }
    static const char *const torn[] = {"", "{\"data\":{\"groups\":100,\"meth"};
    static const char *const what[] = {"empty journal", "torn first record"};
    int failed = 0;
    for (int c = 0; c < 2; c++) {
        struct tree *t = malloc(sizeof(*t));
        char name[32];
        snprintf(name, sizeof(name), "early%d", c);
        make_tree(k, t, name, 50 + (uint32_t)c);
        char *jp = journal_of(t);
        int fd = open(jp, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, torn[c], strlen(torn[c])), (ssize_t)strlen(torn[c]));
        assert_int_equal(close(fd), 0);
        int rc = run_wipe(k, t, NULL); /* the journal exists: --resume */
        if (rc != 0) {
            tu_sh("tail -n 1 '%s/wipe.log'", k->work);
            printf("kill: %s: wipe --resume exited %d; expected it to start afresh\n", what[c], rc);
            failed++;
        } else {
            printf("kill: %s: --resume started the wipe afresh\n", what[c]);
            check_tree(k, t);
        }
        free(jp);
        free_tree(t);
        free(t);
    }
    if (failed > 0)
        fail_msg("%d of 2 early-kill states cannot be resumed", failed);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* findings and cmocka's messages in order */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kill_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_before_first_record, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
