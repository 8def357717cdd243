/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive confirm: record an examiner's decision on perceptual-only findings of a plan. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/confirm.h"
#include "deprive/util.h"

static void confirm_usage(FILE *f)
{
    fprintf(f,
            "usage: deprive confirm PLAN.json --examiner NAME --finding ID [--finding ID...]\n"
            "                       [--reject] [--confirmations FILE]\n"
            "       deprive confirm PLAN.json --list [--confirmations FILE]\n"
            "\n"
            "A finding that only a PDQ (perceptual) hash matched is erased only after a person\n"
            "has decided it is a copy of a listed image. This records that decision - or, with\n"
            "--reject, that it is not a copy - for the findings named by their id in the plan\n"
            "(F1, F2, ...; 'deprive review' renders them for the decision). Decisions go to a\n"
            "journaled file bound to the plan's SHA-256 (default PLAN.json.confirmations); the\n"
            "last decision on a finding is the one a wipe follows, and every one is kept.\n"
            "\n"
            "      --finding ID        a perceptual-only finding of the plan; repeatable\n"
            "      --examiner NAME     who decides (recorded with each decision)\n"
            "      --reject            record 'not a copy': the wipe leaves it\n"
            "      --list              show the perceptual-only findings and their decisions\n"
            "      --confirmations FILE  the decisions file (default PLAN.json.confirmations)\n"
            "  -h, --help              this help\n"
            "\nExit status: 0 recorded (or listed), 2 error.\n");
}

enum { OPT_FINDING = 1, OPT_REJECT, OPT_LIST };

static void list_decisions(const struct dp_plan *plan, const struct dp_confirmations *c)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->count; i++) {
        if (!plan->targets[i].perceptual_only)
            continue;
        n++;
        cli_print_candidate(stdout, &plan->targets[i]);
        const struct dp_confirmation *d = dp_confirm_get(c, i);
        if (d->decision == DP_CONFIRM_NONE)
            printf("       decision: none yet\n");
        else
            printf("       decision: %s by %s (%s, %s)\n", dp_confirm_decision_name(d->decision),
                   cli_text(d->examiner), d->how, d->time);
    }
    printf("confirm: %zu perceptual-only finding(s); decisions in '%s' (%llu record(s))\n", n,
           cli_text(dp_confirm_path(c)), (unsigned long long)dp_confirm_records(c));
}

int cmd_confirm(int argc, char **argv)
{
    static const struct option own[] = {
        {"finding", required_argument, NULL, OPT_FINDING},
        {"reject", no_argument, NULL, OPT_REJECT},
        {"list", no_argument, NULL, OPT_LIST},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_opts o;
    cli_opts_init(&o, CLI_OPTS_CONSENT);
    int rc = DP_EXIT_ERROR, c;
    bool reject = false, list = false;
    const char **ids = calloc((size_t)argc + 1, sizeof(*ids));
    size_t nids = 0;
    size_t *targets = calloc((size_t)argc + 1, sizeof(*targets));
    struct dp_plan *plan = NULL;
    struct dp_confirmations *conf = NULL;
    char *path_d = NULL;
    struct dp_error err = {0};
    if (ids == NULL || targets == NULL) {
        cli_err("out of memory");
        goto out;
    }
    while ((c = cli_getopt(&o, argc, argv, "h", own)) != -1) {
        switch (c) {
        case OPT_FINDING: ids[nids++] = optarg; break;
        case OPT_REJECT: reject = true; break;
        case OPT_LIST: list = true; break;
        case 'h': confirm_usage(stdout); rc = DP_EXIT_OK; goto out;
        case CLI_GETOPT_REFUSED: goto out;
        default: rc = cli_usage_error(o.cmd, "bad option"); goto out;
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage_error(o.cmd, "exactly one PLAN.json is needed");
        goto out;
    }
    if (o.erase_perceptual) {
        rc = cli_usage_error(o.cmd, "--erase-perceptual is given to 'deprive wipe' or 'run'");
        goto out;
    }
    if (list == (nids > 0)) {
        rc = cli_usage_error(o.cmd, "give --finding ID (one or more) or --list");
        goto out;
    }
    if (!list && o.examiner == NULL) {
        rc = cli_usage_error(o.cmd, "say who decides: --examiner NAME");
        goto out;
    }
    if (!list && !dp_confirm_examiner_ok(o.examiner)) {
        rc = cli_usage_error(o.cmd, "the examiner's name must be 1 to %d bytes of text without "
                                    "control characters", DP_CONFIRM_EXAMINER_MAX);
        goto out;
    }
    const char *plan_file = argv[optind];
    if (dp_plan_load(plan_file, &plan, &err) != DP_OK)
        goto fail;
    /* every id named must be a perceptual-only finding, before anything is recorded */
    for (size_t k = 0; k < nids; k++) {
        size_t i = 0;
        while (i < plan->count && strcmp(plan->targets[i].finding_id, ids[k]) != 0)
            i++;
        if (i == plan->count) {
            cli_err("no finding '%s' in '%s' (ids are F1 to F%zu)", cli_text(ids[k]),
                    cli_text(plan_file), plan->count);
            goto out;
        }
        if (!plan->targets[i].perceptual_only) {
            cli_err("finding %s is an exact match (a digest matched): it needs no decision",
                    ids[k]);
            goto out;
        }
        targets[k] = i;
    }
    const char *path = o.confirmations;
    if (path == NULL && (path = path_d = dp_confirm_default_path(plan_file)) == NULL) {
        cli_err("out of memory");
        goto out;
    }
    uint8_t sha[32];
    char hex[65];
    if (dp_sha256_file(plan_file, sha, &err) != DP_OK)
        goto fail;
    dp_hex_encode(hex, sha, 32);
    if (dp_confirm_open(path, plan, hex, !list, &conf, &err) != DP_OK)
        goto fail;
    if (list) {
        list_decisions(plan, conf);
        rc = DP_EXIT_OK;
        goto out;
    }
    enum dp_confirm_decision d = reject ? DP_CONFIRM_REJECTED : DP_CONFIRM_CONFIRMED;
    for (size_t k = 0; k < nids; k++) {
        if (dp_confirm_record(conf, targets[k], d, o.examiner, "command", &err) != DP_OK)
            goto fail;
        printf("%s %s: %s by %s\n", plan->targets[targets[k]].finding_id,
               cli_location(json_object_get(plan->targets[targets[k]].finding, "location")),
               dp_confirm_decision_name(d), cli_text(o.examiner));
    }
    if (dp_confirm_close(conf, &err) != DP_OK) {
        conf = NULL;
        goto fail;
    }
    conf = NULL;
    cli_info("decisions recorded in '%s'", path);
    rc = DP_EXIT_OK;
    goto out;
fail:
    cli_dp_err(&err);
    rc = DP_EXIT_ERROR;
out:
    dp_confirm_close(conf, NULL);
    dp_plan_free(plan);
    free(path_d);
    free(ids);
    free(targets);
    cli_opts_release(&o);
    return rc;
}
