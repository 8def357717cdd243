/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: minisign-compatible Ed25519 keys and detached signatures. */
#include "deprive/sign.h"
#include "deprive/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define COMMENT_PREFIX_LEN (sizeof(COMMENT_PREFIX) - 1)
#define TRUSTED_PREFIX_LEN (sizeof(TRUSTED_PREFIX) - 1)
#define KEYID_BYTES 8
#define PUBFILE_MAX 65536
#define SECFILE_MAX 8192
#define PREHASH_BYTES crypto_generichash_BYTES_MAX
/* minisign reads the untrusted comment line with a 1024-byte fgets buffer. */
#define COMMENT_LINE_MAX 1022

static const uint8_t ALG_ED[2] = {'E', 'd'};     /* key algorithm; legacy signatures */
static const uint8_t ALG_HASHED[2] = {'E', 'D'}; /* prehashed signatures */
static const uint8_t KDF_SCRYPT[2] = {'S', 'c'};
static const uint8_t KDF_NONE[2] = {0, 0};
static const uint8_t CHK_B2[2] = {'B', '2'};

/* On-disk layouts: byte arrays only, so no padding (checked below). */
struct pk_blob {
    uint8_t alg[2];
    uint8_t keyid[KEYID_BYTES];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};
struct keynum_sk {
    uint8_t keyid[KEYID_BYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    uint8_t chk[crypto_generichash_BYTES];
};
struct sk_blob {
    uint8_t alg[2];
    uint8_t kdf[2];
    uint8_t chk_alg[2];
    uint8_t salt[crypto_pwhash_scryptsalsa208sha256_SALTBYTES];
    uint8_t opslimit_le[8];
    uint8_t memlimit_le[8];
    struct keynum_sk k; /* XORed with the scrypt stream when kdf is "Sc" */
};
struct sig_blob {
    uint8_t alg[2];
    uint8_t keyid[KEYID_BYTES];
    uint8_t sig[crypto_sign_BYTES];
};
_Static_assert(sizeof(struct pk_blob) == 42, "public key layout");
_Static_assert(sizeof(struct sk_blob) == 158, "secret key layout");
_Static_assert(sizeof(struct sig_blob) == 74, "signature layout");

struct dp_sign_pubkey {
    uint8_t keyid[KEYID_BYTES];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

struct dp_sign_seckey {
    uint8_t keyid[KEYID_BYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

#define B64_LEN(n) sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_ORIGINAL)

/* ---- small helpers ---- */

static enum dp_status sodium_ready(struct dp_error *err)
{
    if (sodium_init() < 0)
        return dp_error_set(err, DP_ERR_CRYPTO, 0, "cannot initialise libsodium");
    return DP_OK;
}

static uint64_t le64_load(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void le64_store(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* minisign prints le64_load(keyid) with %016llX: the bytes in reverse order. */
static void keyid_hex(char out[DP_SIGN_KEYID_HEX_SIZE], const uint8_t id[KEYID_BYTES])
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < KEYID_BYTES; i++) {
        uint8_t b = id[KEYID_BYTES - 1 - i];
        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 15];
    }
    out[2 * KEYID_BYTES] = '\0';
}

/* A one-line comment minisign can write and read back. */
static enum dp_status check_comment(const char *s, size_t max, const char *what,
                                    struct dp_error *err)
{
    size_t n = strlen(s);
    if (memchr(s, '\n', n) != NULL || memchr(s, '\r', n) != NULL)
        return dp_error_set(err, DP_ERR_INVALID, 0, "%s must not contain a line break", what);
    if (n > max)
        return dp_error_set(err, DP_ERR_INVALID, 0, "%s is longer than %zu bytes", what, max);
    return DP_OK;
}

/* Only the standard alphabet, then at most two '='. libsodium 1.0.18 decodes any byte
 * >= 0x80 as '/', which would let altered text decode to the same bytes. */
static bool b64_alphabet(const char *s, size_t n)
{
    size_t pad = 0;
    while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < n - pad; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return false;
    }
    return true;
}

/* Decode exactly n bytes of standard padded base64; anything else (wrong length, stray or
 * non-canonical characters) fails. */
static bool b64_exact(void *bin, size_t n, const char *b64, size_t b64_len)
{
    size_t got = 0;
    if (!b64_alphabet(b64, b64_len))
        return false;
    if (sodium_base642bin(bin, n, b64, b64_len, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) !=
        0)
        return false;
    return got == n;
}

static void b64_encode(char *out, size_t out_size, const void *bin, size_t n)
{
    if (out_size < B64_LEN(n))
        dp_misuse("b64_encode: buffer too small");
    sodium_bin2base64(out, out_size, bin, n, sodium_base64_VARIANT_ORIGINAL);
}

/* Line reader over a byte buffer: a line ends at "\n" (or the end); trailing CRs are dropped,
 * as minisign's trim() does. */
struct cursor {
    const char *p;
    size_t left;
};

static bool next_line(struct cursor *c, const char **line, size_t *len)
{
    if (c->left == 0)
        return false;
    const char *nl = memchr(c->p, '\n', c->left);
    size_t n = nl != NULL ? (size_t)(nl - c->p) : c->left;
    size_t used = nl != NULL ? n + 1 : n;
    *line = c->p;
    c->p += used;
    c->left -= used;
    while (n > 0 && (*line)[n - 1] == '\r')
        n--;
    *len = n;
    return true;
}

/* No NUL and no CR inside a line. */
static bool line_clean(const char *line, size_t len)
{
    return memchr(line, '\0', len) == NULL && memchr(line, '\r', len) == NULL;
}

/* Only line breaks may follow the last line that means something. */
static bool rest_blank(const struct cursor *c)
{
    for (size_t i = 0; i < c->left; i++)
        if (c->p[i] != '\n' && c->p[i] != '\r')
            return false;
    return true;
}

static bool has_prefix(const char *line, size_t len, const char *prefix, size_t plen)
{
    return len >= plen && memcmp(line, prefix, plen) == 0;
}

/* ---- public keys ---- */

static enum dp_status pubkey_from_b64(struct dp_sign_pubkey **out, const char *b64, size_t len,
                                      struct dp_error *err)
{
    struct pk_blob blob;
    if (!b64_exact(&blob, sizeof(blob), b64, len))
        return dp_error_set(err, DP_ERR_PARSE, 0,
                            "not a minisign public key (base64 of 42 bytes expected)");
    if (memcmp(blob.alg, ALG_ED, 2) != 0)
        return dp_error_set(err, DP_ERR_PARSE, 0, "unsupported public key algorithm");
    struct dp_sign_pubkey *pk = malloc(sizeof(*pk));
    if (pk == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    memcpy(pk->keyid, blob.keyid, KEYID_BYTES);
    memcpy(pk->pk, blob.pk, sizeof(pk->pk));
    *out = pk;
    return DP_OK;
}

enum dp_status dp_sign_pubkey_from_base64(struct dp_sign_pubkey **out, const char *b64,
                                          struct dp_error *err)
{
    size_t len = strlen(b64);
    while (len > 0 && strchr(" \t\r\n", b64[len - 1]) != NULL)
        len--;
    while (len > 0 && strchr(" \t\r\n", b64[0]) != NULL) {
        b64++;
        len--;
    }
    return pubkey_from_b64(out, b64, len, err);
}

enum dp_status dp_sign_pubkey_load(struct dp_sign_pubkey **out, const char *path,
                                   struct dp_error *err)
{
    char *text = NULL;
    size_t len = 0;
    enum dp_status st = dp_read_file(path, PUBFILE_MAX, &text, &len, err);
    if (st != DP_OK)
        return st;
    struct cursor c = {text, len};
    const char *l1, *l2;
    size_t n1, n2;
    if (!next_line(&c, &l1, &n1) || !has_prefix(l1, n1, COMMENT_PREFIX, COMMENT_PREFIX_LEN) ||
        !next_line(&c, &l2, &n2) || !rest_blank(&c)) {
        st = dp_error_set(err, DP_ERR_PARSE, 0,
                          "'%s' is not a minisign public key file (comment line, key line)", path);
        goto out;
    }
    st = pubkey_from_b64(out, l2, n2, err);
    if (st != DP_OK)
        dp_error_prefix(err, "'%s': ", path);
out:
    free(text);
    return st;
}

void dp_sign_pubkey_free(struct dp_sign_pubkey *pk)
{
    free(pk);
}

void dp_sign_pubkey_keyid(const struct dp_sign_pubkey *pk, char out[DP_SIGN_KEYID_HEX_SIZE])
{
    keyid_hex(out, pk->keyid);
}

bool dp_sign_keyid_parse(char out[DP_SIGN_KEYID_HEX_SIZE], const char *text)
{
    if (text == NULL || strlen(text) != DP_SIGN_KEYID_HEX_SIZE - 1)
        return false;
    char up[DP_SIGN_KEYID_HEX_SIZE];
    for (size_t i = 0; i < DP_SIGN_KEYID_HEX_SIZE - 1; i++) {
        char c = text[i];
        if (c >= 'a' && c <= 'f')
            c = (char)(c - 'a' + 'A');
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
            return false;
        up[i] = c;
    }
    up[DP_SIGN_KEYID_HEX_SIZE - 1] = '\0';
    memcpy(out, up, sizeof(up));
    return true;
}

void dp_sign_pubkey_base64(const struct dp_sign_pubkey *pk, char out[DP_SIGN_PUBKEY_B64_SIZE])
{
    struct pk_blob blob;
    memcpy(blob.alg, ALG_ED, 2);
    memcpy(blob.keyid, pk->keyid, KEYID_BYTES);
    memcpy(blob.pk, pk->pk, sizeof(blob.pk));
    b64_encode(out, DP_SIGN_PUBKEY_B64_SIZE, &blob, sizeof(blob));
}

bool dp_sign_pubkey_equal(const struct dp_sign_pubkey *a, const struct dp_sign_pubkey *b)
{
    return memcmp(a->keyid, b->keyid, KEYID_BYTES) == 0 && memcmp(a->pk, b->pk, sizeof(a->pk)) == 0;
}

/* ---- secret keys ---- */

/* chk = BLAKE2b-256(sig_alg || keyid || sk), over the plaintext key. */
static void sk_checksum(uint8_t chk[crypto_generichash_BYTES], const struct sk_blob *b)
{
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, crypto_generichash_BYTES);
    crypto_generichash_update(&hs, b->alg, sizeof(b->alg));
    crypto_generichash_update(&hs, b->k.keyid, sizeof(b->k.keyid));
    crypto_generichash_update(&hs, b->k.sk, sizeof(b->k.sk));
    crypto_generichash_final(&hs, chk, crypto_generichash_BYTES);
    sodium_memzero(&hs, sizeof(hs));
}

/* XOR the keyid/sk/chk block with scrypt(passphrase, salt): encrypts and decrypts alike.
 * Leaves the block untouched when the derivation fails (out of memory). */
static int sk_xor_stream(struct sk_blob *b, const char *pass, uint64_t ops, uint64_t mem)
{
    uint8_t *stream = sodium_malloc(sizeof(b->k));
    if (stream == NULL)
        return -1;
    int rc = crypto_pwhash_scryptsalsa208sha256(stream, sizeof(b->k), pass, strlen(pass), b->salt,
                                                (unsigned long long)ops, (size_t)mem);
    if (rc == 0) {
        uint8_t *k = (uint8_t *)&b->k;
        for (size_t i = 0; i < sizeof(b->k); i++)
            k[i] ^= stream[i];
    }
    sodium_free(stream);
    return rc;
}

/* The public half stored in sk[32..64] must be the one its seed gives. */
static enum dp_status sk_check_halves(const uint8_t sk[crypto_sign_SECRETKEYBYTES],
                                      const char *path, struct dp_error *err)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t *again = sodium_malloc(crypto_sign_SECRETKEYBYTES);
    if (again == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    crypto_sign_seed_keypair(pk, again, sk);
    bool same = sodium_memcmp(again, sk, crypto_sign_SECRETKEYBYTES) == 0;
    sodium_free(again);
    if (!same)
        return dp_error_set(err, DP_ERR_CRYPTO, 0,
                            "corrupt secret key '%s': its two halves do not match", path);
    return DP_OK;
}

/* Read a whole secret key file into guarded memory (caller sodium_frees *out). */
static enum dp_status read_secret_file(char **out, size_t *len, const char *path,
                                       struct dp_error *err)
{
    enum dp_status st = DP_OK;
    size_t used = 0;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open '%s'", path);
    buf = sodium_malloc(SECFILE_MAX + 2);
    if (buf == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + used, SECFILE_MAX + 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = dp_error_set(err, DP_ERR_IO, errno, "cannot read '%s'", path);
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > SECFILE_MAX) {
            st =
                dp_error_set(err, DP_ERR_LIMIT, 0, "'%s' is too large for a secret key file", path);
            goto out;
        }
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    buf = NULL;
out:
    if (buf != NULL)
        sodium_free(buf);
    close(fd);
    return st;
}

/* Read and decode a secret key file (still encrypted when kdf is "Sc"). */
static enum dp_status sk_read(struct sk_blob **out, const char *path, struct dp_error *err)
{
    char *text = NULL;
    size_t len = 0;
    struct sk_blob *b = NULL;
    enum dp_status st = read_secret_file(&text, &len, path, err);
    if (st != DP_OK)
        return st;
    b = sodium_malloc(sizeof(*b));
    if (b == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    struct cursor c = {text, len};
    const char *l1, *l2;
    size_t n1, n2;
    if (!next_line(&c, &l1, &n1) || !has_prefix(l1, n1, COMMENT_PREFIX, COMMENT_PREFIX_LEN) ||
        !next_line(&c, &l2, &n2) || !rest_blank(&c) || !b64_exact(b, sizeof(*b), l2, n2)) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "'%s' is not a minisign secret key file", path);
        goto out;
    }
    if (memcmp(b->alg, ALG_ED, 2) != 0) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "'%s': unsupported signature algorithm", path);
    } else if (memcmp(b->chk_alg, CHK_B2, 2) != 0) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "'%s': unsupported checksum algorithm", path);
    } else if (memcmp(b->kdf, KDF_SCRYPT, 2) != 0 && memcmp(b->kdf, KDF_NONE, 2) != 0) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "'%s': unsupported key derivation function", path);
    }
    if (st != DP_OK)
        goto out;
    *out = b;
    b = NULL;
out:
    if (b != NULL)
        sodium_free(b);
    sodium_free(text);
    return st;
}

/* Decrypt (when encrypted) and check the checksum and the key halves. */
static enum dp_status sk_open(struct sk_blob *b, const char *path, const char *pass,
                              struct dp_error *err)
{
    uint8_t chk[crypto_generichash_BYTES];
    enum dp_status st = DP_OK;
    if (memcmp(b->kdf, KDF_SCRYPT, 2) == 0) {
        if (pass == NULL)
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "secret key '%s' is encrypted: a passphrase is needed", path);
        uint64_t ops = le64_load(b->opslimit_le), mem = le64_load(b->memlimit_le);
        if (ops > DP_SIGN_KDF_OPSLIMIT_MAX || mem > DP_SIGN_KDF_MEMLIMIT_MAX)
            return dp_error_set(err, DP_ERR_LIMIT, 0,
                                "secret key '%s': scrypt parameters too costly (ops %llu, "
                                "memory %llu)",
                                path, (unsigned long long)ops, (unsigned long long)mem);
        if (sk_xor_stream(b, pass, ops, mem) != 0)
            return dp_error_set(err, DP_ERR_NOMEM, 0,
                                "cannot derive the key of '%s' from the passphrase "
                                "(out of memory?)",
                                path);
        sk_checksum(chk, b);
        if (sodium_memcmp(chk, b->k.chk, sizeof(chk)) != 0)
            st = dp_error_set(err, DP_ERR_CRYPTO, 0, "wrong passphrase or corrupt secret key '%s'",
                              path);
    } else if (!sodium_is_zero(b->k.chk, sizeof(b->k.chk))) {
        /* minisign -W leaves chk zero; deprive writes it, so check it when present. */
        sk_checksum(chk, b);
        if (sodium_memcmp(chk, b->k.chk, sizeof(chk)) != 0)
            st = dp_error_set(err, DP_ERR_CRYPTO, 0, "corrupt secret key '%s': checksum mismatch",
                              path);
    }
    sodium_memzero(chk, sizeof(chk));
    if (st == DP_OK)
        st = sk_check_halves(b->k.sk, path, err);
    return st;
}

enum dp_status dp_sign_seckey_load(struct dp_sign_seckey **out, const char *path,
                                   const char *passphrase, struct dp_error *err)
{
    struct sk_blob *b = NULL;
    enum dp_status st = sodium_ready(err);
    if (st == DP_OK)
        st = sk_read(&b, path, err);
    if (st == DP_OK)
        st = sk_open(b, path, passphrase, err);
    if (st != DP_OK)
        goto out;
    struct dp_sign_seckey *sk = sodium_malloc(sizeof(*sk));
    if (sk == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    memcpy(sk->keyid, b->k.keyid, KEYID_BYTES);
    memcpy(sk->sk, b->k.sk, sizeof(sk->sk));
    sodium_mprotect_readonly(sk);
    *out = sk;
out:
    if (b != NULL)
        sodium_free(b);
    return st;
}

enum dp_status dp_sign_seckey_file_encrypted(const char *path, bool *encrypted,
                                             struct dp_error *err)
{
    struct sk_blob *b = NULL;
    enum dp_status st = sodium_ready(err);
    if (st == DP_OK)
        st = sk_read(&b, path, err);
    if (st != DP_OK)
        return st;
    *encrypted = memcmp(b->kdf, KDF_SCRYPT, 2) == 0;
    sodium_free(b);
    return DP_OK;
}

void dp_sign_seckey_free(struct dp_sign_seckey *sk)
{
    if (sk != NULL)
        sodium_free(sk); /* makes it writable, wipes, unmaps */
}

void dp_sign_seckey_keyid(const struct dp_sign_seckey *sk, char out[DP_SIGN_KEYID_HEX_SIZE])
{
    keyid_hex(out, sk->keyid);
}

enum dp_status dp_sign_seckey_pubkey(struct dp_sign_pubkey **out, const struct dp_sign_seckey *sk,
                                     struct dp_error *err)
{
    struct dp_sign_pubkey *pk = malloc(sizeof(*pk));
    if (pk == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    memcpy(pk->keyid, sk->keyid, KEYID_BYTES);
    crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
    *out = pk;
    return DP_OK;
}

/* ---- key generation ---- */

static enum dp_status keygen_check(const struct dp_sign_keygen_opts *o, const char *pub_path,
                                   const char *sec_path, struct dp_error *err)
{
    if (strcmp(pub_path, sec_path) == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "public and secret key files must differ ('%s')", pub_path);
    if (o->comment != NULL) {
        enum dp_status st = check_comment(o->comment, DP_SIGN_COMMENT_MAX, "key comment", err);
        if (st != DP_OK)
            return st;
    }
    if (o->passphrase != NULL && strlen(o->passphrase) > DP_SIGN_PASSPHRASE_MAX)
        return dp_error_set(err, DP_ERR_INVALID, 0, "passphrase is longer than %d bytes",
                            DP_SIGN_PASSPHRASE_MAX);
    if (o->opslimit != 0 && (o->opslimit < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
                             o->opslimit > DP_SIGN_KDF_OPSLIMIT_MAX))
        return dp_error_set(err, DP_ERR_INVALID, 0, "scrypt opslimit %llu out of range",
                            (unsigned long long)o->opslimit);
    if (o->memlimit != 0 && (o->memlimit < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN ||
                             o->memlimit > DP_SIGN_KDF_MEMLIMIT_MAX))
        return dp_error_set(err, DP_ERR_INVALID, 0, "scrypt memlimit %llu out of range",
                            (unsigned long long)o->memlimit);
    return DP_OK;
}

/* Encrypt the key block in place, halving the cost while memory is short (as minisign). */
static enum dp_status sk_encrypt(struct sk_blob *b, const char *pass, uint64_t ops, uint64_t mem,
                                 struct dp_error *err)
{
    randombytes_buf(b->salt, sizeof(b->salt));
    while (sk_xor_stream(b, pass, ops, mem) != 0) {
        ops /= 2;
        mem /= 2;
        if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
            mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN)
            return dp_error_set(err, DP_ERR_NOMEM, 0,
                                "not enough memory to derive a key from the passphrase");
    }
    le64_store(b->opslimit_le, ops);
    le64_store(b->memlimit_le, mem);
    return DP_OK;
}

static enum dp_status write_all(int fd, const char *buf, size_t len, const char *path,
                                struct dp_error *err)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return dp_error_set(err, DP_ERR_IO, errno, "cannot write '%s'", path);
        buf += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot sync '%s'", path);
    return DP_OK;
}

static enum dp_status fsync_parent(const char *path, struct dp_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? strdup(".")
                : slash == path ? strdup("/")
                                : strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    enum dp_status st = DP_OK;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL))
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot sync directory '%s'", dir);
    if (fd >= 0)
        close(fd);
    free(dir);
    return st;
}

static enum dp_status create_excl(int *fd, const char *path, mode_t mode, struct dp_error *err)
{
    *fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (*fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot create '%s'", path);
    return DP_OK;
}

/* Create both files before writing either, so an existing file stops everything early;
 * remove what was created when anything fails. */
static enum dp_status write_key_files(const char *pub_path, const char *pub_text,
                                      const char *sec_path, const char *sec_text,
                                      struct dp_error *err)
{
    int sfd = -1, pfd = -1;
    bool s_made = false, p_made = false;
    enum dp_status st = create_excl(&sfd, sec_path, 0600, err);
    if (st != DP_OK)
        goto out;
    s_made = true;
    st = create_excl(&pfd, pub_path, 0644, err);
    if (st != DP_OK)
        goto out;
    p_made = true;
    st = write_all(sfd, sec_text, strlen(sec_text), sec_path, err);
    if (st == DP_OK)
        st = write_all(pfd, pub_text, strlen(pub_text), pub_path, err);
    if (st == DP_OK && close(sfd) != 0)
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot write '%s'", sec_path);
    sfd = -1;
    if (st == DP_OK && close(pfd) != 0)
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot write '%s'", pub_path);
    pfd = -1;
    if (st == DP_OK)
        st = fsync_parent(sec_path, err);
    if (st == DP_OK)
        st = fsync_parent(pub_path, err);
out:
    if (sfd >= 0)
        close(sfd);
    if (pfd >= 0)
        close(pfd);
    if (st != DP_OK) {
        if (s_made)
            unlink(sec_path);
        if (p_made)
            unlink(pub_path);
    }
    return st;
}

/* "untrusted comment: <comment>\n<base64 blob>\n" into guarded memory (caller frees). */
static char *sec_file_text(const struct sk_blob *b, const char *comment)
{
    size_t clen = strlen(comment);
    size_t size = COMMENT_PREFIX_LEN + clen + 1 + B64_LEN(sizeof(*b)) + 1;
    char *text = sodium_malloc(size);
    if (text == NULL)
        return NULL;
    char *p = text;
    memcpy(p, COMMENT_PREFIX, COMMENT_PREFIX_LEN);
    p += COMMENT_PREFIX_LEN;
    memcpy(p, comment, clen);
    p += clen;
    *p++ = '\n';
    b64_encode(p, B64_LEN(sizeof(*b)), b, sizeof(*b));
    p += strlen(p);
    *p++ = '\n';
    *p = '\0';
    return text;
}

enum dp_status dp_sign_keygen(struct dp_sign_pubkey **pub_out, const char *pub_path,
                              const char *sec_path, const struct dp_sign_keygen_opts *opts,
                              struct dp_error *err)
{
    static const struct dp_sign_keygen_opts defaults;
    const struct dp_sign_keygen_opts *o = opts != NULL ? opts : &defaults;
    struct sk_blob *b = NULL;
    struct dp_sign_pubkey *pk = NULL;
    char *sec_text = NULL;
    enum dp_status st = keygen_check(o, pub_path, sec_path, err);
    if (st == DP_OK)
        st = sodium_ready(err);
    if (st != DP_OK)
        return st;
    b = sodium_malloc(sizeof(*b));
    pk = malloc(sizeof(*pk));
    if (b == NULL || pk == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    sodium_memzero(b, sizeof(*b));
    memcpy(b->alg, ALG_ED, 2);
    memcpy(b->kdf, o->passphrase != NULL ? KDF_SCRYPT : KDF_NONE, 2);
    memcpy(b->chk_alg, CHK_B2, 2);
    randombytes_buf(b->k.keyid, KEYID_BYTES);
    crypto_sign_keypair(pk->pk, b->k.sk);
    memcpy(pk->keyid, b->k.keyid, KEYID_BYTES);
    sk_checksum(b->k.chk, b);
    if (o->passphrase != NULL) {
        uint64_t ops =
            o->opslimit ? o->opslimit : crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE;
        uint64_t mem =
            o->memlimit ? o->memlimit : crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE;
        st = sk_encrypt(b, o->passphrase, ops, mem, err);
        if (st != DP_OK)
            goto out;
    }
    const char *comment = o->comment != NULL      ? o->comment
                          : o->passphrase != NULL ? "deprive encrypted secret key"
                                                  : "deprive secret key";
    sec_text = sec_file_text(b, comment);
    if (sec_text == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    char id[DP_SIGN_KEYID_HEX_SIZE], b64[DP_SIGN_PUBKEY_B64_SIZE];
    char pub_text[COMMENT_PREFIX_LEN + 64 + DP_SIGN_PUBKEY_B64_SIZE];
    dp_sign_pubkey_keyid(pk, id);
    dp_sign_pubkey_base64(pk, b64);
    /* minisign writes the id with PRIX64, without leading zeros: so do we, byte for byte */
    const char *shown = id;
    while (shown[0] == '0' && shown[1] != '\0')
        shown++;
    snprintf(pub_text, sizeof(pub_text), COMMENT_PREFIX "minisign public key %s\n%s\n", shown,
             b64);
    st = write_key_files(pub_path, pub_text, sec_path, sec_text, err);
    if (st == DP_OK && pub_out != NULL) {
        *pub_out = pk;
        pk = NULL;
    }
out:
    free(pk);
    if (b != NULL)
        sodium_free(b);
    if (sec_text != NULL)
        sodium_free(sec_text);
    return st;
}

/* ---- signatures ---- */

static const uint8_t empty_data[1];

enum dp_status dp_sign_sign(char **out, const struct dp_sign_seckey *sk, const void *data,
                            size_t len, const char *trusted_comment, const char *comment,
                            struct dp_error *err)
{
    if (data == NULL && len != 0)
        dp_misuse("dp_sign_sign: NULL data");
    if (data == NULL)
        data = empty_data;
    if (comment == NULL)
        comment = "signature from deprive secret key";
    enum dp_status st =
        check_comment(trusted_comment, DP_SIGN_TRUSTED_COMMENT_MAX, "trusted comment", err);
    if (st == DP_OK)
        st = check_comment(comment, DP_SIGN_COMMENT_MAX, "untrusted comment", err);
    if (st == DP_OK)
        st = sodium_ready(err);
    if (st != DP_OK)
        return st;

    uint8_t hash[PREHASH_BYTES], global[crypto_sign_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
    struct sig_blob sb;
    size_t tlen = strlen(trusted_comment), clen = strlen(comment);
    uint8_t *signed_tc = malloc(sizeof(sb.sig) + tlen);
    char *text = NULL;
    if (signed_tc == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    crypto_generichash(hash, sizeof(hash), data, len, NULL, 0);
    memcpy(sb.alg, ALG_HASHED, 2);
    memcpy(sb.keyid, sk->keyid, KEYID_BYTES);
    crypto_sign_ed25519_sk_to_pk(pk, sk->sk);
    if (crypto_sign_detached(sb.sig, NULL, hash, sizeof(hash), sk->sk) != 0) {
        st = dp_error_set(err, DP_ERR_CRYPTO, 0, "cannot compute a signature");
        goto out;
    }
    memcpy(signed_tc, sb.sig, sizeof(sb.sig));
    memcpy(signed_tc + sizeof(sb.sig), trusted_comment, tlen);
    if (crypto_sign_detached(global, NULL, signed_tc, sizeof(sb.sig) + tlen, sk->sk) != 0) {
        st = dp_error_set(err, DP_ERR_CRYPTO, 0, "cannot compute a signature");
        goto out;
    }
    /* Check both with the public half before handing anything out (a fault, a bad key). */
    if (crypto_sign_verify_detached(sb.sig, hash, sizeof(hash), pk) != 0 ||
        crypto_sign_verify_detached(global, signed_tc, sizeof(sb.sig) + tlen, pk) != 0) {
        st = dp_error_set(err, DP_ERR_CRYPTO, 0, "the new signature does not verify");
        goto out;
    }
    char sig_b64[B64_LEN(sizeof(sb))], global_b64[B64_LEN(sizeof(global))];
    b64_encode(sig_b64, sizeof(sig_b64), &sb, sizeof(sb));
    b64_encode(global_b64, sizeof(global_b64), global, sizeof(global));
    size_t size = COMMENT_PREFIX_LEN + clen + TRUSTED_PREFIX_LEN + tlen + sizeof(sig_b64) +
                  sizeof(global_b64) + 4;
    text = malloc(size);
    if (text == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    snprintf(text, size, COMMENT_PREFIX "%s\n%s\n" TRUSTED_PREFIX "%s\n%s\n", comment, sig_b64,
             trusted_comment, global_b64);
    *out = text;
out:
    sodium_memzero(hash, sizeof(hash));
    free(signed_tc);
    return st;
}

/* The four lines of a .minisig, decoded. Pointers borrow the caller's text. */
struct sig_parsed {
    struct sig_blob sb;
    uint8_t global[crypto_sign_BYTES];
    const char *tc; /* trusted comment text, not NUL-terminated */
    size_t tc_len;
};

static enum dp_status malformed(struct dp_error *err, const char *why)
{
    return dp_error_set(err, DP_ERR_VERIFY, 0, "malformed signature file: %s", why);
}

static enum dp_status sig_parse(struct sig_parsed *s, const char *text, size_t len,
                                struct dp_error *err)
{
    struct cursor c = {text, len};
    const char *l;
    size_t n;
    if (!next_line(&c, &l, &n) || !has_prefix(l, n, COMMENT_PREFIX, COMMENT_PREFIX_LEN))
        return malformed(err, "the first line is not an untrusted comment");
    if (!line_clean(l, n) || n > COMMENT_LINE_MAX)
        return malformed(err, "the untrusted comment line is too long or holds control bytes");
    if (!next_line(&c, &l, &n) || !b64_exact(&s->sb, sizeof(s->sb), l, n))
        return malformed(err, "the second line is not a base64 signature");
    if (!next_line(&c, &l, &n) || !has_prefix(l, n, TRUSTED_PREFIX, TRUSTED_PREFIX_LEN))
        return malformed(err, "the third line is not a trusted comment");
    s->tc = l + TRUSTED_PREFIX_LEN;
    s->tc_len = n - TRUSTED_PREFIX_LEN;
    if (!line_clean(s->tc, s->tc_len) || s->tc_len > DP_SIGN_TRUSTED_COMMENT_MAX)
        return malformed(err, "the trusted comment is too long or holds control bytes");
    if (!next_line(&c, &l, &n) || !b64_exact(s->global, sizeof(s->global), l, n))
        return malformed(err, "the fourth line is not a base64 global signature");
    if (!rest_blank(&c))
        return malformed(err, "unexpected data after the global signature");
    return DP_OK;
}

enum dp_status dp_sign_verify(char **trusted_out, const struct dp_sign_pubkey *pk, const void *data,
                              size_t len, const char *sig, size_t sig_len, unsigned flags,
                              struct dp_error *err)
{
    if (data == NULL && len != 0)
        dp_misuse("dp_sign_verify: NULL data");
    if (data == NULL)
        data = empty_data;
    struct sig_parsed s;
    enum dp_status st = sig_parse(&s, sig, sig_len, err);
    if (st == DP_OK)
        st = sodium_ready(err);
    if (st != DP_OK)
        return st;
    bool hashed = memcmp(s.sb.alg, ALG_HASHED, 2) == 0;
    if (!hashed && memcmp(s.sb.alg, ALG_ED, 2) != 0)
        return malformed(err, "unsupported signature algorithm");
    if (!hashed && !(flags & DP_SIGN_VERIFY_ALLOW_LEGACY))
        return dp_error_set(err, DP_ERR_VERIFY, 0, "legacy (non-prehashed) signature not accepted");
    if (memcmp(s.sb.keyid, pk->keyid, KEYID_BYTES) != 0) {
        char want[DP_SIGN_KEYID_HEX_SIZE], got[DP_SIGN_KEYID_HEX_SIZE];
        keyid_hex(got, s.sb.keyid);
        keyid_hex(want, pk->keyid);
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "key id mismatch: signed with key %s, the public key is %s", got, want);
    }
    uint8_t hash[PREHASH_BYTES];
    const void *msg = data;
    size_t msg_len = len;
    if (hashed) {
        crypto_generichash(hash, sizeof(hash), data, len, NULL, 0);
        msg = hash;
        msg_len = sizeof(hash);
    }
    if (crypto_sign_verify_detached(s.sb.sig, msg, msg_len, pk->pk) != 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "signature does not match the data (altered, or another key)");
    uint8_t *signed_tc = malloc(sizeof(s.sb.sig) + s.tc_len);
    if (signed_tc == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    memcpy(signed_tc, s.sb.sig, sizeof(s.sb.sig));
    memcpy(signed_tc + sizeof(s.sb.sig), s.tc, s.tc_len);
    int rc = crypto_sign_verify_detached(s.global, signed_tc, sizeof(s.sb.sig) + s.tc_len, pk->pk);
    free(signed_tc);
    if (rc != 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "trusted comment signature is invalid (trusted comment altered)");
    if (trusted_out != NULL) {
        char *tc = strndup(s.tc, s.tc_len);
        if (tc == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        *trusted_out = tc;
    }
    return DP_OK;
}
