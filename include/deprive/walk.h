/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: walk a directory tree safely - no symlink followed, one filesystem, no special
 * file opened, every file opened read-only without touching its access time. */
#ifndef DEPRIVE_WALK_H
#define DEPRIVE_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/types.h"

/* Why an object was not examined. Stable names (dp_skip_reason_name) go into reports. */
enum dp_skip_reason {
    DP_SKIP_SYMLINK = 0,  /* "symlink": never followed */
    DP_SKIP_SPECIAL,      /* "special-file": FIFO, socket, block or character device */
    DP_SKIP_OTHER_FS,     /* "other-filesystem": a mount point (not crossed) */
    DP_SKIP_PERMISSION,   /* "permission": EACCES/EPERM */
    DP_SKIP_IO,           /* "io-error": any other error, errno recorded */
    DP_SKIP_VANISHED,     /* "vanished": removed while the walk ran */
    DP_SKIP_CHANGED,      /* "changed": replaced or modified while being read */
    DP_SKIP_LIMIT,        /* "limit": out of descriptors, or a name too long */
    DP_SKIP_TOO_LARGE,    /* "too-large": apparent size over the limit (enum dp_size_limit),
                           * not read at all: a sparse file can claim 2^63-1 bytes */
    DP_SKIP_REASON_COUNT
};
const char *dp_skip_reason_name(enum dp_skip_reason reason);
/* Parse a stable name back; false when unknown. */
bool dp_skip_reason_parse(const char *name, enum dp_skip_reason *out) DP_WUR;

/* The limit a DP_SKIP_TOO_LARGE file exceeded. Stable names go into reports. */
enum dp_size_limit {
    DP_SIZE_LIMIT_FILESYSTEM = 0, /* "filesystem": the size of the file's whole filesystem
                                   * (statfs f_blocks * f_frsize); only a sparse (or hostile)
                                   * regular file can be larger. The default limit */
    DP_SIZE_LIMIT_MAX_FILE_SIZE,  /* "max-file-size": dp_walk_opts.max_file_size, given by the
                                   * examiner (--max-file-size); replaces the default */
    DP_SIZE_LIMIT_COUNT
};
const char *dp_size_limit_name(enum dp_size_limit which);
bool dp_size_limit_parse(const char *name, enum dp_size_limit *out) DP_WUR;
/* The one wording of a too-large skip, for people: "apparent size S bytes exceeds the
 * filesystem size L bytes" or "apparent size S bytes exceeds --max-file-size L". snprintf
 * semantics (truncated, always NUL-terminated when size > 0). */
void dp_size_limit_text(char *buf, size_t size, uint64_t apparent, uint64_t limit,
                        enum dp_size_limit which);

/* statx of dirfd/name (AT_SYMLINK_NOFOLLOW; name "" = dirfd itself with AT_EMPTY_PATH, and
 * then also the inode generation where the filesystem reports it). */
enum dp_status dp_file_id_stat(int dirfd, const char *name, struct dp_file_id *out,
                               struct dp_error *err) DP_WUR;
/* Same object and unchanged content metadata (dev, ino, size, mtime, ctime)? */
bool dp_file_id_same(const struct dp_file_id *a, const struct dp_file_id *b);

/* A regular file handed to the file callback. */
struct dp_walk_file {
    int fd;               /* O_RDONLY|O_NOFOLLOW|O_NOATIME; the callback owns it (closes it) */
    const char *path;     /* relative to the root, raw bytes, not NUL-safe: use path_len */
    size_t path_len;      /* (path is NUL-terminated too, as names cannot hold NUL) */
    struct dp_file_id id; /* from fstat of fd */
};

struct dp_walk_stats {
    uint64_t directories;         /* directories entered, root included */
    uint64_t files;               /* regular files seen */
    uint64_t files_size_skipped;  /* regular files not opened: size wanted by no entry */
    uint64_t bytes_size_skipped;  /* their total size */
    uint64_t skipped[DP_SKIP_REASON_COUNT];
    uint64_t noatime_fallbacks;   /* opens that had to drop O_NOATIME (EPERM) */
};

struct dp_walk_ops {
    /* Regular file opened; must close f->fd. A non-OK return stops the walk with that
     * status. Called from the walking thread only. */
    enum dp_status (*file)(void *ctx, struct dp_walk_file *f, struct dp_error *err);
    /* Object not examined. path is borrowed for the call. */
    void (*skip)(void *ctx, const char *path, size_t path_len, enum dp_skip_reason reason,
                 int errnum);
    /* Optional: should a regular file of this size be opened at all? NULL = yes. Asked
     * first: a file no entry wants is counted as size-skipped even when it is too large. */
    bool (*want_size)(void *ctx, uint64_t size);
    /* Optional: a regular file not handed to file() because its apparent size (from fstat of
     * the descriptor opened, before any read) exceeds limit; counted under
     * DP_SKIP_TOO_LARGE. NULL = reported through skip() instead, without the sizes. path is
     * borrowed for the call. */
    void (*too_large)(void *ctx, const char *path, size_t path_len, uint64_t size,
                      uint64_t limit, enum dp_size_limit which);
};

struct dp_walk_opts {
    bool cross_mounts;      /* descend into other mounts (default: stay on the root's mount) */
    uint64_t max_file_size; /* regular files larger than this are too large
                             * (DP_SIZE_LIMIT_MAX_FILE_SIZE); 0 = the default limit, the size
                             * of the file's own filesystem (not applied when the filesystem
                             * reports no size: statfs f_blocks 0, as proc or sysfs) */
};

/* Walk root depth-first. root itself must be a directory (a symlink root is refused).
 * Regular files over the size limit (dp_walk_opts.max_file_size) are opened but never read:
 * too_large (or skip) is called instead of file. Per-object failures are reported through
 * ops->skip and the walk goes on; the walk fails only when root cannot be opened or a
 * callback fails. */
enum dp_status dp_walk(const char *root, const struct dp_walk_opts *opts,
                       const struct dp_walk_ops *ops, void *ctx, struct dp_walk_stats *stats,
                       struct dp_error *err) DP_WUR DP_NONNULL(1, 3);

/* Open a path relative to an open root directory, one component at a time with
 * O_NOFOLLOW|O_NOATIME, never following a symlink and never leaving the root's mount
 * (unless cross_mounts). flags are added to the final open (e.g. O_RDWR). Returns the fd,
 * or -1 with err filled (DP_ERR_CHANGED when a component is a symlink or not what it
 * should be). If dirfd_out is non-NULL it receives an fd of the containing directory. */
int dp_walk_open_at_root(int rootfd, const char *rel, size_t rel_len, int flags,
                         bool cross_mounts, int *dirfd_out, struct dp_error *err);

#endif
