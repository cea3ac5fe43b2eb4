/*
 * The TCP connection manager (parley/tcp.h): the table of connections
 * with value ids, rendezvous and client sockets, close, the reset queue,
 * options and info, and the app's polling and waiting calls. Workers
 * (tcp_io.c) do the socket I/O; sinks (tcp_queue.c) queue the results.
 */
#include <string.h>

#include "driver/tcp_int.h"
#include "util/alloc.h"
#include "util/log.h"

#define MOD "tcp"

/* ---- options ----------------------------------------------------------- */

void
pl_tcp_options_default(parley_tcp_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->header = PARLEY_TCP_HEADER_2;
    opt->max_datagram = 65535;
    opt->nodelay = 1;
    opt->collect_bytes = 16384;
    opt->max_out_bytes = 4u << 20;
}

int
pl_tcp_options_valid(const parley_tcp_options *opt)
{
    if (opt->header != PARLEY_TCP_HEADER_RAW &&
        opt->header != PARLEY_TCP_HEADER_2 &&
        opt->header != PARLEY_TCP_HEADER_4) {
        return 0;
    }
    if (opt->max_datagram == 0 || opt->max_datagram > PL_P3D_MAX4 ||
        opt->max_out_bytes == 0) {
        return 0;
    }
    if (opt->keepalive_ms && opt->header == PARLEY_TCP_HEADER_RAW) {
        return 0;
    }
    return !opt->collect_ms || opt->collect_bytes > 0;
}

void
parley_tcp_config_init(parley_tcp_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    pl_tcp_options_default(&cfg->conn);
    cfg->max_connections = 4096;
}

/* ---- the table --------------------------------------------------------- */

static parley_conn
make_id(uint32_t slot, uint32_t gen)
{
    return ((uint64_t)gen << 32) | slot;
}

void
pl_tcp_ref(pl_tcp_conn *c)
{
    pthread_mutex_lock(&c->tcp->mu);
    c->refs++;
    pthread_mutex_unlock(&c->tcp->mu);
}

static void
conn_free(pl_tcp_conn *c)
{
    pl_os_close(c->fd);
    pl_p3d_deframer_free(&c->df);
    pl_free(c->out);
    pl_free(c->rx);
    pl_free(c->held);
    pthread_mutex_destroy(&c->mu);
    pl_free(c);
}

void
pl_tcp_unref(pl_tcp_conn *c)
{
    pthread_mutex_lock(&c->tcp->mu);
    int last = --c->refs == 0;
    pthread_mutex_unlock(&c->tcp->mu);
    if (last) {
        conn_free(c);
    }
}

pl_tcp_conn *
pl_tcp_lookup(parley_tcp *tcp, parley_conn id)
{
    uint32_t slot = (uint32_t)id;
    uint32_t gen = (uint32_t)(id >> 32);
    pl_tcp_conn *c = NULL;
    if (!tcp || gen == 0) {
        return NULL;
    }
    pthread_mutex_lock(&tcp->mu);
    if (slot < tcp->nslots && tcp->gens[slot] == gen && tcp->slots[slot]) {
        c = tcp->slots[slot];
        c->refs++;
    }
    pthread_mutex_unlock(&tcp->mu);
    return c;
}

/* Grows the slot arrays (tcp->mu held). */
static int
grow_slots(parley_tcp *tcp)
{
    uint32_t n = tcp->capslots ? tcp->capslots * 2 : 64;
    if (n > tcp->cfg.max_connections) {
        n = tcp->cfg.max_connections;
    }
    pl_tcp_conn **s = pl_realloc(tcp->slots, n * sizeof *s);
    if (!s) {
        return PARLEY_ENOMEM;
    }
    tcp->slots = s;
    uint32_t *g = pl_realloc(tcp->gens, n * sizeof *g);
    if (!g) {
        return PARLEY_ENOMEM;
    }
    tcp->gens = g;
    for (uint32_t i = tcp->capslots; i < n; i++) {
        s[i] = NULL;
        g[i] = 1;
    }
    tcp->capslots = n;
    return PARLEY_OK;
}

/* Puts c in a free slot (tcp->mu held). */
static int
take_slot(parley_tcp *tcp, pl_tcp_conn *c)
{
    if (tcp->live >= tcp->cfg.max_connections) {
        return PARLEY_EFULL;
    }
    uint32_t i = tcp->nfree_hint;
    while (i < tcp->nslots && tcp->slots[i]) {
        i++;
    }
    if (i == tcp->nslots) {
        if (tcp->nslots == tcp->capslots) {
            int rc = grow_slots(tcp);
            if (rc != PARLEY_OK) {
                return rc;
            }
        }
        i = tcp->nslots++;
    }
    tcp->slots[i] = c;
    tcp->nfree_hint = i + 1;
    tcp->live++;
    c->slot = i;
    c->gen = tcp->gens[i];
    c->id = make_id(i, c->gen);
    return PARLEY_OK;
}

/* Frees c's slot and drops the table's reference (tcp->mu held); the
   caller still holds its own reference, so c is not freed here. */
static void
release_slot(parley_tcp *tcp, pl_tcp_conn *c)
{
    if (c->released) {
        return;
    }
    c->released = 1;
    tcp->slots[c->slot] = NULL;
    if (++tcp->gens[c->slot] == 0) {
        tcp->gens[c->slot] = 1;
    }
    if (c->slot < tcp->nfree_hint) {
        tcp->nfree_hint = c->slot;
    }
    tcp->live--;
    c->refs--;
}

int
pl_tcp_conn_new(parley_tcp *tcp, int fd, int kind, pl_tcp_conn **out)
{
    pl_tcp_conn *c = pl_calloc(1, sizeof *c);
    if (!c || pthread_mutex_init(&c->mu, NULL) != 0) {
        pl_free(c);
        pl_os_close(fd);
        return PARLEY_ENOMEM;
    }
    c->tcp = tcp;
    c->fd = fd;
    c->kind = kind;
    c->opt = tcp->cfg.conn;
    c->hsize_out = c->opt.header;
    c->last_rx_us = c->last_tx_us = pl_os_now_us();
    pl_p3d_deframer_init(&c->df, c->opt.header, c->opt.max_datagram);
    c->refs = 2; /* the table's and the caller's */
    pthread_mutex_lock(&tcp->mu);
    int rc = take_slot(tcp, c);
    pthread_mutex_unlock(&tcp->mu);
    if (rc != PARLEY_OK) {
        conn_free(c);
        return rc;
    }
    pl_os_sock_local_addr(fd, &c->local);
    if (kind == PL_TCP_STREAM) {
        pl_os_sock_peer_addr(fd, &c->peer);
        if (c->opt.nodelay) {
            pl_os_tcp_set_nodelay(fd, 1);
        }
    }
    *out = c;
    return PARLEY_OK;
}

/* ---- resets ------------------------------------------------------------ */

void
pl_tcp_notify_app(parley_tcp *tcp)
{
    pl_os_wakeup_signal(tcp->app_wake);
}

/* Appends to the reset ring (tcp->mu held). */
static int
push_reset(parley_tcp *tcp, const pl_tcp_reset_entry *e)
{
    if (tcp->rcount == tcp->rcap) {
        size_t n = tcp->rcap ? tcp->rcap * 2 : 16;
        pl_tcp_reset_entry *r = pl_malloc(n * sizeof *r);
        if (!r) {
            return PARLEY_ENOMEM;
        }
        for (size_t i = 0; i < tcp->rcount; i++) {
            r[i] = tcp->resets[(tcp->rhead + i) % tcp->rcap];
        }
        pl_free(tcp->resets);
        tcp->resets = r;
        tcp->rhead = 0;
        tcp->rcap = n;
    }
    tcp->resets[(tcp->rhead + tcp->rcount) % tcp->rcap] = *e;
    tcp->rcount++;
    return PARLEY_OK;
}

static void
queue_reset(pl_tcp_conn *c, int reason)
{
    parley_tcp *tcp = c->tcp;
    pl_tcp_reset_entry e = {c->id, reason, c->peer};
    pthread_mutex_lock(&tcp->mu);
    if (!c->released && !c->reset_queued && push_reset(tcp, &e) == 0) {
        c->reset_queued = 1;
    }
    pthread_mutex_unlock(&tcp->mu);
    PL_LOG_DEBUG(MOD, "connection %llx reset: %s", (unsigned long long)c->id,
                 parley_err_name(reason));
    pl_tcp_notify_app(tcp);
}

/* Removes c's entry from the ring (tcp->mu held): the app closed it. */
static void
drop_reset(parley_tcp *tcp, pl_tcp_conn *c)
{
    size_t k = 0;
    for (size_t i = 0; i < tcp->rcount; i++) {
        pl_tcp_reset_entry e = tcp->resets[(tcp->rhead + i) % tcp->rcap];
        if (e.conn != c->id) {
            tcp->resets[(tcp->rhead + k++) % tcp->rcap] = e;
        }
    }
    tcp->rcount = k;
    c->reset_queued = 0;
}

void
pl_tcp_conn_fail(pl_tcp_conn *c, int reason, pl_tcp_worker *self)
{
    if (c->dead) {
        return;
    }
    c->dead = 1;
    c->reason = reason;
    if (!c->app_closed) {
        queue_reset(c, reason);
    }
    if (!c->home) {
        pl_os_close(c->fd);
        c->fd = -1;
    } else if (c->home == self) {
        pl_tcp_worker_close_conn(self, c);
    } else {
        /* The home closes it: it may be inside a read of this socket. */
        pl_tcp_kick(c);
    }
}

int
parley_tcp_reset_available(parley_tcp *tcp)
{
    if (!tcp) {
        return 0;
    }
    parley_tcp_poll(tcp);
    pthread_mutex_lock(&tcp->mu);
    int n = tcp->rcount > 0;
    pthread_mutex_unlock(&tcp->mu);
    return n;
}

int
parley_tcp_get_reset(parley_tcp *tcp, parley_tcp_reset *out)
{
    if (!tcp || !out) {
        return PARLEY_EINVAL;
    }
    pl_tcp_conn *c = NULL;
    pthread_mutex_lock(&tcp->mu);
    if (tcp->rcount == 0) {
        pthread_mutex_unlock(&tcp->mu);
        return 0;
    }
    pl_tcp_reset_entry e = tcp->resets[tcp->rhead];
    tcp->rhead = (tcp->rhead + 1) % tcp->rcap;
    tcp->rcount--;
    uint32_t slot = (uint32_t)e.conn;
    if (slot < tcp->nslots && tcp->slots[slot] &&
        tcp->slots[slot]->id == e.conn) {
        c = tcp->slots[slot];
        c->reset_queued = 0;
        c->refs++;
        release_slot(tcp, c);
    }
    pthread_mutex_unlock(&tcp->mu);
    if (c) {
        pl_tcp_unref(c);
    }
    out->conn = e.conn;
    out->reason = e.reason;
    out->peer = e.peer;
    return 1;
}

/* ---- create and destroy ------------------------------------------------ */

static int
setup(parley_tcp *tcp)
{
    if (pthread_mutex_init(&tcp->mu, NULL) != 0) {
        return PARLEY_ENOMEM;
    }
    if (pthread_mutex_init(&tcp->admin_mu, NULL) != 0) {
        pthread_mutex_destroy(&tcp->mu);
        return PARLEY_ENOMEM;
    }
    int rc = pl_os_wakeup_create(PL_OS_WAKEUP_DEFAULT, &tcp->app_wake);
    if (rc == PARLEY_OK) {
        rc = pl_tcp_worker_create(tcp, 0, &tcp->polled);
    }
    return rc;
}

int
parley_tcp_create(const parley_tcp_config *cfg, parley_tcp **out)
{
    if (!cfg || !out || cfg->max_connections == 0 ||
        !pl_tcp_options_valid(&cfg->conn)) {
        return PARLEY_EINVAL;
    }
    parley_tcp *tcp = pl_calloc(1, sizeof *tcp);
    if (!tcp) {
        return PARLEY_ENOMEM;
    }
    tcp->cfg = *cfg;
    int rc = setup(tcp);
    if (rc != PARLEY_OK) {
        if (tcp->app_wake) {
            pl_os_wakeup_destroy(tcp->app_wake);
            pthread_mutex_destroy(&tcp->mu);
            pthread_mutex_destroy(&tcp->admin_mu);
        }
        pl_free(tcp);
        return rc;
    }
    *out = tcp;
    return PARLEY_OK;
}

void
parley_tcp_destroy(parley_tcp *tcp)
{
    if (!tcp) {
        return;
    }
    pl_tcp_writers_destroy(tcp);
    while (tcp->sinks) {
        pl_tcp_sink *s = tcp->sinks;
        pl_tcp_sink_fini(s);
        pl_free(s);
    }
    pl_tcp_worker_destroy(tcp->polled);
    /* Everything is single-threaded now; close what is left. */
    for (uint32_t i = 0; i < tcp->nslots; i++) {
        pl_tcp_conn *c = tcp->slots[i];
        if (c) {
            pl_os_close(c->fd);
            c->fd = -1;
            c->refs++;
            release_slot(tcp, c);
            pl_tcp_unref(c);
        }
    }
    pl_free(tcp->slots);
    pl_free(tcp->gens);
    pl_free(tcp->resets);
    pl_os_wakeup_destroy(tcp->app_wake);
    pthread_mutex_destroy(&tcp->mu);
    pthread_mutex_destroy(&tcp->admin_mu);
    pl_free(tcp);
}

/* ---- rendezvous and client sockets ------------------------------------- */

static int
any6(const parley_addr *a)
{
    static const uint8_t zero[16];
    return a->family == PARLEY_AF_INET6 && memcmp(a->ip, zero, 16) == 0;
}

int
parley_tcp_listen_addr(parley_tcp *tcp, const parley_addr *addr, int backlog,
                       parley_conn *out)
{
    int fd = -1;
    pl_tcp_conn *c;
    if (!tcp || !addr || !out) {
        return PARLEY_EINVAL;
    }
    int rc = pl_os_tcp_listen(addr, backlog, any6(addr), &fd);
    if (rc == PARLEY_OK) {
        rc = pl_tcp_conn_new(tcp, fd, PL_TCP_RENDEZVOUS, &c);
    }
    if (rc != PARLEY_OK) {
        return rc;
    }
    *out = c->id;
    pl_tcp_move(c, tcp->polled);
    pl_tcp_unref(c);
    return PARLEY_OK;
}

int
parley_tcp_listen(parley_tcp *tcp, const char *addr, int backlog,
                  parley_conn *out)
{
    parley_addr a;
    if (!tcp || !addr || !out) {
        return PARLEY_EINVAL;
    }
    int rc = parley_addr_resolve(addr, 0, PARLEY_AF_UNSPEC, &a);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return parley_tcp_listen_addr(tcp, &a, backlog, out);
}

int
parley_tcp_listen_port(parley_tcp *tcp, uint16_t port, int backlog,
                       parley_conn *out)
{
    parley_addr a;
    memset(&a, 0, sizeof a);
    a.family = PARLEY_AF_INET6;
    a.port = port;
    int rc = parley_tcp_listen_addr(tcp, &a, backlog, out);
    if (rc == PARLEY_EAFNOSUPPORT || rc == PARLEY_EADDRNOTAVAIL) {
        a.family = PARLEY_AF_INET;
        rc = parley_tcp_listen_addr(tcp, &a, backlog, out);
    }
    return rc;
}

/* Waits for a connect in progress until deadline (UINT64_MAX: none). */
static int
finish_connect(int fd, uint64_t deadline)
{
    for (;;) {
        int rc = pl_os_tcp_connect_finish(fd);
        if (rc != PARLEY_EAGAIN) {
            return rc;
        }
        int ms = -1;
        if (deadline != UINT64_MAX) {
            uint64_t now = pl_os_now_us();
            if (now >= deadline) {
                return PARLEY_ETIMEDOUT;
            }
            ms = (int)((deadline - now + 999) / 1000);
        }
        rc = pl_os_wait_fd(fd, PL_OS_POLL_OUT, ms);
        if (rc != PARLEY_OK && rc != PARLEY_ETIMEDOUT) {
            return rc;
        }
    }
}

int
parley_tcp_connect_addr(parley_tcp *tcp, const parley_addr *addr,
                        int timeout_ms, parley_conn *out)
{
    int fd = -1;
    pl_tcp_conn *c;
    if (!tcp || !addr || !out) {
        return PARLEY_EINVAL;
    }
    uint64_t deadline = UINT64_MAX;
    if (timeout_ms > 0) {
        deadline = pl_os_now_us() + (uint64_t)timeout_ms * 1000;
    }
    int rc = pl_os_tcp_connect_start(addr, &fd);
    if (rc == PARLEY_EAGAIN) {
        rc = finish_connect(fd, deadline);
        if (rc != PARLEY_OK) {
            pl_os_close(fd);
        }
    }
    if (rc == PARLEY_OK) {
        rc = pl_tcp_conn_new(tcp, fd, PL_TCP_STREAM, &c);
    }
    if (rc != PARLEY_OK) {
        return rc;
    }
    *out = c->id;
    pl_tcp_move(c, tcp->polled);
    pl_tcp_unref(c);
    return PARLEY_OK;
}

int
parley_tcp_connect(parley_tcp *tcp, const char *addr, int timeout_ms,
                   parley_conn *out)
{
    parley_addr a;
    if (!tcp || !addr || !out) {
        return PARLEY_EINVAL;
    }
    int rc = parley_addr_resolve(addr, 0, PARLEY_AF_UNSPEC, &a);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return parley_tcp_connect_addr(tcp, &a, timeout_ms, out);
}

int
parley_tcp_connect_start(parley_tcp *tcp, const char *addr, int timeout_ms,
                         parley_conn *out)
{
    parley_addr a;
    int fd = -1;
    pl_tcp_conn *c;
    if (!tcp || !addr || !out) {
        return PARLEY_EINVAL;
    }
    int rc = parley_addr_resolve(addr, 0, PARLEY_AF_UNSPEC, &a);
    if (rc != PARLEY_OK) {
        return rc;
    }
    int started = pl_os_tcp_connect_start(&a, &fd);
    if (started != PARLEY_OK && started != PARLEY_EAGAIN) {
        return started;
    }
    rc = pl_tcp_conn_new(tcp, fd, PL_TCP_STREAM, &c);
    if (rc != PARLEY_OK) {
        return rc;
    }
    c->peer = a;
    if (started == PARLEY_EAGAIN) {
        c->connecting = 1;
        c->connect_deadline_us = UINT64_MAX;
        if (timeout_ms > 0) {
            c->connect_deadline_us =
                pl_os_now_us() + (uint64_t)timeout_ms * 1000;
        }
    }
    *out = c->id;
    pl_tcp_move(c, tcp->polled);
    pl_tcp_unref(c);
    return PARLEY_OK;
}

int
parley_tcp_close(parley_tcp *tcp, parley_conn id)
{
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    pthread_mutex_lock(&tcp->admin_mu);
    pthread_mutex_lock(&c->mu);
    if (!c->dead) {
        c->app_closed = 1;
        pl_tcp_conn_fail(c, PARLEY_OK, NULL);
    }
    c->sink = NULL;
    pl_tcp_worker *home = c->home;
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_lock(&tcp->mu);
    if (c->reset_queued) {
        drop_reset(tcp, c);
    }
    release_slot(tcp, c);
    pthread_mutex_unlock(&tcp->mu);
    if (home == tcp->polled) {
        /* Polling mode: close the socket now rather than at the next
           poll, so the peer hears of it at once. */
        pl_tcp_worker_step(tcp->polled, 0);
    }
    pthread_mutex_unlock(&tcp->admin_mu);
    pl_tcp_unref(c);
    return PARLEY_OK;
}

/* ---- options and info --------------------------------------------------- */

int
parley_tcp_set_options(parley_tcp *tcp, parley_conn id,
                       const parley_tcp_options *opt)
{
    if (!tcp || !opt || !pl_tcp_options_valid(opt)) {
        return PARLEY_EINVAL;
    }
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    int rc = PARLEY_OK;
    pthread_mutex_lock(&c->mu);
    if (c->dead) {
        rc = PARLEY_ENOTCONN;
    } else {
        if (c->kind == PL_TCP_STREAM && opt->nodelay != c->opt.nodelay) {
            pl_os_tcp_set_nodelay(c->fd, opt->nodelay);
        }
        c->opt = *opt;
        c->df_dirty = 1;
        /* A new header size for sending starts with the next datagram,
           which is always a boundary on our side. */
        c->hsize_out = opt->header;
        pl_tcp_kick(c);
    }
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
    return rc;
}

int
parley_tcp_get_options(parley_tcp *tcp, parley_conn id, parley_tcp_options *out)
{
    if (!tcp || !out) {
        return PARLEY_EINVAL;
    }
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    pthread_mutex_lock(&c->mu);
    *out = c->opt;
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
    return PARLEY_OK;
}

int
parley_tcp_get_info(parley_tcp *tcp, parley_conn id, parley_tcp_info *out)
{
    if (!tcp || !out) {
        return PARLEY_EINVAL;
    }
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    pthread_mutex_lock(&c->mu);
    memset(out, 0, sizeof *out);
    out->rendezvous = c->kind == PL_TCP_RENDEZVOUS;
    out->open = !c->dead;
    out->connecting = c->connecting;
    out->local = c->local;
    out->peer = c->peer;
    out->rendezvous_id = c->rendezvous;
    out->bytes_in = c->bytes_in;
    out->bytes_out = c->bytes_out;
    out->datagrams_in = c->dg_in;
    out->datagrams_out = c->dg_out;
    out->out_queued = (uint32_t)(c->out_len - c->out_off + c->writer_pending);
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
    return PARLEY_OK;
}

/* ---- polling and waiting ------------------------------------------------ */

int
parley_tcp_poll(parley_tcp *tcp)
{
    if (!tcp) {
        return PARLEY_EINVAL;
    }
    pl_tcp_worker_step(tcp->polled, 0);
    return PARLEY_OK;
}

static int
anything_queued(parley_tcp *tcp)
{
    if (atomic_load(&tcp->queued) > 0) {
        return 1;
    }
    pthread_mutex_lock(&tcp->mu);
    int n = tcp->rcount > 0;
    pthread_mutex_unlock(&tcp->mu);
    return n;
}

int
parley_tcp_wait(parley_tcp *tcp, int timeout_ms)
{
    if (!tcp) {
        return PARLEY_EINVAL;
    }
    uint64_t deadline = UINT64_MAX;
    if (timeout_ms >= 0) {
        deadline = pl_os_now_us() + (uint64_t)timeout_ms * 1000;
    }
    int first = 1;
    for (;;) {
        int ms = -1;
        if (deadline != UINT64_MAX) {
            uint64_t now = pl_os_now_us();
            ms = now >= deadline ? 0 : (int)((deadline - now + 999) / 1000);
        }
        /* The first pass never waits: take what is ready first. */
        pl_tcp_worker_step(tcp->polled, first ? 0 : ms);
        if (anything_queued(tcp)) {
            return 1;
        }
        if (atomic_exchange(&tcp->interrupted, 0)) {
            return 0;
        }
        if (!first && ms == 0) {
            return 0;
        }
        first = 0;
    }
}

int
parley_tcp_interrupt(parley_tcp *tcp)
{
    if (!tcp) {
        return PARLEY_EINVAL;
    }
    atomic_store(&tcp->interrupted, 1);
    return pl_os_wakeup_signal(tcp->app_wake);
}

int
parley_tcp_fd(const parley_tcp *tcp)
{
    if (!tcp) {
        return PARLEY_EINVAL;
    }
    /* The polled worker's poller watches its connections and the app's
       wakeup, so its epoll descriptor covers both; with the poll()
       backend only the wakeup has a descriptor. */
    int fd = pl_os_poller_fd(tcp->polled->poller);
    return fd >= 0 ? fd : pl_os_wakeup_fd(tcp->app_wake);
}

int
parley_tcp_next_timeout_ms(parley_tcp *tcp)
{
    if (!tcp) {
        return PARLEY_EINVAL;
    }
    uint64_t due = atomic_load(&tcp->polled->next_timer_us);
    if (due == UINT64_MAX) {
        return -1;
    }
    uint64_t now = pl_os_now_us();
    if (due <= now) {
        return 0;
    }
    uint64_t ms = (due - now + 999) / 1000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* ---- sending ------------------------------------------------------------ */

int
parley_tcp_send(parley_tcp *tcp, parley_conn id, const void *data, size_t len)
{
    if (!tcp || (!data && len > 0)) {
        return PARLEY_EINVAL;
    }
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    pthread_mutex_lock(&c->mu);
    int rc = c->kind == PL_TCP_STREAM ? pl_tcp_conn_send(c, data, len, 0, NULL)
                                      : PARLEY_EINVAL;
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
    return rc;
}

int
parley_tcp_flush(parley_tcp *tcp, parley_conn id)
{
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    pthread_mutex_lock(&c->mu);
    int rc = c->dead ? PARLEY_ENOTCONN : PARLEY_OK;
    if (rc == PARLEY_OK) {
        pl_tcp_conn_flush(c, 1, NULL);
    }
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
    return rc;
}
