/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: shared helpers (temp trees, owned allocations, running programs, loop-mounted
 * images). */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "deprive/hashset.h"
#include "deprive/journal.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/wipe.h"

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    char *p = tu_path(base, "deprive-test-XXXXXX");
    assert_non_null(mkdtemp(p));
    return p;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        chmod(path, 0700), rmdir(path);
    else
        unlink(path);
    return 0;
}

static int chmod_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if ((flag == FTW_D || flag == FTW_DNR) && !S_ISLNK(st->st_mode))
        chmod(path, 0700);
    return 0;
}

void tu_rm_rf(const char *path)
{
    if (path == NULL || strstr(path, "deprive-") == NULL)
        return; /* only ever remove what a test made */
    nftw(path, chmod_cb, 32, FTW_PHYS | FTW_MOUNT);
    nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

char *tu_path(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static void mkparents(char *p)
{
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
}

void tu_write_file(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    const char *b = buf;
    while (len > 0) {
        ssize_t n = write(fd, b, len);
        assert_true(n > 0);
        b += n;
        len -= (size_t)n;
    }
    assert_int_equal(close(fd), 0);
}

void tu_write(const char *dir, const char *rel, const void *buf, size_t len)
{
    char *p = tu_path(dir, rel);
    mkparents(p);
    tu_write_file(p, buf, len);
    free(p);
}

unsigned char *tu_random_bytes(size_t n, uint32_t seed)
{
    unsigned char *b = malloc(n ? n : 1);
    assert_non_null(b);
    uint64_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (unsigned char)(x >> 24);
    }
    return b;
}

void tu_write_random(const char *dir, const char *rel, size_t n, uint32_t seed)
{
    unsigned char *b = tu_random_bytes(n, seed);
    tu_write(dir, rel, b, n);
    free(b);
}

char *tu_read(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, used = 0;
    char *b = malloc(cap);
    for (;;) {
        if (used + 1 >= cap)
            b = realloc(b, cap *= 2);
        ssize_t n = read(fd, b + used, cap - used - 1);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    b[used] = '\0';
    if (len)
        *len = used;
    return b;
}

void tu_sha256_buf(const void *b, size_t n, char out[65])
{
    unsigned char md[32];
    assert_int_equal(EVP_Digest(b, n, md, NULL, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

bool tu_sha256_hex(const char *path, char out[65])
{
    size_t len;
    char *b = tu_read(path, &len);
    if (b == NULL)
        return false;
    tu_sha256_buf(b, len, out);
    free(b);
    return true;
}

void tu_sha256_file(const char *path, char out[65])
{
    if (!tu_sha256_hex(path, out))
        fail_msg("cannot read %s", path);
}

void tu_need_once(struct tu_once *o, bool (*make)(void), const char *what)
{
    if (!o->tried) {
        o->tried = true;
        o->ok = make();
    }
    if (!o->ok)
        fail_msg("%s could not be made", what);
}

double tu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *drain(int fd)
{
    size_t cap = 4096, used = 0;
    char *b = malloc(cap);
    for (;;) {
        if (used + 1 >= cap)
            b = realloc(b, cap *= 2);
        ssize_t n = read(fd, b + used, cap - used - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    b[used] = '\0';
    return b;
}

void tu_run_argv(struct tu_run *r, char *const argv[], const char *stdin_text)
{
    char outt[] = "/tmp/deprive-out-XXXXXX", errt[] = "/tmp/deprive-err-XXXXXX";
    int ofd = mkstemp(outt), efd = mkstemp(errt);
    assert_true(ofd >= 0 && efd >= 0);
    unlink(outt);
    unlink(errt);
    int in[2];
    assert_int_equal(pipe(in), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(ofd, 1);
        dup2(efd, 2);
        close(in[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    signal(SIGPIPE, SIG_IGN);
    if (stdin_text != NULL) {
        size_t left = strlen(stdin_text);
        while (left > 0) {
            ssize_t n = write(in[1], stdin_text, left);
            if (n <= 0)
                break;
            stdin_text += n;
            left -= (size_t)n;
        }
    }
    close(in[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    lseek(ofd, 0, SEEK_SET);
    lseek(efd, 0, SEEK_SET);
    r->out = drain(ofd);
    r->err = drain(efd);
    close(ofd);
    close(efd);
}

/* argv[64]: the deprive binary, then the arguments up to a NULL (at most 62 of them). */
static void deprive_argv(char **argv, va_list ap)
{
    int n = 0;
    argv[n++] = (char *)DP_TEST_BIN;
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 63)
        argv[n++] = (char *)a;
    argv[n] = NULL;
}

void tu_deprive(struct tu_run *r, const char *stdin_text, ...)
{
    char *argv[64];
    va_list ap;
    va_start(ap, stdin_text);
    deprive_argv(argv, ap);
    va_end(ap);
    tu_run_argv(r, argv, stdin_text);
}

void tu_run_free(struct tu_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

void tu_orun(struct tu_run *r, char *const argv[])
{
    tu_run_argv(r, argv, NULL);
    tu_own(r->out), tu_own(r->err);
}

void tu_odeprive(struct tu_run *r, ...)
{
    char *argv[64];
    va_list ap;
    va_start(ap, r);
    deprive_argv(argv, ap);
    va_end(ap);
    tu_orun(r, argv);
}

void tu_expect_exit(const struct tu_run *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: exit %d, want %d\nstderr: %.3000s\nstdout: %.3000s", what, r->status, status,
                 r->err, r->out);
}

void tu_wipe_argv(char **argv, size_t cap, const struct tu_wipe_args *a)
{
    assert_true(cap >= 16);
    size_t n = 0;
    argv[n++] = (char *)DP_TEST_BIN;
    argv[n++] = (char *)"wipe";
    if (a->resume)
        argv[n++] = (char *)"--resume";
    argv[n++] = (char *)"--yes";
    argv[n++] = (char *)"--order";
    argv[n++] = (char *)a->order;
    argv[n++] = (char *)"--hashes";
    argv[n++] = (char *)a->list;
    argv[n++] = (char *)"--journal";
    argv[n++] = (char *)a->journal;
    argv[n++] = (char *)"-o";
    argv[n++] = (char *)a->out;
    if (a->journal_on_same_fs)
        argv[n++] = (char *)"--journal-on-same-fs";
    for (size_t i = 0; a->extra != NULL && a->extra[i] != NULL && n < cap - 2; i++)
        argv[n++] = (char *)a->extra[i];
    argv[n++] = (char *)a->plan;
    argv[n] = NULL;
}

void tu_owipe(struct tu_run *r, const struct tu_wipe_args *a)
{
    char *argv[32];
    tu_wipe_argv(argv, 32, a);
    tu_orun(r, argv);
}

void tu_expect_status(const json_t *t, const char *want, const char *what)
{
    if (strcmp(tu_jstr(t, "status"), want) != 0)
        fail_msg("%s: status %s (%s), want %s", what, tu_jstr(t, "status"), tu_jstr(t, "reason"),
                 want);
}

int tu_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    fflush(stdout);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

bool tu_have(const char *prog)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
    return system(cmd) == 0;
}

bool tu_can_loop(const char *why_prefix)
{
    if (geteuid() != 0) {
        printf("%s: skipped: needs root for loop devices\n", why_prefix);
        return false;
    }
    if (access("/dev/loop-control", F_OK) != 0) {
        printf("%s: skipped: no /dev/loop-control\n", why_prefix);
        return false;
    }
    return true;
}

/* Every image made is remembered, so a failing test (cmocka longjmps out) still unmounts
 * and detaches at exit. */
#define TU_MAX_FS 16
static struct tu_fs *live_fs[TU_MAX_FS];
static bool atexit_set;

static void cleanup_all(void)
{
    for (int i = 0; i < TU_MAX_FS; i++)
        if (live_fs[i] != NULL)
            tu_fs_destroy(live_fs[i]);
}

static bool is_fuse(const char *type)
{
    return strcmp(type, "vfat") == 0 || strcmp(type, "exfat") == 0 ||
           strcmp(type, "ntfs") == 0;
}

static char loopdev_of[TU_MAX_FS][64];

static int slot_of(struct tu_fs *fs)
{
    for (int i = 0; i < TU_MAX_FS; i++)
        if (live_fs[i] == fs)
            return i;
    return -1;
}

bool tu_fs_mount(struct tu_fs *fs, bool ro)
{
    int slot = slot_of(fs);
    assert_true(slot >= 0);
    char *dev = loopdev_of[slot];
    int rc;
    if (strcmp(fs->type, "vfat") == 0)
        rc = tu_sh("fusefat -o %s %s %s", ro ? "ro" : "rw+", dev, fs->mnt);
    else if (strcmp(fs->type, "exfat") == 0)
        rc = tu_sh("mount.exfat-fuse %s %s %s", ro ? "-o ro" : "", dev, fs->mnt);
    else if (strcmp(fs->type, "ntfs") == 0)
        rc = tu_sh("ntfs-3g %s %s %s", ro ? "-o ro" : "", dev, fs->mnt);
    else if (strcmp(fs->type, "ext4") == 0 && ro)
        rc = tu_sh("mount -t ext4 -o ro,noload %s %s", dev, fs->mnt);
    else
        rc = tu_sh("mount -t %s %s %s %s", fs->type, ro ? "-o ro" : "", dev, fs->mnt);
    fs->mounted = rc == 0;
    if (!fs->mounted)
        printf("mount of %s image failed (rc %d)\n", fs->type, rc);
    return fs->mounted;
}

void tu_fs_umount(struct tu_fs *fs)
{
    if (fs->mounted) {
        sync();
        for (int i = 0; i < 20; i++) {
            if (tu_sh("umount %s 2>/dev/null", fs->mnt) == 0)
                break;
            usleep(100000);
        }
        /* FUSE daemons finish writing after umount returns; wait for them (the pattern's
           first character bracketed, so that it does not match the shell running pgrep,
           whose command line holds the pattern: else every wait lasted the full 5 s) */
        if (is_fuse(fs->type))
            tu_sh("for i in $(seq 50); do pgrep -f '[%c]%s' >/dev/null || break; sleep 0.1; "
                  "done",
                  fs->mnt[0], fs->mnt + 1);
        fs->mounted = false;
    }
}

void tu_fs_destroy(struct tu_fs *fs)
{
    if (fs == NULL || fs->dir == NULL)
        return;
    tu_fs_umount(fs);
    int slot = slot_of(fs);
    if (slot >= 0) {
        if (loopdev_of[slot][0] != '\0')
            tu_sh("losetup -d %s 2>/dev/null", loopdev_of[slot]);
        loopdev_of[slot][0] = '\0';
        live_fs[slot] = NULL;
    }
    tu_rm_rf(fs->dir);
    free(fs->dir);
    free(fs->image);
    free(fs->mnt);
    memset(fs, 0, sizeof(*fs));
}

static const char *mkfs_cmd(const char *type)
{
    if (strcmp(type, "ext4") == 0)
        return "mkfs.ext4 -q -F";
    if (strcmp(type, "xfs") == 0)
        return "mkfs.xfs -q -f";
    if (strcmp(type, "btrfs") == 0)
        return "mkfs.btrfs -q -f";
    if (strcmp(type, "vfat") == 0)
        return "mkfs.vfat";
    if (strcmp(type, "exfat") == 0)
        return "mkfs.exfat";
    if (strcmp(type, "ntfs") == 0)
        return "mkfs.ntfs -q -F -f";
    return NULL;
}

bool tu_fs_create(struct tu_fs *fs, const char *type, unsigned size_mb)
{
    memset(fs, 0, sizeof(*fs));
    const char *mk = mkfs_cmd(type);
    if (mk == NULL || !tu_can_loop(type))
        return false;
    char prog[64];
    snprintf(prog, sizeof(prog), "%s", mk);
    char *sp = strchr(prog, ' ');
    if (sp != NULL)
        *sp = '\0';
    const char *helper = strcmp(type, "vfat") == 0    ? "fusefat"
                         : strcmp(type, "exfat") == 0 ? "mount.exfat-fuse"
                         : strcmp(type, "ntfs") == 0  ? "ntfs-3g"
                                                      : "mount";
    if (!tu_have(prog) || !tu_have(helper)) {
        printf("%s: skipped: %s or %s not installed\n", type, prog, helper);
        return false;
    }
    if (is_fuse(type) && access("/dev/fuse", F_OK) != 0) {
        printf("%s: skipped: no /dev/fuse\n", type);
        return false;
    }
    int slot = -1;
    for (int i = 0; i < TU_MAX_FS; i++)
        if (live_fs[i] == NULL) {
            slot = i;
            break;
        }
    assert_true(slot >= 0);
    if (!atexit_set) {
        atexit(cleanup_all);
        atexit_set = true;
    }
    live_fs[slot] = fs;
    snprintf(fs->type, sizeof(fs->type), "%s", type);
    fs->dir = tu_mkdtemp();
    fs->image = tu_path(fs->dir, "fs.img");
    fs->mnt = tu_path(fs->dir, "mnt");
    mkdir(fs->mnt, 0755);
    if (tu_sh("truncate -s %uM %s && %s %s >/dev/null 2>&1", size_mb, fs->image, mk,
              fs->image) != 0) {
        printf("%s: skipped: mkfs failed\n", type);
        tu_fs_destroy(fs);
        return false;
    }
    FILE *p = NULL;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "losetup -f --show %s", fs->image);
    p = popen(cmd, "r");
    if (p == NULL || fgets(loopdev_of[slot], sizeof(loopdev_of[slot]), p) == NULL) {
        if (p)
            pclose(p);
        printf("%s: skipped: losetup failed\n", type);
        tu_fs_destroy(fs);
        return false;
    }
    pclose(p);
    loopdev_of[slot][strcspn(loopdev_of[slot], "\n")] = '\0';
    if (!tu_fs_mount(fs, false)) {
        printf("%s: skipped: cannot mount a %s image here\n", type, type);
        tu_fs_destroy(fs);
        return false;
    }
    return true;
}

char *tu_fingerprint(const char *root)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && find . -type f -print0 | sort -z | xargs -0 -r sha256sum", root);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, used = 0;
    char *b = calloc(1, cap);
    assert_non_null(b);
    size_t n;
    while ((n = fread(b + used, 1, cap - used - 1, p)) > 0)
        used += n;
    pclose(p);
    return b;
}

json_t *tu_scan_report(const char *root, const char *list_text, struct dp_hashset **set)
{
    struct dp_error e = {0};
    if (*set == NULL) {
        assert_int_equal(dp_hashset_new(set, NULL), DP_OK);
        if (dp_hashset_load_buffer(*set, "list", list_text, strlen(list_text), &e) != DP_OK)
            fail_msg("hash list: %s", e.msg);
        assert_int_equal(dp_hashset_finalize(*set, NULL), DP_OK);
    }
    struct dp_scan_result *r = NULL;
    json_t *doc = NULL;
    if (dp_scan_run(*set, root, NULL, &r, &e) != DP_OK)
        fail_msg("scan of %s failed: %s", root, e.msg);
    assert_int_equal(dp_report_build(r, *set, &doc, NULL), DP_OK);
    dp_scan_result_free(r);
    return doc;
}

json_t *tu_wipe_report(json_t *report, const char *journal_path, const struct dp_wipe_opts *o,
                       bool resume, int want, char *err_out, size_t err_len)
{
    struct dp_plan *plan = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_plan_from_report(report, &plan, &e), DP_OK);
    struct dp_journal *j = NULL;
    struct dp_wipe_state *ws = NULL;
    if (resume) {
        assert_int_equal(dp_wipe_state_new(&ws, NULL), DP_OK);
        if (dp_journal_open(&j, journal_path, dp_wipe_state_visit, ws, NULL, &e) != DP_OK)
            fail_msg("journal: %s", e.msg);
    } else if (!o->dry_run) {
        if (dp_journal_create(&j, journal_path, &e) != DP_OK)
            fail_msg("journal: %s", e.msg);
    }
    json_t *res = NULL;
    enum dp_status st = dp_wipe_run(plan, j, o, ws, &res, &e);
    if ((int)st != want)
        fail_msg("wipe returned %d, wanted %d: %s", (int)st, want, e.msg);
    if (err_out != NULL)
        snprintf(err_out, err_len, "%s", e.msg);
    if (j != NULL)
        assert_int_equal(dp_journal_close(j, &e), DP_OK);
    dp_wipe_state_free(ws);
    dp_plan_free(plan);
    return res;
}

json_t *tu_load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (j == NULL)
        fail_msg("cannot parse %s: %s", path, je.text);
    return j;
}

const json_t *tu_jget(const json_t *o, const char *dotted)
{
    char key[64];
    while (o != NULL && *dotted) {
        size_t n = strcspn(dotted, ".");
        snprintf(key, sizeof(key), "%.*s", (int)n, dotted);
        o = json_object_get(o, key);
        dotted += n + (dotted[n] == '.');
    }
    return o;
}

const char *tu_jstr(const json_t *o, const char *dotted)
{
    const char *s = json_string_value(tu_jget(o, dotted));
    return s ? s : "(none)";
}

/* ---- owned allocations ---- */

#define TU_MAX_OWNED 2048
static void *owned[TU_MAX_OWNED];
static json_t *owned_json[128];
static size_t nowned, nowned_json;

void *tu_own(void *p)
{
    assert_non_null(p);
    if (nowned == TU_MAX_OWNED) {
        free(p);
        fail_msg("more than %d allocations in one test", TU_MAX_OWNED);
    }
    return owned[nowned++] = p;
}

json_t *tu_ownj(json_t *j)
{
    assert_non_null(j);
    if (nowned_json == sizeof(owned_json) / sizeof(owned_json[0])) {
        json_decref(j);
        fail_msg("too many JSON documents in one test");
    }
    return owned_json[nowned_json++] = j;
}

void tu_release_owned(void)
{
    while (nowned > 0)
        free(owned[--nowned]);
    while (nowned_json > 0)
        json_decref(owned_json[--nowned_json]);
}

char *tu_opath(const char *dir, const char *rel)
{
    return tu_own(tu_path(dir, rel));
}

char *tu_ostr(const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    return tu_own(strdup(tmp));
}

unsigned char *tu_oread(const char *path, size_t *len)
{
    unsigned char *b = (unsigned char *)tu_read(path, len);
    if (b == NULL)
        fail_msg("cannot read %s", path);
    return tu_own(b);
}

json_t *tu_oload(const char *path)
{
    return tu_ownj(tu_load_json(path));
}

char *tu_dumps(const json_t *j)
{
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    return tu_own(s != NULL ? s : strdup("null"));
}
