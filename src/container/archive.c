/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: archives read member by member with libarchive, nested ones followed, every limit
 * a recorded skip (include/deprive/archive.h). */
#include "deprive/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const char *const kind_names[DP_ARCHIVE_KIND_COUNT] = {
    "none", "zip", "7zip", "rar", "tar", "cpio", "iso9660", "compressed"};

const char *dp_archive_kind_name(enum dp_archive_kind k)
{
    return (unsigned)k < DP_ARCHIVE_KIND_COUNT ? kind_names[k] : "?";
}

static const char *const skip_names[DP_MEMBER_SKIP_COUNT] = {
    "encrypted", "corrupt", "depth", "max-bytes", "max-ratio", "max-members",
    "nested-too-large", "unsupported"};

const char *dp_member_skip_name(enum dp_member_skip r)
{
    return (unsigned)r < DP_MEMBER_SKIP_COUNT ? skip_names[r] : "?";
}

static bool at(const uint8_t *h, size_t len, size_t off, const char *sig, size_t n)
{
    return len >= off + n && memcmp(h + off, sig, n) == 0;
}

/* A v7/ustar header whose checksum is right (old tar has no magic). */
static bool tar_checksum_ok(const uint8_t *h, size_t len)
{
    if (len < 512 || h[0] == '\0')
        return false;
    unsigned long sum = 0, want = 0;
    for (size_t i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    size_t i = 148;
    while (i < 156 && h[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
        want = want * 8 + (unsigned long)(h[i] - '0');
    return digits > 0 && sum == want;
}

enum dp_archive_kind dp_archive_sniff(const uint8_t *h, size_t len)
{
    if (at(h, len, 0, "PK\x03\x04", 4) || at(h, len, 0, "PK\x05\x06", 4) ||
        at(h, len, 0, "PK\x07\x08", 4))
        return DP_ARCHIVE_ZIP;
    if (at(h, len, 0, "7z\xbc\xaf\x27\x1c", 6))
        return DP_ARCHIVE_7ZIP;
    if (at(h, len, 0, "Rar!\x1a\x07", 6))
        return DP_ARCHIVE_RAR;
    if (at(h, len, 257, "ustar", 5) || tar_checksum_ok(h, len))
        return DP_ARCHIVE_TAR;
    if (at(h, len, 0, "070707", 6) || at(h, len, 0, "070701", 6) ||
        at(h, len, 0, "070702", 6) || at(h, len, 0, "\xc7\x71", 2) || at(h, len, 0, "\x71\xc7", 2))
        return DP_ARCHIVE_CPIO;
    if (at(h, len, 32769, "CD001", 5))
        return DP_ARCHIVE_ISO9660;
    if (at(h, len, 0, "\x1f\x8b\x08", 3) || (at(h, len, 0, "BZh", 3) && len > 3 && h[3] >= '1' &&
                                               h[3] <= '9') ||
        at(h, len, 0, "\xfd" "7zXZ\x00", 6) || at(h, len, 0, "\x28\xb5\x2f\xfd", 4))
        return DP_ARCHIVE_COMPRESSED;
    return DP_ARCHIVE_NONE;
}

/* ---- which filters libarchive provides itself (probed once) ---- */

enum { F_GZIP, F_BZIP2, F_XZ, F_LZMA, F_ZSTD, F_COUNT };
static bool filter_ok[F_COUNT];
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static int (*const filter_fn[F_COUNT])(struct archive *) = {
    archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
    archive_read_support_filter_xz, archive_read_support_filter_lzma,
    archive_read_support_filter_zstd};

/* ARCHIVE_WARN means "through an external program": such a filter is never enabled. */
static void probe(void)
{
    for (int i = 0; i < F_COUNT; i++) {
        struct archive *a = archive_read_new();
        filter_ok[i] = a != NULL && filter_fn[i](a) == ARCHIVE_OK;
        archive_read_free(a);
    }
}

/* How a reader reads: every format; a compressed single stream as one member whatever its
 * content (see walk_archive: zeros at its start read as an empty tar); a zip's entries by
 * their local headers, as a stream (an entry its central directory does not list). */
enum reader { READ_ALL, READ_RAW, READ_ZIP_STREAM };

static struct archive *new_reader(enum dp_archive_kind kind, const struct dp_archive_limits *l,
                                  enum reader how)
{
    pthread_once(&probe_once, probe);
    struct archive *a = archive_read_new();
    if (a == NULL)
        return NULL;
    if (how == READ_RAW) {
        archive_read_support_format_raw(a);
        goto filters;
    }
    if (how == READ_ZIP_STREAM) {
        archive_read_support_format_zip_streamable(a);
        goto filters;
    }
    archive_read_support_format_zip(a);
    archive_read_support_format_7zip(a);
    archive_read_support_format_rar(a);
    archive_read_support_format_rar5(a);
    archive_read_support_format_tar(a);
    /* members after a tar's end-of-archive blocks (tars concatenated with cat) are read too */
    archive_read_set_format_option(a, "tar", "read_concatenated_archives", "1");
    archive_read_support_format_cpio(a);
    archive_read_support_format_iso9660(a);
    if (kind == DP_ARCHIVE_COMPRESSED) { /* a single compressed file: only after a filter */
        archive_read_support_format_raw(a);
        archive_read_support_format_empty(a); /* an empty one (a man page stub) is no damage */
    }
filters:
    for (int i = 0; i < F_COUNT; i++)
        if (filter_ok[i])
            filter_fn[i](a);
    for (size_t i = 0; i < l->password_count; i++)
        archive_read_add_passphrase(a, l->passwords[i]);
    return a;
}

void dp_archive_limits_fill(struct dp_archive_limits *l)
{
    l->max_depth = l->max_depth ? l->max_depth : DP_ARCHIVE_MAX_DEPTH_DEFAULT;
    l->max_bytes = l->max_bytes ? l->max_bytes : DP_ARCHIVE_MAX_BYTES_DEFAULT;
    l->max_ratio = l->max_ratio ? l->max_ratio : DP_ARCHIVE_MAX_RATIO_DEFAULT;
    l->max_members = l->max_members ? l->max_members : DP_ARCHIVE_MAX_MEMBERS_DEFAULT;
    l->nested_buffer = l->nested_buffer ? l->nested_buffer : DP_ARCHIVE_NESTED_BUFFER_DEFAULT;
}

/* ---- the walk ---- */

struct walk {
    const struct dp_archive_limits *lim;
    const struct dp_archive_visitor *v;
    struct dp_archive_stats *stats;
    uint64_t top_size;     /* the file's size, for the ratio */
    uint64_t bytes, members;
    bool stop;             /* a limit was reached: nothing more is examined */
    bool raw_retry;        /* read the compressed stream again as one raw member */
    enum dp_status fail;   /* the visitor's failure, or DP_ERR_NOMEM */
    uint8_t zeros[4096];
};

static void skip(struct walk *w, void *parent, const struct dp_member_info *m,
                 enum dp_member_skip r, const char *detail)
{
    w->stats->skipped[r]++;
    w->v->skip(w->v->ctx, parent, m, r, detail);
}

/* Count n more bytes against the limits; false (and the skip recorded) when one is reached. */
static bool account(struct walk *w, void *parent, const struct dp_member_info *m, uint64_t n)
{
    w->bytes += n;
    w->stats->bytes += n;
    char d[160];
    if (w->bytes > w->lim->max_bytes) {
        snprintf(d, sizeof(d), "more than %llu bytes expanded (--archive-max-bytes)",
                 (unsigned long long)w->lim->max_bytes);
        skip(w, parent, m, DP_MEMBER_BYTES, d);
        w->stop = true;
    } else if (w->bytes > DP_ARCHIVE_RATIO_ALLOWANCE &&
               w->bytes / (w->top_size ? w->top_size : 1) >= w->lim->max_ratio) {
        snprintf(d, sizeof(d),
                 "expanded %llu bytes from a %llu-byte archive: more than %llu times its size "
                 "(--archive-max-ratio), a decompression bomb",
                 (unsigned long long)w->bytes, (unsigned long long)w->top_size,
                 (unsigned long long)w->lim->max_ratio);
        skip(w, parent, m, DP_MEMBER_RATIO, d);
        w->stop = true;
    }
    return !w->stop;
}

/* How many entries the walk's archive listed: UNLISTED when the walk did not read to its end. */
#define UNLISTED UINT64_MAX

/* A zip entry its central directory does not list: where its local header is, and the index
 * it is given (after the listed entries, in file order). */
struct unlisted {
    uint64_t offset, index;
    bool first_only; /* its end is not known: the reader is given the rest of the zip, and
                        only the entry at its start is the one meant */
};

static enum dp_status walk_archive(struct walk *w, struct archive *a, void *parent,
                                   unsigned depth, enum dp_archive_kind kind,
                                   const struct unlisted *u, uint64_t *listed);

/* A slice [pos, end) of a zip (in buf, or in fd read with pread), for libarchive's streaming
 * reader, followed by an empty end record: the reader ends at such a record (at the bare end
 * of its input it fails), and after a deflated entry's data it reads 24 bytes ahead for a
 * zip64 data descriptor, which the record's zeros give it. */
struct slice {
    int fd;
    const uint8_t *buf;
    uint64_t pos, end;
    bool ended;
    uint8_t chunk[64 * 1024];
};

static const uint8_t slice_end[32] = {'P', 'K', 5, 6};

static la_ssize_t slice_read(struct archive *a, void *ctx, const void **out)
{
    struct slice *sl = ctx;
    if (sl->pos >= sl->end) {
        *out = slice_end;
        la_ssize_t n = sl->ended ? 0 : (la_ssize_t)sizeof(slice_end);
        sl->ended = true;
        return n;
    }
    uint64_t left = sl->end - sl->pos;
    if (sl->buf != NULL) {
        size_t n = left < ((size_t)1 << 30) ? (size_t)left : (size_t)1 << 30;
        *out = sl->buf + sl->pos;
        sl->pos += n;
        return (la_ssize_t)n;
    }
    size_t want = left < sizeof(sl->chunk) ? (size_t)left : sizeof(sl->chunk);
    ssize_t got;
    do
        got = pread(sl->fd, sl->chunk, want, (off_t)sl->pos);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        archive_set_error(a, got < 0 ? errno : EIO, "read failed");
        return -1;
    }
    sl->pos += (uint64_t)got;
    *out = sl->chunk;
    return got;
}

/* One entry, at [span[0], span[1]) of the zip in fd or buf, that its central directory does
 * not list: read by its local header as a stream (as bsdtar reading a pipe would), its members
 * reported with their local header's offset. */
static enum dp_status unlisted_walk(struct walk *w, void *parent, unsigned depth, int fd,
                                    const uint8_t *buf, const uint64_t span[2],
                                    const struct unlisted *u)
{
    struct archive *a = new_reader(DP_ARCHIVE_ZIP, w->lim, READ_ZIP_STREAM);
    struct slice *sl = malloc(sizeof(*sl));
    if (a == NULL || sl == NULL) {
        archive_read_free(a);
        free(sl);
        return DP_ERR_NOMEM;
    }
    *sl = (struct slice){.fd = fd, .buf = buf, .pos = span[0], .end = span[1]};
    enum dp_status st = DP_OK;
    if (archive_read_open2(a, sl, NULL, slice_read, NULL, NULL) != ARCHIVE_OK) {
        const char *msg = archive_error_string(a);
        char d[200];
        snprintf(d, sizeof(d), "the entry at offset %llu that the zip's central directory does "
                 "not list: %s", (unsigned long long)span[0], msg ? msg : "not readable");
        skip(w, parent, NULL, DP_MEMBER_CORRUPT, d);
    } else {
        uint64_t ignored;
        st = walk_archive(w, a, parent, depth, DP_ARCHIVE_ZIP, u, &ignored);
        w->stats->archives--; /* the same archive, read again */
    }
    archive_read_free(a);
    free(sl);
    return st;
}

/* A zip (in fd, size bytes, or in buf; its members at depth) that hides entries from the
 * central directory libarchive read `listed` entries through (zip_local_hides): each entry
 * whose local header the directory does not list is read as a stream, given an index after
 * the listed ones - the one whose end the walk could not tell too, by decompressing it. Where
 * the walk of the records stopped before the end (after such an entry, at junk, at a damaged
 * record), what may follow is recorded as not examined. */
static enum dp_status unlisted_zip_entries(struct walk *w, void *parent, unsigned depth,
                                           int fd, const uint8_t *buf, uint64_t size,
                                           uint64_t listed)
{
    struct zip_local z;
    enum dp_status st = zip_local_count(fd, buf, size, w->lim->max_members, &z);
    if (st != DP_OK)
        return st;
    if (!zip_local_hides(&z, listed)) {
        zip_local_free(&z);
        return DP_OK;
    }
    uint64_t examined = 0;
    /* the listed headers the walk met are more than libarchive listed: the directory's
       offsets do not match the headers, and an entry read here could be one it read too;
       then none is read here */
    bool consistent = z.entries - z.unlisted_entries <= listed && z.unlisted_entries > 0;
    for (size_t i = 0; consistent && i < z.nunlisted && st == DP_OK && !w->stop &&
                       w->fail == DP_OK;
         i++, examined++) {
        struct unlisted u = {.offset = z.unlisted[i][0], .index = listed + i};
        st = unlisted_walk(w, parent, depth, fd, buf, z.unlisted[i], &u);
    }
    /* the entry the walk stopped at, its end unknown: the streaming reader finds it by
       decompressing */
    bool open = consistent && z.unlisted_open != UINT64_MAX && st == DP_OK && !w->stop &&
                w->fail == DP_OK;
    if (open) {
        struct unlisted u = {.offset = z.unlisted_open, .index = listed + examined,
                             .first_only = true};
        const uint64_t span[2] = {z.unlisted_open, size};
        st = unlisted_walk(w, parent, depth, fd, buf, span, &u);
        examined++;
    }
    uint64_t rest = consistent ? z.unlisted_entries - examined : z.entries - listed;
    char d[240];
    if (st == DP_OK && !w->stop && rest > 0) {
        char words[80];
        zip_unlisted_words(words, sizeof(words), rest, z.complete);
        snprintf(d, sizeof(d), "%s that the zip's central directory does not list%s: not "
                 "examined", words,
                 examined > 0 ? " (besides those read by their local headers)" : "");
        skip(w, parent, NULL, DP_MEMBER_CORRUPT, d);
    } else if (st == DP_OK && !w->stop && !z.complete) {
        /* it hides entries, and where its records go on after the stop is not known */
        snprintf(d, sizeof(d), "the zip's records could not be walked past %s %llu%s: entries "
                 "after it that the central directory does not list, if any, are not examined",
                 open ? "the entry at offset" : "offset", (unsigned long long)z.stopped_at,
                 open ? " (its end is told only by decompressing it)" : "");
        skip(w, parent, NULL, DP_MEMBER_CORRUPT, d);
    }
    zip_local_free(&z);
    return st;
}

/* Open the archive in buf (len bytes) or, when buf is NULL, in fd from its start, and walk it.
 * A compressed stream whose content starts with zeros reads as a tar that ends at once (or is
 * damaged after the zeros): it is read again as one raw member, so that its content is
 * examined. DP_ERR_NOMEM, or the visitor's failure; an unreadable archive is a skip. */
static enum dp_status open_walk(struct walk *w, int fd, const uint8_t *buf, size_t len,
                                void *parent, unsigned depth, enum dp_archive_kind kind,
                                bool raw_only)
{
    struct archive *a = new_reader(kind, w->lim, raw_only ? READ_RAW : READ_ALL);
    if (a == NULL)
        return DP_ERR_NOMEM;
    int r = ARCHIVE_FATAL;
    const char *msg = NULL;
    if (buf != NULL)
        r = archive_read_open_memory(a, buf, len);
    else if (lseek(fd, 0, SEEK_SET) != 0)
        msg = "seek failed";
    else
        r = archive_read_open_fd(a, fd, 64 * 1024);
    enum dp_status st = DP_OK;
    uint64_t listed = UNLISTED;
    if (r != ARCHIVE_OK) {
        msg = msg ? msg : archive_error_string(a);
        skip(w, parent, NULL, DP_MEMBER_CORRUPT, msg ? msg : "not readable as an archive");
    } else {
        st = walk_archive(w, a, parent, depth, kind, NULL, &listed);
    }
    /* libarchive reads a zip in a file or in memory by its central directory */
    bool zip = kind == DP_ARCHIVE_ZIP &&
               (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
    archive_read_free(a);
    if (st == DP_OK && zip && listed != UNLISTED && !w->stop)
        st = unlisted_zip_entries(w, parent, depth, fd, buf, buf ? len : w->top_size, listed);
    if (st == DP_OK && w->raw_retry) {
        w->raw_retry = false;
        w->stats->archives--; /* the same archive, read again */
        return open_walk(w, fd, buf, len, parent, depth, kind, true);
    }
    return st;
}

/* A nested archive held in memory: its members, through the same walk. */
static void open_nested(struct walk *w, void *sink, const struct dp_member_info *m,
                        const uint8_t *buf, size_t len)
{
    enum dp_status st = open_walk(w, -1, buf, len, sink, m->depth + 1,
                                  dp_archive_sniff(buf, len), false);
    if (st != DP_OK && w->fail == DP_OK)
        w->fail = st;
}

/* One regular member: its data to the visitor, and (when it is an archive and the limits
 * allow) into memory to be opened afterwards. */
static bool member(struct walk *w, struct archive *a, void *parent,
                   const struct dp_member_info *m, bool encrypted, bool *fatal)
{
    void *sink = w->v->begin(w->v->ctx, parent, m);
    if (sink == NULL) {
        w->fail = DP_ERR_NOMEM;
        return false;
    }
    w->members++;
    w->stats->members++;
    uint8_t *nest = NULL;  /* the member's bytes while it may be an archive */
    size_t nest_len = 0, nest_cap = 0;
    bool maybe_archive = true, too_big = false, ok = true;
    enum dp_archive_kind big_kind = DP_ARCHIVE_NONE; /* of a nested archive too big to open */
    const char *why = NULL;
    int64_t pos = 0;
    for (;;) {
        const void *buf;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &n, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            ok = false;
            why = archive_error_string(a);
            *fatal = r == ARCHIVE_FATAL;
            break;
        }
        /* a sparse member's holes are zeros */
        while (off > pos && !w->stop) {
            size_t z = off - pos > (int64_t)sizeof(w->zeros) ? sizeof(w->zeros)
                                                               : (size_t)(off - pos);
            if (!account(w, parent, m, z))
                break;
            w->v->data(w->v->ctx, sink, w->zeros, z);
            pos += (int64_t)z;
            maybe_archive = false; /* an archive is not sparse */
        }
        if (w->stop || !account(w, parent, m, n))
            break;
        w->v->data(w->v->ctx, sink, buf, n);
        pos += (int64_t)n;
        if (maybe_archive) {
            if (nest_len + n > w->lim->nested_buffer) {
                too_big = true;
                maybe_archive = false;
                /* the head, from what is held and this block */
                size_t hl = nest_len < DP_ARCHIVE_SNIFF_BYTES ? nest_len : DP_ARCHIVE_SNIFF_BYTES;
                uint8_t *h = malloc(DP_ARCHIVE_SNIFF_BYTES);
                if (h != NULL) {
                    if (hl > 0)
                        memcpy(h, nest, hl);
                    size_t more = DP_ARCHIVE_SNIFF_BYTES - hl < n ? DP_ARCHIVE_SNIFF_BYTES - hl : n;
                    if (more > 0)
                        memcpy(h + hl, buf, more);
                    big_kind = dp_archive_sniff(h, hl + more);
                    free(h);
                }
                free(nest);
                nest = NULL;
                nest_len = nest_cap = 0;
            } else {
                if (nest_len + n > nest_cap) {
                    size_t cap = nest_cap ? nest_cap : 65536;
                    while (cap < nest_len + n)
                        cap *= 2;
                    uint8_t *p = realloc(nest, cap);
                    if (p == NULL) {
                        w->fail = DP_ERR_NOMEM;
                        break;
                    }
                    nest = p;
                    nest_cap = cap;
                }
                if (n > 0) /* libarchive ends a stored member with an empty NULL block */
                    memcpy(nest + nest_len, buf, n);
                nest_len += n;
                /* decided once the head is in: most members are not archives */
                if (nest_len >= DP_ARCHIVE_SNIFF_BYTES &&
                    dp_archive_sniff(nest, nest_len) == DP_ARCHIVE_NONE)
                    maybe_archive = false;
            }
            if (!maybe_archive && nest != NULL) {
                free(nest);
                nest = NULL;
                nest_len = nest_cap = 0;
            }
        }
    }
    if (!ok && encrypted && !w->stop) { /* a wrong password: one skip, encrypted */
        skip(w, parent, m, DP_MEMBER_ENCRYPTED, "encrypted member: no password given opened it");
        why = NULL;
    }
    if (w->stop && ok) { /* the limit's skip says why */
        ok = false;
        why = NULL;
    }
    bool is_archive = ok && w->fail == DP_OK &&
                      ((nest != NULL && dp_archive_sniff(nest, nest_len) != DP_ARCHIVE_NONE) ||
                       (too_big && big_kind != DP_ARCHIVE_NONE));
    if (is_archive && too_big) {
        char d[160];
        snprintf(d, sizeof(d), "a nested archive of more than %llu bytes is not opened",
                 (unsigned long long)w->lim->nested_buffer);
        skip(w, parent, m, DP_MEMBER_NESTED_SIZE, d);
    } else if (is_archive && m->depth >= w->lim->max_depth) {
        char d[96];
        snprintf(d, sizeof(d), "nested %u deep (--archive-max-depth %u): not opened",
                 m->depth + 1, w->lim->max_depth);
        skip(w, parent, m, DP_MEMBER_DEPTH, d);
    } else if (is_archive) {
        open_nested(w, sink, m, nest, nest_len);
    }
    free(nest);
    enum dp_status st = w->v->end(w->v->ctx, sink, ok, why);
    if (st != DP_OK && w->fail == DP_OK)
        w->fail = st;
    return ok;
}

/* What libarchive found the archive to be, once it has read a header. */
static enum dp_archive_kind kind_read(struct archive *a, enum dp_archive_kind sniffed)
{
    switch (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_ZIP: return DP_ARCHIVE_ZIP;
    case ARCHIVE_FORMAT_7ZIP: return DP_ARCHIVE_7ZIP;
    case ARCHIVE_FORMAT_RAR:
    case ARCHIVE_FORMAT_RAR_V5: return DP_ARCHIVE_RAR;
    case ARCHIVE_FORMAT_TAR: return DP_ARCHIVE_TAR;
    case ARCHIVE_FORMAT_CPIO: return DP_ARCHIVE_CPIO;
    case ARCHIVE_FORMAT_ISO9660: return DP_ARCHIVE_ISO9660;
    case ARCHIVE_FORMAT_RAW: return DP_ARCHIVE_COMPRESSED;
    default: return sniffed;
    }
}

static const char *compression_read(struct archive *a)
{
    switch (archive_filter_code(a, 0)) {
    case ARCHIVE_FILTER_GZIP: return "gzip";
    case ARCHIVE_FILTER_BZIP2: return "bzip2";
    case ARCHIVE_FILTER_XZ: return "xz";
    case ARCHIVE_FILTER_LZMA: return "lzma";
    case ARCHIVE_FILTER_ZSTD: return "zstd";
    default: return NULL;
    }
}

/* Did a compressed stream (sniffed kind) read as a tar that ends, or is damaged, at its first
 * header (r)? Zeros at the start of its content are a tar's end-of-archive mark to libarchive:
 * it is a single compressed file (or an empty tar, which is no loss read so). */
static bool zeros_read_as_tar(struct archive *a, enum dp_archive_kind kind, int r)
{
    int fmt = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;
    return kind == DP_ARCHIVE_COMPRESSED && (r == ARCHIVE_EOF || r < ARCHIVE_WARN) &&
           archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE &&
           (fmt == ARCHIVE_FORMAT_TAR || fmt == 0);
}

/* *listed: the entries read (all kinds), when the walk read the archive to its end. u: a zip
 * entry its central directory does not list, read alone (its members say so), or NULL. */
static enum dp_status walk_archive(struct walk *w, struct archive *a, void *parent,
                                   unsigned depth, enum dp_archive_kind kind,
                                   const struct unlisted *u, uint64_t *listed)
{
    w->stats->archives++;
    const char *compression = NULL;
    struct archive_entry *e;
    uint64_t index = 0;
    char retry_msg[200] = ""; /* the first damaged header's message */
    for (;; index++) {
        if (w->stop || w->fail != DP_OK || (u != NULL && u->first_only && index > 0))
            break;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_RETRY && retry_msg[0] == '\0') {
            /* a damaged entry header: libarchive looks for the next valid one */
            const char *msg = archive_error_string(a);
            snprintf(retry_msg, sizeof(retry_msg), "%s: the bytes up to the next entry are not "
                     "examined", msg ? msg : "a damaged entry header");
        }
        if (r == ARCHIVE_RETRY) {
            index--; /* no entry read: the next one keeps this index (unsigned: wraps to it) */
            continue;
        }
        if (index == 0 && zeros_read_as_tar(a, kind, r)) {
            w->raw_retry = true; /* its content is read again as one raw member */
            break;
        }
        if (r == ARCHIVE_EOF) {
            *listed = index;
            break;
        }
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            const char *msg = archive_error_string(a);
            skip(w, parent, NULL, DP_MEMBER_CORRUPT, msg ? msg : "unreadable entry header");
            break;
        }
        if (w->members >= w->lim->max_members) {
            char d[96];
            snprintf(d, sizeof(d), "more than %llu members (--archive-max-members)",
                     (unsigned long long)w->lim->max_members);
            skip(w, parent, NULL, DP_MEMBER_MEMBERS, d);
            w->stop = true;
            break;
        }
        if (index == 0 && (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_RAW &&
            archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE) {
            /* a compression signature the decompressor refused: raw would hand the file back
             * as its own member, again and again */
            skip(w, parent, NULL, DP_MEMBER_CORRUPT,
                 "a compression signature without a valid compressed stream");
            break;
        }
        if (index == 0) {
            kind = kind_read(a, kind);
            compression = compression_read(a);
        }
        const char *name = archive_entry_pathname(e);
        const char *link = archive_entry_hardlink(e);
        struct dp_member_info m = {
            .name = name ? name : "", .name_len = name ? strlen(name) : 0, .depth = depth,
            .index = index,
            .size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1,
            .mtime = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0,
            .mode = archive_entry_perm(e), .hardlink = link,
            .hardlink_len = link ? strlen(link) : 0, .archive = kind,
            .compression = compression, .unlisted = u != NULL,
            .local_offset = u != NULL ? u->offset : 0};
        if (u != NULL)
            m.index = u->index + index;
        if (link != NULL && archive_entry_size(e) == 0) { /* a copy of an earlier member */
            void *sink = w->v->begin(w->v->ctx, parent, &m);
            if (sink == NULL)
                return DP_ERR_NOMEM;
            enum dp_status st = w->v->end(w->v->ctx, sink, true, NULL);
            if (st != DP_OK)
                return st;
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG)
            continue; /* directories, symbolic links, devices: no content */
        if (archive_entry_is_encrypted(e) && w->lim->password_count == 0) {
            skip(w, parent, &m, DP_MEMBER_ENCRYPTED,
                 "encrypted member (--archive-password-file not given)");
            continue;
        }
        bool fatal = false;
        member(w, a, parent, &m, archive_entry_is_encrypted(e), &fatal);
        if (fatal) {
            skip(w, parent, NULL, DP_MEMBER_CORRUPT,
                 "the archive is damaged after this member: the rest is not examined");
            break;
        }
    }
    if (retry_msg[0] != '\0' && !w->raw_retry) /* (read again raw, nothing was passed over) */
        skip(w, parent, NULL, DP_MEMBER_CORRUPT, retry_msg);
    return w->fail;
}

enum dp_status dp_archive_probe(int fd, enum dp_archive_kind *kind, const char **compression,
                                bool *encrypted, struct dp_error *err)
{
    if (encrypted != NULL)
        *encrypted = false;
    uint8_t head[DP_ARCHIVE_SNIFF_BYTES];
    ssize_t n = pread(fd, head, sizeof(head), 0);
    if (n < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "read failed");
    enum dp_archive_kind sniffed = dp_archive_sniff(head, (size_t)n);
    if (sniffed == DP_ARCHIVE_NONE)
        return dp_error_set(err, DP_ERR_PARSE, 0, "not an archive");
    struct dp_archive_limits lim = {0};
    struct archive *a = new_reader(sniffed, &lim, READ_ALL);
    struct archive_entry *e;
    enum dp_status st = DP_OK;
    if (a == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    int r = ARCHIVE_FATAL;
    if (lseek(fd, 0, SEEK_SET) != 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "seek failed");
    } else if (archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK) {
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_RETRY)
            ; /* a damaged header: the next */
    }
    if (st == DP_OK && zeros_read_as_tar(a, sniffed, r)) { /* as the scan reads it */
        *kind = DP_ARCHIVE_COMPRESSED;
        *compression = compression_read(a);
        archive_read_free(a);
        return DP_OK;
    }
    if (st == DP_OK && r < ARCHIVE_WARN)
        st = dp_error_set(err, DP_ERR_PARSE, 0, "%s",
                          archive_error_string(a) ? archive_error_string(a) : "unreadable");
    if (st == DP_OK) {
        *kind = kind_read(a, sniffed);
        *compression = compression_read(a);
        /* zip: the headers (central directory) say which members are encrypted */
        for (int i = 0; encrypted != NULL && *kind == DP_ARCHIVE_ZIP && i < 1000000; i++) {
            if (archive_entry_is_encrypted(e)) {
                *encrypted = true;
                break;
            }
            if (archive_read_next_header(a, &e) != ARCHIVE_OK)
                break;
        }
    }
    archive_read_free(a);
    return st;
}

enum dp_status dp_archive_scan(int fd, uint64_t size, enum dp_archive_kind kind,
                               const struct dp_archive_limits *limits,
                               const struct dp_archive_visitor *v,
                               struct dp_archive_stats *stats, struct dp_error *err)
{
    struct dp_archive_stats local = {0};
    struct dp_archive_limits lim = *limits;
    dp_archive_limits_fill(&lim);
    struct walk *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    *w = (struct walk){.lim = &lim, .v = v, .stats = stats ? stats : &local, .top_size = size};
    if (lseek(fd, 0, SEEK_SET) != 0) {
        free(w);
        return dp_error_set(err, DP_ERR_IO, errno, "seek failed");
    }
    enum dp_status st = open_walk(w, fd, NULL, 0, NULL, 1, kind, false);
    if (st == DP_ERR_NOMEM)
        dp_error_set(err, st, 0, "out of memory reading an archive");
    else if (st != DP_OK)
        dp_error_set(err, st, 0, "the archive's members could not be examined");
    free(w);
    return st;
}
