/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the guides cannot drift. Every ```sh block of docs/examiner-guide.md and
 * docs/auditor-guide.md is run, in order, against the deprive under test, on a generated
 * exhibit: an ext4 image on a loop device holding copies (exact, resized, turned) of three
 * generated "victim" photos among unrelated files. A block's first line says where it runs and
 * what it expects:
 *
 *   # in case/; exits 1; typing: first answer | second answer; interrupted
 *
 * "in DIR/" (required) is the folder under the test's temp dir; "exits N" the exit status
 * (default 0); "typing:" the lines typed at the prompts, each sent once the program waits for
 * input on a pseudo-terminal (the block then runs on one; without it, stdin is /dev/null and
 * there is no terminal); "interrupted": the test kills the block's processes once the journal
 * in DIR records that an overwrite began, and unmounts $EXHIBIT - a power cut in mid-erasure. "#
 * prints: TEXT" lines name text the output must contain. Blocks see $DEVICE (the exhibit's loop
 * device) and $EXHIBIT (its mount point) and find the deprive under test first on $PATH.
 * DP_GUIDES_SHOW=1 in the environment prints every block's output. */
#include "testutil.h"
#include "robust.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PRINTS 16
#define MAX_TYPING 8
#define BLOCK_TIMEOUT 240 /* seconds a block may take */

/* ---- the guide's blocks ---- */

struct block {
    int line;         /* of the opening fence, 1-based */
    char dir[64];     /* "case" */
    int exits;        /* expected exit status */
    bool interrupted; /* the test cuts the power part-way */
    char *script;     /* the block's text */
    char *typing[MAX_TYPING];
    size_t ntyping;
    char *prints[MAX_PRINTS];
    size_t nprints;
};

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    assert_non_null(d);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *trim(char *s)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
    return s;
}

/* Parse the marker line "# in DIR/; clause; clause" into b; fails the test on anything it
 * does not know, so a misspelt marker cannot make a block silently run differently. */
static void parse_marker(const char *guide, struct block *b, const char *marker)
{
    if (strncmp(marker, "# in ", 5) != 0)
        fail_msg("%s:%d: a ```sh block must start with '# in DIR/' (every sh block is run by "
                 "tests/test_guides.c; use ```text for what is not to be run)",
                 guide, b->line);
    char *copy = dup_range(marker + 2, strlen(marker) - 2);
    char *save = NULL;
    bool first = true;
    for (char *c = strtok_r(copy, ";", &save); c != NULL; c = strtok_r(NULL, ";", &save)) {
        c = trim(c);
        if (first) {
            size_t n = strlen(c);
            if (strncmp(c, "in ", 3) != 0 || n < 5 || c[n - 1] != '/' || strstr(c, "..") ||
                n - 3 >= sizeof(b->dir))
                fail_msg("%s:%d: bad folder in '%s'", guide, b->line, marker);
            snprintf(b->dir, sizeof(b->dir), "%.*s", (int)(n - 4), c + 3);
            first = false;
        } else if (strncmp(c, "exits ", 6) == 0) {
            char *end;
            long v = strtol(c + 6, &end, 10);
            if (*end != '\0' || v < 0 || v > 255)
                fail_msg("%s:%d: bad '%s'", guide, b->line, c);
            b->exits = (int)v;
        } else if (strncmp(c, "typing:", 7) == 0) {
            char *save2 = NULL;
            for (char *t = strtok_r(c + 7, "|", &save2); t != NULL;
                 t = strtok_r(NULL, "|", &save2)) {
                assert_true(b->ntyping < MAX_TYPING);
                t = trim(t);
                b->typing[b->ntyping++] = dup_range(t, strlen(t));
            }
        } else if (strcmp(c, "interrupted") == 0) {
            b->interrupted = true;
        } else {
            fail_msg("%s:%d: unknown clause '%s' in '%s'", guide, b->line, c, marker);
        }
    }
    free(copy);
}

/* Every ```sh block of the guide, in order; *n receives the count. */
static struct block *read_guide(const char *guide, const char *text, size_t *n)
{
    size_t cap = 64;
    struct block *blocks = calloc(cap, sizeof(*blocks));
    assert_non_null(blocks);
    *n = 0;
    int lineno = 0;
    const char *p = text;
    struct block *cur = NULL;
    const char *body = NULL;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        if (cur == NULL && len == 5 && strncmp(p, "```sh", 5) == 0) {
            assert_true(*n < cap);
            cur = &blocks[(*n)++];
            cur->line = lineno;
            body = nl ? nl + 1 : p + len;
        } else if (cur != NULL && len == 3 && strncmp(p, "```", 3) == 0) {
            cur->script = dup_range(body, (size_t)(p - body));
            char *first_nl = strchr(cur->script, '\n');
            char *marker = dup_range(cur->script, first_nl ? (size_t)(first_nl - cur->script)
                                                           : strlen(cur->script));
            parse_marker(guide, cur, marker);
            free(marker);
            for (char *q = cur->script; (q = strstr(q, "# prints: ")) != NULL;) {
                q += 10;
                size_t k = strcspn(q, "\n");
                assert_true(cur->nprints < MAX_PRINTS);
                cur->prints[cur->nprints++] = dup_range(q, k);
            }
            cur = NULL;
        } else if (cur == NULL && len > 3 && strncmp(p, "```", 3) == 0) {
            /* shell under another name would escape the test: ```sh runs, ```text does not */
            const char *shells[] = {"sh ", "bash", "shell", "console", "zsh"};
            for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
                if (strncmp(p + 3, shells[i], strlen(shells[i])) == 0)
                    fail_msg("%s:%d: commands go in a bare ```sh block (run by this test) or a "
                             "```text block (not run)",
                             guide, lineno);
        }
        p = nl ? nl + 1 : p + len;
    }
    if (cur != NULL)
        fail_msg("%s:%d: unterminated ```sh block", guide, cur->line);
    return blocks;
}

static void free_blocks(struct block *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(b[i].script);
        for (size_t k = 0; k < b[i].ntyping; k++)
            free(b[i].typing[k]);
        for (size_t k = 0; k < b[i].nprints; k++)
            free(b[i].prints[k]);
    }
    free(b);
}

/* ---- running a block ---- */

struct env {
    char *root;    /* the temp dir the folders are in */
    char *device;  /* $DEVICE: /dev/loopN */
    char *exhibit; /* $EXHIBIT: the mount point */
    char *image;   /* the exhibit's image file */
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Has a journal in dir recorded that an overwrite began? */
static bool journal_has_overwrite(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 8 || strcmp(e->d_name + n - 8, ".journal") != 0)
            continue;
        char *p = tu_path(dir, e->d_name);
        char *text = tu_read(p, NULL);
        found = text != NULL && strstr(text, "\"type\":\"overwrite-begin\"") != NULL;
        free(text);
        free(p);
    }
    closedir(d);
    return found;
}

/* Does the program wait for input? The last line so far ends like a prompt. */
static bool at_prompt(const char *out, size_t used)
{
    size_t i = used;
    while (i > 0 && out[i - 1] != '\n' && out[i - 1] != '\r')
        i--;
    size_t len = used - i;
    if (len < 2)
        return false;
    const char *end = out + used - 2;
    return end[1] == ' ' && (end[0] == ':' || end[0] == ']' || end[0] == '?');
}

struct outcome {
    int status;
    bool killed;
    size_t typed;
    char *out; /* stdout and stderr together (the terminal's transcript with typing) */
};

static void child_exec(const struct env *env, const char *dir, const char *script)
{
    if (chdir(dir) != 0)
        _exit(126);
    char path[PATH_MAX * 2];
    char bindir[PATH_MAX];
    snprintf(bindir, sizeof(bindir), "%s", DP_TEST_BIN);
    *strrchr(bindir, '/') = '\0';
    const char *old = getenv("PATH");
    snprintf(path, sizeof(path), "%s:%s", bindir, old ? old : "/usr/sbin:/usr/bin:/sbin:/bin");
    setenv("PATH", path, 1);
    setenv("DEVICE", env->device, 1);
    setenv("EXHIBIT", env->exhibit, 1);
    setenv("LC_ALL", "C.UTF-8", 1);
    execl("/bin/bash", "bash", "--noprofile", "--norc", "-euo", "pipefail", "-c", script,
          (char *)NULL);
    _exit(127);
}

static void run_block(const struct env *env, const struct block *b, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    char *dir = tu_path(env->root, b->dir);
    assert_int_equal(tu_sh("mkdir -p '%s'", dir), 0);
    int fd = -1;
    pid_t pid;
    if (b->ntyping > 0) {
        pid = forkpty(&fd, NULL, NULL, NULL);
        assert_true(pid >= 0);
        if (pid == 0)
            child_exec(env, dir, b->script);
    } else {
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            setpgid(0, 0);
            int null = open("/dev/null", O_RDONLY);
            dup2(null, 0);
            dup2(pfd[1], 1);
            dup2(pfd[1], 2);
            close(pfd[0]);
            close(pfd[1]);
            child_exec(env, dir, b->script);
        }
        close(pfd[1]);
        fd = pfd[0];
    }
    size_t cap = 1 << 16, used = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    double start = now(), last_out = now();
    bool fresh = false; /* output arrived since the last line typed */
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, 20);
        if (pr > 0) {
            if (used + 4096 >= cap) {
                cap *= 2;
                out = realloc(out, cap);
                assert_non_null(out);
            }
            ssize_t k = read(fd, out + used, cap - used - 1);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                break; /* EOF, or EIO: the terminal's other side closed */
            used += (size_t)k;
            last_out = now();
            fresh = true;
        }
        if (b->ntyping > 0 && o->typed < b->ntyping && fresh && now() - last_out > 0.25 &&
            at_prompt(out, used)) {
            const char *t = b->typing[o->typed++];
            assert_true(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
            assert_true(write(fd, "\n", 1) == 1);
            fresh = false;
        }
        if (b->interrupted && !o->killed && journal_has_overwrite(dir)) {
            kill(-pid, SIGKILL);
            o->killed = true;
        }
        if (now() - start > BLOCK_TIMEOUT) {
            kill(-pid, SIGKILL);
            out[used] = '\0';
            fail_msg("block at line %d ran over %d s:\n%s", b->line, BLOCK_TIMEOUT, out);
        }
    }
    out[used] = '\0';
    close(fd);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    o->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (o->killed) /* the rest of the process group, if any */
        kill(-pid, SIGKILL);
    o->out = out;
    free(dir);
}

/* Run every block of the guide in order, checking each as its marker says. */
static void run_guide(const struct env *env, const char *name)
{
    char *path = tu_path(DP_SOURCE_DIR, name);
    char *text = tu_read(path, NULL);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    size_t n = 0;
    struct block *blocks = read_guide(name, text, &n);
    assert_true(n >= 5);
    for (size_t i = 0; i < n; i++) {
        const struct block *b = &blocks[i];
        struct outcome o;
        run_block(env, b, &o);
        size_t len = strlen(o.out);
        const char *tail = o.out + (len > 6000 ? len - 6000 : 0);
        if (b->interrupted) {
            if (!o.killed)
                fail_msg("%s:%d: the block finished (exit %d) before the simulated power cut:\n"
                         "%s",
                         name, b->line, o.status, tail);
            /* the power is gone: nothing flushed later, the filesystem unmounted */
            if (tu_sh("mountpoint -q '%s'", env->exhibit) == 0)
                assert_int_equal(
                    tu_sh("sync; umount '%s' || umount -l '%s'", env->exhibit, env->exhibit), 0);
            printf("%s:%d: interrupted as the guide says\n", name, b->line);
        } else if (o.status != b->exits) {
            fail_msg("%s:%d: exit %d, the guide says %d\n--- block:\n%s--- output:\n%s", name,
                     b->line, o.status, b->exits, b->script, tail);
        }
        if (o.typed != b->ntyping)
            fail_msg("%s:%d: %zu of %zu typed lines were asked for\n--- output:\n%s", name, b->line,
                     o.typed, b->ntyping, tail);
        for (size_t k = 0; k < b->nprints && !b->interrupted; k++)
            if (strstr(o.out, b->prints[k]) == NULL)
                fail_msg("%s:%d: the output lacks '%s'\n--- output:\n%s", name, b->line,
                         b->prints[k], tail);
        if (getenv("DP_GUIDES_SHOW") != NULL) /* to see what the commands print */
            printf("--- %s:%d (exit %d%s)\n%s", name, b->line, o.status, o.killed ? ", killed" : "",
                   o.out);
        free(o.out);
    }
    printf("%s: %zu blocks run as the guide says\n", name, n);
    free_blocks(blocks, n);
    free(text);
    free(path);
}

/* ---- the generated sample ---- */

/* A photo-like image (tests/robust.c) of w x h from seed, edited, written as JPEG (quality q)
 * or PNG (q == 0). */
static void put_image(const char *dir, const char *rel, uint64_t seed, int w, int h, int edit,
                      int q)
{
    struct robust_image im, ed;
    assert_true(robust_scene(&im, w, h, seed));
    const struct robust_image *use = &im;
    if (edit >= 0) {
        assert_true(robust_apply(&ed, &im, (enum robust_edit)edit, 0));
        use = &ed;
    }
    char *p = tu_path(dir, rel);
    assert_int_equal(tu_sh("mkdir -p \"$(dirname '%s')\"", p), 0);
    char msg[256];
    bool ok = q > 0 ? robust_write_jpeg(p, use, q, msg, sizeof(msg))
                    : robust_write_png(p, use, msg, sizeof(msg));
    if (!ok)
        fail_msg("%s: %s", rel, msg);
    if (edit >= 0)
        robust_image_free(&ed);
    robust_image_free(&im);
    free(p);
}

static void copy_file(const char *from_dir, const char *from, const char *to_dir, const char *to)
{
    char *src = tu_path(from_dir, from);
    size_t len;
    char *data = tu_read(src, &len);
    assert_non_null(data);
    tu_write(to_dir, to, data, len);
    free(data);
    free(src);
}

/* The victim's three photos in root/victim/. */
static void make_victim(const struct env *env)
{
    char *victim = tu_path(env->root, "victim");
    put_image(victim, "beach.jpg", 101, 1200, 900, -1, 90);
    put_image(victim, "party.png", 202, 800, 600, -1, 0);
    put_image(victim, "note.jpg", 303, 640, 480, -1, 85);
    free(victim);
}

/* An empty ext4 image on a loop device, $DEVICE, and an empty mount point, $EXHIBIT. */
static bool make_device(struct env *env)
{
    if (!tu_can_loop("guides") || !tu_have("mkfs.ext4") || !tu_have("losetup"))
        return false;
    env->image = tu_path(env->root, "exhibit.img");
    env->exhibit = tu_path(env->root, "mnt/exhibit");
    assert_int_equal(tu_sh("mkdir -p '%s' && truncate -s 64M '%s' && mkfs.ext4 -q -F '%s' "
                           ">/dev/null 2>&1",
                           env->exhibit, env->image, env->image),
                     0);
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "losetup -f --show '%s'", env->image) > 0);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct tu_run r;
    tu_run_argv(&r, argv, NULL);
    free(cmd);
    if (r.status != 0) {
        printf("guides: skipped: losetup failed: %s\n", r.err);
        tu_run_free(&r);
        return false;
    }
    r.out[strcspn(r.out, "\n")] = '\0';
    env->device = strdup(r.out);
    tu_run_free(&r);
    return true;
}

static void env_free(struct env *env)
{
    if (env->exhibit != NULL && tu_sh("mountpoint -q '%s'", env->exhibit) == 0)
        tu_sh("umount '%s' || umount -l '%s'", env->exhibit, env->exhibit);
    if (env->device != NULL)
        tu_sh("losetup -d '%s'", env->device);
    if (env->root != NULL)
        tu_rm_rf(env->root);
    free(env->root), free(env->device), free(env->exhibit), free(env->image);
    memset(env, 0, sizeof(*env));
}

static int teardown(void **state)
{
    struct env *env = *state;
    env_free(env);
    free(env);
    return 0;
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct env));
    return *state == NULL;
}

/* The exhibit's files the examiner's run erases (copies of the victim's photos). */
static const char *const to_erase[] = {
    "DCIM/Camera/IMG_0412.jpg",                               /* beach.jpg */
    "Pictures/Saved/beach (1).jpg",                           /* a hard link to it */
    "Backups/phone-2026-09/DCIM/IMG_0412.jpg",                /* beach.jpg again */
    "WhatsApp/Media/WhatsApp Images/IMG-20260903-WA0007.png", /* party.png */
    "WhatsApp/Media/WhatsApp Images/Sent/IMG-20260903-WA0009.png",
    "Telegram/Telegram Images/party.png",
    "Backups/phone-2026-09/WhatsApp/IMG-20260903-WA0007.png",
    "WhatsApp/Media/WhatsApp Images/IMG-20260905-WA0011.jpg", /* note.jpg, half size: PDQ */
    "Pictures/edited.jpg",                                    /* beach.jpg turned: PDQ */
};

/* Fill the exhibit: copies of the victim's photos (exact, a hard link, a resized and a turned
 * one) among unrelated photos and files. Returns the sha256sum listing of every file. */
static char *fill_exhibit(const struct env *env)
{
    char *mnt = tu_path(env->root, "mnt/fill");
    char *victim = tu_path(env->root, "victim");
    assert_int_equal(tu_sh("mkdir -p '%s' && mount '%s' '%s'", mnt, env->device, mnt), 0);
    copy_file(victim, "beach.jpg", mnt, to_erase[0]);
    char *a = tu_path(mnt, to_erase[0]), *b = tu_path(mnt, to_erase[1]);
    assert_int_equal(tu_sh("mkdir -p \"$(dirname '%s')\" && ln '%s' '%s'", b, a, b), 0);
    free(a), free(b);
    copy_file(victim, "beach.jpg", mnt, to_erase[2]);
    for (int i = 3; i <= 6; i++)
        copy_file(victim, "party.png", mnt, to_erase[i]);
    put_image(mnt, to_erase[7], 303, 640, 480, ROBUST_HALF, 60);
    put_image(mnt, to_erase[8], 101, 1200, 900, ROBUST_ROT180, 80);
    for (int i = 1; i <= 8; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "DCIM/Camera/IMG_05%02d.jpg", i);
        put_image(mnt, rel, 900 + (uint64_t)i, 800, 600, -1, 85);
    }
    put_image(mnt, "WhatsApp/Media/WhatsApp Images/IMG-20260901-WA0002.jpg", 950, 640, 480, -1, 70);
    const char notes[] = "shopping list: milk, bread\n";
    tu_write(mnt, "Documents/notes.txt", notes, sizeof(notes) - 1);
    tu_write_random(mnt, "Documents/tax-return-2025.pdf", 48000, 7);
    char *listing = tu_fingerprint(mnt);
    assert_int_equal(tu_sh("umount '%s'", mnt), 0);
    free(victim);
    free(mnt);
    return listing;
}

/* listing without the lines of the files the run erases */
static char *without_erased(const char *listing)
{
    char *out = calloc(1, strlen(listing) + 1);
    assert_non_null(out);
    for (const char *p = listing; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        bool erased = false;
        for (size_t i = 0; i < sizeof(to_erase) / sizeof(to_erase[0]); i++) {
            char suffix[300];
            snprintf(suffix, sizeof(suffix), "./%s\n", to_erase[i]);
            size_t sl = strlen(suffix);
            if (len >= sl && strncmp(p + len - sl, suffix, sl) == 0)
                erased = true;
        }
        if (!erased)
            strncat(out, p, len);
        p += len;
    }
    return out;
}

/* ---- the guides ---- */

static void test_examiner_guide(void **state)
{
    struct env *env = *state;
    env->root = tu_mkdtemp();
    if (!make_device(env))
        skip();
    make_victim(env);
    /* a list from another source, as received: a VICS export (it matches nothing here) */
    char *fixtures = tu_path(DP_SOURCE_DIR, "fixtures/hashlists");
    char *handover = tu_path(env->root, "handover");
    copy_file(fixtures, "vics-flat.json", handover, "vics-export.json");
    free(fixtures), free(handover);
    char *before = fill_exhibit(env);

    run_guide(env, "docs/examiner-guide.md");

    /* the guide's case file is the committed example */
    char *case_file = tu_path(env->root, "case/case.json");
    char *example = tu_path(DP_SOURCE_DIR, "fixtures/case-example.json");
    json_t *a = tu_load_json(case_file), *b = tu_load_json(example);
    if (!json_equal(a, b))
        fail_msg("docs/examiner-guide.md's case.json is not fixtures/case-example.json");
    json_decref(a), json_decref(b);
    free(case_file), free(example);
    /* the certificate: ERASED, every copy a target, the decisions recorded */
    char *cert = tu_path(env->root, "case/cert.json");
    json_t *c = tu_load_json(cert);
    assert_string_equal(json_string_value(tu_jget(c, "outcome.result")), "ERASED");
    assert_int_equal(json_integer_value(tu_jget(c, "outcome.summary.names")),
                     sizeof(to_erase) / sizeof(to_erase[0]));
    size_t i, confirmed = 0;
    const json_t *t;
    json_array_foreach(json_object_get(c, "targets"), i, t)
    {
        assert_string_equal(json_string_value(tu_jget(t, "status")), "erased");
        assert_string_equal(json_string_value(tu_jget(t, "assurance")),
                            "flash-media-residual-risk");
        confirmed += json_is_string(tu_jget(t, "consent.kind")) &&
                     strcmp(json_string_value(tu_jget(t, "consent.kind")), "confirmed") == 0;
    }
    assert_int_equal(confirmed, 2);
    json_decref(c);
    free(cert);
    /* the exhibit afterwards: the copies gone, every other file byte for byte as it was */
    char *check = tu_path(env->root, "mnt/check");
    assert_int_equal(
        tu_sh("mkdir -p '%s' && mount -o ro,noload '%s' '%s'", check, env->device, check), 0);
    char *after = tu_fingerprint(check);
    assert_int_equal(tu_sh("umount '%s'", check), 0);
    char *want = without_erased(before);
    if (strcmp(after, want) != 0)
        fail_msg("the exhibit after the guide:\n%s\nwant:\n%s", after, want);
    free(want), free(after), free(check), free(before);
}

/* What the examiner hands the auditor (made here, not by the guide): an exhibit erased by
 * `deprive run`, the certificate, its signature and journal, the force's public key. */
static void make_certificate(const struct env *env)
{
    char *victim = tu_path(env->root, "victim");
    char *mnt = tu_path(env->root, "mnt/fill");
    char *work = tu_path(env->root, "examiner");
    char *auditor = tu_path(env->root, "auditor");
    assert_int_equal(
        tu_sh("mkdir -p '%s' '%s' '%s' && mount '%s' '%s'", mnt, work, auditor, env->device, mnt),
        0);
    copy_file(victim, "party.png", mnt, "DCIM/IMG_0007.png");
    copy_file(victim, "party.png", mnt, "Backup/IMG_0007.png");
    for (int i = 1; i <= 4; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "DCIM/IMG_01%02d.jpg", i);
        put_image(mnt, rel, 700 + (uint64_t)i, 640, 480, -1, 85);
    }
    char *party = tu_path(victim, "party.png");
    struct tu_run r;
    tu_deprive(&r, NULL, "hash", party, NULL);
    assert_int_equal(r.status, 0);
    tu_write(work, "victim-hashes.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *list = tu_path(work, "victim-hashes.txt"), *pub = tu_path(work, "force.pub"),
         *sec = tu_path(work, "force.sec"), *cert = tu_path(work, "cert.json"),
         *case_file = tu_path(DP_SOURCE_DIR, "fixtures/case-example.json");
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    tu_deprive(&r, NULL, "-q", "run", "--case", case_file, "--media-class", "hdd", "--hashes", list,
               "--key", sec, "-o", cert, "--yes", mnt, NULL);
    if (r.status != 0)
        fail_msg("run: %d\n%s\n%s", r.status, r.out, r.err);
    tu_run_free(&r);
    assert_int_equal(tu_sh("umount '%s' && cp '%s/cert.json' '%s/cert.json.minisig' "
                           "'%s/cert.json.journal' '%s/force.pub' '%s/'",
                           mnt, work, work, work, work, auditor),
                     0);
    free(list), free(pub), free(sec), free(cert), free(case_file), free(party);
    free(victim), free(mnt), free(work), free(auditor);
}

static void test_auditor_guide(void **state)
{
    struct env *env = *state;
    env->root = tu_mkdtemp();
    if (!make_device(env))
        skip();
    make_victim(env);
    make_certificate(env);
    run_guide(env, "docs/auditor-guide.md");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_examiner_guide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auditor_guide, setup, teardown),
    };
    return cmocka_run_group_tests_name("guides", tests, NULL, NULL);
}
