/*
 * The outgoing half of an RV connection (rv_conn.h): the bounded output
 * queue (small frames packed into shared chunks, large payloads borrowed
 * in place), the send calls with their argument checks, RETURN ordering,
 * and the event records handed to the app.
 */
#include <string.h>

#include "driver/rv_int.h"
#include "util/alloc.h"

/* Smallest chunk for packed frames. */
#define CHUNK_MIN 16384
/* Room beyond max_queued for our own control frames (PONG, RETURN,
   DISCONNECT, greetings): a peer that never reads cannot make us queue
   without bound, but a full queue does not stop those frames either. */
#define CONTROL_SLACK 65536

struct pl_rv_chunk {
    pl_rv_chunk *next;
    const uint8_t *p;
    size_t len, off;
    size_t cap; /* > 0: p is data[] and frames may be appended */
    parley_rv_release_fn release;
    void *ruser;
    void *rdata;
    uint8_t data[];
};

struct pl_rv_held {
    pl_rv_held *next;
    uint64_t seq;
    size_t len;
    uint8_t value[];
};

/* ---- output queue ------------------------------------------------------ */

uint8_t *
pl_rv_out_reserve(pl_rv_conn *c, size_t n, int control, int *err)
{
    size_t limit = c->pp->max_queued + (control ? CONTROL_SLACK : 0);
    if (n > limit || c->queued > limit - n) {
        *err = PARLEY_ENOBUFS;
        return NULL;
    }
    pl_rv_chunk *t = c->out_tail;
    if (t && t->cap > 0 && t->cap - t->len >= n) {
        return t->data + t->len;
    }
    size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
    pl_rv_chunk *k = pl_malloc(sizeof *k + cap);
    if (!k) {
        *err = PARLEY_ENOMEM;
        return NULL;
    }
    memset(k, 0, sizeof *k);
    k->p = k->data;
    k->cap = cap;
    if (t) {
        t->next = k;
    } else {
        c->out_head = k;
    }
    c->out_tail = k;
    return k->data;
}

void
pl_rv_out_commit(pl_rv_conn *c, size_t n)
{
    c->out_tail->len += n;
    c->queued += n;
}

/* Queues a frame produced by enc(wr) of at most max bytes. */
int
pl_rv_out_frame(pl_rv_conn *c, size_t max, int control,
                int (*enc)(pl_wr *wr, const void *arg), const void *arg)
{
    int err = PARLEY_OK;
    uint8_t *p = pl_rv_out_reserve(c, max, control, &err);
    if (!p) {
        return err;
    }
    pl_wr wr;
    pl_wr_init(&wr, p, max);
    err = enc(&wr, arg);
    if (err == PARLEY_OK) {
        pl_rv_out_commit(c, wr.off);
    }
    return err;
}

static int
out_borrow(pl_rv_conn *c, const void *data, size_t len,
           parley_rv_release_fn release, void *user)
{
    pl_rv_chunk *k = pl_malloc(sizeof *k);
    if (!k) {
        return PARLEY_ENOMEM;
    }
    memset(k, 0, sizeof *k);
    k->p = data;
    k->len = len;
    k->release = release;
    k->ruser = user;
    k->rdata = (void *)(uintptr_t)data;
    if (c->out_tail) {
        c->out_tail->next = k;
    } else {
        c->out_head = k;
    }
    c->out_tail = k;
    c->queued += len;
    return PARLEY_OK;
}

static void
chunk_free(pl_rv_chunk *k)
{
    if (k->release) {
        k->release(k->ruser, k->rdata);
    }
    pl_free(k);
}

void
pl_rv_out_clear(pl_rv_conn *c)
{
    pl_rv_chunk *k = c->out_head;
    while (k) {
        pl_rv_chunk *next = k->next;
        chunk_free(k);
        k = next;
    }
    c->out_head = c->out_tail = NULL;
    c->queued = 0;
    while (c->held) {
        pl_rv_held *h = c->held;
        c->held = h->next;
        pl_free(h);
    }
}

int
pl_rv_conn_out_peek(pl_rv_conn *c, const uint8_t **p, size_t *len)
{
    if (c->state == PL_RVC_CONNECTING || c->state == PL_RVC_DEAD) {
        return PARLEY_EAGAIN;
    }
    while (c->out_head && c->out_head->off == c->out_head->len) {
        pl_rv_chunk *k = c->out_head;
        c->out_head = k->next;
        if (!c->out_head) {
            c->out_tail = NULL;
        }
        chunk_free(k);
    }
    if (!c->out_head) {
        return PARLEY_EAGAIN;
    }
    *p = c->out_head->p + c->out_head->off;
    *len = c->out_head->len - c->out_head->off;
    return PARLEY_OK;
}

void
pl_rv_conn_out_consume(pl_rv_conn *c, size_t n, uint64_t now)
{
    pl_rv_chunk *k = c->out_head;
    if (!k || n == 0) {
        return;
    }
    k->off += n;
    c->queued -= n;
    if (k->off == k->len) {
        c->out_head = k->next;
        if (!c->out_head) {
            c->out_tail = NULL;
        }
        chunk_free(k);
    }
    if (c->state == PL_RVC_CLOSING) {
        c->closing_deadline_us = now + c->pp->linger_us;
    }
}

int
pl_rv_conn_wants_shutdown(const pl_rv_conn *c)
{
    return c->state == PL_RVC_CLOSING && c->queued == 0 && !c->shut_wr;
}

/* ---- frames we send ---------------------------------------------------- */

static int
enc_disconnect(pl_wr *wr, const void *arg)
{
    (void)arg;
    return pl_rv_disconnect_encode(wr);
}

static int
enc_ping(pl_wr *wr, const void *arg)
{
    (void)arg;
    return pl_rv_ping_encode(wr);
}

static int
enc_pong(pl_wr *wr, const void *arg)
{
    (void)arg;
    return pl_rv_pong_encode(wr);
}

static int
enc_ppc(pl_wr *wr, const void *arg)
{
    return pl_rv_pingpongcontrol_encode(wr, *(const int *)arg);
}

static int
enc_greeting(pl_wr *wr, const void *arg)
{
    const pl_rv_params *pp = arg;
    return pl_rv_greeting_encode(wr, pp->name, pp->app);
}

int
pl_rv_queue_control(pl_rv_conn *c, pl_rv_ctl what, int arg)
{
    switch (what) {
    case PL_RV_CTL_GREETING:
        return pl_rv_out_frame(c,
                               pl_rv_head_size(11, 4096) + strlen(c->pp->name) +
                                   strlen(c->pp->app) + 1,
                               1, enc_greeting, c->pp);
    case PL_RV_CTL_DISCONNECT:
        return pl_rv_out_frame(c, 21, 1, enc_disconnect, NULL);
    case PL_RV_CTL_PING:
        return pl_rv_out_frame(c, 8, 1, enc_ping, NULL);
    case PL_RV_CTL_PONG:
        return pl_rv_out_frame(c, 8, 1, enc_pong, NULL);
    case PL_RV_CTL_PINGPONGCONTROL:
        return pl_rv_out_frame(c, 19, 1, enc_ppc, &arg);
    }
    return PARLEY_EINVAL;
}

int
pl_rv_conn_can_send(const pl_rv_conn *c)
{
    return c->state == PL_RVC_READY ||
           (!c->incoming &&
            (c->state == PL_RVC_CONNECTING || c->state == PL_RVC_WAIT_REPLY));
}

static int
send_check(const pl_rv_conn *c)
{
    if (pl_rv_conn_can_send(c)) {
        return PARLEY_OK;
    }
    if (c->state == PL_RVC_WAIT_GREETING || c->state == PL_RVC_REQUESTED) {
        return PARLEY_ESTATE;
    }
    return PARLEY_ENOTCONN;
}

struct text_arg {
    const void *p;
    size_t len;
};

static int
enc_message(pl_wr *wr, const void *arg)
{
    const struct text_arg *t = arg;
    return pl_rv_frame_encode(wr, "MESSAGE", t->p, t->len);
}

int
pl_rv_conn_send_message(pl_rv_conn *c, const void *text, size_t len)
{
    if (!text || len == 0) {
        return PARLEY_EINVAL;
    }
    int rc = send_check(c);
    if (rc != PARLEY_OK) {
        return rc;
    }
    struct text_arg t = {text, len};
    return pl_rv_out_frame(c, pl_rv_head_size(7, len) + len, 0, enc_message,
                           &t);
}

struct event_arg {
    int rsvp;
    const char *name, *target;
    const void *p;
    size_t len;
};

static int
enc_event(pl_wr *wr, const void *arg)
{
    const struct event_arg *e = arg;
    return pl_rv_event_encode(wr, e->rsvp, e->name, e->target, e->p, e->len);
}

int
pl_rv_conn_send_event(pl_rv_conn *c, int rsvp, const char *name,
                      const char *target, const void *contents, size_t len,
                      uint64_t *seq)
{
    if (!target) {
        target = "*";
    }
    if (!name || !pl_rv_word_ok(name, strlen(name)) ||
        !pl_rv_word_ok(target, strlen(target)) || (!contents && len > 0)) {
        return PARLEY_EINVAL;
    }
    int rc = send_check(c);
    if (rc != PARLEY_OK) {
        return rc;
    }
    struct event_arg e = {rsvp, name, target, contents, len};
    rc = pl_rv_out_frame(c, pl_rv_event_size(name, target, len), 0, enc_event,
                         &e);
    if (rc == PARLEY_OK && rsvp) {
        if (seq) {
            *seq = c->tx_rsvp;
        }
        c->tx_rsvp++;
    }
    return rc;
}

static int
enc_return(pl_wr *wr, const void *arg)
{
    const struct text_arg *t = arg;
    return pl_rv_return_encode(wr, t->p, t->len);
}

static int
queue_return(pl_rv_conn *c, const void *value, size_t len, int control)
{
    struct text_arg t = {value, len};
    int rc = pl_rv_out_frame(c, pl_rv_head_size(7, len + 7) + len + 7, control,
                             enc_return, &t);
    if (rc == PARLEY_OK) {
        c->rx_answered++;
    }
    return rc;
}

/* Sends held answers that are now next in line. */
static void
flush_held(pl_rv_conn *c)
{
    while (c->held && c->held->seq == c->rx_answered) {
        pl_rv_held *h = c->held;
        if (queue_return(c, h->value, h->len, 1) != PARLEY_OK) {
            return;
        }
        c->held = h->next;
        pl_free(h);
    }
}

static int
hold_return(pl_rv_conn *c, uint64_t seq, const void *value, size_t len)
{
    pl_rv_held **at = &c->held;
    while (*at && (*at)->seq < seq) {
        at = &(*at)->next;
    }
    if (*at && (*at)->seq == seq) {
        return PARLEY_ENOENT;
    }
    if (len > c->pp->max_queued) {
        return PARLEY_ENOBUFS;
    }
    pl_rv_held *h = pl_malloc(sizeof *h + len);
    if (!h) {
        return PARLEY_ENOMEM;
    }
    h->seq = seq;
    h->len = len;
    if (len) {
        memcpy(h->value, value, len);
    }
    h->next = *at;
    *at = h;
    return PARLEY_OK;
}

int
pl_rv_conn_reply(pl_rv_conn *c, uint64_t seq, const void *value, size_t len)
{
    if (!value && len > 0) {
        return PARLEY_EINVAL;
    }
    if (c->state != PL_RVC_READY) {
        return send_check(c) == PARLEY_OK ? PARLEY_ENOTCONN : send_check(c);
    }
    if (seq >= c->rx_rsvp || seq < c->rx_answered) {
        return PARLEY_ENOENT;
    }
    if (seq > c->rx_answered) {
        return hold_return(c, seq, value, len);
    }
    int rc = queue_return(c, value, len, 0);
    if (rc == PARLEY_OK) {
        flush_held(c);
    }
    return rc;
}

int
pl_rv_conn_send_data(pl_rv_conn *c, const char *interp, size_t ilen,
                     const void *data, size_t len, parley_rv_release_fn release,
                     void *user)
{
    if (!interp || !pl_rv_word_ok(interp, ilen) || interp[ilen - 1] != ')' ||
        !data || len == 0) {
        return PARLEY_EINVAL;
    }
    int rc = send_check(c);
    if (rc != PARLEY_OK) {
        return rc;
    }
    size_t head = pl_rv_head_size(ilen, len);
    size_t need = head + (release ? 0 : len);
    if (len > c->pp->max_queued || c->queued + head + len > c->pp->max_queued) {
        return PARLEY_ENOBUFS;
    }
    uint8_t *p = pl_rv_out_reserve(c, need, 0, &rc);
    if (!p) {
        return rc;
    }
    pl_wr wr;
    pl_wr_init(&wr, p, need);
    pl_rv_head_encode(&wr, interp, ilen, len);
    if (!release) {
        pl_wr_bytes(&wr, data, len);
    }
    pl_rv_out_commit(c, wr.off);
    if (!release) {
        return PARLEY_OK;
    }
    rc = out_borrow(c, data, len, release, user);
    if (rc != PARLEY_OK) {
        /* Nothing was sent in between: take the header back. */
        c->out_tail->len -= wr.off;
        c->queued -= wr.off;
    }
    return rc;
}

int
pl_rv_conn_pingpong(pl_rv_conn *c, int on)
{
    int rc = send_check(c);
    if (rc != PARLEY_OK) {
        return rc;
    }
    rc = pl_rv_queue_control(c, PL_RV_CTL_PINGPONGCONTROL, on ? 1 : 0);
    if (rc == PARLEY_OK) {
        c->pp_on = on ? 1 : 0;
    }
    return rc;
}

/* ---- event records ----------------------------------------------------- */

static size_t
cstrlen(const char *s)
{
    return s ? strlen(s) : 0;
}

pl_rv_rec *
pl_rv_rec_new(pl_rv_conn *c, parley_rv_event_type type, size_t extra)
{
    size_t nl = cstrlen(c->peer_name), al = cstrlen(c->peer_app);
    size_t size = sizeof(pl_rv_rec) + nl + al + 2 + extra;
    pl_rv_rec *r = pl_malloc(size);
    if (!r) {
        return NULL;
    }
    memset(r, 0, sizeof *r);
    r->budget = c->pp->budget;
    r->charge = size;
    r->budget->used += size;
    r->ev.type = type;
    r->ev.contact = c->id;
    r->ev.addr = c->addr;
    r->ev.incoming = c->incoming;
    r->ev.internal_ = r;
    char *at = (char *)(r + 1);
    r->ev.peer_name = pl_rv_rec_put(&at, c->peer_name, nl);
    r->ev.peer_app = pl_rv_rec_put(&at, c->peer_app, al);
    return r;
}

const char *
pl_rv_rec_put(char **at, const void *p, size_t n)
{
    char *s = *at;
    if (n) {
        memcpy(s, p, n);
    }
    s[n] = '\0';
    *at = s + n + 1;
    return s;
}

char *
pl_rv_rec_store(pl_rv_rec *r)
{
    return (char *)(r + 1) + strlen(r->ev.peer_name) + 1 +
           strlen(r->ev.peer_app) + 1;
}

void
pl_rv_rec_own_payload(pl_rv_rec *r, uint8_t *payload, size_t size)
{
    r->payload = payload;
    r->charge += size;
}

void
pl_rv_rec_free(pl_rv_rec *r)
{
    if (!r) {
        return;
    }
    r->budget->used -= r->charge;
    pl_free(r->payload);
    pl_free(r);
}
