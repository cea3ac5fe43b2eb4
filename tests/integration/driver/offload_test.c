/*
 * Large reliable messages between two real hosts over loopback, where the
 * driver sends trains with UDP GSO and receives them coalesced with GRO
 * (when the kernel has them): 8 MiB one way and 2 MiB the other at once,
 * odd sizes around them, IPv4 and IPv6, and through the link simulator
 * with loss, duplication and reordering. Every byte is checked.
 */
#include "pt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/host.h"
#include "parley/parley.h"
#include "platform/platform.h"

#define BIG (8u << 20)

typedef struct side {
    parley_host *host;
    parley_peer peer;
    int connected;
    uint32_t next;  /* sequence number expected next */
    uint64_t bytes; /* payload bytes received intact */
    int failed;
} side;

static uint8_t
pat(uint32_t msg, size_t off)
{
    return (uint8_t)(msg * 131u + off * 7u + (off >> 9));
}

static void
on_event(side *s, parley_event *ev)
{
    if (ev->type == PARLEY_EVENT_CONNECT) {
        s->connected = 1;
        s->peer = ev->peer;
    } else if (ev->type == PARLEY_EVENT_RECEIVE) {
        uint32_t seq = UINT32_MAX;
        if (ev->len >= 4) {
            memcpy(&seq, ev->data, 4);
        }
        if (seq != s->next || ev->channel != 0) {
            s->failed = 1;
        }
        for (size_t i = 4; i < ev->len && !s->failed; i++) {
            if (ev->data[i] != pat(seq, i)) {
                s->failed = 2;
            }
        }
        s->next++;
        s->bytes += ev->len;
    } else if (ev->type != PARLEY_EVENT_NONE) {
        s->failed = 3; /* a disconnect or failure: not expected here */
    }
    parley_event_release(s->host, ev);
}

/* Services both hosts until cond holds or limit_ms passes. */
#define PUMP_UNTIL(a, b, cond, limit_ms)                                       \
    do {                                                                       \
        uint64_t pu_end_ = parley_time_us() + (uint64_t)(limit_ms)*1000;       \
        while (!(cond) && parley_time_us() < pu_end_) {                        \
            parley_event pu_ev_;                                               \
            while (parley_host_service((a)->host, 0, &pu_ev_) == 1) {          \
                on_event((a), &pu_ev_);                                        \
            }                                                                  \
            while (parley_host_service((b)->host, 1, &pu_ev_) == 1) {          \
                on_event((b), &pu_ev_);                                        \
            }                                                                  \
        }                                                                      \
    } while (0)

static void
send_msg(side *s, uint32_t seq, size_t len)
{
    uint8_t *buf = malloc(len);
    PT_TRUE(buf != NULL);
    for (size_t i = 0; i < len; i++) {
        buf[i] = pat(seq, i);
    }
    memcpy(buf, &seq, 4);
    PT_OK(parley_peer_send(s->host, s->peer, 0, buf, len, 0));
    free(buf);
}

/* What this kernel grants a loopback socket, for the log. */
static int
kernel_offload(parley_family fam)
{
    parley_addr bind;
    pl_os_udp s;
    PT_OK(parley_addr_loopback(fam, 0, &bind));
    if (pl_os_udp_open(&bind, 0, &s) != PARLEY_OK) {
        return -1;
    }
    int got = pl_os_udp_offload(&s, PL_OS_UDP_GSO | PL_OS_UDP_GRO);
    pl_os_close(s.fd);
    return got;
}

static void
transfer(const char *bind, const char *host, const parley_sim_config *sim,
         size_t big)
{
    static const size_t sizes[] = {4, 1199, 1200, 1201, 65536 + 17};
    side srv, cli;
    memset(&srv, 0, sizeof srv);
    memset(&cli, 0, sizeof cli);
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = bind;
    PT_OK(parley_host_create(&cfg, &srv.host));
    cfg.accept_incoming = 0;
    PT_OK(parley_host_create(&cfg, &cli.host));
    parley_addr a;
    PT_OK(parley_host_local_addr(srv.host, &a));
    char text[80];
    snprintf(text, sizeof text, "%s:%u", host, (unsigned)a.port);
    PT_OK(parley_host_connect(cli.host, text, NULL, 0, &cli.peer));
    PUMP_UNTIL(&srv, &cli, srv.connected && cli.connected, 5000);
    PT_TRUE(srv.connected && cli.connected);
    if (sim) {
        PT_OK(parley_host_set_sim(cli.host, sim, sim));
    }
    uint32_t n = 0;
    uint64_t want_srv = 0, want_cli = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++, n++) {
        send_msg(&cli, n, sizes[i]);
        send_msg(&srv, n, sizes[i]);
        want_srv += sizes[i];
        want_cli += sizes[i];
    }
    send_msg(&cli, n, big);
    send_msg(&srv, n, big / 4);
    want_srv += big;
    want_cli += big / 4;
    n++;
    send_msg(&cli, n, 333); /* a short one behind the train */
    want_srv += 333;
    uint64_t t0 = parley_time_us();
    PUMP_UNTIL(&cli, &srv,
               (srv.bytes >= want_srv && cli.bytes >= want_cli) || srv.failed ||
                   cli.failed,
               15000);
    double ms = (double)(parley_time_us() - t0) / 1000.0;
    printf("  %s%s: %.1f MiB in %.0f ms\n", host, sim ? " (simulator)" : "",
           (double)(want_srv + want_cli) / 1048576.0, ms);
    PT_EQ_INT(srv.failed, 0);
    PT_EQ_INT(cli.failed, 0);
    PT_EQ_U64(srv.bytes, want_srv);
    PT_EQ_U64(cli.bytes, want_cli);
    PT_EQ_INT(srv.next, n + 1);
    PT_EQ_INT(cli.next, n);
    if (sim) {
        parley_peer_stats st;
        PT_OK(parley_peer_get_stats(cli.host, cli.peer, &st));
        PT_GT_U64(st.retransmits, 0); /* the loss really happened */
    }
    parley_host_destroy(cli.host);
    parley_host_destroy(srv.host);
}

PT_TEST(large_messages_ipv4)
{
    printf("  kernel offload on 127.0.0.1: gso %d gro %d\n",
           (kernel_offload(PARLEY_AF_INET) & PL_OS_UDP_GSO) != 0,
           (kernel_offload(PARLEY_AF_INET) & PL_OS_UDP_GRO) != 0);
    transfer("127.0.0.1:0", "127.0.0.1", NULL, BIG);
}

PT_TEST(large_messages_ipv6)
{
    if (kernel_offload(PARLEY_AF_INET6) < 0) {
        printf("  skip: no IPv6 loopback in this kernel\n");
        return;
    }
    transfer("[::1]:0", "[::1]", NULL, BIG);
}

PT_TEST(large_messages_through_simulator)
{
    parley_sim_config sim;
    parley_sim_config_init(&sim);
    sim.loss_pct = 3;
    sim.dup_pct = 2;
    sim.reorder_pct = 3;
    /* An Ethernet path: hundreds of datagrams (so some are surely lost),
       in trains, rather than a few dozen 64 KiB ones. */
    sim.path_mtu = 1472;
    sim.latency_ms = 2;
    sim.jitter_ms = 1;
    sim.queue_bytes = 1u << 20;
    sim.seed = 7;
    transfer("127.0.0.1:0", "127.0.0.1", &sim, 1u << 20);
}

PT_MAIN(PT_RUN(large_messages_ipv4) PT_RUN(large_messages_ipv6)
            PT_RUN(large_messages_through_simulator))
