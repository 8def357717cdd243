/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: Project VIC / VICS JSON exports (OData, flat or with nested "Media" arrays). */
#include "internal.h"

#include <strings.h>

#include <jansson.h>

/* A JSON object: the first byte that is not white space is '{'. */
static int vics_bid(const struct list_peek *peek)
{
    size_t i = 0;
    while (i < peek->len &&
           (list_is_blank(peek->buf[i]) || peek->buf[i] == '\r' || peek->buf[i] == '\n'))
        i++;
    return i < peek->len && peek->buf[i] == '{' ? LIST_BID_MARK : LIST_BID_NO;
}

/* Case-insensitive field lookup; VICS exports differ in capitalisation. */
static json_t *get_ci(json_t *obj, const char *name)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (strcasecmp(key, name) == 0)
            return val;
    }
    return NULL;
}

static bool has_hash_field(json_t *obj)
{
    return get_ci(obj, "MD5") != NULL || get_ci(obj, "SHA1") != NULL ||
           get_ci(obj, "SHA256") != NULL;
}

static enum dp_status vics_size(struct loader *ld, json_t *v, int64_t *size)
{
    *size = -1;
    if (v == NULL || json_is_null(v))
        return DP_OK;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *size = (int64_t)json_integer_value(v);
        return DP_OK;
    }
    if (json_is_string(v) && list_parse_size(json_string_value(v), json_string_length(v), size))
        return DP_OK;
    return list_error(ld, DP_ERR_PARSE, "MediaSize is not a non-negative integer");
}

/* One media object; ld->line is its 1-based index in document order. */
static enum dp_status vics_media(struct loader *ld, json_t *obj)
{
    static const char *const fields[DP_ALGO_EXACT_COUNT] = {"MD5", "SHA1", "SHA256"};
    if (ld->line == UINT32_MAX)
        return list_error(ld, DP_ERR_LIMIT, "too many media objects");
    ld->line++;
    if (!json_is_object(obj))
        return list_error(ld, DP_ERR_PARSE, "media object is not a JSON object");
    int64_t size;
    enum dp_status st = vics_size(ld, get_ci(obj, "MediaSize"), &size);
    if (st != DP_OK)
        return st;
    bool any = false;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++) {
        json_t *v = get_ci(obj, fields[a]);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v))
            return list_error(ld, DP_ERR_PARSE, "%s is not a string", fields[a]);
        if (json_string_length(v) == 0)
            continue;
        st = list_stage_hex(ld, (enum dp_algo)a, json_string_value(v), json_string_length(v), size,
                            0, fields[a]);
        if (st != DP_OK)
            return st;
        any = true;
    }
    if (!any)
        return list_error(ld, DP_ERR_PARSE, "media object has no MD5, SHA1 or SHA256");
    return DP_OK;
}

/* One item of "value": a media object, a holder of a "Media" array, or both (item first). */
static enum dp_status vics_item(struct loader *ld, size_t idx, json_t *item)
{
    json_t *media = json_is_object(item) ? get_ci(item, "Media") : NULL;
    if (media == NULL || has_hash_field(item)) {
        enum dp_status st = vics_media(ld, item);
        if (st != DP_OK)
            return st;
    }
    if (media == NULL)
        return DP_OK;
    if (!json_is_array(media))
        return dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s: value[%zu].Media is not an array",
                            ld->name, idx);
    size_t j;
    json_t *m;
    json_array_foreach(media, j, m)
    {
        enum dp_status st = vics_media(ld, m);
        if (st != DP_OK)
            return st;
    }
    return DP_OK;
}

/* {"value": [media, ...]} or {"value": [{"Media": [media, ...]}, ...]} (both may mix). */
static enum dp_status vics_parse(struct loader *ld, const char *buf, size_t len)
{
    json_error_t je;
    enum dp_status st = DP_OK;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s:%d: invalid JSON: %s", ld->name, je.line,
                            je.text);
    json_t *value = json_is_object(root) ? json_object_get(root, "value") : NULL;
    if (!json_is_array(value)) {
        st = dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s: no \"value\" array (not a VICS document)",
                          ld->name);
        goto out;
    }
    ld->line = 0;
    size_t idx;
    json_t *item;
    json_array_foreach(value, idx, item)
    {
        st = vics_item(ld, idx, item);
        if (st != DP_OK)
            goto out;
    }
out:
    json_decref(root);
    return st;
}

const struct list_format list_fmt_vics = {
    .name = "vics",
    .bid = vics_bid,
    .parse = vics_parse,
};
