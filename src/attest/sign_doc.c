/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the signatures deprive makes - one trusted comment builder and one way to sign a
 * file's bytes with it (sign.h). sign.c stays minisign's format; this file is deprive's
 * convention on top of it, used for certificates (cert_sign.c) and audit reports alike. */
#include "deprive/sign.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "deprive/util.h"

/* The fields every comment has; extra fields may not reuse them. */
static const char *const fixed_keys[] = {"timestamp", "file", "sha256", "keyid"};

/* name cleaned as sign.h says: base name, printable ASCII only, at most DP_SIGN_NAME_MAX. */
static void clean_name(char out[DP_SIGN_NAME_MAX + 1], const char *name)
{
    const char *slash = strrchr(name, '/');
    const char *p = slash ? slash + 1 : name;
    size_t n = 0;
    for (; *p != '\0' && n < DP_SIGN_NAME_MAX; p++) {
        unsigned char ch = (unsigned char)*p;
        out[n++] = ch >= 0x20 && ch <= 0x7e ? (char)ch : '?';
    }
    out[n] = '\0';
}

static bool key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > DP_SIGN_FIELD_KEY_MAX || !(key[0] >= 'a' && key[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    for (size_t i = 0; i < sizeof(fixed_keys) / sizeof(fixed_keys[0]); i++)
        if (strcmp(key, fixed_keys[i]) == 0)
            return false;
    return true;
}

static bool value_ok(const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || n > DP_SIGN_FIELD_VALUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
            return false;
    return true;
}

/* Extra field i: a good key not used before it, a good value. */
static enum dp_status check_extra(const struct dp_sign_field *extra, size_t i, struct dp_error *err)
{
    const char *key = extra[i].key, *value = extra[i].value;
    if (key == NULL || value == NULL)
        dp_misuse("dp_sign_trusted_comment: extra field without key or value");
    if (!key_ok(key))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "trusted comment: field name '%.40s' is not allowed", key);
    for (size_t j = 0; j < i; j++)
        if (strcmp(extra[j].key, key) == 0)
            return dp_error_set(err, DP_ERR_INVALID, 0, "trusted comment: field '%s' repeated",
                                key);
    if (!value_ok(value))
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "trusted comment: field '%s' must be 1 to %d printable ASCII "
                            "characters",
                            key, DP_SIGN_FIELD_VALUE_MAX);
    return DP_OK;
}

/* Append "<sep><key>:<value>" at buf + *used; false when it does not fit. */
static bool append_field(char *buf, size_t size, size_t *used, const char *key, const char *value)
{
    int w = snprintf(buf + *used, size - *used, "%s%s:%s", *used ? "\t" : "", key, value);
    if (w < 0 || (size_t)w >= size - *used)
        return false;
    *used += (size_t)w;
    return true;
}

enum dp_status dp_sign_trusted_comment(char *buf, size_t size, const char *name,
                                       const uint8_t sha256[32], const char *keyid,
                                       const struct dp_sign_field *extra, size_t n_extra,
                                       struct dp_error *err)
{
    if (size > 0)
        buf[0] = '\0';
    if (extra == NULL && n_extra > 0)
        dp_misuse("dp_sign_trusted_comment: NULL extra fields");
    char kid[DP_SIGN_KEYID_HEX_SIZE], hex[65], when[24], clean[DP_SIGN_NAME_MAX + 1];
    if (!dp_sign_keyid_parse(kid, keyid))
        return dp_error_set(err, DP_ERR_INVALID, 0, "key id must be 16 hex digits");
    for (size_t i = 0; i < n_extra; i++) {
        enum dp_status st = check_extra(extra, i, err);
        if (st != DP_OK)
            return st;
    }
    clean_name(clean, name);
    dp_hex_encode(hex, sha256, 32);
    snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
    /* never longer than minisign can read back, whatever buffer the caller has */
    size_t room = size < DP_SIGN_TRUSTED_COMMENT_MAX + 1 ? size : DP_SIGN_TRUSTED_COMMENT_MAX + 1;
    size_t used = 0;
    bool fits = room > 0 && append_field(buf, room, &used, "timestamp", when) &&
                append_field(buf, room, &used, "file", clean) &&
                append_field(buf, room, &used, "sha256", hex) &&
                append_field(buf, room, &used, "keyid", kid);
    for (size_t i = 0; fits && i < n_extra; i++)
        fits = append_field(buf, room, &used, extra[i].key, extra[i].value);
    if (!fits) {
        if (size > 0)
            buf[0] = '\0';
        if (room < size)
            return dp_error_set(err, DP_ERR_LIMIT, 0, "trusted comment longer than %d bytes",
                                DP_SIGN_TRUSTED_COMMENT_MAX);
        return dp_error_set(err, DP_ERR_LIMIT, 0, "trusted comment buffer too small");
    }
    return DP_OK;
}

enum dp_status dp_sign_document(char **sig_out, const struct dp_sign_seckey *sk, const void *data,
                                size_t len, const char *name, const struct dp_sign_field *extra,
                                size_t n_extra, const char *comment, struct dp_error *err)
{
    if (data == NULL && len != 0)
        dp_misuse("dp_sign_document: NULL data");
    uint8_t sha[32];
    char kid[DP_SIGN_KEYID_HEX_SIZE], tc[DP_SIGN_TRUSTED_COMMENT_MAX + 1];
    dp_sha256_buf(sha, data != NULL ? data : "", len);
    dp_sign_seckey_keyid(sk, kid);
    enum dp_status st =
        dp_sign_trusted_comment(tc, sizeof(tc), name, sha, kid, extra, n_extra, err);
    if (st != DP_OK)
        return st;
    return dp_sign_sign(sig_out, sk, data, len, tc, comment, err);
}
