/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: hostile input. Real inputs (hash lists, a scan report used as a plan, a wipe
 * journal, a signed certificate, a key) are made by the library, then mutated thousands of
 * times - flipped and random bytes, cuts, duplications, insertions of JSON and number tokens -
 * and fed back to every parser. Nothing may crash, hang or leak (the suite also runs under
 * ASan and UBSan), and no mutation may pass a check that protects the data. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/hashset.h"
#include "deprive/image.h"
#include "deprive/journal.h"
#include "deprive/pdq.h"
#include "deprive/report.h"
#include "deprive/scan.h"
#include "deprive/sign.h"
#include "deprive/source.h"
#include "deprive/sweep.h"
#include "deprive/wipe.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One mutation of in[0..n) into a new heap buffer (NUL-terminated); *out_n its length. */
static char *mutate(const char *in, size_t n, size_t *out_n)
{
    static const char *const tokens[] = {
        "{", "}", "[", "]", "\"", ",", ":", "\\u0000", "\\", "null", "true", "-1", "0",
        "18446744073709551616", "99999999999999999999999", "1e308", "\n", "\r\n", "\xff\xfe",
        "sha256:", "size:", "%%%% ", "=", "base64", "  ", "\t", "#",
    };
    size_t cap = n + 64;
    char *b = malloc(cap + 1);
    assert_non_null(b);
    memcpy(b, in, n);
    size_t len = n;
    int ops = 1 + (int)(next() % 3);
    for (int k = 0; k < ops; k++) {
        size_t at = len ? (size_t)(next() % len) : 0;
        switch (next() % 6) {
        case 0: /* flip a bit */
            if (len)
                b[at] ^= (char)(1u << (next() % 8));
            break;
        case 1: /* random byte */
            if (len)
                b[at] = (char)next();
            break;
        case 2: { /* cut a range */
            size_t l = len ? (size_t)(next() % (len - at < 32 ? len - at : 32)) : 0;
            memmove(b + at, b + at + l, len - at - l);
            len -= l;
            break;
        }
        case 3: /* truncate */
            len = at;
            break;
        case 4: { /* insert a token */
            const char *t = tokens[next() % (sizeof(tokens) / sizeof(tokens[0]))];
            size_t tl = strlen(t);
            if (len + tl <= cap) {
                memmove(b + at + tl, b + at, len - at);
                memcpy(b + at, t, tl);
                len += tl;
            }
            break;
        }
        default: { /* duplicate a short range */
            size_t l = len ? (size_t)(next() % (len - at < 16 ? len - at : 16)) : 0;
            if (len + l <= cap) {
                memmove(b + at + l, b + at, len - at);
                len += l;
            }
            break;
        }
        }
    }
    b[len] = '\0';
    *out_n = len;
    return b;
}

static void test_hash_lists(void **state)
{
    (void)state;
    static const char *const files[] = {
        "sha256sum.txt",  "bsd-tag.txt",        "hashdeep.txt",   "plain.txt",
        "deprive.txt",    "vics-flat.json",     "vics-nested.json",
        /* PDQ in lists */
        "deprive-pdq.txt", "threatexchange.txt", "pdq-hasher.csv", "stopncii.json"};
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char *p = tu_path(DP_SOURCE_DIR "/fixtures/hashlists", files[f]);
        size_t n;
        char *seed = tu_read(p, &n);
        assert_non_null(seed);
        for (int i = 0; i < 10000; i++) {
            size_t m;
            char *in = mutate(seed, n, &m);
            struct dp_hashset *s = NULL;
            struct dp_error e = {0};
            assert_int_equal(dp_hashset_new(&s, NULL), DP_OK);
            enum dp_status st = dp_hashset_load_buffer(s, "mutant", in, m, &e);
            assert_true(st == DP_OK || st == DP_ERR_PARSE || st == DP_ERR_INVALID ||
                        st == DP_ERR_LIMIT);
            if (st != DP_OK)
                assert_true(e.msg[0] != '\0');
            if (st == DP_OK && dp_hashset_finalize(s, NULL) == DP_OK) {
                const struct dp_hash_entry *first;
                uint8_t zero[32] = {0};
                (void)dp_hashset_lookup(s, DP_ALGO_SHA256, zero, &first);
            }
            dp_hashset_free(s);
            free(in);
        }
        free(seed);
        free(p);
    }
}

/* A real plan, journal, wipe result and signed certificate from a small tree. */
struct seeds {
    char *dir;
    char *report, *journal, *cert, *sig;
    size_t report_n, journal_n, cert_n, sig_n;
    struct dp_sign_pubkey *pk;
};

static void make_seeds(struct seeds *sd)
{
    sd->dir = tu_mkdtemp();
    char *root = tu_path(sd->dir, "root"), *jp = tu_path(sd->dir, "journal");
    mkdir(root, 0755);
    char list[512] = "";
    for (int i = 0; i < 3; i++) {
        char rel[32], hex[65];
        snprintf(rel, sizeof(rel), "d/m%d.jpg", i);
        tu_write_random(root, rel, 5000 + (size_t)i, (uint32_t)i + 1);
        char *p = tu_path(root, rel);
        assert_true(tu_sha256_hex(p, hex));
        free(p);
        size_t u = strlen(list);
        snprintf(list + u, sizeof(list) - u, "sha256:%s size:%d\n", hex, 5000 + i);
    }
    tu_write_random(root, "keep.bin", 777, 9);
    struct dp_hashset *set = NULL;
    struct dp_error e = {0};
    assert_int_equal(dp_hashset_new(&set, NULL), DP_OK);
    assert_int_equal(dp_hashset_load_buffer(set, "list", list, strlen(list), &e), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, &e), DP_OK);
    struct dp_scan_result *r = NULL;
    json_t *report = NULL, *rescan = NULL, *wipe = NULL, *cert = NULL;
    assert_int_equal(dp_scan_run(set, root, NULL, &r, &e), DP_OK);
    assert_int_equal(dp_report_build(r, set, &report, &e), DP_OK);
    dp_scan_result_free(r);
    struct dp_plan *plan = NULL;
    assert_int_equal(dp_plan_from_report(report, &plan, &e), DP_OK);
    struct dp_journal *j = NULL;
    assert_int_equal(dp_journal_create(&j, jp, &e), DP_OK);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR};
    assert_int_equal(dp_wipe_run(plan, j, &o, NULL, &wipe, &e), DP_OK);
    assert_int_equal(dp_journal_close(j, &e), DP_OK);
    assert_int_equal(dp_scan_run(set, root, NULL, &r, &e), DP_OK);
    assert_int_equal(dp_report_build(r, set, &rescan, &e), DP_OK);
    dp_scan_result_free(r);
    char *pub = tu_path(sd->dir, "k.pub"), *sec = tu_path(sd->dir, "k.sec");
    struct dp_sign_keygen_opts ko = {0};
    assert_int_equal(dp_sign_keygen(&sd->pk, pub, sec, &ko, &e), DP_OK);
    struct dp_sign_seckey *sk = NULL;
    assert_int_equal(dp_sign_seckey_load(&sk, sec, NULL, &e), DP_OK);
    char keyid[DP_SIGN_KEYID_HEX_SIZE];
    dp_sign_seckey_keyid(sk, keyid);
    json_t *cs = NULL;
    assert_int_equal(dp_cert_case_new(&cs, &e), DP_OK);
    assert_int_equal(dp_cert_case_set(cs, "order", "O/1", &e), DP_OK);
    assert_int_equal(dp_cert_case_set(cs, "exhibit", "E/1", &e), DP_OK);
    assert_int_equal(dp_cert_case_set(cs, "officer", "PC One", &e), DP_OK);
    if (dp_cert_build(&cert, cs, report, wipe, rescan, keyid, &e) != DP_OK)
        fail_msg("cert build: %s", e.msg);
    sd->report = dp_json_dump(report);
    sd->report_n = strlen(sd->report);
    sd->cert = dp_json_dump(cert);
    sd->cert_n = strlen(sd->cert);
    assert_int_equal(dp_cert_sign(&sd->sig, sk, sd->cert, sd->cert_n, "cert.json", &e), DP_OK);
    sd->sig_n = strlen(sd->sig);
    sd->journal = tu_read(jp, &sd->journal_n);
    dp_sign_seckey_free(sk);
    json_decref(cs), json_decref(report), json_decref(rescan), json_decref(wipe),
        json_decref(cert);
    dp_plan_free(plan);
    dp_hashset_free(set);
    free(root), free(jp), free(pub), free(sec);
}

static void free_seeds(struct seeds *sd)
{
    free(sd->report), free(sd->journal), free(sd->cert), free(sd->sig);
    dp_sign_pubkey_free(sd->pk);
    tu_rm_rf(sd->dir);
    free(sd->dir);
}

static void test_plans_certificates_signatures(void **state)
{
    (void)state;
    struct seeds sd;
    make_seeds(&sd);
    struct dp_cert_verified v = {0};
    assert_int_equal(dp_cert_verify(&v, sd.pk, sd.cert, sd.cert_n, sd.sig, sd.sig_n, NULL), DP_OK);
    dp_cert_verified_release(&v);
    for (int i = 0; i < 5000; i++) {
        size_t m;
        /* a mutated report as a plan */
        char *in = mutate(sd.report, sd.report_n, &m);
        json_t *doc = json_loadb(in, m, 0, NULL);
        struct dp_plan *plan = NULL;
        if (doc != NULL && dp_plan_from_report(doc, &plan, NULL) == DP_OK)
            dp_plan_free(plan);
        json_decref(doc);
        free(in);
        /* a mutated certificate: the check must not crash; the signature must not pass */
        in = mutate(sd.cert, sd.cert_n, &m);
        doc = json_loadb(in, m, 0, NULL);
        if (doc != NULL) {
            struct dp_cert_problems pr = {0};
            enum dp_status cs = dp_cert_check(doc, &pr, NULL);
            assert_true(cs == DP_OK || pr.count > 0 || cs != DP_ERR_VERIFY);
            dp_cert_problems_release(&pr);
            FILE *devnull = fopen("/dev/null", "w");
            enum dp_status rs = dp_cert_render_text(devnull, doc, NULL);
            assert_true(rs == DP_OK || rs == DP_ERR_PARSE || rs == DP_ERR_INVALID ||
                        rs == DP_ERR_IO || rs == DP_ERR_VERIFY);
            fclose(devnull);
            json_decref(doc);
        }
        struct dp_cert_verified cv = {0};
        enum dp_status st = dp_cert_verify(&cv, sd.pk, in, m, sd.sig, sd.sig_n, NULL);
        if (m != sd.cert_n || memcmp(in, sd.cert, m) != 0)
            assert_int_not_equal(st, DP_OK);
        dp_cert_verified_release(&cv);
        free(in);
        /* a mutated signature file over the real certificate */
        in = mutate(sd.sig, sd.sig_n, &m);
        char *tc = NULL;
        st = dp_sign_verify(&tc, sd.pk, sd.cert, sd.cert_n, in, m, 0, NULL);
        if (st == DP_OK) { /* only the untrusted comment line may have changed */
            const char *l2 = strchr(in, '\n');
            const char *o2 = strchr(sd.sig, '\n');
            assert_non_null(l2);
            assert_true(strncmp(l2, o2, strlen(o2)) == 0 || strstr(in, tc) != NULL);
        }
        free(tc);
        free(in);
    }
    free_seeds(&sd);
}

static void test_journals(void **state)
{
    (void)state;
    struct seeds sd;
    make_seeds(&sd);
    char *p = tu_path(sd.dir, "mutant.journal");
    char head[DP_JOURNAL_HEX_LEN];
    uint64_t records;
    assert_int_equal(dp_journal_verify_file(p + 0, head, &records, NULL, NULL, NULL) == DP_OK,
                     false); /* missing file */
    for (int i = 0; i < 5000; i++) {
        size_t m;
        char *in = mutate(sd.journal, sd.journal_n, &m);
        unlink(p);
        tu_write(sd.dir, "mutant.journal", in, m);
        struct dp_wipe_state *ws = NULL;
        assert_int_equal(dp_wipe_state_new(&ws, NULL), DP_OK);
        enum dp_status vs = dp_journal_verify_file(p, head, &records, dp_wipe_state_visit, ws, NULL);
        assert_true(vs == DP_OK || vs == DP_ERR_VERIFY || vs == DP_ERR_IO || vs == DP_ERR_LIMIT ||
                    vs == DP_ERR_PARSE);
        dp_wipe_state_free(ws);
        /* resume-style open (repairs a torn tail) of a copy */
        ws = NULL;
        assert_int_equal(dp_wipe_state_new(&ws, NULL), DP_OK);
        struct dp_journal *j = NULL;
        if (dp_journal_open(&j, p, dp_wipe_state_visit, ws, NULL, NULL) == DP_OK)
            dp_journal_free(j);
        dp_wipe_state_free(ws);
        free(in);
    }
    free(p);
    free_seeds(&sd);
}

static void test_keys(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *pub = tu_path(dir, "k.pub"), *sec = tu_path(dir, "k.sec"), *mp = tu_path(dir, "m");
    struct dp_sign_keygen_opts o = {0};
    assert_int_equal(dp_sign_keygen(NULL, pub, sec, &o, NULL), DP_OK);
    size_t pn, sn;
    char *pubt = tu_read(pub, &pn), *sect = tu_read(sec, &sn);
    for (int i = 0; i < 5000; i++) {
        size_t m;
        char *in = mutate(pubt, pn, &m);
        unlink(mp);
        tu_write(dir, "m", in, m);
        struct dp_sign_pubkey *pk = NULL;
        if (dp_sign_pubkey_load(&pk, mp, NULL) == DP_OK)
            dp_sign_pubkey_free(pk);
        free(in);
        in = mutate(sect, sn, &m);
        unlink(mp);
        tu_write(dir, "m", in, m);
        struct dp_sign_seckey *sk = NULL;
        if (dp_sign_seckey_load(&sk, mp, NULL, NULL) == DP_OK)
            dp_sign_seckey_free(sk);
        free(in);
    }
    free(pubt), free(sect), free(pub), free(sec), free(mp);
    tu_rm_rf(dir);
    free(dir);
}

/* ---- inputs the fuzzers found (fuzz/regress/TARGET/, docs/security.md "Fuzzing") ----------
 * Each reproducer is replayed here through the calls and checks of its fuzz harness, so a
 * normal and an ASan build catch it again without clang. A new fuzz/regress/ folder needs a
 * replay function in the table below (the test fails on a folder it does not know). */

/* LeakSanitizer (ASan builds): libheif 1.15's dav1d plugin leaks the Dav1dData of a corrupt
 * AVIF (40 bytes an image, allocated in libdav1d, which has no frame pointers for the fast
 * unwinder: the module is named too; fuzz/fuzz_common.c suppresses the same). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:dav1d_data_create\nleak:libdav1d.so\n"
           /* libewf 20140813 leaks a chunk's buffer when the chunk fails its checksum (7 KB a
            * bad chunk; docs/security.md "What the fuzzers found") */
           "leak:libewf_chunk_data_initialize\nleak:libewf.so\n";
}

/* fuzz_image and fuzz_image_FORMAT: decode under a 1 MP limit, as a scan (min_side 32) and in
 * full. The decoder must stay within the limit - a decode that grows the process by more
 * than 128 MB went past it (fuzz/run.sh gives the image targets -malloc_limit_mb=128) - and a decoded image must have the declared size unless it was
 * scaled (image.h), with PDQ taking its pixels. Returns what went wrong (heap), or NULL. */
static char *regress_image(const uint8_t *buf, size_t len)
{
    char *why = NULL;
    for (unsigned min_side = 0; min_side <= 32 && why == NULL; min_side += 32) {
        const struct dp_image_opts o = {.max_pixels = (uint64_t)1 << 20, .min_side = min_side};
        struct rusage before, after;
        getrusage(RUSAGE_SELF, &before);
        struct dp_image im;
        struct dp_error e = {0};
        enum dp_status st = dp_image_decode(buf, len, &o, &im, &e);
        getrusage(RUSAGE_SELF, &after);
        long grew = (after.ru_maxrss - before.ru_maxrss) / 1024;
        char m[700];
        if (grew > 128) {
            snprintf(m, sizeof(m), "decoding under a 1 MP limit grew the process by %ld MB (%s)",
                     grew, st == DP_OK ? "decoded" : e.msg);
            why = strdup(m);
        } else if (st != DP_OK) {
            assert_true(e.msg[0] != '\0');
            continue;
        } else if (im.w > im.full_w || im.h > im.full_h ||
                   (!im.scaled && (im.w != im.full_w || im.h != im.full_h))) {
            snprintf(m, sizeof(m), "decoded %zux%zu, but the image declares %zux%zu%s", im.w, im.h,
                     im.full_w, im.full_h, im.scaled ? " (scaled)" : "");
            why = strdup(m);
        } else {
            assert_true((uint64_t)im.w * im.h <= o.max_pixels);
            struct dp_pdq_result r;
            assert_int_equal(dp_pdq_hash_pixels(im.pix, im.w, im.h, im.stride, im.channels,
                                                true, &r, NULL),
                             DP_OK);
        }
        if (st == DP_OK)
            dp_image_release(&im);
    }
    return why;
}

/* fuzz_source: the input as a raw image or an EWF segment (by its signature), opened and
 * swept against a one-entry list; a raw image opens and is swept to its end, an EWF one fails
 * only with a message (a read error). */
static char *regress_source(const uint8_t *buf, size_t len)
{
    char *dir = tu_mkdtemp(), *p = tu_path(dir, "media.E01"), *why = NULL;
    tu_write_file(p, buf, len);
    struct dp_hashset *set = NULL;
    static const char list[] = "# deprive-hashes 1\nsha256:"
                               "0000000000000000000000000000000000000000000000000000000000000001"
                               " label=none\n";
    assert_int_equal(dp_hashset_new(&set, NULL), DP_OK);
    assert_int_equal(dp_hashset_load_buffer(set, "l", list, sizeof(list) - 1, NULL), DP_OK);
    assert_int_equal(dp_hashset_finalize(set, NULL), DP_OK);
    unsigned seg = 0;
    bool evf = dp_source_ewf_sniff(buf, len, &seg) == DP_SOURCE_EWF_SIG_MEDIA;
    struct dp_source *src = NULL;
    struct dp_error e = {0};
    enum dp_status st = dp_source_open(&src, p, 0, &e);
    char m[700];
    if (st != DP_OK) {
        if (!evf || e.msg[0] == '\0') {
            snprintf(m, sizeof(m), "does not open (%s): %s", evf ? "EWF" : "raw", e.msg);
            why = strdup(m);
        }
    } else {
        const struct dp_scan_opts mo = {
            .max_pixels = 1u << 20, .max_image_bytes = 4u << 20, .carve_max_stream = 1u << 20};
        const struct dp_sweep_opts so = {.match = &mo};
        struct dp_sweep_result *r = NULL;
        memset(&e, 0, sizeof(e));
        st = dp_sweep_run(set, src, p, &so, &r, &e);
        if (st != DP_OK && (!evf || st != DP_ERR_IO || e.msg[0] == '\0')) {
            snprintf(m, sizeof(m), "sweep: %s: %s", dp_status_str(st), e.msg);
            why = strdup(m);
        } else if (st == DP_OK && !evf && r->bytes_swept != len) {
            snprintf(m, sizeof(m), "a raw image of %zu bytes swept %llu", len,
                     (unsigned long long)r->bytes_swept);
            why = strdup(m);
        }
        dp_sweep_result_free(r);
    }
    dp_source_free(src);
    dp_hashset_free(set);
    tu_rm_rf(dir);
    free(p), free(dir);
    return why;
}

/* Every reproducer is replayed and every failure printed before the test fails. */
static void test_fuzz_regressions(void **state)
{
    (void)state;
    static const struct {
        const char *prefix; /* fuzz/regress/ folders whose name starts so */
        char *(*replay)(const uint8_t *buf, size_t len);
    } replays[] = {{"image", regress_image}, {"source", regress_source}};
    const char *top = DP_SOURCE_DIR "/fuzz/regress";
    DIR *d = opendir(top);
    if (d == NULL) {
        printf("hostile: no %s, nothing to replay\n", top);
        return;
    }
    size_t n = 0, bad = 0;
    struct dirent *t;
    while ((t = readdir(d)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char *(*replay)(const uint8_t *, size_t) = NULL;
        for (size_t i = 0; i < sizeof(replays) / sizeof(replays[0]); i++)
            if (strncmp(t->d_name, replays[i].prefix, strlen(replays[i].prefix)) == 0)
                replay = replays[i].replay;
        if (replay == NULL)
            fail_msg("fuzz/regress/%s: no replay for this target in test_hostile.c", t->d_name);
        char *dir = tu_path(top, t->d_name);
        DIR *f = opendir(dir);
        assert_non_null(f);
        struct dirent *e;
        while ((e = readdir(f)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char *p = tu_path(dir, e->d_name);
            size_t len = 0;
            char *buf = tu_read(p, &len);
            assert_non_null(buf);
            char *why = replay((const uint8_t *)buf, len);
            if (why != NULL) {
                printf("hostile: fuzz/regress/%s/%s: %s\n", t->d_name, e->d_name, why);
                bad++;
            }
            free(why), free(buf), free(p);
            n++;
        }
        closedir(f);
        free(dir);
    }
    closedir(d);
    printf("hostile: %zu fuzz reproducers replayed, %zu failed\n", n, bad);
    if (bad > 0)
        fail_msg("%zu fuzz reproducers fail (fuzz/README.md, \"Known bugs\")", bad);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_lists),
        cmocka_unit_test(test_plans_certificates_signatures),
        cmocka_unit_test(test_journals),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_fuzz_regressions),
    };
    return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
