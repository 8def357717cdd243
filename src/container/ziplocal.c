/* SPDX-License-Identifier: GPL-3.0-or-later */
/* deprive: a zip's records walked from its start, without libarchive, to count the entries a
 * streaming reader would find: libarchive reads a seekable zip by its central directory, which
 * need not list them all (src/container/internal.h). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Record signatures ("PK" and two bytes, read little-endian) and lengths (PKWARE APPNOTE). */
#define SIG_LOCAL 0x04034b50u      /* local file header: LOCAL_LEN + name + extra */
#define SIG_CENTRAL 0x02014b50u    /* central directory header: CENTRAL_LEN + name + extra +
                                      comment */
#define SIG_END 0x06054b50u        /* end of central directory: END_LEN + comment */
#define SIG_END64 0x06064b50u      /* zip64 end record: END64_FIXED + its own size field */
#define SIG_LOCATOR64 0x07064b50u  /* zip64 end locator: LOCATOR64_LEN */
#define SIG_DESCRIPTOR 0x08074b50u /* a data descriptor; at offset 0, a split zip's marker */
#define SIG_SPAN_ONE 0x30304b50u   /* "PK00" at offset 0: a spanned zip of one segment */
#define LOCAL_LEN 30
#define CENTRAL_LEN 46
#define END_LEN 22
#define END_COMMENT_MAX 0xFFFFu
#define END64_FIXED 12
#define END64_LEN 56              /* a zip64 end record without extensible data */
#define LOCATOR64_LEN 20
#define MARKER_LEN 4
#define SIG_LEN 4
#define FLAG_DESCRIPTOR 0x0008u   /* CRC and sizes in a data descriptor after the data */
#define EXTRA_ZIP64 0x0001u       /* the zip64 extended information extra field */
#define EXTRA_HEAD 4              /* an extra field's id and length */
#define ZIP64_VALUE 8             /* each value in the zip64 extra field */
#define SIZE_IN_ZIP64 0xFFFFFFFFu /* a 32-bit field saying "in the zip64 extra field" */
#define DESCRIPTOR_LEN 12         /* CRC, compressed and uncompressed size, unsigned */
#define DESCRIPTOR64_LEN 20       /* the same with 64-bit sizes (a zip64 entry) */
#define DESCRIPTOR_CSIZE 8        /* the compressed size's place in a signed descriptor */
#define WINDOW (256u * 1024u)     /* the most read from a file at a time (a search) */
#define READ_MIN 4096u            /* read at least this much for a header */
#define RECORDS_PER_ENTRY 3       /* records walked per local header allowed: its central
                                     header, end records of concatenated zips */
#define NONE UINT64_MAX

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

struct zip_walk {
    /* the zip's bytes: all of a buffer, or a window of a file read with pread */
    int fd;
    const uint8_t *win; /* the bytes at win_off */
    uint64_t win_off, size;
    size_t win_len;
    uint8_t *heap; /* a file's window; NULL for a buffer */
    /* {local header offset, compressed size} of the entries the central directory at the end
     * lists, by offset: a streamed entry listed there is stepped over without a search */
    uint64_t (*listed)[2];
    size_t nlisted;
};

/* n contiguous bytes at off (n <= WINDOW), or NULL past the end or when the file cannot be
 * read. Valid until the next call. */
static const uint8_t *view(struct zip_walk *s, uint64_t off, size_t n)
{
    if (off > s->size || n > s->size - off)
        return NULL;
    uint64_t in = off - s->win_off; /* where off is in the window, when it is */
    if (off >= s->win_off && in <= s->win_len && n <= s->win_len - in)
        return s->win + (off - s->win_off);
    if (s->heap == NULL || n > WINDOW)
        return NULL;
    /* a header needs little: the entries between two headers need not be read */
    size_t want = n > READ_MIN ? n : READ_MIN;
    want = s->size - off < want ? (size_t)(s->size - off) : want;
    ssize_t got;
    do
        got = pread(s->fd, s->heap, want, (off_t)off);
    while (got < 0 && errno == EINTR);
    s->win_off = off;
    s->win_len = got > 0 ? (size_t)got : 0;
    return n <= s->win_len ? s->heap : NULL;
}

/* The index-th value of the zip64 extra field among the extra fields at [x, x + len) (its
 * 64-bit values come in a fixed order, each only when the header's 32-bit field is all ones:
 * uncompressed size, compressed size, local header offset). *zip64: there is such a field (a
 * local entry's data descriptor then has 64-bit sizes). False when the value is not there. */
static bool zip64_value(struct zip_walk *s, uint64_t x, uint64_t len, unsigned index,
                        uint64_t *value, bool *zip64)
{
    *zip64 = false;
    for (uint64_t p = x; len - (p - x) >= EXTRA_HEAD;) {
        const uint8_t *f = view(s, p, EXTRA_HEAD);
        if (f == NULL)
            return false;
        uint32_t id = le16(f), flen = le16(f + 2);
        if (flen > len - (p - x) - EXTRA_HEAD)
            return false; /* a damaged last field */
        if (id == EXTRA_ZIP64) {
            *zip64 = true;
            uint64_t at = (uint64_t)ZIP64_VALUE * index;
            const uint8_t *v =
                at + ZIP64_VALUE <= flen ? view(s, p + EXTRA_HEAD + at, ZIP64_VALUE) : NULL;
            if (v != NULL)
                *value = le64(v);
            return v != NULL;
        }
        p += EXTRA_HEAD + flen;
    }
    return false;
}

/* ---- the central directory at the end: where its entries' data ends ---- */

/* The last end record in the file's tail whose central directory is where it says: *start,
 * *stop (the directory's bytes) and *shift (added to its offsets: bytes in front of the zip,
 * as libarchive corrects them). False when there is none. */
static bool central_at_end(struct zip_walk *s, uint64_t *start, uint64_t *stop, uint64_t *shift)
{
    uint64_t tail = s->size < END_LEN + END_COMMENT_MAX ? s->size : END_LEN + END_COMMENT_MAX;
    const uint8_t *t = view(s, s->size - tail, (size_t)tail);
    for (uint64_t i = tail >= END_LEN ? tail - END_LEN + 1 : 0; t != NULL && i-- > 0;) {
        if (le32(t + i) != SIG_END)
            continue;
        /* the directory's size and offset */
        uint64_t end = s->size - tail + i, cd_size = le32(t + i + 12), cd_off = le32(t + i + 16);
        const uint8_t *l =
            end >= LOCATOR64_LEN ? view(s, end - LOCATOR64_LEN, LOCATOR64_LEN) : NULL;
        if (l != NULL && le32(l) == SIG_LOCATOR64) {
            /* zip64: the offsets as recorded (libarchive corrects none) */
            uint64_t e64 = le64(l + 8); /* the zip64 end record's offset */
            const uint8_t *h = view(s, e64, END64_LEN);
            if (h == NULL || le32(h) != SIG_END64)
                return false;
            *start = le64(h + 48); /* the directory's offset */
            *stop = e64;
            *shift = 0;
            return *start <= *stop;
        }
        if (cd_size > end || end - cd_size < cd_off)
            return false;
        *start = end - cd_size;
        *stop = end;
        *shift = *start - cd_off;
        return true;
    }
    return false;
}

static int by_offset(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* One central directory header at off into s->listed; its length, 0 when it is not one. */
static uint64_t central_add(struct zip_walk *s, uint64_t off, uint64_t shift, size_t *cap)
{
    const uint8_t *h = view(s, off, CENTRAL_LEN);
    if (h == NULL || le32(h) != SIG_CENTRAL)
        return 0;
    /* compressed size, local header offset, uncompressed size, lengths */
    uint64_t csize = le32(h + 20), local = le32(h + 42);
    bool usize_esc = le32(h + 24) == SIZE_IN_ZIP64, csize_esc = csize == SIZE_IN_ZIP64, zip64;
    uint32_t name_len = le16(h + 28), extra_len = le16(h + 30), comment_len = le16(h + 32);
    uint64_t extra = off + CENTRAL_LEN + name_len;
    if ((csize_esc && !zip64_value(s, extra, extra_len, usize_esc, &csize, &zip64)) ||
        (local == SIZE_IN_ZIP64 &&
         !zip64_value(s, extra, extra_len, usize_esc + csize_esc, &local, &zip64)))
        return 0;
    if (s->nlisted == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        uint64_t(*p)[2] = realloc(s->listed, c * sizeof(*p));
        if (p == NULL)
            return 0;
        s->listed = p;
        *cap = c;
    }
    s->listed[s->nlisted][0] = local + shift;
    s->listed[s->nlisted++][1] = csize;
    return CENTRAL_LEN + name_len + extra_len + comment_len;
}

/* s->listed from the central directory at the end (up to max entries). Best effort: without
 * it, streamed entries are searched for their end. */
static void central_read(struct zip_walk *s, uint64_t max)
{
    uint64_t start, stop, shift, len = 0;
    size_t cap = 0;
    if (!central_at_end(s, &start, &stop, &shift))
        return;
    for (uint64_t off = start; off < stop && s->nlisted < max; off += len)
        if ((len = central_add(s, off, shift, &cap)) == 0)
            break;
    if (s->nlisted > 0)
        qsort(s->listed, s->nlisted, sizeof(*s->listed), by_offset);
}

/* The compressed size the central directory gives the entry at off, or NONE; *next: the offset
 * of the entry it lists after that one, or NONE. */
static uint64_t listed_csize(const struct zip_walk *s, uint64_t off, uint64_t *next)
{
    const uint64_t key[2] = {off, 0};
    uint64_t(*e)[2] =
        s->nlisted ? bsearch(key, s->listed, s->nlisted, sizeof(*s->listed), by_offset) : NULL;
    *next = e != NULL && e + 1 < s->listed + s->nlisted ? e[1][0] : NONE;
    return e != NULL ? (*e)[1] : NONE;
}

/* ---- local entries ---- */

static bool is_record(uint32_t sig)
{
    return sig == SIG_LOCAL || sig == SIG_CENTRAL || sig == SIG_END || sig == SIG_END64 ||
           sig == SIG_LOCATOR64;
}

/* After the data descriptor at end (where the data ends): signed or not; a writer that set the
 * flag and wrote none is followed by the next record. 0 past the file's end. */
static uint64_t after_descriptor(struct zip_walk *s, uint64_t end, bool zip64)
{
    const uint8_t *d = view(s, end, SIG_LEN);
    if (d == NULL)
        return 0;
    uint64_t len = zip64 ? DESCRIPTOR64_LEN : DESCRIPTOR_LEN;
    if (le32(d) == SIG_DESCRIPTOR)
        len += SIG_LEN;
    else if (is_record(le32(d)))
        len = 0;
    return len <= s->size - end ? end + len : 0;
}

/* After the data descriptor at end that gives csize (signed or not); 0 when there is none. */
static uint64_t descriptor_at(struct zip_walk *s, uint64_t end, uint64_t csize, bool zip64)
{
    for (uint64_t sig = SIG_LEN;; sig = 0) {
        uint64_t len = sig + (zip64 ? DESCRIPTOR64_LEN : DESCRIPTOR_LEN);
        const uint8_t *d = view(s, end, (size_t)len);
        const uint8_t *c = d != NULL ? d + sig + DESCRIPTOR_CSIZE - SIG_LEN : NULL;
        if (c != NULL && (sig == 0 || le32(d) == SIG_DESCRIPTOR) &&
            (zip64 ? le64(c) : le32(c)) == csize)
            return end + len;
        if (sig == 0)
            return 0;
    }
}

/* A streamed entry not in the central directory: the end of the first signed data descriptor
 * at or after data whose compressed size is its distance from data, which is where a
 * streaming reader, decompressing, finds the data to end. 0 when there is none (an unsigned
 * descriptor: the end cannot be told without decompressing). */
static uint64_t descriptor_search(struct zip_walk *s, uint64_t data, bool zip64)
{
    static const uint8_t sig[SIG_LEN] = {'P', 'K', 7, 8};
    uint64_t len = SIG_LEN + (zip64 ? DESCRIPTOR64_LEN : DESCRIPTOR_LEN);
    for (uint64_t pos = data; s->size - pos >= len;) {
        size_t n = s->size - pos < WINDOW ? (size_t)(s->size - pos) : WINDOW;
        const uint8_t *v = view(s, pos, n);
        if (v == NULL)
            return 0;
        size_t last = n - (size_t)len; /* a whole descriptor fits from here */
        /* memchr, then the rest: four times glibc's memmem on compressed data */
        for (const uint8_t *p = v, *stop = v + last + 1;
             (p = memchr(p, sig[0], (size_t)(stop - p))) != NULL; p++) {
            if (memcmp(p, sig, SIG_LEN) != 0)
                continue;
            uint64_t at = pos + (uint64_t)(p - v);
            uint64_t cs = zip64 ? le64(p + DESCRIPTOR_CSIZE) : le32(p + DESCRIPTOR_CSIZE);
            if (cs == at - data)
                return at + len;
        }
        pos += last + 1;
    }
    return 0;
}

/* A streamed entry (sizes only after its data) whose data starts at data: after its
 * descriptor, found where the central directory says the data ends, else searched for. */
static uint64_t streamed_end(struct zip_walk *s, uint64_t off, uint64_t data, bool zip64)
{
    uint64_t next, csize = listed_csize(s, off, &next);
    if (csize > s->size - data)
        return descriptor_search(s, data, zip64);
    /* the next listed entry right after the data: the bytes between are the descriptor (no
     * room for a local header), not read */
    uint64_t end = data + csize;
    if (next != NONE && next >= end && next - end <= SIG_LEN + DESCRIPTOR64_LEN)
        return next;
    end = descriptor_at(s, end, csize, zip64);
    return end != 0 ? end : descriptor_search(s, data, zip64);
}

/* After the local entry at off: its header, data and data descriptor. 0 when that cannot be
 * told. */
static uint64_t local_end(struct zip_walk *s, uint64_t off)
{
    const uint8_t *h = view(s, off, LOCAL_LEN);
    if (h == NULL)
        return 0;
    /* flags, lengths, compressed and uncompressed size */
    uint32_t flags = le16(h + 6), name_len = le16(h + 26), extra_len = le16(h + 28);
    uint64_t csize = le32(h + 18);
    bool usize_esc = le32(h + 22) == SIZE_IN_ZIP64, zip64;
    uint64_t extra = off + LOCAL_LEN + name_len, data = extra + extra_len;
    if (data > s->size)
        return 0;
    uint64_t csize64 = 0;
    bool got = zip64_value(s, extra, extra_len, usize_esc, &csize64, &zip64);
    if (csize == SIZE_IN_ZIP64 && !got)
        return 0;
    csize = csize == SIZE_IN_ZIP64 ? csize64 : csize;
    if ((flags & FLAG_DESCRIPTOR) && csize == 0)
        return streamed_end(s, off, data, zip64);
    if (csize > s->size - data)
        return 0;
    if (flags & FLAG_DESCRIPTOR)
        return after_descriptor(s, data + csize, zip64);
    return data + csize;
}

/* Add the local entry [off, end) to out's unlisted ones. False: out of memory. */
static bool unlisted_add(struct zip_local *out, uint64_t off, uint64_t end, size_t *cap)
{
    if (out->nunlisted == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        uint64_t(*p)[2] = realloc(out->unlisted, c * sizeof(*p));
        if (p == NULL)
            return false;
        out->unlisted = p;
        *cap = c;
    }
    out->unlisted[out->nunlisted][0] = off;
    out->unlisted[out->nunlisted++][1] = end;
    return true;
}

/* After the record at off, a local header counted in out->entries (up to max), and when the
 * central directory at the end does not list it, its span in out->unlisted. 0: stop there
 * (and *nomem when that is why). */
static uint64_t record_end(struct zip_walk *s, uint64_t off, struct zip_local *out, uint64_t max,
                           size_t *cap, bool *nomem)
{
    const uint8_t *h = view(s, off, SIG_LEN);
    uint32_t sig = h != NULL ? le32(h) : 0;
    uint64_t end = 0, next;
    if (sig == SIG_LOCAL && out->entries < max) {
        out->entries++;
        end = local_end(s, off);
        bool listed = listed_csize(s, off, &next) != NONE;
        out->unlisted_entries += !listed;
        if (!listed && (end <= off || end > s->size))
            out->unlisted_open = off; /* the walk stops here */
        else if (!listed && !unlisted_add(out, off, end, cap)) {
            *nomem = true;
            return 0;
        }
    } else if (sig == SIG_CENTRAL && (h = view(s, off, CENTRAL_LEN)) != NULL) {
        end = off + CENTRAL_LEN + le16(h + 28) + le16(h + 30) + le16(h + 32); /* lengths */
    } else if (sig == SIG_END && (h = view(s, off, END_LEN)) != NULL) {
        end = off + END_LEN + le16(h + 20); /* the comment's length */
    } else if (sig == SIG_END64 && (h = view(s, off, END64_FIXED)) != NULL) {
        uint64_t len = le64(h + SIG_LEN); /* the record's size after this field */
        end = len <= s->size - off - END64_FIXED ? off + END64_FIXED + len : 0;
    } else if (sig == SIG_LOCATOR64) {
        end = off + LOCATOR64_LEN;
    }
    return end <= s->size ? end : 0;
}

enum dp_status zip_local_count(int fd, const uint8_t *buf, uint64_t size, uint64_t max_entries,
                               struct zip_local *out)
{
    struct zip_walk s = {.fd = fd, .size = size, .win = buf, .win_len = buf ? (size_t)size : 0};
    *out = (struct zip_local){.unlisted_open = NONE};
    if (buf == NULL && (s.heap = malloc(WINDOW)) == NULL)
        return DP_ERR_NOMEM;
    if (buf == NULL)
        s.win = s.heap;
    central_read(&s, max_entries);
    /* the directory's offsets are trusted when each names a local header (as libarchive
       reads it, a wrong one is an entry it cannot read) */
    out->directory_ok = s.nlisted > 0;
    for (size_t i = 0; i < s.nlisted && out->directory_ok; i++) {
        const uint8_t *h = view(&s, s.listed[i][0], SIG_LEN);
        out->directory_ok = h != NULL && le32(h) == SIG_LOCAL;
    }
    uint64_t off = 0, records = 0, max_records = RECORDS_PER_ENTRY * max_entries + 1;
    if (max_records / RECORDS_PER_ENTRY < max_entries) /* a limit near UINT64_MAX */
        max_records = UINT64_MAX;
    const uint8_t *m = view(&s, 0, MARKER_LEN);
    if (m != NULL && (le32(m) == SIG_DESCRIPTOR || le32(m) == SIG_SPAN_ONE))
        off = MARKER_LEN;
    /* each record moves on by its fixed length at least, and their number is bounded: no
     * input makes this loop long */
    size_t cap = 0;
    bool nomem = false;
    while (off < size && records++ < max_records) {
        uint64_t next = record_end(&s, off, out, max_entries, &cap, &nomem);
        if (next <= off)
            break;
        off = next;
    }
    out->complete = off == size;
    out->stopped_at = off;
    free(s.listed);
    free(s.heap);
    if (nomem) {
        zip_local_free(out);
        return DP_ERR_NOMEM;
    }
    return DP_OK;
}

bool zip_local_hides(const struct zip_local *z, uint64_t listed)
{
    return z->entries > listed || (z->directory_ok && z->unlisted_entries > 0);
}

void zip_local_free(struct zip_local *z)
{
    free(z->unlisted);
    z->unlisted = NULL;
    z->nunlisted = 0;
}

void zip_unlisted_words(char *out, size_t len, uint64_t n, bool complete)
{
    snprintf(out, len, "%s%llu %s", complete ? "" : "at least ", (unsigned long long)n,
             n == 1 ? "entry by its local header" : "entries by their local headers");
}
