/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: minisign keys and signatures from anyone - what `deprive verify -p PUB`
 * reads before it trusts anything. The first byte chooses what the rest is:
 *   0  "PUBKEY-BASE64\nSIGNATURE-FILE": the key parsed (dp_sign_pubkey_from_base64), then the
 *      .minisig text verified over a fixed document (dp_sign_verify, prehashed only and with
 *      legacy signatures allowed); the trusted comment of a valid one parsed as deprive's
 *   1  a public key file (dp_sign_pubkey_load, from a file)
 *   2  a secret key file (dp_sign_seckey_file_encrypted, dp_sign_seckey_load without a
 *      passphrase: an encrypted key stops before scrypt, so the KDF's cost is not fuzzed)
 *   3  a trusted comment (dp_cert_trusted_parse) and a key id (dp_sign_keyid_parse)
 * Seeds (fuzz/gen_seeds.c) hold valid keys and signatures over FUZZ_SIGN_DOCUMENT. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/sign.h"

#include "fuzz_sign_doc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (sodium_init() < 0)
        abort();
    return 0;
}

static void verify(const uint8_t *data, size_t size)
{
    size_t kl, sl;
    const uint8_t *sig;
    if (!fz_split(data, size, "\n", &kl, &sig, &sl))
        return;
    char *b64 = fz_strndup(data, kl);
    struct dp_sign_pubkey *pk = NULL;
    if (dp_sign_pubkey_from_base64(&pk, b64, NULL) == DP_OK) {
        char keyid[DP_SIGN_KEYID_HEX_SIZE], line[DP_SIGN_PUBKEY_B64_SIZE];
        dp_sign_pubkey_keyid(pk, keyid);
        dp_sign_pubkey_base64(pk, line);
        static const char doc[] = FUZZ_SIGN_DOCUMENT;
        for (unsigned flags = 0; flags <= DP_SIGN_VERIFY_ALLOW_LEGACY; flags++) {
            char *tc = NULL;
            struct dp_error err = {0};
            enum dp_status st = dp_sign_verify(&tc, pk, doc, sizeof(doc) - 1, (const char *)sig,
                                               sl, flags, &err);
            if (st == DP_OK) {
                if (tc == NULL || strchr(tc, '\n') != NULL)
                    abort();
                struct dp_cert_trusted t;
                (void)dp_cert_trusted_parse(&t, tc, NULL);
            } else if (tc != NULL || err.msg[0] == '\0') {
                abort();
            }
            free(tc);
        }
        dp_sign_pubkey_free(pk);
    }
    free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 4;
    data++, size--;
    switch (mode) {
    case 0:
        verify(data, size);
        break;
    case 1: {
        char *p = fz_write("key.pub", data, size);
        struct dp_sign_pubkey *pk = NULL;
        if (dp_sign_pubkey_load(&pk, p, NULL) == DP_OK)
            dp_sign_pubkey_free(pk);
        free(p);
        break;
    }
    case 2: {
        char *p = fz_write("key.sec", data, size);
        bool enc = false;
        (void)dp_sign_seckey_file_encrypted(p, &enc, NULL);
        struct dp_sign_seckey *sk = NULL;
        if (dp_sign_seckey_load(&sk, p, NULL, NULL) == DP_OK) {
            struct dp_sign_pubkey *pk = NULL;
            if (dp_sign_seckey_pubkey(&pk, sk, NULL) == DP_OK)
                dp_sign_pubkey_free(pk);
            dp_sign_seckey_free(sk);
        }
        free(p);
        break;
    }
    default: {
        char *s = fz_strndup(data, size);
        struct dp_cert_trusted t;
        (void)dp_cert_trusted_parse(&t, s, NULL);
        char id[DP_SIGN_KEYID_HEX_SIZE];
        (void)dp_sign_keyid_parse(id, s);
        free(s);
        break;
    }
    }
    return 0;
}
