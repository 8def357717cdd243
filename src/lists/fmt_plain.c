/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: plain hash lists - one hex digest per line. */
#include "internal.h"

/* Only hex digits (and blanks after them). */
static int plain_bid(const struct list_peek *peek)
{
    const char *s = peek->line;
    size_t n = peek->line_len;
    if (s == NULL)
        return LIST_BID_NO;
    size_t hl = list_hex_run(s, n, 0);
    return hl > 0 && list_skip_blank(s, n, hl) == n ? LIST_BID_LINE : LIST_BID_NO;
}

/* One hex digest per line; the length gives the algorithm. */
static enum dp_status plain_line(struct loader *ld, void *state, const char *s, size_t n)
{
    (void)state;
    char q[48];
    size_t i = list_skip_blank(s, n, 0);
    size_t hl = list_hex_run(s, n, i);
    size_t j = i + hl, k = list_skip_blank(s, n, j);
    if (k != n && k != j)
        return list_error(ld, DP_ERR_PARSE, "unexpected text after the digest: '%s'",
                          list_show(q, sizeof(q), s + k, n - k));
    if (k != n)
        return list_error(ld, DP_ERR_PARSE, "bad digest: '%s' is not a hex digit",
                          list_show(q, sizeof(q), s + j, 1));
    enum dp_algo algo;
    if (!list_algo_from_hexlen(hl, &algo))
        return list_error(ld, DP_ERR_PARSE, "digest has %zu hex digits (expected 32, 40 or 64)",
                          hl);
    return list_stage_hex(ld, algo, s + i, hl, -1, 0, "digest");
}

static enum dp_status plain_parse(struct loader *ld, const char *buf, size_t len)
{
    return list_each_line(ld, buf, len, plain_line, NULL);
}

const struct list_format list_fmt_plain = {
    .name = "plain",
    .bid = plain_bid,
    .parse = plain_parse,
};
