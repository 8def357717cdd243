/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: hashdeep output ("%%%% HASHDEEP-1.0", a column line, CSV data lines). */
#include "internal.h"

#include <inttypes.h>
#include <string.h>
#include <strings.h>

#define HD_MAX_COLS 32 /* most columns in a hashdeep header */

enum hd_col { HD_SKIP, HD_SIZE, HD_MD5, HD_SHA1, HD_SHA256, HD_FILENAME };

/* The header seen so far; a new "%%%% HASHDEEP-1.0" starts a new block. */
struct hd_state {
    bool magic;
    size_t ncols;
    uint8_t cols[HD_MAX_COLS]; /* enum hd_col */
};

static int hashdeep_bid(const struct list_peek *peek)
{
    const char *s = peek->line;
    if (s != NULL && peek->line_len >= 4 && memcmp(s, "%%%%", 4) == 0)
        return LIST_BID_LINE;
    return LIST_BID_NO;
}

static enum hd_col hd_col_of(const char *s, size_t n)
{
    if (list_name_is(s, n, "size"))
        return HD_SIZE;
    if (list_name_is(s, n, "md5"))
        return HD_MD5;
    if (list_name_is(s, n, "sha1"))
        return HD_SHA1;
    if (list_name_is(s, n, "sha256"))
        return HD_SHA256;
    if (list_name_is(s, n, "filename"))
        return HD_FILENAME;
    return HD_SKIP; /* tiger, whirlpool, anything newer */
}

/* "size,md5,...,filename": the columns of the data lines that follow. */
static enum dp_status hd_columns(struct loader *ld, struct hd_state *hd, const char *s, size_t n)
{
    char q[48];
    size_t ncols = 0, i = 0;
    unsigned seen = 0, hashes = 0;
    for (;;) {
        const char *comma = memchr(s + i, ',', n - i);
        size_t e = comma ? (size_t)(comma - s) : n;
        if (e == i)
            return list_error(ld, DP_ERR_PARSE, "empty column name in hashdeep header");
        if (ncols == HD_MAX_COLS)
            return list_error(ld, DP_ERR_PARSE, "more than %d columns in hashdeep header",
                              HD_MAX_COLS);
        enum hd_col c = hd_col_of(s + i, e - i);
        if (c != HD_SKIP && (seen & (1u << c)))
            return list_error(ld, DP_ERR_PARSE, "column '%s' given twice",
                              list_show(q, sizeof(q), s + i, e - i));
        seen |= 1u << c;
        if (c == HD_MD5 || c == HD_SHA1 || c == HD_SHA256)
            hashes++;
        hd->cols[ncols++] = (uint8_t)c;
        if (comma == NULL)
            break;
        i = e + 1;
    }
    if ((seen & (1u << HD_FILENAME)) && hd->cols[ncols - 1] != HD_FILENAME)
        return list_error(ld, DP_ERR_PARSE, "filename must be the last hashdeep column");
    if (hashes == 0)
        return list_error(ld, DP_ERR_PARSE, "no md5, sha1 or sha256 column in hashdeep header");
    hd->ncols = ncols;
    return DP_OK;
}

/* "%%%% HASHDEEP-1.0" or "%%%% size,md5,...,filename" (s is the text after "%%%% "). */
static enum dp_status hd_header(struct loader *ld, struct hd_state *hd, const char *s, size_t n)
{
    char q[48];
    if (list_name_is(s, n, "HASHDEEP-1.0")) {
        hd->magic = true;
        hd->ncols = 0;
        return DP_OK;
    }
    if (n >= 9 && strncasecmp(s, "HASHDEEP-", 9) == 0)
        return list_error(ld, DP_ERR_PARSE, "unsupported hashdeep version '%s'",
                          list_show(q, sizeof(q), s, n));
    if (!hd->magic)
        return list_error(ld, DP_ERR_PARSE, "column header before '%%%%%%%% HASHDEEP-1.0'");
    return hd_columns(ld, hd, s, n);
}

/* Split a data line at commas: the last column takes the rest of the line. */
static enum dp_status hd_fields(struct loader *ld, const struct hd_state *hd, const char *s,
                                size_t n, const char **f, size_t *fl)
{
    size_t ncols = hd->ncols, i = 0;
    for (size_t c = 0; c < ncols; c++) {
        f[c] = s + i;
        if (c + 1 == ncols) {
            fl[c] = n - i;
            if (hd->cols[c] != HD_FILENAME && memchr(f[c], ',', fl[c]) != NULL)
                return list_error(ld, DP_ERR_PARSE, "too many fields (expected %zu)", ncols);
            break;
        }
        const char *comma = memchr(s + i, ',', n - i);
        if (comma == NULL)
            return list_error(ld, DP_ERR_PARSE, "too few fields (expected %zu)", ncols);
        fl[c] = (size_t)(comma - f[c]);
        i = (size_t)(comma - s) + 1;
    }
    return DP_OK;
}

static enum dp_status hd_data(struct loader *ld, const struct hd_state *hd, const char *s, size_t n)
{
    const char *f[HD_MAX_COLS];
    size_t fl[HD_MAX_COLS];
    char q[48];
    if (hd->ncols == 0)
        return list_error(ld, DP_ERR_PARSE, "data line before the hashdeep column header");
    enum dp_status st = hd_fields(ld, hd, s, n, f, fl);
    if (st != DP_OK)
        return st;
    int64_t size = -1;
    for (size_t c = 0; c < hd->ncols; c++) {
        if (hd->cols[c] == HD_SIZE && !list_parse_size(f[c], fl[c], &size))
            return list_error(ld, DP_ERR_PARSE, "bad size '%s' (want 0..%" PRId64 ")",
                              list_show(q, sizeof(q), f[c], fl[c]), INT64_MAX);
        if (hd->cols[c] == HD_FILENAME && fl[c] == 0)
            return list_error(ld, DP_ERR_PARSE, "missing file name");
    }
    static const enum dp_algo algo_of[] = {
        [HD_MD5] = DP_ALGO_MD5, [HD_SHA1] = DP_ALGO_SHA1, [HD_SHA256] = DP_ALGO_SHA256};
    for (size_t c = 0; c < hd->ncols && st == DP_OK; c++) {
        enum hd_col col = (enum hd_col)hd->cols[c];
        if (col == HD_MD5 || col == HD_SHA1 || col == HD_SHA256)
            st = list_stage_hex(ld, algo_of[col], f[c], fl[c], size, 0, dp_algo_name(algo_of[col]));
    }
    return st;
}

static enum dp_status hd_line(struct loader *ld, void *state, const char *s, size_t n)
{
    struct hd_state *hd = state;
    if (n >= 4 && memcmp(s, "%%%%", 4) == 0) {
        if (n < 5 || s[4] != ' ')
            return list_error(ld, DP_ERR_PARSE, "expected '%%%%%%%% ' header");
        return hd_header(ld, hd, s + 5, n - 5);
    }
    return hd_data(ld, hd, s, n);
}

static enum dp_status hashdeep_parse(struct loader *ld, const char *buf, size_t len)
{
    struct hd_state hd = {0};
    return list_each_line(ld, buf, len, hd_line, &hd);
}

const struct list_format list_fmt_hashdeep = {
    .name = "hashdeep",
    .bid = hashdeep_bid,
    .parse = hashdeep_parse,
};
