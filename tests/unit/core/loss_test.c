/* Tests for sent-packet records and loss detection thresholds. */
#include "pt.h"

#include "core/loss.h"
#include "parley/parley.h"

typedef struct seen_ {
    uint64_t acked[64], lost[64];
    int nacked, nlost;
} seen_;

static void
on_acked(void *ctx, uint64_t pn, pl_sent_pkt *p)
{
    (void)p;
    seen_ *s = ctx;
    s->acked[s->nacked++] = pn;
}

static void
on_lost(void *ctx, uint64_t pn, pl_sent_pkt *p)
{
    (void)p;
    seen_ *s = ctx;
    s->lost[s->nlost++] = pn;
}

/* Sends n eliciting packets of 1000 bytes, 1 ms apart from t0. */
static void
send_n(pl_sent *s, int n, uint64_t t0)
{
    for (int i = 0; i < n; i++) {
        PT_TRUE(pl_sent_push(s, t0 + (uint64_t)i * 1000, 1000,
                             PL_SENT_ELICITING, s->cend) != NULL);
    }
}

static void
ack(pl_sent *s, uint64_t lo, uint64_t hi, uint64_t now, pl_rtt *rtt,
    seen_ *seen, pl_loss_result *res)
{
    pl_ack_range r = {lo, hi};
    pl_loss_cb cb = {seen, on_acked, on_lost};
    memset(res, 0, sizeof *res);
    pl_loss_on_ack(s, &r, 1, 0, now, rtt, &cb, res);
}

PT_TEST(packet_threshold_three)
{
    pl_sent s;
    pl_sent_init(&s);
    pl_rtt rtt;
    pl_rtt_init(&rtt, 0);
    seen_ seen;
    memset(&seen, 0, sizeof seen);
    send_n(&s, 10, 1000000);
    PT_EQ_U64(s.bytes_in_flight, 10000);
    pl_loss_result res;
    /* Ack 5 only, 50 ms after it was sent. */
    ack(&s, 5, 5, 1055000, &rtt, &seen, &res);
    PT_EQ_INT(seen.nacked, 1);
    PT_EQ_INT(res.rtt_sampled, 1);
    PT_EQ_U64(rtt.latest, 50000);
    /* 0, 1, 2 are 3+ below the largest acked: lost. 3, 4 wait. */
    PT_EQ_INT(seen.nlost, 3);
    PT_EQ_U64(seen.lost[2], 2);
    PT_EQ_U64(res.lost, 3);
    PT_EQ_U64(res.largest_lost_time, 1002000);
    PT_EQ_U64(s.bytes_in_flight, 6000);
    PT_GT_U64(s.loss_time, 0);
    /* Time threshold: 9/8 * 50 ms after pn 3 was sent. */
    PT_EQ_U64(s.loss_time, 1003000 + 56250);
    int is_pto;
    PT_EQ_U64(pl_loss_timer(&s, &rtt, 0, &is_pto), s.loss_time);
    PT_EQ_INT(is_pto, 0);
    pl_loss_cb cb = {&seen, on_acked, on_lost};
    memset(&res, 0, sizeof res);
    pl_loss_detect(&s, s.loss_time - 1, &rtt, &cb, &res);
    PT_EQ_INT(seen.nlost, 3);
    pl_loss_detect(&s, 1003000 + 56250, &rtt, &cb, &res);
    PT_EQ_INT(seen.nlost, 4); /* pn 3 */
    pl_loss_detect(&s, 1004000 + 56250, &rtt, &cb, &res);
    PT_EQ_INT(seen.nlost, 5); /* pn 4 */
    PT_EQ_U64(s.loss_time, 0);
    pl_sent_free(&s);
}

PT_TEST(late_ack_of_lost_and_bogus_acks_are_ignored)
{
    pl_sent s;
    pl_sent_init(&s);
    pl_rtt rtt;
    pl_rtt_init(&rtt, 0);
    seen_ seen;
    memset(&seen, 0, sizeof seen);
    send_n(&s, 6, 0);
    pl_loss_result res;
    ack(&s, 5, 5, 40000, &rtt, &seen, &res);
    PT_EQ_INT(seen.nlost, 3);
    /* 0 arrives after all: already declared lost, no double counting. */
    ack(&s, 0, 5, 41000, &rtt, &seen, &res);
    PT_EQ_INT(seen.nacked, 3); /* 5, then 3 and 4 */
    PT_EQ_U64(s.bytes_in_flight, 0);
    /* Acks of packets never sent change nothing. */
    ack(&s, 0, 100, 42000, &rtt, &seen, &res);
    PT_EQ_INT(seen.nacked, 3);
    PT_EQ_U64(s.n, 0); /* every record left the ring */
    PT_EQ_U64(pl_sent_next_pn(&s), 6);
    pl_sent_free(&s);
}

PT_TEST(ack_beyond_sent_is_clamped)
{
    pl_sent s;
    pl_sent_init(&s);
    pl_rtt rtt;
    pl_rtt_init(&rtt, 0);
    seen_ seen;
    memset(&seen, 0, sizeof seen);
    send_n(&s, 4, 0);
    pl_loss_result res;
    /* A forged ACK claiming 0..1000: only 0..3 exist. */
    ack(&s, 0, 1000, 10000, &rtt, &seen, &res);
    PT_EQ_INT(seen.nacked, 4);
    PT_EQ_U64(s.largest_acked, 3);
    PT_EQ_INT(res.rtt_sampled, 0); /* 1000 was never sent: no sample */
    send_n(&s, 4, 20000);
    /* Later real acks still work. */
    ack(&s, 7, 7, 30000, &rtt, &seen, &res);
    PT_EQ_INT(res.rtt_sampled, 1);
    PT_EQ_U64(s.largest_acked, 7);
    /* 4 is 3 below 7; 5 and 6 were sent over 9/8 RTT before now. */
    PT_EQ_INT(seen.nlost, 3);
    pl_sent_free(&s);
}

PT_TEST(rtt_only_from_new_eliciting_largest)
{
    pl_sent s;
    pl_sent_init(&s);
    pl_rtt rtt;
    pl_rtt_init(&rtt, 0);
    seen_ seen;
    memset(&seen, 0, sizeof seen);
    PT_TRUE(pl_sent_push(&s, 0, 100, PL_SENT_ELICITING, 0) != NULL);
    PT_TRUE(pl_sent_push(&s, 1000, 50, 0, 0) != NULL); /* ack-only */
    pl_loss_result res;
    ack(&s, 1, 1, 30000, &rtt, &seen, &res);
    PT_EQ_INT(res.rtt_sampled, 0);
    ack(&s, 0, 1, 30000, &rtt, &seen, &res);
    PT_EQ_INT(res.rtt_sampled, 0); /* largest (1) was not newly acked */
    PT_TRUE(pl_sent_push(&s, 40000, 100, PL_SENT_ELICITING, 0) != NULL);
    ack(&s, 2, 2, 70000, &rtt, &seen, &res);
    PT_EQ_INT(res.rtt_sampled, 1);
    PT_EQ_U64(rtt.latest, 30000);
    pl_sent_free(&s);
}

PT_TEST(pto_backs_off)
{
    pl_sent s;
    pl_sent_init(&s);
    pl_rtt rtt;
    pl_rtt_init(&rtt, 0);
    pl_rtt_sample(&rtt, 100000, 0, PL_MAX_ACK_DELAY_US);
    int is_pto;
    PT_EQ_U64(pl_loss_timer(&s, &rtt, 0, &is_pto), UINT64_MAX);
    PT_TRUE(pl_sent_push(&s, 5000000, 100, PL_SENT_ELICITING, 0) != NULL);
    uint64_t pto = pl_rtt_pto(&rtt, PL_MAX_ACK_DELAY_US);
    PT_EQ_U64(pl_loss_timer(&s, &rtt, 0, &is_pto), 5000000 + pto);
    PT_EQ_INT(is_pto, 1);
    PT_EQ_U64(pl_loss_timer(&s, &rtt, 1, &is_pto), 5000000 + 2 * pto);
    PT_EQ_U64(pl_loss_timer(&s, &rtt, 3, &is_pto), 5000000 + 8 * pto);
    PT_EQ_U64(pl_loss_timer(&s, &rtt, 100, &is_pto),
              5000000 + (pto << PL_PTO_MAX_BACKOFF));
    pl_sent_free(&s);
}

PT_TEST(ring_grows_and_keeps_chunks)
{
    pl_sent s;
    pl_sent_init(&s);
    pl_rtt rtt;
    pl_rtt_init(&rtt, 0);
    /* Many packets with 3 chunks each: the rings grow past their size. */
    for (int i = 0; i < 1000; i++) {
        uint64_t first = s.cend;
        for (int k = 0; k < 3; k++) {
            PT_OK(pl_sent_add_chunk(&s, NULL, (uint32_t)i, (uint32_t)k));
        }
        pl_sent_pkt *p =
            pl_sent_push(&s, (uint64_t)i, 100, PL_SENT_ELICITING, first);
        PT_EQ_INT(p->nchunks, 3);
    }
    pl_sent_pkt *p = pl_sent_get(&s, 777);
    PT_EQ_U64(pl_sent_chunk(&s, p->chunk_first + 2)->off, 777);
    PT_EQ_U64(pl_sent_chunk(&s, p->chunk_first + 2)->len, 2);
    seen_ seen;
    memset(&seen, 0, sizeof seen);
    pl_loss_result res;
    /* Acking everything lets the rings drain from the front. */
    pl_ack_range r = {0, 999};
    pl_loss_cb cb = {NULL, NULL, NULL};
    memset(&res, 0, sizeof res);
    pl_loss_on_ack(&s, &r, 1, 0, 2000, &rtt, &cb, &res);
    PT_EQ_U64(res.newly_acked, 1000);
    PT_EQ_U64(s.n, 0);
    PT_EQ_U64(s.cbase, s.cend);
    pl_sent_free(&s);
}

PT_MAIN(PT_RUN(packet_threshold_three)
            PT_RUN(late_ack_of_lost_and_bogus_acks_are_ignored)
                PT_RUN(ack_beyond_sent_is_clamped)
                    PT_RUN(rtt_only_from_new_eliciting_largest)
                        PT_RUN(pto_backs_off)
                            PT_RUN(ring_grows_and_keeps_chunks))
