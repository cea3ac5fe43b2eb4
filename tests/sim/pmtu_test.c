/*
 * Path-MTU probing in virtual time (docs/PROTOCOL.md 5.9): the MTU climbs
 * to the path's limit and never beyond, falls back when the path shrinks
 * under it, converges through loss, duplication and reordering, and never
 * exceeds what the peer announced. Every byte of a bulk transfer is
 * checked throughout.
 */
#include "pt.h"

#include <stdlib.h>

#include "core/pmtu.h"
#include "parley/parley.h"
#include "simnet.h"

#define MSG 60000

typedef struct xfer_ {
    parley_peer a_peer;
    uint64_t seed;
    uint64_t total, sent, got, bad;
    size_t biggest[2];    /* largest datagram delivered from each side */
    uint32_t peak_mtu;    /* largest MTU the sender used */
    uint64_t shrink_at;   /* messages received before the path shrinks */
    size_t shrink_to;     /* 0: it never does */
    parley_sim_config ab; /* a -> b, for the shrink */
    size_t refuse_over;   /* a's "OS" refuses datagrams longer; 0: none */
    size_t refused[64];   /* the sizes it refused */
    size_t nrefused;
    uint8_t buf[MSG];
} xfer_;

static uint8_t
pattern(uint64_t seed, uint64_t i, size_t j)
{
    uint64_t h = (seed ^ (i * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
    return (uint8_t)((h >> 32) + j * 131 + (j >> 8) * 7);
}

static void
fill(xfer_ *x, uint64_t i)
{
    memcpy(x->buf, &i, sizeof i);
    for (size_t j = sizeof i; j < MSG; j++) {
        x->buf[j] = pattern(x->seed, i, j);
    }
}

static void
on_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    xfer_ *x = user;
    if (side != 1 || ev->type != PARLEY_EVENT_RECEIVE) {
        return;
    }
    uint64_t idx;
    memcpy(&idx, ev->data, sizeof idx);
    int ok = ev->len == MSG && idx == x->got;
    for (size_t j = sizeof idx; ok && j < MSG; j++) {
        ok = ev->data[j] == pattern(x->seed, idx, j);
    }
    x->bad += !ok;
    x->got++;
}

static int
observe(sn_net *n, int from, uint8_t *buf, size_t *len, size_t cap, void *user)
{
    (void)buf, (void)cap;
    xfer_ *x = user;
    if (from == 0 && x->refuse_over && *len > x->refuse_over) {
        /* As the driver does on EMSGSIZE (late by the link's delay). */
        if (x->nrefused < 64) {
            x->refused[x->nrefused++] = *len;
        }
        pl_core_on_send_error(n->s[0].core, n->now, &n->s[1].addr, *len,
                              PARLEY_EMSGSIZE);
        return 0;
    }
    if (*len > x->biggest[from]) {
        x->biggest[from] = *len;
    }
    return 1;
}

static int
feed(sn_net *n, void *arg)
{
    xfer_ *x = arg;
    parley_peer_stats st;
    pl_core_peer_stats(n->s[0].core, x->a_peer, &st);
    if (st.mtu > x->peak_mtu) {
        x->peak_mtu = st.mtu;
    }
    if (x->shrink_to && x->got >= x->shrink_at) {
        x->ab.path_mtu = x->shrink_to;
        PT_OK(parley_sim_configure(n->s[0].out, &x->ab));
        x->shrink_to = 0;
    }
    while (x->sent < x->total && st.out_buffer_bytes < 1024 * 1024) {
        fill(x, x->sent);
        if (pl_core_send(n->s[0].core, n->now, x->a_peer, 0, x->buf, MSG, 0,
                         NULL, NULL) != PARLEY_OK) {
            break;
        }
        x->sent++;
        st.out_buffer_bytes += MSG;
    }
    return x->got == x->total;
}

/* Moves total messages a -> b; returns the sender's stats at the end. */
static parley_peer_stats
transfer(uint64_t seed, xfer_ *x, const parley_host_config *ca,
         const parley_host_config *cb, const parley_sim_config *ab,
         const parley_sim_config *ba, uint64_t seconds)
{
    pt_seed(seed);
    x->seed = seed;
    x->ab = *ab;
    sn_net *n = calloc(1, sizeof *n);
    PT_TRUE(n != NULL);
    PT_OK(sn_init(n, seed, ca, cb, ab, ba));
    parley_peer bp;
    PT_TRUE(sn_connect(n, &x->a_peer, &bp));
    n->on_event = on_event;
    n->user = x;
    n->tamper = observe;
    n->tamper_user = x;
    PT_TRUE(sn_run(n, n->now + seconds * SN_SEC, feed, x));
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(n->s[0].core, x->a_peer, &st));
    parley_sim_stats ss;
    parley_sim_get_stats(n->s[0].out, &ss);
    printf("  mtu %u (peak %u), probes %" PRIu64 " (lost %" PRIu64
           "), black holes %" PRIu64 ", over the path %" PRIu64
           ", biggest a->b %zu\n",
           st.mtu, x->peak_mtu, st.mtu_probes, st.mtu_probes_lost,
           st.mtu_blackholes, ss.dropped_mtu, x->biggest[0]);
    PT_EQ_U64(x->got, x->total);
    PT_EQ_U64(x->bad, 0);
    sn_free(n);
    free(n);
    return st;
}

/* A rate-limited path so that the transfer outlasts the search. */
static void
path(parley_sim_config *sc, size_t mtu)
{
    sn_link(sc, 10);
    sc->rate_bytes_per_s = 4 * 1000 * 1000;
    sc->queue_bytes = 256 * 1024;
    sc->path_mtu = mtu;
}

PT_TEST(climbs_to_the_path_mtu_and_not_beyond)
{
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config ab, ba;
    path(&ab, 4000); /* between the ladder's steps: found by bisection */
    path(&ba, 4000);
    xfer_ *x = calloc(1, sizeof *x);
    x->total = 300;
    parley_peer_stats st = transfer(101, x, &cfg, &cfg, &ab, &ba, 120);
    PT_LE_U64(st.mtu, 4000);
    PT_GE_U64(st.mtu, 4000 - PL_PMTU_GRAIN);
    PT_LE_U64(x->biggest[0], 4000);
    PT_GE_U64(st.mtu_probes_lost, PL_PMTU_MAX_PROBES);
    PT_EQ_U64(st.mtu_blackholes, 0);
    free(x);
}

PT_TEST(a_shrinking_path_falls_back_and_loses_nothing)
{
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config ab, ba;
    path(&ab, 0);
    path(&ba, 0);
    xfer_ *x = calloc(1, sizeof *x);
    x->total = 400;
    x->shrink_at = 100;
    x->shrink_to = 1400; /* a black hole for everything above 1400 */
    parley_peer_stats st = transfer(102, x, &cfg, &cfg, &ab, &ba, 300);
    PT_GT_U64(x->peak_mtu, 8952);
    PT_GE_U64(st.mtu_blackholes, 1);
    PT_LE_U64(st.mtu, 1400);
    free(x);
}

PT_TEST(a_size_the_os_refuses_fails_at_once)
{
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config ab, ba;
    path(&ab, 0);
    path(&ba, 0);
    xfer_ *x = calloc(1, sizeof *x);
    x->total = 300;
    x->refuse_over = 5000;
    parley_peer_stats st = transfer(106, x, &cfg, &cfg, &ab, &ba, 120);
    PT_LE_U64(st.mtu, 5000);
    PT_GE_U64(st.mtu, 5000 - PL_PMTU_GRAIN);
    PT_EQ_U64(st.mtu_probes_lost, x->nrefused);
    PT_GT_U64(x->nrefused, 0);
    /* One refusal per size: never probed again. */
    for (size_t i = 0; i < x->nrefused; i++) {
        for (size_t j = i + 1; j < x->nrefused; j++) {
            PT_TRUE(x->refused[i] != x->refused[j]);
        }
    }
    free(x);
}

PT_TEST(converges_through_loss_duplication_and_reordering)
{
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config ab, ba;
    path(&ab, 9000);
    ab.latency_ms = 30;
    ab.loss_pct = 20;
    ab.dup_pct = 20;
    ab.reorder_pct = 20;
    ba = ab;
    xfer_ *x = calloc(1, sizeof *x);
    x->total = 100;
    parley_peer_stats st = transfer(103, x, &cfg, &cfg, &ab, &ba, 600);
    PT_GT_U64(x->peak_mtu, 1452);
    PT_LE_U64(x->peak_mtu, 9000);
    PT_LE_U64(x->biggest[0], 9000);
    PT_GT_U64(st.mtu_probes, 0);
    free(x);
}

PT_TEST(never_above_what_the_peer_accepts)
{
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    cb.max_mtu = 3000;
    parley_sim_config ab, ba;
    path(&ab, 0);
    path(&ba, 0);
    xfer_ *x = calloc(1, sizeof *x);
    x->total = 100;
    parley_peer_stats st = transfer(104, x, &ca, &cb, &ab, &ba, 120);
    PT_EQ_U64(st.mtu, 3000);
    PT_LE_U64(x->biggest[0], 3000);
    PT_EQ_U64(st.mtu_probes_lost, 0);
    free(x);
}

/* Either side without probing (as an older peer): neither direction
   ever carries more than the base MTU. */
PT_TEST(a_peer_without_probing_gets_the_base_mtu)
{
    for (int side = 0; side < 2; side++) {
        parley_host_config ca, cb;
        sn_config(&ca);
        sn_config(&cb);
        if (side == 0) {
            ca.max_mtu = 0;
        } else {
            cb.max_mtu = 0;
        }
        parley_sim_config ab, ba;
        path(&ab, 0);
        path(&ba, 0);
        xfer_ *x = calloc(1, sizeof *x);
        x->total = 50;
        parley_peer_stats st =
            transfer(105 + (uint64_t)side, x, &ca, &cb, &ab, &ba, 120);
        PT_EQ_U64(st.mtu, 1200);
        PT_EQ_U64(st.mtu_probes, 0);
        PT_LE_U64(x->biggest[0], 1200);
        PT_LE_U64(x->biggest[1], 1200);
        free(x);
    }
}

// clang-format off
PT_MAIN(
    PT_RUN(climbs_to_the_path_mtu_and_not_beyond)
    PT_RUN(a_shrinking_path_falls_back_and_loses_nothing)
    PT_RUN(a_size_the_os_refuses_fails_at_once)
    PT_RUN(converges_through_loss_duplication_and_reordering)
    PT_RUN(never_above_what_the_peer_accepts)
    PT_RUN(a_peer_without_probing_gets_the_base_mtu))
// clang-format on
