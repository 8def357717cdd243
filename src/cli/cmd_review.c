/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive review: a contact sheet (PDF) of a plan's perceptual-only candidates, for the
 * examiner's decision before anything found only perceptually is erased. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "deprive/review.h"

static void review_usage(FILE *f)
{
    fputs("usage: deprive review -o SHEET.pdf [--all] [--finding ID]... [--allow-on-device]\n"
          "                      [--max-image-bytes SIZE] [--max-pixels N] PLAN.json\n"
          "\n"
          "Render a contact sheet (A4 PDF) of the plan's perceptual-only findings - files\n"
          "that only a PDQ hash matched - so an examiner can decide from the image whether\n"
          "each is the victim's before it is erased. Each file is opened read-only beneath\n"
          "the plan's root (no symbolic link followed, no other mount entered unless the\n"
          "scan crossed mounts, access times untouched) and checked against the plan; a\n"
          "file that changed or cannot be read gets a tile saying why instead of a\n"
          "thumbnail. Nothing on the device is changed.\n"
          "\n"
          "The sheet holds images from the case: it is written only to -o FILE, created\n"
          "new with mode 0600 (an existing file is never replaced), and not on the\n"
          "filesystem being reviewed.\n"
          "\n"
          "  -o, --output FILE     write the sheet to FILE (required; must not exist)\n"
          "      --all             every finding, not only the perceptual-only ones\n"
          "      --finding ID      only this finding (F1, F2, ... as in the plan); repeatable\n"
          "      --allow-on-device write the sheet even on the filesystem being reviewed\n"
          "                        (its thumbnails are then on the seized device)\n"
          "      --max-image-bytes SIZE\n"
          "                        do not read or decode larger files (default 256M)\n"
          "      --max-pixels N    do not decode images declaring more pixels\n"
          "                        (default 100000000)\n"
          "  -h, --help            this help\n"
          "\n"
          "Exit status: 0 sheet written; 1 no candidate to show (nothing written);\n"
          "2 error or usage.\n",
          f);
}

enum { OPT_ALL = 256, OPT_FINDING, OPT_ALLOW, OPT_MAX_BYTES, OPT_MAX_PIXELS };

static const struct option longopts[] = {
    {"all", no_argument, NULL, OPT_ALL},
    {"finding", required_argument, NULL, OPT_FINDING},
    {"allow-on-device", no_argument, NULL, OPT_ALLOW},
    {"max-image-bytes", required_argument, NULL, OPT_MAX_BYTES},
    {"max-pixels", required_argument, NULL, OPT_MAX_PIXELS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Options into ropts; -1 to go on, else the exit status. ids: argc slots. */
static int parse(struct cli_opts *o, int argc, char **argv, struct dp_review_opts *ropts,
                 const char **ids)
{
    int c;
    while ((c = cli_getopt(o, argc, argv, "h", longopts)) != -1) {
        switch (c) {
        case OPT_ALL:
            ropts->all = true;
            break;
        case OPT_FINDING:
            ids[ropts->nfindings++] = optarg;
            break;
        case OPT_ALLOW:
            ropts->allow_on_device = true;
            break;
        case OPT_MAX_BYTES:
            if (!cli_parse_size_arg(o->cmd, "--max-image-bytes", optarg, &ropts->max_image_bytes))
                return DP_EXIT_ERROR;
            break;
        case OPT_MAX_PIXELS:
            if (!cli_parse_count(o->cmd, "--max-pixels", optarg, 1, UINT64_MAX, &ropts->max_pixels))
                return DP_EXIT_ERROR;
            break;
        case 'h':
            review_usage(stdout);
            return DP_EXIT_OK;
        case CLI_GETOPT_REFUSED:
            return DP_EXIT_ERROR;
        default:
            return cli_usage_error(o->cmd, "bad option");
        }
    }
    if (optind != argc - 1)
        return cli_usage_error(o->cmd, optind >= argc ? "a PLAN.json is needed"
                                                      : "exactly one PLAN.json, please");
    if (o->output == NULL)
        return cli_usage_error(o->cmd, "-o SHEET.pdf is required: the sheet holds images "
                                       "from the case and is written only where you say");
    ropts->findings = ids;
    return -1;
}

static void print_tiles(const struct dp_review_result *res)
{
    for (size_t i = 0; i < res->candidates; i++) {
        const struct dp_review_tile *t = &res->tiles[i];
        if (t->state != DP_REVIEW_SHOWN)
            cli_info("%s: no thumbnail: %s%s%s", t->finding_id, dp_review_state_label(t->state),
                     t->detail[0] ? ": " : "", t->detail);
        else if (cli_verbose > 0)
            cli_info("%s: thumbnail", t->finding_id);
    }
}

int cmd_review(int argc, char **argv)
{
    struct cli_opts o;
    cli_opts_init(&o, CLI_OPTS_OUTPUT);
    struct dp_review_opts ropts = {0};
    struct dp_review_result res = {0};
    struct dp_error err = {0};
    const char **ids = calloc((size_t)argc + 1, sizeof(*ids));
    int rc = DP_EXIT_ERROR;
    if (ids == NULL) {
        cli_err("out of memory");
        goto out;
    }
    if ((rc = parse(&o, argc, argv, &ropts, ids)) >= 0)
        goto out;
    rc = DP_EXIT_ERROR;
    enum dp_status st = dp_review_render(argv[optind], &ropts, o.output, &res, &err);
    if (st != DP_OK) {
        cli_dp_err(&err);
        if (st == DP_ERR_UNSUPPORTED && res.on_device)
            cli_err("give --allow-on-device to write it there anyway, or choose a path on "
                    "another filesystem");
        goto out;
    }
    if (res.candidates == 0) {
        printf("review: no %s in the plan, nothing written\n",
               ropts.all || ropts.nfindings > 0 ? "finding to show" : "perceptual-only finding");
        rc = DP_EXIT_NEGATIVE;
        goto out;
    }
    print_tiles(&res);
    if (res.on_device)
        cli_err("warning: '%s' is on the filesystem being reviewed: the sheet's thumbnails are "
                "now on the seized device",
                o.output);
    if (res.noatime_fallbacks > 0)
        cli_err("warning: %llu file(s) were opened without O_NOATIME (not permitted): their "
                "access times may have changed",
                (unsigned long long)res.noatime_fallbacks);
    printf("review: %zu candidates, sheet written to %s\n", res.candidates, cli_text(o.output));
    rc = DP_EXIT_OK;
out:
    dp_review_result_release(&res);
    free(ids);
    cli_opts_release(&o);
    return rc;
}
