/*
 * Congestion control: NewReno window growth with a Westwood+ style
 * bandwidth-estimate floor on backoff, loss told apart as random or
 * overflow (RTT and per-round loss rate), plus a pacer that spreads
 * packets at a rate derived from the window (and an optional fixed cap).
 */
#ifndef PL_CORE_CC_H
#define PL_CORE_CC_H

#include <stdint.h>

#define PL_CC_BW_SLOTS 5 /* epochs in the bandwidth max filter */

typedef struct pl_cc {
    uint64_t mss;            /* bytes in a full packet */
    uint64_t cwnd;           /* congestion window, bytes */
    uint64_t ssthresh;       /* slow start threshold, bytes */
    uint64_t recovery_start; /* packets sent before it do not grow or
                                shrink the window again */
    int in_recovery;
    uint64_t ca_acked; /* bytes acked toward the next +1 mss */
    uint64_t congestion_events;
    /* Windowed max of delivery-rate samples, bytes/s, one slot per epoch
       of about one smoothed RTT. */
    uint64_t bw[PL_CC_BW_SLOTS];
    uint64_t bw_epoch_start;
    unsigned bw_slot;
    /* Minimum RTT of this and the previous epoch (about one srtt each):
       above the path's minimum when a queue stands at the bottleneck. */
    uint64_t rtt_min_cur, rtt_min_prev, rtt_epoch_start;
    /* Bytes acked and declared lost in this round trip (it ends when a
       packet sent after round_start is acked) and in the one before:
       the loss rate that separates overflow from random loss. */
    uint64_t round_start;
    uint64_t round_acked, round_lost, prev_acked, prev_lost;
    uint64_t round_rtt_max, prev_rtt_max; /* largest RTT sample of each */
    /* HyStart++ (RFC 9406): the smallest RTT of this and the last round
       trip in slow start, and how many samples this one has. */
    uint64_t ss_round_min, ss_last_min;
    unsigned ss_samples;
    int round_congested; /* this round trip had a congestion backoff */
    /* The most in flight the path held before it last overflowed (a
       queue or heavy loss), UINT64_MAX before any: random-loss recovery
       regrows the window up to it, not beyond. It probes upward by
       probe_step, doubling each round trip without congestion. */
    uint64_t inflight_hi, probe_step;
} pl_cc;

void pl_cc_init(pl_cc *cc, uint64_t mss);

/* Nonzero when a packet of size bytes may go out with bytes_in_flight
   already outstanding. */
int pl_cc_can_send(const pl_cc *cc, uint64_t bytes_in_flight, uint64_t size);

/*
 * An in-flight packet of size bytes, sent at sent_time, was acked.
 * cwnd_limited: the sender was using most of its window, so growth is
 * earned (RFC 9002 section 7.8).
 */
void pl_cc_on_ack(pl_cc *cc, uint64_t size, uint64_t sent_time, uint64_t now,
                  int cwnd_limited);

/* A delivery-rate sample (bytes/s) at now; srtt_us sets the epoch. */
void pl_cc_on_rate(pl_cc *cc, uint64_t rate, uint64_t now, uint64_t srtt_us);

/* An RTT sample (latest_us) at now, for the recent-minimum filter. */
void pl_cc_on_rtt(pl_cc *cc, uint64_t latest_us, uint64_t now,
                  uint64_t srtt_us);

/* The recent minimum RTT, or 0 before any sample. */
uint64_t pl_cc_recent_min_rtt(const pl_cc *cc);

/* The current bandwidth estimate (max of recent samples), bytes/s. */
uint64_t pl_cc_bw(const pl_cc *cc);

/*
 * Packets (lost_bytes in all) were declared lost; the newest of them was
 * sent at sent_time. At most one backoff per round trip (a recovery
 * period). min_rtt_us and srtt_us, rttvar_us (the path's minimum,
 * smoothed RTT and variation) tell a queue from random loss and set the
 * bandwidth floor.
 */
void pl_cc_on_loss(pl_cc *cc, uint64_t sent_time, uint64_t lost_bytes,
                   uint64_t now, uint64_t min_rtt_us, uint64_t srtt_us,
                   uint64_t rttvar_us);

/* Persistent congestion (every probe lost): back to the minimum window. */
void pl_cc_collapse(pl_cc *cc);

/* The pacing rate for srtt_us, bytes per second (never 0). */
uint64_t pl_cc_pacing_rate(const pl_cc *cc, uint64_t srtt_us);

/* A token-bucket pacer in micro-bytes so that integer maths stays exact. */
typedef struct pl_pacer {
    uint64_t tokens; /* byte-microseconds: bytes * 1e6 */
    uint64_t last;   /* time tokens were last added */
} pl_pacer;

void pl_pacer_init(pl_pacer *p, uint64_t now, uint64_t burst);
/* When a packet of size may leave at rate with burst; <= now: at once. */
uint64_t pl_pacer_next(pl_pacer *p, uint64_t now, uint64_t rate, uint64_t burst,
                       uint64_t size);
/* Takes size bytes of tokens (may go into debt by one packet). */
void pl_pacer_spend(pl_pacer *p, uint64_t size);

#endif
