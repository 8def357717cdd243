/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: overwrite passes, read-back verification from the device, extents, and the
 * filesystem-level clean-up (ext4 journal checkpoint, free-space fill, FITRIM). */
#include "wipe_internal.h"

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

static enum dp_status write_pass(struct wipe_io *io, int fd, enum pattern p,
                                 const uint8_t salt[8], uint64_t len,
                                 crypto_generichash_state *h, struct dp_error *err)
{
    for (uint64_t off = 0; off < len; off += WIPE_CHUNK) {
        size_t n = len - off < WIPE_CHUNK ? (size_t)(len - off) : WIPE_CHUNK;
        fill(io, p, salt, off, io->buf, n);
        if (h != NULL)
            crypto_generichash_update(h, io->buf, n);
        enum dp_status st = pwrite_all(fd, io->buf, n, off, err);
        if (st != DP_OK)
            return st;
    }
    if (fdatasync(fd) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "fdatasync after overwrite failed");
    return DP_OK;
}

static enum dp_status verify_pass(struct wipe_io *io, int fd, enum pattern p,
                                  const uint8_t salt[8], uint64_t len,
                                  const uint8_t written_hash[32], struct dp_error *err)
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    for (uint64_t off = 0; off < len; off += WIPE_CHUNK) {
        size_t n = len - off < WIPE_CHUNK ? (size_t)(len - off) : WIPE_CHUNK;
        enum dp_status st = pread_all(fd, io->rbuf, n, off, err);
        if (st != DP_OK)
            return st;
        if (p == PAT_RANDOM) {
            crypto_generichash_update(&h, io->rbuf, n);
            continue;
        }
        fill(io, p, salt, off, io->buf, n);
        if (memcmp(io->buf, io->rbuf, n) != 0) /* not a secret: plain memcmp is faster */
            return dp_error_set(err, DP_ERR_VERIFY, 0,
                                "read-back differs from what was written at offset %llu",
                                (unsigned long long)off);
    }
    if (p == PAT_RANDOM) {
        uint8_t got[32];
        crypto_generichash_final(&h, got, sizeof(got));
        if (sodium_memcmp(got, written_hash, 32) != 0)
            return dp_error_set(err, DP_ERR_VERIFY, 0, "read-back differs from what was written");
    }
    return DP_OK;
}

enum dp_status wipe_io_overwrite(struct wipe_io *io, int fd, uint64_t len, json_t **overwrite,
                                 json_t **verification, struct dp_error *err)
{
    enum pattern pats[3];
    size_t np = method_passes(io->method, pats);
    uint8_t salt[8];
    randombytes_buf(salt, sizeof(salt));
    int dfd = len > 0 ? open_direct(fd) : -1;
    int wfd = dfd >= 0 ? dfd : fd;
    json_t *passes = json_array();
    enum dp_status st = DP_OK;
    uint8_t whash[32] = {0};
    for (size_t i = 0; i < np && st == DP_OK; i++) {
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, 32);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        st = write_pass(io, wfd, pats[i], salt, len, pats[i] == PAT_RANDOM ? &h : NULL, err);
        if (st == DP_OK && dfd >= 0 && fdatasync(fd) != 0)
            st = dp_error_set(err, DP_ERR_IO, errno, "fdatasync failed");
        clock_gettime(CLOCK_MONOTONIC, &t1);
        crypto_generichash_final(&h, whash, sizeof(whash));
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        json_array_append_new(passes, json_pack("{s:s, s:I, s:b, s:f}", "pattern",
                                                pattern_name(pats[i]), "bytes", (json_int_t)len,
                                                "synced", st == DP_OK, "seconds", secs));
    }
    const char *vmethod = dfd >= 0 ? "o_direct" : "fadvise-dontneed";
    const char *vresult = "not-done";
    if (st == DP_OK) {
        /* without O_DIRECT: the pages are clean after fdatasync, so DONTNEED drops them and
         * the re-read comes from the device */
        if (dfd < 0)
            posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        st = verify_pass(io, wfd, pats[np - 1], salt, len, whash, err);
        vresult = st == DP_OK ? "match" : (st == DP_ERR_VERIFY ? "mismatch" : "not-done");
    }
    if (dfd >= 0)
        close(dfd);
    *overwrite = json_pack("{s:o, s:I, s:b}", "passes", passes, "bytes", (json_int_t)len,
                           "direct_io", dfd >= 0);
    *verification = json_pack("{s:s, s:s}", "method", vmethod, "result", vresult);
    return st;
}

/* FUSE filesystems (ntfs-3g among them) answer FIBMAP but not FIEMAP: map block by block
 * (needs CAP_SYS_RAWIO) and merge runs. Files beyond FIBMAP_MAX blocks are mapped in part,
 * which wipe_extents_moved still compares like for like. */
#define FIBMAP_MAX 65536

static bool extents_fibmap(int fd, json_t *arr)
{
    int bsz = 0;
    struct stat sb;
    if (ioctl(fd, FIGETBSZ, &bsz) != 0 || bsz <= 0 || fstat(fd, &sb) != 0)
        return false;
    uint64_t blocks = ((uint64_t)sb.st_size + (uint64_t)bsz - 1) / (uint64_t)bsz;
    if (blocks > FIBMAP_MAX)
        blocks = FIBMAP_MAX;
    uint64_t run_log = 0, run_phys = 0, run_len = 0;
    for (uint64_t i = 0; i <= blocks; i++) {
        int b = 0;
        if (i < blocks) {
            b = (int)i;
            if (ioctl(fd, FIBMAP, &b) != 0)
                return false;
        }
        bool extends = run_len > 0 && b != 0 && (uint64_t)b == run_phys + run_len &&
                       i == run_log + run_len;
        if (extends) {
            run_len++;
            continue;
        }
        if (run_len > 0)
            json_array_append_new(arr, json_pack("{s:I, s:I, s:I, s:I}", "logical",
                                                 (json_int_t)(run_log * (uint64_t)bsz), "physical",
                                                 (json_int_t)(run_phys * (uint64_t)bsz), "length",
                                                 (json_int_t)(run_len * (uint64_t)bsz), "flags",
                                                 (json_int_t)0));
        run_len = 0;
        if (b != 0) { /* 0: a hole */
            run_log = i;
            run_phys = (uint64_t)b;
            run_len = 1;
        }
    }
    return true;
}

json_t *wipe_extents(int fd, bool *available)
{
    enum { MAXEXT = 256 };
    size_t sz = sizeof(struct fiemap) + MAXEXT * sizeof(struct fiemap_extent);
    struct fiemap *fm = calloc(1, sz);
    json_t *arr = json_array();
    *available = false;
    if (fm == NULL || arr == NULL)
        goto out;
    uint64_t start = 0;
    for (;;) {
        memset(fm, 0, sz);
        fm->fm_start = start;
        fm->fm_length = ~0ULL - start;
        fm->fm_flags = FIEMAP_FLAG_SYNC;
        fm->fm_extent_count = MAXEXT;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) != 0) {
            if (start == 0 && extents_fibmap(fd, arr))
                *available = true;
            goto out;
        }
        *available = true;
        bool last = fm->fm_mapped_extents == 0;
        for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
            const struct fiemap_extent *e = &fm->fm_extents[i];
            json_array_append_new(arr, json_pack("{s:I, s:I, s:I, s:I}", "logical",
                                                 (json_int_t)e->fe_logical, "physical",
                                                 (json_int_t)e->fe_physical, "length",
                                                 (json_int_t)e->fe_length, "flags",
                                                 (json_int_t)e->fe_flags));
            start = e->fe_logical + e->fe_length;
            if (e->fe_flags & FIEMAP_EXTENT_LAST)
                last = true;
        }
        if (last || fm->fm_mapped_extents < MAXEXT || json_array_size(arr) >= 4096)
            break;
    }
out:
    free(fm);
    return arr;
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

/* Fill free space with keyed-stream files (several, for FAT's 4 GiB file limit) until the
 * filesystem is full, sync, verify them, delete them. */
static json_t *fill_free_space(struct wipe_io *io, int rootfd)
{
    enum { MAXFILES = 64 };
    char names[MAXFILES][40];
    uint64_t sizes[MAXFILES];
    uint8_t salts[MAXFILES][8];
    int nfiles = 0;
    uint64_t total = 0;
    const char *error = NULL;
    int saved = 0;
    bool full = false, verified = true;
    syncfs(rootfd); /* let copy-on-write filesystems release the blocks they freed */
    while (!full && nfiles < MAXFILES) {
        uint8_t r[6];
        randombytes_buf(r, sizeof(r));
        snprintf(names[nfiles], sizeof(names[0]), ".deprive-fill-%02x%02x%02x%02x%02x%02x", r[0],
                 r[1], r[2], r[3], r[4], r[5]);
        int fd = openat(rootfd, names[nfiles], O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        0600);
        if (fd < 0) {
            full = errno == ENOSPC;
            if (!full)
                error = "cannot create fill file", saved = errno;
            break;
        }
        randombytes_buf(salts[nfiles], 8);
        uint64_t off = 0;
        size_t chunk = WIPE_CHUNK;
        for (;;) {
            fill(io, PAT_STREAM, salts[nfiles], off, io->buf, chunk);
            ssize_t w = pwrite(fd, io->buf, chunk, (off_t)off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w > 0) {
                off += (uint64_t)w;
                if (w % 64 != 0) { /* the stream position must stay 64-byte aligned */
                    full = true;
                    break;
                }
                continue;
            }
            if (w < 0 && (errno == ENOSPC || errno == EDQUOT) && chunk > 4096) {
                chunk /= 16; /* the last few MiB: smaller writes reach the last blocks */
                continue;
            }
            if (w < 0 && (errno == ENOSPC || errno == EDQUOT))
                full = true;
            else if (!(w < 0 && errno == EFBIG))
                error = "writing fill file failed", saved = w < 0 ? errno : EIO;
            break;
        }
        /* the file holds exactly off bytes of stream; fsync makes them reach the device */
        if (fsync(fd) != 0 && error == NULL)
            error = "fsync of fill file failed", saved = errno;
        sizes[nfiles] = off;
        total += off;
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        for (uint64_t o = 0; o < off && verified; o += WIPE_CHUNK) {
            size_t n = off - o < WIPE_CHUNK ? (size_t)(off - o) : WIPE_CHUNK;
            fill(io, PAT_STREAM, salts[nfiles], o, io->buf, n);
            if (pread_all(fd, io->rbuf, n, o, NULL) != DP_OK ||
                memcmp(io->buf, io->rbuf, n) != 0)
                verified = false;
        }
        close(fd);
        nfiles++;
        if (error != NULL)
            break;
    }
    for (int i = 0; i < nfiles; i++)
        unlinkat(rootfd, names[i], 0);
    fsync(rootfd);
    syncfs(rootfd);
    (void)sizes;
    const char *trim = "unsupported";
    struct fstrim_range range = {.start = 0, .len = ULLONG_MAX, .minlen = 0};
    if (ioctl(rootfd, FITRIM, &range) == 0)
        trim = "done";
    else if (errno != ENOTTY && errno != EOPNOTSUPP && errno != EINVAL)
        trim = "failed";
    json_t *o = json_pack("{s:b, s:b, s:I, s:b, s:s}", "attempted", 1, "done",
                          full && error == NULL, "bytes", (json_int_t)total, "verified",
                          verified && full && error == NULL, "trim", trim);
    if (error != NULL) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s: %s", error, strerror(saved));
        json_object_set_new(o, "error", json_string(msg));
    } else if (!full) {
        json_object_set_new(o, "error", json_string("free space not exhausted (file limit)"));
    } else {
        json_object_set_new(o, "error", json_null());
    }
    return o;
}

json_t *wipe_fs_cleanup(struct wipe_io *io, int rootfd, const struct dp_fsinfo *fs,
                        bool fill_free_space_opt)
{
    const char *kind = dp_fsinfo_kind(fs);
    json_t *cp;
    if (strcmp(kind, "ext4") == 0 || strcmp(kind, "ext3") == 0)
        cp = checkpoint_ext4(rootfd);
    else
        cp = json_pack("{s:b, s:b, s:n}", "attempted", 0, "done", 0, "error");
    json_t *fsp;
    if (fill_free_space_opt || dp_fsinfo_is_cow(fs))
        fsp = fill_free_space(io, rootfd);
    else
        fsp = json_pack("{s:b, s:b, s:i, s:b, s:s, s:n}", "attempted", 0, "done", 0, "bytes", 0,
                        "verified", 0, "trim", "not-attempted", "error");
    syncfs(rootfd);
    return json_pack("{s:o, s:o}", "ext4_checkpoint", cp, "free_space", fsp);
}
