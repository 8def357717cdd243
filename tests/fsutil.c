/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: loop images per test, raw-image window probes, a wipe killed at a journal
 * record's fdatasync (see fsutil.h). */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- loop-mounted images ---- */

bool fu_loop_create(struct tu_fs *fs, const char *suite, const char *label, const char *type,
                    unsigned size_mb)
{
    char why[96];
    snprintf(why, sizeof(why), "%s: %s", suite, label);
    return tu_can_loop(why) && tu_fs_create(fs, type, size_mb);
}

char *fu_root_new(struct tu_fs *fs, bool *ready, const char *suite, const char *label,
                  const char *type, unsigned size_mb)
{
    *ready = false;
    if (type == NULL)
        return tu_mkdtemp();
    *ready = fu_loop_create(fs, suite, label, type, size_mb);
    return *ready ? strdup(fs->mnt) : NULL;
}

void fu_root_free(struct tu_fs *fs, const char *type, char *root)
{
    if (type != NULL)
        tu_fs_destroy(fs); /* unmount and detach, also after a failed test */
    else if (root != NULL)
        tu_rm_rf(root);
    free(root);
}

void fu_need_loop(bool ready, const char *suite, const char *label, const char *type)
{
    if (!ready) {
        printf("%s: %s: skipped: no loop-mounted %s image could be made here (needs root, "
               "/dev/loop-control, mkfs.%s and its mount helper)\n",
               suite, label, type, type);
        skip();
    }
}

unsigned char *fu_image_bytes(struct tu_fs *fs, size_t *len)
{
    tu_fs_umount(fs);
    unsigned char *b = (unsigned char *)tu_read(fs->image, len);
    assert_non_null(b);
    return b;
}

/* ---- a test's fixture ---- */

int fu_fx_setup(void **state, const char *suite, unsigned default_mb)
{
    struct fu_fx *f = *state;
    f->suite = suite;
    f->work = tu_mkdtemp();
    f->dev[0] = '\0';
    memset(&f->fs2, 0, sizeof(f->fs2));
    unsigned mb = f->mb != 0 ? f->mb : default_mb;
    f->root = fu_root_new(&f->fs, &f->ready, suite, f->label, f->fstype, mb);
    return 0;
}

int fu_fx_teardown(void **state)
{
    struct fu_fx *f = *state;
    /* the extra device first: it may sit over the image the next steps detach and remove */
    if (f->dev[0] != '\0')
        tu_sh("losetup -d %s 2>/dev/null", f->dev);
    f->dev[0] = '\0';
    tu_fs_destroy(&f->fs2);
    fu_root_free(&f->fs, f->fstype, f->root);
    tu_rm_rf(f->work);
    free(f->work);
    f->root = f->work = NULL;
    f->ready = false;
    tu_release_owned();
    return 0;
}

void fu_fx_need_loop(const struct fu_fx *f)
{
    fu_need_loop(f->ready, f->suite, f->label, f->fstype);
}

void fu_fx_attach(struct fu_fx *f, const char *image, bool ro)
{
    const char *cmd = tu_ostr("losetup -f --show %s'%s'", ro ? "-r " : "", image);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    if (fgets(f->dev, sizeof(f->dev), p) == NULL)
        f->dev[0] = '\0';
    pclose(p);
    f->dev[strcspn(f->dev, "\n")] = '\0';
    if (strncmp(f->dev, "/dev/loop", 9) != 0) {
        f->dev[0] = '\0'; /* nothing for the teardown to detach */
        fail_msg("%s: %s: %s gave no loop device", f->suite, f->label, cmd);
    }
}

char *fu_loopdev(const char *image)
{
    char cmd[1024], line[256] = "";
    snprintf(cmd, sizeof(cmd), "losetup -j '%s'", image);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char *ok = fgets(line, sizeof(line), p);
    pclose(p);
    if (ok == NULL || strncmp(line, "/dev/loop", 9) != 0)
        fail_msg("no loop device for %s", image);
    line[strcspn(line, ":")] = '\0';
    return tu_own(strdup(line));
}

/* ---- a raw image ---- */

size_t fu_places(const unsigned char *hay, size_t hn, const void *s, size_t sn, uint64_t *out,
                 size_t cap)
{
    size_t n = 0;
    const unsigned char *p = hay, *end = hay + hn;
    while (p < end) {
        const unsigned char *q = memmem(p, (size_t)(end - p), s, sn);
        if (q == NULL)
            break;
        if (n < cap)
            out[n] = (uint64_t)(q - hay);
        n++;
        p = q + 1;
    }
    return n;
}

/* 32-byte windows */

#define RB 0x100000001b3ull

static uint64_t win_hash(const unsigned char *p)
{
    uint64_t h = 0;
    for (int i = 0; i < FU_WINDOW; i++)
        h = h * RB + p[i];
    return h;
}

static uint64_t win_slot(uint64_t h)
{
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

size_t fu_windows_in(const unsigned char *const *wins, size_t nw, const unsigned char *hay,
                     size_t hlen, bool *where)
{
    if (where != NULL && nw > 0)
        memset(where, 0, nw * sizeof(*where));
    if (nw == 0 || hlen < FU_WINDOW)
        return 0;
    size_t cap = 16;
    while (cap < nw * 2)
        cap <<= 1;
    uint32_t *slot = calloc(cap, sizeof(*slot));
    uint64_t *hs = malloc(nw * sizeof(*hs));
    bool *found = where ? where : calloc(nw, sizeof(*found));
    assert_true(slot != NULL && hs != NULL && found != NULL);
    for (size_t i = 0; i < nw; i++) {
        hs[i] = win_hash(wins[i]);
        size_t s = win_slot(hs[i]) & (cap - 1);
        while (slot[s] != 0)
            s = (s + 1) & (cap - 1);
        slot[s] = (uint32_t)i + 1;
    }
    uint64_t pw = 1;
    for (int i = 0; i < FU_WINDOW - 1; i++)
        pw *= RB;
    uint64_t h = win_hash(hay);
    size_t n = 0;
    for (size_t p = 0;; p++) {
        for (size_t s = win_slot(h) & (cap - 1); slot[s] != 0; s = (s + 1) & (cap - 1)) {
            size_t i = slot[s] - 1;
            if (hs[i] == h && !found[i] && memcmp(wins[i], hay + p, FU_WINDOW) == 0)
                found[i] = true, n++;
        }
        if (p + FU_WINDOW >= hlen)
            break;
        h = (h - hay[p] * pw) * RB + hay[p + FU_WINDOW];
    }
    free(slot);
    free(hs);
    if (where == NULL)
        free(found);
    return n;
}

size_t fu_all_windows_in(const unsigned char *s, size_t sn, const unsigned char *hay, size_t hn)
{
    if (sn < FU_WINDOW)
        return 0;
    size_t nw = sn - FU_WINDOW + 1;
    const unsigned char **w = malloc(nw * sizeof(*w));
    assert_non_null(w);
    for (size_t i = 0; i < nw; i++)
        w[i] = s + i;
    size_t n = fu_windows_in(w, nw, hay, hn, NULL);
    free(w);
    return n;
}

void fu_probes_spread(struct fu_probes *p, size_t count, const unsigned char *d, size_t len)
{
    assert_true(count <= FU_PROBES_MAX);
    p->n = 0;
    for (size_t k = 0; k < count && len >= FU_WINDOW; k++)
        p->w[p->n++] = d + (len - FU_WINDOW) * (k + 1) / (count + 1);
}

size_t fu_probes_pick(struct fu_probes *p, size_t count, const unsigned char *s, size_t sn,
                      const unsigned char *ex, size_t exn, size_t ncand)
{
    const unsigned char *cand[FU_CANDIDATES] = {0}; /* gcc -O2 -D_FORTIFY_SOURCE: maybe-uninitialized */
    bool in_ex[FU_CANDIDATES];
    assert_true(count <= FU_PROBES_MAX && ncand >= 2 && ncand <= FU_CANDIDATES);
    p->n = 0;
    if (sn < FU_WINDOW)
        return 0;
    for (size_t k = 0; k < ncand; k++)
        cand[k] = s + (sn - FU_WINDOW) * k / (ncand - 1);
    fu_windows_in(cand, ncand, ex, exn, in_ex);
    size_t nc = 0;
    for (size_t k = 0; k < ncand; k++)
        if (!in_ex[k])
            cand[nc++] = cand[k];
    if (nc < count)
        return nc;
    for (size_t k = 0; k < count; k++)
        p->w[p->n++] = cand[nc * k / count];
    return nc;
}

size_t fu_probes_in(const struct fu_probes *p, const unsigned char *hay, size_t hn)
{
    return fu_windows_in(p->w, p->n, hay, hn, NULL);
}

/* ---- killing a wipe at an exact journal step ---- */

void fu_journal_tail(const char *path, char *type, size_t tlen, size_t *records)
{
    size_t len = 0;
    char *j = tu_read(path, &len);
    type[0] = '\0';
    *records = 0;
    if (j == NULL)
        return;
    char *end = NULL;
    for (size_t i = 0; i < len; i++)
        if (j[i] == '\n')
            (*records)++, end = j + i;
    if (end != NULL) {
        *end = '\0';
        char *line = strrchr(j, '\n');
        line = line ? line + 1 : j;
        /* the record's own type is its last key ("data" may hold "type" keys too) */
        const char *t = NULL;
        static const char key[] = "\"type\":\"";
        for (const char *q = strstr(line, key); q != NULL; q = strstr(q + 1, key))
            t = q;
        if (t != NULL) {
            t += 8;
            size_t n = strcspn(t, "\"");
            snprintf(type, tlen, "%.*s", (int)(n < tlen ? n : tlen - 1), t);
        }
    }
    free(j);
}

/* The child: output to log, traced, a seccomp filter that stops it at fsync and fdatasync;
 * exits 126 when it cannot be traced or filtered. */
__attribute__((noreturn)) static void traced_child(char *const argv[], const char *log)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644), nul = open("/dev/null", O_RDONLY);
    if (fd >= 0)
        dup2(fd, 1), dup2(fd, 2);
    if (nul >= 0)
        dup2(nul, 0);
    if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
        _exit(126);
    raise(SIGSTOP); /* the tracer sets its options before the filter can stop us */
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fdatasync, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fsync, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
    };
    struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        _exit(126);
    execv(argv[0], argv);
    _exit(127);
}

int fu_traced_run(char *const argv[], const char *log, const char *journal, const char *record,
                  int after, char *at, size_t atlen)
{
    at[0] = '\0';
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        traced_child(argv, log);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    if (!WIFSTOPPED(st))
        return -1;
    long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE |
                PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC;
    if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)opts) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    ptrace(PTRACE_CONT, pid, NULL, NULL);
    int armed = -1, result = -1;
    bool killed = false;
    for (;;) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (w == pid) {
                result = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
                    result = -1;
                break;
            }
            continue;
        }
        if (!WIFSTOPPED(st))
            continue;
        int sig = WSTOPSIG(st), ev = (st >> 16) & 0xff;
        if (sig == SIGTRAP && ev == PTRACE_EVENT_SECCOMP) {
            if (!killed) {
                char type[48];
                size_t n;
                fu_journal_tail(journal, type, sizeof(type), &n);
                if (armed < 0 && strcmp(type, record) == 0)
                    armed = 0;
                else if (armed >= 0)
                    armed++;
                if (armed == after) {
                    snprintf(at, atlen, "journal at %zu records, the last %s", n, type);
                    kill(pid, SIGKILL);
                    killed = true;
                    continue; /* left stopped: SIGKILL ends it */
                }
            }
            ptrace(PTRACE_CONT, w, NULL, NULL);
        } else if (sig == SIGTRAP || sig == SIGSTOP) {
            ptrace(PTRACE_CONT, w, NULL, NULL); /* events, new threads' first stop */
        } else {
            ptrace(PTRACE_CONT, w, NULL, (void *)(intptr_t)sig);
        }
    }
    return result;
}

void fu_kill_at(const char *suite, char *const argv[], const char *log, const char *journal,
                const char *record, int after, const char *what, char *at, size_t atlen)
{
    int rc = fu_traced_run(argv, log, journal, record, after, at, atlen);
    if (rc == -1) {
        printf("%s: kill: skipped: cannot trace the wipe here (ptrace or seccomp refused)\n",
               suite);
        skip();
    }
    if (rc != 128 + SIGKILL) {
        tu_sh("tail -n 20 '%s' >&2", log);
        fail_msg("kill %s: the wipe was not killed there (exit %d): the journal never reached "
                 "that point",
                 what, rc);
    }
}

const struct fu_killpoint fu_kp_begin = {"archive-begin", 0, "after archive-begin"};
const struct fu_killpoint fu_kp_writing = {
    "archive-begin", 1, "new archive written, at its fsync (before archive-written)"};
const struct fu_killpoint fu_kp_written = {"archive-written", 0, "after archive-written"};
const struct fu_killpoint fu_kp_owbegin = {"overwrite-begin", 0, "after overwrite-begin"};
const struct fu_killpoint fu_kp_owmid = {
    "overwrite-begin", 1, "old archive overwritten, at its fdatasync (before overwrite-done)"};
const struct fu_killpoint fu_kp_owdone = {"overwrite-done", 0, "after overwrite-done"};
const struct fu_killpoint fu_kp_renaming = {
    "overwrite-done", 1, "new archive renamed into place, at the directory fsync (before "
                         "archive-renamed)"};
const struct fu_killpoint fu_kp_renamed = {"archive-renamed", 0, "after archive-renamed"};
