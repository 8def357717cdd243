/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive fuzzing: a hash list from a third party - format detection and every parser
 * (dp_hashset_load_buffer), then what the scan does with a loaded list: finalize, look-ups,
 * the size filter, labels, and the PDQ index built from its PDQ entries.
 *
 * Built twice (fuzz/meson.build): fuzz_hashlist takes the input as the list, detection and
 * all; fuzz_hashlist_format (FUZZ_FORCE_FORMAT) reads the first byte as a format number and
 * puts in front of the rest a start that makes detection choose that format, so each parser
 * gets the mutations in full (the public API has no way to name a format). */
#include "fuzz_common.h"

#include <stdlib.h>
#include <string.h>

#include "deprive/hashset.h"
#include "deprive/pdq.h"
#include "deprive/pdq_index.h"

#ifdef FUZZ_FORCE_FORMAT
/* What each format's detection keys on (docs/hashlists.md, "Detection"): a JSON object's
 * records member, a header, or a first meaningful line of the format's shape. */
static const char *const starts[] = {
    "{\"hashRecords\": [",                                           /* stopncii */
    "{\"value\": [",                                                 /* vics */
    "%%%% HASHDEEP-1.0\n",                                           /* hashdeep */
    "# deprive-hashes 1\n",                                          /* deprive */
    "d41d8cd98f00b204e9800998ecf8427e\n",                            /* plain */
    "d41d8cd98f00b204e9800998ecf8427e  a\n",                         /* sha256sum */
    "MD5 (a) = d41d8cd98f00b204e9800998ecf8427e\n",                  /* bsd */
    "video_md5 d41d8cd98f00b204e9800998ecf8427e\n",                  /* threatexchange */
    "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,100,a\n", /* pdq-csv */
};
#define NSTARTS (sizeof(starts) / sizeof(starts[0]))
#endif

static void use(const struct dp_hashset *set)
{
    static const uint8_t probe[DP_DIGEST_MAX] = {0xd4, 0x1d, 0x8c, 0xd9};
    for (int a = 0; a < DP_ALGO_COUNT; a++) {
        size_t n = 0;
        const struct dp_hash_entry *e = dp_hashset_entries(set, (enum dp_algo)a, &n);
        (void)dp_hashset_unique(set, (enum dp_algo)a);
        if (n > 0) {
            const struct dp_hash_entry *first = NULL;
            size_t k = dp_hashset_lookup(set, (enum dp_algo)a, e[n - 1].digest, &first);
            if (k == 0 || first == NULL) /* an entry must find itself */
                abort();
            for (size_t i = 0; i < k; i++)
                (void)dp_hashset_label(set, &first[i]);
        }
        (void)dp_hashset_lookup(set, (enum dp_algo)a, probe, &(const struct dp_hash_entry *){0});
    }
    if (dp_hashset_sizes_complete(set))
        (void)dp_hashset_size_wanted(set, 3);
    for (size_t i = 0; i < dp_hashset_source_count(set); i++)
        (void)dp_hashset_source(set, i)->format;
    struct dp_pdq_index *idx = NULL;
    if (dp_pdq_index_from_hashset(&idx, set, NULL) == DP_OK && idx != NULL) {
        size_t n = 0;
        const struct dp_hash_entry *e = dp_hashset_entries(set, DP_ALGO_PDQ, &n);
        struct dp_pdq q;
        memset(&q, 0x5a, sizeof(q));
        if (n > 0)
            memcpy(q.b, e[0].digest, sizeof(q.b));
        struct dp_pdq_match m[4];
        size_t found = dp_pdq_index_query_array(idx, m, 4, &q, DP_PDQ_THRESHOLD);
        if (n > 0 && (found == 0 || m[0].distance != 0)) /* a target finds itself */
            abort();
        dp_pdq_index_free(idx);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t len = size;
    char *owned = NULL;
#ifdef FUZZ_FORCE_FORMAT
    if (size < 1)
        return 0;
    const char *start = starts[data[0] % NSTARTS];
    size_t sl = strlen(start);
    owned = malloc(sl + size - 1 + 1);
    if (owned == NULL)
        return 0;
    memcpy(owned, start, sl);
    memcpy(owned + sl, data + 1, size - 1);
    buf = owned;
    len = sl + size - 1;
#endif
    struct dp_hashset *set = NULL;
    struct dp_error err = {0};
    if (dp_hashset_new(&set, NULL) != DP_OK)
        abort();
    enum dp_status st = dp_hashset_load_buffer(set, "fuzz", buf, len, &err);
    if (st != DP_OK && err.msg[0] == '\0') /* every failure says why */
        abort();
    /* a second list merged into the first, as several -hashes options are */
    if (st == DP_OK)
        (void)dp_hashset_load_buffer(set, "fuzz2", buf, len, NULL);
    if (dp_hashset_finalize(set, NULL) == DP_OK)
        use(set);
    dp_hashset_free(set);
    free(owned);
    return 0;
}
