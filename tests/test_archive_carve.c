/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: image streams embedded inside archive members, found and removed through the
 * CLI. A thumbnail-cache-like member (records holding lawful images, the victim's photo as it
 * is, a resized thumbnail of it that only PDQ matches, and near misses: the victim cut short, a
 * PNG with a bad CRC) is put in a zip, a tar.gz and a zip inside a tar.gz. The scan must name
 * each copy by its member chain and exact range, the member that is itself the victim as a
 * member (not again as an embedded copy), nothing for the near misses, and a member over the
 * carving buffer as a recorded limit; deprive review draws the candidates from the members.
 * The wipe rewrites the archive with the carrying member's ranges zeroed: the new archive lists
 * the same members, the carrying member is byte-identical outside the ranges, every other
 * member byte-identical, the victim's bytes gone from the archive and from the raw loop image
 * (64 probe windows); a zip nested in a tar.gz is rewritten the same way; a perceptual-only
 * copy without consent and a copy in a -wal member are left; --embedded=report-only and
 * wipe-container do what they say; killed at each journal step the wipe finishes on --resume;
 * `deprive run` certifies it, `deprive verify` accepts it and refuses it edited, and the
 * consistency check refuses entries whose checks say not proved (test_verifier.c signs such
 * entries and runs them through deprive verify and the page).
 *
 * DP_TEST_FILTER=kill_* runs some tests; loop_* and kill_* need root and loop devices (they skip
 * with a message otherwise). */
#include "testutil.h"
#include "fsutil.h"
#include "imageset.h"
#include "robust.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/review.h"
#include "deprive/journal.h"
#include "deprive/scan.h"

#define ORDER "ORD-ACARVE-0001"
#define EXAMINER "DC Test"
#define PROBES 64
#define T0 1600000000 /* even: zip's DOS time has 2-second steps */

/* ---- the images, made once ---- */

static struct images {
    struct iset set;
    struct robust_file victim;    /* 800x600 JPEG q95, listed by SHA-256 and PDQ */
    struct robust_file thumb;     /* the victim at 160x120, JPEG q85: a perceptual copy */
    struct robust_file thumb_png; /* the same pixels as PNG (a near miss once its CRC breaks) */
    struct robust_file lawful[2]; /* unrelated scenes, JPEG q85 */
    struct robust_file lawful_png;
    const char *list; /* the victim's SHA-256 and PDQ */
    char list_text[512];
} G;

static bool make_images(void)
{
    const struct iset_file spec[] = {
        {&G.victim, "victim.jpg", 0, 0, 95, ISET_SOURCE},
        {&G.thumb, "thumb.jpg", 160, 120, 85, ISET_SOURCE},
        {&G.thumb_png, "thumb.png", 160, 120, 0, ISET_SOURCE},
        {&G.lawful[0], "l0.jpg", 320, 240, 85, 7001},
        {&G.lawful[1], "l1.jpg", 320, 240, 85, 7002},
        {&G.lawful_png, "l.png", 120, 90, 0, 7101},
    };
    char pdq[96];
    if (!iset_make(&G.set, "archive_carve", 800, 600, 4242, spec, sizeof(spec) / sizeof(spec[0])) ||
        !iset_pdq(&G.set, &G.victim, pdq, sizeof(pdq)))
        return false;
    snprintf(G.list_text, sizeof(G.list_text), "# deprive-hashes 1\nsha256:%s %s label=victim\n",
             G.victim.sha, pdq);
    G.list = iset_write(&G.set, "victim.list", G.list_text);
    return true;
}

static void need_images(void)
{
    iset_need(&G.set, make_images);
}

/* ---- the cache member: "TCDB", then per record "REC" + kind byte, a 32-bit length, "BODY",
 * the body, padded to 8 bytes with '~' ---- */

static const char NOTES[] = "lawful notes, kept in the archive\n";

enum { R_LAWFUL0, R_VICTIM, R_LAWFUL_PNG, R_THUMB, R_TRUNC, R_BADCRC, R_LAWFUL1, R_COUNT };

struct cache {
    unsigned char *b;
    size_t n, off[R_COUNT];
};

/* pad: lawful filler after the records; trunc: the victim cut short among them (a near miss
 * that holds most of the victim's bytes, rightly left: not where a raw-image probe can look) */
static void make_cache(struct cache *c, size_t pad, bool trunc)
{
    unsigned char *bad = tu_own(malloc(G.thumb_png.n));
    memcpy(bad, G.thumb_png.b, G.thumb_png.n);
    unsigned char *idat = memmem(bad, G.thumb_png.n, "IDAT", 4);
    assert_non_null(idat);
    idat[4 + 100] ^= 0x01; /* the chunk's CRC no longer agrees */
    const struct {
        const unsigned char *b;
        size_t n;
    } r[R_COUNT] = {
        [R_LAWFUL0] = {G.lawful[0].b, G.lawful[0].n},
        [R_VICTIM] = {G.victim.b, G.victim.n},
        [R_LAWFUL_PNG] = {G.lawful_png.b, G.lawful_png.n},
        [R_THUMB] = {G.thumb.b, G.thumb.n},
        [R_TRUNC] = {trunc ? G.victim.b : (const unsigned char *)NOTES,
                     trunc ? G.victim.n - 700 : sizeof(NOTES) - 1},
        [R_BADCRC] = {bad, G.thumb_png.n},
        [R_LAWFUL1] = {G.lawful[1].b, G.lawful[1].n},
    };
    size_t cap = 8 + pad;
    for (int i = 0; i < R_COUNT; i++)
        cap += 12 + r[i].n + 8;
    c->b = tu_own(malloc(cap));
    memset(c->b, '~', cap); /* no zero bytes next to a range: an overwrite past it shows */
    memcpy(c->b, "TCDB\1\0\0\0", 8);
    size_t at = 8;
    for (int i = 0; i < R_COUNT; i++) {
        memcpy(c->b + at, "REC", 3);
        c->b[at + 3] = (unsigned char)i;
        robust_put_le(c->b + at + 4, (uint32_t)r[i].n, 4);
        memcpy(c->b + at + 8, "BODY", 4);
        c->off[i] = at + 12;
        memcpy(c->b + at + 12, r[i].b, r[i].n);
        at = (at + 12 + r[i].n + 7) & ~(size_t)7;
    }
    for (size_t i = 0; i < pad; i++) /* lawful filler (a log), not a stream */
        c->b[at + i] = (unsigned char)("cache log entry\n"[i % 16]);
    c->n = at + pad;
}

/* ---- archives (libarchive) ---- */

enum fmt { F_ZIP, F_ZIP_STORED, F_TAR, F_TAR_GZ };

struct member {
    const char *name;
    const unsigned char *b;
    size_t n;
};

static void write_archive(const char *path, enum fmt fmt, const struct member *m, size_t n)
{
    struct archive *a = archive_write_new();
    bool zip = fmt == F_ZIP || fmt == F_ZIP_STORED;
    assert_non_null(a);
    if ((zip ? archive_write_set_format_zip(a) : archive_write_set_format_pax_restricted(a)) !=
            ARCHIVE_OK ||
        (fmt == F_TAR_GZ ? archive_write_add_filter_gzip(a) : ARCHIVE_OK) != ARCHIVE_OK ||
        (fmt == F_ZIP_STORED ? archive_write_zip_set_compression_store(a) : ARCHIVE_OK) !=
            ARCHIVE_OK ||
        archive_write_open_filename(a, path) != ARCHIVE_OK)
        fail_msg("%s: %s", path, archive_error_string(a));
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_size(e, (la_int64_t)m[i].n);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, T0, 0);
        if (archive_write_header(a, e) != ARCHIVE_OK ||
            archive_write_data(a, m[i].b, m[i].n) != (la_ssize_t)m[i].n)
            fail_msg("%s: %s: %s", path, m[i].name, archive_error_string(a));
        archive_entry_free(e);
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        fail_msg("%s: close: %s", path, archive_error_string(a));
    archive_write_free(a);
}

/* The members of an archive read back (names and contents owned); how many. */
static size_t read_members(const char *path, struct member *out, size_t max)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_all(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
        fail_msg("%s does not read: %s", path, archive_error_string(a));
    size_t n = 0;
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (n == max)
            fail_msg("%s: more than %zu members", path, max);
        size_t len = (size_t)archive_entry_size(e);
        unsigned char *b = tu_own(malloc(len ? len : 1));
        if (archive_read_data(a, b, len) != (la_ssize_t)len)
            fail_msg("%s: %s does not read", path, archive_entry_pathname(e));
        out[n++] = (struct member){tu_own(strdup(archive_entry_pathname(e))), b, len};
    }
    archive_read_free(a);
    return n;
}

/* ---- the CLI ---- */

static json_t *scan(const char *root, const char *plan, bool carve)
{
    struct tu_run r;
    if (carve)
        tu_odeprive(&r, "scan", "--hashes", G.list, "-o", plan, root, NULL);
    else
        tu_odeprive(&r, "scan", "--no-carve", "--hashes", G.list, "-o", plan, root, NULL);
    tu_expect_exit(&r, 0, "scan");
    return tu_oload(plan);
}

static long long jint(const json_t *o, const char *dotted)
{
    const json_t *v = tu_jget(o, dotted);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* "loc, loc, ..." of every finding, for messages (owned). */
static char *findings_text(const json_t *plan)
{
    char *s = tu_own(calloc(1, 1));
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(plan, "findings"), i, fd)
    {
        char *loc = json_dumps(json_object_get(fd, "location"), JSON_COMPACT);
        char *t = tu_own(malloc(strlen(s) + strlen(loc) + 4));
        sprintf(t, "%s%s%s", s, i ? ", " : "", loc);
        free(loc);
        s = t;
    }
    return s;
}

/* The finding whose location is exactly chain[0..n) and, when len > 0, then {off, len}. */
static const json_t *finding(const json_t *plan, const char *const *chain, size_t n, size_t off,
                             size_t len)
{
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(plan, "findings"), i, fd)
    {
        const json_t *loc = json_object_get(fd, "location");
        if (json_array_size(loc) != n + (len > 0))
            continue;
        bool same = true;
        for (size_t k = 0; same && k < n; k++)
            same = json_is_string(json_array_get(loc, k)) &&
                   strcmp(json_string_value(json_array_get(loc, k)), chain[k]) == 0;
        const json_t *rg = json_array_get(loc, n);
        if (same && (len == 0 || (jint(rg, "offset") == (long long)off &&
                                  jint(rg, "length") == (long long)len)))
            return fd;
    }
    return NULL;
}

/* The copies the scan must name in a cache member at chain[0..n): the victim exactly, the
 * thumbnail perceptually; and nothing else in it. */
static void expect_cache_copies(const json_t *plan, const char *const *chain, size_t n,
                                const struct cache *c)
{
    const json_t *fv = finding(plan, chain, n, c->off[R_VICTIM], G.victim.n);
    const json_t *ft = finding(plan, chain, n, c->off[R_THUMB], G.thumb.n);
    if (fv == NULL || ft == NULL)
        fail_msg("%s: want the victim at %zu and the thumbnail at %zu; the findings: %s",
                 chain[n - 1], c->off[R_VICTIM], c->off[R_THUMB], findings_text(plan));
    if (strcmp(tu_jstr(fv, "digests.sha256"), G.victim.sha) != 0 ||
        json_is_true(json_object_get(fv, "perceptual_only")) ||
        !json_is_true(json_object_get(ft, "perceptual_only")) ||
        strcmp(tu_jstr(fv, "embedded.kind"), "jpeg") != 0 ||
        jint(fv, "embedded.offset") != (long long)c->off[R_VICTIM] ||
        jint(fv, "member.size") != (long long)c->n || jint(ft, "member.size") != (long long)c->n)
        fail_msg("%s: the copies' fields: %s / %s", chain[n - 1], tu_dumps(fv), tu_dumps(ft));
    size_t i, in_member = 0;
    const json_t *fd;
    json_array_foreach(json_object_get(plan, "findings"), i, fd)
    {
        const json_t *loc = json_object_get(fd, "location");
        bool same = json_array_size(loc) == n + 1;
        for (size_t k = 0; same && k < n; k++)
            same = json_is_string(json_array_get(loc, k)) &&
                   strcmp(json_string_value(json_array_get(loc, k)), chain[k]) == 0;
        in_member += same;
    }
    if (in_member != 2)
        fail_msg("%s: %zu embedded findings, want 2 (the near misses and lawful images are "
                 "not copies): %s", chain[n - 1], in_member, findings_text(plan));
}

/* ---- fixtures (fsutil.h): a work directory and a root, a loop-mounted image for the loop
 * and kill cases ---- */

static int fx_setup(void **state)
{
    return fu_fx_setup(state, "archive_carve", 48);
}

/* ==== 1. the scan: chains and ranges ==== */

static void test_scan(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    const enum fmt fmts[] = {F_ZIP, F_TAR_GZ};
    const char *names[] = {"photos.zip", "backup.tar.gz"};
    struct cache c;
    make_cache(&c, 0, true);
    const struct member m[] = {{"DCIM/victim.jpg", G.victim.b, G.victim.n},
                               {"inner/cache.db", c.b, c.n},
                               {"notes.txt", (const unsigned char *)NOTES, sizeof(NOTES) - 1},
                               {"lawful.jpg", G.lawful[0].b, G.lawful[0].n}};
    for (int k = 0; k < 2; k++)
        write_archive(tu_opath(f->root, names[k]), fmts[k], m, 4);
    json_t *p = scan(f->root, tu_opath(f->work, "plan.json"), true);
    for (int k = 0; k < 2; k++) {
        const char *chain[] = {names[k], "inner/cache.db"};
        expect_cache_copies(p, chain, 2, &c);
        const char *whole[] = {names[k], "DCIM/victim.jpg"};
        if (finding(p, whole, 2, 0, 0) == NULL)
            fail_msg("%s: the victim member is not a finding: %s", names[k], findings_text(p));
    }
    /* the member that is the victim is the member, not an embedded copy of itself */
    if (json_array_size(json_object_get(p, "findings")) != 6)
        fail_msg("want 6 findings (per archive: the member, two copies), got %s",
                 findings_text(p));
    if (!json_is_true(tu_jget(p, "scope.carving.inside_archive_members")) ||
        jint(p, "totals.carved.members") < 8 || jint(p, "totals.carved.members_too_large") != 0)
        fail_msg("scope/totals: %s %s", tu_dumps(tu_jget(p, "scope.carving")),
                 tu_dumps(tu_jget(p, "totals.carved")));
    /* deprive review draws the perceptual-only candidates - the thumbnails in the caches and
       the victim members - from the members' own bytes */
    struct dp_review_opts ro = {.allow_on_device = true};
    struct dp_review_result rr;
    struct dp_error re = {0};
    if (dp_review_render(tu_opath(f->work, "plan.json"), &ro, tu_opath(f->work, "sheet.pdf"), &rr,
                         &re) != DP_OK)
        fail_msg("review: %s", re.msg);
    size_t cands = rr.candidates, shown = rr.thumbnails;
    dp_review_result_release(&rr);
    printf("archive_carve: review: %zu candidates, %zu drawn\n", cands, shown);
    assert_int_equal(cands, 2);
    assert_int_equal(shown, 2);
    /* --no-carve: the members as wholes only */
    json_t *pn = scan(f->root, tu_opath(f->work, "plan-nc.json"), false);
    if (json_array_size(json_object_get(pn, "findings")) != 2)
        fail_msg("--no-carve: want the 2 victim members only, got %s", findings_text(pn));
    struct tu_run r;
    tu_odeprive(&r, "scan", "--hashes", G.list, f->root, NULL);
    const char *line = strstr(r.out, "inner/cache.db");
    printf("archive_carve: scan: zip and tar.gz: 2 copies each in inner/cache.db at %zu and %zu, "
           "the victim member once; text: \"%.*s\"\n",
           c.off[R_VICTIM], c.off[R_THUMB], line ? (int)strcspn(line, "\n") : 0,
           line ? line : "");
}

/* A zip inside a tar.gz: the chain names both. */
static void test_scan_nested(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct cache c;
    make_cache(&c, 0, true);
    const struct member in[] = {{"cache.db", c.b, c.n},
                                {"notes.txt", (const unsigned char *)NOTES, sizeof(NOTES) - 1}};
    char *zp = tu_opath(f->work, "a.zip");
    write_archive(zp, F_ZIP, in, 2);
    size_t zn = 0;
    unsigned char *zb = tu_oread(zp, &zn);
    const struct member out[] = {{"sdcard/a.zip", zb, zn},
                                 {"readme.txt", (const unsigned char *)NOTES, sizeof(NOTES) - 1}};
    write_archive(tu_opath(f->root, "phone.tar.gz"), F_TAR_GZ, out, 2);
    json_t *p = scan(f->root, tu_opath(f->work, "plan.json"), true);
    const char *chain[] = {"phone.tar.gz", "sdcard/a.zip", "cache.db"};
    expect_cache_copies(p, chain, 3, &c);
    if (json_array_size(json_object_get(p, "findings")) != 2)
        fail_msg("nested: want the 2 copies only (the zip is not carved as bytes): %s",
                 findings_text(p));
    printf("archive_carve: nested: %s\n", findings_text(p));
}

/* A member over the carving buffer: not carved, recorded as a limit; the one within it is. */
static void test_member_cap(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct cache small, big;
    make_cache(&small, 0, true);
    make_cache(&big, 600 * 1024, true);
    const struct member m[] = {{"small.db", small.b, small.n}, {"big.db", big.b, big.n}};
    write_archive(tu_opath(f->root, "caches.zip"), F_ZIP, m, 2);
    struct dp_hashset *set = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_hashset_new(&set, NULL), DP_OK);
    if (dp_hashset_load_buffer(set, "list", G.list_text, strlen(G.list_text), &e) != DP_OK)
        fail_msg("list: %s", e.msg);
    assert_int_equal(dp_hashset_finalize(set, NULL), DP_OK);
    struct dp_scan_opts o = {.jobs = 1, .carve_max_stream = 512 * 1024};
    struct dp_scan_result *r = NULL;
    if (dp_scan_run(set, f->root, &o, &r, &e) != DP_OK)
        fail_msg("scan: %s", e.msg);
    size_t small_found = 0, big_found = 0, limits = 0;
    for (size_t i = 0; i < r->finding_count; i++) {
        const struct dp_finding *fd = &r->findings[i];
        if (fd->embedded && fd->member_depth == 1)
            small_found += strcmp(fd->members[0], "small.db") == 0,
                big_found += strcmp(fd->members[0], "big.db") == 0;
    }
    for (size_t i = 0; i < r->skip_count; i++) {
        const struct dp_skip *sk = &r->skips[i];
        if (sk->reason == DP_SKIP_LIMIT && sk->member_depth == 1 &&
            strcmp(sk->members[0], "big.db") == 0 && strstr(sk->detail, "not carved") != NULL)
            limits++;
    }
    uint64_t too_large = r->totals.members_too_large;
    uint64_t counted = r->totals.skipped[DP_SKIP_LIMIT]; /* totals.skipped agrees with skips */
    printf("archive_carve: cap: small.db %zu copies, big.db (%zu bytes, cap 512 KiB) %zu, "
           "limit skips %zu, members_too_large %llu\n",
           small_found, big.n, big_found, limits, (unsigned long long)too_large);
    dp_scan_result_free(r);
    dp_hashset_free(set);
    assert_int_equal(small_found, 2);
    assert_int_equal(big_found, 0);
    assert_int_equal(limits, 1);
    assert_int_equal(too_large, 1);
    assert_int_equal(counted, 1);
}

/* ==== 2. the wipe ==== */

struct wcase {
    struct cache c;
    char *arch, *plan, *journal, *out;
    unsigned char *old;
    size_t oldlen;
    struct member before[4];
    size_t nbefore;
};

/* The archive with the cache member, notes and a lawful image (and a lawful file beside it). */
static void wcase_write(struct fu_fx *f, struct wcase *w, enum fmt fmt, const char *name)
{
    make_cache(&w->c, 0, false);
    const struct member m[] = {{"notes.txt", (const unsigned char *)NOTES, sizeof(NOTES) - 1},
                               {"inner/cache.db", w->c.b, w->c.n},
                               {"lawful.jpg", G.lawful[1].b, G.lawful[1].n}};
    w->arch = tu_opath(f->root, name);
    write_archive(w->arch, fmt, m, 3);
    tu_write(f->root, "other.txt", NOTES, sizeof(NOTES) - 1);
    w->old = tu_oread(w->arch, &w->oldlen);
    w->nbefore = read_members(w->arch, w->before, 4);
}

/* Scanned: the copies named; with confirm, the thumbnail's finding confirmed by the
 * examiner. */
static void wcase_scan(struct fu_fx *f, struct wcase *w, const char *name, bool confirm)
{
    w->plan = tu_opath(f->work, "plan.json");
    w->journal = tu_opath(f->work, "journal");
    w->out = tu_opath(f->work, "wipe.json");
    json_t *p = scan(f->root, w->plan, true);
    const char *chain[] = {name, "inner/cache.db"};
    expect_cache_copies(p, chain, 2, &w->c);
    const json_t *ft = finding(p, chain, 2, w->c.off[R_THUMB], G.thumb.n);
    if (!confirm)
        return;
    struct tu_run r;
    tu_odeprive(&r, "confirm", w->plan, "--finding", tu_jstr(ft, "id"), "--examiner", EXAMINER,
                NULL);
    tu_expect_exit(&r, 0, "confirm the thumbnail");
}

static void wcase_make(struct fu_fx *f, struct wcase *w, enum fmt fmt, const char *name)
{
    wcase_write(f, w, fmt, name);
    wcase_scan(f, w, name, true);
}

/* The archive after the wipe: the same members in the same order; the cache member the same
 * size, byte-identical outside the two ranges, zero inside; every other member identical;
 * nothing of the victim's stream left in the archive's bytes. */
static void expect_replaced(const struct wcase *w, const char *what)
{
    struct member now[4];
    size_t n = read_members(w->arch, now, 4);
    if (n != w->nbefore)
        fail_msg("%s: %zu members, was %zu", what, n, w->nbefore);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(now[i].name, w->before[i].name) != 0 || now[i].n != w->before[i].n)
            fail_msg("%s: member %zu is %s (%zu bytes), was %s (%zu)", what, i, now[i].name,
                     now[i].n, w->before[i].name, w->before[i].n);
        if (strcmp(now[i].name, "inner/cache.db") != 0) {
            if (memcmp(now[i].b, w->before[i].b, now[i].n) != 0)
                fail_msg("%s: the lawful member %s changed", what, now[i].name);
            continue;
        }
        const size_t rs[2][2] = {{w->c.off[R_VICTIM], G.victim.n},
                                 {w->c.off[R_THUMB], G.thumb.n}};
        size_t diff = 0, nonzero = 0;
        for (size_t b = 0; b < now[i].n; b++) {
            bool in = (b >= rs[0][0] && b < rs[0][0] + rs[0][1]) ||
                      (b >= rs[1][0] && b < rs[1][0] + rs[1][1]);
            if (in)
                nonzero += now[i].b[b] != 0;
            else
                diff += now[i].b[b] != w->before[i].b[b];
        }
        if (diff != 0 || nonzero != 0)
            fail_msg("%s: the cache member: %zu bytes outside the ranges changed, %zu inside "
                     "them not zero", what, diff, nonzero);
    }
    size_t alen = 0;
    unsigned char *a = tu_oread(w->arch, &alen);
    size_t left = fu_all_windows_in(G.victim.b, G.victim.n, a, alen);
    if (left != 0)
        fail_msg("%s: %zu 32-byte windows of the victim's stream are still in the archive", what,
                 left);
}

/* The wipe result's target for the copy at offset off of the cache member. */
static const json_t *target_at(const json_t *res, size_t off)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(res, "targets"), i, t)
    {
        const json_t *loc = tu_jget(json_array_get(json_object_get(t, "names"), 0), "location");
        if (jint(json_array_get(loc, json_array_size(loc) - 1), "offset") == (long long)off)
            return t;
    }
    fail_msg("no target at offset %zu: %s", off, tu_dumps(res));
    return NULL;
}

/* An embedded copy in a member, erased by replace-member: the outside proved the same, the
 * range zero, the new archive verified with its kept members (all of them: none removed). */
static void expect_member_result(const json_t *t, size_t len, long long kept, const char *what)
{
    tu_expect_status(t, "erased", what);
    if (strcmp(tu_jstr(t, "embedded.method"), "replace-member") != 0 ||
        !json_is_true(tu_jget(t, "embedded.outside_unchanged")) ||
        !json_is_true(tu_jget(t, "embedded.range_zeroed")) ||
        jint(t, "embedded.length") != (long long)len ||
        strcmp(tu_jstr(t, "embedded.outside_sha256_before"),
               tu_jstr(t, "embedded.outside_sha256_after")) != 0 ||
        !json_is_true(tu_jget(t, "archive.kept_verified")) ||
        jint(t, "archive.kept_members") != kept || jint(t, "archive.removed_members") != 0 ||
        json_is_true(tu_jget(json_array_get(json_object_get(t, "names"), 0), "removed")))
        fail_msg("%s: %s", what, tu_dumps(t));
}

/* deprive wipe of plan, its result at out (a journal of its own in the work directory, on the
 * root's filesystem allowed) with extra options (NULL-terminated, or NULL); its exit status
 * must be want. The result (owned). */
static json_t *wipe_run(struct fu_fx *f, const char *plan, const char *out,
                        const char *const *extra, int want, const char *what)
{
    static unsigned runs;
    struct tu_wipe_args wa = {.order = ORDER, .list = G.list,
                              .journal = tu_opath(f->work, tu_ostr("journal-%u", ++runs)),
                              .out = out, .plan = plan, .extra = extra,
                              .journal_on_same_fs = true};
    struct tu_run r;
    tu_owipe(&r, &wa);
    tu_expect_exit(&r, want, what);
    return tu_oload(out);
}

/* On a loop ext4 image: the victim's stream (probes picked from windows in no lawful content)
 * is in the raw image before, and none of it after. A stored zip: its bytes are there as they
 * are. */
static void test_loop_wipe(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    const enum fmt fmt = f->param ? *(const enum fmt *)f->param : F_ZIP_STORED;
    const char *name = fmt == F_TAR_GZ ? "backup.tar.gz" : "photos.zip";
    struct wcase w;
    wcase_write(f, &w, fmt, name);
    struct fu_probes pv, pt;
    size_t ilen = 0;
    unsigned char *img = fu_image_bytes(&f->fs, &ilen);
    /* windows of the victim and the thumbnail that no lawful image shares */
    size_t lawn = G.lawful[0].n + G.lawful[1].n;
    unsigned char *law = tu_own(malloc(lawn));
    memcpy(law, G.lawful[0].b, G.lawful[0].n);
    memcpy(law + G.lawful[0].n, G.lawful[1].b, G.lawful[1].n);
    if (fu_probes_pick(&pv, PROBES, G.victim.b, G.victim.n, law, lawn, FU_CANDIDATES) < PROBES ||
        fu_probes_pick(&pt, PROBES, G.thumb.b, G.thumb.n, law, lawn, FU_CANDIDATES) < PROBES)
        fail_msg("not enough windows of the copies outside lawful content");
    size_t v0 = fu_probes_in(&pv, img, ilen), t0 = fu_probes_in(&pt, img, ilen);
    free(img);
    if (!tu_fs_mount(&f->fs, false))
        fail_msg("cannot mount the image again");
    wcase_scan(f, &w, name, true);
    struct tu_run r;
    struct tu_wipe_args wa = {.order = ORDER, .list = G.list, .journal = w.journal,
                              .out = w.out, .plan = w.plan};
    tu_owipe(&r, &wa);
    tu_expect_exit(&r, 0, "wipe");
    json_t *res = tu_oload(w.out);
    expect_replaced(&w, name);
    expect_member_result(target_at(res, w.c.off[R_VICTIM]), G.victim.n, 3, "the victim's copy");
    const json_t *tt = target_at(res, w.c.off[R_THUMB]);
    expect_member_result(tt, G.thumb.n, 3, "the confirmed thumbnail");
    assert_string_equal(tu_jstr(tt, "consent.kind"), "confirmed");
    char other[65];
    tu_sha256_file(tu_opath(f->root, "other.txt"), other);
    char want[65];
    tu_sha256_buf(NOTES, sizeof(NOTES) - 1, want);
    assert_string_equal(other, want);
    img = fu_image_bytes(&f->fs, &ilen);
    size_t v1 = fu_probes_in(&pv, img, ilen), t1 = fu_probes_in(&pt, img, ilen);
    free(img);
    printf("archive_carve: loop %s (%s): victim windows in the raw image %zu/%d before, %zu "
           "after; thumbnail %zu/%d before, %zu after; assurance %s\n",
           f->fstype, name, v0, PROBES, v1, t0, PROBES, t1,
           tu_jstr(target_at(res, w.c.off[R_VICTIM]), "assurance"));
    if (fmt == F_ZIP_STORED && (v0 != PROBES || t0 != PROBES))
        fail_msg("the stored zip's copies are not in the raw image before the wipe: the probe "
                 "cannot tell");
    if (v1 != 0 || t1 != 0)
        fail_msg("windows of the copies remain in the raw image: victim %zu, thumbnail %zu", v1,
                 t1);
    /* nothing is found any more */
    if (!tu_fs_mount(&f->fs, false))
        fail_msg("cannot mount the image again");
    json_t *p2 = scan(f->root, tu_opath(f->work, "after.json"), true);
    if (json_array_size(json_object_get(p2, "findings")) != 0)
        fail_msg("after the wipe: %s", findings_text(p2));
}

/* --embedded=report-only leaves the archive as it was; --embedded=wipe-container removes the
 * carrying member (the archive rewritten without it). */
static void test_policies(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct wcase w;
    wcase_make(f, &w, F_TAR_GZ, "backup.tar.gz");
    /* a dry run plans the replacement and writes nothing */
    static const char *const dry[] = {"--dry-run", NULL};
    json_t *res = wipe_run(f, w.plan, tu_opath(f->work, "dry.json"), dry, 0, "dry run");
    const json_t *td = target_at(res, w.c.off[R_VICTIM]);
    tu_expect_status(td, "planned", "dry run");
    assert_string_equal(tu_jstr(td, "embedded.method"), "replace-member");
    static const char *const report_only[] = {"--embedded=report-only", NULL};
    res = wipe_run(f, w.plan, w.out, report_only, 1, "wipe --embedded=report-only");
    const json_t *t = target_at(res, w.c.off[R_VICTIM]);
    tu_expect_status(t, "skipped", "report-only");
    assert_string_equal(tu_jstr(t, "embedded.method"), "report-only");
    size_t alen = 0;
    unsigned char *a = tu_oread(w.arch, &alen);
    if (alen != w.oldlen || memcmp(a, w.old, alen) != 0)
        fail_msg("the dry run or report-only changed the archive");
    static const char *const whole[] = {"--embedded=wipe-container", NULL};
    res = wipe_run(f, w.plan, tu_opath(f->work, "wipe2.json"), whole, 0,
                   "wipe --embedded=wipe-container");
    t = target_at(res, w.c.off[R_VICTIM]);
    tu_expect_status(t, "erased", "wipe-container");
    struct member now[4];
    size_t n = read_members(w.arch, now, 4);
    if (n != 2 || strcmp(now[0].name, "notes.txt") != 0 || strcmp(now[1].name, "lawful.jpg"))
        fail_msg("wipe-container: the archive holds %zu members", n);
    if (strcmp(tu_jstr(t, "embedded.method"), "wipe-container") != 0 ||
        !json_is_true(tu_jget(json_array_get(json_object_get(t, "names"), 0), "removed")))
        fail_msg("wipe-container: %s", tu_dumps(t));
    printf("archive_carve: policies: report-only left the archive byte-identical; "
           "wipe-container removed inner/cache.db (2 members kept)\n");
}

/* Without the examiner's consent the perceptual-only thumbnail is left (its bytes intact in the
 * member), the exact copy is zeroed. */
static void test_no_consent(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct wcase w;
    wcase_write(f, &w, F_ZIP, "photos.zip");
    wcase_scan(f, &w, "photos.zip", false);
    json_t *res = wipe_run(f, w.plan, w.out, NULL, 1, "wipe without consent for the thumbnail");
    expect_member_result(target_at(res, w.c.off[R_VICTIM]), G.victim.n, 3, "the victim's copy");
    const json_t *tt = target_at(res, w.c.off[R_THUMB]);
    tu_expect_status(tt, "skipped", "the thumbnail without consent");
    struct member now[4];
    size_t n = read_members(w.arch, now, 4);
    assert_int_equal(n, 3);
    assert_string_equal(now[1].name, "inner/cache.db");
    assert_memory_equal(now[1].b + w.c.off[R_THUMB], G.thumb.b, G.thumb.n);
    for (size_t b = 0; b < G.victim.n; b++)
        if (now[1].b[w.c.off[R_VICTIM] + b] != 0)
            fail_msg("the victim's range is not zero at %zu", b);
    printf("archive_carve: no consent: the thumbnail left (%s), the exact copy zeroed\n",
           tu_jstr(tt, "reason"));
}

/* The SQLite rules hold inside archives: a copy in a member named *-wal is left (overwriting a
 * WAL frame breaks its checksum chain), the archive untouched. */
static void test_sidecar_member(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct cache c;
    make_cache(&c, 0, false);
    const struct member m[] = {{"app/thumbs.db-wal", c.b, c.n}};
    char *arch = tu_opath(f->root, "backup.zip");
    write_archive(arch, F_ZIP, m, 1);
    size_t before = 0, after = 0;
    unsigned char *b0 = tu_oread(arch, &before);
    char *plan = tu_opath(f->work, "plan.json"), *out = tu_opath(f->work, "wipe.json");
    scan(f->root, plan, true);
    const json_t *t = target_at(wipe_run(f, plan, out, NULL, 1, "wipe of a copy in a -wal member"),
                                c.off[R_VICTIM]);
    tu_expect_status(t, "skipped", "the copy in a -wal member");
    if (strstr(tu_jstr(t, "reason"), "write-ahead log") == NULL ||
        strcmp(tu_jstr(t, "embedded.method"), "report-only") != 0)
        fail_msg("the copy in a -wal member: %s", tu_dumps(t));
    unsigned char *b1 = tu_oread(arch, &after);
    assert_true(before == after && memcmp(b0, b1, before) == 0);
    printf("archive_carve: -wal member: left (%.60s...), the archive byte-identical\n",
           tu_jstr(t, "reason"));
}

/* A copy in a member of a zip inside a tar.gz: both archives written again (the zip in memory),
 * the cache member zeroed in the range only, every other member of both identical. */
static void test_wipe_nested(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct cache c;
    make_cache(&c, 0, false);
    const struct member in[] = {{"notes.txt", (const unsigned char *)NOTES, sizeof(NOTES) - 1},
                                {"cache.db", c.b, c.n}};
    char *zp = tu_opath(f->work, "a.zip");
    write_archive(zp, F_ZIP, in, 2);
    size_t zn = 0;
    unsigned char *zb = tu_oread(zp, &zn);
    const struct member out[] = {{"sdcard/a.zip", zb, zn},
                                 {"readme.txt", (const unsigned char *)NOTES, sizeof(NOTES) - 1}};
    char *arch = tu_opath(f->root, "phone.tar.gz");
    write_archive(arch, F_TAR_GZ, out, 2);
    char *plan = tu_opath(f->work, "plan.json"), *res_path = tu_opath(f->work, "wipe.json");
    json_t *p = scan(f->root, plan, true);
    const char *chain[] = {"phone.tar.gz", "sdcard/a.zip", "cache.db"};
    expect_cache_copies(p, chain, 3, &c);
    static const char *const blanket[] = {"--erase-perceptual", "--examiner", EXAMINER, NULL};
    json_t *res = wipe_run(f, plan, res_path, blanket, 0, "wipe the nested copies");
    expect_member_result(target_at(res, c.off[R_VICTIM]), G.victim.n, 2, "nested victim");
    /* the outer archive: the same two members, readme identical; the zip in it: the same two
       members, notes identical, the cache zeroed in the two ranges only */
    struct member outer[4], inner[4];
    size_t no = read_members(arch, outer, 4);
    assert_int_equal(no, 2);
    assert_string_equal(outer[0].name, "sdcard/a.zip");
    assert_true(outer[1].n == sizeof(NOTES) - 1 && memcmp(outer[1].b, NOTES, outer[1].n) == 0);
    char *zip2 = tu_opath(f->work, "a2.zip");
    tu_write_file(zip2, outer[0].b, outer[0].n);
    size_t ni = read_members(zip2, inner, 4);
    assert_int_equal(ni, 2);
    assert_true(inner[0].n == sizeof(NOTES) - 1 && memcmp(inner[0].b, NOTES, inner[0].n) == 0);
    assert_int_equal(inner[1].n, c.n);
    size_t diff = 0, nonzero = 0;
    for (size_t b = 0; b < c.n; b++) {
        bool in_v = b >= c.off[R_VICTIM] && b < c.off[R_VICTIM] + G.victim.n;
        bool in_t = b >= c.off[R_THUMB] && b < c.off[R_THUMB] + G.thumb.n;
        if (in_v || in_t)
            nonzero += inner[1].b[b] != 0;
        else
            diff += inner[1].b[b] != c.b[b];
    }
    printf("archive_carve: nested wipe: phone.tar.gz -> sdcard/a.zip -> cache.db: %zu bytes "
           "outside the ranges changed, %zu in them not zero\n", diff, nonzero);
    assert_int_equal(diff, 0);
    assert_int_equal(nonzero, 0);
}

/* ==== 3. killed at each journal step, then --resume ==== */

static void test_kill_resume(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    const struct fu_killpoint *k = f->param;
    struct wcase w;
    wcase_make(f, &w, F_ZIP, "photos.zip");
    struct tu_wipe_args wa = {.order = ORDER, .list = G.list, .journal = w.journal,
                              .out = w.out, .plan = w.plan};
    char *argv[32], at[128], *log = tu_opath(f->work, "wipe.log");
    tu_wipe_argv(argv, 32, &wa);
    fu_kill_at("archive_carve", argv, log, w.journal, k->record, k->after, k->what, at,
               sizeof(at));
    wa.resume = true;
    struct tu_run r;
    tu_owipe(&r, &wa);
    printf("archive_carve: kill %s (%s): --resume exit %d\n", k->what, at, r.status);
    tu_expect_exit(&r, 0, k->what);
    json_t *res = tu_oload(w.out);
    expect_replaced(&w, k->what);
    expect_member_result(target_at(res, w.c.off[R_VICTIM]), G.victim.n, 3, k->what);
    expect_member_result(target_at(res, w.c.off[R_THUMB]), G.thumb.n, 3, k->what);
    struct dp_error e = {0};
    uint64_t records = 0;
    if (dp_journal_verify_file(w.journal, NULL, &records, NULL, NULL, &e) != DP_OK)
        fail_msg("kill %s: the journal does not verify: %s", k->what, e.msg);
}

/* ==== 4. deprive run certifies it; verify accepts it ==== */

static void test_run_certify(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct cache c;
    make_cache(&c, 0, true);
    const struct member m[] = {{"inner/cache.db", c.b, c.n},
                               {"notes.txt", (const unsigned char *)NOTES, sizeof(NOTES) - 1}};
    write_archive(tu_opath(f->root, "photos.zip"), F_ZIP, m, 2);
    char *sec = tu_opath(f->work, "k.sec"), *pub = tu_opath(f->work, "k.pub");
    char *cert = tu_opath(f->work, "cert.json");
    struct tu_run r;
    tu_odeprive(&r, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    tu_expect_exit(&r, 0, "keygen");
    tu_odeprive(&r, "run", "--hashes", G.list, "--key", sec, "-o", cert, "--order", ORDER,
                "--officer", "PC Example", "--exhibit", "EX-9", "--examiner", EXAMINER,
                "--erase-perceptual", "--journal-on-same-fs", "--yes", f->root, NULL);
    tu_expect_exit(&r, 0, "run");
    tu_odeprive(&r, "verify", "-p", pub, cert, NULL);
    tu_expect_exit(&r, 0, "verify");
    tu_odeprive(&r, "show", "-p", pub, cert, NULL);
    tu_expect_exit(&r, 0, "show");
    const char *emb = strstr(r.out, "embedded jpeg stream");
    json_t *cj = tu_oload(cert);
    size_t i, replaced = 0;
    const json_t *t;
    json_array_foreach(json_object_get(cj, "targets"), i, t)
    {
        replaced += strcmp(tu_jstr(t, "embedded.method"), "replace-member") == 0 &&
                    json_is_true(tu_jget(t, "embedded.outside_unchanged")) &&
                    strcmp(tu_jstr(t, "status"), "erased") == 0;
    }
    printf("archive_carve: run: %zu copies certified as replace-member; verify OK; show: "
           "\"%.*s\"\n",
           replaced, emb ? (int)strcspn(emb, "\n") : 0, emb ? emb : "");
    if (replaced != 2 || strcmp(tu_jstr(cj, "outcome.result"), "ERASED") != 0)
        fail_msg("the certificate: %s", tu_dumps(json_object_get(cj, "outcome")));
    /* tampered entries: the consistency check refuses each (test_verifier.c signs such
     * certificates and runs them through deprive verify and the page) */
    static const char *const flips[] = {"outside_unchanged", "range_zeroed"};
    struct dp_error e = {0};
    if (dp_cert_check(cj, NULL, &e) != DP_OK)
        fail_msg("the certificate as made: %s", e.msg);
    for (size_t k = 0; k < 2; k++) {
        json_t *d = tu_ownj(json_deep_copy(cj));
        json_array_foreach(json_object_get(d, "targets"), i, t)
        {
            json_t *em = json_object_get(t, "embedded");
            if (em != NULL)
                json_object_set_new(em, flips[k], json_false());
        }
        if (dp_cert_check(d, NULL, &e) != DP_ERR_VERIFY)
            fail_msg("a certificate with %s false is accepted", flips[k]);
        printf("archive_carve: tampered (%s false): refused: %.120s\n", flips[k], e.msg);
    }
    /* and the signed file edited: deprive verify refuses it */
    char *text = tu_own(json_dumps(cj, JSON_SORT_KEYS | JSON_INDENT(2)));
    char *flip = strstr(text, "\"range_zeroed\": true");
    assert_non_null(flip);
    memcpy(flip + strlen("\"range_zeroed\": "), "1   ", 4);
    tu_write_file(cert, text, strlen(text));
    tu_odeprive(&r, "verify", "-p", pub, cert, NULL);
    tu_expect_exit(&r, 1, "verify of an edited certificate");
}

/* ==== the suite ==== */

static struct fu_fx fx_scan = {.label = "scan"};
static struct fu_fx fx_nested = {.label = "nested"};
static struct fu_fx fx_cap = {.label = "cap"};
static struct fu_fx fx_policies = {.label = "policies"};
static struct fu_fx fx_wipe_nested = {.label = "wipe nested"};
static struct fu_fx fx_no_consent = {.label = "no consent"};
static struct fu_fx fx_sidecar = {.label = "wal member"};
static struct fu_fx fx_run = {.label = "run"};
static const enum fmt targz = F_TAR_GZ;
static struct fu_fx fx_loop_zip = {.label = "ext4 zip", .fstype = "ext4"};
static struct fu_fx fx_loop_targz = {.label = "ext4 tar.gz", .fstype = "ext4", .param = &targz};
#define KP(id, kp) static struct fu_fx id = {.label = "kill", .fstype = "ext4", .param = &kp}
KP(fx_k_begin, fu_kp_begin);
KP(fx_k_writing, fu_kp_writing);
KP(fx_k_written, fu_kp_written);
KP(fx_k_owbegin, fu_kp_owbegin);
KP(fx_k_owmid, fu_kp_owmid);
KP(fx_k_owdone, fu_kp_owdone);
KP(fx_k_renaming, fu_kp_renaming);
KP(fx_k_renamed, fu_kp_renamed);

#define T(name, fn, fx) FU_CASE(name, fn, fx_setup, fx)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        T("scan_zip_and_tar_gz", test_scan, fx_scan),
        T("scan_nested", test_scan_nested, fx_nested),
        T("scan_member_over_cap", test_member_cap, fx_cap),
        T("wipe_policies", test_policies, fx_policies),
        T("wipe_nested", test_wipe_nested, fx_wipe_nested),
        T("wipe_without_consent", test_no_consent, fx_no_consent),
        T("wipe_sqlite_wal_member", test_sidecar_member, fx_sidecar),
        T("run_verify", test_run_certify, fx_run),
        T("loop_ext4_zip", test_loop_wipe, fx_loop_zip),
        T("loop_ext4_tar_gz", test_loop_wipe, fx_loop_targz),
        T("kill_after_archive_begin", test_kill_resume, fx_k_begin),
        T("kill_writing_new_archive", test_kill_resume, fx_k_writing),
        T("kill_after_archive_written", test_kill_resume, fx_k_written),
        T("kill_after_overwrite_begin", test_kill_resume, fx_k_owbegin),
        T("kill_during_overwrite", test_kill_resume, fx_k_owmid),
        T("kill_after_overwrite_done", test_kill_resume, fx_k_owdone),
        T("kill_renaming", test_kill_resume, fx_k_renaming),
        T("kill_after_archive_renamed", test_kill_resume, fx_k_renamed),
    };
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests_name("archive_carve", tests, NULL, iset_group_teardown);
}
