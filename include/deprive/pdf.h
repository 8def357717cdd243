/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: printable A4 rendering of an erasure certificate (libharu).
 *
 * The PDF is a rendering for people; the signed JSON certificate stays authoritative, and the
 * PDF prints the commands an auditor runs to verify it. Black on white, base-14 Helvetica and
 * Courier (Latin-1: other characters print as '?'; path bytes that are not UTF-8 print
 * escaped as \xNN). Long text is wrapped or truncated, many targets paginate.
 *
 * This header includes <jansson.h> (the certificate is a json_t; see cert.h).
 * Thread safety: no global state; one call renders one document. */
#ifndef DEPRIVE_PDF_H
#define DEPRIVE_PDF_H

#include <jansson.h>

#include "deprive/error.h"

/* Render cert to out_path (written atomically, mode 0644).
 *   keyid           the key id whose signature was verified before rendering (16 hex
 *                   digits), or NULL when the signature was not checked: the PDF then prints
 *                   the certificate's own signer.keyid marked "not verified".
 *   cert_sha256_hex SHA-256 of the certificate file's bytes (64 hex digits), printed so a
 *                   reader can match the paper to the file; NULL prints "unknown".
 * Works on any JSON object (missing fields print as "-"); callers should render only
 * certificates that verified. Returns DP_OK; DP_ERR_INVALID (libharu refused something:
 * the message carries its error and detail codes), DP_ERR_NOMEM, DP_ERR_IO. */
enum dp_status dp_pdf_render(const json_t *cert, const char *keyid, const char *cert_sha256_hex,
                             const char *out_path, struct dp_error *err) DP_WUR DP_NONNULL(1, 4);

#endif
