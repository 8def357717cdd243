/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive hash: the victim side - make a hash list from image files; the images never leave
 * the victim's device, only these lines do. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deprive/digest.h"
#include "deprive/fingerprint.h"
#include "deprive/util.h"

static void hash_usage(FILE *f)
{
    fprintf(f, "usage: deprive hash [--label TEXT] [--no-size] FILE...\n"
               "\n"
               "Print one line per FILE in deprive's hash-list format (docs/hashlists.md):\n"
               "  md5:<hex> sha1:<hex> sha256:<hex> size:<bytes> [pdq:<hex>:<quality>] [label=<text>]\n"
               "Images (JPEG, PNG, ... by content) also get their PDQ hash and quality from a\n"
               "full decode, as Meta's reference computes them.\n"
               "Give the output, not the images, to whoever executes the order. File names\n"
               "are not written (they may identify people).\n"
               "\n"
               "  -l, --label TEXT  add label=TEXT to every line (one line of printable text;\n"
               "                    %% is written as %%25)\n"
               "      --no-size     leave out size: (disables the scanner's size filter)\n"
               "  -h, --help        this help\n"
               "\nExit status: 0 every file hashed, 2 error.\n");
}

static bool label_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

int cmd_hash(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"label", required_argument, NULL, 'l'}, {"no-size", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *label = NULL;
    bool size = true;
    int c;
    while ((c = getopt_long(argc, argv, "l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'l': label = optarg; break;
        case 'S': size = false; break;
        case 'h': hash_usage(stdout); return DP_EXIT_OK;
        default: return cli_usage_error("hash", "bad option");
        }
    }
    if (optind >= argc)
        return cli_usage_error("hash", "at least one FILE is needed");
    if (label != NULL && !label_ok(label))
        return cli_usage_error("hash", "--label must be printable text without control characters");
    struct dp_error err = {0};
    int rc = DP_EXIT_OK;
    printf("# deprive-hashes 1\n");
    for (int i = optind; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
        struct stat sb;
        struct dp_fingerprint fp;
        if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            cli_err("cannot hash '%s': %s", argv[i], fd < 0 ? strerror(errno) : "not a regular file");
            rc = DP_EXIT_ERROR;
            if (fd >= 0)
                close(fd);
            continue;
        }
        enum dp_status st = dp_fingerprint_fd(fd, 0, NULL, &fp, &err);
        close(fd);
        if (st != DP_OK) {
            cli_err("cannot read '%s': %s", argv[i], err.msg);
            rc = DP_EXIT_ERROR;
            continue;
        }
        if (fp.pdq_error[0] != '\0') /* hashed exactly, but no perceptual hash */
            cli_err("warning: '%s': %s image without a PDQ hash: %s", argv[i],
                    dp_image_format_name(fp.format), fp.pdq_error);
        char *line = dp_fingerprint_line(&fp, size, label);
        if (line == NULL) {
            cli_err("out of memory");
            return DP_EXIT_ERROR;
        }
        printf("%s\n", line);
        free(line);
    }
    return rc;
}
