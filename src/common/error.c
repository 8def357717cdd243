/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: error records. */
#include "deprive/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#undef dp_error_set /* error.h's stand-in for the analyzer; this is the function */

enum dp_status dp_error_set(struct dp_error *err, enum dp_status code, int errnum,
                            const char *fmt, ...)
{
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        err->msg[0] = '\0';
    if (errnum != 0) {
        size_t len = strlen(err->msg);
        char ebuf[128];
        /* GNU strerror_r returns the message pointer, possibly not ebuf */
        const char *es = strerror_r(errnum, ebuf, sizeof(ebuf));
        snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", es);
    }
    err->code = code;
    err->sys_errno = errnum;
    return code;
}

void dp_error_prefix(struct dp_error *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    char old[sizeof(err->msg)];
    memcpy(old, err->msg, sizeof(old));
    size_t plen = strlen(prefix);
    if (plen >= sizeof(err->msg))
        plen = sizeof(err->msg) - 1;
    memcpy(err->msg, prefix, plen);
    size_t olen = strnlen(old, sizeof(old) - 1);
    if (olen > sizeof(err->msg) - 1 - plen)
        olen = sizeof(err->msg) - 1 - plen;
    memcpy(err->msg + plen, old, olen);
    err->msg[plen + olen] = '\0';
}

void dp_error_clear(struct dp_error *err)
{
    if (err == NULL)
        return;
    err->code = DP_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

const char *dp_status_str(enum dp_status status)
{
    switch (status) {
    case DP_OK: return "ok";
    case DP_ERR_NOMEM: return "out of memory";
    case DP_ERR_IO: return "i/o error";
    case DP_ERR_PARSE: return "parse error";
    case DP_ERR_INVALID: return "invalid input";
    case DP_ERR_CRYPTO: return "cryptographic error";
    case DP_ERR_VERIFY: return "verification failed";
    case DP_ERR_CHANGED: return "changed since scan";
    case DP_ERR_UNSUPPORTED: return "unsupported";
    case DP_ERR_LIMIT: return "limit exceeded";
    case DP_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

_Noreturn void dp_misuse(const char *what)
{
    fprintf(stderr, "deprive: internal error (API misuse): %s\n", what);
    abort();
}
