/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: append-only hash-chained journal (format in docs/journal.md). */
#include "deprive/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/util.h"

#define HASH_LEN 32
#define READ_CHUNK 65536

struct dp_journal {
    int fd;
    uint64_t seq;           /* next seq */
    uint8_t head[HASH_LEN]; /* hash of the last line, zeros when empty */
    bool broken;            /* an append failed: state on disk unknown */
    char *qpath;            /* quoted path for messages */
};

static void line_hash(uint8_t out[HASH_LEN], const char *line, size_t len)
{
    crypto_generichash(out, HASH_LEN, (const unsigned char *)line, len, NULL, 0);
}

static bool type_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > DP_JOURNAL_TYPE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
            return false;
    }
    return true;
}

/* "YYYY-MM-DDTHH:MM:SSZ" by shape; the value is informational, never trusted for order. */
static bool time_ok(const char *t)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(t) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
            return false;
    }
    return true;
}

static enum dp_status sys_fail(struct dp_error *err, const char *what, const char *qpath)
{
    return dp_error_set(err, DP_ERR_IO, errno, "cannot %s journal '%s'", what, qpath);
}

/* ---- reading ------------------------------------------------------------------------------ */

/* Line reader over pread, so the descriptor's offset (and O_APPEND) do not matter. */
struct reader {
    int fd;
    char *buf;
    size_t cap, start, end; /* unread bytes are buf[start..end) */
    uint64_t off;           /* file offset of buf[end] */
    uint64_t limit;         /* stop reading here */
    bool eof;
};

/* Read more bytes; false with errno on failure. */
static bool reader_fill(struct reader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end < READ_CHUNK) {
        size_t ncap = r->end + READ_CHUNK;
        char *nb = realloc(r->buf, ncap);
        if (nb == NULL) {
            errno = ENOMEM;
            return false;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    size_t want = r->cap - r->end;
    if (r->limit - r->off < want)
        want = (size_t)(r->limit - r->off);
    if (want == 0) {
        r->eof = true;
        return true;
    }
    ssize_t n;
    do
        n = pread(r->fd, r->buf + r->end, want, (off_t)r->off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return false;
    if (n == 0)
        r->eof = true;
    r->end += (size_t)n;
    r->off += (uint64_t)n;
    return true;
}

enum rd { RD_LINE, RD_PARTIAL, RD_EOF, RD_LONG, RD_ERR };

/* Next line: RD_LINE (with newline, not included in len), RD_PARTIAL (bytes after the last
 * newline), RD_EOF, RD_LONG (over DP_JOURNAL_LINE_MAX), RD_ERR (errno set). */
static enum rd reader_line(struct reader *r, const char **line, size_t *len)
{
    size_t scanned = 0;
    for (;;) {
        size_t avail = r->end - r->start - scanned;
        char *nl = avail > 0 ? memchr(r->buf + r->start + scanned, '\n', avail) : NULL;
        if (nl != NULL) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start += *len + 1;
            return *len + 1 > DP_JOURNAL_LINE_MAX ? RD_LONG : RD_LINE;
        }
        scanned = r->end - r->start;
        if (scanned >= DP_JOURNAL_LINE_MAX)
            return RD_LONG;
        if (r->eof) {
            if (scanned == 0)
                return RD_EOF;
            *line = r->buf + r->start;
            *len = scanned;
            r->start = r->end;
            return RD_PARTIAL;
        }
        if (!reader_fill(r))
            return RD_ERR;
    }
}

/* True when nothing follows the line just returned. */
static bool reader_at_end(struct reader *r, bool *failed)
{
    *failed = false;
    while (r->start == r->end && !r->eof) {
        if (!reader_fill(r)) {
            *failed = true;
            return false;
        }
    }
    return r->start == r->end;
}

/* State of one pass over a journal. */
struct pass {
    const char *qpath;
    bool allow_torn; /* open (a writer): drop a torn tail; verify: reject it */
    dp_journal_visit_fn visit;
    void *ctx;
    uint64_t limit; /* bytes to read */
    uint64_t records;
    uint8_t head[HASH_LEN];
    uint64_t valid_end; /* offset just past the last valid record */
    bool torn;
    uint64_t torn_bytes;
};

static enum dp_status bad_line(struct pass *p, struct dp_error *err, const char *why,
                               const char *detail)
{
    const char *sep = detail[0] ? ": " : "";
    if (p->allow_torn && p->records == 0) /* a writer, and not one record: not ours to touch */
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "'%s' is not a deprive journal (line 1: %s%s%s): refusing to modify "
                            "it",
                            p->qpath, why, sep, detail);
    return dp_error_set(err, DP_ERR_VERIFY, 0, "journal '%s': line %llu: %s%s%s", p->qpath,
                        (unsigned long long)p->records + 1, why, sep, detail);
}

/* Check the shape, seq and link of one parsed record; hand it to visit. */
static enum dp_status check_record(struct pass *p, json_t *rec, struct dp_error *err)
{
    json_t *seq = json_object_get(rec, "seq");
    json_t *prev = json_object_get(rec, "prev");
    json_t *time = json_object_get(rec, "time");
    json_t *type = json_object_get(rec, "type");
    json_t *data = json_object_get(rec, "data");
    if (!json_is_integer(seq) || !json_is_string(prev) || !json_is_string(time) ||
        !json_is_string(type) || !json_is_object(data) || json_object_size(rec) != 5)
        return bad_line(p, err,
                        "not a journal record (want exactly seq, prev, time, type, data "
                        "with their types)",
                        "");
    if (json_integer_value(seq) < 0 || (uint64_t)json_integer_value(seq) != p->records) {
        char d[64];
        snprintf(d, sizeof(d), "got %lld, expected %llu", (long long)json_integer_value(seq),
                 (unsigned long long)p->records);
        return bad_line(p, err, "seq out of order (line missing, moved or edited)", d);
    }
    char want[DP_JOURNAL_HEX_LEN];
    dp_hex_encode(want, p->head, HASH_LEN);
    if (json_string_length(prev) != 2 * HASH_LEN || strcmp(json_string_value(prev), want) != 0)
        return bad_line(p, err,
                        p->records == 0 ? "prev of the first record is not all zeros"
                                        : "prev does not match the hash of the line before "
                                          "(a record was altered)",
                        "");
    if (json_string_length(time) != strlen(json_string_value(time)) ||
        !time_ok(json_string_value(time)))
        return bad_line(p, err, "time is not YYYY-MM-DDTHH:MM:SSZ", "");
    if (!type_ok(json_string_value(type)) ||
        strlen(json_string_value(type)) != json_string_length(type))
        return bad_line(p, err, "bad record type", "");
    if (p->visit != NULL) {
        enum dp_status st = p->visit(p->ctx, p->records, json_string_value(type), data, err);
        if (st != DP_OK) {
            dp_error_prefix(err, "journal '%s': line %llu: ", p->qpath,
                            (unsigned long long)p->records + 1);
            return st;
        }
    }
    return DP_OK;
}

/* With no valid record before it, a torn line is all that tells a journal whose first append
 * was interrupted from any other file, and truncating the wrong file destroys it. So it must
 * start the way every record line does (JSON_COMPACT | JSON_SORT_KEYS, data an object), or,
 * cut shorter than that, be a prefix of it; and an unterminated line that parses is a torn
 * record only if it is a whole valid one (its newline lost). */
static enum dp_status first_line_torn_ok(struct pass *p, const char *line, size_t len, bool partial,
                                         struct dp_error *err)
{
    static const char opening[] = "{\"data\":{";
    size_t n = sizeof(opening) - 1;
    bool shaped = len >= n ? memcmp(line, opening, n) == 0
                           : partial && len > 0 && memcmp(line, opening, len) == 0;
    if (!shaped)
        return bad_line(p, err, "does not begin like a journal record", "");
    if (!partial)
        return DP_OK; /* the caller found it unparsable: a cut record with a hole of zeros */
    json_error_t jerr;
    json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (rec == NULL)
        return DP_OK;
    enum dp_status st =
        json_is_object(rec) ? check_record(p, rec, err) : bad_line(p, err, "not a JSON object", "");
    json_decref(rec);
    return st;
}

/* A line that cannot be a committed record. At the very end of the file it is what a crash
 * mid-append leaves; anywhere else it is damage. */
static enum dp_status torn_or_bad(struct pass *p, struct reader *r, const char *line, size_t len,
                                  bool partial, const char *why, const char *detail,
                                  struct dp_error *err)
{
    /* before reader_at_end, which may move the buffer under line */
    enum dp_status first = p->records == 0 ? first_line_torn_ok(p, line, len, partial, err) : DP_OK;
    bool failed = false;
    bool last = partial || reader_at_end(r, &failed);
    if (!partial && failed)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot read journal '%s'", p->qpath);
    if (!last)
        return bad_line(p, err, why, detail);
    if (first != DP_OK)
        return first;
    if (!p->allow_torn)
        return bad_line(p, err,
                        "incomplete final record (the writer crashed or is still "
                        "writing)",
                        detail);
    p->torn = true;
    p->torn_bytes = len + (partial ? 0 : 1);
    return DP_OK;
}

/* Read the whole journal (up to p->limit), verifying every record. */
static enum dp_status run_pass(int fd, struct pass *p, struct dp_error *err)
{
    enum dp_status st = DP_OK;
    struct reader r = {.fd = fd, .limit = p->limit};
    p->records = 0;
    p->valid_end = 0;
    p->torn = false;
    p->torn_bytes = 0;
    memset(p->head, 0, sizeof(p->head));
    for (;;) {
        const char *line;
        size_t len;
        enum rd rd = reader_line(&r, &line, &len);
        if (rd == RD_EOF)
            break;
        if (rd == RD_ERR) {
            st = dp_error_set(err, DP_ERR_IO, errno, "cannot read journal '%s'", p->qpath);
            goto out;
        }
        if (rd == RD_LONG) {
            st = bad_line(p, err, "line longer than the journal limit", "");
            goto out;
        }
        if (rd == RD_PARTIAL) {
            st = torn_or_bad(p, &r, line, len, true, "", "no newline", err);
            goto out;
        }
        json_error_t jerr;
        json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (rec == NULL && json_error_code(&jerr) == json_error_duplicate_key) {
            /* a complete object: no crash writes that */
            st = bad_line(p, err, "not valid JSON", jerr.text);
            goto out;
        }
        if (rec == NULL) {
            st = torn_or_bad(p, &r, line, len, false, "not valid JSON", jerr.text, err);
            goto out;
        }
        if (!json_is_object(rec)) { /* parsable, so not a crash remnant: damage */
            json_decref(rec);
            st = bad_line(p, err, "not a JSON object", "");
            goto out;
        }
        st = check_record(p, rec, err);
        json_decref(rec);
        if (st != DP_OK)
            goto out;
        line_hash(p->head, line, len);
        p->records++;
        p->valid_end += len + 1;
    }
out:
    free(r.buf);
    return st;
}

/* Verify first, then replay through visit, so that visit never sees a journal that turns out
 * to be damaged further on. */
static enum dp_status verify_and_replay(int fd, struct pass *p, struct dp_error *err)
{
    dp_journal_visit_fn visit = p->visit;
    p->visit = NULL;
    p->limit = UINT64_MAX;
    enum dp_status st = run_pass(fd, p, err);
    if (st != DP_OK || visit == NULL)
        return st;
    struct pass second = *p;
    second.visit = visit;
    second.limit = p->valid_end;
    second.allow_torn = false;
    st = run_pass(fd, &second, err);
    if (st != DP_OK)
        return st;
    if (second.records != p->records || sodium_memcmp(second.head, p->head, HASH_LEN) != 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0, "journal '%s' changed while being read",
                            p->qpath);
    return DP_OK;
}

/* ---- opening ------------------------------------------------------------------------------ */

static enum dp_status fsync_parent(const char *path, const char *qpath, struct dp_error *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    enum dp_status st = DP_OK;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        st =
            dp_error_set(err, DP_ERR_IO, errno, "cannot sync the directory of journal '%s'", qpath);
    if (dfd >= 0)
        close(dfd);
    free(dir);
    return st;
}

static enum dp_status lock_fd(int fd, const char *qpath, struct dp_error *err)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return DP_OK;
    if (errno == EWOULDBLOCK)
        return dp_error_set(err, DP_ERR_IO, errno, "journal '%s' is in use by another writer",
                            qpath);
    return sys_fail(err, "lock", qpath);
}

static enum dp_status check_regular(int fd, const char *qpath, struct dp_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return sys_fail(err, "stat", qpath);
    if (!S_ISREG(st.st_mode))
        return dp_error_set(err, DP_ERR_INVALID, 0, "journal '%s' is not a regular file", qpath);
    return DP_OK;
}

static struct dp_journal *journal_new(const char *path)
{
    struct dp_journal *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return NULL;
    j->fd = -1;
    j->qpath = dp_quote_bytes(path, strlen(path));
    if (j->qpath == NULL) {
        free(j);
        return NULL;
    }
    return j;
}

enum dp_status dp_journal_create(struct dp_journal **out, const char *path, struct dp_error *err)
{
    enum dp_status st = DP_OK;
    bool created = false;
    *out = NULL;
    if (sodium_init() < 0)
        return dp_error_set(err, DP_ERR_CRYPTO, 0, "libsodium initialisation failed");
    struct dp_journal *j = journal_new(path);
    if (j == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    j->fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (j->fd < 0) {
        st = sys_fail(err, "create", j->qpath);
        goto out;
    }
    created = true;
    if ((st = lock_fd(j->fd, j->qpath, err)) != DP_OK)
        goto out;
    if (fsync(j->fd) != 0) {
        st = sys_fail(err, "sync", j->qpath);
        goto out;
    }
    if ((st = fsync_parent(path, j->qpath, err)) != DP_OK)
        goto out;
    *out = j;
    j = NULL;
out:
    if (j != NULL && created)
        unlink(path); /* ours, made a moment ago, and empty */
    dp_journal_free(j);
    return st;
}

enum dp_status dp_journal_open(struct dp_journal **out, const char *path, dp_journal_visit_fn visit,
                               void *ctx, struct dp_journal_replay *info, struct dp_error *err)
{
    enum dp_status st = DP_OK;
    struct pass p = {.allow_torn = true, .visit = visit, .ctx = ctx};
    *out = NULL;
    if (info != NULL)
        memset(info, 0, sizeof(*info));
    if (sodium_init() < 0)
        return dp_error_set(err, DP_ERR_CRYPTO, 0, "libsodium initialisation failed");
    struct dp_journal *j = journal_new(path);
    if (j == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    j->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (j->fd < 0) {
        st = sys_fail(err, "open", j->qpath);
        goto out;
    }
    if ((st = check_regular(j->fd, j->qpath, err)) != DP_OK ||
        (st = lock_fd(j->fd, j->qpath, err)) != DP_OK)
        goto out;
    p.qpath = j->qpath;
    if ((st = verify_and_replay(j->fd, &p, err)) != DP_OK)
        goto out;
    if (p.torn) {
        /* Only now, with the rest verified and replayed, drop the partial record. */
        if (ftruncate(j->fd, (off_t)p.valid_end) != 0 || fsync(j->fd) != 0) {
            st = sys_fail(err, "truncate the torn tail of", j->qpath);
            goto out;
        }
    }
    j->seq = p.records;
    memcpy(j->head, p.head, HASH_LEN);
    if (info != NULL) {
        info->records = p.records;
        dp_hex_encode(info->head, p.head, HASH_LEN);
        info->torn_tail = p.torn;
        info->torn_offset = p.torn ? p.valid_end : 0;
        info->torn_bytes = p.torn_bytes;
    }
    *out = j;
    j = NULL;
out:
    dp_journal_free(j);
    return st;
}

enum dp_status dp_journal_verify_file(const char *path, char head_hex[DP_JOURNAL_HEX_LEN],
                                      uint64_t *records, dp_journal_visit_fn visit, void *ctx,
                                      struct dp_error *err)
{
    enum dp_status st = DP_OK;
    struct pass p = {.allow_torn = false, .visit = visit, .ctx = ctx};
    if (sodium_init() < 0)
        return dp_error_set(err, DP_ERR_CRYPTO, 0, "libsodium initialisation failed");
    char *qpath = dp_quote_bytes(path, strlen(path));
    if (qpath == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); /* FIFO: no hang */
    if (fd < 0) {
        st = sys_fail(err, "open", qpath);
        goto out;
    }
    if ((st = check_regular(fd, qpath, err)) != DP_OK)
        goto out;
    p.qpath = qpath;
    if ((st = verify_and_replay(fd, &p, err)) != DP_OK)
        goto out;
    if (head_hex != NULL)
        dp_hex_encode(head_hex, p.head, HASH_LEN);
    if (records != NULL)
        *records = p.records;
out:
    if (fd >= 0)
        close(fd);
    free(qpath);
    return st;
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Serialise record seq of j into a heap line ending in '\n'. */
static enum dp_status build_line(const struct dp_journal *j, const char *type, json_t *data,
                                 char **line, size_t *len, struct dp_error *err)
{
    enum dp_status st = DP_OK;
    char prev[DP_JOURNAL_HEX_LEN], now[32];
    dp_hex_encode(prev, j->head, HASH_LEN);
    dp_utc_format(now, sizeof(now), time(NULL));
    char *s = NULL;
    json_t *rec = json_object();
    json_t *empty = data == NULL ? json_object() : NULL;
    if (rec == NULL || (data == NULL && empty == NULL) ||
        json_object_set_new(rec, "seq", json_integer((json_int_t)j->seq)) != 0 ||
        json_object_set_new(rec, "prev", json_string(prev)) != 0 ||
        json_object_set_new(rec, "time", json_string(now)) != 0 ||
        json_object_set_new(rec, "type", json_string(type)) != 0 ||
        json_object_set(rec, "data", data != NULL ? data : empty) != 0) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    s = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
    if (s == NULL) {
        st = dp_error_set(err, DP_ERR_INVALID, 0,
                          "cannot serialise a journal record (out of memory or a cyclic value)");
        goto out;
    }
    size_t n = strlen(s);
    if (memchr(s, '\n', n) != NULL)
        dp_misuse("journal: serialised record contains a newline");
    if (n + 1 > DP_JOURNAL_LINE_MAX) {
        st = dp_error_set(err, DP_ERR_LIMIT, 0, "journal record of %zu bytes exceeds %d", n + 1,
                          DP_JOURNAL_LINE_MAX);
        goto out;
    }
    char *l = realloc(s, n + 2);
    if (l == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    s = l;
    s[n] = '\n';
    s[n + 1] = '\0';
    *line = s;
    *len = n + 1;
    s = NULL;
out:
    free(s);
    json_decref(empty);
    json_decref(rec);
    return st;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0) {
            errno = EIO;
            return false;
        }
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

enum dp_status dp_journal_append(struct dp_journal *j, const char *type, json_t *data,
                                 struct dp_error *err)
{
    if (!type_ok(type))
        dp_misuse("dp_journal_append: type must be 1-32 characters of [a-z0-9_.-]");
    if (data != NULL && !json_is_object(data))
        dp_misuse("dp_journal_append: data must be a JSON object or NULL");
    if (j->broken)
        return dp_error_set(err, DP_ERR_IO, 0,
                            "journal '%s' is unusable after a failed write; reopen it", j->qpath);
    if (j->seq >= (uint64_t)LLONG_MAX)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "journal '%s' is full", j->qpath);
    char *line = NULL;
    size_t len = 0;
    enum dp_status st = build_line(j, type, data, &line, &len, err);
    if (st != DP_OK)
        return st;
    /* From here a failure leaves the file in an unknown state (partial line, or a line whose
     * durability is unknown after a failed fdatasync, whose error Linux may not repeat). Only a
     * reopen, which replays and drops a torn tail, can tell what survived. */
    if (!write_all(j->fd, line, len)) {
        j->broken = true;
        st = sys_fail(err, "write", j->qpath);
        goto out;
    }
    if (fdatasync(j->fd) != 0) {
        j->broken = true;
        st = sys_fail(err, "sync", j->qpath);
        goto out;
    }
    line_hash(j->head, line, len - 1);
    j->seq++;
out:
    free(line);
    return st;
}

void dp_journal_head(const struct dp_journal *j, char hex[DP_JOURNAL_HEX_LEN])
{
    dp_hex_encode(hex, j->head, HASH_LEN);
}

uint64_t dp_journal_seq(const struct dp_journal *j)
{
    return j->seq;
}

enum dp_status dp_journal_close(struct dp_journal *j, struct dp_error *err)
{
    if (j == NULL)
        return DP_OK;
    enum dp_status st = DP_OK;
    if (j->broken)
        st =
            dp_error_set(err, DP_ERR_IO, 0, "journal '%s' had a failed write; reopen it", j->qpath);
    else if (fsync(j->fd) != 0)
        st = sys_fail(err, "sync", j->qpath);
    int fd = j->fd;
    j->fd = -1;
    if (close(fd) != 0 && st == DP_OK)
        st = sys_fail(err, "close", j->qpath);
    dp_journal_free(j);
    return st;
}

void dp_journal_free(struct dp_journal *j)
{
    if (j == NULL)
        return;
    if (j->fd >= 0)
        close(j->fd);
    free(j->qpath);
    free(j);
}
