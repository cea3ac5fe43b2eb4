/*
 * The receiving side of channels: the four delivery modes, per (channel,
 * mode) sequence numbers, reassembly of fragmented messages and the
 * events that hand messages to the app.
 *
 * - Reliable ordered: messages ahead of the next expected one wait in a
 *   hash table keyed by (channel, mode, seq) and are released in order.
 * - Reliable unordered: delivered at once; a marker per delivered message
 *   above the contiguous base remembers it (the base advances over them),
 *   so a retransmitted duplicate is recognised.
 * - Unreliable sequenced: delivered only if newer than the newest
 *   delivered; older arrivals (and fragments completing late) are dropped.
 * - Unreliable: delivered as it comes; duplicates cannot happen because
 *   packets are deduplicated by number and unreliable data is never sent
 *   twice.
 * Unreliable fragmented messages wait at most a few RTTs for their
 * missing pieces (those are never resent) and are then dropped whole.
 * Every byte held is charged to the peer's and the host's budgets: going
 * over is a protocol violation for reliable data (the sender ignored our
 * flow-control window) and a silent drop for unreliable data.
 */
#include "core/core_int.h"

#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"

/* The value stored for "delivered" in unordered mode (never freed). */
static pl_rxmsg done_marker;
#define DONE (&done_marker)

#define UPART_MIN_TIMEOUT_US 200000u

static uint16_t
tag_of(uint8_t channel, uint8_t mode)
{
    return (uint16_t)(channel << 2 | mode);
}

static int
map_put(pl_conn *c, uint16_t tag, uint64_t seq, pl_rxmsg *rx)
{
    pl_budget b = pl_core_rx_budget(c);
    int rc = pl_budget_take(&b, PL_RXMAP_ENTRY_COST);
    if (rc != PARLEY_OK) {
        return rc;
    }
    rc = pl_rxmap_put(&c->rxmap, tag, seq, rx);
    if (rc != PARLEY_OK) {
        pl_budget_give(&b, PL_RXMAP_ENTRY_COST);
    }
    return rc;
}

static pl_rxmsg *
map_del(pl_conn *c, uint16_t tag, uint64_t seq)
{
    pl_rxmsg *rx = pl_rxmap_del(&c->rxmap, tag, seq);
    if (rx) {
        pl_budget b = pl_core_rx_budget(c);
        pl_budget_give(&b, PL_RXMAP_ENTRY_COST);
    }
    return rx;
}

/* Frees a record that never reached the app. */
static void
rx_discard(pl_conn *c, pl_rxmsg *rx)
{
    pl_budget b = pl_core_rx_budget(c);
    if (rx->state == PL_RX_PARTIAL) {
        pl_reasm_free(&rx->re, &c->core->bufs, &b);
    } else {
        pl_buf_put(&c->core->bufs, rx->data, rx->len);
    }
    pl_budget_give(&b, rx->charge);
    pl_pool_put(&c->core->rx_pool, rx);
}

/* A new record, charged for itself. */
static pl_rxmsg *
rx_new(pl_conn *c, const pl_frame *f, int *err)
{
    pl_budget b = pl_core_rx_budget(c);
    *err = pl_budget_take(&b, sizeof(pl_rxmsg));
    if (*err != PARLEY_OK) {
        return NULL;
    }
    pl_rxmsg *rx = pl_pool_get(&c->core->rx_pool);
    if (!rx) {
        pl_budget_give(&b, sizeof(pl_rxmsg));
        *err = PARLEY_ENOMEM;
        return NULL;
    }
    memset(rx, 0, sizeof *rx);
    rx->owner = c->id;
    rx->seq = f->u.msg.seq;
    rx->channel = f->u.msg.channel;
    rx->mode = f->u.msg.mode;
    rx->charge = sizeof(pl_rxmsg);
    return rx;
}

/* A whole (unfragmented) message copied out of the packet. */
static pl_rxmsg *
rx_whole(pl_conn *c, const pl_frame *f, int *err)
{
    pl_rxmsg *rx = rx_new(c, f, err);
    if (!rx) {
        return NULL;
    }
    size_t len = f->u.msg.len;
    pl_budget b = pl_core_rx_budget(c);
    *err = pl_budget_take(&b, pl_buf_cap(len));
    rx->data = *err == PARLEY_OK ? pl_buf_get(&c->core->bufs, len) : NULL;
    if (!rx->data) {
        if (*err == PARLEY_OK) {
            pl_budget_give(&b, pl_buf_cap(len));
            *err = PARLEY_ENOMEM;
        }
        rx->state = PL_RX_READY;
        rx_discard(c, rx);
        return NULL;
    }
    rx->charge += pl_buf_cap(len);
    if (len > 0) {
        memcpy(rx->data, f->u.msg.data, len);
    }
    rx->len = (uint32_t)len;
    rx->state = PL_RX_READY;
    return rx;
}

/* Hands a complete message to the app. */
static void
deliver(pl_conn *c, pl_rxmsg *rx)
{
    pl_core *core = c->core;
    parley_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = PARLEY_EVENT_RECEIVE;
    ev.peer = c->id;
    ev.addr = c->addr;
    ev.channel = rx->channel;
    ev.delivery = rx->mode;
    ev.data = rx->data;
    ev.len = rx->len;
    ev.internal_ = rx;
    if (rx->mode <= PL_MODE_RELIABLE_UNORDERED) {
        rx->fc = rx->len + PL_FC_MSG_COST;
    }
    if (pl_core_push_event(core, &ev) != PARLEY_OK) {
        /* Out of memory: the message is lost; keep the books right. */
        c->fc_released += rx->fc;
        rx_discard(c, rx);
        return;
    }
    rx->state = PL_RX_QUEUED;
    c->rx_out_charge += rx->charge;
    rx->prev = NULL;
    rx->next = core->out_head;
    if (core->out_head) {
        core->out_head->prev = rx;
    }
    core->out_head = rx;
    c->st.messages_in++;
}

/* Ordered: deliver rx if it is next, then everything waiting behind it. */
static int
complete_ordered(pl_conn *c, pl_chan_rx *st, uint16_t tag, pl_rxmsg *rx)
{
    if (rx->seq != st->next) {
        int rc = map_put(c, tag, rx->seq, rx);
        if (rc != PARLEY_OK) {
            rx_discard(c, rx);
            return PARLEY_EPROTO;
        }
        c->reorder_n++;
        return PARLEY_OK;
    }
    deliver(c, rx);
    st->next++;
    for (;;) {
        pl_rxmsg *r = pl_rxmap_get(&c->rxmap, tag, st->next);
        if (!r || r->state != PL_RX_READY) {
            break;
        }
        map_del(c, tag, st->next);
        c->reorder_n--;
        deliver(c, r);
        st->next++;
    }
    return PARLEY_OK;
}

static int
complete_unordered(pl_conn *c, pl_chan_rx *st, uint16_t tag, pl_rxmsg *rx)
{
    uint64_t seq = rx->seq;
    deliver(c, rx);
    if (seq != st->next) {
        return map_put(c, tag, seq, DONE) == PARLEY_OK ? PARLEY_OK
                                                       : PARLEY_EPROTO;
    }
    st->next++;
    while (pl_rxmap_get(&c->rxmap, tag, st->next) == DONE) {
        map_del(c, tag, st->next);
        st->next++;
    }
    return PARLEY_OK;
}

/* A message is complete: apply its mode's rule. */
static int
complete(pl_conn *c, pl_chan_rx *st, uint16_t tag, pl_rxmsg *rx)
{
    switch (rx->mode) {
    case PL_MODE_RELIABLE_ORDERED:
        return complete_ordered(c, st, tag, rx);
    case PL_MODE_RELIABLE_UNORDERED:
        return complete_unordered(c, st, tag, rx);
    case PL_MODE_UNRELIABLE_SEQUENCED:
        if (st->has_last && rx->seq <= st->last) {
            rx_discard(c, rx);
            return PARLEY_OK;
        }
        st->has_last = 1;
        st->last = rx->seq;
        deliver(c, rx);
        return PARLEY_OK;
    default:
        deliver(c, rx);
        return PARLEY_OK;
    }
}

static void
upart_unlink(pl_conn *c, pl_rxmsg *rx)
{
    if (rx->prev) {
        rx->prev->next = rx->next;
    } else {
        c->upart_head = rx->next;
    }
    if (rx->next) {
        rx->next->prev = rx->prev;
    } else {
        c->upart_tail = rx->prev;
    }
    rx->next = rx->prev = NULL;
    c->upart_n--;
}

static void
upart_append(pl_conn *c, pl_rxmsg *rx, uint64_t now)
{
    uint64_t t = 2 * pl_rtt_pto(&c->rtt, PL_MAX_ACK_DELAY_US);
    rx->deadline = now + (t > UPART_MIN_TIMEOUT_US ? t : UPART_MIN_TIMEOUT_US);
    rx->next = NULL;
    rx->prev = c->upart_tail;
    if (c->upart_tail) {
        c->upart_tail->next = rx;
    } else {
        c->upart_head = rx;
    }
    c->upart_tail = rx;
    c->upart_n++;
}

/* Drops an unreliable partial message (lost piece, timeout, budget). */
static void
drop_upart(pl_conn *c, uint16_t tag, pl_rxmsg *rx)
{
    map_del(c, tag, rx->seq);
    upart_unlink(c, rx);
    rx_discard(c, rx);
}

/* Finds or starts the reassembly of a fragmented message. */
static pl_rxmsg *
partial_for(pl_conn *c, uint64_t now, uint16_t tag, const pl_frame *f,
            int reliable, int *err)
{
    pl_rxmsg *rx = pl_rxmap_get(&c->rxmap, tag, f->u.msg.seq);
    *err = PARLEY_OK;
    if (rx) {
        if (rx->state != PL_RX_PARTIAL || rx->re.total != f->u.msg.total_len) {
            *err = PARLEY_EPROTO; /* whole and fragmented, or two totals */
            return NULL;
        }
        return rx;
    }
    if (!reliable && c->upart_n >= PL_UPART_MAX) {
        pl_rxmsg *old = c->upart_head;
        drop_upart(c, tag_of(old->channel, old->mode), old);
    }
    rx = rx_new(c, f, err);
    if (!rx) {
        return NULL;
    }
    pl_budget b = pl_core_rx_budget(c);
    *err = pl_reasm_init(&rx->re, (uint32_t)f->u.msg.total_len, &b);
    if (*err == PARLEY_OK) {
        rx->state = PL_RX_PARTIAL;
        *err = map_put(c, tag, rx->seq, rx);
        if (*err != PARLEY_OK) {
            pl_reasm_free(&rx->re, &c->core->bufs, &b);
        }
    }
    if (*err != PARLEY_OK) {
        rx->state = PL_RX_READY;
        rx_discard(c, rx);
        return NULL;
    }
    if (reliable) {
        c->fc_partial += PL_FC_MSG_COST;
    } else {
        upart_append(c, rx, now);
    }
    return rx;
}

/* A piece of a fragmented message. */
static int
on_piece(pl_conn *c, uint64_t now, pl_chan_rx *st, uint16_t tag,
         const pl_frame *f)
{
    int reliable = f->u.msg.mode <= PL_MODE_RELIABLE_UNORDERED;
    int err;
    pl_rxmsg *rx = partial_for(c, now, tag, f, reliable, &err);
    if (!rx) {
        return reliable || err == PARLEY_EPROTO ? PARLEY_EPROTO : PARLEY_OK;
    }
    pl_budget b = pl_core_rx_budget(c);
    uint32_t before = rx->re.got;
    err = pl_reasm_add(&rx->re, &c->core->bufs, &b, (uint32_t)f->u.msg.offset,
                       f->u.msg.data, (uint32_t)f->u.msg.len);
    if (err != PARLEY_OK) {
        if (reliable) {
            return PARLEY_EPROTO;
        }
        drop_upart(c, tag, rx);
        return PARLEY_OK;
    }
    if (reliable) {
        c->fc_partial += rx->re.got - before;
    } else {
        upart_unlink(c, rx);
        upart_append(c, rx, now);
    }
    if (!pl_reasm_done(&rx->re)) {
        return PARLEY_OK;
    }
    uint8_t *buf;
    size_t charge;
    if (pl_reasm_take(&rx->re, &c->core->bufs, &b, &buf, &charge) !=
        PARLEY_OK) {
        return reliable ? PARLEY_EPROTO : PARLEY_OK;
    }
    map_del(c, tag, rx->seq);
    if (reliable) {
        c->fc_partial -= rx->re.total + PL_FC_MSG_COST;
    } else {
        upart_unlink(c, rx);
    }
    rx->data = buf;
    rx->len = rx->re.total;
    rx->charge += charge;
    rx->state = PL_RX_READY;
    return complete(c, st, tag, rx);
}

/* Nonzero when (tag, seq) is already delivered or waiting complete. */
static int
is_duplicate(const pl_conn *c, const pl_chan_rx *st, uint16_t tag,
             const pl_frame *f)
{
    uint64_t seq = f->u.msg.seq;
    switch (f->u.msg.mode) {
    case PL_MODE_RELIABLE_ORDERED:
    case PL_MODE_RELIABLE_UNORDERED:
        if (seq < st->next) {
            return 1;
        }
        break;
    case PL_MODE_UNRELIABLE_SEQUENCED:
        if (st->has_last && seq <= st->last) {
            return 1;
        }
        break;
    default:
        break;
    }
    const pl_rxmsg *rx = pl_rxmap_get(&c->rxmap, tag, seq);
    return rx == DONE || (rx && rx->state == PL_RX_READY);
}

int
pl_chan_on_msg(pl_conn *c, uint64_t now, const pl_frame *f)
{
    uint8_t ch = f->u.msg.channel;
    uint8_t mode = f->u.msg.mode;
    if (ch >= c->channels || mode > PL_MODE_UNRELIABLE ||
        f->u.msg.total_len > c->core->cfg.max_message ||
        (!f->u.msg.frag && f->u.msg.len > c->core->cfg.max_message)) {
        return PARLEY_EPROTO;
    }
    uint16_t tag = tag_of(ch, mode);
    pl_chan_rx *st = &c->rx[ch * 4u + mode];
    if (is_duplicate(c, st, tag, f)) {
        return PARLEY_OK;
    }
    int reliable = mode <= PL_MODE_RELIABLE_UNORDERED;
    if (f->u.msg.frag) {
        int rc = on_piece(c, now, st, tag, f);
        if (reliable && rc == PARLEY_OK) {
            pl_conn_update_window(c);
        }
        return rc;
    }
    if (pl_rxmap_get(&c->rxmap, tag, f->u.msg.seq)) {
        /* A partial with this number exists: whole and fragmented. */
        return reliable ? PARLEY_EPROTO : PARLEY_OK;
    }
    int err;
    pl_rxmsg *rx = rx_whole(c, f, &err);
    if (!rx) {
        return reliable ? PARLEY_EPROTO : PARLEY_OK;
    }
    return complete(c, st, tag, rx);
}

void
pl_chan_expire(pl_conn *c, uint64_t now)
{
    while (c->upart_head && c->upart_head->deadline <= now) {
        pl_rxmsg *rx = c->upart_head;
        drop_upart(c, tag_of(rx->channel, rx->mode), rx);
    }
}

uint64_t
pl_chan_next_expiry(const pl_conn *c)
{
    return c->upart_head ? c->upart_head->deadline : UINT64_MAX;
}

void
pl_chan_free_all(pl_conn *c)
{
    pl_rxmap *m = &c->rxmap;
    for (size_t i = 0; i < m->cap; i++) {
        pl_rxmsg *rx = m->e[i].val;
        if (rx && rx != DONE) {
            rx_discard(c, rx);
        }
        if (rx) {
            pl_budget b = pl_core_rx_budget(c);
            pl_budget_give(&b, PL_RXMAP_ENTRY_COST);
            m->e[i].val = NULL;
        }
    }
    m->n = 0;
    c->upart_head = c->upart_tail = NULL;
    c->upart_n = 0;
    c->reorder_n = 0;
    c->fc_partial = 0;
}

void
pl_chan_release(pl_core *core, pl_rxmsg *rx)
{
    if (rx->prev) {
        rx->prev->next = rx->next;
    } else {
        core->out_head = rx->next;
    }
    if (rx->next) {
        rx->next->prev = rx->prev;
    }
    pl_conn *c = pl_core_conn(core, rx->owner);
    pl_buf_put(&core->bufs, rx->data, rx->len);
    if (c) {
        pl_budget b = pl_core_rx_budget(c);
        pl_budget_give(&b, rx->charge);
        c->rx_out_charge -= rx->charge;
        c->fc_released += rx->fc;
        pl_conn_update_window(c);
    } else {
        core->mem = core->mem >= rx->charge ? core->mem - rx->charge : 0;
    }
    pl_pool_put(&core->rx_pool, rx);
}
