/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: the wipe's vocabulary (status, assurance level, phase: one name and label table
 * each) and its policy - which assurance level a target's facts earn, and the residual risks a
 * filesystem leaves. */
#include "deprive/assurance.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include "deprive/fsinfo.h"

static const char *or_default(const char *s, const char *dflt)
{
    return s != NULL ? s : dflt;
}

/* ---- vocabularies ---- */

static const char *const status_names[DP_WIPE_STATUS_COUNT] = {"erased", "skipped", "failed",
                                                               "planned", "rejected"};

const char *dp_wipe_status_name(enum dp_wipe_status s)
{
    if ((unsigned)s >= DP_WIPE_STATUS_COUNT)
        dp_misuse("dp_wipe_status_name: bad status");
    return status_names[s];
}

bool dp_wipe_status_parse(const char *name, enum dp_wipe_status *out)
{
    for (int i = 0; i < DP_WIPE_STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (enum dp_wipe_status)i;
            return true;
        }
    }
    return false;
}

static const struct {
    const char *name, *label;
} assurance[DP_ASSURE_COUNT] = {
    [DP_ASSURE_IN_PLACE_VERIFIED] = {"overwritten-in-place-verified",
                                     "overwritten in place, verified"},
    [DP_ASSURE_MEDIUM_UNKNOWN] = {"overwritten-medium-unknown", "overwritten; medium class unknown"},
    [DP_ASSURE_FLASH_RESIDUAL_RISK] = {"flash-media-residual-risk",
                                       "overwritten; flash residual risk"},
    [DP_ASSURE_NOT_IN_PLACE] = {"overwritten-not-in-place", "overwritten, NOT in place (CoW/moved)"},
    [DP_ASSURE_FREE_SPACE] = {"free-space-overwritten", "overwritten + free space overwritten"},
    [DP_ASSURE_PLACEMENT_UNKNOWN] = {"overwritten-verified-placement-unknown",
                                     "overwritten, verified; placement unknown"},
    [DP_ASSURE_SHARED_EXTENTS] = {"shared-extents-remain", "NOT ERASED: shared extents remain"},
    [DP_ASSURE_NOT_ERASED] = {"not-erased", "NOT ERASED"},
};

const char *dp_assurance_name(enum dp_assurance a)
{
    if ((unsigned)a >= DP_ASSURE_COUNT)
        dp_misuse("dp_assurance_name: bad level");
    return assurance[a].name;
}

const char *dp_assurance_label(enum dp_assurance a)
{
    if ((unsigned)a >= DP_ASSURE_COUNT)
        dp_misuse("dp_assurance_label: bad level");
    return assurance[a].label;
}

bool dp_assurance_parse(const char *name, enum dp_assurance *out)
{
    for (int i = 0; i < DP_ASSURE_COUNT; i++) {
        if (strcmp(name, assurance[i].name) == 0) {
            *out = (enum dp_assurance)i;
            return true;
        }
    }
    return false;
}

bool dp_assurance_fits(enum dp_assurance a, enum dp_wipe_status s)
{
    switch (s) {
    case DP_WIPE_ERASED:
        return a != DP_ASSURE_NOT_ERASED && a != DP_ASSURE_SHARED_EXTENTS;
    case DP_WIPE_FAILED:
        return a == DP_ASSURE_NOT_ERASED || a == DP_ASSURE_SHARED_EXTENTS;
    case DP_WIPE_SKIPPED:
    case DP_WIPE_PLANNED:
    case DP_WIPE_REJECTED:
        return a == DP_ASSURE_NOT_ERASED;
    case DP_WIPE_STATUS_COUNT:
        break;
    }
    return false;
}

static const char *const phase_names[DP_PHASE_COUNT] = {"check", "overwrite", "scrub", "cleanup"};

const char *dp_wipe_phase_name(enum dp_wipe_phase p)
{
    if ((unsigned)p >= DP_PHASE_COUNT)
        dp_misuse("dp_wipe_phase_name: bad phase");
    return phase_names[p];
}

enum dp_status wipe_count_results(const json_t *results, struct dp_wipe_summary *out,
                                  struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t i;
    const json_t *t;
    json_array_foreach(results, i, t) {
        enum dp_wipe_status s;
        const char *n = json_string_value(json_object_get(t, "status"));
        if (n == NULL || !dp_wipe_status_parse(n, &s))
            return dp_error_set(err, DP_ERR_PARSE, 0, "target %zu: no known status", i);
        out->targets++;
        out->names += json_array_size(json_object_get(t, "names"));
        out->by_status[s]++;
    }
    return DP_OK;
}

enum dp_status dp_wipe_summary_of(const json_t *result, struct dp_wipe_summary *out,
                                  struct dp_error *err)
{
    const json_t *targets = json_object_get(result, "targets");
    if (!json_is_array(targets))
        return dp_error_set(err, DP_ERR_PARSE, 0, "wipe result: no targets");
    return wipe_count_results(targets, out, err);
}

bool dp_wipe_summary_complete(const struct dp_wipe_summary *s)
{
    return s->by_status[DP_WIPE_ERASED] + s->by_status[DP_WIPE_PLANNED] +
               s->by_status[DP_WIPE_REJECTED] ==
           s->targets;
}

/* ---- policy ---- */

static void add_fact(json_t *facts, const char *fmt, const char *arg)
{
    char b[512];
    snprintf(b, sizeof(b), fmt, arg != NULL ? arg : "");
    json_array_append_new(facts, json_string(b));
}

/* Where the overwrite landed, from the target's own facts (older journals: the root's). */
struct placement {
    const char *kind;
    bool cow, in_place;
    enum dp_media_class media;
    const char *media_source;
};

/* Results journaled before media classes were recorded: the rotational flag as it was read. */
static enum dp_media_class media_of_rotational(json_int_t rot)
{
    return rot == 0 ? DP_MEDIA_SSD : rot == 1 ? DP_MEDIA_HDD : DP_MEDIA_UNKNOWN;
}

static struct placement placement_of(const json_t *res, const struct dp_fsinfo *fs)
{
    const json_t *tf = json_object_get(res, "filesystem");
    if (json_is_object(tf) && json_is_string(json_object_get(tf, "type"))) {
        struct placement pl = {json_string_value(json_object_get(tf, "type")),
                               json_is_true(json_object_get(tf, "copy_on_write")),
                               json_is_true(json_object_get(tf, "in_place")), DP_MEDIA_UNKNOWN,
                               json_string_value(json_object_get(tf, "media_class_source"))};
        const char *mc = json_string_value(json_object_get(tf, "media_class"));
        if (mc == NULL || !dp_media_class_parse(mc, &pl.media))
            pl.media = media_of_rotational(json_integer_value(json_object_get(tf, "rotational")));
        return pl;
    }
    return (struct placement){dp_fsinfo_kind(fs), dp_fsinfo_is_cow(fs), dp_fsinfo_is_in_place(fs),
                              fs->media_class, fs->media_source};
}

static void medium_fact(json_t *facts, const struct placement *pl)
{
    char medium[160];
    snprintf(medium, sizeof(medium), "medium class %s (%s)", dp_media_class_name(pl->media),
             or_default(pl->media_source, "as recorded"));
    add_fact(facts, "%s", medium);
}

/* Flash, or a medium that may be: the level that caps what an overwrite proves (true), with
 * the fact saying why. */
static bool medium_level(json_t *facts, const struct placement *pl, const char *flash,
                         const char *unknown, enum dp_assurance *out)
{
    if (dp_media_class_is_flash(pl->media)) {
        add_fact(facts, "%s", flash);
        *out = DP_ASSURE_FLASH_RESIDUAL_RISK;
        return true;
    }
    if (pl->media == DP_MEDIA_UNKNOWN) {
        add_fact(facts, "%s", unknown);
        *out = DP_ASSURE_MEDIUM_UNKNOWN;
        return true;
    }
    return false;
}

static enum dp_assurance erased_level(json_t *facts, const json_t *res, const struct placement *pl,
                                const json_t *cleanup)
{
    const json_t *ext = json_object_get(res, "extents");
    const json_t *fsp = json_object_get(cleanup, "free_space");
    bool moved = json_is_true(json_object_get(ext, "moved"));
    bool fill_ok = json_is_true(json_object_get(fsp, "done")) &&
                   json_is_true(json_object_get(fsp, "verified"));
    add_fact(facts, pl->cow ? "%s is copy-on-write: an overwrite is written to new blocks"
                    : pl->in_place ? "%s overwrites file data in place"
                                   : "%s is not known to overwrite file data in place",
             pl->kind);
    if (!json_is_true(json_object_get(ext, "available")))
        add_fact(facts, "%s does not report extents (FIEMAP): placement not observable",
                 pl->kind);
    else
        add_fact(facts, "%s", moved ? "extents moved during the overwrite"
                                    : "extents unchanged by the overwrite");
    add_fact(facts, "read-back from the device matched (%s)",
             or_default(json_string_value(json_object_get(json_object_get(res, "verification"),
                                                          "method")),
                        "?"));
    medium_fact(facts, pl);
    if (pl->cow || moved) {
        if (fill_ok)
            add_fact(facts, "%s", "free space then filled with a keyed stream and verified");
        return fill_ok ? DP_ASSURE_FREE_SPACE : DP_ASSURE_NOT_IN_PLACE;
    }
    if (!pl->in_place)
        return DP_ASSURE_PLACEMENT_UNKNOWN;
    enum dp_assurance level;
    if (medium_level(facts, pl,
                     "flash medium: wear levelling may keep old copies in cells the overwrite "
                     "could not address",
                     "the medium may be flash, which remaps writes: in place on the "
                     "filesystem, not proved in place on the medium",
                     &level))
        return level;
    return DP_ASSURE_IN_PLACE_VERIFIED;
}

/* Shared extents remain referenced by another file or snapshot: the content is still on the
 * device whatever was done to this file, so the target is not erased. */
static bool shared_remain(json_t *res, json_t *facts)
{
    const json_t *sh = json_object_get(json_object_get(res, "extents"), "shared");
    if (json_integer_value(json_object_get(sh, "extents")) <= 0)
        return false;
    char why[1024];
    int n = snprintf(why, sizeof(why),
                     "%lld extent(s) of the file were shared with other files or snapshots "
                     "(reflink, snapshot or deduplication): they still hold the content",
                     (long long)json_integer_value(json_object_get(sh, "extents")));
    size_t i;
    const json_t *w;
    json_array_foreach(json_object_get(sh, "sharers"), i, w) {
        if (n > 0 && (size_t)n < sizeof(why))
            n += snprintf(why + n, sizeof(why) - (size_t)n, "%s%s", i ? "; " : "; shared with ",
                          or_default(json_string_value(w), "?"));
    }
    if (!json_is_true(json_object_get(sh, "can_tell")))
        add_fact(facts, "%s", "the filesystem cannot tell which files share the extents");
    json_object_set_new(res, "status", json_string(dp_wipe_status_name(DP_WIPE_FAILED)));
    json_object_set_new(res, "reason", json_string(why));
    json_array_append_new(facts, json_string(why));
    return true;
}

/* A remnant removed by the free-space fill and read back from the device gone. */
static enum dp_assurance remnant_level(json_t *facts, const json_t *res,
                                       const struct placement *pl, const json_t *cleanup)
{
    const json_t *rem = json_object_get(res, "remnant");
    const json_t *ver = json_object_get(res, "verification");
    const json_t *fsp = json_object_get(cleanup, "free_space");
    char t[200];
    const char *by = json_string_value(json_object_get(rem, "removed_by"));
    bool scrub = by != NULL && strcmp(by, "slack scrub") == 0;
    snprintf(t, sizeof(t), scrub ? "a copy past the end of a live file, in its slack (%s at the "
                                   "scan)"
                                 : "a copy in device space no live file held (%s at the scan)",
             or_default(json_string_value(json_object_get(rem, "use_at_scan")), "unknown"));
    add_fact(facts, "%s", t);
    bool fill_ok = json_is_true(json_object_get(fsp, "done")) &&
                   json_is_true(json_object_get(fsp, "verified"));
    if (scrub)
        add_fact(facts, "%s", "it lay past the end of a live file: that file's slack overwritten "
                              "with a keyed stream and cut back, the file's content proved "
                              "unchanged (SHA-256) and its mtime restored; its ctime changed");
    else
        add_fact(facts, "%s", fill_ok ? "free space filled with a keyed stream, read back "
                                        "and verified"
                                      : "free space filled with a keyed stream, but the fill "
                                        "did not complete or was not verified: only this "
                                        "remnant's range was proved overwritten");
    snprintf(t, sizeof(t), "its range read back from the device after the fill: none of its %lld "
             "32-byte windows left (%s)",
             (long long)json_integer_value(json_object_get(ver, "windows")),
             or_default(json_string_value(json_object_get(ver, "basis")), "?"));
    add_fact(facts, "%s", t);
    medium_fact(facts, pl);
    enum dp_assurance level;
    if (medium_level(facts, pl,
                     "flash medium: the writes may land in other cells than the ones holding "
                     "the old copy",
                     "the medium may be flash, which remaps writes: overwritten on the device "
                     "as the system sees it, not proved on the medium",
                     &level))
        return level;
    return scrub || fill_ok ? DP_ASSURE_FREE_SPACE : DP_ASSURE_PLACEMENT_UNKNOWN;
}

void wipe_assure(json_t *res, const struct dp_fsinfo *fs, const json_t *cleanup)
{
    json_t *facts = json_array();
    enum dp_assurance level = DP_ASSURE_NOT_ERASED;
    enum dp_wipe_status status = DP_WIPE_FAILED;
    const char *sn = json_string_value(json_object_get(res, "status"));
    if (sn == NULL || !dp_wipe_status_parse(sn, &status))
        status = DP_WIPE_FAILED;
    bool erased = status == DP_WIPE_ERASED;
    if (erased && json_is_object(json_object_get(res, "remnant"))) {
        struct placement pl = placement_of(res, fs);
        level = remnant_level(facts, res, &pl, cleanup);
    } else if (erased && shared_remain(res, facts)) {
        level = DP_ASSURE_SHARED_EXTENTS;
    } else if (!erased) {
        const char *why = json_string_value(json_object_get(res, "reason"));
        if (why != NULL)
            json_array_append_new(facts, json_string(why));
    } else {
        struct placement pl = placement_of(res, fs);
        level = erased_level(facts, res, &pl, cleanup);
        json_int_t left = json_integer_value(json_object_get(res, "links_remaining"));
        if (left > 0) {
            char n[32];
            snprintf(n, sizeof(n), "%lld", (long long)left);
            add_fact(facts, "%s hard link(s) outside the plan still name the overwritten inode",
                     n);
        }
    }
    json_object_set_new(res, "assurance", json_string(dp_assurance_name(level)));
    json_object_set_new(res, "assurance_facts", facts);
}

json_t *wipe_residual_risks(const struct dp_fsinfo *fs, const json_t *cleanup,
                           bool journal_on_device)
{
    json_t *risks = json_array();
    if (journal_on_device)
        add_fact(risks, "%s", "the wipe journal was kept on the wiped filesystem (by request): "
                              "it names the erased files");
    const char *kind = dp_fsinfo_kind(fs);
    const json_t *cp = json_object_get(cleanup, "ext4_checkpoint");
    add_fact(risks, "%s", "copies outside the examined filesystem (other devices, cloud "
                          "services, backups) are outside the scope of this erasure");
    if (json_is_true(json_object_get(cp, "attempted")) &&
        !json_is_true(json_object_get(cp, "done")))
        add_fact(risks, "the ext4 journal could not be checkpointed and zeroed (%s): it may "
                        "still hold directory blocks with the erased file names",
                 or_default(json_string_value(json_object_get(cp, "error")), "unknown error"));
    const json_t *fsp = json_object_get(cleanup, "free_space");
    const json_t *unf = json_object_get(fsp, "unfilled_bytes");
    if (json_is_true(json_object_get(fsp, "attempted")) &&
        (!json_is_true(json_object_get(fsp, "done")) || json_integer_value(unf) > 0)) {
        const json_t *fr = json_object_get(fsp, "reserve");
        char b[512], n[64] = "an unknown amount";
        if (json_is_integer(unf))
            snprintf(n, sizeof(n), "%s%lld bytes",
                     json_is_false(json_object_get(fsp, "unfilled_exact")) ? "at least " : "",
                     (long long)json_integer_value(unf));
        const char *why = json_string_value(json_object_get(fsp, "error"));
        if (why == NULL)
            why = json_string_value(json_object_get(fr, "error"));
        if (why == NULL && json_is_string(json_object_get(fr, "kind")) &&
            !json_is_true(json_object_get(fr, "lowered")))
            why = "the filesystem holds part of its free space back from every writer";
        snprintf(b, sizeof(b),
                 "the free-space fill could not overwrite %s of free space%s%.200s%s: data of "
                 "files deleted before the wipe may remain there",
                 n, why ? " (" : "", why ? why : "", why ? ")" : "");
        json_array_append_new(risks, json_string(b));
    }
    const json_t *rsv = json_object_get(fsp, "reserve");
    if (json_is_true(json_object_get(rsv, "lowered")) &&
        !json_is_true(json_object_get(rsv, "restored")))
        add_fact(risks, "the ext4 reserved clusters lowered for the fill could not be restored "
                        "(%s): the filesystem keeps none until it is next mounted",
                 or_default(json_string_value(json_object_get(rsv, "error")), "unknown error"));
    if (strcmp(kind, "xfs") == 0)
        add_fact(risks, "%s", "the XFS log, and the slack space of XFS directory blocks and "
                              "short-form directories, may still hold the erased file names "
                              "until later activity overwrites them");
    if (strcmp(kind, "vfat") == 0 || strcmp(kind, "exfat") == 0)
        add_fact(risks, "%s: deleted directory entries may keep fragments of long file names",
                 kind);
    if (strcmp(kind, "ntfs") == 0)
        add_fact(risks, "%s", "NTFS $LogFile, $UsnJrnl and index slack may keep the erased "
                              "file names");
    if (!dp_fsinfo_is_in_place(fs) && !dp_fsinfo_is_cow(fs))
        add_fact(risks, "%s is not a filesystem deprive knows: its metadata may keep the erased "
                        "file names and its data placement is unknown",
                 kind);
    if (dp_fsinfo_is_cow(fs))
        add_fact(risks, "%s is copy-on-write: stale metadata blocks may keep file names and "
                        "small files stored inline in metadata until reused",
                 kind);
    /* seen in tests/test_remnants.c under load (Linux 6.18): the 32 unused bytes of an inode
       item in metadata held data of a file deleted before the run */
    if (strcmp(kind, "btrfs") == 0)
        add_fact(risks, "%s", "btrfs metadata is outside the free-space fill: besides names "
                              "and inline files it may keep small fragments of erased content "
                              "(seen: 32 bytes of a deleted image written by the kernel into "
                              "an unused field of an inode item) until reused");
    if (dp_media_class_is_flash(fs->media_class))
        add_fact(risks, "the medium is %s (flash): wear levelling may keep old copies; a "
                        "device-level sanitize is recommended",
                 dp_media_class_name(fs->media_class));
    else if (fs->media_class == DP_MEDIA_UNKNOWN)
        add_fact(risks, "the medium class is unknown (%s): if it is flash, wear levelling may "
                        "keep old copies; state it with --media-class or exhibit.media_class",
                 fs->media_source);
    if (fs->is_loop)
        add_fact(risks, "%s", "the filesystem is on a loop device: the image file's own "
                              "storage is outside the scope of this erasure");
    return risks;
}

json_t *wipe_summary_json(const json_t *results)
{
    struct dp_wipe_summary s;
    if (wipe_count_results(results, &s, NULL) != DP_OK)
        return NULL; /* the wipe itself writes only known statuses */
    json_t *o = json_pack("{s:I, s:I}", "targets", (json_int_t)s.targets, "names",
                          (json_int_t)s.names);
    for (int i = 0; o != NULL && i < DP_WIPE_STATUS_COUNT; i++)
        json_object_set_new(o, dp_wipe_status_name((enum dp_wipe_status)i),
                            json_integer((json_int_t)s.by_status[i]));
    return o;
}
