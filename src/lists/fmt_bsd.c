/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: hash lists in the BSD / GNU --tag layout ("ALGO (name) = hex"). */
#include "internal.h"

#include <string.h>

static bool is_tag_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* A word of at most 16 letters, digits and '-' (optionally after a backslash), then " (". */
static int bsd_bid(const struct list_peek *peek)
{
    const char *s = peek->line;
    size_t n = peek->line_len;
    if (s == NULL)
        return LIST_BID_NO;
    size_t k = s[0] == '\\' ? 1 : 0, t = k;
    while (t < n && is_tag_char(s[t]))
        t++;
    if (t > k && t - k <= 16 && n - t >= 2 && s[t] == ' ' && s[t + 1] == '(')
        return LIST_BID_LINE;
    return LIST_BID_NO;
}

static bool bsd_algo(const char *s, size_t n, enum dp_algo *out)
{
    if (list_name_is(s, n, "sha2-256")) {
        *out = DP_ALGO_SHA256;
        return true;
    }
    return dp_algo_parse(s, n, out) && *out != DP_ALGO_PDQ;
}

/* Where the name ends: the last ") = " at or after i, or n when there is none. */
static size_t name_end(const char *s, size_t n, size_t i)
{
    for (size_t j = n; j >= i + 4; j--) {
        if (memcmp(s + j - 4, ") = ", 4) == 0)
            return j - 4;
    }
    return n;
}

/* "ALGO (name) = hex" (GNU --tag, BSD md5/sha256), optionally with a leading backslash. The
 * name may itself hold ") = ", so the last occurrence ends it. */
static enum dp_status bsd_line(struct loader *ld, void *state, const char *s, size_t n)
{
    (void)state;
    char q[48];
    size_t i = list_skip_blank(s, n, 0);
    bool esc = i < n && s[i] == '\\';
    if (esc)
        i++;
    size_t t = i;
    while (i < n && is_tag_char(s[i]))
        i++;
    size_t tl = i - t;
    if (tl == 0 || n - i < 2 || s[i] != ' ' || s[i + 1] != '(')
        return list_error(ld, DP_ERR_PARSE, "expected 'ALGO (name) = digest'");
    enum dp_algo algo;
    if (!bsd_algo(s + t, tl, &algo))
        return list_error(ld, DP_ERR_PARSE, "unsupported algorithm '%s'",
                          list_show(q, sizeof(q), s + t, tl));
    i += 2;
    size_t k = name_end(s, n, i);
    if (k == n)
        return list_error(ld, DP_ERR_PARSE, "expected ') = ' before the digest");
    if (k == i)
        return list_error(ld, DP_ERR_PARSE, "missing file name");
    if (esc) {
        enum dp_status st = list_check_escapes(ld, s + i, k - i);
        if (st != DP_OK)
            return st;
    }
    size_t hx = k + 4, he = n;
    while (he > hx && list_is_blank(s[he - 1]))
        he--;
    return list_stage_hex(ld, algo, s + hx, he - hx, -1, 0, dp_algo_name(algo));
}

static enum dp_status bsd_parse(struct loader *ld, const char *buf, size_t len)
{
    return list_each_line(ld, buf, len, bsd_line, NULL);
}

const struct list_format list_fmt_bsd = {
    .name = "bsd",
    .bid = bsd_bid,
    .parse = bsd_parse,
};
