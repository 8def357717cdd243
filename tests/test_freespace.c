/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: `deprive run --wipe-free-space` on ext4 reaches the blocks of a file deleted
 * before the run (the reserved clusters are lowered for the fill, journaled and restored), and
 * a resume after a crash restores the reserve the journal saved. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define IMAGE_MB 64
#define DELETED_SIZE (2u * 1024 * 1024) /* a file deleted with rm before the run */
#define DELETED_SEED 7777u
#define VICTIM_SIZE (20u * 1024)
#define VICTIM_SEED 4711u
#define PROBES 64
#define WINDOW 32

struct fx {
    struct tu_fs fs;
    bool ready;
    char *work;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->ready = tu_fs_create(&f->fs, "ext4", IMAGE_MB);
    if (f->ready)
        f->work = tu_mkdtemp();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tu_fs_destroy(&f->fs);
    if (f->work != NULL) {
        tu_rm_rf(f->work);
        free(f->work);
    }
    free(f);
    return 0;
}

/* ---- the ext4 reserve in sysfs ---- */

/* The block device name ("loop3") of the filesystem mounted at mnt. */
static void block_name(const char *mnt, char *out, size_t size)
{
    struct stat sb;
    assert_int_equal(stat(mnt, &sb), 0);
    char link[64], real[PATH_MAX];
    snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(sb.st_dev), minor(sb.st_dev));
    assert_non_null(realpath(link, real));
    snprintf(out, size, "%s", strrchr(real, '/') + 1);
}

/* /sys/fs/ext4/<block device>/reserved_clusters of the filesystem mounted at mnt. */
static void reserve_path(const char *mnt, char *out, size_t size)
{
    char name[64];
    block_name(mnt, name, sizeof(name));
    snprintf(out, size, "/sys/fs/ext4/%s/reserved_clusters", name);
}

/* Make the loop device refuse discard, like a hard disk: otherwise the FITRIM after the fill
 * punches the free blocks out of the image file and hides whatever the fill missed. */
static void disable_discard(const char *mnt)
{
    char name[64], path[128];
    block_name(mnt, name, sizeof(name));
    snprintf(path, sizeof(path), "/sys/block/%s/queue/discard_max_bytes", name);
    FILE *fp = fopen(path, "we");
    if (fp == NULL)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fprintf(fp, "0\n");
    assert_int_equal(fclose(fp), 0);
}

static unsigned long long read_reserve(const char *path)
{
    FILE *fp = fopen(path, "re");
    if (fp == NULL)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    unsigned long long v = 0;
    assert_int_equal(fscanf(fp, "%llu", &v), 1);
    fclose(fp);
    return v;
}

static void write_reserve(const char *path, unsigned long long v)
{
    FILE *fp = fopen(path, "we");
    if (fp == NULL)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fprintf(fp, "%llu\n", v);
    assert_int_equal(fclose(fp), 0);
}

/* ---- probing the raw image ---- */

static uint32_t h4(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return (v * 2654435761u) >> 8; /* 24 bits */
}

/* How many of the n windows occur anywhere in the image: one pass with a bitmap of the
 * windows' first four bytes as a filter (as tests/test_loopfs.c does). */
static size_t count_present(const char *image, const unsigned char *const *win, size_t n)
{
    int fd = open(image, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    size_t size = (size_t)sb.st_size;
    const unsigned char *img = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(img != MAP_FAILED);
    close(fd);
    uint8_t *bits = calloc(1u << 21, 1);
    bool *found = calloc(n, sizeof(*found));
    assert_non_null(bits);
    assert_non_null(found);
    for (size_t i = 0; i < n; i++) {
        uint32_t h = h4(win[i]);
        bits[h >> 3] |= (uint8_t)(1u << (h & 7));
    }
    for (size_t off = 0; off + WINDOW <= size; off++) {
        uint32_t h = h4(img + off);
        if (!(bits[h >> 3] & (1u << (h & 7))))
            continue;
        for (size_t i = 0; i < n; i++)
            if (!found[i] && memcmp(img + off, win[i], WINDOW) == 0)
                found[i] = true;
    }
    size_t hits = 0;
    for (size_t i = 0; i < n; i++)
        hits += found[i];
    munmap((void *)img, size);
    free(bits);
    free(found);
    return hits;
}

/* PROBES windows spread evenly over data (one per slice, at a pseudo-random place in it). */
static void pick_windows(const unsigned char *data, size_t len, const unsigned char **win)
{
    size_t slice = len / PROBES;
    srandom(2024);
    for (size_t p = 0; p < PROBES; p++)
        win[p] = data + p * slice + (size_t)random() % (slice - WINDOW + 1);
}

/* ---- helpers around the CLI ---- */

/* Journal records of the given type, in order. Returns a new array of their data objects. */
static json_t *journal_records(const char *path, const char *type)
{
    json_t *out = json_array();
    FILE *fp = fopen(path, "re");
    if (fp == NULL)
        fail_msg("cannot open the journal %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_t *rec = json_loads(line, 0, NULL);
        assert_non_null(rec);
        if (strcmp(json_string_value(json_object_get(rec, "type")), type) == 0)
            json_array_append(out, json_object_get(rec, "data"));
        json_decref(rec);
    }
    free(line);
    fclose(fp);
    return out;
}

/* Cut the journal after the first record of the given type: what a crash right after that
 * record leaves (a prefix of a valid chain is a valid chain). */
static void cut_journal_after(const char *path, const char *type)
{
    size_t len = 0;
    char *all = tu_read(path, &len);
    assert_non_null(all);
    char needle[64];
    snprintf(needle, sizeof(needle), "\"type\":\"%s\"", type);
    char *hit = strstr(all, needle);
    if (hit == NULL)
        fail_msg("the journal has no %s record", type);
    char *eol = strchr(hit, '\n');
    assert_non_null(eol);
    assert_int_equal(truncate(path, (off_t)(eol + 1 - all)), 0);
    free(all);
}

static void keygen(const char *work)
{
    char *pub = tu_path(work, "key.pub"), *sec = tu_path(work, "key.sec");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    if (r.status != 0)
        fail_msg("keygen failed (%d): %s", r.status, r.err);
    tu_run_free(&r);
    free(pub);
    free(sec);
}

/* One matching file and its hash list (victims.hashes in the work directory). */
static char *plant_victim(struct fx *f)
{
    tu_write_random(f->fs.mnt, "VictimPhoto.jpg", VICTIM_SIZE, VICTIM_SEED);
    char *victim = tu_path(f->fs.mnt, "VictimPhoto.jpg"), hex[65], list[128];
    assert_true(tu_sha256_hex(victim, hex));
    free(victim);
    snprintf(list, sizeof(list), "sha256:%s\n", hex);
    tu_write(f->work, "victims.hashes", list, strlen(list));
    keygen(f->work);
    return tu_path(f->work, "victims.hashes");
}

/* Write kept data until only about `leave` blocks of the filesystem are free. The reserve is
 * lowered while doing it (and put back): a device that filled up in use, then the suspect
 * deleted a file, so the only free blocks are that file's. That is the case the reserve hurts
 * most: the blocks ext4 holds back from every writer are then the deleted file's. */
static void fill_with_kept(struct fx *f, const char *rpath, uint64_t leave, char sha[65])
{
    unsigned long long resv = read_reserve(rpath);
    write_reserve(rpath, 0);
    struct statvfs sv;
    assert_int_equal(statvfs(f->fs.mnt, &sv), 0);
    uint64_t want = (uint64_t)sv.f_bfree > leave ? ((uint64_t)sv.f_bfree - leave) * sv.f_bsize : 0;
    char *p = tu_path(f->fs.mnt, "kept/archive.bin");
    assert_int_equal(tu_sh("mkdir -p '%s/kept'", f->fs.mnt), 0);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    enum { CHUNK = 1024 * 1024 };
    unsigned char *buf = tu_random_bytes(CHUNK, 99);
    for (uint64_t off = 0; off < want;) {
        size_t n = want - off < CHUNK ? (size_t)(want - off) : CHUNK;
        buf[0] = (unsigned char)(off >> 20); /* no two chunks alike */
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == ENOSPC)
            break;
        assert_true(w > 0);
        off += (uint64_t)w;
    }
    assert_int_equal(fsync(fd), 0);
    close(fd);
    free(buf);
    sync();
    write_reserve(rpath, resv);
    assert_true(tu_sha256_hex(p, sha));
    free(p);
    assert_int_equal(statvfs(f->fs.mnt, &sv), 0);
    printf("ext4: kept data written; %llu blocks of %lu bytes free\n",
           (unsigned long long)sv.f_bfree, (unsigned long)sv.f_bsize);
}

/* The nearly full device: a file written, the matching file, kept data filling the rest,
 * then the first file deleted with rm. Returns the deleted file's content; *listp the hash
 * list. */
static unsigned char *prepare_full(struct fx *f, const char *rpath, char kept_sha[65], char **listp)
{
    tu_write_random(f->fs.mnt, "old/holiday.mov", DELETED_SIZE, DELETED_SEED);
    *listp = plant_victim(f);
    sync();
    fill_with_kept(f, rpath, 64, kept_sha);
    char *old = tu_path(f->fs.mnt, "old/holiday.mov");
    assert_int_equal(unlink(old), 0);
    free(old);
    sync();
    return tu_random_bytes(DELETED_SIZE, DELETED_SEED);
}

static void run_with_fill(struct fx *f, const char *listp, const char *cert)
{
    char *sec = tu_path(f->work, "key.sec");
    struct tu_run r;
    tu_deprive(&r, NULL, "run", "--hashes", listp, "--key", sec, "-o", cert, "--order",
               "ORD-2026-0014", "--exhibit", "EX-FREE-1", "--officer", "Test Officer", "--yes",
               "--wipe-free-space", f->fs.mnt, NULL);
    if (r.status != 0)
        fail_msg("deprive run failed (exit %d)\nstdout:\n%s\nstderr:\n%s", r.status, r.out, r.err);
    tu_run_free(&r);
    free(sec);
}

static void print_free_space(const char *what, const json_t *fsp)
{
    char *s = json_dumps(fsp, JSON_COMPACT | JSON_SORT_KEYS);
    printf("%s: free_space %s\n", what, s ? s : "(null)");
    free(s);
}

/* ---- the tests ---- */

static void test_fill_reaches_deleted_file(void **state)
{
    struct fx *f = *state;
    if (!f->ready) {
        printf("ext4: skipped: no ext4 loop image could be made and mounted here\n");
        skip();
    }
    char rpath[256];
    reserve_path(f->fs.mnt, rpath, sizeof(rpath));
    unsigned long long before = read_reserve(rpath);
    printf("ext4: %s = %llu before the run\n", rpath, before);
    assert_true(before > 0);
    char *listp = NULL, kept_sha[65];
    unsigned char *data = prepare_full(f, rpath, kept_sha, &listp);
    const unsigned char *win[PROBES];
    pick_windows(data, DELETED_SIZE, win);

    /* positive control: the deleted file's content is in the image before the run */
    tu_fs_umount(&f->fs);
    size_t control = count_present(f->fs.image, win, PROBES);
    printf("ext4: control: %zu of %d windows of the deleted file in the image before the run\n",
           control, PROBES);
    assert_int_equal(control, PROBES);
    assert_true(tu_fs_mount(&f->fs, false));
    reserve_path(f->fs.mnt, rpath, sizeof(rpath)); /* the same loop device, but be sure */
    unsigned long long mounted = read_reserve(rpath);

    disable_discard(f->fs.mnt);
    char *cert = tu_path(f->work, "cert.json");
    run_with_fill(f, listp, cert);
    unsigned long long after = read_reserve(rpath);
    printf("ext4: reserved_clusters %llu after the run (%llu before)\n", after, mounted);

    tu_fs_umount(&f->fs);
    size_t left = count_present(f->fs.image, win, PROBES);
    printf("ext4: %zu of %d windows of the deleted file still in the image after the run\n", left,
           PROBES);
    /* running the filesystem out of every block, reserve included, must not damage it */
    if (tu_have("e2fsck"))
        assert_int_equal(tu_sh("e2fsck -fn '%s' >/dev/null 2>&1", f->fs.image), 0);

    char *wipep = tu_path(f->work, "cert.json.wipe.json");
    char *jpath = tu_path(f->work, "cert.json.journal");
    json_t *w = tu_load_json(wipep), *c = tu_load_json(cert);
    const json_t *fsp = tu_jget(w, "cleanup.free_space");
    print_free_space("wipe result", fsp);
    char *cp = json_dumps(tu_jget(w, "cleanup.ext4_checkpoint"), JSON_COMPACT);
    printf("ext4: ext4_checkpoint %s\n", cp ? cp : "(null)");
    free(cp);
    json_t *lowered = journal_records(jpath, "reserve-lowered");
    json_t *restored = journal_records(jpath, "reserve-restored");
    printf("ext4: journal: %zu reserve-lowered, %zu reserve-restored\n", json_array_size(lowered),
           json_array_size(restored));

    assert_int_equal(left, 0);
    assert_int_equal(after, mounted);
    assert_int_equal(json_array_size(lowered), 1);
    assert_int_equal(json_array_size(restored), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(lowered, 0), "value")),
                     (json_int_t)mounted);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lowered, 0), "path")),
                        rpath);
    assert_string_equal(json_string_value(json_object_get(fsp, "trim")), "unsupported");
    assert_true(json_is_true(json_object_get(fsp, "done")));
    assert_true(json_is_true(json_object_get(fsp, "verified")));
    assert_true(json_is_integer(json_object_get(fsp, "unfilled_bytes")));
    assert_int_equal(json_integer_value(json_object_get(fsp, "unfilled_bytes")), 0);
    assert_true(json_integer_value(json_object_get(fsp, "bytes")) >= (json_int_t)DELETED_SIZE);
    assert_true(json_is_true(tu_jget(fsp, "reserve.lowered")));
    assert_true(json_is_true(tu_jget(fsp, "reserve.restored")));
    assert_int_equal(json_integer_value(tu_jget(fsp, "reserve.value")), (json_int_t)mounted);
    /* the certificate carries the same facts */
    const json_t *cfsp = tu_jget(c, "outcome.wipe.cleanup.free_space");
    assert_true(json_equal((json_t *)fsp, (json_t *)cfsp));
    assert_string_equal(json_string_value(tu_jget(c, "outcome.result")), "ERASED");
    /* the journal with its reserve records still verifies against the certificate */
    char *pub = tu_path(f->work, "key.pub");
    struct tu_run vr;
    tu_deprive(&vr, NULL, "verify", "-p", pub, "--journal", jpath, cert, NULL);
    if (vr.status != 0)
        fail_msg("deprive verify failed (exit %d): %s%s", vr.status, vr.out, vr.err);
    tu_run_free(&vr);
    free(pub);
    /* the fill files are gone, the kept data is untouched */
    assert_true(tu_fs_mount(&f->fs, true));
    assert_int_equal(tu_sh("test -z \"$(ls -A %s | grep deprive-fill)\"", f->fs.mnt), 0);
    char *kept = tu_path(f->fs.mnt, "kept/archive.bin"), sha[65];
    assert_true(tu_sha256_hex(kept, sha));
    assert_string_equal(sha, kept_sha);
    free(kept);
    tu_fs_umount(&f->fs);

    json_decref(lowered);
    json_decref(restored);
    json_decref(w);
    json_decref(c);
    free(wipep);
    free(jpath);
    free(cert);
    free(listp);
    free(data);
}

/* A crash right after "reserve-lowered" leaves the reserve at 0 (the sysfs value lives in
 * memory while the filesystem stays mounted); `deprive wipe --resume` must put back the value
 * the journal saved. The crash is made deterministic by cutting a complete journal after that
 * record: the same bytes a kill at that moment leaves. */
static void test_resume_restores_reserve(void **state)
{
    struct fx *f = *state;
    if (!f->ready) {
        printf("ext4: skipped: no ext4 loop image could be made and mounted here\n");
        skip();
    }
    char rpath[256];
    reserve_path(f->fs.mnt, rpath, sizeof(rpath));
    const unsigned long long saved = 1000; /* distinct from the default, to tell them apart */
    write_reserve(rpath, saved);
    char *listp = plant_victim(f);
    char *cert = tu_path(f->work, "cert.json");
    run_with_fill(f, listp, cert);
    assert_int_equal(read_reserve(rpath), saved);

    char *jpath = tu_path(f->work, "cert.json.journal");
    char *plan = tu_path(f->work, "cert.json.plan.json");
    char *out = tu_path(f->work, "resumed.wipe.json");
    cut_journal_after(jpath, "reserve-lowered");
    write_reserve(rpath, 0); /* as the crash left it */
    struct tu_run r;
    tu_deprive(&r, NULL, "wipe", "--resume", "--hashes", listp, "--journal", jpath, "-o", out,
               "--order", "ORD-2026-0014", "--yes", plan, NULL);
    if (r.status != 0)
        fail_msg("deprive wipe --resume failed (exit %d)\nstdout:\n%s\nstderr:\n%s", r.status,
                 r.out, r.err);
    tu_run_free(&r);
    unsigned long long now = read_reserve(rpath);
    printf("ext4: reserved_clusters %llu after the resume (journal saved %llu)\n", now, saved);
    assert_int_equal(now, saved);
    json_t *lowered = journal_records(jpath, "reserve-lowered");
    json_t *restored = journal_records(jpath, "reserve-restored");
    assert_int_equal(json_array_size(lowered), 1);
    assert_int_equal(json_array_size(restored), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(restored, 0), "path")),
                        rpath);
    json_t *w = tu_load_json(out);
    assert_int_equal(json_integer_value(tu_jget(w, "summary.erased")), 1);
    json_decref(w);
    json_decref(lowered);
    json_decref(restored);
    free(jpath);
    free(plan);
    free(out);
    free(cert);
    free(listp);
}

static bool file_has(const char *path, const char *needle)
{
    size_t len = 0;
    char *b = tu_read(path, &len);
    bool has = b != NULL && strstr(b, needle) != NULL;
    free(b);
    return has;
}

/* A real crash: `deprive run --wipe-free-space` is stopped the moment its journal holds
 * "reserve-lowered" (the fill is then running), and killed. The reserve stays 0 and fill files
 * stay behind; `deprive wipe --resume --wipe-free-space` must put the reserve back, remove the
 * stale fill files and fill again. */
static void test_kill_during_fill(void **state)
{
    struct fx *f = *state;
    if (!f->ready) {
        printf("ext4: skipped: no ext4 loop image could be made and mounted here\n");
        skip();
    }
    char rpath[256];
    reserve_path(f->fs.mnt, rpath, sizeof(rpath));
    unsigned long long saved = read_reserve(rpath);
    char *listp = plant_victim(f);
    /* a file the device came with that merely looks like a fill file: never removed */
    tu_write(f->fs.mnt, ".deprive-fill-0123456789ab", "evidence\n", 9);
    sync();
    char *cert = tu_path(f->work, "cert.json"), *sec = tu_path(f->work, "key.sec");
    char *jpath = tu_path(f->work, "cert.json.journal");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        dup2(dn, 0);
        dup2(dn, 1);
        dup2(dn, 2);
        char *argv[] = {(char *)DP_TEST_BIN, "run", "--hashes", listp, "--key", sec, "-o", cert,
                        "--order", "ORD-2026-0014", "--exhibit", "EX-FREE-1", "--officer",
                        "Test Officer", "--yes", "--wipe-free-space", f->fs.mnt, NULL};
        execv(argv[0], argv);
        _exit(127);
    }
    bool lowered = false;
    for (int i = 0; i < 60000 && !lowered; i++) { /* up to a minute */
        lowered = file_has(jpath, "\"type\":\"reserve-lowered\"");
        if (!lowered) {
            if (waitpid(pid, NULL, WNOHANG) == pid)
                fail_msg("deprive run ended before its journal held reserve-lowered");
            nanosleep(&(struct timespec){0, 1000000}, NULL);
        }
    }
    kill(pid, SIGSTOP);
    bool restored = file_has(jpath, "\"type\":\"reserve-restored\"");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_true(lowered);
    if (restored)
        fail_msg("the fill finished before the child could be stopped: make it slower");
    unsigned long long crashed = read_reserve(rpath);
    printf("ext4: killed during the fill: reserved_clusters %llu (was %llu)\n", crashed, saved);
    /* the record is journaled before the write of 0: the kill can land on either side of it */
    if (crashed != 0 && crashed != saved)
        fail_msg("reserved_clusters %llu after the kill: neither 0 nor the saved %llu", crashed,
                 saved);
    int stale = tu_sh("ls -A '%s' | grep deprive-fill | grep -qv 0123456789ab", f->fs.mnt) == 0;
    printf("ext4: fill files left by the crash: %s\n", stale ? "yes" : "none");

    char *plan = tu_path(f->work, "cert.json.plan.json");
    char *out = tu_path(f->work, "resumed.wipe.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "wipe", "--resume", "--hashes", listp, "--journal", jpath, "-o", out,
               "--order", "ORD-2026-0014", "--yes", "--wipe-free-space", plan, NULL);
    if (r.status != 0)
        fail_msg("deprive wipe --resume failed (exit %d)\nstdout:\n%s\nstderr:\n%s", r.status,
                 r.out, r.err);
    tu_run_free(&r);
    unsigned long long now = read_reserve(rpath);
    printf("ext4: reserved_clusters %llu after the resume\n", now);
    assert_int_equal(now, saved);
    assert_int_equal(tu_sh("ls -A '%s' | grep deprive-fill | grep -qv 0123456789ab", f->fs.mnt), 1);
    char *planted = tu_path(f->fs.mnt, ".deprive-fill-0123456789ab");
    char *pc = tu_read(planted, NULL);
    if (pc == NULL || strcmp(pc, "evidence\n") != 0)
        fail_msg("a file of the device named like a fill file was removed or changed");
    free(pc);
    free(planted);
    json_t *w = tu_load_json(out);
    const json_t *fsp = tu_jget(w, "cleanup.free_space");
    print_free_space("resumed wipe", fsp);
    assert_true(json_is_true(json_object_get(fsp, "done")));
    assert_int_equal(json_integer_value(json_object_get(fsp, "unfilled_bytes")), 0);
    assert_true(json_is_true(tu_jget(fsp, "reserve.restored")));
    assert_int_equal(json_integer_value(tu_jget(fsp, "reserve.value")), (json_int_t)saved);
    if (stale)
        assert_true(json_integer_value(json_object_get(fsp, "stale_fill_files_removed")) > 0);
    /* the crash's lowering and the resumed fill's: each closed by a restore */
    json_t *lw = journal_records(jpath, "reserve-lowered");
    json_t *rs = journal_records(jpath, "reserve-restored");
    assert_int_equal(json_array_size(lw), 2);
    assert_int_equal(json_array_size(rs), 2);
    json_decref(lw);
    json_decref(rs);
    json_decref(w);
    free(plan);
    free(out);
    free(jpath);
    free(cert);
    free(sec);
    free(listp);
}

/* Where a reserve cannot be reached the result must not say "done": XFS keeps a reserve pool
 * (XFS_IOC_GET_RESBLKS) out of every writer's reach and out of statfs, and deprive does not
 * lower it. The certificate must say how much free space the fill could not overwrite. */
static void test_xfs_reserve_reported(void **state)
{
    struct fx *f = *state;
    if (!f->ready) {
        printf("xfs: skipped: no XFS loop image could be made and mounted here\n");
        skip();
    }
    char *listp = plant_victim(f);
    disable_discard(f->fs.mnt);
    char *cert = tu_path(f->work, "cert.json");
    run_with_fill(f, listp, cert);
    json_t *c = tu_load_json(cert);
    const json_t *fsp = tu_jget(c, "outcome.wipe.cleanup.free_space");
    print_free_space("xfs certificate", fsp);
    assert_true(json_is_true(json_object_get(fsp, "attempted")));
    assert_false(json_is_true(json_object_get(fsp, "done")));
    json_int_t unfilled = json_integer_value(json_object_get(fsp, "unfilled_bytes"));
    assert_true(unfilled >= json_integer_value(tu_jget(fsp, "reserve.hidden_bytes")));
    assert_true(unfilled > 0);
    assert_string_equal(json_string_value(tu_jget(fsp, "reserve.kind")), "xfs-reserved-blocks");
    assert_false(json_is_true(json_object_get(fsp, "unfilled_exact")));
    char want[96];
    snprintf(want, sizeof(want), "could not overwrite at least %lld bytes of free space",
             (long long)unfilled);
    bool stated = false;
    size_t i;
    const json_t *r;
    json_array_foreach(tu_jget(c, "outcome.residual_risks"), i, r)
        stated |= json_is_string(r) && strstr(json_string_value(r), want) != NULL;
    if (!stated)
        fail_msg("no residual risk says '%s'", want);
    json_array_foreach(json_object_get(c, "targets"), i, r)
        assert_string_not_equal(json_string_value(json_object_get(r, "assurance")),
                                "free-space-overwritten");
    struct tu_run sr;
    tu_deprive(&sr, NULL, "show", cert, NULL);
    assert_int_equal(sr.status, 0);
    assert_non_null(strstr(sr.out, want));
    tu_run_free(&sr);
    json_decref(c);
    free(cert);
    free(listp);
}

static int setup_xfs(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->ready = tu_fs_create(&f->fs, "xfs", 320); /* mkfs.xfs wants 300 MiB at least */
    if (f->ready)
        f->work = tu_mkdtemp();
    *state = f;
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fill_reaches_deleted_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_restores_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xfs_reserve_reported, setup_xfs, teardown),
    };
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
