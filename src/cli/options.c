/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: the options several commands take (one table), the getopt_long wrapper that
 * merges them with a command's own, and the destructive gate the command table's flag
 * enforces. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/cert.h"
#include "deprive/report.h"
#include "deprive/run.h"
#include "deprive/util.h"

/* ---- option arguments: one convention ---- */

bool cli_parse_jobs(const char *cmd, const char *opt, const char *arg, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 1 || v > 256) {
        cli_usage_error(cmd, "%s takes a number from 1 to 256", opt);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

bool cli_parse_size_arg(const char *cmd, const char *opt, const char *arg, uint64_t *out)
{
    if (cli_parse_size(arg, out))
        return true;
    cli_usage_error(cmd, "%s takes a size in bytes, optionally with K, M, G or T (1K = 1024), "
                         "not '%s'", opt, arg);
    return false;
}

bool cli_max_file_size_option(const char *cmd, const char *arg, uint64_t *out)
{
    return cli_parse_size_arg(cmd, "--max-file-size", arg, out);
}

bool cli_parse_count(const char *cmd, const char *opt, const char *arg, uint64_t min,
                     uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = arg[0] >= '0' && arg[0] <= '9' ? strtoull(arg, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
        cli_usage_error(cmd, "%s: want a whole number from %llu to %llu, not '%s'", opt,
                        (unsigned long long)min, (unsigned long long)max, arg);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_method(const char *cmd, const char *opt, const char *arg,
                      enum dp_wipe_method *out)
{
    (void)opt;
    if (dp_wipe_method_parse(arg, out))
        return true;
    cli_usage_error(cmd, "unknown method '%s'", arg);
    return false;
}

/* ---- the table ---- */

enum cli_arg {
    CLI_ARG_FLAG,   /* no argument: bool set */
    CLI_ARG_STRING, /* const char *, the last one given */
    CLI_ARG_LIST,   /* struct cli_strings, every one given */
    CLI_ARG_JOBS,   /* unsigned, cli_parse_jobs */
    CLI_ARG_SIZE,   /* uint64_t, cli_parse_size_arg */
    CLI_ARG_METHOD, /* enum dp_wipe_method, cli_parse_method */
    CLI_ARG_COUNT,  /* uint64_t, a positive whole number */
    CLI_ARG_RADIUS, /* int 0..64 (a PDQ Hamming distance); sets scan.pdq_threshold_given */
    CLI_ARG_DEPTH,  /* unsigned 1..31 (archive nesting levels) */
    CLI_ARG_POLICY, /* enum dp_archive_policy: wipe-whole or leave */
    CLI_ARG_EMBEDDED, /* enum dp_embedded_policy */
};

struct cli_opt_spec {
    unsigned group;   /* CLI_OPTS_* */
    const char *name; /* long option */
    char letter;      /* short option; 0: none */
    enum cli_arg arg;
    size_t offset;    /* of the value in struct cli_opts */
};

#define AT(field) offsetof(struct cli_opts, field)

/* Every option more than one command takes. A new scan limit is one CLI_OPTS_LIMITS row. */
static const struct cli_opt_spec shared_opts[] = {
    {CLI_OPTS_HASHES, "hashes", 'H', CLI_ARG_LIST, AT(lists)},
    {CLI_OPTS_OUTPUT, "output", 'o', CLI_ARG_STRING, AT(output)},
    {CLI_OPTS_JSON, "json", 0, CLI_ARG_FLAG, AT(json)},
    {CLI_OPTS_JOBS, "jobs", 'j', CLI_ARG_JOBS, AT(scan.jobs)},
    {CLI_OPTS_CROSS_MOUNTS, "cross-mounts", 0, CLI_ARG_FLAG, AT(scan.cross_mounts)},
    {CLI_OPTS_LIMITS, "max-file-size", 0, CLI_ARG_SIZE, AT(scan.max_file_size)},
    {CLI_OPTS_PDQ, "max-pixels", 0, CLI_ARG_COUNT, AT(scan.max_pixels)},
    {CLI_OPTS_PDQ, "max-image-bytes", 0, CLI_ARG_SIZE, AT(scan.max_image_bytes)},
    {CLI_OPTS_PDQ, "pdq-threshold", 0, CLI_ARG_RADIUS, AT(scan.pdq_threshold)},
    {CLI_OPTS_PDQ, "no-dihedral", 0, CLI_ARG_FLAG, AT(scan.no_dihedral)},
    {CLI_OPTS_LIMITS, "pdq-exact", 0, CLI_ARG_FLAG, AT(scan.pdq_exact)},
    {CLI_OPTS_LIMITS, "no-archives", 0, CLI_ARG_FLAG, AT(scan.no_archives)},
    {CLI_OPTS_LIMITS, "no-carve", 0, CLI_ARG_FLAG, AT(scan.no_carve)},
    {CLI_OPTS_LIMITS, "archive-max-depth", 0, CLI_ARG_DEPTH, AT(scan.archive.max_depth)},
    {CLI_OPTS_LIMITS, "archive-max-bytes", 0, CLI_ARG_SIZE, AT(scan.archive.max_bytes)},
    {CLI_OPTS_LIMITS, "archive-max-ratio", 0, CLI_ARG_COUNT, AT(scan.archive.max_ratio)},
    {CLI_OPTS_LIMITS, "archive-max-members", 0, CLI_ARG_COUNT, AT(scan.archive.max_members)},
    {CLI_OPTS_LIMITS, "archive-password-file", 0, CLI_ARG_STRING, AT(password_file)},
    {CLI_OPTS_SWEEP, "sweep", 0, CLI_ARG_FLAG, AT(scan.sweep)},
    {CLI_OPTS_SWEEP, "device", 0, CLI_ARG_STRING, AT(scan.sweep_device)},
    {CLI_OPTS_CONSENT, "examiner", 0, CLI_ARG_STRING, AT(examiner)},
    {CLI_OPTS_CONSENT, "confirmations", 0, CLI_ARG_STRING, AT(confirmations)},
    {CLI_OPTS_CONSENT, "erase-perceptual", 0, CLI_ARG_FLAG, AT(erase_perceptual)},
    {CLI_OPTS_KEY, "key", 'k', CLI_ARG_STRING, AT(key)},
    {CLI_OPTS_KEY, "passphrase-file", 0, CLI_ARG_STRING, AT(passfile)},
    {CLI_OPTS_WIPE, "method", 'm', CLI_ARG_METHOD, AT(wipe.method)},
    {CLI_OPTS_WIPE, "wipe-free-space", 0, CLI_ARG_FLAG, AT(wipe.wipe_free_space)},
    {CLI_OPTS_WIPE, "scrub-slack", 0, CLI_ARG_FLAG, AT(wipe.scrub_slack)},
    {CLI_OPTS_WIPE, "journal-on-same-fs", 0, CLI_ARG_FLAG, AT(wipe.journal_on_device)},
    {CLI_OPTS_WIPE, "resume", 0, CLI_ARG_FLAG, AT(resume)},
    {CLI_OPTS_WIPE, "archive-policy", 0, CLI_ARG_POLICY, AT(wipe.archive_policy)},
    {CLI_OPTS_WIPE, "embedded", 0, CLI_ARG_EMBEDDED, AT(wipe.embedded_policy)},
    {CLI_OPTS_DESTRUCTIVE, "dry-run", 'n', CLI_ARG_FLAG, AT(wipe.dry_run)},
    {CLI_OPTS_DESTRUCTIVE, "yes", 'y', CLI_ARG_FLAG, AT(yes)},
};

#define N_SHARED (sizeof(shared_opts) / sizeof(shared_opts[0]))

/* getopt_long values of the long options added here: above any character and below
 * CLI_GETOPT_REFUSED */
enum { SHARED_VAL = 0x40000, CASE_VAL = 0x50000 /* --case; fields from CASE_VAL + 1 */ };

void cli_opts_init(struct cli_opts *o, unsigned groups)
{
    const struct cli_command *cmd = cli_current();
    if (cmd == NULL)
        dp_misuse("cli_opts_init: no current command");
    if ((groups & CLI_OPTS_DESTRUCTIVE) && !(cmd->flags & CLI_DESTRUCTIVE))
        dp_misuse("cli_opts_init: --yes and --dry-run are for CLI_DESTRUCTIVE commands only");
    if (cmd->flags & CLI_DESTRUCTIVE)
        groups |= CLI_OPTS_DESTRUCTIVE | CLI_OPTS_CASE;
    memset(o, 0, sizeof(*o));
    o->cmd = cmd->name;
    o->groups = groups;
    o->wipe.method = DP_WIPE_NIST_CLEAR;
}

void cli_opts_release(struct cli_opts *o)
{
    free(o->lists.items);
    free(o->longopts);
    free(o->optstring);
    json_decref(o->case_flags);
    json_decref(o->case_doc);
    if (o->password_text != NULL)
        sodium_memzero(o->password_text, o->password_len);
    free(o->password_text);
    free(o->passwords);
    memset(o, 0, sizeof(*o));
}

/* A command option that is also a shared one it takes would be parsed twice: a bug. */
static void check_clash(const struct cli_opt_spec *s, const char *optstring,
                        const struct option *longopts)
{
    if (s->letter != 0 && strchr(optstring, s->letter) != NULL)
        dp_misuse("cli_getopt: a command defines a shared short option itself");
    for (const struct option *l = longopts; l != NULL && l->name != NULL; l++)
        if (strcmp(l->name, s->name) == 0)
            dp_misuse("cli_getopt: a command defines a shared long option itself");
}

/* The command's options, then the shared ones o takes, then the case options. */
static bool merge(struct cli_opts *o, int argc, const char *optstring,
                  const struct option *longopts)
{
    size_t own = 0, nfields = 0;
    while (longopts != NULL && longopts[own].name != NULL)
        own++;
    const struct dp_cert_case_field *f = dp_cert_case_fields(&nfields);
    if (!(o->groups & CLI_OPTS_CASE))
        nfields = 0;
    size_t cap = own + N_SHARED + (nfields ? nfields + 1 : 0) + 1, n = own;
    o->longopts = calloc(cap, sizeof(*o->longopts));
    o->optstring = malloc(strlen(optstring) + 2 * N_SHARED + 1);
    o->lists.items = calloc((size_t)argc + 1, sizeof(char *));
    if (o->longopts == NULL || o->optstring == NULL || o->lists.items == NULL) {
        cli_err("out of memory");
        return false;
    }
    if (own > 0)
        memcpy(o->longopts, longopts, own * sizeof(*longopts));
    char *p = stpcpy(o->optstring, optstring);
    for (size_t i = 0; i < N_SHARED; i++) {
        const struct cli_opt_spec *s = &shared_opts[i];
        if (!(o->groups & s->group))
            continue;
        check_clash(s, optstring, longopts);
        int has = s->arg == CLI_ARG_FLAG ? no_argument : required_argument;
        o->longopts[n++] = (struct option){s->name, has, NULL, SHARED_VAL + (int)i};
        if (s->letter != 0) {
            *p++ = s->letter;
            if (has == required_argument)
                *p++ = ':';
        }
    }
    *p = '\0';
    if (nfields > 0) {
        o->longopts[n++] = (struct option){"case", required_argument, NULL, CASE_VAL};
        for (size_t i = 0; i < nfields; i++)
            o->longopts[n++] = (struct option){f[i].flag, required_argument, NULL,
                                               CASE_VAL + 1 + (int)i};
    }
    return true;
}

/* A case-detail flag's value into o->case_flags; a refusal is reported now and fails
 * cli_opts_case later, so every bad value is named in one go. */
static void case_field(struct cli_opts *o, size_t i, const char *arg)
{
    size_t count = 0;
    const struct dp_cert_case_field *f = dp_cert_case_fields(&count);
    struct dp_error err = {0};
    if ((o->case_flags == NULL && dp_cert_case_new(&o->case_flags, &err) != DP_OK) ||
        dp_cert_case_set(o->case_flags, f[i].path, arg, &err) != DP_OK) {
        cli_dp_err(&err);
        o->case_bad = true;
    }
}

/* Store a shared option; false when its argument was refused (reported). */
static bool store(struct cli_opts *o, const struct cli_opt_spec *s, const char *arg)
{
    char *at = (char *)o + s->offset;
    char opt[64];
    snprintf(opt, sizeof(opt), "--%s", s->name);
    switch (s->arg) {
    case CLI_ARG_FLAG: *(bool *)(void *)at = true; return true;
    case CLI_ARG_STRING: *(const char **)(void *)at = arg; return true;
    case CLI_ARG_LIST: {
        struct cli_strings *l = (struct cli_strings *)(void *)at;
        l->items[l->count++] = (char *)arg; /* at most argc of them */
        return true;
    }
    case CLI_ARG_JOBS: return cli_parse_jobs(o->cmd, opt, arg, (unsigned *)(void *)at);
    case CLI_ARG_SIZE: return cli_parse_size_arg(o->cmd, opt, arg, (uint64_t *)(void *)at);
    case CLI_ARG_METHOD:
        return cli_parse_method(o->cmd, opt, arg, (enum dp_wipe_method *)(void *)at);
    case CLI_ARG_COUNT: return cli_parse_count(o->cmd, opt, arg, 1, UINT64_MAX, (uint64_t *)(void *)at);
    case CLI_ARG_POLICY:
        if (dp_archive_policy_parse(arg, (enum dp_archive_policy *)(void *)at))
            return true;
        cli_usage_error(o->cmd, "%s: '%s' is not wipe-whole or leave", opt, arg);
        return false;
    case CLI_ARG_EMBEDDED:
        if (dp_embedded_policy_parse(arg, (enum dp_embedded_policy *)(void *)at))
            return true;
        cli_usage_error(o->cmd, "%s: '%s' is not overwrite-range, wipe-container or report-only",
                        opt, arg);
        return false;
    case CLI_ARG_DEPTH: {
        uint64_t v;
        if (!cli_parse_count(o->cmd, opt, arg, 1, 31, &v))
            return false;
        *(unsigned *)(void *)at = (unsigned)v;
        return true;
    }
    case CLI_ARG_RADIUS: {
        uint64_t v;
        if (!cli_parse_count(o->cmd, opt, arg, 0, 64, &v))
            return false;
        *(int *)(void *)at = (int)v;
        o->scan.pdq_threshold_given = true;
        return true;
    }
    }
    dp_misuse("cli_getopt: bad argument kind");
}

/* The shared row getopt_long's c stands for, or NULL when c is the command's own. */
static const struct cli_opt_spec *shared_row(const struct cli_opts *o, int c)
{
    if (c >= SHARED_VAL && c < SHARED_VAL + (int)N_SHARED)
        return &shared_opts[c - SHARED_VAL];
    for (size_t i = 0; i < N_SHARED && c > 0 && c < 0x100; i++)
        if (shared_opts[i].letter == c && (o->groups & shared_opts[i].group))
            return &shared_opts[i];
    return NULL;
}

/* --archive-password-file: one password a line (at most 64, the file at most 64 KiB), into
 * o->scan.archive. */
static bool load_passwords(struct cli_opts *o)
{
    char *text = NULL;
    size_t len = 0;
    struct dp_error err = {0};
    if (dp_read_file(o->password_file, 64 * 1024, &text, &len, &err) != DP_OK) {
        cli_dp_err(&err);
        return false;
    }
    o->passwords = calloc(65, sizeof(char *));
    if (o->passwords == NULL) {
        free(text);
        cli_err("out of memory");
        return false;
    }
    size_t n = 0;
    for (char *line = text, *nl; line < text + len && n < 64; line = nl + 1) {
        nl = memchr(line, '\n', (size_t)(text + len - line));
        if (nl == NULL)
            nl = text + len;
        *nl = '\0';
        if (nl > line && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*line != '\0')
            o->passwords[n++] = line;
    }
    if (n == 0) {
        cli_usage_error(o->cmd, "'%s' holds no password", o->password_file);
        free(text);
        free(o->passwords);
        o->passwords = NULL;
        return false;
    }
    o->password_text = text;
    o->password_len = len;
    o->scan.archive.passwords = (const char *const *)o->passwords;
    o->scan.archive.password_count = n;
    return true;
}

int cli_getopt(struct cli_opts *o, int argc, char **argv, const char *optstring,
               const struct option *longopts)
{
    if (o->longopts == NULL && !merge(o, argc, optstring ? optstring : "", longopts))
        return CLI_GETOPT_REFUSED;
    for (;;) {
        int c = getopt_long(argc, argv, o->optstring, o->longopts, NULL);
        if (c == -1 && o->password_file != NULL && o->passwords == NULL &&
            !load_passwords(o))
            return CLI_GETOPT_REFUSED;
        if (c == -1 || c == '?' || c == ':')
            return c;
        const struct cli_opt_spec *s = shared_row(o, c);
        if (s != NULL) {
            if (!store(o, s, optarg))
                return CLI_GETOPT_REFUSED;
        } else if ((o->groups & CLI_OPTS_CASE) && c == CASE_VAL) {
            o->case_file = optarg;
        } else if ((o->groups & CLI_OPTS_CASE) && c > CASE_VAL && c < CASE_VAL + 0x10000) {
            case_field(o, (size_t)(c - CASE_VAL - 1), optarg);
        } else {
            return c;
        }
    }
}

/* ---- case details ---- */

const json_t *cli_opts_case(struct cli_opts *o, bool complete)
{
    struct dp_error err = {0};
    json_t *doc = NULL;
    if (o->case_bad)
        return NULL;
    if (o->case_file != NULL) {
        if (dp_cert_case_from_file(&doc, o->case_file, &err) != DP_OK)
            goto fail;
    } else if (dp_cert_case_new(&doc, &err) != DP_OK) {
        goto fail;
    }
    if (o->case_flags != NULL)
        json_object_update_recursive(doc, o->case_flags);
    if (complete && dp_cert_case_validate(doc, &err) != DP_OK)
        goto fail;
    json_decref(o->case_doc);
    o->case_doc = doc;
    return doc;
fail:
    cli_dp_err(&err);
    json_decref(doc);
    return NULL;
}

/* A help text indented by 10 columns, wrapped at 80. */
static void help_wrapped(FILE *f, const char *text, const char *tail)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s%s", text, tail);
    const char *p = buf;
    while (*p != '\0') {
        size_t n = strlen(p);
        if (n > 70) {
            n = 70;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = strcspn(p, " ");
        }
        fprintf(f, "          %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

void cli_opts_case_help(FILE *f, bool all_required)
{
    size_t count = 0;
    const struct dp_cert_case_field *fl = dp_cert_case_fields(&count);
    fprintf(f, "\nCase details (from --case CASE.json, overridden by flags):\n"
               "      --case FILE            case file (docs/certificate.md)\n");
    for (size_t i = 0; i < count; i++) {
        fprintf(f, "      --%s VALUE\n", fl[i].flag);
        help_wrapped(f, fl[i].help, fl[i].required && all_required ? " (required)" : "");
    }
}

/* ---- the destructive gate ---- */

enum gate {
    GATE_SHUT = 0, /* not passed (yet) */
    GATE_DRY_RUN,  /* passed for a dry run: nothing may change */
    GATE_OPEN,     /* order reference and a way to confirm: may be asked */
    GATE_CONFIRMED,
    GATE_DECLINED,
};

static const char no_confirm[] = "refusing to erase without confirmation: no terminal; pass --yes";

/* The gate is the table's: only a CLI_DESTRUCTIVE command may go through it. */
static void destructive_only(const char *what)
{
    const struct cli_command *c = cli_current();
    if (c == NULL || !(c->flags & CLI_DESTRUCTIVE))
        dp_misuse(what);
}

/* Step 1, as a status (err says why not). */
static enum dp_status gate(struct cli_opts *o, bool *usage, struct dp_error *err)
{
    destructive_only("cli_destructive_gate: the command is not CLI_DESTRUCTIVE");
    *usage = false;
    if (o->wipe.dry_run) {
        o->gate = GATE_DRY_RUN;
        return DP_OK;
    }
    o->gate = GATE_SHUT;
    if (dp_run_wipe_case_check(o->case_doc, err) != DP_OK) { /* the library's rule */
        *usage = true;
        return DP_ERR_INVALID;
    }
    if (!o->yes && !isatty(STDIN_FILENO))
        return dp_error_set(err, DP_ERR_INVALID, 0, "%s", no_confirm);
    o->gate = GATE_OPEN;
    return DP_OK;
}

bool cli_destructive_gate(struct cli_opts *o)
{
    struct dp_error err = {0};
    bool usage;
    if (gate(o, &usage, &err) == DP_OK)
        return true;
    if (usage)
        cli_usage_error(o->cmd, "%s", err.msg);
    else
        cli_dp_err(&err);
    return false;
}

enum dp_status cli_destructive_possible(void *ctx, struct dp_error *err)
{
    bool usage;
    return gate(ctx, &usage, err);
}

bool cli_destructive_confirm(struct cli_opts *o, size_t count)
{
    destructive_only("cli_destructive_confirm: the command is not CLI_DESTRUCTIVE");
    if (o->gate == GATE_DRY_RUN)
        return true;
    if (o->gate != GATE_OPEN)
        dp_misuse("cli_destructive_confirm: the gate was not passed");
    o->gate = GATE_DECLINED;
    if (count > 0 && !o->yes) {
        if (!isatty(STDIN_FILENO)) {
            cli_err("%s", no_confirm);
            return false;
        }
        fputs("erase these files? this cannot be undone [y/N] ", stderr);
        fflush(stderr);
        char line[16];
        if (fgets(line, sizeof(line), stdin) == NULL ||
            (strcmp(line, "y\n") != 0 && strcmp(line, "yes\n") != 0))
            return false;
    }
    o->gate = GATE_CONFIRMED;
    return true;
}

bool cli_destructive_ask(void *ctx, const struct dp_plan *plan)
{
    return cli_destructive_confirm(ctx, plan->count);
}

void cli_destructive_check(const struct cli_opts *o, bool dry_run)
{
    destructive_only("cli_destructive_check: the command is not CLI_DESTRUCTIVE");
    if (!dry_run && o->gate != GATE_OPEN && o->gate != GATE_CONFIRMED)
        dp_misuse("cli_destructive_check: erasing without passing the destructive gate");
}
