/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the wipe and certificate defects found under attack (issue 14) - each one
 * reproduced, deterministically, against the wipe engine: a name swapped between a check and
 * the act it guards, a reused inode number on resume, a bind mount over the root, a USB or MMC
 * medium taken for a disk, overlayfs, a sparse file larger than its filesystem. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deprive/fsinfo.h"
#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/wipe.h"

struct fx {
    struct tu_fs fs;    /* a loop filesystem when the test needs one */
    char *tmp;          /* temp dir (always) */
    char *base;         /* where root/ lives: fs.mnt or tmp */
    char *root, *work;  /* work: plans and journals, never on the wiped filesystem */
    struct dp_hashset *set;
    char list[4096];
    bool mounted_on_root; /* a bind or overlay mount the test placed on root */
};

static bool fx_init(struct fx *f, const char *fstype, unsigned mb)
{
    memset(f, 0, sizeof(*f));
    f->tmp = tu_mkdtemp();
    f->work = tu_path(f->tmp, "work");
    mkdir(f->work, 0700);
    if (fstype != NULL) {
        if (!tu_can_loop(fstype) || !tu_fs_create(&f->fs, fstype, mb))
            return false;
        f->base = strdup(f->fs.mnt);
    } else {
        f->base = strdup(f->tmp);
    }
    f->root = tu_path(f->base, "root");
    assert_int_equal(mkdir(f->root, 0755), 0);
    return true;
}

/* Also after a failed assertion (from the teardown): nothing stays mounted. Idempotent. */
static void fx_free(struct fx *f)
{
    if (f->mounted_on_root)
        umount2(f->root, MNT_DETACH);
    dp_hashset_free(f->set);
    tu_fs_destroy(&f->fs);
    if (f->tmp != NULL)
        tu_rm_rf(f->tmp);
    free(f->tmp), free(f->base), free(f->root), free(f->work);
    memset(f, 0, sizeof(*f));
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct fx));
    return *state == NULL;
}

static int teardown(void **state)
{
    fx_free(*state);
    free(*state);
    return 0;
}

/* Write a file under root and list its SHA-256. */
static void add_match(struct fx *f, const char *rel, size_t size, uint32_t seed)
{
    tu_write_random(f->root, rel, size, seed);
    char *p = tu_path(f->root, rel), hex[65];
    assert_true(tu_sha256_hex(p, hex));
    size_t n = strlen(f->list);
    snprintf(f->list + n, sizeof(f->list) - n, "sha256:%s\n", hex);
    free(p);
}

static json_t *scan(struct fx *f)
{
    return tu_scan_report(f->root, f->list, &f->set);
}

static json_t *target(const json_t *res, size_t i)
{
    return json_array_get(json_object_get(res, "targets"), i);
}

static const char *field(const json_t *res, size_t i, const char *key)
{
    return json_string_value(json_object_get(target(res, i), key));
}

static char *sha_at(const char *dir, const char *rel)
{
    char *p = tu_path(dir, rel), *hex = calloc(1, 65);
    if (!tu_sha256_hex(p, hex)) {
        free(hex);
        hex = NULL;
    }
    free(p);
    return hex;
}

/* ---- 1. a name swapped between the check and the act ---- */

struct swap {
    const char *point; /* seam to act at */
    const char *other; /* the non-matching file's name, same directory */
    int done;
};

static void swap_seam(void *ctx, const char *point, int dirfd, const char *name)
{
    struct swap *s = ctx;
    if (s->done || strcmp(point, s->point) != 0)
        return;
    /* what a hostile process does: exchange the target's name and an innocent file's */
    if (renameat2(dirfd, name, dirfd, s->other, RENAME_EXCHANGE) != 0)
        fail_msg("RENAME_EXCHANGE %s <-> %s: %s", name, s->other, strerror(errno));
    s->done = 1;
}

static void test_name_swapped_at_each_step(void **state)
{
    (void)state;
    static const char *const points[] = {"rename", "quarantine"};
    for (size_t pi = 0; pi < sizeof(points) / sizeof(points[0]); pi++) {
        struct fx *f = *state;
        assert_true(fx_init(f, NULL, 0));
        add_match(f, "d/ab.jpg", 20000, 1);
        tu_write_random(f->root, "d/innocent.jpg", 30000, 2);
        char *innocent = sha_at(f->root, "d/innocent.jpg");
        json_t *report = scan(f);
        struct swap sw = {.point = points[pi], .other = "innocent.jpg"};
        struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set,
                                 .test_seam = swap_seam, .test_seam_ctx = &sw};
        char *jp = tu_path(f->work, "j");
        json_t *res = tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
        assert_int_equal(sw.done, 1);
        /* the innocent file survives, whole, in the directory (under the name the swap gave
           it: the scrub puts back what it caught, it does not undo the attacker's swap) */
        char *d = tu_path(f->root, "d");
        if (tu_sh("cd '%s' && sha256sum -- * | grep -q '^%s '", d, innocent) != 0)
            fail_msg("swap at '%s': the non-matching file was lost", points[pi]);
        /* and the target is not claimed erased: its name was taken from under the scrub */
        assert_string_equal(field(res, 0, "status"), "failed");
        assert_string_equal(field(res, 0, "assurance"), "not-erased");
        assert_non_null(strstr(field(res, 0, "reason"), "swapped"));
        /* no quarantine directory is left behind */
        assert_int_equal(tu_sh("test -z \"$(find '%s' -name '.dq*')\"", d), 0);
        free(d), free(jp), free(innocent);
        json_decref(res);
        json_decref(report);
        fx_free(f);
    }
}

/* Starts the exchanger once the wipe has checked the target and begins the name scrub (an
 * exchange before the check changes the target's ctime, and the check refuses it). */
static void start_exchanger(void *ctx, const struct dp_wipe_progress *p)
{
    int *fd = ctx;
    if (*fd >= 0 && p->phase == DP_PHASE_SCRUB) {
        if (write(*fd, "x", 1) != 1)
            fail_msg("cannot start the exchanger");
        close(*fd);
        *fd = -1;
    }
}

/* The race as an attacker runs it: a process exchanging the target's name with an innocent
 * file's, and back, in a loop while the wipe runs, many times over. The innocent file must keep
 * one of the two names the attacker uses (the wipe must never rename or remove it), and a target
 * is only claimed erased when its content is really gone. */
static void test_name_exchange_loop(void **state)
{
    struct fx *f = *state;
    if (!fx_init(f, "ext4", 64)) {
        fx_free(f);
        skip();
    }
    int erased = 0, refused = 0, caught = 0;
    for (int round = 0; round < 12; round++) {
        char dir[64], tname[96], iname[96];
        snprintf(dir, sizeof(dir), "r%02d", round);
        snprintf(tname, sizeof(tname), "%s/v%d.jpg", dir, round % 2 ? 1 : 12); /* 2- and 3-step */
        snprintf(iname, sizeof(iname), "%s/keep.jpg", dir);
        f->list[0] = '\0';
        dp_hashset_free(f->set);
        f->set = NULL;
        add_match(f, tname, 8192, 100 + (uint32_t)round);
        tu_write_random(f->root, iname, 9000, 200 + (uint32_t)round);
        char *keep = sha_at(f->root, iname), *victim = sha_at(f->root, tname);
        json_t *report = scan(f);
        char *d = tu_path(f->root, dir);
        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char c;
            close(go[1]);
            if (read(go[0], &c, 1) != 1)
                _exit(0);
            int dfd = open(d, O_RDONLY | O_DIRECTORY);
            const char *t = strrchr(tname, '/') + 1;
            for (;;) { /* swapped for a while, then back: the target is findable most of the time */
                renameat2(dfd, t, dfd, "keep.jpg", RENAME_EXCHANGE);
                usleep(300);
                renameat2(dfd, t, dfd, "keep.jpg", RENAME_EXCHANGE);
                usleep(700);
            }
        }
        close(go[0]);
        struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set,
                                 .progress = start_exchanger, .progress_ctx = &go[1]};
        char jn[32];
        snprintf(jn, sizeof(jn), "j%02d", round);
        char *jp = tu_path(f->work, jn);
        json_t *res = tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
        if (go[1] >= 0)
            close(go[1]);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        /* the innocent content is under one of the attacker's two names, not a wipe's name */
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "cd '%s' && sha256sum -- keep.jpg '%s' 2>/dev/null | grep -q '^%s '",
                 d, strrchr(tname, '/') + 1, keep);
        if (tu_sh("%s", cmd) != 0)
            fail_msg("round %d: the non-matching file was renamed, removed or changed: %s", round,
                     field(res, 0, "reason") ? field(res, 0, "reason") : "");
        snprintf(cmd, sizeof(cmd), "cd '%s' && sha256sum -- * 2>/dev/null | grep -q '^%s '", d,
                 victim);
        bool victim_left = tu_sh("%s", cmd) == 0;
        const char *why = field(res, 0, "reason");
        if (why != NULL && strstr(why, "changed since scan") == NULL)
            caught++; /* got past the checks: the race reached the scrub */
        if (strcmp(field(res, 0, "status"), "erased") == 0) {
            erased++;
            if (victim_left)
                fail_msg("round %d: claimed erased but the content is still there", round);
        } else {
            refused++;
        }
        free(jp), free(d), free(keep), free(victim);
        json_decref(res);
        json_decref(report);
    }
    printf("exchange loop: 12 rounds, %d erased, %d not erased (%d of them stopped in the "
           "scrub), innocent file kept in every round\n",
           erased, refused, caught);
    if (erased + caught == 0)
        fail_msg("no round got past the identity checks: the race was not exercised");
    fx_free(f);
}

/* ---- 2. resume after the inode number was reused ---- */

static void stop_seam(void *ctx, const char *point, int dirfd, const char *name)
{
    (void)ctx, (void)dirfd, (void)name;
    if (strcmp(point, "overwrite-begun") == 0)
        _exit(0); /* as a kill right after the overwrite-begin record */
}

static void test_resume_reused_inode(void **state)
{
    struct fx *f = *state;
    if (!fx_init(f, "ext4", 64)) {
        fx_free(f);
        skip();
    }
    add_match(f, "victim.jpg", 50000, 7);
    json_t *report = scan(f);
    char *jp = tu_path(f->work, "journal");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set,
                                 .test_seam = stop_seam};
        tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
        _exit(3);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    /* the victim goes, an unrelated file takes its name and (ext4 reuses it) its inode */
    char *vp = tu_path(f->root, "victim.jpg");
    struct stat a, b;
    assert_int_equal(stat(vp, &a), 0);
    assert_int_equal(unlink(vp), 0);
    tu_sh("sync");
    tu_write_random(f->root, "victim.jpg", 50000, 8);
    assert_int_equal(stat(vp, &b), 0);
    if (a.st_ino != b.st_ino)
        fail_msg("ext4 did not reuse inode %llu (got %llu): cannot reproduce",
                 (unsigned long long)a.st_ino, (unsigned long long)b.st_ino);
    char *unrelated = sha_at(f->root, "victim.jpg");
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set};
    json_t *res = tu_wipe_report(report, jp, &o, true, DP_OK, NULL, 0);
    char *now = sha_at(f->root, "victim.jpg");
    assert_non_null(now);
    assert_string_equal(now, unrelated);
    assert_string_not_equal(field(res, 0, "status"), "erased");
    assert_non_null(strstr(field(res, 0, "reason"), "different object"));
    free(now), free(unrelated), free(vp), free(jp);
    json_decref(res);
    json_decref(report);
    fx_free(f);
}

static void stop_at_unlink(void *ctx, const char *point, int dirfd, const char *name)
{
    (void)ctx, (void)dirfd, (void)name;
    if (strcmp(point, "unlink") == 0)
        _exit(0); /* killed with the name moved into its quarantine directory */
}

/* Interrupted between the move into quarantine and the unlink: the resume finds the name in
 * the quarantine directory, unlinks it there, reports it removed, and leaves no directory. */
static void test_resume_inside_quarantine(void **state)
{
    struct fx *f = *state;
    assert_true(fx_init(f, NULL, 0));
    add_match(f, "d/victim.jpg", 30000, 12);
    tu_write_random(f->root, "d/keep.jpg", 1000, 13);
    json_t *report = scan(f);
    char *jp = tu_path(f->work, "journal");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set,
                                 .test_seam = stop_at_unlink};
        tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
        _exit(3);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    char *d = tu_path(f->root, "d");
    assert_int_equal(tu_sh("test -n \"$(find '%s' -name '.dq*')\"", d), 0); /* it is there */
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set};
    json_t *res = tu_wipe_report(report, jp, &o, true, DP_OK, NULL, 0);
    assert_string_equal(field(res, 0, "status"), "erased");
    json_t *nm = json_array_get(json_object_get(target(res, 0), "names"), 0);
    assert_true(json_is_true(json_object_get(nm, "removed")));
    assert_int_equal(tu_sh("test -z \"$(find '%s' -name '.dq*')\"", d), 0);
    assert_int_equal(tu_sh("test \"$(ls -A '%s')\" = keep.jpg", d), 0);
    free(d), free(jp);
    json_decref(res);
    json_decref(report);
}

/* Where the filesystem reports neither birth time nor generation (the FUSE drivers here), an
 * interrupted target is not resumed on the inode number alone. Simulated by a plan without
 * them. */
static void test_resume_without_identity(void **state)
{
    struct fx *f = *state;
    assert_true(fx_init(f, NULL, 0));
    add_match(f, "victim.jpg", 30000, 9);
    json_t *report = scan(f);
    json_t *fd = json_array_get(json_object_get(report, "findings"), 0);
    json_object_del(fd, "birth_ns");
    json_object_del(fd, "generation");
    char *jp = tu_path(f->work, "journal");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set,
                                 .test_seam = stop_seam};
        tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
        _exit(3);
    }
    int ws = 0;
    waitpid(pid, &ws, 0);
    assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    char *before = sha_at(f->root, "victim.jpg");
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set};
    json_t *res = tu_wipe_report(report, jp, &o, true, DP_OK, NULL, 0);
    assert_string_equal(field(res, 0, "status"), "failed");
    assert_non_null(strstr(field(res, 0, "reason"), "cannot be proved"));
    char *after = sha_at(f->root, "victim.jpg");
    assert_string_equal(before, after); /* not touched on the inode number's word */
    free(before), free(after), free(jp);
    json_decref(res);
    json_decref(report);
    fx_free(f);
}

/* ---- 3. the plan's root replaced after the scan ---- */

static void test_bind_mount_over_root(void **state)
{
    struct fx *f = *state;
    assert_true(fx_init(f, NULL, 0));
    if (geteuid() != 0) {
        printf("bind mount: skipped: needs root\n");
        fx_free(f);
        skip();
    }
    add_match(f, "victim.jpg", 20000, 11);
    /* outside the root, on the same filesystem: a hard link to the same inode */
    char *out = tu_path(f->base, "outside"), *vp = tu_path(f->root, "victim.jpg");
    char *op = tu_path(out, "victim.jpg");
    mkdir(out, 0755);
    assert_int_equal(link(vp, op), 0);
    json_t *report = scan(f);
    char *jp = tu_path(f->work, "j1");
    assert_int_equal(mount(out, f->root, NULL, MS_BIND, NULL), 0);
    f->mounted_on_root = true;
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set};
    char msg[512] = "";
    json_t *res = tu_wipe_report(report, jp, &o, false, DP_ERR_CHANGED, msg, sizeof(msg));
    umount2(f->root, MNT_DETACH);
    f->mounted_on_root = false;
    assert_null(res);
    assert_non_null(strstr(msg, "not the root that was scanned"));
    assert_int_equal(access(op, F_OK), 0); /* the name outside the root is untouched */
    assert_int_equal(access(vp, F_OK), 0);
    /* the root bound over itself: the same directory, another mount */
    assert_int_equal(mount(f->root, f->root, NULL, MS_BIND, NULL), 0);
    f->mounted_on_root = true;
    free(jp);
    jp = tu_path(f->work, "j2");
    res = tu_wipe_report(report, jp, &o, false, DP_ERR_CHANGED, msg, sizeof(msg));
    umount2(f->root, MNT_DETACH);
    f->mounted_on_root = false;
    assert_non_null(strstr(msg, "another mount"));
    /* and with the root as scanned, the wipe goes ahead - to the target, which it leaves:
     * its inode has the name outside the root too, which erasing it would change */
    free(jp);
    jp = tu_path(f->work, "j3");
    res = tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
    assert_string_equal(field(res, 0, "status"), "skipped");
    assert_non_null(strstr(field(res, 0, "reason"), "names outside the plan"));
    assert_int_equal(access(op, F_OK), 0);
    json_decref(res);
    free(jp), free(out), free(vp), free(op);
    json_decref(report);
    fx_free(f);
}

/* ---- 7. the medium: USB and MMC are not taken for a disk ---- */

/* A fake sysfs where the root's block device hangs off the given bus path. */
static char *fake_sysfs(const char *tmp, const char *root, const char *devpath,
                        const char *rotational)
{
    struct stat sb;
    assert_int_equal(stat(root, &sb), 0);
    /* the filesystem's source device: what dp_fsinfo_get looks up */
    struct dp_fsinfo fs;
    int fd = open(root, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    assert_int_equal(dp_fsinfo_get(fd, &fs, NULL), DP_OK);
    close(fd);
    struct stat ds;
    unsigned maj = major(sb.st_dev), min = minor(sb.st_dev);
    if (stat(fs.source, &ds) == 0 && S_ISBLK(ds.st_mode))
        maj = major(ds.st_rdev), min = minor(ds.st_rdev);
    char *sys = tu_path(tmp, "sys");
    assert_int_equal(tu_sh("rm -rf '%s' && mkdir -p '%s/dev/block' '%s/%s/queue' && "
                           "echo %s > '%s/%s/queue/rotational' && "
                           "ln -s '%s/%s' '%s/dev/block/%u:%u'",
                           sys, sys, sys, devpath, rotational, sys, devpath, sys, devpath, sys,
                           maj, min),
                     0);
    return sys;
}

static const char *level_with(struct fx *f, const char *sys, enum dp_media_class stated,
                              const char *rel, uint32_t seed, json_t **keep)
{
    f->list[0] = '\0';
    dp_hashset_free(f->set);
    f->set = NULL;
    add_match(f, rel, 10000, seed);
    json_t *report = scan(f);
    dp_fsinfo_set_sysfs_root(sys);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set};
    if (stated != DP_MEDIA_UNKNOWN) {
        o.media_class = stated;
        o.media_class_source = "stated by the examiner (test)";
    }
    char jn[64];
    snprintf(jn, sizeof(jn), "j-%u", seed);
    char *jp = tu_path(f->work, jn);
    *keep = tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
    dp_fsinfo_set_sysfs_root(NULL);
    free(jp);
    json_decref(report);
    assert_string_equal(field(*keep, 0, "status"), "erased");
    return field(*keep, 0, "assurance");
}

static void test_media_class(void **state)
{
    struct fx *f = *state;
    if (!fx_init(f, "ext4", 32)) {
        fx_free(f);
        skip();
    }
    json_t *r1, *r2, *r3, *r4, *r5;
    /* a USB device claiming to rotate: a stick or an enclosure - unknown, never "in place" */
    char *usb = fake_sysfs(f->tmp, f->root,
                           "devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/"
                           "6:0:0:0/block/sdb",
                           "1");
    assert_string_equal(level_with(f, usb, DP_MEDIA_UNKNOWN, "a.jpg", 1, &r1),
                        "overwritten-medium-unknown");
    /* the examiner says what it is */
    assert_string_equal(level_with(f, usb, DP_MEDIA_FLASH, "b.jpg", 2, &r2),
                        "flash-media-residual-risk");
    assert_string_equal(level_with(f, usb, DP_MEDIA_HDD, "c.jpg", 3, &r3),
                        "overwritten-in-place-verified");
    free(usb);
    /* an SD card: flash, whatever it claims */
    char *mmc = fake_sysfs(f->tmp, f->root, "devices/platform/mmc0/mmc_host/mmc0/mmc0:0001/block/mmcblk0", "1");
    assert_string_equal(level_with(f, mmc, DP_MEDIA_UNKNOWN, "d.jpg", 4, &r4),
                        "flash-media-residual-risk");
    free(mmc);
    /* a SATA disk that rotates: in place */
    char *ata = fake_sysfs(f->tmp, f->root,
                           "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda",
                           "1");
    assert_string_equal(level_with(f, ata, DP_MEDIA_UNKNOWN, "e.jpg", 5, &r5),
                        "overwritten-in-place-verified");
    free(ata);
    /* the residual risks say what is unknown */
    json_t *risk;
    size_t i;
    bool said = false;
    json_array_foreach(json_object_get(r1, "residual_risks"), i, risk)
        said |= strstr(json_string_value(risk), "medium class is unknown") != NULL;
    assert_true(said);
    json_decref(r1), json_decref(r2), json_decref(r3), json_decref(r4), json_decref(r5);
    fx_free(f);
}

/* ---- 8. overlayfs: a read-write open would copy the file up ---- */

static void test_overlay_refused(void **state)
{
    struct fx *f = *state;
    assert_true(fx_init(f, NULL, 0));
    if (geteuid() != 0) {
        printf("overlay: skipped: needs root\n");
        fx_free(f);
        skip();
    }
    char *lower = tu_path(f->tmp, "lower"), *upper = tu_path(f->tmp, "upper");
    char *wk = tu_path(f->tmp, "ovl-work");
    mkdir(lower, 0755), mkdir(upper, 0755), mkdir(wk, 0755);
    char *keep_root = f->root;
    f->root = lower;
    add_match(f, "victim.jpg", 20000, 21);
    f->root = keep_root;
    char opts[1024];
    snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, wk);
    f->mounted_on_root = mount("overlay", f->root, "overlay", 0, opts) == 0;
    if (!f->mounted_on_root) {
        printf("overlay: skipped: cannot mount overlayfs here: %s\n", strerror(errno));
        free(lower), free(upper), free(wk);
        fx_free(f);
        skip();
    }
    char *before = sha_at(lower, "victim.jpg");
    json_t *report = scan(f);
    assert_int_equal(json_array_size(json_object_get(report, "findings")), 1);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set};
    char *jp = tu_path(f->work, "j"), msg[512] = "";
    json_t *res = tu_wipe_report(report, jp, &o, false, DP_ERR_UNSUPPORTED, msg, sizeof(msg));
    umount2(f->root, MNT_DETACH);
    f->mounted_on_root = false;
    assert_null(res);
    assert_non_null(strstr(msg, "stacked filesystem"));
    char *after = sha_at(lower, "victim.jpg");
    assert_string_equal(before, after);
    char *up = tu_path(upper, "victim.jpg");
    assert_int_equal(access(up, F_OK), -1); /* nothing was copied up */
    free(up), free(before), free(after), free(jp), free(lower), free(upper), free(wk);
    json_decref(report);
    fx_free(f);
}

/* ---- 9. a sparse target larger than the free space ---- */

static void test_sparse_target(void **state)
{
    struct fx *f = *state;
    if (!fx_init(f, "ext4", 128)) {
        fx_free(f);
        skip();
    }
    /* 100 MiB apparent, 1 MiB of data at each end, on a 128 MiB filesystem with 60 MiB used:
       writing the holes would need more space than there is (a file larger than its whole
       filesystem is not examined at all: see test_scan) */
    tu_write_random(f->base, "filler.bin", 60 << 20, 30);
    char *sp = tu_path(f->root, "sparse.bin");
    unsigned char *data = tu_random_bytes(1 << 20, 31);
    int fd = open(sp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, 1 << 20, 0), 1 << 20);
    assert_int_equal(pwrite(fd, data, 1 << 20, (100 << 20) - (1 << 20)), 1 << 20);
    close(fd);
    free(data);
    char *hex = sha_at(f->root, "sparse.bin");
    snprintf(f->list + strlen(f->list), sizeof(f->list) - strlen(f->list), "sha256:%s\n", hex);
    add_match(f, "zz-after.jpg", 100000, 32); /* the next target must not suffer */
    json_t *report = scan(f);
    assert_int_equal(json_array_size(json_object_get(report, "findings")), 2);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR, .lists = f->set};
    char *jp = tu_path(f->work, "j");
    json_t *res = tu_wipe_report(report, jp, &o, false, DP_OK, NULL, 0);
    for (size_t i = 0; i < 2; i++)
        if (strcmp(field(res, i, "status"), "erased") != 0)
            fail_msg("target %zu: %s (%s)", i, field(res, i, "status"),
                     field(res, i, "reason") ? field(res, i, "reason") : "");
    json_t *ow = NULL;
    for (size_t i = 0; i < 2; i++)
        if (json_integer_value(json_object_get(target(res, i), "size")) == 100 << 20)
            ow = json_object_get(target(res, i), "overwrite");
    assert_non_null(ow);
    assert_int_equal(json_integer_value(json_object_get(ow, "bytes")), 2 << 20);
    assert_int_equal(json_integer_value(json_object_get(ow, "data_ranges")), 2);
    free(sp), free(hex), free(jp);
    json_decref(res);
    json_decref(report);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_name_swapped_at_each_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_exchange_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_reused_inode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_inside_quarantine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_without_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_mount_over_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlay_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse_target, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
