/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: streaming multi-digest. libcrypto, not libsodium: its SHA-256 uses SHA-NI and is
 * several times faster (see bench/). */
#include "deprive/digest.h"

#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <stdbool.h>
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

/* A big file would keep one core busy with MD5 (the slowest digest) and SHA-256 in turn; from
 * SPLIT_MIN on, MD5 runs on a second thread over the same buffers, so the file is still read
 * once but its digests use two cores. */
#define SPLIT_MIN ((off_t)32 << 20)
#define SPLIT_BUFS 4
#define SPLIT_BUF (256 * 1024)

struct split {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned char *bufs[SPLIT_BUFS];
    size_t lens[SPLIT_BUFS];
    uint64_t produced, consumed;
    bool eof;
    EVP_MD_CTX *ctx; /* the digest the second thread computes */
};

static void *split_main(void *arg)
{
    struct split *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->consumed == s->produced && !s->eof)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->consumed == s->produced)
            break;
        size_t i = s->consumed % SPLIT_BUFS;
        pthread_mutex_unlock(&s->lock);
        EVP_DigestUpdate(s->ctx, s->bufs[i], s->lens[i]);
        pthread_mutex_lock(&s->lock);
        s->consumed++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

struct observer {
    dp_digest_observer fn;
    void *ctx;
};

static void feed(struct dp_digest *d, const unsigned char *buf, size_t n, void *head,
                 size_t head_cap, size_t *hl, const struct observer *ob)
{
    if (ob->fn != NULL)
        ob->fn(ob->ctx, buf, n);
    if (head != NULL && *hl < head_cap) {
        size_t c = n < head_cap - *hl ? n : head_cap - *hl;
        memcpy((char *)head + *hl, buf, c);
        *hl += c;
    }
    for (size_t off = 0; off < n; off += DIGEST_CHUNK)
        dp_digest_update(d, buf + off, n - off < DIGEST_CHUNK ? n - off : DIGEST_CHUNK);
}

/* The read loop of dp_digest_fd with MD5 handed to a second thread; d is begun already. */
static enum dp_status digest_split(struct dp_digest *d, int fd, void *head, size_t head_cap,
                                   size_t *hl, uint64_t *total, const struct observer *ob,
                                   struct dp_error *err)
{
    struct split s = {.ctx = d->ctx[DP_ALGO_MD5]};
    enum dp_status st = DP_OK;
    unsigned mask = d->mask;
    pthread_t tid;
    for (int i = 0; i < SPLIT_BUFS; i++)
        if ((s.bufs[i] = malloc(SPLIT_BUF)) == NULL)
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    bool started = st == DP_OK && pthread_create(&tid, NULL, split_main, &s) == 0;
    if (st == DP_OK && !started)
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot start a digest thread");
    d->mask = mask & ~DP_DIGEST_MASK(DP_ALGO_MD5); /* this thread does the others */
    while (st == DP_OK) {
        pthread_mutex_lock(&s.lock);
        while (s.produced - s.consumed == SPLIT_BUFS)
            pthread_cond_wait(&s.cond, &s.lock);
        pthread_mutex_unlock(&s.lock);
        size_t i = s.produced % SPLIT_BUFS;
        ssize_t n = read(fd, s.bufs[i], SPLIT_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            st = dp_error_set(err, DP_ERR_IO, errno, "read failed");
        if (n <= 0)
            break;
        s.lens[i] = (size_t)n;
        pthread_mutex_lock(&s.lock);
        s.produced++;
        pthread_cond_broadcast(&s.cond);
        pthread_mutex_unlock(&s.lock);
        feed(d, s.bufs[i], (size_t)n, head, head_cap, hl, ob); /* read-only, like the other thread */
        *total += (uint64_t)n;
    }
    pthread_mutex_lock(&s.lock);
    s.eof = true;
    pthread_cond_broadcast(&s.cond);
    pthread_mutex_unlock(&s.lock);
    if (started)
        pthread_join(tid, NULL);
    d->mask = mask;
    pthread_mutex_destroy(&s.lock);
    pthread_cond_destroy(&s.cond);
    for (int i = 0; i < SPLIT_BUFS; i++)
        free(s.bufs[i]);
    return st;
}

static bool worth_splitting(unsigned mask, int fd)
{
    struct stat sb;
    return (mask & DP_DIGEST_MASK(DP_ALGO_MD5)) && (mask & ~DP_DIGEST_MASK(DP_ALGO_MD5)) &&
           fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size >= SPLIT_MIN;
}

enum dp_status dp_digest_fd(struct dp_digest *d, unsigned mask, int fd, void *buf,
                            size_t bufsize, void *head, size_t head_cap, size_t *head_len,
                            uint64_t *bytes, uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX],
                            struct dp_error *err)
{
    return dp_digest_fd_observed(d, mask, fd, buf, bufsize, head, head_cap, head_len, bytes,
                                 out, NULL, NULL, err);
}

enum dp_status dp_digest_fd_observed(struct dp_digest *d, unsigned mask, int fd, void *buf,
                                     size_t bufsize, void *head, size_t head_cap,
                                     size_t *head_len, uint64_t *bytes,
                                     uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX],
                                     dp_digest_observer observe, void *observe_ctx,
                                     struct dp_error *err)
{
    const struct observer ob = {observe, observe_ctx};
    enum dp_status st = dp_digest_begin(d, mask, err);
    if (st != DP_OK)
        return st;
    if (worth_splitting(d->mask, fd)) {
        uint64_t total = 0;
        size_t hl = 0;
        st = digest_split(d, fd, head, head_cap, &hl, &total, &ob, err);
        if (st != DP_OK)
            return st;
        dp_digest_end(d, out);
        if (head_len != NULL)
            *head_len = hl;
        if (bytes != NULL)
            *bytes = total;
        return DP_OK;
    }
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
        feed(d, buf, (size_t)n, head, head_cap, &hl, &ob);
        total += (uint64_t)n;
    }
    dp_digest_end(d, out);
    if (head_len != NULL)
        *head_len = hl;
    if (bytes != NULL)
        *bytes = total;
    return DP_OK;
}
