/*
 * Fuzz target: the handshake with its security extension. The input runs
 * through every handshake decoder (values re-encoded must decode the same),
 * then, as a datagram, into servers in each access mode with fixed keys
 * and a fixed random source: every reply must be no larger than the input
 * (no amplification), and a CONNECT that earns a CHALLENGE is completed
 * with the cookie as a RESPONSE, so the stateful accept path (key
 * exchange, PSK, token, identity) is reached. Last, the input is handed to
 * a connecting client as the server's reply, with the client's id and
 * nonce patched in, so its CHALLENGE/ACCEPT/REJECT checks are reached.
 *
 * Input: byte 0 picks the server mode (bits 0-1: open, PSK, token,
 * identity; bit 2: client pins the identity), the rest is the datagram.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "crypto/crypto.h"
#include "parley/error.h"
#include "parley/security.h"
#include "wire/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #c);                                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define NOW_US (UINT64_C(1000) * 1000000u)

/* A deterministic "random" source: a counter through a mixer. */
static int
det_random(void *user, void *buf, size_t len)
{
    uint64_t *st = user;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*st += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        p[i] = (uint8_t)(z ^ (z >> 31));
    }
    return PARLEY_OK;
}

static uint64_t
fixed_unix(void *user)
{
    (void)user;
    return 1800000000u;
}

/* Fixed keys: PSK 00..1f; identity and token backend from seed 2a..2a. */
typedef struct keys_ {
    uint8_t psk[32], id_pk[32], id_sk[64], token[PARLEY_TOKEN_SIZE];
} keys_;

static const keys_ *
keys(void)
{
    static keys_ k;
    static int done;
    if (!done) {
        FUZZ_CHECK(pl_crypto_init() == 0);
        for (int i = 0; i < 32; i++) {
            k.psk[i] = (uint8_t)i;
        }
        uint8_t seed[32];
        memset(seed, 0x2a, sizeof seed);
        pl_crypto_sign_seed_keypair(k.id_pk, k.id_sk, seed);
        pl_crypto_token_make(k.id_sk, 1800000100u, 7, k.token);
        done = 1;
    }
    return &k;
}

static void
config(parley_host_config *cfg, int mode, int server)
{
    const keys_ *k = keys();
    memset(cfg, 0, sizeof *cfg);
    cfg->accept_incoming = server;
    cfg->max_peers = 4;
    cfg->channel_count = 2;
    cfg->mtu = 1200;
    cfg->max_message = 1 << 20;
    cfg->connect_timeout_ms = 5000;
    cfg->ping_interval_ms = 250;
    cfg->timeout_ms = 5000;
    cfg->disconnect_timeout_ms = 1000;
    cfg->recv_window = 1 << 20;
    cfg->peer_memory = 1 << 20;
    cfg->host_memory = 4 << 20;
    cfg->encrypt = 1;
    cfg->handshake_rate = 1000;
    cfg->unix_time = fixed_unix;
    switch (mode & 3) {
    case 1:
        cfg->psk = k->psk;
        break;
    case 2:
        if (server) {
            cfg->token_key = k->id_pk;
        } else {
            cfg->connect_token = k->token;
        }
        break;
    case 3:
        if (server) {
            cfg->identity_secret = k->id_sk;
        } else if (mode & 4) {
            cfg->pinned_key = k->id_pk;
        }
        break;
    default:
        break;
    }
}

/* Takes every datagram the core has; each must be <= limit bytes. Keeps
   the last CHALLENGE's cookie in *cookie (returns 1 if there was one). */
static int
drain(pl_core *core, uint64_t now, size_t limit, uint8_t cookie[PL_COOKIE_LEN])
{
    static uint8_t out[2048];
    size_t len;
    parley_addr to;
    int got = 0;
    while (pl_core_next_datagram(core, now, out, sizeof out, &len, &to) ==
           PARLEY_OK) {
        FUZZ_CHECK(len <= limit);
        pl_hs_challenge ch;
        if (cookie && pl_hs_challenge_decode(out, len, &ch) == PARLEY_OK) {
            memcpy(cookie, ch.cookie, PL_COOKIE_LEN);
            got = 1;
        }
    }
    parley_event ev;
    while (pl_core_poll_event(core, &ev) == PARLEY_OK) {
        pl_core_release_event(core, &ev);
    }
    return got;
}

/* Every decoder on the raw bytes; what decodes re-encodes the same. */
static void
decoders(const uint8_t *d, size_t n)
{
    static uint8_t buf[PL_HANDSHAKE_MIN_SIZE + 512];
    pl_hs_connect c, c2;
    uint8_t cookie[PL_COOKIE_LEN];
    if (pl_hs_connect_decode(d, n, &c) == PARLEY_OK ||
        pl_hs_response_decode(d, n, &c, cookie) == PARLEY_OK) {
        pl_wr w;
        pl_wr_init(&w, buf, sizeof buf);
        FUZZ_CHECK(pl_hs_connect_encode(&w, &c) == PARLEY_OK);
        FUZZ_CHECK(pl_hs_connect_decode(buf, w.off, &c2) == PARLEY_OK);
        FUZZ_CHECK(c2.flags == c.flags && c2.user_len == c.user_len);
        size_t ext = pl_hs_ext_len(c.flags);
        FUZZ_CHECK(memcmp(buf + 32 + c.user_len, d + 32 + c.user_len, ext) ==
                   0);
    }
    pl_hs_accept a, a2;
    if (pl_hs_accept_decode(d, n, &a) == PARLEY_OK) {
        FUZZ_CHECK(n == pl_hs_accept_len(a.flags));
        pl_wr w;
        pl_wr_init(&w, buf, sizeof buf);
        FUZZ_CHECK(pl_hs_accept_encode(&w, &a) == PARLEY_OK);
        FUZZ_CHECK(w.off == n && memcmp(buf, d, n) == 0);
        FUZZ_CHECK(pl_hs_accept_decode(buf, w.off, &a2) == PARLEY_OK);
    }
    pl_hs_challenge ch;
    pl_hs_reject r;
    (void)pl_hs_challenge_decode(d, n, &ch);
    (void)pl_hs_reject_decode(d, n, &r);
}

/* The server side: the datagram, then (after a CHALLENGE) its RESPONSE. */
static void
server(int mode, const uint8_t *d, size_t n)
{
    parley_host_config cfg;
    config(&cfg, mode, 1);
    uint64_t rnd = 1;
    pl_core *core;
    FUZZ_CHECK(pl_core_create(&cfg, det_random, &rnd, NOW_US, &core) ==
               PARLEY_OK);
    parley_addr from;
    parley_addr_loopback(PARLEY_AF_INET, 50000, &from);
    pl_core_on_datagram(core, NOW_US, &from, d, n);
    uint8_t cookie[PL_COOKIE_LEN];
    pl_hs_connect h;
    if (drain(core, NOW_US, n, cookie) &&
        pl_hs_connect_decode(d, n, &h) == PARLEY_OK) {
        static uint8_t resp[PL_HANDSHAKE_MIN_SIZE + 512];
        pl_wr w;
        pl_wr_init(&w, resp, sizeof resp);
        FUZZ_CHECK(pl_hs_response_encode(&w, &h, cookie) == PARLEY_OK);
        pl_core_on_datagram(core, NOW_US + 1000, &from, resp, w.off);
        drain(core, NOW_US + 1000, w.off, NULL);
        /* Again: a repeated RESPONSE re-sends ACCEPT, creates nothing. */
        pl_core_on_datagram(core, NOW_US + 2000, &from, resp, w.off);
        drain(core, NOW_US + 2000, w.off, NULL);
        pl_core_stats st;
        pl_core_get_stats(core, &st);
        FUZZ_CHECK(st.peers <= 1);
    }
    pl_core_destroy(core);
}

/* The client side: the input as the server's answer to its CONNECT. */
static void
client(int mode, const uint8_t *d, size_t n)
{
    if (n < 13 || n > 1024) {
        return;
    }
    parley_host_config cfg;
    config(&cfg, mode, 0);
    uint64_t rnd = 2;
    pl_core *core;
    FUZZ_CHECK(pl_core_create(&cfg, det_random, &rnd, NOW_US, &core) ==
               PARLEY_OK);
    parley_addr srv;
    parley_addr_loopback(PARLEY_AF_INET, 40001, &srv);
    parley_peer p;
    FUZZ_CHECK(pl_core_connect(core, NOW_US, &srv, NULL, 0, &p) == PARLEY_OK);
    static uint8_t out[2048], in[1024];
    size_t len;
    parley_addr to;
    FUZZ_CHECK(pl_core_next_datagram(core, NOW_US, out, sizeof out, &len,
                                     &to) == PARLEY_OK);
    pl_hs_connect h;
    FUZZ_CHECK(pl_hs_connect_decode(out, len, &h) == PARLEY_OK);
    memcpy(in, d, n);
    /* Patch in the attempt's id and nonce so the reply is "ours". */
    in[1] = (uint8_t)(h.client_id >> 24);
    in[2] = (uint8_t)(h.client_id >> 16);
    in[3] = (uint8_t)(h.client_id >> 8);
    in[4] = (uint8_t)h.client_id;
    memcpy(in + 5, h.nonce, 8);
    if (in[0] == PL_PKT_ACCEPT) {
        /* An ACCEPT only counts after a CHALLENGE: send one first. */
        pl_hs_challenge ch;
        ch.client_id = h.client_id;
        memcpy(ch.nonce, h.nonce, 8);
        memset(ch.cookie, 0x11, sizeof ch.cookie);
        pl_wr w;
        pl_wr_init(&w, out, sizeof out);
        FUZZ_CHECK(pl_hs_challenge_encode(&w, &ch) == PARLEY_OK);
        pl_core_on_datagram(core, NOW_US + 10, &srv, out, w.off);
        drain(core, NOW_US + 10, PL_HANDSHAKE_MIN_SIZE + 512, NULL);
    }
    pl_core_on_datagram(core, NOW_US + 20, &srv, in, n);
    drain(core, NOW_US + 20, 1200, NULL);
    pl_core_destroy(core);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    int mode = data[0];
    decoders(data + 1, size - 1);
    server(mode, data + 1, size - 1);
    client(mode, data + 1, size - 1);
    return 0;
}
