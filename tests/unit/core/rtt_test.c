/* Tests for RTT estimation: RFC 6298 smoothing, RFC 9002 sampling. */
#include "pt.h"

#include "core/rtt.h"
#include "parley/parley.h"

PT_TEST(first_sample_sets_everything)
{
    pl_rtt r;
    pl_rtt_init(&r, 0);
    PT_EQ_U64(r.srtt, PL_RTT_INITIAL_US);
    PT_EQ_INT(r.has_sample, 0);
    pl_rtt_sample(&r, 100000, 20000, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(r.srtt, 100000); /* the first sample ignores ack delay */
    PT_EQ_U64(r.rttvar, 50000);
    PT_EQ_U64(r.min_rtt, 100000);
    PT_EQ_U64(r.latest, 100000);
}

PT_TEST(smoothing_follows_rfc6298)
{
    pl_rtt r;
    pl_rtt_init(&r, 0);
    pl_rtt_sample(&r, 100000, 0, PL_MAX_ACK_DELAY_US);
    pl_rtt_sample(&r, 180000, 0, PL_MAX_ACK_DELAY_US);
    /* rttvar = 3/4 * 50000 + 1/4 * |100000 - 180000| = 57500 */
    PT_EQ_U64(r.rttvar, 57500);
    /* srtt = 7/8 * 100000 + 1/8 * 180000 = 110000 */
    PT_EQ_U64(r.srtt, 110000);
    PT_EQ_U64(r.min_rtt, 100000);
    pl_rtt_sample(&r, 60000, 0, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(r.min_rtt, 60000);
}

PT_TEST(ack_delay_is_subtracted_within_limits)
{
    pl_rtt r;
    pl_rtt_init(&r, 0);
    pl_rtt_sample(&r, 100000, 0, PL_MAX_ACK_DELAY_US);
    /* 130 ms with 20 ms of delay counts as 110 ms. */
    pl_rtt_sample(&r, 130000, 20000, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(r.srtt, (7 * 100000 + 110000) / 8);
    /* A claimed delay beyond max_ack_delay is capped at 25 ms. */
    pl_rtt t;
    pl_rtt_init(&t, 0);
    pl_rtt_sample(&t, 100000, 0, PL_MAX_ACK_DELAY_US);
    pl_rtt_sample(&t, 200000, 90000, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(t.srtt, (7 * 100000 + 175000) / 8);
    /* Never below the minimum: 105 ms - 20 ms < 100 ms keeps 105. */
    pl_rtt u;
    pl_rtt_init(&u, 0);
    pl_rtt_sample(&u, 100000, 0, PL_MAX_ACK_DELAY_US);
    pl_rtt_sample(&u, 105000, 20000, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(u.srtt, (7 * 100000 + 105000) / 8);
}

PT_TEST(timeouts)
{
    pl_rtt r;
    pl_rtt_init(&r, 0);
    pl_rtt_sample(&r, 100000, 0, PL_MAX_ACK_DELAY_US);
    /* PTO = srtt + 4 rttvar + max_ack_delay */
    PT_EQ_U64(pl_rtt_pto(&r, 25000), 100000 + 200000 + 25000);
    /* loss delay = 9/8 max(srtt, latest) */
    PT_EQ_U64(pl_rtt_loss_delay(&r), 112500);
    pl_rtt_sample(&r, 200000, 0, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(pl_rtt_loss_delay(&r), 225000); /* latest dominates */
    /* RTO: srtt + 4 rttvar, doubled per backoff, clamped. */
    pl_rtt s;
    pl_rtt_init(&s, 0);
    pl_rtt_sample(&s, 10000, 0, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(pl_rtt_rto(&s, 0), PL_RTO_MIN_US);
    pl_rtt_sample(&s, 400000, 0, PL_MAX_ACK_DELAY_US);
    uint64_t base = s.srtt + 4 * s.rttvar;
    PT_EQ_U64(pl_rtt_rto(&s, 0), base);
    PT_EQ_U64(pl_rtt_rto(&s, 1), 2 * base);
    PT_EQ_U64(pl_rtt_rto(&s, 3), 8 * base);
    PT_EQ_U64(pl_rtt_rto(&s, 40), PL_RTO_MAX_US);
    /* Tiny variation still leaves the granularity. */
    pl_rtt g;
    pl_rtt_init(&g, 1000);
    g.rttvar = 0;
    PT_EQ_U64(pl_rtt_pto(&g, 0), 1000 + PL_RTT_GRANULARITY_US);
}

PT_MAIN(PT_RUN(first_sample_sets_everything) PT_RUN(smoothing_follows_rfc6298)
            PT_RUN(ack_delay_is_subtracted_within_limits) PT_RUN(timeouts))
