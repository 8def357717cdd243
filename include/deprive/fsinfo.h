/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: what filesystem and medium an open file lives on (mountinfo, statfs, sysfs). */
#ifndef DEPRIVE_FSINFO_H
#define DEPRIVE_FSINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "deprive/error.h"

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
};

/* Facts for the filesystem holding fd. Missing facts are left unknown; fails only when fd
 * cannot be stat'ed. */
enum dp_status dp_fsinfo_get(int fd, struct dp_fsinfo *out, struct dp_error *err) DP_WUR;

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
