/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: the per-process temp directory and small input helpers (fuzz_common.h). */
#include "fuzz_common.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *tmpdir;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void rm_tmpdir(void)
{
    if (tmpdir != NULL)
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(tmpdir);
    tmpdir = NULL;
}

static _Noreturn void die(const char *what, const char *path)
{
    fprintf(stderr, "fuzz harness: %s '%s': %s\n", what, path ? path : "", strerror(errno));
    abort();
}

const char *fz_tmpdir(void)
{
    if (tmpdir != NULL)
        return tmpdir;
    const char *base = "/dev/shm";
    if (access(base, W_OK | X_OK) != 0) {
        base = getenv("TMPDIR");
        if (base == NULL || *base == '\0')
            base = "/tmp";
    }
    size_t n = strlen(base) + sizeof("/deprive-fuzz.XXXXXX");
    char *t = malloc(n);
    if (t == NULL)
        die("out of memory", NULL);
    snprintf(t, n, "%s/deprive-fuzz.XXXXXX", base);
    if (mkdtemp(t) == NULL)
        die("cannot make a directory in", base);
    tmpdir = t;
    atexit(rm_tmpdir);
    return tmpdir;
}

char *fz_path(const char *name)
{
    const char *d = fz_tmpdir();
    size_t n = strlen(d) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (p == NULL)
        die("out of memory", NULL);
    snprintf(p, n, "%s/%s", d, name);
    return p;
}

char *fz_write(const char *name, const void *data, size_t size)
{
    char *p = fz_path(name);
    if (unlink(p) != 0 && errno != ENOENT)
        die("cannot remove", p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        die("cannot create", p);
    const char *b = data;
    while (size > 0) {
        ssize_t w = write(fd, b, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("cannot write", p);
        b += w;
        size -= (size_t)w;
    }
    if (close(fd) != 0)
        die("cannot close", p);
    return p;
}

char *fz_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open", path);
    size_t cap = 4096, len = 0, r;
    char *b = malloc(cap);
    while (b != NULL && (r = fread(b + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) {
            char *nb = realloc(b, cap * 2);
            if (nb == NULL)
                free(b);
            b = nb;
            cap *= 2;
        }
    }
    if (b == NULL || ferror(f))
        die("cannot read", path);
    fclose(f);
    *size = len;
    return b;
}

bool fz_same(const char *path, const uint8_t *data, size_t size)
{
    size_t n = 0;
    char *now = fz_read(path, &n);
    bool same = n == size && (size == 0 || memcmp(now, data, size) == 0);
    free(now);
    return same;
}

char *fz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        die("out of memory", NULL);
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

FILE *fz_devnull(void)
{
    static FILE *f;
    if (f == NULL && (f = fopen("/dev/null", "w")) == NULL)
        die("cannot open", "/dev/null");
    return f;
}

bool fz_split(const uint8_t *data, size_t size, const char *sep, size_t *a_len,
              const uint8_t **b, size_t *b_len)
{
    size_t sl = strlen(sep);
    const uint8_t *m = sl > 0 ? memmem(data, size, sep, sl) : NULL;
    if (m == NULL)
        return false;
    *a_len = (size_t)(m - data);
    *b = m + sl;
    *b_len = size - *a_len - sl;
    return true;
}

/* LeakSanitizer: leaks inside system libraries that deprive cannot free, each a reported
 * finding (docs/security.md, "Fuzzing"). libheif 1.15's dav1d plugin does not release the
 * Dav1dData it made when dav1d_send_data refuses a corrupt AVIF: 40 bytes per such image,
 * allocated in libdav1d's dav1d_data_create. libdav1d has no frame pointers, so the fast
 * unwinder stops inside it: the module is named as well as the function. libewf 20140813
 * loses a chunk (its data and checksum, and a 48-byte descriptor, made by
 * libewf_chunk_data_initialize) on reading a malformed chunk of some EWF segments
 * (fuzz/regress/source/); deprive closes and frees the handle (dp_source_ewf_free). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:dav1d_data_create\nleak:libdav1d.so\nleak:libewf_chunk_data_initialize\n";
}
