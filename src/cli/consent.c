/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: a person's decision on perceptual-only findings before a wipe - recorded
 * confirmations, questions on the terminal, or blanket consent (--erase-perceptual). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/confirm.h"
#include "deprive/json.h"
#include "deprive/util.h"

void cli_consent_help(FILE *f)
{
    fprintf(f,
            "\nPerceptual-only matches (only a PDQ hash matched) are erased only with a person's\n"
            "decision: recorded with 'deprive confirm', asked here on a terminal, or given for\n"
            "all of them with --erase-perceptual. Rejected ones are never erased.\n"
            "      --confirmations FILE  the decisions (default PLAN.confirmations)\n"
            "      --examiner NAME       who decides (default: the case's officer)\n"
            "      --erase-perceptual    erase every perceptual-only match not rejected\n"
            "                            (recorded as the examiner's blanket consent)\n"
            "      --pdq-threshold N     re-check radius for perceptual-only targets (31)\n"
            "      --no-dihedral         re-check the plain hash only\n"
            "      --max-pixels N, --max-image-bytes SIZE  image limits for the re-check\n");
}

void cli_print_candidate(FILE *f, const struct dp_plan_target *t)
{
    const json_t *best = NULL, *m;
    size_t i;
    json_array_foreach(json_object_get(t->finding, "matched"), i, m) {
        const json_t *d = json_object_get(m, "distance");
        if (json_is_integer(d) &&
            (best == NULL ||
             json_integer_value(d) < json_integer_value(json_object_get(best, "distance"))))
            best = m;
    }
    const json_t *pdq = json_object_get(t->finding, "pdq");
    fprintf(f, "  %-4s %s (%llu bytes)\n", t->finding_id,
            cli_location(json_object_get(t->finding, "location")),
            (unsigned long long)t->id.size);
    if (best == NULL)
        return;
    const char *list = json_string_value(json_object_get(best, "list"));
    const char *label = json_string_value(json_object_get(best, "label"));
    const json_t *tq = json_object_get(best, "target_quality");
    char listed[32] = "unknown";
    if (json_is_integer(tq))
        snprintf(listed, sizeof(listed), "%lld", (long long)json_integer_value(tq));
    fprintf(f, "       PDQ distance %lld (%s) to %s:%lld%s%s%s; quality %lld, listed %s%s\n",
            (long long)json_integer_value(json_object_get(best, "distance")),
            cli_text(json_string_value(json_object_get(best, "variant"))),
            list ? cli_text(list) : "?",
            (long long)json_integer_value(json_object_get(best, "line")), label ? " \"" : "",
            label ? cli_text(label) : "", label ? "\"" : "",
            (long long)json_integer_value(json_object_get(pdq, "quality")), listed,
            json_is_true(json_object_get(pdq, "low_confidence")) ? " (LOW CONFIDENCE)" : "");
}

/* The examiner: --examiner, else the case's officer; NULL when neither. */
static const char *examiner_of(const struct cli_opts *o)
{
    if (o->examiner != NULL)
        return o->examiner;
    const json_t *off = o->case_doc ? json_object_get(json_object_get(o->case_doc, "authority"),
                                                      "officer")
                                    : NULL;
    return json_string_value(json_object_get(off, "name"));
}

static bool undecided(const struct dp_confirmations *c, const struct dp_plan *plan, size_t i)
{
    return plan->targets[i].perceptual_only &&
           (c == NULL || dp_confirm_get(c, i)->decision == DP_CONFIRM_NONE);
}

/* Ask about every undecided perceptual-only finding; answers are recorded as they come. */
static bool ask(struct dp_confirmations *c, const struct dp_plan *plan, const char *examiner)
{
    fprintf(stderr, "\nThese files matched only perceptually (PDQ): a person must decide whether "
                    "each is a copy\nof a listed image. Decisions are recorded in '%s' as %s's.\n",
            cli_text(dp_confirm_path(c)), cli_text(examiner));
    for (size_t i = 0; i < plan->count; i++) {
        if (!undecided(c, plan, i))
            continue;
        cli_print_candidate(stderr, &plan->targets[i]);
        for (;;) {
            fprintf(stderr, "       a copy, to be erased? [y]es / [n]o, not a copy / [l]ater: ");
            fflush(stderr);
            char line[32];
            if (fgets(line, sizeof(line), stdin) == NULL)
                return true; /* end of input: the rest stay undecided */
            enum dp_confirm_decision d = DP_CONFIRM_NONE;
            if (strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0)
                d = DP_CONFIRM_CONFIRMED;
            else if (strcmp(line, "n\n") == 0 || strcmp(line, "no\n") == 0)
                d = DP_CONFIRM_REJECTED;
            else if (strcmp(line, "l\n") != 0 && strcmp(line, "later\n") != 0)
                continue;
            if (d == DP_CONFIRM_NONE)
                break;
            struct dp_error err = {0};
            if (dp_confirm_record(c, i, d, examiner, "interactive", &err) != DP_OK) {
                cli_dp_err(&err);
                return false;
            }
            break;
        }
    }
    return true;
}

bool cli_consent_prepare(struct cli_opts *o, const struct dp_plan *plan, const char *plan_file,
                         struct dp_confirmations **out)
{
    *out = NULL;
    o->wipe.perceptual = &o->scan;
    size_t perceptual = 0;
    for (size_t i = 0; i < plan->count; i++)
        perceptual += plan->targets[i].perceptual_only;
    const char *examiner = examiner_of(o);
    if (examiner != NULL && !dp_confirm_examiner_ok(examiner)) {
        cli_usage_error(o->cmd, "the examiner's name must be 1 to %d bytes of text without "
                                "control characters", DP_CONFIRM_EXAMINER_MAX);
        return false;
    }
    if (o->erase_perceptual && examiner == NULL) {
        cli_usage_error(o->cmd, "--erase-perceptual is the examiner's consent: say who gives "
                                "it (--examiner NAME, or the case's --officer)");
        return false;
    }
    if (perceptual == 0)
        return true;
    char *path_d = o->confirmations ? NULL : dp_confirm_default_path(plan_file);
    const char *path = o->confirmations ? o->confirmations : path_d;
    uint8_t sha[32];
    char hex[65];
    struct dp_error err = {0};
    bool ok = false;
    if (path == NULL || dp_sha256_file(plan_file, sha, &err) != DP_OK)
        goto out;
    dp_hex_encode(hex, sha, 32);
    if (dp_confirm_open(path, plan, hex, false, out, &err) != DP_OK)
        goto out;
    bool questions = !o->yes && !o->wipe.dry_run && !o->erase_perceptual &&
                     isatty(STDIN_FILENO);
    size_t open_ones = 0;
    for (size_t i = 0; i < plan->count; i++)
        open_ones += undecided(*out, plan, i);
    if (questions && open_ones > 0) {
        dp_confirm_close(*out, NULL);
        *out = NULL;
        char name[DP_CONFIRM_EXAMINER_MAX + 2];
        if (examiner == NULL) {
            fprintf(stderr, "examiner's name (recorded with each decision): ");
            fflush(stderr);
            if (fgets(name, sizeof(name), stdin) == NULL)
                goto out_quiet;
            name[strcspn(name, "\n")] = '\0';
            if (!dp_confirm_examiner_ok(name)) {
                cli_err("not a usable name: no decision recorded");
                goto out_quiet;
            }
            examiner = name;
        }
        if (dp_confirm_open(path, plan, hex, true, out, &err) != DP_OK)
            goto out;
        if (!ask(*out, plan, examiner))
            goto out_quiet;
    } else if (open_ones > 0 && !o->erase_perceptual) {
        cli_info("%zu perceptual-only match(es) not decided on: they are left (decide with "
                 "'deprive confirm' or on a terminal)", open_ones);
    }
    o->wipe.confirmations = *out;
    o->wipe.blanket_consent = o->erase_perceptual ? examiner : NULL;
    ok = true;
    goto out_quiet;
out:
    if (err.msg[0] != '\0')
        cli_dp_err(&err);
    else
        cli_err("out of memory");
out_quiet:
    if (!ok) {
        dp_confirm_close(*out, NULL);
        *out = NULL;
    }
    free(path_d);
    return ok;
}

void cli_consent_close(struct dp_confirmations *c)
{
    struct dp_error err = {0};
    if (dp_confirm_close(c, &err) != DP_OK)
        cli_dp_err(&err);
}
