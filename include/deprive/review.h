/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the examiner's contact sheet of a plan's perceptual-only candidates.
 *
 * A finding whose only match is perceptual (PDQ) is erased only once an examiner has decided
 * it is the victim's image. The sheet is what they decide from: an A4 PDF (libharu), a grid of
 * tiles, one per candidate, each with a small thumbnail of the file as it is now and the facts
 * of its match (finding id, path, size, Hamming distance, dihedral variant, the file's and the
 * list entry's PDQ quality, a low-confidence mark, the list, line and label).
 *
 * Every file is re-opened read-only beneath the plan's root (openat2: no symbolic link in any
 * component, no magic link, never out of the root, no other mount unless the scan crossed
 * mounts), with O_NOATIME where the kernel allows it; nothing on the device is changed. The
 * file must still be the one scanned (device, inode, size, mtime, ctime, birth time and
 * generation where both sides have them, and every digest the plan gives); otherwise, or when
 * it cannot be opened, read or decoded, its tile says why instead of showing a thumbnail.
 *
 * The sheet shows images from the case: it is created new (O_CREAT|O_EXCL, mode 0600, never
 * replacing a file) and refused on the filesystem being reviewed unless the caller allows it.
 *
 * This header includes nothing from libharu. Thread safety: no global state; one call renders
 * one sheet. */
#ifndef DEPRIVE_REVIEW_H
#define DEPRIVE_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

/* What a tile shows. Stable names (dp_review_state_name) and labels for people
 * (dp_review_state_label, printed on the tile). */
enum dp_review_state {
    DP_REVIEW_SHOWN = 0,   /* "shown": the thumbnail of the file, checked against the plan */
    DP_REVIEW_CHANGED,     /* "changed": "changed since scan" - another object, another size,
                            * mtime, ctime or content, or not a regular file any more */
    DP_REVIEW_SYMLINK,     /* "symlink": a symbolic link on the path, not followed */
    DP_REVIEW_OUTSIDE,     /* "outside": the path leads onto another mount (not entered) or
                            * out of the root */
    DP_REVIEW_MISSING,     /* "missing": no longer there */
    DP_REVIEW_UNREADABLE,  /* "unreadable": cannot be opened or read (permission, I/O) */
    DP_REVIEW_TOO_LARGE,   /* "too-large": larger than max_image_bytes, not read */
    DP_REVIEW_UNDECODABLE, /* "undecodable": not an image deprive decodes, corrupt, or over
                            * max_pixels */
    DP_REVIEW_STATE_COUNT
};
const char *dp_review_state_name(enum dp_review_state s);
const char *dp_review_state_label(enum dp_review_state s);

struct dp_review_opts {
    bool all;                    /* every finding, not only the perceptual-only ones */
    const char *const *findings; /* only these finding ids ("F3"); NULL/0: no restriction.
                                  * An id not in the plan, or (without all) not
                                  * perceptual-only, is refused (DP_ERR_INVALID) */
    size_t nfindings;
    uint64_t max_image_bytes; /* larger files are not read (0: 256 MiB, as the scan) */
    uint64_t max_pixels;      /* images declaring more are not decoded (0: 100 MP) */
    bool allow_on_device;     /* write the sheet even on the filesystem being reviewed */
    bool uncompressed;        /* leave the PDF's streams uncompressed (for inspection) */
};

/* One tile, in sheet order (the plan's order). */
struct dp_review_tile {
    char finding_id[24];
    enum dp_review_state state;
    char detail[200]; /* what exactly, for people ("size 1234 bytes, plan 1200"); "" when shown */
};

struct dp_review_result {
    size_t candidates; /* tiles on the sheet (0: nothing to show, nothing written) */
    size_t thumbnails; /* tiles with a thumbnail (state DP_REVIEW_SHOWN) */
    size_t pages;
    struct dp_review_tile *tiles; /* candidates of them (heap; dp_review_result_release) */
    char plan_sha256[65];         /* SHA-256 of the plan file's bytes, as parsed and printed */
    bool on_device;               /* the output is on the filesystem of the root or of a file
                                     shown (allowed only with allow_on_device) */
    bool written;                 /* the sheet was written */
    uint64_t noatime_fallbacks;   /* files opened without O_NOATIME (kernel refused: EPERM) */
};

/* Render the review sheet of the plan (a scan report, docs/report.md) at plan_path to
 * out_path. The plan is read once: the bytes hashed for the header are the bytes parsed and
 * validated as dp_plan_load does. With no candidate to show, returns DP_OK with
 * res->candidates 0 and writes nothing. res is filled (and must be released) whatever the
 * status, as far as the run got.
 * Errors: the plan's (DP_ERR_IO, DP_ERR_PARSE); DP_ERR_INVALID for a finding id refused (see
 * opts) or an output name that is not a file name; DP_ERR_IO when the root cannot be opened
 * or the sheet cannot be written - out_path existing among them (errno EEXIST, nothing
 * touched); DP_ERR_UNSUPPORTED when out_path is on the filesystem being reviewed and
 * allow_on_device is false (res->on_device set, nothing written); DP_ERR_NOMEM; and
 * DP_ERR_INVALID when libharu refuses the document (its error codes in the message). */
enum dp_status dp_review_render(const char *plan_path, const struct dp_review_opts *opts,
                                const char *out_path, struct dp_review_result *res,
                                struct dp_error *err) DP_WUR DP_NONNULL(1, 2, 3, 4);
void dp_review_result_release(struct dp_review_result *res);

#endif
