/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: util - hex, UTC time text, UUIDv4, bounded file reads, SHA-256 of files and
 * buffers, atomic file replace, byte quoting and terminal-safe text escaping; failure paths
 * (EIO, ENOSPC, short reads and writes, EINTR) by interposing read, write and fsync. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>
#include <sodium.h>

#include "deprive/util.h"
#include "testutil.h"

/* ---- interposed read, write, fsync: the library links statically, so these replace libc's
 * for it. They only misbehave while a test has armed them, around one library call. ---- */

enum fault { F_NONE, F_SHORT, F_EINTR_THEN_SHORT, F_FAIL };
static enum fault read_fault, write_fault;
static int read_errno, write_errno, fsync_errno;
static unsigned n_eintr;

ssize_t read(int fd, void *buf, size_t n)
{
    switch (read_fault) {
    case F_NONE:
        break;
    case F_FAIL:
        errno = read_errno;
        return -1;
    case F_EINTR_THEN_SHORT:
        if (n_eintr++ % 3 == 0) {
            errno = EINTR;
            return -1;
        }
        /* fall through */
    case F_SHORT:
        n = n > 7 ? 7 : n;
        break;
    }
    return (ssize_t)syscall(SYS_read, fd, buf, n);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    switch (write_fault) {
    case F_NONE:
        break;
    case F_FAIL:
        errno = write_errno;
        return -1;
    case F_EINTR_THEN_SHORT:
        if (n_eintr++ % 3 == 0) {
            errno = EINTR;
            return -1;
        }
        /* fall through */
    case F_SHORT:
        n = n > 5 ? 5 : n;
        break;
    }
    return (ssize_t)syscall(SYS_write, fd, buf, n);
}

int fsync(int fd)
{
    if (fsync_errno != 0) {
        errno = fsync_errno;
        return -1;
    }
    return (int)syscall(SYS_fsync, fd);
}

static void disarm(void)
{
    read_fault = write_fault = F_NONE;
    read_errno = write_errno = fsync_errno = 0;
    n_eintr = 0;
}

static int setup(void **state)
{
    (void)state;
    disarm();
    return 0;
}

/* Entries of dir other than . and .., as one sorted "a b c" string (heap). */
static char *dir_listing(const char *dir)
{
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    assert_true(n >= 0);
    size_t cap = 16;
    for (int i = 0; i < n; i++)
        cap += strlen(ents[i]->d_name) + 1;
    char *out = calloc(1, cap);
    assert_non_null(out);
    for (int i = 0; i < n; i++) {
        if (strcmp(ents[i]->d_name, ".") != 0 && strcmp(ents[i]->d_name, "..") != 0) {
            if (out[0] != '\0')
                strcat(out, " ");
            strcat(out, ents[i]->d_name);
        }
        free(ents[i]);
    }
    free(ents);
    return out;
}

/* ---- hex ---- */

static void test_hex_encode(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t n;
        const char *hex;
    } v[] = {
        {"", 0, ""},
        {"\x00", 1, "00"},
        {"\xff", 1, "ff"},
        {"\x00\x0f\xf0\xff\x12\xab", 6, "000ff0ff12ab"},
        {"\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char out[40];
        memset(out, '#', sizeof(out));
        dp_hex_encode(out, (const uint8_t *)v[i].bytes, v[i].n);
        assert_string_equal(out, v[i].hex);
        /* exactly 2n+1 bytes written: nothing past the NUL */
        assert_int_equal(out[2 * v[i].n + 1], '#');
    }
    /* every byte value, lower case, two digits each */
    uint8_t all[256];
    char hex[513];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    dp_hex_encode(hex, all, sizeof(all));
    assert_int_equal(strlen(hex), 512);
    for (int i = 0; i < 256; i++) {
        char want[3];
        snprintf(want, sizeof(want), "%02x", i);
        assert_memory_equal(hex + 2 * i, want, 2);
    }
}

static void test_hex_decode(void **state)
{
    (void)state;
    uint8_t all[256], back[256];
    char hex[513];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)(255 - i);
    dp_hex_encode(hex, all, sizeof(all));
    assert_true(dp_hex_decode(back, sizeof(back), hex, 512));
    assert_memory_equal(back, all, sizeof(all));
    /* upper and mixed case */
    uint8_t b[4];
    assert_true(dp_hex_decode(b, 4, "DEADbeef", 8));
    assert_memory_equal(b, "\xde\xad\xbe\xef", 4);
    assert_true(dp_hex_decode(b, 4, "0aF09Bc1", 8));
    assert_memory_equal(b, "\x0a\xf0\x9b\xc1", 4);
    /* nothing to decode */
    assert_true(dp_hex_decode(b, 0, "", 0));
    /* only hexlen bytes are read: no NUL needed, what follows is ignored */
    assert_true(dp_hex_decode(b, 2, "abcdZZ", 4));
    assert_memory_equal(b, "\xab\xcd", 2);
    /* the length must be exactly 2 * outlen */
    static const struct {
        const char *hex;
        size_t outlen;
    } bad_len[] = {{"abc", 2}, {"abcde", 2}, {"abcdef", 2}, {"ab", 2}, {"", 1}, {"ab", 0}};
    for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++)
        if (dp_hex_decode(b, bad_len[i].outlen, bad_len[i].hex, strlen(bad_len[i].hex)))
            fail_msg("'%s' decoded into %zu bytes", bad_len[i].hex, bad_len[i].outlen);
    /* every character that is not a hex digit, in either position of a pair */
    for (int c = 0; c < 256; c++) {
        bool is_hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        char s[4] = {'a', (char)c, (char)c, 'a'};
        bool ok = dp_hex_decode(b, 2, s, 4);
        if (ok != is_hex)
            fail_msg("byte 0x%02x: decode %s", c, ok ? "accepted" : "refused");
    }
    static const char *const bad[] = {"0x12", "12 3", "-123", "+123", "1g23"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (dp_hex_decode(b, 2, bad[i], 4))
            fail_msg("'%s' decoded", bad[i]);
    /* a NUL inside the given length is not a digit */
    assert_false(dp_hex_decode(b, 2, "ab\0d", 4));
}

/* ---- time ---- */

static void test_utc_format(void **state)
{
    (void)state;
    static const struct {
        time_t t;
        const char *want;
    } v[] = {
        {0, "1970-01-01T00:00:00Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {951782400, "2000-02-29T00:00:00Z"}, /* leap day */
        {2147483647, "2038-01-19T03:14:07Z"},
        {(time_t)2147483648LL, "2038-01-19T03:14:08Z"}, /* past 32-bit time_t */
        {1795355896, "2026-11-22T13:58:16Z"},           /* docs/report.md's example */
        {(time_t)253402300799LL, "9999-12-31T23:59:59Z"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char buf[32];
        memset(buf, '#', sizeof(buf));
        dp_utc_format(buf, sizeof(buf), v[i].t);
        assert_string_equal(buf, v[i].want);
        /* the documented minimum buffer is enough */
        char small[21];
        dp_utc_format(small, sizeof(small), v[i].t);
        assert_string_equal(small, v[i].want);
    }
    /* UTC whatever the local zone says */
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "Pacific/Kiritimati", 1); /* UTC+14 */
    tzset();
    char buf[32];
    dp_utc_format(buf, sizeof(buf), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    if (old != NULL)
        setenv("TZ", old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(old);
}

/* ---- UUID ---- */

static void test_uuid4(void **state)
{
    (void)state;
    char seen[64][37];
    for (int n = 0; n < 64; n++) {
        char *u = seen[n];
        memset(u, '#', 37);
        dp_uuid4(u, 37);
        assert_int_equal(strlen(u), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                assert_int_equal(u[i], '-');
                continue;
            }
            if (!((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f')))
                fail_msg("'%s': character %d is not lower-case hex", u, i);
        }
        assert_int_equal(u[14], '4'); /* version 4 */
        assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
        for (int m = 0; m < n; m++)
            assert_string_not_equal(seen[m], u);
    }
    /* a short buffer is cut, never overrun */
    char small[12];
    memset(small, '#', sizeof(small));
    dp_uuid4(small, 9);
    assert_int_equal(strlen(small), 8);
    assert_int_equal(small[9], '#');
}

/* ---- whole-file reads ---- */

static void test_read_file(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct dp_error e = {0};
    char *buf = NULL;
    size_t len = 99;
    /* binary content with NUL bytes comes back exactly, NUL-terminated */
    tu_write(dir, "bin", "a\0b\xff\n", 5);
    char *p = tu_path(dir, "bin");
    assert_int_equal(dp_read_file(p, 5, &buf, &len, &e), DP_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "a\0b\xff\n", 5);
    assert_int_equal(buf[5], '\0');
    free(buf);
    /* one byte over the limit: DP_ERR_LIMIT, nothing handed back */
    char sentinel[] = "untouched";
    buf = sentinel;
    assert_int_equal(dp_read_file(p, 4, &buf, &len, &e), DP_ERR_LIMIT);
    assert_int_equal(e.code, DP_ERR_LIMIT);
    assert_ptr_equal(buf, sentinel);
    assert_non_null(strstr(e.msg, "larger than 4 bytes"));
    assert_non_null(strstr(e.msg, p));
    free(p);
    /* an empty file: a valid empty string, even with max 0 */
    tu_write(dir, "empty", "", 0);
    p = tu_path(dir, "empty");
    assert_int_equal(dp_read_file(p, 0, &buf, &len, &e), DP_OK);
    assert_int_equal(len, 0);
    assert_non_null(buf);
    assert_string_equal(buf, "");
    free(buf);
    free(p);
    /* larger than the first buffer (64 KiB) and than several doublings */
    size_t big = 3 * 65536 + 12345;
    tu_write_random(dir, "big", big, 7);
    unsigned char *want = tu_random_bytes(big, 7);
    p = tu_path(dir, "big");
    assert_int_equal(dp_read_file(p, big, &buf, &len, NULL), DP_OK);
    assert_int_equal(len, big);
    assert_memory_equal(buf, want, big);
    free(buf);
    assert_int_equal(dp_read_file(p, big - 1, &buf, &len, NULL), DP_ERR_LIMIT);
    free(p);
    free(want);
    /* missing file: DP_ERR_IO with errno, and the path in the message */
    p = tu_path(dir, "missing");
    dp_error_clear(&e);
    assert_int_equal(dp_read_file(p, 100, &buf, &len, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ENOENT);
    assert_non_null(strstr(e.msg, p));
    /* a symbolic link as the last component is not followed */
    char *link = tu_path(dir, "link");
    char *target = tu_path(dir, "bin");
    assert_int_equal(symlink(target, link), 0);
    dp_error_clear(&e);
    assert_int_equal(dp_read_file(link, 100, &buf, &len, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ELOOP);
    /* a directory cannot be read */
    dp_error_clear(&e);
    assert_int_equal(dp_read_file(dir, 100, &buf, &len, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, EISDIR);
    tu_rm_rf(dir);
    free(p), free(link), free(target), free(dir);
}

/* Short reads and EINTR are retried; a read error is DP_ERR_IO with its errno. */
static void test_read_file_faults(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    size_t n = 70001;
    tu_write_random(dir, "f", n, 3);
    unsigned char *want = tu_random_bytes(n, 3);
    char *p = tu_path(dir, "f");
    char *buf = NULL;
    size_t len = 0;
    struct dp_error e = {0};
    read_fault = F_EINTR_THEN_SHORT;
    enum dp_status st = dp_read_file(p, n, &buf, &len, &e);
    unsigned calls = n_eintr;
    disarm();
    assert_true(calls > n / 7); /* the interposed read did the reading */
    assert_int_equal(st, DP_OK);
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
    free(buf);
    buf = NULL;
    read_fault = F_FAIL;
    read_errno = EIO;
    st = dp_read_file(p, n, &buf, &len, &e);
    disarm();
    assert_int_equal(st, DP_ERR_IO);
    assert_int_equal(e.sys_errno, EIO);
    assert_null(buf);
    assert_non_null(strstr(e.msg, "cannot read"));
    tu_rm_rf(dir);
    free(p), free(want), free(dir);
}

/* ---- SHA-256 ---- */

static const struct {
    const char *msg;
    const char *hex;
} sha_vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void test_sha256(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    for (size_t i = 0; i < sizeof(sha_vectors) / sizeof(sha_vectors[0]); i++) {
        uint8_t d[32];
        char hex[65];
        dp_sha256_buf(d, sha_vectors[i].msg, strlen(sha_vectors[i].msg));
        dp_hex_encode(hex, d, 32);
        assert_string_equal(hex, sha_vectors[i].hex);
        char name[16];
        snprintf(name, sizeof(name), "v%zu", i);
        tu_write(dir, name, sha_vectors[i].msg, strlen(sha_vectors[i].msg));
        char *p = tu_path(dir, name);
        memset(d, 0, sizeof(d));
        assert_int_equal(dp_sha256_file(p, d, NULL), DP_OK);
        dp_hex_encode(hex, d, 32);
        assert_string_equal(hex, sha_vectors[i].hex);
        free(p);
    }
    /* a file of several read buffers agrees with sha256sum's answer (testutil) */
    tu_write_random(dir, "big", 5 * 65536 + 3, 11);
    char *p = tu_path(dir, "big");
    uint8_t d[32];
    char hex[65], ref[65];
    assert_int_equal(dp_sha256_file(p, d, NULL), DP_OK);
    dp_hex_encode(hex, d, 32);
    assert_true(tu_sha256_hex(p, ref));
    assert_string_equal(hex, ref);
    /* short reads and EINTR give the same digest */
    read_fault = F_EINTR_THEN_SHORT;
    enum dp_status st = dp_sha256_file(p, d, NULL);
    unsigned calls = n_eintr;
    disarm();
    assert_true(calls > (5 * 65536) / 7);
    assert_int_equal(st, DP_OK);
    dp_hex_encode(hex, d, 32);
    assert_string_equal(hex, ref);
    /* a read error */
    struct dp_error e = {0};
    read_fault = F_FAIL;
    read_errno = EIO;
    st = dp_sha256_file(p, d, &e);
    disarm();
    assert_int_equal(st, DP_ERR_IO);
    assert_int_equal(e.sys_errno, EIO);
    free(p);
    /* missing, a symbolic link, a directory */
    p = tu_path(dir, "missing");
    assert_int_equal(dp_sha256_file(p, d, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ENOENT);
    assert_non_null(strstr(e.msg, p));
    char *link = tu_path(dir, "link"), *target = tu_path(dir, "v1");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(dp_sha256_file(link, d, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ELOOP);
    assert_int_equal(dp_sha256_file(dir, d, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, EISDIR);
    tu_rm_rf(dir);
    free(p), free(link), free(target), free(dir);
}

/* ---- atomic replace ---- */

static mode_t mode_of(const char *p)
{
    struct stat st;
    assert_int_equal(lstat(p, &st), 0);
    return st.st_mode & 07777;
}

static void test_write_file_atomic(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *p = tu_path(dir, "out.json");
    struct dp_error e = {0};
    /* new file, exact mode whatever the umask */
    mode_t old_umask = umask(077);
    assert_int_equal(dp_write_file_atomic(p, "first", 5, 0644, &e), DP_OK);
    umask(old_umask);
    assert_int_equal(mode_of(p), 0644);
    size_t len;
    char *got = tu_read(p, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(got, "first", 5);
    free(got);
    /* replaced: a new inode (a reader holding the old one sees the old bytes) */
    struct stat before, after;
    assert_int_equal(stat(p, &before), 0);
    int held = open(p, O_RDONLY);
    assert_true(held >= 0);
    assert_int_equal(dp_write_file_atomic(p, "second\0x", 8, 0600, &e), DP_OK);
    assert_int_equal(stat(p, &after), 0);
    assert_int_not_equal(before.st_ino, after.st_ino);
    assert_int_equal(mode_of(p), 0600);
    got = tu_read(p, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(got, "second\0x", 8);
    free(got);
    char old[8] = "";
    assert_int_equal(pread(held, old, sizeof(old), 0), 5);
    assert_memory_equal(old, "first", 5);
    close(held);
    /* empty content */
    assert_int_equal(dp_write_file_atomic(p, "", 0, 0644, &e), DP_OK);
    got = tu_read(p, &len);
    assert_int_equal(len, 0);
    free(got);
    /* no temporary file left behind */
    char *ls = dir_listing(dir);
    assert_string_equal(ls, "out.json");
    free(ls);
    /* a symbolic link at the path is replaced, its target is not written through */
    tu_write(dir, "target", "keep", 4);
    char *link = tu_path(dir, "link"), *target = tu_path(dir, "target");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(dp_write_file_atomic(link, "new", 3, 0644, &e), DP_OK);
    struct stat lst;
    assert_int_equal(lstat(link, &lst), 0);
    assert_true(S_ISREG(lst.st_mode));
    got = tu_read(target, &len);
    assert_memory_equal(got, "keep", 4);
    free(got);
    /* a bare file name goes to the current directory (its parent is ".") */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    enum dp_status st = dp_write_file_atomic("bare", "b", 1, 0644, &e);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, DP_OK);
    char *bare = tu_path(dir, "bare");
    got = tu_read(bare, &len);
    assert_memory_equal(got, "b", 1);
    free(got);
    /* a missing directory: DP_ERR_IO, nothing created */
    char *missing = tu_path(dir, "no/such.json");
    dp_error_clear(&e);
    assert_int_equal(dp_write_file_atomic(missing, "x", 1, 0644, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, ENOENT);
    assert_non_null(strstr(e.msg, "cannot create"));
    /* the path is a directory: the rename fails, the temporary file is removed */
    char *sub = tu_path(dir, "sub");
    assert_int_equal(mkdir(sub, 0755), 0);
    dp_error_clear(&e);
    assert_int_equal(dp_write_file_atomic(sub, "x", 1, 0644, &e), DP_ERR_IO);
    assert_non_null(strstr(e.msg, "cannot rename"));
    ls = dir_listing(dir);
    assert_string_equal(ls, "bare link out.json sub target");
    free(ls);
    tu_rm_rf(dir);
    free(p), free(link), free(target), free(bare), free(missing), free(sub), free(dir);
}

/* Short writes and EINTR are retried; ENOSPC or an fsync error leaves the old file as it was
 * and no temporary file behind. */
static void test_write_file_atomic_faults(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *p = tu_path(dir, "f");
    const char *text = "a text that takes several short writes to get out";
    write_fault = F_EINTR_THEN_SHORT;
    enum dp_status st = dp_write_file_atomic(p, text, strlen(text), 0644, NULL);
    unsigned calls = n_eintr;
    disarm();
    assert_true(calls > strlen(text) / 5);
    assert_int_equal(st, DP_OK);
    size_t len;
    char *got = tu_read(p, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(got, text, len);
    free(got);
    struct dp_error e = {0};
    /* disk full */
    write_fault = F_FAIL;
    write_errno = ENOSPC;
    st = dp_write_file_atomic(p, "replacement", 11, 0644, &e);
    disarm();
    assert_int_equal(st, DP_ERR_IO);
    assert_int_equal(e.sys_errno, ENOSPC);
    got = tu_read(p, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(got, text, len);
    free(got);
    char *ls = dir_listing(dir);
    assert_string_equal(ls, "f");
    free(ls);
    /* the data cannot be made durable */
    dp_error_clear(&e);
    fsync_errno = EIO;
    st = dp_write_file_atomic(p, "replacement", 11, 0644, &e);
    disarm();
    assert_int_equal(st, DP_ERR_IO);
    assert_int_equal(e.sys_errno, EIO);
    got = tu_read(p, &len);
    assert_memory_equal(got, text, len);
    free(got);
    ls = dir_listing(dir);
    assert_string_equal(ls, "f");
    free(ls);
    tu_rm_rf(dir);
    free(p), free(dir);
}

/* ---- quoting for messages ---- */

static void test_quote_bytes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } v[] = {
        {"", 0, ""},
        {"plain/path name.jpg", 19, "plain/path name.jpg"},
        {"back\\slash", 10, "back\\\\slash"},
        {"tab\there", 8, "tab\\x09here"},
        {"nl\n", 3, "nl\\x0a"},
        {"\x1b[31mred", 8, "\\x1b[31mred"},
        {"del\x7f", 4, "del\\x7f"},
        {"nul\0x", 5, "nul\\x00x"},
        {"caf\xc3\xa9", 5, "caf\\xc3\\xa9"}, /* UTF-8 too: bytes, not text */
        {"x\xe9.jpg", 6, "x\\xe9.jpg"},
        {"\xff\x80", 2, "\\xff\\x80"},
        {"~ ", 2, "~ "},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *q = dp_quote_bytes(v[i].in, v[i].n);
        assert_non_null(q);
        assert_string_equal(q, v[i].want);
        free(q);
    }
    /* the worst case: every byte expands to four */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    char *q = dp_quote_bytes(all, sizeof(all));
    assert_non_null(q);
    for (const char *c = q; *c; c++)
        assert_true(*c >= 0x20 && *c < 0x7f);
    size_t printable = 0x7f - 0x20; /* 95, of which the backslash doubles */
    assert_int_equal(strlen(q), printable + 1 + (256 - printable) * 4);
    free(q);
}

/* ---- text escaping for terminals ---- */

static char *escaped(const char *s, size_t n)
{
    char *buf = NULL;
    size_t used = 0, cap = 0;
    assert_true(dp_text_escape_append(&buf, &used, &cap, s, n));
    assert_int_equal(used, strlen(buf));
    assert_true(cap > used);
    return buf;
}

static void test_text_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } v[] = {
        {"", 0, ""},
        {"plain text", 10, "plain text"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"back\\slash", 10, "back\\\\slash"},
        {"a\nb\rc\td", 7, "a\\x0ab\\x0dc\\x09d"},
        {"\x1b]0;title\x07", 10, "\\x1b]0;title\\x07"},
        {"del\x7f", 4, "del\\x7f"},
        {"nul\0x", 5, "nul\\x00x"},
        /* C1 controls, UTF-8 encoded (U+0080..U+009F): escaped by code point */
        {"\xc2\x80", 2, "\\x80"},
        {"csi\xc2\x9b" "31m", 8, "csi\\x9b31m"},
        {"nel\xc2\x85", 5, "nel\\x85"},
        {"\xc2\x9f", 2, "\\x9f"},
        /* the neighbours are text: U+00A0 (no-break space), U+007E */
        {"\xc2\xa0~", 3, "\xc2\xa0~"},
        /* bytes that are not valid UTF-8 are escaped: a lone lead byte, a lone 8-bit CSI */
        {"end\xc2", 4, "end\\xc2"},
        {"lone\x9b" "31m", 8, "lone\\x9b31m"},
        /* a right-to-left override makes "gpj.exe" display as "exe.jpg": escaped */
        {"a\xe2\x80\xaegpj.exe", 11, "a\\xe2\\x80\\xaegpj.exe"},
        {"\xe2\x81\xa6x", 4, "\\xe2\\x81\\xa6x"},
        {"\xed\xa0\x80", 3, "\\xed\\xa0\\x80"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char *e = escaped(v[i].in, v[i].n);
        if (strcmp(e, v[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, e, v[i].want);
        free(e);
    }
    /* no C0 control, DEL or UTF-8 C1 control survives any byte pair */
    for (int a = 0; a < 256; a++) {
        for (int b = 0x80; b < 0xa0; b += 0x1f) {
            char in[3] = {(char)a, (char)0xc2, (char)b};
            char *e = escaped(in, 3);
            for (const unsigned char *c = (const unsigned char *)e; *c; c++) {
                assert_true(*c >= 0x20 && *c != 0x7f);
                assert_false(c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f);
            }
            free(e);
        }
    }
}

/* Appending: starts from NULL, keeps what is there, grows, tracks used and cap. */
static void test_text_escape_append_grows(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t used = 0, cap = 0;
    assert_true(dp_text_escape_append(&buf, &used, &cap, "", 0));
    assert_non_null(buf);
    assert_string_equal(buf, "");
    assert_int_equal(used, 0);
    char want[20000] = "";
    size_t wl = 0;
    for (int i = 0; i < 1000; i++) {
        char piece[32];
        int n = snprintf(piece, sizeof(piece), "%d\n\\", i);
        assert_true(dp_text_escape_append(&buf, &used, &cap, piece, (size_t)n));
        wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%d\\x0a\\\\", i);
        assert_int_equal(used, wl);
        assert_true(cap > used);
        assert_string_equal(buf + used - 7, want + wl - 7);
    }
    assert_string_equal(buf, want);
    free(buf);
    /* a caller's buffer with room already: written in place after what is there */
    size_t c2 = 64, u2 = 3;
    char *b2 = malloc(c2);
    assert_non_null(b2);
    memcpy(b2, "ab:", 4);
    assert_true(dp_text_escape_append(&b2, &u2, &c2, "\x01", 1));
    assert_string_equal(b2, "ab:\\x01");
    assert_int_equal(u2, 7);
    free(b2);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_hex_encode, setup),
        cmocka_unit_test_setup(test_hex_decode, setup),
        cmocka_unit_test_setup(test_utc_format, setup),
        cmocka_unit_test_setup(test_uuid4, setup),
        cmocka_unit_test_setup(test_read_file, setup),
        cmocka_unit_test_setup(test_read_file_faults, setup),
        cmocka_unit_test_setup(test_sha256, setup),
        cmocka_unit_test_setup(test_write_file_atomic, setup),
        cmocka_unit_test_setup(test_write_file_atomic_faults, setup),
        cmocka_unit_test_setup(test_quote_bytes, setup),
        cmocka_unit_test_setup(test_text_escape, setup),
        cmocka_unit_test_setup(test_text_escape_append_grows, setup),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
