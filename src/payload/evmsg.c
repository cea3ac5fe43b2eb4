/*
 * Encoder and decoder of the session messages (see evmsg.h). Every field
 * goes through the bounds-checked cursor; names are checked as text and
 * announced names against their id.
 */
#include "payload/evmsg.h"

#include "parley/payload.h"
#include "payload/internal.h"

/* A length-prefixed (u8) name of at most max bytes. */
static int
read_name(pl_rd *rd, size_t max, int allow_empty, const char **s, size_t *n)
{
    size_t len = pl_rd_u8(rd);
    const uint8_t *p = pl_rd_bytes(rd, len);

    if (rd->err || len > max || (len == 0 && !allow_empty) ||
        !pl_utf8_valid((const char *)p, len, 0)) {
        return PARLEY_EPROTO;
    }
    *s = (const char *)p;
    *n = len;
    return PARLEY_OK;
}

static int
decode_event(pl_rd *rd, pl_evmsg *m)
{
    m->flags = pl_rd_u8(rd);
    m->id = pl_rd_u64(rd);
    if (rd->err || (m->flags & ~(PL_EVF_NAME | PL_EVF_SENDER | PL_EVF_ALL)) ||
        ((m->flags & PL_EVF_SENDER) && (m->flags & PL_EVF_ALL))) {
        return PARLEY_EPROTO;
    }
    if ((m->flags & PL_EVF_NAME) &&
        (read_name(rd, PARLEY_EVENT_NAME_MAX, 0, &m->name, &m->name_len) !=
             PARLEY_OK ||
         parley_event_id_n(m->name, m->name_len) != m->id)) {
        return PARLEY_EPROTO;
    }
    if ((m->flags & PL_EVF_SENDER) &&
        read_name(rd, PL_PEER_NAME_MAX, 1, &m->sender, &m->sender_len) !=
            PARLEY_OK) {
        return PARLEY_EPROTO;
    }
    m->payload_len = pl_rd_left(rd);
    m->payload = pl_rd_bytes(rd, m->payload_len);
    return rd->err ? PARLEY_EPROTO : PARLEY_OK;
}

int
pl_evmsg_decode(const uint8_t *p, size_t len, pl_evmsg *out)
{
    pl_evmsg m = {0};
    pl_rd rd;
    int rc = PARLEY_EPROTO;

    pl_rd_init(&rd, p, len);
    m.kind = pl_rd_u8(&rd);
    switch (rd.err ? 0 : m.kind) {
    case PL_EV_HELLO:
        /* Later versions may append fields: a version-1 reader stops
           after the ones it knows. */
        m.version = pl_rd_u8(&rd);
        rc = read_name(&rd, PL_PEER_NAME_MAX, 1, &m.name, &m.name_len);
        break;
    case PL_EV_WELCOME:
        m.version = pl_rd_u8(&rd);
        rc = read_name(&rd, PL_PEER_NAME_MAX, 0, &m.name, &m.name_len);
        if (rc == PARLEY_OK) {
            rc = read_name(&rd, PL_PEER_NAME_MAX, 1, &m.sender, &m.sender_len);
        }
        break;
    case PL_EV_EVENT:
        rc = decode_event(&rd, &m);
        break;
    case PL_EV_ANNOUNCE:
        m.id = pl_rd_u64(&rd);
        rc = read_name(&rd, PARLEY_EVENT_NAME_MAX, 0, &m.name, &m.name_len);
        if (rc == PARLEY_OK &&
            (pl_rd_left(&rd) != 0 ||
             parley_event_id_n(m.name, m.name_len) != m.id)) {
            rc = PARLEY_EPROTO;
        }
        break;
    case PL_EV_BYE:
        m.code = pl_rd_u8(&rd);
        rc = read_name(&rd, PL_REASON_MAX, 1, &m.sender, &m.sender_len);
        if (rc == PARLEY_OK &&
            (pl_rd_left(&rd) != 0 || m.code < PL_BYE_LEAVING ||
             m.code > PL_BYE_REFUSED)) {
            rc = PARLEY_EPROTO;
        }
        break;
    default:
        break;
    }
    if (rc == PARLEY_OK) {
        *out = m;
    }
    return rc;
}

size_t
pl_evmsg_size(const pl_evmsg *m)
{
    switch (m->kind) {
    case PL_EV_HELLO:
        return 3 + m->name_len;
    case PL_EV_WELCOME:
        return 4 + m->name_len + m->sender_len;
    case PL_EV_EVENT:
        return 10 + ((m->flags & PL_EVF_NAME) ? 1 + m->name_len : 0) +
               ((m->flags & PL_EVF_SENDER) ? 1 + m->sender_len : 0) +
               m->payload_len;
    case PL_EV_ANNOUNCE:
        return 10 + m->name_len;
    case PL_EV_BYE:
        return 3 + m->sender_len;
    default:
        return 0;
    }
}

static void
write_name(pl_wr *w, const char *s, size_t len)
{
    pl_wr_u8(w, (uint8_t)len);
    pl_wr_bytes(w, s, len);
}

/* Field limits an encoder must keep so that its peer accepts the bytes. */
static int
limits_ok(const pl_evmsg *m)
{
    size_t name_max = (m->kind == PL_EV_HELLO || m->kind == PL_EV_WELCOME)
                          ? PL_PEER_NAME_MAX
                          : PARLEY_EVENT_NAME_MAX;
    size_t sender_max = m->kind == PL_EV_BYE ? PL_REASON_MAX : PL_PEER_NAME_MAX;

    return m->name_len <= name_max && m->sender_len <= sender_max &&
           (m->name != NULL || m->name_len == 0) &&
           (m->sender != NULL || m->sender_len == 0) &&
           (m->payload != NULL || m->payload_len == 0);
}

int
pl_evmsg_encode(pl_wr *w, const pl_evmsg *m)
{
    size_t start = w->off;

    if (m == NULL || !limits_ok(m) || pl_evmsg_size(m) == 0) {
        return PARLEY_EINVAL;
    }
    pl_wr_u8(w, m->kind);
    switch (m->kind) {
    case PL_EV_HELLO:
        pl_wr_u8(w, m->version);
        write_name(w, m->name, m->name_len);
        break;
    case PL_EV_WELCOME:
        pl_wr_u8(w, m->version);
        write_name(w, m->name, m->name_len);
        write_name(w, m->sender, m->sender_len);
        break;
    case PL_EV_EVENT:
        pl_wr_u8(w, m->flags);
        pl_wr_u64(w, m->id);
        if (m->flags & PL_EVF_NAME) {
            write_name(w, m->name, m->name_len);
        }
        if (m->flags & PL_EVF_SENDER) {
            write_name(w, m->sender, m->sender_len);
        }
        pl_wr_bytes(w, m->payload, m->payload_len);
        break;
    case PL_EV_ANNOUNCE:
        pl_wr_u64(w, m->id);
        write_name(w, m->name, m->name_len);
        break;
    default:
        pl_wr_u8(w, m->code);
        write_name(w, m->sender, m->sender_len);
        break;
    }
    return pl_wr_finish(w, start);
}
