/*
 * Security of the engine in virtual time: encryption on by default and
 * really on the wire, mismatches failing with PARLEY_REASON_SECURITY, the
 * pre-shared key, identity pinning, connect tokens, a man in the middle,
 * tampered and forged packets, a 4 GiB announcement, the handshake rate
 * limit and shedding the peer that hoards host memory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_int.h"
#include "crypto/crypto.h"
#include "parley/security.h"
#include "pt.h"
#include "simnet.h"
#include "util/alloc.h"

typedef struct sec_ {
    int connected[2], failed[2], discs[2], receives[2];
    parley_reason reason[2]; /* of the last failure or disconnect */
    uint32_t code[2];
    parley_peer b_peer;
    uint8_t last[256];
    size_t last_len;
} sec_;

static void
on_ev(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    sec_ *s = user;
    switch (ev->type) {
    case PARLEY_EVENT_CONNECT:
        s->connected[side]++;
        if (side == 1) {
            s->b_peer = ev->peer;
        }
        break;
    case PARLEY_EVENT_CONNECT_FAILED:
        s->failed[side]++;
        s->reason[side] = ev->reason;
        s->code[side] = ev->app_code;
        break;
    case PARLEY_EVENT_DISCONNECT:
        s->discs[side]++;
        s->reason[side] = ev->reason;
        break;
    case PARLEY_EVENT_RECEIVE:
        s->receives[side]++;
        s->last_len = ev->len < sizeof s->last ? ev->len : sizeof s->last;
        memcpy(s->last, ev->data, s->last_len);
        break;
    default:
        break;
    }
}

static int
settled(sn_net *n, void *arg)
{
    (void)n;
    sec_ *s = arg;
    return (s->connected[0] && s->connected[1]) || s->failed[0];
}

/* Connects a (ca) to b (cb) over a 5 ms link; leaves n running. */
static void
attempt(sn_net *n, sec_ *s, uint64_t seed, const parley_host_config *ca,
        const parley_host_config *cb, parley_peer *a_peer)
{
    parley_sim_config link;
    sn_link(&link, 5);
    memset(s, 0, sizeof *s);
    PT_OK(sn_init(n, seed, ca, cb, &link, &link));
    n->on_event = on_ev;
    n->user = s;
    PT_OK(
        pl_core_connect(n->s[0].core, n->now, &n->s[1].addr, NULL, 0, a_peer));
    PT_TRUE(sn_run(n, n->now + 10 * SN_SEC, settled, s));
}

/* a fails to connect with PARLEY_REASON_SECURITY and detail `code`; the
   server keeps no peer. */
static void
expect_refused(uint64_t seed, const parley_host_config *ca,
               const parley_host_config *cb, uint32_t code)
{
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, seed, ca, cb, &ap);
    PT_EQ_INT(s.failed[0], 1);
    PT_EQ_INT(s.connected[0], 0);
    PT_EQ_INT(s.reason[0], PARLEY_REASON_SECURITY);
    PT_EQ_INT(s.code[0], code);
    PT_EQ_INT(pl_core_peer_state(n.s[0].core, ap), PARLEY_PEER_DISCONNECTED);
    if (code != PARLEY_SECURITY_IDENTITY && code != PARLEY_SECURITY_CONFIRM) {
        /* Refused at CONNECT: the server never made a peer. */
        PT_EQ_INT(s.connected[1], 0);
        pl_core_stats st;
        pl_core_get_stats(n.s[1].core, &st);
        PT_EQ_U64(st.peers, 0);
        PT_GT_U64(st.rejected_security, 0);
    }
    sn_free(&n);
}

static int
got_one(sn_net *n, void *arg)
{
    (void)n;
    return ((sec_ *)arg)->receives[1] > 0;
}

/* Sends text a -> b and waits for it. */
static void
deliver(sn_net *n, sec_ *s, parley_peer ap, const char *text)
{
    int before = s->receives[1];
    PT_OK(pl_core_send(n->s[0].core, n->now, ap, 0, text, strlen(text), 0, NULL,
                       NULL));
    s->receives[1] = 0;
    PT_TRUE(sn_run(n, n->now + 5 * SN_SEC, got_one, s));
    PT_EQ_INT(s->last_len, strlen(text));
    PT_EQ_MEM(s->last, text, strlen(text));
    s->receives[1] += before;
}

/* ---- encryption on the wire ---- */

typedef struct sniff_ {
    const char *needle;
    int seen_plain; /* datagrams with the needle in clear */
    int datagrams;
} sniff_;

static int
sniff(sn_net *n, int from, uint8_t *buf, size_t *len, size_t cap, void *user)
{
    (void)n;
    (void)from;
    (void)cap;
    sniff_ *sn = user;
    size_t k = strlen(sn->needle);
    sn->datagrams++;
    for (size_t i = 0; i + k <= *len; i++) {
        if (memcmp(buf + i, sn->needle, k) == 0) {
            sn->seen_plain++;
            break;
        }
    }
    return 1;
}

/* Returns how many datagrams carried the message text in clear. */
static int
run_sniffed(uint64_t seed, int encrypt)
{
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    ca.encrypt = cb.encrypt = encrypt;
    sn_net n;
    sec_ s;
    parley_peer ap;
    sniff_ sn = {"attack at dawn, bring the cake", 0, 0};
    attempt(&n, &s, seed, &ca, &cb, &ap);
    PT_EQ_INT(s.connected[0], 1);
    n.tamper = sniff;
    n.tamper_user = &sn;
    deliver(&n, &s, ap, sn.needle);
    PT_GT_INT(sn.datagrams, 0);
    parley_peer_stats ps;
    PT_OK(pl_core_peer_stats(n.s[0].core, ap, &ps));
    /* The MTU budget includes the tag: no packet is over the mtu. */
    PT_LE_INT(ps.mtu, 1200);
    sn_free(&n);
    return sn.seen_plain;
}

PT_TEST(encryption_is_on_by_default_and_hides_the_payload)
{
    parley_host_config cfg;
    sn_config(&cfg);
    PT_EQ_INT(cfg.encrypt, 1);
    PT_EQ_INT(run_sniffed(501, 1), 0);
    /* The same exchange in plaintext shows the text: the sniffer works. */
    PT_GT_INT(run_sniffed(501, 0), 0);
}

PT_TEST(encryption_mismatch_fails_clearly)
{
    pt_seed(502);
    parley_host_config on, off;
    sn_config(&on);
    sn_config(&off);
    off.encrypt = 0;
    expect_refused(502, &on, &off, PARLEY_SECURITY_ENCRYPTION);
    expect_refused(503, &off, &on, PARLEY_SECURITY_ENCRYPTION);
}

static void
full_pipe(size_t len)
{
    /* Big messages are fragmented to fit mtu - header - tag. */
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, 504, &ca, &cb, &ap);
    char *big = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        big[i] = (char)('a' + i % 26);
    }
    big[len] = 0;
    PT_OK(pl_core_send(n.s[0].core, n.now, ap, 0, big, len, 0, NULL, NULL));
    s.receives[1] = 0;
    PT_TRUE(sn_run(&n, n.now + 10 * SN_SEC, got_one, &s));
    PT_EQ_MEM(s.last, big, s.last_len);
    free(big);
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.dropped_auth, 0);
    sn_free(&n);
}

PT_TEST(large_messages_cross_encrypted)
{
    pt_seed(504);
    full_pipe(100000);
    full_pipe(1200 - 9 - 16 - 4);
}

/* ---- pre-shared key ---- */

static const uint8_t psk_a[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const uint8_t psk_b[32] = {1, 2, 3, 4, 5, 6, 7, 8, 10};

PT_TEST(psk_admits_only_the_key_holders)
{
    pt_seed(510);
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    ca.psk = psk_a;
    cb.psk = psk_a;
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, 510, &ca, &cb, &ap);
    PT_EQ_INT(s.connected[0], 1);
    deliver(&n, &s, ap, "with the key");
    sn_free(&n);

    ca.psk = psk_b; /* wrong key */
    expect_refused(511, &ca, &cb, PARLEY_SECURITY_PSK);
    ca.psk = NULL; /* no key */
    expect_refused(512, &ca, &cb, PARLEY_SECURITY_PSK);
    ca.psk = psk_a; /* a key the open server does not have */
    cb.psk = NULL;
    expect_refused(513, &ca, &cb, PARLEY_SECURITY_PSK);
}

PT_TEST(psk_requires_encryption)
{
    parley_host_config cfg;
    sn_config(&cfg);
    cfg.encrypt = 0;
    cfg.psk = psk_a;
    pl_rng rng;
    pl_rng_seed(&rng, 1);
    pl_core *c = NULL;
    PT_ERR(pl_core_create(&cfg, sn_random, &rng, 0, &c), PARLEY_EINVAL);
}

/* ---- identity pinning and a man in the middle ---- */

PT_TEST(pinned_identity)
{
    pt_seed(520);
    uint8_t pub[32], sk[64], other_pub[32], other_sk[64];
    PT_OK(parley_keypair_generate(pub, sk));
    PT_OK(parley_keypair_generate(other_pub, other_sk));
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    cb.identity_secret = sk;
    ca.pinned_key = pub;
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, 520, &ca, &cb, &ap);
    PT_EQ_INT(s.connected[0], 1);
    deliver(&n, &s, ap, "pinned");
    sn_free(&n);

    ca.pinned_key = other_pub; /* the server is not who we pinned */
    expect_refused(521, &ca, &cb, PARLEY_SECURITY_IDENTITY);
    cb.identity_secret = NULL; /* pinned, but the server has no identity */
    ca.pinned_key = pub;
    expect_refused(522, &ca, &cb, PARLEY_SECURITY_NO_IDENTITY);
    /* A server with an identity still serves clients that do not pin. */
    cb.identity_secret = sk;
    ca.pinned_key = NULL;
    attempt(&n, &s, 523, &ca, &cb, &ap);
    PT_EQ_INT(s.connected[0], 1);
    sn_free(&n);
}

/* Replaces the server's key share in ACCEPT, as a man in the middle
   would (he cannot fix the confirmation MAC). */
static int
swap_accept_key(sn_net *n, int from, uint8_t *buf, size_t *len, size_t cap,
                void *user)
{
    (void)n;
    (void)cap;
    int *hits = user;
    if (from == 1 && *len >= PL_HS_ACCEPT_ENC_LEN && buf[0] == PL_PKT_ACCEPT) {
        uint8_t sk[32];
        memset(sk, 0x42, sizeof sk);
        pl_crypto_x25519_public(buf + PL_HS_ACCEPT_LEN, sk);
        (*hits)++;
    }
    return 1;
}

PT_TEST(man_in_the_middle_key_swap_is_detected)
{
    pt_seed(530);
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config link;
    sn_link(&link, 5);
    sn_net n;
    sec_ s;
    memset(&s, 0, sizeof s);
    PT_OK(sn_init(&n, 530, &cfg, &cfg, &link, &link));
    int hits = 0;
    n.on_event = on_ev;
    n.user = &s;
    n.tamper = swap_accept_key;
    n.tamper_user = &hits;
    parley_peer ap;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &ap));
    PT_TRUE(sn_run(&n, n.now + 10 * SN_SEC, settled, &s));
    PT_GT_INT(hits, 0);
    PT_EQ_INT(s.connected[0], 0);
    PT_EQ_INT(s.reason[0], PARLEY_REASON_SECURITY);
    PT_EQ_INT(s.code[0], PARLEY_SECURITY_CONFIRM);
    sn_free(&n);
}

/* ---- connect tokens ---- */

static uint64_t g_unix_now;

static uint64_t
fake_unix(void *user)
{
    (void)user;
    return g_unix_now;
}

PT_TEST(connect_tokens_expire_and_resist_tampering)
{
    pt_seed(540);
    uint8_t pub[32], sk[64], token[PARLEY_TOKEN_SIZE];
    PT_OK(parley_keypair_generate(pub, sk));
    g_unix_now = 1800000000u;
    PT_OK(parley_token_create(sk, g_unix_now + 30, 77, token));
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    cb.token_key = pub;
    cb.unix_time = fake_unix;
    ca.connect_token = token;
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, 540, &ca, &cb, &ap);
    PT_EQ_INT(s.connected[0], 1);
    sn_free(&n);

    g_unix_now += 31; /* expired */
    expect_refused(541, &ca, &cb, PARLEY_SECURITY_TOKEN);
    g_unix_now -= 31;
    uint8_t bad[PARLEY_TOKEN_SIZE];
    memcpy(bad, token, sizeof bad);
    bad[15] ^= 1; /* another user id */
    ca.connect_token = bad;
    expect_refused(542, &ca, &cb, PARLEY_SECURITY_TOKEN);
    memcpy(bad, token, sizeof bad);
    bad[7] ^= 0x80; /* a later expiry */
    expect_refused(543, &ca, &cb, PARLEY_SECURITY_TOKEN);
    ca.connect_token = NULL; /* none */
    expect_refused(544, &ca, &cb, PARLEY_SECURITY_TOKEN);
    /* Signed by someone else. */
    uint8_t pub2[32], sk2[64];
    PT_OK(parley_keypair_generate(pub2, sk2));
    PT_OK(parley_token_create(sk2, g_unix_now + 30, 77, bad));
    ca.connect_token = bad;
    expect_refused(545, &ca, &cb, PARLEY_SECURITY_TOKEN);
}

/* ---- tampered and forged packets ---- */

typedef struct flip_ {
    int count; /* DATA packets a -> b seen */
    int at;    /* flip a bit in this one */
    int done;
    uint64_t rng;
} flip_;

static int
flip_one(sn_net *n, int from, uint8_t *buf, size_t *len, size_t cap, void *user)
{
    (void)n;
    (void)cap;
    flip_ *f = user;
    if (from == 0 && *len > PL_DATA_HDR_LEN + 16 && buf[0] == PL_PKT_DATA &&
        ++f->count == f->at) {
        /* One bit anywhere after the conn id: pn, frames or tag. */
        size_t bit = (size_t)(f->rng % ((*len - 5) * 8));
        buf[5 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        f->done = 1;
    }
    return 1;
}

static int
got_all(sn_net *n, void *arg)
{
    (void)n;
    return ((sec_ *)arg)->receives[1] >= 40;
}

PT_TEST(tampered_packet_is_dropped_counted_and_the_connection_goes_on)
{
    pt_seed(550);
    for (uint64_t trial = 0; trial < 8; trial++) {
        parley_host_config cfg;
        sn_config(&cfg);
        sn_net n;
        sec_ s;
        parley_peer ap;
        attempt(&n, &s, 550 + trial, &cfg, &cfg, &ap);
        flip_ f = {0, 3, 0, trial * 2654435761u + 12345};
        n.tamper = flip_one;
        n.tamper_user = &f;
        s.receives[1] = 0;
        char msg[64];
        for (int i = 0; i < 40; i++) {
            int k = snprintf(msg, sizeof msg, "reliable message %d", i);
            PT_OK(pl_core_send(n.s[0].core, n.now, ap, 0, msg, (size_t)k,
                               PARLEY_SEND_FLUSH, NULL, NULL));
            sn_run_for(&n, 2 * SN_MS);
        }
        PT_TRUE(sn_run(&n, n.now + 10 * SN_SEC, got_all, &s));
        PT_TRUE(f.done);
        PT_EQ_INT(s.receives[1], 40);
        PT_EQ_INT(s.discs[1], 0);
        pl_core_stats st;
        pl_core_get_stats(n.s[1].core, &st);
        parley_peer_stats ps;
        PT_OK(pl_core_peer_stats(n.s[1].core, s.b_peer, &ps));
        if (st.dropped_auth == 0) {
            /* A flip in the pn bits can only land as "unknown" if it
               changed nothing the AEAD covers; it never does. */
            PT_FAIL_("tampered packet was accepted");
        }
        PT_EQ_U64(st.dropped_auth, 1);
        PT_EQ_U64(ps.auth_failures, 1);
        PT_EQ_INT(pl_core_peer_state(n.s[1].core, s.b_peer),
                  PARLEY_PEER_CONNECTED);
        sn_free(&n);
    }
}

/* Seals a DATA packet from a to b with a's real keys (as only a, or a
   malicious client, can). */
static size_t
seal_from_a(sn_net *n, parley_peer ap, uint64_t pn, uint8_t *buf, size_t len)
{
    pl_conn *c = pl_core_conn(n->s[0].core, ap);
    PT_TRUE(c != NULL && c->enc);
    return pl_crypto_seal(c->key_tx, pn, buf, PL_DATA_HDR_LEN, len);
}

static int
b_lost_peer(sn_net *n, void *arg)
{
    (void)n;
    return ((sec_ *)arg)->discs[1] > 0;
}

PT_TEST(announcing_4gib_is_cut_off_without_allocating_it)
{
    pt_seed(560);
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, 560, &cfg, &cfg, &ap);
    sn_run_for(&n, SN_SEC);
    uint32_t to_b;
    uint64_t pn;
    PT_OK(pl_core_peer_ids(n.s[0].core, ap, NULL, &to_b, &pn));
    int64_t live0 = pl_alloc_live();
    uint8_t buf[1200], data[500];
    memset(data, 0xee, sizeof data);
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf - 16);
    PT_OK(pl_data_hdr_encode(&w, to_b, pn + 1000));
    PT_OK(pl_frame_encode_frag(&w, 0, 0, 0, UINT32_MAX, 0, data, sizeof data));
    size_t len = seal_from_a(&n, ap, pn + 1000, buf, w.off);
    pl_core_on_datagram(n.s[1].core, n.now, &n.s[0].addr, buf, len);
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.dropped_auth, 0); /* it opened: the check is the frame's */
    PT_TRUE(sn_run(&n, n.now + SN_SEC, b_lost_peer, &s));
    PT_EQ_INT(s.reason[1], PARLEY_REASON_PROTOCOL);
    PT_EQ_INT(s.receives[1], 0);
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.memory, 0);
    /* Nothing near 4 GiB (or 64 MiB) was ever held. */
    PT_LT_INT(pl_alloc_live() - live0, 1 << 20);
    sn_free(&n);
}

PT_TEST(forged_and_replayed_sealed_packets)
{
    pt_seed(570);
    parley_host_config cfg;
    sn_config(&cfg);
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, 570, &cfg, &cfg, &ap);
    uint32_t to_b;
    uint64_t pn;
    PT_OK(pl_core_peer_ids(n.s[0].core, ap, NULL, &to_b, &pn));
    /* A stranger who knows the conn id but not the key. */
    uint8_t buf[200];
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf);
    PT_OK(pl_data_hdr_encode(&w, to_b, pn + 10));
    PT_OK(pl_frame_encode_msg(&w, 0, 0, 0, (const uint8_t *)"evil", 4));
    memset(buf + w.off, 0, 16);
    pl_core_on_datagram(n.s[1].core, n.now, &n.s[0].addr, buf, w.off + 16);
    /* Too short to hold a tag. */
    pl_core_on_datagram(n.s[1].core, n.now, &n.s[0].addr, buf, 12);
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.dropped_auth, 2);
    /* A genuine packet with the forged one's number still gets in (the
       forgery was never "received"); replayed, it is a duplicate. */
    pl_wr_init(&w, buf, sizeof buf - 16);
    PT_OK(pl_data_hdr_encode(&w, to_b, pn + 10));
    PT_OK(pl_frame_encode_ping(&w));
    size_t len = seal_from_a(&n, ap, pn + 10, buf, w.off);
    pl_core_on_datagram(n.s[1].core, n.now, &n.s[0].addr, buf, len);
    pl_core_on_datagram(n.s[1].core, n.now, &n.s[0].addr, buf, len);
    pl_core_get_stats(n.s[1].core, &st);
    PT_EQ_U64(st.dropped_auth, 2);
    PT_EQ_U64(st.dropped_duplicate, 1);
    PT_EQ_INT(s.receives[1], 0);
    sn_free(&n);
}

/* ---- anti-abuse ---- */

PT_TEST(handshake_rate_limit_per_source)
{
    pt_seed(580);
    parley_host_config cfg;
    sn_config(&cfg);
    cfg.handshake_rate = 10;
    pl_rng rng;
    pl_rng_seed(&rng, 580);
    pl_core *b;
    uint64_t now = 1000 * SN_SEC;
    PT_OK(pl_core_create(&cfg, sn_random, &rng, now, &b));
    pl_hs_connect h;
    memset(&h, 0, sizeof h);
    h.version = PL_PROTO_VERSION;
    h.mtu = 1200;
    h.channels = 2;
    h.max_message = 1 << 20;
    h.flags = PL_HS_FLAG_ENCRYPT;
    uint8_t buf[1500], out[1500];
    int64_t live0 = pl_alloc_live();
    uint64_t count0 = pl_alloc_count();
    size_t challenges[2] = {0, 0};
    /* 5000 CONNECTs in one second from one IP (many ports), then one
       from another IP; then 5000 from 5000 IPs. */
    for (int i = 0; i < 10001; i++) {
        h.client_id = (uint32_t)pl_rng_next(&rng) | 1;
        parley_addr from;
        parley_addr_loopback(PARLEY_AF_INET, (uint16_t)(1024 + i % 60000),
                             &from);
        if (i == 5000) {
            from.ip[3] = 99;
        } else if (i > 5000) {
            from.ip[1] = (uint8_t)(i >> 8);
            from.ip[2] = (uint8_t)i;
        }
        pl_wr w;
        pl_wr_init(&w, buf, sizeof buf);
        PT_OK(pl_hs_connect_encode(&w, &h));
        pl_core_on_datagram(b, now, &from, buf, w.off);
        size_t len;
        parley_addr to;
        while (pl_core_next_datagram(b, now, out, sizeof out, &len, &to) ==
               PARLEY_OK) {
            PT_EQ_INT(out[0], PL_PKT_CHALLENGE);
            challenges[i >= 5000]++;
        }
        if (i == 5000) {
            PT_EQ_U64(challenges[1], 1); /* another source is unaffected */
        }
        now += 200;
    }
    pl_core_stats st;
    pl_core_get_stats(b, &st);
    printf("  one source: %zu of 5000 answered; many sources: %zu of 5001\n",
           challenges[0], challenges[1]);
    /* Burst 20, then 10/s over one second. */
    PT_LE_U64(challenges[0], 31);
    PT_GE_U64(challenges[0], 20);
    PT_EQ_U64(challenges[1], 5001);
    PT_EQ_U64(st.dropped_ratelimit, 5000 - challenges[0]);
    /* The table is fixed: nothing allocated, whatever the sources. */
    PT_EQ_U64(pl_alloc_count(), count0);
    PT_EQ_INT(pl_alloc_live(), live0);
    pl_core_destroy(b);
}

PT_TEST(the_peer_hoarding_host_memory_is_shed_first)
{
    pt_seed(590);
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    cb.host_memory = (size_t)4 << 20;
    sn_net n;
    sec_ s;
    parley_peer ap;
    attempt(&n, &s, 590, &ca, &cb, &ap);
    parley_peer hoarder_b = s.b_peer;
    /* A second, honest connection from the same client host. */
    parley_peer ap2;
    s.connected[0] = s.connected[1] = 0;
    PT_OK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0, &ap2));
    PT_TRUE(sn_run(&n, n.now + 10 * SN_SEC, settled, &s));
    parley_peer honest_b = s.b_peer;
    PT_TRUE(honest_b != hoarder_b);
    uint32_t to_b;
    uint64_t pn;
    PT_OK(pl_core_peer_ids(n.s[0].core, ap, NULL, &to_b, &pn));
    pn += 1000;
    /* The hoarder sends pieces of 60 MiB messages that never complete. */
    uint8_t buf[1200], data[1000];
    memset(data, 0x5a, sizeof data);
    int sent = 0;
    for (uint64_t off = 1000; s.discs[1] == 0 && sent < 20000; off += 1000) {
        pl_wr w;
        pl_wr_init(&w, buf, sizeof buf - 16);
        PT_OK(pl_data_hdr_encode(&w, to_b, pn));
        PT_OK(pl_frame_encode_frag(&w, 1, 0, 0, 60u << 20, off, data,
                                   sizeof data));
        size_t len = seal_from_a(&n, ap, pn, buf, w.off);
        pn++;
        pl_core_on_datagram(n.s[1].core, n.now, &n.s[0].addr, buf, len);
        sn_pump(&n);
        sent++;
    }
    pl_core_stats st;
    pl_core_get_stats(n.s[1].core, &st);
    printf("  hoarder shed after %d pieces (host budget %zu)\n", sent,
           cb.host_memory);
    PT_EQ_INT(s.discs[1], 1);
    PT_EQ_INT(s.reason[1], PARLEY_REASON_OVERLOAD);
    PT_EQ_U64(st.shed_peers, 1);
    PT_EQ_INT(pl_core_peer_state(n.s[1].core, hoarder_b),
              PARLEY_PEER_DISCONNECTED);
    PT_EQ_INT(pl_core_peer_state(n.s[1].core, honest_b), PARLEY_PEER_CONNECTED);
    /* The honest connection still works. */
    s.receives[1] = 0;
    PT_OK(pl_core_send(n.s[0].core, n.now, ap2, 0, "still here", 10, 0, NULL,
                       NULL));
    PT_TRUE(sn_run(&n, n.now + 5 * SN_SEC, got_one, &s));
    PT_EQ_MEM(s.last, "still here", 10);
    sn_free(&n);
}

// clang-format off
PT_MAIN(
    PT_RUN(encryption_is_on_by_default_and_hides_the_payload)
    PT_RUN(encryption_mismatch_fails_clearly)
    PT_RUN(large_messages_cross_encrypted)
    PT_RUN(psk_admits_only_the_key_holders)
    PT_RUN(psk_requires_encryption)
    PT_RUN(pinned_identity)
    PT_RUN(man_in_the_middle_key_swap_is_detected)
    PT_RUN(connect_tokens_expire_and_resist_tampering)
    PT_RUN(tampered_packet_is_dropped_counted_and_the_connection_goes_on)
    PT_RUN(announcing_4gib_is_cut_off_without_allocating_it)
    PT_RUN(forged_and_replayed_sealed_packets)
    PT_RUN(handshake_rate_limit_per_source)
    PT_RUN(the_peer_hoarding_host_memory_is_shed_first))
// clang-format on
