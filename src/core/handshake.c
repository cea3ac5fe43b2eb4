/*
 * The handshake, both sides. A server keeps no state for an address until
 * that address proves it can receive: CONNECT (padded to 1200 bytes) gets
 * a CHALLENGE carrying a cookie, a keyed MAC (libsodium crypto_auth, i.e.
 * HMAC-SHA-512-256) over the client's address, its id and nonce, the
 * server's clock in seconds and the CONNECT fields; only a RESPONSE that
 * returns a valid cookie within PL_COOKIE_LIFETIME_S creates a peer. Both
 * replies are far smaller than the requests they answer, so the server
 * cannot be used to amplify. A repeated RESPONSE from a client that
 * already has a peer re-sends ACCEPT (the first may have been lost); it
 * never creates a second peer. The client retransmits CONNECT/RESPONSE on
 * a doubling timer until connect_timeout_ms.
 * The cookie key is drawn once per host and not rotated: a cookie is only
 * good for 10 s anyway.
 * Security (docs/PROTOCOL.md 13, docs/SECURITY.md): with encryption the
 * CONNECT carries the client's ephemeral X25519 key (and, as configured,
 * a PSK proof and a connect token); the server checks the access rules
 * statelessly at CONNECT and again at RESPONSE (REJECT reason 5 with a
 * detail code), and its ACCEPT carries its own ephemeral key, a MAC with
 * the derived confirmation key and, for a pinning client, an Ed25519
 * signature by its identity key. Handshake packets from one source IP are
 * rate limited before any of this work is done.
 */
#include "core/core_int.h"

#include <sodium.h>
#include <string.h>

#include "crypto/crypto.h"
#include "parley/error.h"
#include "parley/security.h"
#include "util/log.h"

uint64_t
pl_handshake_remote_key(const parley_addr *addr, uint32_t client_id)
{
    /* FNV-1a over the address, then the id in the high half. */
    uint64_t h = UINT64_C(14695981039346656037);
    const uint8_t *ip = addr->ip;
    size_t n = addr->family == PARLEY_AF_INET ? 4 : 16;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ ip[i]) * UINT64_C(1099511628211);
    }
    h = (h ^ addr->port) * UINT64_C(1099511628211);
    h = (h ^ addr->family) * UINT64_C(1099511628211);
    return ((uint64_t)client_id << 32) ^ (h & 0xffffffffu) ^ (h >> 32);
}

/* cookie = time_s (8 bytes, big-endian) || MAC. */
static int
make_cookie(const pl_core *core, const parley_addr *from,
            const pl_hs_connect *h, uint64_t time_s,
            uint8_t cookie[PL_COOKIE_LEN])
{
    uint8_t in[PL_COOKIE_INPUT_MAX];
    pl_wr w;
    pl_wr_init(&w, in, sizeof in);
    int rc = pl_hs_cookie_input(&w, from, h, time_s);
    if (rc != PARLEY_OK) {
        return rc;
    }
    for (int i = 0; i < 8; i++) {
        cookie[i] = (uint8_t)(time_s >> (56 - 8 * i));
    }
    crypto_auth(cookie + 8, in, w.off, core->cookie_key);
    return PARLEY_OK;
}

static int
cookie_valid(const pl_core *core, uint64_t now, const parley_addr *from,
             const pl_hs_connect *h, const uint8_t cookie[PL_COOKIE_LEN])
{
    uint64_t t = pl_hs_cookie_time(cookie);
    uint64_t now_s = now / 1000000;
    if (t > now_s || now_s - t > PL_COOKIE_LIFETIME_S) {
        return 0;
    }
    uint8_t want[PL_COOKIE_LEN];
    if (make_cookie(core, from, h, t, want) != PARLEY_OK) {
        return 0;
    }
    return crypto_verify_32(want + 8, cookie + 8) == 0;
}

static void
send_reject(pl_core *core, const parley_addr *to, uint32_t client_id,
            const uint8_t nonce[8], uint8_t reason, uint32_t app_code)
{
    pl_hs_reject r;
    memset(&r, 0, sizeof r);
    r.client_id = client_id;
    memcpy(r.nonce, nonce, sizeof r.nonce);
    r.reason = reason;
    r.app_code = app_code;
    uint8_t buf[PL_HS_REJECT_LEN + 8];
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf);
    if (client_id != 0 && pl_hs_reject_encode(&w, &r) == PARLEY_OK) {
        pl_core_push_raw(core, to, buf, w.off);
    }
}

/* The server's access rules for a CONNECT or RESPONSE: 0 when they
   pass, else the PARLEY_SECURITY_* detail for the REJECT. */
static uint32_t
security_check(const pl_core *core, uint64_t now, const pl_hs_connect *h)
{
    int has_enc = (h->flags & PL_HS_FLAG_ENCRYPT) != 0;
    if (has_enc != (core->cfg.encrypt != 0)) {
        return PARLEY_SECURITY_ENCRYPTION;
    }
    if (core->has_psk || (h->flags & PL_HS_FLAG_PSK)) {
        uint8_t mac[PL_HS_PSK_MAC_LEN];
        if (!core->has_psk || !(h->flags & PL_HS_FLAG_PSK)) {
            return PARLEY_SECURITY_PSK;
        }
        pl_crypto_psk_mac(core->psk, h->pk, h->client_id, h->nonce, mac);
        if (!pl_crypto_equal16(mac, h->psk_mac)) {
            return PARLEY_SECURITY_PSK;
        }
    }
    if (core->has_token_key &&
        (!(h->flags & PL_HS_FLAG_TOKEN) ||
         pl_crypto_token_check(core->token_key, h->token,
                               pl_core_unix_time(core, now), NULL) != 0)) {
        return PARLEY_SECURITY_TOKEN;
    }
    if ((h->flags & PL_HS_FLAG_IDENTITY) && !core->has_id) {
        return PARLEY_SECURITY_NO_IDENTITY;
    }
    return 0;
}

/* Answers a CONNECT or RESPONSE that breaks an access rule: 1 if so. */
static int
refuse(pl_core *core, uint64_t now, const parley_addr *from,
       const pl_hs_connect *h)
{
    uint32_t detail = security_check(core, now, h);
    if (detail == 0) {
        return 0;
    }
    core->st.rejected_security++;
    send_reject(core, from, h->client_id, h->nonce, PL_REJECT_SECURITY, detail);
    return 1;
}

/* Decoded and admitted by the rate limit: 1 when the server should go on
   with h. */
static int
admit(pl_core *core, uint64_t now, const parley_addr *from, int rc,
      const pl_hs_connect *h)
{
    if (!core->cfg.accept_incoming) {
        core->st.dropped_unknown++;
        return 0;
    }
    if (rc != PARLEY_OK && rc != PARLEY_EVERSION) {
        core->st.dropped_malformed++;
        return 0;
    }
    if (!pl_rl_admit(&core->rl, from, now)) {
        core->st.dropped_ratelimit++;
        return 0;
    }
    if (rc == PARLEY_EVERSION) {
        send_reject(core, from, h->client_id, h->nonce, PL_REJECT_VERSION, 0);
        return 0;
    }
    return 1;
}

void
pl_handshake_on_connect(pl_core *core, uint64_t now, const parley_addr *from,
                        const uint8_t *data, size_t len)
{
    pl_hs_connect h;
    int rc = pl_hs_connect_decode(data, len, &h);
    if (!admit(core, now, from, rc, &h) || refuse(core, now, from, &h)) {
        return;
    }
    if (core->nconns >= core->cfg.max_peers) {
        send_reject(core, from, h.client_id, h.nonce, PL_REJECT_FULL, 0);
        return;
    }
    pl_hs_challenge ch;
    ch.client_id = h.client_id;
    memcpy(ch.nonce, h.nonce, sizeof ch.nonce);
    if (make_cookie(core, from, &h, now / 1000000, ch.cookie) != PARLEY_OK) {
        core->st.dropped_malformed++;
        return;
    }
    uint8_t buf[PL_HS_CHALLENGE_LEN];
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf);
    if (pl_hs_challenge_encode(&w, &ch) == PARLEY_OK) {
        pl_core_push_raw(core, from, buf, w.off);
        core->st.challenges_sent++;
    }
}

/* A RESPONSE for a client that already has a peer: ACCEPT again. */
static int
resend_accept(pl_core *core, uint64_t now, const parley_addr *from,
              uint64_t key, const pl_hs_connect *h)
{
    uint32_t slot;
    if (pl_connmap_get(&core->remotes, key, &slot) != PARLEY_OK ||
        slot >= core->peers.n) {
        return 0;
    }
    pl_conn *c = core->peers.s[slot].conn;
    if (!c || c->remote_id != h->client_id ||
        memcmp(c->nonce, h->nonce, sizeof c->nonce) != 0 ||
        !parley_addr_equal(&c->addr, from)) {
        return 0;
    }
    c->accept_pending = 1;
    pl_conn_update_due(c, now);
    return 1;
}

/* The ACCEPT bytes the confirmation MAC covers (all before it). */
#define CONFIRM_COVERS (PL_HS_ACCEPT_LEN + PL_HS_KEY_LEN)

/* Server: fills c->acc, and with encryption draws the ephemeral key,
   derives the session keys, the confirmation MAC and the signature. */
static int
server_accept_setup(pl_core *core, pl_conn *c, const pl_hs_connect *h)
{
    pl_hs_accept *a = &c->acc;
    memset(a, 0, sizeof *a);
    a->client_id = c->remote_id;
    memcpy(a->nonce, c->nonce, sizeof a->nonce);
    a->server_id = c->local_id;
    a->mtu = (uint16_t)c->mtu;
    a->channels = c->channels;
    a->max_message = core->cfg.max_message;
    if ((h->flags & PL_HS_FLAG_PMTU) && pl_core_probe_max(&core->cfg) != 0) {
        a->flags = PL_HS_FLAG_PMTU;
        a->max_mtu = (uint16_t)pl_core_probe_max(&core->cfg);
    }
    if (!(h->flags & PL_HS_FLAG_ENCRYPT)) {
        return PARLEY_OK;
    }
    a->flags |= h->flags & (PL_HS_FLAG_ENCRYPT | PL_HS_FLAG_PSK |
                            PL_HS_FLAG_TOKEN | PL_HS_FLAG_IDENTITY);
    uint8_t sk[32];
    int rc = pl_core_random(core, sk, sizeof sk);
    if (rc != PARLEY_OK) {
        return rc;
    }
    pl_crypto_x25519_public(a->pk, sk);
    pl_hs_transcript t = {h->pk, a->pk, h->client_id, h->nonce, c->local_id};
    pl_session_keys k;
    rc =
        pl_crypto_schedule(sk, h->pk, &t, core->has_psk ? core->psk : NULL, &k);
    pl_crypto_wipe(sk, sizeof sk);
    if (rc != 0) {
        return PARLEY_EPROTO; /* a low-order key: no secret to share */
    }
    memcpy(c->key_tx, k.s2c, sizeof c->key_tx);
    memcpy(c->key_rx, k.c2s, sizeof c->key_rx);
    uint8_t buf[PL_HS_ACCEPT_MAX_LEN];
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf);
    if (pl_hs_accept_encode(&w, a) != PARLEY_OK) {
        pl_crypto_wipe(&k, sizeof k);
        return PARLEY_EPROTO;
    }
    pl_crypto_mac16(k.confirm, buf, CONFIRM_COVERS, a->confirm);
    pl_crypto_wipe(&k, sizeof k);
    if (a->flags & PL_HS_FLAG_IDENTITY) {
        uint8_t th[32];
        pl_crypto_transcript_hash(&t, th);
        pl_crypto_sign(core->id_sk, th, sizeof th, a->sig);
    }
    c->enc = 1;
    return PARLEY_OK;
}

/* Creates the server's peer for a proven client. */
static void
accept_client(pl_core *core, uint64_t now, const parley_addr *from,
              const pl_hs_connect *h, uint64_t key)
{
    pl_conn *c;
    if (pl_conn_create(core, now, from, 0, &c) != PARLEY_OK) {
        return; /* out of memory: the client will retry */
    }
    c->remote_id = h->client_id;
    memcpy(c->nonce, h->nonce, sizeof c->nonce);
    uint32_t mtu = h->mtu < core->cfg.mtu ? h->mtu : core->cfg.mtu;
    uint8_t chans = h->channels < core->cfg.channel_count
                        ? h->channels
                        : core->cfg.channel_count;
    parley_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = PARLEY_EVENT_CONNECT;
    ev.peer = c->id;
    ev.addr = *from;
    if (pl_connmap_put(&core->remotes, key, pl_peer_slot(c->id)) != PARLEY_OK ||
        pl_conn_established(c, now, mtu, chans, h->max_message) != PARLEY_OK ||
        server_accept_setup(core, c, h) != PARLEY_OK ||
        pl_core_push_event(core, &ev) != PARLEY_OK) {
        c->remote_key = 0;
        pl_connmap_del(&core->remotes, key);
        pl_core_close(core, c, PARLEY_EVENT_NONE, PARLEY_REASON_LOCAL, 0,
                      PARLEY_PEER_DISCONNECTED);
        return;
    }
    pl_conn_pmtu_init(c, (c->acc.flags & PL_HS_FLAG_PMTU) ? h->max_mtu : 0,
                      now);
    c->remote_key = key;
    c->accept_pending = 1;
    pl_conn_update_due(c, now);
}

void
pl_handshake_on_response(pl_core *core, uint64_t now, const parley_addr *from,
                         const uint8_t *data, size_t len)
{
    pl_hs_connect h;
    uint8_t cookie[PL_COOKIE_LEN];
    int rc = pl_hs_response_decode(data, len, &h, cookie);
    if (!admit(core, now, from, rc, &h)) {
        return;
    }
    if (!cookie_valid(core, now, from, &h, cookie)) {
        core->st.dropped_cookie++;
        return;
    }
    uint64_t key = pl_handshake_remote_key(from, h.client_id);
    if (resend_accept(core, now, from, key, &h) ||
        refuse(core, now, from, &h)) {
        return;
    }
    if (core->nconns >= core->cfg.max_peers) {
        send_reject(core, from, h.client_id, h.nonce, PL_REJECT_FULL, 0);
        return;
    }
    uint32_t code = 0;
    if (core->cfg.accept_cb &&
        !core->cfg.accept_cb(core->cfg.accept_user, from, h.user, h.user_len,
                             &code)) {
        send_reject(core, from, h.client_id, h.nonce, PL_REJECT_APP, code);
        return;
    }
    accept_client(core, now, from, &h, key);
}

int
pl_handshake_client_init(pl_conn *c)
{
    pl_core *core = c->core;
    c->hs_flags = pl_core_probe_max(&core->cfg) != 0 ? PL_HS_FLAG_PMTU : 0;
    if (!core->cfg.encrypt) {
        return PARLEY_OK;
    }
    int rc = pl_core_random(core, c->eph_sk, sizeof c->eph_sk);
    if (rc != PARLEY_OK) {
        return rc;
    }
    pl_crypto_x25519_public(c->eph_pk, c->eph_sk);
    c->hs_flags |= PL_HS_FLAG_ENCRYPT;
    if (core->has_psk) {
        c->hs_flags |= PL_HS_FLAG_PSK;
        pl_crypto_psk_mac(core->psk, c->eph_pk, c->local_id, c->nonce,
                          c->psk_mac);
    }
    if (core->has_token) {
        c->hs_flags |= PL_HS_FLAG_TOKEN;
    }
    if (core->has_pin) {
        c->hs_flags |= PL_HS_FLAG_IDENTITY;
    }
    return PARLEY_OK;
}

/* Client: checks the ACCEPT's key share, confirmation and identity and
   takes the session keys. 0, or the PARLEY_SECURITY_* detail. */
static uint32_t
client_accept_keys(pl_conn *c, const pl_hs_accept *a, const uint8_t *data)
{
    pl_core *core = c->core;
    if (!(c->hs_flags & PL_HS_FLAG_ENCRYPT)) {
        return (a->flags & PL_HS_FLAG_ENCRYPT) ? PARLEY_SECURITY_ENCRYPTION : 0;
    }
    if (!(a->flags & PL_HS_FLAG_ENCRYPT)) {
        return PARLEY_SECURITY_ENCRYPTION;
    }
    pl_hs_transcript t = {c->eph_pk, a->pk, c->local_id, c->nonce,
                          a->server_id};
    pl_session_keys k;
    if (pl_crypto_schedule(c->eph_sk, a->pk, &t,
                           core->has_psk ? core->psk : NULL, &k) != 0) {
        return PARLEY_SECURITY_CONFIRM;
    }
    uint8_t mac[PL_HS_CONFIRM_LEN];
    pl_crypto_mac16(k.confirm, data, CONFIRM_COVERS, mac);
    uint32_t detail =
        pl_crypto_equal16(mac, a->confirm) ? 0 : PARLEY_SECURITY_CONFIRM;
    if (detail == 0 && core->has_pin) {
        uint8_t th[32];
        pl_crypto_transcript_hash(&t, th);
        if (!(a->flags & PL_HS_FLAG_IDENTITY) ||
            !pl_crypto_verify(core->pin, th, sizeof th, a->sig)) {
            detail = PARLEY_SECURITY_IDENTITY;
        }
    }
    if (detail == 0) {
        memcpy(c->key_tx, k.c2s, sizeof c->key_tx);
        memcpy(c->key_rx, k.s2c, sizeof c->key_rx);
        c->enc = 1;
    }
    pl_crypto_wipe(&k, sizeof k);
    return detail;
}

/* The connecting client a handshake reply is for, or NULL. */
static pl_conn *
client_for(pl_core *core, const parley_addr *from, uint32_t id,
           const uint8_t nonce[8])
{
    uint32_t slot;
    if (pl_connmap_get(&core->ids, id, &slot) != PARLEY_OK ||
        slot >= core->peers.n) {
        return NULL;
    }
    pl_conn *c = core->peers.s[slot].conn;
    if (!c || !c->is_client || c->state != PARLEY_PEER_CONNECTING ||
        !parley_addr_equal(&c->addr, from) ||
        memcmp(c->nonce, nonce, sizeof c->nonce) != 0) {
        return NULL;
    }
    return c;
}

/* An RTT sample from an exchange that was not retransmitted. */
static void
handshake_rtt(pl_conn *c, uint64_t now)
{
    if (c->hs_tries == 1 && now > c->hs_sent_time) {
        pl_rtt_sample(&c->rtt, now - c->hs_sent_time, 0, 0);
    }
}

void
pl_handshake_on_challenge(pl_core *core, uint64_t now, const parley_addr *from,
                          const uint8_t *data, size_t len)
{
    pl_hs_challenge ch;
    if (pl_hs_challenge_decode(data, len, &ch) != PARLEY_OK) {
        core->st.dropped_malformed++;
        return;
    }
    pl_conn *c = client_for(core, from, ch.client_id, ch.nonce);
    if (!c) {
        core->st.dropped_unknown++;
        return;
    }
    if (c->hs_phase == 0) {
        handshake_rtt(c, now);
        c->hs_phase = 1;
        c->hs_tries = 0;
        c->hs_interval = PL_HS_RETRY_US;
        c->hs_next = now;
    }
    memcpy(c->cookie, ch.cookie, sizeof c->cookie);
    c->hs_cookie_time = now;
    c->last_recv = now;
    pl_conn_update_due(c, now);
}

void
pl_handshake_on_accept(pl_core *core, uint64_t now, const parley_addr *from,
                       const uint8_t *data, size_t len)
{
    pl_hs_accept a;
    if (pl_hs_accept_decode(data, len, &a) != PARLEY_OK) {
        core->st.dropped_malformed++;
        return;
    }
    pl_conn *c = client_for(core, from, a.client_id, a.nonce);
    if (!c || c->hs_phase != 1) {
        core->st.dropped_unknown++;
        return;
    }
    uint32_t detail = client_accept_keys(c, &a, data);
    if (detail != 0) {
        PL_LOG_INFO("core", "server failed the security checks");
        pl_core_close(core, c, PARLEY_EVENT_CONNECT_FAILED,
                      PARLEY_REASON_SECURITY, detail, PARLEY_PEER_DISCONNECTED);
        return;
    }
    handshake_rtt(c, now);
    uint32_t mtu = a.mtu < core->cfg.mtu ? a.mtu : core->cfg.mtu;
    uint8_t chans = a.channels < core->cfg.channel_count
                        ? a.channels
                        : core->cfg.channel_count;
    c->remote_id = a.server_id;
    parley_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = PARLEY_EVENT_CONNECT;
    ev.peer = c->id;
    ev.addr = c->addr;
    if (pl_conn_established(c, now, mtu, chans, a.max_message) != PARLEY_OK ||
        pl_core_push_event(core, &ev) != PARLEY_OK) {
        pl_core_close(core, c, PARLEY_EVENT_CONNECT_FAILED, PARLEY_REASON_LOCAL,
                      0, PARLEY_PEER_DISCONNECTED);
        return;
    }
    /* A server that did not echo the flag does not probe; neither do we
       (its receive buffers may be no larger than the mtu). */
    uint32_t peer_max =
        (a.flags & PL_HS_FLAG_PMTU) && (c->hs_flags & PL_HS_FLAG_PMTU)
            ? a.max_mtu
            : 0;
    pl_conn_pmtu_init(c, peer_max, now);
    pl_conn_update_due(c, now);
}

void
pl_handshake_on_reject(pl_core *core, uint64_t now, const parley_addr *from,
                       const uint8_t *data, size_t len)
{
    (void)now;
    pl_hs_reject r;
    if (pl_hs_reject_decode(data, len, &r) != PARLEY_OK) {
        core->st.dropped_malformed++;
        return;
    }
    pl_conn *c = client_for(core, from, r.client_id, r.nonce);
    if (!c) {
        core->st.dropped_unknown++;
        return;
    }
    parley_reason reason;
    switch (r.reason) {
    case PL_REJECT_VERSION:
        reason = PARLEY_REASON_VERSION;
        break;
    case PL_REJECT_FULL:
        reason = PARLEY_REASON_FULL;
        break;
    case PL_REJECT_APP:
        reason = PARLEY_REASON_REJECTED;
        break;
    case PL_REJECT_SECURITY:
        reason = PARLEY_REASON_SECURITY;
        break;
    default:
        reason = PARLEY_REASON_PROTOCOL;
        break;
    }
    pl_core_close(core, c, PARLEY_EVENT_CONNECT_FAILED, reason, r.app_code,
                  PARLEY_PEER_DISCONNECTED);
}

int
pl_handshake_build_client(pl_conn *c, uint64_t now, uint8_t *buf, size_t cap,
                          size_t *len)
{
    const parley_host_config *cfg = &c->core->cfg;
    if (now < c->hs_next) {
        return 0;
    }
    if (c->hs_phase == 1 && now - c->hs_cookie_time >= PL_HS_COOKIE_USE_US) {
        /* The cookie may have expired: start over with CONNECT. */
        c->hs_phase = 0;
        c->hs_tries = 0;
    }
    /* Advance the timer first: a buffer too small must not spin. The
       retry waits 3/4 to 5/4 of the interval at random, so clients that
       all started at once (a server restart, a benchmark) do not retry
       in lock step into the same full socket buffer. */
    uint16_t r = 0;
    (void)pl_core_random(c->core, &r, sizeof r);
    c->hs_next = now + c->hs_interval * 3 / 4 + c->hs_interval * r / 131072u;
    c->hs_interval = c->hs_interval * 2 < PL_HS_RETRY_MAX_US
                         ? c->hs_interval * 2
                         : PL_HS_RETRY_MAX_US;
    pl_hs_connect h;
    memset(&h, 0, sizeof h);
    h.version = PL_PROTO_VERSION;
    h.client_id = c->local_id;
    memcpy(h.nonce, c->nonce, sizeof h.nonce);
    h.mtu = cfg->mtu;
    h.channels = cfg->channel_count;
    h.max_message = cfg->max_message;
    h.user_len = c->user_len;
    h.user = c->user_len ? c->user : NULL;
    h.flags = c->hs_flags;
    h.max_mtu = (uint16_t)pl_core_probe_max(cfg);
    memcpy(h.pk, c->eph_pk, sizeof h.pk);
    memcpy(h.psk_mac, c->psk_mac, sizeof h.psk_mac);
    memcpy(h.token, c->core->token, sizeof h.token);
    pl_wr w;
    pl_wr_init(&w, buf, cap);
    int rc = c->hs_phase == 0 ? pl_hs_connect_encode(&w, &h)
                              : pl_hs_response_encode(&w, &h, c->cookie);
    if (rc != PARLEY_OK) {
        return 0;
    }
    c->hs_sent_time = now;
    c->hs_tries++;
    c->st.packets_out++;
    c->st.bytes_out += w.off;
    *len = w.off;
    return 1;
}

int
pl_handshake_build_accept(pl_conn *c, uint8_t *buf, size_t cap, size_t *len)
{
    pl_wr w;
    pl_wr_init(&w, buf, cap);
    c->accept_pending = 0;
    if (pl_hs_accept_encode(&w, &c->acc) != PARLEY_OK) {
        return 0;
    }
    c->st.packets_out++;
    c->st.bytes_out += w.off;
    *len = w.off;
    return 1;
}
