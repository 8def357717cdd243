/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive run: scan, wipe, re-scan and write a signed erasure certificate. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>

#include "deprive/run.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: deprive run --hashes LIST [--hashes LIST...] --key SECKEY -o CERT.json\n"
            "                   [case details] [options] ROOT\n"
            "\n"
            "Scan ROOT, show what matched, erase it (after confirmation), re-scan to prove it\n"
            "is gone, and write CERT.json with its minisign signature CERT.json.minisig.\n"
            "Working files go next to CERT.json: CERT.json.plan.json (the scan report),\n"
            "CERT.json.journal, CERT.json.wipe.json, CERT.json.rescan.json.\n"
            "\n"
            "  -H, --hashes LIST        hash list; repeatable\n"
            "  -k, --key SECKEY         minisign-compatible secret key that signs the certificate\n"
            "      --passphrase-file F  the key's passphrase from the first line of F\n"
            "  -o, --output CERT.json   certificate to write\n"
            "  -m, --method M           nist-clear (default), zero, random, dod-3\n"
            "      --wipe-free-space    fill free space afterwards (always on copy-on-write)\n"
            "      --scrub-slack        overwrite a remnant lying past the end of a live file\n"
            "                           (its content proved unchanged, its mtime restored)\n"
            "  -j, --jobs N             scan worker threads\n"
            "      --cross-mounts       descend into other mounts below ROOT\n"
            "      --max-file-size SIZE do not read files larger than SIZE (K, M, G, T suffixes);\n"
            "                           default: larger than their filesystem (as for scan)\n"
            "      --pdq-threshold N, --no-dihedral, --pdq-exact, --max-pixels N,\n"
            "      --max-image-bytes SIZE   perceptual matching, as for scan\n"
            "      --no-archives, --archive-max-depth N, --archive-max-bytes SIZE,\n"
            "      --archive-max-ratio N, --archive-max-members N, --archive-password-file F\n"
            "                               archives, as for scan\n"
            "      --no-carve               embedded images not carved (as for scan)\n"
            "      --sweep                  sweep the device for deleted copies (as for scan);\n"
            "                               remnants are removed by a verified free-space fill\n"
            "                               and the re-scan sweeps the device again\n"
            "      --device DEV             the device or image ROOT is mounted from, where the\n"
            "                               mount does not name one (as for scan)\n"
            "      --archive-policy wipe-whole|leave   an archive deprive cannot rewrite\n"
            "                           faithfully (7z, rar, ISO): as for wipe\n"
            "      --embedded overwrite-range|wipe-container|report-only\n"
            "                           how an embedded copy is removed: as for wipe\n"
            "  -n, --dry-run            scan and check the targets, change nothing\n"
            "      --resume             finish an interrupted run: reuse CERT.json.plan.json,\n"
            "                           continue its journal, then re-scan and certify\n"
            "      --journal-on-same-fs allow the journal on the wiped filesystem (testing;\n"
            "                           the result then says the journal names the erased files)\n"
            "  -y, --yes                do not ask for confirmation (needed without a terminal)\n"
            "  -h, --help               this help\n");
    cli_consent_help(f);
    cli_opts_case_help(f, true);
    fprintf(f, "\nExit status: 0 erased and the re-scan found nothing, 1 the certificate says\n"
               "PARTIAL or FAILED, 2 error.\n");
}

/* Parses into o (every option of run is a shared one); -1 after --help, else an exit code. */
static int parse_run(int argc, char **argv, struct cli_opts *o, const char **root)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = cli_getopt(o, argc, argv, "h", own)) != -1) {
        switch (c) {
        case 'h': run_usage(stdout); return -1;
        case CLI_GETOPT_REFUSED: return DP_EXIT_ERROR;
        default: return cli_usage_error(o->cmd, "bad option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(o->cmd, "exactly one ROOT directory is needed");
    *root = argv[optind];
    if (o->lists.count == 0)
        return cli_usage_error(o->cmd, "at least one --hashes LIST is needed");
    if (!o->wipe.dry_run && (o->key == NULL || o->output == NULL))
        return cli_usage_error(o->cmd, "--key and -o CERT.json are required");
    if (o->resume && o->wipe.dry_run)
        return cli_usage_error(o->cmd, "--resume and --dry-run cannot be used together");
    return DP_EXIT_OK;
}

/* The perceptual-only targets' consent (ctx: the struct cli_opts); the confirmations stay
 * open in run_confirmations until the run is over. */
static struct dp_confirmations *run_confirmations;

static enum dp_status run_consent(void *ctx, const struct dp_plan *plan, const char *plan_file,
                                  struct dp_wipe_opts *wipe, struct dp_error *err)
{
    struct cli_opts *o = ctx;
    if (plan_file == NULL) { /* a dry run: nothing is decided or recorded */
        o->wipe.perceptual = wipe->perceptual = &o->scan;
        return DP_OK;
    }
    if (!cli_consent_prepare(o, plan, plan_file, &run_confirmations))
        return dp_error_set(err, DP_ERR_INVALID, 0, "no decision on the perceptual-only "
                                                    "matches could be had (above)");
    wipe->confirmations = o->wipe.confirmations;
    wipe->blanket_consent = o->wipe.blanket_consent;
    wipe->perceptual = o->wipe.perceptual;
    return DP_OK;
}

/* ctx: the struct cli_opts (also the destructive gate's hooks' ctx) */
static void run_event(void *ctx, const struct dp_run_event *ev)
{
    const struct cli_opts *o = ctx;
    switch (ev->step) {
    case DP_RUN_STEP_PLAN:
        if (!cli_quiet)
            cli_print_plan(stderr, ev->plan);
        break;
    case DP_RUN_STEP_WIPED:
        if (!cli_quiet)
            cli_print_wipe(stdout, ev->wipe_result);
        break;
    case DP_RUN_STEP_RESCANNED:
        printf("re-scan: %zu match(es) remain\n", ev->result->remaining);
        break;
    case DP_RUN_STEP_CERTIFIED:
        printf("certificate: %s (%s), signed by key %s\n", cli_text(o->output),
               dp_cert_outcome_name(ev->result->certificate), ev->result->keyid);
        break;
    case DP_RUN_STEP_COUNT: break;
    }
}

static int run_exit_status(enum dp_run_outcome o)
{
    switch (o) {
    case DP_RUN_ERASED:
    case DP_RUN_DRY_COMPLETE: return DP_EXIT_OK;
    case DP_RUN_PARTIAL:
    case DP_RUN_FAILED:
    case DP_RUN_DRY_INCOMPLETE: return DP_EXIT_NEGATIVE;
    case DP_RUN_DECLINED:
    case DP_RUN_OUTCOME_COUNT: break;
    }
    return DP_EXIT_ERROR;
}

int cmd_run(int argc, char **argv)
{
    struct cli_opts o; /* the table adds --dry-run, --yes and the case details (destructive) */
    cli_opts_init(&o, CLI_OPTS_HASHES | CLI_OPTS_KEY | CLI_OPTS_OUTPUT | CLI_OPTS_WIPE |
                          CLI_OPTS_JOBS | CLI_OPTS_CROSS_MOUNTS | CLI_OPTS_LIMITS | CLI_OPTS_PDQ |
                          CLI_OPTS_CONSENT | CLI_OPTS_SWEEP);
    const char *root = NULL;
    struct dp_hashset *set = NULL;
    struct dp_sign_seckey *sk = NULL;
    struct dp_run_paths paths = {0};
    struct dp_error err = {0};
    int rc = parse_run(argc, argv, &o, &root);
    if (rc != DP_EXIT_OK) {
        rc = rc < 0 ? DP_EXIT_OK : rc;
        goto out;
    }
    rc = DP_EXIT_ERROR;
    bool dry = o.wipe.dry_run;
    struct dp_run_opts ro = {.resume = o.resume, .scan = o.scan, .wipe = o.wipe,
                             .confirm_possible = cli_destructive_possible,
                             .confirm = cli_destructive_ask, .consent = run_consent,
                             .event = run_event, .ctx = &o};
    if (cli_want_progress()) {
        ro.scan.progress = cli_scan_progress;
        ro.scan.sweep_progress = cli_sweep_progress;
    }
    cli_wipe_callbacks(&ro.wipe);
    if (!dry && dp_run_paths_init(&paths, o.output, &err) != DP_OK)
        goto fail;
    const json_t *case_doc = cli_opts_case(&o, false);
    if (case_doc == NULL)
        goto out;
    /* every precondition before anything is scanned or written (the destructive gate among
     * them); the key after them but before the scan, so a wrong passphrase is found out
     * before anything is erased */
    if (dp_run_check(dry ? NULL : &paths, root, case_doc, &ro, &err) != DP_OK)
        goto fail;
    if (!dry && !cli_load_seckey(o.key, o.passfile, &sk))
        goto out;
    if (dp_run_media_class(&ro.wipe, case_doc, o.case_flags, &err) != DP_OK)
        goto fail;
    if (!cli_load_hashes(o.lists.items, o.lists.count, &set))
        goto out;
    cli_destructive_check(&o, dry);
    struct dp_run_result res;
    if (dp_run(&res, dry ? NULL : &paths, root, set, case_doc, sk, &ro, &err) != DP_OK)
        goto fail;
    rc = run_exit_status(res.outcome);
    goto out;
fail:
    cli_dp_err(&err);
out:
    cli_consent_close(run_confirmations);
    run_confirmations = NULL;
    dp_run_paths_release(&paths);
    dp_hashset_free(set);
    dp_sign_seckey_free(sk);
    cli_opts_release(&o);
    return rc;
}
