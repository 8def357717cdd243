/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: deprive's own list format ("md5:HEX sha256:HEX pdq:HEX:QUALITY size:N label=TEXT"),
 * as `deprive hash` writes it. */
#include "internal.h"

#include <inttypes.h>
#include <string.h>

#define HEADER "# deprive-hashes"
#define HEADER_LEN (sizeof(HEADER) - 1)

static bool is_header(const char *s, size_t n)
{
    return n >= HEADER_LEN && memcmp(s, HEADER, HEADER_LEN) == 0;
}

/* The first token is "label=..." or "<size or algorithm>:...". */
static bool looks_deprive(const char *s, size_t n)
{
    size_t t = 0;
    while (t < n && !list_is_blank(s[t]))
        t++;
    if (t >= 6 && memcmp(s, "label=", 6) == 0)
        return true;
    const char *colon = memchr(s, ':', t);
    if (colon == NULL)
        return false;
    size_t pl = (size_t)(colon - s);
    enum dp_algo a;
    return list_name_is(s, pl, "size") || dp_algo_parse(s, pl, &a);
}

/* Line 1 "# deprive-hashes" announces the format (whatever the version: the parse checks
 * it); otherwise the first meaningful line's first token decides. */
static int deprive_bid(const struct list_peek *peek)
{
    if (peek->head != NULL && is_header(peek->head, peek->head_len))
        return LIST_BID_MARK;
    if (peek->line != NULL && looks_deprive(peek->line, peek->line_len))
        return LIST_BID_LINE;
    return LIST_BID_NO;
}

/* What one line says about its file. */
struct line_tokens {
    const char *hex[DP_ALGO_COUNT];
    size_t hexlen[DP_ALGO_COUNT];
    unsigned seen; /* 1 << algo for each algorithm given */
    bool have_size;
    int64_t size;
    int quality; /* pdq's, -1 when not given */
};

/* "pdq:HEX" or "pdq:HEX:QUALITY": value is what follows "pdq:". Only PDQ carries a quality, so
 * for the other algorithms a second colon stays part of the hex and fails there. */
static enum dp_status pdq_value(struct loader *ld, struct line_tokens *dl, const char *v, size_t vl)
{
    const char *colon = memchr(v, ':', vl);
    if (colon == NULL)
        return DP_OK;
    size_t hl = (size_t)(colon - v), ql = vl - hl - 1;
    if (!list_parse_quality(colon + 1, ql, &dl->quality)) {
        char q[48];
        return list_error(ld, DP_ERR_PARSE, "bad pdq quality '%s' (want 0..%d)",
                          list_show(q, sizeof(q), colon + 1, ql), LIST_PDQ_MAX_QUALITY);
    }
    dl->hexlen[DP_ALGO_PDQ] = hl;
    return DP_OK;
}

/* One "name:value" token other than a label. */
static enum dp_status deprive_token(struct loader *ld, struct line_tokens *dl, const char *tok,
                                    size_t tl)
{
    char q[48];
    const char *colon = memchr(tok, ':', tl);
    size_t pl = colon ? (size_t)(colon - tok) : 0;
    enum dp_algo a;
    if (colon != NULL && list_name_is(tok, pl, "size")) {
        if (dl->have_size)
            return list_error(ld, DP_ERR_PARSE, "size given twice");
        if (!list_parse_size(colon + 1, tl - pl - 1, &dl->size))
            return list_error(ld, DP_ERR_PARSE, "bad size '%s' (want 0..%" PRId64 ")",
                              list_show(q, sizeof(q), colon + 1, tl - pl - 1), INT64_MAX);
        dl->have_size = true;
    } else if (colon != NULL && dp_algo_parse(tok, pl, &a)) {
        if (dl->seen & (1u << a))
            return list_error(ld, DP_ERR_PARSE, "%s given twice", dp_algo_name(a));
        dl->seen |= 1u << a;
        dl->hex[a] = colon + 1;
        dl->hexlen[a] = tl - pl - 1;
        if (a == DP_ALGO_PDQ)
            return pdq_value(ld, dl, dl->hex[a], dl->hexlen[a]);
    } else {
        return list_error(ld, DP_ERR_PARSE, "unknown token '%s'", list_show(q, sizeof(q), tok, tl));
    }
    return DP_OK;
}

/* "md5:HEX sha1:HEX sha256:HEX pdq:HEX[:QUALITY] size:N label=TEXT"; the label runs to the
 * end. */
static enum dp_status deprive_line(struct loader *ld, void *state, const char *s, size_t n)
{
    (void)state;
    struct line_tokens dl = {.size = -1, .quality = -1};
    const char *label = NULL;
    size_t labellen = 0, i = 0;
    for (;;) {
        i = list_skip_blank(s, n, i);
        if (i >= n)
            break;
        size_t t = i;
        while (i < n && !list_is_blank(s[i]))
            i++;
        if (i - t >= 6 && memcmp(s + t, "label=", 6) == 0) {
            label = s + t + 6;
            labellen = n - t - 6;
            break;
        }
        enum dp_status st = deprive_token(ld, &dl, s + t, i - t);
        if (st != DP_OK)
            return st;
    }
    if (dl.seen == 0)
        return list_error(ld, DP_ERR_PARSE, "no hash on the line");
    uint32_t lh = 0;
    enum dp_status st = list_add_label(ld, label, labellen, &lh);
    for (int a = 0; a < DP_ALGO_COUNT && st == DP_OK; a++) {
        if (!(dl.seen & (1u << a)))
            continue;
        if (a == DP_ALGO_PDQ)
            st = list_stage_pdq(ld, dl.hex[a], dl.hexlen[a], dl.quality, dl.size, lh, "pdq");
        else
            st = list_stage_hex(ld, (enum dp_algo)a, dl.hex[a], dl.hexlen[a], dl.size, lh,
                                dp_algo_name((enum dp_algo)a));
    }
    return st;
}

/* "# deprive-hashes 1" on line 1: another version is an error. */
static enum dp_status check_header(struct loader *ld, const char *buf, size_t len)
{
    size_t n;
    list_next_line(buf, buf + len, &n);
    if (n > LIST_MAX_LINE)
        return DP_OK; /* the line walk reports it */
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    if (!is_header(buf, n))
        return DP_OK;
    size_t v = list_skip_blank(buf, n, HEADER_LEN), ve = n;
    while (ve > v && list_is_blank(buf[ve - 1]))
        ve--;
    if (ve - v == 1 && buf[v] == '1')
        return DP_OK;
    char q[48];
    ld->line = 1;
    return list_error(ld, DP_ERR_PARSE, "unsupported deprive-hashes version '%s'",
                      list_show(q, sizeof(q), buf + v, ve - v));
}

static enum dp_status deprive_parse(struct loader *ld, const char *buf, size_t len)
{
    enum dp_status st = check_header(ld, buf, len);
    if (st != DP_OK)
        return st;
    return list_each_line(ld, buf, len, deprive_line, NULL);
}

const struct list_format list_fmt_deprive = {
    .name = "deprive",
    .bid = deprive_bid,
    .parse = deprive_parse,
};
