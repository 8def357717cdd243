/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive sweep: read a block device, a raw image or an EWF (E01) set from start to end,
 * read-only, and report every contiguous image stream on it matching the hash lists - deleted
 * copies in unallocated space among them. Never writes to the source. */
#include "cli.h"

#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/source.h"
#include "deprive/sweep.h"

static void sweep_usage(FILE *f)
{
    fprintf(f,
            "usage: deprive sweep --hashes LIST [--hashes LIST...] [--json] [-o REPORT.json]\n"
            "                     DEVICE|IMAGE|IMAGE.E01\n"
            "\n"
            "Read a block device, a raw image file or an EWF (E01) evidence set from its first\n"
            "byte to its last, read-only, and report every JPEG, PNG, GIF, WebP or BMP stream on\n"
            "it that matches a hash list: live files and deleted copies in unallocated space\n"
            "alike. Contiguous streams only. The source is never opened for writing; an EWF\n"
            "set's stored MD5/SHA-1 are compared with its media as read.\n"
            "\n"
            "  -H, --hashes LIST   hash list (as for scan); repeatable\n"
            "  -o, --output FILE   write the JSON sweep report to FILE\n"
            "  -j, --jobs N        threads matching the streams found (default: one per CPU;\n"
            "                      the source is read on one)\n"
            "      --json          print the JSON report on stdout instead of the summary\n"
            "      --pdq-threshold N, --no-dihedral, --pdq-exact, --max-pixels N,\n"
            "      --max-image-bytes SIZE   perceptual matching, as for scan\n"
            "  -h, --help          this help\n"
            "\nExit status: 0 sweep completed (with or without matches), 2 error.\n");
}

static void print_sweep(FILE *f, const json_t *doc)
{
    const json_t *src = json_object_get(doc, "source"), *t = json_object_get(doc, "totals");
    char a[32], b[32];
    fprintf(f, "source: %s (%s, %s)\n", cli_text(json_string_value(json_object_get(src, "path"))),
            json_string_value(json_object_get(src, "kind")),
            cli_human_bytes(a, sizeof(a),
                            (unsigned long long)json_integer_value(json_object_get(src, "size"))));
    const json_t *ewf = json_object_get(src, "ewf");
    if (ewf != NULL) {
        const json_t *v = json_object_get(ewf, "hashes_verified");
        json_int_t bad = json_integer_value(json_object_get(src, "ewf_checksum_errors"));
        fprintf(f, "ewf: %lld segment(s), stored hashes %s\n",
                (long long)json_integer_value(json_object_get(ewf, "segments")),
                json_is_null(v)    ? "absent"
                : json_is_true(v) ? "verified"
                : bad > 0          ? "NOT verified: the set is damaged"
                                   : "DO NOT MATCH the media");
        if (bad > 0)
            fprintf(f, "DAMAGED: %lld chunk(s) failed their checksums (%s); libewf hands such a "
                       "chunk over as zeros, so what was in it was not swept\n",
                    (long long)bad,
                    cli_text(json_string_value(json_object_get(src, "ewf_damage"))
                                 ? json_string_value(json_object_get(src, "ewf_damage"))
                                 : "?"));
    }
    fprintf(f, "swept: %s; %lld candidate(s), %lld stream(s) carved (%s), %lld decoded\n",
            cli_human_bytes(a, sizeof(a), (unsigned long long)json_integer_value(
                                              json_object_get(t, "bytes_swept"))),
            (long long)json_integer_value(json_object_get(t, "candidates")),
            (long long)json_integer_value(json_object_get(t, "streams")),
            cli_human_bytes(b, sizeof(b), (unsigned long long)json_integer_value(
                                              json_object_get(t, "stream_bytes"))),
            (long long)json_integer_value(json_object_get(t, "decoded")));
    if (json_is_true(json_object_get(t, "limited")))
        fprintf(f, "LIMIT: %s\n", json_string_value(json_object_get(t, "limit_detail")));
    const json_t *ms = json_object_get(doc, "matches");
    fprintf(f, "matches: %zu\n", json_array_size(ms));
    size_t i;
    const json_t *m;
    json_array_foreach(ms, i, m) {
        const json_t *e = json_object_get(m, "embedded"), *m0 = json_array_get(json_object_get(m, "matched"), 0);
        fprintf(f, "%-4s %s %s at byte %lld, %lld bytes  (%s, %s %s:%lld%s)\n",
                json_string_value(json_object_get(m, "id")),
                json_is_true(json_object_get(m, "perceptual_only"))
                    ? "PERCEPTUAL MATCH (needs confirmation)"
                    : "MATCH",
                json_string_value(json_object_get(e, "kind")),
                (long long)json_integer_value(json_object_get(e, "offset")),
                (long long)json_integer_value(json_object_get(e, "length")),
                cli_text(json_string_value(json_object_get(m, "mime"))),
                json_string_value(json_object_get(m0, "algo")),
                cli_text(json_string_value(json_object_get(m0, "list"))),
                (long long)json_integer_value(json_object_get(m0, "line")),
                json_array_size(json_object_get(m, "matched")) > 1 ? ", ..." : "");
    }
}

/* The report must not land on the evidence: not on one of the source's files (an image, a
 * segment of an EWF set), not over a device node, not on a filesystem of the block device
 * being swept. */
static bool output_ok(const char *cmd, const char *out, const struct dp_source *src)
{
    struct stat o, d;
    if (stat(out, &o) == 0) {
        if (!S_ISREG(o.st_mode)) {
            cli_usage_error(cmd, "'%s' exists and is not a regular file: not written over",
                            out);
            return false;
        }
        for (size_t i = 0; i < dp_source_file_count(src); i++) {
            struct stat f;
            if (stat(dp_source_file(src, i), &f) == 0 && f.st_dev == o.st_dev &&
                f.st_ino == o.st_ino) {
                cli_usage_error(cmd, "'%s' is the evidence being swept: the report is never "
                                     "written over it", out);
                return false;
            }
        }
    }
    char *copy = strdup(out);
    bool ok = copy != NULL && stat(dirname(copy), &d) == 0;
    free(copy);
    const struct dp_source_info *in = dp_source_info(src);
    if (ok && in->kind == DP_SOURCE_BLOCK_DEVICE && major(d.st_dev) == in->dev_major &&
        minor(d.st_dev) == in->dev_minor) {
        cli_usage_error(cmd, "'%s' is on the device being swept: write the report elsewhere",
                        out);
        return false;
    }
    return true;
}

int cmd_sweep(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct cli_opts o;
    cli_opts_init(&o, CLI_OPTS_HASHES | CLI_OPTS_OUTPUT | CLI_OPTS_JSON | CLI_OPTS_PDQ |
                          CLI_OPTS_JOBS);
    int rc = DP_EXIT_ERROR, c;
    struct dp_hashset *set = NULL;
    struct dp_source *src = NULL;
    struct dp_sweep_result *res = NULL;
    json_t *doc = NULL;
    while ((c = cli_getopt(&o, argc, argv, "h", own)) != -1) {
        switch (c) {
        case 'h': sweep_usage(stdout); rc = DP_EXIT_OK; goto out;
        case CLI_GETOPT_REFUSED: goto out;
        default: rc = cli_usage_error(o.cmd, "bad option"); goto out;
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage_error(o.cmd, "exactly one DEVICE, IMAGE or E01 set is needed");
        goto out;
    }
    if (o.lists.count == 0) {
        rc = cli_usage_error(o.cmd, "at least one --hashes LIST is needed");
        goto out;
    }
    if (!cli_load_hashes(o.lists.items, o.lists.count, &set))
        goto out;
    struct dp_error err = {0};
    const struct dp_sweep_opts so = {.match = &o.scan, .jobs = o.scan.jobs,
                                     .progress = cli_want_progress() ? cli_sweep_progress : NULL};
    /* the page cache dropped after each read: what the sweep sees is what the device holds */
    if (dp_source_open(&src, argv[optind], DP_SOURCE_DROP_CACHE, &err) != DP_OK) {
        cli_dp_err(&err);
        goto out;
    }
    if (o.output != NULL && !output_ok(o.cmd, o.output, src)) {
        rc = DP_EXIT_ERROR;
        goto out;
    }
    if (dp_sweep_run(set, src, argv[optind], &so, &res, &err) != DP_OK ||
        dp_sweep_report_build(res, set, &doc, &err) != DP_OK ||
        (o.output != NULL && dp_json_write_file(doc, o.output, &err) != DP_OK)) {
        cli_dp_err(&err);
        goto out;
    }
    if (o.json) {
        char *s = dp_json_dump(doc);
        if (s != NULL)
            fputs(s, stdout);
        free(s);
    } else if (!cli_quiet) {
        print_sweep(stdout, doc);
    }
    if (o.output != NULL)
        cli_info("report written to '%s'", o.output);
    rc = DP_EXIT_OK;
out:
    json_decref(doc);
    dp_sweep_result_free(res);
    dp_source_free(src);
    dp_hashset_free(set);
    cli_opts_release(&o);
    return rc;
}
