/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the erasure run - its file names, its preconditions and its sequence (scan,
 * confirm, journaled wipe, re-scan, certificate, signature). */
#include "deprive/run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deprive/json.h"
#include "deprive/util.h"

/* The largest plan file a resumed run reads back. */
#define PLAN_FILE_MAX ((size_t)1 << 30)

static const char *const file_suffixes[] = {"",         ".minisig",   ".plan.json",
                                            ".journal", ".wipe.json", ".rescan.json"};
_Static_assert(sizeof(file_suffixes) / sizeof(file_suffixes[0]) == DP_RUN_FILE_COUNT,
               "a suffix for every run file");

static const char *const outcome_names[] = {
    "erased", "partial", "failed", "dry-run-complete", "dry-run-incomplete", "declined"};
_Static_assert(sizeof(outcome_names) / sizeof(outcome_names[0]) == DP_RUN_OUTCOME_COUNT,
               "a name for every run outcome");

const char *dp_run_file_suffix(enum dp_run_file f)
{
    if ((unsigned)f >= DP_RUN_FILE_COUNT)
        dp_misuse("dp_run_file_suffix: bad file");
    return file_suffixes[f];
}

const char *dp_run_outcome_name(enum dp_run_outcome o)
{
    if ((unsigned)o >= DP_RUN_OUTCOME_COUNT)
        dp_misuse("dp_run_outcome_name: bad outcome");
    return outcome_names[o];
}

enum dp_status dp_run_file_path(char **out, const char *base, enum dp_run_file f,
                                struct dp_error *err)
{
    const char *sfx = dp_run_file_suffix(f);
    size_t n = strlen(base) + strlen(sfx) + 1;
    if ((*out = malloc(n)) == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    snprintf(*out, n, "%s%s", base, sfx);
    return DP_OK;
}

enum dp_status dp_run_paths_init(struct dp_run_paths *paths, const char *cert_path,
                                 struct dp_error *err)
{
    memset(paths, 0, sizeof(*paths));
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++) {
        enum dp_status st = dp_run_file_path(&paths->file[i], cert_path, (enum dp_run_file)i, err);
        if (st != DP_OK) {
            dp_run_paths_release(paths);
            return st;
        }
    }
    return DP_OK;
}

void dp_run_paths_release(struct dp_run_paths *paths)
{
    if (paths == NULL)
        return;
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++) {
        free(paths->file[i]);
        paths->file[i] = NULL;
    }
}

/* ---- preconditions ---- */

static bool file_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0; /* a symlink, even a dangling one, is in the way too */
}

/* A resumed run whose certificate exists certifies again only when there is something to do
 * again: its journal unfinished (interrupted while failed targets were tried again) or
 * finished with failed targets (tried again now). A run finished and certified with none is
 * not certified twice. */
static enum dp_status check_recertify(const struct dp_run_paths *paths, struct dp_error *err)
{
    const char *cert = paths->file[DP_RUN_FILE_CERT];
    if (!file_exists(cert))
        return DP_OK;
    struct dp_wipe_state *st = NULL;
    char head[DP_JOURNAL_HEX_LEN];
    uint64_t n = 0;
    enum dp_status s = dp_wipe_state_new(&st, err);
    if (s == DP_OK)
        s = dp_journal_verify_file(paths->file[DP_RUN_FILE_JOURNAL], head, &n,
                                   dp_wipe_state_visit, st, err);
    if (s == DP_OK && dp_wipe_state_finished(st) && dp_wipe_state_failed(st) == 0)
        s = dp_error_set(err, DP_ERR_INVALID, 0,
                         "'%s' already exists and its run finished with no failed target: "
                         "nothing to resume (choose another -o for a new run)", cert);
    dp_wipe_state_free(st);
    return s;
}

/* Never overwrite an earlier run's certificate or the plan it refers to; a resumed run needs
 * its plan and journal and makes the wipe result and re-scan again. */
static enum dp_status check_files(const struct dp_run_paths *paths, bool resume,
                                  struct dp_error *err)
{
    for (int i = 0; i < DP_RUN_FILE_COUNT; i++) {
        const char *p = paths->file[i];
        bool exists = file_exists(p);
        bool needed = resume && (i == DP_RUN_FILE_PLAN || i == DP_RUN_FILE_JOURNAL);
        /* a resumed run writes the wipe result, the re-scan and the certificate again; an
         * earlier certificate (a run that finished with failed targets, tried again) is kept
         * under another name (certify) */
        bool may_exist = needed || resume;
        if (exists && !may_exist)
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "'%s' already exists: choose another -o (a new case file name)", p);
        if (needed && !exists)
            return dp_error_set(err, DP_ERR_INVALID, 0, "cannot resume: '%s' does not exist", p);
    }
    return resume ? check_recertify(paths, err) : DP_OK;
}

enum dp_status dp_run_check(const struct dp_run_paths *paths, const char *root,
                            const json_t *case_doc, const struct dp_run_opts *opts,
                            struct dp_error *err)
{
    if (opts->wipe.dry_run)
        return opts->resume ? dp_error_set(err, DP_ERR_INVALID, 0,
                                           "a dry run cannot resume an interrupted run")
                            : DP_OK;
    if (paths == NULL || case_doc == NULL)
        dp_misuse("dp_run_check: paths and case details are required unless dry run");
    enum dp_status st = dp_cert_case_validate(case_doc, err);
    if (st == DP_OK)
        st = check_files(paths, opts->resume, err);
    if (st == DP_OK && opts->confirm_possible != NULL)
        st = opts->confirm_possible(opts->ctx, err);
    if (st == DP_OK)
        st = dp_wipe_preflight(root, paths->file[DP_RUN_FILE_JOURNAL], &opts->wipe, err);
    return st;
}

/* ---- the steps ---- */

static void emit(const struct dp_run_opts *opts, enum dp_run_step step, const struct dp_plan *plan,
                 const json_t *wipe_result, const struct dp_run_result *result)
{
    if (opts->event == NULL)
        return;
    struct dp_run_event ev = {
        .step = step, .plan = plan, .wipe_result = wipe_result, .result = result};
    opts->event(opts->ctx, &ev);
}

/* Scan root and build its report; *findings: how many matched. */
static enum dp_status scan_report(json_t **doc, size_t *findings, const char *root,
                                  const struct dp_hashset *lists, const struct dp_scan_opts *so,
                                  struct dp_error *err)
{
    struct dp_scan_result *res = NULL;
    enum dp_status st = dp_scan_run(lists, root, so, &res, err);
    if (st == DP_OK)
        st = dp_report_build(res, lists, doc, err);
    if (st == DP_OK)
        *findings = res->finding_count;
    dp_scan_result_free(res);
    return st;
}

static enum dp_status write_doc(struct dp_run_result *out, const struct dp_run_paths *paths,
                                enum dp_run_file f, const json_t *doc, struct dp_error *err)
{
    enum dp_status st = dp_json_write_file(doc, paths->file[f], err);
    if (st == DP_OK)
        out->written[f] = true;
    return st;
}

static enum dp_run_outcome run_outcome(enum dp_cert_outcome c)
{
    switch (c) {
    case DP_OUTCOME_ERASED:
        return DP_RUN_ERASED;
    case DP_OUTCOME_PARTIAL:
        return DP_RUN_PARTIAL;
    case DP_OUTCOME_FAILED:
    case DP_OUTCOME_COUNT:
        break;
    }
    return DP_RUN_FAILED;
}

/* A resumed run that certifies again (its wipe had finished with failed targets, tried again
 * now): the earlier certificate and signature are renamed, not replaced - CERT.json becomes
 * CERT.json.earlier-N.json and its signature CERT.json.earlier-N.json.minisig, N the first
 * free number - so what was issued stays as it was. */
static enum dp_status keep_earlier(const struct dp_run_paths *paths, struct dp_error *err)
{
    const char *cert = paths->file[DP_RUN_FILE_CERT], *sig = paths->file[DP_RUN_FILE_SIG];
    if (!file_exists(cert) && !file_exists(sig))
        return DP_OK;
    for (unsigned n = 1; n < 1000; n++) {
        char *c = NULL, *s = NULL;
        if (asprintf(&c, "%s.earlier-%u.json", cert, n) < 0 ||
            asprintf(&s, "%s.earlier-%u.json.minisig", cert, n) < 0) {
            free(c);
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        }
        enum dp_status st = DP_OK;
        bool taken = file_exists(c) || file_exists(s);
        if (!taken) {
            if (file_exists(sig) && rename(sig, s) != 0)
                st = dp_error_set(err, DP_ERR_IO, errno, "cannot rename '%s'", sig);
            else if (file_exists(cert) && rename(cert, c) != 0)
                st = dp_error_set(err, DP_ERR_IO, errno, "cannot rename '%s'", cert);
        }
        free(c), free(s);
        if (!taken)
            return st;
    }
    return dp_error_set(err, DP_ERR_LIMIT, 0, "too many earlier certificates beside '%s'", cert);
}

/* The certificate's exact bytes and their signature, the certificate written first: a
 * signature never names a certificate that is not there. */
static enum dp_status certify(struct dp_run_result *out, const struct dp_run_paths *paths,
                              const struct dp_sign_seckey *key, const json_t *case_doc,
                              const json_t *report, const json_t *wipe, const json_t *rescan,
                              struct dp_error *err)
{
    const char *cert_path = paths->file[DP_RUN_FILE_CERT];
    const char *slash = strrchr(cert_path, '/');
    json_t *cert = NULL;
    char *text = NULL, *sig = NULL;
    enum dp_status st = dp_cert_build(&cert, case_doc, report, wipe, rescan, out->keyid, err);
    if (st != DP_OK)
        goto out;
    if (!dp_cert_outcome_of(cert, &out->certificate)) {
        st = dp_error_set(err, DP_ERR_INVALID, 0, "the certificate states no known outcome");
        goto out;
    }
    if ((text = dp_json_dump(cert)) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    if ((st = dp_cert_sign(&sig, key, text, strlen(text), slash ? slash + 1 : cert_path, err)) !=
            DP_OK ||
        (st = keep_earlier(paths, err)) != DP_OK ||
        (st = dp_write_file_atomic(cert_path, text, strlen(text), 0644, err)) != DP_OK)
        goto out;
    out->written[DP_RUN_FILE_CERT] = true;
    if ((st = dp_write_file_atomic(paths->file[DP_RUN_FILE_SIG], sig, strlen(sig), 0644, err)) !=
        DP_OK)
        goto out;
    out->written[DP_RUN_FILE_SIG] = true;
    out->certified = true;
    out->outcome = run_outcome(out->certificate);
out:
    json_decref(cert);
    free(text);
    free(sig);
    return st;
}

/* The plan: scanned now, or on resume the plan file of the interrupted run. */
static enum dp_status get_plan(json_t **report, struct dp_plan **plan,
                               const struct dp_run_paths *paths, const char *root,
                               const struct dp_hashset *lists, const struct dp_run_opts *opts,
                               struct dp_error *err)
{
    size_t findings = 0;
    enum dp_status st =
        opts->resume ? dp_json_load_file(paths->file[DP_RUN_FILE_PLAN], PLAN_FILE_MAX, report, err)
                     : scan_report(report, &findings, root, lists, &opts->scan, err);
    return st == DP_OK ? dp_plan_from_report(*report, plan, err) : st;
}

/* After the wipe of a real run: its result, the re-scan, the certificate. */
static enum dp_status finish(struct dp_run_result *out, const struct dp_run_paths *paths,
                             const char *root, const struct dp_hashset *lists,
                             const json_t *case_doc, const struct dp_sign_seckey *key,
                             const struct dp_run_opts *opts, const json_t *report,
                             const json_t *wipe, struct dp_error *err)
{
    json_t *rescan = NULL;
    /* a swept plan is swept again, on the same device, whatever a resume was given */
    struct dp_scan_opts so = opts->scan;
    const json_t *sw = json_object_get(report, "sweep");
    const char *from = json_string_value(json_object_get(sw, "device_from"));
    if (json_is_object(sw)) {
        so.sweep = true;
        if (so.sweep_device == NULL && from != NULL && strcmp(from, "--device") == 0)
            so.sweep_device = json_string_value(json_object_get(sw, "device"));
    }
    enum dp_status st = write_doc(out, paths, DP_RUN_FILE_WIPE, wipe, err);
    if (st == DP_OK)
        st = scan_report(&rescan, &out->remaining, root, lists, &so, err);
    if (st == DP_OK)
        st = write_doc(out, paths, DP_RUN_FILE_RESCAN, rescan, err);
    if (st == DP_OK) {
        out->rescanned = true;
        emit(opts, DP_RUN_STEP_RESCANNED, NULL, NULL, out);
        st = certify(out, paths, key, case_doc, report, wipe, rescan, err);
    }
    if (st == DP_OK)
        emit(opts, DP_RUN_STEP_CERTIFIED, NULL, NULL, out);
    json_decref(rescan);
    return st;
}

enum dp_status dp_run(struct dp_run_result *out, const struct dp_run_paths *paths, const char *root,
                      const struct dp_hashset *lists, const json_t *case_doc,
                      const struct dp_sign_seckey *key, const struct dp_run_opts *opts,
                      struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    bool dry = opts->wipe.dry_run;
    if (!dry && (paths == NULL || case_doc == NULL || key == NULL))
        dp_misuse("dp_run: paths, case details and key are required unless dry run");
    json_t *report = NULL, *wipe = NULL;
    struct dp_plan *plan = NULL;
    struct dp_wipe_opts wopts = opts->wipe;
    wopts.lists = lists; /* every target re-checked against the lists, also on resume */
    const char *journal = dry ? NULL : paths->file[DP_RUN_FILE_JOURNAL];
    enum dp_status st = dp_run_check(paths, root, case_doc, opts, err);
    if (st != DP_OK || (st = get_plan(&report, &plan, paths, root, lists, opts, err)) != DP_OK)
        goto out;
    if (!dry)
        dp_sign_seckey_keyid(key, out->keyid);
    out->findings = plan->count;
    emit(opts, DP_RUN_STEP_PLAN, plan, NULL, out);
    if (!dry && plan->count > 0 && opts->confirm != NULL && !opts->confirm(opts->ctx, plan)) {
        out->outcome = DP_RUN_DECLINED;
        goto out;
    }
    /* the plan is written once the wipe is certain to start: declined, nothing is left; the
     * preflight again, as the scan took time */
    if (!dry && !opts->resume &&
        ((st = dp_wipe_preflight(plan->root, journal, &wopts, err)) != DP_OK ||
         (st = write_doc(out, paths, DP_RUN_FILE_PLAN, report, err)) != DP_OK))
        goto out;
    size_t perceptual = 0;
    for (size_t i = 0; i < plan->count; i++)
        perceptual += plan->targets[i].perceptual_only;
    if (perceptual > 0 && opts->consent != NULL &&
        (st = opts->consent(opts->ctx, plan, dry ? NULL : paths->file[DP_RUN_FILE_PLAN], &wopts,
                            err)) != DP_OK)
        goto out;
    st = dp_wipe_journaled(plan, dry ? NULL : paths->file[DP_RUN_FILE_PLAN], journal, opts->resume,
                           &wopts, &wipe, err);
    /* a new journal is there even when the wipe failed; a resumed one counts once finished */
    out->written[DP_RUN_FILE_JOURNAL] =
        journal != NULL && (st == DP_OK || (!opts->resume && file_exists(journal)));
    if (st != DP_OK || (st = dp_wipe_summary_of(wipe, &out->wipe, err)) != DP_OK)
        goto out;
    out->wiped = true;
    emit(opts, DP_RUN_STEP_WIPED, NULL, wipe, out);
    if (dry)
        out->outcome =
            dp_wipe_summary_complete(&out->wipe) ? DP_RUN_DRY_COMPLETE : DP_RUN_DRY_INCOMPLETE;
    else
        st = finish(out, paths, root, lists, case_doc, key, opts, report, wipe, err);
out:
    json_decref(report);
    json_decref(wipe);
    dp_plan_free(plan);
    return st;
}

/* ---- pieces deprive wipe shares ---- */

enum dp_status dp_run_wipe_case_check(const json_t *case_doc, struct dp_error *err)
{
    const json_t *order =
        json_object_get(json_object_get(case_doc, "authority"), "order_reference");
    if (json_string_value(order) == NULL || json_string_value(order)[0] == '\0')
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "an order reference is required (--order or --case)");
    return DP_OK;
}

enum dp_status dp_run_media_class(struct dp_wipe_opts *opts, const json_t *case_doc,
                                  const json_t *flags, struct dp_error *err)
{
    const char *v =
        json_string_value(json_object_get(json_object_get(case_doc, "exhibit"), "media_class"));
    if (v == NULL)
        return DP_OK;
    if (!dp_media_class_parse(v, &opts->media_class))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "exhibit.media_class: '%s' is not one of hdd, ssd, flash, unknown", v);
    bool flag = json_object_get(json_object_get(flags, "exhibit"), "media_class") != NULL;
    opts->media_class_source = flag ? "stated by the examiner (--media-class)"
                                    : "stated by the examiner (case file exhibit.media_class)";
    return DP_OK;
}
