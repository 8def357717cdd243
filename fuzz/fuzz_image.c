/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: an image on a prepared device - decoded by content (dp_image_decode, the
 * decoder chosen by signature, dimensions checked before decoding) under a small pixel limit,
 * then, when it decoded, hashed with PDQ and its dihedral variants as the scan does.
 *
 * Built once as fuzz_image (any format, the signature decides) and once per format
 * (FUZZ_IMAGE_FORMAT = DP_IMAGE_JPEG, ...): an input that does not already sniff as that
 * format gets the format's signature put in front, so every mutation reaches that decoder.
 * An odd-length input is decoded as the scan does (min_side 32: JPEG may scale down), an
 * even-length one in full, as `deprive hash` does.
 * Properties: a decoded image has sides within the limit, 1 or 3 channels and a stride that
 * holds a row; every pixel is readable (PDQ reads them all); PDQ succeeds with a quality in
 * 0..100 and each variant is at distance 0 from itself. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include "deprive/image.h"
#include "deprive/pdq.h"

/* Small enough to keep a run fast, large enough for PDQ's 512-pixel resize to happen. */
#define FUZZ_MAX_PIXELS ((uint64_t)1 << 20)

#ifdef FUZZ_IMAGE_FORMAT
/* The input with a signature of the format in front; NULL when it already sniffs so. */
static uint8_t *force(const uint8_t *data, size_t size, size_t *out_len)
{
    if (dp_image_sniff(data, size) == FUZZ_IMAGE_FORMAT)
        return NULL;
    static const uint8_t jpeg[] = {0xff, 0xd8, 0xff};
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const uint8_t gif[] = {'G', 'I', 'F', '8', '9', 'a'};
    static const uint8_t bmp[] = {'B', 'M'};
    static const uint8_t tiff[] = {'I', 'I', 42, 0};
    static const uint8_t heif[] = {0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c',
                                   0, 0, 0, 0,  'm', 'i', 'f', '1', 'h', 'e', 'i', 'c'};
    uint8_t webp[12] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
    const uint8_t *sig = NULL;
    size_t sl = 0;
    switch (FUZZ_IMAGE_FORMAT) {
    case DP_IMAGE_JPEG: sig = jpeg, sl = sizeof(jpeg); break;
    case DP_IMAGE_PNG: sig = png, sl = sizeof(png); break;
    case DP_IMAGE_GIF: sig = gif, sl = sizeof(gif); break;
    case DP_IMAGE_BMP: sig = bmp, sl = sizeof(bmp); break;
    case DP_IMAGE_TIFF: sig = tiff, sl = sizeof(tiff); break;
    case DP_IMAGE_HEIF: sig = heif, sl = sizeof(heif); break;
    case DP_IMAGE_WEBP: { /* RIFF size: everything after its own 8 bytes */
        uint32_t n = (uint32_t)(size + 4);
        webp[4] = (uint8_t)n, webp[5] = (uint8_t)(n >> 8), webp[6] = (uint8_t)(n >> 16);
        webp[7] = (uint8_t)(n >> 24);
        sig = webp, sl = sizeof(webp);
        break;
    }
    default: abort();
    }
    uint8_t *b = malloc(sl + size);
    if (b == NULL)
        abort();
    memcpy(b, sig, sl);
    if (size > 0)
        memcpy(b + sl, data, size);
    *out_len = sl + size;
    return b;
}
#endif

/* What a decoded image breaks of image.h's contract, or NULL. */
static const char *broken(const struct dp_image *im)
{
    if (im->pix == NULL || im->w == 0 || im->h == 0)
        return "no pixels";
    if (im->channels != 1 && im->channels != 3)
        return "channels";
    if (im->stride < im->w * (size_t)im->channels)
        return "stride";
    if ((uint64_t)im->w * im->h > FUZZ_MAX_PIXELS || (uint64_t)im->full_w * im->full_h > FUZZ_MAX_PIXELS)
        return "over the pixel limit";
    if (im->w > im->full_w || im->h > im->full_h)
        return "larger than declared";
    if (!im->scaled && (im->w != im->full_w || im->h != im->full_h))
        return "not the declared size, not scaled";
    return NULL;
}

static void hash(const struct dp_image *im)
{
    struct dp_pdq_result r;
    struct dp_error err = {0};
    if (dp_pdq_hash_pixels(im->pix, im->w, im->h, im->stride, im->channels, true, &r, &err) !=
        DP_OK) {
        fprintf(stderr, "PDQ refused a decoded image: %s\n", err.msg);
        abort();
    }
    if (r.quality < 0 || r.quality > 100)
        abort();
    for (int v = 0; v < DP_PDQ_VARIANTS; v++) {
        enum dp_pdq_variant which;
        if (dp_pdq_min_distance(&r, true, &r.hash[v], &which) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *buf = data;
    size_t len = size;
    uint8_t *owned = NULL;
#ifdef FUZZ_IMAGE_FORMAT
    if ((owned = force(data, size, &len)) != NULL)
        buf = owned;
#endif
    const struct dp_image_opts opts = {.max_pixels = FUZZ_MAX_PIXELS,
                                       .min_side = size % 2 ? 32 : 0};
    struct dp_image im;
    struct dp_error err = {0};
    enum dp_status st = dp_image_decode(buf, len, &opts, &im, &err);
    if (st == DP_OK) {
        const char *why = broken(&im);
        if (why != NULL) {
            fprintf(stderr, "decoded %s image breaks the contract (%s): %zux%zu (declared %zux%zu%s), "
                    "%d channels, stride %zu\n", dp_image_format_name(im.format), why, im.w, im.h,
                    im.full_w, im.full_h, im.scaled ? ", scaled" : "", im.channels, im.stride);
            abort();
        }
        hash(&im);
        dp_image_release(&im);
    } else if (err.msg[0] == '\0') {
        fprintf(stderr, "dp_image_decode failed (%s) without a message\n", dp_status_str(st));
        abort();
    } else if (strstr(err.msg, "decoder crashed") != NULL) {
        /* HEIF decodes in a child process (src/content/sandbox.c), which contains a crash of
           libheif or its codecs; it is still a finding */
        fprintf(stderr, "%s\n", err.msg);
        abort();
    }
    free(owned);
    return 0;
}
