/*
 * Pieces the session server and client share: handler tables, encoding
 * events with first-use name announcements, checking incoming events
 * (payload and typed definition), and name rules.
 */
#include <stdio.h>
#include <string.h>

#include "session/session_int.h"
#include "util/alloc.h"

/* Marks an announcement set entry (the map needs a non-NULL value). */
static char present;

const char *
parley_leave_name(parley_leave leave)
{
    switch (leave) {
    case PARLEY_LEAVE_NONE:
        return "none";
    case PARLEY_LEAVE_CLIENT:
        return "client left";
    case PARLEY_LEAVE_KICKED:
        return "kicked";
    case PARLEY_LEAVE_STOPPED:
        return "server stopped";
    case PARLEY_LEAVE_LOST:
        return "connection lost";
    case PARLEY_LEAVE_REFUSED:
        return "refused";
    }
    return "unknown";
}

/* ---- handlers ---------------------------------------------------------- */

int
pl_handlers_set_id(pl_handlers *h, uint64_t id, parley_session_handler fn,
                   void *user)
{
    pl_handler *e = pl_idmap_get(&h->by_id, id);

    if (fn == NULL) {
        pl_free(pl_idmap_del(&h->by_id, id));
        return PARLEY_OK;
    }
    if (e == NULL) {
        e = pl_malloc(sizeof *e);
        if (e == NULL) {
            return PARLEY_ENOMEM;
        }
        if (pl_idmap_put(&h->by_id, id, e) != PARLEY_OK) {
            pl_free(e);
            return PARLEY_ENOMEM;
        }
    }
    e->fn = fn;
    e->user = user;
    return PARLEY_OK;
}

int
pl_handlers_set_type(pl_handlers *h, parley_session_event_type type,
                     parley_session_handler fn, void *user)
{
    if ((int)type <= PARLEY_SESSION_NONE ||
        (int)type >= PARLEY_SESSION_EVENT_TYPES) {
        return PARLEY_EINVAL;
    }
    h->by_type[type].fn = fn;
    h->by_type[type].user = user;
    return PARLEY_OK;
}

int
pl_handlers_dispatch(const pl_handlers *h, const parley_session_event *ev)
{
    const pl_handler *e = NULL;

    if (ev->type == PARLEY_SESSION_EVENT) {
        e = pl_idmap_get(&h->by_id, ev->id);
    }
    if (e == NULL && (int)ev->type > 0 &&
        (int)ev->type < PARLEY_SESSION_EVENT_TYPES &&
        h->by_type[ev->type].fn != NULL) {
        e = &h->by_type[ev->type];
    }
    if (e == NULL) {
        return 0;
    }
    e->fn(e->user, ev);
    return 1;
}

void
pl_handlers_free(pl_handlers *h)
{
    for (size_t i = 0; i < h->by_id.cap; i++) {
        pl_free(h->by_id.ents[i].val);
    }
    pl_idmap_free(&h->by_id);
}

/* ---- encoding and sending ---------------------------------------------- */

void
pl_outbuf_free(pl_outbuf *ob)
{
    pl_free(ob->p);
    ob->p = NULL;
    ob->cap = 0;
}

int
pl_sess_encode(pl_outbuf *ob, const pl_evmsg *m, size_t *len)
{
    size_t need = pl_evmsg_size(m);
    pl_wr w;
    int rc;

    if (need == 0) {
        return PARLEY_EINVAL;
    }
    if (need > ob->cap) {
        size_t cap = ob->cap ? ob->cap : 256;
        while (cap < need) {
            cap *= 2;
        }
        uint8_t *p = pl_realloc(ob->p, cap);
        if (p == NULL) {
            return PARLEY_ENOMEM;
        }
        ob->p = p;
        ob->cap = cap;
    }
    pl_wr_init(&w, ob->p, ob->cap);
    rc = pl_evmsg_encode(&w, m);
    *len = w.off;
    return rc;
}

int
pl_sess_payload(parley_builder *b, const parley_event_table *t, uint64_t id,
                size_t max, const uint8_t **data, size_t *len)
{
    static const uint8_t empty[] = {0x92, 0x90, 0x80};
    parley_payload p;
    int rc;

    if (b == NULL) {
        *data = empty;
        *len = sizeof empty;
    } else {
        rc = parley_builder_finish(b, data, len);
        if (rc != PARLEY_OK) {
            return rc;
        }
    }
    if (*len > max) {
        return PARLEY_EMSGSIZE;
    }
    if (pl_event_def_of(t, id) != NULL) {
        if (parley_payload_parse(*data, *len, &p) != PARLEY_OK ||
            parley_event_check(t, id, &p, NULL, 0) != PARLEY_OK) {
            return PARLEY_EPROTO;
        }
    }
    return PARLEY_OK;
}

/* 1 when id is not yet announced on this connection (and marks it). */
static int
first_use(pl_idmap *announced, uint64_t id, int *marked)
{
    *marked = 0;
    if (pl_idmap_get(announced, id) != NULL) {
        return 0;
    }
    if (announced->count < PL_SESS_MAX_ANNOUNCED &&
        pl_idmap_put(announced, id, &present) == PARLEY_OK) {
        *marked = 1;
    }
    return 1;
}

static int
send_announce(pl_st *tr, uint64_t conn, pl_outbuf *ob, uint64_t id,
              const char *name)
{
    pl_evmsg a = {0};
    size_t len;
    int rc;

    a.kind = PL_EV_ANNOUNCE;
    a.id = id;
    a.name = name;
    a.name_len = strlen(name);
    rc = pl_sess_encode(ob, &a, &len);
    if (rc == PARLEY_OK) {
        rc = tr->ops->send(tr->self, conn, ob->p, len, 1, 0);
    }
    return rc;
}

int
pl_sess_send_event(pl_st *tr, uint64_t conn, pl_idmap *announced, pl_outbuf *ob,
                   const parley_event_table *t, uint8_t flags, uint64_t id,
                   const char *sender, const uint8_t *payload, size_t plen,
                   uint32_t sflags)
{
    const char *name = parley_event_name(t, id);
    int reliable = !(sflags & PARLEY_SEND_UNRELIABLE);
    int marked = 0;
    pl_evmsg m = {0};
    size_t len;
    int rc;

    if (name != NULL && first_use(announced, id, &marked)) {
        flags |= PL_EVF_NAME;
        if (!reliable) {
            /* The inline name may be lost with the datagram: make sure
               the receiver learns it all the same. */
            rc = send_announce(tr, conn, ob, id, name);
            if (rc != PARLEY_OK) {
                goto undo;
            }
        }
    }
    m.kind = PL_EV_EVENT;
    m.flags = flags;
    m.id = id;
    m.name = (flags & PL_EVF_NAME) ? name : NULL;
    m.name_len = m.name ? strlen(name) : 0;
    m.sender = sender;
    m.sender_len = sender ? strlen(sender) : 0;
    m.payload = payload;
    m.payload_len = plen;
    rc = pl_sess_encode(ob, &m, &len);
    if (rc == PARLEY_OK) {
        rc = tr->ops->send(tr->self, conn, ob->p, len, reliable,
                           (sflags & PARLEY_SEND_NOW) != 0);
    }
undo:
    if (rc != PARLEY_OK && marked) {
        pl_idmap_del(announced, id); /* not sent: announce next time */
    }
    return rc;
}

void
pl_sess_announced_free(pl_idmap *announced)
{
    pl_idmap_free(announced);
}

/* ---- receiving ---------------------------------------------------------- */

int
pl_sess_read_event(parley_event_table *t, const pl_evmsg *m, size_t max,
                   parley_session_event *ev, char *why, size_t cap)
{
    if (m->flags & PL_EVF_NAME) {
        /* A collision (EEXIST) keeps our own name; the event still
           counts under its id. */
        (void)pl_event_learn(t, m->id, m->name, m->name_len);
    }
    ev->id = m->id;
    ev->name = parley_event_name(t, m->id);
    if (m->payload_len > max) {
        snprintf(why, cap, "payload of %zu bytes is over the limit of %zu",
                 m->payload_len, max);
        return PARLEY_EPROTO;
    }
    if (parley_payload_parse(m->payload, m->payload_len, &ev->payload) !=
        PARLEY_OK) {
        snprintf(why, cap, "malformed payload (%zu bytes)", m->payload_len);
        return PARLEY_EPROTO;
    }
    return parley_event_check(t, m->id, &ev->payload, why, cap);
}

/* ---- names --------------------------------------------------------------- */

int
pl_sess_name_ok(const char *s, size_t len, size_t max)
{
    return len <= max && pl_utf8_valid(s, len, 0);
}

void
pl_sess_copy_name(char *dst, size_t cap, const char *s, size_t len)
{
    if (cap == 0) {
        return;
    }
    if (len > cap - 1) {
        len = cap - 1;
        /* Back off over continuation bytes to a character boundary. */
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80) {
            len--;
        }
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
}
