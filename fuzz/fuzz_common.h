/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: what the libFuzzer targets share - a private temp directory per process
 * (for the APIs that take a path), writing an input there, and the bytes of an input cut into
 * parts. Never linked into the library or the CLI. */
#ifndef DEPRIVE_FUZZ_COMMON_H
#define DEPRIVE_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* libFuzzer's entry points (the targets define them). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* This process's private directory (mode 0700, under /dev/shm when it is writable - the
 * journal and confirmations APIs fsync - else $TMPDIR or /tmp), made on first use and removed
 * with everything in it at exit. Aborts when it cannot be made. */
const char *fz_tmpdir(void);

/* The path of name inside fz_tmpdir(), heap (caller frees). */
char *fz_path(const char *name);

/* Replace the file name in fz_tmpdir() with exactly size bytes of data (unlinked first, then
 * created 0600); returns its path (heap, caller frees). Aborts on I/O errors: they are the
 * harness's, not a finding. */
char *fz_write(const char *name, const void *data, size_t size);

/* The whole file at path, heap (caller frees); aborts when it cannot be read. */
char *fz_read(const char *path, size_t *size);

/* Does the file at path hold exactly size bytes of data? */
bool fz_same(const char *path, const uint8_t *data, size_t size);

/* A NUL-terminated heap copy of size bytes (the input may hold NULs: they stay). */
char *fz_strndup(const uint8_t *data, size_t size);

/* /dev/null for renderers, opened once. */
FILE *fz_devnull(void);

/* Cut the input at the first occurrence of sep (a byte string): [data, *a_len) before it and
 * what follows after it in *b, *b_len. False (nothing changed) when sep does not occur. */
bool fz_split(const uint8_t *data, size_t size, const char *sep, size_t *a_len,
              const uint8_t **b, size_t *b_len);

#endif
