/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the images a suite plants - the victim's photo, copies of it, lawful images -
 * made once into a temp directory from robust.c scenes, and the victim's hash list from
 * `deprive hash`. Used by test_archive_carve.c, test_embedded.c, test_remnants.c and
 * test_sweep.c; builds on testutil.h and robust.h. */
#ifndef DEPRIVE_TESTS_IMAGESET_H
#define DEPRIVE_TESTS_IMAGESET_H

#include "testutil.h"
#include "robust.h"

/* A suite's images, made once for all its tests: a static, zeroed before iset_make. */
struct iset {
    struct tu_once once;       /* iset_need */
    const char *suite;         /* "<suite>: ..." in messages */
    char *dir;                 /* a temp directory: the images, and the lists a suite writes */
    struct robust_files files; /* the images' bytes */
    char *paths[4];            /* what iset_write wrote */
    size_t npaths;
};

/* An iset_file's seed: the set's source scene (iset_make), resized unless w is 0, rather than
 * a scene of its own (no scene of a set has seed 0). */
#define ISET_SOURCE 0

/* One image of a set, written as dir/name and described in *out. */
struct iset_file {
    struct robust_file *out;
    const char *name;
    int w, h;      /* its size; for ISET_SOURCE, 0 x 0 keeps the source's */
    int quality;   /* JPEG quality > 0, PNG at 0, BMP at -1 (robust_files_add) */
    uint64_t seed; /* robust_scene(w, h, seed) as it is, or ISET_SOURCE */
};

/* Make s->dir and, in order, the n images of spec: the source scene robust_scene(sw, sh,
 * sseed) - the one the victim's copies are drawn from - first, then each file from it or from
 * its own scene. The same arguments give the same bytes. False, saying why on stdout
 * ("<suite>: cannot make the images: ..."), when an image cannot be made; undo with
 * iset_release either way. */
bool iset_make(struct iset *s, const char *suite, int sw, int sh, uint64_t sseed,
               const struct iset_file *spec, size_t n);
/* Call make (the suite's: iset_make and its lists) the first time; fail the running test
 * ("the test images could not be made") when it returned false - then and at every later
 * call (tu_need_once). */
void iset_need(struct iset *s, bool (*make)(void));
/* Free the images' bytes and the written paths, remove s->dir and zero s. Safe on a zeroed or
 * partly made set. */
void iset_release(struct iset *s);
/* cmocka group teardown for a suite whose set holds all it made: iset_release of the set
 * iset_make made last (one set a suite). Returns 0. */
int iset_group_teardown(void **state);

/* `deprive hash [--label label] dir/name...` (label may be NULL; names NULL-terminated): its
 * output (heap, caller frees) when it exits 0 with a PDQ hash and sha (a SHA-256 hex, or NULL)
 * in it; else NULL, saying why on stdout. */
char *iset_hash(const struct iset *s, const char *label, const char *sha, ...)
    __attribute__((sentinel));
/* The "pdq:HEX:Q" of `deprive hash` of one image of the set into pdq (len bytes); false when
 * it gives none (saying why on stdout, as iset_hash). */
bool iset_pdq(const struct iset *s, const struct robust_file *f, char *pdq, size_t len);
/* Write text (a hash list) as dir/name; returns that path, owned by s (iset_release frees it;
 * at most 4 a set). Fails the test when it cannot be written. */
const char *iset_write(struct iset *s, const char *name, const char *text);

#endif
