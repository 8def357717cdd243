/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: helpers shared by cert.c, cert_sign.c and cert_text.c. */
#ifndef DEPRIVE_ATTEST_INTERNAL_H
#define DEPRIVE_ATTEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Value at a dotted path ("a.b.c"), NULL when a step is missing (borrowed). */
json_t *cert_jpath(const json_t *root, const char *path);
/* s is exactly want hex digits (upper case only when upper). */
bool cert_is_hex(const char *s, size_t want, bool upper);
/* s is a lower-case RFC 4122 UUID text. */
bool cert_is_uuid(const char *s);

#endif
