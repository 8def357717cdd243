/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: what the attest stage's PDF documents share (pdf.c, review.c) - text for the
 * base-14 fonts, line wrapping, sizes for people, and the finished document's bytes. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *pdf_latin1(const char *utf8)
{
    const char *s = utf8 ? utf8 : "-";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned cp = 0, len = 0;
        if (u[i] < 0x80) {
            cp = u[i], len = 1;
        } else if ((u[i] & 0xe0) == 0xc0 && i + 1 < n && (u[i + 1] & 0xc0) == 0x80) {
            cp = ((u[i] & 0x1fu) << 6) | (u[i + 1] & 0x3fu), len = 2;
            if (cp < 0x80)
                cp = '?';
        } else if ((u[i] & 0xf0) == 0xe0 && i + 2 < n && (u[i + 1] & 0xc0) == 0x80 &&
                   (u[i + 2] & 0xc0) == 0x80) {
            cp = ((u[i] & 0x0fu) << 12) | ((u[i + 1] & 0x3fu) << 6) | (u[i + 2] & 0x3fu), len = 3;
        } else if ((u[i] & 0xf8) == 0xf0 && i + 3 < n && (u[i + 1] & 0xc0) == 0x80 &&
                   (u[i + 2] & 0xc0) == 0x80 && (u[i + 3] & 0xc0) == 0x80) {
            cp = 0x110000, len = 4; /* outside Latin-1 anyway */
        } else {
            cp = '?', len = 1;
        }
        i += len;
        if (cp == 0x2018 || cp == 0x2019) {
            out[o++] = '\'';
        } else if (cp == 0x201c || cp == 0x201d) {
            out[o++] = '"';
        } else if (cp == 0x2013 || cp == 0x2014) {
            out[o++] = '-';
        } else if (cp == 0x2026) {
            memcpy(out + o, "...", 3);
            o += 3;
        } else if ((cp >= 0x20 && cp < 0x7f) || (cp >= 0xa0 && cp <= 0xff)) {
            out[o++] = (char)cp;
        } else {
            out[o++] = '?';
        }
    }
    out[o] = '\0';
    return out;
}

float pdf_text_width(HPDF_Font f, float size, const char *latin)
{
    HPDF_TextWidth tw = HPDF_Font_TextWidth(f, (const HPDF_BYTE *)latin, (HPDF_UINT)strlen(latin));
    return (float)tw.width * size / 1000.0f;
}

size_t pdf_wrap(HPDF_Font f, float size, float width, const char *latin, char **out, size_t max,
                bool *oom)
{
    size_t n = 0, len = strlen(latin);
    const char *s = latin;
    while (len > 0 && n < max) {
        /* libharu refuses strings over HPDF_LIMIT_MAX_STRING_LEN; no line needs 1024 bytes */
        HPDF_UINT mlen = (HPDF_UINT)(len > 1024 ? 1024 : len);
        HPDF_UINT k = HPDF_Font_MeasureText(f, (const HPDF_BYTE *)s, mlen, width, size, 0, 0,
                                            HPDF_TRUE, NULL);
        if (k == 0 || (k == mlen && mlen < len && s[k - 1] != ' '))
            k = HPDF_Font_MeasureText(f, (const HPDF_BYTE *)s, mlen, width, size, 0, 0, HPDF_FALSE,
                                      NULL);
        if (k == 0)
            k = 1;
        bool last = n + 1 == max && k < len;
        size_t take = k;
        while (take > 0 && s[take - 1] == ' ')
            take--;
        if (last) {
            /* leave room for the ellipsis */
            HPDF_UINT k2 = HPDF_Font_MeasureText(f, (const HPDF_BYTE *)s, mlen,
                                                 width - pdf_text_width(f, size, "..."), size, 0, 0,
                                                 HPDF_FALSE, NULL);
            take = k2;
        }
        char *line = malloc(take + 4);
        if (line == NULL) {
            *oom = true;
            break;
        }
        memcpy(line, s, take);
        memcpy(line + take, last ? "..." : "", last ? 4 : 1);
        out[n++] = line;
        s += k;
        len -= k;
        while (len > 0 && *s == ' ')
            s++, len--;
    }
    return n;
}

void pdf_free_lines(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
}

void pdf_human_size(char *buf, size_t size, long long bytes)
{
    if (bytes < 100000)
        snprintf(buf, size, "%lld B", bytes);
    else if (bytes < 100LL << 20)
        snprintf(buf, size, "%.1f KiB", (double)bytes / 1024.0);
    else if (bytes < 100LL << 30)
        snprintf(buf, size, "%.1f MiB", (double)bytes / 1048576.0);
    else
        snprintf(buf, size, "%.1f GiB", (double)bytes / 1073741824.0);
}

enum dp_status pdf_doc_bytes(HPDF_Doc doc, unsigned char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (HPDF_SaveToStream(doc) != HPDF_OK)
        return DP_ERR_INVALID;
    HPDF_UINT32 total = HPDF_GetStreamSize(doc);
    unsigned char *buf = malloc(total ? total : 1);
    if (buf == NULL)
        return DP_ERR_NOMEM;
    HPDF_UINT32 got = 0;
    while (got < total) {
        HPDF_UINT32 n = total - got;
        HPDF_STATUS st = HPDF_ReadFromStream(doc, buf + got, &n);
        got += n;
        if (st != HPDF_OK && st != HPDF_STREAM_EOF)
            break;
        if (n == 0 || st == HPDF_STREAM_EOF)
            break;
    }
    if (got != total) {
        free(buf);
        return DP_ERR_INVALID;
    }
    *out = buf;
    *len = got;
    return DP_OK;
}
