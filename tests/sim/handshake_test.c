/* Virtual-time tests of the handshake and connection lifetime. */
#include "pt.h"

#include "parley/parley.h"
#include "simnet.h"
#include "util/alloc.h"
#include "wire/packet.h"

typedef struct log_ {
    int connects[2], fails[2], discs[2], recvs[2];
    parley_reason fail_reason[2], disc_reason[2];
    uint32_t fail_code[2], disc_code[2];
    uint64_t fail_time[2], disc_time[2];
    parley_peer peer[2];
    uint64_t next_seq[2];
    int bad[2];
} log_;

static void
log_event(sn_net *n, int side, parley_event *ev, void *user)
{
    log_ *l = user;
    switch (ev->type) {
    case PARLEY_EVENT_CONNECT:
        l->connects[side]++;
        l->peer[side] = ev->peer;
        break;
    case PARLEY_EVENT_CONNECT_FAILED:
        l->fails[side]++;
        l->fail_reason[side] = ev->reason;
        l->fail_code[side] = ev->app_code;
        l->fail_time[side] = n->now;
        break;
    case PARLEY_EVENT_DISCONNECT:
        l->discs[side]++;
        l->disc_reason[side] = ev->reason;
        l->disc_code[side] = ev->app_code;
        l->disc_time[side] = n->now;
        break;
    case PARLEY_EVENT_RECEIVE: {
        uint64_t v = 0;
        if (ev->len == 8) {
            memcpy(&v, ev->data, 8);
        }
        if (ev->len != 8 || v != l->next_seq[side]) {
            l->bad[side]++;
        }
        l->next_seq[side]++;
        l->recvs[side]++;
        break;
    }
    default:
        break;
    }
}

static int
both_connected(sn_net *n, void *arg)
{
    (void)n;
    log_ *l = arg;
    return l->connects[0] && l->connects[1];
}

PT_TEST(accepts_and_exchanges)
{
    uint64_t seed = 11;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config link;
    sn_link(&link, 20);
    sn_net n;
    log_ l;
    memset(&l, 0, sizeof l);
    PT_OK(sn_init(&n, seed, &cfg, &cfg, &link, &link));
    n.on_event = log_event;
    n.user = &l;
    parley_peer p;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, "hi", 2, &p));
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p), PARLEY_PEER_CONNECTING);
    PT_TRUE(sn_run(&n, n.now + 2 * SN_SEC, both_connected, &l));
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p), PARLEY_PEER_CONNECTED);
    PT_EQ_U64(l.peer[0], p);
    for (uint64_t i = 0; i < 100; i++) {
        PT_OK(pl_core_send(n.s[0].core, n.now, p, 0, &i, 8, 0, NULL, NULL));
        PT_OK(pl_core_send(n.s[1].core, n.now, l.peer[1], 0, &i, 8, 0, NULL,
                           NULL));
    }
    sn_run_for(&n, 2 * SN_SEC);
    PT_EQ_INT(l.recvs[0], 100);
    PT_EQ_INT(l.recvs[1], 100);
    PT_EQ_INT(l.bad[0] + l.bad[1], 0);
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(n.s[0].core, p, &st));
    PT_GE_U64(st.srtt_us, 39000);
    PT_LE_U64(st.srtt_us, 80000);
    PT_EQ_U64(st.messages_out, 100);
    PT_EQ_U64(st.messages_in, 100);
    PT_EQ_U64(st.unacked_bytes, 0);
    sn_free(&n);
}

/* Sets up two cores with configs (link: 20 ms both ways, or lossy). */
static void
start(sn_net *n, log_ *l, uint64_t seed, const parley_host_config *ca,
      const parley_host_config *cb, const parley_sim_config *link)
{
    parley_sim_config def;
    sn_link(&def, 20);
    memset(l, 0, sizeof *l);
    PT_OK(sn_init(n, seed, ca, cb, link ? link : &def, link ? link : &def));
    n->on_event = log_event;
    n->user = l;
}

static int
refuse_no(void *user, const parley_addr *from, const void *data, size_t len,
          uint32_t *app_code)
{
    (void)from;
    int *calls = user;
    (*calls)++;
    if (len == 2 && memcmp(data, "no", 2) == 0) {
        *app_code = 42;
        return 0;
    }
    return 1;
}

static int
a_failed(sn_net *n, void *arg)
{
    (void)n;
    return ((log_ *)arg)->fails[0] > 0;
}

PT_TEST(rejected_by_callback)
{
    uint64_t seed = 12;
    pt_seed(seed);
    int calls = 0;
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    ca.accept_incoming = 0;
    cb.accept_cb = refuse_no;
    cb.accept_user = &calls;
    sn_net n;
    log_ l;
    start(&n, &l, seed, &ca, &cb, NULL);
    parley_peer p;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, "no", 2, &p));
    PT_TRUE(sn_run(&n, n.now + 2 * SN_SEC, a_failed, &l));
    PT_EQ_INT(l.fail_reason[0], PARLEY_REASON_REJECTED);
    PT_EQ_INT(l.fail_code[0], 42);
    PT_EQ_INT(l.connects[1], 0);
    PT_EQ_INT(calls, 1);
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.peers, 0);
    PT_EQ_U64(st.memory, 0);
    /* The id is dead now. */
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p), PARLEY_PEER_DISCONNECTED);
    PT_ERR(pl_core_send(n.s[0].core, n.now, p, 0, "x", 1, 0, NULL, NULL),
           PARLEY_ENOTCONN);
    /* "yes" gets in. */
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, "yes", 3, &p));
    PT_TRUE(sn_run(&n, n.now + 2 * SN_SEC, both_connected, &l));
    PT_EQ_INT(calls, 2);
    sn_free(&n);
}

PT_TEST(max_peers_full)
{
    uint64_t seed = 13;
    pt_seed(seed);
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    cb.max_peers = 1;
    sn_net n;
    log_ l;
    start(&n, &l, seed, &ca, &cb, NULL);
    parley_peer p1, p2;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &p1));
    PT_TRUE(sn_run(&n, n.now + 2 * SN_SEC, both_connected, &l));
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &p2));
    PT_TRUE(sn_run(&n, n.now + 2 * SN_SEC, a_failed, &l));
    PT_EQ_INT(l.fail_reason[0], PARLEY_REASON_FULL);
    PT_EQ_INT(l.connects[1], 1);
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p1), PARLEY_PEER_CONNECTED);
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.peers, 1);
    /* The client's own limit gives EFULL at once. */
    ca.max_peers = 1;
    pl_core *c1;
    pl_rng rng;
    pl_rng_seed(&rng, seed);
    PT_OK(pl_core_create(&ca, sn_random, &rng, n.now, &c1));
    PT_OK(pl_core_connect(c1, n.now, &n.s[1].addr, NULL, 0, &p1));
    PT_ERR(pl_core_connect(c1, n.now, &n.s[1].addr, NULL, 0, &p2),
           PARLEY_EFULL);
    pl_core_destroy(c1);
    sn_free(&n);
}

/* Takes the next datagram a core wants to send (asserting there is one). */
static size_t
take(pl_core *core, uint64_t now, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    parley_addr to;
    int rc = pl_core_next_datagram(core, now, buf, cap, &len, &to);
    return rc == PARLEY_OK ? len : 0;
}

PT_TEST(version_mismatch)
{
    uint64_t seed = 14;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    log_ l;
    start(&n, &l, seed, &cfg, &cfg, NULL);
    pl_core *a = n.s[0].core, *b = n.s[1].core;
    parley_peer p;
    PT_OK(pl_core_connect(a, n.now, &n.s[1].addr, NULL, 0, &p));
    uint8_t buf[2048], out[2048];
    size_t len = take(a, n.now, buf, sizeof buf);
    PT_EQ_INT(len, PL_HANDSHAKE_MIN_SIZE);
    pl_hs_connect h;
    PT_OK(pl_hs_connect_decode(buf, len, &h));
    PT_EQ_INT(h.version, PL_PROTO_VERSION);
    /* The same CONNECT from a future version. */
    h.version = PL_PROTO_VERSION + 1;
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&w, &h));
    pl_core_on_datagram(b, n.now, &n.s[0].addr, buf, w.off);
    size_t rlen = take(b, n.now, out, sizeof out);
    PT_GT_INT(rlen, 0);
    PT_LT_INT(rlen, w.off); /* never larger than the request */
    pl_hs_reject r;
    PT_OK(pl_hs_reject_decode(out, rlen, &r));
    PT_EQ_INT(r.reason, PL_REJECT_VERSION);
    PT_EQ_U64(r.client_id, h.client_id);
    pl_core_stats st;
    pl_core_get_stats(b, &st);
    PT_EQ_U64(st.peers, 0);
    /* The client takes the REJECT as a version failure. */
    pl_core_on_datagram(a, n.now, &n.s[1].addr, out, rlen);
    parley_event ev;
    PT_OK(pl_core_poll_event(a, &ev));
    PT_EQ_INT(ev.type, PARLEY_EVENT_CONNECT_FAILED);
    PT_EQ_INT(ev.reason, PARLEY_REASON_VERSION);
    PT_EQ_U64(ev.peer, p);
    PT_EQ_INT(pl_core_peer_state(a, p), PARLEY_PEER_DISCONNECTED);
    sn_free(&n);
}

PT_TEST(duplicate_response_resends_accept)
{
    uint64_t seed = 15;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    log_ l;
    start(&n, &l, seed, &cfg, &cfg, NULL);
    pl_core *a = n.s[0].core, *b = n.s[1].core;
    parley_peer p;
    PT_OK(pl_core_connect(a, n.now, &n.s[1].addr, NULL, 0, &p));
    uint8_t buf[2048], resp[2048];
    size_t len = take(a, n.now, buf, sizeof buf);
    pl_core_on_datagram(b, n.now, &n.s[0].addr, buf, len);
    len = take(b, n.now, buf, sizeof buf);
    PT_EQ_INT(pl_pkt_type(buf, len), PL_PKT_CHALLENGE);
    pl_core_on_datagram(a, n.now, &n.s[1].addr, buf, len);
    size_t rlen = take(a, n.now, resp, sizeof resp);
    PT_EQ_INT(pl_pkt_type(resp, rlen), PL_PKT_RESPONSE);
    for (int i = 0; i < 5; i++) {
        pl_core_on_datagram(b, n.now + (uint64_t)i, &n.s[0].addr, resp, rlen);
        len = take(b, n.now + (uint64_t)i, buf, sizeof buf);
        PT_EQ_INT(pl_pkt_type(buf, len), PL_PKT_ACCEPT);
        pl_core_stats st;
        pl_core_get_stats(b, &st);
        PT_EQ_U64(st.peers, 1);
    }
    parley_event ev;
    PT_OK(pl_core_poll_event(b, &ev));
    PT_EQ_INT(ev.type, PARLEY_EVENT_CONNECT);
    PT_ERR(pl_core_poll_event(b, &ev), PARLEY_EAGAIN);
    /* A RESPONSE with a forged cookie is dropped and counted. */
    size_t cookie_at = 0;
    {
        pl_hs_connect h;
        uint8_t cookie[PL_COOKIE_LEN];
        PT_OK(pl_hs_response_decode(resp, rlen, &h, cookie));
        for (size_t i = 0; i + PL_COOKIE_LEN <= rlen; i++) {
            if (memcmp(resp + i, cookie, PL_COOKIE_LEN) == 0) {
                cookie_at = i;
                break;
            }
        }
    }
    PT_GT_INT(cookie_at, 0);
    resp[cookie_at + 20] ^= 1;
    pl_core_on_datagram(b, n.now, &n.s[0].addr, resp, rlen);
    pl_core_stats st;
    pl_core_get_stats(b, &st);
    PT_EQ_U64(st.dropped_cookie, 1);
    PT_EQ_U64(st.peers, 1);
    sn_free(&n);
}

PT_TEST(cookies_expire)
{
    uint64_t seed = 21;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    cfg.connect_timeout_ms = 60000;
    sn_net n;
    log_ l;
    start(&n, &l, seed, &cfg, &cfg, NULL);
    pl_core *a = n.s[0].core, *b = n.s[1].core;
    parley_peer p;
    PT_OK(pl_core_connect(a, n.now, &n.s[1].addr, NULL, 0, &p));
    uint8_t buf[2048], resp[2048];
    size_t len = take(a, n.now, buf, sizeof buf);
    pl_core_on_datagram(b, n.now, &n.s[0].addr, buf, len);
    len = take(b, n.now, buf, sizeof buf);
    pl_core_on_datagram(a, n.now, &n.s[1].addr, buf, len);
    size_t rlen = take(a, n.now, resp, sizeof resp);
    PT_EQ_INT(pl_pkt_type(resp, rlen), PL_PKT_RESPONSE);
    /* The client keeps retrying RESPONSE, then goes back to CONNECT once
       its cookie may have expired. */
    uint64_t t = n.now;
    int saw_connect = 0;
    while (t < n.now + 12 * SN_SEC && !saw_connect) {
        t = pl_core_next_wakeup(a);
        len = take(a, t, buf, sizeof buf);
        if (len && pl_pkt_type(buf, len) == PL_PKT_CONNECT) {
            saw_connect = 1;
        }
    }
    PT_TRUE(saw_connect);
    PT_GE_U64(t - n.now, 8 * SN_SEC);
    PT_LE_U64(t - n.now, 11 * SN_SEC);
    /* The server refuses the old RESPONSE after 10 s. */
    pl_core_on_datagram(b, n.now + 11 * SN_SEC, &n.s[0].addr, resp, rlen);
    pl_core_stats st;
    pl_core_get_stats(b, &st);
    PT_EQ_U64(st.dropped_cookie, 1);
    PT_EQ_U64(st.peers, 0);
    /* Within its lifetime it is fine. */
    pl_core_on_datagram(b, n.now + 9 * SN_SEC, &n.s[0].addr, resp, rlen);
    pl_core_get_stats(b, &st);
    PT_EQ_U64(st.peers, 1);
    sn_free(&n);
}

PT_TEST(connect_timeout)
{
    uint64_t seed = 16;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    log_ l;
    start(&n, &l, seed, &cfg, &cfg, NULL);
    n.s[0].up = 0; /* nothing the client sends arrives */
    uint64_t t0 = n.now;
    parley_peer p;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &p));
    PT_TRUE(sn_run(&n, n.now + 20 * SN_SEC, a_failed, &l));
    PT_EQ_INT(l.fail_reason[0], PARLEY_REASON_CONNECT_TIMEOUT);
    uint64_t took = l.fail_time[0] - t0;
    PT_GE_U64(took, 4500 * SN_MS);
    PT_LE_U64(took, 5500 * SN_MS);
    PT_EQ_INT(l.connects[1], 0);
    sn_free(&n);
}

static int
both_gone(sn_net *n, void *arg)
{
    (void)n;
    log_ *l = arg;
    return l->discs[0] && l->discs[1];
}

PT_TEST(idle_timeout_both_sides)
{
    uint64_t seed = 17;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    log_ l;
    start(&n, &l, seed, &cfg, &cfg, NULL);
    parley_peer p;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &p));
    PT_TRUE(sn_run(&n, n.now + 2 * SN_SEC, both_connected, &l));
    sn_run_for(&n, SN_SEC);
    n.s[0].up = 0;
    n.s[1].up = 0;
    uint64_t cut = n.now;
    PT_TRUE(sn_run(&n, n.now + 30 * SN_SEC, both_gone, &l));
    for (int i = 0; i < 2; i++) {
        PT_EQ_INT(l.disc_reason[i], PARLEY_REASON_TIMEOUT);
        PT_GE_U64(l.disc_time[i] - cut, 4500 * SN_MS);
        PT_LE_U64(l.disc_time[i] - cut, 5500 * SN_MS);
    }
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p), PARLEY_PEER_DISCONNECTED);
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.peers, 0);
    PT_EQ_U64(st.memory, 0);
    sn_free(&n);
}

PT_TEST(keepalive_holds_idle_link)
{
    uint64_t seed = 18;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config link;
    sn_link(&link, 30);
    link.loss_pct = 10;
    sn_net n;
    log_ l;
    start(&n, &l, seed, &cfg, &cfg, &link);
    parley_peer p;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &p));
    PT_TRUE(sn_run(&n, n.now + 5 * SN_SEC, both_connected, &l));
    sn_run_for(&n, 30 * SN_SEC);
    PT_EQ_INT(l.discs[0] + l.discs[1], 0);
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p), PARLEY_PEER_CONNECTED);
    PT_EQ_INT(pl_core_peer_state(n.s[1].core, l.peer[1]),
              PARLEY_PEER_CONNECTED);
    parley_peer_stats a, b;
    PT_OK(pl_core_peer_stats(n.s[0].core, p, &a));
    PT_OK(pl_core_peer_stats(n.s[1].core, l.peer[1], &b));
    /* About one ping per 250 ms of idleness for the link, not per side:
       a side that has just heard the other's PING does not ping back
       (both pinging would be >= 240 in 30 s). */
    PT_GE_U64(a.keepalives + b.keepalives, 100);
    PT_LE_U64(a.keepalives + b.keepalives, 170);
    PT_GE_U64(a.keepalives, 20);
    PT_GE_U64(b.keepalives, 20);
    sn_free(&n);
}

/* A client that sends a message every 100 ms keeps the server hearing
   from it: the server never pings it, and the client, hearing ACKs, never
   pings either. Every message arrives. */
PT_TEST(steady_sender_costs_no_pings)
{
    uint64_t seed = 19;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config link;
    sn_link(&link, 20);
    sn_net n;
    PT_OK(sn_init(&n, seed, &cfg, &cfg, &link, &link));
    parley_peer a, b;
    PT_TRUE(sn_connect(&n, &a, &b));
    uint8_t msg[64] = {7};
    for (int i = 0; i < 100; i++) {
        PT_OK(pl_core_send(n.s[0].core, n.now, a, 0, msg, sizeof msg, 0, NULL,
                           NULL));
        sn_run_for(&n, 100 * 1000);
    }
    sn_run_for(&n, 100 * 1000); /* the server pings 250 ms after the last */
    parley_peer_stats sa, sb;
    PT_OK(pl_core_peer_stats(n.s[0].core, a, &sa));
    PT_OK(pl_core_peer_stats(n.s[1].core, b, &sb));
    PT_EQ_U64(sb.keepalives, 0);
    PT_EQ_U64(sa.keepalives, 0);
    PT_EQ_U64(sb.messages_in, 100);
    sn_free(&n);
}

/* pl_core_flush_acks makes a delayed ACK go out at once (the driver
   calls it before sleeping), and owes nothing when nothing is owed. */
PT_TEST(flush_acks_sends_the_owed_ack_now)
{
    uint64_t seed = 20;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config link;
    sn_link(&link, 0);
    sn_net n;
    PT_OK(sn_init(&n, seed, &cfg, &cfg, &link, &link));
    parley_peer a, b;
    PT_TRUE(sn_connect(&n, &a, &b));
    sn_run_for(&n, 200 * 1000); /* settle: nothing owed either way */
    pl_core *ca = n.s[0].core, *cb = n.s[1].core;
    PT_EQ_INT(pl_core_flush_acks(cb, n.now), 0);
    uint8_t msg[40] = {1, 2, 3};
    PT_OK(pl_core_send(ca, n.now, a, 0, msg, sizeof msg, 0, NULL, NULL));
    uint8_t buf[2048];
    size_t len;
    parley_addr to;
    PT_OK(pl_core_next_datagram(ca, n.now, buf, sizeof buf, &len, &to));
    pl_core_on_datagram(cb, n.now, &n.s[0].addr, buf, len);
    /* One ack-eliciting packet: the ACK waits for its delay. */
    PT_ERR(pl_core_next_datagram(cb, n.now, buf, sizeof buf, &len, &to),
           PARLEY_EAGAIN);
    PT_GT_U64(pl_core_next_wakeup(cb), n.now);
    PT_EQ_INT(pl_core_flush_acks(cb, n.now), 1);
    PT_OK(pl_core_next_datagram(cb, n.now, buf, sizeof buf, &len, &to));
    PT_TRUE(parley_addr_equal(&to, &n.s[0].addr));
    pl_core_on_datagram(ca, n.now, &n.s[1].addr, buf, len);
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(ca, a, &st));
    PT_EQ_U64(st.unacked_messages, 0);
    /* Sent: nothing owed any more. */
    PT_EQ_INT(pl_core_flush_acks(cb, n.now), 0);
    PT_ERR(pl_core_next_datagram(cb, n.now, buf, sizeof buf, &len, &to),
           PARLEY_EAGAIN);
    sn_free(&n);
}

typedef struct flush_ {
    log_ l;
    uint64_t total;
    int recv_after_disc;
} flush_;

static void
flush_event(sn_net *n, int side, parley_event *ev, void *user)
{
    flush_ *f = user;
    if (side == 1 && ev->type == PARLEY_EVENT_RECEIVE && f->l.discs[1]) {
        f->recv_after_disc++;
    }
    log_event(n, side, ev, &f->l);
}

static int
flush_done(sn_net *n, void *arg)
{
    (void)n;
    flush_ *f = arg;
    return f->l.discs[0] && f->l.discs[1];
}

PT_TEST(graceful_disconnect_flushes)
{
    uint64_t seed = 19;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    cfg.disconnect_timeout_ms = 120000;
    parley_sim_config link;
    parley_sim_config_init(&link);
    link.latency_ms = 40;
    link.loss_pct = 20;
    link.dup_pct = 5;
    sn_net n;
    flush_ f;
    memset(&f, 0, sizeof f);
    PT_OK(sn_init(&n, seed, &cfg, &cfg, &link, &link));
    n.on_event = flush_event;
    n.user = &f;
    parley_peer p;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &p));
    PT_TRUE(sn_run(&n, n.now + 10 * SN_SEC, both_connected, &f.l));
    f.total = 1000;
    for (uint64_t i = 0; i < f.total; i++) {
        PT_OK(pl_core_send(n.s[0].core, n.now, p, 0, &i, 8, 0, NULL, NULL));
    }
    PT_OK(pl_core_disconnect(n.s[0].core, n.now, p, 7, 0));
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p), PARLEY_PEER_DISCONNECTING);
    PT_ERR(pl_core_send(n.s[0].core, n.now, p, 0, "x", 1, 0, NULL, NULL),
           PARLEY_ENOTCONN);
    PT_TRUE(sn_run(&n, n.now + 200 * SN_SEC, flush_done, &f));
    PT_EQ_INT(f.l.recvs[1], (int)f.total);
    PT_EQ_INT(f.l.bad[1], 0);
    PT_EQ_INT(f.recv_after_disc, 0);
    PT_EQ_INT(f.l.disc_reason[1], PARLEY_REASON_GRACEFUL);
    PT_EQ_INT(f.l.disc_code[1], 7);
    PT_EQ_INT(f.l.disc_reason[0], PARLEY_REASON_LOCAL);
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, p), PARLEY_PEER_DISCONNECTED);
    sn_free(&n);
}

PT_TEST(disconnect_now_is_immediate)
{
    uint64_t seed = 20;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    log_ l;
    start(&n, &l, seed, &cfg, &cfg, NULL);
    parley_peer p;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &p));
    PT_TRUE(sn_run(&n, n.now + 2 * SN_SEC, both_connected, &l));
    /* The server kicks the client with a code. */
    PT_OK(pl_core_disconnect(n.s[1].core, n.now, l.peer[1], 99, 1));
    PT_EQ_INT(pl_core_peer_state(n.s[1].core, l.peer[1]),
              PARLEY_PEER_DISCONNECTED);
    PT_ERR(pl_core_disconnect(n.s[1].core, n.now, l.peer[1], 0, 1),
           PARLEY_ENOTCONN);
    sn_run_for(&n, SN_SEC);
    PT_EQ_INT(l.discs[1], 0); /* no event on the side that kicked */
    PT_EQ_INT(l.discs[0], 1);
    PT_EQ_INT(l.disc_reason[0], PARLEY_REASON_KICKED);
    PT_EQ_INT(l.disc_code[0], 99);
    sn_free(&n);
}

PT_MAIN(PT_RUN(accepts_and_exchanges) PT_RUN(rejected_by_callback)
            PT_RUN(max_peers_full) PT_RUN(version_mismatch)
                PT_RUN(duplicate_response_resends_accept) PT_RUN(cookies_expire)
                    PT_RUN(connect_timeout) PT_RUN(idle_timeout_both_sides)
                        PT_RUN(keepalive_holds_idle_link)
                            PT_RUN(steady_sender_costs_no_pings)
                                PT_RUN(flush_acks_sends_the_owed_ack_now)
                                    PT_RUN(graceful_disconnect_flushes)
                                        PT_RUN(disconnect_now_is_immediate))
