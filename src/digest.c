/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: streaming multi-digest. libcrypto, not libsodium: its SHA-256 uses SHA-NI and is
 * several times faster (see bench/). */
#include "deprive/digest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

struct dp_digest {
    EVP_MD_CTX *ctx[DP_ALGO_EXACT_COUNT];
    EVP_MD *md[DP_ALGO_EXACT_COUNT];
    unsigned mask;
};

static const char *const md_names[DP_ALGO_EXACT_COUNT] = {"MD5", "SHA1", "SHA256"};

enum dp_status dp_digest_new(struct dp_digest **out, struct dp_error *err)
{
    struct dp_digest *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    for (int i = 0; i < DP_ALGO_EXACT_COUNT; i++) {
        /* fetch once: an implicit fetch on every init costs a lock and a lookup per file */
        d->md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
        d->ctx[i] = EVP_MD_CTX_new();
        if (d->md[i] == NULL || d->ctx[i] == NULL) {
            dp_digest_free(d);
            return dp_error_set(err, DP_ERR_CRYPTO, 0, "digest %s unavailable in libcrypto",
                                md_names[i]);
        }
    }
    *out = d;
    return DP_OK;
}

void dp_digest_free(struct dp_digest *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < DP_ALGO_EXACT_COUNT; i++) {
        EVP_MD_CTX_free(d->ctx[i]);
        EVP_MD_free(d->md[i]);
    }
    free(d);
}

enum dp_status dp_digest_begin(struct dp_digest *d, unsigned mask, struct dp_error *err)
{
    d->mask = mask & DP_DIGEST_ALL;
    for (int i = 0; i < DP_ALGO_EXACT_COUNT; i++) {
        if ((d->mask & (1u << i)) && EVP_DigestInit_ex(d->ctx[i], d->md[i], NULL) != 1)
            return dp_error_set(err, DP_ERR_CRYPTO, 0, "cannot start %s", md_names[i]);
    }
    return DP_OK;
}

void dp_digest_update(struct dp_digest *d, const void *buf, size_t len)
{
    for (int i = 0; i < DP_ALGO_EXACT_COUNT; i++)
        if (d->mask & (1u << i))
            EVP_DigestUpdate(d->ctx[i], buf, len);
}

void dp_digest_end(struct dp_digest *d, uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX])
{
    for (int i = 0; i < DP_ALGO_EXACT_COUNT; i++) {
        memset(out[i], 0, DP_DIGEST_MAX);
        if (d->mask & (1u << i))
            EVP_DigestFinal_ex(d->ctx[i], out[i], NULL);
    }
}

/* Chunks fed to the digests stay small enough to sit in L2 between the MD5 and the SHA-256
 * pass over them; reads can be larger. */
#define DIGEST_CHUNK (64 * 1024)

enum dp_status dp_digest_fd(struct dp_digest *d, unsigned mask, int fd, void *buf,
                            size_t bufsize, void *head, size_t head_cap, size_t *head_len,
                            uint64_t *bytes, uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX],
                            struct dp_error *err)
{
    enum dp_status st = dp_digest_begin(d, mask, err);
    if (st != DP_OK)
        return st;
    uint64_t total = 0;
    size_t hl = 0;
    for (;;) {
        ssize_t n = read(fd, buf, bufsize);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return dp_error_set(err, DP_ERR_IO, errno, "read failed");
        }
        if (n == 0)
            break;
        if (head != NULL && hl < head_cap) {
            size_t c = (size_t)n < head_cap - hl ? (size_t)n : head_cap - hl;
            memcpy((char *)head + hl, buf, c);
            hl += c;
        }
        for (size_t off = 0; off < (size_t)n; off += DIGEST_CHUNK) {
            size_t c = (size_t)n - off < DIGEST_CHUNK ? (size_t)n - off : DIGEST_CHUNK;
            dp_digest_update(d, (char *)buf + off, c);
        }
        total += (uint64_t)n;
    }
    dp_digest_end(d, out);
    if (head_len != NULL)
        *head_len = hl;
    if (bytes != NULL)
        *bytes = total;
    return DP_OK;
}
