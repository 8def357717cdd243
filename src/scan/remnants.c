/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: scan --sweep - after the walk, the device under the scanned mount is swept
 * (sweep.h) and each match is either a live finding's (its file's extents hold it, or, where
 * the filesystem gives no usable extents, it carries that finding's digests) or a remnant: a
 * copy no live file the walk read holds, deleted most often. Remnants join the findings with
 * the device as their location. Nothing is written: the device is opened read-only, the
 * files with findings O_RDONLY | O_NOATIME for their extents. */
#include "deprive/extents.h"
#include "deprive/source.h"
#include "deprive/sweep.h"
#include "deprive/util.h"
#include "deprive/walk.h"
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/fiemap.h>
#include <linux/openat2.h>

/* The filesystem size a FAT or exFAT boot sector gives, as its drivers report it through
 * statfs (FAT: data clusters times cluster size, fusefat; exFAT: the volume length,
 * exfat-fuse); 0 when the sector is neither. */
static uint64_t boot_sector_size(const uint8_t b[512])
{
    if (b[510] != 0x55 || b[511] != 0xaa)
        return 0;
    if (memcmp(b + 3, "EXFAT   ", 8) == 0) {
        uint64_t len = 0;
        for (int i = 7; i >= 0; i--)
            len = len << 8 | b[72 + i];
        return b[108] >= 9 && b[108] <= 12 && len < (UINT64_MAX >> 12) ? len << b[108] : 0;
    }
    uint32_t bps = (uint32_t)b[11] | (uint32_t)b[12] << 8, spc = b[13];
    uint32_t res = (uint32_t)b[14] | (uint32_t)b[15] << 8, fats = b[16];
    uint32_t roots = (uint32_t)b[17] | (uint32_t)b[18] << 8;
    uint32_t tot = (uint32_t)b[19] | (uint32_t)b[20] << 8;
    uint32_t fatsz = (uint32_t)b[22] | (uint32_t)b[23] << 8;
    if (tot == 0)
        tot = (uint32_t)b[32] | (uint32_t)b[33] << 8 | (uint32_t)b[34] << 16 | (uint32_t)b[35] << 24;
    if (fatsz == 0)
        fatsz = (uint32_t)b[36] | (uint32_t)b[37] << 8 | (uint32_t)b[38] << 16 |
                (uint32_t)b[39] << 24;
    if ((bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) || spc == 0 ||
        (spc & (spc - 1)) != 0 || fats == 0 || fats > 4 || res == 0)
        return 0;
    uint64_t meta = res + (uint64_t)fats * fatsz + ((uint64_t)roots * 32 + bps - 1) / bps;
    if (meta >= tot)
        return 0;
    return (tot - meta) / spc * spc * bps;
}

/* --device where the mount names none: its boot sector must describe a filesystem of the size
 * the mounted one reports, else a wrong device would be swept and its copies taken for this
 * filesystem's remnants (and a clean sweep of it for this one's). */
static enum dp_status check_named_device(const struct dp_scan_result *r, const char *dev,
                                         struct dp_error *err)
{
    uint8_t b[512];
    struct statfs sf;
    int fd = open(dev, O_RDONLY | O_CLOEXEC);
    bool got = fd >= 0 && pread(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b);
    if (fd >= 0)
        close(fd);
    if (!got)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot read --device '%s'", dev);
    uint64_t have = boot_sector_size(b);
    if (have == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "--device '%s' holds no FAT or exFAT boot sector: deprive cannot "
                            "check that it is the device '%s' is mounted from",
                            dev, r->root);
    if (statfs(r->root, &sf) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot statfs '%s'", r->root);
    uint64_t mounted = (uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize;
    if (have != mounted)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "--device '%s' is not the device '%s' is mounted from: its boot "
                            "sector describes %llu bytes, the mounted filesystem %llu",
                            dev, r->root, (unsigned long long)have,
                            (unsigned long long)mounted);
    return DP_OK;
}

/* The device to sweep for root's mount: sweep_device when given (and, where the mount names a
 * block device, the same one), else the mount's source when it is a block device or an image
 * file. Checked before the walk, so a refused sweep costs no scan. */
enum dp_status scan_sweep_device(const struct dp_scan_result *r, const struct dp_scan_opts *o,
                                 char **device, bool *given, struct dp_error *err)
{
    *device = NULL;
    *given = o->sweep_device != NULL;
    if (r->root_abs == NULL || strcmp(r->root_abs, r->fs.mount_point) != 0)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "--sweep needs the root of a mount ('%s' is inside the mount at '%s'): "
                            "files outside the root would be taken for deleted copies",
                            r->root, r->fs.mount_point);
    struct stat ms, gs;
    bool src_dev = r->fs.source[0] == '/' && stat(r->fs.source, &ms) == 0 &&
                   (S_ISBLK(ms.st_mode) || S_ISREG(ms.st_mode));
    const char *dev = o->sweep_device;
    if (dev == NULL && !src_dev)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "the mount of '%s' names no device ('%s', %s): give the device or "
                            "image it is mounted from with --device",
                            r->root, r->fs.source, r->fs.fstype);
    if (dev != NULL) {
        if (stat(dev, &gs) != 0)
            return dp_error_set(err, DP_ERR_IO, errno, "cannot stat --device '%s'", dev);
        if (!S_ISBLK(gs.st_mode) && !S_ISREG(gs.st_mode))
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "--device '%s' is neither a block device nor an image file", dev);
        if (src_dev && S_ISBLK(ms.st_mode) &&
            (!S_ISBLK(gs.st_mode) || gs.st_rdev != ms.st_rdev))
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "--device '%s' is not the device '%s' is mounted from ('%s')",
                                dev, r->root, r->fs.source);
        enum dp_status st = src_dev ? DP_OK : check_named_device(r, dev, err);
        if (st != DP_OK)
            return st;
    }
    *device = strdup(dev != NULL ? dev : r->fs.source);
    if (*device == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    /* --device where the mount names one is that one (checked above): "mount" */
    *given = *given && !src_dev;
    return DP_OK;
}

/* A file with findings, opened beneath the root without following a link; -1 when it is not
 * (any longer) the file the walk read. */
static int open_found(int rootfd, const struct dp_finding *f, bool cross_mounts)
{
    struct open_how how = {
        .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                   (cross_mounts ? 0 : RESOLVE_NO_XDEV)};
    int fd = (int)syscall(SYS_openat2, rootfd, f->path, &how, sizeof(how));
    if (fd < 0 && errno == EPERM) {
        how.flags &= ~(uint64_t)O_NOATIME;
        fd = (int)syscall(SYS_openat2, rootfd, f->path, &how, sizeof(how));
    }
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != f->id.ino)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* The extents of each file with findings (findings are sorted by path: one lookup a path). */
struct file_ext {
    size_t first;   /* its first finding */
    json_t *ext;    /* NULL: none known */
};

static size_t collect_extents(int rootfd, const struct dp_scan_result *r, bool usable,
                              struct file_ext *out, bool *any)
{
    size_t n = 0;
    *any = false;
    for (size_t i = 0; i < r->finding_count; i++) {
        const struct dp_finding *f = &r->findings[i];
        if (i > 0 && strcmp(f->path, r->findings[i - 1].path) == 0)
            continue;
        out[n] = (struct file_ext){i, NULL};
        bool here = f->id.dev_major == r->fs.dev_major && f->id.dev_minor == r->fs.dev_minor;
        int fd = usable && here ? open_found(rootfd, f, r->cross_mounts) : -1;
        bool avail = false;
        json_t *e = fd >= 0 ? dp_extents_json(fd, &avail) : NULL;
        /* no extent for a file with bytes: the filesystem answered without knowing (a FUSE
           driver's FIEMAP or FIBMAP that maps nothing) */
        if (avail && json_array_size(e) > 0) {
            out[n].ext = e;
            *any = true;
        } else {
            json_decref(e);
        }
        if (fd >= 0)
            close(fd);
        n++;
    }
    return n;
}

/* Bytes of [off, off + len) the extents cover; *logical the file offset of off (when it is
 * covered). */
static uint64_t covered(const json_t *ext, uint64_t off, uint64_t len, uint64_t *logical)
{
    uint64_t sum = 0, end = off + len;
    size_t i;
    const json_t *e;
    json_array_foreach(ext, i, e) {
        uint64_t p = (uint64_t)json_integer_value(json_object_get(e, "physical"));
        uint64_t l = (uint64_t)json_integer_value(json_object_get(e, "length"));
        uint64_t lo = p > off ? p : off, hi = p + l < end ? p + l : end;
        if (lo >= hi)
            continue;
        if (off >= p && off < p + l)
            *logical = (uint64_t)json_integer_value(json_object_get(e, "logical")) + (off - p);
        sum += hi - lo;
    }
    return sum;
}

static bool same_digests(const struct dp_finding *a, const struct dp_finding *b)
{
    unsigned common = a->digest_mask & b->digest_mask;
    for (int k = 0; k < DP_ALGO_EXACT_COUNT; k++)
        if ((common & DP_DIGEST_MASK(k)) &&
            memcmp(a->digests[k], b->digests[k], dp_algo_len((enum dp_algo)k)) != 0)
            return false;
    return common != 0;
}

/* The finding of the file at fe whose removal removes the stream m lying at file offset
 * logical: the embedded copy starting there with m's digests, else the file itself matched
 * as a whole (erased whole, whatever it holds). SIZE_MAX: none - only members or other
 * ranges of it matched, and m is then not theirs. */
static size_t finding_at(const struct dp_scan_result *r, const struct file_ext *fe,
                         uint64_t logical, const struct dp_finding *m)
{
    size_t whole = SIZE_MAX;
    for (size_t i = fe->first; i < r->finding_count &&
                               strcmp(r->findings[i].path, r->findings[fe->first].path) == 0; i++) {
        const struct dp_finding *f = &r->findings[i];
        if (f->embedded && f->embedded_offset == logical && same_digests(f, m))
            return i;
        if (!f->embedded && f->member_depth == 0)
            whole = i;
    }
    return whole;
}

/* Whose is match m: a live finding's (*idx, *by_extents) or nobody's (false). */
static bool attribute(const struct dp_scan_result *r, const struct file_ext *fe, size_t nfe,
                      const struct dp_finding *m, size_t *idx, bool *by_extents)
{
    for (size_t k = 0; k < nfe; k++) {
        uint64_t logical = 0;
        if (fe[k].ext != NULL &&
            covered(fe[k].ext, m->embedded_offset, m->embedded_length, &logical) ==
                m->embedded_length) {
            *idx = finding_at(r, &fe[k], logical, m);
            *by_extents = true;
            return *idx != SIZE_MAX; /* else a remnant, its owner that file */
        }
    }
    for (size_t k = 0; k < nfe; k++) {
        if (fe[k].ext != NULL) /* its place is known, and this is not it */
            continue;
        for (size_t i = fe[k].first; i < r->finding_count &&
                                     strcmp(r->findings[i].path, r->findings[fe[k].first].path) == 0;
             i++)
            if (same_digests(&r->findings[i], m)) {
                *idx = i;
                *by_extents = false;
                return true;
            }
    }
    return false;
}

static void release_match(struct dp_finding *m)
{
    free(m->path);
    free(m->matches);
    free(m->embedded_ranges);
}

/* Sort the matches into attributed ones and remnants (appended to r->findings; they take the
 * match's heap parts). */
static enum dp_status sort_matches(struct dp_scan_result *r, struct dp_sweep_result *sr,
                                   int rootfd, struct dp_error *err)
{
    struct dp_scan_sweep *sw = r->sweep;
    /* btrfs FIEMAP answers btrfs logical addresses, not device offsets */
    bool usable = strcmp(dp_fsinfo_kind(&r->fs), "btrfs") != 0;
    struct file_ext *fe = calloc(r->finding_count ? r->finding_count : 1, sizeof(*fe));
    sw->attributed = calloc(sr->count ? sr->count : 1, sizeof(*sw->attributed));
    struct dp_finding *grown = realloc(r->findings, (r->finding_count + sr->count + 1) *
                                                        sizeof(*r->findings));
    if (grown != NULL)
        r->findings = grown;
    if (fe == NULL || sw->attributed == NULL || grown == NULL) {
        free(fe);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    size_t nfe = collect_extents(rootfd, r, usable, fe, &sw->extents);
    sw->extents = sw->extents || (usable && nfe == 0 && !r->fs.stacked &&
                                  strncmp(r->fs.fstype, "fuse", 4) != 0);
    for (size_t i = 0; i < sr->count; i++) {
        struct dp_finding *m = &sr->matches[i];
        size_t idx = 0;
        bool by_ext = false;
        if (attribute(r, fe, nfe, m, &idx, &by_ext)) {
            sw->attributed[sw->nattributed++] =
                (struct dp_scan_sweep_match){m->embedded_offset, m->embedded_length, idx, by_ext};
            release_match(m);
            continue;
        }
        m->remnant = true;
        m->embedded = false;
        m->id.dev_major = sw->rdev_major;
        m->id.dev_minor = sw->rdev_minor;
        m->remnant_use = (uint8_t)dp_fsmap_range(rootfd, m->embedded_offset, m->embedded_length);
        r->findings[r->finding_count++] = *m;
        sw->remnants++;
    }
    sr->count = 0; /* every match released or taken */
    for (size_t k = 0; k < nfe; k++)
        json_decref(fe[k].ext);
    free(fe);
    return DP_OK;
}

/* ---- the files holding remnants in their extents ---- */

struct owners {
    struct dp_scan_result *r;
    size_t first;   /* the first remnant in r->findings */
    size_t looking; /* remnants still without an owner */
    bool oom;
};

static enum dp_status owner_file(void *ctx, struct dp_walk_file *f, struct dp_error *err)
{
    (void)err;
    struct owners *o = ctx;
    bool avail = false;
    bool here = f->id.dev_major == o->r->fs.dev_major && f->id.dev_minor == o->r->fs.dev_minor;
    json_t *ext = o->looking > 0 && !o->oom && here ? dp_extents_json(f->fd, &avail) : NULL;
    for (size_t i = o->first; avail && i < o->r->finding_count; i++) {
        struct dp_finding *m = &o->r->findings[i];
        uint64_t logical = UINT64_MAX;
        if (m->owner != NULL ||
            covered(ext, m->embedded_offset, m->embedded_length, &logical) == 0 ||
            logical == UINT64_MAX) /* it starts outside the file: no place in it to name */
            continue;
        struct dp_remnant_owner *ow = calloc(1, sizeof(*ow));
        char *p = malloc(f->path_len + 1);
        if (ow == NULL || p == NULL) {
            free(ow);
            free(p);
            o->oom = true;
            break;
        }
        memcpy(p, f->path, f->path_len + 1);
        *ow = (struct dp_remnant_owner){p, f->path_len, f->id, logical, logical >= f->id.size};
        m->owner = ow;
        o->looking--;
    }
    json_decref(ext);
    close(f->fd);
    return DP_OK;
}

static void owner_skip(void *ctx, const char *path, size_t len, enum dp_skip_reason why, int e)
{
    (void)ctx, (void)path, (void)len, (void)why, (void)e;
}

/* Remnants in space the filesystem says is a file's (or cannot say): every file's extents
 * looked at, read-only, to name the file - one more walk, made only when there are such. */
static enum dp_status find_owners(struct dp_scan_result *r, size_t first, struct dp_error *err)
{
    struct owners o = {r, first, 0, false};
    for (size_t i = first; i < r->finding_count; i++)
        o.looking += r->findings[i].remnant_use != DP_FSMAP_FREE;
    if (o.looking == 0 || !r->sweep->extents)
        return DP_OK;
    const struct dp_walk_ops ops = {.file = owner_file, .skip = owner_skip};
    const struct dp_walk_opts wo = {.cross_mounts = r->cross_mounts, .max_file_size = UINT64_MAX};
    enum dp_status st = dp_walk(r->root, &wo, &ops, &o, NULL, err);
    if (st == DP_OK && o.oom)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    return st;
}

static void fill_summary(struct dp_scan_sweep *sw, const struct dp_sweep_result *sr)
{
    sw->source_kind = (int)sr->info.kind;
    sw->rdev_major = sr->info.dev_major;
    sw->rdev_minor = sr->info.dev_minor;
    sw->size = sr->info.size;
    sw->bytes_swept = sr->bytes_swept;
    sw->candidates = sr->candidates;
    sw->streams = sr->streams;
    sw->stream_bytes = sr->stream_bytes;
    sw->decoded = sr->decoded;
    sw->bytes_skipped = sr->bytes_skipped;
    sw->limited = sr->limited;
    snprintf(sw->limit_detail, sizeof(sw->limit_detail), "%s", sr->limit_detail);
}

void scan_live_extents(struct scan *s, int fd, uint64_t size)
{
    size_t n = 0;
    bool avail = false;
    struct dp_extent *e = dp_extents(fd, &n, &avail);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < n; i++) {
        if (e[i].logical >= size || (e[i].flags & (FIEMAP_EXTENT_UNKNOWN |
                                                   FIEMAP_EXTENT_DELALLOC |
                                                   FIEMAP_EXTENT_DATA_INLINE |
                                                   FIEMAP_EXTENT_NOT_ALIGNED |
                                                   FIEMAP_EXTENT_ENCODED)))
            continue; /* slack past the end, or no plain device bytes */
        uint64_t len = size - e[i].logical < e[i].length ? size - e[i].logical : e[i].length;
        if (s->nlive == s->live_cap) {
            size_t cap = s->live_cap ? s->live_cap * 2 : 1024;
            uint64_t(*v)[2] = realloc(s->live, cap * sizeof(*v));
            if (v == NULL) { /* then read again by the sweep: slower, nothing lost */
                s->live_on = false;
                break;
            }
            s->live = v;
            s->live_cap = cap;
        }
        s->live[s->nlive][0] = e[i].physical;
        s->live[s->nlive++][1] = len;
    }
    pthread_mutex_unlock(&s->lock);
    free(e);
}

/* The live ranges sorted and merged where they touch or overlap; their count. */
static size_t merge_live(struct scan *s)
{
    if (!s->live_on || s->nlive == 0)
        return 0;
    qsort(s->live, s->nlive, sizeof(*s->live), dp_range_cmp);
    size_t k = 0;
    for (size_t i = 1; i < s->nlive; i++) {
        uint64_t end = s->live[k][0] + s->live[k][1];
        if (s->live[i][0] <= end) {
            uint64_t e2 = s->live[i][0] + s->live[i][1];
            if (e2 > end)
                s->live[k][1] = e2 - s->live[k][0];
        } else {
            s->live[++k][0] = s->live[i][0];
            s->live[k][1] = s->live[i][1];
        }
    }
    return k + 1;
}

enum dp_status scan_sweep_after(struct scan *s, char *device, bool given, struct dp_error *err)
{
    struct dp_scan_result *r = s->res;
    const struct dp_hashset *set = s->set;
    const struct dp_scan_opts *o = s->opts;
    struct dp_scan_sweep *sw = calloc(1, sizeof(*sw));
    if (sw == NULL) {
        free(device);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    r->sweep = sw;
    sw->device = device;
    sw->device_given = given;
    int rootfd = open(r->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (rootfd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open directory '%s'", r->root);
    syncfs(rootfd); /* what the filesystem holds in memory reaches the device first */
    struct dp_source *src = NULL;
    struct dp_sweep_result *sr = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    enum dp_status st = dp_source_open(&src, device, DP_SOURCE_DROP_CACHE, err);
    if (st == DP_OK && dp_source_info(src)->kind == DP_SOURCE_EWF)
        st = dp_error_set(err, DP_ERR_INVALID, 0,
                          "'%s' is an EWF evidence set, not the device the mount is on", device);
    if (st == DP_OK) {
        size_t nskip = merge_live(s);
        const struct dp_sweep_opts so = {.match = o, .jobs = o->jobs,
                                         .progress = o->sweep_progress,
                                         .progress_ctx = o->progress_ctx,
                                         .skip = (const uint64_t(*)[2])s->live,
                                         .nskip = nskip};
        st = dp_sweep_run(set, src, device, &so, &sr, err);
    }
    if (st == DP_OK) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        sw->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fill_summary(sw, sr);
        size_t first = r->finding_count;
        st = sort_matches(r, sr, rootfd, err);
        if (st == DP_OK)
            st = find_owners(r, first, err);
    }
    if (st != DP_OK)
        dp_error_prefix(err, "sweep of '%s': ", device);
    dp_sweep_result_free(sr);
    dp_source_free(src);
    close(rootfd);
    return st;
}

void scan_sweep_free(struct dp_scan_sweep *sw)
{
    if (sw == NULL)
        return;
    free(sw->device);
    free(sw->attributed);
    free(sw);
}
