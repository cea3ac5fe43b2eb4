/*
 * Reassembly. Attack model: a peer announces total_len up to max_message
 * and then sends one byte, or bytes scattered over the whole range, or an
 * endless stream of pieces. Memory therefore follows what arrived: one
 * 64 KiB block per block touched (a message of one block gets a block of
 * exactly its size, which is also the buffer handed to the app, so small
 * fragmented messages are never copied), a block table of total/64 KiB
 * pointers, and a range list whose length is capped. Everything is
 * charged to the peer's and the host's budgets before it is allocated;
 * the caller turns a refused charge into a protocol disconnect (reliable)
 * or a dropped message (unreliable). A multi-block message is copied into
 * one buffer on completion; for that instant it occupies twice its size,
 * which we accept rather than charge twice.
 */
#include "core/fragment.h"

#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"

static uint32_t
block_size(const pl_reasm *r, uint32_t i)
{
    uint32_t start = i * PL_REASM_BLOCK;
    uint32_t left = r->total - start;
    return left < PL_REASM_BLOCK ? left : PL_REASM_BLOCK;
}

int
pl_reasm_init(pl_reasm *r, uint32_t total, const pl_budget *b)
{
    memset(r, 0, sizeof *r);
    if (total == 0) {
        return PARLEY_EPROTO;
    }
    r->total = total;
    r->nblocks =
        (uint32_t)(((uint64_t)total + PL_REASM_BLOCK - 1) / PL_REASM_BLOCK);
    r->iv = &r->iv0;
    r->ivcap = 1;
    if (r->nblocks == 1) {
        r->blocks = &r->one;
        return PARLEY_OK;
    }
    size_t table = (size_t)r->nblocks * sizeof(uint8_t *);
    int rc = pl_budget_take(b, table);
    if (rc != PARLEY_OK) {
        return rc;
    }
    r->blocks = pl_calloc(r->nblocks, sizeof(uint8_t *));
    if (!r->blocks) {
        pl_budget_give(b, table);
        return PARLEY_ENOMEM;
    }
    r->charged = table;
    return PARLEY_OK;
}

/* Makes sure every block under [off, off+len) exists. */
static int
ensure_blocks(pl_reasm *r, pl_bufpool *bp, const pl_budget *b, uint32_t off,
              uint32_t len)
{
    uint32_t first = off / PL_REASM_BLOCK;
    uint32_t last = (off + len - 1) / PL_REASM_BLOCK;
    for (uint32_t i = first; i <= last; i++) {
        if (r->blocks[i]) {
            continue;
        }
        size_t sz = block_size(r, i);
        size_t cost = pl_buf_cap(sz);
        int rc = pl_budget_take(b, cost);
        if (rc != PARLEY_OK) {
            return rc;
        }
        r->blocks[i] = pl_buf_get(bp, sz);
        if (!r->blocks[i]) {
            pl_budget_give(b, cost);
            return PARLEY_ENOMEM;
        }
        r->charged += cost;
    }
    return PARLEY_OK;
}

/* Grows the range list to hold one more. */
static int
reserve_iv(pl_reasm *r, const pl_budget *b)
{
    if (r->niv < r->ivcap) {
        return PARLEY_OK;
    }
    if (r->ivcap >= PL_REASM_MAX_RANGES) {
        return PARLEY_EPROTO;
    }
    uint32_t ncap = r->ivcap < 8 ? 8 : r->ivcap * 2;
    if (ncap > PL_REASM_MAX_RANGES) {
        ncap = PL_REASM_MAX_RANGES;
    }
    size_t cost = (size_t)(ncap - (r->iv == &r->iv0 ? 0 : r->ivcap)) *
                  sizeof(pl_reasm_iv);
    int rc = pl_budget_take(b, cost);
    if (rc != PARLEY_OK) {
        return rc;
    }
    pl_reasm_iv *n = pl_malloc(ncap * sizeof *n);
    if (!n) {
        pl_budget_give(b, cost);
        return PARLEY_ENOMEM;
    }
    memcpy(n, r->iv, r->niv * sizeof *n);
    if (r->iv != &r->iv0) {
        pl_free(r->iv);
    }
    r->iv = n;
    r->ivcap = ncap;
    r->charged += cost;
    return PARLEY_OK;
}

/* The first range that ends at or after lo (binary search). */
static uint32_t
first_touching(const pl_reasm *r, uint32_t lo)
{
    uint32_t a = 0, z = r->niv;
    while (a < z) {
        uint32_t m = a + (z - a) / 2;
        if (r->iv[m].hi < lo) {
            a = m + 1;
        } else {
            z = m;
        }
    }
    return a;
}

/* Counts the bytes of [lo, hi) not yet held; *touches says whether the
   piece meets an existing range (so no new range is needed). */
static uint32_t
new_bytes(const pl_reasm *r, uint32_t lo, uint32_t hi, int *touches)
{
    uint32_t n = hi - lo;
    *touches = 0;
    for (uint32_t i = first_touching(r, lo); i < r->niv && r->iv[i].lo <= hi;
         i++) {
        *touches = 1;
        uint32_t a = r->iv[i].lo > lo ? r->iv[i].lo : lo;
        uint32_t z = r->iv[i].hi < hi ? r->iv[i].hi : hi;
        if (a < z) {
            n -= z - a;
        }
    }
    return n;
}

/* Merges [lo, hi) into the range list (room for one more is reserved). */
static void
merge_iv(pl_reasm *r, uint32_t lo, uint32_t hi)
{
    uint32_t i = first_touching(r, lo);
    /* Ranges i..j-1 touch or overlap [lo, hi). */
    uint32_t j = i;
    while (j < r->niv && r->iv[j].lo <= hi) {
        if (r->iv[j].lo < lo) {
            lo = r->iv[j].lo;
        }
        if (r->iv[j].hi > hi) {
            hi = r->iv[j].hi;
        }
        j++;
    }
    if (j == i) {
        memmove(&r->iv[i + 1], &r->iv[i], (r->niv - i) * sizeof r->iv[0]);
        r->niv++;
    } else if (j > i + 1) {
        memmove(&r->iv[i + 1], &r->iv[j], (r->niv - j) * sizeof r->iv[0]);
        r->niv -= j - i - 1;
    }
    r->iv[i].lo = lo;
    r->iv[i].hi = hi;
}

static void
copy_in(pl_reasm *r, uint32_t off, const uint8_t *data, uint32_t len)
{
    while (len > 0) {
        uint32_t bi = off / PL_REASM_BLOCK;
        uint32_t bo = off % PL_REASM_BLOCK;
        uint32_t n = PL_REASM_BLOCK - bo;
        if (n > len) {
            n = len;
        }
        memcpy(r->blocks[bi] + bo, data, n);
        off += n;
        data += n;
        len -= n;
    }
}

int
pl_reasm_add(pl_reasm *r, pl_bufpool *bp, const pl_budget *b, uint32_t off,
             const uint8_t *data, uint32_t len)
{
    if (len == 0 || off > r->total || len > r->total - off) {
        return PARLEY_EPROTO;
    }
    int touches;
    uint32_t fresh = new_bytes(r, off, off + len, &touches);
    if (fresh == 0) {
        return PARLEY_OK;
    }
    int rc = touches ? PARLEY_OK : reserve_iv(r, b);
    if (rc == PARLEY_OK) {
        rc = ensure_blocks(r, bp, b, off, len);
    }
    if (rc != PARLEY_OK) {
        return rc;
    }
    copy_in(r, off, data, len);
    merge_iv(r, off, off + len);
    r->got += fresh;
    return PARLEY_OK;
}

int
pl_reasm_take(pl_reasm *r, pl_bufpool *bp, const pl_budget *b, uint8_t **buf,
              size_t *charged)
{
    uint8_t *out;
    if (r->nblocks == 1) {
        out = r->one;
        r->one = NULL;
    } else {
        out = pl_buf_get(bp, r->total);
        if (!out) {
            return PARLEY_ENOMEM;
        }
        for (uint32_t i = 0; i < r->nblocks; i++) {
            uint32_t sz = block_size(r, i);
            memcpy(out + (size_t)i * PL_REASM_BLOCK, r->blocks[i], sz);
            pl_buf_put(bp, r->blocks[i], sz);
            r->blocks[i] = NULL;
        }
    }
    /* Swap the charge: blocks, table and ranges for the one buffer (which
       is never larger than what the blocks were charged). */
    size_t cost = pl_buf_cap(r->total);
    pl_budget_give(b, r->charged);
    r->charged = 0;
    if (pl_budget_take(b, cost) != PARLEY_OK) {
        /* Cannot happen: cost <= the charge just returned. Charge anyway
           so that the books stay balanced. */
        if (b->peer_used) {
            *b->peer_used += cost;
        }
        if (b->host_used) {
            *b->host_used += cost;
        }
    }
    *charged = cost;
    *buf = out;
    pl_reasm_free(r, bp, b);
    return PARLEY_OK;
}

void
pl_reasm_free(pl_reasm *r, pl_bufpool *bp, const pl_budget *b)
{
    if (r->nblocks == 1) {
        pl_buf_put(bp, r->one, r->total);
        r->one = NULL;
    } else if (r->blocks) {
        for (uint32_t i = 0; i < r->nblocks; i++) {
            pl_buf_put(bp, r->blocks[i], block_size(r, i));
        }
        pl_free(r->blocks);
    }
    r->blocks = NULL;
    if (r->iv && r->iv != &r->iv0) {
        pl_free(r->iv);
    }
    r->iv = NULL;
    pl_budget_give(b, r->charged);
    r->charged = 0;
    r->nblocks = 0;
}
