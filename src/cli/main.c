/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: global options and the command table. */
#include "cli.h"

#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <sodium.h>

#include "dp_config.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"keygen", cmd_keygen, "make a minisign-compatible signing key pair"},
    {"hash", cmd_hash, "make a hash list from files (victim side; images never leave)"},
    {"scan", cmd_scan, "find files matching hash lists under a mounted filesystem"},
    {"wipe", cmd_wipe, "securely erase the matches listed in a scan plan"},
    {"run", cmd_run, "scan, wipe, re-scan and certify in one go"},
    {"verify", cmd_verify, "check a signed erasure certificate"},
    {"show", cmd_show, "print a certificate for a person, or render it as PDF"},
    {"audit", cmd_audit, "re-scan a device for everything a certificate says was erased"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: deprive [-q] [-v] <command> [options] [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'deprive <command> --help' for a command's options.\n"
               "Exit status: 0 success, 1 negative finding, 2 error or usage.\n");
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
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
        if (strcmp(argv[i], commands[c].name) == 0) {
            optind = 0; /* full getopt reset for the command's own parsing */
            /* getopt names the program by argv[0]: "deprive scan: unrecognized option" */
            static char prog[32];
            snprintf(prog, sizeof(prog), "deprive %s", commands[c].name);
            argv[i] = prog;
            return commands[c].fn(argc - i, argv + i);
        }
    }
    cli_err("unknown command '%s'", argv[i]);
    usage(stderr);
    return DP_EXIT_ERROR;
}
