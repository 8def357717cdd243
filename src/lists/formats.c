/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the table of hash-list formats and detection - which format a list is in. */
#include "internal.h"

/* The order bidders are asked, which breaks ties: a plain hex line also has the shape of a
 * sha256sum line ("<hex>" then blanks), and plain comes first; a JSON object is VICS unless
 * StopNCII, asked first, recognises its records array. */
const struct list_format *const list_formats[] = {
    &list_fmt_stopncii,
    &list_fmt_vics,
    &list_fmt_hashdeep,
    &list_fmt_deprive,
    &list_fmt_plain,
    &list_fmt_sha256sum,
    &list_fmt_bsd,
    &list_fmt_threatexchange,
    &list_fmt_pdqcsv,
    NULL,
};

/* The highest bid, the earlier row on a tie; NULL when no format bids. */
static const struct list_format *choose(const struct list_peek *peek)
{
    const struct list_format *best = NULL;
    int top = LIST_BID_NO;
    for (size_t i = 0; list_formats[i] != NULL; i++) {
        int bid = list_formats[i]->bid(peek);
        if (bid > top) {
            top = bid;
            best = list_formats[i];
        }
    }
    return best;
}

/* Line 1 for the first look, unless it is over the line limit (then the second look reports
 * that, as for any line before the first meaningful one). */
static void peek_head(struct list_peek *peek)
{
    if (peek->len == 0)
        return;
    size_t n;
    list_next_line(peek->buf, peek->buf + peek->len, &n);
    if (n > LIST_MAX_LINE)
        return;
    if (n > 0 && peek->buf[n - 1] == '\r')
        n--;
    peek->head = peek->buf;
    peek->head_len = n;
}

/* Walk to the first line that is neither blank nor a comment, within the line limits. */
static enum dp_status peek_line(struct loader *ld, struct list_peek *peek)
{
    const char *p = peek->buf, *end = peek->buf + peek->len;
    ld->line = 0;
    while (p < end) {
        const char *s;
        size_t n;
        enum dp_status st = list_step(ld, &p, end, &s, &n);
        if (st != DP_OK)
            return st;
        size_t j = list_content(s, n);
        if (j < n) {
            peek->line = s + j;
            peek->line_len = n - j;
            return DP_OK;
        }
    }
    return dp_error_set(ld->err, DP_ERR_INVALID, 0, "%s: no hashes in the list", ld->name);
}

enum dp_status list_detect(struct loader *ld, const char *buf, size_t len,
                           const struct list_format **out)
{
    struct list_peek peek = {.buf = buf, .len = len};
    peek_head(&peek);
    *out = choose(&peek); /* first look: does the document say what it is? */
    if (*out != NULL)
        return DP_OK;
    enum dp_status st = peek_line(ld, &peek);
    if (st != DP_OK)
        return st;
    *out = choose(&peek); /* second look: the first meaningful line decides */
    if (*out != NULL)
        return DP_OK;
    char q[48];
    return list_error(ld, DP_ERR_PARSE, "not a recognised hash list line: '%s'",
                      list_show(q, sizeof(q), peek.line, peek.line_len));
}
