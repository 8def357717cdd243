/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: image streams embedded in other files, found and removed through the CLI.
 * The victim's photo (a robust.c scene, JPEG, ~100 KB) and thumbnails of it are put inside
 * the containers such copies live in: a thumbnail cache's records, SQLite blobs (in one page,
 * and across overflow pages, which the scan puts back together and names piece by piece), a
 * PDF's DCTDecode image, another JPEG's EXIF thumbnail, a browser cache entry, a JPEG with a
 * zip after it. The scan must name each exact copy and each perceptual one by its exact byte
 * ranges and nothing lawful or incomplete; the wipe must overwrite exactly those ranges (every
 * byte outside them proved and compared unchanged, the mtime put back, a SQLite database
 * still intact), refuse what it must (no consent, -wal/-journal files, a range across SQLite
 * pages, a plan or container changed since the scan), and finish after SIGKILL at each
 * journal step; `deprive run` certifies it; on loop-mounted ext4, vfat and ntfs images the
 * raw device holds none of the copies' bytes afterwards.
 *
 * The kills are exact, as in test_archive_wipe.c (both use fu_kill_at, fsutil.c): the wipe
 * runs under ptrace with a seccomp filter that stops it at every fsync and fdatasync, the
 * journal is read at each stop, and the wipe is killed at the fdatasync of a given record or at
 * the next sync after it.
 *
 * DP_TEST_FILTER=kill_* runs some tests; needs root and loop devices for loop_*, the sqlite3
 * program for the database tests (each skips with a message otherwise). */
#include "testutil.h"
#include "fsutil.h"
#include "imageset.h"
#include "robust.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "deprive/journal.h"

#define ORDER "ORD-EMB-0001"
#define EXAMINER "DC Test"
#define PROBES 64
#define PAGE 4096
#define MTIME_SEC 1600000000
#define MTIME_NSEC 123456789

/* ---- building bytes ---- */

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        assert_non_null(p);
        b->p = p;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    put(b, tmp, (size_t)n);
}

static void put_le16(struct buf *b, unsigned v)
{
    const unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    put(b, x, 2);
}

static void put_le32(struct buf *b, uint32_t v)
{
    const unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                                (unsigned char)(v >> 24)};
    put(b, x, 4);
}

/* The bytes built, owned by the test. */
static unsigned char *done(struct buf *b, size_t *len)
{
    *len = b->len;
    return tu_own(b->p ? b->p : malloc(1));
}

/* ---- the raw image: 32-byte windows of each copy looked for (fsutil.h) ---- */

/* PROBES windows spread over s, each one that occurs nowhere in lawful (what may rightly stay
 * on the device: a JPEG's quantisation and Huffman tables are the same in every JPEG of that
 * quality, so a lawful image holds those windows of the victim's too). */
static void probes_pick(struct fu_probes *p, const unsigned char *s, size_t sn,
                        const unsigned char *lawful, size_t ln)
{
    size_t nc = fu_probes_pick(p, PROBES, s, sn, lawful, ln, FU_CANDIDATES);
    if (nc < PROBES)
        fail_msg("only %zu of %d windows of a %zu-byte stream are not in lawful content", nc,
                 FU_CANDIDATES, sn);
}

/* ---- the images: made once, kept for the whole suite ---- */

static struct images {
    struct iset set;
    struct robust_file victim;    /* 800x600 JPEG q95 (~100 KB), listed by SHA-256 and PDQ */
    struct robust_file thumb;     /* the victim at 160x120, JPEG q85: a perceptual copy */
    struct robust_file thumb_png; /* the same pixels as PNG */
    struct robust_file small;     /* the victim at 96x72, JPEG q60: fits in one 4 KiB SQLite page */
    struct robust_file lawful[3]; /* unrelated scenes, 320x240 JPEG q85 */
    struct robust_file lawful_png;   /* unrelated, 120x90 PNG */
    struct robust_file lawful_small; /* unrelated, 96x72 JPEG q60 */
    struct robust_file outer;        /* unrelated, 480x360 JPEG q85: carries the EXIF thumbnail */
    char pdq[96];                    /* the victim's "pdq:HEX:Q" */
    const char *list;                /* the victim's SHA-256 and PDQ */
    const char *list_small;          /* those and the small thumbnail's SHA-256 */
} G;

static bool make_images(void)
{
    const struct iset_file spec[] = {
        {&G.victim, "victim.jpg", 0, 0, 95, ISET_SOURCE},
        {&G.thumb, "thumb.jpg", 160, 120, 85, ISET_SOURCE},
        {&G.thumb_png, "thumb.png", 160, 120, 0, ISET_SOURCE},
        {&G.small, "small.jpg", 96, 72, 60, ISET_SOURCE},
        {&G.lawful[0], "lawful0.jpg", 320, 240, 85, 7001},
        {&G.lawful[1], "lawful1.jpg", 320, 240, 85, 7002},
        {&G.lawful[2], "lawful2.jpg", 320, 240, 85, 7003},
        {&G.lawful_png, "lawful.png", 120, 90, 0, 7101},
        {&G.lawful_small, "lawful_small.jpg", 96, 72, 60, 7201},
        {&G.outer, "outer.jpg", 480, 360, 85, 8001},
    };
    /* the victim's PDQ from deprive itself */
    if (!iset_make(&G.set, "embedded", 800, 600, 4242, spec, sizeof(spec) / sizeof(spec[0])) ||
        !iset_pdq(&G.set, &G.victim, G.pdq, sizeof(G.pdq)))
        return false;
    char text[512];
    snprintf(text, sizeof(text), "# deprive-hashes 1\nsha256:%s %s label=victim\n", G.victim.sha,
             G.pdq);
    G.list = iset_write(&G.set, "victim.list", text);
    snprintf(text, sizeof(text),
             "# deprive-hashes 1\nsha256:%s %s label=victim\nsha256:%s label=victim-small\n",
             G.victim.sha, G.pdq, G.small.sha);
    G.list_small = iset_write(&G.set, "victim-small.list", text);
    printf("embedded: images: victim %dx%d %zu bytes, thumbnail %dx%d %zu (PNG %zu), small "
           "%dx%d %zu, lawful %zu/%zu/%zu, outer %zu; %s\n",
           G.victim.w, G.victim.h, G.victim.n, G.thumb.w, G.thumb.h, G.thumb.n, G.thumb_png.n,
           G.small.w, G.small.h, G.small.n, G.lawful[0].n, G.lawful[1].n, G.lawful[2].n, G.outer.n,
           G.pdq);
    return true;
}

static void need_images(void)
{
    iset_need(&G.set, make_images);
}

/* ---- the containers ---- */

struct rec {
    const unsigned char *b;
    size_t n;
};

/* A thumbnail cache's stand-in: a 24-byte file header, then per record a 32-byte header
 * ("CMMM", the record's size, a key, the body's size, flags, a check word) and the body,
 * padded to 8 bytes. offs[i]: where body i starts. */
static unsigned char *cache_bytes(const struct rec *r, size_t n, size_t *offs, size_t *len)
{
    struct buf b = {0};
    puts_(&b, "CMMM");
    put_le32(&b, 0x20);
    put_le32(&b, 1);
    put_le32(&b, 24);
    put_le32(&b, (uint32_t)n);
    put_le32(&b, 0);
    for (size_t i = 0; i < n; i++) {
        size_t pad = (8 - r[i].n % 8) % 8;
        puts_(&b, "CMMM");
        put_le32(&b, (uint32_t)(32 + r[i].n + pad));
        put_le32(&b, 0x11223344u + (uint32_t)i * 0x01010101u); /* key: no FF bytes */
        put_le32(&b, 0x55667700u + (uint32_t)i);
        put_le32(&b, (uint32_t)r[i].n);
        put_le32(&b, 0);
        put_le32(&b, 0x21436587u ^ (uint32_t)r[i].n);
        put_le32(&b, 0);
        offs[i] = b.len;
        put(&b, r[i].b, r[i].n);
        static const unsigned char zeros[8] = {0};
        put(&b, zeros, pad);
    }
    return done(&b, len);
}

/* A minimal valid PDF: one page drawing two image XObjects, both /DCTDecode streams of the
 * JPEGs' bytes as they are. */
static unsigned char *pdf_bytes(const struct robust_file *a, const struct robust_file *c,
                                size_t *off_a, size_t *off_c, size_t *len)
{
    struct buf p = {0};
    size_t xo[7];
    puts_(&p, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    xo[1] = p.len;
    puts_(&p, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    xo[2] = p.len;
    puts_(&p, "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n");
    xo[3] = p.len;
    puts_(&p, "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << "
              "/XObject << /Im1 4 0 R /Im2 5 0 R >> >> /Contents 6 0 R >>\nendobj\n");
    const struct robust_file *ims[2] = {a, c};
    size_t *offs[2] = {off_a, off_c};
    for (int i = 0; i < 2; i++) {
        xo[4 + i] = p.len;
        putf(&p,
             "%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
             "/DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %zu >>\nstream\n",
             4 + i, ims[i]->w, ims[i]->h, ims[i]->n);
        *offs[i] = p.len;
        put(&p, ims[i]->b, ims[i]->n);
        puts_(&p, "\nendstream\nendobj\n");
    }
    static const char content[] = "q 480 0 0 360 57 430 cm /Im1 Do Q\n"
                                  "q 240 0 0 180 57 200 cm /Im2 Do Q\n";
    xo[6] = p.len;
    putf(&p, "6 0 obj\n<< /Length %zu >>\nstream\n%sendstream\nendobj\n", strlen(content), content);
    size_t xref = p.len;
    puts_(&p, "xref\n0 7\n0000000000 65535 f \n");
    for (int i = 1; i <= 6; i++)
        putf(&p, "%010zu 00000 n \n", xo[i]);
    putf(&p, "trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", xref);
    return done(&p, len);
}

/* outer with an APP1 Exif segment right after SOI whose IFD1 names thumb as the
 * JPEGInterchangeFormat thumbnail (little-endian TIFF: IFD0 with an orientation, IFD1 with
 * the thumbnail's offset and length); *thumb_off: where the thumbnail starts. */
static unsigned char *exif_jpeg(const struct robust_file *outer, const struct robust_file *thumb,
                                size_t *thumb_off, size_t *len)
{
    struct buf a = {0};
    put(&a, "Exif\0\0II*\0", 10);
    put_le32(&a, 8); /* IFD0 at 8 */
    put_le16(&a, 1); /* one entry: orientation, SHORT, 1, value 1 */
    put_le16(&a, 0x0112);
    put_le16(&a, 3);
    put_le32(&a, 1);
    put_le32(&a, 1);
    put_le32(&a, 26);     /* IFD1 at 26 */
    put_le16(&a, 2);      /* two entries */
    put_le16(&a, 0x0201); /* JPEGInterchangeFormat */
    put_le16(&a, 4);
    put_le32(&a, 1);
    put_le32(&a, 56);
    put_le16(&a, 0x0202); /* JPEGInterchangeFormatLength */
    put_le16(&a, 4);
    put_le32(&a, 1);
    put_le32(&a, (uint32_t)thumb->n);
    put_le32(&a, 0); /* no further IFD */
    assert_int_equal(a.len, 6 + 56);
    put(&a, thumb->b, thumb->n);
    assert_true(a.len + 2 <= 65535);
    struct buf j = {0};
    put(&j, outer->b, 2); /* SOI */
    const unsigned char seg[4] = {0xff, 0xe1, (unsigned char)((a.len + 2) >> 8),
                                  (unsigned char)(a.len + 2)};
    put(&j, seg, 4);
    *thumb_off = j.len + 6 + 56;
    put(&j, a.p, a.len);
    put(&j, outer->b + 2, outer->n - 2);
    free(a.p);
    return done(&j, len);
}

/* A browser cache entry: the HTTP response head, the body, then the cache's own trailer (the
 * key, a stream of binary metadata, a magic). *body: where the body starts. */
static unsigned char *http_entry(const struct robust_file *im, size_t *body, size_t *len)
{
    struct buf b = {0};
    putf(&b,
         "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n"
         "Cache-Control: max-age=604800\r\nETag: \"5f3a-e1\"\r\nVary: Accept-Encoding\r\n\r\n",
         im->n);
    *body = b.len;
    put(&b, im->b, im->n);
    put(&b, "\0\0\0\x01", 4);
    puts_(&b, "1/0/_dk_https://example.org https://example.org "
              "https://cdn.example.org/media/IMG_2041.jpg");
    for (unsigned i = 0; i < 96; i++) {
        const unsigned char c = (unsigned char)((i * 37u + 11u) % 251u);
        put(&b, &c, 1);
    }
    put(&b, "\x30\x5c\x72\xa7\x1b\x6d\xfb\xfc", 8);
    return done(&b, len);
}

/* ---- the CLI ---- */

/* deprive scan [--no-carve]; the plan (owned). */
static json_t *scan(const char *root, const char *list, const char *plan, bool carve)
{
    struct tu_run r;
    if (carve)
        tu_odeprive(&r, "scan", "--hashes", list, "-o", plan, root, NULL);
    else
        tu_odeprive(&r, "scan", "--no-carve", "--hashes", list, "-o", plan, root, NULL);
    tu_expect_exit(&r, 0, "scan");
    return tu_oload(plan);
}

static size_t nfindings(const json_t *plan)
{
    return json_array_size(json_object_get(plan, "findings"));
}

static long long jint(const json_t *o, const char *dotted)
{
    const json_t *v = tu_jget(o, dotted);
    return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* ---- where a copy lies: one range, or (a SQLite blob across overflow pages) its pieces in
 * the stream's order ---- */

#define MAXPIECES 64

struct range {
    size_t off, len;
};

struct copy {
    const struct robust_file *im;
    size_t np;
    struct range pc[MAXPIECES];
};

static struct copy one_piece(const struct robust_file *im, size_t off)
{
    struct copy c = {.im = im, .np = 1};
    c.pc[0] = (struct range){off, im->n};
    return c;
}

/* The pieces of a location's last element: {"offset", "length"} or {"ranges": [[o, l], ...]};
 * how many (0: neither). */
static size_t loc_pieces(const json_t *el, struct range *pc, size_t max)
{
    const json_t *arr = json_object_get(el, "ranges");
    if (arr == NULL) {
        if (!json_is_integer(json_object_get(el, "offset")) || max == 0)
            return 0;
        pc[0] = (struct range){(size_t)json_integer_value(json_object_get(el, "offset")),
                               (size_t)json_integer_value(json_object_get(el, "length"))};
        return 1;
    }
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n && i < max; i++)
        pc[i] =
            (struct range){(size_t)json_integer_value(json_array_get(json_array_get(arr, i), 0)),
                           (size_t)json_integer_value(json_array_get(json_array_get(arr, i), 1))};
    return n <= max ? n : 0;
}

static size_t total_len(const struct range *pc, size_t n)
{
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += pc[i].len;
    return t;
}

/* "a.bin@123+456, b.db@7+89 in 3 pieces (pdq), victim.jpg" for messages (owned). */
static char *findings_text(const json_t *plan)
{
    struct buf b = {0};
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(plan, "findings"), i, fd)
    {
        const json_t *loc = json_object_get(fd, "location");
        putf(&b, "%s%s", i ? ", " : "", json_string_value(json_array_get(loc, 0)));
        struct range pc[MAXPIECES];
        size_t np =
            json_array_size(loc) == 2 ? loc_pieces(json_array_get(loc, 1), pc, MAXPIECES) : 0;
        if (np > 0)
            putf(&b, "@%zu+%zu", pc[0].off, total_len(pc, np));
        if (np > 1)
            putf(&b, " in %zu pieces", np);
        if (json_is_true(json_object_get(fd, "perceptual_only")))
            puts_(&b, " (pdq)");
    }
    put(&b, "", 1);
    size_t n;
    return (char *)done(&b, &n);
}

/* A scan of root against the victim's list (plan written to plan) finds nothing; else fail
 * with what and the findings. */
static void expect_no_findings(const char *root, const char *plan, bool carve, const char *what)
{
    json_t *p = scan(root, G.list, plan, carve);
    if (nfindings(p) != 0)
        fail_msg("%s: %s", what, findings_text(p));
}

/* The finding in container name starting at off with len bytes in all (len 0: any; off -1:
 * the file itself), or NULL. */
static const json_t *finding_at(const json_t *plan, const char *name, long long off, size_t len)
{
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(plan, "findings"), i, fd)
    {
        const json_t *loc = json_object_get(fd, "location");
        const char *first = json_string_value(json_array_get(loc, 0));
        if (first == NULL || strcmp(first, name) != 0)
            continue;
        size_t n = json_array_size(loc);
        if (off < 0 && n == 1)
            return fd;
        struct range pc[MAXPIECES];
        size_t np = n == 2 ? loc_pieces(json_array_get(loc, 1), pc, MAXPIECES) : 0;
        if (off >= 0 && np > 0 && pc[0].off == (size_t)off &&
            (len == 0 || total_len(pc, np) == len))
            return fd;
    }
    return NULL;
}

static size_t findings_in(const json_t *plan, const char *name)
{
    size_t i, n = 0;
    const json_t *fd;
    json_array_foreach(json_object_get(plan, "findings"), i, fd)
    {
        const char *first = json_string_value(json_array_get(json_object_get(fd, "location"), 0));
        n += first != NULL && strcmp(first, name) == 0;
    }
    return n;
}

static bool has_method(const json_t *fd, const char *method)
{
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(fd, "matched"), i, m)
    {
        if (strcmp(tu_jstr(m, "method"), method) == 0)
            return true;
    }
    return false;
}

static void pieces_text(char *out, size_t len, const struct range *pc, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && k + 40 < len; i++)
        k += (size_t)snprintf(out + k, len - k, "%s%zu+%zu", i ? " " : "", pc[i].off, pc[i].len);
}

/* The embedded finding of copy cp in container name: its pieces exactly, kind, whether
 * perceptual only, the container's size, an exact one's SHA-256. Returns it. */
static const json_t *expect_embedded(const json_t *plan, const char *name, const struct copy *cp,
                                     const char *kind, bool perceptual, const char *sha,
                                     size_t container_size)
{
    size_t off = cp->pc[0].off, len = cp->im->n;
    const json_t *fd = finding_at(plan, name, (long long)off, len);
    if (fd == NULL)
        fail_msg("%s: no finding at offset %zu (length %zu); the findings: %s", name, off, len,
                 findings_text(plan));
    struct range pc[MAXPIECES];
    size_t np = loc_pieces(json_array_get(json_object_get(fd, "location"), 1), pc, MAXPIECES);
    bool same = np == cp->np;
    for (size_t i = 0; same && i < np; i++)
        same = pc[i].off == cp->pc[i].off && pc[i].len == cp->pc[i].len;
    if (!same) {
        char got[2048], want[2048];
        pieces_text(got, sizeof(got), pc, np);
        pieces_text(want, sizeof(want), cp->pc, cp->np);
        fail_msg("%s@%zu: the location's pieces are %s, want %s", name, off, got, want);
    }
    if (jint(fd, "embedded.offset") != (long long)off ||
        jint(fd, "embedded.length") != (long long)len ||
        strcmp(tu_jstr(fd, "embedded.kind"), kind) ||
        jint(fd, "embedded.pieces") != (long long)cp->np)
        fail_msg("%s@%zu: embedded %s; want %s %zu+%zu in %zu pieces", name, off,
                 tu_dumps(json_object_get(fd, "embedded")), kind, off, len, cp->np);
    if (json_is_true(json_object_get(fd, "perceptual_only")) != perceptual)
        fail_msg("%s@%zu: perceptual_only %s, want %s", name, off,
                 json_is_true(json_object_get(fd, "perceptual_only")) ? "true" : "false",
                 perceptual ? "true" : "false");
    if (perceptual ? has_method(fd, "exact") || !has_method(fd, "pdq") : !has_method(fd, "exact"))
        fail_msg("%s@%zu: matched %s", name, off, tu_dumps(json_object_get(fd, "matched")));
    if (sha != NULL && strcmp(tu_jstr(fd, "digests.sha256"), sha) != 0)
        fail_msg("%s@%zu: digests.sha256 %s, want %s", name, off, tu_jstr(fd, "digests.sha256"),
                 sha);
    if (jint(fd, "size") != (long long)container_size)
        fail_msg("%s@%zu: size %lld, want the container's %zu", name, off, jint(fd, "size"),
                 container_size);
    return fd;
}

static const json_t *expect_one(const json_t *plan, const char *name, const struct robust_file *im,
                                size_t off, const char *kind, bool perceptual, const char *sha,
                                size_t container_size)
{
    const struct copy cp = one_piece(im, off);
    return expect_embedded(plan, name, &cp, kind, perceptual, sha, container_size);
}

/* The smallest PDQ distance a finding's matches report, -1 when none. */
static int pdq_distance(const json_t *fd)
{
    int best = -1;
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(fd, "matched"), i, m)
    {
        if (strcmp(tu_jstr(m, "method"), "pdq") == 0 && (best < 0 || jint(m, "distance") < best))
            best = (int)jint(m, "distance");
    }
    return best;
}

static bool no_journal_same_fs; /* /dev/shm missing: journals beside the roots */

/* deprive wipe --yes --order ORDER --hashes list --journal J -o OUT [extra...] PLAN */
static void wipe(struct tu_run *r, const char *list, const char *journal, const char *out,
                 const char *plan, const char *const *extra)
{
    struct tu_wipe_args a = {ORDER, list, journal, out, plan, extra, false, false};
    a.journal_on_same_fs = no_journal_same_fs;
    tu_owipe(r, &a);
}

/* The result's target in container name at offset off (-1: any). */
static const json_t *target_at(const json_t *res, const char *name, long long off)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(res, "targets"), i, t)
    {
        const json_t *loc = tu_jget(json_array_get(json_object_get(t, "names"), 0), "location");
        const char *first = json_string_value(json_array_get(loc, 0));
        if (first == NULL || strcmp(first, name) != 0)
            continue;
        if (off < 0 || jint(t, "embedded.offset") == off)
            return t;
    }
    fail_msg("the wipe result has no target in %s at %lld:\n%s", name, off,
             tu_dumps(json_object_get(res, "targets")));
    return NULL;
}

static void expect_reason(const json_t *t, const char *part, const char *what)
{
    if (strstr(tu_jstr(t, "reason"), part) == NULL)
        fail_msg("%s: reason \"%s\" does not say \"%s\"", what, tu_jstr(t, "reason"), part);
}

static int cmp_range(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

/* Every piece of the copies, sorted by offset; how many. */
static size_t all_pieces(const struct copy *cp, size_t nc, struct range *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < nc; i++)
        for (size_t k = 0; k < cp[i].np; k++) {
            assert_true(n < max);
            out[n++] = cp[i].pc[k];
        }
    qsort(out, n, sizeof(*out), cmp_range);
    return n;
}

/* SHA-256 of the bytes outside every piece of the copies. */
static void outside_sha(const unsigned char *b, size_t n, const struct copy *cp, size_t nc,
                        char out[65])
{
    struct range s[4 * MAXPIECES];
    size_t nr = all_pieces(cp, nc, s, 4 * MAXPIECES);
    struct buf o = {0};
    size_t at = 0;
    for (size_t i = 0; i < nr; i++) {
        if (s[i].off > at)
            put(&o, b + at, s[i].off - at);
        if (s[i].off + s[i].len > at)
            at = s[i].off + s[i].len;
    }
    if (at < n)
        put(&o, b + at, n - at);
    tu_sha256_buf(o.p ? o.p : (const unsigned char *)"", o.len, out);
    free(o.p);
}

/* after has before's length and every byte outside the copies' pieces; before held each copy
 * there, and no piece holds a 32-byte window of its copy's stream now. */
static void expect_copies_erased(const char *what, const unsigned char *before, size_t blen,
                                 const unsigned char *after, size_t alen, const struct copy *cp,
                                 size_t nc)
{
    if (alen != blen)
        fail_msg("%s: %zu bytes, was %zu", what, alen, blen);
    struct range s[4 * MAXPIECES];
    size_t nr = all_pieces(cp, nc, s, 4 * MAXPIECES), diff = 0, first = SIZE_MAX, k = 0;
    for (size_t i = 0; i < blen; i++) {
        while (k < nr && s[k].off + s[k].len <= i)
            k++;
        if (k < nr && s[k].off <= i)
            continue;
        if (before[i] != after[i])
            diff++, first = first == SIZE_MAX ? i : first;
    }
    if (diff != 0)
        fail_msg("%s: %zu bytes outside the erased ranges changed, the first at %zu", what, diff,
                 first);
    for (size_t c = 0; c < nc; c++) {
        size_t at = 0;
        for (size_t p = 0; p < cp[c].np; p++) {
            const struct range *r = &cp[c].pc[p];
            assert_true(r->off + r->len <= blen && at + r->len <= cp[c].im->n);
            assert_memory_equal(before + r->off, cp[c].im->b + at, r->len);
            at += r->len;
            size_t w = fu_all_windows_in(cp[c].im->b, cp[c].im->n, after + r->off, r->len);
            if (w != 0)
                fail_msg("%s: the range %zu+%zu still holds %zu 32-byte windows of the stream",
                         what, r->off, r->len, w);
        }
        assert_int_equal(at, cp[c].im->n);
    }
}

/* Where a blob's bytes lie in a database file: from where its first 256 bytes are, as many as
 * agree up to the page's end, then on the overflow page (after its 4-byte link) that goes on
 * with the next bytes; found by the bytes alone, not by reading SQLite's structures. */
static struct copy blob_pieces(const unsigned char *db, size_t dlen, const struct robust_file *im)
{
    struct copy c = {.im = im};
    const unsigned char *p = memmem(db, dlen, im->b, 256);
    assert_non_null(p);
    size_t at = (size_t)(p - db), vi = 0;
    while (vi < im->n) {
        assert_true(c.np < MAXPIECES);
        size_t end = (at / PAGE + 1) * PAGE, l = 0;
        while (at + l < end && at + l < dlen && vi + l < im->n && db[at + l] == im->b[vi + l])
            l++;
        if (vi + l == im->n) {
            c.pc[c.np++] = (struct range){at, l};
            break;
        }
        /* the next page: a link, then the bytes that follow (a byte or two of the link may
         * have agreed by chance: step back until the rest is found) */
        size_t next = SIZE_MAX, back = 0;
        for (; back <= 4 && back < l && next == SIZE_MAX; back++) {
            size_t want = im->n - (vi + l - back) < 64 ? im->n - (vi + l - back) : 64;
            for (size_t q = PAGE; q + 4 + want <= dlen && next == SIZE_MAX; q += PAGE)
                if (memcmp(db + q + 4, im->b + vi + l - back, want) == 0)
                    next = q + 4;
        }
        if (next == SIZE_MAX)
            fail_msg("the blob's bytes after %zu are on no page", vi + l);
        l -= back - 1;
        c.pc[c.np++] = (struct range){at, l};
        vi += l;
        at = next;
    }
    return c;
}

static void set_mtime(const char *path)
{
    const struct timespec ts[2] = {{MTIME_SEC, 0}, {MTIME_SEC, MTIME_NSEC}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void expect_mtime(const char *path, const char *what)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    if (sb.st_mtim.tv_sec != MTIME_SEC || sb.st_mtim.tv_nsec != MTIME_NSEC)
        fail_msg("%s: mtime %lld.%09ld, want %d.%09d", what, (long long)sb.st_mtim.tv_sec,
                 sb.st_mtim.tv_nsec, MTIME_SEC, MTIME_NSEC);
}

/* The result's embedded object after an overwrite-range of copy cp: every field (the pieces
 * of a stream in more than one), the outside digest computed here from the bytes before. */
static void expect_range_result(const json_t *t, const char *kind, const struct copy *cp,
                                const char *outside, const char *what)
{
    tu_expect_status(t, "erased", what);
    const json_t *e = json_object_get(t, "embedded");
    if (!json_is_object(e))
        fail_msg("%s: the result has no \"embedded\" object", what);
    if (strcmp(tu_jstr(e, "method"), "overwrite-range") != 0 ||
        strcmp(tu_jstr(e, "kind"), kind) != 0 || jint(e, "offset") != (long long)cp->pc[0].off ||
        jint(e, "length") != (long long)cp->im->n)
        fail_msg("%s: embedded %s", what, tu_dumps(e));
    if (cp->np > 1) {
        const json_t *pcs = json_object_get(e, "ranges");
        bool same = json_array_size(pcs) == cp->np;
        for (size_t i = 0; same && i < cp->np; i++)
            same = json_integer_value(json_array_get(json_array_get(pcs, i), 0)) ==
                       (json_int_t)cp->pc[i].off &&
                   json_integer_value(json_array_get(json_array_get(pcs, i), 1)) ==
                       (json_int_t)cp->pc[i].len;
        if (!same)
            fail_msg("%s: embedded.ranges %s, want the %zu pieces the scan named", what,
                     tu_dumps(pcs), cp->np);
    }
    if (strcmp(tu_jstr(e, "outside_sha256_before"), outside) != 0 ||
        strcmp(tu_jstr(e, "outside_sha256_after"), outside) != 0)
        fail_msg("%s: outside_sha256 before %s after %s, the bytes outside hash to %s", what,
                 tu_jstr(e, "outside_sha256_before"), tu_jstr(e, "outside_sha256_after"), outside);
    if (!json_is_true(json_object_get(e, "outside_unchanged")) ||
        !json_is_true(json_object_get(e, "mtime_restored")) ||
        !json_is_true(json_object_get(e, "ctime_changed")))
        fail_msg("%s: embedded %s", what, tu_dumps(e));
    if (strlen(tu_jstr(e, "residual_risk")) < 20)
        fail_msg("%s: no residual_risk", what);
}

/* ---- SQLite through its own program ---- */

static void need_sqlite(void)
{
    if (!tu_have("sqlite3")) {
        printf("embedded: skipped: the sqlite3 program is not installed (apt-get install "
               "sqlite3)\n");
        skip();
    }
}

static char *sql(const char *db, const char *stmt)
{
    struct tu_run r;
    char *argv[] = {"sqlite3", (char *)db, (char *)stmt, NULL};
    tu_orun(&r, argv);
    if (r.status != 0)
        fail_msg("sqlite3 %s '%s': exit %d: %s", db, stmt, r.status, r.err);
    return r.out;
}

/* A SQLite database (page size 4096) made in dir with the sqlite3 program: one table
 * thumbs(id, name, data) with a row per blob (read by readfile()); its bytes (owned). */
static unsigned char *sqlite_db(const char *dir, const char *name, const char *const *names,
                                const struct robust_file *const *blobs, size_t n, size_t *len)
{
    char *path = tu_opath(dir, name);
    unlink(path);
    struct buf s = {0};
    puts_(&s, "PRAGMA page_size=4096; CREATE TABLE thumbs(id INTEGER PRIMARY KEY, name TEXT, "
              "data BLOB);");
    for (size_t i = 0; i < n; i++) {
        char bn[32];
        snprintf(bn, sizeof(bn), "blob%zu.bin", i);
        tu_write(dir, bn, blobs[i]->b, blobs[i]->n);
        putf(&s, "INSERT INTO thumbs(name, data) VALUES('%s', readfile('%s/%s'));", names[i], dir,
             bn);
    }
    put(&s, "", 1);
    sql(path, (const char *)s.p);
    free(s.p);
    for (size_t i = 0; i < n; i++) {
        char bn[32];
        snprintf(bn, sizeof(bn), "blob%zu.bin", i);
        unlink(tu_own(tu_path(dir, bn)));
    }
    return tu_oread(path, len);
}

static size_t offset_of(const unsigned char *hay, size_t hn, const struct robust_file *im,
                        const char *what)
{
    const unsigned char *p = memmem(hay, hn, im->b, im->n);
    if (p == NULL)
        fail_msg("%s: the stream is not stored contiguously", what);
    return (size_t)(p - hay);
}

/* ---- fixtures (fsutil.h): a root and a work directory under /tmp, or a loop-mounted image
 * as the root; and a journal directory on /dev/shm (the wipe refuses a journal on the
 * filesystem it wipes) ---- */

static char *jdir; /* the running test's journal directory */

static int efx_setup(void **state)
{
    char tmpl[] = "/dev/shm/deprive-emb-XXXXXX";
    if (mkdtemp(tmpl) != NULL) {
        jdir = strdup(tmpl);
    } else {
        no_journal_same_fs = true;
        jdir = tu_mkdtemp();
    }
    return fu_fx_setup(state, "embedded", 32);
}

static int efx_teardown(void **state)
{
    tu_rm_rf(jdir);
    free(jdir);
    jdir = NULL;
    return fu_fx_teardown(state);
}

/* name in the running test's journal directory, owned */
static char *jpath(const char *name)
{
    return tu_opath(jdir, name);
}

/* ---- the usual thumbnail cache: the victim exact, two perceptual thumbnails, lawful ones and
 * near misses (the victim cut short, a thumbnail PNG with a bad CRC) ---- */

enum {
    C_LAWFUL0,
    C_VICTIM,
    C_LAWFUL_PNG,
    C_THUMB,
    C_TRUNC,
    C_LAWFUL1,
    C_THUMB_PNG,
    C_BADCRC,
    C_LAWFUL2,
    C_COUNT
};

struct cache {
    unsigned char *b;
    size_t n, off[C_COUNT];
};

static void make_cache(struct cache *c, bool near_misses)
{
    size_t pn = G.thumb_png.n;
    unsigned char *bad = tu_own(malloc(pn));
    memcpy(bad, G.thumb_png.b, pn);
    unsigned char *idat = memmem(bad, pn, "IDAT", 4);
    assert_non_null(idat);
    idat[4 + 100] ^= 0x01; /* a data byte: the chunk's CRC no longer agrees */
    const struct rec r[C_COUNT] = {
        [C_LAWFUL0] = {G.lawful[0].b, G.lawful[0].n},
        [C_VICTIM] = {G.victim.b, G.victim.n},
        [C_LAWFUL_PNG] = {G.lawful_png.b, G.lawful_png.n},
        [C_THUMB] = {G.thumb.b, G.thumb.n},
        [C_TRUNC] = {G.victim.b, G.victim.n - 700},
        [C_LAWFUL1] = {G.lawful[1].b, G.lawful[1].n},
        [C_THUMB_PNG] = {G.thumb_png.b, G.thumb_png.n},
        [C_BADCRC] = {bad, pn},
        [C_LAWFUL2] = {G.lawful[2].b, G.lawful[2].n},
    };
    struct rec rr[C_COUNT];
    memcpy(rr, r, sizeof(rr));
    if (!near_misses) /* they hold most of the victim's and the PNG's bytes, rightly left */
        rr[C_TRUNC] = rr[C_BADCRC] = (struct rec){(const unsigned char *)"lawful record", 13};
    c->b = cache_bytes(rr, C_COUNT, c->off, &c->n);
}

/* ==== 1. finding: each container, exact ranges ==== */

static void test_find(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    /* (a) the thumbnail cache */
    struct cache c;
    make_cache(&c, true);
    tu_write(f->root, "thumbcache_256.db", c.b, c.n);
    /* (b) SQLite: test_find_sqlite */
    /* (c) a PDF */
    size_t pv = 0, pl = 0, plen = 0;
    unsigned char *pdf = pdf_bytes(&G.victim, &G.lawful[1], &pv, &pl, &plen);
    tu_write(f->root, "docs/statement.pdf", pdf, plen);
    /* (d) an unrelated JPEG carrying the victim's thumbnail as its EXIF thumbnail (an edited
     * photo whose thumbnail still shows the original) */
    size_t eo = 0, elen = 0;
    unsigned char *exif = exif_jpeg(&G.outer, &G.thumb, &eo, &elen);
    assert_int_equal(eo, 68);
    assert_memory_equal(exif + eo, G.thumb.b, G.thumb.n);
    tu_write(f->root, "DCIM/IMG_0042.jpg", exif, elen);
    /* (e) a browser cache entry */
    size_t hb = 0, hlen = 0;
    unsigned char *http = http_entry(&G.victim, &hb, &hlen);
    tu_write(f->root, "cache/Cache_Data/f_00a1b2", http, hlen);
    /* (f) the victim's photo with something appended (a JPEG with a zip after its EOI): the
     * stream at offset 0 is not the whole file */
    struct buf tb = {0};
    put(&tb, G.victim.b, G.victim.n);
    put(&tb, "PK\x03\x04", 4);
    for (unsigned i = 0; i < 2000; i++) {
        const unsigned char ch = (unsigned char)('a' + i % 26);
        put(&tb, &ch, 1);
    }
    size_t tlen = 0;
    unsigned char *trailer = done(&tb, &tlen);
    tu_write(f->root, "IMG_2041_with_zip.jpg", trailer, tlen);
    /* the victim's file itself, and lawful files */
    tu_write(f->root, "victim.jpg", G.victim.b, G.victim.n);
    tu_write(f->root, "holiday.png", G.lawful_png.b, G.lawful_png.n);
    tu_write(f->root, "notes.txt", "nothing to see\n", 15);

    char *plan = tu_opath(f->work, "plan.json");
    double t0 = tu_now();
    json_t *p = scan(f->root, G.list, plan, true);
    double secs = tu_now() - t0;
    printf("embedded: find: %.2f s; findings: %s\n", secs, findings_text(p));
    const char *vs = G.victim.sha;
    const json_t *fd;
    /* (a) */
    expect_one(p, "thumbcache_256.db", &G.victim, c.off[C_VICTIM], "jpeg", false, vs, c.n);
    fd = expect_one(p, "thumbcache_256.db", &G.thumb, c.off[C_THUMB], "jpeg", true, NULL, c.n);
    int d_thumb = pdq_distance(fd);
    fd = expect_one(p, "thumbcache_256.db", &G.thumb_png, c.off[C_THUMB_PNG], "png", true, NULL,
                    c.n);
    int d_thumb_png = pdq_distance(fd);
    if (findings_in(p, "thumbcache_256.db") != 3)
        fail_msg("thumbcache_256.db: %zu findings, want 3 (the lawful images, the cut-short "
                 "victim and the PNG with a bad CRC are not matches): %s",
                 findings_in(p, "thumbcache_256.db"), findings_text(p));
    /* (c) */
    expect_one(p, "docs/statement.pdf", &G.victim, pv, "jpeg", false, vs, plen);
    if (findings_in(p, "docs/statement.pdf") != 1)
        fail_msg("docs/statement.pdf: %s", findings_text(p));
    /* (d) */
    fd = expect_one(p, "DCIM/IMG_0042.jpg", &G.thumb, eo, "jpeg", true, NULL, elen);
    int d_exif = pdq_distance(fd);
    if (findings_in(p, "DCIM/IMG_0042.jpg") != 1)
        fail_msg("DCIM/IMG_0042.jpg: the outer image is unrelated: %s", findings_text(p));
    /* (e) */
    expect_one(p, "cache/Cache_Data/f_00a1b2", &G.victim, hb, "jpeg", false, vs, hlen);
    if (findings_in(p, "cache/Cache_Data/f_00a1b2") != 1)
        fail_msg("cache entry: %s", findings_text(p));
    /* (f): the stream at 0 as an embedded exact copy; the file itself decodes to the victim's
     * picture (a decoder stops at EOI), a perceptual match of the file */
    expect_one(p, "IMG_2041_with_zip.jpg", &G.victim, 0, "jpeg", false, vs, tlen);
    const json_t *tw = finding_at(p, "IMG_2041_with_zip.jpg", -1, 0);
    size_t in_tr = findings_in(p, "IMG_2041_with_zip.jpg");
    printf("embedded: find: a JPEG with data after its EOI: the stream at 0 found exactly; the "
           "file itself %s\n",
           tw == NULL                                             ? "not a match"
           : json_is_true(json_object_get(tw, "perceptual_only")) ? "a perceptual match"
                                                                  : "an EXACT match (?)");
    if (in_tr != 1 + (tw != NULL) || (tw != NULL && has_method(tw, "exact")))
        fail_msg("IMG_2041_with_zip.jpg: %s", findings_text(p));
    /* the victim's own file: the file, not an embedded stream */
    fd = finding_at(p, "victim.jpg", -1, 0);
    if (fd == NULL || findings_in(p, "victim.jpg") != 1 || json_object_get(fd, "embedded") != NULL)
        fail_msg("victim.jpg: want one finding of the file itself: %s", findings_text(p));
    assert_true(has_method(fd, "exact"));
    if (nfindings(p) != 3 + 1 + 1 + 1 + in_tr + 1)
        fail_msg("%zu findings, want %zu: %s", nfindings(p), 7 + in_tr, findings_text(p));
    /* totals and scope */
    const json_t *tc = tu_jget(p, "totals.carved");
    printf("embedded: find: totals.carved %s; PDQ distances: thumbnail %d, its PNG %d, EXIF "
           "thumbnail %d\n",
           tu_dumps(tc), d_thumb, d_thumb_png, d_exif);
    /* complete streams that are not the file itself: the cache's 7 (the cut-short one and the
     * bad CRC are not complete), the PDF's 2, the EXIF thumbnail, the cache entry's body, the
     * photo before the zip */
    long long streams = jint(tc, "streams");
    if (streams != 7 + 2 + 1 + 1 + 1)
        fail_msg("totals.carved.streams %lld, want %d", streams, 7 + 2 + 1 + 1 + 1);
    assert_true(jint(tc, "candidates") >= streams);
    assert_true(jint(tc, "decoded") >= 5);
    assert_int_equal(jint(tc, "files_limited"), 0);
    assert_true(json_is_true(tu_jget(p, "scope.carving.used")));

    /* --no-carve: only the victim's own file */
    char *plan2 = tu_opath(f->work, "plan-nocarve.json");
    json_t *p2 = scan(f->root, G.list, plan2, false);
    if (nfindings(p2) != 1 + (tw != NULL) || finding_at(p2, "victim.jpg", -1, 0) == NULL ||
        findings_in(p2, "IMG_2041_with_zip.jpg") != (tw != NULL) ||
        finding_at(p2, "IMG_2041_with_zip.jpg", 0, 0) != NULL)
        fail_msg("--no-carve: want only victim.jpg (and the JPEG with a zip as a file): %s",
                 findings_text(p2));
    assert_false(json_is_true(tu_jget(p2, "scope.carving.used")));
    printf("embedded: find: --no-carve: %s\n", findings_text(p2));
}

/* (b) SQLite, 4 KiB pages: a lawful thumbnail and the victim's small one in a page each (found
 * where they lie), the victim's whole photo across overflow pages (put together from its
 * leaf page and overflow pages and found exactly, piece by piece: the pieces are checked
 * against where the bytes are, found here by the bytes alone). */
static void test_find_sqlite(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    need_sqlite();
    static const char *const names[] = {"lawful", "small", "victim", "note"};
    const struct robust_file note = {.b = (const unsigned char *)"remember the milk", .n = 17};
    const struct robust_file *blobs[] = {&G.lawful_small, &G.small, &G.victim, &note};
    size_t dlen = 0;
    unsigned char *db = sqlite_db(f->work, "thumbs.db", names, blobs, 4, &dlen);
    tu_write(f->root, "thumbs.db", db, dlen);
    size_t s_off = offset_of(db, dlen, &G.small, "thumbs.db: the small thumbnail");
    assert_int_equal(s_off / PAGE, (s_off + G.small.n - 1) / PAGE);
    assert_null(memmem(db, dlen, G.victim.b, G.victim.n)); /* not contiguous */
    const struct copy vdb = blob_pieces(db, dlen, &G.victim);
    assert_true(vdb.np > 2);
    char *plan = tu_opath(f->work, "plan.json");
    json_t *p = scan(f->root, G.list, plan, true);
    const json_t *fd = expect_one(p, "thumbs.db", &G.small, s_off, "jpeg", true, NULL, dlen);
    int d_small = pdq_distance(fd);
    expect_embedded(p, "thumbs.db", &vdb, "jpeg", false, G.victim.sha, dlen);
    if (nfindings(p) != 2)
        fail_msg("thumbs.db: %zu findings, want the small thumbnail and the victim: %s",
                 nfindings(p), findings_text(p));
    const json_t *tc = tu_jget(p, "totals.carved");
    printf("embedded: find: SQLite: the small thumbnail at %zu (SQLite page %zu, distance %d); "
           "the victim's %zu bytes put together from %zu pieces, the first at %zu; "
           "totals.carved %s\n",
           s_off, s_off / PAGE + 1, d_small, G.victim.n, vdb.np, vdb.pc[0].off, tu_dumps(tc));
    /* the two thumbnails in their pages and the victim put together */
    assert_int_equal(jint(tc, "streams"), 3);
    assert_int_equal(jint(tc, "sqlite_records"), 1);
    /* --no-carve: nothing */
    expect_no_findings(f->root, tu_opath(f->work, "plan-nocarve.json"), false, "--no-carve");
}

/* ==== 2. the wipe, in a temporary directory ==== */

struct jcount {
    size_t records, begin, ow_begin, ow_done, done;
};

static enum dp_status count_visit(void *ctx, uint64_t seq, const char *type, json_t *data,
                                  struct dp_error *err)
{
    (void)seq, (void)data, (void)err;
    struct jcount *c = ctx;
    c->records++;
    c->begin += strcmp(type, "embedded-begin") == 0;
    c->ow_begin += strcmp(type, "overwrite-begin") == 0;
    c->ow_done += strcmp(type, "overwrite-done") == 0;
    c->done += strcmp(type, "target-done") == 0;
    return DP_OK;
}

static struct jcount journal_counts(const char *journal)
{
    struct jcount c = {0};
    struct dp_error e = {0};
    uint64_t records = 0;
    if (dp_journal_verify_file(journal, NULL, &records, count_visit, &c, &e) != DP_OK)
        fail_msg("the journal %s does not verify: %s", journal, e.msg);
    return c;
}

/* The thumbnail cache: the victim's exact copy and the JPEG thumbnail the examiner confirmed
 * (deprive confirm) erased together, the PNG thumbnail left without consent; then with
 * --erase-perceptual the PNG erased too. */
static void test_wipe_cache(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct cache c;
    make_cache(&c, true);
    tu_write(f->root, "thumbcache_256.db", c.b, c.n);
    tu_write(f->root, "notes.txt", "lawful\n", 7);
    char *path = tu_opath(f->root, "thumbcache_256.db");
    set_mtime(path);
    char *plan = tu_opath(f->work, "plan.json"), *journal = jpath("j1"),
         *out = tu_opath(f->work, "w1.json");
    json_t *p = scan(f->root, G.list, plan, true);
    assert_int_equal(nfindings(p), 3);
    const json_t *ft = finding_at(p, "thumbcache_256.db", (long long)c.off[C_THUMB], G.thumb.n);
    assert_non_null(ft);
    struct tu_run r;
    tu_odeprive(&r, "confirm", plan, "--finding", tu_jstr(ft, "id"), "--examiner", EXAMINER, NULL);
    tu_expect_exit(&r, 0, "confirm the JPEG thumbnail");
    double t0 = tu_now();
    wipe(&r, G.list, journal, out, plan, NULL);
    double secs = tu_now() - t0;
    tu_expect_exit(&r, 1, "wipe without consent for the PNG thumbnail");
    json_t *res = tu_oload(out);
    size_t alen = 0;
    unsigned char *after = tu_oread(path, &alen);
    const struct copy c1[] = {one_piece(&G.victim, c.off[C_VICTIM]),
                              one_piece(&G.thumb, c.off[C_THUMB])};
    expect_copies_erased("thumbcache_256.db", c.b, c.n, after, alen, c1, 2);
    assert_memory_equal(after + c.off[C_THUMB_PNG], G.thumb_png.b, G.thumb_png.n);
    expect_mtime(path, "thumbcache_256.db after the range overwrite");
    char outside[65];
    outside_sha(c.b, c.n, c1, 2, outside);
    const json_t *t = target_at(res, "thumbcache_256.db", (long long)c.off[C_VICTIM]);
    expect_range_result(t, "jpeg", &c1[0], outside, "the victim's copy");
    t = target_at(res, "thumbcache_256.db", (long long)c.off[C_THUMB]);
    expect_range_result(t, "jpeg", &c1[1], outside, "the confirmed thumbnail");
    assert_string_equal(tu_jstr(t, "consent.kind"), "confirmed");
    const json_t *tp = target_at(res, "thumbcache_256.db", (long long)c.off[C_THUMB_PNG]);
    tu_expect_status(tp, "skipped", "the PNG thumbnail without consent");
    expect_reason(tp, "perceptual", "the PNG thumbnail without consent");
    struct jcount jc = journal_counts(journal);
    printf("embedded: cache: the victim and the confirmed thumbnail erased together in %.2f s "
           "(journal: %zu embedded-begin, %zu overwrite-begin, %zu overwrite-done, %zu "
           "target-done; assurance %s); the PNG thumbnail skipped: %s\n",
           secs, jc.begin, jc.ow_begin, jc.ow_done, jc.done, tu_jstr(t, "assurance"),
           tu_jstr(tp, "reason"));
    if (jc.begin != 1 || jc.ow_begin != 1 || jc.ow_done != 1 || jc.done != 3)
        fail_msg("two copies in one container: want one embedded-begin, one overwrite-begin and "
                 "-done, a target-done for each of the three");

    /* --erase-perceptual: the PNG thumbnail */
    char *plan2 = tu_opath(f->work, "plan2.json"), *j2 = jpath("j2"),
         *out2 = tu_opath(f->work, "w2.json");
    json_t *p2 = scan(f->root, G.list, plan2, true);
    if (nfindings(p2) != 1)
        fail_msg("the rescan: %s", findings_text(p2));
    static const char *const blanket[] = {"--erase-perceptual", "--examiner", EXAMINER, NULL};
    wipe(&r, G.list, j2, out2, plan2, blanket);
    tu_expect_exit(&r, 0, "wipe --erase-perceptual");
    res = tu_oload(out2);
    size_t a2len = 0;
    unsigned char *after2 = tu_oread(path, &a2len);
    const struct copy cp = one_piece(&G.thumb_png, c.off[C_THUMB_PNG]);
    expect_copies_erased("thumbcache_256.db, the PNG", after, alen, after2, a2len, &cp, 1);
    expect_mtime(path, "thumbcache_256.db after the second overwrite");
    outside_sha(after, alen, &cp, 1, outside);
    t = target_at(res, "thumbcache_256.db", (long long)c.off[C_THUMB_PNG]);
    expect_range_result(t, "png", &cp, outside, "the PNG thumbnail");
    assert_string_equal(tu_jstr(t, "consent.kind"), "blanket");
    printf("embedded: cache: --erase-perceptual: the PNG thumbnail erased\n");
    /* nothing is found any more */
    expect_no_findings(f->root, tu_opath(f->work, "plan3.json"), true, "after both wipes");
}

/* SQLite: the small thumbnail's blob (in one page) and the victim's (over overflow pages,
 * in pieces) overwritten, the page links between the pieces kept; the database intact. */
static void test_wipe_sqlite(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    need_sqlite();
    static const char *const names[] = {"lawful", "small", "lawful-2", "victim", "note"};
    const struct robust_file note = {.b = (const unsigned char *)"remember the milk", .n = 17};
    const struct robust_file *blobs[] = {&G.lawful_small, &G.small, &G.lawful[0], &G.victim, &note};
    size_t dlen = 0;
    unsigned char *db = sqlite_db(f->work, "thumbs.db", names, blobs, 5, &dlen);
    static const char rows_q[] =
        "SELECT id, name, length(data), hex(sha3(data)) FROM thumbs ORDER BY id";
    char *rows0 = sql(tu_own(tu_path(f->work, "thumbs.db")), rows_q);
    tu_write(f->root, "thumbs.db", db, dlen);
    char *path = tu_opath(f->root, "thumbs.db");
    set_mtime(path);
    const struct copy cp[2] = {one_piece(&G.small, offset_of(db, dlen, &G.small, "thumbs.db")),
                               blob_pieces(db, dlen, &G.victim)};
    char *plan = tu_opath(f->work, "plan.json"), *journal = jpath("j"),
         *out = tu_opath(f->work, "w.json");
    json_t *p = scan(f->root, G.list_small, plan, true);
    expect_embedded(p, "thumbs.db", &cp[0], "jpeg", false, G.small.sha, dlen);
    expect_embedded(p, "thumbs.db", &cp[1], "jpeg", false, G.victim.sha, dlen);
    if (nfindings(p) != 2)
        fail_msg("thumbs.db: %s", findings_text(p));
    struct tu_run r;
    wipe(&r, G.list_small, journal, out, plan, NULL);
    tu_expect_exit(&r, 0, "wipe of the SQLite blobs");
    json_t *res = tu_oload(out);
    size_t alen = 0;
    unsigned char *after = tu_oread(path, &alen);
    expect_copies_erased("thumbs.db", db, dlen, after, alen, cp, 2);
    expect_mtime(path, "thumbs.db");
    char outside[65];
    outside_sha(db, dlen, cp, 2, outside);
    expect_range_result(target_at(res, "thumbs.db", (long long)cp[0].pc[0].off), "jpeg", &cp[0],
                        outside, "the small thumbnail's blob");
    expect_range_result(target_at(res, "thumbs.db", (long long)cp[1].pc[0].off), "jpeg", &cp[1],
                        outside, "the victim's blob in pieces");
    char *ic = sql(path, "PRAGMA integrity_check");
    if (strcmp(ic, "ok\n") != 0)
        fail_msg("thumbs.db after the overwrite: integrity_check says %s", ic);
    char *rows1 = sql(path, rows_q);
    /* every row as it was but the two erased blobs: same length, other content */
    char *l0 = rows0, *l1 = rows1;
    for (int row = 1; row <= 5; row++) {
        size_t n0 = strcspn(l0, "\n"), n1 = strcspn(l1, "\n");
        bool same = n0 == n1 && memcmp(l0, l1, n0) == 0;
        if (row == 2 || row == 4 ? same : !same)
            fail_msg("thumbs.db row %d: before \"%.*s\", after \"%.*s\"", row, (int)n0, l0, (int)n1,
                     l1);
        l0 += n0 + (l0[n0] != '\0');
        l1 += n1 + (l1[n1] != '\0');
    }
    char want_len[64];
    snprintf(want_len, sizeof(want_len), "2|small|%zu|", G.small.n);
    assert_non_null(strstr(rows1, want_len));
    snprintf(want_len, sizeof(want_len), "4|victim|%zu|", G.victim.n);
    assert_non_null(strstr(rows1, want_len));
    printf("embedded: sqlite: blob %zu+%zu and the victim's %zu pieces overwritten; "
           "integrity_check ok; the other 3 rows unchanged\n",
           cp[0].pc[0].off, G.small.n, cp[1].np);
}

/* A contiguous range crossing a page boundary of a SQLite database: the bytes from the
 * victim's SOI on its leaf page to its EOI on the last overflow page, page links included,
 * walk as one JPEG; listed by their own SHA-256 to force the case. Left, with a reason. */
static void test_wipe_sqlite_cross_page(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    need_sqlite();
    /* one row: its leaf page stays the table's root, page 2, before the overflow pages (a
     * second row would split the root and move the cell to a page after them) */
    static const char *const names[] = {"victim"};
    const struct robust_file *blobs[] = {&G.victim};
    size_t dlen = 0;
    unsigned char *db = sqlite_db(f->work, "photos.db", names, blobs, 1, &dlen);
    tu_write(f->root, "photos.db", db, dlen);
    char *path = tu_opath(f->root, "photos.db");
    const struct copy vp = blob_pieces(db, dlen, &G.victim);
    const struct range *last = &vp.pc[vp.np - 1];
    for (size_t k = 1; k < vp.np; k++)
        if (vp.pc[k].off < vp.pc[k - 1].off) {
            char pt[4096];
            pieces_text(pt, sizeof(pt), vp.pc, vp.np);
            printf("embedded: sqlite cross-page: the overflow pages are not in file order (%s): "
                   "no contiguous walk across them\n",
                   pt);
            skip();
        }
    struct robust_file linked = {.b = db + vp.pc[0].off, .n = last->off + last->len - vp.pc[0].off};
    tu_sha256_buf(linked.b, linked.n, linked.sha);
    char text[256];
    snprintf(text, sizeof(text), "# deprive-hashes 1\nsha256:%s label=linked\n", linked.sha);
    tu_write(f->work, "linked.list", text, strlen(text));
    char *list = tu_opath(f->work, "linked.list");
    char sha0[65], sha1[65];
    tu_sha256_file(path, sha0);
    char *plan = tu_opath(f->work, "plan.json"), *journal = jpath("j"),
         *out = tu_opath(f->work, "w.json");
    json_t *p = scan(f->root, list, plan, true);
    if (nfindings(p) == 0)
        fail_msg("photos.db: the victim with its page links (%zu bytes from %zu, SQLite pages "
                 "%zu-%zu) was not carved as one stream: %s",
                 linked.n, vp.pc[0].off, vp.pc[0].off / PAGE + 1,
                 (last->off + last->len - 1) / PAGE + 1, findings_text(p));
    const struct copy cl = one_piece(&linked, vp.pc[0].off);
    expect_embedded(p, "photos.db", &cl, "jpeg", false, linked.sha, dlen);
    assert_int_equal(nfindings(p), 1);
    struct tu_run r;
    wipe(&r, list, journal, out, plan, NULL);
    tu_expect_exit(&r, 1, "wipe of a stream across SQLite pages");
    json_t *res = tu_oload(out);
    const json_t *t = target_at(res, "photos.db", (long long)vp.pc[0].off);
    tu_expect_status(t, "skipped", "a range across pages");
    expect_reason(t, "page boundary", "a range across pages");
    tu_sha256_file(path, sha1);
    assert_string_equal(sha1, sha0);
    char *ic = sql(path, "PRAGMA integrity_check");
    assert_string_equal(ic, "ok\n");
    printf("embedded: sqlite cross-page: %zu bytes over SQLite pages %zu-%zu carved whole: "
           "skipped (%s); the database untouched\n",
           linked.n, vp.pc[0].off / PAGE + 1, (last->off + last->len - 1) / PAGE + 1,
           tu_jstr(t, "reason"));
}

/* report-only leaves it; wipe-container erases the whole file. */
static void test_wipe_policies(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    size_t hb = 0, hlen = 0;
    unsigned char *http = http_entry(&G.victim, &hb, &hlen);
    tu_write(f->root, "f_00a1b2", http, hlen);
    tu_write(f->root, "keep/notes.txt", "lawful notes\n", 13);
    tu_write(f->root, "keep/holiday.jpg", G.lawful[0].b, G.lawful[0].n);
    char *path = tu_opath(f->root, "f_00a1b2"), *keep = tu_opath(f->root, "keep");
    char *fp0 = tu_own(tu_fingerprint(keep));
    char sha0[65], sha1[65];
    tu_sha256_file(path, sha0);
    char *plan = tu_opath(f->work, "plan.json"), *j1 = jpath("j1"),
         *o1 = tu_opath(f->work, "w1.json");
    json_t *p = scan(f->root, G.list, plan, true);
    expect_one(p, "f_00a1b2", &G.victim, hb, "jpeg", false, G.victim.sha, hlen);
    struct tu_run r;
    static const char *const dry[] = {"--dry-run", NULL};
    char *j0 = jpath("j0"), *o0 = tu_opath(f->work, "w0.json");
    wipe(&r, G.list, j0, o0, plan, dry);
    json_t *res = r.status <= 1 ? tu_oload(o0) : NULL;
    if (res == NULL)
        fail_msg("wipe --dry-run: exit %d: %s", r.status, r.err);
    tu_expect_status(target_at(res, "f_00a1b2", (long long)hb), "planned", "--dry-run");
    tu_sha256_file(path, sha1);
    assert_string_equal(sha1, sha0);
    printf("embedded: policies: --dry-run: exit %d, planned, file byte-identical\n", r.status);
    static const char *const report_only[] = {"--embedded=report-only", NULL};
    wipe(&r, G.list, j1, o1, plan, report_only);
    tu_expect_exit(&r, 1, "wipe --embedded=report-only");
    res = tu_oload(o1);
    const json_t *t = target_at(res, "f_00a1b2", (long long)hb);
    tu_expect_status(t, "skipped", "report-only");
    tu_sha256_file(path, sha1);
    assert_string_equal(sha1, sha0);
    printf("embedded: policies: report-only: skipped (%s), method %s, file byte-identical\n",
           tu_jstr(t, "reason"), tu_jstr(t, "embedded.method"));
    assert_string_equal(tu_jstr(t, "embedded.method"), "report-only");

    static const char *const whole[] = {"--embedded", "wipe-container", NULL};
    char *j2 = jpath("j2"), *o2 = tu_opath(f->work, "w2.json");
    wipe(&r, G.list, j2, o2, plan, whole);
    tu_expect_exit(&r, 0, "wipe --embedded=wipe-container");
    if (access(path, F_OK) == 0)
        fail_msg("--embedded=wipe-container: the container is still there");
    res = tu_oload(o2);
    t = target_at(res, "f_00a1b2", (long long)hb);
    tu_expect_status(t, "erased", "wipe-container");
    assert_string_equal(tu_jstr(t, "embedded.method"), "wipe-container");
    char *fp1 = tu_own(tu_fingerprint(keep));
    assert_string_equal(fp1, fp0);
    printf("embedded: policies: wipe-container: erased, the file removed (%s)\n",
           tu_jstr(t, "assurance"));
}

/* SQLite's -wal and -journal, by name or by their header's magic: never range-overwritten;
 * --embedded=wipe-container erases them whole. */
static void test_wipe_sidecars(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    /* a WAL: its 32-byte header (magic 377f0682), a frame header, the frame's page */
    static const unsigned char wal_magic[8] = {0x37, 0x7f, 0x06, 0x82, 0x00, 0x2d, 0xe2, 0x18};
    static const unsigned char hdr[24] = {0, 0, 0x10, 0, 0, 0, 0, 1, 0x5a, 0x5a, 0x5a, 0x5a};
    static const unsigned char tail[40] = {1, 2, 3};
    struct buf w = {0};
    put(&w, wal_magic, 8);
    put(&w, hdr, 24);
    size_t v_at = w.len;
    put(&w, G.victim.b, G.victim.n);
    put(&w, tail, sizeof(tail));
    size_t wlen = 0;
    unsigned char *wal = done(&w, &wlen);
    /* a rollback journal: its magic d9d505f920a163d7, a header, a page */
    static const unsigned char jmagic[8] = {0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7};
    struct buf jb = {0};
    put(&jb, jmagic, 8);
    put(&jb, hdr, 24);
    put(&jb, G.victim.b, G.victim.n);
    size_t jlen = 0;
    unsigned char *jour = done(&jb, &jlen);
    /* neither magic: a name alone says what it is */
    struct buf nb = {0};
    puts_(&nb, "no header a program knows ... ");
    size_t n_at = nb.len;
    put(&nb, G.victim.b, G.victim.n);
    size_t nlen = 0;
    unsigned char *plain = done(&nb, &nlen);
    static const char *const files[] = {"thumbs.db-wal", "thumbs.db-journal", "frames.bin",
                                        "undo.bin"};
    tu_write(f->root, files[0], plain, nlen); /* by name */
    tu_write(f->root, files[1], plain, nlen); /* by name */
    tu_write(f->root, files[2], wal, wlen);   /* by the WAL magic */
    tu_write(f->root, files[3], jour, jlen);  /* by the journal magic */
    const size_t at[] = {n_at, n_at, v_at, v_at};
    char sha0[4][65], sha1[65];
    for (int i = 0; i < 4; i++)
        tu_sha256_file(tu_own(tu_path(f->root, files[i])), sha0[i]);
    char *plan = tu_opath(f->work, "plan.json"), *j1 = jpath("j1"),
         *o1 = tu_opath(f->work, "w1.json");
    json_t *p = scan(f->root, G.list, plan, true);
    if (nfindings(p) != 4)
        fail_msg("the sidecars: %s", findings_text(p));
    struct tu_run r;
    wipe(&r, G.list, j1, o1, plan, NULL);
    tu_expect_exit(&r, 1, "wipe of SQLite sidecars");
    json_t *res = tu_oload(o1);
    for (int i = 0; i < 4; i++) {
        const json_t *t = target_at(res, files[i], (long long)at[i]);
        tu_expect_status(t, "skipped", files[i]);
        expect_reason(t, "write-ahead log or rollback journal", files[i]);
        tu_sha256_file(tu_own(tu_path(f->root, files[i])), sha1);
        if (strcmp(sha1, sha0[i]) != 0)
            fail_msg("%s was changed", files[i]);
    }
    printf("embedded: sidecars: -wal and -journal by name, a WAL and a journal by magic: "
           "skipped, byte-identical (%s)\n",
           tu_jstr(target_at(res, "frames.bin", (long long)v_at), "reason"));
    /* wipe-container takes them whole */
    static const char *const whole[] = {"--embedded=wipe-container", NULL};
    char *j2 = jpath("j2"), *o2 = tu_opath(f->work, "w2.json");
    wipe(&r, G.list, j2, o2, plan, whole);
    tu_expect_exit(&r, 0, "wipe-container of SQLite sidecars");
    for (int i = 0; i < 4; i++)
        if (access(tu_own(tu_path(f->root, files[i])), F_OK) == 0)
            fail_msg("--embedded=wipe-container: %s is still there", files[i]);
}

/* A plan whose range no longer holds the stream; a container changed outside the range after
 * the scan: both skipped, the files untouched. */
static void test_wipe_changed(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    size_t hb = 0, hlen = 0;
    unsigned char *http = http_entry(&G.victim, &hb, &hlen);
    tu_write(f->root, "a/f_0001", http, hlen);
    tu_write(f->root, "b/f_0002", http, hlen);
    char *pa = tu_opath(f->root, "a/f_0001"), *pb = tu_opath(f->root, "b/f_0002");
    char *plan = tu_opath(f->work, "plan.json");
    json_t *p = scan(f->root, G.list, plan, true);
    assert_int_equal(nfindings(p), 2);
    /* the plan edited: a's range one byte later (location and embedded agree) */
    json_t *fa = (json_t *)finding_at(p, "a/f_0001", (long long)hb, 0);
    assert_non_null(fa);
    json_t *loc1 = json_array_get(json_object_get(fa, "location"), 1);
    json_object_set_new(loc1, "offset", json_integer((json_int_t)hb + 1));
    json_object_set_new(json_object_get(fa, "embedded"), "offset",
                        json_integer((json_int_t)hb + 1));
    char *edited = tu_opath(f->work, "edited.json");
    assert_int_equal(json_dump_file(p, edited, JSON_INDENT(1)), 0);
    /* b changed after the scan: one byte of its HTTP head */
    int fd = open(pb, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "X", 1, 5), 1);
    close(fd);
    char sa0[65], sb0[65], s1[65];
    tu_sha256_file(pa, sa0);
    tu_sha256_file(pb, sb0);
    char *j = jpath("j"), *o = tu_opath(f->work, "w.json");
    struct tu_run r;
    wipe(&r, G.list, j, o, edited, NULL);
    tu_expect_exit(&r, 1, "wipe of a changed plan and a changed container");
    json_t *res = tu_oload(o);
    const json_t *ta = target_at(res, "a/f_0001", -1), *tb = target_at(res, "b/f_0002", -1);
    tu_expect_status(ta, "skipped", "the edited range");
    expect_reason(ta, "changed since scan", "the edited range");
    tu_expect_status(tb, "skipped", "the container changed outside the range");
    expect_reason(tb, "changed since scan", "the container changed outside the range");
    tu_sha256_file(pa, s1);
    assert_string_equal(s1, sa0);
    tu_sha256_file(pb, s1);
    assert_string_equal(s1, sb0);
    printf("embedded: changed: edited range: %s; changed container: %s; both untouched\n",
           tu_jstr(ta, "reason"), tu_jstr(tb, "reason"));
}

/* Nested copies: a listed photo carrying the victim's thumbnail as its EXIF thumbnail, once
 * inside a cache (two overlapping ranges, removed together) and once as a file of its own
 * (the file erased whole; its embedded thumbnail goes with it). */
static void test_wipe_nested(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    size_t to = 0, xlen = 0;
    unsigned char *xb = exif_jpeg(&G.victim, &G.thumb, &to, &xlen);
    struct robust_file photo = {.b = xb, .n = xlen, .w = G.victim.w, .h = G.victim.h};
    tu_sha256_buf(xb, xlen, photo.sha);
    char text[512];
    snprintf(text, sizeof(text), "# deprive-hashes 1\nsha256:%s %s label=victim-exif\n", photo.sha,
             G.pdq);
    tu_write(f->work, "exif.list", text, strlen(text));
    char *list = tu_opath(f->work, "exif.list");
    const struct rec r2[] = {
        {G.lawful[0].b, G.lawful[0].n}, {xb, xlen}, {G.lawful[1].b, G.lawful[1].n}};
    size_t offs[3], clen = 0;
    unsigned char *cb = cache_bytes(r2, 3, offs, &clen);
    tu_write(f->root, "thumbcache_1024.db", cb, clen);
    tu_write(f->root, "DCIM/IMG_0099.jpg", xb, xlen);
    char *path = tu_opath(f->root, "thumbcache_1024.db"),
         *file = tu_opath(f->root, "DCIM/IMG_0099.jpg");
    set_mtime(path);
    char *plan = tu_opath(f->work, "plan.json"), *j = jpath("j"),
         *out = tu_opath(f->work, "w.json");
    json_t *p = scan(f->root, list, plan, true);
    const struct copy cp[] = {one_piece(&photo, offs[1]), one_piece(&G.thumb, offs[1] + to)};
    expect_embedded(p, "thumbcache_1024.db", &cp[0], "jpeg", false, photo.sha, clen);
    expect_embedded(p, "thumbcache_1024.db", &cp[1], "jpeg", true, NULL, clen);
    const json_t *whole = finding_at(p, "DCIM/IMG_0099.jpg", -1, 0);
    const struct copy inner = one_piece(&G.thumb, to);
    expect_embedded(p, "DCIM/IMG_0099.jpg", &inner, "jpeg", true, NULL, xlen);
    if (whole == NULL || nfindings(p) != 4)
        fail_msg("want the cache's two, the file and its thumbnail: %s", findings_text(p));
    struct tu_run r;
    static const char *const blanket[] = {"--erase-perceptual", "--examiner", EXAMINER, NULL};
    wipe(&r, list, j, out, plan, blanket);
    tu_expect_exit(&r, 0, "wipe of nested copies");
    json_t *res = tu_oload(out);
    size_t alen = 0;
    unsigned char *after = tu_oread(path, &alen);
    expect_copies_erased("thumbcache_1024.db", cb, clen, after, alen, cp, 2);
    expect_mtime(path, "thumbcache_1024.db");
    char outside[65];
    outside_sha(cb, clen, cp, 2, outside);
    expect_range_result(target_at(res, "thumbcache_1024.db", (long long)cp[0].pc[0].off), "jpeg",
                        &cp[0], outside, "the photo in the cache");
    expect_range_result(target_at(res, "thumbcache_1024.db", (long long)cp[1].pc[0].off), "jpeg",
                        &cp[1], outside, "its thumbnail, inside its range");
    if (access(file, F_OK) == 0)
        fail_msg("DCIM/IMG_0099.jpg, listed as a whole, is still there");
    const json_t *tf = target_at(res, "DCIM/IMG_0099.jpg", (long long)to);
    tu_expect_status(tf, "erased", "the thumbnail inside the erased file");
    printf("embedded: nested: overlapping ranges %zu+%zu and %zu+%zu erased together; the file's "
           "own thumbnail: %s, method %s\n",
           cp[0].pc[0].off, photo.n, cp[1].pc[0].off, G.thumb.n, tu_jstr(tf, "status"),
           tu_jstr(tf, "embedded.method"));
    assert_string_equal(tu_jstr(tf, "embedded.method"), "with-container");
}

/* ==== 3. deprive run, verify, show ==== */

/* deprive keygen (the keys in dir: *pub, owned, and k.sec), then deprive run of root against
 * list for order ORDER, officer, exhibit, the certificate at cert, --yes; with perceptual also
 * --examiner EXAMINER --erase-perceptual. Both must exit 0; returns the run's seconds. */
static double certify(const char *dir, const char *list, const char *root, const char *cert,
                      const char *exhibit, bool perceptual, char **pub)
{
    char *sec = tu_opath(dir, "k.sec");
    *pub = tu_opath(dir, "k.pub");
    struct tu_run r;
    tu_odeprive(&r, "keygen", "-W", "-p", *pub, "-s", sec, NULL);
    tu_expect_exit(&r, 0, "keygen");
    double t0 = tu_now();
    if (perceptual)
        tu_odeprive(&r, "run", "--hashes", list, "--key", sec, "-o", cert, "--order", ORDER,
                    "--officer", "PC Example", "--exhibit", exhibit, "--examiner", EXAMINER,
                    "--erase-perceptual", "--yes", root, NULL);
    else
        tu_odeprive(&r, "run", "--hashes", list, "--key", sec, "-o", cert, "--order", ORDER,
                    "--officer", "PC Example", "--exhibit", exhibit, "--yes", root, NULL);
    double secs = tu_now() - t0;
    tu_expect_exit(&r, 0, "run");
    return secs;
}

static void test_run_certify(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct cache c;
    make_cache(&c, true);
    tu_write(f->root, "thumbcache_256.db", c.b, c.n);
    size_t hb = 0, hlen = 0;
    unsigned char *http = http_entry(&G.victim, &hb, &hlen);
    tu_write(f->root, "Cache_Data/f_00a1b2", http, hlen);
    tu_write(f->root, "notes.txt", "lawful\n", 7);
    char *pub = NULL, *cert = jpath("cert.json");
    double secs = certify(jdir, G.list, f->root, cert, "EX-7", true, &pub);
    struct tu_run r;
    tu_odeprive(&r, "verify", "-p", pub, cert, NULL);
    tu_expect_exit(&r, 0, "verify");
    tu_odeprive(&r, "show", "-p", pub, cert, NULL);
    tu_expect_exit(&r, 0, "show");
    const char *shown = r.out;
    json_t *cj = tu_oload(cert);
    const json_t *targets = json_object_get(cj, "targets");
    if (json_array_size(targets) != 4)
        fail_msg("the certificate has %zu targets, want 4", json_array_size(targets));
    const struct {
        const char *name;
        size_t off, len;
        const char *kind;
    } want[] = {{"thumbcache_256.db", c.off[C_VICTIM], G.victim.n, "jpeg"},
                {"thumbcache_256.db", c.off[C_THUMB], G.thumb.n, "jpeg"},
                {"thumbcache_256.db", c.off[C_THUMB_PNG], G.thumb_png.n, "png"},
                {"Cache_Data/f_00a1b2", hb, G.victim.n, "jpeg"}};
    for (size_t k = 0; k < 4; k++) {
        const json_t *t = NULL;
        size_t i;
        const json_t *x;
        json_array_foreach(targets, i, x)
        {
            if (jint(x, "embedded.offset") == (long long)want[k].off &&
                jint(x, "embedded.length") == (long long)want[k].len)
                t = x;
        }
        if (t == NULL)
            fail_msg("the certificate has no target for %s@%zu", want[k].name, want[k].off);
        if (!json_is_true(tu_jget(t, "embedded.outside_unchanged")) ||
            strcmp(tu_jstr(t, "embedded.method"), "overwrite-range") != 0 ||
            strcmp(tu_jstr(t, "embedded.kind"), want[k].kind) != 0)
            fail_msg("the certificate's %s@%zu: embedded %s", want[k].name, want[k].off,
                     tu_dumps(json_object_get(t, "embedded")));
        char line[256];
        snprintf(line, sizeof(line),
                 "embedded %s stream: bytes %zu-%zu of the container; overwrite-range; outside "
                 "the range unchanged (SHA-256)",
                 want[k].kind, want[k].off, want[k].off + want[k].len - 1);
        if (strstr(shown, line) == NULL)
            fail_msg("deprive show lacks \"%s\":\n%s", line, shown);
    }
    const char *emb = strstr(shown, "embedded jpeg stream");
    printf("embedded: run: certified in %.2f s, verify OK; show: \"%.*s\"\n", secs,
           (int)strcspn(emb, "\n"), emb);
    expect_no_findings(f->root, tu_opath(f->work, "after.json"), true, "after the run");
}

/* A copy stored in pieces (the victim's blob across SQLite overflow pages) certified: the
 * certificate names every piece, verify accepts it, and deprive show does not describe it as
 * one contiguous range - the bytes between the pieces (the page links, other pages) were not
 * overwritten. The show text is held to the convention of the location text (json.c): the
 * first piece's bytes, then how many more pieces. */
static void test_run_pieces(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    need_sqlite();
    static const char *const names[] = {"lawful", "victim"};
    const struct robust_file *blobs[] = {&G.lawful_small, &G.victim};
    size_t dlen = 0;
    unsigned char *db = sqlite_db(f->work, "thumbs.db", names, blobs, 2, &dlen);
    tu_write(f->root, "thumbs.db", db, dlen);
    const struct copy vdb = blob_pieces(db, dlen, &G.victim);
    char *pub = NULL, *cert = jpath("cert.json");
    certify(jdir, G.list, f->root, cert, "EX-9", false, &pub);
    struct tu_run r;
    size_t alen = 0;
    unsigned char *after = tu_oread(tu_opath(f->root, "thumbs.db"), &alen);
    expect_copies_erased("thumbs.db", db, dlen, after, alen, &vdb, 1);
    char *ic = sql(tu_opath(f->root, "thumbs.db"), "PRAGMA integrity_check");
    assert_string_equal(ic, "ok\n");
    tu_odeprive(&r, "verify", "-p", pub, cert, NULL);
    tu_expect_exit(&r, 0, "verify");
    json_t *cj = tu_oload(cert);
    const json_t *t = json_array_get(json_object_get(cj, "targets"), 0);
    assert_int_equal(json_array_size(json_object_get(cj, "targets")), 1);
    if (!json_is_true(tu_jget(t, "embedded.outside_unchanged")) ||
        json_array_size(tu_jget(t, "embedded.ranges")) != vdb.np)
        fail_msg("the certificate's target: embedded %s, want %zu pieces",
                 tu_dumps(json_object_get(t, "embedded")), vdb.np);
    tu_odeprive(&r, "show", "-p", pub, cert, NULL);
    tu_expect_exit(&r, 0, "show");
    const char *line = strstr(r.out, "embedded jpeg stream");
    assert_non_null(line);
    char shown[512], wrong[64], first[64];
    snprintf(shown, sizeof(shown), "%.*s", (int)strcspn(line, "\n"), line);
    snprintf(wrong, sizeof(wrong), "bytes %zu-%zu ", vdb.pc[0].off, vdb.pc[0].off + G.victim.n - 1);
    snprintf(first, sizeof(first), "bytes %zu-%zu", vdb.pc[0].off,
             vdb.pc[0].off + vdb.pc[0].len - 1);
    printf("embedded: run pieces: %zu pieces erased, verify OK; show: \"%s\"\n", vdb.np, shown);
    if (strstr(shown, wrong) != NULL || strstr(shown, first) == NULL ||
        strstr(shown, "pieces") == NULL)
        fail_msg("deprive show describes the %zu-piece copy as \"%s\": that span was not "
                 "overwritten as a whole (only its %zu pieces were; the page links between them "
                 "were kept); want the first piece (\"%s\") and the number of pieces",
                 vdb.np, shown, vdb.np, first);
}

/* ==== 4. loop-mounted filesystems: the raw device ==== */

static void test_loop(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    bool sq = tu_have("sqlite3");
    if (!sq)
        printf("embedded: %s: sqlite3 not installed: no database on the image\n", f->label);
    /* containers: the cache (the victim, two perceptual thumbnails), a PDF (the victim), a
     * database (the small thumbnail in a page, the victim across overflow pages) */
    struct cache c;
    make_cache(&c, false);
    size_t pv = 0, pl = 0, plen = 0;
    unsigned char *pdf = pdf_bytes(&G.victim, &G.lawful[1], &pv, &pl, &plen);
    size_t dlen = 0;
    unsigned char *db = NULL;
    struct copy cdb[2];
    if (sq) {
        static const char *const names[] = {"lawful", "small", "victim", "note"};
        const struct robust_file note = {.b = (const unsigned char *)"remember the milk", .n = 17};
        const struct robust_file *blobs[] = {&G.lawful_small, &G.small, &G.victim, &note};
        db = sqlite_db(f->work, "thumbs.db", names, blobs, 4, &dlen);
        cdb[0] = one_piece(&G.small, offset_of(db, dlen, &G.small, "thumbs.db"));
        cdb[1] = blob_pieces(db, dlen, &G.victim);
    }
    tu_write(f->root, "Users/a/thumbcache_256.db", c.b, c.n);
    tu_write(f->root, "Users/a/statement.pdf", pdf, plen);
    if (sq)
        tu_write(f->root, "Users/a/thumbs.db", db, dlen);
    /* files that match nothing */
    char *other = tu_opath(f->root, "other");
    tu_write(f->root, "other/holiday.jpg", G.lawful[2].b, G.lawful[2].n);
    tu_write(f->root, "other/logo.png", G.lawful_png.b, G.lawful_png.n);
    tu_write(f->root, "other/notes.txt", "minutes of the meeting\n", 23);
    size_t lp_a = 0, lp_b = 0, lplen = 0;
    unsigned char *lpdf = pdf_bytes(&G.lawful[0], &G.lawful[2], &lp_a, &lp_b, &lplen);
    tu_write(f->root, "other/brochure.pdf", lpdf, lplen);
    if (sq) {
        static const char *const ln[] = {"a", "b"};
        const struct robust_file *lb[] = {&G.lawful_small, &G.lawful[0]};
        size_t ldlen = 0;
        unsigned char *ldb = sqlite_db(f->work, "lawful.db", ln, lb, 2, &ldlen);
        tu_write(f->root, "other/lawful.db", ldb, ldlen);
    }
    char *fp0 = tu_own(tu_fingerprint(other));
    /* the probes: windows of each copy that no lawful image on the device holds */
    struct buf lw = {0};
    const struct robust_file *lawful[] = {&G.lawful[0], &G.lawful[1], &G.lawful[2], &G.lawful_png,
                                          &G.lawful_small};
    for (size_t k = 0; k < sizeof(lawful) / sizeof(lawful[0]); k++)
        put(&lw, lawful[k]->b, lawful[k]->n);
    size_t lwn = 0;
    unsigned char *lwb = done(&lw, &lwn);
    struct fu_probes prv, prt, prp, prs;
    probes_pick(&prv, G.victim.b, G.victim.n, lwb, lwn);
    probes_pick(&prt, G.thumb.b, G.thumb.n, lwb, lwn);
    probes_pick(&prp, G.thumb_png.b, G.thumb_png.n, lwb, lwn);
    probes_pick(&prs, G.small.b, G.small.n, lwb, lwn);

    /* control: the image holds every copy's bytes before */
    size_t ilen = 0;
    unsigned char *img = fu_image_bytes(&f->fs, &ilen);
    size_t v0 = fu_probes_in(&prv, img, ilen), t0 = fu_probes_in(&prt, img, ilen),
           p0 = fu_probes_in(&prp, img, ilen), s0 = sq ? fu_probes_in(&prs, img, ilen) : 0;
    free(img);
    if (!tu_fs_mount(&f->fs, false))
        fail_msg("%s: cannot mount the image again", f->label);
    printf("embedded: %s: before: victim %zu/%d, thumbnail %zu/%d, PNG %zu/%d, small %zu/%d "
           "windows in the image\n",
           f->label, v0, PROBES, t0, PROBES, p0, PROBES, s0, sq ? PROBES : 0);
    assert_int_equal(v0 + t0 + p0, 3 * PROBES);
    if (sq)
        assert_int_equal(s0, PROBES);

    char *pub = NULL, *cert = tu_opath(f->work, "cert.json");
    double secs = certify(f->work, G.list_small, f->root, cert, "EX-8", true, &pub);
    json_t *cj = tu_oload(cert);
    size_t ntargets = json_array_size(json_object_get(cj, "targets"));
    size_t want = 3 + 1 + (sq ? 2 : 0);
    if (ntargets != want)
        fail_msg("%s: the certificate has %zu targets, want %zu", f->label, ntargets, want);
    size_t i;
    const json_t *t;
    int mtimes = 0;
    json_array_foreach(json_object_get(cj, "targets"), i, t)
    {
        if (!json_is_true(tu_jget(t, "embedded.outside_unchanged")))
            fail_msg("%s: target %zu: embedded %s", f->label, i,
                     tu_dumps(json_object_get(t, "embedded")));
        mtimes += json_is_true(tu_jget(t, "embedded.mtime_restored"));
    }
    /* each container: byte-identical outside its ranges, no window of its copies inside */
    size_t alen = 0;
    unsigned char *after = tu_oread(tu_opath(f->root, "Users/a/thumbcache_256.db"), &alen);
    const struct copy cc[] = {one_piece(&G.victim, c.off[C_VICTIM]),
                              one_piece(&G.thumb, c.off[C_THUMB]),
                              one_piece(&G.thumb_png, c.off[C_THUMB_PNG])};
    expect_copies_erased("thumbcache_256.db", c.b, c.n, after, alen, cc, 3);
    after = tu_oread(tu_opath(f->root, "Users/a/statement.pdf"), &alen);
    const struct copy cpdf = one_piece(&G.victim, pv);
    expect_copies_erased("statement.pdf", pdf, plen, after, alen, &cpdf, 1);
    if (sq) {
        after = tu_oread(tu_opath(f->root, "Users/a/thumbs.db"), &alen);
        expect_copies_erased("thumbs.db", db, dlen, after, alen, cdb, 2);
        tu_write(f->work, "check.db", after, alen); /* checked off the image */
        char *ic = sql(tu_opath(f->work, "check.db"), "PRAGMA integrity_check");
        if (strcmp(ic, "ok\n") != 0)
            fail_msg("%s: thumbs.db: integrity_check says %s", f->label, ic);
    }
    char *fp1 = tu_own(tu_fingerprint(other));
    if (strcmp(fp0, fp1) != 0)
        fail_msg("%s: files that match nothing changed:\nbefore:\n%s\nafter:\n%s", f->label, fp0,
                 fp1);
    /* the raw image */
    img = fu_image_bytes(&f->fs, &ilen);
    size_t v1 = fu_probes_in(&prv, img, ilen), t1 = fu_probes_in(&prt, img, ilen),
           p1 = fu_probes_in(&prp, img, ilen), s1 = sq ? fu_probes_in(&prs, img, ilen) : 0;
    free(img);
    printf("embedded: %s: run in %.2f s, %zu targets (mtime restored on %d); after: victim "
           "%zu/%d, thumbnail %zu/%d, PNG %zu/%d, small %zu/%d windows in the raw image\n",
           f->label, secs, ntargets, mtimes, v1, PROBES, t1, PROBES, p1, PROBES, s1,
           sq ? PROBES : 0);
    if (v1 + t1 + p1 + s1 != 0)
        fail_msg("%s: the raw image still holds windows of the copies: victim %zu, thumbnail "
                 "%zu, PNG %zu, small %zu",
                 f->label, v1, t1, p1, s1);
}

/* ==== 5. SIGKILL at each journal step, then --resume ==== */

struct killpoint {
    const char *record; /* the journal record ... */
    int after;          /* ... 0: at its own fdatasync; 1: at the next sync after it */
    const char *what;
    bool container; /* --embedded=wipe-container */
};

static const struct killpoint kp_begin = {"embedded-begin", 0, "after embedded-begin", false};
static const struct killpoint kp_owbegin = {"overwrite-begin", 0, "after overwrite-begin", false};
static const struct killpoint kp_owmid = {
    "overwrite-begin", 1, "ranges overwritten, at their fdatasync (before overwrite-done)", false};
static const struct killpoint kp_owdone = {"overwrite-done", 0, "after overwrite-done", false};
static const struct killpoint kp_done1 = {"target-done", 0, "after the first copy's target-done",
                                          false};
static const struct killpoint kp_c_owbegin = {"overwrite-begin", 0,
                                              "wipe-container: after overwrite-begin", true};
static const struct killpoint kp_c_done1 = {
    "target-done", 0, "wipe-container: after the first copy's target-done", true};

/* Two copies of the victim in one cache entry file: removed together, killed at a journal
 * step, finished by --resume. */
static void test_kill_resume(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    const struct killpoint *k = f->param;
    struct buf b = {0};
    puts_(&b, "HTTP/1.1 200 OK\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\n\r\n");
    size_t o1 = b.len;
    put(&b, G.victim.b, G.victim.n);
    puts_(&b, "\r\n--x\r\n\r\n");
    size_t o2 = b.len;
    put(&b, G.victim.b, G.victim.n);
    puts_(&b, "\r\n--x--\r\n");
    size_t clen = 0;
    unsigned char *cb = done(&b, &clen);
    tu_write(f->root, "f_0bad", cb, clen);
    tu_write(f->root, "notes.txt", "lawful\n", 7);
    char *path = tu_opath(f->root, "f_0bad");
    set_mtime(path);
    char *plan = tu_opath(f->work, "plan.json"), *journal = jpath("journal"),
         *out = tu_opath(f->work, "wipe.json"), *log = tu_opath(f->work, "wipe.log");
    json_t *p = scan(f->root, G.list, plan, true);
    const struct copy cv[] = {one_piece(&G.victim, o1), one_piece(&G.victim, o2)};
    expect_embedded(p, "f_0bad", &cv[0], "jpeg", false, G.victim.sha, clen);
    expect_embedded(p, "f_0bad", &cv[1], "jpeg", false, G.victim.sha, clen);
    assert_int_equal(nfindings(p), 2);
    static const char *const whole[] = {"--embedded=wipe-container", NULL};
    struct tu_wipe_args wa = {.order = ORDER,
                              .list = G.list,
                              .journal = journal,
                              .out = out,
                              .plan = plan,
                              .extra = k->container ? whole : NULL,
                              .journal_on_same_fs = no_journal_same_fs};
    char *argv[32], at[128];
    tu_wipe_argv(argv, 32, &wa);
    fu_kill_at("embedded", argv, log, journal, k->record, k->after, k->what, at, sizeof(at));
    size_t mlen = 0;
    unsigned char *mid = access(path, F_OK) == 0 ? tu_oread(path, &mlen) : NULL;
    if (mid != NULL)
        printf("embedded: kill %s: killed (%s); windows of the victim left in the ranges: %zu, "
               "%zu\n",
               k->what, at, fu_all_windows_in(G.victim.b, G.victim.n, mid + o1, G.victim.n),
               fu_all_windows_in(G.victim.b, G.victim.n, mid + o2, G.victim.n));
    else
        printf("embedded: kill %s: killed (%s); the container is gone\n", k->what, at);
    wa.resume = true;
    struct tu_run r;
    tu_owipe(&r, &wa);
    json_t *res = r.status <= 1 ? json_load_file(out, 0, NULL) : NULL;
    if (res != NULL)
        tu_ownj(res);
    const json_t *t1 = res ? target_at(res, "f_0bad", (long long)o1) : NULL,
                 *t2 = res ? target_at(res, "f_0bad", (long long)o2) : NULL;
    printf("embedded: kill %s: --resume exit %d; first copy %s (%s), second copy %s (%s)\n",
           k->what, r.status, t1 ? tu_jstr(t1, "status") : "-", t1 ? tu_jstr(t1, "reason") : "",
           t2 ? tu_jstr(t2, "status") : "-", t2 ? tu_jstr(t2, "reason") : "");
    struct jcount jc = journal_counts(journal);
    printf("embedded: kill %s: journal: %zu records, %zu embedded-begin, %zu overwrite-begin, "
           "%zu overwrite-done, %zu target-done\n",
           k->what, jc.records, jc.begin, jc.ow_begin, jc.ow_done, jc.done);
    if (k->container) {
        if (access(path, F_OK) == 0)
            fail_msg("kill %s: the container is still there after --resume", k->what);
        if (r.status != 0)
            fail_msg("kill %s: --resume exit %d, want 0 (both copies erased with the "
                     "container)\nstderr: %.2000s",
                     k->what, r.status, r.err);
        tu_expect_status(t1, "erased", "the first copy after --resume");
        tu_expect_status(t2, "erased", "the second copy after --resume");
        assert_string_equal(tu_jstr(t1, "embedded.method"), "wipe-container");
        assert_string_equal(tu_jstr(t2, "embedded.method"), "wipe-container");
        assert_int_equal(jc.done, 2);
        return;
    }
    size_t alen = 0;
    unsigned char *after = tu_oread(path, &alen);
    expect_copies_erased("f_0bad after --resume", cb, clen, after, alen, cv, 2);
    expect_mtime(path, "f_0bad after --resume");
    if (r.status != 0)
        fail_msg("kill %s: --resume exit %d, want 0 (both copies erased)\nstderr: %.2000s", k->what,
                 r.status, r.err);
    char outside[65];
    outside_sha(cb, clen, cv, 2, outside);
    expect_range_result(t1, "jpeg", &cv[0], outside, "the first copy after --resume");
    expect_range_result(t2, "jpeg", &cv[1], outside, "the second copy after --resume");
    assert_int_equal(jc.done, 2);
}

/* ==== the suite ==== */

static struct fu_fx fx_find = {.label = "find"};
static struct fu_fx fx_find_sqlite = {.label = "find sqlite"};
static struct fu_fx fx_cache = {.label = "cache"};
static struct fu_fx fx_sqlite = {.label = "sqlite"};
static struct fu_fx fx_cross = {.label = "sqlite cross-page"};
static struct fu_fx fx_policies = {.label = "policies"};
static struct fu_fx fx_sidecars = {.label = "sidecars"};
static struct fu_fx fx_changed = {.label = "changed"};
static struct fu_fx fx_nested = {.label = "nested"};
static struct fu_fx fx_run = {.label = "run"};
static struct fu_fx fx_run_pieces = {.label = "run pieces"};
static struct fu_fx fx_ext4 = {.label = "ext4", .fstype = "ext4"};
static struct fu_fx fx_vfat = {.label = "vfat", .fstype = "vfat"};
static struct fu_fx fx_ntfs = {.label = "ntfs", .fstype = "ntfs"};
#define KP(id, kp) static struct fu_fx id = {.label = "kill", .param = &kp}
KP(fx_k_begin, kp_begin);
KP(fx_k_owbegin, kp_owbegin);
KP(fx_k_owmid, kp_owmid);
KP(fx_k_owdone, kp_owdone);
KP(fx_k_done1, kp_done1);
KP(fx_k_c_owbegin, kp_c_owbegin);
KP(fx_k_c_done1, kp_c_done1);

#define T(name, fn, fx)                                                                            \
    {                                                                                              \
        name, fn, efx_setup, efx_teardown, &fx                                                     \
    }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        T("find_in_containers", test_find, fx_find),
        T("find_in_sqlite", test_find_sqlite, fx_find_sqlite),
        T("wipe_cache_ranges", test_wipe_cache, fx_cache),
        T("wipe_sqlite_blob", test_wipe_sqlite, fx_sqlite),
        T("wipe_sqlite_cross_page", test_wipe_sqlite_cross_page, fx_cross),
        T("wipe_policies", test_wipe_policies, fx_policies),
        T("wipe_sqlite_sidecars", test_wipe_sidecars, fx_sidecars),
        T("wipe_changed_since_scan", test_wipe_changed, fx_changed),
        T("wipe_nested_copies", test_wipe_nested, fx_nested),
        T("run_verify_show", test_run_certify, fx_run),
        T("run_show_pieces", test_run_pieces, fx_run_pieces),
        T("loop_ext4", test_loop, fx_ext4),
        T("loop_vfat", test_loop, fx_vfat),
        T("loop_ntfs", test_loop, fx_ntfs),
        T("kill_after_embedded_begin", test_kill_resume, fx_k_begin),
        T("kill_after_overwrite_begin", test_kill_resume, fx_k_owbegin),
        T("kill_during_overwrite", test_kill_resume, fx_k_owmid),
        T("kill_after_overwrite_done", test_kill_resume, fx_k_owdone),
        T("kill_after_first_target_done", test_kill_resume, fx_k_done1),
        T("kill_container_after_overwrite_begin", test_kill_resume, fx_k_c_owbegin),
        T("kill_container_after_first_target_done", test_kill_resume, fx_k_c_done1),
    };
    /* DP_TEST_FILTER=kill_* runs some */
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests_name("embedded", tests, NULL, iset_group_teardown);
}
