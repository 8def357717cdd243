/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the PDQ reference hasher's CSV ("HEX,QUALITY,NAME", pdq-photo-hasher's output). */
#include "internal.h"

#include <string.h>

#define PDQ_HEX 64 /* 2 * dp_algo_len(DP_ALGO_PDQ) */

/* 64 hex digits, a comma, decimal digits, then a comma or the end of the line. */
static int pdqcsv_bid(const struct list_peek *peek)
{
    const char *s = peek->line;
    size_t n = peek->line_len;
    if (s == NULL || list_hex_run(s, n, 0) != PDQ_HEX || n == PDQ_HEX || s[PDQ_HEX] != ',')
        return LIST_BID_NO;
    size_t q = PDQ_HEX + 1, e = q;
    while (e < n && s[e] >= '0' && s[e] <= '9')
        e++;
    return e > q && (e == n || s[e] == ',') ? LIST_BID_LINE : LIST_BID_NO;
}

/* "HEX,QUALITY,NAME". The name is everything after the second comma (the reference writes it
 * last, unquoted, so it may hold commas); it is not read or kept, and may be empty or absent
 * with its comma ("HEX,QUALITY"), as in a list whose names were removed. */
static enum dp_status pdqcsv_line(struct loader *ld, void *state, const char *s, size_t n)
{
    (void)state;
    char q[48];
    size_t i = list_skip_blank(s, n, 0);
    const char *c1 = memchr(s + i, ',', n - i);
    if (c1 == NULL)
        return list_error(ld, DP_ERR_PARSE, "missing quality (expected 'hash,quality,name')");
    size_t h = i, hl = (size_t)(c1 - s) - i, qs = (size_t)(c1 - s) + 1;
    const char *c2 = memchr(s + qs, ',', n - qs);
    size_t ql = (c2 ? (size_t)(c2 - s) : n) - qs;
    int quality;
    if (ql == 0)
        return list_error(ld, DP_ERR_PARSE, "missing quality (expected 'hash,quality,name')");
    if (!list_parse_quality(s + qs, ql, &quality))
        return list_error(ld, DP_ERR_PARSE, "bad quality '%s' (want 0..%d)",
                          list_show(q, sizeof(q), s + qs, ql), LIST_PDQ_MAX_QUALITY);
    return list_stage_pdq(ld, s + h, hl, quality, -1, 0, "pdq");
}

static enum dp_status pdqcsv_parse(struct loader *ld, const char *buf, size_t len)
{
    return list_each_line(ld, buf, len, pdqcsv_line, NULL);
}

const struct list_format list_fmt_pdqcsv = {
    .name = "pdq-csv",
    .bid = pdqcsv_bid,
    .parse = pdqcsv_parse,
};
