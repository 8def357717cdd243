/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the CLI end to end - help and man page, exit codes, messages, scan output,
 * refusals before erasing, run -> verify -> minisign -> audit in a temp directory. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

static void test_help_and_man_page(void **state)
{
    (void)state;
    struct tu_run r;
    tu_deprive(&r, NULL, "--help", NULL);
    assert_int_equal(r.status, 0);
    char *man = tu_read(DP_SOURCE_DIR "/docs/deprive.1", NULL);
    assert_non_null(man);
    /* the commands section of the man page: .SS per command up to the next .SH */
    char *sect = strstr(man, "\n.SH COMMANDS\n");
    assert_non_null(sect);
    char *sect_end = strstr(sect + 1, "\n.SH ");
    if (sect_end != NULL)
        sect_end[1] = '\0';
    /* the commands as 'deprive --help' lists them: its "commands:" section up to the first
     * blank line, each line "  NAME  summary" */
    const char *p = strstr(r.out, "\ncommands:\n");
    if (p == NULL)
        fail_msg("'deprive --help' has no \"commands:\" section:\n%s", r.out);
    p += strlen("\ncommands:\n");
    char **cmds = NULL;
    size_t n = 0;
    while (*p != '\0' && *p != '\n') {
        size_t len = strcspn(p, "\n");
        if (strncmp(p, "  ", 2) != 0 || p[2] == ' ' || p[2] == '\n' || p[2] == '\0')
            fail_msg("'deprive --help': not a command line: '%.*s'", (int)len, p);
        size_t nl = strcspn(p + 2, " \n");
        for (size_t i = 0; i < nl; i++)
            if (!((p[2 + i] >= 'a' && p[2 + i] <= 'z') || p[2 + i] == '-'))
                fail_msg("'deprive --help': odd command name in '%.*s'", (int)len, p);
        cmds = realloc(cmds, (n + 1) * sizeof(*cmds));
        assert_non_null(cmds);
        cmds[n] = strndup(p + 2, nl);
        assert_non_null(cmds[n++]);
        p += len + (p[len] == '\n');
    }
    /* an empty or unparsed list must not pass as "every command documented" */
    if (n < 2)
        fail_msg("'deprive --help' lists %zu command(s):\n%s", n, r.out);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(cmds[i], cmds[j]) == 0)
                fail_msg("'deprive --help' lists %s twice", cmds[i]);
        char needle[128];
        snprintf(needle, sizeof(needle), "\n.SS %s\n", cmds[i]);
        if (strstr(sect, needle) == NULL)
            fail_msg("docs/deprive.1 has no .SS section for %s under COMMANDS", cmds[i]);
        struct tu_run h;
        tu_deprive(&h, NULL, cmds[i], "--help", NULL);
        if (h.status != 0)
            fail_msg("'deprive %s --help' exits %d: %s", cmds[i], h.status, h.err);
        snprintf(needle, sizeof(needle), "usage: deprive %s ", cmds[i]);
        if (strncmp(h.out, needle, strlen(needle)) != 0)
            fail_msg("'deprive %s --help' does not start with '%s':\n%s", cmds[i], needle, h.out);
        tu_run_free(&h);
    }
    for (size_t i = 0; i < n; i++)
        free(cmds[i]);
    free(cmds);
    free(man);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "frobnicate", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "deprive: unknown command 'frobnicate'"));
    tu_run_free(&r);
}

static void test_scan_errors(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "bad.txt", "sha256:abc\n", 11);
    tu_write(dir, "empty.txt", "# nothing\n", 10);
    char *rootdir = tu_path(dir, "root");
    mkdir(rootdir, 0755);
    free(rootdir);
    char *bad = tu_path(dir, "bad.txt"), *empty = tu_path(dir, "empty.txt");
    char *root = tu_path(dir, "root"), *missing = tu_path(dir, "missing");
    struct tu_run r;
    tu_deprive(&r, NULL, "scan", root, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--hashes"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "scan", "--hashes", bad, root, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "bad.txt:1"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "scan", "--hashes", empty, root, NULL);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "scan", "--hashes", bad, "--jobs", "0", root, NULL);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    tu_write(dir, "ok.txt", "d41d8cd98f00b204e9800998ecf8427e\n", 33);
    char *ok = tu_path(dir, "ok.txt");
    tu_deprive(&r, NULL, "scan", "--hashes", ok, missing, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "deprive: cannot open directory"));
    tu_run_free(&r);
    free(bad), free(empty), free(root), free(missing), free(ok);
    tu_rm_rf(dir);
    free(dir);
}

struct world {
    char *dir, *dev, *work, *list, *pub, *sec, *cert;
};

static void world_init(struct world *w)
{
    w->dir = tu_mkdtemp();
    w->dev = tu_path(w->dir, "device");
    w->work = tu_path(w->dir, "work");
    mkdir(w->dev, 0755);
    mkdir(w->work, 0755);
    tu_write_random(w->dev, "DCIM/victim-a.jpg", 40000, 1);
    tu_write_random(w->dev, "Downloads/victim-b.png", 9000, 2);
    tu_write_random(w->dev, "DCIM/holiday.jpg", 40000, 3);
    tu_write_random(w->dev, "notes.txt", 500, 4);
    w->list = tu_path(w->work, "list.txt");
    char *a = tu_path(w->dev, "DCIM/victim-a.jpg"), *b = tu_path(w->dev, "Downloads/victim-b.png");
    struct tu_run r;
    char *argv[] = {(char *)DP_TEST_BIN, "hash", a, b, NULL};
    tu_run_argv(&r, argv, NULL);
    assert_int_equal(r.status, 0);
    tu_write(w->work, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    free(a), free(b);
    w->pub = tu_path(w->work, "force.pub");
    w->sec = tu_path(w->work, "force.sec");
    w->cert = tu_path(w->work, "cert.json");
    tu_deprive(&r, NULL, "keygen", "-W", "-p", w->pub, "-s", w->sec, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
}

static void world_free(struct world *w)
{
    tu_rm_rf(w->dir);
    free(w->dir), free(w->dev), free(w->work), free(w->list), free(w->pub), free(w->sec),
        free(w->cert);
}

static void test_scan_output_and_refusals(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct tu_run r;
    char *plan = tu_path(w.work, "plan.json");
    tu_deprive(&r, NULL, "scan", "--hashes", w.list, "-o", plan, w.dev, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "findings: 2"));
    assert_non_null(strstr(r.out, "MATCH DCIM/victim-a.jpg"));
    assert_non_null(strstr(r.out, "MATCH Downloads/victim-b.png"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "scan", "--json", "--hashes", w.list, w.dev, NULL);
    assert_int_equal(r.status, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "findings")), 2);
    json_decref(doc);
    tu_run_free(&r);
    /* no hash lists: refuse (the plan is a file and cannot vouch for itself) */
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "X/1", "--journal-on-same-fs", plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "hash lists are required"));
    tu_run_free(&r);
    /* no terminal and no --yes: refuse; no order reference: refuse; nothing touched */
    tu_deprive(&r, NULL, "wipe", "--hashes", w.list, "--order", "X/1", "--journal-on-same-fs",
               plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "refusing"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--hashes", w.list, "--yes", plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "order reference"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--hashes", w.list, "--yes", "--order", "X/1", plan, NULL);
    assert_int_equal(r.status, 2); /* journal would land on the wiped filesystem */
    assert_non_null(strstr(r.err, "must not be on the filesystem being wiped"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--dry-run", "--hashes", w.list, plan, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    /* lists that no longer hold the targets' digests: every target is skipped */
    char *other = tu_path(w.work, "other.txt");
    tu_write(w.work, "other.txt", "d41d8cd98f00b204e9800998ecf8427e\n", 33);
    tu_deprive(&r, NULL, "wipe", "--dry-run", "--hashes", other, plan, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "not in the hash lists"));
    tu_run_free(&r);
    free(other);
    char *a = tu_path(w.dev, "DCIM/victim-a.jpg");
    assert_int_equal(access(a, F_OK), 0);
    free(a);
    free(plan);
    world_free(&w);
}

/* Issue 14.4: a plan made with a forged list (naming a file no victim list holds) cannot get
 * that file wiped: the lists are required at wipe time, and the real ones do not hold it. */
static void test_forged_plan_list(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct tu_run r;
    char *holiday = tu_path(w.dev, "DCIM/holiday.jpg");
    char before[65], after[65];
    assert_true(tu_sha256_hex(holiday, before));
    tu_deprive(&r, NULL, "hash", holiday, NULL);
    assert_int_equal(r.status, 0);
    tu_write(w.work, "forged.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *forged = tu_path(w.work, "forged.txt"), *plan = tu_path(w.work, "forged-plan.json");
    char *journal = tu_path(w.work, "forged.journal");
    tu_deprive(&r, NULL, "scan", "--hashes", forged, "-o", plan, w.dev, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    /* the plan names its (forged) list with the right SHA-256: it is not taken on trust */
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "X/1", "--journal", journal, plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "hash lists are required"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "X/1", "--hashes", w.list, "--journal",
               journal, "--journal-on-same-fs", plan, NULL);
    if (r.status != 1)
        fail_msg("wipe exited %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "not in the hash lists"));
    tu_run_free(&r);
    assert_true(tu_sha256_hex(holiday, after));
    assert_string_equal(before, after);
    free(holiday), free(forged), free(plan), free(journal);
    world_free(&w);
}

static void test_run_verify_audit(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    char hol[65], notes[65];
    char *h = tu_path(w.dev, "DCIM/holiday.jpg"), *n = tu_path(w.dev, "notes.txt");
    assert_true(tu_sha256_hex(h, hol) && tu_sha256_hex(n, notes));
    struct tu_run r;
    tu_deprive(&r, NULL, "run", "--hashes", w.list, "--key", w.sec, "-o", w.cert, "--order",
               "DO/2026/77", "--exhibit", "EX-9", "--officer", "DC Example",
               "--journal-on-same-fs", "--yes", w.dev, NULL);
    if (r.status != 0)
        fail_msg("run failed (%d): %s", r.status, r.err);
    assert_non_null(strstr(r.out, "(ERASED)"));
    tu_run_free(&r);
    char *a = tu_path(w.dev, "DCIM/victim-a.jpg");
    assert_int_equal(access(a, F_OK), -1);
    char hol2[65], notes2[65];
    assert_true(tu_sha256_hex(h, hol2) && tu_sha256_hex(n, notes2));
    assert_string_equal(hol, hol2);
    assert_string_equal(notes, notes2);
    tu_deprive(&r, NULL, "verify", "-p", w.pub, w.cert, NULL);
    if (r.status != 0)
        fail_msg("verify failed (%d): %s", r.status, r.err);
    tu_run_free(&r);
    if (tu_have("minisign")) {
        char *argv[] = {"minisign", "-Vm", w.cert, "-p", w.pub, NULL};
        tu_run_argv(&r, argv, NULL);
        assert_int_equal(r.status, 0);
        tu_run_free(&r);
    } else {
        printf("minisign not installed: interop check skipped\n");
    }
    tu_deprive(&r, NULL, "audit", "--cert", w.cert, "-p", w.pub, w.dev, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    /* the image comes back (restored from elsewhere): the audit finds it */
    tu_write_random(w.dev, "restored/again.jpg", 40000, 1);
    tu_deprive(&r, NULL, "audit", "--cert", w.cert, "-p", w.pub, w.dev, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "MATCH restored/again.jpg"));
    tu_run_free(&r);
    free(a), free(h), free(n);
    world_free(&w);
}

/* Issue 7.3: a new examiner's first runs. */

/* The run's files next to CERT.json; true when none exists. */
static bool no_run_files(const char *cert)
{
    static const char *const sfx[] = {"", ".minisig", ".plan.json", ".journal", ".wipe.json",
                                      ".rescan.json"};
    bool none = true;
    for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s%s", cert, sfx[i]);
        if (access(p, F_OK) == 0) {
            printf("left behind: %s\n", p);
            none = false;
        }
    }
    return none;
}

/* Exactly one "deprive:" line on stderr, and it says want (no second, unrelated error, and no
 * "cannot open" unless that is the refusal). */
static void assert_one_error(const struct tu_run *r, const char *want)
{
    if (strstr(r->err, want) == NULL)
        fail_msg("stderr lacks '%s':\n%s", want, r->err);
    if (strstr(want, "cannot open") == NULL && strstr(r->err, "cannot open") != NULL)
        fail_msg("stderr has a 'cannot open':\n%s", r->err);
    size_t n = 0;
    for (const char *p = r->err; (p = strstr(p, "deprive:")) != NULL; p++)
        n++;
    if (n != 1)
        fail_msg("%zu 'deprive:' lines on stderr (want 1):\n%s", n, r->err);
}

static void test_run_names_all_missing_fields(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct tu_run r;
    tu_deprive(&r, NULL, "run", "--hashes", w.list, "--key", w.sec, "-o", w.cert,
               "--journal-on-same-fs", "--yes", w.dev, NULL);
    assert_int_equal(r.status, 2);
    static const char *const want[] = {"--order", "--officer", "--exhibit"};
    for (size_t i = 0; i < 3; i++)
        if (strstr(r.err, want[i]) == NULL)
            fail_msg("the refusal does not name %s:\n%s", want[i], r.err);
    assert_one_error(&r, "missing");
    tu_run_free(&r);
    assert_true(no_run_files(w.cert));
    world_free(&w);
}

static void test_run_refused_leaves_nothing(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct tu_run r;
    char *a = tu_path(w.dev, "DCIM/victim-a.jpg");
    /* the journal would be on the filesystem being wiped (work/ and device/ share it) */
    tu_deprive(&r, NULL, "run", "--hashes", w.list, "--key", w.sec, "-o", w.cert, "--order",
               "DO/1", "--exhibit", "EX-1", "--officer", "DC E", "--yes", w.dev, NULL);
    assert_int_equal(r.status, 2);
    assert_one_error(&r, "must not be on the filesystem being wiped");
    assert_null(strstr(r.err, "plan:")); /* refused before the scan, not after it */
    tu_run_free(&r);
    assert_true(no_run_files(w.cert));
    /* no terminal and no --yes: refused up front too */
    tu_deprive(&r, NULL, "run", "--hashes", w.list, "--key", w.sec, "-o", w.cert, "--order",
               "DO/1", "--exhibit", "EX-1", "--officer", "DC E", "--journal-on-same-fs", w.dev,
               NULL);
    assert_int_equal(r.status, 2);
    assert_one_error(&r, "pass --yes");
    tu_run_free(&r);
    assert_true(no_run_files(w.cert));
    /* an output directory that does not exist: refused before the scan */
    char *nodir = tu_path(w.work, "nodir/cert.json");
    tu_deprive(&r, NULL, "run", "--hashes", w.list, "--key", w.sec, "-o", nodir, "--order",
               "DO/1", "--exhibit", "EX-1", "--officer", "DC E", "--journal-on-same-fs", "--yes",
               w.dev, NULL);
    assert_int_equal(r.status, 2);
    assert_one_error(&r, "cannot open directory");
    assert_non_null(strstr(r.err, "nodir"));
    assert_null(strstr(r.err, "plan:"));
    tu_run_free(&r);
    free(nodir);
    assert_int_equal(access(a, F_OK), 0);
    /* the precondition fixed, the immediate retry goes through */
    tu_deprive(&r, NULL, "run", "--hashes", w.list, "--key", w.sec, "-o", w.cert, "--order",
               "DO/1", "--exhibit", "EX-1", "--officer", "DC E", "--journal-on-same-fs", "--yes",
               w.dev, NULL);
    if (r.status != 0)
        fail_msg("the retry failed (%d): %s", r.status, r.err);
    assert_non_null(strstr(r.out, "(ERASED)"));
    tu_run_free(&r);
    assert_int_equal(access(a, F_OK), -1);
    free(a);
    world_free(&w);
}

/* Issue 7.2: without -p the certificate is unverified; its sizes must not switch on the size
 * filter (which would read nothing and report "0 present"), and its consistency is checked. */
static void test_audit_untrusted_sizes(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    struct tu_run r;
    tu_deprive(&r, NULL, "run", "--hashes", w.list, "--key", w.sec, "-o", w.cert, "--order",
               "DO/2026/77", "--exhibit", "EX-9", "--officer", "DC Example",
               "--journal-on-same-fs", "--yes", w.dev, NULL);
    if (r.status != 0)
        fail_msg("run failed (%d): %s", r.status, r.err);
    tu_run_free(&r);
    /* edit every target's size: the signature no longer verifies */
    json_t *cert = tu_load_json(w.cert);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(cert, "targets"), i, t)
        json_object_set_new(t, "size", json_integer(1));
    assert_int_equal(json_dump_file(cert, w.cert, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
    tu_write_random(w.dev, "restored/again.jpg", 40000, 1); /* victim-a is back */
    tu_deprive(&r, NULL, "audit", "--cert", w.cert, w.dev, NULL);
    if (r.status != 1 || strstr(r.out, "MATCH restored/again.jpg") == NULL)
        fail_msg("audit without -p of an edited certificate: exit %d\nstdout: %s\nstderr: %s",
                 r.status, r.out, r.err);
    assert_non_null(strstr(r.err, "signature was NOT checked"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "audit", "--cert", w.cert, "-p", w.pub, w.dev, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "certificate INVALID"));
    assert_null(strstr(r.out, "match(es) present")); /* refused: no audit was made */
    tu_run_free(&r);
    /* a target without its size is inconsistent: refused, never "0 present" */
    json_object_del(json_array_get(json_object_get(cert, "targets"), 0), "size");
    assert_int_equal(json_dump_file(cert, w.cert, JSON_INDENT(2) | JSON_SORT_KEYS), 0);
    tu_deprive(&r, NULL, "audit", "--cert", w.cert, w.dev, NULL);
    if (r.status != 1 || strstr(r.err, "certificate INVALID") == NULL)
        fail_msg("audit of a certificate without a target size: exit %d\nstdout: %s\nstderr: %s",
                 r.status, r.out, r.err);
    assert_non_null(strstr(r.err, "size"));
    tu_run_free(&r);
    json_decref(cert);
    world_free(&w);
}

/* ---- the command table's flags: deprive --list-commands ---- */

/* The commands --list-commands names with flag (NULL: every one), heap strings. */
static size_t listed_commands(const char *flag, bool with, char ***out)
{
    struct tu_run r;
    tu_deprive(&r, NULL, "--list-commands", NULL);
    assert_int_equal(r.status, 0);
    char **v = NULL;
    size_t n = 0;
    for (char *line = strtok(r.out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        size_t nl = strcspn(line, " ");
        bool has = false;
        for (const char *f = line + nl; *f == ' ';) {
            f++;
            size_t fl = strcspn(f, " ");
            has |= flag != NULL && fl == strlen(flag) && strncmp(f, flag, fl) == 0;
            f += fl;
        }
        if (flag != NULL && has != with)
            continue;
        v = realloc(v, (n + 1) * sizeof(*v));
        assert_non_null(v);
        v[n] = strndup(line, nl);
        assert_non_null(v[n++]);
    }
    tu_run_free(&r);
    *out = v;
    return n;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* How to call each destructive command so that only the gate can refuse it: {order} and
 * {yes} mark where the order reference and --yes go. A destructive command added to the
 * table without a row here fails the test. */
struct gated_call {
    const char *cmd;
    const char *args[16];
};

/* argv for a gated call: the placeholders replaced, dropped or filled from w. */
static int gated_argv(const struct gated_call *g, const struct world *w, const char *plan,
                      bool order, bool yes, bool dry, char **argv)
{
    int n = 0;
    argv[n++] = (char *)DP_TEST_BIN;
    argv[n++] = (char *)g->cmd;
    for (size_t i = 0; g->args[i] != NULL; i++) {
        const char *a = g->args[i];
        if (strcmp(a, "{order}") == 0) {
            if (order) {
                argv[n++] = "--order";
                argv[n++] = "DO/1";
            }
        } else if (strcmp(a, "{yes}") == 0) {
            if (yes)
                argv[n++] = "--yes";
            if (dry)
                argv[n++] = "--dry-run";
        } else {
            argv[n++] = strcmp(a, "{list}") == 0   ? w->list
                        : strcmp(a, "{key}") == 0  ? w->sec
                        : strcmp(a, "{cert}") == 0 ? w->cert
                        : strcmp(a, "{dev}") == 0  ? w->dev
                        : strcmp(a, "{plan}") == 0 ? (char *)plan
                                                   : (char *)a;
        }
    }
    argv[n] = NULL;
    return n;
}

static void test_destructive_gate(void **state)
{
    (void)state;
    static const struct gated_call calls[] = {
        {"wipe", {"--hashes", "{list}", "--journal-on-same-fs", "{order}", "{yes}", "{plan}"}},
        {"run", {"--hashes", "{list}", "--key", "{key}", "-o", "{cert}", "--exhibit", "EX-1",
                 "--officer", "DC E", "--journal-on-same-fs", "{order}", "{yes}", "{dev}"}},
    };
    struct world w;
    world_init(&w);
    struct tu_run r;
    char *plan = tu_path(w.work, "plan.json");
    tu_deprive(&r, NULL, "scan", "--hashes", w.list, "-o", plan, w.dev, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    char *before = tu_fingerprint(w.dev);
    char **names;
    size_t n = listed_commands("destructive", true, &names);
    if (n == 0)
        fail_msg("'deprive --list-commands' names no destructive command");
    for (size_t i = 0; i < n; i++) {
        const struct gated_call *g = NULL;
        for (size_t k = 0; k < sizeof(calls) / sizeof(calls[0]); k++)
            if (strcmp(calls[k].cmd, names[i]) == 0)
                g = &calls[k];
        if (g == NULL)
            fail_msg("destructive command '%s' has no gated call in test_destructive_gate",
                     names[i]);
        char *argv[40];
        /* no order reference: refused, whatever --yes says */
        gated_argv(g, &w, plan, false, true, false, argv);
        tu_run_argv(&r, argv, NULL);
        if (r.status != 2 || strstr(r.err, "--order") == NULL)
            fail_msg("'%s' without an order reference: exit %d\n%s", g->cmd, r.status, r.err);
        tu_run_free(&r);
        /* no --yes and standard input not a terminal: refused */
        gated_argv(g, &w, plan, true, false, false, argv);
        tu_run_argv(&r, argv, NULL);
        if (r.status != 2 || strstr(r.err, "pass --yes") == NULL)
            fail_msg("'%s' without --yes on a non-terminal: exit %d\n%s", g->cmd, r.status,
                     r.err);
        assert_null(strstr(r.err, "[y/N]"));
        tu_run_free(&r);
        /* a dry run needs neither */
        gated_argv(g, &w, plan, false, false, true, argv);
        tu_run_argv(&r, argv, NULL);
        if (r.status != 0)
            fail_msg("'%s --dry-run' without order or --yes: exit %d\n%s", g->cmd, r.status,
                     r.err);
        tu_run_free(&r);
        char *after = tu_fingerprint(w.dev);
        assert_string_equal(before, after);
        free(after);
        assert_true(no_run_files(w.cert));
    }
    free_names(names, n);
    /* the others never ask: they do not even take --yes or --dry-run */
    n = listed_commands("destructive", false, &names);
    for (size_t i = 0; i < n; i++) {
        static const char *const gate_opts[] = {"--yes", "--dry-run"};
        for (size_t k = 0; k < 2; k++) {
            tu_deprive(&r, NULL, names[i], gate_opts[k], NULL);
            if (r.status != 2 || strstr(r.err, gate_opts[k]) == NULL)
                fail_msg("'deprive %s %s' is not refused as an unknown option: exit %d\n%s",
                         names[i], gate_opts[k], r.status, r.err);
            tu_run_free(&r);
        }
    }
    free_names(names, n);
    tu_deprive(&r, NULL, "scan", "--hashes", w.list, w.dev, NULL);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.err, "[y/N]"));
    assert_null(strstr(r.err, "refusing"));
    tu_run_free(&r);
    free(before);
    free(plan);
    world_free(&w);
}

/* ---- bytes from the device reach the terminal escaped ---- */

#define EVIL_NAME "evil\x1b[31mname\nline2\x9b" "end.jpg"
#define EVIL_SHOWN "evil\\x1b[31mname\\x0aline2\\x9bend.jpg"

/* No raw escape, C1 CSI, carriage return or line feed of the name in what went to the
 * terminal. */
static void assert_terminal_safe(const char *what, const struct tu_run *r)
{
    const char *streams[] = {r->out, r->err};
    for (size_t i = 0; i < 2; i++) {
        const char *s = streams[i], *name = i ? "stderr" : "stdout";
        if (strchr(s, '\x1b') != NULL || strchr(s, '\x9b') != NULL || strchr(s, '\r') != NULL)
            fail_msg("%s: a raw ESC, 0x9b or CR on %s:\n%s", what, name, s);
        if (strstr(s, "name\nline2") != NULL)
            fail_msg("%s: the name's line feed is raw on %s:\n%s", what, name, s);
    }
}

static void test_device_names_escaped(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    tu_write_random(w.dev, "DCIM/" EVIL_NAME, 30000, 7);
    char *evil = tu_path(w.dev, "DCIM/" EVIL_NAME);
    struct tu_run r;
    tu_deprive(&r, NULL, "hash", evil, NULL);
    assert_int_equal(r.status, 0);
    tu_write(w.work, "evil.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *list = tu_path(w.work, "evil.txt"), *plan = tu_path(w.work, "evil-plan.json");
    tu_deprive(&r, NULL, "scan", "--hashes", list, "-o", plan, w.dev, NULL);
    assert_int_equal(r.status, 0);
    assert_terminal_safe("scan", &r);
    if (strstr(r.out, "MATCH DCIM/" EVIL_SHOWN) == NULL)
        fail_msg("scan does not show the name escaped:\n%s", r.out);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--dry-run", "--hashes", list, plan, NULL);
    assert_int_equal(r.status, 0);
    assert_terminal_safe("wipe --dry-run", &r);
    assert_non_null(strstr(r.err, EVIL_SHOWN));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "run", "--dry-run", "--hashes", list, w.dev, NULL);
    assert_int_equal(r.status, 0);
    assert_terminal_safe("run --dry-run", &r);
    assert_non_null(strstr(r.err, EVIL_SHOWN));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "run", "--hashes", list, "--key", w.sec, "-o", w.cert, "--order",
               "DO/1", "--exhibit", "EX-1", "--officer", "DC E", "--journal-on-same-fs",
               "--yes", w.dev, NULL);
    if (r.status != 0)
        fail_msg("run failed (%d): %s", r.status, r.err);
    assert_terminal_safe("run", &r);
    tu_run_free(&r);
    assert_int_equal(access(evil, F_OK), -1);
    tu_deprive(&r, NULL, "show", "-p", w.pub, w.cert, NULL);
    assert_int_equal(r.status, 0);
    assert_terminal_safe("show", &r);
    assert_non_null(strstr(r.out, EVIL_SHOWN));
    tu_run_free(&r);
    /* a library message quoting a path it was given: escaped too */
    tu_deprive(&r, NULL, "scan", "--hashes", evil, w.dev, NULL);
    assert_int_equal(r.status, 2);
    assert_terminal_safe("scan of a missing list", &r);
    tu_run_free(&r);
    free(evil), free(list), free(plan);
    world_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_man_page),
        cmocka_unit_test(test_scan_errors),
        cmocka_unit_test(test_scan_output_and_refusals),
        cmocka_unit_test(test_forged_plan_list),
        cmocka_unit_test(test_run_verify_audit),
        cmocka_unit_test(test_run_names_all_missing_fields),
        cmocka_unit_test(test_run_refused_leaves_nothing),
        cmocka_unit_test(test_audit_untrusted_sizes),
        cmocka_unit_test(test_destructive_gate),
        cmocka_unit_test(test_device_names_escaped),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
