/*
 * The handshake rate limiter (ratelimit.h): SipHash (crypto_shorthash) of
 * the source IP, keyed per host so an attacker cannot aim collisions,
 * picks a token bucket; a bucket holds up to 2 * rate packets and refills
 * at rate per second.
 */
#include "core/ratelimit.h"

#include <sodium.h>
#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"

int
pl_rl_init(pl_ratelimit *rl, uint32_t rate, const uint8_t key[16])
{
    memset(rl, 0, sizeof *rl);
    rl->rate = rate;
    memcpy(rl->key, key, sizeof rl->key);
    if (rate == 0) {
        return PARLEY_OK;
    }
    rl->s = pl_calloc(PL_RL_SLOTS, sizeof *rl->s);
    return rl->s ? PARLEY_OK : PARLEY_ENOMEM;
}

void
pl_rl_free(pl_ratelimit *rl)
{
    pl_free(rl->s);
    rl->s = NULL;
}

static uint64_t
source_hash(const pl_ratelimit *rl, const parley_addr *from)
{
    uint8_t in[17];
    size_t n = from->family == PARLEY_AF_INET ? 4 : 16;
    in[0] = (uint8_t)from->family;
    memcpy(in + 1, from->ip, n);
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, in, n + 1, rl->key);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof h; i++) {
        v = v << 8 | h[i];
    }
    return v ? v : 1;
}

int
pl_rl_admit(pl_ratelimit *rl, const parley_addr *from, uint64_t now)
{
    if (!rl->s) {
        return 1;
    }
    uint64_t full = (uint64_t)rl->rate * 2000u; /* 2 * rate packets */
    if (full > UINT32_MAX) {
        full = UINT32_MAX;
    }
    uint64_t tag = source_hash(rl, from);
    pl_rl_slot *s = &rl->s[tag % PL_RL_SLOTS];
    if (s->tag != tag) {
        s->tag = tag;
        s->last = now;
        s->tokens = (uint32_t)full;
    } else if (now > s->last) {
        /* rate packets per second = rate thousandths per millisecond. */
        uint64_t add = (now - s->last) / 1000u * rl->rate;
        uint64_t t = s->tokens + add;
        s->tokens = (uint32_t)(t > full ? full : t);
        if (add > 0) {
            s->last = now;
        }
    }
    if (s->tokens < 1000u) {
        return 0;
    }
    s->tokens -= 1000u;
    return 1;
}
