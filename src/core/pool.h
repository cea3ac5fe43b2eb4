/*
 * Free-list pools for the engine's hot path: fixed-size records
 * (messages, receive records) and power-of-two byte buffers. A freed item
 * is kept for reuse up to a cap, so steady traffic allocates nothing.
 */
#ifndef PL_CORE_POOL_H
#define PL_CORE_POOL_H

#include <stddef.h>
#include <stdint.h>

/* A cache of items of one size. Items are not zeroed on reuse. */
typedef struct pl_pool {
    size_t size;     /* item size (at least a pointer) */
    void *free;      /* singly linked through each item's first word */
    size_t nfree;    /* items on the free list */
    size_t max_free; /* most items kept; beyond that they are freed */
} pl_pool;

void pl_pool_init(pl_pool *p, size_t size, size_t max_free);
/* An item, or NULL when out of memory. */
void *pl_pool_get(pl_pool *p);
/* Gives an item back (NULL is ignored). */
void pl_pool_put(pl_pool *p, void *item);
/* Frees every cached item. */
void pl_pool_trim(pl_pool *p);

/* Buffers of 64 B .. 64 KiB in power-of-two classes; larger ones go
   straight to the allocator. */
#define PL_BUF_MIN_SHIFT 6
#define PL_BUF_MAX_SHIFT 16
#define PL_BUF_CLASSES (PL_BUF_MAX_SHIFT - PL_BUF_MIN_SHIFT + 1)
#define PL_BUF_CACHE_BYTES ((size_t)1 << 20) /* kept per class */

typedef struct pl_bufpool {
    pl_pool cls[PL_BUF_CLASSES];
} pl_bufpool;

void pl_bufpool_init(pl_bufpool *bp);
/* A buffer of at least len bytes (len 0 gives a valid buffer), or NULL. */
uint8_t *pl_buf_get(pl_bufpool *bp, size_t len);
/* Gives back a buffer obtained with the same len. */
void pl_buf_put(pl_bufpool *bp, uint8_t *buf, size_t len);
/* The bytes a buffer of len really holds (what budgets are charged). */
size_t pl_buf_cap(size_t len);
void pl_bufpool_trim(pl_bufpool *bp);

/*
 * A memory budget of two levels (a peer and its host). Every charge goes
 * to both; a charge that would take either over its cap fails and changes
 * nothing.
 */
typedef struct pl_budget {
    size_t *peer_used;
    size_t peer_cap;
    size_t *host_used;
    size_t host_cap;
} pl_budget;

/* PARLEY_OK, PARLEY_ENOBUFS (over the peer cap) or PARLEY_EFULL (over the
   host cap). */
int pl_budget_take(const pl_budget *b, size_t n);
void pl_budget_give(const pl_budget *b, size_t n);

#endif
