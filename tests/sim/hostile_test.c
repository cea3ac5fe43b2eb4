/*
 * Hostile input: truncated, garbage, replayed, spoofed and oversized
 * packets must cause no crash, no event and no memory growth; a peer that
 * claims huge or endless fragments is cut off; a flood of spoofed
 * CONNECTs leaves no state and allocates nothing.
 */
#include "pt.h"

#include <stdlib.h>

#include "parley/parley.h"
#include "simnet.h"
#include "util/alloc.h"
#include "wire/frame.h"
#include "wire/packet.h"

typedef struct cap_ {
    int events[2];
    int receives[2];
    int discs[2];
    parley_reason disc_reason[2];
    /* Captured a -> b datagrams (copies). */
    uint8_t *pkts[4096];
    size_t lens[4096];
    size_t n;
    int capture;
} cap_;

static void
on_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    cap_ *c = user;
    c->events[side]++;
    if (ev->type == PARLEY_EVENT_RECEIVE) {
        c->receives[side]++;
    }
    if (ev->type == PARLEY_EVENT_DISCONNECT) {
        c->discs[side]++;
        c->disc_reason[side] = ev->reason;
    }
}

static void
free_cap(cap_ *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->pkts[i]);
    }
    c->n = 0;
}

typedef struct env_ {
    sn_net n;
    cap_ c;
    parley_peer a_peer, b_peer;
    uint32_t to_b; /* conn id b expects in DATA headers */
    uint64_t pn;   /* a packet number a has not used */
} env_;

static void
setup(env_ *e, uint64_t seed, size_t peer_memory)
{
    parley_host_config cfg;
    sn_config(&cfg);
    /* These tests forge DATA packets to reach the frame layer, so they
       run in plaintext; sealed forgeries are tests/sim/security_test.c's. */
    cfg.encrypt = 0;
    cfg.peer_memory = peer_memory;
    parley_sim_config link;
    sn_link(&link, 5);
    memset(e, 0, sizeof *e);
    PT_OK(sn_init(&e->n, seed, &cfg, &cfg, &link, &link));
    PT_TRUE(sn_connect(&e->n, &e->a_peer, &e->b_peer));
    e->n.on_event = on_event;
    e->n.user = &e->c;
    sn_run_for(&e->n, SN_SEC);
    PT_OK(pl_core_peer_ids(e->n.s[0].core, e->a_peer, NULL, &e->to_b, &e->pn));
    e->pn += 100000;
}

/* Feeds b a datagram as if from a (or from `from`) and runs a little. */
static void
inject(env_ *e, const parley_addr *from, const uint8_t *buf, size_t len)
{
    pl_core_on_datagram(e->n.s[1].core, e->n.now, from ? from : &e->n.s[0].addr,
                        buf, len);
    sn_pump(&e->n);
}

/* A DATA header to b with a fresh packet number. */
static void
data_hdr(env_ *e, pl_wr *w, uint8_t *buf, size_t cap)
{
    pl_wr_init(w, buf, cap);
    PT_OK(pl_data_hdr_encode(w, e->to_b, e->pn++));
}

static void
baseline(env_ *e, int64_t *live, size_t *mem)
{
    pl_core_trim(e->n.s[1].core);
    *live = pl_alloc_live();
    pl_core_stats st;
    pl_core_get_stats(e->n.s[1].core, &st);
    *mem = st.memory;
}

PT_TEST(garbage_and_truncated)
{
    uint64_t seed = 61;
    pt_seed(seed);
    env_ e;
    setup(&e, seed, (size_t)128 << 20);
    pl_rng rng;
    pl_rng_seed(&rng, seed);
    int64_t live0;
    size_t mem0;
    baseline(&e, &live0, &mem0);
    uint8_t buf[2000];
    static const uint8_t types[] = {0x01, 0x10, 0x11, 0x12, 0x13,
                                    0x14, 0x00, 0x7f, 0xff};
    parley_addr stranger;
    parley_addr_loopback(PARLEY_AF_INET, 5555, &stranger);
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)pl_rng_range(&rng, 0, sizeof buf);
        for (size_t j = 0; j < len; j++) {
            buf[j] = (uint8_t)pl_rng_next(&rng);
        }
        if (len > 0) {
            buf[0] = types[pl_rng_range(&rng, 0, sizeof types - 1)];
        }
        if (len >= 5 && buf[0] == PL_PKT_DATA && (i & 1)) {
            /* The right connection id, so the frames get parsed. */
            buf[1] = (uint8_t)(e.to_b >> 24);
            buf[2] = (uint8_t)(e.to_b >> 16);
            buf[3] = (uint8_t)(e.to_b >> 8);
            buf[4] = (uint8_t)e.to_b;
        }
        pl_core_on_datagram(e.n.s[1].core, e.n.now,
                            (i & 2) ? &stranger : &e.n.s[0].addr, buf, len);
    }
    /* Every real packet type, cut at every length. */
    pl_hs_connect h;
    memset(&h, 0, sizeof h);
    h.version = PL_PROTO_VERSION;
    h.client_id = 99;
    h.mtu = 1200;
    h.channels = 4;
    h.max_message = 1000;
    pl_wr w;
    pl_wr_init(&w, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&w, &h));
    for (size_t len = 0; len < w.off; len++) {
        pl_core_on_datagram(e.n.s[1].core, e.n.now, &stranger, buf, len);
    }
    uint8_t piece[500];
    memset(piece, 0x5a, sizeof piece);
    data_hdr(&e, &w, buf, sizeof buf);
    PT_OK(pl_frame_encode_frag(&w, 0, 0, 0, 5000, 0, piece, sizeof piece));
    for (size_t len = 0; len < w.off; len++) {
        pl_core_on_datagram(e.n.s[1].core, e.n.now, &e.n.s[0].addr, buf, len);
    }
    sn_pump(&e.n);
    PT_EQ_INT(e.c.events[1], 0);
    pl_core_stats st;
    pl_core_get_stats(e.n.s[1].core, &st);
    PT_EQ_U64(st.peers, 1);
    PT_EQ_U64(st.memory, mem0);
    PT_GT_U64(st.dropped_malformed, 1000);
    /* Nothing was kept: after trimming the caches, the same allocations
       are live as before the garbage. */
    pl_core_trim(e.n.s[1].core);
    PT_EQ_INT(pl_alloc_live(), live0);
    PT_EQ_INT(pl_core_peer_state(e.n.s[1].core, e.b_peer),
              PARLEY_PEER_CONNECTED);
    sn_free(&e.n);
}

PT_TEST(packet_is_taken_whole_or_not_at_all)
{
    uint64_t seed = 62;
    pt_seed(seed);
    env_ e;
    setup(&e, seed, (size_t)128 << 20);
    uint8_t buf[1200];
    pl_wr w;
    data_hdr(&e, &w, buf, sizeof buf);
    /* A good message frame (the next on channel 0), then junk. */
    PT_OK(pl_frame_encode_msg(&w, 0, 0, 0, (const uint8_t *)"hello", 5));
    pl_wr_u8(&w, 0x3f);
    inject(&e, NULL, buf, w.off);
    PT_EQ_INT(e.c.events[1], 0);
    /* Without the junk it is delivered. */
    data_hdr(&e, &w, buf, sizeof buf);
    PT_OK(pl_frame_encode_msg(&w, 0, 0, 0, (const uint8_t *)"hello", 5));
    inject(&e, NULL, buf, w.off);
    PT_EQ_INT(e.c.receives[1], 1);
    sn_free(&e.n);
}

PT_TEST(replayed_and_spoofed)
{
    uint64_t seed = 63;
    pt_seed(seed);
    env_ e;
    setup(&e, seed, (size_t)128 << 20);
    /* Record what a sends while it delivers 50 messages. */
    sn_net *n = &e.n;
    for (int i = 0; i < 50; i++) {
        PT_OK(pl_core_send(n->s[0].core, n->now, e.a_peer, 0, &i, sizeof i, 0,
                           NULL, NULL));
    }
    for (int step = 0; step < 2000 && e.c.receives[1] < 50; step++) {
        size_t len;
        parley_addr to;
        while (pl_core_next_datagram(n->s[0].core, n->now, n->buf,
                                     sizeof n->buf, &len, &to) == PARLEY_OK) {
            if (e.c.n < 4096) {
                e.c.pkts[e.c.n] = malloc(len);
                memcpy(e.c.pkts[e.c.n], n->buf, len);
                e.c.lens[e.c.n++] = len;
            }
            pl_core_on_datagram(n->s[1].core, n->now, &n->s[0].addr, n->buf,
                                len);
        }
        sn_run(n, n->now + SN_MS, NULL, NULL);
    }
    PT_EQ_INT(e.c.receives[1], 50);
    sn_run_for(n, SN_SEC);
    int64_t live0;
    size_t mem0;
    baseline(&e, &live0, &mem0);
    int events0 = e.c.events[1];
    pl_core_stats before;
    pl_core_get_stats(n->s[1].core, &before);
    parley_addr spoof = n->s[0].addr;
    spoof.port++;
    for (size_t i = 0; i < e.c.n; i++) {
        inject(&e, NULL, e.c.pkts[i], e.c.lens[i]);   /* replayed */
        inject(&e, &spoof, e.c.pkts[i], e.c.lens[i]); /* spoofed source */
    }
    pl_core_stats after;
    pl_core_get_stats(n->s[1].core, &after);
    PT_EQ_INT(e.c.events[1], events0);
    PT_GE_U64(after.dropped_duplicate - before.dropped_duplicate, 1);
    PT_GE_U64(after.dropped_unknown - before.dropped_unknown, e.c.n);
    PT_EQ_U64(after.memory, mem0);
    pl_core_trim(n->s[1].core);
    PT_EQ_INT(pl_alloc_live(), live0);
    free_cap(&e.c);
    sn_free(n);
}

static int
b_lost_peer(sn_net *n, void *arg)
{
    (void)n;
    return ((cap_ *)arg)->discs[1] > 0;
}

PT_TEST(oversized_fragment_disconnects)
{
    uint64_t seed = 64;
    pt_seed(seed);
    env_ e;
    setup(&e, seed, (size_t)128 << 20);
    uint8_t buf[1200], data[500];
    memset(data, 0xab, sizeof data);
    pl_wr w;
    data_hdr(&e, &w, buf, sizeof buf);
    /* total_len over max_message (64 MiB). */
    PT_OK(pl_frame_encode_frag(&w, 0, 0, 0, (64u << 20) + 1, 0, data, 500));
    inject(&e, NULL, buf, w.off);
    PT_TRUE(sn_run(&e.n, e.n.now + SN_SEC, b_lost_peer, &e.c));
    PT_EQ_INT(e.c.disc_reason[1], PARLEY_REASON_PROTOCOL);
    PT_EQ_INT(e.c.receives[1], 0);
    pl_core_stats st;
    pl_core_get_stats(e.n.s[1].core, &st);
    PT_EQ_U64(st.memory, 0);
    PT_EQ_U64(st.peers, 0);
    /* The client was told. */
    sn_run_for(&e.n, SN_SEC);
    PT_EQ_INT(e.c.discs[0], 1);
    PT_EQ_INT(e.c.disc_reason[0], PARLEY_REASON_PROTOCOL);
    sn_free(&e.n);
}

PT_TEST(endless_fragments_are_bounded)
{
    uint64_t seed = 65;
    pt_seed(seed);
    env_ e;
    size_t budget = (size_t)2 << 20;
    setup(&e, seed, budget);
    uint8_t buf[1200], data[100];
    memset(data, 0xcd, sizeof data);
    size_t peak = 0;
    int sent = 0;
    /* One piece in every 64 KiB block of many 60 MiB messages. */
    for (uint64_t seq = 0; seq < 64 && !e.c.discs[1]; seq++) {
        for (uint64_t blk = 0; blk < 900 && !e.c.discs[1]; blk += 7) {
            pl_wr w;
            data_hdr(&e, &w, buf, sizeof buf);
            PT_OK(pl_frame_encode_frag(&w, 1, 0, seq, 60u << 20,
                                       blk * 65536 + 10, data, sizeof data));
            inject(&e, NULL, buf, w.off);
            sent++;
            pl_core_stats st;
            pl_core_get_stats(e.n.s[1].core, &st);
            peak = st.memory > peak ? st.memory : peak;
        }
    }
    printf("  cut off after %d forged pieces; peak memory %zu of %zu\n", sent,
           peak, budget);
    PT_EQ_INT(e.c.discs[1], 1);
    PT_EQ_INT(e.c.disc_reason[1], PARLEY_REASON_PROTOCOL);
    PT_LE_U64(peak, budget);
    PT_LT_INT(sent, 64);
    pl_core_stats st;
    pl_core_get_stats(e.n.s[1].core, &st);
    PT_EQ_U64(st.memory, 0);
    sn_free(&e.n);
}

PT_TEST(spoofed_connect_flood_allocates_nothing)
{
    uint64_t seed = 66;
    pt_seed(seed);
    parley_host_config cfg;
    sn_config(&cfg);
    pl_rng rng;
    pl_rng_seed(&rng, seed);
    pl_core *b;
    uint64_t now = 1000 * SN_SEC;
    PT_OK(pl_core_create(&cfg, sn_random, &rng, now, &b));
    uint8_t buf[1500], out[1500];
    pl_hs_connect h;
    memset(&h, 0, sizeof h);
    h.version = PL_PROTO_VERSION;
    h.mtu = 1200;
    h.channels = 2;
    h.max_message = 1 << 20;
    h.flags = PL_HS_FLAG_ENCRYPT; /* the server encrypts (the default) */
    memset(h.pk, 9, sizeof h.pk);
    int64_t live0 = pl_alloc_live();
    uint64_t count0 = pl_alloc_count();
    uint64_t challenges = 0;
    size_t out_bytes = 0, in_bytes = 0;
    for (int i = 0; i < 10000; i++) {
        h.client_id = (uint32_t)pl_rng_next(&rng) | 1;
        parley_addr from;
        parley_addr_loopback(PARLEY_AF_INET, (uint16_t)(1024 + i), &from);
        from.ip[3] = (uint8_t)(i * 7 + 1);
        pl_wr w;
        pl_wr_init(&w, buf, sizeof buf);
        PT_OK(pl_hs_connect_encode(&w, &h));
        pl_core_on_datagram(b, now, &from, buf, w.off);
        in_bytes += w.off;
        if (i % 50 == 49) {
            size_t len;
            parley_addr to;
            while (pl_core_next_datagram(b, now, out, sizeof out, &len, &to) ==
                   PARLEY_OK) {
                PT_EQ_INT(pl_pkt_type(out, len), PL_PKT_CHALLENGE);
                challenges++;
                out_bytes += len;
            }
        }
        now += 100;
    }
    PT_EQ_U64(pl_alloc_count(), count0);
    PT_EQ_INT(pl_alloc_live(), live0);
    pl_core_stats st;
    pl_core_get_stats(b, &st);
    PT_EQ_U64(st.peers, 0);
    PT_EQ_U64(st.memory, 0);
    PT_EQ_U64(challenges, 10000);
    PT_LT_U64(out_bytes * 20, in_bytes); /* no amplification */
    parley_event ev;
    PT_ERR(pl_core_poll_event(b, &ev), PARLEY_EAGAIN);
    PT_EQ_U64(pl_core_next_wakeup(b), UINT64_MAX);
    pl_core_destroy(b);
}

PT_MAIN(PT_RUN(garbage_and_truncated)
            PT_RUN(packet_is_taken_whole_or_not_at_all)
                PT_RUN(replayed_and_spoofed)
                    PT_RUN(oversized_fragment_disconnects)
                        PT_RUN(endless_fragments_are_bounded)
                            PT_RUN(spoofed_connect_flood_allocates_nothing))
