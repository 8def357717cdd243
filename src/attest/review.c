/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the examiner's contact sheet of perceptual-only candidates (include/deprive/review.h)
 * - each file re-opened read-only beneath the plan's root and checked against the plan, a small
 * area-averaged thumbnail, and an A4 PDF grid of tiles written exclusively, mode 0600. */
#include "deprive/review.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <hpdf.h>
#include <linux/openat2.h>

#include "deprive/archive.h"
#include "deprive/digest.h"
#include "deprive/fingerprint.h"
#include "deprive/fsinfo.h"
#include "deprive/image.h"
#include "deprive/json.h"
#include "deprive/pdq.h"
#include "deprive/report.h"
#include "deprive/util.h"
#include "deprive/walk.h"
#include "dp_config.h"
#include "internal.h"

/* A4 in points; a header band, a 3 x 4 grid of tiles, a footer line. */
#define PAGE_W 595.276f
#define PAGE_H 841.89f
#define MARGIN 30.0f
#define HEADER_H 70.0f
#define FOOTER_H 26.0f
#define COLS 3
#define ROWS 4
#define PER_PAGE (COLS * ROWS)
#define GRID_TOP (PAGE_H - MARGIN - HEADER_H)
#define TILE_W ((PAGE_W - 2 * MARGIN) / COLS)
#define TILE_H ((GRID_TOP - FOOTER_H) / ROWS)
#define PAD 7.0f
#define THUMB_BOX_H 86.0f
#define FS_TILE 7.0f
#define LEAD 8.2f

#define THUMB_LONG_SIDE 180        /* pixels */
#define DECODE_MIN_SIDE 256        /* JPEG may decode at a reduced DCT scale down to this */
#define PLAN_MAX ((size_t)1 << 30) /* as dp_plan_load */

static const char *const state_names[DP_REVIEW_STATE_COUNT] = {
    "shown", "changed", "symlink", "outside", "missing", "unreadable", "too-large", "undecodable",
};

static const char *const state_labels[DP_REVIEW_STATE_COUNT] = {
    "shown",
    "changed since scan",
    "symbolic link on the path: not followed",
    "on another mount or outside the root: not entered",
    "no longer there",
    "cannot be read",
    "too large to read for review",
    "cannot be decoded",
};

const char *dp_review_state_name(enum dp_review_state s)
{
    if ((unsigned)s >= DP_REVIEW_STATE_COUNT)
        dp_misuse("dp_review_state_name: bad state");
    return state_names[s];
}

const char *dp_review_state_label(enum dp_review_state s)
{
    if ((unsigned)s >= DP_REVIEW_STATE_COUNT)
        dp_misuse("dp_review_state_label: bad state");
    return state_labels[s];
}

void dp_review_result_release(struct dp_review_result *res)
{
    if (res == NULL)
        return;
    free(res->tiles);
    memset(res, 0, sizeof(*res));
}

/* A thumbnail: tightly packed rows, 1 (grey) or 3 (RGB) channels. */
struct thumb {
    uint8_t *pix;
    size_t w, h;
    int channels;
};

struct review {
    const struct dp_plan *plan;
    const struct dp_review_opts *opts;
    struct dp_review_result *res;
    const char *out_path;
    int rootfd, outdir;
    const char *outbase;
    dev_t out_dev;
    struct dp_file_id root_now;
    bool map_dev; /* the root is the one scanned under another device number: map it */
    struct dp_digest *digest;
    /* the document */
    HPDF_Doc doc;
    HPDF_Page page;
    HPDF_Font reg, bold, mono;
    bool failed, oom;
    HPDF_STATUS hpdf_err, hpdf_detail;
    char *plan_name, *root_text; /* Latin-1, for the header */
    char made[32];
};

static void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
    struct review *r = user_data;
    if (error_no == HPDF_STREAM_EOF) /* reading the finished document back */
        return;
    if (!r->failed) {
        r->failed = true;
        r->hpdf_err = error_no;
        r->hpdf_detail = detail_no;
    }
}

/* ---- the plan -------------------------------------------------------------------------- */

/* Read the plan once: the bytes hashed are the bytes parsed (as dp_plan_load parses them). */
static enum dp_status load_plan(const char *path, struct dp_plan **plan, char sha_hex[65],
                                struct dp_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    enum dp_status st = dp_read_file(path, PLAN_MAX, &buf, &len, err);
    if (st != DP_OK)
        return st;
    uint8_t sha[32];
    dp_sha256_buf(sha, buf, len);
    dp_hex_encode(sha_hex, sha, 32);
    json_error_t je;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (doc == NULL)
        return dp_error_set(err, DP_ERR_PARSE, 0, "%s:%d: %s", path, je.line, je.text);
    st = dp_plan_from_report(doc, plan, err);
    if (st != DP_OK)
        dp_error_prefix(err, "%s: ", path);
    json_decref(doc);
    return st;
}

static bool named(const struct dp_review_opts *o, const char *id)
{
    for (size_t i = 0; i < o->nfindings; i++)
        if (strcmp(o->findings[i], id) == 0)
            return true;
    return false;
}

/* The targets to show, by index into plan->targets (heap; *n may be 0). */
static enum dp_status select_targets(const struct dp_plan *plan, const struct dp_review_opts *o,
                                     size_t **out, size_t *n, struct dp_error *err)
{
    for (size_t k = 0; k < o->nfindings; k++) {
        const char *id = o->findings[k];
        size_t i = 0;
        while (i < plan->count && strcmp(plan->targets[i].finding_id, id) != 0)
            i++;
        if (i == plan->count)
            return dp_error_set(err, DP_ERR_INVALID, 0, "no finding '%.40s' in the plan", id);
        if (!o->all && !plan->targets[i].perceptual_only)
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "finding %s was matched by an exact digest, not only "
                                "perceptually (--all shows it)",
                                plan->targets[i].finding_id);
    }
    *out = calloc(plan->count ? plan->count : 1, sizeof(**out));
    if (*out == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    *n = 0;
    for (size_t i = 0; i < plan->count; i++) {
        const struct dp_plan_target *t = &plan->targets[i];
        if ((o->all || t->perceptual_only) && (o->nfindings == 0 || named(o, t->finding_id)))
            (*out)[(*n)++] = i;
    }
    return DP_OK;
}

/* ---- the root and the output ----------------------------------------------------------- */

static int open_dir_noatime(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM)
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

/* Is the root the directory scanned, now under another device number (a reboot or a loop
 * device renumbered)? Then targets scanned on the root's device are looked for on its device
 * now. Inode, and birth time, generation and filesystem UUID where both sides have them. */
static void map_root(struct review *r, const struct dp_fsinfo *fs)
{
    const struct dp_plan_root *p = &r->plan->root_id;
    const struct dp_file_id *now = &r->root_now;
    if (!p->present || (now->dev_major == p->id.dev_major && now->dev_minor == p->id.dev_minor))
        return;
    if (now->ino != p->id.ino)
        return;
    if (p->id.has_btime && now->has_btime &&
        (p->id.btime_sec != now->btime_sec || p->id.btime_nsec != now->btime_nsec))
        return;
    if (p->id.has_generation && now->has_generation && p->id.generation != now->generation)
        return;
    if (p->has_uuid && fs != NULL && fs->have_uuid && memcmp(p->uuid, fs->uuid, 16) != 0)
        return;
    r->map_dev = true;
}

static enum dp_status open_root(struct review *r, struct dp_error *err)
{
    r->rootfd = open_dir_noatime(r->plan->root);
    if (r->rootfd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open the scan root '%s'", r->plan->root);
    enum dp_status st = dp_file_id_stat(r->rootfd, "", &r->root_now, err);
    if (st != DP_OK)
        return st;
    struct dp_fsinfo fs;
    bool have_fs = dp_fsinfo_get(r->rootfd, &fs, NULL) == DP_OK;
    map_root(r, have_fs ? &fs : NULL);
    return DP_OK;
}

/* Two directories on one filesystem: the same device number, or (a bind mount elsewhere, a
 * btrfs subvolume) the same filesystem UUID or the same backing block device. */
static bool same_filesystem(int a, int b)
{
    struct stat sa, sb;
    if (fstat(a, &sa) != 0 || fstat(b, &sb) != 0)
        return true; /* cannot tell: assume the worst */
    if (sa.st_dev == sb.st_dev)
        return true;
    struct dp_fsinfo fa, fb;
    if (dp_fsinfo_get(a, &fa, NULL) != DP_OK || dp_fsinfo_get(b, &fb, NULL) != DP_OK)
        return false;
    if (fa.have_uuid && fb.have_uuid && memcmp(fa.uuid, fb.uuid, 16) == 0)
        return true;
    return fa.have_block && fb.have_block && strcmp(fa.block_name, fb.block_name) == 0;
}

/* The output's directory, held open from the checks to the creation; the name must not exist
 * and (unless allowed) the directory must not be on the reviewed filesystem. */
static enum dp_status open_output(struct review *r, char **dir_copy, struct dp_error *err)
{
    const char *p = r->out_path, *slash = strrchr(p, '/');
    r->outbase = slash ? slash + 1 : p;
    if (r->outbase[0] == '\0' || strcmp(r->outbase, ".") == 0 || strcmp(r->outbase, "..") == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "'%s' is not a file name", p);
    *dir_copy = slash == NULL ? strdup(".")
                : slash == p  ? strdup("/")
                              : strndup(p, (size_t)(slash - p));
    if (*dir_copy == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    r->outdir = open(*dir_copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->outdir < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open directory '%s'", *dir_copy);
    struct stat sb;
    if (fstatat(r->outdir, r->outbase, &sb, AT_SYMLINK_NOFOLLOW) == 0)
        return dp_error_set(err, DP_ERR_IO, EEXIST, "refusing to overwrite '%s'", p);
    if (errno != ENOENT)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot check '%s'", p);
    if (fstat(r->outdir, &sb) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot stat directory '%s'", *dir_copy);
    r->out_dev = sb.st_dev;
    if (same_filesystem(r->rootfd, r->outdir))
        r->res->on_device = true;
    if (r->res->on_device && !r->opts->allow_on_device)
        return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                            "'%s' is on the filesystem being reviewed: the sheet's thumbnails "
                            "would be written onto the seized device",
                            p);
    return DP_OK;
}

static enum dp_status write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return DP_ERR_IO;
        buf += w;
        len -= (size_t)w;
    }
    return DP_OK;
}

/* Create the sheet exclusively (never replacing anything), 0600, synced; a failed write
 * removes the file it created and nothing else. */
static enum dp_status write_sheet(struct review *r, const unsigned char *buf, size_t len,
                                  struct dp_error *err)
{
    int fd =
        openat(r->outdir, r->outbase, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno,
                            errno == EEXIST ? "refusing to overwrite '%s'" : "cannot create '%s'",
                            r->out_path);
    struct stat made;
    int e = 0;
    if (fstat(fd, &made) != 0 || fchmod(fd, 0600) != 0 || write_all(fd, buf, len) != DP_OK ||
        fsync(fd) != 0)
        e = errno ? errno : EIO;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && fsync(r->outdir) != 0 && errno != EINVAL)
        e = errno;
    if (e != 0) {
        struct stat now;
        if (fstatat(r->outdir, r->outbase, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
            now.st_ino == made.st_ino && now.st_dev == made.st_dev)
            unlinkat(r->outdir, r->outbase, 0);
        return dp_error_set(err, DP_ERR_IO, e, "cannot write '%s'", r->out_path);
    }
    r->res->written = true;
    return DP_OK;
}

/* ---- one candidate's file ------------------------------------------------------------ */

static void tile_set(struct dp_review_tile *tile, enum dp_review_state s, const char *fmt, ...)
    DP_PRINTF(3, 4);

static void tile_set(struct dp_review_tile *tile, enum dp_review_state s, const char *fmt, ...)
{
    tile->state = s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tile->detail, sizeof(tile->detail), fmt, ap);
    va_end(ap);
}

/* An O_PATH descriptor of the target, resolved beneath the root only (openat2); the
 * component-by-component walk where the kernel has no openat2. -1 with the tile set. */
static int open_path(struct review *r, const struct dp_plan_target *t, struct dp_review_tile *tile)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                   (r->plan->cross_mounts ? 0 : RESOLVE_NO_XDEV),
    };
    long fd = -1;
    for (int tries = 0; tries < 16; tries++) { /* EAGAIN: a rename raced the resolution */
        fd = syscall(SYS_openat2, r->rootfd, t->path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN)
            break;
    }
    if (fd < 0 && (errno == ENOSYS || errno == EPERM)) { /* no openat2 (old kernel, seccomp) */
        struct dp_error e = {0};
        int wfd = dp_walk_open_at_root(r->rootfd, t->path, t->path_len, O_PATH,
                                       r->plan->cross_mounts, NULL, &e);
        struct stat sb;
        if (wfd >= 0 && fstat(wfd, &sb) == 0 && S_ISLNK(sb.st_mode)) {
            /* O_PATH|O_NOFOLLOW opens the link itself: labelled as openat2 would refuse it */
            close(wfd);
            tile_set(tile, DP_REVIEW_SYMLINK, "%s", "");
            return -1;
        }
        if (wfd >= 0)
            return wfd;
        errno = e.sys_errno;
        if (e.sys_errno == 0) { /* a component on another mount or not allowed */
            tile_set(tile, DP_REVIEW_OUTSIDE, "%s", e.msg);
            return -1;
        }
    }
    if (fd >= 0)
        return (int)fd;
    int en = errno;
    switch (en) {
    case ELOOP:
        tile_set(tile, DP_REVIEW_SYMLINK, "%s", "");
        break;
    case EXDEV:
        tile_set(tile, DP_REVIEW_OUTSIDE, "%s", "");
        break;
    case ENOENT:
        tile_set(tile, DP_REVIEW_MISSING, "%s", "");
        break;
    case ENOTDIR:
        tile_set(tile, DP_REVIEW_CHANGED, "a directory on the path is not one");
        break;
    default:
        tile_set(tile, DP_REVIEW_UNREADABLE, "cannot open: %s", strerror(en));
        break;
    }
    return -1;
}

/* A readable descriptor on the very inode pfd refers to (through /proc: no second path walk,
 * and a device node swapped in is never opened); O_NOATIME where allowed. */
static int reopen_read(struct review *r, int pfd, const struct dp_plan_target *t)
{
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
    int base = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int fd = open(proc, base | O_NOATIME);
    if (fd < 0 && errno == EPERM && (fd = open(proc, base)) >= 0)
        r->res->noatime_fallbacks++;
    if (fd >= 0 || (errno != ENOENT && errno != ENOTDIR))
        return fd;
    /* no /proc: open the path again, beneath the root as before; the caller compares inodes */
    struct open_how how = {
        .flags = (uint64_t)(base | O_NOATIME),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                   (r->plan->cross_mounts ? 0 : RESOLVE_NO_XDEV),
    };
    fd = (int)syscall(SYS_openat2, r->rootfd, t->path, &how, sizeof(how));
    if (fd < 0 && errno == EPERM) {
        how.flags = (uint64_t)base;
        if ((fd = (int)syscall(SYS_openat2, r->rootfd, t->path, &how, sizeof(how))) >= 0)
            r->res->noatime_fallbacks++;
    }
    return fd;
}

/* The object now at the path against the plan: false with the tile set when it differs. */
static bool same_as_plan(const struct review *r, const struct dp_plan_target *t,
                         const struct dp_file_id *now, struct dp_review_tile *tile)
{
    const struct dp_file_id *then = &t->id, *root = &r->plan->root_id.id;
    uint64_t maj = then->dev_major, min = then->dev_minor;
    if (r->map_dev && maj == root->dev_major && min == root->dev_minor)
        maj = r->root_now.dev_major, min = r->root_now.dev_minor;
    if (!S_ISREG(now->mode)) {
        tile_set(tile, DP_REVIEW_CHANGED, "not a regular file any more");
    } else if (now->dev_major != maj || now->dev_minor != min || now->ino != then->ino ||
               (then->has_btime && now->has_btime &&
                (then->btime_sec != now->btime_sec || then->btime_nsec != now->btime_nsec)) ||
               (then->has_generation && now->has_generation &&
                then->generation != now->generation)) {
        tile_set(tile, DP_REVIEW_CHANGED,
                 "another file: device %llu:%llu inode %llu, plan "
                 "%llu:%llu inode %llu",
                 (unsigned long long)now->dev_major, (unsigned long long)now->dev_minor,
                 (unsigned long long)now->ino, (unsigned long long)maj, (unsigned long long)min,
                 (unsigned long long)then->ino);
    } else if (now->size != then->size) {
        tile_set(tile, DP_REVIEW_CHANGED, "size %llu bytes, plan %llu",
                 (unsigned long long)now->size, (unsigned long long)then->size);
    } else if (now->mtime_sec != then->mtime_sec || now->mtime_nsec != then->mtime_nsec) {
        tile_set(tile, DP_REVIEW_CHANGED, "modified: mtime differs from the plan");
    } else if (now->ctime_sec != then->ctime_sec || now->ctime_nsec != then->ctime_nsec) {
        tile_set(tile, DP_REVIEW_CHANGED, "status changed: ctime differs from the plan");
    } else {
        return true;
    }
    return false;
}

/* Read size bytes from offset 0, and make sure that is the end. */
static bool read_exact(int fd, uint8_t *buf, uint64_t size, int *errnum, bool *longer)
{
    uint64_t got = 0;
    *errnum = 0;
    *longer = false;
    while (got < size) {
        ssize_t n = pread(fd, buf + got, (size_t)(size - got), (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            *errnum = errno;
        if (n <= 0)
            return false;
        got += (uint64_t)n;
    }
    uint8_t extra;
    ssize_t n;
    while ((n = pread(fd, &extra, 1, (off_t)size)) < 0 && errno == EINTR)
        ;
    *longer = n > 0;
    return n == 0;
}

/* An embedded copy's pieces, in the stream's order, into buf (t->embedded_length bytes). */
static bool read_pieces(int fd, const struct dp_plan_target *t, uint8_t *buf, int *errnum)
{
    size_t at = 0;
    *errnum = 0;
    for (size_t k = 0; k < t->embedded_nranges; k++) {
        uint64_t got = 0, off = t->embedded_ranges[k][0], len = t->embedded_ranges[k][1];
        while (got < len) {
            ssize_t n = pread(fd, buf + at + got, (size_t)(len - got), (off_t)(off + got));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                *errnum = errno;
            if (n <= 0)
                return false;
            got += (uint64_t)n;
        }
        at += (size_t)len;
    }
    return true;
}

/* Every digest the plan gives for the target, of the bytes read. */
static enum dp_status digests_match(struct review *r, const struct dp_plan_target *t,
                                    const uint8_t *buf, size_t len, bool *match, const char **which,
                                    struct dp_error *err)
{
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    enum dp_status st = dp_digest_begin(r->digest, t->digest_mask, err);
    if (st != DP_OK)
        return st;
    dp_digest_update(r->digest, buf, len);
    dp_digest_end(r->digest, dg);
    *match = true;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++)
        if ((t->digest_mask & DP_DIGEST_MASK(a)) &&
            memcmp(dg[a], t->digests[a], dp_algo_len((enum dp_algo)a)) != 0) {
            *match = false;
            *which = dp_algo_name((enum dp_algo)a);
        }
    return DP_OK;
}

/* Area-averaged thumbnail, long side at most THUMB_LONG_SIDE (never enlarged). */
static enum dp_status make_thumb(const struct dp_image *img, struct thumb *th, struct dp_error *err)
{
    size_t w = img->w, h = img->h, lw = w > h ? w : h;
    size_t tw = w, tht = h;
    if (lw > THUMB_LONG_SIDE) {
        tw = (w * THUMB_LONG_SIDE + lw / 2) / lw;
        tht = (h * THUMB_LONG_SIDE + lw / 2) / lw;
    }
    tw = tw ? tw : 1;
    tht = tht ? tht : 1;
    int ch = img->channels;
    if (ch != 1 && ch != 3) /* image.h: 1 or 3; sum[] below holds 3 */
        dp_misuse("make_thumb: an image of neither 1 nor 3 channels");
    th->pix = malloc(tw * tht * (size_t)ch);
    if (th->pix == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory making a thumbnail");
    th->w = tw, th->h = tht, th->channels = ch;
    for (size_t y = 0; y < tht; y++) {
        size_t y0 = y * h / tht, y1 = (y + 1) * h / tht;
        y1 = y1 > y0 ? y1 : y0 + 1;
        for (size_t x = 0; x < tw; x++) {
            size_t x0 = x * w / tw, x1 = (x + 1) * w / tw;
            x1 = x1 > x0 ? x1 : x0 + 1;
            uint64_t sum[3] = {0, 0, 0};
            for (size_t sy = y0; sy < y1; sy++) {
                const uint8_t *row = img->pix + sy * img->stride;
                for (size_t sx = x0; sx < x1; sx++)
                    for (int c = 0; c < ch; c++)
                        sum[c] += row[sx * (size_t)ch + (size_t)c];
            }
            uint64_t area = (uint64_t)(y1 - y0) * (x1 - x0);
            for (int c = 0; c < ch; c++)
                th->pix[(y * tw + x) * (size_t)ch + (size_t)c] =
                    (uint8_t)((sum[c] + area / 2) / area);
        }
    }
    return DP_OK;
}

/* Decode the bytes read and make the thumbnail; a picture that cannot be decoded is a tile
 * state, only memory is an error. */
static enum dp_status decode_thumb(struct review *r, const uint8_t *buf, size_t len,
                                   struct dp_review_tile *tile, struct thumb *th,
                                   struct dp_error *err)
{
    struct dp_image img;
    struct dp_image_opts io = {.max_pixels = r->opts->max_pixels, .min_side = DECODE_MIN_SIDE};
    struct dp_error de = {0};
    enum dp_status st = dp_image_decode(buf, len, &io, &img, &de);
    if (st == DP_ERR_NOMEM)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory decoding an image");
    if (st != DP_OK) {
        tile_set(tile, DP_REVIEW_UNDECODABLE, "%s", de.msg);
        return DP_OK;
    }
    st = make_thumb(&img, th, err);
    dp_image_release(&img);
    if (st == DP_OK)
        tile_set(tile, DP_REVIEW_SHOWN, "%s", "");
    return st;
}

/* A descriptor open for reading on the target, proved to be the file the plan names; -1 with
 * the tile set otherwise. now: its identity. */
static int open_checked(struct review *r, const struct dp_plan_target *t,
                        struct dp_review_tile *tile, struct dp_file_id *now)
{
    int fd = -1, pfd = open_path(r, t, tile);
    if (pfd < 0)
        return -1;
    struct dp_file_id pid;
    struct dp_error se = {0};
    if (dp_file_id_stat(pfd, "", &pid, &se) != DP_OK) {
        tile_set(tile, DP_REVIEW_UNREADABLE, "%s", se.msg);
    } else if (S_ISLNK(pid.mode)) {
        tile_set(tile, DP_REVIEW_SYMLINK, "%s", "");
    } else if (same_as_plan(r, t, &pid, tile)) {
        if ((fd = reopen_read(r, pfd, t)) < 0) {
            int en = errno;
            tile_set(tile, en == ENOENT ? DP_REVIEW_MISSING : DP_REVIEW_UNREADABLE,
                     "cannot open: %s", strerror(en));
        } else if (dp_file_id_stat(fd, "", now, &se) != DP_OK) {
            tile_set(tile, DP_REVIEW_UNREADABLE, "%s", se.msg);
        } else if (now->ino != pid.ino || now->dev_major != pid.dev_major ||
                   now->dev_minor != pid.dev_minor) {
            tile_set(tile, DP_REVIEW_CHANGED, "replaced while being opened");
        } else if (same_as_plan(r, t, now, tile)) {
            close(pfd);
            return fd;
        }
    }
    if (fd >= 0)
        close(fd);
    close(pfd);
    return -1;
}

/* A remnant: its bytes read from the device the sweep read (still that device), checked
 * against the plan's digests, decoded. Read-only. */
static enum dp_status examine_remnant(struct review *r, const struct dp_plan_target *t,
                                      struct dp_review_tile *tile, struct thumb *th,
                                      struct dp_error *err)
{
    uint64_t max = r->opts->max_image_bytes ? r->opts->max_image_bytes : DP_MAX_IMAGE_BYTES_DEFAULT;
    int fd = open(t->path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        tile_set(tile, DP_REVIEW_UNREADABLE, "cannot open the device: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return DP_OK;
    }
    bool same_dev = S_ISBLK(sb.st_mode) ? major(sb.st_rdev) == t->id.dev_major &&
                                              minor(sb.st_rdev) == t->id.dev_minor
                                        : S_ISREG(sb.st_mode) && t->id.dev_major == 0;
    enum dp_status st = DP_OK;
    uint8_t *buf = NULL;
    bool same = true;
    const char *which = "";
    ssize_t got;
    if (!same_dev)
        tile_set(tile, DP_REVIEW_CHANGED, "no longer the device the sweep read");
    else if (t->id.size > max)
        tile_set(tile, DP_REVIEW_TOO_LARGE, "%llu bytes, limit %llu",
                 (unsigned long long)t->id.size, (unsigned long long)max);
    else if ((buf = malloc((size_t)t->id.size)) == NULL)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory reading a remnant");
    else if ((got = pread(fd, buf, (size_t)t->id.size, (off_t)t->remnant_offset)) !=
             (ssize_t)t->id.size)
        tile_set(tile, got < 0 ? DP_REVIEW_UNREADABLE : DP_REVIEW_CHANGED, "%s",
                 got < 0 ? strerror(errno) : "the device is shorter than the plan's range");
    else if ((st = digests_match(r, t, buf, (size_t)t->id.size, &same, &which, err)) != DP_OK)
        ; /* out of memory: st says so */
    else if (!same)
        tile_set(tile, DP_REVIEW_CHANGED, "content differs: %s is not the plan's", which);
    else
        st = decode_thumb(r, buf, (size_t)t->id.size, tile, th, err);
    free(buf);
    close(fd);
    return st;
}

/* An archive member (or a copy embedded in one): its content read out of the archive in fd
 * (zip, tar, cpio), then the copy's pieces from it or the whole content, checked against the
 * plan's digests and decoded. Only memory is an error. */
static enum dp_status examine_member(struct review *r, const struct dp_plan_target *t, int fd,
                                     uint64_t max, struct dp_review_tile *tile, struct thumb *th,
                                     struct dp_error *err)
{
    uint8_t *content = NULL, *buf = NULL;
    size_t clen = 0;
    struct dp_error e = {0};
    enum dp_status st = dp_archive_member_read(fd, t->members, t->member_lens, t->member_depth,
                                               &content, &clen, &e);
    if (st != DP_OK) {
        if (st == DP_ERR_NOMEM)
            return *err = e, st;
        tile_set(tile, st == DP_ERR_CHANGED ? DP_REVIEW_CHANGED : DP_REVIEW_UNREADABLE,
                 "the member: %s", e.msg);
        return DP_OK;
    }
    uint64_t want = t->embedded ? t->embedded_length : clen;
    bool same = true, fits = true;
    const char *which = "";
    for (size_t k = 0; t->embedded && k < t->embedded_nranges; k++)
        fits &= t->embedded_ranges[k][0] <= clen &&
                t->embedded_ranges[k][1] <= clen - t->embedded_ranges[k][0];
    if (want > max) {
        tile_set(tile, DP_REVIEW_TOO_LARGE, "%llu bytes, limit %llu", (unsigned long long)want,
                 (unsigned long long)max);
    } else if (!fits) {
        tile_set(tile, DP_REVIEW_CHANGED, "the member is shorter than the plan's embedded range");
    } else if (t->embedded && (buf = malloc(want ? (size_t)want : 1)) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory reading a member");
    } else {
        size_t at = 0; /* the pieces in the stream's order */
        for (size_t k = 0; t->embedded && k < t->embedded_nranges; k++) {
            memcpy(buf + at, content + t->embedded_ranges[k][0], t->embedded_ranges[k][1]);
            at += t->embedded_ranges[k][1];
        }
        const uint8_t *p = t->embedded ? buf : content;
        st = digests_match(r, t, p, (size_t)want, &same, &which, err); /* only memory fails */
        if (st == DP_OK && !same)
            tile_set(tile, DP_REVIEW_CHANGED, "content differs: %s is not the plan's", which);
        else if (st == DP_OK)
            st = decode_thumb(r, p, (size_t)want, tile, th, err);
    }
    free(buf);
    free(content);
    return st;
}

/* Open and check, read, check again (times, size, the plan's digests), decode. Only memory
 * is an error: everything about the file goes into the tile. */
static enum dp_status examine(struct review *r, const struct dp_plan_target *t,
                              struct dp_review_tile *tile, struct thumb *th, struct dp_error *err)
{
    if (t->remnant)
        return examine_remnant(r, t, tile, th, err);
    struct dp_file_id now, after;
    int fd = open_checked(r, t, tile, &now);
    if (fd < 0)
        return DP_OK;
    enum dp_status st = DP_OK;
    uint8_t *buf = NULL;
    if (makedev(now.dev_major, now.dev_minor) == r->out_dev)
        r->res->on_device = true; /* a file on another mount (cross_mounts) with the output */
    uint64_t max = r->opts->max_image_bytes ? r->opts->max_image_bytes : DP_MAX_IMAGE_BYTES_DEFAULT;
    int rerr = 0;
    bool longer = false, same = true;
    const char *which = "";
    /* an embedded copy: its own bytes, from where the plan says they are in the container */
    uint64_t want = t->embedded ? t->embedded_length : now.size;
    if (t->member_depth > 0) {
        st = examine_member(r, t, fd, max, tile, th, err);
    } else if (t->embedded) {
        if (want > max) {
            tile_set(tile, DP_REVIEW_TOO_LARGE, "%llu bytes, limit %llu",
                     (unsigned long long)want, (unsigned long long)max);
        } else if ((buf = malloc(want ? (size_t)want : 1)) == NULL) {
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory reading a file");
        } else if (!read_pieces(fd, t, buf, &rerr)) {
            tile_set(tile, rerr ? DP_REVIEW_UNREADABLE : DP_REVIEW_CHANGED, "%s",
                     rerr ? strerror(rerr) : "shorter than the plan's embedded range");
        } else if (dp_file_id_stat(fd, "", &after, NULL) != DP_OK ||
                   !dp_file_id_same(&now, &after)) {
            tile_set(tile, DP_REVIEW_CHANGED, "modified while being read");
        } else if ((st = digests_match(r, t, buf, (size_t)want, &same, &which, err)) != DP_OK) {
            /* out of memory: st says so */
        } else if (!same) {
            tile_set(tile, DP_REVIEW_CHANGED, "content differs: %s is not the plan's", which);
        } else {
            st = decode_thumb(r, buf, (size_t)want, tile, th, err);
        }
    } else if (now.size > max) {
        tile_set(tile, DP_REVIEW_TOO_LARGE, "%llu bytes, limit %llu", (unsigned long long)now.size,
                 (unsigned long long)max);
    } else if ((buf = malloc(now.size ? (size_t)now.size : 1)) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory reading a file");
    } else if (!read_exact(fd, buf, now.size, &rerr, &longer)) {
        if (rerr != 0)
            tile_set(tile, DP_REVIEW_UNREADABLE, "read failed: %s", strerror(rerr));
        else
            tile_set(tile, DP_REVIEW_CHANGED, "%s than the plan's size while being read",
                     longer ? "longer" : "shorter");
    } else if (dp_file_id_stat(fd, "", &after, NULL) != DP_OK || !dp_file_id_same(&now, &after)) {
        tile_set(tile, DP_REVIEW_CHANGED, "modified while being read");
    } else if ((st = digests_match(r, t, buf, (size_t)now.size, &same, &which, err)) != DP_OK) {
        /* out of memory: st says so */
    } else if (!same) {
        tile_set(tile, DP_REVIEW_CHANGED, "content differs: %s is not the plan's", which);
    } else {
        st = decode_thumb(r, buf, (size_t)now.size, tile, th, err);
    }
    free(buf);
    close(fd);
    return st;
}

/* ---- drawing ------------------------------------------------------------------------- */

static void text_at(struct review *r, HPDF_Font f, float size, float x, float y, const char *s)
{
    if (r->failed || r->page == NULL)
        return;
    HPDF_Page_BeginText(r->page);
    HPDF_Page_SetFontAndSize(r->page, f, size);
    HPDF_Page_TextOut(r->page, x, y, s);
    HPDF_Page_EndText(r->page);
}

/* UTF-8 text in at most max lines of width from (x, y) down; returns the lines drawn. */
static size_t utext_lines(struct review *r, HPDF_Font f, float size, float x, float y, float width,
                          const char *utf8, size_t max)
{
    char *l = pdf_latin1(utf8), *lines[8];
    if (l == NULL) {
        r->oom = true;
        return 0;
    }
    size_t n = pdf_wrap(f, size, width, l, lines, max < 8 ? max : 8, &r->oom);
    for (size_t i = 0; i < n; i++)
        text_at(r, f, size, x, y - (float)i * LEAD, lines[i]);
    pdf_free_lines(lines, n);
    free(l);
    return n;
}

/* "Label value": the label in bold, the value after it in at most max lines (the last cut
 * with "..."). Returns the lines used. */
static size_t label_value(struct review *r, float x, float y, float width, const char *label,
                          HPDF_Font vf, const char *utf8, size_t max)
{
    text_at(r, r->bold, FS_TILE, x, y, label);
    float lw = pdf_text_width(r->bold, FS_TILE, label) + 2;
    size_t n = utext_lines(r, vf, FS_TILE, x + lw, y, width - lw, utf8, max);
    return n ? n : 1;
}

static void new_page(struct review *r, size_t page_no)
{
    if (r->failed || r->oom)
        return;
    r->page = HPDF_AddPage(r->doc);
    if (r->page == NULL) {
        r->failed = true;
        return;
    }
    HPDF_Page_SetSize(r->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    HPDF_Page_SetGrayFill(r->page, 0);
    HPDF_Page_SetGrayStroke(r->page, 0);
    float y = PAGE_H - MARGIN, w = PAGE_W - 2 * MARGIN;
    const char *title = r->opts->all ? "deprive review - all findings"
                                     : "deprive review - perceptual-only candidates";
    text_at(r, r->bold, 12, MARGIN, y - 12, title);
    char b[160];
    snprintf(b, sizeof(b), "Page %zu/%zu", page_no, r->res->pages);
    text_at(r, r->bold, 9, PAGE_W - MARGIN - pdf_text_width(r->bold, 9, b), y - 12, b);
    y -= 24;
    snprintf(b, sizeof(b), "made %s by deprive %s", r->made, DP_VERSION);
    float mw = pdf_text_width(r->reg, FS_TILE, b);
    text_at(r, r->reg, FS_TILE, PAGE_W - MARGIN - mw, y, b);
    label_value(r, MARGIN, y, w - mw - 12, "Plan:", r->reg, r->plan_name, 1);
    y -= 10;
    text_at(r, r->bold, FS_TILE, MARGIN, y, "Plan SHA-256:");
    text_at(r, r->mono, FS_TILE, MARGIN + pdf_text_width(r->bold, FS_TILE, "Plan SHA-256:") + 3, y,
            r->res->plan_sha256);
    y -= 10;
    label_value(r, MARGIN, y, w, "Scan root:", r->reg, r->root_text, 1);
    y -= 11;
    text_at(r, r->bold, 7.5f, MARGIN, y,
            "CASE MATERIAL: this sheet contains images from the case. Handle, store and destroy "
            "it as case material.");
    y -= 6;
    if (r->failed)
        return;
    HPDF_Page_SetLineWidth(r->page, 0.8f);
    HPDF_Page_MoveTo(r->page, MARGIN, y);
    HPDF_Page_LineTo(r->page, PAGE_W - MARGIN, y);
    HPDF_Page_Stroke(r->page);
    utext_lines(r, r->reg, 6.5f, MARGIN, MARGIN - 13, w,
                "Perceptual-only: only a PDQ hash matched, no exact digest confirms the file. "
                "Each thumbnail is the file as read for this sheet, checked against the plan "
                "(inode, size, times, digests). Decide from the image, not from the distance.",
                2);
}

/* The match a tile describes: for a perceptual-only finding the nearest PDQ match, else the
 * first exact one (a digest proves more than any distance). */
struct match_view {
    const json_t *m;
    size_t others;
};

static struct match_view best_match(const json_t *finding, bool perceptual_only)
{
    struct match_view v = {NULL, 0};
    const json_t *matched = json_object_get(finding, "matched"), *m;
    size_t i;
    long long best = -1;
    json_array_foreach(matched, i, m)
    {
        const char *method = json_string_value(json_object_get(m, "method"));
        bool pdq = method != NULL && strcmp(method, "pdq") == 0;
        long long d = json_integer_value(json_object_get(m, "distance"));
        if (perceptual_only && pdq && (best < 0 || d < best)) {
            best = d;
            v.m = m;
        } else if (!perceptual_only && !pdq && v.m == NULL) {
            v.m = m;
        }
    }
    if (v.m == NULL)
        v.m = json_array_get(matched, 0);
    v.others = json_array_size(matched) > 0 ? json_array_size(matched) - 1 : 0;
    return v;
}

/* A bytes element (string or {"base64"}) as escaped text; heap. */
static char *bytes_text(const json_t *el)
{
    json_t *a = json_array();
    if (a == NULL)
        return NULL;
    if (el != NULL)
        json_array_append(a, (json_t *)el);
    char *t = dp_json_location_text(a);
    json_decref(a);
    return t;
}

static void draw_box(struct review *r, float x, float y, float w, float h, float grey_fill,
                     float grey_stroke)
{
    if (r->failed)
        return;
    /* colours are set outside a path: libharu refuses them while one is being built */
    HPDF_Page_SetLineWidth(r->page, 0.5f);
    HPDF_Page_SetGrayStroke(r->page, grey_stroke);
    if (grey_fill >= 0)
        HPDF_Page_SetGrayFill(r->page, grey_fill);
    HPDF_Page_Rectangle(r->page, x, y, w, h);
    if (grey_fill >= 0)
        HPDF_Page_FillStroke(r->page);
    else
        HPDF_Page_Stroke(r->page);
    HPDF_Page_SetGrayFill(r->page, 0);
    HPDF_Page_SetGrayStroke(r->page, 0);
}

static void draw_picture(struct review *r, float x, float top, float w,
                         const struct dp_review_tile *tile, const struct thumb *th)
{
    float y = top - THUMB_BOX_H;
    if (th->pix != NULL) {
        HPDF_Image img = HPDF_LoadRawImageFromMem(
            r->doc, th->pix, (HPDF_UINT)th->w, (HPDF_UINT)th->h,
            th->channels == 3 ? HPDF_CS_DEVICE_RGB : HPDF_CS_DEVICE_GRAY, 8);
        if (img == NULL || r->failed) {
            r->failed = true;
            return;
        }
        float sx = w / (float)th->w, sy = THUMB_BOX_H / (float)th->h;
        float s = sx < sy ? sx : sy, dw = (float)th->w * s, dh = (float)th->h * s;
        HPDF_Page_DrawImage(r->page, img, x + (w - dw) / 2, y + (THUMB_BOX_H - dh) / 2, dw, dh);
        return;
    }
    draw_box(r, x, y, w, THUMB_BOX_H, 0.93f, 0.6f);
    text_at(r, r->bold, 8, x + 5, top - 14, "NO THUMBNAIL");
    size_t n = utext_lines(r, r->bold, FS_TILE, x + 5, top - 26, w - 10,
                           dp_review_state_label(tile->state), 3);
    utext_lines(r, r->reg, FS_TILE, x + 5, top - 26 - (float)n * LEAD, w - 10, tile->detail,
                n < 7 ? 7 - n : 1);
}

static const char *or_q(const char *s)
{
    return s != NULL ? s : "?";
}

/* The facts under the picture, from y down: path, size and match, qualities, entry, label. */
static void draw_facts(struct review *r, float x, float y, float w, const struct dp_plan_target *t,
                       const json_t *quality)
{
    const json_t *f = t->finding;
    char *path = dp_json_location_text(json_object_get(f, "location"));
    y -= LEAD * (float)utext_lines(r, r->reg, FS_TILE, x, y, w, path ? path : "?", 3);
    free(path);
    struct match_view mv = best_match(f, t->perceptual_only);
    const char *method = json_string_value(json_object_get(mv.m, "method"));
    bool pdq = method != NULL && strcmp(method, "pdq") == 0;
    char size[32], b[200], fq[24] = "-", tq[24] = "-";
    pdf_human_size(size, sizeof(size), (long long)(t->embedded ? t->embedded_length : t->id.size));
    if (pdq)
        snprintf(b, sizeof(b), "%s - distance %lld, %.40s", size,
                 json_integer_value(json_object_get(mv.m, "distance")),
                 or_q(json_string_value(json_object_get(mv.m, "variant"))));
    else
        snprintf(b, sizeof(b), "%s - exact %.20s match", size,
                 or_q(json_string_value(json_object_get(mv.m, "algo"))));
    utext_lines(r, r->reg, FS_TILE, x, y, w, b, 1);
    y -= LEAD;
    const json_t *tqj = json_object_get(mv.m, "target_quality");
    if (json_is_integer(quality))
        snprintf(fq, sizeof(fq), "%lld", json_integer_value(quality));
    if (json_is_integer(tqj))
        snprintf(tq, sizeof(tq), "%lld", json_integer_value(tqj));
    if (pdq)
        snprintf(b, sizeof(b), "file %s, list entry %s", fq, tq);
    else
        snprintf(b, sizeof(b), "file %s", fq);
    label_value(r, x, y, w, "PDQ quality:", r->reg, b, 1);
    y -= LEAD;
    char *list = bytes_text(json_object_get(mv.m, "list")), *entry = NULL;
    b[0] = '\0';
    if (mv.others > 0)
        snprintf(b, sizeof(b), " (+%zu more)", mv.others);
    if (asprintf(&entry, "%s:%lld%s", list ? list : "?",
                 json_integer_value(json_object_get(mv.m, "line")), b) < 0)
        entry = NULL;
    free(list);
    if (entry == NULL)
        r->oom = true;
    y -= LEAD * (float)label_value(r, x, y, w, "Entry:", r->reg, entry ? entry : "?", 2);
    free(entry);
    const json_t *lab = json_object_get(mv.m, "label");
    char *label = lab != NULL ? bytes_text(lab) : NULL;
    label_value(r, x, y, w, "Label:", r->reg, label ? label : "-", 1);
    free(label);
}

static void draw_tile(struct review *r, size_t slot, const struct dp_plan_target *t,
                      const struct dp_review_tile *tile, const struct thumb *th)
{
    float x0 = MARGIN + (float)(slot % COLS) * TILE_W;
    /* NOLINTNEXTLINE(bugprone-integer-division): the row number, whole on purpose */
    float top = GRID_TOP - (float)(slot / COLS) * TILE_H;
    float x = x0 + PAD, w = TILE_W - 2 * PAD;
    draw_box(r, x0 + 2, top - TILE_H + 3, TILE_W - 4, TILE_H - 5, -1, 0.7f);
    text_at(r, r->bold, 13, x, top - 16, t->finding_id);
    const json_t *q = json_object_get(json_object_get(t->finding, "pdq"), "quality");
    if (json_is_integer(q) && json_integer_value(q) < DP_PDQ_MIN_QUALITY) {
        const char *mark = "LOW CONFIDENCE";
        float mw = pdf_text_width(r->bold, FS_TILE, mark);
        draw_box(r, x + w - mw - 6, top - 17, mw + 6, 11, -1, 0);
        text_at(r, r->bold, FS_TILE, x + w - mw - 3, top - 14.5f, mark);
    }
    draw_picture(r, x, top - 21, w, tile, th);
    draw_facts(r, x, top - 21 - THUMB_BOX_H - 9, w, t, q);
}

/* ---- the sheet ----------------------------------------------------------------------- */

/* Latin-1 of bytes that may be anything (a path): escaped first (dp_text_escape_append). */
static char *escaped_latin1(const char *s)
{
    char *e = NULL;
    size_t used = 0, cap = 0;
    if (!dp_text_escape_append(&e, &used, &cap, s, strlen(s)))
        return NULL;
    char *l = pdf_latin1(e);
    free(e);
    return l;
}

static enum dp_status start_doc(struct review *r, const char *plan_path, struct dp_error *err)
{
    r->doc = HPDF_New(on_error, r);
    if (r->doc == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "cannot create a PDF document");
    HPDF_SetCompressionMode(r->doc, r->opts->uncompressed ? HPDF_COMP_NONE : HPDF_COMP_ALL);
    r->reg = HPDF_GetFont(r->doc, "Helvetica", "WinAnsiEncoding");
    r->bold = HPDF_GetFont(r->doc, "Helvetica-Bold", "WinAnsiEncoding");
    r->mono = HPDF_GetFont(r->doc, "Courier", "WinAnsiEncoding");
    HPDF_SetInfoAttr(r->doc, HPDF_INFO_TITLE, "deprive review sheet (case material)");
    HPDF_SetInfoAttr(r->doc, HPDF_INFO_CREATOR, "deprive " DP_VERSION);
    const char *base = strrchr(plan_path, '/');
    r->plan_name = escaped_latin1(base && base[1] ? base + 1 : plan_path);
    r->root_text = escaped_latin1(r->plan->root);
    dp_utc_format(r->made, sizeof(r->made), time(NULL));
    if (r->plan_name == NULL || r->root_text == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    return DP_OK;
}

static enum dp_status render_tiles(struct review *r, const size_t *idx, size_t n,
                                   struct dp_error *err)
{
    enum dp_status st = dp_digest_new(&r->digest, err);
    for (size_t k = 0; k < n && st == DP_OK && !r->failed && !r->oom; k++) {
        const struct dp_plan_target *t = &r->plan->targets[idx[k]];
        struct dp_review_tile *tile = &r->res->tiles[k];
        struct thumb th = {0};
        snprintf(tile->finding_id, sizeof(tile->finding_id), "%s", t->finding_id);
        if (k % PER_PAGE == 0)
            new_page(r, k / PER_PAGE + 1);
        st = examine(r, t, tile, &th, err);
        if (st == DP_OK) {
            r->res->thumbnails += th.pix != NULL;
            draw_tile(r, k % PER_PAGE, t, tile, &th);
        }
        free(th.pix);
    }
    if (st == DP_OK && r->oom)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory rendering the sheet");
    else if (st == DP_OK && r->failed)
        st = dp_error_set(err, DP_ERR_INVALID, 0,
                          "cannot render the sheet: libharu error 0x%04X (detail %u)",
                          (unsigned)r->hpdf_err, (unsigned)r->hpdf_detail);
    return st;
}

static enum dp_status finish(struct review *r, struct dp_error *err)
{
    if (r->res->on_device && !r->opts->allow_on_device)
        return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                            "'%s' is on the filesystem of a file shown: the sheet's thumbnails "
                            "would be written onto the seized device",
                            r->out_path);
    unsigned char *buf = NULL;
    size_t len = 0;
    enum dp_status st = pdf_doc_bytes(r->doc, &buf, &len);
    if (st == DP_OK && r->failed)
        st = DP_ERR_INVALID;
    if (st == DP_ERR_NOMEM)
        st = dp_error_set(err, st, 0, "out of memory serialising the sheet");
    else if (st != DP_OK)
        st = dp_error_set(err, st, 0, "cannot serialise the sheet: libharu error 0x%04X",
                          (unsigned)r->hpdf_err);
    else
        st = write_sheet(r, buf, len, err);
    free(buf);
    return st;
}

enum dp_status dp_review_render(const char *plan_path, const struct dp_review_opts *opts,
                                const char *out_path, struct dp_review_result *res,
                                struct dp_error *err)
{
    if (opts->nfindings > 0 && opts->findings == NULL)
        dp_misuse("dp_review_render: nfindings without findings");
    memset(res, 0, sizeof(*res));
    struct dp_plan *plan = NULL;
    struct review r = {.opts = opts, .res = res, .out_path = out_path, .rootfd = -1, .outdir = -1};
    size_t *idx = NULL, n = 0;
    char *dir = NULL;
    enum dp_status st = load_plan(plan_path, &plan, res->plan_sha256, err);
    if (st != DP_OK)
        goto out;
    r.plan = plan;
    if ((st = select_targets(plan, opts, &idx, &n, err)) != DP_OK || n == 0)
        goto out;
    res->tiles = calloc(n, sizeof(*res->tiles));
    if (res->tiles == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    res->candidates = n;
    res->pages = (n + PER_PAGE - 1) / PER_PAGE;
    if ((st = open_root(&r, err)) != DP_OK || (st = open_output(&r, &dir, err)) != DP_OK ||
        (st = start_doc(&r, plan_path, err)) != DP_OK ||
        (st = render_tiles(&r, idx, n, err)) != DP_OK)
        goto out;
    st = finish(&r, err);
out:
    if (r.doc != NULL)
        HPDF_Free(r.doc);
    dp_digest_free(r.digest);
    free(r.plan_name);
    free(r.root_text);
    if (r.rootfd >= 0)
        close(r.rootfd);
    if (r.outdir >= 0)
        close(r.outdir);
    free(dir);
    free(idx);
    dp_plan_free(plan);
    return st;
}
