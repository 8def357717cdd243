/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: printable A4 certificate with libharu - header, outcome, authority, exhibit, scan,
 * paginated findings table, residual risks, and how to verify the signed JSON. */
#include "deprive/pdf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hpdf.h>

#include "deprive/assurance.h"
#include "deprive/cert.h"
#include "deprive/report.h"
#include "deprive/util.h"
#include "dp_config.h"
#include "internal.h"

/* A4 in points, margins, and the footer band. */
#define PAGE_W 595.276f
#define PAGE_H 841.89f
#define MARGIN_L 48.0f
#define MARGIN_R 48.0f
#define TOP 800.0f
#define BOTTOM 62.0f
#define CONTENT_W (PAGE_W - MARGIN_L - MARGIN_R)
#define MAX_PAGES 100000

struct pdf {
    HPDF_Doc doc;
    HPDF_Page page;
    HPDF_Font reg, bold, mono;
    HPDF_Page *pages;
    size_t npages, cap;
    float y;
    bool in_table; /* repeat the findings header on new pages */
    bool failed;   /* libharu reported an error */
    bool oom;
    HPDF_STATUS hpdf_err, hpdf_detail;
};

static void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
    struct pdf *p = user_data;
    if (error_no == HPDF_STREAM_EOF) /* reading the finished document back */
        return;
    if (!p->failed) {
        p->failed = true;
        p->hpdf_err = error_no;
        p->hpdf_detail = detail_no;
    }
}

/* ---- text: UTF-8 to the fonts' WinAnsi (Latin-1) ----------------------------------------- */

static const char *jstr(const json_t *cert, const char *path)
{
    return dp_cert_get_str(cert, path);
}

/* Value at a dotted path (dp_cert_get_str only returns strings). */
/* String field or "-". */
static const char *jsd(const json_t *cert, const char *path)
{
    const char *s = dp_cert_get_str(cert, path);
    return s ? s : "-";
}

static const json_t *jget(const json_t *root, const char *path)
{
    return root != NULL ? dp_cert_get(root, path) : NULL;
}

static long long jll(const json_t *root, const char *path)
{
    return (long long)json_integer_value(jget(root, path));
}

/* ---- pages ------------------------------------------------------------------------------- */

static void draw_table_header(struct pdf *p);

static void new_page(struct pdf *p)
{
    if (p->failed || p->oom)
        return;
    if (p->npages >= MAX_PAGES) {
        p->failed = true;
        return;
    }
    if (p->npages == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 16;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of HPDF_Page handles */
        HPDF_Page *n = realloc(p->pages, nc * sizeof(*n));
        if (n == NULL) {
            p->oom = true;
            return;
        }
        p->pages = n;
        p->cap = nc;
    }
    p->page = HPDF_AddPage(p->doc);
    if (p->page == NULL) {
        p->failed = true;
        return;
    }
    p->pages[p->npages++] = p->page;
    HPDF_Page_SetSize(p->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    HPDF_Page_SetGrayFill(p->page, 0);
    HPDF_Page_SetGrayStroke(p->page, 0);
    p->y = TOP;
    if (p->in_table)
        draw_table_header(p);
}

/* Make room for h points, starting a new page when needed. */
static void need(struct pdf *p, float h)
{
    if (p->y - h < BOTTOM)
        new_page(p);
}

/* Draw Latin-1 text at (x, y). */
static void text_at(struct pdf *p, HPDF_Font f, float size, float x, float y, const char *s)
{
    if (p->failed || p->page == NULL)
        return;
    HPDF_Page_BeginText(p->page);
    HPDF_Page_SetFontAndSize(p->page, f, size);
    HPDF_Page_TextOut(p->page, x, y, s);
    HPDF_Page_EndText(p->page);
}

/* Wrapped lines of Latin-1 text (pdf_wrap), running out of memory noted in p. */
static size_t wrap(struct pdf *p, HPDF_Font f, float size, float width, const char *latin,
                   char **out, size_t max)
{
    return pdf_wrap(f, size, width, latin, out, max, &p->oom);
}

/* One line of UTF-8 text at (x, y), cut to width with "..." when longer. */
static void utext_at(struct pdf *p, HPDF_Font f, float size, float x, float y, float width,
                     const char *s)
{
    char *l = pdf_latin1(s), *line[1];
    if (l == NULL) {
        p->oom = true;
        return;
    }
    if (wrap(p, f, size, width, l, line, 1) == 1) {
        text_at(p, f, size, x, y, line[0]);
        free(line[0]);
    }
    free(l);
}

/* A paragraph of UTF-8 text wrapped to width at x, flowing over pages. */
static void paragraph(struct pdf *p, HPDF_Font f, float size, float x, float width,
                      const char *utf8)
{
    char *l = pdf_latin1(utf8);
    if (l == NULL) {
        p->oom = true;
        return;
    }
    char *lines[64];
    size_t n = wrap(p, f, size, width, l, lines, 64);
    for (size_t i = 0; i < n; i++) {
        need(p, size * 1.3f);
        p->y -= size * 1.3f;
        text_at(p, f, size, x, p->y, lines[i]);
    }
    pdf_free_lines(lines, n);
    free(l);
}

static void rule(struct pdf *p, float y, float w)
{
    if (p->failed || p->page == NULL)
        return;
    HPDF_Page_SetLineWidth(p->page, w);
    HPDF_Page_MoveTo(p->page, MARGIN_L, y);
    HPDF_Page_LineTo(p->page, PAGE_W - MARGIN_R, y);
    HPDF_Page_Stroke(p->page);
}

/* A heading kept on one page with the keep points that follow it. */
static void section_keep(struct pdf *p, const char *title, float keep)
{
    need(p, 26 + keep);
    p->y -= 20;
    text_at(p, p->bold, 11.5f, MARGIN_L, p->y, title);
    p->y -= 4;
    rule(p, p->y, 0.6f);
    p->y -= 2;
}

static void section(struct pdf *p, const char *title)
{
    section_keep(p, title, 18);
}

/* "Label      value" with the value wrapped (up to 6 lines). */
static void kv(struct pdf *p, const char *label, const char *utf8_value)
{
    char *v = pdf_latin1(utf8_value ? utf8_value : "-");
    if (v == NULL) {
        p->oom = true;
        return;
    }
    char *lines[6];
    size_t n = wrap(p, p->reg, 9, CONTENT_W - 150, v, lines, 6);
    need(p, 12.0f * (float)(n ? n : 1) + 2);
    p->y -= 12;
    text_at(p, p->bold, 8.5f, MARGIN_L, p->y, label);
    for (size_t i = 0; i < n; i++) {
        text_at(p, p->reg, 9, MARGIN_L + 150, p->y, lines[i]);
        if (i + 1 < n)
            p->y -= 11;
    }
    pdf_free_lines(lines, n);
    free(v);
}

static void kv_mono(struct pdf *p, const char *label, const char *value)
{
    need(p, 14);
    p->y -= 12;
    text_at(p, p->bold, 8.5f, MARGIN_L, p->y, label);
    utext_at(p, p->mono, 8.5f, MARGIN_L + 150, p->y, CONTENT_W - 150, value ? value : "-");
}

/* ---- blocks ------------------------------------------------------------------------------ */

static void header(struct pdf *p, const json_t *cert)
{
    text_at(p, p->bold, 20, MARGIN_L, p->y - 18, "ERASURE CERTIFICATE");
    text_at(p, p->reg, 9, MARGIN_L, p->y - 32,
            "Secure deletion of matching files under a court deprivation order");
    p->y -= 52;
    char line[600];
    snprintf(line, sizeof(line), "Order %s   Exhibit %s", jsd(cert, "authority.order_reference"),
             jsd(cert, "exhibit.exhibit_reference"));
    char *l = pdf_latin1(line), *lines[2];
    size_t n = l ? wrap(p, p->bold, 13, CONTENT_W, l, lines, 2) : 0;
    for (size_t i = 0; i < n; i++) {
        text_at(p, p->bold, 13, MARGIN_L, p->y, lines[i]);
        p->y -= 16;
    }
    pdf_free_lines(lines, n);
    free(l);
    rule(p, p->y + 4, 1.2f);
}

static void outcome_box(struct pdf *p, const json_t *cert)
{
    const char *res = jstr(cert, "outcome.result");
    float h = 102, top = p->y - 8;
    if (p->failed)
        return;
    HPDF_Page_SetLineWidth(p->page, 2.5f);
    HPDF_Page_Rectangle(p->page, MARGIN_L, top - h, CONTENT_W, h);
    HPDF_Page_Stroke(p->page);
    text_at(p, p->bold, 8, MARGIN_L + 12, top - 16, "OUTCOME");
    utext_at(p, p->bold, 40, MARGIN_L + 12, top - 58, 210, res ? res : "UNKNOWN");
    char b[256];
    float x = MARGIN_L + 230;
    snprintf(b, sizeof(b), "%lld of %lld target(s) erased", jll(cert, "outcome.summary.erased"),
             jll(cert, "outcome.summary.targets"));
    text_at(p, p->bold, 10, x, top - 20, b);
    if (jll(cert, "outcome.summary.rejected") > 0)
        snprintf(b, sizeof(b), "%lld skipped, %lld failed, %lld rejected, %lld name(s)",
                 jll(cert, "outcome.summary.skipped"), jll(cert, "outcome.summary.failed"),
                 jll(cert, "outcome.summary.rejected"), jll(cert, "outcome.summary.names"));
    else
        snprintf(b, sizeof(b), "%lld skipped, %lld failed, %lld name(s)",
                 jll(cert, "outcome.summary.skipped"), jll(cert, "outcome.summary.failed"),
                 jll(cert, "outcome.summary.names"));
    text_at(p, p->reg, 9, x, top - 34, b);
    if (json_is_true(jget(cert, "outcome.rescan.performed")))
        snprintf(b, sizeof(b), "Post-erasure re-scan: %lld match(es) found",
                 jll(cert, "outcome.rescan.findings"));
    else
        snprintf(b, sizeof(b), "Post-erasure re-scan: NOT DONE");
    text_at(p, p->bold, 10, x, top - 50, b);
    snprintf(b, sizeof(b), "Issued %s", jsd(cert, "identity.issued"));
    utext_at(p, p->reg, 8.5f, x, top - 66, PAGE_W - MARGIN_R - x - 6, b);
    snprintf(b, sizeof(b), "Certificate %s", jsd(cert, "identity.certificate_id"));
    utext_at(p, p->reg, 8.5f, x, top - 78, PAGE_W - MARGIN_R - x - 6, b);
    text_at(p, p->reg, 6.5f, MARGIN_L + 12, top - h + 8,
            "ERASED: all erased and re-scan clean. PARTIAL: re-scan clean, some not erased by "
            "deprive. FAILED: matches remain or no re-scan.");
    p->y = top - h - 4;
}

static void case_block(struct pdf *p, const json_t *cert, const char *prefix)
{
    size_t n = 0;
    const struct dp_cert_case_field *fields = dp_cert_case_fields(&n);
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(fields[i].path, prefix, plen) != 0)
            continue;
        const char *v = jstr(cert, fields[i].path);
        if (v != NULL || fields[i].required)
            kv(p, fields[i].label, v);
    }
}

static void location_kv(struct pdf *p, const char *label, const json_t *el)
{
    json_t *a = json_array();
    if (a != NULL && el != NULL)
        json_array_append(a, (json_t *)el);
    char *t = dp_cert_location_text(a);
    json_decref(a);
    kv(p, label, t ? t : "?");
    free(t);
}

static void exhibit_block(struct pdf *p, const json_t *cert)
{
    section(p, "Exhibit");
    case_block(p, cert, "exhibit.");
    char b[400];
    snprintf(b, sizeof(b), "%s (%s) on %s", jsd(cert, "exhibit.filesystem.type"),
             jsd(cert, "exhibit.filesystem.mount_type"), jsd(cert, "exhibit.filesystem.source"));
    kv(p, "Filesystem", b);
    location_kv(p, "Mount point", jget(cert, "exhibit.filesystem.mount_point"));
    const json_t *rot = jget(cert, "exhibit.filesystem.rotational");
    kv(p, "Medium reported as",
       json_is_true(rot)    ? "rotational"
       : json_is_false(rot) ? "non-rotational (flash)"
                            : "unknown");
}

static void scan_block(struct pdf *p, const json_t *cert)
{
    section(p, "Hash set and scan");
    kv(p, "Hash set supplier", jstr(cert, "hash_set.supplier"));
    size_t i;
    const json_t *l;
    json_array_foreach(jget(cert, "hash_set.lists"), i, l)
    {
        json_t *a = json_pack("[O]", json_object_get(l, "file"));
        char *name = dp_cert_location_text(a);
        json_decref(a);
        char b[600];
        const json_t *ent = json_object_get(l, "entries");
        const char *fmt = json_string_value(json_object_get(l, "format"));
        snprintf(b, sizeof(b), "%s (%s) - entries: MD5 %lld, SHA-1 %lld, SHA-256 %lld",
                 name ? name : "?", fmt ? fmt : "-", jll(ent, "md5"), jll(ent, "sha1"),
                 jll(ent, "sha256"));
        free(name);
        kv(p, i == 0 ? "Hash lists" : "", b);
        kv_mono(p, "", json_string_value(json_object_get(l, "sha256")));
        if (i >= 40 && json_array_size(jget(cert, "hash_set.lists")) > 42) {
            snprintf(b, sizeof(b), "... and %zu more (see the JSON certificate)",
                     json_array_size(jget(cert, "hash_set.lists")) - i - 1);
            kv(p, "", b);
            break;
        }
    }
    location_kv(p, "Examined root", jget(cert, "scan.root"));
    kv(p, "Scope",
       json_is_true(jget(cert, "scan.one_filesystem"))
           ? "this filesystem only (mount points below it not crossed)"
           : "all filesystems below the root");
    char b[300];
    snprintf(b, sizeof(b), "%s to %s", jsd(cert, "scan.started"), jsd(cert, "scan.finished"));
    kv(p, "Scan period", b);
    snprintf(b, sizeof(b),
             "%lld files seen, %lld read (%lld bytes), %lld not read (no listed "
             "file has that size), %lld directories",
             jll(cert, "scan.totals.files"), jll(cert, "scan.totals.files_read"),
             jll(cert, "scan.totals.bytes_read"), jll(cert, "scan.totals.files_skipped_by_size"),
             jll(cert, "scan.totals.directories"));
    kv(p, "Totals", b);
    snprintf(b, sizeof(b), "%lld object(s) could not be examined",
             jll(cert, "scan.totals.skipped"));
    kv(p, "Not examinable", b);
    const json_t *s;
    json_array_foreach(jget(cert, "scan.skips"), i, s)
    {
        if (i == 30) {
            snprintf(b, sizeof(b), "... and %zu more (listed in the JSON certificate)",
                     json_array_size(jget(cert, "scan.skips")) - 30);
            kv(p, "", b);
            break;
        }
        char *t = dp_cert_location_text(json_object_get(s, "location"));
        const char *r = json_string_value(json_object_get(s, "reason"));
        char *line = NULL;
        if (asprintf(&line, "%s: %s", r ? r : "?", t ? t : "?") < 0)
            line = NULL;
        kv(p, "", line ? line : "?");
        free(line);
        free(t);
        char *why = dp_report_skip_detail(s); /* too-large: the sizes */
        if (why != NULL)
            kv(p, "", why);
        free(why);
    }
}

/* ---- findings table ---------------------------------------------------------------------- */

enum { COL_N, COL_LOC, COL_SIZE, COL_SHA, COL_ASS, COL_VER, NCOL };
static const float col_x[NCOL + 1] = {MARGIN_L,         MARGIN_L + 22,  MARGIN_L + 228,
                                      MARGIN_L + 282,   MARGIN_L + 357, MARGIN_L + 447,
                                      PAGE_W - MARGIN_R};
static const char *const col_title[NCOL] = {"#",         "Location", "Size", "SHA-256 (prefix)",
                                            "Assurance", "Verified"};
#define CELL_PAD 3.0f
#define FS_CELL 7.5f
#define LEAD 9.0f
#define CELL_MAX 10

static void draw_table_header(struct pdf *p)
{
    if (p->failed)
        return;
    float h = 14;
    HPDF_Page_SetGrayFill(p->page, 0.85f);
    HPDF_Page_Rectangle(p->page, MARGIN_L, p->y - h, CONTENT_W, h);
    HPDF_Page_Fill(p->page);
    HPDF_Page_SetGrayFill(p->page, 0);
    for (int c = 0; c < NCOL; c++)
        text_at(p, p->bold, 7.5f, col_x[c] + CELL_PAD, p->y - 10, col_title[c]);
    p->y -= h;
}

static const char *assurance_label(const char *a)
{
    enum dp_assurance level;
    if (a == NULL)
        return "-";
    return dp_assurance_parse(a, &level) ? dp_assurance_label(level) : a;
}

/* A perceptual-only target's match at wipe time and who consented, in one line; NULL for
 * others. */
static char *perceptual_text(const json_t *t)
{
    if (!json_is_true(json_object_get(t, "perceptual_only")))
        return NULL;
    const json_t *m = json_object_get(t, "match"), *c = json_object_get(t, "consent");
    const char *kind = json_string_value(json_object_get(c, "kind"));
    const char *who = kind != NULL && strcmp(kind, "blanket") == 0
                          ? json_string_value(json_object_get(c, "examiner"))
                          : json_string_value(json_object_get(
                                json_array_get(json_object_get(c, "decisions"), 0), "examiner"));
    char *s = NULL;
    int rc;
    if (json_is_object(m))
        rc = asprintf(&s, "perceptual (PDQ distance %lld, %s)%s%s%s%s", jll(m, "distance"),
                      json_string_value(json_object_get(m, "variant"))
                          ? json_string_value(json_object_get(m, "variant"))
                          : "?",
                      who ? "; " : "",
                      who && kind && strcmp(kind, "blanket") == 0 ? "blanket consent by "
                      : who                                      ? "confirmed by "
                                                                 : "",
                      who ? who : "",
                      json_is_true(json_object_get(m, "low_confidence")) ? "; LOW CONFIDENCE"
                                                                          : "");
    else
        rc = asprintf(&s, "perceptual-only match");
    return rc < 0 ? NULL : s;
}

/* Location cell: every name wrapped, and the reason when not erased; at most CELL_MAX lines. */
static size_t location_cell(struct pdf *p, const json_t *t, char **lines)
{
    size_t n = 0, i;
    float w = col_x[COL_LOC + 1] - col_x[COL_LOC] - 2 * CELL_PAD;
    const json_t *names = json_object_get(t, "names"), *nm;
    json_array_foreach(names, i, nm)
    {
        /* keep room for a "more" line and the reason */
        if (n + 3 > CELL_MAX - 3) {
            char more[64];
            snprintf(more, sizeof(more), "... and %zu more name(s)", json_array_size(names) - i);
            lines[n++] = strdup(more);
            break;
        }
        char *txt = dp_cert_location_text(json_object_get(nm, "location"));
        char *l = txt ? pdf_latin1(txt) : NULL;
        if (l != NULL)
            n += wrap(p, p->reg, FS_CELL, w, l, lines + n, 3);
        free(l);
        free(txt);
    }
    char *why = perceptual_text(t);
    if (why != NULL && n < CELL_MAX) {
        char *l = pdf_latin1(why);
        if (l != NULL)
            n += wrap(p, p->reg, FS_CELL, w, l, lines + n, CELL_MAX - n < 2 ? CELL_MAX - n : 2);
        free(l);
    }
    free(why);
    const char *reason = json_string_value(json_object_get(t, "reason"));
    if (reason != NULL && n < CELL_MAX) {
        char *r = NULL;
        if (asprintf(&r, "reason: %s", reason) >= 0) {
            char *l = pdf_latin1(r);
            if (l != NULL)
                n +=
                    wrap(p, p->bold, FS_CELL, w, l, lines + n, CELL_MAX - n < 3 ? CELL_MAX - n : 3);
            free(l);
            free(r);
        }
    }
    return n;
}

static void table_row(struct pdf *p, const json_t *t, size_t idx)
{
    char *loc[CELL_MAX], *ass[3];
    size_t nl = location_cell(p, t, loc);
    char *al = pdf_latin1(assurance_label(json_string_value(json_object_get(t, "assurance"))));
    size_t na = al ? wrap(p, p->reg, FS_CELL, col_x[COL_ASS + 1] - col_x[COL_ASS] - 2 * CELL_PAD,
                          al, ass, 3)
                   : 0;
    size_t rows = nl > na ? nl : na;
    rows = rows ? rows : 1;
    float h = (float)rows * LEAD + 2 * CELL_PAD;
    need(p, h);
    float base = p->y - CELL_PAD - 7;
    char b[64];
    snprintf(b, sizeof(b), "%zu", idx + 1);
    text_at(p, p->reg, FS_CELL, col_x[COL_N] + CELL_PAD, base, b);
    for (size_t i = 0; i < nl; i++)
        if (loc[i] != NULL)
            text_at(p, p->reg, FS_CELL, col_x[COL_LOC] + CELL_PAD, base - (float)i * LEAD, loc[i]);
    pdf_human_size(b, sizeof(b), jll(t, "size"));
    text_at(p, p->reg, FS_CELL, col_x[COL_SIZE] + CELL_PAD, base, b);
    const char *sha = dp_cert_get_str(t, "digests.sha256");
    snprintf(b, sizeof(b), "%.16s", sha ? sha : "-");
    char *shal = pdf_latin1(b);
    if (shal != NULL)
        text_at(p, p->mono, 7, col_x[COL_SHA] + CELL_PAD, base, shal);
    free(shal);
    for (size_t i = 0; i < na; i++)
        text_at(p, p->reg, FS_CELL, col_x[COL_ASS] + CELL_PAD, base - (float)i * LEAD, ass[i]);
    const char *vr = dp_cert_get_str(t, "verification.result");
    utext_at(p, p->reg, FS_CELL, col_x[COL_VER] + CELL_PAD, base,
             col_x[COL_VER + 1] - col_x[COL_VER] - 2 * CELL_PAD, vr ? vr : "-");
    p->y -= h;
    if (!p->failed) {
        HPDF_Page_SetGrayStroke(p->page, 0.6f);
        rule(p, p->y, 0.3f);
        HPDF_Page_SetGrayStroke(p->page, 0);
    }
    pdf_free_lines(loc, nl);
    pdf_free_lines(ass, na);
    free(al);
}

static void findings_table(struct pdf *p, const json_t *cert)
{
    const json_t *targets = json_object_get(cert, "targets");
    char title[64];
    snprintf(title, sizeof(title), "Matched files (%zu target(s))", json_array_size(targets));
    section_keep(p, title, 14 + 3 * LEAD + 2 * CELL_PAD + 4);
    if (json_array_size(targets) == 0) {
        paragraph(p, p->reg, 9, MARGIN_L, CONTENT_W,
                  "The scan found no file matching the hash "
                  "lists.");
        return;
    }
    need(p, 14 + 3 * LEAD);
    p->y -= 4;
    draw_table_header(p);
    p->in_table = true;
    size_t i;
    const json_t *t;
    json_array_foreach(targets, i, t)
    {
        if (p->failed || p->oom)
            break;
        table_row(p, t, i);
    }
    p->in_table = false;
    p->y -= 2;
    paragraph(p, p->reg, 7, MARGIN_L, CONTENT_W,
              "Names, inodes, full digests, match method (list and line), overwrite passes, "
              "extents and the facts behind each assurance level are in the signed JSON "
              "certificate.");
}

static void rescan_block(struct pdf *p, const json_t *cert)
{
    section(p, "Post-erasure re-scan");
    if (!json_is_true(jget(cert, "outcome.rescan.performed"))) {
        kv(p, "Re-scan", "NOT DONE - the erasure is not confirmed");
        return;
    }
    char b[300];
    snprintf(b, sizeof(b), "%s to %s", jsd(cert, "outcome.rescan.started"),
             jsd(cert, "outcome.rescan.finished"));
    kv(p, "Period", b);
    snprintf(b, sizeof(b), "%lld files seen, %lld read, %lld not examinable",
             jll(cert, "outcome.rescan.totals.files"),
             jll(cert, "outcome.rescan.totals.files_read"),
             jll(cert, "outcome.rescan.totals.skipped"));
    kv(p, "Totals", b);
    snprintf(b, sizeof(b), "%lld", jll(cert, "outcome.rescan.findings"));
    kv(p, "Matches remaining", b);
    if (json_is_object(jget(cert, "sweep"))) { /* the device swept for deleted copies */
        snprintf(b, sizeof(b), "%s: %lld remnant(s) before the wipe, %lld after",
                 jsd(cert, "sweep.device"), jll(cert, "sweep.before.remnants"),
                 jll(cert, "sweep.after.remnants"));
        kv(p, "Device sweep", b);
    }
    size_t i;
    const json_t *r;
    json_array_foreach(jget(cert, "outcome.rescan.remaining"), i, r)
    {
        if (i == 50) {
            kv(p, "", "... (see the JSON certificate)");
            break;
        }
        char *t = dp_cert_location_text(json_object_get(r, "location"));
        kv(p, "STILL PRESENT", t ? t : "?");
        free(t);
    }
    json_array_foreach(jget(cert, "outcome.rescan.left_by_decision"), i, r)
    {
        if (i == 50) {
            kv(p, "", "... (see the JSON certificate)");
            break;
        }
        const char *st = json_string_value(json_object_get(r, "status"));
        char *t = dp_cert_location_text(json_object_get(r, "location"));
        kv(p, st != NULL && strcmp(st, "rejected") == 0 ? "Rejected (not a copy)"
                                                        : "Awaiting decision",
           t ? t : "?");
        free(t);
    }
}

static void risks_block(struct pdf *p, const json_t *cert)
{
    section(p, "Residual risks");
    size_t i;
    const json_t *r;
    json_array_foreach(jget(cert, "outcome.residual_risks"), i, r)
    {
        if (p->failed || p->oom)
            break;
        need(p, 12);
        text_at(p, p->reg, 8.5f, MARGIN_L, p->y - 11, "-");
        paragraph(p, p->reg, 8.5f, MARGIN_L + 10, CONTENT_W - 10,
                  json_string_value(r) ? json_string_value(r) : "?");
        p->y -= 2;
    }
}

static void verify_block(struct pdf *p, const json_t *cert, const char *keyid, const char *sha)
{
    section(p, "Signature and verification");
    char b[200];
    const char *signer = jstr(cert, "signer.keyid");
    if (keyid != NULL)
        snprintf(b, sizeof(b), "%s (signature verified when this PDF was made)", keyid);
    else
        snprintf(b, sizeof(b),
                 "%s (named by the certificate; signature NOT verified when this "
                 "PDF was made)",
                 signer ? signer : "-");
    kv(p, "Signer key ID", b);
    kv_mono(p, "Certificate SHA-256", sha ? sha : "unknown");
    const char *head = jstr(cert, "outcome.journal.head");
    kv_mono(p, "Wipe journal head", head ? head : "-");
    snprintf(b, sizeof(b), "%lld", jll(cert, "outcome.journal.records"));
    kv(p, "Journal records", b);
    kv(p, "Tool", jstr(cert, "identity.tool.version"));
    kv(p, "Host", jstr(cert, "identity.host"));
    p->y -= 4;
    paragraph(p, p->reg, 8.5f, MARGIN_L, CONTENT_W,
              "This page is a rendering. The signed JSON certificate (CERT.json) and its detached "
              "signature (CERT.json.minisig) are the record. To verify them, obtain the force's "
              "public key (force.pub) from a trusted source, check that its key ID is the one "
              "above, and run either command; then check that the SHA-256 of CERT.json "
              "(sha256sum CERT.json) equals the one printed above:");
    static const char *const cmds[] = {"deprive verify -p force.pub CERT.json",
                                       "minisign -Vm CERT.json -p force.pub"};
    for (size_t i = 0; i < 2; i++) {
        need(p, 14);
        p->y -= 13;
        text_at(p, p->mono, 9.5f, MARGIN_L + 16, p->y, cmds[i]);
    }
    p->y -= 4;
    paragraph(p, p->reg, 8.5f, MARGIN_L, CONTENT_W,
              "deprive verify also checks the certificate's internal consistency (totals, "
              "outcome); with --journal JOURNAL it replays the wipe journal and checks it ends "
              "at the head above. minisign checks the signature and shows the trusted comment, "
              "which carries the certificate's SHA-256, key ID and certificate ID.");
}

static void footers(struct pdf *p, const json_t *cert)
{
    char left[400];
    snprintf(left, sizeof(left), "Order %s - Exhibit %s - Certificate %s",
             jsd(cert, "authority.order_reference"), jsd(cert, "exhibit.exhibit_reference"),
             jsd(cert, "identity.certificate_id"));
    char *l = pdf_latin1(left), *lines[1];
    size_t n = l ? wrap(p, p->reg, 7, CONTENT_W - 80, l, lines, 1) : 0;
    for (size_t i = 0; i < p->npages && !p->failed; i++) {
        p->page = p->pages[i];
        HPDF_Page_SetGrayStroke(p->page, 0);
        HPDF_Page_SetLineWidth(p->page, 0.5f);
        HPDF_Page_MoveTo(p->page, MARGIN_L, 44);
        HPDF_Page_LineTo(p->page, PAGE_W - MARGIN_R, 44);
        HPDF_Page_Stroke(p->page);
        if (n > 0)
            text_at(p, p->reg, 7, MARGIN_L, 34, lines[0]);
        char pg[64];
        snprintf(pg, sizeof(pg), "Page %zu of %zu", i + 1, p->npages);
        text_at(p, p->bold, 7.5f, PAGE_W - MARGIN_R - pdf_text_width(p->bold, 7.5f, pg), 34, pg);
    }
    pdf_free_lines(lines, n);
    free(l);
}

/* ---- document ---------------------------------------------------------------------------- */

static enum dp_status save(struct pdf *p, const char *out_path, struct dp_error *err)
{
    if (p->failed)
        return DP_ERR_INVALID;
    unsigned char *buf = NULL;
    size_t len = 0;
    enum dp_status rc = pdf_doc_bytes(p->doc, &buf, &len);
    if (rc == DP_ERR_NOMEM)
        p->oom = true;
    if (rc == DP_OK && !p->failed)
        rc = dp_write_file_atomic(out_path, buf, len, 0644, err);
    else if (rc == DP_OK)
        rc = DP_ERR_INVALID;
    free(buf);
    return rc;
}

enum dp_status dp_pdf_render(const json_t *cert, const char *keyid, const char *cert_sha256_hex,
                             const char *out_path, struct dp_error *err)
{
    struct pdf p;
    memset(&p, 0, sizeof(p));
    p.doc = HPDF_New(on_error, &p);
    if (p.doc == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "cannot create a PDF document");
    HPDF_SetCompressionMode(p.doc, HPDF_COMP_ALL);
    p.reg = HPDF_GetFont(p.doc, "Helvetica", "WinAnsiEncoding");
    p.bold = HPDF_GetFont(p.doc, "Helvetica-Bold", "WinAnsiEncoding");
    p.mono = HPDF_GetFont(p.doc, "Courier", "WinAnsiEncoding");
    char title[300];
    snprintf(title, sizeof(title), "Erasure certificate %s",
             jstr(cert, "identity.certificate_id") ? jstr(cert, "identity.certificate_id") : "");
    HPDF_SetInfoAttr(p.doc, HPDF_INFO_TITLE, title);
    HPDF_SetInfoAttr(p.doc, HPDF_INFO_CREATOR, "deprive " DP_VERSION);
    enum dp_status st = DP_OK;
    new_page(&p);
    if (!p.failed && !p.oom) {
        header(&p, cert);
        outcome_box(&p, cert);
        section(&p, "Authority");
        case_block(&p, cert, "authority.");
        exhibit_block(&p, cert);
        scan_block(&p, cert);
        findings_table(&p, cert);
        rescan_block(&p, cert);
        risks_block(&p, cert);
        verify_block(&p, cert, keyid, cert_sha256_hex);
        footers(&p, cert);
    }
    if (!p.failed && !p.oom)
        st = save(&p, out_path, err);
    if (p.oom)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory rendering the PDF");
    else if (p.failed)
        st = dp_error_set(err, DP_ERR_INVALID, 0,
                          "cannot render the PDF: libharu error 0x%04X (detail %u)%s",
                          (unsigned)p.hpdf_err, (unsigned)p.hpdf_detail,
                          p.npages >= MAX_PAGES ? ", too many pages" : "");
    else if (st == DP_ERR_INVALID)
        st = dp_error_set(err, DP_ERR_INVALID, 0, "cannot serialise the PDF");
    HPDF_Free(p.doc);
    free(p.pages);
    return st;
}
