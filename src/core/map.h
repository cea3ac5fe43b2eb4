/*
 * Two small open-addressing hash tables: pl_rxmap, from (channel, mode,
 * sequence) to a receive record, and pl_connmap, from a 64-bit key to a
 * 32-bit value (connection ids to peer slots). Linear probing with
 * backward-shift deletion, so no tombstones; they grow by doubling.
 */
#ifndef PL_CORE_MAP_H
#define PL_CORE_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct pl_rxmap_ent {
    uint64_t seq;
    void *val; /* NULL: empty slot */
    uint16_t tag;
} pl_rxmap_ent;

typedef struct pl_rxmap {
    pl_rxmap_ent *e;
    size_t cap, n; /* cap is 0 or a power of two */
} pl_rxmap;

/* Bytes a map of n entries may hold at most (for budgets). */
#define PL_RXMAP_ENTRY_COST (2 * sizeof(pl_rxmap_ent))

void pl_rxmap_init(pl_rxmap *m);
void pl_rxmap_free(pl_rxmap *m);
void *pl_rxmap_get(const pl_rxmap *m, uint16_t tag, uint64_t seq);
/* Inserts (or replaces). PARLEY_OK or PARLEY_ENOMEM. val != NULL. */
int pl_rxmap_put(pl_rxmap *m, uint16_t tag, uint64_t seq, void *val);
/* Removes and returns the value, or NULL. */
void *pl_rxmap_del(pl_rxmap *m, uint16_t tag, uint64_t seq);

typedef struct pl_connmap_ent {
    uint64_t key;
    uint32_t val;
    uint32_t used;
} pl_connmap_ent;

typedef struct pl_connmap {
    pl_connmap_ent *e;
    size_t cap, n;
} pl_connmap;

void pl_connmap_init(pl_connmap *m);
void pl_connmap_free(pl_connmap *m);
/* PARLEY_OK with *val, or PARLEY_ENOENT. */
int pl_connmap_get(const pl_connmap *m, uint64_t key, uint32_t *val);
/* PARLEY_OK, PARLEY_EEXIST or PARLEY_ENOMEM. */
int pl_connmap_put(pl_connmap *m, uint64_t key, uint32_t val);
void pl_connmap_del(pl_connmap *m, uint64_t key);

#endif
