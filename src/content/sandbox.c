/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: running a decoder in a child process - forked, under a memory limit, without core
 * dumps, stopped after a wall-clock timeout, its result passed back in shared memory - so that a
 * decoder that cannot be interrupted or bounded from outside (libheif and its codecs) can fail
 * but cannot crash, hang or exhaust the scan that called it. This is containment of resource
 * exhaustion and crashes, not a security boundary: the child runs as the same user with the
 * same privileges (no seccomp, no namespaces). */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* AddressSanitizer and its kin reserve terabytes of shadow memory in private writable
   mappings and allocate through their own allocator, which reports a refused mapping as a
   fatal error: no memory limit in such builds (everything else applies). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#elif __has_feature(memory_sanitizer) || __has_feature(hwaddress_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* The start of the shared mapping, written by the child and read by the parent once waitpid
   has returned (the child's exit orders its writes before that). The parent checks what it
   reads: a child that went wrong may have written anything. */
struct header {
    int done;       /* the child's function returned; the fields below are set */
    int mem_failed; /* a C++ allocation failed under the memory limit (out_of_memory) */
    enum dp_status status;
    int sys_errno;
    uint64_t mem_limit; /* the memory limit in force, bytes; 0: none */
    uint64_t info[SANDBOX_INFO];
    char msg[sizeof(((struct dp_error *)0)->msg)];
};
#define OUT_OFFSET ((sizeof(struct header) + 63) & ~(size_t)63)

/* Exit codes of the child besides 0 (its function returned, header written). */
enum { CHILD_EXIT_NOMEM = 120, CHILD_EXIT_ORPHAN = 121 };

/* ---- the child's side ------------------------------------------------------------------ */

/* Set in the child only (its copy of these statics); the parent never writes them. */
static struct header *child_hdr;
static uint64_t child_base; /* VmData when the child started, bytes; 0: unknown */

/* libstdc++'s std::set_new_handler, looked up once in the parent (libheif is C++). */
static void (*set_new_handler)(void (*)(void));
static pthread_once_t lookup_once = PTHREAD_ONCE_INIT;

static void lookup(void)
{
    void *p = dlsym(RTLD_DEFAULT, "_ZSt15set_new_handlerPFvvE");
    if (p != NULL)
        memcpy(&set_new_handler, &p, sizeof(p));
}

/* operator new calls this when an allocation fails - in the child, only because of the
   memory limit. Without it the decoder would throw std::bad_alloc, which libheif does not
   catch everywhere: std::terminate, SIGABRT, reported as a crash. */
static void out_of_memory(void)
{
    child_hdr->mem_failed = 1;
    _exit(CHILD_EXIT_NOMEM);
}

/* The child's private writable memory (heap, thread stacks: what RLIMIT_DATA counts), from
   /proc/self/status; 0 when it cannot be read. */
static uint64_t vm_data(void)
{
    char b[8192];
    size_t n = 0;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    for (ssize_t r; n < sizeof(b) - 1 && (r = read(fd, b + n, sizeof(b) - 1 - n)) != 0;) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    const char *p = strstr(b, "\nVmData:");
    if (p == NULL)
        return 0;
    uint64_t kb = 0;
    for (p += 8; *p == ' ' || *p == '\t'; p++)
        ;
    for (; *p >= '0' && *p <= '9'; p++)
        kb = kb * 10 + (uint64_t)(*p - '0');
    return kb * 1024;
}

uint64_t sandbox_limit_memory(uint64_t bytes)
{
    if (child_hdr == NULL)
        dp_misuse("sandbox_limit_memory: not in a sandboxed child");
    if (SANITIZED || child_base == 0)
        return 0;
    /* RLIMIT_DATA, not RLIMIT_AS: the address space also counts what costs no memory - the
       parent's mappings inherited, the shared output mapping, and 64 MiB of reserved address
       space for each malloc arena the codecs' threads create (a 640x480 AVIF: 130 MB of
       address space on 2 CPUs, 5 MB of data), so an RLIMIT_AS bound would depend on the
       number of CPUs and on the parent. Soft and hard: the decoder cannot raise it. */
    uint64_t lim = bytes > UINT64_MAX - child_base ? UINT64_MAX : child_base + bytes;
    struct rlimit cur;
    if (getrlimit(RLIMIT_DATA, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && cur.rlim_max < lim)
        lim = cur.rlim_max; /* a lower limit set by the user stays */
    struct rlimit r = {(rlim_t)lim, (rlim_t)lim};
    if (setrlimit(RLIMIT_DATA, &r) != 0)
        return child_hdr->mem_limit;
    child_hdr->mem_limit = lim - child_base;
    return child_hdr->mem_limit;
}

/* The parent's signal handlers are its code, meaningless here (a test framework's would
   longjmp into the parent's stack): default actions, so a crash ends the child. Ignored
   signals stay ignored. */
static void reset_signals(void)
{
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0)
            continue;
        if (!(sa.sa_flags & SA_SIGINFO) && (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN))
            continue;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        sigaction(sig, &sa, NULL);
    }
}

/* Every descriptor but 0-2 and keep: the decoder gets no access to the device, the journal or
   the report, and a sibling decoder child forked by another thread at the same moment drops
   its copy of this child's pipe (O_CLOEXEC does not act on fork). */
static void close_fds(int keep)
{
    bool ok = keep < 3 ? close_range(3, ~0u, 0) == 0
                       : (keep == 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
                             close_range((unsigned)keep + 1, ~0u, 0) == 0;
    if (ok)
        return;
    struct rlimit r; /* close_range missing (Linux < 5.9): one by one */
    long max =
        getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY && r.rlim_cur < (1 << 20)
            ? (long)r.rlim_cur
            : 1 << 20;
    for (long fd = 3; fd < max; fd++)
        if (fd != keep)
            close((int)fd);
}

static _Noreturn void child_main(struct header *h, uint8_t *out, size_t out_size, int keep,
                                 pid_t parent, sandbox_fn fn, void *arg)
{
    child_hdr = h;
    /* die with the parent (it waits for this child in the thread that forked it, so that
       thread cannot end first); and if it is already gone, stop */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(CHILD_EXIT_ORPHAN);
    reset_signals();
    close_fds(keep);
    /* a crashing decoder must not write the exhibit's bytes to disk in a core file */
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0);
    child_base = vm_data();
    if (set_new_handler != NULL)
        set_new_handler(out_of_memory);
    struct dp_error e = {0};
    enum dp_status st = fn(arg, out, out_size, h->info, &e);
    h->status = st;
    h->sys_errno = e.sys_errno;
    memcpy(h->msg, e.msg, sizeof(h->msg));
    h->msg[sizeof(h->msg) - 1] = '\0';
    h->done = 1;
    _exit(0); /* never exit(): no atexit handlers, stdio buffers or leak checks of the parent */
}

/* ---- the parent's side ----------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait for the child until the deadline: its end of the pipe closes when it exits, then it is
   reaped (polled, in case a bug in the decoder closed the pipe early). At the deadline it is
   killed and reaped. Returns false when it was killed; *reaped false when waitpid could not
   report it (SIGCHLD ignored by the process: its status is lost). */
static bool wait_child(pid_t pid, int fd, unsigned timeout_ms, int *wstatus, bool *reaped)
{
    int64_t deadline = now_ms() + timeout_ms;
    bool closed = false;
    long pause_us = 20;
    *reaped = true;
    for (int64_t left; (left = deadline - now_ms()) > 0;) {
        if (!closed) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
            closed = r > 0 || (r < 0 && errno != EINTR);
            continue;
        }
        pid_t w = waitpid(pid, wstatus, WNOHANG);
        if (w == pid)
            return true;
        if (w < 0 && errno == ECHILD) {
            *reaped = false;
            return true;
        }
        if (w == 0) {
            struct timespec ts = {0, pause_us * 1000};
            nanosleep(&ts, NULL);
            pause_us = pause_us < 10000 ? pause_us * 2 : pause_us;
        }
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, wstatus, 0) < 0)
        if (errno != EINTR) {
            *reaped = false;
            break;
        }
    return false;
}

/* What the child's end says, as a status and message. */
static enum dp_status verdict(const struct header *h, const char *what, unsigned timeout_ms,
                              bool in_time, bool reaped, int ws, struct dp_error *err)
{
    bool clean = h->done && (!reaped || (WIFEXITED(ws) && WEXITSTATUS(ws) == 0));
    unsigned long long limit_mb = (h->mem_limit + (1u << 20) - 1) >> 20;
    if (h->mem_failed || (clean && h->status == DP_ERR_NOMEM && h->mem_limit != 0))
        return dp_error_set(err, DP_ERR_LIMIT, 0,
                            "%s: decoder exceeded its memory limit of %llu MB", what, limit_mb);
    if (clean) {
        if (h->status == DP_OK)
            return DP_OK;
        char msg[sizeof(h->msg)];
        memcpy(msg, h->msg, sizeof(msg));
        msg[sizeof(msg) - 1] = '\0';
        enum dp_status st =
            h->status > DP_OK && h->status <= DP_ERR_CANCELLED ? h->status : DP_ERR_PARSE;
        dp_error_set(err, st, 0, "%s", msg[0] ? msg : "decoder failed without a message");
        if (err != NULL)
            err->sys_errno = h->sys_errno;
        return st;
    }
    if (!in_time) {
        if (timeout_ms % 1000 == 0)
            return dp_error_set(err, DP_ERR_LIMIT, 0,
                                "%s: decoding took longer than %u s (stopped)", what,
                                timeout_ms / 1000);
        return dp_error_set(err, DP_ERR_LIMIT, 0, "%s: decoding took longer than %u ms (stopped)",
                            what, timeout_ms);
    }
    if (reaped && WIFSIGNALED(ws))
        return dp_error_set(err, DP_ERR_PARSE, 0, "%s: decoder crashed (signal %d)", what,
                            WTERMSIG(ws));
    if (reaped && WIFEXITED(ws))
        return dp_error_set(err, DP_ERR_PARSE, 0, "%s: decoder exited unexpectedly (status %d)",
                            what, WEXITSTATUS(ws));
    return dp_error_set(err, DP_ERR_PARSE, 0, "%s: decoder ended without a result", what);
}

enum dp_status sandbox_run(struct sandbox_result *res, const char *what, size_t out_size,
                           unsigned timeout_ms, sandbox_fn fn, void *arg, struct dp_error *err)
{
    memset(res, 0, sizeof(*res));
    pthread_once(&lookup_once, lookup);
    if (out_size > SIZE_MAX - OUT_OFFSET)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "%s: output too large to map", what);
    /* shared with the child, made before fork; no swap reserved: pages exist once written */
    size_t map_size = OUT_OFFSET + out_size;
    void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return dp_error_set(err, DP_ERR_NOMEM, errno, "%s: cannot map %zu MB for the decoder", what,
                            map_size >> 20);
    struct header *h = map;
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        int e = errno;
        munmap(map, map_size);
        return dp_error_set(err, DP_ERR_IO, e, "%s: cannot make a pipe for the decoder", what);
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        child_main(h, (uint8_t *)map + OUT_OFFSET, out_size, p[1], parent, fn, arg);
    }
    int fork_errno = errno;
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        munmap(map, map_size);
        return dp_error_set(err, fork_errno == ENOMEM ? DP_ERR_NOMEM : DP_ERR_IO, fork_errno,
                            "%s: cannot start the decoder process", what);
    }
    int ws = 0;
    bool reaped;
    bool in_time = wait_child(pid, p[0], timeout_ms, &ws, &reaped);
    close(p[0]);
    enum dp_status st = verdict(h, what, timeout_ms, in_time, reaped, ws, err);
    if (st != DP_OK) {
        munmap(map, map_size);
        return st;
    }
    memcpy(res->info, h->info, sizeof(res->info));
    res->out = (uint8_t *)map + OUT_OFFSET;
    res->out_size = out_size;
    res->map = map;
    res->map_size = map_size;
    return DP_OK;
}

void sandbox_release(struct sandbox_result *res)
{
    if (res->map != NULL)
        munmap(res->map, res->map_size);
    memset(res, 0, sizeof(*res));
}
