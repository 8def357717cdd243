/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: helpers shared by the attest stage's certificate files (cert.c, cert_case.c,
 * cert_build.c, cert_check.c, cert_audit.c, cert_sign.c, cert_text.c); defined in cert.c. */
#ifndef DEPRIVE_ATTEST_INTERNAL_H
#define DEPRIVE_ATTEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "deprive/cert.h"

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

#endif
