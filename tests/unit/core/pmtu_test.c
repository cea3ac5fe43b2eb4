/* Tests for the path-MTU search state machine (core/pmtu.c). */
#include "pt.h"

#include "core/pmtu.h"
#include "parley/parley.h"

#define T0 1000000ull

/* Sends the wanted probe as packet pn; returns its size. */
static uint32_t
probe(pl_pmtu *p, uint64_t now, uint64_t pn)
{
    uint32_t size = pl_pmtu_want(p, now);
    if (size != 0) {
        pl_pmtu_sent(p, size, pn, now + 100000);
    }
    return size;
}

PT_TEST(climbs_the_ladder_to_the_ceiling)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 65507, T0);
    PT_EQ_INT(probe(&p, T0, 1), 1452);
    PT_EQ_INT(pl_pmtu_want(&p, T0), 0); /* one probe at a time */
    pl_pmtu_on_acked(&p, 1, 1452, T0);
    PT_EQ_INT(p.cur, 1452);
    PT_EQ_INT(probe(&p, T0, 2), 8952);
    pl_pmtu_on_acked(&p, 2, 8952, T0);
    PT_EQ_INT(probe(&p, T0, 3), 65507);
    pl_pmtu_on_acked(&p, 3, 65507, T0);
    PT_EQ_INT(p.cur, 65507);
    PT_TRUE(p.done);
    PT_EQ_INT(pl_pmtu_want(&p, T0 + PL_PMTU_RAISE_US), 0);
    PT_EQ_U64(pl_pmtu_next_due(&p), T0 + PL_PMTU_RAISE_US);
}

PT_TEST(three_losses_make_a_size_fail_then_bisects)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 65507, T0);
    probe(&p, T0, 1);
    pl_pmtu_on_acked(&p, 1, 1452, T0);
    uint64_t now = T0;
    for (int i = 0; i < PL_PMTU_MAX_PROBES; i++) {
        PT_EQ_INT(probe(&p, now, 10 + (uint64_t)i), 8952);
        if (i == 0) {
            pl_pmtu_on_lost(&p, 10, 8952, 0, now); /* declared lost */
        } else {
            now += 100000;
            pl_pmtu_tick(&p, now); /* timed out */
        }
    }
    PT_EQ_INT(p.hi, 8952);
    PT_EQ_INT(p.cur, 1452);
    PT_EQ_U64(p.probes_lost, 3);
    /* Between 1452 and 8951. */
    PT_EQ_INT(pl_pmtu_want(&p, now), 1452 + (8951 - 1452 + 1) / 2);
}

PT_TEST(a_loss_then_success_keeps_the_size)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 9000, T0);
    probe(&p, T0, 1);
    pl_pmtu_tick(&p, T0 + 100000);
    PT_EQ_INT(p.hi, 9001);
    PT_EQ_INT(probe(&p, T0 + 100000, 2), 1452);
    pl_pmtu_on_acked(&p, 2, 1452, T0);
    PT_EQ_INT(p.cur, 1452);
    /* A stale ack of an older packet number raises nothing. */
    PT_EQ_INT(probe(&p, T0, 3), 8952);
    pl_pmtu_on_acked(&p, 1, 8952, T0);
    PT_EQ_INT(p.cur, 1452);
}

PT_TEST(the_os_refusing_a_size_fails_it_at_once)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 65507, T0);
    p.cur = 8952;
    PT_EQ_INT(probe(&p, T0, 1), 65507);
    pl_pmtu_refused(&p, T0);
    PT_EQ_INT(p.hi, 65507);
    PT_EQ_INT(pl_pmtu_want(&p, T0), 8952 + (65506 - 8952 + 1) / 2);
}

PT_TEST(converges_to_within_the_grain)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 65507, T0);
    const uint32_t path = 5000;
    uint64_t pn = 1, now = T0;
    for (int step = 0; step < 200 && !p.done; step++) {
        uint32_t size = probe(&p, now, pn);
        PT_GT_INT(size, 0);
        if (size <= path) {
            pl_pmtu_on_acked(&p, pn, size, now);
        } else {
            now += 100000;
            pl_pmtu_tick(&p, now);
        }
        pn++;
    }
    PT_TRUE(p.done);
    PT_LE_INT(p.cur, path);
    PT_GE_INT(p.cur, path - PL_PMTU_GRAIN);
}

/* A finished search looks again after PL_PMTU_RAISE_US: a path that grew
   is found. */
PT_TEST(searches_again_after_the_raise_interval)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 65507, T0);
    uint64_t pn = 1, now = T0;
    while (!p.done) {
        uint32_t size = probe(&p, now, pn);
        PT_GT_INT(size, 0);
        if (size <= 8952) {
            pl_pmtu_on_acked(&p, pn, size, now);
        } else {
            now += 100000;
            pl_pmtu_tick(&p, now);
        }
        pn++;
    }
    PT_EQ_INT(p.cur, 8952);
    pl_pmtu_tick(&p, now + PL_PMTU_RAISE_US - 1);
    PT_TRUE(p.done);
    pl_pmtu_tick(&p, now + PL_PMTU_RAISE_US);
    PT_TRUE(!p.done);
    PT_EQ_INT(probe(&p, now + PL_PMTU_RAISE_US, pn), 65507);
    pl_pmtu_on_acked(&p, pn, 65507, now);
    PT_EQ_INT(p.cur, 65507);
}

PT_TEST(black_hole_by_losses_falls_back_and_pauses)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 65507, T0);
    p.cur = 65507;
    p.done = 1;
    pl_pmtu_on_acked(&p, 100, 65507, T0); /* a big packet got through */
    /* Losses before it are congestion, whatever their number. */
    for (uint64_t pn = 50; pn < 100; pn++) {
        pl_pmtu_on_lost(&p, pn, 65507, 1, T0);
    }
    PT_EQ_INT(p.cur, 65507);
    /* Small and non-eliciting losses say nothing about the path. */
    for (uint64_t pn = 101; pn < 120; pn++) {
        pl_pmtu_on_lost(&p, pn, pn % 2 ? 1000 : 65507, pn % 2, T0);
    }
    PT_EQ_INT(p.cur, 65507);
    for (uint64_t pn = 120; pn < 120 + PL_PMTU_BLACKHOLE_LOSSES; pn++) {
        pl_pmtu_on_lost(&p, pn, 65507, 1, T0);
    }
    PT_EQ_INT(p.cur, 1200);
    PT_EQ_U64(p.blackholes, 1);
    PT_EQ_INT(pl_pmtu_want(&p, T0), 0);
    PT_EQ_INT(pl_pmtu_want(&p, T0 + PL_PMTU_BLACKHOLE_PAUSE_US), 1452);
}

PT_TEST(black_hole_by_ptos_and_the_pause_doubles)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 65507, T0);
    p.cur = 8952;
    pl_pmtu_on_pto(&p, 1, T0);
    PT_EQ_INT(p.cur, 8952);
    pl_pmtu_on_pto(&p, PL_PMTU_BLACKHOLE_PTOS, T0);
    PT_EQ_INT(p.cur, 1200);
    PT_EQ_U64(pl_pmtu_next_due(&p), T0 + PL_PMTU_BLACKHOLE_PAUSE_US);
    p.cur = 8952;
    pl_pmtu_on_pto(&p, PL_PMTU_BLACKHOLE_PTOS, T0);
    PT_EQ_U64(pl_pmtu_next_due(&p), T0 + 2 * PL_PMTU_BLACKHOLE_PAUSE_US);
    /* At the base already: nothing to fall back from. */
    pl_pmtu_on_pto(&p, 5, T0);
    PT_EQ_U64(p.blackholes, 2);
}

PT_TEST(no_ceiling_no_probes)
{
    pl_pmtu p;
    pl_pmtu_init(&p, 1200, 1200, T0);
    PT_EQ_INT(pl_pmtu_want(&p, T0 + PL_PMTU_RAISE_US * 2), 0);
    PT_EQ_U64(pl_pmtu_next_due(&p), UINT64_MAX);
    pl_pmtu_init(&p, 1200, 0, T0);
    PT_EQ_INT(p.ceiling, 1200);
    PT_EQ_INT(pl_pmtu_want(&p, T0), 0);
}

// clang-format off
PT_MAIN(
    PT_RUN(climbs_the_ladder_to_the_ceiling)
    PT_RUN(three_losses_make_a_size_fail_then_bisects)
    PT_RUN(a_loss_then_success_keeps_the_size)
    PT_RUN(the_os_refusing_a_size_fails_it_at_once)
    PT_RUN(converges_to_within_the_grain)
    PT_RUN(searches_again_after_the_raise_interval)
    PT_RUN(black_hole_by_losses_falls_back_and_pauses)
    PT_RUN(black_hole_by_ptos_and_the_pause_doubles)
    PT_RUN(no_ceiling_no_probes))
// clang-format on
