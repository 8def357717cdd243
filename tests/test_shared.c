/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: targets whose extents are shared (reflinked copies, btrfs snapshots) on loop
 * images: who shares them (wipe_shared_owners), and that `deprive run` never certifies such a
 * target as erased, names the sharer where the filesystem can tell, and leaves the sharer
 * alone. */
#include "testutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/fiemap.h>

#include "deprive/extents.h"
#include "src/erase/internal.h"

#define MATCH_SIZE (300 * 1024)
#define KEEP_SIZE (50 * 1024)

struct fx {
    const char *type;
    unsigned size_mb;
    struct tu_fs fs;
    bool ready;
    char *work;
};

static struct fx fx_btrfs_reflink = {.type = "btrfs", .size_mb = 128};
static struct fx fx_btrfs_many = {.type = "btrfs", .size_mb = 128};
static struct fx fx_btrfs_failures = {.type = "btrfs", .size_mb = 128};
static struct fx fx_btrfs_snapshot = {.type = "btrfs", .size_mb = 128};
static struct fx fx_btrfs_run = {.type = "btrfs", .size_mb = 128};
static struct fx fx_xfs_run = {.type = "xfs", .size_mb = 320};

/* ---- ioctl interposed: the kernel's answers the tests cannot otherwise get ---- */

static enum {
    IO_REAL,        /* pass everything through */
    IO_NO_V2,       /* LOGICAL_INO_V2 unknown (a kernel before 4.15) */
    IO_EPERM,       /* LOGICAL_INO refused (no CAP_SYS_ADMIN) */
    IO_SHRINK_ONCE, /* the first LOGICAL_INO_V2 gets room for one reference only */
    IO_V1_SHRINK,   /* no v2, and v1 gets room for one reference only */
    IO_NO_PATHS,    /* INO_PATHS and INO_LOOKUP of other inodes fail */
} io_mode;
static int io_v2_calls, io_v1_calls;

/* The library is linked statically into this executable, so its ioctl calls land here. */
int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    static int (*real)(int, unsigned long, ...);
    if (real == NULL) {
        void *sym = dlsym(RTLD_NEXT, "ioctl");
        assert_non_null(sym);
        memcpy(&real, &sym, sizeof(real));
    }
    struct btrfs_ioctl_logical_ino_args *li = arg;
    if (req == BTRFS_IOC_LOGICAL_INO_V2) {
        io_v2_calls++;
        if (io_mode == IO_NO_V2 || io_mode == IO_V1_SHRINK)
            return errno = ENOTTY, -1;
        if (io_mode == IO_EPERM)
            return errno = EPERM, -1;
        if (io_mode == IO_SHRINK_ONCE && io_v2_calls == 1)
            li->size = sizeof(struct btrfs_data_container) + 3 * sizeof(uint64_t);
    }
    if (req == BTRFS_IOC_LOGICAL_INO) {
        io_v1_calls++;
        if (io_mode == IO_EPERM)
            return errno = EPERM, -1;
        if (io_mode == IO_V1_SHRINK)
            li->size = sizeof(struct btrfs_data_container) + 3 * sizeof(uint64_t);
    }
    if (io_mode == IO_NO_PATHS &&
        (req == BTRFS_IOC_INO_PATHS ||
         (req == BTRFS_IOC_INO_LOOKUP &&
          ((struct btrfs_ioctl_ino_lookup_args *)arg)->treeid != 0)))
        return errno = EIO, -1;
    return real(fd, req, arg);
}

static void io_set(int mode)
{
    io_mode = mode;
    io_v2_calls = io_v1_calls = 0;
}

static int setup(void **state)
{
    struct fx *f = *state;
    f->ready = tu_fs_create(&f->fs, f->type, f->size_mb);
    if (f->ready)
        f->work = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    io_set(IO_REAL);
    tu_fs_destroy(&f->fs);
    if (f->work != NULL) {
        tu_rm_rf(f->work);
        free(f->work);
        f->work = NULL;
    }
    return 0;
}

static void need_fs(const struct fx *f)
{
    if (!f->ready) {
        printf("%s: skipped: no %s image could be made and mounted here\n", f->type, f->type);
        skip();
    }
}

/* cp --reflink=always src dst (paths below the mount); skips the test when the filesystem or
 * cp cannot. */
static void reflink(const struct fx *f, const char *src, const char *dst)
{
    char *s = tu_path(f->fs.mnt, src), *d = tu_path(f->fs.mnt, dst);
    tu_sh("mkdir -p \"$(dirname '%s')\"", d);
    if (tu_sh("cp --reflink=always '%s' '%s'", s, d) != 0) {
        printf("%s: skipped: cp --reflink=always failed (no reflink support in this %s "
               "image, or an old cp)\n",
               f->type, f->type);
        free(s);
        free(d);
        skip();
    }
    free(s);
    free(d);
}

static bool any_shared(const json_t *ext)
{
    size_t i;
    const json_t *e;
    json_array_foreach(ext, i, e)
        if (json_integer_value(json_object_get(e, "flags")) & FIEMAP_EXTENT_SHARED)
            return true;
    return false;
}

/* dp_extents_json + wipe_shared_owners for a file below the mount, as the wipe engine calls them
 * (target open, before any overwrite). */
static json_t *owners_of(const struct fx *f, const char *rel, bool *shared, bool *can_tell)
{
    char *p = tu_path(f->fs.mnt, rel);
    int fd = open(p, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        fail_msg("%s: open %s: %s", f->type, p, strerror(errno));
    bool avail = false;
    json_t *ext = dp_extents_json(fd, &avail);
    assert_true(avail);
    *shared = any_shared(ext);
    json_t *o = wipe_shared_owners(fd, ext, f->type, can_tell);
    assert_non_null(o);
    assert_true(json_is_array(o));
    char *dump = json_dumps(o, 0);
    printf("%s: %s: shared %s, can tell %s, sharers %s\n", f->type, rel, *shared ? "yes" : "no",
           *can_tell ? "yes" : "no", dump);
    free(dump);
    json_decref(ext);
    close(fd);
    free(p);
    return o;
}

static unsigned long long ino_of(const struct fx *f, const char *rel)
{
    char *p = tu_path(f->fs.mnt, rel);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    free(p);
    return (unsigned long long)sb.st_ino;
}

/* The btrfs subvolume id holding a path below the mount. */
static unsigned long long subvol_of(const struct fx *f, const char *rel)
{
    char *p = tu_path(f->fs.mnt, rel);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct btrfs_ioctl_ino_lookup_args a;
    memset(&a, 0, sizeof(a));
    a.objectid = BTRFS_FIRST_FREE_OBJECTID;
    assert_int_equal(ioctl(fd, BTRFS_IOC_INO_LOOKUP, &a), 0);
    close(fd);
    free(p);
    return (unsigned long long)a.treeid;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (hay == NULL || strstr(hay, needle) == NULL)
        fail_msg("'%s' does not contain '%s'", hay ? hay : "(null)", needle);
}

/* ---- a: a reflinked copy outside the root ---- */

static void test_btrfs_reflink_owner(void **state)
{
    struct fx *f = *state;
    need_fs(f);
    tu_write_random(f->fs.mnt, "root/photo.jpg", MATCH_SIZE, 7001);
    tu_write_random(f->fs.mnt, "root/notes.dat", KEEP_SIZE, 7002);
    reflink(f, "root/photo.jpg", "outside/copy.jpg");
    sync();
    bool shared, can;
    json_t *o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(shared);
    assert_true(can);
    assert_int_equal(json_array_size(o), 1);
    const char *s = json_string_value(json_array_get(o, 0));
    char want[96];
    snprintf(want, sizeof(want), "inode %llu in subvolume 5: ", ino_of(f, "outside/copy.jpg"));
    assert_contains(s, want);
    assert_contains(s, "outside/copy.jpg");
    json_decref(o);

    /* and the other way round: the copy is shared with the target */
    o = owners_of(f, "outside/copy.jpg", &shared, &can);
    assert_true(shared && can);
    assert_int_equal(json_array_size(o), 1);
    assert_contains(json_string_value(json_array_get(o, 0)), "root/photo.jpg");
    json_decref(o);

    /* nothing shared: nobody to name, and that is known */
    o = owners_of(f, "root/notes.dat", &shared, &can);
    assert_false(shared);
    assert_true(can);
    assert_int_equal(json_array_size(o), 0);
    json_decref(o);

    /* a hard link of the target is the target itself, not a sharer; a hard link of the copy
     * is one more name of the same sharer */
    char *t = tu_path(f->fs.mnt, "root/photo.jpg"), *tl = tu_path(f->fs.mnt, "root/photo2.jpg");
    char *c = tu_path(f->fs.mnt, "outside/copy.jpg"), *cl = tu_path(f->fs.mnt, "elsewhere.jpg");
    assert_int_equal(link(t, tl), 0);
    assert_int_equal(link(c, cl), 0);
    o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(can);
    assert_int_equal(json_array_size(o), 1);
    s = json_string_value(json_array_get(o, 0));
    assert_contains(s, "outside/copy.jpg");
    assert_contains(s, "elsewhere.jpg");
    json_decref(o);
    free(t);
    free(tl);
    free(c);
    free(cl);
}

/* Odd extent lists never crash it, and what cannot be looked up is not claimed known. */
static void odd_extents(const struct fx *f)
{
    tu_write_random(f->fs.mnt, "root/odd.jpg", MATCH_SIZE, 7101);
    char *p = tu_path(f->fs.mnt, "root/odd.jpg");
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    bool can = false;
    json_t *ext = json_pack("[{s:I, s:i}, {s:s, s:i}, i, {s:i}, {s:I, s:i}, {s:I, s:i}]",
                            "physical", (json_int_t)1 << 60, "flags", FIEMAP_EXTENT_SHARED,
                            "physical", "x", "flags", FIEMAP_EXTENT_SHARED, 5, "flags",
                            FIEMAP_EXTENT_SHARED, "physical", (json_int_t)-4096, "flags",
                            FIEMAP_EXTENT_SHARED, "physical", (json_int_t)4096, "flags",
                            FIEMAP_EXTENT_SHARED | FIEMAP_EXTENT_DATA_INLINE);
    json_t *o = wipe_shared_owners(fd, ext, "btrfs", &can);
    assert_non_null(o);
    assert_false(can);
    assert_int_equal(json_array_size(o), 0);
    json_decref(o);
    json_decref(ext);
    /* not an array, or nothing flagged shared: nothing to tell */
    ext = json_object();
    o = wipe_shared_owners(fd, ext, "btrfs", &can);
    assert_true(can);
    assert_int_equal(json_array_size(o), 0);
    json_decref(o);
    json_decref(ext);
    /* another filesystem kind with a shared extent: cannot tell */
    ext = json_pack("[{s:I, s:i}]", "physical", (json_int_t)1 << 20, "flags",
                    FIEMAP_EXTENT_SHARED);
    o = wipe_shared_owners(fd, ext, "xfs", &can);
    assert_false(can);
    assert_int_equal(json_array_size(o), 0);
    json_decref(o);
    json_decref(ext);
    close(fd);
    free(p);
}

/* More sharers than are named: 16, then "... and N more"; then odd extent lists. */
static void test_btrfs_many_owners(void **state)
{
    struct fx *f = *state;
    need_fs(f);
    tu_write_random(f->fs.mnt, "root/photo.jpg", MATCH_SIZE, 7201);
    for (int i = 0; i < 20; i++) {
        char d[64];
        snprintf(d, sizeof(d), "outside/copy%02d.jpg", i);
        reflink(f, "root/photo.jpg", d);
    }
    sync();
    bool shared, can;
    json_t *o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(shared && can);
    assert_int_equal(json_array_size(o), 17);
    for (size_t i = 0; i < 16; i++)
        assert_contains(json_string_value(json_array_get(o, i)), "outside/copy");
    assert_string_equal(json_string_value(json_array_get(o, 16)), "... and 4 more");
    json_decref(o);
    odd_extents(f);
}

/* The kernel refusing, lacking v2, or answering in part. */
static void test_btrfs_lookup_failures(void **state)
{
    struct fx *f = *state;
    need_fs(f);
    tu_write_random(f->fs.mnt, "root/photo.jpg", MATCH_SIZE, 7501);
    for (int i = 0; i < 3; i++) {
        char d[64];
        snprintf(d, sizeof(d), "outside/copy%d.jpg", i);
        reflink(f, "root/photo.jpg", d);
    }
    sync();
    bool shared, can;

    /* before 4.15: v1, asked once v2 is unknown, finds the same sharers */
    io_set(IO_NO_V2);
    json_t *o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(can);
    assert_int_equal(io_v2_calls, 1);
    assert_true(io_v1_calls >= 1);
    assert_int_equal(json_array_size(o), 3);
    assert_contains(json_string_value(json_array_get(o, 2)), "outside/copy2.jpg");
    json_decref(o);

    /* refused: nobody named, and not claimed known */
    io_set(IO_EPERM);
    o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(shared);
    assert_false(can);
    assert_int_equal(json_array_size(o), 0);
    json_decref(o);

    /* the kernel says it needed more room: asked again with enough */
    io_set(IO_SHRINK_ONCE);
    o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(can);
    assert_true(io_v2_calls >= 2);
    assert_int_equal(json_array_size(o), 3);
    json_decref(o);

    /* v1 cannot be given more room: what it listed, and that the list is incomplete */
    io_set(IO_V1_SHRINK);
    o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(can);
    size_t n = json_array_size(o);
    assert_true(n >= 1 && n <= 2);
    assert_contains(json_string_value(json_array_get(o, n - 1)), "... and ");
    json_decref(o);

    /* names unavailable: the sharer is still counted, by inode */
    io_set(IO_NO_PATHS);
    o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(can);
    assert_int_equal(json_array_size(o), 3);
    assert_contains(json_string_value(json_array_get(o, 0)), "in subvolume 5 (no name found)");
    json_decref(o);
    io_set(IO_REAL);
}

/* ---- b: a snapshot keeps the extents ---- */

static void test_btrfs_snapshot_owner(void **state)
{
    struct fx *f = *state;
    need_fs(f);
    if (!tu_have("btrfs")) {
        printf("btrfs: skipped: the btrfs tool (btrfs-progs) is not installed\n");
        skip();
    }
    if (tu_sh("btrfs -q subvolume create '%s/vol' >/dev/null && mkdir -p '%s/snaps'",
              f->fs.mnt, f->fs.mnt) != 0)
        fail_msg("btrfs: cannot create a subvolume");
    tu_write_random(f->fs.mnt, "vol/pics/a.jpg", MATCH_SIZE, 7301);
    sync();
    if (tu_sh("btrfs -q subvolume snapshot -r '%s/vol' '%s/snaps/s1' >/dev/null", f->fs.mnt,
              f->fs.mnt) != 0)
        fail_msg("btrfs: cannot snapshot the subvolume");
    sync();
    unsigned long long vol = subvol_of(f, "vol"), snap = subvol_of(f, "snaps/s1");
    unsigned long long ino = ino_of(f, "vol/pics/a.jpg");
    bool shared, can;
    json_t *o = owners_of(f, "vol/pics/a.jpg", &shared, &can);
    assert_true(shared);
    assert_true(can);
    assert_int_equal(json_array_size(o), 1);
    const char *s = json_string_value(json_array_get(o, 0));
    char want[128];
    snprintf(want, sizeof(want), "inode %llu in subvolume %llu (a snapshot, at 'snaps/s1'", ino,
             snap);
    assert_contains(s, want);
    assert_contains(s, ": pics/a.jpg");
    json_decref(o);

    /* seen from the snapshot: the sharer is the original subvolume, not a snapshot (the
     * snapshot is read-only: owners_of opens O_RDWR, so look from a writable snapshot) */
    if (tu_sh("btrfs -q subvolume snapshot '%s/snaps/s1' '%s/s2' >/dev/null", f->fs.mnt,
              f->fs.mnt) != 0)
        fail_msg("btrfs: cannot snapshot the snapshot");
    sync();
    o = owners_of(f, "s2/pics/a.jpg", &shared, &can);
    assert_true(shared && can);
    assert_int_equal(json_array_size(o), 2);
    char v[128], sn[128];
    snprintf(v, sizeof(v), "inode %llu in subvolume %llu (at 'vol' from the top level): pics/a.jpg",
             ino, vol);
    snprintf(sn, sizeof(sn), "in subvolume %llu (a snapshot, at 'snaps/s1'", snap);
    assert_string_equal(json_string_value(json_array_get(o, 0)), v);
    assert_contains(json_string_value(json_array_get(o, 1)), sn);
    json_decref(o);
}

/* ---- c: end to end through the CLI ---- */

/* Record a failed expectation and go on, so one run reports all of them. */
static int check(bool ok, const char *type, const char *what)
{
    printf("%s: %s: %s\n", type, ok ? "ok" : "FAILED", what);
    return ok ? 0 : 1;
}

static bool mentions(const json_t *t, const char *needle)
{
    const char *reason = json_string_value(json_object_get(t, "reason"));
    if (reason != NULL && strstr(reason, needle) != NULL)
        return true;
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(t, "assurance_facts"), i, s)
        if (json_string_value(s) != NULL && strstr(json_string_value(s), needle) != NULL)
            return true;
    return false;
}

static void run_e2e(struct fx *f)
{
    need_fs(f);
    const char *mnt = f->fs.mnt;
    tu_write_random(mnt, "root/photo.jpg", MATCH_SIZE, 7401);
    tu_write_random(mnt, "root/keep/notes.dat", KEEP_SIZE, 7402);
    reflink(f, "root/photo.jpg", "outside/copy.jpg");
    sync();
    char *target = tu_path(mnt, "root/photo.jpg"), *copy = tu_path(mnt, "outside/copy.jpg");
    char *keep = tu_path(mnt, "root/keep/notes.dat"), *root = tu_path(mnt, "root");
    char match_sha[65], copy_sha[65], keep_sha[65], sha[65];
    assert_true(tu_sha256_hex(target, match_sha));
    assert_true(tu_sha256_hex(copy, copy_sha));
    assert_true(tu_sha256_hex(keep, keep_sha));
    assert_string_equal(match_sha, copy_sha);

    /* what the engine will be told before its overwrite */
    bool shared, can;
    json_t *o = owners_of(f, "root/photo.jpg", &shared, &can);
    assert_true(shared);
    if (strcmp(f->type, "btrfs") == 0)
        assert_true(can && json_array_size(o) == 1);
    else
        assert_true(!can && json_array_size(o) == 0);
    json_decref(o);

    char list[128];
    snprintf(list, sizeof(list), "sha256:%s\n", match_sha);
    tu_write(f->work, "victims.hashes", list, strlen(list));
    char *listp = tu_path(f->work, "victims.hashes"), *cert = tu_path(f->work, "cert.json");
    char *pub = tu_path(f->work, "key.pub"), *sec = tu_path(f->work, "key.sec");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    if (r.status != 0)
        fail_msg("keygen failed (%d): %s", r.status, r.err);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "run", "--hashes", listp, "--key", sec, "-o", cert, "--order",
               "ORD-2026-0014", "--exhibit", "EX-SHARED-1", "--officer", "Test Officer", "--yes",
               root, NULL);
    printf("%s: deprive run exit %d\nstderr:\n%s\n", f->type, r.status, r.err);
    int run_status = r.status;
    tu_run_free(&r);
    if (access(cert, F_OK) != 0)
        fail_msg("%s: deprive run wrote no certificate (exit %d)", f->type, run_status);

    int bad = 0;
    json_t *c = tu_load_json(cert);
    const char *result = json_string_value(json_object_get(json_object_get(c, "outcome"),
                                                           "result"));
    const json_t *targets = json_object_get(c, "targets");
    const json_t *t = json_array_get(targets, 0);
    const char *status = json_string_value(json_object_get(t, "status"));
    const char *level = json_string_value(json_object_get(t, "assurance"));
    char *facts = json_dumps(json_object_get(t, "assurance_facts"), 0);
    printf("%s: certificate: outcome %s; target status %s, assurance %s, reason %s, facts %s\n",
           f->type, result ? result : "(none)", status ? status : "(none)",
           level ? level : "(none)",
           json_string_value(json_object_get(t, "reason")) ? json_string_value(
                                                                 json_object_get(t, "reason"))
                                                           : "(none)",
           facts ? facts : "(none)");
    free(facts);
    bad += check(json_array_size(targets) == 1, f->type, "one target in the certificate");
    bad += check(status != NULL && strcmp(status, "failed") == 0, f->type,
                 "target status is \"failed\"");
    bad += check(level != NULL && strcmp(level, "shared-extents-remain") == 0, f->type,
                 "target assurance is \"shared-extents-remain\"");
    bad += check(result != NULL && strcmp(result, "ERASED") != 0, f->type,
                 "outcome.result is not ERASED");
    bad += check(run_status == 1, f->type, "deprive run exits 1 (not everything erased)");
    if (strcmp(f->type, "btrfs") == 0)
        bad += check(mentions(t, "outside/copy.jpg"), f->type,
                     "the target's reason or assurance facts name outside/copy.jpg");
    tu_deprive(&r, NULL, "verify", "-p", pub, cert, NULL);
    bad += check(r.status == 0, f->type, "deprive verify accepts the certificate");
    if (r.status != 0)
        printf("%s: verify exit %d: %s%s\n", f->type, r.status, r.out, r.err);
    tu_run_free(&r);
    json_decref(c);

    /* the sharer and the non-matching file, read back from the device */
    tu_fs_umount(&f->fs);
    assert_true(tu_fs_mount(&f->fs, true));
    bad += check(tu_sha256_hex(copy, sha) && strcmp(sha, copy_sha) == 0, f->type,
                 "the reflinked copy outside the root is byte-identical");
    bad += check(tu_sha256_hex(keep, sha) && strcmp(sha, keep_sha) == 0, f->type,
                 "the non-matching file is byte-identical");
    tu_fs_umount(&f->fs);
    free(target);
    free(copy);
    free(keep);
    free(root);
    free(listp);
    free(cert);
    free(pub);
    free(sec);
    if (bad > 0)
        fail_msg("%s: %d expectation(s) about a target with shared extents failed", f->type, bad);
}

static void test_btrfs_run(void **state)
{
    run_e2e(*state);
}

static void test_xfs_run(void **state)
{
    run_e2e(*state);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_btrfs_reflink_owner, setup, teardown,
                                                 &fx_btrfs_reflink),
        cmocka_unit_test_prestate_setup_teardown(test_btrfs_many_owners, setup, teardown,
                                                 &fx_btrfs_many),
        cmocka_unit_test_prestate_setup_teardown(test_btrfs_lookup_failures, setup, teardown,
                                                 &fx_btrfs_failures),
        cmocka_unit_test_prestate_setup_teardown(test_btrfs_snapshot_owner, setup, teardown,
                                                 &fx_btrfs_snapshot),
        cmocka_unit_test_prestate_setup_teardown(test_btrfs_run, setup, teardown,
                                                 &fx_btrfs_run),
        cmocka_unit_test_prestate_setup_teardown(test_xfs_run, setup, teardown, &fx_xfs_run),
    };
    /* DP_TEST_FILTER=test_xfs_run runs one case */
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
