/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: reading archives member by member (libarchive), nested archives followed, under
 * limits that make a bomb a recorded skip rather than a hang or a full disk
 * (src/container/archive.c).
 *
 * Formats are recognised by content, never by name: zip, 7z, rar/rar5, tar (plain or
 * compressed), cpio, ISO 9660, and a single gzip/bzip2/xz/zstd-compressed file (libarchive's
 * raw format, enabled only when a compression signature is at offset 0). Formats and filters
 * are enabled by name: never archive_read_support_filter_all (it would run external programs
 * such as lzop or grzip on hostile input), never mtree (it claims plain text files), and a
 * filter libarchive could only provide through an external program is not enabled at all.
 *
 * Nothing is written anywhere: members are streamed to the caller; a nested archive is opened
 * from memory (it needs seeking), up to limits.nested_buffer bytes, else recorded as not
 * opened.
 *
 * Thread safety: no global state after the first call (a one-time probe of the filters);
 * one call per archive, any number of calls in parallel. */
#ifndef DEPRIVE_ARCHIVE_H
#define DEPRIVE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/types.h"

enum dp_archive_kind {
    DP_ARCHIVE_NONE = 0,
    DP_ARCHIVE_ZIP,
    DP_ARCHIVE_7ZIP,
    DP_ARCHIVE_RAR,
    DP_ARCHIVE_TAR,
    DP_ARCHIVE_CPIO,
    DP_ARCHIVE_ISO9660,
    DP_ARCHIVE_COMPRESSED, /* gzip, bzip2, xz or zstd: a compressed tar or a single file */
    DP_ARCHIVE_KIND_COUNT
};
/* "none", "zip", "7zip", "rar", "tar", "cpio", "iso9660", "compressed". */
const char *dp_archive_kind_name(enum dp_archive_kind k);

/* Bytes dp_archive_sniff looks at (ISO 9660's signature is at 32769). */
#define DP_ARCHIVE_SNIFF_BYTES 32774
/* The kind of archive head[0..len) starts (from the first DP_ARCHIVE_SNIFF_BYTES bytes of a
 * file or member; fewer when it is shorter). DP_ARCHIVE_NONE when none. */
enum dp_archive_kind dp_archive_sniff(const uint8_t *head, size_t len);

/* Defaults of the limits (--archive-max-depth, --archive-max-bytes, --archive-max-ratio,
 * --archive-max-members). */
#define DP_ARCHIVE_MAX_DEPTH_DEFAULT 8
#define DP_ARCHIVE_MAX_BYTES_DEFAULT (64ull << 30)      /* expanded per top-level archive */
#define DP_ARCHIVE_MAX_RATIO_DEFAULT 200                /* expanded / archive size ... */
#define DP_ARCHIVE_RATIO_ALLOWANCE (64ull << 20)        /* ... once past 64 MiB */
#define DP_ARCHIVE_MAX_MEMBERS_DEFAULT 1000000ull       /* per top-level archive, all levels */
#define DP_ARCHIVE_NESTED_BUFFER_DEFAULT (256ull << 20) /* a nested archive opened in memory */

struct dp_archive_limits {
    unsigned max_depth;      /* nesting levels opened (1: members of the file only); 0: default */
    uint64_t max_bytes;      /* member bytes expanded, all levels together; 0: default */
    uint64_t max_ratio;      /* expanded bytes / the archive file's size; 0: default */
    uint64_t max_members;    /* members, all levels together; 0: default */
    uint64_t nested_buffer;  /* largest nested archive opened (held in memory); 0: default */
    const char *const *passwords; /* tried on encrypted members (zip, 7z, rar); may be NULL */
    size_t password_count;
};

/* Replace every 0 in l by its default. */
void dp_archive_limits_fill(struct dp_archive_limits *l) DP_NONNULL(1);

/* Why something inside an archive was not examined. */
enum dp_member_skip {
    DP_MEMBER_ENCRYPTED = 0, /* "encrypted": no password given opened it */
    DP_MEMBER_CORRUPT,       /* "corrupt": truncated or damaged; what follows it is not
                                examined. Also a zip holding entries by their local headers
                                that its central directory does not list (not examined) */
    DP_MEMBER_DEPTH,         /* "depth": a nested archive below --archive-max-depth, not opened
                                (its bytes were examined as a member) */
    DP_MEMBER_BYTES,         /* "max-bytes": --archive-max-bytes reached; the rest not examined */
    DP_MEMBER_RATIO,         /* "max-ratio": expanded beyond --archive-max-ratio times the
                                archive's size (a decompression bomb); the rest not examined */
    DP_MEMBER_MEMBERS,       /* "max-members": --archive-max-members reached; the rest not
                                examined */
    DP_MEMBER_NESTED_SIZE,   /* "nested-too-large": a nested archive larger than the in-memory
                                limit, not opened (its bytes were examined as a member) */
    DP_MEMBER_UNSUPPORTED,   /* "unsupported": a format or feature libarchive cannot read
                                (multi-volume, an unsupported compression method) */
    DP_MEMBER_SKIP_COUNT
};
/* "encrypted", "corrupt", "depth", "max-bytes", "max-ratio", "max-members",
 * "nested-too-large", "unsupported". */
const char *dp_member_skip_name(enum dp_member_skip r);

/* One member as the archive describes it (borrowed for the call). */
struct dp_member_info {
    const char *name;        /* path in the archive, raw bytes as stored */
    size_t name_len;
    unsigned depth;          /* 1: a member of the file itself; 2: of a member; ... */
    bool unlisted;           /* a zip entry its central directory does not list, read by its
                                local header (index then counts on after the listed entries) */
    uint64_t index;          /* its position among the entries of its archive (0-based) */
    int64_t size;            /* declared size, -1 when the archive does not say */
    int64_t mtime;           /* seconds, 0 when unknown */
    unsigned mode;           /* permission bits */
    const char *hardlink;    /* tar/cpio hard-link entry: the member it links to (no data of
                                its own: it is that member's content); else NULL */
    size_t hardlink_len;
    enum dp_archive_kind archive; /* the kind of archive it is in (as libarchive read it) */
    const char *compression;      /* "gzip", "bzip2", "xz", "lzma", "zstd"; NULL: none */
    uint64_t local_offset; /* unlisted: its local header's offset in the zip */
};

/* The caller's side. For each regular member: begin (a sink for it, given the sink of the
 * member whose archive it is in, NULL at depth 1), data (in order, holes of sparse members as
 * zeros), end; a nested archive's members come between its own data and its end. A
 * hard-link entry gets begin and end with no data. skip names what was not examined: m is the
 * member concerned, or NULL for the archive (the file itself when parent is NULL, else the
 * member parent stands for). */
struct dp_archive_visitor {
    void *(*begin)(void *ctx, void *parent, const struct dp_member_info *m);
    void (*data)(void *ctx, void *sink, const uint8_t *buf, size_t len);
    /* ok false: its data broke off (truncated, corrupt, wrong password); detail says how, or
     * is NULL when a limit stopped it (its skip was recorded already). A status other than
     * DP_OK (out of memory) stops everything and is returned. */
    enum dp_status (*end)(void *ctx, void *sink, bool ok, const char *detail);
    void (*skip)(void *ctx, void *parent, const struct dp_member_info *m,
                 enum dp_member_skip reason, const char *detail);
    void *ctx;
};

struct dp_archive_stats {
    uint64_t archives;       /* archives opened (nested ones included) */
    uint64_t members;        /* regular members examined */
    uint64_t bytes;          /* member bytes expanded */
    uint64_t skipped[DP_MEMBER_SKIP_COUNT];
};

/* Read the archive in fd (a regular file of size bytes, read from offset 0; its kind from
 * dp_archive_sniff, not NONE) member by member through v. Damage, encryption and limits are
 * skips through v->skip, not errors: DP_OK then. Fails with the visitor's status, DP_ERR_NOMEM,
 * or DP_ERR_IO when fd cannot be read. stats (may be NULL) is added to. */
enum dp_status dp_archive_scan(int fd, uint64_t size, enum dp_archive_kind kind,
                               const struct dp_archive_limits *limits,
                               const struct dp_archive_visitor *v,
                               struct dp_archive_stats *stats, struct dp_error *err) DP_WUR
    DP_NONNULL(4, 5);

/* ---- removing members: rewriting an archive without them (src/container/rewrite.c) ----
 *
 * The archive is read with libarchive and written again, same format and compression, every
 * other member's content, name, mode, owner and mtime kept, in the same order; a member of a
 * nested archive is removed by rewriting that archive (in memory) and the enclosing one with
 * it. Writable: zip, tar (plain, gzip, bzip2, xz, zstd), cpio. The zip writer stores or
 * deflates every member (a member compressed otherwise is deflated; "mimetype" first and
 * stored, as ODF and EPUB need, is kept so). */

/* The zip in fd (a file, read from its start) holds entries by their local headers that its
 * central directory does not list: DP_ERR_UNSUPPORTED saying how many ("the zip holds 1 entry
 * by its local header that its central directory does not list; rewriting it would drop that
 * entry") - dp_archive_rewrite refuses such a zip, so the wipe treats it as an archive it
 * cannot rewrite (--archive-policy). DP_OK when none is hidden or fd is no zip; DP_ERR_IO,
 * DP_ERR_NOMEM. */
enum dp_status dp_archive_zip_check(int fd, struct dp_error *err);
/* Can an archive of this kind (as read: dp_member_info.archive, .compression) be rewritten? */
bool dp_archive_writable(enum dp_archive_kind kind, const char *compression);
/* What the archive in fd is, as libarchive reads it (its first header): *kind
 * (DP_ARCHIVE_COMPRESSED for a single compressed file) and *compression (static name or
 * NULL); *encrypted (may be NULL): a zip holding an encrypted member (its headers read).
 * DP_ERR_PARSE when it does not read as an archive at all. */
enum dp_status dp_archive_probe(int fd, enum dp_archive_kind *kind, const char **compression,
                                bool *encrypted, struct dp_error *err) DP_WUR DP_NONNULL(2, 3);

/* One member to remove: its chain of names below the file (outermost first) and the digests
 * its content must have (any algorithm in mask; enum dp_algo indexes, as types.h).
 *
 * An embedded copy inside the member: ranges[0..nranges) ({offset, length} in the content, in
 * the stream's order) hold a stream, and the digests are the stream's (those bytes in that
 * order), not the content's. With replace the member is kept, its content written again with
 * every byte of those ranges zero (name, metadata and place unchanged); without, the member
 * is left out, as a plain removal is. Several removals may name one member: it is left out
 * when any of them leaves it out, else written once with all their ranges zeroed. */
struct dp_archive_removal {
    char *const *chain;
    const size_t *lens;
    unsigned depth;
    unsigned digest_mask;
    const uint8_t (*digests)[DP_DIGEST_MAX]; /* [DP_ALGO_EXACT_COUNT] */
    const uint64_t (*ranges)[2];             /* NULL: the whole member */
    size_t nranges;
    bool replace;
    /* filled by dp_archive_rewrite: */
    bool found;         /* present, its content (or its ranges) had the digests, and it was
                           left out (or written with the ranges zeroed) */
    bool mismatch;      /* present, but its content did not have them: nothing written */
    bool replaced;      /* kept with the ranges zeroed */
    uint8_t *content;   /* with keep_content: its bytes, or the stream's (the ranges in
                           order) for a range removal (heap), for a perceptual re-check */
    size_t content_len;
    uint8_t outside_sha256[32]; /* replaced: SHA-256 of its content outside every range zeroed
                                   in it (dp_sha256_outside), taken before */
};

struct dp_archive_rewrite_result {
    enum dp_archive_kind kind;
    char compression[16];
    uint64_t kept;        /* entries kept in the archive itself (a rewritten nested archive
                             counts as one; its own members were checked when it was written) */
    uint64_t removed;     /* members left out (hard links to removed members included) */
    uint8_t kept_digest[32]; /* SHA-256 over the kept members' (name, SHA-256) in order: what
                                dp_archive_verify checks the new archive against */
    char changes[512];    /* what the rewrite could not keep, in words ("" when nothing) */
};

/* Write the archive in in_fd (from offset 0) to out_fd without the members of rm[0..n).
 * Members whose content does not have the expected digests stop the rewrite: DP_ERR_CHANGED,
 * nothing usable written (the caller removes the output). A member not found: DP_ERR_CHANGED
 * too. keep_content: hold each removed member's bytes in rm[i].content (up to 256 MiB).
 * DP_ERR_UNSUPPORTED: not writable (dp_archive_writable), or a zip (the file or one inside it)
 * holds entries by their local headers that its central directory does not list (rewritten
 * from the directory, they would be dropped): refused before anything is written;
 * DP_ERR_PARSE: unreadable;
 * DP_ERR_IO: writing failed (ENOSPC among them); DP_ERR_NOMEM. */
enum dp_status dp_archive_rewrite(int in_fd, int out_fd, struct dp_archive_removal *rm, size_t n,
                                  bool keep_content, struct dp_archive_rewrite_result *res,
                                  struct dp_error *err) DP_WUR DP_NONNULL(3, 6);

/* The content of the member chain[0..depth) (outermost first) of the archive in fd, read from
 * offset 0 and nested archives opened in memory: *out heap (up to 256 MiB), *len. DP_ERR_CHANGED
 * when there is no such member; DP_ERR_PARSE, DP_ERR_NOMEM, DP_ERR_IO. */
enum dp_status dp_archive_member_read(int fd, char *const *chain, const size_t *lens,
                                      unsigned depth, uint8_t **out, size_t *len,
                                      struct dp_error *err) DP_WUR DP_NONNULL(2, 3, 5, 6);

/* Read the archive in fd back and check that its members are exactly the kept ones: the same
 * digest over (name, SHA-256) in order as the rewrite computed (nested archives that were
 * rewritten are compared by their members too). DP_ERR_VERIFY when they differ. */
enum dp_status dp_archive_verify(int fd, const struct dp_archive_rewrite_result *res,
                                 struct dp_error *err) DP_WUR DP_NONNULL(2);

#endif
