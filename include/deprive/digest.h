/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: MD5, SHA-1 and SHA-256 computed together in one read pass (OpenSSL EVP). */
#ifndef DEPRIVE_DIGEST_H
#define DEPRIVE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/types.h"

#define DP_DIGEST_ALL \
    (DP_DIGEST_MASK(DP_ALGO_MD5) | DP_DIGEST_MASK(DP_ALGO_SHA1) | DP_DIGEST_MASK(DP_ALGO_SHA256))

/* Digest state for one object at a time; reusable. Not thread-safe: one per thread. */
struct dp_digest;

enum dp_status dp_digest_new(struct dp_digest **out, struct dp_error *err) DP_WUR;
void dp_digest_free(struct dp_digest *d);

/* Start a new object computing the algorithms in mask (DP_DIGEST_MASK bits). */
enum dp_status dp_digest_begin(struct dp_digest *d, unsigned mask, struct dp_error *err) DP_WUR;
void dp_digest_update(struct dp_digest *d, const void *buf, size_t len);
/* Finish; out[algo] receives each computed digest (dp_algo_len bytes). */
void dp_digest_end(struct dp_digest *d, uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX]);

/* Read fd from its current offset to EOF through buf (bufsize bytes), digesting as it goes.
 * The first head_cap bytes are also copied to head (for file-type detection) when head is
 * non-NULL. *bytes receives the number of bytes read. */
enum dp_status dp_digest_fd(struct dp_digest *d, unsigned mask, int fd, void *buf,
                            size_t bufsize, void *head, size_t head_cap, size_t *head_len,
                            uint64_t *bytes, uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX],
                            struct dp_error *err) DP_WUR;

/* Sees every byte dp_digest_fd_observed reads, in order, once, on the reading thread. */
typedef void (*dp_digest_observer)(void *ctx, const void *buf, size_t n);

/* dp_digest_fd, with observe (may be NULL) shown each piece read: one read of a file serves
 * its digests and whatever else looks at its bytes (the scan's carving). */
enum dp_status dp_digest_fd_observed(struct dp_digest *d, unsigned mask, int fd, void *buf,
                                     size_t bufsize, void *head, size_t head_cap,
                                     size_t *head_len, uint64_t *bytes,
                                     uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX],
                                     dp_digest_observer observe, void *observe_ctx,
                                     struct dp_error *err) DP_WUR;

#endif
