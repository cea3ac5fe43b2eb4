/*
 * The session transport over parley's reliable UDP host: channel 0
 * reliable-ordered carries every control message and reliable event,
 * channel 1 unreliable-sequenced carries unreliable events.
 */
#include "session/transport.h"

#include <string.h>

#include "parley/error.h"

enum { CH_RELIABLE = 0, CH_UNRELIABLE = 1 };

static int
udp_service(void *self, int timeout_ms, pl_st_event *ev)
{
    parley_host *h = self;
    parley_event e;
    int rc = parley_host_service(h, timeout_ms, &e);

    if (rc <= 0) {
        return rc;
    }
    memset(ev, 0, sizeof *ev);
    ev->conn = e.peer;
    ev->addr = e.addr;
    ev->reason = e.reason;
    ev->app_code = e.app_code;
    ev->raw_ = e;
    switch (e.type) {
    case PARLEY_EVENT_CONNECT:
        ev->type = PL_ST_CONNECT;
        break;
    case PARLEY_EVENT_DISCONNECT:
        ev->type = PL_ST_DISCONNECT;
        break;
    case PARLEY_EVENT_CONNECT_FAILED:
        ev->type = PL_ST_CONNECT_FAILED;
        break;
    case PARLEY_EVENT_RECEIVE:
        ev->type = PL_ST_RECEIVE;
        ev->data = e.data;
        ev->len = e.len;
        ev->reliable = e.delivery == PARLEY_RELIABLE_ORDERED ||
                       e.delivery == PARLEY_RELIABLE_UNORDERED;
        break;
    default:
        parley_event_release(h, &e);
        ev->type = PL_ST_NONE;
        break;
    }
    return 1;
}

static void
udp_release(void *self, pl_st_event *ev)
{
    if (ev->type == PL_ST_RECEIVE) {
        parley_event_release(self, &ev->raw_);
    }
    ev->type = PL_ST_NONE;
}

static int
udp_connect(void *self, const parley_addr *to, uint64_t *conn)
{
    parley_peer p = PARLEY_PEER_NONE;
    int rc = parley_host_connect_addr(self, to, NULL, 0, &p);

    if (rc == PARLEY_OK) {
        *conn = p;
    }
    return rc;
}

static int
udp_send(void *self, uint64_t conn, const void *data, size_t len, int reliable,
         int now)
{
    uint32_t flags = now ? PARLEY_SEND_FLUSH : 0;

    return parley_peer_send(self, conn, reliable ? CH_RELIABLE : CH_UNRELIABLE,
                            data, len, flags);
}

static int
udp_flush(void *self)
{
    return parley_host_flush(self);
}

static int
udp_disconnect(void *self, uint64_t conn, uint32_t code)
{
    return parley_peer_disconnect(self, conn, code);
}

static int
udp_disconnect_now(void *self, uint64_t conn, uint32_t code)
{
    return parley_peer_disconnect_now(self, conn, code);
}

static int
udp_stats(void *self, uint64_t conn, parley_peer_stats *out)
{
    return parley_peer_get_stats(self, conn, out);
}

static int
udp_local_addr(void *self, parley_addr *out)
{
    return parley_host_local_addr(self, out);
}

static int
udp_fd(void *self)
{
    return parley_host_fd(self);
}

static int
udp_next_timeout(void *self)
{
    return parley_host_next_timeout_ms(self);
}

static int
udp_interrupt(void *self)
{
    return parley_host_interrupt(self);
}

static int
udp_set_sim(void *self, const parley_sim_config *out,
            const parley_sim_config *in)
{
    return parley_host_set_sim(self, out, in);
}

static void
udp_destroy(void *self)
{
    parley_host_destroy(self);
}

static const pl_st_ops udp_ops = {
    "udp",         udp_service,    udp_release,    udp_connect,
    udp_send,      udp_flush,      udp_disconnect, udp_disconnect_now,
    udp_stats,     udp_local_addr, udp_fd,         udp_next_timeout,
    udp_interrupt, udp_set_sim,    udp_destroy,
};

int
pl_st_udp_open(const pl_st_config *cfg, pl_st *out)
{
    parley_host_config hc;
    parley_host *h = NULL;
    int rc;

    if (cfg->udp != NULL) {
        hc = *cfg->udp;
    } else {
        parley_host_config_init(&hc);
    }
    hc.bind = cfg->bind;
    hc.accept_incoming = cfg->accept_incoming;
    if (cfg->max_conns != 0) {
        hc.max_peers = cfg->max_conns;
    }
    if (cfg->max_message != 0 && cfg->max_message < hc.max_message) {
        hc.max_message = cfg->max_message;
    }
    if (cfg->connect_timeout_ms != 0) {
        hc.connect_timeout_ms = cfg->connect_timeout_ms;
    }
    if (hc.channel_count < 2) {
        hc.channel_count = 2;
    }
    hc.channel_modes[CH_RELIABLE] = PARLEY_RELIABLE_ORDERED;
    hc.channel_modes[CH_UNRELIABLE] = PARLEY_UNRELIABLE_SEQUENCED;
    rc = parley_host_create(&hc, &h);
    if (rc != PARLEY_OK) {
        return rc;
    }
    out->ops = &udp_ops;
    out->self = h;
    return PARLEY_OK;
}
