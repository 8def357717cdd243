/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: case details - the field table, case files, setting and validating fields
 * (docs/certificate.md, "Case details"). */
#include "deprive/cert.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "deprive/fsinfo.h"
#include "deprive/json.h"
#include "deprive/util.h"

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
                            "case details: %s (--%s): not one of hdd, ssd, flash, unknown", f->path,
                            f->flag);
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
    if (cert_jpath_set(case_doc, f->path, s) != 0)
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
        if (f->required && !json_is_string(cert_jpath(case_doc, f->path)) && used < sizeof(missing))
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
