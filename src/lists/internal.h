/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: pieces shared by the hash-list files - the format table (one fmt_*.c per list
 * format, formats.c), the state of one load, and the helpers every parser uses (loader.c;
 * staging and labels in hashset.c). Private to src/lists/. */
#ifndef DEPRIVE_LISTS_INTERNAL_H
#define DEPRIVE_LISTS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/hashset.h"
#include "deprive/types.h"

/* Hostile-input limits (documented in docs/hashlists.md). */
#define LIST_MAX_LINE ((size_t)65536) /* longest accepted line, in bytes */
/* A memory-mapped list is given back to the kernel in steps of this size behind each pass. */
#define LIST_DROP_WINDOW ((size_t)16 << 20)
/* A PDQ target whose list gives a quality below this is counted as low quality (loaded all the
 * same). The pdq module's DP_PDQ_MIN_QUALITY, which this stage may not include (it is above
 * lists); tests/test_hashset.c checks that the two agree. */
#define LIST_PDQ_MIN_QUALITY 50
#define LIST_PDQ_MAX_QUALITY 100

/* State of one load; nothing reaches the set until hashset.c commits it. */
struct loader {
    struct dp_hashset *set;
    const char *name; /* for messages: "name:line: reason" */
    struct dp_error *err;
    size_t staged;     /* entries staged beyond the set's committed ones */
    size_t label_mark; /* label arena length before the load, restored on failure */
    size_t counts[DP_ALGO_COUNT];
    size_t low_quality; /* PDQ entries staged with a quality below LIST_PDQ_MIN_QUALITY */
    size_t unused;      /* records of signal types deprive does not match (StopNCII) */
    size_t withdrawn;   /* records not loaded: withdrawn or deleted (StopNCII) */
    uint32_t source;    /* index the list will have in the set */
    uint32_t line;      /* 1-based line being parsed (JSON: media object or record index) */
    /* a memory-mapped list: pages behind each pass are dropped so that a big list never
     * occupies memory whole (the target is 64 bytes an entry, not the list's size) */
    const char *map;
    size_t map_len, dropped;
};

/* ---- the format table (formats.c) ----------------------------------------------------------- */

/* What a bidder sees of a list (after any UTF-8 byte order mark). Detection looks twice:
 * first at the start of the document (line is NULL), then, when no format claimed it, at the
 * first meaningful line. */
struct list_peek {
    const char *buf; /* the whole list */
    size_t len;
    const char *head; /* line 1 without "\n" or "\r\n"; NULL when the list is empty or
                         line 1 is longer than LIST_MAX_LINE */
    size_t head_len;
    const char *line; /* second look: the first line that is neither blank nor a '#'
                         comment, from its first non-blank byte, without "\r"; else NULL */
    size_t line_len;
};

/* Bids: the highest wins; on a tie the format earlier in list_formats[] wins. */
enum list_bid {
    LIST_BID_NO = 0,   /* not this format */
    LIST_BID_LINE = 1, /* the first meaningful line has this format's shape */
    LIST_BID_MARK = 2, /* the document announces this format (a JSON object, a header) */
};

/* One list format: adding a format is adding a fmt_<name>.c that defines one of these, its
 * declaration below, and a row in formats.c's table. */
struct list_format {
    const char *name; /* dp_hash_source.format and "format" in reports */
    int (*bid)(const struct list_peek *peek);
    /* Parse the whole list (after any byte order mark), staging its hashes; the first bad
     * line fails it with "name:line: reason". */
    enum dp_status (*parse)(struct loader *ld, const char *buf, size_t len);
};

extern const struct list_format list_fmt_sha256sum;      /* fmt_sha256sum.c */
extern const struct list_format list_fmt_bsd;            /* fmt_bsd.c */
extern const struct list_format list_fmt_hashdeep;       /* fmt_hashdeep.c */
extern const struct list_format list_fmt_plain;          /* fmt_plain.c */
extern const struct list_format list_fmt_deprive;        /* fmt_deprive.c */
extern const struct list_format list_fmt_vics;           /* fmt_vics.c */
extern const struct list_format list_fmt_stopncii;       /* fmt_stopncii.c */
extern const struct list_format list_fmt_threatexchange; /* fmt_threatexchange.c */
extern const struct list_format list_fmt_pdqcsv;         /* fmt_pdqcsv.c */

/* Every format in the order bidders are asked; NULL-terminated. */
extern const struct list_format *const list_formats[];

/* Choose the format of buf (docs/hashlists.md, "Detection"). Fails with "no hashes in the
 * list" (DP_ERR_INVALID) when the list has no meaningful line, with a line limit, or with
 * "not a recognised hash list line" when no format claims the first meaningful line. */
enum dp_status list_detect(struct loader *ld, const char *buf, size_t len,
                           const struct list_format **out) DP_WUR;

/* ---- text and lines (loader.c) -------------------------------------------------------------- */

static inline bool list_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static inline size_t list_skip_blank(const char *s, size_t n, size_t i)
{
    while (i < n && list_is_blank(s[i]))
        i++;
    return i;
}

/* Offset of the first non-blank byte of a line, or n when the line is blank or a '#' comment
 * (hashdeep's "##" lines too): the lines every line-based format skips. */
static inline size_t list_content(const char *s, size_t n)
{
    size_t j = list_skip_blank(s, n, 0);
    return j < n && s[j] == '#' ? n : j;
}

/* Case-insensitive: is [s, s + n) exactly lit? */
bool list_name_is(const char *s, size_t n, const char *lit);
/* 32 hex digits are MD5, 40 SHA-1, 64 SHA-256 (never PDQ). */
bool list_algo_from_hexlen(size_t hexlen, enum dp_algo *out);
/* Length of the run of hex digits at s[i]. */
size_t list_hex_run(const char *s, size_t n, size_t i);
/* Same contract as dp_hex_decode (exactly 2 * outlen digits, either case). */
bool list_hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen);
/* Non-negative decimal that fits int64_t; digits only. */
bool list_parse_size(const char *s, size_t n, int64_t *out);
/* A PDQ quality: 1 to 3 decimal digits, 0 to LIST_PDQ_MAX_QUALITY. */
bool list_parse_quality(const char *s, size_t n, int *out);
/* A bounded, printable rendering of untrusted bytes for a message (\xNN, "..." when cut). */
const char *list_show(char *out, size_t outlen, const char *s, size_t n);

/* Fail the load with "name:line: message" (ld->line). Returns code. */
enum dp_status list_error(struct loader *ld, enum dp_status code, const char *fmt, ...)
    DP_PRINTF(3, 4);
#ifdef __clang_analyzer__ /* the result, for the analyzer: see dp_error_set in error.h */
#define list_error(ld, code, ...) (list_error(ld, code, __VA_ARGS__), (code))
#endif
enum dp_status list_nomem(struct loader *ld);

/* GNU escaping in a file name after a leading backslash: only \\, \n and \r are valid. */
enum dp_status list_check_escapes(struct loader *ld, const char *s, size_t n);
/* Decode hex of the exact length for algo and stage it; what names the digest in the
 * "... is not N hex digits" message. */
enum dp_status list_stage_hex(struct loader *ld, enum dp_algo algo, const char *hex, size_t hexlen,
                              int64_t size, uint32_t label, const char *what);
/* The same for a PDQ hash (64 hex digits in the reference's order, as dp_pdq_parse reads them)
 * with its quality: 0..100, or -1 when the list gives none. */
enum dp_status list_stage_pdq(struct loader *ld, const char *hex, size_t hexlen, int quality,
                              int64_t size, uint32_t label, const char *what);

/* The line at p, up to end: *n gets its length without the "\n"; returns the next line. */
const char *list_next_line(const char *p, const char *end, size_t *n);
/* Step to the next line of [*p, end): *s and *n get it without "\n" or "\r\n" and ld->line
 * counts it. Fails with "too many lines" or "line longer than ..." (DP_ERR_LIMIT). */
enum dp_status list_step(struct loader *ld, const char **p, const char *end, const char **s,
                         size_t *n);

/* Called for each line that is neither blank nor a comment; state is the parser's own. */
typedef enum dp_status (*list_line_fn)(struct loader *ld, void *state, const char *s, size_t n);
/* The parse of a line-based format: reserve an entry a line, then fn for every meaningful
 * line in order, stopping at the first failure. */
enum dp_status list_each_line(struct loader *ld, const char *buf, size_t len, list_line_fn fn,
                              void *state);

/* Give back the mapped pages before p (in LIST_DROP_WINDOW steps; they stay in the page
 * cache), and at the end of a pass all of them. No-ops for a list that is not mapped. */
void list_drop_behind(struct loader *ld, const char *p);
void list_drop_all(struct loader *ld);

/* ---- staging (hashset.c) -------------------------------------------------------------------- */

/* Stage one hash of the current line; committed only when the whole list parsed. quality is
 * the PDQ quality (0..100) or -1: not given, and always -1 for exact hashes. */
enum dp_status list_stage(struct loader *ld, enum dp_algo algo, const uint8_t *digest, int64_t size,
                          uint32_t label, int quality);
/* Percent-decode a label into the set's arena; *handle = 0 for an empty label. */
enum dp_status list_add_label(struct loader *ld, const char *s, size_t n, uint32_t *handle);
/* Reserve room for one entry per line of buf (the common case; growth covers the rest). */
enum dp_status list_reserve_lines(struct loader *ld, const char *buf, size_t len);

#endif
