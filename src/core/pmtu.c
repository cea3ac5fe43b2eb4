/*
 * Path-MTU probing (docs/PROTOCOL.md 5.9). The search climbs a ladder of
 * common sizes (1452: Ethernet under IPv6; 8952: jumbo frames; then the
 * ceiling both sides accept) and bisects between the largest size that
 * got through and the smallest that failed. A probe is a PING padded to
 * the size, outside the congestion window and the books of bytes in
 * flight: its loss says nothing about congestion and loses no data.
 * Black holes (the path shrinks under a raised MTU) send the connection
 * back to the handshake's base MTU and the search starts over.
 */
#include "core/core_int.h"

static const uint32_t ladder[] = {1452, 8952};

/* The next size to try, or 0 when the bracket is closed. */
static uint32_t
next_size(const pl_pmtu *p)
{
    for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++) {
        if (ladder[i] > p->cur && ladder[i] < p->hi && ladder[i] < p->ceiling) {
            return ladder[i];
        }
    }
    if (p->ceiling > p->cur && p->ceiling < p->hi) {
        return p->ceiling;
    }
    uint32_t top = p->hi - 1 < p->ceiling ? p->hi - 1 : p->ceiling;
    if (top <= p->cur || top - p->cur < PL_PMTU_GRAIN) {
        return 0;
    }
    return p->cur + (top - p->cur + 1) / 2;
}

/* Ends the search when nothing is left to try. */
static void
settle(pl_pmtu *p, uint64_t now)
{
    p->probe = 0;
    p->next = now;
    if (next_size(p) == 0) {
        p->done = 1;
        p->next = now + PL_PMTU_RAISE_US;
    }
}

void
pl_pmtu_init(pl_pmtu *p, uint32_t base, uint32_t ceiling, uint64_t now)
{
    *p = (pl_pmtu){0};
    p->base = base;
    p->cur = base;
    p->ceiling = ceiling > base ? ceiling : base;
    p->hi = p->ceiling + 1;
    settle(p, now);
    if (p->ceiling == base) {
        p->next = UINT64_MAX; /* never */
    }
}

uint32_t
pl_pmtu_want(const pl_pmtu *p, uint64_t now)
{
    if (p->done || p->probe != 0 || now < p->next) {
        return 0;
    }
    return next_size(p);
}

void
pl_pmtu_sent(pl_pmtu *p, uint32_t size, uint64_t pn, uint64_t deadline)
{
    p->probe = size;
    p->probe_pn = pn;
    p->probe_deadline = deadline;
    p->probes++;
}

/* The probe in flight failed. */
static void
probe_failed(pl_pmtu *p, uint64_t now)
{
    p->probes_lost++;
    if (p->fail_size != p->probe) {
        p->fail_size = p->probe;
        p->fails = 0;
    }
    if (++p->fails >= PL_PMTU_MAX_PROBES) {
        p->hi = p->probe;
        p->fails = 0;
    }
    settle(p, now);
}

void
pl_pmtu_refused(pl_pmtu *p, uint64_t now)
{
    if (p->probe != 0) {
        /* The OS will refuse it every time: no point in trying again. */
        p->probes_lost++;
        p->hi = p->probe;
        p->fails = 0;
        settle(p, now);
    }
}

void
pl_pmtu_on_acked(pl_pmtu *p, uint64_t pn, uint32_t size, uint64_t now)
{
    if (size > p->base && (!p->has_big_acked || pn > p->big_acked_pn)) {
        p->has_big_acked = 1;
        p->big_acked_pn = pn;
        p->big_lost = 0;
    }
    if (p->probe == 0 || pn != p->probe_pn) {
        return;
    }
    if (p->probe > p->cur) {
        p->cur = p->probe;
    }
    p->fails = 0;
    settle(p, now);
}

/* Back to the base MTU; the search starts over after a pause that
   doubles with every black hole, so a path (or a receiver short of
   memory) that lets probes through but drops full-size data does not
   bounce between the two. */
static void
blackhole(pl_pmtu *p, uint64_t now)
{
    unsigned shift = p->blackholes < 10 ? (unsigned)p->blackholes : 10;
    uint64_t pause = PL_PMTU_BLACKHOLE_PAUSE_US << shift;
    p->blackholes++;
    p->cur = p->base;
    p->hi = p->ceiling + 1;
    p->big_lost = 0;
    p->fails = 0;
    p->done = 0;
    settle(p, now);
    p->next = now + (pause < PL_PMTU_RAISE_US ? pause : PL_PMTU_RAISE_US);
}

void
pl_pmtu_on_lost(pl_pmtu *p, uint64_t pn, uint32_t size, int eliciting,
                uint64_t now)
{
    if (p->probe != 0 && pn == p->probe_pn) {
        probe_failed(p, now);
        return;
    }
    /* Losses before a larger packet got through are congestion or noise,
       not the path. */
    if (!eliciting || size <= p->base ||
        (p->has_big_acked && pn < p->big_acked_pn)) {
        return;
    }
    if (++p->big_lost >= PL_PMTU_BLACKHOLE_LOSSES && p->cur > p->base) {
        blackhole(p, now);
    }
}

void
pl_pmtu_on_pto(pl_pmtu *p, unsigned pto_count, uint64_t now)
{
    if (pto_count >= PL_PMTU_BLACKHOLE_PTOS && p->cur > p->base) {
        blackhole(p, now);
    }
}

void
pl_pmtu_tick(pl_pmtu *p, uint64_t now)
{
    if (p->probe != 0 && now >= p->probe_deadline) {
        probe_failed(p, now);
    }
    if (p->done && now >= p->next) {
        /* Look for a larger MTU again (the path may have grown). */
        p->done = 0;
        p->hi = p->ceiling + 1;
        p->fails = 0;
        settle(p, now);
    }
}

uint64_t
pl_pmtu_next_due(const pl_pmtu *p)
{
    if (p->probe != 0) {
        return p->probe_deadline;
    }
    return p->ceiling > p->base ? p->next : UINT64_MAX;
}

/* ---- the connection's side ---- */

uint32_t
pl_core_max_datagram(const parley_host_config *cfg)
{
    return cfg->max_mtu > cfg->mtu ? cfg->max_mtu : cfg->mtu;
}

uint32_t
pl_core_probe_max(const parley_host_config *cfg)
{
    /* One datagram stays a small part of the receive budget, so that the
       budget holds many packets' worth of partial messages: with a few
       64 KiB packets filling it, an ordered channel can stall (the
       packet that starts the next message never fits). */
    size_t budget = cfg->peer_memory < cfg->host_memory ? cfg->peer_memory
                                                        : cfg->host_memory;
    size_t cap = budget / PL_PMTU_BUDGET_SHARE;
    uint32_t max = cfg->max_mtu < cap ? cfg->max_mtu : (uint32_t)cap;
    return max > cfg->mtu ? max : 0;
}

/* The packets from now on use the search's MTU. */
static void
sync_mtu(pl_conn *c)
{
    if (c->mtu != c->pmtu.cur) {
        c->mtu = c->pmtu.cur;
        c->cc.mss = c->mtu;
    }
}

void
pl_conn_pmtu_init(pl_conn *c, uint32_t peer_max, uint64_t now)
{
    uint32_t ours = pl_core_probe_max(&c->core->cfg);
    uint32_t ceiling = peer_max < ours ? peer_max : ours;
    pl_pmtu_init(&c->pmtu, c->mtu, ceiling, now);
}

int
pl_conn_pmtu_worth(const pl_conn *c)
{
    /* Only a connection with more queued than one packet holds gains from
       a larger one; an idle or chatty one never pays for probes. */
    return c->out_bytes + c->rtx_bytes > c->mtu;
}

void
pl_conn_pmtu_acked(pl_conn *c, uint64_t pn, const pl_sent_pkt *p)
{
    pl_pmtu_on_acked(&c->pmtu, pn, p->size, c->core->now);
    sync_mtu(c);
}

void
pl_conn_pmtu_lost(pl_conn *c, uint64_t pn, const pl_sent_pkt *p)
{
    pl_pmtu_on_lost(&c->pmtu, pn, p->size, (p->flags & PL_SENT_ELICITING) != 0,
                    c->core->now);
    sync_mtu(c);
}

void
pl_conn_pmtu_pto(pl_conn *c, uint64_t now)
{
    pl_pmtu_on_pto(&c->pmtu, c->pto_count, now);
    sync_mtu(c);
}

int
pl_conn_pmtu_refused(pl_conn *c, size_t len, uint64_t now)
{
    if (c->state != PARLEY_PEER_CONNECTED || c->pmtu.probe == 0 ||
        c->pmtu.probe != len) {
        return 0;
    }
    pl_pmtu_refused(&c->pmtu, now);
    return 1;
}

void
pl_conn_pmtu_tick(pl_conn *c, uint64_t now)
{
    pl_pmtu_tick(&c->pmtu, now);
    sync_mtu(c);
}

uint64_t
pl_conn_pmtu_due(const pl_conn *c)
{
    if (c->pmtu.probe != 0) {
        return c->pmtu.probe_deadline;
    }
    if (c->pmtu.done) {
        return c->pmtu.next;
    }
    /* A search in progress sends its next probe once there is data. */
    return pl_conn_pmtu_worth(c) ? pl_pmtu_next_due(&c->pmtu) : UINT64_MAX;
}
