/*
 * Peer slots. An id is (generation << 32) | (slot + 1): never 0, so
 * PARLEY_PEER_NONE is never valid. Generations come from one host-wide
 * counter rather than one per slot, so an id is not repeated until that
 * counter wraps (2^32 connections later), and a stale id whose slot was
 * reused fails the generation check instead of reaching the new peer.
 */
#include "core/peers.h"

#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"

void
pl_peers_init(pl_peers *p)
{
    memset(p, 0, sizeof *p);
}

void
pl_peers_free(pl_peers *p)
{
    pl_free(p->s);
    memset(p, 0, sizeof *p);
}

static int
grow(pl_peers *p)
{
    uint32_t ncap = p->cap ? p->cap * 2 : 16;
    if (ncap < p->cap) {
        return PARLEY_ENOMEM;
    }
    pl_slot *n = pl_realloc(p->s, (size_t)ncap * sizeof *n);
    if (!n) {
        return PARLEY_ENOMEM;
    }
    memset(n + p->cap, 0, (size_t)(ncap - p->cap) * sizeof *n);
    p->s = n;
    p->cap = ncap;
    return PARLEY_OK;
}

int
pl_peers_alloc(pl_peers *p, struct pl_conn *conn, parley_peer *id)
{
    uint32_t idx;
    if (p->free_head) {
        idx = p->free_head - 1;
        p->free_head = p->s[idx].next_free;
    } else {
        if (p->n == UINT32_MAX - 1) {
            return PARLEY_ENOMEM;
        }
        if (p->n == p->cap && grow(p) != PARLEY_OK) {
            return PARLEY_ENOMEM;
        }
        idx = p->n++;
    }
    if (++p->last_gen == 0) {
        p->last_gen = 1;
    }
    pl_slot *s = &p->s[idx];
    s->conn = conn;
    s->gen = p->last_gen;
    s->next_free = 0;
    s->state = PARLEY_PEER_DISCONNECTED;
    p->used++;
    *id = ((uint64_t)s->gen << 32) | (uint64_t)(idx + 1);
    return PARLEY_OK;
}

pl_slot *
pl_peers_get(const pl_peers *p, parley_peer id)
{
    uint32_t low = (uint32_t)(id & 0xffffffffu);
    uint32_t gen = (uint32_t)(id >> 32);
    if (low == 0 || gen == 0 || low > p->n) {
        return NULL;
    }
    pl_slot *s = &p->s[low - 1];
    return s->gen == gen ? s : NULL;
}

void
pl_peers_release(pl_peers *p, parley_peer id)
{
    pl_slot *s = pl_peers_get(p, id);
    if (!s) {
        return;
    }
    uint32_t idx = pl_peer_slot(id);
    s->conn = NULL;
    s->gen = 0;
    s->next_free = p->free_head;
    p->free_head = idx + 1;
    p->used--;
}
