/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: a small fault-injecting FUSE filesystem (libfuse3) for tests/test_adversarial.c.
 * It passes one backing directory through, flat (regular files only, no subdirectories), and
 * fails writes (and, when asked, reads and fsyncs) that touch given byte ranges of a file with
 * a given errno. A loop device over an image file on it gives a block device with bad sectors
 * exactly where a test wants them - the kernel here has no device-mapper (dm-flakey, dm-error).
 *
 * usage: faultfs BACKING_DIR CONTROL_FILE MOUNTPOINT [FUSE options]   (the tests pass -f -s:
 * foreground, single-threaded - libfuse 3.14's multi-threaded loop warns about max_threads)
 * CONTROL_FILE is re-read whenever its mtime or size changes; each line:
 *     w|r|s ERRNO OFFSET LENGTH      fail writes | reads | fsyncs (s: OFFSET, LENGTH ignored)
 * touching [OFFSET, OFFSET+LENGTH) of any file with ERRNO (a number: 5 EIO, 28 ENOSPC); an
 * empty file fails nothing. Each failure is counted in CONTROL_FILE.hits (one line per hit:
 * "w OFFSET SIZE"), so a test can tell the fault was reached. */
#define FUSE_USE_VERSION 31
#include <fuse3/fuse.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_RULES 16

struct rule {
    char kind; /* w, r, s */
    int err;
    off_t off, len;
};

static char *backing, *control;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct rule rules[MAX_RULES];
static int nrules;
static struct timespec control_mtime;
static off_t control_size = -1;

static void reload(void)
{
    struct stat st;
    if (stat(control, &st) != 0) {
        nrules = 0;
        control_size = -1;
        return;
    }
    if (st.st_size == control_size && st.st_mtim.tv_sec == control_mtime.tv_sec &&
        st.st_mtim.tv_nsec == control_mtime.tv_nsec)
        return;
    control_size = st.st_size;
    control_mtime = st.st_mtim;
    nrules = 0;
    FILE *f = fopen(control, "r");
    if (f == NULL)
        return;
    char kind;
    int err;
    long long off, len;
    while (nrules < MAX_RULES && fscanf(f, " %c %d %lld %lld", &kind, &err, &off, &len) == 4)
        rules[nrules++] = (struct rule){kind, err, (off_t)off, (off_t)len};
    fclose(f);
}

/* The errno to fail an access of kind to [off, off+size) with, or 0. */
static int fault(char kind, off_t off, size_t size)
{
    int err = 0;
    pthread_mutex_lock(&lock);
    reload();
    for (int i = 0; i < nrules && err == 0; i++) {
        const struct rule *r = &rules[i];
        if (r->kind != kind)
            continue;
        if (kind == 's' || (off < r->off + r->len && off + (off_t)size > r->off))
            err = r->err;
    }
    if (err != 0) {
        char hits[4096];
        snprintf(hits, sizeof(hits), "%s.hits", control);
        FILE *h = fopen(hits, "a");
        if (h != NULL) {
            fprintf(h, "%c %lld %zu\n", kind, (long long)off, size);
            fclose(h);
        }
    }
    pthread_mutex_unlock(&lock);
    return err;
}

static void real(char *out, size_t n, const char *path)
{
    snprintf(out, n, "%s%s", backing, path);
}

static int ff_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    char p[4096];
    real(p, sizeof(p), path);
    return lstat(p, st) == 0 ? 0 : -errno;
}

static int ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off, (void)fi, (void)flags;
    char p[4096];
    real(p, sizeof(p), path);
    DIR *d = opendir(p);
    if (d == NULL)
        return -errno;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        fill(buf, e->d_name, NULL, 0, 0);
    closedir(d);
    return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi)
{
    char p[4096];
    real(p, sizeof(p), path);
    int fd = open(p, fi->flags & ~O_DIRECT);
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int ff_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    char p[4096];
    real(p, sizeof(p), path);
    int fd = open(p, (fi->flags & ~O_DIRECT) | O_CREAT, mode);
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int ff_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    int err = fault('r', off, size);
    if (err != 0)
        return -err;
    ssize_t n = pread((int)fi->fh, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static int ff_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)path;
    int err = fault('w', off, size);
    if (err != 0)
        return -err;
    ssize_t n = pwrite((int)fi->fh, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static int ff_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)path;
    int err = fault('s', 0, 0);
    if (err != 0)
        return -err;
    return (datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh)) == 0 ? 0 : -errno;
}

static int ff_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh);
    return 0;
}

static int ff_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (fi != NULL)
        return ftruncate((int)fi->fh, size) == 0 ? 0 : -errno;
    char p[4096];
    real(p, sizeof(p), path);
    return truncate(p, size) == 0 ? 0 : -errno;
}

static int ff_unlink(const char *path)
{
    char p[4096];
    real(p, sizeof(p), path);
    return unlink(p) == 0 ? 0 : -errno;
}

static int ff_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    return statvfs(backing, st) == 0 ? 0 : -errno;
}

static int ff_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
    (void)path;
    return fallocate((int)fi->fh, mode, off, len) == 0 ? 0 : -errno;
}

static const struct fuse_operations ops = {
    .getattr = ff_getattr,
    .readdir = ff_readdir,
    .open = ff_open,
    .create = ff_create,
    .read = ff_read,
    .write = ff_write,
    .fsync = ff_fsync,
    .release = ff_release,
    .truncate = ff_truncate,
    .unlink = ff_unlink,
    .statfs = ff_statfs,
    .fallocate = ff_fallocate,
};

int main(int argc, char *argv[])
{
    if (argc < 4) {
        fprintf(stderr, "usage: faultfs BACKING_DIR CONTROL_FILE MOUNTPOINT [FUSE options]\n");
        return 2;
    }
    backing = realpath(argv[1], NULL);
    control = realpath(argv[2], NULL);
    if (backing == NULL || control == NULL) {
        fprintf(stderr, "faultfs: %s or %s: %s\n", argv[1], argv[2], strerror(errno));
        return 2;
    }
    /* fuse_main gets: program MOUNTPOINT [options] */
    argv[2] = argv[0];
    return fuse_main(argc - 2, argv + 2, &ops, NULL);
}
