/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: message helpers shared by the command files. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

int cli_verbose;
bool cli_quiet;

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("deprive: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_dp_err(const struct dp_error *err)
{
    cli_err("%s", err->msg[0] ? err->msg : dp_status_str(err->code));
}

void cli_info(const char *fmt, ...)
{
    if (cli_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("deprive: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "deprive %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'deprive %s --help'.\n", cmd);
    va_end(ap);
    return DP_EXIT_ERROR;
}
