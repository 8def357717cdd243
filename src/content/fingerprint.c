/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: one file's victim-side record - digests and, for images, PDQ - from one read. */
#include "deprive/fingerprint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deprive/digest.h"
#include "deprive/util.h"

#define HEAD 32

/* The whole file into memory (it is an image of bounded size). */
static enum dp_status slurp(int fd, uint64_t size, uint8_t **out, struct dp_error *err)
{
    uint8_t *b = malloc(size ? (size_t)size : 1);
    if (b == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory for a %llu-byte image",
                            (unsigned long long)size);
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, b + got, (size_t)size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(b);
            return dp_error_set(err, DP_ERR_IO, n < 0 ? errno : 0,
                                n < 0 ? "read failed" : "file shrank while being read");
        }
        got += (size_t)n;
    }
    *out = b;
    return DP_OK;
}

static void pdq_of(const uint8_t *b, size_t n, const struct dp_image_opts *opts,
                   struct dp_fingerprint *fp)
{
    struct dp_image img;
    struct dp_error e = {0};
    struct dp_pdq_result r;
    struct dp_image_opts full = opts ? *opts : (struct dp_image_opts){0};
    full.min_side = 0; /* the full decode: what other PDQ users compute */
    if (dp_image_decode(b, n, &full, &img, &e) != DP_OK) {
        snprintf(fp->pdq_error, sizeof(fp->pdq_error), "%.150s", e.msg);
        return;
    }
    if (dp_pdq_hash_pixels(img.pix, img.w, img.h, img.stride, img.channels, false, &r, &e) ==
        DP_OK) {
        fp->has_pdq = true;
        fp->pdq = r.hash[DP_PDQ_ORIGINAL];
        fp->quality = r.quality;
    } else {
        snprintf(fp->pdq_error, sizeof(fp->pdq_error), "%.150s", e.msg);
    }
    dp_image_release(&img);
}

enum dp_status dp_fingerprint_fd(int fd, uint64_t max_image_bytes,
                                 const struct dp_image_opts *opts, struct dp_fingerprint *out,
                                 struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot stat");
    uint8_t head[HEAD];
    ssize_t hn = pread(fd, head, sizeof(head), 0);
    if (hn < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "read failed");
    uint64_t max = max_image_bytes ? max_image_bytes : DP_MAX_IMAGE_BYTES_DEFAULT;
    out->format = dp_image_sniff(head, (size_t)hn);
    struct dp_digest *d = NULL;
    enum dp_status st = dp_digest_new(&d, err);
    if (st != DP_OK)
        return st;
    if (out->format != DP_IMAGE_NONE && (uint64_t)sb.st_size <= max) {
        /* one read: the image in memory, digested and decoded from there */
        uint8_t *b = NULL;
        if ((st = slurp(fd, (uint64_t)sb.st_size, &b, err)) == DP_OK &&
            (st = dp_digest_begin(d, DP_DIGEST_ALL, err)) == DP_OK) {
            dp_digest_update(d, b, (size_t)sb.st_size);
            dp_digest_end(d, out->digests);
            out->size = (uint64_t)sb.st_size;
            pdq_of(b, (size_t)sb.st_size, opts, out);
        }
        free(b);
    } else {
        if (out->format != DP_IMAGE_NONE)
            snprintf(out->pdq_error, sizeof(out->pdq_error),
                     "image larger than %llu bytes (--max-image-bytes): not decoded",
                     (unsigned long long)max);
        size_t bs = 1 << 20;
        void *buf = malloc(bs);
        if (buf == NULL)
            st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        else if (lseek(fd, 0, SEEK_SET) != 0)
            st = dp_error_set(err, DP_ERR_IO, errno, "seek failed");
        else
            st = dp_digest_fd(d, DP_DIGEST_ALL, fd, buf, bs, NULL, 0, NULL, &out->size,
                              out->digests, err);
        free(buf);
    }
    dp_digest_free(d);
    return st;
}

char *dp_fingerprint_line(const struct dp_fingerprint *fp, bool with_size, const char *label)
{
    size_t cap = 400 + (label ? 3 * strlen(label) : 0);
    char *o = malloc(cap);
    if (o == NULL)
        return NULL;
    char h[3][65];
    dp_hex_encode(h[0], fp->digests[DP_ALGO_MD5], 16);
    dp_hex_encode(h[1], fp->digests[DP_ALGO_SHA1], 20);
    dp_hex_encode(h[2], fp->digests[DP_ALGO_SHA256], 32);
    int n = snprintf(o, cap, "md5:%s sha1:%s sha256:%s", h[0], h[1], h[2]);
    if (with_size)
        n += snprintf(o + n, cap - (size_t)n, " size:%llu", (unsigned long long)fp->size);
    if (fp->has_pdq) {
        char hex[DP_PDQ_HEX + 1];
        dp_pdq_hex(&fp->pdq, hex);
        n += snprintf(o + n, cap - (size_t)n, " pdq:%s:%d", hex, fp->quality);
    }
    if (label != NULL) {
        n += snprintf(o + n, cap - (size_t)n, " label=");
        for (const char *p = label; *p; p++)
            n += snprintf(o + n, cap - (size_t)n, *p == '%' ? "%%25" : "%c", *p);
    }
    return o;
}
