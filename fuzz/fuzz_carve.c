/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: the carver (container/carve.h) and the SQLite record walker
 * (container/sqlite.h) on the bytes of a prepared file - every byte of every file the scan
 * reads goes through the finder, every candidate through a validator, and every SQLite
 * database through the overflow-chain walk.
 * Properties: the finder names the same candidates, in increasing order, whatever pieces the
 * bytes arrive in (here: cut where the first byte says); each candidate's validation reads
 * only the bytes given (ASan sees an overread: the input is copied into an exactly sized
 * buffer), an OK stream lies within them and is at least DP_CARVE_MIN_STREAM long, MORE asks
 * for more than it had, and validating the same bytes again gives the same answer; a record
 * the SQLite walk hands over has pieces that tile its payload in order, each inside the file,
 * whose bytes in the file are the payload's. */
#include "fuzz_common.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/carve.h"
#include "deprive/sqlite.h"

#define MAX_CANDS 4096

struct cands {
    uint64_t off[MAX_CANDS];
    uint8_t kind[MAX_CANDS];
    size_t n;
};

static void on_cand(void *ctx, uint64_t off, enum dp_carve_kind kind)
{
    struct cands *c = ctx;
    if (c->n > 0 && off <= c->off[c->n - 1])
        abort(); /* not in increasing order */
    if (c->n < MAX_CANDS) {
        c->off[c->n] = off;
        c->kind[c->n++] = (uint8_t)kind;
    }
}

static void find(const uint8_t *b, size_t n, size_t piece, struct cands *c)
{
    struct dp_carve_finder f;
    dp_carve_finder_init(&f);
    c->n = 0;
    for (size_t at = 0; at < n;) {
        size_t k = piece == 0 || n - at < piece ? n - at : piece;
        dp_carve_feed(&f, b + at, k, on_cand, c);
        at += k;
    }
    dp_carve_finish(&f, on_cand, c);
}

static void validate(const uint8_t *b, size_t n, const struct cands *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->off[i] >= n)
            abort();
        size_t rest = n - (size_t)c->off[i];
        /* the whole rest, then about half of it as if more were to come */
        for (int pass = 0; pass < 2; pass++) {
            size_t avail = pass == 0 ? rest : rest / 2 + 1;
            if (avail > rest)
                avail = rest;
            uint8_t *w = malloc(avail ? avail : 1); /* exactly sized: ASan sees overreads */
            if (w == NULL)
                abort();
            memcpy(w, b + c->off[i], avail);
            uint64_t len = 0, len2 = 0;
            bool at_end = pass == 0;
            enum dp_carve_kind k = (enum dp_carve_kind)c->kind[i];
            enum dp_carve_verdict v = dp_carve_validate(k, w, avail, at_end, 1 << 20, &len);
            enum dp_carve_verdict v2 = dp_carve_validate(k, w, avail, at_end, 1 << 20, &len2);
            if (v != v2 || (v != DP_CARVE_NO && len != len2))
                abort(); /* not deterministic */
            if (v == DP_CARVE_OK && (len > avail || len < DP_CARVE_MIN_STREAM))
                abort();
            if (v == DP_CARVE_MORE && (at_end || len <= avail))
                abort();
            free(w);
        }
    }
}

struct rec_check {
    const uint8_t *file;
    size_t size;
};

static bool on_record(void *ctx, const struct dp_sqlite_record *r)
{
    const struct rec_check *c = ctx;
    uint64_t at = 0;
    for (size_t i = 0; i < r->nsegs; i++) {
        uint64_t po = r->segs[i][0], fo = r->segs[i][1], len = r->segs[i][2];
        if (po != at || len == 0 || fo > c->size || len > c->size - fo ||
            memcmp(c->file + fo, r->payload + po, (size_t)len) != 0)
            abort();
        at += len;
    }
    if (at != r->len)
        abort();
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cands whole, cut;
    uint8_t *b = malloc(size ? size : 1);
    if (b == NULL)
        abort();
    memcpy(b, data, size);
    find(b, size, 0, &whole);
    size_t piece = size > 0 ? (size_t)data[0] % 67 + 1 : 1;
    find(b, size, piece, &cut);
    if (whole.n != cut.n || memcmp(whole.off, cut.off, whole.n * sizeof(whole.off[0])) != 0 ||
        memcmp(whole.kind, cut.kind, whole.n) != 0)
        abort(); /* the pieces changed what was found */
    validate(b, size, &whole);
    if (dp_sqlite_sniff(b, size)) {
        char *p = fz_write("db", b, size);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            abort();
        struct rec_check rc = {b, size};
        struct dp_sqlite_stats st;
        (void)dp_sqlite_overflow_records(fd, size, 1 << 20, on_record, &rc, &st, NULL);
        close(fd);
        free(p);
    }
    free(b);
    return 0;
}
