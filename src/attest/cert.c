/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: erasure certificate - what the certificate files share: dotted-path access, text
 * shapes (hex, UUID), the outcome vocabulary and its rule (docs/certificate.md).
 * Case details in cert_case.c, building in cert_build.c, the consistency check in
 * cert_check.c, the audit's hash set in cert_audit.c, signing in cert_sign.c, text in
 * cert_text.c. */
#include "deprive/cert.h"
#include "internal.h"

#include <string.h>

#include "deprive/error.h"

/* ---- dotted paths ------------------------------------------------------------------------ */

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

int cert_jpath_set(json_t *root, const char *path, json_t *value)
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

json_t *cert_copy_or_null(const json_t *v)
{
    return v != NULL ? json_deep_copy(v) : json_null();
}

/* ---- text shapes ------------------------------------------------------------------------- */

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

/* ---- the outcome ------------------------------------------------------------------------- */

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

enum dp_cert_outcome cert_outcome_rule(long long rescan_findings, bool all_erased)
{
    if (rescan_findings != 0) /* no re-scan (-1), or matches remain */
        return DP_OUTCOME_FAILED;
    return all_erased ? DP_OUTCOME_ERASED : DP_OUTCOME_PARTIAL;
}
