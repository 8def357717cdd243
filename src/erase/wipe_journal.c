/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the wipe's journal - what must hold before a wipe writes anything
 * (dp_wipe_preflight: a root that can be wiped, and a journal directory that is writable and
 * not on the filesystem being wiped, decided by filesystem identity rather than st_dev alone),
 * and the journaled wipe itself, new or resumed (dp_wipe_journaled). */
#include "deprive/wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deprive/fsinfo.h"

/* The directory part of path: "." when it has none, "/" for "/name". Heap; NULL when out of
 * memory. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* What shows a and b to be one filesystem, or NULL when nothing does. The mount id alone
 * misses a second mount of the same filesystem (a bind mount, a btrfs subvolume mounted on
 * its own); st_dev alone misses a btrfs subvolume, which has its own device number inside
 * the same mount; so any shared identity counts. */
static const char *same_filesystem(const struct dp_fsinfo *a, const struct dp_fsinfo *b)
{
    if (a->mnt_id != 0 && a->mnt_id == b->mnt_id)
        return "same mount";
    if (a->dev_major == b->dev_major && a->dev_minor == b->dev_minor)
        return "same device number";
    if (a->have_uuid && b->have_uuid && memcmp(a->uuid, b->uuid, sizeof(a->uuid)) == 0)
        return "same filesystem UUID";
    if (a->have_block && b->have_block && strcmp(a->block_name, b->block_name) == 0)
        return "same block device";
    if (strncmp(a->source, "/dev/", 5) == 0 && strcmp(a->source, b->source) == 0)
        return "same mount source";
    return NULL;
}

/* Facts of the filesystem holding directory path. */
static enum dp_status dir_fsinfo(const char *path, const char *what, struct dp_fsinfo *out,
                                 struct dp_error *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return dp_error_set(err, DP_ERR_IO, errno, "cannot open directory '%s'%s", path, what);
    enum dp_status st = dp_fsinfo_get(fd, out, err);
    close(fd);
    return st;
}

static enum dp_status check_journal_dir(const char *journal_path, const char *root,
                                        const struct dp_fsinfo *rfs,
                                        const struct dp_wipe_opts *opts, struct dp_error *err)
{
    char *dir = dir_of(journal_path);
    if (dir == NULL)
        return dp_error_set(err, DP_ERR_NOMEM, 0, "out of memory");
    struct dp_fsinfo jfs;
    enum dp_status st = dir_fsinfo(dir, " for the journal", &jfs, err);
    const char *why = NULL;
    if (st != DP_OK)
        goto out;
    if (jfs.read_only || access(dir, W_OK | X_OK) != 0)
        st = dp_error_set(err, DP_ERR_IO, jfs.read_only ? EROFS : errno,
                          "cannot write the journal '%s' in '%s'%s", journal_path, dir,
                          jfs.read_only ? ": a read-only mount" : "");
    else if (!opts->journal_on_device && (why = same_filesystem(rfs, &jfs)) != NULL)
        st = dp_error_set(err, DP_ERR_INVALID, 0,
                          "the journal '%s' must not be on the filesystem being wiped ('%s', %s): "
                          "it names the erased files; put it elsewhere or pass "
                          "--journal-on-same-fs",
                          journal_path, root, why);
out:
    free(dir);
    return st;
}

enum dp_status dp_wipe_preflight(const char *root, const char *journal_path,
                                 const struct dp_wipe_opts *opts, struct dp_error *err)
{
    struct dp_fsinfo rfs;
    enum dp_status st = dir_fsinfo(root, "", &rfs, err);
    if (st != DP_OK)
        return st;
    /* the refusals dp_wipe_run makes at its start (it checks again: things change) */
    if (!opts->dry_run && rfs.read_only)
        return dp_error_set(err, DP_ERR_INVALID, 0,
                            "'%s' is on a read-only mount: remount it read-write to wipe", root);
    if (rfs.stacked)
        return dp_error_set(err, DP_ERR_UNSUPPORTED, 0,
                            "'%s' is on a stacked filesystem (%s): opening a file for writing "
                            "copies it up and the lower layer keeps the original; erase on the "
                            "lower filesystem itself",
                            root, rfs.fstype);
    if (opts->dry_run || journal_path == NULL)
        return DP_OK;
    return check_journal_dir(journal_path, root, &rfs, opts, err);
}

/* Open the journal to resume and replay it; *state stays NULL when it holds no start record
 * (nothing was done yet: the wipe starts afresh in it). */
static enum dp_status resume_journal(struct dp_journal **j, struct dp_wipe_state **state,
                                     const char *journal_path, const struct dp_wipe_opts *opts,
                                     struct dp_error *err)
{
    struct dp_wipe_journal_info info = {.path = journal_path};
    enum dp_status st = dp_wipe_state_new(state, err);
    if (st == DP_OK)
        st = dp_journal_open(j, journal_path, dp_wipe_state_visit, *state, &info.replay, err);
    if (st != DP_OK)
        return st;
    info.finished = dp_wipe_state_finished(*state);
    /* a finished wipe with failed targets: those are tried again (the fault may be gone) */
    size_t retried = 0;
    if (info.finished && !opts->dry_run &&
        (st = dp_wipe_state_retry_failed(*state, *j, &retried, err)) != DP_OK)
        return st;
    info.retried = retried;
    info.finished = dp_wipe_state_finished(*state);
    if (dp_wipe_state_plan_sha256(*state) == NULL) {
        info.afresh = true;
        dp_wipe_state_free(*state);
        *state = NULL;
    }
    if (opts->journal_note != NULL)
        opts->journal_note(opts->progress_ctx, &info);
    return DP_OK;
}

enum dp_status dp_wipe_journaled(const struct dp_plan *plan, const char *plan_file,
                                 const char *journal_path, bool resume,
                                 const struct dp_wipe_opts *opts_in, json_t **result,
                                 struct dp_error *err)
{
    struct dp_wipe_opts opts = *opts_in;
    struct dp_journal *j = NULL;
    struct dp_wipe_state *state = NULL;
    enum dp_status st = DP_OK;
    *result = NULL;
    if (!opts.dry_run && (journal_path == NULL || plan_file == NULL))
        dp_misuse("dp_wipe_journaled: a journal and a plan file are required unless dry_run");
    if (opts.dry_run && resume)
        dp_misuse("dp_wipe_journaled: a dry run cannot resume");
    opts.plan_file = plan_file;
    if (resume) {
        st = resume_journal(&j, &state, journal_path, &opts, err);
    } else if (!opts.dry_run && (st = dp_journal_create(&j, journal_path, err)) != DP_OK) {
        if (err != NULL && err->sys_errno == EEXIST)
            dp_error_prefix(err, "a wipe of this plan was started before (continue it with "
                                 "--resume): ");
    }
    if (st != DP_OK || (st = dp_wipe_run(plan, j, &opts, state, result, err)) != DP_OK)
        goto out;
    if (j != NULL) {
        json_object_set_new(json_object_get(*result, "journal"), "file",
                            json_string(journal_path));
        struct dp_journal *jj = j;
        j = NULL;
        st = dp_journal_close(jj, err);
    }
out:
    if (st != DP_OK) {
        json_decref(*result);
        *result = NULL;
    }
    /* refused before its first record (a root that is not the one scanned, an archive that
     * needs --archive-policy): the new journal holds nothing, and a retry must not find it */
    bool empty = j != NULL && !resume && dp_journal_seq(j) == 0;
    dp_journal_free(j);
    if (empty)
        unlink(journal_path);
    dp_wipe_state_free(state);
    return st;
}
