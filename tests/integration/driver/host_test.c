/*
 * The UDP driver over real loopback sockets: connect, exchange messages
 * on every delivery mode, disconnect, IPv4 and IPv6, the link simulator
 * on the datagram path, interrupt and timers. Every byte is checked.
 */
#include "pt.h"

#include <pthread.h>
#include <unistd.h>

#include "parley/parley.h"
#include "parley/host.h"

/* A pattern byte that depends on the message and the offset. */
static uint8_t
pat(uint32_t msg, size_t off)
{
    return (uint8_t)(msg * 131u + off * 7u + (off >> 8));
}

typedef struct side {
    parley_host *host;
    parley_peer peer;
    int connected;
    int disconnected;
    parley_reason reason;
    uint32_t next_seq; /* next reliable-ordered message expected */
    uint32_t received; /* messages received */
    uint32_t last_seq_unrel;
    int failed;
} side;

static void
on_event(side *s, parley_event *ev)
{
    switch (ev->type) {
    case PARLEY_EVENT_CONNECT:
        s->connected = 1;
        s->peer = ev->peer;
        break;
    case PARLEY_EVENT_DISCONNECT:
    case PARLEY_EVENT_CONNECT_FAILED:
        s->disconnected = (int)ev->type;
        s->reason = ev->reason;
        break;
    case PARLEY_EVENT_RECEIVE: {
        uint32_t seq = 0;
        if (ev->len >= 4) {
            memcpy(&seq, ev->data, 4);
        }
        for (size_t i = 4; i < ev->len; i++) {
            if (ev->data[i] != pat(seq, i)) {
                s->failed = 1;
                break;
            }
        }
        if (ev->channel == 0) {
            if (seq != s->next_seq) {
                s->failed = 2;
            }
            s->next_seq = seq + 1;
        } else if (ev->channel == 1) {
            if (s->received > 0 && seq <= s->last_seq_unrel &&
                s->last_seq_unrel != 0) {
                s->failed = 3; /* sequenced went backwards */
            }
            s->last_seq_unrel = seq;
        }
        s->received++;
        break;
    }
    default:
        break;
    }
    parley_event_release(s->host, ev);
}

/* Services both sides until cond holds or limit_ms passes. */
#define PUMP_UNTIL(a, b, cond, limit_ms)                                       \
    do {                                                                       \
        uint64_t pu_end_ = parley_time_us() + (uint64_t)(limit_ms)*1000;       \
        while (!(cond) && parley_time_us() < pu_end_) {                        \
            parley_event pu_ev_;                                               \
            while (parley_host_service((a)->host, 0, &pu_ev_) == 1) {          \
                on_event((a), &pu_ev_);                                        \
            }                                                                  \
            if (parley_host_service((b)->host, 1, &pu_ev_) == 1) {             \
                on_event((b), &pu_ev_);                                        \
            }                                                                  \
        }                                                                      \
    } while (0)

static void
make_pair(side *srv, side *cli, const char *srv_bind, const char *cli_bind,
          const char *loop_host)
{
    memset(srv, 0, sizeof *srv);
    memset(cli, 0, sizeof *cli);
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = srv_bind;
    PT_OK(parley_host_create(&cfg, &srv->host));
    cfg.bind = cli_bind;
    cfg.accept_incoming = 0;
    PT_OK(parley_host_create(&cfg, &cli->host));
    parley_addr a;
    PT_OK(parley_host_local_addr(srv->host, &a));
    char text[80];
    snprintf(text, sizeof text, "%s:%u", loop_host, (unsigned)a.port);
    PT_OK(parley_host_connect(cli->host, text, "hi", 2, &cli->peer));
    PUMP_UNTIL(srv, cli, srv->connected && cli->connected, 5000);
    PT_TRUE(srv->connected && cli->connected);
    PT_EQ_INT(parley_peer_get_state(cli->host, cli->peer),
              PARLEY_PEER_CONNECTED);
}

static void
free_pair(side *srv, side *cli)
{
    parley_host_destroy(cli->host);
    parley_host_destroy(srv->host);
}

static void
send_msg(side *s, uint8_t ch, uint32_t seq, size_t len)
{
    static uint8_t buf[300000];
    memcpy(buf, &seq, 4);
    for (size_t i = 4; i < len; i++) {
        buf[i] = pat(seq, i);
    }
    PT_OK(parley_peer_send(s->host, s->peer, ch, buf, len, 0));
}

/* Messages of 4 B to 200 KB on the reliable-ordered channel. */
static void
exchange(const char *srv_bind, const char *cli_bind, const char *host,
         const parley_sim_config *sim, uint32_t count)
{
    side srv, cli;
    make_pair(&srv, &cli, srv_bind, cli_bind, host);
    if (sim) {
        PT_OK(parley_host_set_sim(cli.host, sim, sim));
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t len = (i % 97 == 0) ? 200000 : 4 + (i * 37) % 1500;
        send_msg(&cli, 0, i, len);
        if (i % 64 == 0) {
            PUMP_UNTIL(&srv, &cli, 0, 1);
        }
    }
    PUMP_UNTIL(&srv, &cli, srv.received >= count || srv.failed, 20000);
    PT_EQ_INT(srv.failed, 0);
    PT_EQ_INT(srv.received, count);
    PT_EQ_INT(srv.next_seq, count);
    parley_peer_stats st;
    PT_OK(parley_peer_get_stats(cli.host, cli.peer, &st));
    PT_GE_U64(st.messages_out, count);
    PT_GT_U64(st.srtt_us, 0);
    if (sim) {
        PT_GT_U64(st.retransmits, 0); /* the loss really happened */
    }
    /* Graceful: the server hears it, the client's own event follows. */
    PT_OK(parley_peer_disconnect(cli.host, cli.peer, 7));
    PUMP_UNTIL(&srv, &cli, srv.disconnected && cli.disconnected, 5000);
    PT_EQ_INT(srv.disconnected, PARLEY_EVENT_DISCONNECT);
    PT_EQ_INT(srv.reason, PARLEY_REASON_GRACEFUL);
    PT_EQ_INT(cli.reason, PARLEY_REASON_LOCAL);
    PT_ERR(parley_peer_send(cli.host, cli.peer, 0, "x", 1, 0), PARLEY_ENOTCONN);
    free_pair(&srv, &cli);
}

PT_TEST(ipv4_reliable_ordered)
{
    exchange("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1", NULL, 2000);
}

PT_TEST(ipv6_reliable_ordered)
{
    exchange("[::1]:0", "[::1]:0", "[::1]", NULL, 2000);
}

PT_TEST(dualstack_server_ipv4_client)
{
    exchange("[::]:0", "127.0.0.1:0", "127.0.0.1", NULL, 300);
}

/* Path-MTU probing over real loopback: the MTU climbs far above the
   1200-byte base (loopback carries 64 KiB datagrams), and every byte of
   the bulk still arrives in order. */
static void
mtu_rises(const char *bind, const char *host)
{
    side srv, cli;
    make_pair(&srv, &cli, bind, bind, host);
    const uint32_t count = 40;
    for (uint32_t i = 0; i < count; i++) {
        send_msg(&cli, 0, i, 200000);
        PUMP_UNTIL(&srv, &cli, 0, 1);
    }
    PUMP_UNTIL(&srv, &cli, srv.received >= count || srv.failed, 20000);
    PT_EQ_INT(srv.failed, 0);
    PT_EQ_INT(srv.received, count);
    parley_peer_stats st;
    PT_OK(parley_peer_get_stats(cli.host, cli.peer, &st));
    printf("  %s: mtu %u after %" PRIu64 " probes (%" PRIu64 " lost)\n", host,
           st.mtu, st.mtu_probes, st.mtu_probes_lost);
    PT_GT_U64(st.mtu, 8952);
    PT_LE_U64(st.mtu, 65507);
    PT_GT_U64(st.mtu_probes, 0);
    free_pair(&srv, &cli);
}

PT_TEST(loopback_mtu_rises_ipv4)
{
    mtu_rises("127.0.0.1:0", "127.0.0.1");
}

PT_TEST(loopback_mtu_rises_ipv6)
{
    mtu_rises("[::1]:0", "[::1]");
}

PT_TEST(through_simulator_with_loss)
{
    parley_sim_config sim;
    parley_sim_config_init(&sim);
    sim.loss_pct = 10;
    sim.dup_pct = 5;
    sim.reorder_pct = 5;
    sim.latency_ms = 5;
    sim.jitter_ms = 2;
    sim.seed = 42;
    pt_seed(42);
    exchange("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1", &sim, 500);
}

PT_TEST(unreliable_sequenced_never_backwards)
{
    side srv, cli;
    make_pair(&srv, &cli, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1");
    for (uint32_t i = 1; i <= 500; i++) {
        send_msg(&cli, 1, i, 64);
        PUMP_UNTIL(&srv, &cli, 0, 0);
    }
    PUMP_UNTIL(&srv, &cli, srv.last_seq_unrel == 500, 3000);
    PT_EQ_INT(srv.failed, 0);
    PT_GT_INT(srv.received, 0);
    PT_EQ_INT(srv.last_seq_unrel, 500);
    free_pair(&srv, &cli);
}

static int g_released;
static void
release_buf(void *user, void *data)
{
    (void)user;
    g_released++;
    free(data);
}

PT_TEST(zero_copy_send_releases_once)
{
    side srv, cli;
    make_pair(&srv, &cli, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1");
    g_released = 0;
    for (uint32_t i = 0; i < 10; i++) {
        size_t len = 5000;
        uint8_t *b = malloc(len);
        memcpy(b, &i, 4);
        for (size_t k = 4; k < len; k++) {
            b[k] = pat(i, k);
        }
        PT_OK(parley_peer_send_owned(cli.host, cli.peer, 0, b, len, 0,
                                     release_buf, NULL));
    }
    PUMP_UNTIL(&srv, &cli, srv.received == 10 && g_released == 10, 5000);
    PT_EQ_INT(srv.failed, 0);
    PT_EQ_INT(srv.received, 10);
    PT_EQ_INT(g_released, 10);
    free_pair(&srv, &cli);
    PT_EQ_INT(g_released, 10);
}

PT_TEST(connect_timeout_to_silent_port)
{
    /* A bound socket that never answers. */
    parley_addr a;
    parley_udp *silent;
    PT_OK(parley_addr_parse("127.0.0.1:0", 0, &a));
    PT_OK(parley_udp_open(&a, 0, &silent));
    PT_OK(parley_udp_local_addr(silent, &a));
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    cfg.connect_timeout_ms = 400;
    side cli;
    memset(&cli, 0, sizeof cli);
    PT_OK(parley_host_create(&cfg, &cli.host));
    uint64_t t0 = parley_time_us();
    PT_OK(parley_host_connect_addr(cli.host, &a, NULL, 0, &cli.peer));
    while (!cli.disconnected && parley_time_us() - t0 < 3000000) {
        parley_event ev;
        if (parley_host_service(cli.host, 50, &ev) == 1) {
            on_event(&cli, &ev);
        }
    }
    uint64_t took_ms = (parley_time_us() - t0) / 1000;
    PT_EQ_INT(cli.disconnected, PARLEY_EVENT_CONNECT_FAILED);
    PT_EQ_INT(cli.reason, PARLEY_REASON_CONNECT_TIMEOUT);
    PT_GE_U64(took_ms, 360);
    PT_LE_U64(took_ms, 700);
    parley_host_destroy(cli.host);
    parley_udp_close(silent);
}

static void *
interrupter(void *arg)
{
    usleep(100000);
    parley_host_interrupt(arg);
    return NULL;
}

PT_TEST(interrupt_from_another_thread)
{
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    parley_host *h;
    PT_OK(parley_host_create(&cfg, &h));
    PT_EQ_INT(parley_host_next_timeout_ms(h), -1); /* idle: no timers */
    PT_GE_INT(parley_host_fd(h), 0);
    pthread_t t;
    PT_EQ_INT(pthread_create(&t, NULL, interrupter, h), 0);
    uint64_t t0 = parley_time_us();
    parley_event ev;
    PT_EQ_INT(parley_host_service(h, -1, &ev), 0);
    uint64_t ms = (parley_time_us() - t0) / 1000;
    pthread_join(t, NULL);
    PT_GE_U64(ms, 90);
    PT_LE_U64(ms, 1000);
    parley_host_destroy(h);
}

PT_TEST(timers_and_bad_arguments)
{
    side srv, cli;
    make_pair(&srv, &cli, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1");
    int ms = parley_host_next_timeout_ms(cli.host);
    PT_GE_INT(ms, 0);
    PT_LE_INT(ms, 5000);
    PT_ERR(parley_peer_send(cli.host, cli.peer, 2, "x", 1, 0), PARLEY_EINVAL);
    PT_ERR(parley_peer_send(cli.host, cli.peer + 1, 0, "x", 1, 0),
           PARLEY_ENOTCONN);
    PT_ERR(parley_host_connect(cli.host, "nonexistent.invalid:1", NULL, 0,
                               &cli.peer),
           PARLEY_ERESOLVE);
    PT_ERR(parley_host_connect(cli.host, "127.0.0.1", NULL, 0, &cli.peer),
           PARLEY_EPORT);
    PT_ERR(parley_host_connect(cli.host, "[::1]:5", NULL, 0, &cli.peer),
           PARLEY_ERESOLVE);
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = "300.1.1.1:0";
    parley_host *h = NULL;
    PT_ERR(parley_host_create(&cfg, &h), PARLEY_ERESOLVE);
    PT_TRUE(h == NULL);
    free_pair(&srv, &cli);
}

/* A sender far ahead of the receiver: 64 KiB datagrams carry thousands
   of small messages each, yet the driver hands them to the app in slices
   (events waiting never reach a whole receive batch of them), and every
   message arrives once, in order. */
PT_TEST(small_message_burst_is_handed_out_in_slices)
{
    side srv, cli;
    make_pair(&srv, &cli, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1");
    const uint32_t total = 300000;
    uint32_t queued = 0;
    size_t max_depth = 0;
    uint64_t end = parley_time_us() + 20000000u;
    while (srv.received < total && !srv.failed && parley_time_us() < end) {
        parley_event ev;
        while (queued < total && queued - srv.received < 100000) {
            uint8_t m[12];
            memcpy(m, &queued, 4);
            for (size_t i = 4; i < sizeof m; i++) {
                m[i] = pat(queued, i);
            }
            if (parley_peer_send(cli.host, cli.peer, 0, m, sizeof m, 0) !=
                PARLEY_OK) {
                break;
            }
            queued++;
        }
        for (int k = 0; k < 50; k++) {
            while (parley_host_service(cli.host, 0, &ev) == 1) {
                on_event(&cli, &ev);
            }
        }
        if (parley_host_service(srv.host, 1, &ev) == 1) {
            /* Everything the app could take without another service
               call: what the driver handed in at once. */
            size_t depth = 1;
            on_event(&srv, &ev);
            while (parley_host_check_events(srv.host, &ev) == 1) {
                on_event(&srv, &ev);
                depth++;
            }
            max_depth = depth > max_depth ? depth : max_depth;
        }
    }
    PT_EQ_INT(srv.failed, 0);
    PT_EQ_INT(srv.received, total);
    PT_EQ_INT(srv.next_seq, total);
    /* 4096 waiting, plus one datagram's worth (at most ~5,500 of these). */
    PT_LE_U64(max_depth, 4096 + 5500);
    PT_GT_U64(max_depth, 1000); /* big datagrams really carried many */
    free_pair(&srv, &cli);
}

PT_MAIN(PT_RUN(ipv4_reliable_ordered) PT_RUN(
    small_message_burst_is_handed_out_in_slices) PT_RUN(ipv6_reliable_ordered)
            PT_RUN(dualstack_server_ipv4_client) PT_RUN(loopback_mtu_rises_ipv4)
                PT_RUN(loopback_mtu_rises_ipv6)
                    PT_RUN(through_simulator_with_loss)
                        PT_RUN(unreliable_sequenced_never_backwards)
                            PT_RUN(zero_copy_send_releases_once)
                                PT_RUN(connect_timeout_to_silent_port)
                                    PT_RUN(interrupt_from_another_thread)
                                        PT_RUN(timers_and_bad_arguments))
