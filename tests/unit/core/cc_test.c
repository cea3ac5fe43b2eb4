/* Tests for congestion control (NewReno + Westwood+ floor) and pacing. */
#include "pt.h"

#include "core/cc.h"
#include "parley/parley.h"

#define MSS 1200

PT_TEST(initial_window)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    PT_EQ_U64(cc.cwnd, 10 * MSS); /* 12000 < 14720 */
    pl_cc_init(&cc, 1500);
    PT_EQ_U64(cc.cwnd, 14720);
    PT_TRUE(pl_cc_can_send(&cc, 0, MSS));
    PT_TRUE(!pl_cc_can_send(&cc, 14720, MSS));
}

PT_TEST(slow_start_then_avoidance)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    uint64_t w0 = cc.cwnd;
    pl_cc_on_ack(&cc, MSS, 10, 10, 1);
    PT_EQ_U64(cc.cwnd, w0 + MSS); /* slow start: + acked bytes */
    /* Not using the window earns nothing. */
    pl_cc_on_ack(&cc, MSS, 11, 11, 0);
    PT_EQ_U64(cc.cwnd, w0 + MSS);
    /* A loss halves (no bandwidth estimate yet). */
    pl_cc_on_loss(&cc, 20, MSS, 1000, 0, 0, 0);
    uint64_t w1 = (w0 + MSS) / 2;
    PT_EQ_U64(cc.cwnd, w1);
    PT_EQ_U64(cc.ssthresh, w1);
    /* Congestion avoidance: one MSS per window of acked bytes. */
    pl_cc_on_ack(&cc, MSS, 2000, 2000, 1);
    PT_EQ_U64(cc.cwnd, w1);
    uint64_t acked = MSS;
    while (acked < w1) {
        pl_cc_on_ack(&cc, MSS, 2000, 2000, 1);
        acked += MSS;
    }
    PT_EQ_U64(cc.cwnd, w1 + MSS);
}

PT_TEST(one_backoff_per_recovery_period)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    cc.cwnd = 100 * MSS;
    pl_cc_on_loss(&cc, 500, MSS, 1000, 0, 0, 0);
    PT_EQ_U64(cc.cwnd, 50 * MSS);
    /* Another loss of a packet sent before the recovery began: no more. */
    pl_cc_on_loss(&cc, 900, MSS, 1100, 0, 0, 0);
    PT_EQ_U64(cc.cwnd, 50 * MSS);
    /* Acks of old packets do not grow the window in recovery. */
    pl_cc_on_ack(&cc, MSS * 100, 999, 999, 1);
    PT_EQ_U64(cc.cwnd, 50 * MSS);
    /* A packet sent after recovery began ends it; then a new loss counts. */
    pl_cc_on_loss(&cc, 1200, MSS, 3000, 0, 0, 0);
    PT_EQ_U64(cc.cwnd, 25 * MSS);
    PT_EQ_U64(cc.congestion_events, 2);
    /* Never below two packets. */
    for (uint64_t t = 10000; t < 20000; t += 1000) {
        pl_cc_on_loss(&cc, t, MSS, t + 1, 0, 0, 0);
    }
    PT_EQ_U64(cc.cwnd, 2 * MSS);
    pl_cc_collapse(&cc);
    PT_EQ_U64(cc.cwnd, 2 * MSS);
}

PT_TEST(westwood_floor)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    cc.cwnd = 100 * MSS;
    /* Delivered 1 MB/s over a 80 ms min RTT: BDP 80000 > cwnd / 2. */
    pl_cc_on_rate(&cc, 1000000, 100, 50000);
    PT_EQ_U64(pl_cc_bw(&cc), 1000000);
    pl_cc_on_loss(&cc, 100, MSS, 200, 80000, 80000, 0);
    PT_EQ_U64(cc.cwnd, 80000);
    /* A floor above the window never grows it. */
    pl_cc_init(&cc, MSS);
    cc.cwnd = 40000;
    pl_cc_on_rate(&cc, 10000000, 100, 50000);
    pl_cc_on_loss(&cc, 100, MSS, 200, 80000, 80000, 0);
    PT_EQ_U64(cc.cwnd, 40000);
}

PT_TEST(floor_drains_only_a_standing_queue)
{
    /* Jitter, no queue: recent minimum RTT near the path's minimum, the
       smoothed RTT above it. The floor keeps what was delivered per
       smoothed RTT: 1 MB/s * 100 ms. */
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    cc.cwnd = 150 * MSS;
    cc.ssthresh = cc.cwnd; /* past slow start */
    pl_cc_on_rate(&cc, 1000000, 100, 100000);
    pl_cc_on_rtt(&cc, 62000, 100, 100000);
    pl_cc_on_rtt(&cc, 140000, 200, 100000);
    PT_EQ_U64(pl_cc_recent_min_rtt(&cc), 62000);
    pl_cc_on_loss(&cc, 300, MSS, 400, 60000, 100000, 20000);
    PT_EQ_U64(cc.cwnd, 100000);
    /* A standing queue: every recent sample is 40 ms above the minimum
       with little variation. The floor is BDP at the minimum RTT. */
    pl_cc_init(&cc, MSS);
    cc.cwnd = 200 * MSS;
    pl_cc_on_rate(&cc, 1000000, 100, 100000);
    pl_cc_on_rtt(&cc, 100000, 100, 100000);
    pl_cc_on_rtt(&cc, 101000, 200, 100000);
    pl_cc_on_loss(&cc, 300, MSS, 400, 60000, 100500, 2000);
    PT_EQ_U64(cc.cwnd, 200 * MSS / 2); /* half (120000) beats 60000 */
    pl_cc_init(&cc, MSS);
    cc.cwnd = 100 * MSS;
    pl_cc_on_rate(&cc, 1000000, 100, 100000);
    pl_cc_on_rtt(&cc, 100000, 100, 100000);
    pl_cc_on_loss(&cc, 300, MSS, 400, 60000, 100500, 2000);
    PT_EQ_U64(cc.cwnd, 60000);
}

/* Acks n packets sent at sent, acked at now (one round trip's worth). */
static void
ack_n(pl_cc *cc, int n, uint64_t sent, uint64_t now)
{
    for (int i = 0; i < n; i++) {
        pl_cc_on_ack(cc, MSS, sent, now, 1);
    }
}

PT_TEST(random_loss_keeps_slow_start)
{
    /* No queue (every RTT sample at the path's minimum), 1 loss in 20:
       the window and slow start stay. */
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    pl_cc_on_rtt(&cc, 20000, 1000, 20000);
    ack_n(&cc, 19, 1000, 21000);
    uint64_t w = cc.cwnd;
    pl_cc_on_loss(&cc, 1000, MSS, 21000, 20000, 20000, 100);
    PT_EQ_U64(cc.cwnd, w);
    PT_EQ_U64(cc.ssthresh, UINT64_MAX);
    PT_EQ_U64(cc.congestion_events, 0);
    /* Severe loss (half of the round) ends it whatever the RTT says. */
    pl_cc_on_loss(&cc, 1000, 19 * MSS, 21000, 20000, 20000, 100);
    PT_EQ_U64(cc.congestion_events, 1);
    PT_EQ_U64(cc.cwnd, w / 2);
    PT_EQ_U64(cc.inflight_hi, w - w / 8);
    /* Heavy (not severe) loss, 25 of 195 packets: random while every RTT
       is at the minimum, an overflow once one rose (it sets the
       ceiling). */
    pl_cc_init(&cc, MSS);
    pl_cc_on_rtt(&cc, 20000, 1000, 20000);
    ack_n(&cc, 170, 1000, 21000);
    w = cc.cwnd;
    pl_cc_on_loss(&cc, 1000, 25 * MSS, 21000, 20000, 20000, 100);
    PT_EQ_U64(cc.congestion_events, 0);
    PT_EQ_U64(cc.cwnd, w);
    pl_cc_on_rtt(&cc, 24000, 21000, 20000);
    pl_cc_on_loss(&cc, 1001, 0, 22000, 20000, 20000, 100);
    PT_EQ_U64(cc.congestion_events, 1);
    PT_EQ_U64(cc.inflight_hi, w - w / 8);
    /* Too few packets to judge: 3 of 20 lost is not heavy. */
    pl_cc_init(&cc, MSS);
    pl_cc_on_rtt(&cc, 20000, 1000, 20000);
    ack_n(&cc, 17, 1000, 21000);
    pl_cc_on_rtt(&cc, 24000, 21000, 20000);
    pl_cc_on_loss(&cc, 1000, 3 * MSS, 21000, 20000, 20000, 100);
    PT_EQ_U64(cc.congestion_events, 0);
}

PT_TEST(random_loss_regrows_to_inflight_hi)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    cc.cwnd = 400 * MSS;
    cc.ssthresh = cc.cwnd; /* past slow start */
    /* 100 packets per 20 ms: BDP 100 packets, twice that 200. */
    pl_cc_on_rate(&cc, 100 * MSS * 50, 1000, 20000);
    pl_cc_on_rtt(&cc, 20000, 1000, 20000);
    pl_cc_on_loss(&cc, 1000, MSS, 2000, 20000, 20000, 100);
    PT_EQ_U64(cc.ssthresh, 200 * MSS); /* no overflow yet: 2 BDP */
    /* An overflow at 160 packets sets the ceiling at 140. */
    pl_cc_init(&cc, MSS);
    cc.cwnd = 160 * MSS;
    pl_cc_on_loss(&cc, 1000, MSS, 2000, 0, 0, 0);
    PT_EQ_U64(cc.inflight_hi, 140 * MSS);
    pl_cc_on_rate(&cc, 100 * MSS * 50, 3000, 20000);
    pl_cc_on_rtt(&cc, 20000, 3000, 20000);
    cc.cwnd = 150 * MSS;
    pl_cc_on_loss(&cc, 5000, MSS, 6000, 20000, 20000, 100);
    PT_EQ_U64(cc.cwnd, 100 * MSS); /* the floor: BDP at the srtt */
    PT_EQ_U64(cc.ssthresh, 140 * MSS);
    /* The round of the overflow ends without raising the ceiling; later
       rounds without congestion at the ceiling raise it by 1, 2, 4 ... */
    cc.cwnd = 140 * MSS;
    ack_n(&cc, 1, 7000, 30000);
    PT_EQ_U64(cc.inflight_hi, 140 * MSS);
    ack_n(&cc, 1, 31000, 50000);
    PT_EQ_U64(cc.inflight_hi, 141 * MSS);
    ack_n(&cc, 1, 51000, 70000);
    PT_EQ_U64(cc.inflight_hi, 143 * MSS);
    ack_n(&cc, 1, 71000, 90000);
    PT_EQ_U64(cc.inflight_hi, 147 * MSS);
    /* A round far below the ceiling does not raise it. */
    cc.cwnd = 100 * MSS;
    ack_n(&cc, 1, 91000, 110000);
    PT_EQ_U64(cc.inflight_hi, 147 * MSS);
}

/* One round trip: an ack of a packet sent at sent ends the last one,
   then n RTT samples of rtt. */
static void
round_of(pl_cc *cc, uint64_t sent, uint64_t now, uint64_t rtt, int n)
{
    pl_cc_on_ack(cc, MSS, sent, now, 1);
    for (int i = 0; i < n; i++) {
        pl_cc_on_rtt(cc, rtt, now + (uint64_t)i, 20000);
    }
}

PT_TEST(hystart_ends_slow_start_on_rtt_rise)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    round_of(&cc, 1, 1000, 20000, 8);
    round_of(&cc, 2000, 21000, 20000, 8);
    /* 3 ms above the last round's minimum: below the 4 ms floor. */
    round_of(&cc, 22000, 41000, 23000, 8);
    PT_EQ_U64(cc.ssthresh, UINT64_MAX);
    /* Too few samples to judge: still slow start. */
    round_of(&cc, 42000, 61000, 28000, 7);
    PT_EQ_U64(cc.ssthresh, UINT64_MAX);
    /* The 8th sample: 5 ms above the last full round's 23 ms. */
    pl_cc_on_rtt(&cc, 28000, 61010, 20000);
    PT_EQ_U64(cc.ssthresh, cc.cwnd);
}

PT_TEST(bandwidth_filter_forgets)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    pl_cc_on_rate(&cc, 5000000, 0, 10000);
    for (uint64_t t = 10000; t <= 10000 * PL_CC_BW_SLOTS; t += 10000) {
        pl_cc_on_rate(&cc, 1000, t, 10000);
    }
    PT_EQ_U64(pl_cc_bw(&cc), 1000); /* the old peak aged out */
}

PT_TEST(pacing)
{
    pl_cc cc;
    pl_cc_init(&cc, MSS);
    /* Slow start paces at 2 cwnd / srtt. */
    PT_EQ_U64(pl_cc_pacing_rate(&cc, 100000), 2 * 12000 * 10);
    cc.ssthresh = cc.cwnd;
    PT_EQ_U64(pl_cc_pacing_rate(&cc, 100000), 12000 * 10 * 5 / 4);
    pl_pacer p;
    pl_pacer_init(&p, 0, 2 * MSS);
    /* A burst of two packets goes at once, the third waits size/rate. */
    PT_EQ_U64(pl_pacer_next(&p, 0, 120000, 2 * MSS, MSS), 0);
    pl_pacer_spend(&p, MSS);
    PT_EQ_U64(pl_pacer_next(&p, 0, 120000, 2 * MSS, MSS), 0);
    pl_pacer_spend(&p, MSS);
    uint64_t t = pl_pacer_next(&p, 0, 120000, 2 * MSS, MSS);
    PT_EQ_U64(t, 10000); /* 1200 B at 120 kB/s */
    PT_EQ_U64(pl_pacer_next(&p, t, 120000, 2 * MSS, MSS), t);
    /* Idle time refills only up to the burst. */
    pl_pacer_spend(&p, MSS);
    PT_EQ_U64(pl_pacer_next(&p, 1000000, 120000, 2 * MSS, MSS), 1000000);
    pl_pacer_spend(&p, MSS);
    pl_pacer_spend(&p, MSS);
    PT_GT_U64(pl_pacer_next(&p, 1000000, 120000, 2 * MSS, MSS), 1000000);
}

PT_MAIN(PT_RUN(initial_window) PT_RUN(slow_start_then_avoidance)
            PT_RUN(one_backoff_per_recovery_period) PT_RUN(westwood_floor)
                PT_RUN(floor_drains_only_a_standing_queue)
                    PT_RUN(bandwidth_filter_forgets) PT_RUN(pacing)
                        PT_RUN(random_loss_keeps_slow_start)
                            PT_RUN(random_loss_regrows_to_inflight_hi)
                                PT_RUN(hystart_ends_slow_start_on_rtt_rise))
