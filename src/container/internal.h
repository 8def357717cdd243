/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: container internals shared by archive.c (reading) and rewrite.c (writing). */
#ifndef DEPRIVE_CONTAINER_INTERNAL_H
#define DEPRIVE_CONTAINER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

/* What a zip's local file headers say, walked from offset 0 (src/container/ziplocal.c). */
struct zip_local {
    uint64_t entries; /* local file headers found: a streaming reader's entries, at least */
    bool complete;    /* the walk reached the end of the file: entries is all of them */
};

/* Walk the zip in fd (size bytes), or in buf[0..size) when buf is not NULL, by its records
 * from offset 0, decompressing nothing: local file headers, central directory headers and end
 * records, through zips concatenated with cat. An entry's data is skipped by the compressed
 * size its local header gives or, for an entry streamed with its sizes after the data, by the
 * size the central directory at the end gives it (checked against its data descriptor), else
 * up to the first signed data descriptor that fits. It stops, out->complete false, at anything
 * else (a self-extractor's stub, junk, an entry whose end cannot be told without
 * decompressing, a read error) and after max_entries local headers: out->entries is then a
 * lower bound. Reads nothing outside [0, size), fd with pread. DP_ERR_NOMEM only. */
enum dp_status zip_local_count(int fd, const uint8_t *buf, uint64_t size, uint64_t max_entries,
                               struct zip_local *out) DP_WUR DP_NONNULL(5);

/* The entries z found beyond the listed ones (z->entries > listed), in words, into out:
 * "1 entry by its local header", "at least 3 entries by their local headers". */
void zip_unlisted_words(char *out, size_t len, const struct zip_local *z, uint64_t listed)
    DP_NONNULL(1, 3);

#endif
