/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: wipe engine - per-target steps, journal records, resume. */
#include "deprive/wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/fiemap.h>

#include <sodium.h>

#include "deprive/digest.h"
#include "deprive/extents.h"
#include "deprive/util.h"
#include "deprive/walk.h"
#include "internal.h"

static const char *or_default(const char *s, const char *dflt)
{
    return s != NULL ? s : dflt;
}

static const char *const method_names[] = {"nist-clear", "zero", "random", "dod-3"};

const char *dp_wipe_method_name(enum dp_wipe_method m)
{
    if ((unsigned)m >= sizeof(method_names) / sizeof(method_names[0]))
        dp_misuse("dp_wipe_method_name: bad method");
    return method_names[m];
}

bool dp_wipe_method_parse(const char *name, enum dp_wipe_method *out)
{
    for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
        if (strcmp(name, method_names[i]) == 0) {
            *out = (enum dp_wipe_method)i;
            return true;
        }
    }
    return false;
}


/* ---- replayed journal state ---- */




enum dp_status dp_wipe_state_new(struct dp_wipe_state **out, struct dp_error *err)
{
    *out = calloc(1, sizeof(**out));
    return *out ? DP_OK : dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
}

void dp_wipe_state_free(struct dp_wipe_state *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->ngroups; i++) {
        json_decref(st->groups[i].overwrite_facts);
        json_decref(st->groups[i].checked);
        json_decref(st->groups[i].done);
        free(st->groups[i].archive_temp);
        json_decref(st->groups[i].archive_written);
        json_decref(st->groups[i].embedded_begin);
    }
    for (size_t i = 0; i < st->nnames; i++) {
        free(st->names[i].current);
        free(st->names[i].previous);
        free(st->names[i].quarantine);
    }
    free(st->groups);
    free(st->names);
    json_decref(st->start);
    json_decref(st->finish_cleanup);
    json_decref(st->slack_pending);
    json_decref(st->reserve_pending);
    free(st->fill_pending);
    free(st);
}

static bool get_index(const json_t *data, const char *key, size_t limit, size_t *out)
{
    const json_t *v = json_object_get(data, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (size_t)json_integer_value(v) >= limit)
        return false;
    *out = (size_t)json_integer_value(v);
    return true;
}

static enum dp_status visit_start(struct dp_wipe_state *st, json_t *data, struct dp_error *err)
{
    size_t ng = (size_t)json_integer_value(json_object_get(data, "groups"));
    size_t nn = (size_t)json_integer_value(json_object_get(data, "names"));
    if (st->start != NULL || ng > 10000000 || nn > 10000000)
        return dp_error_set(err, DP_ERR_VERIFY, 0, "journal: bad or repeated start record");
    st->groups = calloc(ng ? ng : 1, sizeof(*st->groups));
    st->names = calloc(nn ? nn : 1, sizeof(*st->names));
    if (st->groups == NULL || st->names == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    st->ngroups = ng;
    st->nnames = nn;
    st->start = json_incref(data);
    return DP_OK;
}

enum dp_status dp_wipe_state_visit(void *ctx, uint64_t seq, const char *type, json_t *data,
                                   struct dp_error *err)
{
    struct dp_wipe_state *st = ctx;
    size_t g = 0, n = 0;
    if (strcmp(type, "start") == 0)
        return visit_start(st, data, err);
    if (st->start == NULL)
        return dp_error_set(err, DP_ERR_VERIFY, 0, "journal record %llu before the start record",
                            (unsigned long long)seq);
    bool has_g = get_index(data, "group", st->ngroups, &g);
    bool has_n = get_index(data, "name", st->nnames, &n);
    if (strcmp(type, "archive-begin") == 0 && has_g) {
        const char *tmp = json_string_value(json_object_get(data, "temp"));
        if (tmp == NULL || strncmp(tmp, ".dqa", 4) != 0 || strchr(tmp, '/') != NULL)
            return dp_error_set(err, DP_ERR_VERIFY, 0, "journal record %llu: bad archive-begin",
                                (unsigned long long)seq);
        free(st->groups[g].archive_temp);
        st->groups[g].archive_temp = strdup(tmp);
        json_decref(st->groups[g].archive_written);
        st->groups[g].archive_written = NULL;
        st->groups[g].archive_renamed = false;
    } else if (strcmp(type, "archive-written") == 0 && has_g) {
        json_decref(st->groups[g].archive_written);
        st->groups[g].archive_written = json_incref(data);
    } else if (strcmp(type, "embedded-begin") == 0 && has_g) {
        json_decref(st->groups[g].embedded_begin);
        st->groups[g].embedded_begin = json_incref(data);
    } else if (strcmp(type, "archive-renamed") == 0 && has_g) {
        st->groups[g].archive_renamed = true;
    } else if (strcmp(type, "checked") == 0 && has_g) {
        json_decref(st->groups[g].checked);
        st->groups[g].checked = json_incref(data);
    } else if (strcmp(type, "overwrite-begin") == 0 && has_g) {
        st->groups[g].overwrite_begun = true;
    } else if (strcmp(type, "overwrite-done") == 0 && has_g) {
        st->groups[g].overwrite_done = true;
        json_decref(st->groups[g].overwrite_facts);
        st->groups[g].overwrite_facts = json_incref(data);
    } else if (strcmp(type, "rename-intent") == 0 && has_n) {
        const char *from = json_string_value(json_object_get(data, "from_hex"));
        const char *to = json_string_value(json_object_get(data, "to"));
        if (from == NULL || to == NULL)
            return dp_error_set(err, DP_ERR_VERIFY, 0, "journal record %llu: bad rename",
                                (unsigned long long)seq);
        size_t fl = strlen(from) / 2;
        char *raw = calloc(1, fl + 1);
        if (raw == NULL || !dp_hex_decode((uint8_t *)raw, fl, from, strlen(from))) {
            free(raw);
            return dp_error_set(err, DP_ERR_VERIFY, 0, "journal record %llu: bad rename",
                                (unsigned long long)seq);
        }
        free(st->names[n].previous);
        free(st->names[n].current);
        st->names[n].previous = raw;
        st->names[n].current = strdup(to);
    } else if (strcmp(type, "quarantine") == 0 && has_n) {
        const char *dir = json_string_value(json_object_get(data, "dir"));
        if (dir == NULL || strlen(dir) != QUARANTINE_LEN || strchr(dir, '/') != NULL ||
            strncmp(dir, ".dq", 3) != 0)
            return dp_error_set(err, DP_ERR_VERIFY, 0, "journal record %llu: bad quarantine",
                                (unsigned long long)seq);
        free(st->names[n].quarantine);
        st->names[n].quarantine = strdup(dir);
    } else if (strcmp(type, "unlinked") == 0 && has_n) {
        st->names[n].unlinked = true;
    } else if (strcmp(type, "target-done") == 0 && has_g) {
        json_decref(st->groups[g].done);
        st->groups[g].done = json_incref(json_object_get(data, "result"));
    } else if (strcmp(type, "slack-begin") == 0 || strcmp(type, "slack-done") == 0) {
        char key[32];
        snprintf(key, sizeof(key), "%lld",
                 (long long)json_integer_value(json_object_get(data, "dir")));
        if (st->slack_pending == NULL && (st->slack_pending = json_object()) == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        if (type[6] == 'b')
            json_object_set(st->slack_pending, key, data);
        else
            json_object_del(st->slack_pending, key);
    } else if (strcmp(type, "fill-begin") == 0 || strcmp(type, "fill-done") == 0) {
        const char *pfx = json_string_value(json_object_get(data, "prefix"));
        free(st->fill_pending);
        st->fill_pending = type[5] == 'b' && pfx != NULL ? strdup(pfx) : NULL;
    } else if (strcmp(type, "reserve-lowered") == 0) {
        json_decref(st->reserve_pending);
        st->reserve_pending = json_incref(data);
    } else if (strcmp(type, "reserve-restored") == 0) {
        json_decref(st->reserve_pending);
        st->reserve_pending = NULL;
    } else if (strcmp(type, "retry") == 0 && has_g) {
        /* a failed target tried again after the wipe finished (dp_wipe_state_retry_failed):
         * as if interrupted before its result, its failed overwrite to be made again */
        json_decref(st->groups[g].done);
        st->groups[g].done = NULL;
        if (!json_is_true(json_object_get(st->groups[g].overwrite_facts, "ok"))) {
            st->groups[g].overwrite_done = false;
            json_decref(st->groups[g].overwrite_facts);
            st->groups[g].overwrite_facts = NULL;
        }
        st->finished = false;
        json_decref(st->finish_cleanup);
        st->finish_cleanup = NULL;
    } else if (strcmp(type, "finish") == 0) {
        st->finished = true;
        json_decref(st->finish_cleanup);
        st->finish_cleanup = json_incref(json_object_get(data, "cleanup"));
    }
    return DP_OK;
}

const char *dp_wipe_state_plan_file(const struct dp_wipe_state *st)
{
    return st->start ? json_string_value(json_object_get(st->start, "plan_file")) : NULL;
}

const char *dp_wipe_state_plan_sha256(const struct dp_wipe_state *st)
{
    return st->start ? json_string_value(json_object_get(st->start, "plan_sha256")) : NULL;
}

bool dp_wipe_state_method(const struct dp_wipe_state *st, enum dp_wipe_method *out)
{
    const char *m = st->start ? json_string_value(json_object_get(st->start, "method")) : NULL;
    return m != NULL && dp_wipe_method_parse(m, out);
}

bool dp_wipe_state_finished(const struct dp_wipe_state *st)
{
    return st->finished;
}

size_t dp_wipe_state_failed(const struct dp_wipe_state *st)
{
    size_t n = 0;
    for (size_t g = 0; g < st->ngroups; g++) {
        const char *status = json_string_value(json_object_get(st->groups[g].done, "status"));
        n += status != NULL && strcmp(status, "failed") == 0;
    }
    return n;
}

enum dp_status dp_wipe_state_retry_failed(struct dp_wipe_state *st, struct dp_journal *j,
                                          size_t *retried, struct dp_error *err)
{
    *retried = 0;
    if (!st->finished)
        return DP_OK;
    for (size_t g = 0; g < st->ngroups; g++) {
        const json_t *done = st->groups[g].done;
        const char *status = json_string_value(json_object_get(done, "status"));
        if (status == NULL || strcmp(status, "failed") != 0)
            continue;
        json_t *data = json_pack("{s:I, s:s, s:O?}", "group", (json_int_t)g, "status", status,
                                 "reason", json_object_get(done, "reason"));
        if (data == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        enum dp_status rs = dp_journal_append(j, "retry", data, err);
        if (rs == DP_OK)
            rs = dp_wipe_state_visit(st, 0, "retry", data, err);
        json_decref(data);
        if (rs != DP_OK)
            return rs;
        (*retried)++;
    }
    return DP_OK;
}

/* ---- the run ---- */



/* Append a record (data stolen). A journal failure is fatal: nothing more may be done that
 * the journal cannot show. */
enum dp_status wipe_jlog(struct run *r, const char *type, json_t *data, struct dp_error *err)
{
    enum dp_status st = DP_OK;
    if (data == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory building a journal record");
    if (r->j != NULL)
        st = dp_journal_append(r->j, type, data, err);
    if (st != DP_OK)
        r->journal_failed = true;
    json_decref(data);
    return st;
}

static enum dp_status jlog_cb(void *ctx, const char *type, json_t *data, struct dp_error *err)
{
    return wipe_jlog(ctx, type, data, err);
}

static enum dp_status make_groups(struct run *r, struct dp_error *err)
{
    const struct dp_plan *p = r->plan;
    r->groups = calloc(p->count ? p->count : 1, sizeof(*r->groups));
    if (r->groups == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    for (size_t i = 0; i < p->count; i++) {
        const struct dp_file_id *id = &p->targets[i].id;
        /* an archive member is a group of its own (the rewrite takes its siblings along) */
        size_t g = p->targets[i].member_depth > 0 || p->targets[i].embedded ||
                           p->targets[i].remnant
                       ? r->ngroups
                       : 0;
        for (; g < r->ngroups; g++) {
            /* every group made so far has a name: it is made by adding one */
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
            const struct dp_plan_target *t = &p->targets[r->groups[g].names[0]];
            const struct dp_file_id *o = &t->id;
            if (t->member_depth == 0 && !t->embedded && !t->remnant && o->ino == id->ino &&
                o->dev_major == id->dev_major &&
                o->dev_minor == id->dev_minor)
                break;
        }
        if (g == r->ngroups)
            r->ngroups++;
        size_t *n = realloc(r->groups[g].names, (r->groups[g].count + 1) * sizeof(*n));
        if (n == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        n[r->groups[g].count++] = i;
        r->groups[g].names = n;
    }
    return DP_OK;
}


const char *wipe_base_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* path with its last component replaced by base, heap */
char *wipe_with_base(const char *path, const char *base)
{
    size_t dl = (size_t)(wipe_base_of(path) - path);
    size_t bl = strlen(base);
    char *o = malloc(dl + bl + 1);
    if (o != NULL) {
        memcpy(o, path, dl);
        memcpy(o + dl, base, bl + 1);
    }
    return o;
}

int wipe_try_open(struct run *r, const char *path, int flags, int *dirfd,
                    struct dp_error *err)
{
    return dp_walk_open_at_root(r->rootfd, path, strlen(path), flags, r->plan->cross_mounts,
                                dirfd, err);
}

/* The object now at a target's path is the one scanned: the same filesystem (the device
 * number mapped through the root's: a reboot or a loop renumbering changes st_dev, and the
 * root was proved the same filesystem by UUID), the same inode, and where the filesystem
 * reports them the same birth time and generation - which tell a reused inode number. */
static bool same_object(const struct run *r, const struct dp_file_id *then,
                        const struct dp_file_id *now)
{
    const struct dp_file_id *root = &r->plan->root_id.id;
    bool on_root = r->plan->root_id.present && then->dev_major == root->dev_major &&
                   then->dev_minor == root->dev_minor;
    uint64_t maj = on_root ? r->fs.dev_major : then->dev_major;
    uint64_t min = on_root ? r->fs.dev_minor : then->dev_minor;
    if (!S_ISREG(now->mode) || now->ino != then->ino || now->dev_major != maj ||
        now->dev_minor != min)
        return false;
    if (then->has_btime && now->has_btime &&
        (then->btime_sec != now->btime_sec || then->btime_nsec != now->btime_nsec))
        return false;
    if (then->has_generation && now->has_generation && then->generation != now->generation)
        return false;
    return true;
}

/* Was a birth time or a generation compared? Only then does a matching inode number prove the
 * object is the scanned one once its content and times have been changed by the wipe. */
static bool identity_proved(const struct dp_file_id *then, const struct dp_file_id *now)
{
    return (then->has_btime && now->has_btime) || (then->has_generation && now->has_generation);
}

static bool unchanged(const struct dp_file_id *then, const struct dp_file_id *now)
{
    return now->size == then->size && now->mtime_sec == then->mtime_sec &&
           now->mtime_nsec == then->mtime_nsec && now->ctime_sec == then->ctime_sec &&
           now->ctime_nsec == then->ctime_nsec;
}

/* A second, read-write descriptor on the inode fd refers to (no second path walk). */
static int reopen_rw(int fd)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    int w = open(p, O_RDWR | O_CLOEXEC | O_NOCTTY);
    struct stat a, b;
    if (w >= 0 && (fstat(fd, &a) != 0 || fstat(w, &b) != 0 || a.st_ino != b.st_ino ||
                   a.st_dev != b.st_dev)) {
        close(w);
        errno = ESTALE;
        return -1;
    }
    return w;
}

/* Stacked filesystems (overlayfs ...): a read-write open copies the file up into the upper
 * layer and the lower layer keeps the original, so nothing there can be erased. Checked on a
 * read-only descriptor, before any read-write open. */
static bool on_stacked_fs(const struct run *r, int fd)
{
    struct statfs sfs;
    if (fstatfs(fd, &sfs) == 0 && (uint64_t)sfs.f_type == 0x794c7630u) /* overlayfs */
        return true;
    struct dp_fsinfo tfs;
    return r->plan->cross_mounts && dp_fsinfo_get(fd, &tfs, NULL) == DP_OK && tfs.stacked;
}

/* How many different paths of the plan name t's inode (the plain file's names, or the one
 * container path its members and embedded copies share). */
static size_t plan_names_of(const struct dp_plan *p, const struct dp_plan_target *t)
{
    /* beyond 8 different names each further target counts as a name: more names than there
     * are only ever lets a file through that has more than 8 links in the plan */
    const struct dp_plan_target *seen[8];
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++) {
        const struct dp_plan_target *o = &p->targets[i];
        if (o->remnant || o->id.ino != t->id.ino || o->id.dev_major != t->id.dev_major ||
            o->id.dev_minor != t->id.dev_minor)
            continue;
        size_t j = 0;
        while (j < n && j < 8 &&
               (seen[j]->path_len != o->path_len ||
                memcmp(seen[j]->path, o->path, o->path_len) != 0))
            j++;
        if (j < n && j < 8)
            continue;
        if (n < 8)
            seen[n] = o;
        n++;
    }
    return n;
}

/* Open name k of a group where the journal says it may now be: read-only first, checked,
 * then read-write on the same inode. */
enum dp_status wipe_open_name(struct run *r, size_t k, bool relaxed, struct opened *o,
                                struct dp_error *err)
{
    const struct dp_plan_target *t = &r->plan->targets[k];
    const struct name_state *ns = r->resume ? &r->resume->names[k] : NULL;
    o->fd = o->dirfd = -1;
    if (ns != NULL && ns->unlinked) {
        o->removed = true;
        return DP_OK;
    }
    const char *cands[3] = {ns ? ns->current : NULL, ns ? ns->previous : NULL, NULL};
    if (cands[0] == NULL)
        cands[0] = wipe_base_of(t->path);
    for (int c = 0; c < 2 && cands[c] != NULL; c++) {
        char *p = wipe_with_base(t->path, cands[c]);
        if (p == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        o->fd = wipe_try_open(r, p, O_RDONLY, &o->dirfd, err);
        free(p);
        if (o->fd >= 0) {
            o->base = strdup(cands[c]);
            break;
        }
        if (err->sys_errno != ENOENT)
            return err->code == DP_OK ? DP_ERR_IO : err->code;
    }
    if (o->fd < 0) {
        /* gone: after our own renames began that means we unlinked it before the crash */
        if (relaxed || (ns != NULL && ns->current != NULL)) {
            o->removed = true;
            return DP_OK;
        }
        return dp_error_set(err, DP_ERR_CHANGED, ENOENT, "no longer present");
    }
    struct dp_file_id now;
    enum dp_status st = dp_file_id_stat(o->fd, "", &now, err);
    if (st != DP_OK)
        return st;
    if (!same_object(r, &t->id, &now))
        return dp_error_set(err, DP_ERR_CHANGED, 0, "a different object is at this path");
    if (relaxed && !identity_proved(&t->id, &now))
        return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                            "the wipe was interrupted after its overwrite began, and the "
                            "filesystem reports neither birth time nor inode generation: the "
                            "object at this path cannot be proved to be the one scanned");
    if (!relaxed && !unchanged(&t->id, &now))
        return dp_error_set(err, DP_ERR_CHANGED, 0, "size or times differ from the scan");
    size_t named = plan_names_of(r->plan, t);
    if (!relaxed && now.nlink > named)
        return dp_error_set(err, DP_ERR_LIMIT, 0,
                            "the file has %lu names and the plan only %zu: its content is "
                            "also the content of a name outside the scanned root (or in a "
                            "directory the scan did not read), which erasing it would change; "
                            "scan from the filesystem's root so that the plan names them all",
                            (unsigned long)now.nlink, named);
    if (on_stacked_fs(r, o->fd))
        return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                            "on a stacked filesystem (overlayfs): writing would copy the file "
                            "up and leave the lower layer's copy; erase it on the lower "
                            "filesystem itself");
    if (r->opts->dry_run)
        return DP_OK;
    int w = reopen_rw(o->fd);
    if (w < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open for writing");
    close(o->fd);
    o->fd = w;
    return DP_OK;
}

void wipe_close_opened(struct opened *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (o[i].fd >= 0)
            close(o[i].fd);
        if (o[i].dirfd >= 0)
            close(o[i].dirfd);
        free(o[i].base);
    }
}

/* Re-hash the content: it must still be what matched. */
static enum dp_status check_content(struct run *r, const struct dp_plan_target *t, int fd,
                                    struct dp_error *err)
{
    uint8_t dg[DP_ALGO_EXACT_COUNT][DP_DIGEST_MAX];
    uint64_t bytes = 0;
    if (lseek(fd, 0, SEEK_SET) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "seek failed");
    enum dp_status st = dp_digest_fd(r->digest, t->digest_mask, fd, r->rbuf, WIPE_CHUNK, NULL, 0,
                                     NULL, &bytes, dg, err);
    if (st != DP_OK)
        return st;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++)
        if ((t->digest_mask & DP_DIGEST_MASK(a)) &&
            memcmp(dg[a], t->digests[a], dp_algo_len((enum dp_algo)a)) != 0)
            return dp_error_set(err, DP_ERR_CHANGED, 0, "content no longer matches (%s)",
                                dp_algo_name((enum dp_algo)a));
    struct dp_file_id now;
    if (dp_file_id_stat(fd, "", &now, err) != DP_OK)
        return DP_ERR_IO;
    if (bytes != t->id.size || !same_object(r, &t->id, &now) || !unchanged(&t->id, &now))
        return dp_error_set(err, DP_ERR_CHANGED, 0, "modified while being checked");
    return DP_OK;
}

/* Does dirfd/name name the inode fd holds open? */
static bool still_ours(int dirfd, const char *name, int fd)
{
    struct stat a, b;
    return fstatat(dirfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
           S_ISREG(a.st_mode) && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void seam(struct run *r, const char *point, int dirfd, const char *name)
{
    if (r->opts->test_seam != NULL)
        r->opts->test_seam(r->opts->test_seam_ctx, point, dirfd, name);
}

void wipe_random_name(char *out, size_t len)
{
    /* lower case and digits only: FAT and NTFS fold case */
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
    out[len] = '\0';
}

static int rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
    if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* FUSE drivers without rename2: check, then plain rename */
    struct stat sb;
    if (fstatat(tofd, to, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
        errno = EEXIST;
        return -1;
    }
    return renameat(fromfd, from, tofd, to);
}

/* After a rename: the new name must hold our inode. If another object arrived there (the old
 * name was swapped between the check and the rename), put it back where it was found. */
static enum dp_status prove_rename(int fromfd, const char *from, int tofd, const char *to,
                                   int fd, struct dp_error *err)
{
    if (still_ours(tofd, to, fd))
        return DP_OK;
    /* NOLINTNEXTLINE(readability-suspicious-call-argument): swapped on purpose, to undo it */
    bool undone = rename_noreplace(tofd, to, fromfd, from) == 0;
    return dp_error_set(err, DP_ERR_CHANGED, 0,
                        undone ? "the name was swapped for another file during the scrub; that "
                                 "file was put back and the target left alone"
                               : "the name was swapped for another file during the scrub, and "
                                 "putting it back failed: it is under a random name");
}

static char *name_hex(const char *name)
{
    size_t n = strlen(name);
    char *hex = malloc(2 * n + 1);
    if (hex != NULL)
        dp_hex_encode(hex, (const uint8_t *)name, n);
    return hex;
}

static enum dp_status log_rename(struct run *r, size_t g, size_t k, const char *from,
                                 const char *to, struct dp_error *err)
{
    char *hex = name_hex(from);
    if (hex == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    enum dp_status st = wipe_jlog(r, "rename-intent",
                             json_pack("{s:I, s:I, s:s, s:s}", "group", (json_int_t)g, "name",
                                       (json_int_t)k, "from_hex", hex, "to", to),
                             err);
    free(hex);
    return st;
}

/* FUSE drivers can report a stale link count for an open file (seen with ntfs-3g). */
static bool stale_nlink_fs(const struct run *r)
{
    return strcmp(r->fs.fstype, "fuseblk") == 0 || strcmp(r->fs.fstype, "fuse") == 0;
}

/* The last step, inside the quarantine directory qfd where only "x" lives: unlink it, and
 * prove the held inode lost that link. */
static enum dp_status unlink_in_quarantine(struct run *r, size_t g, size_t k, int qfd, int fd,
                                          struct dp_error *err)
{
    struct stat before, after;
    if (!still_ours(qfd, QUARANTINE_ENTRY, fd) || fstat(fd, &before) != 0)
        return dp_error_set(err, DP_ERR_CHANGED, 0,
                            "the quarantined name no longer refers to the file");
    seam(r, "unlink", qfd, QUARANTINE_ENTRY);
    if (unlinkat(qfd, QUARANTINE_ENTRY, 0) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "unlink failed");
    fsync(qfd);
    struct stat gone;
    bool dropped = fstat(fd, &after) == 0 && after.st_nlink + 1 == before.st_nlink;
    bool absent = fstatat(qfd, QUARANTINE_ENTRY, &gone, AT_SYMLINK_NOFOLLOW) != 0 &&
                  errno == ENOENT;
    if (!dropped && !(absent && stale_nlink_fs(r) && after.st_nlink == before.st_nlink))
        return dp_error_set(err, DP_ERR_CHANGED, 0,
                            "the file's link count did not fall after the unlink (%llu -> %llu)",
                            (unsigned long long)before.st_nlink,
                            (unsigned long long)after.st_nlink);
    return wipe_jlog(r, "unlinked", json_pack("{s:I, s:I}", "group", (json_int_t)g, "name",
                                         (json_int_t)k),
                err);
}

/* Move the name into a fresh private directory made beside it and unlink it there: an unlink
 * by name in a directory others can change could hit whatever was swapped in between the check
 * and the act, but nothing but root can swap a name inside a 0700 directory of root's. The
 * move itself is proved (and undone when it caught another file). */
static enum dp_status quarantine_unlink(struct run *r, size_t g, size_t k, struct opened *o,
                                        int fd, struct dp_error *err)
{
    char q[QUARANTINE_LEN + 1], to[QUARANTINE_LEN + sizeof(QUARANTINE_ENTRY) + 1];
    memcpy(q, ".dq", 3);
    wipe_random_name(q + 3, QUARANTINE_LEN - 3);
    enum dp_status st = wipe_jlog(r, "quarantine",
                             json_pack("{s:I, s:I, s:s}", "group", (json_int_t)g, "name",
                                       (json_int_t)k, "dir", q),
                             err);
    if (st != DP_OK)
        return st;
    if (mkdirat(o->dirfd, q, 0700) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot make the quarantine directory");
    int qfd = openat(o->dirfd, q, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat qs;
    if (qfd < 0 || fstat(qfd, &qs) != 0 || qs.st_nlink > 2 || qs.st_uid != geteuid()) {
        if (qfd >= 0)
            close(qfd);
        return dp_error_set(err, DP_ERR_CHANGED, 0, "the quarantine directory is not ours");
    }
    snprintf(to, sizeof(to), "%s/%s", q, QUARANTINE_ENTRY);
    if (!still_ours(o->dirfd, o->base, fd))
        st = dp_error_set(err, DP_ERR_CHANGED, 0, "name no longer refers to the file");
    else
        st = log_rename(r, g, k, o->base, to, err);
    if (st == DP_OK) {
        seam(r, "quarantine", o->dirfd, o->base);
        if (rename_noreplace(o->dirfd, o->base, qfd, QUARANTINE_ENTRY) != 0)
            st = dp_error_set(err, DP_ERR_IO, errno, "rename into quarantine failed");
        else
            st = prove_rename(o->dirfd, o->base, qfd, QUARANTINE_ENTRY, fd, err);
    }
    if (st == DP_OK)
        st = unlink_in_quarantine(r, g, k, qfd, fd, err);
    close(qfd);
    if (st == DP_OK || !r->journal_failed)
        unlinkat(o->dirfd, q, AT_REMOVEDIR); /* empty unless something is left to explain */
    fsync(o->dirfd);
    if (st == DP_OK)
        o->removed = true;
    return st;
}

/* Rename to random names of the same and then halving lengths (each journaled first, proved
 * after, the directory fsynced), then unlink through a quarantine directory. fd holds the
 * target open: every step checks the name still refers to it. */
static enum dp_status scrub_name(struct run *r, size_t g, size_t k, struct opened *o, int fd,
                                 struct dp_error *err)
{
    if (strchr(o->base, '/') != NULL) { /* resumed after the move into quarantine */
        enum dp_status st = unlink_in_quarantine(r, g, k, o->dirfd, fd, err);
        o->removed = st == DP_OK;
        return st;
    }
    size_t len = strlen(o->base);
    for (;;) {
        char next[256];
        int tries = 0;
        for (;;) {
            wipe_random_name(next, len);
            if (!still_ours(o->dirfd, o->base, fd))
                return dp_error_set(err, DP_ERR_CHANGED, 0, "name no longer refers to the file");
            enum dp_status st = log_rename(r, g, k, o->base, next, err);
            if (st != DP_OK)
                return st;
            seam(r, "rename", o->dirfd, o->base);
            if (rename_noreplace(o->dirfd, o->base, o->dirfd, next) == 0)
                break;
            if (errno != EEXIST || ++tries > 20)
                return dp_error_set(err, DP_ERR_IO, errno, "rename failed");
        }
        fsync(o->dirfd);
        enum dp_status st = prove_rename(o->dirfd, o->base, o->dirfd, next, fd, err);
        if (st != DP_OK)
            return st;
        free(o->base);
        o->base = strdup(next);
        if (o->base == NULL)
            return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        if (len == 1)
            break;
        len /= 2;
    }
    return quarantine_unlink(r, g, k, o, fd, err);
}

static json_t *digests_of(const struct dp_plan_target *t)
{
    json_t *o = json_object();
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++) {
        if (!(t->digest_mask & DP_DIGEST_MASK(a)))
            continue;
        char hex[2 * DP_DIGEST_MAX + 1];
        dp_hex_encode(hex, t->digests[a], dp_algo_len((enum dp_algo)a));
        json_object_set_new(o, dp_algo_name((enum dp_algo)a), json_string(hex));
    }
    return o;
}

/* Where a name the scrub renamed but could not remove was left: its location with the last
 * element replaced by the current name (a quarantine directory and "x" when moved into one),
 * so the examiner can find the file. NULL when it is gone or never renamed. */
static json_t *left_as(const struct dp_plan_target *t, const struct opened *o)
{
    const char *orig = wipe_base_of(t->path);
    if (o->removed || o->base == NULL || t->member_depth > 0 || t->embedded || t->remnant ||
        strcmp(o->base, orig) == 0)
        return NULL;
    const json_t *loc = json_object_get(t->finding, "location");
    json_t *out = json_array();
    for (size_t i = 0; i + 1 < json_array_size(loc); i++)
        json_array_append(out, json_array_get(loc, i));
    for (const char *p = o->base; *p != '\0';) { /* "name", or "quarantine/x" */
        size_t n = strcspn(p, "/");
        json_array_append_new(out, dp_json_bytes(p, n));
        p += n + (p[n] == '/');
    }
    return out;
}

json_t *wipe_group_result(struct run *r, size_t g, const struct opened *o)
{
    const struct group *gr = &r->groups[g];
    const struct dp_plan_target *t0 = &r->plan->targets[gr->names[0]];
    json_t *names = json_array();
    for (size_t i = 0; i < gr->count; i++) {
        const struct dp_plan_target *t = &r->plan->targets[gr->names[i]];
        json_t *n = json_pack("{s:O, s:I, s:b}", "location",
                              json_object_get(t->finding, "location"), "plan_index",
                              (json_int_t)gr->names[i], "removed", o[i].removed);
        if (o[i].error[0])
            json_object_set_new(n, "error", json_string(o[i].error));
        json_t *left = left_as(t, &o[i]);
        if (left != NULL)
            json_object_set_new(n, "left_as", left);
        json_array_append_new(names, n);
    }
    return json_pack("{s:{s:I, s:I}, s:I, s:I, s:o, s:o}", "device", "major",
                     (json_int_t)t0->id.dev_major, "minor", (json_int_t)t0->id.dev_minor,
                     "inode", (json_int_t)t0->id.ino, "size", (json_int_t)t0->id.size,
                     "digests", digests_of(t0), "names", names);
}

void wipe_set_status(json_t *res, const char *status, const char *reason)
{
    json_object_set_new(res, "status", json_string(status));
    if (reason != NULL)
        json_object_set_new(res, "reason", json_string(reason));
}

void wipe_progress(struct run *r, size_t g, enum dp_wipe_phase phase, const char *path)
{
    if (r->opts->progress == NULL)
        return;
    struct dp_wipe_progress p = {g, r->ngroups, phase, path};
    r->opts->progress(r->opts->progress_ctx, &p);
}

static uint64_t round_up(uint64_t v, uint64_t m)
{
    return (v + m - 1) / m * m;
}

/* Extents flagged shared (reflinks, snapshots, deduplication): overwriting the file gives it
 * new blocks and leaves the shared ones to whoever else references them. */
static json_t *shared_facts(int fd, const json_t *extents, const char *kind)
{
    size_t i, n = 0;
    const json_t *e;
    json_array_foreach(extents, i, e)
        n += (json_integer_value(json_object_get(e, "flags")) & FIEMAP_EXTENT_SHARED) != 0;
    if (n == 0)
        return NULL;
    bool can_tell = false;
    json_t *who = wipe_shared_owners(fd, extents, kind, &can_tell);
    return json_pack("{s:I, s:o, s:b}", "extents", (json_int_t)n, "sharers",
                     who ? who : json_array(), "can_tell", can_tell);
}

/* The medium of a target's filesystem: the examiner's statement applies to the plan root's
 * filesystem; elsewhere (--cross-mounts) what sysfs says. */
static void target_fs(const struct run *r, int fd, struct dp_fsinfo *tfs)
{
    if (dp_fsinfo_get(fd, tfs, NULL) != DP_OK)
        *tfs = r->fs;
    if (tfs->dev_major == r->fs.dev_major && tfs->dev_minor == r->fs.dev_minor)
        dp_fsinfo_set_media_class(tfs, r->fs.media_class, r->fs.media_source);
}

/* Overwrite, verify, and record extents around it; returns the facts object (new ref). */
enum dp_status wipe_overwrite_group(struct run *r, size_t g, int fd, json_t **facts,
                                      struct dp_error *err)
{
    return wipe_overwrite_group_ranges(r, g, fd, NULL, 0, facts, err);
}

enum dp_status wipe_overwrite_group_ranges(struct run *r, size_t g, int fd,
                                           const uint64_t (*ranges)[2], size_t nranges,
                                           json_t **facts, struct dp_error *err)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return dp_error_set(err, DP_ERR_IO, errno, "fstat failed");
    const struct dp_plan_target *t0 = &r->plan->targets[r->groups[g].names[0]];
    uint64_t blk = sb.st_blksize >= 512 ? (uint64_t)sb.st_blksize : 4096;
    uint64_t size = (uint64_t)sb.st_size > t0->id.size ? (uint64_t)sb.st_size : t0->id.size;
    /* the whole allocated length: the slack of the last block holds old bytes too */
    uint64_t len = round_up(size, blk);
    if (ranges != NULL) {
        len = 0;
        for (size_t i = 0; i < nranges; i++)
            len += ranges[i][1];
    }
    enum dp_status st = wipe_jlog(r, "overwrite-begin",
                             json_pack("{s:I, s:I}", "group", (json_int_t)g, "bytes",
                                       (json_int_t)len),
                             err);
    if (st != DP_OK)
        return st;
    seam(r, "overwrite-begun", -1, t0->path);
    struct dp_fsinfo tfs;
    target_fs(r, fd, &tfs);
    bool avail_before = false, avail_after = false;
    json_t *before = dp_extents_json(fd, &avail_before);
    json_t *shared = shared_facts(fd, before, dp_fsinfo_kind(&tfs));
    json_t *ow = NULL, *ver = NULL;
    struct dp_error oerr = {0};
    wipe_progress(r, g, DP_PHASE_OVERWRITE, t0->path);
    enum dp_status ost = ranges != NULL ? wipe_io_overwrite_ranges(&r->io, fd, ranges, nranges,
                                                                   &ow, &ver, &oerr)
                                        : wipe_io_overwrite(&r->io, fd, len, blk, &ow, &ver,
                                                            &oerr);
    json_t *after = dp_extents_json(fd, &avail_after);
    bool avail = avail_before && avail_after;
    json_t *fsj = json_pack("{s:s, s:b, s:b, s:i, s:s, s:s}", "type", dp_fsinfo_kind(&tfs),
                            "copy_on_write", dp_fsinfo_is_cow(&tfs), "in_place",
                            dp_fsinfo_is_in_place(&tfs), "rotational", tfs.rotational,
                            "media_class", dp_media_class_name(tfs.media_class),
                            "media_class_source", tfs.media_source);
    *facts = json_pack("{s:I, s:o, s:o, s:{s:b, s:o, s:o, s:b}, s:b}", "group", (json_int_t)g,
                       "overwrite", ow, "verification", ver, "extents", "available", avail,
                       "before", before, "after", after, "moved",
                       avail && wipe_extents_moved(before, after), "ok", ost == DP_OK);
    if (*facts == NULL) {
        json_decref(fsj);
        json_decref(shared);
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    }
    json_object_set_new(*facts, "filesystem", fsj);
    if (shared != NULL)
        json_object_set_new(json_object_get(*facts, "extents"), "shared", shared);
    if (ost != DP_OK)
        json_object_set_new(*facts, "error", json_string(oerr.msg));
    return wipe_jlog(r, "overwrite-done", json_incref(*facts), err);
}

static const char *first_error(struct opened *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].error[0])
            return o[i].error;
    return NULL;
}


void wipe_set_reason(struct work *w, enum dp_wipe_status status, const char *what,
                       const char *msg)
{
    w->decided = true;
    w->status = status;
    snprintf(w->reason, sizeof(w->reason), "%s: %.400s", what, msg);
}

/* Is one of the target's digests in the hash lists? (The plan is a file: this keeps an edited
 * plan from naming a file that matches nothing.) */
bool wipe_listed(const struct run *r, const struct dp_plan_target *t)
{
    if (r->opts->lists == NULL)
        return true;
    for (int a = 0; a < DP_ALGO_EXACT_COUNT; a++) {
        const struct dp_hash_entry *e;
        if ((t->digest_mask & DP_DIGEST_MASK(a)) &&
            dp_hashset_lookup(r->opts->lists, (enum dp_algo)a, t->digests[a], &e) > 0)
            return true;
    }
    return false;
}

enum dp_wipe_status wipe_open_failure(enum dp_status os, const char **what)
{
    switch (os) {
    case DP_ERR_CHANGED:
        *what = "changed since scan";
        return DP_WIPE_SKIPPED;
    case DP_ERR_LIMIT:
        *what = "names outside the plan";
        return DP_WIPE_SKIPPED;
    case DP_ERR_UNSUPPORTED:
        *what = "not erased";
        return DP_WIPE_FAILED;
    default:
        *what = "cannot open";
        return DP_WIPE_FAILED;
    }
}

bool wipe_decide(struct work *w)
{
    if (w->t0->perceptual_only) {
        char why[400];
        bool rejected = false;
        if (w->consent == NULL)
            w->consent = wipe_consent(w->r->opts, w->r->plan, w->gr->names, w->gr->count,
                                      &rejected, why, sizeof(why));
        if (w->consent == NULL) {
            wipe_set_reason(w, rejected ? DP_WIPE_REJECTED : DP_WIPE_SKIPPED,
                       rejected ? "rejected by the examiner" : "perceptual-only match", why);
            return false;
        }
    } else if (!wipe_listed(w->r, w->t0)) {
        wipe_set_reason(w, DP_WIPE_SKIPPED, "not in the hash lists",
                   "no digest of the plan's entry is in the lists given");
        return false;
    }
    return true;
}

static void open_group(struct work *w)
{
    bool relaxed = w->gs != NULL && w->gs->overwrite_begun;
    if (relaxed && w->gs->checked != NULL) {
        /* checked, consented to and begun before the interruption: as the journal says */
        const json_t *ck = w->gs->checked;
        w->consent = json_incref(json_object_get(ck, "consent"));
        w->pdq = json_incref(json_object_get(ck, "pdq"));
        w->match = json_incref(json_object_get(ck, "match"));
    }
    if (!wipe_decide(w))
        return;
    for (size_t i = 0; i < w->gr->count && !w->decided; i++) {
        struct dp_error e = {0};
        enum dp_status os = wipe_open_name(w->r, w->gr->names[i], relaxed, &w->o[i], &e);
        const char *what;
        if (os != DP_OK) {
            enum dp_wipe_status ws = wipe_open_failure(os, &what);
            wipe_set_reason(w, ws, what, e.msg);
        } else if (w->fd < 0 && w->o[i].fd >= 0)
            w->fd = w->o[i].fd;
    }
    if (!w->decided && w->fd < 0) {
        /* every name was unlinked before the interruption: the journal has the facts */
        w->gone_after_overwrite = w->gs != NULL && w->gs->overwrite_done;
        if (!w->gone_after_overwrite)
            wipe_set_reason(w, DP_WIPE_SKIPPED, "changed since scan", "no longer present");
    }
    if (!w->decided && !relaxed && !w->gone_after_overwrite) {
        struct dp_error e = {0};
        enum dp_status cs = check_content(w->r, w->t0, w->fd, &e);
        if (cs == DP_ERR_CHANGED)
            wipe_set_reason(w, DP_WIPE_SKIPPED, "changed since scan", e.msg);
        else if (cs != DP_OK)
            wipe_set_reason(w, DP_WIPE_FAILED, "cannot read", e.msg);
    }
    if (!w->decided && !relaxed && !w->gone_after_overwrite) {
        struct dp_error e = {0};
        bool po = w->t0->perceptual_only;
        if (wipe_pdq_check(w->fd, w->r->opts, po, &w->pdq, &w->match, &e) != DP_OK)
            wipe_set_reason(w, DP_WIPE_FAILED, "cannot read", e.msg);
        else if (po && w->match == NULL)
            wipe_set_reason(w, DP_WIPE_SKIPPED, "no longer a perceptual match",
                       json_object_get(w->pdq, "hash") != NULL
                           ? "its content, hashed again, is not within the radius of any PDQ "
                             "entry of the lists given"
                           : "its content could not be hashed again as an image");
    }
}

/* Before the first write: what was checked and who consented, so that a resumed wipe reports
 * the same. */
static enum dp_status checked_record(struct work *w, struct dp_error *err)
{
    if (w->r->opts->dry_run || (w->gs != NULL && w->gs->overwrite_begun))
        return DP_OK;
    return wipe_jlog(w->r, "checked",
                json_pack("{s:I, s:O?, s:O?, s:O?}", "group", (json_int_t)w->g, "consent",
                          w->consent, "pdq", w->pdq, "match", w->match),
                err);
}

static enum dp_status overwrite_work(struct work *w, struct dp_error *err)
{
    if (w->gs != NULL && w->gs->overwrite_done) {
        w->facts = json_incref(w->gs->overwrite_facts);
    } else {
        enum dp_status st = wipe_overwrite_group(w->r, w->g, w->fd, &w->facts, err);
        if (st != DP_OK)
            return st;
    }
    if (!json_is_true(json_object_get(w->facts, "ok")))
        wipe_set_reason(w, DP_WIPE_FAILED, "overwrite failed",
                   or_default(json_string_value(json_object_get(w->facts, "error")), "unknown"));
    return DP_OK;
}

/* Truncate, then scrub and unlink every name. Only a journal failure is returned. */
enum dp_status wipe_scrub_work(struct work *w, struct dp_error *err)
{
    if (w->fd >= 0 && (ftruncate(w->fd, 0) != 0 || fsync(w->fd) != 0))
        snprintf(w->reason, sizeof(w->reason), "truncate after overwrite failed: %s",
                 strerror(errno));
    wipe_progress(w->r, w->g, DP_PHASE_SCRUB, w->t0->path);
    for (size_t i = 0; i < w->gr->count; i++) {
        if (w->o[i].removed)
            continue;
        struct dp_error e = {0};
        bool quarantined = strchr(w->o[i].base, '/') != NULL;
        enum dp_status ss = scrub_name(w->r, w->g, w->gr->names[i], &w->o[i], w->o[i].fd, &e);
        if (ss != DP_OK && w->r->journal_failed) {
            *err = e;
            return ss;
        }
        if (ss != DP_OK) {
            /* say where the file now is when the scrub renamed it before it failed */
            const char *path = w->r->plan->targets[w->gr->names[i]].path;
            char *now = strcmp(w->o[i].base, wipe_base_of(path)) != 0
                            ? wipe_with_base(path, w->o[i].base)
                            : NULL;
            char *q = now != NULL ? dp_quote_bytes(now, strlen(now)) : NULL;
            snprintf(w->o[i].error, sizeof(w->o[i].error), "%.160s%s%.80s%s", e.msg,
                     q ? " (left as '" : "", q ? q : "", q ? "')" : "");
            free(q), free(now);
            continue;
        }
        const char *path = w->r->plan->targets[w->gr->names[i]].path;
        /* resumed inside the quarantine directory: the name was in its parent */
        int sd = quarantined ? openat(w->o[i].dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                             : w->o[i].dirfd;
        slack_note(&w->r->slack, sd, path, strlen(wipe_base_of(path)));
        if (quarantined && sd >= 0)
            close(sd);
    }
    const char *ne = first_error(w->o, w->gr->count);
    if (ne != NULL)
        wipe_set_reason(w, DP_WIPE_FAILED, "a name could not be removed", ne);
    else
        w->decided = true, w->status = DP_WIPE_ERASED;
    return DP_OK;
}

/* Names of the inode left after ours were removed: the link count at the scan less the names
 * removed (any link made since would have changed ctime and failed the identity check), or
 * what fstat says when lower. FUSE drivers can keep reporting a stale count for an open file
 * (seen with ntfs-3g), so fstat alone would claim links that do not exist. */
static uint64_t links_left(const struct work *w)
{
    uint64_t removed = 0;
    for (size_t i = 0; i < w->gr->count; i++)
        removed += w->o[i].removed;
    uint64_t at_scan = w->t0->id.nlink;
    uint64_t left = at_scan > removed ? at_scan - removed : 0;
    struct stat sb;
    if (w->fd >= 0 && fstat(w->fd, &sb) == 0 && (uint64_t)sb.st_nlink < left)
        left = (uint64_t)sb.st_nlink;
    return left;
}

/* The target's result: into results, and (unless a dry run) the target-done record. */
enum dp_status wipe_record_work(struct work *w, json_t *results, struct dp_error *err)
{
    json_t *res = wipe_group_result(w->r, w->g, w->o);
    if (res == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    wipe_set_status(res, dp_wipe_status_name(w->status), w->reason[0] ? w->reason : NULL);
    static const char *const copied[] = {"overwrite", "verification", "extents", "filesystem"};
    for (size_t i = 0; w->facts != NULL && i < sizeof(copied) / sizeof(copied[0]); i++)
        if (json_object_get(w->facts, copied[i]) != NULL)
            json_object_set(res, copied[i], json_object_get(w->facts, copied[i]));
    /* an embedded copy's range overwritten: the container keeps its names by design */
    bool kept = (w->embedded != NULL && !w->o[0].removed) || w->remnant != NULL;
    json_object_set_new(res, "links_remaining",
                        json_integer(kept ? 0 : (json_int_t)links_left(w)));
    json_object_set_new(res, "perceptual_only", json_boolean(w->t0->perceptual_only));
    if (w->match != NULL)
        json_object_set(res, "match", w->match);
    if (w->consent != NULL)
        json_object_set(res, "consent", w->consent);
    if (w->pdq != NULL)
        json_object_set(res, "pdq", w->pdq);
    if (w->extra != NULL)
        json_object_set(res, "archive", w->extra);
    if (w->embedded != NULL)
        json_object_set(res, "embedded", w->embedded);
    if (w->remnant != NULL) { /* device space: no inode */
        json_object_set(res, "remnant", w->remnant);
        json_object_del(res, "inode");
    }
    json_array_append(results, res);
    enum dp_status st = DP_OK;
    if (!w->r->opts->dry_run)
        st = wipe_jlog(w->r, "target-done",
                  json_pack("{s:I, s:O}", "group", (json_int_t)w->g, "result", res), err);
    json_decref(res);
    return st;
}

/* After an interruption: the quarantine directory a name was moved into is removed once empty
 * (an interruption can leave it behind, empty or with the name that was still to go). */
static void remove_quarantine(struct run *r, size_t k)
{
    const char *q = r->resume->names[k].quarantine;
    const struct dp_plan_target *t = &r->plan->targets[k];
    if (q == NULL)
        return;
    int dfd = -1;
    if (strchr(t->path, '/') == NULL) {
        unlinkat(r->rootfd, q, AT_REMOVEDIR);
        return;
    }
    char *p = wipe_with_base(t->path, q);
    if (p == NULL)
        return;
    struct dp_error e = {0};
    int fd = wipe_try_open(r, p, O_RDONLY | O_DIRECTORY, &dfd, &e);
    free(p);
    if (fd >= 0)
        close(fd);
    if (dfd >= 0) {
        unlinkat(dfd, q, AT_REMOVEDIR);
        close(dfd);
    }
}

/* Everything for one inode: check, overwrite, verify, scrub every name, record. */
static enum dp_status process_group(struct run *r, size_t g, json_t *results,
                                    struct dp_error *err)
{
    const struct group_state *gs = r->resume ? &r->resume->groups[g] : NULL;
    if (gs != NULL && gs->done != NULL)
        return json_array_append(results, gs->done) == 0 ? DP_OK : DP_ERR_NOMEM;
    /* every group has a name (make_groups makes one by adding a name) */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    if (r->plan->targets[r->groups[g].names[0]].remnant)
        return wipe_remnant_check(r, g, err);
    if (r->plan->targets[r->groups[g].names[0]].member_depth > 0)
        return r->archive_done[g] ? DP_OK : wipe_archive_group(r, g, results, err);
    if (r->plan->targets[r->groups[g].names[0]].embedded)
        return r->archive_done[g] ? DP_OK : wipe_embedded_group(r, g, results, err);
    struct work w = {.r = r, .g = g, .gs = gs, .gr = &r->groups[g], .fd = -1};
    w.t0 = &r->plan->targets[w.gr->names[0]];
    w.o = calloc(w.gr->count, sizeof(*w.o));
    if (w.o == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    for (size_t i = 0; i < w.gr->count; i++)
        w.o[i].fd = w.o[i].dirfd = -1;
    wipe_progress(r, g, DP_PHASE_CHECK, w.t0->path);
    open_group(&w);
    enum dp_status st = DP_OK;
    if (!w.decided && r->opts->dry_run)
        w.decided = true, w.status = DP_WIPE_PLANNED;
    if (!w.decided)
        st = checked_record(&w, err);
    if (st == DP_OK && !w.decided)
        st = overwrite_work(&w, err);
    if (st == DP_OK && !w.decided)
        st = wipe_scrub_work(&w, err);
    for (size_t i = 0; gs != NULL && i < w.gr->count; i++)
        remove_quarantine(r, w.gr->names[i]);
    if (st == DP_OK)
        st = wipe_record_work(&w, results, err);
    json_decref(w.facts);
    json_decref(w.consent);
    json_decref(w.pdq);
    json_decref(w.match);
    wipe_close_opened(w.o, w.gr->count);
    free(w.o);
    return st;
}

static json_t *time_now_json(void)
{
    char b[32];
    dp_utc_format(b, sizeof(b), time(NULL));
    return json_string(b);
}

static enum dp_status start_record(struct run *r, json_t **plan_info, struct dp_error *err)
{
    char hex[65] = "";
    const char *pf = r->opts->plan_file;
    if (pf != NULL) {
        uint8_t sha[32];
        enum dp_status st = dp_sha256_file(pf, sha, err);
        if (st != DP_OK)
            return st;
        dp_hex_encode(hex, sha, 32);
    }
    *plan_info = json_pack("{s:s?, s:s}", "file", pf, "sha256", hex);
    if (r->resume != NULL) {
        const char *want = dp_wipe_state_plan_sha256(r->resume);
        if (r->resume->ngroups != r->ngroups || r->resume->nnames != r->plan->count ||
            (pf != NULL && want != NULL && strcmp(want, hex) != 0))
            return dp_error_set(err, DP_ERR_INVALID, 0, "the journal belongs to another plan");
        if (r->resume->finished) /* nothing left to do: report what the journal holds */
            return DP_OK;
        return wipe_jlog(r, "resume", json_pack("{s:s}", "plan_sha256", hex), err);
    }
    if (r->opts->dry_run)
        return DP_OK;
    return wipe_jlog(r, "start",
                json_pack("{s:s?, s:s, s:s, s:s, s:I, s:I}", "plan_file", pf, "plan_sha256", hex,
                          "method", dp_wipe_method_name(r->opts->method), "root", r->plan->root,
                          "groups", (json_int_t)r->ngroups, "names", (json_int_t)r->plan->count),
                err);
}

/* The root must still be the directory that was scanned, on the same filesystem: a bind mount
 * or another filesystem placed over ROOT since the scan would turn every relative path into
 * another file. The filesystem is known by its UUID (st_dev changes across reboots and loop
 * renumbering); the mount id is compared only within the boot the scan ran in. */
static enum dp_status check_root(struct run *r, struct dp_error *err)
{
    const struct dp_plan_root *pr = &r->plan->root_id;
    const struct dp_fsinfo *fs = &r->fs;
    const char *root = r->plan->root;
    if (fs->stacked)
        return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                            "'%s' is on a stacked filesystem (%s): opening a file for writing "
                            "copies it up and the lower layer keeps the original; erase on the "
                            "lower filesystem itself",
                            root, fs->fstype);
    if (!pr->present)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "the plan does not record the identity of its root (written by an "
                            "older deprive): scan again");
    bool same_boot = pr->boot_id[0] != '\0' && strcmp(pr->boot_id, fs->boot_id) == 0;
    const char *why = NULL;
    if (pr->has_uuid && fs->have_uuid)
        why = memcmp(pr->uuid, fs->uuid, 16) != 0 ? "another filesystem (UUID differs)" : NULL;
    else if (pr->has_uuid != fs->have_uuid)
        why = "another filesystem (UUID present on one side only)";
    else if (!same_boot)
        why = "the filesystem has no UUID and the machine has rebooted since the scan: it "
              "cannot be proved the same";
    else if (pr->id.dev_major != fs->dev_major || pr->id.dev_minor != fs->dev_minor)
        why = "another filesystem (device differs)";
    if (why == NULL && pr->id.ino != fs->obj.ino)
        why = "another directory (inode differs)";
    if (why == NULL && pr->id.has_btime && fs->obj.has_btime &&
        (pr->id.btime_sec != fs->obj.btime_sec || pr->id.btime_nsec != fs->obj.btime_nsec))
        why = "another directory (birth time differs)";
    if (why == NULL && pr->id.has_generation && fs->obj.has_generation &&
        pr->id.generation != fs->obj.generation)
        why = "another directory (generation differs)";
    if (why == NULL && same_boot && pr->mnt_id != fs->mnt_id)
        why = "another mount (a bind mount or a remount over it since the scan)";
    if (why != NULL)
        return dp_error_set(err, DP_ERR_CHANGED, 0,
                            "'%s' is not the root that was scanned: %s; nothing was done", root,
                            why);
    return DP_OK;
}

/* The fill is forced for a swept plan when remnants wait for it, or when a match was told a
 * live file's by its digests only (no extents): an identical deleted copy may then lie
 * unnoticed, and the fill removes it before the re-scan sweeps again. */
static bool fill_for_sweep(const struct run *r)
{
    if (r->remnants_pending > 0)
        return true;
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(r->plan->sweep, "attributed"), i, a) {
        const char *by = json_string_value(json_object_get(a, "by"));
        if (by != NULL && strcmp(by, "digests") == 0)
            return true;
    }
    return false;
}

static void release_run(struct run *r)
{
    wipe_remnant_release(r);
    if (r->rootfd >= 0)
        close(r->rootfd);
    wipe_io_release(&r->io);
    dp_digest_free(r->digest);
    free(r->rbuf);
    for (size_t g = 0; r->groups && g < r->ngroups; g++)
        free(r->groups[g].names);
    free(r->groups);
    free(r->archive_done);
    slack_release(&r->slack);
}

enum dp_status dp_wipe_run(const struct dp_plan *plan, struct dp_journal *j,
                           const struct dp_wipe_opts *opts, const struct dp_wipe_state *resume,
                           json_t **result, struct dp_error *err)
{
    if (j == NULL && !opts->dry_run)
        dp_misuse("dp_wipe_run: a journal is required unless dry_run");
    struct run r = {.plan = plan, .j = opts->dry_run ? NULL : j, .opts = opts,
                    .resume = resume, .rootfd = -1};
    json_t *started = time_now_json(), *plan_info = NULL, *results = json_array();
    json_t *cleanup = NULL;
    /* a resumed wipe goes on with the method it started with, whatever the caller asks */
    enum dp_wipe_method method = opts->method;
    if (resume != NULL && !dp_wipe_state_method(resume, &method))
        method = opts->method;
    bool finished = resume != NULL && resume->finished;
    enum dp_status st = wipe_io_init(&r.io, method, err);
    if (st != DP_OK)
        goto out;
    r.rbuf = aligned_alloc(4096, WIPE_CHUNK);
    if (r.rbuf == NULL || results == NULL || started == NULL) {
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
        goto out;
    }
    if ((st = dp_digest_new(&r.digest, err)) != DP_OK)
        goto out;
    r.rootfd = open(plan->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (r.rootfd < 0) {
        st = dp_error_set(err, DP_ERR_IO, errno, "cannot open the plan root '%s'", plan->root);
        goto out;
    }
    if ((st = dp_fsinfo_get(r.rootfd, &r.fs, err)) != DP_OK)
        goto out;
    if (!opts->dry_run && r.fs.read_only) {
        st = dp_error_set(err, DP_ERR_INVALID, 0,
                          "'%s' is on a read-only mount: remount it read-write to wipe",
                          plan->root);
        goto out;
    }
    if (!finished && (st = check_root(&r, err)) != DP_OK)
        goto out;
    if (opts->media_class_source != NULL)
        dp_fsinfo_set_media_class(&r.fs, opts->media_class, opts->media_class_source);
    if ((st = make_groups(&r, err)) == DP_OK &&
        (r.archive_done = calloc(r.ngroups ? r.ngroups : 1, sizeof(bool))) == NULL)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    if (st == DP_OK && resume == NULL)
        st = wipe_archive_precheck(&r, err);
    if (st != DP_OK || (st = start_record(&r, &plan_info, err)) != DP_OK)
        goto out;
    if (resume != NULL && !finished && resume->slack_pending != NULL) {
        const char *key;
        json_t *begin;
        json_object_foreach(resume->slack_pending, key, begin)
            slack_undo(r.rootfd, plan->cross_mounts, begin); /* fillers left by the crash */
    }
    /* a crash during the free-space fill left the ext4 reserve lowered: put it back first */
    if (resume != NULL && !finished && resume->reserve_pending != NULL &&
        (st = wipe_reserve_resume(&r.fs, r.rootfd, resume->reserve_pending, jlog_cb, &r, err)) != DP_OK)
        goto out;
    for (size_t g = 0; g < r.ngroups && st == DP_OK; g++)
        st = process_group(&r, g, results, err);
    if (st != DP_OK)
        goto out;
    wipe_progress(&r, r.ngroups, DP_PHASE_CLEANUP, NULL);
    struct dp_wipe_summary counts;
    if ((st = wipe_count_results(results, &counts, err)) != DP_OK)
        goto out;
    bool any_erased = counts.by_status[DP_WIPE_ERASED] > 0;
    if (finished && resume->finish_cleanup != NULL)
        cleanup = json_incref(resume->finish_cleanup);
    else if (opts->dry_run || (!any_erased && r.remnants_pending == 0))
        cleanup = json_pack("{s:{s:b, s:b, s:n}, s:{s:b, s:b, s:i, s:b, s:s, s:n}}",
                            "ext4_checkpoint", "attempted", 0, "done", 0, "error", "free_space",
                            "attempted", 0, "done", 0, "bytes", 0, "verified", 0, "trim",
                            "not-attempted", "error");
    else {
        json_t *slack = NULL;
        if (slack_wanted(&r.fs) &&
            (st = slack_scrub(&r.slack, jlog_cb, &r, &slack, err)) != DP_OK)
            goto out;
        st = wipe_fs_cleanup(&r.io, r.rootfd, &r.fs, opts->wipe_free_space || fill_for_sweep(&r),
                             resume != NULL ? resume->fill_pending : NULL, jlog_cb, &r, &cleanup,
                             err);
        json_object_set_new(cleanup, "directory_slack",
                            slack ? slack : json_pack("{s:b}", "attempted", 0));
        if (st != DP_OK)
            goto out;
    }
    if ((st = wipe_remnant_finish(&r, results, cleanup, err)) != DP_OK)
        goto out;
    size_t i;
    json_t *t;
    json_array_foreach(results, i, t)
        wipe_assure(t, &r.fs, cleanup);
    json_t *sum = wipe_summary_json(results);
    if (!opts->dry_run && !finished && (st = wipe_jlog(&r, "finish", json_pack("{s:O, s:O}", "summary", sum,
                                                               "cleanup", cleanup), err)) != DP_OK) {
        json_decref(sum);
        goto out;
    }
    char head[65] = "";
    uint64_t records = 0;
    if (r.j != NULL) {
        dp_journal_head(r.j, head);
        records = dp_journal_seq(r.j);
    }
    *result = json_pack("{s:s, s:b, s:O, s:o, s:O, s:{s:s, s:I}, s:o, s:O, s:O, s:o, s:o}",
                        "method", dp_wipe_method_name(method), "dry_run", opts->dry_run,
                        "started", started, "finished", time_now_json(), "plan", plan_info,
                        "journal", "head", head, "records", (json_int_t)records, "filesystem",
                        dp_report_fs_json(&r.fs), "targets", results, "cleanup", cleanup,
                        "residual_risks", wipe_residual_risks(&r.fs, cleanup, opts->journal_on_device), "summary", sum);
    if (*result == NULL)
        st = dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory building the wipe result");
out:
    json_decref(started);
    json_decref(plan_info);
    json_decref(results);
    json_decref(cleanup);
    release_run(&r);
    return st;
}
