/*
 * The two libraries under test behind bench.h: parley's host API and
 * ENet's, each at its documented defaults (two channels: 0 reliable
 * ordered, 1 unreliable sequenced; ENet with bandwidth limits 0) and each
 * serviced until it has nothing left to hand out.
 */
#include "bench.h"

#include <enet/enet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/error.h"
#include "parley/host.h"

uint64_t
bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- parley ---- */

struct bench_ep {
    parley_host *ph;
    parley_peer peer;
    ENetHost *eh;
    ENetPeer *epeer;
};

static int
p_create(bench_ep **out, int server, uint32_t max_conns, uint16_t port)
{
    bench_ep *ep = calloc(1, sizeof *ep);
    if (ep == NULL) {
        return -1;
    }
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    cfg.accept_incoming = server;
    cfg.max_peers = server ? max_conns : 1;
#if defined(__has_include)
#if __has_include(<parley/security.h>)
    /* ENet has no encryption: both run plain. Every client here comes
       from 127.0.0.1, so the per-source-IP handshake limit (a defence for
       real deployments, where clients have their own addresses) is off. */
    cfg.encrypt = 0;
    cfg.handshake_rate = 0;
#endif
#endif
    int rc = parley_host_create(&cfg, &ep->ph);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "parley_host_create: %s\n", parley_strerror(rc));
        free(ep);
        return -1;
    }
    if (!server) {
        char text[64];
        snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)port);
        rc = parley_host_connect(ep->ph, text, NULL, 0, &ep->peer);
        if (rc != PARLEY_OK) {
            fprintf(stderr, "parley_host_connect: %s\n", parley_strerror(rc));
            parley_host_destroy(ep->ph);
            free(ep);
            return -1;
        }
    }
    *out = ep;
    return 0;
}

static int
p_server(bench_ep **out, uint32_t max_conns)
{
    return p_create(out, 1, max_conns, 0);
}

static int
p_client(bench_ep **out, uint16_t port)
{
    return p_create(out, 0, 1, port);
}

static uint16_t
p_port(bench_ep *ep)
{
    parley_addr a;
    if (parley_host_local_addr(ep->ph, &a) != PARLEY_OK) {
        return 0;
    }
    return a.port;
}

static int
p_send(bench_ep *ep, uint64_t conn, const void *data, size_t len, int flags)
{
    uint32_t f = (flags & BENCH_FLUSH) ? PARLEY_SEND_FLUSH : 0;
    uint8_t ch = (flags & BENCH_RELIABLE) ? 0 : 1;
    int rc = parley_peer_send(ep->ph, conn ? (parley_peer)conn : ep->peer, ch,
                              data, len, f);
    if (rc == PARLEY_ENOBUFS) {
        return BENCH_BUSY;
    }
    return rc == PARLEY_OK ? 0 : BENCH_FAIL;
}

static void
p_deliver(bench_ep *ep, parley_event *pev, bench_cb cb, void *user)
{
    bench_ev ev = {0};
    ev.conn = pev->peer;
    switch (pev->type) {
    case PARLEY_EVENT_CONNECT:
        ev.type = BENCH_EV_CONNECT;
        break;
    case PARLEY_EVENT_RECEIVE:
        ev.type = BENCH_EV_RECV;
        ev.reliable = pev->delivery <= PARLEY_RELIABLE_UNORDERED;
        ev.data = pev->data;
        ev.len = pev->len;
        break;
    default:
        ev.type = BENCH_EV_DISCONNECT;
        break;
    }
    cb(user, &ev);
    parley_event_release(ep->ph, pev);
}

static int
p_service(bench_ep *ep, int timeout_ms, bench_cb cb, void *user)
{
    int n = 0;
    for (;;) {
        parley_event pev;
        int r = parley_host_service(ep->ph, n ? 0 : timeout_ms, &pev);
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            return n;
        }
        p_deliver(ep, &pev, cb, user);
        n++;
        while (parley_host_check_events(ep->ph, &pev) == 1) {
            p_deliver(ep, &pev, cb, user);
            n++;
        }
    }
}

static int
p_fd(bench_ep *ep)
{
    return parley_host_fd(ep->ph);
}

static uint64_t
p_dgrams(bench_ep *ep)
{
    parley_peer_stats st;
    if (ep->peer == PARLEY_PEER_NONE ||
        parley_peer_get_stats(ep->ph, ep->peer, &st) != PARLEY_OK) {
        return 0;
    }
    return st.packets_out;
}

static void
p_extra(bench_ep *ep, char *buf, size_t cap)
{
    parley_peer_stats st;
    buf[0] = '\0';
    if (ep->peer != PARLEY_PEER_NONE &&
        parley_peer_get_stats(ep->ph, ep->peer, &st) == PARLEY_OK) {
        snprintf(buf, cap,
                 " srtt_us=%llu min_rtt_us=%llu cwnd=%llu lost=%llu "
                 "rtx=%llu",
                 (unsigned long long)st.srtt_us,
                 (unsigned long long)st.min_rtt_us,
                 (unsigned long long)st.cwnd_bytes,
                 (unsigned long long)st.packets_lost,
                 (unsigned long long)st.retransmits);
    }
}

static void
e_extra(bench_ep *ep, char *buf, size_t cap)
{
    snprintf(buf, cap, " srtt_us=%llu lost=%llu",
             (unsigned long long)ep->epeer->roundTripTime * 1000u,
             (unsigned long long)ep->epeer->packetsLost);
}

static void
p_destroy(bench_ep *ep)
{
    parley_host_destroy(ep->ph);
    free(ep);
}

const bench_ops bench_parley_ops = {
    "parley", 1,         1,    1,        p_server, p_client,  p_port,
    p_send,   p_service, p_fd, p_dgrams, p_extra,  p_destroy,
};

/* ---- ENet ---- */

static int enet_ready;

static int
e_init(void)
{
    if (!enet_ready) {
        if (enet_initialize() != 0) {
            fprintf(stderr, "enet_initialize failed\n");
            return -1;
        }
        enet_ready = 1;
    }
    return 0;
}

static int
e_server(bench_ep **out, uint32_t max_conns)
{
    if (e_init() != 0) {
        return -1;
    }
    if (max_conns > ENET_PROTOCOL_MAXIMUM_PEER_ID) {
        fprintf(stderr, "enet: at most %d peers per host\n",
                ENET_PROTOCOL_MAXIMUM_PEER_ID);
        return -1;
    }
    bench_ep *ep = calloc(1, sizeof *ep);
    if (ep == NULL) {
        return -1;
    }
    ENetAddress a;
    memset(&a, 0, sizeof a);
    enet_address_set_host_ip(&a, "127.0.0.1");
    a.port = 0;
    ep->eh = enet_host_create(&a, max_conns, 2, 0, 0);
    if (ep->eh == NULL) {
        fprintf(stderr, "enet_host_create failed\n");
        free(ep);
        return -1;
    }
    *out = ep;
    return 0;
}

static int
e_client(bench_ep **out, uint16_t port)
{
    if (e_init() != 0) {
        return -1;
    }
    bench_ep *ep = calloc(1, sizeof *ep);
    if (ep == NULL) {
        return -1;
    }
    ENetAddress local;
    memset(&local, 0, sizeof local);
    enet_address_set_host_ip(&local, "127.0.0.1");
    ep->eh = enet_host_create(&local, 1, 2, 0, 0);
    if (ep->eh == NULL) {
        fprintf(stderr, "enet_host_create failed\n");
        free(ep);
        return -1;
    }
    ENetAddress a;
    memset(&a, 0, sizeof a);
    enet_address_set_host_ip(&a, "127.0.0.1");
    a.port = port;
    ep->epeer = enet_host_connect(ep->eh, &a, 2, 0);
    if (ep->epeer == NULL) {
        enet_host_destroy(ep->eh);
        free(ep);
        return -1;
    }
    *out = ep;
    return 0;
}

static uint16_t
e_port(bench_ep *ep)
{
    ENetAddress a;
    if (enet_socket_get_address(ep->eh->socket, &a) != 0) {
        return 0;
    }
    return a.port;
}

static int
e_send(bench_ep *ep, uint64_t conn, const void *data, size_t len, int flags)
{
    ENetPeer *peer = conn ? (ENetPeer *)(uintptr_t)conn : ep->epeer;
    int rel = (flags & BENCH_RELIABLE) != 0;
    ENetPacket *pkt =
        enet_packet_create(data, len, rel ? ENET_PACKET_FLAG_RELIABLE : 0);
    if (pkt == NULL) {
        return BENCH_FAIL;
    }
    if (enet_peer_send(peer, rel ? 0 : 1, pkt) != 0) {
        enet_packet_destroy(pkt);
        return BENCH_FAIL;
    }
    if (flags & BENCH_FLUSH) {
        enet_host_flush(ep->eh);
    }
    return 0;
}

static int
e_service(bench_ep *ep, int timeout_ms, bench_cb cb, void *user)
{
    int n = 0;
    ENetEvent eev;
    int r = enet_host_service(ep->eh, &eev, (enet_uint32)timeout_ms);
    while (r > 0) {
        bench_ev ev = {0};
        ev.conn = (uint64_t)(uintptr_t)eev.peer;
        if (eev.type == ENET_EVENT_TYPE_CONNECT) {
            ev.type = BENCH_EV_CONNECT;
        } else if (eev.type == ENET_EVENT_TYPE_RECEIVE) {
            ev.type = BENCH_EV_RECV;
            ev.reliable = eev.channelID == 0;
            ev.data = eev.packet->data;
            ev.len = eev.packet->dataLength;
        } else {
            ev.type = BENCH_EV_DISCONNECT;
        }
        cb(user, &ev);
        if (eev.type == ENET_EVENT_TYPE_RECEIVE) {
            enet_packet_destroy(eev.packet);
        }
        n++;
        r = enet_host_service(ep->eh, &eev, 0);
    }
    return r < 0 ? -1 : n;
}

static int
e_fd(bench_ep *ep)
{
    return (int)ep->eh->socket;
}

static uint64_t
e_dgrams(bench_ep *ep)
{
    return ep->eh->totalSentPackets;
}

static void
e_destroy(bench_ep *ep)
{
    enet_host_destroy(ep->eh);
    free(ep);
}

const bench_ops bench_enet_ops = {
    "enet", 1,         1,    1,        e_server, e_client,  e_port,
    e_send, e_service, e_fd, e_dgrams, e_extra,  e_destroy,
};
