/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the hash algorithms' names and lengths. */
#include "deprive/types.h"

#include <string.h>
#include <strings.h>

size_t dp_algo_len(enum dp_algo algo)
{
    switch (algo) {
    case DP_ALGO_MD5:
        return 16;
    case DP_ALGO_SHA1:
        return 20;
    case DP_ALGO_SHA256:
    case DP_ALGO_PDQ: /* 256 bits too */
        return 32;
    case DP_ALGO_COUNT:
        break;
    }
    dp_misuse("dp_algo_len: bad algorithm");
}

const char *dp_algo_name(enum dp_algo algo)
{
    switch (algo) {
    case DP_ALGO_MD5:
        return "md5";
    case DP_ALGO_SHA1:
        return "sha1";
    case DP_ALGO_SHA256:
        return "sha256";
    case DP_ALGO_PDQ:
        return "pdq";
    case DP_ALGO_COUNT:
        break;
    }
    dp_misuse("dp_algo_name: bad algorithm");
}

static bool name_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

bool dp_algo_parse(const char *name, size_t len, enum dp_algo *out)
{
    static const struct {
        const char *name;
        enum dp_algo algo;
    } names[] = {
        {"md5", DP_ALGO_MD5},       {"sha1", DP_ALGO_SHA1},      {"sha-1", DP_ALGO_SHA1},
        {"sha256", DP_ALGO_SHA256}, {"sha-256", DP_ALGO_SHA256}, {"pdq", DP_ALGO_PDQ},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (name_is(name, len, names[i].name)) {
            *out = names[i].algo;
            return true;
        }
    }
    return false;
}
