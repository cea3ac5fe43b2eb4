/*
 * Readers and listeners: bounded queues ("sinks") that home workers fill
 * with datagrams or new connections and the app empties. A full queue
 * pauses the connection that has more (nothing is dropped) and resumes
 * it when the app makes room; a latest-only reader keeps one datagram.
 */
#include <string.h>

#include "driver/tcp_int.h"
#include "util/alloc.h"

#define DEFAULT_ITEMS 50000
#define DEFAULT_BYTES ((uint64_t)64 << 20)

pl_tcp_item *
pl_tcp_item_new(size_t len)
{
    if (len > SIZE_MAX - sizeof(pl_tcp_item)) {
        return NULL;
    }
    pl_tcp_item *it = pl_malloc(sizeof *it + len);
    if (it) {
        memset(it, 0, sizeof *it);
        it->len = len;
    }
    return it;
}

void
parley_tcp_queue_config_init(parley_tcp_queue_config *cfg)
{
    if (cfg) {
        memset(cfg, 0, sizeof *cfg);
        cfg->max_items = DEFAULT_ITEMS;
        cfg->max_bytes = DEFAULT_BYTES;
    }
}

/* ---- the queue ------------------------------------------------------------
 */

static int
add_stalled(pl_tcp_sink *s, pl_tcp_conn *c)
{
    if (s->nstalled == s->capstalled) {
        size_t n = s->capstalled ? s->capstalled * 2 : 8;
        pl_tcp_conn **a = pl_realloc(s->stalled, n * sizeof *a);
        if (!a) {
            return PARLEY_ENOMEM;
        }
        s->stalled = a;
        s->capstalled = n;
    }
    pl_tcp_ref(c);
    s->stalled[s->nstalled++] = c;
    return PARLEY_OK;
}

static void
append_item(pl_tcp_sink *s, pl_tcp_item *it)
{
    it->next = NULL;
    if (s->tail) {
        s->tail->next = it;
    } else {
        s->head = it;
    }
    s->tail = it;
    s->count++;
    s->bytes += it->len;
    atomic_fetch_add(&s->tcp->queued, 1);
}

int
pl_tcp_sink_push(pl_tcp_sink *s, pl_tcp_item *it, pl_tcp_conn *c)
{
    pl_tcp_item *old = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->latest && s->head) {
        old = s->head;
        s->head = s->tail = NULL;
        s->count = 0;
        s->bytes = 0;
        s->replaced++;
        atomic_fetch_sub(&s->tcp->queued, 1);
    } else if (!s->latest && s->count > 0 &&
               (s->count >= s->max_count ||
                s->bytes + it->len > s->max_bytes)) {
        s->full++;
        int listed = c->stalled_on == s;
        if (listed || add_stalled(s, c) == PARLEY_OK) {
            c->stalled_on = s;
            pthread_mutex_unlock(&s->mu);
            return 0;
        }
        /* No memory to remember the pause: take it over the limit
           rather than lose track of the connection. */
    }
    append_item(s, it);
    int was_empty = s->count == 1;
    pthread_mutex_unlock(&s->mu);
    pl_free(old);
    if (was_empty && s->nworkers > 0) {
        pl_tcp_notify_app(s->tcp);
    }
    return 1;
}

/* Kicks the connections paused on s (none of their locks held). */
static void
resume(pl_tcp_sink *s, pl_tcp_conn **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        pl_tcp_conn *c = list[i];
        pthread_mutex_lock(&c->mu);
        if (c->stalled_on == s) {
            c->stalled_on = NULL;
            pl_tcp_kick(c);
        }
        pthread_mutex_unlock(&c->mu);
        pl_tcp_unref(c);
    }
    pl_free(list);
}

static pl_tcp_item *
sink_pop(pl_tcp_sink *s)
{
    pl_tcp_conn **list = NULL;
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    pl_tcp_item *it = s->head;
    if (it) {
        s->head = it->next;
        if (!s->head) {
            s->tail = NULL;
        }
        s->count--;
        s->bytes -= it->len;
        s->delivered++;
        atomic_fetch_sub(&s->tcp->queued, 1);
        if (s->nstalled && s->count < s->max_count && s->bytes < s->max_bytes) {
            list = s->stalled;
            n = s->nstalled;
            s->stalled = NULL;
            s->nstalled = s->capstalled = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (n) {
        resume(s, list, n);
    }
    return it;
}

static int
sink_count(pl_tcp_sink *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->count > 0;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- set-up and tear-down ---------------------------------------------------
 */

int
pl_tcp_sink_init(pl_tcp_sink *s, parley_tcp *tcp, int kind,
                 const parley_tcp_queue_config *cfg)
{
    parley_tcp_queue_config def;
    if (!cfg) {
        parley_tcp_queue_config_init(&def);
        cfg = &def;
    }
    if (cfg->threads < 0 || cfg->threads > PL_TCP_MAX_THREADS) {
        return PARLEY_EINVAL;
    }
    memset(s, 0, sizeof *s);
    s->tcp = tcp;
    s->kind = kind;
    s->latest = kind == PL_SINK_READER && cfg->latest_only;
    s->max_count = cfg->max_items ? cfg->max_items : DEFAULT_ITEMS;
    s->max_bytes = cfg->max_bytes ? cfg->max_bytes : DEFAULT_BYTES;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        return PARLEY_ENOMEM;
    }
    int rc = PARLEY_OK;
    if (cfg->threads > 0) {
        s->workers = pl_calloc((size_t)cfg->threads, sizeof *s->workers);
        rc = s->workers ? PARLEY_OK : PARLEY_ENOMEM;
    }
    for (int i = 0; rc == PARLEY_OK && i < cfg->threads; i++) {
        rc = pl_tcp_worker_create(tcp, 1, &s->workers[i]);
        s->nworkers += rc == PARLEY_OK;
    }
    if (rc != PARLEY_OK) {
        for (int i = 0; i < s->nworkers; i++) {
            pl_tcp_worker_destroy(s->workers[i]);
        }
        pl_free(s->workers);
        pthread_mutex_destroy(&s->mu);
        return rc;
    }
    pthread_mutex_lock(&tcp->admin_mu);
    s->next = tcp->sinks;
    tcp->sinks = s;
    pthread_mutex_unlock(&tcp->admin_mu);
    return PARLEY_OK;
}

/* References to every connection in the table. */
static pl_tcp_conn **
all_conns(parley_tcp *tcp, size_t *n)
{
    *n = 0;
    pthread_mutex_lock(&tcp->mu);
    pl_tcp_conn **a = pl_calloc(tcp->nslots ? tcp->nslots : 1, sizeof *a);
    for (uint32_t i = 0; a && i < tcp->nslots; i++) {
        if (tcp->slots[i]) {
            a[(*n)++] = tcp->slots[i];
            tcp->slots[i]->refs++;
        }
    }
    pthread_mutex_unlock(&tcp->mu);
    return a;
}

/* Every member of s leaves it for the polled worker (admin_mu held). */
static void
detach_members(pl_tcp_sink *s)
{
    size_t n;
    pl_tcp_conn **a = all_conns(s->tcp, &n);
    for (size_t i = 0; i < n; i++) {
        pl_tcp_conn *c = a[i];
        pthread_mutex_lock(&c->mu);
        int member = c->sink == s;
        if (member) {
            c->sink = NULL;
        }
        if (c->stalled_on == s) {
            c->stalled_on = NULL;
        }
        pthread_mutex_unlock(&c->mu);
        if (member) {
            pl_tcp_move(c, s->tcp->polled);
        }
        pl_tcp_unref(c);
    }
    pl_free(a);
}

static void
unlink_sink(pl_tcp_sink *s)
{
    for (pl_tcp_sink **p = &s->tcp->sinks; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            return;
        }
    }
}

void
pl_tcp_sink_fini(pl_tcp_sink *s)
{
    parley_tcp *tcp = s->tcp;
    pthread_mutex_lock(&tcp->admin_mu);
    unlink_sink(s);
    detach_members(s);
    for (int i = 0; i < s->nworkers; i++) {
        pl_tcp_worker_destroy(s->workers[i]);
    }
    pthread_mutex_unlock(&tcp->admin_mu);
    pl_free(s->workers);
    for (size_t i = 0; i < s->nstalled; i++) {
        pl_tcp_unref(s->stalled[i]);
    }
    pl_free(s->stalled);
    while (s->head) {
        pl_tcp_item *it = s->head;
        s->head = it->next;
        atomic_fetch_sub(&tcp->queued, 1);
        if (s->kind == PL_SINK_LISTENER) {
            parley_tcp_close(tcp, it->conn); /* never handed out */
        }
        pl_free(it);
    }
    pthread_mutex_destroy(&s->mu);
}

pl_tcp_worker *
pl_tcp_sink_worker(pl_tcp_sink *s)
{
    if (s->nworkers == 0) {
        return s->tcp->polled;
    }
    pl_tcp_worker *w = s->workers[s->next_worker];
    s->next_worker = (s->next_worker + 1) % s->nworkers;
    return w;
}

/* ---- membership
 * --------------------------------------------------------------- */

static int
member_add(pl_tcp_sink *s, parley_conn id, int kind)
{
    parley_tcp *tcp = s->tcp;
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    int rc = PARLEY_OK, same = 0;
    pthread_mutex_lock(&tcp->admin_mu);
    pthread_mutex_lock(&c->mu);
    if (c->dead) {
        rc = PARLEY_ENOTCONN;
    } else if (c->kind != kind) {
        rc = PARLEY_EINVAL;
    } else {
        same = c->sink == s;
        c->sink = s;
        c->last_rx_us = pl_os_now_us();
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == PARLEY_OK && !same) {
        pl_tcp_move(c, pl_tcp_sink_worker(s));
    }
    pthread_mutex_unlock(&tcp->admin_mu);
    pl_tcp_unref(c);
    return rc;
}

static int
member_remove(pl_tcp_sink *s, parley_conn id)
{
    parley_tcp *tcp = s->tcp;
    pl_tcp_conn *c = pl_tcp_lookup(tcp, id);
    if (!c) {
        return PARLEY_ENOTCONN;
    }
    int rc = PARLEY_OK;
    pthread_mutex_lock(&tcp->admin_mu);
    pthread_mutex_lock(&c->mu);
    if (c->sink != s) {
        rc = PARLEY_ENOENT;
    } else {
        c->sink = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == PARLEY_OK) {
        pl_tcp_move(c, tcp->polled);
    }
    pthread_mutex_unlock(&tcp->admin_mu);
    pl_tcp_unref(c);
    return rc;
}

/* ---- reader
 * ---------------------------------------------------------------------- */

int
parley_tcp_reader_create(parley_tcp *tcp, const parley_tcp_queue_config *cfg,
                         parley_tcp_reader **out)
{
    if (!tcp || !out) {
        return PARLEY_EINVAL;
    }
    parley_tcp_reader *r = pl_calloc(1, sizeof *r);
    if (!r) {
        return PARLEY_ENOMEM;
    }
    int rc = pl_tcp_sink_init(&r->s, tcp, PL_SINK_READER, cfg);
    if (rc != PARLEY_OK) {
        pl_free(r);
        return rc;
    }
    *out = r;
    return PARLEY_OK;
}

void
parley_tcp_reader_destroy(parley_tcp_reader *r)
{
    if (r) {
        pl_tcp_sink_fini(&r->s);
        pl_free(r);
    }
}

int
parley_tcp_reader_add(parley_tcp_reader *r, parley_conn conn)
{
    return r ? member_add(&r->s, conn, PL_TCP_STREAM) : PARLEY_EINVAL;
}

int
parley_tcp_reader_remove(parley_tcp_reader *r, parley_conn conn)
{
    return r ? member_remove(&r->s, conn) : PARLEY_EINVAL;
}

int
parley_tcp_reader_available(parley_tcp_reader *r)
{
    if (!r) {
        return 0;
    }
    parley_tcp_poll(r->s.tcp);
    return sink_count(&r->s);
}

int
parley_tcp_reader_get(parley_tcp_reader *r, parley_tcp_datagram *out)
{
    if (!r || !out) {
        return PARLEY_EINVAL;
    }
    pl_tcp_item *it = sink_pop(&r->s);
    if (!it) {
        return 0;
    }
    out->conn = it->conn;
    out->addr = it->addr;
    out->data = it->data;
    out->len = it->len;
    out->internal_ = it;
    return 1;
}

void
parley_tcp_datagram_release(parley_tcp_datagram *dg)
{
    if (dg) {
        pl_free(dg->internal_);
        dg->internal_ = NULL;
        dg->data = NULL;
        dg->len = 0;
    }
}

int
parley_tcp_reader_get_stats(parley_tcp_reader *r, parley_tcp_reader_stats *out)
{
    if (!r || !out) {
        return PARLEY_EINVAL;
    }
    pthread_mutex_lock(&r->s.mu);
    out->queued = r->s.count;
    out->queued_bytes = r->s.bytes;
    out->delivered = r->s.delivered;
    out->full = r->s.full;
    out->replaced = r->s.replaced;
    pthread_mutex_unlock(&r->s.mu);
    return PARLEY_OK;
}

/* ---- listener
 * -------------------------------------------------------------------- */

int
parley_tcp_listener_create(parley_tcp *tcp, const parley_tcp_queue_config *cfg,
                           parley_tcp_listener **out)
{
    if (!tcp || !out) {
        return PARLEY_EINVAL;
    }
    parley_tcp_listener *l = pl_calloc(1, sizeof *l);
    if (!l) {
        return PARLEY_ENOMEM;
    }
    int rc = pl_tcp_sink_init(&l->s, tcp, PL_SINK_LISTENER, cfg);
    if (rc != PARLEY_OK) {
        pl_free(l);
        return rc;
    }
    *out = l;
    return PARLEY_OK;
}

void
parley_tcp_listener_destroy(parley_tcp_listener *l)
{
    if (l) {
        pl_tcp_sink_fini(&l->s);
        pl_free(l);
    }
}

int
parley_tcp_listener_add(parley_tcp_listener *l, parley_conn rendezvous)
{
    return l ? member_add(&l->s, rendezvous, PL_TCP_RENDEZVOUS) : PARLEY_EINVAL;
}

int
parley_tcp_listener_remove(parley_tcp_listener *l, parley_conn rendezvous)
{
    return l ? member_remove(&l->s, rendezvous) : PARLEY_EINVAL;
}

int
parley_tcp_listener_available(parley_tcp_listener *l)
{
    if (!l) {
        return 0;
    }
    parley_tcp_poll(l->s.tcp);
    return sink_count(&l->s);
}

int
parley_tcp_listener_get(parley_tcp_listener *l, parley_tcp_accept *out)
{
    if (!l || !out) {
        return PARLEY_EINVAL;
    }
    pl_tcp_item *it = sink_pop(&l->s);
    if (!it) {
        return 0;
    }
    out->rendezvous = it->rendezvous;
    out->addr = it->addr;
    out->conn = it->conn;
    pl_free(it);
    return 1;
}
