/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the erasure certificate (docs/certificate.md) - case details, building it from the
 * scan report, the wipe result and the re-scan, checking its internal consistency, the signed
 * trusted comment, verification and a text rendering for people.
 *
 * This header includes <jansson.h>: the certificate is a JSON document, and the JSON-bearing
 * modules (report, journal, cert) share jansson's json_t rather than wrapping it.
 *
 * Thread safety: no global state; every function works on its arguments only. */
#ifndef DEPRIVE_CERT_H
#define DEPRIVE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "deprive/error.h"

#define DP_CERT_FORMAT "deprive-erasure-certificate"
#define DP_CERT_SCHEMA 1
#define DP_CERT_CASE_FORMAT "deprive-case"
#define DP_CERT_CASE_SCHEMA 1
/* Longest case detail value, in bytes. */
#define DP_CERT_CASE_VALUE_MAX 1024
/* Largest certificate file deprive verify and show read. */
#define DP_CERT_FILE_MAX ((size_t)256 << 20)

/* Outcome values (outcome.result), defined precisely in docs/certificate.md:
 *   ERASED   every target was erased (status "erased") and the post-erasure re-scan, over the
 *            same root with the same hash lists, found zero matches;
 *   PARTIAL  the re-scan found zero matches, but at least one target was not erased by deprive
 *            (skipped or failed: e.g. changed or vanished since the scan);
 *   FAILED   the re-scan found at least one match, or no re-scan was done. */
enum dp_cert_outcome {
    DP_OUTCOME_ERASED = 0, /* "ERASED" */
    DP_OUTCOME_PARTIAL,    /* "PARTIAL" */
    DP_OUTCOME_FAILED,     /* "FAILED" */
    DP_OUTCOME_COUNT
};
const char *dp_cert_outcome_name(enum dp_cert_outcome o);
bool dp_cert_outcome_parse(const char *name, enum dp_cert_outcome *out) DP_WUR;
/* The outcome a certificate states (outcome.result); false when missing or unknown. */
bool dp_cert_outcome_of(const json_t *cert, enum dp_cert_outcome *out) DP_WUR;
#define DP_CERT_ERASED "ERASED" /* = dp_cert_outcome_name(DP_OUTCOME_ERASED) */
#define DP_CERT_PARTIAL "PARTIAL"
#define DP_CERT_FAILED "FAILED"

/* ---- case details ---------------------------------------------------------------------- */

/* One known case detail: its path in the case document ("authority.officer.name"), the CLI
 * flag a command should offer for it (without "--"), a short label for people ("Officer"), a
 * one-line description for --help, whether it must be present, and whether it is a date
 * (YYYY-MM-DD). The certificate carries each at the same path. */
struct dp_cert_case_field {
    const char *path;
    const char *flag;
    const char *label;
    const char *help;
    bool required;
    bool date;
};

/* The table of known case fields, in documentation order; *count receives its length.
 * Static storage, never freed. A CLI builds its long options from it. */
const struct dp_cert_case_field *dp_cert_case_fields(size_t *count) DP_NONNULL(1);

/* A new, empty case document ({"format": "deprive-case", "schema": 1}). DP_ERR_NOMEM. */
enum dp_status dp_cert_case_new(json_t **out, struct dp_error *err) DP_WUR DP_NONNULL(1);

/* Set one field by path ("exhibit.device.serial") or by flag name ("device-serial"),
 * creating intermediate objects, replacing an earlier value (so flags override a case file).
 * value must be valid UTF-8, one line without control characters, 1..DP_CERT_CASE_VALUE_MAX
 * bytes, and YYYY-MM-DD for a date field. DP_ERR_INVALID (unknown field, bad value),
 * DP_ERR_NOMEM. */
enum dp_status dp_cert_case_set(json_t *case_doc, const char *field, const char *value,
                                struct dp_error *err) DP_WUR DP_NONNULL(1, 2, 3);

/* Validate a case document: only known objects and fields, string values obeying the
 * dp_cert_case_set rules, format/schema when present, and every required field present.
 * DP_ERR_INVALID naming the bad field's path (and its flag) - or, when only required fields
 * are missing, every one of them in one message ("case details: missing
 * authority.order_reference (--order), exhibit.exhibit_reference (--exhibit)");
 * DP_ERR_PARSE when not an object. */
enum dp_status dp_cert_case_validate(const json_t *case_doc, struct dp_error *err) DP_WUR
    DP_NONNULL(1);

/* Load and validate a case file (docs/certificate.md, fixtures/case-example.json).
 * *out: new reference the caller json_decref's. DP_ERR_IO, DP_ERR_PARSE, DP_ERR_INVALID,
 * DP_ERR_LIMIT (over 1 MiB). Messages start with the path. */
enum dp_status dp_cert_case_from_file(json_t **out, const char *path, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2);

/* ---- building -------------------------------------------------------------------------- */

/* Build a certificate. All inputs are borrowed and left unchanged.
 *   case_details   a case document (validated here: required fields missing is
 *                  DP_ERR_INVALID naming the field)
 *   scan_report    the scan report (src/report.c, "deprive-scan-report" version 1) that was
 *                  the wipe plan
 *   wipe_result    what dp_wipe_run returned (docs/wipe-result.md); must not be a dry run
 *   rescan_report  the post-erasure re-scan report over the same root with the same lists,
 *                  or NULL when none was made (the result is then FAILED)
 *   signer_keyid   key id (16 hex digits) of the key that will sign it
 * Copies facts only: per target the names, identity, digests, match method, what the wipe
 * did, verification, extents and assurance. Never copies hash-list labels (they may name
 * victims) or images; hash lists appear by file name (no directory) and SHA-256.
 * The result is checked with dp_cert_check before it is returned; inputs that would make an
 * inconsistent certificate are DP_ERR_INVALID. *out: new reference, caller json_decref's.
 * Serialise it with dp_json_dump (sorted keys): the output is deterministic apart from
 * identity.certificate_id (random UUID) and identity.issued (now); libsodium must be
 * initialised. */
enum dp_status dp_cert_build(json_t **out, const json_t *case_details, const json_t *scan_report,
                             const json_t *wipe_result, const json_t *rescan_report,
                             const char *signer_keyid, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2, 3, 4, 6);

/* ---- checking -------------------------------------------------------------------------- */

/* Every problem dp_cert_check found, one line each ("outcome.result: ERASED but target 2 is
 * failed"). Caller-owned; release with dp_cert_problems_release. */
struct dp_cert_problems {
    char **items;
    size_t count;
};

void dp_cert_problems_release(struct dp_cert_problems *p);

/* Check a certificate's internal consistency: format and schema; required authority and
 * exhibit fields; identity; hash lists; scan totals non-negative and adding up; each target's
 * status, names, digests (hex of the right length), match records, and, when erased, its
 * assurance level and verification "match", else its reason; the summary counts equal the
 * targets by status; the names count equals the scan's findings; the re-scan covered the
 * same root and lists; outcome.result agrees with the targets and the re-scan; journal head;
 * signer key id; residual risks present.
 *   problems  optional (may be NULL): receives every problem (release it even on DP_OK).
 * Returns DP_OK, or DP_ERR_VERIFY with err->msg "N problem(s): first; second; ..."
 * (truncated to fit), or DP_ERR_NOMEM. */
enum dp_status dp_cert_check(const json_t *cert, struct dp_cert_problems *problems,
                             struct dp_error *err) DP_WUR DP_NONNULL(1);

/* ---- what an audit looks for ----------------------------------------------------------- */

struct dp_hashset;

/* The hash set an audit re-scans for: every digest of every target the certificate records
 * as erased (skipped and failed targets are not claimed gone, so they are not looked for).
 * The certificate is checked first (dp_cert_check): an inconsistent one is DP_ERR_VERIFY with
 * its problems, whatever trust_sizes says, so no filter is ever derived from it.
 *   trust_sizes  true only when the certificate's signature was verified (dp_cert_verify):
 *                each entry then carries its target's size, and the set (with no other list
 *                lacking sizes) lets the scan skip files of other sizes unread. False: no
 *                entry has a size, so the scan reads every file - an edited or missing size
 *                cannot hide a file from the audit.
 *   name         the source's name in reports ("CERT.json (erased digests)").
 * The entries form one source of format "certificate" whose SHA-256 is that of the
 * certificate as dp_json_dump serialises it (the file's bytes for a certificate deprive
 * wrote). A certificate with nothing erased gives a set with no source. *out: a new set,
 * not finalized, so further lists can be loaded into it; the caller finalizes and frees it
 * (dp_hashset_free); NULL on failure. DP_ERR_VERIFY, DP_ERR_NOMEM. */
enum dp_status dp_cert_erased_hashset(struct dp_hashset **out, const json_t *cert,
                                      const char *name, bool trust_sizes, struct dp_error *err)
    DP_WUR DP_NONNULL(1, 2, 3);

/* ---- signing and verification ---------------------------------------------------------- */

/* Longest trusted comment dp_cert_trusted_comment writes, NUL included. */
#define DP_CERT_TRUSTED_MAX 512

/* Format the trusted comment signed with a certificate:
 *   "timestamp:<unix>\tfile:<name>\tsha256:<hex>\tkeyid:<KEYID>\tcertificate:<uuid>"
 * It is dp_sign_trusted_comment (sign.h) with the extra field "certificate", so the name is
 * cleaned as there (base name; every byte outside printable ASCII, tabs, line breaks and
 * other control characters and bytes >= 0x80 included, becomes '?'; at most
 * DP_SIGN_NAME_MAX bytes kept); sha256 the SHA-256 of the certificate file's bytes; keyid
 * 16 hex digits; cert_id the certificate's identity.certificate_id. The timestamp is now.
 * DP_ERR_INVALID (bad keyid or cert_id), DP_ERR_LIMIT (size too small). */
enum dp_status dp_cert_trusted_comment(char *buf, size_t size, const char *cert_file_basename,
                                       const uint8_t sha256[32], const char *keyid,
                                       const char *cert_id, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 3, 4, 5, 6);

/* A parsed trusted comment. */
struct dp_cert_trusted {
    long long timestamp; /* -1 when absent */
    char file[256];      /* "" when absent */
    uint8_t sha256[32];
    char keyid[17];   /* upper case */
    char cert_id[37]; /* "" when absent */
};

/* Parse a trusted comment made by dp_sign_trusted_comment - a certificate's, or any other
 * deprive signature's (tab-separated key:value fields split at the first ':', in any order;
 * unknown keys ignored). sha256 and keyid are required. DP_ERR_VERIFY when malformed (it is
 * authenticated text, so a bad one is a negative finding). */
enum dp_status dp_cert_trusted_parse(struct dp_cert_trusted *out, const char *text,
                                     struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

struct dp_sign_seckey;
struct dp_sign_pubkey;

/* Sign a certificate file's exact bytes with dp_sign_document: the trusted comment carries
 * the file's base name (cert_file_basename, cleaned; a path is fine), its SHA-256, the key id
 * and the certificate id (read from data, which must parse as a certificate naming this key
 * as its signer). *sig_out: the .minisig text, heap, caller frees. DP_ERR_PARSE,
 * DP_ERR_INVALID, DP_ERR_NOMEM, DP_ERR_CRYPTO. */
enum dp_status dp_cert_sign(char **sig_out, const struct dp_sign_seckey *sk, const char *data,
                            size_t len, const char *cert_file_basename, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2, 3, 5);

/* What dp_cert_verify learnt; fields are filled as far as verification got. */
struct dp_cert_verified {
    json_t *cert; /* the parsed certificate (owned; dp_cert_verified_release) */
    struct dp_cert_trusted trusted;
    char keyid[17];                   /* the public key's id */
    char sha256_hex[65];              /* SHA-256 of data */
    char result[16];                  /* outcome.result, "" when unreadable */
    struct dp_cert_problems problems; /* from dp_cert_check */
};

void dp_cert_verified_release(struct dp_cert_verified *v);

/* Verify a signed certificate: the minisign signature over data (prehashed only), the
 * trusted comment's sha256 against SHA-256(data), its keyid against pk, then that data is
 * a JSON certificate whose certificate id and signer key id match the trusted comment and
 * that passes dp_cert_check. out (may be NULL) receives what was learnt; release it whatever
 * the result. Returns DP_OK when valid; DP_ERR_VERIFY with a message saying what failed;
 * DP_ERR_NOMEM. */
enum dp_status dp_cert_verify(struct dp_cert_verified *out, const struct dp_sign_pubkey *pk,
                              const char *data, size_t len, const char *sig, size_t sig_len,
                              struct dp_error *err) DP_WUR DP_NONNULL(2, 3, 5);

/* Replay the wipe journal at path (dp_journal_verify_file) and check that it ends at the
 * certificate's outcome.journal head hash with its record count. DP_ERR_VERIFY (journal
 * damaged, or it does not match), DP_ERR_IO (unreadable), DP_ERR_NOMEM. */
enum dp_status dp_cert_check_journal(const json_t *cert, const char *journal_path,
                                     struct dp_error *err) DP_WUR DP_NONNULL(1, 2);
/* The same, except that a journal which went on after the certificate is accepted when it
 * passed through the certificate's head after its record count and went on with a "retry"
 * record (a run resumed to try failed targets again continues the journal its earlier
 * certificate recorded): *later, the records after that point (0 when the journal ends
 * there). later NULL: the journal must end there. */
enum dp_status dp_cert_check_journal_at(const json_t *cert, const char *journal_path,
                                        uint64_t *later, struct dp_error *err)
    DP_WUR DP_NONNULL(1, 2);

/* ---- rendering ------------------------------------------------------------------------- */

/* Write a readable summary of cert for a person to f: outcome, authority, exhibit, scope,
 * hash lists, every target, residual risks, journal, signer. Works on malformed certificates
 * too (missing fields print as "-"); paths that are not valid UTF-8 are shown escaped.
 * DP_ERR_IO when writing fails. */
enum dp_status dp_cert_render_text(FILE *f, const json_t *cert, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2);

/* A location array (docs: path elements, each a string or {"base64": ...}) as one line for
 * people: elements joined by " -> "; valid UTF-8 is kept, control characters (C0, DEL, C1)
 * and backslashes are escaped (\xNN, \\), and elements that are not valid UTF-8 are shown
 * byte-escaped (dp_quote_bytes). "?" for a malformed element. Heap string, caller frees; NULL
 * on allocation failure. */
char *dp_cert_location_text(const json_t *location);

/* Text of a string field by dotted path ("authority.order_reference"), or NULL when absent
 * or not a string. Borrowed from cert. */
const char *dp_cert_get_str(const json_t *cert, const char *path) DP_NONNULL(1, 2);
/* Any value by dotted path (borrowed), or NULL when absent. */
const json_t *dp_cert_get(const json_t *cert, const char *path) DP_NONNULL(2);

#endif
