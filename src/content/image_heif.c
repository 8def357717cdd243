/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: HEIF decoding with libheif - HEIC (HEVC) and AVIF (AV1), the primary image with its
 * transformations (rotation, mirroring, crop) applied, decoded to 8-bit interleaved RGB (HDR
 * reduced to 8 bits), alpha ignored, in a child process under a memory limit and a timeout
 * (below). Always RGB: libheif 1.15 does not say reliably whether an image is monochrome before
 * decoding it. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libheif/heif.h>

static bool brand_ok(const uint8_t *b)
{
    static const char brands[][4] = {"heic", "heix", "hevc", "heim", "heis",
                                     "hevx", "mif1", "msf1", "avif", "avis"};
    for (size_t i = 0; i < sizeof(brands) / sizeof(brands[0]); i++)
        if (memcmp(b, brands[i], 4) == 0)
            return true;
    return false;
}

/* An ISO-BMFF 'ftyp' box first, whose major brand or one of whose compatible brands is an
 * image brand (an MP4 video's are not). */
static bool sniff(const uint8_t *b, size_t n)
{
    if (n < 16 || memcmp(b + 4, "ftyp", 4) != 0)
        return false;
    if (brand_ok(b + 8))
        return true;
    size_t size = (size_t)b[0] << 24 | (size_t)b[1] << 16 | (size_t)b[2] << 8 | b[3];
    size = size < n ? size : n;
    for (size_t off = 16; off + 4 <= size; off += 4)
        if (brand_ok(b + off))
            return true;
    return false;
}

/* Decoding runs in a child process (sandbox.c), because libheif cannot be interrupted and its
 * codecs allocate by the size the coded stream declares, not the checked 'ispe' size: an AVIF
 * declaring 64x64 whose AV1 frame is 16384x16384 made dav1d allocate 780 MB
 * (fuzz/regress/image_heif/avif-declares-64x64-codes-16384x16384). The child gets a memory
 * budget of HEIF_MEM_BASE + HEIF_MEM_PER_CPU per CPU + HEIF_MEM_PER_PIXEL per pixel, first of
 * --max-pixels (parsing), then of the declared size (decoding), and HEIF_TIMEOUT_S.
 *
 * Measured with libheif 1.15.1, libde265 1.0.11, dav1d 1.0.0 on 2 CPUs, the smallest data
 * limit under which a 4000x3000 image decodes to RGB: HEIC 8-bit 4:2:0 120 MiB (10.5 B/px),
 * 10-bit 4:2:0 177 MiB (15.5), AVIF 8-bit 4:2:0 113 MiB (9.9), 8-bit 4:4:4 189 MiB (16.5), 12-bit
 * 4:4:4 331 MiB (28.9: dav1d keeps a frame's 32-bit coefficients when it threads by frame, from
 * 2 CPUs on; 149 MiB on one). A 640x480 HEIC needs 11 MiB (libde265's thread stack, 8 MiB from
 * RLIMIT_STACK), a 640x480 AVIF 3 MiB on one CPU and 6 MiB on two (dav1d: a thread per CPU with
 * a 1 MiB stack and its buffers). At 12 MP the budget is 64 + 4 x CPUs + 549 MiB (621 on 2
 * CPUs): 1.9 times the 12-bit 4:4:4 need, 5 times the common 8-bit 4:2:0 one, room for coded
 * frames a little larger than declared (grid tiles, 'clap' crops). */
#define HEIF_TIMEOUT_S 60                    /* wall clock per image */
#define HEIF_MEM_BASE ((uint64_t)64 << 20)   /* libraries, thread stacks */
#define HEIF_MEM_PER_CPU ((uint64_t)4 << 20) /* dav1d's threads, one per CPU */
#define HEIF_MEM_PER_PIXEL 48                /* bytes per declared pixel */
#define HEIF_MAX_CPUS 256                    /* dav1d starts no more threads */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static uint64_t ncpus = 1;

/* Here, in the parent, before the first fork: libheif's initialisation (plugins, libde265's
 * tables) is the only libheif call the parent makes besides heif_get_version (a constant).
 * Every other libheif call happens in a child, so no thread of the parent ever holds a libheif
 * lock when another forks - this is why fork is safe here although the scan is multithreaded;
 * glibc takes and resets its own malloc, stdio and loader locks around fork, so the child can
 * allocate and start the codecs' threads. */
static void init(void)
{
    heif_init(NULL); /* loads the codec plugins; never undone (process lifetime) */
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    ncpus = n < 1 ? 1 : n > HEIF_MAX_CPUS ? HEIF_MAX_CPUS : (uint64_t)n;
}

static uint64_t mem_budget(uint64_t pixels)
{
    uint64_t fixed = HEIF_MEM_BASE + HEIF_MEM_PER_CPU * ncpus;
    return pixels > (UINT64_MAX - fixed) / HEIF_MEM_PER_PIXEL ? UINT64_MAX
                                                              : fixed + HEIF_MEM_PER_PIXEL * pixels;
}

/* libheif's security limits (box sizes, item counts, image sizes) come back as allocation
 * errors: they are a limit hit, not a failed malloc. A codec's failed allocation comes back as
 * a plugin error: errno (nomem) says so when it failed in the calling thread. */
static enum dp_status heif_fail(struct heif_error e, bool nomem, struct dp_error *err)
{
    enum dp_status st = e.subcode == heif_suberror_Security_limit_exceeded      ? DP_ERR_LIMIT
                        : e.code == heif_error_Memory_allocation_error || nomem ? DP_ERR_NOMEM
                                                                                : DP_ERR_PARSE;
    return dp_error_set(err, st, 0, "HEIF: %s", e.message ? e.message : "corrupt");
}

/* Into the shared buffer: rows of w x 3 bytes, packed; info = w, h, full_w, full_h. */
static enum dp_status copy_out(const struct heif_image *img, const struct dp_image_opts *opts,
                               uint64_t full_w, uint64_t full_h, uint8_t *out, size_t out_size,
                               uint64_t info[SANDBOX_INFO], struct dp_error *err)
{
    int w = heif_image_get_width(img, heif_channel_interleaved);
    int h = heif_image_get_height(img, heif_channel_interleaved);
    int stride = 0;
    const uint8_t *p = heif_image_get_plane_readonly(img, heif_channel_interleaved, &stride);
    if (p == NULL || w <= 0 || h <= 0 || stride < 3 * w)
        return dp_error_set(err, DP_ERR_PARSE, 0, "HEIF: decoder returned no RGB plane");
    /* the same size as the handle declared (transformations applied): an AVIF whose coded
       frame is not the size its 'ispe' box declares is corrupt (found by fuzzing) */
    if ((uint64_t)w != full_w || (uint64_t)h != full_h)
        return dp_error_set(err, DP_ERR_PARSE, 0,
                            "HEIF: decoded %dx%d, but the image declares %llux%llu", w, h,
                            (unsigned long long)full_w, (unsigned long long)full_h);
    enum dp_status st = image_check_dims((uint64_t)w, (uint64_t)h, opts, err);
    if (st != DP_OK)
        return st;
    size_t row = (size_t)w * 3;
    if ((size_t)h > out_size / row)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "image too large to hold");
    for (size_t y = 0; y < (size_t)h; y++)
        memcpy(out + y * row, p + y * (size_t)stride, row);
    info[0] = info[2] = (uint64_t)w;
    info[1] = info[3] = (uint64_t)h;
    return DP_OK;
}

struct job {
    const uint8_t *buf;
    size_t len;
    const struct dp_image_opts *opts;
    uint64_t max; /* pixels */
};

/* In the child (sandbox_fn). */
static enum dp_status decode_child(void *arg, uint8_t *out, size_t out_size,
                                   uint64_t info[SANDBOX_INFO], struct dp_error *err)
{
    const struct job *j = arg;
    sandbox_limit_memory(mem_budget(j->max));
    struct heif_context *ctx = heif_context_alloc();
    struct heif_image_handle *hd = NULL;
    struct heif_image *img = NULL;
    struct heif_decoding_options *o = NULL;
    enum dp_status st = DP_OK;
    if (ctx == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    /* a per-side limit, checked by libheif while it parses (also on grid tiles); the pixel
       count is checked below from the primary image's declared size */
    heif_context_set_maximum_image_size_limit(ctx, j->max < INT_MAX ? (int)j->max : INT_MAX);
    struct heif_error e = heif_context_read_from_memory_without_copy(ctx, j->buf, j->len, NULL);
    if (e.code != heif_error_Ok ||
        (e = heif_context_get_primary_image_handle(ctx, &hd)).code != heif_error_Ok) {
        st = heif_fail(e, false, err);
        goto out;
    }
    int w = heif_image_handle_get_width(hd), h = heif_image_handle_get_height(hd);
    if ((st = image_check_dims(w > 0 ? (uint64_t)w : 0, h > 0 ? (uint64_t)h : 0, j->opts, err)) !=
        DP_OK)
        goto out;
    if ((o = heif_decoding_options_alloc()) == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    o->convert_hdr_to_8bit = 1;
    /* libheif cannot be interrupted once it decodes, and its codec allocates by the coded
       size: the memory budget of the declared size bounds it, the parent's timeout stops it */
    sandbox_limit_memory(mem_budget((uint64_t)w * (uint64_t)h));
    errno = 0;
    e = heif_decode_image(hd, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, o);
    if (e.code != heif_error_Ok) {
        st = heif_fail(e, errno == ENOMEM, err);
        goto out;
    }
    st = copy_out(img, j->opts, (uint64_t)w, (uint64_t)h, out, out_size, info, err);
out:
    heif_image_release(img);
    heif_decoding_options_free(o);
    heif_image_handle_release(hd);
    heif_context_free(ctx);
    return st;
}

/* In the parent: the child's pixels into out, trusting nothing the child wrote. */
static enum dp_status take(const struct sandbox_result *r, uint64_t max, struct dp_image *out,
                           struct dp_error *err)
{
    uint64_t w = r->info[0], h = r->info[1];
    if (w == 0 || h == 0 || w != r->info[2] || h != r->info[3] || w > max || h > max / w ||
        w * h > r->out_size / 3)
        return dp_error_set(err, DP_ERR_PARSE, 0, "HEIF: decoder returned a bad size");
    out->full_w = (size_t)w;
    out->full_h = (size_t)h;
    enum dp_status st = image_alloc(out, (size_t)w, (size_t)h, 3, err);
    if (st == DP_OK)
        memcpy(out->pix, r->out, (size_t)(w * h * 3));
    return st;
}

static enum dp_status decode(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err)
{
    pthread_once(&init_once, init);
    uint64_t max = opts->max_pixels ? opts->max_pixels : DP_IMAGE_MAX_PIXELS_DEFAULT;
    if (max > SIZE_MAX / 3 - 4096)
        return dp_error_set(err, DP_ERR_LIMIT, 0, "HEIF: --max-pixels too large to decode");
    struct job j = {buf, len, opts, max};
    struct sandbox_result r;
    enum dp_status st =
        sandbox_run(&r, "HEIF", (size_t)max * 3, HEIF_TIMEOUT_S * 1000u, decode_child, &j, err);
    if (st != DP_OK)
        return st;
    st = take(&r, max, out, err);
    sandbox_release(&r);
    return st;
}

static const char *version(void)
{
    static char v[32];
    /* written once under image.c's pthread_once, then only read */
    snprintf(v, sizeof(v), "libheif %s", heif_get_version());
    return v;
}

const struct image_decoder image_heif = {DP_IMAGE_HEIF, "heif", sniff, decode, version};
