/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: PDQ itself on any pixels, without a decoder in between. The first five
 * bytes give the width and height, the channels (1 or 3), whether to hash the dihedral
 * variants, row padding, and whether the image may be large: sides 1..96 (fast), or with the
 * flag 1..700, so that the resize to 512 is reached too; the rest of the input, repeated, is
 * the pixels.
 * Properties: hashing succeeds with a quality in 0..100; each variant is at distance 0 from
 * itself; the same pixels hash the same twice. */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include "deprive/pdq.h"

#define FUZZ_PDQ_SMALL_SIDE 96
#define FUZZ_PDQ_MAX_SIDE 700

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    size_t side = data[4] & 0x80 ? FUZZ_PDQ_MAX_SIDE : FUZZ_PDQ_SMALL_SIDE;
    size_t w = 1 + (size_t)(data[0] | data[1] << 8) % side;
    size_t h = 1 + (size_t)(data[2] | data[3] << 8) % side;
    int channels = data[4] & 1 ? 3 : 1;
    bool dihedral = (data[4] & 2) != 0;
    size_t stride = w * (size_t)channels + ((data[4] >> 2) & 7);
    const uint8_t *px = data + 5;
    size_t n = size - 5, total = stride * h;
    uint8_t *pix = malloc(total);
    if (pix == NULL)
        abort();
    for (size_t i = 0; i < total; i++)
        pix[i] = n ? px[i % n] : 0;
    struct dp_pdq_result a, b;
    struct dp_error err = {0};
    if (dp_pdq_hash_pixels(pix, w, h, stride, channels, dihedral, &a, &err) != DP_OK ||
        dp_pdq_hash_pixels(pix, w, h, stride, channels, dihedral, &b, &err) != DP_OK) {
        fprintf(stderr, "PDQ refused %zux%zu: %s\n", w, h, err.msg);
        abort();
    }
    if (a.quality < 0 || a.quality > 100 || a.quality != b.quality ||
        memcmp(&a.hash[0], &b.hash[0], sizeof(a.hash[0])) != 0)
        abort();
    for (int v = 0; v < (dihedral ? DP_PDQ_VARIANTS : 1); v++) {
        enum dp_pdq_variant which;
        if (dp_pdq_min_distance(&a, dihedral, &a.hash[v], &which) != 0)
            abort();
    }
    free(pix);
    return 0;
}
