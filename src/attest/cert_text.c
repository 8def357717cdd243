/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: certificate text rendering for people (deprive show). */
#include "deprive/cert.h"
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "deprive/assurance.h"
#include "deprive/journal.h"
#include "deprive/report.h"
#include "deprive/sign.h"
#include "deprive/util.h"

/* ---- text rendering ---------------------------------------------------------------------- */

char *dp_cert_location_text(const json_t *location)
{
    return dp_json_location_text(location);
}

/* A JSON string escaped into buf (truncated), "-" when absent; integers as numbers. */
static const char *esc(char *buf, size_t size, const json_t *v)
{
    if (json_is_integer(v)) {
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "yes" : "no";
    if (!json_is_string(v))
        return "-";
    size_t used = 0, cap = 0;
    char *b = NULL;
    if (!dp_text_escape_append(&b, &used, &cap, json_string_value(v), json_string_length(v))) {
        free(b);
        return "?";
    }
    snprintf(buf, size, "%s", b);
    free(b);
    return buf;
}

/* "  Label ...... value" with the value escaped (not truncated). */
static void put_field(FILE *f, const char *label, const json_t *v)
{
    char small[32];
    fprintf(f, "  %-34s ", label);
    if (json_is_string(v)) {
        size_t used = 0, cap = 0;
        char *b = NULL;
        if (dp_text_escape_append(&b, &used, &cap, json_string_value(v), json_string_length(v)))
            fputs(b, f);
        free(b);
    } else {
        fputs(esc(small, sizeof(small), v), f);
    }
    fputc('\n', f);
}

/* Text of one path element (string or {"base64"}), heap. */
static char *elem_text(const json_t *el)
{
    json_t *a = json_array();
    if (a != NULL && el != NULL)
        json_array_append(a, (json_t *)el);
    char *t = dp_cert_location_text(a);
    json_decref(a);
    return t;
}

static void put_loc(FILE *f, const char *prefix, const json_t *loc)
{
    char *t = dp_cert_location_text(loc);
    fprintf(f, "%s%s\n", prefix, t ? t : "?");
    free(t);
}

static void put_elem(FILE *f, const char *prefix, const json_t *el)
{
    char *t = elem_text(el);
    fprintf(f, "%s%s\n", prefix, t ? t : "?");
    free(t);
}

static long long jll(const json_t *root, const char *path)
{
    return (long long)json_integer_value(cert_jpath(root, path));
}

static void render_head(FILE *f, const json_t *cert)
{
    fputs("DEPRIVE ERASURE CERTIFICATE\n\n", f);
    put_field(f, "Outcome", cert_jpath(cert, "outcome.result"));
    fprintf(f, "  %-34s %lld of %lld target(s) erased, %lld skipped, %lld failed", "Summary",
            jll(cert, "outcome.summary.erased"), jll(cert, "outcome.summary.targets"),
            jll(cert, "outcome.summary.skipped"), jll(cert, "outcome.summary.failed"));
    if (jll(cert, "outcome.summary.rejected") > 0)
        fprintf(f, ", %lld rejected by the examiner", jll(cert, "outcome.summary.rejected"));
    fputc('\n', f);
    if (json_is_true(cert_jpath(cert, "outcome.rescan.performed")))
        put_field(f, "Re-scan: matches remaining", cert_jpath(cert, "outcome.rescan.findings"));
    else
        fprintf(f, "  %-34s NOT DONE\n", "Re-scan");
    put_field(f, "Certificate id", cert_jpath(cert, "identity.certificate_id"));
    put_field(f, "Issued", cert_jpath(cert, "identity.issued"));
    put_field(f, "Started", cert_jpath(cert, "identity.started"));
    put_field(f, "Finished", cert_jpath(cert, "identity.finished"));
    put_field(f, "Host", cert_jpath(cert, "identity.host"));
    put_field(f, "Tool version", cert_jpath(cert, "identity.tool.version"));
    put_field(f, "Tool build", cert_jpath(cert, "identity.tool.build"));
    fputs("\nAuthority and exhibit\n", f);
    size_t nfields = 0;
    const struct dp_cert_case_field *fields = dp_cert_case_fields(&nfields);
    for (size_t i = 0; i < nfields; i++)
        put_field(f, fields[i].label, cert_jpath(cert, fields[i].path));
    put_field(f, "Filesystem", cert_jpath(cert, "exhibit.filesystem.type"));
    put_field(f, "Mount source", cert_jpath(cert, "exhibit.filesystem.source"));
    fprintf(f, "  %-34s ", "Mount point");
    put_elem(f, "", cert_jpath(cert, "exhibit.filesystem.mount_point"));
}

static void render_scan(FILE *f, const json_t *cert)
{
    char b1[160], b2[160];
    fputs("\nScan\n", f);
    fprintf(f, "  %-34s ", "Root");
    put_elem(f, "", cert_jpath(cert, "scan.root"));
    put_field(f, "One filesystem only", cert_jpath(cert, "scan.one_filesystem"));
    fprintf(f,
            "  %-34s %lld seen, %lld read (%lld bytes), %lld not read (size not listed), "
            "%lld not examinable\n",
            "Files", jll(cert, "scan.totals.files"), jll(cert, "scan.totals.files_read"),
            jll(cert, "scan.totals.bytes_read"), jll(cert, "scan.totals.files_skipped_by_size"),
            jll(cert, "scan.totals.skipped"));
    size_t i;
    const json_t *s;
    json_array_foreach(cert_jpath(cert, "scan.skips"), i, s)
    {
        char prefix[200];
        snprintf(prefix, sizeof(prefix),
                 "    not examined (%s): ", esc(b1, sizeof(b1), json_object_get(s, "reason")));
        put_loc(f, prefix, json_object_get(s, "location"));
        char *why = dp_report_skip_detail(s);
        if (why != NULL)
            fprintf(f, "      %s\n", why);
        free(why);
    }
    fputs("\nHash lists\n", f);
    const json_t *l;
    json_array_foreach(cert_jpath(cert, "hash_set.lists"), i, l)
    {
        put_elem(f, "  ", json_object_get(l, "file"));
        fprintf(f, "    sha256 %s, format %s, entries:",
                esc(b1, sizeof(b1), json_object_get(l, "sha256")),
                esc(b2, sizeof(b2), json_object_get(l, "format")));
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(l, "entries"), k, v)
        {
            json_t *key = json_string(k);
            fprintf(f, " %s %lld", esc(b1, sizeof(b1), key), (long long)json_integer_value(v));
            json_decref(key);
        }
        fputc('\n', f);
    }
}

static void render_target(FILE *f, const json_t *t, size_t i)
{
    char b1[160], b2[160];
    const char *st = json_string_value(json_object_get(t, "status"));
    enum dp_wipe_status ws;
    bool known = st != NULL && dp_wipe_status_parse(st, &ws);
    fprintf(f, "  %zu. %s\n", i + 1,
            !known                     ? "?"
            : ws == DP_WIPE_ERASED     ? "ERASED"
            : ws == DP_WIPE_SKIPPED    ? "NOT ERASED (skipped)"
            : ws == DP_WIPE_REJECTED   ? "NOT ERASED (the examiner decided it is not a copy)"
            : ws == DP_WIPE_PLANNED    ? "NOT ERASED (planned only)"
                                       : "NOT ERASED (failed)");
    size_t j;
    const json_t *nm;
    json_array_foreach(json_object_get(t, "names"), j, nm) put_loc(
        f, json_is_true(json_object_get(nm, "removed")) ? "     removed: " : "     name:    ",
        json_object_get(nm, "location"));
    const json_t *rem = json_object_get(t, "remnant");
    if (json_is_object(rem)) {
        fprintf(f, "     remnant: %lld bytes at offset %lld of the device, in %s at the scan",
                jll(t, "size"), jll(rem, "offset"),
                esc(b1, sizeof(b1), json_object_get(rem, json_object_get(rem, "use_at_scan")
                                                             ? "use_at_scan"
                                                             : "use")));
        if (json_is_string(json_object_get(rem, "removed_by")) && known &&
            ws == DP_WIPE_ERASED)
            fprintf(f, "; removed by the %s, %lld of %lld 32-byte windows left on read-back",
                    esc(b2, sizeof(b2), json_object_get(rem, "removed_by")),
                    jll(t, "verification.windows_left"), jll(t, "verification.windows"));
        else if (json_is_integer(cert_jpath(t, "verification.windows_left")))
            fprintf(f, "; NOT removed: %lld of %lld 32-byte windows still there on read-back",
                    jll(t, "verification.windows_left"), jll(t, "verification.windows"));
        fputc('\n', f);
    } else {
        fprintf(f, "     size %lld, inode %lld, links at scan %lld\n", jll(t, "size"),
                jll(t, "inode"), jll(t, "links_at_scan"));
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(t, "digests"), k, v)
    {
        json_t *key = json_string(k);
        fprintf(f, "     %-7s %s\n", esc(b2, sizeof(b2), key), esc(b1, sizeof(b1), v));
        json_decref(key);
    }
    const json_t *m;
    json_array_foreach(json_object_get(t, "matched"), j, m)
    {
        char *list = elem_text(json_object_get(m, "list"));
        const char *how = json_string_value(json_object_get(m, "method"));
        fprintf(f, "     matched %s", esc(b1, sizeof(b1), json_object_get(m, "method")));
        if (how != NULL && strcmp(how, "pdq") == 0)
            fprintf(f, " at distance %lld", jll(m, "distance"));
        else
            fprintf(f, " %s", esc(b2, sizeof(b2), json_object_get(m, "algo")));
        fprintf(f, ", list %s line %lld\n", list ? list : "?", jll(m, "line"));
        free(list);
    }
    const json_t *pm = json_object_get(t, "match");
    if (json_is_object(pm)) {
        char *list = elem_text(json_object_get(pm, "list"));
        fprintf(f, "     perceptual match at wipe time: PDQ distance %lld (%s, radius %lld) to "
                   "list %s line %lld; quality %lld, listed %s%s\n",
                jll(pm, "distance"), esc(b1, sizeof(b1), json_object_get(pm, "variant")),
                jll(pm, "radius"), list ? list : "?", jll(pm, "line"), jll(pm, "quality"),
                json_is_integer(json_object_get(pm, "target_quality"))
                    ? esc(b2, sizeof(b2), json_object_get(pm, "target_quality"))
                    : "unknown",
                json_is_true(json_object_get(pm, "low_confidence"))
                    ? " (LOW CONFIDENCE: quality below 50)"
                    : "");
        free(list);
    }
    const json_t *cs = json_object_get(t, "consent");
    if (json_is_object(cs)) {
        const char *kind = json_string_value(json_object_get(cs, "kind"));
        if (kind != NULL && strcmp(kind, "blanket") == 0)
            put_field(f, "   consent: blanket (--erase-perceptual) by",
                      json_object_get(cs, "examiner"));
        json_array_foreach(json_object_get(cs, "decisions"), j, m) {
            fprintf(f, "     confirmed: %s", esc(b1, sizeof(b1), json_object_get(m, "finding")));
            fprintf(f, " by %s", esc(b1, sizeof(b1), json_object_get(m, "examiner")));
            fprintf(f, " (%s", esc(b2, sizeof(b2), json_object_get(m, "how")));
            fprintf(f, ", %s)\n", esc(b2, sizeof(b2), json_object_get(m, "time")));
        }
    }
    const json_t *em = json_object_get(t, "embedded");
    /* a copy inside an archive member: its range is in the member's content */
    const char *holder = json_array_size(json_object_get(
                             json_array_get(json_object_get(t, "names"), 0), "location")) > 2
                             ? "the archive member"
                             : "the container";
    if (json_is_object(em)) {
        const json_t *pieces = json_object_get(em, "ranges"); /* a stream stored in pieces */
        const json_t *p0 = json_array_get(pieces, 0);
        if (json_array_size(pieces) > 1)
            fprintf(f, "     embedded %s stream in %zu pieces (%lld bytes): bytes %lld-%lld of "
                       "%s and %zu more pieces",
                    esc(b1, sizeof(b1), json_object_get(em, "kind")), json_array_size(pieces),
                    jll(em, "length"), (long long)json_integer_value(json_array_get(p0, 0)),
                    (long long)(json_integer_value(json_array_get(p0, 0)) +
                                json_integer_value(json_array_get(p0, 1)) - 1),
                    holder, json_array_size(pieces) - 1);
        else
            fprintf(f, "     embedded %s stream: bytes %lld-%lld of %s",
                    esc(b1, sizeof(b1), json_object_get(em, "kind")), jll(em, "offset"),
                    jll(em, "offset") + jll(em, "length") - 1, holder);
        if (json_is_string(json_object_get(em, "method")))
            fprintf(f, "; %s", esc(b2, sizeof(b2), json_object_get(em, "method")));
        if (json_is_boolean(json_object_get(em, "outside_unchanged")))
            fprintf(f, "; outside the range %s",
                    json_is_true(json_object_get(em, "outside_unchanged")) ? "unchanged (SHA-256)"
                                                                           : "CHANGED");
        if (json_is_boolean(json_object_get(em, "range_zeroed")))
            fprintf(f, "; the range %s",
                    json_is_true(json_object_get(em, "range_zeroed")) ? "zeroed" : "NOT zeroed");
        fputc('\n', f);
        if (json_is_string(json_object_get(em, "residual_risk")))
            put_field(f, "     risk", json_object_get(em, "residual_risk"));
    }
    if (json_is_string(cert_jpath(t, "pdq.hash")))
        put_field(f, "   pdq", cert_jpath(t, "pdq.hash"));
    put_field(f, "   assurance", json_object_get(t, "assurance"));
    json_array_foreach(json_object_get(t, "assurance_facts"), j, m) put_field(f, "     fact", m);
    put_field(f, "   verification", cert_jpath(t, "verification.result"));
    put_field(f, "   method", json_object_get(t, "method"));
    if (json_is_string(json_object_get(t, "reason")))
        put_field(f, "   reason", json_object_get(t, "reason"));
}

enum dp_status dp_cert_render_text(FILE *f, const json_t *cert, struct dp_error *err)
{
    render_head(f, cert);
    render_scan(f, cert);
    fprintf(f, "\nTargets (%zu)\n", json_array_size(json_object_get(cert, "targets")));
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(cert, "targets"), i, t) render_target(f, t, i);
    const json_t *sw = json_object_get(cert, "sweep");
    if (json_is_object(sw)) {
        fputs("\nSweep of the device (deleted copies)\n", f);
        put_field(f, "Device", json_object_get(sw, "device"));
        put_field(f, "Named by", json_object_get(sw, "device_from"));
        put_field(f, "Checked to be the mounted one by", json_object_get(sw, "device_checked"));
        put_field(f, "Scope", json_object_get(sw, "scope"));
        fprintf(f, "  %-34s %lld bytes swept, %lld in live files, %lld remnant(s)\n",
                "Before the wipe", jll(sw, "before.bytes_swept"), jll(sw, "before.in_live_files"),
                jll(sw, "before.remnants"));
        if (json_is_object(json_object_get(sw, "after")))
            fprintf(f, "  %-34s %lld bytes swept, %lld in live files, %lld remnant(s)\n",
                    "After the wipe (re-scan)", jll(sw, "after.bytes_swept"),
                    jll(sw, "after.in_live_files"), jll(sw, "after.remnants"));
        else
            fprintf(f, "  %-34s not swept\n", "After the wipe (re-scan)");
    }
    fputs("\nPost-erasure re-scan\n", f);
    put_field(f, "Performed", cert_jpath(cert, "outcome.rescan.performed"));
    put_field(f, "Finished", cert_jpath(cert, "outcome.rescan.finished"));
    put_field(f, "Files read", cert_jpath(cert, "outcome.rescan.totals.files_read"));
    put_field(f, "Matches found", cert_jpath(cert, "outcome.rescan.findings"));
    json_array_foreach(cert_jpath(cert, "outcome.rescan.remaining"), i, t)
        put_loc(f, "    STILL PRESENT: ", json_object_get(t, "location"));
    json_array_foreach(cert_jpath(cert, "outcome.rescan.left_by_decision"), i, t) {
        const char *st = json_string_value(json_object_get(t, "status"));
        put_loc(f,
                st != NULL && strcmp(st, "rejected") == 0
                    ? "    perceptual candidate, rejected by the examiner: "
                    : "    perceptual candidate, awaiting the examiner's decision: ",
                json_object_get(t, "location"));
    }
    fputs("\nResidual risks\n", f);
    json_array_foreach(cert_jpath(cert, "outcome.residual_risks"), i, t)
    {
        char *b = NULL;
        size_t used = 0, cap = 0;
        const char *txt = json_string_value(t);
        if (txt != NULL && dp_text_escape_append(&b, &used, &cap, txt, json_string_length(t)))
            fprintf(f, "  - %s\n", b);
        free(b);
    }
    fputs("\nIntegrity\n", f);
    put_field(f, "Journal head", cert_jpath(cert, "outcome.journal.head"));
    put_field(f, "Journal records", cert_jpath(cert, "outcome.journal.records"));
    put_field(f, "Signer key id", cert_jpath(cert, "signer.keyid"));
    if (fflush(f) != 0 || ferror(f))
        return dp_error_set(err, DP_ERR_IO, errno, "cannot write the certificate text");
    return DP_OK;
}
