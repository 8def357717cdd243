/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: pieces shared by wipe and run - case-detail flags, confirmation, the journaled
 * wipe itself. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/journal.h"
#include "deprive/report.h"
#include "deprive/util.h"
#include "deprive/wipe.h"

#define CASE_OPT_BASE 1000

size_t cli_case_options(struct option *out, size_t max)
{
    size_t n = 0, count = 0;
    const struct dp_cert_case_field *f = dp_cert_case_fields(&count);
    if (max > 0)
        out[n++] = (struct option){"case", required_argument, NULL, CASE_OPT_BASE - 1};
    for (size_t i = 0; i < count && n < max; i++)
        out[n++] = (struct option){f[i].flag, required_argument, NULL, CASE_OPT_BASE + (int)i};
    return n;
}

/* A help text indented by 10 columns, wrapped at 80. */
static void help_wrapped(FILE *f, const char *text, const char *tail)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s%s", text, tail);
    const char *p = buf;
    while (*p != '\0') {
        size_t n = strlen(p);
        if (n > 70) {
            n = 70;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = strcspn(p, " ");
        }
        fprintf(f, "          %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

void cli_case_help(FILE *f, bool all_required)
{
    size_t count = 0;
    const struct dp_cert_case_field *fl = dp_cert_case_fields(&count);
    fprintf(f, "\nCase details (from --case CASE.json, overridden by flags):\n"
               "      --case FILE            case file (docs/certificate.md)\n");
    for (size_t i = 0; i < count; i++) {
        fprintf(f, "      --%s VALUE\n", fl[i].flag);
        help_wrapped(f, fl[i].help, fl[i].required && all_required ? " (required)" : "");
    }
}

bool cli_case_option(int c, const char *arg, struct cli_case *cs)
{
    size_t count = 0;
    const struct dp_cert_case_field *f = dp_cert_case_fields(&count);
    struct dp_error err = {0};
    if (c == CASE_OPT_BASE - 1) {
        cs->file = arg;
        return true;
    }
    if (c < CASE_OPT_BASE || (size_t)(c - CASE_OPT_BASE) >= count)
        return false;
    if (cs->flags == NULL && dp_cert_case_new(&cs->flags, &err) != DP_OK)
        goto fail;
    if (dp_cert_case_set(cs->flags, f[c - CASE_OPT_BASE].path, arg, &err) != DP_OK)
        goto fail;
    return true;
fail:
    cli_dp_err(&err);
    cs->bad = true;
    return true;
}

json_t *cli_case_build(struct cli_case *cs, bool require_complete)
{
    struct dp_error err = {0};
    json_t *doc = NULL;
    if (cs->bad)
        return NULL;
    if (cs->file != NULL) {
        if (dp_cert_case_from_file(&doc, cs->file, &err) != DP_OK)
            goto fail;
    } else if (dp_cert_case_new(&doc, &err) != DP_OK) {
        goto fail;
    }
    if (cs->flags != NULL)
        json_object_update_recursive(doc, cs->flags);
    if (require_complete && dp_cert_case_validate(doc, &err) != DP_OK)
        goto fail;
    return doc;
fail:
    cli_dp_err(&err);
    json_decref(doc);
    return NULL;
}

void cli_case_release(struct cli_case *cs)
{
    json_decref(cs->flags);
    cs->flags = NULL;
}

bool cli_confirm_possible(bool yes)
{
    if (yes || isatty(STDIN_FILENO))
        return true;
    cli_err("refusing to erase without confirmation: no terminal; pass --yes");
    return false;
}

bool cli_confirm(const char *question, bool yes)
{
    if (yes)
        return true;
    if (!cli_confirm_possible(yes))
        return false;
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[16];
    if (fgets(line, sizeof(line), stdin) == NULL)
        return false;
    return strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0;
}

void cli_print_plan(FILE *f, const struct dp_plan *plan)
{
    fprintf(f, "plan: %zu file(s) under %s to erase\n", plan->count, plan->root);
    for (size_t i = 0; i < plan->count; i++) {
        char *loc = dp_json_location_text(json_object_get(plan->targets[i].finding, "location"));
        fprintf(f, "  %s (%llu bytes, inode %llu)\n", loc ? loc : "?",
                (unsigned long long)plan->targets[i].id.size,
                (unsigned long long)plan->targets[i].id.ino);
        free(loc);
    }
}

/* -v: one line per step; on a terminal otherwise: one status line rewritten in place. */
static void wipe_progress(void *ctx, const struct dp_wipe_progress *p)
{
    (void)ctx;
    char *q = p->path ? dp_quote_bytes(p->path, strlen(p->path)) : NULL;
    const char *path = q ? q : "";
    size_t pl = strlen(path);
    if (cli_verbose > 0 && p->path != NULL)
        fprintf(stderr, "deprive: [%zu/%zu] %s %s\n", p->target + 1, p->targets, dp_wipe_phase_name(p->phase), path);
    else if (cli_verbose == 0 && p->path != NULL)
        fprintf(stderr, "\r\033[K[%zu/%zu] %-9s %s%s", p->target + 1, p->targets, dp_wipe_phase_name(p->phase),
                pl > 60 ? "..." : "", pl > 60 ? path + pl - 60 : path);
    else if (cli_verbose == 0)
        fprintf(stderr, "\r\033[K[%zu/%zu] filesystem clean-up\n", p->targets, p->targets);
    free(q);
}

bool cli_wipe_preflight(const char *root, const char *journal_path,
                        const struct dp_wipe_opts *opts)
{
    struct dp_error err = {0}, again = {0};
    if (dp_wipe_preflight(root, journal_path, opts, &err) == DP_OK)
        return true;
    /* refused only for the journal's place: say how to allow it */
    struct dp_wipe_opts allow = *opts;
    allow.journal_on_device = true;
    bool place = !opts->journal_on_device && journal_path != NULL &&
                 dp_wipe_preflight(root, journal_path, &allow, &again) == DP_OK;
    cli_err("%s%s", err.msg, place ? "; put it elsewhere or pass --journal-on-same-fs" : "");
    return false;
}

int cli_run_wipe(const struct dp_plan *plan, const char *plan_file, const char *journal_path,
                 bool resume, const struct dp_wipe_opts *opts_in, json_t **result)
{
    struct dp_error err = {0};
    struct dp_wipe_opts opts = *opts_in;
    struct dp_journal *j = NULL;
    struct dp_wipe_state *state = NULL;
    int rc = DP_EXIT_ERROR;
    opts.plan_file = plan_file;
    if (cli_verbose > 0 || cli_want_progress())
        opts.progress = wipe_progress;
    if (!opts.dry_run && resume) {
        struct dp_journal_replay info = {0};
        if (dp_wipe_state_new(&state, &err) != DP_OK ||
            dp_journal_open(&j, journal_path, dp_wipe_state_visit, state, &info, &err) != DP_OK)
            goto fail;
        if (info.torn_tail)
            cli_info("journal '%s': dropped an incomplete last record (%llu bytes at offset "
                     "%llu) left by the interruption", journal_path,
                     (unsigned long long)info.torn_bytes, (unsigned long long)info.torn_offset);
        if (dp_wipe_state_plan_sha256(state) == NULL) {
            /* interrupted before its first record was durable: nothing was done yet */
            cli_info("journal '%s' holds no start record: starting the wipe afresh",
                     journal_path);
            dp_wipe_state_free(state);
            state = NULL;
        }
    } else if (!opts.dry_run && dp_journal_create(&j, journal_path, &err) != DP_OK) {
        if (err.sys_errno == EEXIST)
            dp_error_prefix(&err, "a wipe of this plan was started before (continue it with "
                                  "--resume): ");
        goto fail;
    }
    if (dp_wipe_run(plan, j, &opts, state, result, &err) != DP_OK)
        goto fail;
    if (j != NULL) {
        json_t *jo = json_object_get(*result, "journal");
        json_object_set_new(jo, "file", json_string(journal_path));
        struct dp_journal *jj = j;
        j = NULL;
        if (dp_journal_close(jj, &err) != DP_OK)
            goto fail;
    }
    rc = DP_EXIT_OK;
    goto out;
fail:
    cli_dp_err(&err);
out:
    dp_journal_free(j);
    dp_wipe_state_free(state);
    return rc;
}

void cli_print_wipe(FILE *f, const json_t *result)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(result, "targets"), i, t) {
        const json_t *names = json_object_get(t, "names");
        char *loc = dp_json_location_text(json_object_get(json_array_get(names, 0), "location"));
        const char *reason = json_string_value(json_object_get(t, "reason"));
        fprintf(f, "%-8s %s%s  [%s]%s%s\n", json_string_value(json_object_get(t, "status")),
                loc ? loc : "?", json_array_size(names) > 1 ? " (+links)" : "",
                json_string_value(json_object_get(t, "assurance")), reason ? "  " : "",
                reason ? reason : "");
        free(loc);
    }
    const json_t *s = json_object_get(result, "summary");
    fprintf(f, "wipe: %lld target(s): %lld erased, %lld skipped, %lld failed\n",
            (long long)json_integer_value(json_object_get(s, "targets")),
            (long long)json_integer_value(json_object_get(s, "erased")),
            (long long)json_integer_value(json_object_get(s, "skipped")),
            (long long)json_integer_value(json_object_get(s, "failed")));
    json_array_foreach(json_object_get(result, "residual_risks"), i, t)
        fprintf(f, "residual risk: %s\n", json_string_value(t));
}

bool cli_media_class(const json_t *case_doc, const struct cli_case *cs, struct dp_wipe_opts *opts)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(case_doc, "exhibit"), "media_class"));
    if (v == NULL)
        return true;
    if (!dp_media_class_parse(v, &opts->media_class)) { /* validated when the case was built */
        cli_err("exhibit.media_class: '%s' is not one of hdd, ssd, flash, unknown", v);
        return false;
    }
    bool flag = json_object_get(json_object_get(cs->flags, "exhibit"), "media_class") != NULL;
    opts->media_class_source = flag ? "stated by the examiner (--media-class)"
                                    : "stated by the examiner (case file exhibit.media_class)";
    return true;
}
