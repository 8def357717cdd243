/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: shared declarations for the command files (they include only deprive headers). */
#ifndef DEPRIVE_CLI_H
#define DEPRIVE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "deprive/error.h"
#include "deprive/scan.h"
#include "deprive/wipe.h"

/* Exit codes (documented in docs/deprive.1). */
enum {
    DP_EXIT_OK = 0,       /* success: completed, valid, none present */
    DP_EXIT_NEGATIVE = 1, /* a negative finding: invalid certificate, matches still present */
    DP_EXIT_ERROR = 2,    /* error or usage */
};

/* Global flags set by main before dispatch. */
extern int cli_verbose; /* -v count */
extern bool cli_quiet;  /* -q */

/* ---- the command table (main.c) ---- */

/* What the dispatcher and the shared option parser do for a command: one bit each, named in
 * main.c's label table (deprive --list-commands prints them). */
enum cli_command_flag_bit {
    CLI_FLAG_DESTRUCTIVE_BIT, /* erases: --dry-run, --yes and the case details are its
                                 options, and it erases only through the destructive gate */
    CLI_FLAG_COUNT
};
#define CLI_DESTRUCTIVE (1u << CLI_FLAG_DESTRUCTIVE_BIT)

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is "deprive NAME"; getopt state reset */
    const char *summary;
    unsigned flags; /* CLI_DESTRUCTIVE... */
};

/* The table row of the command being run (set by main before dispatch); NULL before. */
const struct cli_command *cli_current(void);

/* ---- terminal-safe text (common.c) ---- */

/* Every string that did not come from deprive itself - a path or name from the device, a
 * hash list's name or content, a certificate's text, a library message that may quote them -
 * reaches the terminal through this one escape (dp_text_escape_append: valid UTF-8 kept; C0
 * and C1 controls, DEL, bytes that are not UTF-8 and backslash written as \xNN or \\).
 * The message functions below apply it to the whole message, so their arguments are passed
 * raw; results printed with printf wrap each such argument in cli_text.
 * The result lives in one of 8 rotating buffers: valid until 8 more calls, enough for one
 * printf. Never NULL ("?" for NULL or out of memory). One thread at a time. */
const char *cli_text(const char *s);
const char *cli_textn(const char *s, size_t n);
/* A report/plan/result location array as one line (dp_json_location_text), same buffers. */
const char *cli_location(const json_t *location);

/* "deprive: <message>\n" on stderr (the message escaped, see cli_text). */
void cli_err(const char *fmt, ...) DP_PRINTF(1, 2);
/* Same, for a dp_error ("deprive: <err->msg>"). */
void cli_dp_err(const struct dp_error *err);
/* Informational line on stderr unless -q. */
void cli_info(const char *fmt, ...) DP_PRINTF(1, 2);
/* Usage error: prints "deprive <cmd>: <msg>" and a hint to --help; returns DP_EXIT_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...) DP_PRINTF(2, 3);
#ifdef __clang_analyzer__ /* the result, for the analyzer: see dp_error_set in error.h */
#define cli_usage_error(cmd, ...) (cli_usage_error(cmd, __VA_ARGS__), DP_EXIT_ERROR)
#endif

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
/* The sweep's progress on stderr (scan --sweep, run --sweep, sweep). */
void cli_sweep_progress(void *ctx, const struct dp_sweep_progress *p);
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

void cli_print_plan(FILE *f, const struct dp_plan *plan);
/* The wipe's progress (-v: a line per step; on a terminal: one status line) and what a
 * resumed journal held, into opts, for dp_wipe_journaled and dp_run. */
void cli_wipe_callbacks(struct dp_wipe_opts *opts);
void cli_print_wipe(FILE *f, const json_t *result);

/* Parse a size: decimal bytes, or with one suffix K, M, G or T (either case; binary
 * multiples, 1K = 1024). No sign, space, fraction or 0; false when refused or over 2^64-1.
 * Prints nothing. */
bool cli_parse_size(const char *s, uint64_t *out);

/* ---- the options several commands take (options.c) ----
 *
 * One table (options.c) holds them: long name, short letter, the kind of argument and where
 * the value goes in struct cli_opts. A command says which groups it takes and calls
 * cli_getopt in its getopt loop with only its own options; the shared ones are merged in,
 * parsed and stored, and never reach the command's switch. A further scan limit
 * (--max-pixels, an archive limit) is one row in CLI_OPTS_LIMITS (and its field in
 * struct dp_scan_opts): every command that takes the limits takes it.
 *
 * Option-argument parsers follow one convention: parse arg, the argument of option opt
 * ("--jobs"), into *out; on refusal print "deprive CMD: ..." and "Try 'deprive CMD --help'."
 * and return false. */
bool cli_parse_jobs(const char *cmd, const char *opt, const char *arg, unsigned *out);
bool cli_parse_size_arg(const char *cmd, const char *opt, const char *arg, uint64_t *out);
/* A whole number min..max (decimal digits only). */
bool cli_parse_count(const char *cmd, const char *opt, const char *arg, uint64_t min,
                     uint64_t max, uint64_t *out);
bool cli_parse_method(const char *cmd, const char *opt, const char *arg,
                      enum dp_wipe_method *out);
/* cli_parse_size_arg(cmd, "--max-file-size", arg, out): for commands not yet on cli_getopt. */
bool cli_max_file_size_option(const char *cmd, const char *arg, uint64_t *out);

enum cli_opts_group {
    CLI_OPTS_HASHES = 1u << 0,       /* -H, --hashes LIST (repeatable) -> lists */
    CLI_OPTS_OUTPUT = 1u << 1,       /* -o, --output FILE -> output */
    CLI_OPTS_JSON = 1u << 2,         /* --json -> json */
    CLI_OPTS_JOBS = 1u << 3,         /* -j, --jobs N (1..256) -> scan.jobs */
    CLI_OPTS_CROSS_MOUNTS = 1u << 4, /* --cross-mounts -> scan.cross_mounts */
    CLI_OPTS_LIMITS = 1u << 5,       /* --max-file-size SIZE, and every further scan limit */
    CLI_OPTS_KEY = 1u << 6,          /* -k, --key SECKEY, --passphrase-file F -> key, passfile */
    CLI_OPTS_WIPE = 1u << 7,         /* -m, --method M, --wipe-free-space, --journal-on-same-fs,
                                        --resume -> wipe.*, resume */
    CLI_OPTS_CASE = 1u << 8,         /* --case FILE and one flag per case field (--order...) */
    CLI_OPTS_DESTRUCTIVE = 1u << 9,  /* -n, --dry-run, -y, --yes -> wipe.dry_run, yes. Never
                                        asked for: a CLI_DESTRUCTIVE command gets it (and
                                        CLI_OPTS_CASE) from the command table */
    CLI_OPTS_PDQ = 1u << 10,         /* --max-pixels, --max-image-bytes, --pdq-threshold,
                                        --no-dihedral -> scan.* (matching, and the wipe's
                                        re-check of perceptual-only targets) */
    CLI_OPTS_CONSENT = 1u << 11,     /* --examiner NAME, --confirmations FILE,
                                        --erase-perceptual -> examiner, confirmations,
                                        erase_perceptual */
    CLI_OPTS_SWEEP = 1u << 12,       /* --sweep, --device DEV -> scan.sweep, scan.sweep_device */
};

struct option;

struct cli_strings {
    char **items; /* borrowed from argv */
    size_t count;
};

/* Where the shared options land; cli_opts_init / cli_opts_release. */
struct cli_opts {
    const char *cmd; /* the command's name, for messages */
    unsigned groups; /* CLI_OPTS_* taken */
    struct cli_strings lists; /* --hashes, in the order given */
    const char *output, *key, *passfile;
    bool json, resume, yes;
    const char *examiner, *confirmations; /* CLI_OPTS_CONSENT */
    bool erase_perceptual;
    /* --archive-password-file (CLI_OPTS_LIMITS): read once the options are parsed, into
     * scan.archive.passwords */
    const char *password_file;
    char *password_text; /* the file's bytes (wiped when released) */
    size_t password_len;
    char **passwords;
    struct dp_scan_opts scan; /* jobs, cross_mounts, the limits (progress left NULL) */
    struct dp_wipe_opts wipe; /* method (default nist-clear), wipe_free_space,
                                 journal_on_device, dry_run */
    /* case details: --case FILE, and the fields given as flags (a case document); a refused
     * flag value was reported and makes cli_opts_case fail */
    const char *case_file;
    json_t *case_flags;
    bool case_bad;
    json_t *case_doc; /* cli_opts_case's result (owned) */
    int gate;         /* the destructive gate's state (options.c) */
    /* the merged getopt tables, made by the first cli_getopt call */
    struct option *longopts;
    char *optstring;
};

/* Start with nothing given, for the current command (cli_current()). groups: the CLI_OPTS_*
 * it takes; a CLI_DESTRUCTIVE command also gets CLI_OPTS_DESTRUCTIVE and CLI_OPTS_CASE, and
 * asking for CLI_OPTS_DESTRUCTIVE without the flag is a bug (abort). */
void cli_opts_init(struct cli_opts *o, unsigned groups);
void cli_opts_release(struct cli_opts *o);

/* cli_getopt's result when a shared option's argument was refused (already reported: return
 * DP_EXIT_ERROR). Not a character and not a value any command uses. */
#define CLI_GETOPT_REFUSED 0x7fff0000
/* getopt_long over the command's own options (optstring, longopts ending with a zero entry;
 * may be NULL) merged with the shared ones o takes. Shared options are parsed into o and
 * skipped; returns the command's own options as getopt_long does (optarg set), '?' (or ':')
 * as getopt_long does, CLI_GETOPT_REFUSED, or -1 at the end. A command option that repeats
 * a shared one is a bug (abort). */
int cli_getopt(struct cli_opts *o, int argc, char **argv, const char *optstring,
               const struct option *longopts);

/* The case details: the --case file merged with the flags, with complete validated
 * (dp_cert_case_validate). Stored in o->case_doc (owned by o). NULL after reporting. */
const json_t *cli_opts_case(struct cli_opts *o, bool complete);
/* Help for the case options; all_required marks the fields a certificate needs. */
void cli_opts_case_help(FILE *f, bool all_required);

/* ---- the destructive gate (options.c) ----
 *
 * The command table's CLI_DESTRUCTIVE is the one place that says a command erases. Such a
 * command takes --dry-run, --yes and the case details from the shared table, and erases only
 * through these steps, which abort when the current command is not CLI_DESTRUCTIVE (a
 * command that is not can never ask):
 *   1. cli_destructive_gate, before anything is scanned or written: an order reference
 *      (the case details' authority.order_reference, from cli_opts_case) and a way to
 *      confirm (--yes, or standard input is a terminal); refused with the reason printed.
 *      Nothing is required in a dry run.
 *   2. cli_destructive_confirm, once the plan has been shown: the question on the terminal
 *      unless --yes, a dry run or nothing to erase.
 *   3. cli_destructive_check, right before the first destructive act: aborts (a bug) unless
 *      1 passed and 2 was not declined - or the act is a dry run.
 * For dp_run, cli_destructive_possible and cli_destructive_ask are 1 and 2 as its
 * confirm_possible and confirm hooks (ctx: the struct cli_opts). */
bool cli_destructive_gate(struct cli_opts *o);
bool cli_destructive_confirm(struct cli_opts *o, size_t count);
void cli_destructive_check(const struct cli_opts *o, bool dry_run);
enum dp_status cli_destructive_possible(void *ctx, struct dp_error *err);
bool cli_destructive_ask(void *ctx, const struct dp_plan *plan);

/* ---- perceptual-only targets (consent.c) ----
 * Before a wipe of plan (read from plan_file): open the confirmations file (--confirmations,
 * default PLAN.confirmations); on a terminal, unless --yes or a dry run, ask about each
 * perceptual-only finding no one has decided on and record the answers there; then set
 * o->wipe.confirmations, .blanket_consent (--erase-perceptual, given by the examiner:
 * --examiner or the case's officer) and .perceptual (o->scan). *out: the confirmations, for
 * cli_consent_close after the wipe. Prints and returns false on failure. */
struct dp_confirmations;
bool cli_consent_prepare(struct cli_opts *o, const struct dp_plan *plan, const char *plan_file,
                         struct dp_confirmations **out);
void cli_consent_close(struct dp_confirmations *c);
/* Help lines for CLI_OPTS_CONSENT and CLI_OPTS_PDQ. */
void cli_consent_help(FILE *f);
/* One perceptual-only finding in two lines (id, location, size; distance, variant,
 * qualities, the list entry). */
void cli_print_candidate(FILE *f, const struct dp_plan_target *t);

/* base + suffix, heap (NULL when out of memory). */
char *cli_derived_path(const char *base, const char *suffix);
/* Load a secret key, asking for its passphrase (terminal, or passfile) when it has one.
 * Prints the error and returns false on failure. */
struct dp_sign_seckey;
bool cli_load_seckey(const char *path, const char *passfile, struct dp_sign_seckey **sk);

/* Commands: argv[0] is the command name; getopt_long state is reset by main. */
int cmd_scan(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_wipe(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_confirm(int argc, char **argv);

#endif
