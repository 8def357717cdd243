/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the victim-side record of one file - size, MD5, SHA-1, SHA-256 and, for an image,
 * its PDQ hash and quality at full decode (so lists deprive makes interoperate with other PDQ
 * users) - and its line in deprive's hash-list format (src/content/fingerprint.c). */
#ifndef DEPRIVE_FINGERPRINT_H
#define DEPRIVE_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/image.h"
#include "deprive/pdq.h"
#include "deprive/types.h"

/* Images larger than this are not decoded (--max-image-bytes default: 256 MiB). */
#define DP_MAX_IMAGE_BYTES_DEFAULT (256ull * 1024 * 1024)

struct dp_fingerprint {
    uint64_t size;
    uint8_t digests[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    enum dp_image_format format; /* DP_IMAGE_NONE: not an image deprive decodes */
    bool has_pdq;
    struct dp_pdq pdq;
    int quality;
    char pdq_error[160];         /* why an image has no PDQ (corrupt, over a limit), else "" */
};

/* Read fd (a regular file, from offset 0) once: digests, and for an image of at most
 * max_image_bytes (0 = DP_MAX_IMAGE_BYTES_DEFAULT) the PDQ of its full decode under opts
 * (NULL = defaults). An image that cannot be decoded is not an error: has_pdq stays false and
 * pdq_error says why. Fails on read errors and memory. */
enum dp_status dp_fingerprint_fd(int fd, uint64_t max_image_bytes,
                                 const struct dp_image_opts *opts, struct dp_fingerprint *out,
                                 struct dp_error *err) DP_WUR;

/* The record as one line of deprive's list format, without newline:
 * "md5:HEX sha1:HEX sha256:HEX [size:N] [pdq:HEX:Q] [label=TEXT]" (label: printable text, '%'
 * written as %25; NULL for none). Heap string, NULL on allocation failure. */
char *dp_fingerprint_line(const struct dp_fingerprint *fp, bool with_size, const char *label);

#endif
