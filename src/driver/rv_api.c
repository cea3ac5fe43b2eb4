/*
 * The calls an app makes on RV contacts (include/parley/rv.h): sends and
 * broadcasts, RETURN replies, accept / reject, disconnect, queries, and
 * the blocking calls built on the endpoint's pump (rv.c).
 */
#include <string.h>

#include "driver/rv_ep.h"
#include "util/alloc.h"

/* The slot for a call, or NULL with *rc set to the error. */
static pl_rv_slot *
slot_for(parley_rv *rv, parley_rv_contact c, int *rc)
{
    if (!rv) {
        *rc = PARLEY_EINVAL;
        return NULL;
    }
    pl_rv_slot *s = pl_rv_ep_lookup(rv, c);
    *rc = s ? PARLEY_OK : PARLEY_ENOTCONN;
    return s;
}

/* After a call that may have queued bytes or changed state. */
static int
done(parley_rv *rv, pl_rv_slot *s, int rc)
{
    pl_rv_ep_kick(rv, s);
    return rc;
}

int
parley_rv_send_message(parley_rv *rv, parley_rv_contact c, const char *text,
                       size_t len)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!text || len == 0) {
        return PARLEY_EINVAL;
    }
    if (!s) {
        return rc;
    }
    return done(rv, s, pl_rv_conn_send_message(s->c, text, len));
}

int
parley_rv_send_event(parley_rv *rv, parley_rv_contact c, const char *name,
                     const char *target, const char *contents, size_t len,
                     uint32_t flags, uint64_t *seq)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!name || (!contents && len > 0) ||
        (flags & ~(uint32_t)PARLEY_RV_RSVP)) {
        return PARLEY_EINVAL;
    }
    if (!s) {
        return rc;
    }
    rc = pl_rv_conn_send_event(s->c, (flags & PARLEY_RV_RSVP) != 0, name,
                               target, contents, len, seq);
    return done(rv, s, rc);
}

int
parley_rv_reply(parley_rv *rv, parley_rv_contact c, uint64_t seq,
                const char *value, size_t len)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!value && len > 0) {
        return PARLEY_EINVAL;
    }
    if (!s) {
        return rc;
    }
    return done(rv, s, pl_rv_conn_reply(s->c, seq, value, len));
}

static int
send_data(parley_rv *rv, parley_rv_contact c, const char *interp,
          const void *data, size_t len, parley_rv_release_fn release,
          void *user)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!interp || !data || len == 0) {
        return PARLEY_EINVAL;
    }
    if (!s) {
        return rc;
    }
    rc = pl_rv_conn_send_data(s->c, interp, strlen(interp), data, len, release,
                              user);
    return done(rv, s, rc);
}

int
parley_rv_send_data(parley_rv *rv, parley_rv_contact c, const char *interp,
                    const void *data, size_t len)
{
    return send_data(rv, c, interp, data, len, NULL, NULL);
}

int
parley_rv_send_data_owned(parley_rv *rv, parley_rv_contact c,
                          const char *interp, void *data, size_t len,
                          parley_rv_release_fn release, void *user)
{
    if (!release) {
        return PARLEY_EINVAL;
    }
    return send_data(rv, c, interp, data, len, release, user);
}

static pl_rv_slice
str_slice(const char *s, const char *dflt)
{
    pl_rv_slice v;
    v.p = (const uint8_t *)(s ? s : dflt);
    v.len = strlen((const char *)v.p);
    return v;
}

static void
tile_to_wire(const parley_rv_tile *t, pl_rv_tile *w)
{
    pl_rv_tile_defaults(w);
    w->w = t->w;
    w->h = t->h;
    w->x = t->x;
    w->y = t->y;
    w->f = t->f;
    w->event = str_slice(t->event, "pixel-block");
    w->media = str_slice(t->media, "");
    w->layer = str_slice(t->layer, "-");
    w->view = str_slice(t->view, "-");
}

/* Writes a NUL-terminated interp; returns its length or an error. */
static int
finish_text(pl_wr *wr, int rc)
{
    if (rc != PARLEY_OK) {
        return rc;
    }
    pl_wr_u8(wr, '\0');
    if (wr->err) {
        return PARLEY_ENOBUFS;
    }
    return (int)wr->off - 1;
}

int
parley_rv_format_pixeltile(const parley_rv_tile *tile, char *buf, size_t cap)
{
    if (!tile || !buf) {
        return PARLEY_EINVAL;
    }
    pl_rv_tile t;
    pl_wr wr;
    tile_to_wire(tile, &t);
    pl_wr_init(&wr, buf, cap > 0x7fffffff ? 0x7fffffff : cap);
    return finish_text(&wr, pl_rv_tile_encode(&wr, &t));
}

int
parley_rv_format_dataevent(const char *event, const char *target,
                           const char *content_type, char *buf, size_t cap)
{
    if (!buf) {
        return PARLEY_EINVAL;
    }
    pl_wr wr;
    pl_wr_init(&wr, buf, cap > 0x7fffffff ? 0x7fffffff : cap);
    int rc =
        pl_rv_dataevent_encode(&wr, event, target ? target : "*", content_type);
    return finish_text(&wr, rc);
}

static int
tile_size_ok(parley_rv *rv, const parley_rv_tile *t, size_t len)
{
    const char *media = t->media ? t->media : "";
    int ch, bpc;
    if (!rv->pp.format(rv, (const uint8_t *)media, strlen(media), &ch, &bpc)) {
        return 1;
    }
    return (uint64_t)t->w * (uint64_t)t->h * (uint64_t)ch * (uint64_t)bpc ==
           len;
}

int
parley_rv_send_pixels(parley_rv *rv, parley_rv_contact c,
                      const parley_rv_tile *tile, const void *data, size_t len)
{
    char interp[1024];
    if (!rv || !tile) {
        return PARLEY_EINVAL;
    }
    int n = parley_rv_format_pixeltile(tile, interp, sizeof interp);
    if (n < 0) {
        return n == PARLEY_ENOBUFS ? PARLEY_EINVAL : n;
    }
    if (tile->w < 0 || tile->h < 0 || !tile_size_ok(rv, tile, len)) {
        return PARLEY_EMSGSIZE;
    }
    return send_data(rv, c, interp, data, len, NULL, NULL);
}

int
parley_rv_send_dataevent(parley_rv *rv, parley_rv_contact c, const char *event,
                         const char *target, const char *content_type,
                         const void *data, size_t len)
{
    char interp[1024];
    if (!rv) {
        return PARLEY_EINVAL;
    }
    int n = parley_rv_format_dataevent(event, target, content_type, interp,
                                       sizeof interp);
    if (n < 0) {
        return n == PARLEY_ENOBUFS ? PARLEY_EINVAL : n;
    }
    return send_data(rv, c, interp, data, len, NULL, NULL);
}

int
parley_rv_set_media_format(parley_rv *rv, const char *media, int channels,
                           int bytes_per_channel)
{
    if (!rv || !media || channels < 0 || channels > 4 ||
        (channels > 0 && bytes_per_channel != 1 && bytes_per_channel != 2 &&
         bytes_per_channel != 4)) {
        return PARLEY_EINVAL;
    }
    size_t len = strlen(media);
    for (pl_rv_fmt **at = &rv->fmts; *at; at = &(*at)->next) {
        if ((*at)->len == len && memcmp((*at)->media, media, len) == 0) {
            pl_rv_fmt *f = *at;
            *at = f->next;
            pl_free(f);
            break;
        }
    }
    if (channels == 0) {
        return PARLEY_OK;
    }
    pl_rv_fmt *f = pl_malloc(sizeof *f + len + 1);
    if (!f) {
        return PARLEY_ENOMEM;
    }
    f->channels = channels;
    f->bpc = bytes_per_channel;
    f->len = len;
    memcpy(f->media, media, len + 1);
    f->next = rv->fmts;
    rv->fmts = f;
    return PARLEY_OK;
}

/* Runs fn on every READY contact; the first error wins. */
static int
each_ready(parley_rv *rv, int (*fn)(pl_rv_conn *c, const void *arg),
           const void *arg)
{
    int first = PARLEY_OK;
    for (uint32_t i = 0; i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (!s->c || s->c->state != PL_RVC_READY) {
            continue;
        }
        int rc = fn(s->c, arg);
        if (rc != PARLEY_OK && first == PARLEY_OK) {
            first = rc;
        }
        pl_rv_ep_kick(rv, s);
    }
    return first;
}

struct bcast {
    const char *name, *target, *p;
    size_t len;
    int rsvp;
};

static int
bcast_message(pl_rv_conn *c, const void *arg)
{
    const struct bcast *b = arg;
    return pl_rv_conn_send_message(c, b->p, b->len);
}

static int
bcast_event(pl_rv_conn *c, const void *arg)
{
    const struct bcast *b = arg;
    return pl_rv_conn_send_event(c, b->rsvp, b->name, b->target, b->p, b->len,
                                 NULL);
}

int
parley_rv_broadcast_message(parley_rv *rv, const char *text, size_t len)
{
    if (!rv || !text || len == 0) {
        return PARLEY_EINVAL;
    }
    struct bcast b = {NULL, NULL, text, len, 0};
    return each_ready(rv, bcast_message, &b);
}

int
parley_rv_broadcast_event(parley_rv *rv, const char *name, const char *target,
                          const char *contents, size_t len, uint32_t flags)
{
    const char *t = target ? target : "*";
    if (!rv || !name || !pl_rv_word_ok(name, strlen(name)) ||
        !pl_rv_word_ok(t, strlen(t)) || (!contents && len > 0) ||
        (flags & ~(uint32_t)PARLEY_RV_RSVP)) {
        return PARLEY_EINVAL;
    }
    struct bcast b = {name, t, contents, len, (flags & PARLEY_RV_RSVP) != 0};
    return each_ready(rv, bcast_event, &b);
}

int
parley_rv_pingpong(parley_rv *rv, parley_rv_contact c, int on)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!s) {
        return rc;
    }
    return done(rv, s, pl_rv_conn_pingpong(s->c, on));
}

int
parley_rv_accept(parley_rv *rv, parley_rv_contact c)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!s) {
        return rc;
    }
    return done(rv, s, pl_rv_conn_accept(s->c, pl_os_now_us()));
}

int
parley_rv_reject(parley_rv *rv, parley_rv_contact c)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!s) {
        return rc;
    }
    return done(rv, s, pl_rv_conn_reject(s->c));
}

int
parley_rv_disconnect(parley_rv *rv, parley_rv_contact c)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!s) {
        return rc;
    }
    if (s->c->state == PL_RVC_CLOSING) {
        return PARLEY_ENOTCONN;
    }
    pl_rv_conn_disconnect(s->c, pl_os_now_us());
    return done(rv, s, PARLEY_OK);
}

/* ---- queries ----------------------------------------------------------- */

int
parley_rv_contact_get_info(parley_rv *rv, parley_rv_contact c,
                           parley_rv_contact_info *out)
{
    int rc;
    pl_rv_slot *s = slot_for(rv, c, &rc);
    if (!out) {
        return PARLEY_EINVAL;
    }
    if (!s) {
        return rc;
    }
    const pl_rv_conn *k = s->c;
    memset(out, 0, sizeof *out);
    out->state = pl_rv_conn_public_state(k);
    out->incoming = k->incoming;
    out->addr = k->addr;
    out->name = k->peer_name ? k->peer_name : "";
    out->app = k->peer_app ? k->peer_app : "";
    out->pingpong = k->pp_on;
    out->queued = k->queued;
    out->returns_owed = k->rx_rsvp - k->rx_answered;
    out->returns_due = k->tx_rsvp - k->tx_returned;
    return PARLEY_OK;
}

parley_rv_state
parley_rv_contact_state(parley_rv *rv, parley_rv_contact c)
{
    pl_rv_slot *s = pl_rv_ep_lookup(rv, c);
    return s ? pl_rv_conn_public_state(s->c) : PARLEY_RV_GONE;
}

int
parley_rv_find_contact(parley_rv *rv, const char *name, parley_rv_contact *out)
{
    if (!rv || !name || !out) {
        return PARLEY_EINVAL;
    }
    const char *at = strchr(name, '@');
    size_t n = at ? (size_t)(at - name) : strlen(name);
    for (uint32_t i = 0; i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (s->c && s->c->state == PL_RVC_READY && s->c->peer_name &&
            strlen(s->c->peer_name) == n &&
            memcmp(s->c->peer_name, name, n) == 0) {
            *out = pl_rv_ep_id(rv, s);
            return PARLEY_OK;
        }
    }
    return PARLEY_ENOENT;
}

static int
same_host(const parley_addr *a, const parley_addr *b)
{
    size_t n = a->family == PARLEY_AF_INET ? 4 : 16;
    return a->family == b->family && memcmp(a->ip, b->ip, n) == 0 &&
           (b->port == 0 || a->port == b->port);
}

int
parley_rv_has_connection(parley_rv *rv, const parley_addr *addr)
{
    if (!rv || !addr) {
        return 0;
    }
    for (uint32_t i = 0; i < rv->nslots; i++) {
        pl_rv_slot *s = &rv->slots[i];
        if (s->c && s->c->state != PL_RVC_DEAD &&
            same_host(&s->c->addr, addr)) {
            return 1;
        }
    }
    return 0;
}

size_t
parley_rv_contacts(parley_rv *rv, parley_rv_contact *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; rv && i < rv->nslots; i++) {
        if (rv->slots[i].c) {
            if (out && n < cap) {
                out[n] = pl_rv_ep_id(rv, &rv->slots[i]);
            }
            n++;
        }
    }
    return n;
}

/* ---- blocking calls ---------------------------------------------------- */

static void
waiter_add(parley_rv *rv, pl_rv_waiter *w, parley_rv_contact c, uint64_t seq)
{
    memset(w, 0, sizeof *w);
    w->contact = c;
    w->seq = seq;
    w->next = rv->waiters;
    rv->waiters = w;
}

static void
waiter_remove(parley_rv *rv, pl_rv_waiter *w)
{
    for (pl_rv_waiter **at = &rv->waiters; *at; at = &(*at)->next) {
        if (*at == w) {
            *at = w->next;
            return;
        }
    }
}

static int
until_return(parley_rv *rv, void *arg)
{
    pl_rv_waiter *w = arg;
    if (w->got) {
        return PARLEY_OK;
    }
    /* A contact that left (even if its socket still lingers) will not
       answer any more. */
    pl_rv_slot *s = pl_rv_ep_lookup(rv, w->contact);
    if (w->gone || !s || s->c->state == PL_RVC_CLOSING ||
        s->c->state == PL_RVC_DEAD) {
        return PARLEY_ENOTCONN;
    }
    return 1;
}

int
parley_rv_call(parley_rv *rv, parley_rv_contact c, const char *name,
               const char *target, const char *contents, size_t len,
               int timeout_ms, parley_rv_event *ret)
{
    if (!rv || !ret) {
        return PARLEY_EINVAL;
    }
    uint64_t deadline = pl_rv_ep_deadline(timeout_ms);
    uint64_t seq = 0;
    int rc = parley_rv_send_event(rv, c, name, target, contents, len,
                                  PARLEY_RV_RSVP, &seq);
    if (rc != PARLEY_OK) {
        return rc;
    }
    pl_rv_waiter w;
    waiter_add(rv, &w, c, seq);
    if (!pl_rv_ep_lookup(rv, c)) {
        w.gone = 1; /* failed while writing */
    }
    rc = pl_rv_ep_pump(rv, deadline, until_return, &w);
    waiter_remove(rv, &w);
    if (w.got) {
        *ret = w.got->ev;
        return PARLEY_OK;
    }
    return rc;
}

static int
until_event(parley_rv *rv, void *arg)
{
    (void)rv;
    pl_rv_waiter *w = arg;
    if (w->hits > 0) {
        return PARLEY_OK;
    }
    return w->gone ? PARLEY_ENOTCONN : 1;
}

int
parley_rv_wait_message(parley_rv *rv, parley_rv_contact c, int timeout_ms)
{
    if (!rv) {
        return PARLEY_EINVAL;
    }
    if (!pl_rv_ep_lookup(rv, c)) {
        return PARLEY_ENOTCONN;
    }
    pl_rv_waiter w;
    waiter_add(rv, &w, c, PARLEY_RV_SEQ_NONE);
    int rc = pl_rv_ep_pump(rv, pl_rv_ep_deadline(timeout_ms), until_event, &w);
    waiter_remove(rv, &w);
    return rc;
}

static int
until_sent(parley_rv *rv, void *arg)
{
    pl_rv_waiter *w = arg;
    if (w->contact == PARLEY_RV_CONTACT_NONE) {
        for (uint32_t i = 0; i < rv->nslots; i++) {
            pl_rv_slot *s = &rv->slots[i];
            if (s->c && s->c->queued > 0 && s->c->state != PL_RVC_DEAD) {
                return 1;
            }
        }
        return PARLEY_OK;
    }
    if (w->gone) {
        return w->gone_unsent ? PARLEY_ENOTCONN : PARLEY_OK;
    }
    pl_rv_slot *s = pl_rv_ep_lookup(rv, w->contact);
    return s && s->c->queued > 0 ? 1 : PARLEY_OK;
}

int
parley_rv_wait_sent(parley_rv *rv, parley_rv_contact c, int timeout_ms)
{
    if (!rv) {
        return PARLEY_EINVAL;
    }
    if (c != PARLEY_RV_CONTACT_NONE && !pl_rv_ep_lookup(rv, c)) {
        return PARLEY_ENOTCONN;
    }
    pl_rv_waiter w;
    waiter_add(rv, &w, c, PARLEY_RV_SEQ_NONE);
    int rc = pl_rv_ep_pump(rv, pl_rv_ep_deadline(timeout_ms), until_sent, &w);
    waiter_remove(rv, &w);
    return rc;
}

int
parley_rv_sign_off(parley_rv *rv, parley_rv_contact c, int timeout_ms)
{
    if (!rv) {
        return PARLEY_EINVAL;
    }
    pl_rv_waiter w;
    waiter_add(rv, &w, c, PARLEY_RV_SEQ_NONE);
    int rc = parley_rv_disconnect(rv, c);
    if (rc == PARLEY_OK) {
        rc = pl_rv_ep_pump(rv, pl_rv_ep_deadline(timeout_ms), until_sent, &w);
    }
    waiter_remove(rv, &w);
    return rc;
}
