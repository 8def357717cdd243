/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: removing archive members - the archive written again without them beside the old
 * one, read back and checked, the old one overwritten and verified like any target, then the
 * new one renamed into its place; journaled so that a crash loses no kept member. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "deprive/confirm.h"
#include "deprive/archive.h"
#include "deprive/digest.h"
#include "deprive/util.h"

bool dp_archive_policy_parse(const char *name, enum dp_archive_policy *out)
{
    if (strcmp(name, "leave") == 0)
        *out = DP_ARCHIVE_POLICY_LEAVE;
    else if (strcmp(name, "wipe-whole") == 0)
        *out = DP_ARCHIVE_POLICY_WIPE_WHOLE;
    else
        return false;
    return true;
}

/* How an archive is dealt with: rewritten; erased whole (a single compressed file, whose
 * content is the match; or by --archive-policy=wipe-whole); or left. */
enum how { HOW_REWRITE, HOW_WHOLE_SINGLE, HOW_WHOLE_POLICY, HOW_LEAVE, HOW_ASK };

static enum how how_for(const struct run *r, enum dp_archive_kind kind, const char *compression,
                        bool encrypted, bool hidden)
{
    if (kind == DP_ARCHIVE_COMPRESSED)
        return HOW_WHOLE_SINGLE;
    if (dp_archive_writable(kind, compression) && !encrypted && !hidden)
        return HOW_REWRITE;
    switch (r->opts->archive_policy) {
    case DP_ARCHIVE_POLICY_LEAVE: return HOW_LEAVE;
    case DP_ARCHIVE_POLICY_WIPE_WHOLE: return HOW_WHOLE_POLICY;
    case DP_ARCHIVE_POLICY_ASK: break;
    }
    return HOW_ASK;
}

/* What the archive in fd is (dp_archive_probe), and for a zip whether it hides entries from
 * its central directory (dp_archive_zip_check: then it cannot be rewritten faithfully; why
 * into hidden[0..len), else ""). False when it does not read as an archive. */
static bool probe(int fd, enum dp_archive_kind *kind, const char **comp, bool *enc,
                  char *hidden, size_t len)
{
    struct dp_error e = {0};
    hidden[0] = '\0';
    if (dp_archive_probe(fd, kind, comp, enc, &e) != DP_OK)
        return false;
    if (*kind == DP_ARCHIVE_ZIP && dp_archive_zip_check(fd, &e) == DP_ERR_UNSUPPORTED)
        snprintf(hidden, len, "%.250s", e.msg);
    return true;
}

enum dp_status wipe_archive_precheck(struct run *r, struct dp_error *err)
{
    for (size_t g = 0; g < r->ngroups; g++) {
        const struct dp_plan_target *t = &r->plan->targets[r->groups[g].names[0]];
        if (t->member_depth == 0)
            continue;
        int dirfd = -1;
        struct dp_error e = {0};
        int fd = wipe_try_open(r, t->path, O_RDONLY, &dirfd, &e);
        enum dp_archive_kind kind = DP_ARCHIVE_NONE;
        const char *comp = NULL;
        bool enc = false;
        char hidden[300];
        bool known = fd >= 0 && probe(fd, &kind, &comp, &enc, hidden, sizeof(hidden));
        if (fd >= 0)
            close(fd);
        if (dirfd >= 0)
            close(dirfd);
        if (known && how_for(r, kind, comp, enc, hidden[0] != '\0') == HOW_ASK) {
            char *q = dp_quote_bytes(t->path, t->path_len);
            enum dp_status st = dp_error_set(
                err, DP_ERR_UNSUPPORTED, 0,
                "the archive %s (%s) holds a match, and deprive cannot rewrite %s "
                "faithfully%s%s%s: say --archive-policy=wipe-whole (the whole archive is erased, "
                "its other members with it, and the result names them) or "
                "--archive-policy=leave (the match is reported not erased); nothing was done",
                q ? q : "?", dp_archive_kind_name(kind),
                enc ? "an archive with encrypted members" : "such an archive",
                hidden[0] ? " (" : "", hidden, hidden[0] ? ")" : "");
            free(q);
            return st;
        }
    }
    return DP_OK;
}

/* The names of the members of a whole-wiped archive (depth 1, at most 200) and how many. */
struct names_ctx {
    json_t *names;
    uint64_t count;
};

static void *names_begin(void *ctx, void *parent, const struct dp_member_info *m)
{
    struct names_ctx *c = ctx;
    if (parent == NULL) {
        c->count++;
        if (json_array_size(c->names) < 200)
            json_array_append_new(c->names, dp_json_bytes(m->name, m->name_len));
    }
    return c; /* any non-NULL sink */
}

static void names_data(void *ctx, void *sink, const uint8_t *buf, size_t len)
{
    (void)ctx, (void)sink, (void)buf, (void)len;
}

static enum dp_status names_end(void *ctx, void *sink, bool ok, const char *detail)
{
    (void)ctx, (void)sink, (void)ok, (void)detail;
    return DP_OK;
}

static void names_skip(void *ctx, void *parent, const struct dp_member_info *m,
                       enum dp_member_skip reason, const char *detail)
{
    (void)ctx, (void)parent, (void)m, (void)reason, (void)detail;
}

static json_t *whole_facts(int fd, enum dp_archive_kind kind, const char *why)
{
    struct names_ctx c = {json_array(), 0};
    const struct dp_archive_visitor v = {names_begin, names_data, names_end, names_skip, &c};
    struct dp_archive_limits lim = {.max_depth = 1};
    struct stat sb;
    struct dp_error e = {0};
    if (fstat(fd, &sb) != 0 ||
        dp_archive_scan(fd, (uint64_t)sb.st_size, kind == DP_ARCHIVE_NONE ? DP_ARCHIVE_TAR : kind,
                        &lim, &v, NULL, &e) != DP_OK)
        c.count = 0;
    return json_pack("{s:b, s:s, s:s, s:I, s:o}", "wiped_whole", 1, "format",
                     dp_archive_kind_name(kind), "why", why, "members", (json_int_t)c.count,
                     "member_names", c.names);
}

/* The member groups of the same file as group g, not yet done (g first). */
static size_t siblings(struct run *r, size_t g, size_t *out)
{
    const struct dp_plan_target *t = &r->plan->targets[r->groups[g].names[0]];
    size_t n = 0;
    out[n++] = g;
    for (size_t h = 0; h < r->ngroups; h++) {
        const struct dp_plan_target *u = &r->plan->targets[r->groups[h].names[0]];
        if (h == g || r->archive_done[h] || u->member_depth == 0 || u->id.ino != t->id.ino ||
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

/* One member target on its way: its work record (status, reason, consent, match). */
struct member {
    size_t g;
    struct work w;
    bool removing;
    json_t *emb;    /* an embedded copy in a member: what was done to its range (owned) */
    bool name_kept; /* its member was written again with the range zeroed: the name stays */
};

static void member_init(struct run *r, struct member *m, size_t g, struct opened *o)
{
    memset(m, 0, sizeof(*m));
    m->g = g;
    m->w = (struct work){.r = r, .g = g, .gs = r->resume ? &r->resume->groups[g] : NULL,
                         .gr = &r->groups[g], .fd = -1, .o = o};
    m->w.t0 = &r->plan->targets[r->groups[g].names[0]];
}

/* Consent for perceptual-only members, the lists for the others: who may be removed. An
 * embedded copy inside a member is left by --embedded=report-only. */
static void decide(struct member *m)
{
    if (m->w.t0->embedded && m->w.r->opts->embedded_policy == DP_EMBEDDED_REPORT_ONLY) {
        wipe_set_reason(&m->w, DP_WIPE_SKIPPED, "embedded copy left",
                        "--embedded=report-only: the member holding it was kept as it was");
        m->removing = false;
        return;
    }
    m->removing = wipe_decide(&m->w);
}

static bool same_chain(const struct dp_plan_target *a, const struct dp_plan_target *b)
{
    if (a->member_depth != b->member_depth)
        return false;
    for (unsigned d = 0; d < a->member_depth; d++)
        if (a->member_lens[d] != b->member_lens[d] ||
            memcmp(a->members[d], b->members[d], a->member_lens[d]) != 0)
            return false;
    return true;
}

/* Every range zeroed in the member of rm[j] (its own and those of the other copies in the same
 * member), sorted: *out heap, the count. SIZE_MAX: out of memory. */
static size_t member_ranges(const struct member *ms, const size_t *of,
                            const struct dp_archive_removal *rm, size_t k, size_t j,
                            uint64_t (**out)[2])
{
    size_t total = 0, n = 0;
    for (size_t x = 0; x < k; x++)
        total += rm[x].replaced ? rm[x].nranges : 0;
    uint64_t(*rg)[2] = calloc(total ? total : 1, sizeof(*rg));
    for (size_t x = 0; rg != NULL && x < k; x++)
        for (size_t i = 0; rm[x].replaced && same_chain(ms[of[x]].w.t0, ms[of[j]].w.t0) &&
                           i < rm[x].nranges;
             i++)
            memcpy(rg[n++], rm[x].ranges[i], sizeof(rg[0]));
    if (rg != NULL)
        qsort(rg, n, sizeof(*rg), dp_range_cmp);
    *out = rg;
    return rg == NULL ? SIZE_MAX : n;
}

/* An embedded copy's member read back from the new archive (fd): its size as scanned, the
 * bytes outside every zeroed range as before, its own ranges all zero (no stream is). The
 * facts into ms[of[j]].emb; DP_ERR_VERIFY when not proved. */
static enum dp_status prove_one(struct member *ms, const size_t *of,
                                const struct dp_archive_removal *rm, size_t k, size_t j, int fd,
                                struct dp_error *err)
{
    const struct dp_plan_target *t = ms[of[j]].w.t0;
    uint8_t *b = NULL;
    size_t len = 0, nr = 0;
    uint64_t(*rg)[2] = NULL;
    enum dp_status st =
        dp_archive_member_read(fd, t->members, t->member_lens, t->member_depth, &b, &len, err);
    if (st == DP_OK && (nr = member_ranges(ms, of, rm, k, j, &rg)) == SIZE_MAX)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    if (st != DP_OK) {
        free(b);
        return st == DP_ERR_NOMEM ? st
                                  : dp_error_set(err, DP_ERR_VERIFY, 0, "the member holding an "
                                                 "embedded copy does not read back: %s",
                                                 err ? err->msg : "?");
    }
    uint8_t after[32];
    dp_sha256_outside(after, b, len, (const uint64_t(*)[2])rg, nr);
    bool zero = len == t->container_size;
    for (size_t i = 0; zero && i < t->embedded_nranges; i++)
        for (uint64_t o = 0; zero && o < t->embedded_ranges[i][1]; o++)
            zero = b[t->embedded_ranges[i][0] + o] == 0;
    char hb[65], ha[65];
    dp_hex_encode(hb, rm[j].outside_sha256, 32);
    dp_hex_encode(ha, after, 32);
    bool same = memcmp(after, rm[j].outside_sha256, 32) == 0 && len == t->container_size;
    json_t *outside = json_pack("{s:s, s:s, s:b, s:b, s:I}", "outside_sha256_before", hb,
                                "outside_sha256_after", ha, "outside_unchanged", same,
                                "range_zeroed", zero, "member_size", (json_int_t)len);
    ms[of[j]].emb = wipe_range_facts(t, "replace-member", outside);
    ms[of[j]].name_kept = true;
    json_decref(outside);
    free(rg);
    free(b);
    if (ms[of[j]].emb == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    if (!same || !zero)
        return dp_error_set(err, DP_ERR_VERIFY, 0, "the member holding an embedded copy, read "
                            "back, %s", !same ? "differs outside the zeroed ranges"
                                              : "still holds bytes of the copy");
    return DP_OK;
}

/* The SQLite rules for embedded copies whose range would be zeroed in their member: one in a
 * -wal or -journal member, or across a page of a database member, is left (as in a file). */
static enum dp_status member_rules(struct run *r, struct member *ms, size_t n, int fd,
                                   struct dp_error *err)
{
    for (size_t i = 0; r->opts->embedded_policy == DP_EMBEDDED_OVERWRITE_RANGE && i < n; i++) {
        const struct dp_plan_target *t = ms[i].w.t0;
        if (!ms[i].removing || ms[i].w.decided || !t->embedded)
            continue;
        uint8_t *b = NULL;
        size_t len = 0;
        struct dp_error e = {0};
        enum dp_status st = dp_archive_member_read(fd, t->members, t->member_lens,
                                                   t->member_depth, &b, &len, &e);
        if (st == DP_ERR_NOMEM)
            return *err = e, st;
        const char *left = st == DP_OK ? wipe_sqlite_rule(t->members[t->member_depth - 1], b,
                                                          len < 18 ? len : 18, t)
                                       : NULL; /* unreadable now: the rewrite says why */
        free(b);
        if (left == NULL)
            continue;
        wipe_set_reason(&ms[i].w, DP_WIPE_SKIPPED, "embedded copy left", left);
        ms[i].removing = false;
        ms[i].emb = wipe_range_facts(t, dp_embedded_policy_name(DP_EMBEDDED_REPORT_ONLY), NULL);
    }
    return DP_OK;
}

/* After the new archive verified: each embedded copy's facts (ms[].emb): a replaced one
 * proved from the new archive (prove_one), one whose member was left out (by
 * --embedded=wipe-container, or because the member itself matched) gone with it. */
static enum dp_status prove_replaced(struct run *r, struct member *ms, const size_t *of,
                                     const struct dp_archive_removal *rm, size_t k, int fd,
                                     struct dp_error *err)
{
    enum dp_status st = DP_OK;
    for (size_t j = 0; j < k && st == DP_OK; j++) {
        json_decref(ms[of[j]].emb);
        ms[of[j]].emb = NULL;
        ms[of[j]].name_kept = false;
        if (rm[j].replaced)
            st = prove_one(ms, of, rm, k, j, fd, err);
        else if (rm[j].ranges != NULL)
            ms[of[j]].emb = wipe_range_facts(
                ms[of[j]].w.t0,
                r->opts->embedded_policy == DP_EMBEDDED_WIPE_CONTAINER ? "wipe-container"
                                                                        : "with-container",
                NULL);
    }
    return st;
}

/* Copy owner, mode, extended attributes and times of the old archive to the new one. */
static void copy_meta(int from, int to)
{
    struct stat sb;
    if (fstat(from, &sb) != 0)
        return;
    if (fchown(to, sb.st_uid, sb.st_gid) != 0) { /* not root: keep ours */
    }
    fchmod(to, sb.st_mode & 07777);
    char names[4096];
    ssize_t n = flistxattr(from, names, sizeof(names));
    for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
        char val[4096];
        ssize_t v = fgetxattr(from, names + i, val, sizeof(val));
        if (v >= 0)
            fsetxattr(to, names + i, val, (size_t)v, 0);
    }
    struct timespec ts[2] = {sb.st_atim, sb.st_mtim};
    futimens(to, ts);
}

static enum dp_status sha256_fd(int fd, char hex[65], struct dp_error *err)
{
    struct dp_digest *d = NULL;
    uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    uint64_t bytes = 0;
    void *buf = malloc(1 << 20);
    enum dp_status st = buf == NULL ? dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory")
                                    : dp_digest_new(&d, err);
    if (st == DP_OK && lseek(fd, 0, SEEK_SET) != 0)
        st = dp_error_set(err, DP_ERR_IO, errno, "seek failed");
    if (st == DP_OK)
        st = dp_digest_fd(d, DP_DIGEST_MASK(DP_ALGO_SHA256), fd, buf, 1 << 20, NULL, 0, NULL,
                          &bytes, out, err);
    if (st == DP_OK)
        dp_hex_encode(hex, out[DP_ALGO_SHA256], 32);
    dp_digest_free(d);
    free(buf);
    return st;
}

/* What the rewrite did, for each removed member's result and the certificate. */
static json_t *archive_facts(const struct dp_archive_rewrite_result *res, const char *sha_new,
                             size_t removing)
{
    return json_pack("{s:b, s:s, s:s?, s:I, s:I, s:I, s:b, s:s, s:s}", "rewritten", 1, "format",
                     dp_archive_kind_name(res->kind), "compression",
                     res->compression[0] ? res->compression : NULL, "kept_members",
                     (json_int_t)res->kept, "removed_members", (json_int_t)res->removed,
                     "targets_removed", (json_int_t)removing, "kept_verified", 1, "changes",
                     res->changes, "new_sha256", sha_new);
}

/* Rewrite: the new archive next to the old one, read back. On success *tmp_fd is open on it
 * (read-write) and tmp_name holds its name in the old one's directory. A perceptual-only
 * member whose content, hashed again, is no longer a perceptual match is taken out of the
 * removals (decided "skipped") and the rewrite done again without it. */
static enum dp_status rewrite(struct run *r, struct member *ms, size_t n, int fd, int dirfd,
                              char tmp_name[24], int *tmp_fd,
                              struct dp_archive_rewrite_result *res, struct dp_error *err)
{
    struct dp_archive_removal *rm = calloc(n, sizeof(*rm));
    size_t *of = calloc(n, sizeof(*of)); /* rm[k] is ms[of[k]] */
    enum dp_status st = DP_OK;
    if (rm == NULL || of == NULL) {
        free(rm);
        free(of);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    for (;;) {
        size_t k = 0;
        bool perceptual = false;
        for (size_t i = 0; i < n; i++) {
            if (!ms[i].removing)
                continue;
            const struct dp_plan_target *t = ms[i].w.t0;
            perceptual |= t->perceptual_only;
            of[k] = i;
            rm[k++] = (struct dp_archive_removal){
                .chain = t->members, .lens = t->member_lens, .depth = t->member_depth,
                .digest_mask = t->digest_mask,
                .digests = (const uint8_t(*)[DP_DIGEST_MAX])t->digests,
                .ranges = t->embedded ? (const uint64_t(*)[2])t->embedded_ranges : NULL,
                .nranges = t->embedded ? t->embedded_nranges : 0,
                .replace = t->embedded &&
                           r->opts->embedded_policy == DP_EMBEDDED_OVERWRITE_RANGE};
        }
        if (k == 0)
            return free(rm), free(of), DP_ERR_CHANGED;
        snprintf(tmp_name, 24, ".dqa");
        wipe_random_name(tmp_name + 4, 9);
        json_t *groups = json_array();
        for (size_t j = 0; j < k; j++)
            json_array_append_new(groups, json_integer((json_int_t)ms[of[j]].g));
        st = wipe_jlog(r, "archive-begin",
                       json_pack("{s:I, s:s, s:o}", "group", (json_int_t)ms[0].g, "temp",
                                 tmp_name, "groups", groups),
                       err);
        if (st != DP_OK)
            break;
        *tmp_fd =
            openat(dirfd, tmp_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (*tmp_fd < 0) {
            st = dp_error_set(err, DP_ERR_IO, errno, "cannot create the new archive");
            break;
        }
        st = dp_archive_rewrite(fd, *tmp_fd, rm, k, perceptual, res, err);
        if (st == DP_OK && fsync(*tmp_fd) != 0)
            st = dp_error_set(err, DP_ERR_IO, errno, "fsync of the new archive failed");
        if (st == DP_OK)
            st = dp_archive_verify(*tmp_fd, res, err);
        bool again = false;
        for (size_t j = 0; st == DP_OK && j < k; j++) {
            struct work *w = &ms[of[j]].w;
            if (!w->t0->perceptual_only)
                continue;
            struct dp_error pe = {0};
            json_decref(w->pdq);
            json_decref(w->match);
            w->pdq = w->match = NULL;
            enum dp_status ps = rm[j].content == NULL
                                    ? DP_ERR_LIMIT
                                    : wipe_pdq_check_buf(rm[j].content, rm[j].content_len,
                                                         r->opts, true, &w->pdq, &w->match,
                                                         &pe);
            if (ps == DP_ERR_NOMEM) {
                *err = pe;
                st = ps;
            } else if (w->match == NULL) {
                wipe_set_reason(w, DP_WIPE_SKIPPED, "no longer a perceptual match",
                                "its content, hashed again, is not within the radius of any "
                                "PDQ entry of the lists given");
                ms[of[j]].removing = false;
                again = true;
            }
        }
        for (size_t j = 0; j < k; j++) {
            free(rm[j].content);
            rm[j].content = NULL;
        }
        if (st == DP_OK && !again)
            st = prove_replaced(r, ms, of, rm, k, *tmp_fd, err);
        if (st == DP_OK && !again)
            break;
        /* the old archive is untouched: the new one goes */
        close(*tmp_fd);
        *tmp_fd = -1;
        unlinkat(dirfd, tmp_name, 0);
        if (st != DP_OK)
            break;
    }
    if (st != DP_OK && *tmp_fd >= 0) {
        close(*tmp_fd);
        *tmp_fd = -1;
        unlinkat(dirfd, tmp_name, 0);
    }
    free(rm);
    free(of);
    return st;
}

/* The method of an embedded copy in a member that no rewrite accounted for, before record_all
 * decides it: about to be recorded erased with the whole archive file; being removed but
 * planned (a dry run) or stopped (the policy's method, as for copies in files); left by
 * --embedded=report-only; or nothing done. */
static const char *copy_method(const struct member *m)
{
    enum dp_embedded_policy pol = m->w.r->opts->embedded_policy;
    if (m->removing && !m->w.decided)
        return "with-container";
    if (m->removing)
        return pol == DP_EMBEDDED_OVERWRITE_RANGE ? "replace-member"
                                                  : dp_embedded_policy_name(pol);
    bool left = m->w.status == DP_WIPE_SKIPPED && pol == DP_EMBEDDED_REPORT_ONLY;
    return left ? dp_embedded_policy_name(DP_EMBEDDED_REPORT_ONLY) : "none";
}

/* Every member decided: results (and target-done records) for all of them; the removed ones
 * carry the overwrite facts of the old archive and what the rewrite did; an embedded copy in a
 * member what was done to its range (gone with the whole archive file when nothing else says). */
static enum dp_status record_all(struct member *ms, size_t n, json_t *results,
                                 const json_t *facts, const json_t *arch, struct dp_error *err)
{
    enum dp_status st = DP_OK;
    for (size_t i = 0; i < n && st == DP_OK; i++) {
        struct work *w = &ms[i].w;
        json_t *emb = NULL;
        if (w->t0->embedded)
            emb = ms[i].emb != NULL ? json_incref(ms[i].emb)
                                    : wipe_range_facts(w->t0, copy_method(&ms[i]), NULL);
        if (!w->decided && ms[i].removing) {
            w->decided = true;
            w->status = DP_WIPE_ERASED;
            json_decref(w->facts);
            w->facts = json_incref((json_t *)facts);
            w->o[0].removed = !ms[i].name_kept;
        }
        w->embedded = emb;
        w->extra = ms[i].removing && arch != NULL ? (json_t *)arch : NULL;
        st = wipe_record_work(w, results, err);
        w->embedded = NULL;
        json_decref(emb);
        w->r->archive_done[ms[i].g] = true;
    }
    return st;
}

/* The embedded copies' facts for the archive-written record: {"<group>": embedded}. */
static json_t *embedded_record(const struct member *ms, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < n; i++)
        if (ms[i].removing && ms[i].emb != NULL) {
            char key[24];
            snprintf(key, sizeof(key), "%zu", ms[i].g);
            json_object_set(o, key, ms[i].emb);
        }
    return o;
}

/* Resuming after archive-written: each embedded copy's facts as journaled. */
static void embedded_resumed(struct member *ms, size_t n, const json_t *rec)
{
    const json_t *all = json_object_get(rec, "embedded");
    for (size_t i = 0; i < n; i++) {
        char key[24];
        snprintf(key, sizeof(key), "%zu", ms[i].g);
        const json_t *e = json_object_get(all, key);
        const char *m = json_string_value(json_object_get(e, "method"));
        if (e == NULL || !ms[i].removing)
            continue;
        json_decref(ms[i].emb);
        ms[i].emb = json_incref((json_t *)e);
        ms[i].name_kept = m != NULL && strcmp(m, "replace-member") == 0;
    }
}

/* Open the archive file (the plan's object; relaxed after its overwrite began). */
static enum dp_status open_archive(struct run *r, struct member *m0, bool relaxed,
                                   struct dp_error *err)
{
    return wipe_open_name(r, m0->w.gr->names[0], relaxed, m0->w.o, err);
}

/* Does the archive's name now hold the new archive (renamed before an interruption)? */
static bool new_in_place(struct run *r, const struct dp_plan_target *t, const char *want)
{
    int dirfd = -1;
    struct dp_error e = {0};
    int fd = want != NULL ? wipe_try_open(r, t->path, O_RDONLY, &dirfd, &e) : -1;
    char sha[65] = "";
    bool same = fd >= 0 && sha256_fd(fd, sha, &e) == DP_OK && strcmp(sha, want) == 0;
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
    return same;
}

/* A rewrite interrupted after its new archive was written: finish it. *renamed: the new
 * archive was already in place (the old one overwritten before), nothing left to do. */
static enum dp_status finish_written(struct run *r, struct member *ms, size_t n,
                                     const struct group_state *gs, json_t **facts,
                                     json_t **arch, bool *renamed, struct dp_error *err)
{
    const json_t *rec = gs->archive_written;
    const char *want = json_string_value(json_object_get(json_object_get(rec, "archive"),
                                                         "new_sha256"));
    *renamed = false;
    const json_t *groups = json_object_get(rec, "groups");
    for (size_t i = 0; i < n; i++) { /* who was being removed, as journaled */
        size_t j;
        const json_t *v;
        ms[i].removing = false;
        json_array_foreach(groups, j, v) ms[i].removing |=
            (size_t)json_integer_value(v) == ms[i].g;
        if (!ms[i].removing)
            decide(&ms[i]);
        ms[i].removing = ms[i].removing && !ms[i].w.decided;
    }
    embedded_resumed(ms, n, rec);
    if (gs->overwrite_done && (gs->archive_renamed || new_in_place(r, ms[0].w.t0, want))) {
        *renamed = true;
        *arch = json_incref(json_object_get(rec, "archive"));
        *facts = json_incref(gs->overwrite_facts);
        return DP_OK;
    }
    struct dp_error e = {0};
    enum dp_status os = open_archive(r, &ms[0], gs->overwrite_begun, &e);
    struct opened *o = ms[0].w.o;
    const char *what = NULL;
    int tfd = -1;
    char sha[65] = "";
    if (os != DP_OK || o->fd < 0)
        what = os == DP_OK ? "no longer present" : e.msg;
    else if ((tfd = openat(o->dirfd, gs->archive_temp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        what = "the new archive written before the interruption is gone";
    else if (sha256_fd(tfd, sha, err) != DP_OK || want == NULL || strcmp(sha, want) != 0)
        what = "the new archive written before the interruption does not match its record";
    if (tfd >= 0)
        close(tfd);
    if (what != NULL) {
        for (size_t i = 0; i < n; i++)
            if (ms[i].removing)
                wipe_set_reason(&ms[i].w, DP_WIPE_FAILED, "archive rewrite not finished", what);
        return DP_OK;
    }
    *arch = json_incref(json_object_get(rec, "archive"));
    enum dp_status st;
    if (gs->overwrite_done)
        *facts = json_incref(gs->overwrite_facts);
    else if ((st = wipe_overwrite_group(r, ms[0].g, o->fd, facts, err)) != DP_OK)
        return st;
    return DP_OK;
}

/* The new archive takes the old one's name, proved to still be the file overwritten. */
static bool put_in_place(struct opened *o, const char *tmp_name)
{
    struct stat a, b;
    return fstatat(o->dirfd, o->base, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(o->fd, &b) == 0 &&
           a.st_ino == b.st_ino && a.st_dev == b.st_dev &&
           renameat(o->dirfd, tmp_name, o->dirfd, o->base) == 0 && fsync(o->dirfd) == 0;
}

static void fail_removing(struct member *ms, size_t n, enum dp_wipe_status s, const char *what,
                          const char *msg)
{
    for (size_t i = 0; i < n; i++)
        if (ms[i].removing && !ms[i].w.decided)
            wipe_set_reason(&ms[i].w, s, what, msg ? msg : "unknown");
}

/* The whole archive file erased like a file target (overwrite, verify, scrub its name, unlink);
 * every member target in it is then gone, with the other members named in *arch. */
static enum dp_status wipe_whole(struct run *r, struct member *ms, size_t n, struct opened *o,
                                 enum dp_archive_kind kind, const char *why, json_t **facts,
                                 json_t **arch, struct dp_error *err)
{
    *arch = whole_facts(o->fd, kind, why);
    enum dp_status st = wipe_overwrite_group(r, ms[0].g, o->fd, facts, err);
    if (st != DP_OK)
        return st;
    if (!json_is_true(json_object_get(*facts, "ok"))) {
        fail_removing(ms, n, DP_WIPE_FAILED, "overwrite failed",
                      json_string_value(json_object_get(*facts, "error")));
        return DP_OK;
    }
    struct work *w = &ms[0].w;
    w->fd = o->fd;
    w->facts = json_incref(*facts);
    if ((st = wipe_scrub_work(w, err)) != DP_OK)
        return st;
    for (size_t i = 0; i < n; i++) /* every member went with the file, decided or not */
        if (!ms[i].w.decided || ms[i].w.status != DP_WIPE_FAILED) {
            ms[i].removing = true;
            ms[i].w.decided = false;
            ms[i].w.reason[0] = '\0';
        }
    if (!o->removed)
        fail_removing(ms, n, DP_WIPE_FAILED, "a name could not be removed",
                      o->error[0] ? o->error : "the archive's name is still there");
    return DP_OK;
}

/* The archive file itself was a target (it matched as a whole) and was erased earlier in
 * this wipe: the result that says so, else NULL. */
const json_t *wipe_file_erased(const struct dp_plan_target *t, const json_t *results)
{
    size_t i;
    const json_t *res;
    json_array_foreach(results, i, res) {
        const json_t *loc = json_object_get(json_array_get(json_object_get(res, "names"), 0),
                                            "location");
        const char *st = json_string_value(json_object_get(res, "status"));
        if (json_array_size(loc) == 1 && st != NULL && strcmp(st, "erased") == 0 &&
            (uint64_t)json_integer_value(json_object_get(res, "inode")) == t->id.ino &&
            (uint64_t)json_integer_value(json_object_get(json_object_get(res, "device"),
                                                         "major")) == t->id.dev_major &&
            (uint64_t)json_integer_value(json_object_get(json_object_get(res, "device"),
                                                         "minor")) == t->id.dev_minor)
            return res;
    }
    return NULL;
}

enum dp_status wipe_archive_group(struct run *r, size_t g, json_t *results, struct dp_error *err)
{
    size_t n = 0;
    size_t *sib = calloc(r->ngroups, sizeof(*sib));
    struct opened *o = calloc(r->ngroups, sizeof(*o));
    struct member *ms = NULL;
    int tmp_fd = -1;
    json_t *facts = NULL, *arch = NULL;
    enum dp_status st = DP_OK;
    const struct group_state *gs = r->resume ? &r->resume->groups[g] : NULL;
    if (sib == NULL || o == NULL || (n = siblings(r, g, sib),
                                     (ms = calloc(n, sizeof(*ms))) == NULL)) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        o[i].fd = o[i].dirfd = -1;
        member_init(r, &ms[i], sib[i], &o[i]);
    }
    wipe_progress(r, g, DP_PHASE_CHECK, ms[0].w.t0->path);
    char tmp_name[24] = "";
    bool in_place = false;
    const json_t *whole = wipe_file_erased(ms[0].w.t0, results);
    if (whole != NULL) { /* gone with the file, which matched as a whole */
        facts = json_deep_copy(whole);
        arch = json_pack("{s:b, s:s}", "wiped_whole", 1, "why",
                         "the archive file itself matched and was erased as a whole");
        for (size_t i = 0; i < n; i++)
            ms[i].removing = true;
        goto record;
    }
    if (gs != NULL && gs->archive_temp != NULL && gs->archive_written != NULL) {
        /* interrupted after the new archive was written: it is put in place, if it is not */
        if ((st = finish_written(r, ms, n, gs, &facts, &arch, &in_place, err)) != DP_OK)
            goto out;
        snprintf(tmp_name, sizeof(tmp_name), "%s", gs->archive_temp);
    } else {
        size_t removing = 0;
        for (size_t i = 0; i < n; i++) {
            decide(&ms[i]);
            removing += ms[i].removing;
        }
        if (removing == 0)
            goto record;
        struct dp_error e = {0};
        /* an erasure of the whole file begun before an interruption is finished */
        bool whole_begun = gs != NULL && gs->overwrite_begun && gs->archive_temp == NULL;
        enum dp_status os = open_archive(r, &ms[0], whole_begun, &e);
        if (os != DP_OK || o[0].fd < 0) {
            const char *what;
            enum dp_wipe_status ws = wipe_open_failure(os, &what);
            fail_removing(ms, n, ws, what, os == DP_OK ? "no longer present" : e.msg);
            goto record;
        }
        if (gs != NULL && gs->archive_temp != NULL) /* begun, not written: nothing to keep */
            unlinkat(o[0].dirfd, gs->archive_temp, 0);
        if (!whole_begun && (st = member_rules(r, ms, n, o[0].fd, err)) != DP_OK)
            goto out;
        if (r->opts->dry_run) {
            for (size_t i = 0; i < n; i++)
                if (ms[i].removing)
                    ms[i].w.decided = true, ms[i].w.status = DP_WIPE_PLANNED;
            goto record;
        }
        enum dp_archive_kind kind = DP_ARCHIVE_NONE;
        const char *comp = NULL;
        bool enc = false;
        char hidden[300] = "";
        enum how how = whole_begun ? HOW_WHOLE_POLICY
                       : probe(o[0].fd, &kind, &comp, &enc, hidden, sizeof(hidden))
                           ? how_for(r, kind, comp, enc, hidden[0] != '\0')
                           : HOW_REWRITE; /* unreadable now: the rewrite says why */
        if (how == HOW_LEAVE || how == HOW_ASK) {
            char why[500];
            snprintf(why, sizeof(why), "a %s archive%s cannot be rewritten faithfully%s%s%s; "
                                       "left as --archive-policy=leave says",
                     dp_archive_kind_name(kind), enc ? " with encrypted members" : "",
                     hidden[0] ? " (" : "", hidden, hidden[0] ? ")" : "");
            fail_removing(ms, n, DP_WIPE_SKIPPED, "archive left", why);
            goto record;
        }
        if (how == HOW_WHOLE_SINGLE || how == HOW_WHOLE_POLICY) {
            st = wipe_whole(r, ms, n, &o[0], kind,
                            how == HOW_WHOLE_SINGLE ? "a single compressed file: its content "
                                                      "is the match"
                            : whole_begun ? "the erasure of the whole archive begun before "
                                            "an interruption was finished"
                                          : "--archive-policy=wipe-whole: the archive cannot "
                                            "be rewritten faithfully, so all of it was erased",
                            &facts, &arch, err);
            if (st != DP_OK)
                goto out;
            goto record;
        }
        struct dp_archive_rewrite_result res;
        struct dp_error re = {0};
        wipe_progress(r, g, DP_PHASE_OVERWRITE, ms[0].w.t0->path);
        enum dp_status rs = rewrite(r, ms, n, o[0].fd, o[0].dirfd, tmp_name, &tmp_fd, &res, &re);
        if (rs == DP_ERR_NOMEM || r->journal_failed) {
            *err = re;
            st = rs;
            goto out;
        }
        if (rs != DP_OK) {
            fail_removing(ms, n, rs == DP_ERR_CHANGED ? DP_WIPE_SKIPPED : DP_WIPE_FAILED,
                          rs == DP_ERR_CHANGED       ? "changed since scan"
                          : rs == DP_ERR_UNSUPPORTED ? "archive cannot be rewritten"
                                                     : "archive not rewritten",
                          re.msg);
            goto record;
        }
        char sha_new[65];
        if ((st = sha256_fd(tmp_fd, sha_new, err)) != DP_OK)
            goto out;
        copy_meta(o[0].fd, tmp_fd);
        size_t now = 0;
        json_t *groups = json_array();
        for (size_t i = 0; i < n; i++)
            if (ms[i].removing) {
                now++;
                json_array_append_new(groups, json_integer((json_int_t)ms[i].g));
            }
        arch = archive_facts(&res, sha_new, now);
        if ((st = wipe_jlog(r, "archive-written",
                            json_pack("{s:I, s:s, s:O, s:o, s:o}", "group", (json_int_t)g,
                                      "temp", tmp_name, "archive", arch, "groups", groups,
                                      "embedded", embedded_record(ms, n)),
                            err)) != DP_OK)
            goto out;
        /* the old archive, every member in it, overwritten and verified like any target */
        if ((st = wipe_overwrite_group(r, g, o[0].fd, &facts, err)) != DP_OK)
            goto out;
    }
    if (facts == NULL) /* finish_written found it could not go on */
        goto record;
    if (!json_is_true(json_object_get(facts, "ok"))) {
        /* the old archive may be part overwritten: the new one, which holds every kept member
         * and was read back, stays beside it under its temporary name */
        char why[400];
        snprintf(why, sizeof(why), "%.250s; the new archive, without the member and checked, is "
                                   "kept beside the old one as %s",
                 json_string_value(json_object_get(facts, "error"))
                     ? json_string_value(json_object_get(facts, "error"))
                     : "unknown",
                 tmp_name);
        fail_removing(ms, n, DP_WIPE_FAILED, "overwrite failed", why);
        goto record;
    }
    if (in_place && gs->archive_renamed)
        goto record;
    if (!in_place && !put_in_place(&o[0], tmp_name)) {
        fail_removing(ms, n, DP_WIPE_FAILED, "the new archive was not put in place",
                      "the old archive's name changed during the wipe; the new archive is "
                      "left beside it under its temporary name");
        goto record;
    }
    if ((st = wipe_jlog(r, "archive-renamed",
                        json_pack("{s:I, s:s}", "group", (json_int_t)g, "temp", tmp_name),
                        err)) != DP_OK)
        goto out;
record:
    st = record_all(ms, n, results, facts, arch, err);
out:
    if (tmp_fd >= 0)
        close(tmp_fd);
    for (size_t i = 0; ms != NULL && i < n; i++) {
        json_decref(ms[i].w.facts);
        json_decref(ms[i].w.consent);
        json_decref(ms[i].w.pdq);
        json_decref(ms[i].w.match);
        json_decref(ms[i].emb);
    }
    if (o != NULL)
        wipe_close_opened(o, n);
    json_decref(facts);
    json_decref(arch);
    free(ms);
    free(o);
    free(sib);
    return st;
}
