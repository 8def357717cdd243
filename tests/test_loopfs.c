/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: `deprive run` on real loop-mounted filesystems (ext4, xfs, btrfs, vfat, exfat,
 * ntfs), then the raw image is searched for the erased content and names. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

/* ---- what is planted ---- */

struct match_file {
    const char *rel;  /* path below the mount */
    const char *link; /* second hard link name, or NULL */
    size_t size;
    uint32_t seed;
};

static const struct match_file matches[] = {
    {"VictimAlphaPhoto.jpg", NULL, 5 * 1024, 1001},
    {"media/VictimBravoClip.png", NULL, 70 * 1024, 1002},
    {"VictimCharlieVideo.mp4", NULL, 1024 * 1024, 1003},
    {"DistinctiveSubdirName/DistinctiveVictimName_0001.jpg", NULL, 33 * 1024, 1004},
    {"VictimDeltaOriginal.jpg", "other/VictimDeltaHardLink.jpg", 12 * 1024, 1005},
};
#define N_MATCH (sizeof(matches) / sizeof(matches[0]))
#define N_KEEP 48
#define PROBES 64
#define WINDOW 32

struct keep_file {
    char rel[64];
    char sha[65];
};

/* A byte range of the image with a name, and the residual-risk statement that covers names
 * found there: words separated by '|' that must all occur in one statement. */
struct region {
    uint64_t start, end;
    const char *label;
    const char *risk;
};

/* Per-filesystem expectations. risk covers names found outside the known regions; NULL means
 * names must be gone there. find_regions (optional) locates areas such as the XFS log. */
struct fsfx {
    const char *type;
    unsigned size_mb;
    bool hardlinks;
    const char *risk;
    size_t (*find_regions)(const char *image, struct region *out, size_t max);
    struct tu_fs fs;
    bool ready;
    char *work;
    struct keep_file keep[N_KEEP];
};

/* The XFS internal log, from the superblock (xfs_db). */
static size_t xfs_log_region(const char *image, struct region *out, size_t max)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "xfs_db -r -c 'sb 0' -c 'p logstart' -c 'p logblocks' -c 'p agblocks' "
             "-c 'p agblklog' -c 'p blocksize' '%s' 2>/dev/null",
             image);
    FILE *p = popen(cmd, "r");
    unsigned long long v[5] = {0};
    int n = 0;
    char line[256];
    while (p != NULL && n < 5 && fgets(line, sizeof(line), p) != NULL) {
        const char *eq = strchr(line, '=');
        if (eq != NULL)
            v[n++] = strtoull(eq + 1, NULL, 10);
    }
    if (p != NULL)
        pclose(p);
    if (n < 5 || max < 1 || v[0] == 0)
        return 0;
    unsigned long long ag = v[0] >> v[3], agbno = v[0] & ((1ull << v[3]) - 1);
    out[0] = (struct region){(ag * v[2] + agbno) * v[4], (ag * v[2] + agbno + v[1]) * v[4],
                             "XFS log", "XFS log"};
    return 1;
}

/* Expectations found empirically (see the printed findings): recent kernels zero deleted ext4
 * directory entries and deprive checkpoints and zeroes the ext4 journal, so no names may
 * remain; XFS keeps names in its log, in the free space of directory blocks and in the unused
 * tail of short-form directory inodes; NTFS in $I30 index slack (and $LogFile); FAT and exFAT
 * in deleted directory entries; btrfs showed none (its statement is asked for if it does). */
static struct fsfx fx_ext4 = {.type = "ext4", .size_mb = 64, .hardlinks = true, .risk = NULL};
static struct fsfx fx_xfs = {.type = "xfs",
                             .size_mb = 320,
                             .hardlinks = true,
                             .risk = "XFS|slack",
                             .find_regions = xfs_log_region};
static struct fsfx fx_btrfs = {
    .type = "btrfs", .size_mb = 128, .hardlinks = true, .risk = "copy-on-write|stale metadata"};
static struct fsfx fx_vfat = {
    .type = "vfat", .size_mb = 64, .hardlinks = false, .risk = "vfat|deleted directory entries"};
static struct fsfx fx_exfat = {
    .type = "exfat", .size_mb = 64, .hardlinks = false, .risk = "exfat|deleted directory entries"};
static struct fsfx fx_ntfs = {
    .type = "ntfs", .size_mb = 64, .hardlinks = true, .risk = "NTFS|index slack"};

static int setup(void **state)
{
    struct fsfx *f = *state;
    f->ready = tu_fs_create(&f->fs, f->type, f->size_mb);
    if (f->ready)
        f->work = tu_mkdtemp();
    return 0;
}

static int teardown(void **state)
{
    struct fsfx *f = *state;
    tu_fs_destroy(&f->fs);
    if (f->work != NULL) {
        tu_rm_rf(f->work);
        free(f->work);
        f->work = NULL;
    }
    return 0;
}

static bool supports_links(const struct fsfx *f)
{
    return f->hardlinks;
}

static void plant(struct fsfx *f, char *list, size_t listsize)
{
    const char *mnt = f->fs.mnt;
    list[0] = '\0';
    for (size_t i = 0; i < N_MATCH; i++) {
        tu_write_random(mnt, matches[i].rel, matches[i].size, matches[i].seed);
        char *p = tu_path(mnt, matches[i].rel), hex[65];
        assert_true(tu_sha256_hex(p, hex));
        size_t n = strlen(list);
        snprintf(list + n, listsize - n, "sha256:%s\n", hex);
        if (matches[i].link != NULL && supports_links(f)) {
            char *q = tu_path(mnt, matches[i].link);
            tu_sh("mkdir -p \"$(dirname '%s')\"", q);
            if (link(p, q) != 0)
                fail_msg("%s: link %s: %s", f->type, q, strerror(errno));
            free(q);
        }
        free(p);
    }
    for (int i = 0; i < N_KEEP; i++) {
        struct keep_file *k = &f->keep[i];
        size_t size = 1024 + (size_t)i * 2111 % 100000;
        if (i == 0)
            snprintf(k->rel, sizeof(k->rel), "DistinctiveSubdirName/neighbour.jpg");
        else if (i == 1)
            snprintf(k->rel, sizeof(k->rel), "media/same_size_as_alpha.jpg"), size = 5 * 1024;
        else if (i == 2)
            snprintf(k->rel, sizeof(k->rel), "empty.txt"), size = 0;
        else
            snprintf(k->rel, sizeof(k->rel), "%s/keep_%02d.dat",
                     i % 3 == 0   ? "keep"
                     : i % 3 == 1 ? "keep/deeper"
                                  : "media",
                     i);
        tu_write_random(mnt, k->rel, size, 5000 + (uint32_t)i);
        char *p = tu_path(mnt, k->rel);
        assert_true(tu_sha256_hex(p, k->sha));
        free(p);
    }
    sync();
}

/* ---- several needles searched in one pass over an image ---- */

#define MAX_OFFS 16
struct needle {
    const unsigned char *b;
    size_t len; /* >= 4 */
    bool found;
    size_t noffs;          /* occurrences, counted up to MAX_OFFS */
    size_t offs[MAX_OFFS]; /* where */
};

static uint32_t h4(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return (v * 2654435761u) >> 8; /* 24 bits */
}

/* memmem(img, size, needle) for every needle at once, recording where each occurs: one pass
 * over the image with a bitmap of the needles' first four bytes as a filter, instead of a few
 * hundred memmem passes over an image of up to 320 MiB. */
static void search(const unsigned char *img, size_t size, struct needle *nd, size_t n)
{
    uint8_t *bits = calloc(1u << 21, 1);
    assert_non_null(bits);
    for (size_t i = 0; i < n; i++) {
        uint32_t h = h4(nd[i].b);
        bits[h >> 3] |= (uint8_t)(1u << (h & 7));
    }
    for (size_t off = 0; off + 4 <= size; off++) {
        uint32_t h = h4(img + off);
        if (!(bits[h >> 3] & (1u << (h & 7))))
            continue;
        for (size_t i = 0; i < n; i++)
            if (nd[i].noffs < MAX_OFFS && nd[i].len <= size - off &&
                memcmp(img + off, nd[i].b, 4) == 0 && memcmp(img + off, nd[i].b, nd[i].len) == 0) {
                nd[i].found = true;
                nd[i].offs[nd[i].noffs++] = off;
            }
    }
    free(bits);
}

static unsigned char *map_image(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(m != MAP_FAILED);
    close(fd);
    *size = (size_t)sb.st_size;
    return m;
}

static const char *base_of(const char *rel)
{
    const char *s = strrchr(rel, '/');
    return s ? s + 1 : rel;
}

/* ---- helpers around the CLI ---- */

static void keygen(const char *work)
{
    char *pub = tu_path(work, "key.pub"), *sec = tu_path(work, "key.sec");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    if (r.status != 0)
        fail_msg("keygen failed (%d): %s", r.status, r.err);
    tu_run_free(&r);
    free(pub);
    free(sec);
}

/* Whether one statement in outcome.residual_risks contains every '|'-separated word of
 * words. */
static bool cert_states(const json_t *cert, const char *words)
{
    size_t i;
    const json_t *s;
    json_array_foreach(tu_jget(cert, "outcome.residual_risks"), i, s) {
        const char *text = json_string_value(s), *w = words;
        bool all = text != NULL;
        while (all && *w) {
            size_t n = strcspn(w, "|");
            char word[128];
            snprintf(word, sizeof(word), "%.*s", (int)n, w);
            all = strstr(text, word) != NULL;
            w += n + (w[n] == '|');
        }
        if (all)
            return true;
    }
    return false;
}

static void print_targets(const json_t *wipe)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(wipe, "targets"), i, t) {
        printf("  target %zu: %s [%s] %s\n", i, json_string_value(json_object_get(t, "status")),
               json_string_value(json_object_get(t, "assurance")),
               json_string_value(json_object_get(t, "reason"))
                   ? json_string_value(json_object_get(t, "reason"))
                   : "");
    }
}

/* ---- ext4 scan soundness ---- */

#define MAX_TIMES 256
struct times {
    char path[MAX_TIMES][256];
    struct timespec a[MAX_TIMES], m[MAX_TIMES], c[MAX_TIMES];
    size_t n;
};

static void add_times(struct times *t, const char *path, const struct stat *st)
{
    assert_true(t->n < MAX_TIMES);
    assert_true(strlen(path) < sizeof(t->path[0]));
    snprintf(t->path[t->n], sizeof(t->path[0]), "%.255s", path); /* bounded: -Wformat-truncation */
    t->a[t->n] = st->st_atim;
    t->m[t->n] = st->st_mtim;
    t->c[t->n] = st->st_ctim;
    t->n++;
}

/* Our own walk reads directories through O_NOATIME descriptors, so it does not disturb the
 * times it records (nftw would update directory atimes). */
static void walk_times(int dfd, const char *path, struct times *t)
{
    DIR *d = fdopendir(dfd);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        assert_int_equal(fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
        char sub[600];
        snprintf(sub, sizeof(sub), "%.250s/%.250s", path, e->d_name);
        add_times(t, sub, &st);
        if (S_ISDIR(st.st_mode)) {
            int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOATIME | O_NOFOLLOW);
            assert_true(fd >= 0);
            walk_times(fd, sub, t);
        }
    }
    closedir(d);
}

static void collect_times(const char *root, struct times *t)
{
    t->n = 0;
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_NOATIME);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    add_times(t, ".", &st);
    walk_times(fd, ".", t);
}

static bool ts_eq(struct timespec x, struct timespec y)
{
    return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
}

static void scan_to(const struct fsfx *f, const char *list, const char *out)
{
    struct tu_run r;
    tu_deprive(&r, NULL, "scan", "--hashes", list, "-o", out, f->fs.mnt, NULL);
    if (r.status != 0)
        fail_msg("%s: scan failed (%d): %s", f->type, r.status, r.err);
    tu_run_free(&r);
}

static void check_scan_soundness(struct fsfx *f, const char *list)
{
    struct times *before = calloc(1, sizeof(*before)), *after = calloc(1, sizeof(*after));
    assert_non_null(before);
    assert_non_null(after);
    /* with strictatime every read without O_NOATIME updates atime: a scan that reads a file
     * or lists a directory carelessly shows up here */
    assert_int_equal(tu_sh("mount -o remount,strictatime %s", f->fs.mnt), 0);
    collect_times(f->fs.mnt, before);
    char *plan = tu_path(f->work, "soundness-plan.json");
    scan_to(f, list, plan);
    collect_times(f->fs.mnt, after);
    assert_int_equal(before->n, after->n);
    for (size_t i = 0; i < before->n; i++) {
        size_t j = 0;
        while (j < after->n && strcmp(before->path[i], after->path[j]) != 0)
            j++;
        assert_true(j < after->n);
        if (!ts_eq(before->a[i], after->a[j]) || !ts_eq(before->m[i], after->m[j]) ||
            !ts_eq(before->c[i], after->c[j]))
            fail_msg("ext4: scan changed the %s of %s",
                     !ts_eq(before->a[i], after->a[j])   ? "atime"
                     : !ts_eq(before->m[i], after->m[j]) ? "mtime"
                                                         : "ctime",
                     before->path[i]);
    }
    json_t *rep = tu_load_json(plan);
    size_t want = N_MATCH + (supports_links(f) ? 1 : 0);
    assert_int_equal(json_array_size(json_object_get(rep, "findings")), want);
    json_decref(rep);
    printf("ext4: rw scan left atime/mtime/ctime of %zu files and directories unchanged\n",
           before->n);

    /* read-only mount: the image itself must not change */
    tu_fs_umount(&f->fs);
    char h1[65], h2[65];
    assert_true(tu_sha256_hex(f->fs.image, h1));
    assert_true(tu_fs_mount(&f->fs, true));
    scan_to(f, list, plan);
    tu_fs_umount(&f->fs);
    assert_true(tu_sha256_hex(f->fs.image, h2));
    assert_string_equal(h1, h2);
    printf("ext4: image SHA-256 unchanged by a scan on a ro,noload mount\n");
    assert_true(tu_fs_mount(&f->fs, false));
    free(plan);
    free(before);
    free(after);
}

/* ---- the test ---- */

static char (*found_files)[256];
static size_t found_count;

static int collect_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag == FTW_F && S_ISREG(st->st_mode) && found_count < 512)
        snprintf(found_files[found_count++], 256, "%s", path);
    return 0;
}

static void check_tree(struct fsfx *f)
{
    /* matched names gone; nothing but the kept files left (no scrubbed leftovers) */
    for (size_t i = 0; i < N_MATCH; i++) {
        char *p = tu_path(f->fs.mnt, matches[i].rel);
        if (access(p, F_OK) == 0)
            fail_msg("%s: %s still exists", f->type, p);
        free(p);
        if (matches[i].link != NULL) {
            p = tu_path(f->fs.mnt, matches[i].link);
            assert_int_equal(access(p, F_OK), -1);
            free(p);
        }
    }
    found_files = calloc(512, 256);
    found_count = 0;
    assert_int_equal(nftw(f->fs.mnt, collect_cb, 32, FTW_PHYS | FTW_MOUNT), 0);
    size_t mlen = strlen(f->fs.mnt);
    for (size_t i = 0; i < found_count; i++) {
        const char *rel = found_files[i] + mlen + 1;
        bool known = false;
        for (int k = 0; k < N_KEEP && !known; k++)
            known = strcmp(rel, f->keep[k].rel) == 0;
        /* filesystem-internal files (lost+found is a directory; ntfs-3g shows none) */
        if (!known)
            fail_msg("%s: unexpected file left: %s", f->type, rel);
    }
    assert_int_equal(found_count, N_KEEP);
    free(found_files);
}

static void check_kept(struct fsfx *f)
{
    for (int i = 0; i < N_KEEP; i++) {
        char *p = tu_path(f->fs.mnt, f->keep[i].rel), hex[65];
        if (!tu_sha256_hex(p, hex))
            fail_msg("%s: kept file %s cannot be read", f->type, f->keep[i].rel);
        if (strcmp(hex, f->keep[i].sha) != 0)
            fail_msg("%s: kept file %s changed", f->type, f->keep[i].rel);
        free(p);
    }
}

/* What is looked for in the raw image: PROBES windows of each matched file's content, and each
 * matched file name as stored - ASCII, UTF-16LE, and for FAT/exFAT the UTF-16LE pieces the
 * directory entries split long names into (VFAT LFN entries hold 5+6+2 characters in separate
 * fields, exFAT name entries 15). */
#define MAX_NAME_NEEDLES 16
struct residue {
    const char *names[N_MATCH * 2];
    size_t nnames;
    struct needle *content; /* N_MATCH * PROBES */
    struct needle name[N_MATCH * 2][MAX_NAME_NEEDLES];
    size_t nname[N_MATCH * 2];
    unsigned char *bufs[N_MATCH * 2 * MAX_NAME_NEEDLES];
    size_t nbufs;
    unsigned char *data[N_MATCH];
};

static void add_utf16(struct residue *r, size_t i, const char *s, size_t len)
{
    if (len < 3) /* too short to say anything */
        return;
    /* a piece that also occurs in another name ("Victi") says nothing about this one */
    char piece[64];
    snprintf(piece, sizeof(piece), "%.*s", (int)len, s);
    for (size_t o = 0; o < r->nnames; o++)
        if (o != i && strstr(r->names[o], piece) != NULL && len < strlen(r->names[i]))
            return;
    assert_true(r->nname[i] < MAX_NAME_NEEDLES);
    unsigned char *u = calloc(2 * len, 1);
    for (size_t c = 0; c < len; c++)
        u[2 * c] = (unsigned char)s[c];
    r->bufs[r->nbufs++] = u;
    r->name[i][r->nname[i]++] = (struct needle){.b = u, .len = 2 * len};
}

static void residue_init(struct residue *r, const struct fsfx *f)
{
    memset(r, 0, sizeof(*r));
    r->content = calloc(N_MATCH * PROBES, sizeof(*r->content));
    srandom(4242);
    for (size_t i = 0; i < N_MATCH; i++) {
        r->data[i] = tu_random_bytes(matches[i].size, matches[i].seed);
        for (int p = 0; p < PROBES; p++) {
            size_t off = (size_t)random() % (matches[i].size - WINDOW + 1);
            r->content[i * PROBES + p] = (struct needle){.b = r->data[i] + off, .len = WINDOW};
        }
        r->names[r->nnames++] = base_of(matches[i].rel);
        if (matches[i].link != NULL && supports_links(f))
            r->names[r->nnames++] = base_of(matches[i].link);
    }
    bool vfat = strcmp(f->type, "vfat") == 0, exfat = strcmp(f->type, "exfat") == 0;
    for (size_t i = 0; i < r->nnames; i++) {
        const char *n = r->names[i];
        size_t l = strlen(n);
        r->name[i][r->nname[i]++] = (struct needle){.b = (const unsigned char *)n, .len = l};
        add_utf16(r, i, n, l);
        for (size_t k = 0; vfat && 13 * k < l; k++) {
            static const size_t field_at[] = {0, 5, 11}, field_len[] = {5, 6, 2};
            for (int fld = 0; fld < 3; fld++) {
                size_t at = 13 * k + field_at[fld];
                if (at < l)
                    add_utf16(r, i, n + at, l - at < field_len[fld] ? l - at : field_len[fld]);
            }
        }
        for (size_t at = 0; exfat && at < l; at += 15)
            add_utf16(r, i, n + at, l - at < 15 ? l - at : 15);
    }
}

static void residue_release(struct residue *r)
{
    for (size_t i = 0; i < r->nbufs; i++)
        free(r->bufs[i]);
    for (size_t i = 0; i < N_MATCH; i++)
        free(r->data[i]);
    free(r->content);
}

static void residue_search(struct residue *r, const char *image)
{
    size_t size, total = N_MATCH * PROBES;
    for (size_t i = 0; i < r->nnames; i++)
        total += r->nname[i];
    struct needle *all = calloc(total, sizeof(*all));
    size_t n = 0;
    for (size_t i = 0; i < N_MATCH * PROBES; i++)
        all[n++] = r->content[i];
    for (size_t i = 0; i < r->nnames; i++)
        for (size_t k = 0; k < r->nname[i]; k++)
            all[n++] = r->name[i][k];
    unsigned char *img = map_image(image, &size);
    search(img, size, all, n);
    munmap(img, size);
    n = 0;
    for (size_t i = 0; i < N_MATCH * PROBES; i++)
        r->content[i] = all[n++];
    for (size_t i = 0; i < r->nnames; i++)
        for (size_t k = 0; k < r->nname[i]; k++)
            r->name[i][k] = all[n++];
    free(all);
}

static size_t content_hits(const struct residue *r, size_t i)
{
    size_t hits = 0;
    for (int p = 0; p < PROBES; p++)
        hits += r->content[i * PROBES + p].found;
    return hits;
}

/* Which representations of name i were found, e.g. "ASCII, UTF-16LE, 2 of 4 pieces". */
static bool name_found(const struct residue *r, size_t i, char *how, size_t howsize)
{
    size_t pieces = 0, found = 0;
    for (size_t k = 2; k < r->nname[i]; k++) {
        pieces++;
        found += r->name[i][k].found;
    }
    snprintf(how, howsize, "%s%s%s", r->name[i][0].found ? "ASCII" : "",
             r->name[i][0].found && r->name[i][1].found ? ", " : "",
             r->name[i][1].found ? "UTF-16LE" : "");
    if (found > 0) {
        size_t n = strlen(how);
        snprintf(how + n, howsize - n, "%s%zu of %zu UTF-16LE directory-entry pieces",
                 n ? ", " : "", found, pieces);
    }
    return r->name[i][0].found || r->name[i][1].found || found > 0;
}

/* Positive control, before the wipe: the search finds every planted name and all content
 * windows, so an empty result afterwards means something. */
static void residue_control(struct fsfx *f)
{
    struct residue *r = malloc(sizeof(*r));
    residue_init(r, f);
    tu_fs_umount(&f->fs);
    residue_search(r, f->fs.image);
    for (size_t i = 0; i < N_MATCH; i++)
        if (content_hits(r, i) != PROBES)
            fail_msg("%s: control: only %zu of %d windows of %s found before the wipe", f->type,
                     content_hits(r, i), PROBES, matches[i].rel);
    for (size_t i = 0; i < r->nnames; i++) {
        char how[128];
        if (!name_found(r, i, how, sizeof(how)))
            fail_msg("%s: control: name %s not found in the image before the wipe", f->type,
                     r->names[i]);
    }
    printf("%s: control: every content window and name found in the image before the wipe\n",
           f->type);
    residue_release(r);
    free(r);
    assert_true(tu_fs_mount(&f->fs, false));
}

/* After the wipe (unmounted): (a) no content window anywhere in the image; (b) no name, or
 * when the filesystem keeps them, the certificate says so. */
static void check_image(struct fsfx *f, const json_t *cert)
{
    struct residue *r = malloc(sizeof(*r));
    residue_init(r, f);
    residue_search(r, f->fs.image);
    for (size_t i = 0; i < N_MATCH; i++)
        if (content_hits(r, i) > 0)
            fail_msg("%s: %zu of %d content windows of %s remain in the image", f->type,
                     content_hits(r, i), PROBES, matches[i].rel);
    printf("%s: no content residue (%d x %d-byte windows of each of %zu files)\n", f->type, PROBES,
           WINDOW, N_MATCH);
    struct region reg[8];
    size_t nreg = f->find_regions ? f->find_regions(f->fs.image, reg, 8) : 0;
    size_t found = 0, outside = 0, inside[8] = {0};
    for (size_t i = 0; i < r->nnames; i++) {
        char how[128];
        if (!name_found(r, i, how, sizeof(how)))
            continue;
        found++;
        printf("%s: name residue: '%s' (%s) at", f->type, r->names[i], how);
        for (size_t k = 0; k < r->nname[i]; k++)
            for (size_t o = 0; o < r->name[i][k].noffs; o++) {
                uint64_t off = r->name[i][k].offs[o];
                const char *label = "filesystem metadata";
                size_t g = 0;
                while (g < nreg && !(off >= reg[g].start && off < reg[g].end))
                    g++;
                if (g < nreg)
                    inside[g]++, label = reg[g].label;
                else
                    outside++;
                printf(" %llu (%s)", (unsigned long long)off, label);
            }
        printf("\n");
    }
    for (size_t g = 0; g < nreg; g++)
        if (inside[g] > 0 && !cert_states(cert, reg[g].risk))
            fail_msg("%s: names remain in the %s but no residual-risk statement of the "
                     "certificate says so (expected one with '%s')",
                     f->type, reg[g].label, reg[g].risk);
    if (outside > 0 && f->risk == NULL)
        fail_msg("%s: %zu erased file name(s) remain in the image", f->type, found);
    if (outside > 0 && !cert_states(cert, f->risk))
        fail_msg("%s: names remain in the image%s but no residual-risk statement of the "
                 "certificate says so (expected one with all of '%s')",
                 f->type, nreg ? " outside the known regions" : "", f->risk);
    if (found > 0)
        printf("%s: name residue present (%zu of %zu names), the certificate states it\n", f->type,
               found, r->nnames);
    else
        printf("%s: no name residue (%zu names: ASCII, UTF-16LE%s)\n", f->type, r->nnames,
               strcmp(f->type, "vfat") == 0 || strcmp(f->type, "exfat") == 0
                   ? ", directory-entry pieces"
                   : "");
    residue_release(r);
    free(r);
}

static void run_fs(void **state)
{
    struct fsfx *f = *state;
    if (!f->ready) {
        printf("%s: skipped: no %s image could be made and mounted here\n", f->type, f->type);
        skip();
    }
    char list[4096];
    plant(f, list, sizeof(list));
    char *listp = tu_path(f->work, "victims.hashes");
    tu_write(f->work, "victims.hashes", list, strlen(list));
    keygen(f->work);
    if (strcmp(f->type, "ext4") == 0)
        check_scan_soundness(f, listp);
    residue_control(f);

    char *cert = tu_path(f->work, "cert.json"), *sec = tu_path(f->work, "key.sec");
    struct tu_run r;
    tu_deprive(&r, NULL, "run", "--hashes", listp, "--key", sec, "-o", cert, "--order",
               "ORD-2026-0001", "--exhibit", "EX-LOOP-1", "--officer", "Test Officer", "--yes",
               f->fs.mnt, NULL);
    char *wipep = tu_path(f->work, "cert.json.wipe.json");
    char *rescanp = tu_path(f->work, "cert.json.rescan.json");
    if (r.status != 0) {
        printf("%s: deprive run exit %d\nstdout:\n%s\nstderr:\n%s\n", f->type, r.status, r.out,
               r.err);
        if (access(wipep, F_OK) == 0) {
            json_t *w = tu_load_json(wipep);
            print_targets(w);
            json_decref(w);
        }
        if (access(cert, F_OK) == 0) {
            json_t *c = tu_load_json(cert);
            printf("%s: certificate outcome %s\n", f->type,
                   json_string_value(tu_jget(c, "outcome.result")));
            json_decref(c);
        }
        fail_msg("%s: deprive run did not erase everything (exit %d)", f->type, r.status);
    }
    tu_run_free(&r);
    json_t *c = tu_load_json(cert);
    assert_string_equal(json_string_value(tu_jget(c, "outcome.result")), "ERASED");
    json_t *rescan = tu_load_json(rescanp);
    assert_int_equal(json_array_size(json_object_get(rescan, "findings")), 0);
    json_decref(rescan);
    json_t *w = tu_load_json(wipep);
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(w, "targets"), i, t) {
        printf("%s: target %zu erased, assurance %s\n", f->type, i,
               json_string_value(json_object_get(t, "assurance")));
        assert_string_equal(json_string_value(json_object_get(t, "status")), "erased");
        /* every name of every planted inode was in the plan: none may be claimed left */
        assert_int_equal(json_integer_value(json_object_get(t, "links_remaining")), 0);
        /* the levels each filesystem deserves: in place, or free space filled on btrfs;
         * fusefat's mount names no source device, so its medium is unknown (never rated in
         * place) unless the examiner states it */
        const char *want = strcmp(f->type, "btrfs") == 0  ? "free-space-overwritten"
                           : strcmp(f->type, "vfat") == 0 ? "overwritten-medium-unknown"
                                                          : "overwritten-in-place-verified";
        assert_string_equal(json_string_value(json_object_get(t, "assurance")), want);
    }
    assert_int_equal(json_array_size(json_object_get(w, "targets")), N_MATCH);
    json_decref(w);
    check_tree(f);

    tu_fs_umount(&f->fs);
    check_image(f, c);
    assert_true(tu_fs_mount(&f->fs, true));
    check_kept(f);
    printf("%s: all %d non-matching files byte-identical after remount\n", f->type, N_KEEP);
    tu_fs_umount(&f->fs);
    json_decref(c);
    free(cert);
    free(sec);
    free(wipep);
    free(rescanp);
    free(listp);
}

static void test_ext4(void **state)
{
    run_fs(state);
}
static void test_xfs(void **state)
{
    run_fs(state);
}
static void test_btrfs(void **state)
{
    run_fs(state);
}
static void test_vfat(void **state)
{
    run_fs(state);
}
static void test_exfat(void **state)
{
    run_fs(state);
}
static void test_ntfs(void **state)
{
    run_fs(state);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* findings and cmocka's messages in order */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_ext4, setup, teardown, &fx_ext4),
        cmocka_unit_test_prestate_setup_teardown(test_xfs, setup, teardown, &fx_xfs),
        cmocka_unit_test_prestate_setup_teardown(test_btrfs, setup, teardown, &fx_btrfs),
        cmocka_unit_test_prestate_setup_teardown(test_vfat, setup, teardown, &fx_vfat),
        cmocka_unit_test_prestate_setup_teardown(test_exfat, setup, teardown, &fx_exfat),
        cmocka_unit_test_prestate_setup_teardown(test_ntfs, setup, teardown, &fx_ntfs),
    };
    /* DP_TEST_FILTER=test_xfs runs one filesystem */
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
