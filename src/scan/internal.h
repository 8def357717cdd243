/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: scan-stage internals shared by scan.c and perceptual.c. */
#ifndef DEPRIVE_SCAN_INTERNAL_H
#define DEPRIVE_SCAN_INTERNAL_H

#include "deprive/fingerprint.h"
#include "deprive/image.h"
#include "deprive/pdq.h"
#include "deprive/pdq_index.h"
#include "deprive/scan.h"

/* The lists' PDQ targets and how to match them. */
struct scan_pdq {
    const struct dp_hash_entry *entries; /* the PDQ entries; an index id is a position here */
    size_t n;
    struct dp_pdq_index *index;
    int threshold;
    bool dihedral, exact;
    uint64_t max_image_bytes;
    struct dp_image_opts img;
};

enum dp_status scan_pdq_prepare(struct scan_pdq *t, const struct dp_hashset *set,
                                const struct dp_scan_opts *o, struct dp_error *err);
void scan_pdq_release(struct scan_pdq *t);

/* What matching one image gave. */
struct scan_pdq_outcome {
    bool decoded;
    const char *decode;          /* "full", "scaled", "scaled, then full" */
    struct dp_pdq_result pdq;    /* of the decode that decided */
    struct dp_match *matches;    /* heap, count entries (DP_ALGO_PDQ) */
    size_t count;
};

/* Decode an image held in memory and match it. A decoding failure is the status (the caller
 * records the file as not perceptually examinable); matches may be none. */
enum dp_status scan_pdq_match(const struct scan_pdq *t, const uint8_t *buf, size_t len,
                              struct scan_pdq_outcome *out, struct dp_error *err);

#endif
