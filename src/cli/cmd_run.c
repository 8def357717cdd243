/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive run: scan, wipe, re-scan and write a signed erasure certificate. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/sign.h"
#include "deprive/util.h"
#include "deprive/wipe.h"

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
            "  -j, --jobs N             scan worker threads\n"
            "      --cross-mounts       descend into other mounts below ROOT\n"
            "      --max-file-size SIZE do not read files larger than SIZE (K, M, G, T suffixes);\n"
            "                           default: larger than their filesystem (as for scan)\n"
            "  -n, --dry-run            scan and check the targets, change nothing\n"
            "      --resume             finish an interrupted run: reuse CERT.json.plan.json,\n"
            "                           continue its journal, then re-scan and certify\n"
            "      --journal-on-same-fs allow the journal on the wiped filesystem (testing;\n"
            "                           the result then says the journal names the erased files)\n"
            "  -y, --yes                do not ask for confirmation (needed without a terminal)\n"
            "  -h, --help               this help\n");
    cli_case_help(f, true);
    fprintf(f, "\nExit status: 0 erased and the re-scan found nothing, 1 the certificate says\n"
               "PARTIAL or FAILED, 2 error.\n");
}

enum { OPT_PASSFILE = 1, OPT_FREE, OPT_CROSS, OPT_SAMEFS, OPT_RESUME, OPT_MAXSIZE };

struct run_args {
    char **lists;
    size_t nlists;
    const char *key, *passfile, *output, *root;
    struct dp_wipe_opts wopts;
    struct dp_scan_opts sopts;
    bool yes, resume;
    struct cli_case cs;
};

static int parse_run(int argc, char **argv, struct run_args *a)
{
    struct option longopts[64] = {
        {"hashes", required_argument, NULL, 'H'}, {"key", required_argument, NULL, 'k'},
        {"passphrase-file", required_argument, NULL, OPT_PASSFILE},
        {"output", required_argument, NULL, 'o'}, {"method", required_argument, NULL, 'm'},
        {"wipe-free-space", no_argument, NULL, OPT_FREE}, {"jobs", required_argument, NULL, 'j'},
        {"cross-mounts", no_argument, NULL, OPT_CROSS}, {"dry-run", no_argument, NULL, 'n'},
        {"yes", no_argument, NULL, 'y'}, {"help", no_argument, NULL, 'h'},
        {"journal-on-same-fs", no_argument, NULL, OPT_SAMEFS},
        {"resume", no_argument, NULL, OPT_RESUME},
        {"max-file-size", required_argument, NULL, OPT_MAXSIZE},
    };
    cli_case_options(longopts + 14, 64 - 15);
    int c;
    while ((c = getopt_long(argc, argv, "H:k:o:m:j:nyh", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': a->lists[a->nlists++] = optarg; break;
        case 'k': a->key = optarg; break;
        case OPT_PASSFILE: a->passfile = optarg; break;
        case 'o': a->output = optarg; break;
        case 'm':
            if (!dp_wipe_method_parse(optarg, &a->wopts.method))
                return cli_usage_error("run", "unknown method '%s'", optarg);
            break;
        case OPT_SAMEFS: a->wopts.journal_on_device = true; break;
        case OPT_RESUME: a->resume = true; break;
        case OPT_FREE: a->wopts.wipe_free_space = true; break;
        case 'j': {
            char *end;
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > 256)
                return cli_usage_error("run", "--jobs takes a number from 1 to 256");
            a->sopts.jobs = (unsigned)v;
            break;
        }
        case OPT_CROSS: a->sopts.cross_mounts = true; break;
        case OPT_MAXSIZE:
            if (!cli_max_file_size_option("run", optarg, &a->sopts.max_file_size))
                return DP_EXIT_ERROR;
            break;
        case 'n': a->wopts.dry_run = true; break;
        case 'y': a->yes = true; break;
        case 'h': run_usage(stdout); return -1;
        default:
            if (!cli_case_option(c, optarg, &a->cs))
                return cli_usage_error("run", "bad option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("run", "exactly one ROOT directory is needed");
    a->root = argv[optind];
    if (a->nlists == 0)
        return cli_usage_error("run", "at least one --hashes LIST is needed");
    if (!a->wopts.dry_run && (a->key == NULL || a->output == NULL))
        return cli_usage_error("run", "--key and -o CERT.json are required");
    if (a->resume && a->wopts.dry_run)
        return cli_usage_error("run", "--resume and --dry-run cannot be used together");
    return DP_EXIT_OK;
}

static enum dp_status scan_to(const struct dp_hashset *set, const struct run_args *a,
                              json_t **doc, struct dp_error *err)
{
    struct dp_scan_result *res = NULL;
    struct dp_scan_opts so = a->sopts;
    if (cli_want_progress())
        so.progress = cli_scan_progress;
    enum dp_status st = dp_scan_run(set, a->root, &so, &res, err);
    if (st == DP_OK)
        st = dp_report_build(res, set, doc, err);
    dp_scan_result_free(res);
    return st;
}

/* Certificate bytes and signature, written next to each other. */
static int certify(const struct run_args *a, const struct dp_sign_seckey *sk, json_t *case_doc,
                   json_t *report, json_t *wipe, json_t *rescan)
{
    struct dp_error err = {0};
    char keyid[DP_SIGN_KEYID_HEX_SIZE];
    dp_sign_seckey_keyid(sk, keyid);
    json_t *cert = NULL;
    char *text = NULL, *sig = NULL, *sigpath = cli_derived_path(a->output, ".minisig");
    int rc = DP_EXIT_ERROR;
    const char *base = strrchr(a->output, '/') ? strrchr(a->output, '/') + 1 : a->output;
    if (dp_cert_build(&cert, case_doc, report, wipe, rescan, keyid, &err) != DP_OK)
        goto fail;
    if ((text = dp_json_dump(cert)) == NULL || sigpath == NULL) {
        dp_error_set(&err, DP_ERR_NOMEM, 0, "out of memory");
        goto fail;
    }
    if (dp_cert_sign(&sig, sk, text, strlen(text), base, &err) != DP_OK ||
        dp_write_file_atomic(a->output, text, strlen(text), 0644, &err) != DP_OK ||
        dp_write_file_atomic(sigpath, sig, strlen(sig), 0644, &err) != DP_OK)
        goto fail;
    enum dp_cert_outcome outcome;
    bool known = dp_cert_outcome_of(cert, &outcome);
    printf("certificate: %s (%s), signed by key %s\n", a->output,
           known ? dp_cert_outcome_name(outcome) : "?", keyid);
    rc = known && outcome == DP_OUTCOME_ERASED ? DP_EXIT_OK : DP_EXIT_NEGATIVE;
    goto out;
fail:
    cli_dp_err(&err);
out:
    json_decref(cert);
    free(text);
    free(sig);
    free(sigpath);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run_args a = {.lists = calloc((size_t)argc, sizeof(char *)),
                         .wopts = {.method = DP_WIPE_NIST_CLEAR}};
    struct dp_hashset *set = NULL;
    struct dp_sign_seckey *sk = NULL;
    struct dp_plan *plan = NULL;
    json_t *case_doc = NULL, *report = NULL, *wipe = NULL, *rescan = NULL;
    char *plan_file = NULL, *journal = NULL, *wipe_file = NULL, *rescan_file = NULL;
    struct dp_error err = {0};
    int rc = a.lists ? parse_run(argc, argv, &a) : DP_EXIT_ERROR;
    if (rc != DP_EXIT_OK) {
        rc = rc < 0 ? DP_EXIT_OK : rc;
        goto out;
    }
    rc = DP_EXIT_ERROR;
    const char *base = a.output ? a.output : "deprive-dry-run";
    plan_file = cli_derived_path(base, ".plan.json");
    journal = cli_derived_path(base, ".journal");
    wipe_file = cli_derived_path(base, ".wipe.json");
    rescan_file = cli_derived_path(base, ".rescan.json");
    if (!plan_file || !journal || !wipe_file || !rescan_file)
        goto out;
    if ((case_doc = cli_case_build(&a.cs, !a.wopts.dry_run)) == NULL)
        goto out;
    if (!a.wopts.dry_run) {
        /* never overwrite an earlier run's certificate or the plan it refers to; a resumed run
         * needs its plan and journal and may redo the later files */
        const char *mine[] = {a.output, plan_file, journal, wipe_file, rescan_file};
        for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++) {
            bool exists = access(mine[i], F_OK) == 0;
            bool needed = a.resume && (mine[i] == plan_file || mine[i] == journal);
            if (exists && (!a.resume || i == 0)) {
                cli_err("'%s' already exists: choose another -o (a new case file name)", mine[i]);
                goto out;
            }
            if (needed && !exists) {
                cli_err("cannot resume: '%s' does not exist", mine[i]);
                goto out;
            }
        }
    }
    /* Every precondition before anything is scanned or written: a run refused after its scan
     * would have cost the scan, and a plan file left behind would refuse the retry. The key
     * first of all: a wrong passphrase must not be found out after erasing. */
    if (!a.wopts.dry_run && (!cli_confirm_possible(a.yes) ||
                             !cli_wipe_preflight(a.root, journal, &a.wopts) ||
                             !cli_load_seckey(a.key, a.passfile, &sk)))
        goto out;
    if (!cli_media_class(case_doc, &a.cs, &a.wopts) || !cli_load_hashes(a.lists, a.nlists, &set))
        goto out;
    if (a.resume) {
        if (dp_json_load_file(plan_file, (size_t)1 << 30, &report, &err) != DP_OK)
            goto fail;
    } else if (scan_to(set, &a, &report, &err) != DP_OK) {
        goto fail;
    }
    if (dp_plan_from_report(report, &plan, &err) != DP_OK)
        goto fail;
    a.wopts.lists = set; /* every target re-checked against the lists, also on --resume */
    if (!cli_quiet)
        cli_print_plan(stderr, plan);
    if (!a.wopts.dry_run && plan->count > 0 &&
        !cli_confirm("erase these files? this cannot be undone", a.yes))
        goto out;
    /* the plan is written once the wipe is certain to start: declined, nothing is left; the
     * preflight again, as the scan took time */
    if (!a.wopts.dry_run && !a.resume) {
        if (!cli_wipe_preflight(plan->root, journal, &a.wopts))
            goto out;
        if (dp_json_write_file(report, plan_file, &err) != DP_OK)
            goto fail;
    }
    if ((rc = cli_run_wipe(plan, a.wopts.dry_run ? NULL : plan_file, journal, a.resume, &a.wopts,
                           &wipe)) != DP_EXIT_OK)
        goto out;
    rc = DP_EXIT_ERROR;
    if (!cli_quiet)
        cli_print_wipe(stdout, wipe);
    if (a.wopts.dry_run) {
        struct dp_wipe_summary sum;
        if (dp_wipe_summary_of(wipe, &sum, &err) != DP_OK)
            goto fail;
        rc = dp_wipe_summary_complete(&sum) ? DP_EXIT_OK : DP_EXIT_NEGATIVE;
        goto out;
    }
    if (dp_json_write_file(wipe, wipe_file, &err) != DP_OK ||
        scan_to(set, &a, &rescan, &err) != DP_OK ||
        dp_json_write_file(rescan, rescan_file, &err) != DP_OK)
        goto fail;
    printf("re-scan: %zu match(es) remain\n", json_array_size(json_object_get(rescan, "findings")));
    rc = certify(&a, sk, case_doc, report, wipe, rescan);
    goto out;
fail:
    cli_dp_err(&err);
out:
    json_decref(case_doc);
    json_decref(report);
    json_decref(wipe);
    json_decref(rescan);
    cli_case_release(&a.cs);
    dp_plan_free(plan);
    dp_hashset_free(set);
    dp_sign_seckey_free(sk);
    free(a.lists);
    free(plan_file);
    free(journal);
    free(wipe_file);
    free(rescan_file);
    return rc;
}
