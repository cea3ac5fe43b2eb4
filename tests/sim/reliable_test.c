/*
 * Delivery guarantees of the four modes through a hostile simulated link
 * (20% loss, 5% duplication, 10% reordering, 50 +- 20 ms), in virtual
 * time: every byte of every reliable message is checked against a seeded
 * pattern the receiver re-derives.
 */
#include "pt.h"

#include <stdlib.h>

#include "parley/parley.h"
#include "simnet.h"

/* A 64-bit mix (splitmix64's finaliser). */
static uint64_t
mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Byte j of message i: a pattern that changes every byte and message. */
static uint8_t
pattern(uint64_t seed, uint64_t i, size_t j)
{
    uint64_t h = mix(seed ^ (i * 0x100000001B3ull));
    return (uint8_t)(h + j * 131 + (j >> 8) * 7 + (j >> 16) * 13);
}

/* Mostly small, some medium, a few up to 1 MiB. */
static size_t
mixed_size(uint64_t seed, uint64_t i)
{
    uint64_t r = mix(seed * 31 + i);
    uint64_t k = r % 10000;
    r >>= 16;
    if (i % 20000 == 7777) {
        return 256 * 1024 + (size_t)(r % (768 * 1024 + 1)); /* to 1 MiB */
    }
    if (k < 9000) {
        return 1 + (size_t)(r % 100);
    }
    if (k < 9990) {
        return 100 + (size_t)(r % 1900);
    }
    return 2000 + (size_t)(r % 62000);
}

typedef struct run_ {
    uint64_t seed;
    uint8_t channel;
    uint64_t total; /* messages to send */
    uint64_t sent;
    uint64_t got; /* messages received */
    uint64_t bytes;
    uint64_t dups, bad, backwards, order_errors;
    uint64_t last_index; /* sequenced: newest index seen */
    int has_last;
    uint8_t *seen;     /* per index (unordered/unreliable) */
    int indexed;       /* the first 8 bytes carry the index */
    size_t fixed_size; /* 0: mixed_size */
    size_t huge_len;   /* nonzero: every message has this length */
    size_t odd_size;   /* nonzero: odd-numbered messages are this small */
    parley_peer a_peer;
    uint8_t *scratch;
    size_t scratch_cap;
    size_t max_queue; /* bytes kept queued at the sender */
} run_;

static size_t
size_of(const run_ *r, uint64_t i)
{
    if (r->huge_len) {
        return r->huge_len;
    }
    if (r->odd_size && (i & 1)) {
        return r->odd_size;
    }
    if (r->fixed_size) {
        return r->fixed_size + (size_t)(mix(r->seed + i) % 64);
    }
    size_t s = mixed_size(r->seed, i);
    return r->indexed && s < 8 ? 8 : s;
}

static void
fill(const run_ *r, uint64_t i, uint8_t *buf, size_t len)
{
    for (size_t j = 0; j < len; j++) {
        buf[j] = pattern(r->seed, i, j);
    }
    if (r->indexed) {
        memcpy(buf, &i, 8);
    }
}

/* Checks a received message; returns its index. */
static uint64_t
check(run_ *r, const parley_event *ev)
{
    uint64_t i = r->got;
    if (r->indexed) {
        if (ev->len < 8) {
            r->bad++;
            return UINT64_MAX;
        }
        memcpy(&i, ev->data, 8);
        if (i >= r->total) {
            r->bad++;
            return UINT64_MAX;
        }
    }
    if (ev->len != size_of(r, i)) {
        r->bad++;
        return i;
    }
    for (size_t j = r->indexed ? 8 : 0; j < ev->len; j++) {
        if (ev->data[j] != pattern(r->seed, i, j)) {
            r->bad++;
            break;
        }
    }
    return i;
}

static void
on_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    run_ *r = user;
    if (side != 1 || ev->type != PARLEY_EVENT_RECEIVE) {
        return;
    }
    if (ev->channel != r->channel) {
        r->bad++;
        return;
    }
    uint64_t want = r->got;
    uint64_t i = check(r, ev);
    r->got++;
    r->bytes += ev->len;
    if (i == UINT64_MAX) {
        return;
    }
    if (!r->indexed && i != want) {
        r->order_errors++;
    }
    if (r->seen) {
        if (r->seen[i]) {
            r->dups++;
        }
        r->seen[i] = 1;
    }
    if (r->has_last && i <= r->last_index) {
        r->backwards++;
    }
    r->has_last = 1;
    r->last_index = i;
}

/* Keeps the sender's queue topped up; done when all arrived (or, for the
   unreliable modes, all were sent and the link has gone quiet). */
static int
pump_sender(sn_net *n, void *arg)
{
    run_ *r = arg;
    parley_peer_stats st;
    if (pl_core_peer_stats(n->s[0].core, r->a_peer, &st) != PARLEY_OK) {
        return 1;
    }
    while (r->sent < r->total && st.out_buffer_bytes < r->max_queue) {
        size_t len = size_of(r, r->sent);
        if (len > r->scratch_cap) {
            free(r->scratch);
            r->scratch = malloc(len);
            r->scratch_cap = len;
        }
        fill(r, r->sent, r->scratch, len);
        if (pl_core_send(n->s[0].core, n->now, r->a_peer, r->channel,
                         r->scratch, len, 0, NULL, NULL) != PARLEY_OK) {
            break;
        }
        st.out_buffer_bytes += len;
        r->sent++;
    }
    return r->got >= r->total;
}

static void
hostile_link(parley_sim_config *sc)
{
    parley_sim_config_init(sc);
    sc->loss_pct = 20;
    sc->dup_pct = 5;
    sc->reorder_pct = 10;
    sc->latency_ms = 50;
    sc->jitter_ms = 20;
}

static void
setup(sn_net *n, run_ *r, uint64_t seed, const parley_sim_config *link)
{
    parley_host_config cfg;
    sn_config(&cfg);
    memset(r, 0, sizeof *r);
    r->seed = seed;
    r->max_queue = 1 << 20;
    PT_OK(sn_init(n, seed, &cfg, &cfg, link, link));
    parley_peer b;
    PT_TRUE(sn_connect(n, &r->a_peer, &b));
    n->on_event = on_event;
    n->user = r;
}

static void
finish(sn_net *n, run_ *r)
{
    sn_free(n);
    free(r->seen);
    free(r->scratch);
}

PT_TEST(reliable_ordered_through_loss)
{
    uint64_t seed = 1001;
    pt_seed(seed);
    parley_sim_config link;
    hostile_link(&link);
    sn_net n;
    run_ r;
    setup(&n, &r, seed, &link);
    r.channel = 0;
    r.total = 100000;
    int done = sn_run(&n, n.now + 7200 * SN_SEC, pump_sender, &r);
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(n.s[0].core, r.a_peer, &st));
    printf("  ordered: %" PRIu64 " msgs, %" PRIu64 " bytes in %.1f s virtual;"
           " sender lost %" PRIu64 "/%" PRIu64 " pkts, %" PRIu64
           " retransmits, srtt %" PRIu64 " us, cwnd %" PRIu64 "\n",
           r.got, r.bytes, (double)(n.now - 1000 * SN_SEC) / 1e6,
           st.packets_lost, st.packets_out, st.retransmits, st.srtt_us,
           st.cwnd_bytes);
    printf("  loop steps %" PRIu64 ", stalls %" PRIu64 "\n", n.loops, n.stalls);
    PT_TRUE(done);
    PT_EQ_U64(n.stalls, 0); /* no wake-up was ever wasted */
    PT_EQ_U64(r.got, r.total);
    PT_EQ_U64(r.bad, 0);
    PT_EQ_U64(r.order_errors, 0);
    /* Nothing more arrives later: exactly once. */
    sn_run_for(&n, 10 * SN_SEC);
    PT_EQ_U64(r.got, r.total);
    PT_OK(pl_core_peer_stats(n.s[0].core, r.a_peer, &st));
    PT_EQ_U64(st.unacked_messages, 0);
    PT_EQ_U64(st.unacked_bytes, 0);
    finish(&n, &r);
}

PT_TEST(reliable_unordered_exactly_once)
{
    uint64_t seed = 2002;
    pt_seed(seed);
    parley_sim_config link;
    hostile_link(&link);
    sn_net n;
    run_ r;
    setup(&n, &r, seed, &link);
    r.channel = 1;
    r.indexed = 1;
    r.total = 30000;
    r.seen = calloc(r.total, 1);
    int done = sn_run(&n, n.now + 3600 * SN_SEC, pump_sender, &r);
    PT_TRUE(done);
    sn_run_for(&n, 10 * SN_SEC);
    PT_EQ_U64(r.got, r.total);
    PT_EQ_U64(r.dups, 0);
    PT_EQ_U64(r.bad, 0);
    for (uint64_t i = 0; i < r.total; i++) {
        PT_TRUE(r.seen[i]);
    }
    finish(&n, &r);
}

static int
all_sent_and_quiet(sn_net *n, void *arg)
{
    run_ *r = arg;
    pump_sender(n, arg);
    parley_peer_stats st;
    pl_core_peer_stats(n->s[0].core, r->a_peer, &st);
    return r->sent == r->total && st.out_buffer_bytes == 0;
}

PT_TEST(unreliable_sequenced_never_backwards)
{
    uint64_t seed = 3003;
    pt_seed(seed);
    parley_sim_config link;
    hostile_link(&link);
    sn_net n;
    run_ r;
    setup(&n, &r, seed, &link);
    r.channel = 2;
    r.indexed = 1;
    r.fixed_size = 100;
    r.total = 20000;
    r.max_queue = 16 * 1024;
    r.seen = calloc(r.total, 1);
    PT_TRUE(sn_run(&n, n.now + 600 * SN_SEC, all_sent_and_quiet, &r));
    sn_run_for(&n, 5 * SN_SEC);
    PT_EQ_U64(r.backwards, 0);
    PT_EQ_U64(r.dups, 0);
    PT_EQ_U64(r.bad, 0);
    /* About 80% survive the link; reordering drops a few more. */
    PT_GT_U64(r.got, r.total / 2);
    PT_LT_U64(r.got, r.total);
    finish(&n, &r);
}

PT_TEST(unreliable_never_duplicates)
{
    uint64_t seed = 4004;
    pt_seed(seed);
    parley_sim_config link;
    hostile_link(&link);
    sn_net n;
    run_ r;
    setup(&n, &r, seed, &link);
    r.channel = 3;
    r.indexed = 1;
    /* Even messages take two fragments (a lost piece drops the message),
       odd ones fit in a packet (a duplicated datagram would repeat it). */
    r.fixed_size = 1500;
    r.odd_size = 100;
    r.total = 6000;
    r.max_queue = 64 * 1024;
    r.seen = calloc(r.total, 1);
    PT_TRUE(sn_run(&n, n.now + 1800 * SN_SEC, all_sent_and_quiet, &r));
    sn_run_for(&n, 5 * SN_SEC);
    PT_EQ_U64(r.dups, 0);
    PT_EQ_U64(r.bad, 0);
    /* 80% of small ones survive, 64% of the two-piece ones. */
    PT_GT_U64(r.got, r.total / 2);
    PT_LT_U64(r.got, r.total * 9 / 10);
    /* Partial messages were dropped whole, not kept. */
    pl_core_stats cs;
    pl_core_get_stats(n.s[1].core, &cs);
    PT_LT_U64(cs.memory, 64 * 1024);
    finish(&n, &r);
}

PT_TEST(huge_message_intact)
{
    uint64_t seed = 5005;
    pt_seed(seed);
    parley_sim_config link;
    sn_link(&link, 10);
    sn_net n;
    run_ r;
    setup(&n, &r, seed, &link);
    size_t len = (size_t)64 << 20;
    uint8_t *msg = malloc(len);
    PT_TRUE(msg != NULL);
    for (size_t j = 0; j < len; j++) {
        msg[j] = pattern(seed, 0, j);
    }
    r.channel = 0;
    r.total = 1;
    r.sent = 1;
    r.huge_len = len;
    PT_OK(
        pl_core_send(n.s[0].core, n.now, r.a_peer, 0, msg, len, 0, NULL, NULL));
    free(msg);
    int done = sn_run(&n, n.now + 600 * SN_SEC, pump_sender, &r);
    printf("  64 MiB in %.2f s virtual\n",
           (double)(n.now - 1000 * SN_SEC) / 1e6);
    PT_TRUE(done);
    PT_EQ_U64(r.got, 1);
    PT_EQ_U64(r.bytes, len);
    finish(&n, &r);
}

PT_MAIN(PT_RUN(reliable_ordered_through_loss)
            PT_RUN(reliable_unordered_exactly_once)
                PT_RUN(unreliable_sequenced_never_backwards)
                    PT_RUN(unreliable_never_duplicates)
                        PT_RUN(huge_message_intact))
