/*
 * One connection's state machine: CONNECTING -> CONNECTED ->
 * (DISCONNECTING) -> gone, its timers (idle timeout, keepalive, loss
 * detection and probe timeouts, graceful close), the handling of each
 * frame of a DATA packet, and the send queue's entry point.
 *
 * A DATA packet is decoded twice: once to validate every frame (a packet
 * is taken whole or not at all, so a malformed tail cannot leave half its
 * effects behind and an unacknowledged packet never delivered anything),
 * then to apply them. Only then is its number recorded for acking.
 * Flow control is credit based and absolute (as QUIC's MAX_DATA): the
 * receiver advertises the total reliable bytes (+PL_FC_MSG_COST per
 * message) the sender may ever have sent; it grows as the app releases
 * messages. Bytes of partly reassembled messages count as consumed, so a
 * message larger than the window still gets through; they are bounded by
 * the memory budget instead.
 */
#include "core/core_int.h"

#include <string.h>

#include "crypto/crypto.h"
#include "parley/error.h"
#include "util/alloc.h"
#include "util/log.h"

int
pl_conn_create(pl_core *core, uint64_t now, const parley_addr *addr,
               int is_client, pl_conn **out)
{
    pl_conn *c = pl_calloc(1, sizeof *c);
    if (!c) {
        return PARLEY_ENOMEM;
    }
    c->core = core;
    c->addr = *addr;
    c->is_client = (uint8_t)is_client;
    c->state = PARLEY_PEER_CONNECTING;
    pl_ackq_init(&c->ackq, PL_MAX_ACK_DELAY_US);
    pl_sent_init(&c->sent);
    pl_rtt_init(&c->rtt, 0);
    pl_cc_init(&c->cc, core->cfg.mtu);
    pl_rxmap_init(&c->rxmap);
    c->last_recv = now;
    c->last_eliciting_sent = now;
    c->fc_limit = PL_WINDOW_INITIAL;
    c->sched_idx = PL_SCHED_NONE;
    int rc = pl_sched_reserve(&core->sched);
    if (rc == PARLEY_OK) {
        rc = pl_core_reserve_conn(core);
    }
    if (rc == PARLEY_OK) {
        rc = pl_core_new_id(core, &c->local_id);
    }
    if (rc == PARLEY_OK && is_client) {
        rc = pl_core_random(core, c->nonce, sizeof c->nonce);
    }
    if (rc == PARLEY_OK) {
        rc = pl_peers_alloc(&core->peers, c, &c->id);
    }
    if (rc != PARLEY_OK) {
        pl_free(c);
        return rc;
    }
    rc = pl_connmap_put(&core->ids, c->local_id, pl_peer_slot(c->id));
    if (rc != PARLEY_OK) {
        pl_peers_release(&core->peers, c->id);
        pl_free(c);
        return rc;
    }
    core->nconns++;
    pl_sched_insert(&core->sched, c, now);
    *out = c;
    return PARLEY_OK;
}

int
pl_conn_established(pl_conn *c, uint64_t now, uint32_t mtu, uint8_t channels,
                    uint32_t peer_max_message)
{
    c->tx_seq = pl_calloc((size_t)channels * 4, sizeof *c->tx_seq);
    c->rx = pl_calloc((size_t)channels * 4, sizeof *c->rx);
    if (!c->tx_seq || !c->rx) {
        return PARLEY_ENOMEM;
    }
    c->mtu = mtu;
    pl_pmtu_init(&c->pmtu, mtu, mtu, now); /* the handshake may enable it */
    c->channels = channels;
    c->peer_max_message = peer_max_message;
    pl_cc_init(&c->cc, mtu);
    c->state = PARLEY_PEER_CONNECTED;
    c->last_recv = now;
    c->last_eliciting_sent = now;
    c->delivered_time = now;
    c->first_sent_time = now;
    pl_pacer_init(&c->pacer, now, pl_conn_pacing_burst(c));
    c->fc_adv = c->core->cfg.recv_window;
    c->window_dirty = 1; /* tell the peer our real window at once */
    return PARLEY_OK;
}

void
pl_conn_msg_free(pl_conn *c, pl_msg *m)
{
    pl_core *core = c->core;
    if (m->started) {
        c->unacked_msgs--;
    }
    if (m->aprev) {
        m->aprev->anext = m->anext;
    } else {
        c->all = m->anext;
    }
    if (m->anext) {
        m->anext->aprev = m->aprev;
    }
    if (m->release) {
        m->release(m->user, m->data);
    } else {
        pl_buf_put(&core->bufs, m->data, m->len);
    }
    pl_budget b = {&c->tx_mem, core->cfg.peer_memory, &core->mem,
                   core->cfg.host_memory};
    pl_budget_give(&b, m->charge);
    pl_pool_put(&core->msg_pool, m);
}

void
pl_conn_free(pl_conn *c)
{
    pl_core *core = c->core;
    pl_sched_remove(&core->sched, c);
    while (c->all) {
        pl_conn_msg_free(c, c->all);
    }
    pl_chan_free_all(c);
    pl_rxmap_free(&c->rxmap);
    pl_ackq_free(&c->ackq);
    pl_sent_free(&c->sent);
    pl_free(c->rtx);
    pl_free(c->tx_seq);
    pl_free(c->rx);
    pl_crypto_wipe(c->eph_sk, sizeof c->eph_sk);
    pl_crypto_wipe(c->key_tx, sizeof c->key_tx);
    pl_crypto_wipe(c->key_rx, sizeof c->key_rx);
    /* Anything left is a bookkeeping slip; never let it leak into the
       host's total. */
    size_t left = c->rx_mem - c->rx_out_charge + c->tx_mem;
    core->mem = core->mem >= left ? core->mem - left : 0;
    pl_free(c);
}

void
pl_conn_update_window(pl_conn *c)
{
    const parley_host_config *cfg = &c->core->cfg;
    uint64_t lim = c->fc_released + c->fc_partial + cfg->recv_window;
    if (lim > c->fc_adv) {
        c->fc_adv = lim;
    }
    uint64_t step = cfg->recv_window / 4;
    if (step < c->mtu) {
        step = c->mtu;
    }
    if (c->fc_adv >= c->fc_adv_sent + step) {
        c->window_dirty = 1;
    }
}

/* Queues a DATA packet (optionally with an ACK and a DISCONNECT) as a
   connectionless datagram: the connection is about to go. Every caller
   closes c right after, so the packet number (the AEAD nonce) it takes
   without recording is never used again. */
static void
last_words(pl_conn *c, uint64_t now, int with_ack, int with_disc,
           uint8_t reason, uint32_t code)
{
    uint8_t buf[PL_RAW_MAX];
    pl_wr w;
    uint64_t pn = pl_sent_next_pn(&c->sent);
    pl_wr_init(&w, buf, sizeof buf - (c->enc ? PL_AEAD_TAG_LEN : 0));
    if (c->remote_id == 0 ||
        pl_data_hdr_encode(&w, c->remote_id, pn) != PARLEY_OK) {
        return;
    }
    if (with_ack && c->ackq.n > 0) {
        size_t nw;
        size_t n =
            c->ackq.n < PL_ACK_MAX_RANGES ? c->ackq.n : PL_ACK_MAX_RANGES;
        (void)pl_frame_encode_ack(&w, c->ackq.r, n,
                                  pl_ackq_delay(&c->ackq, now), &nw);
    }
    if (with_disc) {
        (void)pl_frame_encode_disconnect(&w, reason, code);
    }
    if (w.off > PL_DATA_HDR_LEN) {
        size_t len = w.off;
        if (c->enc) {
            len = pl_crypto_seal(c->key_tx, pn, buf, PL_DATA_HDR_LEN, len);
        }
        pl_core_push_raw(c->core, &c->addr, buf, len);
    }
}

void
pl_conn_send_disconnect_raw(pl_conn *c, uint8_t reason, uint32_t code)
{
    last_words(c, c->core->now, 0, 1, reason, code);
}

void
pl_conn_protocol_error(pl_conn *c, uint64_t now)
{
    PL_LOG_INFO("core", "peer broke the protocol; disconnecting");
    last_words(c, now, 0, 1, PL_DISC_PROTOCOL, 0);
    pl_core_close(c->core, c, PARLEY_EVENT_DISCONNECT, PARLEY_REASON_PROTOCOL,
                  0, PARLEY_PEER_ERROR);
}

/* ---- acknowledgements ---- */

/* Appends a chunk to the retransmission ring, merged into the last one
   when it continues it (pieces lost in consecutive packets), so repeated
   losses do not grind a message into ever smaller frames. */
static int
rtx_push(pl_conn *c, const pl_chunk *ch)
{
    if (c->rtx_n > 0) {
        pl_chunk *last = &c->rtx[(c->rtx_head + c->rtx_n - 1) % c->rtx_cap];
        if (last->msg == ch->msg && last->msg->frag &&
            last->off + last->len == ch->off &&
            (uint64_t)last->len + ch->len <= UINT32_MAX) {
            last->len += ch->len;
            ch->msg->refs--; /* two holders became one */
            c->rtx_bytes += ch->len;
            return PARLEY_OK;
        }
    }
    if (c->rtx_n == c->rtx_cap) {
        size_t ncap = c->rtx_cap ? c->rtx_cap * 2 : 8;
        pl_chunk *n = pl_malloc(ncap * sizeof *n);
        if (!n) {
            return PARLEY_ENOMEM;
        }
        for (size_t i = 0; i < c->rtx_n; i++) {
            n[i] = c->rtx[(c->rtx_head + i) % c->rtx_cap];
        }
        pl_free(c->rtx);
        c->rtx = n;
        c->rtx_cap = ncap;
        c->rtx_head = 0;
    }
    c->rtx[(c->rtx_head + c->rtx_n) % c->rtx_cap] = *ch;
    c->rtx_n++;
    c->rtx_bytes += ch->len;
    return PARLEY_OK;
}

static void
on_pkt_acked(void *ctx, uint64_t pn, pl_sent_pkt *p)
{
    pl_conn *c = ctx;
    pl_conn_pmtu_acked(c, pn, p);
    for (uint32_t i = 0; i < p->nchunks; i++) {
        pl_chunk *ch = pl_sent_chunk(&c->sent, p->chunk_first + i);
        pl_msg *m = ch->msg;
        m->refs--;
        c->rel_unacked -= ch->len;
        if (m->refs == 0 && !m->queued && m->sent_off == m->len) {
            pl_conn_msg_free(c, m);
        }
    }
    if (p->flags & PL_SENT_HAS_ACK) {
        pl_ackq_prune(&c->ackq, p->ack_largest);
    }
    if (p->flags & PL_SENT_HAS_DISC) {
        c->disc_acked = 1;
    }
    if (p->flags & PL_SENT_ELICITING) {
        pl_cc_on_ack(&c->cc, p->size, p->time, c->core->now,
                     (p->flags & PL_SENT_CWND_LIMITED) != 0);
        c->delivered += p->size;
        c->delivered_time = c->core->now;
        if (!c->rs_have || p->delivered >= c->rs_delivered) {
            c->rs_have = 1;
            c->rs_delivered = p->delivered;
            c->rs_delivered_time = p->delivered_time;
            c->rs_first_sent = p->first_sent_time;
            c->rs_time = p->time;
        }
    }
}

static void
on_pkt_lost(void *ctx, uint64_t pn, pl_sent_pkt *p)
{
    pl_conn *c = ctx;
    pl_conn_pmtu_lost(c, pn, p);
    for (uint32_t i = 0; i < p->nchunks; i++) {
        pl_chunk *ch = pl_sent_chunk(&c->sent, p->chunk_first + i);
        if (rtx_push(c, ch) != PARLEY_OK) {
            c->fatal = 1;
        }
    }
    if (p->flags & PL_SENT_HAS_WINDOW) {
        c->window_dirty = 1;
    }
}

/* A delivery-rate sample from the newest packet this ACK covered. */
static void
take_rate_sample(pl_conn *c, uint64_t now)
{
    if (!c->rs_have) {
        return;
    }
    c->rs_have = 0;
    c->first_sent_time = c->rs_time;
    uint64_t delta = c->delivered - c->rs_delivered;
    uint64_t send_el = c->rs_time - c->rs_first_sent;
    uint64_t ack_el = now - c->rs_delivered_time;
    uint64_t interval = send_el > ack_el ? send_el : ack_el;
    if (interval == 0 || interval < c->rtt.min_rtt || delta == 0) {
        return;
    }
    uint64_t rate = delta > UINT64_MAX / 1000000 ? UINT64_MAX / interval
                                                 : delta * 1000000 / interval;
    pl_cc_on_rate(&c->cc, rate, now, c->rtt.srtt);
}

static void
after_loss(pl_conn *c, uint64_t now, const pl_loss_result *res)
{
    if (res->lost > 0) {
        c->st.packets_lost += res->lost;
        c->recent_lost += (uint32_t)res->lost;
        pl_cc_on_loss(&c->cc, res->largest_lost_time, res->lost_bytes, now,
                      c->rtt.min_rtt, c->rtt.srtt, c->rtt.rttvar);
    }
}

static void
on_ack_frame(pl_conn *c, uint64_t now, const pl_frame *f)
{
    pl_loss_cb cb = {c, on_pkt_acked, on_pkt_lost};
    pl_loss_result res;
    memset(&res, 0, sizeof res);
    c->rs_have = 0;
    pl_loss_on_ack(&c->sent, f->u.ack.r, f->u.ack.n, f->u.ack.delay_us, now,
                   &c->rtt, &cb, &res);
    if (res.acked_bytes > 0) {
        c->pto_count = 0;
    }
    if (res.rtt_sampled) {
        pl_cc_on_rtt(&c->cc, c->rtt.latest, now, c->rtt.srtt);
    }
    take_rate_sample(c, now);
    after_loss(c, now, &res);
}

/* ---- receiving a DATA packet ---- */

/* Bytes a piece at [off, off+len) of a partial message could add. */
static size_t
piece_need(const pl_reasm *r, uint64_t off, size_t len)
{
    size_t need = r->niv == r->ivcap ? (size_t)r->ivcap * 2 * 8 : 0;
    if (len == 0 || off >= r->total) {
        return need;
    }
    uint64_t first = off / PL_REASM_BLOCK;
    uint64_t last = (off + len - 1) / PL_REASM_BLOCK;
    for (uint64_t i = first; i <= last && i < r->nblocks; i++) {
        if (!r->blocks[i]) {
            need += r->nblocks == 1 ? pl_buf_cap(r->total) : PL_REASM_BLOCK;
        }
    }
    return need;
}

/* At most the receive memory one frame can make us allocate: the host
   budget is checked against it before a packet is accepted. */
static size_t
frame_need(const pl_conn *c, const pl_frame *f)
{
    if (f->type != PL_FRAME_MSG || f->u.msg.channel >= c->channels) {
        return 0;
    }
    size_t base = sizeof(pl_rxmsg) + 2 * PL_RXMAP_ENTRY_COST;
    if (!f->u.msg.frag) {
        return base + pl_buf_cap(f->u.msg.len);
    }
    uint16_t tag = (uint16_t)(f->u.msg.channel << 2 | f->u.msg.mode);
    const pl_rxmsg *rx = pl_rxmap_get(&c->rxmap, tag, f->u.msg.seq);
    if (rx && rx->state == PL_RX_PARTIAL) {
        return piece_need(&rx->re, f->u.msg.offset, f->u.msg.len);
    }
    uint64_t total = f->u.msg.total_len;
    if (total <= PL_REASM_BLOCK) {
        return base + pl_buf_cap((size_t)total) + 8 * sizeof(pl_reasm_iv);
    }
    size_t table = (size_t)(total / PL_REASM_BLOCK + 1) * sizeof(uint8_t *);
    return base + table + 2 * (size_t)PL_REASM_BLOCK + 8 * sizeof(pl_reasm_iv);
}

/* Checks every frame. PARLEY_OK with *eliciting and *worst set. */
static int
validate(const pl_conn *c, const uint8_t *p, size_t n, int *eliciting,
         size_t *worst)
{
    pl_rd rd;
    pl_frame f;
    pl_rd_init(&rd, p, n);
    *eliciting = 0;
    *worst = 0;
    if (n == 0) {
        return PARLEY_EPROTO;
    }
    /* Pieces of one new message come one after another: count its
       storage once, not once per piece. */
    int have_prev = 0;
    uint64_t prev_seq = 0;
    uint8_t prev_ch = 0, prev_mode = 0;
    while (pl_rd_left(&rd) > 0) {
        if (pl_frame_decode(&rd, &f) != PARLEY_OK) {
            return PARLEY_EPROTO;
        }
        if (pl_frame_is_ack_eliciting(f.type)) {
            *eliciting = 1;
        }
        if (f.type == PL_FRAME_MSG && f.u.msg.frag && have_prev &&
            f.u.msg.seq == prev_seq && f.u.msg.channel == prev_ch &&
            f.u.msg.mode == prev_mode) {
            continue;
        }
        *worst += frame_need(c, &f);
        if (f.type == PL_FRAME_MSG && f.u.msg.frag) {
            have_prev = 1;
            prev_seq = f.u.msg.seq;
            prev_ch = f.u.msg.channel;
            prev_mode = f.u.msg.mode;
        }
    }
    return rd.err ? PARLEY_EPROTO : PARLEY_OK;
}

static parley_reason
reason_of(uint8_t wire)
{
    switch (wire) {
    case PL_DISC_GRACEFUL:
        return PARLEY_REASON_GRACEFUL;
    case PL_DISC_TIMEOUT:
        return PARLEY_REASON_TIMEOUT;
    case PL_DISC_KICKED:
        return PARLEY_REASON_KICKED;
    case PL_DISC_REJECTED:
        return PARLEY_REASON_REJECTED;
    default:
        return PARLEY_REASON_PROTOCOL;
    }
}

/* Applies the frames. Returns PARLEY_OK or EPROTO; *disc gets a
   DISCONNECT frame's reason (0: none). */
static int
apply(pl_conn *c, uint64_t now, const uint8_t *p, size_t n, uint8_t *disc,
      uint32_t *code)
{
    pl_rd rd;
    pl_frame f;
    pl_rd_init(&rd, p, n);
    while (pl_rd_left(&rd) > 0 && pl_frame_decode(&rd, &f) == PARLEY_OK) {
        switch (f.type) {
        case PL_FRAME_ACK:
            on_ack_frame(c, now, &f);
            break;
        case PL_FRAME_WINDOW:
            if (f.u.window.bytes > c->fc_limit) {
                c->fc_limit = f.u.window.bytes;
            }
            break;
        case PL_FRAME_DISCONNECT:
            *disc = f.u.disconnect.reason;
            *code = (uint32_t)f.u.disconnect.code;
            break;
        case PL_FRAME_MSG:
            if (pl_chan_on_msg(c, now, &f) != PARLEY_OK) {
                return PARLEY_EPROTO;
            }
            break;
        default:
            break; /* PING, PADDING: nothing to do but ack */
        }
    }
    return PARLEY_OK;
}

void
pl_conn_on_data(pl_conn *c, uint64_t now, uint32_t pn_trunc, const uint8_t *pkt,
                size_t len)
{
    pl_core *core = c->core;
    uint64_t largest = c->ackq.n ? pl_ackq_largest(&c->ackq) : UINT64_MAX;
    uint64_t pn = pl_pn_expand(largest, pn_trunc);
    if (pl_ackq_seen(&c->ackq, pn)) {
        core->st.dropped_duplicate++;
        return;
    }
    int eliciting;
    size_t worst;
    const uint8_t *frames = pkt + PL_DATA_HDR_LEN;
    size_t flen = len - PL_DATA_HDR_LEN;
    if (validate(c, frames, flen, &eliciting, &worst) != PARLEY_OK) {
        core->st.dropped_malformed++;
        return;
    }
    if (worst > 0 && (core->mem > core->cfg.host_memory ||
                      worst > core->cfg.host_memory - core->mem)) {
        /* The host is out of budget: drop unacknowledged, the sender
           will try again; a peer hoarding more than its share goes. */
        core->st.dropped_memory++;
        (void)pl_core_shed(core, c, now);
        return;
    }
    pl_ackq_record(&c->ackq, pn, now, eliciting);
    c->last_recv = now;
    c->st.packets_in++;
    c->st.bytes_in += len;
    uint8_t disc = 0;
    uint32_t code = 0;
    parley_peer id = c->id;
    if (apply(c, now, frames, flen, &disc, &code) != PARLEY_OK) {
        if (pl_core_conn(core, id) == c) {
            pl_conn_protocol_error(c, now);
        }
        return;
    }
    if (disc) {
        /* Close at once, without an answer (docs/PROTOCOL.md 7). */
        parley_reason r = c->disc_phase ? PARLEY_REASON_LOCAL : reason_of(disc);
        pl_core_close(core, c, PARLEY_EVENT_DISCONNECT, r,
                      c->disc_phase ? c->disc_code : code,
                      PARLEY_PEER_DISCONNECTED);
    }
}

/* ---- timers ---- */

static void
loss_timer(pl_conn *c, uint64_t now)
{
    int is_pto;
    uint64_t t = pl_loss_timer(&c->sent, &c->rtt, c->pto_count, &is_pto);
    if (t > now) {
        return;
    }
    if (!is_pto) {
        pl_loss_cb cb = {c, on_pkt_acked, on_pkt_lost};
        pl_loss_result res;
        memset(&res, 0, sizeof res);
        pl_loss_detect(&c->sent, now, &c->rtt, &cb, &res);
        after_loss(c, now, &res);
        return;
    }
    c->pto_count++;
    c->probes = 1;
    pl_conn_pmtu_pto(c, now);
}

/*
 * Graceful close: flush (every message sent and acknowledged, or
 * disconnect_timeout_ms), then send DISCONNECT PL_DISC_SENDS times, a
 * little apart, and forget the connection; the peer does not answer
 * (docs/PROTOCOL.md 7). Returns 0 when c was closed.
 */
static int
close_timer(pl_conn *c, uint64_t now)
{
    if (c->disc_phase == PL_DISC_FLUSH &&
        (c->all == NULL || now >= c->disc_deadline)) {
        c->disc_phase = PL_DISC_SENT;
        c->disc_needed = 1;
        c->disc_sends = 0;
    }
    if (c->disc_phase != PL_DISC_SENT || c->disc_needed) {
        return 1;
    }
    if (c->disc_acked || c->disc_sends >= PL_DISC_SENDS) {
        pl_core_close(c->core, c, PARLEY_EVENT_DISCONNECT, PARLEY_REASON_LOCAL,
                      c->disc_code, PARLEY_PEER_DISCONNECTED);
        return 0;
    }
    if (now >= c->disc_next) {
        c->disc_needed = 1;
    }
    return 1;
}

/*
 * When a keepalive PING is due: only after the peer has been silent for a
 * ping interval and we have not asked it for an answer in as long. A peer
 * that keeps sending (or acking what we send) is plainly alive and costs
 * no pings; of two idle peers, the first to ping gets an ACK and the
 * other, having just heard the PING, does not ping back.
 */
static uint64_t
ping_time(const pl_conn *c)
{
    uint64_t iv = (uint64_t)c->core->cfg.ping_interval_ms * 1000;
    uint64_t heard = c->last_recv, asked = c->last_eliciting_sent;
    return (heard > asked ? heard : asked) + iv;
}

int
pl_conn_tick(pl_conn *c, uint64_t now)
{
    pl_core *core = c->core;
    if (c->state == PARLEY_PEER_CONNECTING) {
        if (now >= c->hs_deadline) {
            pl_core_close(core, c, PARLEY_EVENT_CONNECT_FAILED,
                          PARLEY_REASON_CONNECT_TIMEOUT, 0,
                          PARLEY_PEER_DISCONNECTED);
            return 0;
        }
        return 1;
    }
    if (now >= c->last_recv + (uint64_t)core->cfg.timeout_ms * 1000) {
        pl_core_close(core, c, PARLEY_EVENT_DISCONNECT, PARLEY_REASON_TIMEOUT,
                      0, PARLEY_PEER_ERROR);
        return 0;
    }
    if (c->fatal) {
        PL_LOG_ERROR("core", "out of memory; dropping a connection");
        last_words(c, now, 0, 1, PL_DISC_PROTOCOL, 0);
        pl_core_close(core, c, PARLEY_EVENT_DISCONNECT, PARLEY_REASON_LOCAL, 0,
                      PARLEY_PEER_ERROR);
        return 0;
    }
    loss_timer(c, now);
    pl_conn_pmtu_tick(c, now);
    if (c->state == PARLEY_PEER_CONNECTED && now >= ping_time(c)) {
        c->ping_due = 1;
    }
    pl_chan_expire(c, now);
    if (c->disc_phase != PL_DISC_NONE) {
        return close_timer(c, now);
    }
    return 1;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* When data could next leave, given the window and the pacer. */
static uint64_t
data_due(const pl_conn *c, uint64_t now)
{
    if (!pl_conn_has_data(c)) {
        return UINT64_MAX;
    }
    if (c->probes > 0) {
        return now;
    }
    if (!pl_cc_can_send(&c->cc, c->sent.bytes_in_flight, c->mtu)) {
        return UINT64_MAX; /* an ACK or a timer will open it */
    }
    pl_pacer p = c->pacer;
    return pl_pacer_next(&p, now, pl_conn_pacing_rate(c),
                         pl_conn_pacing_burst(c), c->mtu);
}

void
pl_conn_update_due(pl_conn *c, uint64_t now)
{
    const parley_host_config *cfg = &c->core->cfg;
    uint64_t t = UINT64_MAX;
    if (c->state == PARLEY_PEER_CONNECTING) {
        pl_sched_update(&c->core->sched, c,
                        min_u64(c->hs_deadline, c->hs_next));
        return;
    }
    if (c->accept_pending || c->window_dirty || c->disc_needed ||
        c->probes > 0 || c->ping_due) {
        pl_sched_update(&c->core->sched, c, now);
        return;
    }
    t = min_u64(t, c->last_recv + (uint64_t)cfg->timeout_ms * 1000);
    uint64_t ack = pl_ackq_deadline(&c->ackq);
    t = min_u64(t, ack == 0 ? now : ack);
    int is_pto;
    t = min_u64(t, pl_loss_timer(&c->sent, &c->rtt, c->pto_count, &is_pto));
    if (c->state == PARLEY_PEER_CONNECTED) {
        t = min_u64(t, ping_time(c));
    }
    t = min_u64(t, pl_chan_next_expiry(c));
    if (c->state == PARLEY_PEER_CONNECTED) {
        t = min_u64(t, pl_conn_pmtu_due(c));
    }
    if (c->disc_phase == PL_DISC_FLUSH) {
        t = min_u64(t, c->all ? c->disc_deadline : now);
    } else if (c->disc_phase == PL_DISC_SENT) {
        int done = c->disc_acked || c->disc_sends >= PL_DISC_SENDS;
        t = min_u64(t, done ? now : c->disc_next);
    }
    if (c->fatal) {
        t = now;
    }
    t = min_u64(t, data_due(c, now));
    pl_sched_update(&c->core->sched, c, t);
}

/* ---- sending ---- */

int
pl_conn_send(pl_conn *c, uint64_t now, uint8_t channel, const void *data,
             size_t len, uint32_t flags, parley_release_fn release, void *user)
{
    (void)now;
    pl_core *core = c->core;
    uint32_t mode_bits = flags & PARLEY_SEND_MODE_MASK;
    if (channel >= c->channels ||
        (flags & ~(uint32_t)(PARLEY_SEND_MODE_MASK | PARLEY_SEND_FLUSH)) ||
        mode_bits > PARLEY_SEND_MODE(PARLEY_UNRELIABLE)) {
        return PARLEY_EINVAL;
    }
    uint8_t mode =
        mode_bits ? (uint8_t)(mode_bits - 1) : core->cfg.channel_modes[channel];
    if (len > core->cfg.max_message || len > c->peer_max_message) {
        return PARLEY_EMSGSIZE;
    }
    size_t charge = sizeof(pl_msg) + (release ? len : pl_buf_cap(len));
    pl_budget b = {&c->tx_mem, core->cfg.peer_memory, &core->mem,
                   core->cfg.host_memory};
    if (pl_budget_take(&b, charge) != PARLEY_OK) {
        return PARLEY_ENOBUFS;
    }
    pl_msg *m = pl_pool_get(&core->msg_pool);
    uint8_t *buf =
        release ? (uint8_t *)(uintptr_t)data : pl_buf_get(&core->bufs, len);
    if (!m || !buf) {
        pl_pool_put(&core->msg_pool, m);
        pl_budget_give(&b, charge);
        return PARLEY_ENOMEM;
    }
    if (!release && len > 0) {
        memcpy(buf, data, len);
    }
    memset(m, 0, sizeof *m);
    m->data = buf;
    m->len = (uint32_t)len;
    m->release = release;
    m->user = user;
    m->channel = channel;
    m->mode = mode;
    m->charge = charge;
    m->seq = c->tx_seq[channel * 4u + mode]++;
    /* Against the base MTU, not the probed one: a whole message must fit
       every packet it may be sent again in, and a black hole takes the
       MTU back to the base (fragments are re-cut to fit). */
    size_t whole = pl_frame_msg_size(m->seq, len);
    m->frag = whole == 0 || whole > c->pmtu.base - PL_DATA_HDR_LEN -
                                        PL_PKT_RESERVE -
                                        (c->enc ? PL_AEAD_TAG_LEN : 0);
    m->anext = c->all;
    if (c->all) {
        c->all->aprev = m;
    }
    c->all = m;
    m->queued = 1;
    int q = m->frag;
    if (c->q_tail[q]) {
        c->q_tail[q]->qnext = m;
    } else {
        c->q_head[q] = m;
    }
    c->q_tail[q] = m;
    c->out_bytes += len;
    c->st.messages_out++;
    return PARLEY_OK;
}

void
pl_conn_stats(const pl_conn *c, parley_peer_stats *out)
{
    *out = c->st;
    out->state = c->state;
    out->addr = c->addr;
    out->mtu = c->mtu;
    out->mtu_probes = c->pmtu.probes;
    out->mtu_probes_lost = c->pmtu.probes_lost;
    out->mtu_blackholes = c->pmtu.blackholes;
    out->srtt_us = c->rtt.srtt;
    out->rttvar_us = c->rtt.rttvar;
    out->min_rtt_us = c->rtt.min_rtt;
    out->latest_rtt_us = c->rtt.latest;
    out->loss_pct =
        c->recent_sent ? 100.0 * (double)c->recent_lost / (double)c->recent_sent
                       : 0.0;
    if (out->loss_pct > 100.0) {
        out->loss_pct = 100.0;
    }
    out->unacked_messages = c->unacked_msgs;
    out->unacked_bytes = c->rel_unacked;
    out->out_buffer_bytes = c->out_bytes + c->rtx_bytes;
    out->reorder_queue = c->reorder_n;
    out->cwnd_bytes = c->cc.cwnd;
    out->send_rate_bps = pl_conn_pacing_rate(c);
    out->peer_window_bytes =
        c->fc_limit > c->fc_used ? c->fc_limit - c->fc_used : 0;
}
