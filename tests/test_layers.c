/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the stage folders keep their order - a stage includes only stages below it
 * (docs/architecture.md), the public headers too, and nothing includes another folder's
 * internal.h. A header belongs to the stage whose folder holds the .c file of its name. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From the bottom up; the CLI is on top. */
static const char *const stages[] = {"common", "lists",  "fs",     "content", "container",
                                     "scan",   "erase",  "attest", "cli"};
#define NSTAGES (sizeof(stages) / sizeof(stages[0]))

static int stage_index(const char *name)
{
    for (size_t i = 0; i < NSTAGES; i++)
        if (strcmp(stages[i], name) == 0)
            return (int)i;
    return -1;
}

/* The stage of public header base (e.g. "walk"): the folder holding src/<stage>/<base>.c.
 * Headers without a .c of their own say so here. */
static int header_stage(const char *base)
{
    static const struct {
        const char *header, *stage;
    } extra[] = {{"types", "common"}};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        if (strcmp(extra[i].header, base) == 0)
            return stage_index(extra[i].stage);
    for (size_t i = 0; i < NSTAGES; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/src/%s/%s.c", DP_SOURCE_DIR, stages[i], base);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            fclose(f);
            return (int)i;
        }
    }
    return -1;
}

/* Check every #include "..." of path, a file of stage `at`. Returns the problems found. */
static int check_file(const char *path, int at, const char *shown)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    int problems = 0, n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        n++;
        char inc[256];
        if (sscanf(line, " #include \"%255[^\"]\"", inc) != 1)
            continue;
        if (strncmp(inc, "deprive/", 8) == 0) {
            char base[256];
            snprintf(base, sizeof(base), "%s", inc + 8);
            char *dot = strrchr(base, '.');
            if (dot != NULL)
                *dot = '\0';
            int hs = header_stage(base);
            if (hs < 0) {
                printf("%s:%d: %s belongs to no stage (no src/<stage>/%s.c)\n", shown, n, inc,
                       base);
                problems++;
            } else if (hs > at) {
                printf("%s:%d: %s stage includes %s from the %s stage above it\n", shown, n,
                       stages[at], inc, stages[hs]);
                problems++;
            }
        } else if (strchr(inc, '/') != NULL && strncmp(inc, "src/", 4) != 0) {
            printf("%s:%d: \"%s\": include another folder's files through deprive/*.h only\n",
                   shown, n, inc);
            problems++;
        }
    }
    fclose(f);
    return problems;
}

static bool is_source(const char *name)
{
    size_t n = strlen(name);
    return n > 2 && name[n - 2] == '.' && (name[n - 1] == 'c' || name[n - 1] == 'h');
}

static void test_stages_include_only_below(void **state)
{
    (void)state;
    int problems = 0, files = 0;
    for (size_t s = 0; s < NSTAGES; s++) {
        char dir[512];
        snprintf(dir, sizeof(dir), "%s/src/%s", DP_SOURCE_DIR, stages[s]);
        DIR *d = opendir(dir);
        if (d == NULL)
            continue; /* a stage with no code yet (container) */
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!is_source(e->d_name))
                continue;
            char path[1024], shown[300];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            snprintf(shown, sizeof(shown), "src/%s/%s", stages[s], e->d_name);
            problems += check_file(path, (int)s, shown);
            files++;
        }
        closedir(d);
    }
    /* the public headers: each at its own module's stage */
    char inc[512];
    snprintf(inc, sizeof(inc), "%s/include/deprive", DP_SOURCE_DIR);
    DIR *d = opendir(inc);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_source(e->d_name))
            continue;
        char base[256], path[1024], shown[300];
        snprintf(base, sizeof(base), "%s", e->d_name);
        base[strlen(base) - 2] = '\0';
        int hs = header_stage(base);
        snprintf(path, sizeof(path), "%s/%s", inc, e->d_name);
        snprintf(shown, sizeof(shown), "include/deprive/%s", e->d_name);
        if (hs < 0) {
            printf("%s: belongs to no stage\n", shown);
            problems++;
            continue;
        }
        problems += check_file(path, hs, shown);
        files++;
    }
    closedir(d);
    printf("layers: %d files checked, %d problem(s)\n", files, problems);
    assert_true(files > 30);
    assert_int_equal(problems, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stages_include_only_below),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
