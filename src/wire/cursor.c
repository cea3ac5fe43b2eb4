/*
 * The out-of-line half of the byte cursors (cursor.h): set-up and the
 * variable-length copies. The fixed-width and varint accessors are inline.
 */
#include "wire/cursor.h"

#include <string.h>

void
pl_rd_init(pl_rd *rd, const void *p, size_t len)
{
    rd->p = p;
    rd->len = p ? len : 0;
    rd->off = 0;
    rd->err = 0;
}

void
pl_wr_init(pl_wr *wr, void *p, size_t cap)
{
    wr->p = p;
    wr->cap = p ? cap : 0;
    wr->off = 0;
    wr->err = 0;
}

const uint8_t *
pl_rd_bytes(pl_rd *rd, size_t n)
{
    if (!pl_rd_need_(rd, n)) {
        return NULL;
    }
    if (rd->p == NULL) {
        return NULL; /* n == 0 on an empty reader */
    }
    const uint8_t *at = rd->p + rd->off;
    rd->off += n;
    return at;
}

void
pl_wr_bytes(pl_wr *wr, const void *src, size_t n)
{
    if (!pl_wr_need_(wr, n) || n == 0) {
        return;
    }
    memcpy(wr->p + wr->off, src, n);
    wr->off += n;
}

void
pl_wr_zeros(pl_wr *wr, size_t n)
{
    if (!pl_wr_need_(wr, n) || n == 0) {
        return;
    }
    memset(wr->p + wr->off, 0, n);
    wr->off += n;
}
