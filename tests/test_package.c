/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the Debian package and what `meson install` installs. The package is built
 * once per run with dpkg-buildpackage from a temp copy of the tree (nothing is written to the
 * source tree) and unpacked with dpkg -x: its deprive reports the package version as build id,
 * its man page formats without warnings, its bash completion offers the binary's commands and
 * options, every document is in it, and `meson install` installs the same set. Also: the
 * 'unit' suite the package build runs mounts nothing, debian/rules runs only it and honours
 * nocheck, and the completion in the source tree against the binary under test. */
#include "testutil.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

static void expect(const struct tu_run *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: exit %d (want %d)\nstdout: %.3000s\nstderr: %.3000s", what, r->status, status,
                 r->out, r->err);
}

/* Run a shell command line; returns its stdout (heap) and asserts its exit status. */
static char *sh_out(int status, const char *what, const char *cmd)
{
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    expect(&r, status, what);
    char *out = r.out;
    free(r.err);
    return out;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void chomp(char *s)
{
    s[strcspn(s, "\n")] = '\0';
}

/* Is the file's content equal to the other's? */
static bool same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = tu_read(a, &la), *y = tu_read(b, &lb);
    bool same = x != NULL && y != NULL && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* The files (not directories) below dir, as "rel/path\n" lines sorted, heap. */
static char *file_list(const char *dir)
{
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof(cmd), "cd '%s' && find . -type f -printf '%%P\\n' | LC_ALL=C sort", dir);
    return sh_out(0, "find", cmd);
}

/* What an install of deprive must hold, relative to the prefix, sorted: the binary, the man
 * page, the bash completion, README.md, the offline verifier page docs/verify.html and every .md
 * file in docs/ of the source tree. A document
 * added to docs/ but not to meson.build's install list is missing from the package. */
static char *expected_install_set(void)
{
    char *cmd = NULL;
    if (asprintf(&cmd,
                 "{ echo bin/deprive; echo share/man/man1/deprive.1;"
                 "  echo share/bash-completion/completions/deprive;"
                 "  echo share/doc/deprive/README.md; echo share/doc/deprive/docs/verify.html;"
                 "  cd '%s' && for f in docs/*.md; do echo \"share/doc/deprive/$f\"; done; }"
                 " | LC_ALL=C sort",
                 DP_SOURCE_DIR) < 0)
        fail_msg("out of memory");
    char *out = sh_out(0, "expected install set", cmd);
    free(cmd);
    return out;
}

/* Fail unless got (sorted lines) is want: name what is missing and what is extra. */
static void expect_same_set(const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return;
    char missing[2048] = "", extra[2048] = "";
    for (int pass = 0; pass < 2; pass++) {
        const char *from = pass == 0 ? want : got, *in = pass == 0 ? got : want;
        char *to = pass == 0 ? missing : extra;
        for (const char *p = from; *p != '\0';) {
            size_t len = strcspn(p, "\n");
            char line[512];
            snprintf(line, sizeof(line), "%.*s", (int)len, p);
            if (!has_line(in, line))
                snprintf(to + strlen(to), 2048 - strlen(to), "  %s\n", line);
            p += len + (p[len] == '\n');
        }
    }
    fail_msg("%s: not the install set.\nmissing (a docs/*.md not in meson.build's install_data "
             "list?):\n%sunexpected:\n%s",
             what, missing, extra);
}

/* ---- the package, built once ---- */

static struct {
    bool tried, ok;
    char skip_why[512];
    char *dir;  /* temp dir: the tree copy, the .deb, the unpacked root */
    char *tree; /* dir/deprive-VERSION */
    char *deb;  /* dir/deprive_VERSION_ARCH.deb */
    char *root; /* dir/root: dpkg -x */
    char version[128];
    double seconds; /* dpkg-buildpackage wall time */
} pkg;

static bool sanitizer_build(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

static void build_package(void)
{
    if (sanitizer_build()) {
        snprintf(
            pkg.skip_why, sizeof(pkg.skip_why),
            "package: skipped in a sanitizer build: the package is built by "
            "dpkg-buildpackage from the source, not from this build (it runs in the plain one)");
        return;
    }
    const char *tools[] = {"dpkg-buildpackage", "dpkg-checkbuilddeps", "dh",
                           "dpkg-deb",          "dpkg-parsechangelog", "man"};
    for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
        if (!tu_have(tools[i])) {
            snprintf(pkg.skip_why, sizeof(pkg.skip_why),
                     "package: skipped: %s is not installed (scripts/bootstrap.sh installs it)",
                     tools[i]);
            return;
        }
    }
    char *cmd = NULL;
    if (asprintf(&cmd, "dpkg-parsechangelog -l '%s/debian/changelog' -SVersion", DP_SOURCE_DIR) < 0)
        fail_msg("out of memory");
    char *v = sh_out(0, "dpkg-parsechangelog", cmd);
    free(cmd);
    chomp(v);
    snprintf(pkg.version, sizeof(pkg.version), "%s", v);
    free(v);
    char upstream[128];
    snprintf(upstream, sizeof(upstream), "%s", pkg.version);
    upstream[strcspn(upstream, "-")] = '\0';

    pkg.dir = tu_mkdtemp();
    char *leaf = NULL;
    if (asprintf(&leaf, "deprive-%s", upstream) < 0)
        fail_msg("out of memory");
    pkg.tree = tu_path(pkg.dir, leaf);
    free(leaf);
    assert_int_equal(mkdir(pkg.tree, 0755), 0);
    /* the tree as it is now (other build directories and .git left out) */
    assert_int_equal(tu_sh("tar -C '%s' --exclude='./build*' --exclude=./.git --exclude='./obj-*' "
                           "--exclude=./debian/deprive --exclude=./debian/.debhelper "
                           "--exclude='./debian/*.substvars' --exclude=./debian/files "
                           "-cf - . | tar -C '%s' -xf -",
                           DP_SOURCE_DIR, pkg.tree),
                     0);
    char *check = NULL;
    if (asprintf(&check, "cd '%s' && dpkg-checkbuilddeps -B 2>&1", pkg.tree) < 0)
        fail_msg("out of memory");
    char *argv[] = {"/bin/sh", "-c", check, NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    free(check);
    if (r.status != 0) {
        r.out[strcspn(r.out, "\n")] = '\0';
        snprintf(pkg.skip_why, sizeof(pkg.skip_why),
                 "package: skipped: %s (scripts/package.sh installs them)", r.out);
        tu_run_free(&r);
        return;
    }
    tu_run_free(&r);
    /* nocheck: the unit suites run in this same meson test run already; test_rules_test_step
     * checks what the package build runs without it */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = tu_sh("cd '%s' && DEB_BUILD_OPTIONS='nocheck parallel=2' dpkg-buildpackage -us -uc -b "
                   ">'%s/build.log' 2>&1",
                   pkg.tree, pkg.dir);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pkg.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc != 0) {
        char *log = tu_path(pkg.dir, "build.log");
        char *text = tu_read(log, NULL);
        size_t n = text ? strlen(text) : 0;
        fail_msg("dpkg-buildpackage failed (exit %d); end of its log:\n%s", rc,
                 text ? text + (n > 4000 ? n - 4000 : 0) : "(no log)");
    }
    char *arch = sh_out(0, "dpkg --print-architecture", "dpkg --print-architecture");
    chomp(arch);
    char *debname = NULL;
    if (asprintf(&debname, "deprive_%s_%s.deb", pkg.version, arch) < 0)
        fail_msg("out of memory");
    free(arch);
    pkg.deb = tu_path(pkg.dir, debname);
    free(debname);
    if (access(pkg.deb, F_OK) != 0)
        fail_msg("dpkg-buildpackage did not make %s", pkg.deb);
    pkg.root = tu_path(pkg.dir, "root");
    assert_int_equal(tu_sh("dpkg -x '%s' '%s'", pkg.deb, pkg.root), 0);
    printf("package: %s built in %.1f s\n", pkg.deb, pkg.seconds);
    pkg.ok = true;
}

/* The package, built on first use; skips the test when it cannot be built here. */
static void need_package(void)
{
    if (!pkg.tried) {
        pkg.tried = true;
        build_package();
    }
    if (!pkg.ok) {
        if (pkg.skip_why[0] == '\0')
            fail_msg("package: an earlier test failed to build it");
        printf("%s\n", pkg.skip_why);
        skip();
    }
}

static int group_teardown(void **state)
{
    (void)state;
    if (pkg.dir != NULL)
        tu_rm_rf(pkg.dir);
    free(pkg.dir), free(pkg.tree), free(pkg.deb), free(pkg.root);
    return 0;
}

/* ---- bash completion ---- */

/* Words bash completion offers for the command line words[] (the last is the word being
 * completed), with the completion file sourced in a fresh bash in directory cwd. */
static char *complete_words(const char *file, const char *cwd, const char *const words[])
{
    char *argv[32];
    int n = 0;
    argv[n++] = "bash";
    argv[n++] = "--noprofile";
    argv[n++] = "--norc";
    argv[n++] = "-c";
    argv[n++] =
        "source \"$1\" || exit 9; shift; COMP_WORDS=(\"$@\"); "
        "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=\"$*\"; COMP_POINT=${#COMP_LINE}; "
        "_deprive; printf '%s\\n' \"${COMPREPLY[@]}\"";
    argv[n++] = "bash";
    argv[n++] = (char *)file;
    for (int i = 0; words[i] != NULL && n < 31; i++)
        argv[n++] = (char *)words[i];
    argv[n] = NULL;
    char old[PATH_MAX];
    assert_non_null(getcwd(old, sizeof(old)));
    assert_int_equal(chdir(cwd), 0);
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    assert_int_equal(chdir(old), 0);
    expect(&r, 0, "completion");
    free(r.err);
    return r.out;
}

static void expect_offers(const char *file, const char *cwd, const char *const words[],
                          const char *want)
{
    char *got = complete_words(file, cwd, words);
    if (!has_line(got, want)) {
        char line[512] = "";
        for (int i = 0; words[i] != NULL; i++)
            snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s'%s'", i ? " " : "",
                     words[i]);
        fail_msg("completing %s offers no '%s'; it offers:\n%s", line, want, got);
    }
    free(got);
}

/* The long options on the option lines of `deprive CMD --help` (indented lines starting with
 * '-'), found here independently of the completion's own parser. */
static size_t help_long_options(const char *cmd, char opts[][64], size_t max)
{
    struct tu_run r;
    tu_deprive(&r, NULL, cmd, "--help", NULL);
    expect(&r, 0, cmd);
    size_t n = 0;
    for (char *line = r.out; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        const char *p = line + strspn(line, " \t");
        if (p != line && *p == '-') {
            /* the option part ends at two spaces */
            const char *end = strstr(p, "  ");
            size_t len = end ? (size_t)(end - p) : strlen(p);
            for (const char *q = p; q < p + len && (q = strstr(q, "--")) != NULL && q < p + len;) {
                size_t k = 2;
                while (q[k] == '-' || (q[k] >= 'a' && q[k] <= 'z') || (q[k] >= '0' && q[k] <= '9'))
                    k++;
                if (k > 2 && n < max)
                    snprintf(opts[n++], 64, "%.*s", (int)k, q);
                q += k;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    tu_run_free(&r);
    return n;
}

/* The completion in the source tree, against the binary under test: every command, and every
 * long option on the option lines of every command's help. */
static void test_completion_commands_options(void **state)
{
    (void)state;
    char *file = tu_path(DP_SOURCE_DIR, "completion/deprive.bash");
    struct tu_run r;
    tu_deprive(&r, NULL, "--list-commands", NULL);
    expect(&r, 0, "--list-commands");
    size_t ncmd = 0;
    for (char *line = r.out; *line != '\0';) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        char cmd[64];
        snprintf(cmd, sizeof(cmd), "%.*s", (int)strcspn(line, " "), line);
        const char *w_cmd[] = {DP_TEST_BIN, "", NULL};
        expect_offers(file, "/", w_cmd, cmd);
        char opts[160][64];
        size_t n = help_long_options(cmd, opts, 160);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++) {
            const char *w_opt[] = {DP_TEST_BIN, cmd, "--", NULL};
            expect_offers(file, "/", w_opt, opts[i]);
        }
        ncmd++;
        line = nl + 1;
    }
    tu_run_free(&r);
    assert_true(ncmd >= 10);
    const char *w1[] = {DP_TEST_BIN, "w", NULL};
    expect_offers(file, "/", w1, "wipe");
    const char *w2[] = {DP_TEST_BIN, "wipe", "--ha", NULL};
    expect_offers(file, "/", w2, "--hashes");
    /* registered for the command name */
    char *argv[] = {"bash", "--noprofile", "--norc", "-c", "source \"$1\" && complete -p deprive",
                    "bash", file,          NULL};
    tu_run_argv(&r, argv, NULL);
    expect(&r, 0, "complete -p deprive");
    assert_non_null(strstr(r.out, "-F _deprive deprive"));
    tu_run_free(&r);
    free(file);
}

/* What follows an option or stands as an operand: file names where a file goes, nothing after
 * an option taking a number, the fixed value sets - still the ones the help and the man page
 * name. */
static void test_completion_arguments(void **state)
{
    (void)state;
    char *file = tu_path(DP_SOURCE_DIR, "completion/deprive.bash");
    char *dir = tu_mkdtemp();
    tu_write(dir, "victim-hashes.txt", "x\n", 2);
    const char *w3[] = {DP_TEST_BIN, "-q", "scan", "--hashes", "vic", NULL};
    expect_offers(file, dir, w3, "victim-hashes.txt");
    const char *w4[] = {DP_TEST_BIN, "scan", "-H", "=", "vic", NULL}; /* -H=vic split by bash */
    expect_offers(file, dir, w4, "victim-hashes.txt");
    const char *w5[] = {DP_TEST_BIN, "wipe", "--dry-run", "vic", NULL}; /* the plan operand */
    expect_offers(file, dir, w5, "victim-hashes.txt");
    const char *w6[] = {DP_TEST_BIN, "scan", "--jobs", "", NULL};
    char *got = complete_words(file, dir, w6);
    assert_string_equal(got, "\n");
    free(got);
    char *man = tu_path(DP_SOURCE_DIR, "docs/deprive.1");
    char *mantext = tu_read(man, NULL);
    assert_non_null(mantext);
    struct tu_run r;
    tu_deprive(&r, NULL, "wipe", "--help", NULL);
    expect(&r, 0, "wipe --help");
    const char *methods[] = {"nist-clear", "zero", "random", "dod-3"};
    for (size_t i = 0; i < 4; i++) {
        const char *w[] = {DP_TEST_BIN, "run", "--method", "", NULL};
        expect_offers(file, dir, w, methods[i]);
        assert_non_null(strstr(r.out, methods[i]));
        char roff[64];
        snprintf(roff, sizeof(roff), ".B %s", methods[i]); /* "dod-3" is "dod\-3" in roff */
        char *dash = strchr(roff + 3, '-');
        if (dash != NULL) {
            memmove(dash + 1, dash, strlen(dash) + 1);
            *dash = '\\';
        }
        if (strstr(mantext, roff) == NULL)
            fail_msg("the man page does not name the method '%s' (%s)", methods[i], roff);
    }
    const char *classes[] = {"hdd", "ssd", "flash", "unknown"};
    for (size_t i = 0; i < 4; i++) {
        const char *w[] = {DP_TEST_BIN, "wipe", "--media-class", "", NULL};
        expect_offers(file, dir, w, classes[i]);
        assert_non_null(strstr(r.out, classes[i]));
    }
    tu_run_free(&r);
    free(mantext), free(man);
    tu_rm_rf(dir);
    free(dir), free(file);
}

/* Global options: offered before the command, and accepted by the binary. */
static void test_completion_globals(void **state)
{
    (void)state;
    char *file = tu_path(DP_SOURCE_DIR, "completion/deprive.bash");
    const char *globals[][2] = {{"-h", NULL},
                                {"--help", NULL},
                                {"-V", NULL},
                                {"--version", NULL},
                                {"--list-commands", NULL},
                                {"-q", "--version"},
                                {"--quiet", "--version"},
                                {"-v", "--version"},
                                {"--verbose", "--version"}};
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
        const char *w[] = {DP_TEST_BIN, "-", NULL};
        expect_offers(file, "/", w, globals[i][0]);
        struct tu_run r;
        tu_deprive(&r, NULL, globals[i][0], globals[i][1], NULL);
        expect(&r, 0, globals[i][0]);
        tu_run_free(&r);
    }
    free(file);
}

/* ---- the unit suite and debian/rules ---- */

/* `meson test --suite unit` (what the package build runs) selects suites that need no root:
 * none of their sources mounts, makes a loop device or a filesystem. */
static void test_unit_suite_mounts_nothing(void **state)
{
    (void)state;
    char *cmd = NULL;
    if (asprintf(&cmd, "meson test -C '%s' --list --suite unit --no-rebuild", DP_BUILD_DIR) < 0)
        fail_msg("out of memory");
    char *list = sh_out(0, "meson test --list --suite unit", cmd);
    free(cmd);
    size_t n = 0;
    bool saw_cli = false;
    for (char *line = list; *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        /* "deprive:unit / cli" (older meson: "deprive:unit / cli" too; take the last word) */
        const char *name = strrchr(line, ' ');
        name = name ? name + 1 : line;
        if (*name != '\0') {
            char rel[128];
            snprintf(rel, sizeof(rel), "tests/test_%s.c", name);
            char *src = tu_path(DP_SOURCE_DIR, rel);
            char *text = tu_read(src, NULL);
            if (text == NULL)
                fail_msg("unit suite '%s': cannot read %s", name, src);
            const char *banned[] = {"tu_fs_create", "tu_can_loop", "mount(", "\"mount ",
                                    "losetup",      "mkfs",        "geteuid"};
            for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
                if (strstr(text, banned[i]) != NULL)
                    fail_msg("suite '%s' is labelled 'unit' but %s uses %s: a package build "
                             "(debian/rules) would run it",
                             name, rel, banned[i]);
            saw_cli |= strcmp(name, "cli") == 0;
            assert_true(strcmp(name, "loopfs") != 0 && strcmp(name, "kill") != 0);
            free(text);
            free(src);
            n++;
        }
        line = nl ? nl + 1 : line + strlen(line);
    }
    free(list);
    printf("package: %zu unit suites, none mounts anything\n", n);
    assert_true(n >= 10);
    assert_true(saw_cli);
}

/* dh_auto_test in debian/rules runs `meson test --suite unit`, and nothing under nocheck;
 * the nocheck build configured without the tests and with the package version as build id. */
static void test_rules_test_step(void **state)
{
    (void)state;
    need_package();
    char *cmd = NULL;
    if (asprintf(&cmd,
                 "cd '%s' && DH_NO_ACT=1 DH_VERBOSE=1 DEB_BUILD_OPTIONS= "
                 "debian/rules override_dh_auto_test 2>&1",
                 pkg.tree) < 0)
        fail_msg("out of memory");
    char *out = sh_out(0, "dh_auto_test (no act)", cmd);
    free(cmd);
    if (strstr(out, "meson test --suite unit") == NULL)
        fail_msg("dh_auto_test does not run the unit suite:\n%s", out);
    free(out);
    if (asprintf(&cmd,
                 "cd '%s' && DH_NO_ACT=1 DH_VERBOSE=1 DEB_BUILD_OPTIONS=nocheck "
                 "debian/rules override_dh_auto_test 2>&1",
                 pkg.tree) < 0)
        fail_msg("out of memory");
    out = sh_out(0, "dh_auto_test nocheck (no act)", cmd);
    free(cmd);
    if (strstr(out, "meson test") != NULL)
        fail_msg("dh_auto_test runs tests under nocheck:\n%s", out);
    free(out);
    char *log = tu_path(pkg.dir, "build.log");
    char *text = tu_read(log, NULL);
    assert_non_null(text);
    char want[200];
    snprintf(want, sizeof(want), "-Dbuild_id=%s -Dtests=false", pkg.version);
    if (strstr(text, want) == NULL)
        fail_msg("the nocheck build was not configured with '%s'", want);
    free(text);
    free(log);
}

/* ---- the unpacked package ---- */

static void test_version(void **state)
{
    (void)state;
    need_package();
    char *bin = tu_path(pkg.root, "usr/bin/deprive");
    char *argv[] = {bin, "--version", NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    expect(&r, 0, "packaged deprive --version");
    /* the same version as the binary under test, the package version as build id */
    struct tu_run mine;
    tu_deprive(&mine, NULL, "--version", NULL);
    expect(&mine, 0, "deprive --version");
    char upstream[128];
    if (sscanf(mine.out, "deprive %127s", upstream) != 1)
        fail_msg("unexpected --version output: %s", mine.out);
    char want[300];
    snprintf(want, sizeof(want), "deprive %s (build %s)\n", upstream, pkg.version);
    assert_string_equal(r.out, want);
    if (strncmp(pkg.version, upstream, strlen(upstream)) != 0 ||
        pkg.version[strlen(upstream)] != '-')
        fail_msg("debian/changelog's version %s is not meson's %s plus a revision", pkg.version,
                 upstream);
    tu_run_free(&r);
    tu_run_free(&mine);
    /* the control fields: the version, and library dependencies from the binary */
    char *cmd = NULL;
    if (asprintf(&cmd, "dpkg-deb -f '%s' Version Depends", pkg.deb) < 0)
        fail_msg("out of memory");
    char *fields = sh_out(0, "dpkg-deb -f", cmd);
    free(cmd);
    char vline[200];
    snprintf(vline, sizeof(vline), "Version: %s", pkg.version);
    assert_true(has_line(fields, vline));
    const char *libs[] = {"libc6", "libsodium", "libjansson", "libhpdf", "libmagic"};
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
        if (strstr(fields, libs[i]) == NULL)
            fail_msg("Depends lacks %s:\n%s", libs[i], fields);
    free(fields);
    free(bin);
}

static void test_man_page(void **state)
{
    (void)state;
    need_package();
    char *page = tu_path(pkg.root, "usr/share/man/man1/deprive.1.gz");
    char *cmd = NULL;
    if (asprintf(&cmd, "LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat man --warnings -l '%s'", page) < 0)
        fail_msg("out of memory");
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    expect(&r, 0, "man -l");
    if (r.err[0] != '\0')
        fail_msg("man warns about the packaged page:\n%s", r.err);
    const char *sections[] = {"NAME", "SYNOPSIS", "COMMANDS", "ASSURANCE LEVELS", "EXIT STATUS"};
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        if (!has_line(r.out, sections[i]))
            fail_msg("the formatted man page has no %s section", sections[i]);
    assert_non_null(strstr(r.out, "deprive verify"));
    tu_run_free(&r);
    free(cmd);
    free(page);
}

static void test_packaged_completion(void **state)
{
    (void)state;
    need_package();
    char *file = tu_path(pkg.root, "usr/share/bash-completion/completions/deprive");
    char *src = tu_path(DP_SOURCE_DIR, "completion/deprive.bash");
    if (!same_file(file, src))
        fail_msg("%s is not completion/deprive.bash", file);
    char *bin = tu_path(pkg.root, "usr/bin/deprive");
    const char *w1[] = {bin, "w", NULL};
    expect_offers(file, pkg.dir, w1, "wipe");
    const char *w2[] = {bin, "wipe", "--ha", NULL};
    expect_offers(file, pkg.dir, w2, "--hashes");
    const char *w3[] = {bin, "audit", "--c", NULL};
    expect_offers(file, pkg.dir, w3, "--cert");
    free(bin), free(src), free(file);
}

/* Package contents: exactly the install set plus what debhelper adds (copyright, the Debian
 * changelog, the lintian overrides); man page and larger documents compressed by dh_compress. */
static void test_package_contents(void **state)
{
    (void)state;
    need_package();
    char *files = file_list(pkg.root);
    char *want = expected_install_set();
    /* normalise: below usr/, without .gz, without the Debian additions */
    char *got = calloc(1, strlen(files) + 1);
    assert_non_null(got);
    for (char *line = files; *line != '\0';) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        *nl = '\0';
        if (strncmp(line, "usr/", 4) != 0)
            fail_msg("packaged file outside /usr: %s", line);
        char *rel = line + 4;
        size_t len = strlen(rel);
        if (len > 3 && strcmp(rel + len - 3, ".gz") == 0)
            rel[len - 3] = '\0';
        if (strcmp(rel, "share/doc/deprive/copyright") != 0 &&
            strcmp(rel, "share/doc/deprive/changelog.Debian") != 0 &&
            strcmp(rel, "share/lintian/overrides/deprive") != 0) {
            strcat(got, rel);
            strcat(got, "\n");
        }
        line = nl + 1;
    }
    expect_same_set("the package (below /usr, .gz removed, debhelper's additions left out)", got,
                    want);
    free(got), free(want), free(files);
    char *copyright = tu_path(pkg.root, "usr/share/doc/deprive/copyright");
    char *src = tu_path(DP_SOURCE_DIR, "debian/copyright");
    assert_true(same_file(copyright, src));
    free(copyright), free(src);
}

/* `meson install` with DESTDIR, from the build under test, installs the same set as the
 * package (below its prefix). */
static void test_meson_install_set(void **state)
{
    (void)state;
    char *dest = tu_mkdtemp();
    assert_int_equal(
        tu_sh("meson install -C '%s' --no-rebuild --destdir '%s' >/dev/null", DP_BUILD_DIR, dest),
        0);
    char *all = file_list(dest);
    /* the prefix: the line that ends in bin/deprive, without it ("usr/local/") */
    const char *bin = strstr(all, "bin/deprive\n");
    assert_non_null(bin);
    const char *start = bin;
    while (start > all && start[-1] != '\n')
        start--;
    size_t plen = (size_t)(bin - start);
    char prefix[PATH_MAX];
    snprintf(prefix, sizeof(prefix), "%.*s", (int)plen, start);
    char *got = calloc(1, strlen(all) + 1);
    assert_non_null(got);
    for (char *line = all; *line != '\0';) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        if (strncmp(line, prefix, plen) != 0)
            fail_msg("meson installs outside the prefix '%s': %s", prefix, line);
        strcat(got, line + plen);
        strcat(got, "\n");
        line = nl + 1;
    }
    char *want = expected_install_set();
    char what[PATH_MAX + 64];
    snprintf(what, sizeof(what), "meson install --destdir (below the prefix '%s')", prefix);
    expect_same_set(what, got, want);
    free(want), free(got), free(all);
    tu_rm_rf(dest);
    free(dest);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completion_commands_options),
        cmocka_unit_test(test_completion_arguments),
        cmocka_unit_test(test_completion_globals),
        cmocka_unit_test(test_unit_suite_mounts_nothing),
        cmocka_unit_test(test_meson_install_set),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_man_page),
        cmocka_unit_test(test_packaged_completion),
        cmocka_unit_test(test_package_contents),
        cmocka_unit_test(test_rules_test_step),
    };
    return cmocka_run_group_tests_name("package", tests, NULL, group_teardown);
}
