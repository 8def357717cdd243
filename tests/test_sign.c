/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: sign module - keys, signatures, tampering, interop with minisign, keygen CLI. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/sign.h"
#include "deprive/util.h"

/* Cheap scrypt cost for most tests (libsodium's "interactive": 16 MiB); minisign reads the
 * cost from the key file, so such keys still interoperate. */
#define FAST_OPS crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE
#define FAST_MEM crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE

/* Known answers made with Debian's minisign 0.11:
 *   minisign -G -W -p a.pub -s a.key          (a throwaway, unencrypted test key)
 *   printf 'deprive known-answer test\n' > kat.txt
 *   minisign -S -s a.key -m kat.txt -t "$KAT_TC" -x kat.minisig
 *   minisign -S -l -s a.key -m kat.txt -t "legacy kat" -x kat.legacy.minisig */
/* minisign prints key ids with PRIX64: no leading zeros (1 key in 16 has one). */
static const char *minisign_id(const char *id)
{
    while (id[0] == '0' && id[1] != '\0')
        id++;
    return id;
}

static const char KAT_PUB_FILE[] = "untrusted comment: minisign public key A26D46E6986C0CA4\n"
                                   "RWSkDGyY5kZtov1K47a42WEBp3X0LbZXh3db4LAcRSVRjMVxdl58/PrV\n";
static const char KAT_PUB_B64[] = "RWSkDGyY5kZtov1K47a42WEBp3X0LbZXh3db4LAcRSVRjMVxdl58/PrV";
static const char KAT_KEYID[] = "A26D46E6986C0CA4";
static const char KAT_SEC_FILE[] =
    "untrusted comment: minisign encrypted secret key\n"
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAApAxsmOZGbaLSnZuLVnCj"
    "is+BGjW3iafCQTKOAa862m0BWfD+M9C+9f1K47a42WEBp3X0LbZXh3db4LAcRSVRjMVxdl58/PrVAAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
static const char KAT_DATA[] = "deprive known-answer test\n";
static const char KAT_TC[] = "timestamp:1700000000\tfile:kat.txt\thashed";
static const char KAT_SIG[] =
    "untrusted comment: signature from minisign secret key\n"
    "RUSkDGyY5kZtorYsXNeEY4KFLMLVuxr4nsoFFk7RWKo+HISPTwm2HaK8LoCdEe2Yo4bvod8FtcQG6ZdTDJCjaB7PDgIP"
    "Ya1gtAA=\n"
    "trusted comment: timestamp:1700000000\tfile:kat.txt\thashed\n"
    "l0YxzsscJdTFEXNgLM0P7E3K0JjThV2YaC5fqzSaU41oRdndZT/wgSiYk68IIK98ycSQ+JbU+tZWrysF23ojBQ==\n";
static const char KAT_LEGACY_SIG[] =
    "untrusted comment: signature from minisign secret key\n"
    "RWSkDGyY5kZtotCg+oYgw5LTrvhis4oDIU3wUDaYZ2KD0N1Cjtwe6+xYqFjePtN+2OgjpTcGi+HUHuEtm97GnC4ia/rs"
    "4Fc56gM=\n"
    "trusted comment: legacy kat\n"
    "Dlv1TmxUc3hSbhgoWpGW+CE3QgqkPdvQ7z5H4Gt/F8oF37ReXoI1CyVHSBeN0N3or8WEvrtrCgvsxi2beSP0Dg==\n";

static const char MSG[] = "erasure certificate v1\n";
static const char TC[] = "timestamp:1700000000\tfile:cert.json\tkey:test";

/* ---- helpers ---- */

struct keys {
    char *dir, *pub, *sec;
    struct dp_sign_pubkey *pk;
    struct dp_sign_seckey *sk;
};

/* New key pair in a fresh directory; pass NULL = unencrypted. */
static void keys_make(struct keys *k, const char *pass, bool fast)
{
    memset(k, 0, sizeof(*k));
    k->dir = tu_mkdtemp();
    k->pub = tu_path(k->dir, "k.pub");
    k->sec = tu_path(k->dir, "k.key");
    struct dp_sign_keygen_opts o = {.passphrase = pass};
    if (fast) {
        o.opslimit = FAST_OPS;
        o.memlimit = FAST_MEM;
    }
    struct dp_error err = {0};
    struct dp_sign_pubkey *made = NULL;
    assert_int_equal(dp_sign_keygen(&made, k->pub, k->sec, &o, &err), DP_OK);
    assert_int_equal(dp_sign_pubkey_load(&k->pk, k->pub, &err), DP_OK);
    assert_true(dp_sign_pubkey_equal(made, k->pk));
    dp_sign_pubkey_free(made);
    assert_int_equal(dp_sign_seckey_load(&k->sk, k->sec, pass, &err), DP_OK);
}

static void keys_free(struct keys *k)
{
    dp_sign_pubkey_free(k->pk);
    dp_sign_seckey_free(k->sk);
    tu_rm_rf(k->dir);
    free(k->dir);
    free(k->pub);
    free(k->sec);
}

static char *sign_msg(const struct dp_sign_seckey *sk, const void *data, size_t len, const char *tc)
{
    char *sig = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_sign_sign(&sig, sk, data, len, tc, NULL, &err), DP_OK);
    assert_non_null(sig);
    return sig;
}

static enum dp_status verify(const struct dp_sign_pubkey *pk, const void *data, size_t len,
                             const char *sig, size_t sig_len, struct dp_error *err)
{
    char *tc = NULL;
    enum dp_status st = dp_sign_verify(&tc, pk, data, len, sig, sig_len, 0, err);
    if (st == DP_OK)
        assert_non_null(tc);
    else
        assert_null(tc);
    free(tc);
    return st;
}

static void write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static mode_t file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

static bool have_minisign(const char *test)
{
    if (tu_have("minisign"))
        return true;
    printf("SKIP %s: minisign is not on PATH\n", test);
    return false;
}

/* Start and end offsets of line n (0-based) of text. Offsets, not pointers: with strchr, GCC 12
 * at -O2/-O3 falsely reported a dangling pointer to sign_msg's local (-Wdangling-pointer). */
static void line_span(const char *text, int n, size_t *start, size_t *end)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        off += strcspn(text + off, "\n");
        assert_int_equal(text[off], '\n');
        off++;
    }
    *start = off;
    off += strcspn(text + off, "\n");
    assert_int_equal(text[off], '\n');
    *end = off;
}

/* ---- known answers ---- */

static void test_kat_minisign(void **state)
{
    (void)state;
    struct dp_error err = {0};
    struct dp_sign_pubkey *pk = NULL, *pk2 = NULL;
    assert_int_equal(dp_sign_pubkey_from_base64(&pk, KAT_PUB_B64, &err), DP_OK);
    char id[DP_SIGN_KEYID_HEX_SIZE], b64[DP_SIGN_PUBKEY_B64_SIZE];
    dp_sign_pubkey_keyid(pk, id);
    assert_string_equal(id, KAT_KEYID);
    dp_sign_pubkey_base64(pk, b64);
    assert_string_equal(b64, KAT_PUB_B64);
    assert_int_equal(
        dp_sign_pubkey_from_base64(&pk2,
                                   "  \t"
                                   "RWSkDGyY5kZtov1K47a42WEBp3X0LbZXh3db4LAcRSVRjMVxdl58/PrV\r\n",
                                   &err),
        DP_OK);
    assert_true(dp_sign_pubkey_equal(pk, pk2));
    dp_sign_pubkey_free(pk2);

    /* minisign's prehashed signature verifies, trusted comment comes back exactly */
    char *tc = NULL;
    assert_int_equal(
        dp_sign_verify(&tc, pk, KAT_DATA, strlen(KAT_DATA), KAT_SIG, strlen(KAT_SIG), 0, &err),
        DP_OK);
    assert_string_equal(tc, KAT_TC);
    free(tc);
    tc = NULL;
    /* legacy: refused by default, accepted on request */
    assert_int_equal(dp_sign_verify(&tc, pk, KAT_DATA, strlen(KAT_DATA), KAT_LEGACY_SIG,
                                    strlen(KAT_LEGACY_SIG), 0, &err),
                     DP_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "legacy"));
    assert_null(tc);
    assert_int_equal(dp_sign_verify(&tc, pk, KAT_DATA, strlen(KAT_DATA), KAT_LEGACY_SIG,
                                    strlen(KAT_LEGACY_SIG), DP_SIGN_VERIFY_ALLOW_LEGACY, &err),
                     DP_OK);
    assert_string_equal(tc, "legacy kat");
    free(tc);
    /* legacy over other data fails even when allowed */
    assert_int_equal(dp_sign_verify(NULL, pk, "x", 1, KAT_LEGACY_SIG, strlen(KAT_LEGACY_SIG),
                                    DP_SIGN_VERIFY_ALLOW_LEGACY, &err),
                     DP_ERR_VERIFY);

    /* Ed25519 is deterministic: deprive with minisign's key gives minisign's exact lines */
    char *dir = tu_mkdtemp();
    char *sec = tu_path(dir, "a.key"), *pub = tu_path(dir, "a.pub");
    write_text(sec, KAT_SEC_FILE);
    write_text(pub, KAT_PUB_FILE);
    struct dp_sign_seckey *sk = NULL;
    bool enc = true;
    assert_int_equal(dp_sign_seckey_file_encrypted(sec, &enc, &err), DP_OK);
    assert_false(enc);
    assert_int_equal(dp_sign_seckey_load(&sk, sec, NULL, &err), DP_OK);
    dp_sign_seckey_keyid(sk, id);
    assert_string_equal(id, KAT_KEYID);
    assert_int_equal(dp_sign_pubkey_load(&pk2, pub, &err), DP_OK);
    assert_true(dp_sign_pubkey_equal(pk, pk2));
    dp_sign_pubkey_free(pk2);
    assert_int_equal(dp_sign_seckey_pubkey(&pk2, sk, &err), DP_OK);
    assert_true(dp_sign_pubkey_equal(pk, pk2));
    char *sig = NULL;
    assert_int_equal(dp_sign_sign(&sig, sk, KAT_DATA, strlen(KAT_DATA), KAT_TC,
                                  "signature from minisign secret key", &err),
                     DP_OK);
    assert_string_equal(sig, KAT_SIG);
    free(sig);
    dp_sign_seckey_free(sk);
    dp_sign_pubkey_free(pk2);
    dp_sign_pubkey_free(pk);
    tu_rm_rf(dir);
    free(dir);
    free(sec);
    free(pub);
}

/* ---- keys ---- */

static void test_roundtrip_unencrypted(void **state)
{
    (void)state;
    mode_t old = umask(022);
    struct keys k;
    keys_make(&k, NULL, false);
    umask(old);
    assert_int_equal(file_mode(k.sec), 0600);
    assert_int_equal(file_mode(k.pub), 0644);
    struct dp_error err = {0};
    bool enc = true;
    assert_int_equal(dp_sign_seckey_file_encrypted(k.sec, &enc, &err), DP_OK);
    assert_false(enc);
    /* a passphrase given for an unencrypted key is ignored */
    struct dp_sign_seckey *sk2 = NULL;
    assert_int_equal(dp_sign_seckey_load(&sk2, k.sec, "whatever", &err), DP_OK);
    dp_sign_seckey_free(sk2);

    char id1[DP_SIGN_KEYID_HEX_SIZE], id2[DP_SIGN_KEYID_HEX_SIZE];
    dp_sign_pubkey_keyid(k.pk, id1);
    dp_sign_seckey_keyid(k.sk, id2);
    assert_string_equal(id1, id2);
    assert_int_equal(strlen(id1), 16);
    assert_int_equal(strspn(id1, "0123456789ABCDEF"), 16);

    /* the public key file is minisign's: comment with the id, then the base64 line */
    char *pubtext = tu_read(k.pub, NULL);
    char b64[DP_SIGN_PUBKEY_B64_SIZE], want[256];
    dp_sign_pubkey_base64(k.pk, b64);
    snprintf(want, sizeof(want), "untrusted comment: minisign public key %s\n%s\n",
             minisign_id(id1), b64);
    assert_string_equal(pubtext, want);
    free(pubtext);
    char *sectext = tu_read(k.sec, NULL);
    assert_true(strncmp(sectext, "untrusted comment: deprive secret key\nRWQAAEIy", 46) == 0);
    free(sectext);

    char *sig = sign_msg(k.sk, MSG, strlen(MSG), TC);
    size_t s, e;
    line_span(sig, 0, &s, &e);
    assert_true(strncmp(sig, "untrusted comment: signature from deprive secret key\n", 53) == 0);
    line_span(sig, 1, &s, &e);
    assert_int_equal(e - s, 100);
    uint8_t blob[74];
    size_t got = 0;
    assert_int_equal(sodium_base642bin(blob, sizeof(blob), sig + s, e - s, NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, 74);
    assert_memory_equal(blob, "ED", 2); /* prehashed */
    line_span(sig, 2, &s, &e);
    assert_true(strncmp(sig + s, "trusted comment: ", 17) == 0);
    assert_true(strncmp(sig + s + 17, TC, strlen(TC)) == 0);
    line_span(sig, 3, &s, &e);
    assert_int_equal(e - s, 88);
    assert_int_equal(sig[e + 1], '\0');

    char *tc = NULL;
    assert_int_equal(dp_sign_verify(&tc, k.pk, MSG, strlen(MSG), sig, strlen(sig), 0, &err), DP_OK);
    assert_string_equal(tc, TC);
    free(tc);
    /* empty data and empty trusted comment are fine */
    free(sig);
    sig = sign_msg(k.sk, NULL, 0, "");
    tc = NULL;
    assert_int_equal(dp_sign_verify(&tc, k.pk, NULL, 0, sig, strlen(sig), 0, &err), DP_OK);
    assert_string_equal(tc, "");
    free(tc);
    assert_int_equal(verify(k.pk, "", 1, sig, strlen(sig), &err), DP_ERR_VERIFY);
    free(sig);
    keys_free(&k);
}

static void test_roundtrip_passphrase(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k, "correct horse", true);
    struct dp_error err = {0};
    bool enc = false;
    assert_int_equal(dp_sign_seckey_file_encrypted(k.sec, &enc, &err), DP_OK);
    assert_true(enc);
    char *sectext = tu_read(k.sec, NULL);
    assert_true(strncmp(sectext, "untrusted comment: deprive encrypted secret key\nRWRTY0Iy", 56) ==
                0);
    free(sectext);

    struct dp_sign_seckey *sk = NULL;
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "passphrase is needed"));
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, "correct horsf", &err), DP_ERR_CRYPTO);
    assert_non_null(strstr(err.msg, "wrong passphrase or corrupt secret key"));
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, "", &err), DP_ERR_CRYPTO);
    assert_null(sk);

    char *sig = sign_msg(k.sk, MSG, strlen(MSG), TC);
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), sig, strlen(sig), &err), DP_OK);
    free(sig);

    /* an empty passphrase is a passphrase too */
    struct keys e;
    keys_make(&e, "", true);
    assert_int_equal(dp_sign_seckey_load(&sk, e.sec, "x", &err), DP_ERR_CRYPTO);
    keys_free(&e);
    keys_free(&k);
}

static void test_keygen_refuses_existing(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *pub = tu_path(dir, "k.pub"), *sec = tu_path(dir, "k.key");
    char *other = tu_path(dir, "target");
    struct dp_error err = {0};
    struct dp_sign_keygen_opts o = {0};

    /* existing public key: error, and the secret key file it created is gone again */
    write_text(pub, "keep me\n");
    assert_int_equal(dp_sign_keygen(NULL, pub, sec, &o, &err), DP_ERR_IO);
    assert_int_equal(err.sys_errno, EEXIST);
    assert_int_equal(access(sec, F_OK), -1);
    char *t = tu_read(pub, NULL);
    assert_string_equal(t, "keep me\n");
    free(t);
    unlink(pub);

    /* existing secret key: untouched, no public key made */
    write_text(sec, "old secret\n");
    assert_int_equal(dp_sign_keygen(NULL, pub, sec, &o, &err), DP_ERR_IO);
    assert_int_equal(access(pub, F_OK), -1);
    t = tu_read(sec, NULL);
    assert_string_equal(t, "old secret\n");
    free(t);
    unlink(sec);

    /* a symlink (even a dangling one) is never followed */
    assert_int_equal(symlink(other, sec), 0);
    assert_int_equal(dp_sign_keygen(NULL, pub, sec, &o, &err), DP_ERR_IO);
    assert_int_equal(access(other, F_OK), -1);
    assert_int_equal(access(pub, F_OK), -1);
    unlink(sec);

    /* bad options */
    assert_int_equal(dp_sign_keygen(NULL, pub, pub, &o, &err), DP_ERR_INVALID);
    o.comment = "two\nlines";
    assert_int_equal(dp_sign_keygen(NULL, pub, sec, &o, &err), DP_ERR_INVALID);
    o.comment = NULL;
    o.passphrase = "p";
    o.opslimit = 1;
    assert_int_equal(dp_sign_keygen(NULL, pub, sec, &o, &err), DP_ERR_INVALID);
    assert_int_equal(access(pub, F_OK), -1);
    assert_int_equal(access(sec, F_OK), -1);

    /* a custom comment lands in the secret key file */
    struct dp_sign_keygen_opts c = {.comment = "case 42 signing key"};
    assert_int_equal(dp_sign_keygen(NULL, pub, sec, &c, &err), DP_OK);
    t = tu_read(sec, NULL);
    assert_true(strncmp(t, "untrusted comment: case 42 signing key\n", 39) == 0);
    free(t);

    tu_rm_rf(dir);
    free(dir);
    free(pub);
    free(sec);
    free(other);
}

/* Re-encode a secret key file after changing its decoded bytes. */
static void rewrite_seckey(const char *path, void (*edit)(uint8_t *blob))
{
    char *text = tu_read(path, NULL);
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    uint8_t blob[158];
    size_t got = 0;
    char *b64 = nl + 1;
    size_t b64len = strcspn(b64, "\n");
    assert_int_equal(sodium_base642bin(blob, sizeof(blob), b64, b64len, NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, sizeof(blob));
    edit(blob);
    char out[300], file[512];
    sodium_bin2base64(out, sizeof(out), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    *nl = '\0';
    snprintf(file, sizeof(file), "%s\n%s\n", text, out);
    write_text(path, file);
    free(text);
}

/* blob offsets: alg 0, kdf 2, chk_alg 4, salt 6, ops 38, mem 46, keyid 54, sk 62, chk 126 */
static void edit_zero_chk(uint8_t *b)
{
    memset(b + 126, 0, 32);
}
static void edit_flip_sk(uint8_t *b)
{
    b[62 + 5] ^= 0x01;
}
static void edit_huge_memlimit(uint8_t *b)
{
    b[46 + 7] = 0x01; /* 2^56 bytes */
}
static void edit_bad_kdf(uint8_t *b)
{
    b[2] = 'X';
}
static void edit_bad_chk_alg(uint8_t *b)
{
    b[5] = '3';
}

static void test_seckey_corrupt(void **state)
{
    (void)state;
    struct dp_error err = {0};
    struct dp_sign_seckey *sk = NULL;
    struct keys k;
    keys_make(&k, NULL, false);

    /* minisign -W leaves the checksum zero: still loads */
    rewrite_seckey(k.sec, edit_zero_chk);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_OK);
    dp_sign_seckey_free(sk);
    sk = NULL;
    /* ... but a damaged key without checksum is still caught (its halves disagree) */
    rewrite_seckey(k.sec, edit_flip_sk);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_CRYPTO);
    assert_null(sk);
    keys_free(&k);

    /* with the checksum present, a flipped byte is a checksum mismatch */
    keys_make(&k, NULL, false);
    rewrite_seckey(k.sec, edit_flip_sk);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_CRYPTO);
    assert_non_null(strstr(err.msg, "checksum"));
    keys_free(&k);

    /* encrypted: a flipped ciphertext byte reads as a wrong passphrase */
    keys_make(&k, "pw", true);
    rewrite_seckey(k.sec, edit_flip_sk);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, "pw", &err), DP_ERR_CRYPTO);
    assert_non_null(strstr(err.msg, "wrong passphrase or corrupt secret key"));
    keys_free(&k);

    keys_make(&k, "pw", true);
    rewrite_seckey(k.sec, edit_huge_memlimit);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, "pw", &err), DP_ERR_LIMIT);
    rewrite_seckey(k.sec, edit_bad_kdf);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, "pw", &err), DP_ERR_PARSE);
    bool enc;
    assert_int_equal(dp_sign_seckey_file_encrypted(k.sec, &enc, &err), DP_ERR_PARSE);
    keys_free(&k);

    keys_make(&k, NULL, false);
    rewrite_seckey(k.sec, edit_bad_chk_alg);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_PARSE);
    /* not a key file at all; a public key file; missing file; too large */
    write_text(k.sec, "hello\nworld\n");
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_PARSE);
    write_text(k.sec, KAT_PUB_FILE);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_PARSE);
    char *big = calloc(1, 20000);
    assert_non_null(big);
    memset(big, 'A', 19999);
    write_text(k.sec, big);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_LIMIT);
    free(big);
    unlink(k.sec);
    assert_int_equal(dp_sign_seckey_load(&sk, k.sec, NULL, &err), DP_ERR_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_null(sk);
    keys_free(&k);
}

static void test_pubkey_parse(void **state)
{
    (void)state;
    struct dp_error err = {0};
    struct dp_sign_pubkey *pk = NULL;
    /* wrong length, bad characters, trailing junk, wrong algorithm, empty */
    assert_int_equal(dp_sign_pubkey_from_base64(&pk, "RWSkDGyY5kZtov1K47a42WEBp3X0LbZX", &err),
                     DP_ERR_PARSE);
    assert_int_equal(dp_sign_pubkey_from_base64(
                         &pk, "RWSkDGyY5kZtov1K47a42WEBp3X0LbZXh3db4LAcRSVRjMVxdl58/Pr!", &err),
                     DP_ERR_PARSE);
    assert_int_equal(dp_sign_pubkey_from_base64(
                         &pk, "RWSkDGyY5kZtov1K47a42WEBp3X0LbZXh3db4LAcRSVRjMVxdl58/PrV x", &err),
                     DP_ERR_PARSE);
    uint8_t blob[42] = {'X', 'x'};
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    assert_int_equal(dp_sign_pubkey_from_base64(&pk, b64, &err), DP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "algorithm"));
    assert_int_equal(dp_sign_pubkey_from_base64(&pk, "", &err), DP_ERR_PARSE);
    assert_null(pk);

    char *dir = tu_mkdtemp();
    char *p = tu_path(dir, "k.pub");
    write_text(p, KAT_PUB_B64); /* key line only, no comment line */
    assert_int_equal(dp_sign_pubkey_load(&pk, p, &err), DP_ERR_PARSE);
    write_text(p, "untrusted comment: x\n");
    assert_int_equal(dp_sign_pubkey_load(&pk, p, &err), DP_ERR_PARSE);
    write_text(p, "untrusted comment: x\nRWSk\n");
    assert_int_equal(dp_sign_pubkey_load(&pk, p, &err), DP_ERR_PARSE);
    write_text(p, "untrusted comment: x\r\n"
                  "RWSkDGyY5kZtov1K47a42WEBp3X0LbZXh3db4LAcRSVRjMVxdl58/PrV\r\n\n");
    assert_int_equal(dp_sign_pubkey_load(&pk, p, &err), DP_OK); /* CRLF is fine */
    dp_sign_pubkey_free(pk);
    tu_rm_rf(dir);
    free(dir);
    free(p);
}

/* ---- signatures ---- */

static void test_sign_comment_rules(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k, NULL, false);
    struct dp_error err = {0};
    char *sig = NULL;
    assert_int_equal(dp_sign_sign(&sig, k.sk, MSG, strlen(MSG), "a\nb", NULL, &err),
                     DP_ERR_INVALID);
    assert_int_equal(dp_sign_sign(&sig, k.sk, MSG, strlen(MSG), "a\rb", NULL, &err),
                     DP_ERR_INVALID);
    assert_int_equal(dp_sign_sign(&sig, k.sk, MSG, strlen(MSG), "ok", "x\ny", &err),
                     DP_ERR_INVALID);
    assert_null(sig);

    char *tc = malloc(DP_SIGN_TRUSTED_COMMENT_MAX + 2);
    assert_non_null(tc);
    memset(tc, 'c', DP_SIGN_TRUSTED_COMMENT_MAX + 1);
    tc[DP_SIGN_TRUSTED_COMMENT_MAX + 1] = '\0';
    assert_int_equal(dp_sign_sign(&sig, k.sk, MSG, strlen(MSG), tc, NULL, &err), DP_ERR_INVALID);
    tc[DP_SIGN_TRUSTED_COMMENT_MAX] = '\0';
    char cm[DP_SIGN_COMMENT_MAX + 1];
    memset(cm, 'u', DP_SIGN_COMMENT_MAX);
    cm[DP_SIGN_COMMENT_MAX] = '\0';
    assert_int_equal(dp_sign_sign(&sig, k.sk, MSG, strlen(MSG), tc, cm, &err), DP_OK);
    char *back = NULL;
    assert_int_equal(dp_sign_verify(&back, k.pk, MSG, strlen(MSG), sig, strlen(sig), 0, &err),
                     DP_OK);
    assert_string_equal(back, tc);
    free(back);
    if (tu_have("minisign")) {
        /* the longest comments deprive writes are ones minisign reads */
        char *f = tu_path(k.dir, "m"), *x = tu_path(k.dir, "m.minisig");
        tu_write(k.dir, "m", MSG, strlen(MSG));
        write_text(x, sig);
        char *argv[] = {"minisign", "-Q", "-Vm", f, "-p", k.pub, NULL};
        struct tu_run r;
        tu_run_argv(&r, argv, NULL);
        assert_int_equal(r.status, 0);
        assert_int_equal(strlen(r.out), DP_SIGN_TRUSTED_COMMENT_MAX + 1);
        tu_run_free(&r);
        free(f);
        free(x);
    }
    free(sig);
    free(tc);
    keys_free(&k);
}

static void test_tamper_message(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k, NULL, false);
    struct dp_error err = {0};
    char *sig = sign_msg(k.sk, MSG, strlen(MSG), TC);
    size_t n = strlen(MSG);
    char buf[64];
    assert_int_equal(verify(k.pk, MSG, n, sig, strlen(sig), &err), DP_OK);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(buf, MSG, n);
            buf[i] ^= (char)(1 << bit);
            assert_int_equal(verify(k.pk, buf, n, sig, strlen(sig), &err), DP_ERR_VERIFY);
            assert_non_null(strstr(err.msg, "does not match the data"));
        }
    }
    memcpy(buf, MSG, n);
    buf[n] = '\n';
    assert_int_equal(verify(k.pk, buf, n + 1, sig, strlen(sig), &err), DP_ERR_VERIFY);
    assert_int_equal(verify(k.pk, buf, n - 1, sig, strlen(sig), &err), DP_ERR_VERIFY);
    free(sig);
    keys_free(&k);
}

/* Flip bits of each byte of lines first..last (0-based) and expect verification to fail. */
static void tamper_lines(const struct keys *k, const char *sig, int first, int last)
{
    static const uint8_t masks[] = {0x01, 0x02, 0x20, 0x40, 0x80};
    size_t len = strlen(sig);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    struct dp_error err = {0};
    for (int line = first; line <= last; line++) {
        size_t s, e;
        line_span(sig, line, &s, &e);
        for (size_t i = s; i < e; i++) {
            for (size_t m = 0; m < sizeof(masks); m++) {
                memcpy(copy, sig, len + 1);
                copy[i] = (char)(copy[i] ^ masks[m]);
                enum dp_status st = verify(k->pk, MSG, strlen(MSG), copy, len, &err);
                if (st != DP_ERR_VERIFY)
                    fail_msg("line %d byte %zu ^ 0x%02x: status %d", line, i - s, masks[m], st);
            }
        }
    }
    free(copy);
}

static void test_tamper_signature_file(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k, NULL, false);
    struct dp_error err = {0};
    char *sig = sign_msg(k.sk, MSG, strlen(MSG), TC);
    /* signature line, trusted comment line (prefix and text), global signature line */
    tamper_lines(&k, sig, 1, 3);

    size_t len = strlen(sig), s, e;
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    /* the untrusted comment is not authenticated: changing its text is allowed ... */
    line_span(sig, 0, &s, &e);
    memcpy(copy, sig, len + 1);
    copy[e - 1] ^= 0x01;
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), copy, len, &err), DP_OK);
    /* ... but its prefix is required */
    memcpy(copy, sig, len + 1);
    copy[0] = 'U';
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), copy, len, &err), DP_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "malformed"));

    /* shape: truncated at every line boundary, extra data, CRLF line ends */
    for (size_t cut = 0; cut < len - 1; cut++) {
        if (cut > 0 && sig[cut - 1] != '\n')
            continue;
        assert_int_equal(verify(k.pk, MSG, strlen(MSG), sig, cut, &err), DP_ERR_VERIFY);
    }
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), sig, len - 1, &err), DP_OK); /* no final LF */
    char ext[1024];
    assert_true(2 * len + 8 < sizeof(ext));
    memcpy(ext, sig, len);
    memcpy(ext + len, "junk\n", 5);
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), ext, len + 5, &err), DP_ERR_VERIFY);
    memcpy(ext + len, "\n\n", 2);
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), ext, len + 2, &err), DP_OK);
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (sig[i] == '\n')
            ext[j++] = '\r';
        ext[j++] = sig[i];
    }
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), ext, j, &err), DP_OK);
    /* a NUL inside the trusted comment */
    line_span(sig, 2, &s, &e);
    memcpy(copy, sig, len + 1);
    copy[e - 1] = '\0';
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), copy, len, &err), DP_ERR_VERIFY);
    /* empty and garbage */
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), "", 0, &err), DP_ERR_VERIFY);
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), "hello\n", 6, &err), DP_ERR_VERIFY);
    free(copy);
    free(sig);
    keys_free(&k);
}

/* Replace the key id inside a signature's second line. */
static char *with_keyid(const char *sig, const uint8_t keyid[8])
{
    size_t s, e;
    line_span(sig, 1, &s, &e);
    uint8_t blob[74];
    size_t got = 0;
    assert_int_equal(sodium_base642bin(blob, sizeof(blob), sig + s, e - s, NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    memcpy(blob + 2, keyid, 8);
    char b64[128];
    sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob), sodium_base64_VARIANT_ORIGINAL);
    size_t len = strlen(sig);
    char *out = malloc(len + 1);
    assert_non_null(out);
    memcpy(out, sig, len + 1);
    memcpy(out + s, b64, e - s);
    return out;
}

static void test_other_key_rejected(void **state)
{
    (void)state;
    struct keys a, b;
    keys_make(&a, NULL, false);
    keys_make(&b, NULL, false);
    struct dp_error err = {0};
    char *sig = sign_msg(a.sk, MSG, strlen(MSG), TC);
    assert_int_equal(verify(b.pk, MSG, strlen(MSG), sig, strlen(sig), &err), DP_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "key id mismatch"));
    char ida[DP_SIGN_KEYID_HEX_SIZE], idb[DP_SIGN_KEYID_HEX_SIZE];
    dp_sign_pubkey_keyid(a.pk, ida);
    dp_sign_pubkey_keyid(b.pk, idb);
    assert_non_null(strstr(err.msg, ida));
    assert_non_null(strstr(err.msg, idb));

    /* the key id is not what makes it valid: B's id on A's signature still fails */
    char b64[DP_SIGN_PUBKEY_B64_SIZE];
    dp_sign_pubkey_base64(b.pk, b64);
    uint8_t bblob[42];
    size_t got;
    assert_int_equal(sodium_base642bin(bblob, 42, b64, strlen(b64), NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    char *forged = with_keyid(sig, bblob + 2);
    assert_int_equal(verify(b.pk, MSG, strlen(MSG), forged, strlen(forged), &err), DP_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "does not match the data"));
    free(forged);

    /* a global signature from another key over the same trusted comment fails */
    char *sig_b = sign_msg(b.sk, MSG, strlen(MSG), TC);
    size_t s, e, sb, eb;
    line_span(sig, 3, &s, &e);
    line_span(sig_b, 3, &sb, &eb);
    char *mixed = strdup(sig);
    assert_non_null(mixed);
    memcpy(mixed + s, sig_b + sb, e - s);
    assert_int_equal(verify(a.pk, MSG, strlen(MSG), mixed, strlen(mixed), &err), DP_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "trusted comment"));
    free(mixed);
    free(sig_b);
    free(sig);
    keys_free(&a);
    keys_free(&b);
}

/* A trusted comment swapped in from another signature by the same key fails: the global
 * signature binds it to this signature. */
static void test_trusted_comment_swap(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k, NULL, false);
    struct dp_error err = {0};
    char *s1 = sign_msg(k.sk, MSG, strlen(MSG), "comment one");
    char *s2 = sign_msg(k.sk, MSG, strlen(MSG), "comment two");
    size_t a, b, c, d;
    line_span(s1, 2, &a, &b);
    line_span(s2, 2, &c, &d);
    char *mixed = strdup(s1);
    assert_non_null(mixed);
    memcpy(mixed + a, s2 + c, b - a);
    assert_int_equal(verify(k.pk, MSG, strlen(MSG), mixed, strlen(mixed), &err), DP_ERR_VERIFY);
    assert_non_null(strstr(err.msg, "trusted comment"));
    free(mixed);
    free(s1);
    free(s2);
    keys_free(&k);
}

/* ---- interop with the minisign binary ---- */

static void run_expect(int want, const char *stdin_text, char **out, char *const argv[])
{
    struct tu_run r;
    tu_run_argv(&r, argv, stdin_text);
    if (r.status != want)
        fail_msg("%s exited %d (want %d)\nstdout: %s\nstderr: %s", argv[0], r.status, want, r.out,
                 r.err);
    if (out != NULL) {
        *out = r.out;
        r.out = NULL;
    }
    tu_run_free(&r);
}

/* Sign a file with deprive and check that minisign verifies it and prints the same trusted
 * comment; also that minisign rejects it over other data. */
static void deprive_sign_minisign_verify(const struct dp_sign_seckey *sk, const char *dir,
                                         const char *pub)
{
    char *f = tu_path(dir, "cert.json"), *x = tu_path(dir, "cert.json.minisig");
    tu_write(dir, "cert.json", MSG, strlen(MSG));
    char *sig = sign_msg(sk, MSG, strlen(MSG), TC);
    write_text(x, sig);
    char *out = NULL;
    char *v[] = {"minisign", "-Vm", f, "-p", (char *)pub, NULL};
    run_expect(0, NULL, &out, v);
    char want[256];
    snprintf(want, sizeof(want), "Trusted comment: %s\n", TC);
    assert_non_null(strstr(out, want));
    free(out);
    char *q[] = {"minisign", "-QVm", f, "-p", (char *)pub, NULL};
    run_expect(0, NULL, &out, q);
    snprintf(want, sizeof(want), "%s\n", TC);
    assert_string_equal(out, want);
    free(out);
    tu_write(dir, "cert.json", "erasure certificate v2\n", 23);
    run_expect(1, NULL, NULL, v);
    free(sig);
    free(f);
    free(x);
}

/* Sign a file with minisign and verify it with deprive. */
static void minisign_sign_deprive_verify(const char *sec, const char *pass,
                                         const struct dp_sign_pubkey *pk, const char *dir)
{
    char *f = tu_path(dir, "other.json"), *x = tu_path(dir, "other.json.minisig");
    tu_write(dir, "other.json", KAT_DATA, strlen(KAT_DATA));
    char stdin_text[64];
    snprintf(stdin_text, sizeof(stdin_text), "%s\n", pass != NULL ? pass : "");
    char *s[] = {"minisign", "-S", "-s", (char *)sec, "-m", f, "-t", "signed by minisign", NULL};
    run_expect(0, pass != NULL ? stdin_text : NULL, NULL, s);
    size_t len = 0;
    char *sig = tu_read(x, &len);
    assert_non_null(sig);
    char *tc = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_sign_verify(&tc, pk, KAT_DATA, strlen(KAT_DATA), sig, len, 0, &err), DP_OK);
    assert_string_equal(tc, "signed by minisign");
    free(tc);
    assert_int_equal(verify(pk, MSG, strlen(MSG), sig, len, &err), DP_ERR_VERIFY);
    free(sig);
    free(f);
    free(x);
}

static void test_interop_minisign_keys(void **state)
{
    (void)state;
    if (!have_minisign("interop with minisign-made keys"))
        skip();
    struct dp_error err = {0};
    char *dir = tu_mkdtemp();
    char *pub = tu_path(dir, "m.pub"), *sec = tu_path(dir, "m.key");
    char *pub2 = tu_path(dir, "p.pub"), *sec2 = tu_path(dir, "p.key");

    /* minisign -G -W: deprive loads it and signs; minisign verifies */
    char *g[] = {"minisign", "-G", "-W", "-p", pub, "-s", sec, NULL};
    run_expect(0, NULL, NULL, g);
    struct dp_sign_pubkey *pk = NULL;
    struct dp_sign_seckey *sk = NULL;
    assert_int_equal(dp_sign_pubkey_load(&pk, pub, &err), DP_OK);
    assert_int_equal(dp_sign_seckey_load(&sk, sec, NULL, &err), DP_OK);
    char id[DP_SIGN_KEYID_HEX_SIZE], want[128];
    dp_sign_pubkey_keyid(pk, id);
    char *pubtext = tu_read(pub, NULL);
    snprintf(want, sizeof(want), "untrusted comment: minisign public key %s\n", minisign_id(id));
    assert_true(strncmp(pubtext, want, strlen(want)) == 0);
    free(pubtext);
    deprive_sign_minisign_verify(sk, dir, pub);
    dp_sign_seckey_free(sk);
    dp_sign_pubkey_free(pk);

    /* minisign -G with a passphrase (minisign reads it from stdin when it is no tty) */
    char *gp[] = {"minisign", "-G", "-p", pub2, "-s", sec2, NULL};
    run_expect(0, "minisign pass\nminisign pass\n", NULL, gp);
    bool enc = false;
    assert_int_equal(dp_sign_seckey_file_encrypted(sec2, &enc, &err), DP_OK);
    assert_true(enc);
    assert_int_equal(dp_sign_pubkey_load(&pk, pub2, &err), DP_OK);
    assert_int_equal(dp_sign_seckey_load(&sk, sec2, "minisign pass", &err), DP_OK);
    deprive_sign_minisign_verify(sk, dir, pub2);
    dp_sign_seckey_free(sk);
    dp_sign_pubkey_free(pk);

    tu_rm_rf(dir);
    free(dir);
    free(pub);
    free(sec);
    free(pub2);
    free(sec2);
}

static void test_interop_deprive_keys(void **state)
{
    (void)state;
    if (!have_minisign("interop with deprive-made keys"))
        skip();
    /* unencrypted; cheap scrypt; minisign's default scrypt cost */
    struct keys k;
    keys_make(&k, NULL, false);
    minisign_sign_deprive_verify(k.sec, NULL, k.pk, k.dir);
    deprive_sign_minisign_verify(k.sk, k.dir, k.pub);
    keys_free(&k);

    keys_make(&k, "fast pass", true);
    minisign_sign_deprive_verify(k.sec, "fast pass", k.pk, k.dir);
    /* minisign refuses the wrong passphrase */
    char *f = tu_path(k.dir, "x");
    tu_write(k.dir, "x", "x", 1);
    char *s[] = {"minisign", "-S", "-s", k.sec, "-m", f, NULL};
    run_expect(2, "fast pasz\n", NULL, s);
    free(f);
    keys_free(&k);

    /* default cost: one scrypt run here (keygen) and one in minisign; skip the reload */
    memset(&k, 0, sizeof(k));
    k.dir = tu_mkdtemp();
    k.pub = tu_path(k.dir, "k.pub");
    k.sec = tu_path(k.dir, "k.key");
    struct dp_sign_keygen_opts o = {.passphrase = "slow pass"};
    struct dp_error err = {0};
    assert_int_equal(dp_sign_keygen(&k.pk, k.pub, k.sec, &o, &err), DP_OK);
    minisign_sign_deprive_verify(k.sec, "slow pass", k.pk, k.dir);
    keys_free(&k);
}

static void test_interop_legacy(void **state)
{
    (void)state;
    if (!have_minisign("interop legacy signatures"))
        skip();
    struct keys k;
    keys_make(&k, NULL, false);
    char *f = tu_path(k.dir, "m"), *x = tu_path(k.dir, "m.minisig");
    tu_write(k.dir, "m", MSG, strlen(MSG));
    char *s[] = {"minisign", "-S", "-l", "-s", k.sec, "-m", f, "-t", "old style", NULL};
    run_expect(0, NULL, NULL, s);
    size_t len;
    char *sig = tu_read(x, &len);
    struct dp_error err = {0};
    char *tc = NULL;
    assert_int_equal(dp_sign_verify(&tc, k.pk, MSG, strlen(MSG), sig, len, 0, &err), DP_ERR_VERIFY);
    assert_int_equal(
        dp_sign_verify(&tc, k.pk, MSG, strlen(MSG), sig, len, DP_SIGN_VERIFY_ALLOW_LEGACY, &err),
        DP_OK);
    assert_string_equal(tc, "old style");
    free(tc);
    assert_int_equal(
        dp_sign_verify(NULL, k.pk, "other", 5, sig, len, DP_SIGN_VERIFY_ALLOW_LEGACY, &err),
        DP_ERR_VERIFY);
    free(sig);
    free(f);
    free(x);
    keys_free(&k);
}

/* ---- the keygen command ---- */

/* Run the CLI without a controlling terminal (setsid), so it can never prompt. */
static void deprive_notty(struct tu_run *r, const char *stdin_text, char *const args[])
{
    char *argv[32];
    int n = 0;
    argv[n++] = "setsid";
    argv[n++] = "-w";
    argv[n++] = (char *)DP_TEST_BIN;
    for (int i = 0; args[i] != NULL && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    tu_run_argv(r, argv, stdin_text);
}

static void test_cli_keygen_basic(void **state)
{
    (void)state;
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: deprive keygen"));
    tu_run_free(&r);
    if (!tu_have("setsid")) {
        printf("SKIP cli keygen: setsid is not on PATH\n");
        skip();
    }
    char *dir = tu_mkdtemp();
    char *pub = tu_path(dir, "k.pub"), *sec = tu_path(dir, "k.key");

    /* usage errors */
    char *a1[] = {"keygen", "-p", pub, NULL};
    deprive_notty(&r, NULL, a1);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "deprive keygen: "));
    tu_run_free(&r);
    char *a2[] = {"keygen", "-p", pub, "-s", sec, "-W", "--passphrase-file", pub, NULL};
    deprive_notty(&r, NULL, a2);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    char *a3[] = {"keygen", "-p", pub, "-s", sec, "--bogus", NULL};
    deprive_notty(&r, NULL, a3);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--bogus"));
    tu_run_free(&r);
    char *a4[] = {"keygen", "-p", pub, "-s", sec, "extra", NULL};
    deprive_notty(&r, NULL, a4);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);

    /* no terminal, no passphrase file, no -W: error, nothing written, stdin not read */
    char *a5[] = {"keygen", "-p", pub, "-s", sec, NULL};
    deprive_notty(&r, "stdin is not a passphrase source\n", a5);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "deprive: cannot read a passphrase: no terminal"));
    assert_string_equal(r.out, "");
    tu_run_free(&r);
    assert_int_equal(access(pub, F_OK), -1);
    assert_int_equal(access(sec, F_OK), -1);

    /* -W */
    char *a6[] = {"keygen", "-p", pub, "-s", sec, "-W", "-c", "cli key", NULL};
    deprive_notty(&r, NULL, a6);
    assert_int_equal(r.status, 0);
    struct dp_error err = {0};
    struct dp_sign_pubkey *pk = NULL;
    struct dp_sign_seckey *sk = NULL;
    assert_int_equal(dp_sign_pubkey_load(&pk, pub, &err), DP_OK);
    char id[DP_SIGN_KEYID_HEX_SIZE], b64[DP_SIGN_PUBKEY_B64_SIZE], want[256];
    dp_sign_pubkey_keyid(pk, id);
    dp_sign_pubkey_base64(pk, b64);
    snprintf(want, sizeof(want), "key id: %s\npublic key: %s\n", id, b64);
    assert_string_equal(r.out, want);
    tu_run_free(&r);
    assert_int_equal(file_mode(sec) & 077, 0);
    assert_int_equal(dp_sign_seckey_load(&sk, sec, NULL, &err), DP_OK);
    char *t = tu_read(sec, NULL);
    assert_true(strncmp(t, "untrusted comment: cli key\n", 27) == 0);
    free(t);
    char *sig = sign_msg(sk, MSG, strlen(MSG), TC);
    assert_int_equal(verify(pk, MSG, strlen(MSG), sig, strlen(sig), &err), DP_OK);
    free(sig);
    if (have_minisign("cli keygen key used by minisign"))
        minisign_sign_deprive_verify(sec, NULL, pk, dir);
    dp_sign_seckey_free(sk);
    dp_sign_pubkey_free(pk);

    /* a bad comment or equal paths are refused before any prompt */
    char *a7[] = {"keygen", "-p", pub, "-s", pub, "-W", NULL};
    deprive_notty(&r, NULL, a7);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    char *a8[] = {"keygen", "-p", pub, "-s", sec, "-c", "a\nb", NULL};
    deprive_notty(&r, NULL, a8);
    assert_int_equal(r.status, 2);
    assert_null(strstr(r.err, "terminal"));
    tu_run_free(&r);

    /* never overwrites, and says so before asking for a passphrase */
    char *a9[] = {"keygen", "-p", pub, "-s", sec, NULL};
    deprive_notty(&r, NULL, a9);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "File exists"));
    assert_null(strstr(r.err, "terminal"));
    tu_run_free(&r);
    char *before = tu_read(sec, NULL);
    deprive_notty(&r, NULL, a6);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "deprive: cannot create"));
    assert_non_null(strstr(r.err, "File exists"));
    tu_run_free(&r);
    t = tu_read(sec, NULL);
    assert_string_equal(t, before);
    free(t);
    free(before);

    tu_rm_rf(dir);
    free(dir);
    free(pub);
    free(sec);
}

static void test_cli_keygen_passphrase_file(void **state)
{
    (void)state;
    if (!tu_have("setsid")) {
        printf("SKIP cli keygen --passphrase-file: setsid is not on PATH\n");
        skip();
    }
    char *dir = tu_mkdtemp();
    char *pub = tu_path(dir, "k.pub"), *sec = tu_path(dir, "k.key");
    char *pf = tu_path(dir, "pass");
    struct tu_run r;

    /* empty file, empty first line, missing file: errors */
    write_text(pf, "");
    char *a[] = {"keygen", "-p", pub, "-s", sec, "--passphrase-file", pf, NULL};
    deprive_notty(&r, NULL, a);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    write_text(pf, "\nsecond line\n");
    deprive_notty(&r, NULL, a);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "empty passphrase"));
    tu_run_free(&r);
    unlink(pf);
    deprive_notty(&r, NULL, a);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "deprive: cannot open"));
    tu_run_free(&r);
    assert_int_equal(access(sec, F_OK), -1);

    /* first line only, CRLF trimmed (as minisign trims what it reads) */
    write_text(pf, "file passphrase\r\nnot this\n");
    deprive_notty(&r, NULL, a);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "key id: "));
    tu_run_free(&r);
    struct dp_error err = {0};
    bool enc = false;
    assert_int_equal(dp_sign_seckey_file_encrypted(sec, &enc, &err), DP_OK);
    assert_true(enc);
    struct dp_sign_seckey *sk = NULL;
    assert_int_equal(dp_sign_seckey_load(&sk, sec, "file passphrase", &err), DP_OK);
    dp_sign_seckey_free(sk);

    tu_rm_rf(dir);
    free(dir);
    free(pub);
    free(sec);
    free(pf);
}

/* Run `deprive keygen` on a pseudo-terminal, answering the prompts. Returns the exit status
 * and the terminal transcript (heap). */
static int pty_keygen(const char *pub, const char *sec, const char *p1, const char *p2,
                      char **transcript)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0)
        return -1;
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    char sname[128];
    assert_int_equal(ptsname_r(m, sname, sizeof(sname)), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setsid();
        int s = open(sname, O_RDWR); /* becomes the controlling terminal */
        if (s < 0)
            _exit(126);
        dup2(s, 0);
        dup2(s, 1);
        dup2(s, 2);
        close(m);
        execl(DP_TEST_BIN, DP_TEST_BIN, "keygen", "-p", pub, "-s", sec, (char *)NULL);
        _exit(127);
    }
    size_t cap = 1 << 16, used = 0;
    char *buf = calloc(1, cap);
    assert_non_null(buf);
    int stage = 0;
    time_t deadline = time(NULL) + 60;
    for (;;) {
        struct pollfd pfd = {.fd = m, .events = POLLIN};
        int pr = poll(&pfd, 1, 1000);
        if (pr > 0) {
            ssize_t n = read(m, buf + used, cap - used - 1);
            if (n <= 0)
                break; /* EIO: the child closed the terminal */
            used += (size_t)n;
            buf[used] = '\0';
        }
        if (stage == 0 && strstr(buf, "passphrase for the new secret key: ") != NULL) {
            dprintf(m, "%s\n", p1);
            stage = 1;
        }
        if (stage == 1 && strstr(buf, "repeat the passphrase: ") != NULL) {
            dprintf(m, "%s\n", p2);
            stage = 2;
        }
        assert_true(time(NULL) < deadline);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(m);
    *transcript = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_cli_keygen_terminal(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *pub = tu_path(dir, "k.pub"), *sec = tu_path(dir, "k.key");
    char *t = NULL;
    /* mismatch: refused before any scrypt work, nothing written */
    int st = pty_keygen(pub, sec, "first try", "second try", &t);
    if (st == -1) {
        printf("SKIP cli keygen on a terminal: no pseudo-terminal (%s)\n", strerror(errno));
        tu_rm_rf(dir);
        free(dir), free(pub), free(sec);
        skip();
    }
    assert_int_equal(st, 2);
    assert_non_null(strstr(t, "passphrases do not match"));
    assert_null(strstr(t, "first try")); /* echo was off */
    free(t);
    assert_int_equal(access(sec, F_OK), -1);

    assert_int_equal(pty_keygen(pub, sec, "typed secret", "typed secret", &t), 0);
    assert_null(strstr(t, "typed secret"));
    assert_non_null(strstr(t, "key id: "));
    free(t);
    struct dp_error err = {0};
    struct dp_sign_seckey *sk = NULL;
    assert_int_equal(dp_sign_seckey_load(&sk, sec, "typed secret", &err), DP_OK);
    dp_sign_seckey_free(sk);
    tu_rm_rf(dir);
    free(dir);
    free(pub);
    free(sec);
}

/* A key id with a leading zero is written without it, as minisign's PRIX64 does. */
static void test_pubkey_comment_leading_zero(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    bool seen = false;
    for (int i = 0; i < 400 && !seen; i++) {
        char pn[32], sn[32];
        snprintf(pn, sizeof(pn), "k%d.pub", i);
        snprintf(sn, sizeof(sn), "k%d.sec", i);
        char *pub = tu_path(dir, pn), *sec = tu_path(dir, sn);
        struct dp_sign_keygen_opts o = {0};
        struct dp_sign_pubkey *pk = NULL;
        assert_int_equal(dp_sign_keygen(&pk, pub, sec, &o, NULL), DP_OK);
        char id[DP_SIGN_KEYID_HEX_SIZE];
        dp_sign_pubkey_keyid(pk, id);
        if (id[0] == '0') {
            seen = true;
            char *text = tu_read(pub, NULL), want[128];
            snprintf(want, sizeof(want), "untrusted comment: minisign public key %s\n",
                     minisign_id(id));
            assert_true(strncmp(text, want, strlen(want)) == 0);
            assert_true(strlen(minisign_id(id)) < 16);
            free(text);
        }
        dp_sign_pubkey_free(pk);
        free(pub);
        free(sec);
    }
    assert_true(seen); /* (15/16)^400: never fails by chance */
    tu_rm_rf(dir);
    free(dir);
}

/* ---- the trusted comment of every deprive signature (dp_sign_trusted_comment) ---- */

/* File names no trusted comment may carry as they are, and what it says instead: every byte
 * outside printable ASCII becomes '?', only the base name is kept. */
static const struct {
    const char *name, *want;
} NASTY[] = {
    {"audit\nreport.json", "audit?report.json"},                          /* newline */
    {"audit\r\n.json", "audit??.json"},                                   /* CR LF */
    {"a\tsha256:00\tkeyid:0000000000000000.json", "a?sha256:00?keyid:0000000000000000.json"},
    {"\x1b[31mred\x1b[0m\x07.json", "?[31mred?[0m?.json"},                /* ESC, BEL */
    {"bad\xff\xfe\x80.json", "bad???.json"},                              /* not UTF-8 */
    {"caf\xc3\xa9 r\xc3\xa9sum\xc3\xa9.json", "caf?? r??sum??.json"},     /* UTF-8, per byte */
    {"\x7f\x01\x1f\xc2\x9b:colon.json", "?????:colon.json"},              /* DEL, C0, C1 */
    {"dir/sub/plain name.json", "plain name.json"},                       /* a path */
};
#define N_NASTY (sizeof(NASTY) / sizeof(NASTY[0]))

/* tc is one minisign line of printable ASCII whose fields are split by exactly tabs tabs. */
static void assert_clean_comment(const char *tc, int tabs)
{
    int seen = 0;
    for (const char *p = tc; *p; p++) {
        if (*p == '\t')
            seen++;
        else if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            fail_msg("byte 0x%02x at %zu of the trusted comment", (unsigned char)*p,
                     (size_t)(p - tc));
    }
    assert_int_equal(seen, tabs);
}

/* Parse tc back as deprive does and check every field. */
static void assert_parses_back(const char *tc, const char *file, const uint8_t sha[32],
                               const char *keyid, const char *cert_id)
{
    struct dp_cert_trusted t;
    struct dp_error err = {0};
    if (dp_cert_trusted_parse(&t, tc, &err) != DP_OK)
        fail_msg("'%s' does not parse: %s", tc, err.msg);
    assert_string_equal(t.file, file);
    assert_memory_equal(t.sha256, sha, 32);
    assert_string_equal(t.keyid, keyid);
    assert_string_equal(t.cert_id, cert_id);
    assert_true(t.timestamp >= 1700000000);
}

static void test_trusted_comment_names(void **state)
{
    (void)state;
    uint8_t sha[32];
    for (int i = 0; i < 32; i++)
        sha[i] = (uint8_t)(i * 9);
    char tc[DP_CERT_TRUSTED_MAX], want[300];
    struct dp_error err = {0};
    for (size_t i = 0; i < N_NASTY; i++) {
        assert_int_equal(dp_sign_trusted_comment(tc, sizeof(tc), NASTY[i].name, sha,
                                                 "0123456789abcdef", NULL, 0, &err),
                         DP_OK);
        assert_true(strncmp(tc, "timestamp:", 10) == 0);
        snprintf(want, sizeof(want), "\tfile:%s\tsha256:", NASTY[i].want);
        assert_non_null(strstr(tc, want));
        assert_clean_comment(tc, 3);
        assert_parses_back(tc, NASTY[i].want, sha, "0123456789ABCDEF", "");
    }
    /* at most DP_SIGN_NAME_MAX bytes of the name, cut after cleaning */
    char longname[2 * DP_SIGN_NAME_MAX + 1];
    for (int i = 0; i < DP_SIGN_NAME_MAX; i++)
        memcpy(longname + 2 * i, "\xc3\xa9", 2);
    longname[2 * DP_SIGN_NAME_MAX] = '\0';
    assert_int_equal(
        dp_sign_trusted_comment(tc, sizeof(tc), longname, sha, KAT_KEYID, NULL, 0, &err), DP_OK);
    memset(want, '?', DP_SIGN_NAME_MAX);
    want[DP_SIGN_NAME_MAX] = '\0';
    assert_parses_back(tc, want, sha, KAT_KEYID, "");
    /* extra fields follow in their order; the certificate id is one */
    const struct dp_sign_field ex[] = {{"certificate", "0f8fad5b-d9cb-469f-a165-70867728950e"},
                                       {"order", "DO/2026/04417 (court: Exampleton)"}};
    assert_int_equal(dp_sign_trusted_comment(tc, sizeof(tc), "c.json", sha, KAT_KEYID, ex, 2, &err),
                     DP_OK);
    assert_non_null(strstr(tc, "\tkeyid:A26D46E6986C0CA4\tcertificate:0f8fad5b-d9cb-469f-a165-"
                               "70867728950e\torder:DO/2026/04417 (court: Exampleton)"));
    assert_clean_comment(tc, 5);
    assert_parses_back(tc, "c.json", sha, KAT_KEYID, ex[0].value);
}

static void test_trusted_comment_refusals(void **state)
{
    (void)state;
    uint8_t sha[32] = {0};
    char tc[DP_CERT_TRUSTED_MAX], big[DP_SIGN_FIELD_VALUE_MAX + 2];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct dp_error err = {0};
    assert_int_equal(dp_sign_trusted_comment(tc, sizeof(tc), "c", sha, "12", NULL, 0, &err),
                     DP_ERR_INVALID);
    assert_int_equal(dp_sign_trusted_comment(tc, sizeof(tc), "c", sha, "0123456789ABCDEG", NULL,
                                             0, &err),
                     DP_ERR_INVALID);
    static const struct {
        struct dp_sign_field f[2];
        size_t n;
    } bad[] = {
        {{{"file", "x"}}, 1},          {{{"sha256", "x"}}, 1},
        {{{"Order", "x"}}, 1},         {{{"a:b", "x"}}, 1},
        {{{"a b", "x"}}, 1},           {{{"9lives", "x"}}, 1},
        {{{"", "x"}}, 1},              {{{"note", ""}}, 1},
        {{{"note", "a\tb"}}, 1},       {{{"note", "a\nb"}}, 1},
        {{{"note", "caf\xc3\xa9"}}, 1}, {{{"note", "\x1b[0m"}}, 1},
        {{{"n", "1"}, {"n", "2"}}, 2}, {{{"n", "1"}, {"keyid", "2"}}, 2},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tc[0] = 'x';
        enum dp_status st =
            dp_sign_trusted_comment(tc, sizeof(tc), "c", sha, KAT_KEYID, bad[i].f, bad[i].n, &err);
        if (st != DP_ERR_INVALID)
            fail_msg("extra fields %zu ('%s'): %d", i, bad[i].f[bad[i].n - 1].key, st);
        assert_string_equal(tc, "");
    }
    const struct dp_sign_field toolong = {"note", big};
    assert_int_equal(
        dp_sign_trusted_comment(tc, sizeof(tc), "c", sha, KAT_KEYID, &toolong, 1, &err),
        DP_ERR_INVALID);
    big[DP_SIGN_FIELD_VALUE_MAX] = '\0'; /* the longest value is fine */
    assert_int_equal(
        dp_sign_trusted_comment(tc, sizeof(tc), "c", sha, KAT_KEYID, &toolong, 1, &err), DP_OK);
    /* a buffer too small leaves an empty string */
    assert_int_equal(dp_sign_trusted_comment(tc, 40, "c", sha, KAT_KEYID, NULL, 0, &err),
                     DP_ERR_LIMIT);
    assert_string_equal(tc, "");
}

/* dp_sign_document under every nasty name: minisign -V accepts the signature and prints the
 * comment unchanged, and deprive reads the comment back. */
static void test_sign_document_names(void **state)
{
    (void)state;
    struct keys k;
    keys_make(&k, NULL, false);
    char id[DP_SIGN_KEYID_HEX_SIZE];
    dp_sign_pubkey_keyid(k.pk, id);
    uint8_t sha[32];
    dp_sha256_buf(sha, MSG, strlen(MSG));
    struct dp_error err = {0};
    char *sub = tu_path(k.dir, "dir/sub");
    assert_int_equal(tu_sh("mkdir -p '%s'", sub), 0);
    bool minisign = have_minisign("minisign -V of signatures under hostile file names");
    for (size_t i = 0; i < N_NASTY; i++) {
        char *f = tu_path(k.dir, NASTY[i].name), *x = NULL, *sig = NULL, *tc = NULL;
        tu_write(k.dir, NASTY[i].name, MSG, strlen(MSG));
        assert_int_equal(dp_sign_document(&sig, k.sk, MSG, strlen(MSG), f, NULL, 0, NULL, &err),
                         DP_OK);
        assert_int_equal(
            dp_sign_verify(&tc, k.pk, MSG, strlen(MSG), sig, strlen(sig), 0, &err), DP_OK);
        assert_clean_comment(tc, 3);
        assert_parses_back(tc, NASTY[i].want, sha, id, "");
        assert_true(asprintf(&x, "%s.minisig", f) > 0);
        write_text(x, sig);
        if (minisign) {
            char *out = NULL, want[512];
            char *v[] = {"minisign", "-Vm", f, "-p", k.pub, NULL};
            run_expect(0, NULL, &out, v);
            snprintf(want, sizeof(want), "Trusted comment: %s\n", tc);
            assert_non_null(strstr(out, want));
            free(out);
            char *q[] = {"minisign", "-QVm", f, "-p", k.pub, NULL};
            run_expect(0, NULL, &out, q);
            snprintf(want, sizeof(want), "%s\n", tc);
            assert_string_equal(out, want);
            free(out);
        }
        free(f), free(x), free(sig), free(tc);
    }
    /* with the certificate id as the extra field, as dp_cert_sign signs */
    const struct dp_sign_field cid = {"certificate", "0f8fad5b-d9cb-469f-a165-70867728950e"};
    char *sig = NULL, *tc = NULL;
    assert_int_equal(
        dp_sign_document(&sig, k.sk, MSG, strlen(MSG), "c\n.json", &cid, 1, "u", &err), DP_OK);
    assert_true(strncmp(sig, "untrusted comment: u\n", 21) == 0);
    assert_int_equal(dp_sign_verify(&tc, k.pk, MSG, strlen(MSG), sig, strlen(sig), 0, &err),
                     DP_OK);
    assert_parses_back(tc, "c?.json", sha, id, cid.value);
    free(sig), free(tc), free(sub);
    keys_free(&k);
    if (!minisign)
        skip();
}


int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_minisign),
        cmocka_unit_test(test_pubkey_comment_leading_zero),
        cmocka_unit_test(test_roundtrip_unencrypted),
        cmocka_unit_test(test_roundtrip_passphrase),
        cmocka_unit_test(test_keygen_refuses_existing),
        cmocka_unit_test(test_seckey_corrupt),
        cmocka_unit_test(test_pubkey_parse),
        cmocka_unit_test(test_sign_comment_rules),
        cmocka_unit_test(test_tamper_message),
        cmocka_unit_test(test_tamper_signature_file),
        cmocka_unit_test(test_other_key_rejected),
        cmocka_unit_test(test_trusted_comment_swap),
        cmocka_unit_test(test_trusted_comment_names),
        cmocka_unit_test(test_trusted_comment_refusals),
        cmocka_unit_test(test_sign_document_names),
        cmocka_unit_test(test_interop_minisign_keys),
        cmocka_unit_test(test_interop_deprive_keys),
        cmocka_unit_test(test_interop_legacy),
        cmocka_unit_test(test_cli_keygen_basic),
        cmocka_unit_test(test_cli_keygen_passphrase_file),
        cmocka_unit_test(test_cli_keygen_terminal),
    };
    return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
