/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: read a passphrase from a file, or from the terminal with echo off. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

enum { LINE_OK = 1, LINE_EOF = 0, LINE_ERROR = -1, LINE_TOO_LONG = -2, LINE_NUL = -3 };

static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
    caught_signal = sig;
}

/* One line from fd, byte by byte so nothing past the newline is consumed, without its "\n"
 * and trailing "\r"s (as minisign trims), NUL-terminated in buf. A signal caught while
 * waiting ends the read with LINE_ERROR and errno EINTR. */
static int read_line(int fd, char *buf, size_t size)
{
    size_t n = 0;
    bool any = false, overflow = false, nul = false;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR && caught_signal == 0)
            continue;
        if (r < 0) {
            sodium_memzero(buf, size);
            return LINE_ERROR;
        }
        if (r == 0)
            break;
        any = true;
        if (ch == '\n')
            break;
        if (ch == '\0')
            nul = true;
        if (n + 1 < size)
            buf[n++] = ch;
        else
            overflow = true;
        ch = 0;
    }
    while (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (overflow || nul)
        sodium_memzero(buf, size);
    if (overflow)
        return LINE_TOO_LONG;
    if (nul)
        return LINE_NUL;
    return any ? LINE_OK : LINE_EOF;
}

static bool report(int rc, int errnum, const char *source, size_t size)
{
    switch (rc) {
    case LINE_OK:
        return true;
    case LINE_EOF:
        cli_err("cannot read a passphrase from %s: nothing there", source);
        break;
    case LINE_TOO_LONG:
        cli_err("the passphrase from %s is longer than %zu bytes", source, size - 1);
        break;
    case LINE_NUL:
        cli_err("the passphrase from %s contains a NUL byte", source);
        break;
    default:
        cli_err("cannot read a passphrase from %s: %s", source, strerror(errnum));
        break;
    }
    return false;
}

static bool file_read(char *buf, size_t size, const char *file)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_err("cannot open '%s': %s", file, strerror(errno));
        return false;
    }
    int rc = read_line(fd, buf, size);
    int errnum = errno;
    close(fd);
    char source[4200];
    snprintf(source, sizeof(source), "'%s'", file);
    return report(rc, errnum, source, size);
}

static const int trapped[] = {SIGINT, SIGHUP, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU};
#define NTRAPPED (sizeof(trapped) / sizeof(trapped[0]))

/* Prompt on stderr, read from /dev/tty with echo off; the terminal and the signal handlers
 * are restored on every path, and a signal that arrived meanwhile is re-raised afterwards. */
static bool tty_read(char *buf, size_t size, const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        cli_err("cannot read a passphrase: no terminal (use --passphrase-file)");
        return false;
    }
    struct termios old, quiet;
    if (tcgetattr(fd, &old) != 0) {
        cli_err("cannot read a passphrase: /dev/tty: %s", strerror(errno));
        close(fd);
        return false;
    }
    struct sigaction sa, saved[NTRAPPED];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the read returns EINTR */
    sigemptyset(&sa.sa_mask);
    caught_signal = 0;
    for (size_t i = 0; i < NTRAPPED; i++)
        sigaction(trapped[i], &sa, &saved[i]);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL;
    int rc = LINE_ERROR, errnum = 0;
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0) {
        errnum = errno;
    } else {
        fputs(prompt, stderr);
        fflush(stderr);
        rc = read_line(fd, buf, size);
        errnum = errno;
        tcsetattr(fd, TCSANOW, &old);
    }
    for (size_t i = 0; i < NTRAPPED; i++)
        sigaction(trapped[i], &saved[i], NULL);
    close(fd);
    if (caught_signal != 0) {
        int sig = caught_signal;
        caught_signal = 0;
        sodium_memzero(buf, size);
        raise(sig);
        cli_err("passphrase entry interrupted");
        return false;
    }
    return report(rc, errnum, "the terminal", size);
}

bool cli_read_passphrase(char *buf, size_t size, const char *prompt, const char *file, bool confirm)
{
    if (size < 2)
        dp_misuse("cli_read_passphrase: buffer too small");
    if (file != NULL)
        return file_read(buf, size, file);
    if (!tty_read(buf, size, prompt))
        return false;
    if (!confirm)
        return true;
    char *again = sodium_malloc(size);
    if (again == NULL) {
        cli_err("out of memory");
        sodium_memzero(buf, size);
        return false;
    }
    bool ok = tty_read(again, size, "repeat the passphrase: ");
    if (ok && (strlen(again) != strlen(buf) || sodium_memcmp(again, buf, strlen(buf)) != 0)) {
        cli_err("the passphrases do not match");
        ok = false;
    }
    sodium_free(again);
    if (!ok)
        sodium_memzero(buf, size);
    return ok;
}
