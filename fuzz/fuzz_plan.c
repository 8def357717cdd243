/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: a scan report read back as the wipe plan - what `deprive wipe PLAN.json`
 * and `deprive confirm` trust only after dp_plan_from_report has checked it. The JSON parse is
 * included (jansson, with the flags dp_json_load_file uses); then the plan, every finding's
 * location as shown to people, and every skip's reason. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "deprive/json.h"
#include "deprive/report.h"

static void show_locations(const json_t *arr)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) {
        char *t = dp_json_location_text(json_object_get(v, "location"));
        free(t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (doc == NULL)
        return 0;
    struct dp_plan *plan = NULL;
    struct dp_error err = {0};
    enum dp_status st = dp_plan_from_report(doc, &plan, &err);
    if (st == DP_OK) {
        for (size_t i = 0; i < plan->count; i++) {
            const struct dp_plan_target *t = &plan->targets[i];
            if (t->path == NULL || t->finding == NULL || t->finding_id[0] != 'F')
                abort();
            char id[24];
            dp_plan_finding_id(i, id, sizeof(id));
            if (strcmp(id, t->finding_id) != 0) /* ids are the findings' order */
                abort();
        }
        if (plan->root == NULL || plan->root[0] != '/')
            abort();
        dp_plan_free(plan);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    show_locations(json_object_get(doc, "findings"));
    size_t i;
    const json_t *skip;
    json_array_foreach(json_object_get(doc, "skips"), i, skip) {
        free(dp_report_skip_detail(skip));
        free(dp_json_location_text(json_object_get(skip, "location")));
    }
    json_decref(doc);
    return 0;
}
