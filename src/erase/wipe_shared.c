/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: who else references a wipe target's shared extents (btrfs back references). */
#include "internal.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/fiemap.h>

/* Sharers named; more are counted in a last "... and N more". */
#define NAMED_MAX 16
/* Distinct (subvolume, inode) pairs remembered; beyond that only "more than" is said. */
#define REFS_MAX 65536
/* LOGICAL_INO output buffer: start, and the kernel's own limit for v2 (v1 stops at 64 KiB). */
#define LINO_START (64u * 1024)
#define LINO_MAX (16u * 1024 * 1024)
/* INO_PATHS output: the kernel copies at most 4096 bytes. */
#define PATHS_BUF 4096
/* Names of one sharing inode shown (hard links). */
#define PATHS_SHOWN 4
/* Nesting followed when naming a subvolume by its path from the top level. */
#define SUBVOL_DEPTH 16
/* Longest subvolume path from the top level that is spelt out. */
#define SUBVOL_PATH_MAX 1024
/* Shared extent addresses looked up (dp_extents_json lists about 4096 extents at most). */
#define LOOKUPS_MAX 8192

struct ref {
    uint64_t root, ino;
};

struct refs {
    struct ref *v;
    size_t n, cap;
    bool truncated; /* more than REFS_MAX distinct pairs, or the kernel could not list all */
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->root != y->root)
        return x->root < y->root ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void refs_unique(struct refs *r)
{
    if (r->n == 0)
        return;
    qsort(r->v, r->n, sizeof(*r->v), ref_cmp);
    size_t k = 1;
    for (size_t i = 1; i < r->n; i++)
        if (ref_cmp(&r->v[i], &r->v[k - 1]) != 0)
            r->v[k++] = r->v[i];
    r->n = k;
    if (r->n > REFS_MAX) {
        r->n = REFS_MAX;
        r->truncated = true;
    }
}

static bool refs_add(struct refs *r, uint64_t root, uint64_t ino)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct ref *v = realloc(r->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = (struct ref){root, ino};
    return true;
}

/* ---- BTRFS_IOC_LOGICAL_INO: the (inode, offset, root) triples behind one extent ---- */

struct lino {
    bool use_v1; /* v2 was refused (kernel before 4.15): the exact-byte v1 from then on */
};

/* One LOGICAL_INO call into a buffer of size bytes; 0 or an errno. */
static int lino_call(struct lino *li, int fd, uint64_t logical, struct btrfs_data_container *c,
                     size_t size)
{
    struct btrfs_ioctl_logical_ino_args a;
    for (;;) {
        memset(&a, 0, sizeof(a));
        memset(c, 0, sizeof(*c));
        a.logical = logical;
        a.size = size;
        a.inodes = (uint64_t)(uintptr_t)c;
        if (!li->use_v1) {
            /* every reference to the extent, not only those covering this byte: btrfs frees
             * an extent only when its last reference goes, so any of them keeps the whole
             * extent, our old bytes included, on disk */
            a.flags = BTRFS_LOGICAL_INO_ARGS_IGNORE_OFFSET;
            if (ioctl(fd, BTRFS_IOC_LOGICAL_INO_V2, &a) == 0)
                return 0;
            /* EINVAL is also the answer for an address in a metadata block: only an unknown
             * ioctl means a kernel without v2 */
            if (errno != ENOTTY && errno != EOPNOTSUPP)
                return errno;
            li->use_v1 = true;
            continue;
        }
        a.size = size < LINO_START ? size : LINO_START;
        /* v1 only finds references covering this very byte: the first of our extent */
        return ioctl(fd, BTRFS_IOC_LOGICAL_INO, &a) == 0 ? 0 : errno;
    }
}

/* Add the references to the extent holding logical address logical; 0 or an errno. */
static int lino_refs(struct lino *li, int fd, uint64_t logical, struct refs *out)
{
    size_t size = LINO_START;
    struct btrfs_data_container *c = NULL;
    int e = 0;
    for (int attempt = 0;; attempt++) {
        free(c);
        c = calloc(1, size);
        if (c == NULL)
            return ENOMEM;
        if ((e = lino_call(li, fd, logical, c, size)) != 0)
            break;
        if (c->elem_missed == 0 || li->use_v1 || size >= LINO_MAX || attempt == 1)
            break;
        /* the kernel says how many more bytes it needed: once more with room for them */
        uint64_t want = (uint64_t)size + c->bytes_missing + 4096;
        size = want > LINO_MAX ? LINO_MAX : (size_t)want;
    }
    if (e == 0) {
        /* never trust the counts beyond the buffer we handed over */
        size_t cap = (size - sizeof(*c)) / sizeof(uint64_t);
        size_t cnt = c->elem_cnt < cap ? c->elem_cnt : cap;
        for (size_t i = 0; i + 2 < cnt; i += 3) /* inode, offset, root */
            if (!refs_add(out, c->val[i + 2], c->val[i])) {
                e = ENOMEM;
                break;
            }
        if (c->elem_missed > 0 || c->elem_cnt > cap)
            out->truncated = true;
    }
    free(c);
    return e;
}

/* ---- naming a sharer ---- */

/* BTRFS_IOC_INO_PATHS: the names of inode ino in fd's own subvolume, relative to that
 * subvolume's root, ", "-joined into out. False when none could be had. */
static bool own_subvol_paths(int fd, uint64_t ino, char *out, size_t outsize)
{
    uint64_t *buf = calloc(1, PATHS_BUF); /* u64-aligned for the container */
    if (buf == NULL)
        return false;
    struct btrfs_data_container *c = (struct btrfs_data_container *)buf;
    struct btrfs_ioctl_ino_path_args a;
    memset(&a, 0, sizeof(a));
    a.inum = ino;
    a.size = PATHS_BUF;
    a.fspath = (uint64_t)(uintptr_t)c;
    out[0] = '\0';
    size_t shown = 0;
    if (ioctl(fd, BTRFS_IOC_INO_PATHS, &a) == 0) {
        /* val[i] is the offset of path i from val[0]; the strings follow the offsets */
        const char *base = (const char *)c->val;
        size_t avail = PATHS_BUF - offsetof(struct btrfs_data_container, val);
        size_t cnt = c->elem_cnt < avail / sizeof(uint64_t) ? c->elem_cnt
                                                            : avail / sizeof(uint64_t);
        for (size_t i = 0; i < cnt; i++) {
            uint64_t off = c->val[i];
            if (off < cnt * sizeof(uint64_t) || off >= avail)
                continue;
            const char *s = base + off;
            if (memchr(s, '\0', avail - (size_t)off) == NULL || s[0] == '\0')
                continue;
            size_t n = strlen(out);
            if (shown == PATHS_SHOWN) {
                snprintf(out + n, outsize - n, ", ...");
                break;
            }
            snprintf(out + n, outsize - n, "%s%s", shown ? ", " : "", s);
            shown++;
        }
        if (shown > 0 && shown < PATHS_SHOWN && c->elem_missed > 0) {
            size_t n = strlen(out);
            snprintf(out + n, outsize - n, ", ...");
        }
    }
    free(buf);
    return shown > 0;
}

/* BTRFS_IOC_INO_LOOKUP: one path of objectid inside subvolume treeid, relative to that
 * subvolume's root (the kernel ends it with '/'). */
static bool lookup_path(int fd, uint64_t treeid, uint64_t objectid, char *out, size_t outsize)
{
    struct btrfs_ioctl_ino_lookup_args a;
    memset(&a, 0, sizeof(a));
    a.treeid = treeid;
    a.objectid = objectid;
    if (ioctl(fd, BTRFS_IOC_INO_LOOKUP, &a) != 0)
        return false;
    a.name[sizeof(a.name) - 1] = '\0';
    size_t n = strlen(a.name);
    while (n > 0 && a.name[n - 1] == '/')
        a.name[--n] = '\0';
    snprintf(out, outsize, "%s", a.name);
    return true;
}

/* One item of the root tree (BTRFS_IOC_TREE_SEARCH): the first item with this objectid and
 * type; its data copied to out (at most outsize bytes), its key offset to *offset. Returns
 * the item's length, or -1. */
static long root_tree_item(int fd, uint64_t objectid, uint32_t type, uint64_t *offset,
                           void *out, size_t outsize)
{
    struct btrfs_ioctl_search_args *sa = calloc(1, sizeof(*sa));
    if (sa == NULL)
        return -1;
    struct btrfs_ioctl_search_key *k = &sa->key;
    k->tree_id = BTRFS_ROOT_TREE_OBJECTID;
    k->min_objectid = k->max_objectid = objectid;
    k->min_type = k->max_type = type;
    k->min_offset = 0;
    k->max_offset = UINT64_MAX;
    k->min_transid = 0;
    k->max_transid = UINT64_MAX;
    k->nr_items = 1;
    long len = -1;
    if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, sa) == 0 && k->nr_items >= 1) {
        struct btrfs_ioctl_search_header h;
        memcpy(&h, sa->buf, sizeof(h));
        size_t room = sizeof(sa->buf) - sizeof(h);
        if (h.objectid == objectid && h.type == type && h.len <= room) {
            memset(out, 0, outsize);
            memcpy(out, sa->buf + sizeof(h), h.len < outsize ? h.len : outsize);
            *offset = h.offset;
            len = (long)h.len;
        }
    }
    free(sa);
    return len;
}

/* Is subvolume root a snapshot (its root item names a parent subvolume)? */
static bool is_snapshot(int fd, uint64_t root)
{
    struct btrfs_root_item ri;
    uint64_t off = 0;
    long len = root_tree_item(fd, root, BTRFS_ROOT_ITEM_KEY, &off, &ri, sizeof(ri));
    static const uint8_t zero[BTRFS_UUID_SIZE];
    /* parent_uuid is meaningful only in the extended item (generation_v2 == generation) */
    return len >= (long)(offsetof(struct btrfs_root_item, parent_uuid) + BTRFS_UUID_SIZE) &&
           le64toh(ri.generation_v2) == le64toh(ri.generation) &&
           memcmp(ri.parent_uuid, zero, BTRFS_UUID_SIZE) != 0;
}

/* The path of subvolume root from the top level (subvolume 5), from its ROOT_BACKREF items
 * and the directories holding them. */
static bool subvol_path(int fd, uint64_t root, char *out, size_t outsize)
{
    char path[SUBVOL_PATH_MAX] = "";
    for (int depth = 0; depth < SUBVOL_DEPTH && root != BTRFS_FS_TREE_OBJECTID; depth++) {
        struct {
            struct btrfs_root_ref ref;
            char name[BTRFS_PATH_NAME_MAX + 1];
        } item;
        uint64_t parent = 0;
        long len = root_tree_item(fd, root, BTRFS_ROOT_BACKREF_KEY, &parent, &item,
                                  sizeof(item) - 1);
        if (len < (long)sizeof(item.ref))
            return false;
        size_t nl = le16toh(item.ref.name_len);
        if (nl == 0 || nl > (size_t)len - sizeof(item.ref) || nl > BTRFS_PATH_NAME_MAX)
            return false;
        item.name[nl] = '\0';
        char dir[BTRFS_INO_LOOKUP_PATH_MAX] = "";
        if (!lookup_path(fd, parent, le64toh(item.ref.dirid), dir, sizeof(dir)))
            return false;
        char next[SUBVOL_PATH_MAX];
        int w = snprintf(next, sizeof(next), "%s%s%s%s%s", dir, dir[0] ? "/" : "", item.name,
                         path[0] ? "/" : "", path);
        if (w < 0 || (size_t)w >= sizeof(next))
            return false;
        memcpy(path, next, (size_t)w + 1);
        root = parent;
    }
    if (root != BTRFS_FS_TREE_OBJECTID)
        return false;
    snprintf(out, outsize, "%s", path);
    return true;
}

/* "inode 261 in subvolume 5: outside/copy.jpg", or for another subvolume
 * "inode 257 in subvolume 258 (a snapshot, at 'snap' from the top level): a.jpg"; paths of
 * files are relative to their subvolume's root. */
static json_t *describe(int fd, uint64_t own_root, const struct ref *r)
{
    char names[1024] = "", line[2048];
    bool have_names;
    if (r->root == own_root) {
        have_names = own_subvol_paths(fd, r->ino, names, sizeof(names));
        snprintf(line, sizeof(line), "inode %llu in subvolume %llu%s%s",
                 (unsigned long long)r->ino, (unsigned long long)r->root,
                 have_names ? ": " : " (no name found)", names);
        return json_string(line);
    }
    have_names = lookup_path(fd, r->root, r->ino, names, sizeof(names)) && names[0] != '\0';
    char where[600] = "";
    char sp[512];
    bool snap = is_snapshot(fd, r->root);
    if (subvol_path(fd, r->root, sp, sizeof(sp)))
        snprintf(where, sizeof(where), " (%sat '%s' from the top level)",
                 snap ? "a snapshot, " : "", sp);
    else if (snap)
        snprintf(where, sizeof(where), " (a snapshot)");
    snprintf(line, sizeof(line), "inode %llu in subvolume %llu%s%s%s",
             (unsigned long long)r->ino, (unsigned long long)r->root, where,
             have_names ? ": " : "", names);
    return json_string(line);
}

/* ---- the entry point ---- */

static bool any_shared(const json_t *extents)
{
    size_t i;
    const json_t *e;
    json_array_foreach(extents, i, e)
        if (json_integer_value(json_object_get(e, "flags")) & FIEMAP_EXTENT_SHARED)
            return true;
    return false;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every reference to the target's shared extents; false when one could not be looked up. */
static bool btrfs_refs(int fd, const json_t *extents, struct refs *refs)
{
    bool complete = true;
    size_t n = 0, i;
    uint64_t *addr = calloc(LOOKUPS_MAX, sizeof(*addr));
    if (addr == NULL)
        return false;
    const json_t *e;
    json_array_foreach(extents, i, e) {
        json_int_t flags = json_integer_value(json_object_get(e, "flags"));
        const json_t *ph = json_object_get(e, "physical");
        if (!(flags & FIEMAP_EXTENT_SHARED))
            continue;
        /* inline, unknown or delayed extents have no address to look up */
        if (!json_is_integer(ph) || json_integer_value(ph) <= 0 || n == LOOKUPS_MAX ||
            (flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
                      FIEMAP_EXTENT_DATA_INLINE))) {
            complete = false;
            continue;
        }
        addr[n++] = (uint64_t)json_integer_value(ph);
    }
    qsort(addr, n, sizeof(*addr), u64_cmp);
    struct lino li = {false};
    for (i = 0; i < n; i++) {
        if (i > 0 && addr[i] == addr[i - 1])
            continue;
        if (lino_refs(&li, fd, addr[i], refs) != 0)
            complete = false;
        refs_unique(refs);
    }
    free(addr);
    return complete;
}

/* Btrfs only. XFS has no reverse mapping usable here: without the rmapbt (not made by default
 * by mkfs.xfs before xfsprogs 6.x) nothing maps a block back to its owners, and with it
 * FS_IOC_GETFSMAP gives owner inode numbers but no names (parent pointers are newer still).
 * Other filesystems (ocfs2, bcachefs, f2fs) share extents too and offer nothing either. */
json_t *wipe_shared_owners(int fd, const json_t *extents, const char *fs_kind, bool *can_tell)
{
    json_t *out = json_array();
    *can_tell = true;
    if (out == NULL || !json_is_array(extents) || !any_shared(extents))
        return out; /* nothing is shared: nobody else to name */
    if (fs_kind == NULL || strcmp(fs_kind, "btrfs") != 0) {
        *can_tell = false;
        return out;
    }
    struct stat sb;
    struct btrfs_ioctl_ino_lookup_args own;
    memset(&own, 0, sizeof(own));
    own.treeid = 0; /* 0 and the subvolume root's objectid: "which subvolume holds fd" */
    own.objectid = BTRFS_FIRST_FREE_OBJECTID;
    if (fstat(fd, &sb) != 0 || ioctl(fd, BTRFS_IOC_INO_LOOKUP, &own) != 0) {
        *can_tell = false;
        return out;
    }
    struct refs refs = {0};
    *can_tell = btrfs_refs(fd, extents, &refs);
    size_t named = 0, more = 0;
    for (size_t i = 0; i < refs.n; i++) {
        if (refs.v[i].root == own.treeid && refs.v[i].ino == (uint64_t)sb.st_ino)
            continue; /* the target itself (every hard link of it) */
        if (named == NAMED_MAX) {
            more++;
            continue;
        }
        json_t *s = describe(fd, own.treeid, &refs.v[i]);
        if (s != NULL && json_array_append_new(out, s) == 0)
            named++;
    }
    char b[96];
    if (refs.truncated && more == 0)
        snprintf(b, sizeof(b), "... and possibly more: the filesystem's list was cut short");
    else
        snprintf(b, sizeof(b), "... and %s%zu more", refs.truncated ? "at least " : "", more);
    if (more > 0 || refs.truncated)
        json_array_append_new(out, json_string(b));
    free(refs.v);
    return out;
}
