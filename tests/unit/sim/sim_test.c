/*
 * Tests for the link simulator (src/sim/sim.c). Every run is in virtual
 * time and measures from the outside what came out of the pipe; a failing
 * test prints its seed (set PARLEY_TEST_SEED to try another one).
 */
#include "pt.h"

#include <math.h>

#include "parley/parley.h"
#include "util/alloc.h"

#define BIG 65536
#define MAX_N 1000000

static uint8_t g_in[BIG + 64];
static uint8_t g_out[BIG + 64];
static uint8_t g_want[BIG + 64];
static uint32_t g_copies[MAX_N]; /* deliveries per sequence number */

static uint64_t
seed_for(uint64_t dflt)
{
    const char *e = getenv("PARLEY_TEST_SEED");
    uint64_t s = (e && *e) ? strtoull(e, NULL, 0) : dflt;
    pt_seed(s);
    return s;
}

static uint8_t g_noise[BIG + 512]; /* see fill */

/* A payload: its sequence number (8 bytes, little-endian), then bytes of
   a fixed noise table read from an offset that depends on the sequence
   number, so each byte depends on both. memcpy keeps it cheap under ASan. */
static void
fill(uint8_t *b, uint64_t seq, size_t len)
{
    if (g_noise[0] == 0) {
        uint32_t x = 0x9e3779b9u;
        for (size_t i = 0; i < sizeof g_noise; i++) {
            x = x * 1664525u + 1013904223u;
            g_noise[i] = (uint8_t)(x >> 24);
        }
        g_noise[0] = 1;
    }
    for (size_t i = 0; i < 8 && i < len; i++) {
        b[i] = (uint8_t)(seq >> (8 * i));
    }
    if (len > 8) {
        memcpy(b + 8, g_noise + 8 + seq % 499, len - 8);
    }
}

static uint64_t
seq_of(const uint8_t *b)
{
    uint64_t s = 0;
    for (int i = 7; i >= 0; i--) {
        s = (s << 8) | b[i];
    }
    return s;
}

static parley_addr
addr_for(uint64_t seq, uint8_t salt)
{
    parley_addr a;
    memset(&a, 0, sizeof a);
    a.family = PARLEY_AF_INET;
    a.ip[0] = 127;
    a.ip[3] = salt;
    a.port = (uint16_t)(seq * 3 + salt);
    return a;
}

static size_t
len_short(uint64_t seq)
{
    return 8 + (size_t)(seq % 57);
}

static size_t
len_1000(uint64_t seq)
{
    (void)seq;
    return 1000;
}

/* Lengths over several buffer size classes (8..1472 bytes). */
static size_t
len_spread(uint64_t seq)
{
    return 8 + (size_t)((seq * 7919) % 1465);
}

static size_t
len_mixed(uint64_t seq)
{
    if (seq % 997 == 5) {
        return BIG; /* the longest the default config accepts */
    }
    return len_spread(seq);
}

struct run;
typedef void (*deliver_fn)(struct run *r, uint64_t now, uint64_t seq,
                           size_t len, int late);

/* One run: n datagrams, one every period_us, popped exactly when due. */
struct run {
    parley_sim *sim;
    uint64_t n;
    uint64_t period_us;
    size_t (*len_of)(uint64_t seq);
    size_t queue_check; /* nonzero: stats.held_bytes must stay within */
    deliver_fn on_deliver;
    void *ctx;
    /* measured */
    uint64_t delivered;
    uint64_t unique;
    uint64_t extra;       /* copies beyond the first */
    uint64_t late;        /* delivered below the highest already delivered */
    uint64_t late_unique; /* of those, first deliveries */
    uint64_t max_seq;
    int any;
    parley_sim_stats stats; /* at the end of run_link */
};

/* Pops one datagram at now and checks every byte and both addresses. */
static void
deliver(struct run *r, uint64_t now)
{
    size_t len = 0;
    parley_addr from, to;
    PT_OK(parley_sim_pop(r->sim, now, g_out, sizeof g_out, &len, &from, &to));
    PT_GE_U64(len, 8);
    uint64_t seq = seq_of(g_out);
    PT_LT_U64(seq, r->n);
    PT_EQ_U64(len, r->len_of(seq));
    fill(g_want, seq, len);
    if (memcmp(g_out, g_want, len) != 0) {
        PT_EQ_MEM(g_out, g_want, len); /* reports the first bad byte */
    }
    parley_addr want_from = addr_for(seq, 1), want_to = addr_for(seq, 2);
    PT_EQ_MEM(&from, &want_from, sizeof from);
    PT_EQ_MEM(&to, &want_to, sizeof to);
    int late = r->any && seq < r->max_seq;
    r->delivered++;
    r->late += late;
    if (g_copies[seq]++ == 0) {
        r->unique++;
        r->late_unique += late;
    } else {
        r->extra++;
    }
    if (!r->any || seq > r->max_seq) {
        r->max_seq = seq;
        r->any = 1;
    }
    if (r->on_deliver) {
        r->on_deliver(r, now, seq, len, late);
    }
}

static void
deliver_until(struct run *r, uint64_t t)
{
    for (;;) {
        uint64_t due = parley_sim_next_due_us(r->sim);
        if (due > t) {
            return;
        }
        deliver(r, due);
    }
}

static void
run_link(struct run *r)
{
    PT_LE_U64(r->n, MAX_N);
    memset(g_copies, 0, r->n * sizeof g_copies[0]);
    for (uint64_t i = 0; i < r->n; i++) {
        uint64_t t = i * r->period_us;
        deliver_until(r, t);
        size_t len = r->len_of(i);
        fill(g_in, i, len);
        parley_addr f = addr_for(i, 1), to = addr_for(i, 2);
        PT_OK(parley_sim_push(r->sim, t, g_in, len, &f, &to));
        if (r->queue_check) {
            parley_sim_stats s;
            parley_sim_get_stats(r->sim, &s);
            PT_LE_U64(s.held_bytes, r->queue_check);
        }
    }
    deliver_until(r, UINT64_MAX - 1);
    parley_sim_stats s;
    parley_sim_get_stats(r->sim, &s);
    PT_EQ_U64(s.held, 0);
    PT_EQ_U64(s.held_bytes, 0);
    PT_EQ_U64(s.pushed, r->n);
    PT_EQ_U64(s.delivered, r->delivered);
    PT_EQ_U64(s.duplicated, r->extra);
    PT_EQ_U64(s.dropped_loss + s.dropped_queue, r->n - r->unique);
    r->stats = s;
}

/* Creates a simulator and runs n datagrams through it; r is zeroed. */
static void
run_config(struct run *r, const parley_sim_config *cfg, uint64_t n,
           uint64_t period_us, size_t (*len_of)(uint64_t))
{
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(cfg, &sim));
    deliver_fn fn = r->on_deliver;
    void *ctx = r->ctx;
    size_t qc = r->queue_check;
    memset(r, 0, sizeof *r);
    r->sim = sim;
    r->n = n;
    r->period_us = period_us;
    r->len_of = len_of;
    r->on_deliver = fn;
    r->ctx = ctx;
    r->queue_check = qc;
    run_link(r);
    parley_sim_destroy(sim);
    r->sim = NULL;
}

/* ---- measured rates --------------------------------------------------- */

PT_TEST(loss_rate_matches_setting)
{
    const double pcts[] = {5.0, 20.0, 50.0};
    uint64_t seed = seed_for(101);
    for (size_t k = 0; k < 3; k++) {
        parley_sim_config cfg;
        parley_sim_config_init(&cfg);
        cfg.seed = seed + k;
        cfg.loss_pct = pcts[k];
        struct run r = {0};
        run_config(&r, &cfg, 100000, 100, len_short);
        double loss = 100.0 * (1.0 - (double)r.unique / (double)r.n);
        PT_NEAR_DBL(loss, pcts[k], 1.0);
        PT_EQ_U64(r.stats.dropped_queue, 0);
        PT_EQ_U64(r.extra, 0);
        PT_EQ_U64(r.late, 0);
    }
}

PT_TEST(dup_rate_matches_setting)
{
    const double pcts[] = {5.0, 20.0, 50.0};
    uint64_t seed = seed_for(202);
    for (size_t k = 0; k < 3; k++) {
        parley_sim_config cfg;
        parley_sim_config_init(&cfg);
        cfg.seed = seed + k;
        cfg.dup_pct = pcts[k];
        cfg.latency_ms = 3;
        struct run r = {0};
        run_config(&r, &cfg, 100000, 100, len_short);
        PT_EQ_U64(r.unique, r.n);
        PT_NEAR_DBL(100.0 * (double)r.extra / (double)r.n, pcts[k], 1.0);
        PT_EQ_U64(r.late, 0); /* a copy follows its original at once */
    }
}

PT_TEST(reorder_rate_matches_setting)
{
    const double pcts[] = {5.0, 20.0, 50.0};
    uint64_t seed = seed_for(303);
    for (size_t k = 0; k < 3; k++) {
        parley_sim_config cfg;
        parley_sim_config_init(&cfg);
        cfg.seed = seed + k;
        cfg.reorder_pct = pcts[k];
        cfg.latency_ms = 5;
        struct run r = {0};
        run_config(&r, &cfg, 100000, 100, len_short);
        PT_EQ_U64(r.unique, r.n);
        PT_NEAR_DBL(100.0 * (double)r.late / (double)r.delivered, pcts[k], 1.0);
        /* Every held-back datagram is overtaken, except perhaps a few held
           in the last hold time (10 ms = 100 datagrams) of the run. */
        PT_LE_U64(r.late_unique, r.stats.reordered);
        PT_GE_U64(r.late_unique + 100, r.stats.reordered);
    }
}

struct combo {
    double loss, dup, reorder;
    uint32_t latency_ms, jitter_ms;
};

PT_TEST(combined_rates_match_settings)
{
    const struct combo c[] = {
        {10.0, 10.0, 10.0, 30, 5},
        {3.0, 7.0, 15.0, 10, 0},
        {25.0, 5.0, 5.0, 50, 20},
    };
    uint64_t seed = seed_for(404);
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        parley_sim_config cfg;
        parley_sim_config_init(&cfg);
        cfg.seed = seed + k;
        cfg.loss_pct = c[k].loss;
        cfg.dup_pct = c[k].dup;
        cfg.reorder_pct = c[k].reorder;
        cfg.latency_ms = c[k].latency_ms;
        cfg.jitter_ms = c[k].jitter_ms;
        struct run r = {0};
        run_config(&r, &cfg, 100000, 100, len_short);
        double loss = 100.0 * (1.0 - (double)r.unique / (double)r.n);
        PT_NEAR_DBL(loss, c[k].loss, 1.0);
        /* Copies and hold-backs happen to datagrams that survived. */
        PT_NEAR_DBL(100.0 * (double)r.extra / (double)r.unique, c[k].dup, 1.0);
        PT_NEAR_DBL(100.0 * (double)r.late / (double)r.delivered, c[k].reorder,
                    1.0);
    }
}

/* ---- delay, jitter, order --------------------------------------------- */

struct delay_check {
    uint64_t lo, hi, hold;
    uint64_t min_in_order, max_in_order;
    uint64_t n_late;
};

static void
check_delay(struct run *r, uint64_t now, uint64_t seq, size_t len, int late)
{
    (void)len;
    struct delay_check *d = r->ctx;
    uint64_t sent = seq * r->period_us;
    PT_GE_U64(now, sent);
    uint64_t delay = now - sent;
    /* A held-back datagram counts as late once something overtook it;
       only one pushed in the last hold + delay of the run may not be. */
    uint64_t last_sent = (r->n - 1) * r->period_us;
    if (!late && delay > d->hi && sent + d->hi + d->hold >= last_sent) {
        late = 1;
    }
    if (late) {
        PT_GE_U64(delay, d->lo + d->hold);
        PT_LE_U64(delay, d->hi + d->hold);
        d->n_late++;
    } else {
        PT_GE_U64(delay, d->lo);
        PT_LE_U64(delay, d->hi);
        if (delay < d->min_in_order) {
            d->min_in_order = delay;
        }
        if (delay > d->max_in_order) {
            d->max_in_order = delay;
        }
    }
}

/* Runs one config and checks every delivery's delay against the band. */
static void
delay_run(parley_sim_config *cfg, uint64_t n, uint64_t period, uint64_t hold_us,
          struct delay_check *d)
{
    uint64_t lat = (uint64_t)cfg->latency_ms * 1000;
    uint64_t jit = (uint64_t)cfg->jitter_ms * 1000;
    memset(d, 0, sizeof *d);
    d->lo = lat > jit ? lat - jit : 0;
    d->hi = lat + jit;
    d->hold = hold_us;
    d->min_in_order = UINT64_MAX;
    struct run r = {0};
    r.on_deliver = check_delay;
    r.ctx = d;
    run_config(&r, cfg, n, period, len_short);
    PT_EQ_U64(r.unique, n);
}

PT_TEST(delay_within_latency_and_jitter)
{
    uint64_t seed = seed_for(505);
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed;
    cfg.latency_ms = 40;
    cfg.jitter_ms = 10;
    cfg.reorder_pct = 20.0;
    cfg.reorder_ms = 30;
    struct delay_check d;
    delay_run(&cfg, 100000, 100, 30000, &d);
    PT_NEAR_DBL(d.n_late / 1000.0, 20.0, 1.0);

    /* Default hold: jitter_ms when larger than 10 ms ... */
    cfg.reorder_ms = 0;
    cfg.jitter_ms = 15;
    delay_run(&cfg, 50000, 100, 15000, &d);
    PT_GT_U64(d.n_late, 0);
    /* ... otherwise 10 ms. */
    cfg.jitter_ms = 4;
    delay_run(&cfg, 50000, 100, 10000, &d);
    PT_GT_U64(d.n_late, 0);

    /* No jitter: every in-order delay is exactly the latency. */
    cfg.jitter_ms = 0;
    cfg.reorder_pct = 0.0;
    cfg.latency_ms = 25;
    delay_run(&cfg, 20000, 100, 0, &d);
    PT_EQ_U64(d.min_in_order, 25000);
    PT_EQ_U64(d.max_in_order, 25000);

    /* Jitter larger than the latency: clamped at 0, still in the band. */
    cfg.latency_ms = 5;
    cfg.jitter_ms = 20;
    delay_run(&cfg, 20000, 3000, 0, &d);
    PT_LT_U64(d.min_in_order, 5000);
}

PT_TEST(jitter_alone_keeps_order)
{
    uint64_t seed = seed_for(606);
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed;
    cfg.latency_ms = 20;
    cfg.jitter_ms = 15;
    struct delay_check d;
    memset(&d, 0, sizeof d);
    d.lo = 5000;
    d.hi = 35000;
    d.min_in_order = UINT64_MAX;
    struct run r = {0};
    r.on_deliver = check_delay;
    r.ctx = &d;
    /* Datagrams 1 ms apart with +-15 ms jitter would overtake each other
       all the time if jitter were applied naively. */
    run_config(&r, &cfg, 50000, 1000, len_short);
    PT_EQ_U64(r.late, 0);
    PT_EQ_U64(d.n_late, 0);
    PT_EQ_U64(r.unique, 50000);
    /* The jitter is really there. */
    PT_GE_U64(d.max_in_order - d.min_in_order, 15000);
}

PT_TEST(ties_pop_in_push_order)
{
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed_for(707);
    cfg.latency_ms = 10;
    cfg.dup_pct = 50.0;
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(&cfg, &sim));
    PT_EQ_U64(parley_sim_next_due_us(sim), UINT64_MAX);
    for (uint64_t i = 0; i < 200; i++) {
        fill(g_in, i, 16);
        PT_OK(parley_sim_push(sim, 1000, g_in, 16, NULL, NULL));
    }
    PT_EQ_U64(parley_sim_next_due_us(sim), 11000);
    size_t len = 0;
    PT_ERR(parley_sim_pop(sim, 10999, g_out, sizeof g_out, &len, NULL, NULL),
           PARLEY_EAGAIN);
    uint64_t expect = 0, copies = 0;
    parley_addr from;
    while (parley_sim_pop(sim, 11000, g_out, sizeof g_out, &len, &from, NULL) ==
           PARLEY_OK) {
        uint64_t seq = seq_of(g_out);
        PT_EQ_INT(from.family, PARLEY_AF_UNSPEC); /* pushed with NULL */
        if (seq + 1 == expect) {
            copies++; /* the copy, right after its original */
        } else {
            PT_EQ_U64(seq, expect);
            expect++;
        }
    }
    PT_EQ_U64(expect, 200);
    parley_sim_stats s;
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(copies, s.duplicated);
    PT_GT_U64(copies, 50);
    parley_sim_destroy(sim);
}

/* ---- rate limit ------------------------------------------------------- */

struct rate_check {
    uint64_t from_us, to_us, bytes; /* delivered in the window */
    double rate;                    /* for the exact-time model */
    double link_free;
    uint64_t latency_us;
    int exact;
};

static void
check_rate(struct run *r, uint64_t now, uint64_t seq, size_t len, int late)
{
    struct rate_check *c = r->ctx;
    PT_EQ_INT(late, 0); /* a bottleneck is FIFO */
    if (now >= c->from_us && now < c->to_us) {
        c->bytes += len;
    }
    if (c->exact) {
        /* Datagrams not delivered before this one were dropped and never
           used the link. */
        double sent = (double)(seq * r->period_us);
        double start = sent > c->link_free ? sent : c->link_free;
        c->link_free = start + (double)len * 1e6 / c->rate;
        double want = ceil(c->link_free - 1e-6) + (double)c->latency_us;
        PT_NEAR_DBL((double)now, want, 1.0);
    }
}

PT_TEST(rate_limit_throughput_and_queue)
{
    uint64_t seed = seed_for(808);
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed;
    cfg.rate_bytes_per_s = 1000000;
    /* 1000 bytes every 500 us: twice the rate, for 20 s. */
    struct rate_check c = {0};
    c.from_us = 2000000;
    c.to_us = 20000000;
    struct run r = {0};
    r.on_deliver = check_rate;
    r.ctx = &c;
    r.queue_check = 65536; /* the default queue */
    run_config(&r, &cfg, 40000, 500, len_1000);
    double got = (double)c.bytes / 18.0;
    PT_NEAR_DBL(got / 1e6, 1.0, 0.02);
    double dropped = 1.0 - (double)r.unique / (double)r.n;
    PT_NEAR_DBL(dropped, 0.5, 0.02);

    /* A small queue, a rate that does not divide evenly, and latency:
       each delivery time matches queueing + serialisation + latency. */
    cfg.rate_bytes_per_s = 1234567;
    cfg.queue_bytes = 10000;
    cfg.latency_ms = 20;
    memset(&c, 0, sizeof c);
    c.exact = 1;
    c.rate = 1234567.0;
    c.latency_us = 20000;
    r.queue_check = 0;
    run_config(&r, &cfg, 20000, 400, len_1000);
    PT_GT_U64(r.n - r.unique, 1000); /* 2.5 MB/s offered: drops */

    /* Under the rate nothing is dropped, and each datagram takes its
       serialisation time plus latency. */
    cfg.rate_bytes_per_s = 1000000;
    cfg.queue_bytes = 0;
    memset(&c, 0, sizeof c);
    c.exact = 1;
    c.rate = 1e6;
    c.latency_us = 20000;
    run_config(&r, &cfg, 20000, 2000, len_1000);
    PT_EQ_U64(r.unique, r.n);
}

PT_TEST(rate_limit_queue_bound_counts_drops)
{
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed_for(909);
    cfg.rate_bytes_per_s = 100000;
    cfg.queue_bytes = 5000;
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(&cfg, &sim));
    /* A burst of 20 x 1000 bytes at once: 5 fit, 15 are tail-dropped. */
    for (uint64_t i = 0; i < 20; i++) {
        fill(g_in, i, 1000);
        PT_OK(parley_sim_push(sim, 0, g_in, 1000, NULL, NULL));
    }
    parley_sim_stats s;
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(s.held, 5);
    PT_EQ_U64(s.held_bytes, 5000);
    PT_EQ_U64(s.dropped_queue, 15);
    PT_EQ_U64(s.dropped_loss, 0);
    /* 10 ms per datagram: the first leaves at 10 ms, freeing room. */
    PT_EQ_U64(parley_sim_next_due_us(sim), 10000);
    size_t len;
    PT_OK(parley_sim_pop(sim, 10000, g_out, sizeof g_out, &len, NULL, NULL));
    PT_EQ_U64(seq_of(g_out), 0);
    fill(g_in, 20, 1000);
    PT_OK(parley_sim_push(sim, 10000, g_in, 1000, NULL, NULL));
    PT_OK(parley_sim_push(sim, 10000, g_in, 1000, NULL, NULL));
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(s.held, 5);
    PT_EQ_U64(s.dropped_queue, 16);
    parley_sim_destroy(sim);
}

/* ---- Gilbert-Elliott -------------------------------------------------- */

PT_TEST(gilbert_elliott_bursts)
{
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed_for(1010);
    cfg.ge_p_pct = 1.0;
    cfg.ge_r_pct = 20.0;
    cfg.ge_loss_bad_pct = 100.0;
    cfg.ge_loss_good_pct = 0.0;
    struct run r = {0};
    const uint64_t n = 400000;
    run_config(&r, &cfg, n, 10, len_short);
    uint64_t bursts = 0, lost = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (g_copies[i] == 0) {
            lost++;
            bursts += (i == 0 || g_copies[i - 1] != 0);
        }
    }
    PT_GT_U64(bursts, 1000);
    double mean = (double)lost / (double)bursts;
    PT_NEAR_DBL(mean, 1.0 / 0.20, 0.5);
    double stationary = 0.01 / (0.01 + 0.20);
    PT_NEAR_DBL((double)lost / (double)n, stationary, 0.005);

    /* Losses in both states, on top of independent loss. */
    cfg.ge_p_pct = 5.0;
    cfg.ge_r_pct = 25.0;
    cfg.ge_loss_bad_pct = 60.0;
    cfg.ge_loss_good_pct = 1.0;
    cfg.loss_pct = 10.0;
    run_config(&r, &cfg, 200000, 10, len_short);
    double pi_bad = 5.0 / 30.0;
    double ge = pi_bad * 0.60 + (1.0 - pi_bad) * 0.01;
    double want = 1.0 - (1.0 - 0.10) * (1.0 - ge);
    PT_NEAR_DBL(1.0 - (double)r.unique / 200000.0, want, 0.007);
}

/* ---- determinism ------------------------------------------------------ */

struct log {
    uint8_t *buf;
    size_t len, cap;
};

static void
log_add(struct log *l, const void *p, size_t n)
{
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1 << 20;
        while (cap < l->len + n) {
            cap *= 2;
        }
        uint8_t *b = realloc(l->buf, cap);
        PT_TRUE(b != NULL);
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
}

static void
log_delivery(struct run *r, uint64_t now, uint64_t seq, size_t len, int late)
{
    (void)seq;
    (void)late;
    struct log *l = r->ctx;
    uint64_t rec[2] = {now, len};
    log_add(l, rec, sizeof rec);
    log_add(l, g_out, len);
}

static void
full_config(parley_sim_config *cfg, uint64_t seed)
{
    parley_sim_config_init(cfg);
    cfg->seed = seed;
    cfg->loss_pct = 5.0;
    cfg->dup_pct = 5.0;
    cfg->reorder_pct = 5.0;
    cfg->latency_ms = 20;
    cfg->jitter_ms = 5;
    cfg->rate_bytes_per_s = 2000000;
    cfg->queue_bytes = 20000;
    cfg->ge_p_pct = 1.0;
    cfg->ge_r_pct = 30.0;
    cfg->ge_loss_bad_pct = 50.0;
}

static void
logged_run(const parley_sim_config *cfg, struct log *l)
{
    memset(l, 0, sizeof *l);
    struct run r = {0};
    r.on_deliver = log_delivery;
    r.ctx = l;
    run_config(&r, cfg, 20000, 100, len_short);
}

PT_TEST(same_seed_same_log)
{
    uint64_t seed = seed_for(1111);
    parley_sim_config cfg;
    struct log a, b, c;
    full_config(&cfg, seed);
    logged_run(&cfg, &a);
    logged_run(&cfg, &b);
    cfg.seed = seed + 1;
    logged_run(&cfg, &c);
    PT_GT_U64(a.len, 100000);
    PT_EQ_U64(a.len, b.len);
    PT_EQ_MEM(a.buf, b.buf, a.len);
    PT_TRUE(a.len != c.len || memcmp(a.buf, c.buf, a.len) != 0);
    free(a.buf);
    free(b.buf);
    free(c.buf);
}

/* Which datagrams are lost must not depend on dup, reorder or delay
   settings: each decision has its own draw. */
PT_TEST(settings_do_not_shift_draws)
{
    static uint8_t lost_a[100000];
    uint64_t seed = seed_for(1212);
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed;
    cfg.loss_pct = 20.0;
    cfg.ge_p_pct = 2.0;
    cfg.ge_r_pct = 30.0;
    cfg.ge_loss_bad_pct = 80.0;
    struct run r = {0};
    run_config(&r, &cfg, 100000, 100, len_short);
    for (size_t i = 0; i < 100000; i++) {
        lost_a[i] = g_copies[i] == 0;
    }
    cfg.dup_pct = 30.0;
    cfg.reorder_pct = 30.0;
    cfg.latency_ms = 10;
    cfg.jitter_ms = 5;
    run_config(&r, &cfg, 100000, 100, len_short);
    for (size_t i = 0; i < 100000; i++) {
        PT_EQ_INT(lost_a[i], g_copies[i] == 0);
    }
    PT_GT_U64(r.extra, 10000);
}

/* ---- payload integrity ------------------------------------------------ */

PT_TEST(bytes_arrive_intact)
{
    uint64_t seed = seed_for(1313);
    parley_sim_config cfg;
    full_config(&cfg, seed);
    cfg.rate_bytes_per_s = 0;
    cfg.dup_pct = 20.0;
    cfg.reorder_pct = 20.0;
    struct run r = {0};
    /* deliver() compares every byte and both addresses. */
    run_config(&r, &cfg, 20000, 200, len_mixed);
    PT_GT_U64(r.extra, 2000);
    PT_GT_U64(r.late, 2000);

    /* A zero-length datagram, with and without a buffer. */
    parley_sim *sim = NULL;
    parley_sim_config_init(&cfg);
    PT_OK(parley_sim_create(&cfg, &sim));
    PT_OK(parley_sim_push(sim, 0, NULL, 0, NULL, NULL));
    PT_OK(parley_sim_push(sim, 0, g_in, 0, NULL, NULL));
    size_t len = 99;
    PT_OK(parley_sim_pop(sim, 0, NULL, 0, &len, NULL, NULL));
    PT_EQ_U64(len, 0);
    len = 99;
    PT_OK(parley_sim_pop(sim, 0, g_out, 4, &len, NULL, NULL));
    PT_EQ_U64(len, 0);
    PT_ERR(parley_sim_pop(sim, 0, g_out, 4, &len, NULL, NULL), PARLEY_EAGAIN);
    parley_sim_destroy(sim);
}

/* ---- run-time configuration ------------------------------------------- */

struct phase_check {
    uint64_t boundary; /* first seq pushed after the change */
    uint64_t before_us, after_us;
};

static void
check_phase(struct run *r, uint64_t now, uint64_t seq, size_t len, int late)
{
    (void)len;
    (void)late;
    struct phase_check *p = r->ctx;
    uint64_t delay = now - seq * r->period_us;
    PT_EQ_U64(delay, seq < p->boundary ? p->before_us : p->after_us);
}

/* Pushes seq first..last-1 through r, delivering as it goes. */
static void
push_range(struct run *r, uint64_t first, uint64_t last)
{
    for (uint64_t i = first; i < last; i++) {
        uint64_t t = i * r->period_us;
        deliver_until(r, t);
        size_t len = r->len_of(i);
        fill(g_in, i, len);
        parley_addr f = addr_for(i, 1), to = addr_for(i, 2);
        PT_OK(parley_sim_push(r->sim, t, g_in, len, &f, &to));
    }
}

static void
phase_run(parley_sim_config *cfg, const parley_sim_config *later,
          struct phase_check *p, struct run *r)
{
    memset(r, 0, sizeof *r);
    memset(g_copies, 0, sizeof g_copies);
    r->n = 4000;
    r->period_us = 100;
    r->len_of = len_short;
    r->on_deliver = check_phase;
    r->ctx = p;
    PT_OK(parley_sim_create(cfg, &r->sim));
    push_range(r, 0, p->boundary);
    PT_OK(parley_sim_configure(r->sim, later));
    push_range(r, p->boundary, r->n);
    deliver_until(r, UINT64_MAX - 1);
    parley_sim_destroy(r->sim);
    r->sim = NULL;
}

PT_TEST(configure_applies_to_later_datagrams)
{
    uint64_t seed = seed_for(1414);
    parley_sim_config a, b;
    parley_sim_config_init(&a);
    a.seed = seed;
    a.latency_ms = 10;
    b = a;
    b.latency_ms = 50;
    b.loss_pct = 50.0;
    struct phase_check p = {2000, 10000, 50000};
    struct run r;
    phase_run(&a, &b, &p, &r);
    uint64_t lost_before = 0, lost_after = 0;
    for (uint64_t i = 0; i < 4000; i++) {
        if (g_copies[i] == 0) {
            lost_before += i < 2000;
            lost_after += i >= 2000;
        }
    }
    PT_EQ_U64(lost_before, 0);
    PT_NEAR_DBL(lost_after / 2000.0, 0.5, 0.05);

    /* A lower latency takes effect at once, even with datagrams still in
       flight under the old one. */
    a.latency_ms = 100;
    b = a;
    b.latency_ms = 5;
    struct phase_check q = {2000, 100000, 5000};
    phase_run(&a, &b, &q, &r);
    PT_EQ_U64(r.unique, 4000);
}

PT_TEST(configure_keeps_random_sequence)
{
    uint64_t seed = seed_for(1515);
    parley_sim_config cfg;
    full_config(&cfg, seed);
    struct log plain, changed;
    logged_run(&cfg, &plain);

    /* Same settings, set again half way with another seed: the seed is
       ignored and the random sequence goes on. */
    memset(&changed, 0, sizeof changed);
    struct run r = {0};
    r.n = 20000;
    r.period_us = 100;
    r.len_of = len_short;
    r.on_deliver = log_delivery;
    r.ctx = &changed;
    memset(g_copies, 0, sizeof g_copies);
    PT_OK(parley_sim_create(&cfg, &r.sim));
    push_range(&r, 0, 10000);
    parley_sim_config again = cfg;
    again.seed = seed + 12345;
    PT_OK(parley_sim_configure(r.sim, &again));
    push_range(&r, 10000, 20000);
    deliver_until(&r, UINT64_MAX - 1);
    parley_sim_destroy(r.sim);
    PT_EQ_U64(plain.len, changed.len);
    PT_EQ_MEM(plain.buf, changed.buf, plain.len);
    free(plain.buf);
    free(changed.buf);
}

/* ---- errors ----------------------------------------------------------- */

PT_TEST(bad_arguments)
{
    parley_sim_config cfg;
    parley_sim *sim = NULL;
    parley_sim_config_init(&cfg);
    PT_ERR(parley_sim_create(NULL, &sim), PARLEY_EINVAL);
    PT_ERR(parley_sim_create(&cfg, NULL), PARLEY_EINVAL);
    const double bad[] = {-0.001, 100.001, NAN, INFINITY, -INFINITY};
    for (int field = 0; field < 7; field++) {
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            parley_sim_config c;
            parley_sim_config_init(&c);
            double *f[] = {&c.loss_pct,       &c.dup_pct,  &c.reorder_pct,
                           &c.ge_p_pct,       &c.ge_r_pct, &c.ge_loss_good_pct,
                           &c.ge_loss_bad_pct};
            *f[field] = bad[k];
            PT_ERR(parley_sim_create(&c, &sim), PARLEY_EINVAL);
            *f[field] = 100.0;
            PT_OK(parley_sim_create(&c, &sim));
            *f[field] = bad[k];
            PT_ERR(parley_sim_configure(sim, &c), PARLEY_EINVAL);
            parley_sim_destroy(sim);
            sim = NULL;
        }
    }
    cfg.max_datagram = 100;
    PT_OK(parley_sim_create(&cfg, &sim));
    PT_ERR(parley_sim_configure(NULL, &cfg), PARLEY_EINVAL);
    PT_ERR(parley_sim_configure(sim, NULL), PARLEY_EINVAL);
    PT_ERR(parley_sim_push(NULL, 0, g_in, 10, NULL, NULL), PARLEY_EINVAL);
    PT_ERR(parley_sim_push(sim, 0, NULL, 10, NULL, NULL), PARLEY_EINVAL);
    PT_ERR(parley_sim_push(sim, 0, g_in, 101, NULL, NULL), PARLEY_EMSGSIZE);
    PT_OK(parley_sim_push(sim, 0, g_in, 100, NULL, NULL));
    size_t len;
    PT_ERR(parley_sim_pop(NULL, 0, g_out, 10, &len, NULL, NULL), PARLEY_EINVAL);
    PT_ERR(parley_sim_pop(sim, 0, g_out, 10, NULL, NULL, NULL), PARLEY_EINVAL);
    PT_ERR(parley_sim_pop(sim, 0, NULL, 10, &len, NULL, NULL), PARLEY_EINVAL);
    parley_sim_stats s;
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(s.pushed, 1); /* failed calls count nothing */
    PT_EQ_U64(s.held, 1);
    parley_sim_destroy(sim);
    parley_sim_destroy(NULL);
    PT_EQ_U64(parley_sim_next_due_us(NULL), UINT64_MAX);
    memset(&s, 0xff, sizeof s);
    parley_sim_get_stats(NULL, &s);
    PT_EQ_U64(s.pushed, 0);

    /* The default largest datagram is 65536 bytes. */
    parley_sim_config_init(&cfg);
    PT_OK(parley_sim_create(&cfg, &sim));
    PT_ERR(parley_sim_push(sim, 0, g_in, BIG + 1, NULL, NULL), PARLEY_EMSGSIZE);
    PT_OK(parley_sim_push(sim, 0, g_in, BIG, NULL, NULL));
    parley_sim_destroy(sim);
}

PT_TEST(small_buffer_leaves_datagram_queued)
{
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(&cfg, &sim));
    fill(g_in, 7, 300);
    parley_addr f = addr_for(7, 1);
    PT_OK(parley_sim_push(sim, 10, g_in, 300, &f, NULL));
    size_t len = 0;
    PT_ERR(parley_sim_pop(sim, 10, g_out, 299, &len, NULL, NULL),
           PARLEY_ETRUNC);
    PT_EQ_U64(len, 300);
    PT_ERR(parley_sim_pop(sim, 10, NULL, 0, &len, NULL, NULL), PARLEY_ETRUNC);
    parley_sim_stats s;
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(s.held, 1);
    PT_EQ_U64(s.delivered, 0);
    PT_EQ_U64(parley_sim_next_due_us(sim), 10);
    parley_addr from;
    PT_OK(parley_sim_pop(sim, 10, g_out, 300, &len, &from, NULL));
    PT_EQ_U64(len, 300);
    PT_EQ_MEM(g_out, g_in, 300);
    PT_EQ_MEM(&from, &f, sizeof f);
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(s.delivered, 1);
    PT_EQ_U64(s.bytes_delivered, 300);
    PT_EQ_U64(s.held, 0);
    parley_sim_destroy(sim);
}

/* ---- memory ----------------------------------------------------------- */

PT_TEST(max_held_drops_beyond_limit)
{
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.latency_ms = 1000;
    cfg.max_held = 10;
    cfg.dup_pct = 100.0;
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(&cfg, &sim));
    for (uint64_t i = 0; i < 25; i++) {
        fill(g_in, i, 20);
        PT_OK(parley_sim_push(sim, i, g_in, 20, NULL, NULL));
    }
    parley_sim_stats s;
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(s.held, 10); /* five datagrams and their copies */
    PT_EQ_U64(s.duplicated, 5);
    PT_EQ_U64(s.dropped_queue, 20);
    parley_sim_destroy(sim);
}

PT_TEST(million_datagrams_bounded)
{
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed_for(1616);
    cfg.latency_ms = 4000000000u; /* never due within the test */
    cfg.jitter_ms = 1000;
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(&cfg, &sim));
    uint64_t allocs = 0;
    int64_t live = 0;
    parley_sim_stats s;
    for (uint64_t i = 0; i < 1000000; i++) {
        fill(g_in, i, 16);
        PT_OK(parley_sim_push(sim, i, g_in, 16, NULL, NULL));
        if (i == 100000) {
            allocs = pl_alloc_count();
            live = pl_alloc_live();
        }
    }
    parley_sim_get_stats(sim, &s);
    PT_EQ_U64(s.held, 65536); /* the default max_held */
    PT_EQ_U64(s.dropped_queue, 1000000 - 65536);
    PT_EQ_U64(pl_alloc_count(), allocs);
    PT_EQ_INT(pl_alloc_live(), live);
    parley_sim_destroy(sim);
}

PT_TEST(steady_state_does_not_allocate)
{
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.seed = seed_for(1717);
    cfg.latency_ms = 10;
    cfg.jitter_ms = 2;
    cfg.dup_pct = 10.0;
    cfg.reorder_pct = 10.0;
    cfg.loss_pct = 5.0;
    cfg.rate_bytes_per_s = 20000000;
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(&cfg, &sim));
    struct run r = {0};
    r.sim = sim;
    r.n = 220000;
    r.period_us = 100;
    r.len_of = len_spread;
    memset(g_copies, 0, sizeof g_copies);
    push_range(&r, 0, 20000);
    /* Each buffer size class is stocked to 1.5x its peak so far; a new
       peak now and then may still cost a few allocations, but never one
       per datagram (120,000 datagrams here). */
    uint64_t allocs = pl_alloc_count();
    push_range(&r, 20000, 140000);
    PT_LE_U64(pl_alloc_count() - allocs, 64);
    /* Below the peaks seen so far: not a single allocation. */
    cfg.latency_ms = 5;
    PT_OK(parley_sim_configure(sim, &cfg));
    push_range(&r, 140000, 141000);
    allocs = pl_alloc_count();
    int64_t live = pl_alloc_live();
    push_range(&r, 141000, r.n);
    PT_EQ_U64(pl_alloc_count(), allocs);
    PT_EQ_INT(pl_alloc_live(), live);
    deliver_until(&r, UINT64_MAX - 1);
    PT_GT_U64(r.unique, 200000);
    parley_sim_destroy(sim);
}

/* A counting allocator to measure the bytes the simulator keeps. */
static size_t g_bytes, g_peak;

static void *
count_malloc(size_t n)
{
    size_t *p = malloc(n + 16);
    if (!p) {
        return NULL;
    }
    p[0] = n;
    g_bytes += n;
    g_peak = g_bytes > g_peak ? g_bytes : g_peak;
    return (char *)p + 16;
}

static void *
count_realloc(void *q, size_t n)
{
    size_t *p = (size_t *)(void *)((char *)q - 16);
    size_t old = p[0];
    size_t *np = realloc(p, n + 16);
    if (!np) {
        return NULL;
    }
    np[0] = n;
    g_bytes = g_bytes - old + n;
    g_peak = g_bytes > g_peak ? g_bytes : g_peak;
    return (char *)np + 16;
}

static void
count_free(void *q)
{
    size_t *p = (size_t *)(void *)((char *)q - 16);
    g_bytes -= p[0];
    free(p);
}

PT_TEST(memory_returns_after_burst)
{
    PT_OK(parley_replace_allocator(count_malloc, count_realloc, count_free));
    g_bytes = g_peak = 0;
    parley_sim_config cfg;
    parley_sim_config_init(&cfg);
    cfg.latency_ms = 100;
    cfg.max_held = 1000;
    parley_sim *sim = NULL;
    PT_OK(parley_sim_create(&cfg, &sim));
    size_t base = g_bytes;
    for (uint64_t i = 0; i < 3000; i++) {
        fill(g_in, i, 16000);
        PT_OK(parley_sim_push(sim, 0, g_in, 16000, NULL, NULL));
    }
    size_t full = g_bytes;
    size_t len;
    while (parley_sim_pop(sim, 100000, g_out, sizeof g_out, &len, NULL, NULL) ==
           PARLEY_OK) {
    }
    size_t drained = g_bytes;
    parley_sim_destroy(sim);
    size_t after = g_bytes;
    PT_OK(parley_replace_allocator(NULL, NULL, NULL));
    /* Held: 1000 x 16 KiB buffers plus at most 128 bytes of bookkeeping
       each; drained: the cache keeps at most 256 KiB of buffers. */
    PT_GE_U64(full, 1000 * 16000);
    PT_LE_U64(g_peak, 1000 * (16384 + 128) + 256 * 1024);
    PT_LE_U64(drained - base, 1000 * 128 + 256 * 1024 + 4 * 16384);
    PT_EQ_U64(after, 0);
}

/* Replays pushes with an allocation failure injected at each step; the
   failed push must change nothing, not even the random sequence. */
PT_TEST(allocation_failure_loses_nothing)
{
    uint64_t seed = seed_for(1818);
    parley_sim_config cfg;
    full_config(&cfg, seed);
    cfg.rate_bytes_per_s = 0;
    cfg.loss_pct = 0.0;
    cfg.ge_p_pct = 0.0;
    struct log plain, failing;
    logged_run(&cfg, &plain);

    memset(&failing, 0, sizeof failing);
    memset(g_copies, 0, sizeof g_copies);
    struct run r = {0};
    r.n = 20000;
    r.period_us = 100;
    r.len_of = len_short;
    r.on_deliver = log_delivery;
    r.ctx = &failing;
    pl_alloc_fail_nth(1);
    PT_ERR(parley_sim_create(&cfg, &r.sim), PARLEY_ENOMEM);
    PT_OK(parley_sim_create(&cfg, &r.sim));
    uint64_t failures = 0;
    for (uint64_t i = 0; i < r.n; i++) {
        uint64_t t = i * r.period_us;
        deliver_until(&r, t);
        size_t len = r.len_of(i);
        fill(g_in, i, len);
        parley_addr f = addr_for(i, 1), to = addr_for(i, 2);
        parley_sim_stats before, after;
        parley_sim_get_stats(r.sim, &before);
        uint64_t count = pl_alloc_count();
        pl_alloc_fail_nth(1);
        int rc = parley_sim_push(r.sim, t, g_in, len, &f, &to);
        pl_alloc_fail_nth(0);
        if (rc == PARLEY_ENOMEM) {
            failures++;
            parley_sim_get_stats(r.sim, &after);
            PT_EQ_MEM(&before, &after, sizeof before);
            /* Try the second allocation too, then succeed. */
            pl_alloc_fail_nth(2);
            rc = parley_sim_push(r.sim, t, g_in, len, &f, &to);
            pl_alloc_fail_nth(0);
            if (rc == PARLEY_ENOMEM) {
                failures++;
                rc = parley_sim_push(r.sim, t, g_in, len, &f, &to);
            }
        } else {
            PT_EQ_U64(pl_alloc_count(), count); /* nothing was needed */
        }
        PT_OK(rc);
    }
    deliver_until(&r, UINT64_MAX - 1);
    parley_sim_destroy(r.sim);
    PT_GT_U64(failures, 5);
    PT_EQ_U64(plain.len, failing.len);
    PT_EQ_MEM(plain.buf, failing.buf, plain.len);
    free(plain.buf);
    free(failing.buf);
}

#define SIM_TESTS                                                              \
    PT_RUN(loss_rate_matches_setting)                                          \
    PT_RUN(dup_rate_matches_setting)                                           \
    PT_RUN(reorder_rate_matches_setting)                                       \
    PT_RUN(combined_rates_match_settings)                                      \
    PT_RUN(delay_within_latency_and_jitter)                                    \
    PT_RUN(jitter_alone_keeps_order)                                           \
    PT_RUN(ties_pop_in_push_order)                                             \
    PT_RUN(rate_limit_throughput_and_queue)                                    \
    PT_RUN(rate_limit_queue_bound_counts_drops)                                \
    PT_RUN(gilbert_elliott_bursts)                                             \
    PT_RUN(same_seed_same_log)                                                 \
    PT_RUN(settings_do_not_shift_draws)                                        \
    PT_RUN(bytes_arrive_intact)                                                \
    PT_RUN(configure_applies_to_later_datagrams)                               \
    PT_RUN(configure_keeps_random_sequence)                                    \
    PT_RUN(bad_arguments)                                                      \
    PT_RUN(small_buffer_leaves_datagram_queued)                                \
    PT_RUN(max_held_drops_beyond_limit)                                        \
    PT_RUN(million_datagrams_bounded)                                          \
    PT_RUN(steady_state_does_not_allocate)                                     \
    PT_RUN(memory_returns_after_burst)                                         \
    PT_RUN(allocation_failure_loses_nothing)

PT_MAIN(SIM_TESTS)
