/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: JSON helpers shared by every stage (src/common/json.c). Reports, journals, wipe
 * results and certificates are JSON: their modules share jansson's json_t in their APIs, since
 * JSON is their subject matter and a private wrapper would only copy it. */
#ifndef DEPRIVE_JSON_H
#define DEPRIVE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "deprive/error.h"

/* A path element: a JSON string when the bytes are valid UTF-8, else {"base64": "..."}.
 * Returns a new reference, NULL on allocation failure. */
json_t *dp_json_bytes(const char *p, size_t n);
/* Decode such an element into a heap NUL-terminated buffer; false when malformed. */
bool dp_json_bytes_get(const json_t *v, char **out, size_t *len) DP_WUR;
/* Human-readable one-line rendering of a location array ("a/b.zip -> x.jpg"): UTF-8 kept,
 * control characters (C0, C1, DEL) and backslashes escaped as \xNN / \\, non-UTF-8 elements
 * shown byte-escaped; "?" for a malformed location. Heap string, NULL on allocation failure. */
char *dp_json_location_text(const json_t *location);
/* The byte ranges of an embedded copy, the last element of its location: one contiguous
 * range is {"offset": N, "length": L}; a stream stored in pieces (a SQLite record across
 * overflow pages) is {"ranges": [[N, L], ...]}, in the stream's order, at most
 * DP_JSON_RANGES_MAX pieces, none overlapping. N >= 0, L > 0, N + L < 2^63. */
#define DP_JSON_RANGES_MAX 65536
json_t *dp_json_ranges(const uint64_t (*ranges)[2], size_t n);
/* Read one back: *out heap (n pieces); false when malformed. */
bool dp_json_ranges_get(const json_t *v, uint64_t (**out)[2], size_t *n) DP_WUR;

/* Serialize deterministically (sorted keys, 2-space indent, trailing newline); heap string. */
char *dp_json_dump(const json_t *doc);
/* Write deterministically and atomically. */
enum dp_status dp_json_write_file(const json_t *doc, const char *path,
                                  struct dp_error *err) DP_WUR;
/* Load a JSON file (at most max bytes). */
enum dp_status dp_json_load_file(const char *path, size_t max, json_t **out,
                                 struct dp_error *err) DP_WUR;

#endif
