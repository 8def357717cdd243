/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the certificate's internal consistency check, dp_cert_check
 * (docs/certificate.md, "Internal consistency"): every problem is collected, none stops it. */
#include "deprive/cert.h"
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/assurance.h"
#include "deprive/json.h"
#include "deprive/report.h"

static bool is_utc(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (s == NULL || strlen(s) != sizeof(pat) - 1)
        return false;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return false;
    return true;
}

/* Hex length of a digest algorithm's value, 0 when unknown. */
static size_t algo_hexlen(const char *name)
{
    if (strcmp(name, "md5") == 0)
        return 32;
    if (strcmp(name, "sha1") == 0)
        return 40;
    if (strcmp(name, "sha256") == 0 || strcmp(name, "pdq") == 0)
        return 64;
    return 0;
}

struct chk {
    struct dp_cert_problems p;
    bool oom;
};

DP_PRINTF(2, 3) static void prob(struct chk *c, const char *fmt, ...)
{
    if (c->p.count >= 10000)
        return;
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0) {
        c->oom = true;
        return;
    }
    char **n = realloc(c->p.items, (c->p.count + 1) * sizeof(*n));
    if (n == NULL) {
        free(s);
        c->oom = true;
        return;
    }
    c->p.items = n;
    n[c->p.count++] = s;
}

void dp_cert_problems_release(struct dp_cert_problems *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->count; i++)
        free(p->items[i]);
    free(p->items);
    p->items = NULL;
    p->count = 0;
}

/* A non-negative integer at path under o, or -1 after reporting the problem. */
static json_int_t want_count(struct chk *c, const json_t *o, const char *path, const char *label)
{
    const json_t *v = cert_jpath(o, path);
    if (!json_is_integer(v)) {
        prob(c, "%s%s%s: missing or not an integer", label, *label ? "." : "", path);
        return -1;
    }
    if (json_integer_value(v) < 0) {
        prob(c, "%s%s%s: negative", label, *label ? "." : "", path);
        return -1;
    }
    return json_integer_value(v);
}

static bool location_ok(const json_t *loc)
{
    if (!json_is_array(loc) || json_array_size(loc) == 0)
        return false;
    size_t i;
    const json_t *el;
    /* a remnant: [{"device": DEV}, {"offset", "length"}] */
    const json_t *dev = json_object_get(json_array_get(loc, 0), "device");
    if (dev != NULL) {
        uint64_t(*rg)[2] = NULL;
        size_t nr = 0;
        char *raw = NULL;
        size_t n = 0;
        bool ok = json_array_size(loc) == 2 && dp_json_bytes_get(dev, &raw, &n) &&
                  dp_json_ranges_get(json_array_get(loc, 1), &rg, &nr) && nr == 1;
        free(rg);
        free(raw);
        return ok;
    }
    json_array_foreach(loc, i, el)
    {
        char *raw = NULL;
        size_t n = 0;
        uint64_t(*rg)[2] = NULL;
        size_t nr = 0;
        /* an embedded copy's byte ranges: last, after the container's path */
        if (i > 0 && i + 1 == json_array_size(loc) && dp_json_ranges_get(el, &rg, &nr)) {
            free(rg);
            continue;
        }
        if (!dp_json_bytes_get(el, &raw, &n))
            return false;
        free(raw);
    }
    return true;
}

/* An embedded copy whose range was overwritten in place: its container keeps its names, and
 * the bytes outside the range were proved unchanged. Or one inside an archive member whose
 * range was zeroed in a rewritten archive (replace-member): the member keeps its name, its
 * bytes outside the range were proved unchanged and the range zero, and the rewritten archive
 * was read back with every other member's content unchanged (archive.kept_verified). */
static bool range_overwritten(const json_t *t)
{
    const json_t *e = json_object_get(t, "embedded");
    const char *m = json_string_value(json_object_get(e, "method"));
    if (m != NULL && strcmp(m, "replace-member") == 0)
        return json_is_true(json_object_get(e, "outside_unchanged")) &&
               json_is_true(json_object_get(e, "range_zeroed")) &&
               json_is_true(cert_jpath(t, "archive.kept_verified"));
    return m != NULL && strcmp(m, "overwrite-range") == 0 &&
           json_is_true(json_object_get(e, "outside_unchanged"));
}

/* A too-large skip: a size over a positive limit, and which limit it was. */
static bool too_large_ok(const json_t *s)
{
    const json_t *size = json_object_get(s, "size"), *limit = json_object_get(s, "limit");
    const char *src = json_string_value(json_object_get(s, "limit_source"));
    enum dp_size_limit which;
    return json_is_integer(size) && json_is_integer(limit) && json_integer_value(limit) > 0 &&
           json_integer_value(size) > json_integer_value(limit) && src != NULL &&
           dp_size_limit_parse(src, &which);
}

/* Case fields: the required ones non-empty strings, the others strings or null. */
static void check_case_fields(struct chk *c, const json_t *cert)
{
    size_t n = 0;
    const struct dp_cert_case_field *fields = dp_cert_case_fields(&n);
    for (size_t i = 0; i < n; i++) {
        const struct dp_cert_case_field *f = &fields[i];
        const json_t *v = cert_jpath(cert, f->path);
        if (f->required && (!json_is_string(v) || json_string_length(v) == 0))
            prob(c, "%s: missing", f->path);
        else if (v != NULL && !json_is_string(v) && !json_is_null(v))
            prob(c, "%s: not a string", f->path);
    }
}

static void check_identity(struct chk *c, const json_t *cert)
{
    const char *fmt = dp_cert_get_str(cert, "format");
    const json_t *schema = json_object_get(cert, "schema");
    if (fmt == NULL || strcmp(fmt, DP_CERT_FORMAT) != 0)
        prob(c, "format: not \"%s\"", DP_CERT_FORMAT);
    if (!json_is_integer(schema) || json_integer_value(schema) != DP_CERT_SCHEMA)
        prob(c, "schema: not %d (this deprive reads schema %d only)", DP_CERT_SCHEMA,
             DP_CERT_SCHEMA);
    if (!cert_is_uuid(dp_cert_get_str(cert, "identity.certificate_id")))
        prob(c, "identity.certificate_id: not a UUID");
    static const char *const times[] = {"identity.issued", "identity.started", "identity.finished"};
    for (size_t i = 0; i < 3; i++)
        if (!is_utc(dp_cert_get_str(cert, times[i])))
            prob(c, "%s: not a YYYY-MM-DDTHH:MM:SSZ time", times[i]);
    if (dp_cert_get_str(cert, "identity.tool.name") == NULL ||
        dp_cert_get_str(cert, "identity.tool.version") == NULL)
        prob(c, "identity.tool: name or version missing");
    if (dp_cert_get_str(cert, "identity.host") == NULL)
        prob(c, "identity.host: missing");
    check_case_fields(c, cert);
    const char *kid = dp_cert_get_str(cert, "signer.keyid");
    if (!cert_is_hex(kid, 16, true))
        prob(c, "signer.keyid: not 16 upper-case hex digits");
}

static void check_hash_set(struct chk *c, const json_t *cert)
{
    const json_t *lists = cert_jpath(cert, "hash_set.lists");
    const json_t *tot = cert_jpath(cert, "hash_set.entries");
    if (!json_is_array(lists) || json_array_size(lists) == 0) {
        prob(c, "hash_set.lists: missing or empty");
        return;
    }
    json_t *sum = json_object();
    size_t i;
    const json_t *l;
    json_array_foreach(lists, i, l)
    {
        char label[48];
        snprintf(label, sizeof(label), "hash_set.lists[%zu]", i);
        if (!cert_is_hex(json_string_value(json_object_get(l, "sha256")), 64, false))
            prob(c, "%s.sha256: not 64 lower-case hex digits", label);
        char *raw = NULL;
        size_t n = 0;
        if (!dp_json_bytes_get(json_object_get(l, "file"), &raw, &n))
            prob(c, "%s.file: missing", label);
        free(raw);
        const char *algo;
        json_t *cnt;
        if (!json_is_object(json_object_get(l, "entries")))
            prob(c, "%s.entries: missing", label);
        json_object_foreach(json_object_get(l, "entries"), algo, cnt)
        {
            if (!json_is_integer(cnt) || json_integer_value(cnt) < 0) {
                prob(c, "%s.entries.%s: not a count", label, algo);
                continue;
            }
            json_int_t have = json_integer_value(json_object_get(sum, algo));
            json_object_set_new(sum, algo, json_integer(have + json_integer_value(cnt)));
        }
    }
    if (!json_equal(sum, tot))
        prob(c, "hash_set.entries: not the sum of the lists' entries");
    json_decref(sum);
}

/* scan.totals.skipped_by_reason: counts; returns their sum. */
static json_int_t skipped_by_reason(struct chk *c, const json_t *totals)
{
    json_int_t sum = 0;
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(totals, "skipped_by_reason"), key, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            prob(c, "scan.totals.skipped_by_reason.%s: not a count", key);
        else
            sum += json_integer_value(v);
    }
    return sum;
}

/* scan.skips: as many as scan.totals.skipped says (when known), each with a location and a
 * reason; a file not read for its size carries the size and the limit it exceeded. */
static void check_skips(struct chk *c, const json_t *cert, json_int_t skipped)
{
    const json_t *skips = cert_jpath(cert, "scan.skips");
    if (!json_is_array(skips))
        prob(c, "scan.skips: missing");
    else if (skipped >= 0 && (json_int_t)json_array_size(skips) != skipped)
        prob(c, "scan.skips: %zu listed, but scan.totals.skipped says %lld", json_array_size(skips),
             (long long)skipped);
    size_t i;
    const json_t *s;
    json_array_foreach(skips, i, s)
    {
        const char *reason = json_string_value(json_object_get(s, "reason"));
        if (!location_ok(json_object_get(s, "location")) || reason == NULL)
            prob(c, "scan.skips[%zu]: no location or reason", i);
        else if (strcmp(reason, dp_skip_reason_name(DP_SKIP_TOO_LARGE)) == 0 && !too_large_ok(s))
            prob(c, "scan.skips[%zu]: too-large without a size over its limit", i);
    }
}

/* Scan totals; returns the number of findings the scan reported (-1 when unknown). */
static json_int_t check_scan(struct chk *c, const json_t *cert)
{
    const json_t *totals = cert_jpath(cert, "scan.totals");
    if (!json_is_object(totals)) {
        prob(c, "scan.totals: missing");
        return -1;
    }
    if (!location_ok(cert_jpath(cert, "scan.root")) &&
        !json_is_string(cert_jpath(cert, "scan.root")))
        prob(c, "scan.root: missing");
    if (!json_is_boolean(cert_jpath(cert, "scan.one_filesystem")))
        prob(c, "scan.one_filesystem: not a boolean");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)totals, key, v)
    {
        if (json_is_integer(v) && json_integer_value(v) < 0)
            prob(c, "scan.totals.%s: negative", key);
        else if (!json_is_integer(v) && !json_is_object(v))
            prob(c, "scan.totals.%s: not a count", key);
    }
    json_int_t files = want_count(c, totals, "files", "scan.totals");
    json_int_t read = want_count(c, totals, "files_read", "scan.totals");
    json_int_t skipped = want_count(c, totals, "skipped", "scan.totals");
    json_int_t findings = want_count(c, totals, "findings", "scan.totals");
    if (files >= 0 && read > files)
        prob(c, "scan.totals: more files read (%lld) than seen (%lld)", (long long)read,
             (long long)files);
    json_int_t sum = skipped_by_reason(c, totals);
    if (skipped >= 0 && sum != skipped)
        prob(c, "scan.totals.skipped: %lld, but the reasons add up to %lld", (long long)skipped,
             (long long)sum);
    check_skips(c, cert, skipped);
    return findings;
}

static void check_digests(struct chk *c, const json_t *dg, const char *label)
{
    if (!json_is_object(dg) || json_object_size(dg) == 0) {
        prob(c, "%s.digests: missing", label);
        return;
    }
    const char *algo;
    json_t *v;
    json_object_foreach((json_t *)dg, algo, v)
    {
        size_t n = algo_hexlen(algo);
        if (n == 0)
            prob(c, "%s.digests.%s: unknown algorithm", label, algo);
        else if (!cert_is_hex(json_string_value(v), n, false))
            prob(c, "%s.digests.%s: not %zu lower-case hex digits", label, algo, n);
    }
}

static void check_matched(struct chk *c, const json_t *matched, const char *label)
{
    if (!json_is_array(matched) || json_array_size(matched) == 0) {
        prob(c, "%s.matched: missing or empty", label);
        return;
    }
    size_t i;
    const json_t *m;
    json_array_foreach(matched, i, m)
    {
        const char *algo = json_string_value(json_object_get(m, "algo"));
        const json_t *line = json_object_get(m, "line");
        if (json_string_value(json_object_get(m, "method")) == NULL || algo == NULL ||
            algo_hexlen(algo) == 0 || !json_is_integer(line) || json_integer_value(line) < 1 ||
            json_object_get(m, "list") == NULL)
            prob(c, "%s.matched[%zu]: needs method, a known algo, list and line", label, i);
    }
}

struct counts {
    json_int_t targets, names, erased, skipped, failed, rejected;
};

/* A target's status, counted into n; *ws receives it. False when missing or not certifiable. */
static bool count_status(struct chk *c, const json_t *t, const char *L, struct counts *n,
                         enum dp_wipe_status *ws)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    *ws = DP_WIPE_PLANNED;
    bool known = status != NULL && dp_wipe_status_parse(status, ws) && *ws != DP_WIPE_PLANNED;
    n->targets++;
    if (status == NULL)
        prob(c, "%s.status: missing", L);
    else if (!known)
        prob(c, "%s.status: unknown value '%s'", L, status);
    else if (*ws == DP_WIPE_ERASED)
        n->erased++;
    else if (*ws == DP_WIPE_SKIPPED)
        n->skipped++;
    else if (*ws == DP_WIPE_REJECTED)
        n->rejected++;
    else
        n->failed++;
    return known;
}

/* A target's names: each with a location and a "removed" flag, true for an erased target. */
static void check_names(struct chk *c, const json_t *t, const char *L, bool erased,
                        struct counts *n)
{
    const json_t *names = json_object_get(t, "names");
    if (!json_is_array(names) || json_array_size(names) == 0)
        prob(c, "%s.names: missing or empty", L);
    size_t j;
    const json_t *nm;
    json_array_foreach(names, j, nm)
    {
        n->names++;
        if (!location_ok(json_object_get(nm, "location")))
            prob(c, "%s.names[%zu].location: missing or malformed", L, j);
        const json_t *rm = json_object_get(nm, "removed");
        if (!json_is_boolean(rm))
            prob(c, "%s.names[%zu].removed: not a boolean", L, j);
        else if (erased && !json_is_true(rm) && !range_overwritten(t))
            prob(c, "%s.names[%zu]: target erased but this name was not removed", L, j);
    }
}

/* Erased: an assurance level that fits, verification "match", facts. Not erased: a level that
 * fits (not-erased, or shared-extents-remain when failed) and the reason. */
static void check_assurance(struct chk *c, const json_t *t, const char *L, enum dp_wipe_status ws)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    const char *as = json_string_value(json_object_get(t, "assurance"));
    const char *reason = json_string_value(json_object_get(t, "reason"));
    enum dp_assurance level = DP_ASSURE_COUNT;
    bool level_ok = as != NULL && dp_assurance_parse(as, &level) && dp_assurance_fits(level, ws);
    if (ws == DP_WIPE_ERASED) {
        const char *vr = dp_cert_get_str(t, "verification.result");
        const json_t *facts = json_object_get(t, "assurance_facts");
        if (!level_ok)
            prob(c, "%s.assurance: erased target without a valid assurance level", L);
        if (vr == NULL || strcmp(vr, "match") != 0)
            prob(c, "%s.verification.result: erased target not verified ('%s')", L,
                 vr ? vr : "missing");
        if (!json_is_array(facts) || json_array_size(facts) == 0)
            prob(c, "%s.assurance_facts: missing or empty", L);
        return;
    }
    if (!level_ok)
        prob(c, "%s.assurance: must be not-erased for a %s target", L, status);
    if (reason == NULL || *reason == '\0')
        prob(c, "%s.reason: a %s target needs the reason", L, status);
}

/* A remnant: device space, no inode; erased only by a fill whose read-back found none of its
 * windows left. */
static void check_remnant(struct chk *c, const json_t *t, const json_t *rem, const char *L,
                          bool erased)
{
    if (!json_is_object(rem) || !json_is_integer(json_object_get(rem, "offset")) ||
        !json_is_integer(json_object_get(rem, "length")))
        prob(c, "%s.remnant: malformed", L);
    if (json_object_get(t, "inode") != NULL && !json_is_null(json_object_get(t, "inode")))
        prob(c, "%s.inode: a remnant has no inode", L);
    if (!erased)
        return;
    const json_t *ver = json_object_get(t, "verification");
    if (json_integer_value(json_object_get(ver, "windows_left")) != 0 ||
        !json_is_integer(json_object_get(ver, "windows_left")))
        prob(c, "%s.verification.windows_left: an erased remnant must have none left", L);
    const char *by = json_string_value(json_object_get(rem, "removed_by"));
    bool scrub = by != NULL && strcmp(by, "slack scrub") == 0;
    if (by == NULL || (strcmp(by, "free-space fill") != 0 && !scrub))
        prob(c, "%s.remnant.removed_by: an erased remnant is removed by the free-space fill or "
                "a slack scrub", L);
    if (scrub && !json_is_true(cert_jpath(rem, "slack_scrub.content_unchanged")))
        prob(c, "%s.remnant.slack_scrub: the file holding it not proved unchanged", L);
}

static void check_target(struct chk *c, const json_t *t, size_t i, struct counts *n)
{
    char L[40];
    snprintf(L, sizeof(L), "targets[%zu]", i);
    enum dp_wipe_status ws;
    bool known = count_status(c, t, L, n, &ws);
    check_names(c, t, L, known && ws == DP_WIPE_ERASED, n);
    want_count(c, t, "size", L);
    const json_t *rem = json_object_get(t, "remnant");
    if (rem == NULL)
        want_count(c, t, "inode", L);
    else
        check_remnant(c, t, rem, L, known && ws == DP_WIPE_ERASED);
    check_digests(c, json_object_get(t, "digests"), L);
    check_matched(c, json_object_get(t, "matched"), L);
    if (known)
        check_assurance(c, t, L, ws);
}

static void check_summary(struct chk *c, const json_t *cert, const struct counts *n,
                          json_int_t scan_findings)
{
    const json_t *sum = cert_jpath(cert, "outcome.summary");
    static const char *const keys[] = {"targets", "names", "erased",
                                       "skipped", "failed", "rejected"};
    const json_int_t have[] = {n->targets, n->names,  n->erased,
                               n->skipped, n->failed, n->rejected};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_int_t v = want_count(c, sum, keys[i], "outcome.summary");
        if (v >= 0 && v != have[i])
            prob(c, "outcome.summary.%s: says %lld, the targets give %lld", keys[i], (long long)v,
                 (long long)have[i]);
    }
    if (scan_findings >= 0 && scan_findings != n->names)
        prob(c, "targets: %lld names, but the scan reported %lld findings", (long long)n->names,
             (long long)scan_findings);
}

/* The re-scan's perceptual-only candidates a person decided against or has not decided on:
 * each must be a perceptual-only target the wipe left (rejected or skipped) with the same
 * digests. Returns how many, or -1 when the list is malformed. */
static json_int_t check_left_by_decision(struct chk *c, const json_t *cert, const json_t *r)
{
    const json_t *left = json_object_get(r, "left_by_decision");
    if (left == NULL)
        return 0; /* certificates before perceptual matching */
    if (!json_is_array(left)) {
        prob(c, "outcome.rescan.left_by_decision: not an array");
        return -1;
    }
    size_t i, k;
    const json_t *e, *t;
    json_array_foreach(left, i, e) {
        bool found = false;
        json_array_foreach(json_object_get(cert, "targets"), k, t) {
            const char *s = json_string_value(json_object_get(t, "status"));
            found = found || (json_is_true(json_object_get(t, "perceptual_only")) && s != NULL &&
                              (strcmp(s, "rejected") == 0 || strcmp(s, "skipped") == 0) &&
                              json_equal(json_object_get(t, "digests"),
                                         json_object_get(e, "digests")));
        }
        if (!found)
            prob(c, "outcome.rescan.left_by_decision[%zu]: no perceptual-only target left by "
                    "the examiner has these digests", i);
    }
    return (json_int_t)json_array_size(left);
}

/* Re-scan block; returns its findings count, or -1 when no (valid) re-scan. */
static json_int_t check_rescan(struct chk *c, const json_t *cert)
{
    const json_t *r = cert_jpath(cert, "outcome.rescan");
    const json_t *perf = json_object_get(r, "performed");
    if (!json_is_boolean(perf)) {
        prob(c, "outcome.rescan.performed: not a boolean");
        return -1;
    }
    if (!json_is_true(perf))
        return -1;
    json_int_t n = want_count(c, r, "findings", "outcome.rescan");
    json_int_t tn = want_count(c, r, "totals.findings", "outcome.rescan");
    const json_t *rem = json_object_get(r, "remaining");
    if (n >= 0 && (!json_is_array(rem) || (json_int_t)json_array_size(rem) != n))
        prob(c, "outcome.rescan.remaining: does not list %lld finding(s)", (long long)n);
    json_int_t left = check_left_by_decision(c, cert, r);
    if (n >= 0 && tn >= 0 && left >= 0 && n + left != tn)
        prob(c, "outcome.rescan.findings: %lld (and %lld left by the examiner's decision), but "
                "its totals say %lld", (long long)n, (long long)left, (long long)tn);
    if (!json_equal(json_object_get(r, "root"), cert_jpath(cert, "scan.root")))
        prob(c, "outcome.rescan.root: not the scanned root");
    if (!json_is_true(cert_jpath(cert, "scan.one_filesystem")) &&
        !json_is_false(json_object_get(r, "one_filesystem")))
        prob(c, "outcome.rescan.one_filesystem: the re-scan stayed on one filesystem but the "
                "scan did not");
    json_t *shas = json_array();
    size_t i;
    const json_t *l;
    json_array_foreach(cert_jpath(cert, "hash_set.lists"), i, l)
        json_array_append_new(shas, cert_copy_or_null(json_object_get(l, "sha256")));
    if (!json_equal(shas, json_object_get(r, "hash_lists")))
        prob(c, "outcome.rescan.hash_lists: not the scan's hash lists");
    json_decref(shas);
    return n < 0 ? 0 : n;
}

/* outcome.result is the one the rule gives; for a claimed ERASED, every reason it is not. */
static void check_result(struct chk *c, const json_t *cert, const struct counts *n,
                         json_int_t rescan)
{
    const char *res = dp_cert_get_str(cert, "outcome.result");
    enum dp_cert_outcome have;
    const char *want =
        dp_cert_outcome_name(cert_outcome_rule((long long)rescan,
                                               n->erased + n->rejected == n->targets));
    if (res == NULL) {
        prob(c, "outcome.result: missing");
    } else if (!dp_cert_outcome_parse(res, &have)) {
        prob(c, "outcome.result: unknown value '%s'", res);
    } else if (strcmp(res, want) != 0 && have == DP_OUTCOME_ERASED) {
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(cert, "targets"), i, t)
        {
            const char *s = json_string_value(json_object_get(t, "status"));
            if (s == NULL || strcmp(s, "erased") != 0)
                prob(c, "outcome.result: ERASED, but targets[%zu] is %s", i, s ? s : "unknown");
        }
        if (rescan < 0)
            prob(c, "outcome.result: ERASED, but there is no re-scan");
        else if (rescan > 0)
            prob(c, "outcome.result: ERASED, but the re-scan found %lld match(es)",
                 (long long)rescan);
    } else if (strcmp(res, want) != 0) {
        prob(c, "outcome.result: %s, but the targets and the re-scan make it %s", res, want);
    }
}

/* A swept scan: the re-scan swept the device too, and its remnants are among its findings. */
static void check_sweep(struct chk *c, const json_t *cert, json_int_t rescan)
{
    const json_t *sw = json_object_get(cert, "sweep");
    if (sw == NULL)
        return;
    const json_t *after = json_object_get(sw, "after");
    const char *res = dp_cert_get_str(cert, "outcome.result");
    if (!json_is_object(sw) || !json_is_object(json_object_get(sw, "before"))) {
        prob(c, "sweep: malformed");
        return;
    }
    if (json_is_object(after)) {
        json_int_t left = want_count(c, after, "remnants", "sweep.after");
        if (left >= 0 && rescan >= 0 && left > rescan)
            prob(c, "sweep.after.remnants: %lld, more than the re-scan's %lld finding(s)",
                 (long long)left, (long long)rescan);
    } else if (res != NULL && strcmp(res, "ERASED") == 0) {
        prob(c, "sweep.after: ERASED, but the device was not swept again after the wipe");
    }
}

static void check_outcome(struct chk *c, const json_t *cert, const struct counts *n)
{
    json_int_t rescan = check_rescan(c, cert);
    check_sweep(c, cert, rescan);
    check_result(c, cert, n, rescan);
    const json_t *head = cert_jpath(cert, "outcome.journal.head");
    const json_t *recs = cert_jpath(cert, "outcome.journal.records");
    if (!json_is_null(head) && !cert_is_hex(json_string_value(head), 64, false))
        prob(c, "outcome.journal.head: not 64 lower-case hex digits");
    if (json_is_string(head) && (!json_is_integer(recs) || json_integer_value(recs) < 0))
        prob(c, "outcome.journal.records: not a count");
    const json_t *risks = cert_jpath(cert, "outcome.residual_risks");
    if (!json_is_array(risks) || json_array_size(risks) == 0)
        prob(c, "outcome.residual_risks: missing or empty");
    size_t i;
    const json_t *r;
    json_array_foreach(risks, i, r) if (!json_is_string(r))
        prob(c, "outcome.residual_risks[%zu]: not a string", i);
}

/* The one-line error for a list of problems: "N problem(s): first; second; ...", truncated to
 * fit err->msg. */
static enum dp_status problems_error(const struct dp_cert_problems *p, struct dp_error *err)
{
    char msg[sizeof(err->msg)];
    size_t used =
        (size_t)snprintf(msg, sizeof(msg), "%zu problem%s: ", p->count, p->count == 1 ? "" : "s");
    for (size_t i = 0; i < p->count && used < sizeof(msg); i++)
        used +=
            (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s", i ? "; " : "", p->items[i]);
    return dp_error_set(err, DP_ERR_VERIFY, 0, "%s", msg);
}

enum dp_status dp_cert_check(const json_t *cert, struct dp_cert_problems *problems,
                             struct dp_error *err)
{
    struct chk c = {{NULL, 0}, false};
    if (json_typeof(cert) != JSON_OBJECT) {
        prob(&c, "not a JSON object");
    } else {
        check_identity(&c, cert);
        check_hash_set(&c, cert);
        json_int_t scan_findings = check_scan(&c, cert);
        struct counts n = {0};
        const json_t *targets = json_object_get(cert, "targets");
        if (!json_is_array(targets))
            prob(&c, "targets: missing");
        size_t i;
        const json_t *t;
        json_array_foreach(targets, i, t) check_target(&c, t, i, &n);
        check_summary(&c, cert, &n, scan_findings);
        check_outcome(&c, cert, &n);
    }
    enum dp_status st = DP_OK;
    if (c.oom)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory checking the certificate");
    else if (c.p.count > 0)
        st = problems_error(&c.p, err);
    if (problems != NULL)
        *problems = c.p;
    else
        dp_cert_problems_release(&c.p);
    return st;
}
