/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: JSON helpers shared by every stage - lossless byte strings, location text,
 * deterministic and atomic writing, bounded loading. */
#include "deprive/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "deprive/util.h"

json_t *dp_json_bytes(const char *p, size_t n)
{
    /* jansson refuses invalid UTF-8, which is exactly the test we need */
    json_t *s = json_stringn(p, n);
    if (s != NULL)
        return s;
    size_t cap = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(cap);
    if (b == NULL)
        return NULL;
    sodium_bin2base64(b, cap, (const unsigned char *)p, n, sodium_base64_VARIANT_ORIGINAL);
    json_t *o = json_pack("{s:s}", "base64", b);
    free(b);
    return o;
}

bool dp_json_bytes_get(const json_t *v, char **out, size_t *len)
{
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (memchr(s, '\0', n) != NULL)
            return false;
        *out = strndup(s, n);
        *len = n;
        return *out != NULL;
    }
    const json_t *b = json_object_get(v, "base64");
    if (!json_is_object(v) || json_object_size(v) != 1 || !json_is_string(b))
        return false;
    size_t bl = json_string_length(b);
    char *buf = malloc(bl + 1);
    size_t n = 0;
    if (buf == NULL ||
        sodium_base642bin((unsigned char *)buf, bl, json_string_value(b), bl, NULL, &n, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        memchr(buf, '\0', n) != NULL) {
        free(buf);
        return false;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return true;
}

json_t *dp_json_ranges(const uint64_t (*ranges)[2], size_t n)
{
    if (n == 1)
        return json_pack("{s:I, s:I}", "offset", (json_int_t)ranges[0][0], "length",
                         (json_int_t)ranges[0][1]);
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_pack("[I, I]", (json_int_t)ranges[i][0],
                                           (json_int_t)ranges[i][1]));
    return a ? json_pack("{s:o}", "ranges", a) : NULL;
}

static bool range_ok(const json_t *o, const json_t *l, uint64_t r[2])
{
    if (!json_is_integer(o) || !json_is_integer(l) || json_integer_value(o) < 0 ||
        json_integer_value(l) <= 0 || json_integer_value(o) > INT64_MAX - json_integer_value(l))
        return false;
    r[0] = (uint64_t)json_integer_value(o);
    r[1] = (uint64_t)json_integer_value(l);
    return true;
}

static int cmp_start(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

bool dp_json_ranges_get(const json_t *v, uint64_t (**out)[2], size_t *n)
{
    const json_t *arr = json_object_get(v, "ranges");
    size_t k = json_is_array(arr) ? json_array_size(arr) : 1;
    if (!json_is_object(v) || k == 0 || k > DP_JSON_RANGES_MAX ||
        json_object_size(v) != (arr != NULL ? 1u : 2u))
        return false;
    uint64_t(*r)[2] = calloc(k, sizeof(*r));
    uint64_t(*sorted)[2] = calloc(k, sizeof(*sorted));
    bool ok = r != NULL && sorted != NULL;
    if (ok && arr == NULL)
        ok = range_ok(json_object_get(v, "offset"), json_object_get(v, "length"), r[0]);
    for (size_t i = 0; ok && arr != NULL && i < k; i++) {
        const json_t *e = json_array_get(arr, i);
        ok = json_is_array(e) && json_array_size(e) == 2 &&
             range_ok(json_array_get(e, 0), json_array_get(e, 1), r[i]);
    }
    if (ok) { /* no two pieces overlap */
        memcpy(sorted, r, k * sizeof(*r));
        qsort(sorted, k, sizeof(*sorted), cmp_start);
        for (size_t i = 1; ok && i < k; i++)
            ok = sorted[i - 1][0] + sorted[i - 1][1] <= sorted[i][0];
    }
    free(sorted);
    if (!ok) {
        free(r);
        return false;
    }
    *out = r;
    *n = k;
    return true;
}

char *dp_json_location_text(const json_t *location)
{
    size_t used = 0, cap = 64;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    if (!json_is_array(location) || json_array_size(location) == 0)
        return dp_text_escape_append(&out, &used, &cap, "?", 1) ? out : (free(out), NULL);
    size_t i;
    const json_t *el;
    json_array_foreach(location, i, el)
    {
        bool ok = i == 0 || dp_text_escape_append(&out, &used, &cap, " -> ", 4);
        uint64_t(*rg)[2] = NULL;
        size_t nr = 0;
        const json_t *dev = json_is_object(el) ? json_object_get(el, "device") : NULL;
        dev = dev == NULL && json_is_object(el) ? json_object_get(el, "image") : dev;
        if (json_is_string(el)) {
            ok = ok && dp_text_escape_append(&out, &used, &cap, json_string_value(el), json_string_length(el));
        } else if (i == 0 && json_is_string(dev)) { /* a sweep's match: "device /dev/sdb1" */
            const char *what = json_object_get(el, "device") != NULL ? "device " : "image ";
            ok = ok && dp_text_escape_append(&out, &used, &cap, what, strlen(what)) &&
                 dp_text_escape_append(&out, &used, &cap, json_string_value(dev),
                                       json_string_length(dev));
        } else if (i > 0 && dp_json_ranges_get(el, &rg, &nr)) {
            /* "bytes A-B", or the first piece and how many more */
            char r[160];
            uint64_t total = 0;
            for (size_t k = 0; k < nr; k++)
                total += rg[k][1];
            int k = snprintf(r, sizeof(r), "bytes %llu-%llu", (unsigned long long)rg[0][0],
                             (unsigned long long)(rg[0][0] + rg[0][1] - 1));
            if (nr > 1)
                k += snprintf(r + k, sizeof(r) - (size_t)k, " and %zu more pieces (%llu bytes)",
                              nr - 1, (unsigned long long)total);
            free(rg);
            ok = ok && dp_text_escape_append(&out, &used, &cap, r, (size_t)k);
        } else {
            char *raw = NULL, *q = NULL;
            size_t n = 0;
            if (dp_json_bytes_get(el, &raw, &n))
                q = dp_quote_bytes(raw, n);
            /* q is already escaped; its backslashes must stay single */
            size_t ql = q ? strlen(q) : 1;
            if (ok && used + ql + 1 > cap) {
                char *nb = realloc(out, cap = used + ql + 64);
                ok = nb != NULL;
                out = nb ? nb : out;
            }
            if (ok) {
                memcpy(out + used, q ? q : "?", ql + 1);
                used += ql;
            }
            free(raw);
            free(q);
        }
        if (!ok) {
            free(out);
            return NULL;
        }
    }
    return out;
}

char *dp_json_dump(const json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (t == NULL) {
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

enum dp_status dp_json_write_file(const json_t *doc, const char *path, struct dp_error *err)
{
    char *s = dp_json_dump(doc);
    if (s == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "cannot serialize JSON");
    enum dp_status st = dp_write_file_atomic(path, s, strlen(s), 0644, err);
    free(s);
    return st;
}

enum dp_status dp_json_load_file(const char *path, size_t max, json_t **out,
                                 struct dp_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    enum dp_status st = dp_read_file(path, max, &buf, &len, err);
    if (st != DP_OK)
        return st;
    json_error_t je;
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    free(buf);
    if (doc == NULL)
        return dp_error_set(err, DP_ERR_PARSE, 0, "%s:%d: %s", path, je.line, je.text);
    *out = doc;
    return DP_OK;
}
