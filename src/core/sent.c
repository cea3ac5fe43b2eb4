/*
 * Growable rings of sent-packet records and chunks. Records are appended
 * in packet-number order and leave from the front once acknowledged or
 * lost; a packet acknowledged in the middle just waits, flagged, for the
 * ones before it. Chunks are appended per packet in the same order, so
 * when a record leaves the front its chunks are the front of the chunk
 * ring. Growth doubles; nothing is allocated per packet in steady state.
 */
#include "core/sent.h"

#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"

#define SENT_INITIAL_CAP 8
#define CHUNK_INITIAL_CAP 16

void
pl_sent_init(pl_sent *s)
{
    memset(s, 0, sizeof *s);
}

void
pl_sent_free(pl_sent *s)
{
    pl_free(s->pkts);
    pl_free(s->chunks);
    s->pkts = NULL;
    s->chunks = NULL;
    s->cap = s->ccap = s->n = 0;
}

/* Doubles a ring of elem-size items holding [base, base+count), indexed
   by absolute position masked with the capacity. */
static int
grow_ring(void **ring, size_t *cap, size_t elem, uint64_t base, size_t count,
          size_t initial)
{
    size_t ncap = *cap ? *cap * 2 : initial;
    if (ncap > SIZE_MAX / elem) {
        return PARLEY_ENOMEM;
    }
    unsigned char *n = pl_malloc(ncap * elem);
    if (!n) {
        return PARLEY_ENOMEM;
    }
    unsigned char *o = *ring;
    for (size_t i = 0; i < count; i++) {
        uint64_t a = base + i;
        memcpy(n + (a & (ncap - 1)) * elem, o + (a & (*cap - 1)) * elem, elem);
    }
    pl_free(o);
    *ring = n;
    *cap = ncap;
    return PARLEY_OK;
}

int
pl_sent_add_chunk(pl_sent *s, struct pl_msg *msg, uint32_t off, uint32_t len)
{
    size_t count = (size_t)(s->cend - s->cbase);
    if (count == s->ccap) {
        void *ring = s->chunks;
        int rc = grow_ring(&ring, &s->ccap, sizeof(pl_chunk), s->cbase, count,
                           CHUNK_INITIAL_CAP);
        if (rc != PARLEY_OK) {
            return rc;
        }
        s->chunks = ring;
    }
    pl_chunk *c = pl_sent_chunk(s, s->cend++);
    c->msg = msg;
    c->off = off;
    c->len = len;
    return PARLEY_OK;
}

void
pl_sent_rewind_chunks(pl_sent *s, uint64_t end)
{
    if (end >= s->cbase && end <= s->cend) {
        s->cend = end;
    }
}

int
pl_sent_reserve(pl_sent *s)
{
    if (s->n < s->cap) {
        return PARLEY_OK;
    }
    void *ring = s->pkts;
    int rc = grow_ring(&ring, &s->cap, sizeof(pl_sent_pkt), s->base_pn, s->n,
                       SENT_INITIAL_CAP);
    if (rc == PARLEY_OK) {
        s->pkts = ring;
    }
    return rc;
}

pl_sent_pkt *
pl_sent_push(pl_sent *s, uint64_t now, uint32_t size, uint8_t flags,
             uint64_t chunk_first)
{
    if (pl_sent_reserve(s) != PARLEY_OK) {
        return NULL;
    }
    uint64_t pn = s->base_pn + s->n;
    pl_sent_pkt *p = &s->pkts[pn & (s->cap - 1)];
    memset(p, 0, sizeof *p);
    p->time = now;
    p->size = size;
    p->flags = flags;
    p->chunk_first = chunk_first;
    p->nchunks = (uint32_t)(s->cend - chunk_first);
    s->n++;
    if (flags & PL_SENT_ELICITING) {
        s->bytes_in_flight += size;
        s->eliciting_in_flight++;
        s->last_eliciting_time = now;
    }
    return p;
}

pl_sent_pkt *
pl_sent_get(const pl_sent *s, uint64_t pn)
{
    if (pn < s->base_pn || pn - s->base_pn >= s->n) {
        return NULL;
    }
    return &s->pkts[pn & (s->cap - 1)];
}

void
pl_sent_pop(pl_sent *s)
{
    while (s->n > 0) {
        pl_sent_pkt *p = &s->pkts[s->base_pn & (s->cap - 1)];
        if (!(p->flags & (PL_SENT_ACKED | PL_SENT_LOST))) {
            break;
        }
        uint64_t end = p->chunk_first + p->nchunks;
        if (end > s->cbase) {
            s->cbase = end;
        }
        s->base_pn++;
        s->n--;
    }
}
