/*
 * The incoming half and the life cycle of an RV connection (rv_conn.h):
 * frame reassembly with a fixed header buffer plus one exact-size buffer
 * per large frame (filled straight from the socket and handed to the app
 * in place), greetings, one handler per frame type, timers and closing.
 */
#include <string.h>

#include "driver/rv_int.h"
#include "util/alloc.h"

/* The header buffer: frames that fit are handled in place. */
#define IN_MIN 65536

static void emit_error(pl_rv_conn *c, int err, const char *why, int closing);
static void process(pl_rv_conn *c, uint64_t now);
static void accept_now(pl_rv_conn *c, uint64_t now);

static int
alloc_in(pl_rv_conn *c)
{
    c->in_cap = c->pp->lim.max_head > IN_MIN ? c->pp->lim.max_head : IN_MIN;
    c->in = pl_malloc(c->in_cap);
    return c->in ? PARLEY_OK : PARLEY_ENOMEM;
}

int
pl_rv_conn_new(const pl_rv_params *pp, uint64_t id, const parley_addr *addr,
               int incoming, uint64_t now, pl_rv_conn **out)
{
    pl_rv_conn *c = pl_calloc(1, sizeof *c);
    if (!c) {
        return PARLEY_ENOMEM;
    }
    c->pp = pp;
    c->id = id;
    if (addr) {
        c->addr = *addr;
    }
    c->incoming = incoming ? 1 : 0;
    c->state = incoming ? PL_RVC_WAIT_GREETING : PL_RVC_CONNECTING;
    c->created_us = c->last_rx_us = now;
    int rc = alloc_in(c);
    if (rc == PARLEY_OK && !incoming) {
        rc = pl_rv_queue_control(c, PL_RV_CTL_GREETING, 0);
    }
    if (rc != PARLEY_OK) {
        pl_rv_conn_free(c);
        return rc;
    }
    *out = c;
    return PARLEY_OK;
}

/* Frees the large-frame buffer, if any, and its budget charge. */
static void
drop_payload(pl_rv_conn *c)
{
    if (c->payload) {
        c->pp->budget->used -= (size_t)c->cur.len + 1;
        pl_free(c->payload);
        c->payload = NULL;
    }
    pl_free(c->cur_word);
    c->cur_word = NULL;
    c->got = 0;
}

void
pl_rv_conn_free(pl_rv_conn *c)
{
    if (!c) {
        return;
    }
    pl_rv_out_clear(c);
    drop_payload(c);
    pl_free(c->in);
    pl_free(c->peer_name);
    pl_free(c->peer_app);
    pl_free(c);
}

void
pl_rv_conn_connected(pl_rv_conn *c, uint64_t now)
{
    (void)now;
    if (c->state == PL_RVC_CONNECTING) {
        c->state = PL_RVC_WAIT_REPLY;
    }
}

parley_rv_state
pl_rv_conn_public_state(const pl_rv_conn *c)
{
    switch (c->state) {
    case PL_RVC_CONNECTING:
    case PL_RVC_WAIT_REPLY:
        return PARLEY_RV_CONNECTING;
    case PL_RVC_WAIT_GREETING:
        return PARLEY_RV_GREETING;
    case PL_RVC_REQUESTED:
        return PARLEY_RV_REQUESTED;
    case PL_RVC_READY:
        return PARLEY_RV_READY;
    default:
        return PARLEY_RV_CLOSING;
    }
}

/* ---- events ------------------------------------------------------------ */

static void
emit(pl_rv_conn *c, pl_rv_rec *r)
{
    if (r) {
        c->pp->emit(c->pp->emit_user, r);
    }
}

static void
emit_simple(pl_rv_conn *c, parley_rv_event_type type, int err, const char *why,
            parley_rv_reason reason)
{
    size_t wl = why ? strlen(why) : 0;
    pl_rv_rec *r = pl_rv_rec_new(c, type, wl + 1);
    if (!r) {
        return;
    }
    char *at = pl_rv_rec_store(r);
    r->ev.error = err;
    r->ev.reason = reason;
    r->ev.error_text = why ? pl_rv_rec_put(&at, why, wl) : NULL;
    emit(c, r);
}

static void
emit_error(pl_rv_conn *c, int err, const char *why, int closing)
{
    size_t wl = why ? strlen(why) : 0;
    pl_rv_rec *r = pl_rv_rec_new(c, PARLEY_RV_EV_ERROR, wl + 1);
    if (!r) {
        return;
    }
    char *at = pl_rv_rec_store(r);
    r->ev.error = err;
    r->ev.closing = closing;
    r->ev.error_text = pl_rv_rec_put(&at, why ? why : "", wl);
    emit(c, r);
}

/* ---- closing ----------------------------------------------------------- */

static void
enter_closing(pl_rv_conn *c, uint64_t now)
{
    c->state = PL_RVC_CLOSING;
    c->closing_deadline_us = now + c->pp->linger_us;
    drop_payload(c);
    c->in_len = 0;
    c->blocked = 0;
    c->frame_start_us = 0;
    if (c->eof && c->queued == 0) {
        c->state = PL_RVC_DEAD;
    }
}

static void
go_dead(pl_rv_conn *c)
{
    c->state = PL_RVC_DEAD;
    drop_payload(c);
    c->in_len = 0;
}

/*
 * Something went wrong: tell the app in the form that fits the state and
 * close. A usable contact gets DISCONNECT (so RV shows no error box) and a
 * graceful close; anything earlier is simply closed, as RV does.
 */
static void
conn_fail(pl_rv_conn *c, int err, const char *why, parley_rv_reason reason,
          uint64_t now)
{
    switch (c->state) {
    case PL_RVC_CONNECTING:
    case PL_RVC_WAIT_REPLY:
        emit_simple(c, PARLEY_RV_EV_CONNECT_FAILED, err, why, 0);
        go_dead(c);
        break;
    case PL_RVC_WAIT_GREETING:
    case PL_RVC_REQUESTED:
        emit_error(c, err, why, 1);
        go_dead(c);
        break;
    case PL_RVC_READY:
        emit_error(c, err, why, 1);
        emit_simple(c, PARLEY_RV_EV_CONTACT_LEFT, err, why, reason);
        pl_rv_queue_control(c, PL_RV_CTL_DISCONNECT, 0);
        enter_closing(c, now);
        break;
    default:
        break;
    }
}

static void
protocol_fail(pl_rv_conn *c, int err, const char *why, uint64_t now)
{
    conn_fail(c, err, why, PARLEY_RV_LEFT_ERROR, now);
}

void
pl_rv_conn_disconnect(pl_rv_conn *c, uint64_t now)
{
    if (c->state == PL_RVC_READY) {
        pl_rv_queue_control(c, PL_RV_CTL_DISCONNECT, 0);
        emit_simple(c, PARLEY_RV_EV_CONTACT_LEFT, PARLEY_OK, NULL,
                    PARLEY_RV_LEFT_LOCAL);
        enter_closing(c, now);
    } else if (c->state != PL_RVC_CLOSING) {
        go_dead(c);
    }
}

void
pl_rv_conn_on_eof(pl_rv_conn *c, uint64_t now)
{
    (void)now;
    c->eof = 1;
    switch (c->state) {
    case PL_RVC_CONNECTING:
    case PL_RVC_WAIT_REPLY:
        emit_simple(c, PARLEY_RV_EV_CONNECT_FAILED, PARLEY_EREJECTED,
                    "closed by the peer before its greeting (refused)", 0);
        break;
    case PL_RVC_REQUESTED:
        emit_error(c, PARLEY_ECLOSED, "closed while waiting for accept", 1);
        break;
    case PL_RVC_READY:
        emit_simple(c, PARLEY_RV_EV_CONTACT_LEFT, PARLEY_ECLOSED,
                    "closed without DISCONNECT", PARLEY_RV_LEFT_CLOSED);
        break;
    case PL_RVC_CLOSING:
        if (c->queued > 0) {
            return; /* still delivering; linger decides */
        }
        break;
    default:
        break;
    }
    go_dead(c);
}

void
pl_rv_conn_on_error(pl_rv_conn *c, int err, uint64_t now)
{
    (void)now;
    switch (c->state) {
    case PL_RVC_CONNECTING:
    case PL_RVC_WAIT_REPLY:
        emit_simple(c, PARLEY_RV_EV_CONNECT_FAILED, err, parley_strerror(err),
                    0);
        break;
    case PL_RVC_REQUESTED:
        emit_error(c, err, parley_strerror(err), 1);
        break;
    case PL_RVC_READY:
        emit_error(c, err, parley_strerror(err), 1);
        emit_simple(c, PARLEY_RV_EV_CONTACT_LEFT, err, parley_strerror(err),
                    PARLEY_RV_LEFT_ERROR);
        break;
    default:
        break;
    }
    go_dead(c);
}

/* ---- greetings --------------------------------------------------------- */

static char *
dup_slice(pl_rv_slice s)
{
    char *p = pl_malloc(s.len + 1);
    if (p) {
        if (s.len) {
            memcpy(p, s.p, s.len);
        }
        p[s.len] = '\0';
    }
    return p;
}

static void
become_ready(pl_rv_conn *c, uint64_t now)
{
    if (!c->pp->pingpong) {
        pl_rv_queue_control(c, PL_RV_CTL_PINGPONGCONTROL, 0);
    }
    c->state = PL_RVC_READY;
    c->had_contact = 1;
    c->pp_on = c->pp->pingpong ? 1 : 0;
    c->last_rx_us = c->last_ping_us = now;
    emit_simple(c, PARLEY_RV_EV_CONTACT, PARLEY_OK, NULL, 0);
}

/* Our greeting goes out and the contact is usable. */
static int
do_accept(pl_rv_conn *c, uint64_t now)
{
    int rc = pl_rv_queue_control(c, PL_RV_CTL_GREETING, 0);
    if (rc == PARLEY_OK) {
        become_ready(c, now);
    }
    return rc;
}

int
pl_rv_conn_accept(pl_rv_conn *c, uint64_t now)
{
    if (c->state != PL_RVC_REQUESTED) {
        return PARLEY_ESTATE;
    }
    int rc = do_accept(c, now);
    if (rc == PARLEY_OK) {
        process(c, now); /* what the peer pipelined behind its greeting */
    }
    return rc;
}

int
pl_rv_conn_reject(pl_rv_conn *c)
{
    if (c->state != PL_RVC_REQUESTED) {
        return PARLEY_ESTATE;
    }
    go_dead(c);
    return PARLEY_OK;
}

static void
on_greeting(pl_rv_conn *c, const pl_rv_head *h, const uint8_t *p, uint64_t now)
{
    if (c->state == PL_RVC_READY) {
        return; /* a second greeting: RV ignores it too */
    }
    pl_rv_slice name, app;
    pl_rv_greeting_parse(h->kind, p, (size_t)h->len, &name, &app);
    c->peer_name = dup_slice(name);
    c->peer_app = dup_slice(app);
    if (!c->peer_name || !c->peer_app) {
        protocol_fail(c, PARLEY_ENOMEM, "out of memory", now);
        return;
    }
    if (c->state == PL_RVC_WAIT_REPLY) {
        become_ready(c, now);
    } else if (c->pp->manual_accept) {
        c->state = PL_RVC_REQUESTED;
        emit_simple(c, PARLEY_RV_EV_REQUEST, PARLEY_OK, NULL, 0);
    } else {
        accept_now(c, now);
    }
}

static void
accept_now(pl_rv_conn *c, uint64_t now)
{
    if (do_accept(c, now) != PARLEY_OK) {
        emit_error(c, PARLEY_ENOMEM, "out of memory", 1);
        go_dead(c);
    }
}

static void
free_owned(pl_rv_conn *c, uint8_t *owned, uint64_t len)
{
    if (owned) {
        c->pp->budget->used -= (size_t)len + 1;
        pl_free(owned);
    }
}

/* ---- text frames ------------------------------------------------------- */

static const parley_rv_event_type g_msg_types[] = {
    [PL_RV_MSG_OTHER] = PARLEY_RV_EV_MESSAGE,
    [PL_RV_MSG_EVENT] = PARLEY_RV_EV_EVENT,
    [PL_RV_MSG_RETURNEVENT] = PARLEY_RV_EV_RETURNEVENT,
    [PL_RV_MSG_RETURN] = PARLEY_RV_EV_RETURN,
    [PL_RV_MSG_DISCONNECT] = PARLEY_RV_EV_DISCONNECT,
};

/*
 * The record for a MESSAGE: text is the frame's own buffer when it has
 * one (owned), a copy otherwise; contents is a suffix of text, so it is
 * NUL-terminated either way; name and target are copied.
 */
static pl_rv_rec *
message_rec(pl_rv_conn *c, const pl_rv_msg *m, const uint8_t *p, size_t len,
            uint8_t *owned)
{
    size_t extra = m->name.len + 1 + m->target.len + 1 + (owned ? 0 : len + 1);
    pl_rv_rec *r = pl_rv_rec_new(c, g_msg_types[m->type], extra);
    if (!r) {
        return NULL;
    }
    char *at = pl_rv_rec_store(r);
    const char *base;
    if (owned) {
        pl_rv_rec_own_payload(r, owned, len + 1);
        base = (const char *)owned;
    } else {
        base = pl_rv_rec_put(&at, p, len);
    }
    r->ev.text = base;
    r->ev.text_len = len;
    r->ev.contents = base + (m->contents.p - p);
    r->ev.contents_len = m->contents.len;
    if (m->type == PL_RV_MSG_EVENT || m->type == PL_RV_MSG_RETURNEVENT) {
        r->ev.name = pl_rv_rec_put(&at, m->name.p, m->name.len);
        r->ev.name_len = m->name.len;
        r->ev.target = pl_rv_rec_put(&at, m->target.p, m->target.len);
        r->ev.target_len = m->target.len;
    }
    return r;
}

static void
on_message(pl_rv_conn *c, const uint8_t *p, size_t len, uint8_t *owned,
           uint64_t now)
{
    pl_rv_msg m;
    pl_rv_msg_parse(p, len, &m);
    pl_rv_rec *r = message_rec(c, &m, p, len, owned);
    if (!r) {
        free_owned(c, owned, len);
        protocol_fail(c, PARLEY_ENOMEM, "out of memory", now);
        return;
    }
    if (m.type == PL_RV_MSG_RETURNEVENT) {
        r->ev.seq = c->rx_rsvp++;
    } else if (m.type == PL_RV_MSG_RETURN) {
        r->ev.seq =
            c->tx_returned < c->tx_rsvp ? c->tx_returned++ : PARLEY_RV_SEQ_NONE;
    }
    emit(c, r);
    if (m.type == PL_RV_MSG_DISCONNECT) {
        /* Graceful, and nothing goes back: not even our DISCONNECT. */
        emit_simple(c, PARLEY_RV_EV_CONTACT_LEFT, PARLEY_OK, NULL,
                    PARLEY_RV_LEFT_DISCONNECT);
        enter_closing(c, now);
    }
}

/* RV reads PINGPONGCONTROL's payload with QByteArray::toInt. */
static int
payload_int_nonzero(const uint8_t *p, size_t len)
{
    size_t i = 0;
    int any = 0;
    if (i < len && (p[i] == '+' || p[i] == '-')) {
        i++;
    }
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
        any |= p[i] != '0';
    }
    return any;
}

/* ---- data frames ------------------------------------------------------- */

static size_t
tile_extra(const pl_rv_tile *t)
{
    return t->event.len + t->media.len + t->layer.len + t->view.len + 4;
}

static void
fill_tile(pl_rv_rec *r, char **at, const pl_rv_tile *t)
{
    r->ev.tile.w = t->w;
    r->ev.tile.h = t->h;
    r->ev.tile.x = t->x;
    r->ev.tile.y = t->y;
    r->ev.tile.f = t->f;
    r->ev.tile.event = pl_rv_rec_put(at, t->event.p, t->event.len);
    r->ev.tile.media = pl_rv_rec_put(at, t->media.p, t->media.len);
    r->ev.tile.layer = pl_rv_rec_put(at, t->layer.p, t->layer.len);
    r->ev.tile.view = pl_rv_rec_put(at, t->view.p, t->view.len);
    r->ev.name = r->ev.tile.event;
    r->ev.name_len = t->event.len;
}

static void
fill_dataevent(pl_rv_rec *r, char **at, const pl_rv_dataevent *d)
{
    r->ev.name = pl_rv_rec_put(at, d->event.p, d->event.len);
    r->ev.name_len = d->event.len;
    r->ev.target = pl_rv_rec_put(at, d->target.p, d->target.len);
    r->ev.target_len = d->target.len;
    r->ev.content_type =
        pl_rv_rec_put(at, d->content_type.p, d->content_type.len);
    r->ev.content_type_len = d->content_type.len;
}

/* Nonzero (with an ERROR event) when a tile of a known format has the
   wrong size: RV drops such a tile and keeps the connection. */
static int
tile_size_wrong(pl_rv_conn *c, const pl_rv_tile *t, uint64_t len)
{
    int ch = 0, bpc = 0;
    if (!c->pp->format || !c->pp->format(c->pp->format_user, t->media.p,
                                         t->media.len, &ch, &bpc)) {
        return 0;
    }
    uint64_t want =
        (uint64_t)t->w * (uint64_t)t->h * (uint64_t)ch * (uint64_t)bpc;
    if (want == len) {
        return 0;
    }
    emit_error(c, PARLEY_EMSGSIZE,
               "PIXELTILE size is not w*h*channels*bytes for its media; "
               "tile dropped",
               0);
    return 1;
}

typedef struct data_hdr {
    pl_rv_data_kind kind;
    pl_rv_tile tile;
    pl_rv_dataevent de;
} data_hdr;

static int
parse_data_hdr(pl_rv_conn *c, const pl_rv_head *h, data_hdr *d, uint64_t now)
{
    d->kind = pl_rv_data_kind_of(h->word, h->word_len);
    if (d->kind == PL_RV_DATA_PIXELTILE &&
        pl_rv_tile_parse(h->word, h->word_len, &d->tile) != PARLEY_OK) {
        protocol_fail(c, PARLEY_EPROTO,
                      "malformed PIXELTILE header (negative size or a "
                      "number out of range)",
                      now);
        return 0;
    }
    if (d->kind == PL_RV_DATA_DATAEVENT &&
        pl_rv_dataevent_parse(h->word, h->word_len, &d->de) != PARLEY_OK) {
        protocol_fail(c, PARLEY_EPROTO,
                      "DATAEVENT header with fewer than three fields", now);
        return 0;
    }
    return 1;
}

static pl_rv_rec *
data_rec(pl_rv_conn *c, const pl_rv_head *h, const data_hdr *d,
         const uint8_t *p, uint8_t *owned)
{
    static const parley_rv_event_type types[] = {
        PARLEY_RV_EV_DATA, PARLEY_RV_EV_PIXELTILE, PARLEY_RV_EV_DATAEVENT};
    size_t len = (size_t)h->len;
    size_t extra = h->word_len + 1 + (owned ? 0 : len);
    extra += d->kind == PL_RV_DATA_PIXELTILE ? tile_extra(&d->tile) : 0;
    extra +=
        d->kind == PL_RV_DATA_DATAEVENT
            ? d->de.event.len + d->de.target.len + d->de.content_type.len + 3
            : 0;
    pl_rv_rec *r = pl_rv_rec_new(c, types[d->kind], extra);
    if (!r) {
        return NULL;
    }
    char *at = pl_rv_rec_store(r);
    r->ev.interp = pl_rv_rec_put(&at, h->word, h->word_len);
    r->ev.interp_len = h->word_len;
    if (owned) {
        pl_rv_rec_own_payload(r, owned, len + 1);
        r->ev.data = owned;
    } else {
        memcpy(at, p, len);
        r->ev.data = (const uint8_t *)at;
        at += len;
    }
    r->ev.data_len = len;
    if (d->kind == PL_RV_DATA_PIXELTILE) {
        fill_tile(r, &at, &d->tile);
    } else if (d->kind == PL_RV_DATA_DATAEVENT) {
        fill_dataevent(r, &at, &d->de);
    }
    return r;
}

static void
on_data(pl_rv_conn *c, const pl_rv_head *h, const uint8_t *p, uint8_t *owned,
        uint64_t now)
{
    data_hdr d;
    if (!parse_data_hdr(c, h, &d, now) ||
        (d.kind == PL_RV_DATA_PIXELTILE &&
         tile_size_wrong(c, &d.tile, h->len))) {
        free_owned(c, owned, h->len);
        return;
    }
    pl_rv_rec *r = data_rec(c, h, &d, p, owned);
    if (!r) {
        free_owned(c, owned, h->len);
        protocol_fail(c, PARLEY_ENOMEM, "out of memory", now);
        return;
    }
    emit(c, r);
}

/* ---- frame dispatch ---------------------------------------------------- */

/* One handler per frame type. owned: the frame's own payload buffer
   (len + 1 bytes, charged to the budget), whose ownership moves here. */
static void
handle_frame(pl_rv_conn *c, const pl_rv_head *h, const uint8_t *p,
             uint8_t *owned, uint64_t now)
{
    switch (h->kind) {
    case PL_RV_GREETING:
    case PL_RV_NEWGREETING:
        on_greeting(c, h, p, now);
        break;
    case PL_RV_MESSAGE:
        on_message(c, p, (size_t)h->len, owned, now);
        return;
    case PL_RV_PING:
        if (pl_rv_queue_control(c, PL_RV_CTL_PONG, 0) != PARLEY_OK) {
            protocol_fail(c, PARLEY_ENOBUFS,
                          "the peer sends PINGs but does not read", now);
        }
        break;
    case PL_RV_PINGPONGCONTROL:
        c->pp_on = payload_int_nonzero(p, (size_t)h->len);
        break;
    case PL_RV_DATA:
        on_data(c, h, p, owned, now);
        return;
    default: /* PONG: a sign of life, nothing more */
        break;
    }
    free_owned(c, owned, h->len);
}

static int
kind_allowed(const pl_rv_conn *c, pl_rv_kind kind)
{
    if (c->state == PL_RVC_READY) {
        return 1;
    }
    return kind == PL_RV_GREETING || kind == PL_RV_NEWGREETING;
}

static int
parsing(const pl_rv_conn *c)
{
    return (c->state == PL_RVC_WAIT_REPLY || c->state == PL_RVC_WAIT_GREETING ||
            c->state == PL_RVC_READY) &&
           !c->payload && !c->blocked;
}

/* Starts a frame too large for the header buffer: its own buffer, filled
   with what is here already; returns 0 when memory is short. */
static int
start_big(pl_rv_conn *c, const pl_rv_head *h, size_t at, uint64_t now)
{
    pl_rv_budget *b = c->pp->budget;
    size_t size = (size_t)h->len + 1;
    if (b->used > 0 && (size > b->limit || b->used > b->limit - size)) {
        c->blocked = 1;
        c->blocked_need = size;
        return 0;
    }
    c->payload = pl_malloc(size);
    c->cur_word = pl_malloc(h->word_len);
    if (!c->payload || !c->cur_word) {
        pl_free(c->payload);
        pl_free(c->cur_word);
        c->payload = c->cur_word = NULL;
        protocol_fail(c, PARLEY_ENOMEM, "out of memory for a frame", now);
        return 0;
    }
    b->used += size;
    c->blocked = 0;
    c->cur = *h;
    memcpy(c->cur_word, h->word, h->word_len);
    c->cur.word = c->cur_word;
    size_t have = c->in_len - at - h->head_len;
    memcpy(c->payload, c->in + at + h->head_len, have);
    c->got = have;
    return 1;
}

static void
finish_big(pl_rv_conn *c, uint64_t now)
{
    uint8_t *p = c->payload;
    pl_rv_head h = c->cur;
    uint8_t *word = c->cur_word;
    p[h.len] = '\0';
    c->payload = NULL;
    c->cur_word = NULL;
    c->got = 0;
    c->frame_start_us = 0;
    handle_frame(c, &h, p, p, now);
    pl_free(word);
}

static void
process(pl_rv_conn *c, uint64_t now)
{
    size_t at = 0;
    while (parsing(c) && at < c->in_len) {
        pl_rv_head h;
        int rc = pl_rv_head_parse(c->in + at, c->in_len - at, &c->pp->lim, &h);
        if (rc < 0) {
            protocol_fail(c, rc, h.why, now);
            return;
        }
        if (rc > 0 && !kind_allowed(c, h.kind)) {
            protocol_fail(c, PARLEY_EPROTO,
                          "bad greeting: the first frame must be GREETING "
                          "or NEWGREETING",
                          now);
            return;
        }
        if (rc == 0 || c->in_len - at - h.head_len < h.len) {
            if (c->frame_start_us == 0) {
                c->frame_start_us = now;
            }
            if (rc > 0 && h.head_len + h.len > c->in_cap &&
                start_big(c, &h, at, now)) {
                at = c->in_len; /* all of it went into the payload */
            }
            break;
        }
        handle_frame(c, &h, c->in + at + h.head_len, NULL, now);
        at += h.head_len + (size_t)h.len;
        c->frame_start_us = 0;
    }
    if (c->state == PL_RVC_CLOSING || c->state == PL_RVC_DEAD) {
        c->in_len = 0;
        return;
    }
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
}

/* ---- reading ----------------------------------------------------------- */

int
pl_rv_conn_can_retry(const pl_rv_conn *c)
{
    const pl_rv_budget *b = c->pp->budget;
    return c->blocked &&
           (b->used == 0 || (c->blocked_need <= b->limit &&
                             b->used <= b->limit - c->blocked_need));
}

int
pl_rv_conn_want_read(const pl_rv_conn *c)
{
    if (c->eof || c->state == PL_RVC_DEAD || c->state == PL_RVC_CONNECTING) {
        return 0;
    }
    if (c->state == PL_RVC_CLOSING || c->payload) {
        return 1;
    }
    if (c->blocked || c->pp->budget->used >= c->pp->budget->limit) {
        return 0;
    }
    return c->in_len < c->in_cap;
}

int
pl_rv_conn_read_space(pl_rv_conn *c, uint8_t **p, size_t *cap)
{
    if (!pl_rv_conn_want_read(c)) {
        return PARLEY_EAGAIN;
    }
    if (c->state == PL_RVC_CLOSING) {
        c->in_len = 0; /* discard: nothing is read after DISCONNECT */
        *p = c->in;
        *cap = c->in_cap;
    } else if (c->payload) {
        uint64_t left = c->cur.len - c->got;
        *p = c->payload + c->got;
        *cap = left > SIZE_MAX ? SIZE_MAX : (size_t)left;
    } else {
        *p = c->in + c->in_len;
        *cap = c->in_cap - c->in_len;
    }
    return PARLEY_OK;
}

void
pl_rv_conn_on_read(pl_rv_conn *c, size_t n, uint64_t now)
{
    if (n > 0) {
        c->last_rx_us = now;
    }
    if (c->state == PL_RVC_CLOSING || c->state == PL_RVC_DEAD) {
        c->in_len = 0;
        return;
    }
    if (c->payload) {
        c->got += n;
        if (c->got < c->cur.len) {
            return;
        }
        finish_big(c, now);
    } else {
        c->in_len += n;
    }
    if (c->blocked) {
        c->blocked = 0; /* process retries the allocation */
    }
    process(c, now);
}

/* ---- timers ------------------------------------------------------------ */

static uint64_t
ping_due(const pl_rv_conn *c)
{
    uint64_t base =
        c->last_rx_us > c->last_ping_us ? c->last_rx_us : c->last_ping_us;
    return base + c->pp->ping_us;
}

static int
handshaking(const pl_rv_conn *c)
{
    return c->state == PL_RVC_CONNECTING || c->state == PL_RVC_WAIT_REPLY ||
           c->state == PL_RVC_WAIT_GREETING;
}

void
pl_rv_conn_tick(pl_rv_conn *c, uint64_t now)
{
    const pl_rv_params *pp = c->pp;
    if (pp->handshake_us && handshaking(c) &&
        now - c->created_us >= pp->handshake_us) {
        conn_fail(c, PARLEY_ETIMEDOUT,
                  c->state == PL_RVC_CONNECTING
                      ? "connect timed out"
                      : "no greeting within the handshake timeout",
                  PARLEY_RV_LEFT_ERROR, now);
        return;
    }
    if (pp->transfer_us && c->frame_start_us && c->state != PL_RVC_CLOSING &&
        now - c->frame_start_us >= pp->transfer_us) {
        protocol_fail(c, PARLEY_ETIMEDOUT,
                      "a frame stayed incomplete for the transfer timeout",
                      now);
        return;
    }
    if (c->state == PL_RVC_READY && c->pp_on) {
        if (now - c->last_rx_us >= pp->pong_us) {
            conn_fail(c, PARLEY_ETIMEDOUT, "nothing heard for the pong timeout",
                      PARLEY_RV_LEFT_TIMEOUT, now);
            return;
        }
        if (now >= ping_due(c)) {
            pl_rv_queue_control(c, PL_RV_CTL_PING, 0);
            c->last_ping_us = now;
        }
    }
    if (c->state == PL_RVC_CLOSING && now >= c->closing_deadline_us) {
        go_dead(c);
    }
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t
pl_rv_conn_next_due(const pl_rv_conn *c)
{
    const pl_rv_params *pp = c->pp;
    uint64_t t = UINT64_MAX;
    if (c->state == PL_RVC_DEAD) {
        return 0;
    }
    if (pp->handshake_us && handshaking(c)) {
        t = min_u64(t, c->created_us + pp->handshake_us);
    }
    if (pp->transfer_us && c->frame_start_us && c->state != PL_RVC_CLOSING) {
        t = min_u64(t, c->frame_start_us + pp->transfer_us);
    }
    if (c->state == PL_RVC_READY && c->pp_on) {
        t = min_u64(t, c->last_rx_us + pp->pong_us);
        t = min_u64(t, ping_due(c));
    }
    if (c->state == PL_RVC_CLOSING) {
        t = min_u64(t, c->closing_deadline_us);
    }
    return t;
}
