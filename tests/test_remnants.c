/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: remnants - `scan --sweep` and `run --sweep` (src/scan/remnants.c,
 * src/erase/wipe_remnant.c) through the CLI, on loop-mounted filesystems (root only; every
 * case skips, saying why, without root and /dev/loop-control or the filesystem's tools).
 *
 * The victim's images: V1, V2, V3 (robust.c scenes, 640x480 JPEG q92), listed by `deprive
 * hash` (MD5, SHA-1, SHA-256, size, PDQ); V3R is V3 at 320x240 JPEG q80: a perceptual copy,
 * found by its PDQ hash only. Lawful: L1, L2 (other scenes, same encoder settings: their JPEG
 * tables are the victim's too, so only windows of the entropy-coded middle are looked for).
 *
 * 1. Per filesystem (ext4, vfat through fusefat with --device, exfat-fuse, ntfs-3g, xfs,
 *    btrfs): live photos/v1.jpg and photos/l1.jpg; V1 again, V2, V3R and L2 written under
 *    Downloads/ and removed with plain rm. The oracle is the image file: every place the whole
 *    bytes of V2 or V3R lie must be a remnant at exactly that offset and length (V3R
 *    perceptual-only), the live V1's place is its file's (attributed by extents, or left
 *    unswept as a live file's bytes - sweep.bytes_skipped_live - where the filesystem gives
 *    extents: ext4, xfs, ntfs-3g; attributed by digests where it gives none: vfat, exfat,
 *    btrfs, and then so is the deleted duplicate), the deleted duplicate of V1 a remnant
 *    where extents tell them apart; nothing of L1 or L2 is reported. Then `run --sweep
 *    --erase-perceptual`: afterwards 64 probe windows of each victim copy's entropy-coded
 *    middle (and every window of that middle) are nowhere in the raw image (btrfs: but for a
 *    fragment of at most 64 windows inside its metadata chunks, a risk the certificate must
 *    name - the kernel leaks freed memory into inode items there), L1 is
 *    byte-identical, the re-scan finds nothing, `deprive verify` accepts the certificate,
 *    its sweep has before/after (remnants after 0) and the outcome is ERASED. XFS: a deleted
 *    copy in space its per-AG reservations keep from the fill is reported failed with that
 *    reason (its bytes still there, the other copies gone) and the certificate not ERASED
 *    (FAILED here) - asserted as such where it happens.
 * 2. A sweep never writes: the image's SHA-256 is the same after `scan --sweep` of an ext4
 *    mounted -o ro,noload.
 * 3. Refusals (exit 2, with the message): ROOT not the mount's root (scan and run; nothing
 *    erased); fusefat without --device; --device naming another block device than the one
 *    an ext4 is mounted from, or not a block device at all. And the same for fusefat
 *    (fusefat_wrong_device): the mount names no device, and a --device whose boot sector does
 *    not describe the mounted filesystem is refused (it once was taken unchecked, and a clean
 *    sweep of the wrong device gave an ERASED certificate).
 * 3b. A copy in a live file's slack: traced to the file; left (not ERASED) without
 *    --scrub-slack; erased with it, the file's content and mtime unchanged (slack_scrub).
 * 4. Consent: a perceptual-only remnant without consent is left (skipped, certificate not
 *    ERASED, its bytes still on the device); rejected with `deprive confirm --reject` it is
 *    left by `deprive wipe` too.
 * 5. Tampering: a remnant target's verification.windows_left set to 1, or its
 *    remnant.removed_by changed, or (outcome ERASED) sweep.after.remnants set to 1: `deprive
 *    verify` rejects the file (the signature no longer covers it: exit 1) and dp_cert_check -
 *    the consistency check verify runs besides the signature, so a re-signed forgery meets it
 *    too - names the problem.
 * 6. SIGKILL during `run --sweep` at journal steps (the first remnant's "checked" record,
 *    "fill-begin", "reserve-lowered", and the first fill file's fsync), then `run --resume`:
 *    the remnants erased, nothing left in the raw image, the certificate valid and ERASED.
 *
 * DP_TEST_FILTER=fs_* runs some tests. */
#include "testutil.h"
#include "fsutil.h"
#include "imageset.h"
#include "robust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "deprive/cert.h"
#include "deprive/error.h"
#include "deprive/extents.h"

#define ORDER "ORD-REM-0001"
#define OFFICER "PC Remnant"
#define EXHIBIT "EX-REM-1"
#define EXAMINER "DC Remnant"
#define PROBES 64
#define MAXOCC 16

/* ---- the images and the keys: made once, kept for the whole suite ---- */

static struct images {
    struct iset set;
    struct robust_file v1, v2, v3, v3r; /* v3r: v3 resized and re-encoded (perceptual copy) */
    struct robust_file l1, l2;          /* lawful */
    const char *list;                   /* `deprive hash` of v1, v2, v3 */
    char *sec, *pub;                    /* `deprive keygen -W` */
    unsigned char *lawful;              /* l1 and l2 back to back (what may rightly stay) */
    size_t lawful_n;
} G;

static bool make_images(void)
{
    const struct iset_file spec[] = {
        {&G.v1, "v1.jpg", 640, 480, 92, 5301},
        {&G.v2, "v2.jpg", 640, 480, 92, 5302},
        {&G.v3, "v3.jpg", 0, 0, 92, ISET_SOURCE},
        {&G.v3r, "v3r.jpg", 320, 240, 80, ISET_SOURCE},
        {&G.l1, "l1.jpg", 640, 480, 92, 7401},
        {&G.l2, "l2.jpg", 640, 480, 92, 7402},
    };
    if (!iset_make(&G.set, "remnants", 640, 480, 5303, spec, sizeof(spec) / sizeof(spec[0])))
        return false;
    G.lawful_n = G.l1.n + G.l2.n;
    G.lawful = malloc(G.lawful_n);
    assert_non_null(G.lawful);
    memcpy(G.lawful, G.l1.b, G.l1.n);
    memcpy(G.lawful + G.l1.n, G.l2.b, G.l2.n);
    char *hashes = iset_hash(&G.set, "victim", G.v3.sha, "v1.jpg", "v2.jpg", "v3.jpg", NULL);
    bool ok = hashes != NULL;
    if (ok)
        G.list = iset_write(&G.set, "victim.list", hashes);
    free(hashes);
    struct tu_run r;
    G.sec = tu_path(G.set.dir, "k.sec");
    G.pub = tu_path(G.set.dir, "k.pub");
    tu_deprive(&r, NULL, "keygen", "-W", "-p", G.pub, "-s", G.sec, NULL);
    ok = ok && r.status == 0;
    if (r.status != 0)
        printf("remnants: keygen: exit %d: %s\n", r.status, r.err);
    tu_run_free(&r);
    if (ok)
        printf("remnants: images: V1 %zu, V2 %zu, V3 %zu bytes, V3R (320x240 q80) %zu; lawful "
               "%zu, %zu\n",
               G.v1.n, G.v2.n, G.v3.n, G.v3r.n, G.l1.n, G.l2.n);
    return ok;
}

static void need_images(void)
{
    iset_need(&G.set, make_images);
}

static int group_teardown(void **state)
{
    (void)state;
    iset_release(&G.set);
    free(G.sec);
    free(G.pub);
    free(G.lawful);
    memset(&G, 0, sizeof(G));
    return 0;
}

/* ---- the fixture (fsutil.h): a work directory and a loop-mounted image; fs2 a second image
 * a test makes, dev a loop device it attaches (refusals) ---- */

static int rfx_setup(void **state)
{
    return fu_fx_setup(state, "remnants", 64);
}

/* ---- small helpers ---- */

static long long jint(const json_t *o, const char *dotted)
{
    const json_t *v = tu_jget(o, dotted);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer in %s", dotted, tu_dumps(o));
    return (long long)json_integer_value(v);
}

static bool jis(const json_t *o, const char *dotted, const char *want)
{
    return strcmp(tu_jstr(o, dotted), want) == 0;
}

/* Does the filesystem give usable extents (device offsets)? ext4 and XFS (FIEMAP), ntfs-3g
 * (FIBMAP); not btrfs (FIEMAP answers its own logical addresses) nor fusefat and exfat-fuse
 * (nothing mapped). */
static bool has_extents(const char *fstype)
{
    return strcmp(fstype, "ext4") == 0 || strcmp(fstype, "xfs") == 0 ||
           strcmp(fstype, "ntfs") == 0;
}

/* Does the filesystem tell free space from used (GETFSMAP)? ext4 and XFS. */
static bool has_fsmap(const char *fstype)
{
    return strcmp(fstype, "ext4") == 0 || strcmp(fstype, "xfs") == 0;
}

/* Every place the whole of im lies in hay (at most MAXOCC: more fails the test). */
static size_t occurrences(const unsigned char *hay, size_t hn, const struct robust_file *im,
                          uint64_t *out)
{
    size_t n = fu_places(hay, hn, im->b, im->n, out, MAXOCC);
    if (n > MAXOCC)
        fail_msg("%s lies at more than %d places", im->name, MAXOCC);
    return n;
}

/* The entropy-coded middle of a JPEG: after its first SOS segment's header, to 2 bytes
 * before its end (the EOI). */
static const unsigned char *jpeg_middle(const struct robust_file *im, size_t *len)
{
    for (size_t i = 2; i + 4 < im->n; i++)
        if (im->b[i] == 0xff && im->b[i + 1] == 0xda) {
            size_t hl = ((size_t)im->b[i + 2] << 8) | im->b[i + 3];
            size_t start = i + 2 + hl;
            assert_true(start + 64 < im->n);
            *len = im->n - 2 - start;
            return im->b + start;
        }
    fail_msg("%s has no SOS marker", im->name);
    return NULL;
}

/* Device ranges of a filesystem's metadata, where the free-space fill cannot reach: a few
 * windows of an erased image found only there are the residual risk the certificate states
 * (btrfs: the kernel was seen writing 32 bytes of freed memory that held a deleted image into
 * an inode item's unused field - 4 of 30 runs of fs_btrfs with the machine loaded), not a
 * failure of the erasure. At most META_WINDOWS windows an image: a larger piece is one. */
#define META_WINDOWS 64
struct meta {
    const char *what;
    size_t n;
    uint64_t start[16], len[16];
};

/* The METADATA and SYSTEM chunks' stripes of the btrfs in image (btrfs inspect-internal
 * dump-tree -t chunk), or false. */
static bool btrfs_metadata(const char *image, struct meta *m)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "btrfs inspect-internal dump-tree -t chunk '%s' 2>/dev/null",
             image);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return false;
    char line[512];
    unsigned long long len = 0, off = 0;
    bool is_meta = false;
    *m = (struct meta){.what = "btrfs METADATA and SYSTEM chunks"};
    while (fgets(line, sizeof(line), p) != NULL) {
        char type[128];
        if (sscanf(line, " length %llu owner %*u stripe_len %*u type %127s", &len, type) == 2)
            is_meta = strncmp(type, "METADATA", 8) == 0 || strncmp(type, "SYSTEM", 6) == 0;
        else if (sscanf(line, " stripe %*u devid %*u offset %llu", &off) == 1 && is_meta &&
                 m->n < 16) {
            m->start[m->n] = off;
            m->len[m->n++] = len;
        }
    }
    return pclose(p) == 0 && m->n > 0;
}

/* How many of the nw windows marked in where lie in hay only inside meta's ranges (0 when
 * any lies elsewhere, or more than META_WINDOWS are found). */
static size_t in_metadata(const unsigned char *const *w, const bool *where, size_t nw,
                          const unsigned char *hay, size_t hn, const struct meta *meta)
{
    size_t count = 0;
    if (meta == NULL)
        return 0;
    for (size_t i = 0; i < nw; i++) {
        if (!where[i])
            continue;
        if (++count > META_WINDOWS)
            return 0;
        for (const unsigned char *at = hay; (at = memmem(at, hn - (size_t)(at - hay), w[i],
                                                         FU_WINDOW)) != NULL;
             at++) {
            uint64_t off = (uint64_t)(at - hay);
            bool inside = false;
            for (size_t r = 0; r < meta->n && !inside; r++)
                inside = off >= meta->start[r] && off + FU_WINDOW <= meta->start[r] + meta->len[r];
            if (!inside)
                return 0;
            if ((size_t)(at - hay) + FU_WINDOW >= hn)
                break;
        }
    }
    return count;
}

/* Where the first few windows found in hay lie, and the 64 bytes around each: the failure
 * message of expect_windows says how many, this says what holds them. */
static void say_where(const unsigned char *const *w, const bool *where, size_t nw,
                      const unsigned char *hay, size_t hn, const unsigned char *mid,
                      const char *name)
{
    size_t shown = 0;
    for (size_t i = 0; i < nw && shown < 4; i++) {
        if (!where[i])
            continue;
        const unsigned char *at = memmem(hay, hn, w[i], FU_WINDOW);
        if (at == NULL)
            continue;
        size_t off = (size_t)(at - hay), from = off >= 16 ? off - 16 : 0;
        size_t to = off + FU_WINDOW + 16 <= hn ? off + FU_WINDOW + 16 : hn;
        printf("remnants: %s window at +%zu of its middle lies at %zu (block %zu +%zu):", name,
               (size_t)(w[i] - mid), off, off / 4096, off % 4096);
        for (size_t j = from; j < to; j++)
            printf("%s%02x", j == off || j == off + FU_WINDOW ? " | " : " ", hay[j]);
        printf("\n");
        shown++;
    }
}

/* Nothing of the n images ims is left in hay: for each, PROBES windows of its entropy-coded
 * middle that no lawful image holds, and every window of that middle (one pass over hay for
 * all of them). With present, the opposite (the oracle's own check, on the image before the
 * run): every probe and every window is there. */
static void expect_windows(const struct robust_file *const *ims, size_t n,
                           const unsigned char *hay, size_t hn, bool present,
                           const struct meta *meta, const char *what)
{
    const unsigned char *mid[8];
    size_t ml[8], total = 0;
    struct fu_probes p[8];
    assert_true(n <= 8);
    for (size_t k = 0; k < n; k++) {
        mid[k] = jpeg_middle(ims[k], &ml[k]);
        size_t nc =
            fu_probes_pick(&p[k], PROBES, mid[k], ml[k], G.lawful, G.lawful_n, FU_CANDIDATES);
        if (nc < PROBES)
            fail_msg("%s: only %zu candidate windows of %s are not in the lawful images", what,
                     nc, ims[k]->name);
        total += ml[k] - FU_WINDOW + 1 + PROBES;
    }
    const unsigned char **w = tu_own(malloc(total * sizeof(*w)));
    bool *where = tu_own(malloc(total * sizeof(*where)));
    size_t nw = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < PROBES; i++)
            w[nw++] = p[k].w[i];
        for (size_t i = 0; i + FU_WINDOW <= ml[k]; i++)
            w[nw++] = mid[k] + i;
    }
    fu_windows_in(w, nw, hay, hn, where);
    nw = 0;
    for (size_t k = 0; k < n; k++) {
        size_t probes = 0, all = 0, nall = ml[k] - FU_WINDOW + 1;
        for (size_t i = 0; i < PROBES; i++)
            probes += where[nw++];
        size_t first = nw;
        for (size_t i = 0; i < nall; i++)
            all += where[nw++];
        if (!present && all > 0) {
            say_where(w + first, where + first, nall, hay, hn, mid[k], ims[k]->name);
            size_t in_meta = in_metadata(w + first, where + first, nall, hay, hn, meta);
            if (in_meta > 0 && in_meta == all) { /* the probes are windows of it too */
                printf("remnants: %s: %zu window(s) of %s's middle left only in filesystem "
                       "metadata (%s), which the certificate states as a residual risk\n",
                       what, in_meta, ims[k]->name, meta->what);
                all = probes = 0;
            }
        }
        if (present ? probes != PROBES || all != nall : probes != 0 || all != 0)
            fail_msg("%s: %zu of %d probe windows and %zu of the %zu windows of %s's "
                     "entropy-coded middle are in the raw image; want %s",
                     what, probes, PROBES, all, nall, ims[k]->name, present ? "all" : "none");
    }
}

static void expect_gone_all(const struct robust_file *const *ims, size_t n,
                            const unsigned char *hay, size_t hn, const struct meta *meta,
                            const char *what)
{
    expect_windows(ims, n, hay, hn, false, meta, what);
}

/* The whole of im lies somewhere in hay. */
static bool still_there(const struct robust_file *im, const unsigned char *hay, size_t hn)
{
    return memmem(hay, hn, im->b, im->n) != NULL;
}

/* The image file's bytes, the filesystem unmounted first and mounted again after (rw). */
static unsigned char *image_now(struct fu_fx *f, size_t *n)
{
    unsigned char *b = tu_own(fu_image_bytes(&f->fs, n));
    if (!tu_fs_mount(&f->fs, false))
        fail_msg("%s: cannot mount the image again", f->label);
    return b;
}

/* ---- planting ---- */

struct plant {
    const char *rel;
    const struct robust_file *im;
    bool deleted;
};

/* Write the files, sync, remove the deleted ones with plain rm, sync. */
static void plant(struct fu_fx *f, const struct plant *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tu_write(f->fs.mnt, p[i].rel, p[i].im->b, p[i].im->n);
    sync();
    for (size_t i = 0; i < n; i++)
        if (p[i].deleted)
            assert_int_equal(tu_sh("rm '%s/%s'", f->fs.mnt, p[i].rel), 0);
    sync();
}

static const struct plant full_set[] = {
    {"photos/v1.jpg", &G.v1, false},       {"photos/l1.jpg", &G.l1, false},
    {"Downloads/v1 (1).jpg", &G.v1, true}, {"Downloads/v2.jpg", &G.v2, true},
    {"Downloads/v3-small.jpg", &G.v3r, true}, {"Downloads/l2.jpg", &G.l2, true},
};

/* ---- running deprive ---- */

/* `deprive scan --sweep [--device DEV] -H LIST -o work/NAME ROOT`: exit 0, the report. */
static json_t *scan_sweep(struct fu_fx *f, const char *root, const char *dev, const char *name)
{
    char *out = tu_opath(f->work, name);
    struct tu_run r;
    if (dev != NULL)
        tu_odeprive(&r, "scan", "--sweep", "--device", dev, "-H", G.list, "-o", out, root, NULL);
    else
        tu_odeprive(&r, "scan", "--sweep", "-H", G.list, "-o", out, root, NULL);
    tu_expect_exit(&r, 0, tu_ostr("%s: scan --sweep", f->label));
    return tu_oload(out);
}

struct runopt {
    const char *dev;  /* --device */
    bool consent;     /* --erase-perceptual --examiner EXAMINER */
    bool resume;      /* --resume */
};

/* argv (room for 40) of `deprive run ... --sweep ... --yes MNT` certifying to cert. */
static void run_argv(char **argv, const struct fu_fx *f, const char *cert, const struct runopt *o)
{
    size_t n = 0;
    argv[n++] = (char *)DP_TEST_BIN;
    argv[n++] = (char *)"run";
    if (o->resume)
        argv[n++] = (char *)"--resume";
    argv[n++] = (char *)"--sweep";
    if (o->dev != NULL) {
        argv[n++] = (char *)"--device";
        argv[n++] = (char *)o->dev;
    }
    const char *fixed[] = {"-H",      G.list, "--key",     G.sec,   "-o",        cert,
                           "--order", ORDER,  "--officer", OFFICER, "--exhibit", EXHIBIT};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        argv[n++] = (char *)fixed[i];
    if (o->consent) {
        argv[n++] = (char *)"--erase-perceptual";
        argv[n++] = (char *)"--examiner";
        argv[n++] = (char *)EXAMINER;
    }
    argv[n++] = (char *)"--yes";
    argv[n++] = f->fs.mnt;
    argv[n] = NULL;
}

static void run_sweep(struct tu_run *r, const struct fu_fx *f, const char *cert,
                      const struct runopt *o)
{
    char *argv[40];
    run_argv(argv, f, cert, o);
    tu_orun(r, argv);
}

/* `deprive verify -p PUB CERT` must accept it. */
static void expect_verified(const char *cert, const char *what)
{
    struct tu_run r;
    tu_odeprive(&r, "verify", "-p", G.pub, cert, NULL);
    tu_expect_exit(&r, 0, tu_ostr("%s: deprive verify", what));
    if (strstr(r.out, "certificate valid") == NULL)
        fail_msg("%s: deprive verify said: %s", what, r.out);
}

/* ---- the scan's remnants ---- */

/* The finding for the live file rel, NULL when none. */
static const json_t *live_finding(const json_t *doc, const char *rel)
{
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(doc, "findings"), i, fd)
    {
        const json_t *loc = json_object_get(fd, "location");
        const char *last = json_string_value(json_array_get(loc, json_array_size(loc) - 1));
        if (json_object_get(fd, "remnant") == NULL && last != NULL && strcmp(last, rel) == 0)
            return fd;
    }
    return NULL;
}

/* The remnant finding at off, NULL when none. */
static const json_t *remnant_at(const json_t *doc, uint64_t off)
{
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(doc, "findings"), i, fd)
    {
        const json_t *rem = json_object_get(fd, "remnant");
        if (rem != NULL && jint(rem, "offset") == (long long)off)
            return fd;
    }
    return NULL;
}

static size_t count_remnants(const json_t *doc)
{
    size_t i, n = 0;
    const json_t *fd;
    json_array_foreach(json_object_get(doc, "findings"), i, fd)
    n += json_object_get(fd, "remnant") != NULL;
    return n;
}

/* The attributed entry at off, NULL when none. */
static const json_t *attributed_at(const json_t *doc, uint64_t off)
{
    size_t i;
    const json_t *a;
    json_array_foreach(tu_jget(doc, "sweep.attributed"), i, a)
    {
        if (jint(a, "offset") == (long long)off)
            return a;
    }
    return NULL;
}

static char *findings_text(const json_t *doc)
{
    char buf[4096];
    size_t used = 0, i;
    const json_t *fd;
    buf[0] = '\0';
    json_array_foreach(json_object_get(doc, "findings"), i, fd)
    {
        const json_t *rem = json_object_get(fd, "remnant");
        int k = rem != NULL
                    ? snprintf(buf + used, sizeof(buf) - used, "%s%s remnant@%lld+%lld %s%s",
                               i ? ", " : "", tu_jstr(fd, "id"), jint(rem, "offset"),
                               jint(rem, "length"), tu_jstr(rem, "use"),
                               json_is_true(json_object_get(fd, "perceptual_only")) ? " P" : "")
                    : snprintf(buf + used, sizeof(buf) - used, "%s%s %s", i ? ", " : "",
                               tu_jstr(fd, "id"), tu_dumps(json_object_get(fd, "location")));
        if (k < 0 || (size_t)k >= sizeof(buf) - used)
            break;
        used += (size_t)k;
    }
    return tu_ostr("%s; attributed %s", buf, tu_dumps(tu_jget(doc, "sweep.attributed")));
}

/* A remnant finding at off for im: its location, range, kind, use and digests. */
static void expect_remnant(const json_t *doc, const char *dev, uint64_t off,
                           const struct robust_file *im, bool perceptual, const char *fstype,
                           const char *what)
{
    const json_t *fd = remnant_at(doc, off);
    if (fd == NULL)
        fail_msg("%s: %s's deleted copy at byte %llu of the device is not a remnant: %s", what,
                 im->name, (unsigned long long)off, findings_text(doc));
    const json_t *loc = json_object_get(fd, "location"), *rem = json_object_get(fd, "remnant");
    const char *use = tu_jstr(rem, "use");
    bool use_ok = has_fsmap(fstype) ? strcmp(use, "free-space") == 0
                                      : strcmp(use, "unknown") == 0 ||
                                            strcmp(use, "free-space") == 0;
    if (json_array_size(loc) != 2 || !jis(json_array_get(loc, 0), "device", dev) ||
        jint(json_array_get(loc, 1), "offset") != (long long)off ||
        jint(json_array_get(loc, 1), "length") != (long long)im->n ||
        jint(rem, "length") != (long long)im->n || !jis(rem, "kind", "jpeg") || !use_ok ||
        jint(fd, "size") != (long long)im->n || !jis(fd, "digests.sha256", im->sha) ||
        json_is_true(json_object_get(fd, "perceptual_only")) != perceptual)
        fail_msg("%s: the remnant for %s at %llu (%zu bytes, %s) is %s", what, im->name,
                 (unsigned long long)off, im->n, perceptual ? "perceptual only" : "exact",
                 tu_dumps(fd));
}

/* The expectations of a scan --sweep of the full set, from the raw image. Returns how many
 * remnants there must be; *rem_off receives them. */
static size_t expect_full_scan(const json_t *doc, const unsigned char *img, size_t n,
                               const char *dev, const char *fstype, uint64_t *rem_off,
                               const char *what)
{
    uint64_t at[MAXOCC];
    size_t nrem = 0;
    bool ext = has_extents(fstype);
    /* the bytes of live files with findings may be left out where their extents are known
       (sweep.bytes_skipped_live): every other byte is swept */
    const json_t *skipped = tu_jget(doc, "sweep.bytes_skipped_live");
    long long skip = json_is_integer(skipped) ? json_integer_value(skipped) : 0;
    if (!jis(doc, "sweep.device", dev) || jint(doc, "sweep.bytes_swept") + skip != (long long)n ||
        (!ext && skip != 0) || json_is_true(tu_jget(doc, "sweep.limited")))
        fail_msg("%s: sweep %s; want device %s, %zu bytes swept or skipped as a live file's, "
                 "no limit",
                 what, tu_dumps(json_object_get(doc, "sweep")), dev, n);
    /* the deleted V2 and V3R: every place they lie is a remnant */
    const struct robust_file *del[] = {&G.v2, &G.v3r};
    for (size_t k = 0; k < 2; k++) {
        size_t c = occurrences(img, n, del[k], at);
        if (c == 0)
            fail_msg("%s: the deleted %s is nowhere whole on the device (fragmented?): the "
                     "test cannot go on",
                     what, del[k]->name);
        for (size_t i = 0; i < c; i++) {
            expect_remnant(doc, dev, at[i], del[k], del[k] == &G.v3r, fstype, what);
            rem_off[nrem++] = at[i];
        }
    }
    /* V1: the live file's place is attributed to its finding; its deleted duplicate is a
       remnant where extents tell them apart, else attributed by digests too */
    const json_t *live = live_finding(doc, "photos/v1.jpg");
    if (live == NULL)
        fail_msg("%s: no finding for the live photos/v1.jpg: %s", what, findings_text(doc));
    size_t c = occurrences(img, n, &G.v1, at), attributed = 0, unswept = 0;
    if (c < 2)
        printf("remnants: %s: V1 lies at %zu place(s) only (the deleted duplicate not whole)\n",
               what, c);
    for (size_t i = 0; i < c; i++) {
        const json_t *a = attributed_at(doc, at[i]);
        if (a != NULL) {
            if (!jis(a, "finding", tu_jstr(live, "id")) ||
                jint(a, "length") != (long long)G.v1.n ||
                !jis(a, "by", ext ? "extents" : "digests"))
                fail_msg("%s: V1 at %llu attributed as %s; want to %s by %s", what,
                         (unsigned long long)at[i], tu_dumps(a), tu_jstr(live, "id"),
                         ext ? "extents" : "digests");
            attributed++;
            if (remnant_at(doc, at[i]) != NULL)
                fail_msg("%s: V1 at %llu both attributed and a remnant", what,
                         (unsigned long long)at[i]);
        } else if (remnant_at(doc, at[i]) != NULL || !ext) {
            if (!ext)
                fail_msg("%s: V1 at %llu is not attributed to the live file by its digests: %s",
                         what, (unsigned long long)at[i], findings_text(doc));
            expect_remnant(doc, dev, at[i], &G.v1, false, fstype, what);
            rem_off[nrem++] = at[i];
        } else { /* the live file's bytes, not swept again (its extents known) */
            unswept++;
        }
    }
    if ((!ext && attributed == 0) || (ext && attributed + unswept != 1) ||
        (unswept > 0 && skip < (long long)G.v1.n))
        fail_msg("%s: V1 lies at %zu places: %zu attributed to the live file, %zu neither "
                 "attributed nor a remnant (bytes_skipped_live %lld); want the live file's "
                 "place only%s: %s",
                 what, c, attributed, unswept, skip,
                 ext ? ", the deleted duplicate a remnant" : " (all, by digests)",
                 findings_text(doc));
    /* nothing else: no lawful image, no other remnant */
    size_t i;
    const json_t *fd;
    json_array_foreach(json_object_get(doc, "findings"), i, fd)
    {
        const char *sha = tu_jstr(fd, "digests.sha256");
        if (strcmp(sha, G.l1.sha) == 0 || strcmp(sha, G.l2.sha) == 0)
            fail_msg("%s: a lawful image reported: %s", what, tu_dumps(fd));
    }
    if (count_remnants(doc) != nrem || jint(doc, "sweep.remnants") != (long long)nrem ||
        json_array_size(json_object_get(doc, "findings")) != nrem + 1)
        fail_msg("%s: %zu remnants (sweep.remnants %lld), %zu findings; want %zu remnants and "
                 "the live V1: %s",
                 what, count_remnants(doc), jint(doc, "sweep.remnants"),
                 json_array_size(json_object_get(doc, "findings")), nrem, findings_text(doc));
    return nrem;
}

/* ---- the certificate ---- */

/* One of the certificate's outcome.residual_risks says text. */
static void expect_risk(const json_t *cert, const char *text, const char *what)
{
    size_t i;
    const json_t *r;
    json_array_foreach(tu_jget(cert, "outcome.residual_risks"), i, r)
    {
        if (json_is_string(r) && strstr(json_string_value(r), text) != NULL)
            return;
    }
    fail_msg("%s: no residual risk says '%s': %s", what, text,
             tu_dumps(tu_jget(cert, "outcome.residual_risks")));
}

/* The certificate's target for the remnant at off, NULL when none. */
static const json_t *cert_remnant(const json_t *cert, uint64_t off)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(cert, "targets"), i, t)
    {
        const json_t *rem = json_object_get(t, "remnant");
        if (rem != NULL && jint(rem, "offset") == (long long)off)
            return t;
    }
    return NULL;
}

/* An erased remnant target: the range, removed by the fill, verified window by window. */
static void expect_remnant_erased(const json_t *t, const char *dev, uint64_t off, size_t len,
                                  const char *what)
{
    if (t == NULL)
        fail_msg("%s: no target for the remnant at %llu", what, (unsigned long long)off);
    long long windows = ((long long)len + 31) / 32;
    if (!jis(t, "status", "erased") || !jis(t, "remnant.device", dev) ||
        jint(t, "remnant.length") != (long long)len ||
        !jis(t, "remnant.removed_by", "free-space fill") ||
        !jis(t, "verification.result", "match") || jint(t, "verification.windows") != windows ||
        jint(t, "verification.windows_left") != 0)
        fail_msg("%s: the remnant at %llu: %s", what, (unsigned long long)off, tu_dumps(t));
}

/* The certificate's sweep: before nrem remnants, after none, the device; outcome want. */
static void expect_cert_sweep(const json_t *cert, const char *dev, size_t nrem, const char *want,
                              const char *what)
{
    /* every byte of the device swept both times, or skipped as a live file's */
    long long size = jint(cert, "sweep.size"), covered[2];
    static const char *const when[2] = {"sweep.before", "sweep.after"};
    for (int k = 0; k < 2; k++) {
        const json_t *sk = tu_jget(tu_jget(cert, when[k]), "bytes_skipped_live");
        covered[k] = jint(tu_jget(cert, when[k]), "bytes_swept") +
                     (json_is_integer(sk) ? json_integer_value(sk) : 0);
    }
    if (!jis(cert, "sweep.device", dev) || jint(cert, "sweep.before.remnants") != (long long)nrem ||
        jint(cert, "sweep.after.remnants") != 0 || size <= 0 || covered[0] != size ||
        covered[1] != size || !jis(cert, "outcome.result", want))
        fail_msg("%s: outcome %s; sweep %s; want %s, %zu remnants before, none after", what,
                 tu_jstr(cert, "outcome.result"), tu_dumps(json_object_get(cert, "sweep")), want,
                 nrem);
}

/* ==== 1. per filesystem ==== */

static void test_fs(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    double t0 = tu_now();
    bool fuse_dev = strcmp(f->fstype, "vfat") == 0; /* fusefat names no device */
    const char *dev = fu_loopdev(f->fs.image);
    plant(f, full_set, sizeof(full_set) / sizeof(full_set[0]));
    char sha_l1[65];
    tu_sha256_file(tu_opath(f->fs.mnt, "photos/l1.jpg"), sha_l1);
    size_t n = 0;
    unsigned char *img = image_now(f, &n);

    const struct robust_file *const planted[] = {&G.v1, &G.v2, &G.v3r};
    expect_windows(planted, 3, img, n, true, NULL, tu_ostr("%s: before the run", f->label));
    double ts = tu_now();
    json_t *doc = scan_sweep(f, f->fs.mnt, fuse_dev ? dev : NULL, "scan.json");
    double t_scan = tu_now() - ts;
    uint64_t rem[3 * MAXOCC];
    size_t nrem = expect_full_scan(doc, img, n, dev, f->fstype, rem, f->label);

    char *cert = tu_opath(f->work, "cert.json");
    struct runopt o = {.dev = fuse_dev ? dev : NULL, .consent = true};
    struct tu_run r;
    double t1 = tu_now();
    run_sweep(&r, f, cert, &o);
    double t_run = tu_now() - t1;
    if (r.status != 0 && r.status != 1)
        tu_expect_exit(&r, 0, tu_ostr("%s: run --sweep", f->label));
    expect_verified(cert, f->label);
    json_t *cj = tu_oload(cert);
    char sha_after[65];
    tu_sha256_file(tu_opath(f->fs.mnt, "photos/l1.jpg"), sha_after);
    if (strcmp(sha_l1, sha_after) != 0)
        fail_msg("%s: the live lawful photos/l1.jpg changed", f->label);
    if (access(tu_opath(f->fs.mnt, "photos/v1.jpg"), F_OK) == 0)
        fail_msg("%s: the live photos/v1.jpg is still there", f->label);
    size_t an = 0;
    unsigned char *after = tu_own(fu_image_bytes(&f->fs, &an));
    /* btrfs: metadata the fill cannot reach, a risk the certificate must state */
    struct meta btrfs_meta, *meta = NULL;
    if (strcmp(f->fstype, "btrfs") == 0) {
        if (!btrfs_metadata(f->fs.image, &btrfs_meta))
            fail_msg("%s: btrfs inspect-internal dump-tree -t chunk gave no metadata chunk",
                     f->label);
        meta = &btrfs_meta;
        expect_risk(cj, "fragments of erased content", f->label);
    }

    /* XFS: a deleted copy the fill could not reach (per-AG reservations) is failed, said so */
    size_t failed = 0;
    for (size_t i = 0; i < nrem; i++) {
        const json_t *t = cert_remnant(cj, rem[i]);
        if (t != NULL && jis(t, "status", "failed") && strcmp(f->fstype, "xfs") == 0) {
            const char *why = tu_jstr(t, "reason");
            if (strstr(why, "still on the device after the fill") == NULL ||
                jint(t, "verification.windows_left") == 0)
                fail_msg("%s: the remnant at %llu failed: %s", f->label,
                         (unsigned long long)rem[i], tu_dumps(t));
            printf("remnants: %s: the remnant at %llu not erased, honestly: %s\n", f->label,
                   (unsigned long long)rem[i], why);
            failed++;
            continue;
        }
        const json_t *rf = remnant_at(doc, rem[i]);
        expect_remnant_erased(t, dev, rem[i], (size_t)jint(rf, "size"), f->label);
    }
    if (failed > 0) {
        if (r.status != 1 || jis(cj, "outcome.result", "ERASED"))
            fail_msg("%s: %zu remnant(s) failed, yet run exit %d, outcome %s", f->label, failed,
                     r.status, tu_jstr(cj, "outcome.result"));
        /* honest both ways: what it says failed is on the device whole, what it says erased
           is nowhere */
        const struct robust_file *gone[3];
        size_t ngone = 0;
        const struct robust_file *const victims[] = {&G.v1, &G.v2, &G.v3r};
        for (size_t v = 0; v < 3; v++) {
            bool left = false;
            for (size_t i = 0; i < nrem; i++) {
                const json_t *t = cert_remnant(cj, rem[i]);
                if (jis(remnant_at(doc, rem[i]), "digests.sha256", victims[v]->sha) &&
                    jis(t, "status", "failed")) {
                    left = true;
                    if (memcmp(after + rem[i], victims[v]->b, victims[v]->n) != 0)
                        fail_msg("%s: the remnant at %llu is reported failed (not erased), "
                                 "but its bytes are no longer there",
                                 f->label, (unsigned long long)rem[i]);
                }
            }
            if (!left)
                gone[ngone++] = victims[v];
        }
        expect_gone_all(gone, ngone, after, an, meta, f->label);
        printf("remnants: %s: %zu of %zu remnants failed (XFS reservations): outcome %s; scan "
               "%.2f s, run %.2f s\n",
               f->label, failed, nrem, tu_jstr(cj, "outcome.result"), t_scan, t_run);
        return;
    }
    tu_expect_exit(&r, 0, tu_ostr("%s: run --sweep", f->label));
    expect_cert_sweep(cj, dev, nrem, "ERASED", f->label);
    if (jint(cj, "outcome.rescan.findings") != 0)
        fail_msg("%s: the re-scan found %lld", f->label, jint(cj, "outcome.rescan.findings"));
    if (strstr(r.out, "re-scan: 0 match(es) remain") == NULL)
        fail_msg("%s: run said: %s", f->label, r.out);
    /* the raw image: nothing of any victim copy, the lawful images whole */
    const struct robust_file *const victims[] = {&G.v1, &G.v2, &G.v3r};
    expect_gone_all(victims, 3, after, an, meta, f->label);
    if (!still_there(&G.l1, after, an))
        fail_msg("%s: the live lawful image is not whole on the device after the run", f->label);
    printf("remnants: %s: %zu remnants (%s), all erased; scan --sweep %.2f s, run --sweep "
           "%.2f s (fill %lld bytes), total %.2f s\n",
           f->label, nrem, findings_text(doc), t_scan, t_run,
           jint(cj, "outcome.wipe.cleanup.free_space.bytes"), tu_now() - t0);
}

/* ==== 2. a sweep never writes ==== */

static void test_readonly(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    double t0 = tu_now();
    plant(f, full_set, sizeof(full_set) / sizeof(full_set[0]));
    tu_fs_umount(&f->fs);
    assert_true(tu_fs_mount(&f->fs, true)); /* -o ro,noload */
    char before[65], after[65];
    tu_sha256_file(f->fs.image, before);
    json_t *doc = scan_sweep(f, f->fs.mnt, NULL, "scan.json");
    sync();
    tu_sha256_file(f->fs.image, after);
    if (strcmp(before, after) != 0)
        fail_msg("the image changed during scan --sweep of a read-only mount: %s -> %s", before,
                 after);
    if (count_remnants(doc) < 2)
        fail_msg("read-only: %zu remnants: %s", count_remnants(doc), findings_text(doc));
    printf("remnants: read-only: image SHA-256 unchanged by scan --sweep (%zu remnants), %.2f s\n",
           count_remnants(doc), tu_now() - t0);
}

/* ==== 3. refusals ==== */

static void expect_refused(struct tu_run *r, const char *needle, const char *what)
{
    tu_expect_exit(r, 2, what);
    if (strstr(r->err, needle) == NULL)
        fail_msg("%s: stderr %s; want \"%s\"", what, r->err, needle);
}

static void test_refusals(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    double t0 = tu_now();
    plant(f, full_set, sizeof(full_set) / sizeof(full_set[0]));
    const char *dev = fu_loopdev(f->fs.image);
    char *out = tu_opath(f->work, "r.json"), *cert = tu_opath(f->work, "cert.json");
    struct tu_run r;
    /* ROOT inside the mount: its outside would pass for deleted copies */
    tu_odeprive(&r, "scan", "--sweep", "-H", G.list, "-o", out, tu_opath(f->fs.mnt, "photos"),
                NULL);
    expect_refused(&r, "--sweep needs the root of a mount", "scan --sweep of a subdirectory");
    char *sub_argv[40];
    run_argv(sub_argv, f, cert, &(struct runopt){0});
    sub_argv[sizeof(sub_argv) / sizeof(sub_argv[0]) - 1] = NULL;
    for (size_t i = 0; sub_argv[i] != NULL; i++)
        if (sub_argv[i] == f->fs.mnt)
            sub_argv[i] = tu_opath(f->fs.mnt, "photos");
    tu_orun(&r, sub_argv);
    expect_refused(&r, "--sweep needs the root of a mount", "run --sweep of a subdirectory");
    if (access(tu_opath(f->fs.mnt, "photos/v1.jpg"), F_OK) != 0)
        fail_msg("run --sweep of a subdirectory was refused, yet photos/v1.jpg is gone");
    /* --device naming another block device */
    char img2[512];
    snprintf(img2, sizeof(img2), "%s/other.img", f->work);
    assert_int_equal(tu_sh("truncate -s 8M '%s'", img2), 0);
    fu_fx_attach(f, img2, false);
    tu_odeprive(&r, "scan", "--sweep", "--device", f->dev, "-H", G.list, "-o", out, f->fs.mnt,
                NULL);
    expect_refused(&r, "is not the device", "scan --sweep --device OTHER");
    tu_odeprive(&r, "scan", "--sweep", "--device", "/dev/null", "-H", G.list, "-o", out,
                f->fs.mnt, NULL);
    expect_refused(&r, "neither a block device nor an image file", "scan --sweep --device /dev/null");
    /* fusefat: the mount names no device */
    bool vfat = tu_fs_create(&f->fs2, "vfat", 32);
    if (!vfat) {
        printf("remnants: refusals: vfat (fusefat) part skipped: no image could be made\n");
    } else {
        tu_odeprive(&r, "scan", "--sweep", "-H", G.list, "-o", out, f->fs2.mnt, NULL);
        expect_refused(&r, "give the device or image it is mounted from with --device",
                       "scan --sweep of fusefat without --device");
        tu_odeprive(&r, "scan", "--sweep", "--device", fu_loopdev(f->fs2.image), "-H", G.list,
                    "-o", out, f->fs2.mnt, NULL);
        tu_expect_exit(&r, 0, "scan --sweep of fusefat with --device");
    }
    printf("remnants: refusals: a subdirectory, another --device, /dev/null%s: exit 2 with the "
           "message (%s); %.2f s\n",
           vfat ? ", fusefat without --device" : "", dev, tu_now() - t0);
}

/* fusefat: the mount names no device, so whatever --device says is taken: another block
 * device's matches then pass for this filesystem's remnants, and - worse - a run certifies
 * a clean sweep of a device that is not the filesystem's while a deleted copy lies on the
 * real one. */
static void test_fuse_wrong_device(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    /* the real device: lawful L1 live, V2 deleted */
    static const struct plant set[] = {
        {"photos/l1.jpg", &G.l1, false},
        {"Downloads/v2.jpg", &G.v2, true},
    };
    plant(f, set, 2);
    /* another device (8 MiB, no filesystem) holding V3R, as a mistyped --device may */
    char *img2 = tu_opath(f->work, "other.img");
    unsigned char *b = tu_own(calloc(1, 8u << 20));
    memcpy(b + 3 * 4096, G.v3r.b, G.v3r.n);
    tu_write_file(img2, b, 8u << 20);
    fu_fx_attach(f, img2, false);
    char *out = tu_opath(f->work, "r.json");
    struct tu_run r;
    tu_odeprive(&r, "scan", "--sweep", "--device", f->dev, "-H", G.list, "-o", out, f->fs.mnt,
                NULL);
    int scan_status = r.status;
    json_t *doc = r.status == 0 ? tu_oload(out) : NULL;
    const char *checked = doc == NULL ? "-"
                          : json_is_true(tu_jget(doc, "sweep.device_checked"))  ? "true"
                          : json_is_false(tu_jget(doc, "sweep.device_checked")) ? "false"
                                                                               : "absent";
    printf("remnants: fusefat --device OTHER: scan exit %d, %zu remnant(s) (the other device's "
           "V3R), sweep.device_checked %s%s\n",
           r.status, doc ? count_remnants(doc) : 0, checked, r.status == 2 ? r.err : "");
    /* the run, the other device emptied first (our own scratch device): a certificate for
       the wrong device's clean sweep */
    assert_int_equal(tu_sh("dd if=/dev/zero of=%s bs=1M count=8 conv=fsync status=none",
                           f->dev),
                     0);
    char *cert = tu_opath(f->work, "cert.json");
    run_sweep(&r, f, cert, &(struct runopt){.dev = f->dev});
    json_t *cj = r.status <= 1 ? json_load_file(cert, 0, NULL) : NULL;
    if (cj != NULL)
        tu_ownj(cj);
    size_t n = 0;
    unsigned char *img = tu_own(fu_image_bytes(&f->fs, &n));
    bool v2_left = still_there(&G.v2, img, n);
    const char *outcome = cj ? tu_jstr(cj, "outcome.result") : "-";
    printf("remnants: fusefat --device OTHER: run exit %d, outcome %s, sweep %s; the deleted V2 "
           "%s on the real device\n",
           r.status, outcome, cj ? tu_dumps(tu_jget(cj, "sweep.after")) : "-",
           v2_left ? "STILL" : "not");
    bool false_assurance = cj != NULL && strcmp(outcome, "ERASED") == 0 && v2_left;
    if (scan_status != 2 || false_assurance)
        fail_msg("fusefat (the mount names no device) with --device naming another block device "
                 "(8 MiB, no FAT on it, holding V3R): scan --sweep exits %d and reports %zu "
                 "remnant(s) of that device as this filesystem's deleted copies "
                 "(sweep.device_checked %s); with that device emptied, run --sweep exits %d "
                 "with a signed certificate %s whose sweep (before and after: 0 remnants) is "
                 "of the wrong device, while "
                 "the deleted V2 %s on the filesystem's real device. scan_sweep_device "
                 "(src/scan/remnants.c) takes --device unchecked where the mount names no "
                 "device; the certificate only says so in words. Want: exit 2 unless the "
                 "device holds the mounted filesystem (its boot sector's size and geometry "
                 "agree with statfs of ROOT), and never ERASED on a sweep of an unchecked "
                 "device",
                 scan_status, doc ? count_remnants(doc) : 0, checked, r.status, outcome,
                 v2_left ? "is still" : "is not");
}

/* ==== 3b. a remnant in a live file's slack (--scrub-slack) ==== */

/* A small JPEG of its own list written, with the filesystem unmounted, into the last block of
 * a 100-byte live file past its end, as another system's writes leave slack: found and traced
 * to that file; without --scrub-slack left (failed, the reason naming the slack, not ERASED);
 * with it erased - the file's content and mtime unchanged, none of the JPEG's windows left in
 * the raw image, the certificate valid and ERASED. */
static void test_slack(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    struct robust_image small;
    struct robust_file tiny;
    assert_true(robust_scene(&small, 48, 32, 5399));
    bool ok = robust_files_add(&G.set.files, &tiny, "tiny.jpg", &small, 0, 0, 85);
    robust_image_free(&small);
    assert_true(ok);
    assert_true(tiny.n < 3000);
    struct tu_run r;
    char *tp = tu_opath(G.set.dir, "tiny.jpg"), *list = tu_opath(f->work, "tiny.list");
    tu_odeprive(&r, "hash", tp, NULL);
    tu_expect_exit(&r, 0, "deprive hash tiny.jpg");
    tu_write_file(list, r.out, strlen(r.out));
    static const char text[] = "a lawful note of one hundred bytes, which stays exactly as it "
                               "is, its slack scrubbed\n";
    tu_write(f->fs.mnt, "note.txt", text, sizeof(text) - 1);
    sync();
    char *note = tu_opath(f->fs.mnt, "note.txt");
    int fd = open(note, O_RDONLY);
    assert_true(fd >= 0);
    struct stat before;
    assert_int_equal(fstat(fd, &before), 0);
    size_t ne = 0;
    bool avail = false;
    struct dp_extent *ext = dp_extents(fd, &ne, &avail);
    close(fd);
    assert_true(avail && ne == 1);
    uint64_t at = ext[0].physical + 512; /* in its one block, past its end */
    free(ext);
    tu_fs_umount(&f->fs);
    int ifd = open(f->fs.image, O_WRONLY);
    assert_true(ifd >= 0);
    assert_int_equal(pwrite(ifd, tiny.b, tiny.n, (off_t)at), (ssize_t)tiny.n);
    close(ifd);
    assert_true(tu_fs_mount(&f->fs, false));
    char *out = tu_opath(f->work, "plan.json");
    tu_odeprive(&r, "scan", "--sweep", "-H", list, "-o", out, f->fs.mnt, NULL);
    tu_expect_exit(&r, 0, "scan --sweep with a copy in slack");
    json_t *doc = tu_oload(out);
    const json_t *fd0 = remnant_at(doc, at);
    if (fd0 == NULL)
        fail_msg("the copy in note.txt's slack at %llu is not a remnant: %s",
                 (unsigned long long)at, findings_text(doc));
    const json_t *in = tu_jget(fd0, "remnant.in_file");
    assert_true(jis(in, "path", "note.txt") && json_is_true(json_object_get(in, "slack")));
    assert_int_equal(jint(in, "file_offset"), 512);
    for (int scrub = 0; scrub < 2; scrub++) {
        char *cert = tu_opath(f->work, scrub ? "scrubbed.json" : "left.json");
        char *argv[] = {(char *)DP_TEST_BIN, "run", "--sweep", "-H", list, "--key", G.sec,
                        "-o", cert, "--order", (char *)ORDER, "--officer", (char *)OFFICER,
                        "--exhibit", (char *)EXHIBIT, "--yes",
                        scrub ? (char *)"--scrub-slack" : (char *)"--wipe-free-space",
                        f->fs.mnt, NULL};
        tu_orun(&r, argv);
        tu_expect_exit(&r, scrub ? 0 : 1, scrub ? "run --sweep --scrub-slack" : "run --sweep");
        json_t *cj = tu_oload(cert);
        const json_t *t = cert_remnant(cj, at);
        assert_non_null(t);
        struct stat now;
        assert_int_equal(stat(note, &now), 0);
        size_t nl = 0;
        unsigned char *content = tu_oread(note, &nl);
        assert_true(nl == sizeof(text) - 1 && memcmp(content, text, nl) == 0);
        assert_true(now.st_mtim.tv_sec == before.st_mtim.tv_sec &&
                    now.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
        size_t n = 0;
        unsigned char *img = image_now(f, &n);
        printf("remnants: slack%s: status %s, outcome %s, the copy %s in the image\n",
               scrub ? " --scrub-slack" : "", tu_jstr(t, "status"),
               tu_jstr(cj, "outcome.result"), still_there(&tiny, img, n) ? "still" : "not");
        if (!scrub) {
            assert_true(jis(t, "status", "failed") && strstr(tu_jstr(t, "reason"), "slack"));
            assert_true(jis(cj, "outcome.result", "FAILED"));
            assert_true(still_there(&tiny, img, n));
            continue;
        }
        assert_true(jis(t, "status", "erased") && jis(t, "remnant.removed_by", "slack scrub"));
        assert_true(json_is_true(tu_jget(t, "remnant.slack_scrub.content_unchanged")) &&
                    json_is_true(tu_jget(t, "remnant.slack_scrub.mtime_restored")));
        assert_true(jis(cj, "outcome.result", "ERASED"));
        const struct robust_file *ims[] = {&tiny};
        expect_gone_all(ims, 1, img, n, NULL, "slack scrubbed");
        expect_verified(cert, "slack scrubbed");
    }
}

/* ==== 4. consent ==== */

static void test_consent(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    double t0 = tu_now();
    static const struct plant set[] = {
        {"photos/l1.jpg", &G.l1, false},
        {"Downloads/v3-small.jpg", &G.v3r, true},
    };
    plant(f, set, 2);
    const char *dev = fu_loopdev(f->fs.image);
    size_t n = 0;
    unsigned char *img = image_now(f, &n);
    uint64_t at[MAXOCC];
    size_t c = occurrences(img, n, &G.v3r, at);
    assert_int_equal(c, 1);
    /* no consent: left */
    char *cert = tu_opath(f->work, "cert.json");
    struct tu_run r;
    run_sweep(&r, f, cert, &(struct runopt){0});
    tu_expect_exit(&r, 1, "run --sweep without consent");
    expect_verified(cert, "no consent");
    json_t *cj = tu_oload(cert);
    const json_t *t = cert_remnant(cj, at[0]);
    if (t == NULL || !jis(t, "status", "skipped") || jis(cj, "outcome.result", "ERASED") ||
        !json_is_true(json_object_get(t, "perceptual_only")))
        fail_msg("no consent: outcome %s, the remnant %s; want skipped and not ERASED",
                 tu_jstr(cj, "outcome.result"), tu_dumps(t));
    size_t an = 0;
    unsigned char *after = image_now(f, &an);
    if (!still_there(&G.v3r, after, an) || memcmp(after + at[0], G.v3r.b, G.v3r.n) != 0)
        fail_msg("no consent: the perceptual-only remnant was removed all the same");
    printf("remnants: consent: without it the remnant is %s (%s), outcome %s, still on %s\n",
           tu_jstr(t, "status"), tu_jstr(t, "reason"), tu_jstr(cj, "outcome.result"), dev);
    /* rejected with deprive confirm --reject: deprive wipe leaves it */
    char *plan = tu_opath(f->work, "plan.json");
    tu_odeprive(&r, "scan", "--sweep", "-H", G.list, "-o", plan, f->fs.mnt, NULL);
    tu_expect_exit(&r, 0, "scan --sweep for the plan");
    json_t *pj = tu_oload(plan);
    const json_t *fd = remnant_at(pj, at[0]);
    if (fd == NULL || !json_is_true(json_object_get(fd, "perceptual_only")))
        fail_msg("the plan has no perceptual-only remnant at %llu: %s",
                 (unsigned long long)at[0], findings_text(pj));
    tu_odeprive(&r, "confirm", plan, "--finding", tu_jstr(fd, "id"), "--reject", "--examiner",
                EXAMINER, NULL);
    tu_expect_exit(&r, 0, "confirm --reject");
    char *res = tu_opath(f->work, "wipe.json");
    struct tu_wipe_args wa = {.order = ORDER,
                              .list = G.list,
                              .journal = tu_opath(f->work, "wipe.journal"),
                              .out = res,
                              .plan = plan};
    tu_owipe(&r, &wa);
    if (r.status != 0 && r.status != 1)
        tu_expect_exit(&r, 0, "wipe of the plan with the rejected remnant");
    json_t *wj = tu_oload(res);
    const json_t *wt = json_array_get(json_object_get(wj, "targets"), 0);
    if (json_array_size(json_object_get(wj, "targets")) != 1 || !jis(wt, "status", "rejected"))
        fail_msg("rejected: the wipe result %s; want the remnant rejected",
                 tu_dumps(json_object_get(wj, "targets")));
    after = image_now(f, &an);
    if (memcmp(after + at[0], G.v3r.b, G.v3r.n) != 0)
        fail_msg("rejected: the remnant's bytes were changed");
    printf("remnants: consent: rejected, deprive wipe leaves it (%s); %.2f s\n",
           tu_jstr(wt, "reason"), tu_now() - t0);
}

/* ==== 5. tampering ==== */

/* dp_cert_check of cert with one change; the problems must name want. */
static void expect_check_fails(const json_t *cert, void (*change)(json_t *), const char *want,
                               const char *what, const char *work)
{
    json_t *c = tu_ownj(json_deep_copy(cert));
    change(c);
    struct dp_cert_problems pr = {0};
    struct dp_error e = {0};
    enum dp_status st = dp_cert_check(c, &pr, &e);
    bool named = false;
    for (size_t i = 0; i < pr.count; i++)
        named |= strstr(pr.items[i], want) != NULL;
    dp_cert_problems_release(&pr);
    if (st != DP_ERR_VERIFY || !named)
        fail_msg("tamper %s: dp_cert_check returned %d (%s); want DP_ERR_VERIFY naming \"%s\"",
                 what, (int)st, e.msg, want);
    /* and deprive verify, given the changed file under the old signature */
    char *p = tu_opath(work, "tampered.json"), *sig = tu_opath(work, "tampered.json.minisig");
    char *orig_sig = tu_opath(work, "cert.json.minisig");
    assert_int_equal(json_dump_file(c, p, JSON_SORT_KEYS | JSON_INDENT(2)), 0);
    assert_int_equal(tu_sh("cp '%s' '%s'", orig_sig, sig), 0);
    struct tu_run r;
    tu_odeprive(&r, "verify", "-p", G.pub, p, NULL);
    tu_expect_exit(&r, 1, tu_ostr("tamper %s: deprive verify", what));
    printf("remnants: tamper %s: deprive verify exit 1 (%.*s); dp_cert_check: %s\n", what,
           (int)strcspn(r.err, "\n"), r.err, e.msg);
}

static json_t *first_remnant(json_t *c)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(c, "targets"), i, t)
    {
        if (json_object_get(t, "remnant") != NULL)
            return t;
    }
    fail_msg("the certificate has no remnant target");
    return NULL;
}

static void windows_left_1(json_t *c)
{
    json_object_set_new(json_object_get(first_remnant(c), "verification"), "windows_left",
                        json_integer(1));
}

static void removed_by_other(json_t *c)
{
    json_object_set_new(json_object_get(first_remnant(c), "remnant"), "removed_by",
                        json_string("overwrite in place"));
}

static void after_remnants_1(json_t *c)
{
    json_object_set_new(json_object_get(json_object_get(c, "sweep"), "after"), "remnants",
                        json_integer(1));
}

static void test_tamper(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    double t0 = tu_now();
    static const struct plant set[] = {
        {"photos/l1.jpg", &G.l1, false},
        {"Downloads/v2.jpg", &G.v2, true},
    };
    plant(f, set, 2);
    char *cert = tu_opath(f->work, "cert.json");
    struct tu_run r;
    run_sweep(&r, f, cert, &(struct runopt){0});
    tu_expect_exit(&r, 0, "run --sweep");
    expect_verified(cert, "tamper: the original");
    json_t *cj = tu_oload(cert);
    struct dp_error e = {0};
    assert_int_equal(dp_cert_check(cj, NULL, &e), DP_OK);
    expect_check_fails(cj, windows_left_1, "windows_left", "windows_left 1", f->work);
    expect_check_fails(cj, removed_by_other, "removed_by", "removed_by changed", f->work);
    expect_check_fails(cj, after_remnants_1, "sweep.after.remnants", "sweep.after.remnants 1",
                       f->work);
    printf("remnants: tamper: %.2f s\n", tu_now() - t0);
}

/* ==== 6. SIGKILL at journal steps, then run --resume ==== */

struct killpoint {
    const char *record;
    int after;
    const char *what;
};

static const struct killpoint kp_checked = {"checked", 0, "after the first remnant's checked"};
static const struct killpoint kp_fill = {"fill-begin", 0, "after fill-begin"};
static const struct killpoint kp_reserve = {"reserve-lowered", 0, "after reserve-lowered"};
static const struct killpoint kp_filling = {"reserve-lowered", 1,
                                            "at the first fill file's fsync (the fill under way)"};

static void test_kill(void **state)
{
    struct fu_fx *f = *state;
    fu_fx_need_loop(f);
    need_images();
    const struct killpoint *k = f->param;
    double t0 = tu_now();
    static const struct plant set[] = {
        {"photos/l1.jpg", &G.l1, false},
        {"Downloads/v2.jpg", &G.v2, true},
        {"Downloads/v3-small.jpg", &G.v3r, true},
        {"Downloads/l2.jpg", &G.l2, true},
    };
    plant(f, set, 4);
    const char *dev = fu_loopdev(f->fs.image);
    size_t n = 0;
    unsigned char *img = image_now(f, &n);
    uint64_t a2[MAXOCC], a3[MAXOCC];
    assert_int_equal(occurrences(img, n, &G.v2, a2), 1);
    assert_int_equal(occurrences(img, n, &G.v3r, a3), 1);
    char sha_l1[65];
    tu_sha256_file(tu_opath(f->fs.mnt, "photos/l1.jpg"), sha_l1);
    char *cert = tu_opath(f->work, "cert.json"), *journal = tu_opath(f->work, "cert.json.journal"),
         *log = tu_opath(f->work, "run.log");
    char *argv[40], at[128];
    run_argv(argv, f, cert, &(struct runopt){.consent = true});
    fu_kill_at("remnants", argv, log, journal, k->record, k->after, k->what, at, sizeof(at));
    sync();
    printf("remnants: kill %s: killed (%s)\n", k->what, at);
    struct tu_run r;
    run_sweep(&r, f, cert, &(struct runopt){.consent = true, .resume = true});
    json_t *cj = r.status <= 1 ? json_load_file(cert, 0, NULL) : NULL;
    if (cj != NULL)
        tu_ownj(cj);
    const json_t *t2 = cj ? cert_remnant(cj, a2[0]) : NULL, *t3 = cj ? cert_remnant(cj, a3[0]) : NULL;
    printf("remnants: kill %s: --resume exit %d; V2 %s (%s), V3R %s (%s)\n", k->what, r.status,
           t2 ? tu_jstr(t2, "status") : "-", t2 ? tu_jstr(t2, "reason") : "",
           t3 ? tu_jstr(t3, "status") : "-", t3 ? tu_jstr(t3, "reason") : "");
    if (r.status != 0)
        fail_msg("kill %s: run --resume exit %d, want 0\nstdout: %.2000s\nstderr: %.2000s",
                 k->what, r.status, r.out, r.err);
    expect_verified(cert, tu_ostr("kill %s", k->what));
    expect_remnant_erased(t2, dev, a2[0], G.v2.n, tu_ostr("kill %s: V2", k->what));
    expect_remnant_erased(t3, dev, a3[0], G.v3r.n, tu_ostr("kill %s: V3R", k->what));
    if (!jis(cj, "outcome.result", "ERASED") || jint(cj, "sweep.after.remnants") != 0)
        fail_msg("kill %s: outcome %s, sweep %s", k->what, tu_jstr(cj, "outcome.result"),
                 tu_dumps(json_object_get(cj, "sweep")));
    char sha_after[65];
    tu_sha256_file(tu_opath(f->fs.mnt, "photos/l1.jpg"), sha_after);
    assert_string_equal(sha_l1, sha_after);
    /* no fill file left behind */
    if (tu_sh("ls -a '%s' | grep -q '^.deprive-fill-'", f->fs.mnt) == 0)
        fail_msg("kill %s: fill files left in the root after --resume", k->what);
    size_t an = 0;
    unsigned char *after = tu_own(fu_image_bytes(&f->fs, &an));
    const struct robust_file *const victims[] = {&G.v2, &G.v3r};
    expect_gone_all(victims, 2, after, an, NULL, tu_ostr("kill %s", k->what));
    printf("remnants: kill %s: resumed, both remnants erased (basis %s, %s), ERASED; %.2f s\n",
           k->what, tu_jstr(t2, "verification.basis"), tu_jstr(t3, "verification.basis"),
           tu_now() - t0);
}

/* ==== the suite ==== */

static struct fu_fx fx_ext4 = {.label = "ext4", .fstype = "ext4", .mb = 64};
static struct fu_fx fx_vfat = {.label = "vfat", .fstype = "vfat", .mb = 64};
static struct fu_fx fx_exfat = {.label = "exfat", .fstype = "exfat", .mb = 64};
static struct fu_fx fx_ntfs = {.label = "ntfs", .fstype = "ntfs", .mb = 64};
static struct fu_fx fx_xfs = {.label = "xfs", .fstype = "xfs", .mb = 300};       /* its minimum */
static struct fu_fx fx_btrfs = {.label = "btrfs", .fstype = "btrfs", .mb = 128}; /* its minimum */
static struct fu_fx fx_ro = {.label = "read-only", .fstype = "ext4", .mb = 64};
static struct fu_fx fx_refuse = {.label = "refusals", .fstype = "ext4", .mb = 64};
static struct fu_fx fx_fusedev = {.label = "fusefat wrong device", .fstype = "vfat", .mb = 32};
static struct fu_fx fx_consent = {.label = "consent", .fstype = "ext4", .mb = 64};
static struct fu_fx fx_slack = {.label = "slack", .fstype = "ext4", .mb = 64};
static struct fu_fx fx_tamper = {.label = "tamper", .fstype = "ext4", .mb = 64};
#define KP(id, kp)                                                                                 \
    static struct fu_fx id = {.label = "kill", .fstype = "ext4", .mb = 64, .param = &kp}
KP(fx_k_checked, kp_checked);
KP(fx_k_fill, kp_fill);
KP(fx_k_reserve, kp_reserve);
KP(fx_k_filling, kp_filling);

#define T(name, fn, fx) FU_CASE(name, fn, rfx_setup, fx)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        T("fs_ext4", test_fs, fx_ext4),
        T("fs_vfat", test_fs, fx_vfat),
        T("fs_exfat", test_fs, fx_exfat),
        T("fs_ntfs", test_fs, fx_ntfs),
        T("fs_xfs", test_fs, fx_xfs),
        T("fs_btrfs", test_fs, fx_btrfs),
        T("sweep_never_writes", test_readonly, fx_ro),
        T("refusals", test_refusals, fx_refuse),
        T("fusefat_wrong_device", test_fuse_wrong_device, fx_fusedev),
        T("slack_scrub", test_slack, fx_slack),
        T("perceptual_consent", test_consent, fx_consent),
        T("tampered_certificate", test_tamper, fx_tamper),
        T("kill_after_checked", test_kill, fx_k_checked),
        T("kill_after_fill_begin", test_kill, fx_k_fill),
        T("kill_after_reserve_lowered", test_kill, fx_k_reserve),
        T("kill_during_fill", test_kill, fx_k_filling),
    };
    if (getenv("DP_TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("DP_TEST_FILTER"));
    return cmocka_run_group_tests_name("remnants", tests, NULL, group_teardown);
}
