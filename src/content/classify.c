/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: libmagic wrapper. */
#include "deprive/classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magic.h>

struct dp_classify {
    magic_t magic;
};

enum dp_status dp_classify_new(struct dp_classify **out, struct dp_error *err)
{
    struct dp_classify *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    /* no compressed-file peeking: classification must stay a cheap look at the head */
    c->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR);
    if (c->magic == NULL || magic_load(c->magic, NULL) != 0) {
        enum dp_status st = dp_error_set(err, DP_ERR_IO, 0, "cannot load libmagic database%s%s",
                                         c->magic ? ": " : "",
                                         c->magic ? magic_error(c->magic) : "");
        dp_classify_free(c);
        return st;
    }
    *out = c;
    return DP_OK;
}

void dp_classify_free(struct dp_classify *c)
{
    if (c == NULL)
        return;
    if (c->magic != NULL)
        magic_close(c->magic);
    free(c);
}

void dp_classify_buffer(struct dp_classify *c, const void *buf, size_t len, char *mime,
                        size_t mime_size)
{
    const char *m = magic_buffer(c->magic, buf, len);
    snprintf(mime, mime_size, "%s", m ? m : "application/octet-stream");
}

bool dp_classify_is_image(const char *mime)
{
    return strncmp(mime, "image/", 6) == 0;
}

bool dp_classify_is_archive(const char *mime)
{
    static const char *const kinds[] = {
        "application/zip", "application/x-tar", "application/x-7z-compressed",
        "application/x-rar", "application/vnd.rar", "application/gzip", "application/x-xz",
        "application/x-bzip2", "application/zstd", "application/x-cpio",
        "application/x-iso9660-image",
    };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(mime, kinds[i]) == 0)
            return true;
    return false;
}
