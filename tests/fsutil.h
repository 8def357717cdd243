/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: what the real-filesystem suites share - a test's fixture with a loop image
 * made per test, the raw image searched for whole streams and for 32-byte windows of what
 * must be gone, and a wipe killed exactly at a journal record's fdatasync (ptrace + seccomp).
 * Used by test_archive_wipe.c, test_archive_carve.c, test_embedded.c, test_remnants.c and
 * test_sweep.c; builds on testutil.h. */
#ifndef DEPRIVE_TESTS_FSUTIL_H
#define DEPRIVE_TESTS_FSUTIL_H

#include "testutil.h"

/* ---- loop-mounted images ---- */

/* tu_can_loop and tu_fs_create(fs, type, size_mb), saying "<suite>: <label>: skipped: ..." on
 * stdout when this machine cannot (no root, no /dev/loop-control, no mkfs). False then; pair
 * with tu_fs_destroy either way (it is safe on a zeroed or partly made fs). */
bool fu_loop_create(struct tu_fs *fs, const char *suite, const char *label, const char *type,
                    unsigned size_mb);
/* A test's root: with type, a loop-mounted image of that type made (fu_loop_create: *ready
 * says whether it was; the root is then its mount point, else NULL); without (NULL), a fresh
 * temp directory. Heap; undo with fu_root_free, also after a failed test. */
char *fu_root_new(struct tu_fs *fs, bool *ready, const char *suite, const char *label,
                  const char *type, unsigned size_mb);
/* Unmount and detach the image (type given), or remove the directory; then free root. */
void fu_root_free(struct tu_fs *fs, const char *type, char *root);
/* Skip the running test, with "<suite>: <label>: skipped: no loop-mounted <type> image could be
 * made here (...)" on stdout, unless ready (what fu_loop_create returned). */
void fu_need_loop(bool ready, const char *suite, const char *label, const char *type);
/* Unmount fs (sync first) and read its whole image file: heap, caller frees. Fails the test
 * when it cannot be read. Mount it again with tu_fs_mount to go on writing. */
unsigned char *fu_image_bytes(struct tu_fs *fs, size_t *len);

/* ---- a test's fixture: a work directory and, where the case asks, a loop-mounted image ---- */

/* The cmocka state of one case of a real-filesystem suite. A suite declares one per case,
 * filling label, fstype, mb and param; fu_fx_setup and fu_fx_teardown own the rest. */
struct fu_fx {
    const char *label;  /* names the case in messages */
    const char *fstype; /* a loop-mounted image of this type (root only) as root, or NULL */
    unsigned mb;        /* the image's size in MiB; 0: the suite's default */
    const void *param;  /* what the test function takes from its case, or NULL */
    const char *suite;  /* set by fu_fx_setup: "<suite>: <label>: ..." in messages */
    char *work;         /* a fresh temp directory: plans, lists, journals, results */
    char *root;         /* fs.mnt, or (no fstype) a fresh temp directory; NULL when the image
                           could not be made */
    struct tu_fs fs;    /* the image (fstype) */
    struct tu_fs fs2;   /* a second image a test may make (tu_fs_create) */
    bool ready;         /* the image was made (fu_fx_need_loop skips the test otherwise) */
    char dev[64];       /* a loop device a test attached (fu_fx_attach), or "" */
};

/* cmocka setup of *state (a struct fu_fx) for suite: the work directory and the root
 * (fu_root_new; an image of mb MiB, default_mb when the case gives none). An image that
 * cannot be made is no failure here: the test calls fu_fx_need_loop. Returns 0. */
int fu_fx_setup(void **state, const char *suite, unsigned default_mb);
/* cmocka teardown of *state, also after a failed test: detach dev, destroy fs2, unmount and
 * detach the image (or remove the root directory), remove work, then tu_release_owned.
 * Returns 0. */
int fu_fx_teardown(void **state);
/* fu_need_loop for the case: skip the test, saying why, unless its image was made. */
void fu_fx_need_loop(const struct fu_fx *f);
/* Attach image to a free loop device (`losetup -f --show`, read-only with ro) as f->dev,
 * detached by fu_fx_teardown unless the test detaches it first (and empties f->dev). Fails
 * the test when losetup gives no loop device. */
void fu_fx_attach(struct fu_fx *f, const char *image, bool ro);
/* A suite's test table entry for a case fx (a struct fu_fx): setup is the suite's, calling
 * fu_fx_setup with its name; the teardown fu_fx_teardown. */
#define FU_CASE(name, fn, setup, fx)                                                               \
    {                                                                                              \
        name, fn, setup, fu_fx_teardown, &(fx)                                                     \
    }
/* The loop device image is attached to ("/dev/loopN", `losetup -j`), owned. Fails the test
 * when it is attached to none. */
char *fu_loopdev(const char *image);

/* ---- a raw image: where a whole stream lies, and 32-byte windows of what is left ---- */

/* Every place the whole of s (sn bytes) lies in hay, overlapping ones too: the first cap
 * offsets into out; returns how many there are (more than cap when out was too short). */
size_t fu_places(const unsigned char *hay, size_t hn, const void *s, size_t sn, uint64_t *out,
                 size_t cap);

#define FU_WINDOW 32       /* bytes in a window */
#define FU_PROBES_MAX 64   /* windows a struct fu_probes holds at most */
#define FU_CANDIDATES 1024 /* candidates fu_probes_pick considers at most */

/* How many of the nw windows (FU_WINDOW bytes at wins[i]) occur anywhere in hay (a rolling
 * hash over hay, the windows in a table: one pass however many windows). where (nw entries,
 * may be NULL) receives which ones did. Windows are borrowed, nothing is kept. */
size_t fu_windows_in(const unsigned char *const *wins, size_t nw, const unsigned char *hay,
                     size_t hlen, bool *where);
/* How many of the windows of s at every offset (sn - FU_WINDOW + 1 of them) occur in hay:
 * 0 means no 32 bytes of s in a row are left there. */
size_t fu_all_windows_in(const unsigned char *s, size_t sn, const unsigned char *hay, size_t hn);

/* Windows of a stream chosen to be looked for later; pointers into the stream (borrowed: keep
 * it alive while the probes are used). */
struct fu_probes {
    const unsigned char *w[FU_PROBES_MAX];
    size_t n;
};
/* count windows (at most FU_PROBES_MAX) spread evenly over d, none at its very ends; fewer
 * (none) when d is shorter than a window. */
void fu_probes_spread(struct fu_probes *p, size_t count, const unsigned char *d, size_t len);
/* count windows spread over s, each one that occurs nowhere in ex (what may rightly stay: a
 * lawful file, the new archive), taken from ncand (at most FU_CANDIDATES, at least 2) windows
 * evenly spaced over s. Returns how many candidates occur nowhere in ex; when fewer than
 * count, p is left empty and the caller fails with its own message. */
size_t fu_probes_pick(struct fu_probes *p, size_t count, const unsigned char *s, size_t sn,
                      const unsigned char *ex, size_t exn, size_t ncand);
/* How many of the probes occur in hay (each counted once). */
size_t fu_probes_in(const struct fu_probes *p, const unsigned char *hay, size_t hn);

/* ---- killing a wipe at an exact journal step ---- */

/* The type of the journal's last complete record (its last "type" key: its "data" may hold
 * "type" keys too) into type (tlen bytes, "" when none) and how many records it has. A
 * journal that cannot be read has none. */
void fu_journal_tail(const char *path, char *type, size_t tlen, size_t *records);
/* Run argv (argv[0] a path, its stdout and stderr appended to log, stdin /dev/null) traced:
 * a seccomp filter stops it at each fsync and fdatasync, the journal's last record is read at
 * each stop, and it is killed with SIGKILL at the after-th stop from the one where that record
 * became `record` (0: at the record's own fdatasync - the record written, nothing after it
 * done; 1: at the next sync - the step the record announces under way). Returns the exit
 * status (128 + signal when killed), -1 when tracing is not possible here; *at (atlen bytes)
 * says where it was killed. */
int fu_traced_run(char *const argv[], const char *log, const char *journal, const char *record,
                  int after, char *at, size_t atlen);
/* fu_traced_run, then: skip the test ("<suite>: kill: skipped: ...") when tracing is not
 * possible here; fail it ("kill <what>: the wipe was not killed there ...", the log's tail on
 * stderr) unless it was killed. */
void fu_kill_at(const char *suite, char *const argv[], const char *log, const char *journal,
                const char *record, int after, const char *what, char *at, size_t atlen);

/* The kill points of an archive rewrite's journal (docs/journal.md): where fu_kill_at stops
 * the wipe - at a record's own fdatasync (after 0) or at the next sync after it (after 1, the
 * step the record announces under way). Shared by the archive_wipe and archive_carve suites. */
struct fu_killpoint {
    const char *record; /* the journal record ... */
    int after;          /* ... 0: at its own fdatasync; 1: at the next sync after it */
    const char *what;
};
extern const struct fu_killpoint fu_kp_begin, fu_kp_writing, fu_kp_written, fu_kp_owbegin,
    fu_kp_owmid, fu_kp_owdone, fu_kp_renaming, fu_kp_renamed;

#endif
