/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: pieces shared by wipe and run - printing the plan, the wipe's progress and its
 * result. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/util.h"
#include "deprive/wipe.h"

void cli_print_plan(FILE *f, const struct dp_plan *plan)
{
    fprintf(f, "plan: %zu file(s) under %s to erase", plan->count - plan->remnants,
            cli_text(plan->root));
    if (plan->remnants > 0)
        fprintf(f, ", and %zu remnant(s) on %s for a free-space fill", plan->remnants,
                cli_text(json_string_value(json_object_get(plan->sweep, "device"))));
    fputc('\n', f);
    size_t perceptual = 0;
    for (size_t i = 0; i < plan->count; i++) {
        const struct dp_plan_target *t = &plan->targets[i];
        perceptual += t->perceptual_only;
        char where[64];
        if (t->remnant)
            snprintf(where, sizeof(where), "a remnant in %s",
                     cli_text(json_string_value(
                         json_object_get(json_object_get(t->finding, "remnant"), "use"))));
        else
            snprintf(where, sizeof(where), "inode %llu", (unsigned long long)t->id.ino);
        const json_t *member = json_object_get(t->finding, "member");
        fprintf(f, "  %-4s %s (%llu bytes, %s%s)%s\n", t->finding_id,
                cli_location(json_object_get(t->finding, "location")),
                (unsigned long long)t->id.size, where,
                json_is_true(json_object_get(member, "unlisted"))
                    ? "; the member is hidden: not in the zip's central directory"
                    : "",
                t->perceptual_only ? "  PERCEPTUAL ONLY: erased only if an examiner confirms"
                                   : "");
    }
    if (perceptual > 0)
        fprintf(f, "%zu of them matched only perceptually (PDQ): see 'deprive review' and "
                   "'deprive confirm'\n", perceptual);
}

/* -v: one line per step; on a terminal otherwise: one status line rewritten in place. */
static void wipe_progress(void *ctx, const struct dp_wipe_progress *p)
{
    (void)ctx;
    const char *path = p->path ? cli_text(p->path) : "";
    size_t pl = strlen(path);
    const char *tail = pl > 60 ? path + pl - 60 : path;
    while (tail > path && ((unsigned char)*tail & 0xc0) == 0x80)
        tail--; /* from a character's start */
    if (cli_verbose > 0 && p->path != NULL)
        fprintf(stderr, "deprive: [%zu/%zu] %s %s\n", p->target + 1, p->targets, dp_wipe_phase_name(p->phase), path);
    else if (cli_verbose == 0 && p->path != NULL)
        fprintf(stderr, "\r\033[K[%zu/%zu] %-9s %s%s", p->target + 1, p->targets, dp_wipe_phase_name(p->phase),
                tail > path ? "..." : "", tail);
    else if (cli_verbose == 0)
        fprintf(stderr, "\r\033[K[%zu/%zu] filesystem clean-up\n", p->targets, p->targets);
}

/* What a resumed journal held, said before the wipe goes on. */
static void journal_note(void *ctx, const struct dp_wipe_journal_info *info)
{
    (void)ctx;
    if (info->replay.torn_tail)
        cli_info("journal '%s': dropped an incomplete last record (%llu bytes at offset "
                 "%llu) left by the interruption", info->path,
                 (unsigned long long)info->replay.torn_bytes,
                 (unsigned long long)info->replay.torn_offset);
    if (info->afresh)
        cli_info("journal '%s' holds no start record: starting the wipe afresh", info->path);
    if (info->retried > 0)
        cli_info("journal '%s': the wipe had finished with %zu failed target(s): trying them "
                 "again", info->path, info->retried);
}

void cli_wipe_callbacks(struct dp_wipe_opts *opts)
{
    if (cli_verbose > 0 || cli_want_progress())
        opts->progress = wipe_progress;
    opts->journal_note = journal_note;
}

void cli_print_wipe(FILE *f, const json_t *result)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(result, "targets"), i, t) {
        const json_t *names = json_object_get(t, "names");
        const char *reason = json_string_value(json_object_get(t, "reason"));
        fprintf(f, "%-8s %s%s  [%s]%s%s\n",
                cli_text(json_string_value(json_object_get(t, "status"))),
                cli_location(json_object_get(json_array_get(names, 0), "location")),
                json_array_size(names) > 1 ? " (+links)" : "",
                cli_text(json_string_value(json_object_get(t, "assurance"))), reason ? "  " : "",
                reason ? cli_text(reason) : "");
    }
    const json_t *s = json_object_get(result, "summary");
    fprintf(f, "wipe: %lld target(s): %lld erased, %lld skipped, %lld failed",
            (long long)json_integer_value(json_object_get(s, "targets")),
            (long long)json_integer_value(json_object_get(s, "erased")),
            (long long)json_integer_value(json_object_get(s, "skipped")),
            (long long)json_integer_value(json_object_get(s, "failed")));
    json_int_t rejected = json_integer_value(json_object_get(s, "rejected"));
    if (rejected > 0)
        fprintf(f, ", %lld rejected by the examiner", (long long)rejected);
    fputc('\n', f);
    json_array_foreach(json_object_get(result, "residual_risks"), i, t)
        fprintf(f, "residual risk: %s\n", cli_text(json_string_value(t)));
}
