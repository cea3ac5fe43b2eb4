/*
 * xoshiro256** (Blackman and Vigna) with splitmix64 seeding: fast, small
 * state, good statistical quality, fully deterministic. Written from the
 * published algorithm descriptions.
 */
#include "util/rng.h"

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One splitmix64 step: spreads any seed over the whole 256-bit state. */
static uint64_t
splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void
pl_rng_seed(pl_rng *rng, uint64_t seed)
{
    uint64_t sm = seed;
    for (int i = 0; i < 4; i++) {
        rng->s[i] = splitmix64(&sm);
    }
    /* xoshiro must not start from all zeros; splitmix64 cannot give four
       zero outputs in a row, but keep the guard explicit. */
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0) {
        rng->s[0] = 1;
    }
}

uint64_t
pl_rng_next(pl_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double
pl_rng_unit_of(uint64_t x)
{
    return (double)(x >> 11) * (1.0 / 9007199254740992.0); /* 2^-53 */
}

/* The high and low 64 bits of x * n, from 32-bit halves (portable C11). */
static void
mul128(uint64_t x, uint64_t n, uint64_t *hi, uint64_t *lo)
{
    uint64_t xl = x & 0xffffffffu, xh = x >> 32;
    uint64_t nl = n & 0xffffffffu, nh = n >> 32;
    uint64_t ll = xl * nl, lh = xl * nh, hl = xh * nl, hh = xh * nh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    *lo = (mid << 32) | (ll & 0xffffffffu);
}

uint64_t
pl_rng_below_of(uint64_t x, uint64_t n)
{
    uint64_t hi, lo;
    mul128(x, n, &hi, &lo);
    return hi;
}

int
pl_rng_chance_of(uint64_t x, double pct)
{
    if (!(pct > 0.0)) {
        return 0;
    }
    if (pct >= 100.0) {
        return 1;
    }
    return pl_rng_unit_of(x) < pct / 100.0;
}

double
pl_rng_double(pl_rng *rng)
{
    return pl_rng_unit_of(pl_rng_next(rng));
}

int
pl_rng_chance(pl_rng *rng, double pct)
{
    return pl_rng_chance_of(pl_rng_next(rng), pct);
}

uint64_t
pl_rng_range(pl_rng *rng, uint64_t lo, uint64_t hi)
{
    if (lo > hi) {
        uint64_t t = lo;
        lo = hi;
        hi = t;
    }
    uint64_t n = hi - lo + 1; /* 0 means the full 2^64 range */
    if (n == 0) {
        return pl_rng_next(rng);
    }
    /* Lemire's method: reject the few draws whose low product falls in
       the 2^64 mod n values that would make some results more likely. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t h, l;
        mul128(pl_rng_next(rng), n, &h, &l);
        if (l >= threshold) {
            return lo + h;
        }
    }
}
