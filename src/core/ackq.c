/*
 * Received packet numbers as a short list of ranges, highest first, like
 * QUIC's ACK ranges. We keep PL_ACKQ_CAP ranges for duplicate detection;
 * when a new gap would exceed that, the lowest range is forgotten and the
 * floor rises past it, so memory never grows with loss patterns. Acks are
 * delayed up to max_delay or every second ack-eliciting packet, and sent
 * at once when a packet arrives out of order (RFC 9002 section 13.2.1),
 * because that is when the sender needs to hear about the gap.
 */
#include "core/ackq.h"

#include <string.h>

#include "util/alloc.h"

void
pl_ackq_init(pl_ackq *q, uint64_t max_delay_us)
{
    memset(q, 0, sizeof *q);
    q->r = q->small;
    q->cap = PL_ACKQ_SMALL;
    q->deadline = UINT64_MAX;
    q->max_delay = max_delay_us;
}

void
pl_ackq_free(pl_ackq *q)
{
    if (q->r != q->small) {
        pl_free(q->r);
    }
    q->r = q->small;
    q->cap = PL_ACKQ_SMALL;
    q->n = 0;
}

/* Room for one more range, up to PL_ACKQ_CAP; 0 when there is none (at
   the cap, or out of memory: then the lowest range is forgotten, as at
   the cap, so a failed allocation costs only duplicate memory). */
static int
grow(pl_ackq *q)
{
    if (q->n < q->cap) {
        return 1;
    }
    if (q->cap >= PL_ACKQ_CAP) {
        return 0;
    }
    size_t ncap = q->cap * 2 < PL_ACKQ_CAP ? q->cap * 2 : PL_ACKQ_CAP;
    pl_ack_range *n = pl_malloc(ncap * sizeof *n);
    if (!n) {
        return 0;
    }
    memcpy(n, q->r, q->n * sizeof *n);
    if (q->r != q->small) {
        pl_free(q->r);
    }
    q->r = n;
    q->cap = ncap;
    return 1;
}

int
pl_ackq_hurry(pl_ackq *q)
{
    if (pl_ackq_deadline(q) == UINT64_MAX) {
        return 0;
    }
    q->immediate = 1;
    return 1;
}

int
pl_ackq_seen(const pl_ackq *q, uint64_t pn)
{
    if (pn < q->floor) {
        return 1;
    }
    for (size_t i = 0; i < q->n; i++) {
        if (pn > q->r[i].hi) {
            return 0;
        }
        if (pn >= q->r[i].lo) {
            return 1;
        }
    }
    return 0;
}

/* Inserts range [pn, pn] at index i, dropping the lowest when full. */
static void
insert_at(pl_ackq *q, size_t i, uint64_t pn)
{
    if (!grow(q)) {
        if (i == q->n) {
            /* Lower than everything we keep: forget it, raise the floor. */
            q->floor = pn + 1;
            return;
        }
        q->floor = q->r[q->n - 1].hi + 1;
        q->n--;
    }
    memmove(&q->r[i + 1], &q->r[i], (q->n - i) * sizeof q->r[0]);
    q->r[i].lo = pn;
    q->r[i].hi = pn;
    q->n++;
}

/* Adds pn (known unseen, >= floor) to the ranges. */
static void
add_pn(pl_ackq *q, uint64_t pn)
{
    size_t i = 0;
    while (i < q->n && q->r[i].lo > pn) {
        i++;
    }
    /* Now r[i] (if any) is entirely below pn; r[i-1] (if any) above. */
    int joins_above = i > 0 && q->r[i - 1].lo == pn + 1;
    int joins_below = i < q->n && q->r[i].hi + 1 == pn;
    if (joins_above && joins_below) {
        q->r[i - 1].lo = q->r[i].lo;
        memmove(&q->r[i], &q->r[i + 1], (q->n - i - 1) * sizeof q->r[0]);
        q->n--;
    } else if (joins_above) {
        q->r[i - 1].lo = pn;
    } else if (joins_below) {
        q->r[i].hi = pn;
    } else {
        insert_at(q, i, pn);
    }
}

int
pl_ackq_record(pl_ackq *q, uint64_t pn, uint64_t now, int eliciting)
{
    if (pl_ackq_seen(q, pn)) {
        return PL_ACKQ_DUP;
    }
    int had_any = q->n > 0;
    uint64_t largest = had_any ? q->r[0].hi : 0;
    int in_order = !had_any ? pn == q->floor : pn == largest + 1;
    add_pn(q, pn);
    if (!had_any || pn > largest) {
        q->largest_time = now;
    }
    q->pending = 1;
    if (!eliciting) {
        return PL_ACKQ_NEW;
    }
    q->unacked++;
    if (!in_order || q->unacked >= PL_ACKQ_EVERY) {
        q->immediate = 1;
    }
    if (q->deadline == UINT64_MAX) {
        q->deadline = now + q->max_delay;
    }
    return PL_ACKQ_NEW;
}

int
pl_ackq_due(const pl_ackq *q, uint64_t now)
{
    return q->n > 0 && (q->immediate || q->deadline <= now);
}

int
pl_ackq_pending(const pl_ackq *q)
{
    return q->n > 0 && q->pending;
}

uint64_t
pl_ackq_deadline(const pl_ackq *q)
{
    if (q->n == 0) {
        return UINT64_MAX;
    }
    return q->immediate ? 0 : q->deadline;
}

uint64_t
pl_ackq_largest(const pl_ackq *q)
{
    return q->n ? q->r[0].hi : 0;
}

uint64_t
pl_ackq_delay(const pl_ackq *q, uint64_t now)
{
    return now > q->largest_time ? now - q->largest_time : 0;
}

void
pl_ackq_sent(pl_ackq *q)
{
    q->unacked = 0;
    q->immediate = 0;
    q->pending = 0;
    q->deadline = UINT64_MAX;
}

void
pl_ackq_prune(pl_ackq *q, uint64_t largest)
{
    size_t keep = 0;
    while (keep < q->n && q->r[keep].hi >= largest) {
        keep++;
    }
    if (keep == 0 || keep == q->n) {
        return;
    }
    uint64_t new_floor = q->r[keep - 1].lo;
    q->n = keep;
    if (new_floor > q->floor) {
        q->floor = new_floor;
    }
}
