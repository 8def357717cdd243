/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: removing a matching member from an archive, through the CLI, on loop-mounted
 * ext4 images. zip, tar, tar.gz, tar.xz, tar.zst and cpio are rewritten without it (the other
 * members byte-identical with their names, order, modes and times; the archive file keeps its
 * mode, owner and times) and the raw image is searched for the member's bytes and the old
 * archive's; a zip inside a tar.gz; SIGKILL at every journal step of a rewrite, then --resume;
 * an archive deprive cannot rewrite (7z) and --archive-policy; a zip hiding an entry from its
 * central directory (not rewritten: it would be dropped); single compressed files erased
 * whole; ENOSPC while the new archive is written; a member that only matches by PDQ.
 *
 * The kills are exact, not timed (fu_kill_at, fsutil.c): the wipe runs under ptrace with a
 * seccomp filter that stops it at every fsync and fdatasync, the journal is read at each stop,
 * and the wipe is killed at the fdatasync of a given record (the record written, nothing after
 * it done) or at the next sync after it (the step that record announces under way). */
#include "testutil.h"
#include "fsutil.h"
#include "robust.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>

#include "deprive/journal.h"

#define ORDER "ORD-ARCH-0001"
#define T0 1600000000 /* even: zip's DOS time has 2-second steps */
#define PROBES 16
#define MAXM 16

/* ---- content ---- */

/* n bytes of text-like words (compressible, unlike tu_random_bytes), owned. */
static unsigned char *text_bytes(size_t n, uint32_t seed)
{
    static const char *const words[] = {
        "the",     "order",   "court",     "device",  "exhibit", "file",    "copy",
        "image",   "erase",   "member",    "archive", "witness", "statement", "officer",
        "police",  "report",  "evidence",  "digital", "forensic", "examiner", "seized",
        "under",   "section", "schedule",  "hearing", "judge",   "notes",   "minutes",
        "draft",   "final",   "appendix",  "index"};
    unsigned char *b = tu_own(malloc(n ? n : 1));
    uint64_t x = (uint64_t)seed * 2654435761u + 7;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (const char *c = words[(x >> 20) % 32]; *c && i < n; c++)
            b[i++] = (unsigned char)*c;
        if (i < n)
            b[i++] = (x >> 40) % 11 == 0 ? '\n' : ' ';
    }
    return b;
}

/* ---- making and reading archives (libarchive) ---- */

enum fmt { F_ZIP, F_TAR, F_CPIO, F_7Z, F_RAW };
enum flt { NOF, GZ, XZ, ZST };

struct mem {
    const char *name;
    const unsigned char *data;
    size_t len;
    unsigned mode;
    int64_t mtime;
};

static void write_archive(const char *path, enum fmt fmt, enum flt flt, const struct mem *m,
                          size_t n)
{
    struct archive *a = archive_write_new();
    assert_non_null(a);
    int r = fmt == F_ZIP    ? archive_write_set_format_zip(a)
            : fmt == F_TAR  ? archive_write_set_format_pax_restricted(a)
            : fmt == F_CPIO ? archive_write_set_format_cpio_newc(a)
            : fmt == F_7Z   ? archive_write_set_format_7zip(a)
                            : archive_write_set_format_raw(a);
    if (r != ARCHIVE_OK)
        fail_msg("format: %s", archive_error_string(a));
    r = flt == GZ    ? archive_write_add_filter_gzip(a)
        : flt == XZ  ? archive_write_add_filter_xz(a)
        : flt == ZST ? archive_write_add_filter_zstd(a)
                     : archive_write_add_filter_none(a);
    if (r != ARCHIVE_OK)
        fail_msg("filter: %s", archive_error_string(a));
    if (archive_write_open_filename(a, path) != ARCHIVE_OK)
        fail_msg("%s: %s", path, archive_error_string(a));
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m[i].name);
        archive_entry_set_size(e, (la_int64_t)m[i].len);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, m[i].mode ? m[i].mode : 0644);
        archive_entry_set_mtime(e, m[i].mtime ? m[i].mtime : T0, 0);
        archive_entry_set_uid(e, 1000);
        archive_entry_set_gid(e, 1000);
        if (archive_write_header(a, e) != ARCHIVE_OK)
            fail_msg("%s: header %s: %s", path, m[i].name, archive_error_string(a));
        if (archive_write_data(a, m[i].data, m[i].len) != (la_ssize_t)m[i].len)
            fail_msg("%s: data %s: %s", path, m[i].name, archive_error_string(a));
        archive_entry_free(e);
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        fail_msg("%s: close: %s", path, archive_error_string(a));
    archive_write_free(a);
}

/* An archive's bytes made in the work directory (for nesting). */
static unsigned char *archive_bytes(const char *dir, const char *name, enum fmt fmt, enum flt flt,
                                    const struct mem *m, size_t n, size_t *len)
{
    char *p = tu_opath(dir, name);
    write_archive(p, fmt, flt, m, n);
    return tu_oread(p, len);
}

struct entry {
    char *name;
    unsigned mode;
    int64_t mtime;
    unsigned char *data;
    size_t len;
};

/* An archive as libarchive reads it back. */
struct listing {
    size_t n;
    struct entry e[MAXM];
    int format; /* archive_format() at the first header */
    int filter; /* archive_filter_code(a, 0) */
    char err[256];
};

static bool read_entry_data(struct archive *a, struct entry *x)
{
    size_t cap = 1 << 16;
    unsigned char *d = malloc(cap);
    bool ok = d != NULL;
    for (;;) {
        if (ok && x->len == cap) {
            unsigned char *more = realloc(d, cap * 2);
            ok = more != NULL;
            d = more ? more : d;
            cap *= 2;
        }
        la_ssize_t k = ok ? archive_read_data(a, d + x->len, cap - x->len) : -1;
        if (k <= 0) {
            x->data = tu_own(d);
            return k == 0;
        }
        x->len += (size_t)k;
    }
}

/* False (l->err says why) when the bytes do not read as a whole archive. */
static bool read_listing(const void *buf, size_t len, struct listing *l)
{
    memset(l, 0, sizeof(*l));
    struct archive *a = archive_read_new();
    assert_non_null(a);
    archive_read_support_format_all(a);
    archive_read_support_filter_all(a);
    bool ok = archive_read_open_memory(a, buf, len) == ARCHIVE_OK;
    int r = ARCHIVE_FATAL;
    struct archive_entry *e;
    while (ok && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (l->n == 0) {
            l->format = archive_format(a);
            l->filter = archive_filter_code(a, 0);
        }
        if (l->n == MAXM) {
            ok = false;
            break;
        }
        struct entry *x = &l->e[l->n++];
        const char *name = archive_entry_pathname(e);
        x->name = tu_own(strdup(name ? name : ""));
        x->mode = (unsigned)archive_entry_perm(e);
        x->mtime = archive_entry_mtime(e);
        ok = read_entry_data(a, x);
    }
    if (ok && r != ARCHIVE_EOF)
        ok = false;
    if (!ok)
        snprintf(l->err, sizeof(l->err), "%s",
                 archive_error_string(a) ? archive_error_string(a) : "unreadable");
    archive_read_free(a);
    return ok;
}

static bool read_listing_file(const char *path, struct listing *l)
{
    size_t len = 0;
    char *b = tu_read(path, &len);
    if (b == NULL) {
        memset(l, 0, sizeof(*l));
        snprintf(l->err, sizeof(l->err), "cannot read %s", path);
        return false;
    }
    bool ok = read_listing(b, len, l);
    free(b);
    return ok;
}

/* Exactly the members want[0..n), in order, with their content, mode and mtime. */
static bool listing_is(const struct listing *l, const struct mem *want, size_t n, char *why,
                       size_t wl)
{
    if (l->n != n) {
        int k = snprintf(why, wl, "%zu members (", l->n);
        for (size_t i = 0; i < l->n && k > 0 && (size_t)k < wl; i++)
            k += snprintf(why + k, wl - (size_t)k, "%s%s", i ? ", " : "", l->e[i].name);
        if (k > 0 && (size_t)k < wl)
            snprintf(why + k, wl - (size_t)k, "), want %zu", n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct entry *x = &l->e[i];
        int64_t mt = want[i].mtime ? want[i].mtime : T0;
        unsigned mode = want[i].mode ? want[i].mode : 0644;
        if (strcmp(x->name, want[i].name) != 0)
            return snprintf(why, wl, "member %zu is %s, want %s", i, x->name, want[i].name),
                   false;
        if (x->len != want[i].len || memcmp(x->data, want[i].data, x->len) != 0)
            return snprintf(why, wl, "member %s: content differs (%zu bytes, want %zu)", x->name,
                            x->len, want[i].len),
                   false;
        if (x->mode != mode)
            return snprintf(why, wl, "member %s: mode %o, want %o", x->name, x->mode, mode),
                   false;
        if (x->mtime != mt)
            return snprintf(why, wl, "member %s: mtime %lld, want %lld", x->name,
                            (long long)x->mtime, (long long)mt),
                   false;
    }
    return true;
}

/* Holds each of want[0..n) (name and content), whatever else it holds. */
static bool listing_holds(const struct listing *l, const struct mem *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < l->n && !found; k++)
            found = strcmp(l->e[k].name, want[i].name) == 0 && l->e[k].len == want[i].len &&
                    memcmp(l->e[k].data, want[i].data, want[i].len) == 0;
        if (!found)
            return false;
    }
    return true;
}

static void expect_listing(const char *path, const struct mem *want, size_t n, const char *what)
{
    struct listing l;
    char why[512];
    if (!read_listing_file(path, &l))
        fail_msg("%s: the archive does not read back: %s", what, l.err);
    if (!listing_is(&l, want, n, why, sizeof(why)))
        fail_msg("%s: %s", what, why);
}

/* ---- the usual content: three lawful members around the victim's file ---- */

#define VICTIM_NAME "photos/victim.jpg"

struct set {
    unsigned char *victim, *lawful[3];
    size_t vlen, llen[3];
    struct mem all[4];  /* lawful 0, victim, lawful 1, lawful 2 */
    struct mem kept[3]; /* the same without the victim */
};

static void set_init(struct set *s, uint32_t seed, size_t lawful_len, bool lawful_random)
{
    static const char *const names[] = {"docs/report.txt", "docs/notes.txt", "bin/tool.sh"};
    static const unsigned modes[] = {0640, 0644, 0755};
    memset(s, 0, sizeof(*s));
    s->vlen = 48 * 1024;
    s->victim = tu_own(tu_random_bytes(s->vlen, seed));
    for (int i = 0; i < 3; i++) {
        s->llen[i] = lawful_len - (size_t)i * 1024;
        s->lawful[i] = lawful_random
                           ? tu_own(tu_random_bytes(s->llen[i], seed * 7 + (uint32_t)i + 1))
                           : text_bytes(s->llen[i], seed * 7 + (uint32_t)i + 1);
        s->kept[i] = (struct mem){names[i], s->lawful[i], s->llen[i], modes[i],
                                  T0 + 100 * (i + 1) + (i == 0 ? 0 : 100)};
    }
    s->all[0] = s->kept[0];
    s->all[1] = (struct mem){VICTIM_NAME, s->victim, s->vlen, 0600, T0 + 200};
    s->all[2] = s->kept[1];
    s->all[3] = s->kept[2];
}

/* The victim's file in the work directory and a sha256sum-format list naming it. */
static char *victim_list(const char *work, const struct set *s)
{
    tu_write(work, "victim.jpg", s->victim, s->vlen);
    char *p = tu_opath(work, "victim.jpg"), hex[65], line[128];
    assert_true(tu_sha256_hex(p, hex));
    snprintf(line, sizeof(line), "%s  victim.jpg\n", hex);
    tu_write(work, "victims.sha256", line, strlen(line));
    return tu_opath(work, "victims.sha256");
}

/* ---- the raw image ---- */

/* PROBES windows spread over d, each one that occurs nowhere in ex (the new archive: what may
 * rightly remain of the old one's bytes, such as a recompressed stream's unchanged start). */
static void probes_not_in(struct fu_probes *p, const unsigned char *d, size_t len,
                          const unsigned char *ex, size_t exlen)
{
    size_t nc = fu_probes_pick(p, PROBES, d, len, ex, exlen, 512);
    if (nc < PROBES)
        fail_msg("only %zu of 512 windows of the old archive differ from the new one", nc);
}

/* ---- a loop-mounted ext4 image per test, unmounted and detached in the teardown ---- */

struct lfx {
    const char *label;
    unsigned size_mb;
    const void *param;
    struct tu_fs fs;
    bool ready;
    char *work; /* plans, lists, journals, results: not on the image */
};

static int lfx_setup(void **state)
{
    struct lfx *f = *state;
    f->work = tu_mkdtemp();
    f->ready =
        fu_loop_create(&f->fs, "archive_wipe", f->label, "ext4", f->size_mb ? f->size_mb : 32);
    return 0;
}

static int lfx_teardown(void **state)
{
    struct lfx *f = *state;
    tu_fs_destroy(&f->fs); /* unmount and detach, also after a failed test */
    if (f->work != NULL) {
        tu_rm_rf(f->work);
        free(f->work);
        f->work = NULL;
    }
    f->ready = false;
    tu_release_owned();
    return 0;
}

static void need_loop(const struct lfx *f)
{
    fu_need_loop(f->ready, "archive_wipe", f->label, "ext4");
}

/* ---- the CLI ---- */

/* deprive scan; the plan must hold want findings. Returns the plan (owned). */
static json_t *scan(const char *root, const char *list, const char *plan, size_t want)
{
    struct tu_run r;
    tu_odeprive(&r, "scan", "--hashes", list, "-o", plan, root, NULL);
    tu_expect_exit(&r, 0, "scan");
    json_t *doc = tu_oload(plan);
    size_t got = json_array_size(json_object_get(doc, "findings"));
    if (got != want)
        fail_msg("scan of %s: %zu findings, want %zu", root, got, want);
    return doc;
}

/* The finding's location as "a -> b -> c". */
static void location_of(const json_t *finding, char *out, size_t len)
{
    size_t i, k = 0;
    const json_t *v;
    out[0] = '\0';
    json_array_foreach(json_object_get(finding, "location"), i, v) {
        int n = snprintf(out + k, len - k, "%s%s", i ? " -> " : "", json_string_value(v));
        if (n < 0 || (size_t)n >= len - k)
            break;
        k += (size_t)n;
    }
}

static void expect_location(const json_t *plan, size_t i, const char *want)
{
    char loc[512];
    location_of(json_array_get(json_object_get(plan, "findings"), i), loc, sizeof(loc));
    if (strcmp(loc, want) != 0)
        fail_msg("finding %zu is at %s, want %s", i, loc, want);
}

/* deprive wipe --yes --order ORDER --hashes list --journal J -o OUT [extra...] PLAN */
static void wipe(struct tu_run *r, const char *list, const char *journal, const char *out,
                 const char *plan, const char *const *extra)
{
    const struct tu_wipe_args a = {ORDER, list, journal, out, plan, extra, false, false};
    tu_owipe(r, &a);
}

/* The result's target whose first location starts with name. */
static const json_t *target_of(const json_t *res, const char *name)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(res, "targets"), i, t) {
        const json_t *loc = tu_jget(json_array_get(json_object_get(t, "names"), 0), "location");
        const char *first = json_string_value(json_array_get(loc, 0));
        if (first != NULL && strcmp(first, name) == 0)
            return t;
    }
    fail_msg("the wipe result has no target in %s", name);
    return NULL;
}

/* Names in dir starting with prefix (".dq": the rewrite's temp files and the scrub's
 * quarantine directories), joined into out; how many. */
static size_t leftovers(const char *dir, const char *prefix, char *out, size_t len)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0, k = 0;
    struct dirent *e;
    out[0] = '\0';
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        n++;
        int w = snprintf(out + k, len - k, "%s%s", k ? ", " : "", e->d_name);
        if (w > 0 && (size_t)w < len - k)
            k += (size_t)w;
    }
    closedir(d);
    return n;
}

static void expect_no_leftovers(const char *dir, const char *what)
{
    char names[512];
    if (leftovers(dir, ".dq", names, sizeof(names)) > 0)
        fail_msg("%s: left behind in the archive's directory: %s", what, names);
}

/* ==== 1. each writable format on ext4 ==== */

struct fmtcase {
    const char *ext;
    enum fmt fmt;
    enum flt flt;
    const char *kind;        /* the result's archive.format */
    const char *compression; /* its archive.compression, NULL when none */
    bool members_verbatim;   /* the members' bytes are stored as they are */
};

static const struct fmtcase fc_zip = {"zip", F_ZIP, NOF, "zip", NULL, false};
static const struct fmtcase fc_tar = {"tar", F_TAR, NOF, "tar", NULL, true};
static const struct fmtcase fc_tgz = {"tar.gz", F_TAR, GZ, "tar", "gzip", false};
static const struct fmtcase fc_txz = {"tar.xz", F_TAR, XZ, "tar", "xz", false};
static const struct fmtcase fc_tzst = {"tar.zst", F_TAR, ZST, "tar", "zstd", false};
static const struct fmtcase fc_cpio = {"cpio", F_CPIO, NOF, "cpio", NULL, true};

static void test_rewrite_format(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    const struct fmtcase *c = f->param;
    struct set s;
    set_init(&s, 100 + (uint32_t)c->fmt * 10 + (uint32_t)c->flt, 24 * 1024, false);
    char *list = victim_list(f->work, &s);
    char name[64];
    snprintf(name, sizeof(name), "evidence.%s", c->ext);
    char *arch = tu_opath(f->fs.mnt, name);
    write_archive(arch, c->fmt, c->flt, s.all, 4);
    /* the archive file's own mode, owner and times, to be kept */
    assert_int_equal(chown(arch, 1234, 2345), 0);
    assert_int_equal(chmod(arch, 0640), 0);
    const struct timespec times[2] = {{T0 + 7000, 0}, {T0 + 9000, 123456789}};
    assert_int_equal(utimensat(AT_FDCWD, arch, times, 0), 0);
    struct stat sb0, sb1;
    assert_int_equal(stat(arch, &sb0), 0);
    size_t oldlen = 0;
    unsigned char *old = tu_oread(arch, &oldlen);
    assert_non_null(old);
    struct listing lold;
    if (!read_listing(old, oldlen, &lold))
        fail_msg("%s: the archive made does not read: %s", name, lold.err);

    /* control: before the wipe the image holds the old archive's bytes and the victim's */
    size_t ilen = 0;
    struct fu_probes pv, po, pn, pl[3];
    fu_probes_spread(&pv, PROBES, s.victim, s.vlen);
    fu_probes_spread(&po, PROBES, old, oldlen);
    unsigned char *img = fu_image_bytes(&f->fs, &ilen);
    size_t v0 = fu_probes_in(&pv, img, ilen), o0 = fu_probes_in(&po, img, ilen);
    free(img);
    assert_true(tu_fs_mount(&f->fs, false));
    printf("archive_wipe: %s: before: %zu/%d windows of the victim, %zu/%d of the archive in the "
           "image\n",
           c->ext, v0, PROBES, o0, PROBES);
    assert_int_equal(o0, PROBES);
    if (c->members_verbatim)
        assert_int_equal(v0, PROBES);

    char *plan = tu_opath(f->work, "plan.json"), *journal = tu_opath(f->work, "journal"),
         *out = tu_opath(f->work, "wipe.json");
    json_t *pdoc = scan(f->fs.mnt, list, plan, 1);
    char want_loc[128];
    snprintf(want_loc, sizeof(want_loc), "%s -> %s", name, VICTIM_NAME);
    expect_location(pdoc, 0, want_loc);
    struct tu_run r;
    double t0 = tu_now();
    wipe(&r, list, journal, out, plan, NULL);
    double secs = tu_now() - t0;
    tu_expect_exit(&r, 0, "wipe");

    /* the archive: the three lawful members exactly, same format and compression */
    struct listing lnew;
    char why[512];
    if (!read_listing_file(arch, &lnew))
        fail_msg("%s: the new archive does not read: %s", name, lnew.err);
    if (!listing_is(&lnew, s.kept, 3, why, sizeof(why)))
        fail_msg("%s: %s", name, why);
    if ((lnew.format & ARCHIVE_FORMAT_BASE_MASK) != (lold.format & ARCHIVE_FORMAT_BASE_MASK) ||
        lnew.filter != lold.filter)
        fail_msg("%s: format %#x filter %d, was %#x filter %d", name, (unsigned)lnew.format,
                 lnew.filter, (unsigned)lold.format, lold.filter);
    if (lnew.format != lold.format)
        printf("archive_wipe: %s: format variant %#x, was %#x (same family)\n", c->ext,
               (unsigned)lnew.format, (unsigned)lold.format);
    /* the archive file: mode, owner and times kept */
    assert_int_equal(stat(arch, &sb1), 0);
    if ((sb1.st_mode & 07777) != 0640 || sb1.st_uid != 1234 || sb1.st_gid != 2345 ||
        sb1.st_mtim.tv_sec != sb0.st_mtim.tv_sec || sb1.st_mtim.tv_nsec != sb0.st_mtim.tv_nsec)
        fail_msg("%s: the archive file is now mode %o owner %u:%u mtime %lld.%09ld, was %o "
                 "%u:%u %lld.%09ld",
                 name, (unsigned)(sb1.st_mode & 07777), (unsigned)sb1.st_uid,
                 (unsigned)sb1.st_gid, (long long)sb1.st_mtim.tv_sec, sb1.st_mtim.tv_nsec,
                 (unsigned)(sb0.st_mode & 07777), (unsigned)sb0.st_uid, (unsigned)sb0.st_gid,
                 (long long)sb0.st_mtim.tv_sec, sb0.st_mtim.tv_nsec);
    if (sb1.st_ino == sb0.st_ino)
        fail_msg("%s: still the same inode: the old archive was not replaced", name);
    expect_no_leftovers(f->fs.mnt, name);

    /* the result */
    json_t *res = tu_oload(out);
    assert_int_equal(json_array_size(json_object_get(res, "targets")), 1);
    const json_t *t = target_of(res, name);
    tu_expect_status(t, "erased", name);
    const json_t *a = tu_jget(t, "archive");
    if (!json_is_object(a))
        fail_msg("%s: the target has no \"archive\" object", name);
    assert_true(json_is_true(tu_jget(a, "rewritten")));
    assert_int_equal(json_integer_value(tu_jget(a, "kept_members")), 3);
    assert_int_equal(json_integer_value(tu_jget(a, "removed_members")), 1);
    assert_true(json_is_true(tu_jget(a, "kept_verified")));
    assert_string_equal(tu_jstr(a, "format"), c->kind);
    if (c->compression != NULL)
        assert_string_equal(tu_jstr(a, "compression"), c->compression);
    else if (tu_jget(a, "compression") != NULL && !json_is_null(tu_jget(a, "compression")))
        fail_msg("%s: archive.compression is %s, want none", name, tu_jstr(a, "compression"));
    char sha_new[65];
    tu_sha256_file(arch, sha_new);
    assert_string_equal(tu_jstr(a, "new_sha256"), sha_new);
    assert_true(
        json_is_true(json_object_get(json_array_get(json_object_get(t, "names"), 0), "removed")));
    printf("archive_wipe: %s: erased in %.2f s, %s; changes: \"%s\"\n", c->ext, secs,
           tu_jstr(t, "assurance"), tu_jstr(a, "changes"));

    /* the raw image: nothing of the victim nor of the old archive; the new archive there */
    size_t newlen = 0;
    unsigned char *neu = tu_oread(arch, &newlen);
    assert_non_null(neu);
    probes_not_in(&po, old, oldlen, neu, newlen);
    fu_probes_spread(&pn, PROBES, neu, newlen);
    for (int i = 0; i < 3; i++)
        fu_probes_spread(&pl[i], PROBES, s.lawful[i], s.llen[i]);
    img = fu_image_bytes(&f->fs, &ilen);
    size_t v1 = fu_probes_in(&pv, img, ilen), o1 = fu_probes_in(&po, img, ilen),
           n1 = fu_probes_in(&pn, img, ilen), l1[3];
    for (int i = 0; i < 3; i++)
        l1[i] = fu_probes_in(&pl[i], img, ilen);
    free(img);
    printf("archive_wipe: %s: after: victim %zu/%d, old archive %zu/%d (windows not in the new "
           "one), new archive %zu/%d, lawful members %zu+%zu+%zu/%d%s\n",
           c->ext, v1, PROBES, o1, PROBES, n1, PROBES, l1[0], l1[1], l1[2], PROBES,
           c->members_verbatim ? "" : " (compressed: not stored as they are)");
    if (v1 != 0 || o1 != 0)
        fail_msg("%s: the raw image still holds %zu windows of the victim and %zu of the old "
                 "archive",
                 name, v1, o1);
    assert_int_equal(n1, PROBES);
    if (c->members_verbatim)
        for (int i = 0; i < 3; i++)
            assert_int_equal(l1[i], PROBES);
}

/* ==== 2. a zip inside a tar.gz ==== */

static void test_nested_zip_in_tar_gz(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct set s;
    set_init(&s, 300, 20 * 1024, false);
    char *list = victim_list(f->work, &s);
    size_t ilen = 0, zlen = 0;
    unsigned char *zip = archive_bytes(f->work, "inner.zip", F_ZIP, NOF, s.all, 3, &zlen);
    unsigned char *readme = text_bytes(9000, 301), *notes = text_bytes(7000, 302);
    const struct mem outer[] = {
        {"readme.txt", readme, 9000, 0644, T0 + 10},
        {"sdcard/inner.zip", zip, zlen, 0600, T0 + 20},
        {"notes.txt", notes, 7000, 0444, T0 + 30},
    };
    const struct mem outer_kept[] = {outer[0], outer[2]};
    const struct mem inner_kept[] = {s.kept[0], s.kept[1]};
    char *arch = tu_opath(f->fs.mnt, "backup.tar.gz");
    write_archive(arch, F_TAR, GZ, outer, 3);
    struct fu_probes pv;
    fu_probes_spread(&pv, PROBES, s.victim, s.vlen);
    unsigned char *img = fu_image_bytes(&f->fs, &ilen);
    size_t v0 = fu_probes_in(&pv, img, ilen);
    free(img);
    assert_true(tu_fs_mount(&f->fs, false));

    char *plan = tu_opath(f->work, "plan.json"), *journal = tu_opath(f->work, "journal"),
         *out = tu_opath(f->work, "wipe.json");
    json_t *pdoc = scan(f->fs.mnt, list, plan, 1);
    expect_location(pdoc, 0, "backup.tar.gz -> sdcard/inner.zip -> " VICTIM_NAME);
    struct tu_run r;
    wipe(&r, list, journal, out, plan, NULL);
    tu_expect_exit(&r, 0, "wipe");

    struct listing lo, li;
    char why[512];
    if (!read_listing_file(arch, &lo))
        fail_msg("outer: does not read back: %s", lo.err);
    /* the outer level: the same three members in order, the two others byte-identical, the
     * inner zip with its own mode and time */
    if (lo.n != 3 || strcmp(lo.e[0].name, "readme.txt") != 0 ||
        strcmp(lo.e[1].name, "sdcard/inner.zip") != 0 || strcmp(lo.e[2].name, "notes.txt") != 0)
        fail_msg("outer: %zu members, not readme.txt, sdcard/inner.zip, notes.txt", lo.n);
    struct listing two = {.n = 2};
    two.e[0] = lo.e[0];
    two.e[1] = lo.e[2];
    if (!listing_is(&two, outer_kept, 2, why, sizeof(why)))
        fail_msg("outer: %s", why);
    if (lo.e[1].mode != 0600 || lo.e[1].mtime != T0 + 20)
        fail_msg("outer: inner.zip is now mode %o mtime %lld", lo.e[1].mode,
                 (long long)lo.e[1].mtime);
    if ((lo.format & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR ||
        lo.filter != ARCHIVE_FILTER_GZIP)
        fail_msg("outer: format %#x filter %d: not a tar.gz any more", (unsigned)lo.format,
                 lo.filter);
    /* the inner level: the two lawful members, the victim gone, still a zip */
    if (!read_listing(lo.e[1].data, lo.e[1].len, &li))
        fail_msg("inner zip: does not read back: %s", li.err);
    if (!listing_is(&li, inner_kept, 2, why, sizeof(why)))
        fail_msg("inner zip: %s", why);
    if ((li.format & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_ZIP)
        fail_msg("inner: format %#x: not a zip any more", (unsigned)li.format);
    expect_no_leftovers(f->fs.mnt, "backup.tar.gz");
    json_t *res = tu_oload(out);
    const json_t *t = target_of(res, "backup.tar.gz");
    tu_expect_status(t, "erased", "nested");
    assert_true(json_is_true(tu_jget(t, "archive.rewritten")));
    assert_true(json_is_true(tu_jget(t, "archive.kept_verified")));
    assert_int_equal(json_integer_value(tu_jget(t, "archive.removed_members")), 1);
    printf("archive_wipe: nested: erased; archive.kept_members %lld (outer 3 incl. the zip + "
           "inner 2), changes: \"%s\"\n",
           (long long)json_integer_value(tu_jget(t, "archive.kept_members")),
           tu_jstr(t, "archive.changes"));
    img = fu_image_bytes(&f->fs, &ilen);
    size_t v1 = fu_probes_in(&pv, img, ilen);
    free(img);
    printf("archive_wipe: nested: victim windows in the image: %zu/%d before, %zu after\n", v0,
           PROBES, v1);
    assert_int_equal(v1, 0);
}

/* ==== 3. SIGKILL at each journal step of a rewrite, then --resume ==== */

struct jcount {
    size_t records, done, renamed;
};

static enum dp_status count_visit(void *ctx, uint64_t seq, const char *type, json_t *data,
                                  struct dp_error *err)
{
    (void)seq, (void)data, (void)err;
    struct jcount *c = ctx;
    c->records++;
    c->done += strcmp(type, "target-done") == 0;
    c->renamed += strcmp(type, "archive-renamed") == 0;
    return DP_OK;
}

static void test_kill_resume(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    const struct fu_killpoint *k = f->param;
    struct set s;
    set_init(&s, 400, 24 * 1024, false);
    tu_write(f->work, "victim.jpg", s.victim, s.vlen);
    /* the list from `deprive hash` this time */
    struct tu_run r;
    char *vpath = tu_opath(f->work, "victim.jpg");
    tu_odeprive(&r, "hash", vpath, NULL);
    tu_expect_exit(&r, 0, "hash");
    tu_write(f->work, "victims.hashes", r.out, strlen(r.out));
    char *list = tu_opath(f->work, "victims.hashes");
    char *arch = tu_opath(f->fs.mnt, "evidence.tar.gz");
    write_archive(arch, F_TAR, GZ, s.all, 4);
    size_t oldlen = 0;
    unsigned char *old = tu_oread(arch, &oldlen);
    assert_non_null(old);
    char *plan = tu_opath(f->work, "plan.json"), *journal = tu_opath(f->work, "journal"),
         *out = tu_opath(f->work, "wipe.json"), *log = tu_opath(f->work, "wipe.log");
    scan(f->fs.mnt, list, plan, 1);

    struct tu_wipe_args wa = {
        .order = ORDER, .list = list, .journal = journal, .out = out, .plan = plan};
    char *argv[32], at[128];
    tu_wipe_argv(argv, 32, &wa);
    fu_kill_at("archive_wipe", argv, log, journal, k->record, k->after, k->what, at, sizeof(at));
    /* right after the kill: the old archive or the temp file holds every lawful member */
    char names[512], where[256] = "";
    size_t ntmp = leftovers(f->fs.mnt, ".dqa", names, sizeof(names));
    struct listing l;
    if (read_listing_file(arch, &l) && listing_holds(&l, s.kept, 3))
        snprintf(where, sizeof(where), "the archive");
    if (ntmp > 0) {
        char *tmp = tu_opath(f->fs.mnt, names); /* one temp file at most */
        if (ntmp == 1 && read_listing_file(tmp, &l) && listing_holds(&l, s.kept, 3)) {
            size_t n = strlen(where);
            snprintf(where + n, sizeof(where) - n, "%sthe temp file %.64s", n ? " and " : "",
                     names);
        }
    }
    printf("archive_wipe: kill %s: killed (%s); temp files: %s; the lawful members are in %s\n",
           k->what, at, ntmp ? names : "none", where[0] ? where : "NOTHING");
    if (where[0] == '\0')
        fail_msg("kill %s: neither the archive nor a temp file holds every lawful member: they "
                 "are lost",
                 k->what);

    /* --resume finishes it */
    wa.resume = true;
    tu_owipe(&r, &wa);
    int rrc = r.status;
    const char *rerr = r.err;
    struct listing fin;
    char why[512] = "";
    bool ok = read_listing_file(arch, &fin);
    bool exact = ok && listing_is(&fin, s.kept, 3, why, sizeof(why));
    if (!ok)
        snprintf(why, sizeof(why), "does not read: %s", fin.err);
    ntmp = leftovers(f->fs.mnt, ".dq", names, sizeof(names));
    json_t *res = rrc <= 1 ? json_load_file(out, 0, NULL) : NULL;
    if (res != NULL)
        tu_ownj(res);
    const json_t *t = res ? json_array_get(json_object_get(res, "targets"), 0) : NULL;
    printf("archive_wipe: kill %s: --resume exit %d; archive: %s; leftovers: %s; result: %s "
           "(%s)\n",
           k->what, rrc, exact ? "the 3 lawful members exactly" : why, ntmp ? names : "none",
           t ? tu_jstr(t, "status") : "(none)", t ? tu_jstr(t, "reason") : "");
    if (rrc != 0 && rrc != 1)
        fail_msg("kill %s: --resume exit %d: %.2000s", k->what, rrc, rerr);
    if (!exact)
        fail_msg("kill %s: after --resume the archive is not the 3 lawful members: %s", k->what,
                 why);
    if (ntmp > 0)
        fail_msg("kill %s: after --resume left behind: %s", k->what, names);
    /* the raw image: nothing of the old archive (windows not in the new one) */
    size_t newlen = 0, ilen = 0;
    unsigned char *neu = tu_oread(arch, &newlen);
    assert_non_null(neu);
    struct fu_probes po;
    probes_not_in(&po, old, oldlen, neu, newlen);
    unsigned char *img = fu_image_bytes(&f->fs, &ilen);
    size_t o1 = fu_probes_in(&po, img, ilen);
    free(img);
    printf("archive_wipe: kill %s: old archive windows left in the image: %zu/%d\n", k->what, o1,
           PROBES);
    if (o1 != 0)
        fail_msg("kill %s: %zu windows of the old archive remain in the raw image", k->what, o1);
    assert_non_null(t);
    tu_expect_status(t, "erased", k->what);
    assert_int_equal(rrc, 0);
    assert_true(json_is_true(tu_jget(t, "archive.rewritten")));
    assert_int_equal(json_integer_value(tu_jget(t, "archive.kept_members")), 3);
    /* the journal verifies, one target-done, at most one archive-renamed */
    struct jcount c = {0};
    struct dp_error e = {0};
    uint64_t records = 0;
    if (dp_journal_verify_file(journal, NULL, &records, count_visit, &c, &e) != DP_OK)
        fail_msg("kill %s: the journal does not verify: %s", k->what, e.msg);
    assert_int_equal(c.done, 1);
    assert_true(c.renamed <= 1);
}

/* ==== 4. an archive deprive cannot rewrite: 7z and --archive-policy ==== */

static void test_policy_7z(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct set s;
    set_init(&s, 500, 20 * 1024, false);
    char *list = victim_list(f->work, &s);
    char *arch = tu_opath(f->fs.mnt, "evidence.7z");
    write_archive(arch, F_7Z, NOF, s.all, 4);
    char sha0[65], sha[65];
    tu_sha256_file(arch, sha0);
    size_t oldlen = 0, ilen = 0;
    unsigned char *old = tu_oread(arch, &oldlen);
    char *plan = tu_opath(f->work, "plan.json");
    json_t *pdoc = scan(f->fs.mnt, list, plan, 1);
    expect_location(pdoc, 0, "evidence.7z -> " VICTIM_NAME);
    struct tu_run r;

    /* no policy: refused before anything is done */
    char *j1 = tu_opath(f->work, "j1"), *w1 = tu_opath(f->work, "w1.json");
    wipe(&r, list, j1, w1, plan, NULL);
    tu_expect_exit(&r, 2, "wipe of a 7z without --archive-policy");
    if (strstr(r.err, "evidence.7z") == NULL || strstr(r.err, "--archive-policy") == NULL)
        fail_msg("the refusal does not name the archive and the flag: %s", r.err);
    printf("archive_wipe: 7z: refused: %s", r.err);
    tu_sha256_file(arch, sha);
    assert_string_equal(sha, sha0);
    uint64_t records = 0;
    struct dp_error e = {0};
    bool jexists = access(j1, F_OK) == 0;
    if (jexists && dp_journal_verify_file(j1, NULL, &records, NULL, NULL, &e) != DP_OK)
        fail_msg("the refused wipe's journal does not verify: %s", e.msg);
    printf("archive_wipe: 7z: after the refusal: journal %s (%llu records), result file %s\n",
           jexists ? "exists" : "not created", (unsigned long long)records,
           access(w1, F_OK) == 0 ? "written" : "not written");
    if (records != 0)
        fail_msg("the refused wipe journaled %llu records: it did something first",
                 (unsigned long long)records);
    expect_no_leftovers(f->fs.mnt, "7z refused");

    /* leave: skipped, untouched */
    static const char *const leave[] = {"--archive-policy", "leave", NULL};
    char *j2 = tu_opath(f->work, "j2"), *w2 = tu_opath(f->work, "w2.json");
    wipe(&r, list, j2, w2, plan, leave);
    tu_expect_exit(&r, 1, "wipe --archive-policy=leave");
    tu_sha256_file(arch, sha);
    assert_string_equal(sha, sha0);
    json_t *res = tu_oload(w2);
    const json_t *t = target_of(res, "evidence.7z");
    tu_expect_status(t, "skipped", "7z, leave");
    printf("archive_wipe: 7z: --archive-policy=leave: skipped (%s)\n", tu_jstr(t, "reason"));

    /* wipe-whole: the archive erased, its other members named */
    static const char *const whole[] = {"--archive-policy=wipe-whole", NULL};
    char *j3 = tu_opath(f->work, "j3"), *w3 = tu_opath(f->work, "w3.json");
    wipe(&r, list, j3, w3, plan, whole);
    tu_expect_exit(&r, 0, "wipe --archive-policy=wipe-whole");
    if (access(arch, F_OK) == 0)
        fail_msg("--archive-policy=wipe-whole: evidence.7z is still there");
    expect_no_leftovers(f->fs.mnt, "7z wipe-whole");
    res = tu_oload(w3);
    t = target_of(res, "evidence.7z");
    tu_expect_status(t, "erased", "7z, wipe-whole");
    assert_true(json_is_true(tu_jget(t, "archive.wiped_whole")));
    assert_int_equal(json_integer_value(tu_jget(t, "archive.members")), 4);
    const json_t *mn = tu_jget(t, "archive.member_names");
    for (int i = 0; i < 3; i++) {
        bool found = false;
        size_t k;
        const json_t *v;
        json_array_foreach(mn, k, v) found |= strcmp(json_string_value(v), s.kept[i].name) == 0;
        if (!found)
            fail_msg("wipe-whole: archive.member_names lacks %s", s.kept[i].name);
    }
    char *names = tu_own(json_dumps(mn, JSON_COMPACT));
    printf("archive_wipe: 7z: --archive-policy=wipe-whole: erased, archive.member_names %s\n",
           names);
    struct fu_probes pv, po;
    fu_probes_spread(&pv, PROBES, s.victim, s.vlen);
    fu_probes_spread(&po, PROBES, old, oldlen);
    unsigned char *img = fu_image_bytes(&f->fs, &ilen);
    size_t v1 = fu_probes_in(&pv, img, ilen), o1 = fu_probes_in(&po, img, ilen);
    free(img);
    printf("archive_wipe: 7z: after wipe-whole: victim %zu/%d, archive %zu/%d windows in the "
           "image\n",
           v1, PROBES, o1, PROBES);
    assert_int_equal(v1, 0);
    assert_int_equal(o1, 0);
}

/* The refusal says nothing was done and to give --archive-policy: doing just that (same plan,
 * the default journal) must work. */
static void test_policy_retry_after_refusal(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct set s;
    set_init(&s, 510, 12 * 1024, false);
    char *list = victim_list(f->work, &s);
    char *arch = tu_opath(f->fs.mnt, "evidence.7z");
    write_archive(arch, F_7Z, NOF, s.all, 4);
    char sha0[65], sha[65];
    tu_sha256_file(arch, sha0);
    char *plan = tu_opath(f->work, "plan.json"), *out = tu_opath(f->work, "wipe.json"),
         *journal = tu_opath(f->work, "plan.json.journal");
    scan(f->fs.mnt, list, plan, 1);
    struct tu_run r;
    tu_odeprive(&r, "wipe", "--yes", "--order", ORDER, "--hashes", list, "-o", out, plan, NULL);
    tu_expect_exit(&r, 2, "wipe of a 7z without --archive-policy");
    assert_non_null(strstr(r.err, "nothing was done"));
    struct stat sb;
    bool left = stat(journal, &sb) == 0;
    printf("archive_wipe: 7z retry: the refusal left %s\n",
           left ? "an empty journal at PLAN.json.journal" : "no journal");
    tu_odeprive(&r, "wipe", "--yes", "--order", ORDER, "--hashes", list, "-o", out,
                "--archive-policy=leave", plan, NULL);
    if (r.status != 1)
        fail_msg("the retry with --archive-policy=leave the refusal asked for: exit %d, want 1 "
                 "(skipped)\nstderr: %.2000s",
                 r.status, r.err);
    json_t *res = tu_oload(out);
    tu_expect_status(target_of(res, "evidence.7z"), "skipped", "7z retry, leave");
    tu_sha256_file(arch, sha);
    assert_string_equal(sha, sha0);
}

/* ==== 4b. what libarchive reads past by default: a tar after another's end-of-archive mark
 * (tar files concatenated with cat) and a compressed file whose content starts with zeros
 * (read as an empty tar): both found, the tar rewritten keeping every other member of both
 * parts, the compressed file erased whole ==== */

static void test_concatenated_and_zero_led(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct set s;
    set_init(&s, 400, 12 * 1024, false);
    size_t l1 = 0, l2 = 0;
    unsigned char *t1 = archive_bytes(f->work, "one.tar", F_TAR, NOF, s.kept, 2, &l1);
    const struct mem second[] = {s.all[1], s.kept[2]};
    unsigned char *t2 = archive_bytes(f->work, "two.tar", F_TAR, NOF, second, 2, &l2);
    unsigned char *cat = tu_own(malloc(l1 + l2));
    memcpy(cat, t1, l1);
    memcpy(cat + l1, t2, l2);
    char *arch = tu_opath(f->fs.mnt, "both.tar");
    tu_write_file(arch, cat, l1 + l2);
    /* 1 KiB of zeros, then the victim's bytes: gzip-compressed (a raw stream in a gzip) */
    size_t zn = 1024 + s.vlen;
    unsigned char *zb = tu_own(calloc(1, zn));
    memcpy(zb + 1024, s.victim, s.vlen);
    const struct mem raw = {"data", zb, zn, 0644, T0};
    char *zpath = tu_opath(f->fs.mnt, "zero-led.gz");
    write_archive(zpath, F_RAW, GZ, &raw, 1);
    char *list = victim_list(f->work, &s), zsha[65], line[128];
    tu_sha256_buf(zb, zn, zsha);
    snprintf(line, sizeof(line), "%s  zero-led\n", zsha);
    size_t ll = 0;
    char *lt = tu_read(list, &ll);
    char *both = tu_own(malloc(ll + strlen(line)));
    memcpy(both, lt, ll);
    memcpy(both + ll, line, strlen(line));
    tu_write_file(list, both, ll + strlen(line));
    free(lt);

    char *plan = tu_opath(f->work, "plan.json"), *journal = tu_opath(f->work, "journal"),
         *out = tu_opath(f->work, "wipe.json");
    json_t *pdoc = scan(f->fs.mnt, list, plan, 2);
    expect_location(pdoc, 0, "both.tar -> " VICTIM_NAME);
    expect_location(pdoc, 1, "zero-led.gz -> data");
    assert_int_equal(json_integer_value(tu_jget(pdoc, "totals.skipped")), 0);
    struct tu_run r;
    wipe(&r, list, journal, out, plan, NULL);
    tu_expect_exit(&r, 0, "wipe");
    json_t *res = tu_oload(out);
    tu_expect_status(target_of(res, "both.tar"), "erased", "concatenated tar");
    tu_expect_status(target_of(res, "zero-led.gz"), "erased", "zero-led gzip");
    assert_true(json_is_true(tu_jget(target_of(res, "zero-led.gz"), "archive.wiped_whole")));
    assert_int_equal(access(zpath, F_OK), -1);
    /* every lawful member of both parts kept, now in one tar */
    expect_listing(arch, s.kept, 3, "the concatenated tar after the rewrite");
    expect_no_leftovers(f->fs.mnt, "concatenated");
}

/* ==== 4c. a zip hiding entries in front of those its central directory lists (cat y.zip
 * x.zip): the scan finds the victim in the listed part and a copy in the hidden part (read by
 * its local header, reported as unlisted); a rewrite would drop the hidden entries, so the
 * wipe needs --archive-policy: refused without one, the zip byte-identical; left with leave;
 * erased whole with wipe-whole ==== */

static void test_unlisted_zip(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct set s;
    set_init(&s, 600, 12 * 1024, false);
    char *list = victim_list(f->work, &s);
    /* listed nowhere but by their local headers: libarchive's seekable reader, unzip and
     * Python pass over them; bsdtar reading a pipe extracts them */
    const struct mem hidden[] = {{"private/diary.txt", s.lawful[2], s.llen[2], 0644, T0},
                                 {"private/copy.jpg", s.victim, s.vlen, 0644, T0}};
    size_t yn = 0, xn = 0;
    unsigned char *y = archive_bytes(f->work, "y.zip", F_ZIP, NOF, hidden, 2, &yn);
    unsigned char *x = archive_bytes(f->work, "x.zip", F_ZIP, NOF, s.all, 4, &xn);
    unsigned char *cat = tu_own(malloc(yn + xn));
    memcpy(cat, y, yn);
    memcpy(cat + yn, x, xn);
    char *arch = tu_opath(f->fs.mnt, "evidence.zip");
    tu_write_file(arch, cat, yn + xn);
    char sha0[65], sha[65];
    tu_sha256_file(arch, sha0);

    char *plan = tu_opath(f->work, "plan.json"), *journal = tu_opath(f->work, "journal"),
         *out = tu_opath(f->work, "wipe.json");
    json_t *pdoc = scan(f->fs.mnt, list, plan, 2);
    expect_location(pdoc, 0, "evidence.zip -> " VICTIM_NAME);
    expect_location(pdoc, 1, "evidence.zip -> private/copy.jpg");
    const json_t *hm = tu_jget(json_array_get(json_object_get(pdoc, "findings"), 1), "member");
    if (!json_is_true(json_object_get(hm, "unlisted")) ||
        json_integer_value(json_object_get(hm, "local_header_offset")) == 0 ||
        json_integer_value(json_object_get(hm, "index")) != 5 ||
        json_array_size(json_object_get(pdoc, "skips")) != 0)
        fail_msg("the hidden copy is not reported as unlisted (index 5: the 4 listed, the "
                 "hidden diary, then it), "
                 "or something was skipped: member %s, skips %s",
                 tu_dumps(hm), tu_dumps(json_object_get(pdoc, "skips")));
    printf("archive_wipe: unlisted zip: the hidden copy found: %s\n", tu_dumps(hm));

    /* it cannot be rewritten faithfully (the hidden entry would be dropped): like a 7z, it
     * needs --archive-policy; without one the wipe is refused before anything is done */
    struct tu_run r;
    wipe(&r, list, journal, out, plan, NULL);
    tu_expect_exit(&r, 2, "wipe of a zip hiding an entry, no --archive-policy");
    if (strstr(r.err, "evidence.zip") == NULL || strstr(r.err, "--archive-policy") == NULL ||
        strstr(r.err, "the zip holds 2 entries by their local headers that its central "
                      "directory does not list; rewriting it would drop those entries") == NULL)
        fail_msg("the refusal does not say why and what to do (exit %d): %s", r.status, r.err);
    printf("archive_wipe: unlisted zip: refused: %s", r.err);
    tu_sha256_file(arch, sha);
    assert_string_equal(sha, sha0);
    expect_no_leftovers(f->fs.mnt, "unlisted zip refused");

    /* leave: skipped, the zip byte-identical */
    static const char *const leave[] = {"--archive-policy=leave", NULL};
    char *j2 = tu_opath(f->work, "j2"), *w2 = tu_opath(f->work, "w2.json");
    wipe(&r, list, j2, w2, plan, leave);
    tu_expect_exit(&r, 1, "wipe --archive-policy=leave of a zip hiding an entry");
    json_t *res = tu_oload(w2);
    const json_t *t = target_of(res, "evidence.zip");
    tu_expect_status(t, "skipped", "zip hiding an entry, leave");
    const char *why = tu_jstr(t, "reason");
    if (strstr(why, "central directory does not list") == NULL)
        fail_msg("the skip does not say why: %s", why);
    printf("archive_wipe: unlisted zip: leave: %s: %s\n", tu_jstr(t, "status"), why);
    tu_sha256_file(arch, sha);
    assert_string_equal(sha, sha0);

    /* wipe-whole: the zip erased, the hidden entry with it, by the examiner's choice */
    static const char *const whole[] = {"--archive-policy=wipe-whole", NULL};
    char *j3 = tu_opath(f->work, "j3"), *w3 = tu_opath(f->work, "w3.json");
    wipe(&r, list, j3, w3, plan, whole);
    tu_expect_exit(&r, 0, "wipe --archive-policy=wipe-whole of a zip hiding an entry");
    res = tu_oload(w3);
    t = target_of(res, "evidence.zip");
    tu_expect_status(t, "erased", "zip hiding an entry, wipe-whole");
    assert_true(json_is_true(tu_jget(t, "archive.wiped_whole")));
    printf("archive_wipe: unlisted zip: wipe-whole: %s\n", tu_dumps(json_object_get(t, "archive")));
    assert_int_equal(access(arch, F_OK), -1);
    expect_no_leftovers(f->fs.mnt, "unlisted zip wiped whole");
}

/* ==== 5. a single compressed file of the victim's file: erased whole ==== */

static void test_single_compressed(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct set s;
    set_init(&s, 600, 20 * 1024, false);
    char *list = victim_list(f->work, &s);
    const struct mem one = {"victim.jpg", s.victim, s.vlen, 0644, T0};
    const struct mem other = {"notes.txt", s.lawful[0], s.llen[0], 0644, T0};
    char *gz = tu_opath(f->fs.mnt, "victim.jpg.gz"), *xz = tu_opath(f->fs.mnt, "victim.jpg.xz"),
         *keep = tu_opath(f->fs.mnt, "notes.txt.gz");
    write_archive(gz, F_RAW, GZ, &one, 1);
    write_archive(xz, F_RAW, XZ, &one, 1);
    write_archive(keep, F_RAW, GZ, &other, 1);
    char sha_keep0[65], sha_keep[65];
    tu_sha256_file(keep, sha_keep0);
    size_t gzlen = 0, xzlen = 0, ilen = 0;
    unsigned char *gzb = tu_oread(gz, &gzlen), *xzb = tu_oread(xz, &xzlen);
    char *plan = tu_opath(f->work, "plan.json"), *journal = tu_opath(f->work, "journal"),
         *out = tu_opath(f->work, "wipe.json");
    json_t *pdoc = scan(f->fs.mnt, list, plan, 2);
    char loc[256];
    location_of(json_array_get(json_object_get(pdoc, "findings"), 0), loc, sizeof(loc));
    printf("archive_wipe: single: found at %s\n", loc);
    struct tu_run r;
    wipe(&r, list, journal, out, plan, NULL);
    tu_expect_exit(&r, 0, "wipe");
    if (access(gz, F_OK) == 0 || access(xz, F_OK) == 0)
        fail_msg("single compressed files: victim.jpg.gz %s, victim.jpg.xz %s",
                 access(gz, F_OK) == 0 ? "still there" : "gone",
                 access(xz, F_OK) == 0 ? "still there" : "gone");
    tu_sha256_file(keep, sha_keep);
    assert_string_equal(sha_keep, sha_keep0);
    expect_no_leftovers(f->fs.mnt, "single");
    json_t *res = tu_oload(out);
    const char *which[] = {"victim.jpg.gz", "victim.jpg.xz"};
    for (int i = 0; i < 2; i++) {
        const json_t *t = target_of(res, which[i]);
        tu_expect_status(t, "erased", which[i]);
        assert_true(json_is_true(tu_jget(t, "archive.wiped_whole")));
        printf("archive_wipe: single: %s erased whole (%s)\n", which[i], tu_jstr(t, "archive.why"));
    }
    struct fu_probes pv, pg, px;
    fu_probes_spread(&pv, PROBES, s.victim, s.vlen);
    fu_probes_spread(&pg, PROBES, gzb, gzlen);
    fu_probes_spread(&px, PROBES, xzb, xzlen);
    unsigned char *img = fu_image_bytes(&f->fs, &ilen);
    size_t v1 = fu_probes_in(&pv, img, ilen), g1 = fu_probes_in(&pg, img, ilen),
           x1 = fu_probes_in(&px, img, ilen);
    free(img);
    printf("archive_wipe: single: after: victim %zu/%d, .gz %zu/%d, .xz %zu/%d windows\n", v1,
           PROBES, g1, PROBES, x1, PROBES);
    assert_int_equal(v1 + g1 + x1, 0);
}

/* ==== 6. ENOSPC while the new archive is written ==== */

/* Fill the filesystem with one file, then give back `spare` bytes. */
static void fill(const char *mnt, size_t spare)
{
    char *p = tu_opath(mnt, "filler.bin");
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    unsigned char *buf = tu_own(tu_random_bytes(1 << 20, 77));
    off_t total = 0;
    for (size_t chunk = 1 << 20; chunk >= 1024; chunk /= 4)
        for (;;) {
            ssize_t n = write(fd, buf, chunk);
            if (n <= 0)
                break;
            total += n;
        }
    assert_int_equal(fsync(fd), 0);
    assert_int_equal(ftruncate(fd, total > (off_t)spare ? total - (off_t)spare : 0), 0);
    assert_int_equal(fsync(fd), 0);
    close(fd);
    sync();
}

static void test_enospc(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct set s;
    set_init(&s, 700, 1024 * 1024, true); /* 3 x ~1 MiB: the new archive needs ~3 MiB */
    char *list = victim_list(f->work, &s);
    char *arch = tu_opath(f->fs.mnt, "evidence.tar");
    write_archive(arch, F_TAR, NOF, s.all, 4);
    fill(f->fs.mnt, 256 * 1024);
    struct statvfs sv;
    assert_int_equal(statvfs(f->fs.mnt, &sv), 0);
    unsigned long long avail = (unsigned long long)sv.f_bfree * sv.f_frsize;
    char sha0[65], sha[65];
    tu_sha256_file(arch, sha0);
    char *plan = tu_opath(f->work, "plan.json"), *journal = tu_opath(f->work, "journal"),
         *out = tu_opath(f->work, "wipe.json");
    scan(f->fs.mnt, list, plan, 1);
    struct tu_run r;
    wipe(&r, list, journal, out, plan, NULL);
    tu_expect_exit(&r, 1, "wipe on a full filesystem");
    json_t *res = tu_oload(out);
    const json_t *t = target_of(res, "evidence.tar");
    printf("archive_wipe: enospc: %llu bytes free for a ~3 MiB new archive: %s (%s)\n", avail,
           tu_jstr(t, "status"), tu_jstr(t, "reason"));
    tu_expect_status(t, "failed", "ENOSPC");
    tu_sha256_file(arch, sha);
    assert_string_equal(sha, sha0);
    expect_listing(arch, s.all, 4, "enospc: the original archive");
    expect_no_leftovers(f->fs.mnt, "enospc");
}

/* ==== 7. a member that only matches by PDQ ==== */

static void write_png_file(const char *dir, const char *name, const struct robust_image *im)
{
    char *p = tu_opath(dir, name), msg[256];
    if (!robust_write_png(p, im, msg, sizeof(msg)))
        fail_msg("%s: %s", name, msg);
}

static void finding_in(const json_t *plan, const char *archive, char id[16])
{
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(plan, "findings"), i, fd) {
        const char *first = json_string_value(json_array_get(json_object_get(fd, "location"), 0));
        if (first != NULL && strcmp(first, archive) == 0) {
            assert_true(json_is_true(json_object_get(fd, "perceptual_only")));
            snprintf(id, 16, "%s", json_string_value(json_object_get(fd, "id")));
            return;
        }
    }
    fail_msg("no finding in %s", archive);
}

static void test_perceptual_member(void **state)
{
    struct lfx *f = *state;
    need_loop(f);
    struct robust_image victim, half;
    assert_true(robust_scene(&victim, 480, 360, 9001));
    assert_true(robust_resize(&half, &victim, 240, 180));
    write_png_file(f->work, "victim.png", &victim);
    write_png_file(f->work, "half.png", &half);
    robust_image_free(&victim), robust_image_free(&half);
    size_t hlen = 0;
    char *hp = tu_opath(f->work, "half.png");
    unsigned char *hb = tu_oread(hp, &hlen);
    assert_non_null(hb);
    /* the list: the victim's PDQ only */
    struct tu_run r;
    char *vp = tu_opath(f->work, "victim.png");
    tu_odeprive(&r, "hash", vp, NULL);
    tu_expect_exit(&r, 0, "hash");
    const char *pq = strstr(r.out, "pdq:");
    assert_non_null(pq);
    char line[160];
    snprintf(line, sizeof(line), "# deprive-hashes 1\n%.*s\n", (int)strcspn(pq, " \n"), pq);
    tu_write(f->work, "pdq.list", line, strlen(line));
    char *list = tu_opath(f->work, "pdq.list");
    unsigned char *t1 = text_bytes(8000, 801), *t2 = text_bytes(6000, 802);
    const struct mem all[] = {{"notes.txt", t1, 8000, 0644, T0 + 2},
                              {"DCIM/IMG_0001.png", hb, hlen, 0644, T0 + 4},
                              {"todo.txt", t2, 6000, 0600, T0 + 6}};
    const struct mem kept[] = {all[0], all[2]};
    char *za = tu_opath(f->fs.mnt, "phone.zip"), *ta = tu_opath(f->fs.mnt, "laptop.tar");
    write_archive(za, F_ZIP, NOF, all, 3);
    write_archive(ta, F_TAR, NOF, all, 3);
    char zsha0[65], tsha0[65], sha[65];
    tu_sha256_file(za, zsha0);
    tu_sha256_file(ta, tsha0);
    char *plan = tu_opath(f->work, "plan.json");
    json_t *pdoc = scan(f->fs.mnt, list, plan, 2);
    char zid[16], tid[16];
    finding_in(pdoc, "phone.zip", zid);
    finding_in(pdoc, "laptop.tar", tid);

    /* no decision: both left, byte-identical */
    char *j1 = tu_opath(f->work, "j1"), *w1 = tu_opath(f->work, "w1.json");
    wipe(&r, list, j1, w1, plan, NULL);
    tu_expect_exit(&r, 1, "wipe without consent");
    json_t *res = tu_oload(w1);
    tu_expect_status(target_of(res, "phone.zip"), "skipped", "phone.zip without consent");
    tu_expect_status(target_of(res, "laptop.tar"), "skipped", "laptop.tar without consent");
    printf("archive_wipe: perceptual: without a decision: skipped (%s)\n",
           tu_jstr(target_of(res, "phone.zip"), "reason"));
    tu_sha256_file(za, sha);
    assert_string_equal(sha, zsha0);
    tu_sha256_file(ta, sha);
    assert_string_equal(sha, tsha0);

    /* the examiner confirms the zip's: it goes, the tar's stays */
    tu_odeprive(&r, "confirm", plan, "--finding", zid, "--examiner", "DC Test", NULL);
    tu_expect_exit(&r, 0, "confirm");
    char *j2 = tu_opath(f->work, "j2"), *w2 = tu_opath(f->work, "w2.json");
    wipe(&r, list, j2, w2, plan, NULL);
    tu_expect_exit(&r, 1, "wipe after confirming one");
    res = tu_oload(w2);
    const json_t *t = target_of(res, "phone.zip");
    tu_expect_status(t, "erased", "phone.zip confirmed");
    assert_string_equal(tu_jstr(t, "consent.kind"), "confirmed");
    assert_string_equal(tu_jstr(t, "match.method"), "pdq");
    assert_true(json_is_true(tu_jget(t, "archive.rewritten")));
    tu_expect_status(target_of(res, "laptop.tar"), "skipped", "laptop.tar unconfirmed");
    printf("archive_wipe: perceptual: confirmed: phone.zip member removed (distance %lld)\n",
           (long long)json_integer_value(tu_jget(t, "match.distance")));
    expect_listing(za, kept, 2, "phone.zip after its member was confirmed");
    tu_sha256_file(ta, sha);
    assert_string_equal(sha, tsha0);

    /* blanket consent: the tar's goes too */
    char *plan2 = tu_opath(f->work, "plan2.json");
    scan(f->fs.mnt, list, plan2, 1);
    static const char *const blanket[] = {"--erase-perceptual", "--examiner", "DC Test", NULL};
    char *j3 = tu_opath(f->work, "j3"), *w3 = tu_opath(f->work, "w3.json");
    wipe(&r, list, j3, w3, plan2, blanket);
    tu_expect_exit(&r, 0, "wipe --erase-perceptual");
    res = tu_oload(w3);
    t = target_of(res, "laptop.tar");
    tu_expect_status(t, "erased", "laptop.tar --erase-perceptual");
    assert_string_equal(tu_jstr(t, "consent.kind"), "blanket");
    expect_listing(ta, kept, 2, "laptop.tar after --erase-perceptual");
    expect_listing(za, kept, 2, "phone.zip still");
    expect_no_leftovers(f->fs.mnt, "perceptual");
    printf("archive_wipe: perceptual: --erase-perceptual: laptop.tar member removed\n");
}

/* ==== the suite ==== */

#define FMT(id, c) static struct lfx id = {.label = c.ext, .size_mb = 32, .param = &c}
FMT(fx_zip, fc_zip);
FMT(fx_tar, fc_tar);
FMT(fx_tgz, fc_tgz);
FMT(fx_txz, fc_txz);
FMT(fx_tzst, fc_tzst);
FMT(fx_cpio, fc_cpio);
static struct lfx fx_nested = {.label = "nested", .size_mb = 32};
#define KP(id, k) static struct lfx id = {.label = "kill", .size_mb = 32, .param = &k}
KP(fx_k_begin, fu_kp_begin);
KP(fx_k_writing, fu_kp_writing);
KP(fx_k_written, fu_kp_written);
KP(fx_k_owbegin, fu_kp_owbegin);
KP(fx_k_owmid, fu_kp_owmid);
KP(fx_k_owdone, fu_kp_owdone);
KP(fx_k_renaming, fu_kp_renaming);
KP(fx_k_renamed, fu_kp_renamed);
static struct lfx fx_7z = {.label = "7z", .size_mb = 32};
static struct lfx fx_7z_retry = {.label = "7z retry", .size_mb = 32};
static struct lfx fx_single = {.label = "single", .size_mb = 32};
static struct lfx fx_concat = {.label = "concatenated", .size_mb = 32};
static struct lfx fx_unlisted = {.label = "unlisted", .size_mb = 32};
static struct lfx fx_enospc = {.label = "enospc", .size_mb = 16};
static struct lfx fx_pdq = {.label = "perceptual", .size_mb = 32};

#define T(name, fn, fx)                                                                            \
    {                                                                                              \
        name, fn, lfx_setup, lfx_teardown, &fx                                                     \
    }

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        T("rewrite_zip", test_rewrite_format, fx_zip),
        T("rewrite_tar", test_rewrite_format, fx_tar),
        T("rewrite_tar_gz", test_rewrite_format, fx_tgz),
        T("rewrite_tar_xz", test_rewrite_format, fx_txz),
        T("rewrite_tar_zst", test_rewrite_format, fx_tzst),
        T("rewrite_cpio", test_rewrite_format, fx_cpio),
        T("nested_zip_in_tar_gz", test_nested_zip_in_tar_gz, fx_nested),
        T("kill_after_archive_begin", test_kill_resume, fx_k_begin),
        T("kill_writing_new_archive", test_kill_resume, fx_k_writing),
        T("kill_after_archive_written", test_kill_resume, fx_k_written),
        T("kill_after_overwrite_begin", test_kill_resume, fx_k_owbegin),
        T("kill_during_overwrite", test_kill_resume, fx_k_owmid),
        T("kill_after_overwrite_done", test_kill_resume, fx_k_owdone),
        T("kill_after_rename_before_record", test_kill_resume, fx_k_renaming),
        T("kill_after_archive_renamed", test_kill_resume, fx_k_renamed),
        T("policy_7z", test_policy_7z, fx_7z),
        T("policy_7z_retry_after_refusal", test_policy_retry_after_refusal, fx_7z_retry),
        T("single_compressed_whole", test_single_compressed, fx_single),
        T("concatenated_tar_zero_led_gzip", test_concatenated_and_zero_led, fx_concat),
        T("zip_hiding_entries_need_policy", test_unlisted_zip, fx_unlisted),
        T("enospc_new_archive", test_enospc, fx_enospc),
        T("perceptual_member", test_perceptual_member, fx_pdq),
    };
    /* DP_TEST_FILTER=kill_* runs some */
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests_name("archive_wipe", tests, NULL, NULL);
}
