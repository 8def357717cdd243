/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: Expert Witness (EnCase E01, SMART) sets read through libewf (source.h). libewf's
 * types and errors stay in this file: its errors become a dp_error carrying the innermost
 * line of libewf's backtrace (the cause; the outer lines only say which call gave up).
 *
 * What libewf does not refuse is checked here: libewf opens a set with a missing or truncated
 * segment and reads the lost chunks as checksum errors, so a set it reports corrupted is
 * refused at open; and it reports a chunk's checksum error once (a second read of the chunk
 * comes from its cache), so the ranges seen are kept and every read is checked against them. */
#include "deprive/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libewf.h>

#include "deprive/util.h"

struct dp_source_ewf {
    libewf_handle_t *h;
    char **names; /* segment files, in order */
    int nnames;
    bool globbed; /* names from libewf_glob (else one strdup'd path) */
    char *qpath;  /* the first segment, quoted for messages */
    uint64_t size;
    uint32_t bps;
    uint64_t (*bad)[2]; /* checksum errors: {first byte, end byte}, sorted by first byte */
    size_t nbad, bad_cap;
    uint32_t seen; /* libewf's checksum errors copied into bad */
};

/* Fill err with what (printf-style) and the innermost line of libewf's error e, then free e. */
static enum dp_status DP_PRINTF(4, 5)
    ewf_fail(struct dp_error *err, enum dp_status code, libewf_error_t *e, const char *fmt, ...)
{
    char what[256], cause[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (e != NULL) {
        if (libewf_error_backtrace_sprint(e, cause, sizeof(cause)) < 0)
            libewf_error_sprint(e, cause, sizeof(cause));
        libewf_error_free(&e);
    }
    cause[strcspn(cause, "\r\n")] = '\0';
    size_t n = strlen(cause);
    if (n > 0 && cause[n - 1] == '.')
        cause[n - 1] = '\0';
    if (cause[0] == '\0')
        return dp_error_set(err, code, 0, "%s", what);
    return dp_error_set(err, code, 0, "%s: %s", what, cause);
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

enum dp_source_ewf_sig dp_source_ewf_sniff(const uint8_t *head, size_t len, unsigned *segment)
{
    static const uint8_t evf[8] = {'E', 'V', 'F', 0x09, 0x0d, 0x0a, 0xff, 0x00};
    static const uint8_t lvf[8] = {'L', 'V', 'F', 0x09, 0x0d, 0x0a, 0xff, 0x00};
    static const uint8_t evf2[8] = {'E', 'V', 'F', '2', 0x0d, 0x0a, 0x81, 0x00};
    static const uint8_t lef2[8] = {'L', 'E', 'F', '2', 0x0d, 0x0a, 0x81, 0x00};
    *segment = 0;
    if (len < 8)
        return DP_SOURCE_EWF_SIG_NONE;
    if (memcmp(head, evf, 8) == 0) {
        /* EWF-E01 file header: signature, fields start (1), segment number (le16), end (0) */
        if (len >= 13 && head[8] == 1)
            *segment = le16(head + 9);
        return DP_SOURCE_EWF_SIG_MEDIA;
    }
    if (memcmp(head, evf2, 8) == 0)
        return DP_SOURCE_EWF_SIG_MEDIA;
    if (memcmp(head, lvf, 8) == 0 || memcmp(head, lef2, 8) == 0)
        return DP_SOURCE_EWF_SIG_LOGICAL;
    return DP_SOURCE_EWF_SIG_NONE;
}

/* The segment file names: libewf_glob's, when it knows the name and its first name is path
 * itself; else path alone (a set of one: libewf says so when it is not). */
static enum dp_status find_segments(struct dp_source_ewf *e, const char *path, struct dp_error *err)
{
    libewf_error_t *le = NULL;
    struct stat a, b;
    if (libewf_glob(path, strlen(path), LIBEWF_FORMAT_UNKNOWN, &e->names, &e->nnames, &le) == 1 &&
        e->nnames > 0 && stat(path, &a) == 0 && stat(e->names[0], &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        e->globbed = true;
        return DP_OK;
    }
    libewf_error_free(&le);
    if (e->names != NULL)
        libewf_glob_free(e->names, e->nnames, NULL);
    e->nnames = 0;
    e->names = malloc(sizeof(*e->names));
    if (e->names == NULL || (e->names[0] = strdup(path)) == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    e->nnames = 1;
    e->globbed = false;
    return DP_OK;
}

/* Each segment a regular file (libewf would block on a FIFO) that is the EWF segment of its
 * place in the set. */
static enum dp_status check_segments(const struct dp_source_ewf *e, struct dp_error *err)
{
    for (int i = 0; i < e->nnames; i++) {
        struct stat st;
        bool found = stat(e->names[i], &st) == 0;
        if (!found || !S_ISREG(st.st_mode)) {
            int errnum = found ? 0 : errno;
            char *q = dp_quote_bytes(e->names[i], strlen(e->names[i]));
            enum dp_status r =
                found ? dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                                     "EWF segment '%s' is not a regular file", q ? q : "?")
                      : dp_error_set(err, DP_ERR_IO, errnum, "EWF segment '%s'", q ? q : "?");
            free(q);
            return r;
        }
        uint8_t head[DP_SOURCE_EWF_SNIFF_BYTES];
        ssize_t n = -1;
        int errnum = 0;
        int fd = open(e->names[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0) {
            do
                n = pread(fd, head, sizeof(head), 0);
            while (n < 0 && errno == EINTR);
        }
        if (n < 0)
            errnum = errno;
        if (fd >= 0)
            close(fd);
        unsigned seg = 0;
        if (n < 0 || dp_source_ewf_sniff(head, (size_t)n, &seg) != DP_SOURCE_EWF_SIG_MEDIA ||
            (seg != 0 && seg != (unsigned)i + 1)) {
            char *q = dp_quote_bytes(e->names[i], strlen(e->names[i]));
            enum dp_status r;
            if (errnum != 0)
                r = dp_error_set(err, DP_ERR_IO, errnum, "cannot read EWF segment '%s'",
                                 q ? q : "?");
            else if (seg != 0 && i == 0)
                r = dp_error_set(err, DP_ERR_INVALID, 0,
                                 "'%s' is segment %u of an EWF set: open its first segment "
                                 "(.E01)",
                                 q ? q : "?", seg);
            else if (seg != 0)
                r = dp_error_set(err, DP_ERR_PARSE, 0,
                                 "EWF segment '%s' says it is segment %u, not %d", q ? q : "?", seg,
                                 i + 1);
            else
                r = dp_error_set(err, DP_ERR_PARSE, 0, "'%s' is not an EWF segment file",
                                 q ? q : "?");
            free(q);
            return r;
        }
    }
    return DP_OK;
}

/* Copy a NUL-terminated UTF-8 string into dst (cap bytes), cut at a character boundary. */
static void copy_utf8(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    if (src[n] != '\0')
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Header value id into dst ("" when absent or unreadable: a header is information, not what
 * the sweep reads). */
static void header(libewf_handle_t *h, const char *id, char *dst, size_t cap)
{
    uint8_t buf[4096];
    dst[0] = '\0';
    if (libewf_handle_get_utf8_header_value(h, (const uint8_t *)id, strlen(id), buf, sizeof(buf),
                                            NULL) == 1) {
        buf[sizeof(buf) - 1] = '\0';
        copy_utf8(dst, cap, (const char *)buf);
    }
}

/* Stored hash id into dst as lower-case hex of exactly len digits, else "". */
static void hash(libewf_handle_t *h, const char *id, char *dst, size_t len)
{
    uint8_t buf[256];
    dst[0] = '\0';
    if (libewf_handle_get_utf8_hash_value(h, (const uint8_t *)id, strlen(id), buf, sizeof(buf),
                                          NULL) != 1)
        return;
    buf[sizeof(buf) - 1] = '\0';
    if (strlen((const char *)buf) != len)
        return;
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            dst[0] = '\0';
            return;
        }
        dst[i] = c;
    }
    dst[len] = '\0';
}

static const char *format_name(uint8_t f)
{
    switch (f) {
    case LIBEWF_FORMAT_ENCASE1:
        return "encase1";
    case LIBEWF_FORMAT_ENCASE2:
        return "encase2";
    case LIBEWF_FORMAT_ENCASE3:
        return "encase3";
    case LIBEWF_FORMAT_ENCASE4:
        return "encase4";
    case LIBEWF_FORMAT_ENCASE5:
        return "encase5";
    case LIBEWF_FORMAT_ENCASE6:
        return "encase6";
    case LIBEWF_FORMAT_ENCASE7:
        return "encase7";
    case LIBEWF_FORMAT_SMART:
        return "smart";
    case LIBEWF_FORMAT_FTK_IMAGER:
        return "ftk";
    case LIBEWF_FORMAT_LINEN5:
        return "linen5";
    case LIBEWF_FORMAT_LINEN6:
        return "linen6";
    case LIBEWF_FORMAT_LINEN7:
        return "linen7";
    case LIBEWF_FORMAT_EWF:
        return "ewf";
    case LIBEWF_FORMAT_EWFX:
        return "ewfx";
    default:
        return "";
    }
}

static void fill_info(struct dp_source_ewf *e, struct dp_source_info *info)
{
    libewf_handle_t *h = e->h;
    info->segments = (unsigned)e->nnames;
    size32_t chunk = 0;
    if (libewf_handle_get_chunk_size(h, &chunk, NULL) == 1)
        info->chunk_size = chunk;
    uint8_t fmt = 0;
    if (libewf_handle_get_format(h, &fmt, NULL) == 1)
        snprintf(info->format, sizeof(info->format), "%s", format_name(fmt));
    hash(h, "MD5", info->md5, 32);
    hash(h, "SHA1", info->sha1, 40);
    header(h, "case_number", info->case_number, sizeof(info->case_number));
    header(h, "evidence_number", info->evidence_number, sizeof(info->evidence_number));
    header(h, "examiner_name", info->examiner_name, sizeof(info->examiner_name));
    header(h, "description", info->description, sizeof(info->description));
    header(h, "notes", info->notes, sizeof(info->notes));
    header(h, "acquiry_date", info->acquiry_date, sizeof(info->acquiry_date));
    header(h, "acquiry_software_version", info->acquiry_software, sizeof(info->acquiry_software));
    header(h, "acquiry_operating_system", info->acquiry_os, sizeof(info->acquiry_os));
    header(h, "model", info->ewf_model, sizeof(info->ewf_model));
    header(h, "serial_number", info->ewf_serial_number, sizeof(info->ewf_serial_number));
}

/* libewf's handle opened on the segments, the set whole, its media size and sector size. */
static enum dp_status open_handle(struct dp_source_ewf *e, struct dp_error *err)
{
    libewf_error_t *le = NULL;
    if (libewf_handle_initialize(&e->h, &le) != 1)
        return ewf_fail(err, DP_ERR_NOMEM, le, "cannot set up libewf");
    if (libewf_handle_open(e->h, e->names, e->nnames, LIBEWF_OPEN_READ, &le) != 1) {
        libewf_handle_free(&e->h, NULL);
        return ewf_fail(err, DP_ERR_PARSE, le, "cannot open EWF set '%s'", e->qpath);
    }
    /* ISO 8601 dates in the headers (the default is ctime's; refused before the open) */
    if (libewf_handle_set_header_values_date_format(e->h, LIBEWF_DATE_FORMAT_ISO8601, &le) != 1)
        libewf_error_free(&le);
    int c = libewf_handle_segment_files_corrupted(e->h, &le);
    if (c != 0) {
        libewf_error_free(&le);
        const char *last = e->names[e->nnames - 1];
        char *q = dp_quote_bytes(last, strlen(last));
        enum dp_status r = dp_error_set(
            err, DP_ERR_PARSE, 0,
            "EWF set '%s' is incomplete or damaged: %d segment file%s found (through '%s'); "
            "a segment is missing or truncated",
            e->qpath, e->nnames, e->nnames == 1 ? "" : "s", q ? q : "?");
        free(q);
        return r;
    }
    size64_t size = 0;
    uint32_t bps = 0;
    if (libewf_handle_get_media_size(e->h, &size, &le) != 1)
        return ewf_fail(err, DP_ERR_PARSE, le, "EWF set '%s': no media size", e->qpath);
    if (libewf_handle_get_bytes_per_sector(e->h, &bps, &le) != 1)
        libewf_error_free(&le);
    if (size == 0)
        return dp_error_set(err, DP_ERR_INVALID, 0, "EWF set '%s' holds no media", e->qpath);
    e->size = size;
    e->bps = bps != 0 ? bps : 512;
    return DP_OK;
}

enum dp_status dp_source_ewf_open(struct dp_source_ewf **out, struct dp_source_info *info,
                                  const char *path, struct dp_error *err)
{
    *out = NULL;
    struct dp_source_ewf *e = calloc(1, sizeof(*e));
    if (e == NULL || (e->qpath = dp_quote_bytes(path, strlen(path))) == NULL) {
        free(e);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    enum dp_status st = find_segments(e, path, err);
    if (st == DP_OK)
        st = check_segments(e, err);
    if (st == DP_OK)
        st = open_handle(e, err);
    if (st != DP_OK) {
        dp_source_ewf_free(e);
        return st;
    }
    info->kind = DP_SOURCE_EWF;
    info->size = e->size;
    info->sector_size = e->bps;
    fill_info(e, info);
    *out = e;
    return DP_OK;
}

/* Copy libewf's checksum errors not seen yet into e->bad (kept sorted). false: out of memory
 * or libewf failed (le set). */
static bool take_checksum_errors(struct dp_source_ewf *e, libewf_error_t **le)
{
    uint32_t n = 0;
    if (libewf_handle_get_number_of_checksum_errors(e->h, &n, le) != 1)
        return false;
    for (; e->seen < n; e->seen++) {
        uint64_t first = 0, count = 0;
        if (libewf_handle_get_checksum_error(e->h, e->seen, &first, &count, le) != 1)
            return false;
        if (e->nbad == e->bad_cap) {
            size_t cap = e->bad_cap ? 2 * e->bad_cap : 16;
            uint64_t(*p)[2] = realloc(e->bad, cap * sizeof(*p));
            if (p == NULL)
                return false;
            e->bad = p;
            e->bad_cap = cap;
        }
        uint64_t a = first * e->bps, b = (first + count) * e->bps;
        size_t i = e->nbad;
        while (i > 0 && e->bad[i - 1][0] > a) {
            e->bad[i][0] = e->bad[i - 1][0];
            e->bad[i][1] = e->bad[i - 1][1];
            i--;
        }
        e->bad[i][0] = a;
        e->bad[i][1] = b;
        e->nbad++;
    }
    return true;
}

/* The first known bad range meeting [a, b), or NULL. Ranges do not overlap each other
 * (libewf records a chunk once), so their ends are sorted too. */
static const uint64_t *bad_range(const struct dp_source_ewf *e, uint64_t a, uint64_t b)
{
    size_t lo = 0, hi = e->nbad;
    while (lo < hi) { /* first range ending after a */
        size_t mid = lo + (hi - lo) / 2;
        if (e->bad[mid][1] <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->nbad && e->bad[lo][0] < b ? e->bad[lo] : NULL;
}

enum dp_status dp_source_ewf_read(struct dp_source_ewf *e, uint64_t off, void *buf, size_t len,
                                  size_t *got, struct dp_error *err)
{
    *got = 0;
    if (off >= e->size)
        return DP_OK;
    if (len > e->size - off)
        len = (size_t)(e->size - off);
    libewf_error_t *le = NULL;
    while (*got < len) {
        /* pieces libewf's ssize_t and its chunk cache handle comfortably */
        size_t want = len - *got < (64u << 20) ? len - *got : (64u << 20);
        ssize_t n = libewf_handle_read_random(e->h, (uint8_t *)buf + *got, want,
                                              (off64_t)(off + *got), &le);
        if (n < 0)
            return ewf_fail(err, DP_ERR_IO, le, "EWF set '%s': cannot read at byte %llu", e->qpath,
                            (unsigned long long)(off + *got));
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    if (!take_checksum_errors(e, &le)) {
        if (le == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        return ewf_fail(err, DP_ERR_IO, le, "EWF set '%s': cannot list checksum errors", e->qpath);
    }
    const uint64_t *b = bad_range(e, off, off + *got);
    if (b != NULL)
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "EWF set '%s': checksum error in sectors %llu-%llu (bytes %llu-%llu): "
                            "the evidence there is damaged",
                            e->qpath, (unsigned long long)(b[0] / e->bps),
                            (unsigned long long)(b[1] / e->bps - 1), (unsigned long long)b[0],
                            (unsigned long long)(b[1] - 1));
    return DP_OK;
}

size_t dp_source_ewf_file_count(const struct dp_source_ewf *e)
{
    return (size_t)e->nnames;
}

const char *dp_source_ewf_file(const struct dp_source_ewf *e, size_t i)
{
    if (i >= (size_t)e->nnames)
        dp_misuse("dp_source_ewf_file: index out of range");
    return e->names[i];
}

uint64_t dp_source_ewf_checksum_errors(const struct dp_source_ewf *e)
{
    return e->seen;
}

void dp_source_ewf_free(struct dp_source_ewf *e)
{
    if (e == NULL)
        return;
    if (e->h != NULL) {
        libewf_handle_close(e->h, NULL);
        libewf_handle_free(&e->h, NULL);
    }
    if (e->globbed)
        libewf_glob_free(e->names, e->nnames, NULL);
    else if (e->names != NULL) {
        free(e->names[0]);
        free(e->names);
    }
    free(e->bad);
    free(e->qpath);
    free(e);
}
