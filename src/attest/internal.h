/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: helpers shared by the attest stage's certificate files (cert.c, cert_case.c,
 * cert_build.c, cert_check.c, cert_audit.c, cert_sign.c, cert_text.c), defined in cert.c; and
 * by its PDF documents (pdf.c, review.c), defined in pdf_text.c. */
#ifndef DEPRIVE_ATTEST_INTERNAL_H
#define DEPRIVE_ATTEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <hpdf.h>
#include <jansson.h>

#include "deprive/cert.h"
#include "deprive/error.h"

/* Value at a dotted path ("a.b.c"), NULL when a step is missing (borrowed). */
json_t *cert_jpath(const json_t *root, const char *path);
/* Set value (stolen, also on failure) at a dotted path, creating objects on the way.
 * 0, or -1 when a step is not an object or memory ran out. */
int cert_jpath_set(json_t *root, const char *path, json_t *value);
/* A deep copy of v, or JSON null when v is NULL (new reference; NULL on allocation failure). */
json_t *cert_copy_or_null(const json_t *v);
/* s is exactly want hex digits (upper case only when upper). */
bool cert_is_hex(const char *s, size_t want, bool upper);
/* s is a lower-case RFC 4122 UUID text. */
bool cert_is_uuid(const char *s);
/* The outcome rule (docs/certificate.md, "Outcome"), used by the builder and the check alike:
 * FAILED when there was no re-scan (rescan_findings -1) or it found matches (> 0); otherwise
 * ERASED when every target was erased, else PARTIAL. */
enum dp_cert_outcome cert_outcome_rule(long long rescan_findings, bool all_erased);

/* ---- PDF documents (pdf_text.c) ---- */

/* UTF-8 to the base-14 fonts' WinAnsi (Latin-1), as a heap string: U+00A0..U+00FF and
 * printable ASCII are kept, common punctuation is mapped to ASCII, everything else (and any
 * invalid byte) becomes '?'. NULL input gives "-"; NULL only when memory runs out. */
char *pdf_latin1(const char *utf8);
/* Width in points of Latin-1 text in font f at size. */
float pdf_text_width(HPDF_Font f, float size, const char *latin);
/* Latin-1 text wrapped to width: at most max lines (the last one ending in "..." when text was
 * left over), heap strings in out[] (free with pdf_free_lines). Returns the count; *oom is set
 * when memory ran out. */
size_t pdf_wrap(HPDF_Font f, float size, float width, const char *latin, char **out, size_t max,
                bool *oom);
void pdf_free_lines(char **lines, size_t n);
/* "123 B", "45.6 KiB", "7.8 MiB", "1.2 GiB". */
void pdf_human_size(char *buf, size_t size, long long bytes);
/* The finished document's bytes (heap, caller frees). DP_ERR_NOMEM; DP_ERR_INVALID when
 * libharu cannot serialise it. Sets no dp_error: the caller words it. */
enum dp_status pdf_doc_bytes(HPDF_Doc doc, unsigned char **out, size_t *len);

#endif
