/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the tree changes between `deprive scan` and `deprive wipe` - a target swapped
 * for a symlink, a parent directory swapped for a symlink, a target modified, a target replaced
 * by a FIFO. The wipe must skip each ("changed since scan"), touch nothing outside the root and
 * still erase the untouched target. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define ORDER "ORD-RACE-0001"

struct rfx {
    struct tu_fs fs;
    char *tmp;  /* without loop devices: temp dir holding root and outside */
    char *base; /* holds root/ and outside/ (one filesystem) */
    char *root;
    char *outside;
    char *work; /* plan and journal: another filesystem */
};

static dev_t dev_of(const char *p)
{
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    return sb.st_dev;
}

static int setup(void **state)
{
    struct rfx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    *state = f;
    f->work = tu_mkdtemp();
    if (tu_can_loop("race: ext4") && tu_fs_create(&f->fs, "ext4", 64)) {
        f->base = strdup(f->fs.mnt);
    } else {
        f->tmp = tu_mkdtemp();
        if (dev_of(f->tmp) == dev_of(f->work)) {
            tu_rm_rf(f->work);
            free(f->work);
            f->work = NULL;
            char shm[] = "/dev/shm/deprive-race-XXXXXX";
            if (access("/dev/shm", W_OK) == 0 && mkdtemp(shm) != NULL &&
                dev_of(shm) != dev_of(f->tmp))
                f->work = strdup(shm);
        }
        f->base = strdup(f->tmp);
    }
    f->root = tu_path(f->base, "root");
    f->outside = tu_path(f->base, "outside");
    mkdir(f->root, 0755);
    mkdir(f->outside, 0755);
    return 0;
}

static int teardown(void **state)
{
    struct rfx *f = *state;
    tu_fs_destroy(&f->fs);
    if (f->tmp != NULL)
        tu_rm_rf(f->tmp);
    if (f->work != NULL && strncmp(f->work, "/dev/shm/", 9) == 0)
        tu_sh("rm -rf '%s'", f->work);
    else if (f->work != NULL)
        tu_rm_rf(f->work);
    free(f->tmp);
    free(f->base);
    free(f->root);
    free(f->outside);
    free(f->work);
    free(f);
    return 0;
}

static char *sha_of(const char *dir, const char *rel)
{
    char *p = tu_path(dir, rel);
    char *hex = calloc(1, 65);
    if (!tu_sha256_hex(p, hex))
        fail_msg("cannot read %s", p);
    free(p);
    return hex;
}

enum { T_SYMLINK, T_DIRSWAP, T_MODIFIED, T_FIFO, T_UNTOUCHED, N_T };
static const char *const target[N_T] = {
    "a/photo_symlinked.jpg", "b/photo_dirswap.jpg",   "c/photo_modified.jpg",
    "d/photo_fifo.jpg",      "e/photo_untouched.jpg",
};
static const char *const what[N_T] = {
    "target replaced by a symlink to a file outside the root",
    "parent directory replaced by a symlink to a directory outside the root",
    "target modified after the scan (same size, one byte, times restored)",
    "target replaced by a FIFO",
    "untouched target",
};

static void rename_or_fail(const char *from, const char *to)
{
    if (rename(from, to) != 0)
        fail_msg("rename %s -> %s: %s", from, to, strerror(errno));
}

static void test_changed_between_scan_and_wipe(void **state)
{
    struct rfx *f = *state;
    if (f->work == NULL) {
        printf("race: skipped: no second filesystem for the journal\n");
        skip();
    }
    char list[1024] = "";
    char *orig[N_T];
    for (int i = 0; i < N_T; i++) {
        tu_write_random(f->root, target[i], 40000 + (size_t)i * 1000, 700 + (uint32_t)i);
        orig[i] = sha_of(f->root, target[i]);
        size_t n = strlen(list);
        snprintf(list + n, sizeof(list) - n, "%s  %s\n", orig[i], target[i]); /* sha256sum */
    }
    char keep_sha[20][65];
    for (int i = 0; i < 20; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "%c/keep_%02d.dat", "abcde"[i % 5], i);
        tu_write_random(f->root, rel, 3000 + (size_t)i * 100, 900 + (uint32_t)i);
        char *h = sha_of(f->root, rel);
        memcpy(keep_sha[i], h, 65);
        free(h);
    }
    tu_write(f->work, "victims.sha256", list, strlen(list));
    char *listp = tu_path(f->work, "victims.sha256"), *plan = tu_path(f->work, "plan.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "scan", "--hashes", listp, "-o", plan, f->root, NULL);
    if (r.status != 0)
        fail_msg("scan failed (%d): %s", r.status, r.err);
    tu_run_free(&r);

    /* (a) the target moves outside the root (same inode, same content) and a symlink to it
     * takes its place */
    char *p = tu_path(f->root, target[T_SYMLINK]);
    char *secret = tu_path(f->outside, "secret_a.jpg");
    rename_or_fail(p, secret);
    assert_int_equal(symlink(secret, p), 0);
    free(p);
    /* (b) the parent directory moves outside (same inodes) and a symlink to it takes its
     * place: root/b/photo_dirswap.jpg still names the very file that matched */
    char *b = tu_path(f->root, "b"), *bout = tu_path(f->outside, "bdir");
    rename_or_fail(b, bout);
    assert_int_equal(symlink(bout, b), 0);
    /* (c) one byte changed in place, size and times put back */
    p = tu_path(f->root, target[T_MODIFIED]);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    unsigned char byte;
    assert_int_equal(pread(fd, &byte, 1, 1234), 1);
    byte ^= 0x5a;
    assert_int_equal(pwrite(fd, &byte, 1, 1234), 1);
    assert_int_equal(close(fd), 0);
    struct timespec times[2] = {sb.st_atim, sb.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
    char *modified = sha_of(f->root, target[T_MODIFIED]);
    free(p);
    /* (d) a FIFO of the same name */
    p = tu_path(f->root, target[T_FIFO]);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkfifo(p, 0644), 0);
    free(p);

    /* the wipe, under a time limit: opening the FIFO must not hang it */
    char *argv[] = {"timeout", "120", DP_TEST_BIN, "wipe", "--hashes", listp, "--yes", "--order",
                    ORDER, plan, NULL};
    tu_run_argv(&r, argv, NULL);
    printf("race: wipe exit %d\n%s", r.status, r.out);
    if (r.status != 1)
        fail_msg("wipe exit %d, expected 1 (some not erased): %s", r.status, r.err);
    tu_run_free(&r);

    /* nothing outside the root touched; the modified file and the FIFO still there */
    char *h = sha_of(f->outside, "secret_a.jpg");
    assert_string_equal(h, orig[T_SYMLINK]);
    free(h);
    h = sha_of(f->outside, "bdir/photo_dirswap.jpg");
    assert_string_equal(h, orig[T_DIRSWAP]);
    free(h);
    h = sha_of(f->root, target[T_MODIFIED]);
    assert_string_equal(h, modified);
    free(h);
    p = tu_path(f->root, target[T_FIFO]);
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
    free(p);
    p = tu_path(f->root, target[T_SYMLINK]);
    assert_int_equal(lstat(p, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    free(p);
    assert_int_equal(lstat(b, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    p = tu_path(f->root, target[T_UNTOUCHED]);
    assert_int_equal(access(p, F_OK), -1);
    free(p);
    for (int i = 0; i < 20; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "%c/keep_%02d.dat", "abcde"[i % 5], i);
        const char *dir = i % 5 == 1 ? bout : f->root;
        const char *r2 = i % 5 == 1 ? rel + 2 : rel;
        h = sha_of(dir, r2);
        assert_string_equal(h, keep_sha[i]);
        free(h);
    }

    /* the result: a skip with "changed since scan" for each changed target */
    size_t n = strlen(plan) + 16;
    char *wp = malloc(n);
    snprintf(wp, n, "%s.wipe.json", plan);
    json_error_t je;
    json_t *res = json_load_file(wp, 0, &je), *pl = json_load_file(plan, 0, &je);
    assert_non_null(res);
    assert_non_null(pl);
    const json_t *targets = json_object_get(res, "targets");
    assert_int_equal(json_array_size(targets), N_T);
    bool seen[N_T] = {false};
    size_t i;
    const json_t *t;
    json_array_foreach(targets, i, t) {
        json_int_t pi = json_integer_value(
            json_object_get(json_array_get(json_object_get(t, "names"), 0), "plan_index"));
        const json_t *loc = json_object_get(
            json_array_get(json_object_get(pl, "findings"), (size_t)pi), "location");
        const char *path = json_string_value(json_array_get(loc, 0));
        assert_non_null(path);
        int k = 0;
        while (k < N_T && strstr(path, target[k]) == NULL)
            k++;
        assert_true(k < N_T);
        seen[k] = true;
        const char *st = json_string_value(json_object_get(t, "status"));
        const char *reason = json_string_value(json_object_get(t, "reason"));
        printf("race: %-28s %-8s %s  [%s]\n", target[k], st, reason ? reason : "", what[k]);
        if (k == T_UNTOUCHED) {
            assert_string_equal(st, "erased");
            continue;
        }
        if (strcmp(st, "skipped") != 0 || reason == NULL ||
            strstr(reason, "changed since scan") == NULL)
            fail_msg("%s (%s): status %s, reason '%s'; expected skipped, changed since scan",
                     target[k], what[k], st, reason ? reason : "");
    }
    for (int k = 0; k < N_T; k++)
        assert_true(seen[k]);
    const json_t *s = json_object_get(res, "summary");
    assert_int_equal(json_integer_value(json_object_get(s, "erased")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "skipped")), N_T - 1);
    json_decref(res);
    json_decref(pl);
    free(wp);
    for (int k = 0; k < N_T; k++)
        free(orig[k]);
    free(modified);
    free(secret);
    free(b);
    free(bout);
    free(listp);
    free(plan);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* findings and cmocka's messages in order */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changed_between_scan_and_wipe, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
