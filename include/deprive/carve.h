/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: carving - image streams embedded in other bytes (a thumbnail cache, a database
 * blob, a PDF's DCTDecode stream, a JPEG's EXIF thumbnail, a browser cache body, and later
 * the raw device). Two steps: a finder sees every byte once, in the order read, and names the
 * offsets where a stream may start (a signature and a header that passes cheap checks); the
 * validator then walks the stream's structure from such an offset and says where it ends.
 * Only a stream whose structure is complete is carved: JPEG SOI, a valid marker chain, the
 * entropy-coded data, EOI; PNG signature, chunks with valid CRCs, IEND; GIF header, blocks,
 * trailer; WebP RIFF with a valid first chunk; BMP header whose sizes agree. Contiguous
 * streams only. */
#ifndef DEPRIVE_CARVE_H
#define DEPRIVE_CARVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/types.h"

enum dp_carve_kind {
    DP_CARVE_NONE,
    DP_CARVE_JPEG,
    DP_CARVE_PNG,
    DP_CARVE_GIF,
    DP_CARVE_WEBP,
    DP_CARVE_BMP,
    DP_CARVE_KIND_COUNT
};

/* "jpeg", "png", "gif", "webp", "bmp" ("none" for DP_CARVE_NONE; NULL out of range). */
const char *dp_carve_kind_name(enum dp_carve_kind k);

/* Smallest stream carved (bytes): anything shorter holds no image worth matching. */
#define DP_CARVE_MIN_STREAM 64

/* How many bytes after a candidate's first byte the finder looks at (the cheap header checks
 * need no more). */
#define DP_CARVE_LOOKAHEAD 32

/* The finder's state between pieces of one byte sequence. Zero it (or dp_carve_finder_init)
 * before the first piece. A finder is used by one thread at a time; dp_carve_validate and
 * dp_carve_kind_name keep no state and may be called from any thread. */
struct dp_carve_finder {
    uint64_t fed;                     /* bytes fed so far */
    uint8_t tail[DP_CARVE_LOOKAHEAD]; /* the last bytes of the previous piece not yet examined */
    size_t tail_len;
};

typedef void (*dp_carve_cb)(void *ctx, uint64_t offset, enum dp_carve_kind kind);

void dp_carve_finder_init(struct dp_carve_finder *f);
/* Feed the next len bytes; cb is called, in increasing offset order, for each candidate start
 * whose DP_CARVE_LOOKAHEAD bytes have now all been seen. offset counts from the first byte
 * ever fed. */
void dp_carve_feed(struct dp_carve_finder *f, const uint8_t *buf, size_t len, dp_carve_cb cb,
                   void *ctx);
/* The end of the sequence: candidates among the last bytes (with fewer bytes after them than
 * the look-ahead) are examined with what there is. The finder is then empty; init it again
 * before another sequence. */
void dp_carve_finish(struct dp_carve_finder *f, dp_carve_cb cb, void *ctx);

enum dp_carve_verdict {
    DP_CARVE_NO,   /* not a complete stream of that kind starting here */
    DP_CARVE_OK,   /* a complete stream: *len bytes */
    DP_CARVE_MORE, /* the structure continues past avail: call again with more bytes. *len
                      is then how many to try, > avail and <= max_len: the stream's length
                      where the header gives it (WebP, BMP), else at least what the structure
                      needs next and about twice avail, 4 KiB at least (so that a caller
                      retrying with *len walks each byte a bounded number of times overall) */
};

/* Walk a stream of kind k at b[0..avail). at_end: avail reaches the end of the bytes (a stream
 * that needs more is then DP_CARVE_NO). A stream longer than max_len is DP_CARVE_NO. Reads
 * only b[0..avail); never allocates; linear in the bytes walked. *len is set for OK and MORE
 * only. */
enum dp_carve_verdict dp_carve_validate(enum dp_carve_kind k, const uint8_t *b, size_t avail,
                                        bool at_end, uint64_t max_len, uint64_t *len);

#endif
