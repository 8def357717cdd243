/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: victim-supplied hash lists - parse (six formats), merge, sort, index, look up. */
#include "deprive/hashset.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <jansson.h>

#include "deprive/util.h"

/* Hostile-input limits (documented in docs/hashlists.md). */
#define MAX_FILE ((size_t)1 << 32)       /* 4 GiB: a list bigger than this is not a hash list */
#define MAX_LINE ((size_t)65536)         /* longest accepted line, in bytes */
#define HD_MAX_COLS 32                   /* most columns in a hashdeep header */
#define SHA_THREAD_MIN ((size_t)1 << 20) /* hash the list on a second thread from 1 MiB */

enum format { FMT_SUM, FMT_BSD, FMT_HASHDEEP, FMT_PLAIN, FMT_DEPRIVE, FMT_VICS };

static const char *const format_names[] = {
    [FMT_SUM] = "sha256sum", [FMT_BSD] = "bsd",         [FMT_HASHDEEP] = "hashdeep",
    [FMT_PLAIN] = "plain",   [FMT_DEPRIVE] = "deprive", [FMT_VICS] = "vics",
};

struct dp_hashset {
    struct dp_hash_entry *entries; /* committed [0, n), staged [n, n + staged) during a load */
    size_t n, cap;
    struct dp_hash_source *sources;
    size_t nsrc, srccap;
    char *labels; /* arena of NUL-terminated labels; offset 0 is a reserved empty string */
    size_t labels_len, labels_cap;
    bool finalized;
    size_t range[DP_ALGO_COUNT + 1]; /* entries of algo a are [range[a], range[a + 1]) */
    size_t unique[DP_ALGO_COUNT];
    uint64_t *sizes; /* sorted distinct sizes of exact entries that carry one */
    size_t nsizes;
    bool sizes_complete;
};

/* State of one load; nothing reaches the set until commit. */
struct loader {
    struct dp_hashset *set;
    const char *name;
    struct dp_error *err;
    size_t staged;
    size_t label_mark;
    size_t counts[DP_ALGO_COUNT];
    uint32_t source;
    uint32_t line;
    /* a memory-mapped list: pages behind each pass are dropped so that a big list never
     * occupies memory whole (the target is 64 bytes an entry, not the list's size) */
    const char *map;
    size_t map_len, dropped;
    /* hashdeep */
    bool hd_magic;
    size_t hd_ncols;
    uint8_t hd_cols[HD_MAX_COLS];
};

static bool name_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static bool algo_from_hexlen(size_t hexlen, enum dp_algo *out)
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

static bool is_hex(unsigned char c)
{
    return hexv[c] != 0;
}

/* Same contract as dp_hex_decode (exactly 2 * outlen digits, either case). */
static bool hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen)
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

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static size_t skip_blank(const char *s, size_t n, size_t i)
{
    while (i < n && is_blank(s[i]))
        i++;
    return i;
}

static size_t hex_run(const char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && is_hex((unsigned char)s[j]))
        j++;
    return j - i;
}

/* A bounded, printable rendering of untrusted bytes for a message. */
static const char *show(char *out, size_t outlen, const char *s, size_t n)
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

/* Non-negative decimal that fits int64_t; digits only. */
static bool parse_size(const char *s, size_t n, int64_t *out)
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

/* ---- errors -------------------------------------------------------------------------------- */

static enum dp_status line_error(struct loader *ld, enum dp_status code, const char *fmt, ...)
    DP_PRINTF(3, 4);

static enum dp_status line_error(struct loader *ld, enum dp_status code, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return dp_error_set(ld->err, code, 0, "%s:%" PRIu32 ": %s", ld->name, ld->line, msg);
}

static enum dp_status nomem(struct loader *ld)
{
    return dp_error_set(ld->err, DP_ERR_NOMEM, 0, "out of memory loading '%s'", ld->name);
}

/* ---- staging ------------------------------------------------------------------------------- */

static bool reserve_entries(struct dp_hashset *set, size_t want)
{
    if (want <= set->cap)
        return true;
    if (want > SIZE_MAX / sizeof(struct dp_hash_entry))
        return false;
    struct dp_hash_entry *e = realloc(set->entries, want * sizeof(*e));
    if (e == NULL)
        return false;
    set->entries = e;
    set->cap = want;
    return true;
}

static enum dp_status stage(struct loader *ld, enum dp_algo algo, const uint8_t *digest,
                            int64_t size, uint32_t label)
{
    struct dp_hashset *set = ld->set;
    size_t idx = set->n + ld->staged;
    if (idx == set->cap) {
        size_t ncap = set->cap < 1024 ? 1024 : set->cap + set->cap / 2;
        if (!reserve_entries(set, ncap))
            return nomem(ld);
    }
    struct dp_hash_entry *e = &set->entries[idx];
    memset(e, 0, sizeof(*e));
    memcpy(e->digest, digest, dp_algo_len(algo));
    e->size = size;
    e->source = ld->source;
    e->line = ld->line;
    e->label = label;
    e->algo = (uint8_t)algo;
    ld->staged++;
    ld->counts[algo]++;
    return DP_OK;
}

/* Decode hex of the exact length for algo and stage it. */
static enum dp_status stage_hex(struct loader *ld, enum dp_algo algo, const char *hex,
                                size_t hexlen, int64_t size, uint32_t label, const char *what)
{
    uint8_t d[DP_DIGEST_MAX];
    if (!hex_decode(d, dp_algo_len(algo), hex, hexlen)) {
        char b[64];
        return line_error(ld, DP_ERR_PARSE, "%s is not %zu hex digits: '%s'", what,
                          2 * dp_algo_len(algo), show(b, sizeof(b), hex, hexlen));
    }
    return stage(ld, algo, d, size, label);
}

/* Percent-decode a label into the arena; *handle = 0 for an empty label. */
static enum dp_status add_label(struct loader *ld, const char *s, size_t n, uint32_t *handle)
{
    struct dp_hashset *set = ld->set;
    *handle = 0;
    if (n == 0)
        return DP_OK;
    if (set->labels_len + n + 1 > UINT32_MAX)
        return line_error(ld, DP_ERR_LIMIT, "labels exceed 4 GiB in total");
    if (set->labels_len + n + 1 > set->labels_cap) {
        size_t ncap = set->labels_cap ? set->labels_cap : 4096;
        while (ncap < set->labels_len + n + 1)
            ncap *= 2;
        char *nl = realloc(set->labels, ncap);
        if (nl == NULL)
            return nomem(ld);
        set->labels = nl;
        set->labels_cap = ncap;
    }
    if (set->labels_len == 0)
        set->labels[set->labels_len++] = '\0'; /* handle 0 means "no label" */
    char *out = set->labels + set->labels_len;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        uint8_t b = 0;
        if (n - i < 3 || !hex_decode(&b, 1, s + i + 1, 2)) {
            char q[32];
            return line_error(ld, DP_ERR_PARSE, "bad percent escape in label: '%s'",
                              show(q, sizeof(q), s + i, n - i < 3 ? n - i : 3));
        }
        if (b == 0)
            return line_error(ld, DP_ERR_PARSE, "label contains %%00");
        out[o++] = (char)b;
        i += 2;
    }
    out[o] = '\0';
    *handle = (uint32_t)set->labels_len;
    set->labels_len += o + 1;
    return DP_OK;
}

/* GNU escaping in a name after a leading backslash: only \\, \n and \r are valid. */
static enum dp_status check_escapes(struct loader *ld, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\')
            continue;
        if (i + 1 >= n || (s[i + 1] != '\\' && s[i + 1] != 'n' && s[i + 1] != 'r')) {
            char q[16];
            return line_error(ld, DP_ERR_PARSE, "bad escape '%s' in file name",
                              show(q, sizeof(q), s + i, i + 1 < n ? 2 : 1));
        }
        i++;
    }
    return DP_OK;
}

/* ---- line formats -------------------------------------------------------------------------- */

/* coreutils: "<hex>  name", "<hex> *name" or BSD -r "<hex> name"; a leading backslash means
 * the name uses \\ \n \r escapes. The name itself is not kept. */
static enum dp_status parse_sum(struct loader *ld, const char *s, size_t n)
{
    char q[48];
    size_t i = skip_blank(s, n, 0);
    bool esc = i < n && s[i] == '\\';
    if (esc)
        i++;
    size_t h = i, hl = hex_run(s, n, i);
    i += hl;
    if (i < n && !is_blank(s[i]))
        return line_error(ld, DP_ERR_PARSE, "bad digest: '%s' is not a hex digit",
                          show(q, sizeof(q), s + i, 1));
    enum dp_algo algo;
    if (!algo_from_hexlen(hl, &algo))
        return line_error(ld, DP_ERR_PARSE, "digest has %zu hex digits (expected 32, 40 or 64)",
                          hl);
    if (i < n)
        i++; /* the separating blank */
    if (i < n && (s[i] == ' ' || s[i] == '*'))
        i++; /* text or binary marker */
    if (i >= n)
        return line_error(ld, DP_ERR_PARSE, "missing file name after the digest");
    if (esc) {
        enum dp_status st = check_escapes(ld, s + i, n - i);
        if (st != DP_OK)
            return st;
    }
    return stage_hex(ld, algo, s + h, hl, -1, 0, "digest");
}

static bool bsd_algo(const char *s, size_t n, enum dp_algo *out)
{
    if (name_is(s, n, "sha2-256")) {
        *out = DP_ALGO_SHA256;
        return true;
    }
    return dp_algo_parse(s, n, out) && *out != DP_ALGO_PDQ;
}

static bool is_tag_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* "ALGO (name) = hex" (GNU --tag, BSD md5/sha256), optionally with a leading backslash. The
 * name may itself hold ") = ", so the last occurrence ends it. */
static enum dp_status parse_bsd(struct loader *ld, const char *s, size_t n)
{
    char q[48];
    size_t i = skip_blank(s, n, 0);
    bool esc = i < n && s[i] == '\\';
    if (esc)
        i++;
    size_t t = i;
    while (i < n && is_tag_char(s[i]))
        i++;
    size_t tl = i - t;
    if (tl == 0 || n - i < 2 || s[i] != ' ' || s[i + 1] != '(')
        return line_error(ld, DP_ERR_PARSE, "expected 'ALGO (name) = digest'");
    enum dp_algo algo;
    if (!bsd_algo(s + t, tl, &algo))
        return line_error(ld, DP_ERR_PARSE, "unsupported algorithm '%s'",
                          show(q, sizeof(q), s + t, tl));
    i += 2;
    size_t k = n;
    for (size_t j = n; j >= i + 4; j--) {
        if (memcmp(s + j - 4, ") = ", 4) == 0) {
            k = j - 4;
            break;
        }
    }
    if (k == n)
        return line_error(ld, DP_ERR_PARSE, "expected ') = ' before the digest");
    if (k == i)
        return line_error(ld, DP_ERR_PARSE, "missing file name");
    if (esc) {
        enum dp_status st = check_escapes(ld, s + i, k - i);
        if (st != DP_OK)
            return st;
    }
    size_t hx = k + 4, he = n;
    while (he > hx && is_blank(s[he - 1]))
        he--;
    return stage_hex(ld, algo, s + hx, he - hx, -1, 0, dp_algo_name(algo));
}

/* One hex digest per line; the length gives the algorithm. */
static enum dp_status parse_plain(struct loader *ld, const char *s, size_t n)
{
    char q[48];
    size_t i = skip_blank(s, n, 0);
    size_t hl = hex_run(s, n, i);
    size_t j = i + hl, k = skip_blank(s, n, j);
    if (k != n && k != j)
        return line_error(ld, DP_ERR_PARSE, "unexpected text after the digest: '%s'",
                          show(q, sizeof(q), s + k, n - k));
    if (k != n)
        return line_error(ld, DP_ERR_PARSE, "bad digest: '%s' is not a hex digit",
                          show(q, sizeof(q), s + j, 1));
    enum dp_algo algo;
    if (!algo_from_hexlen(hl, &algo))
        return line_error(ld, DP_ERR_PARSE, "digest has %zu hex digits (expected 32, 40 or 64)",
                          hl);
    return stage_hex(ld, algo, s + i, hl, -1, 0, "digest");
}

/* deprive's own format: "md5:HEX sha1:HEX sha256:HEX pdq:HEX size:N label=TEXT". */
static enum dp_status parse_deprive(struct loader *ld, const char *s, size_t n)
{
    char q[48];
    const char *hex[DP_ALGO_COUNT] = {NULL};
    size_t hexlen[DP_ALGO_COUNT] = {0};
    unsigned seen = 0;
    bool have_size = false;
    int64_t size = -1;
    const char *label = NULL;
    size_t labellen = 0;
    size_t i = 0;
    for (;;) {
        i = skip_blank(s, n, i);
        if (i >= n)
            break;
        size_t t = i;
        while (i < n && !is_blank(s[i]))
            i++;
        const char *tok = s + t;
        size_t tl = i - t;
        if (tl >= 6 && memcmp(tok, "label=", 6) == 0) {
            label = tok + 6;
            labellen = n - t - 6;
            break;
        }
        const char *colon = memchr(tok, ':', tl);
        size_t pl = colon ? (size_t)(colon - tok) : 0;
        enum dp_algo a;
        if (colon != NULL && name_is(tok, pl, "size")) {
            if (have_size)
                return line_error(ld, DP_ERR_PARSE, "size given twice");
            if (!parse_size(colon + 1, tl - pl - 1, &size))
                return line_error(ld, DP_ERR_PARSE, "bad size '%s' (want 0..%" PRId64 ")",
                                  show(q, sizeof(q), colon + 1, tl - pl - 1), INT64_MAX);
            have_size = true;
        } else if (colon != NULL && dp_algo_parse(tok, pl, &a)) {
            if (seen & (1u << a))
                return line_error(ld, DP_ERR_PARSE, "%s given twice", dp_algo_name(a));
            seen |= 1u << a;
            hex[a] = colon + 1;
            hexlen[a] = tl - pl - 1;
        } else {
            return line_error(ld, DP_ERR_PARSE, "unknown token '%s'", show(q, sizeof(q), tok, tl));
        }
    }
    if (seen == 0)
        return line_error(ld, DP_ERR_PARSE, "no hash on the line");
    uint32_t lh = 0;
    enum dp_status st = add_label(ld, label, labellen, &lh);
    for (int a = 0; a < DP_ALGO_COUNT && st == DP_OK; a++) {
        if (seen & (1u << a))
            st = stage_hex(ld, (enum dp_algo)a, hex[a], hexlen[a], size, lh,
                           dp_algo_name((enum dp_algo)a));
    }
    return st;
}

/* ---- hashdeep ------------------------------------------------------------------------------ */

enum hd_col { HD_SKIP, HD_SIZE, HD_MD5, HD_SHA1, HD_SHA256, HD_FILENAME };

static enum hd_col hd_col_of(const char *s, size_t n)
{
    if (name_is(s, n, "size"))
        return HD_SIZE;
    if (name_is(s, n, "md5"))
        return HD_MD5;
    if (name_is(s, n, "sha1"))
        return HD_SHA1;
    if (name_is(s, n, "sha256"))
        return HD_SHA256;
    if (name_is(s, n, "filename"))
        return HD_FILENAME;
    return HD_SKIP; /* tiger, whirlpool, anything newer */
}

/* "%%%% HASHDEEP-1.0" or "%%%% size,md5,...,filename" (s is the text after "%%%% "). */
static enum dp_status hd_header(struct loader *ld, const char *s, size_t n)
{
    char q[48];
    if (name_is(s, n, "HASHDEEP-1.0")) {
        ld->hd_magic = true;
        ld->hd_ncols = 0;
        return DP_OK;
    }
    if (n >= 9 && strncasecmp(s, "HASHDEEP-", 9) == 0)
        return line_error(ld, DP_ERR_PARSE, "unsupported hashdeep version '%s'",
                          show(q, sizeof(q), s, n));
    if (!ld->hd_magic)
        return line_error(ld, DP_ERR_PARSE, "column header before '%%%%%%%% HASHDEEP-1.0'");
    size_t ncols = 0, i = 0;
    unsigned seen = 0, hashes = 0;
    for (;;) {
        const char *comma = memchr(s + i, ',', n - i);
        size_t e = comma ? (size_t)(comma - s) : n;
        if (e == i)
            return line_error(ld, DP_ERR_PARSE, "empty column name in hashdeep header");
        if (ncols == HD_MAX_COLS)
            return line_error(ld, DP_ERR_PARSE, "more than %d columns in hashdeep header",
                              HD_MAX_COLS);
        enum hd_col c = hd_col_of(s + i, e - i);
        if (c != HD_SKIP && (seen & (1u << c)))
            return line_error(ld, DP_ERR_PARSE, "column '%s' given twice",
                              show(q, sizeof(q), s + i, e - i));
        seen |= 1u << c;
        if (c == HD_MD5 || c == HD_SHA1 || c == HD_SHA256)
            hashes++;
        ld->hd_cols[ncols++] = (uint8_t)c;
        if (comma == NULL)
            break;
        i = e + 1;
    }
    if ((seen & (1u << HD_FILENAME)) && ld->hd_cols[ncols - 1] != HD_FILENAME)
        return line_error(ld, DP_ERR_PARSE, "filename must be the last hashdeep column");
    if (hashes == 0)
        return line_error(ld, DP_ERR_PARSE, "no md5, sha1 or sha256 column in hashdeep header");
    ld->hd_ncols = ncols;
    return DP_OK;
}

static enum dp_status hd_data(struct loader *ld, const char *s, size_t n)
{
    const char *f[HD_MAX_COLS];
    size_t fl[HD_MAX_COLS];
    size_t ncols = ld->hd_ncols, i = 0;
    char q[48];
    if (ncols == 0)
        return line_error(ld, DP_ERR_PARSE, "data line before the hashdeep column header");
    for (size_t c = 0; c < ncols; c++) {
        f[c] = s + i;
        if (c + 1 == ncols) {
            fl[c] = n - i;
            if (ld->hd_cols[c] != HD_FILENAME && memchr(f[c], ',', fl[c]) != NULL)
                return line_error(ld, DP_ERR_PARSE, "too many fields (expected %zu)", ncols);
            break;
        }
        const char *comma = memchr(s + i, ',', n - i);
        if (comma == NULL)
            return line_error(ld, DP_ERR_PARSE, "too few fields (expected %zu)", ncols);
        fl[c] = (size_t)(comma - f[c]);
        i = (size_t)(comma - s) + 1;
    }
    int64_t size = -1;
    for (size_t c = 0; c < ncols; c++) {
        if (ld->hd_cols[c] == HD_SIZE && !parse_size(f[c], fl[c], &size))
            return line_error(ld, DP_ERR_PARSE, "bad size '%s' (want 0..%" PRId64 ")",
                              show(q, sizeof(q), f[c], fl[c]), INT64_MAX);
        if (ld->hd_cols[c] == HD_FILENAME && fl[c] == 0)
            return line_error(ld, DP_ERR_PARSE, "missing file name");
    }
    for (size_t c = 0; c < ncols; c++) {
        enum dp_algo a;
        switch (ld->hd_cols[c]) {
        case HD_MD5:
            a = DP_ALGO_MD5;
            break;
        case HD_SHA1:
            a = DP_ALGO_SHA1;
            break;
        case HD_SHA256:
            a = DP_ALGO_SHA256;
            break;
        default:
            continue;
        }
        enum dp_status st = stage_hex(ld, a, f[c], fl[c], size, 0, dp_algo_name(a));
        if (st != DP_OK)
            return st;
    }
    return DP_OK;
}

static enum dp_status parse_hashdeep(struct loader *ld, const char *s, size_t n)
{
    if (n >= 4 && memcmp(s, "%%%%", 4) == 0) {
        if (n < 5 || s[4] != ' ')
            return line_error(ld, DP_ERR_PARSE, "expected '%%%%%%%% ' header");
        return hd_header(ld, s + 5, n - 5);
    }
    return hd_data(ld, s, n);
}

/* ---- detection and the line loop ----------------------------------------------------------- */

static bool looks_deprive(const char *s, size_t n)
{
    size_t t = 0;
    while (t < n && !is_blank(s[t]))
        t++;
    if (t >= 6 && memcmp(s, "label=", 6) == 0)
        return true;
    const char *colon = memchr(s, ':', t);
    if (colon == NULL)
        return false;
    size_t pl = (size_t)(colon - s);
    enum dp_algo a;
    return name_is(s, pl, "size") || dp_algo_parse(s, pl, &a);
}

/* s starts at the first non-blank byte of the first meaningful line. */
static bool classify(const char *s, size_t n, enum format *fmt)
{
    if (n >= 4 && memcmp(s, "%%%%", 4) == 0) {
        *fmt = FMT_HASHDEEP;
        return true;
    }
    if (looks_deprive(s, n)) {
        *fmt = FMT_DEPRIVE;
        return true;
    }
    size_t k = s[0] == '\\' ? 1 : 0;
    size_t hl = hex_run(s, n, k);
    if (k == 0 && hl > 0 && skip_blank(s, n, hl) == n) {
        *fmt = FMT_PLAIN;
        return true;
    }
    if (hl > 0 && k + hl < n && is_blank(s[k + hl])) {
        *fmt = FMT_SUM;
        return true;
    }
    size_t t = k;
    while (t < n && is_tag_char(s[t]))
        t++;
    if (t > k && t - k <= 16 && n - t >= 2 && s[t] == ' ' && s[t + 1] == '(') {
        *fmt = FMT_BSD;
        return true;
    }
    return false;
}

/* Next line [*s, *s + *n) ending at nl (exclusive of "\r\n"); returns the start of the next. */
#define DROP_WINDOW ((size_t)16 << 20)

/* Give back the mapped pages before p (in DROP_WINDOW steps): they stay in the page cache. */
static void drop_behind(struct loader *ld, const char *p)
{
    if (ld->map == NULL || p < ld->map)
        return;
    size_t off = (size_t)(p - ld->map) & ~(size_t)4095;
    if (off < ld->dropped + DROP_WINDOW)
        return;
    madvise((void *)(ld->map + ld->dropped), off - ld->dropped, MADV_DONTNEED);
    ld->dropped = off;
}

/* End of a pass over the mapping: drop everything it touched. */
static void drop_all(struct loader *ld)
{
    if (ld->map == NULL)
        return;
    madvise((void *)ld->map, ld->map_len, MADV_DONTNEED);
    ld->dropped = 0;
}

static const char *next_line(const char *p, const char *end, size_t *n)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    *n = (size_t)(le - p);
    return nl ? nl + 1 : end;
}

static enum dp_status detect(struct loader *ld, const char *buf, size_t len, enum format *fmt)
{
    char q[48];
    size_t i = 0;
    while (i < len && (is_blank(buf[i]) || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i < len && buf[i] == '{') {
        *fmt = FMT_VICS;
        return DP_OK;
    }
    const char *p = buf, *end = buf + len;
    ld->line = 0;
    while (p < end) {
        size_t n;
        const char *s = p;
        p = next_line(p, end, &n);
        if (ld->line == UINT32_MAX)
            return line_error(ld, DP_ERR_LIMIT, "too many lines");
        ld->line++;
        if (n > MAX_LINE)
            return line_error(ld, DP_ERR_LIMIT, "line longer than %zu bytes", MAX_LINE);
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (ld->line == 1 && n >= 16 && memcmp(s, "# deprive-hashes", 16) == 0) {
            size_t v = skip_blank(s, n, 16), ve = n;
            while (ve > v && is_blank(s[ve - 1]))
                ve--;
            if (ve - v != 1 || s[v] != '1')
                return line_error(ld, DP_ERR_PARSE, "unsupported deprive-hashes version '%s'",
                                  show(q, sizeof(q), s + v, ve - v));
            *fmt = FMT_DEPRIVE;
            return DP_OK;
        }
        size_t j = skip_blank(s, n, 0);
        if (j == n || s[j] == '#')
            continue;
        if (classify(s + j, n - j, fmt))
            return DP_OK;
        return line_error(ld, DP_ERR_PARSE, "not a recognised hash list line: '%s'",
                          show(q, sizeof(q), s + j, n - j));
    }
    return dp_error_set(ld->err, DP_ERR_INVALID, 0, "%s: no hashes in the list", ld->name);
}

static enum dp_status parse_lines(struct loader *ld, enum format fmt, const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    ld->line = 0;
    while (p < end) {
        size_t n;
        const char *s = p;
        p = next_line(p, end, &n);
        drop_behind(ld, s);
        if (ld->line == UINT32_MAX)
            return line_error(ld, DP_ERR_LIMIT, "too many lines");
        ld->line++;
        if (n > MAX_LINE)
            return line_error(ld, DP_ERR_LIMIT, "line longer than %zu bytes", MAX_LINE);
        if (n > 0 && s[n - 1] == '\r')
            n--;
        size_t j = skip_blank(s, n, 0);
        if (j == n || s[j] == '#')
            continue; /* blank line or comment (hashdeep's "##" lines too) */
        enum dp_status st;
        switch (fmt) {
        case FMT_SUM:
            st = parse_sum(ld, s, n);
            break;
        case FMT_BSD:
            st = parse_bsd(ld, s, n);
            break;
        case FMT_HASHDEEP:
            st = parse_hashdeep(ld, s, n);
            break;
        case FMT_PLAIN:
            st = parse_plain(ld, s, n);
            break;
        case FMT_DEPRIVE:
            st = parse_deprive(ld, s, n);
            break;
        default:
            dp_misuse("parse_lines: bad format");
        }
        if (st != DP_OK)
            return st;
    }
    return DP_OK;
}

/* ---- VICS JSON ----------------------------------------------------------------------------- */

/* Case-insensitive field lookup; VICS exports differ in capitalisation. */
static json_t *get_ci(json_t *obj, const char *name)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val)
    {
        if (strcasecmp(key, name) == 0)
            return val;
    }
    return NULL;
}

static bool has_hash_field(json_t *obj)
{
    return get_ci(obj, "MD5") != NULL || get_ci(obj, "SHA1") != NULL ||
           get_ci(obj, "SHA256") != NULL;
}

static enum dp_status vics_size(struct loader *ld, json_t *v, int64_t *size)
{
    *size = -1;
    if (v == NULL || json_is_null(v))
        return DP_OK;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *size = (int64_t)json_integer_value(v);
        return DP_OK;
    }
    if (json_is_string(v) && parse_size(json_string_value(v), json_string_length(v), size))
        return DP_OK;
    return line_error(ld, DP_ERR_PARSE, "MediaSize is not a non-negative integer");
}

/* One media object; ld->line is its 1-based index in document order. */
static enum dp_status vics_media(struct loader *ld, json_t *obj)
{
    static const char *const fields[DP_ALGO_EXACT_COUNT] = {"MD5", "SHA1", "SHA256"};
    if (ld->line == UINT32_MAX)
        return line_error(ld, DP_ERR_LIMIT, "too many media objects");
    ld->line++;
    if (!json_is_object(obj))
        return line_error(ld, DP_ERR_PARSE, "media object is not a JSON object");
    int64_t size;
    enum dp_status st = vics_size(ld, get_ci(obj, "MediaSize"), &size);
    if (st != DP_OK)
        return st;
    bool any = false;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++) {
        json_t *v = get_ci(obj, fields[a]);
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v))
            return line_error(ld, DP_ERR_PARSE, "%s is not a string", fields[a]);
        if (json_string_length(v) == 0)
            continue;
        st = stage_hex(ld, (enum dp_algo)a, json_string_value(v), json_string_length(v), size, 0,
                       fields[a]);
        if (st != DP_OK)
            return st;
        any = true;
    }
    if (!any)
        return line_error(ld, DP_ERR_PARSE, "media object has no MD5, SHA1 or SHA256");
    return DP_OK;
}

/* {"value": [media, ...]} or {"value": [{"Media": [media, ...]}, ...]} (both may mix). */
static enum dp_status parse_vics(struct loader *ld, const char *buf, size_t len)
{
    json_error_t je;
    enum dp_status st = DP_OK;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL)
        return dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s:%d: invalid JSON: %s", ld->name, je.line,
                            je.text);
    json_t *value = json_is_object(root) ? json_object_get(root, "value") : NULL;
    if (!json_is_array(value)) {
        st = dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s: no \"value\" array (not a VICS document)",
                          ld->name);
        goto out;
    }
    ld->line = 0;
    size_t idx;
    json_t *item;
    json_array_foreach(value, idx, item)
    {
        json_t *media = json_is_object(item) ? get_ci(item, "Media") : NULL;
        if (media == NULL || has_hash_field(item)) {
            st = vics_media(ld, item);
            if (st != DP_OK)
                goto out;
        }
        if (media == NULL)
            continue;
        if (!json_is_array(media)) {
            st = dp_error_set(ld->err, DP_ERR_PARSE, 0, "%s: value[%zu].Media is not an array",
                              ld->name, idx);
            goto out;
        }
        size_t j;
        json_t *m;
        json_array_foreach(media, j, m)
        {
            st = vics_media(ld, m);
            if (st != DP_OK)
                goto out;
        }
    }
out:
    json_decref(root);
    return st;
}

/* ---- set lifecycle and loading ------------------------------------------------------------- */

enum dp_status dp_hashset_new(struct dp_hashset **out, struct dp_error *err)
{
    struct dp_hashset *set = calloc(1, sizeof(*set));
    if (set == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    *out = set;
    return DP_OK;
}

void dp_hashset_free(struct dp_hashset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nsrc; i++)
        free(set->sources[i].path);
    free(set->sources);
    free(set->entries);
    free(set->labels);
    free(set->sizes);
    free(set);
}

static void shrink_entries(struct dp_hashset *set)
{
    if (set->n == set->cap)
        return;
    if (set->n == 0) {
        free(set->entries);
        set->entries = NULL;
        set->cap = 0;
        return;
    }
    struct dp_hash_entry *e = realloc(set->entries, set->n * sizeof(*e));
    if (e != NULL) {
        set->entries = e;
        set->cap = set->n;
    }
}

static size_t count_lines(struct loader *ld, const char *buf, size_t len)
{
    size_t lines = 1;
    const char *p = buf, *end = buf + len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
        drop_behind(ld, p);
    }
    drop_all(ld);
    return lines;
}

static enum dp_status check_nul(struct loader *ld, const char *buf, size_t len)
{
    const char *z = NULL;
    for (size_t off = 0; off < len && z == NULL; off += DROP_WINDOW) {
        size_t n = len - off < DROP_WINDOW ? len - off : DROP_WINDOW;
        z = memchr(buf + off, '\0', n);
        drop_behind(ld, buf + off + n);
    }
    drop_all(ld);
    if (z == NULL)
        return DP_OK;
    size_t line = count_lines(ld, buf, (size_t)(z - buf));
    ld->line = line > UINT32_MAX ? UINT32_MAX : (uint32_t)line;
    return line_error(ld, DP_ERR_PARSE, "NUL byte in the list");
}

static enum dp_status parse_any(struct loader *ld, const char *buf, size_t len, enum format *fmt)
{
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        buf += 3; /* UTF-8 byte order mark from Windows tools */
        len -= 3;
    }
    enum dp_status st = check_nul(ld, buf, len);
    if (st == DP_OK)
        st = detect(ld, buf, len, fmt);
    if (st != DP_OK)
        return st;
    if (*fmt == FMT_VICS)
        return parse_vics(ld, buf, len);
    /* one entry per line is the common case; growth covers the rest */
    if (!reserve_entries(ld->set, ld->set->n + count_lines(ld, buf, len)))
        return nomem(ld);
    return parse_lines(ld, *fmt, buf, len);
}

/* The source digest does not depend on the parse, so big lists are hashed on a second thread
 * while the first one parses (SHA-256 is about a third of a big load). */
struct sha_job {
    const char *buf;
    size_t len;
    uint8_t out[32];
    pthread_t thread;
    bool running;
};

static void *sha_thread(void *arg)
{
    struct sha_job *job = arg;
    dp_sha256_buf(job->out, job->buf, job->len);
    return NULL;
}

static void sha_start(struct sha_job *job, struct loader *ld, const char *buf, size_t len)
{
    job->buf = buf;
    job->len = len;
    job->running = false;
    if (ld->map != NULL) {
        /* mapped: hash window by window here, giving the pages back behind us */
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
            for (size_t off = 0; off < len; off += DROP_WINDOW) {
                size_t n = len - off < DROP_WINDOW ? len - off : DROP_WINDOW;
                EVP_DigestUpdate(ctx, buf + off, n);
                drop_behind(ld, buf + off + n);
            }
            EVP_DigestFinal_ex(ctx, job->out, NULL);
            EVP_MD_CTX_free(ctx);
            drop_all(ld);
            job->len = 0; /* done: sha_finish must not hash again */
            job->buf = NULL;
            return;
        }
        EVP_MD_CTX_free(ctx);
    }
    job->running =
        len >= SHA_THREAD_MIN && pthread_create(&job->thread, NULL, sha_thread, job) == 0;
}

/* Wait for the digest (or compute it here when no thread runs); want false just waits. */
static void sha_finish(struct sha_job *job, bool want)
{
    if (job->running) {
        pthread_join(job->thread, NULL);
        job->running = false;
    } else if (want && job->buf != NULL) {
        dp_sha256_buf(job->out, job->buf, job->len);
    }
}

static enum dp_status load(struct dp_hashset *set, const char *name, const char *buf, size_t len,
                           bool mapped, struct dp_error *err)
{
    if (set->finalized)
        dp_misuse("dp_hashset_load_buffer after dp_hashset_finalize");
    if (buf == NULL && len > 0)
        dp_misuse("dp_hashset_load_buffer: NULL buffer");
    if (len > MAX_FILE)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "'%s' is larger than %zu bytes", name, MAX_FILE);
    if (set->nsrc >= UINT32_MAX)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "too many hash lists");
    if (set->nsrc == set->srccap) {
        size_t ncap = set->srccap ? set->srccap * 2 : 4;
        struct dp_hash_source *ns = realloc(set->sources, ncap * sizeof(*ns));
        if (ns == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        set->sources = ns;
        set->srccap = ncap;
    }
    char *path = strdup(name);
    if (path == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");

    struct loader ld = {
        .set = set,
        .name = name,
        .err = err,
        .label_mark = set->labels_len,
        .source = (uint32_t)set->nsrc,
        .map = mapped ? buf : NULL,
        .map_len = mapped ? len : 0,
    };
    enum format fmt = FMT_PLAIN;
    struct sha_job sha;
    sha_start(&sha, &ld, buf ? buf : "", len);
    enum dp_status st = parse_any(&ld, buf ? buf : "", len, &fmt);
    if (st == DP_OK && ld.staged == 0)
        st = dp_error_set(err, DP_ERR_INVALID, 0, "%s: no hashes in the list", name);
    sha_finish(&sha, st == DP_OK);
    if (st != DP_OK) {
        set->labels_len = ld.label_mark; /* drop staged labels; staged entries lie beyond n */
        shrink_entries(set);             /* and give back what the failed load reserved */
        free(path);
        return st;
    }

    struct dp_hash_source *src = &set->sources[set->nsrc];
    memset(src, 0, sizeof(*src));
    src->path = path;
    memcpy(src->sha256, sha.out, sizeof(src->sha256));
    src->format = format_names[fmt];
    memcpy(src->counts, ld.counts, sizeof(src->counts));
    set->n += ld.staged;
    set->nsrc++;
    return DP_OK;
}

enum dp_status dp_hashset_load_buffer(struct dp_hashset *set, const char *name, const char *buf,
                                      size_t len, struct dp_error *err)
{
    return load(set, name, buf, len, false, err);
}

enum dp_status dp_hashset_load_file(struct dp_hashset *set, const char *path, struct dp_error *err)
{
    if (set->finalized)
        dp_misuse("dp_hashset_load_file after dp_hashset_finalize");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open '%s'", path);
    if (fstat(fd, &sb) != 0) {
        enum dp_status st = dp_error_set(err, DP_ERR_IO, errno, "cannot stat '%s'", path);
        close(fd);
        return st;
    }
    /* big regular files are mapped (and given back pass by pass); the rest are read */
    if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size >= SHA_THREAD_MIN &&
        (uint64_t)sb.st_size <= MAX_FILE) {
        size_t len = (size_t)sb.st_size;
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED)
            return dp_error_set(err, DP_ERR_IO, errno, "cannot map '%s'", path);
        madvise(map, len, MADV_SEQUENTIAL);
        enum dp_status st = load(set, path, map, len, true, err);
        munmap(map, len);
        return st;
    }
    close(fd);
    char *buf = NULL;
    size_t len = 0;
    enum dp_status st = dp_read_file(path, MAX_FILE, &buf, &len, err);
    if (st != DP_OK)
        return st;
    st = load(set, path, buf, len, false, err);
    free(buf);
    return st;
}

/* ---- sorting and finalize ------------------------------------------------------------------ */

/* Order: algorithm, digest, then load order (source, line) so duplicate runs list lists and
 * lines in the order they were read. Unused digest bytes are zero, so comparing all 32 works
 * for every algorithm. */
static inline int entry_cmp(const struct dp_hash_entry *a, const struct dp_hash_entry *b)
{
    if (a->algo != b->algo)
        return a->algo < b->algo ? -1 : 1;
    int c = memcmp(a->digest, b->digest, DP_DIGEST_MAX);
    if (c != 0)
        return c;
    if (a->source != b->source)
        return a->source < b->source ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return 0;
}

static inline void entry_swap(struct dp_hash_entry *a, struct dp_hash_entry *b)
{
    struct dp_hash_entry t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(struct dp_hash_entry *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct dp_hash_entry x = a[i];
        size_t j = i;
        while (j > 0 && entry_cmp(&x, &a[j - 1]) < 0) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

static void sift_down(struct dp_hash_entry *a, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && entry_cmp(&a[child], &a[child + 1]) < 0)
            child++;
        if (entry_cmp(&a[root], &a[child]) >= 0)
            return;
        entry_swap(&a[root], &a[child]);
        root = child;
    }
}

static void heap_sort(struct dp_hash_entry *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t i = n; i-- > 1;) {
        entry_swap(&a[0], &a[i]);
        sift_down(a, 0, i);
    }
}

static void intro_sort(struct dp_hash_entry *a, size_t n, unsigned depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heap_sort(a, n);
            return;
        }
        size_t mid = n / 2;
        if (entry_cmp(&a[mid], &a[0]) < 0)
            entry_swap(&a[mid], &a[0]);
        if (entry_cmp(&a[n - 1], &a[mid]) < 0) {
            entry_swap(&a[n - 1], &a[mid]);
            if (entry_cmp(&a[mid], &a[0]) < 0)
                entry_swap(&a[mid], &a[0]);
        }
        struct dp_hash_entry pivot = a[mid];
        size_t i = 0, j = n - 1;
        for (;;) { /* Hoare: a[0] <= pivot <= a[n-1] keeps both scans in bounds */
            while (entry_cmp(&a[i], &pivot) < 0)
                i++;
            while (entry_cmp(&pivot, &a[j]) < 0)
                j--;
            if (i >= j)
                break;
            entry_swap(&a[i], &a[j]);
            i++;
            j--;
        }
        size_t left = j + 1; /* [0, j] <= pivot <= [j + 1, n) */
        if (left < n - left) {
            intro_sort(a, left, depth);
            a += left;
            n -= left;
        } else {
            intro_sort(a + left, n - left, depth);
            n = left;
        }
    }
    insertion_sort(a, n);
}

/* Radix key byte at a level: the algorithm first, then the digest bytes in order. */
static unsigned key_byte(const struct dp_hash_entry *e, unsigned level)
{
    return level == 0 ? e->algo : e->digest[level - 1];
}

/* In-place MSD radix sort (American flag sort): random digests split into tiny buckets within
 * two or three levels, with no scratch array (the entry array is the set's biggest allocation).
 * Runs of equal digests end in intro_sort, which orders them by source and line. */
static void radix_sort(struct dp_hash_entry *a, size_t n, unsigned level)
{
    for (;;) {
        if (n <= 32) {
            insertion_sort(a, n);
            return;
        }
        if (level > DP_DIGEST_MAX) {
            unsigned depth = 0;
            for (size_t x = n; x > 1; x >>= 1)
                depth += 2;
            intro_sort(a, n, depth);
            return;
        }
        size_t start[257] = {0}, next[256];
        for (size_t i = 0; i < n; i++)
            start[key_byte(&a[i], level) + 1]++;
        if (start[key_byte(&a[0], level) + 1] == n) {
            level++; /* one bucket only: nothing to move */
            continue;
        }
        for (unsigned b = 0; b < 256; b++) {
            start[b + 1] += start[b];
            next[b] = start[b];
        }
        for (unsigned b = 0; b < 256; b++) {
            while (next[b] < start[b + 1]) {
                unsigned k = key_byte(&a[next[b]], level);
                if (k == b)
                    next[b]++;
                else
                    entry_swap(&a[next[b]], &a[next[k]++]);
            }
        }
        for (unsigned b = 0; b < 256; b++)
            radix_sort(a + start[b], start[b + 1] - start[b], level + 1);
        return;
    }
}

static int u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Distinct sizes of exact entries, sorted; and whether every exact entry has one. */
static enum dp_status build_sizes(struct dp_hashset *set)
{
    size_t exact = set->range[DP_ALGO_EXACT_COUNT], with = 0;
    for (size_t i = 0; i < exact; i++)
        with += set->entries[i].size >= 0;
    set->sizes_complete = exact > 0 && with == exact;
    if (with == 0)
        return DP_OK;
    uint64_t *sz = malloc(with * sizeof(*sz));
    if (sz == NULL)
        return DP_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < exact; i++) {
        if (set->entries[i].size >= 0)
            sz[k++] = (uint64_t)set->entries[i].size;
    }
    qsort(sz, k, sizeof(*sz), u64_cmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++) {
        if (u == 0 || sz[u - 1] != sz[i])
            sz[u++] = sz[i];
    }
    uint64_t *shrunk = realloc(sz, u * sizeof(*sz));
    set->sizes = shrunk ? shrunk : sz;
    set->nsizes = u;
    return DP_OK;
}

enum dp_status dp_hashset_finalize(struct dp_hashset *set, struct dp_error *err)
{
    if (set->finalized)
        return DP_OK;
    if (set->n == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "no hashes loaded");
    shrink_entries(set);
    radix_sort(set->entries, set->n, 0);
    size_t i = 0;
    for (int a = 0; a < DP_ALGO_COUNT; a++) {
        set->range[a] = i;
        set->unique[a] = 0;
        for (; i < set->n && set->entries[i].algo == a; i++) {
            if (i == set->range[a] ||
                memcmp(set->entries[i].digest, set->entries[i - 1].digest, DP_DIGEST_MAX) != 0)
                set->unique[a]++;
        }
    }
    set->range[DP_ALGO_COUNT] = i;
    free(set->sizes);
    set->sizes = NULL;
    set->nsizes = 0;
    if (build_sizes(set) != DP_OK)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory indexing sizes");
    set->finalized = true;
    return DP_OK;
}

/* ---- queries ------------------------------------------------------------------------------- */

static void need_final(const struct dp_hashset *set, const char *fn)
{
    if (set == NULL || !set->finalized)
        dp_misuse(fn);
}

static void need_algo(enum dp_algo algo)
{
    if ((unsigned)algo >= DP_ALGO_COUNT)
        dp_misuse("bad algorithm");
}

size_t dp_hashset_lookup(const struct dp_hashset *set, enum dp_algo algo, const uint8_t *digest,
                         const struct dp_hash_entry **first)
{
    need_final(set, "dp_hashset_lookup before dp_hashset_finalize");
    need_algo(algo);
    size_t len = dp_algo_len(algo);
    size_t lo = set->range[algo], hi = set->range[algo + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(set->entries[mid].digest, digest, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < set->range[algo + 1] && memcmp(set->entries[end].digest, digest, len) == 0)
        end++;
    if (first != NULL)
        *first = end > lo ? &set->entries[lo] : NULL;
    return end - lo;
}

size_t dp_hashset_count(const struct dp_hashset *set, enum dp_algo algo)
{
    need_final(set, "dp_hashset_count before dp_hashset_finalize");
    need_algo(algo);
    return set->range[algo + 1] - set->range[algo];
}

size_t dp_hashset_unique(const struct dp_hashset *set, enum dp_algo algo)
{
    need_final(set, "dp_hashset_unique before dp_hashset_finalize");
    need_algo(algo);
    return set->unique[algo];
}

const struct dp_hash_entry *dp_hashset_entries(const struct dp_hashset *set, enum dp_algo algo,
                                               size_t *count)
{
    need_final(set, "dp_hashset_entries before dp_hashset_finalize");
    need_algo(algo);
    if (count != NULL)
        *count = set->range[algo + 1] - set->range[algo];
    return set->entries + set->range[algo];
}

bool dp_hashset_sizes_complete(const struct dp_hashset *set)
{
    need_final(set, "dp_hashset_sizes_complete before dp_hashset_finalize");
    return set->sizes_complete;
}

bool dp_hashset_size_wanted(const struct dp_hashset *set, uint64_t size)
{
    need_final(set, "dp_hashset_size_wanted before dp_hashset_finalize");
    size_t lo = 0, hi = set->nsizes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->sizes[mid] < size)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->nsizes && set->sizes[lo] == size;
}

size_t dp_hashset_source_count(const struct dp_hashset *set)
{
    return set->nsrc;
}

const struct dp_hash_source *dp_hashset_source(const struct dp_hashset *set, size_t index)
{
    if (index >= set->nsrc)
        dp_misuse("dp_hashset_source: index out of range");
    return &set->sources[index];
}

const char *dp_hashset_label(const struct dp_hashset *set, const struct dp_hash_entry *entry)
{
    if (entry->label == 0)
        return NULL;
    if (entry->label >= set->labels_len)
        dp_misuse("dp_hashset_label: bad handle");
    return set->labels + entry->label;
}
