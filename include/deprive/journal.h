/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: append-only, hash-chained, fsynced journal of wipe steps; replay for resume and audit.
 *
 * This header includes <jansson.h>: record data are JSON objects, and the JSON-bearing modules
 * (journal, cert, report) share jansson's json_t rather than wrapping it.
 *
 * Format (docs/journal.md): one record per line, compact JSON with sorted keys:
 *   {"data":{...},"prev":"<64 hex>","seq":N,"time":"YYYY-MM-DDTHH:MM:SSZ","type":"..."}
 * seq counts from 0 without gaps; prev is BLAKE2b-256 of the previous line's bytes (without its
 * newline), 64 zeros for seq 0. The head hash is BLAKE2b-256 of the last line, or 64 zeros for
 * an empty journal. A record is committed once its newline is on disk; anything after the last
 * newline is a torn tail that dp_journal_open drops (from a file that is recognisably a journal:
 * it never truncates or appends to anything else).
 *
 * Thread safety: no global state. A handle is used by one thread at a time. One writer per file:
 * create and open take an exclusive flock(2) on it, so a second writer (another process, or
 * another handle in this one) is refused. Readers (dp_journal_verify_file) take no lock. */
#ifndef DEPRIVE_JOURNAL_H
#define DEPRIVE_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "deprive/error.h"

#define DP_JOURNAL_HEX_LEN 65             /* 64 hex digits + NUL */
#define DP_JOURNAL_LINE_MAX (1024 * 1024) /* longest record line, newline included */
#define DP_JOURNAL_TYPE_MAX 32            /* longest record type */

struct dp_journal;

/* Called once per record during replay, in seq order. type and data are borrowed for the call
 * (json_incref data to keep it). Return DP_OK to go on; any other status stops the replay, and
 * that status (with err as the callback filled it, prefixed with the line) is returned.
 * Replay calls it only after the whole file has been verified, so a corrupt journal never
 * reaches it. */
typedef enum dp_status (*dp_journal_visit_fn)(void *ctx, uint64_t seq, const char *type,
                                              json_t *data, struct dp_error *err);

/* What dp_journal_open found. */
struct dp_journal_replay {
    uint64_t records;              /* valid records (= next seq) */
    char head[DP_JOURNAL_HEX_LEN]; /* head hash after replay */
    bool torn_tail;                /* an incomplete final record was dropped */
    uint64_t torn_offset;          /* where the dropped bytes began (the new file size) */
    uint64_t torn_bytes;           /* how many bytes were dropped */
};

/* Create a new, empty journal at path: O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 (less umask), then
 * fsync the file and its directory. Fails (DP_ERR_IO, EEXIST) when path exists, symlink or not.
 * On success *out is a handle the caller releases with dp_journal_close or dp_journal_free. */
enum dp_status dp_journal_create(struct dp_journal **out, const char *path,
                                 struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Open an existing journal to resume appending. Verifies every record (JSON shape, seq, hash
 * chain), then, if the whole file is valid, passes each record to visit (may be NULL), then
 * opens for appending after the last record.
 * A torn tail (bytes after the last newline, or an unparsable last line: what a crash in the
 * middle of an append leaves) is not an error: it is reported in *info (may be NULL) and
 * truncated away (ftruncate + fsync) once replay has succeeded. Any other damage (bad prev link,
 * seq gap, unparsable line followed by more lines, wrong field types) fails with DP_ERR_VERIFY
 * naming the 1-based line, and the file is left untouched.
 * A file with no valid record is taken for a journal only when empty, or when its one line is
 * a torn first record: it begins {"data":{ as every record line does (or, cut shorter, is a
 * prefix of that) and, when unterminated but parsable, is a whole valid record. Anything else
 * (a text file, binary data, zeros, a header of some other format) fails with DP_ERR_VERIFY,
 * "'<path>' is not a deprive journal (line 1: ...): refusing to modify it", and is left
 * byte-identical. A path that is a symlink or not a regular file is refused. Returns the
 * callback's status if it stops the replay. */
enum dp_status dp_journal_open(struct dp_journal **out, const char *path, dp_journal_visit_fn visit,
                               void *ctx, struct dp_journal_replay *info,
                               struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Read-only verification for auditors: same checks as dp_journal_open, but a torn tail is an
 * error (DP_ERR_VERIFY, "incomplete") and nothing is written or locked. On success head_hex (may
 * be NULL) receives the head hash to compare with the certificate, and *records (may be NULL)
 * the record count. visit (may be NULL) sees each record after the file has verified. Do not
 * point it at a journal that is being written: the record in flight would look torn. */
enum dp_status dp_journal_verify_file(const char *path, char head_hex[DP_JOURNAL_HEX_LEN],
                                      uint64_t *records, dp_journal_visit_fn visit, void *ctx,
                                      struct dp_error *err) DP_WUR DP_NONNULL(1);

/* Append one record and make it durable: the line goes out in one write(2) (looping on short
 * writes), then fdatasync. type is 1..DP_JOURNAL_TYPE_MAX characters of [a-z0-9_.-]; data is a
 * JSON object or NULL for {}; both are borrowed, never stolen or modified. Anything else is API
 * misuse and aborts. The serialised line may not exceed DP_JOURNAL_LINE_MAX (DP_ERR_LIMIT).
 * When DP_OK is returned the record is on stable storage. When DP_ERR_IO is returned the record
 * may or may not be there, and the handle refuses further appends: close it and reopen the file
 * (which drops a partial line) to learn what survived. */
enum dp_status dp_journal_append(struct dp_journal *j, const char *type, json_t *data,
                                 struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* Head hash (64 lower-case hex digits + NUL): BLAKE2b-256 of the last record line, zeros when
 * the journal is empty. This is what the certificate records. */
void dp_journal_head(const struct dp_journal *j, char hex[DP_JOURNAL_HEX_LEN]) DP_NONNULL(1, 2);

/* The seq the next append will get (= number of records). */
uint64_t dp_journal_seq(const struct dp_journal *j) DP_NONNULL(1);

/* fsync, close and free the handle (always freed, even on error). Returns DP_ERR_IO when the
 * final fsync or close fails, or when an earlier append failed. */
enum dp_status dp_journal_close(struct dp_journal *j, struct dp_error *err);

/* Close and free without fsync, for error paths. NULL is fine. */
void dp_journal_free(struct dp_journal *j);

#endif
