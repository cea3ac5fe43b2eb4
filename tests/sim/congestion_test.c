/*
 * Congestion control in virtual time: a bulk transfer over a 10 Mbit/s
 * bottleneck with a 40 ms RTT and a bounded queue must fill the link
 * without heavy loss, still do well with random loss, and respect a
 * per-peer bandwidth cap.
 */
#include "pt.h"

#include <stdlib.h>

#include "parley/parley.h"
#include "simnet.h"

#define LINK_RATE 1250000u /* bytes/s: 10 Mbit/s */
#define CHUNK 8192

typedef struct bulk_ {
    parley_peer a_peer;
    uint64_t got_bytes;  /* received by b */
    uint64_t mark_bytes; /* at the start of the measured span */
    uint64_t mark_time;
    int marked;
    uint8_t chunk[CHUNK];
} bulk_;

static void
on_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    bulk_ *b = user;
    if (side == 1 && ev->type == PARLEY_EVENT_RECEIVE) {
        b->got_bytes += ev->len;
    }
}

/* Keeps about 256 KiB queued so the sender is never app-limited. */
static int
feed(sn_net *n, void *arg)
{
    bulk_ *b = arg;
    parley_peer_stats st;
    if (pl_core_peer_stats(n->s[0].core, b->a_peer, &st) != PARLEY_OK) {
        return 1;
    }
    while (st.out_buffer_bytes < 256 * 1024) {
        if (pl_core_send(n->s[0].core, n->now, b->a_peer, 0, b->chunk, CHUNK, 0,
                         NULL, NULL) != PARLEY_OK) {
            break;
        }
        st.out_buffer_bytes += CHUNK;
    }
    return 0;
}

typedef struct result_ {
    double goodput;  /* bytes/s at the receiver */
    double loss_pct; /* sender's packets declared lost */
    uint64_t queue_drops;
    uint64_t random_drops;
} result_;

static void
run_bulk(uint64_t seed, double loss_pct, uint64_t cap, double seconds,
         result_ *res)
{
    parley_host_config cfg;
    sn_config(&cfg);
    cfg.bandwidth_out = cap;
    parley_sim_config fwd, back;
    parley_sim_config_init(&fwd);
    fwd.latency_ms = 20;
    fwd.rate_bytes_per_s = LINK_RATE;
    fwd.queue_bytes = 64 * 1024;
    fwd.loss_pct = loss_pct;
    sn_link(&back, 20);
    /* An Internet path: Ethernet's MTU (path-MTU probing stops there). */
    fwd.path_mtu = back.path_mtu = 1472;
    sn_net n;
    bulk_ *b = calloc(1, sizeof *b);
    PT_TRUE(b != NULL);
    PT_OK(sn_init(&n, seed, &cfg, &cfg, &fwd, &back));
    parley_peer bp;
    PT_TRUE(sn_connect(&n, &b->a_peer, &bp));
    n.on_event = on_event;
    n.user = b;
    /* Warm up for 2 s (slow start), then measure. */
    sn_run(&n, n.now + 2 * SN_SEC, feed, b);
    uint64_t t0 = n.now, bytes0 = b->got_bytes;
    sn_run(&n, n.now + (uint64_t)(seconds * 1e6), feed, b);
    res->goodput = (double)(b->got_bytes - bytes0) * 1e6 / (double)(n.now - t0);
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(n.s[0].core, b->a_peer, &st));
    res->loss_pct = st.loss_pct;
    parley_sim_stats ss;
    parley_sim_get_stats(n.s[0].out, &ss);
    res->queue_drops = ss.dropped_queue;
    res->random_drops = ss.dropped_loss;
    printf("  loss %.1f%% cap %" PRIu64 ": goodput %.0f B/s (%.1f%% of link)"
           ", sender loss %.2f%%, queue drops %" PRIu64
           ", random drops %" PRIu64 ", srtt %" PRIu64 " us, cwnd %" PRIu64
           "\n",
           loss_pct, cap, res->goodput, 100.0 * res->goodput / LINK_RATE,
           res->loss_pct, res->queue_drops, res->random_drops, st.srtt_us,
           st.cwnd_bytes);
    sn_free(&n);
    free(b);
}

PT_TEST(fills_the_link)
{
    uint64_t seed = 77;
    pt_seed(seed);
    result_ r;
    run_bulk(seed, 0, 0, 20, &r);
    PT_GE_DBL(r.goodput, 0.80 * LINK_RATE);
    PT_LE_DBL(r.loss_pct, 2.0);
}

PT_TEST(random_loss_two_percent)
{
    uint64_t seed = 78;
    pt_seed(seed);
    result_ r;
    run_bulk(seed, 2.0, 0, 20, &r);
    PT_GE_DBL(r.goodput, 0.60 * LINK_RATE);
}

PT_TEST(bandwidth_cap)
{
    uint64_t seed = 79;
    pt_seed(seed);
    result_ r;
    run_bulk(seed, 0, 300000, 10, &r);
    PT_LE_DBL(r.goodput, 300000.0 * 1.02);
    PT_GE_DBL(r.goodput, 300000.0 * 0.85);
    PT_EQ_U64(r.queue_drops, 0);
}

PT_MAIN(PT_RUN(fills_the_link) PT_RUN(random_loss_two_percent)
            PT_RUN(bandwidth_cap))
