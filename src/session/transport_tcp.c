/*
 * The session transport over TCP (parley_tcp in polling mode): every
 * datagram has a 4-byte little-endian length header and starts with one
 * frame-type byte (a message, or the small handshake and close frames
 * that stand in for what parley_host does itself). docs/events.md and
 * docs/PROTOCOL.md describe the framing.
 */
#include "session/transport.h"

#include <stdatomic.h>
#include <string.h>

#include "parley/error.h"
#include "payload/internal.h"
#include "util/alloc.h"

/* Frame types: the first byte of every datagram. */
enum {
    F_MSG = 0x01,    /* a message sent reliably */
    F_UNREL = 0x02,  /* a message the sender sent unreliable */
    F_ACCEPT = 0x10, /* server -> client: "PLST", version */
    F_REFUSE = 0x11, /* server -> client: a REJECT reason byte */
    F_CLOSE = 0x12   /* either way: uint32 LE app code, then goodbye */
};

#define TCP_VERSION 1
/* REFUSE reasons: the values of the UDP handshake's REJECT. */
enum { R_VERSION = 1, R_FULL = 2, R_REJECTED = 3 };
/* Extra bytes a datagram carries beyond the message: the type byte. */
#define FRAME_EXTRA 1
/* Queued output beyond which unreliable messages are dropped (counted in
   packets_lost) rather than queued behind everything else. */
#define UNREL_BACKLOG (64u * 1024u)
/* How long a graceful close or a refusal waits for the peer's close. */
#define CLOSE_WAIT_MS 3000
#define DEF_KEEPALIVE_MS 1000
#define DEF_IDLE_MS 5000

typedef enum tstate {
    T_HANDSHAKE = 1, /* client: waiting for ACCEPT */
    T_OPEN = 2,
    T_CLOSING = 3, /* we sent CLOSE: waiting for the peer to close */
    T_REFUSING = 4 /* server: REFUSE sent, waiting for the peer to close */
} tstate;

typedef struct tconn {
    parley_conn id;
    parley_addr addr;
    tstate state;
    uint64_t deadline_us; /* 0: none */
    uint32_t app_code;    /* T_CLOSING: ours */
    uint64_t dropped;     /* unreliable messages dropped */
} tconn;

typedef struct tcp_st {
    parley_tcp *tcp;
    parley_tcp_listener *lis; /* server only */
    parley_tcp_reader *rd;
    parley_conn rendezvous;
    int accept_incoming;
    uint32_t max_conns;
    uint32_t nopen; /* handshaking and open connections */
    uint32_t connect_timeout_ms;
    pl_idmap conns; /* parley_conn -> tconn */
    size_t ndeadlines;
    pl_st_event *q; /* events made here, oldest at qhead */
    size_t qhead, qlen, qcap;
    parley_tcp_datagram *spare; /* a holder for the next datagram */
    uint8_t *sbuf;              /* a frame being built */
    size_t scap;
    atomic_int interrupted;
} tcp_st;

/* ---- connections and the event queue ----------------------------------- */

static int
push(tcp_st *t, const pl_st_event *ev)
{
    if (t->qlen == t->qcap) {
        size_t n = t->qcap ? t->qcap * 2 : 16;
        pl_st_event *q = pl_malloc(n * sizeof *q);
        if (q == NULL) {
            return PARLEY_ENOMEM;
        }
        for (size_t i = 0; i < t->qlen; i++) {
            q[i] = t->q[(t->qhead + i) % t->qcap];
        }
        pl_free(t->q);
        t->q = q;
        t->qcap = n;
        t->qhead = 0;
    }
    t->q[(t->qhead + t->qlen) % t->qcap] = *ev;
    t->qlen++;
    return PARLEY_OK;
}

static int
pop(tcp_st *t, pl_st_event *ev)
{
    if (t->qlen == 0) {
        return 0;
    }
    *ev = t->q[t->qhead];
    t->qhead = (t->qhead + 1) % t->qcap;
    t->qlen--;
    return 1;
}

static void
set_deadline(tcp_st *t, tconn *c, uint64_t at)
{
    t->ndeadlines += (at != 0) - (c->deadline_us != 0);
    c->deadline_us = at;
}

/* Forgets c (its id is closed or released already). */
static void
forget(tcp_st *t, tconn *c)
{
    if (c->state == T_HANDSHAKE || c->state == T_OPEN ||
        c->state == T_CLOSING) {
        t->nopen--;
    }
    set_deadline(t, c, 0);
    pl_idmap_del(&t->conns, c->id);
    pl_free(c);
}

/*
 * Ends c: closes its socket (unless the manager already did), tells the
 * session what it would have been told over UDP, forgets it.
 */
static void
end_conn(tcp_st *t, tconn *c, int closed, parley_reason reason, int error,
         uint32_t app_code)
{
    pl_st_event ev;

    if (!closed) {
        parley_tcp_close(t->tcp, c->id);
    }
    memset(&ev, 0, sizeof ev);
    ev.conn = c->id;
    ev.addr = c->addr;
    ev.reason = reason;
    ev.error = error;
    ev.app_code = app_code;
    if (c->state == T_HANDSHAKE) {
        ev.type = PL_ST_CONNECT_FAILED;
    } else if (c->state == T_OPEN) {
        ev.type = PL_ST_DISCONNECT;
    } else if (c->state == T_CLOSING) {
        ev.type = PL_ST_DISCONNECT;
        ev.reason = PARLEY_REASON_LOCAL;
        ev.app_code = c->app_code;
    }
    /* Out of memory for the event: the session then never hears of this
       connection's end; its timers (hello, stop) still clean up. */
    if (ev.type != PL_ST_NONE) {
        (void)push(t, &ev);
    }
    forget(t, c);
}

static tconn *
add_conn(tcp_st *t, parley_conn id, const parley_addr *addr, tstate st)
{
    tconn *c = pl_calloc(1, sizeof *c);

    if (c == NULL) {
        return NULL;
    }
    c->id = id;
    if (addr != NULL) {
        c->addr = *addr;
    }
    c->state = st;
    if (pl_idmap_put(&t->conns, id, c) != PARLEY_OK ||
        parley_tcp_reader_add(t->rd, id) != PARLEY_OK) {
        pl_idmap_del(&t->conns, id);
        pl_free(c);
        return NULL;
    }
    if (st != T_REFUSING) {
        t->nopen++;
    }
    return c;
}

/* Sends one frame: type, then head[0..hlen), then body[0..blen). */
static int
send_frame(tcp_st *t, parley_conn id, uint8_t type, const void *head,
           size_t hlen, const void *body, size_t blen)
{
    size_t n = FRAME_EXTRA + hlen + blen;

    if (n > t->scap) {
        uint8_t *b = pl_realloc(t->sbuf, n);
        if (b == NULL) {
            return PARLEY_ENOMEM;
        }
        t->sbuf = b;
        t->scap = n;
    }
    t->sbuf[0] = type;
    if (hlen > 0) {
        memcpy(t->sbuf + 1, head, hlen);
    }
    if (blen > 0) {
        memcpy(t->sbuf + 1 + hlen, body, blen);
    }
    return parley_tcp_send(t->tcp, id, t->sbuf, n);
}

static int
send_close(tcp_st *t, parley_conn id, uint32_t code)
{
    uint8_t b[4] = {(uint8_t)code, (uint8_t)(code >> 8), (uint8_t)(code >> 16),
                    (uint8_t)(code >> 24)};

    return send_frame(t, id, F_CLOSE, b, 4, NULL, 0);
}

/* ---- incoming ----------------------------------------------------------- */

static void
on_accept(tcp_st *t, const parley_tcp_accept *a)
{
    static const uint8_t hello[5] = {'P', 'L', 'S', 'T', TCP_VERSION};
    uint8_t full = R_FULL;
    pl_st_event ev;
    tconn *c;

    if (!t->accept_incoming) {
        parley_tcp_close(t->tcp, a->conn);
        return;
    }
    if (t->nopen >= t->max_conns) {
        /* Tell the client why, and let it close first, so that nothing
           it already sent turns our close into a reset. */
        c = add_conn(t, a->conn, &a->addr, T_REFUSING);
        if (c == NULL ||
            send_frame(t, a->conn, F_REFUSE, &full, 1, NULL, 0) != 0) {
            parley_tcp_close(t->tcp, a->conn);
            if (c != NULL) {
                forget(t, c);
            }
            return;
        }
        set_deadline(t, c, parley_time_us() + CLOSE_WAIT_MS * 1000ull);
        return;
    }
    c = add_conn(t, a->conn, &a->addr, T_OPEN);
    if (c == NULL ||
        send_frame(t, a->conn, F_ACCEPT, hello, 5, NULL, 0) != PARLEY_OK) {
        parley_tcp_close(t->tcp, a->conn);
        if (c != NULL) {
            forget(t, c);
        }
        return;
    }
    memset(&ev, 0, sizeof ev);
    ev.type = PL_ST_CONNECT;
    ev.conn = c->id;
    ev.addr = c->addr;
    if (push(t, &ev) != PARLEY_OK) {
        parley_tcp_close(t->tcp, c->id);
        forget(t, c);
    }
}

/* The client's side of the handshake: ACCEPT or REFUSE. */
static void
on_handshake(tcp_st *t, tconn *c, const uint8_t *p, size_t n)
{
    parley_tcp_info info;
    pl_st_event ev;

    if (p[0] == F_REFUSE && n >= 2) {
        end_conn(t, c, 0,
                 p[1] == R_FULL      ? PARLEY_REASON_FULL
                 : p[1] == R_VERSION ? PARLEY_REASON_VERSION
                                     : PARLEY_REASON_REJECTED,
                 0, 0);
        return;
    }
    if (p[0] != F_ACCEPT || n < 6 || memcmp(p + 1, "PLST", 4) != 0) {
        /* Not a parley session server: the error says so. */
        end_conn(t, c, 0, PARLEY_REASON_NONE, PARLEY_EPROTO, 0);
        return;
    }
    if (p[5] != TCP_VERSION) {
        end_conn(t, c, 0, PARLEY_REASON_VERSION, 0, 0);
        return;
    }
    if (parley_tcp_get_info(t->tcp, c->id, &info) == PARLEY_OK &&
        info.peer.family != 0) {
        c->addr = info.peer;
    }
    c->state = T_OPEN;
    set_deadline(t, c, 0);
    memset(&ev, 0, sizeof ev);
    ev.type = PL_ST_CONNECT;
    ev.conn = c->id;
    ev.addr = c->addr;
    if (push(t, &ev) != PARLEY_OK) {
        end_conn(t, c, 0, PARLEY_REASON_LOCAL, PARLEY_ENOMEM, 0);
    }
}

static uint32_t
get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/*
 * One datagram. Returns 1 when it is a message for the session (ev is
 * filled and holds the datagram), else 0 (handled here and released).
 */
static int
on_datagram(tcp_st *t, parley_tcp_datagram *dg, pl_st_event *ev)
{
    tconn *c = pl_idmap_get(&t->conns, dg->conn);
    const uint8_t *p = dg->data;
    size_t n = dg->len;

    if (c == NULL || n == 0 || c->state == T_REFUSING) {
        return 0; /* gone, a keepalive, or a refused client's talk */
    }
    if (c->state == T_HANDSHAKE) {
        on_handshake(t, c, p, n);
        return 0;
    }
    if (p[0] == F_MSG || p[0] == F_UNREL) {
        memset(ev, 0, sizeof *ev);
        ev->type = PL_ST_RECEIVE;
        ev->conn = c->id;
        ev->addr = c->addr;
        ev->data = p + 1;
        ev->len = n - 1;
        ev->reliable = p[0] == F_MSG;
        return 1;
    }
    if (p[0] == F_CLOSE && n >= 5) {
        end_conn(t, c, 0, PARLEY_REASON_GRACEFUL, 0, get_u32le(p + 1));
        return 0;
    }
    end_conn(t, c, 0, PARLEY_REASON_PROTOCOL, PARLEY_EPROTO, 0);
    return 0;
}

static void
on_reset(tcp_st *t, const parley_tcp_reset *r)
{
    tconn *c = pl_idmap_get(&t->conns, r->conn);
    parley_reason reason = PARLEY_REASON_NONE;

    if (c == NULL) {
        return;
    }
    if (r->reason == PARLEY_ETIMEDOUT) {
        reason = c->state == T_HANDSHAKE ? PARLEY_REASON_CONNECT_TIMEOUT
                                         : PARLEY_REASON_TIMEOUT;
    } else if (r->reason == PARLEY_EMSGSIZE || r->reason == PARLEY_EPROTO) {
        reason = PARLEY_REASON_PROTOCOL;
    } else if (r->reason == PARLEY_ECLOSED && c->state != T_HANDSHAKE) {
        reason = PARLEY_REASON_GRACEFUL; /* closed without a word */
    }
    end_conn(t, c, 1, reason, r->reason, 0);
}

/* Handshakes, closes and refusals that ran out of time. */
static void
run_timers(tcp_st *t)
{
    uint64_t now = parley_time_us();

    for (size_t i = 0; t->ndeadlines > 0 && i < t->conns.cap; i++) {
        tconn *c = t->conns.ents[i].val;
        if (c == NULL || c->deadline_us == 0 || now < c->deadline_us) {
            continue;
        }
        /* end_conn only removes c, which the walk does not revisit. */
        if (c->state == T_HANDSHAKE) {
            end_conn(t, c, 0, PARLEY_REASON_CONNECT_TIMEOUT, PARLEY_ETIMEDOUT,
                     0);
        } else {
            end_conn(t, c, 0, PARLEY_REASON_LOCAL, 0, 0);
        }
    }
}

/*
 * Takes what the manager has queued, in an order that keeps each
 * connection's story straight: accepts, then datagrams, then resets
 * (a reset is queued after the datagrams that preceded it). Returns 1
 * with an event, 0 when nothing is ready, or PARLEY_ENOMEM.
 */
static int
step(tcp_st *t, pl_st_event *ev)
{
    parley_tcp_accept a;
    parley_tcp_reset r;

    for (;;) {
        parley_tcp_datagram *dg;

        if (pop(t, ev)) {
            return 1;
        }
        run_timers(t);
        while (t->qlen == 0 && t->lis != NULL &&
               parley_tcp_listener_get(t->lis, &a) == 1) {
            on_accept(t, &a);
        }
        if (t->qlen > 0) {
            continue;
        }
        /* The holder is allocated before the datagram is taken, so that
           running out of memory loses nothing. */
        if (t->spare == NULL) {
            t->spare = pl_malloc(sizeof *t->spare);
            if (t->spare == NULL) {
                return PARLEY_ENOMEM;
            }
        }
        dg = t->spare;
        if (parley_tcp_reader_get(t->rd, dg) == 1) {
            if (on_datagram(t, dg, ev)) {
                ev->raw_.internal_ = dg; /* freed by tcp_release */
                t->spare = NULL;
                return 1;
            }
            parley_tcp_datagram_release(dg);
            continue;
        }
        if (parley_tcp_get_reset(t->tcp, &r) == 1) {
            on_reset(t, &r);
            continue;
        }
        return 0;
    }
}

/* ---- ops ---------------------------------------------------------------- */

static int
next_deadline_ms(tcp_st *t)
{
    uint64_t now = parley_time_us();
    uint64_t best = UINT64_MAX;

    if (t->qlen > 0) {
        return 0;
    }
    for (size_t i = 0; t->ndeadlines > 0 && i < t->conns.cap; i++) {
        const tconn *c = t->conns.ents[i].val;
        if (c != NULL && c->deadline_us != 0 && c->deadline_us < best) {
            best = c->deadline_us;
        }
    }
    if (best == UINT64_MAX) {
        return -1;
    }
    return best <= now ? 0 : (int)((best - now + 999) / 1000);
}

static int
tcp_service(void *self, int timeout_ms, pl_st_event *ev)
{
    tcp_st *t = self;
    uint64_t end =
        parley_time_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
    int done = 0;

    parley_tcp_poll(t->tcp);
    for (;;) {
        int rc = step(t, ev);
        int wait = -1;
        int dl;
        uint64_t now;

        if (rc != 0 || done) {
            return rc;
        }
        now = parley_time_us();
        if (timeout_ms >= 0) {
            wait = now >= end ? 0 : (int)((end - now + 999) / 1000);
            done = wait == 0;
        }
        dl = next_deadline_ms(t);
        if (dl >= 0 && (wait < 0 || dl < wait)) {
            wait = dl;
        }
        if (parley_tcp_wait(t->tcp, wait) == 0 &&
            atomic_exchange(&t->interrupted, 0)) {
            done = 1;
        }
    }
}

static void
tcp_release(void *self, pl_st_event *ev)
{
    (void)self;
    if (ev->type == PL_ST_RECEIVE && ev->raw_.internal_ != NULL) {
        parley_tcp_datagram_release(ev->raw_.internal_);
        pl_free(ev->raw_.internal_);
        ev->raw_.internal_ = NULL;
    }
    ev->type = PL_ST_NONE;
}

static int
tcp_connect(void *self, const parley_addr *to, uint64_t *conn)
{
    tcp_st *t = self;
    char text[PARLEY_ADDR_STRLEN + 16];
    parley_conn id = PARLEY_CONN_NONE;
    tconn *c;
    int rc;

    if (t->nopen >= t->max_conns) {
        return PARLEY_EFULL;
    }
    rc = parley_addr_format(to, text, sizeof text);
    if (rc < 0 || (size_t)rc >= sizeof text) {
        return PARLEY_EADDR;
    }
    rc =
        parley_tcp_connect_start(t->tcp, text, (int)t->connect_timeout_ms, &id);
    if (rc != PARLEY_OK) {
        return rc;
    }
    c = add_conn(t, id, to, T_HANDSHAKE);
    if (c == NULL) {
        parley_tcp_close(t->tcp, id);
        return PARLEY_ENOMEM;
    }
    set_deadline(t, c,
                 parley_time_us() + (uint64_t)t->connect_timeout_ms * 1000);
    *conn = id;
    return PARLEY_OK;
}

static int
tcp_send(void *self, uint64_t conn, const void *data, size_t len, int reliable,
         int now)
{
    tcp_st *t = self;
    tconn *c = pl_idmap_get(&t->conns, conn);
    int rc;

    if (c == NULL || c->state != T_OPEN) {
        return PARLEY_ENOTCONN;
    }
    if (!reliable) {
        parley_tcp_info info;
        /* Unreliable means "a newer one will do": rather than queue it
           behind a backlog, drop it, as a congested UDP link would. */
        if (parley_tcp_get_info(t->tcp, conn, &info) == PARLEY_OK &&
            info.out_queued > UNREL_BACKLOG) {
            c->dropped++;
            return PARLEY_OK;
        }
    }
    rc = send_frame(t, conn, reliable ? F_MSG : F_UNREL, NULL, 0, data, len);
    if (rc == PARLEY_OK && now) {
        parley_tcp_flush(t->tcp, conn);
    }
    return rc;
}

static int
tcp_flush(void *self)
{
    tcp_st *t = self;

    for (size_t i = 0; i < t->conns.cap; i++) {
        const tconn *c = t->conns.ents[i].val;
        if (c != NULL) {
            parley_tcp_flush(t->tcp, c->id);
        }
    }
    return PARLEY_OK;
}

static int
tcp_disconnect(void *self, uint64_t conn, uint32_t code)
{
    tcp_st *t = self;
    tconn *c = pl_idmap_get(&t->conns, conn);

    if (c == NULL) {
        return PARLEY_ENOTCONN;
    }
    if (c->state == T_HANDSHAKE) {
        end_conn(t, c, 0, PARLEY_REASON_LOCAL, 0, 0);
    } else if (c->state == T_OPEN) {
        /* Whatever was sent before goes first: TCP keeps the order. */
        int rc = send_close(t, conn, code);
        c->state = T_CLOSING;
        c->app_code = code;
        if (rc != PARLEY_OK) {
            /* No room for the CLOSE: end now (DISCONNECT follows). */
            end_conn(t, c, 0, PARLEY_REASON_LOCAL, 0, code);
        } else {
            set_deadline(t, c, parley_time_us() + CLOSE_WAIT_MS * 1000ull);
        }
    }
    return PARLEY_OK;
}

static int
tcp_disconnect_now(void *self, uint64_t conn, uint32_t code)
{
    tcp_st *t = self;
    tconn *c = pl_idmap_get(&t->conns, conn);

    if (c == NULL) {
        return PARLEY_ENOTCONN;
    }
    if (c->state == T_OPEN) {
        (void)send_close(t, conn, code); /* best effort, as over UDP */
    }
    parley_tcp_close(t->tcp, conn);
    forget(t, c);
    return PARLEY_OK;
}

static int
tcp_stats(void *self, uint64_t conn, parley_peer_stats *out)
{
    tcp_st *t = self;
    tconn *c = pl_idmap_get(&t->conns, conn);
    parley_tcp_info info;
    int rc;

    if (c == NULL || out == NULL) {
        return PARLEY_ENOTCONN;
    }
    rc = parley_tcp_get_info(t->tcp, conn, &info);
    if (rc != PARLEY_OK) {
        return rc;
    }
    memset(out, 0, sizeof *out);
    out->state = c->state == T_OPEN      ? PARLEY_PEER_CONNECTED
                 : c->state == T_CLOSING ? PARLEY_PEER_DISCONNECTING
                                         : PARLEY_PEER_CONNECTING;
    out->addr = c->addr;
    out->bytes_in = info.bytes_in;
    out->bytes_out = info.bytes_out;
    out->messages_in = info.datagrams_in;
    out->messages_out = info.datagrams_out;
    out->packets_in = info.datagrams_in;
    out->packets_out = info.datagrams_out;
    out->packets_lost = c->dropped;
    out->out_buffer_bytes = info.out_queued;
    return PARLEY_OK;
}

static int
tcp_local_addr(void *self, parley_addr *out)
{
    tcp_st *t = self;
    parley_tcp_info info;
    parley_conn id = t->rendezvous;
    int rc;

    for (size_t i = 0; id == PARLEY_CONN_NONE && i < t->conns.cap; i++) {
        const tconn *c = t->conns.ents[i].val;
        if (c != NULL) {
            id = c->id;
        }
    }
    if (id == PARLEY_CONN_NONE) {
        return PARLEY_ENOTCONN;
    }
    rc = parley_tcp_get_info(t->tcp, id, &info);
    if (rc == PARLEY_OK) {
        *out = info.local;
    }
    return rc;
}

static int
tcp_fd(void *self)
{
    return parley_tcp_fd(((tcp_st *)self)->tcp);
}

static int
tcp_next_timeout(void *self)
{
    tcp_st *t = self;
    int a = parley_tcp_next_timeout_ms(t->tcp);
    int b = next_deadline_ms(t);

    if (a < 0) {
        return b;
    }
    return b >= 0 && b < a ? b : a;
}

static int
tcp_interrupt(void *self)
{
    tcp_st *t = self;

    atomic_store(&t->interrupted, 1);
    return parley_tcp_interrupt(t->tcp);
}

static int
tcp_set_sim(void *self, const parley_sim_config *out,
            const parley_sim_config *in)
{
    (void)self;
    (void)out;
    (void)in;
    return PARLEY_ENOTSUP; /* the simulator works on UDP datagrams */
}

static void
tcp_destroy(void *self)
{
    tcp_st *t = self;

    for (size_t i = 0; i < t->conns.cap; i++) {
        pl_free(t->conns.ents[i].val);
    }
    pl_idmap_free(&t->conns);
    parley_tcp_destroy(t->tcp); /* listener and reader with it */
    pl_free(t->q);
    pl_free(t->spare);
    pl_free(t->sbuf);
    pl_free(t);
}

static const pl_st_ops tcp_ops = {
    "tcp",         tcp_service,    tcp_release,    tcp_connect,
    tcp_send,      tcp_flush,      tcp_disconnect, tcp_disconnect_now,
    tcp_stats,     tcp_local_addr, tcp_fd,         tcp_next_timeout,
    tcp_interrupt, tcp_set_sim,    tcp_destroy,
};

/* ---- open --------------------------------------------------------------- */

/* The connection options: the caller's, with the session's framing. */
static int
make_options(const pl_st_config *cfg, parley_tcp_options *o)
{
    parley_tcp_config def;

    parley_tcp_config_init(&def);
    *o = def.conn;
    if (cfg->tcp != NULL) {
        *o = *cfg->tcp;
    } else {
        o->keepalive_ms = DEF_KEEPALIVE_MS;
        o->idle_timeout_ms = DEF_IDLE_MS;
    }
    /* A live but quiet peer must not look dead. */
    if (o->idle_timeout_ms != 0 &&
        (o->keepalive_ms == 0 || o->keepalive_ms >= o->idle_timeout_ms)) {
        return PARLEY_EINVAL;
    }
    o->header = PARLEY_TCP_HEADER_4;
    o->max_datagram =
        (cfg->max_message ? cfg->max_message : (1u << 20) + 1024) + FRAME_EXTRA;
    return PARLEY_OK;
}

static int
open_manager(tcp_st *t, const pl_st_config *cfg)
{
    parley_tcp_config tc;
    int rc;

    parley_tcp_config_init(&tc);
    rc = make_options(cfg, &tc.conn);
    if (rc != PARLEY_OK) {
        return rc;
    }
    /* Room for refusals past max_conns (each closes within
       CLOSE_WAIT_MS); beyond that the manager closes at once. */
    tc.max_connections = t->max_conns * 2 + 8;
    rc = parley_tcp_create(&tc, &t->tcp);
    if (rc == PARLEY_OK) {
        rc = parley_tcp_reader_create(t->tcp, NULL, &t->rd);
    }
    if (rc == PARLEY_OK && t->accept_incoming) {
        rc = parley_tcp_listener_create(t->tcp, NULL, &t->lis);
        if (rc == PARLEY_OK) {
            rc = parley_tcp_listen(t->tcp, cfg->bind, 0, &t->rendezvous);
        }
        if (rc == PARLEY_OK) {
            rc = parley_tcp_listener_add(t->lis, t->rendezvous);
        }
    }
    return rc;
}

int
pl_st_tcp_open(const pl_st_config *cfg, pl_st *out)
{
    tcp_st *t;
    int rc;

    if (cfg == NULL || out == NULL ||
        (cfg->accept_incoming && cfg->bind == NULL)) {
        return PARLEY_EINVAL;
    }
    t = pl_calloc(1, sizeof *t);
    if (t == NULL) {
        return PARLEY_ENOMEM;
    }
    t->accept_incoming = cfg->accept_incoming;
    t->max_conns = cfg->max_conns ? cfg->max_conns : 64;
    t->connect_timeout_ms =
        cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 5000;
    pl_idmap_init(&t->conns);
    atomic_init(&t->interrupted, 0);
    rc = open_manager(t, cfg);
    if (rc != PARLEY_OK) {
        parley_tcp_destroy(t->tcp);
        pl_free(t);
        return rc;
    }
    out->ops = &tcp_ops;
    out->self = t;
    return PARLEY_OK;
}
