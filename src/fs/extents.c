/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: a file's physical extents and the use of a device range (extents.h). */
#include "deprive/extents.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fsmap.h>

/* FUSE filesystems (ntfs-3g among them) answer FIBMAP but not FIEMAP: map block by block
 * (needs CAP_SYS_RAWIO) and merge runs. Files beyond FIBMAP_MAX blocks are mapped in part,
 * which wipe_extents_moved still compares like for like. */
#define FIBMAP_MAX 65536

/* A growing list of extents. */
struct list {
    struct dp_extent *v;
    size_t n, cap;
    bool oom;
};

static void add(struct list *l, uint64_t logical, uint64_t physical, uint64_t length,
                uint32_t flags)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct dp_extent *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (struct dp_extent){logical, physical, length, flags};
}

static bool extents_fibmap(int fd, struct list *l)
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
            add(l, run_log * (uint64_t)bsz, run_phys * (uint64_t)bsz, run_len * (uint64_t)bsz, 0);
        run_len = 0;
        if (b != 0) { /* 0: a hole */
            run_log = i;
            run_phys = (uint64_t)b;
            run_len = 1;
        }
    }
    return true;
}

struct dp_extent *dp_extents(int fd, size_t *count, bool *available)
{
    enum { MAXEXT = 256 };
    size_t sz = sizeof(struct fiemap) + MAXEXT * sizeof(struct fiemap_extent);
    struct fiemap *fm = calloc(1, sz);
    struct list l = {0};
    *available = false;
    *count = 0;
    uint64_t start = 0;
    while (fm != NULL && !l.oom) {
        memset(fm, 0, sz);
        fm->fm_start = start;
        fm->fm_length = ~0ULL - start;
        fm->fm_flags = FIEMAP_FLAG_SYNC;
        fm->fm_extent_count = MAXEXT;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) != 0) {
            if (start == 0 && extents_fibmap(fd, &l))
                *available = true;
            break;
        }
        *available = true;
        bool last = fm->fm_mapped_extents == 0;
        for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
            const struct fiemap_extent *e = &fm->fm_extents[i];
            add(&l, e->fe_logical, e->fe_physical, e->fe_length, e->fe_flags);
            start = e->fe_logical + e->fe_length;
            if (e->fe_flags & FIEMAP_EXTENT_LAST)
                last = true;
        }
        if (last || fm->fm_mapped_extents < MAXEXT || l.n >= DP_EXTENTS_MAX)
            break;
    }
    free(fm);
    if (l.oom) {
        *available = false;
        free(l.v);
        return NULL;
    }
    *count = l.n;
    return l.v;
}

json_t *dp_extents_json(int fd, bool *available)
{
    size_t n = 0;
    struct dp_extent *v = dp_extents(fd, &n, available);
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:I, s:I, s:I}", "logical",
                                             (json_int_t)v[i].logical, "physical",
                                             (json_int_t)v[i].physical, "length",
                                             (json_int_t)v[i].length, "flags",
                                             (json_int_t)v[i].flags));
    free(v);
    return arr;
}

static const char *const use_names[] = {"unknown", "free-space", "metadata", "allocated",
                                        "partly-free"};

const char *dp_fsmap_use_name(enum dp_fsmap_use u)
{
    return (unsigned)u < DP_FSMAP_USE_COUNT ? use_names[u] : "unknown";
}

/* GETFSMAP reports every byte of the range as one or more records: free space, metadata (a
 * special owner other than "unknown"), or a file (an inode number on XFS with reverse
 * mapping; on ext4, which keeps no reverse map, file data comes back as the special owner
 * "unknown"). A gap between records is not free space the filesystem vouched for. */
enum dp_fsmap_use dp_fsmap_range(int fd, uint64_t offset, uint64_t length)
{
    enum { NREC = 64 };
    struct fsmap_head *h = calloc(1, fsmap_sizeof(NREC));
    if (h == NULL || length == 0) {
        free(h);
        return DP_FSMAP_UNKNOWN;
    }
    bool free_seen = false, used = false, meta = false;
    uint64_t covered_to = offset, end = offset + length;
    h->fmh_keys[0].fmr_physical = offset;
    h->fmh_keys[1].fmr_physical = end - 1; /* the high key: all ones but where it stops */
    h->fmh_keys[1].fmr_device = UINT32_MAX;    /* (its reserved fields must stay zero) */
    h->fmh_keys[1].fmr_flags = UINT32_MAX;
    h->fmh_keys[1].fmr_owner = UINT64_MAX;
    h->fmh_keys[1].fmr_offset = UINT64_MAX;
    bool ok = true;
    while (ok && covered_to < end) {
        h->fmh_count = NREC;
        h->fmh_entries = 0;
        if (ioctl(fd, FS_IOC_GETFSMAP, h) != 0 || h->fmh_entries == 0) {
            ok = false;
            break;
        }
        const struct fsmap *last = NULL;
        for (unsigned i = 0; i < h->fmh_entries; i++) {
            const struct fsmap *m = &h->fmh_recs[i];
            last = m;
            uint64_t a = m->fmr_physical, b = m->fmr_physical + m->fmr_length;
            if (b <= offset || a >= end)
                continue;
            if (a > covered_to) /* a gap no record accounts for */
                ok = false;
            if (b > covered_to)
                covered_to = b;
            bool special = (m->fmr_flags & FMR_OF_SPECIAL_OWNER) != 0;
            if (special && m->fmr_owner == FMR_OWN_FREE)
                free_seen = true;
            else if (special && m->fmr_owner != FMR_OWN_UNKNOWN)
                meta = true;
            else
                used = true;
        }
        if (last == NULL || (last->fmr_flags & FMR_OF_LAST))
            break;
        fsmap_advance(h);
    }
    free(h);
    if (!ok || covered_to < end)
        return DP_FSMAP_UNKNOWN;
    if (meta)
        return DP_FSMAP_METADATA;
    if (free_seen && used)
        return DP_FSMAP_MIXED;
    return used ? DP_FSMAP_ALLOCATED : DP_FSMAP_FREE;
}
