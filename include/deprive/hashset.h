/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: victim-supplied hash lists - parse, merge, index, look up. */
#ifndef DEPRIVE_HASHSET_H
#define DEPRIVE_HASHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/types.h"

/* One hash from one line of one list. Identical hashes from several lines (or lists) are
 * kept as adjacent entries so that every file:line can be reported; lookups return the run. */
struct dp_hash_entry {
    uint8_t digest[DP_DIGEST_MAX]; /* first dp_algo_len(algo) bytes used, rest zero */
    int64_t size;                  /* file size given by the list, -1 when not given */
    uint32_t source;               /* index of the list (dp_hashset_source) */
    uint32_t line;                 /* 1-based line number in that list */
    uint32_t label;                /* 0 = none, else handle for dp_hashset_label */
    uint8_t algo;                  /* enum dp_algo */
    int16_t quality;               /* PDQ: the list's quality 0..100; -1 when the list gives
                                      none, and always -1 for MD5, SHA-1 and SHA-256 */
};

/* One loaded list file. */
struct dp_hash_source {
    char *path;                    /* as given to dp_hashset_load_file */
    uint8_t sha256[32];            /* SHA-256 of the file's bytes */
    const char *format;            /* detected: "sha256sum", "bsd", "hashdeep", "plain",
                                      "deprive", "vics", "stopncii", "threatexchange",
                                      "pdq-csv"; or dp_hashset_add's format */
    size_t counts[DP_ALGO_COUNT];  /* entries per algorithm read from this file */
    size_t low_quality;            /* PDQ entries whose list gives a quality below 50
                                      (DP_PDQ_MIN_QUALITY): loaded, but unreliable */
    size_t unused;                 /* records not loaded because deprive does not match their
                                      signal type (StopNCII VideoTMK, Text, URL, ...) */
    size_t withdrawn;              /* records not loaded because the list marks them withdrawn
                                      or deleted, or a later record does (StopNCII) */
};

struct dp_hashset;

/* Create an empty set. */
enum dp_status dp_hashset_new(struct dp_hashset **out, struct dp_error *err) DP_WUR;
/* Free a set (NULL is fine). Entries and labels returned earlier become invalid. */
void dp_hashset_free(struct dp_hashset *set);

/* Load one list file, detecting its format from its content (see docs/hashlists.md).
 * A malformed line fails the whole load with "PATH:LINE: reason" in err and leaves the set
 * unchanged; a list with no hash at all is an error too. May be called several times. */
enum dp_status dp_hashset_load_file(struct dp_hashset *set, const char *path,
                                    struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Same, from memory (name is used in messages and as the source path). */
enum dp_status dp_hashset_load_buffer(struct dp_hashset *set, const char *name,
                                      const char *buf, size_t len,
                                      struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Add entries directly, without a list to parse, as one more source (all or nothing, like a
 * load). name becomes the source's path (copied); format names where the entries came from
 * and is stored by pointer, so it must outlive the set (a string literal: "certificate");
 * sha256 is the SHA-256 of what they were taken from. Of each entry only algo, digest (the
 * first dp_algo_len bytes) and size (-1 or any negative: not given) are read; source, line
 * (the 1-based index in entries), label (none) and quality (-1) are set here. A set with an
 * entry without a size is not size-filtered (dp_hashset_sizes_complete). DP_ERR_INVALID when
 * count is 0, DP_ERR_LIMIT, DP_ERR_NOMEM. Calling it after dp_hashset_finalize or with an
 * algo out of range is API misuse. */
enum dp_status dp_hashset_add(struct dp_hashset *set, const char *name, const char *format,
                              const uint8_t sha256[32], const struct dp_hash_entry *entries,
                              size_t count, struct dp_error *err) DP_WUR DP_NONNULL(1, 2, 3, 4);

/* Sort and index after the last load; fails with DP_ERR_INVALID when the set holds no hash.
 * Lookups are valid only after this; loading after it is API misuse. After finalize the set
 * is read-only and may be shared by threads. */
enum dp_status dp_hashset_finalize(struct dp_hashset *set, struct dp_error *err) DP_WUR;

/* Entries whose algorithm and digest equal the given ones: returns how many (0 when none)
 * and points *first at the first of them (adjacent in memory). */
size_t dp_hashset_lookup(const struct dp_hashset *set, enum dp_algo algo, const uint8_t *digest,
                         const struct dp_hash_entry **first);

/* Number of entries (all lines) and distinct digests for an algorithm. */
size_t dp_hashset_count(const struct dp_hashset *set, enum dp_algo algo);
size_t dp_hashset_unique(const struct dp_hashset *set, enum dp_algo algo);

/* All entries of an algorithm, sorted by digest (for PDQ's index and for audit). */
const struct dp_hash_entry *dp_hashset_entries(const struct dp_hashset *set, enum dp_algo algo,
                                               size_t *count);

/* True when every exact (MD5/SHA-1/SHA-256) entry carries a size, so files of any other size
 * cannot match exactly and need not be read. False when there are no exact entries. */
bool dp_hashset_sizes_complete(const struct dp_hashset *set);
/* True when some exact entry has this size (meaningful when sizes_complete). */
bool dp_hashset_size_wanted(const struct dp_hashset *set, uint64_t size);

/* Loaded lists, in load order. */
size_t dp_hashset_source_count(const struct dp_hashset *set);
const struct dp_hash_source *dp_hashset_source(const struct dp_hashset *set, size_t index);

/* The label of an entry (from "label=" in deprive's format), or NULL. */
const char *dp_hashset_label(const struct dp_hashset *set, const struct dp_hash_entry *entry);

#endif
