/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: an index over PDQ target hashes answering "which targets are within Hamming
 * distance r of this hash", fast enough to ask it for all eight dihedral variants of every
 * image on a device. */
#ifndef DEPRIVE_PDQ_INDEX_H
#define DEPRIVE_PDQ_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/hashset.h"
#include "deprive/pdq.h"

/* How an index answers.
 *
 * linear: every query compares the query with every target (XOR and popcount on 64-bit
 *   words, the second half of a target only when the first is within radius). Memory: 32
 *   bytes per target.
 * mih: multi-index hashing. The 256 bits are cut into 16 chunks of 16 bits; for each chunk
 *   a table lists the targets by that chunk's value (65,536 buckets). A target within
 *   distance r of the query differs from it by at most s = floor(r / 16) bits in at least one
 *   chunk (else the distance would be at least 16 (s + 1) > r), so a query probes, in every
 *   chunk, each bucket within s bits of the query's chunk (r 0..15: the exact value, 16
 *   buckets in all; r 16..31: it and its 16 one-bit neighbours, 272 buckets; r 32..47: 2,192)
 *   and checks each target found there with the full distance. A target is reported from the
 *   first chunk in which it is within s bits, so it is reported once, with no per-query
 *   state: queries allocate nothing.
 *   Memory: 96 bytes per target (the hash, 32, and its 32-bit id in each of the 16 tables)
 *   plus 4 MiB of bucket offsets (16 x 65,537 x 4 bytes): 100 MB for 1,000,000 targets,
 *   asked for in 2 MiB pages where the kernel has them.
 *   Speed (bench/pdq_index.sh; 2-core AMD EPYC VM, 1,000,000 random targets, radius 31):
 *   about 4,200 candidates and 24-54 us a query (median 32) against 825-925 us for the
 *   linear scan; build 0.3-0.5 s. Many targets sharing chunk values (lists of
 *   near-duplicates) make buckets bigger and queries slower, never wrong.
 * auto: mih from DP_PDQ_INDEX_MIH_MIN targets, linear below. Measured, mih overtakes the
 *   linear scan between 1,000 and 2,500 targets and is about 3 times faster at 5,000; below
 *   that the 4 MiB of offsets buy little. */
enum dp_pdq_index_kind {
    DP_PDQ_INDEX_AUTO = 0,
    DP_PDQ_INDEX_LINEAR,
    DP_PDQ_INDEX_MIH,
    DP_PDQ_INDEX_KINDS
};
/* "auto", "linear", "mih". */
const char *dp_pdq_index_kind_name(enum dp_pdq_index_kind kind);

/* auto chooses mih from this many targets. */
#define DP_PDQ_INDEX_MIH_MIN 5000
/* The largest radius a mih index answers by probing (s = 2, 137 buckets a chunk: still 3
 * times faster than the linear scan at 1,000,000 targets); a larger radius is answered by a
 * linear scan of the same index, with the same answers. Every query accepts radii 0..256. */
#define DP_PDQ_INDEX_MIH_MAX_RADIUS 47
/* Most targets an index holds (ids are 32-bit inside). */
#define DP_PDQ_INDEX_MAX_TARGETS ((size_t)UINT32_MAX - 1)

struct dp_pdq_index;

/* One target found by a query. */
struct dp_pdq_match {
    size_t id;                   /* the target's position in the array given to _new */
    int distance;                /* Hamming distance to the query, 0..256 */
    enum dp_pdq_variant variant; /* the query variant at that distance (queries of one hash:
                                    DP_PDQ_ORIGINAL) */
};

/* Build an index over n targets (copied; the array may be freed after). A target's id is
 * its position in targets. n may be 0 (targets may then be NULL): every query finds nothing.
 * Duplicate targets are kept and each is reported. kind DP_PDQ_INDEX_AUTO chooses by n (see
 * above). DP_ERR_NOMEM; DP_ERR_LIMIT over DP_PDQ_INDEX_MAX_TARGETS. About 0.4 s for
 * 1,000,000 targets (mih), single-threaded. */
enum dp_status dp_pdq_index_new(struct dp_pdq_index **out, const struct dp_pdq *targets, size_t n,
                                struct dp_error *err) DP_WUR DP_NONNULL(1);
enum dp_status dp_pdq_index_new_kind(struct dp_pdq_index **out, const struct dp_pdq *targets,
                                     size_t n, enum dp_pdq_index_kind kind,
                                     struct dp_error *err) DP_WUR DP_NONNULL(1);
/* The same over the PDQ entries of a finalized set: a target's id is its position in
 * dp_hashset_entries(set, DP_ALGO_PDQ, ...), so identical hashes on several lines are
 * several targets, each reported. A set without PDQ entries gives an empty index. */
enum dp_status dp_pdq_index_from_hashset(struct dp_pdq_index **out, const struct dp_hashset *set,
                                         struct dp_error *err) DP_WUR DP_NONNULL(1, 2);
/* Free an index (NULL is fine). */
void dp_pdq_index_free(struct dp_pdq_index *idx);

/* Number of targets; the kind in use (linear or mih, never auto); bytes held. */
size_t dp_pdq_index_count(const struct dp_pdq_index *idx);
enum dp_pdq_index_kind dp_pdq_index_kind(const struct dp_pdq_index *idx);
size_t dp_pdq_index_memory(const struct dp_pdq_index *idx);

/* Every target within distance radius (0..256; anything else is API misuse) of q, each once,
 * in no particular order: fn(ctx, match) for each; fn returns false to stop the query.
 * Returns how many were reported (the one fn stopped on included). The match is valid only
 * during the call. Allocates nothing. After _new returns, any number of threads may query
 * one index at once (it is read-only); fn runs on the querying thread. */
size_t dp_pdq_index_query(const struct dp_pdq_index *idx, const struct dp_pdq *q, int radius,
                          bool (*fn)(void *ctx, const struct dp_pdq_match *m), void *ctx)
    DP_NONNULL(1, 2, 4);

/* The same into an array: returns how many targets are within radius (all of them, even
 * beyond cap); out receives the min(count, cap) nearest, sorted by distance then id. out
 * may be NULL when cap is 0. */
size_t dp_pdq_index_query_array(const struct dp_pdq_index *idx, struct dp_pdq_match *out,
                                size_t cap, const struct dp_pdq *q, int radius) DP_NONNULL(1, 4);

/* The targets within radius of any variant of r (all eight when dihedral, else the
 * original): each target once, with its smallest distance and the first variant (in enum
 * order) at that distance - what dp_pdq_min_distance gives for it. Variants equal to an
 * earlier one are not searched twice. Otherwise as dp_pdq_index_query. */
size_t dp_pdq_index_query_variants(const struct dp_pdq_index *idx, const struct dp_pdq_result *r,
                                   bool dihedral, int radius,
                                   bool (*fn)(void *ctx, const struct dp_pdq_match *m), void *ctx)
    DP_NONNULL(1, 2, 5);

#endif
