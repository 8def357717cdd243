/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: status codes and the error record every fallible function fills. */
#ifndef DEPRIVE_ERROR_H
#define DEPRIVE_ERROR_H

#include <stddef.h>

#define DP_WUR __attribute__((warn_unused_result))
#define DP_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#define DP_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Every fallible library function returns one of these; DP_OK is zero. */
enum dp_status {
    DP_OK = 0,
    DP_ERR_NOMEM,       /* allocation failed */
    DP_ERR_IO,          /* a system call failed; dp_error.sys_errno says why */
    DP_ERR_PARSE,       /* malformed input (hash list, plan, certificate, key) */
    DP_ERR_INVALID,     /* well-formed but unacceptable (empty list, wrong version, bad option) */
    DP_ERR_CRYPTO,      /* a cryptographic operation failed (bad passphrase, bad key) */
    DP_ERR_VERIFY,      /* a verification failed (signature, read-back, consistency) */
    DP_ERR_CHANGED,     /* the object is not the one that was scanned */
    DP_ERR_UNSUPPORTED, /* the operation is not possible here (filesystem, platform) */
    DP_ERR_LIMIT,       /* a safety limit was hit (size, depth, count) */
    DP_ERR_CANCELLED,   /* stopped on request */
};

/* Filled by a failing function when the caller passes one; may be NULL. */
struct dp_error {
    enum dp_status code;
    int sys_errno; /* errno at the failure, 0 when not a system error */
    char msg[512]; /* one line, no trailing newline, lowercase start */
};

/* Record an error (when err is non-NULL) and return code. errnum 0 = not a system error;
 * when errnum is non-zero, ": strerror(errnum)" is appended to the message. */
enum dp_status dp_error_set(struct dp_error *err, enum dp_status code, int errnum,
                            const char *fmt, ...) DP_PRINTF(4, 5);
#ifdef __clang_analyzer__
/* For clang-tidy's analyzer only (scripts/static-check.sh), which reads one file at a time:
 * without this it cannot know the result is code, and takes every error return for a
 * possible DP_OK that goes on with its outputs unset. */
#define dp_error_set(err, code, ...) (dp_error_set(err, code, __VA_ARGS__), (code))
#endif

/* Prefix an existing message with context ("parsing 'x': " + old message). */
void dp_error_prefix(struct dp_error *err, const char *fmt, ...) DP_PRINTF(2, 3);

/* Clear an error record (err may be NULL). */
void dp_error_clear(struct dp_error *err);

/* Short static name of a status ("i/o error", "parse error", ...). */
const char *dp_status_str(enum dp_status status);

/* Abort with a message: API misuse (a bug in the caller), never bad data. */
_Noreturn void dp_misuse(const char *what);

#endif
