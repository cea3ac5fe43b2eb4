/*
 * Congestion control on long, lossy and shared paths in virtual time: a
 * transfer over a 20 ms RTT with random loss both ways must use most of
 * the link from the first round trip on, two flows through one
 * bottleneck must share it, and 20 % loss must still deliver every byte.
 */
#include "pt.h"

#include <stdlib.h>

#include "parley/parley.h"
#include "simnet.h"

#define MSG 65536

/* ---- one flow: simnet ---- */

typedef struct flow_ {
    parley_peer a_peer;
    uint64_t total;     /* messages to send */
    uint64_t sent, got; /* messages */
    uint64_t got_bytes;
    uint64_t bad; /* messages out of order or with a wrong byte */
    uint64_t mark_bytes, mark_time;
    uint8_t buf[MSG];
} flow_;

/* Message idx: its index, then bytes that depend on index and offset. */
static void
fill(uint8_t *buf, uint64_t idx)
{
    memcpy(buf, &idx, sizeof idx);
    for (size_t i = sizeof idx; i < MSG; i++) {
        buf[i] = (uint8_t)(idx * 131 + i * 7 + (i >> 8));
    }
}

static int
check(const uint8_t *data, size_t len, uint64_t want)
{
    uint64_t idx;
    if (len != MSG) {
        return 0;
    }
    memcpy(&idx, data, sizeof idx);
    if (idx != want) {
        return 0;
    }
    for (size_t i = sizeof idx; i < MSG; i++) {
        if (data[i] != (uint8_t)(idx * 131 + i * 7 + (i >> 8))) {
            return 0;
        }
    }
    return 1;
}

static void
flow_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    flow_ *f = user;
    if (side == 1 && ev->type == PARLEY_EVENT_RECEIVE) {
        if (!check(ev->data, ev->len, f->got)) {
            f->bad++;
        }
        f->got++;
        f->got_bytes += ev->len;
    }
}

/* Keeps 1 MiB queued so the sender is never app-limited; done when every
   message arrived. */
static int
flow_feed(sn_net *n, void *arg)
{
    flow_ *f = arg;
    parley_peer_stats st;
    if (pl_core_peer_stats(n->s[0].core, f->a_peer, &st) != PARLEY_OK) {
        return 1;
    }
    while (f->sent < f->total && st.out_buffer_bytes < 1024 * 1024) {
        fill(f->buf, f->sent);
        if (pl_core_send(n->s[0].core, n->now, f->a_peer, 0, f->buf, MSG, 0,
                         NULL, NULL) != PARLEY_OK) {
            break;
        }
        f->sent++;
        st.out_buffer_bytes += MSG;
    }
    return f->got == f->total;
}

typedef struct path_ {
    uint64_t rate; /* bytes/s of the forward link; 0: unlimited */
    size_t queue;
    uint32_t delay_ms; /* one way */
    double loss_pct;   /* each way */
} path_;

typedef struct result_ {
    double goodput;  /* bytes/s from connected to the last byte; 0 when
                        it did not finish in time */
    double loss_pct; /* packets the sender declared lost */
} result_;

/* Sends total messages from the moment the connection is up. */
static result_
run_flow(uint64_t seed, const path_ *p, uint64_t total, uint64_t limit_us)
{
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config fwd, back;
    parley_sim_config_init(&fwd);
    fwd.latency_ms = p->delay_ms;
    fwd.rate_bytes_per_s = p->rate;
    fwd.queue_bytes = p->queue;
    fwd.loss_pct = p->loss_pct;
    fwd.max_held = 1 << 20;
    /* An Internet path: Ethernet's MTU (path-MTU probing stops there). */
    fwd.path_mtu = 1472;
    back = fwd;
    back.rate_bytes_per_s = 0;
    sn_net n;
    flow_ *f = calloc(1, sizeof *f);
    PT_TRUE(f != NULL);
    PT_OK(sn_init(&n, seed, &cfg, &cfg, &fwd, &back));
    parley_peer bp;
    PT_TRUE(sn_connect(&n, &f->a_peer, &bp));
    n.on_event = flow_event;
    n.user = f;
    f->total = total;
    uint64_t t0 = n.now;
    int done = sn_run(&n, n.now + limit_us, flow_feed, f);
    double secs = (double)(n.now - t0) / 1e6;
    double goodput = done ? (double)f->got_bytes / secs : 0;
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(n.s[0].core, f->a_peer, &st));
    parley_sim_stats ss;
    parley_sim_get_stats(n.s[0].out, &ss);
    printf("  link: pushed %" PRIu64 " random drops %" PRIu64
           " queue drops %" PRIu64 "\n",
           ss.pushed, ss.dropped_loss, ss.dropped_queue);
    result_ r = {goodput, 100.0 * (double)st.packets_lost /
                              (double)(st.packets_out ? st.packets_out : 1)};
    printf("  rate %" PRIu64
           " B/s, %u ms each way, %.0f%% loss each way: %" PRIu64 " of %" PRIu64
           " messages in %.3f s, %.0f B/s"
           " (%.1f%% of link), sender loss %.1f%%, srtt %" PRIu64 " us\n",
           p->rate, p->delay_ms, p->loss_pct, f->got, total, secs, goodput,
           p->rate ? 100.0 * goodput / (double)p->rate : 0.0, r.loss_pct,
           st.srtt_us);
    PT_EQ_U64(f->bad, 0);
    sn_free(&n);
    free(f);
    return r;
}

/* 100 Mbit/s, 20 ms RTT, 5 % random loss both ways, a queue of one BDP:
   16 MiB from the first packet. When a loss in the first window ended
   slow start, the window stayed at a few packets for many round trips
   (74 % of the link; now 87 %). */
PT_TEST(rtt20_loss5_startup)
{
    uint64_t seed = 91;
    pt_seed(seed);
    path_ p = {12500000, 256 * 1024, 10, 5.0};
    result_ r = run_flow(seed, &p, 256, 10 * SN_SEC);
    PT_GE_DBL(r.goodput, 0.80 * (double)p.rate);
}

/* The same path with a short queue (64 KiB, 5 ms, a fifth of the BDP):
   random-loss recovery must not regrow the window far past what the
   path holds. When it regrew to twice the BDP every round trip, the
   sender lost 48 % of its packets and kept 65 % of the link; now 13 %
   (5 % of it random) and 88 %. */
PT_TEST(rtt20_loss5_short_queue)
{
    uint64_t seed = 92;
    pt_seed(seed);
    path_ p = {12500000, 64 * 1024, 10, 5.0};
    result_ r = run_flow(seed, &p, 512, 20 * SN_SEC);
    PT_GE_DBL(r.goodput, 0.80 * (double)p.rate);
    PT_LE_DBL(r.loss_pct, 20.0);
}

/* No bottleneck but the CPU: the window must open up fast through random
   loss (the netem bench case). 64 MiB at 20 ms RTT and 5 % loss: 78 MB/s
   when the first losses ended slow start, now 160. */
PT_TEST(rtt20_loss5_unlimited)
{
    uint64_t seed = 93;
    pt_seed(seed);
    path_ p = {0, 0, 10, 5.0};
    result_ r = run_flow(seed, &p, 1024, 20 * SN_SEC);
    PT_GE_DBL(r.goodput, 120e6);
}

/* A deep queue (2 MiB, 33 ms at 60 MB/s, like a socket buffer in front
   of a busy process): slow start must end as the RTT rises, before the
   queue overflows. When only loss ended it, 9-15 % of the packets were
   lost; now 4 %. */
PT_TEST(deep_queue_slow_start_exit)
{
    uint64_t seed = 96;
    pt_seed(seed);
    path_ p = {60000000, 2 * 1024 * 1024, 10, 0.0};
    result_ r = run_flow(seed, &p, 512, 20 * SN_SEC);
    PT_GE_DBL(r.goodput, 0.70 * (double)p.rate);
    PT_LE_DBL(r.loss_pct, 6.0);
}

/* 20 % loss each way: slow, but every byte arrives in order. */
PT_TEST(loss20_completes)
{
    uint64_t seed = 94;
    pt_seed(seed);
    path_ p = {12500000, 256 * 1024, 10, 20.0};
    result_ r = run_flow(seed, &p, 64, 60 * SN_SEC);
    PT_GE_DBL(r.goodput, 1.0);
}

/* ---- two flows through one bottleneck ---- */

#define NFLOW 2

/* Two client engines send to one server engine; every datagram toward
   the server goes through one rate-limited link with a bounded queue,
   the replies through a plain delay. */
typedef struct shared_ {
    pl_core *cli[NFLOW], *srv;
    parley_addr cli_addr[NFLOW], srv_addr;
    parley_peer peer[NFLOW]; /* client side */
    int up[NFLOW];           /* connected */
    parley_sim *fwd, *back;
    pl_rng rng;
    uint64_t now;
    uint64_t sent[NFLOW], got[NFLOW], got_bytes[NFLOW], bad;
    uint8_t buf[MSG];
    uint8_t dgram[65536];
} shared_;

static int
flow_of(const shared_ *w, const parley_addr *a)
{
    for (int i = 0; i < NFLOW; i++) {
        if (parley_addr_equal(a, &w->cli_addr[i])) {
            return i;
        }
    }
    return -1;
}

static void
shared_events(shared_ *w)
{
    parley_event ev;
    for (int i = 0; i < NFLOW; i++) {
        while (pl_core_poll_event(w->cli[i], &ev) == PARLEY_OK) {
            if (ev.type == PARLEY_EVENT_CONNECT) {
                w->up[i] = 1;
            }
            pl_core_release_event(w->cli[i], &ev);
        }
    }
    while (pl_core_poll_event(w->srv, &ev) == PARLEY_OK) {
        int f = flow_of(w, &ev.addr);
        if (ev.type == PARLEY_EVENT_RECEIVE && f >= 0) {
            /* Flow f's messages carry index * NFLOW + f. */
            if (!check(ev.data, ev.len, w->got[f] * NFLOW + (uint64_t)f)) {
                w->bad++;
            }
            w->got[f]++;
            w->got_bytes[f] += ev.len;
        }
        pl_core_release_event(w->srv, &ev);
    }
}

static void
shared_feed(shared_ *w)
{
    for (int i = 0; i < NFLOW; i++) {
        parley_peer_stats st;
        if (!w->up[i] ||
            pl_core_peer_stats(w->cli[i], w->peer[i], &st) != PARLEY_OK) {
            continue;
        }
        while (st.out_buffer_bytes < 1024 * 1024) {
            fill(w->buf, w->sent[i] * NFLOW + (uint64_t)i);
            if (pl_core_send(w->cli[i], w->now, w->peer[i], 0, w->buf, MSG, 0,
                             NULL, NULL) != PARLEY_OK) {
                break;
            }
            w->sent[i]++;
            st.out_buffer_bytes += MSG;
        }
    }
}

/* Everything due at w->now, then the time of the next thing. */
static uint64_t
shared_step(shared_ *w)
{
    size_t len;
    parley_addr to, from;
    for (int busy = 1; busy;) {
        busy = 0;
        for (int i = 0; i < NFLOW; i++) {
            while (pl_core_next_datagram(w->cli[i], w->now, w->dgram,
                                         sizeof w->dgram, &len,
                                         &to) == PARLEY_OK) {
                parley_sim_push(w->fwd, w->now, w->dgram, len, &w->cli_addr[i],
                                &to);
                busy = 1;
            }
        }
        while (pl_core_next_datagram(w->srv, w->now, w->dgram, sizeof w->dgram,
                                     &len, &to) == PARLEY_OK) {
            parley_sim_push(w->back, w->now, w->dgram, len, &w->srv_addr, &to);
            busy = 1;
        }
        while (parley_sim_pop(w->fwd, w->now, w->dgram, sizeof w->dgram, &len,
                              &from, NULL) == PARLEY_OK) {
            pl_core_on_datagram(w->srv, w->now, &from, w->dgram, len);
            busy = 1;
        }
        while (parley_sim_pop(w->back, w->now, w->dgram, sizeof w->dgram, &len,
                              &from, &to) == PARLEY_OK) {
            int f = flow_of(w, &to);
            if (f >= 0) {
                pl_core_on_datagram(w->cli[f], w->now, &from, w->dgram, len);
            }
            busy = 1;
        }
        shared_events(w);
        shared_feed(w);
    }
    uint64_t t = pl_core_next_wakeup(w->srv);
    for (int i = 0; i < NFLOW; i++) {
        uint64_t c = pl_core_next_wakeup(w->cli[i]);
        t = c < t ? c : t;
    }
    uint64_t d = parley_sim_next_due_us(w->fwd);
    t = d < t ? d : t;
    d = parley_sim_next_due_us(w->back);
    t = d < t ? d : t;
    return t > w->now ? t : w->now + 1;
}

static void
shared_run(shared_ *w, uint64_t until)
{
    while (w->now < until) {
        uint64_t t = shared_step(w);
        w->now = t < until ? t : until;
    }
}

/* Flow 0 runs alone for 2 s, then flow 1 joins; over the 20 s after a
   5 s settling time each must get 35-65 % of what the link delivered,
   and together at least 85 % of the link, losing at most 2 % of their
   packets beyond the link's random loss (loss_pct, toward the server). */
static void
two_flows(uint64_t seed, double loss_pct)
{
    pt_seed(seed);
    const uint64_t rate = 2500000; /* 20 Mbit/s */
    shared_ *w = calloc(1, sizeof *w);
    PT_TRUE(w != NULL);
    w->now = 1000 * SN_SEC;
    pl_rng_seed(&w->rng, seed);
    parley_host_config cfg;
    sn_config(&cfg);
    parley_sim_config fwd, back;
    parley_sim_config_init(&fwd);
    fwd.latency_ms = 20;
    fwd.rate_bytes_per_s = rate;
    fwd.queue_bytes = 64 * 1024;
    fwd.seed = seed;
    fwd.loss_pct = loss_pct;
    sn_link(&back, 20);
    back.seed = seed + 1;
    fwd.path_mtu = back.path_mtu = 1472;
    PT_OK(parley_sim_create(&fwd, &w->fwd));
    PT_OK(parley_sim_create(&back, &w->back));
    parley_addr_loopback(PARLEY_AF_INET, 41000, &w->srv_addr);
    PT_OK(pl_core_create(&cfg, sn_random, &w->rng, w->now, &w->srv));
    for (int i = 0; i < NFLOW; i++) {
        parley_addr_loopback(PARLEY_AF_INET, (uint16_t)(41001 + i),
                             &w->cli_addr[i]);
        PT_OK(pl_core_create(&cfg, sn_random, &w->rng, w->now, &w->cli[i]));
    }
    PT_OK(
        pl_core_connect(w->cli[0], w->now, &w->srv_addr, NULL, 0, &w->peer[0]));
    shared_run(w, w->now + 2 * SN_SEC);
    PT_OK(
        pl_core_connect(w->cli[1], w->now, &w->srv_addr, NULL, 0, &w->peer[1]));
    shared_run(w, w->now + 5 * SN_SEC);
    PT_TRUE(w->up[0] && w->up[1]);
    uint64_t b0[NFLOW], lost0[NFLOW], out0[NFLOW];
    for (int i = 0; i < NFLOW; i++) {
        parley_peer_stats st;
        PT_OK(pl_core_peer_stats(w->cli[i], w->peer[i], &st));
        b0[i] = w->got_bytes[i];
        lost0[i] = st.packets_lost;
        out0[i] = st.packets_out;
    }
    uint64_t t0 = w->now;
    shared_run(w, w->now + 20 * SN_SEC);
    double secs = (double)(w->now - t0) / 1e6;
    double g[NFLOW], total = 0;
    for (int i = 0; i < NFLOW; i++) {
        parley_peer_stats st;
        PT_OK(pl_core_peer_stats(w->cli[i], w->peer[i], &st));
        g[i] = (double)(w->got_bytes[i] - b0[i]) / secs;
        total += g[i];
        double loss = 100.0 * (double)(st.packets_lost - lost0[i]) /
                      (double)(st.packets_out - out0[i]);
        printf("  flow %d: %.0f B/s, lost %.2f%% of its packets, srtt %" PRIu64
               " us, cwnd %" PRIu64 "\n",
               i, g[i], loss, st.srtt_us, st.cwnd_bytes);
        PT_LE_DBL(loss, loss_pct + 2.0);
    }
    printf("  together %.1f%% of the link\n", 100.0 * total / (double)rate);
    for (int i = 0; i < NFLOW; i++) {
        PT_GE_DBL(g[i], 0.35 * total);
        PT_LE_DBL(g[i], 0.65 * total);
    }
    PT_GE_DBL(total, 0.85 * (double)rate);
    PT_EQ_U64(w->bad, 0);
    for (int i = 0; i < NFLOW; i++) {
        pl_core_destroy(w->cli[i]);
    }
    pl_core_destroy(w->srv);
    parley_sim_destroy(w->fwd);
    parley_sim_destroy(w->back);
    free(w);
}

PT_TEST(two_flows_share)
{
    two_flows(95, 0.0);
}

/* The same with 2 % random loss: random-loss recovery must not let one
   flow crowd out the other. */
PT_TEST(two_flows_share_random_loss)
{
    two_flows(97, 2.0);
}

PT_MAIN(PT_RUN(rtt20_loss5_startup) PT_RUN(rtt20_loss5_short_queue)
            PT_RUN(rtt20_loss5_unlimited) PT_RUN(deep_queue_slow_start_exit)
                PT_RUN(loss20_completes) PT_RUN(two_flows_share)
                    PT_RUN(two_flows_share_random_loss))
