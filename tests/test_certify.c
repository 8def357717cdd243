/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: the whole certificate round trip on a loop-mounted ext4 filesystem -
 * passphrase key -> run with a case file -> verify (+journal) -> minisign -V -> show -> PDF
 * text -> audit (clean, then with an image put back) -> a signed audit report. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deprive/wipe.h"

struct cfx {
    struct tu_fs fs;
    char *work;
};

static int setup(void **state)
{
    struct cfx *f = calloc(1, sizeof(*f));
    *state = f;
    return f == NULL;
}

static int teardown(void **state)
{
    struct cfx *f = *state;
    tu_fs_destroy(&f->fs);
    if (f->work != NULL) {
        tu_rm_rf(f->work);
        free(f->work);
    }
    free(f);
    return 0;
}

static char *w(const struct cfx *f, const char *name)
{
    return tu_path(f->work, name);
}

static void expect(struct tu_run *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: exit %d (want %d)\nstdout: %s\nstderr: %s", what, r->status, status, r->out,
                 r->err);
}

static void test_round_trip_ext4(void **state)
{
    struct cfx *f = *state;
    if (!tu_fs_create(&f->fs, "ext4", 64))
        skip();
    f->work = tu_mkdtemp();
    const char *m = f->fs.mnt;
    tu_write_random(m, "DCIM/victim.jpg", 80000, 1);
    tu_write_random(m, "Chats/media/victim-copy.jpg", 80000, 1);
    tu_write_random(m, "Chats/media/other.jpg", 80000, 2);
    tu_write_random(m, "keep.txt", 1000, 3);
    char *victim = tu_path(m, "DCIM/victim.jpg");
    struct tu_run r;
    char *hashes = w(f, "hashes.txt"), *pass = w(f, "pass.txt"), *pub = w(f, "force.pub"),
         *sec = w(f, "force.sec"), *cert = w(f, "cert.json"), *journal = w(f, "cert.json.journal"),
         *pdf = w(f, "cert.pdf"), *audit = w(f, "audit.json");
    char *argv_hash[] = {(char *)DP_TEST_BIN, "hash", victim, NULL};
    tu_run_argv(&r, argv_hash, NULL);
    expect(&r, 0, "hash");
    tu_write(f->work, "hashes.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    tu_write(f->work, "pass.txt", "correct horse battery staple\n", 29);
    tu_deprive(&r, NULL, "keygen", "-p", pub, "-s", sec, "--passphrase-file", pass, NULL);
    expect(&r, 0, "keygen");
    char keyid[17] = "";
    const char *k = strstr(r.out, "key id: ");
    assert_non_null(k);
    memcpy(keyid, k + 8, 16);
    tu_run_free(&r);

    tu_deprive(&r, NULL, "run", "--hashes", hashes, "--key", sec, "--passphrase-file", pass, "-o",
               cert, "--case", DP_SOURCE_DIR "/fixtures/case-example.json", "--yes", m, NULL);
    expect(&r, 0, "run");
    assert_non_null(strstr(r.out, "(ERASED)"));
    tu_run_free(&r);
    assert_int_equal(access(victim, F_OK), -1);

    tu_deprive(&r, NULL, "verify", "-p", pub, "--journal", journal, cert, NULL);
    expect(&r, 0, "verify");
    assert_non_null(strstr(r.out, keyid));
    tu_run_free(&r);
    if (tu_have("minisign")) {
        char *argv[] = {"minisign", "-Vm", cert, "-p", pub, NULL};
        tu_run_argv(&r, argv, NULL);
        expect(&r, 0, "minisign -V");
        assert_non_null(strstr(r.out, keyid));
        tu_run_free(&r);
    } else {
        printf("minisign not installed: skipped its verification\n");
    }
    tu_deprive(&r, NULL, "show", "-p", pub, "--pdf", pdf, cert, NULL);
    expect(&r, 0, "show --pdf");
    assert_non_null(strstr(r.out, "DO/2026/04417"));
    tu_run_free(&r);
    if (tu_have("pdftotext")) {
        char *argv[] = {"pdftotext", pdf, "-", NULL};
        tu_run_argv(&r, argv, NULL);
        expect(&r, 0, "pdftotext");
        const char *want[] = {"DO/2026/04417", "AE/1", "ERASED", keyid};
        for (size_t i = 0; i < 4; i++)
            if (strstr(r.out, want[i]) == NULL)
                fail_msg("the PDF text lacks '%s'", want[i]);
        tu_run_free(&r);
    } else {
        printf("pdftotext not installed: skipped the PDF text check\n");
    }

    tu_deprive(&r, NULL, "audit", "--cert", cert, "-p", pub, m, NULL);
    expect(&r, 0, "audit (clean)");
    tu_run_free(&r);
    tu_write_random(m, "Restored/victim.jpg", 80000, 1);
    tu_deprive(&r, NULL, "audit", "--cert", cert, "-p", pub, "--key", sec, "--passphrase-file",
               pass, "-o", audit, m, NULL);
    expect(&r, 1, "audit (image back)");
    tu_run_free(&r);
    if (tu_have("minisign")) {
        char *argv[] = {"minisign", "-Vm", audit, "-p", pub, NULL};
        tu_run_argv(&r, argv, NULL);
        expect(&r, 0, "minisign -V of the audit report");
        tu_run_free(&r);
    }
    /* a second run into the same certificate name is refused before anything is erased */
    tu_deprive(&r, NULL, "run", "--hashes", hashes, "--key", sec, "--passphrase-file", pass, "-o",
               cert, "--case", DP_SOURCE_DIR "/fixtures/case-example.json", "--yes", m, NULL);
    expect(&r, 2, "run over an existing certificate");
    tu_run_free(&r);
    char *restored = tu_path(m, "Restored/victim.jpg");
    assert_int_equal(access(restored, F_OK), 0);
    free(restored);
    free(victim), free(hashes), free(pass), free(pub), free(sec), free(cert), free(journal),
        free(pdf), free(audit);
}

static size_t count_lines(const char *path)
{
    size_t len = 0, n = 0;
    char *b = tu_read(path, &len);
    for (size_t i = 0; b != NULL && i < len; i++)
        n += b[i] == '\n';
    free(b);
    return n;
}

/* A run killed in the middle of its wipe is finished with run --resume: the certificate is
 * made from the first scan's plan and the continued journal. */
static void test_run_resume_after_kill(void **state)
{
    struct cfx *f = *state;
    if (!tu_fs_create(&f->fs, "ext4", 64))
        skip();
    f->work = tu_mkdtemp();
    const char *m = f->fs.mnt;
    char list[8192] = "";
    for (int i = 0; i < 40; i++) {
        char rel[64], hex[65];
        snprintf(rel, sizeof(rel), "d%02d/victim%02d.jpg", i % 7, i);
        tu_write_random(m, rel, 30000 + (size_t)i * 1000, 100 + (uint32_t)i);
        char *p = tu_path(m, rel);
        assert_true(tu_sha256_hex(p, hex));
        free(p);
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, "sha256:%s\n", hex);
    }
    tu_write_random(m, "keep.bin", 5000, 7);
    char keep_before[65], keep_after[65];
    char *keep = tu_path(m, "keep.bin");
    assert_true(tu_sha256_hex(keep, keep_before));
    tu_write(f->work, "hashes.txt", list, strlen(list));
    char *hashes = w(f, "hashes.txt"), *pub = w(f, "k.pub"), *sec = w(f, "k.sec"),
         *cert = w(f, "cert.json"), *journal = w(f, "cert.json.journal");
    struct tu_run r;
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    expect(&r, 0, "keygen");
    tu_run_free(&r);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0), dup2(null, 1), dup2(null, 2);
        execl(DP_TEST_BIN, DP_TEST_BIN, "run", "--hashes", hashes, "--key", sec, "-o", cert,
              "--order", "R/1", "--exhibit", "E/1", "--officer", "PC R", "--yes", m, (char *)NULL);
        _exit(127);
    }
    /* kill it once the wipe is under way (a few records journaled), or let it finish */
    int status = 0;
    for (int i = 0; i < 20000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        if (count_lines(journal) >= 12) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        usleep(500);
    }
    printf("resume: first run %s with %zu journal records\n",
           WIFSIGNALED(status) ? "killed" : "finished", count_lines(journal));
    unlink(cert); /* if the first run got that far, the resumed one makes it again */
    char *minisig = w(f, "cert.json.minisig");
    unlink(minisig);
    free(minisig);
    tu_deprive(&r, NULL, "run", "--resume", "--hashes", hashes, "--key", sec, "-o", cert,
               "--order", "R/1", "--exhibit", "E/1", "--officer", "PC R", "--yes", m, NULL);
    expect(&r, 0, "run --resume");
    assert_non_null(strstr(r.out, "(ERASED)"));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "verify", "-p", pub, "--journal", journal, cert, NULL);
    expect(&r, 0, "verify after resume");
    tu_run_free(&r);
    assert_true(tu_sha256_hex(keep, keep_after));
    assert_string_equal(keep_before, keep_after);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test $(find '%s' -type f | wc -l) -eq 1", m);
    assert_int_equal(tu_sh("%s", cmd), 0); /* only keep.bin: no scrub leftovers */
    free(keep), free(hashes), free(pub), free(sec), free(cert), free(journal);
}

/* Issue 7.3b: a run refused for a read-only root is refused before the scan and writes
 * nothing, so the retry on the remounted filesystem goes through. */
static void test_run_readonly_root_refused_up_front(void **state)
{
    struct cfx *f = *state;
    if (!tu_fs_create(&f->fs, "ext4", 64))
        skip();
    f->work = tu_mkdtemp();
    tu_write_random(f->fs.mnt, "DCIM/victim.jpg", 30000, 5);
    char *victim = tu_path(f->fs.mnt, "DCIM/victim.jpg"), *hashes = w(f, "hashes.txt"),
         *pub = w(f, "k.pub"), *sec = w(f, "k.sec"), *cert = w(f, "cert.json");
    struct tu_run r;
    char *argv_hash[] = {(char *)DP_TEST_BIN, "hash", victim, NULL};
    tu_run_argv(&r, argv_hash, NULL);
    expect(&r, 0, "hash");
    tu_write(f->work, "hashes.txt", r.out, strlen(r.out));
    tu_run_free(&r);
    tu_deprive(&r, NULL, "keygen", "-W", "-p", pub, "-s", sec, NULL);
    expect(&r, 0, "keygen");
    tu_run_free(&r);
    tu_fs_umount(&f->fs);
    assert_true(tu_fs_mount(&f->fs, true));
    tu_deprive(&r, NULL, "run", "--hashes", hashes, "--key", sec, "-o", cert, "--order", "R/1",
               "--exhibit", "E/1", "--officer", "PC R", "--yes", f->fs.mnt, NULL);
    expect(&r, 2, "run on a read-only root");
    assert_non_null(strstr(r.err, "read-only"));
    assert_null(strstr(r.err, "plan:")); /* before the scan */
    tu_run_free(&r);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls '%s' | grep cert.json)\"", f->work);
    assert_int_equal(tu_sh("%s", cmd), 0); /* nothing written */
    tu_fs_umount(&f->fs);
    assert_true(tu_fs_mount(&f->fs, false));
    tu_deprive(&r, NULL, "run", "--hashes", hashes, "--key", sec, "-o", cert, "--order", "R/1",
               "--exhibit", "E/1", "--officer", "PC R", "--yes", f->fs.mnt, NULL);
    expect(&r, 0, "the retry, read-write");
    assert_non_null(strstr(r.out, "(ERASED)"));
    tu_run_free(&r);
    assert_int_equal(access(victim, F_OK), -1);
    free(victim), free(hashes), free(pub), free(sec), free(cert);
}

/* dp_wipe_preflight's journal guard decides "the same filesystem" by identity: a btrfs
 * subvolume has its own st_dev (the old CLI guard compared st_dev and let the journal onto
 * the wiped filesystem), a separately mounted subvolume its own mount id as well. */
static void test_preflight_journal_btrfs(void **state)
{
    struct cfx *f = *state;
    if (!tu_fs_create(&f->fs, "btrfs", 160))
        skip();
    f->work = tu_mkdtemp();
    const char *m = f->fs.mnt;
    char *sub = tu_path(m, "sub"), *subj = tu_path(m, "sub/cert.json.journal");
    char *submnt = tu_path(f->fs.dir, "submnt"), *submj = tu_path(f->fs.dir, "submnt/j");
    char *bind = tu_path(f->fs.dir, "bind"), *bindj = tu_path(f->fs.dir, "bind/j");
    char *elsewhere = w(f, "cert.json.journal"), *rootj = tu_path(m, "j");
    char *nodir = w(f, "missing/j");
    if (tu_sh("btrfs subvolume create '%s' >/dev/null", sub) != 0) {
        printf("btrfs subvolume create failed: skipped\n");
        skip();
    }
    struct stat a, b;
    assert_int_equal(stat(m, &a), 0);
    assert_int_equal(stat(sub, &b), 0);
    assert_true(a.st_dev != b.st_dev); /* what fooled the st_dev comparison */
    mkdir(submnt, 0755);
    mkdir(bind, 0755);
    int mounted_sub =
        tu_sh("mount -o subvol=sub \"$(findmnt -nvo SOURCE '%s')\" '%s'", m, submnt);
    int mounted_bind = tu_sh("mount --bind '%s' '%s'", m, bind);
    struct dp_wipe_opts o = {.method = DP_WIPE_NIST_CLEAR};
    struct dp_error e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0}, e5 = {0}, e6 = {0};
    enum dp_status in_root = dp_wipe_preflight(m, rootj, &o, &e1);
    enum dp_status in_sub = dp_wipe_preflight(m, subj, &o, &e2);
    int in_submnt = mounted_sub == 0 ? (int)dp_wipe_preflight(m, submj, &o, &e3) : -1;
    int in_bind = mounted_bind == 0 ? (int)dp_wipe_preflight(m, bindj, &o, &e4) : -1;
    enum dp_status away = dp_wipe_preflight(m, elsewhere, &o, &e5);
    enum dp_status missing = dp_wipe_preflight(m, nodir, &o, &e6);
    o.journal_on_device = true;
    struct dp_error e7 = {0};
    enum dp_status allowed = dp_wipe_preflight(m, subj, &o, &e7);
    if (mounted_sub == 0)
        tu_sh("umount '%s'", submnt);
    if (mounted_bind == 0)
        tu_sh("umount '%s'", bind);
    assert_int_equal(in_root, DP_ERR_INVALID);
    assert_non_null(strstr(e1.msg, "must not be on the filesystem being wiped"));
    if (in_sub != DP_ERR_INVALID)
        fail_msg("a journal in a btrfs subvolume of the root was allowed: %d %s", in_sub, e2.msg);
    if (mounted_sub == 0 && in_submnt != DP_ERR_INVALID)
        fail_msg("a journal on a separately mounted subvolume was allowed: %s", e3.msg);
    if (mounted_bind == 0 && in_bind != DP_ERR_INVALID)
        fail_msg("a journal on a bind mount of the root was allowed: %s", e4.msg);
    if (away != DP_OK)
        fail_msg("a journal on another filesystem was refused: %s", e5.msg);
    assert_int_equal(missing, DP_ERR_IO);
    assert_non_null(strstr(e6.msg, "missing"));
    if (allowed != DP_OK)
        fail_msg("journal_on_device did not allow it: %s", e7.msg);
    printf("preflight: subvolume mount %s, bind mount %s\n", mounted_sub ? "not tested" : "ok",
           mounted_bind ? "not tested" : "ok");
    free(sub), free(subj), free(submnt), free(submj), free(bind), free(bindj), free(elsewhere),
        free(rootj), free(nodir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_ext4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_resume_after_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_readonly_root_refused_up_front, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_journal_btrfs, setup, teardown),
    };
    return cmocka_run_group_tests_name("certify", tests, NULL, NULL);
}
