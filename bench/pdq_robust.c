/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive bench: perceptual matching robustness at full size - generated originals hashed with
 * deprive's own hashing, nine edits of each written with libjpeg/libpng, unrelated images, one
 * real scan; prints the per-edit table and the unrelated images' nearest distances beside the
 * targets (tests/robust.c does the work). Run through bench/pdq_robust.sh; see
 * bench/README.md. Exit 0: every target met; 1: a target missed; 2: error or usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/image.h"
#include "deprive/pdq.h"
#include "robust.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: pdq_robust --dir DIR [--originals N] [--unrelated N] [--size WxH]\n"
               "                  [--unrelated-size WxH] [--threads N] [--seed N] [--sweep N]\n"
               "  DIR: an existing empty directory (the images and the list go there; the\n"
               "  caller removes it). Defaults: 100 originals and 1000 unrelated images, both\n"
               "  1024x768, one thread per CPU, seed 1. --sweep N: also crops of 1-5%% and\n"
               "  watermarks of 2.5-10%% on the first N originals (hashed, not scanned).\n");
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (end == s || *end != '\0' || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static bool parse_size(const char *s, int *w, int *h)
{
    unsigned a, b;
    char x;
    if (sscanf(s, "%u%c%u", &a, &x, &b) != 3 || x != 'x' || a < 64 || b < 64 || a > 8192 ||
        b > 8192)
        return false;
    *w = (int)a, *h = (int)b;
    return true;
}

static bool targets_met(const struct robust_result *r)
{
    bool ok = r->unrelated_found == 0 && r->wrong_matches == 0 && r->disagreements == 0;
    for (int e = 0; e < ROBUST_EDITS; e++) {
        struct robust_edit_stats s;
        robust_edit_stats(r, (enum robust_edit)e, &s);
        ok = ok &&
             100 * s.found >= (unsigned)robust_edit_info((enum robust_edit)e)->target * s.total;
    }
    struct robust_dist d;
    robust_unrelated_stats(r, &d);
    return ok && d.within == 0 && d.min_quality >= DP_PDQ_MIN_QUALITY;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
        fread(buf, 1, (size_t)n, f) != (size_t)n)
        free(buf), buf = NULL;
    if (f != NULL)
        fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

/* Write im as JPEG q90 to path, decode it in full and return the nearest distance of its 8
 * variants to target; -1 on failure (message on stderr). */
static int jpeg_distance(const char *path, const struct robust_image *im,
                         const struct dp_pdq *target)
{
    char msg[512];
    size_t len = 0;
    char *buf = NULL;
    struct dp_image img;
    struct dp_pdq_result r;
    struct dp_error e = {0};
    int d = -1;
    if (!robust_write_jpeg(path, im, 90, msg, sizeof(msg)))
        fprintf(stderr, "pdq_robust: %s\n", msg);
    else if ((buf = read_all(path, &len)) == NULL)
        fprintf(stderr, "pdq_robust: cannot read '%s'\n", path);
    else if (dp_image_decode((const uint8_t *)buf, len, NULL, &img, &e) != DP_OK)
        fprintf(stderr, "pdq_robust: '%s': %s\n", path, e.msg);
    else {
        if (dp_pdq_hash_pixels(img.pix, img.w, img.h, img.stride, img.channels, true, &r, &e) ==
            DP_OK)
            d = dp_pdq_min_distance(&r, true, target, NULL);
        dp_image_release(&img);
    }
    free(buf);
    return d;
}

#define SWEEP_ROWS 7

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Where PDQ stops finding crops and watermarks: the first n originals cropped by 1, 2, 3 and
 * 5% and watermarked over 2.5, 5 and 10%, each as JPEG q90, decoded and hashed (not scanned:
 * the scan's distances are the full decode's, which the main run checks). The 5% and 10% rows
 * are the main table's crop5 and watermark copies again. */
static bool sweep(const struct robust_config *c, unsigned n)
{
    static const struct {
        const char *label;
        bool crop;
        double amount;
    } rows[SWEEP_ROWS] = {{"crop 1%", true, 0.01},          {"crop 2%", true, 0.02},
                          {"crop 3%", true, 0.03},          {"crop 5%", true, 0.05},
                          {"watermark 2.5%", false, 0.025}, {"watermark 5%", false, 0.05},
                          {"watermark 10%", false, 0.10}};
    int *d = malloc(sizeof(int) * SWEEP_ROWS * n);
    char *path = NULL;
    if (d == NULL || asprintf(&path, "%s/sweep.jpg", c->dir) < 0) {
        free(d);
        return false;
    }
    bool ok = true;
    for (unsigned i = 0; ok && i < n; i++) {
        struct robust_image im = {0}, ed = {0};
        struct dp_pdq_result o;
        ok = robust_scene(&im, c->width, c->height, c->seed + i) &&
             dp_pdq_hash_pixels(im.px, (size_t)im.w, (size_t)im.h, (size_t)im.w * 3, 3, false, &o,
                                NULL) == DP_OK;
        for (int k = 0; ok && k < SWEEP_ROWS; k++) {
            ok = rows[k].crop ? robust_crop(&ed, &im, rows[k].amount, i)
                              : robust_watermark(&ed, &im, rows[k].amount, i);
            ok = ok && (d[k * n + i] = jpeg_distance(path, &ed, &o.hash[0])) >= 0;
            robust_image_free(&ed);
        }
        robust_image_free(&im);
    }
    if (ok) {
        printf("\nwhere crops and watermarks stop being found (first %u originals, JPEG q90, "
               "hashed directly; edges and corners vary as above):\n",
               n);
        printf("%-16s %11s %7s %6s %4s %4s\n", "edit", "within 31", "rate", "median", "min", "max");
        for (int k = 0; k < SWEEP_ROWS; k++) {
            int *v = d + k * n;
            unsigned within = 0;
            for (unsigned i = 0; i < n; i++)
                within += v[i] <= DP_PDQ_THRESHOLD;
            qsort(v, n, sizeof(int), cmp_int);
            printf("%-16s %5u/%-5u %6.1f%% %6d %4d %4d\n", rows[k].label, within, n,
                   100.0 * within / n, v[(n - 1) / 2], v[0], v[n - 1]);
        }
    } else
        fprintf(stderr, "pdq_robust: the sweep failed\n");
    remove(path);
    free(path);
    free(d);
    return ok;
}

int main(int argc, char **argv)
{
    struct robust_config c = {.originals = 100,
                              .unrelated = 1000,
                              .width = 1024,
                              .height = 768,
                              .unrelated_width = 1024,
                              .unrelated_height = 768,
                              .seed = 1};
    static const struct option longopts[] = {{"dir", required_argument, NULL, 'd'},
                                             {"originals", required_argument, NULL, 'o'},
                                             {"unrelated", required_argument, NULL, 'u'},
                                             {"size", required_argument, NULL, 's'},
                                             {"unrelated-size", required_argument, NULL, 'S'},
                                             {"threads", required_argument, NULL, 't'},
                                             {"seed", required_argument, NULL, 'r'},
                                             {"sweep", required_argument, NULL, 'w'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    unsigned seed = 1, sweep_n = 0;
    while ((opt = getopt_long(argc, argv, "d:o:u:s:S:t:r:w:h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case 'd':
            c.dir = optarg;
            break;
        case 'o':
            ok = parse_uint(optarg, 999, &c.originals) && c.originals >= 2;
            break;
        case 'u':
            ok = parse_uint(optarg, 9999, &c.unrelated) && c.unrelated >= 1;
            break;
        case 's':
            ok = parse_size(optarg, &c.width, &c.height);
            break;
        case 'S':
            ok = parse_size(optarg, &c.unrelated_width, &c.unrelated_height);
            break;
        case 't':
            ok = parse_uint(optarg, 64, &c.threads);
            break;
        case 'r':
            ok = parse_uint(optarg, 1000000, &seed);
            break;
        case 'w':
            ok = parse_uint(optarg, 9999, &sweep_n);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            ok = false;
            break;
        }
        if (!ok) {
            fprintf(stderr, "pdq_robust: bad value for an option\n");
            usage(stderr);
            return 2;
        }
    }
    if (c.dir == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }
    c.seed = seed;
    struct robust_result r;
    if (!robust_run(&c, &r)) {
        fprintf(stderr, "pdq_robust: %s\n", r.error);
        robust_result_free(&r);
        return 2;
    }
    char *text = robust_report(&c, &r);
    if (text == NULL) {
        fprintf(stderr, "pdq_robust: out of memory\n");
        robust_result_free(&r);
        return 2;
    }
    fputs(text, stdout);
    free(text);
    bool ok = targets_met(&r);
    robust_result_free(&r);
    if (sweep_n > 0 && !sweep(&c, sweep_n))
        return 2;
    printf("\nall targets: %s\n", ok ? "met" : "MISSED");
    return ok ? 0 : 1;
}
