/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: a read-only byte source - a raw image file or a block device read with pread, or
 * an EWF set handed to ewf.c (source.h).
 *
 * Opening never blocks and never wakes a device: the path's type is checked with stat before
 * anything is opened (opening a character device can rewind a tape or arm a watchdog; opening
 * a FIFO for reading waits for a writer), the open itself is O_NONBLOCK, and fstat must then
 * find the same object. */
#include "deprive/source.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "deprive/util.h"

struct dp_source {
    struct dp_source_info info;
    int fd; /* raw sources; -1 for EWF */
    unsigned flags;
    char *path;  /* as given */
    char *qpath; /* quoted for messages */
    struct dp_source_ewf *ewf;
};

static enum dp_status drop(struct dp_source *s, uint64_t a, uint64_t b, struct dp_error *err);

static const char *const kind_names[DP_SOURCE_KIND_COUNT] = {
    [DP_SOURCE_IMAGE_FILE] = "image-file",
    [DP_SOURCE_BLOCK_DEVICE] = "block-device",
    [DP_SOURCE_EWF] = "ewf",
};

const char *dp_source_kind_name(enum dp_source_kind k)
{
    return (unsigned)k < DP_SOURCE_KIND_COUNT ? kind_names[k] : NULL;
}

static const char *refused_type(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m))
        return "a character device";
    return "not a regular file or block device";
}

/* The first line of a small sysfs file into buf (trailing blanks cut); false when absent. */
static bool sysfs_read(const char *dir, const char *rel, char *buf, size_t cap)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, rel);
    buf[0] = '\0';
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return false;
    ssize_t n;
    do
        n = read(fd, buf, cap - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return false;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    for (size_t l = strlen(buf); l > 0 && (buf[l - 1] == ' ' || buf[l - 1] == '\t'); l--)
        buf[l - 1] = '\0';
    return true;
}

/* What sysfs says cheaply of the disk holding block device maj:min (its parent for a
 * partition). Nothing here is needed to read: missing facts stay false / "". */
static void sysfs_facts(struct dp_source_info *info)
{
    char dir[128], v[sizeof(info->model)];
    snprintf(dir, sizeof(dir), "/sys/dev/block/%llu:%llu", (unsigned long long)info->dev_major,
             (unsigned long long)info->dev_minor);
    info->is_partition = sysfs_read(dir, "partition", v, sizeof(v));
    if (info->is_partition)
        snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/..");
    info->removable = sysfs_read(dir, "removable", v, sizeof(v)) && strcmp(v, "1") == 0;
    info->rotational = sysfs_read(dir, "queue/rotational", v, sizeof(v)) && strcmp(v, "1") == 0;
    if (sysfs_read(dir, "device/model", v, sizeof(v)))
        memcpy(info->model, v, sizeof(v));
}

static enum dp_status block_info(struct dp_source *s, const struct stat *st, struct dp_error *err)
{
    struct dp_source_info *info = &s->info;
    info->kind = DP_SOURCE_BLOCK_DEVICE;
    info->dev_major = major(st->st_rdev);
    info->dev_minor = minor(st->st_rdev);
    uint64_t size = 0;
    if (ioctl(s->fd, BLKGETSIZE64, &size) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot get the size of '%s'", s->qpath);
    info->size = size;
    int lss = 0, ro = 0;
    unsigned int pss = 0;
    info->sector_size = ioctl(s->fd, BLKSSZGET, &lss) == 0 && lss > 0 ? (uint32_t)lss : 512;
    if (ioctl(s->fd, BLKPBSZGET, &pss) == 0)
        info->physical_sector_size = pss;
    info->read_only_device = ioctl(s->fd, BLKROGET, &ro) == 0 && ro != 0;
    sysfs_facts(info);
    if (size == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "'%s' has no media (size 0)", s->qpath);
    return DP_OK;
}

/* Open path O_RDONLY without blocking, as the type st found; O_NOATIME on a file when allowed
 * (the owner or CAP_FOWNER). */
static enum dp_status open_raw(struct dp_source *s, const struct stat *st, struct dp_error *err)
{
    int fl = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int fd = open(s->path, fl | (S_ISREG(st->st_mode) ? O_NOATIME : 0));
    if (fd < 0 && errno == EPERM && S_ISREG(st->st_mode))
        fd = open(s->path, fl);
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open '%s'", s->qpath);
    s->fd = fd;
    struct stat now;
    if (fstat(fd, &now) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot stat '%s'", s->qpath);
    if ((now.st_mode & S_IFMT) != (st->st_mode & S_IFMT) || now.st_dev != st->st_dev ||
        now.st_ino != st->st_ino || now.st_rdev != st->st_rdev)
        return dp_error_set(err, DP_ERR_CHANGED, 0, "'%s' changed while it was opened", s->qpath);
    int cur = fcntl(fd, F_GETFL);
    if (cur < 0 || fcntl(fd, F_SETFL, cur & ~O_NONBLOCK) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot set up '%s'", s->qpath);
    return DP_OK;
}

/* A regular file: an EWF set when its content says so, else a raw image. */
static enum dp_status file_source(struct dp_source *s, const struct stat *st, struct dp_error *err)
{
    uint8_t head[DP_SOURCE_EWF_SNIFF_BYTES];
    ssize_t n;
    do
        n = pread(s->fd, head, sizeof(head), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot read '%s'", s->qpath);
    unsigned seg = 0;
    switch (dp_source_ewf_sniff(head, (size_t)n, &seg)) {
    case DP_SOURCE_EWF_SIG_MEDIA:
        /* libewf opens the segments itself */
        close(s->fd);
        s->fd = -1;
        return dp_source_ewf_open(&s->ewf, &s->info, s->path, err);
    case DP_SOURCE_EWF_SIG_LOGICAL:
        return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                            "'%s' is a logical evidence file (L01): it holds files, not media",
                            s->qpath);
    case DP_SOURCE_EWF_SIG_NONE:
        break;
    }
    s->info.kind = DP_SOURCE_IMAGE_FILE;
    s->info.size = (uint64_t)st->st_size;
    s->info.sector_size = 512;
    if (st->st_size == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "'%s' is empty (zero bytes)", s->qpath);
    return DP_OK;
}

enum dp_status dp_source_open(struct dp_source **out, const char *path, unsigned flags,
                              struct dp_error *err)
{
    *out = NULL;
    if (flags & ~DP_SOURCE_DROP_CACHE)
        dp_misuse("dp_source_open: unknown flags");
    struct dp_source *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    s->fd = -1;
    s->flags = flags;
    s->path = strdup(path);
    s->qpath = dp_quote_bytes(path, strlen(path));
    enum dp_status st = DP_OK;
    struct stat sb;
    if (s->path == NULL || s->qpath == NULL)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    else if (stat(path, &sb) != 0)
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot open '%s'", s->qpath);
    else if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))
        st = dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                          "'%s' is %s: give a disk image, an E01 set or a block device", s->qpath,
                          refused_type(sb.st_mode));
    if (st == DP_OK)
        st = open_raw(s, &sb, err);
    if (st == DP_OK)
        st = S_ISBLK(sb.st_mode) ? block_info(s, &sb, err) : file_source(s, &sb, err);
    /* pages an earlier reader left must not stand in for the device */
    if (st == DP_OK && (flags & DP_SOURCE_DROP_CACHE) && s->ewf == NULL)
        st = drop(s, 0, s->info.size, err);
    if (st != DP_OK) {
        dp_source_free(s);
        return st;
    }
    *out = s;
    return DP_OK;
}

const struct dp_source_info *dp_source_info(const struct dp_source *s)
{
    return &s->info;
}

size_t dp_source_file_count(const struct dp_source *s)
{
    return s->ewf != NULL ? dp_source_ewf_file_count(s->ewf) : 1;
}

const char *dp_source_file(const struct dp_source *s, size_t i)
{
    if (s->ewf != NULL)
        return dp_source_ewf_file(s->ewf, i);
    if (i != 0)
        dp_misuse("dp_source_file: index out of range");
    return s->path;
}

/* The kernel drops only whole folios inside the range it is given, and a folio of the page
 * cache may be large (ext4 and the block device cache use folios up to 2 MiB on x86-64, more
 * elsewhere): a range is widened to this alignment so that no folio it touches survives. */
#define DROP_ALIGN (8ull << 20)

/* Drop the cached pages of [a, b) widened to DROP_ALIGN (b at or past the size: to the end). */
static enum dp_status drop(struct dp_source *s, uint64_t a, uint64_t b, struct dp_error *err)
{
    a -= a % DROP_ALIGN;
    uint64_t len = 0; /* fadvise: to the end */
    if (b < s->info.size && b <= UINT64_MAX - DROP_ALIGN) {
        b += (DROP_ALIGN - b % DROP_ALIGN) % DROP_ALIGN;
        len = b < s->info.size ? b - a : 0;
    }
    int r = posix_fadvise(s->fd, (off_t)a, (off_t)len, POSIX_FADV_DONTNEED);
    if (r != 0)
        return dp_error_set(err, DP_ERR_IO, r, "cannot drop cached pages of '%s'", s->qpath);
    return DP_OK;
}

enum dp_status dp_source_drop_cache(struct dp_source *s, uint64_t off, uint64_t len,
                                    struct dp_error *err)
{
    if (s->ewf != NULL || off >= s->info.size)
        return DP_OK;
    uint64_t end = len == 0 || len > s->info.size - off ? s->info.size : off + len;
    return drop(s, off, end, err);
}

enum dp_status dp_source_read(struct dp_source *s, uint64_t off, void *buf, size_t len, size_t *got,
                              struct dp_error *err)
{
    *got = 0;
    if (buf == NULL && len != 0)
        dp_misuse("dp_source_read: no buffer");
    if (s->ewf != NULL)
        return dp_source_ewf_read(s->ewf, off, buf, len, got, err);
    if (off >= s->info.size || len == 0)
        return DP_OK;
    if (len > s->info.size - off)
        len = (size_t)(s->info.size - off);
    enum dp_status st = DP_OK;
    while (*got < len) {
        ssize_t n = pread(s->fd, (uint8_t *)buf + *got, len - *got, (off_t)(off + *got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = dp_error_set(err, DP_ERR_IO, errno, "cannot read '%s' at byte %llu", s->qpath,
                              (unsigned long long)(off + *got));
            break;
        }
        if (n == 0)
            break; /* the file shrank: the media ends here */
        *got += (size_t)n;
    }
    /* What this read brought in is not kept for the next sweep. Only the folios ending by
     * off + *got: the one straddling it also holds read-ahead the next read wants, and goes
     * with that read (the widened start) or at the end of the media. */
    if ((s->flags & DP_SOURCE_DROP_CACHE) && *got > 0) {
        uint64_t end = off + *got;
        if (end < s->info.size)
            end -= end % DROP_ALIGN;
        if (end > off - off % DROP_ALIGN) {
            enum dp_status d = drop(s, off, end, st == DP_OK ? err : NULL);
            st = st == DP_OK ? d : st;
        }
    }
    return st;
}

uint64_t dp_source_checksum_errors(const struct dp_source *s)
{
    return s->ewf != NULL ? dp_source_ewf_checksum_errors(s->ewf) : 0;
}

void dp_source_free(struct dp_source *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0) {
        /* what is left of the last reads (the stretch not yet dropped, read-ahead) */
        if ((s->flags & DP_SOURCE_DROP_CACHE) && s->info.size > 0)
            (void)drop(s, 0, s->info.size, NULL);
        close(s->fd);
    }
    dp_source_ewf_free(s->ewf);
    free(s->path);
    free(s->qpath);
    free(s);
}
