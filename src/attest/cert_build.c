/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: building the erasure certificate from the scan report, the wipe result and the
 * re-scan report (docs/certificate.md); it copies facts, never adds claims. */
#include "deprive/cert.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/assurance.h"
#include "deprive/json.h"
#include "deprive/report.h"
#include "deprive/sign.h"
#include "deprive/util.h"

struct bld {
    bool oom;
};

static void put(struct bld *b, json_t *o, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0)
        b->oom = true;
}

static void push(struct bld *b, json_t *a, json_t *v)
{
    if (v == NULL || json_array_append_new(a, v) != 0)
        b->oom = true;
}

static enum dp_status check_report(const json_t *r, const char *what, struct dp_error *err)
{
    const char *fmt = json_string_value(json_object_get(r, "format"));
    if (fmt == NULL || strcmp(fmt, DP_REPORT_FORMAT) != 0 ||
        json_integer_value(json_object_get(r, "version")) != DP_REPORT_VERSION)
        return dp_error_set(err, DP_ERR_INVALID, 0, "%s is not a deprive scan report (version %d)",
                            what, DP_REPORT_VERSION);
    if (!json_is_array(json_object_get(r, "findings")) ||
        !json_is_object(json_object_get(r, "totals")) ||
        !json_is_array(json_object_get(r, "hash_lists")) ||
        !json_is_array(json_object_get(r, "skips")) || json_object_get(r, "root_abs") == NULL)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "%s lacks findings, totals, skips, hash_lists or root_abs", what);
    const json_t *n = cert_jpath(r, "totals.findings");
    if (!json_is_integer(n) ||
        (size_t)json_integer_value(n) != json_array_size(json_object_get(r, "findings")))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "%s: totals.findings differs from the number of findings", what);
    return DP_OK;
}

/* The base name of a path element, as a path element. */
static json_t *base_name_json(const json_t *el)
{
    char *raw = NULL;
    size_t n = 0;
    if (!dp_json_bytes_get(el, &raw, &n))
        return json_string("?");
    const char *slash = memrchr(raw, '/', n);
    const char *b = slash ? slash + 1 : raw;
    json_t *r = dp_json_bytes(b, n - (size_t)(b - raw));
    free(raw);
    return r;
}

static enum dp_status build_hash_set(struct bld *b, json_t *cert, const json_t *scan,
                                     struct dp_error *err)
{
    json_t *lists = json_array(), *tot = json_object();
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(scan, "hash_lists"), i, l)
    {
        const char *sha = json_string_value(json_object_get(l, "sha256"));
        const json_t *ent = json_object_get(l, "entries");
        if (!cert_is_hex(sha, 64, false) || !json_is_object(ent)) {
            json_decref(lists);
            json_decref(tot);
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "scan report: hash list %zu lacks sha256 or entries", i);
        }
        json_t *o = json_object();
        put(b, o, "file", base_name_json(json_object_get(l, "file")));
        put(b, o, "sha256", json_string(sha));
        put(b, o, "format", cert_copy_or_null(json_object_get(l, "format")));
        put(b, o, "entries", json_deep_copy(ent));
        push(b, lists, o);
        const char *algo;
        json_t *cnt;
        json_object_foreach((json_t *)ent, algo, cnt)
        {
            json_int_t have = json_integer_value(json_object_get(tot, algo));
            put(b, tot, algo, json_integer(have + json_integer_value(cnt)));
        }
    }
    if (cert_jpath_set(cert, "hash_set.lists", lists) != 0 ||
        cert_jpath_set(cert, "hash_set.entries", tot) != 0 ||
        cert_jpath_set(cert, "hash_set.perceptual_thresholds",
                       json_is_true(cert_jpath(scan, "scope.perceptual.used"))
                           ? json_pack("{s:O, s:O, s:O?}", "pdq",
                                       cert_jpath(scan, "scope.perceptual.threshold"), "dihedral",
                                       cert_jpath(scan, "scope.perceptual.dihedral"), "decoders",
                                       cert_jpath(scan, "scope.perceptual.decoders"))
                           : json_null()) != 0)
        b->oom = true;
    return DP_OK;
}

/* One "matched" record of a finding, normalised: list by base name, never the label. */
static json_t *match_json(struct bld *b, const json_t *m)
{
    json_t *o = json_object();
    const char *method = json_string_value(json_object_get(m, "method"));
    const json_t *dist = json_object_get(m, "distance");
    put(b, o, "method", json_string(method ? method : "exact"));
    put(b, o, "algo", cert_copy_or_null(json_object_get(m, "algo")));
    put(b, o, "list", base_name_json(json_object_get(m, "list")));
    put(b, o, "line", cert_copy_or_null(json_object_get(m, "line")));
    put(b, o, "distance",
        dist                                               ? json_deep_copy(dist)
        : (method == NULL || strcmp(method, "exact") == 0) ? json_integer(0)
                                                           : json_null());
    return o;
}

static void add_matches(struct bld *b, json_t *matched, const json_t *finding)
{
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(finding, "matched"), i, m)
    {
        json_t *o = match_json(b, m);
        bool dup = false;
        for (size_t k = 0; o && !dup && k < json_array_size(matched); k++)
            dup = json_equal(json_array_get(matched, k), o);
        if (dup)
            json_decref(o);
        else
            push(b, matched, o);
    }
}

/* Every digest the wipe re-checked must equal the scanned one. */
static bool digests_agree(const json_t *wipe_dg, const json_t *scan_dg)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)wipe_dg, k, v)
    {
        const json_t *s = json_object_get(scan_dg, k);
        if (s != NULL && !json_equal(s, v))
            return false;
    }
    return true;
}

/* Fields shared by every target: identity and matches from the scan finding. */
static void target_common(struct bld *b, json_t *o, const json_t *f, const char *method)
{
    put(b, o, "device", cert_copy_or_null(json_object_get(f, "device")));
    put(b, o, "inode", cert_copy_or_null(json_object_get(f, "inode")));
    put(b, o, "size", cert_copy_or_null(json_object_get(f, "size")));
    put(b, o, "digests", cert_copy_or_null(json_object_get(f, "digests")));
    put(b, o, "links_at_scan", cert_copy_or_null(json_object_get(f, "links")));
    put(b, o, "mime", cert_copy_or_null(json_object_get(f, "mime")));
    put(b, o, "member", cert_copy_or_null(json_object_get(f, "member")));
    put(b, o, "embedded", cert_copy_or_null(json_object_get(f, "embedded")));
    if (json_is_object(json_object_get(f, "remnant"))) /* where the sweep found it */
        put(b, o, "remnant", json_deep_copy(json_object_get(f, "remnant")));
    put(b, o, "method", method ? json_string(method) : json_null());
}

static const char *action_of(const char *status, const json_t *t)
{
    const json_t *archive = json_object_get(t, "archive"), *embedded = json_object_get(t, "embedded");
    const char *em = json_string_value(json_object_get(embedded, "method"));
    enum dp_wipe_status s = DP_WIPE_SKIPPED;
    if (!dp_wipe_status_parse(status, &s) || s == DP_WIPE_SKIPPED || s == DP_WIPE_PLANNED ||
        s == DP_WIPE_REJECTED)
        return "none";
    if (s != DP_WIPE_ERASED)
        return "attempted, not erased";
    const char *by = json_string_value(json_object_get(json_object_get(t, "remnant"),
                                                       "removed_by"));
    if (by != NULL && strcmp(by, "slack scrub") == 0)
        return "a copy in the slack past the end of a live file: that slack overwritten, the "
               "file's content proved unchanged, its range read back from the device with none "
               "of its bytes left";
    if (by != NULL)
        return "a deleted copy in free space: the filesystem's free space filled with a keyed "
               "stream, and its range read back from the device with none of its bytes left";
    if (em != NULL && strcmp(em, "overwrite-range") == 0)
        return "its byte range overwritten in place and read back; every byte of the container "
               "outside the range proved unchanged";
    if (em != NULL && strcmp(em, "replace-member") == 0)
        return "its byte range zeroed in the archive member holding it, the archive written "
               "again and read back (the member's bytes outside the range proved unchanged, "
               "every other member's content unchanged); the old archive overwritten, read back "
               "and replaced";
    if (em != NULL && strcmp(em, "wipe-container") == 0 && archive != NULL)
        return "erased with the whole archive member holding it (--embedded=wipe-container): "
               "the archive written again without that member and read back; the old archive "
               "overwritten, read back and replaced";
    if (em != NULL && strcmp(em, "wipe-container") == 0)
        return "erased with its whole container (--embedded=wipe-container): overwritten, read "
               "back, renamed and unlinked";
    if (em != NULL && strcmp(em, "with-container") == 0)
        return "erased with its container, which matched as a whole";
    if (json_is_true(json_object_get(archive, "rewritten")))
        return "archive written again without it and read back; the old archive overwritten, "
               "read back and replaced";
    if (json_is_true(json_object_get(archive, "wiped_whole")))
        return "erased with its whole archive: overwritten, read back, renamed and unlinked";
    return "overwritten, read back, renamed and unlinked";
}

/* What the targets of one certificate share while they are built. */
struct targets_ctx {
    struct bld *b;
    const json_t *findings; /* the scan report's findings */
    unsigned char *covered; /* per finding: a wipe target named it already */
    const char *method;     /* the wipe method */
};

/* One wipe target being built. */
struct target_acc {
    const json_t *t;     /* the wipe result's target */
    size_t i;            /* its index there */
    json_t *names;       /* the certificate's names[] */
    json_t *matched;     /* the certificate's matched[], without duplicates */
    const json_t *first; /* the scan finding of its first name */
};

/* The wipe target's inode, size and re-checked digests, where it has them, are the finding's. */
static bool same_identity(const json_t *t, const json_t *f)
{
    const json_t *wd = json_object_get(t, "digests");
    if (wd != NULL && !digests_agree(wd, json_object_get(f, "digests")))
        return false;
    static const char *const keys[] = {"inode", "size"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const json_t *v = json_object_get(t, keys[i]);
        if (v != NULL && !json_equal(v, json_object_get(f, keys[i])))
            return false;
    }
    return true;
}

/* Name j of a wipe target: it must name (plan_index) a scan finding not named before, at the
 * same location and of the same identity; that finding is then covered. */
static enum dp_status add_wipe_name(struct targets_ctx *c, struct target_acc *g, const json_t *nm,
                                    size_t j, struct dp_error *err)
{
    const json_t *pi = json_object_get(nm, "plan_index");
    json_int_t k = json_integer_value(pi);
    if (!json_is_integer(pi) || k < 0 || (size_t)k >= json_array_size(c->findings))
        return dp_error_set(err, DP_ERR_INVALID, 0, "wipe target %zu name %zu: bad plan_index",
                            g->i, j);
    const json_t *f = json_array_get(c->findings, (size_t)k);
    if (!json_equal(json_object_get(nm, "location"), json_object_get(f, "location")) ||
        c->covered[k])
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "wipe target %zu name %zu: location "
                            "differs from scan finding %lld, or that finding is named twice",
                            g->i, j, (long long)k);
    if (!same_identity(g->t, f))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "wipe target %zu: inode, size or digests "
                            "differ from scan finding %lld",
                            g->i, (long long)k);
    c->covered[k] = 1;
    g->first = g->first ? g->first : f;
    json_t *no = json_object();
    put(c->b, no, "location", json_deep_copy(json_object_get(f, "location")));
    put(c->b, no, "finding", json_integer(k));
    put(c->b, no, "removed", json_boolean(json_is_true(json_object_get(nm, "removed"))));
    push(c->b, g->names, no);
    add_matches(c->b, g->matched, f);
    return DP_OK;
}

/* The certificate's target from a wipe target whose names were all added. */
static json_t *wipe_target_fields(struct targets_ctx *c, const struct target_acc *g,
                                  const char *status)
{
    struct bld *b = c->b;
    const json_t *t = g->t;
    json_t *o = json_object();
    target_common(b, o, g->first, c->method);
    put(b, o, "names", json_incref(g->names));
    put(b, o, "matched", json_incref(g->matched));
    put(b, o, "status", json_string(status));
    put(b, o, "action", json_string(action_of(status, t)));
    put(b, o, "links_remaining", cert_copy_or_null(json_object_get(t, "links_remaining")));
    put(b, o, "overwrite", cert_copy_or_null(json_object_get(t, "overwrite")));
    put(b, o, "verification", cert_copy_or_null(json_object_get(t, "verification")));
    put(b, o, "extents", cert_copy_or_null(json_object_get(t, "extents")));
    put(b, o, "assurance", cert_copy_or_null(json_object_get(t, "assurance")));
    const json_t *facts = json_object_get(t, "assurance_facts");
    put(b, o, "assurance_facts", facts ? json_deep_copy(facts) : json_array());
    put(b, o, "reason", cert_copy_or_null(json_object_get(t, "reason")));
    put(b, o, "perceptual_only", json_boolean(json_is_true(json_object_get(t, "perceptual_only"))));
    json_t *match = cert_copy_or_null(json_object_get(t, "match"));
    if (json_is_object(match)) /* the list by its name, as in matched[] */
        put(b, match, "list", base_name_json(json_object_get(match, "list")));
    put(b, o, "match", match);
    put(b, o, "consent", cert_copy_or_null(json_object_get(t, "consent")));
    put(b, o, "pdq", cert_copy_or_null(json_object_get(t, "pdq")));
    put(b, o, "archive", cert_copy_or_null(json_object_get(t, "archive")));
    if (json_is_object(json_object_get(t, "embedded"))) /* what the wipe did to the range */
        put(b, o, "embedded", json_deep_copy(json_object_get(t, "embedded")));
    if (json_is_object(json_object_get(t, "remnant"))) { /* what removed the remnant */
        put(b, o, "remnant", json_deep_copy(json_object_get(t, "remnant")));
        put(b, o, "method", cert_copy_or_null(cert_jpath(t, "remnant.removed_by")));
    }
    return o;
}

static enum dp_status wipe_target_json(struct targets_ctx *c, json_t **out, const json_t *t,
                                       size_t i, struct dp_error *err)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    const json_t *names = json_object_get(t, "names");
    if (status == NULL) /* check_wipe vetted every status */
        dp_misuse("wipe_target_json: unchecked wipe result");
    if (!json_is_array(names) || json_array_size(names) == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "wipe target %zu: no names", i);
    struct target_acc g = {t, i, json_array(), json_array(), NULL};
    enum dp_status st = DP_OK;
    size_t j;
    const json_t *nm;
    json_array_foreach(names, j, nm)
    {
        if ((st = add_wipe_name(c, &g, nm, j, err)) != DP_OK)
            break;
    }
    if (st == DP_OK)
        *out = wipe_target_fields(c, &g, status);
    json_decref(g.names);
    json_decref(g.matched);
    return st;
}

/* A scan finding no wipe target covers: it was not erased. */
static json_t *uncovered_json(struct bld *b, const json_t *f, size_t k, const char *method)
{
    json_t *o = json_object(), *names = json_array(), *no = json_object(), *matched = json_array();
    put(b, no, "location", json_deep_copy(json_object_get(f, "location")));
    put(b, no, "finding", json_integer((json_int_t)k));
    put(b, no, "removed", json_false());
    push(b, names, no);
    add_matches(b, matched, f);
    target_common(b, o, f, method);
    put(b, o, "names", names);
    put(b, o, "matched", matched);
    put(b, o, "status", json_string(dp_wipe_status_name(DP_WIPE_SKIPPED)));
    put(b, o, "action", json_string("none"));
    put(b, o, "links_remaining", json_null());
    put(b, o, "overwrite", json_null());
    put(b, o, "verification", json_null());
    put(b, o, "extents", json_null());
    put(b, o, "assurance", json_string(dp_assurance_name(DP_ASSURE_NOT_ERASED)));
    put(b, o, "assurance_facts", json_array());
    put(b, o, "reason", json_string("not in the wipe result (not attempted)"));
    return o;
}

static enum dp_status build_targets(struct bld *b, json_t *cert, const json_t *scan,
                                    const json_t *wipe, struct dp_error *err)
{
    const json_t *wt = json_object_get(wipe, "targets");
    struct targets_ctx c = {b, json_object_get(scan, "findings"), NULL,
                            json_string_value(json_object_get(wipe, "method"))};
    size_t nf = json_array_size(c.findings), i;
    if (!json_is_array(wt))
        return dp_error_set(err, DP_ERR_INVALID, 0, "wipe result has no targets array");
    c.covered = calloc(nf ? nf : 1, 1);
    json_t *targets = json_array();
    enum dp_status st = DP_OK;
    if (c.covered == NULL || targets == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    const json_t *t;
    json_array_foreach(wt, i, t)
    {
        json_t *o = NULL;
        if ((st = wipe_target_json(&c, &o, t, i, err)) != DP_OK)
            goto out;
        push(b, targets, o);
    }
    for (size_t k = 0; k < nf; k++)
        if (!c.covered[k])
            push(b, targets, uncovered_json(b, json_array_get(c.findings, k), k, c.method));
    put(b, cert, "targets", json_incref(targets));
out:
    free(c.covered);
    json_decref(targets);
    return st;
}

static json_t *list_shas(const json_t *report)
{
    json_t *a = json_array();
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(report, "hash_lists"), i, l)
        json_array_append_new(a, cert_copy_or_null(json_object_get(l, "sha256")));
    return a;
}

/* The re-scan read the scan's root with the same lists, and crossed mounts if the scan did. */
static bool rescan_covers(const json_t *scan, const json_t *rescan)
{
    json_t *shas = list_shas(rescan), *want = list_shas(scan);
    bool same = json_equal(shas, want);
    json_decref(shas);
    json_decref(want);
    bool scan_cross = json_is_true(cert_jpath(scan, "scope.cross_mounts"));
    bool re_cross = json_is_true(cert_jpath(rescan, "scope.cross_mounts"));
    return same &&
           json_equal(json_object_get(rescan, "root_abs"), json_object_get(scan, "root_abs")) &&
           !(scan_cross && !re_cross);
}

/* The wipe target a perceptual-only re-scan finding is, when the examiner decided against it
 * or has not decided: the same inode (device, inode) with the same digests, perceptual-only,
 * rejected, or skipped for want of a decision (not for another reason: an embedded copy left
 * by --embedded=report-only or the SQLite rules, a file changed since the scan). NULL when
 * none. (dp_cert_check accepts any skipped one: certificates made before this distinction.) */
static const json_t *left_by_decision(const json_t *wipe, const json_t *f)
{
    if (!json_is_true(json_object_get(f, "perceptual_only")))
        return NULL;
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(wipe, "targets"), i, t)
    {
        const char *s = json_string_value(json_object_get(t, "status"));
        const char *why = json_string_value(json_object_get(t, "reason"));
        bool undecided = s != NULL && strcmp(s, "skipped") == 0 && why != NULL &&
                         strncmp(why, "perceptual-only match", 21) == 0;
        if (json_is_true(json_object_get(t, "perceptual_only")) && s != NULL &&
            (strcmp(s, "rejected") == 0 || undecided) &&
            json_equal(json_object_get(t, "device"), json_object_get(f, "device")) &&
            json_equal(json_object_get(t, "inode"), json_object_get(f, "inode")) &&
            json_equal(json_object_get(t, "digests"), json_object_get(f, "digests")))
            return t;
    }
    return NULL;
}

/* Every match the re-scan still found (location and digests) into remaining, except the
 * perceptual-only candidates a person decided against or has yet to decide on: those go to
 * decided, with the wipe's status and reason. */
static void remaining_json(struct bld *b, const json_t *rescan, const json_t *wipe,
                           json_t *remaining, json_t *decided)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(rescan, "findings"), i, f)
    {
        const json_t *t = left_by_decision(wipe, f);
        json_t *r = json_object();
        put(b, r, "location", cert_copy_or_null(json_object_get(f, "location")));
        put(b, r, "digests", cert_copy_or_null(json_object_get(f, "digests")));
        if (t != NULL) {
            put(b, r, "status", cert_copy_or_null(json_object_get(t, "status")));
            put(b, r, "reason", cert_copy_or_null(json_object_get(t, "reason")));
        }
        push(b, t != NULL ? decided : remaining, r);
    }
}

static enum dp_status build_rescan(struct bld *b, json_t *outcome, const json_t *scan,
                                   const json_t *wipe, const json_t *rescan,
                                   struct dp_error *err)
{
    json_t *o = json_object();
    put(b, outcome, "rescan", o);
    if (rescan == NULL) {
        put(b, o, "performed", json_false());
        return DP_OK;
    }
    enum dp_status st = check_report(rescan, "re-scan report", err);
    if (st != DP_OK)
        return st;
    if (!rescan_covers(scan, rescan))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "the re-scan did not cover the scan's root, "
                            "filesystems and hash lists");
    json_t *remaining = json_array(), *decided = json_array();
    remaining_json(b, rescan, wipe, remaining, decided);
    put(b, o, "performed", json_true());
    put(b, o, "started", cert_copy_or_null(json_object_get(rescan, "started")));
    put(b, o, "finished", cert_copy_or_null(json_object_get(rescan, "finished")));
    put(b, o, "root", cert_copy_or_null(json_object_get(rescan, "root_abs")));
    put(b, o, "one_filesystem",
        json_boolean(!json_is_true(cert_jpath(rescan, "scope.cross_mounts"))));
    put(b, o, "hash_lists", list_shas(rescan));
    put(b, o, "totals", json_deep_copy(json_object_get(rescan, "totals")));
    put(b, o, "findings", json_integer((json_int_t)json_array_size(remaining)));
    put(b, o, "remaining", remaining);
    put(b, o, "left_by_decision", decided);
    return DP_OK;
}

/* Statements every certificate carries, then those that depend on this run. */
static void add_risk(struct bld *b, json_t *risks, const char *text)
{
    for (size_t i = 0; i < json_array_size(risks); i++)
        if (strcmp(json_string_value(json_array_get(risks, i)), text) == 0)
            return;
    push(b, risks, json_string(text));
}

/* What the run's matching could and could not see (docs/certificate.md, "Residual risks" 2). */
static const char *matching_statement(const json_t *scan)
{
    static _Thread_local char t[1600];
    const json_t *arch = cert_jpath(scan, "scope.archives");
    char archives[1100];
    if (json_is_true(json_object_get(arch, "used")))
        snprintf(archives, sizeof(archives),
                 " Archives (zip, tar, 7z, rar, cpio, ISO 9660, compressed files) were opened and "
                 "their members examined the same way, nested up to %lld levels; what could not "
                 "be examined is listed among the skips.",
                 (long long)json_integer_value(json_object_get(arch, "max_depth")));
    else if (arch != NULL)
        snprintf(archives, sizeof(archives),
                 " Archives were not opened (--no-archives): copies inside them were not "
                 "searched for.");
    else
        snprintf(archives, sizeof(archives),
                 " Archives were not opened by this version: copies inside them were not "
                 "searched for.");
    const json_t *carv = cert_jpath(scan, "scope.carving");
    char carved[520];
    bool in_members = json_is_true(json_object_get(carv, "inside_archive_members"));
    if (json_is_true(json_object_get(carv, "used")))
        snprintf(carved, sizeof(carved),
                 " Every file read was also searched for embedded images (JPEG, PNG, GIF, WebP, "
                 "BMP streams up to %lld bytes: thumbnail caches, databases, documents, EXIF "
                 "thumbnails), each matched the same way, and SQLite records stored across "
                 "overflow pages were put back together first; any other stream stored in "
                 "pieces (a fragmented file), a stream cut short, and %s are not found.",
                 (long long)json_integer_value(json_object_get(carv, "max_stream")),
                 in_members ? "streams inside archive members larger than that (each a "
                              "recorded limit) or inside a single compressed file"
                            : "streams inside archive members");
    else
        snprintf(carved, sizeof(carved), " Copies embedded inside other files were not searched "
                                         "for%s.",
                 carv != NULL ? " (--no-carve)" : "");
    strncat(archives, carved, sizeof(archives) - strlen(archives) - 1);
    if (!json_is_true(cert_jpath(scan, "scope.perceptual.used"))) {
        snprintf(t, sizeof(t),
                 "Only exact copies were searched for: a file matches when its MD5, SHA-1 or "
                 "SHA-256 equals an entry of the hash lists. The hash lists held no perceptual "
                 "(PDQ) hashes, so edited, re-encoded, resized, rotated or partial copies were "
                 "not searched for.%s",
                 archives);
        return t;
    }
    snprintf(t, sizeof(t),
             "Exact copies (MD5, SHA-1, SHA-256) and perceptual copies were searched for: an "
             "image matches when its PDQ hash is within Hamming distance %lld of an entry%s. "
             "Heavily cropped, edited or partial copies and formats deprive does not decode "
             "are not found. A perceptual-only match was "
             "erased only with an examiner's recorded consent, which its target states.%s",
             (long long)json_integer_value(cert_jpath(scan, "scope.perceptual.threshold")),
             json_is_true(cert_jpath(scan, "scope.perceptual.dihedral"))
                 ? " (rotated and mirrored copies included)"
                 : "",
             archives);
    return t;
}

/* What was searched outside the files: the device swept for deleted copies, or not. */
static const char *sweep_statement(const json_t *scan)
{
    if (!json_is_object(json_object_get(scan, "sweep")))
        return "Deleted copies in unallocated space were not searched for (the scan did not "
               "sweep the device): a file deleted before the scan may still be recoverable.";
    return "The filesystem's device was also swept from start to end for deleted copies, before "
           "the wipe and again after it; a copy stored in pieces (fragmented) is not found, "
           "other partitions, unpartitioned space and HPA/DCO areas were not swept, and a copy "
           "in filesystem metadata, in space the filesystem keeps back, or in a file's slack "
           "(unless --scrub-slack was given) cannot be reached by the free-space fill (such "
           "remnants are listed as not erased).";
}

/* The fixed statements after the scope ones (docs/certificate.md, "Residual risks" 4 to 6). */
static const char *const fixed_risks[] = {
    "Filesystem journal: a journaling filesystem (ext3/4, XFS, NTFS) may keep "
    "copies of metadata, and of file data when data journaling is enabled, in "
    "its journal until they are overwritten.",
    "Copy-on-write and log-structured filesystems (btrfs, ZFS, F2FS, APFS) and "
    "snapshots write overwrites to new blocks; the old blocks may survive until "
    "they are reused.",
    "Flash media (SSDs, USB sticks, memory cards, phones) remap writes (wear "
    "levelling, over-provisioning): old copies may remain in cells the operating "
    "system cannot address; only a device-level sanitize or physical "
    "destruction removes them.",
};

static json_t *build_risks(struct bld *b, const json_t *scan, const json_t *wipe)
{
    json_t *r = json_array();
    bool one_fs = !json_is_true(cert_jpath(scan, "scope.cross_mounts"));
    add_risk(b, r,
             one_fs ? "Only this device, under the scanned root and on its filesystem only, was "
                      "examined. Copies elsewhere (cloud storage and online accounts, backups, "
                      "other devices, other partitions or filesystems mounted below the root) "
                      "are not covered by this certificate."
                    : "Only this device, under the scanned root, was examined. Copies elsewhere "
                      "(cloud storage and online accounts, backups, other devices, other "
                      "partitions) are not covered by this certificate.");
    add_risk(b, r, matching_statement(scan));
    add_risk(b, r, sweep_statement(scan));
    for (size_t i = 0; i < sizeof(fixed_risks) / sizeof(fixed_risks[0]); i++)
        add_risk(b, r, fixed_risks[i]);
    json_int_t skipped = json_integer_value(cert_jpath(scan, "totals.skipped"));
    if (skipped > 0) {
        char t[256];
        snprintf(t, sizeof(t),
                 "%lld object(s) could not be examined during the scan (listed "
                 "under scan.skips with the reason); matches among them cannot be excluded.",
                 (long long)skipped);
        add_risk(b, r, t);
    }
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(wipe, "residual_risks"), i, s) if (json_is_string(s))
        add_risk(b, r, json_string_value(s));
    return r;
}

static json_t *build_identity(struct bld *b, const json_t *scan, const json_t *wipe,
                              const json_t *rescan)
{
    char id[40], now[32], host[256];
    dp_uuid4(id, sizeof(id));
    dp_utc_format(now, sizeof(now), time(NULL));
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    json_t *o = json_object();
    json_t *hs = json_string(host);
    put(b, o, "certificate_id", json_string(id));
    put(b, o, "issued", json_string(now));
    put(b, o, "host", hs ? hs : json_string("?"));
    put(b, o, "tool", cert_copy_or_null(json_object_get(scan, "tool")));
    put(b, o, "started", cert_copy_or_null(json_object_get(scan, "started")));
    put(b, o, "finished", cert_copy_or_null(json_object_get(rescan ? rescan : wipe, "finished")));
    return o;
}

/* The keys of from (null where absent) into o. */
static void copy_keys(struct bld *b, json_t *o, const json_t *from, const char *const *keys,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(b, o, keys[i], cert_copy_or_null(json_object_get(from, keys[i])));
}

/* The sweep of one scan: how much, what it found, what was left. */
static json_t *sweep_pass(struct bld *b, const json_t *report)
{
    static const char *const keys[] = {"bytes_swept", "bytes_skipped_live", "streams",
                                       "remnants", "limited"};
    const json_t *sw = json_object_get(report, "sweep");
    if (!json_is_object(sw))
        return json_null();
    json_t *o = json_object();
    copy_keys(b, o, sw, keys, sizeof(keys) / sizeof(keys[0]));
    put(b, o, "in_live_files", json_integer((json_int_t)json_array_size(
                                   json_object_get(sw, "attributed"))));
    return o;
}

/* scan --sweep: the device swept before the wipe and again by the re-scan. */
static json_t *build_sweep(struct bld *b, const json_t *scan, const json_t *rescan)
{
    static const char *const keys[] = {"device", "device_from", "device_checked", "kind",
                                       "size", "extents", "scope"};
    const json_t *sw = json_object_get(scan, "sweep");
    if (!json_is_object(sw))
        return json_null();
    json_t *o = json_object();
    copy_keys(b, o, sw, keys, sizeof(keys) / sizeof(keys[0]));
    put(b, o, "before", sweep_pass(b, scan));
    put(b, o, "after", rescan ? sweep_pass(b, rescan) : json_null());
    return o;
}

static json_t *build_scan(struct bld *b, const json_t *scan)
{
    json_t *o = json_object();
    put(b, o, "root", cert_copy_or_null(json_object_get(scan, "root_abs")));
    put(b, o, "one_filesystem",
        json_boolean(!json_is_true(cert_jpath(scan, "scope.cross_mounts"))));
    put(b, o, "digests", cert_copy_or_null(cert_jpath(scan, "scope.digests")));
    put(b, o, "size_filter", cert_copy_or_null(cert_jpath(scan, "scope.size_filter")));
    put(b, o, "started", cert_copy_or_null(json_object_get(scan, "started")));
    put(b, o, "finished", cert_copy_or_null(json_object_get(scan, "finished")));
    put(b, o, "totals", cert_copy_or_null(json_object_get(scan, "totals")));
    put(b, o, "skips", cert_copy_or_null(json_object_get(scan, "skips")));
    return o;
}

/* Count targets by status into the outcome summary; returns the result. */
static const char *summarise(struct bld *b, json_t *outcome, const json_t *targets)
{
    json_int_t n[DP_WIPE_STATUS_COUNT] = {0}, names = 0;
    size_t i;
    const json_t *t;
    json_array_foreach(targets, i, t)
    {
        enum dp_wipe_status s = DP_WIPE_FAILED; /* checked by wipe_statuses_ok before */
        const char *name = json_string_value(json_object_get(t, "status"));
        if (name == NULL || !dp_wipe_status_parse(name, &s))
            s = DP_WIPE_FAILED;
        n[s]++;
        names += (json_int_t)json_array_size(json_object_get(t, "names"));
    }
    put(b, outcome, "summary",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "targets",
                  (json_int_t)json_array_size(targets),
                  "names", names, "erased", n[DP_WIPE_ERASED], "skipped", n[DP_WIPE_SKIPPED],
                  "rejected", n[DP_WIPE_REJECTED],
                  "failed", n[DP_WIPE_FAILED]));
    bool performed = json_is_true(cert_jpath(outcome, "rescan.performed"));
    json_int_t found = json_integer_value(cert_jpath(outcome, "rescan.findings"));
    return dp_cert_outcome_name(cert_outcome_rule(performed ? (long long)found : -1,
                                                  n[DP_WIPE_SKIPPED] + n[DP_WIPE_FAILED] == 0));
}

static enum dp_status build_outcome(struct bld *b, json_t *cert, const json_t *scan,
                                    const json_t *wipe, const json_t *rescan, struct dp_error *err)
{
    json_t *o = json_object();
    put(b, cert, "outcome", o);
    if (o == NULL)
        return DP_OK;
    enum dp_status st = build_rescan(b, o, scan, wipe, rescan, err);
    if (st != DP_OK)
        return st;
    put(b, o, "result", json_string(summarise(b, o, json_object_get(cert, "targets"))));
    json_t *w = json_object();
    put(b, w, "method", cert_copy_or_null(json_object_get(wipe, "method")));
    put(b, w, "started", cert_copy_or_null(json_object_get(wipe, "started")));
    put(b, w, "finished", cert_copy_or_null(json_object_get(wipe, "finished")));
    put(b, w, "plan_sha256", cert_copy_or_null(cert_jpath(wipe, "plan.sha256")));
    put(b, w, "cleanup", cert_copy_or_null(json_object_get(wipe, "cleanup")));
    put(b, o, "wipe", w);
    json_t *j = json_object();
    put(b, j, "head", cert_copy_or_null(cert_jpath(wipe, "journal.head")));
    put(b, j, "records", cert_copy_or_null(cert_jpath(wipe, "journal.records")));
    put(b, o, "journal", j);
    put(b, o, "residual_risks", build_risks(b, scan, wipe));
    return DP_OK;
}

/* Statuses are certifiable, and the wipe's own summary agrees with its targets. */
static enum dp_status check_wipe(const json_t *wipe, struct dp_error *err)
{
    if (json_is_true(json_object_get(wipe, "dry_run")))
        return dp_error_set(err, DP_ERR_INVALID, 0, "a dry-run wipe cannot be certified");
    const json_t *targets = json_object_get(wipe, "targets");
    if (!json_is_array(targets))
        return dp_error_set(err, DP_ERR_INVALID, 0, "wipe result has no targets array");
    json_int_t n[DP_WIPE_STATUS_COUNT] = {0};
    size_t i;
    const json_t *t;
    json_array_foreach(targets, i, t)
    {
        const char *s = json_string_value(json_object_get(t, "status"));
        enum dp_wipe_status k;
        if (s == NULL)
            return dp_error_set(err, DP_ERR_INVALID, 0, "wipe target %zu: no status", i);
        if (!dp_wipe_status_parse(s, &k))
            return dp_error_set(err, DP_ERR_INVALID, 0, "wipe target %zu: unknown status '%s'", i,
                                s);
        if (k == DP_WIPE_PLANNED)
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "wipe target %zu is only planned: a "
                                "dry run cannot be certified",
                                i);
        n[k]++;
    }
    const json_t *sum = json_object_get(wipe, "summary");
    if (sum != NULL && (json_integer_value(json_object_get(sum, "targets")) !=
                            (json_int_t)json_array_size(targets) ||
                        json_integer_value(json_object_get(sum, "erased")) != n[DP_WIPE_ERASED] ||
                        json_integer_value(json_object_get(sum, "skipped")) != n[DP_WIPE_SKIPPED] ||
                        json_integer_value(json_object_get(sum, "rejected")) != n[DP_WIPE_REJECTED] ||
                        json_integer_value(json_object_get(sum, "failed")) != n[DP_WIPE_FAILED]))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "wipe result summary disagrees with its targets");
    return DP_OK;
}

/* What dp_cert_build refuses before building anything; kid receives the signer key id in
 * upper case. */
static enum dp_status check_inputs(char kid[DP_SIGN_KEYID_HEX_SIZE], const json_t *case_details,
                                   const json_t *scan, const json_t *wipe, const char *signer_keyid,
                                   struct dp_error *err)
{
    enum dp_status st = dp_cert_case_validate(case_details, err);
    if (st == DP_OK)
        st = check_report(scan, "scan report", err);
    if (st == DP_OK)
        st = check_wipe(wipe, err);
    if (st == DP_OK && !dp_sign_keyid_parse(kid, signer_keyid))
        st = dp_error_set(err, DP_ERR_INVALID, 0, "signer key id must be 16 hex digits");
    return st;
}

/* Every case field at its path (null when not given), and the scanned filesystem. */
static void build_case(struct bld *b, json_t *cert, const json_t *case_details, const json_t *scan)
{
    size_t n = 0;
    const struct dp_cert_case_field *f = dp_cert_case_fields(&n);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = cert_jpath(case_details, f[i].path);
        if (cert_jpath_set(cert, f[i].path, json_is_string(v) ? json_deep_copy(v) : json_null()) !=
            0)
            b->oom = true;
    }
    if (cert_jpath_set(cert, "exhibit.filesystem",
                       cert_copy_or_null(json_object_get(scan, "filesystem"))) != 0)
        b->oom = true;
}

/* Fill cert from checked inputs. */
static enum dp_status assemble(json_t *cert, const json_t *case_details, const json_t *scan,
                               const json_t *wipe, const json_t *rescan, const char *kid,
                               struct dp_error *err)
{
    struct bld b = {false};
    put(&b, cert, "identity", build_identity(&b, scan, wipe, rescan));
    build_case(&b, cert, case_details, scan);
    enum dp_status st = build_hash_set(&b, cert, scan, err);
    if (st == DP_OK) {
        put(&b, cert, "scan", build_scan(&b, scan));
        st = build_targets(&b, cert, scan, wipe, err);
    }
    if (st == DP_OK && json_is_object(json_object_get(scan, "sweep")))
        put(&b, cert, "sweep", build_sweep(&b, scan, rescan));
    if (st == DP_OK && !b.oom)
        st = build_outcome(&b, cert, scan, wipe, rescan, err);
    if (st == DP_OK)
        put(&b, cert, "signer", json_pack("{s:s}", "keyid", kid));
    if (st == DP_OK && b.oom)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory building the certificate");
    return st;
}

enum dp_status dp_cert_build(json_t **out, const json_t *case_details, const json_t *scan_report,
                             const json_t *wipe_result, const json_t *rescan_report,
                             const char *signer_keyid, struct dp_error *err)
{
    char kid[DP_SIGN_KEYID_HEX_SIZE];
    enum dp_status st =
        check_inputs(kid, case_details, scan_report, wipe_result, signer_keyid, err);
    if (st != DP_OK)
        return st;
    json_t *cert = json_pack("{s:s, s:i}", "format", DP_CERT_FORMAT, "schema", DP_CERT_SCHEMA);
    if (cert == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    st = assemble(cert, case_details, scan_report, wipe_result, rescan_report, kid, err);
    if (st == DP_OK) {
        struct dp_error e = {0};
        if (dp_cert_check(cert, NULL, &e) != DP_OK)
            st = dp_error_set(err, e.code == DP_ERR_NOMEM ? DP_ERR_NOMEM : DP_ERR_INVALID, 0,
                              "the inputs make an inconsistent certificate: %s", e.msg);
    }
    if (st != DP_OK) {
        json_decref(cert);
        return st;
    }
    *out = cert;
    return DP_OK;
}
