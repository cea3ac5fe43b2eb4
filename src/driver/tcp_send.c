/*
 * TCP output: framing datagrams into a connection's out buffer, sending
 * what the socket takes, Panda3D's collect-tcp batching, keepalives and
 * the idle timeout, and the writer object (direct, or N threads with
 * bounded queues that keep each connection's order).
 */
#include <string.h>

#include "driver/tcp_int.h"
#include "util/alloc.h"
#include "util/log.h"

#define MOD "tcp"

/* An out buffer larger than this is freed once it empties. */
#define OUT_KEEP (256u << 10)

static size_t
out_pending(const pl_tcp_conn *c)
{
    return c->out_len - c->out_off;
}

int
pl_tcp_conn_wants_out(const pl_tcp_conn *c)
{
    /* A connect in progress reports its end as writability. */
    return c->connecting || (out_pending(c) > 0 && c->collect_since_us == 0);
}

/* Makes room for n more bytes at the end of the out buffer. */
static int
out_reserve(pl_tcp_conn *c, size_t n)
{
    if (c->out_off > 0 && c->out_cap - c->out_len < n) {
        memmove(c->out, c->out + c->out_off, out_pending(c));
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    if (c->out_cap - c->out_len >= n) {
        return PARLEY_OK;
    }
    size_t want = c->out_len + n;
    size_t cap = c->out_cap ? c->out_cap : 1024;
    while (cap < want) {
        cap *= 2;
    }
    uint8_t *b = pl_realloc(c->out, cap);
    if (!b) {
        return PARLEY_ENOMEM;
    }
    c->out = b;
    c->out_cap = cap;
    return PARLEY_OK;
}

static void
out_reset(pl_tcp_conn *c)
{
    c->out_len = c->out_off = 0;
    if (c->out_cap > OUT_KEEP) {
        pl_free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
}

/* Tells the home worker that output waits for the socket. */
static void
want_out(pl_tcp_conn *c, pl_tcp_worker *self)
{
    if (c->home && c->home == self) {
        pl_tcp_update_interest(self, c);
    } else if (c->home && !(c->interest & PL_OS_POLL_OUT)) {
        pl_tcp_kick(c);
    }
}

void
pl_tcp_conn_flush(pl_tcp_conn *c, int force, pl_tcp_worker *self)
{
    if (c->dead || c->connecting || out_pending(c) == 0) {
        return;
    }
    uint64_t now = pl_os_now_us();
    if (c->collect_since_us && !force &&
        out_pending(c) < c->opt.collect_bytes &&
        now - c->collect_since_us < (uint64_t)c->opt.collect_ms * 1000) {
        return;
    }
    c->collect_since_us = 0;
    while (out_pending(c) > 0) {
        size_t sent = 0;
        int rc =
            pl_os_tcp_send(c->fd, c->out + c->out_off, out_pending(c), &sent);
        if (rc == PARLEY_EAGAIN) {
            want_out(c, self);
            return;
        }
        if (rc != PARLEY_OK) {
            pl_tcp_conn_fail(c, rc, self);
            return;
        }
        c->out_off += sent;
        c->bytes_out += sent;
        c->last_tx_us = now;
    }
    out_reset(c);
}

/* Appends header and payload as one datagram. */
static int
append_datagram(pl_tcp_conn *c, const uint8_t *hdr, size_t hlen,
                const void *data, size_t len)
{
    int rc = out_reserve(c, hlen + len);
    if (rc != PARLEY_OK) {
        return rc;
    }
    memcpy(c->out + c->out_len, hdr, hlen);
    if (len > 0) {
        memcpy(c->out + c->out_len + hlen, data, len);
    }
    c->out_len += hlen + len;
    c->dg_out++;
    return PARLEY_OK;
}

int
pl_tcp_conn_send(pl_tcp_conn *c, const void *data, size_t len, int admitted,
                 pl_tcp_worker *self)
{
    uint8_t hdr[4];
    size_t hlen = 0;
    if (c->dead) {
        return PARLEY_ENOTCONN;
    }
    int rc = pl_p3d_header(c->hsize_out, len, hdr, &hlen);
    if (rc != PARLEY_OK) {
        return rc;
    }
    if (hlen + len == 0) {
        return PARLEY_OK; /* raw mode: an empty datagram is nothing */
    }
    if (!admitted && (uint64_t)out_pending(c) + c->writer_pending + hlen + len >
                         c->opt.max_out_bytes) {
        return PARLEY_ENOBUFS;
    }
    rc = append_datagram(c, hdr, hlen, data, len);
    if (rc != PARLEY_OK) {
        return rc;
    }
    if (c->opt.collect_ms && c->collect_since_us == 0 &&
        out_pending(c) == hlen + len) {
        /* The first of a batch: the home's timer sends it at the latest
           collect_ms from now. */
        c->collect_since_us = pl_os_now_us();
        if (c->home && c->home != self) {
            pl_tcp_kick(c);
        } else if (c->home) {
            atomic_store(&self->next_timer_us, 0);
        }
    }
    pl_tcp_conn_flush(c, 0, self);
    return PARLEY_OK;
}

/* Keepalive: an empty datagram after keepalive_ms without sending. */
static uint64_t
keepalive_timer(pl_tcp_conn *c, uint64_t now, pl_tcp_worker *self)
{
    uint64_t ka = (uint64_t)c->opt.keepalive_ms * 1000;
    if (!ka || c->hsize_out == PL_P3D_RAW) {
        return UINT64_MAX;
    }
    if (now - c->last_tx_us >= ka && out_pending(c) == 0) {
        uint8_t hdr[4];
        size_t hlen = 0;
        pl_p3d_header(c->hsize_out, 0, hdr, &hlen);
        if (append_datagram(c, hdr, hlen, NULL, 0) == PARLEY_OK) {
            c->dg_out--; /* not the app's */
            pl_tcp_conn_flush(c, 1, self);
        }
        c->last_tx_us = now;
    }
    return c->last_tx_us + ka;
}

uint64_t
pl_tcp_conn_timers(pl_tcp_conn *c, uint64_t now, pl_tcp_worker *self)
{
    uint64_t due = UINT64_MAX;
    if (c->dead) {
        return due;
    }
    if (c->connecting) {
        if (now >= c->connect_deadline_us) {
            pl_tcp_conn_fail(c, PARLEY_ETIMEDOUT, self);
        }
        return c->connect_deadline_us;
    }
    uint64_t idle = (uint64_t)c->opt.idle_timeout_ms * 1000;
    if (idle && c->sink) {
        if (now - c->last_rx_us >= idle) {
            pl_tcp_conn_fail(c, PARLEY_ETIMEDOUT, self);
            return due;
        }
        due = c->last_rx_us + idle;
    }
    if (c->collect_since_us) {
        uint64_t at = c->collect_since_us + (uint64_t)c->opt.collect_ms * 1000;
        if (now >= at) {
            pl_tcp_conn_flush(c, 1, self);
        } else {
            due = at < due ? at : due;
        }
    }
    if (!c->dead) {
        uint64_t k = keepalive_timer(c, now, self);
        due = k < due ? k : due;
    }
    return due;
}

/* ---- writer ----------------------------------------------------------------
 */

typedef struct wqueue {
    struct parley_tcp_writer *w;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pl_tcp_item *head, *tail;
    uint64_t count, bytes;
    int stop;
    pthread_t thread;
    int started;
} wqueue;

struct parley_tcp_writer {
    parley_tcp *tcp;
    int nthreads;
    wqueue *q;
    uint64_t max_items, max_bytes; /* per queue */
    struct parley_tcp_writer *next;
};

/* Sends one queued datagram. Its bytes were admitted at queueing. */
static void
write_item(parley_tcp *tcp, pl_tcp_item *it)
{
    pl_tcp_conn *c = pl_tcp_lookup(tcp, it->conn);
    if (!c) {
        return; /* closed by the app since */
    }
    pthread_mutex_lock(&c->mu);
    size_t reserved = (size_t)it->rendezvous;
    c->writer_pending -=
        reserved < c->writer_pending ? reserved : c->writer_pending;
    int rc = pl_tcp_conn_send(c, it->data, it->len, 1, NULL);
    if (rc != PARLEY_OK && rc != PARLEY_ENOTCONN) {
        /* Accepted earlier, cannot go now (the header size changed, or
           no memory): the connection ends visibly rather than losing a
           datagram from the middle of its stream. */
        pl_tcp_conn_fail(c, rc, NULL);
    }
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
}

static void *
writer_main(void *arg)
{
    wqueue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head && !q->stop) {
            pthread_cond_wait(&q->cv, &q->mu);
        }
        pl_tcp_item *it = q->head;
        if (it) {
            q->head = it->next;
            if (!q->head) {
                q->tail = NULL;
            }
            q->count--;
            q->bytes -= it->len;
        }
        pthread_mutex_unlock(&q->mu);
        if (!it) {
            return NULL; /* stopped and drained */
        }
        write_item(q->w->tcp, it);
        pl_free(it);
    }
}

static void
stop_queues(parley_tcp_writer *w)
{
    for (int i = 0; i < w->nthreads; i++) {
        wqueue *q = &w->q[i];
        if (!q->started) {
            continue;
        }
        pthread_mutex_lock(&q->mu);
        q->stop = 1;
        pthread_cond_signal(&q->cv);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->thread, NULL);
    }
    for (int i = 0; i < w->nthreads; i++) {
        wqueue *q = &w->q[i];
        while (q->head) {
            pl_tcp_item *it = q->head;
            q->head = it->next;
            pl_free(it);
        }
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
    }
}

static int
start_queues(parley_tcp_writer *w)
{
    for (int i = 0; i < w->nthreads; i++) {
        wqueue *q = &w->q[i];
        q->w = w;
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->cv, NULL);
    }
    for (int i = 0; i < w->nthreads; i++) {
        if (pthread_create(&w->q[i].thread, NULL, writer_main, &w->q[i]) != 0) {
            return PARLEY_EIO;
        }
        w->q[i].started = 1;
    }
    return PARLEY_OK;
}

int
parley_tcp_writer_create(parley_tcp *tcp, int threads, uint32_t max_items,
                         uint64_t max_bytes, parley_tcp_writer **out)
{
    if (!tcp || !out || threads < 0 || threads > PL_TCP_MAX_THREADS) {
        return PARLEY_EINVAL;
    }
    parley_tcp_writer *w = pl_calloc(1, sizeof *w);
    if (!w) {
        return PARLEY_ENOMEM;
    }
    w->tcp = tcp;
    w->nthreads = threads;
    uint64_t items = max_items ? max_items : 10000;
    uint64_t bytes = max_bytes ? max_bytes : (uint64_t)64 << 20;
    int n = threads ? threads : 1;
    w->max_items = (items + (uint64_t)n - 1) / (uint64_t)n;
    w->max_bytes = (bytes + (uint64_t)n - 1) / (uint64_t)n;
    int rc = PARLEY_OK;
    if (threads) {
        w->q = pl_calloc((size_t)threads, sizeof *w->q);
        rc = w->q ? start_queues(w) : PARLEY_ENOMEM;
    }
    if (rc != PARLEY_OK) {
        if (w->q) {
            stop_queues(w);
        }
        pl_free(w->q);
        pl_free(w);
        return rc;
    }
    pthread_mutex_lock(&tcp->admin_mu);
    w->next = tcp->writers;
    tcp->writers = w;
    pthread_mutex_unlock(&tcp->admin_mu);
    *out = w;
    return PARLEY_OK;
}

static void
writer_free(parley_tcp_writer *w)
{
    if (w->nthreads) {
        stop_queues(w);
    }
    pl_free(w->q);
    pl_free(w);
}

void
parley_tcp_writer_destroy(parley_tcp_writer *w)
{
    if (!w) {
        return;
    }
    parley_tcp *tcp = w->tcp;
    pthread_mutex_lock(&tcp->admin_mu);
    for (parley_tcp_writer **p = &tcp->writers; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    pthread_mutex_unlock(&tcp->admin_mu);
    writer_free(w);
}

void
pl_tcp_writers_destroy(parley_tcp *tcp)
{
    while (tcp->writers) {
        parley_tcp_writer *w = tcp->writers;
        tcp->writers = w->next;
        writer_free(w);
    }
}

/* Queues it on c's writer thread (c->mu held). */
static int
enqueue(parley_tcp_writer *w, pl_tcp_conn *c, const void *data, size_t len)
{
    uint8_t hdr[4];
    size_t hlen = 0;
    int rc = pl_p3d_header(c->hsize_out, len, hdr, &hlen);
    if (rc != PARLEY_OK) {
        return rc;
    }
    size_t framed = hlen + len;
    if ((uint64_t)out_pending(c) + c->writer_pending + framed >
        c->opt.max_out_bytes) {
        return PARLEY_ENOBUFS;
    }
    wqueue *q = &w->q[c->slot % (uint32_t)w->nthreads];
    pl_tcp_item *it = pl_tcp_item_new(len);
    if (!it) {
        return PARLEY_ENOMEM;
    }
    it->conn = c->id;
    it->rendezvous = framed; /* the reservation, returned when sent */
    if (len > 0) {
        memcpy(it->data, data, len);
    }
    pthread_mutex_lock(&q->mu);
    if (q->count >= w->max_items ||
        (q->count > 0 && q->bytes + len > w->max_bytes)) {
        pthread_mutex_unlock(&q->mu);
        pl_free(it);
        return PARLEY_ENOBUFS;
    }
    if (q->tail) {
        q->tail->next = it;
    } else {
        q->head = it;
    }
    q->tail = it;
    q->count++;
    q->bytes += len;
    c->writer_pending += framed;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return PARLEY_OK;
}

int
parley_tcp_writer_send(parley_tcp_writer *w, parley_conn id, const void *data,
                       size_t len)
{
    if (!w || (!data && len > 0)) {
        return PARLEY_EINVAL;
    }
    if (w->nthreads == 0) {
        return parley_tcp_send(w->tcp, id, data, len);
    }
    pl_tcp_conn *c = pl_tcp_lookup(w->tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    pthread_mutex_lock(&c->mu);
    int rc;
    if (c->dead) {
        rc = PARLEY_ENOTCONN;
    } else if (c->kind != PL_TCP_STREAM) {
        rc = PARLEY_EINVAL;
    } else {
        rc = enqueue(w, c, data, len);
    }
    pthread_mutex_unlock(&c->mu);
    pl_tcp_unref(c);
    return rc;
}
