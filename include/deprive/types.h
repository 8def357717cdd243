/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: types every stage shares - the hash algorithms and a file's identity. */
#ifndef DEPRIVE_TYPES_H
#define DEPRIVE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deprive/error.h"

/* Hash algorithms a list can carry. Exact ones are matched on digest equality; PDQ is a
 * perceptual hash (256 bits) matched by Hamming distance by the pdq module. */
enum dp_algo {
    DP_ALGO_MD5 = 0,
    DP_ALGO_SHA1,
    DP_ALGO_SHA256,
    DP_ALGO_PDQ,
    DP_ALGO_COUNT
};

#define DP_ALGO_EXACT_COUNT 3 /* MD5, SHA-1, SHA-256: the ones the digest module computes */
#define DP_DIGEST_MAX 32

/* Digest length in bytes (16, 20, 32, 32). */
size_t dp_algo_len(enum dp_algo algo);
/* Lower-case name as used in deprive's list format and in reports: "md5", "sha1", "sha256",
 * "pdq". */
const char *dp_algo_name(enum dp_algo algo);
/* Parse a name (case-insensitive; accepts "sha-1", "sha-256" too). Returns false if unknown. */
bool dp_algo_parse(const char *name, size_t len, enum dp_algo *out) DP_WUR;

/* Bit (1u << DP_ALGO_x) per exact algorithm. */
#define DP_DIGEST_MASK(algo) (1u << (algo))

/* Identity of a file as seen at one moment; compared again before anything is done to it. */
struct dp_file_id {
    uint64_t dev_major, dev_minor;
    uint64_t ino;
    uint64_t size;
    uint64_t blocks;  /* 512-byte blocks allocated */
    uint64_t mnt_id;  /* statx mount id, 0 if the kernel does not report it */
    uint32_t nlink;
    uint32_t mode;
    uint32_t uid, gid;
    int64_t mtime_sec;
    uint32_t mtime_nsec;
    int64_t ctime_sec;
    uint32_t ctime_nsec;
    int64_t atime_sec;
    uint32_t atime_nsec;
    /* What tells a reused inode number from the original: the birth time (statx btime) and
     * the inode generation (FS_IOC_GETVERSION, only when stat'ing an open descriptor).
     * FUSE drivers here report neither. */
    bool has_btime, has_generation;
    int64_t btime_sec;
    uint32_t btime_nsec;
    uint64_t generation;
};

#endif
