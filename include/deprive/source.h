/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: a read-only byte source for the raw-device sweep - a raw image file, a block device
 * or an Expert Witness (EnCase E01) set - read by offset as one run of media bytes
 * (src/container/source.c; the EWF reader, libewf, in src/container/ewf.c).
 *
 * Read-only by construction: every descriptor is opened O_RDONLY | O_CLOEXEC (O_NOATIME on
 * files where the kernel permits it), nothing is ever written, and what is not a regular file
 * or a block device (a directory, FIFO, socket, character device) is refused before it is
 * opened. A regular file is an EWF set when its content starts with the EVF signature (its name
 * does not matter); the other segment files are found beside it with libewf_glob.
 *
 * Thread safety: a source is used by one thread at a time (reads move libewf's position and
 * fill its chunk cache); different sources are independent. dp_source_kind_name keeps no
 * state. */
#ifndef DEPRIVE_SOURCE_H
#define DEPRIVE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

enum dp_source_kind {
    DP_SOURCE_IMAGE_FILE,   /* a regular file holding a raw image (dd) */
    DP_SOURCE_BLOCK_DEVICE, /* a disk, a partition, a loop device */
    DP_SOURCE_EWF,          /* an Expert Witness set (.E01, .s01, ...) read through libewf */
    DP_SOURCE_KIND_COUNT
};

/* "image-file", "block-device", "ewf" (NULL out of range). */
const char *dp_source_kind_name(enum dp_source_kind k);

/* dp_source_open flags. DROP_CACHE: raw sources (image file, block device) tell the kernel
 * that their cached pages are not needed (POSIX_FADV_DONTNEED): the whole media's at open and
 * at dp_source_free, and during reads what was read (the last stretch of up to 8 MiB goes with
 * the next read past it, at the end of the media or at dp_source_free), so that a later sweep
 * (a wipe's re-sweep) reads the device again instead of pages cached by an earlier one. Only
 * clean pages are dropped: data written through another path and not yet flushed is still
 * whatever the kernel holds. No effect on EWF sets (evidence files do not change). */
#define DP_SOURCE_DROP_CACHE (1u << 0)

/* What was opened. Strings are NUL-terminated, "" when absent. The EWF case headers are as
 * the set stores them (UTF-8, cut at a character boundary to fit): text from the evidence,
 * which may hold control characters - escape it before printing (dp_text_escape_append). */
struct dp_source_info {
    enum dp_source_kind kind;
    uint64_t size;        /* bytes of media */
    uint32_t sector_size; /* logical sector size (512 when unknown) */
    /* block device (BLKSSZGET, BLKPBSZGET, BLKROGET; /sys/dev/block/MAJ:MIN) */
    uint64_t dev_major, dev_minor;
    uint32_t physical_sector_size; /* 0 when unknown */
    bool read_only_device;         /* the kernel holds the device read-only */
    bool is_partition;
    bool removable, rotational; /* false when sysfs does not say */
    char model[128];            /* the disk's model (sysfs device/model, trimmed) */
    /* EWF only */
    unsigned segments;      /* segment files opened */
    uint32_t chunk_size;    /* bytes of media per chunk (the unit of a checksum) */
    char format[16];        /* "encase6", "smart", "ftk", ... ("" when not known) */
    char md5[33], sha1[41]; /* stored hashes, lower-case hex, "" when absent */
    char case_number[256], evidence_number[256], examiner_name[256], description[256];
    char notes[512];
    char acquiry_date[64];      /* "YYYY-MM-DDTHH:MM:SS", the acquiring machine's local
                                   time as stored (no zone) */
    char acquiry_software[128]; /* the acquiring software's version ("20140813") */
    char acquiry_os[128];       /* the acquiring machine's operating system */
    char ewf_model[256], ewf_serial_number[256]; /* of the acquired media, when recorded */
};

struct dp_source;

/* Open path read-only as a source (flags: DP_SOURCE_DROP_CACHE or 0). A regular file whose
 * first bytes are the EVF signature is opened as an EWF set: it must be the set's first
 * segment, every segment is found with libewf_glob (a name libewf_glob does not know, such as
 * "evidence.bin", is opened as a set of one) and each must be a regular file; a set that
 * libewf finds incomplete or corrupt (a missing or truncated segment, a damaged section) is
 * refused. Any other regular file is a raw image; a block device is read raw whatever it
 * holds.
 * Errors: DP_ERR_IO (cannot stat, open or read; sys_errno says why), DP_ERR_UNSUPPORTED (a
 * directory, FIFO, socket, character device, also as an EWF segment; a logical evidence file
 * .L01), DP_ERR_INVALID (zero bytes of media; a later segment of an EWF set given),
 * DP_ERR_PARSE (an EWF set libewf cannot read, or incomplete, or with a segment out of place),
 * DP_ERR_CHANGED (path was replaced between the type check and the open), DP_ERR_NOMEM. *out
 * is NULL on error. libewf opens the segment files itself: O_RDONLY, but without O_CLOEXEC or
 * O_NOATIME (their access times may move). */
enum dp_status dp_source_open(struct dp_source **out, const char *path, unsigned flags,
                              struct dp_error *err) DP_WUR DP_NONNULL(1, 2);

/* What was found at open; valid until dp_source_free. */
const struct dp_source_info *dp_source_info(const struct dp_source *s) DP_NONNULL(1);

/* The files read: the path given for a raw source; for an EWF set its segment files in order
 * (as libewf_glob named them). i < dp_source_file_count(s); valid until dp_source_free. */
size_t dp_source_file_count(const struct dp_source *s) DP_NONNULL(1);
const char *dp_source_file(const struct dp_source *s, size_t i) DP_NONNULL(1);

/* Read len bytes of media at off into buf; *got = bytes read, fewer than len only at the end of
 * the media (0 at or past it). Raw sources: pread, EINTR retried, never past the size found at
 * open. Errors: DP_ERR_IO (a read failed: sys_errno for raw sources, libewf's message for EWF;
 * *got = the bytes read before it). DP_ERR_VERIFY (EWF): a chunk in the range failed its
 * checksum - the range was read (*got bytes, the data as stored) but the evidence there is
 * damaged; the message names the sectors. */
enum dp_status dp_source_read(struct dp_source *s, uint64_t off, void *buf, size_t len, size_t *got,
                              struct dp_error *err) DP_WUR DP_NONNULL(1, 5);

/* Drop the kernel's cached clean pages of media range [off, off + len) (len 0: to the end) of
 * a raw source, widened to 8 MiB boundaries (a page-cache folio may be larger than a page and
 * goes only whole); DP_OK and nothing done for EWF. */
enum dp_status dp_source_drop_cache(struct dp_source *s, uint64_t off, uint64_t len,
                                    struct dp_error *err) DP_WUR DP_NONNULL(1);

/* EWF: checksum errors libewf has met so far (each a run of sectors); 0 for raw sources. */
uint64_t dp_source_checksum_errors(const struct dp_source *s) DP_NONNULL(1);

/* Close and free (s may be NULL). */
void dp_source_free(struct dp_source *s);

/* ---- The EWF reader underneath (src/container/ewf.c). dp_source_open uses it; callers use
 * the dp_source_* functions above. ---- */

/* Bytes dp_source_ewf_sniff looks at. */
#define DP_SOURCE_EWF_SNIFF_BYTES 13

enum dp_source_ewf_sig {
    DP_SOURCE_EWF_SIG_NONE,
    DP_SOURCE_EWF_SIG_MEDIA,   /* "EVF\t\r\n\xff\0" (EWF-E01, SMART) or "EVF2\r\n\x81\0" (Ex01) */
    DP_SOURCE_EWF_SIG_LOGICAL, /* "LVF\t\r\n\xff\0" or "LEF2\r\n\x81\0": files, not media */
};
/* The signature head[0..len) starts with; *segment = its segment number (EWF-E01 and SMART,
 * from the file header; 0 when not known). */
enum dp_source_ewf_sig dp_source_ewf_sniff(const uint8_t *head, size_t len, unsigned *segment)
    DP_NONNULL(1, 3);

struct dp_source_ewf;
/* Open the EWF set whose first segment is path, filling info's size, sector size and EWF
 * fields. Errors as dp_source_open. */
enum dp_status dp_source_ewf_open(struct dp_source_ewf **out, struct dp_source_info *info,
                                  const char *path, struct dp_error *err) DP_WUR
    DP_NONNULL(1, 2, 3);
enum dp_status dp_source_ewf_read(struct dp_source_ewf *e, uint64_t off, void *buf, size_t len,
                                  size_t *got, struct dp_error *err) DP_WUR DP_NONNULL(1, 5);
size_t dp_source_ewf_file_count(const struct dp_source_ewf *e) DP_NONNULL(1);
const char *dp_source_ewf_file(const struct dp_source_ewf *e, size_t i) DP_NONNULL(1);
uint64_t dp_source_ewf_checksum_errors(const struct dp_source_ewf *e) DP_NONNULL(1);
void dp_source_ewf_free(struct dp_source_ewf *e);

#endif
