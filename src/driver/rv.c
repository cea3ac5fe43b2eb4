/*
 * The RV endpoint (include/parley/rv.h): a listening socket plus any number
 * of contacts on one poller, each a sans-I/O rv_conn joined to a
 * nonblocking TCP socket. This file holds the life cycle, the I/O loop
 * and the event queue; rv_api.c holds the calls an app makes on contacts.
 */
#include <string.h>

#include <sodium.h>

#include "driver/rv_ep.h"
#include "util/alloc.h"

/* Bytes read from one contact per pass, so a busy one cannot starve the
   others; the poller is level-triggered and brings us back. */
#define READ_PER_PASS ((size_t)1 << 20)
/* Bytes written to one contact per pass. */
#define WRITE_PER_PASS ((size_t)4 << 20)
/* Connections accepted per pass. */
#define ACCEPT_PER_PASS 64
#define POLL_EVENTS 64

static const char *const g_reason_names[] = {
    "none", "disconnect", "closed", "local", "error", "timeout",
};

const char *
parley_rv_reason_name(parley_rv_reason reason)
{
    size_t n = sizeof g_reason_names / sizeof g_reason_names[0];
    return (size_t)reason < n ? g_reason_names[reason] : "unknown";
}

static const char *const g_event_names[] = {
    "none",       "request",   "contact",     "contact-left", "connect-failed",
    "error",      "event",     "returnevent", "return",       "message",
    "disconnect", "pixeltile", "dataevent",   "data",
};

const char *
parley_rv_event_name(parley_rv_event_type type)
{
    size_t n = sizeof g_event_names / sizeof g_event_names[0];
    return (size_t)type < n ? g_event_names[type] : "unknown";
}

void
parley_sha256(const void *data, size_t len, uint8_t out[32])
{
    static const uint8_t empty = 0;
    if (!out) {
        return;
    }
    crypto_hash_sha256(out, data ? data : &empty, data ? len : 0);
}

void
parley_rv_config_init(parley_rv_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->contact_name = "parley";
    cfg->app_name = "parley";
    cfg->listen = "0.0.0.0:45124";
    cfg->ping_interval_ms = 15000;
    cfg->pong_timeout_ms = 600000;
    cfg->transfer_timeout_ms = 600000;
    cfg->handshake_timeout_ms = 60000;
    cfg->linger_ms = 10000;
    cfg->max_contacts = 1024;
    cfg->max_header = 4096;
    cfg->max_text = (size_t)16 << 20;
    cfg->max_data = (size_t)256 << 20;
    cfg->max_memory = (size_t)1 << 30;
    cfg->max_queued = (size_t)512 << 20;
}

/* ---- ids, events ------------------------------------------------------- */

pl_rv_slot *
pl_rv_ep_lookup(parley_rv *rv, parley_rv_contact id)
{
    uint64_t idx = (id & 0xffffffffu);
    if (!rv || idx == 0 || idx > rv->nslots) {
        return NULL;
    }
    pl_rv_slot *s = &rv->slots[idx - 1];
    return s->c && s->gen == (uint32_t)(id >> 32) ? s : NULL;
}

parley_rv_contact
pl_rv_ep_id(const parley_rv *rv, const pl_rv_slot *s)
{
    return ((uint64_t)s->gen << 32) | (uint64_t)(s - rv->slots + 1);
}

/* The connections' event sink: a RETURN some call waits for goes to it,
   everything else to the queue. */
static void
sink(void *user, pl_rv_rec *r)
{
    parley_rv *rv = user;
    for (pl_rv_waiter *w = rv->waiters; w; w = w->next) {
        if (w->contact != r->ev.contact) {
            continue;
        }
        w->hits++;
        if (!w->got && r->ev.type == PARLEY_RV_EV_RETURN &&
            w->seq != PARLEY_RV_SEQ_NONE && r->ev.seq == w->seq) {
            w->got = r;
            return;
        }
    }
    r->next = NULL;
    if (rv->qtail) {
        rv->qtail->next = r;
    } else {
        rv->qhead = r;
    }
    rv->qtail = r;
}

static pl_rv_rec *
queue_pop(parley_rv *rv)
{
    pl_rv_rec *r = rv->qhead;
    if (r) {
        rv->qhead = r->next;
        if (!rv->qhead) {
            rv->qtail = NULL;
        }
        r->next = NULL;
    }
    return r;
}

static int
media_format(void *user, const uint8_t *media, size_t len, int *ch, int *bpc)
{
    parley_rv *rv = user;
    for (pl_rv_fmt *f = rv->fmts; f; f = f->next) {
        if (f->len == len && memcmp(f->media, media, len) == 0) {
            *ch = f->channels;
            *bpc = f->bpc;
            return 1;
        }
    }
    return 0;
}

/* ---- create / destroy -------------------------------------------------- */

static int
name_ok(const char *s, int is_app)
{
    if (!s || !*s) {
        return 0;
    }
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= ' ' || (!is_app && *p == '@')) {
            return 0;
        }
    }
    return !is_app || strcmp(s, "rv") != 0;
}

static int
config_ok(const parley_rv_config *cfg)
{
    return name_ok(cfg->contact_name, 0) && name_ok(cfg->app_name, 1) &&
           cfg->max_contacts > 0 && cfg->max_header >= 32 &&
           cfg->max_header <= 65536 && cfg->max_text > 0 && cfg->max_data > 0 &&
           cfg->max_memory > 0 && cfg->max_queued > 0 &&
           cfg->ping_interval_ms > 0 && cfg->pong_timeout_ms > 0;
}

static char *
dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = pl_malloc(n);
    if (p) {
        memcpy(p, s, n);
    }
    return p;
}

static void
set_params(parley_rv *rv, const parley_rv_config *cfg)
{
    pl_rv_params *pp = &rv->pp;
    pp->name = rv->name;
    pp->app = rv->app;
    pp->lim.max_head = cfg->max_header;
    pp->lim.max_text = cfg->max_text;
    pp->lim.max_data = cfg->max_data;
    pp->pingpong = cfg->pingpong ? 1 : 0;
    pp->manual_accept = cfg->manual_accept ? 1 : 0;
    pp->ping_us = (uint64_t)cfg->ping_interval_ms * 1000;
    pp->pong_us = (uint64_t)cfg->pong_timeout_ms * 1000;
    pp->transfer_us = (uint64_t)cfg->transfer_timeout_ms * 1000;
    pp->handshake_us = (uint64_t)cfg->handshake_timeout_ms * 1000;
    pp->linger_us = (uint64_t)cfg->linger_ms * 1000;
    pp->max_queued = cfg->max_queued;
    rv->budget.limit = cfg->max_memory;
    pp->budget = &rv->budget;
    pp->emit = sink;
    pp->emit_user = rv;
    pp->format = media_format;
    pp->format_user = rv;
}

static int
open_listener(parley_rv *rv, const char *text)
{
    parley_addr a;
    int rc = parley_addr_resolve(text, PARLEY_RV_PORT, PARLEY_AF_UNSPEC, &a);
    if (rc != PARLEY_OK) {
        return rc;
    }
    static const uint8_t any6[16];
    int dual = a.family == PARLEY_AF_INET6 && memcmp(a.ip, any6, 16) == 0;
    rc = pl_os_tcp_listen(&a, 128, dual, &rv->lfd);
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_add(rv->poller, rv->lfd, PL_OS_POLL_IN, &rv->lfd);
    }
    return rc;
}

static int
setup(parley_rv *rv, const parley_rv_config *cfg)
{
    rv->name = dup_str(cfg->contact_name);
    rv->app = dup_str(cfg->app_name);
    rv->slots = pl_calloc(cfg->max_contacts, sizeof *rv->slots);
    if (!rv->name || !rv->app || !rv->slots) {
        return PARLEY_ENOMEM;
    }
    rv->nslots = cfg->max_contacts;
    for (uint32_t i = 0; i < rv->nslots; i++) {
        rv->slots[i].gen = 1;
        rv->slots[i].fd = -1;
    }
    set_params(rv, cfg);
    int rc = pl_os_poller_create(PL_OS_POLLER_DEFAULT, &rv->poller);
    if (rc == PARLEY_OK) {
        rc = pl_os_wakeup_create(PL_OS_WAKEUP_DEFAULT, &rv->wake);
    }
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_add(rv->poller, pl_os_wakeup_fd(rv->wake),
                              PL_OS_POLL_IN, rv->wake);
    }
    if (rc == PARLEY_OK && cfg->listen) {
        rc = open_listener(rv, cfg->listen);
    }
    return rc;
}

int
parley_rv_create(const parley_rv_config *cfg, parley_rv **out)
{
    if (!cfg || !out || !config_ok(cfg)) {
        return PARLEY_EINVAL;
    }
    parley_rv *rv = pl_calloc(1, sizeof *rv);
    if (!rv) {
        return PARLEY_ENOMEM;
    }
    rv->lfd = -1;
    rv->on_event = cfg->on_event;
    rv->user = cfg->user;
    int rc = setup(rv, cfg);
    if (rc != PARLEY_OK) {
        parley_rv_destroy(rv);
        return rc;
    }
    *out = rv;
    return PARLEY_OK;
}

static void
waiters_gone(parley_rv *rv, pl_rv_slot *s)
{
    parley_rv_contact id = pl_rv_ep_id(rv, s);
    for (pl_rv_waiter *w = rv->waiters; w; w = w->next) {
        if (w->contact == id) {
            w->gone = 1;
            w->gone_unsent = s->c->queued > 0;
        }
    }
}

/* Closes a slot's socket and frees its connection; the id goes stale. */
static void
reap(parley_rv *rv, pl_rv_slot *s)
{
    waiters_gone(rv, s);
    if (s->interest) {
        pl_os_poller_del(rv->poller, s->fd);
    }
    pl_os_close(s->fd);
    pl_rv_conn_free(s->c);
    s->c = NULL;
    s->fd = -1;
    s->interest = 0;
    s->tcp_up = 0;
    s->out_full = 0;
    s->gen = s->gen + 1 ? s->gen + 1 : 1;
}

static void flush_out(parley_rv *rv, pl_rv_slot *s);

void
parley_rv_destroy(parley_rv *rv)
{
    if (!rv) {
        return;
    }
    uint64_t now = pl_os_now_us();
    for (uint32_t i = 0; rv->slots && i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (s->c) {
            pl_rv_conn_disconnect(s->c, now);
            if (s->tcp_up) {
                flush_out(rv, s); /* best effort, never waits */
            }
            reap(rv, s);
        }
    }
    pl_rv_rec *r;
    while ((r = queue_pop(rv)) != NULL) {
        pl_rv_rec_free(r);
    }
    while (rv->fmts) {
        pl_rv_fmt *f = rv->fmts;
        rv->fmts = f->next;
        pl_free(f);
    }
    if (rv->lfd >= 0) {
        pl_os_poller_del(rv->poller, rv->lfd);
        pl_os_close(rv->lfd);
    }
    pl_os_poller_destroy(rv->poller);
    pl_os_wakeup_destroy(rv->wake);
    pl_free(rv->slots);
    pl_free(rv->name);
    pl_free(rv->app);
    pl_free(rv);
}

int
parley_rv_online(const parley_rv *rv)
{
    return rv && rv->lfd >= 0;
}

int
parley_rv_local_addr(const parley_rv *rv, parley_addr *out)
{
    if (!rv || !out) {
        return PARLEY_EINVAL;
    }
    if (rv->lfd < 0) {
        return PARLEY_ENOTCONN;
    }
    return pl_os_sock_local_addr(rv->lfd, out);
}

/* ---- contacts coming in and going out ---------------------------------- */

static pl_rv_slot *
free_slot(parley_rv *rv)
{
    for (uint32_t i = 0; i < rv->nslots; i++) {
        if (!rv->slots[i].c) {
            return &rv->slots[i];
        }
    }
    return NULL;
}

static void
update_interest(parley_rv *rv, pl_rv_slot *s)
{
    unsigned want = 0;
    if (!s->tcp_up) {
        want = PL_OS_POLL_OUT;
    } else {
        want |= pl_rv_conn_want_read(s->c) ? PL_OS_POLL_IN : 0u;
        want |= s->out_full && s->c->queued > 0 ? PL_OS_POLL_OUT : 0u;
    }
    if (want == s->interest) {
        return;
    }
    int rc;
    if (want == 0) {
        rc = pl_os_poller_del(rv->poller, s->fd);
    } else if (s->interest == 0) {
        rc = pl_os_poller_add(rv->poller, s->fd, want, s);
    } else {
        rc = pl_os_poller_mod(rv->poller, s->fd, want, s);
    }
    if (rc == PARLEY_OK) {
        s->interest = want;
    } else {
        pl_rv_conn_on_error(s->c, rc, pl_os_now_us());
    }
}

static void
accept_one(parley_rv *rv, int fd, const parley_addr *peer)
{
    pl_rv_slot *s = free_slot(rv);
    if (!s) {
        pl_os_close(fd); /* max_contacts reached */
        return;
    }
    pl_rv_conn *c;
    if (pl_rv_conn_new(&rv->pp, 0, peer, 1, pl_os_now_us(), &c) != PARLEY_OK) {
        pl_os_close(fd);
        return;
    }
    s->c = c;
    s->fd = fd;
    s->tcp_up = 1;
    c->id = pl_rv_ep_id(rv, s);
    pl_os_tcp_set_nodelay(fd, 1);
    update_interest(rv, s);
}

static void
accept_pending(parley_rv *rv)
{
    for (int i = 0; i < ACCEPT_PER_PASS; i++) {
        int fd;
        parley_addr peer;
        memset(&peer, 0, sizeof peer);
        if (pl_os_tcp_accept(rv->lfd, &fd, &peer) != PARLEY_OK) {
            return;
        }
        accept_one(rv, fd, &peer);
    }
}

int
parley_rv_connect_addr(parley_rv *rv, const parley_addr *addr,
                       parley_rv_contact *out)
{
    if (!rv || !addr || !out) {
        return PARLEY_EINVAL;
    }
    pl_rv_slot *s = free_slot(rv);
    if (!s) {
        return PARLEY_EFULL;
    }
    int fd = -1;
    int rc = pl_os_tcp_connect_start(addr, &fd);
    if (rc != PARLEY_OK && rc != PARLEY_EAGAIN) {
        return rc;
    }
    int up = rc == PARLEY_OK;
    pl_rv_conn *c;
    rc = pl_rv_conn_new(&rv->pp, 0, addr, 0, pl_os_now_us(), &c);
    if (rc != PARLEY_OK) {
        pl_os_close(fd);
        return rc;
    }
    s->c = c;
    s->fd = fd;
    c->id = pl_rv_ep_id(rv, s);
    pl_os_tcp_set_nodelay(fd, 1);
    if (up) {
        s->tcp_up = 1;
        pl_rv_conn_connected(c, pl_os_now_us());
    }
    update_interest(rv, s);
    *out = c->id;
    return PARLEY_OK;
}

int
parley_rv_connect(parley_rv *rv, const char *host_port, parley_rv_contact *out)
{
    if (!rv || !host_port || !out) {
        return PARLEY_EINVAL;
    }
    parley_addr a;
    int rc =
        parley_addr_resolve(host_port, PARLEY_RV_PORT, PARLEY_AF_UNSPEC, &a);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return parley_rv_connect_addr(rv, &a, out);
}

/* ---- socket I/O -------------------------------------------------------- */

static void
read_in(pl_rv_slot *s)
{
    size_t budget = READ_PER_PASS;
    while (budget > 0) {
        uint8_t *p;
        size_t cap, got = 0;
        if (pl_rv_conn_read_space(s->c, &p, &cap) != PARLEY_OK) {
            return;
        }
        cap = cap < budget ? cap : budget;
        int rc = pl_os_tcp_recv(s->fd, p, cap, &got);
        uint64_t now = pl_os_now_us();
        if (rc == PARLEY_OK) {
            pl_rv_conn_on_read(s->c, got, now);
            budget -= got;
            if (got < cap) {
                return;
            }
        } else if (rc == PARLEY_ECLOSED) {
            pl_rv_conn_on_eof(s->c, now);
            return;
        } else {
            if (rc != PARLEY_EAGAIN) {
                pl_rv_conn_on_error(s->c, rc, now);
            }
            return;
        }
    }
}

static void
flush_out(parley_rv *rv, pl_rv_slot *s)
{
    (void)rv;
    size_t budget = WRITE_PER_PASS;
    const uint8_t *p;
    size_t len;
    while (budget > 0 && pl_rv_conn_out_peek(s->c, &p, &len) == PARLEY_OK) {
        size_t sent = 0;
        len = len < budget ? len : budget;
        int rc = pl_os_tcp_send(s->fd, p, len, &sent);
        if (rc == PARLEY_EAGAIN) {
            s->out_full = 1;
            return;
        }
        if (rc != PARLEY_OK) {
            pl_rv_conn_on_error(s->c, rc, pl_os_now_us());
            return;
        }
        pl_rv_conn_out_consume(s->c, sent, pl_os_now_us());
        budget -= sent;
        if (sent < len) {
            s->out_full = 1;
            return;
        }
    }
    if (budget == 0 && s->c->queued > 0) {
        /* Our share for this pass is used: come back when the poller
           says writable (at once, usually), after the others. */
        s->out_full = 1;
        return;
    }
    s->out_full = 0;
    if (pl_rv_conn_wants_shutdown(s->c)) {
        pl_os_tcp_shutdown_write(s->fd);
        s->c->shut_wr = 1;
        if (s->c->eof) {
            pl_rv_conn_on_eof(s->c, pl_os_now_us());
        }
    }
}

static void
finish_connect(pl_rv_slot *s)
{
    int rc = pl_os_tcp_connect_finish(s->fd);
    if (rc == PARLEY_EAGAIN) {
        return;
    }
    if (rc != PARLEY_OK) {
        pl_rv_conn_on_error(s->c, rc, pl_os_now_us());
        return;
    }
    s->tcp_up = 1;
    pl_rv_conn_connected(s->c, pl_os_now_us());
}

static void
handle_io(parley_rv *rv, pl_rv_slot *s, unsigned ev)
{
    if (!s->c || s->c->state == PL_RVC_DEAD) {
        return;
    }
    if (!s->tcp_up) {
        finish_connect(s);
        return;
    }
    if (ev & (PL_OS_POLL_IN | PL_OS_POLL_HUP | PL_OS_POLL_ERR)) {
        read_in(s);
    }
    if (ev & PL_OS_POLL_OUT) {
        s->out_full = 0;
    }
    (void)rv;
}

void
pl_rv_ep_kick(parley_rv *rv, pl_rv_slot *s)
{
    if (s->tcp_up && !s->out_full && s->c->state != PL_RVC_DEAD) {
        flush_out(rv, s);
    }
    if (s->c->state == PL_RVC_DEAD) {
        reap(rv, s);
    } else {
        update_interest(rv, s);
    }
}

/* Timers, retries, writes and clean-up for every contact. */
static void
sweep(parley_rv *rv)
{
    uint64_t now = pl_os_now_us();
    for (uint32_t i = 0; i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (!s->c) {
            continue;
        }
        pl_rv_conn_tick(s->c, now);
        if (pl_rv_conn_can_retry(s->c)) {
            pl_rv_conn_on_read(s->c, 0, now);
        }
        pl_rv_ep_kick(rv, s);
    }
}

static uint64_t
next_due(parley_rv *rv)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (s->c) {
            uint64_t d = pl_rv_conn_next_due(s->c);
            t = d < t ? d : t;
        }
    }
    return t;
}

static int
ms_until(uint64_t now, uint64_t when)
{
    if (when <= now) {
        return 0;
    }
    uint64_t ms = (when - now + 999) / 1000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* One pass: wait up to until (or not at all), handle what is ready. */
static void
step(parley_rv *rv, uint64_t until)
{
    pl_os_poll_event evs[POLL_EVENTS];
    size_t got = 0;
    uint64_t now = pl_os_now_us();
    uint64_t due = next_due(rv);
    uint64_t t = due < until ? due : until;
    int ms = t == UINT64_MAX ? -1 : ms_until(now, t);
    if (pl_os_poller_wait(rv->poller, ms, evs, POLL_EVENTS, &got) !=
        PARLEY_OK) {
        got = 0;
    }
    for (size_t i = 0; i < got; i++) {
        if (evs[i].user == rv->wake) {
            pl_os_wakeup_drain(rv->wake);
        } else if (evs[i].user == &rv->lfd) {
            accept_pending(rv);
        } else {
            handle_io(rv, evs[i].user, evs[i].events);
        }
    }
    sweep(rv);
}

uint64_t
pl_rv_ep_deadline(int timeout_ms)
{
    if (timeout_ms < 0) {
        return UINT64_MAX;
    }
    return pl_os_now_us() + (uint64_t)timeout_ms * 1000;
}

/* Gives queued events to the callback; returns how many. */
static int
dispatch(parley_rv *rv)
{
    int n = 0;
    pl_rv_rec *r;
    while ((r = queue_pop(rv)) != NULL) {
        rv->on_event(rv->user, rv, &r->ev);
        pl_rv_rec_free(r);
        n++;
    }
    return n;
}

int
pl_rv_ep_pump(parley_rv *rv, uint64_t deadline,
              int (*pred)(parley_rv *rv, void *arg), void *arg)
{
    for (int first = 1;; first = 0) {
        if (rv->on_event) {
            dispatch(rv);
        }
        int r = pred(rv, arg);
        if (r != 1) {
            return r;
        }
        if (atomic_exchange(&rv->interrupted, 0)) {
            return PARLEY_EINTR;
        }
        if (!first && pl_os_now_us() >= deadline) {
            return PARLEY_ETIMEDOUT;
        }
        step(rv, first ? 0 : deadline);
    }
}

int
parley_rv_service(parley_rv *rv, int timeout_ms, parley_rv_event *ev)
{
    if (!rv || (!ev && !rv->on_event)) {
        return PARLEY_EINVAL;
    }
    uint64_t deadline = pl_rv_ep_deadline(timeout_ms);
    for (int first = 1;; first = 0) {
        if (rv->on_event) {
            int n = dispatch(rv);
            if (n > 0) {
                return n;
            }
        } else if (rv->qhead) {
            pl_rv_rec *r = queue_pop(rv);
            *ev = r->ev;
            return 1;
        }
        if (atomic_exchange(&rv->interrupted, 0)) {
            return 0;
        }
        if (!first && pl_os_now_us() >= deadline) {
            return 0;
        }
        step(rv, first ? 0 : deadline);
    }
}

void
parley_rv_event_release(parley_rv *rv, parley_rv_event *ev)
{
    (void)rv;
    if (ev && ev->internal_) {
        pl_rv_rec_free(ev->internal_);
        ev->internal_ = NULL;
    }
}

size_t
parley_rv_pollfds(parley_rv *rv, parley_rv_pollfd *out, size_t cap)
{
    if (!rv) {
        return 0;
    }
    size_t n = 0;
    parley_rv_pollfd one = {pl_os_wakeup_fd(rv->wake), PARLEY_RV_POLL_IN};
    if (n < cap && out) {
        out[n] = one;
    }
    n++;
    if (rv->lfd >= 0) {
        one.fd = rv->lfd;
        if (n < cap && out) {
            out[n] = one;
        }
        n++;
    }
    for (uint32_t i = 0; i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (!s->c || !s->interest) {
            continue;
        }
        one.fd = s->fd;
        one.events = ((s->interest & PL_OS_POLL_IN) ? PARLEY_RV_POLL_IN : 0) |
                     ((s->interest & PL_OS_POLL_OUT) ? PARLEY_RV_POLL_OUT : 0);
        if (n < cap && out) {
            out[n] = one;
        }
        n++;
    }
    return n;
}

int
parley_rv_next_timeout_ms(parley_rv *rv)
{
    if (!rv) {
        return PARLEY_EINVAL;
    }
    if (rv->qhead) {
        return 0;
    }
    for (uint32_t i = 0; i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (s->c && pl_rv_conn_can_retry(s->c)) {
            return 0;
        }
    }
    uint64_t due = next_due(rv);
    return due == UINT64_MAX ? -1 : ms_until(pl_os_now_us(), due);
}

int
parley_rv_interrupt(parley_rv *rv)
{
    if (!rv) {
        return PARLEY_EINVAL;
    }
    atomic_store(&rv->interrupted, 1);
    return pl_os_wakeup_signal(rv->wake);
}
