/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: perceptual-only findings are a person's decision - the confirmations file,
 * `deprive confirm`, the questions on a terminal, --erase-perceptual, the wipe's re-hash from
 * the device, and what the wipe result, the certificate and a later audit say. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "robust.h"

#include "deprive/confirm.h"
#include "deprive/report.h"
#include "deprive/util.h"

/* A victim's image and a device holding an exact copy, a half-size copy, a copy turned 180
 * degrees and an unrelated photo; the victim's list from `deprive hash`; the scan's plan. */
struct fx {
    char *dir, *dev, *work, *list, *plan;
    char id_copy[8], id_thumb[8], id_turned[8];
    char sha_turned[65], sha_other[65];
};

static void put_png(const char *dir, const char *name, const struct robust_image *im)
{
    char *p = tu_path(dir, name), msg[256];
    if (!robust_write_png(p, im, msg, sizeof(msg)))
        fail_msg("%s: %s", name, msg);
    free(p);
}

static void sha_of(const char *dir, const char *name, char out[65])
{
    char *p = tu_path(dir, name);
    assert_true(tu_sha256_hex(p, out));
    free(p);
}

/* The id of the finding whose location is name. */
static void id_of(const json_t *plan, const char *name, char out[8])
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(plan, "findings"), i, f) {
        const char *loc = json_string_value(json_array_get(json_object_get(f, "location"), 0));
        if (loc != NULL && strcmp(loc, name) == 0) {
            snprintf(out, 8, "%s", json_string_value(json_object_get(f, "id")));
            return;
        }
    }
    fail_msg("no finding for %s", name);
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof(*f));
    f->dir = tu_mkdtemp();
    f->dev = tu_path(f->dir, "dev");
    f->work = tu_path(f->dir, "work");
    assert_int_equal(mkdir(f->dev, 0755), 0);
    assert_int_equal(mkdir(f->work, 0755), 0);
    struct robust_image victim, half, turned, other;
    assert_true(robust_scene(&victim, 480, 360, 777));
    assert_true(robust_scene(&other, 480, 360, 4242));
    assert_true(robust_resize(&half, &victim, 240, 180));
    assert_true(robust_apply(&turned, &victim, ROBUST_ROT180, 0));
    put_png(f->work, "victim.png", &victim);
    put_png(f->dev, "copy.png", &victim);
    put_png(f->dev, "thumb.png", &half);
    put_png(f->dev, "turned.png", &turned);
    put_png(f->dev, "other.png", &other);
    robust_image_free(&victim), robust_image_free(&half), robust_image_free(&turned);
    robust_image_free(&other);
    sha_of(f->dev, "turned.png", f->sha_turned);
    sha_of(f->dev, "other.png", f->sha_other);
    struct tu_run r;
    char *victim_p = tu_path(f->work, "victim.png");
    tu_deprive(&r, NULL, "hash", victim_p, NULL);
    assert_int_equal(r.status, 0);
    tu_write(f->work, "list.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    free(victim_p);
    f->list = tu_path(f->work, "list.txt");
    f->plan = tu_path(f->work, "plan.json");
    tu_deprive(&r, NULL, "scan", "--hashes", f->list, "-o", f->plan, f->dev, NULL);
    if (r.status != 0)
        fail_msg("scan: %d %s", r.status, r.err);
    tu_run_free(&r);
    json_t *plan = tu_load_json(f->plan);
    assert_int_equal(json_array_size(json_object_get(plan, "findings")), 3);
    id_of(plan, "copy.png", f->id_copy);
    id_of(plan, "thumb.png", f->id_thumb);
    id_of(plan, "turned.png", f->id_turned);
    json_decref(plan);
}

static void fx_free(struct fx *f)
{
    tu_rm_rf(f->dir);
    free(f->dir), free(f->dev), free(f->work), free(f->list), free(f->plan);
}

static bool exists(const char *dir, const char *name)
{
    char *p = tu_path(dir, name);
    bool e = access(p, F_OK) == 0;
    free(p);
    return e;
}

/* The wipe result's target whose first name is name. */
static const json_t *target_named(const json_t *res, const char *name)
{
    size_t i;
    const json_t *t;
    json_array_foreach(json_object_get(res, "targets"), i, t) {
        const json_t *loc = tu_jget(json_array_get(json_object_get(t, "names"), 0), "location");
        if (strcmp(json_string_value(json_array_get(loc, 0)), name) == 0)
            return t;
    }
    fail_msg("no target %s", name);
    return NULL;
}

static void expect(struct tu_run *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: exit %d, want %d\nstderr: %.2000s\nstdout: %.2000s", what, r->status,
                 status, r->err, r->out);
}

/* The confirmations file as a library: bound to the plan, decisions replayed, bad ones
 * refused. */
static void test_confirmations_file(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct dp_plan *plan = NULL;
    struct dp_error err = {0};
    assert_int_equal(dp_plan_load(f.plan, &plan, &err), DP_OK);
    size_t thumb = plan->count, turned = plan->count, copy = plan->count;
    for (size_t i = 0; i < plan->count; i++) {
        if (strcmp(plan->targets[i].finding_id, f.id_thumb) == 0)
            thumb = i;
        if (strcmp(plan->targets[i].finding_id, f.id_turned) == 0)
            turned = i;
        if (strcmp(plan->targets[i].finding_id, f.id_copy) == 0)
            copy = i;
    }
    assert_true(plan->targets[thumb].perceptual_only && plan->targets[turned].perceptual_only);
    assert_false(plan->targets[copy].perceptual_only);
    uint8_t sha[32];
    char hex[65], other[65];
    assert_int_equal(dp_sha256_file(f.plan, sha, &err), DP_OK);
    dp_hex_encode(hex, sha, 32);
    char *path = dp_confirm_default_path(f.plan);
    struct dp_confirmations *c = NULL;
    /* read only, no file: no decisions, nothing created */
    assert_int_equal(dp_confirm_open(path, plan, hex, false, &c, &err), DP_OK);
    assert_int_equal(dp_confirm_get(c, thumb)->decision, DP_CONFIRM_NONE);
    assert_int_equal(dp_confirm_close(c, &err), DP_OK);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(dp_confirm_open(path, plan, hex, true, &c, &err), DP_OK);
    assert_int_equal(dp_confirm_record(c, thumb, DP_CONFIRM_REJECTED, "DC A", "command", &err),
                     DP_OK);
    assert_int_equal(dp_confirm_record(c, thumb, DP_CONFIRM_CONFIRMED, "DC B", "command", &err),
                     DP_OK);
    assert_int_equal(dp_confirm_record(c, turned, DP_CONFIRM_REJECTED, "DC A", "interactive",
                                       &err), DP_OK);
    /* an exact match needs no decision; a name with a control character is refused */
    assert_int_equal(dp_confirm_record(c, copy, DP_CONFIRM_CONFIRMED, "DC A", "command", &err),
                     DP_ERR_INVALID);
    assert_int_equal(dp_confirm_record(c, turned, DP_CONFIRM_CONFIRMED, "DC\x1b[2J", "command",
                                       &err), DP_ERR_INVALID);
    assert_int_equal(dp_confirm_close(c, &err), DP_OK);
    assert_int_equal(dp_confirm_open(path, plan, hex, false, &c, &err), DP_OK);
    const struct dp_confirmation *d = dp_confirm_get(c, thumb);
    assert_int_equal(d->decision, DP_CONFIRM_CONFIRMED); /* the last decision wins */
    assert_string_equal(d->examiner, "DC B");
    assert_int_equal(d->seq, 2);
    assert_int_equal(strlen(d->time), 20);
    assert_int_equal(dp_confirm_get(c, turned)->decision, DP_CONFIRM_REJECTED);
    assert_string_equal(dp_confirm_get(c, turned)->how, "interactive");
    assert_int_equal(dp_confirm_records(c), 4); /* binding + 3 decisions */
    assert_int_equal(dp_confirm_close(c, &err), DP_OK);
    /* bound to the plan: another plan's SHA-256 is refused */
    memcpy(other, hex, sizeof(other));
    other[0] = other[0] == '0' ? '1' : '0';
    assert_int_equal(dp_confirm_open(path, plan, other, false, &c, &err), DP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "another plan"));
    /* an edited record breaks the chain */
    size_t len = 0;
    char *text = tu_read(path, &len);
    char *at = strstr(text, "DC B");
    assert_non_null(at);
    at[3] = 'C';
    char *slash = strrchr(path, '/');
    tu_write(f.work, slash + 1, text, len);
    free(text);
    assert_int_equal(dp_confirm_open(path, plan, hex, false, &c, &err), DP_ERR_VERIFY);
    free(path);
    dp_plan_free(plan);
    fx_free(&f);
}

/* deprive confirm, then a wipe: the confirmed copy erased, the rejected one and the unrelated
 * photo untouched; the result says who decided, the distance found at wipe time, and carries
 * every erased image's PDQ. */
static void test_confirm_then_wipe(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct tu_run r;
    tu_deprive(&r, NULL, "confirm", f.plan, "--list", NULL);
    expect(&r, 0, "confirm --list");
    assert_non_null(strstr(r.out, "thumb.png"));
    assert_non_null(strstr(r.out, "decision: none yet"));
    assert_non_null(strstr(r.out, "2 perceptual-only finding(s)"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "confirm", f.plan, "--finding", f.id_copy, "--examiner", "DC A", NULL);
    expect(&r, 2, "confirm an exact match");
    assert_non_null(strstr(r.err, "exact match"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "confirm", f.plan, "--finding", "F99", "--examiner", "DC A", NULL);
    expect(&r, 2, "confirm an unknown id");
    tu_run_free(&r);
    tu_deprive(&r, NULL, "confirm", f.plan, "--finding", f.id_thumb, NULL);
    expect(&r, 2, "confirm without --examiner");
    tu_run_free(&r);
    tu_deprive(&r, NULL, "confirm", f.plan, "--finding", f.id_thumb, "--examiner",
               "DC Alex Example", NULL);
    expect(&r, 0, "confirm");
    tu_run_free(&r);
    tu_deprive(&r, NULL, "confirm", f.plan, "--finding", f.id_turned, "--reject", "--examiner",
               "DC Alex Example", NULL);
    expect(&r, 0, "reject");
    tu_run_free(&r);
    tu_deprive(&r, NULL, "confirm", f.plan, "--list", NULL);
    expect(&r, 0, "confirm --list");
    assert_non_null(strstr(r.out, "decision: confirmed by DC Alex Example (command"));
    assert_non_null(strstr(r.out, "decision: rejected by DC Alex Example (command"));
    tu_run_free(&r);
    char *journal = tu_path(f.work, "journal"), *result = tu_path(f.work, "wipe.json");
    tu_deprive(&r, NULL, "wipe", "--yes", "--order", "ORD-1", "--hashes", f.list, "--journal",
               journal, "-o", result, "--journal-on-same-fs", f.plan, NULL);
    expect(&r, 0, "wipe"); /* every target erased or rejected */
    assert_non_null(strstr(r.out, "1 rejected by the examiner"));
    tu_run_free(&r);
    assert_false(exists(f.dev, "copy.png"));
    assert_false(exists(f.dev, "thumb.png"));
    char sha[65];
    sha_of(f.dev, "turned.png", sha);
    assert_string_equal(sha, f.sha_turned);
    sha_of(f.dev, "other.png", sha);
    assert_string_equal(sha, f.sha_other);
    json_t *res = tu_load_json(result);
    const json_t *thumb = target_named(res, "thumb.png");
    assert_string_equal(json_string_value(tu_jget(thumb, "status")), "erased");
    assert_string_equal(json_string_value(tu_jget(thumb, "consent.kind")), "confirmed");
    const json_t *dec = json_array_get(tu_jget(thumb, "consent.decisions"), 0);
    assert_string_equal(json_string_value(tu_jget(dec, "examiner")), "DC Alex Example");
    assert_string_equal(json_string_value(tu_jget(dec, "finding")), f.id_thumb);
    assert_string_equal(json_string_value(tu_jget(thumb, "match.method")), "pdq");
    assert_true(json_integer_value(tu_jget(thumb, "match.distance")) <= 31);
    assert_true(json_integer_value(tu_jget(thumb, "match.quality")) >= 50);
    assert_int_equal(json_string_length(tu_jget(thumb, "pdq.hash")), 64);
    const json_t *turned = target_named(res, "turned.png");
    assert_string_equal(json_string_value(tu_jget(turned, "status")), "rejected");
    assert_non_null(strstr(json_string_value(tu_jget(turned, "reason")), "not a copy"));
    const json_t *copy = target_named(res, "copy.png");
    assert_string_equal(json_string_value(tu_jget(copy, "status")), "erased");
    assert_int_equal(json_string_length(tu_jget(copy, "pdq.hash")), 64);
    assert_null(tu_jget(copy, "consent"));
    assert_int_equal(json_integer_value(tu_jget(res, "summary.rejected")), 1);
    json_decref(res);
    free(journal), free(result);
    fx_free(&f);
}

/* --erase-perceptual is the examiner's blanket consent, and still no licence: a plan edited
 * to call an unrelated photo a perceptual match gets it re-hashed from the device, and it is
 * left. */
static void test_blanket_consent_and_forged_plan(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct tu_run r;
    /* a plan naming other.png: a scan with a list holding other.png's digest, then edited to
     * say the match was perceptual */
    char *other = tu_path(f.dev, "other.png"), *forged = tu_path(f.work, "forged.json");
    tu_deprive(&r, NULL, "hash", other, NULL);
    expect(&r, 0, "hash other");
    tu_write(f.work, "other.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    char *olist = tu_path(f.work, "other.txt");
    tu_deprive(&r, NULL, "scan", "--hashes", olist, "-o", forged, f.dev, NULL);
    expect(&r, 0, "scan for other");
    tu_run_free(&r);
    json_t *doc = tu_load_json(forged);
    json_t *fd = json_array_get(json_object_get(doc, "findings"), 0);
    assert_non_null(fd);
    json_object_set_new(fd, "perceptual_only", json_true());
    assert_int_equal(json_dump_file(doc, forged, 0), 0);
    json_decref(doc);
    char *journal = tu_path(f.work, "j1"), *result = tu_path(f.work, "w1.json");
    tu_deprive(&r, NULL, "wipe", "--yes", "--erase-perceptual", "--examiner", "DC A", "--order",
               "ORD-1", "--hashes", f.list, "--journal", journal, "-o", result,
               "--journal-on-same-fs", forged, NULL);
    expect(&r, 1, "wipe of a forged plan");
    assert_non_null(strstr(r.out, "no longer a perceptual match"));
    tu_run_free(&r);
    char sha[65];
    sha_of(f.dev, "other.png", sha);
    assert_string_equal(sha, f.sha_other);
    /* blanket consent needs a person */
    tu_deprive(&r, NULL, "wipe", "--yes", "--erase-perceptual", "--order", "ORD-1", "--hashes",
               f.list, "--journal-on-same-fs", f.plan, NULL);
    expect(&r, 2, "--erase-perceptual without an examiner");
    assert_non_null(strstr(r.err, "--examiner"));
    tu_run_free(&r);
    /* without any decision the perceptual-only ones are left */
    char *j2 = tu_path(f.work, "j2"), *w2 = tu_path(f.work, "w2.json");
    tu_deprive(&r, NULL, "wipe", "--yes", "--dry-run", "--order", "ORD-1", "--hashes", f.list,
               "-o", w2, f.plan, NULL);
    expect(&r, 1, "dry run without consent");
    assert_non_null(strstr(r.out, "no examiner has confirmed it"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "wipe", "--yes", "--erase-perceptual", "--officer", "DC Officer",
               "--order", "ORD-1", "--hashes", f.list, "--journal", j2, "-o", w2,
               "--journal-on-same-fs", f.plan, NULL);
    expect(&r, 0, "wipe with blanket consent");
    tu_run_free(&r);
    assert_false(exists(f.dev, "thumb.png"));
    assert_false(exists(f.dev, "turned.png"));
    assert_true(exists(f.dev, "other.png"));
    json_t *res = tu_load_json(w2);
    const json_t *t = target_named(res, "turned.png");
    assert_string_equal(json_string_value(tu_jget(t, "consent.kind")), "blanket");
    assert_string_equal(json_string_value(tu_jget(t, "consent.examiner")), "DC Officer");
    assert_string_equal(json_string_value(tu_jget(t, "match.variant")), "rotate180");
    json_decref(res);
    free(other), free(forged), free(olist), free(journal), free(result), free(j2), free(w2);
    fx_free(&f);
}

/* Run deprive on a pseudo-terminal, typing answers; returns the exit status and everything it
 * printed on the terminal. */
static int on_terminal(const char *answers, char **transcript, ...)
{
    char *argv[40];
    va_list ap;
    va_start(ap, transcript);
    int n = 0;
    argv[n++] = (char *)DP_TEST_BIN;
    for (char *a; n < 39 && (a = va_arg(ap, char *)) != NULL;)
        argv[n++] = a;
    argv[n] = NULL;
    va_end(ap);
    int master = -1;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    assert_true(pid >= 0);
    if (pid == 0) {
        execv(DP_TEST_BIN, argv);
        _exit(127);
    }
    size_t cap = 1 << 16, used = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    assert_true(write(master, answers, strlen(answers)) == (ssize_t)strlen(answers));
    for (;;) {
        struct pollfd p = {.fd = master, .events = POLLIN};
        if (poll(&p, 1, 60000) <= 0)
            break;
        ssize_t k = read(master, out + used, cap - 1 - used);
        if (k <= 0)
            break;
        used += (size_t)k;
        if (used + 1 >= cap)
            break;
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(master);
    *transcript = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* On a terminal the wipe asks about each undecided perceptual-only finding and records the
 * answers (interactive) in the confirmations file. */
static void test_interactive(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    char *journal = tu_path(f.work, "journal"), *result = tu_path(f.work, "wipe.json");
    /* findings are asked in plan order: thumb.png before turned.png */
    char *tr = NULL;
    int st = on_terminal("PC Terminal\ny\nn\ny\n", &tr, "wipe", "--order", "ORD-1", "--hashes",
                         f.list, "--journal", journal, "-o", result, "--journal-on-same-fs",
                         f.plan, (char *)NULL);
    if (st != 0)
        fail_msg("interactive wipe: exit %d\n%s", st, tr);
    assert_non_null(strstr(tr, "examiner's name"));
    assert_non_null(strstr(tr, "a copy, to be erased?"));
    assert_non_null(strstr(tr, "erase these files?"));
    free(tr);
    assert_false(exists(f.dev, "thumb.png"));
    assert_true(exists(f.dev, "turned.png"));
    struct tu_run r;
    tu_deprive(&r, NULL, "confirm", f.plan, "--list", NULL);
    expect(&r, 0, "confirm --list");
    assert_non_null(strstr(r.out, "confirmed by PC Terminal (interactive"));
    assert_non_null(strstr(r.out, "rejected by PC Terminal (interactive"));
    tu_run_free(&r);
    free(journal), free(result);
    fx_free(&f);
}

/* deprive run: the certificate records per target the match, who consented and the PDQ of the
 * erased image; undecided ones make it PARTIAL and are listed as left by decision, not as
 * remaining matches; an audit later finds a re-encoded copy planted after the run. */
static void test_run_certificate_and_audit(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    char *pub = tu_path(f.work, "k.pub"), *sec = tu_path(f.work, "k.sec");
    char *cert1 = tu_path(f.work, "c1.json"), *cert2 = tu_path(f.work, "c2.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    expect(&r, 0, "keygen");
    tu_run_free(&r);
    /* no decision: the exact copy erased, the two others left -> PARTIAL */
    tu_deprive(&r, NULL, "run", "--hashes", f.list, "--key", sec, "-o", cert1, "--order", "R/1",
               "--exhibit", "E/1", "--officer", "PC R", "--journal-on-same-fs", "--yes", f.dev,
               NULL);
    expect(&r, 1, "run without decisions");
    assert_non_null(strstr(r.out, "PARTIAL"));
    tu_run_free(&r);
    json_t *c = tu_load_json(cert1);
    assert_int_equal(json_integer_value(tu_jget(c, "outcome.rescan.findings")), 0);
    assert_int_equal(json_array_size(tu_jget(c, "outcome.rescan.left_by_decision")), 2);
    json_decref(c);
    tu_deprive(&r, NULL, "verify", "-p", pub, cert1, NULL);
    expect(&r, 0, "verify PARTIAL");
    tu_run_free(&r);
    /* blanket consent: everything erased -> ERASED, with who and how */
    tu_deprive(&r, NULL, "run", "--hashes", f.list, "--key", sec, "-o", cert2, "--order", "R/1",
               "--exhibit", "E/1", "--officer", "PC R", "--erase-perceptual",
               "--journal-on-same-fs", "--yes", f.dev, NULL);
    expect(&r, 0, "run with blanket consent");
    tu_run_free(&r);
    c = tu_load_json(cert2);
    size_t i, pdqs = 0;
    const json_t *t;
    json_array_foreach(json_object_get(c, "targets"), i, t) {
        assert_string_equal(json_string_value(tu_jget(t, "status")), "erased");
        assert_int_equal(json_string_length(tu_jget(t, "pdq.hash")), 64);
        pdqs++;
        assert_string_equal(json_string_value(tu_jget(t, "consent.kind")), "blanket");
        assert_string_equal(json_string_value(tu_jget(t, "consent.examiner")), "PC R");
        assert_true(json_integer_value(tu_jget(t, "match.distance")) <= 31);
    }
    assert_int_equal(pdqs, 2); /* the two left by the first run */
    assert_non_null(strstr(json_string_value(tu_jget(c, "hash_set.perceptual_thresholds.decoders")),
                           "libjpeg"));
    json_decref(c);
    tu_deprive(&r, NULL, "verify", "-p", pub, cert2, NULL);
    expect(&r, 0, "verify ERASED");
    tu_run_free(&r);
    tu_deprive(&r, NULL, "show", "-p", pub, cert2, NULL);
    expect(&r, 0, "show");
    assert_non_null(strstr(r.out, "perceptual match at wipe time: PDQ distance"));
    assert_non_null(strstr(r.out, "consent: blanket (--erase-perceptual) by"));
    tu_run_free(&r);
    if (tu_have("pdftotext")) { /* the PDF says the same */
        char *pdf = tu_path(f.work, "c2.pdf");
        tu_deprive(&r, NULL, "show", "-p", pub, "--pdf", pdf, cert2, NULL);
        expect(&r, 0, "show --pdf");
        tu_run_free(&r);
        char *argv[] = {"pdftotext", "-layout", pdf, "-", NULL};
        tu_run_argv(&r, argv, NULL);
        assert_non_null(strstr(r.out, "blanket consent"));
        assert_non_null(strstr(r.out, "perceptual (PDQ distance"));
        tu_run_free(&r);
        free(pdf);
    } else {
        printf("pdftotext not installed: the certificate PDF's text is not checked\n");
    }
    tu_deprive(&r, NULL, "show", "-p", pub, cert1, NULL);
    expect(&r, 0, "show PARTIAL");
    assert_non_null(strstr(r.out, "perceptual candidate, awaiting the examiner's decision"));
    tu_run_free(&r);
    /* a re-encoded copy of an erased image planted afterwards: the audit finds it */
    struct robust_image victim;
    assert_true(robust_scene(&victim, 480, 360, 777));
    struct robust_image turned;
    assert_true(robust_apply(&turned, &victim, ROBUST_ROT180, 0));
    char *planted = tu_path(f.dev, "planted.jpg"), msg[256];
    assert_true(robust_write_jpeg(planted, &turned, 40, msg, sizeof(msg)));
    robust_image_free(&victim), robust_image_free(&turned);
    tu_deprive(&r, NULL, "audit", "--cert", cert2, "-p", pub, f.dev, NULL);
    expect(&r, 1, "audit");
    assert_non_null(strstr(r.out, "planted.jpg"));
    assert_null(strstr(r.out, "other.png"));
    tu_run_free(&r);
    free(planted), free(pub), free(sec), free(cert1), free(cert2);
    fx_free(&f);
}

/* A flat image has a PDQ hash of quality 0: a match on it is reported as low-confidence, and
 * a list entry of quality below 50 is warned about. */
static void test_low_confidence(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp(), *dev = tu_path(dir, "dev");
    assert_int_equal(mkdir(dev, 0755), 0);
    struct robust_image flat = {calloc(64 * 64, 3), 64, 64};
    assert_non_null(flat.px);
    memset(flat.px, 128, 64 * 64 * 3);
    put_png(dev, "flat.png", &flat);
    free(flat.px);
    /* the list holds only the flat image's PDQ (as a list entry of quality 20) */
    struct tu_run r;
    char *flat_p = tu_path(dev, "flat.png");
    tu_deprive(&r, NULL, "hash", flat_p, NULL);
    expect(&r, 0, "hash flat");
    const char *pq = strstr(r.out, "pdq:");
    assert_non_null(pq);
    char line[128];
    snprintf(line, sizeof(line), "%.68s:20\n", pq);
    assert_non_null(strstr(r.out, ":0\n")); /* its own quality: 0 */
    tu_run_free(&r);
    free(flat_p);
    tu_write(dir, "list.txt", line, strlen(line));
    char *list = tu_path(dir, "list.txt"), *plan = tu_path(dir, "plan.json");
    tu_deprive(&r, NULL, "scan", "--hashes", list, "-o", plan, dev, NULL);
    expect(&r, 0, "scan");
    assert_non_null(strstr(r.out, "PERCEPTUAL MATCH (needs confirmation) flat.png"));
    assert_non_null(strstr(r.out, "LOW CONFIDENCE"));
    assert_non_null(strstr(r.out, "1 pdq entry of this list with quality below 50"));
    tu_run_free(&r);
    json_t *doc = tu_load_json(plan);
    const json_t *f = json_array_get(json_object_get(doc, "findings"), 0);
    assert_true(json_is_true(tu_jget(f, "pdq.low_confidence")));
    assert_int_equal(json_integer_value(tu_jget(f, "pdq.quality")), 0);
    json_decref(doc);
    free(list), free(plan), free(dev);
    tu_rm_rf(dir);
    free(dir);
}

/* Windows of a file's bytes found in a raw image: how many of n 32-byte windows, spread over
 * the file, occur in it. */
static size_t windows_in(const char *image, const unsigned char *data, size_t len, size_t n)
{
    size_t ilen = 0, found = 0;
    char *img = tu_read(image, &ilen);
    assert_non_null(img);
    for (size_t k = 0; k < n; k++) {
        size_t off = (len - 32) * (k + 1) / (n + 1);
        found += memmem(img, ilen, data + off, 32) != NULL;
    }
    free(img);
    return found;
}

/* On a loop-mounted ext4 image: deprive run asks on the terminal, the examiner confirms one
 * perceptual copy and rejects the other; the certificate says who confirmed; the raw image no
 * longer holds the erased files' bytes but still holds the rejected one's; an audit finds a
 * re-encoded copy planted afterwards. */
static struct tu_fs loop_fs; /* unmounted and detached by loop_teardown, failed or not */

static int loop_teardown(void **state)
{
    (void)state;
    tu_fs_destroy(&loop_fs);
    memset(&loop_fs, 0, sizeof(loop_fs));
    return 0;
}

static void test_loopfs_confirmed_run(void **state)
{
    (void)state;
    if (!tu_can_loop("confirm loopfs: "))
        skip();
    if (!tu_fs_create(&loop_fs, "ext4", 64))
        skip();
    struct fx f;
    fx_init(&f);
    char *names[] = {"copy.png", "thumb.png", "turned.png", "other.png"};
    unsigned char *data[4];
    size_t len[4];
    for (int i = 0; i < 4; i++) {
        char *from = tu_path(f.dev, names[i]);
        data[i] = (unsigned char *)tu_read(from, &len[i]);
        tu_write(loop_fs.mnt, names[i], data[i], len[i]);
        free(from);
    }
    assert_int_equal(tu_sh("sync"), 0);
    char *pub = tu_path(f.work, "k.pub"), *sec = tu_path(f.work, "k.sec");
    char *cert = tu_path(f.work, "cert.json");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    expect(&r, 0, "keygen");
    tu_run_free(&r);
    /* erase? yes; then thumb.png: a copy; turned.png: not a copy */
    char *tr = NULL;
    int st = on_terminal("y\ny\nn\n", &tr, "run", "--hashes", f.list, "--key", sec, "-o", cert,
                         "--order", "R/1", "--exhibit", "E/1", "--officer", "PC Loop", loop_fs.mnt,
                         (char *)NULL);
    if (st != 0)
        fail_msg("run on a terminal: exit %d\n%s", st, tr);
    free(tr);
    json_t *c = tu_load_json(cert);
    assert_string_equal(json_string_value(tu_jget(c, "outcome.result")), "ERASED");
    size_t i;
    const json_t *t;
    int seen = 0;
    json_array_foreach(json_object_get(c, "targets"), i, t) {
        const char *loc = json_string_value(
            json_array_get(tu_jget(json_array_get(json_object_get(t, "names"), 0), "location"), 0));
        const char *status = json_string_value(tu_jget(t, "status"));
        if (strcmp(loc, "thumb.png") == 0) {
            assert_string_equal(status, "erased");
            const json_t *d = json_array_get(tu_jget(t, "consent.decisions"), 0);
            assert_string_equal(json_string_value(tu_jget(d, "examiner")), "PC Loop");
            assert_string_equal(json_string_value(tu_jget(d, "how")), "interactive");
            seen |= 1;
        } else if (strcmp(loc, "turned.png") == 0) {
            assert_string_equal(status, "rejected");
            seen |= 2;
        } else {
            assert_string_equal(loc, "copy.png");
            assert_string_equal(status, "erased");
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    assert_int_equal(json_array_size(tu_jget(c, "outcome.rescan.left_by_decision")), 1);
    json_decref(c);
    tu_deprive(&r, NULL, "verify", "-p", pub, cert, NULL);
    expect(&r, 0, "verify");
    tu_run_free(&r);
    /* planted after the run: a re-encoded copy, found by the audit */
    struct robust_image victim;
    assert_true(robust_scene(&victim, 480, 360, 777));
    char *planted = tu_path(loop_fs.mnt, "later.jpg"), msg[256];
    assert_true(robust_write_jpeg(planted, &victim, 50, msg, sizeof(msg)));
    robust_image_free(&victim);
    tu_deprive(&r, NULL, "audit", "--cert", cert, "-p", pub, loop_fs.mnt, NULL);
    expect(&r, 1, "audit");
    assert_non_null(strstr(r.out, "later.jpg"));
    tu_run_free(&r);
    tu_fs_umount(&loop_fs);
    /* the raw image: the erased files' bytes are gone, the rejected and unrelated remain */
    size_t left[4];
    for (int k = 0; k < 4; k++)
        left[k] = windows_in(loop_fs.image, data[k], len[k], 16);
    printf("confirm loopfs: windows of 16 left in the image: copy %zu, thumb %zu, turned %zu, "
           "other %zu\n", left[0], left[1], left[2], left[3]);
    assert_int_equal(left[0], 0);
    assert_int_equal(left[1], 0);
    assert_int_equal(left[2], 16);
    assert_int_equal(left[3], 16);
    for (int k = 0; k < 4; k++)
        free(data[k]);
    free(planted), free(pub), free(sec), free(cert);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confirmations_file),
        cmocka_unit_test(test_confirm_then_wipe),
        cmocka_unit_test(test_blanket_consent_and_forged_plan),
        cmocka_unit_test(test_interactive),
        cmocka_unit_test(test_run_certificate_and_audit),
        cmocka_unit_test(test_low_confidence),
        cmocka_unit_test_teardown(test_loopfs_confirmed_run, loop_teardown),
    };
    return cmocka_run_group_tests_name("confirm", tests, NULL, NULL);
}
