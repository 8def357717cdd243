/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: PDQ against Meta's reference vectors (../shared/fixtures/pdq: test-only
 * data, read in place, never copied), the hex word order, the dihedral variants, and the image
 * decoders on good, truncated and hostile input. */
#include "testutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

#include "deprive/image.h"
#include "deprive/pdq.h"

#define SHARED_PDQ DP_SOURCE_DIR "/../shared/fixtures/pdq"

static bool have_vectors(void)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/expected.tsv", SHARED_PDQ);
    if (access(p, R_OK) == 0)
        return true;
    printf("pdq: reference vectors not found at %s (../shared absent): that part skipped\n",
           SHARED_PDQ);
    return false;
}

/* Decode (full) and hash a fixture; false when the format is not one deprive decodes yet. */
static bool hash_file(const char *rel, struct dp_pdq_result *r)
{
    char *p = tu_path(SHARED_PDQ, rel);
    size_t len = 0;
    char *buf = tu_read(p, &len);
    if (buf == NULL)
        fail_msg("cannot read %s", p);
    struct dp_image img;
    struct dp_error e = {0};
    enum dp_status st = dp_image_decode((const uint8_t *)buf, len, NULL, &img, &e);
    free(buf);
    free(p);
    if (st == DP_ERR_UNSUPPORTED)
        return false;
    if (st != DP_OK)
        fail_msg("%s: %s", rel, e.msg);
    st = dp_pdq_hash_pixels(img.pix, img.w, img.h, img.stride, img.channels, true, r, &e);
    dp_image_release(&img);
    if (st != DP_OK)
        fail_msg("%s: %s", rel, e.msg);
    return true;
}

/* Every row of a reference table: file, then hashes, then quality last. */
static void check_table(const char *table, int nhashes, int *checked, int *unsupported)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", SHARED_PDQ, table);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    bool header = true;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (header) {
            header = false;
            continue;
        }
        char *save = NULL, *file = strtok_r(line, "\t\n", &save);
        char *hex[DP_PDQ_VARIANTS];
        for (int i = 0; i < nhashes; i++)
            hex[i] = strtok_r(NULL, "\t\n", &save);
        char *q = strtok_r(NULL, "\t\n", &save);
        assert_non_null(q);
        struct dp_pdq_result r;
        if (!hash_file(file, &r)) {
            printf("pdq: %s: no decoder for this format yet\n", file);
            (*unsupported)++;
            continue;
        }
        for (int i = 0; i < nhashes; i++) {
            struct dp_pdq want;
            assert_true(dp_pdq_parse(hex[i], strlen(hex[i]), &want));
            int d = dp_pdq_distance(&r.hash[i], &want);
            if (d != 0) {
                char got[DP_PDQ_HEX + 1];
                dp_pdq_hex(&r.hash[i], got);
                fail_msg("%s %s: distance %d\n  got  %s\n  want %s", file,
                         dp_pdq_variant_name((enum dp_pdq_variant)i), d, got, hex[i]);
            }
        }
        if (r.quality != atoi(q))
            fail_msg("%s: quality %d, reference %s", file, r.quality, q);
        (*checked)++;
    }
    fclose(f);
}

static void test_reference_vectors(void **state)
{
    (void)state;
    if (!have_vectors())
        skip();
    int checked = 0, unsupported = 0;
    check_table("expected.tsv", 1, &checked, &unsupported);
    check_table("expected-dihedral.tsv", DP_PDQ_VARIANTS, &checked, &unsupported);
    check_table("expected-extra.tsv", 1, &checked, &unsupported);
    printf("pdq: %d reference rows reproduced at distance 0 with the same quality; %d in "
           "formats not decoded yet\n",
           checked, unsupported);
    assert_true(checked >= 70);
    /* the reference's rotated and flipped files are found through the original's variants */
    static const char *const dih[DP_PDQ_VARIANTS] = {
        "1-original", "2-rotate-90", "3-rotate-180", "4-rotate-270",
        "5-flipx",    "6-flipy",     "7-flip-plus-1", "8-flip-minus-1"};
    struct dp_pdq_result orig, t;
    assert_true(hash_file("reg-test-input/dih/bridge-1-original.jpg", &orig));
    for (int v = 0; v < DP_PDQ_VARIANTS; v++) {
        char rel[128];
        snprintf(rel, sizeof(rel), "reg-test-input/dih/bridge-%s.jpg", dih[v]);
        assert_true(hash_file(rel, &t));
        enum dp_pdq_variant got;
        int d = dp_pdq_min_distance(&orig, true, &t.hash[0], &got);
        printf("pdq: %s: found as %s at distance %d (plain distance %d)\n", rel,
               dp_pdq_variant_name(got), d, dp_pdq_distance(&orig.hash[0], &t.hash[0]));
        assert_int_equal(got, v);
        assert_true(d <= DP_PDQ_THRESHOLD);
    }
}

/* The reference prints 16-bit word 15 first: bit 0 (coefficient (0,0)) is the last hex digit's
 * low bit, bit 255 the first digit's high bit. A flipped order fails here. */
static void test_hex_word_order(void **state)
{
    (void)state;
    /* a 64x64 luma (the blur is then the identity) made of the DCT basis functions (1,1) and
       (16,16): coefficients (0,0) and (15,15) stand out, every other one is about zero */
    float *luma = calloc(64 * 64, sizeof(float));
    assert_non_null(luma);
    for (int i = 0; i < 64; i++)
        for (int j = 0; j < 64; j++)
            luma[i * 64 + j] =
                (float)(128 + 60 * cos(M_PI * (2 * i + 1) / 128.0) * cos(M_PI * (2 * j + 1) / 128.0) +
                        60 * cos(M_PI * 16 * (2 * i + 1) / 128.0) *
                            cos(M_PI * 16 * (2 * j + 1) / 128.0));
    struct dp_pdq_result r;
    assert_int_equal(dp_pdq_hash_luma(luma, 64, 64, false, &r, NULL), DP_OK);
    free(luma);
    char hex[DP_PDQ_HEX + 1];
    dp_pdq_hex(&r.hash[0], hex);
    printf("pdq: basis (1,1)+(16,16): %s\n", hex);
    struct dp_pdq h;
    assert_true(dp_pdq_parse(hex, 64, &h));
    assert_int_equal(dp_pdq_distance(&h, &r.hash[0]), 0);
    /* bit 0 = coefficient (0,0) is the last digit's low bit; bit 255 = (15,15) the first
       digit's high bit (word 15 printed first) */
    assert_true(hex[63] == '1' || hex[63] == '3' || hex[63] == '5' || hex[63] == '7' ||
                hex[63] == '9' || hex[63] == 'b' || hex[63] == 'd' || hex[63] == 'f');
    assert_true(hex[0] >= '8');
    /* round trip and distance basics */
    assert_false(dp_pdq_parse(hex, 63, &h));
    hex[5] = 'g';
    assert_false(dp_pdq_parse(hex, 64, &h));
    struct dp_pdq zero = {{0}}, ones;
    memset(ones.b, 0xff, sizeof(ones.b));
    assert_int_equal(dp_pdq_distance(&zero, &ones), 256);
}

/* Rotating the pixels must give the hash the dihedral variant predicts, on generated images. */
static void test_dihedral_on_generated(void **state)
{
    (void)state;
    enum { W = 320, H = 256 };
    uint8_t *img = malloc(W * H), *rot = malloc(W * H);
    assert_non_null(img);
    assert_non_null(rot);
    /* an image whose 16x16 low frequencies all carry clear, random-signed energy (what PDQ
       keys on; a photo has it, a smooth gradient or flat blocks leave many coefficients next to
       the median, where a resampling flips them) */
    double c[16][16];
    uint32_t s = 12345;
    for (int u = 0; u < 16; u++)
        for (int v = 0; v < 16; v++) {
            s = s * 1103515245 + 12345;
            c[u][v] = (2.0 + (s >> 16) % 100 / 50.0) * ((s >> 30) & 1 ? 1 : -1);
        }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double yy = (y + 0.5) * 64 / H - 0.5, xx = (x + 0.5) * 64 / W - 0.5, val = 128;
            for (int u = 0; u < 16; u++)
                for (int v = 0; v < 16; v++)
                    val += c[u][v] * cos(M_PI * (u + 1) * (2 * yy + 1) / 128) *
                           cos(M_PI * (v + 1) * (2 * xx + 1) / 128);
            img[y * W + x] = (uint8_t)(val < 0 ? 0 : val > 255 ? 255 : val);
        }
    struct dp_pdq_result r, rr;
    assert_int_equal(dp_pdq_hash_pixels(img, W, H, W, 1, true, &r, NULL), DP_OK);
    /* 180 degrees */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            rot[(H - 1 - y) * W + (W - 1 - x)] = img[y * W + x];
    assert_int_equal(dp_pdq_hash_pixels(rot, W, H, W, 1, false, &rr, NULL), DP_OK);
    enum dp_pdq_variant v;
    int d = dp_pdq_min_distance(&r, true, &rr.hash[0], &v);
    printf("pdq: 180-degree rotation of a generated image (quality %d): nearest variant %s at "
           "distance %d\n",
           r.quality, dp_pdq_variant_name(v), d);
    assert_int_equal(v, DP_PDQ_ROTATE_180);
    assert_true(d <= DP_PDQ_THRESHOLD);
    assert_true(dp_pdq_distance(&r.hash[0], &rr.hash[0]) > DP_PDQ_THRESHOLD); /* needs it */
    /* mirrored left-right */
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            rot[y * W + (W - 1 - x)] = img[y * W + x];
    assert_int_equal(dp_pdq_hash_pixels(rot, W, H, W, 1, false, &rr, NULL), DP_OK);
    d = dp_pdq_min_distance(&r, true, &rr.hash[0], &v);
    printf("pdq: mirrored: nearest variant %s at distance %d\n", dp_pdq_variant_name(v), d);
    assert_true(d <= DP_PDQ_THRESHOLD);
    assert_true(v == DP_PDQ_FLIP_Y || v == DP_PDQ_FLIP_X);
    free(img);
    free(rot);
}

static void test_tiny_and_bad_input(void **state)
{
    (void)state;
    uint8_t px[4 * 4 * 3] = {0};
    struct dp_pdq_result r;
    assert_int_equal(dp_pdq_hash_pixels(px, 4, 4, 12, 3, true, &r, NULL), DP_OK);
    assert_int_equal(r.quality, 0); /* under 5 pixels: zero hash, quality 0, as the reference */
    struct dp_pdq zero = {{0}};
    assert_int_equal(dp_pdq_distance(&r.hash[0], &zero), 0);
    assert_int_equal(dp_pdq_hash_pixels(px, 4, 4, 2, 3, false, &r, NULL), DP_ERR_INVALID);
    assert_int_equal(dp_pdq_hash_pixels(px, 4, 4, 12, 2, false, &r, NULL), DP_ERR_INVALID);
}

/* Decoders: not an image; truncated JPEG and PNG; a PNG header declaring 100,000 x 100,000
 * pixels is refused before any pixel is allocated. */
static void test_decoder_bad_input(void **state)
{
    (void)state;
    struct dp_image img;
    struct dp_error e = {0};
    const uint8_t text[] = "just some text, not an image";
    assert_int_equal(dp_image_decode(text, sizeof(text), NULL, &img, &e), DP_ERR_UNSUPPORTED);
    assert_int_equal(dp_image_sniff(text, sizeof(text)), DP_IMAGE_NONE);
    const uint8_t jpeg_head[] = {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0};
    assert_int_equal(dp_image_sniff(jpeg_head, sizeof(jpeg_head)), DP_IMAGE_JPEG);
    assert_int_equal(dp_image_decode(jpeg_head, sizeof(jpeg_head), NULL, &img, &e), DP_ERR_PARSE);
    printf("pdq: truncated JPEG: %s\n", e.msg);
    /* PNG signature + IHDR claiming 100000 x 100000 RGB (CRC computed by libpng's rules is not
       needed: the limit is checked from the header; a bad CRC would be a parse error) */
    uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D',
                     'R', 0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0, 0, 0, 0, 0};
    /* CRC-32 of "IHDR" + data */
    uint32_t crc = 0xffffffffu;
    for (int i = 12; i < 12 + 17; i++) {
        crc ^= png[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    crc ^= 0xffffffffu;
    png[29] = (uint8_t)(crc >> 24), png[30] = (uint8_t)(crc >> 16), png[31] = (uint8_t)(crc >> 8),
    png[32] = (uint8_t)crc;
    enum dp_status st = dp_image_decode(png, sizeof(png), NULL, &img, &e);
    printf("pdq: 100000x100000 PNG header: %s\n", e.msg);
    assert_int_equal(st, DP_ERR_LIMIT);
    assert_non_null(strstr(e.msg, "--max-pixels"));
    /* truncated real files, at many lengths: a parse error or a decoded image, never a crash */
    if (!have_vectors())
        return;
    static const char *const files[] = {"bridge-mods/aaa-orig.jpg", "misc-images/c.png"};
    for (size_t f = 0; f < 2; f++) {
        char *p = tu_path(SHARED_PDQ, files[f]);
        size_t len = 0;
        char *buf = tu_read(p, &len);
        assert_non_null(buf);
        int parse = 0, ok = 0;
        for (size_t cut = 0; cut < len; cut += len / 37 + 1) {
            st = dp_image_decode((const uint8_t *)buf, cut, NULL, &img, &e);
            assert_true(st == DP_OK || st == DP_ERR_PARSE || st == DP_ERR_UNSUPPORTED);
            parse += st != DP_OK;
            ok += st == DP_OK;
            dp_image_release(&img);
        }
        printf("pdq: %s truncated at 38 lengths: %d refused, %d decoded (partially)\n",
               files[f], parse, ok);
        free(buf);
        free(p);
    }
}

/* The victim side: `deprive hash` writes pdq:HEX:QUALITY for an image, from the full decode
 * (the reference's hash), nothing perceptual for other files, and its output loads back as a
 * hash list. */
static void test_cli_hash_pdq(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    /* a generated PNG: a smooth picture of 200x150 */
    enum { W = 200, H = 150 };
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    pi.width = W;
    pi.height = H;
    pi.format = PNG_FORMAT_RGB;
    uint8_t *px = malloc(W * H * 3);
    assert_non_null(px);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            px[(y * W + x) * 3] = (uint8_t)(x + y);
            px[(y * W + x) * 3 + 1] = (uint8_t)(128 + 100 * sin(x / 9.0) * cos(y / 7.0));
            px[(y * W + x) * 3 + 2] = (uint8_t)(x * y / 120);
        }
    char *png = tu_path(dir, "picture.png"), *txt = tu_path(dir, "notes.txt");
    assert_true(png_image_write_to_file(&pi, png, 0, px, 0, NULL) != 0);
    tu_write(dir, "notes.txt", "not an image\n", 13);
    struct dp_pdq_result want;
    assert_int_equal(dp_pdq_hash_pixels(px, W, H, W * 3, 3, false, &want, NULL), DP_OK);
    free(px);
    char hex[DP_PDQ_HEX + 1], needle[128];
    dp_pdq_hex(&want.hash[0], hex);
    snprintf(needle, sizeof(needle), " pdq:%s:%d", hex, want.quality);
    struct tu_run r;
    tu_deprive(&r, NULL, "hash", png, txt, NULL);
    assert_int_equal(r.status, 0);
    printf("pdq: deprive hash:\n%s", r.out);
    char *nl = strchr(r.out, '\n'), *second = nl ? strchr(nl + 1, '\n') : NULL;
    assert_non_null(second);
    assert_non_null(strstr(r.out, needle));                     /* the image's line */
    assert_null(strstr(second + 1, "pdq:"));                     /* none for the text file */
    tu_write(dir, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *list = tu_path(dir, "list.txt");
    tu_deprive(&r, NULL, "scan", "--json", "--hashes", list, dir, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"pdq\": 1"));
    tu_run_free(&r);
    /* the reference's own vector, when the shared fixtures are there */
    if (have_vectors()) {
        char *jpg = tu_path(SHARED_PDQ, "bridge-mods/aaa-orig.jpg");
        tu_deprive(&r, NULL, "hash", jpg, NULL);
        assert_int_equal(r.status, 0);
        assert_non_null(
            strstr(r.out, " pdq:d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22:100"));
        tu_run_free(&r);
        free(jpg);
    }
    free(png), free(txt), free(list);
    tu_rm_rf(dir);
    free(dir);
}

/* Scene for the end-to-end test: DCT-rich like a photo (see test_dihedral_on_generated). */
static void scene(uint8_t *px, int w, int h, uint32_t seed)
{
    double c[16][16];
    for (int u = 0; u < 16; u++)
        for (int v = 0; v < 16; v++) {
            seed = seed * 1103515245 + 12345;
            c[u][v] = (2.0 + (seed >> 16) % 100 / 50.0) * ((seed >> 30) & 1 ? 1 : -1);
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double yy = (y + 0.5) * 64 / h - 0.5, xx = (x + 0.5) * 64 / w - 0.5, v = 128;
            for (int u = 0; u < 16; u++)
                for (int k = 0; k < 16; k++)
                    v += c[u][k] * cos(M_PI * (u + 1) * (2 * yy + 1) / 128) *
                         cos(M_PI * (k + 1) * (2 * xx + 1) / 128);
            uint8_t g = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            px[(y * w + x) * 3] = g, px[(y * w + x) * 3 + 1] = (uint8_t)(g / 2 + 60),
                             px[(y * w + x) * 3 + 2] = (uint8_t)(255 - g);
        }
}

static void write_png(const char *dir, const char *name, const uint8_t *px, int w, int h)
{
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)w;
    pi.height = (png_uint_32)h;
    pi.format = PNG_FORMAT_RGB;
    char *p = tu_path(dir, name);
    assert_true(png_image_write_to_file(&pi, p, 0, px, 0, NULL) != 0);
    free(p);
}

/* End to end: a victim's image hashed by `deprive hash`; on the device an exact copy, a half-
 * size copy, a copy turned 180 degrees and an unrelated image. The scan finds the three
 * copies, the altered ones as perceptual-only; the wipe erases the exact copy and leaves the
 * perceptual-only ones (a person must confirm them); the unrelated image is never touched. */
static void test_perceptual_end_to_end(void **state)
{
    (void)state;
    enum { W = 480, H = 360 };
    char *dir = tu_mkdtemp(), *dev = tu_path(dir, "dev"), *work = tu_path(dir, "work");
    mkdir(dev, 0755);
    mkdir(work, 0755);
    uint8_t *px = malloc(W * H * 3), *half = malloc(W * H * 3), *rot = malloc(W * H * 3),
            *other = malloc(W * H * 3);
    assert_true(px && half && rot && other);
    scene(px, W, H, 777);
    scene(other, W, H, 4242);
    for (int y = 0; y < H / 2; y++) /* half size: a 2x2 box average */
        for (int x = 0; x < W / 2; x++)
            for (int c = 0; c < 3; c++)
                half[(y * (W / 2) + x) * 3 + c] =
                    (uint8_t)((px[((2 * y) * W + 2 * x) * 3 + c] + px[((2 * y) * W + 2 * x + 1) * 3 + c] +
                               px[((2 * y + 1) * W + 2 * x) * 3 + c] +
                               px[((2 * y + 1) * W + 2 * x + 1) * 3 + c] + 2) / 4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            memcpy(rot + ((H - 1 - y) * W + (W - 1 - x)) * 3, px + (y * W + x) * 3, 3);
    write_png(work, "victim.png", px, W, H);
    write_png(dev, "copy.png", px, W, H);
    write_png(dev, "thumb.png", half, W / 2, H / 2);
    write_png(dev, "turned.png", rot, W, H);
    write_png(dev, "holiday.png", other, W, H);
    free(px), free(half), free(rot), free(other);
    char *fp_before = tu_fingerprint(dev);
    struct tu_run r;
    char *victim = tu_path(work, "victim.png");
    tu_deprive(&r, NULL, "hash", victim, NULL);
    assert_int_equal(r.status, 0);
    tu_write(work, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *list = tu_path(work, "list.txt"), *plan = tu_path(work, "plan.json");
    tu_deprive(&r, NULL, "scan", "--hashes", list, "-o", plan, dev, NULL);
    printf("pdq: %s", r.out);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "findings: 3"));
    assert_non_null(strstr(r.out, "MATCH copy.png"));
    assert_non_null(strstr(r.out, "PERCEPTUAL MATCH (needs confirmation) thumb.png"));
    assert_non_null(strstr(r.out, "PERCEPTUAL MATCH (needs confirmation) turned.png"));
    assert_non_null(strstr(r.out, "rotate180"));
    assert_null(strstr(r.out, "holiday.png"));
    tu_run_free(&r);
    char *journal = tu_path(work, "journal");
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "ORD-PDQ-1", "--hashes", list,
               "--journal", journal, "--journal-on-same-fs", plan, NULL);
    printf("pdq: %s", r.out);
    assert_int_equal(r.status, 1); /* not everything erased: two need confirmation */
    assert_non_null(strstr(r.out, "perceptual-only match"));
    tu_run_free(&r);
    char *copy = tu_path(dev, "copy.png"), *thumb = tu_path(dev, "thumb.png");
    char *turned = tu_path(dev, "turned.png"), *holiday = tu_path(dev, "holiday.png");
    assert_int_equal(access(copy, F_OK), -1);
    assert_int_equal(access(thumb, F_OK), 0);
    assert_int_equal(access(turned, F_OK), 0);
    /* everything but the erased copy is byte-identical */
    char *fp_after = tu_fingerprint(dev);
    char *line = strstr(fp_before, "./copy.png");
    assert_non_null(line);
    char *start = line;
    while (start > fp_before && start[-1] != '\n')
        start--;
    memmove(start, line + strlen("./copy.png\n"), strlen(line + strlen("./copy.png\n")) + 1);
    assert_string_equal(fp_before, fp_after);
    free(fp_before), free(fp_after), free(copy), free(thumb), free(turned), free(holiday);
    free(victim), free(list), free(plan), free(journal), free(dev), free(work);
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_vectors),   cmocka_unit_test(test_hex_word_order),
        cmocka_unit_test(test_dihedral_on_generated), cmocka_unit_test(test_tiny_and_bad_input),
        cmocka_unit_test(test_decoder_bad_input), cmocka_unit_test(test_cli_hash_pdq),
        cmocka_unit_test(test_perceptual_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
