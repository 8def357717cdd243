/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: SQLite records stored across overflow pages, put back together. SQLite keeps a
 * record (a row, with its blobs) in its b-tree leaf page while it fits; a longer one keeps a
 * first part there and the rest in a chain of overflow pages, each starting with the next
 * one's number. An image stored as a blob of more than about a page is then not contiguous in
 * the file, and the carver (carve.h) cannot see it: this module walks every leaf page of the
 * database file, follows each overflow chain, and hands the record's bytes to the caller with
 * where in the file each piece lies. Read-only; every page number, length and chain is
 * bounded by the file (a hostile database gives a recorded stop, never a loop). */
#ifndef DEPRIVE_SQLITE_H
#define DEPRIVE_SQLITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

/* Is this the start of a SQLite 3 database file? (the 16-byte magic, a valid page size) */
bool dp_sqlite_sniff(const uint8_t *head, size_t len);

/* One record that spilled into overflow pages. */
struct dp_sqlite_record {
    const uint8_t *payload;     /* the record's bytes in order (header, then the values) */
    size_t len;
    const uint64_t (*segs)[3];  /* {offset in payload, offset in the file, length}, in order */
    size_t nsegs;
    uint32_t page;              /* the leaf page holding its first part */
};

/* Return false to stop the walk. */
typedef bool (*dp_sqlite_cb)(void *ctx, const struct dp_sqlite_record *r);

/* What the walk met that it did not follow. */
struct dp_sqlite_stats {
    uint64_t pages, leaf_pages, records;  /* records: with overflow, handed to cb */
    uint64_t broken;                      /* chains that ran outside the file, looped or ended
                                             early: not handed over */
    uint64_t too_long;                    /* records over max_record: not handed over */
};

/* Walk the database in fd (size bytes): every table and index leaf page, every record with an
 * overflow chain of at most max_record bytes reassembled and given to cb. DP_ERR_PARSE when it
 * is not a SQLite database; DP_ERR_IO on a read error. */
enum dp_status dp_sqlite_overflow_records(int fd, uint64_t size, uint64_t max_record,
                                          dp_sqlite_cb cb, void *ctx,
                                          struct dp_sqlite_stats *stats, struct dp_error *err);

#endif
