/*
 * TCP workers: one poller each, the connections registered in it, and
 * the loop that accepts, reads, deframes and queues datagrams, sends
 * pending output and runs timers. The manager's polled worker runs when
 * the app polls; a threaded reader or listener runs one per thread.
 * Other threads talk to a worker only through its command list.
 */
#include <string.h>

#include "driver/tcp_int.h"
#include "util/alloc.h"
#include "util/log.h"

#define MOD "tcp"

/* Bytes per recv; reads per readable connection per pass (fairness). */
#define RX_BUF 65536
#define RX_ROUNDS 4
/* Connections accepted per readable rendezvous per pass. */
#define ACCEPT_ROUNDS 64
/* After running out of descriptors, wait this long before accepting. */
#define ACCEPT_RETRY_US 100000
#define MAX_EVENTS 64

/* ---- registration ------------------------------------------------------ */

static int
add_to_list(pl_tcp_worker *w, pl_tcp_conn *c)
{
    if (w->nconns == w->capconns) {
        size_t n = w->capconns ? w->capconns * 2 : 16;
        pl_tcp_conn **a = pl_realloc(w->conns, n * sizeof *a);
        if (!a) {
            return PARLEY_ENOMEM;
        }
        w->conns = a;
        w->capconns = n;
    }
    c->widx = w->nconns;
    w->conns[w->nconns++] = c;
    return PARLEY_OK;
}

static void
remove_from_list(pl_tcp_worker *w, pl_tcp_conn *c)
{
    size_t i = c->widx;
    pl_tcp_conn *last = w->conns[--w->nconns];
    w->conns[i] = last;
    last->widx = i;
}

/* Leaves w's poller (c->mu held); the registration reference is
   dropped, so the caller must hold its own. */
static void
detach(pl_tcp_worker *w, pl_tcp_conn *c)
{
    if (c->fd >= 0) {
        pl_os_poller_del(w->poller, c->fd);
    }
    remove_from_list(w, c);
    c->home = NULL;
    c->interest = 0;
    pl_tcp_unref(c);
}

void
pl_tcp_worker_close_conn(pl_tcp_worker *w, pl_tcp_conn *c)
{
    detach(w, c);
    pl_os_close(c->fd);
    c->fd = -1;
}

void
pl_tcp_update_interest(pl_tcp_worker *w, pl_tcp_conn *c)
{
    unsigned want = 0;
    if (c->dead || c->home != w) {
        return;
    }
    if (c->sink && !c->held && !c->accept_retry_us && !c->connecting) {
        want |= PL_OS_POLL_IN;
    }
    if (c->kind == PL_TCP_STREAM && pl_tcp_conn_wants_out(c)) {
        want |= PL_OS_POLL_OUT;
    }
    if (want != c->interest &&
        pl_os_poller_mod(w->poller, c->fd, want, c) == PARLEY_OK) {
        c->interest = want;
    }
}

/* ---- reading ------------------------------------------------------------ */

/* Keeps in[0..len) for later (a stall): staged bytes stay where they
   are, new ones are copied. */
static int
stage(pl_tcp_conn *c, const uint8_t *in, size_t len, int from_stage)
{
    if (from_stage) {
        c->rx_off = (size_t)(in - c->rx);
        return PARLEY_OK;
    }
    if (len == 0) {
        return PARLEY_OK;
    }
    uint8_t *b = pl_malloc(len);
    if (!b) {
        return PARLEY_ENOMEM;
    }
    memcpy(b, in, len);
    c->rx = b;
    c->rx_len = len;
    c->rx_off = 0;
    return PARLEY_OK;
}

/* Applies option changes at a datagram boundary. */
static void
apply_df_options(pl_tcp_conn *c)
{
    if (c->df_dirty && !pl_p3d_deframer_partial(&c->df)) {
        pl_p3d_deframer_set(&c->df, c->opt.header, c->opt.max_datagram);
        c->df_dirty = 0;
    }
}

/* One datagram out of the deframer into the sink. 1: stalled. */
static int
deliver(pl_tcp_conn *c, const uint8_t *dg, size_t len)
{
    c->dg_in++;
    if (len == 0 && c->opt.keepalive_ms && c->df.hsize != PL_P3D_RAW) {
        return 0; /* a keepalive */
    }
    pl_tcp_item *it = pl_tcp_item_new(len);
    if (!it) {
        return PARLEY_ENOMEM;
    }
    it->conn = c->id;
    it->addr = c->peer;
    if (len) {
        memcpy(it->data, dg, len);
    }
    if (c->sink && pl_tcp_sink_push(c->sink, it, c)) {
        return 0;
    }
    c->held = it;
    return 1;
}

/*
 * Deframes in[0..len) into the sink. Returns 0 (all consumed), 1 (the
 * sink is full: the rest is staged) or an error (the connection failed).
 */
static int
feed(pl_tcp_worker *w, pl_tcp_conn *c, const uint8_t *in, size_t len,
     int from_stage)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *dg = NULL;
        size_t dglen = 0, used = 0;
        apply_df_options(c);
        int rc =
            pl_p3d_deframe(&c->df, in + off, len - off, &used, &dg, &dglen);
        if (rc < 0) {
            pl_tcp_conn_fail(c, rc, w);
            return rc;
        }
        off += used;
        if (rc == PL_P3D_MORE) {
            break;
        }
        rc = deliver(c, dg, dglen);
        if (rc < 0) {
            pl_tcp_conn_fail(c, rc, w);
            return rc;
        }
        if (rc == 1) {
            rc = stage(c, in + off, len - off, from_stage);
            if (rc != PARLEY_OK) {
                pl_tcp_conn_fail(c, rc, w);
                return rc;
            }
            return 1;
        }
    }
    return 0;
}

/* Delivers what a stall held back. 0: all gone, 1: still stalled. */
static int
unstall(pl_tcp_worker *w, pl_tcp_conn *c)
{
    if (c->held) {
        if (!c->sink || !pl_tcp_sink_push(c->sink, c->held, c)) {
            return 1;
        }
        c->held = NULL;
    }
    if (c->kind == PL_TCP_STREAM && c->rx) {
        uint8_t *rx = c->rx;
        int rc = feed(w, c, rx + c->rx_off, c->rx_len - c->rx_off, 1);
        if (rc != 0) {
            return rc;
        }
        pl_free(rx);
        c->rx = NULL;
        c->rx_len = c->rx_off = 0;
    }
    return 0;
}

static void
do_read(pl_tcp_worker *w, pl_tcp_conn *c)
{
    if (unstall(w, c) != 0) {
        return;
    }
    for (int round = 0; round < RX_ROUNDS && !c->dead; round++) {
        size_t got = 0;
        int rc = pl_os_tcp_recv(c->fd, w->buf, RX_BUF, &got);
        if (rc == PARLEY_EAGAIN) {
            return;
        }
        if (rc != PARLEY_OK) {
            pl_tcp_conn_fail(c, rc, w);
            return;
        }
        c->bytes_in += got;
        c->last_rx_us = pl_os_now_us();
        if (feed(w, c, w->buf, got, 0) != 0 || got < RX_BUF) {
            return;
        }
    }
}

/* ---- accepting ---------------------------------------------------------- */

static void
accept_one(pl_tcp_worker *w, pl_tcp_conn *r, int fd, const parley_addr *peer)
{
    pl_tcp_conn *c;
    pl_tcp_item *it = pl_tcp_item_new(0);
    int rc =
        it ? pl_tcp_conn_new(w->tcp, fd, PL_TCP_STREAM, &c) : PARLEY_ENOMEM;
    if (rc != PARLEY_OK) {
        if (!it) {
            pl_os_close(fd);
        }
        pl_free(it);
        PL_LOG_WARN(MOD, "connection refused: %s", parley_err_name(rc));
        return;
    }
    c->rendezvous = r->id;
    if (peer->family) {
        c->peer = *peer;
    }
    it->conn = c->id;
    it->rendezvous = r->id;
    it->addr = c->peer;
    pl_tcp_move(c, w->tcp->polled);
    pl_tcp_unref(c);
    if (!r->sink || !pl_tcp_sink_push(r->sink, it, r)) {
        r->held = it;
    }
}

static void
do_accept(pl_tcp_worker *w, pl_tcp_conn *r)
{
    if (unstall(w, r) != 0) {
        return;
    }
    for (int i = 0; i < ACCEPT_ROUNDS && !r->held; i++) {
        int fd = -1;
        parley_addr peer;
        memset(&peer, 0, sizeof peer);
        int rc = pl_os_tcp_accept(r->fd, &fd, &peer);
        if (rc == PARLEY_EAGAIN) {
            return;
        }
        if (rc != PARLEY_OK) {
            /* Out of descriptors: the pending connection stays in the
               backlog; stop watching for a while instead of spinning. */
            PL_LOG_WARN(MOD, "accept: %s", parley_err_name(rc));
            r->accept_retry_us = pl_os_now_us() + ACCEPT_RETRY_US;
            atomic_store(&w->next_timer_us, 0);
            return;
        }
        accept_one(w, r, fd, &peer);
    }
}

/* ---- events and timers -------------------------------------------------- */

/* The end of a connect_start: up (flush what waited) or failed. */
static void
finish_connect(pl_tcp_worker *w, pl_tcp_conn *c)
{
    int rc = pl_os_tcp_connect_finish(c->fd);
    if (rc == PARLEY_EAGAIN) {
        return;
    }
    if (rc != PARLEY_OK) {
        pl_tcp_conn_fail(c, rc, w);
        return;
    }
    c->connecting = 0;
    c->last_rx_us = c->last_tx_us = pl_os_now_us();
    pl_os_sock_local_addr(c->fd, &c->local);
    pl_os_sock_peer_addr(c->fd, &c->peer);
    atomic_store(&w->next_timer_us, 0);
    pl_tcp_conn_flush(c, 0, w);
}

static void
handle_event(pl_tcp_worker *w, pl_tcp_conn *c, unsigned ev)
{
    pl_tcp_ref(c);
    pthread_mutex_lock(&c->mu);
    if (c->home != w) {
        goto out;
    }
    if (c->dead) {
        pl_tcp_worker_close_conn(w, c);
        goto out;
    }
    if (c->kind == PL_TCP_RENDEZVOUS) {
        if (ev & (PL_OS_POLL_IN | PL_OS_POLL_ERR)) {
            do_accept(w, c);
        }
    } else if (c->connecting) {
        finish_connect(w, c);
    } else {
        if (ev & PL_OS_POLL_OUT) {
            pl_tcp_conn_flush(c, 0, w);
        }
        if (!c->dead && (c->interest & PL_OS_POLL_IN)) {
            do_read(w, c);
        } else if (!c->dead && (ev & (PL_OS_POLL_HUP | PL_OS_POLL_ERR))) {
            /* Not being read, and the peer is gone: nothing will clear
               this readiness, so the connection ends here. */
            int rc = pl_os_tcp_connect_finish(c->fd);
            pl_tcp_conn_fail(c, rc == PARLEY_OK ? PARLEY_ECONNRESET : rc, w);
        }
    }
    pl_tcp_update_interest(w, c);
out:
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
}

/* A rendezvous that ran out of descriptors resumes at accept_retry_us. */
static uint64_t
rendezvous_timer(pl_tcp_conn *r, uint64_t now)
{
    if (r->accept_retry_us && now < r->accept_retry_us) {
        return r->accept_retry_us;
    }
    r->accept_retry_us = 0;
    return UINT64_MAX;
}

static void
run_timers(pl_tcp_worker *w, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    atomic_store(&w->next_timer_us, UINT64_MAX);
    /* Backwards: a connection that fails leaves the list by swapping in
       the last one, which was already seen. */
    for (size_t i = w->nconns; i-- > 0;) {
        if (i >= w->nconns) {
            continue;
        }
        pl_tcp_conn *c = w->conns[i];
        uint64_t due;
        pl_tcp_ref(c);
        pthread_mutex_lock(&c->mu);
        if (c->kind == PL_TCP_RENDEZVOUS) {
            due = rendezvous_timer(c, now);
        } else {
            due = pl_tcp_conn_timers(c, now, w);
        }
        if (c->home == w) {
            pl_tcp_update_interest(w, c);
        }
        pthread_mutex_unlock(&c->mu);
        pl_tcp_unref(c);
        next = due < next ? due : next;
    }
    uint64_t cur = atomic_load(&w->next_timer_us);
    atomic_store(&w->next_timer_us, next < cur ? next : cur);
}

/* ---- commands ------------------------------------------------------------ */

static void
apply_add(pl_tcp_worker *w, pl_tcp_conn *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->dead || c->home || c->target != w) {
        pthread_mutex_unlock(&c->mu);
        pl_tcp_unref(c);
        return;
    }
    if (add_to_list(w, c) != PARLEY_OK) {
        pl_tcp_conn_fail(c, PARLEY_ENOMEM, w);
        pthread_mutex_unlock(&c->mu);
        pl_tcp_unref(c);
        return;
    }
    if (pl_os_poller_add(w->poller, c->fd, 0, c) != PARLEY_OK) {
        remove_from_list(w, c);
        pl_tcp_conn_fail(c, PARLEY_ENOMEM, w);
        pthread_mutex_unlock(&c->mu);
        pl_tcp_unref(c);
        return;
    }
    /* The command's reference becomes the registration's. */
    c->home = w;
    c->interest = 0;
    if (c->kind == PL_TCP_STREAM) {
        c->last_rx_us = pl_os_now_us();
    }
    atomic_store(&w->next_timer_us, 0);
    pl_tcp_ref(c);
    unstall(w, c);
    pl_tcp_update_interest(w, c);
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
}

static void
apply_remove(pl_tcp_worker *w, pl_tcp_conn *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->home == w) {
        detach(w, c);
    }
    pthread_mutex_unlock(&c->mu);
}

static void
apply_kick(pl_tcp_worker *w, pl_tcp_conn *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->home == w) {
        if (c->dead) {
            pl_tcp_worker_close_conn(w, c);
        } else {
            unstall(w, c);
            if (!c->dead) {
                pl_tcp_conn_flush(c, 0, w);
            }
            atomic_store(&w->next_timer_us, 0);
            pl_tcp_update_interest(w, c);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void
apply_one(pl_tcp_worker *w, const pl_tcp_cmd *cmd)
{
    if (cmd->op == PL_CMD_ADD) {
        apply_add(w, cmd->c); /* consumes the reference */
        return;
    }
    if (cmd->op == PL_CMD_REMOVE) {
        apply_remove(w, cmd->c);
    } else {
        apply_kick(w, cmd->c);
    }
    pl_tcp_unref(cmd->c);
    if (cmd->done) {
        pthread_mutex_lock(&w->mu);
        *cmd->done = 1;
        pthread_cond_broadcast(&w->done_cv);
        pthread_mutex_unlock(&w->mu);
    }
}

/* Applies every command posted so far, taking the list whole so posting
   threads never wait for the work. */
static void
apply_commands(pl_tcp_worker *w)
{
    for (;;) {
        pthread_mutex_lock(&w->mu);
        pl_tcp_cmd *cmds = w->cmds;
        size_t n = w->ncmds;
        w->cmds = NULL;
        w->ncmds = w->capcmds = 0;
        pthread_mutex_unlock(&w->mu);
        if (n == 0) {
            pl_free(cmds);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            apply_one(w, &cmds[i]);
        }
        pl_free(cmds);
    }
}

static int
append_cmd(pl_tcp_worker *w, const pl_tcp_cmd *cmd)
{
    if (w->ncmds == w->capcmds) {
        size_t n = w->capcmds ? w->capcmds * 2 : 16;
        pl_tcp_cmd *a = pl_realloc(w->cmds, n * sizeof *a);
        if (!a) {
            return PARLEY_ENOMEM;
        }
        w->cmds = a;
        w->capcmds = n;
    }
    w->cmds[w->ncmds++] = *cmd;
    return PARLEY_OK;
}

static void
wake_worker(pl_tcp_worker *w)
{
    pl_os_wakeup_signal(w->wake);
}

/* Takes the polled worker's step lock, nudging a waiting app thread. */
static void
lock_step(pl_tcp_worker *w)
{
    if (pthread_mutex_trylock(&w->step_mu) == 0) {
        return;
    }
    atomic_fetch_add(&w->step_waiters, 1);
    wake_worker(w);
    pthread_mutex_lock(&w->step_mu);
    atomic_fetch_sub(&w->step_waiters, 1);
}

void
pl_tcp_worker_post(pl_tcp_worker *w, int op, pl_tcp_conn *c)
{
    int done = 0;
    pl_tcp_cmd cmd = {op, c, op == PL_CMD_REMOVE ? &done : NULL};
    pl_tcp_ref(c);
    pthread_mutex_lock(&w->mu);
    int rc = append_cmd(w, &cmd);
    pthread_mutex_unlock(&w->mu);
    if (rc != PARLEY_OK) {
        /* Out of memory for a command: do it the slow way, in place. */
        PL_LOG_ERROR(MOD, "worker command: %s", parley_err_name(rc));
        pl_tcp_unref(c);
        return;
    }
    if (op != PL_CMD_REMOVE) {
        wake_worker(w);
        return;
    }
    if (!w->threaded) {
        lock_step(w);
        apply_commands(w);
        pthread_mutex_unlock(&w->step_mu);
        return;
    }
    wake_worker(w);
    pthread_mutex_lock(&w->mu);
    while (!done) {
        pthread_cond_wait(&w->done_cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
}

void
pl_tcp_kick(pl_tcp_conn *c)
{
    if (c->home) {
        pl_tcp_worker_post(c->home, PL_CMD_KICK, c);
    }
}

void
pl_tcp_move(pl_tcp_conn *c, pl_tcp_worker *to)
{
    pthread_mutex_lock(&c->mu);
    pl_tcp_worker *from = c->home;
    int dead = c->dead;
    c->target = to;
    if (!dead && from && from == to) {
        pl_tcp_kick(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (dead || (from && from == to)) {
        return;
    }
    if (from) {
        pl_tcp_worker_post(from, PL_CMD_REMOVE, c);
    }
    if (to) {
        pl_tcp_worker_post(to, PL_CMD_ADD, c);
    }
}

/* ---- the loop ------------------------------------------------------------ */

static int
timer_ms(pl_tcp_worker *w, uint64_t now, int timeout_ms)
{
    uint64_t due = atomic_load(&w->next_timer_us);
    if (due == UINT64_MAX) {
        return timeout_ms;
    }
    uint64_t ms = due <= now ? 0 : (due - now + 999) / 1000;
    if (ms > 0x7fffffff) {
        ms = 0x7fffffff;
    }
    if (timeout_ms < 0 || (uint64_t)timeout_ms > ms) {
        return (int)ms;
    }
    return timeout_ms;
}

static void
step_locked(pl_tcp_worker *w, int timeout_ms)
{
    pl_os_poll_event evs[MAX_EVENTS];
    size_t got = 0;
    apply_commands(w);
    uint64_t now = pl_os_now_us();
    if (now >= atomic_load(&w->next_timer_us)) {
        run_timers(w, now);
    }
    int ms = timer_ms(w, now, timeout_ms);
    if (pl_os_poller_wait(w->poller, ms, evs, MAX_EVENTS, &got) != PARLEY_OK) {
        got = 0;
    }
    for (size_t i = 0; i < got; i++) {
        if (evs[i].user == w->wake) {
            pl_os_wakeup_drain(w->wake);
        } else {
            handle_event(w, evs[i].user, evs[i].events);
        }
    }
    apply_commands(w);
    now = pl_os_now_us();
    if (now >= atomic_load(&w->next_timer_us)) {
        run_timers(w, now);
    }
}

void
pl_tcp_worker_step(pl_tcp_worker *w, int timeout_ms)
{
    if (atomic_load(&w->step_waiters) > 0) {
        sched_yield();
    }
    pthread_mutex_lock(&w->step_mu);
    step_locked(w, timeout_ms);
    pthread_mutex_unlock(&w->step_mu);
}

static void *
worker_main(void *arg)
{
    pl_tcp_worker *w = arg;
    while (!atomic_load(&w->stop)) {
        step_locked(w, -1);
    }
    return NULL;
}

int
pl_tcp_worker_create(parley_tcp *tcp, int threaded, pl_tcp_worker **out)
{
    pl_tcp_worker *w = pl_calloc(1, sizeof *w);
    if (!w) {
        return PARLEY_ENOMEM;
    }
    w->tcp = tcp;
    w->threaded = threaded;
    atomic_store(&w->next_timer_us, UINT64_MAX);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->step_mu, NULL);
    pthread_cond_init(&w->done_cv, NULL);
    int rc = pl_os_poller_create(PL_OS_POLLER_DEFAULT, &w->poller);
    if (rc == PARLEY_OK && threaded) {
        rc = pl_os_wakeup_create(PL_OS_WAKEUP_DEFAULT, &w->wake);
    } else if (rc == PARLEY_OK) {
        w->wake = tcp->app_wake;
    }
    if (rc == PARLEY_OK) {
        rc = pl_os_poller_add(w->poller, pl_os_wakeup_fd(w->wake),
                              PL_OS_POLL_IN, w->wake);
    }
    w->buf = rc == PARLEY_OK ? pl_malloc(RX_BUF) : NULL;
    if (rc == PARLEY_OK && !w->buf) {
        rc = PARLEY_ENOMEM;
    }
    if (rc == PARLEY_OK && threaded &&
        pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        rc = PARLEY_EIO;
    }
    if (rc != PARLEY_OK) {
        w->threaded = 0;
        pl_tcp_worker_destroy(w);
        return rc;
    }
    *out = w;
    return PARLEY_OK;
}

void
pl_tcp_worker_destroy(pl_tcp_worker *w)
{
    if (!w) {
        return;
    }
    if (w->threaded) {
        atomic_store(&w->stop, 1);
        wake_worker(w);
        pthread_join(w->thread, NULL);
    }
    apply_commands(w);
    while (w->nconns > 0) {
        pl_tcp_conn *c = w->conns[w->nconns - 1];
        pl_tcp_ref(c);
        pthread_mutex_lock(&c->mu);
        pl_tcp_worker_close_conn(w, c);
        pthread_mutex_unlock(&c->mu);
        pl_tcp_unref(c);
    }
    pl_os_poller_destroy(w->poller);
    if (w->wake && w->wake != w->tcp->app_wake) {
        pl_os_wakeup_destroy(w->wake);
    }
    pl_free(w->cmds);
    pl_free(w->conns);
    pl_free(w->buf);
    pthread_cond_destroy(&w->done_cv);
    pthread_mutex_destroy(&w->step_mu);
    pthread_mutex_destroy(&w->mu);
    pl_free(w);
}
