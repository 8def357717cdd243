/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: digest known-answer vectors (FIPS 180 / RFC 1321) and one-pass streaming. */
#include "testutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/digest.h"
#include "deprive/util.h"

#include <openssl/evp.h>

struct kat {
    const char *msg;
    size_t repeat;
    const char *md5, *sha1, *sha256;
};

static const struct kat kats[] = {
    {"", 1, "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "900150983cd24fb0d6963f7d28e17f72", "a9993e364706816aba3e25717850c26c9cd0d89d",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "8215ef0796a20bcaaae116d3876c664a", "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"a", 1000000, "7707d6ae4e027c70eea2a935c2296f21", "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
};

static void hex_of(char *out, const uint8_t *d, size_t n)
{
    dp_hex_encode(out, d, n);
}

static void test_kat_buffer(void **state)
{
    (void)state;
    struct dp_digest *d;
    assert_int_equal(dp_digest_new(&d, NULL), DP_OK);
    for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++) {
        uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
        assert_int_equal(dp_digest_begin(d, DP_DIGEST_ALL, NULL), DP_OK);
        for (size_t r = 0; r < kats[i].repeat; r++)
            dp_digest_update(d, kats[i].msg, strlen(kats[i].msg));
        dp_digest_end(d, out);
        char h[65];
        hex_of(h, out[DP_ALGO_MD5], 16);
        assert_string_equal(h, kats[i].md5);
        hex_of(h, out[DP_ALGO_SHA1], 20);
        assert_string_equal(h, kats[i].sha1);
        hex_of(h, out[DP_ALGO_SHA256], 32);
        assert_string_equal(h, kats[i].sha256);
    }
    dp_digest_free(d);
}

static void test_mask_only_requested(void **state)
{
    (void)state;
    struct dp_digest *d;
    assert_int_equal(dp_digest_new(&d, NULL), DP_OK);
    uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    assert_int_equal(dp_digest_begin(d, DP_DIGEST_MASK(DP_ALGO_SHA256), NULL), DP_OK);
    dp_digest_update(d, "abc", 3);
    dp_digest_end(d, out);
    uint8_t zero[DP_DIGEST_MAX] = {0};
    assert_memory_equal(out[DP_ALGO_MD5], zero, DP_DIGEST_MAX);
    assert_memory_equal(out[DP_ALGO_SHA1], zero, DP_DIGEST_MAX);
    char h[65];
    hex_of(h, out[DP_ALGO_SHA256], 32);
    assert_string_equal(h, kats[1].sha256);
    dp_digest_free(d);
}

/* A file larger than the read buffer and not a multiple of the internal chunk size: the
 * streamed digests must equal the one-shot ones, and the head copy the first bytes. */
static void test_fd_streaming(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    size_t n = 3 * 1024 * 1024 + 12345;
    tu_write_random(dir, "big.bin", n, 7);
    char *p = tu_path(dir, "big.bin");
    size_t len;
    char *all = tu_read(p, &len);
    assert_int_equal(len, n);
    uint8_t want[32];
    dp_sha256_buf(want, all, len);
    struct dp_digest *d;
    assert_int_equal(dp_digest_new(&d, NULL), DP_OK);
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    size_t bufsize = 1 << 20;
    void *buf = malloc(bufsize);
    char head[1000];
    size_t hl = 0;
    uint64_t bytes = 0;
    uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    assert_int_equal(dp_digest_fd(d, DP_DIGEST_ALL, fd, buf, bufsize, head, sizeof(head), &hl,
                                  &bytes, out, NULL),
                     DP_OK);
    assert_int_equal(bytes, n);
    assert_int_equal(hl, sizeof(head));
    assert_memory_equal(head, all, sizeof(head));
    assert_memory_equal(out[DP_ALGO_SHA256], want, 32);
    close(fd);
    free(buf);
    free(all);
    free(p);
    dp_digest_free(d);
    tu_rm_rf(dir);
    free(dir);
}

/* From 32 MiB on, MD5 runs on a second thread over shared buffers: the digests must equal
 * one-shot ones, for every mask that includes MD5. */
static void test_fd_split_large(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    size_t n = 40 * 1024 * 1024 + 777;
    tu_write_random(dir, "large.bin", n, 11);
    char *p = tu_path(dir, "large.bin");
    size_t len;
    char *all = tu_read(p, &len);
    assert_int_equal(len, n);
    uint8_t md5[16], sha1[20], sha256[32];
    EVP_Digest(all, len, md5, NULL, EVP_md5(), NULL);
    EVP_Digest(all, len, sha1, NULL, EVP_sha1(), NULL);
    EVP_Digest(all, len, sha256, NULL, EVP_sha256(), NULL);
    struct dp_digest *d;
    assert_int_equal(dp_digest_new(&d, NULL), DP_OK);
    const unsigned masks[] = {DP_DIGEST_ALL,
                              DP_DIGEST_MASK(DP_ALGO_MD5) | DP_DIGEST_MASK(DP_ALGO_SHA256),
                              DP_DIGEST_MASK(DP_ALGO_MD5)};
    void *buf = malloc(1 << 18);
    for (size_t m = 0; m < 3; m++) {
        int fd = open(p, O_RDONLY);
        char head[4096];
        size_t hl = 0;
        uint64_t bytes = 0;
        uint8_t out[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
        assert_int_equal(dp_digest_fd(d, masks[m], fd, buf, 1 << 18, head, sizeof(head), &hl,
                                      &bytes, out, NULL),
                         DP_OK);
        close(fd);
        assert_int_equal(bytes, n);
        assert_int_equal(hl, sizeof(head));
        assert_memory_equal(head, all, sizeof(head));
        assert_memory_equal(out[DP_ALGO_MD5], md5, 16);
        if (masks[m] & DP_DIGEST_MASK(DP_ALGO_SHA1))
            assert_memory_equal(out[DP_ALGO_SHA1], sha1, 20);
        if (masks[m] & DP_DIGEST_MASK(DP_ALGO_SHA256))
            assert_memory_equal(out[DP_ALGO_SHA256], sha256, 32);
    }
    free(buf);
    dp_digest_free(d);
    free(all);
    free(p);
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kat_buffer),
        cmocka_unit_test(test_mask_only_requested),
        cmocka_unit_test(test_fd_streaming),
        cmocka_unit_test(test_fd_split_large),
    };
    return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
