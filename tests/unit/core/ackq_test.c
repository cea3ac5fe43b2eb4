/* Tests for the received-packet ranges, dedup and the ack timer. */
#include "pt.h"

#include "core/ackq.h"
#include "parley/parley.h"
#include "wire/frame.h"

#define MAD 25000

PT_TEST(in_order_merges_and_dedups)
{
    pl_ackq q;
    pl_ackq_init(&q, MAD);
    for (uint64_t pn = 0; pn < 100; pn++) {
        PT_EQ_INT(pl_ackq_record(&q, pn, 1000 + pn, 0), PL_ACKQ_NEW);
    }
    PT_EQ_INT(q.n, 1);
    PT_EQ_U64(q.r[0].lo, 0);
    PT_EQ_U64(q.r[0].hi, 99);
    PT_EQ_INT(pl_ackq_record(&q, 50, 2000, 1), PL_ACKQ_DUP);
    PT_TRUE(pl_ackq_seen(&q, 0));
    PT_TRUE(!pl_ackq_seen(&q, 100));
    /* Non-eliciting packets never arm the timer. */
    PT_EQ_U64(pl_ackq_deadline(&q), UINT64_MAX);
    PT_TRUE(!pl_ackq_due(&q, UINT64_MAX - 1));
    pl_ackq_free(&q);
}

PT_TEST(gaps_make_descending_ranges)
{
    pl_ackq q;
    pl_ackq_init(&q, MAD);
    uint64_t pns[] = {1, 2, 3, 7, 8, 5, 10, 4};
    for (size_t i = 0; i < sizeof pns / sizeof pns[0]; i++) {
        pl_ackq_record(&q, pns[i], 0, 1);
    }
    /* {10}, {7,8}, {1..5} */
    PT_EQ_INT(q.n, 3);
    PT_EQ_U64(q.r[0].lo, 10);
    PT_EQ_U64(q.r[0].hi, 10);
    PT_EQ_U64(q.r[1].lo, 7);
    PT_EQ_U64(q.r[1].hi, 8);
    PT_EQ_U64(q.r[2].lo, 1);
    PT_EQ_U64(q.r[2].hi, 5);
    pl_ackq_record(&q, 6, 0, 1);
    pl_ackq_record(&q, 9, 0, 1);
    PT_EQ_INT(q.n, 1);
    PT_EQ_U64(q.r[0].lo, 1);
    PT_EQ_U64(q.r[0].hi, 10);
    PT_EQ_U64(pl_ackq_largest(&q), 10);
    pl_ackq_free(&q);
}

PT_TEST(delayed_then_every_second_then_immediate)
{
    pl_ackq q;
    pl_ackq_init(&q, MAD);
    pl_ackq_record(&q, 0, 1000, 1);
    PT_TRUE(!pl_ackq_due(&q, 1000));
    PT_EQ_U64(pl_ackq_deadline(&q), 1000 + MAD);
    PT_TRUE(pl_ackq_due(&q, 1000 + MAD));
    PT_TRUE(pl_ackq_pending(&q));
    /* The second ack-eliciting packet makes it due at once. */
    pl_ackq_record(&q, 1, 2000, 1);
    PT_TRUE(pl_ackq_due(&q, 2000));
    PT_EQ_U64(pl_ackq_delay(&q, 5000), 3000);
    pl_ackq_sent(&q);
    PT_TRUE(!pl_ackq_pending(&q));
    PT_EQ_U64(pl_ackq_deadline(&q), UINT64_MAX);
    /* In order: delayed. Out of order (a gap): immediate. */
    pl_ackq_record(&q, 2, 3000, 1);
    PT_TRUE(!pl_ackq_due(&q, 3000));
    pl_ackq_sent(&q);
    pl_ackq_record(&q, 5, 4000, 1);
    PT_TRUE(pl_ackq_due(&q, 4000));
    pl_ackq_sent(&q);
    pl_ackq_record(&q, 3, 4100, 1); /* fills part of the gap: reordered */
    PT_TRUE(pl_ackq_due(&q, 4100));
    pl_ackq_free(&q);
}

PT_TEST(bounded_to_cap_and_ack_frame)
{
    pl_ackq q;
    pl_ackq_init(&q, MAD);
    /* Every other packet: one range each. */
    for (uint64_t pn = 0; pn < 2 * 500; pn += 2) {
        pl_ackq_record(&q, pn, 0, 1);
    }
    PT_EQ_INT(q.n, PL_ACKQ_CAP);
    PT_EQ_U64(q.r[0].hi, 998);
    /* Forgotten ranges are below the floor and count as seen. */
    PT_GT_U64(q.floor, 0);
    PT_TRUE(pl_ackq_seen(&q, 1));
    PT_TRUE(!pl_ackq_seen(&q, 997));
    for (size_t i = 1; i < q.n; i++) {
        PT_LT_U64(q.r[i].hi + 1, q.r[i - 1].lo); /* disjoint, gapped */
    }
    /* The ACK frame carries at most PL_ACK_MAX_RANGES, highest first. */
    uint8_t buf[4096];
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf);
    size_t nw = 0;
    PT_OK(pl_frame_encode_ack(&w, q.r, q.n, 0, &nw));
    PT_EQ_INT(nw, PL_ACK_MAX_RANGES);
    pl_rd rd;
    pl_rd_init(&rd, buf, w.off);
    pl_frame f;
    PT_OK(pl_frame_decode(&rd, &f));
    PT_EQ_INT(f.u.ack.n, PL_ACK_MAX_RANGES);
    PT_EQ_U64(f.u.ack.r[0].hi, 998);
    PT_EQ_U64(f.u.ack.r[PL_ACK_MAX_RANGES - 1].lo,
              998 - 2 * (PL_ACK_MAX_RANGES - 1));
    /* A small budget gets fewer ranges, never a broken frame. */
    pl_wr_init(&w, buf, 40);
    PT_OK(pl_frame_encode_ack(&w, q.r, q.n, 0, &nw));
    PT_LT_INT(nw, PL_ACK_MAX_RANGES);
    PT_GE_INT(nw, 1);
    pl_ackq_free(&q);
}

PT_TEST(prune_after_ack_of_ack)
{
    pl_ackq q;
    pl_ackq_init(&q, MAD);
    for (uint64_t pn = 0; pn < 40; pn += 2) {
        pl_ackq_record(&q, pn, 0, 1);
    }
    PT_EQ_INT(q.n, 20);
    pl_ackq_prune(&q, 30);
    /* Ranges at or above 30 stay; below count as seen. */
    PT_EQ_INT(q.n, 5);
    PT_EQ_U64(q.r[4].lo, 30);
    PT_TRUE(pl_ackq_seen(&q, 29));
    PT_TRUE(!pl_ackq_seen(&q, 31));
    PT_EQ_INT(pl_ackq_record(&q, 31, 0, 1), PL_ACKQ_NEW);
    pl_ackq_free(&q);
}

/* hurry: an owed delayed ACK becomes due at once; nothing owed, nothing
   to hurry (a non-eliciting packet owes no ACK). */
PT_TEST(hurry_makes_an_owed_ack_due_now)
{
    pl_ackq q;
    pl_ackq_init(&q, MAD);
    PT_EQ_INT(pl_ackq_hurry(&q), 0);
    PT_EQ_INT(pl_ackq_record(&q, 0, 1000, 0), PL_ACKQ_NEW);
    PT_EQ_INT(pl_ackq_hurry(&q), 0);
    PT_TRUE(!pl_ackq_due(&q, 1000));
    PT_EQ_INT(pl_ackq_record(&q, 1, 1000, 1), PL_ACKQ_NEW);
    PT_TRUE(!pl_ackq_due(&q, 1000)); /* delayed */
    PT_EQ_INT(pl_ackq_hurry(&q), 1);
    PT_TRUE(pl_ackq_due(&q, 1000));
    PT_EQ_U64(pl_ackq_deadline(&q), 0);
    pl_ackq_sent(&q);
    PT_EQ_INT(pl_ackq_hurry(&q), 0);
    pl_ackq_free(&q);
}

PT_MAIN(PT_RUN(in_order_merges_and_dedups)
            PT_RUN(hurry_makes_an_owed_ack_due_now)
                PT_RUN(gaps_make_descending_ranges)
                    PT_RUN(delayed_then_every_second_then_immediate)
                        PT_RUN(bounded_to_cap_and_ack_frame)
                            PT_RUN(prune_after_ack_of_ack))
