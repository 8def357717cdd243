/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the review sheet of perceptual-only candidates - a generated device with a
 * victim's image and altered copies, scanned with the victim's PDQ hash; the sheet rendered by
 * the library and by the CLI: its images, header, escaping, exclusive 0600 output, the on-device
 * refusal, and the files that are not shown (symbolic links, changed, missing, over a limit),
 * with nothing on the device changed and nothing outside the root read. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <png.h>

#include "deprive/json.h"
#include "deprive/review.h"

#define ODD_NAME "odd\nname\xff.png" /* a newline and a byte that is not UTF-8 */

/* A DCT-rich picture, like a photo (as tests/test_pdq.c makes them). */
static void scene(uint8_t *px, int w, int h, uint32_t seed)
{
    double c[16][16];
    for (int u = 0; u < 16; u++)
        for (int v = 0; v < 16; v++) {
            seed = seed * 1103515245 + 12345;
            c[u][v] = (2.0 + (seed >> 16) % 100 / 50.0) * ((seed >> 30) & 1 ? 1 : -1);
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double yy = (y + 0.5) * 64 / h - 0.5, xx = (x + 0.5) * 64 / w - 0.5, v = 128;
            for (int u = 0; u < 16; u++)
                for (int k = 0; k < 16; k++)
                    v += c[u][k] * cos(M_PI * (u + 1) * (2 * yy + 1) / 128) *
                         cos(M_PI * (k + 1) * (2 * xx + 1) / 128);
            uint8_t g = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            px[(y * w + x) * 3] = g;
            px[(y * w + x) * 3 + 1] = (uint8_t)(g / 2 + 60);
            px[(y * w + x) * 3 + 2] = (uint8_t)(255 - g);
        }
}

static void write_png(const char *dir, const char *name, const uint8_t *px, int w, int h)
{
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    pi.width = (png_uint_32)w;
    pi.height = (png_uint_32)h;
    pi.format = PNG_FORMAT_RGB;
    char *p = tu_path(dir, name);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0755); /* one level of subdirectory is enough here */
    *slash = '/';
    assert_true(png_image_write_to_file(&pi, p, 0, px, 0, NULL) != 0);
    free(p);
}

/* A case: dir/dev is the device, dir/work the examiner's side (list, plan, sheets). */
struct kase {
    char *dir, *dev, *work, *list, *plan;
    json_t *report;
};

enum { W = 480, H = 360 };

/* The device: copy.png (an exact copy: matched by SHA-256), thumb.png (half size),
 * turned.png (turned 180 degrees), ODD_NAME (mirrored), sub/inner.png (half size again) - four
 * perceptual-only findings - and holiday.png, unrelated. extra: more copies of the half-size
 * picture (extra-NN.png), all perceptual-only. exact_only: only copy.png and holiday.png. */
static void make_case(struct kase *k, int extra, bool exact_only)
{
    memset(k, 0, sizeof(*k));
    k->dir = tu_mkdtemp();
    k->dev = tu_path(k->dir, "dev");
    k->work = tu_path(k->dir, "work");
    assert_int_equal(mkdir(k->dev, 0755), 0);
    assert_int_equal(mkdir(k->work, 0755), 0);
    uint8_t *px = malloc(W * H * 3), *half = malloc(W * H * 3), *rot = malloc(W * H * 3),
            *mir = malloc(W * H * 3), *other = malloc(W * H * 3);
    assert_true(px && half && rot && mir && other);
    scene(px, W, H, 777);
    scene(other, W, H, 4242);
    for (int y = 0; y < H / 2; y++)
        for (int x = 0; x < W / 2; x++)
            for (int c = 0; c < 3; c++)
                half[(y * (W / 2) + x) * 3 + c] =
                    (uint8_t)((px[((2 * y) * W + 2 * x) * 3 + c] +
                               px[((2 * y) * W + 2 * x + 1) * 3 + c] +
                               px[((2 * y + 1) * W + 2 * x) * 3 + c] +
                               px[((2 * y + 1) * W + 2 * x + 1) * 3 + c] + 2) /
                              4);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            memcpy(rot + ((H - 1 - y) * W + (W - 1 - x)) * 3, px + (y * W + x) * 3, 3);
            memcpy(mir + (y * W + (W - 1 - x)) * 3, px + (y * W + x) * 3, 3);
        }
    write_png(k->work, "victim.png", px, W, H);
    write_png(k->dev, "copy.png", px, W, H);
    write_png(k->dev, "holiday.png", other, W, H);
    if (!exact_only) {
        write_png(k->dev, "thumb.png", half, W / 2, H / 2);
        write_png(k->dev, "turned.png", rot, W, H);
        write_png(k->dev, ODD_NAME, mir, W, H);
        write_png(k->dev, "sub/inner.png", half, W / 2, H / 2);
        for (int i = 0; i < extra; i++) {
            char name[32];
            snprintf(name, sizeof(name), "extra-%02d.png", i);
            write_png(k->dev, name, half, W / 2, H / 2);
        }
    }
    free(px), free(half), free(rot), free(mir), free(other);
    struct tu_run r;
    char *victim = tu_path(k->work, "victim.png");
    tu_deprive(&r, NULL, "hash", "--label", "victim one", victim, NULL);
    assert_int_equal(r.status, 0);
    tu_write(k->work, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    free(victim);
    k->list = tu_path(k->work, "list.txt");
    k->plan = tu_path(k->work, "plan.json");
    /* from the work directory, so the plan names the list "list.txt" */
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(k->work), 0);
    tu_deprive(&r, NULL, "scan", "--hashes", "list.txt", "-o", "plan.json", k->dev, NULL);
    assert_int_equal(chdir(cwd), 0);
    if (r.status != 0)
        printf("review: scan: %s%s", r.out, r.err);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    k->report = tu_load_json(k->plan);
}

static void free_case(struct kase *k)
{
    json_decref(k->report);
    tu_rm_rf(k->dir);
    free(k->dir), free(k->dev), free(k->work), free(k->list), free(k->plan);
}

/* The finding id of the file at rel (raw bytes), from the plan. */
static const char *id_of(const struct kase *k, const char *rel)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(k->report, "findings"), i, f)
    {
        char *p = NULL;
        size_t n = 0;
        assert_true(dp_json_bytes_get(json_array_get(json_object_get(f, "location"), 0), &p, &n));
        bool same = strcmp(p, rel) == 0;
        free(p);
        if (same)
            return json_string_value(json_object_get(f, "id"));
    }
    fail_msg("no finding for %s", rel);
    return NULL;
}

static const struct dp_review_tile *tile_of(const struct dp_review_result *res, const char *id)
{
    for (size_t i = 0; i < res->candidates; i++)
        if (strcmp(res->tiles[i].finding_id, id) == 0)
            return &res->tiles[i];
    fail_msg("no tile for %s", id);
    return NULL;
}

static size_t count(const char *hay, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            n++;
    return n;
}

/* The sheet's bytes; checks it is a PDF of mode 0600. */
static char *read_sheet(const char *path, size_t *len)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    char *b = tu_read(path, len);
    assert_non_null(b);
    assert_true(*len > 5 && memcmp(b, "%PDF-", 5) == 0);
    return b;
}

static bool contains(const char *b, size_t len, const char *needle)
{
    return count(b, len, needle) > 0;
}

/* The text of an uncompressed sheet: every literal string "(...)" unescaped (libharu writes
 * '/', '(', ')' and '\\' as octal escapes), one a line. Heap. */
static char *sheet_text(const char *b, size_t len)
{
    char *out = malloc(len + 1);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (b[i] != '(')
            continue;
        for (i++; i < len && b[i] != ')'; i++) {
            if (b[i] != '\\' || i + 1 >= len) {
                out[o++] = b[i];
            } else if (i + 3 < len && b[i + 1] >= '0' && b[i + 1] <= '7') {
                out[o++] = (char)((b[i + 1] - '0') * 64 + (b[i + 2] - '0') * 8 + (b[i + 3] - '0'));
                i += 3;
            } else {
                out[o++] = b[++i];
            }
        }
        out[o++] = '\n';
    }
    out[o] = '\0';
    return out;
}

/* Size, inode and all three times of every regular file below dir, one line each (lstat
 * changes nothing, not even an access time). */
static void snapshot_rec(const char *dir, char **out, size_t *used, size_t *cap)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "find '%s' -type f -print0 | sort -z", dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char path[4096];
    size_t n = 0;
    int c;
    while ((c = fgetc(p)) != EOF) {
        if (c != 0) {
            assert_true(n + 1 < sizeof(path));
            path[n++] = (char)c;
            continue;
        }
        path[n] = '\0';
        n = 0;
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        char line[4400];
        int l =
            snprintf(line, sizeof(line), "%s %llu %lld %lld.%ld %lld.%ld %lld.%ld\n", path,
                     (unsigned long long)st.st_ino, (long long)st.st_size,
                     (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
        if (*used + (size_t)l + 1 > *cap) {
            *cap = (*cap + (size_t)l + 1) * 2;
            *out = realloc(*out, *cap);
            assert_non_null(*out);
        }
        memcpy(*out + *used, line, (size_t)l + 1);
        *used += (size_t)l;
    }
    pclose(p);
}

static char *snapshot(const char *dir)
{
    char *out = calloc(1, 1);
    size_t used = 0, cap = 1;
    assert_non_null(out);
    snapshot_rec(dir, &out, &used, &cap);
    return out;
}

/* Render, failing the test with the library's message unless it succeeds. */
static void render_ok(const char *plan, const struct dp_review_opts *o, const char *out,
                      struct dp_review_result *res)
{
    struct dp_error err = {0};
    if (dp_review_render(plan, o, out, res, &err) != DP_OK)
        fail_msg("review of %s: %s", plan, err.msg);
}

/* The perceptual-only candidates on one page: four thumbnails (one image XObject each), the
 * header with the plan's SHA-256, the escaped odd name, the match facts; mode 0600; nothing on
 * the device changed, access times included. */
static void test_sheet(void **state)
{
    (void)state;
    struct kase k;
    make_case(&k, 0, false);
    char *before = snapshot(k.dev);
    char *sheet = tu_path(k.work, "sheet.pdf");
    struct dp_review_opts o = {.uncompressed = true, .allow_on_device = true};
    struct dp_review_result res;
    struct dp_error err = {0};
    enum dp_status st = dp_review_render(k.plan, &o, sheet, &res, &err);
    if (st != DP_OK)
        fail_msg("review: %s", err.msg);
    assert_int_equal(res.candidates, 4);
    assert_int_equal(res.thumbnails, 4);
    assert_int_equal(res.pages, 1);
    assert_true(res.written);
    assert_true(res.on_device); /* the work directory is on the device's filesystem here */
    for (size_t i = 0; i < res.candidates; i++)
        assert_int_equal(res.tiles[i].state, DP_REVIEW_SHOWN);
    const char *skipped = id_of(&k, "copy.png"); /* exact: not a candidate */
    for (size_t i = 0; i < res.candidates; i++)
        assert_string_not_equal(res.tiles[i].finding_id, skipped);
    char sha[65];
    assert_true(tu_sha256_hex(k.plan, sha));
    assert_string_equal(res.plan_sha256, sha);
    size_t len = 0;
    char *b = read_sheet(sheet, &len);
    assert_int_equal(count(b, len, "/Subtype /Image"), 4);
    char *t = sheet_text(b, len);
    assert_non_null(strstr(t, "deprive review - perceptual-only candidates\n"));
    assert_non_null(strstr(t, sha));
    assert_non_null(strstr(t, "\nplan.json\n"));
    assert_non_null(strstr(t, "\nPage 1/1\n"));
    assert_non_null(strstr(t, "contains images from the case"));
    assert_non_null(strstr(t, "as case material"));
    assert_non_null(strstr(t, "\nvictim one\n")); /* the list entry's label */
    assert_non_null(strstr(t, "\nlist.txt:2\n")); /* its list and line */
    assert_non_null(strstr(t, "distance "));
    assert_non_null(strstr(t, ", rotate180\n"));             /* turned.png's variant */
    assert_non_null(strstr(t, "\nodd\\x0aname\\xff.png\n")); /* newline, non-UTF-8 escaped */
    assert_non_null(strstr(t, "\nsub/inner.png\n"));
    assert_null(strstr(t, "LOW CONFIDENCE")); /* generated pictures are not flat */
    assert_null(strstr(t, "holiday.png"));
    assert_null(strstr(t, "NO THUMBNAIL"));
    for (size_t i = 0; i < res.candidates; i++) {
        char id[40];
        snprintf(id, sizeof(id), "\n%s\n", res.tiles[i].finding_id);
        assert_non_null(strstr(t, id));
    }
    free(t);
    char *after = snapshot(k.dev);
    assert_string_equal(before, after); /* not an access time changed */
    free(b), free(before), free(after), free(sheet);
    dp_review_result_release(&res);
    free_case(&k);
}

/* Thirteen candidates: two pages of twelve; compressed, the images are still one XObject each
 * (their dictionaries are not compressed). */
static void test_pages_compressed(void **state)
{
    (void)state;
    struct kase k;
    make_case(&k, 9, false);
    char *sheet = tu_path(k.work, "sheet.pdf");
    struct dp_review_opts o = {.allow_on_device = true};
    struct dp_review_result res;
    render_ok(k.plan, &o, sheet, &res);
    assert_int_equal(res.candidates, 13);
    assert_int_equal(res.thumbnails, 13);
    assert_int_equal(res.pages, 2);
    size_t len = 0;
    char *b = read_sheet(sheet, &len);
    assert_int_equal(count(b, len, "/Subtype /Image"), 13);
    assert_int_equal(count(b, len, "/Type /Page\n") + count(b, len, "/Type /Page\r") +
                         count(b, len, "/Type /Page/") + count(b, len, "/Type /Page "),
                     2);
    assert_true(contains(b, len, "/FlateDecode"));
    free(b), free(sheet);
    dp_review_result_release(&res);
    free_case(&k);
}

/* --all, --finding, and the ids refused. */
static void test_selection(void **state)
{
    (void)state;
    struct kase k;
    make_case(&k, 0, false);
    struct dp_review_result res;
    struct dp_error err = {0};
    char *s1 = tu_path(k.work, "all.pdf"), *s2 = tu_path(k.work, "one.pdf");
    char *s3 = tu_path(k.work, "bad.pdf");
    struct dp_review_opts o = {.all = true, .allow_on_device = true, .uncompressed = true};
    render_ok(k.plan, &o, s1, &res);
    assert_int_equal(res.candidates, 5);
    size_t len = 0;
    char *b = read_sheet(s1, &len);
    assert_int_equal(count(b, len, "/Subtype /Image"), 5);
    char *t = sheet_text(b, len);
    assert_non_null(strstr(t, "deprive review - all findings"));
    assert_non_null(strstr(t, " - exact md5 match\n")); /* copy.png: its first exact match */
    free(t);
    free(b);
    dp_review_result_release(&res);
    const char *thumb = id_of(&k, "thumb.png");
    const char *ids[] = {thumb, thumb};
    struct dp_review_opts one = {.findings = ids, .nfindings = 2, .allow_on_device = true};
    render_ok(k.plan, &one, s2, &res);
    assert_int_equal(res.candidates, 1);
    assert_string_equal(res.tiles[0].finding_id, thumb);
    dp_review_result_release(&res);
    const char *missing[] = {"F99"};
    struct dp_review_opts bad = {.findings = missing, .nfindings = 1, .allow_on_device = true};
    assert_int_equal(dp_review_render(k.plan, &bad, s3, &res, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "no finding 'F99'"));
    dp_review_result_release(&res);
    const char *exact[] = {id_of(&k, "copy.png")};
    bad.findings = exact;
    assert_int_equal(dp_review_render(k.plan, &bad, s3, &res, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "exact digest"));
    dp_review_result_release(&res);
    assert_int_equal(access(s3, F_OK), -1);
    free(s1), free(s2), free(s3);
    free_case(&k);
}

/* An existing output is never replaced; the reviewed filesystem is refused unless allowed; an
 * output name that is a directory's is refused. */
static void test_refusals(void **state)
{
    (void)state;
    struct kase k;
    make_case(&k, 0, false);
    struct dp_review_result res;
    struct dp_error err = {0};
    tu_write(k.work, "taken.pdf", "mine\n", 5);
    char *taken = tu_path(k.work, "taken.pdf"), *fresh = tu_path(k.work, "fresh.pdf");
    struct dp_review_opts allow = {.allow_on_device = true}, strict = {0};
    assert_int_equal(dp_review_render(k.plan, &allow, taken, &res, &err), DP_ERR_IO);
    assert_int_equal(err.sys_errno, EEXIST);
    assert_non_null(strstr(err.msg, "refusing to overwrite"));
    assert_false(res.written);
    dp_review_result_release(&res);
    size_t len = 0;
    char *b = tu_read(taken, &len);
    assert_string_equal(b, "mine\n");
    free(b);
    /* a dangling symbolic link as the output: not followed, not replaced */
    char *link = tu_path(k.work, "link.pdf"), *target = tu_path(k.work, "elsewhere.pdf");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(dp_review_render(k.plan, &allow, link, &res, &err), DP_ERR_IO);
    assert_int_equal(access(target, F_OK), -1);
    dp_review_result_release(&res);
    assert_int_equal(dp_review_render(k.plan, &strict, fresh, &res, &err), DP_ERR_UNSUPPORTED);
    assert_true(res.on_device);
    assert_false(res.written);
    assert_non_null(strstr(err.msg, "seized device"));
    assert_int_equal(access(fresh, F_OK), -1);
    dp_review_result_release(&res);
    char *dirname = tu_path(k.work, "");
    assert_int_equal(dp_review_render(k.plan, &allow, dirname, &res, &err), DP_ERR_INVALID);
    dp_review_result_release(&res);
    free(taken), free(fresh), free(link), free(target), free(dirname);
    free_case(&k);
}

/* Symbolic links put in place of a finding's file and of a parent directory, both pointing
 * outside the root to copies of the pictures, and a FIFO in place of another: no link
 * followed (no thumbnail of the copies outside), no FIFO opened; the tiles say why. */
static void links_not_followed(void)
{
    struct kase k;
    make_case(&k, 0, false);
    char *outside = tu_path(k.dir, "outside");
    assert_int_equal(mkdir(outside, 0755), 0);
    assert_int_equal(tu_sh("cp '%s/thumb.png' '%s/thumb.png' && cp '%s/sub/inner.png' "
                           "'%s/inner.png'",
                           k.dev, outside, k.dev, outside),
                     0);
    char *thumb = tu_path(k.dev, "thumb.png"), *sub = tu_path(k.dev, "sub");
    char *turned = tu_path(k.dev, "turned.png");
    char *out_thumb = tu_path(outside, "thumb.png");
    assert_int_equal(unlink(thumb), 0);
    assert_int_equal(symlink(out_thumb, thumb), 0);
    assert_int_equal(tu_sh("rm -r '%s'", sub), 0);
    assert_int_equal(symlink("../outside", sub), 0);
    assert_int_equal(unlink(turned), 0);
    assert_int_equal(mkfifo(turned, 0644), 0);
    char *sheet = tu_path(k.work, "sheet.pdf");
    struct dp_review_opts o = {.allow_on_device = true, .uncompressed = true};
    struct dp_review_result res;
    render_ok(k.plan, &o, sheet, &res);
    assert_int_equal(res.candidates, 4);
    assert_int_equal(res.thumbnails, 1); /* only the odd name is still what was scanned */
    assert_int_equal(tile_of(&res, id_of(&k, "thumb.png"))->state, DP_REVIEW_SYMLINK);
    assert_int_equal(tile_of(&res, id_of(&k, "sub/inner.png"))->state, DP_REVIEW_SYMLINK);
    const struct dp_review_tile *fifo = tile_of(&res, id_of(&k, "turned.png"));
    assert_int_equal(fifo->state, DP_REVIEW_CHANGED);
    assert_non_null(strstr(fifo->detail, "not a regular file"));
    assert_int_equal(tile_of(&res, id_of(&k, ODD_NAME))->state, DP_REVIEW_SHOWN);
    size_t len = 0;
    char *b = read_sheet(sheet, &len);
    assert_int_equal(count(b, len, "/Subtype /Image"), 1);
    assert_int_equal(count(b, len, "symbolic link on the path: not followed"), 2);
    assert_int_equal(count(b, len, "NO THUMBNAIL"), 3);
    free(b), free(sheet);
    free(outside), free(thumb), free(sub), free(turned), free(out_thumb);
    dp_review_result_release(&res);
    free_case(&k);
}

static void test_links_not_followed(void **state)
{
    (void)state;
    links_not_followed();
}

/* The same where the kernel has no openat2 (an old kernel, a seccomp policy, valgrind):
 * openat2 made to fail with ENOSYS for the rest of this process (the suite's last test), so
 * the review takes its component-by-component walk - which once labelled a target turned
 * into a symbolic link "changed" instead of "symbolic link on the path". */
static void test_links_not_followed_without_openat2(void **state)
{
    (void)state;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
        printf("review: no seccomp filter (%s): the walk without openat2 is not tested\n",
               strerror(errno));
        skip();
    }
    assert_int_equal(syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0), -1);
    assert_int_equal(errno, ENOSYS);
    links_not_followed();
}

/* A file rewritten (same bytes, new times), one touched (mtime only), one removed: "changed
 * since scan" and "no longer there" instead of thumbnails. */
static void test_changed(void **state)
{
    (void)state;
    struct kase k;
    make_case(&k, 0, false);
    char *thumb = tu_path(k.dev, "thumb.png"), *turned = tu_path(k.dev, "turned.png");
    char *inner = tu_path(k.dev, "sub/inner.png");
    size_t n = 0;
    char *bytes = tu_read(thumb, &n);
    assert_non_null(bytes);
    usleep(20000);
    tu_write(k.dev, "thumb.png", bytes, n);
    free(bytes);
    struct timeval tv[2] = {{1000000000, 0}, {1000000000, 0}};
    assert_int_equal(utimes(turned, tv), 0);
    assert_int_equal(unlink(inner), 0);
    char *sheet = tu_path(k.work, "sheet.pdf");
    struct dp_review_opts o = {.allow_on_device = true, .uncompressed = true};
    struct dp_review_result res;
    render_ok(k.plan, &o, sheet, &res);
    assert_int_equal(res.candidates, 4);
    assert_int_equal(res.thumbnails, 1);
    assert_int_equal(tile_of(&res, id_of(&k, "thumb.png"))->state, DP_REVIEW_CHANGED);
    const struct dp_review_tile *t = tile_of(&res, id_of(&k, "turned.png"));
    assert_int_equal(t->state, DP_REVIEW_CHANGED);
    assert_non_null(strstr(t->detail, "mtime"));
    assert_int_equal(tile_of(&res, id_of(&k, "sub/inner.png"))->state, DP_REVIEW_MISSING);
    size_t len = 0;
    char *b = read_sheet(sheet, &len);
    assert_int_equal(count(b, len, "changed since scan"), 2);
    assert_int_equal(count(b, len, "no longer there"), 1);
    assert_int_equal(count(b, len, "/Subtype /Image"), 1);
    free(b), free(sheet), free(thumb), free(turned), free(inner);
    dp_review_result_release(&res);
    free_case(&k);
}

/* The limits: a file over max_image_bytes is not read, an image over max_pixels not decoded;
 * a plan saying a file's PDQ quality is low gets the low-confidence mark; content whose digest
 * is not the plan's is "changed" however unchanged its metadata. */
static void test_limits_and_quality(void **state)
{
    (void)state;
    struct kase k;
    make_case(&k, 0, false);
    struct dp_review_result res;
    char *s1 = tu_path(k.work, "s1.pdf"), *s2 = tu_path(k.work, "s2.pdf");
    char *s3 = tu_path(k.work, "s3.pdf");
    struct dp_review_opts o = {.allow_on_device = true, .max_image_bytes = 1000};
    render_ok(k.plan, &o, s1, &res);
    assert_int_equal(res.thumbnails, 0);
    for (size_t i = 0; i < res.candidates; i++)
        assert_int_equal(res.tiles[i].state, DP_REVIEW_TOO_LARGE);
    dp_review_result_release(&res);
    o.max_image_bytes = 0;
    o.max_pixels = 1000;
    render_ok(k.plan, &o, s2, &res);
    assert_int_equal(res.thumbnails, 0);
    for (size_t i = 0; i < res.candidates; i++)
        assert_int_equal(res.tiles[i].state, DP_REVIEW_UNDECODABLE);
    dp_review_result_release(&res);
    /* the plan says turned.png's quality is 20, and gives thumb.png another SHA-256 (the
     * file's metadata all as scanned: only its content, read, tells) */
    size_t i;
    json_t *f;
    const char *turned = id_of(&k, "turned.png"), *thumb = id_of(&k, "thumb.png");
    json_array_foreach(json_object_get(k.report, "findings"), i, f)
    {
        const char *id = json_string_value(json_object_get(f, "id"));
        if (strcmp(id, turned) == 0)
            json_object_set_new(json_object_get(f, "pdq"), "quality", json_integer(20));
        if (strcmp(id, thumb) == 0)
            json_object_set_new(json_object_get(f, "digests"), "sha256",
                                json_string("00000000000000000000000000000000"
                                            "00000000000000000000000000000000"));
    }
    char *plan2 = tu_path(k.work, "plan2.json");
    assert_int_equal(dp_json_write_file(k.report, plan2, NULL), DP_OK);
    struct dp_review_opts q = {.allow_on_device = true, .uncompressed = true};
    render_ok(plan2, &q, s3, &res);
    assert_int_equal(res.thumbnails, 3);
    const struct dp_review_tile *t = tile_of(&res, thumb);
    assert_int_equal(t->state, DP_REVIEW_CHANGED);
    assert_string_equal(t->detail, "content differs: sha256 is not the plan's");
    size_t len = 0;
    char *b = read_sheet(s3, &len);
    assert_int_equal(count(b, len, "LOW CONFIDENCE"), 1);
    assert_true(contains(b, len, "file 20, list entry"));
    free(b), free(s1), free(s2), free(s3), free(plan2);
    dp_review_result_release(&res);
    free_case(&k);
}

/* The CLI: usage errors, the sheet, the refusals and their messages, exit 1 with nothing
 * written when there is no candidate. */
static void test_cli(void **state)
{
    (void)state;
    struct kase k;
    make_case(&k, 0, false);
    struct tu_run r;
    char *sheet = tu_path(k.work, "sheet.pdf"), *other = tu_path(k.work, "other.pdf");
    tu_deprive(&r, NULL, "review", k.plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "-o SHEET.pdf is required"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "review", "-o", sheet, NULL);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "review", "--max-pixels", "0", "-o", sheet, k.plan, NULL);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    assert_int_equal(access(sheet, F_OK), -1);
    /* on the reviewed filesystem: refused, then allowed with a warning */
    tu_deprive(&r, NULL, "review", "-o", sheet, k.plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--allow-on-device"));
    assert_int_equal(access(sheet, F_OK), -1);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "review", "--allow-on-device", "-o", sheet, k.plan, NULL);
    printf("review: %s%s", r.out, r.err);
    assert_int_equal(r.status, 0);
    char want[600];
    snprintf(want, sizeof(want), "review: 4 candidates, sheet written to %s\n", sheet);
    assert_string_equal(r.out, want);
    assert_non_null(strstr(r.err, "warning"));
    tu_run_free(&r);
    size_t len = 0;
    char *b = read_sheet(sheet, &len);
    assert_int_equal(count(b, len, "/Subtype /Image"), 4);
    free(b);
    /* again: the sheet exists */
    tu_deprive(&r, NULL, "review", "--allow-on-device", "-o", sheet, k.plan, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "refusing to overwrite"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "review", "--allow-on-device", "--finding", "F99", "-o", other, k.plan,
               NULL);
    assert_int_equal(r.status, 2);
    assert_int_equal(access(other, F_OK), -1);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "review", "--allow-on-device", "--finding", id_of(&k, "thumb.png"),
               "--all", "-o", other, k.plan, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "review: 1 candidates"));
    tu_run_free(&r);
    /* on another filesystem (tmpfs /dev/shm, when there is one): no warning */
    char shm[] = "/dev/shm/deprive-review-XXXXXX";
    struct stat a, d;
    if (mkdtemp(shm) != NULL && stat(shm, &a) == 0 && stat(k.dev, &d) == 0 &&
        a.st_dev != d.st_dev) {
        char *far = tu_path(shm, "sheet.pdf");
        tu_deprive(&r, NULL, "review", "-o", far, k.plan, NULL);
        assert_int_equal(r.status, 0);
        assert_null(strstr(r.err, "warning"));
        tu_run_free(&r);
        b = read_sheet(far, &len);
        free(b);
        free(far);
        tu_rm_rf(shm);
    } else {
        printf("review: no second filesystem at /dev/shm: that part skipped\n");
    }
    free(sheet), free(other);
    free_case(&k);
    /* no perceptual-only finding: exit 1, nothing written */
    make_case(&k, 0, true);
    char *none = tu_path(k.work, "none.pdf");
    tu_deprive(&r, NULL, "review", "--allow-on-device", "-o", none, k.plan, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "no perceptual-only finding"));
    assert_int_equal(access(none, F_OK), -1);
    tu_run_free(&r);
    free(none);
    free_case(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sheet),
        cmocka_unit_test(test_pages_compressed),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_links_not_followed),
        cmocka_unit_test(test_changed),
        cmocka_unit_test(test_limits_and_quality),
        cmocka_unit_test(test_cli),
        /* last: it takes openat2 away from the process */
        cmocka_unit_test(test_links_not_followed_without_openat2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
