/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: safe tree walk (openat/fdopendir, no symlinks, one mount, no special files). */
#include "deprive/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>

static const char *const reason_names[DP_SKIP_REASON_COUNT] = {
    "symlink", "special-file", "other-filesystem", "permission",
    "io-error", "vanished", "changed", "limit", "too-large",
};

static const char *const size_limit_names[DP_SIZE_LIMIT_COUNT] = {
    "filesystem", "max-file-size",
};

const char *dp_skip_reason_name(enum dp_skip_reason reason)
{
    if ((unsigned)reason >= DP_SKIP_REASON_COUNT)
        dp_misuse("dp_skip_reason_name: bad reason");
    return reason_names[reason];
}

bool dp_skip_reason_parse(const char *name, enum dp_skip_reason *out)
{
    for (int i = 0; i < DP_SKIP_REASON_COUNT; i++) {
        if (strcmp(name, reason_names[i]) == 0) {
            *out = (enum dp_skip_reason)i;
            return true;
        }
    }
    return false;
}

const char *dp_size_limit_name(enum dp_size_limit which)
{
    if ((unsigned)which >= DP_SIZE_LIMIT_COUNT)
        dp_misuse("dp_size_limit_name: bad limit");
    return size_limit_names[which];
}

bool dp_size_limit_parse(const char *name, enum dp_size_limit *out)
{
    for (int i = 0; i < DP_SIZE_LIMIT_COUNT; i++) {
        if (strcmp(name, size_limit_names[i]) == 0) {
            *out = (enum dp_size_limit)i;
            return true;
        }
    }
    return false;
}

void dp_size_limit_text(char *buf, size_t size, uint64_t apparent, uint64_t limit,
                        enum dp_size_limit which)
{
    if ((unsigned)which >= DP_SIZE_LIMIT_COUNT)
        dp_misuse("dp_size_limit_text: bad limit");
    if (which == DP_SIZE_LIMIT_FILESYSTEM)
        snprintf(buf, size, "apparent size %llu bytes exceeds the filesystem size %llu bytes",
                 (unsigned long long)apparent, (unsigned long long)limit);
    else
        snprintf(buf, size, "apparent size %llu bytes exceeds --max-file-size %llu",
                 (unsigned long long)apparent, (unsigned long long)limit);
}

static void id_from_statx(struct dp_file_id *id, const struct statx *sx)
{
    memset(id, 0, sizeof(*id));
    id->dev_major = sx->stx_dev_major;
    id->dev_minor = sx->stx_dev_minor;
    id->ino = sx->stx_ino;
    id->size = sx->stx_size;
    id->blocks = sx->stx_blocks;
    id->mnt_id = (sx->stx_mask & STATX_MNT_ID) ? sx->stx_mnt_id : 0;
    id->nlink = sx->stx_nlink;
    id->mode = sx->stx_mode;
    id->uid = sx->stx_uid;
    id->gid = sx->stx_gid;
    id->mtime_sec = sx->stx_mtime.tv_sec;
    id->mtime_nsec = sx->stx_mtime.tv_nsec;
    id->ctime_sec = sx->stx_ctime.tv_sec;
    id->ctime_nsec = sx->stx_ctime.tv_nsec;
    id->atime_sec = sx->stx_atime.tv_sec;
    id->atime_nsec = sx->stx_atime.tv_nsec;
    if (sx->stx_mask & STATX_BTIME) {
        id->has_btime = true;
        id->btime_sec = sx->stx_btime.tv_sec;
        id->btime_nsec = sx->stx_btime.tv_nsec;
    }
}

enum dp_status dp_file_id_stat(int dirfd, const char *name, struct dp_file_id *out,
                               struct dp_error *err)
{
    struct statx sx;
    int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_SYNC_AS_STAT;
    if (name[0] == '\0')
        flags |= AT_EMPTY_PATH;
    if (statx(dirfd, name, flags, STATX_BASIC_STATS | STATX_MNT_ID | STATX_BTIME, &sx) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot stat '%s'", name);
    id_from_statx(out, &sx);
    /* the generation needs the object itself open; only files and directories answer it */
    int gen = 0;
    if (name[0] == '\0' && (S_ISREG(out->mode) || S_ISDIR(out->mode)) &&
        ioctl(dirfd, FS_IOC_GETVERSION, &gen) == 0) {
        out->has_generation = true;
        out->generation = (uint32_t)gen;
    }
    return DP_OK;
}

bool dp_file_id_same(const struct dp_file_id *a, const struct dp_file_id *b)
{
    return a->dev_major == b->dev_major && a->dev_minor == b->dev_minor && a->ino == b->ino &&
           a->size == b->size && a->mtime_sec == b->mtime_sec &&
           a->mtime_nsec == b->mtime_nsec && a->ctime_sec == b->ctime_sec &&
           a->ctime_nsec == b->ctime_nsec;
}

static enum dp_skip_reason reason_of_errno(int e)
{
    switch (e) {
    case EACCES:
    case EPERM:
        return DP_SKIP_PERMISSION;
    case ENOENT:
        return DP_SKIP_VANISHED;
    case ELOOP:
        return DP_SKIP_SYMLINK;
    case EMFILE:
    case ENFILE:
    case ENAMETOOLONG:
        return DP_SKIP_LIMIT;
    default:
        return DP_SKIP_IO;
    }
}

/* openat with O_NOATIME, dropping it only where the kernel says we may not use it (EPERM:
 * not the owner and no CAP_FOWNER). */
static int open_noatime(int dirfd, const char *name, int flags, bool *fell_back)
{
    int fd = openat(dirfd, name, flags | O_NOATIME | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EPERM) {
        fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && fell_back != NULL)
            *fell_back = true;
    }
    return fd;
}

struct level {
    DIR *dir;
    size_t path_len; /* length of the path prefix of this directory (0 for root) */
};

struct walker {
    const struct dp_walk_opts *opts;
    const struct dp_walk_ops *ops;
    void *ctx;
    struct dp_walk_stats *stats;
    struct dp_file_id root_id;
    char *path;
    size_t path_cap;
    struct level *stack;
    size_t depth, stack_cap;
    /* size of the last filesystem a file was found on (statfs is per filesystem) */
    bool fs_known;
    uint64_t fs_major, fs_minor, fs_bytes;
};

static void skip(struct walker *w, size_t len, enum dp_skip_reason reason, int errnum)
{
    w->stats->skipped[reason]++;
    if (w->ops->skip != NULL)
        w->ops->skip(w->ctx, w->path, len, reason, errnum);
}

static enum dp_status path_push(struct walker *w, size_t base, const char *name, size_t *len,
                                struct dp_error *err)
{
    size_t nlen = strlen(name);
    size_t need = base + 1 + nlen + 1;
    if (need > w->path_cap) {
        size_t cap = w->path_cap ? w->path_cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = realloc(w->path, cap);
        if (p == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        w->path = p;
        w->path_cap = cap;
    }
    size_t at = base;
    if (base > 0)
        w->path[at++] = '/';
    memcpy(w->path + at, name, nlen + 1);
    *len = at + nlen;
    return DP_OK;
}

static bool other_mount(const struct walker *w, const struct dp_file_id *id)
{
    if (w->opts->cross_mounts)
        return false;
    if (id->dev_major != w->root_id.dev_major || id->dev_minor != w->root_id.dev_minor)
        return true;
    /* a bind mount of the same filesystem shares st_dev but not the mount id */
    return id->mnt_id != 0 && w->root_id.mnt_id != 0 && id->mnt_id != w->root_id.mnt_id;
}

static enum dp_status push_dir(struct walker *w, int fd, size_t path_len, struct dp_error *err)
{
    if (w->depth == w->stack_cap) {
        size_t cap = w->stack_cap ? w->stack_cap * 2 : 64;
        struct level *s = realloc(w->stack, cap * sizeof(*s));
        if (s == NULL) {
            close(fd);
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        }
        w->stack = s;
        w->stack_cap = cap;
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        skip(w, path_len, reason_of_errno(e), e);
        return DP_OK;
    }
    w->stack[w->depth].dir = d;
    w->stack[w->depth].path_len = path_len;
    w->depth++;
    w->stats->directories++;
    return DP_OK;
}

static enum dp_status visit_dir(struct walker *w, int parent, const char *name, size_t len,
                                const struct dp_file_id *seen, struct dp_error *err)
{
    if (other_mount(w, seen)) {
        skip(w, len, DP_SKIP_OTHER_FS, 0);
        return DP_OK;
    }
    bool fb = false;
    int fd = open_noatime(parent, name, O_RDONLY | O_DIRECTORY, &fb);
    if (fd < 0) {
        int e = errno;
        skip(w, len, e == ENOTDIR ? DP_SKIP_CHANGED : reason_of_errno(e), e);
        return DP_OK;
    }
    if (fb)
        w->stats->noatime_fallbacks++;
    struct dp_file_id now;
    if (dp_file_id_stat(fd, "", &now, NULL) != DP_OK || now.ino != seen->ino ||
        now.dev_minor != seen->dev_minor || now.dev_major != seen->dev_major ||
        other_mount(w, &now)) {
        close(fd);
        skip(w, len, DP_SKIP_CHANGED, 0);
        return DP_OK;
    }
    return push_dir(w, fd, len, err);
}

/* Size of the filesystem holding fd (statfs f_blocks * f_frsize), cached per device;
 * 0 when unknown (a pseudo filesystem reporting no blocks). */
static uint64_t fs_size_of(struct walker *w, int fd, const struct dp_file_id *id)
{
    if (w->fs_known && w->fs_major == id->dev_major && w->fs_minor == id->dev_minor)
        return w->fs_bytes;
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return 0;
    uint64_t unit = sf.f_frsize > 0 ? (uint64_t)sf.f_frsize : (uint64_t)sf.f_bsize;
    uint64_t bytes;
    if (__builtin_mul_overflow((uint64_t)sf.f_blocks, unit, &bytes))
        bytes = UINT64_MAX;
    w->fs_known = true;
    w->fs_major = id->dev_major;
    w->fs_minor = id->dev_minor;
    w->fs_bytes = bytes;
    return bytes;
}

/* Is the opened file over the size limit? Then it is reported (and must not be read): a
 * sparse file can claim 2^63-1 bytes of zeros, which would be hashed for centuries. The size
 * is the descriptor's, so a file grown since it was listed is caught too. */
static bool over_size_limit(struct walker *w, const struct dp_walk_file *f)
{
    uint64_t limit = w->opts->max_file_size;
    enum dp_size_limit which = DP_SIZE_LIMIT_MAX_FILE_SIZE;
    if (limit == 0) {
        limit = fs_size_of(w, f->fd, &f->id);
        which = DP_SIZE_LIMIT_FILESYSTEM;
    }
    if (limit == 0 || f->id.size <= limit)
        return false;
    w->stats->skipped[DP_SKIP_TOO_LARGE]++;
    if (w->ops->too_large != NULL)
        w->ops->too_large(w->ctx, f->path, f->path_len, f->id.size, limit, which);
    else if (w->ops->skip != NULL)
        w->ops->skip(w->ctx, f->path, f->path_len, DP_SKIP_TOO_LARGE, 0);
    return true;
}

static enum dp_status visit_file(struct walker *w, int parent, const char *name, size_t len,
                                 const struct dp_file_id *seen, struct dp_error *err)
{
    w->stats->files++;
    if (w->ops->want_size != NULL && !w->ops->want_size(w->ctx, seen->size)) {
        w->stats->files_size_skipped++;
        w->stats->bytes_size_skipped += seen->size;
        return DP_OK;
    }
    bool fb = false;
    /* O_NONBLOCK: if the entry was swapped for a FIFO since statx, open must not hang */
    int fd = open_noatime(parent, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, &fb);
    if (fd < 0) {
        int e = errno;
        skip(w, len, reason_of_errno(e), e);
        return DP_OK;
    }
    if (fb)
        w->stats->noatime_fallbacks++;
    struct dp_walk_file f = {.fd = fd, .path = w->path, .path_len = len};
    if (dp_file_id_stat(fd, "", &f.id, NULL) != DP_OK || !S_ISREG(f.id.mode) ||
        f.id.ino != seen->ino || f.id.dev_minor != seen->dev_minor ||
        f.id.dev_major != seen->dev_major) {
        close(fd);
        skip(w, len, DP_SKIP_CHANGED, 0);
        return DP_OK;
    }
    if (over_size_limit(w, &f)) {
        close(fd);
        return DP_OK;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return w->ops->file(w->ctx, &f, err);
}

static enum dp_status visit_entry(struct walker *w, struct level *lv, const char *name,
                                  struct dp_error *err)
{
    size_t len = 0;
    enum dp_status st = path_push(w, lv->path_len, name, &len, err);
    if (st != DP_OK)
        return st;
    int parent = dirfd(lv->dir);
    struct dp_file_id id;
    struct dp_error serr;
    if (dp_file_id_stat(parent, name, &id, &serr) != DP_OK) {
        skip(w, len, reason_of_errno(serr.sys_errno), serr.sys_errno);
        return DP_OK;
    }
    if (S_ISLNK(id.mode)) {
        skip(w, len, DP_SKIP_SYMLINK, 0);
        return DP_OK;
    }
    if (S_ISDIR(id.mode))
        return visit_dir(w, parent, name, len, &id, err);
    if (!S_ISREG(id.mode)) {
        skip(w, len, DP_SKIP_SPECIAL, 0);
        return DP_OK;
    }
    return visit_file(w, parent, name, len, &id, err);
}

enum dp_status dp_walk(const char *root, const struct dp_walk_opts *opts,
                       const struct dp_walk_ops *ops, void *ctx, struct dp_walk_stats *stats,
                       struct dp_error *err)
{
    static const struct dp_walk_opts defaults;
    struct dp_walk_stats local;
    struct walker w = {.opts = opts ? opts : &defaults, .ops = ops, .ctx = ctx,
                       .stats = stats ? stats : &local};
    memset(w.stats, 0, sizeof(*w.stats));
    enum dp_status st = DP_OK;
    bool fb = false;
    int fd = open_noatime(AT_FDCWD, root, O_RDONLY | O_DIRECTORY, &fb);
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open directory '%s'", root);
    if (fb)
        w.stats->noatime_fallbacks++;
    st = dp_file_id_stat(fd, "", &w.root_id, err);
    if (st != DP_OK) {
        close(fd);
        return st;
    }
    st = path_push(&w, 0, "", &(size_t){0}, err);
    if (st == DP_OK)
        st = push_dir(&w, fd, 0, err);
    else
        close(fd);
    while (st == DP_OK && w.depth > 0) {
        struct level *lv = &w.stack[w.depth - 1];
        errno = 0;
        struct dirent *de = readdir(lv->dir);
        if (de == NULL) {
            if (errno != 0) {
                int e = errno;
                w.path[lv->path_len] = '\0';
                skip(&w, lv->path_len, reason_of_errno(e), e);
            }
            closedir(lv->dir);
            w.depth--;
            continue;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        st = visit_entry(&w, lv, de->d_name, err);
    }
    while (w.depth > 0)
        closedir(w.stack[--w.depth].dir);
    free(w.stack);
    free(w.path);
    return st;
}

int dp_walk_open_at_root(int rootfd, const char *rel, size_t rel_len, int flags,
                         bool cross_mounts, int *dirfd_out, struct dp_error *err)
{
    struct dp_file_id root_id;
    if (dp_file_id_stat(rootfd, "", &root_id, err) != DP_OK)
        return -1;
    char *copy = strndup(rel, rel_len);
    if (copy == NULL) {
        dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        return -1;
    }
    int dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
    int result = -1;
    char *save = copy;
    if (dfd < 0) {
        dp_error_set(err, DP_ERR_IO, errno, "cannot duplicate root descriptor");
        goto out;
    }
    for (;;) {
        char *slash = strchr(save, '/');
        if (slash == NULL)
            break;
        *slash = '\0';
        if (save[0] == '\0' || strcmp(save, ".") == 0 || strcmp(save, "..") == 0) {
            dp_error_set(err, DP_ERR_CHANGED, 0, "path component '%s' not allowed", save);
            goto out;
        }
        int nfd = openat(dfd, save, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC |
                                        O_NOATIME);
        if (nfd < 0 && errno == EPERM)
            nfd = openat(dfd, save, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0) {
            int e = errno;
            struct stat ls;
            /* O_DIRECTORY|O_NOFOLLOW on a symlink fails ENOTDIR: say ELOOP, what it is */
            if (e == ENOTDIR && fstatat(dfd, save, &ls, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(ls.st_mode))
                e = ELOOP;
            dp_error_set(err, (e == ELOOP || e == ENOTDIR) ? DP_ERR_CHANGED : DP_ERR_IO, e,
                         "cannot open directory '%s'", save);
            goto out;
        }
        close(dfd);
        dfd = nfd;
        struct dp_file_id id;
        if (dp_file_id_stat(dfd, "", &id, err) != DP_OK)
            goto out;
        if (!cross_mounts &&
            (id.dev_major != root_id.dev_major || id.dev_minor != root_id.dev_minor ||
             (id.mnt_id && root_id.mnt_id && id.mnt_id != root_id.mnt_id))) {
            dp_error_set(err, DP_ERR_CHANGED, 0, "directory '%s' is on another mount", save);
            goto out;
        }
        save = slash + 1;
    }
    if (save[0] == '\0' || strcmp(save, ".") == 0 || strcmp(save, "..") == 0) {
        dp_error_set(err, DP_ERR_CHANGED, 0, "bad file name in path");
        goto out;
    }
    result = openat(dfd, save, flags | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_NONBLOCK);
    if (result < 0 && errno == EPERM)
        result = openat(dfd, save, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (result < 0) {
        int e = errno;
        dp_error_set(err, e == ELOOP ? DP_ERR_CHANGED : DP_ERR_IO, e, "cannot open '%s'", save);
        goto out;
    }
    int fl = fcntl(result, F_GETFL);
    if (fl >= 0)
        fcntl(result, F_SETFL, fl & ~O_NONBLOCK);
    if (dirfd_out != NULL) {
        *dirfd_out = dfd;
        dfd = -1;
    }
out:
    if (dfd >= 0)
        close(dfd);
    free(copy);
    return result;
}
