/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the walker's edge cases - symlinks, special files, odd names, depth, hard
 * links, permissions, mounts - and the no-follow path opener the wipe uses. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deprive/walk.h"

#define MAXREC 256

struct rec {
    char files[MAXREC][512];
    uint64_t inos[MAXREC];
    int nfiles;
    char skips[MAXREC][512];
    enum dp_skip_reason reasons[MAXREC];
    int errnos[MAXREC];
    int nskips;
};

static enum dp_status on_file(void *ctx, struct dp_walk_file *f, struct dp_error *err)
{
    (void)err;
    struct rec *r = ctx;
    assert_true(r->nfiles < MAXREC);
    assert_int_equal(strlen(f->path), f->path_len);
    snprintf(r->files[r->nfiles], 512, "%s", f->path);
    r->inos[r->nfiles++] = f->id.ino;
    /* the descriptor must be read-only and usable */
    int fl = fcntl(f->fd, F_GETFL);
    assert_int_equal(fl & O_ACCMODE, O_RDONLY);
    close(f->fd);
    return DP_OK;
}

static void on_skip(void *ctx, const char *path, size_t len, enum dp_skip_reason reason,
                    int errnum)
{
    struct rec *r = ctx;
    assert_true(r->nskips < MAXREC);
    assert_int_equal(strlen(path), len);
    snprintf(r->skips[r->nskips], 512, "%s", path);
    r->errnos[r->nskips] = errnum;
    r->reasons[r->nskips++] = reason;
}

static const struct dp_walk_ops ops = {.file = on_file, .skip = on_skip};

static int find_file(const struct rec *r, const char *path)
{
    for (int i = 0; i < r->nfiles; i++)
        if (strcmp(r->files[i], path) == 0)
            return i;
    return -1;
}

static int find_skip(const struct rec *r, const char *path)
{
    for (int i = 0; i < r->nskips; i++)
        if (strcmp(r->skips[i], path) == 0)
            return i;
    return -1;
}

static void test_symlinks_and_specials(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *outside = tu_mkdtemp();
    tu_write(outside, "secret.jpg", "outside", 7);
    tu_write(dir, "a/real.jpg", "real", 4);
    char *p;
    p = tu_path(dir, "a/loop");
    assert_int_equal(symlink(".", p), 0); /* symlink loop */
    free(p);
    p = tu_path(dir, "a/out.jpg");
    char *target = tu_path(outside, "secret.jpg");
    assert_int_equal(symlink(target, p), 0); /* points outside the root */
    free(p);
    free(target);
    p = tu_path(dir, "a/outdir");
    assert_int_equal(symlink(outside, p), 0);
    free(p);
    p = tu_path(dir, "fifo.jpg");
    assert_int_equal(mkfifo(p, 0644), 0); /* must never be opened: it would block */
    free(p);
    p = tu_path(dir, "sock");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    free(p);

    struct rec r = {0};
    struct dp_walk_stats st;
    assert_int_equal(dp_walk(dir, NULL, &ops, &r, &st, NULL), DP_OK);
    close(s);
    assert_int_equal(r.nfiles, 1);
    assert_true(find_file(&r, "a/real.jpg") >= 0);
    int i = find_skip(&r, "a/loop");
    assert_true(i >= 0);
    assert_int_equal(r.reasons[i], DP_SKIP_SYMLINK);
    assert_int_equal(r.reasons[find_skip(&r, "a/out.jpg")], DP_SKIP_SYMLINK);
    assert_int_equal(r.reasons[find_skip(&r, "a/outdir")], DP_SKIP_SYMLINK);
    assert_int_equal(r.reasons[find_skip(&r, "fifo.jpg")], DP_SKIP_SPECIAL);
    assert_int_equal(r.reasons[find_skip(&r, "sock")], DP_SKIP_SPECIAL);
    assert_int_equal(st.skipped[DP_SKIP_SYMLINK], 3);
    assert_int_equal(st.skipped[DP_SKIP_SPECIAL], 2);
    assert_int_equal(st.files, 1);
    assert_int_equal(st.directories, 2);
    tu_rm_rf(dir);
    tu_rm_rf(outside);
    free(dir);
    free(outside);
}

static void test_odd_names_depth_hardlinks(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "bad\xff\xfe.jpg", "x", 1);      /* invalid UTF-8 */
    tu_write(dir, "new\nline.jpg", "y", 1);        /* newline in a name */
    tu_write(dir, " lead space", "z", 1);
    char deep[40 * 4 + 32] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "d0/");
    strcat(deep, "deep.jpg");
    tu_write(dir, deep, "deep", 4);
    tu_write(dir, "h1", "hard", 4);
    char *h1 = tu_path(dir, "h1"), *h2 = tu_path(dir, "sub/h2");
    char *sub = tu_path(dir, "sub");
    mkdir(sub, 0755);
    free(sub);
    assert_int_equal(link(h1, h2), 0);
    struct rec r = {0};
    struct dp_walk_stats st;
    assert_int_equal(dp_walk(dir, NULL, &ops, &r, &st, NULL), DP_OK);
    assert_int_equal(r.nfiles, 6);
    assert_true(find_file(&r, "bad\xff\xfe.jpg") >= 0);
    assert_true(find_file(&r, "new\nline.jpg") >= 0);
    assert_true(find_file(&r, " lead space") >= 0);
    assert_true(find_file(&r, deep) >= 0);
    int a = find_file(&r, "h1"), b = find_file(&r, "sub/h2");
    assert_true(a >= 0 && b >= 0);
    assert_int_equal(r.inos[a], r.inos[b]); /* both names reported, same inode */
    assert_int_equal(st.directories, 1 + 40 + 1);
    assert_int_equal(r.nskips, 0);
    free(h1);
    free(h2);
    tu_rm_rf(dir);
    free(dir);
}

/* Permission failures are recorded, not fatal. Root reads everything, so the walk runs in a
 * child that gave up root. */
static void test_unreadable(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "ok.jpg", "ok", 2);
    tu_write(dir, "locked/inside.jpg", "in", 2);
    tu_write(dir, "noread.jpg", "no", 2);
    char *p = tu_path(dir, "locked");
    chmod(p, 0);
    free(p);
    p = tu_path(dir, "noread.jpg");
    chmod(p, 0);
    free(p);
    chmod(dir, 0755);
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        struct rec r = {0};
        struct dp_walk_stats st;
        if (dp_walk(dir, NULL, &ops, &r, &st, NULL) != DP_OK)
            _exit(4);
        int a = find_skip(&r, "locked"), b = find_skip(&r, "noread.jpg");
        if (r.nfiles != 1 || a < 0 || b < 0 || r.reasons[a] != DP_SKIP_PERMISSION ||
            r.reasons[b] != DP_SKIP_PERMISSION || r.errnos[b] != EACCES)
            _exit(5);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    tu_rm_rf(dir);
    free(dir);
}

static void test_root_errors(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct dp_error err = {0};
    struct rec r = {0};
    char *missing = tu_path(dir, "missing");
    assert_int_equal(dp_walk(missing, NULL, &ops, &r, NULL, &err), DP_ERR_IO);
    assert_non_null(strstr(err.msg, "missing"));
    char *ln = tu_path(dir, "link");
    assert_int_equal(symlink(dir, ln), 0);
    assert_int_not_equal(dp_walk(ln, NULL, &ops, &r, NULL, &err), DP_OK); /* symlink root */
    free(missing);
    free(ln);
    tu_rm_rf(dir);
    free(dir);
}

/* A bind mount of the same filesystem shares st_dev: only the mount id tells. */
static void test_bind_mount_not_crossed(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        printf("bind mount test skipped: needs root\n");
        skip();
    }
    char *dir = tu_mkdtemp();
    tu_write(dir, "src/file.jpg", "bound", 5);
    tu_write(dir, "tree/keep.jpg", "keep", 4);
    char *src = tu_path(dir, "src"), *mnt = tu_path(dir, "tree/mnt");
    mkdir(mnt, 0755);
    if (mount(src, mnt, NULL, MS_BIND, NULL) != 0) {
        printf("bind mount test skipped: mount --bind failed: %s\n", strerror(errno));
        tu_rm_rf(dir);
        skip();
    }
    char *tree = tu_path(dir, "tree");
    struct rec r = {0};
    assert_int_equal(dp_walk(tree, NULL, &ops, &r, NULL, NULL), DP_OK);
    int i = find_skip(&r, "mnt");
    bool ok1 = i >= 0 && r.reasons[i] == DP_SKIP_OTHER_FS && r.nfiles == 1;
    struct rec r2 = {0};
    struct dp_walk_opts cross = {.cross_mounts = true};
    assert_int_equal(dp_walk(tree, &cross, &ops, &r2, NULL, NULL), DP_OK);
    bool ok2 = r2.nfiles == 2 && find_file(&r2, "mnt/file.jpg") >= 0;
    umount2(mnt, MNT_DETACH);
    assert_true(ok1);
    assert_true(ok2);
    free(src);
    free(mnt);
    free(tree);
    tu_rm_rf(dir);
    free(dir);
}

static void test_open_at_root(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *outside = tu_mkdtemp();
    tu_write(dir, "a/b/target.jpg", "T", 1);
    tu_write(outside, "b/target.jpg", "O", 1);
    int root = open(dir, O_RDONLY | O_DIRECTORY);
    struct dp_error err = {0};
    int dfd = -1;
    int fd = dp_walk_open_at_root(root, "a/b/target.jpg", 14, O_RDONLY, false, &dfd, &err);
    assert_true(fd >= 0);
    assert_true(dfd >= 0);
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    assert_int_equal(c, 'T');
    close(fd);
    close(dfd);
    /* swap a parent for a symlink to elsewhere: must refuse, never reach the outside file */
    char *a = tu_path(dir, "a"), *a2 = tu_path(dir, "a.moved");
    assert_int_equal(rename(a, a2), 0);
    assert_int_equal(symlink(outside, a), 0);
    fd = dp_walk_open_at_root(root, "a/b/target.jpg", 14, O_RDONLY, false, NULL, &err);
    assert_int_equal(fd, -1);
    assert_int_equal(err.code, DP_ERR_CHANGED);
    /* the final component a symlink: refused too */
    char *t = tu_path(dir, "a.moved/b/link.jpg"), *o = tu_path(outside, "b/target.jpg");
    assert_int_equal(symlink(o, t), 0);
    fd = dp_walk_open_at_root(root, "a.moved/b/link.jpg", 18, O_RDONLY, false, NULL, &err);
    assert_int_equal(fd, -1);
    assert_int_equal(err.code, DP_ERR_CHANGED);
    /* dot-dot and absolute components */
    assert_int_equal(dp_walk_open_at_root(root, "../x", 4, O_RDONLY, false, NULL, &err), -1);
    assert_int_equal(dp_walk_open_at_root(root, "a.moved/../a.moved/b/target.jpg", 31,
                                          O_RDONLY, false, NULL, &err),
                     -1);
    close(root);
    free(a), free(a2), free(t), free(o);
    tu_rm_rf(dir);
    tu_rm_rf(outside);
    free(dir);
    free(outside);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symlinks_and_specials),
        cmocka_unit_test(test_odd_names_depth_hardlinks),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_root_errors),
        cmocka_unit_test(test_bind_mount_not_crossed),
        cmocka_unit_test(test_open_at_root),
    };
    return cmocka_run_group_tests_name("walk", tests, NULL, NULL);
}
