/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: small shared helpers. */
#include "deprive/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

void dp_hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool dp_hex_decode(uint8_t *out, size_t outlen, const char *hex, size_t hexlen)
{
    if (hexlen != 2 * outlen)
        return false;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hexval((unsigned char)hex[2 * i]);
        int lo = hexval((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

void dp_utc_format(char *buf, size_t len, time_t t)
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "1970-01-01T00:00:00Z");
}

void dp_uuid4(char *buf, size_t len)
{
    uint8_t u[16];
    randombytes_buf(u, sizeof(u));
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    snprintf(buf, len,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
}

enum dp_status dp_read_file(const char *path, size_t max, char **out, size_t *len,
                            struct dp_error *err)
{
    enum dp_status st = DP_OK;
    char *buf = NULL;
    size_t used = 0, cap = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open '%s'", path);
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max) {
        /* refused by its size before a byte is read (a pipe is still counted as it comes) */
        st = dp_error_set(err, DP_ERR_LIMIT, 0, "'%s' is larger than %zu bytes", path, max);
        goto out;
    }
    for (;;) {
        if (cap - used < 65536) {
            size_t ncap = cap ? cap * 2 : 65536 + 1;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory reading '%s'", path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + used, cap - used - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            st = dp_error_set(err, DP_ERR_IO, errno, "cannot read '%s'", path);
            goto out;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > max) {
            st = dp_error_set(err, DP_ERR_LIMIT, 0, "'%s' is larger than %zu bytes", path, max);
            goto out;
        }
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return st;
}

enum dp_status dp_sha256_file(const char *path, uint8_t out[32], struct dp_error *err)
{
    enum dp_status st = DP_OK;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *buf = malloc(1 << 16);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (ctx == NULL || buf == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    if (fd < 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot open '%s'", path);
        goto out;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        st = dp_error_set(err, DP_ERR_CRYPTO, 0, "sha-256 unavailable");
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = dp_error_set(err, DP_ERR_IO, errno, "cannot read '%s'", path);
            goto out;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
    }
    EVP_DigestFinal_ex(ctx, out, NULL);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    EVP_MD_CTX_free(ctx);
    return st;
}

void dp_sha256_buf(uint8_t out[32], const void *buf, size_t len)
{
    EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL);
}

int dp_range_cmp(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

void dp_sha256_outside(uint8_t out[32], const uint8_t *buf, size_t len, const uint64_t (*rg)[2],
                       size_t n)
{
    crypto_hash_sha256_state c; /* no allocation: nothing can fail */
    crypto_hash_sha256_init(&c);
    uint64_t off = 0;
    for (size_t k = 0; k <= n && off < len; k++) {
        uint64_t end = k < n && rg[k][0] < len ? rg[k][0] : len;
        if (end > off)
            crypto_hash_sha256_update(&c, buf + off, (unsigned long long)(end - off));
        if (k < n && rg[k][0] + rg[k][1] > off)
            off = rg[k][0] + rg[k][1];
    }
    crypto_hash_sha256_final(&c, out);
}

static enum dp_status fsync_parent(const char *path, struct dp_error *err)
{
    char *copy = strdup(path);
    if (copy == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *dir = ".";
    if (slash == copy)
        dir = "/";
    else if (slash != NULL) {
        *slash = '\0';
        dir = copy;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    enum dp_status st = DP_OK;
    if (dfd < 0 || fsync(dfd) != 0)
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot sync directory '%s'", dir);
    if (dfd >= 0)
        close(dfd);
    free(copy);
    return st;
}

enum dp_status dp_write_file_atomic(const char *path, const void *buf, size_t len,
                                    unsigned mode, struct dp_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (tmp == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    enum dp_status st = DP_OK;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot create '%s'", tmp);
        free(tmp);
        return st;
    }
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = dp_error_set(err, DP_ERR_IO, errno, "cannot write '%s'", tmp);
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot sync '%s'", tmp);
        goto fail;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot rename '%s' to '%s'", tmp, path);
        goto fail;
    }
    free(tmp);
    return fsync_parent(path, err);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return st;
}

char *dp_quote_bytes(const char *p, size_t n)
{
    char *out = malloc(n * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            static const char d[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = d[c >> 4];
            out[o++] = d[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when s[0] does not start one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                                : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t k = 1; k < len; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0; /* overlong, surrogate, beyond U+10FFFF */
    return len;
}

/* Unicode's bidirectional controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069):
 * a file name holding one can display as another name. */
static bool bidi_control(const unsigned char *s, size_t len)
{
    if (len == 2)
        return s[0] == 0xd8 && s[1] == 0x9c;
    if (len != 3 || s[0] != 0xe2)
        return false;
    return (s[1] == 0x80 && (s[2] == 0x8e || s[2] == 0x8f || (s[2] >= 0xaa && s[2] <= 0xae))) ||
           (s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9);
}

bool dp_text_escape_append(char **buf, size_t *used, size_t *cap, const char *s, size_t n)
{
    if (*used + n * 4 + 8 > *cap) {
        size_t nc = (*used + n * 4 + 8) * 2;
        char *nb = realloc(*buf, nc);
        if (nb == NULL)
            return false;
        *buf = nb;
        *cap = nc;
    }
    static const char d[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    char *o = *buf + *used;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq(u + i, n - i);
        unsigned char c = u[i];
        /* C1 controls (U+0080..U+009F) are escaped by their code point's low byte */
        bool c1 = len == 2 && c == 0xc2 && u[i + 1] <= 0x9f;
        if (bidi_control(u + i, len)) { /* would make a name display in another order */
            for (size_t k = 0; k < len; k++) {
                *o++ = '\\';
                *o++ = 'x';
                *o++ = d[u[i + k] >> 4];
                *o++ = d[u[i + k] & 15];
            }
            i += len;
            continue;
        }
        if (len == 1 && c == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (len == 0 || c1 || (len == 1 && (c < 0x20 || c == 0x7f))) {
            /* controls, and any byte that is not valid UTF-8 (an 8-bit CSI among them) */
            unsigned char e = c1 ? u[i + 1] : c;
            *o++ = '\\';
            *o++ = 'x';
            *o++ = d[e >> 4];
            *o++ = d[e & 15];
            i += c1 ? 2 : 1;
            continue;
        } else {
            memcpy(o, u + i, len);
            o += len;
        }
        i += len;
    }
    *o = '\0';
    *used = (size_t)(o - *buf);
    return true;
}
