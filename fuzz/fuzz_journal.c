/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: a wipe journal as `deprive wipe --resume` and `deprive verify --journal`
 * find it - damaged by a crash, or edited. The input is written to a file (the API takes a
 * path) and read three ways: dp_journal_verify_file replaying it into a dp_wipe_state (what
 * --resume learns from it), dp_journal_open (which drops a torn tail and appends), and, when
 * that opened it, one more record appended and the file verified again.
 * Properties: a journal that verifies opens with the same head and count and no torn tail;
 * an opened journal with a record appended verifies, one record longer; a file that is not a
 * journal is left byte-identical by dp_journal_open. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "deprive/journal.h"
#include "deprive/wipe.h"

static void state_facts(const struct dp_wipe_state *ws)
{
    enum dp_wipe_method m;
    (void)dp_wipe_state_plan_file(ws);
    (void)dp_wipe_state_plan_sha256(ws);
    (void)dp_wipe_state_method(ws, &m);
    (void)dp_wipe_state_finished(ws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = fz_write("wipe.journal", data, size);
    char head[DP_JOURNAL_HEX_LEN] = "";
    uint64_t records = 0;
    struct dp_wipe_state *ws = NULL;
    if (dp_wipe_state_new(&ws, NULL) != DP_OK)
        abort();
    struct dp_error err = {0};
    enum dp_status vs = dp_journal_verify_file(p, head, &records, dp_wipe_state_visit, ws, &err);
    if (vs != DP_OK && err.msg[0] == '\0')
        abort();
    state_facts(ws);
    dp_wipe_state_free(ws);

    if (dp_wipe_state_new(&ws, NULL) != DP_OK)
        abort();
    struct dp_journal *j = NULL;
    struct dp_journal_replay info = {0};
    enum dp_status os = dp_journal_open(&j, p, dp_wipe_state_visit, ws, &info, NULL);
    state_facts(ws);
    dp_wipe_state_free(ws);
    if (os == DP_OK) {
        if (vs == DP_OK && (info.torn_tail || info.records != records ||
                            strcmp(info.head, head) != 0))
            abort();
        char h1[DP_JOURNAL_HEX_LEN];
        dp_journal_head(j, h1);
        if (strcmp(h1, info.head) != 0 || dp_journal_seq(j) != info.records)
            abort();
        json_t *d = json_pack("{s:s}", "note", "fuzz");
        enum dp_status as = dp_journal_append(j, "fuzz-note", d, NULL);
        json_decref(d);
        if (dp_journal_close(j, NULL) != DP_OK || as != DP_OK)
            abort();
        uint64_t r2 = 0;
        if (dp_journal_verify_file(p, NULL, &r2, NULL, NULL, &err) != DP_OK ||
            r2 != info.records + 1) {
            fprintf(stderr, "appended journal does not verify: %s\n", err.msg);
            abort();
        }
    } else if (vs == DP_OK) {
        abort(); /* verified read-only, but the resume open refused it */
    } else {
        if (!fz_same(p, data, size)) /* refused: left as it was, torn tail and all */
            abort();
    }
    free(p);
    return 0;
}
