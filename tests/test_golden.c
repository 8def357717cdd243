/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: golden CLI cases (after zstd's tests/cli-tests). Each tests/cli/NAME.case
 * holds one command line and the exact stdout, stderr and exit status it must give; this
 * runs each through the binary under test and compares byte for byte, printing a unified
 * diff on a mismatch. DEPRIVE_GOLDEN_UPDATE=1 rewrites the cases from what the binary says
 * instead. The case format is in tests/cli/README.md. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CASE_DIR DP_SOURCE_DIR "/tests/cli"
#define MAX_ARGS 16
#define NO_NEWLINE "\\ No newline at end of output\n"

static char *work;     /* the empty directory the cases run in (cwd) */
static bool updating;  /* DEPRIVE_GOLDEN_UPDATE=1 */

struct golden {
    char *head;              /* comment lines and the command line, kept as written */
    char *args[MAX_ARGS + 1];
    int nargs;
    bool have_exit;
    int exit_status;
    char *out, *err;         /* expected output; NULL when the case has none yet */
};

static void golden_free(struct golden *g)
{
    free(g->head);
    for (int i = 0; i < g->nargs; i++)
        free(g->args[i]);
    free(g->out);
    free(g->err);
    memset(g, 0, sizeof(*g));
}

/* Split "$ deprive a 'b c' ''" into words: spaces separate, single quotes group. */
static void split_args(struct golden *g, const char *line, const char *name)
{
    const char *p = line;
    while (*p != '\0') {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if (g->nargs == MAX_ARGS)
            fail_msg("%s: more than %d arguments", name, MAX_ARGS);
        char *w = calloc(1, strlen(p) + 1);
        assert_non_null(w);
        size_t n = 0;
        bool any = false;
        while (*p != '\0' && *p != ' ') {
            if (*p == '\'') {
                const char *q = strchr(p + 1, '\'');
                if (q == NULL)
                    fail_msg("%s: unterminated quote in '%s'", name, line);
                memcpy(w + n, p + 1, (size_t)(q - p - 1));
                n += (size_t)(q - p - 1);
                p = q + 1;
            } else {
                w[n++] = *p++;
            }
            any = true;
        }
        assert_true(any);
        g->args[g->nargs++] = w;
    }
}

/* The text of one section: from p up to the next line starting with "--- " (or the end);
 * the "no newline" marker removes the last newline. *next is where the following line
 * starts. */
static char *section(const char *p, const char **next)
{
    const char *e = p;
    while (*e != '\0' && strncmp(e, "--- ", 4) != 0) {
        const char *nl = strchr(e, '\n');
        e = nl ? nl + 1 : e + strlen(e);
    }
    size_t n = (size_t)(e - p);
    size_t ml = strlen(NO_NEWLINE);
    if (n >= ml + 1 && memcmp(e - ml, NO_NEWLINE, ml) == 0 && e[-ml - 1] == '\n')
        n -= ml + 1;
    *next = e;
    char *s = strndup(p, n);
    assert_non_null(s);
    return s;
}

static void parse_case(struct golden *g, const char *text, const char *name)
{
    memset(g, 0, sizeof(*g));
    const char *p = text;
    /* comments, then "$ deprive ..." */
    while (*p == '#') {
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            fail_msg("%s: no '$ deprive' line", name);
        p = nl + 1;
    }
    if (strncmp(p, "$ deprive", 9) != 0 || (p[9] != ' ' && p[9] != '\n'))
        fail_msg("%s: the first line after the comments must be '$ deprive ARGS'", name);
    const char *nl = strchr(p, '\n');
    if (nl == NULL)
        nl = p + strlen(p);
    g->head = strndup(text, (size_t)(nl - text) + (*nl == '\n'));
    char *cmd = strndup(p + 9, (size_t)(nl - p - 9));
    assert_non_null(g->head);
    assert_non_null(cmd);
    split_args(g, cmd, name);
    free(cmd);
    p = *nl ? nl + 1 : nl;
    if (strncmp(p, "exit ", 5) == 0) {
        char *end = NULL;
        long v = strtol(p + 5, &end, 10);
        if (end == p + 5 || *end != '\n' || v < 0 || v > 255)
            fail_msg("%s: bad exit line", name);
        g->have_exit = true;
        g->exit_status = (int)v;
        p = end + 1;
    }
    if (strncmp(p, "--- stdout\n", 11) == 0)
        g->out = section(p + 11, &p);
    if (strncmp(p, "--- stderr\n", 11) == 0)
        g->err = section(p + 11, &p);
    if (*p != '\0' && !updating)
        fail_msg("%s: unexpected text after the sections: '%.40s'", name, p);
    if ((!g->have_exit || g->out == NULL || g->err == NULL) && !updating)
        fail_msg("%s: incomplete case (exit, --- stdout, --- stderr); write it with "
                 "DEPRIVE_GOLDEN_UPDATE=1",
                 name);
}

static void append_section(char **buf, size_t *len, const char *marker, const char *text)
{
    size_t tl = strlen(text), ml = strlen(marker);
    bool bare = tl > 0 && text[tl - 1] != '\n';
    *buf = realloc(*buf, *len + ml + tl + strlen(NO_NEWLINE) + 4);
    assert_non_null(*buf);
    memcpy(*buf + *len, marker, ml);
    *len += ml;
    memcpy(*buf + *len, text, tl);
    *len += tl;
    if (bare) {
        (*buf)[(*len)++] = '\n';
        memcpy(*buf + *len, NO_NEWLINE, strlen(NO_NEWLINE));
        *len += strlen(NO_NEWLINE);
    }
    (*buf)[*len] = '\0';
}

/* A case file's text for the given head and results. */
static char *render(const char *head, int status, const char *out, const char *err)
{
    size_t len = strlen(head);
    char *buf = malloc(len + 32);
    assert_non_null(buf);
    memcpy(buf, head, len);
    len += (size_t)sprintf(buf + len, "exit %d\n", status);
    append_section(&buf, &len, "--- stdout\n", out);
    append_section(&buf, &len, "--- stderr\n", err);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Paths that differ between machines and runs must not be in what is compared. */
static void check_no_varying_paths(const char *name, const char *what, const char *text)
{
    const char *paths[] = {work, DP_BUILD_DIR, DP_SOURCE_DIR, DP_TEST_BIN};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (strstr(text, paths[i]) != NULL)
            fail_msg("%s: %s contains '%s', which differs between runs; use a fixed relative "
                     "path or fixtures/",
                     name, what, paths[i]);
}

static void run_case(void **state)
{
    const char *name = *state;
    char *path = tu_path(CASE_DIR, name);
    size_t len = 0;
    char *text = tu_read(path, &len);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    if (strlen(text) != len)
        fail_msg("%s: a NUL byte in the case file", name);
    struct golden g;
    parse_case(&g, text, name);
    /* tu_deprive stops at the first NULL: the unused slots end the list */
    struct tu_run r;
    char *const *a = g.args;
    tu_deprive(&r, NULL, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10],
               a[11], a[12], a[13], a[14], a[15], NULL);
    check_no_varying_paths(name, "stdout", r.out);
    check_no_varying_paths(name, "stderr", r.err);
    char *actual = render(g.head, r.status, r.out, r.err);
    if (updating) {
        if (strcmp(actual, text) != 0) {
            write_text(path, actual);
            printf("updated %s\n", name);
        }
    } else if (r.status != g.exit_status || strcmp(r.out, g.out) != 0 ||
               strcmp(r.err, g.err) != 0) {
        char *exp_p = tu_path(work, "expected"), *act_p = tu_path(work, "actual");
        write_text(exp_p, text);
        write_text(act_p, actual);
        fprintf(stderr, "--- %s: what the binary says differs from the case (exit %d, want %d)\n",
                name, r.status, g.exit_status);
        tu_sh("diff -u --label 'tests/cli/%s' --label 'deprive now' '%s' '%s' >&2", name,
              exp_p, act_p);
        unlink(exp_p);
        unlink(act_p);
        free(exp_p);
        free(act_p);
        fail_msg("%s differs (above); if the change is intended, run the suite with "
                 "DEPRIVE_GOLDEN_UPDATE=1 and review the diff of tests/cli/",
                 name);
    }
    free(actual);
    tu_run_free(&r);
    golden_free(&g);
    free(text);
    free(path);
}

/* ---- which cases exist ---- */

static char **case_names;
static size_t n_cases;

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_case(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".case") == 0;
}

static void load_case_names(void)
{
    struct dirent **ents = NULL;
    int n = scandir(CASE_DIR, &ents, is_case, by_name);
    if (n < 0) {
        fprintf(stderr, "golden: cannot list %s: %s\n", CASE_DIR, strerror(errno));
        exit(1);
    }
    case_names = calloc((size_t)n + 1, sizeof(*case_names));
    for (int i = 0; i < n; i++) {
        case_names[i] = strdup(ents[i]->d_name);
        free(ents[i]);
    }
    free(ents);
    n_cases = (size_t)n;
}

/* The arguments of a case file, space-joined ("scan --help"); heap. */
static char *case_command(const char *name)
{
    char *path = tu_path(CASE_DIR, name);
    char *text = tu_read(path, NULL);
    assert_non_null(text);
    bool keep = updating;
    updating = true; /* only the head is wanted here */
    struct golden g;
    parse_case(&g, text, name);
    updating = keep;
    size_t cap = 1;
    for (int i = 0; i < g.nargs; i++)
        cap += strlen(g.args[i]) + 1;
    char *cmd = calloc(1, cap);
    assert_non_null(cmd);
    for (int i = 0; i < g.nargs; i++) {
        if (i > 0)
            strcat(cmd, " ");
        strcat(cmd, g.args[i]);
    }
    golden_free(&g);
    free(text);
    free(path);
    return cmd;
}

/* Every command 'deprive --help' lists has a "CMD --help" case and at least one error case,
 * and the top level has "--help": a new command cannot go without golden cases. */
static void test_cases_cover_commands(void **state)
{
    (void)state;
    if (n_cases < 10)
        fail_msg("only %zu cases in %s", n_cases, CASE_DIR);
    char **cmds = calloc(n_cases + 1, sizeof(*cmds));
    assert_non_null(cmds);
    for (size_t i = 0; i < n_cases; i++)
        cmds[i] = case_command(case_names[i]);
    struct tu_run r;
    tu_deprive(&r, NULL, "--help", NULL);
    assert_int_equal(r.status, 0);
    const char *p = strstr(r.out, "\ncommands:\n");
    assert_non_null(p);
    p += strlen("\ncommands:\n");
    bool top_help = false;
    for (size_t i = 0; i < n_cases; i++)
        top_help |= strcmp(cmds[i], "--help") == 0;
    if (!top_help)
        fail_msg("no case runs 'deprive --help'");
    size_t listed = 0;
    while (strncmp(p, "  ", 2) == 0) {
        char cmd[64];
        size_t n = strcspn(p + 2, " \n");
        snprintf(cmd, sizeof(cmd), "%.*s", (int)n, p + 2);
        char help[80];
        snprintf(help, sizeof(help), "%s --help", cmd);
        bool has_help = false, has_other = false;
        size_t cl = strlen(cmd);
        for (size_t i = 0; i < n_cases; i++) {
            if (strcmp(cmds[i], help) == 0)
                has_help = true;
            else if (strncmp(cmds[i], cmd, cl) == 0 && (cmds[i][cl] == ' ' || !cmds[i][cl]))
                has_other = true;
        }
        if (!has_help)
            fail_msg("no case in tests/cli runs 'deprive %s'", help);
        if (!has_other)
            fail_msg("no case in tests/cli runs 'deprive %s' with wrong arguments", cmd);
        listed++;
        p += strcspn(p, "\n") + 1;
    }
    if (listed < 2)
        fail_msg("'deprive --help' lists %zu commands", listed);
    tu_run_free(&r);
    for (size_t i = 0; i < n_cases; i++)
        free(cmds[i]);
    free(cmds);
}

int main(void)
{
    /* what the binary prints must not depend on the machine: C locale messages, UTC */
    setenv("LC_ALL", "C", 1);
    unsetenv("LANGUAGE");
    setenv("TZ", "UTC", 1);
    const char *u = getenv("DEPRIVE_GOLDEN_UPDATE");
    updating = u != NULL && strcmp(u, "1") == 0;
    load_case_names();
    /* the cases run in an empty directory holding only a link to the fixtures, so relative
     * paths in them name nothing or a fixture */
    work = tu_mkdtemp();
    char *fx = tu_path(work, "fixtures");
    if (symlink(DP_SOURCE_DIR "/fixtures", fx) != 0 || chdir(work) != 0) {
        fprintf(stderr, "golden: cannot prepare %s: %s\n", work, strerror(errno));
        return 1;
    }
    free(fx);
    struct CMUnitTest *tests = calloc(n_cases + 1, sizeof(*tests));
    if (tests == NULL)
        return 1;
    tests[0] = (struct CMUnitTest)cmocka_unit_test(test_cases_cover_commands);
    for (size_t i = 0; i < n_cases; i++)
        tests[i + 1] = (struct CMUnitTest){.name = case_names[i], .test_func = run_case,
                                           .initial_state = case_names[i]};
    if (updating)
        printf("DEPRIVE_GOLDEN_UPDATE=1: rewriting the cases in %s from the binary\n",
               CASE_DIR);
    int rc = _cmocka_run_group_tests("golden", tests, n_cases + 1, NULL, NULL);
    if (chdir("/") != 0)
        rc = 1;
    tu_rm_rf(work);
    free(work);
    for (size_t i = 0; i < n_cases; i++)
        free(case_names[i]);
    free(case_names);
    free(tests);
    return rc;
}
