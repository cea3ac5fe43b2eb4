/*
 * Loss detection (RFC 9002 sections 6.1-6.2). Records are in packet-number
 * and send-time order, so one forward scan from the oldest finds every
 * lost packet and stops at the first that is not yet lost. A packet
 * declared lost leaves the books at once: its reliable chunks go back to
 * the sender's retransmission queue and travel again in new packets, so a
 * byte range is only ever outstanding in one place. A late ACK for a
 * packet already declared lost is then ignored (spurious, but harmless).
 */
#include "core/loss.h"

static void
mark_acked(pl_sent *s, uint64_t pn, pl_sent_pkt *p, const pl_loss_cb *cb,
           pl_loss_result *res)
{
    p->flags |= PL_SENT_ACKED;
    res->newly_acked++;
    if (p->flags & PL_SENT_ELICITING) {
        s->bytes_in_flight -= p->size;
        s->eliciting_in_flight--;
        res->acked_bytes += p->size;
    }
    if (cb && cb->acked) {
        cb->acked(cb->ctx, pn, p);
    }
}

void
pl_loss_on_ack(pl_sent *s, const pl_ack_range *r, size_t n,
               uint64_t ack_delay_us, uint64_t now, pl_rtt *rtt,
               const pl_loss_cb *cb, pl_loss_result *res)
{
    uint64_t next = pl_sent_next_pn(s);
    if (n == 0 || next == 0 || r[n - 1].lo >= next) {
        return; /* nothing in it was ever sent */
    }
    /* Parts beyond what we sent are ignored rather than failing the whole
       frame: without packet authentication a forged packet could
       otherwise make every later ACK from the peer unusable. */
    uint64_t top_pn = r[0].hi < next ? r[0].hi : next - 1;
    if (!s->has_acked || top_pn > s->largest_acked) {
        s->has_acked = 1;
        s->largest_acked = top_pn;
    }
    pl_sent_pkt *top = r[0].hi < next ? pl_sent_get(s, r[0].hi) : NULL;
    int sample = top && !(top->flags & (PL_SENT_ACKED | PL_SENT_LOST)) &&
                 (top->flags & PL_SENT_ELICITING);
    uint64_t top_time = top ? top->time : 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t lo = r[i].lo < s->base_pn ? s->base_pn : r[i].lo;
        uint64_t hi = r[i].hi < next ? r[i].hi : next - 1;
        for (uint64_t pn = lo; pn <= hi && pn >= lo; pn++) {
            pl_sent_pkt *p = pl_sent_get(s, pn);
            if (p && !(p->flags & (PL_SENT_ACKED | PL_SENT_LOST))) {
                mark_acked(s, pn, p, cb, res);
            }
        }
    }
    if (sample && now >= top_time) {
        pl_rtt_sample(rtt, now - top_time, ack_delay_us, PL_MAX_ACK_DELAY_US);
        res->rtt_sampled = 1;
    }
    pl_loss_detect(s, now, rtt, cb, res);
}

void
pl_loss_detect(pl_sent *s, uint64_t now, const pl_rtt *rtt,
               const pl_loss_cb *cb, pl_loss_result *res)
{
    s->loss_time = 0;
    if (!s->has_acked) {
        return;
    }
    uint64_t delay = pl_rtt_loss_delay(rtt);
    for (uint64_t i = 0; i < s->n; i++) {
        uint64_t pn = s->base_pn + i;
        if (pn > s->largest_acked) {
            break;
        }
        pl_sent_pkt *p = &s->pkts[pn & (s->cap - 1)];
        if (p->flags & (PL_SENT_ACKED | PL_SENT_LOST)) {
            continue;
        }
        int by_count = s->largest_acked - pn >= PL_LOSS_PACKET_THRESHOLD;
        int by_time = p->time + delay <= now;
        if (!by_count && !by_time) {
            s->loss_time = p->time + delay;
            break;
        }
        p->flags |= PL_SENT_LOST;
        if (p->flags & PL_SENT_ELICITING) {
            s->bytes_in_flight -= p->size;
            s->eliciting_in_flight--;
            res->lost++;
            res->lost_bytes += p->size;
            if (p->time > res->largest_lost_time) {
                res->largest_lost_time = p->time;
            }
        }
        if (cb && cb->lost) {
            cb->lost(cb->ctx, pn, p);
        }
    }
    pl_sent_pop(s);
}

uint64_t
pl_loss_timer(const pl_sent *s, const pl_rtt *rtt, unsigned pto_count,
              int *is_pto)
{
    *is_pto = 0;
    if (s->loss_time != 0) {
        return s->loss_time;
    }
    if (s->eliciting_in_flight == 0) {
        return UINT64_MAX;
    }
    *is_pto = 1;
    if (pto_count > PL_PTO_MAX_BACKOFF) {
        pto_count = PL_PTO_MAX_BACKOFF;
    }
    uint64_t pto = pl_rtt_pto(rtt, PL_MAX_ACK_DELAY_US) << pto_count;
    return s->last_eliciting_time + pto;
}
