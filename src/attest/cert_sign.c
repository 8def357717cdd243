/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: certificate signatures - the certificate's trusted comment (built by
 * dp_sign_trusted_comment in sign_doc.c) and its parser, signing, verification, journal
 * cross-check (docs/certificate.md). */
#include "deprive/cert.h"
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/journal.h"
#include "deprive/report.h"
#include "deprive/sign.h"
#include "deprive/util.h"

/* ---- trusted comment, signing, verification ---------------------------------------------- */

/* The comment itself is built by dp_sign_trusted_comment (sign_doc.c), as for every signature
 * deprive makes; these add the certificate id and read it back. */

enum dp_status dp_cert_trusted_comment(char *buf, size_t size, const char *cert_file_basename,
                                       const uint8_t sha256[32], const char *keyid,
                                       const char *cert_id, struct dp_error *err)
{
    char kid[DP_SIGN_KEYID_HEX_SIZE];
    if (dp_sign_keyid_parse(kid, keyid) && !cert_is_uuid(cert_id)) {
        if (size > 0)
            buf[0] = '\0';
        return dp_error_set(err, DP_ERR_INVALID, 0, "certificate id is not a UUID");
    }
    const struct dp_sign_field id = {"certificate", cert_id};
    return dp_sign_trusted_comment(buf, size, cert_file_basename, sha256, keyid, &id, 1, err);
}

/* One "key:value" field of a trusted comment into out. */
static bool trusted_field(struct dp_cert_trusted *out, const char *f, size_t n, unsigned *seen)
{
    const char *colon = memchr(f, ':', n);
    if (colon == NULL)
        return false;
    size_t kl = (size_t)(colon - f), vl = n - kl - 1;
    const char *v = colon + 1;
    static const char *const keys[] = {"timestamp", "file", "sha256", "keyid", "certificate"};
    for (unsigned k = 0; k < 5; k++) {
        if (strlen(keys[k]) != kl || memcmp(keys[k], f, kl) != 0)
            continue;
        if (*seen & (1u << k))
            return false;
        *seen |= 1u << k;
        char tmp[256];
        if (vl >= sizeof(tmp))
            return false;
        memcpy(tmp, v, vl);
        tmp[vl] = '\0';
        switch (k) {
        case 0: {
            char *end = NULL;
            errno = 0;
            out->timestamp = strtoll(tmp, &end, 10);
            return vl > 0 && *end == '\0' && errno == 0 && tmp[0] != '-';
        }
        case 1:
            memcpy(out->file, tmp, vl + 1);
            return true;
        case 2:
            return dp_hex_decode(out->sha256, 32, tmp, vl);
        case 3:
            if (!cert_is_hex(tmp, 16, true))
                return false;
            memcpy(out->keyid, tmp, 17);
            return true;
        default:
            if (!cert_is_uuid(tmp))
                return false;
            memcpy(out->cert_id, tmp, 37);
            return true;
        }
    }
    return true; /* unknown keys are ignored */
}

enum dp_status dp_cert_trusted_parse(struct dp_cert_trusted *out, const char *text,
                                     struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    out->timestamp = -1;
    unsigned seen = 0;
    const char *p = text;
    for (;;) {
        const char *tab = strchr(p, '\t');
        size_t n = tab ? (size_t)(tab - p) : strlen(p);
        if (!trusted_field(out, p, n, &seen))
            return dp_error_set(err, DP_ERR_VERIFY, 0,
                                "trusted comment is not a deprive certificate comment: bad "
                                "field '%.*s'",
                                (int)(n > 80 ? 80 : n), p);
        if (tab == NULL)
            break;
        p = tab + 1;
    }
    if ((seen & (1u << 2)) == 0 || (seen & (1u << 3)) == 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "trusted comment carries no certificate sha256 and keyid");
    return DP_OK;
}

enum dp_status dp_cert_sign(char **sig_out, const struct dp_sign_seckey *sk, const char *data,
                            size_t len, const char *cert_file_basename, struct dp_error *err)
{
    json_error_t je;
    json_t *cert = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (cert == NULL)
        return dp_error_set(err, DP_ERR_PARSE, 0, "certificate: line %d: %s", je.line, je.text);
    char kid[DP_SIGN_KEYID_HEX_SIZE];
    enum dp_status st = DP_OK;
    const char *cid = dp_cert_get_str(cert, "identity.certificate_id");
    const char *signer = dp_cert_get_str(cert, "signer.keyid");
    dp_sign_seckey_keyid(sk, kid);
    if (cid == NULL || signer == NULL) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "not a certificate (no id or signer)");
        goto out;
    }
    if (strcmp(signer, kid) != 0) {
        st = dp_error_set(err, DP_ERR_INVALID, 0,
                          "the certificate names signer key %s, but the key is %s", signer, kid);
        goto out;
    }
    if (!cert_is_uuid(cid)) {
        st = dp_error_set(err, DP_ERR_INVALID, 0, "certificate id is not a UUID");
        goto out;
    }
    const struct dp_sign_field id = {"certificate", cid};
    st = dp_sign_document(sig_out, sk, data, len, cert_file_basename, &id, 1, NULL, err);
out:
    json_decref(cert);
    return st;
}

void dp_cert_verified_release(struct dp_cert_verified *v)
{
    if (v == NULL)
        return;
    json_decref(v->cert);
    v->cert = NULL;
    dp_cert_problems_release(&v->problems);
}

static enum dp_status verify_signature(struct dp_cert_verified *v, const struct dp_sign_pubkey *pk,
                                       const char *data, size_t len, const char *sig,
                                       size_t sig_len, struct dp_error *err)
{
    char *tc = NULL;
    enum dp_status st = dp_sign_verify(&tc, pk, data, len, sig, sig_len, 0, err);
    if (st == DP_ERR_NOMEM)
        return st;
    if (st != DP_OK) {
        dp_error_prefix(err, "signature: ");
        return st;
    }
    st = dp_cert_trusted_parse(&v->trusted, tc, err);
    free(tc);
    if (st != DP_OK)
        return st;
    char hex[65];
    dp_hex_encode(hex, v->trusted.sha256, 32);
    if (strcmp(hex, v->sha256_hex) != 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "the certificate's SHA-256 %s differs from the signed %s",
                            v->sha256_hex, hex);
    if (strcmp(v->trusted.keyid, v->keyid) != 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "the trusted comment names key %s, not the public key %s",
                            v->trusted.keyid, v->keyid);
    return DP_OK;
}

enum dp_status dp_cert_verify(struct dp_cert_verified *out, const struct dp_sign_pubkey *pk,
                              const char *data, size_t len, const char *sig, size_t sig_len,
                              struct dp_error *err)
{
    struct dp_cert_verified local, *v = out ? out : &local;
    memset(v, 0, sizeof(*v));
    dp_sign_pubkey_keyid(pk, v->keyid);
    uint8_t sha[32];
    dp_sha256_buf(sha, data, len);
    dp_hex_encode(v->sha256_hex, sha, 32);
    enum dp_status st = verify_signature(v, pk, data, len, sig, sig_len, err);
    if (st != DP_OK)
        goto out;
    json_error_t je;
    v->cert = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (v->cert == NULL) {
        st = dp_error_set(err, DP_ERR_VERIFY, 0, "signed, but not valid JSON: line %d: %s", je.line,
                          je.text);
        goto out;
    }
    const char *res = dp_cert_get_str(v->cert, "outcome.result");
    snprintf(v->result, sizeof(v->result), "%s", res ? res : "");
    const char *cid = dp_cert_get_str(v->cert, "identity.certificate_id");
    const char *signer = dp_cert_get_str(v->cert, "signer.keyid");
    if (cid == NULL || strcmp(cid, v->trusted.cert_id) != 0) {
        st = dp_error_set(err, DP_ERR_VERIFY, 0, "certificate id '%s' is not the signed '%s'",
                          cid ? cid : "", v->trusted.cert_id);
        goto out;
    }
    if (signer == NULL || strcmp(signer, v->keyid) != 0) {
        st = dp_error_set(err, DP_ERR_VERIFY, 0, "signer.keyid '%s' is not the key %s",
                          signer ? signer : "", v->keyid);
        goto out;
    }
    st = dp_cert_check(v->cert, &v->problems, err);
out:
    if (v == &local)
        dp_cert_verified_release(&local);
    return st;
}

/* Is record number recs of the journal at path (a chain already verified) a "retry" naming
 * want as the head before it (its "prev")? Then the journal passed through want after recs
 * records and went on as a resume that tries failed targets again: *later records more. Any
 * other continuation is not accepted. */
static bool passes_through(const char *path, uint64_t recs, const char *want, uint64_t total,
                           uint64_t *later)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    for (uint64_t i = 0; getline(&line, &cap, f) > 0 && i <= recs; i++) {
        if (i < recs)
            continue;
        json_t *rec = json_loads(line, 0, NULL);
        const char *prev = json_string_value(json_object_get(rec, "prev"));
        const char *type = json_string_value(json_object_get(rec, "type"));
        found = prev != NULL && strcmp(prev, want) == 0 && type != NULL &&
                strcmp(type, "retry") == 0 &&
                json_integer_value(json_object_get(rec, "seq")) == (json_int_t)recs;
        json_decref(rec);
    }
    free(line);
    fclose(f);
    *later = total - recs;
    return found;
}

enum dp_status dp_cert_check_journal(const json_t *cert, const char *journal_path,
                                     struct dp_error *err)
{
    return dp_cert_check_journal_at(cert, journal_path, NULL, err);
}

enum dp_status dp_cert_check_journal_at(const json_t *cert, const char *journal_path,
                                        uint64_t *later, struct dp_error *err)
{
    if (later != NULL)
        *later = 0;
    const char *want = dp_cert_get_str(cert, "outcome.journal.head");
    const json_t *recs = cert_jpath(cert, "outcome.journal.records");
    if (want == NULL || !json_is_integer(recs))
        return dp_error_set(err, DP_ERR_VERIFY, 0, "the certificate records no journal head");
    char head[DP_JOURNAL_HEX_LEN];
    uint64_t n = 0;
    enum dp_status st = dp_journal_verify_file(journal_path, head, &n, NULL, NULL, err);
    if (st != DP_OK) {
        dp_error_prefix(err, "journal '%s': ", journal_path);
        return st;
    }
    uint64_t more = 0;
    if (later != NULL && (json_int_t)n > json_integer_value(recs) &&
        json_integer_value(recs) >= 0 &&
        passes_through(journal_path, (uint64_t)json_integer_value(recs), want, n, &more)) {
        *later = more; /* the certificate's head is a point the chain went through */
        return DP_OK;
    }
    if (strcmp(head, want) != 0 || (json_int_t)n != json_integer_value(recs))
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "journal '%s' ends at %s after %llu records, but the certificate "
                            "records %s after %lld",
                            journal_path, head, (unsigned long long)n, want,
                            (long long)json_integer_value(recs));
    return DP_OK;
}
