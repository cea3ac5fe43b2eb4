/*
 * A small seeded, deterministic, non-cryptographic random number
 * generator (xoshiro256** seeded through splitmix64) for simulations and
 * tests: the same seed always gives the same sequence on every platform.
 * Never use it for keys, nonces or anything an attacker must not guess.
 */
#ifndef PL_UTIL_RNG_H
#define PL_UTIL_RNG_H

#include <stdint.h>

typedef struct pl_rng {
    uint64_t s[4];
} pl_rng;

/* Seeds the generator; every seed (0 included) gives a usable state. */
void pl_rng_seed(pl_rng *rng, uint64_t seed);

/* The next 64 random bits. */
uint64_t pl_rng_next(pl_rng *rng);

/* A uniform double in [0, 1), from one draw. */
double pl_rng_double(pl_rng *rng);

/*
 * A uniform integer in [lo, hi] (inclusive; lo > hi is read as hi..lo),
 * exactly unbiased. It usually takes one draw but may take more (a
 * rejected draw has probability below (hi - lo + 1) / 2^64); callers that
 * need a fixed number of draws use pl_rng_below_of on a raw draw.
 */
uint64_t pl_rng_range(pl_rng *rng, uint64_t lo, uint64_t hi);

/* 1 with probability pct percent (0..100, fractional allowed), else 0. */
int pl_rng_chance(pl_rng *rng, double pct);

/*
 * Conversions of one raw draw (from pl_rng_next), for callers that draw a
 * fixed number of values up front and decide from them afterwards.
 * pl_rng_unit_of: a double in [0, 1) from the top 53 bits.
 * pl_rng_below_of: an integer in [0, n) (0 when n is 0) by a 64x64->128
 *   multiply-high; its bias is below n / 2^64.
 * pl_rng_chance_of: 1 with probability pct percent. pct <= 0 (or NaN) is
 *   never, pct >= 100 always.
 */
double pl_rng_unit_of(uint64_t x);
uint64_t pl_rng_below_of(uint64_t x, uint64_t n);
int pl_rng_chance_of(uint64_t x, double pct);

#endif
