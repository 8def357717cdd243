/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: a suite's planted images and the victim's hash list (see imageset.h). */
#include "imageset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The set iset_make made, for iset_group_teardown: cmocka hands a group teardown no state
 * unless a group setup made one, and the suites have no other use for one. */
static struct iset *made;

bool iset_make(struct iset *s, const char *suite, int sw, int sh, uint64_t sseed,
               const struct iset_file *spec, size_t n)
{
    made = s;
    s->suite = suite;
    s->dir = tu_mkdtemp();
    s->files.dir = s->dir;
    /* the source first, then the files in the spec's order, as the suites always made them */
    struct robust_image src;
    if (!robust_scene(&src, sw, sh, sseed)) {
        printf("%s: cannot make the images: no memory for the source scene\n", suite);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const struct iset_file *f = &spec[i];
        ok = f->seed == ISET_SOURCE
                 ? robust_files_add(&s->files, f->out, f->name, &src, f->w, f->h, f->quality)
                 : robust_files_add_scene(&s->files, f->out, f->name, f->w, f->h, f->seed,
                                          f->quality);
    }
    robust_image_free(&src);
    if (!ok)
        printf("%s: cannot make the images: %s\n", suite, s->files.error);
    return ok;
}

void iset_need(struct iset *s, bool (*make)(void))
{
    tu_need_once(&s->once, make, "the test images");
}

void iset_release(struct iset *s)
{
    robust_files_release(&s->files);
    while (s->npaths > 0)
        free(s->paths[--s->npaths]);
    if (s->dir != NULL)
        tu_rm_rf(s->dir);
    free(s->dir);
    if (made == s)
        made = NULL;
    memset(s, 0, sizeof(*s));
}

int iset_group_teardown(void **state)
{
    (void)state;
    if (made != NULL)
        iset_release(made);
    return 0;
}

char *iset_hash(const struct iset *s, const char *label, const char *sha, ...)
{
    char *argv[40];
    size_t n = 0;
    argv[n++] = (char *)DP_TEST_BIN;
    argv[n++] = (char *)"hash";
    if (label != NULL) {
        argv[n++] = (char *)"--label";
        argv[n++] = (char *)label;
    }
    size_t first = n;
    va_list ap;
    va_start(ap, sha);
    for (const char *name; (name = va_arg(ap, const char *)) != NULL;) {
        assert_true(n < sizeof(argv) / sizeof(argv[0]) - 1);
        argv[n++] = tu_path(s->dir, name);
    }
    va_end(ap);
    argv[n] = NULL;
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    for (size_t i = first; i < n; i++)
        free(argv[i]);
    bool ok = r.status == 0 && strstr(r.out, "pdq:") != NULL &&
              (sha == NULL || strstr(r.out, sha) != NULL);
    if (!ok)
        printf("%s: deprive hash: exit %d, want 0 with a PDQ hash%s: %s%s\n", s->suite, r.status,
               sha != NULL ? " and the SHA-256" : "", r.out, r.err);
    char *out = ok ? r.out : NULL;
    if (!ok)
        free(r.out);
    free(r.err);
    return out;
}

bool iset_pdq(const struct iset *s, const struct robust_file *f, char *pdq, size_t len)
{
    char *out = iset_hash(s, NULL, f->sha, f->name, NULL);
    if (out == NULL)
        return false;
    const char *p = strstr(out, "pdq:");
    snprintf(pdq, len, "%.*s", (int)strcspn(p, " \n"), p);
    free(out);
    return true;
}

const char *iset_write(struct iset *s, const char *name, const char *text)
{
    assert_true(s->npaths < sizeof(s->paths) / sizeof(s->paths[0]));
    char *path = tu_path(s->dir, name);
    s->paths[s->npaths++] = path;
    tu_write_file(path, text, strlen(text));
    return path;
}
