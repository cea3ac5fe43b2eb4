/*
 * Building DATA packets: what goes into the next datagram of a connection
 * and in which order. ACK first (a lone ACK when one is due, otherwise
 * piggybacked and kept small), then control frames (DISCONNECT, WINDOW),
 * then pieces to retransmit, then new messages, as many as fit
 * (aggregation). Whole messages and fragmented ones wait in two queues and
 * packets alternate which queue they serve first, so a bulk transfer
 * never starves small messages on other channels, nor the reverse.
 * Everything ack-eliciting respects the congestion window and the pacer,
 * except control frames and probes, which are small and must get out.
 * Splitting happens here: a fragment fills whatever room the packet has,
 * and a retransmitted piece may be re-cut to fit.
 */
#include "core/core_int.h"
#include "crypto/crypto.h"

#include <string.h>

#include "parley/error.h"

uint64_t
pl_conn_pacing_rate(const pl_conn *c)
{
    uint64_t rate = pl_cc_pacing_rate(&c->cc, c->rtt.srtt);
    uint64_t cap = c->core->cfg.bandwidth_out;
    return cap && cap < rate ? cap : rate;
}

uint64_t
pl_conn_pacing_burst(const pl_conn *c)
{
    uint64_t mtu = c->mtu ? c->mtu : c->core->cfg.mtu;
    uint64_t ms = pl_conn_pacing_rate(c) / 1000; /* one millisecond's worth */
    return ms > 4 * mtu ? ms : 4 * mtu;
}

static int
is_reliable(const pl_msg *m)
{
    return m->mode <= PL_MODE_RELIABLE_UNORDERED;
}

/* Flow-control credit left (bytes). */
static uint64_t
credit(const pl_conn *c)
{
    return c->fc_limit > c->fc_used ? c->fc_limit - c->fc_used : 0;
}

/* Nonzero when the head of queue q may send at least one byte. */
static int
head_ready(const pl_conn *c, int q)
{
    const pl_msg *m = c->q_head[q];
    if (!m) {
        return 0;
    }
    if (!is_reliable(m)) {
        return 1;
    }
    uint64_t cost = m->sent_off == 0 ? PL_FC_MSG_COST : 0;
    uint64_t need = q == 0 ? m->len + cost : cost + 1;
    return credit(c) >= need;
}

int
pl_conn_has_data(const pl_conn *c)
{
    return c->rtx_n > 0 || head_ready(c, 0) || head_ready(c, 1);
}

static void
dequeue(pl_conn *c, int q)
{
    pl_msg *m = c->q_head[q];
    c->q_head[q] = m->qnext;
    if (!c->q_head[q]) {
        c->q_tail[q] = NULL;
    }
    m->qnext = NULL;
    m->queued = 0;
}

/* Writes one piece of the retransmission queue's front. 0: no room. */
static int
fill_rtx_one(pl_conn *c, pl_wr *w)
{
    pl_chunk *ch = &c->rtx[c->rtx_head];
    pl_msg *m = ch->msg;
    size_t start = w->off;
    uint32_t n = ch->len;
    int rc;
    if (m->frag) {
        size_t fit = pl_frame_frag_fit(m->seq, m->len, ch->off, pl_wr_left(w));
        if (fit == 0) {
            return 0;
        }
        n = fit < ch->len ? (uint32_t)fit : ch->len;
        rc = pl_frame_encode_frag(w, m->mode, m->channel, m->seq, m->len,
                                  ch->off, m->data + ch->off, n);
    } else {
        rc = pl_frame_encode_msg(w, m->mode, m->channel, m->seq, m->data,
                                 m->len);
    }
    if (rc != PARLEY_OK) {
        return 0;
    }
    if (pl_sent_add_chunk(&c->sent, m, ch->off, n) != PARLEY_OK) {
        w->off = start;
        return 0;
    }
    c->st.retransmits++;
    c->rtx_bytes -= n;
    if (n < ch->len) {
        /* Re-cut: the rest stays queued and keeps its reference. */
        m->refs++;
        ch->off += n;
        ch->len -= n;
    } else {
        c->rtx_head = (c->rtx_head + 1) % c->rtx_cap;
        c->rtx_n--;
    }
    return 1;
}

/* Writes the head of the whole-message queue. 0: blocked or no room. */
static int
fill_whole_one(pl_conn *c, pl_wr *w)
{
    pl_msg *m = c->q_head[0];
    if (!head_ready(c, 0)) {
        return 0;
    }
    size_t start = w->off;
    if (pl_frame_encode_msg(w, m->mode, m->channel, m->seq, m->data, m->len) !=
        PARLEY_OK) {
        return 0;
    }
    if (is_reliable(m)) {
        if (pl_sent_add_chunk(&c->sent, m, 0, m->len) != PARLEY_OK) {
            w->off = start;
            return 0;
        }
        m->refs++;
        m->started = 1;
        c->unacked_msgs++;
        c->fc_used += m->len + PL_FC_MSG_COST;
        c->rel_unacked += m->len;
    }
    m->sent_off = m->len;
    c->out_bytes -= m->len;
    dequeue(c, 0);
    if (!is_reliable(m)) {
        pl_conn_msg_free(c, m);
    }
    return 1;
}

/* Writes the next piece of the fragmented queue's head. */
static int
fill_frag_one(pl_conn *c, pl_wr *w)
{
    pl_msg *m = c->q_head[1];
    if (!head_ready(c, 1)) {
        return 0;
    }
    size_t fit = pl_frame_frag_fit(m->seq, m->len, m->sent_off, pl_wr_left(w));
    uint64_t cost = m->sent_off == 0 ? PL_FC_MSG_COST : 0;
    if (is_reliable(m) && fit > credit(c) - cost) {
        fit = (size_t)(credit(c) - cost);
    }
    if (fit == 0) {
        return 0;
    }
    uint32_t off = m->sent_off;
    size_t start = w->off;
    if (pl_frame_encode_frag(w, m->mode, m->channel, m->seq, m->len, off,
                             m->data + off, fit) != PARLEY_OK) {
        return 0;
    }
    if (is_reliable(m)) {
        if (pl_sent_add_chunk(&c->sent, m, off, (uint32_t)fit) != PARLEY_OK) {
            w->off = start;
            return 0;
        }
        m->refs++;
        if (!m->started) {
            m->started = 1;
            c->unacked_msgs++;
        }
        c->fc_used += fit + cost;
        c->rel_unacked += fit;
    }
    m->sent_off += (uint32_t)fit;
    c->out_bytes -= fit;
    if (m->sent_off == m->len) {
        dequeue(c, 1);
        if (!is_reliable(m)) {
            pl_conn_msg_free(c, m);
        }
    }
    return 1;
}

/* Fills the packet with message data. Returns nonzero if any was added. */
static int
fill_data(pl_conn *c, pl_wr *w)
{
    int wrote = 0;
    while (c->rtx_n > 0 && fill_rtx_one(c, w)) {
        wrote = 1;
    }
    if (c->rtx_n > 0) {
        return wrote; /* the packet is full */
    }
    for (int pass = 0; pass < 2; pass++) {
        int q = (c->q_first + pass) & 1;
        while (q == 0 ? fill_whole_one(c, w) : fill_frag_one(c, w)) {
            wrote = 1;
        }
    }
    c->q_first ^= 1;
    return wrote;
}

/* Adds an ACK frame of at most budget bytes. */
static void
add_ack(pl_conn *c, pl_wr *w, uint64_t now, size_t budget, uint8_t *flags,
        uint64_t *largest)
{
    pl_wr sub;
    size_t room = pl_wr_left(w);
    pl_wr_init(&sub, w->p + w->off, budget < room ? budget : room);
    size_t n = c->ackq.n < PL_ACK_MAX_RANGES ? c->ackq.n : PL_ACK_MAX_RANGES;
    size_t nw = 0;
    if (pl_frame_encode_ack(&sub, c->ackq.r, n, pl_ackq_delay(&c->ackq, now),
                            &nw) != PARLEY_OK) {
        return;
    }
    w->off += sub.off;
    *flags |= PL_SENT_HAS_ACK;
    *largest = c->ackq.r[0].hi;
    pl_ackq_sent(&c->ackq);
}

/* The gap between the copies of a DISCONNECT: half an RTT, so that one
   burst of loss does not take them all. */
static uint64_t
disc_gap(const pl_conn *c)
{
    uint64_t g = c->rtt.srtt / 2;
    return g < 5000 ? 5000 : g > 200000 ? 200000 : g;
}

/* Writes the control frames owed. */
static void
add_control(pl_conn *c, pl_wr *w, uint64_t now, uint8_t *flags)
{
    if (c->disc_needed && pl_frame_encode_disconnect(
                              w, c->disc_reason, c->disc_code) == PARLEY_OK) {
        c->disc_needed = 0;
        c->disc_sends++;
        c->disc_next = now + disc_gap(c);
        *flags |= PL_SENT_ELICITING | PL_SENT_HAS_DISC;
    }
    if (c->window_dirty && pl_frame_encode_window(w, c->fc_adv) == PARLEY_OK) {
        c->window_dirty = 0;
        c->fc_adv_sent = c->fc_adv;
        *flags |= PL_SENT_ELICITING | PL_SENT_HAS_WINDOW;
    }
}

/* Books a packet that is going out. */
static void
record(pl_conn *c, uint64_t now, size_t size, uint8_t flags,
       uint64_t chunk_first, uint64_t ack_largest)
{
    uint64_t before = c->sent.bytes_in_flight;
    if ((flags & PL_SENT_ELICITING) && before == 0) {
        c->first_sent_time = now;
        c->delivered_time = now;
    }
    if ((before + size) * 2 >= c->cc.cwnd) {
        flags |= PL_SENT_CWND_LIMITED;
    }
    pl_sent_pkt *p =
        pl_sent_push(&c->sent, now, (uint32_t)size, flags, chunk_first);
    /* pl_sent_reserve ran before the build, so p is never NULL. */
    p->ack_largest = ack_largest;
    p->delivered = c->delivered;
    p->delivered_time = c->delivered_time;
    p->first_sent_time = c->first_sent_time;
    if (flags & PL_SENT_ELICITING) {
        c->last_eliciting_sent = now;
        pl_pacer_spend(&c->pacer, size);
        if (++c->recent_sent >= PL_LOSS_WINDOW) {
            c->recent_sent /= 2;
            c->recent_lost /= 2;
        }
    }
    c->st.packets_out++;
    c->st.bytes_out += size;
}

/* Nonzero when data may go out now under the window and the pacer. */
static int
data_allowed(pl_conn *c, uint64_t now)
{
    if (!pl_conn_has_data(c)) {
        return 0;
    }
    if (c->probes > 0) {
        return 1;
    }
    if (!pl_cc_can_send(&c->cc, c->sent.bytes_in_flight, c->mtu)) {
        return 0;
    }
    return pl_pacer_next(&c->pacer, now, pl_conn_pacing_rate(c),
                         pl_conn_pacing_burst(c), c->mtu) <= now;
}

/* A path-MTU probe: a PING padded to the size being tried, booked
   outside the bytes in flight and the window, so its loss is neither
   congestion nor lost data (pmtu.c). 1 when one was built. */
static int
build_probe(pl_conn *c, uint64_t now, uint8_t *buf, size_t cap, size_t *len)
{
    uint32_t size = pl_pmtu_want(&c->pmtu, now);
    if (size == 0 || !pl_conn_pmtu_worth(c)) {
        return 0;
    }
    if (size > cap) {
        pl_pmtu_sent(&c->pmtu, size, pl_sent_next_pn(&c->sent), now);
        pl_pmtu_refused(&c->pmtu, now); /* our own buffer is smaller */
        return 0;
    }
    size_t tag = c->enc ? PL_AEAD_TAG_LEN : 0;
    uint64_t pn = pl_sent_next_pn(&c->sent);
    pl_wr w;
    pl_wr_init(&w, buf, size - tag);
    if (pl_sent_reserve(&c->sent) != 0 ||
        pl_data_hdr_encode(&w, c->remote_id, pn) != PARLEY_OK ||
        pl_frame_encode_ping(&w) != PARLEY_OK ||
        pl_frame_encode_padding(&w, pl_wr_left(&w)) != PARLEY_OK) {
        return 0;
    }
    size_t out = w.off;
    if (c->enc) {
        out = pl_crypto_seal(c->key_tx, pn, buf, PL_DATA_HDR_LEN, out);
    }
    record(c, now, out, 0, c->sent.cend, 0);
    pl_pmtu_sent(&c->pmtu, size, pn,
                 now + pl_rtt_pto(&c->rtt, PL_MAX_ACK_DELAY_US));
    *len = out;
    return 1;
}

int
pl_conn_build(pl_conn *c, uint64_t now, uint8_t *buf, size_t cap, size_t *len)
{
    if (c->state == PARLEY_PEER_CONNECTING) {
        return c->is_client ? pl_handshake_build_client(c, now, buf, cap, len)
                            : 0;
    }
    if (c->accept_pending) {
        return pl_handshake_build_accept(c, buf, cap, len);
    }
    if (c->state != PARLEY_PEER_CONNECTED &&
        c->state != PARLEY_PEER_DISCONNECTING) {
        return 0;
    }
    if (c->state == PARLEY_PEER_CONNECTED &&
        build_probe(c, now, buf, cap, len)) {
        return 1;
    }
    int ack_due = pl_ackq_due(&c->ackq, now);
    int ctrl =
        c->window_dirty || c->disc_needed || c->ping_due || c->probes > 0;
    int data = data_allowed(c, now);
    if ((!ack_due && !ctrl && !data) || pl_sent_reserve(&c->sent) != 0) {
        return 0;
    }
    pl_wr w;
    size_t room = c->mtu < cap ? c->mtu : cap;
    size_t tag = c->enc ? PL_AEAD_TAG_LEN : 0;
    uint64_t pn = pl_sent_next_pn(&c->sent);
    pl_wr_init(&w, buf, room > tag ? room - tag : 0);
    if (pl_data_hdr_encode(&w, c->remote_id, pn) != PARLEY_OK) {
        return 0;
    }
    uint8_t flags = 0;
    uint64_t ack_largest = 0;
    uint64_t chunk_first = c->sent.cend;
    if (pl_ackq_pending(&c->ackq)) {
        size_t budget = data ? PL_ACK_PIGGYBACK_MAX : pl_wr_left(&w);
        add_ack(c, &w, now, budget, &flags, &ack_largest);
    }
    add_control(c, &w, now, &flags);
    if (data && fill_data(c, &w)) {
        flags |= PL_SENT_ELICITING;
    }
    if ((c->ping_due || c->probes > 0) && !(flags & PL_SENT_ELICITING) &&
        pl_frame_encode_ping(&w) == PARLEY_OK) {
        flags |= PL_SENT_ELICITING;
        if (c->ping_due && c->probes == 0) {
            c->st.keepalives++;
        }
    }
    if (flags & PL_SENT_ELICITING) {
        c->ping_due = 0;
        if (c->probes > 0) {
            c->probes--;
            flags |= PL_SENT_PROBE;
        }
    }
    if (w.off == PL_DATA_HDR_LEN) {
        pl_sent_rewind_chunks(&c->sent, chunk_first);
        return 0;
    }
    size_t out = w.off;
    if (c->enc) {
        out = pl_crypto_seal(c->key_tx, pn, buf, PL_DATA_HDR_LEN, out);
    }
    record(c, now, out, flags, chunk_first, ack_largest);
    *len = out;
    return 1;
}
