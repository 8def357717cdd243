/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: the confirmations file next to a plan (docs/confirmations.md) - a journal
 * of an examiner's decisions that `deprive wipe`/`run` read to erase perceptual-only findings.
 * The plan is fixed (fuzz/data/confirm-plan.json: two exact and three perceptual-only
 * findings, made by gen_seeds); the input is the confirmations file, written to a file and
 * opened read-only, then for appending with one decision recorded, then read again.
 * Properties: the decision just recorded is the one in force; a decision is never in force
 * for a finding that is not perceptual-only; a refused file is left byte-identical. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include "deprive/confirm.h"
#include "deprive/report.h"
#include "deprive/util.h"

#ifndef FUZZ_DATA_DIR
#error "FUZZ_DATA_DIR (fuzz/data) must be defined by fuzz/meson.build"
#endif

static struct dp_plan *plan;
static char plan_sha[65];
static size_t perceptual = SIZE_MAX; /* the first perceptual-only target */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *path = FUZZ_DATA_DIR "/confirm-plan.json";
    struct dp_error err = {0};
    uint8_t sha[32];
    if (dp_plan_load(path, &plan, &err) != DP_OK || dp_sha256_file(path, sha, &err) != DP_OK) {
        fprintf(stderr, "fuzz_confirm: %s: %s\n", path, err.msg);
        abort();
    }
    dp_hex_encode(plan_sha, sha, 32);
    for (size_t i = 0; i < plan->count && perceptual == SIZE_MAX; i++)
        if (plan->targets[i].perceptual_only)
            perceptual = i;
    if (perceptual == SIZE_MAX)
        abort();
    return 0;
}

static void read_all(const char *p, enum dp_confirm_decision want)
{
    struct dp_confirmations *c = NULL;
    if (dp_confirm_open(p, plan, plan_sha, false, &c, NULL) != DP_OK) {
        if (want != DP_CONFIRM_NONE)
            abort(); /* it was just written */
        return;
    }
    for (size_t i = 0; i < plan->count; i++) {
        const struct dp_confirmation *d = dp_confirm_get(c, i);
        if (d->decision != DP_CONFIRM_NONE && !plan->targets[i].perceptual_only)
            abort();
        (void)dp_confirm_decision_name(d->decision);
    }
    if (want != DP_CONFIRM_NONE && dp_confirm_get(c, perceptual)->decision != want)
        abort();
    char head[DP_JOURNAL_HEX_LEN];
    dp_confirm_head(c, head);
    (void)dp_confirm_records(c);
    (void)dp_confirm_path(c);
    (void)dp_confirm_close(c, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = fz_write("plan.json.confirmations", data, size);
    read_all(p, DP_CONFIRM_NONE);
    struct dp_confirmations *c = NULL;
    if (dp_confirm_open(p, plan, plan_sha, true, &c, NULL) == DP_OK) {
        enum dp_confirm_decision want = size % 2 ? DP_CONFIRM_CONFIRMED : DP_CONFIRM_REJECTED;
        if (dp_confirm_record(c, perceptual, want, "DC Fuzz", "command", NULL) != DP_OK)
            abort();
        if (dp_confirm_close(c, NULL) != DP_OK)
            abort();
        read_all(p, want);
    } else if (!fz_same(p, data, size)) {
        abort(); /* refused: left as it was */
    }
    free(p);
    return 0;
}
