/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: SQLite records across overflow pages (sqlite.h). The file format
 * (sqlite.org/fileformat2.html): a 100-byte header on page 1 (page size at 16, reserved bytes
 * per page at 20); b-tree pages with an 8-byte header on leaves (type 0x0D table leaf, 0x0A
 * index leaf), a cell count at 3 and the cell pointer array after the header; a table leaf
 * cell is a varint payload size P, a varint rowid, then the payload, an index leaf cell the
 * same without the rowid. With U the usable page size, a payload of more than X bytes (U - 35
 * for table leaves, (U - 12) * 64 / 255 - 23 for index leaves) keeps K or M bytes on the page
 * (M = (U - 12) * 32 / 255 - 23, K = M + (P - M) % (U - 4); K when K <= X) followed by the
 * 4-byte number of the first overflow page; each overflow page holds the next page's number
 * (0 at the end) and U - 4 bytes of the payload. */
#include "deprive/sqlite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint32_t be16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t page_size_of(const uint8_t *h)
{
    uint32_t ps = be16(h + 16);
    if (ps == 1)
        return 65536;
    return ps >= 512 && ps <= 32768 && (ps & (ps - 1)) == 0 ? ps : 0;
}

bool dp_sqlite_sniff(const uint8_t *head, size_t len)
{
    return len >= 100 && memcmp(head, "SQLite format 3", 16) == 0 && page_size_of(head) != 0;
}

/* A SQLite varint at p (at most 9 bytes, within end); its length, 0 when it runs past end. */
static size_t varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < 9; i++) {
        if (p + i >= end)
            return 0;
        if (i == 8) {
            *v = x << 8 | p[i];
            return 9;
        }
        x = x << 7 | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

static bool read_at(int fd, uint8_t *b, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

struct walk {
    int fd;
    uint32_t ps, usable;
    uint64_t npages, max_record;
    uint8_t *page, *ovf;      /* one leaf page; one overflow page */
    uint8_t *payload;         /* a record being put together */
    size_t payload_cap;
    uint64_t (*segs)[3];
    size_t segs_cap;
    uint8_t *seen;            /* a bit per page: in the chain being followed */
    struct dp_sqlite_stats *st;
};

static bool seen_test_set(uint8_t *b, uint64_t pg)
{
    bool was = b[pg / 8] >> (pg % 8) & 1;
    b[pg / 8] |= (uint8_t)(1u << (pg % 8));
    return was;
}

static bool grow(struct walk *w, size_t len, size_t nsegs)
{
    if (len > w->payload_cap) {
        uint8_t *p = realloc(w->payload, len);
        if (p == NULL)
            return false;
        w->payload = p;
        w->payload_cap = len;
    }
    if (nsegs > w->segs_cap) {
        uint64_t(*s)[3] = realloc(w->segs, nsegs * sizeof(*s));
        if (s == NULL)
            return false;
        w->segs = s;
        w->segs_cap = nsegs;
    }
    return true;
}

/* The record of payload size p whose first `local` bytes are at page offset `at` of leaf page
 * pg, its first overflow page ovf0: put together in w->payload. 1 done, 0 broken, -1 out of
 * memory or a read error. */
static int assemble(struct walk *w, uint32_t pg, size_t at, uint64_t p, size_t local,
                    uint32_t ovf0, size_t *nsegs)
{
    uint64_t per = w->usable - 4;
    uint64_t pages = (p - local + per - 1) / per;
    if (pages > w->npages || !grow(w, (size_t)p, (size_t)pages + 1))
        return pages > w->npages ? 0 : -1;
    memcpy(w->payload, w->page + at, local);
    /* grow() made room for pages + 1 >= 1 segments (pages <= npages cannot wrap) */
    w->segs[0][0] = 0; /* NOLINT(clang-analyzer-core.NullDereference) */
    w->segs[0][1] = (uint64_t)(pg - 1) * w->ps + at;
    w->segs[0][2] = local;
    size_t n = 1;
    uint64_t done = local;
    uint32_t next = ovf0;
    int r = 1;
    seen_test_set(w->seen, pg);
    while (done < p) {
        /* a page met twice (the leaf's own, or one already in the chain) is a loop; a chain
           longer than the record needs is corrupt */
        if (next < 1 || next > w->npages || n > pages || seen_test_set(w->seen, next)) {
            r = 0;
            break;
        }
        if (!read_at(w->fd, w->ovf, w->ps, (uint64_t)(next - 1) * w->ps)) {
            r = -1;
            break;
        }
        uint64_t take = p - done < per ? p - done : per;
        memcpy(w->payload + done, w->ovf + 4, (size_t)take);
        w->segs[n][0] = done;
        w->segs[n][1] = (uint64_t)(next - 1) * w->ps + 4;
        w->segs[n][2] = take;
        n++;
        done += take;
        next = be32(w->ovf);
    }
    /* the bits of this chain cleared for the next one */
    w->seen[pg / 8] = 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t q = w->segs[i][1] / w->ps + 1;
        w->seen[q / 8] = 0;
    }
    if (r == 0 && next >= 1 && next <= w->npages)
        w->seen[next / 8] = 0;
    *nsegs = n;
    return r;
}

/* Every cell of leaf page pg (in w->page) that overflows, handed to cb. false: stop. */
static bool leaf(struct walk *w, uint32_t pg, dp_sqlite_cb cb, void *ctx, int *fail)
{
    size_t h = pg == 1 ? 100 : 0;
    uint8_t type = w->page[h];
    if (type != 0x0D && type != 0x0A)
        return true;
    w->st->leaf_pages++;
    bool table = type == 0x0D;
    uint32_t u = w->usable;
    uint64_t x = table ? u - 35 : (uint64_t)(u - 12) * 64 / 255 - 23;
    uint64_t m = (uint64_t)(u - 12) * 32 / 255 - 23;
    uint32_t ncells = be16(w->page + h + 3);
    const uint8_t *end = w->page + u;
    for (uint32_t i = 0; i < ncells; i++) {
        size_t cp = h + 8 + 2 * (size_t)i;
        if (cp + 2 > u)
            break;
        uint32_t at = be16(w->page + cp);
        if (at < h + 8 || at >= u)
            continue;
        const uint8_t *c = w->page + at;
        uint64_t p = 0, rowid = 0;
        size_t k = varint(c, end, &p);
        if (k == 0)
            continue;
        if (table) {
            size_t r = varint(c + k, end, &rowid);
            if (r == 0)
                continue;
            k += r;
        }
        if (p <= x)
            continue; /* all on the page: the carver sees it whole */
        uint64_t kk = m + (p - m) % (u - 4);
        size_t local = (size_t)(kk <= x ? kk : m);
        if (at + k + local + 4 > u)
            continue;
        if (p > w->max_record) {
            w->st->too_long++;
            continue;
        }
        size_t nsegs = 0;
        int a = assemble(w, pg, at + k, p, local, be32(c + k + local), &nsegs);
        if (a < 0) {
            *fail = 1;
            return false;
        }
        if (a == 0) {
            w->st->broken++;
            continue;
        }
        w->st->records++;
        const struct dp_sqlite_record rec = {w->payload, (size_t)p,
                                             (const uint64_t(*)[3])w->segs, nsegs, pg};
        if (!cb(ctx, &rec))
            return false;
    }
    return true;
}

enum dp_status dp_sqlite_overflow_records(int fd, uint64_t size, uint64_t max_record,
                                          dp_sqlite_cb cb, void *ctx,
                                          struct dp_sqlite_stats *stats, struct dp_error *err)
{
    uint8_t h[100];
    struct dp_sqlite_stats none;
    stats = stats ? stats : &none;
    memset(stats, 0, sizeof(*stats));
    if (size < sizeof(h) || !read_at(fd, h, sizeof(h), 0) || !dp_sqlite_sniff(h, sizeof(h)))
        return dp_error_set(err, DP_ERR_PARSE, 0, "not a SQLite database");
    struct walk w = {.fd = fd, .ps = page_size_of(h), .max_record = max_record, .st = stats};
    w.usable = w.ps - h[20];
    w.npages = size / w.ps;
    if (w.usable < 480) /* the format's minimum */
        return dp_error_set(err, DP_ERR_PARSE, 0, "SQLite: usable page size %u too small",
                            w.usable);
    w.page = malloc(w.ps);
    w.ovf = malloc(w.ps);
    w.seen = calloc(w.npages / 8 + 1, 1);
    enum dp_status st = DP_OK;
    if (w.page == NULL || w.ovf == NULL || w.seen == NULL)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    int fail = 0;
    for (uint64_t pg = 1; st == DP_OK && pg <= w.npages; pg++) {
        if (!read_at(fd, w.page, w.ps, (pg - 1) * w.ps)) {
            st = dp_error_set(err, DP_ERR_IO, errno, "SQLite: cannot read page %llu",
                              (unsigned long long)pg);
            break;
        }
        stats->pages++;
        if (!leaf(&w, (uint32_t)pg, cb, ctx, &fail))
            break;
    }
    if (st == DP_OK && fail)
        st = dp_error_set(err, DP_ERR_IO, errno, "SQLite: cannot put a record together");
    free(w.page);
    free(w.ovf);
    free(w.seen);
    free(w.payload);
    free(w.segs);
    return st;
}
