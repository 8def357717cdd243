/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the whole erasure run behind `deprive run` - scan, confirm, journaled wipe (new or
 * resumed), re-scan, certificate, signature - with the names of the files it writes, every
 * precondition checked before the first of them is written, and a typed result.
 *
 * This header includes <jansson.h>: the case details and the wipe result a caller sees are
 * JSON documents, as in report.h, wipe.h and cert.h.
 *
 * Thread safety: no global state; a run uses its arguments only, and calls the caller's
 * hooks from the calling thread (the scan's and the wipe's progress callbacks as their
 * modules say). */
#ifndef DEPRIVE_RUN_H
#define DEPRIVE_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "deprive/assurance.h"
#include "deprive/cert.h"
#include "deprive/error.h"
#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/sign.h"
#include "deprive/wipe.h"

/* ---- the files of a run ---------------------------------------------------------------- */

/* The files a run writes, all named after the certificate CERT.json by appending a suffix. */
enum dp_run_file {
    DP_RUN_FILE_CERT = 0, /* CERT.json              the certificate ("") */
    DP_RUN_FILE_SIG,      /* CERT.json.minisig      its minisign signature */
    DP_RUN_FILE_PLAN,     /* CERT.json.plan.json    the scan report, which is the wipe plan */
    DP_RUN_FILE_JOURNAL,  /* CERT.json.journal      the wipe journal */
    DP_RUN_FILE_WIPE,     /* CERT.json.wipe.json    the wipe result */
    DP_RUN_FILE_RESCAN,   /* CERT.json.rescan.json  the re-scan report */
    DP_RUN_FILE_COUNT
};

/* The suffix of f (".minisig", ".plan.json", ...; "" for the certificate). Static. */
const char *dp_run_file_suffix(enum dp_run_file f);

/* base + the suffix of f: the one place these names are made. `deprive wipe` names its
 * journal and result after the plan the same way (PLAN.json.journal, PLAN.json.wipe.json).
 * *out: heap, caller frees. DP_ERR_NOMEM. */
enum dp_status dp_run_file_path(char **out, const char *base, enum dp_run_file f,
                                struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* The paths of one run's files, indexed by enum dp_run_file. Caller-owned. */
struct dp_run_paths {
    char *file[DP_RUN_FILE_COUNT]; /* heap */
};

/* Every path of a run whose certificate is cert_path. DP_ERR_NOMEM (nothing to release). */
enum dp_status dp_run_paths_init(struct dp_run_paths *paths, const char *cert_path,
                                 struct dp_error *err) DP_WUR DP_NONNULL(1, 2);
/* Free the paths; a zeroed struct is fine. */
void dp_run_paths_release(struct dp_run_paths *paths);

/* ---- options, hooks, result ------------------------------------------------------------ */

/* Steps a run reports to its caller (dp_run_opts.event), in this order. */
enum dp_run_step {
    DP_RUN_STEP_PLAN = 0,  /* the plan is known (scanned, or read back on resume); before the
                              confirmation: event.plan */
    DP_RUN_STEP_WIPED,     /* the wipe (or the dry run) is done: event.wipe_result */
    DP_RUN_STEP_RESCANNED, /* the re-scan is done and written: result.remaining */
    DP_RUN_STEP_CERTIFIED, /* the certificate and its signature are written:
                              result.certificate, result.keyid */
    DP_RUN_STEP_COUNT
};

/* What a run ended with. */
enum dp_run_outcome {
    DP_RUN_ERASED = 0,     /* "erased": certified ERASED (every target erased, re-scan 0) */
    DP_RUN_PARTIAL,        /* "partial": certified PARTIAL (re-scan 0, a target not erased) */
    DP_RUN_FAILED,         /* "failed": certified FAILED (matches remain) */
    DP_RUN_DRY_COMPLETE,   /* "dry-run-complete": dry run, every target would be erased */
    DP_RUN_DRY_INCOMPLETE, /* "dry-run-incomplete": dry run, a target would be skipped */
    DP_RUN_DECLINED,       /* "declined": the confirmation was refused; nothing was erased
                              and no file written */
    DP_RUN_OUTCOME_COUNT
};
const char *dp_run_outcome_name(enum dp_run_outcome o);

struct dp_run_result;

/* One step, for the caller to show. Pointers are borrowed for the call. */
struct dp_run_event {
    enum dp_run_step step;
    const struct dp_plan *plan;         /* DP_RUN_STEP_PLAN */
    const json_t *wipe_result;          /* DP_RUN_STEP_WIPED (docs/wipe-result.md) */
    const struct dp_run_result *result; /* every step: the result so far */
};

struct dp_run_opts {
    bool resume; /* finish an interrupted run: reuse its plan file, continue its journal,
                    then re-scan and certify (never with wipe.dry_run) */
    struct dp_scan_opts scan; /* the scan and the re-scan (progress included) */
    /* method, dry_run, wipe_free_space, journal_on_device, media class, progress,
     * journal_note, test seam; dp_run sets lists (the run's lists) and plan_file itself */
    struct dp_wipe_opts wipe;
    /* Before anything is scanned or written (dp_run_check; not in a dry run): can a
     * confirmation be had at all? Return DP_OK, or a status with err filled (e.g. "no
     * terminal") to refuse the run up front. NULL: yes. */
    enum dp_status (*confirm_possible)(void *ctx, struct dp_error *err);
    /* With the plan, after DP_RUN_STEP_PLAN and before the plan file is written and anything
     * is erased; not asked in a dry run or for an empty plan. True: go on; false: the run
     * ends DP_RUN_DECLINED. NULL: go on (the examiner said yes beforehand). */
    bool (*confirm)(void *ctx, const struct dp_plan *plan);
    /* After the plan file is written (on resume: read back) and before the wipe: a person's
     * decision on the perceptual-only targets. The hook may set wipe->confirmations,
     * wipe->blanket_consent and wipe->perceptual (what they point to must live until dp_run
     * returns); plan_file is NULL in a dry run. Not called when the plan has no
     * perceptual-only target. A status other than DP_OK ends the run before the wipe. NULL:
     * no consent (such targets are left, "perceptual-only match"). */
    enum dp_status (*consent)(void *ctx, const struct dp_plan *plan, const char *plan_file,
                              struct dp_wipe_opts *wipe, struct dp_error *err);
    void (*event)(void *ctx, const struct dp_run_event *ev); /* optional */
    void *ctx; /* for confirm_possible, confirm, consent and event */
};

/* What a run did, filled as far as it got (also when it fails). Plain data: nothing to
 * release. */
struct dp_run_result {
    enum dp_run_outcome outcome;        /* valid when dp_run returned DP_OK */
    size_t findings;                    /* targets of the plan (the scan's findings) */
    bool wiped;                         /* the wipe (or dry run) ran: wipe is valid */
    struct dp_wipe_summary wipe;        /* its targets by status */
    bool rescanned;                     /* the re-scan ran: remaining is valid */
    size_t remaining;                   /* matches the re-scan found */
    bool certified;                     /* certificate and signature written */
    enum dp_cert_outcome certificate;   /* what the certificate states (when certified) */
    char keyid[DP_SIGN_KEYID_HEX_SIZE]; /* the signer's key id ("" in a dry run) */
    /* The files this call wrote (paths->file[i]): the journal when this call created it
     * (even if the wipe then failed) or, on resume, continued it to the end; on resume the
     * plan is read, not written. */
    bool written[DP_RUN_FILE_COUNT];
};

/* ---- the run --------------------------------------------------------------------------- */

/* Every precondition of a run, checked before anything is scanned or written, so a refused
 * run costs no scan and leaves no file behind. In this order:
 *   1. case_doc is complete (dp_cert_case_validate: every missing field named at once);
 *   2. the files: without opts->resume none of paths' files exists ("'CERT.json.journal'
 *      already exists: choose another -o (a new case file name)"); with it the certificate
 *      and its signature do not exist and the plan and journal do ("cannot resume:
 *      '...plan.json' does not exist"), while the wipe result and re-scan may (they are
 *      made again);
 *   3. opts->confirm_possible;
 *   4. dp_wipe_preflight(root, the journal, opts->wipe).
 * In a dry run (opts->wipe.dry_run) nothing is written, so nothing is checked: DP_OK, and
 * paths and case_doc may be NULL. Returns the first refusal: DP_ERR_INVALID (case details,
 * files, journal place, read-only root), DP_ERR_IO, DP_ERR_UNSUPPORTED, DP_ERR_NOMEM, or
 * what confirm_possible returned. */
enum dp_status dp_run_check(const struct dp_run_paths *paths, const char *root,
                            const json_t *case_doc, const struct dp_run_opts *opts,
                            struct dp_error *err) DP_WUR DP_NONNULL(2, 4);

/* The run:
 *   dp_run_check again (things change; a caller that loads the key in between - a
 *   passphrase prompt - checks first);
 *   scan root with lists (or, on resume, read the plan file back) -> DP_RUN_STEP_PLAN ->
 *   confirm (unless dry run or empty plan) -> dp_wipe_preflight again with the scanned root
 *   -> write the plan file -> dp_wipe_journaled (new journal, or the resumed one) with every
 *   target re-checked against lists -> DP_RUN_STEP_WIPED;
 *   dry run: ends here, DP_RUN_DRY_COMPLETE or DP_RUN_DRY_INCOMPLETE, nothing written;
 *   else write the wipe result -> re-scan root with the same lists, write it ->
 *   DP_RUN_STEP_RESCANNED -> dp_cert_build(case_doc, plan, wipe result, re-scan, key id)
 *   -> serialise (dp_json_dump) and sign its exact bytes (dp_cert_sign) -> write the
 *   certificate, then its signature (0644, atomically) -> DP_RUN_STEP_CERTIFIED; the outcome
 *   is what the certificate states.
 *   out      filled as far as the run got (zeroed first).
 *   paths    from dp_run_paths_init; NULL only in a dry run.
 *   lists    finalized hash lists.
 *   case_doc the case details (borrowed); complete unless dry run; NULL only in a dry run.
 *   key      signs the certificate; NULL only in a dry run.
 * Per-target problems of the wipe are in the result, not failures. Fails on a refused
 * precondition, an unreadable or foreign plan or journal, a scan that cannot walk root, a
 * file that cannot be written, signing or memory: the status of the step, err saying what. */
enum dp_status dp_run(struct dp_run_result *out, const struct dp_run_paths *paths, const char *root,
                      const struct dp_hashset *lists, const json_t *case_doc,
                      const struct dp_sign_seckey *key, const struct dp_run_opts *opts,
                      struct dp_error *err) DP_WUR DP_NONNULL(1, 3, 4, 7);

/* ---- pieces deprive wipe shares -------------------------------------------------------- */

/* What a wipe without a certificate (deprive wipe) needs of the case details: the order
 * reference. DP_ERR_INVALID "an order reference is required (--order or --case)". */
enum dp_status dp_run_wipe_case_check(const json_t *case_doc, struct dp_error *err) DP_WUR
    DP_NONNULL(1);

/* The examiner's statement of the medium (the case details' exhibit.media_class) into
 * opts->media_class and opts->media_class_source ("stated by the examiner (--media-class)"
 * when flags - the part of the case details given as command-line flags, may be NULL -
 * holds it, else "... (case file exhibit.media_class)"). Nothing is set when case_doc
 * states none. DP_ERR_INVALID when it is not a known class. */
enum dp_status dp_run_media_class(struct dp_wipe_opts *opts, const json_t *case_doc,
                                  const json_t *flags, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2);

#endif
