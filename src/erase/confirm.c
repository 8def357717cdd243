/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the confirmations file - the examiner's decisions on perceptual-only findings, in a
 * journal bound to the plan's SHA-256 (docs/confirmations.md). */
#include "deprive/confirm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "deprive/json.h"
#include "deprive/util.h"

#define BIND_TYPE "confirmations"
#define DECISION_TYPE "decision"

struct dp_confirmations {
    const struct dp_plan *plan;
    char *path;
    char plan_sha256[65];
    struct dp_journal *j;          /* open for appending, or NULL (read only) */
    bool bound;                    /* the binding record was seen */
    uint64_t records;
    char head[DP_JOURNAL_HEX_LEN];
    struct dp_confirmation *by_target; /* plan->count entries */
};

static const char *const decision_names[] = {"none", "confirmed", "rejected"};

const char *dp_confirm_decision_name(enum dp_confirm_decision d)
{
    return (unsigned)d < sizeof(decision_names) / sizeof(decision_names[0]) ? decision_names[d]
                                                                             : "?";
}

char *dp_confirm_default_path(const char *plan_file)
{
    size_t n = strlen(plan_file);
    char *p = malloc(n + sizeof(".confirmations"));
    if (p != NULL)
        snprintf(p, n + sizeof(".confirmations"), "%s.confirmations", plan_file);
    return p;
}

bool dp_confirm_examiner_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > DP_CONFIRM_EXAMINER_MAX || strspn(name, " ") == n)
        return false;
    char *esc = NULL;
    size_t used = 0, cap = 0;
    if (!dp_text_escape_append(&esc, &used, &cap, name, n))
        return false;
    bool same = used == n && memcmp(esc, name, n) == 0; /* nothing needed escaping */
    free(esc);
    return same;
}

/* The plan target a finding id names, or plan->count. */
static size_t target_of(const struct dp_plan *plan, const char *id)
{
    for (size_t i = 0; i < plan->count; i++)
        if (strcmp(plan->targets[i].finding_id, id) == 0)
            return i;
    return plan->count;
}

static enum dp_status visit(void *ctx, uint64_t seq, const char *type, json_t *data,
                            struct dp_error *err)
{
    struct dp_confirmations *c = ctx;
    if (seq == 0) {
        const char *sha = json_string_value(json_object_get(data, "plan_sha256"));
        if (strcmp(type, BIND_TYPE) != 0 || sha == NULL)
            return dp_error_set(err, DP_ERR_PARSE, 0, "not a confirmations file");
        if (strcmp(sha, c->plan_sha256) != 0)
            return dp_error_set(err, DP_ERR_INVALID, 0,
                                "it belongs to another plan (plan SHA-256 %.64s, this plan %s)",
                                sha, c->plan_sha256);
        c->bound = true;
        return DP_OK;
    }
    if (strcmp(type, DECISION_TYPE) != 0)
        return dp_error_set(err, DP_ERR_PARSE, 0, "unknown record type '%.32s'", type);
    const char *id = json_string_value(json_object_get(data, "finding"));
    const char *dec = json_string_value(json_object_get(data, "decision"));
    const char *who = json_string_value(json_object_get(data, "examiner"));
    const char *how = json_string_value(json_object_get(data, "how"));
    const char *at = json_string_value(json_object_get(data, "at"));
    size_t k = id ? target_of(c->plan, id) : c->plan->count;
    if (k == c->plan->count || !c->plan->targets[k].perceptual_only)
        return dp_error_set(err, DP_ERR_PARSE, 0,
                            "a decision on '%.32s', which is not a perceptual-only finding of "
                            "the plan", id ? id : "?");
    enum dp_confirm_decision d = DP_CONFIRM_NONE;
    if (dec != NULL && strcmp(dec, "confirmed") == 0)
        d = DP_CONFIRM_CONFIRMED;
    else if (dec != NULL && strcmp(dec, "rejected") == 0)
        d = DP_CONFIRM_REJECTED;
    if (d == DP_CONFIRM_NONE || who == NULL || !dp_confirm_examiner_ok(who) || how == NULL ||
        at == NULL)
        return dp_error_set(err, DP_ERR_PARSE, 0, "malformed decision on %s", id);
    struct dp_confirmation *cf = &c->by_target[k];
    cf->decision = d;
    cf->seq = seq;
    snprintf(cf->examiner, sizeof(cf->examiner), "%s", who);
    snprintf(cf->how, sizeof(cf->how), "%s", how);
    snprintf(cf->time, sizeof(cf->time), "%s", at);
    return DP_OK;
}

/* The binding record: the first of every confirmations file. */
static enum dp_status bind(struct dp_confirmations *c, struct dp_error *err)
{
    json_t *data = json_pack("{s:s, s:s, s:I}", "plan_sha256", c->plan_sha256, "plan_root",
                             c->plan->root, "findings", (json_int_t)c->plan->count);
    if (data == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    enum dp_status st = dp_journal_append(c->j, BIND_TYPE, data, err);
    json_decref(data);
    c->bound = st == DP_OK;
    return st;
}

enum dp_status dp_confirm_open(const char *path, const struct dp_plan *plan,
                               const char *plan_sha256, bool write,
                               struct dp_confirmations **out, struct dp_error *err)
{
    struct dp_confirmations *c = calloc(1, sizeof(*c));
    if (c == NULL || strlen(plan_sha256) != 64)
        return free(c), dp_error_set(err, c ? DP_ERR_INVALID : DP_ERR_NOMEM, 0,
                                     c ? "bad plan SHA-256" : "out of memory");
    c->plan = plan;
    c->path = strdup(path);
    c->by_target = calloc(plan->count ? plan->count : 1, sizeof(*c->by_target));
    snprintf(c->plan_sha256, sizeof(c->plan_sha256), "%s", plan_sha256);
    memset(c->head, '0', 64);
    enum dp_status st = DP_OK;
    if (c->path == NULL || c->by_target == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    struct stat sb;
    bool exists = lstat(path, &sb) == 0;
    if (!exists && errno != ENOENT) {
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot stat '%s'", path);
        goto out;
    }
    if (!exists && !write)
        goto out; /* no decisions yet */
    if (!exists) {
        st = dp_journal_create(&c->j, path, err);
        if (st == DP_OK)
            st = bind(c, err);
    } else if (write) {
        struct dp_journal_replay info;
        st = dp_journal_open(&c->j, path, visit, c, &info, err);
    } else {
        st = dp_journal_verify_file(path, c->head, &c->records, visit, c, err);
    }
    /* an empty file or a torn first record: nothing was decided; bind it when writing */
    if (st == DP_OK && !c->bound && c->j != NULL)
        st = bind(c, err);
out:
    if (st != DP_OK) {
        dp_error_prefix(err, "confirmations file '%s': ", path);
        dp_journal_free(c->j);
        c->j = NULL;
        dp_confirm_close(c, NULL);
        return st;
    }
    if (c->j != NULL) {
        dp_journal_head(c->j, c->head);
        c->records = dp_journal_seq(c->j);
    }
    *out = c;
    return DP_OK;
}

enum dp_status dp_confirm_record(struct dp_confirmations *c, size_t index,
                                 enum dp_confirm_decision decision, const char *examiner,
                                 const char *how, struct dp_error *err)
{
    if (c->j == NULL)
        return dp_error_set(err, DP_ERR_INVALID, 0, "the confirmations file is open read-only");
    if (index >= c->plan->count || !c->plan->targets[index].perceptual_only)
        return dp_error_set(err, DP_ERR_INVALID, 0, "not a perceptual-only finding");
    if (decision != DP_CONFIRM_CONFIRMED && decision != DP_CONFIRM_REJECTED)
        return dp_error_set(err, DP_ERR_INVALID, 0, "no decision");
    if (!dp_confirm_examiner_ok(examiner))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "the examiner's name must be 1 to %d bytes of text without control "
                            "characters", DP_CONFIRM_EXAMINER_MAX);
    const struct dp_plan_target *t = &c->plan->targets[index];
    json_t *best = NULL;
    const json_t *m;
    size_t i;
    json_array_foreach(json_object_get(t->finding, "matched"), i, m) {
        const json_t *d = json_object_get(m, "distance");
        if (json_is_integer(d) &&
            (best == NULL || json_integer_value(d) < json_integer_value(best)))
            best = (json_t *)d;
    }
    char at[32];
    dp_utc_format(at, sizeof(at), time(NULL));
    json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:O?}", "finding", t->finding_id,
                             "decision", dp_confirm_decision_name(decision), "examiner",
                             examiner, "how", how, "at", at, "location",
                             json_object_get(t->finding, "location"), "pdq_distance", best);
    if (data == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    enum dp_status st = dp_journal_append(c->j, DECISION_TYPE, data, err);
    json_decref(data);
    if (st != DP_OK)
        return st;
    struct dp_confirmation *cf = &c->by_target[index];
    cf->decision = decision;
    cf->seq = dp_journal_seq(c->j) - 1;
    snprintf(cf->examiner, sizeof(cf->examiner), "%s", examiner);
    snprintf(cf->how, sizeof(cf->how), "%s", how);
    snprintf(cf->time, sizeof(cf->time), "%s", at);
    dp_journal_head(c->j, c->head);
    c->records = dp_journal_seq(c->j);
    return DP_OK;
}

const struct dp_confirmation *dp_confirm_get(const struct dp_confirmations *c, size_t index)
{
    static const struct dp_confirmation none = {.decision = DP_CONFIRM_NONE};
    return index < c->plan->count ? &c->by_target[index] : &none;
}

const char *dp_confirm_path(const struct dp_confirmations *c)
{
    return c->path;
}

uint64_t dp_confirm_records(const struct dp_confirmations *c)
{
    return c->records;
}

void dp_confirm_head(const struct dp_confirmations *c, char hex[DP_JOURNAL_HEX_LEN])
{
    memcpy(hex, c->head, DP_JOURNAL_HEX_LEN);
}

enum dp_status dp_confirm_close(struct dp_confirmations *c, struct dp_error *err)
{
    if (c == NULL)
        return DP_OK;
    enum dp_status st = DP_OK;
    if (c->j != NULL)
        st = dp_journal_close(c->j, err);
    free(c->by_target);
    free(c->path);
    free(c);
    return st;
}
