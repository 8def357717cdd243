/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: StopNCII hash-exchange JSON - records with signalType and hashValue, as an array or
 * under one array-valued member (FetchHashes' "hashRecords"). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

/* Members of a top-level object that may hold the records (any case; exactly one present). */
static const char *const array_keys[] = {"hashRecords", "hashes", "records", "data", "items", NULL};

static bool is_array_key(const char *s, size_t n)
{
    for (size_t i = 0; array_keys[i] != NULL; i++)
        if (list_name_is(s, n, array_keys[i]))
            return true;
    return false;
}

/* ---- detection: a byte walk over the top-level members' names, no parse ------------------- */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

/* Just past the JSON string opening at s[i]; 0 when it is not closed. */
static size_t string_end(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* The object at s[i] == '{': ours when a member is named like a records array and none is
 * "value" (that is VICS). Stops at "value", which VICS exports put first or second. */
static int object_bid(const char *s, size_t n, size_t i)
{
    bool records = false;
    size_t depth = 0; /* a list may be 4 GiB of '{' */
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t e = string_end(s, n, i);
            if (e == 0)
                break; /* not closed */
            size_t k = skip_ws(s, n, e);
            if (depth == 1 && k < n && s[k] == ':') {
                if (e - i - 2 == 5 && memcmp(s + i + 1, "value", 5) == 0)
                    return LIST_BID_NO;
                records |= is_array_key(s + i + 1, e - i - 2);
            }
            i = e;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth <= 1)
                break;
            depth--;
        }
        i++;
    }
    return records ? LIST_BID_MARK : LIST_BID_NO;
}

/* An array whose first element is an object (or an empty array), or an object as above. */
static int stopncii_bid(const struct list_peek *peek)
{
    const char *s = peek->buf;
    size_t n = peek->len, i = skip_ws(s, n, 0);
    if (i < n && s[i] == '[') {
        size_t j = skip_ws(s, n, i + 1);
        return j < n && (s[j] == '{' || s[j] == ']') ? LIST_BID_MARK : LIST_BID_NO;
    }
    return i < n && s[i] == '{' ? object_bid(s, n, i) : LIST_BID_NO;
}

/* ---- records ------------------------------------------------------------------------------ */

/* What one record says. */
struct rec {
    bool used;      /* a signal type deprive matches */
    bool withdrawn; /* hashStatus Withdrawn or Deleted */
    enum dp_algo algo;
    uint8_t digest[DP_DIGEST_MAX];
};

/* A withdrawn hash and the last record (1-based index) withdrawing it. */
struct gone {
    uint8_t algo;
    uint8_t digest[DP_DIGEST_MAX];
    uint32_t index;
};

/* The member called name in any case; two members that differ only in case are an error. */
static enum dp_status field(struct loader *ld, json_t *obj, const char *name, json_t **out)
{
    const char *key;
    json_t *val;
    *out = NULL;
    json_object_foreach(obj, key, val)
    {
        if (strcasecmp(key, name) != 0)
            continue;
        if (*out != NULL)
            return list_error(ld, DP_ERR_PARSE, "%s given twice (names differ only in case)", name);
        *out = val;
    }
    if (*out != NULL && json_is_null(*out))
        *out = NULL;
    return DP_OK;
}

static enum dp_status string_field(struct loader *ld, json_t *obj, const char *name, json_t **out)
{
    enum dp_status st = field(ld, obj, name, out);
    if (st == DP_OK && *out != NULL && !json_is_string(*out))
        st = list_error(ld, DP_ERR_PARSE, "%s is not a string", name);
    return st;
}

/* ImagePDQ and VideoMD5 (any case) are read; every other signal type is counted as unused. */
static bool signal_algo(json_t *type, enum dp_algo *out)
{
    const char *t = json_string_value(type);
    size_t n = json_string_length(type);
    if (list_name_is(t, n, "ImagePDQ")) {
        *out = DP_ALGO_PDQ;
        return true;
    }
    if (list_name_is(t, n, "VideoMD5")) {
        *out = DP_ALGO_MD5;
        return true;
    }
    return false;
}

/* Check one record (ld->line is its index) and decode its hash. */
static enum dp_status read_record(struct loader *ld, json_t *obj, struct rec *r)
{
    memset(r, 0, sizeof(*r));
    if (!json_is_object(obj))
        return list_error(ld, DP_ERR_PARSE, "record is not a JSON object");
    json_t *type, *value, *status;
    enum dp_status st = string_field(ld, obj, "signalType", &type);
    if (st != DP_OK)
        return st;
    if (type == NULL)
        return list_error(ld, DP_ERR_PARSE, "record has no signalType");
    if (!signal_algo(type, &r->algo))
        return DP_OK; /* unused: its other fields are not read */
    r->used = true;
    st = string_field(ld, obj, "hashValue", &value);
    if (st == DP_OK)
        st = string_field(ld, obj, "hashStatus", &status);
    if (st != DP_OK)
        return st;
    if (value == NULL)
        return list_error(ld, DP_ERR_PARSE, "record has no hashValue");
    const char *hex = json_string_value(value);
    size_t hl = json_string_length(value), len = dp_algo_len(r->algo);
    if (!list_hex_decode(r->digest, len, hex, hl)) {
        char b[64];
        return list_error(ld, DP_ERR_PARSE, "hashValue is not %zu hex digits: '%s'", 2 * len,
                          list_show(b, sizeof(b), hex, hl));
    }
    if (status != NULL) {
        const char *s = json_string_value(status);
        r->withdrawn = strcasecmp(s, "Withdrawn") == 0 || strcasecmp(s, "Deleted") == 0;
    }
    return DP_OK;
}

static int gone_cmp(const void *x, const void *y)
{
    const struct gone *a = x, *b = y;
    if (a->algo != b->algo)
        return a->algo < b->algo ? -1 : 1;
    return memcmp(a->digest, b->digest, DP_DIGEST_MAX);
}

/* Sorted by hash, each hash once with the last index withdrawing it. */
static int gone_sort_cmp(const void *x, const void *y)
{
    int c = gone_cmp(x, y);
    if (c != 0)
        return c;
    const struct gone *a = x, *b = y;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* First pass: every record checked (errors come in document order), the withdrawn hashes
 * collected, sorted and made unique. */
static enum dp_status collect_withdrawn(struct loader *ld, json_t *arr, struct gone **out,
                                        size_t *nout)
{
    struct gone *g = NULL;
    size_t n = 0, cap = 0, i;
    json_t *obj;
    enum dp_status st = DP_OK;
    ld->line = 0;
    json_array_foreach(arr, i, obj)
    {
        struct rec r;
        if (ld->line == UINT32_MAX) {
            st = list_error(ld, DP_ERR_LIMIT, "too many records");
            break;
        }
        ld->line++;
        st = read_record(ld, obj, &r);
        if (st != DP_OK)
            break;
        if (!r.used || !r.withdrawn)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct gone *ng = realloc(g, ncap * sizeof(*ng));
            if (ng == NULL) {
                st = list_nomem(ld);
                break;
            }
            g = ng;
            cap = ncap;
        }
        g[n].algo = (uint8_t)r.algo;
        memcpy(g[n].digest, r.digest, DP_DIGEST_MAX);
        g[n++].index = ld->line;
    }
    if (st != DP_OK) {
        free(g);
        return st;
    }
    if (n > 0)
        qsort(g, n, sizeof(*g), gone_sort_cmp);
    size_t u = 0;
    for (size_t k = 0; k < n; k++) {
        if (u > 0 && gone_cmp(&g[u - 1], &g[k]) == 0)
            g[u - 1].index = g[k].index; /* sorted by index within a hash: the last wins */
        else
            g[u++] = g[k];
    }
    *out = g;
    *nout = u;
    return DP_OK;
}

/* Is this record's hash withdrawn by a later record? */
static bool superseded(const struct gone *g, size_t n, const struct rec *r, uint32_t index)
{
    struct gone key = {.algo = (uint8_t)r->algo};
    memcpy(key.digest, r->digest, DP_DIGEST_MAX);
    const struct gone *hit = n ? bsearch(&key, g, n, sizeof(*g), gone_cmp) : NULL;
    return hit != NULL && hit->index > index;
}

/* Second pass: stage what is in use and not withdrawn; count the rest. */
static enum dp_status stage_records(struct loader *ld, json_t *arr, const struct gone *g, size_t n)
{
    size_t i;
    json_t *obj;
    ld->line = 0;
    json_array_foreach(arr, i, obj)
    {
        struct rec r;
        ld->line++;
        enum dp_status st = read_record(ld, obj, &r);
        if (st != DP_OK)
            return st;
        if (!r.used)
            ld->unused++;
        else if (r.withdrawn || superseded(g, n, &r, ld->line))
            ld->withdrawn++;
        else if ((st = list_stage(ld, r.algo, r.digest, -1, 0, -1)) != DP_OK)
            return st;
    }
    return DP_OK;
}

/* The records: the document itself, or the one array-valued member named in array_keys. */
static enum dp_status records_of(struct loader *ld, json_t *root, json_t **out)
{
    char q1[48], q2[48];
    const char *key, *fkey = NULL;
    json_t *val;
    *out = NULL;
    if (json_is_array(root)) {
        *out = root;
        return DP_OK;
    }
    if (!json_is_object(root))
        return dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s: not an array of records", ld->name);
    json_object_foreach(root, key, val)
    {
        if (!is_array_key(key, strlen(key)))
            continue;
        if (*out != NULL)
            return dp_error_set(ld->err, DP_ERR_PARSE, 0,
                                "%s: more than one records array ('%s' and '%s')", ld->name,
                                list_show(q1, sizeof(q1), fkey, strlen(fkey)),
                                list_show(q2, sizeof(q2), key, strlen(key)));
        *out = val;
        fkey = key;
    }
    if (*out == NULL)
        return dp_error_set(ld->err, DP_ERR_PARSE, 0,
                            "%s: no records array (hashRecords, hashes, records, data or items)",
                            ld->name);
    if (!json_is_array(*out))
        return dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s: '%s' is not an array", ld->name,
                            list_show(q1, sizeof(q1), fkey, strlen(fkey)));
    return DP_OK;
}

static enum dp_status stopncii_parse(struct loader *ld, const char *buf, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je), *arr;
    if (root == NULL)
        return dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s:%d: invalid JSON: %s", ld->name, je.line,
                            je.text);
    struct gone *g = NULL;
    size_t ng = 0;
    enum dp_status st = records_of(ld, root, &arr);
    if (st == DP_OK)
        st = collect_withdrawn(ld, arr, &g, &ng);
    if (st == DP_OK)
        st = stage_records(ld, arr, g, ng);
    if (st == DP_OK && ld->staged == 0 && ld->unused + ld->withdrawn > 0)
        st = dp_error_set(ld->err, DP_ERR_INVALID, 0,
                          "%s: no hashes in the list (records not loaded: %zu of unused "
                          "signal types, %zu withdrawn)",
                          ld->name, ld->unused, ld->withdrawn);
    free(g);
    json_decref(root);
    return st;
}

const struct list_format list_fmt_stopncii = {
    .name = "stopncii",
    .bid = stopncii_bid,
    .parse = stopncii_parse,
};
