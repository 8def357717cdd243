/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive CLI: loading hash lists, scan progress and the human scan summary. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/hashset.h"
#include "deprive/pdq.h"
#include "deprive/scan.h"
#include "deprive/util.h"

bool cli_load_hashes(char **paths, size_t count, struct dp_hashset **out)
{
    struct dp_error err = {0};
    struct dp_hashset *set = NULL;
    if (dp_hashset_new(&set, &err) != DP_OK)
        goto fail;
    for (size_t i = 0; i < count; i++)
        if (dp_hashset_load_file(set, paths[i], &err) != DP_OK)
            goto fail;
    if (dp_hashset_finalize(set, &err) != DP_OK)
        goto fail;
    *out = set;
    return true;
fail:
    cli_dp_err(&err);
    dp_hashset_free(set);
    return false;
}

const char *cli_human_bytes(char *buf, size_t size, unsigned long long bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, size, "%llu B", bytes);
    else
        snprintf(buf, size, "%.1f %s", v, units[u]);
    return buf;
}

bool cli_want_progress(void)
{
    return !cli_quiet && isatty(STDERR_FILENO);
}

void cli_scan_progress(void *ctx, const struct dp_scan_progress *p)
{
    (void)ctx;
    char b[32], r[32];
    double rate = p->elapsed > 0 ? (double)p->bytes_done / p->elapsed : 0;
    const char *c = p->current ? cli_text(p->current) : "";
    size_t cl = strlen(c);
    /* keep the line within 100 columns: show the tail of long paths, from a character's start */
    const char *shown = cl > 40 ? c + cl - 40 : c;
    while (shown > c && ((unsigned char)*shown & 0xc0) == 0x80)
        shown--;
    fprintf(stderr, "\r\033[K%llu/%llu files  %s  %s/s  %llu found  %s%s",
            (unsigned long long)p->files_done, (unsigned long long)p->files_seen,
            cli_human_bytes(b, sizeof(b), p->bytes_done),
            cli_human_bytes(r, sizeof(r), (unsigned long long)rate),
            (unsigned long long)p->findings, shown > c ? "..." : "", shown);
    if (p->current == NULL)
        fputc('\n', stderr);
}

/* "path" or "path -> member -> ...", escaped (cli_location). */
static const char *finding_location(const struct dp_finding *fd)
{
    json_t *loc = json_array();
    if (fd->remnant) /* [{"device": DEV}, {"offset", "length"}], as in the report */
        json_array_append_new(loc, json_pack("{s:o}", "device",
                                             dp_json_bytes(fd->path, fd->path_len)));
    else
        json_array_append_new(loc, dp_json_bytes(fd->path, fd->path_len));
    for (unsigned i = 0; i < fd->member_depth; i++)
        json_array_append_new(loc, dp_json_bytes(fd->members[i], fd->member_lens[i]));
    const uint64_t one[1][2] = {{fd->embedded_offset, fd->embedded_length}};
    if (fd->embedded || fd->remnant)
        json_array_append_new(loc, fd->embedded_nranges
                                       ? dp_json_ranges((const uint64_t(*)[2])fd->embedded_ranges,
                                                        fd->embedded_nranges)
                                       : dp_json_ranges(one, 1));
    const char *t = cli_location(loc);
    json_decref(loc);
    return t;
}

void cli_print_scan(FILE *f, const struct dp_scan_result *r, const struct dp_hashset *set)
{
    char b1[32], b2[32];
    const struct dp_scan_totals *t = &r->totals;
    fprintf(f, "root: %s (%s%s)\n", cli_text(r->root_abs ? r->root_abs : r->root),
            cli_text(dp_fsinfo_kind(&r->fs)), r->fs.read_only ? ", read-only" : "");
    for (size_t i = 0; i < dp_hashset_source_count(set); i++) {
        const struct dp_hash_source *s = dp_hashset_source(set, i);
        fprintf(f, "list: %s (%s:", cli_text(s->path), s->format);
        for (int a = 0; a < DP_ALGO_COUNT; a++)
            if (s->counts[a])
                fprintf(f, " %s %zu", dp_algo_name((enum dp_algo)a), s->counts[a]);
        fprintf(f, ")\n");
        if (s->low_quality > 0)
            fprintf(f, "warning: %zu pdq entr%s of this list with quality below 50: unreliable "
                       "targets\n",
                    s->low_quality, s->low_quality == 1 ? "y" : "ies");
        if (s->unused > 0 || s->withdrawn > 0)
            fprintf(f, "note: %zu record(s) of signal types deprive does not match and %zu "
                       "withdrawn record(s) were not loaded\n",
                    s->unused, s->withdrawn);
    }
    if (r->pdq_used)
        fprintf(f, "perceptual: %zu pdq entries, distance <= %d%s; images decoded %llu, not "
                   "decodable %llu, over --max-image-bytes %llu\n",
                dp_hashset_count(set, DP_ALGO_PDQ), r->pdq_threshold,
                r->pdq_dihedral ? ", rotations and mirror images included" : "",
                (unsigned long long)t->images_decoded, (unsigned long long)t->images_undecodable,
                (unsigned long long)t->images_too_large);
    fprintf(f, "files: %llu (read %llu, %s; not read, size wanted by no entry: %llu, %s)\n",
            (unsigned long long)t->files, (unsigned long long)t->files_read,
            cli_human_bytes(b1, sizeof(b1), t->bytes_read),
            (unsigned long long)t->files_size_skipped,
            cli_human_bytes(b2, sizeof(b2), t->bytes_size_skipped));
    fprintf(f, "directories: %llu\n", (unsigned long long)t->directories);
    if (r->carve && t->carved > 0)
        fprintf(f, "embedded: %llu image streams carved (%s), %llu decoded\n",
                (unsigned long long)t->carved, cli_human_bytes(b2, sizeof(b2), t->carved_bytes),
                (unsigned long long)t->carved_decoded);
    if (r->archives && t->archives > 0)
        fprintf(f, "archives: %llu opened, %llu members examined, %s expanded\n",
                (unsigned long long)t->archives, (unsigned long long)t->archive_members,
                cli_human_bytes(b1, sizeof(b1), t->archive_bytes));
    uint64_t nskip = 0;
    for (int i = 0; i < DP_SKIP_REASON_COUNT; i++)
        nskip += t->skipped[i];
    for (int i = 0; i < DP_MEMBER_SKIP_COUNT; i++)
        nskip += t->archive_skipped[i];
    fprintf(f, "not examined: %llu", (unsigned long long)nskip);
    const char *sep = " (";
    for (int i = 0; i < DP_SKIP_REASON_COUNT; i++) {
        if (t->skipped[i]) {
            fprintf(f, "%s%s %llu", sep, dp_skip_reason_name((enum dp_skip_reason)i),
                    (unsigned long long)t->skipped[i]);
            sep = ", ";
        }
    }
    for (int i = 0; i < DP_MEMBER_SKIP_COUNT; i++) {
        if (t->archive_skipped[i]) {
            fprintf(f, "%sarchive-%s %llu", sep, dp_member_skip_name((enum dp_member_skip)i),
                    (unsigned long long)t->archive_skipped[i]);
            sep = ", ";
        }
    }
    fprintf(f, "%s\n", nskip ? ")" : "");
    /* files not read for their size are named: one may be what the lists look for */
    for (size_t i = 0; i < r->skip_count; i++) {
        const struct dp_skip *sk = &r->skips[i];
        if (sk->member_reason >= 0) { /* inside an archive: it may hide a match */
            json_t *loc = json_array();
            json_array_append_new(loc, dp_json_bytes(sk->path, sk->path_len));
            for (unsigned d = 0; d < sk->member_depth; d++)
                json_array_append_new(loc, dp_json_bytes(sk->members[d], sk->member_lens[d]));
            fprintf(f, "NOT EXAMINED %s  (archive-%s: %s)\n", cli_location(loc),
                    dp_member_skip_name((enum dp_member_skip)sk->member_reason),
                    cli_text(sk->detail ? sk->detail : ""));
            json_decref(loc);
            continue;
        }
        if (sk->reason != DP_SKIP_TOO_LARGE)
            continue;
        char why[160];
        dp_size_limit_text(why, sizeof(why), sk->size, sk->limit, sk->limit_source);
        fprintf(f, "NOT EXAMINED %s  (%s: %s)\n", cli_textn(sk->path, sk->path_len),
                dp_skip_reason_name(sk->reason), why);
    }
    if (t->noatime_fallbacks)
        fprintf(f, "warning: %llu objects were opened without O_NOATIME (not permitted)\n",
                (unsigned long long)t->noatime_fallbacks);
    if (r->sweep != NULL) {
        const struct dp_scan_sweep *sw = r->sweep;
        fprintf(f, "sweep: %s%s: %s swept, %s of live files not read again, %llu stream(s), "
                   "%llu remnant(s)%s\n",
                cli_text(sw->device), sw->device_given ? " (--device, checked by its boot sector)" : "",
                cli_human_bytes(b1, sizeof(b1), sw->bytes_swept),
                cli_human_bytes(b2, sizeof(b2), sw->bytes_skipped),
                (unsigned long long)sw->streams, (unsigned long long)sw->remnants,
                sw->limited ? " - LIMITED, see the report" : "");
    }
    fprintf(f, "findings: %zu\n", r->finding_count);
    for (size_t i = 0; i < r->finding_count; i++) {
        const struct dp_finding *fd = &r->findings[i];
        const struct dp_match *m = &fd->matches[0];
        const struct dp_hash_source *src = dp_hashset_source(set, m->source);
        char how[96] = "", id[24];
        if (m->algo == DP_ALGO_PDQ)
            snprintf(how, sizeof(how), " distance %d %s%s", m->distance,
                     dp_pdq_variant_name((enum dp_pdq_variant)m->variant),
                     fd->has_pdq && fd->pdq_quality < DP_PDQ_MIN_QUALITY
                         ? ", LOW CONFIDENCE: the file's PDQ quality is below 50"
                         : "");
        dp_plan_finding_id(i, id, sizeof(id));
        char hidden[96] = "";
        if (fd->member_unlisted)
            snprintf(hidden, sizeof(hidden), ", hidden: not in the zip's central directory, "
                     "local header at %llu", (unsigned long long)fd->member_local_offset);
        fprintf(f, "%-4s %s %s  (%s, %s, %s%s %s:%u%s%s)\n", id,
                fd->perceptual_only ? "PERCEPTUAL MATCH (needs confirmation)"
                : fd->remnant       ? "REMNANT"
                                    : "MATCH",
                finding_location(fd),
                cli_human_bytes(b1, sizeof(b1),
                                fd->embedded || fd->remnant ? fd->embedded_length
                                : fd->member_depth ? (uint64_t)fd->member_size
                                                   : fd->id.size),
                cli_text(fd->mime), dp_algo_name((enum dp_algo)m->algo), how,
                cli_text(src->path), m->line, fd->match_count > 1 ? ", ..." : "", hidden);
    }
}
