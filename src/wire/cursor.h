/*
 * Bounds-checked byte cursors for every parley codec: a reader and a writer
 * over a caller's buffer, big-endian integers and QUIC variable-length
 * integers (RFC 9000 section 16). Errors are sticky: after the first
 * failure every call is a no-op, so a codec checks the flag once at the end.
 */
#ifndef PL_WIRE_CURSOR_H
#define PL_WIRE_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "parley/error.h"

/* Largest value a varint holds: 2^62 - 1. */
#define PL_VARINT_MAX ((UINT64_C(1) << 62) - 1)

/*
 * A reader over p[0..len). off is the next byte to read. err is 0 or the
 * first error (PARLEY_ETRUNC: a read past the end); once set, reads return
 * 0 (or NULL) and off stays where the failed read began.
 */
typedef struct pl_rd {
    const uint8_t *p;
    size_t len, off;
    int err;
} pl_rd;

/*
 * A writer into p[0..cap). err is 0 or the first error (PARLEY_ENOBUFS: no
 * room; PARLEY_ERANGE: a varint of 2^62 or more); once set, writes do
 * nothing and off stays where the failed write began.
 */
typedef struct pl_wr {
    uint8_t *p;
    size_t cap, off;
    int err;
} pl_wr;

/* Start a cursor at offset 0 with no error. A NULL buffer is empty. */
void pl_rd_init(pl_rd *rd, const void *p, size_t len);
void pl_wr_init(pl_wr *wr, void *p, size_t cap);

/*
 * Returns a pointer to the next n bytes and moves past them, or NULL (and
 * sets err) when fewer than n remain. For n == 0 it returns the current
 * position, which may be NULL for an empty buffer: check err, not NULL.
 */
const uint8_t *pl_rd_bytes(pl_rd *rd, size_t n);

/* Copies n bytes (src may be NULL when n == 0). */
void pl_wr_bytes(pl_wr *wr, const void *src, size_t n);

/* Writes n zero bytes. */
void pl_wr_zeros(pl_wr *wr, size_t n);

/* Bytes not yet read (0 once err is set). */
static inline size_t
pl_rd_left(const pl_rd *rd)
{
    return rd->err ? 0 : rd->len - rd->off;
}

/* Bytes of room left (0 once err is set). */
static inline size_t
pl_wr_left(const pl_wr *wr)
{
    return wr->err ? 0 : wr->cap - wr->off;
}

/* Sets err (keeping the first) and reports whether n bytes can be read. */
static inline int
pl_rd_need_(pl_rd *rd, size_t n)
{
    if (rd->err) {
        return 0;
    }
    if (rd->len - rd->off < n) {
        rd->err = PARLEY_ETRUNC;
        return 0;
    }
    return 1;
}

static inline int
pl_wr_need_(pl_wr *wr, size_t n)
{
    if (wr->err) {
        return 0;
    }
    if (wr->cap - wr->off < n) {
        wr->err = PARLEY_ENOBUFS;
        return 0;
    }
    return 1;
}

/*
 * For encoders that must change nothing when they fail: call with the
 * offset the encoder began at. On error it rewinds the writer to start and
 * clears err, returning the error; otherwise PARLEY_OK.
 */
static inline int
pl_wr_finish(pl_wr *wr, size_t start)
{
    int err = wr->err;
    if (err) {
        wr->off = start;
        wr->err = 0;
    }
    return err;
}

/* Reads an unsigned big-endian integer of n bytes (n <= 8). */
static inline uint64_t
pl_rd_be_(pl_rd *rd, size_t n)
{
    uint64_t v = 0;
    if (!pl_rd_need_(rd, n)) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | rd->p[rd->off + i];
    }
    rd->off += n;
    return v;
}

static inline void
pl_wr_be_(pl_wr *wr, uint64_t v, size_t n)
{
    if (!pl_wr_need_(wr, n)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        wr->p[wr->off + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    }
    wr->off += n;
}

static inline uint8_t
pl_rd_u8(pl_rd *rd)
{
    return (uint8_t)pl_rd_be_(rd, 1);
}

static inline uint16_t
pl_rd_u16(pl_rd *rd)
{
    return (uint16_t)pl_rd_be_(rd, 2);
}

static inline uint32_t
pl_rd_u32(pl_rd *rd)
{
    return (uint32_t)pl_rd_be_(rd, 4);
}

static inline uint64_t
pl_rd_u64(pl_rd *rd)
{
    return pl_rd_be_(rd, 8);
}

static inline void
pl_wr_u8(pl_wr *wr, uint8_t v)
{
    pl_wr_be_(wr, v, 1);
}

static inline void
pl_wr_u16(pl_wr *wr, uint16_t v)
{
    pl_wr_be_(wr, v, 2);
}

static inline void
pl_wr_u32(pl_wr *wr, uint32_t v)
{
    pl_wr_be_(wr, v, 4);
}

static inline void
pl_wr_u64(pl_wr *wr, uint64_t v)
{
    pl_wr_be_(wr, v, 8);
}

/* Bytes of v's minimal varint encoding: 1, 2, 4 or 8; 0 when v >= 2^62. */
static inline size_t
pl_varint_len(uint64_t v)
{
    if (v < (UINT64_C(1) << 6)) {
        return 1;
    }
    if (v < (UINT64_C(1) << 14)) {
        return 2;
    }
    if (v < (UINT64_C(1) << 30)) {
        return 4;
    }
    if (v <= PL_VARINT_MAX) {
        return 8;
    }
    return 0;
}

/*
 * Reads a varint of any valid length (non-minimal encodings are accepted,
 * as in QUIC). The top two bits of the first byte give the length.
 */
static inline uint64_t
pl_rd_varint(pl_rd *rd)
{
    if (!pl_rd_need_(rd, 1)) {
        return 0;
    }
    const uint8_t *p = rd->p + rd->off;
    unsigned tag = p[0] >> 6;
    if (tag == 0) { /* the common case: sequence numbers, lengths < 64 */
        rd->off++;
        return p[0];
    }
    size_t n = (size_t)1 << tag;
    if (!pl_rd_need_(rd, n)) {
        return 0;
    }
    uint64_t v = p[0] & 0x3f;
    for (size_t i = 1; i < n; i++) {
        v = (v << 8) | p[i];
    }
    rd->off += n;
    return v;
}

/* Writes v in its minimal encoding; v >= 2^62 sets err to PARLEY_ERANGE. */
static inline void
pl_wr_varint(pl_wr *wr, uint64_t v)
{
    size_t n = pl_varint_len(v);
    if (wr->err) {
        return;
    }
    if (n == 0) {
        wr->err = PARLEY_ERANGE;
        return;
    }
    if (!pl_wr_need_(wr, n)) {
        return;
    }
    /* The length prefix 00/01/10/11 is log2(n) in the top two bits. */
    uint64_t prefix = n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3;
    pl_wr_be_(wr, v | (prefix << (8 * n - 2)), n);
}

#endif
