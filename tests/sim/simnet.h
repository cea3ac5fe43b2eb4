/*
 * simnet: a header-only harness for virtual-time tests of the engine. Two
 * pl_core instances (a: client, b: server) joined by two parley_sim pipes;
 * the loop moves datagrams and advances virtual time to the next wake-up
 * or delivery, and hands each event to a callback.
 */
#ifndef SIMNET_H
#define SIMNET_H

#include <stdint.h>
#include <string.h>

#include "core/core.h"
#include "parley/error.h"
#include "parley/sim.h"
#include "util/rng.h"

#if defined(__SANITIZE_ADDRESS__)
#define SN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SN_ASAN 1
#endif
#endif
#ifndef SN_ASAN
#define SN_ASAN 0
#endif

#define SN_MS 1000ull
#define SN_SEC 1000000ull

struct sn_net;
typedef void (*sn_event_fn)(struct sn_net *n, int side, parley_event *ev,
                            void *user);
/* Sees (and may change, in place, up to cap bytes) every datagram
   delivered from side `from` to the other side; returns 0 to drop it. */
typedef int (*sn_tamper_fn)(struct sn_net *n, int from, uint8_t *buf,
                            size_t *len, size_t cap, void *user);

typedef struct sn_side {
    pl_core *core;
    parley_addr addr;
    parley_sim *out; /* datagrams leaving this side */
    pl_rng rng;
    int up; /* 0: its outgoing datagrams are discarded */
} sn_side;

typedef struct sn_net {
    sn_side s[2]; /* 0: a (client), 1: b (server) */
    uint64_t now;
    uint64_t stalls; /* wake-ups that did nothing (should stay 0) */
    uint64_t loops;
    sn_event_fn on_event;
    void *user;
    int keep[2]; /* nonzero: the callback keeps RECEIVE events unreleased
                    (it must release them itself) */
    sn_tamper_fn tamper; /* NULL: datagrams pass unchanged */
    void *tamper_user;
    uint8_t buf[65536];
} sn_net;

static int
sn_random(void *user, void *buf, size_t len)
{
    pl_rng *rng = user;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)pl_rng_next(rng);
    }
    return PARLEY_OK;
}

/* parley_host_config_init's defaults, with one channel per delivery
   mode. */
static void
sn_config(parley_host_config *cfg)
{
    parley_host_config_init(cfg);
    cfg->channel_count = 4;
    cfg->channel_modes[0] = PARLEY_RELIABLE_ORDERED;
    cfg->channel_modes[1] = PARLEY_RELIABLE_UNORDERED;
    cfg->channel_modes[2] = PARLEY_UNRELIABLE_SEQUENCED;
    cfg->channel_modes[3] = PARLEY_UNRELIABLE;
}

/* Creates both sides. Links: ab carries a -> b, ba carries b -> a. */
static int
sn_init(sn_net *n, uint64_t seed, const parley_host_config *ca,
        const parley_host_config *cb, const parley_sim_config *ab,
        const parley_sim_config *ba)
{
    memset(n, 0, sizeof *n);
    n->now = 1000 * SN_SEC;
    const parley_host_config *cfg[2] = {ca, cb};
    const parley_sim_config *link[2] = {ab, ba};
    for (int i = 0; i < 2; i++) {
        sn_side *s = &n->s[i];
        pl_rng_seed(&s->rng, seed * 2 + (uint64_t)i);
        parley_addr_loopback(PARLEY_AF_INET, (uint16_t)(40000 + i), &s->addr);
        s->up = 1;
        parley_sim_config sc = *link[i];
        sc.seed = seed * 7 + (uint64_t)i + 1;
        int rc = parley_sim_create(&sc, &s->out);
        if (rc == PARLEY_OK) {
            rc = pl_core_create(cfg[i], sn_random, &s->rng, n->now, &s->core);
        }
        if (rc != PARLEY_OK) {
            return rc;
        }
    }
    return PARLEY_OK;
}

static void
sn_free(sn_net *n)
{
    for (int i = 0; i < 2; i++) {
        pl_core_destroy(n->s[i].core);
        parley_sim_destroy(n->s[i].out);
        n->s[i].core = NULL;
        n->s[i].out = NULL;
    }
}

/* Takes every event of side i to the callback, then releases it.
   Returns how many there were. */
static int
sn_events(sn_net *n, int i)
{
    parley_event ev;
    int count = 0;
    while (n->s[i].core && pl_core_poll_event(n->s[i].core, &ev) == PARLEY_OK) {
        count++;
        if (n->on_event) {
            n->on_event(n, i, &ev, n->user);
        }
        if (n->s[i].core && !n->keep[i]) {
            pl_core_release_event(n->s[i].core, &ev);
        }
    }
    return count;
}

/* Does everything that is due at n->now. */
static void
sn_pump(sn_net *n)
{
    int busy = 1;
    while (busy) {
        busy = 0;
        for (int i = 0; i < 2; i++) {
            sn_side *s = &n->s[i];
            size_t len;
            parley_addr to;
            while (s->core &&
                   pl_core_next_datagram(s->core, n->now, n->buf, sizeof n->buf,
                                         &len, &to) == PARLEY_OK) {
                if (s->up) {
                    parley_sim_push(s->out, n->now, n->buf, len, &s->addr, &to);
                }
                busy = 1;
            }
        }
        for (int i = 0; i < 2; i++) {
            sn_side *dst = &n->s[1 - i];
            size_t len;
            parley_addr from;
            while (parley_sim_pop(n->s[i].out, n->now, n->buf, sizeof n->buf,
                                  &len, &from, NULL) == PARLEY_OK) {
                if (n->tamper && !n->tamper(n, i, n->buf, &len, sizeof n->buf,
                                            n->tamper_user)) {
                    busy = 1;
                    continue;
                }
                if (dst->core) {
                    pl_core_on_datagram(dst->core, n->now, &from, n->buf, len);
                }
                busy = 1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (sn_events(n, i) > 0) {
                busy = 1;
            }
        }
    }
}

/* The next time anything happens. */
static uint64_t
sn_next_time(const sn_net *n)
{
    uint64_t t = UINT64_MAX;
    for (int i = 0; i < 2; i++) {
        if (n->s[i].core) {
            uint64_t w = pl_core_next_wakeup(n->s[i].core);
            t = w < t ? w : t;
        }
        uint64_t d = parley_sim_next_due_us(n->s[i].out);
        t = d < t ? d : t;
    }
    return t;
}

/*
 * Runs until done(n, arg) says so (checked after every step) or virtual
 * time reaches deadline. Returns 1 when done, 0 at the deadline.
 */
static int
sn_run(sn_net *n, uint64_t deadline, int (*done)(sn_net *, void *), void *arg)
{
    int again = 0;
    for (;;) {
        sn_pump(n);
        n->loops++;
        if (done && done(n, arg)) {
            return 1;
        }
        uint64_t t = sn_next_time(n);
        if (t <= n->now) {
            /* Once is normal (done() may have queued work); twice in a
               row means an engine asked for a wake-up it did not use. */
            if (again++ == 0) {
                continue;
            }
            n->stalls++;
            t = n->now + 1;
        }
        again = 0;
        if (t > deadline) {
            n->now = deadline;
            sn_pump(n);
            return done ? done(n, arg) : 0;
        }
        n->now = t;
    }
}

/* Runs for a stretch of virtual time. */
static void
sn_run_for(sn_net *n, uint64_t us)
{
    sn_run(n, n->now + us, NULL, NULL);
}

/* A perfect link with a one-way delay. */
static void
sn_link(parley_sim_config *sc, uint32_t latency_ms)
{
    parley_sim_config_init(sc);
    sc->latency_ms = latency_ms;
}

/* Connects a to b; returns a's peer id (0 on failure) and b's in *server. */
typedef struct sn_conn_state {
    parley_peer a_peer, b_peer;
    int a_connected, b_connected;
} sn_conn_state;

static void
sn_connect_events(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    sn_conn_state *cs = user;
    if (ev->type == PARLEY_EVENT_CONNECT) {
        if (side == 0) {
            cs->a_connected = 1;
        } else {
            cs->b_connected = 1;
            cs->b_peer = ev->peer;
        }
    }
}

static int
sn_connected(sn_net *n, void *arg)
{
    (void)n;
    sn_conn_state *cs = arg;
    return cs->a_connected && cs->b_connected;
}

static int
sn_connect(sn_net *n, parley_peer *a_peer, parley_peer *b_peer)
{
    sn_conn_state cs;
    memset(&cs, 0, sizeof cs);
    sn_event_fn old = n->on_event;
    void *old_user = n->user;
    n->on_event = sn_connect_events;
    n->user = &cs;
    int rc = pl_core_connect(n->s[0].core, n->now, &n->s[1].addr, NULL, 0,
                             &cs.a_peer);
    int ok =
        rc == PARLEY_OK && sn_run(n, n->now + 30 * SN_SEC, sn_connected, &cs);
    n->on_event = old;
    n->user = old_user;
    *a_peer = cs.a_peer;
    *b_peer = cs.b_peer;
    return ok;
}

#endif
