/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: what an audit looks for - the hash set of everything a certificate records as
 * erased (docs/certificate.md; `deprive audit`). The design's attest-stage `audit` module: it
 * reads a certificate that dp_cert_check accepted and hands the scan its filter. */
#include "deprive/cert.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "deprive/assurance.h"
#include "deprive/hashset.h"
#include "deprive/json.h"
#include "deprive/pdq.h"
#include "deprive/types.h"
#include "deprive/util.h"

/* The audit proves what the certificate says was erased: skipped and failed targets are not
 * claimed gone, so they are not looked for. */
static bool is_erased(const json_t *t)
{
    const char *status = json_string_value(json_object_get(t, "status"));
    return status != NULL && strcmp(status, dp_wipe_status_name(DP_WIPE_ERASED)) == 0;
}

/* Target i's digests as entries e[*k] onwards (room for n in all). */
static enum dp_status target_entries(struct dp_hash_entry *e, size_t n, size_t *k, const json_t *t,
                                     size_t i, bool trust_sizes, struct dp_error *err)
{
    /* an unverified size must not decide which files are read; a member's is its own */
    const json_t *member = json_object_get(t, "member"); /* null for a file */
    const json_t *emb = json_object_get(t, "embedded");  /* null unless carved */
    const json_t *sz = json_is_object(emb)      ? json_object_get(emb, "length")
                       : json_is_object(member) ? json_object_get(member, "size")
                                                : json_object_get(t, "size");
    json_int_t size = trust_sizes && json_is_integer(sz) ? json_integer_value(sz) : -1;
    const char *algo;
    json_t *v;
    json_object_foreach(json_object_get(t, "digests"), algo, v)
    {
        enum dp_algo a;
        if (*k == n || !json_is_string(v) || !dp_algo_parse(algo, strlen(algo), &a) ||
            !dp_hex_decode(e[*k].digest, dp_algo_len(a), json_string_value(v),
                           json_string_length(v)))
            return dp_error_set(err, DP_ERR_VERIFY, 0, "targets[%zu].digests.%s: not a digest", i,
                                algo);
        e[*k].algo = (uint8_t)a;
        e[*k].size = size < 0 ? -1 : (int64_t)size;
        e[*k].quality = -1;
        (*k)++;
    }
    /* the erased image's PDQ: the audit looks for altered copies of it too */
    const json_t *pdq = json_object_get(t, "pdq");
    const json_t *hash = json_object_get(pdq, "hash");
    if (hash != NULL) {
        struct dp_pdq h;
        json_int_t q = json_integer_value(json_object_get(pdq, "quality"));
        if (*k == n || !json_is_string(hash) ||
            !dp_pdq_parse(json_string_value(hash), json_string_length(hash), &h))
            return dp_error_set(err, DP_ERR_VERIFY, 0, "targets[%zu].pdq.hash: not a PDQ hash",
                                i);
        memcpy(e[*k].digest, h.b, sizeof(h.b));
        e[*k].algo = DP_ALGO_PDQ;
        e[*k].size = -1;
        e[*k].quality = (int16_t)(q >= 0 && q <= 100 ? q : -1);
        (*k)++;
    }
    return DP_OK;
}

/* Digests of the erased targets as hash entries; *count of them. */
static enum dp_status erased_entries(struct dp_hash_entry **out, size_t *count, const json_t *cert,
                                     bool trust_sizes, struct dp_error *err)
{
    size_t n = 0, k = 0, i;
    const json_t *t;
    json_array_foreach(json_object_get(cert, "targets"), i, t)
    {
        if (is_erased(t))
            n += json_object_size(json_object_get(t, "digests")) +
                 (json_object_get(json_object_get(t, "pdq"), "hash") != NULL);
    }
    *out = NULL;
    *count = 0;
    struct dp_hash_entry *e = n > 0 ? calloc(n, sizeof(*e)) : NULL;
    if (n > 0 && e == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    json_array_foreach(json_object_get(cert, "targets"), i, t)
    {
        enum dp_status st = is_erased(t) ? target_entries(e, n, &k, t, i, trust_sizes, err) : DP_OK;
        if (st != DP_OK) {
            free(e);
            return st;
        }
    }
    *out = e;
    *count = k;
    return DP_OK;
}

enum dp_status dp_cert_erased_hashset(struct dp_hashset **out, const json_t *cert, const char *name,
                                      bool trust_sizes, struct dp_error *err)
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
