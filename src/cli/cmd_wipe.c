/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive wipe: erase what a scan report (the plan) lists, journaled and resumable. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/run.h"

static void wipe_usage(FILE *f)
{
    fprintf(f,
            "usage: deprive wipe --hashes LIST [--hashes LIST...] [options] PLAN.json\n"
            "       deprive wipe --resume --hashes LIST [options] PLAN.json\n"
            "\n"
            "Securely erase every file listed in PLAN.json (a 'deprive scan -o' report): re-check\n"
            "identity and content, overwrite in place, verify from the device, scrub the name,\n"
            "unlink. Every step goes to an fsynced, hash-chained journal (PLAN.json.journal) so\n"
            "an interrupted wipe resumes with --resume.\n"
            "\n"
            "  -H, --hashes LIST     the hash lists every target is re-checked against before\n"
            "                        it is touched (required: the plan is a file and cannot\n"
            "                        vouch for itself); repeatable\n"
            "  -m, --method M        nist-clear (default: one keyed ChaCha20 pass, verified),\n"
            "                        zero, random, dod-3 (zeros, ones, stream; last verified)\n"
            "      --journal FILE    journal path (default PLAN.json.journal); never on the\n"
            "                        filesystem being wiped\n"
            "      --resume          continue an interrupted wipe from its journal\n"
            "  -o, --output FILE     write the wipe result JSON (default PLAN.json.wipe.json)\n"
            "      --wipe-free-space fill free space afterwards (always done on copy-on-write)\n"
            "      --scrub-slack     overwrite a remnant lying past the end of a live file\n"
            "                        (its content proved unchanged, its mtime restored)\n"
            "      --archive-policy wipe-whole|leave\n"
            "                        a match inside an archive deprive cannot rewrite\n"
            "                        faithfully (7z, rar, ISO): erase the whole archive (its\n"
            "                        other members are named in the result) or leave it;\n"
            "                        without it such a wipe is refused before anything is done\n"
            "      --embedded overwrite-range|wipe-container|report-only\n"
            "                        an embedded copy (an image inside another file): overwrite\n"
            "                        exactly its bytes, the rest of the file proved unchanged\n"
            "                        (default); erase the whole file; or leave it. SQLite -wal\n"
            "                        and -journal files are never range-overwritten\n"
            "  -n, --dry-run         check every target, change nothing\n"
            "      --journal-on-same-fs allow the journal on the wiped filesystem (testing;\n"
            "                        the result then says the journal names the erased files)\n"
            "  -y, --yes             do not ask for confirmation (needed without a terminal)\n"
            "  -h, --help            this help\n");
    cli_consent_help(f);
    cli_opts_case_help(f, false);
    fprintf(f, "\nOnly the order reference is required here (--order or a case file); the\n"
               "other details are checked when a certificate is made (deprive run).\n"
               "Exit status: 0 every target erased, 1 some target not erased, 2 error.\n");
}

enum { OPT_JOURNAL = 1 };

int cmd_wipe(int argc, char **argv)
{
    static const struct option own[] = {
        {"journal", required_argument, NULL, OPT_JOURNAL}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_opts o; /* the table adds --dry-run, --yes and the case details (destructive) */
    cli_opts_init(&o, CLI_OPTS_HASHES | CLI_OPTS_OUTPUT | CLI_OPTS_WIPE | CLI_OPTS_PDQ |
                          CLI_OPTS_CONSENT);
    const char *journal = NULL, *output = NULL;
    char *journal_d = NULL, *output_d = NULL;
    int rc = DP_EXIT_ERROR, c;
    struct dp_plan *plan = NULL;
    json_t *result = NULL;
    struct dp_hashset *set = NULL;
    struct dp_confirmations *confirmations = NULL;
    while ((c = cli_getopt(&o, argc, argv, "h", own)) != -1) {
        switch (c) {
        case OPT_JOURNAL: journal = optarg; break;
        case 'h': wipe_usage(stdout); rc = DP_EXIT_OK; goto out;
        case CLI_GETOPT_REFUSED: goto out;
        default: rc = cli_usage_error(o.cmd, "bad option"); goto out;
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage_error(o.cmd, "exactly one PLAN.json is needed");
        goto out;
    }
    if (o.lists.count == 0) {
        rc = cli_usage_error(o.cmd, "the hash lists are required (--hashes LIST): every target "
                                    "is re-checked against them before it is touched");
        goto out;
    }
    if (o.resume && o.wipe.dry_run) {
        rc = cli_usage_error(o.cmd, "--resume and --dry-run cannot be used together");
        goto out;
    }
    const char *plan_file = argv[optind];
    struct dp_error err = {0};
    const json_t *case_doc = cli_opts_case(&o, false);
    /* the order reference and a way to confirm, before anything is read or written */
    if (case_doc == NULL || !cli_destructive_gate(&o))
        goto out;
    if (dp_plan_load(plan_file, &plan, &err) != DP_OK)
        goto fail;
    if (!cli_load_hashes(o.lists.items, o.lists.count, &set))
        goto out;
    if (dp_run_media_class(&o.wipe, case_doc, o.case_flags, &err) != DP_OK)
        goto fail;
    o.wipe.lists = set;
    output = o.output;
    if ((journal == NULL &&
         dp_run_file_path(&journal_d, plan_file, DP_RUN_FILE_JOURNAL, &err) != DP_OK) ||
        (output == NULL && dp_run_file_path(&output_d, plan_file, DP_RUN_FILE_WIPE, &err) != DP_OK))
        goto fail;
    journal = journal ? journal : journal_d;
    output = output ? output : output_d;
    /* before asking: a wipe that cannot start is refused now */
    if (!o.wipe.dry_run && dp_wipe_preflight(plan->root, journal, &o.wipe, &err) != DP_OK)
        goto fail;
    if (!cli_quiet)
        cli_print_plan(stderr, plan);
    if (!cli_consent_prepare(&o, plan, plan_file, &confirmations))
        goto out;
    if (!cli_destructive_confirm(&o, plan->count))
        goto out;
    cli_wipe_callbacks(&o.wipe);
    cli_destructive_check(&o, o.wipe.dry_run);
    struct dp_wipe_summary sum;
    if (dp_wipe_journaled(plan, plan_file, journal, o.resume, &o.wipe, &result, &err) != DP_OK ||
        dp_json_write_file(result, output, &err) != DP_OK)
        goto fail;
    if (!cli_quiet)
        cli_print_wipe(stdout, result);
    if (o.wipe.dry_run)
        cli_info("wipe result written to '%s'", output);
    else
        cli_info("wipe result written to '%s', journal '%s'", output, journal);
    if (dp_wipe_summary_of(result, &sum, &err) != DP_OK)
        goto fail;
    rc = dp_wipe_summary_complete(&sum) ? DP_EXIT_OK : DP_EXIT_NEGATIVE;
    goto out;
fail:
    cli_dp_err(&err);
    rc = DP_EXIT_ERROR;
out:
    json_decref(result);
    cli_consent_close(confirmations);
    dp_plan_free(plan);
    dp_hashset_free(set);
    cli_opts_release(&o);
    free(journal_d);
    free(output_d);
    return rc;
}
