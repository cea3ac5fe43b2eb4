/* Tests for the engine's API contract: argument checks, errors, ids,
   ownership of sent buffers and of received events. */
#include "pt.h"

#include "parley/parley.h"
#include "sim/simnet.h"
#include "util/alloc.h"

typedef struct got_ {
    int receives;
    parley_event last;
    parley_peer b_peer;
} got_;

static void
on_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    got_ *g = user;
    if (side == 1 && ev->type == PARLEY_EVENT_RECEIVE) {
        g->receives++;
        g->last = *ev;
    }
}

static void
pair(sn_net *n, parley_peer *a, parley_peer *b, const parley_host_config *ca,
     const parley_host_config *cb)
{
    parley_sim_config link;
    sn_link(&link, 5);
    PT_OK(sn_init(n, 3, ca, cb, &link, &link));
    PT_TRUE(sn_connect(n, a, b));
}

PT_TEST(create_checks_config)
{
    parley_host_config cfg;
    pl_rng rng;
    pl_rng_seed(&rng, 1);
    pl_core *c = NULL;
    sn_config(&cfg);
    cfg.channel_count = 0;
    PT_ERR(pl_core_create(&cfg, sn_random, &rng, 0, &c), PARLEY_EINVAL);
    sn_config(&cfg);
    cfg.mtu = 100;
    PT_ERR(pl_core_create(&cfg, sn_random, &rng, 0, &c), PARLEY_EINVAL);
    sn_config(&cfg);
    cfg.channel_modes[1] = 9;
    PT_ERR(pl_core_create(&cfg, sn_random, &rng, 0, &c), PARLEY_EINVAL);
    sn_config(&cfg);
    PT_ERR(pl_core_create(&cfg, NULL, NULL, 0, &c), PARLEY_EINVAL);
    PT_ERR(pl_core_create(NULL, sn_random, &rng, 0, &c), PARLEY_EINVAL);
    PT_TRUE(c == NULL);
    int64_t live = pl_alloc_live();
    PT_OK(pl_core_create(&cfg, sn_random, &rng, 0, &c));
    parley_addr bad;
    memset(&bad, 0, sizeof bad);
    parley_peer p;
    PT_ERR(pl_core_connect(c, 0, &bad, NULL, 0, &p), PARLEY_EINVAL);
    uint8_t big[300] = {0};
    parley_addr ok;
    parley_addr_loopback(PARLEY_AF_INET, 9, &ok);
    PT_ERR(pl_core_connect(c, 0, &ok, big, sizeof big, &p), PARLEY_EINVAL);
    pl_core_destroy(c);
    PT_EQ_INT(pl_alloc_live(), live);
}

PT_TEST(send_checks_arguments)
{
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    cb.channel_count = 2; /* the agreed count is the smaller */
    cb.max_message = 5000;
    sn_net n;
    parley_peer a, b;
    pair(&n, &a, &b, &ca, &cb);
    pl_core *c = n.s[0].core;
    uint8_t buf[6000] = {0};
    PT_OK(pl_core_send(c, n.now, a, 1, buf, 10, 0, NULL, NULL));
    PT_ERR(pl_core_send(c, n.now, a, 2, buf, 10, 0, NULL, NULL), PARLEY_EINVAL);
    PT_ERR(pl_core_send(c, n.now, a, 0, buf, 10, 0x100, NULL, NULL),
           PARLEY_EINVAL);
    PT_ERR(pl_core_send(c, n.now, a, 0, buf, 10, 5, NULL, NULL), PARLEY_EINVAL);
    PT_ERR(pl_core_send(c, n.now, a, 0, NULL, 10, 0, NULL, NULL),
           PARLEY_EINVAL);
    PT_OK(pl_core_send(c, n.now, a, 0, NULL, 0, 0, NULL, NULL));
    /* Over the peer's max_message. */
    PT_ERR(pl_core_send(c, n.now, a, 0, buf, 5001, 0, NULL, NULL),
           PARLEY_EMSGSIZE);
    PT_OK(
        pl_core_send(c, n.now, a, 0, buf, 5000, PARLEY_SEND_FLUSH, NULL, NULL));
    PT_ERR(pl_core_send(c, n.now, a + 1, 0, buf, 1, 0, NULL, NULL),
           PARLEY_ENOTCONN);
    PT_ERR(pl_core_send(c, n.now, PARLEY_PEER_NONE, 0, buf, 1, 0, NULL, NULL),
           PARLEY_ENOTCONN);
    parley_peer_stats st;
    PT_ERR(pl_core_peer_stats(c, a + ((uint64_t)1 << 32), &st),
           PARLEY_ENOTCONN);
    sn_free(&n);
}

PT_TEST(send_queue_budget)
{
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    ca.peer_memory = 100000;
    sn_net n;
    parley_peer a, b;
    pair(&n, &a, &b, &ca, &cb);
    static uint8_t buf[30000];
    int ok = 0, rc;
    while ((rc = pl_core_send(n.s[0].core, n.now, a, 0, buf, sizeof buf, 0,
                              NULL, NULL)) == PARLEY_OK) {
        ok++;
    }
    PT_ERR(rc, PARLEY_ENOBUFS);
    PT_EQ_INT(ok, 3);
    sn_run_for(&n, 5 * SN_SEC);
    /* Acknowledged messages free the budget again. */
    PT_OK(
        pl_core_send(n.s[0].core, n.now, a, 0, buf, sizeof buf, 0, NULL, NULL));
    sn_free(&n);
}

static void
count_release(void *user, void *data)
{
    (void)data;
    (*(int *)user)++;
}

PT_TEST(owned_buffers_are_released_once)
{
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    parley_peer a, b;
    pair(&n, &a, &b, &cfg, &cfg);
    static uint8_t msgs[3][5000];
    int released = 0;
    for (int i = 0; i < 3; i++) {
        PT_OK(pl_core_send(n.s[0].core, n.now, a, i == 2 ? 3 : 0, msgs[i],
                           sizeof msgs[i], 0, count_release, &released));
    }
    PT_EQ_INT(released, 0);
    sn_run_for(&n, 2 * SN_SEC);
    PT_EQ_INT(released, 3); /* acked (reliable) or sent (unreliable) */
    /* Queued when the peer goes: released at once, not later. */
    PT_OK(pl_core_send(n.s[0].core, n.now, a, 0, msgs[0], 100, 0, count_release,
                       &released));
    PT_OK(pl_core_disconnect(n.s[0].core, n.now, a, 0, 1));
    PT_EQ_INT(released, 4);
    /* And on destroy. */
    PT_TRUE(sn_connect(&n, &a, &b));
    PT_OK(pl_core_send(n.s[0].core, n.now, a, 0, msgs[1], 100, 0, count_release,
                       &released));
    sn_free(&n);
    PT_EQ_INT(released, 5);
}

PT_TEST(mode_override_and_delivery_field)
{
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    parley_peer a, b;
    pair(&n, &a, &b, &cfg, &cfg);
    got_ g;
    memset(&g, 0, sizeof g);
    n.on_event = on_event;
    n.user = &g;
    PT_OK(pl_core_send(n.s[0].core, n.now, a, 0, "abc", 3,
                       PARLEY_SEND_MODE(PARLEY_UNRELIABLE), NULL, NULL));
    sn_run_for(&n, SN_SEC);
    PT_EQ_INT(g.receives, 1);
    PT_EQ_INT(g.last.channel, 0);
    PT_EQ_INT(g.last.delivery, PARLEY_UNRELIABLE);
    PT_OK(pl_core_send(n.s[0].core, n.now, a, 2, "de", 2, 0, NULL, NULL));
    sn_run_for(&n, SN_SEC);
    PT_EQ_INT(g.last.delivery, PARLEY_UNRELIABLE_SEQUENCED);
    sn_free(&n);
}

PT_TEST(unreleased_events_are_freed_by_destroy)
{
    int64_t live = pl_alloc_live();
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    parley_peer a, b;
    pair(&n, &a, &b, &cfg, &cfg);
    n.keep[1] = 1; /* the app never releases */
    for (int i = 0; i < 20; i++) {
        PT_OK(
            pl_core_send(n.s[0].core, n.now, a, 0, "hello", 5, 0, NULL, NULL));
    }
    static uint8_t big[200000];
    PT_OK(
        pl_core_send(n.s[0].core, n.now, a, 1, big, sizeof big, 0, NULL, NULL));
    sn_run_for(&n, 2 * SN_SEC);
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    PT_GT_U64(st.memory, sizeof big);
    /* Releasing an event twice is harmless. */
    parley_event ev;
    memset(&ev, 0, sizeof ev);
    pl_core_release_event(n.s[1].core, &ev);
    sn_free(&n);
    PT_EQ_INT(pl_alloc_live(), live);
}

PT_TEST(small_messages_share_datagrams)
{
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    parley_peer a, b;
    pair(&n, &a, &b, &cfg, &cfg);
    got_ g;
    memset(&g, 0, sizeof g);
    n.on_event = on_event;
    n.user = &g;
    parley_peer_stats before, after;
    PT_OK(pl_core_peer_stats(n.s[0].core, a, &before));
    for (int i = 0; i < 200; i++) {
        PT_OK(pl_core_send(n.s[0].core, n.now, a, (uint8_t)(i % 4),
                           "0123456789", 10, 0, NULL, NULL));
    }
    sn_run_for(&n, 100 * SN_MS); /* less than a keepalive interval */
    PT_EQ_INT(g.receives, 200);
    PT_OK(pl_core_peer_stats(n.s[0].core, a, &after));
    /* 200 x ~14 bytes of frames: three datagrams, not 200. */
    PT_LE_U64(after.packets_out - before.packets_out, 4);
    sn_free(&n);
}

PT_TEST(all_255_channels)
{
    parley_host_config cfg;
    sn_config(&cfg);
    cfg.channel_count = 255;
    for (int i = 0; i < 255; i++) {
        cfg.channel_modes[i] = (uint8_t)(i % 4);
    }
    sn_net n;
    parley_peer a, b;
    pair(&n, &a, &b, &cfg, &cfg);
    got_ g;
    memset(&g, 0, sizeof g);
    n.on_event = on_event;
    n.user = &g;
    PT_OK(pl_core_send(n.s[0].core, n.now, a, 254, "z", 1, 0, NULL, NULL));
    sn_run_for(&n, SN_SEC);
    PT_EQ_INT(g.receives, 1);
    PT_EQ_INT(g.last.channel, 254);
    PT_EQ_INT(g.last.delivery, 254 % 4);
    sn_free(&n);
}

typedef struct hot_ {
    parley_peer a;
    int sent, got, target;
} hot_;

static void
hot_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    hot_ *h = user;
    if (side == 1 && ev->type == PARLEY_EVENT_RECEIVE) {
        h->got++;
    }
}

static int
hot_feed(sn_net *n, void *arg)
{
    hot_ *h = arg;
    uint8_t msg[100] = {0};
    while (h->sent < h->target && h->sent - h->got < 50) {
        msg[0] = (uint8_t)h->sent;
        PT_OK(pl_core_send(n->s[0].core, n->now, h->a, (uint8_t)(h->sent % 4),
                           msg, 20 + (size_t)(h->sent % 80), 0, NULL, NULL));
        h->sent++;
    }
    return h->got >= h->target;
}

PT_TEST(hot_path_does_not_allocate)
{
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    hot_ h;
    memset(&h, 0, sizeof h);
    parley_peer b;
    pair(&n, &h.a, &b, &cfg, &cfg);
    n.on_event = hot_event;
    n.user = &h;
    h.target = 2000; /* warm up the pools */
    PT_TRUE(sn_run(&n, n.now + 60 * SN_SEC, hot_feed, &h));
    uint64_t allocs = pl_alloc_count();
    h.target = 12000;
    PT_TRUE(sn_run(&n, n.now + 300 * SN_SEC, hot_feed, &h));
    uint64_t used = pl_alloc_count() - allocs;
    printf("  %" PRIu64 " allocations for 10000 messages\n", used);
    PT_LE_U64(used, 20);
    sn_free(&n);
}

PT_TEST(stats_are_filled)
{
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config link;
    sn_link(&link, 30);
    link.loss_pct = 10;
    sn_net n;
    PT_OK(sn_init(&n, 8, &cfg, &cfg, &link, &link));
    parley_peer a, b;
    PT_TRUE(sn_connect(&n, &a, &b));
    static uint8_t big[300000];
    for (int i = 0; i < 10; i++) {
        PT_OK(pl_core_send(n.s[0].core, n.now, a, 0, big, sizeof big, 0, NULL,
                           NULL));
    }
    sn_run_for(&n, 200 * SN_MS);
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(n.s[0].core, a, &st));
    PT_EQ_INT(st.state, PARLEY_PEER_CONNECTED);
    PT_TRUE(parley_addr_equal(&st.addr, &n.s[1].addr));
    /* Probing raised the MTU over the sim link (no path limit here). */
    PT_GT_U64(st.mtu, 1200);
    PT_LE_U64(st.mtu, cfg.max_mtu);
    PT_GT_U64(st.mtu_probes, 0);
    PT_GT_U64(st.out_buffer_bytes, 0);
    PT_GT_U64(st.unacked_bytes, 0);
    PT_GT_U64(st.unacked_messages, 0);
    PT_GT_U64(st.cwnd_bytes, 0);
    PT_GT_U64(st.send_rate_bps, 0);
    PT_GT_U64(st.peer_window_bytes, 0);
    sn_run_for(&n, 60 * SN_SEC);
    PT_OK(pl_core_peer_stats(n.s[0].core, a, &st));
    PT_EQ_U64(st.messages_out, 10);
    PT_EQ_U64(st.out_buffer_bytes, 0);
    PT_EQ_U64(st.unacked_messages, 0);
    PT_GT_U64(st.packets_lost, 0);
    PT_GT_U64(st.retransmits, 0);
    PT_GT_U64(st.bytes_out, 10 * sizeof big);
    PT_GT_U64(st.packets_in, 0);
    PT_GE_U64(st.min_rtt_us, 60000);
    PT_LE_U64(st.min_rtt_us, st.srtt_us + 1);
    PT_GT_U64(st.latest_rtt_us, 0);
    PT_TRUE(st.loss_pct > 2.0 && st.loss_pct < 30.0);
    parley_peer_stats rs;
    PT_OK(pl_core_peer_stats(n.s[1].core, b, &rs));
    PT_EQ_U64(rs.messages_in, 10);
    PT_GT_U64(rs.bytes_in, 10 * sizeof big);
    sn_free(&n);
}

PT_MAIN(PT_RUN(create_checks_config) PT_RUN(send_checks_arguments)
            PT_RUN(send_queue_budget) PT_RUN(owned_buffers_are_released_once)
                PT_RUN(mode_override_and_delivery_field)
                    PT_RUN(unreleased_events_are_freed_by_destroy)
                        PT_RUN(small_messages_share_datagrams)
                            PT_RUN(all_255_channels)
                                PT_RUN(hot_path_does_not_allocate)
                                    PT_RUN(stats_are_filled))
