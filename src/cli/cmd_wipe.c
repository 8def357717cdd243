/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive wipe: erase what a scan report (the plan) lists, journaled and resumable. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/wipe.h"

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
            "  -n, --dry-run         check every target, change nothing\n"
            "      --journal-on-same-fs allow the journal on the wiped filesystem (testing;\n"
            "                        the result then says the journal names the erased files)\n"
            "  -y, --yes             do not ask for confirmation (needed without a terminal)\n"
            "  -h, --help            this help\n");
    cli_case_help(f, false);
    fprintf(f, "\nOnly the order reference is required here (--order or a case file); the\n"
               "other details are checked when a certificate is made (deprive run).\n"
               "Exit status: 0 every target erased, 1 some target not erased, 2 error.\n");
}

enum { OPT_JOURNAL = 1, OPT_RESUME, OPT_FREE, OPT_SAMEFS };

int cmd_wipe(int argc, char **argv)
{
    struct option longopts[64] = {
        {"method", required_argument, NULL, 'm'}, {"journal", required_argument, NULL, OPT_JOURNAL},
        {"resume", no_argument, NULL, OPT_RESUME}, {"output", required_argument, NULL, 'o'},
        {"wipe-free-space", no_argument, NULL, OPT_FREE}, {"dry-run", no_argument, NULL, 'n'},
        {"yes", no_argument, NULL, 'y'},          {"help", no_argument, NULL, 'h'},
        {"journal-on-same-fs", no_argument, NULL, OPT_SAMEFS},
        {"hashes", required_argument, NULL, 'H'},
    };
    cli_case_options(longopts + 10, 64 - 11);
    struct dp_wipe_opts opts = {.method = DP_WIPE_NIST_CLEAR};
    struct cli_case cs = {0};
    const char *journal = NULL, *output = NULL;
    char *journal_d = NULL, *output_d = NULL;
    bool resume = false, yes = false;
    int rc = DP_EXIT_ERROR, c;
    struct dp_plan *plan = NULL;
    json_t *case_doc = NULL, *result = NULL;
    char **lists = calloc((size_t)argc, sizeof(char *));
    size_t nlists = 0;
    struct dp_hashset *set = NULL;
    if (lists == NULL)
        return DP_EXIT_ERROR;
    while ((c = getopt_long(argc, argv, "m:o:H:nyh", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': lists[nlists++] = optarg; break;
        case 'm':
            if (!dp_wipe_method_parse(optarg, &opts.method)) {
                rc = cli_usage_error("wipe", "unknown method '%s'", optarg);
                goto out;
            }
            break;
        case OPT_JOURNAL: journal = optarg; break;
        case OPT_RESUME: resume = true; break;
        case 'o': output = optarg; break;
        case OPT_SAMEFS: opts.journal_on_device = true; break;
        case OPT_FREE: opts.wipe_free_space = true; break;
        case 'n': opts.dry_run = true; break;
        case 'y': yes = true; break;
        case 'h': wipe_usage(stdout); rc = DP_EXIT_OK; goto out;
        default:
            if (!cli_case_option(c, optarg, &cs)) {
                rc = cli_usage_error("wipe", "bad option");
                goto out;
            }
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage_error("wipe", "exactly one PLAN.json is needed");
        goto out;
    }
    if (nlists == 0) {
        rc = cli_usage_error("wipe", "the hash lists are required (--hashes LIST): every target "
                                     "is re-checked against them before it is touched");
        goto out;
    }
    if (resume && opts.dry_run) {
        rc = cli_usage_error("wipe", "--resume and --dry-run cannot be used together");
        goto out;
    }
    const char *plan_file = argv[optind];
    if ((case_doc = cli_case_build(&cs, false)) == NULL)
        goto out;
    if (!opts.dry_run && json_string_value(json_object_get(json_object_get(case_doc, "authority"),
                                                           "order_reference")) == NULL) {
        rc = cli_usage_error("wipe", "an order reference is required (--order or --case)");
        goto out;
    }
    struct dp_error err = {0};
    if (dp_plan_load(plan_file, &plan, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    if (!cli_load_hashes(lists, nlists, &set) || !cli_media_class(case_doc, &cs, &opts))
        goto out;
    opts.lists = set;
    journal = journal ? journal : (journal_d = cli_derived_path(plan_file, ".journal"));
    output = output ? output : (output_d = cli_derived_path(plan_file, ".wipe.json"));
    if (!opts.dry_run && !cli_wipe_preflight(plan->root, journal, &opts))
        goto out; /* before asking: a wipe that cannot start is refused now */
    if (!cli_quiet)
        cli_print_plan(stderr, plan);
    if (!opts.dry_run && !cli_confirm("erase these files? this cannot be undone", yes))
        goto out;
    rc = cli_run_wipe(plan, plan_file, journal, resume, &opts, &result);
    if (rc != DP_EXIT_OK)
        goto out;
    if (dp_json_write_file(result, output, &err) != DP_OK) {
        cli_dp_err(&err);
        rc = DP_EXIT_ERROR;
        goto out;
    }
    if (!cli_quiet)
        cli_print_wipe(stdout, result);
    if (opts.dry_run)
        cli_info("wipe result written to '%s'", output);
    else
        cli_info("wipe result written to '%s', journal '%s'", output, journal);
    struct dp_wipe_summary sum;
    if (dp_wipe_summary_of(result, &sum, &err) != DP_OK) {
        cli_dp_err(&err);
        rc = DP_EXIT_ERROR;
        goto out;
    }
    rc = dp_wipe_summary_complete(&sum) ? DP_EXIT_OK : DP_EXIT_NEGATIVE;
out:
    json_decref(result);
    json_decref(case_doc);
    cli_case_release(&cs);
    dp_plan_free(plan);
    dp_hashset_free(set);
    free(lists);
    free(journal_d);
    free(output_d);
    return rc;
}
