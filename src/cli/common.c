/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: the one escape for text that reaches the terminal, message helpers, small
 * pieces shared by the command files. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "deprive/json.h"
#include "deprive/sign.h"
#include "deprive/sweep.h"
#include "deprive/util.h"

int cli_verbose;
bool cli_quiet;

/* ---- terminal-safe text: the one escape ---- */

#define TEXT_SLOTS 8

static struct {
    char *buf;
    size_t cap;
} text_ring[TEXT_SLOTS];
static unsigned text_next;

const char *cli_textn(const char *s, size_t n)
{
    if (s == NULL)
        return "?";
    unsigned i = text_next++ % TEXT_SLOTS;
    size_t used = 0;
    if (!dp_text_escape_append(&text_ring[i].buf, &used, &text_ring[i].cap, s, n))
        return "?";
    return text_ring[i].buf;
}

const char *cli_text(const char *s)
{
    return s ? cli_textn(s, strlen(s)) : "?";
}

const char *cli_location(const json_t *location)
{
    char *t = dp_json_location_text(location); /* dp_text_escape_append inside */
    if (t == NULL)
        return "?";
    unsigned i = text_next++ % TEXT_SLOTS;
    free(text_ring[i].buf);
    text_ring[i].buf = t;
    text_ring[i].cap = strlen(t) + 1;
    return t;
}

/* ---- messages: every one escaped as a whole ---- */

static void message(const char *head, const char *fmt, va_list ap, const char *tail)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    fprintf(stderr, "%s%s%s", head, msg ? cli_text(msg) : "out of memory", tail);
    free(msg);
}

void cli_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("deprive: ", fmt, ap, "\n");
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
    message("deprive: ", fmt, ap, "\n");
    va_end(ap);
}

#undef cli_usage_error /* cli.h's stand-in for the analyzer; this is the function */

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char head[64], tail[96];
    snprintf(head, sizeof(head), "deprive %s: ", cmd);
    snprintf(tail, sizeof(tail), "\nTry 'deprive %s --help'.\n", cmd);
    va_list ap;
    va_start(ap, fmt);
    message(head, fmt, ap, tail);
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

/* The sweep's progress line on stderr: bytes, rate, ETA, matches. */
void cli_sweep_progress(void *ctx, const struct dp_sweep_progress *p)
{
    (void)ctx;
    char a[32], b[32], r[32];
    double rate = p->elapsed > 0 ? (double)p->bytes_done / p->elapsed : 0;
    double eta = rate > 0 ? (double)(p->bytes_total - p->bytes_done) / rate : 0;
    fprintf(stderr, "\r\033[K%s of %s  %s/s  ETA %.0f s  %llu match(es)",
            cli_human_bytes(a, sizeof(a), p->bytes_done),
            cli_human_bytes(b, sizeof(b), p->bytes_total),
            cli_human_bytes(r, sizeof(r), (unsigned long long)rate), eta,
            (unsigned long long)p->matches);
    if (p->bytes_done == p->bytes_total)
        fputc('\n', stderr);
}
