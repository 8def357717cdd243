/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: shared declarations for the command files (they include only deprive headers). */
#ifndef DEPRIVE_CLI_H
#define DEPRIVE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "deprive/error.h"

/* Exit codes (documented in docs/deprive.1). */
enum {
    DP_EXIT_OK = 0,       /* success: completed, valid, none present */
    DP_EXIT_NEGATIVE = 1, /* a negative finding: invalid certificate, matches still present */
    DP_EXIT_ERROR = 2,    /* error or usage */
};

/* Global flags set by main before dispatch. */
extern int cli_verbose; /* -v count */
extern bool cli_quiet;  /* -q */

/* "deprive: <message>\n" on stderr. */
void cli_err(const char *fmt, ...) DP_PRINTF(1, 2);
/* Same, for a dp_error ("deprive: <err->msg>"). */
void cli_dp_err(const struct dp_error *err);
/* Informational line on stderr unless -q. */
void cli_info(const char *fmt, ...) DP_PRINTF(1, 2);
/* Usage error: prints "deprive <cmd>: <msg>" and a hint to --help; returns DP_EXIT_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...) DP_PRINTF(2, 3);

/* Read a passphrase: from file (first line) when file is non-NULL, else from the terminal
 * with echo off (prompt on stderr). Fails when there is no terminal and no file.
 * The buffer must be sodium_malloc'ed by the caller; it is NUL-terminated. */
bool cli_read_passphrase(char *buf, size_t size, const char *prompt, const char *file,
                         bool confirm);

struct dp_hashset;
struct dp_scan_progress;
struct dp_scan_result;

/* Load and finalize every --hashes list; prints the error and returns false on failure. */
bool cli_load_hashes(char **paths, size_t count, struct dp_hashset **out);
/* Progress callback for dp_scan_run: a one-line bar on stderr (ctx unused). */
void cli_scan_progress(void *ctx, const struct dp_scan_progress *p);
/* Whether to show progress: stderr is a terminal and not -q. */
bool cli_want_progress(void);
/* Print the human summary of a scan (and one line per finding) to f. */
void cli_print_scan(FILE *f, const struct dp_scan_result *r, const struct dp_hashset *set);
/* Human size: "1.5 GiB" into buf. */
const char *cli_human_bytes(char *buf, size_t size, unsigned long long bytes);

/* ---- wipe and run (wipeflow.c) ---- */
struct option;
struct dp_plan;
struct dp_wipe_opts;
typedef struct json_t json_t;

/* Case details gathered from --case FILE and per-field flags. */
struct cli_case {
    const char *file;
    json_t *flags; /* fields set by flags, overriding the file */
    bool bad;      /* a flag value was refused (already reported) */
};
/* Append the case options (--case and one per dp_cert_case_fields entry) to out (at most
 * max); returns how many. */
size_t cli_case_options(struct option *out, size_t max);
/* Help for the case options; all_required marks the fields a certificate needs. */
void cli_case_help(FILE *f, bool all_required);
/* Handle getopt result c when it is a case option; false when it is not one. */
bool cli_case_option(int c, const char *arg, struct cli_case *cs);
/* The case document (file merged with flags); with require_complete, validated. NULL after
 * reporting an error. New reference. */
json_t *cli_case_build(struct cli_case *cs, bool require_complete);
void cli_case_release(struct cli_case *cs);
/* Ask on the terminal; without one, refuse unless yes. */
bool cli_confirm(const char *question, bool yes);
/* Whether cli_confirm could ask (yes, or stdin is a terminal); says why not. Called before
 * anything is scanned or written, so a run is not refused only at the question. */
bool cli_confirm_possible(bool yes);
/* dp_wipe_preflight (root wipeable, journal writable and off the wiped filesystem), printing
 * the refusal; false when refused. Call it before writing anything. */
bool cli_wipe_preflight(const char *root, const char *journal_path,
                        const struct dp_wipe_opts *opts);
void cli_print_plan(FILE *f, const struct dp_plan *plan);
/* Create (or with resume, reopen and replay) the journal and run the wipe. The caller has
 * checked cli_wipe_preflight first. */
int cli_run_wipe(const struct dp_plan *plan, const char *plan_file, const char *journal_path,
                 bool resume, const struct dp_wipe_opts *opts, json_t **result);
void cli_print_wipe(FILE *f, const json_t *result);
/* The examiner's statement of the medium (exhibit.media_class, from --media-class or the case
 * file) into the wipe options; false (after saying why) when it is not a known class. */
bool cli_media_class(const json_t *case_doc, const struct cli_case *cs, struct dp_wipe_opts *opts);

/* Parse a size for --max-file-size: decimal bytes, or with one suffix K, M, G or T (either
 * case; binary multiples, 1K = 1024). No sign, space, fraction or 0; false when refused or
 * over 2^64-1. */
bool cli_parse_size(const char *s, uint64_t *out);
/* The --max-file-size option shared by scan, run and audit: parse into *out, or print the
 * usage error for cmd and return false. */
bool cli_max_file_size_option(const char *cmd, const char *arg, uint64_t *out);

/* base + suffix, heap (NULL when out of memory). */
char *cli_derived_path(const char *base, const char *suffix);
/* Load a secret key, asking for its passphrase (terminal, or passfile) when it has one.
 * Prints the error and returns false on failure. */
struct dp_sign_seckey;
bool cli_load_seckey(const char *path, const char *passfile, struct dp_sign_seckey **sk);

/* Commands: argv[0] is the command name; getopt_long state is reset by main. */
int cmd_scan(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_wipe(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_audit(int argc, char **argv);

#endif
