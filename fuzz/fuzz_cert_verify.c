/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: `deprive verify` end to end on a certificate whose signature is good. The
 * input is a certificate file's bytes; the harness signs them with the fixed fuzzing key
 * (fuzz_key.h) - with dp_cert_sign, as `deprive run` does, or, when that refuses the document
 * (no UUID, another signer), with dp_sign_document and whatever certificate id it holds - so
 * dp_cert_verify gets past the signature into the trusted comment, the id and signer checks
 * and dp_cert_check. Then the same signature over the bytes with one byte changed must fail.
 * Properties checked: a signature deprive made fails only for the certificate's own
 * problems; a valid verification means dp_cert_check passes; no changed byte verifies. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/sign.h"

#include "fuzz_key.h"

static struct dp_sign_seckey *sk;
static struct dp_sign_pubkey *pk;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (sodium_init() < 0)
        abort();
    static const char text[] = FUZZ_KEY_SECRET;
    char *p = fz_write("fuzz.sec", text, sizeof(text) - 1);
    struct dp_error err = {0};
    if (dp_sign_seckey_load(&sk, p, NULL, &err) != DP_OK ||
        dp_sign_seckey_pubkey(&pk, sk, &err) != DP_OK) {
        fprintf(stderr, "fuzz_cert_verify: the fuzzing key: %s\n", err.msg);
        abort();
    }
    free(p);
    char id[DP_SIGN_KEYID_HEX_SIZE];
    dp_sign_pubkey_keyid(pk, id);
    if (strcmp(id, FUZZ_KEY_ID) != 0)
        abort();
    return 0;
}

/* The certificate id for dp_sign_document when dp_cert_sign refused: the document's own when
 * it is a usable field value, else a fixed one (so the id check then fails). */
static const char *some_id(const uint8_t *data, size_t size, char *buf, size_t cap)
{
    snprintf(buf, cap, "00000000-0000-4000-8000-000000000000");
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    const char *cid = doc ? dp_cert_get_str(doc, "identity.certificate_id") : NULL;
    size_t n = cid ? strlen(cid) : 0;
    bool ok = n > 0 && n <= DP_SIGN_FIELD_VALUE_MAX && n < cap;
    for (size_t i = 0; ok && i < n; i++)
        ok = cid[i] >= 0x20 && cid[i] <= 0x7e;
    if (ok)
        memcpy(buf, cid, n + 1);
    json_decref(doc);
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > DP_CERT_FILE_MAX)
        return 0;
    const char *d = (const char *)data;
    char *sig = NULL;
    bool by_cert_sign = dp_cert_sign(&sig, sk, d, size, "fuzz.json", NULL) == DP_OK;
    if (!by_cert_sign) {
        char idbuf[DP_SIGN_FIELD_VALUE_MAX + 1];
        const struct dp_sign_field f = {"certificate", some_id(data, size, idbuf, sizeof(idbuf))};
        if (dp_sign_document(&sig, sk, d, size, "fuzz.json", &f, 1, NULL, NULL) != DP_OK)
            return 0;
    }
    size_t sl = strlen(sig);
    struct dp_cert_verified v = {0};
    struct dp_error err = {0};
    enum dp_status st = dp_cert_verify(&v, pk, d, size, sig, sl, &err);
    if (st == DP_OK) {
        if (v.cert == NULL || v.problems.count != 0 || dp_cert_check(v.cert, NULL, NULL) != DP_OK)
            abort();
        (void)dp_cert_render_text(fz_devnull(), v.cert, NULL);
    } else if (st != DP_ERR_VERIFY || err.msg[0] == '\0') {
        abort();
    } else if (by_cert_sign && v.cert != NULL && v.problems.count == 0 &&
               dp_cert_check(v.cert, NULL, NULL) == DP_OK) {
        abort(); /* deprive's own signature over a consistent certificate must verify */
    }
    dp_cert_verified_release(&v);
    if (size > 0) { /* one byte changed: the signature no longer holds */
        char *t = malloc(size);
        if (t == NULL)
            abort();
        memcpy(t, d, size);
        t[size / 2] ^= 0x01;
        if (dp_cert_verify(NULL, pk, t, size, sig, sl, NULL) == DP_OK)
            abort();
        free(t);
    }
    free(sig);
    return 0;
}
