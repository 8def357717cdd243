/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive scan: find files matching hash lists; the report it writes is the wipe plan. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/hashset.h"
#include "deprive/report.h"
#include "deprive/scan.h"

static void scan_usage(FILE *f)
{
    fprintf(f,
            "usage: deprive scan --hashes LIST [--hashes LIST...] [--json] [-o REPORT.json]\n"
            "                    [--jobs N] [--cross-mounts] [--max-file-size SIZE] ROOT\n"
            "\n"
            "Walk ROOT (a mounted filesystem, read-only) and report every file whose MD5,\n"
            "SHA-1 or SHA-256 is in a hash list. Nothing on the device is changed.\n"
            "\n"
            "  -H, --hashes LIST   hash list (sha256sum/md5sum, BSD, hashdeep, plain hex,\n"
            "                      deprive, VICS JSON); repeatable\n"
            "  -o, --output FILE   write the JSON report (the wipe plan) to FILE\n"
            "      --json          print the JSON report on stdout instead of the summary\n"
            "  -j, --jobs N        worker threads (default: one per online CPU)\n"
            "      --cross-mounts  descend into other mounts below ROOT\n"
            "      --max-file-size SIZE\n"
            "                      do not read files larger than SIZE (bytes, or K, M, G, T:\n"
            "                      1K = 1024); they are reported as not examined, too-large.\n"
            "                      Default: larger than their whole filesystem (sparse)\n"
            "  -h, --help          this help\n"
            "\nExit status: 0 scan completed (with or without findings), 2 error.\n");
}

/* Shared by scan, run and audit: parse --jobs. */
static bool parse_jobs(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 256)
        return false;
    *out = (unsigned)v;
    return true;
}

int cmd_scan(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"hashes", required_argument, NULL, 'H'}, {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'J'},         {"jobs", required_argument, NULL, 'j'},
        {"cross-mounts", no_argument, NULL, 'X'}, {"help", no_argument, NULL, 'h'},
        {"max-file-size", required_argument, NULL, 'M'}, {NULL, 0, NULL, 0},
    };
    char **lists = calloc((size_t)argc, sizeof(char *));
    size_t nlists = 0;
    const char *output = NULL;
    bool json = false;
    struct dp_scan_opts opts = {0};
    int rc = DP_EXIT_ERROR, c;
    struct dp_hashset *set = NULL;
    struct dp_scan_result *res = NULL;
    json_t *doc = NULL;
    if (lists == NULL)
        return DP_EXIT_ERROR;
    while ((c = getopt_long(argc, argv, "H:o:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': lists[nlists++] = optarg; break;
        case 'o': output = optarg; break;
        case 'J': json = true; break;
        case 'j':
            if (!parse_jobs(optarg, &opts.jobs)) {
                rc = cli_usage_error("scan", "--jobs takes a number from 1 to 256");
                goto out;
            }
            break;
        case 'X': opts.cross_mounts = true; break;
        case 'M':
            if (!cli_max_file_size_option("scan", optarg, &opts.max_file_size))
                goto out;
            break;
        case 'h': scan_usage(stdout); rc = DP_EXIT_OK; goto out;
        default: rc = cli_usage_error("scan", "bad option"); goto out;
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage_error("scan", "exactly one ROOT directory is needed");
        goto out;
    }
    if (nlists == 0) {
        rc = cli_usage_error("scan", "at least one --hashes LIST is needed");
        goto out;
    }
    if (!cli_load_hashes(lists, nlists, &set))
        goto out;
    if (cli_want_progress())
        opts.progress = cli_scan_progress;
    struct dp_error err = {0};
    if (dp_scan_run(set, argv[optind], &opts, &res, &err) != DP_OK ||
        dp_report_build(res, set, &doc, &err) != DP_OK ||
        (output != NULL && dp_json_write_file(doc, output, &err) != DP_OK)) {
        cli_dp_err(&err);
        goto out;
    }
    if (json) {
        char *s = dp_json_dump(doc);
        if (s != NULL)
            fputs(s, stdout);
        free(s);
    } else if (!cli_quiet) {
        cli_print_scan(stdout, res, set);
    }
    if (output != NULL)
        cli_info("report written to '%s'", output);
    rc = DP_EXIT_OK;
out:
    json_decref(doc);
    dp_scan_result_free(res);
    dp_hashset_free(set);
    free(lists);
    return rc;
}
