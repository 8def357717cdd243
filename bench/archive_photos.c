/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive bench: photo-like JPEGs for bench/archive.sh - generated scenes (robust_scene in
 * tests/robust.c: gradients, shapes, texture, text-like strokes, sensor noise) encoded with
 * libjpeg (robust_write_jpeg: 4:2:0, baseline), written as DIR/IMG_nnnnn.jpg until the files
 * written reach a byte total. Every image has its own seed, so no two are alike. Exit 0 done,
 * 1 a write failed, 2 usage. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "robust.h"

struct job {
    const char *dir;
    unsigned long long want; /* stop once this many bytes are written */
    int w, h, quality;
    unsigned long long seed;
    atomic_ullong next;      /* the next image number */
    atomic_ullong bytes;     /* bytes written so far */
    atomic_ullong files;
    atomic_int failed;
};

static void *run(void *arg)
{
    struct job *j = arg;
    char path[4096], err[256];
    while (!atomic_load(&j->failed) && atomic_load(&j->bytes) < j->want) {
        unsigned long long i = atomic_fetch_add(&j->next, 1);
        struct robust_image im = {0};
        if (!robust_scene(&im, j->w, j->h, j->seed + i)) {
            fprintf(stderr, "archive_photos: out of memory\n");
            atomic_store(&j->failed, 1);
            break;
        }
        snprintf(path, sizeof(path), "%s/IMG_%05llu.jpg", j->dir, i + 1);
        bool ok = robust_write_jpeg(path, &im, j->quality, err, sizeof(err));
        robust_image_free(&im);
        struct stat st;
        if (!ok || stat(path, &st) != 0) {
            fprintf(stderr, "archive_photos: %s: %s\n", path, ok ? "stat failed" : err);
            atomic_store(&j->failed, 1);
            break;
        }
        atomic_fetch_add(&j->bytes, (unsigned long long)st.st_size);
        atomic_fetch_add(&j->files, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 7) {
        fprintf(stderr, "usage: archive_photos DIR BYTES [WxH [QUALITY [SEED [THREADS]]]]\n"
                        "  JPEGs DIR/IMG_nnnnn.jpg until BYTES are written (default 4000x3000,\n"
                        "  quality 85, seed 1, one thread per CPU); prints files and bytes\n");
        return 2;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct job j = {.dir = argv[1], .want = strtoull(argv[2], NULL, 10), .w = 4000, .h = 3000,
                    .quality = 85, .seed = 1};
    unsigned threads = ncpu > 0 ? (unsigned)ncpu : 1;
    if (argc > 3 && (sscanf(argv[3], "%dx%d", &j.w, &j.h) != 2 || j.w < 64 || j.h < 64 ||
                     j.w > 8192 || j.h > 8192)) {
        fprintf(stderr, "archive_photos: bad size '%s'\n", argv[3]);
        return 2;
    }
    if (argc > 4)
        j.quality = atoi(argv[4]);
    if (argc > 5)
        j.seed = strtoull(argv[5], NULL, 10);
    if (argc > 6)
        threads = (unsigned)atoi(argv[6]);
    if (j.want == 0 || j.quality < 1 || j.quality > 100 || threads < 1 || threads > 64) {
        fprintf(stderr, "archive_photos: bad arguments\n");
        return 2;
    }
    pthread_t t[64];
    unsigned started = 0;
    for (; started < threads; started++)
        if (pthread_create(&t[started], NULL, run, &j) != 0)
            break;
    if (started == 0)
        run(&j);
    for (unsigned i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    printf("%llu %llu\n", (unsigned long long)atomic_load(&j.files),
           (unsigned long long)atomic_load(&j.bytes));
    return atomic_load(&j.failed) ? 1 : 0;
}
