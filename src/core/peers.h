/*
 * The peer table: slots with generation counters, so a parley_peer id
 * (slot + generation) names one connection forever and a stale id never
 * reaches a newer connection in the same slot.
 */
#ifndef PL_CORE_PEERS_H
#define PL_CORE_PEERS_H

#include <stdint.h>

#include "parley/host.h"

struct pl_conn;

typedef struct pl_slot {
    struct pl_conn *conn; /* NULL for a closed peer awaiting its event */
    uint32_t gen;         /* 0: slot free */
    uint32_t next_free;   /* free list link (index + 1, 0 ends) */
    uint8_t state;        /* parley_peer_state while conn is NULL */
} pl_slot;

typedef struct pl_peers {
    pl_slot *s;
    uint32_t n; /* slots ever used (high-water mark) */
    uint32_t cap;
    uint32_t free_head; /* index + 1 of the first free slot, 0: none */
    uint32_t used;      /* slots not free */
    uint32_t last_gen;  /* generation counter shared by all slots */
} pl_peers;

void pl_peers_init(pl_peers *p);
void pl_peers_free(pl_peers *p);

/* Takes a slot for conn. PARLEY_OK with *id, or PARLEY_ENOMEM. */
int pl_peers_alloc(pl_peers *p, struct pl_conn *conn, parley_peer *id);

/* The slot of a live id (conn or closed-awaiting-event), or NULL. */
pl_slot *pl_peers_get(const pl_peers *p, parley_peer id);

/* Frees the slot of id (if the id is current). */
void pl_peers_release(pl_peers *p, parley_peer id);

/* The slot index of an id (no validity check). */
static inline uint32_t
pl_peer_slot(parley_peer id)
{
    return (uint32_t)(id & 0xffffffffu) - 1;
}

#endif
