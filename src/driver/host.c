/*
 * The UDP driver: joins the sans-I/O engine (src/core/) to a real socket,
 * the clock and a poller, with the link simulator optionally on the
 * datagram path. Everything here is plumbing; every protocol decision is
 * the engine's.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "parley/error.h"
#include "parley/host.h"
#include "platform/platform.h"
#include "util/alloc.h"

#define RX_BATCH 32
/* As many as one sendmmsg takes: with GSO, a train or two of them. */
#define TX_BATCH PL_OS_UDP_BATCH
/* Receive slots with GRO on: each may hold a train of up to 64 KiB. */
#define RX_GRO_SLOTS 8
/* Datagrams taken per service pass (a GRO train counts as what it
   holds), so that a pass's events and buffers stay small. */
#define RX_PASS (RX_BATCH * 8)
/* Received slots wait in the driver while the app has this many events
   to take (deliver_held). */
#define RX_EVENT_LIMIT 4096

struct parley_host {
    pl_core *core;
    pl_os_udp sock;
    pl_os_poller *poller;
    pl_os_wakeup *wake;
    atomic_int interrupted;
    parley_sim *sim_out;
    parley_sim *sim_in;
    size_t buf_cap; /* the longest datagram we send or accept */
    uint8_t *mem;   /* rx and tx buffers in one block */
    size_t rx_n;    /* receive slots in use (rx_layout) */
    size_t rx_cap;  /* bytes per receive slot */
    size_t rx_step; /* bytes from one slot to the next */
    parley_datagram rx[RX_BATCH];
    size_t rx_seg[RX_BATCH]; /* GRO segment size per slot, 0: one datagram */
    size_t rx_pos, rx_got;   /* slots rx[rx_pos..rx_got) not handed in */
    parley_datagram tx[TX_BATCH];
    size_t tx_n;    /* datagrams filled in tx */
    size_t tx_off;  /* the first not yet sent */
    int want_out;   /* the socket was full: poll for writability */
    int rx_drained; /* the last receive left the socket empty */
};

static const char *const g_reason_names[] = {
    "none",  "graceful", "timeout", "kicked",          "rejected", "protocol",
    "local", "version",  "full",    "connect-timeout", "security", "overload",
};

const char *
parley_reason_name(parley_reason reason)
{
    size_t n = sizeof g_reason_names / sizeof g_reason_names[0];
    if ((size_t)reason >= n) {
        return "unknown";
    }
    return g_reason_names[reason];
}

/* Wall-clock seconds for token expiry (the C library's clock). */
static uint64_t
unix_now(void *user)
{
    (void)user;
    time_t t = time(NULL);
    return t > 0 ? (uint64_t)t : 0;
}

static int
os_random(void *user, void *buf, size_t len)
{
    (void)user;
    return pl_os_random(buf, len);
}

static int
open_socket(parley_host *h, const parley_host_config *cfg)
{
    parley_addr bind;
    const char *text = cfg->bind ? cfg->bind : "0.0.0.0:0";
    int rc = parley_addr_resolve(text, 0, PARLEY_AF_UNSPEC, &bind);
    if (rc != PARLEY_OK) {
        return rc;
    }
    int flags = 0;
    static const uint8_t any6[16];
    if (bind.family == PARLEY_AF_INET6 && memcmp(bind.ip, any6, 16) == 0) {
        flags |= PARLEY_UDP_DUALSTACK;
    }
    if (cfg->max_mtu > cfg->mtu) {
        flags |= PL_OS_UDP_PMTU_PROBE;
    }
    rc = pl_os_udp_open(&bind, flags, &h->sock);
    if (rc == PARLEY_OK) {
        pl_os_udp_offload(&h->sock, PL_OS_UDP_GSO | PL_OS_UDP_GRO);
    }
    return rc;
}

/* Receive slots: one datagram of at most buf_cap bytes each, or, with
   GRO on, fewer slots each large enough for a coalesced train (the
   memory is only touched as far as datagrams fill it). All receive
   buffer sizing is here. */
static void
rx_layout(parley_host *h)
{
    h->rx_n = h->sock.gro ? RX_GRO_SLOTS : RX_BATCH;
    h->rx_cap = h->sock.gro ? PL_OS_UDP_TRAIN_MAX : h->buf_cap;
    /* Slots 64 KiB apart would all start in the same cache sets. */
    h->rx_step = h->rx_cap + (h->sock.gro ? 19 * 64 : 0);
}

static int
alloc_buffers(parley_host *h, const parley_host_config *cfg)
{
    /* Room for the largest datagram we accept (max_mtu when probing, else
       the MTU) and for a padded handshake packet; anything longer is not
       parley and is dropped truncated. With probing on loopback that is
       64 KiB a slot: the pages are only touched (resident) as large
       datagrams actually arrive. */
    size_t cap = cfg->mtu > 1500 ? cfg->mtu : 1500;
    if (cfg->max_mtu > cap) {
        cap = cfg->max_mtu;
    }
    h->buf_cap = cap + 64;
    rx_layout(h);
    size_t rx_bytes = h->rx_step * h->rx_n;
    h->mem = pl_malloc(rx_bytes + h->buf_cap * TX_BATCH);
    if (!h->mem) {
        return PARLEY_ENOMEM;
    }
    for (size_t i = 0; i < h->rx_n; i++) {
        h->rx[i].data = h->mem + i * h->rx_step;
    }
    for (size_t i = 0; i < TX_BATCH; i++) {
        h->tx[i].data = h->mem + rx_bytes + i * h->buf_cap;
    }
    return PARLEY_OK;
}

static int
setup_io(parley_host *h)
{
    int rc = pl_os_poller_create(PL_OS_POLLER_DEFAULT, &h->poller);
    if (rc == PARLEY_OK) {
        rc = pl_os_wakeup_create(PL_OS_WAKEUP_DEFAULT, &h->wake);
    }
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_add(h->poller, h->sock.fd, PL_OS_POLL_IN, h);
    }
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_add(h->poller, pl_os_wakeup_fd(h->wake),
                              PL_OS_POLL_IN, h->wake);
    }
    return rc;
}

void
parley_host_config_init(parley_host_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->bind = "0.0.0.0:0";
    cfg->accept_incoming = 1;
    cfg->max_peers = 64;
    cfg->channel_count = 2;
    for (size_t i = 0; i < PARLEY_MAX_CHANNELS; i++) {
        cfg->channel_modes[i] = PARLEY_RELIABLE_ORDERED;
    }
    cfg->channel_modes[1] = PARLEY_UNRELIABLE_SEQUENCED;
    cfg->mtu = 1200;
    cfg->max_mtu = 65507;
    cfg->max_message = 64u << 20;
    cfg->connect_timeout_ms = 5000;
    cfg->ping_interval_ms = 250;
    cfg->timeout_ms = 5000;
    cfg->disconnect_timeout_ms = 3000;
    cfg->recv_window = 16u << 20;
    cfg->peer_memory = (size_t)128 << 20;
    cfg->host_memory = (size_t)1 << 30;
    cfg->encrypt = 1;
    cfg->handshake_rate = 50;
}

int
parley_host_create(const parley_host_config *cfg, parley_host **out)
{
    if (!cfg || !out) {
        return PARLEY_EINVAL;
    }
    parley_host *h = pl_calloc(1, sizeof *h);
    if (!h) {
        return PARLEY_ENOMEM;
    }
    h->sock.fd = -1;
    parley_host_config ccfg = *cfg;
    if (!ccfg.unix_time) {
        ccfg.unix_time = unix_now;
        ccfg.unix_time_user = NULL;
    }
    int rc = pl_core_create(&ccfg, os_random, NULL, pl_os_now_us(), &h->core);
    if (rc == PARLEY_OK) {
        rc = open_socket(h, cfg);
    }
    if (rc == PARLEY_OK) {
        rc = alloc_buffers(h, cfg);
    }
    if (rc == PARLEY_OK) {
        rc = setup_io(h);
    }
    if (rc != PARLEY_OK) {
        parley_host_destroy(h);
        return rc;
    }
    *out = h;
    return PARLEY_OK;
}

/* Sends tx[tx_off..tx_n). Returns nonzero when the socket is full. */
static int
send_pending(parley_host *h)
{
    while (h->tx_off < h->tx_n) {
        size_t sent = 0;
        int rc = pl_os_udp_send_gso(&h->sock, h->tx + h->tx_off,
                                    h->tx_n - h->tx_off, &sent);
        if (rc == PARLEY_EAGAIN) {
            return 1;
        }
        if (rc != PARLEY_OK) {
            /* UDP: an undeliverable datagram is a lost one. One refused
               for its size may be a path-MTU probe: the engine fails it
               at once rather than waiting for its timeout. */
            const parley_datagram *d = &h->tx[h->tx_off];
            pl_core_on_send_error(h->core, pl_os_now_us(), &d->addr, d->len,
                                  rc);
            sent = 1;
        }
        h->tx_off += sent;
    }
    h->tx_n = 0;
    h->tx_off = 0;
    return 0;
}

/* Moves what the outgoing simulator lets through into tx. */
static void
drain_sim_out(parley_host *h, uint64_t now)
{
    while (h->tx_n < TX_BATCH) {
        parley_datagram *d = &h->tx[h->tx_n];
        size_t len = 0;
        if (parley_sim_pop(h->sim_out, now, d->data, h->buf_cap, &len, NULL,
                           &d->addr) != PARLEY_OK) {
            return;
        }
        d->len = len;
        h->tx_n++;
    }
}

static void
pump_out(parley_host *h, uint64_t now)
{
    for (;;) {
        if (send_pending(h)) {
            break;
        }
        while (h->tx_n < TX_BATCH) {
            parley_datagram *d = &h->tx[h->tx_n];
            size_t len = 0;
            if (pl_core_next_datagram(h->core, now, d->data, h->buf_cap, &len,
                                      &d->addr) != PARLEY_OK) {
                break;
            }
            if (h->sim_out) {
                parley_sim_push(h->sim_out, now, d->data, len, NULL, &d->addr);
                continue;
            }
            d->len = len;
            h->tx_n++;
        }
        if (h->sim_out) {
            drain_sim_out(h, now);
        }
        if (h->tx_n == 0) {
            break;
        }
    }
    int want = h->tx_off < h->tx_n;
    if (want != h->want_out) {
        unsigned ev = PL_OS_POLL_IN | (want ? PL_OS_POLL_OUT : 0u);
        pl_os_poller_mod(h->poller, h->sock.fd, ev, h);
        h->want_out = want;
    }
}

static void
deliver_in(parley_host *h, uint64_t now, const parley_datagram *d)
{
    if (d->truncated || d->len > h->buf_cap) {
        return; /* longer than anything parley sends: not ours */
    }
    if (h->sim_in) {
        parley_sim_push(h->sim_in, now, d->data, d->len, &d->addr, NULL);
        return;
    }
    pl_core_on_datagram(h->core, now, &d->addr, d->data, d->len);
}

/* Hands on one received slot: a datagram, or a GRO train cut every seg
   bytes (the last piece may be shorter). Returns the datagrams in it. */
static size_t
deliver_slot(parley_host *h, uint64_t now, const parley_datagram *d, size_t seg)
{
    if (seg == 0 || d->truncated) {
        deliver_in(h, now, d);
        return 1;
    }
    parley_datagram piece = *d;
    size_t n = 0;
    for (size_t off = 0; off < d->len; off += seg, n++) {
        piece.data = (uint8_t *)d->data + off;
        piece.len = d->len - off < seg ? d->len - off : seg;
        deliver_in(h, now, &piece);
    }
    return n;
}

/*
 * Hands the received slots still held to the engine, stopping while the
 * app has RX_EVENT_LIMIT events to take: one 64 KiB datagram can carry
 * 2,000 small messages, and letting tens of thousands of them wait at
 * once sends every record to malloc and out of the cache. The rest are
 * handed in on the next service call. Adds the datagrams handed in to
 * *taken; returns 0 when some are left.
 */
static int
deliver_held(parley_host *h, uint64_t now, int all, size_t *taken)
{
    while (h->rx_pos < h->rx_got) {
        if (!all && pl_core_event_count(h->core) >= RX_EVENT_LIMIT) {
            h->rx_drained = 0; /* come back here before waiting */
            return 0;
        }
        size_t i = h->rx_pos++;
        *taken += deliver_slot(h, now, &h->rx[i], h->rx_seg[i]);
    }
    h->rx_pos = h->rx_got = 0;
    return 1;
}

static void
pump_in(parley_host *h, uint64_t now)
{
    size_t taken = 0, unsent = 0;
    /* A simulator queues what it is handed, so it takes everything. */
    int all = h->sim_in != NULL;
    h->rx_drained = 0;
    if (!deliver_held(h, now, all, &taken)) {
        return;
    }
    while (taken < RX_PASS) {
        for (size_t i = 0; i < h->rx_n; i++) {
            h->rx[i].len = h->rx_cap;
        }
        size_t got = 0;
        if (pl_os_udp_recv_gro(&h->sock, h->rx, h->rx_n, h->rx_seg, &got) !=
            PARLEY_OK) {
            h->rx_drained = 1;
            break;
        }
        size_t before = taken;
        h->rx_got = got;
        if (!deliver_held(h, now, all, &taken)) {
            return;
        }
        unsent += taken - before;
        if (got < h->rx_n) {
            h->rx_drained = 1; /* a short batch: the socket was empty */
            break;
        }
        if (unsent < RX_BATCH) {
            continue;
        }
        /* Send every RX_BATCH datagrams or so: the engine's fixed ring
           of handshake replies holds fewer than a pass's worth, so a
           burst of connects would otherwise lose most of its replies.
           The clock is read again so that nothing sent here looks
           acknowledged in the same microsecond. */
        unsent = 0;
        now = pl_os_now_us();
        pump_out(h, now);
        now = pl_os_now_us();
    }
    if (!h->sim_in) {
        return;
    }
    parley_datagram *d = &h->rx[0];
    size_t len = 0;
    while (parley_sim_pop(h->sim_in, now, d->data, h->buf_cap, &len, &d->addr,
                          NULL) == PARLEY_OK) {
        pl_core_on_datagram(h->core, now, &d->addr, d->data, len);
    }
}

/* The earliest time anything inside the host needs attention. */
static uint64_t
next_due(const parley_host *h)
{
    uint64_t t = pl_core_next_wakeup(h->core);
    if (h->sim_out) {
        uint64_t s = parley_sim_next_due_us(h->sim_out);
        t = s < t ? s : t;
    }
    if (h->sim_in) {
        uint64_t s = parley_sim_next_due_us(h->sim_in);
        t = s < t ? s : t;
    }
    return t;
}

static int
wait_ms_until(uint64_t now, uint64_t when)
{
    if (when <= now) {
        return 0;
    }
    uint64_t ms = (when - now + 999) / 1000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* Waits for the socket, the wakeup or the deadline; a readable socket
   (or a failed wait) clears rx_drained. */
static void
wait_io(parley_host *h, uint64_t now, uint64_t until)
{
    pl_os_poll_event evs[4];
    size_t got = 0;
    /* Microseconds, not milliseconds: pacing gaps are often shorter. */
    int64_t us = until == UINT64_MAX ? -1
                 : until <= now      ? 0
                                     : (int64_t)(until - now);
    if (pl_os_poller_wait_us(h->poller, us, evs, 4, &got) != PARLEY_OK) {
        h->rx_drained = 0;
        return;
    }
    for (size_t i = 0; i < got; i++) {
        if (evs[i].user == h->wake) {
            pl_os_wakeup_drain(h->wake);
        } else if (evs[i].events & ~(unsigned)PL_OS_POLL_OUT) {
            h->rx_drained = 0;
        }
    }
}

int
parley_host_service(parley_host *h, int timeout_ms, parley_event *ev)
{
    if (!h || !ev) {
        return PARLEY_EINVAL;
    }
    uint64_t now = pl_os_now_us();
    uint64_t deadline =
        timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * 1000;
    for (;;) {
        if (pl_core_poll_event(h->core, ev) == PARLEY_OK) {
            return 1;
        }
        /* After a receive that drained the socket, a call that may wait
           goes to the poller first: it returns at once if anything came
           since, and saves a receive that would only say EAGAIN. The
           last pass before the deadline always receives. */
        if (!h->rx_drained || now >= deadline) {
            pump_in(h, now);
        }
        pump_out(h, now);
        if (pl_core_poll_event(h->core, ev) == PARLEY_OK) {
            return 1;
        }
        if (atomic_exchange(&h->interrupted, 0)) {
            return 0;
        }
        now = pl_os_now_us();
        if (now >= deadline) {
            return 0;
        }
        if (h->rx_drained) { /* else a full batch: more is waiting */
            /* About to sleep: the app has had its events and sent its
               replies, so send the ACKs still owed now rather than wake
               up for each one later. */
            if (pl_core_flush_acks(h->core, now)) {
                pump_out(h, now);
            }
            uint64_t due = next_due(h);
            wait_io(h, now, due < deadline ? due : deadline);
            now = pl_os_now_us();
        }
    }
}

int
parley_host_check_events(parley_host *h, parley_event *ev)
{
    if (!h || !ev) {
        return PARLEY_EINVAL;
    }
    return pl_core_poll_event(h->core, ev) == PARLEY_OK ? 1 : 0;
}

void
parley_event_release(parley_host *h, parley_event *ev)
{
    if (h && ev) {
        pl_core_release_event(h->core, ev);
    }
}

int
parley_host_flush(parley_host *h)
{
    if (!h) {
        return PARLEY_EINVAL;
    }
    pump_out(h, pl_os_now_us());
    return PARLEY_OK;
}

void
parley_host_destroy(parley_host *h)
{
    if (!h) {
        return;
    }
    if (h->core && h->sock.fd >= 0) {
        /* Best effort: tell every peer, send what fits, do not wait. */
        parley_sim *so = h->sim_out;
        h->sim_out = NULL;
        pl_core_disconnect_all(h->core, pl_os_now_us());
        pump_out(h, pl_os_now_us());
        h->sim_out = so;
    }
    pl_core_destroy(h->core);
    parley_sim_destroy(h->sim_out);
    parley_sim_destroy(h->sim_in);
    pl_os_poller_destroy(h->poller);
    pl_os_wakeup_destroy(h->wake);
    pl_os_close(h->sock.fd);
    pl_free(h->mem);
    pl_free(h);
}

int
parley_host_local_addr(const parley_host *h, parley_addr *out)
{
    if (!h || !out) {
        return PARLEY_EINVAL;
    }
    return pl_os_sock_local_addr(h->sock.fd, out);
}

/* The family a destination must resolve to for this host's socket. */
static parley_family
connect_family(const parley_host *h)
{
    if (h->sock.family == PARLEY_AF_INET) {
        return PARLEY_AF_INET;
    }
    return h->sock.dualstack ? PARLEY_AF_UNSPEC : PARLEY_AF_INET6;
}

int
parley_host_connect(parley_host *h, const char *addr, const void *data,
                    size_t len, parley_peer *out)
{
    if (!h || !addr || !out) {
        return PARLEY_EINVAL;
    }
    parley_addr to;
    int rc = parley_addr_resolve(addr, 0, connect_family(h), &to);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return parley_host_connect_addr(h, &to, data, len, out);
}

int
parley_host_connect_addr(parley_host *h, const parley_addr *addr,
                         const void *data, size_t len, parley_peer *out)
{
    if (!h || !addr || !out || (len > 0 && !data)) {
        return PARLEY_EINVAL;
    }
    if (h->sock.family == PARLEY_AF_INET && addr->family != PARLEY_AF_INET) {
        return PARLEY_EAFNOSUPPORT;
    }
    if (h->sock.family == PARLEY_AF_INET6 && !h->sock.dualstack &&
        addr->family != PARLEY_AF_INET6) {
        return PARLEY_EAFNOSUPPORT;
    }
    return pl_core_connect(h->core, pl_os_now_us(), addr, data, len, out);
}

/* Sends at once when the caller asked for it. */
static int
after_send(parley_host *h, int rc, uint32_t flags, uint64_t now)
{
    if (rc == PARLEY_OK && (flags & PARLEY_SEND_FLUSH)) {
        pump_out(h, now);
    }
    return rc;
}

int
parley_peer_send(parley_host *h, parley_peer peer, uint8_t channel,
                 const void *data, size_t len, uint32_t flags)
{
    if (!h || (len > 0 && !data)) {
        return PARLEY_EINVAL;
    }
    uint64_t now = pl_os_now_us();
    int rc =
        pl_core_send(h->core, now, peer, channel, data, len, flags, NULL, NULL);
    return after_send(h, rc, flags, now);
}

int
parley_peer_send_owned(parley_host *h, parley_peer peer, uint8_t channel,
                       void *data, size_t len, uint32_t flags,
                       parley_release_fn release, void *user)
{
    if (!h || !release || (len > 0 && !data)) {
        return PARLEY_EINVAL;
    }
    uint64_t now = pl_os_now_us();
    int rc = pl_core_send(h->core, now, peer, channel, data, len, flags,
                          release, user);
    return after_send(h, rc, flags, now);
}

int
parley_peer_disconnect(parley_host *h, parley_peer peer, uint32_t app_code)
{
    if (!h) {
        return PARLEY_EINVAL;
    }
    return pl_core_disconnect(h->core, pl_os_now_us(), peer, app_code, 0);
}

int
parley_peer_disconnect_now(parley_host *h, parley_peer peer, uint32_t app_code)
{
    if (!h) {
        return PARLEY_EINVAL;
    }
    int rc = pl_core_disconnect(h->core, pl_os_now_us(), peer, app_code, 1);
    if (rc == PARLEY_OK) {
        pump_out(h, pl_os_now_us()); /* the one DISCONNECT leaves now */
    }
    return rc;
}

int
parley_peer_get_stats(parley_host *h, parley_peer peer, parley_peer_stats *out)
{
    if (!h || !out) {
        return PARLEY_EINVAL;
    }
    return pl_core_peer_stats(h->core, peer, out);
}

parley_peer_state
parley_peer_get_state(parley_host *h, parley_peer peer)
{
    if (!h) {
        return PARLEY_PEER_DISCONNECTED;
    }
    return pl_core_peer_state(h->core, peer);
}

int
parley_host_fd(const parley_host *h)
{
    return h ? h->sock.fd : PARLEY_EINVAL;
}

int
parley_host_next_timeout_ms(parley_host *h)
{
    if (!h) {
        return PARLEY_EINVAL;
    }
    if (h->tx_off < h->tx_n) {
        return 1; /* the socket was full: try again shortly */
    }
    if (h->rx_pos < h->rx_got) {
        return 0; /* received datagrams wait for the app's next call */
    }
    uint64_t due = next_due(h);
    if (due == UINT64_MAX) {
        return -1;
    }
    return wait_ms_until(pl_os_now_us(), due);
}

int
parley_host_interrupt(parley_host *h)
{
    if (!h) {
        return PARLEY_EINVAL;
    }
    atomic_store(&h->interrupted, 1);
    return pl_os_wakeup_signal(h->wake);
}

/* Hands on everything a simulator still holds, due or not. Outgoing
   datagrams that do not fit the socket buffer now are lost, as on a
   real link; the reliability layer repairs that. */
static void
flush_sim(parley_host *h, parley_sim *sim, int outgoing)
{
    uint64_t now = pl_os_now_us();
    size_t taken = 0;
    deliver_held(h, now, 1, &taken); /* rx[0] is about to be reused */
    uint8_t *buf = h->rx[0].data;
    parley_addr from, to;
    size_t len = 0;
    if (outgoing) {
        send_pending(h);
    }
    while (parley_sim_pop(sim, UINT64_MAX, buf, h->buf_cap, &len, &from, &to) ==
           PARLEY_OK) {
        if (!outgoing) {
            pl_core_on_datagram(h->core, now, &from, buf, len);
        } else if (h->tx_n == 0) {
            pl_os_udp_send(&h->sock, &to, buf, len);
        }
    }
}

/* Replaces one direction's simulator, or takes it off (cfg NULL). */
static int
swap_sim(parley_host *h, parley_sim **slot, const parley_sim_config *cfg,
         int outgoing)
{
    if (cfg && *slot) {
        return parley_sim_configure(*slot, cfg);
    }
    if (cfg) {
        return parley_sim_create(cfg, slot);
    }
    parley_sim *old = *slot;
    *slot = NULL;
    if (old) {
        flush_sim(h, old, outgoing);
        parley_sim_destroy(old);
    }
    return PARLEY_OK;
}

int
parley_host_set_sim(parley_host *h, const parley_sim_config *outgoing,
                    const parley_sim_config *incoming)
{
    if (!h) {
        return PARLEY_EINVAL;
    }
    int rc = swap_sim(h, &h->sim_out, outgoing, 1);
    if (rc == PARLEY_OK) {
        rc = swap_sim(h, &h->sim_in, incoming, 0);
    }
    return rc;
}
