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
    uint64_t stopped_at; /* where the walk ended (the file's size when complete) */
    bool directory_ok;   /* a central directory at the end, each of its entries' offsets that
                            of a local header */
    /* local headers found whose offset the central directory at the end does not list, and
     * [offset, end of data and descriptor) of those whose end could be told, in file order
     * (zip_local_free) */
    uint64_t unlisted_entries;
    uint64_t (*unlisted)[2];
    size_t nunlisted;
    /* where the walk stopped at such an entry whose end it could not tell (streamed without a
     * signed data descriptor, or that descriptor damaged), else UINT64_MAX */
    uint64_t unlisted_open;
};

/* Walk the zip in fd (size bytes), or in buf[0..size) when buf is not NULL, by its records
 * from offset 0, decompressing nothing: local file headers, central directory headers and end
 * records, through zips concatenated with cat. An entry's data is skipped by the compressed
 * size its local header gives or, for an entry streamed with its sizes after the data, by the
 * size the central directory at the end gives it (checked against its data descriptor), else
 * up to the first signed data descriptor that fits. It stops, out->complete false, at anything
 * else (a self-extractor's stub, junk, an entry whose end cannot be told without
 * decompressing, a read error) and after max_entries local headers: out->entries is then a
 * lower bound. Reads nothing outside [0, size), fd with pread. DP_ERR_NOMEM only (nothing
 * then to free); else zip_local_free(out) when done. */
enum dp_status zip_local_count(int fd, const uint8_t *buf, uint64_t size, uint64_t max_entries,
                               struct zip_local *out) DP_WUR DP_NONNULL(5);

void zip_local_free(struct zip_local *z) DP_NONNULL(1);

/* Does the zip hide entries from its central directory, libarchive having read `listed`
 * entries through it? More local headers than that, or (when the directory's offsets are
 * trusted) a local header at an offset it does not list, which a walk that stopped early (and
 * so counted too few) can still show. */
bool zip_local_hides(const struct zip_local *z, uint64_t listed) DP_NONNULL(1);

/* n entries found by their local headers, in words, into out: "1 entry by its local
 * header", "at least 3 entries by their local headers" (not complete: a lower bound). */
void zip_unlisted_words(char *out, size_t len, uint64_t n, bool complete) DP_NONNULL(1);

#endif
