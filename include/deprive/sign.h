/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: minisign-compatible Ed25519 keys and detached signatures (libsodium).
 *
 * Formats are minisign's (https://jedisct1.github.io/minisign/), so `minisign -Vm FILE -p KEY`
 * verifies what dp_sign_sign makes and deprive can use keys made by `minisign -G`:
 *   public key file   "untrusted comment: ...\n" base64("Ed" keyid[8] pk[32]) "\n"
 *   secret key file   "untrusted comment: ...\n" base64("Ed" kdf[2] "B2" salt[32] ops[8 LE]
 *                     mem[8 LE] keyid[8] sk[64] chk[32]) "\n"; kdf "Sc" = scrypt-encrypted,
 *                     two zero bytes = unencrypted (minisign -W); chk = BLAKE2b-256("Ed" keyid sk)
 *   signature file    "untrusted comment: ...\n" base64("ED" keyid[8] sig[64]) "\n"
 *                     "trusted comment: TEXT\n" base64(global_sig[64]) "\n"
 *                     sig = Ed25519(BLAKE2b-512(data)), global_sig = Ed25519(sig || TEXT)
 * Only the trusted comment is authenticated; the untrusted comments are not.
 *
 * Secret keys live in sodium_malloc memory and are wiped when freed. Functions that take a
 * key only read it, so one key may be used from several threads at once; everything else is
 * per call. libsodium is initialised on demand (sodium_init is idempotent). */
#ifndef DEPRIVE_SIGN_H
#define DEPRIVE_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

/* Key id text: 16 upper-case hex digits as minisign prints it, plus NUL. */
#define DP_SIGN_KEYID_HEX_SIZE 17
/* Public key base64 line (56 characters) plus NUL, as `minisign -P` takes it. */
#define DP_SIGN_PUBKEY_B64_SIZE 57
/* Longest trusted comment minisign can read back (its 8192-byte line buffer). */
#define DP_SIGN_TRUSTED_COMMENT_MAX 8173
/* Longest untrusted comment minisign can read back (its 1024-byte line buffer). */
#define DP_SIGN_COMMENT_MAX 1003
/* Longest passphrase minisign can read (its 1024-byte buffer, newline included). */
#define DP_SIGN_PASSPHRASE_MAX 1022
/* Upper bounds on scrypt parameters accepted from a secret key file (4 GiB, 2^30 ops), so a
 * crafted file cannot make loading run for hours; minisign's own defaults are far below. */
#define DP_SIGN_KDF_MEMLIMIT_MAX (UINT64_C(1) << 32)
#define DP_SIGN_KDF_OPSLIMIT_MAX (UINT64_C(1) << 30)

/* A public key (key id + Ed25519 public key). Opaque; dp_sign_pubkey_free. */
struct dp_sign_pubkey;
/* A decrypted secret key (key id + Ed25519 secret key) in guarded sodium_malloc memory,
 * read-only once loaded. Opaque; dp_sign_seckey_free wipes it. */
struct dp_sign_seckey;

/* Options for dp_sign_keygen. Zero-initialise, then set what you need. */
struct dp_sign_keygen_opts {
    /* NUL-terminated passphrase (at most DP_SIGN_PASSPHRASE_MAX bytes, may be empty) to
     * encrypt the secret key with scrypt, or NULL for an unencrypted key (minisign -W).
     * Borrowed for the call only. */
    const char *passphrase;
    /* Untrusted comment for the secret key file; NULL = "deprive secret key" or
     * "deprive encrypted secret key". One line, at most DP_SIGN_COMMENT_MAX bytes. The public
     * key file always says "minisign public key <KEYID>", as minisign writes it. */
    const char *comment;
    /* scrypt cost; 0 = minisign's defaults (crypto_pwhash_scryptsalsa208sha256_*_SENSITIVE,
     * about 1 GiB and a few seconds). Lower values (not below libsodium's *_MIN) are for
     * tests; minisign reads them from the file, so such keys still interoperate. When the
     * memory cannot be had, both are halved until it can (as minisign does). */
    uint64_t opslimit;
    uint64_t memlimit;
};

/* Make a new key pair and write it: secret key file at sec_path (mode 0600) and public key
 * file at pub_path (mode 0644), both created with O_CREAT|O_EXCL|O_NOFOLLOW (an existing file
 * or symlink is an error, never overwritten), written, fsynced, and their directories fsynced.
 * If either file cannot be written, files this call created are removed again.
 *   pub_out  optional (may be NULL): receives the new public key; caller frees it.
 *   opts     may be NULL (unencrypted key, default comment).
 * Returns DP_OK; DP_ERR_IO (EEXIST when a file exists), DP_ERR_INVALID (bad comment,
 * passphrase too long, opslimit/memlimit out of range, both paths equal), DP_ERR_NOMEM,
 * DP_ERR_CRYPTO. */
enum dp_status dp_sign_keygen(struct dp_sign_pubkey **pub_out, const char *pub_path,
                              const char *sec_path, const struct dp_sign_keygen_opts *opts,
                              struct dp_error *err) DP_WUR DP_NONNULL(2, 3);

/* Read a public key file (first line an untrusted comment, second the base64 key; CRLF and
 * trailing blank lines are fine; a symlink as the last path component is refused).
 * *out receives a new key the caller frees. DP_ERR_IO, DP_ERR_PARSE (malformed, or an
 * algorithm other than Ed25519), DP_ERR_LIMIT (file over 64 KiB), DP_ERR_NOMEM. */
enum dp_status dp_sign_pubkey_load(struct dp_sign_pubkey **out, const char *path,
                                   struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Parse a public key from its base64 text (the second line of the file, as `minisign -P`
 * takes it); surrounding blanks and line breaks are ignored. *out: new key, caller frees.
 * DP_ERR_PARSE, DP_ERR_NOMEM. */
enum dp_status dp_sign_pubkey_from_base64(struct dp_sign_pubkey **out, const char *b64,
                                          struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Free a public key; NULL is fine. */
void dp_sign_pubkey_free(struct dp_sign_pubkey *pk);

/* Key id as minisign prints it (the 8 id bytes read as a little-endian uint64, %016llX). */
void dp_sign_pubkey_keyid(const struct dp_sign_pubkey *pk, char out[DP_SIGN_KEYID_HEX_SIZE])
    DP_NONNULL(1, 2);

/* Key id text: true when text is exactly 16 hex digits (either case; NULL is false), and out
 * then receives them in upper case, as minisign prints them; out is untouched otherwise. */
bool dp_sign_keyid_parse(char out[DP_SIGN_KEYID_HEX_SIZE], const char *text) DP_WUR
    DP_NONNULL(1);

/* The base64 public key line (without newline) into out. */
void dp_sign_pubkey_base64(const struct dp_sign_pubkey *pk, char out[DP_SIGN_PUBKEY_B64_SIZE])
    DP_NONNULL(1, 2);

/* Whether two public keys are the same (key id and key). */
bool dp_sign_pubkey_equal(const struct dp_sign_pubkey *a, const struct dp_sign_pubkey *b)
    DP_NONNULL(1, 2);

/* Read and decrypt a secret key file made by dp_sign_keygen or `minisign -G` (with or
 * without -W); a symlink as the last path component is refused.
 *   passphrase  NUL-terminated, or NULL for an unencrypted key (ignored when the key is
 *               unencrypted).
 *   *out        new key; caller frees with dp_sign_seckey_free.
 * The file text, the decoded key and every intermediate stay in sodium_malloc memory and are
 * wiped. Decrypting runs scrypt with the file's parameters (seconds and about 1 GiB for
 * minisign's defaults; bounded by DP_SIGN_KDF_*_MAX).
 * Returns DP_OK; DP_ERR_CRYPTO "wrong passphrase or corrupt secret key" when the checksum
 * does not match after decryption (or the key halves disagree); DP_ERR_INVALID when the key is
 * encrypted and passphrase is NULL; DP_ERR_PARSE (malformed, unsupported algorithm);
 * DP_ERR_LIMIT (KDF parameters over the bounds, file too large); DP_ERR_IO; DP_ERR_NOMEM. */
enum dp_status dp_sign_seckey_load(struct dp_sign_seckey **out, const char *path,
                                   const char *passphrase, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2);

/* Whether a secret key file is passphrase-protected (kdf "Sc"), without decrypting it.
 * DP_ERR_IO, DP_ERR_PARSE, DP_ERR_LIMIT, DP_ERR_NOMEM. */
enum dp_status dp_sign_seckey_file_encrypted(const char *path, bool *encrypted,
                                             struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Wipe and free a secret key; NULL is fine. */
void dp_sign_seckey_free(struct dp_sign_seckey *sk);

/* Key id of a secret key, as dp_sign_pubkey_keyid. */
void dp_sign_seckey_keyid(const struct dp_sign_seckey *sk, char out[DP_SIGN_KEYID_HEX_SIZE])
    DP_NONNULL(1, 2);

/* The public key of a secret key (what `minisign -R` recreates). *out: caller frees.
 * DP_ERR_NOMEM. */
enum dp_status dp_sign_seckey_pubkey(struct dp_sign_pubkey **out, const struct dp_sign_seckey *sk,
                                     struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Sign len bytes of data (prehashed "ED" signature, as minisign >= 0.8 makes by default).
 *   out              receives the complete .minisig text (four lines, each ending in "\n"),
 *                    a NUL-terminated heap string the caller frees.
 *   trusted_comment  authenticated one-line text: no CR, LF; at most
 *                    DP_SIGN_TRUSTED_COMMENT_MAX bytes (may be empty).
 *   comment          untrusted comment, same rules with DP_SIGN_COMMENT_MAX; NULL =
 *                    "signature from deprive secret key".
 * The result is verified with the key's public half before it is returned.
 * Returns DP_OK; DP_ERR_INVALID (comment rules), DP_ERR_NOMEM, DP_ERR_CRYPTO. */
enum dp_status dp_sign_sign(char **out, const struct dp_sign_seckey *sk, const void *data,
                            size_t len, const char *trusted_comment, const char *comment,
                            struct dp_error *err) DP_WUR DP_NONNULL(1, 2, 5);

/* dp_sign_verify flags. */
enum {
    /* Also accept legacy non-prehashed "Ed" signatures (minisign -l, minisign < 0.8), which
     * `minisign -V` accepts unless given -H. Off: such a signature fails verification. */
    DP_SIGN_VERIFY_ALLOW_LEGACY = 1 << 0,
};

/* Verify a .minisig text (sig, sig_len bytes; need not be NUL-terminated) over len bytes of
 * data with pk. Checks the file's shape, the key id, the signature over the data and the
 * global signature over the trusted comment.
 *   trusted_out  optional: on DP_OK receives the trusted comment text (heap, NUL-terminated,
 *                caller frees); untouched otherwise.
 * Returns DP_OK when everything holds; otherwise DP_ERR_VERIFY with a message saying which
 * check failed ("malformed signature file: ...", "key id mismatch: ...", "signature does not
 * match the data", "trusted comment signature is invalid", "legacy ... not accepted"),
 * or DP_ERR_NOMEM. */
enum dp_status dp_sign_verify(char **trusted_out, const struct dp_sign_pubkey *pk, const void *data,
                              size_t len, const char *sig, size_t sig_len, unsigned flags,
                              struct dp_error *err) DP_WUR DP_NONNULL(2, 5);

/* ---- the signatures deprive makes (src/attest/sign_doc.c) -------------------------------
 * Every file deprive signs (an erasure certificate, an audit report) is signed over its exact
 * bytes by dp_sign_document, whose trusted comment dp_sign_trusted_comment builds - the only
 * place that comment is made:
 *
 *   timestamp:<unix seconds>\tfile:<name>\tsha256:<64 lower-case hex>\tkeyid:<16 HEX>
 *
 * followed by the caller's extra fields ("\tcertificate:<uuid>" for a certificate), each
 * "<key>:<value>", tab-separated. dp_cert_trusted_parse (cert.h) reads it back; minisign -V
 * prints it as "Trusted comment: ...".
 *
 * The file name is cleaned so that no file name can break that line, the tab-separated
 * fields, or a terminal that shows them:
 *   - only the part after the last '/' is used (a path may be passed);
 *   - every byte outside printable ASCII (0x20-0x7e) becomes '?', one '?' per byte: C0 control
 *     characters (0x00-0x1f, so TAB, LF, CR and ESC among them), DEL (0x7f), and every byte
 *     from 0x80 up - UTF-8 sequences and invalid bytes alike, so the comment is always ASCII;
 *   - at most DP_SIGN_NAME_MAX bytes of it are kept (cut after cleaning, so never inside a
 *     character of the original name).
 * Spaces, ':' and every other printable ASCII character are kept: the parser splits a field at
 * its first ':' only. */

/* Longest file name kept in a trusted comment, in bytes. */
#define DP_SIGN_NAME_MAX 200
/* Longest extra field value, in bytes (what dp_cert_trusted_parse can read back). */
#define DP_SIGN_FIELD_VALUE_MAX 255
/* Longest extra field key, in bytes. */
#define DP_SIGN_FIELD_KEY_MAX 32

/* An extra trusted-comment field. key: 1 to DP_SIGN_FIELD_KEY_MAX characters a-z, 0-9, '_' or
 * '-', starting with a letter, not one of timestamp, file, sha256, keyid, nor repeated. value:
 * 1 to DP_SIGN_FIELD_VALUE_MAX printable ASCII bytes (0x20-0x7e) - it is not cleaned but
 * refused, since the caller, not a user, chooses it. Both borrowed for the call only. */
struct dp_sign_field {
    const char *key;
    const char *value;
};

/* Build the trusted comment above into buf (size bytes, NUL included): the timestamp is now,
 * name is cleaned as described, sha256 is written in lower-case hex and keyid (16 hex digits,
 * either case) in upper case, then the n_extra fields of extra (may be NULL when n_extra is 0)
 * in their order. Returns DP_OK; DP_ERR_INVALID (keyid not 16 hex digits, an extra field
 * breaking the rules above); DP_ERR_LIMIT (buf too small, or the comment would exceed
 * DP_SIGN_TRUSTED_COMMENT_MAX). buf is an empty string on failure. */
enum dp_status dp_sign_trusted_comment(char *buf, size_t size, const char *name,
                                       const uint8_t sha256[32], const char *keyid,
                                       const struct dp_sign_field *extra, size_t n_extra,
                                       struct dp_error *err) DP_WUR DP_NONNULL(1, 3, 4, 5);

/* Sign a file's exact bytes as deprive signs every file: SHA-256 of data, the key's id, the
 * trusted comment from dp_sign_trusted_comment (name: the file's name or path, cleaned there),
 * then dp_sign_sign (prehashed; verified with the public half before it is returned).
 *   sig_out  receives the .minisig text, heap, caller frees; untouched on failure.
 *   comment  untrusted comment, NULL for dp_sign_sign's default.
 * Returns DP_OK; DP_ERR_INVALID, DP_ERR_LIMIT (as dp_sign_trusted_comment, or a bad untrusted
 * comment), DP_ERR_NOMEM, DP_ERR_CRYPTO. */
enum dp_status dp_sign_document(char **sig_out, const struct dp_sign_seckey *sk, const void *data,
                                size_t len, const char *name, const struct dp_sign_field *extra,
                                size_t n_extra, const char *comment, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2, 5);

#endif
