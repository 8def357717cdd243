/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests and bench: does perceptual matching find edited copies of an image and leave
 * unrelated images alone? Photo-like generated scenes, the edits people make to a photo
 * (re-encode, resize, rotate, mirror, crop, watermark, thumbnail) written as real files with
 * libjpeg and libpng, and one measurement through deprive's own hashing (dp_fingerprint) and
 * scan (dp_scan_run + the report JSON). Shared by tests/test_pdq_robust.c and
 * bench/pdq_robust.c, and (the scenes encoded and kept as struct robust_file) by the suites
 * that plant images; no cmocka here: failures come back as false with a message. */
#ifndef DEPRIVE_TESTS_ROBUST_H
#define DEPRIVE_TESTS_ROBUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 8-bit RGB, rows w * 3 bytes apart. */
struct robust_image {
    uint8_t *px;
    int w, h;
};

/* A photo-like scene of w x h pixels from seed: a two-colour gradient sky at a random angle,
 * usually a wavy horizon over a second gradient, soft light and shadow, 10-24 shaded ellipses,
 * boxes and triangles from large to small, two octaves of texture, blocks of text-like strokes
 * and sensor noise. Everything is placed relative to the size, so one seed gives the same
 * scene at any size, and different seeds give unrelated scenes. False on allocation failure. */
bool robust_scene(struct robust_image *out, int w, int h, uint64_t seed);
void robust_image_free(struct robust_image *im);

/* The edits, each written as a file (names in robust_edit_info). */
enum robust_edit {
    ROBUST_REENCODE, /* the full image as JPEG quality 30 */
    ROBUST_HALF,     /* 50% by area averaging */
    ROBUST_QUARTER,  /* 25% by area averaging */
    ROBUST_ROT90,    /* turned 90 degrees clockwise */
    ROBUST_ROT180,
    ROBUST_MIRROR,    /* left-right */
    ROBUST_CROP5,     /* 5% of the width and 5% of the height cut, the edges by variant */
    ROBUST_WATERMARK, /* a semi-opaque box with a logo and text over ~10% in a corner */
    ROBUST_THUMB,     /* long side 320 pixels by area averaging */
    ROBUST_EDITS
};

struct robust_edit_info {
    const char *name; /* short, also the directory in the scan root: "reencode", "crop5" */
    const char *what; /* for tables: "JPEG q30, full size" */
    int jpeg_quality; /* 0: written as PNG */
    int target;       /* percent of copies that should be found (100), or 0: no target, the
                         rate is measured and reported */
    int floor;        /* percent the test asserts: the target where it is met, else the
                         measured rate minus a margin (the reasons in tests/robust.c) */
};
const struct robust_edit_info *robust_edit_info(enum robust_edit e);
/* Which edges ROBUST_CROP5 cuts for a variant ("right+bottom", "left+top", "all four",
 * "left") and which corner ROBUST_WATERMARK covers ("bottom-right", ...): variant % 4. */
const char *robust_variant_name(enum robust_edit e, unsigned variant);

/* Apply e to src into *out (fresh pixels; variant chooses crop edges and watermark corner).
 * ROBUST_REENCODE copies: the quality is the encoder's part. False on allocation failure. */
bool robust_apply(struct robust_image *out, const struct robust_image *src, enum robust_edit e,
                  unsigned variant);
/* Area-average resize to w x h (any factor, fractional box weights). */
bool robust_resize(struct robust_image *out, const struct robust_image *src, int w, int h);
/* Cut fraction of the width and of the height: variant % 4 selects right+bottom, left+top,
 * half from each of the four edges, or (width only) the left edge. */
bool robust_crop(struct robust_image *out, const struct robust_image *src, double fraction,
                 unsigned variant);
/* The watermark over area (a fraction of the image, square in proportion to it) in the
 * corner variant % 4 selects: bottom-right, bottom-left, top-right, top-left. */
bool robust_watermark(struct robust_image *out, const struct robust_image *src, double area,
                      unsigned variant);

/* Encode to a file with libjpeg (4:2:0, baseline) or libpng (the simplified API). False with
 * the encoder's or the system's message in err. */
bool robust_write_jpeg(const char *path, const struct robust_image *im, int quality, char *err,
                       size_t errlen);
bool robust_write_png(const char *path, const struct robust_image *im, char *err, size_t errlen);

/* ---- encoded images kept in memory, for the suites that plant them in containers and on
 * raw images (test_embedded.c, test_sweep.c) ---- */

/* v as n little-endian bytes at p (n at most 4). */
void robust_put_le(unsigned char *p, uint32_t v, int n);
/* A bottom-up 24-bit BMP (BITMAPINFOHEADER, 2835 pixels a metre) of im, heap (caller frees);
 * NULL on allocation failure. */
unsigned char *robust_bmp_bytes(const struct robust_image *im, size_t *len);

/* One image written as a file, its bytes kept. */
struct robust_file {
    char name[64];          /* its file name */
    const char *kind;       /* "jpeg", "png" or "bmp" (the carver's names) */
    const unsigned char *b; /* the file's bytes, owned by the robust_files that made it */
    size_t n;
    int w, h;
    char sha[65]; /* SHA-256 of the bytes, lower-case hex */
};

/* The images a suite makes once and keeps for all its tests. */
struct robust_files {
    const char *dir;        /* an existing directory, the caller's; the files are written there */
    unsigned char *mem[32]; /* every file's bytes, freed by robust_files_release */
    size_t nmem;
    char error[256]; /* why the last robust_files_add failed */
};

/* Encode src - resized to w x h first unless w is 0 - as set->dir/name: JPEG at quality > 0,
 * PNG at 0, BMP at -1; read it back into set and describe it in *out. False, with set->error,
 * when it cannot be made or set holds 32 files already. */
bool robust_files_add(struct robust_files *set, struct robust_file *out, const char *name,
                      const struct robust_image *src, int w, int h, int quality);
/* robust_files_add of robust_scene(w, h, seed) as it is. */
bool robust_files_add_scene(struct robust_files *set, struct robust_file *out, const char *name,
                            int w, int h, uint64_t seed, int quality);
/* Free every file's bytes (the files stay in dir) and empty set; dir is kept. */
void robust_files_release(struct robust_files *set);

struct robust_config {
    const char *dir;    /* an existing empty directory; everything is written below it */
    unsigned originals; /* the victim's images, hashed into the list */
    unsigned unrelated; /* other images on the device */
    int width, height;  /* of the originals (PNG) */
    /* of the unrelated images (JPEG q85) */
    int unrelated_width, unrelated_height;
    unsigned threads; /* generating threads; 0: one per online CPU */
    uint64_t seed;    /* original i: seed + i; unrelated j: seed + 1,000,000 + j */
};

/* One edited copy of one original. */
struct robust_copy {
    int distance;      /* to its original's listed hash: full decode, nearest of 8 variants */
    int variant;       /* enum dp_pdq_variant of that nearest */
    bool found;        /* the report has a "pdq" match of its own original within 31 */
    int scan_distance; /* that match's distance, -1 when not found */
    int undone;        /* rot90, rot180, mirror: the plain distance after the decoded copy is
                          turned back by its pixels (what PDQ's derived variants lose);
                          -1 for the other edits */
};

struct robust_result {
    unsigned originals, unrelated;
    struct robust_copy *copies; /* [original * ROBUST_EDITS + edit] */
    int *original_quality;      /* [originals], from the listed hashes */
    int *unrelated_quality;     /* [unrelated] */
    int *unrelated_nearest;     /* [unrelated]: nearest distance to any listed hash over the
                                   image's 8 variants */
    int originals_nearest;      /* nearest distance between two different originals */
    unsigned findings;          /* findings in the report */
    unsigned unrelated_found;   /* unrelated images the scan reported (false positives) */
    unsigned wrong_matches;     /* pdq matches of a copy to another original (false positives) */
    unsigned exact_matches;     /* exact-digest matches (none expected: every copy is edited) */
    unsigned disagreements;     /* copies found by the scan with distance > 31 or a reported
                                   distance other than the full decode's, or not found
                                   although within 31 */
    unsigned images_decoded;    /* the scan's count */
    double generate_seconds, scan_seconds;
    char error[512]; /* why robust_run failed */
};

/* Generate the originals (dir/originals/oNNN.png) and hash them with dp_fingerprint_fd into a
 * deprive list (dir/originals.list, label=oNNN); write every edit of every original
 * (dir/root/EDIT/oNNN.jpg|png) and the unrelated images (dir/root/unrelated/uNNNN.jpg);
 * decode and hash each written file to know its true distance; scan dir/root against the list
 * with default options (threshold 31, rotations and mirrors on) and read the report JSON.
 * False (with r->error) when something could not be made or the scan failed; the counts are
 * facts to judge, not failures. Caller frees with robust_result_free and removes dir. */
bool robust_run(const struct robust_config *c, struct robust_result *r);
void robust_result_free(struct robust_result *r);

struct robust_edit_stats {
    unsigned found, total;
    int median, max; /* of the copies' distances, found or not */
};
void robust_edit_stats(const struct robust_result *r, enum robust_edit e,
                       struct robust_edit_stats *s);

struct robust_dist {
    int min, p1, p5, median, max; /* nearest-rank percentiles */
    unsigned within;              /* at most DP_PDQ_THRESHOLD */
    int min_quality;
};
void robust_unrelated_stats(const struct robust_result *r, struct robust_dist *d);

/* The tables as text (heap, NULL on allocation failure): per edit found/total, rate, median
 * and max distance beside its target and the test's floor, the misses by name and distance
 * (the nearest few of each edit), the turned-back diagnostic, the unrelated images' nearest
 * distances (target: none within 31) and the false positives. */
char *robust_report(const struct robust_config *c, const struct robust_result *r);

#endif
