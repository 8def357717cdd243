/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: message helpers shared by the command files. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "deprive/sign.h"

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

bool cli_parse_size(const char *s, uint64_t *out)
{
    static const char units[] = "KMGT";
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
            return false;
    if (p == s)
        return false;
    if (*p != '\0') {
        const char *u = strchr(units, *p & ~0x20); /* upper case */
        if (u == NULL || *u == '\0' || p[1] != '\0')
            return false;
        if (__builtin_mul_overflow(v, (uint64_t)1 << (10 * (u - units + 1)), &v))
            return false;
    }
    if (v == 0)
        return false;
    *out = v;
    return true;
}

bool cli_max_file_size_option(const char *cmd, const char *arg, uint64_t *out)
{
    if (cli_parse_size(arg, out))
        return true;
    cli_usage_error(cmd, "--max-file-size takes a size in bytes, optionally with K, M, G or T "
                         "(1K = 1024), not '%s'", arg);
    return false;
}

char *cli_derived_path(const char *base, const char *suffix)
{
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s%s", base, suffix);
    return p;
}

bool cli_load_seckey(const char *path, const char *passfile, struct dp_sign_seckey **sk)
{
    struct dp_error err = {0};
    bool enc = false, ok = false;
    char *pass = NULL;
    if (dp_sign_seckey_file_encrypted(path, &enc, &err) != DP_OK)
        goto fail;
    if (enc) {
        pass = sodium_malloc(DP_SIGN_PASSPHRASE_MAX + 1);
        if (pass == NULL || !cli_read_passphrase(pass, DP_SIGN_PASSPHRASE_MAX + 1,
                                                 "passphrase for the signing key: ", passfile,
                                                 false)) {
            cli_err("cannot read the passphrase of '%s'", path);
            goto out;
        }
    }
    if (dp_sign_seckey_load(sk, path, pass, &err) != DP_OK)
        goto fail;
    ok = true;
    goto out;
fail:
    cli_dp_err(&err);
out:
    if (pass != NULL)
        sodium_free(pass);
    return ok;
}
