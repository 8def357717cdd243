/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: filesystem and medium facts for certificates and wipe decisions. */
#include "deprive/fsinfo.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>

#include "deprive/walk.h"

/* Linux 6.5+; older kernel headers lack it, older kernels answer ENOTTY. */
#ifndef FS_IOC_GETFSUUID
struct fsuuid2 {
    __u8 len;
    __u8 uuid[16];
};
#define FS_IOC_GETFSUUID _IOR(0x15, 0, struct fsuuid2)
#endif

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

static const char *sysfs_root = "/sys";

void dp_fsinfo_set_sysfs_root(const char *root)
{
    sysfs_root = root != NULL ? root : "/sys";
}

static const char *const media_names[DP_MEDIA_CLASS_COUNT] = {"unknown", "hdd", "ssd", "flash"};

const char *dp_media_class_name(enum dp_media_class c)
{
    if ((unsigned)c >= DP_MEDIA_CLASS_COUNT)
        dp_misuse("dp_media_class_name: bad class");
    return media_names[c];
}

bool dp_media_class_parse(const char *name, enum dp_media_class *out)
{
    for (int i = 0; i < DP_MEDIA_CLASS_COUNT; i++) {
        if (strcmp(name, media_names[i]) == 0) {
            *out = (enum dp_media_class)i;
            return true;
        }
    }
    return false;
}

bool dp_media_class_is_flash(enum dp_media_class c)
{
    return c == DP_MEDIA_SSD || c == DP_MEDIA_FLASH;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' &&
            p[3] >= '0' && p[3] <= '7') {
            *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
            p += 3;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* bounded copy that always terminates (snprintf would trip -Wformat-truncation) */
static void scopy(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void copy_field(char *dst, size_t size, const char *src)
{
    scopy(dst, size, src);
    unescape(dst);
}

/* One mountinfo line: id parent maj:min root mountpoint options [optional...] - type source
 * superoptions */
static bool parse_mountinfo_line(char *line, uint64_t want_id, struct dp_fsinfo *out)
{
    char *save = NULL;
    char *tok[6];
    int n = 0;
    for (char *t = strtok_r(line, " \n", &save); t != NULL;) {
        tok[n++] = t;
        if (n == 6)
            break;
        t = strtok_r(NULL, " \n", &save);
    }
    if (n < 6 || strtoull(tok[0], NULL, 10) != want_id)
        return false;
    copy_field(out->mount_point, sizeof(out->mount_point), tok[4]);
    char opts[256];
    scopy(opts, sizeof(opts), tok[5]);
    char *t;
    while ((t = strtok_r(NULL, " \n", &save)) != NULL && strcmp(t, "-") != 0)
        ;
    char *type = strtok_r(NULL, " \n", &save);
    char *source = strtok_r(NULL, " \n", &save);
    char *super = strtok_r(NULL, " \n", &save);
    if (type != NULL) {
        char *dot = strchr(type, '.');
        if (dot != NULL) {
            *dot = '\0';
            copy_field(out->subtype, sizeof(out->subtype), dot + 1);
        }
        copy_field(out->fstype, sizeof(out->fstype), type);
    }
    if (source != NULL)
        copy_field(out->source, sizeof(out->source), source);
    char sup[254];
    scopy(sup, sizeof(sup), super ? super : "");
    snprintf(out->options, sizeof(out->options), "%s%s%s", opts, super ? "," : "", sup);
    out->read_only = strncmp(opts, "ro", 2) == 0 && (opts[2] == ',' || opts[2] == '\0');
    return true;
}

static int read_int_file(const char *path)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    long long v = -1;
    /* NOLINTNEXTLINE(cert-err34-c): a sysfs 0/1 flag; only its sign is kept */
    if (fscanf(f, "%lld", &v) != 1)
        v = -1;
    fclose(f);
    return v < 0 ? -1 : (v > 0 ? 1 : 0);
}

/* The bus a block device hangs off, from its sysfs device path. */
static void transport_of(struct dp_fsinfo *out, const char *real)
{
    const char *t = "";
    if (out->is_loop)
        t = "loop";
    else if (strstr(real, "/usb") != NULL)
        t = "usb";
    else if (strncmp(out->block_name, "mmcblk", 6) == 0 || strstr(real, "/mmc") != NULL)
        t = "mmc";
    else if (strstr(real, "/virtio") != NULL)
        t = "virtio";
    else if (strstr(real, "/nvme") != NULL)
        t = "nvme";
    else if (strstr(real, "/ata") != NULL)
        t = "ata";
    else if (strstr(real, "/host") != NULL)
        t = "scsi";
    scopy(out->transport, sizeof(out->transport), t);
}

/* The medium's class from the facts sysfs gives (an examiner's statement overrides it). */
static void classify_medium(struct dp_fsinfo *out)
{
    enum dp_media_class c = DP_MEDIA_UNKNOWN;
    const char *why = "no block device";
    if (out->have_block && strcmp(out->transport, "mmc") == 0) {
        c = DP_MEDIA_FLASH, why = "MMC/SD transport (flash by construction)";
    } else if (out->have_block && out->rotational == 0) {
        c = DP_MEDIA_SSD, why = "sysfs rotational=0";
    } else if (out->have_block && strcmp(out->transport, "usb") == 0) {
        why = "USB transport: a stick or an enclosure, rotational flag not trusted";
    } else if (out->have_block && strcmp(out->transport, "virtio") == 0) {
        why = "virtual disk: the medium behind it is not visible, rotational flag not trusted";
    } else if (out->have_block && out->rotational == 1) {
        c = DP_MEDIA_HDD, why = "sysfs rotational=1";
    } else if (out->have_block) {
        why = "sysfs does not say whether the medium rotates";
    }
    out->media_class = c;
    scopy(out->media_source, sizeof(out->media_source), why);
}

void dp_fsinfo_set_media_class(struct dp_fsinfo *fs, enum dp_media_class c, const char *source)
{
    fs->media_class = c;
    scopy(fs->media_source, sizeof(fs->media_source), source);
}

void dp_fsinfo_uuid_text(const struct dp_fsinfo *fs, char out[37])
{
    out[0] = '\0';
    if (!fs->have_uuid)
        return;
    const uint8_t *u = fs->uuid;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

static void read_boot_id(char *out, size_t size)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
    out[0] = '\0';
    if (f == NULL)
        return;
    if (fgets(out, (int)size, f) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static void read_uuid(int fd, struct dp_fsinfo *out)
{
    struct fsuuid2 u;
    memset(&u, 0, sizeof(u));
    if (ioctl(fd, FS_IOC_GETFSUUID, &u) == 0 && u.len == 16) {
        static const uint8_t zero[16];
        if (memcmp(u.uuid, zero, 16) != 0) {
            memcpy(out->uuid, u.uuid, 16);
            out->have_uuid = true;
        }
    }
}

static bool is_stacked(const struct dp_fsinfo *fs)
{
    static const char *const kinds[] = {"overlay", "aufs", "unionfs", "mergerfs", "unionfs-fuse",
                                        "fuse-overlayfs", "overlayfs", "shiftfs", "wrapfs"};
    if (fs->fs_magic == OVERLAYFS_SUPER_MAGIC)
        return true;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(fs->fstype, kinds[i]) == 0 || strcmp(fs->subtype, kinds[i]) == 0)
            return true;
    return false;
}

static void block_facts(struct dp_fsinfo *out, uint64_t maj, uint64_t min)
{
    char path[512], real[PATH_MAX];
    snprintf(path, sizeof(path), "%s/dev/block/%llu:%llu", sysfs_root, (unsigned long long)maj,
             (unsigned long long)min);
    if (realpath(path, real) == NULL)
        return;
    out->have_block = true;
    const char *base = strrchr(real, '/');
    scopy(out->block_name, sizeof(out->block_name), base ? base + 1 : real);
    out->is_loop = strncmp(out->block_name, "loop", 4) == 0;
    transport_of(out, real);
    /* a partition's queue/ lives in its parent disk's directory */
    char q[PATH_MAX + 64];
    snprintf(q, sizeof(q), "%s/queue/rotational", real);
    if (access(q, R_OK) != 0)
        snprintf(q, sizeof(q), "%s/../queue/rotational", real);
    out->rotational = read_int_file(q);
    snprintf(q, sizeof(q), "%s/queue/discard_max_bytes", real);
    if (access(q, R_OK) != 0)
        snprintf(q, sizeof(q), "%s/../queue/discard_max_bytes", real);
    out->discard = read_int_file(q);
}

/* FUSE block filesystems (ntfs-3g, exfat-fuse, fusefat) often appear in mountinfo as plain
 * "fuseblk" with no subtype: name them from the boot sector of their source device, read
 * only (no write, nothing on the device changes). */
static void probe_boot_sector(struct dp_fsinfo *out)
{
    if (out->subtype[0] != '\0' || strncmp(out->source, "/dev/", 5) != 0)
        return;
    int fd = open(out->source, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return;
    unsigned char bs[512];
    ssize_t n = pread(fd, bs, sizeof(bs), 0);
    close(fd);
    if (n != (ssize_t)sizeof(bs))
        return;
    const char *kind = NULL;
    if (memcmp(bs + 3, "NTFS    ", 8) == 0)
        kind = "ntfs";
    else if (memcmp(bs + 3, "EXFAT   ", 8) == 0)
        kind = "exfat";
    else if (memcmp(bs + 54, "FAT1", 4) == 0 || memcmp(bs + 82, "FAT32", 5) == 0)
        kind = "vfat";
    if (kind != NULL)
        scopy(out->subtype, sizeof(out->subtype), kind);
}

enum dp_status dp_fsinfo_get(int fd, struct dp_fsinfo *out, struct dp_error *err)
{
    memset(out, 0, sizeof(*out));
    out->rotational = -1;
    out->discard = -1;
    struct dp_file_id id;
    enum dp_status st = dp_file_id_stat(fd, "", &id, err);
    if (st != DP_OK)
        return st;
    out->obj = id;
    out->mnt_id = id.mnt_id;
    read_boot_id(out->boot_id, sizeof(out->boot_id));
    read_uuid(fd, out);
    out->dev_major = id.dev_major;
    out->dev_minor = id.dev_minor;
    struct statfs sfs;
    if (fstatfs(fd, &sfs) == 0)
        out->fs_magic = (uint64_t)sfs.f_type;
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f != NULL) {
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0)
            if (parse_mountinfo_line(line, id.mnt_id, out))
                break;
        free(line);
        fclose(f);
    }
    if (strcmp(out->fstype, "fuseblk") == 0 || strcmp(out->fstype, "fuse") == 0)
        probe_boot_sector(out);
    /* the filesystem's device number, or for FUSE the source device's */
    struct stat sb;
    if (strncmp(out->source, "/dev/", 5) == 0 && stat(out->source, &sb) == 0 &&
        S_ISBLK(sb.st_mode))
        block_facts(out, major(sb.st_rdev), minor(sb.st_rdev));
    else if (out->dev_major != 0)
        block_facts(out, out->dev_major, out->dev_minor);
    classify_medium(out);
    out->stacked = is_stacked(out);
    return DP_OK;
}

const char *dp_fsinfo_kind(const struct dp_fsinfo *fs)
{
    const char *t = fs->fstype;
    if (strcmp(t, "fuseblk") == 0 || strcmp(t, "fuse") == 0) {
        const char *s = fs->subtype;
        if (strstr(s, "ntfs") != NULL)
            return "ntfs";
        if (strstr(s, "exfat") != NULL)
            return "exfat";
        if (strstr(s, "fat") != NULL)
            return "vfat";
        return s[0] ? s : t;
    }
    if (strcmp(t, "ntfs3") == 0)
        return "ntfs";
    if (strcmp(t, "msdos") == 0 || strcmp(t, "fat") == 0)
        return "vfat";
    if (strcmp(t, "ext2") == 0 || strcmp(t, "ext3") == 0)
        return t;
    return t[0] ? t : "unknown";
}

bool dp_fsinfo_is_cow(const struct dp_fsinfo *fs)
{
    const char *k = dp_fsinfo_kind(fs);
    return strcmp(k, "btrfs") == 0 || strcmp(k, "zfs") == 0 || strcmp(k, "f2fs") == 0 ||
           strcmp(k, "nilfs2") == 0 || strcmp(k, "bcachefs") == 0;
}

bool dp_fsinfo_is_in_place(const struct dp_fsinfo *fs)
{
    static const char *const kinds[] = {"ext2", "ext3", "ext4", "xfs", "vfat", "exfat", "ntfs"};
    const char *k = dp_fsinfo_kind(fs);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(k, kinds[i]) == 0)
            return true;
    return false;
}
