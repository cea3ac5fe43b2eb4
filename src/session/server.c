/*
 * The session server (viznet.server): clients join with HELLO and are
 * welcomed under a unique name; their events are checked and handed to
 * the app, and send_all events are relayed to every client with the
 * sender's name. Kick and stop tell clients why with a BYE before the
 * transport's graceful disconnect. With serve_tcp one server holds a UDP
 * and a TCP transport and its client table spans both.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "platform/platform.h"
#include "session/session_int.h"
#include "util/alloc.h"
#include "util/log.h"

#define MOD "session"
/* How often pending (not yet named) connections are checked. */
#define SWEEP_US 100000
/* Suffixes tried to make a name unique. */
#define MAX_SUFFIX 100000
/* With serve_tcp, a TCP client's id is its connection id with this bit
   (transport ids keep a 32-bit generation above a slot, so it is free). */
#define TCP_TAG ((uint64_t)1 << 63)

typedef struct sclient {
    uint64_t id;   /* parley_client_id: the key in the table */
    uint64_t conn; /* the transport's connection id */
    size_t t;      /* which transport: index into tr */
    parley_addr addr;
    int active;  /* welcomed */
    int leaving; /* kicked or stopping: no more events to it */
    int left;    /* said BYE (leaving) itself */
    char name[PARLEY_NAME_MAX + 1];
    char kick_reason[PL_REASON_MAX + 1];
    uint64_t since_us;
    uint64_t events_in, events_out;
    pl_idmap announced;
} sclient;

struct parley_server {
    pl_st tr[2]; /* tr[0]: the configured transport; tr[1]: serve_tcp's */
    size_t ntr;
    size_t next_tr;     /* serve_tcp: which transport is asked first */
    pl_os_poller *poll; /* serve_tcp: waits on both transports' fds */
    pl_os_wakeup *wake; /* serve_tcp: interrupt's */
    atomic_int interrupted;
    size_t held_t; /* the transport held came from */
    parley_server_config cfg;
    char name[PARLEY_NAME_MAX + 1];
    pl_idmap clients; /* conn -> sclient */
    parley_event_table *events;
    pl_handlers handlers;
    pl_outbuf ob;
    pl_st_event held; /* the transport event the last event points into */
    uint64_t next_sweep_us;
    uint64_t unnamed_seq;
    size_t npending; /* connections not yet welcomed */
    int stopping;
    char ev_sender[PARLEY_NAME_MAX + 1];
    char ev_reason[PL_REASON_MAX + 64];
};

void
parley_server_config_init(parley_server_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->bind_addr = "0.0.0.0";
    cfg->port = PARLEY_SESSION_PORT;
    cfg->name = "server";
    cfg->max_clients = 64;
    cfg->relay = 1;
    cfg->hello_timeout_ms = 5000;
    cfg->stop_timeout_ms = 1000;
    cfg->max_payload = (size_t)1 << 20;
    cfg->transport = PARLEY_TRANSPORT_UDP;
}

static sclient *
find(parley_server *srv, uint64_t id)
{
    return pl_idmap_get(&srv->clients, id);
}

/* The transport a client is on. */
static pl_st *
trof(parley_server *srv, const sclient *c)
{
    return &srv->tr[c->t];
}

static void
drop_client(parley_server *srv, sclient *c)
{
    if (!c->active) {
        srv->npending--;
    }
    pl_idmap_del(&srv->clients, c->id);
    pl_sess_announced_free(&c->announced);
    pl_free(c);
}

/* ---- start and stop ---------------------------------------------------- */

static int
open_one(const parley_server_config *cfg, parley_session_transport kind,
         uint16_t port, pl_st *out)
{
    char bind[PARLEY_ADDR_STRLEN + 16];
    pl_st_config tc;

    if (strchr(cfg->bind_addr, ':') != NULL && cfg->bind_addr[0] != '[') {
        snprintf(bind, sizeof bind, "[%s]:%u", cfg->bind_addr, (unsigned)port);
    } else {
        snprintf(bind, sizeof bind, "%s:%u", cfg->bind_addr, (unsigned)port);
    }
    memset(&tc, 0, sizeof tc);
    tc.bind = bind;
    tc.accept_incoming = 1;
    tc.max_conns = cfg->max_clients;
    tc.max_message = (uint32_t)(cfg->max_payload + 1024);
    tc.udp = cfg->udp;
    tc.tcp = cfg->tcp;
    if (kind == PARLEY_TRANSPORT_TCP) {
        return pl_st_tcp_open(&tc, out);
    }
    return pl_st_udp_open(&tc, out);
}

/* serve_tcp: the TCP transport and a poller over both transports' fds. */
static int
open_second(parley_server *srv, const parley_server_config *cfg)
{
    int rc = open_one(cfg, PARLEY_TRANSPORT_TCP, cfg->tcp_port, &srv->tr[1]);

    if (rc != PARLEY_OK) {
        return rc;
    }
    srv->ntr = 2;
    rc = pl_os_poller_create(PL_OS_POLLER_DEFAULT, &srv->poll);
    if (rc == PARLEY_OK) {
        rc = pl_os_wakeup_create(PL_OS_WAKEUP_DEFAULT, &srv->wake);
    }
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_add(srv->poll, pl_os_wakeup_fd(srv->wake),
                              PL_OS_POLL_IN, NULL);
    }
    for (size_t i = 0; rc == PARLEY_OK && i < 2; i++) {
        rc = pl_os_poller_add(srv->poll, srv->tr[i].ops->fd(srv->tr[i].self),
                              PL_OS_POLL_IN, NULL);
    }
    return rc;
}

static void
close_transports(parley_server *srv)
{
    if (srv->poll != NULL) {
        pl_os_poller_destroy(srv->poll);
        srv->poll = NULL;
    }
    if (srv->wake != NULL) {
        pl_os_wakeup_destroy(srv->wake);
        srv->wake = NULL;
    }
    for (size_t i = 0; i < srv->ntr; i++) {
        srv->tr[i].ops->destroy(srv->tr[i].self);
    }
    srv->ntr = 0;
}

static int
open_transport(parley_server *srv, const parley_server_config *cfg)
{
    int rc = open_one(cfg, cfg->transport, cfg->port, &srv->tr[0]);

    if (rc != PARLEY_OK) {
        return rc;
    }
    srv->ntr = 1;
    if (cfg->serve_tcp) {
        rc = open_second(srv, cfg);
        if (rc != PARLEY_OK) {
            close_transports(srv);
        }
    }
    return rc;
}

static int
config_ok(const parley_server_config *cfg)
{
    return cfg->bind_addr != NULL && cfg->name != NULL &&
           cfg->name[0] != '\0' &&
           pl_sess_name_ok(cfg->name, strlen(cfg->name), PARLEY_NAME_MAX) &&
           cfg->max_clients > 0 && cfg->max_payload >= 3 &&
           cfg->max_payload <= PARLEY_PAYLOAD_MAX &&
           strlen(cfg->bind_addr) < PARLEY_ADDR_STRLEN;
}

int
parley_server_start(const parley_server_config *cfg, parley_server **out)
{
    parley_server *srv;
    int rc;

    if (cfg == NULL || out == NULL || !config_ok(cfg)) {
        return PARLEY_EINVAL;
    }
    if ((cfg->transport != PARLEY_TRANSPORT_UDP &&
         cfg->transport != PARLEY_TRANSPORT_TCP) ||
        (cfg->serve_tcp && cfg->transport != PARLEY_TRANSPORT_UDP)) {
        return PARLEY_EINVAL;
    }
    srv = pl_calloc(1, sizeof *srv);
    if (srv == NULL) {
        return PARLEY_ENOMEM;
    }
    srv->cfg = *cfg;
    pl_sess_copy_name(srv->name, sizeof srv->name, cfg->name,
                      strlen(cfg->name));
    srv->cfg.name = srv->name;
    srv->cfg.bind_addr = NULL; /* the caller's memory: not kept */
    srv->cfg.udp = NULL;
    srv->cfg.tcp = NULL;
    rc = parley_event_table_create(&srv->events);
    if (rc == PARLEY_OK) {
        rc = open_transport(srv, cfg);
    }
    if (rc != PARLEY_OK) {
        parley_event_table_destroy(srv->events);
        pl_free(srv);
        return rc;
    }
    pl_idmap_init(&srv->clients);
    *out = srv;
    return PARLEY_OK;
}

static int
send_bye(parley_server *srv, const sclient *c, uint8_t code, const char *reason)
{
    pl_evmsg m = {0};
    size_t len;
    int rc;

    m.kind = PL_EV_BYE;
    m.code = code;
    m.sender = reason ? reason : "";
    m.sender_len = strlen(m.sender);
    if (m.sender_len > PL_REASON_MAX) {
        m.sender_len = PL_REASON_MAX;
        while (m.sender_len > 0 &&
               ((unsigned char)reason[m.sender_len] & 0xc0) == 0x80) {
            m.sender_len--;
        }
    }
    if (!pl_utf8_valid(m.sender, m.sender_len, 0)) {
        m.sender_len = 0;
    }
    rc = pl_sess_encode(&srv->ob, &m, &len);
    if (rc == PARLEY_OK) {
        rc = trof(srv, c)->ops->send(trof(srv, c)->self, c->conn, srv->ob.p,
                                     len, 1, 0);
    }
    return rc;
}

/* Any one client, or NULL when there is none. */
static sclient *
any_client(parley_server *srv)
{
    for (size_t i = 0; i < srv->clients.cap; i++) {
        if (srv->clients.ents[i].val != NULL) {
            return srv->clients.ents[i].val;
        }
    }
    return NULL;
}

static void
release_held(parley_server *srv)
{
    if (srv->held.type != PL_ST_NONE) {
        pl_st *tr = &srv->tr[srv->held_t];
        tr->ops->release(tr->self, &srv->held);
    }
}

/* The shortest wait: a (negative: none) or any transport's timer. */
static int
min_timeout(parley_server *srv, int a)
{
    for (size_t i = 0; i < srv->ntr; i++) {
        int t = srv->tr[i].ops->next_timeout_ms(srv->tr[i].self);
        if (t >= 0 && (a < 0 || t < a)) {
            a = t;
        }
    }
    return a;
}

/*
 * One event from either transport (serve_tcp), asking them in turn,
 * waiting up to timeout_ms (negative: no end) on both fds. As a
 * transport's service; *t gets the transport the event came from.
 */
static int
service_both(parley_server *srv, int timeout_ms, pl_st_event *ev, size_t *t)
{
    uint64_t end =
        parley_time_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;

    for (;;) {
        pl_os_poll_event pe[3];
        size_t got;
        uint64_t now;
        int wait = -1;

        for (size_t k = 0; k < 2; k++) {
            size_t i = (srv->next_tr + k) % 2;
            int rc = srv->tr[i].ops->service(srv->tr[i].self, 0, ev);
            if (rc != 0) {
                *t = i;
                srv->next_tr = (i + 1) % 2;
                return rc;
            }
        }
        now = parley_time_us();
        if (atomic_exchange(&srv->interrupted, 0)) {
            pl_os_wakeup_drain(srv->wake);
            return 0;
        }
        if (timeout_ms >= 0 && now >= end) {
            return 0;
        }
        if (timeout_ms >= 0) {
            wait = (int)((end - now + 999) / 1000);
        }
        (void)pl_os_poller_wait(srv->poll, min_timeout(srv, wait), pe, 3, &got);
    }
}

/* One transport event, from whichever transport has one. */
static int
service_any(parley_server *srv, int timeout_ms, pl_st_event *ev, size_t *t)
{
    if (srv->ntr == 2) {
        return service_both(srv, timeout_ms, ev, t);
    }
    *t = 0;
    return srv->tr[0].ops->service(srv->tr[0].self, timeout_ms, ev);
}

void
parley_server_stop(parley_server *srv)
{
    uint64_t end;

    if (srv == NULL) {
        return;
    }
    release_held(srv);
    srv->stopping = 1;
    for (size_t i = 0; i < srv->clients.cap; i++) {
        sclient *c = srv->clients.ents[i].val;
        if (c == NULL) {
            continue;
        }
        if (c->active && !c->leaving) {
            send_bye(srv, c, PL_BYE_STOPPING, "server stopped");
        }
        c->leaving = 1;
        trof(srv, c)->ops->disconnect(trof(srv, c)->self, c->conn,
                                      PL_BYE_STOPPING);
    }
    /* Let the BYEs and DISCONNECTs be delivered and acknowledged. */
    end = parley_time_us() + (uint64_t)srv->cfg.stop_timeout_ms * 1000;
    for (uint64_t now = parley_time_us(); srv->clients.count > 0 && now < end;
         now = parley_time_us()) {
        pl_st_event ev;
        size_t t = 0;
        int rc = service_any(srv, (int)((end - now) / 1000) + 1, &ev, &t);
        if (rc < 0) {
            break;
        }
        if (rc == 1) {
            sclient *c = find(srv, t == 0 ? ev.conn : ev.conn | TCP_TAG);
            if (c != NULL && ev.type == PL_ST_DISCONNECT) {
                drop_client(srv, c);
            }
            srv->tr[t].ops->release(srv->tr[t].self, &ev);
        }
    }
    for (sclient *c = any_client(srv); c != NULL; c = any_client(srv)) {
        drop_client(srv, c);
    }
    close_transports(srv);
    pl_idmap_free(&srv->clients);
    pl_handlers_free(&srv->handlers);
    pl_outbuf_free(&srv->ob);
    parley_event_table_destroy(srv->events);
    pl_free(srv);
}

parley_event_table *
parley_server_events(parley_server *srv)
{
    return srv ? srv->events : NULL;
}

/* ---- clients joining ---------------------------------------------------- */

static int
name_taken(parley_server *srv, const char *name, const sclient *self)
{
    for (size_t i = 0; i < srv->clients.cap; i++) {
        const sclient *c = srv->clients.ents[i].val;
        if (c != NULL && c != self && c->active && strcmp(c->name, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Gives c a unique name based on want: "want", "want-2", "want-3"... */
static void
assign_name(parley_server *srv, sclient *c, const char *want, size_t len)
{
    char base[PARLEY_NAME_MAX + 1];
    char suffix[16];

    if (len == 0) {
        snprintf(base, sizeof base, "client-%llu",
                 (unsigned long long)++srv->unnamed_seq);
    } else {
        pl_sess_copy_name(base, sizeof base, want, len);
    }
    pl_sess_copy_name(c->name, sizeof c->name, base, strlen(base));
    for (unsigned n = 2; name_taken(srv, c->name, c) && n < MAX_SUFFIX; n++) {
        size_t sl = (size_t)snprintf(suffix, sizeof suffix, "-%u", n);
        pl_sess_copy_name(c->name, sizeof c->name - sl, base, strlen(base));
        memcpy(c->name + strlen(c->name), suffix, sl + 1);
    }
}

/* Refuses a connection that has not been welcomed. */
static void
refuse(parley_server *srv, sclient *c, const char *why)
{
    PL_LOG_INFO(MOD, "refusing a connection: %s", why);
    send_bye(srv, c, PL_BYE_REFUSED, why);
    trof(srv, c)->ops->disconnect(trof(srv, c)->self, c->conn, PL_BYE_REFUSED);
    c->leaving = 1;
}

static int
send_welcome(parley_server *srv, sclient *c)
{
    pl_evmsg m = {0};
    size_t len;
    int rc;

    m.kind = PL_EV_WELCOME;
    m.version = PL_SESSION_VERSION;
    m.name = c->name;
    m.name_len = strlen(c->name);
    m.sender = srv->name;
    m.sender_len = strlen(srv->name);
    rc = pl_sess_encode(&srv->ob, &m, &len);
    if (rc == PARLEY_OK) {
        rc = trof(srv, c)->ops->send(trof(srv, c)->self, c->conn, srv->ob.p,
                                     len, 1, 0);
    }
    return rc;
}

static int
on_hello(parley_server *srv, sclient *c, const pl_evmsg *m,
         parley_session_event *ev)
{
    if (c->active || c->leaving) {
        return 0;
    }
    if (m->version != PL_SESSION_VERSION) {
        refuse(srv, c, "unsupported session version");
        return 0;
    }
    /* Each transport holds max_clients; together they must too. */
    if (srv->ntr == 2 &&
        srv->clients.count - srv->npending >= srv->cfg.max_clients) {
        refuse(srv, c, "the server is full");
        return 0;
    }
    assign_name(srv, c, m->name, m->name_len);
    if (send_welcome(srv, c) != PARLEY_OK) {
        refuse(srv, c, "cannot welcome");
        return 0;
    }
    c->active = 1;
    srv->npending--;
    ev->type = PARLEY_SESSION_CLIENT_CONNECT;
    ev->reason = "connected";
    return 1;
}

/* ---- events from clients ------------------------------------------------- */

static void
relay(parley_server *srv, const sclient *from, const pl_evmsg *m, int reliable)
{
    /* Sending never changes the client map, so walking it is safe. */
    for (size_t i = 0; i < srv->clients.cap; i++) {
        sclient *c = srv->clients.ents[i].val;
        int rc;

        if (c == NULL || !c->active || c->leaving) {
            continue;
        }
        rc = pl_sess_send_event(trof(srv, c), c->conn, &c->announced, &srv->ob,
                                srv->events, PL_EVF_SENDER, m->id, from->name,
                                m->payload, m->payload_len,
                                reliable ? 0 : PARLEY_SEND_UNRELIABLE);
        if (rc == PARLEY_OK) {
            c->events_out++;
        } else {
            PL_LOG_WARN(MOD, "relay to %s failed: %s", c->name,
                        parley_strerror(rc));
        }
    }
}

static int
on_event(parley_server *srv, sclient *c, const pl_evmsg *m, int reliable,
         parley_session_event *ev)
{
    if (m->flags & PL_EVF_SENDER) {
        snprintf(srv->ev_reason, sizeof srv->ev_reason,
                 "event from %s has a sender field (only the server relays)",
                 c->name);
        ev->type = PARLEY_SESSION_ERROR;
        ev->id = m->id;
        ev->name = parley_event_name(srv->events, m->id);
        ev->error = PARLEY_EPROTO;
        return 1;
    }
    if (pl_sess_read_event(srv->events, m, srv->cfg.max_payload, ev,
                           srv->ev_reason,
                           sizeof srv->ev_reason) != PARLEY_OK) {
        ev->type = PARLEY_SESSION_ERROR;
        ev->error = PARLEY_EPROTO;
        return 1;
    }
    c->events_in++;
    ev->type = PARLEY_SESSION_EVENT;
    ev->reliable = reliable;
    ev->to_all = (m->flags & PL_EVF_ALL) != 0;
    ev->reason = "";
    if (ev->to_all && srv->cfg.relay) {
        relay(srv, c, m, reliable);
    }
    return 1;
}

static int
on_receive(parley_server *srv, sclient *c, const pl_st_event *tev,
           parley_session_event *ev)
{
    pl_evmsg m;

    if (pl_evmsg_decode(tev->data, tev->len, &m) != PARLEY_OK) {
        if (!c->active) {
            refuse(srv, c, "malformed HELLO");
            return 0;
        }
        snprintf(srv->ev_reason, sizeof srv->ev_reason,
                 "malformed message from %s (%zu bytes)", c->name, tev->len);
        ev->type = PARLEY_SESSION_ERROR;
        ev->error = PARLEY_EPROTO;
        return 1;
    }
    if (!c->active) {
        if (m.kind == PL_EV_HELLO) {
            return on_hello(srv, c, &m, ev);
        }
        if (!c->leaving) {
            refuse(srv, c, "expected HELLO");
        }
        return 0;
    }
    if (c->leaving) {
        return 0;
    }
    switch (m.kind) {
    case PL_EV_EVENT:
        return on_event(srv, c, &m, tev->reliable, ev);
    case PL_EV_ANNOUNCE:
        (void)pl_event_learn(srv->events, m.id, m.name, m.name_len);
        return 0;
    case PL_EV_BYE:
        c->left = 1;
        return 0;
    default:
        return 0; /* a second HELLO or a WELCOME: ignored */
    }
}

static int
on_disconnect(parley_server *srv, sclient *c, const pl_st_event *tev,
              parley_session_event *ev)
{
    int was_active = c->active;

    if (c->kick_reason[0] != '\0' || tev->app_code == PL_BYE_KICKED) {
        ev->leave = PARLEY_LEAVE_KICKED;
        snprintf(srv->ev_reason, sizeof srv->ev_reason, "kicked: %s",
                 c->kick_reason);
    } else if (c->left || tev->reason == PARLEY_REASON_GRACEFUL) {
        ev->leave = PARLEY_LEAVE_CLIENT;
        snprintf(srv->ev_reason, sizeof srv->ev_reason, "client left");
    } else if (srv->stopping || tev->app_code == PL_BYE_STOPPING) {
        ev->leave = PARLEY_LEAVE_STOPPED;
        snprintf(srv->ev_reason, sizeof srv->ev_reason, "server stopped");
    } else {
        ev->leave = PARLEY_LEAVE_LOST;
        snprintf(srv->ev_reason, sizeof srv->ev_reason, "connection lost: %s",
                 tev->reason == PARLEY_REASON_NONE && tev->error != 0
                     ? parley_strerror(tev->error)
                     : parley_reason_name(tev->reason));
    }
    ev->type = PARLEY_SESSION_CLIENT_DISCONNECT;
    drop_client(srv, c);
    return was_active;
}

static int
on_connect(parley_server *srv, size_t t, const pl_st_event *tev)
{
    sclient *c = pl_calloc(1, sizeof *c);
    pl_st *tr = &srv->tr[t];

    if (c == NULL) {
        tr->ops->disconnect_now(tr->self, tev->conn, PL_BYE_REFUSED);
        return 0;
    }
    c->id = t == 0 ? tev->conn : tev->conn | TCP_TAG;
    c->conn = tev->conn;
    c->t = t;
    c->addr = tev->addr;
    c->since_us = parley_time_us();
    pl_idmap_init(&c->announced);
    if (pl_idmap_put(&srv->clients, c->id, c) != PARLEY_OK) {
        pl_free(c);
        tr->ops->disconnect_now(tr->self, tev->conn, PL_BYE_REFUSED);
        return 0;
    }
    srv->npending++;
    return 0;
}

/* Turns one transport event into at most one session event. */
static int
handle(parley_server *srv, size_t t, const pl_st_event *tev,
       parley_session_event *ev)
{
    sclient *c = find(srv, t == 0 ? tev->conn : tev->conn | TCP_TAG);
    int got;

    memset(ev, 0, sizeof *ev);
    ev->reason = srv->ev_reason;
    srv->ev_reason[0] = '\0';
    if (tev->type == PL_ST_CONNECT) {
        return c == NULL ? on_connect(srv, t, tev) : 0;
    }
    if (c == NULL) {
        return 0;
    }
    ev->client = c->id;
    ev->addr = c->addr;
    memcpy(srv->ev_sender, c->name, sizeof srv->ev_sender);
    ev->sender = srv->ev_sender;
    if (tev->type == PL_ST_RECEIVE) {
        got = on_receive(srv, c, tev, ev);
    } else if (tev->type == PL_ST_DISCONNECT) {
        got = on_disconnect(srv, c, tev, ev);
    } else {
        got = 0;
    }
    /* A CLIENT_CONNECT names the client: copy the name assigned now. */
    if (got && ev->type == PARLEY_SESSION_CLIENT_CONNECT) {
        memcpy(srv->ev_sender, c->name, sizeof srv->ev_sender);
    }
    return got;
}

/* Drops connections that never said HELLO. */
static void
sweep(parley_server *srv)
{
    uint64_t now = parley_time_us();
    uint64_t limit = (uint64_t)srv->cfg.hello_timeout_ms * 1000;
    sclient *batch[64];
    size_t k = 0;

    if (now < srv->next_sweep_us || srv->npending == 0) {
        return;
    }
    srv->next_sweep_us = now + SWEEP_US;
    for (size_t i = 0; i < srv->clients.cap && k < 64; i++) {
        sclient *c = srv->clients.ents[i].val;
        if (c != NULL && !c->active && !c->leaving &&
            now - c->since_us > limit) {
            trof(srv, c)->ops->disconnect_now(trof(srv, c)->self, c->conn,
                                              PL_BYE_REFUSED);
            batch[k++] = c;
        }
    }
    for (size_t i = 0; i < k; i++) {
        drop_client(srv, batch[i]);
    }
}

/*
 * One transport wait: at most until end (timeout_ms < 0: no end), cut to
 * the sweep interval while connections wait for their HELLO. Returns the
 * transport's result; *done is set when a 0 means "stop now" (time up or
 * interrupted) rather than "the sweep's turn".
 */
static int
wait_once(parley_server *srv, int timeout_ms, uint64_t end, int *done)
{
    uint64_t now = parley_time_us();
    int wait = timeout_ms < 0 ? -1
               : now >= end   ? 0
                              : (int)((end - now + 999) / 1000);
    int capped = 0;
    int rc;

    if (srv->npending > 0 && (wait < 0 || wait > SWEEP_US / 1000)) {
        wait = SWEEP_US / 1000;
        capped = 1;
    }
    rc = service_any(srv, wait, &srv->held, &srv->held_t);
    if (rc == 0) {
        uint64_t later = parley_time_us();
        /* Back early from a capped wait: an interrupt. */
        *done = !capped || later - now < (uint64_t)wait * 500 ||
                (timeout_ms >= 0 && later >= end);
    }
    return rc;
}

int
parley_server_service(parley_server *srv, int timeout_ms,
                      parley_session_event *ev)
{
    uint64_t end;

    if (srv == NULL || ev == NULL) {
        return PARLEY_EINVAL;
    }
    release_held(srv);
    end = parley_time_us() + (timeout_ms > 0 ? (uint64_t)timeout_ms : 0) * 1000;
    for (;;) {
        int done = 0;
        int rc;

        sweep(srv);
        rc = wait_once(srv, timeout_ms, end, &done);
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            if (done) {
                return 0;
            }
            continue;
        }
        if (handle(srv, srv->held_t, &srv->held, ev) &&
            !pl_handlers_dispatch(&srv->handlers, ev)) {
            return 1; /* held stays until the next call */
        }
        release_held(srv);
    }
}

/* ---- sending ---------------------------------------------------------------
 */

static sclient *
find_active(parley_server *srv, parley_client_id id)
{
    sclient *c = find(srv, id);
    return c != NULL && c->active && !c->leaving ? c : NULL;
}

int
parley_server_send(parley_server *srv, parley_client_id client, uint64_t id,
                   parley_builder *payload, uint32_t flags)
{
    const uint8_t *data;
    size_t len;
    sclient *c;
    int rc;

    if (srv == NULL ||
        (flags & ~(uint32_t)(PARLEY_SEND_UNRELIABLE | PARLEY_SEND_NOW))) {
        return PARLEY_EINVAL;
    }
    c = find_active(srv, client);
    if (c == NULL) {
        return PARLEY_ENOTCONN;
    }
    rc = pl_sess_payload(payload, srv->events, id, srv->cfg.max_payload, &data,
                         &len);
    if (rc == PARLEY_OK) {
        rc = pl_sess_send_event(trof(srv, c), c->conn, &c->announced, &srv->ob,
                                srv->events, 0, id, NULL, data, len, flags);
    }
    if (rc == PARLEY_OK) {
        c->events_out++;
    }
    return rc;
}

int
parley_server_send_all(parley_server *srv, uint64_t id, parley_builder *payload,
                       uint32_t flags)
{
    const uint8_t *data;
    size_t len;
    int rc;

    if (srv == NULL ||
        (flags & ~(uint32_t)(PARLEY_SEND_UNRELIABLE | PARLEY_SEND_NOW))) {
        return PARLEY_EINVAL;
    }
    rc = pl_sess_payload(payload, srv->events, id, srv->cfg.max_payload, &data,
                         &len);
    for (size_t i = 0; rc == PARLEY_OK && i < srv->clients.cap; i++) {
        sclient *c = srv->clients.ents[i].val;
        if (c == NULL || !c->active || c->leaving) {
            continue;
        }
        if (pl_sess_send_event(trof(srv, c), c->conn, &c->announced, &srv->ob,
                               srv->events, 0, id, NULL, data, len,
                               flags) == PARLEY_OK) {
            c->events_out++;
        }
    }
    return rc;
}

int
parley_server_kick(parley_server *srv, parley_client_id client,
                   const char *reason)
{
    sclient *c = srv ? find(srv, client) : NULL;

    if (c == NULL || c->leaving) {
        return PARLEY_ENOTCONN;
    }
    if (!c->active) {
        trof(srv, c)->ops->disconnect_now(trof(srv, c)->self, c->conn,
                                          PL_BYE_KICKED);
        drop_client(srv, c);
        return PARLEY_OK;
    }
    pl_sess_copy_name(c->kick_reason, sizeof c->kick_reason,
                      reason ? reason : "", reason ? strlen(reason) : 0);
    if (c->kick_reason[0] == '\0') {
        pl_sess_copy_name(c->kick_reason, sizeof c->kick_reason, "by server",
                          9);
    }
    send_bye(srv, c, PL_BYE_KICKED, c->kick_reason);
    trof(srv, c)->ops->disconnect(trof(srv, c)->self, c->conn, PL_BYE_KICKED);
    c->leaving = 1;
    return PARLEY_OK;
}

/* ---- queries ----------------------------------------------------------------
 */

int
parley_server_client_info(parley_server *srv, parley_client_id client,
                          parley_client_info *out)
{
    sclient *c = srv ? find_active(srv, client) : NULL;

    if (c == NULL || out == NULL) {
        return PARLEY_ENOTCONN;
    }
    memset(out, 0, sizeof *out);
    out->id = c->id;
    memcpy(out->name, c->name, sizeof out->name);
    out->addr = c->addr;
    out->events_in = c->events_in;
    out->events_out = c->events_out;
    trof(srv, c)->ops->stats(trof(srv, c)->self, c->conn, &out->stats);
    return PARLEY_OK;
}

size_t
parley_server_clients(parley_server *srv, parley_client_id *ids, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; srv != NULL && i < srv->clients.cap; i++) {
        sclient *c = srv->clients.ents[i].val;
        if (c != NULL && c->active && !c->leaving) {
            if (ids != NULL && n < cap) {
                ids[n] = c->id;
            }
            n++;
        }
    }
    return n;
}

int
parley_server_find_client(parley_server *srv, const char *name,
                          parley_client_id *out)
{
    for (size_t i = 0; srv != NULL && name != NULL && i < srv->clients.cap;
         i++) {
        sclient *c = srv->clients.ents[i].val;
        if (c != NULL && c->active && !c->leaving &&
            strcmp(c->name, name) == 0) {
            if (out != NULL) {
                *out = c->id;
            }
            return PARLEY_OK;
        }
    }
    return PARLEY_ENOENT;
}

int
parley_server_on(parley_server *srv, uint64_t id, parley_session_handler fn,
                 void *user)
{
    return srv ? pl_handlers_set_id(&srv->handlers, id, fn, user)
               : PARLEY_EINVAL;
}

int
parley_server_on_type(parley_server *srv, parley_session_event_type type,
                      parley_session_handler fn, void *user)
{
    return srv ? pl_handlers_set_type(&srv->handlers, type, fn, user)
               : PARLEY_EINVAL;
}

int
parley_server_local_addr(parley_server *srv, parley_addr *out)
{
    return srv && out ? srv->tr[0].ops->local_addr(srv->tr[0].self, out)
                      : PARLEY_EINVAL;
}

int
parley_server_local_addr_of(parley_server *srv,
                            parley_session_transport transport,
                            parley_addr *out)
{
    size_t i;

    if (srv == NULL || out == NULL ||
        (transport != PARLEY_TRANSPORT_UDP &&
         transport != PARLEY_TRANSPORT_TCP)) {
        return PARLEY_EINVAL;
    }
    if (transport == srv->cfg.transport) {
        i = 0;
    } else if (transport == PARLEY_TRANSPORT_TCP && srv->ntr == 2) {
        i = 1;
    } else {
        return PARLEY_ENOENT;
    }
    return srv->tr[i].ops->local_addr(srv->tr[i].self, out);
}

int
parley_server_fd(parley_server *srv)
{
    if (srv == NULL) {
        return -1;
    }
    if (srv->poll != NULL) {
        return pl_os_poller_fd(srv->poll);
    }
    return srv->tr[0].ops->fd(srv->tr[0].self);
}

int
parley_server_next_timeout_ms(parley_server *srv)
{
    int t;

    if (srv == NULL) {
        return -1;
    }
    t = min_timeout(srv, -1);
    /* Pending connections need the sweep. */
    if (srv->clients.count > 0 && (t < 0 || t > SWEEP_US / 1000)) {
        t = SWEEP_US / 1000;
    }
    return t;
}

int
parley_server_interrupt(parley_server *srv)
{
    if (srv == NULL) {
        return PARLEY_EINVAL;
    }
    if (srv->wake != NULL) {
        atomic_store(&srv->interrupted, 1);
        return pl_os_wakeup_signal(srv->wake);
    }
    return srv->tr[0].ops->interrupt(srv->tr[0].self);
}

int
parley_server_set_sim(parley_server *srv, const parley_sim_config *outgoing,
                      const parley_sim_config *incoming)
{
    return srv ? srv->tr[0].ops->set_sim(srv->tr[0].self, outgoing, incoming)
               : PARLEY_EINVAL;
}
