/*
 * The receive side of reliability: which packet numbers arrived (for
 * duplicate detection and for ACK frames) and when an acknowledgement is
 * due (delayed and coalesced, immediate on reordering).
 */
#ifndef PL_CORE_ACKQ_H
#define PL_CORE_ACKQ_H

#include <stddef.h>
#include <stdint.h>

#include "wire/ack_range.h"

/* Ranges remembered for duplicate detection; ACK frames carry the highest
   PL_ACK_MAX_RANGES of them. */
#define PL_ACKQ_CAP 128
/* Ranges held inline; more are allocated as gaps appear (an idle or
   loss-free connection needs one). */
#define PL_ACKQ_SMALL 4
/* Ack after this many ack-eliciting packets even before the delay. */
#define PL_ACKQ_EVERY 2

typedef struct pl_ackq {
    pl_ack_range *r; /* descending, disjoint, non-adjacent: small or heap */
    size_t n, cap;
    pl_ack_range small[PL_ACKQ_SMALL];
    uint64_t floor;        /* packet numbers below it count as seen */
    uint64_t largest_time; /* when r[0].hi arrived */
    unsigned unacked;      /* ack-eliciting packets since our last ACK */
    int immediate;         /* an ACK should go out now */
    int pending;           /* something arrived since our last ACK */
    uint64_t deadline;     /* when the delayed ACK is due; UINT64_MAX: none */
    uint64_t max_delay;    /* the delay we promise (PL_MAX_ACK_DELAY_US) */
} pl_ackq;

#define PL_ACKQ_NEW 0
#define PL_ACKQ_DUP 1

/* The queue must not be copied or moved after init (r may point into
   it). */
void pl_ackq_init(pl_ackq *q, uint64_t max_delay_us);
void pl_ackq_free(pl_ackq *q);

/* Nonzero when pn was seen already (or is below what we remember). */
int pl_ackq_seen(const pl_ackq *q, uint64_t pn);

/*
 * Records an arrived packet. Returns PL_ACKQ_DUP (and changes nothing)
 * for a duplicate. An ack-eliciting packet arms the ack timer; an
 * out-of-order one (a gap below or above) asks for an immediate ACK.
 */
int pl_ackq_record(pl_ackq *q, uint64_t pn, uint64_t now, int eliciting);

/* Nonzero when an ACK must be sent at now (a lone ACK if need be). */
int pl_ackq_due(const pl_ackq *q, uint64_t now);

/* Nonzero when an ACK would tell the peer something new (worth adding to
   a packet that goes out anyway). */
int pl_ackq_pending(const pl_ackq *q);

/* When the delayed ACK falls due; UINT64_MAX when none is owed. */
uint64_t pl_ackq_deadline(const pl_ackq *q);

/* Makes an owed delayed ACK due at once. Returns 0 when none is owed. */
int pl_ackq_hurry(pl_ackq *q);

/* The largest packet number received; 0 when none (check n). */
uint64_t pl_ackq_largest(const pl_ackq *q);

/* The ack delay to report at now, in microseconds. */
uint64_t pl_ackq_delay(const pl_ackq *q, uint64_t now);

/* An ACK frame went out: nothing is owed until more arrives. */
void pl_ackq_sent(pl_ackq *q);

/*
 * The peer acknowledged a packet of ours that carried an ACK whose
 * largest was `largest`: the ranges wholly below it need not be repeated.
 * Packet numbers below the kept ranges then count as seen (a very late
 * original is dropped; its data has been declared lost and resent).
 */
void pl_ackq_prune(pl_ackq *q, uint64_t largest);

#endif
