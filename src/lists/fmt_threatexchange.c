/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: ThreatExchange text lines ("pdq HEX", "video_md5 HEX"), as `threatexchange hash`
 * prints them. */
#include "internal.h"

/* The signal types read, by their ThreatExchange names. */
static bool te_type(const char *s, size_t n, enum dp_algo *out)
{
    if (list_name_is(s, n, "pdq")) {
        *out = DP_ALGO_PDQ;
        return true;
    }
    if (list_name_is(s, n, "video_md5")) {
        *out = DP_ALGO_MD5;
        return true;
    }
    return false;
}

/* Length of the token (a run of non-blank bytes) at s[i]. */
static size_t token_len(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && !list_is_blank(s[j]))
        j++;
    return j - i;
}

/* A known signal type, blanks, then hex digits up to a blank or the end of the line (so
 * "PDQ (name) = hex", a BSD line, is not claimed). */
static int te_bid(const struct list_peek *peek)
{
    const char *s = peek->line;
    size_t n = peek->line_len;
    enum dp_algo a;
    if (s == NULL)
        return LIST_BID_NO;
    size_t tl = token_len(s, n, 0);
    if (!te_type(s, tl, &a) || tl == n || !list_is_blank(s[tl]))
        return LIST_BID_NO;
    size_t h = list_skip_blank(s, n, tl), hl = list_hex_run(s, n, h);
    return hl > 0 && (h + hl == n || list_is_blank(s[h + hl])) ? LIST_BID_LINE : LIST_BID_NO;
}

/* "TYPE HEX [anything]": the rest of the line after the hash is not read (tools append a
 * file name, tags or a distance; none of it is kept). */
static enum dp_status te_line(struct loader *ld, void *state, const char *s, size_t n)
{
    (void)state;
    char q[48];
    size_t i = list_skip_blank(s, n, 0), tl = token_len(s, n, i);
    enum dp_algo a;
    if (!te_type(s + i, tl, &a))
        return list_error(ld, DP_ERR_PARSE, "unsupported signal type '%s' (want pdq or video_md5)",
                          list_show(q, sizeof(q), s + i, tl));
    size_t h = list_skip_blank(s, n, i + tl), hl = token_len(s, n, h);
    if (hl == 0)
        return list_error(ld, DP_ERR_PARSE, "missing hash after '%s'",
                          list_show(q, sizeof(q), s + i, tl));
    if (a == DP_ALGO_PDQ)
        return list_stage_pdq(ld, s + h, hl, -1, -1, 0, "pdq");
    return list_stage_hex(ld, a, s + h, hl, -1, 0, "video_md5");
}

static enum dp_status te_parse(struct loader *ld, const char *buf, size_t len)
{
    return list_each_line(ld, buf, len, te_line, NULL);
}

const struct list_format list_fmt_threatexchange = {
    .name = "threatexchange",
    .bid = te_bid,
    .parse = te_parse,
};
