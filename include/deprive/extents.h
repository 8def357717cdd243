/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: where a file's bytes and a device's byte ranges lie (src/fs/extents.c) - a file's
 * physical extents (FIEMAP, FIBMAP where a FUSE driver answers only that) and what a range of
 * the filesystem's device is used for (GETFSMAP: free space, metadata, file data). Read-only
 * queries: nothing on the filesystem changes (FIEMAP's sync flushes dirty pages of the file
 * only, which a scan's read-only descriptor never has). */
#ifndef DEPRIVE_EXTENTS_H
#define DEPRIVE_EXTENTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* One extent: file bytes [logical, logical + length) at device bytes [physical, ...). */
struct dp_extent {
    uint64_t logical, physical, length;
    uint32_t flags; /* FIEMAP_EXTENT_* (0 from FIBMAP) */
};
#define DP_EXTENTS_MAX 4096 /* about this many at most are listed */

/* The extents of fd as dp_extents_json finds them, as a heap array (*count of them; NULL with
 * *count 0 when there are none or memory ran out, *available false then too). */
struct dp_extent *dp_extents(int fd, size_t *count, bool *available);

/* Physical extents of fd (FIEMAP, synced first; FIBMAP block by block where FIEMAP is
 * refused, needing CAP_SYS_RAWIO, up to 65,536 blocks); *available false when the filesystem
 * reports neither. A new JSON array of {"logical", "physical", "length", "flags"} (bytes;
 * flags are FIEMAP_EXTENT_*), at most about 4096 entries; empty when unavailable. On btrfs the
 * "physical" addresses are btrfs logical addresses, not device offsets. */
json_t *dp_extents_json(int fd, bool *available);

/* What the filesystem holding fd uses the device bytes [offset, offset + length) for, by
 * FS_IOC_GETFSMAP (ext4, XFS): */
enum dp_fsmap_use {
    DP_FSMAP_UNKNOWN = 0, /* "unknown": no GETFSMAP, or it did not answer for the range */
    DP_FSMAP_FREE,        /* "free-space": every byte unallocated */
    DP_FSMAP_METADATA,    /* "metadata": some byte holds filesystem metadata (inode tables,
                             bitmaps, journal, superblocks) */
    DP_FSMAP_ALLOCATED,   /* "allocated": some byte belongs to a file (its data, or the slack
                             after its end in its last block) */
    DP_FSMAP_MIXED,       /* "partly-free": some bytes free, the others allocated */
    DP_FSMAP_USE_COUNT
};
const char *dp_fsmap_use_name(enum dp_fsmap_use u);
enum dp_fsmap_use dp_fsmap_range(int fd, uint64_t offset, uint64_t length);

#endif
