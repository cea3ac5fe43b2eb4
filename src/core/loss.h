/*
 * Loss detection and recovery timers in the manner of RFC 9002: ACK
 * frames mark sent packets acknowledged and give RTT samples; packets are
 * declared lost by a packet threshold (3) or a time threshold (9/8 RTT);
 * a probe timeout with exponential backoff catches tail losses.
 */
#ifndef PL_CORE_LOSS_H
#define PL_CORE_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "core/rtt.h"
#include "core/sent.h"
#include "wire/ack_range.h"

#define PL_LOSS_PACKET_THRESHOLD 3
#define PL_PTO_MAX_BACKOFF 8

/* What to do with each packet as it is acknowledged or lost. */
typedef struct pl_loss_cb {
    void *ctx;
    void (*acked)(void *ctx, uint64_t pn, pl_sent_pkt *p);
    void (*lost)(void *ctx, uint64_t pn, pl_sent_pkt *p);
} pl_loss_cb;

typedef struct pl_loss_result {
    uint64_t newly_acked; /* packets */
    uint64_t acked_bytes; /* of in-flight packets */
    int rtt_sampled;
    uint64_t lost; /* in-flight packets declared lost */
    uint64_t lost_bytes;
    uint64_t largest_lost_time; /* send time of the newest lost packet */
} pl_loss_result;

/*
 * Applies an ACK frame's ranges (descending) at now. Packet numbers beyond
 * what we sent are ignored (a bogus ACK cannot mark unsent packets). Takes an
 * RTT sample when the largest acknowledged packet is newly acked and was
 * ack-eliciting, then runs loss detection. res accumulates.
 */
void pl_loss_on_ack(pl_sent *s, const pl_ack_range *r, size_t n,
                    uint64_t ack_delay_us, uint64_t now, pl_rtt *rtt,
                    const pl_loss_cb *cb, pl_loss_result *res);

/* Declares lost what the thresholds say is lost at now and sets
   s->loss_time for the next candidate. */
void pl_loss_detect(pl_sent *s, uint64_t now, const pl_rtt *rtt,
                    const pl_loss_cb *cb, pl_loss_result *res);

/*
 * When the loss-detection timer fires: the time threshold of a candidate
 * (*is_pto = 0) or the probe timeout (*is_pto = 1), or UINT64_MAX when
 * nothing ack-eliciting is in flight.
 */
uint64_t pl_loss_timer(const pl_sent *s, const pl_rtt *rtt, unsigned pto_count,
                       int *is_pto);

#endif
