/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: hash list parsing (every format, PDQ with its quality), errors, duplicates,
 * size index, lookups, the per-list counts in the report. */
#include "testutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/hashset.h"
#include "deprive/pdq.h"
#include "deprive/report.h"
#include "deprive/util.h"
#include "src/lists/internal.h" /* the format table */

#define MD5_EMPTY "d41d8cd98f00b204e9800998ecf8427e"
#define SHA1_EMPTY "da39a3ee5e6b4b0d3255bfef95601890afd80709"
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MD5_ABC "900150983cd24fb0d6963f7d28e17f72"
#define SHA1_ABC "a9993e364706816aba3e25717850c26c9cd0d89d"
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define MD5_HELLO "5d41402abc4b2a76b9719d911017c592"
#define SHA1_HELLO "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
#define SHA256_HELLO "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define PDQ_1 "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"

#define FIXTURE(name) DP_SOURCE_DIR "/fixtures/hashlists/" name

/* ---- helpers ------------------------------------------------------------------------------- */

static struct dp_hashset *new_set(void)
{
    struct dp_hashset *set = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_hashset_new(&set, &err), DP_OK);
    assert_non_null(set);
    return set;
}

static enum dp_status load(struct dp_hashset *set, const char *name, const char *text,
                           struct dp_error *err)
{
    return dp_hashset_load_buffer(set, name, text, strlen(text), err);
}

static void load_ok(struct dp_hashset *set, const char *name, const char *text)
{
    struct dp_error err = {0};
    enum dp_status st = load(set, name, text, &err);
    if (st != DP_OK)
        fail_msg("loading %s failed: %s", name, err.msg);
}

static void finalize_ok(struct dp_hashset *set)
{
    struct dp_error err = {0};
    enum dp_status st = dp_hashset_finalize(set, &err);
    if (st != DP_OK)
        fail_msg("finalize failed: %s", err.msg);
}

/* Number of entries for a hex digest; *first set (may be NULL). */
static size_t look(const struct dp_hashset *set, enum dp_algo algo, const char *hex,
                   const struct dp_hash_entry **first)
{
    uint8_t d[DP_DIGEST_MAX] = {0};
    assert_true(dp_hex_decode(d, dp_algo_len(algo), hex, strlen(hex)));
    const struct dp_hash_entry *f = NULL;
    size_t n = dp_hashset_lookup(set, algo, d, &f);
    if (first != NULL)
        *first = f;
    return n;
}

/* Exactly one entry; returns it. */
static const struct dp_hash_entry *one(const struct dp_hashset *set, enum dp_algo algo,
                                       const char *hex)
{
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look(set, algo, hex, &e), 1);
    assert_non_null(e);
    assert_int_equal(e->algo, algo);
    return e;
}

/* Loading text must fail with code and a message containing want. */
static void expect_fail(const char *text, size_t len, enum dp_status code, const char *want)
{
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    enum dp_status st = dp_hashset_load_buffer(set, "t.txt", text, len, &err);
    if (st != code || strstr(err.msg, want) == NULL)
        fail_msg("for %s: got status %d msg '%s', want %d with '%s'", text, st, err.msg, code,
                 want);
    assert_int_equal(err.code, code);
    assert_int_equal(dp_hashset_source_count(set), 0);
    dp_hashset_free(set);
}

struct bad_case {
    const char *text;
    enum dp_status code;
    const char *want;
};

static void run_bad(const struct bad_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_fail(cases[i].text, strlen(cases[i].text), cases[i].code, cases[i].want);
}

#define RUN_BAD(tab) run_bad(tab, sizeof(tab) / sizeof(tab[0]))

/* ---- algorithms ---------------------------------------------------------------------------- */

static void test_algo_helpers(void **state)
{
    (void)state;
    assert_int_equal(dp_algo_len(DP_ALGO_MD5), 16);
    assert_int_equal(dp_algo_len(DP_ALGO_SHA1), 20);
    assert_int_equal(dp_algo_len(DP_ALGO_SHA256), 32);
    assert_int_equal(dp_algo_len(DP_ALGO_PDQ), 32);
    assert_string_equal(dp_algo_name(DP_ALGO_SHA1), "sha1");
    assert_string_equal(dp_algo_name(DP_ALGO_PDQ), "pdq");
    enum dp_algo a;
    assert_true(dp_algo_parse("SHA-256", 7, &a));
    assert_int_equal(a, DP_ALGO_SHA256);
    assert_true(dp_algo_parse("sha1xyz", 4, &a));
    assert_int_equal(a, DP_ALGO_SHA1);
    assert_true(dp_algo_parse("Md5", 3, &a));
    assert_int_equal(a, DP_ALGO_MD5);
    assert_false(dp_algo_parse("sha512", 6, &a));
    assert_false(dp_algo_parse("sha", 3, &a));
}

/* ---- sha256sum / md5sum / sha1sum ---------------------------------------------------------- */

static void test_sum_lines(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "sums.txt",
            SHA256_ABC "  abc.txt\n"                       /* 1: text mode */
            SHA256_HELLO " *bin/hello.jpg\n"               /* 2: binary marker */
            "\n"                                           /* 3 */
            "\\" SHA256_EMPTY "  dir\\\\we\\nird\n"        /* 4: escaped name */
            MD5_ABC "  md5 name with  spaces\r\n"          /* 5: CRLF */
            "A9993E364706816ABA3E25717850C26C9CD0D89D  UPPER\n" /* 6 */
            MD5_HELLO " bsd-reversed\n"                    /* 7: single space */
            "# a comment\n"                                /* 8 */
            SHA1_EMPTY "\t*tab");                         /* 9: no final newline */
    finalize_ok(set);
    assert_int_equal(dp_hashset_source_count(set), 1);
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_string_equal(src->format, "sha256sum");
    assert_string_equal(src->path, "sums.txt");
    assert_int_equal(src->counts[DP_ALGO_SHA256], 3);
    assert_int_equal(src->counts[DP_ALGO_MD5], 2);
    assert_int_equal(src->counts[DP_ALGO_SHA1], 2);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_ABC)->line, 1);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_HELLO)->line, 2);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_EMPTY)->line, 4);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->line, 5);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_ABC)->line, 6);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_HELLO)->line, 7);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_EMPTY)->line, 9);
    const struct dp_hash_entry *e = one(set, DP_ALGO_SHA256, SHA256_ABC);
    assert_int_equal(e->size, -1);
    assert_int_equal(e->label, 0);
    assert_null(dp_hashset_label(set, e));
    assert_int_equal(e->source, 0);
    /* the name is not part of the digest: no SHA-256 entry under an MD5 digest */
    assert_int_equal(dp_hashset_count(set, DP_ALGO_PDQ), 0);
    dp_hashset_free(set);
}

static void test_sum_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {SHA256_ABC "  a\n" SHA256_ABC "0  b\n", DP_ERR_PARSE,
         "t.txt:2: digest has 65 hex digits"},
        {SHA256_ABC "  a\n\n"
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a  b\n",
         DP_ERR_PARSE, "t.txt:3: digest has 63 hex digits"},
        {SHA256_ABC "  a\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001xad  b\n",
         DP_ERR_PARSE, "t.txt:2: bad digest: 'x' is not a hex digit"},
        {SHA256_ABC "  a\n" SHA256_ABC "\n", DP_ERR_PARSE, "t.txt:2: missing file name"},
        {SHA256_ABC "  a\n" SHA256_ABC "  \n", DP_ERR_PARSE, "t.txt:2: missing file name"},
        {"\\" SHA256_ABC "  a\\qb\n", DP_ERR_PARSE, "t.txt:1: bad escape '\\x5cq'"},
        {"\\" SHA256_ABC "  ab\\\n", DP_ERR_PARSE, "t.txt:1: bad escape"},
        {SHA256_ABC "  a\nMD5 (x) = " MD5_ABC "\n", DP_ERR_PARSE, "t.txt:2: bad digest"},
        {MD5_ABC "  a\n" "zz  b\n", DP_ERR_PARSE, "t.txt:2: bad digest: 'z'"},
    };
    RUN_BAD(cases);
}

/* ---- BSD / GNU --tag ----------------------------------------------------------------------- */

static void test_bsd_lines(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "tag.txt",
            "MD5 (a b.txt) = " MD5_ABC "\n"
            "SHA1 (x) = y) = " SHA1_ABC "\n"
            "\\SHA256 (we\\\\ird\\n) = " SHA256_EMPTY "\n"
            "SHA256 (hello) = 2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824\n"
            "SHA2-256 (h2) = " SHA256_ABC "\n"
            "sha-1 (lower) = " SHA1_HELLO "\r\n");
    finalize_ok(set);
    assert_string_equal(dp_hashset_source(set, 0)->format, "bsd");
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->line, 1);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_ABC)->line, 2);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_EMPTY)->line, 3);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_HELLO)->line, 4);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_ABC)->line, 5);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_HELLO)->line, 6);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA256), 3);
    dp_hashset_free(set);
}

static void test_bsd_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"MD5 (a) = " MD5_ABC "\nSHA256 (b) = " MD5_ABC "\n", DP_ERR_PARSE,
         "t.txt:2: sha256 is not 64 hex digits"},
        {"SHA512 (a) = " SHA256_ABC "\n", DP_ERR_PARSE, "t.txt:1: unsupported algorithm 'SHA512'"},
        {"PDQ (a) = " PDQ_1 "\n", DP_ERR_PARSE, "t.txt:1: unsupported algorithm"},
        {"MD5 (a) = " MD5_ABC "\nMD5 (b) " MD5_ABC "\n", DP_ERR_PARSE,
         "t.txt:2: expected ') = '"},
        {"MD5 (a) = " MD5_ABC "\nMD5 () = " MD5_ABC "\n", DP_ERR_PARSE,
         "t.txt:2: missing file name"},
        {"MD5 (a) = " MD5_ABC "\n" MD5_ABC "  b\n", DP_ERR_PARSE, "t.txt:2: expected 'ALGO"},
        {"\\MD5 (a\\x) = " MD5_ABC "\n", DP_ERR_PARSE, "t.txt:1: bad escape"},
        {"MD5 (a) = " MD5_ABC "0\n", DP_ERR_PARSE, "t.txt:1: md5 is not 32 hex digits"},
    };
    RUN_BAD(cases);
}

/* ---- hashdeep ------------------------------------------------------------------------------ */

static void test_hashdeep_columns(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "hd1.txt",
            "%%%% HASHDEEP-1.0\n"
            "%%%% size,md5,sha256,filename\n"
            "## Invoked from: /home/v\n"
            "## $ hashdeep -r .\n"
            "##\n"
            "3," MD5_ABC "," SHA256_ABC ",/home/v/a,b,c.txt\n"
            "5," MD5_HELLO "," SHA256_HELLO ",/home/v/hello\r\n");
    /* other order, unknown columns, no size column */
    load_ok(set, "hd2.txt",
            "%%%% HASHDEEP-1.0\n"
            "%%%% sha1,tiger,filename\n"
            SHA1_EMPTY ",3293ac630c13f0245f92bbb1766e16167a4e58492dde73f3,,,odd,,name\n");
    load_ok(set, "hd3.txt",
            "%%%% HASHDEEP-1.0\n"
            "%%%% whirlpool,sha256,size,md5\n"
            "00ff," SHA256_EMPTY ",0," MD5_EMPTY "\n");
    finalize_ok(set);
    assert_string_equal(dp_hashset_source(set, 0)->format, "hashdeep");
    assert_int_equal(dp_hashset_source(set, 0)->counts[DP_ALGO_MD5], 2);
    assert_int_equal(dp_hashset_source(set, 0)->counts[DP_ALGO_SHA256], 2);
    const struct dp_hash_entry *e = one(set, DP_ALGO_SHA256, SHA256_ABC);
    assert_int_equal(e->line, 6);
    assert_int_equal(e->size, 3);
    e = one(set, DP_ALGO_MD5, MD5_ABC);
    assert_int_equal(e->line, 6);
    assert_int_equal(e->size, 3);
    e = one(set, DP_ALGO_MD5, MD5_HELLO);
    assert_int_equal(e->line, 7);
    assert_int_equal(e->size, 5);
    e = one(set, DP_ALGO_SHA1, SHA1_EMPTY);
    assert_int_equal(e->source, 1);
    assert_int_equal(e->line, 3);
    assert_int_equal(e->size, -1);
    e = one(set, DP_ALGO_SHA256, SHA256_EMPTY);
    assert_int_equal(e->source, 2);
    assert_int_equal(e->size, 0);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_EMPTY)->size, 0);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA1), 1);
    dp_hashset_free(set);

    /* two hashdeep outputs concatenated: the second header block replaces the columns */
    set = new_set();
    load_ok(set, "cat.txt",
            "%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n3," MD5_ABC ",a\n"
            "%%%% HASHDEEP-1.0\n%%%% sha1,filename\n" SHA1_HELLO ",b\n");
    finalize_ok(set);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->size, 3);
    e = one(set, DP_ALGO_SHA1, SHA1_HELLO);
    assert_int_equal(e->line, 6);
    assert_int_equal(e->size, -1);
    dp_hashset_free(set);
}

static void test_hashdeep_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"%%%% HASHDEEP-1.0\n" "3," MD5_ABC ",a\n", DP_ERR_PARSE,
         "t.txt:2: data line before the hashdeep column header"},
        {"%%%% HASHDEEP-2.0\n", DP_ERR_PARSE, "t.txt:1: unsupported hashdeep version"},
        {"%%%% size,md5,filename\n", DP_ERR_PARSE, "t.txt:1: column header before"},
        {"%%%% HASHDEEP-1.0\n%%%% size,filename,md5\n", DP_ERR_PARSE,
         "t.txt:2: filename must be the last"},
        {"%%%% HASHDEEP-1.0\n%%%% size,tiger,filename\n", DP_ERR_PARSE,
         "t.txt:2: no md5, sha1 or sha256 column"},
        {"%%%% HASHDEEP-1.0\n%%%% md5,md5,filename\n", DP_ERR_PARSE,
         "t.txt:2: column 'md5' given twice"},
        {"%%%% HASHDEEP-1.0\n%%%% size,,filename\n", DP_ERR_PARSE, "t.txt:2: empty column name"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## c\n3," MD5_ABC ",a\nx3," MD5_ABC
         ",b\n",
         DP_ERR_PARSE, "t.txt:5: bad size 'x3'"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n-1," MD5_ABC ",b\n", DP_ERR_PARSE,
         "t.txt:3: bad size '-1'"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n9223372036854775808," MD5_ABC ",b\n",
         DP_ERR_PARSE, "t.txt:3: bad size"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n3," MD5_ABC "\n", DP_ERR_PARSE,
         "t.txt:3: too few fields (expected 3)"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5\n3," MD5_ABC ",x\n", DP_ERR_PARSE,
         "t.txt:3: too many fields (expected 2)"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n3," SHA1_ABC ",b\n", DP_ERR_PARSE,
         "t.txt:3: md5 is not 32 hex digits"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n3," MD5_ABC ",\n", DP_ERR_PARSE,
         "t.txt:3: missing file name"},
        {"%%%% HASHDEEP-1.0\n%%%%size,md5\n", DP_ERR_PARSE, "t.txt:2: expected '%%%% ' header"},
        {"%%%% HASHDEEP-1.0\n%%%% md5,filename\n" MD5_ABC ",a\n%%%% HASHDEEP-1.0\n" MD5_ABC
         ",b\n",
         DP_ERR_PARSE, "t.txt:5: data line before the hashdeep column header"},
        {"%%%% HASHDEEP-1.0\n%%%% md5,filename\n900150983cd24fb0d6963f7d28e17f7g,a\n",
         DP_ERR_PARSE, "t.txt:3: md5 is not 32 hex digits"},
    };
    RUN_BAD(cases);
}

/* ---- plain hex ----------------------------------------------------------------------------- */

static void test_plain_lengths(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "plain.txt",
            "# header comment\n" MD5_ABC "\n\n" SHA1_ABC "  \n"
            "  2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824\r\n");
    finalize_ok(set);
    assert_string_equal(dp_hashset_source(set, 0)->format, "plain");
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->line, 2);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_ABC)->line, 4);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_HELLO)->line, 5);
    /* 64 hex digits in a plain list are SHA-256, never PDQ */
    assert_int_equal(dp_hashset_count(set, DP_ALGO_PDQ), 0);
    dp_hashset_free(set);
}

static void test_plain_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {MD5_ABC "\n" SHA256_ABC "0\n", DP_ERR_PARSE, "t.txt:2: digest has 65 hex digits"},
        {MD5_ABC "\n\n\n"
         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\n",
         DP_ERR_PARSE, "t.txt:4: digest has 63 hex digits"},
        {SHA256_ABC "0\n", DP_ERR_PARSE, "t.txt:1: digest has 65 hex digits"},
        {MD5_ABC "\n900150983cd24fb0d6963f7d28e17f7g\n", DP_ERR_PARSE,
         "t.txt:2: bad digest: 'g' is not a hex digit"},
        {MD5_ABC "\n" MD5_ABC " x\n", DP_ERR_PARSE,
         "t.txt:2: unexpected text after the digest: 'x'"},
        {"abc\n", DP_ERR_PARSE, "t.txt:1: digest has 3 hex digits"},
        {"hello world\n", DP_ERR_PARSE, "t.txt:1: not a recognised hash list line"},
    };
    RUN_BAD(cases);
}

/* ---- deprive's format ---------------------------------------------------------------------- */

static void test_deprive_format(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "dp.txt",
            "# deprive-hashes 1\n"
            "md5:" MD5_ABC " sha1:" SHA1_ABC "\tsha256:" SHA256_ABC " size:3 label=beach%20photo\n"
            "# comment\n"
            "size:5 SHA256:" SHA256_HELLO "\n"
            "pdq:" PDQ_1 " size:12345 label=raw \xff\xfe bytes%25\n"
            "sha-1:" SHA1_EMPTY " label=\n");
    finalize_ok(set);
    assert_string_equal(dp_hashset_source(set, 0)->format, "deprive");
    const struct dp_hash_entry *m = one(set, DP_ALGO_MD5, MD5_ABC);
    const struct dp_hash_entry *s1 = one(set, DP_ALGO_SHA1, SHA1_ABC);
    const struct dp_hash_entry *s2 = one(set, DP_ALGO_SHA256, SHA256_ABC);
    assert_int_equal(m->line, 2);
    assert_int_equal(s1->line, 2);
    assert_int_equal(s2->line, 2);
    assert_int_equal(m->size, 3);
    assert_int_equal(s1->size, 3);
    assert_int_equal(s2->size, 3);
    assert_string_equal(dp_hashset_label(set, m), "beach photo");
    assert_int_equal(m->label, s2->label); /* one label per line */
    const struct dp_hash_entry *h = one(set, DP_ALGO_SHA256, SHA256_HELLO);
    assert_int_equal(h->line, 4);
    assert_int_equal(h->size, 5);
    assert_null(dp_hashset_label(set, h));
    const struct dp_hash_entry *p = one(set, DP_ALGO_PDQ, PDQ_1);
    assert_int_equal(p->algo, DP_ALGO_PDQ);
    assert_int_equal(p->line, 5);
    assert_int_equal(p->size, 12345);
    assert_string_equal(dp_hashset_label(set, p), "raw \xff\xfe bytes%"); /* stored as is */
    assert_int_equal(look(set, DP_ALGO_SHA256, PDQ_1, NULL), 0);
    assert_null(dp_hashset_label(set, one(set, DP_ALGO_SHA1, SHA1_EMPTY))); /* empty label */
    assert_int_equal(dp_hashset_count(set, DP_ALGO_PDQ), 1);
    assert_int_equal(dp_hashset_source(set, 0)->counts[DP_ALGO_PDQ], 1);
    dp_hashset_free(set);

    /* without the optional header, detected from the first token */
    set = new_set();
    load_ok(set, "dp2.txt", "\n  sha256:" SHA256_ABC "\nsize:1 md5:" MD5_ABC " label=x md5:y\n");
    finalize_ok(set);
    assert_string_equal(dp_hashset_source(set, 0)->format, "deprive");
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA256), 1);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_MD5), 1);
    /* the label runs to the end of the line, tokens included */
    assert_string_equal(dp_hashset_label(set, one(set, DP_ALGO_MD5, MD5_ABC)), "x md5:y");
    dp_hashset_free(set);
}

static void test_deprive_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"# deprive-hashes 2\nmd5:" MD5_ABC "\n", DP_ERR_PARSE,
         "t.txt:1: unsupported deprive-hashes version '2'"},
        {"md5:" MD5_ABC "\nmd5:" MD5_ABC " md5:" MD5_HELLO "\n", DP_ERR_PARSE,
         "t.txt:2: md5 given twice"},
        {"md5:" MD5_ABC " size:1 size:2\n", DP_ERR_PARSE, "t.txt:1: size given twice"},
        {"md5:" MD5_ABC " crc32:abcd\n", DP_ERR_PARSE, "t.txt:1: unknown token 'crc32:abcd'"},
        {"md5:" MD5_ABC "\n" MD5_ABC "\n", DP_ERR_PARSE, "t.txt:2: unknown token"},
        {"md5:" MD5_ABC " size:-1\n", DP_ERR_PARSE, "t.txt:1: bad size '-1'"},
        {"md5:" MD5_ABC " size:9223372036854775808\n", DP_ERR_PARSE,
         "t.txt:1: bad size '9223372036854775808'"},
        {"md5:" MD5_ABC " size:\n", DP_ERR_PARSE, "t.txt:1: bad size ''"},
        {"md5:" MD5_ABC "\nsize:3 label=x\n", DP_ERR_PARSE, "t.txt:2: no hash on the line"},
        {"md5:" MD5_ABC "\nlabel=x md5:" MD5_ABC "\n", DP_ERR_PARSE,
         "t.txt:2: no hash on the line"},
        {"md5:" SHA1_ABC "\n", DP_ERR_PARSE, "t.txt:1: md5 is not 32 hex digits"},
        {"pdq:" MD5_ABC "\n", DP_ERR_PARSE, "t.txt:1: pdq is not 64 hex digits"},
        {"md5:900150983cd24fb0d6963f7d28e17f7g\n", DP_ERR_PARSE,
         "t.txt:1: md5 is not 32 hex digits"},
        {"md5:g00150983cd24fb0d6963f7d28e17f72\n", DP_ERR_PARSE,
         "t.txt:1: md5 is not 32 hex digits"},
        {"md5:" MD5_ABC " label=bad%4g\n", DP_ERR_PARSE, "t.txt:1: bad percent escape"},
        {"md5:" MD5_ABC " label=bad%2\n", DP_ERR_PARSE, "t.txt:1: bad percent escape"},
        {"md5:" MD5_ABC " label=bad%zz\n", DP_ERR_PARSE, "t.txt:1: bad percent escape"},
        {"md5:" MD5_ABC " label=nul%00\n", DP_ERR_PARSE, "t.txt:1: label contains %00"},
    };
    RUN_BAD(cases);
    /* the largest size is fine */
    struct dp_hashset *set = new_set();
    load_ok(set, "max.txt", "md5:" MD5_ABC " size:9223372036854775807\n");
    finalize_ok(set);
    assert_true(one(set, DP_ALGO_MD5, MD5_ABC)->size == INT64_MAX);
    dp_hashset_free(set);
}

/* ---- VICS JSON ----------------------------------------------------------------------------- */

static void test_vics_flat(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    assert_int_equal(dp_hashset_load_file(set, FIXTURE("vics-flat.json"), &err), DP_OK);
    finalize_ok(set);
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_string_equal(src->format, "vics");
    assert_int_equal(src->counts[DP_ALGO_MD5], 2);
    assert_int_equal(src->counts[DP_ALGO_SHA1], 1); /* the second has "SHA1": null */
    assert_int_equal(src->counts[DP_ALGO_SHA256], 1);
    const struct dp_hash_entry *e = one(set, DP_ALGO_MD5, MD5_ABC);
    assert_int_equal(e->line, 1);
    assert_int_equal(e->size, 3);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_ABC)->line, 1);
    e = one(set, DP_ALGO_SHA256, SHA256_HELLO);
    assert_int_equal(e->line, 2);
    assert_int_equal(e->size, 5);
    assert_true(dp_hashset_sizes_complete(set));
    dp_hashset_free(set);
}

static void test_vics_nested(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    assert_int_equal(dp_hashset_load_file(set, FIXTURE("vics-nested.json"), &err), DP_OK);
    finalize_ok(set);
    assert_string_equal(dp_hashset_source(set, 0)->format, "vics");
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->line, 1);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_ABC)->line, 1);
    const struct dp_hash_entry *e = one(set, DP_ALGO_MD5, MD5_EMPTY);
    assert_int_equal(e->line, 2);
    assert_int_equal(e->size, 0);
    e = one(set, DP_ALGO_MD5, MD5_HELLO);
    assert_int_equal(e->line, 3);
    assert_int_equal(e->size, 5);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_MD5), 3);
    dp_hashset_free(set);

    /* both shapes in one document, string MediaSize, lower-case keys */
    set = new_set();
    load_ok(set, "mixed.json",
            "{\"value\": [{\"md5\": \"" MD5_ABC "\", \"mediasize\": \"3\"},"
            " {\"Media\": [{\"SHA256\": \"" SHA256_HELLO "\"}]}, {\"Media\": []},"
            " {\"MD5\": \"" MD5_HELLO "\", \"Media\": [{\"SHA1\": \"" SHA1_EMPTY "\"}]}]}");
    finalize_ok(set);
    e = one(set, DP_ALGO_MD5, MD5_ABC);
    assert_int_equal(e->line, 1);
    assert_int_equal(e->size, 3);
    e = one(set, DP_ALGO_SHA256, SHA256_HELLO);
    assert_int_equal(e->line, 2);
    assert_int_equal(e->size, -1);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_HELLO)->line, 3);
    assert_int_equal(one(set, DP_ALGO_SHA1, SHA1_EMPTY)->line, 4);
    dp_hashset_free(set);
}

static void test_vics_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"{\n\"value\": [\n{\"MD5\": \"" MD5_ABC "\",}\n]}", DP_ERR_PARSE, "t.txt:3: invalid JSON"},
        {"{\"values\": []}", DP_ERR_PARSE, "t.txt: no \"value\" array"},
        {"{\"value\": {}}", DP_ERR_PARSE, "t.txt: no \"value\" array"},
        {"{\"value\": [{\"MD5\": \"" MD5_ABC "\"}, {\"MD5\": \"" SHA1_ABC "\"}]}", DP_ERR_PARSE,
         "t.txt:2: MD5 is not 32 hex digits"},
        {"{\"value\": [{\"MD5\": \"" MD5_ABC "\", \"MediaSize\": -3}]}", DP_ERR_PARSE,
         "t.txt:1: MediaSize is not a non-negative integer"},
        {"{\"value\": [{\"MD5\": \"" MD5_ABC "\", \"MediaSize\": 1.5}]}", DP_ERR_PARSE,
         "t.txt:1: MediaSize"},
        {"{\"value\": [{\"MD5\": \"" MD5_ABC "\"}, {\"MediaID\": 2}]}", DP_ERR_PARSE,
         "t.txt:2: media object has no MD5, SHA1 or SHA256"},
        {"{\"value\": [{\"MD5\": 5}]}", DP_ERR_PARSE, "t.txt:1: MD5 is not a string"},
        {"{\"value\": [{\"SHA1\": \"a9993e364706816aba3e25717850c26c9cd0d8-d\"}]}",
         DP_ERR_PARSE, "t.txt:1: SHA1 is not 40 hex digits"},
        {"{\"value\": [{\"Media\": {}}]}", DP_ERR_PARSE, "t.txt: value[0].Media is not an array"},
        {"{\"value\": [{\"Media\": [{\"MD5\": \"" MD5_ABC "\"}, 7]}]}", DP_ERR_PARSE,
         "t.txt:2: media object is not a JSON object"},
        {"{\"value\": [{\"MD5\": \"" MD5_ABC "\", \"MD5\": \"" MD5_ABC "\"}]}", DP_ERR_PARSE,
         "invalid JSON"},
    };
    RUN_BAD(cases);
}

/* ---- detection, empty lists, hostile input ------------------------------------------------- */

static void test_empty_lists(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"", DP_ERR_INVALID, "t.txt: no hashes in the list"},
        {"\n \n\r\n", DP_ERR_INVALID, "t.txt: no hashes in the list"},
        {"# only a comment\n", DP_ERR_INVALID, "t.txt: no hashes in the list"},
        {"# deprive-hashes 1\n", DP_ERR_INVALID, "t.txt: no hashes in the list"},
        {"{\"value\": []}", DP_ERR_INVALID, "t.txt: no hashes in the list"},
        {"{\"value\": [{\"Media\": []}]}", DP_ERR_INVALID, "t.txt: no hashes in the list"},
        {"%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n## nothing\n", DP_ERR_INVALID,
         "t.txt: no hashes in the list"},
    };
    RUN_BAD(cases);

    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    assert_int_equal(dp_hashset_finalize(set, &err), DP_ERR_INVALID);
    dp_hashset_free(set);
}

static void test_hostile_input(void **state)
{
    (void)state;
    static const char nul[] = MD5_ABC "\n" MD5_HELLO "  a\0b\n";
    expect_fail(nul, sizeof(nul) - 1, DP_ERR_PARSE, "t.txt:2: NUL byte in the list");
    static const char nuljson[] = "{\"value\": [\n\n{\"MD5\": \"\0\"}]}";
    expect_fail(nuljson, sizeof(nuljson) - 1, DP_ERR_PARSE, "t.txt:3: NUL byte");

    size_t big = 200000;
    char *text = malloc(big + 256);
    assert_non_null(text);
    int k = snprintf(text, 256, "%s  a\n%s  ", SHA256_ABC, SHA256_HELLO);
    memset(text + k, 'x', big);
    text[k + (int)big] = '\0';
    expect_fail(text, strlen(text), DP_ERR_LIMIT, "t.txt:2: line longer than 65536 bytes");
    free(text);

    /* a UTF-8 byte order mark is skipped */
    struct dp_hashset *set = new_set();
    load_ok(set, "bom.txt", "\xef\xbb\xbf" MD5_ABC "\n");
    finalize_ok(set);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->line, 1);
    assert_string_equal(dp_hashset_source(set, 0)->format, "plain");
    dp_hashset_free(set);

    static const struct bad_case cases[] = {
        {"\x01\x02\x03\n", DP_ERR_PARSE, "t.txt:1: not a recognised hash list line: '\\x01"},
        {"\n\n<html>\n", DP_ERR_PARSE, "t.txt:3: not a recognised"},
        {"[\"" MD5_ABC "\"]\n", DP_ERR_PARSE, "t.txt:1: not a recognised"},
    };
    RUN_BAD(cases);
}

/* ---- merging ------------------------------------------------------------------------------- */

static void test_duplicates_two_lists(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "first.txt", SHA256_ABC "  a\n" SHA256_HELLO "  b\n");
    load_ok(set, "second.txt", "md5:" MD5_ABC "\n\nsha256:" SHA256_ABC " size:3\n");
    finalize_ok(set);
    assert_int_equal(dp_hashset_source_count(set), 2);
    assert_string_equal(dp_hashset_source(set, 0)->path, "first.txt");
    assert_string_equal(dp_hashset_source(set, 1)->path, "second.txt");
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look(set, DP_ALGO_SHA256, SHA256_ABC, &e), 2);
    assert_int_equal(e[0].source, 0);
    assert_int_equal(e[0].line, 1);
    assert_int_equal(e[0].size, -1);
    assert_int_equal(e[1].source, 1);
    assert_int_equal(e[1].line, 3);
    assert_int_equal(e[1].size, 3);
    assert_memory_equal(e[0].digest, e[1].digest, DP_DIGEST_MAX);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA256), 3);
    assert_int_equal(dp_hashset_unique(set, DP_ALGO_SHA256), 2);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_MD5), 1);
    assert_int_equal(dp_hashset_unique(set, DP_ALGO_MD5), 1);
    /* duplicates inside one list too */
    dp_hashset_free(set);
    set = new_set();
    load_ok(set, "dup.txt", MD5_ABC "\n" MD5_HELLO "\n" MD5_ABC "\n" MD5_ABC "\n");
    finalize_ok(set);
    assert_int_equal(look(set, DP_ALGO_MD5, MD5_ABC, &e), 3);
    assert_int_equal(e[0].line, 1);
    assert_int_equal(e[1].line, 3);
    assert_int_equal(e[2].line, 4);
    assert_int_equal(dp_hashset_unique(set, DP_ALGO_MD5), 2);
    dp_hashset_free(set);
}

static void test_size_filter(void **state)
{
    (void)state;
    /* every exact entry sized: complete */
    struct dp_hashset *set = new_set();
    load_ok(set, "a.txt", "md5:" MD5_ABC " sha256:" SHA256_ABC " size:3\n"
                          "sha1:" SHA1_HELLO " size:5\nsha1:" SHA1_EMPTY " size:0\n"
                          "sha256:" SHA256_HELLO " size:1000000000000\n"
                          "pdq:" PDQ_1 " size:777\n");
    finalize_ok(set);
    assert_true(dp_hashset_sizes_complete(set));
    assert_true(dp_hashset_size_wanted(set, 0));
    assert_true(dp_hashset_size_wanted(set, 3));
    assert_true(dp_hashset_size_wanted(set, 5));
    assert_true(dp_hashset_size_wanted(set, 1000000000000ULL));
    assert_false(dp_hashset_size_wanted(set, 4));
    assert_false(dp_hashset_size_wanted(set, 777)); /* PDQ sizes do not count */
    assert_false(dp_hashset_size_wanted(set, UINT64_MAX));
    dp_hashset_free(set);

    /* one unsized exact entry: incomplete */
    set = new_set();
    load_ok(set, "a.txt", "md5:" MD5_ABC " size:3\n");
    load_ok(set, "b.txt", SHA256_HELLO "  x\n");
    finalize_ok(set);
    assert_false(dp_hashset_sizes_complete(set));
    assert_true(dp_hashset_size_wanted(set, 3));
    dp_hashset_free(set);

    /* no exact entries at all: incomplete (PDQ needs every file read) */
    set = new_set();
    load_ok(set, "p.txt", "pdq:" PDQ_1 " size:3\n");
    finalize_ok(set);
    assert_false(dp_hashset_sizes_complete(set));
    assert_false(dp_hashset_size_wanted(set, 3));
    dp_hashset_free(set);

    /* plain lists carry no size */
    set = new_set();
    load_ok(set, "plain.txt", MD5_ABC "\n");
    finalize_ok(set);
    assert_false(dp_hashset_sizes_complete(set));
    assert_false(dp_hashset_size_wanted(set, 3));
    dp_hashset_free(set);
}

static void test_failure_leaves_set_unchanged(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "good.txt", "md5:" MD5_ABC " label=first\n");
    struct dp_error err = {0};
    /* valid lines and a label before the bad line must not leak into the set */
    assert_int_equal(load(set, "bad.txt",
                          "sha256:" SHA256_HELLO " label=staged\n"
                          "sha1:" SHA1_ABC " label=staged too\n"
                          "sha1:zz\n",
                          &err),
                     DP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "bad.txt:3: sha1 is not 40 hex digits"));
    assert_int_equal(load(set, "empty.txt", "\n", &err), DP_ERR_INVALID);
    assert_int_equal(dp_hashset_source_count(set), 1);
    load_ok(set, "later.txt", "sha256:" SHA256_EMPTY " label=second\n");
    finalize_ok(set);
    assert_int_equal(dp_hashset_source_count(set), 2);
    assert_string_equal(dp_hashset_source(set, 1)->path, "later.txt");
    assert_int_equal(look(set, DP_ALGO_SHA256, SHA256_HELLO, NULL), 0);
    assert_int_equal(look(set, DP_ALGO_SHA1, SHA1_ABC, NULL), 0);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA1), 0);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA256), 1);
    const struct dp_hash_entry *e = one(set, DP_ALGO_SHA256, SHA256_EMPTY);
    assert_int_equal(e->source, 1);
    assert_string_equal(dp_hashset_label(set, e), "second");
    assert_string_equal(dp_hashset_label(set, one(set, DP_ALGO_MD5, MD5_ABC)), "first");

    /* the failed load's labels were dropped: the same handle as in a set that never saw it */
    struct dp_hashset *clean = new_set();
    load_ok(clean, "good.txt", "md5:" MD5_ABC " label=first\n");
    load_ok(clean, "later.txt", "sha256:" SHA256_EMPTY " label=second\n");
    finalize_ok(clean);
    assert_int_equal(one(clean, DP_ALGO_SHA256, SHA256_EMPTY)->label, e->label);
    dp_hashset_free(clean);
    dp_hashset_free(set);
}

static void test_lookup_missing(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "l.txt", SHA256_ABC "  a\n" MD5_ABC "  b\n");
    finalize_ok(set);
    const struct dp_hash_entry *e = (const struct dp_hash_entry *)1;
    assert_int_equal(look(set, DP_ALGO_SHA256, SHA256_HELLO, &e), 0);
    assert_null(e);
    assert_int_equal(look(set, DP_ALGO_MD5, MD5_HELLO, NULL), 0);
    assert_int_equal(look(set, DP_ALGO_SHA1, SHA1_ABC, NULL), 0); /* empty range */
    /* the MD5 digest zero-padded is not a SHA-256 or PDQ digest */
    assert_int_equal(look(set, DP_ALGO_PDQ, SHA256_ABC, NULL), 0);
    uint8_t zero[DP_DIGEST_MAX] = {0};
    assert_int_equal(dp_hashset_lookup(set, DP_ALGO_SHA256, zero, NULL), 0);
    uint8_t ff[DP_DIGEST_MAX];
    memset(ff, 0xff, sizeof(ff));
    assert_int_equal(dp_hashset_lookup(set, DP_ALGO_MD5, ff, NULL), 0);
    dp_hashset_free(set);
}

static void test_entries_sorted(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "s.txt", SHA256_HELLO "  a\n" SHA256_EMPTY "  b\n" SHA256_ABC "  c\n"
                          SHA256_HELLO "  d\n" MD5_ABC "  e\n");
    finalize_ok(set);
    size_t n = 0;
    const struct dp_hash_entry *e = dp_hashset_entries(set, DP_ALGO_SHA256, &n);
    assert_int_equal(n, 4);
    for (size_t i = 1; i < n; i++) {
        assert_int_equal(e[i].algo, DP_ALGO_SHA256);
        assert_true(memcmp(e[i - 1].digest, e[i].digest, DP_DIGEST_MAX) <= 0);
    }
    /* 2cf2 (hello, lines 1 and 4) < ba78 (abc, line 3) < e3b0 (empty, line 2) */
    assert_int_equal(e[0].line, 1);
    assert_int_equal(e[1].line, 4);
    assert_int_equal(e[2].line, 3);
    assert_int_equal(e[3].line, 2);
    dp_hashset_free(set);
}

/* ---- fixtures ------------------------------------------------------------------------------ */

static void test_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *file, *format;
        size_t md5, sha1, sha256, pdq;
    } fx[] = {
        {"sha256sum.txt", "sha256sum", 0, 0, 3, 0},
        {"bsd-tag.txt", "bsd", 1, 1, 1, 0},
        {"hashdeep.txt", "hashdeep", 2, 2, 2, 0},
        {"plain.txt", "plain", 1, 1, 1, 0},
        {"deprive.txt", "deprive", 1, 1, 2, 1},
        {"vics-flat.json", "vics", 2, 1, 1, 0},
        {"vics-nested.json", "vics", 3, 1, 0, 0},
    };
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    size_t n = sizeof(fx) / sizeof(fx[0]);
    for (size_t i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s", DP_SOURCE_DIR "/fixtures/hashlists/");
        strncat(path, fx[i].file, sizeof(path) - strlen(path) - 1);
        if (dp_hashset_load_file(set, path, &err) != DP_OK)
            fail_msg("%s: %s", path, err.msg);
        const struct dp_hash_source *src = dp_hashset_source(set, i);
        assert_string_equal(src->path, path);
        assert_string_equal(src->format, fx[i].format);
        assert_int_equal(src->counts[DP_ALGO_MD5], fx[i].md5);
        assert_int_equal(src->counts[DP_ALGO_SHA1], fx[i].sha1);
        assert_int_equal(src->counts[DP_ALGO_SHA256], fx[i].sha256);
        assert_int_equal(src->counts[DP_ALGO_PDQ], fx[i].pdq);
        char hex[65], want[65];
        assert_true(tu_sha256_hex(path, want));
        dp_hex_encode(hex, src->sha256, 32);
        assert_string_equal(hex, want);
    }
    finalize_ok(set);
    /* SHA-256 of "abc" is in sha256sum.txt, hashdeep.txt and deprive.txt */
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look(set, DP_ALGO_SHA256, SHA256_ABC, &e), 3);
    assert_int_equal(e[0].source, 0);
    assert_int_equal(e[1].source, 2);
    assert_int_equal(e[2].source, 4);
    assert_int_equal(e[2].size, 3);
    assert_string_equal(dp_hashset_label(set, &e[2]), "holiday photo, beach");
    assert_int_equal(look(set, DP_ALGO_MD5, MD5_ABC, NULL), 5);
    assert_false(dp_hashset_sizes_complete(set));
    dp_hashset_free(set);
}

static void test_bad_fixture(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    assert_int_equal(dp_hashset_load_file(set, FIXTURE("bad-65hex.txt"), &err), DP_ERR_PARSE);
    assert_string_equal(err.msg, FIXTURE("bad-65hex.txt") ":3: digest has 65 hex digits "
                                                          "(expected 32, 40 or 64)");
    assert_int_equal(dp_hashset_load_file(set, FIXTURE("no-such-file"), &err), DP_ERR_IO);
    assert_int_equal(dp_hashset_source_count(set), 0);
    dp_hashset_free(set);
}

/* ---- scale --------------------------------------------------------------------------------- */

static void test_large_list(void **state)
{
    (void)state;
    const uint32_t lines = 200000, distinct = 190000;
    size_t cap = (size_t)lines * 80;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = 0;
    for (uint32_t i = 0; i < lines; i++) {
        uint32_t v = i % distinct;
        uint8_t d[32];
        char hex[65];
        dp_sha256_buf(d, &v, sizeof(v));
        dp_hex_encode(hex, d, 32);
        len += (size_t)snprintf(text + len, cap - len, "%s  f%u\n", hex, i);
    }
    char *dir = tu_mkdtemp();
    tu_write(dir, "big.sha256", text, len);
    char *path = tu_path(dir, "big.sha256");
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    if (dp_hashset_load_file(set, path, &err) != DP_OK)
        fail_msg("%s", err.msg);
    finalize_ok(set);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA256), lines);
    assert_int_equal(dp_hashset_unique(set, DP_ALGO_SHA256), distinct);
    for (uint32_t v = 0; v < lines - distinct; v += 997) {
        uint8_t d[32];
        dp_sha256_buf(d, &v, sizeof(v));
        const struct dp_hash_entry *e = NULL;
        assert_int_equal(dp_hashset_lookup(set, DP_ALGO_SHA256, d, &e), 2);
        assert_int_equal(e[0].line, v + 1);
        assert_int_equal(e[1].line, v + distinct + 1);
    }
    for (uint32_t v = lines - distinct; v < distinct; v += 9973) {
        uint8_t d[32];
        dp_sha256_buf(d, &v, sizeof(v));
        const struct dp_hash_entry *e = NULL;
        assert_int_equal(dp_hashset_lookup(set, DP_ALGO_SHA256, d, &e), 1);
        assert_int_equal(e->line, v + 1);
    }
    uint32_t v = distinct + 5;
    uint8_t d[32];
    dp_sha256_buf(d, &v, sizeof(v));
    assert_int_equal(dp_hashset_lookup(set, DP_ALGO_SHA256, d, NULL), 0);
    size_t n = 0;
    const struct dp_hash_entry *all = dp_hashset_entries(set, DP_ALGO_SHA256, &n);
    for (size_t i = 1; i < n; i++)
        assert_true(memcmp(all[i - 1].digest, all[i].digest, 32) <= 0);
    dp_hashset_free(set);
    free(text);
    free(path);
    tu_rm_rf(dir);
    free(dir);
}

/* ---- PDQ in lists: deprive's pdq:HEX[:QUALITY], ThreatExchange, the PDQ hasher's CSV ------- */

#define PDQ_2 "ae2e7af1f1bda1e0293c1a07fe6666fb9af08393dfcda2788dc4eb6672c80aaa"
#define PDQ_3 "3fb301eaa65988699578437b17adcfb69cfbfcbfa45f61a73d6255812506d8a6"
#define PDQ_4 "379027fe02035c4283bd80565db7627d256fdf05d363d6d6302ca522e1bf00f1"

/* The lists stage may not include the pdq module: its copy of the threshold must agree. */
_Static_assert(LIST_PDQ_MIN_QUALITY == DP_PDQ_MIN_QUALITY, "PDQ quality thresholds differ");

/* Entries whose digest is dp_pdq_parse of hex (the pdq module's reading of the text). */
static size_t look_pdq(const struct dp_hashset *set, const char *hex,
                       const struct dp_hash_entry **first)
{
    struct dp_pdq p;
    assert_true(dp_pdq_parse(hex, strlen(hex), &p));
    const struct dp_hash_entry *f = NULL;
    size_t n = dp_hashset_lookup(set, DP_ALGO_PDQ, p.b, &f);
    if (n > 0)
        assert_memory_equal(f->digest, p.b, DP_PDQ_BYTES);
    if (first != NULL)
        *first = f;
    return n;
}

/* Exactly one PDQ entry for hex, with this quality and line. */
static const struct dp_hash_entry *one_pdq(const struct dp_hashset *set, const char *hex,
                                           int quality, uint32_t line)
{
    const struct dp_hash_entry *e = NULL;
    if (look_pdq(set, hex, &e) != 1)
        fail_msg("expected one pdq entry for %s", hex);
    assert_int_equal(e->algo, DP_ALGO_PDQ);
    assert_int_equal(e->quality, quality);
    assert_int_equal(e->line, line);
    return e;
}

/* Load text alone and return the set (finalized) after checking its format. */
static struct dp_hashset *load_one(const char *name, const char *text, const char *format)
{
    struct dp_hashset *set = new_set();
    load_ok(set, name, text);
    finalize_ok(set);
    assert_string_equal(dp_hashset_source(set, 0)->format, format);
    return set;
}

static void test_deprive_pdq(void **state)
{
    (void)state;
    struct dp_hashset *set = load_one("dp.txt",
                                      "# deprive-hashes 1\n"
                                      "pdq:" PDQ_1 ":100 label=first\n"
                                      "PDQ:" PDQ_2 ":87 size:9 md5:" MD5_ABC "\n"
                                      "pdq:" PDQ_3 ":0\n"
                                      "pdq:" PDQ_4 ":049\n"
                                      "pdq:F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C"
                                      "4E9C9B22\n",
                                      "deprive");
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_int_equal(src->counts[DP_ALGO_PDQ], 5);
    assert_int_equal(src->low_quality, 2); /* 0 and 49 */
    assert_int_equal(src->unused, 0);
    assert_int_equal(src->withdrawn, 0);
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look_pdq(set, PDQ_1, &e), 2); /* upper-case hex is the same hash */
    assert_int_equal(e[0].line, 2);
    assert_int_equal(e[0].quality, 100);
    assert_string_equal(dp_hashset_label(set, &e[0]), "first");
    assert_int_equal(e[1].line, 6);
    assert_int_equal(e[1].quality, -1);
    assert_int_equal(one_pdq(set, PDQ_2, 87, 3)->size, 9);
    one_pdq(set, PDQ_3, 0, 4);
    one_pdq(set, PDQ_4, 49, 5);
    /* exact hashes never carry a quality */
    const struct dp_hash_entry *m = one(set, DP_ALGO_MD5, MD5_ABC);
    assert_int_equal(m->quality, -1);
    assert_int_equal(m->size, 9);
    dp_hashset_free(set);
}

static void test_deprive_pdq_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"pdq:" PDQ_1 ":50\npdq:" PDQ_2 ":101\n", DP_ERR_PARSE,
         "t.txt:2: bad pdq quality '101' (want 0..100)"},
        {"pdq:" PDQ_1 ":\n", DP_ERR_PARSE, "t.txt:1: bad pdq quality '' (want 0..100)"},
        {"pdq:" PDQ_1 ":-1\n", DP_ERR_PARSE, "t.txt:1: bad pdq quality '-1'"},
        {"pdq:" PDQ_1 ":0100\n", DP_ERR_PARSE, "t.txt:1: bad pdq quality '0100'"},
        {"pdq:" PDQ_1 ":5x\n", DP_ERR_PARSE, "t.txt:1: bad pdq quality '5x'"},
        {"pdq:" PDQ_1 ":5:6\n", DP_ERR_PARSE, "t.txt:1: bad pdq quality '5:6'"},
        {"md5:" MD5_ABC "\npdq:zz:50\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits: 'zz'"},
        {"pdq::50\n", DP_ERR_PARSE, "t.txt:1: pdq is not 64 hex digits: ''"},
        {"pdq:" PDQ_1 "0:50\n", DP_ERR_PARSE, "t.txt:1: pdq is not 64 hex digits"},
        /* only pdq takes a quality */
        {"md5:" MD5_ABC ":50\n", DP_ERR_PARSE, "t.txt:1: md5 is not 32 hex digits"},
        {"sha256:" SHA256_ABC ":50\n", DP_ERR_PARSE, "t.txt:1: sha256 is not 64 hex digits"},
        {"pdq:" PDQ_1 ":50 pdq:" PDQ_2 "\n", DP_ERR_PARSE, "t.txt:1: pdq given twice"},
    };
    RUN_BAD(cases);
}

/* Append "fmt" to a growing buffer. */
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...) DP_PRINTF(4, 5);
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    assert_true(k >= 0 && (size_t)k < cap - *len);
    *len += (size_t)k;
}

/* Write every entry of set back out as deprive lines (one per entry): the layout a writer
 * uses, with dp_pdq_hex for PDQ and the quality when there is one. */
static char *write_deprive(const struct dp_hashset *set)
{
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    put(out, cap, &len, "# deprive-hashes 1\n");
    for (int a = 0; a < DP_ALGO_COUNT; a++) {
        size_t n = 0;
        const struct dp_hash_entry *e = dp_hashset_entries(set, (enum dp_algo)a, &n);
        for (size_t i = 0; i < n; i++) {
            char hex[2 * DP_DIGEST_MAX + 1];
            if (a == DP_ALGO_PDQ) {
                struct dp_pdq p;
                memcpy(p.b, e[i].digest, DP_PDQ_BYTES);
                dp_pdq_hex(&p, hex);
            } else {
                dp_hex_encode(hex, e[i].digest, dp_algo_len((enum dp_algo)a));
            }
            put(out, cap, &len, "%s:%s", dp_algo_name((enum dp_algo)a), hex);
            if (e[i].quality >= 0)
                put(out, cap, &len, ":%d", e[i].quality);
            if (e[i].size >= 0)
                put(out, cap, &len, " size:%lld", (long long)e[i].size);
            const char *label = dp_hashset_label(set, &e[i]);
            if (label != NULL)
                put(out, cap, &len, " label=%s", label); /* test labels need no escapes */
            put(out, cap, &len, "\n");
        }
    }
    return out;
}

static void test_deprive_round_trip(void **state)
{
    (void)state;
    struct dp_hashset *a = load_one("a.txt",
                                    "pdq:" PDQ_1 ":93 size:1234 label=beach\n"
                                    "pdq:" PDQ_2 "\n"
                                    "pdq:" PDQ_3 ":12 label=flat one\n"
                                    "md5:" MD5_ABC " sha256:" SHA256_ABC " size:3\n"
                                    "sha1:" SHA1_HELLO "\n",
                                    "deprive");
    char *text = write_deprive(a);
    struct dp_hashset *b = load_one("b.txt", text, "deprive");
    char *again = write_deprive(b);
    assert_string_equal(text, again); /* a fixed point */
    for (int al = 0; al < DP_ALGO_COUNT; al++) {
        size_t na = 0, nb = 0;
        const struct dp_hash_entry *ea = dp_hashset_entries(a, (enum dp_algo)al, &na);
        const struct dp_hash_entry *eb = dp_hashset_entries(b, (enum dp_algo)al, &nb);
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_memory_equal(ea[i].digest, eb[i].digest, DP_DIGEST_MAX);
            assert_int_equal(ea[i].quality, eb[i].quality);
            assert_int_equal(ea[i].size, eb[i].size);
            const char *la = dp_hashset_label(a, &ea[i]), *lb = dp_hashset_label(b, &eb[i]);
            assert_true((la == NULL) == (lb == NULL));
            if (la != NULL)
                assert_string_equal(la, lb);
        }
    }
    assert_int_equal(dp_hashset_source(b, 0)->low_quality, 1);
    assert_int_equal(dp_hashset_count(b, DP_ALGO_PDQ), 3);
    free(text);
    free(again);
    dp_hashset_free(a);
    dp_hashset_free(b);
}

static void test_threatexchange_lines(void **state)
{
    (void)state;
    struct dp_hashset *set = load_one("te.txt",
                                      "# threatexchange hash photo *.jpg\n"
                                      "pdq " PDQ_1 "\n"
                                      "\n"
                                      "PDQ\t" PDQ_2 "\timg2.jpg tag:x 31\r\n"
                                      "  pdq   AE2E7AF1F1BDA1E0293C1A07FE6666FB9AF08393DFCDA27"
                                      "88DC4EB6672C80AAA\n"
                                      "video_md5 " MD5_HELLO " clip.mp4\n"
                                      "Video_MD5 " MD5_ABC,
                                      "threatexchange");
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_int_equal(src->counts[DP_ALGO_PDQ], 3);
    assert_int_equal(src->counts[DP_ALGO_MD5], 2);
    assert_int_equal(src->low_quality, 0);
    const struct dp_hash_entry *p1 = one_pdq(set, PDQ_1, -1, 2);
    assert_int_equal(p1->size, -1);
    assert_null(dp_hashset_label(set, p1)); /* trailing fields are not kept */
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look_pdq(set, PDQ_2, &e), 2);
    assert_int_equal(e[0].line, 4);
    assert_int_equal(e[0].quality, -1); /* "31" after the name is not a quality */
    assert_int_equal(e[0].label, 0);
    assert_int_equal(e[1].line, 5);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_HELLO)->line, 6);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->quality, -1);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA256), 0);
    dp_hashset_free(set);
}

static void test_threatexchange_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"pdq " PDQ_1 "\nurl https://example.org/x\n", DP_ERR_PARSE,
         "t.txt:2: unsupported signal type 'url' (want pdq or video_md5)"},
        {"pdq " PDQ_1 "\npdq zz\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits: 'zz'"},
        {"pdq " PDQ_1 "\npdq " PDQ_1 "0\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits"},
        {"pdq " PDQ_1 "\npdq " PDQ_1 ",87,x\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits"},
        {"pdq " PDQ_1 "\npdq " MD5_ABC "\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits"},
        {"pdq " PDQ_1 "\n\npdq\n", DP_ERR_PARSE, "t.txt:3: missing hash after 'pdq'"},
        {"pdq " PDQ_1 "\npdq \t\n", DP_ERR_PARSE, "t.txt:2: missing hash after 'pdq'"},
        {"video_md5 " MD5_ABC "\nvideo_md5 " SHA1_ABC "\n", DP_ERR_PARSE,
         "t.txt:2: video_md5 is not 32 hex digits"},
        {"pdq " PDQ_1 "\n" PDQ_2 "\n", DP_ERR_PARSE, "t.txt:2: unsupported signal type"},
        {"pdq " PDQ_1 "\npdq:" PDQ_2 "\n", DP_ERR_PARSE, "t.txt:2: unsupported signal type"},
    };
    RUN_BAD(cases);
}

static void test_pdqcsv_lines(void **state)
{
    (void)state;
    struct dp_hashset *set = load_one("h.csv",
                                      PDQ_1 ",100,/home/v/a.jpg\n"
                                      PDQ_2 ",49,/home/v/b, c, d.png\r\n"
                                      "# a comment\n"
                                      "\n"
                                      PDQ_3 ",50,\n"
                                      PDQ_4 ",0\n"
                                      "F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6"
                                      "B39C4E9C9B22,7,x",
                                      "pdq-csv");
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_int_equal(src->counts[DP_ALGO_PDQ], 5);
    assert_int_equal(src->low_quality, 3); /* 49, 0 and 7 */
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look_pdq(set, PDQ_1, &e), 2);
    assert_int_equal(e[0].quality, 100);
    assert_int_equal(e[0].line, 1);
    assert_int_equal(e[0].label, 0); /* names are never kept */
    assert_int_equal(e[0].size, -1);
    assert_int_equal(e[1].quality, 7);
    assert_int_equal(e[1].line, 7);
    one_pdq(set, PDQ_2, 49, 2);
    one_pdq(set, PDQ_3, 50, 5);
    one_pdq(set, PDQ_4, 0, 6);
    assert_int_equal(dp_hashset_count(set, DP_ALGO_SHA256), 0);
    dp_hashset_free(set);
}

static void test_pdqcsv_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {PDQ_1 ",87,a\n" PDQ_2 "\n", DP_ERR_PARSE,
         "t.txt:2: missing quality (expected 'hash,quality,name')"},
        {PDQ_1 ",87,a\n" PDQ_2 ",,b\n", DP_ERR_PARSE, "t.txt:2: missing quality"},
        {PDQ_1 ",87,a\n" PDQ_2 ",\n", DP_ERR_PARSE, "t.txt:2: missing quality"},
        {PDQ_1 ",87,a\n" PDQ_2 ",101,b\n", DP_ERR_PARSE,
         "t.txt:2: bad quality '101' (want 0..100)"},
        {PDQ_1 ",87,a\n" PDQ_2 ",-1,b\n", DP_ERR_PARSE, "t.txt:2: bad quality '-1'"},
        {PDQ_1 ",87,a\n" PDQ_2 ",b.jpg\n", DP_ERR_PARSE, "t.txt:2: bad quality 'b.jpg'"},
        {PDQ_1 ",87,a\n" PDQ_2 ", 87,b\n", DP_ERR_PARSE, "t.txt:2: bad quality ' 87'"},
        {PDQ_1 ",87,a\nzz,50,b\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits: 'zz'"},
        {PDQ_1 ",87,a\n" MD5_ABC ",50,b\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits"},
        {PDQ_1 ",87,a\n" PDQ_2 " ,50,b\n", DP_ERR_PARSE, "t.txt:2: pdq is not 64 hex digits"},
        {PDQ_1 ",87,a\n" SHA256_ABC "  name\n", DP_ERR_PARSE, "t.txt:2: missing quality"},
    };
    RUN_BAD(cases);
}

/* ---- StopNCII JSON ------------------------------------------------------------------------- */

#define REC(type, value, status)                                                                 \
    "{\"signalType\": \"" type "\", \"hashValue\": \"" value "\", \"hashStatus\": \"" status "\"}"

static void test_stopncii_fixture(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    if (dp_hashset_load_file(set, FIXTURE("stopncii.json"), &err) != DP_OK)
        fail_msg("%s", err.msg);
    finalize_ok(set);
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_string_equal(src->format, "stopncii");
    assert_int_equal(src->counts[DP_ALGO_PDQ], 2);
    assert_int_equal(src->counts[DP_ALGO_MD5], 1);
    assert_int_equal(src->counts[DP_ALGO_SHA256], 0);
    assert_int_equal(src->unused, 1);    /* VideoTMK */
    assert_int_equal(src->withdrawn, 1); /* record 5 */
    assert_int_equal(src->low_quality, 0);
    one_pdq(set, PDQ_1, -1, 1);
    one_pdq(set, PDQ_2, -1, 2);
    assert_int_equal(look_pdq(set, PDQ_4, NULL), 0);
    const struct dp_hash_entry *m = one(set, DP_ALGO_MD5, MD5_HELLO);
    assert_int_equal(m->line, 3);
    assert_int_equal(m->size, -1);
    assert_int_equal(m->quality, -1);
    assert_false(dp_hashset_sizes_complete(set));
    dp_hashset_free(set);
}

static void test_stopncii_shapes(void **state)
{
    (void)state;
    /* a bare array; field names and type values in any case; null hashStatus */
    struct dp_hashset *set = load_one(
        "a.json",
        "[{\"SIGNALTYPE\": \"imagepdq\", \"HashValue\": \"" PDQ_1 "\", \"hashstatus\": null},\n"
        " {\"signaltype\": \"VIDEOMD5\", \"hashvalue\": \"" MD5_ABC "\"},\n"
        " {\"signalType\": \"URL\", \"hashValue\": 5, \"hashStatus\": 7},\n"
        " {\"signalType\": \"Text\"}, {\"signalType\": \"Unknown\", \"hashValue\": null}]",
        "stopncii");
    const struct dp_hash_source *src = dp_hashset_source(set, 0);
    assert_int_equal(src->counts[DP_ALGO_PDQ], 1);
    assert_int_equal(src->counts[DP_ALGO_MD5], 1);
    assert_int_equal(src->unused, 3); /* unused records' other fields are not read */
    assert_int_equal(src->withdrawn, 0);
    one_pdq(set, PDQ_1, -1, 1);
    assert_int_equal(one(set, DP_ALGO_MD5, MD5_ABC)->line, 2);
    dp_hashset_free(set);

    /* the records array under each documented key, in any case; other members ignored */
    static const char *const keys[] = {"hashRecords", "HASHES", "records", "Data", "items"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char doc[512];
        snprintf(doc, sizeof(doc),
                 "{\"count\": 1, \"hasMoreRecords\": true, \"%s\": [" REC("ImagePDQ", PDQ_2,
                                                                          "Active") "]}",
                 keys[i]);
        set = load_one("k.json", doc, "stopncii");
        one_pdq(set, PDQ_2, -1, 1);
        dp_hashset_free(set);
    }

    /* withdrawal: a later Withdrawn/Deleted record removes the hash, a later Active one
     * brings it back; other hashes and types are unaffected */
    set = load_one("w.json",
                   "{\"hashRecords\": [" REC("ImagePDQ", PDQ_1, "Active") ","       /* 1 */
                   REC("ImagePDQ", PDQ_1, "Withdrawn") ","                           /* 2 */
                   REC("ImagePDQ", PDQ_2, "deleted") ","                             /* 3 */
                   REC("ImagePDQ", PDQ_2, "Received") ","                            /* 4 */
                   REC("ImagePDQ", PDQ_3, "Active") ","                              /* 5 */
                   REC("VideoMD5", MD5_ABC, "Withdrawn") ","                         /* 6 */
                   REC("ImagePDQ", PDQ_3, "Active") ","                              /* 7 */
                   REC("VideoTMK", "xyz", "Withdrawn") "]}",                         /* 8 */
                   "stopncii");
    src = dp_hashset_source(set, 0);
    assert_int_equal(look_pdq(set, PDQ_1, NULL), 0);
    one_pdq(set, PDQ_2, -1, 4);
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look_pdq(set, PDQ_3, &e), 2);
    assert_int_equal(e[0].line, 5);
    assert_int_equal(e[1].line, 7);
    assert_int_equal(look(set, DP_ALGO_MD5, MD5_ABC, NULL), 0);
    assert_int_equal(src->withdrawn, 4); /* records 1, 2, 3 and 6 */
    assert_int_equal(src->unused, 1);
    assert_int_equal(src->counts[DP_ALGO_PDQ], 3);
    dp_hashset_free(set);

    /* the same hash as PDQ and as (zero-padded) MD5 are different hashes */
    set = load_one("t.json",
                   "[" REC("VideoMD5", MD5_ABC, "Withdrawn") ","
                   REC("ImagePDQ", MD5_ABC "00000000000000000000000000000000", "Active") "]",
                   "stopncii");
    assert_int_equal(dp_hashset_count(set, DP_ALGO_PDQ), 1);
    dp_hashset_free(set);
}

static void test_stopncii_malformed(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"[{\"signalType\": \"ImagePDQ\", \"hashValue\": 5}]", DP_ERR_PARSE,
         "t.txt:1: hashValue is not a string"},
        {"[" REC("ImagePDQ", PDQ_1, "Active") ", {\"signalType\": \"ImagePDQ\", \"hashValue\": "
         "[\"" PDQ_2 "\"]}]",
         DP_ERR_PARSE, "t.txt:2: hashValue is not a string"},
        {"[" REC("ImagePDQ", PDQ_1, "Active") "," REC("ImagePDQ", MD5_ABC, "Active") "]",
         DP_ERR_PARSE, "t.txt:2: hashValue is not 64 hex digits: '" MD5_ABC "'"},
        {"[" REC("VideoMD5", PDQ_1, "Active") "]", DP_ERR_PARSE,
         "t.txt:1: hashValue is not 32 hex digits"},
        {"[" REC("ImagePDQ", "zz", "Withdrawn") "]", DP_ERR_PARSE,
         "t.txt:1: hashValue is not 64 hex digits: 'zz'"},
        {"[{\"hashValue\": \"" PDQ_1 "\"}]", DP_ERR_PARSE, "t.txt:1: record has no signalType"},
        {"[{\"signalType\": null, \"hashValue\": \"" PDQ_1 "\"}]", DP_ERR_PARSE,
         "t.txt:1: record has no signalType"},
        {"[{\"signalType\": 1, \"hashValue\": \"" PDQ_1 "\"}]", DP_ERR_PARSE,
         "t.txt:1: signalType is not a string"},
        {"[{\"signalType\": \"ImagePDQ\"}]", DP_ERR_PARSE, "t.txt:1: record has no hashValue"},
        {"[{\"signalType\": \"ImagePDQ\", \"hashValue\": \"" PDQ_1 "\", \"hashStatus\": 1}]",
         DP_ERR_PARSE, "t.txt:1: hashStatus is not a string"},
        {"[{\"signalType\": \"ImagePDQ\", \"SignalType\": \"URL\", \"hashValue\": \"" PDQ_1
         "\"}]",
         DP_ERR_PARSE, "t.txt:1: signalType given twice"},
        {"[{\"signalType\": \"ImagePDQ\", \"hashValue\": \"" PDQ_1 "\", \"HASHVALUE\": \"x\"}]",
         DP_ERR_PARSE, "t.txt:1: hashValue given twice"},
        {"[" REC("ImagePDQ", PDQ_1, "Active") ", 7]", DP_ERR_PARSE,
         "t.txt:2: record is not a JSON object"},
        {"{\"data\": [], \"items\": []}", DP_ERR_PARSE,
         "t.txt: more than one records array ('data' and 'items')"},
        {"{\"hashRecords\": {}}", DP_ERR_PARSE, "t.txt: 'hashRecords' is not an array"},
        {"{\"hashRecords\": [\n" REC("ImagePDQ", PDQ_1, "Active") ",\n]}", DP_ERR_PARSE,
         "t.txt:3: invalid JSON"},
        {"[" REC("ImagePDQ", PDQ_1, "Active") "," REC("ImagePDQ", PDQ_1, "Active") ", {\"a\": 1, "
         "\"a\": 2}]",
         DP_ERR_PARSE, "invalid JSON"},
        /* nothing usable: as empty as an empty list, with the counts */
        {"[" REC("VideoTMK", "abc", "Active") "]", DP_ERR_INVALID,
         "t.txt: no hashes in the list (records not loaded: 1 of unused signal types, 0 "
         "withdrawn)"},
        {"[" REC("ImagePDQ", PDQ_1, "Withdrawn") "," REC("URL", "x", "Active") "]",
         DP_ERR_INVALID, "t.txt: no hashes in the list (records not loaded: 1 of unused signal "
                         "types, 1 withdrawn)"},
        {"[]", DP_ERR_INVALID, "t.txt: no hashes in the list"},
        {"{\"hashRecords\": []}", DP_ERR_INVALID, "t.txt: no hashes in the list"},
    };
    RUN_BAD(cases);
}

/* Each format bids for its own lines and the old ones keep theirs. */
static void test_detect_pdq_formats(void **state)
{
    (void)state;
    static const struct {
        const char *text, *format;
    } cases[] = {
        {PDQ_1 "\n", "plain"}, /* 64 hex digits alone: SHA-256, never PDQ */
        {PDQ_1 "  name\n", "sha256sum"},
        {"pdq:" PDQ_1 "\n", "deprive"},
        {"pdq:" PDQ_1 ":50\n", "deprive"},
        {"pdq " PDQ_1 "\n", "threatexchange"},
        {"# c\n\n  PDQ\t" PDQ_1 " x\n", "threatexchange"},
        {"video_md5 " MD5_ABC "\n", "threatexchange"},
        {PDQ_1 ",50,name\n", "pdq-csv"},
        {PDQ_1 ",50\n", "pdq-csv"},
        {"[" REC("ImagePDQ", PDQ_1, "Active") "]", "stopncii"},
        {" \n[ \n" REC("ImagePDQ", PDQ_1, "Active") "]", "stopncii"},
        {"{\"count\": 1, \"nested\": {\"value\": 1}, \"hashRecords\": [" REC("ImagePDQ", PDQ_1,
                                                                          "Active") "]}",
         "stopncii"},
        {"{\"data\": [{\"MD5\": \"x\"}], \"value\": [{\"MD5\": \"" MD5_ABC "\"}]}", "vics"},
        {"{\"value\": [{\"MD5\": \"" MD5_ABC "\"}], \"items\": []}", "vics"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dp_hashset *set = load_one("d.txt", cases[i].text, cases[i].format);
        dp_hashset_free(set);
    }
    /* "PDQ (name) = hex" stays BSD, which refuses PDQ */
    expect_fail("PDQ (a) = " PDQ_1 "\n", strlen("PDQ (a) = " PDQ_1 "\n"), DP_ERR_PARSE,
                "t.txt:1: unsupported algorithm");
    /* shapes nobody claims */
    expect_fail("pdq\n", 4, DP_ERR_PARSE, "t.txt:1: not a recognised hash list line");
    expect_fail(PDQ_1 ",x,name\n", strlen(PDQ_1 ",x,name\n"), DP_ERR_PARSE,
                "t.txt:1: not a recognised");
    expect_fail(MD5_ABC ",50,name\n", strlen(MD5_ABC ",50,name\n"), DP_ERR_PARSE,
                "t.txt:1: not a recognised");
    expect_fail("[7]", 3, DP_ERR_PARSE, "t.txt:1: not a recognised");
}

static void test_pdq_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *file, *format;
        size_t md5, sha1, sha256, pdq, low, unused, withdrawn;
    } fx[] = {
        {"deprive-pdq.txt", "deprive", 1, 1, 1, 4, 1, 0, 0},
        {"threatexchange.txt", "threatexchange", 1, 0, 0, 2, 0, 0, 0},
        {"pdq-hasher.csv", "pdq-csv", 0, 0, 0, 3, 1, 0, 0},
        {"stopncii.json", "stopncii", 1, 0, 0, 2, 0, 1, 1},
    };
    struct dp_hashset *set = new_set();
    struct dp_error err = {0};
    size_t n = sizeof(fx) / sizeof(fx[0]);
    for (size_t i = 0; i < n; i++) {
        char *path = tu_path(DP_SOURCE_DIR "/fixtures/hashlists", fx[i].file);
        if (dp_hashset_load_file(set, path, &err) != DP_OK)
            fail_msg("%s: %s", path, err.msg);
        const struct dp_hash_source *src = dp_hashset_source(set, i);
        assert_string_equal(src->format, fx[i].format);
        assert_int_equal(src->counts[DP_ALGO_MD5], fx[i].md5);
        assert_int_equal(src->counts[DP_ALGO_SHA1], fx[i].sha1);
        assert_int_equal(src->counts[DP_ALGO_SHA256], fx[i].sha256);
        assert_int_equal(src->counts[DP_ALGO_PDQ], fx[i].pdq);
        assert_int_equal(src->low_quality, fx[i].low);
        assert_int_equal(src->unused, fx[i].unused);
        assert_int_equal(src->withdrawn, fx[i].withdrawn);
        char hex[65], want[65];
        assert_true(tu_sha256_hex(path, want));
        dp_hex_encode(hex, src->sha256, 32);
        assert_string_equal(hex, want);
        free(path);
    }
    finalize_ok(set);
    /* PDQ_1 is in all four: qualities 100 (deprive), -1, 100 (CSV), -1 */
    const struct dp_hash_entry *e = NULL;
    assert_int_equal(look_pdq(set, PDQ_1, &e), 4);
    assert_int_equal(e[0].source, 0);
    assert_int_equal(e[0].quality, 100);
    assert_string_equal(dp_hashset_label(set, &e[0]), "image 1");
    assert_int_equal(e[1].source, 1);
    assert_int_equal(e[1].quality, -1);
    assert_int_equal(e[2].source, 2);
    assert_int_equal(e[2].quality, 100);
    assert_int_equal(e[2].label, 0); /* the CSV's file name is not a label */
    assert_int_equal(e[3].source, 3);
    assert_int_equal(e[3].quality, -1);
    assert_int_equal(look_pdq(set, PDQ_3, &e), 2); /* the quality-42 image */
    assert_int_equal(e[0].quality, 42);
    assert_int_equal(e[1].quality, 42);
    assert_int_equal(look(set, DP_ALGO_MD5, MD5_HELLO, NULL), 3);
    dp_hashset_free(set);
}

/* The per-list counts reach the report's hash_lists[]; entries added directly have none. */
static void test_pdq_counts_reported(void **state)
{
    (void)state;
    struct dp_hashset *set = new_set();
    load_ok(set, "q.csv", PDQ_1 ",10,a\n" PDQ_2 ",90,b\n");
    load_ok(set, "s.json", "[" REC("ImagePDQ", PDQ_3, "Active") "," REC("URL", "u", "Active") ","
                           REC("ImagePDQ", PDQ_4, "Withdrawn") "]");
    struct dp_hash_entry add = {.algo = DP_ALGO_SHA256, .size = 3, .quality = 55};
    uint8_t sha[32] = {0};
    assert_true(dp_hex_decode(add.digest, 32, SHA256_ABC, 64));
    assert_int_equal(dp_hashset_add(set, "cert", "certificate", sha, &add, 1, NULL), DP_OK);
    finalize_ok(set);
    assert_int_equal(one(set, DP_ALGO_SHA256, SHA256_ABC)->quality, -1);
    assert_int_equal(dp_hashset_source(set, 2)->low_quality, 0);
    json_t *lists = dp_report_hash_lists(set);
    assert_non_null(lists);
    assert_int_equal(json_array_size(lists), 3);
    static const json_int_t want[3][3] = {{1, 0, 0}, {0, 1, 1}, {0, 0, 0}};
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_array_get(lists, i);
        assert_int_equal(json_integer_value(json_object_get(l, "low_quality")), want[i][0]);
        assert_int_equal(json_integer_value(json_object_get(l, "unused")), want[i][1]);
        assert_int_equal(json_integer_value(json_object_get(l, "withdrawn")), want[i][2]);
        assert_true(json_is_integer(json_object_get(l, "low_quality")));
        /* not among the per-algorithm counts (the certificate sums those) */
        assert_int_equal(json_object_size(json_object_get(l, "entries")), DP_ALGO_COUNT);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(lists, 1), "format")),
                        "stopncii");
    json_decref(lists);
    dp_hashset_free(set);
}

/* ---- the format table ---------------------------------------------------------------------- */

/* Every row has a name, a bid and a parse; the names are distinct and exactly the formats
 * docs/hashlists.md documents ("(format name `x`)"). */
static void test_format_table(void **state)
{
    (void)state;
    char *doc = NULL;
    size_t len = 0, rows = 0, documented = 0;
    struct dp_error err = {0};
    assert_int_equal(dp_read_file(DP_SOURCE_DIR "/docs/hashlists.md", 1 << 20, &doc, &len, &err),
                     DP_OK);
    for (const struct list_format *const *f = list_formats; *f != NULL; f++, rows++) {
        assert_non_null((*f)->name);
        assert_non_null((*f)->bid);
        assert_non_null((*f)->parse);
        for (const struct list_format *const *g = list_formats; g < f; g++)
            assert_string_not_equal((*g)->name, (*f)->name);
        char tag[64];
        snprintf(tag, sizeof(tag), "(format name `%s`)", (*f)->name);
        if (strstr(doc, tag) == NULL)
            fail_msg("format '%s' is not documented in docs/hashlists.md", (*f)->name);
    }
    for (const char *p = doc; (p = strstr(p, "(format name `")) != NULL; p++)
        documented++;
    assert_int_equal(rows, documented);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_algo_helpers),
        cmocka_unit_test(test_sum_lines),
        cmocka_unit_test(test_sum_malformed),
        cmocka_unit_test(test_bsd_lines),
        cmocka_unit_test(test_bsd_malformed),
        cmocka_unit_test(test_hashdeep_columns),
        cmocka_unit_test(test_hashdeep_malformed),
        cmocka_unit_test(test_plain_lengths),
        cmocka_unit_test(test_plain_malformed),
        cmocka_unit_test(test_deprive_format),
        cmocka_unit_test(test_deprive_malformed),
        cmocka_unit_test(test_vics_flat),
        cmocka_unit_test(test_vics_nested),
        cmocka_unit_test(test_vics_malformed),
        cmocka_unit_test(test_empty_lists),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_duplicates_two_lists),
        cmocka_unit_test(test_size_filter),
        cmocka_unit_test(test_failure_leaves_set_unchanged),
        cmocka_unit_test(test_lookup_missing),
        cmocka_unit_test(test_entries_sorted),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_bad_fixture),
        cmocka_unit_test(test_large_list),
        cmocka_unit_test(test_format_table),
        cmocka_unit_test(test_deprive_pdq),
        cmocka_unit_test(test_deprive_pdq_malformed),
        cmocka_unit_test(test_deprive_round_trip),
        cmocka_unit_test(test_threatexchange_lines),
        cmocka_unit_test(test_threatexchange_malformed),
        cmocka_unit_test(test_pdqcsv_lines),
        cmocka_unit_test(test_pdqcsv_malformed),
        cmocka_unit_test(test_stopncii_fixture),
        cmocka_unit_test(test_stopncii_shapes),
        cmocka_unit_test(test_stopncii_malformed),
        cmocka_unit_test(test_detect_pdq_formats),
        cmocka_unit_test(test_pdq_fixtures),
        cmocka_unit_test(test_pdq_counts_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
