/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive tests: fsinfo - the decisions that set the assurance a certificate signs. The
 * canonical kind (FUSE drivers, ntfs3, msdos), copy-on-write and in-place per kind, the media
 * class from a fake sysfs tree (USB, MMC, SATA, NVMe, loop, partitions, missing flags), the
 * examiner's statement, media class names, UUID text; dp_fsinfo_get on real descriptors. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deprive/fsinfo.h"

/* A dp_fsinfo with only the mount type (and FUSE subtype) filled, as mountinfo gives them. */
static struct dp_fsinfo fs_of(const char *fstype, const char *subtype)
{
    struct dp_fsinfo fs;
    memset(&fs, 0, sizeof(fs));
    snprintf(fs.fstype, sizeof(fs.fstype), "%s", fstype);
    snprintf(fs.subtype, sizeof(fs.subtype), "%s", subtype ? subtype : "");
    return fs;
}

/* ---- kinds ---- */

static const struct {
    const char *fstype, *subtype;
    const char *kind;
    bool cow, in_place;
} kinds[] = {
    /* the in-place filesystems */
    {"ext2", NULL, "ext2", false, true},
    {"ext3", NULL, "ext3", false, true},
    {"ext4", NULL, "ext4", false, true},
    {"xfs", NULL, "xfs", false, true},
    {"vfat", NULL, "vfat", false, true},
    {"msdos", NULL, "vfat", false, true},
    {"fat", NULL, "vfat", false, true},
    {"exfat", NULL, "exfat", false, true},
    {"ntfs3", NULL, "ntfs", false, true},
    {"ntfs", NULL, "ntfs", false, true},
    /* FUSE drivers, named by mountinfo's subtype or the boot-sector probe */
    {"fuseblk", "ntfs-3g", "ntfs", false, true},
    {"fuseblk", "lowntfs-3g", "ntfs", false, true},
    {"fuseblk", "ntfs", "ntfs", false, true},
    {"fuseblk", "exfat", "exfat", false, true},
    {"fuseblk", "exfat-fuse", "exfat", false, true},
    {"fuseblk", "fusefat", "vfat", false, true},
    {"fuseblk", "vfat", "vfat", false, true},
    {"fuse", "exfat", "exfat", false, true},
    {"fuse", "ntfs-3g", "ntfs", false, true},
    /* copy-on-write and log-structured */
    {"btrfs", NULL, "btrfs", true, false},
    {"zfs", NULL, "zfs", true, false},
    {"f2fs", NULL, "f2fs", true, false},
    {"nilfs2", NULL, "nilfs2", true, false},
    {"bcachefs", NULL, "bcachefs", true, false},
    /* neither: nothing can be claimed about where the data went */
    {"tmpfs", NULL, "tmpfs", false, false},
    {"overlay", NULL, "overlay", false, false},
    {"nfs4", NULL, "nfs4", false, false},
    {"fuse", "sshfs", "sshfs", false, false},
    {"fuse", "fuse-overlayfs", "fuse-overlayfs", false, false},
    {"fuseblk", NULL, "fuseblk", false, false}, /* a FUSE driver nobody named */
    {"fuse", NULL, "fuse", false, false},
    {"", NULL, "unknown", false, false},
    {"EXT4", NULL, "EXT4", false, false}, /* mountinfo types are lower case: no guessing */
    {"ext4dev", NULL, "ext4dev", false, false},
};

static void test_kind(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct dp_fsinfo fs = fs_of(kinds[i].fstype, kinds[i].subtype);
        const char *k = dp_fsinfo_kind(&fs);
        if (strcmp(k, kinds[i].kind) != 0)
            fail_msg("%s.%s: kind '%s', want '%s'", kinds[i].fstype,
                     kinds[i].subtype ? kinds[i].subtype : "", k, kinds[i].kind);
    }
}

static void test_cow_and_in_place(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct dp_fsinfo fs = fs_of(kinds[i].fstype, kinds[i].subtype);
        bool cow = dp_fsinfo_is_cow(&fs), inp = dp_fsinfo_is_in_place(&fs);
        if (cow != kinds[i].cow || inp != kinds[i].in_place)
            fail_msg("%s.%s: cow %d in place %d, want %d %d", kinds[i].fstype,
                     kinds[i].subtype ? kinds[i].subtype : "", cow, inp, kinds[i].cow,
                     kinds[i].in_place);
        /* never both */
        assert_false(cow && inp);
    }
    /* only the type and subtype decide, not the medium or the options */
    struct dp_fsinfo fs = fs_of("btrfs", NULL);
    fs.rotational = 1;
    fs.have_block = true;
    fs.media_class = DP_MEDIA_HDD;
    snprintf(fs.options, sizeof(fs.options), "rw,nodatacow");
    assert_true(dp_fsinfo_is_cow(&fs));
    assert_false(dp_fsinfo_is_in_place(&fs));
}

/* ---- media class names ---- */

static void test_media_class_names(void **state)
{
    (void)state;
    static const char *const names[DP_MEDIA_CLASS_COUNT] = {"unknown", "hdd", "ssd", "flash"};
    for (int c = 0; c < DP_MEDIA_CLASS_COUNT; c++) {
        assert_string_equal(dp_media_class_name((enum dp_media_class)c), names[c]);
        enum dp_media_class back = DP_MEDIA_CLASS_COUNT;
        assert_true(dp_media_class_parse(names[c], &back));
        assert_int_equal(back, c);
    }
    assert_int_equal(DP_MEDIA_UNKNOWN, 0); /* a zeroed struct says "unknown" */
    static const char *const bad[] = {"", "HDD", "Ssd", "hdd ", " hdd", "hd", "hdd\n",
                                      "spinning", "sd", "flashh", "unknown2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum dp_media_class out = DP_MEDIA_FLASH;
        if (dp_media_class_parse(bad[i], &out))
            fail_msg("'%s' parsed as a media class", bad[i]);
        assert_int_equal(out, DP_MEDIA_FLASH); /* untouched */
    }
    assert_false(dp_media_class_is_flash(DP_MEDIA_UNKNOWN));
    assert_false(dp_media_class_is_flash(DP_MEDIA_HDD));
    assert_true(dp_media_class_is_flash(DP_MEDIA_SSD));
    assert_true(dp_media_class_is_flash(DP_MEDIA_FLASH));
}

/* A class outside the enum is a caller's bug: dp_misuse aborts. */
static void test_media_class_name_misuse(void **state)
{
    (void)state;
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);
        (void)dp_media_class_name(DP_MEDIA_CLASS_COUNT);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* ---- the examiner's statement ---- */

static void test_set_media_class(void **state)
{
    (void)state;
    struct dp_fsinfo fs = fs_of("ext4", NULL);
    fs.have_block = true;
    fs.rotational = 1;
    fs.media_class = DP_MEDIA_HDD;
    snprintf(fs.media_source, sizeof(fs.media_source), "sysfs rotational=1");
    dp_fsinfo_set_media_class(&fs, DP_MEDIA_FLASH, "--media-class");
    assert_int_equal(fs.media_class, DP_MEDIA_FLASH);
    assert_string_equal(fs.media_source, "--media-class");
    /* the sysfs facts stay as they were: only the class and its source change */
    assert_int_equal(fs.rotational, 1);
    assert_true(fs.have_block);
    /* a long source is cut to the field, terminated */
    char longsrc[200];
    memset(longsrc, 'x', sizeof(longsrc) - 1);
    longsrc[sizeof(longsrc) - 1] = '\0';
    dp_fsinfo_set_media_class(&fs, DP_MEDIA_UNKNOWN, longsrc);
    assert_int_equal(fs.media_class, DP_MEDIA_UNKNOWN);
    assert_int_equal(strlen(fs.media_source), sizeof(fs.media_source) - 1);
    assert_memory_equal(fs.media_source, longsrc, sizeof(fs.media_source) - 1);
    dp_fsinfo_set_media_class(&fs, DP_MEDIA_HDD, "");
    assert_int_equal(fs.media_class, DP_MEDIA_HDD);
    assert_string_equal(fs.media_source, "");
}

/* ---- UUID text ---- */

static void test_uuid_text(void **state)
{
    (void)state;
    struct dp_fsinfo fs = fs_of("ext4", NULL);
    char out[37];
    memset(out, '#', sizeof(out));
    dp_fsinfo_uuid_text(&fs, out);
    assert_string_equal(out, ""); /* no UUID: empty */
    for (int i = 0; i < 16; i++)
        fs.uuid[i] = (uint8_t)(i * 0x11);
    memset(out, '#', sizeof(out));
    dp_fsinfo_uuid_text(&fs, out);
    assert_string_equal(out, ""); /* bytes without have_uuid are not a UUID */
    fs.have_uuid = true;
    dp_fsinfo_uuid_text(&fs, out);
    assert_string_equal(out, "00112233-4455-6677-8899-aabbccddeeff");
    memset(fs.uuid, 0xff, 16);
    dp_fsinfo_uuid_text(&fs, out);
    assert_string_equal(out, "ffffffff-ffff-ffff-ffff-ffffffffffff");
    static const uint8_t u[16] = {0x6f, 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60,
                                  0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8};
    memcpy(fs.uuid, u, 16);
    dp_fsinfo_uuid_text(&fs, out);
    assert_string_equal(out, "6f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8");
    assert_int_equal(strlen(out), 36);
}

/* ---- dp_fsinfo_get on real descriptors ---- */

static char *read_line(const char *path)
{
    char *s = tu_read(path, NULL);
    assert_non_null(s);
    s[strcspn(s, "\n")] = '\0';
    return s;
}

static void test_get_temp_dir(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    tu_write(dir, "f", "x", 1);
    char *fp = tu_path(dir, "f");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY), ffd = open(fp, O_RDONLY);
    assert_true(dfd >= 0 && ffd >= 0);
    struct dp_fsinfo fs, ff;
    memset(&fs, 0x5a, sizeof(fs)); /* every field is set, none left from before */
    assert_int_equal(dp_fsinfo_get(dfd, &fs, NULL), DP_OK);
    assert_int_equal(dp_fsinfo_get(ffd, &ff, NULL), DP_OK);
    struct stat sd, sf;
    assert_int_equal(fstat(dfd, &sd), 0);
    assert_int_equal(fstat(ffd, &sf), 0);
    /* the object itself */
    assert_int_equal(fs.obj.ino, sd.st_ino);
    assert_int_equal(ff.obj.ino, sf.st_ino);
    assert_true(S_ISDIR(fs.obj.mode));
    /* its filesystem: device, statfs magic, mountinfo type, mount point above it */
    assert_int_equal(fs.dev_major, major(sd.st_dev));
    assert_int_equal(fs.dev_minor, minor(sd.st_dev));
    struct statfs sfs;
    assert_int_equal(fstatfs(dfd, &sfs), 0);
    assert_int_equal(fs.fs_magic, (uint64_t)sfs.f_type);
    assert_true(fs.fstype[0] != '\0');
    assert_true(fs.mount_point[0] == '/');
    char *real = realpath(dir, NULL);
    assert_non_null(real);
    size_t ml = strlen(fs.mount_point);
    assert_true(strcmp(fs.mount_point, "/") == 0 ||
                (strncmp(real, fs.mount_point, ml) == 0 && (real[ml] == '/' || !real[ml])));
    assert_true(fs.mnt_id != 0);
    assert_int_equal(fs.mnt_id, fs.obj.mnt_id);
    assert_false(fs.read_only); /* we just wrote there */
    if (fs.fs_magic != 0x794c7630 && strcmp(fs.fstype, "overlay") != 0 &&
        strncmp(fs.fstype, "fuse", 4) != 0)
        assert_false(fs.stacked);
    /* the same filesystem from a file on it */
    assert_string_equal(ff.fstype, fs.fstype);
    assert_string_equal(ff.source, fs.source);
    assert_int_equal(ff.mnt_id, fs.mnt_id);
    assert_int_equal(ff.have_uuid, fs.have_uuid);
    if (fs.have_uuid)
        assert_memory_equal(ff.uuid, fs.uuid, 16);
    assert_int_equal(ff.media_class, fs.media_class);
    /* the boot this ran in */
    char *boot = read_line("/proc/sys/kernel/random/boot_id");
    assert_string_equal(fs.boot_id, boot);
    free(boot);
    /* facts never half-set */
    assert_true(fs.rotational >= -1 && fs.rotational <= 1);
    assert_true(fs.discard >= -1 && fs.discard <= 1);
    assert_true(fs.media_class < DP_MEDIA_CLASS_COUNT);
    assert_true(fs.media_source[0] != '\0');
    assert_true(memchr(fs.transport, '\0', sizeof(fs.transport)) != NULL);
    assert_true(memchr(fs.block_name, '\0', sizeof(fs.block_name)) != NULL);
    if (!fs.have_block) {
        assert_int_equal(fs.rotational, -1);
        assert_int_equal(fs.media_class, DP_MEDIA_UNKNOWN);
    }
    printf("# temp dir: %s (%s) on %s, block %s, transport '%s', media %s (%s)\n",
           dp_fsinfo_kind(&fs), fs.fstype, fs.source, fs.have_block ? fs.block_name : "-",
           fs.transport, dp_media_class_name(fs.media_class), fs.media_source);
    close(dfd);
    close(ffd);
    tu_rm_rf(dir);
    free(dir), free(fp), free(real);
}

/* Pseudo filesystems: no block device, so nothing is known of the medium. */
static void test_get_pseudo(void **state)
{
    (void)state;
    static const struct {
        const char *path, *fstype;
    } v[] = {{"/proc", "proc"}, {"/dev/shm", "tmpfs"}};
    size_t done = 0;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int fd = open(v[i].path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
            continue;
        struct dp_fsinfo fs;
        assert_int_equal(dp_fsinfo_get(fd, &fs, NULL), DP_OK);
        close(fd);
        if (strcmp(fs.fstype, v[i].fstype) != 0) {
            printf("# %s is %s here, not %s\n", v[i].path, fs.fstype, v[i].fstype);
            continue;
        }
        assert_string_equal(dp_fsinfo_kind(&fs), v[i].fstype);
        assert_false(fs.have_block);
        assert_int_equal(fs.media_class, DP_MEDIA_UNKNOWN);
        assert_string_equal(fs.media_source, "no block device");
        assert_false(dp_fsinfo_is_in_place(&fs));
        assert_false(dp_fsinfo_is_cow(&fs));
        done++;
    }
    if (done == 0) {
        printf("pseudo filesystems: skipped: neither /proc nor /dev/shm is what it should be\n");
        skip();
    }
}

static void test_get_bad_fd(void **state)
{
    (void)state;
    struct dp_fsinfo fs;
    struct dp_error e = {0};
    assert_int_equal(dp_fsinfo_get(-1, &fs, &e), DP_ERR_IO);
    assert_int_equal(e.sys_errno, EBADF);
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(dp_fsinfo_get(fd, &fs, NULL), DP_ERR_IO);
}

/* ---- the medium, from a fake sysfs ---- */

struct sysfx {
    char *tmp;      /* holds sys/ */
    char *sys;      /* the fake sysfs root */
    char *probe;    /* a directory on a filesystem with a block device */
    unsigned maj, min; /* what dp_fsinfo_get looks up under dev/block/ */
};

/* A directory whose filesystem has a block device behind it: the temp dir, else the build
 * tree. Returns false when neither has one (everything on tmpfs or overlay). */
static bool find_block_backed(struct sysfx *s)
{
    const char *cands[] = {s->tmp, DP_BUILD_DIR, DP_SOURCE_DIR};
    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
        int fd = open(cands[i], O_RDONLY | O_DIRECTORY);
        if (fd < 0)
            continue;
        struct dp_fsinfo fs;
        struct stat sb, ds;
        bool ok = dp_fsinfo_get(fd, &fs, NULL) == DP_OK && fstat(fd, &sb) == 0;
        close(fd);
        if (!ok)
            continue;
        /* the lookup dp_fsinfo_get makes: the source device, else st_dev */
        unsigned maj = major(sb.st_dev), min = minor(sb.st_dev);
        if (strncmp(fs.source, "/dev/", 5) == 0 && stat(fs.source, &ds) == 0 &&
            S_ISBLK(ds.st_mode))
            maj = major(ds.st_rdev), min = minor(ds.st_rdev);
        else if (maj == 0)
            continue;
        s->probe = strdup(cands[i]);
        s->maj = maj;
        s->min = min;
        return true;
    }
    return false;
}

static int sys_setup(void **state)
{
    struct sysfx *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->tmp = tu_mkdtemp();
    s->sys = tu_path(s->tmp, "sys");
    *state = s;
    return 0;
}

static int sys_teardown(void **state)
{
    struct sysfx *s = *state;
    dp_fsinfo_set_sysfs_root(NULL);
    tu_rm_rf(s->tmp);
    free(s->tmp), free(s->sys), free(s->probe);
    free(s);
    return 0;
}

/* Build sys/ afresh: devpath is the block device's directory under sys/ (relative), flags
 * the queue/ files to write ("rotational=1", "discard_max_bytes=0"), in the directory named
 * by queue_at ("" the device itself, ".." its parent disk, NULL none). */
static void make_sys(struct sysfx *s, const char *devpath, const char *queue_at,
                     const char *rotational, const char *discard)
{
    assert_int_equal(tu_sh("rm -rf '%s' && mkdir -p '%s/dev/block' '%s/%s'", s->sys, s->sys,
                           s->sys, devpath),
                     0);
    if (queue_at != NULL) {
        char q[1024];
        snprintf(q, sizeof(q), "%s/%s/%s/queue", s->sys, devpath, queue_at);
        assert_int_equal(tu_sh("mkdir -p '%s'", q), 0);
        if (rotational != NULL)
            assert_int_equal(tu_sh("printf '%%s\\n' '%s' > '%s/rotational'", rotational, q), 0);
        if (discard != NULL)
            assert_int_equal(tu_sh("printf '%%s\\n' '%s' > '%s/discard_max_bytes'", discard, q),
                             0);
    }
    assert_int_equal(
        tu_sh("ln -s '%s/%s' '%s/dev/block/%u:%u'", s->sys, devpath, s->sys, s->maj, s->min), 0);
}

static struct dp_fsinfo get_with_sys(const struct sysfx *s)
{
    dp_fsinfo_set_sysfs_root(s->sys);
    int fd = open(s->probe, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    struct dp_fsinfo fs;
    enum dp_status st = dp_fsinfo_get(fd, &fs, NULL);
    close(fd);
    dp_fsinfo_set_sysfs_root(NULL);
    assert_int_equal(st, DP_OK);
    return fs;
}

#define USB "devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb"
#define ATA "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda"
#define MMC "devices/platform/soc/mmc0/mmc_host/mmc0/mmc0:0001/block/mmcblk0"
#define NVME "devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"
#define VIRTIO "devices/pci0000:00/0000:00:05.0/virtio2/block/vda"
#define SCSI "devices/pci0000:00/0000:00:10.0/host2/target2:0:0/2:0:0:0/block/sdc"
#define LOOP "devices/virtual/block/loop3"

static void test_media_from_sysfs(void **state)
{
    struct sysfx *s = *state;
    if (strstr(s->tmp, "/usb") || strstr(s->tmp, "/mmc") || strstr(s->tmp, "/ata") ||
        strstr(s->tmp, "/nvme") || strstr(s->tmp, "/virtio") || strstr(s->tmp, "/host")) {
        printf("media from sysfs: skipped: the temp dir '%s' contains a bus name\n", s->tmp);
        skip();
    }
    if (!find_block_backed(s)) {
        printf("media from sysfs: skipped: no directory here is on a block device (tmpfs or "
               "overlay everywhere), so dp_fsinfo_get never looks at sysfs\n");
        skip();
    }
    static const struct {
        const char *what;
        const char *devpath, *queue_at, *rotational, *discard;
        const char *block, *transport;
        int rot, disc;
        enum dp_media_class cls;
        const char *source; /* in media_source */
    } v[] = {
        {"USB claiming to rotate: a stick or an enclosure", USB, "", "1", "0", "sdb", "usb", 1, 0,
         DP_MEDIA_UNKNOWN, "USB transport"},
        {"USB without a rotational flag", USB, "", NULL, NULL, "sdb", "usb", -1, -1,
         DP_MEDIA_UNKNOWN, "USB transport"},
        {"USB non-rotational", USB, "", "0", "4096", "sdb", "usb", 0, 1, DP_MEDIA_SSD,
         "rotational=0"},
        {"SD card claiming to rotate", MMC, "", "1", NULL, "mmcblk0", "mmc", 1, -1,
         DP_MEDIA_FLASH, "MMC"},
        {"SD card, non-rotational", MMC, "", "0", NULL, "mmcblk0", "mmc", 0, -1, DP_MEDIA_FLASH,
         "MMC"},
        {"SATA non-rotational", ATA, "", "0", "2147450880", "sda", "ata", 0, 1, DP_MEDIA_SSD,
         "sysfs rotational=0"},
        {"SATA rotational", ATA, "", "1", "0", "sda", "ata", 1, 0, DP_MEDIA_HDD,
         "sysfs rotational=1"},
        {"SATA without a rotational flag", ATA, NULL, NULL, NULL, "sda", "ata", -1, -1,
         DP_MEDIA_UNKNOWN, "does not say"},
        {"SATA with a rotational flag that is not a number", ATA, "", "spinning", NULL, "sda",
         "ata", -1, -1, DP_MEDIA_UNKNOWN, "does not say"},
        {"SATA partition: the flag of its disk", ATA "/sda1", "..", "1", "0", "sda1", "ata", 1, 0,
         DP_MEDIA_HDD, "sysfs rotational=1"},
        {"NVMe", NVME, "", "0", "4096", "nvme0n1", "nvme", 0, 1, DP_MEDIA_SSD, "rotational=0"},
        {"virtio disk claiming to rotate: the host's medium is not visible", VIRTIO, "", "1",
         "512", "vda", "virtio", 1, 1, DP_MEDIA_UNKNOWN, "virtual disk"},
        {"SCSI host", SCSI, "", "1", NULL, "sdc", "scsi", 1, -1, DP_MEDIA_HDD, "rotational=1"},
        {"loop device follows its flag", LOOP, "", "1", "4096", "loop3", "loop", 1, 1,
         DP_MEDIA_HDD, "rotational=1"},
        {"loop device, non-rotational", LOOP, "", "0", NULL, "loop3", "loop", 0, -1,
         DP_MEDIA_SSD, "rotational=0"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        make_sys(s, v[i].devpath, v[i].queue_at, v[i].rotational, v[i].discard);
        struct dp_fsinfo fs = get_with_sys(s);
        char got[512];
        snprintf(got, sizeof(got),
                 "block %d '%s', transport '%s', rotational %d, discard %d, class %s (%s)",
                 fs.have_block, fs.block_name, fs.transport, fs.rotational, fs.discard,
                 dp_media_class_name(fs.media_class), fs.media_source);
        if (!fs.have_block || strcmp(fs.block_name, v[i].block) != 0 ||
            strcmp(fs.transport, v[i].transport) != 0 || fs.rotational != v[i].rot ||
            fs.discard != v[i].disc || fs.media_class != v[i].cls ||
            strstr(fs.media_source, v[i].source) == NULL)
            fail_msg("%s: got %s; want '%s' '%s' rotational %d discard %d class %s (%s)",
                     v[i].what, got, v[i].block, v[i].transport, v[i].rot, v[i].disc,
                     dp_media_class_name(v[i].cls), v[i].source);
        assert_int_equal(fs.is_loop, strcmp(v[i].transport, "loop") == 0);
    }
}

/* No dev/block entry for the device: no block facts, unknown; and the default comes back. */
static void test_media_no_block_entry(void **state)
{
    struct sysfx *s = *state;
    if (s->probe == NULL && !find_block_backed(s)) {
        printf("no block entry: skipped: no directory here is on a block device\n");
        skip();
    }
    int fd = open(s->probe, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    struct dp_fsinfo real1, fake, real2;
    assert_int_equal(dp_fsinfo_get(fd, &real1, NULL), DP_OK);
    assert_int_equal(tu_sh("rm -rf '%s' && mkdir -p '%s/dev/block'", s->sys, s->sys), 0);
    dp_fsinfo_set_sysfs_root(s->sys);
    assert_int_equal(dp_fsinfo_get(fd, &fake, NULL), DP_OK);
    dp_fsinfo_set_sysfs_root(NULL);
    assert_int_equal(dp_fsinfo_get(fd, &real2, NULL), DP_OK);
    close(fd);
    assert_false(fake.have_block);
    assert_string_equal(fake.block_name, "");
    assert_string_equal(fake.transport, "");
    assert_int_equal(fake.rotational, -1);
    assert_int_equal(fake.discard, -1);
    assert_int_equal(fake.media_class, DP_MEDIA_UNKNOWN);
    assert_string_equal(fake.media_source, "no block device");
    /* what does not come from sysfs is the same */
    assert_string_equal(fake.fstype, real1.fstype);
    assert_int_equal(fake.mnt_id, real1.mnt_id);
    /* NULL restores /sys: the same answer as before the fake */
    assert_int_equal(real2.have_block, real1.have_block);
    assert_string_equal(real2.block_name, real1.block_name);
    assert_string_equal(real2.transport, real1.transport);
    assert_int_equal(real2.rotational, real1.rotational);
    assert_int_equal(real2.media_class, real1.media_class);
    assert_string_equal(real2.media_source, real1.media_source);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind),
        cmocka_unit_test(test_cow_and_in_place),
        cmocka_unit_test(test_media_class_names),
        cmocka_unit_test(test_media_class_name_misuse),
        cmocka_unit_test(test_set_media_class),
        cmocka_unit_test(test_uuid_text),
        cmocka_unit_test(test_get_temp_dir),
        cmocka_unit_test(test_get_pseudo),
        cmocka_unit_test(test_get_bad_fd),
        cmocka_unit_test_setup_teardown(test_media_from_sysfs, sys_setup, sys_teardown),
        cmocka_unit_test_setup_teardown(test_media_no_block_entry, sys_setup, sys_teardown),
    };
    return cmocka_run_group_tests_name("fsinfo", tests, NULL, NULL);
}
