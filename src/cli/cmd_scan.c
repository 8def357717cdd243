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
            "\nPerceptual matching (when the lists hold PDQ hashes; images found by content):\n"
            "      --pdq-threshold N  match within Hamming distance N (0..64, default 31)\n"
            "      --no-dihedral   compare the plain hash only, not rotations and mirror images\n"
            "      --pdq-exact     always decode in full (default: JPEG at a reduced scale\n"
            "                      first; the full decode decides every near match anyway)\n"
            "      --max-pixels N  do not decode images declaring more pixels (default 100000000)\n"
            "      --max-image-bytes SIZE\n"
            "                      do not hold or decode larger images (default 256M)\n"
            "\nArchives (zip, tar and compressed tar, 7z, rar, cpio, ISO 9660, .gz/.xz/.bz2/.zst;\n"
            "found by content) are read member by member, nested ones followed:\n"
            "      --no-archives   examine files only, never their members\n"
            "      --archive-max-depth N    nesting levels opened (1..31, default 8)\n"
            "      --archive-max-bytes SIZE bytes expanded per archive (default 64G)\n"
            "      --archive-max-ratio N    expanded / archive size before it counts as a\n"
            "                               bomb (default 200, once past 64 MiB)\n"
            "      --archive-max-members N  members per archive (default 1000000)\n"
            "      --archive-password-file F  passwords for encrypted members, one a line\n"
            "\nEmbedded images (JPEG, PNG, GIF, WebP, BMP streams inside any file read: thumbnail\n"
            "caches, databases, documents, EXIF thumbnails) are carved and matched the same way;\n"
            "every byte of every file is then read:\n"
            "      --no-carve      whole files only (files of sizes no exact entry has are then\n"
            "                      not read, unless images or archives)\n"
            "\nDeleted copies: after the walk, the device ROOT is mounted from is read from start\n"
            "to end, read-only, for the same streams; a match no live file with a finding holds is\n"
            "reported as a remnant at its device offset (ROOT must be the mount's root):\n"
            "      --sweep         sweep the device under ROOT's mount\n"
            "      --device DEV    the device or image ROOT is mounted from, where the mount\n"
            "                      does not name one (FUSE drivers such as fusefat)\n"
            "  -h, --help          this help\n"
            "\nExit status: 0 scan completed (with or without findings), 2 error.\n");
}

int cmd_scan(int argc, char **argv)
{
    static const struct option own[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    struct cli_opts o;
    cli_opts_init(&o, CLI_OPTS_HASHES | CLI_OPTS_OUTPUT | CLI_OPTS_JSON | CLI_OPTS_JOBS |
                          CLI_OPTS_CROSS_MOUNTS | CLI_OPTS_LIMITS | CLI_OPTS_PDQ | CLI_OPTS_SWEEP);
    int rc = DP_EXIT_ERROR, c;
    struct dp_hashset *set = NULL;
    struct dp_scan_result *res = NULL;
    json_t *doc = NULL;
    while ((c = cli_getopt(&o, argc, argv, "h", own)) != -1) {
        switch (c) {
        case 'h': scan_usage(stdout); rc = DP_EXIT_OK; goto out;
        case CLI_GETOPT_REFUSED: goto out;
        default: rc = cli_usage_error(o.cmd, "bad option"); goto out;
        }
    }
    if (optind != argc - 1) {
        rc = cli_usage_error(o.cmd, "exactly one ROOT directory is needed");
        goto out;
    }
    if (o.lists.count == 0) {
        rc = cli_usage_error(o.cmd, "at least one --hashes LIST is needed");
        goto out;
    }
    if (!cli_load_hashes(o.lists.items, o.lists.count, &set))
        goto out;
    if (cli_want_progress()) {
        o.scan.progress = cli_scan_progress;
        o.scan.sweep_progress = cli_sweep_progress;
    }
    struct dp_error err = {0};
    if (dp_scan_run(set, argv[optind], &o.scan, &res, &err) != DP_OK ||
        dp_report_build(res, set, &doc, &err) != DP_OK ||
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
        cli_print_scan(stdout, res, set);
    }
    if (o.output != NULL)
        cli_info("report written to '%s'", o.output);
    rc = DP_EXIT_OK;
out:
    json_decref(doc);
    dp_scan_result_free(res);
    dp_hashset_free(set);
    cli_opts_release(&o);
    return rc;
}
