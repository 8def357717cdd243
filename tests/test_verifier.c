/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the offline verifier page (docs/verify.html) and `deprive verify` on one
 * corpus. A certified run on a generated tree gives a good certificate; the cases are derived
 * from it here (edited bytes, edited signatures, other keys, certificates edited and signed
 * again with deprive's own signing: dp_cert_sign, dp_sign_document, dp_sign_sign), each with
 * the verdict and reason code it must get (docs/verify.md). tests/verifier_test.py then runs
 * every case through `deprive verify` and through the page in headless Chromium (selenium,
 * driving its file inputs) and fails when either checker differs from the expectation or from
 * the other. Skipped when python3 with selenium, chromium or chromedriver is missing
 * (scripts/bootstrap.sh installs them). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/json.h"
#include "deprive/sign.h"
#include "deprive/util.h"

/* The corpus: its directory, keys and the manifest being written. */
struct corpus {
    char *dir;
    json_t *cases;
    char *force_pub, *forger_pub;
    struct dp_sign_seckey *force, *forger;
    char force_id[DP_SIGN_KEYID_HEX_SIZE], forger_id[DP_SIGN_KEYID_HEX_SIZE];
    char *cert; /* the good certificate's bytes */
    size_t cert_len;
    char *sig; /* and its signature file's */
    size_t sig_len;
    char cert_id[37];
};

/* ---- small helpers --------------------------------------------------------------------------- */

static char *cpath(const struct corpus *c, const char *name)
{
    return tu_path(c->dir, name);
}

static void put(const struct corpus *c, const char *name, const void *buf, size_t len)
{
    tu_write(c->dir, name, buf, len);
}

/* Record a case: files by name in the corpus directory; outcome and keyid only for VALID. */
static void add_case(struct corpus *c, const char *name, const char *pub, const char *cert,
                     const char *sig, const char *verdict, const char *reason, const char *outcome,
                     const char *keyid)
{
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", name, "pub", pub, "cert", cert,
                          "sig", sig, "verdict", verdict, "reason", reason);
    assert_non_null(e);
    if (outcome != NULL)
        json_object_set_new(e, "outcome", json_string(outcome));
    if (keyid != NULL)
        json_object_set_new(e, "keyid", json_string(keyid));
    assert_int_equal(json_array_append_new(c->cases, e), 0);
}

/* A case whose certificate and signature are new files (NAME.json, NAME.json.minisig), checked
 * with the force's key. */
static void add_pair(struct corpus *c, const char *name, const void *cert, size_t cert_len,
                     const char *sig, const char *verdict, const char *reason, const char *outcome)
{
    char cn[128], sn[140];
    snprintf(cn, sizeof(cn), "%s.json", name);
    snprintf(sn, sizeof(sn), "%s.json.minisig", name);
    put(c, cn, cert, cert_len);
    put(c, sn, sig, strlen(sig));
    add_case(c, name, "force.pub", cn, sn, verdict, reason, outcome,
             strcmp(verdict, "VALID") == 0 ? c->force_id : NULL);
}

static void check(enum dp_status st, const struct dp_error *err, const char *what)
{
    if (st != DP_OK)
        fail_msg("%s: %s", what, err->msg);
}

/* ---- signing, as deprive does, or deliberately not ------------------------------------------- */

/* dp_cert_sign: what `deprive run` does (the certificate must name the key as signer). */
static char *sign_cert(const struct dp_sign_seckey *sk, const char *data, size_t len)
{
    struct dp_error err = {0};
    char *sig = NULL;
    check(dp_cert_sign(&sig, sk, data, len, "cert.json", &err), &err, "dp_cert_sign");
    return sig;
}

/* dp_sign_document with the certificate field (or none): no look inside the data. */
static char *sign_doc(const struct dp_sign_seckey *sk, const char *data, size_t len,
                      const char *cert_id)
{
    struct dp_error err = {0};
    char *sig = NULL;
    const struct dp_sign_field f = {"certificate", cert_id};
    check(dp_sign_document(&sig, sk, data, len, "cert.json", cert_id ? &f : NULL, cert_id ? 1 : 0,
                           NULL, &err),
          &err, "dp_sign_document");
    return sig;
}

/* dp_sign_sign with any trusted comment. */
static char *sign_tc(const struct dp_sign_seckey *sk, const char *data, size_t len, const char *tc)
{
    struct dp_error err = {0};
    char *sig = NULL;
    check(dp_sign_sign(&sig, sk, data, len, tc, NULL, &err), &err, "dp_sign_sign");
    return sig;
}

/* The certificate edited: parse, change, serialise as deprive writes it. */
static char *dump(const json_t *doc, size_t *len)
{
    char *s = dp_json_dump(doc);
    assert_non_null(s);
    *len = strlen(s);
    return s;
}

static json_t *parsed(const struct corpus *c)
{
    json_error_t je;
    json_t *doc = json_loadb(c->cert, c->cert_len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL)
        fail_msg("the run's certificate: %s", je.text);
    return doc;
}

static json_t *jget(json_t *doc, const char *dotted)
{
    json_t *v = (json_t *)tu_jget(doc, dotted);
    if (v == NULL)
        fail_msg("the run's certificate has no %s", dotted);
    return v;
}

/* ---- the signature file's lines -------------------------------------------------------------- */

/* Line i (0-based) of a signature file, as a heap string without its newline. */
static char *sig_line(const char *sig, int i)
{
    const char *p = sig;
    for (int k = 0; k < i; k++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    size_t n = strcspn(p, "\n");
    char *s = strndup(p, n);
    assert_non_null(s);
    return s;
}

/* The four lines put together again, line i replaced by text. */
static char *sig_with_line(const char *sig, int i, const char *text)
{
    char *l[4];
    for (int k = 0; k < 4; k++)
        l[k] = k == i ? strdup(text) : sig_line(sig, k);
    char *out = NULL;
    assert_true(asprintf(&out, "%s\n%s\n%s\n%s\n", l[0], l[1], l[2], l[3]) > 0);
    for (int k = 0; k < 4; k++)
        free(l[k]);
    return out;
}

static void b64_decode(uint8_t *bin, size_t n, const char *b64)
{
    size_t got = 0;
    assert_int_equal(sodium_base642bin(bin, n, b64, strlen(b64), NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(got, n);
}

static char *b64_encode(const uint8_t *bin, size_t n)
{
    size_t size = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(size);
    assert_non_null(s);
    sodium_bin2base64(s, size, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

/* Line 1 (alg, key id, signature: 74 bytes) or 3 (global signature: 64) decoded, edited by
 * edit, and put back. */
static char *sig_edit(const char *sig, int line, void (*edit)(uint8_t *blob, const void *arg),
                      const void *arg)
{
    uint8_t blob[74];
    size_t n = line == 1 ? 74 : 64;
    char *text = sig_line(sig, line);
    b64_decode(blob, n, text);
    edit(blob, arg);
    char *b64 = b64_encode(blob, n);
    char *out = sig_with_line(sig, line, b64);
    free(text);
    free(b64);
    return out;
}

static void flip_sig_byte(uint8_t *blob, const void *arg)
{
    (void)arg;
    blob[10 + 20] ^= 0x01; /* inside the Ed25519 signature */
}

static void flip_global_byte(uint8_t *blob, const void *arg)
{
    (void)arg;
    blob[20] ^= 0x01;
}

static void set_alg(uint8_t *blob, const void *arg)
{
    memcpy(blob, arg, 2);
}

static void set_keyid(uint8_t *blob, const void *arg)
{
    memcpy(blob + 2, arg, 8);
}

/* ---- keys ------------------------------------------------------------------------------------ */

/* The raw parts of an unencrypted (keygen -W) secret key file: key id and Ed25519 secret key
 * (sign.h: alg kdf chk_alg salt[32] ops[8] mem[8] keyid[8] sk[64] chk[32]). */
static void raw_seckey(const char *path, uint8_t keyid[8], uint8_t sk[64])
{
    size_t len = 0;
    char *text = tu_read(path, &len);
    assert_non_null(text);
    char *line = sig_line(text, 1);
    uint8_t blob[158];
    b64_decode(blob, sizeof(blob), line);
    assert_true(blob[2] == 0 && blob[3] == 0); /* not encrypted */
    memcpy(keyid, blob + 54, 8);
    memcpy(sk, blob + 62, 64);
    sodium_memzero(blob, sizeof(blob));
    free(line);
    free(text);
}

static void keygen(struct corpus *c, const char *name, char **pub, struct dp_sign_seckey **sk,
                   char id[DP_SIGN_KEYID_HEX_SIZE])
{
    char pn[64], sn[64];
    snprintf(pn, sizeof(pn), "%s.pub", name);
    snprintf(sn, sizeof(sn), "%s.sec", name);
    *pub = cpath(c, pn);
    char *sec = cpath(c, sn);
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", *pub, "-s", sec, NULL);
    if (r.status != 0)
        fail_msg("keygen: %s", r.err);
    tu_run_free(&r);
    struct dp_error err = {0};
    check(dp_sign_seckey_load(sk, sec, NULL, &err), &err, "dp_sign_seckey_load");
    dp_sign_seckey_keyid(*sk, id);
    free(sec);
}

/* ---- the certified run ----------------------------------------------------------------------- */

/* A small tree with three copies of one victim image under awkward names (markup, a
 * right-to-left override), other files and a symlink; hashed, run, certified. */
static void certified_run(struct corpus *c)
{
    char *dev = cpath(c, "device"), *work = cpath(c, "work");
    assert_int_equal(mkdir(dev, 0755), 0);
    assert_int_equal(mkdir(work, 0755), 0);
    tu_write_random(dev, "DCIM/victim.jpg", 40000, 1);
    tu_write_random(dev, "DCIM/<img src=x onerror=alert(1)>.jpg", 40000, 1);
    tu_write_random(dev, "Downloads/photo\xe2\x80\xaegpj.jpg", 40000, 1);
    tu_write_random(dev, "DCIM/holiday.jpg", 30000, 3);
    tu_write_random(dev, "notes.txt", 500, 4);
    char *link = tu_path(dev, "link-outside");
    assert_int_equal(symlink("/etc/passwd", link), 0);
    free(link);
    char *victim = tu_path(dev, "DCIM/victim.jpg");
    struct tu_run r;
    char *argv[] = {(char *)DP_TEST_BIN, "hash", victim, NULL};
    tu_run_argv(&r, argv, NULL);
    assert_int_equal(r.status, 0);
    tu_write(work, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *list = tu_path(work, "list.txt"), *cert = cpath(c, "cert.json"),
         *sec = cpath(c, "force.sec");
    tu_deprive(&r, NULL, "run", "--hashes", list, "--key", sec, "-o", cert, "--order", "DO/2026/77",
               "--exhibit", "EX-9", "--officer", "DC <script>alert('x')</script> Example",
               "--court", "Crown Court at \"Exampleton\" & Co", "--journal-on-same-fs", "--yes",
               dev, NULL);
    if (r.status != 0 || strstr(r.out, "(ERASED)") == NULL)
        fail_msg("run: exit %d\nstdout: %s\nstderr: %s", r.status, r.out, r.err);
    tu_run_free(&r);
    char *sig_path = cpath(c, "cert.json.minisig");
    c->cert = tu_read(cert, &c->cert_len);
    c->sig = tu_read(sig_path, &c->sig_len);
    assert_non_null(c->cert);
    assert_non_null(c->sig);
    json_t *doc = parsed(c);
    snprintf(c->cert_id, sizeof(c->cert_id), "%s",
             json_string_value(jget(doc, "identity.certificate_id")));
    assert_int_equal(json_array_size(jget(doc, "targets")), 3);
    json_decref(doc);
    free(dev), free(work), free(victim), free(list), free(cert), free(sec), free(sig_path);
}

/* ---- the cases ------------------------------------------------------------------------------- */

/* The signature and the signed comment. */
static void signature_cases(struct corpus *c)
{
    add_case(c, "good", "force.pub", "cert.json", "cert.json.minisig", "VALID", "valid", "ERASED",
             c->force_id);
    add_case(c, "other-key", "forger.pub", "cert.json", "cert.json.minisig", "INVALID",
             "key-mismatch", NULL, NULL);

    char *flipped = malloc(c->cert_len);
    assert_non_null(flipped);
    memcpy(flipped, c->cert, c->cert_len);
    flipped[c->cert_len / 2] ^= 0x01;
    add_pair(c, "cert-byte-flipped", flipped, c->cert_len, c->sig, "INVALID", "signature-invalid",
             NULL);
    free(flipped);

    char *s = sig_edit(c->sig, 1, flip_sig_byte, NULL);
    add_pair(c, "sig-byte-flipped", c->cert, c->cert_len, s, "INVALID", "signature-invalid", NULL);
    free(s);
    s = sig_edit(c->sig, 3, flip_global_byte, NULL);
    add_pair(c, "global-sig-flipped", c->cert, c->cert_len, s, "INVALID", "comment-invalid", NULL);
    free(s);

    /* the trusted comment's timestamp changed by one digit */
    char *tc = sig_line(c->sig, 2);
    char *digit = strstr(tc, "timestamp:");
    assert_non_null(digit);
    digit += strlen("timestamp:");
    *digit = *digit == '1' ? '2' : '1';
    s = sig_with_line(c->sig, 2, tc);
    add_pair(c, "comment-edited", c->cert, c->cert_len, s, "INVALID", "comment-invalid", NULL);
    free(s);
    free(tc);

    /* the forger's signature relabelled with the force's key id */
    uint8_t force_raw_id[8], force_sk[64], forger_raw_id[8], forger_sk[64];
    char *fsec = cpath(c, "force.sec"), *gsec = cpath(c, "forger.sec");
    raw_seckey(fsec, force_raw_id, force_sk);
    raw_seckey(gsec, forger_raw_id, forger_sk);
    char *forged = sign_doc(c->forger, c->cert, c->cert_len, c->cert_id);
    s = sig_edit(forged, 1, set_keyid, force_raw_id);
    add_pair(c, "keyid-forged", c->cert, c->cert_len, s, "INVALID", "signature-invalid", NULL);
    free(s);
    free(forged);

    s = sig_edit(c->sig, 1, set_alg, "Ex");
    add_pair(c, "unknown-algorithm", c->cert, c->cert_len, s, "INVALID", "malformed-signature",
             NULL);
    free(s);

    /* a legacy ("Ed", not prehashed) signature with deprive's trusted comment: good, refused */
    uint8_t sha[32], blob[74], global[64];
    char tcbuf[DP_CERT_TRUSTED_MAX];
    struct dp_error err = {0};
    dp_sha256_buf(sha, c->cert, c->cert_len);
    check(dp_cert_trusted_comment(tcbuf, sizeof(tcbuf), "cert.json", sha, c->force_id, c->cert_id,
                                  &err),
          &err, "dp_cert_trusted_comment");
    memcpy(blob, "Ed", 2);
    memcpy(blob + 2, force_raw_id, 8);
    assert_int_equal(crypto_sign_detached(blob + 10, NULL, (const unsigned char *)c->cert,
                                          c->cert_len, force_sk),
                     0);
    size_t tl = strlen(tcbuf);
    uint8_t *signed_tc = malloc(64 + tl);
    assert_non_null(signed_tc);
    memcpy(signed_tc, blob + 10, 64);
    memcpy(signed_tc + 64, tcbuf, tl);
    assert_int_equal(crypto_sign_detached(global, NULL, signed_tc, 64 + tl, force_sk), 0);
    char *b1 = b64_encode(blob, 74), *b2 = b64_encode(global, 64);
    assert_true(asprintf(&s, "untrusted comment: legacy signature\n%s\ntrusted comment: %s\n%s\n",
                         b1, tcbuf, b2) > 0);
    add_pair(c, "legacy-signature", c->cert, c->cert_len, s, "INVALID", "legacy-signature", NULL);
    free(s), free(b1), free(b2), free(signed_tc);
    sodium_memzero(force_sk, sizeof(force_sk));
    sodium_memzero(forger_sk, sizeof(forger_sk));
    free(fsec), free(gsec);

    /* only the first two lines */
    char *l0 = sig_line(c->sig, 0), *l1 = sig_line(c->sig, 1);
    assert_true(asprintf(&s, "%s\n%s\n", l0, l1) > 0);
    add_pair(c, "sig-truncated", c->cert, c->cert_len, s, "INVALID", "malformed-signature", NULL);
    free(s), free(l0), free(l1);

    /* CRLF line ends: minisign and deprive both read them */
    size_t n = 0;
    s = malloc(c->sig_len * 2 + 1);
    assert_non_null(s);
    for (size_t i = 0; i < c->sig_len; i++) {
        if (c->sig[i] == '\n')
            s[n++] = '\r';
        s[n++] = c->sig[i];
    }
    s[n] = '\0';
    add_pair(c, "sig-crlf", c->cert, c->cert_len, s, "VALID", "valid", "ERASED");
    free(s);

    static const char not_key[] = "untrusted comment: not a key\nthis is not base64!\n";
    put(c, "not-a-key.pub", not_key, sizeof(not_key) - 1);
    add_case(c, "bad-key", "not-a-key.pub", "cert.json", "cert.json.minisig", "ERROR", "bad-key",
             NULL, NULL);

    /* signed trusted comments that are not this certificate's */
    uint8_t other[32];
    dp_sha256_buf(other, "something else", 14);
    check(dp_cert_trusted_comment(tcbuf, sizeof(tcbuf), "cert.json", other, c->force_id, c->cert_id,
                                  &err),
          &err, "dp_cert_trusted_comment");
    s = sign_tc(c->force, c->cert, c->cert_len, tcbuf);
    add_pair(c, "comment-sha256-other", c->cert, c->cert_len, s, "INVALID", "comment-mismatch",
             NULL);
    free(s);
    check(dp_cert_trusted_comment(tcbuf, sizeof(tcbuf), "cert.json", sha, c->forger_id, c->cert_id,
                                  &err),
          &err, "dp_cert_trusted_comment");
    s = sign_tc(c->force, c->cert, c->cert_len, tcbuf);
    add_pair(c, "comment-keyid-other", c->cert, c->cert_len, s, "INVALID", "comment-mismatch",
             NULL);
    free(s);
    s = sign_doc(c->force, c->cert, c->cert_len, NULL);
    add_pair(c, "comment-no-certificate", c->cert, c->cert_len, s, "INVALID", "comment-mismatch",
             NULL);
    free(s);
    s = sign_tc(c->force, c->cert, c->cert_len, "timestamp:1\tsigned by hand");
    add_pair(c, "comment-not-deprive", c->cert, c->cert_len, s, "INVALID", "comment-mismatch",
             NULL);
    free(s);
}

/* An edited certificate, signed again by the force with dp_cert_sign. */
static void resigned(struct corpus *c, const char *name, json_t *doc, const char *verdict,
                     const char *reason, const char *outcome)
{
    size_t len = 0;
    char *data = dump(doc, &len);
    char *s = sign_cert(c->force, data, len);
    add_pair(c, name, data, len, s, verdict, reason, outcome);
    free(s);
    free(data);
    json_decref(doc);
}

/* Correctly signed certificates: consistent ones, and ones dp_cert_check refuses. */
static void content_cases(struct corpus *c)
{
    json_t *d = parsed(c);
    json_t *erased = jget(d, "outcome.summary.erased");
    json_integer_set(erased, json_integer_value(erased) + 1);
    resigned(c, "inconsistent-summary", d, "INVALID", "inconsistent", NULL);

    d = parsed(c);
    json_object_set_new(json_array_get(jget(d, "targets"), 0), "assurance",
                        json_string("not-erased"));
    resigned(c, "inconsistent-assurance", d, "INVALID", "inconsistent", NULL);

    d = parsed(c);
    json_t *t0 = json_array_get(jget(d, "targets"), 0);
    json_t *left = json_pack(
        "{s:O, s:O, s:s, s:s}", "location",
        json_object_get(json_array_get(json_object_get(t0, "names"), 0), "location"), "digests",
        json_object_get(t0, "digests"), "status", "rejected", "reason", "not a copy");
    json_object_set_new(jget(d, "outcome.rescan"), "left_by_decision", json_pack("[o]", left));
    resigned(c, "inconsistent-left-by-decision", d, "INVALID", "inconsistent", NULL);

    d = parsed(c);
    json_object_set_new(jget(d, "outcome"), "result", json_string("PARTIAL"));
    resigned(c, "inconsistent-result", d, "INVALID", "inconsistent", NULL);

    /* an integer written as a real: jansson tells them apart, and so must the page */
    d = parsed(c);
    json_t *totals = jget(d, "scan.totals");
    json_object_set_new(totals, "files",
                        json_real((double)json_integer_value(json_object_get(totals, "files"))));
    resigned(c, "inconsistent-real-count", d, "INVALID", "inconsistent", NULL);

    d = parsed(c);
    json_object_set_new(json_array_get(jget(d, "targets"), 1), "status", json_string("planned"));
    resigned(c, "inconsistent-status", d, "INVALID", "inconsistent", NULL);

    /* consistent, signed, and not ERASED */
    d = parsed(c);
    json_object_set_new(jget(d, "outcome.rescan"), "performed", json_false());
    json_object_set_new(jget(d, "outcome"), "result", json_string("FAILED"));
    resigned(c, "valid-failed", d, "VALID", "valid", "FAILED");

    d = parsed(c);
    json_t *t2 = json_array_get(jget(d, "targets"), 2);
    json_object_set_new(t2, "status", json_string("skipped"));
    json_object_set_new(t2, "assurance", json_string("not-erased"));
    json_object_set_new(t2, "reason", json_string("changed since the scan"));
    json_object_set_new(json_array_get(json_object_get(t2, "names"), 0), "removed", json_false());
    json_t *sum = jget(d, "outcome.summary");
    json_object_set_new(sum, "erased",
                        json_integer(json_integer_value(json_object_get(sum, "erased")) - 1));
    json_object_set_new(sum, "skipped",
                        json_integer(json_integer_value(json_object_get(sum, "skipped")) + 1));
    json_object_set_new(jget(d, "outcome"), "result", json_string("PARTIAL"));
    resigned(c, "valid-partial", d, "VALID", "valid", "PARTIAL");

    /* an embedded copy whose byte range was overwritten in place: its container keeps its
     * name; valid only while the bytes outside the range were proved unchanged, and only
     * with a well-formed range as the location's last element. k 4-6: a copy inside an
     * archive member (replace-member, the member chain before the range): valid only while
     * the outside was proved unchanged, the range zero and the rewritten archive verified */
    for (int k = 0; k < 7; k++) {
        d = parsed(c);
        json_t *t1 = json_array_get(jget(d, "targets"), 1);
        json_t *nm = json_array_get(json_object_get(t1, "names"), 0);
        json_t *loc = json_object_get(nm, "location");
        bool member = k >= 4;
        if (member)
            json_array_append_new(loc, json_string("inner/cache.db"));
        json_array_append_new(loc, k == 3 ? json_pack("{s:i, s:i}", "offset", -1, "length", 5)
                                          : json_pack("{s:i, s:i}", "offset", 4096, "length",
                                                      30000));
        json_object_set_new(nm, "removed", json_false());
        const char *method = member ? "replace-member"
                             : k == 2 ? "wipe-container"
                                      : "overwrite-range";
        json_t *em = json_pack("{s:s, s:i, s:i, s:s, s:b}", "kind", "jpeg", "offset", 4096,
                               "length", 30000, "method", method, "outside_unchanged", k != 1);
        if (member) {
            json_object_set_new(em, "range_zeroed", json_boolean(k != 5));
            json_object_set_new(t1, "archive", json_pack("{s:b, s:b}", "rewritten", 1,
                                                         "kept_verified", k != 6));
        }
        json_object_set_new(t1, "embedded", em);
        static const char *const names[] = {
            "valid-embedded-range",   "embedded-outside-changed", "embedded-name-kept",
            "embedded-bad-range",     "valid-member-range",       "member-range-not-zeroed",
            "member-archive-unverified"};
        if (k == 0 || k == 4)
            resigned(c, names[k], d, "VALID", "valid", "ERASED");
        else
            resigned(c, names[k], d, "INVALID", "inconsistent", NULL);
    }

    /* a remnant (scan --sweep): device space, no inode; erased only when the fill's read-back
     * left none of its windows, and by the free-space fill */
    for (int k = 0; k < 5; k++) {
        d = parsed(c);
        json_t *t1 = json_array_get(jget(d, "targets"), 1);
        json_t *nm = json_array_get(json_object_get(t1, "names"), 0);
        json_object_set_new(nm, "location",
                            json_pack("[{s:s}, {s:i, s:i}]", "device", "/dev/loop0", "offset",
                                      k == 4 ? -1 : 4096, "length", 30000));
        if (k != 3)
            json_object_del(t1, "inode");
        json_object_set_new(t1, "remnant",
                            json_pack("{s:s, s:i, s:i, s:s}", "device", "/dev/loop0", "offset",
                                      4096, "length", 30000, "removed_by",
                                      k == 2 ? "overwrite" : "free-space fill"));
        json_object_set_new(json_object_get(t1, "verification"), "windows_left",
                            json_integer(k == 1 ? 3 : 0));
        static const char *const names[] = {"valid-remnant", "remnant-windows-left",
                                            "remnant-removed-otherwise", "remnant-with-inode",
                                            "remnant-bad-range"};
        if (k == 0)
            resigned(c, names[k], d, "VALID", "valid", "ERASED");
        else
            resigned(c, names[k], d, "INVALID", "inconsistent", NULL);
    }

    /* a swept scan: ERASED only when the device was swept again after the wipe, and the
     * remnants left are among the re-scan's findings */
    for (int k = 0; k < 3; k++) {
        d = parsed(c);
        json_t *pass = json_pack("{s:i, s:i, s:i, s:i, s:b}", "bytes_swept", 1048576, "streams",
                                 2, "in_live_files", 1, "remnants", 1, "limited", 0);
        json_t *after = k == 1 ? json_null()
                               : json_pack("{s:i, s:i, s:i, s:i, s:b}", "bytes_swept", 1048576,
                                           "streams", 0, "in_live_files", 0, "remnants",
                                           k == 2 ? 2 : 0, "limited", 0);
        json_object_set_new(d, "sweep",
                            json_pack("{s:s, s:s, s:s, s:i, s:b, s:s, s:o, s:o}", "device",
                                      "/dev/loop0", "device_from", "mount", "kind",
                                      "block-device", "size", 1048576, "extents", 1, "scope",
                                      "this filesystem's device only", "before", pass, "after",
                                      after));
        static const char *const names[] = {"valid-swept", "swept-not-after", "swept-after-more"};
        if (k == 0)
            resigned(c, names[k], d, "VALID", "valid", "ERASED");
        else
            resigned(c, names[k], d, "INVALID", "inconsistent", NULL);
    }

    /* a forger's certificate, consistent and signed with the forger's own key: VALID against
     * that key, which only its key id tells apart */
    d = parsed(c);
    json_object_set_new(jget(d, "signer"), "keyid", json_string(c->forger_id));
    size_t len = 0;
    char *data = dump(d, &len);
    char *s = sign_cert(c->forger, data, len);
    put(c, "forger.json", data, len);
    put(c, "forger.json.minisig", s, strlen(s));
    add_case(c, "forger-own-key", "forger.pub", "forger.json", "forger.json.minisig", "VALID",
             "valid", "ERASED", c->forger_id);
    free(s);

    /* the same certificate signed by the force: it names another signer */
    s = sign_doc(c->force, data, len, c->cert_id);
    add_pair(c, "signer-mismatch", data, len, s, "INVALID", "signer-mismatch", NULL);
    free(s);
    free(data);
    json_decref(d);

    /* signed bytes that are not JSON as deprive reads it: a duplicate key, a byte order mark */
    const char *brace = memchr(c->cert, '{', c->cert_len);
    assert_non_null(brace);
    size_t head = (size_t)(brace - c->cert) + 1;
    static const char dup[] = "\n  \"format\": \"deprive-erasure-certificate\",";
    char *bad = malloc(c->cert_len + sizeof(dup) + 3);
    assert_non_null(bad);
    memcpy(bad, c->cert, head);
    memcpy(bad + head, dup, sizeof(dup) - 1);
    memcpy(bad + head + sizeof(dup) - 1, c->cert + head, c->cert_len - head);
    len = c->cert_len + sizeof(dup) - 1;
    s = sign_doc(c->force, bad, len, c->cert_id);
    add_pair(c, "duplicate-key", bad, len, s, "INVALID", "malformed-certificate", NULL);
    free(s);
    memcpy(bad, "\xef\xbb\xbf", 3);
    memcpy(bad + 3, c->cert, c->cert_len);
    s = sign_doc(c->force, bad, c->cert_len + 3, c->cert_id);
    add_pair(c, "byte-order-mark", bad, c->cert_len + 3, s, "INVALID", "malformed-certificate",
             NULL);
    free(s);
    free(bad);
}

/* ---- running the checkers -------------------------------------------------------------------- */

/* A python3 that can import selenium (Debian's python3-selenium lives in /usr/bin/python3's
 * path, which a python3 earlier on PATH may not see), or NULL. */
static const char *find_python(void)
{
    static const char *const candidates[] = {"/usr/bin/python3", "python3"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        char *argv[] = {(char *)candidates[i], "-c", "import selenium", NULL};
        struct tu_run r;
        tu_run_argv(&r, argv, NULL);
        int st = r.status;
        tu_run_free(&r);
        if (st == 0)
            return candidates[i];
    }
    return NULL;
}

static void test_page_and_cli_agree(void **state)
{
    (void)state;
    const char *py = find_python();
    if (py == NULL) {
        printf("verifier: skipped: no python3 with selenium (Debian: python3-selenium, with "
               "chromium and chromium-driver; scripts/bootstrap.sh installs them)\n");
        skip();
    }
    char *script = tu_path(DP_SOURCE_DIR, "tests/verifier_test.py");
    {
        char *argv[] = {(char *)py, script, "--probe", NULL};
        struct tu_run r;
        tu_run_argv(&r, argv, NULL);
        if (r.status == 77) {
            printf("verifier: skipped: %s%s", r.out, r.err);
            tu_run_free(&r);
            free(script);
            skip();
        }
        if (r.status != 0)
            fail_msg("verifier_test.py --probe exited %d: %s%s", r.status, r.out, r.err);
        tu_run_free(&r);
    }
    struct corpus c = {0};
    c.dir = tu_mkdtemp();
    c.cases = json_array();
    assert_non_null(c.cases);
    keygen(&c, "force", &c.force_pub, &c.force, c.force_id);
    keygen(&c, "forger", &c.forger_pub, &c.forger, c.forger_id);
    certified_run(&c);
    signature_cases(&c);
    content_cases(&c);
    char *manifest = cpath(&c, "manifest.json");
    assert_int_equal(json_dump_file(c.cases, manifest, JSON_INDENT(2)), 0);
    printf("verifier: %zu cases in %s\n", json_array_size(c.cases), c.dir);

    char *argv[] = {(char *)py,
                    script,
                    "--deprive",
                    (char *)DP_TEST_BIN,
                    "--page",
                    (char *)DP_SOURCE_DIR "/docs/verify.html",
                    "--source-dir",
                    (char *)DP_SOURCE_DIR,
                    "--corpus",
                    c.dir,
                    NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    fputs(r.out, stdout);
    fputs(r.err, stdout);
    int status = r.status;
    tu_run_free(&r);
    if (status != 0)
        fail_msg("verifier_test.py exited %d (its output is above)", status);

    json_decref(c.cases);
    dp_sign_seckey_free(c.force);
    dp_sign_seckey_free(c.forger);
    tu_rm_rf(c.dir);
    free(c.dir), free(c.force_pub), free(c.forger_pub), free(c.cert), free(c.sig), free(manifest),
        free(script);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_and_cli_agree),
    };
    return cmocka_run_group_tests_name("verifier", tests, NULL, NULL);
}
