/* Tests for the engine's hash tables against a brute-force reference. */
#include "pt.h"

#include "core/map.h"
#include "parley/parley.h"
#include "util/rng.h"

#define N 2000

PT_TEST(rxmap_matches_reference)
{
    uint64_t seed = 9;
    pt_seed(seed);
    pl_rng rng;
    pl_rng_seed(&rng, seed);
    static void *ref[N];
    memset(ref, 0, sizeof ref);
    pl_rxmap m;
    pl_rxmap_init(&m);
    for (int step = 0; step < 50000; step++) {
        size_t k = (size_t)pl_rng_range(&rng, 0, N - 1);
        uint16_t tag = (uint16_t)(k % 7);
        uint64_t seq = k / 7 * 1000003;
        void *v = (void *)(uintptr_t)(step + 1);
        if (pl_rng_chance(&rng, 55)) {
            PT_OK(pl_rxmap_put(&m, tag, seq, v));
            ref[k] = v;
        } else {
            PT_TRUE(pl_rxmap_del(&m, tag, seq) == ref[k]);
            ref[k] = NULL;
        }
        size_t q = (size_t)pl_rng_range(&rng, 0, N - 1);
        PT_TRUE(pl_rxmap_get(&m, (uint16_t)(q % 7), q / 7 * 1000003) == ref[q]);
    }
    size_t live = 0;
    for (size_t k = 0; k < N; k++) {
        live += ref[k] != NULL;
    }
    PT_EQ_U64(m.n, live);
    pl_rxmap_free(&m);
}

PT_TEST(connmap_matches_reference)
{
    uint64_t seed = 10;
    pt_seed(seed);
    pl_rng rng;
    pl_rng_seed(&rng, seed);
    static uint32_t ref[N];
    static int has[N];
    memset(has, 0, sizeof has);
    pl_connmap m;
    pl_connmap_init(&m);
    for (int step = 0; step < 50000; step++) {
        size_t k = (size_t)pl_rng_range(&rng, 0, N - 1);
        uint64_t key = (uint64_t)k * 0x9E3779B97F4A7C15ull;
        if (pl_rng_chance(&rng, 55)) {
            int rc = pl_connmap_put(&m, key, (uint32_t)step);
            PT_EQ_INT(rc, has[k] ? PARLEY_EEXIST : PARLEY_OK);
            if (!has[k]) {
                has[k] = 1;
                ref[k] = (uint32_t)step;
            }
        } else {
            pl_connmap_del(&m, key);
            has[k] = 0;
        }
        size_t q = (size_t)pl_rng_range(&rng, 0, N - 1);
        uint32_t v;
        int rc = pl_connmap_get(&m, (uint64_t)q * 0x9E3779B97F4A7C15ull, &v);
        PT_EQ_INT(rc, has[q] ? PARLEY_OK : PARLEY_ENOENT);
        if (has[q]) {
            PT_EQ_INT(v, ref[q]);
        }
    }
    pl_connmap_free(&m);
}

PT_MAIN(PT_RUN(rxmap_matches_reference) PT_RUN(connmap_matches_reference))
