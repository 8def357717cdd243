/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: content-stage internals: the image decoders' table. Each decoder, in its own file
 * (image_<fmt>.c), exports one struct image_decoder; image.c sniffs, checks limits and
 * dispatches. */
#ifndef DEPRIVE_CONTENT_INTERNAL_H
#define DEPRIVE_CONTENT_INTERNAL_H

#include "deprive/image.h"

struct image_decoder {
    enum dp_image_format format;
    const char *name;
    /* Does buf start like this format? */
    bool (*sniff)(const uint8_t *buf, size_t len);
    /* Decode into out (format, pix, w, h, stride, channels, full_w, full_h, scaled), checking
     * the declared dimensions against opts->max_pixels before allocating pixels. */
    enum dp_status (*decode)(const uint8_t *buf, size_t len, const struct dp_image_opts *opts,
                             struct dp_image *out, struct dp_error *err);
    /* The library and its version, e.g. "libpng 1.6.39". */
    const char *(*version)(void);
};

extern const struct image_decoder image_jpeg;
extern const struct image_decoder image_png;
extern const struct image_decoder image_webp;
extern const struct image_decoder image_gif;
extern const struct image_decoder image_bmp;
extern const struct image_decoder image_tiff;
extern const struct image_decoder image_heif;

/* Allocate out->pix for w x h x channels (checked for overflow). */
enum dp_status image_alloc(struct dp_image *out, size_t w, size_t h, int channels,
                           struct dp_error *err);
/* Declared dimensions acceptable under opts? Else DP_ERR_LIMIT with the reason. */
enum dp_status image_check_dims(uint64_t w, uint64_t h, const struct dp_image_opts *opts,
                                struct dp_error *err);

/* ---- running a decoder in a child process (sandbox.c) ----
 * For decoders that cannot be bounded from outside (libheif): fork, run fn in the child under
 * the limits it sets with sandbox_limit_memory, no core dump, every descriptor but 0-2
 * closed, the parent's signal handlers reset; the parent waits at most timeout_ms, then kills
 * the child. fn must touch no lock another thread of the parent may hold across the fork. */

#define SANDBOX_INFO 4

/* Runs in the child: write up to out_size bytes to out (shared with the parent) and up to
 * SANDBOX_INFO numbers to info; return a status and fill err as any decoder. */
typedef enum dp_status (*sandbox_fn)(void *arg, uint8_t *out, size_t out_size,
                                     uint64_t info[SANDBOX_INFO], struct dp_error *err);

/* What a child that succeeded returned; out stays valid until sandbox_release. */
struct sandbox_result {
    uint64_t info[SANDBOX_INFO];
    const uint8_t *out;
    size_t out_size;
    void *map; /* the shared mapping */
    size_t map_size;
};

/* Run fn(arg) in a child; what prefixes messages ("HEIF"). DP_OK: res holds the child's
 * result, release it with sandbox_release. Else fn's status and message, or DP_ERR_LIMIT
 * ("decoding took longer than N s (stopped)", "decoder exceeded its memory limit of N MB"),
 * DP_ERR_PARSE ("decoder crashed (signal N)", "decoder exited unexpectedly (status N)"),
 * DP_ERR_NOMEM or DP_ERR_IO when no child could be started; nothing to release then.
 * Thread-safe; the child is always reaped, no descriptor or mapping is left behind. */
enum dp_status sandbox_run(struct sandbox_result *res, const char *what, size_t out_size,
                           unsigned timeout_ms, sandbox_fn fn, void *arg,
                           struct dp_error *err) DP_WUR;
void sandbox_release(struct sandbox_result *res);
/* In the child only (else abort): allow it bytes more private writable memory (heap, thread
 * stacks) than it had when it started, replacing an earlier limit (a limit can only be
 * lowered). Returns the limit now in force, 0 when there is none (a sanitizer build; no
 * /proc). An allocation refused by it makes sandbox_run report the memory limit when fn
 * returns DP_ERR_NOMEM or a C++ allocation fails. */
uint64_t sandbox_limit_memory(uint64_t bytes);

#endif
