/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: archive members in the scan - each member streamed through the same matching as a
 * file (digests, PDQ for images), findings and skips recorded with their member chain. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One member being read. */
struct msink {
    struct mctx *c;
    struct msink *parent;
    char *name;
    size_t name_len;
    unsigned depth;
    struct dp_member_info info; /* name and hardlink point into this sink */
    char *hardlink;
    struct dp_digest *dg;       /* the worker's, for this depth */
    unsigned char *head;        /* the worker's, for this depth: the first bytes, for libmagic */
    size_t head_len;
    uint8_t *img;               /* the member held: an image for PDQ, any member for carving */
    size_t img_len, img_cap;
    bool image_checked, image, image_too_large;
    bool carve;                 /* held whole to be carved (carving on, not over the limit) */
    bool carve_too_large;       /* over the carving limit: not carved (a recorded limit) */
    bool dropped;               /* the buffer let go: it no longer holds every byte */
    bool carve_oom;             /* let go for want of memory while it was held for carving */
    bool nested;                /* an archive itself (a member below it began): not carved */
    uint64_t bytes;
};

/* A member that matched, remembered so that hard-link entries naming it are found too. */
struct matched {
    char **chain;
    size_t *lens;
    unsigned depth;
    struct dp_finding f; /* digests, matches (owned), PDQ */
};

struct mctx {
    struct worker *w;
    const struct item *it;
    unsigned mask;
    struct matched *done;
    size_t ndone, capdone;
};

static struct dp_digest *depth_digest(struct worker *w, unsigned d)
{
    if (w->mdigest[d] == NULL && dp_digest_new(&w->mdigest[d], NULL) != DP_OK)
        w->mdigest[d] = NULL;
    return w->mdigest[d];
}

static unsigned char *depth_head(struct worker *w, unsigned d)
{
    if (w->mhead[d] == NULL)
        w->mhead[d] = malloc(DP_CLASSIFY_HEAD);
    return w->mhead[d];
}

static void *begin(void *ctx, void *parent, const struct dp_member_info *m)
{
    struct mctx *c = ctx;
    if (m->depth >= SCAN_MEMBER_DEPTH_MAX)
        return NULL;
    struct msink *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    k->c = c;
    k->parent = parent;
    k->depth = m->depth;
    k->info = *m;
    k->name = malloc(m->name_len + 1);
    k->hardlink = m->hardlink ? malloc(m->hardlink_len + 1) : NULL;
    k->dg = depth_digest(c->w, m->depth);
    k->head = depth_head(c->w, m->depth);
    if (k->name == NULL || (m->hardlink && k->hardlink == NULL) || k->dg == NULL ||
        k->head == NULL || dp_digest_begin(k->dg, c->mask, NULL) != DP_OK) {
        free(k->name);
        free(k->hardlink);
        free(k);
        return NULL;
    }
    /* a single compressed file's content is not carved: it could only be erased whole */
    k->carve = c->w->s->res->carve && m->archive != DP_ARCHIVE_COMPRESSED;
    struct msink *up = parent;
    if (up != NULL && !up->nested) { /* up is an archive: its members are examined instead */
        up->nested = true;
        up->carve = false;
        if (!up->image) {
            free(up->img);
            up->img = NULL;
            up->img_len = up->img_cap = 0;
            up->dropped = true;
        }
    }
    memcpy(k->name, m->name, m->name_len);
    k->name[m->name_len] = '\0';
    k->name_len = m->name_len;
    k->info.name = k->name;
    if (m->hardlink) {
        memcpy(k->hardlink, m->hardlink, m->hardlink_len);
        k->hardlink[m->hardlink_len] = '\0';
        k->info.hardlink = k->hardlink;
    }
    return k;
}

/* Grow k's buffer to hold len more bytes; false (the buffer let go) when it cannot. */
static bool hold_more(struct msink *k, size_t len)
{
    if (k->img_len + len <= k->img_cap)
        return true;
    size_t cap = k->img_cap ? k->img_cap : 1u << 20;
    while (cap < k->img_len + len)
        cap *= 2;
    uint8_t *p = realloc(k->img, cap);
    if (p == NULL)
        return false;
    k->img = p;
    k->img_cap = cap;
    return true;
}

/* Is k's buffer still wanted after `bytes` bytes: for PDQ (an image within max_image_bytes) or
 * for carving (within the longest stream, and not an archive)? */
static bool hold_wanted(struct msink *k, const struct scan *s)
{
    if (k->image && !k->image_too_large && k->bytes > s->pdq.max_image_bytes)
        k->image_too_large = true;
    if (k->carve && k->head_len >= DP_ARCHIVE_SNIFF_BYTES &&
        dp_archive_sniff(k->head, k->head_len) != DP_ARCHIVE_NONE)
        k->carve = false; /* its members are examined instead, as for a file */
    if (k->carve && k->bytes > s->res->carve_max_stream) {
        k->carve = false;
        k->carve_too_large = true;
    }
    return (k->image && !k->image_too_large) || k->carve;
}

static void data(void *ctx, void *sink, const uint8_t *buf, size_t len)
{
    (void)ctx;
    struct msink *k = sink;
    const struct scan *s = k->c->w->s;
    dp_digest_update(k->dg, buf, len);
    if (k->head_len < DP_CLASSIFY_HEAD) {
        size_t n = DP_CLASSIFY_HEAD - k->head_len < len ? DP_CLASSIFY_HEAD - k->head_len : len;
        if (n > 0) /* libarchive ends a stored member with an empty NULL block */
            memcpy(k->head + k->head_len, buf, n);
        k->head_len += n;
    }
    k->bytes += len;
    if (s->pdq.n > 0 && !k->image_checked && k->head_len >= 32) {
        k->image_checked = true;
        k->image = dp_image_sniff(k->head, k->head_len) != DP_IMAGE_NONE;
    }
    if (k->dropped)
        return;
    bool wanted = hold_wanted(k, s);
    if (!wanted || !hold_more(k, len)) {
        k->carve_oom = wanted && k->carve;
        k->dropped = k->img != NULL || k->carve; /* carving needs every byte from the first */
        k->image_too_large |= k->image;
        k->carve = false;
        free(k->img);
        k->img = NULL;
        k->img_len = k->img_cap = 0;
        return;
    }
    if (len > 0)
        memcpy(k->img + k->img_len, buf, len);
    k->img_len += len;
}

/* The member chain of k (and of k's parents): heap arrays of depth entries. */
static bool chain_of(const struct msink *k, const char *extra, size_t extra_len, char ***out,
                     size_t **lens, unsigned *depth)
{
    unsigned d = (k ? k->depth : 0) + (extra != NULL);
    char **c = calloc(d ? d : 1, sizeof(*c));
    size_t *l = calloc(d ? d : 1, sizeof(*l));
    if (c == NULL || l == NULL)
        goto fail;
    unsigned i = d;
    if (extra != NULL) {
        i--;
        if ((c[i] = malloc(extra_len + 1)) == NULL)
            goto fail;
        memcpy(c[i], extra, extra_len);
        c[i][extra_len] = '\0';
        l[i] = extra_len;
    }
    for (const struct msink *p = k; p != NULL; p = p->parent) {
        i--;
        if ((c[i] = strdup(p->name)) == NULL)
            goto fail;
        l[i] = p->name_len;
    }
    *out = c;
    *lens = l;
    *depth = d;
    return true;
fail:
    for (unsigned j = 0; c != NULL && j < d; j++)
        free(c[j]);
    free(c);
    free(l);
    return false;
}

static void free_chain(char **c, unsigned d)
{
    for (unsigned j = 0; c != NULL && j < d; j++)
        free(c[j]);
    free(c);
}

/* Record a finding for a member (chain made from k): f carries digests, matches (taken),
 * PDQ. */
static enum dp_status add_member_finding(struct mctx *c, const struct msink *k,
                                         struct dp_finding f)
{
    struct scan *s = c->w->s;
    const struct item *it = c->it;
    f.path = malloc(it->path_len + 1);
    if (f.path == NULL || !chain_of(k, NULL, 0, &f.members, &f.member_lens, &f.member_depth)) {
        free(f.path);
        return DP_ERR_NOMEM;
    }
    memcpy(f.path, it->path, it->path_len + 1);
    f.path_len = it->path_len;
    f.id = it->id;
    f.member_size = (int64_t)k->bytes;
    f.member_index = k->info.index;
    f.member_mtime = k->info.mtime;
    f.member_archive = (uint8_t)k->info.archive;
    f.member_compression = k->info.compression;
    f.member_unlisted = k->info.unlisted;
    f.member_local_offset = k->info.local_offset;
    if (k->hardlink != NULL) {
        f.hardlink_of = strdup(k->hardlink);
        f.hardlink_of_len = k->info.hardlink_len;
    }
    pthread_mutex_lock(&s->lock);
    enum dp_status st = scan_push_finding(s, &f);
    pthread_mutex_unlock(&s->lock);
    if (st != DP_OK) {
        free(f.path);
        free_chain(f.members, f.member_depth);
        free(f.member_lens);
        free(f.hardlink_of);
    }
    return st;
}

/* Keep what a matched member gave, for hard-link entries that name it later. */
static void remember(struct mctx *c, const struct msink *k, const struct dp_finding *f)
{
    if (c->ndone == c->capdone) {
        size_t cap = c->capdone ? c->capdone * 2 : 8;
        struct matched *n = realloc(c->done, cap * sizeof(*n));
        if (n == NULL)
            return;
        c->done = n;
        c->capdone = cap;
    }
    struct matched *m = &c->done[c->ndone];
    memset(m, 0, sizeof(*m));
    m->f = *f;
    m->f.matches = malloc(f->match_count * sizeof(*f->matches));
    if (m->f.matches == NULL || !chain_of(k, NULL, 0, &m->chain, &m->lens, &m->depth)) {
        free(m->f.matches);
        return;
    }
    memcpy(m->f.matches, f->matches, f->match_count * sizeof(*f->matches));
    c->ndone++;
}

/* The matched member a hard-link entry k names (same archive), or NULL. */
static const struct matched *link_target(const struct mctx *c, const struct msink *k)
{
    for (size_t i = 0; i < c->ndone; i++) {
        const struct matched *m = &c->done[i];
        if (m->depth != k->depth || m->lens[k->depth - 1] != k->info.hardlink_len ||
            memcmp(m->chain[k->depth - 1], k->hardlink, k->info.hardlink_len) != 0)
            continue;
        bool same = true;
        const struct msink *p = k->parent;
        for (unsigned j = k->depth - 1; same && j > 0; j--, p = p ? p->parent : NULL)
            same = p != NULL && m->lens[j - 1] == p->name_len &&
                   memcmp(m->chain[j - 1], p->name, p->name_len) == 0;
        if (same)
            return m;
    }
    return NULL;
}

/* The embedded findings carved from a member, given its chain and the member's facts; pushed.
 * found[0..n) is taken (freed here). */
static enum dp_status push_carved(struct mctx *c, const struct msink *k,
                                  struct dp_finding *found, size_t n)
{
    struct scan *s = c->w->s;
    enum dp_status st = DP_OK;
    size_t pushed = 0;
    pthread_mutex_lock(&s->lock);
    for (; pushed < n && st == DP_OK; pushed++) {
        struct dp_finding *f = &found[pushed];
        if (!chain_of(k, NULL, 0, &f->members, &f->member_lens, &f->member_depth)) {
            st = DP_ERR_NOMEM;
            break;
        }
        f->member_size = (int64_t)k->bytes;
        f->member_index = k->info.index;
        f->member_mtime = k->info.mtime;
        f->member_archive = (uint8_t)k->info.archive;
        f->member_compression = k->info.compression;
        f->member_unlisted = k->info.unlisted;
        f->member_local_offset = k->info.local_offset;
        if ((st = scan_push_finding(s, f)) != DP_OK) {
            free_chain(f->members, f->member_depth);
            free(f->member_lens);
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    scan_free_findings(found + pushed, n - pushed); /* those not handed to the result */
    free(found);
    return st;
}

/* A member read whole: carved when it was held (not an archive, not over the limit); a member
 * over the limit is recorded as not carved. decoded: it was decoded as an image. */
static enum dp_status carve_member(struct mctx *c, struct msink *k, bool decoded)
{
    struct scan *s = c->w->s;
    const char *limit = NULL;
    char d[256];
    if (k->carve_too_large || k->carve_oom) {
        if (k->carve_oom)
            snprintf(d, sizeof(d), "not carved: out of memory holding the member to search it "
                     "for embedded images (it was digested whole)");
        else
            snprintf(d, sizeof(d), "not carved: a member of more than %llu bytes is not held "
                     "in memory to be searched for embedded images (it was digested whole)",
                     (unsigned long long)s->res->carve_max_stream);
        limit = d;
    } else if (!k->carve || k->nested || k->dropped || k->img_len != k->bytes ||
               dp_archive_sniff(k->head, k->head_len) != DP_ARCHIVE_NONE) {
        return DP_OK;
    } else {
        struct dp_finding *found = NULL;
        size_t n = scan_carve_member(c->w, c->it, k->img, k->img_len, decoded, &found, &limit);
        enum dp_status st = n == SIZE_MAX ? DP_ERR_NOMEM : push_carved(c, k, found, n);
        if (st != DP_OK || limit == NULL)
            return st;
        snprintf(d, sizeof(d), "carving stopped at a limit (%s): the member was digested "
                 "whole, its later embedded streams were not examined", limit);
        limit = d;
    }
    char **chain = NULL;
    size_t *lens = NULL;
    unsigned depth = 0;
    if (!chain_of(k, NULL, 0, &chain, &lens, &depth))
        return DP_ERR_NOMEM;
    pthread_mutex_lock(&s->lock);
    if (k->carve_too_large || k->carve_oom)
        s->res->totals.members_too_large++;
    else
        s->res->totals.carve_limited++;
    enum dp_status st = scan_carve_limit_skip(s, c->it, chain, lens, depth, limit);
    pthread_mutex_unlock(&s->lock);
    if (st != DP_OK) {
        free_chain(chain, depth);
        free(lens);
    }
    return st;
}

static enum dp_status end(void *ctx, void *sink, bool ok, const char *detail)
{
    struct mctx *c = ctx;
    struct msink *k = sink;
    struct scan *s = c->w->s;
    enum dp_status st = DP_OK;
    struct dp_finding f = {.digest_mask = c->mask};
    struct scan_pdq_outcome po = {0};
    bool undecodable = false, carve = false; /* carve: read whole, examined as a member */
    if (k->hardlink != NULL) {
        const struct matched *t = link_target(c, k);
        if (t != NULL) {
            f = t->f;
            f.matches = malloc(t->f.match_count * sizeof(*f.matches));
            if (f.matches == NULL) {
                st = DP_ERR_NOMEM;
            } else {
                memcpy(f.matches, t->f.matches, t->f.match_count * sizeof(*f.matches));
                k->bytes = (uint64_t)t->f.member_size;
                st = add_member_finding(c, k, f);
                if (st != DP_OK)
                    free(f.matches);
            }
        }
        goto out;
    }
    dp_digest_end(k->dg, f.digests);
    if (!ok && detail == NULL) /* a limit stopped it: its skip is recorded */
        goto out;
    if (!ok) { /* a member that broke off: recorded as not examined, never matched */
        struct dp_skip sk = {.member_reason = DP_MEMBER_CORRUPT,
                             .detail = strdup(detail ? detail : "unreadable member")};
        if (!chain_of(k->parent, k->name, k->name_len, &sk.members, &sk.member_lens,
                      &sk.member_depth)) {
            free(sk.detail);
            st = DP_ERR_NOMEM;
            goto out;
        }
        pthread_mutex_lock(&s->lock);
        s->res->totals.archive_skipped[DP_MEMBER_CORRUPT]++;
        st = scan_add_skip_rec(s, c->it->path, c->it->path_len, sk);
        pthread_mutex_unlock(&s->lock);
        goto out;
    }
    struct dp_match *m = NULL;
    size_t mc = scan_collect_matches(s, f.digests, &m);
    if (mc == SIZE_MAX) {
        st = DP_ERR_NOMEM;
        goto out;
    }
    carve = true;
    if (k->image && k->img != NULL && !k->image_too_large) {
        struct dp_error pe = {0};
        undecodable = scan_pdq_match(&s->pdq, k->img, k->img_len, &po, &pe) != DP_OK;
        if (po.count > 0) {
            struct dp_match *all = realloc(m, (mc + po.count) * sizeof(*all));
            if (all == NULL) {
                free(m);
                st = DP_ERR_NOMEM;
                goto out;
            }
            memcpy(all + mc, po.matches, po.count * sizeof(*all));
            m = all;
            mc += po.count;
        }
    }
    pthread_mutex_lock(&s->lock);
    s->res->totals.images_decoded += po.decoded;
    s->res->totals.images_undecodable += k->image && k->img != NULL && undecodable;
    s->res->totals.images_too_large += k->image_too_large;
    pthread_mutex_unlock(&s->lock);
    if (mc == 0)
        goto out;
    f.matches = m;
    f.match_count = mc;
    scan_finding_pdq(&f, &po);
    f.perceptual_only = true;
    for (size_t i = 0; i < mc; i++)
        f.perceptual_only &= m[i].algo == DP_ALGO_PDQ;
    scan_classify_head(c->w, k->head, k->head_len, f.mime, sizeof(f.mime));
    f.member_size = (int64_t)k->bytes;
    remember(c, k, &f);
    st = add_member_finding(c, k, f);
    if (st != DP_OK)
        free(m);
out:
    if (carve && st == DP_OK)
        st = carve_member(c, k, po.decoded);
    free(po.matches);
    free(k->img);
    free(k->name);
    free(k->hardlink);
    free(k);
    return st;
}

static void skip(void *ctx, void *parent, const struct dp_member_info *m,
                 enum dp_member_skip reason, const char *detail)
{
    struct mctx *c = ctx;
    struct scan *s = c->w->s;
    struct dp_skip sk = {.member_reason = (int)reason, .detail = strdup(detail ? detail : "")};
    bool ok = sk.detail != NULL &&
              chain_of(parent, m ? m->name : NULL, m ? m->name_len : 0, &sk.members,
                       &sk.member_lens, &sk.member_depth);
    pthread_mutex_lock(&s->lock);
    s->res->totals.archive_skipped[reason]++;
    if (!ok || scan_add_skip_rec(s, c->it->path, c->it->path_len, sk) != DP_OK) {
        free(sk.detail);
        scan_set_fatal(s, DP_ERR_NOMEM, "out of memory recording a skipped member");
    }
    pthread_mutex_unlock(&s->lock);
}

void scan_archive(struct worker *w, const struct item *it, enum dp_archive_kind kind)
{
    struct scan *s = w->s;
    struct mctx c = {.w = w, .it = it, .mask = s->mask | DP_DIGEST_MASK(DP_ALGO_SHA256)};
    const struct dp_archive_visitor v = {begin, data, end, skip, &c};
    struct dp_archive_stats stats = {0};
    struct dp_error e = {0};
    enum dp_status st =
        dp_archive_scan(it->fd, it->id.size, kind, &s->res->archive_limits, &v, &stats, &e);
    pthread_mutex_lock(&s->lock);
    s->res->totals.archives += stats.archives;
    s->res->totals.archive_members += stats.members;
    s->res->totals.archive_bytes += stats.bytes;
    if (st == DP_ERR_NOMEM)
        scan_set_fatal(s, st, "out of memory reading an archive");
    else if (st != DP_OK) {
        struct dp_skip sk = {.member_reason = DP_MEMBER_CORRUPT, .detail = strdup(e.msg)};
        s->res->totals.archive_skipped[DP_MEMBER_CORRUPT]++;
        if (scan_add_skip_rec(s, it->path, it->path_len, sk) != DP_OK)
            scan_set_fatal(s, DP_ERR_NOMEM, "out of memory recording a skipped member");
    }
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < c.ndone; i++) {
        free_chain(c.done[i].chain, c.done[i].depth);
        free(c.done[i].lens);
        free(c.done[i].f.matches);
    }
    free(c.done);
}
