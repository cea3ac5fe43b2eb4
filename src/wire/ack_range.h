/*
 * The acknowledgement range shared by the ACK frame codec (wire/) and the
 * reliability engine (core/): an inclusive run of packet numbers.
 */
#ifndef PL_WIRE_ACK_RANGE_H
#define PL_WIRE_ACK_RANGE_H

#include <stdint.h>

/* Packet numbers lo..hi inclusive, lo <= hi. Lists of ranges are kept in
   descending order (highest first) and never touch or overlap. */
typedef struct pl_ack_range {
    uint64_t lo;
    uint64_t hi;
} pl_ack_range;

/* Most ranges one ACK frame carries or one decoder accepts. */
#define PL_ACK_MAX_RANGES 64

#endif
