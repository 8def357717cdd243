/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: global options, the command table and the dispatcher. */
#include "cli.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>

#include "dp_config.h"

/* The commands, as data: the flags column is the one place that says what the dispatcher and
 * the shared options do for a command (CLI_DESTRUCTIVE: --dry-run, --yes and the case
 * details are its options, and it erases only through the destructive gate). */
static const struct cli_command commands[] = {
    {"keygen", cmd_keygen, "make a minisign-compatible signing key pair", 0},
    {"hash", cmd_hash, "make a hash list from files (victim side; images never leave)", 0},
    {"scan", cmd_scan, "find files matching hash lists under a mounted filesystem", 0},
    {"sweep", cmd_sweep, "read a device, raw image or E01 set for matching images, read-only", 0},
    {"review", cmd_review, "render a PDF contact sheet of perceptual-only candidates", 0},
    {"confirm", cmd_confirm, "record an examiner's decision on perceptual-only matches", 0},
    {"wipe", cmd_wipe, "securely erase the matches listed in a scan plan", CLI_DESTRUCTIVE},
    {"run", cmd_run, "scan, wipe, re-scan and certify in one go", CLI_DESTRUCTIVE},
    {"verify", cmd_verify, "check a signed erasure certificate", 0},
    {"show", cmd_show, "print a certificate for a person, or render it as PDF", 0},
    {"audit", cmd_audit, "re-scan a device for everything a certificate says was erased", 0},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The flags' names, for --list-commands. */
static const char *const flag_names[CLI_FLAG_COUNT] = {
    [CLI_FLAG_DESTRUCTIVE_BIT] = "destructive",
};

static const struct cli_command *current;

const struct cli_command *cli_current(void)
{
    return current;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: deprive [-q] [-v] <command> [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'deprive <command> --help' for a command's options.\n"
               "Exit status: 0 success, 1 negative finding, 2 error or usage.\n");
}

/* One line per command: its name and its flags' names ("wipe destructive"). */
static void list_commands(void)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fputs(commands[i].name, stdout);
        for (unsigned b = 0; b < CLI_FLAG_COUNT; b++) {
            if (flag_names[b] == NULL)
                dp_misuse("main: a command flag without a name");
            if (commands[i].flags & (1u << b))
                printf(" %s", flag_names[b]);
        }
        putchar('\n');
    }
}

/* Many directory levels may be open at once during a walk: raise the soft fd limit. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    if (sodium_init() < 0) {
        cli_err("cannot initialise libsodium");
        return DP_EXIT_ERROR;
    }
    raise_nofile();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            cli_quiet = true;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            cli_verbose++;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return DP_EXIT_OK;
        } else if (strcmp(argv[i], "--list-commands") == 0) {
            list_commands();
            return DP_EXIT_OK;
        } else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
            printf("deprive %s (build %s)\n", DP_VERSION, DP_BUILD_ID);
            return DP_EXIT_OK;
        } else {
            cli_err("unknown option '%s'", argv[i]);
            usage(stderr);
            return DP_EXIT_ERROR;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return DP_EXIT_ERROR;
    }
    for (size_t c = 0; c < N_COMMANDS; c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            optind = 0; /* full getopt reset for the command's own parsing */
            /* getopt names the program by argv[0]: "deprive scan: unrecognized option" */
            static char prog[32];
            snprintf(prog, sizeof(prog), "deprive %s", commands[c].name);
            argv[i] = prog;
            current = &commands[c];
            return commands[c].fn(argc - i, argv + i);
        }
    }
    cli_err("unknown command '%s'", argv[i]);
    usage(stderr);
    return DP_EXIT_ERROR;
}
