/*
 * Round-trip time estimation (RFC 6298 smoothing, RFC 9002 sampling): the
 * smoothed RTT, its variation, the minimum and the latest sample, and the
 * timeouts derived from them.
 */
#ifndef PL_CORE_RTT_H
#define PL_CORE_RTT_H

#include <stdint.h>

#define PL_RTT_INITIAL_US 333000u   /* before any sample (RFC 9002) */
#define PL_RTT_GRANULARITY_US 1000u /* timer granularity */
#define PL_MAX_ACK_DELAY_US 25000u  /* how long we (and peers) delay acks */
#define PL_RTO_MIN_US 200000u
#define PL_RTO_MAX_US 60000000u

typedef struct pl_rtt {
    uint64_t srtt, rttvar, min_rtt, latest;
    int has_sample;
} pl_rtt;

/* Starts with initial_us as the assumed RTT (0: PL_RTT_INITIAL_US). */
void pl_rtt_init(pl_rtt *r, uint64_t initial_us);

/*
 * Takes a sample: latest_us from sending a packet to its acknowledgement,
 * ack_delay_us what the peer says it held the ack back (capped at
 * max_ack_delay_us). The delay is subtracted only when that does not take
 * the sample below the minimum RTT (RFC 9002 section 5.3).
 */
void pl_rtt_sample(pl_rtt *r, uint64_t latest_us, uint64_t ack_delay_us,
                   uint64_t max_ack_delay_us);

/* The probe timeout before backoff: srtt + max(4 rttvar, granularity) +
   max_ack_delay (RFC 9002 section 6.2.1). */
uint64_t pl_rtt_pto(const pl_rtt *r, uint64_t max_ack_delay_us);

/* The time-threshold loss delay: 9/8 max(srtt, latest), at least the
   granularity (RFC 9002 section 6.1.2). */
uint64_t pl_rtt_loss_delay(const pl_rtt *r);

/* RFC 6298 retransmission timeout srtt + max(G, 4 rttvar), clamped to
   [PL_RTO_MIN_US, PL_RTO_MAX_US], doubled per backoff step. */
uint64_t pl_rtt_rto(const pl_rtt *r, unsigned backoff);

#endif
