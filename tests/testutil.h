/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: temp directories, files, owned allocations, running the CLI, loop-mounted
 * filesystem images. */
#ifndef DEPRIVE_TESTUTIL_H
#define DEPRIVE_TESTUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

/* Fresh directory under $TMPDIR (or /tmp); heap string, caller frees after tu_rm_rf. */
char *tu_mkdtemp(void);
/* Remove a tree (no symlink followed); refuses paths outside /tmp-like temp roots. */
void tu_rm_rf(const char *path);
/* Path join into a heap string: tu_path(dir, "a/b"). */
char *tu_path(const char *dir, const char *rel);
/* Write bytes to dir/rel, creating parent directories (0755). Asserts on failure. */
void tu_write(const char *dir, const char *rel, const void *buf, size_t len);
/* Write bytes to path (created 0644 or truncated; its directory must exist, a symlink is not
 * followed). Fails the test when it cannot. */
void tu_write_file(const char *path, const void *buf, size_t len);
/* n pseudo-random bytes (seeded; the same as tu_write_random writes), heap. */
unsigned char *tu_random_bytes(size_t n, uint32_t seed);
/* Write n pseudo-random bytes (seeded) to dir/rel. */
void tu_write_random(const char *dir, const char *rel, size_t n, uint32_t seed);
/* Read a whole file into a heap buffer (NUL-terminated); NULL when it cannot be read. */
char *tu_read(const char *path, size_t *len);
/* SHA-256 hex (65 bytes) of a file's contents; false when it cannot be read. */
bool tu_sha256_hex(const char *path, char out[65]);
/* The same, failing the test ("cannot read <path>") when the file cannot be read. */
void tu_sha256_file(const char *path, char out[65]);
/* SHA-256 hex (65 bytes) of n bytes in memory. */
void tu_sha256_buf(const void *b, size_t n, char out[65]);
/* Seconds on the monotonic clock, for timing what a test runs. */
double tu_now(void);

/* sha256sum of every regular file below root ("hex  ./path" lines, sorted by path), heap:
 * compare before and after to prove nothing else changed. */
char *tu_fingerprint(const char *root);

/* Load a JSON file; fails the test when it cannot be read or parsed. */
json_t *tu_load_json(const char *path);
/* The value at a dotted path ("outcome.result"), borrowed; NULL when absent. */
const json_t *tu_jget(const json_t *o, const char *dotted);
/* The string at a dotted path, borrowed; "(none)" when absent or not a string (for messages
 * and comparisons that must not crash on a missing field). */
const char *tu_jstr(const json_t *o, const char *dotted);

/* ---- owned allocations: a test hands what it allocates to tu_own (tu_ownj for JSON) and its
 * teardown calls tu_release_owned, so a failing assertion (cmocka jumps out of the test) leaks
 * nothing. The tu_o* helpers return owned results. Not thread-safe; one test at a time. ---- */

/* Own p (non-NULL, heap) until tu_release_owned; returns p. Fails the test past 2048. */
void *tu_own(void *p);
/* Own one reference to j (non-NULL) until tu_release_owned; returns j. Fails past 128. */
json_t *tu_ownj(json_t *j);
/* Free everything owned, in reverse order; call from every teardown. */
void tu_release_owned(void);
/* tu_path, owned. */
char *tu_opath(const char *dir, const char *rel);
/* printf into a heap string (at most 4095 bytes), owned. */
char *tu_ostr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* tu_read, owned; fails the test ("cannot read <path>") when the file cannot be read. */
unsigned char *tu_oread(const char *path, size_t *len);
/* tu_load_json, owned. */
json_t *tu_oload(const char *path);
/* j as compact JSON text for messages ("null" for NULL), owned. */
char *tu_dumps(const json_t *j);

struct dp_hashset;
struct dp_wipe_opts;
struct dp_wipe_state;
/* Scan root in-process against a hash list given as text (deprive's own format); returns the
 * report document. *set receives the finalized list (caller frees) and is reused when set. */
json_t *tu_scan_report(const char *root, const char *list_text, struct dp_hashset **set);
/* Wipe what report lists in-process, with a new journal at journal_path (or, with resume, the
 * existing one replayed). Asserts the run returns want; returns the result (NULL unless OK)
 * and, when err_out is given, copies the error message there. */
json_t *tu_wipe_report(json_t *report, const char *journal_path, const struct dp_wipe_opts *o,
                       bool resume, int want, char *err_out, size_t err_len);

/* Set-up a whole suite shares (its images, say), made on first use; its outcome kept. */
struct tu_once {
    bool tried, ok;
};
/* Call make the first time; fail the running test ("<what> could not be made") when make
 * returned false - then and at every later call, without calling it again. */
void tu_need_once(struct tu_once *o, bool (*make)(void), const char *what);

/* Result of running a program. */
struct tu_run {
    int status;     /* exit code, or 128+signal */
    char *out;      /* captured stdout, NUL-terminated */
    char *err;      /* captured stderr, NUL-terminated */
};
/* Run argv (NULL-terminated) with optional stdin text (NULL = /dev/null); captures output. */
void tu_run_argv(struct tu_run *r, char *const argv[], const char *stdin_text);
/* Run the deprive binary under test with the given args (NULL-terminated list). */
void tu_deprive(struct tu_run *r, const char *stdin_text, ...);
void tu_run_free(struct tu_run *r);
/* tu_run_argv with no stdin; r->out and r->err owned (do not tu_run_free them). */
void tu_orun(struct tu_run *r, char *const argv[]);
/* tu_deprive with no stdin; r->out and r->err owned (do not tu_run_free them). */
void tu_odeprive(struct tu_run *r, ...);
/* Fail the test unless r exited with status: "<what>: exit N, want M" and both outputs. */
void tu_expect_exit(const struct tu_run *r, int status, const char *what);

/* A `deprive wipe` command line (suites fill it positionally: keep the fields' order). */
struct tu_wipe_args {
    const char *order, *list, *journal, *out, *plan; /* --order, --hashes, --journal, -o, PLAN */
    const char *const *extra;                        /* NULL-terminated further options, or NULL */
    bool resume;                                     /* --resume */
    bool journal_on_same_fs;                         /* --journal-on-same-fs */
};
/* Fill argv (room for cap >= 16 entries) with `deprive wipe [--resume] --yes --order O --hashes
 * L --journal J -o OUT [--journal-on-same-fs] [extra...] PLAN` and a NULL; extra options that
 * do not fit are left out. The strings are borrowed from a. */
void tu_wipe_argv(char **argv, size_t cap, const struct tu_wipe_args *a);
/* Run that command line (tu_orun: no stdin, the output owned). */
void tu_owipe(struct tu_run *r, const struct tu_wipe_args *a);
/* Fail the test unless wipe result target t has status want: "<what>: status S (reason), want
 * W". */
void tu_expect_status(const json_t *t, const char *want, const char *what);
/* Run a shell command; returns its exit status (0 ok). Output goes to stderr. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True when running as root with /dev/loop-control; else prints why to stdout. */
bool tu_can_loop(const char *why_prefix);
/* True when the program is on PATH. */
bool tu_have(const char *prog);

/* A filesystem image made and loop-mounted by a test. */
struct tu_fs {
    char *dir;      /* temp dir holding image and mount point */
    char *image;    /* dir/fs.img */
    char *mnt;      /* dir/mnt */
    char type[16];  /* ext4, xfs, btrfs, vfat, exfat, ntfs */
    bool mounted;
};
/* Make an image of size_mb MiB with mkfs for type and mount it read-write (FUSE for vfat,
 * exfat, ntfs where the kernel lacks them). Returns false (with a message) when the tools or
 * the kernel cannot do it. Always pair with tu_fs_destroy. */
bool tu_fs_create(struct tu_fs *fs, const char *type, unsigned size_mb);
/* Mount again (ro selects -o ro,noload for ext4 / ro otherwise). */
bool tu_fs_mount(struct tu_fs *fs, bool ro);
/* Unmount (sync first) and detach; safe to call when not mounted. */
void tu_fs_umount(struct tu_fs *fs);
/* Unmount, detach, remove everything. Safe on a partly created fs. */
void tu_fs_destroy(struct tu_fs *fs);

#endif
