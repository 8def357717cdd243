/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: what the hash-list parsers share - hex and size tokens, quoting untrusted bytes,
 * "file:line: reason" errors, walking lines within the limits, giving back mapped pages. */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

bool list_name_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

bool list_algo_from_hexlen(size_t hexlen, enum dp_algo *out)
{
    switch (hexlen) {
    case 32:
        *out = DP_ALGO_MD5;
        return true;
    case 40:
        *out = DP_ALGO_SHA1;
        return true;
    case 64:
        *out = DP_ALGO_SHA256;
        return true;
    default:
        return false;
    }
}

/* ---- small text helpers -------------------------------------------------------------------- */

/* Hex digit value + 1, 0 for a non-digit: one table load decodes and validates, which is most
 * of the work in loading a big list. */
static const uint8_t hexv[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

bool list_hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen)
{
    if (hexlen != 2 * outlen)
        return false;
    const unsigned char *h = (const unsigned char *)hex;
    unsigned bad = 0;
    for (size_t i = 0; i < outlen; i++) {
        unsigned hi = hexv[h[2 * i]], lo = hexv[h[2 * i + 1]];
        bad |= (hi == 0) | (lo == 0);
        out[i] = (uint8_t)((hi - 1) << 4 | ((lo - 1) & 15));
    }
    return bad == 0;
}

size_t list_hex_run(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && hexv[(unsigned char)s[j]] != 0)
        j++;
    return j - i;
}

const char *list_show(char *out, size_t outlen, const char *s, size_t n)
{
    static const char d[] = "0123456789abcdef";
    size_t o = 0, i = 0;
    for (; i < n && o + 8 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = d[c >> 4];
            out[o++] = d[c & 15];
        }
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

bool list_parse_size(const char *s, size_t n, int64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned dig = (unsigned)(s[i] - '0');
        if (v > ((uint64_t)INT64_MAX - dig) / 10)
            return false;
        v = v * 10 + dig;
    }
    *out = (int64_t)v;
    return true;
}

bool list_parse_quality(const char *s, size_t n, int *out)
{
    if (n == 0 || n > 3)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > LIST_PDQ_MAX_QUALITY)
        return false;
    *out = v;
    return true;
}

/* ---- errors -------------------------------------------------------------------------------- */

#undef list_error /* internal.h's stand-in for the analyzer; this is the function */

enum dp_status list_error(struct loader *ld, enum dp_status code, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return dp_error_set(ld->err, code, 0, "%s:%" PRIu32 ": %s", ld->name, ld->line, msg);
}

enum dp_status list_nomem(struct loader *ld)
{
    return dp_error_set(ld->err, DP_ERR_NOMEM, 0, "out of memory loading '%s'", ld->name);
}

/* ---- tokens -------------------------------------------------------------------------------- */

enum dp_status list_check_escapes(struct loader *ld, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\')
            continue;
        if (i + 1 >= n || (s[i + 1] != '\\' && s[i + 1] != 'n' && s[i + 1] != 'r')) {
            char q[16];
            return list_error(ld, DP_ERR_PARSE, "bad escape '%s' in file name",
                              list_show(q, sizeof(q), s + i, i + 1 < n ? 2 : 1));
        }
        i++;
    }
    return DP_OK;
}

enum dp_status list_stage_hex(struct loader *ld, enum dp_algo algo, const char *hex, size_t hexlen,
                              int64_t size, uint32_t label, const char *what)
{
    uint8_t d[DP_DIGEST_MAX];
    if (!list_hex_decode(d, dp_algo_len(algo), hex, hexlen)) {
        char b[64];
        return list_error(ld, DP_ERR_PARSE, "%s is not %zu hex digits: '%s'", what,
                          2 * dp_algo_len(algo), list_show(b, sizeof(b), hex, hexlen));
    }
    return list_stage(ld, algo, d, size, label, -1);
}

/* PDQ hex is read in text order (byte 0 is the first two digits), as dp_pdq_parse does, so the
 * same bytes come out as the pdq module's (a stage above: not callable from here). */
enum dp_status list_stage_pdq(struct loader *ld, const char *hex, size_t hexlen, int quality,
                              int64_t size, uint32_t label, const char *what)
{
    uint8_t d[DP_DIGEST_MAX];
    if (!list_hex_decode(d, dp_algo_len(DP_ALGO_PDQ), hex, hexlen)) {
        char b[64];
        return list_error(ld, DP_ERR_PARSE, "%s is not %zu hex digits: '%s'", what,
                          2 * dp_algo_len(DP_ALGO_PDQ), list_show(b, sizeof(b), hex, hexlen));
    }
    return list_stage(ld, DP_ALGO_PDQ, d, size, label, quality);
}

/* ---- lines --------------------------------------------------------------------------------- */

void list_drop_behind(struct loader *ld, const char *p)
{
    if (ld->map == NULL || p < ld->map)
        return;
    size_t off = (size_t)(p - ld->map) & ~(size_t)4095;
    if (off < ld->dropped + LIST_DROP_WINDOW)
        return;
    madvise((void *)(ld->map + ld->dropped), off - ld->dropped, MADV_DONTNEED);
    ld->dropped = off;
}

void list_drop_all(struct loader *ld)
{
    if (ld->map == NULL)
        return;
    madvise((void *)ld->map, ld->map_len, MADV_DONTNEED);
    ld->dropped = 0;
}

const char *list_next_line(const char *p, const char *end, size_t *n)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    *n = (size_t)(le - p);
    return nl ? nl + 1 : end;
}

enum dp_status list_step(struct loader *ld, const char **p, const char *end, const char **s,
                         size_t *n)
{
    *s = *p;
    *p = list_next_line(*p, end, n);
    if (ld->line == UINT32_MAX)
        return list_error(ld, DP_ERR_LIMIT, "too many lines");
    ld->line++;
    if (*n > LIST_MAX_LINE)
        return list_error(ld, DP_ERR_LIMIT, "line longer than %zu bytes", LIST_MAX_LINE);
    if (*n > 0 && (*s)[*n - 1] == '\r')
        (*n)--;
    return DP_OK;
}

enum dp_status list_each_line(struct loader *ld, const char *buf, size_t len, list_line_fn fn,
                              void *state)
{
    enum dp_status st = list_reserve_lines(ld, buf, len);
    const char *p = buf, *end = buf + len;
    ld->line = 0;
    while (st == DP_OK && p < end) {
        const char *s;
        size_t n;
        st = list_step(ld, &p, end, &s, &n);
        list_drop_behind(ld, s);
        if (st == DP_OK && list_content(s, n) < n)
            st = fn(ld, state, s, n);
    }
    return st;
}
