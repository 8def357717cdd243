/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: removing remnants - copies the sweep of a scan --sweep found in device space no
 * live file holds (a deleted file's old blocks, most often). Nothing is ever written to the
 * device itself: before the fill each remnant is read again from the device and re-checked
 * (the same bytes, still in the lists; a perceptual-only one needs the examiner's decision and
 * is hashed again), the filesystem's free space is filled with a verified keyed stream
 * (wipe_io.c, forced when a remnant is pending), and afterwards each remnant's range is read
 * back from the device, the page cache dropped first: erased when none of its 32-byte windows
 * is still there. Where the range is allocated to a file or holds metadata, no fill reaches it
 * and it is reported not erased. The run's re-scan sweeps the device again. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/digest.h"
#include "deprive/extents.h"
#include "deprive/util.h"

#define WINDOW 32
/* The longest remnant held in memory for its re-check (the carver's default longest stream
 * is 64 MiB). */
#define REMNANT_MAX ((uint64_t)256 << 20)

struct wipe_remnant {
    struct work w;
    struct opened o;
    json_t *slack;        /* --scrub-slack: what was done to the file holding it, or NULL */
    uint8_t *before;      /* its bytes at the re-check (NULL: not held) */
    bool pending;         /* re-checked and waiting for the fill */
    bool began_before;    /* the journal says it was re-checked before an interruption */
    bool scrub;           /* --scrub-slack and it lies in a file's slack */
    enum dp_fsmap_use use; /* what the filesystem used the range for at the re-check */
};

/* The device, opened read-only, if it is still the one the sweep read. */
static int open_device(const struct dp_plan_target *t, char *why, size_t why_len)
{
    int fd = open(t->path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        snprintf(why, why_len, "cannot open the device '%s': %s", t->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    bool same = S_ISBLK(sb.st_mode) ? major(sb.st_rdev) == t->id.dev_major &&
                                          minor(sb.st_rdev) == t->id.dev_minor
                                    : S_ISREG(sb.st_mode) && t->id.dev_major == 0 &&
                                          t->id.dev_minor == 0;
    if (!same) {
        snprintf(why, why_len, "'%s' is no longer the device the sweep read", t->path);
        close(fd);
        return -1;
    }
    return fd;
}

/* The remnant's bytes as the device holds them now (the cached pages dropped first). */
static uint8_t *read_range(int fd, const struct dp_plan_target *t, char *why, size_t why_len)
{
    uint8_t *b = malloc((size_t)t->id.size);
    if (b == NULL) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    /* the kernel drops only whole cached pages inside the range given: widen it to pages */
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), lo = t->remnant_offset / page * page;
    uint64_t hi = (t->remnant_offset + t->id.size + page - 1) / page * page;
    fdatasync(fd);
    posix_fadvise(fd, (off_t)lo, (off_t)(hi - lo), POSIX_FADV_DONTNEED);
    size_t got = 0;
    while (got < t->id.size) {
        ssize_t n = pread(fd, b + got, (size_t)t->id.size - got,
                          (off_t)(t->remnant_offset + got));
        if (n <= 0) {
            snprintf(why, why_len, "cannot read the device at %llu: %s",
                     (unsigned long long)(t->remnant_offset + got),
                     n < 0 ? strerror(errno) : "end of the device");
            free(b);
            return NULL;
        }
        got += (size_t)n;
    }
    return b;
}

/* The remnant's bytes read from its device (checked to be the one swept); NULL with why. */
static uint8_t *device_bytes(const struct dp_plan_target *t, char *why, size_t why_len)
{
    int fd = open_device(t, why, why_len);
    uint8_t *b = fd >= 0 ? read_range(fd, t, why, why_len) : NULL;
    if (fd >= 0)
        close(fd);
    return b;
}

/* Do the bytes still hash to every digest the plan has for them? */
static bool same_digests(struct run *r, const struct dp_plan_target *t, const uint8_t *b)
{
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    if (dp_digest_begin(r->digest, t->digest_mask, NULL) != DP_OK)
        return false;
    dp_digest_update(r->digest, b, (size_t)t->id.size);
    dp_digest_end(r->digest, dg);
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++)
        if ((t->digest_mask & DP_DIGEST_MASK(a)) &&
            memcmp(dg[a], t->digests[a], dp_algo_len((enum dp_algo)a)) != 0)
            return false;
    return true;
}

static void init_work(struct run *r, size_t g, struct wipe_remnant *m)
{
    m->w = (struct work){.r = r, .g = g, .gs = r->resume ? &r->resume->groups[g] : NULL,
                         .gr = &r->groups[g], .fd = -1, .o = &m->o};
    m->o = (struct opened){.fd = -1, .dirfd = -1};
    m->w.t0 = &r->plan->targets[r->groups[g].names[0]];
}

/* SHA-256 of fd's first size bytes. */
static bool content_sha256(struct run *r, int fd, uint64_t size, uint8_t out[32])
{
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    if (dp_digest_begin(r->digest, DP_DIGEST_MASK(DP_ALGO_SHA256), NULL) != DP_OK)
        return false;
    uint8_t buf[65536];
    for (uint64_t off = 0; off < size;) {
        size_t want = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
        ssize_t n = pread(fd, buf, want, (off_t)off);
        if (n <= 0)
            return false;
        dp_digest_update(r->digest, buf, (size_t)n);
        off += (uint64_t)n;
    }
    dp_digest_end(r->digest, dg);
    memcpy(out, dg[DP_ALGO_SHA256], 32);
    return true;
}

/* Put the file back as it was: its size and its mtime (a scrub interrupted after writing past
 * the end leaves it longer). */
static bool put_back(int fd, const struct dp_plan_target *t)
{
    const struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
                                   {.tv_sec = (time_t)t->slack_id.mtime_sec,
                                    .tv_nsec = (long)t->slack_id.mtime_nsec}};
    return ftruncate(fd, (off_t)t->slack_id.size) == 0 && fdatasync(fd) == 0 &&
           futimens(fd, ts) == 0;
}

/* --scrub-slack: the remnant lies past the end of a live file, in the last block(s) it holds.
 * Its content is hashed, a keyed stream written from its end over the remnant's range and
 * flushed, the file cut back to its size (a filesystem zeroes the cut tail), its mtime put
 * back, its content hashed again. Journaled: an interruption is undone by put_back. */
static enum dp_status scrub_slack(struct run *r, struct wipe_remnant *m, struct dp_error *err)
{
    struct work *w = &m->w;
    const struct dp_plan_target *t = w->t0;
    struct dp_error e = {0};
    char why[400];
    int dirfd = -1;
    int fd = wipe_try_open(r, t->slack_path, O_RDWR | O_NONBLOCK, &dirfd, &e);
    if (dirfd >= 0)
        close(dirfd);
    struct stat sb;
    bool resumed = w->gs != NULL && w->gs->overwrite_begun;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (uint64_t)sb.st_ino != t->slack_id.ino ||
        (!resumed && ((uint64_t)sb.st_size != t->slack_id.size ||
                      sb.st_mtim.tv_sec != t->slack_id.mtime_sec ||
                      (uint64_t)sb.st_mtim.tv_nsec != t->slack_id.mtime_nsec))) {
        if (fd >= 0)
            close(fd);
        wipe_set_reason(w, DP_WIPE_SKIPPED, "changed since scan",
                        "the file whose slack holds it is not as scanned");
        return DP_OK;
    }
    if (resumed && !put_back(fd, t)) { /* the interrupted scrub's tail goes first */
        snprintf(why, sizeof(why), "cannot put the file back to its size: %s", strerror(errno));
        close(fd);
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased", why);
        return DP_OK;
    }
    uint64_t end = t->slack_offset + t->id.size, n = end - t->slack_id.size;
    uint8_t before[32], after[32];
    uint8_t *junk = malloc((size_t)n);
    bool ok = junk != NULL && content_sha256(r, fd, t->slack_id.size, before);
    enum dp_status st = DP_OK;
    if (ok && !resumed &&
        (st = wipe_jlog(r, "overwrite-begin",
                        json_pack("{s:I, s:s}", "group", (json_int_t)w->g, "what", "slack"),
                        err)) != DP_OK) {
        free(junk);
        close(fd);
        return st; /* nothing written */
    }
    if (ok) {
        randombytes_buf(junk, (size_t)n);
        ok = pwrite(fd, junk, (size_t)n, (off_t)t->slack_id.size) == (ssize_t)n &&
             fdatasync(fd) == 0;
    }
    int saved = errno;
    bool back = put_back(fd, t); /* always: the file must not stay longer */
    ok = ok && back && content_sha256(r, fd, t->slack_id.size, after);
    bool same = ok && memcmp(before, after, 32) == 0;
    free(junk);
    fstat(fd, &sb);
    close(fd);
    m->slack = json_pack("{s:o, s:I, s:I, s:I, s:b, s:b, s:b}", "path",
                         dp_json_bytes(t->slack_path, t->slack_path_len), "inode",
                         (json_int_t)t->slack_id.ino, "size", (json_int_t)t->slack_id.size,
                         "bytes_written", (json_int_t)n, "content_unchanged", same,
                         "mtime_restored",
                         back && sb.st_mtim.tv_sec == t->slack_id.mtime_sec &&
                             (uint64_t)sb.st_mtim.tv_nsec == t->slack_id.mtime_nsec,
                         "ctime_changed", 1);
    if (!ok) {
        snprintf(why, sizeof(why), "scrubbing the slack of its file failed: %s",
                 back ? strerror(saved) : "the file could not be put back to its size");
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased", why);
    } else if (!same) {
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased",
                        "the content of the file holding it changed during the slack scrub");
    }
    return DP_OK;
}

/* Re-read and re-check the remnant of group g (m initialised); its status set when it goes no
 * further. */
static void recheck(struct run *r, struct wipe_remnant *m)
{
    struct work *w = &m->w;
    const struct dp_plan_target *t = w->t0;
    char why[400];
    if (w->gs != NULL && w->gs->checked != NULL) { /* consent as given before */
        w->consent = json_incref(json_object_get(w->gs->checked, "consent"));
        w->pdq = json_incref(json_object_get(w->gs->checked, "pdq"));
        w->match = json_incref(json_object_get(w->gs->checked, "match"));
        m->began_before = true;
    }
    if (!wipe_decide(w))
        return;
    if (t->id.size > REMNANT_MAX) {
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased", "longer than a remnant deprive holds");
        return;
    }
    uint8_t *b = device_bytes(t, why, sizeof(why));
    if (b == NULL) {
        wipe_set_reason(w, DP_WIPE_FAILED, "cannot read", why);
        return;
    }
    if (!same_digests(r, t, b)) {
        free(b);
        if (m->began_before) /* the fill began before the interruption */
            m->pending = true;
        else
            wipe_set_reason(w, DP_WIPE_SKIPPED, "changed since scan",
                            "the device no longer holds these bytes at this offset");
        return;
    }
    if (!m->began_before) {
        struct dp_error e = {0};
        bool po = t->perceptual_only;
        json_decref(w->pdq);
        json_decref(w->match);
        if (wipe_pdq_check_buf(b, (size_t)t->id.size, r->opts, po, &w->pdq, &w->match, &e) !=
            DP_OK) {
            free(b);
            wipe_set_reason(w, DP_WIPE_FAILED, "cannot read", e.msg);
            return;
        }
        if (po && w->match == NULL) {
            free(b);
            wipe_set_reason(w, DP_WIPE_SKIPPED, "no longer a perceptual match",
                            "its content, hashed again, is not within the radius of any PDQ "
                            "entry of the lists given");
            return;
        }
    }
    m->use = dp_fsmap_range(r->rootfd, t->remnant_offset, t->id.size);
    if (m->scrub && m->use == DP_FSMAP_METADATA)
        m->scrub = false;
    if (m->scrub) {
        /* scrubbed after the checked record (wipe_remnant_check) */
    } else if (t->slack_path != NULL && m->use != DP_FSMAP_FREE) {
        free(b);
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased",
                        "it lies in the slack past the end of a live file, which a free-space "
                        "fill cannot reach (--scrub-slack overwrites it)");
        return;
    } else if (m->use == DP_FSMAP_METADATA || m->use == DP_FSMAP_ALLOCATED ||
               m->use == DP_FSMAP_MIXED) {
        free(b);
        snprintf(why, sizeof(why),
                 "the filesystem uses the range (%s): a free-space fill cannot reach it",
                 dp_fsmap_use_name(m->use));
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased", why);
        return;
    }
    m->before = b;
    m->pending = true;
}

enum dp_status wipe_remnant_check(struct run *r, size_t g, struct dp_error *err)
{
    if (r->remnants == NULL &&
        (r->remnants = calloc(r->ngroups ? r->ngroups : 1, sizeof(struct wipe_remnant *))) ==
            NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    struct wipe_remnant *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    r->remnants[g] = m;
    init_work(r, g, m);
    if (m->w.gs != NULL && m->w.gs->done != NULL)
        return DP_OK; /* its result is in the journal */
    wipe_progress(r, g, DP_PHASE_CHECK, m->w.t0->path);
    m->scrub = m->w.t0->slack_path != NULL && r->opts->scrub_slack;
    recheck(r, m);
    if (m->pending && r->opts->dry_run) {
        m->pending = false;
        m->w.decided = true;
        m->w.status = DP_WIPE_PLANNED;
    }
    if (!m->pending || r->opts->dry_run)
        return DP_OK;
    enum dp_status st = DP_OK;
    if (!m->began_before) {
        char hex[2 * DP_DIGEST_MAX + 1] = "";
        for (int a = DP_ALGO_EXACT_COUNT - 1; a >= 0 && !hex[0]; a--)
            if (m->w.t0->digest_mask & DP_DIGEST_MASK(a))
                dp_hex_encode(hex, m->w.t0->digests[a], dp_algo_len((enum dp_algo)a));
        st = wipe_jlog(r, "checked",
                       json_pack("{s:I, s:O?, s:O?, s:O?, s:b, s:s, s:s}", "group",
                                 (json_int_t)g, "consent", m->w.consent, "pdq", m->w.pdq,
                                 "match", m->w.match, "remnant_present", 1, "digest", hex,
                                 "use", dp_fsmap_use_name(m->use)),
                       err);
    }
    if (st == DP_OK && m->scrub) {
        st = scrub_slack(r, m, err);
        m->pending = !m->w.decided;
    }
    r->remnants_pending += m->pending;
    return st;
}

/* After the fill: read the range back and count the windows still holding the remnant. */
static void verify(struct run *r, struct wipe_remnant *m, const json_t *cleanup)
{
    struct work *w = &m->w;
    const struct dp_plan_target *t = w->t0;
    char why[400];
    uint8_t *after = device_bytes(t, why, sizeof(why));
    if (after == NULL) {
        wipe_set_reason(w, DP_WIPE_FAILED, "cannot read back", why);
        return;
    }
    uint64_t windows = (t->id.size + WINDOW - 1) / WINDOW, left = 0;
    const char *basis = "windows";
    if (m->before != NULL) {
        for (uint64_t k = 0; k < windows; k++) {
            size_t o = (size_t)(k * WINDOW), n = (size_t)t->id.size - o;
            n = n < WINDOW ? n : WINDOW;
            left += memcmp(m->before + o, after + o, n) == 0;
        }
    } else { /* re-checked before an interruption: only the digests are known */
        basis = "digests";
        left = same_digests(r, t, after) ? windows : 0;
    }
    free(after);
    const json_t *fsp = json_object_get(cleanup, "free_space");
    bool filled = json_is_true(json_object_get(fsp, "attempted"));
    w->facts = json_pack(
        "{s:{s:s, s:b, s:b}, s:{s:s, s:s, s:s, s:I, s:I}}", "overwrite", "method",
        "free-space fill", "fill_done", json_is_true(json_object_get(fsp, "done")),
        "fill_verified", json_is_true(json_object_get(fsp, "verified")), "verification",
        "method", "read back from the device after the fill, page cache dropped", "result",
        left == 0 && filled ? "match" : "mismatch", "basis", basis, "windows",
        (json_int_t)windows, "windows_left", (json_int_t)left);
    if (!filled) {
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased", "the free-space fill did not run");
    } else if (left > 0) {
        json_int_t unfilled = json_integer_value(json_object_get(fsp, "unfilled_bytes"));
        const char *rk = json_string_value(json_object_get(json_object_get(fsp, "reserve"), "kind"));
        int k = snprintf(why, sizeof(why),
                         "%llu of its %llu 32-byte windows are still on the device after the fill",
                         (unsigned long long)left, (unsigned long long)windows);
        if (unfilled > 0 && k > 0 && (size_t)k < sizeof(why))
            snprintf(why + k, sizeof(why) - (size_t)k,
                     "; the fill could not allocate %lld bytes of free space%s%s%s", (long long)unfilled,
                     rk ? " (" : "", rk ? rk : "", rk && strcmp(rk, "xfs-reserved-blocks") == 0
                                                     ? ", and XFS's per-group reservations)"
                                                     : rk ? ")" : "");
        wipe_set_reason(w, DP_WIPE_FAILED, "not erased", why);
    } else {
        w->status = DP_WIPE_ERASED;
        m->o.removed = true;
    }
}

static json_t *remnant_json(const struct wipe_remnant *m)
{
    const struct dp_plan_target *t = m->w.t0;
    const json_t *rem = json_object_get(t->finding, "remnant");
    return json_pack("{s:o, s:I, s:I, s:O?, s:s, s:s, s:O?}", "device",
                     dp_json_bytes(t->path, t->path_len), "offset",
                     (json_int_t)t->remnant_offset, "length", (json_int_t)t->id.size,
                     "use_at_scan", json_object_get(rem, "use"), "use_at_wipe",
                     dp_fsmap_use_name(m->use), "removed_by",
                     m->slack != NULL ? "slack scrub" : "free-space fill", "slack_scrub",
                     m->slack);
}

enum dp_status wipe_remnant_finish(struct run *r, json_t *results, const json_t *cleanup,
                                   struct dp_error *err)
{
    enum dp_status st = DP_OK;
    for (size_t g = 0; g < r->ngroups && st == DP_OK; g++) {
        struct wipe_remnant *m = r->remnants ? r->remnants[g] : NULL;
        if (m == NULL)
            continue;
        if (m->w.gs != NULL && m->w.gs->done != NULL) {
            if (json_array_append(results, m->w.gs->done) != 0)
                st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
            continue;
        }
        if (m->pending)
            verify(r, m, cleanup);
        m->w.remnant = remnant_json(m);
        st = wipe_record_work(&m->w, results, err);
    }
    return st;
}

void wipe_remnant_release(struct run *r)
{
    for (size_t g = 0; r->remnants != NULL && g < r->ngroups; g++) {
        struct wipe_remnant *m = r->remnants[g];
        if (m == NULL)
            continue;
        free(m->before);
        json_decref(m->w.facts);
        json_decref(m->w.consent);
        json_decref(m->w.pdq);
        json_decref(m->w.match);
        json_decref(m->w.remnant);
        json_decref(m->slack);
        free(m);
    }
    free(r->remnants);
    r->remnants = NULL;
}
