/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: file type (MIME) from content, via libmagic. */
#ifndef DEPRIVE_CLASSIFY_H
#define DEPRIVE_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "deprive/error.h"

/* Bytes of a file's start that classification looks at. */
#define DP_CLASSIFY_HEAD (64 * 1024)

/* One libmagic handle; not thread-safe: one per thread. */
struct dp_classify;

enum dp_status dp_classify_new(struct dp_classify **out, struct dp_error *err) DP_WUR;
void dp_classify_free(struct dp_classify *c);

/* MIME type ("image/jpeg") of a buffer holding a file's first bytes, into mime (NUL-terminated,
 * "application/octet-stream" when libmagic cannot tell). */
void dp_classify_buffer(struct dp_classify *c, const void *buf, size_t len, char *mime,
                        size_t mime_size);

/* Families later stages dispatch on. */
bool dp_classify_is_image(const char *mime);
bool dp_classify_is_archive(const char *mime);

#endif
