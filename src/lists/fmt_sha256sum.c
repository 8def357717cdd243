/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: hash lists as sha256sum, sha1sum and md5sum print them ("<hex>  name"). */
#include "internal.h"

/* "<hex>", optionally after a backslash, then a blank and more. */
static int sum_bid(const struct list_peek *peek)
{
    const char *s = peek->line;
    size_t n = peek->line_len;
    if (s == NULL)
        return LIST_BID_NO;
    size_t k = s[0] == '\\' ? 1 : 0;
    size_t hl = list_hex_run(s, n, k);
    return hl > 0 && k + hl < n && list_is_blank(s[k + hl]) ? LIST_BID_LINE : LIST_BID_NO;
}

/* coreutils: "<hex>  name", "<hex> *name" or BSD -r "<hex> name"; a leading backslash means
 * the name uses \\ \n \r escapes. The name itself is not kept. */
static enum dp_status sum_line(struct loader *ld, void *state, const char *s, size_t n)
{
    (void)state;
    char q[48];
    size_t i = list_skip_blank(s, n, 0);
    bool esc = i < n && s[i] == '\\';
    if (esc)
        i++;
    size_t h = i, hl = list_hex_run(s, n, i);
    i += hl;
    if (i < n && !list_is_blank(s[i]))
        return list_error(ld, DP_ERR_PARSE, "bad digest: '%s' is not a hex digit",
                          list_show(q, sizeof(q), s + i, 1));
    enum dp_algo algo;
    if (!list_algo_from_hexlen(hl, &algo))
        return list_error(ld, DP_ERR_PARSE, "digest has %zu hex digits (expected 32, 40 or 64)",
                          hl);
    if (i < n)
        i++; /* the separating blank */
    if (i < n && (s[i] == ' ' || s[i] == '*'))
        i++; /* text or binary marker */
    if (i >= n)
        return list_error(ld, DP_ERR_PARSE, "missing file name after the digest");
    if (esc) {
        enum dp_status st = list_check_escapes(ld, s + i, n - i);
        if (st != DP_OK)
            return st;
    }
    return list_stage_hex(ld, algo, s + h, hl, -1, 0, "digest");
}

static enum dp_status sum_parse(struct loader *ld, const char *buf, size_t len)
{
    return list_each_line(ld, buf, len, sum_line, NULL);
}

const struct list_format list_fmt_sha256sum = {
    .name = "sha256sum",
    .bid = sum_bid,
    .parse = sum_parse,
};
