/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the wipe's vocabulary - a target's status, its assurance level, the wipe's phases -
 * as enums with one name/label table each (src/erase/assurance.c). JSON carries the names; every
 * module that decides or displays reads the enum, so a level added here is labelled everywhere
 * or fails to compile. */
#ifndef DEPRIVE_ASSURANCE_H
#define DEPRIVE_ASSURANCE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "deprive/error.h"

/* What happened to a target (an inode with its names). */
enum dp_wipe_status {
    DP_WIPE_ERASED = 0, /* "erased": overwritten, verified, every planned name removed */
    DP_WIPE_SKIPPED,    /* "skipped": changed since the scan or not in the lists; untouched */
    DP_WIPE_FAILED,     /* "failed": tried and not erased (the reason says why) */
    DP_WIPE_PLANNED,    /* "planned": a dry run's good target */
    DP_WIPE_REJECTED,   /* "rejected": a perceptual-only match the examiner decided is not a
                           copy of a listed image; untouched, and not a match */
    DP_WIPE_STATUS_COUNT
};
const char *dp_wipe_status_name(enum dp_wipe_status s);
bool dp_wipe_status_parse(const char *name, enum dp_wipe_status *out) DP_WUR;

/* What an erasure can claim (docs/wipe-result.md says what each requires). */
enum dp_assurance {
    DP_ASSURE_IN_PLACE_VERIFIED = 0, /* "overwritten-in-place-verified" */
    DP_ASSURE_MEDIUM_UNKNOWN,        /* "overwritten-medium-unknown" */
    DP_ASSURE_FLASH_RESIDUAL_RISK,   /* "flash-media-residual-risk" */
    DP_ASSURE_NOT_IN_PLACE,          /* "overwritten-not-in-place" */
    DP_ASSURE_FREE_SPACE,            /* "free-space-overwritten" */
    DP_ASSURE_PLACEMENT_UNKNOWN,     /* "overwritten-verified-placement-unknown" */
    DP_ASSURE_SHARED_EXTENTS,        /* "shared-extents-remain": a failed target */
    DP_ASSURE_NOT_ERASED,            /* "not-erased" */
    DP_ASSURE_COUNT
};
const char *dp_assurance_name(enum dp_assurance a);
/* Short label for a person (PDF table, text). */
const char *dp_assurance_label(enum dp_assurance a);
bool dp_assurance_parse(const char *name, enum dp_assurance *out) DP_WUR;
/* May a target of this status carry this level? Erased targets carry an overwritten level;
 * failed ones not-erased or shared-extents-remain; skipped and planned ones not-erased. */
bool dp_assurance_fits(enum dp_assurance a, enum dp_wipe_status s);

/* Steps a wipe reports progress for. */
enum dp_wipe_phase {
    DP_PHASE_CHECK = 0, /* "check" */
    DP_PHASE_OVERWRITE, /* "overwrite" */
    DP_PHASE_SCRUB,     /* "scrub" */
    DP_PHASE_CLEANUP,   /* "cleanup" */
    DP_PHASE_COUNT
};
const char *dp_wipe_phase_name(enum dp_wipe_phase p);

/* The counts of a wipe result, typed. */
struct dp_wipe_summary {
    size_t targets, names;
    size_t by_status[DP_WIPE_STATUS_COUNT];
};
/* Count a wipe result's targets (docs/wipe-result.md) by status. DP_ERR_PARSE when a target has
 * no known status. */
enum dp_status dp_wipe_summary_of(const json_t *result, struct dp_wipe_summary *out,
                                  struct dp_error *err) DP_WUR;
/* Every target erased (or, in a dry run, planned), or rejected by the examiner? */
bool dp_wipe_summary_complete(const struct dp_wipe_summary *s);

#endif
