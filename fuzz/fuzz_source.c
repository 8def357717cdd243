/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: the raw sweep's input (`deprive sweep`) - a raw image or an Expert Witness
 * (E01) set handed over with a seized device. The input is written to a file in the process's
 * private temp directory (removed again after each run), opened with dp_source_open (an EWF set
 * when it starts with the EVF signature, through libewf; else a raw image) and swept with
 * dp_sweep_run against a fixed hash set: the SHA-256 of fuzz/data/sweep-exact.jpg and the PDQ
 * hash of fuzz/data/sweep-pdq.png, computed at start-up by the library itself, so the seeds,
 * which plant those images, run the exact and the perceptual matching paths. Images are decoded
 * under a 1 MP limit, streams followed up to 1 MiB; media over 8 MiB (an EWF set can declare
 * gigabytes in a few KB) are only read at both ends. Then the sweep report is built and dumped.
 * Properties: an empty input is refused (DP_ERR_INVALID), every refusal has a message; an input
 * opens as EWF exactly when it starts with the EVF media signature (else raw, its size the
 * input's); a raw sweep never fails and reads every byte; an EWF sweep fails only with a read
 * error; matches lie inside the media, in offset order, each at least DP_CARVE_MIN_STREAM and at
 * most 1 MiB long, and the media's bytes there have the SHA-256 the finding records; an exact
 * match is the planted digest; the report builds. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "deprive/carve.h"
#include "deprive/digest.h"
#include "deprive/hashset.h"
#include "deprive/image.h"
#include "deprive/pdq.h"
#include "deprive/source.h"
#include "deprive/sweep.h"
#include "deprive/util.h"

#define MAX_STREAM (1u << 20)
/* A few KB of EWF can declare gigabytes of media (every chunk the same compressed one); the
 * sweep reads all of it by design, which is a long run, not a finding: larger media are opened
 * and read at both ends, not swept. */
#define MAX_MEDIA (8u << 20)

static struct dp_hashset *set;
static uint8_t exact_sha256[32];
static struct dp_digest *dg;

static void sha256_of(const uint8_t *b, size_t n, uint8_t out[32])
{
    uint8_t d[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    if (dp_digest_begin(dg, DP_DIGEST_MASK(DP_ALGO_SHA256), NULL) != DP_OK)
        abort();
    dp_digest_update(dg, b, n);
    dp_digest_end(dg, d);
    memcpy(out, d[DP_ALGO_SHA256], 32);
}

static char *data_file(const char *name, size_t *n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", FUZZ_DATA_DIR, name);
    return fz_read(path, n);
}

/* The fixed set: sweep-exact.jpg by SHA-256 (with its size), sweep-pdq.png by PDQ. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    struct dp_error err = {0};
    if (dp_digest_new(&dg, &err) != DP_OK)
        abort();
    size_t jn, pn;
    char *jpg = data_file("sweep-exact.jpg", &jn), *png = data_file("sweep-pdq.png", &pn);
    sha256_of((const uint8_t *)jpg, jn, exact_sha256);
    char hex[65];
    dp_hex_encode(hex, exact_sha256, 32);
    struct dp_image im;
    struct dp_pdq_result r;
    const struct dp_image_opts io = {0};
    if (dp_image_decode((const uint8_t *)png, pn, &io, &im, &err) != DP_OK ||
        dp_pdq_hash_pixels(im.pix, im.w, im.h, im.stride, im.channels, false, &r, &err) != DP_OK) {
        fprintf(stderr, "fuzz_source: sweep-pdq.png: %s\n", err.msg);
        abort();
    }
    dp_image_release(&im);
    char pdq[DP_PDQ_HEX + 1];
    dp_pdq_hex(&r.hash[DP_PDQ_ORIGINAL], pdq);
    char list[512];
    int ln = snprintf(list, sizeof(list),
                      "# deprive-hashes 1\nsha256:%s size:%zu label=planted jpeg\n"
                      "pdq:%s label=planted png\n",
                      hex, jn, pdq);
    if (dp_hashset_new(&set, &err) != DP_OK ||
        dp_hashset_load_buffer(set, "fuzz-sweep.txt", list, (size_t)ln, &err) != DP_OK ||
        dp_hashset_finalize(set, &err) != DP_OK) {
        fprintf(stderr, "fuzz_source: hash set: %s\n", err.msg);
        abort();
    }
    free(jpg);
    free(png);
    return 0;
}

/* The finding's place on the media holds bytes with its SHA-256; an exact match is ours. */
static void check_match(struct dp_source *src, const struct dp_finding *f, uint64_t size)
{
    if (!f->embedded || f->embedded_length < DP_CARVE_MIN_STREAM ||
        f->embedded_length > MAX_STREAM || f->embedded_offset > size ||
        f->embedded_length > size - f->embedded_offset || f->match_count == 0)
        abort();
    uint8_t *b = malloc((size_t)f->embedded_length);
    size_t got = 0;
    if (b == NULL)
        abort();
    enum dp_status st =
        dp_source_read(src, f->embedded_offset, b, (size_t)f->embedded_length, &got, NULL);
    if ((st == DP_OK || st == DP_ERR_VERIFY) && got == f->embedded_length) {
        uint8_t h[32];
        sha256_of(b, got, h);
        if (memcmp(h, f->digests[DP_ALGO_SHA256], 32) != 0)
            abort(); /* the finding's digest is not of the bytes it names */
    }
    free(b);
    for (size_t i = 0; i < f->match_count; i++) {
        const struct dp_match *m = &f->matches[i];
        if (m->algo == DP_ALGO_SHA256 && memcmp(f->digests[DP_ALGO_SHA256], exact_sha256, 32))
            abort();
        if (m->algo != DP_ALGO_SHA256 && m->algo != DP_ALGO_PDQ)
            abort(); /* the set holds nothing else */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = fz_write("media.E01", data, size);
    struct dp_source *src = NULL;
    struct dp_error err = {0};
    enum dp_status st = dp_source_open(&src, p, 0, &err);
    unsigned seg = 0;
    bool evf = dp_source_ewf_sniff(data, size, &seg) == DP_SOURCE_EWF_SIG_MEDIA;
    if (st != DP_OK) {
        if (src != NULL || err.msg[0] == '\0' || (size == 0 && st != DP_ERR_INVALID) ||
            (!evf && size > 0 && dp_source_ewf_sniff(data, size, &seg) == DP_SOURCE_EWF_SIG_NONE))
            abort(); /* a raw image of any content opens */
        goto out;
    }
    const struct dp_source_info *in = dp_source_info(src);
    if ((in->kind == DP_SOURCE_EWF) != evf || (!evf && in->size != size) || in->size == 0 ||
        dp_source_file_count(src) == 0 || dp_source_file(src, 0) == NULL)
        abort();

    if (in->size > MAX_MEDIA) {
        uint8_t b[4096];
        size_t got;
        (void)dp_source_read(src, 0, b, sizeof(b), &got, NULL);
        (void)dp_source_read(src, in->size - 1, b, sizeof(b), &got, NULL);
        goto out;
    }
    const struct dp_scan_opts mo = {
        .max_pixels = 1u << 20, .max_image_bytes = 4u << 20, .carve_max_stream = MAX_STREAM};
    const struct dp_sweep_opts so = {.match = &mo};
    struct dp_sweep_result *r = NULL;
    memset(&err, 0, sizeof(err));
    st = dp_sweep_run(set, src, p, &so, &r, &err);
    if (st != DP_OK) {
        if (!evf || st != DP_ERR_IO || err.msg[0] == '\0') {
            fprintf(stderr, "dp_sweep_run: %s: %s\n", dp_status_str(st), err.msg);
            abort();
        }
        goto out;
    }
    if (r->bytes_swept > in->size || (!evf && r->bytes_swept != in->size) ||
        r->streams > r->candidates || r->count > r->streams || r->decoded > r->streams)
        abort();
    if (getenv("FUZZ_SOURCE_VERBOSE") != NULL) /* to see the seeds match */
        fprintf(stderr, "fuzz_source: %s, %llu bytes: %zu matches, %llu streams, %llu decoded\n",
                dp_source_kind_name(in->kind), (unsigned long long)in->size, r->count,
                (unsigned long long)r->streams, (unsigned long long)r->decoded);
    for (size_t i = 0; i < r->count; i++) {
        if (getenv("FUZZ_SOURCE_VERBOSE") != NULL)
            for (size_t k = 0; k < r->matches[i].match_count; k++)
                fprintf(stderr, "  at %llu: %s distance %d\n",
                        (unsigned long long)r->matches[i].embedded_offset,
                        r->matches[i].matches[k].algo == DP_ALGO_PDQ ? "pdq" : "sha256",
                        r->matches[i].matches[k].distance);
        if (i > 0 && r->matches[i].embedded_offset < r->matches[i - 1].embedded_offset)
            abort();
        check_match(src, &r->matches[i], in->size);
    }
    json_t *doc = NULL;
    if (dp_sweep_report_build(r, set, &doc, &err) != DP_OK || doc == NULL)
        abort();
    char *text = json_dumps(doc, JSON_COMPACT);
    if (text == NULL)
        abort();
    free(text);
    json_decref(doc);
    dp_sweep_result_free(r);
out:
    dp_source_free(src);
    unlink(p); /* nothing of one input is left for the next */
    free(p);
    return 0;
}
