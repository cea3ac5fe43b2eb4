/*
 * Packet-level codec (packet.h): DATA header, packet-number expansion and
 * the handshake packets, all through the bounds-checked cursors. The byte
 * layouts are specified in docs/PROTOCOL.md.
 */
#include "wire/packet.h"

#include <string.h>

int
pl_pkt_type(const uint8_t *buf, size_t len)
{
    if (buf == NULL || len == 0) {
        return PARLEY_ETRUNC;
    }
    switch (buf[0]) {
    case PL_PKT_DATA:
    case PL_PKT_CONNECT:
    case PL_PKT_CHALLENGE:
    case PL_PKT_RESPONSE:
    case PL_PKT_ACCEPT:
    case PL_PKT_REJECT:
        return buf[0];
    default:
        return PARLEY_EPROTO;
    }
}

int
pl_data_hdr_encode(pl_wr *wr, uint32_t conn_id, uint64_t pn)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (conn_id == 0 || pn > PL_PN_MAX) {
        return PARLEY_EINVAL;
    }
    pl_wr_u8(wr, PL_PKT_DATA);
    pl_wr_u32(wr, conn_id);
    pl_wr_u32(wr, (uint32_t)pn);
    return pl_wr_finish(wr, start);
}

int
pl_data_hdr_decode(const uint8_t *buf, size_t len, uint32_t *conn_id,
                   uint32_t *pn_trunc)
{
    pl_rd rd;
    pl_rd_init(&rd, buf, len);
    if (pl_rd_u8(&rd) != PL_PKT_DATA && !rd.err) {
        return PARLEY_EPROTO;
    }
    uint32_t id = pl_rd_u32(&rd);
    uint32_t pn = pl_rd_u32(&rd);
    if (rd.err) {
        return rd.err;
    }
    if (id == 0) {
        return PARLEY_EPROTO;
    }
    *conn_id = id;
    *pn_trunc = pn;
    return PARLEY_OK;
}

uint64_t
pl_pn_expand(uint64_t largest, uint32_t truncated)
{
    const uint64_t win = UINT64_C(1) << 32;
    const uint64_t hwin = win / 2;
    if (largest != UINT64_MAX && largest > PL_PN_MAX) {
        largest = PL_PN_MAX; /* out of contract; keep the arithmetic sane */
    }
    /* UINT64_MAX ("none") wraps to an expected number of 0. */
    uint64_t expected = largest + 1;
    uint64_t cand = (expected & ~(win - 1)) | truncated;
    /* The RFC's "cand <= expected - hwin", without unsigned underflow. */
    if (cand + hwin <= expected && cand < PL_PN_MAX + 1 - win) {
        return cand + win;
    }
    if ((cand > expected + hwin && cand >= win) || cand > PL_PN_MAX) {
        /* Past the top (expected == 2^62) only the lower candidate is a
           packet number at all. */
        return cand - win;
    }
    return cand;
}

/* Flags that need the key share. */
#define NEEDS_ENCRYPT (PL_HS_FLAG_PSK | PL_HS_FLAG_TOKEN | PL_HS_FLAG_IDENTITY)

static int
flags_valid(uint32_t flags)
{
    return (flags & PL_HS_FLAG_ENCRYPT) || !(flags & NEEDS_ENCRYPT);
}

size_t
pl_hs_ext_len(uint32_t flags)
{
    size_t n = 0;
    if (flags & PL_HS_FLAG_ENCRYPT) {
        n += PL_HS_KEY_LEN;
    }
    if (flags & PL_HS_FLAG_PSK) {
        n += PL_HS_PSK_MAC_LEN;
    }
    if (flags & PL_HS_FLAG_TOKEN) {
        n += PL_HS_TOKEN_LEN;
    }
    if (flags & PL_HS_FLAG_PMTU) {
        n += PL_HS_MAXMTU_LEN;
    }
    return n;
}

size_t
pl_hs_accept_len(uint32_t flags)
{
    size_t n = PL_HS_ACCEPT_LEN;
    if (flags & PL_HS_FLAG_ENCRYPT) {
        n += PL_HS_KEY_LEN + PL_HS_CONFIRM_LEN;
    }
    if (flags & PL_HS_FLAG_IDENTITY) {
        n += PL_HS_SIG_LEN;
    }
    if (flags & PL_HS_FLAG_PMTU) {
        n += PL_HS_MAXMTU_LEN;
    }
    return n;
}

/* CONNECT's fields from magic to the user data (shared with RESPONSE). */
static int
check_connect(const pl_hs_connect *c)
{
    if (c->client_id == 0 || c->mtu < PL_MTU_MIN || c->channels == 0 ||
        c->max_message == 0 || c->user_len > PL_HS_USER_MAX ||
        (c->user_len > 0 && c->user == NULL) || !flags_valid(c->flags) ||
        ((c->flags & PL_HS_FLAG_PMTU) && c->max_mtu < c->mtu)) {
        return PARLEY_EINVAL;
    }
    return PARLEY_OK;
}

/* The security extension after the user data, in flag order. */
static void
write_ext(pl_wr *wr, const pl_hs_connect *c)
{
    if (c->flags & PL_HS_FLAG_ENCRYPT) {
        pl_wr_bytes(wr, c->pk, PL_HS_KEY_LEN);
    }
    if (c->flags & PL_HS_FLAG_PSK) {
        pl_wr_bytes(wr, c->psk_mac, PL_HS_PSK_MAC_LEN);
    }
    if (c->flags & PL_HS_FLAG_TOKEN) {
        pl_wr_bytes(wr, c->token, PL_HS_TOKEN_LEN);
    }
    if (c->flags & PL_HS_FLAG_PMTU) {
        pl_wr_u16(wr, c->max_mtu);
    }
}

static void
read_field(pl_rd *rd, uint8_t *dst, size_t n)
{
    const uint8_t *p = pl_rd_bytes(rd, n);
    if (p) {
        memcpy(dst, p, n);
    }
}

static void
read_ext(pl_rd *rd, pl_hs_connect *c)
{
    if (c->flags & PL_HS_FLAG_ENCRYPT) {
        read_field(rd, c->pk, PL_HS_KEY_LEN);
    }
    if (c->flags & PL_HS_FLAG_PSK) {
        read_field(rd, c->psk_mac, PL_HS_PSK_MAC_LEN);
    }
    if (c->flags & PL_HS_FLAG_TOKEN) {
        read_field(rd, c->token, PL_HS_TOKEN_LEN);
    }
    c->max_mtu = 0;
    if (c->flags & PL_HS_FLAG_PMTU) {
        c->max_mtu = pl_rd_u16(rd);
    }
}

static void
write_connect_body(pl_wr *wr, const pl_hs_connect *c)
{
    pl_wr_u32(wr, PL_PROTO_MAGIC);
    pl_wr_u16(wr, c->version);
    pl_wr_u32(wr, c->client_id);
    pl_wr_bytes(wr, c->nonce, sizeof c->nonce);
    pl_wr_u16(wr, c->mtu);
    pl_wr_u8(wr, c->channels);
    pl_wr_u32(wr, c->max_message);
    pl_wr_u32(wr, c->flags);
    pl_wr_u16(wr, c->user_len);
    pl_wr_bytes(wr, c->user, c->user_len);
    write_ext(wr, c);
}

/* Writes a padded CONNECT (cookie NULL) or RESPONSE. */
static int
write_connect_packet(pl_wr *wr, const pl_hs_connect *c, const uint8_t *cookie)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (check_connect(c) != PARLEY_OK) {
        return PARLEY_EINVAL;
    }
    pl_wr_u8(wr, cookie ? PL_PKT_RESPONSE : PL_PKT_CONNECT);
    write_connect_body(wr, c);
    if (cookie) {
        pl_wr_bytes(wr, cookie, PL_COOKIE_LEN);
    }
    if (!wr->err && wr->off - start < PL_HANDSHAKE_MIN_SIZE) {
        pl_wr_zeros(wr, PL_HANDSHAKE_MIN_SIZE - (wr->off - start));
    }
    return pl_wr_finish(wr, start);
}

int
pl_hs_connect_encode(pl_wr *wr, const pl_hs_connect *c)
{
    return write_connect_packet(wr, c, NULL);
}

int
pl_hs_response_encode(pl_wr *wr, const pl_hs_connect *c,
                      const uint8_t cookie[PL_COOKIE_LEN])
{
    if (cookie == NULL) {
        return PARLEY_EINVAL;
    }
    return write_connect_packet(wr, c, cookie);
}

/* Reads the CONNECT body. The version-invariant prefix (magic, version,
   client_id, nonce) is read first so a REJECT can answer any version. */
static int
read_connect_body(pl_rd *rd, pl_hs_connect *c)
{
    if (pl_rd_u32(rd) != PL_PROTO_MAGIC) {
        return PARLEY_EPROTO;
    }
    c->version = pl_rd_u16(rd);
    c->client_id = pl_rd_u32(rd);
    const uint8_t *nonce = pl_rd_bytes(rd, sizeof c->nonce);
    if (rd->err || c->client_id == 0) {
        return PARLEY_EPROTO;
    }
    memcpy(c->nonce, nonce, sizeof c->nonce);
    if (c->version != PL_PROTO_VERSION) {
        return PARLEY_EVERSION;
    }
    c->mtu = pl_rd_u16(rd);
    c->channels = pl_rd_u8(rd);
    c->max_message = pl_rd_u32(rd);
    c->flags = pl_rd_u32(rd);
    c->user_len = pl_rd_u16(rd);
    if (c->user_len > PL_HS_USER_MAX) {
        return PARLEY_EPROTO;
    }
    c->user = pl_rd_bytes(rd, c->user_len);
    if (c->user_len == 0) {
        c->user = NULL;
    }
    if (!flags_valid(c->flags)) {
        return PARLEY_EPROTO;
    }
    read_ext(rd, c);
    if (rd->err) {
        return PARLEY_EPROTO;
    }
    return check_connect(c) == PARLEY_OK ? PARLEY_OK : PARLEY_EPROTO;
}

static int
read_connect_packet(const uint8_t *buf, size_t len, uint8_t type,
                    pl_hs_connect *c, uint8_t *cookie)
{
    pl_rd rd;
    if (buf == NULL || len < PL_HANDSHAKE_MIN_SIZE || buf[0] != type) {
        return PARLEY_EPROTO;
    }
    pl_rd_init(&rd, buf + 1, len - 1);
    int rc = read_connect_body(&rd, c);
    if (rc != PARLEY_OK || cookie == NULL) {
        return rc;
    }
    const uint8_t *ck = pl_rd_bytes(&rd, PL_COOKIE_LEN);
    if (ck == NULL) {
        return PARLEY_EPROTO;
    }
    memcpy(cookie, ck, PL_COOKIE_LEN);
    return PARLEY_OK;
}

int
pl_hs_connect_decode(const uint8_t *buf, size_t len, pl_hs_connect *out)
{
    return read_connect_packet(buf, len, PL_PKT_CONNECT, out, NULL);
}

int
pl_hs_response_decode(const uint8_t *buf, size_t len, pl_hs_connect *out,
                      uint8_t cookie[PL_COOKIE_LEN])
{
    if (cookie == NULL) {
        return PARLEY_EINVAL;
    }
    return read_connect_packet(buf, len, PL_PKT_RESPONSE, out, cookie);
}

/* The type, client_id and nonce every server-to-client packet begins with. */
static void
write_reply_head(pl_wr *wr, uint8_t type, uint32_t client_id,
                 const uint8_t nonce[8])
{
    pl_wr_u8(wr, type);
    pl_wr_u32(wr, client_id);
    pl_wr_bytes(wr, nonce, 8);
}

/*
 * Starts decoding a fixed-size server packet of exactly want bytes:
 * checks the type and length, reads client_id and nonce.
 */
static int
read_reply_head(pl_rd *rd, const uint8_t *buf, size_t len, uint8_t type,
                size_t want, uint32_t *client_id, uint8_t nonce[8])
{
    if (buf == NULL || len == 0) {
        return PARLEY_ETRUNC;
    }
    if (buf[0] != type || len > want) {
        return PARLEY_EPROTO;
    }
    if (len < want) {
        return PARLEY_ETRUNC;
    }
    pl_rd_init(rd, buf + 1, len - 1);
    *client_id = pl_rd_u32(rd);
    const uint8_t *n = pl_rd_bytes(rd, 8);
    if (n == NULL) {
        return PARLEY_ETRUNC;
    }
    memcpy(nonce, n, 8);
    return *client_id == 0 ? PARLEY_EPROTO : PARLEY_OK;
}

int
pl_hs_challenge_encode(pl_wr *wr, const pl_hs_challenge *c)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (c->client_id == 0) {
        return PARLEY_EINVAL;
    }
    write_reply_head(wr, PL_PKT_CHALLENGE, c->client_id, c->nonce);
    pl_wr_bytes(wr, c->cookie, PL_COOKIE_LEN);
    return pl_wr_finish(wr, start);
}

int
pl_hs_challenge_decode(const uint8_t *buf, size_t len, pl_hs_challenge *out)
{
    pl_rd rd;
    int rc = read_reply_head(&rd, buf, len, PL_PKT_CHALLENGE,
                             PL_HS_CHALLENGE_LEN, &out->client_id, out->nonce);
    if (rc != PARLEY_OK) {
        return rc;
    }
    const uint8_t *cookie = pl_rd_bytes(&rd, PL_COOKIE_LEN);
    if (cookie == NULL) {
        return PARLEY_ETRUNC;
    }
    memcpy(out->cookie, cookie, PL_COOKIE_LEN);
    return PARLEY_OK;
}

static int
check_accept(const pl_hs_accept *a)
{
    if (a->client_id == 0 || a->server_id == 0 || a->mtu < PL_MTU_MIN ||
        a->channels == 0 || a->max_message == 0 || !flags_valid(a->flags) ||
        ((a->flags & PL_HS_FLAG_PMTU) && a->max_mtu < a->mtu)) {
        return PARLEY_EINVAL;
    }
    return PARLEY_OK;
}

int
pl_hs_accept_encode(pl_wr *wr, const pl_hs_accept *a)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (check_accept(a) != PARLEY_OK) {
        return PARLEY_EINVAL;
    }
    write_reply_head(wr, PL_PKT_ACCEPT, a->client_id, a->nonce);
    pl_wr_u32(wr, a->server_id);
    pl_wr_u16(wr, a->mtu);
    pl_wr_u8(wr, a->channels);
    pl_wr_u32(wr, a->max_message);
    pl_wr_u32(wr, a->flags);
    if (a->flags & PL_HS_FLAG_ENCRYPT) {
        pl_wr_bytes(wr, a->pk, PL_HS_KEY_LEN);
        pl_wr_bytes(wr, a->confirm, PL_HS_CONFIRM_LEN);
    }
    if (a->flags & PL_HS_FLAG_IDENTITY) {
        pl_wr_bytes(wr, a->sig, PL_HS_SIG_LEN);
    }
    if (a->flags & PL_HS_FLAG_PMTU) {
        pl_wr_u16(wr, a->max_mtu);
    }
    return pl_wr_finish(wr, start);
}

int
pl_hs_accept_decode(const uint8_t *buf, size_t len, pl_hs_accept *out)
{
    pl_rd rd;
    size_t want = PL_HS_ACCEPT_LEN;
    if (buf != NULL && len >= PL_HS_ACCEPT_LEN) {
        /* flags (offset 24) tell how long the whole packet is. */
        uint32_t fl = (uint32_t)buf[24] << 24 | (uint32_t)buf[25] << 16 |
                      (uint32_t)buf[26] << 8 | buf[27];
        want = flags_valid(fl) ? pl_hs_accept_len(fl) : PL_HS_ACCEPT_LEN;
    }
    int rc = read_reply_head(&rd, buf, len, PL_PKT_ACCEPT, want,
                             &out->client_id, out->nonce);
    if (rc != PARLEY_OK) {
        return rc;
    }
    out->server_id = pl_rd_u32(&rd);
    out->mtu = pl_rd_u16(&rd);
    out->channels = pl_rd_u8(&rd);
    out->max_message = pl_rd_u32(&rd);
    out->flags = pl_rd_u32(&rd);
    if (out->flags & PL_HS_FLAG_ENCRYPT) {
        read_field(&rd, out->pk, PL_HS_KEY_LEN);
        read_field(&rd, out->confirm, PL_HS_CONFIRM_LEN);
    }
    if (out->flags & PL_HS_FLAG_IDENTITY) {
        read_field(&rd, out->sig, PL_HS_SIG_LEN);
    }
    out->max_mtu = 0;
    if (out->flags & PL_HS_FLAG_PMTU) {
        out->max_mtu = pl_rd_u16(&rd);
    }
    if (rd.err) {
        return rd.err;
    }
    return check_accept(out) == PARLEY_OK ? PARLEY_OK : PARLEY_EPROTO;
}

int
pl_hs_reject_encode(pl_wr *wr, const pl_hs_reject *r)
{
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (r->client_id == 0 || r->reason == 0) {
        return PARLEY_EINVAL;
    }
    write_reply_head(wr, PL_PKT_REJECT, r->client_id, r->nonce);
    pl_wr_u8(wr, r->reason);
    pl_wr_u32(wr, r->app_code);
    return pl_wr_finish(wr, start);
}

int
pl_hs_reject_decode(const uint8_t *buf, size_t len, pl_hs_reject *out)
{
    pl_rd rd;
    int rc = read_reply_head(&rd, buf, len, PL_PKT_REJECT, PL_HS_REJECT_LEN,
                             &out->client_id, out->nonce);
    if (rc != PARLEY_OK) {
        return rc;
    }
    out->reason = pl_rd_u8(&rd);
    out->app_code = pl_rd_u32(&rd);
    if (rd.err) {
        return rd.err;
    }
    return out->reason == 0 ? PARLEY_EPROTO : PARLEY_OK;
}

int
pl_hs_cookie_input(pl_wr *wr, const parley_addr *client, const pl_hs_connect *c,
                   uint64_t time_s)
{
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0,    0,
                                          0, 0, 0, 0, 0xff, 0xff};
    size_t start = wr->off;
    if (wr->err) {
        return wr->err;
    }
    if (client == NULL || (client->family != PARLEY_AF_INET &&
                           client->family != PARLEY_AF_INET6)) {
        return PARLEY_EINVAL;
    }
    if (c->user_len > PL_HS_USER_MAX || (c->user_len > 0 && c->user == NULL) ||
        !flags_valid(c->flags)) {
        return PARLEY_EINVAL;
    }
    if (client->family == PARLEY_AF_INET) {
        pl_wr_bytes(wr, v4_mapped, sizeof v4_mapped);
        pl_wr_bytes(wr, client->ip, 4);
    } else {
        pl_wr_bytes(wr, client->ip, 16);
    }
    pl_wr_u16(wr, client->port);
    pl_wr_u32(wr, c->client_id);
    pl_wr_bytes(wr, c->nonce, sizeof c->nonce);
    pl_wr_u64(wr, time_s);
    pl_wr_u16(wr, c->mtu);
    pl_wr_u8(wr, c->channels);
    pl_wr_u32(wr, c->max_message);
    pl_wr_u32(wr, c->flags);
    pl_wr_u16(wr, c->user_len);
    pl_wr_bytes(wr, c->user, c->user_len);
    write_ext(wr, c);
    return pl_wr_finish(wr, start);
}

uint64_t
pl_hs_cookie_time(const uint8_t cookie[PL_COOKIE_LEN])
{
    pl_rd rd;
    pl_rd_init(&rd, cookie, PL_COOKIE_LEN);
    return pl_rd_u64(&rd);
}
