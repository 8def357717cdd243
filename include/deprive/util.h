/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: small shared helpers (hex, time stamps, whole-file reads, file digests). */
#ifndef DEPRIVE_UTIL_H
#define DEPRIVE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "deprive/error.h"

/* Lower-case hex of n bytes into out, which must hold 2n+1 bytes (NUL-terminated). */
void dp_hex_encode(char *out, const uint8_t *in, size_t n) DP_NONNULL(1);

/* Decode exactly 2*outlen hex digits (either case) from hex[0..hexlen). Returns false when
 * hexlen != 2*outlen or a character is not a hex digit. */
bool dp_hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen) DP_WUR;

/* ISO 8601 UTC "YYYY-MM-DDTHH:MM:SSZ" of t into buf (>= 21 bytes). */
void dp_utc_format(char *buf, size_t len, time_t t) DP_NONNULL(1);

/* Random RFC 4122 version 4 UUID text into buf (>= 37 bytes); libsodium must be initialised. */
void dp_uuid4(char *buf, size_t len) DP_NONNULL(1);

/* Read a whole file (following no symlink on the last component) into a NUL-terminated heap
 * buffer; fails with DP_ERR_LIMIT when larger than max. Caller frees *out. */
enum dp_status dp_read_file(const char *path, size_t max, char **out, size_t *len,
                            struct dp_error *err) DP_WUR;

/* SHA-256 of a whole file, by path. */
enum dp_status dp_sha256_file(const char *path, uint8_t out[32], struct dp_error *err) DP_WUR;

/* SHA-256 of a buffer. */
void dp_sha256_buf(uint8_t out[32], const void *buf, size_t len);
/* qsort comparator of {offset, length} pairs (uint64_t[2]): by offset. */
int dp_range_cmp(const void *a, const void *b);
/* SHA-256 of the bytes of buf[0..len) outside the ranges rg[0..n) ({offset, length}, sorted by
 * offset; they may overlap or reach past len), in order: what a range overwrite must leave
 * unchanged. */
void dp_sha256_outside(uint8_t out[32], const uint8_t *buf, size_t len, const uint64_t (*rg)[2],
                       size_t n);

/* Write buf to path atomically (temp file in the same directory, fsync, rename, fsync dir).
 * mode is used for the new file. */
enum dp_status dp_write_file_atomic(const char *path, const void *buf, size_t len,
                                    unsigned mode, struct dp_error *err) DP_WUR;

/* Quote a path (arbitrary bytes) for a one-line human message: printable ASCII as is,
 * everything else as \xNN, backslash as \\. Returns a heap string the caller frees. */
char *dp_quote_bytes(const char *p, size_t n);

/* Append s[0..n) to a growing heap buffer (*buf of *cap bytes, *used in use, NUL-terminated;
 * *buf may start NULL), keeping valid UTF-8 but escaping C0 and C1 control characters, DEL and
 * every byte that is not part of a valid UTF-8 sequence (a lone 8-bit CSI among them) and
 * Unicode's bidirectional controls (a name could display as another) as \xNN,
 * and backslash as \\: text from a device that is safe to print on a terminal. s is a whole
 * string (a sequence split across two calls is escaped).
 * False when out of memory (the buffer is left as it was). */
bool dp_text_escape_append(char **buf, size_t *used, size_t *cap, const char *s, size_t n);

#endif
