/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the raw sweep (`deprive sweep`, src/scan/sweep.c) through the CLI. The
 * victim's photo (a robust.c scene, JPEG, ~100 KB) is listed by `deprive hash` (MD5, SHA-1,
 * SHA-256, size, PDQ), and two small copies of it (40x30 JPEG, 12x9 PNG) by SHA-256;
 * thumbnails of it (JPEG, PNG, BMP) are its perceptual copies; other scenes are lawful.
 *
 * 1. A raw image file of random bytes with those planted at known odd offsets (across the 4 MiB
 *    read pieces and the 8 MiB cache-drop boundaries, one copy ending at the last byte): the
 *    exact copies and the thumbnails are reported at their exact offsets and lengths, nothing
 *    else, a copy cut short is not; every byte is swept; the file keeps its bytes, mtime,
 *    atime and ctime.
 * 2. Loop-mounted ext4, vfat, exfat, ntfs, xfs and btrfs images (root only): the victim, a
 *    second copy, thumbnails, the small copies and lawful images written, some removed with
 *    plain rm, unmounted. The oracle is the image itself: every place the whole bytes of a
 *    listed image lie must be reported, each reported range read back must hold those bytes,
 *    and nothing else may be reported; FIEMAP/FIBMAP (where given) name which file was where,
 *    and a table per filesystem says what was found and why not (btrfs inlines the small
 *    copies in DUP metadata: found at every place; ntfs keeps the 12x9 PNG resident in an MFT
 *    record whose update sequence changes two of its bytes on disk: nowhere whole, not
 *    reported). The loop device swept too (same matches, its SHA-256 unchanged); ext4 also
 *    while mounted -o ro,noload and through a read-only loop device.
 * 3. EWF: ewfacquire of the ext4 image (of the raw image without root) into a split set with
 *    case fields: the same matches, the stored hashes verified, the case fields; a missing or
 *    truncated segment, a later segment given first: exit 2 with a message. A damaged chunk
 *    (a self-locating tagged medium): named by its sectors, never "verified".
 * 4. Hostile and edge sources: empty, a directory, a FIFO, a character device, missing; 50 MB
 *    of "BM" and of FF D8 FF E0; a flood of candidates near the end; a source packed with
 *    small genuine images; the report written over the source itself.
 *
 * Three tests show product bugs and fail until they are fixed (docs/sweep.md, "Known
 * problems"): ewf_damaged_chunk, dense_small_images, report_over_source.
 *
 * DP_TEST_FILTER=loop_* runs some tests. */
#include "testutil.h"
#include "fsutil.h"
#include "imageset.h"
#include "robust.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "deprive/util.h"

#define T0 1600000000
#define MIB ((size_t)1 << 20)
#define CASE_NUMBER "CASE-2024-0917"
#define EVIDENCE_NUMBER "EX-12/HDD-1"
#define EXAMINER "DC Sweep"
#define DESCRIPTION "ext4 test image, two victim copies"
#define NOTES "acquired for tests/test_sweep.c"

/* MD5 or SHA-1 of a file as lower-case hex (EVP). */
static void evp_file_hex(const char *path, const EVP_MD *md, char *out)
{
    size_t n = 0;
    unsigned char *b = tu_oread(path, &n);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    assert_int_equal(EVP_Digest(b, n, d, &dl, md, NULL), 1);
    dp_hex_encode(out, d, dl);
}

/* ---- the images: made once, kept for the whole suite ---- */

#define TINY 4

static struct images {
    struct iset set;
    /* 800x600 JPEG q95, listed (MD5, SHA-1, SHA-256, size, PDQ) */
    struct robust_file victim;
    struct robust_file thumb_jpg; /* the victim at 160x120, JPEG q85: a perceptual copy */
    struct robust_file thumb_png; /* the same pixels as PNG */
    struct robust_file thumb_bmp; /* and as a 24-bit BMP */
    /* the victim at 40x30, JPEG q75 (~1 KB), listed by its SHA-256: small enough for btrfs to
       inline in its metadata */
    struct robust_file wee;
    /* the victim at 12x9, PNG (~500 bytes), listed by its SHA-256: small enough for ntfs to keep
       resident in the file's MFT record */
    struct robust_file mini;
    struct robust_file lawful[3];  /* unrelated scenes, 320x240 JPEG q85 */
    struct robust_file lawful_png; /* unrelated, 120x90 PNG */
    struct robust_file lawful_bmp; /* unrelated, 100x80 BMP */
    /* unrelated, 48x36 JPEG q80 (~1.5 KB): a thumbnail cache's kind */
    struct robust_file tiny[TINY];
    const char *list; /* `deprive hash --label victim` of the victim */
} G;

static bool make_images(void)
{
    const struct iset_file spec[] = {
        {&G.victim, "victim.jpg", 0, 0, 95, ISET_SOURCE},
        {&G.thumb_jpg, "thumb.jpg", 160, 120, 85, ISET_SOURCE},
        {&G.thumb_png, "thumb.png", 160, 120, 0, ISET_SOURCE},
        {&G.thumb_bmp, "thumb.bmp", 160, 120, -1, ISET_SOURCE},
        {&G.wee, "wee.jpg", 40, 30, 75, ISET_SOURCE},
        {&G.mini, "mini.png", 12, 9, 0, ISET_SOURCE},
        {&G.lawful[0], "lawful0.jpg", 320, 240, 85, 7001},
        {&G.lawful[1], "lawful1.jpg", 320, 240, 85, 7002},
        {&G.lawful[2], "lawful2.jpg", 320, 240, 85, 7003},
        {&G.tiny[0], "tiny0.jpg", 48, 36, 80, 9101},
        {&G.tiny[1], "tiny1.jpg", 48, 36, 80, 9102},
        {&G.tiny[2], "tiny2.jpg", 48, 36, 80, 9103},
        {&G.tiny[3], "tiny3.jpg", 48, 36, 80, 9104},
        {&G.lawful_png, "lawful.png", 120, 90, 0, 7101},
        {&G.lawful_bmp, "lawful.bmp", 100, 80, -1, 7301},
    };
    if (!iset_make(&G.set, "sweep", 800, 600, 4242, spec, sizeof(spec) / sizeof(spec[0])))
        return false;
    /* the victim's list as whoever holds the photo makes it, and the small copies by SHA-256 */
    char *hashes = iset_hash(&G.set, "victim", G.victim.sha, "victim.jpg", NULL);
    if (hashes == NULL)
        return false;
    char *text = tu_ostr("%ssha256:%s label=victim-40px\nsha256:%s label=victim-12px\n", hashes,
                         G.wee.sha, G.mini.sha);
    free(hashes);
    G.list = iset_write(&G.set, "victim.list", text);
    printf("sweep: images: victim %dx%d %zu bytes; thumbnails JPEG %zu, PNG %zu, BMP %zu; "
           "40px %zu, 12px %zu; "
           "lawful %zu/%zu/%zu, PNG %zu, BMP %zu, tiny %zu-%zu\n",
           G.victim.w, G.victim.h, G.victim.n, G.thumb_jpg.n, G.thumb_png.n, G.thumb_bmp.n, G.wee.n,
           G.mini.n, G.lawful[0].n, G.lawful[1].n, G.lawful[2].n, G.lawful_png.n, G.lawful_bmp.n,
           G.tiny[0].n, G.tiny[3].n);
    return true;
}

static void need_images(void)
{
    iset_need(&G.set, make_images);
}

static bool is_listed(const struct robust_file *im)
{
    return im == &G.victim || im == &G.wee || im == &G.mini || im == &G.thumb_jpg ||
           im == &G.thumb_png || im == &G.thumb_bmp;
}

/* Listed by its own digest (else only perceptually). */
static bool is_exact(const struct robust_file *im)
{
    return im == &G.victim || im == &G.wee || im == &G.mini;
}

/* ---- the fixture (fsutil.h): a work directory and, for the loop cases, a loop-mounted image;
 * dev a read-only loop device a test attaches ---- */

static int sfx_setup(void **state)
{
    return fu_fx_setup(state, "sweep", 64);
}

/* ---- running the sweep ---- */

/* `deprive sweep --hashes LIST -o work/name src`: exit 0, the report (owned). */
static json_t *sweep(const char *work, const char *src, const char *name, double *secs,
                     char **summary)
{
    char *out = tu_opath(work, name);
    struct tu_run r;
    double t = tu_now();
    tu_deprive(&r, NULL, "sweep", "--hashes", G.list, "-o", out, src, NULL);
    if (secs != NULL)
        *secs = tu_now() - t;
    if (r.status != 0) {
        char msg[2048];
        snprintf(msg, sizeof(msg), "sweep %s: exit %d\nstdout: %s\nstderr: %s", src, r.status,
                 r.out, r.err);
        tu_run_free(&r);
        fail_msg("%s", msg);
    }
    if (summary != NULL)
        *summary = tu_own(strdup(r.out));
    tu_run_free(&r);
    json_t *doc = tu_oload(out);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), "deprive-sweep-report");
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
    return doc;
}

/* b (n bytes) written as work/name and swept as sweep() does, the report work/name.json. */
static json_t *sweep_bytes(const char *work, const char *name, const void *b, size_t n,
                           double *secs)
{
    char *p = tu_opath(work, name);
    tu_write_file(p, b, n);
    return sweep(work, p, tu_ostr("%s.json", name), secs, NULL);
}

static long long jint(const json_t *o, const char *dotted)
{
    const json_t *v = tu_jget(o, dotted);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", dotted);
    return (long long)json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *dotted)
{
    const json_t *v = tu_jget(o, dotted);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *nz(const char *s)
{
    return s != NULL ? s : "";
}

/* The matches as "kind@offset+length[P]" (P: perceptual only), owned. */
static char *matches_text(const json_t *doc)
{
    char buf[4096];
    size_t used = 0, i;
    const json_t *m;
    buf[0] = '\0';
    json_array_foreach(json_object_get(doc, "matches"), i, m)
    {
        int n = snprintf(buf + used, sizeof(buf) - used, "%s%s@%lld+%lld%s", i ? " " : "",
                         jstr(m, "embedded.kind"), jint(m, "embedded.offset"),
                         jint(m, "embedded.length"),
                         json_is_true(json_object_get(m, "perceptual_only")) ? "P" : "");
        if (n < 0 || (size_t)n >= sizeof(buf) - used)
            break;
        used += (size_t)n;
    }
    return tu_own(strdup(buf));
}

/* A match expected: the bytes of im at off. */
struct want {
    uint64_t off;
    const struct robust_file *im;
};

static int want_cmp(const void *a, const void *b)
{
    const struct want *x = a, *y = b;
    return (x->off > y->off) - (x->off < y->off);
}

static char *wants_text(const struct want *w, size_t n)
{
    char buf[4096];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int k =
            snprintf(buf + used, sizeof(buf) - used, "%s%s@%llu+%zu%s", i ? " " : "", w[i].im->kind,
                     (unsigned long long)w[i].off, w[i].im->n, is_exact(w[i].im) ? "" : "P");
        if (k < 0 || (size_t)k >= sizeof(buf) - used)
            break;
        used += (size_t)k;
    }
    return tu_own(strdup(buf));
}

/* doc's matches are exactly w[0..n) in that order: ids, location (key: "image" or "device",
 * path), embedded range and kind, SHA-256 of the planted bytes, exact (the victim: SHA-256 in
 * matched[]) or perceptual only (the thumbnails: only pdq entries, a distance within 31). */
static void expect_matches(const json_t *doc, const char *key, const char *path,
                           const struct want *w, size_t n, const char *label)
{
    const json_t *ms = json_object_get(doc, "matches");
    if (json_array_size(ms) != n || jint(doc, "totals.matches") != (long long)n)
        fail_msg("%s: %zu matches (totals %lld): %s\nwant %zu: %s", label, json_array_size(ms),
                 jint(doc, "totals.matches"), matches_text(doc), n, wants_text(w, n));
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(ms, i);
        const struct robust_file *im = w[i].im;
        bool exact = is_exact(im);
        char id[32];
        snprintf(id, sizeof(id), "R%zu", i + 1);
        const json_t *loc = json_object_get(m, "location");
        if (jstr(m, "id") == NULL || strcmp(jstr(m, "id"), id) != 0 || json_array_size(loc) != 2 ||
            strcmp(nz(json_string_value(json_object_get(json_array_get(loc, 0), key))), path) !=
                0 ||
            jint(json_array_get(loc, 1), "offset") != (long long)w[i].off ||
            jint(json_array_get(loc, 1), "length") != (long long)im->n ||
            jint(m, "embedded.offset") != (long long)w[i].off ||
            jint(m, "embedded.length") != (long long)im->n ||
            strcmp(nz(jstr(m, "embedded.kind")), im->kind) != 0 ||
            strcmp(nz(jstr(m, "digests.sha256")), im->sha) != 0 ||
            json_is_true(json_object_get(m, "perceptual_only")) == exact)
            fail_msg("%s: match %zu is %s\nwant %s (%s at %llu, %zu bytes, sha256 %s, %s)", label,
                     i, tu_dumps(m), id, im->name, (unsigned long long)w[i].off, im->n, im->sha,
                     exact ? "exact" : "perceptual only");
        bool sha_exact = false, pdq_ok = false, other = false;
        size_t k;
        const json_t *mm;
        json_array_foreach(json_object_get(m, "matched"), k, mm)
        {
            const char *algo = jstr(mm, "algo"), *method = jstr(mm, "method");
            if (algo != NULL && strcmp(algo, "sha256") == 0 && strcmp(nz(method), "exact") == 0)
                sha_exact = true;
            else if (algo != NULL && strcmp(algo, "pdq") == 0)
                pdq_ok = jint(mm, "distance") <= 31;
            else if (strcmp(nz(method), "exact") != 0)
                other = true;
            if (strcmp(nz(jstr(mm, "list")), G.list) != 0)
                other = true;
        }
        if (other || (exact && !sha_exact) || (!exact && (sha_exact || !pdq_ok)) ||
            (!exact && !json_is_object(json_object_get(m, "pdq"))))
            fail_msg("%s: match %zu (%s) matched %s", label, i, im->name,
                     tu_dumps(json_object_get(m, "matched")));
    }
}

/* The report's fixed parts for a source of size bytes. */
static void expect_common(const json_t *doc, const char *path, const char *kind, uint64_t size,
                          const char *label)
{
    if (strcmp(nz(jstr(doc, "source.path")), path) != 0 ||
        strcmp(nz(jstr(doc, "source.kind")), kind) != 0 ||
        jint(doc, "source.size") != (long long)size ||
        jint(doc, "totals.bytes_swept") != (long long)size)
        fail_msg("%s: source %s, bytes_swept %lld; want %s, %s, %llu bytes all swept", label,
                 tu_dumps(json_object_get(doc, "source")), jint(doc, "totals.bytes_swept"), path,
                 kind, (unsigned long long)size);
    assert_true(json_is_true(tu_jget(doc, "scope.contiguous_only")));
    assert_true(json_is_true(tu_jget(doc, "scope.perceptual.used")));
    assert_int_equal(jint(doc, "scope.perceptual.threshold"), 31);
    assert_non_null(strstr(nz(jstr(doc, "scope.statement")), "HPA/DCO"));
    assert_int_equal(json_array_size(tu_jget(doc, "scope.formats")), 5);
    assert_string_equal(jstr(json_array_get(json_object_get(doc, "hash_lists"), 0), "file"),
                        G.list);
}

/* Two reports' matches are the same streams (ranges, kinds, digests, exact or not). */
static void expect_same_matches(const json_t *a, const json_t *b, const char *label)
{
    const json_t *ma = json_object_get(a, "matches"), *mb = json_object_get(b, "matches");
    bool same = json_array_size(ma) == json_array_size(mb);
    for (size_t i = 0; same && i < json_array_size(ma); i++) {
        const json_t *x = json_array_get(ma, i), *y = json_array_get(mb, i);
        same = json_equal(json_object_get(x, "embedded"), json_object_get(y, "embedded")) &&
               json_equal(json_object_get(x, "digests"), json_object_get(y, "digests")) &&
               json_equal(json_object_get(x, "perceptual_only"),
                          json_object_get(y, "perceptual_only"));
    }
    if (!same)
        fail_msg("%s: matches %s\ndiffer from %s", label, matches_text(b), matches_text(a));
}

/* The bytes at off of the file or device at path, read back with pread, are im's. */
static void expect_bytes_at(const char *path, uint64_t off, const struct robust_file *im,
                            const char *label)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    unsigned char *b = malloc(im->n);
    assert_non_null(b);
    ssize_t got = pread(fd, b, im->n, (off_t)off);
    bool same = got == (ssize_t)im->n && memcmp(b, im->b, im->n) == 0;
    free(b);
    close(fd);
    if (!same)
        fail_msg("%s: %s at %llu does not hold the %s's %zu bytes", label, path,
                 (unsigned long long)off, im->name, im->n);
}

/* ==== 1. a raw image file ==== */

/* The random image with the planted copies; *w (10 slots) the matches it must give. */
struct raw {
    unsigned char *b;
    size_t n;
    struct want w[8];
    size_t nw;
    size_t planted; /* complete streams planted */
    uint64_t trunc_at;
};

static void plant(struct raw *r, uint64_t off, const struct robust_file *im)
{
    assert_true(off + im->n <= r->n);
    memcpy(r->b + off, im->b, im->n);
    r->planted++;
    if (is_listed(im))
        r->w[r->nw++] = (struct want){off, im};
}

/* size bytes (seeded random) holding, at odd offsets: a lawful JPEG, a lawful PNG, the victim
 * across the first 4 MiB piece boundary, a lawful BMP, the PNG thumbnail across the 8 MiB
 * cache-drop boundary, the BMP thumbnail, the victim cut short (700 bytes missing) followed by
 * zeros to the next 4 KiB and a lawful JPEG (as a file written over a deleted one's first
 * clusters), the JPEG thumbnail, a lawful JPEG, and the victim again ending at the last byte. */
static void make_raw(struct raw *r, size_t size, uint32_t seed)
{
    memset(r, 0, sizeof(*r));
    r->n = size;
    r->b = tu_own(tu_random_bytes(size, seed));
    plant(r, 1000003, &G.lawful[0]);
    plant(r, 2500001, &G.lawful_png);
    plant(r, 4 * MIB - 50001, &G.victim);
    plant(r, 6000007, &G.lawful_bmp);
    plant(r, 8 * MIB - 3001, &G.thumb_png);
    plant(r, 10000019, &G.thumb_bmp);
    r->trunc_at = 12000011;
    size_t tn = G.victim.n - 700;
    memcpy(r->b + r->trunc_at, G.victim.b, tn);
    uint64_t next = (r->trunc_at + tn + 4095) / 4096 * 4096;
    memset(r->b + r->trunc_at + tn, 0, next - r->trunc_at - tn);
    plant(r, next, &G.lawful[1]);
    plant(r, 14 * MIB + 12345, &G.thumb_jpg);
    plant(r, 16000037, &G.lawful[2]);
    plant(r, size - G.victim.n, &G.victim);
    qsort(r->w, r->nw, sizeof(r->w[0]), want_cmp);
}

static void test_raw_image(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct raw raw;
    const size_t size = 20 * MIB + 777;
    make_raw(&raw, size, 31337);
    char *img = tu_opath(f->work, "disk.raw");
    tu_write_file(img, raw.b, raw.n);
    char sha0[65];
    tu_sha256_buf(raw.b, raw.n, sha0);
    /* times in the past, atime == mtime: a read without O_NOATIME would move atime here
       (relatime) */
    struct timespec ts[2] = {{T0, 0}, {T0, 0}};
    assert_int_equal(utimensat(AT_FDCWD, img, ts, 0), 0);
    struct stat st0, st1;
    assert_int_equal(stat(img, &st0), 0);

    double secs = 0;
    char *summary = NULL;
    json_t *doc = sweep(f->work, img, "raw.json", &secs, &summary);
    assert_int_equal(stat(img, &st1), 0);
    printf("sweep: raw: %zu bytes in %.2f s: %s\n", size, secs, matches_text(doc));

    expect_common(doc, img, "image-file", size, "raw");
    assert_int_equal(jint(doc, "source.sector_size"), 512);
    assert_null(json_object_get(json_object_get(doc, "source"), "device"));
    assert_null(json_object_get(json_object_get(doc, "source"), "ewf"));
    expect_matches(doc, "image", img, raw.w, raw.nw, "raw");
    /* the truncated copy is not among them (expect_matches saw every match); every complete
       stream planted was carved, and nothing in the random bytes */
    const json_t *tm;
    size_t ti;
    json_array_foreach(json_object_get(doc, "matches"), ti, tm)
    {
        if (jint(tm, "embedded.offset") == (long long)raw.trunc_at)
            fail_msg("raw: the copy cut short at %llu was reported",
                     (unsigned long long)raw.trunc_at);
    }
    if (jint(doc, "totals.streams") != (long long)raw.planted ||
        jint(doc, "totals.candidates") < (long long)raw.planted + 1 ||
        json_is_true(tu_jget(doc, "totals.limited")) ||
        !json_is_null(tu_jget(doc, "totals.limit_detail")))
        fail_msg("raw: totals %s; want %zu streams (every complete stream planted), more "
                 "candidates (the truncated copy), no limit",
                 tu_dumps(json_object_get(doc, "totals")), raw.planted);
    /* read-only: bytes, mtime, atime (O_NOATIME), ctime */
    if (st1.st_mtim.tv_sec != T0 || st1.st_atim.tv_sec != T0 ||
        st1.st_ctim.tv_sec != st0.st_ctim.tv_sec || st1.st_ctim.tv_nsec != st0.st_ctim.tv_nsec ||
        st1.st_size != (off_t)size)
        fail_msg("raw: the image's times changed: mtime %lld atime %lld ctime %lld.%09ld (was "
                 "%lld.%09ld)",
                 (long long)st1.st_mtim.tv_sec, (long long)st1.st_atim.tv_sec,
                 (long long)st1.st_ctim.tv_sec, st1.st_ctim.tv_nsec, (long long)st0.st_ctim.tv_sec,
                 st0.st_ctim.tv_nsec);
    char sha1[65];
    assert_true(tu_sha256_hex(img, sha1));
    assert_string_equal(sha1, sha0);

    /* the summary on stdout */
    char *line = tu_ostr("R1   MATCH jpeg at byte %llu, %zu bytes",
                         (unsigned long long)raw.w[0].off, G.victim.n);
    if (strstr(summary, line) == NULL || strstr(summary, "matches: 5\n") == NULL ||
        strstr(summary, "PERCEPTUAL MATCH (needs confirmation) png at byte 8385607") == NULL ||
        strstr(summary, "source: ") != summary)
        fail_msg("raw: the summary:\n%s\nwant \"%s\", \"matches: 5\" and the PNG thumbnail as a "
                 "perceptual match",
                 summary, line);
    /* --json prints the same report */
    struct tu_run r;
    tu_deprive(&r, NULL, "sweep", "--json", "--hashes", G.list, img, NULL);
    tu_expect_exit(&r, 0, "sweep --json");
    json_error_t je;
    json_t *j = json_loads(r.out, 0, &je);
    tu_run_free(&r);
    tu_ownj(j);
    assert_true(json_equal(json_object_get(j, "matches"), json_object_get(doc, "matches")));
    assert_true(json_equal(json_object_get(j, "totals"), json_object_get(doc, "totals")));
}

/* ==== 2. loop-mounted filesystems ==== */

struct placed {
    const char *rel;
    const struct robust_file *im;
    bool deleted;
    /* FIEMAP before the deletion: the first extent's physical byte (-1: not given), extents
       (0: not given), the first extent's flags */
    long long phys;
    unsigned extents, flags;
};

#define NPLACED 11

static void placed_init(struct placed *p)
{
    const struct placed v[NPLACED] = {
        {"photos/IMG_0001.jpg", &G.victim, false, -1, 0, 0},
        {"photos/IMG_0001_small.jpg", &G.thumb_jpg, false, -1, 0, 0},
        {"photos/holiday.jpg", &G.lawful[0], false, -1, 0, 0},
        {"photos/logo.png", &G.lawful_png, false, -1, 0, 0},
        {"Downloads/IMG_0001_1.jpg", &G.victim, true, -1, 0, 0},
        {"Downloads/thumb.png", &G.thumb_png, true, -1, 0, 0},
        {"Downloads/thumb.bmp", &G.thumb_bmp, true, -1, 0, 0},
        {"Downloads/other.jpg", &G.lawful[1], true, -1, 0, 0},
        {"Downloads/other.bmp", &G.lawful_bmp, true, -1, 0, 0},
        {"Downloads/wee.jpg", &G.wee, true, -1, 0, 0},
        {"photos/mini.png", &G.mini, false, -1, 0, 0},
    };
    memcpy(p, v, sizeof(v));
}

/* Where the file's data starts on the device: FIEMAP (ext4, xfs, btrfs - whose addresses are
 * its own logical ones), else FIBMAP (some FUSE filesystems answer it), else -1. */
static void locate(struct placed *p, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct fiemap *fm = calloc(1, sizeof(*fm) + 64 * sizeof(struct fiemap_extent));
    assert_non_null(fm);
    fm->fm_length = ~0ull;
    fm->fm_flags = FIEMAP_FLAG_SYNC;
    fm->fm_extent_count = 64;
    if (ioctl(fd, FS_IOC_FIEMAP, fm) == 0 && fm->fm_mapped_extents > 0) {
        p->phys = (long long)fm->fm_extents[0].fe_physical;
        p->extents = fm->fm_mapped_extents;
        p->flags = fm->fm_extents[0].fe_flags;
    } else {
        int bsz = 0, blk = 0;
        if (ioctl(fd, FIGETBSZ, &bsz) == 0 && bsz > 0 && ioctl(fd, FIBMAP, &blk) == 0 && blk > 0)
            p->phys = (long long)blk * bsz;
    }
    free(fm);
    close(fd);
}

/* Write the files, sync, locate them, remove the deleted ones with plain rm, sync, unmount. */
static void populate(struct tu_fs *fs, struct placed *p)
{
    placed_init(p);
    for (size_t i = 0; i < NPLACED; i++)
        tu_write(fs->mnt, p[i].rel, p[i].im->b, p[i].im->n);
    sync();
    for (size_t i = 0; i < NPLACED; i++)
        locate(&p[i], tu_opath(fs->mnt, p[i].rel));
    for (size_t i = 0; i < NPLACED; i++)
        if (p[i].deleted)
            assert_int_equal(tu_sh("rm '%s/%s'", fs->mnt, p[i].rel), 0);
    sync();
    tu_fs_umount(fs);
}

/* The matches the image must give: every place the whole bytes of a listed image lie. */
static size_t expected_in(const unsigned char *img, size_t n, struct want *w, size_t cap)
{
    const struct robust_file *listed[] = {&G.victim,    &G.wee,       &G.mini,
                                          &G.thumb_jpg, &G.thumb_png, &G.thumb_bmp};
    size_t nw = 0;
    for (size_t k = 0; k < sizeof(listed) / sizeof(listed[0]); k++) {
        uint64_t at[16];
        size_t c = fu_places(img, n, listed[k]->b, listed[k]->n, at, 16);
        assert_true(c <= 16 && nw + c <= cap);
        for (size_t i = 0; i < c; i++)
            w[nw++] = (struct want){at[i], listed[k]};
    }
    qsort(w, nw, sizeof(*w), want_cmp);
    return nw;
}

/* Where im's first 64 bytes lie on the device (*at), and how many bytes of the rest differ
 * there: at the last two bytes of a 512-byte sector (*fixed: where NTFS writes a record's
 * update sequence) or elsewhere. False when its head is nowhere. */
static bool explain_missing(const unsigned char *img, size_t n, const struct robust_file *im,
                            size_t *at, size_t *fixed, size_t *other)
{
    const unsigned char *q = memmem(img, n, im->b, im->n < 64 ? im->n : 64);
    *fixed = *other = 0;
    if (q == NULL)
        return false;
    *at = (size_t)(q - img);
    for (size_t i = 0; i < im->n && *at + i < n; i++)
        if (img[*at + i] != im->b[i]) {
            if ((*at + i) % 512 >= 510)
                (*fixed)++;
            else
                (*other)++;
        }
    return true;
}

/* The per-filesystem table: each file, where its bytes lie on the device (FIEMAP where the
 * kernel gives device offsets, else found by content when they lie there once), and whether
 * the sweep reported that range - live and deleted files alike - or why not. */
static void print_table(const char *fstype, const struct placed *p, const struct want *w, size_t nw,
                        const unsigned char *img, size_t n)
{
    printf("sweep: %s: %-27s %-12s %-8s %-15s %-8s %s\n", fstype, "file", "content", "state",
           "device offset", "extents", "sweep");
    for (size_t i = 0; i < NPLACED; i++) {
        const struct robust_file *im = p[i].im;
        uint64_t at[16];
        size_t copies = fu_places(img, n, im->b, im->n, at, 16);
        bool fiemap = p[i].phys >= 0 && (uint64_t)p[i].phys + im->n <= n &&
                      memcmp(img + p[i].phys, im->b, im->n) == 0;
        long long off = fiemap ? p[i].phys : copies == 1 ? (long long)at[0] : -1;
        bool reported = false;
        for (size_t k = 0; k < nw; k++)
            reported |= off >= 0 && w[k].off == (uint64_t)off && w[k].im == im;
        char where[48], ext[16], verdict[96];
        size_t fixed = 0, other = 0;
        if (fiemap)
            snprintf(where, sizeof(where), "%lld", off);
        else if (off >= 0)
            snprintf(where, sizeof(where), "%lld*", off);
        else if (copies > 1)
            snprintf(where, sizeof(where), "one of %zu*", copies);
        else
            snprintf(where, sizeof(where), "-");
        snprintf(ext, sizeof(ext), p[i].extents ? "%u" : "-", p[i].extents);
        if (!is_listed(im))
            snprintf(verdict, sizeof(verdict), "%s, not reported (not listed)",
                     copies ? "bytes on the device" : "not contiguous");
        else if (reported)
            snprintf(verdict, sizeof(verdict), "FOUND (%s)", is_exact(im) ? "exact" : "perceptual");
        else if (copies > 1)
            snprintf(verdict, sizeof(verdict), "FOUND: each of the %zu copies reported", copies);
        else if (p[i].extents > 1)
            snprintf(verdict, sizeof(verdict), "not found: in %u pieces (fragmented)",
                     p[i].extents);
        else if (p[i].flags & (FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_ENCODED))
            snprintf(verdict, sizeof(verdict), "not found: inline in metadata or compressed");
        else if (explain_missing(img, n, im, &(size_t){0}, &fixed, &other) && fixed > 0 &&
                 other == 0)
            snprintf(verdict, sizeof(verdict),
                     "not found: resident in an MFT record, %zu bytes "
                     "changed by its update sequence",
                     fixed);
        else
            snprintf(verdict, sizeof(verdict), "not found: not contiguous on the device");
        printf("sweep: %s: %-27s %-12s %-8s %-15s %-8s %s\n", fstype, p[i].rel, im->name,
               p[i].deleted ? "deleted" : "live", where, ext, verdict);
    }
    printf("sweep: %s: (*: found by content, the filesystem gave no device offset)\n", fstype);
    for (size_t k = 0; k < nw; k++)
        printf("sweep: %s:   reported: %s at %llu, %zu bytes%s\n", fstype, w[k].im->name,
               (unsigned long long)w[k].off, w[k].im->n, is_exact(w[k].im) ? "" : " (perceptual)");
}

static void expect_unchanged_dev(const char *dev, const char *sha0, const char *when)
{
    char sha[65];
    assert_true(tu_sha256_hex(dev, sha));
    if (strcmp(sha, sha0) != 0)
        fail_msg("%s: %s's SHA-256 changed: %s, was %s", when, dev, sha, sha0);
}

/* The block-device parts of a report on dev. */
static void expect_device(const json_t *doc, const char *dev, bool ro, const char *label)
{
    struct stat st;
    assert_int_equal(stat(dev, &st), 0);
    if (jint(doc, "source.device.major") != (long long)major(st.st_rdev) ||
        jint(doc, "source.device.minor") != (long long)minor(st.st_rdev) ||
        json_is_true(tu_jget(doc, "source.device.read_only")) != ro)
        fail_msg("%s: source.device %s; want %u:%u read_only %s", label,
                 tu_dumps(tu_jget(doc, "source.device")), major(st.st_rdev), minor(st.st_rdev),
                 ro ? "true" : "false");
}

static void test_loop(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    const char *fst = f->fstype;
    struct placed p[NPLACED];
    populate(&f->fs, p);
    size_t n = 0;
    unsigned char *img = tu_oread(f->fs.image, &n);
    struct want w[32];
    size_t nw = expected_in(img, n, w, 32);

    /* the image file */
    double secs = 0;
    json_t *doc = sweep(f->work, f->fs.image, "image.json", &secs, NULL);
    expect_common(doc, f->fs.image, "image-file", n, fst);
    print_table(fst, p, w, nw, img, n);
    printf("sweep: %s: %zu MiB image swept in %.2f s; %lld candidates, %lld streams\n", fst,
           n >> 20, secs, jint(doc, "totals.candidates"), jint(doc, "totals.streams"));
    expect_matches(doc, "image", f->fs.image, w, nw, fst);
    for (size_t k = 0; k < nw; k++)
        expect_bytes_at(f->fs.image, w[k].off, w[k].im, fst);
    /* Not vacuous: what each filesystem holds whole, so what the sweep must have reported.
       Everywhere both copies of the victim (the live one and the deleted one, 107 KB each,
       written to a fresh filesystem) and the three thumbnails (5-57 KB) lie whole and
       uncompressed: ext4 and xfs extents, FAT and exFAT clusters allocated in a row,
       ntfs-3g's non-resident runs, btrfs data extents (no compress mount option). The small
       ones differ:
       - btrfs keeps a file under 2 KiB (max_inline) inline in its metadata leaf, whole, and
         metadata is DUP on one device and copied on write: the 1 KB and the 414-byte copies
         lie in several leaves, old and new, each twice - every one of them is reported;
       - ntfs keeps the 414-byte PNG resident in its MFT record, and on disk the record's
         update sequence replaces the last two bytes of each 512-byte sector: the PNG crosses
         one, so no contiguous copy of its bytes exists and none may be reported (shown below
         byte by byte); the 1 KB JPEG is non-resident (in a cluster run) and found;
       - elsewhere each lies once, in its own block or cluster. */
    size_t victims = 0, thumbs = 0, wees = 0, minis = 0;
    for (size_t k = 0; k < nw; k++) {
        if (w[k].im == &G.victim)
            victims++;
        else if (w[k].im == &G.wee)
            wees++;
        else if (w[k].im == &G.mini)
            minis++;
        else
            thumbs++;
    }
    bool btrfs = strcmp(fst, "btrfs") == 0, ntfs = strcmp(fst, "ntfs") == 0;
    printf("sweep: %s: whole copies on the device, each reported: victim %zu, thumbnails %zu, "
           "40px %zu, 12px %zu\n",
           fst, victims, thumbs, wees, minis);
    if (victims != 2 || thumbs != 3 || (btrfs ? wees < 2 : wees != 1) ||
        (btrfs  ? minis < 2
         : ntfs ? minis != 0
                : minis != 1))
        fail_msg("%s: the image holds %zu whole copies of the victim, %zu of the thumbnails, "
                 "%zu of the 40px and %zu of the 12px copy; want 2, 3, %s and %s",
                 fst, victims, thumbs, wees, minis, btrfs ? "2 or more" : "1",
                 btrfs  ? "2 or more"
                 : ntfs ? "0 (resident)"
                        : "1");
    if (ntfs) {
        size_t at = 0, fixed = 0, other = 0;
        if (!explain_missing(img, n, &G.mini, &at, &fixed, &other) || other != 0 || fixed == 0)
            fail_msg("ntfs: the resident 12px PNG: %zu bytes differ at sector ends and %zu "
                     "elsewhere near its head; want only update-sequence bytes",
                     fixed, other);
        printf("sweep: ntfs: photos/mini.png: its bytes at %zu (inside an MFT record) differ "
               "from the file's in %zu bytes, each one of the last two of a 512-byte sector "
               "(the update sequence): no contiguous copy, not reported\n",
               at, fixed);
    }
    /* the deleted files' ranges were reported, where FIEMAP gave device offsets */
    for (size_t i = 0; i < NPLACED; i++) {
        bool dev_offset = p[i].phys >= 0 && (uint64_t)p[i].phys + p[i].im->n <= n &&
                          memcmp(img + p[i].phys, p[i].im->b, p[i].im->n) == 0;
        if (!dev_offset || !is_listed(p[i].im))
            continue;
        bool at = false;
        for (size_t k = 0; k < nw; k++)
            at |= w[k].off == (uint64_t)p[i].phys;
        if (!at)
            fail_msg("%s: %s (%s) at %lld was not reported", fst, p[i].rel,
                     p[i].deleted ? "deleted" : "live", p[i].phys);
    }

    /* the loop device itself, its bytes unchanged */
    char *dev = fu_loopdev(f->fs.image);
    char dsha[65], isha[65];
    tu_sha256_buf(img, n, isha);
    assert_true(tu_sha256_hex(dev, dsha));
    assert_string_equal(dsha, isha);
    json_t *ddoc = sweep(f->work, dev, "device.json", &secs, NULL);
    printf("sweep: %s: %s swept in %.2f s: %s\n", fst, dev, secs, matches_text(ddoc));
    expect_common(ddoc, dev, "block-device", n, fst);
    expect_device(ddoc, dev, false, fst);
    expect_matches(ddoc, "device", dev, w, nw, fst);
    expect_same_matches(doc, ddoc, fst);
    expect_unchanged_dev(dev, dsha, fst);

    if (strcmp(fst, "ext4") != 0)
        return;
    /* ext4 mounted -o ro,noload: the device swept under the mounted filesystem */
    if (!tu_fs_mount(&f->fs, true))
        fail_msg("ext4: cannot mount -o ro,noload");
    expect_unchanged_dev(dev, dsha, "ext4 mounted ro,noload");
    json_t *mdoc = sweep(f->work, dev, "mounted.json", &secs, NULL);
    expect_unchanged_dev(dev, dsha, "ext4 swept while mounted ro");
    tu_fs_umount(&f->fs);
    expect_unchanged_dev(dev, dsha, "ext4 after unmounting");
    expect_matches(mdoc, "device", dev, w, nw, "ext4 mounted ro");
    printf("sweep: ext4: %s swept while mounted ro,noload in %.2f s: same %zu matches, SHA-256 "
           "unchanged\n",
           dev, secs, nw);
    /* a read-only loop device over the image: the report says the kernel holds it read-only */
    fu_fx_attach(f, f->fs.image, true);
    json_t *rdoc = sweep(f->work, f->dev, "ro.json", NULL, NULL);
    expect_device(rdoc, f->dev, true, "ext4 read-only loop");
    expect_matches(rdoc, "device", f->dev, w, nw, "ext4 read-only loop");
    tu_sh("losetup -d %s", f->dev);
    f->dev[0] = '\0';
}

/* ==== 3. EWF ==== */

static void need_ewfacquire(const char *label)
{
    if (!tu_have("ewfacquire")) {
        printf("sweep: %s: skipped: no ewfacquire (package ewf-tools)\n", label);
        skip();
    }
}

/* The EWF set dir/ev.E01... of image by ewfacquire: uncompressed (so each segment holds
 * seg_mib MiB of media), MD5 and SHA-1, case fields. The segment files (owned), or 0 when
 * ewfacquire is missing. */
static size_t acquire(const char *dir, const char *image, unsigned seg_mib, char ***segs)
{
    if (!tu_have("ewfacquire"))
        return 0;
    char *target = tu_opath(dir, "ev");
    int rc = tu_sh("ewfacquire -u -q -t '%s' -C '" CASE_NUMBER "' -E '" EVIDENCE_NUMBER
                   "' -e '" EXAMINER "' -D '" DESCRIPTION "' -N '" NOTES
                   "' -c none -b 64 -d sha1 -S %uMiB '%s' >/dev/null 2>&1",
                   target, seg_mib, image);
    if (rc != 0)
        fail_msg("ewfacquire of %s failed (exit %d)", image, rc);
    static char *names[100];
    size_t n = 0;
    for (unsigned i = 1; i < 100; i++) {
        char *p = tu_ostr("%s.E%02u", target, i);
        if (access(p, F_OK) != 0)
            break;
        names[n++] = p;
    }
    *segs = names;
    return n;
}

static char *copy_set(const char *dir, const char *name, char **segs, size_t n, size_t skip_i)
{
    char *d = tu_opath(dir, name);
    assert_int_equal(mkdir(d, 0755), 0);
    for (size_t i = 0; i < n; i++)
        if (i != skip_i)
            assert_int_equal(tu_sh("cp '%s' '%s/'", segs[i], d), 0);
    return d;
}

static void expect_refused(const char *src, const char *report, const char *want_msg,
                           const char *label)
{
    struct tu_run r;
    tu_deprive(&r, NULL, "sweep", "--hashes", G.list, "-o", report, src, NULL);
    bool ok = r.status == 2 && r.out[0] == '\0' && strncmp(r.err, "deprive: ", 9) == 0 &&
              strstr(r.err, want_msg) != NULL && access(report, F_OK) != 0;
    if (!ok) {
        char msg[2048];
        snprintf(msg, sizeof(msg),
                 "%s: exit %d, stdout \"%s\", stderr \"%s\", report %s; want "
                 "exit 2, \"deprive: ...%s...\", no report",
                 label, r.status, r.out, r.err, access(report, F_OK) == 0 ? "written" : "none",
                 want_msg);
        tu_run_free(&r);
        fail_msg("%s", msg);
    }
    printf("sweep: %s: exit 2: %s", label, r.err);
    tu_run_free(&r);
}

static void test_ewf(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    need_ewfacquire("ewf");
    const char *raw;
    const char *what;
    if (f->ready) {
        struct placed p[NPLACED];
        populate(&f->fs, p);
        raw = f->fs.image;
        what = "the ext4 image";
    } else {
        /* without root: the raw image of test 1, cut to whole sectors (ewfacquire keeps whole
           sectors only: a tail shorter than one is hashed but not stored) */
        struct raw r;
        make_raw(&r, 20 * MIB, 4711);
        raw = tu_opath(f->work, "disk.raw");
        tu_write_file(raw, r.b, r.n);
        what = "a raw image (no loop ext4 here)";
    }
    struct stat rst;
    assert_int_equal(stat(raw, &rst), 0);
    json_t *rdoc = sweep(f->work, raw, "raw.json", NULL, NULL);
    char md5[33], sha1[41];
    evp_file_hex(raw, EVP_md5(), md5);
    evp_file_hex(raw, EVP_sha1(), sha1);

    char **segs = NULL;
    unsigned seg_mib = rst.st_size >= 48 * (off_t)MIB ? 8 : 4;
    size_t nseg = acquire(f->work, raw, seg_mib, &segs);
    if (nseg < 3)
        fail_msg("ewfacquire made %zu segment(s) of %s; want several", nseg, what);
    double secs = 0;
    char *summary = NULL;
    json_t *doc = sweep(f->work, segs[0], "ewf.json", &secs, &summary);
    printf("sweep: ewf: %s (%lld MiB) as %zu segments swept in %.2f s: %s\n", what,
           (long long)(rst.st_size >> 20), nseg, secs, matches_text(doc));
    expect_common(doc, segs[0], "ewf", (uint64_t)rst.st_size, "ewf");
    expect_same_matches(rdoc, doc, "ewf vs raw");
    const json_t *m0 = json_array_get(json_object_get(doc, "matches"), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(m0, "location"), 0), "image")),
                        segs[0]);
    const json_t *e = tu_jget(doc, "source.ewf");
    if (jint(e, "segments") != (long long)nseg ||
        !json_is_true(json_object_get(e, "hashes_verified")) ||
        strcmp(nz(jstr(e, "stored_hashes.md5")), md5) != 0 ||
        strcmp(nz(jstr(e, "stored_hashes.sha1")), sha1) != 0 ||
        strcmp(nz(jstr(e, "media_hashes.md5")), md5) != 0 ||
        strcmp(nz(jstr(e, "media_hashes.sha1")), sha1) != 0 ||
        jint(doc, "source.ewf_checksum_errors") != 0)
        fail_msg("ewf: source.ewf %s, checksum errors %lld; want %zu segments, md5 %s, sha1 %s "
                 "stored and read, verified",
                 tu_dumps(e), jint(doc, "source.ewf_checksum_errors"), nseg, md5, sha1);
    static const char *const fields[][2] = {{"case_number", CASE_NUMBER},
                                            {"evidence_number", EVIDENCE_NUMBER},
                                            {"examiner_name", EXAMINER},
                                            {"description", DESCRIPTION},
                                            {"notes", NOTES}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *v = jstr(json_object_get(e, "case"), fields[i][0]);
        if (v == NULL || strcmp(v, fields[i][1]) != 0)
            fail_msg("ewf: case.%s is %s, want \"%s\"", fields[i][0], v ? v : "null", fields[i][1]);
    }
    assert_non_null(jstr(e, "case.acquiry_date"));
    assert_non_null(jstr(e, "case.acquiry_software"));
    char *line = tu_ostr("ewf: %zu segment(s), stored hashes verified\n", nseg);
    if (strstr(summary, line) == NULL)
        fail_msg("ewf: the summary:\n%s\nwant \"%s\"", summary, line);

    /* a middle segment missing; one cut short; a later segment given first */
    char *d = copy_set(f->work, "missing", segs, nseg, 2);
    expect_refused(tu_opath(d, "ev.E01"), tu_opath(d, "r.json"), "is incomplete or damaged",
                   "ewf: E03 missing");
    d = copy_set(f->work, "short", segs, nseg, SIZE_MAX);
    assert_int_equal(truncate(tu_opath(d, "ev.E03"), 100000), 0);
    expect_refused(tu_opath(d, "ev.E01"), tu_opath(d, "r.json"), "is incomplete or damaged",
                   "ewf: E03 truncated");
    expect_refused(segs[1], tu_opath(f->work, "r2.json"), "is segment 2 of an EWF set",
                   "ewf: E02 given");
}

/* ==== 3b. EWF: a damaged chunk ==== */

#define CHUNK 32768 /* ewfacquire -b 64: 64 sectors of 512 bytes a chunk */
#define ZERO_CHUNK 100
#define DVICTIM (5 * MIB + 7)

/* n bytes of media that say where they are: each 512-byte sector starts with "DPSECT" and its
 * number, the rest random; chunk ZERO_CHUNK all zeros (as free space is); the victim at
 * DVICTIM. */
static unsigned char *tagged_media(size_t n)
{
    unsigned char *b = tu_own(tu_random_bytes(n, 777));
    for (size_t s = 0; s < n / 512; s++) {
        char tag[24];
        snprintf(tag, sizeof(tag), "DPSECT%08zu", s);
        memcpy(b + s * 512, tag, 14);
    }
    memset(b + (size_t)ZERO_CHUNK * CHUNK, 0, CHUNK);
    memcpy(b + DVICTIM, G.victim.b, G.victim.n);
    return b;
}

/* Where needle lies in the set's segment files: exactly once, else false. */
static bool find_in_set(char **segs, size_t nseg, const void *needle, size_t nl, size_t *seg,
                        size_t *pos)
{
    size_t found = 0;
    for (size_t i = 0; i < nseg; i++) {
        size_t n = 0;
        const unsigned char *b = tu_oread(segs[i], &n), *p = b;
        while ((p = memmem(p, n - (size_t)(p - b), needle, nl)) != NULL) {
            if (found++ == 0) {
                *seg = i;
                *pos = (size_t)(p - b);
            }
            p++;
        }
    }
    return found == 1;
}

/* The first run of CHUNK zero bytes in the set's segment files (an uncompressed chunk of
 * zeros: nothing else there is that long). */
static bool find_zero_chunk(char **segs, size_t nseg, size_t *seg, size_t *pos)
{
    for (size_t i = 0; i < nseg; i++) {
        size_t n = 0, run = 0;
        const unsigned char *b = tu_oread(segs[i], &n);
        for (size_t k = 0; k < n; k++) {
            run = b[k] == 0 ? run + 1 : 0;
            if (run == CHUNK) {
                *seg = i;
                *pos = k + 1 - CHUNK;
                return true;
            }
        }
    }
    return false;
}

static void flip(const char *path, size_t pos)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    unsigned char c = 0;
    assert_int_equal(pread(fd, &c, 1, (off_t)pos), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, (off_t)pos), 1);
    close(fd);
}

struct damaged {
    int status;
    json_t *doc; /* exit 0: the report (owned) */
    char *out, *err;
    char *e01; /* the damaged set's first segment */
};

/* Sweep a copy of the set in dir with one byte of segment seg at pos changed. */
static void sweep_damaged(const char *work, const char *name, char **segs, size_t nseg, size_t seg,
                          size_t pos, struct damaged *d)
{
    char *dir = copy_set(work, name, segs, nseg, SIZE_MAX);
    const char *base = strrchr(segs[seg], '/') + 1;
    flip(tu_opath(dir, base), pos);
    char *rep = tu_opath(dir, "r.json");
    struct tu_run r;
    d->e01 = tu_opath(dir, "ev.E01");
    tu_deprive(&r, NULL, "sweep", "--hashes", G.list, "-o", rep, d->e01, NULL);
    d->status = r.status;
    d->out = tu_own(strdup(r.out));
    d->err = tu_own(strdup(r.err));
    tu_run_free(&r);
    d->doc = d->status == 0 ? tu_oload(rep) : NULL;
    if (d->status == 2 && access(rep, F_OK) == 0)
        fail_msg("%s: exit 2 and a report written", name);
    if (d->status != 0 && d->status != 2)
        fail_msg("%s: exit %d: %s", name, d->status, d->err);
}

/* The damaged chunk is named (in the report or, when the sweep stops, on stderr) by its
 * sectors. */
static void expect_damage_named(const struct damaged *d, uint64_t media_off, const char *label)
{
    uint64_t first = media_off / CHUNK * (CHUNK / 512);
    char *want = tu_ostr("checksum error in sectors %llu-%llu", (unsigned long long)first,
                         (unsigned long long)first + CHUNK / 512 - 1);
    const char *where = d->doc != NULL ? nz(jstr(d->doc, "source.ewf_damage")) : d->err;
    if (strstr(where, want) == NULL ||
        (d->doc != NULL && jint(d->doc, "source.ewf_checksum_errors") < 1))
        fail_msg("%s: exit %d, damage \"%s\", checksum errors %lld; want \"%s\"", label, d->status,
                 where, d->doc ? jint(d->doc, "source.ewf_checksum_errors") : -1, want);
}

static void test_ewf_damage(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    need_ewfacquire("ewf damage");
    const size_t n = 12 * MIB;
    unsigned char *media = tagged_media(n);
    char *raw = tu_opath(f->work, "media.raw");
    tu_write_file(raw, media, n);
    char **segs = NULL;
    size_t nseg = acquire(f->work, raw, 1, &segs);
    assert_true(nseg >= 5);
    json_t *good = sweep(f->work, segs[0], "good.json", NULL, NULL);
    const struct want wv = {DVICTIM, &G.victim};
    expect_matches(good, "image", segs[0], &wv, 1, "ewf damage: the set undamaged");
    assert_true(json_is_true(tu_jget(good, "source.ewf.hashes_verified")));
    assert_int_equal(jint(good, "source.ewf_checksum_errors"), 0);
    assert_true(json_is_null(tu_jget(good, "source.ewf_damage")));

    /* (1) a byte inside the victim's copy, in chunk 161: the media as read differs from the
       acquired media, so the stored hashes cannot be verified; the copy is not reported as
       the victim's exact bytes */
    size_t seg = 0, pos = 0;
    if (!find_in_set(segs, nseg, G.victim.b + 40000, 64, &seg, &pos))
        fail_msg("ewf damage: the victim's bytes 40000-40063 are not once in the set");
    struct damaged d;
    sweep_damaged(f->work, "victim-chunk", segs, nseg, seg, pos + 10, &d);
    expect_damage_named(&d, DVICTIM + 40010, "a chunk of the victim damaged");
    if (d.doc != NULL) {
        printf("sweep: ewf: a chunk of the victim damaged: exit 0, checksum errors %lld, "
               "hashes_verified %s, matches %s; summary:\n%s",
               jint(d.doc, "source.ewf_checksum_errors"),
               tu_dumps(tu_jget(d.doc, "source.ewf.hashes_verified")), matches_text(d.doc), d.out);
        if (json_is_true(tu_jget(d.doc, "source.ewf.hashes_verified")))
            fail_msg("a chunk of the victim damaged: hashes_verified true");
        size_t i;
        const json_t *m;
        json_array_foreach(json_object_get(d.doc, "matches"), i, m)
        {
            if (strcmp(nz(jstr(m, "digests.sha256")), G.victim.sha) == 0)
                fail_msg("a chunk of the victim damaged: the victim's exact bytes reported");
        }
    } else {
        printf("sweep: ewf: a chunk of the victim damaged: exit 2: %s", d.err);
    }

    /* (2) a byte of a chunk of zeros (free space), chunk 100 */
    if (!find_zero_chunk(segs, nseg, &seg, &pos))
        fail_msg("ewf damage: no chunk of zeros found in the set");
    sweep_damaged(f->work, "zero-chunk", segs, nseg, seg, pos + 1000, &d);
    expect_damage_named(&d, (uint64_t)ZERO_CHUNK * CHUNK + 1000, "a chunk of zeros damaged");
    if (d.doc == NULL) {
        printf("sweep: ewf: a chunk of zeros damaged: exit 2: %s", d.err);
        return;
    }
    bool verified = json_is_true(tu_jget(d.doc, "source.ewf.hashes_verified"));
    int ewfverify = tu_have("ewfverify") ? tu_sh("ewfverify -q '%s' >/dev/null 2>&1", d.e01) : -1;
    printf("sweep: ewf: a chunk of zeros damaged: exit 0, checksum errors %lld, hashes_verified "
           "%s; summary:\n%s",
           jint(d.doc, "source.ewf_checksum_errors"), verified ? "true" : "false", d.out);
    if (verified || strstr(d.out, "stored hashes verified") != NULL)
        fail_msg("an EWF set with a damaged chunk (sectors %d-%d, one byte changed in %s) is "
                 "reported with ewf_checksum_errors %lld and hashes_verified %s, and the summary "
                 "says \"stored hashes verified\" without a word of the damage. libewf delivers "
                 "a chunk that fails its checksum as zeros (not \"the data as stored\", as "
                 "include/deprive/source.h says of DP_ERR_VERIFY); this chunk held zeros when it "
                 "was acquired, so the MD5 and SHA-1 of what was swept equal the stored ones. "
                 "ewfverify exits %d for this set (-1: not installed). Want: never \"verified\" "
                 "while a chunk "
                 "failed its checksum (false, or null with the reason), and the summary naming "
                 "the damage",
                 ZERO_CHUNK * 64, ZERO_CHUNK * 64 + 63, strrchr(segs[seg], '/') + 1,
                 jint(d.doc, "source.ewf_checksum_errors"), verified ? "true" : "false", ewfverify);
}

/* ==== 4. hostile and edge sources ==== */

static void test_refused(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    char *rep = tu_opath(f->work, "r.json");
    char *empty = tu_opath(f->work, "empty.img");
    tu_write_file(empty, "", 0);
    expect_refused(empty, rep, "is empty (zero bytes)", "empty file");
    expect_refused(f->work, rep, "is a directory", "directory");
    char *fifo = tu_opath(f->work, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    double t = tu_now();
    expect_refused(fifo, rep, "is a FIFO", "FIFO");
    assert_true(tu_now() - t < 10); /* not opened: opening a FIFO would wait for a writer */
    expect_refused("/dev/null", rep, "is a character device", "character device");
    expect_refused(tu_opath(f->work, "absent.img"), rep, "cannot open", "missing file");
    /* usage */
    struct tu_run r;
    tu_deprive(&r, NULL, "sweep", empty, NULL);
    tu_expect_exit(&r, 2, "sweep without --hashes");
    assert_non_null(strstr(r.err, "--hashes"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "sweep", "--hashes", G.list, empty, empty, NULL);
    tu_expect_exit(&r, 2, "sweep of two sources");
    tu_run_free(&r);
    tu_deprive(&r, NULL, "sweep", "--help", NULL);
    tu_expect_exit(&r, 0, "sweep --help");
    assert_non_null(strstr(r.out, "usage: deprive sweep"));
    tu_run_free(&r);
}

/* A 50 MB file of pattern repeated (the victim at 4097 when plant), swept within limit s. */
static json_t *flood(struct fu_fx *f, const char *name, const void *pat, size_t plen,
                     bool with_victim, double limit)
{
    const size_t n = 50 * 1000 * 1000;
    unsigned char *b = tu_own(malloc(n));
    for (size_t i = 0; i < n; i += plen)
        memcpy(b + i, pat, n - i < plen ? n - i : plen);
    if (with_victim)
        memcpy(b + 4097, G.victim.b, G.victim.n);
    double secs = 0;
    json_t *doc = sweep_bytes(f->work, name, b, n, &secs);
    printf("sweep: %s: 50 MB in %.2f s; totals %s\n", name, secs,
           tu_dumps(json_object_get(doc, "totals")));
    if (secs > limit)
        fail_msg("%s: the sweep took %.1f s (limit %.0f s)", name, secs, limit);
    assert_int_equal(jint(doc, "totals.bytes_swept"), (long long)n);
    unlink(tu_opath(f->work, name));
    return doc;
}

static void test_floods(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    /* "BM" repeated: every pair is a signature, no header passes (its reserved field reads
       "BMBM", not zero) */
    json_t *bm = flood(f, "bm", "BM", 2, false, 20);
    assert_int_equal(jint(bm, "totals.candidates"), 0);
    assert_int_equal(jint(bm, "totals.matches"), 0);
    /* FF D8 FF E0 repeated: a JPEG candidate every 4 bytes (an APP0 of 65496 bytes, then SOI
       where a marker may not be: none completes). The candidates kept per 4 MiB piece and the
       bytes walked are bounded, and the report says so; the victim planted before them is
       still found */
    static const unsigned char ffd8[4] = {0xff, 0xd8, 0xff, 0xe0};
    json_t *jp = flood(f, "ffd8", ffd8, 4, true, 20);
    if (jint(jp, "totals.matches") != 1 || jint(jp, "totals.streams") != 1 ||
        jint(json_array_get(json_object_get(jp, "matches"), 0), "embedded.offset") != 4097)
        fail_msg("ffd8: matches %s, totals %s; want the victim at 4097 only", matches_text(jp),
                 tu_dumps(json_object_get(jp, "totals")));
    if (!json_is_true(tu_jget(jp, "totals.limited")) || jstr(jp, "totals.limit_detail") == NULL)
        fail_msg("ffd8: 12.5 million candidates and no limit reported: totals %s",
                 tu_dumps(json_object_get(jp, "totals")));
}

/* Candidates near the end: 16 MiB of random bytes, the victim at 1 MiB + 7, then from 12 MiB
 * a BMP header every 64 bytes (2 MiB of them) each giving a file size of 60 MiB, so that each
 * candidate is walked to the end of the source, then the victim again, ending at the last
 * byte. The sweep must finish quickly; the first copy is found; the second may be missed only
 * with the limit reported. */
static void test_candidates_at_end(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    const size_t n = 16 * MIB + 333;
    unsigned char *b = tu_own(tu_random_bytes(n, 99));
    memcpy(b + MIB + 7, G.victim.b, G.victim.n);
    size_t hdrs = 0;
    for (size_t off = 12 * MIB; off + 64 <= 14 * MIB; off += 64, hdrs++) {
        unsigned char *h = b + off;
        memset(h, 0, 64);
        h[0] = 'B';
        h[1] = 'M';
        robust_put_le(h + 2, 60u << 20, 4);
        robust_put_le(h + 10, 54, 4);
        robust_put_le(h + 14, 40, 4);
        robust_put_le(h + 18, 4096, 4);
        robust_put_le(h + 22, 3000, 4); /* 3000 rows of 16 KiB fit in 60 MiB */
        robust_put_le(h + 26, 1, 2);
        robust_put_le(h + 28, 32, 2);
    }
    uint64_t last = n - G.victim.n;
    memcpy(b + last, G.victim.b, G.victim.n);
    double secs = 0;
    json_t *doc = sweep_bytes(f->work, "end", b, n, &secs);
    bool limited = json_is_true(tu_jget(doc, "totals.limited"));
    const json_t *ms = json_object_get(doc, "matches");
    printf("sweep: candidates at the end: %zu BMP headers claiming 60 MiB: %.2f s, matches %s, "
           "limited %s (%s)\n",
           hdrs, secs, matches_text(doc), limited ? "true" : "false",
           jstr(doc, "totals.limit_detail") ? jstr(doc, "totals.limit_detail") : "-");
    assert_true(secs < 30);
    assert_int_equal(jint(doc, "totals.bytes_swept"), (long long)n);
    if (json_array_size(ms) < 1 ||
        jint(json_array_get(ms, 0), "embedded.offset") != (long long)(MIB + 7))
        fail_msg("candidates at the end: the first copy (at %zu) was not found: %s", MIB + 7,
                 matches_text(doc));
    bool second = json_array_size(ms) == 2 &&
                  jint(json_array_get(ms, 1), "embedded.offset") == (long long)last;
    if (!second && !limited)
        fail_msg("candidates at the end: the copy at %llu was not found and no limit was "
                 "reported: %s",
                 (unsigned long long)last, matches_text(doc));
}

/* A source packed with small genuine images - what a thumbnail cache or a browser cache holds
 * - and the victim after them: 24 MiB of 48x36 lawful JPEGs back to back (~1.5 KB each),
 * then the victim. Nothing here is hostile: every candidate is a real, complete image. The
 * sweep must examine them all and find the victim, without reporting a limit. */
static void test_dense_small_images(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    const size_t body = 24 * MIB;
    size_t n = body + G.victim.n + 4096;
    unsigned char *b = tu_own(calloc(1, n));
    size_t off = 0, count = 0;
    while (off + G.tiny[count % TINY].n <= body) {
        const struct robust_file *t = &G.tiny[count % TINY];
        memcpy(b + off, t->b, t->n);
        off += t->n;
        count++;
    }
    uint64_t vat = body + 1;
    memcpy(b + vat, G.victim.b, G.victim.n);
    double secs = 0;
    json_t *doc = sweep_bytes(f->work, "dense", b, n, &secs);
    bool limited = json_is_true(tu_jget(doc, "totals.limited"));
    printf("sweep: dense: %zu small JPEGs (%zu-%zu bytes) then the victim: %.2f s; totals %s; "
           "matches %s\n",
           count, G.tiny[0].n, G.tiny[1].n, secs, tu_dumps(json_object_get(doc, "totals")),
           matches_text(doc));
    const json_t *ms = json_object_get(doc, "matches");
    bool found = json_array_size(ms) == 1 &&
                 jint(json_array_get(ms, 0), "embedded.offset") == (long long)vat;
    if (!found || limited || jint(doc, "totals.streams") != (long long)count + 1)
        fail_msg("a %zu-byte source of %zu small genuine JPEGs and the victim: %lld of %zu "
                 "streams carved, victim %s, limited %s (\"%s\").\n"
                 "The sweep's walk budget (4 x the source size + 256 MiB of bytes walked, "
                 "src/scan/sweep.c) is charged for each candidate's first read of 64 KiB "
                 "(SWEEP_FIRST_READ), not for the bytes its stream needed: %zu candidates cost "
                 "%zu MiB against a budget of %zu MiB, so once a source averages more than one "
                 "image per 16 KiB - thumbnails, a browser cache - the candidates after that "
                 "point are not examined and a copy there is missed",
                 n, count, jint(doc, "totals.streams"), count + 1, found ? "found" : "NOT FOUND",
                 limited ? "true" : "false", nz(jstr(doc, "totals.limit_detail")), count + 1,
                 (count + 1) * 64 / 1024, (4 * n + (256u << 20)) >> 20);
}

/* `-o` naming the source itself, or a segment of the EWF set being swept: the sweep reads its
 * source read-only, so it must not then replace it with the report. */
static void test_report_over_source(void **state)
{
    struct fu_fx *f = *state;
    need_images();
    struct raw raw;
    make_raw(&raw, 20 * MIB, 2024);
    char *img = tu_opath(f->work, "evidence.raw"), *acq = tu_opath(f->work, "acquired.raw");
    tu_write_file(img, raw.b, raw.n);
    tu_write_file(acq, raw.b, raw.n);
    char **segs = NULL;
    size_t nseg = acquire(f->work, acq, 4, &segs);
    char sha0[65], sha1[65];
    tu_sha256_buf(raw.b, raw.n, sha0);
    struct tu_run r;
    tu_deprive(&r, NULL, "sweep", "--hashes", G.list, "-o", img, img, NULL);
    struct stat st;
    bool intact = stat(img, &st) == 0 && st.st_size == (off_t)raw.n && tu_sha256_hex(img, sha1) &&
                  strcmp(sha0, sha1) == 0;
    int status = r.status;
    printf("sweep: -o the source: exit %d, the image %s (%lld bytes)\n", status,
           intact ? "intact" : "REPLACED", (long long)st.st_size);
    tu_run_free(&r);
    char ewf_note[256] = "";
    bool ewf_intact = true;
    if (nseg >= 2) {
        struct stat s0, s1;
        assert_int_equal(stat(segs[1], &s0), 0);
        tu_deprive(&r, NULL, "sweep", "--hashes", G.list, "-o", segs[1], segs[0], NULL);
        ewf_intact = stat(segs[1], &s1) == 0 && s1.st_size == s0.st_size;
        snprintf(ewf_note, sizeof(ewf_note),
                 "; `deprive sweep -o ev.E02 ev.E01` exit %d, ev.E02 %s (%lld bytes, was %lld)",
                 r.status, ewf_intact ? "intact" : "REPLACED", (long long)s1.st_size,
                 (long long)s0.st_size);
        tu_run_free(&r);
        printf("sweep: -o a segment%s\n", ewf_note);
    }
    if (!intact || !ewf_intact || status != 2)
        fail_msg("`deprive sweep -o IMAGE IMAGE` exits %d and the %zu-byte image is %s by the "
                 "JSON report%s. The sweep never opens its source for writing, but cmd_sweep "
                 "writes the report with dp_json_write_file (a temporary file renamed over the "
                 "-o path) without checking that the path is not the source or one of its EWF "
                 "segment files: the evidence is destroyed. Want exit 2 with a message before "
                 "anything is read or written.",
                 status, raw.n, intact ? "kept" : "replaced", ewf_note);
}

/* ==== the suite ==== */

static struct fu_fx fx_raw = {.label = "raw image"};
static struct fu_fx fx_ext4 = {.label = "ext4", .fstype = "ext4", .mb = 64};
static struct fu_fx fx_vfat = {.label = "vfat", .fstype = "vfat", .mb = 64};
static struct fu_fx fx_exfat = {.label = "exfat", .fstype = "exfat", .mb = 64};
static struct fu_fx fx_ntfs = {.label = "ntfs", .fstype = "ntfs", .mb = 64};
static struct fu_fx fx_xfs = {.label = "xfs", .fstype = "xfs", .mb = 300};       /* its minimum */
static struct fu_fx fx_btrfs = {.label = "btrfs", .fstype = "btrfs", .mb = 128}; /* its minimum */
static struct fu_fx fx_ewf = {.label = "ewf", .fstype = "ext4", .mb = 64};
static struct fu_fx fx_ewf_damage = {.label = "ewf damage"};
static struct fu_fx fx_refused = {.label = "refused"};
static struct fu_fx fx_floods = {.label = "floods"};
static struct fu_fx fx_end = {.label = "candidates at the end"};
static struct fu_fx fx_dense = {.label = "dense"};
static struct fu_fx fx_over = {.label = "report over source"};

#define T(name, fn, fx) FU_CASE(name, fn, sfx_setup, fx)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        T("raw_image", test_raw_image, fx_raw),
        T("loop_ext4", test_loop, fx_ext4),
        T("loop_vfat", test_loop, fx_vfat),
        T("loop_exfat", test_loop, fx_exfat),
        T("loop_ntfs", test_loop, fx_ntfs),
        T("loop_xfs", test_loop, fx_xfs),
        T("loop_btrfs", test_loop, fx_btrfs),
        T("ewf_set", test_ewf, fx_ewf),
        T("ewf_damaged_chunk", test_ewf_damage, fx_ewf_damage),
        T("refused_sources", test_refused, fx_refused),
        T("floods", test_floods, fx_floods),
        T("candidates_at_end", test_candidates_at_end, fx_end),
        T("dense_small_images", test_dense_small_images, fx_dense),
        T("report_over_source", test_report_over_source, fx_over),
    };
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests_name("sweep", tests, NULL, iset_group_teardown);
}
