/*
 * Receive-side reassembly of fragmented messages under a memory budget:
 * storage is allocated (and charged) in blocks only where pieces land,
 * never from the announced total length, and the received byte ranges
 * are tracked so duplicate and re-cut pieces are harmless.
 */
#ifndef PL_CORE_FRAGMENT_H
#define PL_CORE_FRAGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/pool.h"

/* Reassembly storage is allocated in blocks of this many bytes. */
#define PL_REASM_BLOCK ((uint32_t)1 << 16)
/* Most disjoint received ranges one message may have; a peer making more
   holes than this is misbehaving. */
#define PL_REASM_MAX_RANGES 16384

typedef struct pl_reasm_iv {
    uint32_t lo, hi; /* received bytes [lo, hi) */
} pl_reasm_iv;

typedef struct pl_reasm {
    uint32_t total; /* the message's length */
    uint32_t got;   /* distinct bytes received */
    uint32_t nblocks;
    uint8_t **blocks; /* nblocks pointers, NULL until a piece lands */
    uint8_t *one;     /* nblocks == 1: the single block, inline */
    pl_reasm_iv *iv;  /* ascending, disjoint, non-adjacent */
    uint32_t niv, ivcap;
    pl_reasm_iv iv0; /* inline storage for the common single range */
    size_t charged;  /* bytes charged to the budget */
} pl_reasm;

/*
 * Starts reassembly of a total-byte message (total > 0). Charges the block
 * table for multi-block messages. PARLEY_OK, PARLEY_ENOBUFS/EFULL (over
 * budget) or PARLEY_ENOMEM.
 */
int pl_reasm_init(pl_reasm *r, uint32_t total, const pl_budget *b);

/*
 * Adds len bytes at off (off + len <= total, checked: PARLEY_EPROTO).
 * Bytes already held are ignored. PARLEY_OK, PARLEY_EPROTO (out of range,
 * or too many holes), PARLEY_ENOBUFS/EFULL (over budget) or ENOMEM. On
 * error nothing was added.
 */
int pl_reasm_add(pl_reasm *r, pl_bufpool *bp, const pl_budget *b, uint32_t off,
                 const uint8_t *data, uint32_t len);

static inline int
pl_reasm_done(const pl_reasm *r)
{
    return r->got == r->total;
}

/*
 * Hands over the complete message as one buffer of total bytes (from bp,
 * so free it with pl_buf_put(bp, buf, total)) and frees the reassembly
 * state. The budget charge becomes pl_buf_cap(total), returned in
 * *charged. For a multi-block message the bytes are copied once.
 * PARLEY_OK or PARLEY_ENOMEM (the state is then unchanged).
 */
int pl_reasm_take(pl_reasm *r, pl_bufpool *bp, const pl_budget *b,
                  uint8_t **buf, size_t *charged);

/* Frees everything and returns the charge to the budget. */
void pl_reasm_free(pl_reasm *r, pl_bufpool *bp, const pl_budget *b);

#endif
