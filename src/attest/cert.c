/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: erasure certificate - case details, build and consistency check
 * (docs/certificate.md); signing in cert_sign.c, text in cert_text.c. */
#include "deprive/cert.h"
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/assurance.h"
#include "deprive/hashset.h"
#include "deprive/journal.h"
#include "deprive/json.h"
#include "deprive/report.h"
#include "deprive/sign.h"
#include "deprive/util.h"

/* ---- small JSON helpers ------------------------------------------------------------------ */

/* Value at a dotted path ("a.b.c"), NULL when a step is missing. */
json_t *cert_jpath(const json_t *root, const char *path)
{
    const json_t *cur = root;
    char seg[64];
    while (cur != NULL && *path != '\0') {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(seg))
            return NULL;
        memcpy(seg, path, n);
        seg[n] = '\0';
        cur = json_object_get(cur, seg);
        path += n + (dot != NULL);
    }
    return (json_t *)cur;
}

/* Set value (stolen, also on failure) at a dotted path, creating objects on the way. */
static int jpath_set(json_t *root, const char *path, json_t *value)
{
    json_t *cur = root;
    char seg[64];
    for (;;) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n == 0 || n >= sizeof(seg) || !json_is_object(cur)) {
            json_decref(value);
            return -1;
        }
        memcpy(seg, path, n);
        seg[n] = '\0';
        if (dot == NULL)
            return json_object_set_new(cur, seg, value);
        json_t *next = json_object_get(cur, seg);
        if (!json_is_object(next)) {
            next = json_object();
            if (json_object_set_new(cur, seg, next) != 0) {
                json_decref(value);
                return -1;
            }
        }
        cur = next;
        path = dot + 1;
    }
}

const char *dp_cert_get_str(const json_t *cert, const char *path)
{
    return json_string_value(cert_jpath(cert, path));
}

const json_t *dp_cert_get(const json_t *cert, const char *path)
{
    return cert_jpath(cert, path);
}

bool cert_is_hex(const char *s, size_t want, bool upper)
{
    if (s == NULL || strlen(s) != want)
        return false;
    for (size_t i = 0; i < want; i++) {
        char c = s[i];
        bool ok =
            (c >= '0' && c <= '9') || (upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f'));
        if (!ok)
            return false;
    }
    return true;
}

bool cert_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

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
    if (strcmp(name, "sha256") == 0)
        return 64;
    return 0;
}

/* Builder state: allocation failures are collected, so building code stays linear. */
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

static json_t *copy_or_null(const json_t *v)
{
    return v != NULL ? json_deep_copy(v) : json_null();
}

/* ---- case details ------------------------------------------------------------------------ */

static const struct dp_cert_case_field case_fields[] = {
    {"authority.order_reference", "order", "Order reference", "court order reference", true, false},
    {"authority.order_type", "order-type", "Order type", "type of order (e.g. deprivation order)",
     false, false},
    {"authority.legal_basis", "legal-basis", "Legal basis", "statute and section of the order",
     false, false},
    {"authority.court", "court", "Court", "court that made the order", false, false},
    {"authority.case_number", "case-number", "Case number", "court case number", false, false},
    {"authority.conviction_date", "conviction-date", "Conviction date",
     "date of conviction (YYYY-MM-DD)", false, true},
    {"authority.order_date", "order-date", "Order date", "date of the order (YYYY-MM-DD)", false,
     true},
    {"authority.force", "force", "Force", "police force or agency executing the order", false,
     false},
    {"authority.officer.name", "officer", "Officer", "name of the officer executing the order",
     true, false},
    {"authority.officer.role", "officer-role", "Officer role", "role or rank of that officer",
     false, false},
    {"authority.officer.staff_number", "officer-staff-number", "Officer staff number",
     "staff or warrant number of that officer", false, false},
    {"authority.authorising_officer.name", "authorising-officer", "Authorising officer",
     "name of the authorising officer", false, false},
    {"authority.authorising_officer.role", "authorising-officer-role", "Authorising officer role",
     "role or rank of the authorising officer", false, false},
    {"authority.authorising_officer.staff_number", "authorising-officer-staff-number",
     "Authorising officer staff number", "staff number of the authorising officer", false, false},
    {"authority.independent_verifier.name", "verifier", "Independent verifier",
     "name of an independent verifier (optional)", false, false},
    {"authority.independent_verifier.role", "verifier-role", "Verifier role",
     "role of the independent verifier", false, false},
    {"authority.independent_verifier.organisation", "verifier-organisation",
     "Verifier organisation", "organisation of the independent verifier", false, false},
    {"exhibit.exhibit_reference", "exhibit", "Exhibit reference", "exhibit reference", true, false},
    {"exhibit.property_number", "property-number", "Property number", "property number", false,
     false},
    {"exhibit.seal_number", "seal-number", "Seal number", "evidence bag seal number", false, false},
    {"exhibit.device.make", "device-make", "Device make", "device make", false, false},
    {"exhibit.device.model", "device-model", "Device model", "device model", false, false},
    {"exhibit.device.serial", "device-serial", "Device serial", "device serial number", false,
     false},
    {"exhibit.device.imei", "device-imei", "Device IMEI", "IMEI (phones)", false, false},
    {"exhibit.media_type", "media-type", "Media type",
     "storage medium (e.g. SATA HDD, NVMe SSD, microSD)", false, false},
    {"exhibit.media_class", "media-class", "Media class",
     "hdd, ssd, flash or unknown: what an in-place overwrite can claim on this medium (default: "
     "from the device's transport and rotational flag)",
     false, false},
    {"exhibit.capacity", "capacity", "Capacity", "stated capacity (e.g. 512 GB)", false, false},
    {"exhibit.encryption", "encryption", "Encryption",
     "encryption state (e.g. none, BitLocker unlocked with recovery key)", false, false},
    {"hash_set.supplier", "hash-supplier", "Hash set supplier",
     "who supplied the hash lists (organisation, reference)", false, false},
};

#define N_CASE_FIELDS (sizeof(case_fields) / sizeof(case_fields[0]))

const struct dp_cert_case_field *dp_cert_case_fields(size_t *count)
{
    *count = N_CASE_FIELDS;
    return case_fields;
}

static const struct dp_cert_case_field *field_find(const char *name)
{
    for (size_t i = 0; i < N_CASE_FIELDS; i++)
        if (strcmp(case_fields[i].path, name) == 0 || strcmp(case_fields[i].flag, name) == 0)
            return &case_fields[i];
    return NULL;
}

/* Whether path names an object that holds known fields ("authority.officer"). */
static bool field_parent(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < N_CASE_FIELDS; i++)
        if (strncmp(case_fields[i].path, path, n) == 0 && case_fields[i].path[n] == '.')
            return true;
    return false;
}

static bool valid_date(const char *s)
{
    static const char pat[] = "dddd-dd-dd";
    if (strlen(s) != sizeof(pat) - 1)
        return false;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return false;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && leap);
}

static enum dp_status check_value(const struct dp_cert_case_field *f, const char *v, size_t n,
                                  struct dp_error *err)
{
    if (n == 0 || n > DP_CERT_CASE_VALUE_MAX || memchr(v, '\0', n) != NULL)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "case details: %s (--%s): empty or longer "
                            "than %d bytes",
                            f->path, f->flag, DP_CERT_CASE_VALUE_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c < 0x20 || c == 0x7f)
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "case details: %s (--%s): control character in value", f->path,
                                f->flag);
    }
    enum dp_media_class mc;
    if (strcmp(f->path, "exhibit.media_class") == 0 && !dp_media_class_parse(v, &mc))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "case details: %s (--%s): not one of hdd, ssd, flash, unknown",
                            f->path, f->flag);
    if (f->date && !valid_date(v))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "case details: %s (--%s): not a YYYY-MM-DD "
                            "date",
                            f->path, f->flag);
    return DP_OK;
}

enum dp_status dp_cert_case_new(json_t **out, struct dp_error *err)
{
    json_t *o =
        json_pack("{s:s, s:i}", "format", DP_CERT_CASE_FORMAT, "schema", DP_CERT_CASE_SCHEMA);
    if (o == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    *out = o;
    return DP_OK;
}

enum dp_status dp_cert_case_set(json_t *case_doc, const char *field, const char *value,
                                struct dp_error *err)
{
    const struct dp_cert_case_field *f = field_find(field);
    if (f == NULL)
        return dp_error_set(err, DP_ERR_INVALID, 0, "case details: unknown field '%s'", field);
    enum dp_status st = check_value(f, value, strlen(value), err);
    if (st != DP_OK)
        return st;
    json_t *s = json_string(value);
    if (s == NULL)
        return dp_error_set(err, DP_ERR_INVALID, 0, "case details: %s (--%s): not valid UTF-8",
                            f->path, f->flag);
    if (jpath_set(case_doc, f->path, s) != 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "case details: cannot set %s", f->path);
    return DP_OK;
}

static enum dp_status validate_obj(const json_t *obj, const char *prefix, struct dp_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        char path[128];
        int n = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
        if (*prefix == '\0' && (strcmp(key, "format") == 0 || strcmp(key, "schema") == 0))
            continue;
        const struct dp_cert_case_field *f = NULL;
        bool known = n > 0 && (size_t)n < sizeof(path) && strchr(key, '.') == NULL;
        if (known)
            f = field_find(path);
        if (f != NULL && strcmp(f->path, path) == 0) {
            if (json_is_null(v))
                continue;
            if (!json_is_string(v))
                return dp_error_set(err, DP_ERR_INVALID, 0,
                                    "case details: %s (--%s): must be a string", f->path, f->flag);
            enum dp_status st = check_value(f, json_string_value(v), json_string_length(v), err);
            if (st != DP_OK)
                return st;
        } else if (known && field_parent(path)) {
            if (json_is_null(v))
                continue;
            if (!json_is_object(v))
                return dp_error_set(err, DP_ERR_INVALID, 0, "case details: %s: must be an object",
                                    path);
            enum dp_status st = validate_obj(v, path, err);
            if (st != DP_OK)
                return st;
        } else {
            char *q = dp_quote_bytes(key, strlen(key));
            dp_error_set(err, DP_ERR_INVALID, 0, "case details: unknown field '%s%s%s'", prefix,
                         *prefix ? "." : "", q ? q : "?");
            free(q);
            return DP_ERR_INVALID;
        }
    }
    return DP_OK;
}

enum dp_status dp_cert_case_validate(const json_t *case_doc, struct dp_error *err)
{
    if (json_typeof(case_doc) != JSON_OBJECT)
        return dp_error_set(err, DP_ERR_PARSE, 0, "case details: not a JSON object");
    const json_t *fmt = json_object_get(case_doc, "format");
    const json_t *schema = json_object_get(case_doc, "schema");
    if (fmt != NULL &&
        (!json_is_string(fmt) || strcmp(json_string_value(fmt), DP_CERT_CASE_FORMAT) != 0))
        return dp_error_set(err, DP_ERR_INVALID, 0, "case details: format must be \"%s\"",
                            DP_CERT_CASE_FORMAT);
    if (schema != NULL &&
        (!json_is_integer(schema) || json_integer_value(schema) != DP_CERT_CASE_SCHEMA))
        return dp_error_set(err, DP_ERR_INVALID, 0, "case details: schema must be %d",
                            DP_CERT_CASE_SCHEMA);
    enum dp_status st = validate_obj(case_doc, "", err);
    if (st != DP_OK)
        return st;
    /* every missing field in one message: an examiner should not learn them one run at a time */
    char missing[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < N_CASE_FIELDS; i++) {
        const struct dp_cert_case_field *f = &case_fields[i];
        if (f->required && !json_is_string(cert_jpath(case_doc, f->path)) &&
            used < sizeof(missing))
            used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%s (--%s)",
                                     used ? ", " : "", f->path, f->flag);
    }
    if (used > 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "case details: missing %s", missing);
    return DP_OK;
}

enum dp_status dp_cert_case_from_file(json_t **out, const char *path, struct dp_error *err)
{
    json_t *doc = NULL;
    enum dp_status st = dp_json_load_file(path, (size_t)1 << 20, &doc, err);
    if (st != DP_OK)
        return st;
    st = dp_cert_case_validate(doc, err);
    if (st != DP_OK) {
        dp_error_prefix(err, "%s: ", path);
        json_decref(doc);
        return st;
    }
    *out = doc;
    return DP_OK;
}

/* ---- building ---------------------------------------------------------------------------- */

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
        put(b, o, "format", copy_or_null(json_object_get(l, "format")));
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
    if (jpath_set(cert, "hash_set.lists", lists) != 0 ||
        jpath_set(cert, "hash_set.entries", tot) != 0 ||
        jpath_set(cert, "hash_set.perceptual_thresholds", json_null()) != 0)
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
    put(b, o, "algo", copy_or_null(json_object_get(m, "algo")));
    put(b, o, "list", base_name_json(json_object_get(m, "list")));
    put(b, o, "line", copy_or_null(json_object_get(m, "line")));
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
    put(b, o, "device", copy_or_null(json_object_get(f, "device")));
    put(b, o, "inode", copy_or_null(json_object_get(f, "inode")));
    put(b, o, "size", copy_or_null(json_object_get(f, "size")));
    put(b, o, "digests", copy_or_null(json_object_get(f, "digests")));
    put(b, o, "links_at_scan", copy_or_null(json_object_get(f, "links")));
    put(b, o, "mime", copy_or_null(json_object_get(f, "mime")));
    put(b, o, "method", method ? json_string(method) : json_null());
}

static const char *const outcome_names[DP_OUTCOME_COUNT] = {DP_CERT_ERASED, DP_CERT_PARTIAL,
                                                             DP_CERT_FAILED};

const char *dp_cert_outcome_name(enum dp_cert_outcome o)
{
    if ((unsigned)o >= DP_OUTCOME_COUNT)
        dp_misuse("dp_cert_outcome_name: bad outcome");
    return outcome_names[o];
}

bool dp_cert_outcome_parse(const char *name, enum dp_cert_outcome *out)
{
    for (int i = 0; name != NULL && i < DP_OUTCOME_COUNT; i++) {
        if (strcmp(name, outcome_names[i]) == 0) {
            *out = (enum dp_cert_outcome)i;
            return true;
        }
    }
    return false;
}

bool dp_cert_outcome_of(const json_t *cert, enum dp_cert_outcome *out)
{
    return dp_cert_outcome_parse(dp_cert_get_str(cert, "outcome.result"), out);
}

static const char *action_of(const char *status)
{
    enum dp_wipe_status s = DP_WIPE_SKIPPED;
    if (!dp_wipe_status_parse(status, &s) || s == DP_WIPE_SKIPPED || s == DP_WIPE_PLANNED)
        return "none";
    return s == DP_WIPE_ERASED ? "overwritten, read back, renamed and unlinked"
                               : "attempted, not erased";
}

static enum dp_status wipe_target_json(struct bld *b, json_t **out, const json_t *t, size_t i,
                                       const json_t *findings, unsigned char *covered,
                                       const char *method, struct dp_error *err)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    const json_t *names = json_object_get(t, "names");
    size_t nf = json_array_size(findings);
    if (status == NULL) /* check_wipe vetted every status */
        dp_misuse("wipe_target_json: unchecked wipe result");
    if (!json_is_array(names) || json_array_size(names) == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "wipe target %zu: no names", i);
    json_t *o = json_object(), *onames = json_array(), *matched = json_array();
    const json_t *first = NULL, *nm;
    size_t j;
    enum dp_status st = DP_OK;
    json_array_foreach(names, j, nm)
    {
        const json_t *pi = json_object_get(nm, "plan_index");
        json_int_t k = json_integer_value(pi);
        if (!json_is_integer(pi) || k < 0 || (size_t)k >= nf) {
            st = dp_error_set(err, DP_ERR_INVALID, 0, "wipe target %zu name %zu: bad plan_index", i,
                              j);
            goto out;
        }
        const json_t *f = json_array_get(findings, (size_t)k);
        if (!json_equal(json_object_get(nm, "location"), json_object_get(f, "location")) ||
            covered[k]) {
            st = dp_error_set(err, DP_ERR_INVALID, 0,
                              "wipe target %zu name %zu: location "
                              "differs from scan finding %lld, or that finding is named twice",
                              i, j, (long long)k);
            goto out;
        }
        const json_t *wd = json_object_get(t, "digests");
        if ((wd != NULL && !digests_agree(wd, json_object_get(f, "digests"))) ||
            (json_object_get(t, "inode") != NULL &&
             !json_equal(json_object_get(t, "inode"), json_object_get(f, "inode"))) ||
            (json_object_get(t, "size") != NULL &&
             !json_equal(json_object_get(t, "size"), json_object_get(f, "size")))) {
            st = dp_error_set(err, DP_ERR_INVALID, 0,
                              "wipe target %zu: inode, size or digests "
                              "differ from scan finding %lld",
                              i, (long long)k);
            goto out;
        }
        covered[k] = 1;
        first = first ? first : f;
        json_t *no = json_object();
        put(b, no, "location", json_deep_copy(json_object_get(f, "location")));
        put(b, no, "finding", json_integer(k));
        put(b, no, "removed", json_boolean(json_is_true(json_object_get(nm, "removed"))));
        push(b, onames, no);
        add_matches(b, matched, f);
    }
    target_common(b, o, first, method);
    put(b, o, "names", json_incref(onames));
    put(b, o, "matched", json_incref(matched));
    put(b, o, "status", json_string(status));
    put(b, o, "action", json_string(action_of(status)));
    put(b, o, "links_remaining", copy_or_null(json_object_get(t, "links_remaining")));
    put(b, o, "overwrite", copy_or_null(json_object_get(t, "overwrite")));
    put(b, o, "verification", copy_or_null(json_object_get(t, "verification")));
    put(b, o, "extents", copy_or_null(json_object_get(t, "extents")));
    put(b, o, "assurance", copy_or_null(json_object_get(t, "assurance")));
    const json_t *facts = json_object_get(t, "assurance_facts");
    put(b, o, "assurance_facts", facts ? json_deep_copy(facts) : json_array());
    put(b, o, "reason", copy_or_null(json_object_get(t, "reason")));
out:
    json_decref(onames);
    json_decref(matched);
    if (st != DP_OK) {
        json_decref(o);
        return st;
    }
    *out = o;
    return DP_OK;
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
    const json_t *findings = json_object_get(scan, "findings");
    const json_t *wt = json_object_get(wipe, "targets");
    const char *method = json_string_value(json_object_get(wipe, "method"));
    size_t nf = json_array_size(findings), i;
    if (!json_is_array(wt))
        return dp_error_set(err, DP_ERR_INVALID, 0, "wipe result has no targets array");
    unsigned char *covered = calloc(nf ? nf : 1, 1);
    json_t *targets = json_array();
    if (covered == NULL || targets == NULL) {
        free(covered);
        json_decref(targets);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    enum dp_status st = DP_OK;
    const json_t *t;
    json_array_foreach(wt, i, t)
    {
        json_t *o = NULL;
        st = wipe_target_json(b, &o, t, i, findings, covered, method, err);
        if (st != DP_OK)
            goto out;
        push(b, targets, o);
    }
    for (size_t k = 0; k < nf; k++)
        if (!covered[k])
            push(b, targets, uncovered_json(b, json_array_get(findings, k), k, method));
    put(b, cert, "targets", json_incref(targets));
out:
    free(covered);
    json_decref(targets);
    return st;
}

static json_t *list_shas(const json_t *report)
{
    json_t *a = json_array();
    size_t i;
    const json_t *l;
    json_array_foreach(json_object_get(report, "hash_lists"), i, l)
        json_array_append_new(a, copy_or_null(json_object_get(l, "sha256")));
    return a;
}

static enum dp_status build_rescan(struct bld *b, json_t *outcome, const json_t *scan,
                                   const json_t *rescan, struct dp_error *err)
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
    json_t *shas = list_shas(rescan), *want = list_shas(scan);
    bool same = json_equal(shas, want);
    json_decref(want);
    bool scan_cross = json_is_true(cert_jpath(scan, "scope.cross_mounts"));
    bool re_cross = json_is_true(cert_jpath(rescan, "scope.cross_mounts"));
    if (!same ||
        !json_equal(json_object_get(rescan, "root_abs"), json_object_get(scan, "root_abs")) ||
        (scan_cross && !re_cross)) {
        json_decref(shas);
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "the re-scan did not cover the scan's root, "
                            "filesystems and hash lists");
    }
    json_t *remaining = json_array();
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(rescan, "findings"), i, f)
    {
        json_t *r = json_object();
        put(b, r, "location", copy_or_null(json_object_get(f, "location")));
        put(b, r, "digests", copy_or_null(json_object_get(f, "digests")));
        push(b, remaining, r);
    }
    put(b, o, "performed", json_true());
    put(b, o, "started", copy_or_null(json_object_get(rescan, "started")));
    put(b, o, "finished", copy_or_null(json_object_get(rescan, "finished")));
    put(b, o, "root", copy_or_null(json_object_get(rescan, "root_abs")));
    put(b, o, "one_filesystem", json_boolean(!re_cross));
    put(b, o, "hash_lists", shas);
    put(b, o, "totals", json_deep_copy(json_object_get(rescan, "totals")));
    put(b, o, "findings", json_integer((json_int_t)json_array_size(remaining)));
    put(b, o, "remaining", remaining);
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
    add_risk(b, r,
             "Only exact copies were identified: a file matches when its MD5, SHA-1 or "
             "SHA-256 equals an entry of the hash lists. Edited, re-encoded, resized or "
             "partial copies do not match; perceptual matching is not in this version.");
    add_risk(b, r,
             "Filesystem journal: a journaling filesystem (ext3/4, XFS, NTFS) may keep "
             "copies of metadata, and of file data when data journaling is enabled, in "
             "its journal until they are overwritten.");
    add_risk(b, r,
             "Copy-on-write and log-structured filesystems (btrfs, ZFS, F2FS, APFS) and "
             "snapshots write overwrites to new blocks; the old blocks may survive until "
             "they are reused.");
    add_risk(b, r,
             "Flash media (SSDs, USB sticks, memory cards, phones) remap writes (wear "
             "levelling, over-provisioning): old copies may remain in cells the operating "
             "system cannot address; only a device-level sanitize or physical "
             "destruction removes them.");
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
    put(b, o, "tool", copy_or_null(json_object_get(scan, "tool")));
    put(b, o, "started", copy_or_null(json_object_get(scan, "started")));
    put(b, o, "finished", copy_or_null(json_object_get(rescan ? rescan : wipe, "finished")));
    return o;
}

static json_t *build_scan(struct bld *b, const json_t *scan)
{
    json_t *o = json_object();
    put(b, o, "root", copy_or_null(json_object_get(scan, "root_abs")));
    put(b, o, "one_filesystem", json_boolean(!json_is_true(cert_jpath(scan, "scope.cross_mounts"))));
    put(b, o, "digests", copy_or_null(cert_jpath(scan, "scope.digests")));
    put(b, o, "size_filter", copy_or_null(cert_jpath(scan, "scope.size_filter")));
    put(b, o, "started", copy_or_null(json_object_get(scan, "started")));
    put(b, o, "finished", copy_or_null(json_object_get(scan, "finished")));
    put(b, o, "totals", copy_or_null(json_object_get(scan, "totals")));
    put(b, o, "skips", copy_or_null(json_object_get(scan, "skips")));
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
        json_pack("{s:I, s:I, s:I, s:I, s:I}", "targets", (json_int_t)json_array_size(targets),
                  "names", names, "erased", n[DP_WIPE_ERASED], "skipped", n[DP_WIPE_SKIPPED],
                  "failed", n[DP_WIPE_FAILED]));
    if (!json_is_true(cert_jpath(outcome, "rescan.performed")) ||
        json_integer_value(cert_jpath(outcome, "rescan.findings")) > 0)
        return dp_cert_outcome_name(DP_OUTCOME_FAILED);
    return dp_cert_outcome_name(n[DP_WIPE_SKIPPED] + n[DP_WIPE_FAILED] == 0 ? DP_OUTCOME_ERASED
                                                                           : DP_OUTCOME_PARTIAL);
}

static enum dp_status build_outcome(struct bld *b, json_t *cert, const json_t *scan,
                                    const json_t *wipe, const json_t *rescan, struct dp_error *err)
{
    json_t *o = json_object();
    put(b, cert, "outcome", o);
    if (o == NULL)
        return DP_OK;
    enum dp_status st = build_rescan(b, o, scan, rescan, err);
    if (st != DP_OK)
        return st;
    put(b, o, "result", json_string(summarise(b, o, json_object_get(cert, "targets"))));
    json_t *w = json_object();
    put(b, w, "method", copy_or_null(json_object_get(wipe, "method")));
    put(b, w, "started", copy_or_null(json_object_get(wipe, "started")));
    put(b, w, "finished", copy_or_null(json_object_get(wipe, "finished")));
    put(b, w, "plan_sha256", copy_or_null(cert_jpath(wipe, "plan.sha256")));
    put(b, w, "cleanup", copy_or_null(json_object_get(wipe, "cleanup")));
    put(b, o, "wipe", w);
    json_t *j = json_object();
    put(b, j, "head", copy_or_null(cert_jpath(wipe, "journal.head")));
    put(b, j, "records", copy_or_null(cert_jpath(wipe, "journal.records")));
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
                        json_integer_value(json_object_get(sum, "failed")) != n[DP_WIPE_FAILED]))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "wipe result summary disagrees with its targets");
    return DP_OK;
}

enum dp_status dp_cert_build(json_t **out, const json_t *case_details, const json_t *scan_report,
                             const json_t *wipe_result, const json_t *rescan_report,
                             const char *signer_keyid, struct dp_error *err)
{
    enum dp_status st = dp_cert_case_validate(case_details, err);
    if (st == DP_OK)
        st = check_report(scan_report, "scan report", err);
    if (st == DP_OK)
        st = check_wipe(wipe_result, err);
    if (st != DP_OK)
        return st;
    if (!cert_is_hex(signer_keyid, 16, true) && !cert_is_hex(signer_keyid, 16, false))
        return dp_error_set(err, DP_ERR_INVALID, 0, "signer key id must be 16 hex digits");
    struct bld b = {false};
    json_t *cert = json_pack("{s:s, s:i}", "format", DP_CERT_FORMAT, "schema", DP_CERT_SCHEMA);
    if (cert == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    put(&b, cert, "identity", build_identity(&b, scan_report, wipe_result, rescan_report));
    for (size_t i = 0; i < N_CASE_FIELDS; i++) {
        const json_t *v = cert_jpath(case_details, case_fields[i].path);
        if (jpath_set(cert, case_fields[i].path,
                      json_is_string(v) ? json_deep_copy(v) : json_null()) != 0)
            b.oom = true;
    }
    if (jpath_set(cert, "exhibit.filesystem",
                  copy_or_null(json_object_get(scan_report, "filesystem"))) != 0)
        b.oom = true;
    st = build_hash_set(&b, cert, scan_report, err);
    if (st == DP_OK) {
        put(&b, cert, "scan", build_scan(&b, scan_report));
        st = build_targets(&b, cert, scan_report, wipe_result, err);
    }
    if (st == DP_OK && !b.oom)
        st = build_outcome(&b, cert, scan_report, wipe_result, rescan_report, err);
    if (st == DP_OK) {
        char kid[17];
        for (int i = 0; i < 17; i++)
            kid[i] = (char)(signer_keyid[i] >= 'a' && signer_keyid[i] <= 'f'
                                ? signer_keyid[i] - 'a' + 'A'
                                : signer_keyid[i]);
        put(&b, cert, "signer", json_pack("{s:s}", "keyid", kid));
    }
    if (st == DP_OK && b.oom)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory building the certificate");
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

/* ---- checking ---------------------------------------------------------------------------- */

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
    json_array_foreach(loc, i, el)
    {
        char *raw = NULL;
        size_t n = 0;
        if (!dp_json_bytes_get(el, &raw, &n))
            return false;
        free(raw);
    }
    return true;
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
    for (size_t i = 0; i < N_CASE_FIELDS; i++) {
        const struct dp_cert_case_field *f = &case_fields[i];
        const json_t *v = cert_jpath(cert, f->path);
        if (f->required && (!json_is_string(v) || json_string_length(v) == 0))
            prob(c, "%s: missing", f->path);
        else if (v != NULL && !json_is_string(v) && !json_is_null(v))
            prob(c, "%s: not a string", f->path);
    }
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

/* Scan totals; returns the number of findings the scan reported (-1 when unknown). */
static json_int_t check_scan(struct chk *c, const json_t *cert)
{
    const json_t *totals = cert_jpath(cert, "scan.totals");
    if (!json_is_object(totals)) {
        prob(c, "scan.totals: missing");
        return -1;
    }
    if (!location_ok(cert_jpath(cert, "scan.root")) && !json_is_string(cert_jpath(cert, "scan.root")))
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
    json_int_t sum = 0;
    const json_t *by = json_object_get(totals, "skipped_by_reason");
    json_object_foreach((json_t *)by, key, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            prob(c, "scan.totals.skipped_by_reason.%s: not a count", key);
        else
            sum += json_integer_value(v);
    }
    if (skipped >= 0 && sum != skipped)
        prob(c, "scan.totals.skipped: %lld, but the reasons add up to %lld", (long long)skipped,
             (long long)sum);
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
        /* a file not read for its size carries the size and the limit it exceeded */
        else if (strcmp(reason, dp_skip_reason_name(DP_SKIP_TOO_LARGE)) == 0 &&
                 !too_large_ok(s))
            prob(c, "scan.skips[%zu]: too-large without a size over its limit", i);
    }
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
    json_int_t targets, names, erased, skipped, failed;
};

static void check_target(struct chk *c, const json_t *t, size_t i, struct counts *n)
{
    char L[40];
    snprintf(L, sizeof(L), "targets[%zu]", i);
    n->targets++;
    const char *status = json_string_value(json_object_get(t, "status"));
    enum dp_wipe_status ws = DP_WIPE_PLANNED;
    bool known = status != NULL && dp_wipe_status_parse(status, &ws) && ws != DP_WIPE_PLANNED;
    bool erased = known && ws == DP_WIPE_ERASED;
    if (status == NULL)
        prob(c, "%s.status: missing", L);
    else if (!known)
        prob(c, "%s.status: unknown value '%s'", L, status);
    else if (erased)
        n->erased++;
    else if (ws == DP_WIPE_SKIPPED)
        n->skipped++;
    else
        n->failed++;
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
        else if (erased && !json_is_true(rm))
            prob(c, "%s.names[%zu]: target erased but this name was not removed", L, j);
    }
    want_count(c, t, "size", L);
    want_count(c, t, "inode", L);
    check_digests(c, json_object_get(t, "digests"), L);
    check_matched(c, json_object_get(t, "matched"), L);
    const char *as = json_string_value(json_object_get(t, "assurance"));
    const char *reason = json_string_value(json_object_get(t, "reason"));
    enum dp_assurance level = DP_ASSURE_COUNT;
    bool level_ok = as != NULL && dp_assurance_parse(as, &level) && known &&
                    dp_assurance_fits(level, ws);
    if (erased) {
        const char *vr = dp_cert_get_str(t, "verification.result");
        const json_t *facts = json_object_get(t, "assurance_facts");
        if (!level_ok)
            prob(c, "%s.assurance: erased target without a valid assurance level", L);
        if (vr == NULL || strcmp(vr, "match") != 0)
            prob(c, "%s.verification.result: erased target not verified ('%s')", L,
                 vr ? vr : "missing");
        if (!json_is_array(facts) || json_array_size(facts) == 0)
            prob(c, "%s.assurance_facts: missing or empty", L);
    } else if (known) {
        if (!level_ok)
            prob(c, "%s.assurance: must be not-erased for a %s target", L, status);
        if (reason == NULL || *reason == '\0')
            prob(c, "%s.reason: a %s target needs the reason", L, status);
    }
}

static void check_summary(struct chk *c, const json_t *cert, const struct counts *n,
                          json_int_t scan_findings)
{
    const json_t *sum = cert_jpath(cert, "outcome.summary");
    static const char *const keys[] = {"targets", "names", "erased", "skipped", "failed"};
    const json_int_t have[] = {n->targets, n->names, n->erased, n->skipped, n->failed};
    for (size_t i = 0; i < 5; i++) {
        json_int_t v = want_count(c, sum, keys[i], "outcome.summary");
        if (v >= 0 && v != have[i])
            prob(c, "outcome.summary.%s: says %lld, the targets give %lld", keys[i], (long long)v,
                 (long long)have[i]);
    }
    if (scan_findings >= 0 && scan_findings != n->names)
        prob(c, "targets: %lld names, but the scan reported %lld findings", (long long)n->names,
             (long long)scan_findings);
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
    if (n >= 0 && tn >= 0 && n != tn)
        prob(c, "outcome.rescan.findings: %lld, but its totals say %lld", (long long)n,
             (long long)tn);
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
        json_array_append_new(shas, copy_or_null(json_object_get(l, "sha256")));
    if (!json_equal(shas, json_object_get(r, "hash_lists")))
        prob(c, "outcome.rescan.hash_lists: not the scan's hash lists");
    json_decref(shas);
    return n < 0 ? 0 : n;
}

static void check_outcome(struct chk *c, const json_t *cert, const struct counts *n)
{
    json_int_t rescan = check_rescan(c, cert);
    const char *res = dp_cert_get_str(cert, "outcome.result");
    const char *want = rescan < 0 || rescan > 0  ? DP_CERT_FAILED
                       : n->erased == n->targets ? DP_CERT_ERASED
                                                 : DP_CERT_PARTIAL;
    if (res == NULL) {
        prob(c, "outcome.result: missing");
    } else if (strcmp(res, DP_CERT_ERASED) != 0 && strcmp(res, DP_CERT_PARTIAL) != 0 &&
               strcmp(res, DP_CERT_FAILED) != 0) {
        prob(c, "outcome.result: unknown value '%s'", res);
    } else if (strcmp(res, want) != 0 && strcmp(res, DP_CERT_ERASED) == 0) {
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
        struct counts n = {0, 0, 0, 0, 0};
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
    if (c.oom) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory checking the certificate");
    } else if (c.p.count > 0) {
        char msg[sizeof(err->msg)];
        size_t used = (size_t)snprintf(msg, sizeof(msg), "%zu problem%s: ", c.p.count,
                                       c.p.count == 1 ? "" : "s");
        for (size_t i = 0; i < c.p.count && used < sizeof(msg); i++)
            used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s", i ? "; " : "",
                                     c.p.items[i]);
        st = dp_error_set(err, DP_ERR_VERIFY, 0, "%s", msg);
    }
    if (problems != NULL)
        *problems = c.p;
    else
        dp_cert_problems_release(&c.p);
    return st;
}

/* ---- the audit's hash set ---------------------------------------------------------------- */

/* Digests of the erased targets as hash entries; *count of them. */
static enum dp_status erased_entries(struct dp_hash_entry **out, size_t *count, const json_t *cert,
                                     bool trust_sizes, struct dp_error *err)
{
    size_t n = 0, k = 0, i;
    const json_t *t;
    json_array_foreach(json_object_get(cert, "targets"), i, t) {
        const char *status = json_string_value(json_object_get(t, "status"));
        if (status != NULL && strcmp(status, "erased") == 0)
            n += json_object_size(json_object_get(t, "digests"));
    }
    *out = NULL;
    *count = 0;
    struct dp_hash_entry *e = n > 0 ? calloc(n, sizeof(*e)) : NULL;
    if (n > 0 && e == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    json_array_foreach(json_object_get(cert, "targets"), i, t) {
        const char *status = json_string_value(json_object_get(t, "status"));
        if (status == NULL || strcmp(status, "erased") != 0)
            continue; /* the audit proves what the certificate says was erased */
        /* an unverified size must not decide which files are read */
        json_int_t size = trust_sizes ? json_integer_value(json_object_get(t, "size")) : -1;
        const char *algo;
        json_t *v;
        json_object_foreach(json_object_get(t, "digests"), algo, v) {
            enum dp_algo a;
            if (k == n || !json_is_string(v) || !dp_algo_parse(algo, strlen(algo), &a) ||
                !dp_hex_decode(e[k].digest, dp_algo_len(a), json_string_value(v),
                               json_string_length(v))) {
                free(e);
                return dp_error_set(err, DP_ERR_VERIFY, 0, "targets[%zu].digests.%s: not a digest",
                                    i, algo);
            }
            e[k].algo = (uint8_t)a;
            e[k].size = size < 0 ? -1 : (int64_t)size;
            k++;
        }
    }
    *out = e;
    *count = k;
    return DP_OK;
}

enum dp_status dp_cert_erased_hashset(struct dp_hashset **out, const json_t *cert,
                                      const char *name, bool trust_sizes, struct dp_error *err)
{
    *out = NULL;
    /* an audit must never report absence from a filter derived from unchecked data */
    enum dp_status st = dp_cert_check(cert, NULL, err);
    if (st != DP_OK)
        return st;
    struct dp_hash_entry *e = NULL;
    size_t n = 0;
    struct dp_hashset *set = NULL;
    char *text = NULL;
    if ((st = erased_entries(&e, &n, cert, trust_sizes, err)) != DP_OK ||
        (st = dp_hashset_new(&set, err)) != DP_OK)
        goto out;
    if (n > 0) {
        if ((text = dp_json_dump(cert)) == NULL) {
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
            goto out;
        }
        uint8_t sha[32];
        dp_sha256_buf(sha, text, strlen(text));
        if ((st = dp_hashset_add(set, name, "certificate", sha, e, n, err)) != DP_OK)
            goto out;
    }
    *out = set;
    set = NULL;
out:
    dp_hashset_free(set);
    free(e);
    free(text);
    return st;
}
