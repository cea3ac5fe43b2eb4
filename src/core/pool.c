/*
 * Free-list pools and the two-level memory budget (see pool.h). The pools
 * are per host, so no locking: a host belongs to one thread.
 */
#include "core/pool.h"

#include "parley/error.h"
#include "util/alloc.h"

void
pl_pool_init(pl_pool *p, size_t size, size_t max_free)
{
    p->size = size < sizeof(void *) ? sizeof(void *) : size;
    p->free = NULL;
    p->nfree = 0;
    p->max_free = max_free;
}

void *
pl_pool_get(pl_pool *p)
{
    if (p->free) {
        void *item = p->free;
        p->free = *(void **)item;
        p->nfree--;
        return item;
    }
    return pl_malloc(p->size);
}

void
pl_pool_put(pl_pool *p, void *item)
{
    if (!item) {
        return;
    }
    if (p->nfree >= p->max_free) {
        pl_free(item);
        return;
    }
    *(void **)item = p->free;
    p->free = item;
    p->nfree++;
}

void
pl_pool_trim(pl_pool *p)
{
    while (p->free) {
        void *item = p->free;
        p->free = *(void **)item;
        pl_free(item);
    }
    p->nfree = 0;
}

/* The class index of len, or -1 when it is too big for the classes. */
static int
buf_class(size_t len)
{
    int k = 0;
    size_t cap = (size_t)1 << PL_BUF_MIN_SHIFT;
    while (cap < len) {
        if (k == PL_BUF_CLASSES - 1) {
            return -1;
        }
        cap <<= 1;
        k++;
    }
    return k;
}

void
pl_bufpool_init(pl_bufpool *bp)
{
    for (int k = 0; k < PL_BUF_CLASSES; k++) {
        size_t size = (size_t)1 << (PL_BUF_MIN_SHIFT + k);
        size_t keep = PL_BUF_CACHE_BYTES / size;
        pl_pool_init(&bp->cls[k], size, keep < 4 ? 4 : keep);
    }
}

uint8_t *
pl_buf_get(pl_bufpool *bp, size_t len)
{
    int k = buf_class(len);
    if (k < 0) {
        return pl_malloc(len);
    }
    return pl_pool_get(&bp->cls[k]);
}

void
pl_buf_put(pl_bufpool *bp, uint8_t *buf, size_t len)
{
    if (!buf) {
        return;
    }
    int k = buf_class(len);
    if (k < 0) {
        pl_free(buf);
        return;
    }
    pl_pool_put(&bp->cls[k], buf);
}

size_t
pl_buf_cap(size_t len)
{
    int k = buf_class(len);
    return k < 0 ? len : (size_t)1 << (PL_BUF_MIN_SHIFT + k);
}

void
pl_bufpool_trim(pl_bufpool *bp)
{
    for (int k = 0; k < PL_BUF_CLASSES; k++) {
        pl_pool_trim(&bp->cls[k]);
    }
}

int
pl_budget_take(const pl_budget *b, size_t n)
{
    if (b->peer_used &&
        (*b->peer_used > b->peer_cap || n > b->peer_cap - *b->peer_used)) {
        return PARLEY_ENOBUFS;
    }
    if (b->host_used &&
        (*b->host_used > b->host_cap || n > b->host_cap - *b->host_used)) {
        return PARLEY_EFULL;
    }
    if (b->peer_used) {
        *b->peer_used += n;
    }
    if (b->host_used) {
        *b->host_used += n;
    }
    return PARLEY_OK;
}

void
pl_budget_give(const pl_budget *b, size_t n)
{
    if (b->peer_used) {
        *b->peer_used = *b->peer_used >= n ? *b->peer_used - n : 0;
    }
    if (b->host_used) {
        *b->host_used = *b->host_used >= n ? *b->host_used - n : 0;
    }
}
