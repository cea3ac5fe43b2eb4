/*
 * Path-MTU discovery by probing (DPLPMTUD, RFC 8899, as QUIC does it in
 * RFC 9000 section 14): the search state of one connection, as pure
 * functions of (state, event, time). The glue that sends probes and feeds
 * acks and losses in is in pmtu.c too (pl_conn_pmtu_*).
 */
#ifndef PL_CORE_PMTU_H
#define PL_CORE_PMTU_H

#include <stdint.h>

/* Probes lost at one size before the size is taken as too big. */
#define PL_PMTU_MAX_PROBES 3
/* The search stops when the bracket is this narrow (bytes). */
#define PL_PMTU_GRAIN 16
/* After a search ends, how long until it looks for a larger MTU again. */
#define PL_PMTU_RAISE_US (600ull * 1000000)
/* Packets above the base lost, none acked after them, while a later
   smaller packet was: the path shrank (a black hole). */
#define PL_PMTU_BLACKHOLE_LOSSES 6
/* Consecutive PTOs with the MTU raised that also count as a black hole. */
#define PL_PMTU_BLACKHOLE_PTOS 2
/* A probed datagram is at most this fraction of the receive budget. */
#define PL_PMTU_BUDGET_SHARE 32
/* The search restarts this long after the first black hole, twice as
   long after the next, up to PL_PMTU_RAISE_US. */
#define PL_PMTU_BLACKHOLE_PAUSE_US 1000000ull

typedef struct pl_pmtu {
    uint32_t base;    /* agreed in the handshake: always safe */
    uint32_t ceiling; /* min(our max_mtu, the peer's): never probe above */
    uint32_t cur;     /* the largest size known to get through */
    uint32_t hi;      /* the smallest size known to fail (ceiling + 1: none) */
    uint32_t probe;   /* size of the probe in flight; 0: none */
    uint64_t probe_pn;
    uint64_t probe_deadline; /* the probe counts as lost after this */
    uint32_t fails;          /* probes lost at the size being tried */
    uint32_t fail_size;      /* that size */
    uint8_t done;            /* the search ended; restarts at next */
    uint64_t next;           /* no probe before this time */
    uint8_t has_big_acked;
    uint64_t big_acked_pn; /* largest acked packet above the base */
    uint32_t big_lost;     /* packets above the base lost after it */
    uint64_t probes, probes_lost, blackholes;
} pl_pmtu;

/* Starts a search from base up to ceiling (none when ceiling <= base). */
void pl_pmtu_init(pl_pmtu *p, uint32_t base, uint32_t ceiling, uint64_t now);

/* The size of the probe that may go now, or 0. */
uint32_t pl_pmtu_want(const pl_pmtu *p, uint64_t now);

/* A probe of size bytes went out as packet pn; lost if not acked by
   deadline. */
void pl_pmtu_sent(pl_pmtu *p, uint32_t size, uint64_t pn, uint64_t deadline);

/* The send of the probe in flight failed (the OS refused its size). */
void pl_pmtu_refused(pl_pmtu *p, uint64_t now);

/* Packet pn of size bytes was acknowledged. */
void pl_pmtu_on_acked(pl_pmtu *p, uint64_t pn, uint32_t size, uint64_t now);

/* Packet pn of size bytes was declared lost (eliciting: it carried
   something other than ACK and PADDING). */
void pl_pmtu_on_lost(pl_pmtu *p, uint64_t pn, uint32_t size, int eliciting,
                     uint64_t now);

/* A PTO fired; pto_count is the number of consecutive ones. */
void pl_pmtu_on_pto(pl_pmtu *p, unsigned pto_count, uint64_t now);

/* Timers: the probe's deadline, the restart of a finished search. */
void pl_pmtu_tick(pl_pmtu *p, uint64_t now);

/* When pl_pmtu_tick or a probe is next due (UINT64_MAX: never). */
uint64_t pl_pmtu_next_due(const pl_pmtu *p);

#endif
