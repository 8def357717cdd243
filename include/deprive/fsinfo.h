/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: what filesystem and medium an open file lives on (mountinfo, statfs, sysfs). */
#ifndef DEPRIVE_FSINFO_H
#define DEPRIVE_FSINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "deprive/error.h"
#include "deprive/walk.h"

/* What kind of medium holds the filesystem: it decides whether an in-place overwrite can be
 * claimed to reach the old cells. Flash (SSD, USB sticks, SD cards) remaps writes. */
enum dp_media_class {
    DP_MEDIA_UNKNOWN = 0, /* "unknown": never rated "in place, verified" */
    DP_MEDIA_HDD,         /* "hdd": a spinning disk, writes land where they are addressed */
    DP_MEDIA_SSD,         /* "ssd": flash behind a controller (wear levelling) */
    DP_MEDIA_FLASH,       /* "flash": USB stick, SD/MMC card, eMMC */
    DP_MEDIA_CLASS_COUNT
};
const char *dp_media_class_name(enum dp_media_class c);
bool dp_media_class_parse(const char *name, enum dp_media_class *out) DP_WUR;
/* Remaps writes (ssd, flash): old copies may survive an overwrite. */
bool dp_media_class_is_flash(enum dp_media_class c);

struct dp_fsinfo {
    char fstype[32];      /* from mountinfo: "ext4", "xfs", "btrfs", "fuseblk", "vfat"... */
    char subtype[32];     /* FUSE: the driver's name where mountinfo says ("ntfs-3g"...) */
    char source[256];     /* mount source ("/dev/loop0") */
    char mount_point[512];
    char options[512];    /* per-mount and superblock options, comma-joined */
    uint64_t mnt_id;
    uint64_t dev_major, dev_minor; /* st_dev of the filesystem */
    uint64_t fs_magic;    /* statfs f_type */
    bool read_only;
    /* Backing block device facts (from sysfs), when the source is a block device. */
    bool have_block;      /* false for FUSE without a block source, tmpfs, overlay ... */
    char block_name[64];  /* "loop0", "sda1" */
    int rotational;       /* 1 spinning, 0 not (flash or virtual), -1 unknown */
    int discard;          /* 1 supports discard/TRIM, 0 no, -1 unknown */
    bool is_loop;         /* a loop device (a file on another filesystem) */
    char transport[16];   /* "usb", "mmc", "loop", "virtio", "ata", "nvme", "scsi", "" unknown */
    enum dp_media_class media_class; /* from the facts above (see dp_fsinfo_get) */
    char media_source[128];          /* how media_class was decided ("rotational=1", ...) */
    /* Identity, to recognise the same filesystem and object later (a resume after a reboot
     * renumbers st_dev and loop devices). */
    bool have_uuid;
    uint8_t uuid[16];     /* FS_IOC_GETFSUUID (ext4, xfs, btrfs ...; not FUSE) */
    char boot_id[40];     /* /proc/sys/kernel/random/boot_id: mount ids compare within a boot */
    struct dp_file_id obj; /* the object fd refers to (inode, birth time, generation) */
    bool stacked;         /* overlayfs or another stacked filesystem: a read-write open copies
                             the file up and the lower layer keeps the original */
};

/* Facts for the filesystem holding fd. Missing facts are left unknown; fails only when fd
 * cannot be stat'ed. The media class comes from sysfs: non-rotational means ssd; an MMC
 * transport means flash; a USB transport alone means unknown (USB hard-disk enclosures are
 * common, and USB sticks often claim to be rotational), and so does a virtio disk (the host's
 * medium is not visible to the guest); otherwise rotational means hdd. */
enum dp_status dp_fsinfo_get(int fd, struct dp_fsinfo *out, struct dp_error *err) DP_WUR;

/* Where dp_fsinfo_get reads sysfs ("/sys" by default; tests point it at a fake tree). Not
 * thread-safe: set it before any scan or wipe. NULL restores the default. */
void dp_fsinfo_set_sysfs_root(const char *root);

/* An examiner's statement of the medium overrides what sysfs suggests; source says where it
 * came from ("--media-class", "case file"). */
void dp_fsinfo_set_media_class(struct dp_fsinfo *fs, enum dp_media_class c, const char *source);

/* Filesystem UUID as text (36 chars + NUL), "" when unknown. */
void dp_fsinfo_uuid_text(const struct dp_fsinfo *fs, char out[37]);

/* A canonical filesystem name: "ext4", "xfs", "btrfs", "vfat", "exfat", "ntfs", "f2fs",
 * "zfs", "tmpfs", ... (FUSE drivers mapped to what they implement), else fstype. */
const char *dp_fsinfo_kind(const struct dp_fsinfo *fs);

/* Copy-on-write or log-structured: an in-place overwrite cannot be assumed to reach the old
 * blocks. */
bool dp_fsinfo_is_cow(const struct dp_fsinfo *fs);

/* Known to overwrite file data in place (ext2/3/4, xfs, vfat, exfat, ntfs): only there can an
 * overwrite be claimed to reach the file's old blocks. */
bool dp_fsinfo_is_in_place(const struct dp_fsinfo *fs);

#endif
