/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the examiner's decisions on perceptual-only findings (docs/confirmations.md).
 *
 * A finding that only a PDQ hash matched is a person's decision. Decisions go to a
 * confirmations file next to the plan: a deprive journal (hash-chained, fsynced, append-only;
 * journal.h) whose first record binds it to the plan's SHA-256, followed by one "decision"
 * record per decision: {"finding": "F3", "decision": "confirmed"|"rejected", "examiner",
 * "how": "command"|"interactive", "location", "pdq_distance"}. The last decision on a finding
 * wins, and every earlier one stays in the file. The plan itself is never modified.
 *
 * Thread safety: no global state; a handle is used by one thread at a time. A handle opened
 * for writing holds the journal's exclusive lock. */
#ifndef DEPRIVE_CONFIRM_H
#define DEPRIVE_CONFIRM_H

#include <stdbool.h>
#include <stddef.h>

#include "deprive/error.h"
#include "deprive/journal.h"
#include "deprive/report.h"

#define DP_CONFIRM_EXAMINER_MAX 200 /* bytes of an examiner's name */

enum dp_confirm_decision {
    DP_CONFIRM_NONE = 0,  /* no decision recorded */
    DP_CONFIRM_CONFIRMED, /* the examiner confirmed it is a copy of a listed image */
    DP_CONFIRM_REJECTED,  /* the examiner said it is not */
};
/* "none", "confirmed", "rejected". */
const char *dp_confirm_decision_name(enum dp_confirm_decision d);

/* The decision in force for one finding. */
struct dp_confirmation {
    enum dp_confirm_decision decision;
    char examiner[DP_CONFIRM_EXAMINER_MAX + 1];
    char how[16];   /* "command" or "interactive" */
    char time[32];  /* UTC, of the record */
    uint64_t seq;   /* the record's seq in the confirmations file */
};

struct dp_confirmations;

/* The default confirmations file of a plan: PLAN + ".confirmations" (heap string; NULL when
 * memory runs out). */
char *dp_confirm_default_path(const char *plan_file);

/* Open the confirmations file of plan (whose file's SHA-256 is plan_sha256, 64 hex digits).
 *   write false: read only, no lock; a missing file is no decisions (DP_OK, empty);
 *   write true: opened for appending (exclusive lock), created when missing with its binding
 *     record.
 * A file bound to another plan is DP_ERR_INVALID ("... belongs to another plan"); a damaged
 * one DP_ERR_VERIFY (journal.h); a decision naming a finding that is not perceptual-only in
 * plan DP_ERR_PARSE. */
enum dp_status dp_confirm_open(const char *path, const struct dp_plan *plan,
                               const char *plan_sha256, bool write,
                               struct dp_confirmations **out, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2, 3, 5);
/* Record a decision on plan target index (a perceptual-only finding) by examiner (1..
 * DP_CONFIRM_EXAMINER_MAX bytes of UTF-8 without control characters), how "command" or
 * "interactive". Durable when DP_OK. DP_ERR_INVALID: not perceptual-only, bad name, handle
 * not opened for writing. */
enum dp_status dp_confirm_record(struct dp_confirmations *c, size_t index,
                                 enum dp_confirm_decision decision, const char *examiner,
                                 const char *how, struct dp_error *err) DP_WUR DP_NONNULL(1, 4, 5);
/* The decision in force for plan target index (decision DP_CONFIRM_NONE when none). */
const struct dp_confirmation *dp_confirm_get(const struct dp_confirmations *c, size_t index)
    DP_NONNULL(1);
/* The file's path, its record count and head hash (journal.h), for the wipe result and the
 * certificate. */
const char *dp_confirm_path(const struct dp_confirmations *c) DP_NONNULL(1);
uint64_t dp_confirm_records(const struct dp_confirmations *c) DP_NONNULL(1);
void dp_confirm_head(const struct dp_confirmations *c, char hex[DP_JOURNAL_HEX_LEN])
    DP_NONNULL(1, 2);
/* Is name acceptable as an examiner's name? (1..DP_CONFIRM_EXAMINER_MAX bytes of valid UTF-8,
 * no control characters, not only spaces.) */
bool dp_confirm_examiner_ok(const char *name);
/* Close (fsync when written) and free; NULL is fine. DP_ERR_IO when the final fsync fails. */
enum dp_status dp_confirm_close(struct dp_confirmations *c, struct dp_error *err);

#endif
