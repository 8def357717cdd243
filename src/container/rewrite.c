/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: an archive rewritten without some of its members, and the result read back
 * (include/deprive/archive.h). */
#include "deprive/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deprive/digest.h"
#include "deprive/util.h"
#include "internal.h"

#define NESTED_MAX (256u << 20)  /* a member held in memory: a nested archive, a removed one */
#define CONTENT_MAX (256u << 20) /* a removed member's bytes kept for a re-check */

bool dp_archive_writable(enum dp_archive_kind kind, const char *compression)
{
    (void)compression; /* gzip, bzip2, xz, lzma and zstd all have writers */
    return kind == DP_ARCHIVE_ZIP || kind == DP_ARCHIVE_TAR || kind == DP_ARCHIVE_CPIO;
}

/* A growing buffer (a nested archive's bytes, read or written). */
struct membuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void buf_add(struct membuf *b, const void *d, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static la_ssize_t mem_write(struct archive *a, void *ctx, const void *d, size_t n)
{
    (void)a;
    struct membuf *b = ctx;
    buf_add(b, d, n);
    return b->oom ? -1 : (la_ssize_t)n;
}

/* The running digest of the kept members: (name length, name, SHA-256 of the content). */
static void kept_add(struct dp_digest *kd, const char *name, const uint8_t sha[32])
{
    uint64_t n = strlen(name);
    dp_digest_update(kd, &n, sizeof(n));
    dp_digest_update(kd, name, (size_t)n);
    dp_digest_update(kd, sha, 32);
}

struct rw {
    struct dp_archive_removal *rm;
    size_t n;
    bool keep_content;
    struct dp_archive_rewrite_result *res;
    struct dp_error *err;
    struct dp_digest *content; /* a member's content */
    size_t *hits;              /* the removals naming the entry at hand (n at most) */
};

/* Only what can be rewritten is read here (and the filters it may be compressed with). */
static struct archive *reader(void)
{
    struct archive *a = archive_read_new();
    if (a == NULL)
        return NULL;
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    /* as the scan reads: members after an end-of-archive mark are members, kept */
    archive_read_set_format_option(a, "tar", "read_concatenated_archives", "1");
    archive_read_support_format_cpio(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_lzma(a);
    archive_read_support_filter_zstd(a);
    return a;
}

/* How many entries libarchive lists in the archive in mem, or in fd when mem is NULL: false
 * when it cannot read them all (the rewrite then fails on its own). */
static bool listed_entries(int fd, const struct membuf *mem, uint64_t *n)
{
    struct archive *a = reader();
    struct archive_entry *e;
    int r = ARCHIVE_FATAL;
    *n = 0;
    if (a != NULL && (mem ? archive_read_open_memory(a, mem->p, mem->len)
                          : lseek(fd, 0, SEEK_SET) == 0 ? archive_read_open_fd(a, fd, 65536)
                                                        : ARCHIVE_FATAL) == ARCHIVE_OK)
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
            (*n)++; /* headers only: a zip's data is not read */
    archive_read_free(a);
    return r == ARCHIVE_EOF;
}

/* A zip (in mem, or in fd of size bytes when mem is NULL) whose local headers show entries
 * that its central directory does not list: written again from libarchive's listing, they
 * would be lost with the member removed. DP_ERR_UNSUPPORTED then; what names the zip in the
 * message. */
static enum dp_status refuse_unlisted(int fd, const struct membuf *mem, uint64_t size,
                                      const char *what, struct dp_error *err)
{
    struct zip_local z;
    uint64_t listed = 0;
    if (zip_local_count(fd, mem ? mem->p : NULL, size, DP_ARCHIVE_MAX_MEMBERS_DEFAULT, &z) !=
        DP_OK)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    zip_local_free(&z); /* the counts are what is needed here */
    if (z.entries == 0 || !listed_entries(fd, mem, &listed) || !zip_local_hides(&z, listed))
        return DP_OK;
    char words[80];
    uint64_t hidden = z.entries > listed ? z.entries - listed : 0;
    if (z.directory_ok && z.unlisted_entries > hidden)
        hidden = z.unlisted_entries;
    zip_unlisted_words(words, sizeof(words), hidden, z.complete);
    return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                        "%s holds %s that its central directory does not list; rewriting it "
                        "would drop %s", what, words,
                        hidden == 1 ? "that entry" : "those entries");
}

enum dp_status dp_archive_zip_check(int fd, struct dp_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "fstat failed");
    return refuse_unlisted(fd, NULL, (uint64_t)sb.st_size, "the zip", err);
}

/* Does removal r name the entry `name` at this level (above[0..level): the names over it)? */
static bool names(const struct dp_archive_removal *r, unsigned level, char *const *above,
                  const size_t *above_len, const char *name)
{
    if (r->depth <= level)
        return false;
    for (unsigned i = 0; i < level; i++)
        if (r->lens[i] != above_len[i] || memcmp(r->chain[i], above[i], above_len[i]) != 0)
            return false;
    size_t nl = strlen(name);
    return r->lens[level] == nl && memcmp(r->chain[level], name, nl) == 0;
}

static enum dp_status write_fail(struct rw *w, struct archive *out)
{
    const char *msg = archive_error_string(out);
    return dp_error_set(w->err, DP_ERR_IO, archive_errno(out), "writing the new archive: %s",
                        msg ? msg : "failed");
}

static enum dp_status setup_writer(struct rw *w, struct archive *in, struct archive *out,
                                   void *mem_ctx, int out_fd, bool top)
{
    int fmt = archive_format(in);
    int base = fmt & ARCHIVE_FORMAT_BASE_MASK;
    enum dp_archive_kind kind = base == ARCHIVE_FORMAT_ZIP    ? DP_ARCHIVE_ZIP
                                : base == ARCHIVE_FORMAT_TAR  ? DP_ARCHIVE_TAR
                                : base == ARCHIVE_FORMAT_CPIO ? DP_ARCHIVE_CPIO
                                                              : DP_ARCHIVE_NONE;
    if (kind == DP_ARCHIVE_NONE)
        return dp_error_set(w->err, DP_ERR_UNSUPPORTED, 0,
                            "%s archives cannot be rewritten", archive_format_name(in));
    int r;
    if (fmt == ARCHIVE_FORMAT_TAR_GNUTAR)
        r = archive_write_set_format_gnutar(out);
    else if (fmt == ARCHIVE_FORMAT_TAR_USTAR)
        r = archive_write_set_format_ustar(out);
    else if (base == ARCHIVE_FORMAT_TAR) /* pax, and tar of no known variant */
        r = archive_write_set_format_pax(out); /* keeps long names, xattrs */
    else if (fmt == ARCHIVE_FORMAT_CPIO || fmt == ARCHIVE_FORMAT_CPIO_POSIX)
        r = archive_write_set_format_cpio(out);
    else
        r = archive_write_set_format(out, fmt);
    int filter = archive_filter_code(in, 0);
    if (r == ARCHIVE_OK && filter != ARCHIVE_FILTER_NONE)
        r = archive_write_add_filter(out, filter);
    if (r == ARCHIVE_OK && kind == DP_ARCHIVE_ZIP)
        r = archive_write_set_format_option(out, "zip", "compression", "deflate");
    if (r != ARCHIVE_OK)
        return dp_error_set(w->err, DP_ERR_UNSUPPORTED, 0, "no writer for %s: %s",
                            archive_format_name(in), archive_error_string(out));
    archive_write_set_bytes_in_last_block(out, 1); /* no padding after the end */
    r = mem_ctx != NULL ? archive_write_open(out, mem_ctx, NULL, mem_write, NULL)
                        : archive_write_open_fd(out, out_fd);
    if (r != ARCHIVE_OK)
        return write_fail(w, out);
    if (top) {
        w->res->kind = kind;
        const char *c = filter == ARCHIVE_FILTER_GZIP    ? "gzip"
                        : filter == ARCHIVE_FILTER_BZIP2 ? "bzip2"
                        : filter == ARCHIVE_FILTER_XZ    ? "xz"
                        : filter == ARCHIVE_FILTER_LZMA  ? "lzma"
                        : filter == ARCHIVE_FILTER_ZSTD  ? "zstd"
                                                         : "";
        snprintf(w->res->compression, sizeof(w->res->compression), "%s", c);
        if (kind == DP_ARCHIVE_ZIP)
            snprintf(w->res->changes, sizeof(w->res->changes),
                     "zip members written again with deflate (stored ones stay stored only "
                     "for a first 'mimetype'); ");
        if (fmt == ARCHIVE_FORMAT_TAR || fmt == ARCHIVE_FORMAT_TAR_PAX_RESTRICTED)
            snprintf(w->res->changes + strlen(w->res->changes),
                     sizeof(w->res->changes) - strlen(w->res->changes),
                     "tar written as pax (%s read); ", archive_format_name(in));
        if (filter != ARCHIVE_FILTER_NONE)
            snprintf(w->res->changes + strlen(w->res->changes),
                     sizeof(w->res->changes) - strlen(w->res->changes),
                     "%s recompressed at libarchive's default level; ", c);
    }
    return DP_OK;
}


static enum dp_status copy_level(struct rw *w, struct archive *in, struct archive *out,
                                 struct membuf *mem_out, int out_fd, bool top, unsigned level,
                                 char **above, size_t *above_len, struct dp_digest *kd,
                                 uint64_t *kept);

/* The whole content of the current entry of in (holes of sparse entries as zeros). */
static enum dp_status read_all(struct archive *in, struct membuf *b, struct dp_error *err)
{
    for (;;) {
        const void *p;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(in, &p, &n, &off);
        if (r == ARCHIVE_EOF)
            return b->oom ? dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory") : DP_OK;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return dp_error_set(err, DP_ERR_PARSE, 0, "reading a member: %s",
                                archive_error_string(in) ? archive_error_string(in) : "?");
        while (off >= 0 && (size_t)off > b->len && !b->oom) {
            static const uint8_t zeros[4096];
            size_t z = (size_t)off - b->len < sizeof(zeros) ? (size_t)off - b->len
                                                             : sizeof(zeros);
            buf_add(b, zeros, z);
        }
        buf_add(b, p, n);
        if (b->oom || b->len > NESTED_MAX)
            return dp_error_set(err, DP_ERR_NOMEM, 0,
                                "a member of more than %u bytes cannot be held to be rewritten",
                                NESTED_MAX);
    }
}

/* Read an archive back (from memory, or fd when mem is NULL): the kept digest of its entries
 * and how many there are. */
static enum dp_status kept_digest_of(const struct membuf *mem, int fd, uint8_t out[32],
                                     uint64_t *count, struct dp_error *err)
{
    struct archive *a = reader();
    struct dp_digest *kd = NULL;
    struct membuf b = {0};
    *count = 0;
    enum dp_status st = DP_OK;
    if (a == NULL)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    if (st == DP_OK && (st = dp_digest_new(&kd, err)) == DP_OK)
        st = dp_digest_begin(kd, DP_DIGEST_MASK(DP_ALGO_SHA256), err);
    if (st == DP_OK && (mem ? archive_read_open_memory(a, mem->p, mem->len)
                            : archive_read_open_fd(a, fd, 65536)) != ARCHIVE_OK)
        st = dp_error_set(err, DP_ERR_VERIFY, 0, "the new archive cannot be read: %s",
                          archive_error_string(a));
    struct archive_entry *e;
    while (st == DP_OK) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            st = dp_error_set(err, DP_ERR_VERIFY, 0, "the new archive is damaged: %s",
                              archive_error_string(a));
            break;
        }
        b.len = 0;
        if (archive_entry_filetype(e) == AE_IFREG && (st = read_all(a, &b, err)) != DP_OK)
            break;
        uint8_t sha[32];
        dp_sha256_buf(sha, b.p ? b.p : (const uint8_t *)"", b.len);
        const char *name = archive_entry_pathname(e);
        kept_add(kd, name ? name : "", sha);
        (*count)++;
    }
    if (st == DP_OK) {
        uint8_t all[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
        dp_digest_end(kd, all);
        memcpy(out, all[DP_ALGO_SHA256], 32);
    }
    free(b.p);
    dp_digest_free(kd);
    archive_read_free(a);
    return st;
}

/* A nested archive (in_bytes) rewritten into out_bytes without the removals below it
 * (above[0..level) names it), then read back: its members must be the ones written. */
static enum dp_status rewrite_nested(struct rw *w, const struct membuf *in_bytes,
                                     unsigned level, char **above, size_t *above_len,
                                     struct membuf *out_bytes)
{
    struct archive *in = reader(), *out = archive_write_new();
    struct dp_digest *kd = NULL;
    enum dp_status st = DP_OK;
    uint64_t kept = 0, again = 0;
    if (in == NULL || out == NULL) {
        st = dp_error_set(w->err, DP_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    if ((st = dp_digest_new(&kd, w->err)) != DP_OK ||
        (st = dp_digest_begin(kd, DP_DIGEST_MASK(DP_ALGO_SHA256), w->err)) != DP_OK)
        goto done;
    if (dp_archive_sniff(in_bytes->p, in_bytes->len) == DP_ARCHIVE_ZIP) {
        char *q = dp_quote_bytes(above[level - 1], above_len[level - 1]), what[300];
        snprintf(what, sizeof(what), "the nested zip '%.250s'", q ? q : "?");
        free(q);
        if ((st = refuse_unlisted(-1, in_bytes, in_bytes->len, what, w->err)) != DP_OK)
            goto done;
    }
    if (archive_read_open_memory(in, in_bytes->p, in_bytes->len) != ARCHIVE_OK) {
        /* the plan named a member inside it: it was an archive at the scan */
        st = dp_error_set(w->err, DP_ERR_CHANGED, 0, "a member named as an archive is not one "
                                                     "now: %s", archive_error_string(in));
        goto done;
    }
    st = copy_level(w, in, out, out_bytes, -1, false, level, above, above_len, kd, &kept);
    if (st == DP_OK && archive_write_close(out) != ARCHIVE_OK)
        st = write_fail(w, out);
    if (st == DP_OK && out_bytes->oom)
        st = dp_error_set(w->err, DP_ERR_NOMEM, 0, "out of memory");
    if (st == DP_OK) {
        uint8_t want[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX], got[32];
        dp_digest_end(kd, want);
        if ((st = kept_digest_of(out_bytes, -1, got, &again, w->err)) == DP_OK &&
            (again != kept || memcmp(got, want[DP_ALGO_SHA256], 32) != 0))
            st = dp_error_set(w->err, DP_ERR_VERIFY, 0,
                              "a rewritten nested archive does not read back as written");
    }
done:
    dp_digest_free(kd);
    archive_read_free(in);
    archive_write_free(out);
    return st;
}

/* Copy the content of in's current entry to out (holes as zeros), SHA-256 into sha. */
static enum dp_status copy_data(struct rw *w, struct archive *in, struct archive *out,
                                uint8_t sha[32])
{
    static const uint8_t zeros[4096];
    enum dp_status st = dp_digest_begin(w->content, DP_DIGEST_MASK(DP_ALGO_SHA256), w->err);
    int64_t pos = 0;
    while (st == DP_OK) {
        const void *p;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(in, &p, &n, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return dp_error_set(w->err, DP_ERR_PARSE, 0, "reading a member: %s",
                                archive_error_string(in) ? archive_error_string(in) : "?");
        while (off > pos) {
            size_t z = off - pos < (int64_t)sizeof(zeros) ? (size_t)(off - pos) : sizeof(zeros);
            if (archive_write_data(out, zeros, z) < 0)
                return write_fail(w, out);
            dp_digest_update(w->content, zeros, z);
            pos += (int64_t)z;
        }
        if (n > 0 && archive_write_data(out, p, n) < 0)
            return write_fail(w, out);
        dp_digest_update(w->content, p, n);
        pos += (int64_t)n;
    }
    uint8_t all[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    dp_digest_end(w->content, all);
    memcpy(sha, all[DP_ALGO_SHA256], 32);
    return st;
}

/* Removal rm checked against a member's content b: its digests over the whole content, or
 * over its ranges in order (each within the content); with keep_content, those bytes kept. */
static enum dp_status check_one(struct rw *w, const struct membuf *b,
                                struct dp_archive_removal *rm)
{
    const uint8_t *p = b->p ? b->p : (const uint8_t *)"";
    struct membuf kept = {0};
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    enum dp_status st = dp_digest_begin(w->content, rm->digest_mask, w->err);
    if (st != DP_OK)
        return st;
    for (size_t k = 0; rm->ranges != NULL && k < rm->nranges && !rm->mismatch; k++) {
        uint64_t off = rm->ranges[k][0], len = rm->ranges[k][1];
        rm->mismatch = off > b->len || len > b->len - off;
        if (!rm->mismatch) {
            dp_digest_update(w->content, p + off, (size_t)len);
            if (w->keep_content)
                buf_add(&kept, p + off, (size_t)len);
        }
    }
    if (rm->ranges == NULL) {
        dp_digest_update(w->content, p, b->len);
        if (w->keep_content && b->len <= CONTENT_MAX)
            buf_add(&kept, p, b->len);
    }
    dp_digest_end(w->content, dg);
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++)
        if ((rm->digest_mask & DP_DIGEST_MASK(a)) &&
            memcmp(dg[a], rm->digests[a], dp_algo_len((enum dp_algo)a)) != 0)
            rm->mismatch = true;
    if (rm->mismatch || kept.oom) {
        free(kept.p);
        return rm->mismatch ? dp_error_set(w->err, DP_ERR_CHANGED, 0,
                                           rm->ranges ? "an embedded copy in a member is no "
                                                        "longer the stream scanned"
                                                      : "a member to remove no longer has "
                                                        "the content scanned")
                            : dp_error_set(w->err, DP_ERR_NOMEM, 0, "out of memory");
    }
    rm->content = kept.p;
    rm->content_len = kept.len;
    return DP_OK;
}

/* The member at in's current entry, named by the removals w->hits[0..nh): read and each
 * checked (DP_ERR_CHANGED when its digests are not there); then left out (*kept false), or,
 * when every one replaces, written with all their ranges zeroed (*kept; sha: the new
 * content's SHA-256). */
static enum dp_status take_member(struct rw *w, struct archive *in, struct archive *out,
                                  struct archive_entry *e, size_t nh, uint8_t sha[32],
                                  bool *kept)
{
    struct membuf b = {0};
    enum dp_status st = read_all(in, &b, w->err);
    bool replace = true;
    size_t nr = 0;
    for (size_t j = 0; st == DP_OK && j < nh; j++) {
        struct dp_archive_removal *rm = &w->rm[w->hits[j]];
        st = check_one(w, &b, rm);
        replace &= rm->replace && rm->ranges != NULL;
        nr += rm->ranges != NULL ? rm->nranges : 0;
    }
    uint64_t(*rg)[2] = st == DP_OK && replace ? calloc(nr ? nr : 1, sizeof(*rg)) : NULL;
    if (st == DP_OK && replace && rg == NULL)
        st = dp_error_set(w->err, DP_ERR_NOMEM, 0, "out of memory");
    *kept = st == DP_OK && replace;
    if (*kept) {
        size_t k = 0;
        for (size_t j = 0; j < nh; j++)
            for (size_t i = 0; i < w->rm[w->hits[j]].nranges; i++, k++)
                memcpy(rg[k], w->rm[w->hits[j]].ranges[i], sizeof(rg[k]));
        qsort(rg, nr, sizeof(*rg), dp_range_cmp);
        uint8_t outside[32];
        dp_sha256_outside(outside, b.p, b.len, (const uint64_t(*)[2])rg, nr);
        for (k = 0; k < nr; k++) /* within the content: check_one saw to it */
            memset(b.p + rg[k][0], 0, (size_t)rg[k][1]);
        if (archive_write_header(out, e) != ARCHIVE_OK ||
            (b.len > 0 && archive_write_data(out, b.p, b.len) < 0))
            st = write_fail(w, out);
        dp_sha256_buf(sha, b.p ? b.p : (const uint8_t *)"", b.len);
        for (size_t j = 0; j < nh; j++) {
            w->rm[w->hits[j]].replaced = st == DP_OK;
            memcpy(w->rm[w->hits[j]].outside_sha256, outside, 32);
        }
    }
    for (size_t j = 0; j < nh; j++)
        w->rm[w->hits[j]].found = st == DP_OK;
    free(rg);
    free(b.p);
    return st;
}

/* Remember a removed name at this level (hard links to it go too). */
static bool add_gone(char ***gone, size_t *n, const char *name)
{
    char **g = realloc(*gone, (*n + 1) * sizeof(*g));
    if (g == NULL)
        return false;
    *gone = g;
    if ((g[*n] = strdup(name)) == NULL)
        return false;
    (*n)++;
    return true;
}

/* One entry that holds a nested archive with removals: rewritten in memory, written with its
 * new size. */
static enum dp_status copy_nested(struct rw *w, struct archive *in, struct archive *out,
                                  struct archive_entry *e, unsigned level, char **above,
                                  size_t *above_len, const char *name, uint8_t sha[32])
{
    struct membuf inb = {0}, outb = {0};
    char **up = malloc((level + 1) * sizeof(*up));
    size_t *ul = malloc((level + 1) * sizeof(*ul));
    enum dp_status st = DP_OK;
    if (up == NULL || ul == NULL) {
        st = dp_error_set(w->err, DP_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    if (level > 0) {
        memcpy(up, above, level * sizeof(*up));
        memcpy(ul, above_len, level * sizeof(*ul));
    }
    up[level] = (char *)name;
    ul[level] = strlen(name);
    if ((st = read_all(in, &inb, w->err)) != DP_OK ||
        (st = rewrite_nested(w, &inb, level + 1, up, ul, &outb)) != DP_OK)
        goto done;
    archive_entry_set_size(e, (la_int64_t)outb.len);
    if (archive_write_header(out, e) != ARCHIVE_OK ||
        (outb.len > 0 && archive_write_data(out, outb.p, outb.len) < 0))
        st = write_fail(w, out);
    dp_sha256_buf(sha, outb.p ? outb.p : (const uint8_t *)"", outb.len);
done:
    free(up);
    free(ul);
    free(inb.p);
    free(outb.p);
    return st;
}

static enum dp_status copy_level(struct rw *w, struct archive *in, struct archive *out,
                                 struct membuf *mem_out, int out_fd, bool top, unsigned level,
                                 char **above, size_t *above_len, struct dp_digest *kd,
                                 uint64_t *kept)
{
    struct archive_entry *e;
    bool opened = false;
    char **gone = NULL;
    size_t ngone = 0;
    enum dp_status st = DP_OK;
    for (uint64_t index = 0; st == DP_OK; index++) {
        int r = archive_read_next_header(in, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            st = dp_error_set(w->err, DP_ERR_PARSE, 0, "reading the archive: %s",
                              archive_error_string(in) ? archive_error_string(in) : "?");
            break;
        }
        if (!opened && (st = setup_writer(w, in, out, mem_out, out_fd, top)) != DP_OK)
            break;
        opened = true;
        const char *name = archive_entry_pathname(e);
        const char *link = archive_entry_hardlink(e);
        name = name ? name : "";
        if (archive_entry_is_encrypted(e)) { /* libarchive's writers cannot encrypt */
            st = dp_error_set(w->err, DP_ERR_UNSUPPORTED, 0,
                              "an encrypted member cannot be written again");
            break;
        }
        bool linked_gone = false;
        for (size_t i = 0; link != NULL && i < ngone; i++)
            linked_gone |= strcmp(gone[i], link) == 0;
        if (linked_gone) { /* another name for a removed member: it goes too */
            w->res->removed++;
            continue;
        }
        size_t nhit = 0;
        bool nested = false, regular = archive_entry_filetype(e) == AE_IFREG;
        for (size_t i = 0; regular && i < w->n; i++) {
            if (!names(&w->rm[i], level, above, above_len, name))
                continue;
            if (w->rm[i].depth == level + 1)
                w->hits[nhit++] = i;
            else
                nested = true;
        }
        uint8_t sha[32];
        bool zeroed = false; /* a member kept, written with embedded copies zeroed */
        if (nhit > 0 && (st = take_member(w, in, out, e, nhit, sha, &zeroed)) == DP_OK &&
            !zeroed) {
            if (!add_gone(&gone, &ngone, name))
                st = dp_error_set(w->err, DP_ERR_NOMEM, 0, "out of memory");
            w->res->removed += st == DP_OK;
            continue;
        }
        if (nhit == 0 && nested) {
            st = copy_nested(w, in, out, e, level, above, above_len, name, sha);
        } else if (nhit == 0) {
            bool mimetype = (archive_format(in) & ARCHIVE_FORMAT_BASE_MASK) ==
                                ARCHIVE_FORMAT_ZIP &&
                            index == 0 && strcmp(name, "mimetype") == 0;
            if (mimetype) /* ODF, EPUB: first and stored (options cannot change once open) */
                archive_write_zip_set_compression_store(out);
            if (archive_write_header(out, e) != ARCHIVE_OK)
                st = write_fail(w, out);
            else if (regular)
                st = copy_data(w, in, out, sha);
            else
                dp_sha256_buf(sha, "", 0);
            if (mimetype)
                archive_write_zip_set_compression_deflate(out);
        }
        if (st == DP_OK) {
            kept_add(kd, name, sha);
            (*kept)++;
        }
    }
    for (size_t i = 0; i < ngone; i++)
        free(gone[i]);
    free(gone);
    return st;
}

enum dp_status dp_archive_rewrite(int in_fd, int out_fd, struct dp_archive_removal *rm, size_t n,
                                  bool keep_content, struct dp_archive_rewrite_result *res,
                                  struct dp_error *err)
{
    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i < n; i++) {
        rm[i].found = rm[i].mismatch = rm[i].replaced = false;
        rm[i].content = NULL;
        rm[i].content_len = 0;
    }
    struct rw w = {.rm = rm, .n = n, .keep_content = keep_content, .res = res, .err = err,
                   .hits = calloc(n ? n : 1, sizeof(size_t))};
    struct archive *in = reader(), *out = archive_write_new();
    struct dp_digest *kd = NULL;
    enum dp_status st = DP_OK;
    if (in == NULL || out == NULL || w.hits == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto done;
    }
    if ((st = dp_digest_new(&w.content, err)) != DP_OK ||
        (st = dp_digest_new(&kd, err)) != DP_OK ||
        (st = dp_digest_begin(kd, DP_DIGEST_MASK(DP_ALGO_SHA256), err)) != DP_OK)
        goto done;
    uint8_t head[DP_ARCHIVE_SNIFF_BYTES];
    ssize_t hn = pread(in_fd, head, sizeof(head), 0);
    enum dp_archive_kind hk = hn > 0 ? dp_archive_sniff(head, (size_t)hn) : DP_ARCHIVE_NONE;
    if (hk != DP_ARCHIVE_NONE && hk != DP_ARCHIVE_COMPRESSED && !dp_archive_writable(hk, NULL)) {
        st = dp_error_set(err, DP_ERR_UNSUPPORTED, 0, "%s archives cannot be rewritten",
                          dp_archive_kind_name(hk));
        goto done;
    }
    struct stat sb;
    if (hk == DP_ARCHIVE_ZIP && fstat(in_fd, &sb) != 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot stat the archive");
        goto done;
    }
    if (hk == DP_ARCHIVE_ZIP &&
        (st = refuse_unlisted(in_fd, NULL, (uint64_t)sb.st_size, "the zip", err)) != DP_OK)
        goto done;
    if (lseek(in_fd, 0, SEEK_SET) != 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "seek failed");
        goto done;
    }
    if (archive_read_open_fd(in, in_fd, 65536) != ARCHIVE_OK) {
        st = dp_error_set(err, DP_ERR_PARSE, 0, "the archive cannot be read: %s",
                          archive_error_string(in));
        goto done;
    }
    st = copy_level(&w, in, out, NULL, out_fd, true, 0, NULL, NULL, kd, &res->kept);
    if (st == DP_OK && archive_write_close(out) != ARCHIVE_OK)
        st = write_fail(&w, out);
    for (size_t i = 0; st == DP_OK && i < n; i++)
        if (!rm[i].found)
            st = dp_error_set(err, DP_ERR_CHANGED, 0, "a member to remove is not in the archive");
    if (st == DP_OK) {
        uint8_t all[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
        dp_digest_end(kd, all);
        memcpy(res->kept_digest, all[DP_ALGO_SHA256], 32);
        size_t cl = strlen(res->changes);
        if (cl >= 2 && strcmp(res->changes + cl - 2, "; ") == 0)
            res->changes[cl - 2] = '\0';
    }
done:
    for (size_t i = 0; st != DP_OK && i < n; i++) {
        free(rm[i].content);
        rm[i].content = NULL;
    }
    free(w.hits);
    dp_digest_free(w.content);
    dp_digest_free(kd);
    archive_read_free(in);
    archive_write_free(out);
    return st;
}

enum dp_status dp_archive_verify(int fd, const struct dp_archive_rewrite_result *res,
                                 struct dp_error *err)
{
    if (lseek(fd, 0, SEEK_SET) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "seek failed");
    uint8_t got[32];
    uint64_t count = 0;
    enum dp_status st = kept_digest_of(NULL, fd, got, &count, err);
    if (st != DP_OK)
        return st;
    if (count != res->kept || memcmp(got, res->kept_digest, 32) != 0)
        return dp_error_set(err, DP_ERR_VERIFY, 0,
                            "the new archive read back holds %llu member(s), not the %llu kept "
                            "with their content", (unsigned long long)count,
                            (unsigned long long)res->kept);
    return DP_OK;
}

/* The member chain[level..depth) below the archive a is reading: its content into *out. */
static enum dp_status find_member(struct archive *a, char *const *chain, const size_t *lens,
                                  unsigned depth, unsigned level, struct membuf *out,
                                  struct dp_error *err)
{
    struct archive_entry *e;
    for (;;) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            return dp_error_set(err, DP_ERR_CHANGED, 0, "the member is not in the archive");
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
            return dp_error_set(err, DP_ERR_PARSE, 0, "reading the archive: %s",
                                archive_error_string(a) ? archive_error_string(a) : "?");
        const char *name = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || name == NULL ||
            strlen(name) != lens[level] || memcmp(name, chain[level], lens[level]) != 0)
            continue;
        struct membuf b = {0};
        enum dp_status st = read_all(a, &b, err);
        if (st == DP_OK && level + 1 == depth) {
            *out = b;
            return DP_OK;
        }
        struct archive *n = st == DP_OK ? reader() : NULL;
        if (st == DP_OK && n == NULL)
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        else if (st == DP_OK && archive_read_open_memory(n, b.p, b.len) != ARCHIVE_OK)
            st = dp_error_set(err, DP_ERR_CHANGED, 0, "a member named as an archive is not one");
        else if (st == DP_OK)
            st = find_member(n, chain, lens, depth, level + 1, out, err);
        archive_read_free(n);
        free(b.p);
        return st;
    }
}

enum dp_status dp_archive_member_read(int fd, char *const *chain, const size_t *lens,
                                      unsigned depth, uint8_t **out, size_t *len,
                                      struct dp_error *err)
{
    *out = NULL;
    *len = 0;
    if (depth == 0)
        dp_misuse("dp_archive_member_read: no member named");
    if (lseek(fd, 0, SEEK_SET) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "seek failed");
    struct archive *a = reader();
    if (a == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    struct membuf b = {0};
    enum dp_status st = archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK
                            ? find_member(a, chain, lens, depth, 0, &b, err)
                            : dp_error_set(err, DP_ERR_PARSE, 0, "the archive cannot be read: %s",
                                           archive_error_string(a));
    archive_read_free(a);
    if (st == DP_OK) {
        *out = b.p ? b.p : malloc(1);
        *len = b.len;
        if (*out == NULL)
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    return st;
}
