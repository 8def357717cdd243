/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: directory slack scrub. FAT, exFAT, NTFS and XFS keep a removed name's bytes in the
 * directory's free space; creating (then removing) empty files with random names of the same
 * length in the same directories makes those filesystems reuse the freed slots, which
 * overwrites the old names with random ones. Best effort: the certificate still states the
 * residual risk, and tests/test_loopfs.c measures what remains. */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "deprive/walk.h"

#define MAX_FILLERS 512 /* per directory */

bool slack_wanted(const struct dp_fsinfo *fs)
{
    /* measured by tests/test_loopfs.c: exFAT and NTFS reuse the slots; fusefat mangles long
     * new names and XFS keeps the old names elsewhere (its log), so they are left out */
    static const char *const kinds[] = {"exfat", "ntfs"};
    const char *k = dp_fsinfo_kind(fs);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(k, kinds[i]) == 0)
            return true;
    return false;
}

void slack_note(struct slack *s, int dirfd, const char *path, size_t name_len)
{
    struct stat sb;
    if (dirfd < 0 || fstat(dirfd, &sb) != 0)
        return;
    for (size_t i = 0; i < s->n; i++) {
        struct slack_dir *d = &s->dirs[i];
        if (d->dev == (uint64_t)sb.st_dev && d->ino == (uint64_t)sb.st_ino) {
            d->names++;
            if (name_len > d->maxlen)
                d->maxlen = name_len;
            return;
        }
    }
    struct slack_dir *nd = realloc(s->dirs, (s->n + 1) * sizeof(*nd));
    if (nd == NULL)
        return;
    s->dirs = nd;
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) : 0;
    struct slack_dir *d = &s->dirs[s->n];
    *d = (struct slack_dir){.fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0), .dev = (uint64_t)sb.st_dev,
                            .ino = (uint64_t)sb.st_ino, .rel = strndup(path, dl),
                            .maxlen = name_len, .names = 1};
    if (d->fd < 0 || d->rel == NULL) {
        if (d->fd >= 0)
            close(d->fd);
        free(d->rel);
        return;
    }
    s->n++;
}

void slack_release(struct slack *s)
{
    for (size_t i = 0; i < s->n; i++) {
        close(s->dirs[i].fd);
        free(s->dirs[i].rel);
    }
    free(s->dirs);
    memset(s, 0, sizeof(*s));
}

/* Remove a filler only if it still is what we made: an empty regular file. */
static void remove_filler(int dirfd, const char *name)
{
    struct stat sb;
    if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
        sb.st_size == 0)
        unlinkat(dirfd, name, 0);
}

static void random_filler(char *out, size_t len)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    out[len] = '\0';
}

/* After removal: any entry still holding one of the fillers' inodes is removed by its name
 * (if still an empty regular file); returns how many could not be. */
static size_t sweep(int dirfd, const ino_t *inos, size_t n)
{
    size_t left = 0;
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (dir == NULL) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        struct stat sb;
        if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (sb.st_ino == inos[i]) {
                remove_filler(dirfd, de->d_name);
                left += fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
                break;
            }
        }
    }
    closedir(dir);
    return left;
}

/* Fillers for one directory: journaled by name before any is made, so that a resume can
 * remove what an interruption left. */
static enum dp_status scrub_dir(struct slack_dir *d, size_t index, slack_log_fn log, void *ctx,
                                size_t *made, size_t *left, struct dp_error *err)
{
    ino_t inos[MAX_FILLERS];
    size_t ninos = 0;
    size_t count = d->names * 10 + 4; /* the renames left names of shrinking length too */
    if (count > MAX_FILLERS)
        count = MAX_FILLERS;
    size_t len = d->maxlen < 1 ? 1 : (d->maxlen > 255 ? 255 : d->maxlen);
    json_t *names = json_array();
    for (size_t i = 0; i < count; i++) {
        char n[256];
        random_filler(n, len);
        json_array_append_new(names, json_string(n));
    }
    enum dp_status st = log(ctx, "slack-begin",
                            json_pack("{s:I, s:s, s:O}", "dir", (json_int_t)index, "path", d->rel,
                                      "fillers", names),
                            err);
    if (st != DP_OK) {
        json_decref(names);
        return st;
    }
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        int fd = openat(d->fd, json_string_value(v),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            break; /* a full directory or filesystem: what was made is enough */
        struct stat made_sb, named_sb;
        bool same = fstat(fd, &made_sb) == 0 &&
                    fstatat(d->fd, json_string_value(v), &named_sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                    made_sb.st_ino == named_sb.st_ino;
        close(fd);
        inos[ninos++] = made_sb.st_ino;
        if (!same) /* the name was altered: stop here; the sweep below takes it away */
            break;
        (*made)++;
    }
    fsync(d->fd);
    json_array_foreach(names, i, v)
        remove_filler(d->fd, json_string_value(v));
    *left += sweep(d->fd, inos, ninos);
    fsync(d->fd);
    json_decref(names);
    return log(ctx, "slack-done", json_pack("{s:I}", "dir", (json_int_t)index), err);
}

enum dp_status slack_scrub(struct slack *s, slack_log_fn log, void *ctx, json_t **out,
                           struct dp_error *err)
{
    size_t made = 0, left = 0;
    for (size_t i = 0; i < s->n; i++) {
        enum dp_status st = scrub_dir(&s->dirs[i], i, log, ctx, &made, &left, err);
        if (st != DP_OK)
            return st;
    }
    *out = json_pack("{s:b, s:I, s:I, s:I}", "attempted", 1, "directories", (json_int_t)s->n,
                     "fillers", (json_int_t)made, "fillers_left", (json_int_t)left);
    return DP_OK;
}

void slack_undo(int rootfd, bool cross_mounts, const json_t *begin)
{
    const char *rel = json_string_value(json_object_get(begin, "path"));
    if (rel == NULL)
        return;
    int dfd = rel[0] == '\0'
                  ? fcntl(rootfd, F_DUPFD_CLOEXEC, 0)
                  : dp_walk_open_at_root(rootfd, rel, strlen(rel), O_RDONLY | O_DIRECTORY,
                                         cross_mounts, NULL, NULL);
    if (dfd < 0)
        return;
    size_t i;
    const json_t *v;
    json_array_foreach(json_object_get(begin, "fillers"), i, v)
        if (json_is_string(v) && strchr(json_string_value(v), '/') == NULL)
            remove_filler(dfd, json_string_value(v));
    fsync(dfd);
    close(dfd);
}
