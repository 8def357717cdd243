/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: overwrite passes, read-back verification from the device, extents, and the
 * filesystem-level clean-up (ext4 journal checkpoint, free-space fill, FITRIM). */
#include "internal.h"
#include "deprive/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "deprive/walk.h"

/* Not in every distribution's kernel headers yet (Linux 5.13+). */
#ifndef EXT4_IOC_CHECKPOINT
#define EXT4_IOC_CHECKPOINT _IOW('f', 43, __u32)
#endif
#define EXT4_CHECKPOINT_FLAG_ZEROOUT 0x00000002u

enum dp_status wipe_io_init(struct wipe_io *io, enum dp_wipe_method method,
                            struct dp_error *err)
{
    memset(io, 0, sizeof(*io));
    io->method = method;
    io->key = sodium_malloc(32);
    io->buf = aligned_alloc(4096, WIPE_CHUNK);
    io->rbuf = aligned_alloc(4096, WIPE_CHUNK);
    io->cipher = EVP_CIPHER_CTX_new();
    if (io->key == NULL || io->buf == NULL || io->rbuf == NULL || io->cipher == NULL) {
        wipe_io_release(io);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    randombytes_buf(io->key, 32);
    if (EVP_EncryptInit_ex(io->cipher, EVP_chacha20(), NULL, io->key, NULL) != 1) {
        wipe_io_release(io);
        return dp_error_set(err, DP_ERR_CRYPTO, 0, "ChaCha20 unavailable in libcrypto");
    }
    return DP_OK;
}

void wipe_io_release(struct wipe_io *io)
{
    if (io->key != NULL)
        sodium_free(io->key);
    EVP_CIPHER_CTX_free(io->cipher); /* cleanses the key schedule */
    free(io->buf);
    free(io->rbuf);
    memset(io, 0, sizeof(*io));
}

static const char *pattern_name(enum pattern p)
{
    switch (p) {
    case PAT_ZERO: return "zeros";
    case PAT_ONES: return "ones";
    case PAT_STREAM: return "chacha20";
    case PAT_RANDOM: return "random";
    }
    return "?";
}

static size_t method_passes(enum dp_wipe_method m, enum pattern out[3])
{
    switch (m) {
    case DP_WIPE_ZERO: out[0] = PAT_ZERO; return 1;
    case DP_WIPE_RANDOM: out[0] = PAT_RANDOM; return 1;
    case DP_WIPE_DOD3: out[0] = PAT_ZERO, out[1] = PAT_ONES, out[2] = PAT_STREAM; return 3;
    case DP_WIPE_NIST_CLEAR: break;
    }
    out[0] = PAT_STREAM;
    return 1;
}

/* Fill buf with n bytes of the pattern at file offset off (multiple of 64). The stream is
 * ChaCha20 keyed per run with nonce = per-file salt || high part of the block counter, so any
 * range can be regenerated for verification without storing it. OpenSSL's ChaCha20 is used
 * rather than libsodium's: same cipher, about five times faster here (bench/wipe.sh), which
 * keeps the overwrite pass I/O-bound. */
static void fill(struct wipe_io *io, enum pattern p, const uint8_t salt[8], uint64_t off,
                 uint8_t *buf, size_t n)
{
    switch (p) {
    case PAT_ZERO: memset(buf, 0, n); return;
    case PAT_ONES: memset(buf, 0xff, n); return;
    case PAT_RANDOM: randombytes_buf(buf, n); return;
    case PAT_STREAM: break;
    }
    uint64_t block = off / 64;
    /* OpenSSL's 16-byte ChaCha20 IV: 32-bit little-endian block counter, then 96-bit nonce */
    uint8_t iv[16];
    uint32_t lo = (uint32_t)block, hi = (uint32_t)(block >> 32);
    for (int i = 0; i < 4; i++)
        iv[i] = (uint8_t)(lo >> (8 * i));
    memcpy(iv + 4, salt, 8);
    for (int i = 0; i < 4; i++)
        iv[12 + i] = (uint8_t)(hi >> (8 * i));
    memset(buf, 0, n);
    int outl = 0;
    /* a chunk never straddles a 2^32-block boundary: chunks are 4 MiB-aligned */
    if (EVP_EncryptInit_ex(io->cipher, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(io->cipher, buf, &outl, buf, (int)n) != 1 || (size_t)outl != n)
        dp_misuse("ChaCha20 keystream generation failed");
}

void wipe_io_stream(struct wipe_io *io, const uint8_t salt[8], uint64_t off, uint8_t *buf,
                    size_t n)
{
    fill(io, PAT_STREAM, salt, off, buf, n);
}

static enum dp_status pwrite_all(int fd, const uint8_t *b, size_t n, uint64_t off,
                                 struct dp_error *err)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, b, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return dp_error_set(err, DP_ERR_IO, w < 0 ? errno : EIO, "overwrite failed");
        b += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return DP_OK;
}

static enum dp_status pread_all(int fd, uint8_t *b, size_t n, uint64_t off,
                                struct dp_error *err)
{
    while (n > 0) {
        ssize_t r = pread(fd, b, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return dp_error_set(err, DP_ERR_IO, r < 0 ? errno : EIO, "read-back failed");
        b += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return DP_OK;
}

/* A second descriptor on the same inode with O_DIRECT, so writes and the read-back bypass the
 * page cache. -1 where the filesystem refuses it (FUSE, some others). */
static int open_direct(int fd)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    int d = open(p, O_RDWR | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
    if (d < 0)
        d = open(p, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (d < 0)
        return -1;
    struct stat a, b;
    if (fstat(fd, &a) != 0 || fstat(d, &b) != 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
        close(d);
        return -1;
    }
    return d;
}

/* The byte ranges of a file that hold data: a sparse file's holes own no blocks, and writing
 * them would allocate blocks (a 200 MiB sparse file on a 64 MiB filesystem filled it). */
struct segs {
    uint64_t (*r)[2]; /* [start, end) */
    size_t n, cap;
};

static bool segs_add(struct segs *s, uint64_t a, uint64_t b)
{
    if (s->n > 0 && s->r[s->n - 1][1] >= a) { /* adjoining after rounding */
        if (b > s->r[s->n - 1][1])
            s->r[s->n - 1][1] = b;
        return true;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *r = realloc(s->r, cap * sizeof(*s->r));
        if (r == NULL)
            return false;
        s->r = r;
        s->cap = cap;
    }
    s->r[s->n][0] = a;
    s->r[s->n][1] = b;
    s->n++;
    return true;
}

/* Data ranges of fd within [0, len), widened to whole blocks of blk (the slack of a block holds
 * old bytes too). Where SEEK_DATA is not supported, the whole length is one range. */
static enum dp_status data_segments(int fd, uint64_t len, uint64_t blk, struct segs *s,
                                    struct dp_error *err)
{
    uint64_t off = 0;
    while (off < len) {
        off_t d = lseek(fd, (off_t)off, SEEK_DATA);
        if (d < 0 && errno == ENXIO)
            break;
        if (d < 0 && (errno == EINVAL || errno == EOPNOTSUPP) && off == 0)
            return segs_add(s, 0, len) ? DP_OK : dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        if (d < 0)
            return dp_error_set(err, DP_ERR_IO, errno, "cannot map the file's data (SEEK_DATA)");
        off_t h = lseek(fd, d, SEEK_HOLE);
        if (h < 0)
            return dp_error_set(err, DP_ERR_IO, errno, "cannot map the file's data (SEEK_HOLE)");
        uint64_t a = (uint64_t)d / blk * blk;
        uint64_t b = ((uint64_t)h + blk - 1) / blk * blk;
        if (b > len)
            b = len;
        if (b <= a)
            break;
        if (!segs_add(s, a, b))
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        off = b;
    }
    return DP_OK;
}

/* The next piece of [off, end): at most a chunk, never crossing a chunk boundary (the stream's
 * block counter must not straddle 2^32 blocks inside one fill). */
static size_t piece(uint64_t off, uint64_t end)
{
    uint64_t n = WIPE_CHUNK - off % WIPE_CHUNK;
    return end - off < n ? (size_t)(end - off) : (size_t)n;
}

static enum dp_status write_pass(struct wipe_io *io, int fd, enum pattern p,
                                 const uint8_t salt[8], const struct segs *sg,
                                 crypto_generichash_state *h, struct dp_error *err)
{
    for (size_t i = 0; i < sg->n; i++) {
        for (uint64_t off = sg->r[i][0]; off < sg->r[i][1];) {
            size_t n = piece(off, sg->r[i][1]);
            fill(io, p, salt, off, io->buf, n);
            if (h != NULL)
                crypto_generichash_update(h, io->buf, n);
            enum dp_status st = pwrite_all(fd, io->buf, n, off, err);
            if (st != DP_OK)
                return st;
            off += n;
        }
    }
    if (fdatasync(fd) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "fdatasync after overwrite failed");
    return DP_OK;
}

static enum dp_status verify_pass(struct wipe_io *io, int fd, enum pattern p,
                                  const uint8_t salt[8], const struct segs *sg,
                                  const uint8_t written_hash[32], struct dp_error *err)
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    for (size_t i = 0; i < sg->n; i++) {
        for (uint64_t off = sg->r[i][0]; off < sg->r[i][1];) {
            size_t n = piece(off, sg->r[i][1]);
            enum dp_status st = pread_all(fd, io->rbuf, n, off, err);
            if (st != DP_OK)
                return st;
            if (p == PAT_RANDOM) {
                crypto_generichash_update(&h, io->rbuf, n);
            } else {
                fill(io, p, salt, off, io->buf, n);
                if (memcmp(io->buf, io->rbuf, n) != 0) /* not a secret: plain memcmp */
                    return dp_error_set(err, DP_ERR_VERIFY, 0,
                                        "read-back differs from what was written at offset %llu",
                                        (unsigned long long)off);
            }
            off += n;
        }
    }
    if (p == PAT_RANDOM) {
        uint8_t got[32];
        crypto_generichash_final(&h, got, sizeof(got));
        if (sodium_memcmp(got, written_hash, 32) != 0)
            return dp_error_set(err, DP_ERR_VERIFY, 0, "read-back differs from what was written");
    }
    return DP_OK;
}

/* Every pass of the method over the segments through wfd (and fdatasync of syncfd after
 * each, when it is not -1: the O_DIRECT descriptor's file), recorded in passes; whash gets the
 * BLAKE2b of the last pass's bytes (a random pass is verified by it). */
static enum dp_status run_passes(struct wipe_io *io, int wfd, int syncfd,
                                 const enum pattern *pats, size_t np, const uint8_t salt[8],
                                 const struct segs *sg, uint64_t bytes, json_t *passes,
                                 uint8_t whash[32], struct dp_error *err)
{
    enum dp_status st = DP_OK;
    for (size_t i = 0; i < np && st == DP_OK; i++) {
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, 32);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        st = write_pass(io, wfd, pats[i], salt, sg, pats[i] == PAT_RANDOM ? &h : NULL, err);
        if (st == DP_OK && syncfd >= 0 && fdatasync(syncfd) != 0)
            st = dp_error_set(err, DP_ERR_IO, errno, "fdatasync failed");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        crypto_generichash_final(&h, whash, 32);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        json_array_append_new(passes, json_pack("{s:s, s:I, s:b, s:f}", "pattern",
                                                pattern_name(pats[i]), "bytes", (json_int_t)bytes,
                                                "synced", st == DP_OK, "seconds", secs));
    }
    return st;
}

enum dp_status wipe_io_overwrite(struct wipe_io *io, int fd, uint64_t len, uint64_t blk,
                                 json_t **overwrite, json_t **verification, struct dp_error *err)
{
    enum pattern pats[3];
    size_t np = method_passes(io->method, pats);
    uint8_t salt[8];
    randombytes_buf(salt, sizeof(salt));
    struct segs sg = {0};
    enum dp_status st = data_segments(fd, len, blk, &sg, err);
    uint64_t bytes = 0;
    for (size_t i = 0; i < sg.n; i++)
        bytes += sg.r[i][1] - sg.r[i][0];
    int dfd = st == DP_OK && bytes > 0 ? open_direct(fd) : -1;
    int wfd = dfd >= 0 ? dfd : fd;
    json_t *passes = json_array();
    uint8_t whash[32] = {0};
    if (st == DP_OK)
        st = run_passes(io, wfd, dfd >= 0 ? fd : -1, pats, np, salt, &sg, bytes, passes, whash,
                        err);
    const char *vmethod = dfd >= 0 ? "o_direct" : "fadvise-dontneed";
    const char *vresult = "not-done";
    if (st == DP_OK) {
        /* without O_DIRECT: the pages are clean after fdatasync, so DONTNEED drops them and
         * the re-read comes from the device */
        if (dfd < 0)
            posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        st = verify_pass(io, wfd, pats[np - 1], salt, &sg, whash, err);
        vresult = st == DP_OK ? "match" : (st == DP_ERR_VERIFY ? "mismatch" : "not-done");
    }
    if (dfd >= 0)
        close(dfd);
    *overwrite = json_pack("{s:o, s:I, s:I, s:I, s:b}", "passes", passes, "bytes",
                           (json_int_t)bytes, "length", (json_int_t)len, "data_ranges",
                           (json_int_t)sg.n, "direct_io", dfd >= 0);
    *verification = json_pack("{s:s, s:s}", "method", vmethod, "result", vresult);
    free(sg.r);
    return st;
}

enum dp_status wipe_io_overwrite_ranges(struct wipe_io *io, int fd, const uint64_t (*ranges)[2],
                                        size_t n, json_t **overwrite, json_t **verification,
                                        struct dp_error *err)
{
    enum pattern pats[3];
    size_t np = method_passes(io->method, pats);
    uint8_t salt[8];
    randombytes_buf(salt, sizeof(salt));
    struct segs sg = {0};
    uint64_t(*sorted)[2] = malloc((n ? n : 1) * sizeof(*sorted));
    enum dp_status st = sorted == NULL ? dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory")
                                       : DP_OK;
    if (st == DP_OK) {
        memcpy(sorted, ranges, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), dp_range_cmp);
        for (size_t i = 0; i < n && st == DP_OK; i++)
            if (!segs_add(&sg, sorted[i][0], sorted[i][0] + sorted[i][1]))
                st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    free(sorted);
    uint64_t bytes = 0;
    for (size_t i = 0; i < sg.n; i++)
        bytes += sg.r[i][1] - sg.r[i][0];
    /* buffered writes: the ranges are not block-aligned, and O_DIRECT needs alignment */
    json_t *passes = json_array();
    uint8_t whash[32] = {0};
    if (st == DP_OK)
        st = run_passes(io, fd, -1, pats, np, salt, &sg, bytes, passes, whash, err);
    const char *vresult = "not-done";
    if (st == DP_OK) {
        /* the pages are clean after fdatasync: DONTNEED drops them, the re-read comes from
           the device */
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        st = verify_pass(io, fd, pats[np - 1], salt, &sg, whash, err);
        vresult = st == DP_OK ? "match" : (st == DP_ERR_VERIFY ? "mismatch" : "not-done");
    }
    *overwrite = json_pack("{s:o, s:I, s:I, s:b}", "passes", passes, "bytes", (json_int_t)bytes,
                           "ranges", (json_int_t)sg.n, "direct_io", 0);
    *verification = json_pack("{s:s, s:s}", "method", "fadvise-dontneed", "result", vresult);
    free(sg.r);
    return st;
}

bool wipe_extents_moved(const json_t *before, const json_t *after)
{
    size_t i;
    const json_t *b;
    json_array_foreach(before, i, b) {
        json_int_t bl = json_integer_value(json_object_get(b, "logical"));
        json_int_t bp = json_integer_value(json_object_get(b, "physical"));
        json_int_t blen = json_integer_value(json_object_get(b, "length"));
        bool found = false;
        size_t k;
        const json_t *a;
        json_array_foreach(after, k, a) {
            json_int_t al = json_integer_value(json_object_get(a, "logical"));
            json_int_t ap = json_integer_value(json_object_get(a, "physical"));
            json_int_t alen = json_integer_value(json_object_get(a, "length"));
            /* the before-extent must lie inside an after-extent at the same physical offset */
            if (bl >= al && bl + blen <= al + alen && bp - bl == ap - al) {
                found = true;
                break;
            }
        }
        if (!found)
            return true;
    }
    return false;
}

static json_t *checkpoint_ext4(int rootfd)
{
    if (syncfs(rootfd) != 0)
        return json_pack("{s:b, s:b, s:s}", "attempted", 1, "done", 0, "error", strerror(errno));
    __u32 flags = EXT4_CHECKPOINT_FLAG_ZEROOUT;
    if (ioctl(rootfd, EXT4_IOC_CHECKPOINT, &flags) != 0)
        return json_pack("{s:b, s:b, s:s}", "attempted", 1, "done", 0, "error", strerror(errno));
    return json_pack("{s:b, s:b, s:n}", "attempted", 1, "done", 1, "error");
}

/* ---- free space a filesystem holds back from writers ---- */

/* XFS_IOC_GET_RESBLKS (xfs_fs.h is not installed everywhere). */
struct xfs_resblks_arg {
    uint64_t resblks, resblks_avail;
};
#define DP_XFS_IOC_GET_RESBLKS _IOR('X', 115, struct xfs_resblks_arg)
#define DP_XFS_IOC_SET_RESBLKS _IOWR('X', 114, struct xfs_resblks_arg)

/* What the XFS reserve pool is lowered to for the fill: with none at all, writeback of the
 * last fill file cannot allocate its block-map blocks and fails with ENOSPC at fsync. */
#define XFS_FILL_RESBLKS 64

/* Set the XFS reserve pool to value blocks; 0 or an errno. */
static int xfs_set_resblks(int rootfd, uint64_t value)
{
    struct xfs_resblks_arg a = {.resblks = value};
    return ioctl(rootfd, DP_XFS_IOC_SET_RESBLKS, &a) == 0 ? 0 : errno;
}

/* A reserve the fill lowers for its run. ext4 keeps "reserved clusters" (2 % or 4096
 * clusters, whichever is smaller) that no writer can allocate, root included, so deleted data
 * in the last free blocks would survive a fill that stops at ENOSPC; XFS keeps a reserve pool
 * of blocks (XFS_IOC_SET_RESBLKS sets it). Both values live in memory only: every mount sets
 * them again. XFS's per-allocation-group metadata reservations cannot be lowered: what they
 * hold back is what the fill reports as unfilled. */
struct reserve {
    const char *kind; /* "ext4-reserved-clusters", "xfs-reserved-blocks", NULL: none known */
    char path[128];   /* ext4: the sysfs file; XFS: "" */
    int rootfd;       /* XFS: the filesystem, for the ioctl */
    uint64_t value;   /* as found (ext4 clusters, XFS blocks) */
    uint64_t hidden;  /* bytes held back that statfs does not count as free (XFS) */
    bool lowered, restored;
    char error[256];
};

static bool ext4_reserve_path(const struct dp_fsinfo *fs, char *out, size_t size)
{
    if (strcmp(dp_fsinfo_kind(fs), "ext4") != 0 || fs->block_name[0] == '\0' ||
        strchr(fs->block_name, '/') != NULL)
        return false;
    int n = snprintf(out, size, "/sys/fs/ext4/%s/reserved_clusters", fs->block_name);
    return n > 0 && (size_t)n < size;
}

static int sysfs_read_u64(const char *path, uint64_t *v)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno;
    char b[32];
    ssize_t n = read(fd, b, sizeof(b) - 1);
    int e = n < 0 ? errno : 0;
    close(fd);
    if (n <= 0)
        return e ? e : EIO;
    b[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long x = strtoull(b, &end, 10);
    if (errno != 0 || end == b || (*end != '\n' && *end != '\0'))
        return EINVAL;
    *v = x;
    return 0;
}

static int sysfs_write_u64(const char *path, uint64_t v)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno;
    char b[32];
    int n = snprintf(b, sizeof(b), "%llu\n", (unsigned long long)v);
    ssize_t w = write(fd, b, (size_t)n);
    int e = w == n ? 0 : (w < 0 ? errno : EIO);
    if (close(fd) != 0 && e == 0)
        e = errno;
    return e;
}

/* Read the reserve; on ext4 journal "reserve-lowered" with the value found, then set it to 0.
 * Only a journal failure fails it (and then nothing was lowered); a reserve that cannot be read
 * or lowered stays as it is and is reported. */
static enum dp_status reserve_lower(struct reserve *rv, const struct dp_fsinfo *fs, int rootfd,
                                    slack_log_fn log, void *log_ctx, struct dp_error *err)
{
    if (strcmp(dp_fsinfo_kind(fs), "xfs") == 0) {
        /* XFS takes its reserve pool out of the free count: statfs does not show it */
        struct xfs_resblks_arg a = {0};
        struct statfs sf;
        rv->kind = "xfs-reserved-blocks";
        rv->rootfd = rootfd;
        if (ioctl(rootfd, DP_XFS_IOC_GET_RESBLKS, &a) != 0 || fstatfs(rootfd, &sf) != 0) {
            snprintf(rv->error, sizeof(rv->error), "cannot read the XFS reserve: %s",
                     strerror(errno));
            return DP_OK;
        }
        rv->value = a.resblks;
        rv->hidden = a.resblks_avail * (uint64_t)sf.f_bsize;
        if (rv->value == 0)
            return DP_OK;
        enum dp_status st = log(log_ctx, "reserve-lowered",
                                json_pack("{s:s, s:s, s:I}", "kind", rv->kind, "path", "",
                                          "value", (json_int_t)rv->value),
                                err);
        if (st != DP_OK)
            return st;
        int e = xfs_set_resblks(rootfd, rv->value < XFS_FILL_RESBLKS ? rv->value
                                                                       : XFS_FILL_RESBLKS);
        if (e == 0) {
            rv->lowered = true;
            /* the pool, less what is kept, is free space the fill can now take */
            rv->hidden = rv->value < XFS_FILL_RESBLKS ? rv->hidden
                                                      : XFS_FILL_RESBLKS * (uint64_t)sf.f_bsize;
            return DP_OK;
        }
        snprintf(rv->error, sizeof(rv->error), "cannot lower the XFS reserve: %s", strerror(e));
        return log(log_ctx, "reserve-restored",
                   json_pack("{s:s, s:I, s:b}", "path", "", "value", (json_int_t)rv->value,
                             "lowered", 0),
                   err);
    }
    if (!ext4_reserve_path(fs, rv->path, sizeof(rv->path)))
        return DP_OK;
    rv->kind = "ext4-reserved-clusters";
    int e = sysfs_read_u64(rv->path, &rv->value);
    if (e != 0) {
        snprintf(rv->error, sizeof(rv->error), "cannot read %s: %s", rv->path, strerror(e));
        return DP_OK;
    }
    if (rv->value == 0)
        return DP_OK;
    /* the record first: a crash after the write must leave the value to put back */
    enum dp_status st = log(log_ctx, "reserve-lowered",
                            json_pack("{s:s, s:s, s:I}", "kind", rv->kind, "path", rv->path,
                                      "value", (json_int_t)rv->value),
                            err);
    if (st != DP_OK)
        return st;
    e = sysfs_write_u64(rv->path, 0);
    if (e == 0) {
        rv->lowered = true;
        return DP_OK;
    }
    snprintf(rv->error, sizeof(rv->error), "cannot lower %s: %s", rv->path, strerror(e));
    /* nothing changed, but the record must not stay open: say the value is in place */
    return log(log_ctx, "reserve-restored",
               json_pack("{s:s, s:I, s:b}", "path", rv->path, "value", (json_int_t)rv->value,
                         "lowered", 0),
               err);
}

/* Put a lowered ext4 reserve back and journal "reserve-restored"; a failed write is journaled
 * as "reserve-restore-failed" (a resume tries again). Only a journal failure fails it. */
static enum dp_status reserve_put_back(const char *path, int xfs_fd, uint64_t value,
                                       bool *restored, char *error, size_t error_size,
                                       slack_log_fn log, void *log_ctx, struct dp_error *err)
{
    int e = xfs_fd >= 0 ? xfs_set_resblks(xfs_fd, value) : sysfs_write_u64(path, value);
    path = xfs_fd >= 0 ? "XFS_IOC_SET_RESBLKS" : path;
    *restored = e == 0;
    if (e == 0)
        return log(log_ctx, "reserve-restored",
                   json_pack("{s:s, s:I}", "path", path, "value", (json_int_t)value), err);
    snprintf(error, error_size, "cannot restore %s to %llu: %s", path, (unsigned long long)value,
             strerror(e));
    return log(log_ctx, "reserve-restore-failed",
               json_pack("{s:s, s:I, s:s}", "path", path, "value", (json_int_t)value, "error",
                         strerror(e)),
               err);
}

static enum dp_status reserve_restore(struct reserve *rv, slack_log_fn log, void *log_ctx,
                                      struct dp_error *err)
{
    if (!rv->lowered)
        return DP_OK;
    int xfs_fd = rv->path[0] == '\0' ? rv->rootfd : -1;
    return reserve_put_back(rv->path, xfs_fd, rv->value, &rv->restored, rv->error,
                            sizeof(rv->error), log, log_ctx, err);
}

enum dp_status wipe_reserve_resume(const struct dp_fsinfo *fs, int rootfd, const json_t *lowered,
                                   slack_log_fn log, void *log_ctx, struct dp_error *err)
{
    const json_t *v = json_object_get(lowered, "value");
    const char *was = json_string_value(json_object_get(lowered, "path"));
    char path[128];
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0, "journal: bad reserve-lowered record");
    const char *kind = json_string_value(json_object_get(lowered, "kind"));
    bool restored = false;
    char msg[256];
    if (kind != NULL && strcmp(kind, "xfs-reserved-blocks") == 0) {
        if (strcmp(dp_fsinfo_kind(fs), "xfs") != 0)
            return log(log_ctx, "reserve-restore-failed",
                       json_pack("{s:s, s:O, s:s}", "path", "", "value", v, "error",
                                 "the plan root is no longer on XFS"),
                       err);
        return reserve_put_back("", rootfd, (uint64_t)json_integer_value(v), &restored, msg,
                                sizeof(msg), log, log_ctx, err);
    }
    /* the plan root's filesystem as mounted now: after a remount the device name may differ
     * (and the kernel has then set the reserve again by itself) */
    if (!ext4_reserve_path(fs, path, sizeof(path)))
        return log(log_ctx, "reserve-restore-failed",
                   json_pack("{s:s?, s:O, s:s}", "path", was, "value", v, "error",
                             "the plan root is no longer on an ext4 block device"),
                   err);
    return reserve_put_back(path, -1, (uint64_t)json_integer_value(v), &restored, msg,
                            sizeof(msg), log, log_ctx, err);
}

/* ---- what the fill could not reach ---- */

/* btrfs: statfs counts the free space inside metadata chunks, which no file can fill and where
 * file data never lay (unless a removed data chunk's range was reused: the copy-on-write
 * residual risk). What a fill can reach is the free space inside data chunks and device space
 * not allocated to any chunk, less the first MiB of each device, which btrfs never allocates. */
static bool btrfs_unfilled(int rootfd, uint64_t *out)
{
    struct btrfs_ioctl_space_args probe = {0};
    if (ioctl(rootfd, BTRFS_IOC_SPACE_INFO, &probe) != 0 || probe.total_spaces > 64)
        return false;
    uint64_t n = probe.total_spaces;
    struct btrfs_ioctl_space_args *sa = calloc(1, sizeof(*sa) + n * sizeof(sa->spaces[0]));
    if (sa == NULL)
        return false;
    sa->space_slots = n;
    uint64_t bytes = 0;
    bool ok = ioctl(rootfd, BTRFS_IOC_SPACE_INFO, sa) == 0;
    for (uint64_t i = 0; ok && i < sa->total_spaces && i < n; i++) {
        const struct btrfs_ioctl_space_info *si = &sa->spaces[i];
        if ((si->flags & BTRFS_BLOCK_GROUP_DATA) && !(si->flags & BTRFS_SPACE_INFO_GLOBAL_RSV) &&
            si->total_bytes > si->used_bytes)
            bytes += si->total_bytes - si->used_bytes;
    }
    free(sa);
    struct btrfs_ioctl_fs_info_args fi;
    memset(&fi, 0, sizeof(fi));
    if (!ok || ioctl(rootfd, BTRFS_IOC_FS_INFO, &fi) != 0)
        return false;
    struct btrfs_ioctl_dev_info_args *di = malloc(sizeof(*di)); /* 4 KiB */
    ok = di != NULL;
    for (uint64_t id = 1; ok && id <= fi.max_id; id++) {
        memset(di, 0, sizeof(*di));
        di->devid = id;
        if (ioctl(rootfd, BTRFS_IOC_DEV_INFO, di) != 0) {
            ok = errno == ENODEV; /* a devid no longer in use */
            continue;
        }
        uint64_t unalloc = di->total_bytes > di->bytes_used ? di->total_bytes - di->bytes_used : 0;
        bytes += unalloc > (1u << 20) ? unalloc - (1u << 20) : 0;
    }
    free(di);
    *out = bytes;
    return ok;
}

/* Free space the fill did not reach, measured while the fill files still hold what they got.
 * *exact is false where part of the free space cannot be seen (XFS keeps per-AG metadata
 * reservations out of every count it reports): the figure is then a lower bound. */
static bool measure_unfilled(int rootfd, const struct dp_fsinfo *fs, const struct reserve *rv,
                             uint64_t *bytes, bool *exact)
{
    const char *kind = dp_fsinfo_kind(fs);
    *exact = strcmp(kind, "xfs") != 0;
    if (strcmp(kind, "btrfs") == 0 && btrfs_unfilled(rootfd, bytes))
        return true;
    struct statfs sf;
    if (fstatfs(rootfd, &sf) != 0)
        return false;
    /* f_bfree, not f_bavail: blocks only root may use, or the ext4 reserve, are free space too */
    *bytes = (uint64_t)sf.f_bfree * (uint64_t)sf.f_bsize + rv->hidden;
    return true;
}

/* ---- the free-space fill ---- */

#define FILL_PREFIX ".deprive-fill-"
#define FILL_TAG_LEN 6     /* hex digits of this run's random tag, after the prefix */
#define FILL_MAX_LARGE 64   /* large files (FAT's 4 GiB limit needs several) */
#define FILL_MAX_FILES 4096 /* with the small files at the end */

struct fill_file {
    char name[48];
    uint8_t salt[8];
};

struct fill {
    char prefix[24];         /* FILL_PREFIX + this run's tag (journaled) */
    struct wipe_io *io;
    int rootfd;
    size_t bsize;            /* smallest write: the filesystem's block size */
    struct fill_file *files; /* created, to delete */
    size_t n, cap;
    uint64_t total;
    bool full, verified;
    const char *error;
    int saved;
};

static bool is_fill_name(const char *s)
{
    size_t pl = strlen(FILL_PREFIX);
    if (strncmp(s, FILL_PREFIX, pl) != 0 || strlen(s) != pl + 12)
        return false;
    for (s += pl; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

/* Fill files an interrupted run left in the root: removed first, so their blocks (never
 * written, if the crash came before writeback) are free again and get filled. Only names with
 * the random prefix that run journaled (fill-begin) are removed: a file the device came with,
 * whatever its name, is never touched. */
static size_t remove_stale_fill(int rootfd, const char *prefix)
{
    if (prefix == NULL || strlen(prefix) != strlen(FILL_PREFIX) + FILL_TAG_LEN ||
        strncmp(prefix, FILL_PREFIX, strlen(FILL_PREFIX)) != 0)
        return 0;
    int dfd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (d == NULL) {
        if (dfd >= 0)
            close(dfd);
        return 0;
    }
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        if (is_fill_name(e->d_name) && strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
            fstatat(rootfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(sb.st_mode) && unlinkat(rootfd, e->d_name, 0) == 0)
            n++;
    }
    closedir(d);
    if (n > 0)
        fsync(rootfd);
    return n;
}

/* Read a fill file back from the device and compare with the stream. */
static bool fill_verify(struct fill *f, int fd, const uint8_t salt[8], uint64_t len)
{
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    for (uint64_t o = 0; o < len; o += WIPE_CHUNK) {
        size_t n = len - o < WIPE_CHUNK ? (size_t)(len - o) : WIPE_CHUNK;
        fill(f->io, PAT_STREAM, salt, o, f->io->buf, n);
        if (pread_all(fd, f->io->rbuf, n, o, NULL) != DP_OK ||
            memcmp(f->io->buf, f->io->rbuf, n) != 0)
            return false;
    }
    return true;
}

/* Create one fill file and write the stream into it from `chunk`-sized writes down to the block
 * size until the filesystem refuses (f->full) or the file cannot grow (EFBIG); fsync, verify.
 * Returns the bytes it holds. */
static uint64_t fill_one(struct fill *f, size_t chunk)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        void *p = realloc(f->files, cap * sizeof(*f->files));
        if (p == NULL) {
            f->error = "out of memory", f->saved = ENOMEM;
            return 0;
        }
        f->files = p;
        f->cap = cap;
    }
    struct fill_file *ff = &f->files[f->n];
    uint8_t r[3];
    randombytes_buf(r, sizeof(r));
    snprintf(ff->name, sizeof(ff->name), "%s%02x%02x%02x", f->prefix, r[0], r[1], r[2]);
    int fd = openat(f->rootfd, ff->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        f->full = errno == ENOSPC || errno == EDQUOT;
        if (!f->full)
            f->error = "cannot create fill file", f->saved = errno;
        return 0;
    }
    f->n++;
    randombytes_buf(ff->salt, sizeof(ff->salt));
    uint64_t off = 0;
    for (;;) {
        fill(f->io, PAT_STREAM, ff->salt, off, f->io->buf, chunk);
        ssize_t w = pwrite(fd, f->io->buf, chunk, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w > 0) {
            off += (uint64_t)w;
            if (w % 64 != 0) { /* the stream position must stay 64-byte aligned */
                f->full = true;
                break;
            }
            continue;
        }
        bool nospc = w < 0 && (errno == ENOSPC || errno == EDQUOT);
        if (nospc && chunk > f->bsize) {
            /* the last few MiB: smaller writes reach the last blocks */
            chunk = chunk / 16 > f->bsize ? chunk / 16 : f->bsize;
            continue;
        }
        if (nospc)
            f->full = true;
        else if (!(w < 0 && errno == EFBIG))
            f->error = "writing fill file failed", f->saved = w < 0 ? errno : EIO;
        break;
    }
    /* the file holds exactly off bytes of stream; fsync makes them reach the device */
    if (fsync(fd) != 0 && f->error == NULL)
        f->error = "fsync of fill file failed", f->saved = errno;
    if (f->verified && !fill_verify(f, fd, ff->salt, off))
        f->verified = false;
    close(fd);
    f->total += off;
    return off;
}

/* Large files until the filesystem is full, then small ones: once large writes fail, a few
 * blocks may still be allocatable only to a new inode (another group, no extent-tree growth
 * needed). Stops when a new file gets nothing. */
static void fill_run(struct fill *f)
{
    while (!f->full && f->error == NULL && f->n < FILL_MAX_LARGE)
        fill_one(f, WIPE_CHUNK);
    while (f->full && f->error == NULL && f->n < FILL_MAX_FILES) {
        f->full = false;
        if (fill_one(f, f->bsize) == 0 && f->error == NULL) {
            f->full = true;
            break;
        }
    }
}

static json_t *reserve_json(const struct reserve *rv)
{
    if (rv->kind == NULL)
        return json_null();
    return json_pack("{s:s, s:I, s:b, s:b, s:I, s:s?}", "kind", rv->kind, "value",
                     (json_int_t)rv->value, "lowered", rv->lowered, "restored", rv->restored,
                     "hidden_bytes", (json_int_t)rv->hidden, "error",
                     rv->error[0] ? rv->error : NULL);
}

/* Fill free space with keyed-stream files until the filesystem is full (ext4's reserve lowered
 * for it), measure what is still free, verify, delete, put the reserve back, FITRIM. Only a
 * journal failure fails it; *out is always set. */
static enum dp_status fill_free_space(struct wipe_io *io, int rootfd, const struct dp_fsinfo *fs,
                                      const char *stale_prefix, slack_log_fn log, void *log_ctx,
                                      json_t **out, struct dp_error *err)
{
    struct fill f = {.io = io, .rootfd = rootfd, .bsize = 4096, .verified = true};
    struct reserve rv = {0};
    *out = NULL;
    size_t stale = remove_stale_fill(rootfd, stale_prefix);
    uint8_t tag[3];
    randombytes_buf(tag, sizeof(tag));
    snprintf(f.prefix, sizeof(f.prefix), FILL_PREFIX "%02x%02x%02x", tag[0], tag[1], tag[2]);
    enum dp_status st = log(log_ctx, "fill-begin", json_pack("{s:s}", "prefix", f.prefix), err);
    if (st != DP_OK) {
        *out = json_pack("{s:b, s:b, s:I, s:b, s:s, s:s}", "attempted", 0, "done", 0, "bytes",
                         (json_int_t)0, "verified", 0, "trim", "not-attempted", "error",
                         "journal failure before the fill");
        return st;
    }
    syncfs(rootfd); /* let copy-on-write filesystems release the blocks they freed */
    struct statfs sf;
    if (fstatfs(rootfd, &sf) == 0 && sf.f_bsize >= 512 && sf.f_bsize % 64 == 0 &&
        (size_t)sf.f_bsize <= WIPE_CHUNK)
        f.bsize = (size_t)sf.f_bsize;
    st = reserve_lower(&rv, fs, rootfd, log, log_ctx, err);
    if (st != DP_OK) {
        *out = json_pack("{s:b, s:b, s:I, s:b, s:s, s:s}", "attempted", 0, "done", 0, "bytes",
                         (json_int_t)0, "verified", 0, "trim", "not-attempted", "error",
                         "journal failure before the fill");
        return st;
    }
    fill_run(&f);
    /* what is still free before the fill files go: blocks the fill could not reach */
    syncfs(rootfd);
    json_t *unfilled = json_null();
    uint64_t unfilled_bytes = 0;
    bool exact = false;
    /* after a failed write or fsync (EIO) what reached the device is unknown: no figure */
    if (f.error == NULL && measure_unfilled(rootfd, fs, &rv, &unfilled_bytes, &exact))
        unfilled = json_integer((json_int_t)unfilled_bytes);
    bool ok = f.full && f.error == NULL;
    char msg[256] = "";
    if (f.error != NULL)
        snprintf(msg, sizeof(msg), "%s: %s", f.error, strerror(f.saved));
    else if (!f.full)
        snprintf(msg, sizeof(msg), "free space not exhausted (file limit)");
    for (size_t i = 0; i < f.n; i++)
        unlinkat(rootfd, f.files[i].name, 0);
    free(f.files);
    fsync(rootfd);
    syncfs(rootfd);
    st = reserve_restore(&rv, log, log_ctx, err);
    if (st == DP_OK)
        st = log(log_ctx, "fill-done",
                 json_pack("{s:s, s:s?}", "prefix", f.prefix, "error", ok ? NULL : msg), err);
    const char *trim = "unsupported";
    struct fstrim_range range = {.start = 0, .len = ULLONG_MAX, .minlen = 0};
    if (ioctl(rootfd, FITRIM, &range) == 0)
        trim = "done";
    else if (errno != ENOTTY && errno != EOPNOTSUPP && errno != EINVAL)
        trim = "failed";
    *out = json_pack("{s:b, s:b, s:I, s:o, s:b, s:b, s:s, s:o, s:I}", "attempted", 1, "done",
                     ok && json_is_integer(unfilled) && unfilled_bytes == 0, "bytes",
                     (json_int_t)f.total, "unfilled_bytes", unfilled, "unfilled_exact",
                     exact && json_is_integer(unfilled), "verified", f.verified && ok, "trim", trim,
                     "reserve", reserve_json(&rv), "stale_fill_files_removed", (json_int_t)stale);
    json_object_set_new(*out, "error", ok ? json_null() : json_string(msg));
    return st;
}

enum dp_status wipe_fs_cleanup(struct wipe_io *io, int rootfd, const struct dp_fsinfo *fs,
                               bool fill_free_space_opt, const char *stale_prefix,
                               slack_log_fn log, void *log_ctx, json_t **out,
                               struct dp_error *err)
{
    const char *kind = dp_fsinfo_kind(fs);
    json_t *cp;
    if (strcmp(kind, "ext4") == 0 || strcmp(kind, "ext3") == 0)
        cp = checkpoint_ext4(rootfd);
    else
        cp = json_pack("{s:b, s:b, s:n}", "attempted", 0, "done", 0, "error");
    json_t *fsp;
    enum dp_status st = DP_OK;
    if (fill_free_space_opt || dp_fsinfo_is_cow(fs)) {
        st = fill_free_space(io, rootfd, fs, stale_prefix, log, log_ctx, &fsp, err);
    } else {
        size_t stale = remove_stale_fill(rootfd, stale_prefix); /* an interrupted fill's */
        fsp = json_pack("{s:b, s:b, s:i, s:b, s:s, s:n}", "attempted", 0, "done", 0, "bytes", 0,
                        "verified", 0, "trim", "not-attempted", "error");
        if (stale > 0)
            json_object_set_new(fsp, "stale_fill_files_removed", json_integer((json_int_t)stale));
    }
    syncfs(rootfd);
    *out = json_pack("{s:o, s:o}", "ext4_checkpoint", cp, "free_space", fsp);
    if (*out == NULL && st == DP_OK)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    return st;
}
