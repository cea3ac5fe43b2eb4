/*
 * Network objects (viz.addNetwork): connectionless UDP sockets on one or
 * more listening ports, mailboxes that send to one host, and NETWORK or
 * RAW events for what arrives. A network-object datagram is a 4-byte
 * magic, the sender's computer name and a MessagePack payload; anything
 * else is RAW.
 */
#include "parley/netobj.h"

#include <stdio.h>
#include <string.h>

#include "parley/udp.h"
#include "platform/platform.h"
#include "session/session_int.h"
#include "util/alloc.h"
#include "util/log.h"

#define MOD "netobj"
/* The largest UDP payload over IPv4. */
#define UDP_MAX 65507

static const uint8_t magic[4] = {0xc1, 0x50, 0x4e, 0x01};

typedef struct slot {
    parley_udp *udp;
    uint16_t port;
    uint8_t family;
    uint8_t dual;
} slot;

struct parley_net {
    char bind_addr[PARLEY_ADDR_STRLEN];
    char sender[PARLEY_NAME_MAX + 1];
    size_t max_datagram;
    uint32_t max_ports;
    slot *slots;
    uint32_t nslots;
    parley_udp *send4, *send6; /* ephemeral, for families nobody listens on */
    pl_os_poller *poller;
    uint8_t *rx;
    uint8_t *tx;
    uint32_t rr;
    parley_net_handler fn;
    void *user;
};

struct parley_mailbox {
    parley_net *net;
    parley_addr to;
};

void
parley_net_config_init(parley_net_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->bind_addr = "0.0.0.0";
    cfg->port = PARLEY_NET_PORT;
    cfg->listen = 1;
    cfg->max_datagram = UDP_MAX;
    cfg->max_ports = 16;
}

int
parley_net_create(const parley_net_config *cfg, parley_net **out)
{
    parley_net *net;
    int rc;

    if (cfg == NULL || out == NULL || cfg->bind_addr == NULL ||
        strlen(cfg->bind_addr) >= PARLEY_ADDR_STRLEN - 8 ||
        cfg->max_datagram == 0 || cfg->max_datagram > UDP_MAX ||
        cfg->max_ports == 0 || cfg->max_ports > 1024 ||
        (cfg->sender != NULL &&
         !pl_sess_name_ok(cfg->sender, strlen(cfg->sender), PARLEY_NAME_MAX))) {
        return PARLEY_EINVAL;
    }
    net = pl_calloc(1, sizeof *net);
    if (net == NULL) {
        return PARLEY_ENOMEM;
    }
    memcpy(net->bind_addr, cfg->bind_addr, strlen(cfg->bind_addr) + 1);
    if (cfg->sender != NULL) {
        pl_sess_copy_name(net->sender, sizeof net->sender, cfg->sender,
                          strlen(cfg->sender));
    } else {
        pl_sess_hostname(net->sender, sizeof net->sender);
    }
    net->max_datagram = cfg->max_datagram;
    net->max_ports = cfg->max_ports;
    net->slots = pl_calloc(cfg->max_ports, sizeof *net->slots);
    net->rx = pl_malloc(cfg->max_datagram);
    net->tx = pl_malloc(UDP_MAX);
    rc = net->slots && net->rx && net->tx ? PARLEY_OK : PARLEY_ENOMEM;
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_create(PL_OS_POLLER_DEFAULT, &net->poller);
    }
    if (rc == PARLEY_OK && cfg->listen) {
        rc = parley_net_listen(net, cfg->port, NULL);
    }
    if (rc != PARLEY_OK) {
        parley_net_destroy(net);
        return rc;
    }
    *out = net;
    return PARLEY_OK;
}

void
parley_net_destroy(parley_net *net)
{
    if (net == NULL) {
        return;
    }
    for (uint32_t i = 0; i < net->nslots; i++) {
        if (net->poller) {
            pl_os_poller_del(net->poller, parley_udp_fd(net->slots[i].udp));
        }
        parley_udp_close(net->slots[i].udp);
    }
    parley_udp_close(net->send4);
    parley_udp_close(net->send6);
    pl_os_poller_destroy(net->poller);
    pl_free(net->slots);
    pl_free(net->rx);
    pl_free(net->tx);
    pl_free(net);
}

/* ---- listening ports ---------------------------------------------------- */

static int
bind_address(const parley_net *net, uint16_t port, parley_addr *out)
{
    char text[PARLEY_ADDR_STRLEN + 8];
    const char *a = net->bind_addr;

    if (strchr(a, ':') != NULL && a[0] != '[') {
        snprintf(text, sizeof text, "[%s]:%u", a, (unsigned)port);
    } else {
        snprintf(text, sizeof text, "%s:%u", a, (unsigned)port);
    }
    return parley_addr_parse(text, 0, out);
}

static int
is_wildcard6(const parley_addr *a)
{
    static const uint8_t zero[16];
    return a->family == PARLEY_AF_INET6 && memcmp(a->ip, zero, 16) == 0;
}

int
parley_net_listen(parley_net *net, uint16_t port, uint16_t *actual)
{
    parley_addr a;
    parley_udp *udp = NULL;
    slot *s;
    int rc;

    if (net == NULL) {
        return PARLEY_EINVAL;
    }
    for (uint32_t i = 0; port != 0 && i < net->nslots; i++) {
        if (net->slots[i].port == port) {
            return PARLEY_EEXIST;
        }
    }
    if (net->nslots >= net->max_ports) {
        return PARLEY_EFULL;
    }
    rc = bind_address(net, port, &a);
    if (rc == PARLEY_OK) {
        rc = parley_udp_open(&a, is_wildcard6(&a) ? PARLEY_UDP_DUALSTACK : 0,
                             &udp);
    }
    if (rc == PARLEY_OK) {
        rc = parley_udp_local_addr(udp, &a);
    }
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_add(net->poller, parley_udp_fd(udp), PL_OS_POLL_IN,
                              NULL);
    }
    if (rc != PARLEY_OK) {
        parley_udp_close(udp);
        return rc;
    }
    s = &net->slots[net->nslots++];
    s->udp = udp;
    s->port = a.port;
    s->family = a.family;
    s->dual = is_wildcard6(&a);
    if (actual != NULL) {
        *actual = a.port;
    }
    return PARLEY_OK;
}

int
parley_net_unlisten(parley_net *net, uint16_t port)
{
    for (uint32_t i = 0; net != NULL && i < net->nslots; i++) {
        if (net->slots[i].port == port) {
            pl_os_poller_del(net->poller, parley_udp_fd(net->slots[i].udp));
            parley_udp_close(net->slots[i].udp);
            net->slots[i] = net->slots[--net->nslots];
            return PARLEY_OK;
        }
    }
    return PARLEY_ENOENT;
}

size_t
parley_net_ports(parley_net *net, uint16_t *ports, size_t cap)
{
    for (uint32_t i = 0;
         net != NULL && ports != NULL && i < net->nslots && i < cap; i++) {
        ports[i] = net->slots[i].port;
    }
    return net ? net->nslots : 0;
}

/* ---- mailboxes -------------------------------------------------------------
 */

int
parley_net_add(parley_net *net, const char *host, parley_mailbox **out)
{
    parley_mailbox *mb;
    parley_addr to;
    int rc;

    if (net == NULL || host == NULL || out == NULL) {
        return PARLEY_EINVAL;
    }
    rc = parley_addr_resolve(host, PARLEY_NET_PORT, PARLEY_AF_UNSPEC, &to);
    if (rc != PARLEY_OK) {
        return rc;
    }
    mb = pl_calloc(1, sizeof *mb);
    if (mb == NULL) {
        return PARLEY_ENOMEM;
    }
    mb->net = net;
    mb->to = to;
    *out = mb;
    return PARLEY_OK;
}

void
parley_mailbox_destroy(parley_mailbox *mb)
{
    pl_free(mb);
}

int
parley_mailbox_port(parley_mailbox *mb, uint16_t port)
{
    if (mb == NULL || port == 0) {
        return PARLEY_EINVAL;
    }
    mb->to.port = port;
    return PARLEY_OK;
}

int
parley_mailbox_addr(const parley_mailbox *mb, parley_addr *out)
{
    if (mb == NULL || out == NULL) {
        return PARLEY_EINVAL;
    }
    *out = mb->to;
    return PARLEY_OK;
}

/* A socket that can reach family: a listening one (so that a reply to
   our source port is heard), else an ephemeral one opened once. */
static int
sender_socket(parley_net *net, uint8_t family, parley_udp **out)
{
    parley_udp **eph = family == PARLEY_AF_INET6 ? &net->send6 : &net->send4;
    parley_addr any;

    for (uint32_t i = 0; i < net->nslots; i++) {
        const slot *s = &net->slots[i];
        if (s->family == family || (s->dual && family == PARLEY_AF_INET)) {
            *out = s->udp;
            return PARLEY_OK;
        }
    }
    if (*eph == NULL) {
        int rc = parley_addr_parse(
            family == PARLEY_AF_INET6 ? "[::]:0" : "0.0.0.0:0", 0, &any);
        if (rc == PARLEY_OK) {
            rc = parley_udp_open(&any, 0, eph);
        }
        if (rc != PARLEY_OK) {
            return rc;
        }
    }
    *out = *eph;
    return PARLEY_OK;
}

int
parley_mailbox_send_raw(parley_mailbox *mb, const void *data, size_t len)
{
    parley_udp *udp;
    int rc;

    if (mb == NULL || (data == NULL && len != 0)) {
        return PARLEY_EINVAL;
    }
    if (len > UDP_MAX) {
        return PARLEY_EMSGSIZE;
    }
    rc = sender_socket(mb->net, mb->to.family, &udp);
    return rc == PARLEY_OK ? parley_udp_send(udp, &mb->to, data, len) : rc;
}

int
parley_mailbox_send(parley_mailbox *mb, parley_builder *payload)
{
    static const uint8_t empty[] = {0x92, 0x90, 0x80};
    const uint8_t *data = empty;
    size_t len = sizeof empty, name_len, hdr;
    parley_net *net;
    int rc;

    if (mb == NULL) {
        return PARLEY_EINVAL;
    }
    net = mb->net;
    if (payload != NULL) {
        rc = parley_builder_finish(payload, &data, &len);
        if (rc != PARLEY_OK) {
            return rc;
        }
    }
    name_len = strlen(net->sender);
    hdr = sizeof magic + 1 + name_len;
    if (len > UDP_MAX - hdr) {
        return PARLEY_EMSGSIZE;
    }
    memcpy(net->tx, magic, sizeof magic);
    net->tx[sizeof magic] = (uint8_t)name_len;
    memcpy(net->tx + sizeof magic + 1, net->sender, name_len);
    memcpy(net->tx + hdr, data, len);
    return parley_mailbox_send_raw(mb, net->tx, hdr + len);
}

/* ---- receiving
 * ---------------------------------------------------------------- */

/* Fills ev from the datagram in net->rx: NETWORK when it is a
   well-formed network-object message, RAW otherwise. */
static void
classify(parley_net *net, size_t len, parley_net_event *ev)
{
    const uint8_t *p = net->rx;
    size_t n;

    ev->type = PARLEY_NET_RAW;
    ev->sender = "";
    ev->data = p;
    ev->len = len;
    parley_payload_empty(&ev->payload);
    if (len < sizeof magic + 1 || memcmp(p, magic, sizeof magic) != 0) {
        return;
    }
    n = p[sizeof magic];
    if (n > PARLEY_NAME_MAX || len < sizeof magic + 1 + n ||
        !pl_utf8_valid((const char *)p + sizeof magic + 1, n, 0) ||
        parley_payload_parse(p + sizeof magic + 1 + n,
                             len - sizeof magic - 1 - n,
                             &ev->payload) != PARLEY_OK) {
        parley_payload_empty(&ev->payload);
        return;
    }
    /* The name is NUL-terminated in place: move it one byte back over
       its length byte, which is no longer needed. */
    memmove(net->rx + sizeof magic, p + sizeof magic + 1, n);
    net->rx[sizeof magic + n] = '\0';
    ev->sender = (const char *)net->rx + sizeof magic;
    ev->type = PARLEY_NET_NETWORK;
}

/* Tries each socket once, starting after the last that gave something. */
static int
receive_one(parley_net *net, parley_net_event *ev)
{
    /* Oversized datagrams are dropped; a bounded number per call, so a
       flood of them cannot keep the caller here. */
    int drops = 64;

    for (uint32_t i = 0; i < net->nslots; i++) {
        uint32_t k = (net->rr + i) % net->nslots;
        parley_addr from;
        size_t len = 0;
        int rc = parley_udp_recv(net->slots[k].udp, net->rx, net->max_datagram,
                                 &len, &from);

        if (rc == PARLEY_ETRUNC && drops-- > 0) {
            PL_LOG_WARN(MOD, "dropped a datagram over %zu bytes",
                        net->max_datagram);
            i--; /* the same socket may hold more (i wraps, then ++) */
            continue;
        }
        if (rc != PARLEY_OK) {
            continue;
        }
        net->rr = k + 1;
        memset(ev, 0, sizeof *ev);
        ev->addr = from;
        ev->port = net->slots[k].port;
        classify(net, len, ev);
        return 1;
    }
    return 0;
}

int
parley_net_on(parley_net *net, parley_net_handler fn, void *user)
{
    if (net == NULL) {
        return PARLEY_EINVAL;
    }
    net->fn = fn;
    net->user = user;
    return PARLEY_OK;
}

int
parley_net_service(parley_net *net, int timeout_ms, parley_net_event *ev)
{
    uint64_t end;

    if (net == NULL || ev == NULL) {
        return PARLEY_EINVAL;
    }
    end = parley_time_us() + (timeout_ms > 0 ? (uint64_t)timeout_ms : 0) * 1000;
    for (;;) {
        pl_os_poll_event pe[8];
        size_t got = 0;
        uint64_t now;
        int wait;

        while (receive_one(net, ev)) {
            if (net->fn == NULL) {
                return 1;
            }
            net->fn(net->user, ev);
        }
        now = parley_time_us();
        if (timeout_ms == 0 || (timeout_ms > 0 && now >= end)) {
            return 0;
        }
        wait = timeout_ms < 0 ? -1 : (int)((end - now + 999) / 1000);
        if (pl_os_poller_wait(net->poller, wait, pe, 8, &got) != PARLEY_OK) {
            return 0; /* a signal: let the caller look */
        }
    }
}
