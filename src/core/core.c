/*
 * The host level of the sans-I/O engine: the peer table, the event queue,
 * datagram dispatch and the scheduler that picks which connection sends
 * next. Connections live in conn.c, packets are built in output.c.
 *
 * Design notes (the whole engine):
 * - Sans-I/O: every entry point takes now (microseconds) and nothing reads
 *   a clock or a socket, so tests/sim runs two engines in virtual time.
 * - Packets, not messages, are acknowledged (QUIC style): 64-bit packet
 *   numbers never reused, ACK frames with ranges, RTT from the largest
 *   newly acked packet minus the peer's ack delay. Lost packets' reliable
 *   pieces are put back in a queue and sent again in new packets, re-cut
 *   to fit (sent.c, loss.c, output.c).
 * - Messages are aggregated into datagrams up to the MTU; a message whose
 *   frame does not fit in one packet is fragmented, in every delivery
 *   mode. Receive-side reassembly allocates only where pieces land and is
 *   charged to per-peer and per-host budgets (fragment.c).
 * - Nothing is allocated for an address before it returns our stateless
 *   handshake cookie (handshake.c); replies are smaller than requests.
 *   Handshake replies wait in a fixed ring allocated at creation, so a
 *   flood of CONNECTs allocates nothing.
 * - Peers are (slot, generation) ids (peers.c): a stale id never reaches
 *   a newer peer. A closed peer keeps its slot, in state ERROR or
 *   DISCONNECTED, until the app takes its DISCONNECT/CONNECT_FAILED event.
 * - Flow control is an absolute credit (WINDOW frames, like QUIC's
 *   MAX_DATA) that grows as the app releases received messages (conn.c).
 * - Congestion control is NewReno growth with a Westwood+ bandwidth floor
 *   on backoff and pacing (cc.c); the comment there says why.
 * - Connections wait in a min-heap keyed by when they next have work
 *   (sched.c): finding the next one and the next wakeup is O(1), re-keying
 *   O(log n), and nothing per datagram scans every peer, so 10,000 peers
 *   cost what 10 do. Equal keys are served first in, first out, which is
 *   the round robin between peers that have data.
 * - Hot-path records come from free-list pools and ring buffers
 *   (pool.c, sent.c); message bytes are copied once into pooled buffers.
 */
#include "core/core_int.h"

#include <sodium.h>
#include <string.h>

#include "crypto/crypto.h"
#include "parley/error.h"
#include "util/alloc.h"
#include "util/log.h"

#define EV_INITIAL 64

static int
valid_config(const parley_host_config *cfg)
{
    if (cfg->channel_count == 0 || cfg->mtu < PL_MTU_MIN ||
        cfg->max_peers == 0 || cfg->max_message == 0 ||
        cfg->connect_timeout_ms == 0 || cfg->timeout_ms == 0 ||
        cfg->peer_memory == 0 || cfg->host_memory == 0) {
        return 0;
    }
    for (unsigned i = 0; i < cfg->channel_count; i++) {
        if (cfg->channel_modes[i] > PARLEY_UNRELIABLE) {
            return 0;
        }
    }
    /* Every access-control mode rides on the key exchange. */
    if (!cfg->encrypt && (cfg->psk || cfg->identity_secret || cfg->pinned_key ||
                          cfg->token_key || cfg->connect_token)) {
        return 0;
    }
    return 1;
}

/* Copies n key bytes when given; the core never keeps the app's
   pointers. */
static uint8_t
take_key(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (!src) {
        return 0;
    }
    memcpy(dst, src, n);
    return 1;
}

static void
take_security(pl_core *core, const parley_host_config *cfg)
{
    core->has_psk = take_key(core->psk, cfg->psk, sizeof core->psk);
    core->has_id =
        take_key(core->id_sk, cfg->identity_secret, sizeof core->id_sk);
    core->has_pin = take_key(core->pin, cfg->pinned_key, sizeof core->pin);
    core->has_token_key =
        take_key(core->token_key, cfg->token_key, sizeof core->token_key);
    core->has_token =
        take_key(core->token, cfg->connect_token, sizeof core->token);
    core->cfg.psk = NULL;
    core->cfg.identity_secret = NULL;
    core->cfg.pinned_key = NULL;
    core->cfg.token_key = NULL;
    core->cfg.connect_token = NULL;
}

int
pl_core_create(const parley_host_config *cfg, pl_core_random_fn random,
               void *random_user, uint64_t now_us, pl_core **out)
{
    if (!cfg || !random || !out || !valid_config(cfg)) {
        return PARLEY_EINVAL;
    }
    if (pl_crypto_init() != 0) {
        return PARLEY_ENOMEM;
    }
    pl_core *core = pl_calloc(1, sizeof *core);
    if (!core) {
        return PARLEY_ENOMEM;
    }
    core->cfg = *cfg;
    core->cfg.bind = NULL;
    take_security(core, cfg);
    /* The receive window must admit at least one whole packet. */
    if (core->cfg.recv_window < 2u * cfg->mtu + PL_FC_MSG_COST) {
        core->cfg.recv_window = 2u * cfg->mtu + PL_FC_MSG_COST;
    }
    core->random = random;
    core->random_user = random_user;
    core->now = now_us;
    pl_peers_init(&core->peers);
    pl_sched_init(&core->sched);
    pl_connmap_init(&core->ids);
    pl_connmap_init(&core->remotes);
    /* Free records kept for reuse: as many bytes as each buffer class
       keeps, so a burst of small messages does not go back to malloc. */
    pl_pool_init(&core->msg_pool, sizeof(pl_msg),
                 PL_BUF_CACHE_BYTES / sizeof(pl_msg));
    pl_pool_init(&core->rx_pool, sizeof(pl_rxmsg),
                 PL_BUF_CACHE_BYTES / sizeof(pl_rxmsg));
    pl_bufpool_init(&core->bufs);
    core->raw = pl_calloc(PL_RAW_SLOTS, sizeof(pl_raw));
    core->ev = pl_calloc(EV_INITIAL, sizeof(parley_event));
    core->ev_cap = EV_INITIAL;
    core->scratch = pl_malloc(pl_core_max_datagram(cfg));
    int rc = core->raw && core->ev && core->scratch ? PARLEY_OK : PARLEY_ENOMEM;
    if (rc == PARLEY_OK) {
        rc = random(random_user, core->cookie_key, sizeof core->cookie_key);
    }
    if (rc == PARLEY_OK) {
        uint8_t rl_key[16];
        rc = random(random_user, rl_key, sizeof rl_key);
        if (rc == PARLEY_OK) {
            rc = pl_rl_init(&core->rl, cfg->handshake_rate, rl_key);
        }
    }
    if (rc != PARLEY_OK) {
        pl_core_destroy(core);
        return rc;
    }
    *out = core;
    return PARLEY_OK;
}

void
pl_core_destroy(pl_core *core)
{
    if (!core) {
        return;
    }
    for (uint32_t i = 0; i < core->peers.n; i++) {
        if (core->peers.s[i].conn) {
            pl_conn_free(core->peers.s[i].conn);
        }
    }
    while (core->out_head) {
        pl_rxmsg *rx = core->out_head;
        core->out_head = rx->next;
        pl_buf_put(&core->bufs, rx->data, rx->len);
        pl_pool_put(&core->rx_pool, rx);
    }
    pl_peers_free(&core->peers);
    pl_sched_free(&core->sched);
    pl_free(core->ack_ids);
    pl_connmap_free(&core->ids);
    pl_connmap_free(&core->remotes);
    pl_pool_trim(&core->msg_pool);
    pl_pool_trim(&core->rx_pool);
    pl_bufpool_trim(&core->bufs);
    pl_free(core->raw);
    pl_free(core->ev);
    pl_free(core->scratch);
    pl_rl_free(&core->rl);
    sodium_memzero(core->cookie_key, sizeof core->cookie_key);
    sodium_memzero(core->psk, sizeof core->psk);
    sodium_memzero(core->id_sk, sizeof core->id_sk);
    pl_free(core);
}

int
pl_core_random(pl_core *core, void *buf, size_t len)
{
    return core->random(core->random_user, buf, len);
}

int
pl_core_new_id(pl_core *core, uint32_t *id)
{
    for (int tries = 0; tries < 64; tries++) {
        uint8_t b[4];
        int rc = pl_core_random(core, b, sizeof b);
        if (rc != PARLEY_OK) {
            return rc;
        }
        uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                     (uint32_t)b[2] << 8 | b[3];
        uint32_t slot;
        if (v != 0 && pl_connmap_get(&core->ids, v, &slot) != PARLEY_OK) {
            *id = v;
            return PARLEY_OK;
        }
    }
    return PARLEY_EFULL;
}

pl_conn *
pl_core_conn(const pl_core *core, parley_peer id)
{
    pl_slot *s = pl_peers_get(&core->peers, id);
    return s ? s->conn : NULL;
}

pl_budget
pl_core_rx_budget(pl_conn *c)
{
    pl_budget b = {&c->rx_mem, c->core->cfg.peer_memory, &c->core->mem,
                   c->core->cfg.host_memory};
    return b;
}

uint64_t
pl_core_unix_time(const pl_core *core, uint64_t now)
{
    if (core->cfg.unix_time) {
        return core->cfg.unix_time(core->cfg.unix_time_user);
    }
    return now / 1000000u;
}

/* Receive memory a peer makes us hold (not what the app holds). */
static size_t
held_by_peer(const pl_conn *c)
{
    return c->rx_mem > c->rx_out_charge ? c->rx_mem - c->rx_out_charge : 0;
}

int
pl_core_shed(pl_core *core, pl_conn *c, uint64_t now)
{
    if (core->nconns < 2) {
        return 0; /* nobody else to make room for */
    }
    pl_conn *worst = NULL;
    for (uint32_t i = 0; i < core->peers.n; i++) {
        pl_conn *x = core->peers.s[i].conn;
        if (x && (!worst || held_by_peer(x) > held_by_peer(worst))) {
            worst = x;
        }
    }
    if (!worst || held_by_peer(worst) <= core->cfg.host_memory / core->nconns) {
        return 0;
    }
    PL_LOG_INFO("core", "host memory full; shedding the largest peer");
    core->st.shed_peers++;
    int self = worst == c;
    (void)now;
    pl_conn_send_disconnect_raw(worst, PL_DISC_KICKED, 0);
    pl_core_close(core, worst, PARLEY_EVENT_DISCONNECT, PARLEY_REASON_OVERLOAD,
                  0, PARLEY_PEER_ERROR);
    return self;
}

int
pl_core_push_event(pl_core *core, const parley_event *ev)
{
    if (core->ev_n == core->ev_cap) {
        size_t ncap = core->ev_cap * 2;
        parley_event *n = pl_calloc(ncap, sizeof *n);
        if (!n) {
            return PARLEY_ENOMEM;
        }
        for (size_t i = 0; i < core->ev_n; i++) {
            n[i] = core->ev[(core->ev_head + i) % core->ev_cap];
        }
        pl_free(core->ev);
        core->ev = n;
        core->ev_cap = ncap;
        core->ev_head = 0;
    }
    core->ev[(core->ev_head + core->ev_n) % core->ev_cap] = *ev;
    core->ev_n++;
    return PARLEY_OK;
}

void
pl_core_push_raw(pl_core *core, const parley_addr *to, const uint8_t *buf,
                 size_t len)
{
    if (core->raw_n == PL_RAW_SLOTS || len > PL_RAW_MAX) {
        return; /* the other side retransmits, or times out */
    }
    pl_raw *r = &core->raw[(core->raw_head + core->raw_n) % PL_RAW_SLOTS];
    r->to = *to;
    r->len = (uint16_t)len;
    memcpy(r->buf, buf, len);
    core->raw_n++;
}

void
pl_core_close(pl_core *core, pl_conn *c, parley_event_type type,
              parley_reason reason, uint32_t app_code, parley_peer_state zstate)
{
    parley_peer id = c->id;
    parley_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.peer = id;
    ev.addr = c->addr;
    ev.reason = reason;
    ev.app_code = app_code;
    pl_connmap_del(&core->ids, c->local_id);
    if (c->remote_key) {
        pl_connmap_del(&core->remotes, c->remote_key);
    }
    pl_conn_free(c);
    core->nconns--;
    pl_slot *s = pl_peers_get(&core->peers, id);
    if (type == PARLEY_EVENT_NONE || pl_core_push_event(core, &ev) != 0) {
        pl_peers_release(&core->peers, id);
        return;
    }
    s->conn = NULL;
    s->state = (uint8_t)zstate;
}

int
pl_core_connect(pl_core *core, uint64_t now_us, const parley_addr *to,
                const void *data, size_t len, parley_peer *out)
{
    if (!core || !to || !out || (len > 0 && !data) || len > PL_HS_USER_MAX ||
        (to->family != PARLEY_AF_INET && to->family != PARLEY_AF_INET6)) {
        return PARLEY_EINVAL;
    }
    core->now = now_us;
    if (core->nconns >= core->cfg.max_peers) {
        return PARLEY_EFULL;
    }
    pl_conn *c;
    int rc = pl_conn_create(core, now_us, to, 1, &c);
    if (rc != PARLEY_OK) {
        return rc;
    }
    if (len > 0) {
        memcpy(c->user, data, len);
    }
    c->user_len = (uint16_t)len;
    rc = pl_handshake_client_init(c);
    if (rc != PARLEY_OK) {
        pl_core_close(core, c, PARLEY_EVENT_NONE, PARLEY_REASON_LOCAL, 0,
                      PARLEY_PEER_DISCONNECTED);
        return rc;
    }
    c->state = PARLEY_PEER_CONNECTING;
    c->hs_deadline = now_us + (uint64_t)core->cfg.connect_timeout_ms * 1000;
    c->hs_next = now_us;
    c->hs_interval = PL_HS_RETRY_US;
    pl_conn_update_due(c, now_us);
    *out = c->id;
    return PARLEY_OK;
}

int
pl_core_reserve_conn(pl_core *core)
{
    if (core->ack_cap > core->nconns) {
        return PARLEY_OK;
    }
    uint32_t ncap = core->ack_cap ? core->ack_cap * 2 : 16;
    if (ncap < core->ack_cap) {
        return PARLEY_ENOMEM;
    }
    parley_peer *n = pl_realloc(core->ack_ids, (size_t)ncap * sizeof *n);
    if (!n) {
        return PARLEY_ENOMEM;
    }
    core->ack_ids = n;
    core->ack_cap = ncap;
    return PARLEY_OK;
}

/* Remembers that c may owe a delayed ACK. */
static void
note_ack(pl_core *core, pl_conn *c)
{
    if (!c->ack_listed && pl_ackq_deadline(&c->ackq) != UINT64_MAX &&
        core->ack_n < core->ack_cap) {
        core->ack_ids[core->ack_n++] = c->id;
        c->ack_listed = 1;
    }
}

int
pl_core_flush_acks(pl_core *core, uint64_t now_us)
{
    if (!core) {
        return 0;
    }
    int any = 0;
    for (uint32_t i = 0; i < core->ack_n; i++) {
        pl_conn *c = pl_core_conn(core, core->ack_ids[i]);
        if (!c) {
            continue;
        }
        c->ack_listed = 0;
        if (pl_ackq_hurry(&c->ackq)) {
            pl_conn_update_due(c, now_us);
            any = 1;
        }
    }
    core->ack_n = 0;
    return any;
}

/* A DATA packet: find the connection by our id and check the source. */
static void
on_data(pl_core *core, uint64_t now, const parley_addr *from,
        const uint8_t *data, size_t len)
{
    uint32_t id, pn, slot;
    if (pl_data_hdr_decode(data, len, &id, &pn) != PARLEY_OK) {
        core->st.dropped_malformed++;
        return;
    }
    if (pl_connmap_get(&core->ids, id, &slot) != PARLEY_OK ||
        slot >= core->peers.n || !core->peers.s[slot].conn) {
        core->st.dropped_unknown++;
        return;
    }
    pl_conn *c = core->peers.s[slot].conn;
    if (!parley_addr_equal(&c->addr, from) ||
        (c->state != PARLEY_PEER_CONNECTED &&
         c->state != PARLEY_PEER_DISCONNECTING)) {
        core->st.dropped_unknown++;
        return;
    }
    if (c->enc) {
        /* Open before anything counts: a packet that fails is not
           received at all (its number is not marked seen). */
        uint64_t largest = c->ackq.n ? pl_ackq_largest(&c->ackq) : UINT64_MAX;
        size_t n =
            len <= pl_core_max_datagram(&core->cfg)
                ? pl_crypto_open(c->key_rx, pl_pn_expand(largest, pn), data,
                                 PL_DATA_HDR_LEN, len, core->scratch)
                : 0;
        if (n <= PL_DATA_HDR_LEN) {
            core->st.dropped_auth++;
            c->st.auth_failures++;
            return;
        }
        data = core->scratch;
        len = n;
    }
    parley_peer pid = c->id;
    pl_conn_on_data(c, now, pn, data, len);
    c = pl_core_conn(core, pid);
    if (c) {
        pl_conn_update_due(c, now);
        note_ack(core, c);
    }
}

void
pl_core_on_send_error(pl_core *core, uint64_t now_us, const parley_addr *to,
                      size_t len, int err)
{
    if (!core || !to || err != PARLEY_EMSGSIZE) {
        return;
    }
    core->now = now_us;
    for (uint32_t i = 0; i < core->peers.n; i++) {
        pl_conn *c = core->peers.s[i].conn;
        if (c && parley_addr_equal(&c->addr, to) &&
            pl_conn_pmtu_refused(c, len, now_us)) {
            pl_conn_update_due(c, now_us);
            return;
        }
    }
}

void
pl_core_on_datagram(pl_core *core, uint64_t now_us, const parley_addr *from,
                    const uint8_t *data, size_t len)
{
    if (!core || !from || (!data && len > 0)) {
        return;
    }
    core->now = now_us;
    core->st.datagrams_in++;
    switch (pl_pkt_type(data, len)) {
    case PL_PKT_DATA:
        on_data(core, now_us, from, data, len);
        break;
    case PL_PKT_CONNECT:
        pl_handshake_on_connect(core, now_us, from, data, len);
        break;
    case PL_PKT_CHALLENGE:
        pl_handshake_on_challenge(core, now_us, from, data, len);
        break;
    case PL_PKT_RESPONSE:
        pl_handshake_on_response(core, now_us, from, data, len);
        break;
    case PL_PKT_ACCEPT:
        pl_handshake_on_accept(core, now_us, from, data, len);
        break;
    case PL_PKT_REJECT:
        pl_handshake_on_reject(core, now_us, from, data, len);
        break;
    default:
        core->st.dropped_malformed++;
        break;
    }
}

/* Takes the oldest connectionless datagram. */
static int
pop_raw(pl_core *core, uint8_t *buf, size_t cap, size_t *len, parley_addr *to)
{
    while (core->raw_n > 0) {
        pl_raw *r = &core->raw[core->raw_head];
        core->raw_head = (core->raw_head + 1) % PL_RAW_SLOTS;
        core->raw_n--;
        if (cap < r->len) {
            continue; /* cannot happen with cap >= 1200; never spin */
        }
        memcpy(buf, r->buf, r->len);
        *len = r->len;
        *to = r->to;
        core->st.datagrams_out++;
        return PARLEY_OK;
    }
    return PARLEY_EAGAIN;
}

/*
 * Visits the connections that are due, earliest first: runs their timers
 * and lets them build a datagram. A visited connection goes behind every
 * other one due as early (round robin), and each is visited about once
 * per call, so a connection with nothing to send cannot spin here.
 */
int
pl_core_next_datagram(pl_core *core, uint64_t now_us, uint8_t *buf, size_t cap,
                      size_t *len, parley_addr *to)
{
    if (!core || !buf || !len || !to) {
        return PARLEY_EINVAL;
    }
    core->now = now_us;
    for (uint32_t visits = core->sched.n; visits > 0; visits--) {
        if (core->raw_n > 0) {
            break;
        }
        pl_conn *c = pl_sched_top(&core->sched);
        if (!c || c->next_due > now_us) {
            break;
        }
        if (!pl_conn_tick(c, now_us)) {
            continue; /* closed and out of the heap */
        }
        int got = pl_conn_build(c, now_us, buf, cap, len);
        pl_conn_update_due(c, now_us);
        pl_sched_requeue(&core->sched, c);
        if (got) {
            *to = c->addr;
            core->st.datagrams_out++;
            return PARLEY_OK;
        }
    }
    return pop_raw(core, buf, cap, len, to);
}

uint64_t
pl_core_next_wakeup(const pl_core *core)
{
    if (!core) {
        return UINT64_MAX;
    }
    if (core->raw_n > 0) {
        return core->now;
    }
    const pl_conn *c = pl_sched_top(&core->sched);
    return c ? c->next_due : UINT64_MAX;
}

size_t
pl_core_event_count(const pl_core *core)
{
    return core ? core->ev_n : 0;
}

int
pl_core_poll_event(pl_core *core, parley_event *ev)
{
    if (!core || !ev) {
        return PARLEY_EINVAL;
    }
    if (core->ev_n == 0) {
        return PARLEY_EAGAIN;
    }
    *ev = core->ev[core->ev_head];
    core->ev_head = (core->ev_head + 1) % core->ev_cap;
    core->ev_n--;
    if (ev->type == PARLEY_EVENT_DISCONNECT ||
        ev->type == PARLEY_EVENT_CONNECT_FAILED) {
        pl_slot *s = pl_peers_get(&core->peers, ev->peer);
        if (s && !s->conn) {
            pl_peers_release(&core->peers, ev->peer);
        }
    }
    return PARLEY_OK;
}

void
pl_core_release_event(pl_core *core, parley_event *ev)
{
    if (!core || !ev || ev->type != PARLEY_EVENT_RECEIVE || !ev->internal_) {
        return;
    }
    pl_rxmsg *rx = ev->internal_;
    parley_peer owner = rx->owner;
    ev->internal_ = NULL;
    ev->data = NULL;
    /* Releasing changes when the connection is due only when it makes a
       WINDOW update due (pl_conn_update_window); a recompute for every
       message released was a tenth of the receive cost. */
    pl_conn *c = pl_core_conn(core, owner);
    int was_dirty = c ? c->window_dirty : 1;
    pl_chan_release(core, rx);
    if (c && c->window_dirty && !was_dirty) {
        pl_conn_update_due(c, core->now);
    }
}

int
pl_core_send(pl_core *core, uint64_t now_us, parley_peer peer, uint8_t channel,
             const void *data, size_t len, uint32_t flags,
             parley_release_fn release, void *user)
{
    if (!core || (!data && len > 0)) {
        return PARLEY_EINVAL;
    }
    core->now = now_us;
    pl_conn *c = pl_core_conn(core, peer);
    if (!c || c->state != PARLEY_PEER_CONNECTED) {
        return PARLEY_ENOTCONN;
    }
    /* A connection that already had data waiting is due exactly when it
       was: more data changes neither its window nor its pacer. So only a
       send that gives it its first data recomputes when it is due (the
       recomputation was a tenth of the cost of a small send). */
    int had = pl_conn_has_data(c);
    int rc = pl_conn_send(c, now_us, channel, data, len, flags, release, user);
    if (rc == PARLEY_OK && !had) {
        pl_conn_update_due(c, now_us);
    }
    return rc;
}

int
pl_core_disconnect(pl_core *core, uint64_t now_us, parley_peer peer,
                   uint32_t app_code, int now)
{
    if (!core) {
        return PARLEY_EINVAL;
    }
    core->now = now_us;
    pl_conn *c = pl_core_conn(core, peer);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    if (now) {
        if (c->state == PARLEY_PEER_CONNECTED ||
            c->state == PARLEY_PEER_DISCONNECTING) {
            pl_conn_send_disconnect_raw(
                c, c->is_client ? PL_DISC_GRACEFUL : PL_DISC_KICKED, app_code);
        }
        pl_core_close(core, c, PARLEY_EVENT_NONE, PARLEY_REASON_LOCAL, 0,
                      PARLEY_PEER_DISCONNECTED);
        return PARLEY_OK;
    }
    if (c->state == PARLEY_PEER_CONNECTING) {
        pl_core_close(core, c, PARLEY_EVENT_CONNECT_FAILED, PARLEY_REASON_LOCAL,
                      0, PARLEY_PEER_DISCONNECTED);
        return PARLEY_OK;
    }
    if (c->state != PARLEY_PEER_CONNECTED) {
        return PARLEY_OK; /* already closing */
    }
    c->state = PARLEY_PEER_DISCONNECTING;
    c->disc_phase = PL_DISC_FLUSH;
    c->disc_reason = PL_DISC_GRACEFUL;
    c->disc_code = app_code;
    c->disc_deadline =
        now_us + (uint64_t)core->cfg.disconnect_timeout_ms * 1000;
    pl_conn_update_due(c, now_us);
    return PARLEY_OK;
}

void
pl_core_disconnect_all(pl_core *core, uint64_t now_us)
{
    if (!core) {
        return;
    }
    for (uint32_t i = 0; i < core->peers.n; i++) {
        pl_conn *c = core->peers.s[i].conn;
        if (c) {
            pl_core_disconnect(core, now_us, c->id, 0, 1);
        }
    }
}

int
pl_core_peer_stats(const pl_core *core, parley_peer peer,
                   parley_peer_stats *out)
{
    if (!core || !out) {
        return PARLEY_EINVAL;
    }
    pl_conn *c = pl_core_conn(core, peer);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    pl_conn_stats(c, out);
    return PARLEY_OK;
}

parley_peer_state
pl_core_peer_state(const pl_core *core, parley_peer peer)
{
    if (!core) {
        return PARLEY_PEER_DISCONNECTED;
    }
    pl_slot *s = pl_peers_get(&core->peers, peer);
    if (!s) {
        return PARLEY_PEER_DISCONNECTED;
    }
    return s->conn ? s->conn->state : (parley_peer_state)s->state;
}

void
pl_core_get_stats(const pl_core *core, pl_core_stats *out)
{
    if (!core || !out) {
        return;
    }
    *out = core->st;
    out->peers = core->peers.used;
    out->memory = core->mem;
}

int
pl_core_peer_ids(const pl_core *core, parley_peer peer, uint32_t *local_id,
                 uint32_t *remote_id, uint64_t *next_pn)
{
    pl_conn *c = core ? pl_core_conn(core, peer) : NULL;
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    if (local_id) {
        *local_id = c->local_id;
    }
    if (remote_id) {
        *remote_id = c->remote_id;
    }
    if (next_pn) {
        *next_pn = pl_sent_next_pn(&c->sent);
    }
    return PARLEY_OK;
}

void
pl_core_trim(pl_core *core)
{
    if (!core) {
        return;
    }
    pl_pool_trim(&core->msg_pool);
    pl_pool_trim(&core->rx_pool);
    pl_bufpool_trim(&core->bufs);
}
