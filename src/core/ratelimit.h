/*
 * Per-source rate limit on handshake packets: a fixed table of token
 * buckets indexed by a keyed hash of the source IP. The table never grows;
 * a source whose slot is taken by another simply replaces it, so a flood
 * from many forged addresses costs a fixed amount of memory.
 */
#ifndef PL_CORE_RATELIMIT_H
#define PL_CORE_RATELIMIT_H

#include <stdint.h>

#include "parley/addr.h"

#define PL_RL_SLOTS 1024

typedef struct pl_rl_slot {
    uint64_t tag;    /* hash of the source IP; 0: free */
    uint64_t last;   /* when tokens were last computed, microseconds */
    uint32_t tokens; /* in thousandths of a packet */
} pl_rl_slot;

typedef struct pl_ratelimit {
    pl_rl_slot *s; /* PL_RL_SLOTS, or NULL: no limit */
    uint32_t rate; /* packets per second; burst is twice that */
    uint8_t key[16];
} pl_ratelimit;

/* rate 0: no limit (nothing is allocated). PARLEY_OK or PARLEY_ENOMEM. */
int pl_rl_init(pl_ratelimit *rl, uint32_t rate, const uint8_t key[16]);
void pl_rl_free(pl_ratelimit *rl);
/* 1 when a handshake packet from `from` at `now` is admitted. */
int pl_rl_admit(pl_ratelimit *rl, const parley_addr *from, uint64_t now);

#endif
