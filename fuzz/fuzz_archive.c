/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: an archive on a prepared device, read member by member as the scan reads it
 * (dp_archive_scan, include/deprive/archive.h: libarchive's zip, 7z, rar/rar5, tar, cpio,
 * ISO 9660 and compressed-file readers, nested archives opened from memory) under the bomb
 * limits, and first probed as the wipe probes it (dp_archive_probe, dp_archive_writable).
 * The input is the archive's bytes, handed over in a memfd. Its length picks one of three
 * sets of limits, so every input meets roomy, tight and password-carrying limits as it grows:
 *   length % 3 == 0: depth 8, 8 MiB expanded, 1,000,000 members, nested archives up to 1 MiB;
 *   length % 3 == 1: depth 2, 64 KiB expanded, 8 members, nested archives up to 4 KiB;
 *   length % 3 == 2: depth 1, 1 MiB expanded, 100 members, nested up to 64 KiB, passwords
 *                    "fuzz" and "deprive" (the encrypted seeds use them).
 * (The ratio limit applies only past 64 MiB expanded: not reached here.) An input that does
 * not sniff as an archive is read as tar, as the wipe does.
 * Properties: the scan returns DP_OK (the visitor never fails); members nest properly - begin
 * gets the innermost open member as parent (NULL at depth 1) and depth parent + 1, never more
 * than max_depth; data and end go to the innermost open member (each sink is a heap object
 * freed at end: ASan sees a late call); every begin is ended; names are as long as they say;
 * the bytes handed over never exceed max_bytes, nor the members max_members; the stats agree
 * with what the visitor saw (members, skips by reason, bytes at least those handed over);
 * every skip has a reason in range and a message (not NULL). */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "deprive/archive.h"

#define MAX_OPEN 64

struct sink {
    unsigned depth;
    uint64_t bytes;
};

struct seen {
    const struct dp_archive_limits *lim;
    struct sink *open[MAX_OPEN]; /* the open members, outermost first */
    unsigned n_open;
    uint64_t begins, ends, members, bytes;
    uint64_t skipped[DP_MEMBER_SKIP_COUNT];
    uint8_t touch;
};

static void *v_begin(void *ctx, void *parent, const struct dp_member_info *m)
{
    struct seen *s = ctx;
    struct sink *top = s->n_open ? s->open[s->n_open - 1] : NULL;
    if (parent != top || m->depth != (top ? top->depth + 1 : 1) || m->depth > s->lim->max_depth ||
        s->n_open >= MAX_OPEN)
        abort(); /* not nested as the header says */
    if (m->name == NULL || strlen(m->name) != m->name_len ||
        (m->hardlink != NULL && strlen(m->hardlink) != m->hardlink_len) ||
        (unsigned)m->archive >= DP_ARCHIVE_KIND_COUNT || m->archive == DP_ARCHIVE_NONE)
        abort();
    (void)dp_archive_writable(m->archive, m->compression);
    struct sink *k = calloc(1, sizeof(*k));
    if (k == NULL)
        abort();
    k->depth = m->depth;
    s->open[s->n_open++] = k;
    s->begins++;
    if (m->hardlink == NULL || m->size > 0) /* a hard-link entry with no data is no member */
        s->members++;
    return k;
}

static void v_data(void *ctx, void *sink, const uint8_t *buf, size_t len)
{
    struct seen *s = ctx;
    struct sink *k = sink;
    if (s->n_open == 0 || k != s->open[s->n_open - 1] || (len > 0 && buf == NULL))
        abort();
    if (len > 0) /* the block's ends readable: ASan checks what libarchive handed over */
        s->touch ^= (uint8_t)(buf[0] ^ buf[len - 1]);
    k->bytes += len;
    s->bytes += len;
}

static enum dp_status v_end(void *ctx, void *sink, bool ok, const char *detail)
{
    struct seen *s = ctx;
    struct sink *k = sink;
    (void)ok;
    (void)detail;
    if (s->n_open == 0 || k != s->open[s->n_open - 1])
        abort();
    s->n_open--;
    s->ends++;
    free(k);
    return DP_OK;
}

static void v_skip(void *ctx, void *parent, const struct dp_member_info *m, enum dp_member_skip r,
                   const char *detail)
{
    struct seen *s = ctx;
    if ((unsigned)r >= DP_MEMBER_SKIP_COUNT || detail == NULL ||
        strcmp(dp_member_skip_name(r), "?") == 0)
        abort();
    bool open = parent == NULL;
    for (unsigned i = 0; i < s->n_open; i++)
        open |= parent == s->open[i];
    if (!open || (m != NULL && (m->name == NULL || strlen(m->name) != m->name_len)))
        abort();
    s->skipped[r]++;
}

static const char *const passwords[] = {"fuzz", "deprive"};

static void limits_for(size_t size, struct dp_archive_limits *l)
{
    memset(l, 0, sizeof(*l));
    switch (size % 3) {
    case 0:
        *l = (struct dp_archive_limits){.max_bytes = 8u << 20, .nested_buffer = 1u << 20};
        break;
    case 1:
        *l = (struct dp_archive_limits){
            .max_depth = 2, .max_bytes = 64u << 10, .max_members = 8, .nested_buffer = 4u << 10};
        break;
    default:
        *l = (struct dp_archive_limits){.max_depth = 1,
                                        .max_bytes = 1u << 20,
                                        .max_members = 100,
                                        .nested_buffer = 64u << 10,
                                        .passwords = passwords,
                                        .password_count = 2};
        break;
    }
    dp_archive_limits_fill(l);
}

static int memfd_of(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-archive", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_of(data, size);
    enum dp_archive_kind kind = dp_archive_sniff(data, size);
    if (strcmp(dp_archive_kind_name(kind), "?") == 0)
        abort();

    /* the wipe's look first: what it is, and may it be rewritten */
    enum dp_archive_kind pk = DP_ARCHIVE_NONE;
    const char *comp = NULL;
    bool enc = false;
    struct dp_error err = {0};
    enum dp_status ps = dp_archive_probe(fd, &pk, &comp, &enc, &err);
    if (ps == DP_OK)
        (void)dp_archive_writable(pk, comp);
    else if (err.msg[0] == '\0')
        abort();

    struct dp_archive_limits lim;
    limits_for(size, &lim);
    struct seen s = {.lim = &lim};
    const struct dp_archive_visitor v = {v_begin, v_data, v_end, v_skip, &s};
    struct dp_archive_stats st = {0};
    memset(&err, 0, sizeof(err));
    enum dp_status rs = dp_archive_scan(fd, size, kind == DP_ARCHIVE_NONE ? DP_ARCHIVE_TAR : kind,
                                        &lim, &v, &st, &err);
    if (rs != DP_OK) {
        fprintf(stderr, "dp_archive_scan: %s: %s\n", dp_status_str(rs), err.msg);
        abort();
    }
    if (getenv("FUZZ_ARCHIVE_VERBOSE") != NULL) { /* to see what the seeds reach */
        fprintf(stderr,
                "fuzz_archive: %zu bytes, %s, limits %zu: %llu archives, %llu members, "
                "%llu bytes; skips",
                size, dp_archive_kind_name(kind), size % 3, (unsigned long long)st.archives,
                (unsigned long long)st.members, (unsigned long long)st.bytes);
        for (int r = 0; r < DP_MEMBER_SKIP_COUNT; r++)
            if (st.skipped[r])
                fprintf(stderr, " %s %llu", dp_member_skip_name((enum dp_member_skip)r),
                        (unsigned long long)st.skipped[r]);
        fputc('\n', stderr);
    }
    if (s.n_open != 0 || s.begins != s.ends)
        abort(); /* a member begun and never ended */
    if (s.bytes > lim.max_bytes || s.bytes > st.bytes || s.members > lim.max_members ||
        s.members != st.members)
        abort(); /* a limit not kept, or the stats not what the visitor saw */
    for (int r = 0; r < DP_MEMBER_SKIP_COUNT; r++)
        if (s.skipped[r] != st.skipped[r])
            abort();
    close(fd);
    return 0;
}
