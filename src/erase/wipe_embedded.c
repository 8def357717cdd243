/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: removing embedded copies - image streams carved from inside another file (a
 * thumbnail cache, a database, a document). By default exactly the stream's bytes are
 * overwritten in place, after the container was proved the file scanned and each range was
 * proved to hold the matched stream still; the digest of every byte outside the ranges, taken
 * before and after, proves the rest of the container unchanged, and its mtime is put back.
 * --embedded=wipe-container erases the whole container file instead; report-only leaves it.
 * SQLite's -wal and -journal files never get a range overwritten: a frame whose checksum
 * breaks makes SQLite drop it and every later frame, lawful data with them. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deprive/digest.h"
#include "deprive/json.h"
#include "deprive/util.h"

/* The longest range re-read into memory for its re-check (the scan carves at most 64 MiB). */
#define RANGE_MAX ((uint64_t)1 << 30)
#define READ_CHUNK (1u << 20)

static const char *const policy_names[] = {"overwrite-range", "wipe-container", "report-only"};

bool dp_embedded_policy_parse(const char *name, enum dp_embedded_policy *out)
{
    for (size_t i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
        if (strcmp(name, policy_names[i]) == 0) {
            *out = (enum dp_embedded_policy)i;
            return true;
        }
    return false;
}

const char *dp_embedded_policy_name(enum dp_embedded_policy p)
{
    if ((unsigned)p >= sizeof(policy_names) / sizeof(policy_names[0]))
        dp_misuse("dp_embedded_policy_name: bad policy");
    return policy_names[p];
}

#define RESIDUAL_RISK                                                                          \
    "the application that keeps this container may make the copy again from another copy it " \
    "holds or can reach"

/* One embedded copy on its way. */
struct copy {
    size_t g;
    struct work w;
    bool removing;
};

/* The embedded groups of the same file as group g, not yet done (g first). */
static size_t siblings(struct run *r, size_t g, size_t *out)
{
    const struct dp_plan_target *t = &r->plan->targets[r->groups[g].names[0]];
    size_t n = 0;
    out[n++] = g;
    for (size_t h = 0; h < r->ngroups; h++) {
        const struct dp_plan_target *u = &r->plan->targets[r->groups[h].names[0]];
        if (h == g || r->archive_done[h] || !u->embedded || u->member_depth > 0 ||
            u->id.ino != t->id.ino ||
            u->id.dev_major != t->id.dev_major || u->id.dev_minor != t->id.dev_minor ||
            strcmp(u->path, t->path) != 0)
            continue;
        const struct group_state *gs = r->resume ? &r->resume->groups[h] : NULL;
        if (gs != NULL && gs->done != NULL)
            continue;
        out[n++] = h;
    }
    return n;
}

static void fail_removing(struct copy *cs, size_t n, enum dp_wipe_status s, const char *what,
                          const char *msg)
{
    for (size_t i = 0; i < n; i++)
        if (cs[i].removing && !cs[i].w.decided)
            wipe_set_reason(&cs[i].w, s, what, msg ? msg : "unknown");
}

static enum dp_status pread_all(int fd, uint8_t *b, size_t n, uint64_t off, struct dp_error *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return dp_error_set(err, DP_ERR_IO, errno, "read failed");
        if (r == 0)
            return dp_error_set(err, DP_ERR_CHANGED, 0, "the container is shorter than the range");
        got += (size_t)r;
    }
    return DP_OK;
}

/* The range still holds the stream the plan names: read it (*buf, heap) and compare every
 * digest the plan has. DP_ERR_CHANGED when it does not. */
static enum dp_status check_range(struct run *r, int fd, const struct dp_plan_target *t,
                                  uint8_t **buf, struct dp_error *err)
{
    *buf = NULL;
    if (t->embedded_length > RANGE_MAX)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "the range is longer than %llu bytes",
                            (unsigned long long)RANGE_MAX);
    uint8_t *b = malloc(t->embedded_length ? (size_t)t->embedded_length : 1);
    if (b == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    enum dp_status st = DP_OK;
    size_t at = 0; /* the pieces in the stream's order */
    for (size_t k = 0; st == DP_OK && k < t->embedded_nranges; k++) {
        st = pread_all(fd, b + at, (size_t)t->embedded_ranges[k][1], t->embedded_ranges[k][0],
                       err);
        at += (size_t)t->embedded_ranges[k][1];
    }
    if (st == DP_OK)
        st = dp_digest_begin(r->digest, t->digest_mask, err);
    if (st != DP_OK) {
        free(b);
        return st;
    }
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    dp_digest_update(r->digest, b, (size_t)t->embedded_length);
    dp_digest_end(r->digest, dg);
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++)
        if ((t->digest_mask & DP_DIGEST_MASK(a)) &&
            memcmp(dg[a], t->digests[a], dp_algo_len((enum dp_algo)a)) != 0) {
            free(b);
            return dp_error_set(err, DP_ERR_CHANGED, 0,
                                "the range no longer holds the stream scanned (%s differs)",
                                dp_algo_name((enum dp_algo)a));
        }
    *buf = b;
    return DP_OK;
}

/* SHA-256 of the container's bytes [0, size) outside the ranges (sorted by offset). */
static enum dp_status outside_sha256(struct run *r, int fd, uint64_t size,
                                     const uint64_t (*rg)[2], size_t n, char hex[65],
                                     struct dp_error *err)
{
    uint8_t *b = malloc(READ_CHUNK);
    enum dp_status st = b == NULL ? dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory")
                                  : dp_digest_begin(r->digest, DP_DIGEST_MASK(DP_ALGO_SHA256),
                                                    err);
    uint64_t off = 0;
    size_t k = 0;
    while (st == DP_OK && off < size) {
        while (k < n && rg[k][0] + rg[k][1] <= off)
            k++;
        if (k < n && rg[k][0] <= off) { /* inside a range: skip to its end */
            off = rg[k][0] + rg[k][1];
            continue;
        }
        uint64_t end = k < n && rg[k][0] < size ? rg[k][0] : size;
        size_t len = end - off < READ_CHUNK ? (size_t)(end - off) : READ_CHUNK;
        st = pread_all(fd, b, len, off, err);
        if (st == DP_OK)
            dp_digest_update(r->digest, b, len);
        off += len;
    }
    if (st == DP_OK) {
        uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
        dp_digest_end(r->digest, dg);
        dp_hex_encode(hex, dg[DP_ALGO_SHA256], 32);
    }
    free(b);
    return st;
}

/* A SQLite write-ahead log or rollback journal, by name or by its header h[0..n). */
static bool sqlite_sidecar(const char *name, const uint8_t *h, size_t n)
{
    size_t l = strlen(name);
    if ((l > 4 && strcmp(name + l - 4, "-wal") == 0) ||
        (l > 8 && strcmp(name + l - 8, "-journal") == 0))
        return true;
    static const uint8_t journal[8] = {0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7};
    bool wal = n >= 4 && h[0] == 0x37 && h[1] == 0x7f && h[2] == 0x06 &&
               (h[3] == 0x82 || h[3] == 0x83);
    return wal || (n >= 8 && memcmp(h, journal, 8) == 0);
}

/* A SQLite database stores a record longer than its page's share across overflow pages, each
 * starting with the next page's number: a stream carved across a page boundary holds those
 * numbers (and whatever lies between the pages), so overwriting it would break the database.
 * Such a range is left (its certificate says why). The page size of the database whose header
 * is h[0..n), or 0 when it is not one. */
static uint32_t sqlite_page_size(const uint8_t *h, size_t n)
{
    if (n < 18 || memcmp(h, "SQLite format 3", 16) != 0)
        return 0;
    uint32_t ps = (uint32_t)h[16] << 8 | h[17];
    return ps == 1 ? 65536 : ps;
}

static bool crosses_page(const struct dp_plan_target *t, uint32_t ps)
{
    for (size_t k = 0; ps >= 512 && k < t->embedded_nranges; k++)
        if (t->embedded_ranges[k][0] / ps !=
            (t->embedded_ranges[k][0] + t->embedded_ranges[k][1] - 1) / ps)
            return true;
    return false;
}

const char *wipe_sqlite_rule(const char *name, const uint8_t *head, size_t n,
                             const struct dp_plan_target *t)
{
    if (sqlite_sidecar(name, head, n))
        return "the container is a SQLite write-ahead log or rollback journal: overwriting a "
               "range breaks a frame's checksum and SQLite then drops it and every later frame, "
               "lawful data with them; only --embedded=wipe-container removes it";
    if (t != NULL && crosses_page(t, sqlite_page_size(head, n)))
        return "the range crosses a page boundary of a SQLite database: a record stored across "
               "pages holds the database's page links there, which an overwrite would break; "
               "only --embedded=wipe-container removes it";
    return NULL;
}

json_t *wipe_range_facts(const struct dp_plan_target *t, const char *method,
                         const json_t *outside)
{
    const json_t *emb = json_object_get(t->finding, "embedded");
    json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:s}", "kind",
                          json_string_value(json_object_get(emb, "kind"))
                              ? json_string_value(json_object_get(emb, "kind"))
                              : "unknown",
                          "offset", (json_int_t)t->embedded_offset, "length",
                          (json_int_t)t->embedded_length, "method", method, "residual_risk",
                          RESIDUAL_RISK);
    if (o != NULL && t->embedded_nranges > 1) { /* a stream in pieces: where each was */
        json_t *r = dp_json_ranges((const uint64_t(*)[2])t->embedded_ranges, t->embedded_nranges);
        json_object_set(o, "ranges", json_object_get(r, "ranges"));
        json_decref(r);
    }
    if (o != NULL && outside != NULL)
        json_object_update(o, (json_t *)outside);
    return o;
}

/* The ranges (every piece) of the copies being removed, sorted (*out heap). */
static size_t removing_ranges(const struct copy *cs, size_t n, uint64_t (**out)[2])
{
    size_t total = 0, k = 0;
    for (size_t i = 0; i < n; i++)
        total += cs[i].w.t0->embedded_nranges;
    uint64_t(*rg)[2] = calloc(total ? total : 1, sizeof(*rg));
    for (size_t i = 0; rg != NULL && i < n; i++)
        for (size_t j = 0; cs[i].removing && !cs[i].w.decided && j < cs[i].w.t0->embedded_nranges;
             j++) {
            rg[k][0] = cs[i].w.t0->embedded_ranges[j][0];
            rg[k++][1] = cs[i].w.t0->embedded_ranges[j][1];
        }
    if (rg != NULL)
        qsort(rg, k, sizeof(*rg), dp_range_cmp);
    *out = rg;
    return rg == NULL ? SIZE_MAX : k;
}

/* Re-check every copy to be removed against the device: the stream still there, and for a
 * perceptual-only one still within the radius. */
static enum dp_status recheck(struct run *r, struct copy *cs, size_t n, int fd,
                              struct dp_error *err)
{
    for (size_t i = 0; i < n; i++) {
        struct work *w = &cs[i].w;
        if (!cs[i].removing || w->decided)
            continue;
        uint8_t *buf = NULL;
        struct dp_error e = {0};
        enum dp_status cs_ = check_range(r, fd, w->t0, &buf, &e);
        if (cs_ == DP_ERR_NOMEM)
            return *err = e, cs_;
        if (cs_ != DP_OK) {
            wipe_set_reason(w, cs_ == DP_ERR_CHANGED ? DP_WIPE_SKIPPED : DP_WIPE_FAILED,
                            cs_ == DP_ERR_CHANGED ? "changed since scan" : "cannot read", e.msg);
            continue;
        }
        bool po = w->t0->perceptual_only;
        enum dp_status ps = wipe_pdq_check_buf(buf, (size_t)w->t0->embedded_length, r->opts, po,
                                               &w->pdq, &w->match, &e);
        free(buf);
        if (ps == DP_ERR_NOMEM)
            return *err = e, ps;
        if (ps != DP_OK)
            wipe_set_reason(w, DP_WIPE_FAILED, "cannot read", e.msg);
        else if (po && w->match == NULL)
            wipe_set_reason(w, DP_WIPE_SKIPPED, "no longer a perceptual match",
                            "its content, hashed again, is not within the radius of any PDQ "
                            "entry of the lists given");
    }
    return DP_OK;
}

/* The embedded-begin record: how and who is being removed, where, and the digest outside
 * (NULL for wipe-container). */
static json_t *begin_record(size_t g, const char *method, const struct copy *cs, size_t n,
                            uint64_t (*rg)[2], size_t nr, const char *outside,
                            const struct stat *sb)
{
    json_t *groups = json_array(), *ranges = json_array(), *targets = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!cs[i].removing || cs[i].w.decided)
            continue;
        json_array_append_new(groups, json_integer((json_int_t)cs[i].g));
        json_array_append_new(targets,
                              json_pack("{s:I, s:O?, s:O?, s:O?}", "group", (json_int_t)cs[i].g,
                                        "consent", cs[i].w.consent, "pdq", cs[i].w.pdq, "match",
                                        cs[i].w.match));
    }
    for (size_t i = 0; i < nr; i++)
        json_array_append_new(ranges, json_pack("[I, I]", (json_int_t)rg[i][0],
                                                (json_int_t)rg[i][1]));
    return json_pack("{s:I, s:s, s:o, s:o, s:o, s:s?, s:I, s:I, s:I}", "group", (json_int_t)g,
                     "method", method, "groups", groups, "ranges", ranges, "targets", targets,
                     "outside_sha256", outside, "size", (json_int_t)sb->st_size, "mtime_sec",
                     (json_int_t)sb->st_mtim.tv_sec, "mtime_nsec",
                     (json_int_t)sb->st_mtim.tv_nsec);
}

/* An interrupted range overwrite: who was being removed, with what consent, where. */
static size_t resume_begin(const json_t *rec, struct copy *cs, size_t n, uint64_t (**out)[2])
{
    const json_t *targets = json_object_get(rec, "targets"), *ranges = json_object_get(rec, "ranges");
    for (size_t i = 0; i < n; i++) {
        size_t j;
        const json_t *v;
        cs[i].removing = false;
        json_array_foreach(targets, j, v) {
            if ((size_t)json_integer_value(json_object_get(v, "group")) != cs[i].g)
                continue;
            cs[i].removing = true;
            cs[i].w.consent = json_incref(json_object_get(v, "consent"));
            cs[i].w.pdq = json_incref(json_object_get(v, "pdq"));
            cs[i].w.match = json_incref(json_object_get(v, "match"));
        }
        if (!cs[i].removing && wipe_decide(&cs[i].w)) /* decided afresh: never begun */
            wipe_set_reason(&cs[i].w, DP_WIPE_SKIPPED, "not erased",
                            "another embedded copy's erasure of this file was interrupted; "
                            "wipe again to remove this one");
    }
    size_t nr = json_array_size(ranges);
    uint64_t(*rg)[2] = calloc(nr ? nr : 1, sizeof(*rg));
    for (size_t i = 0; rg != NULL && i < nr; i++) {
        rg[i][0] = (uint64_t)json_integer_value(json_array_get(json_array_get(ranges, i), 0));
        rg[i][1] = (uint64_t)json_integer_value(json_array_get(json_array_get(ranges, i), 1));
    }
    *out = rg;
    return rg == NULL ? SIZE_MAX : nr;
}

/* After the overwrite: the bytes outside the ranges unchanged, the mtime put back. *outside
 * gets the facts; false when the outside changed. */
static bool prove_outside(struct run *r, int fd, const json_t *begin, uint64_t (*rg)[2],
                          size_t nr, json_t **outside)
{
    const char *before = json_string_value(json_object_get(begin, "outside_sha256"));
    struct stat sb;
    char after[65] = "";
    struct dp_error e = {0};
    uint64_t size = (uint64_t)json_integer_value(json_object_get(begin, "size"));
    bool same_size = fstat(fd, &sb) == 0 && (uint64_t)sb.st_size == size;
    bool read_ok = outside_sha256(r, fd, size, (const uint64_t(*)[2])rg, nr, after, &e) == DP_OK;
    bool same = same_size && read_ok && before != NULL && strcmp(before, after) == 0;
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT},
                             {.tv_sec = (time_t)json_integer_value(
                                  json_object_get(begin, "mtime_sec")),
                              .tv_nsec = (long)json_integer_value(
                                  json_object_get(begin, "mtime_nsec"))}};
    bool mtime = futimens(fd, ts) == 0 && fsync(fd) == 0;
    *outside = json_pack("{s:s, s:s, s:b, s:b, s:b}", "outside_sha256_before",
                         before ? before : "", "outside_sha256_after", after, "outside_unchanged",
                         same, "mtime_restored", mtime, "ctime_changed", 1);
    if (!read_ok)
        json_object_set_new(*outside, "outside_error", json_string(e.msg));
    return same;
}

/* Everything decided: the results (and target-done records). */
static enum dp_status record_all(struct run *r, struct copy *cs, size_t n, json_t *results,
                                 const json_t *facts, const char *method, const json_t *outside,
                                 struct dp_error *err)
{
    enum dp_status st = DP_OK;
    for (size_t i = 0; i < n && st == DP_OK; i++) {
        struct work *w = &cs[i].w;
        json_t *emb = NULL;
        if (!w->decided && cs[i].removing) {
            w->decided = true;
            w->status = DP_WIPE_ERASED;
            json_decref(w->facts);
            w->facts = json_incref((json_t *)facts);
        }
        emb = wipe_range_facts(w->t0, cs[i].removing ? method : "none",
                          cs[i].removing ? outside : NULL);
        w->embedded = emb;
        st = wipe_record_work(w, results, err);
        w->embedded = NULL;
        json_decref(emb);
        r->archive_done[cs[i].g] = true;
    }
    return st;
}

/* The whole container erased like a file target (its names scrubbed and unlinked). */
static enum dp_status wipe_container(struct run *r, struct copy *cs, size_t n, struct opened *o,
                                     json_t **facts, struct dp_error *err)
{
    enum dp_status st = wipe_overwrite_group(r, cs[0].g, o->fd, facts, err);
    if (st != DP_OK)
        return st;
    if (!json_is_true(json_object_get(*facts, "ok"))) {
        fail_removing(cs, n, DP_WIPE_FAILED, "overwrite failed",
                      json_string_value(json_object_get(*facts, "error")));
        return DP_OK;
    }
    struct work *w = &cs[0].w;
    w->fd = o->fd;
    w->facts = json_incref(*facts);
    if ((st = wipe_scrub_work(w, err)) != DP_OK)
        return st;
    /* record_all decides every copy alike */
    char why[sizeof(w->reason)];
    snprintf(why, sizeof(why), "%s", w->reason);
    bool failed = w->decided && w->status == DP_WIPE_FAILED;
    w->decided = false;
    w->reason[0] = '\0';
    if (failed)
        fail_removing(cs, n, DP_WIPE_FAILED, "not erased", why);
    else if (!o->removed)
        fail_removing(cs, n, DP_WIPE_FAILED, "a name could not be removed",
                      o->error[0] ? o->error : "the container's name is still there");
    return DP_OK;
}

/* Resuming: the done result of an earlier copy whose embedded-begin record names group g too
 * (they were removed together before the interruption; *lead its group), else NULL. */
static const json_t *leader_done(const struct run *r, size_t g, size_t *lead)
{
    for (size_t k = 0; r->resume != NULL && k < r->ngroups; k++) {
        const struct group_state *ks = &r->resume->groups[k];
        if (k == g || ks->embedded_begin == NULL || ks->done == NULL)
            continue;
        size_t j;
        const json_t *v;
        json_array_foreach(json_object_get(ks->embedded_begin, "groups"), j, v) {
            if (json_is_integer(v) && (size_t)json_integer_value(v) == g) {
                *lead = k;
                return ks->done;
            }
        }
    }
    return NULL;
}

enum dp_status wipe_embedded_group(struct run *r, size_t g, json_t *results, struct dp_error *err)
{
    size_t n = 0, nr = 0;
    size_t *sib = calloc(r->ngroups, sizeof(*sib));
    struct opened o = {.fd = -1, .dirfd = -1};
    struct copy *cs = NULL;
    uint64_t(*rg)[2] = NULL;
    json_t *facts = NULL, *outside = NULL, *begin = NULL;
    const char *method = dp_embedded_policy_name(r->opts->embedded_policy);
    enum dp_status st = DP_OK;
    const struct group_state *gs = r->resume ? &r->resume->groups[g] : NULL;
    if (sib == NULL || (n = siblings(r, g, sib), (cs = calloc(n, sizeof(*cs))) == NULL)) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        cs[i].g = sib[i];
        cs[i].w = (struct work){.r = r, .g = sib[i],
                                .gs = r->resume ? &r->resume->groups[sib[i]] : NULL,
                                .gr = &r->groups[sib[i]], .fd = -1, .o = &o};
        cs[i].w.t0 = &r->plan->targets[r->groups[sib[i]].names[0]];
    }
    const struct dp_plan_target *t0 = cs[0].w.t0;
    wipe_progress(r, g, DP_PHASE_CHECK, t0->path);
    const json_t *whole = wipe_file_erased(t0, results);
    if (whole != NULL) { /* gone with the container, which matched as a whole */
        facts = json_deep_copy(whole);
        method = "with-container";
        o.removed = true; /* its name went with it */
        for (size_t i = 0; i < n; i++)
            cs[i].removing = true;
        goto record;
    }
    size_t lead = 0;
    const json_t *ldone = leader_done(r, g, &lead);
    if (ldone != NULL) { /* removed with an earlier copy before an interruption */
        begin = json_incref(r->resume->groups[lead].embedded_begin);
        if (resume_begin(begin, cs, n, &rg) == SIZE_MAX) { /* the ranges are not needed */
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
            goto out;
        }
        const json_t *le = json_object_get(ldone, "embedded");
        const char *lst = json_string_value(json_object_get(ldone, "status"));
        method = json_string_value(json_object_get(le, "method"))
                     ? json_string_value(json_object_get(le, "method"))
                     : dp_embedded_policy_name(DP_EMBEDDED_OVERWRITE_RANGE);
        if (lst == NULL || strcmp(lst, dp_wipe_status_name(DP_WIPE_ERASED)) != 0) {
            fail_removing(cs, n, DP_WIPE_FAILED, "not erased",
                          json_string_value(json_object_get(ldone, "reason")));
            goto record;
        }
        facts = json_deep_copy(ldone);
        outside = json_object();
        static const char *const keep[] = {"outside_sha256_before", "outside_sha256_after",
                                           "outside_unchanged", "mtime_restored",
                                           "ctime_changed"};
        for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
            if (json_object_get(le, keep[k]) != NULL)
                json_object_set(outside, keep[k], json_object_get(le, keep[k]));
        o.removed = strcmp(method, dp_embedded_policy_name(DP_EMBEDDED_WIPE_CONTAINER)) == 0;
        goto record;
    }
    bool resumed = gs != NULL && gs->embedded_begin != NULL && gs->overwrite_begun;
    if (resumed) {
        begin = json_incref(gs->embedded_begin);
        const char *bm = json_string_value(json_object_get(begin, "method"));
        method = bm ? bm : dp_embedded_policy_name(DP_EMBEDDED_OVERWRITE_RANGE);
        if ((nr = resume_begin(begin, cs, n, &rg)) == SIZE_MAX) {
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
            goto out;
        }
        if (strcmp(method, dp_embedded_policy_name(DP_EMBEDDED_WIPE_CONTAINER)) == 0) {
            struct dp_error e = {0};
            size_t k = cs[0].w.gr->names[0];
            enum dp_status os = wipe_open_name(r, k, true, &o, &e);
            if ((os != DP_OK || o.fd < 0) && r->resume->names[k].unlinked &&
                gs->overwrite_done) { /* overwritten and unlinked before the interruption */
                facts = json_incref(gs->overwrite_facts);
                o.removed = true;
            } else if (os != DP_OK || o.fd < 0) {
                fail_removing(cs, n, DP_WIPE_FAILED, "cannot open",
                              os == DP_OK ? "no longer present" : e.msg);
            } else if ((st = wipe_container(r, cs, n, &o, &facts, err)) != DP_OK) {
                goto out;
            }
            goto record;
        }
    } else {
        bool whole_begun = gs != NULL && gs->overwrite_begun; /* wipe-container interrupted */
        size_t removing = 0;
        for (size_t i = 0; i < n; i++) {
            cs[i].removing = wipe_decide(&cs[i].w);
            removing += cs[i].removing;
        }
        if (removing == 0)
            goto record;
        struct dp_error e = {0};
        enum dp_status os = wipe_open_name(r, cs[0].w.gr->names[0], whole_begun, &o, &e);
        if (os != DP_OK || o.fd < 0) {
            const char *what;
            enum dp_wipe_status ws = wipe_open_failure(os, &what);
            fail_removing(cs, n, ws, what, os == DP_OK ? "no longer present" : e.msg);
            goto record;
        }
        enum dp_embedded_policy pol = whole_begun ? DP_EMBEDDED_WIPE_CONTAINER
                                                  : r->opts->embedded_policy;
        method = dp_embedded_policy_name(pol);
        if (pol == DP_EMBEDDED_REPORT_ONLY) {
            fail_removing(cs, n, DP_WIPE_SKIPPED, "embedded copy left",
                          "--embedded=report-only: the container was not changed");
            goto record;
        }
        uint8_t head[18];
        ssize_t hn = pread(o.fd, head, sizeof(head), 0);
        const char *left = pol == DP_EMBEDDED_OVERWRITE_RANGE
                               ? wipe_sqlite_rule(t0->path, head, hn > 0 ? (size_t)hn : 0, NULL)
                               : NULL;
        if (left != NULL) {
            method = dp_embedded_policy_name(DP_EMBEDDED_REPORT_ONLY);
            fail_removing(cs, n, DP_WIPE_SKIPPED, "embedded copy left", left);
            goto record;
        }
        for (size_t i = 0; pol == DP_EMBEDDED_OVERWRITE_RANGE && i < n; i++)
            if (cs[i].removing && !cs[i].w.decided &&
                (left = wipe_sqlite_rule(t0->path, head, hn > 0 ? (size_t)hn : 0,
                                         cs[i].w.t0)) != NULL)
                wipe_set_reason(&cs[i].w, DP_WIPE_SKIPPED, "embedded copy left", left);
        if (r->opts->dry_run) {
            for (size_t i = 0; i < n; i++)
                if (cs[i].removing && !cs[i].w.decided)
                    cs[i].w.decided = true, cs[i].w.status = DP_WIPE_PLANNED;
            goto record;
        }
        if (!whole_begun && (st = recheck(r, cs, n, o.fd, err)) != DP_OK)
            goto out;
        if ((nr = removing_ranges(cs, n, &rg)) == SIZE_MAX) {
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
            goto out;
        }
        if (nr == 0 && !whole_begun)
            goto record;
        wipe_progress(r, g, DP_PHASE_OVERWRITE, t0->path);
        struct stat sb;
        if (pol == DP_EMBEDDED_WIPE_CONTAINER) {
            /* journaled first, so that a resumed wipe knows every copy went with it */
            if (!whole_begun && fstat(o.fd, &sb) == 0 &&
                (st = wipe_jlog(r, "embedded-begin",
                                begin_record(g, method, cs, n, NULL, 0, NULL, &sb), err)) !=
                    DP_OK)
                goto out;
            if ((st = wipe_container(r, cs, n, &o, &facts, err)) != DP_OK)
                goto out;
            goto record;
        }
        char hex[65];
        if (fstat(o.fd, &sb) != 0 ||
            outside_sha256(r, o.fd, (uint64_t)sb.st_size, (const uint64_t(*)[2])rg, nr, hex,
                           &e) != DP_OK) {
            fail_removing(cs, n, DP_WIPE_FAILED, "cannot read", e.msg[0] ? e.msg : "fstat failed");
            goto record;
        }
        begin = begin_record(g, method, cs, n, rg, nr, hex, &sb);
        if ((st = wipe_jlog(r, "embedded-begin", json_incref(begin), err)) != DP_OK)
            goto out;
    }
    if (o.fd < 0) { /* resumed: the container as scanned, by identity only */
        struct dp_error e = {0};
        enum dp_status os = wipe_open_name(r, cs[0].w.gr->names[0], true, &o, &e);
        if (os != DP_OK || o.fd < 0) {
            fail_removing(cs, n, DP_WIPE_FAILED, "cannot open",
                          os == DP_OK ? "no longer present" : e.msg);
            goto record;
        }
    }
    if (gs != NULL && gs->overwrite_done && resumed)
        facts = json_incref(gs->overwrite_facts);
    else if ((st = wipe_overwrite_group_ranges(r, g, o.fd, (const uint64_t(*)[2])rg, nr, &facts,
                                               err)) != DP_OK)
        goto out;
    if (!json_is_true(json_object_get(facts, "ok"))) {
        fail_removing(cs, n, DP_WIPE_FAILED, "overwrite failed",
                      json_string_value(json_object_get(facts, "error")));
        goto record;
    }
    if (!prove_outside(r, o.fd, begin, rg, nr, &outside))
        fail_removing(cs, n, DP_WIPE_FAILED, "the container changed outside the ranges",
                      json_string_value(json_object_get(outside, "outside_error"))
                          ? json_string_value(json_object_get(outside, "outside_error"))
                          : "the digest of its bytes outside the overwritten ranges differs "
                            "from before the overwrite");
record:
    st = record_all(r, cs, n, results, facts, method, outside, err);
out:
    for (size_t i = 0; cs != NULL && i < n; i++) {
        json_decref(cs[i].w.facts);
        json_decref(cs[i].w.consent);
        json_decref(cs[i].w.pdq);
        json_decref(cs[i].w.match);
    }
    wipe_close_opened(&o, 1);
    json_decref(facts);
    json_decref(outside);
    json_decref(begin);
    free(rg);
    free(cs);
    free(sib);
    return st;
}
