/*
 * The session client (viznet.client): connects, says HELLO with its name
 * and waits for WELCOME; sends events to the server or to all; turns the
 * server's BYE and the transport's disconnect into one SERVER_DISCONNECT
 * that says why.
 */
#include <stdio.h>
#include <string.h>

#include "parley/security.h"
#include "session/session_int.h"
#include "util/alloc.h"

typedef enum cstate {
    C_IDLE = 0,
    C_CONNECTING = 1, /* transport handshake */
    C_HELLO = 2,      /* HELLO sent, waiting for WELCOME */
    C_CONNECTED = 3,
    C_LEAVING = 4 /* our own disconnect is under way */
} cstate;

struct parley_client {
    parley_client_config cfg;
    parley_host_config udp_cfg; /* a copy of cfg.udp */
    parley_tcp_options tcp_cfg; /* a copy of cfg.tcp */
    char want_name[PARLEY_NAME_MAX + 1];
    pl_st tr;
    int open;
    uint64_t conn;
    cstate state;
    uint64_t hello_deadline_us;
    parley_addr server_addr;
    char name[PARLEY_NAME_MAX + 1];
    char server_name[PARLEY_NAME_MAX + 1];
    pl_idmap announced;
    parley_event_table *events;
    pl_handlers handlers;
    pl_outbuf ob;
    pl_st_event held;
    uint8_t bye_code;
    char bye_reason[PL_REASON_MAX + 1];
    int fail_rc; /* why the last connect failed */
    char last_error[PL_REASON_MAX + 64];
    char ev_sender[PARLEY_NAME_MAX + 1];
    char ev_reason[PL_REASON_MAX + 64];
    parley_sim_config sim_out, sim_in;
    int sim_out_on, sim_in_on;
};

void
parley_client_config_init(parley_client_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->connect_timeout_ms = 5000;
    cfg->max_payload = (size_t)1 << 20;
    cfg->transport = PARLEY_TRANSPORT_UDP;
}

int
parley_client_create(const parley_client_config *cfg, parley_client **out)
{
    parley_client *cli;

    if (cfg == NULL || out == NULL || cfg->max_payload < 3 ||
        cfg->max_payload > PARLEY_PAYLOAD_MAX ||
        (cfg->name != NULL &&
         !pl_sess_name_ok(cfg->name, strlen(cfg->name), PARLEY_NAME_MAX))) {
        return PARLEY_EINVAL;
    }
    if ((cfg->transport != PARLEY_TRANSPORT_UDP &&
         cfg->transport != PARLEY_TRANSPORT_TCP) ||
        (cfg->tcp != NULL && cfg->tcp->idle_timeout_ms != 0 &&
         (cfg->tcp->keepalive_ms == 0 ||
          cfg->tcp->keepalive_ms >= cfg->tcp->idle_timeout_ms))) {
        return PARLEY_EINVAL;
    }
    cli = pl_calloc(1, sizeof *cli);
    if (cli == NULL) {
        return PARLEY_ENOMEM;
    }
    if (parley_event_table_create(&cli->events) != PARLEY_OK) {
        pl_free(cli);
        return PARLEY_ENOMEM;
    }
    cli->cfg = *cfg;
    if (cfg->udp != NULL) {
        cli->udp_cfg = *cfg->udp;
        cli->cfg.udp = &cli->udp_cfg;
    }
    if (cfg->tcp != NULL) {
        cli->tcp_cfg = *cfg->tcp;
        cli->cfg.tcp = &cli->tcp_cfg;
    }
    if (cfg->name != NULL) {
        pl_sess_copy_name(cli->want_name, sizeof cli->want_name, cfg->name,
                          strlen(cfg->name));
    } else {
        pl_sess_hostname(cli->want_name, sizeof cli->want_name);
    }
    cli->cfg.name = cli->want_name;
    pl_idmap_init(&cli->announced);
    *out = cli;
    return PARLEY_OK;
}

static void
release_held(parley_client *cli)
{
    if (cli->open && cli->held.type != PL_ST_NONE) {
        cli->tr.ops->release(cli->tr.self, &cli->held);
    }
}

/* Closes the transport (after any connection on it is over). */
static void
close_transport(parley_client *cli)
{
    release_held(cli);
    if (cli->open) {
        cli->tr.ops->destroy(cli->tr.self);
        cli->open = 0;
    }
    cli->state = C_IDLE;
    cli->name[0] = '\0';
    cli->server_name[0] = '\0';
    pl_idmap_free(&cli->announced);
}

void
parley_client_destroy(parley_client *cli)
{
    if (cli == NULL) {
        return;
    }
    if (cli->open && cli->state != C_IDLE) {
        cli->tr.ops->disconnect_now(cli->tr.self, cli->conn, PL_BYE_LEAVING);
    }
    close_transport(cli);
    pl_handlers_free(&cli->handlers);
    pl_outbuf_free(&cli->ob);
    parley_event_table_destroy(cli->events);
    pl_free(cli);
}

parley_event_table *
parley_client_events(parley_client *cli)
{
    return cli ? cli->events : NULL;
}

/* ---- connecting ---------------------------------------------------------- */

static int
open_transport(parley_client *cli, parley_family family)
{
    pl_st_config tc;
    int rc;

    memset(&tc, 0, sizeof tc);
    tc.bind = family == PARLEY_AF_INET6 ? "[::]:0" : "0.0.0.0:0";
    tc.accept_incoming = 0;
    tc.max_conns = 1;
    tc.max_message = (uint32_t)(cli->cfg.max_payload + 1024);
    tc.connect_timeout_ms = cli->cfg.connect_timeout_ms;
    tc.udp = cli->cfg.udp;
    tc.tcp = cli->cfg.tcp;
    if (cli->cfg.transport == PARLEY_TRANSPORT_TCP) {
        rc = pl_st_tcp_open(&tc, &cli->tr);
    } else {
        rc = pl_st_udp_open(&tc, &cli->tr);
    }
    if (rc != PARLEY_OK) {
        return rc;
    }
    cli->open = 1;
    if (cli->cfg.transport == PARLEY_TRANSPORT_UDP &&
        (cli->sim_out_on || cli->sim_in_on)) {
        rc = cli->tr.ops->set_sim(cli->tr.self,
                                  cli->sim_out_on ? &cli->sim_out : NULL,
                                  cli->sim_in_on ? &cli->sim_in : NULL);
    }
    return rc;
}

/* Records why a connect failed: text, then more (may be ""). */
static void
set_error(parley_client *cli, int rc, const char *text, const char *more)
{
    cli->fail_rc = rc;
    snprintf(cli->last_error, sizeof cli->last_error, "%s%s", text, more);
}

int
parley_client_connect_start(parley_client *cli, const char *addr)
{
    parley_addr to;
    uint64_t conn = 0;
    int rc;

    if (cli == NULL || addr == NULL) {
        return PARLEY_EINVAL;
    }
    if (cli->state != C_IDLE) {
        return PARLEY_ESTATE;
    }
    close_transport(cli);
    rc = parley_addr_resolve(addr, PARLEY_SESSION_PORT, PARLEY_AF_UNSPEC, &to);
    if (rc == PARLEY_OK) {
        rc = open_transport(cli, (parley_family)to.family);
    }
    if (rc == PARLEY_OK) {
        rc = cli->tr.ops->connect(cli->tr.self, &to, &conn);
    }
    if (rc != PARLEY_OK) {
        set_error(cli, rc, "cannot connect to ", addr);
        close_transport(cli);
        return rc;
    }
    cli->conn = conn;
    cli->server_addr = to;
    cli->state = C_CONNECTING;
    cli->bye_code = 0;
    cli->bye_reason[0] = '\0';
    cli->fail_rc = 0;
    cli->last_error[0] = '\0';
    return PARLEY_OK;
}

static int
send_hello(parley_client *cli)
{
    pl_evmsg m = {0};
    size_t len;
    int rc;

    m.kind = PL_EV_HELLO;
    m.version = PL_SESSION_VERSION;
    m.name = cli->want_name;
    m.name_len = strlen(cli->want_name);
    rc = pl_sess_encode(&cli->ob, &m, &len);
    if (rc == PARLEY_OK) {
        rc = cli->tr.ops->send(cli->tr.self, cli->conn, cli->ob.p, len, 1, 1);
    }
    return rc;
}

/* ---- events ------------------------------------------------------------- */

static int
refused_rc(parley_reason reason)
{
    switch (reason) {
    case PARLEY_REASON_FULL:
        return PARLEY_EFULL;
    case PARLEY_REASON_REJECTED:
        return PARLEY_EREJECTED;
    case PARLEY_REASON_VERSION:
        return PARLEY_EVERSION;
    case PARLEY_REASON_CONNECT_TIMEOUT:
        return PARLEY_ETIMEDOUT;
    default:
        return PARLEY_ECONNREFUSED;
    }
}

static int
on_connect_failed(parley_client *cli, const pl_st_event *tev,
                  parley_session_event *ev)
{
    int rc = refused_rc(tev->reason);

    cli->state = C_IDLE;
    if (tev->reason == PARLEY_REASON_NONE && tev->error != 0) {
        /* The transport knows what went wrong (TCP: refused, unreachable,
           reset before the handshake). */
        rc = tev->error;
        set_error(cli, rc, "cannot connect: ", parley_strerror(rc));
    } else if (tev->reason == PARLEY_REASON_SECURITY) {
        set_error(cli, rc, "", parley_security_detail_text(tev->app_code));
    } else {
        set_error(cli, rc, "",
                  tev->reason == PARLEY_REASON_CONNECT_TIMEOUT
                      ? "no answer from the server"
                  : tev->reason == PARLEY_REASON_FULL
                      ? "the server is full"
                      : "refused by the server");
    }
    ev->type = PARLEY_SESSION_SERVER_DISCONNECT;
    ev->leave =
        rc == PARLEY_ETIMEDOUT ? PARLEY_LEAVE_LOST : PARLEY_LEAVE_REFUSED;
    snprintf(cli->ev_reason, sizeof cli->ev_reason, "%s", cli->last_error);
    return 1;
}

/* Why the connection ended, from the BYE if one came, else the code. */
static void
leave_of(parley_client *cli, const pl_st_event *tev, parley_session_event *ev)
{
    uint8_t code = cli->bye_code ? cli->bye_code : (uint8_t)tev->app_code;
    const char *why = cli->bye_reason;

    if (code == PL_BYE_KICKED) {
        ev->leave = PARLEY_LEAVE_KICKED;
        snprintf(cli->ev_reason, sizeof cli->ev_reason, "kicked: %s",
                 why[0] ? why : "by server");
    } else if (code == PL_BYE_STOPPING) {
        ev->leave = PARLEY_LEAVE_STOPPED;
        snprintf(cli->ev_reason, sizeof cli->ev_reason, "server stopped");
    } else if (code == PL_BYE_REFUSED) {
        ev->leave = PARLEY_LEAVE_REFUSED;
        snprintf(cli->ev_reason, sizeof cli->ev_reason, "refused: %s",
                 why[0] ? why : "by server");
    } else if (tev->reason == PARLEY_REASON_GRACEFUL) {
        ev->leave = PARLEY_LEAVE_STOPPED;
        snprintf(cli->ev_reason, sizeof cli->ev_reason,
                 "the server closed the connection");
    } else {
        ev->leave = PARLEY_LEAVE_LOST;
        snprintf(cli->ev_reason, sizeof cli->ev_reason, "connection lost: %s",
                 tev->reason == PARLEY_REASON_NONE && tev->error != 0
                     ? parley_strerror(tev->error)
                     : parley_reason_name(tev->reason));
    }
}

static int
on_disconnect(parley_client *cli, const pl_st_event *tev,
              parley_session_event *ev)
{
    cstate was = cli->state;

    leave_of(cli, tev, ev);
    cli->state = C_IDLE;
    ev->type = PARLEY_SESSION_SERVER_DISCONNECT;
    if (was != C_CONNECTED) {
        cli->fail_rc = ev->leave == PARLEY_LEAVE_REFUSED ? PARLEY_EREJECTED
                                                         : PARLEY_ECLOSED;
    }
    snprintf(cli->last_error, sizeof cli->last_error, "%s", cli->ev_reason);
    return was != C_LEAVING;
}

static int
on_event(parley_client *cli, const pl_evmsg *m, int reliable,
         parley_session_event *ev)
{
    if (cli->state != C_CONNECTED) {
        return 0; /* an unreliable one overtook the WELCOME */
    }
    ev->to_all = (m->flags & PL_EVF_SENDER) != 0;
    if (ev->to_all) {
        pl_sess_copy_name(cli->ev_sender, sizeof cli->ev_sender, m->sender,
                          m->sender_len);
    }
    if ((m->flags & PL_EVF_ALL) ||
        pl_sess_read_event(cli->events, m, cli->cfg.max_payload, ev,
                           cli->ev_reason,
                           sizeof cli->ev_reason) != PARLEY_OK) {
        if (m->flags & PL_EVF_ALL) {
            snprintf(cli->ev_reason, sizeof cli->ev_reason,
                     "the server sent an event marked for relaying");
        }
        ev->type = PARLEY_SESSION_ERROR;
        ev->id = m->id;
        ev->name = parley_event_name(cli->events, m->id);
        ev->error = PARLEY_EPROTO;
        return 1;
    }
    ev->type = PARLEY_SESSION_EVENT;
    ev->reliable = reliable;
    return 1;
}

static int
on_welcome(parley_client *cli, const pl_evmsg *m, parley_session_event *ev)
{
    if (cli->state != C_HELLO) {
        return 0;
    }
    pl_sess_copy_name(cli->name, sizeof cli->name, m->name, m->name_len);
    pl_sess_copy_name(cli->server_name, sizeof cli->server_name, m->sender,
                      m->sender_len);
    memcpy(cli->ev_sender, cli->server_name, sizeof cli->ev_sender);
    cli->state = C_CONNECTED;
    ev->type = PARLEY_SESSION_CONNECTED;
    snprintf(cli->ev_reason, sizeof cli->ev_reason, "connected");
    return 1;
}

static int
on_receive(parley_client *cli, const pl_st_event *tev, parley_session_event *ev)
{
    pl_evmsg m;

    if (pl_evmsg_decode(tev->data, tev->len, &m) != PARLEY_OK) {
        if (cli->state != C_CONNECTED) {
            return 0;
        }
        snprintf(cli->ev_reason, sizeof cli->ev_reason,
                 "malformed message from the server (%zu bytes)", tev->len);
        ev->type = PARLEY_SESSION_ERROR;
        ev->error = PARLEY_EPROTO;
        return 1;
    }
    switch (m.kind) {
    case PL_EV_WELCOME:
        return on_welcome(cli, &m, ev);
    case PL_EV_EVENT:
        return on_event(cli, &m, tev->reliable, ev);
    case PL_EV_ANNOUNCE:
        (void)pl_event_learn(cli->events, m.id, m.name, m.name_len);
        return 0;
    case PL_EV_BYE:
        cli->bye_code = m.code;
        pl_sess_copy_name(cli->bye_reason, sizeof cli->bye_reason, m.sender,
                          m.sender_len);
        return 0;
    default:
        return 0;
    }
}

/* Turns one transport event into at most one session event. */
static int
handle(parley_client *cli, const pl_st_event *tev, parley_session_event *ev)
{
    memset(ev, 0, sizeof *ev);
    cli->ev_reason[0] = '\0';
    memcpy(cli->ev_sender, cli->server_name, sizeof cli->ev_sender);
    ev->reason = cli->ev_reason;
    ev->sender = cli->ev_sender;
    ev->addr = cli->server_addr;
    if (tev->conn != cli->conn || cli->state == C_IDLE) {
        return 0;
    }
    switch (tev->type) {
    case PL_ST_CONNECT:
        if (cli->state == C_CONNECTING) {
            cli->server_addr = tev->addr;
            cli->state = C_HELLO;
            if (send_hello(cli) != PARLEY_OK) {
                cli->tr.ops->disconnect_now(cli->tr.self, cli->conn, 0);
                cli->state = C_IDLE;
                set_error(cli, PARLEY_ENOMEM, "cannot send HELLO", "");
            }
        }
        return 0;
    case PL_ST_CONNECT_FAILED:
        return on_connect_failed(cli, tev, ev);
    case PL_ST_DISCONNECT:
        return on_disconnect(cli, tev, ev);
    case PL_ST_RECEIVE:
        return on_receive(cli, tev, ev);
    default:
        return 0;
    }
}

/* One transport wait; 1 with a session event in *ev (not dispatched). */
static int
pump(parley_client *cli, int timeout_ms, parley_session_event *ev)
{
    int rc;

    release_held(cli);
    rc = cli->tr.ops->service(cli->tr.self, timeout_ms, &cli->held);
    if (rc <= 0) {
        return rc;
    }
    if (handle(cli, &cli->held, ev)) {
        return 1;
    }
    release_held(cli);
    return 2; /* something happened, nothing to report */
}

static int
remaining_ms(uint64_t end)
{
    uint64_t now = parley_time_us();
    return now >= end ? 0 : (int)((end - now + 999) / 1000);
}

int
parley_client_connect(parley_client *cli, const char *addr)
{
    parley_session_event ev;
    uint64_t end;
    int rc = parley_client_connect_start(cli, addr);

    if (rc != PARLEY_OK) {
        return rc;
    }
    /* The transport gives up at connect_timeout_ms; the WELCOME gets the
       same time again. */
    end = parley_time_us() + 2 * (uint64_t)cli->cfg.connect_timeout_ms * 1000;
    while (cli->state == C_CONNECTING || cli->state == C_HELLO) {
        int left = remaining_ms(end);
        if (left == 0) {
            cli->tr.ops->disconnect_now(cli->tr.self, cli->conn, 0);
            set_error(cli, PARLEY_ETIMEDOUT, "no welcome from the server", "");
            cli->state = C_IDLE;
            break;
        }
        if (pump(cli, left, &ev) < 0) {
            break;
        }
    }
    release_held(cli);
    if (cli->state == C_CONNECTED) {
        return PARLEY_OK;
    }
    rc = cli->fail_rc ? cli->fail_rc : PARLEY_ECLOSED;
    close_transport(cli);
    return rc;
}

int
parley_client_service(parley_client *cli, int timeout_ms,
                      parley_session_event *ev)
{
    uint64_t end;

    if (cli == NULL || ev == NULL) {
        return PARLEY_EINVAL;
    }
    if (!cli->open) {
        return PARLEY_ENOTCONN;
    }
    end = parley_time_us() + (timeout_ms > 0 ? (uint64_t)timeout_ms : 0) * 1000;
    for (;;) {
        int rc = pump(cli, timeout_ms < 0 ? -1 : remaining_ms(end), ev);
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            return 0;
        }
        if (rc == 1 && !pl_handlers_dispatch(&cli->handlers, ev)) {
            return 1;
        }
    }
}

int
parley_client_disconnect(parley_client *cli, uint32_t timeout_ms)
{
    parley_session_event ev;
    uint64_t end;
    pl_evmsg m = {0};
    size_t len;

    if (cli == NULL || !cli->open || cli->state == C_IDLE ||
        cli->state == C_LEAVING) {
        return PARLEY_ENOTCONN;
    }
    if (cli->state == C_CONNECTED) {
        m.kind = PL_EV_BYE;
        m.code = PL_BYE_LEAVING;
        m.sender = "";
        if (pl_sess_encode(&cli->ob, &m, &len) == PARLEY_OK) {
            cli->tr.ops->send(cli->tr.self, cli->conn, cli->ob.p, len, 1, 0);
        }
    }
    cli->tr.ops->disconnect(cli->tr.self, cli->conn, PL_BYE_LEAVING);
    cli->state = C_LEAVING;
    end = parley_time_us() + (uint64_t)timeout_ms * 1000;
    while (cli->state == C_LEAVING) {
        int left = remaining_ms(end);
        if (left == 0 || pump(cli, left, &ev) < 0) {
            cli->tr.ops->disconnect_now(cli->tr.self, cli->conn,
                                        PL_BYE_LEAVING);
            break;
        }
    }
    close_transport(cli);
    return PARLEY_OK;
}

/* ---- sending ------------------------------------------------------------- */

static int
client_send(parley_client *cli, uint64_t id, parley_builder *payload,
            uint32_t flags, uint8_t evflags)
{
    const uint8_t *data;
    size_t len;
    int rc;

    if (cli == NULL ||
        (flags & ~(uint32_t)(PARLEY_SEND_UNRELIABLE | PARLEY_SEND_NOW))) {
        return PARLEY_EINVAL;
    }
    if (cli->state != C_CONNECTED) {
        return PARLEY_ENOTCONN;
    }
    rc = pl_sess_payload(payload, cli->events, id, cli->cfg.max_payload, &data,
                         &len);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return pl_sess_send_event(&cli->tr, cli->conn, &cli->announced, &cli->ob,
                              cli->events, evflags, id, NULL, data, len, flags);
}

int
parley_client_send(parley_client *cli, uint64_t id, parley_builder *payload,
                   uint32_t flags)
{
    return client_send(cli, id, payload, flags, 0);
}

int
parley_client_send_all(parley_client *cli, uint64_t id, parley_builder *payload,
                       uint32_t flags)
{
    return client_send(cli, id, payload, flags, PL_EVF_ALL);
}

/* ---- queries and plumbing --------------------------------------------------
 */

const char *
parley_client_last_error(parley_client *cli)
{
    return cli ? cli->last_error : "";
}

int
parley_client_is_connected(parley_client *cli)
{
    return cli != NULL && cli->state == C_CONNECTED;
}

const char *
parley_client_name(parley_client *cli)
{
    return parley_client_is_connected(cli) ? cli->name : NULL;
}

const char *
parley_client_server_name(parley_client *cli)
{
    return parley_client_is_connected(cli) ? cli->server_name : NULL;
}

int
parley_client_on(parley_client *cli, uint64_t id, parley_session_handler fn,
                 void *user)
{
    return cli ? pl_handlers_set_id(&cli->handlers, id, fn, user)
               : PARLEY_EINVAL;
}

int
parley_client_on_type(parley_client *cli, parley_session_event_type type,
                      parley_session_handler fn, void *user)
{
    return cli ? pl_handlers_set_type(&cli->handlers, type, fn, user)
               : PARLEY_EINVAL;
}

int
parley_client_get_stats(parley_client *cli, parley_peer_stats *out)
{
    if (cli == NULL || out == NULL) {
        return PARLEY_EINVAL;
    }
    if (!cli->open || cli->state == C_IDLE) {
        return PARLEY_ENOTCONN;
    }
    return cli->tr.ops->stats(cli->tr.self, cli->conn, out);
}

int
parley_client_local_addr(parley_client *cli, parley_addr *out)
{
    if (cli == NULL || out == NULL) {
        return PARLEY_EINVAL;
    }
    return cli->open ? cli->tr.ops->local_addr(cli->tr.self, out)
                     : PARLEY_ENOTCONN;
}

int
parley_client_fd(parley_client *cli)
{
    return cli && cli->open ? cli->tr.ops->fd(cli->tr.self) : -1;
}

int
parley_client_next_timeout_ms(parley_client *cli)
{
    return cli && cli->open ? cli->tr.ops->next_timeout_ms(cli->tr.self) : -1;
}

int
parley_client_interrupt(parley_client *cli)
{
    return cli && cli->open ? cli->tr.ops->interrupt(cli->tr.self)
                            : PARLEY_ENOTCONN;
}

int
parley_client_set_sim(parley_client *cli, const parley_sim_config *outgoing,
                      const parley_sim_config *incoming)
{
    parley_sim *probe = NULL;

    if (cli == NULL) {
        return PARLEY_EINVAL;
    }
    if (cli->cfg.transport == PARLEY_TRANSPORT_TCP) {
        return PARLEY_ENOTSUP; /* the simulator works on UDP datagrams */
    }
    /* Check the settings now, even when nothing is open yet. */
    for (int i = 0; i < 2; i++) {
        const parley_sim_config *c = i ? incoming : outgoing;
        if (c != NULL) {
            int rc = parley_sim_create(c, &probe);
            if (rc != PARLEY_OK) {
                return rc;
            }
            parley_sim_destroy(probe);
        }
    }
    cli->sim_out_on = outgoing != NULL;
    cli->sim_in_on = incoming != NULL;
    if (outgoing) {
        cli->sim_out = *outgoing;
    }
    if (incoming) {
        cli->sim_in = *incoming;
    }
    return cli->open ? cli->tr.ops->set_sim(cli->tr.self, outgoing, incoming)
                     : PARLEY_OK;
}
