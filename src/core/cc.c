/*
 * Congestion control. Choice: NewReno growth (slow start, then one
 * packet per RTT) with Westwood+ backoff (Mascolo et al., 2001; Linux
 * tcp_westwood): on a congestion event ssthresh becomes
 * max(cwnd / 2, bandwidth estimate x min RTT) instead of plain cwnd / 2.
 * Why not plain NewReno or CUBIC: both read every loss as congestion, and
 * at the link sizes parley targets (tens of packets per RTT) a few percent
 * of random loss holds them to a fraction of the path (the Mathis bound
 * gives about 20% of a 10 Mbit/s, 40 ms path at 2% loss). The bandwidth
 * floor keeps the window at the measured bandwidth-delay product when
 * losses are random, yet still drains a standing queue after a real
 * overflow because the floor is the delivered rate times the *minimum*
 * RTT. Growth is NewReno's rather than CUBIC's because the windows here
 * are small and Reno-friendly mode would dominate CUBIC anyway.
 * Random loss: a loss is read as congestion only with evidence that a
 * queue overflowed: a standing queue (the recent minimum RTT above the
 * path's minimum by more than the noise), or more than 10 % of the
 * bytes of the last two round trips lost while some RTT in them rose
 * above the minimum, or more than a third lost whatever the RTT (a queue
 * too short to show). Any other loss is random:
 * - in slow start it changes nothing. The first windows have no
 *   bandwidth estimate to fall back to, and at 20 ms and 5 % loss a
 *   backoff there left the window at a few packets for many round trips.
 * - after slow start the window drops to the floor, and slow start may
 *   win back up to twice the measured bandwidth-delay product (BBR's
 *   in-flight cap), but never past inflight_hi: seven eighths of the
 *   window at the last overflow (BBRv2's inflight_hi), which itself
 *   probes upward by a step that doubles every round trip without
 *   congestion. Without that ceiling a queue shorter than the BDP
 *   overflowed every round trip (half the packets lost at 20 ms, 5 %
 *   loss and a 64 KiB queue on 100 Mbit/s). Acks keep growing the window
 *   during this recovery.
 * Pacing: rate = gain x cwnd / srtt (gain 2 in slow start, 1.25 after, as
 * Linux does), through a token bucket with a small burst.
 */
#include "core/cc.h"

#define CC_INITIAL_PACKETS 10
#define CC_INITIAL_MAX 14720 /* RFC 9002 kInitialWindow */
#define CC_MIN_PACKETS 2
/* in_recovery: a congestion backoff (acks of older packets earn nothing),
   or a random-loss one (they still grow the window). */
#define CC_RECOVERY 1
#define CC_RECOVERY_RANDOM 2
/* A round trip (with the one before) that lost more than this share of
   its bytes while its RTT rose overflowed a queue; beyond the second
   share it overflowed something whatever the RTT says (a queue too short
   to show in the RTT). Random loss of a few percent stays below both. */
#define CC_HEAVY_LOSS_PCT 10
#define CC_SEVERE_LOSS_PCT 33
/* HyStart++ (RFC 9406): RTT samples a round needs, and the bounds of
   the RTT rise (an eighth of the last round's) that ends slow start. */
#define CC_HYSTART_SAMPLES 8
#define CC_HYSTART_MIN_ETA 4000
#define CC_HYSTART_MAX_ETA 16000
/* Fewer packets than these in the two rounds are too few to judge. */
#define CC_HEAVY_LOSS_MIN_PACKETS 100
#define CC_SEVERE_LOSS_MIN_PACKETS 20

void
pl_cc_init(pl_cc *cc, uint64_t mss)
{
    cc->mss = mss;
    uint64_t init = CC_INITIAL_PACKETS * mss;
    uint64_t cap = CC_INITIAL_MAX > 2 * mss ? CC_INITIAL_MAX : 2 * mss;
    cc->cwnd = init < cap ? init : cap;
    cc->ssthresh = UINT64_MAX;
    cc->recovery_start = 0;
    cc->in_recovery = 0;
    cc->ca_acked = 0;
    cc->congestion_events = 0;
    for (int i = 0; i < PL_CC_BW_SLOTS; i++) {
        cc->bw[i] = 0;
    }
    cc->bw_epoch_start = 0;
    cc->bw_slot = 0;
    cc->rtt_min_cur = 0;
    cc->rtt_min_prev = 0;
    cc->rtt_epoch_start = 0;
    cc->round_start = 0;
    cc->round_acked = 0;
    cc->round_lost = 0;
    cc->prev_acked = 0;
    cc->prev_lost = 0;
    cc->round_rtt_max = 0;
    cc->prev_rtt_max = 0;
    cc->ss_round_min = UINT64_MAX;
    cc->ss_last_min = UINT64_MAX;
    cc->ss_samples = 0;
    cc->round_congested = 0;
    cc->inflight_hi = UINT64_MAX;
    cc->probe_step = mss;
}

int
pl_cc_can_send(const pl_cc *cc, uint64_t bytes_in_flight, uint64_t size)
{
    (void)size;
    /* A packet may start while any window is left, as in QUIC stacks;
       the overshoot is below one packet. */
    return bytes_in_flight < cc->cwnd;
}

/* Ends the round trip when a packet sent after it began is acked. A
   round trip without congestion that used the ceiling raises it. */
static void
round_update(pl_cc *cc, uint64_t sent_time, uint64_t now)
{
    if (sent_time > cc->round_start) {
        if (!cc->round_congested && cc->inflight_hi != UINT64_MAX &&
            cc->cwnd + cc->probe_step >= cc->inflight_hi) {
            cc->inflight_hi += cc->probe_step;
            if (cc->probe_step < cc->inflight_hi / 4) {
                cc->probe_step *= 2;
            }
        }
        cc->round_congested = 0;
        cc->prev_rtt_max = cc->round_rtt_max;
        cc->round_rtt_max = 0;
        if (cc->ss_samples >= CC_HYSTART_SAMPLES) {
            cc->ss_last_min = cc->ss_round_min;
        }
        cc->ss_round_min = UINT64_MAX;
        cc->ss_samples = 0;
        cc->prev_acked = cc->round_acked;
        cc->prev_lost = cc->round_lost;
        cc->round_acked = 0;
        cc->round_lost = 0;
        cc->round_start = now;
    }
}

void
pl_cc_on_ack(pl_cc *cc, uint64_t size, uint64_t sent_time, uint64_t now,
             int cwnd_limited)
{
    round_update(cc, sent_time, now);
    cc->round_acked += size;
    if (cc->in_recovery == CC_RECOVERY && sent_time <= cc->recovery_start) {
        return;
    }
    if (sent_time > cc->recovery_start) {
        cc->in_recovery = 0;
    }
    if (!cwnd_limited) {
        return;
    }
    if (cc->cwnd < cc->ssthresh) {
        cc->cwnd += size;
        return;
    }
    cc->ca_acked += size;
    if (cc->ca_acked >= cc->cwnd) {
        cc->ca_acked -= cc->cwnd;
        cc->cwnd += cc->mss;
    }
}

void
pl_cc_on_rate(pl_cc *cc, uint64_t rate, uint64_t now, uint64_t srtt_us)
{
    if (srtt_us == 0) {
        srtt_us = 1;
    }
    if (now - cc->bw_epoch_start >= srtt_us) {
        /* A new epoch: the oldest slot is forgotten. */
        cc->bw_slot = (cc->bw_slot + 1) % PL_CC_BW_SLOTS;
        cc->bw[cc->bw_slot] = 0;
        cc->bw_epoch_start = now;
    }
    if (rate > cc->bw[cc->bw_slot]) {
        cc->bw[cc->bw_slot] = rate;
    }
}

/* Slow start ends when the smallest RTT of this round trip has risen by
   an eighth (4-16 ms) over the last one's: a queue is building, so the
   window has reached the path and doubling again would only overflow
   it. Random loss does not end slow start (see the top), so this is
   what ends it on a path with a queue. It ends at once, as Linux's
   HyStart does, not through RFC 9406's conservative slow start (five
   round trips at a quarter of the growth): in tests/sim/cc_path that
   overflowed a 2 MiB queue at 60 MB/s (7 % of packets lost, not 4 %). */
static void
hystart(pl_cc *cc, uint64_t latest_us)
{
    if (latest_us < cc->ss_round_min) {
        cc->ss_round_min = latest_us;
    }
    if (++cc->ss_samples < CC_HYSTART_SAMPLES ||
        cc->ss_last_min == UINT64_MAX) {
        return;
    }
    uint64_t eta = cc->ss_last_min / 8;
    eta = eta < CC_HYSTART_MIN_ETA ? CC_HYSTART_MIN_ETA : eta;
    eta = eta > CC_HYSTART_MAX_ETA ? CC_HYSTART_MAX_ETA : eta;
    if (cc->ss_round_min >= cc->ss_last_min + eta) {
        cc->ssthresh = cc->cwnd;
    }
}

void
pl_cc_on_rtt(pl_cc *cc, uint64_t latest_us, uint64_t now, uint64_t srtt_us)
{
    if (cc->rtt_min_cur == 0 || now - cc->rtt_epoch_start >= srtt_us) {
        cc->rtt_min_prev = cc->rtt_min_cur;
        cc->rtt_min_cur = latest_us;
        cc->rtt_epoch_start = now;
    } else if (latest_us < cc->rtt_min_cur) {
        cc->rtt_min_cur = latest_us;
    }
    if (latest_us > cc->round_rtt_max) {
        cc->round_rtt_max = latest_us;
    }
    if (cc->cwnd < cc->ssthresh) {
        hystart(cc, latest_us);
    }
}

uint64_t
pl_cc_recent_min_rtt(const pl_cc *cc)
{
    uint64_t a = cc->rtt_min_cur, b = cc->rtt_min_prev;
    if (a == 0 || b == 0) {
        return a ? a : b;
    }
    return a < b ? a : b;
}

uint64_t
pl_cc_bw(const pl_cc *cc)
{
    uint64_t m = 0;
    for (int i = 0; i < PL_CC_BW_SLOTS; i++) {
        if (cc->bw[i] > m) {
            m = cc->bw[i];
        }
    }
    return m;
}

/* The RTT the bandwidth floor multiplies: see the comment at the top.
   A queue "stands" when even the recent minimum RTT is above the path's
   minimum by more than the noise (min_rtt / 8, or twice the RTT
   variation when jitter is larger than that). */
static int
no_standing_queue(const pl_cc *cc, uint64_t min_rtt_us, uint64_t rttvar_us)
{
    uint64_t recent = pl_cc_recent_min_rtt(cc);
    uint64_t noise = min_rtt_us / 8 > 1000 ? min_rtt_us / 8 : 1000;
    if (2 * rttvar_us > noise) {
        noise = 2 * rttvar_us;
    }
    return min_rtt_us != 0 && recent != 0 && recent <= min_rtt_us + noise;
}

/* The last two round trips lost more than pct percent of their bytes,
   with at least min_packets sent. */
static int
lossy(const pl_cc *cc, uint64_t pct, uint64_t min_packets)
{
    uint64_t lost = cc->round_lost + cc->prev_lost;
    uint64_t total = lost + cc->round_acked + cc->prev_acked;
    return total >= min_packets * cc->mss && lost * 100 > total * pct;
}

/* Loss that overflowed something: heavy loss while some RTT of the last
   two round trips stood above the path's minimum (a queue filled, if
   only for a while), or severe loss whatever the RTT. Heavy needs more
   packets to judge: a few random losses in a small window can look
   heavy (at 5 % loss, 3 or more in 20 one time in 13; 11 or more in 100
   one in 90). */
static int
overflow(const pl_cc *cc, uint64_t min_rtt_us)
{
    uint64_t rtt_max = cc->round_rtt_max > cc->prev_rtt_max ? cc->round_rtt_max
                                                            : cc->prev_rtt_max;
    uint64_t noise = min_rtt_us / 8 > 1000 ? min_rtt_us / 8 : 1000;
    int queued = min_rtt_us != 0 && rtt_max > min_rtt_us + noise;
    return (queued &&
            lossy(cc, CC_HEAVY_LOSS_PCT, CC_HEAVY_LOSS_MIN_PACKETS)) ||
           lossy(cc, CC_SEVERE_LOSS_PCT, CC_SEVERE_LOSS_MIN_PACKETS);
}

static uint64_t
floor_rtt(const pl_cc *cc, uint64_t min_rtt_us, uint64_t srtt_us,
          uint64_t rttvar_us)
{
    if (no_standing_queue(cc, min_rtt_us, rttvar_us) && srtt_us > min_rtt_us) {
        return srtt_us;
    }
    return min_rtt_us;
}

/* bytes/s * us / 1e6, guarded against overflow. */
static uint64_t
bdp(uint64_t bw, uint64_t rtt_us)
{
    return bw > UINT64_MAX / (rtt_us + 1) ? UINT64_MAX : bw * rtt_us / 1000000;
}

void
pl_cc_on_loss(pl_cc *cc, uint64_t sent_time, uint64_t lost_bytes, uint64_t now,
              uint64_t min_rtt_us, uint64_t srtt_us, uint64_t rttvar_us)
{
    cc->round_lost += lost_bytes;
    if (cc->in_recovery && sent_time <= cc->recovery_start) {
        return;
    }
    int slow_start = cc->cwnd < cc->ssthresh;
    int random = no_standing_queue(cc, min_rtt_us, rttvar_us) &&
                 !overflow(cc, min_rtt_us);
    if (random && slow_start) {
        /* Slow start goes on: a random loss says nothing about the
           path's capacity, and the first few round trips have no
           bandwidth estimate to fall back to, so backing off there
           would leave the window at a few packets for many round
           trips. A queue (rising RTT) or heavy loss still ends it. */
        return;
    }
    cc->congestion_events++;
    cc->in_recovery = CC_RECOVERY;
    cc->recovery_start = now;
    if (!random) {
        /* Overflow: the window it happened at, less an eighth, is the
           most random-loss recovery may regrow to for now. */
        cc->inflight_hi = cc->cwnd - cc->cwnd / 8;
        cc->probe_step = cc->mss;
        cc->round_congested = 1;
    }
    uint64_t half = cc->cwnd / 2;
    uint64_t floor = 0;
    uint64_t rtt =
        min_rtt_us ? floor_rtt(cc, min_rtt_us, srtt_us, rttvar_us) : 0;
    if (rtt > 0) {
        floor = bdp(pl_cc_bw(cc), rtt);
    }
    uint64_t ss = half > floor ? half : floor;
    if (ss > cc->cwnd) {
        ss = cc->cwnd; /* a loss never grows the window */
    }
    if (ss < CC_MIN_PACKETS * cc->mss) {
        ss = CC_MIN_PACKETS * cc->mss;
    }
    cc->ssthresh = ss;
    cc->cwnd = ss;
    cc->ca_acked = 0;
    if (random) {
        /* Random loss: the window shrank to what was delivered per RTT,
           but slow start may win back up to twice the measured
           bandwidth-delay product (BBR's in-flight cap) before additive
           growth takes over. The bandwidth filter then sees the higher
           delivery rate, so the window keeps climbing while the path
           delivers more, and stops where a queue starts to stand. */
        uint64_t cap = 2 * bdp(pl_cc_bw(cc), pl_cc_recent_min_rtt(cc));
        if (cap > cc->inflight_hi) {
            cap = cc->inflight_hi;
        }
        if (cap > cc->ssthresh) {
            cc->ssthresh = cap;
        }
        /* Still one backoff per round trip, but acks keep growing the
           window meanwhile: waiting out a recovery per loss would let
           a few percent of random loss hold the window down. */
        cc->in_recovery = CC_RECOVERY_RANDOM;
    }
}

void
pl_cc_collapse(pl_cc *cc)
{
    cc->cwnd = CC_MIN_PACKETS * cc->mss;
    cc->ca_acked = 0;
    cc->in_recovery = 0;
}

uint64_t
pl_cc_pacing_rate(const pl_cc *cc, uint64_t srtt_us)
{
    if (srtt_us == 0) {
        srtt_us = 1;
    }
    /* gain 2 in slow start, 5/4 in congestion avoidance */
    uint64_t num = cc->cwnd < cc->ssthresh ? 2 : 5;
    uint64_t den = cc->cwnd < cc->ssthresh ? 1 : 4;
    uint64_t rate = cc->cwnd * num * 1000000 / den / srtt_us;
    return rate ? rate : 1;
}

void
pl_pacer_init(pl_pacer *p, uint64_t now, uint64_t burst)
{
    p->tokens = burst * 1000000;
    p->last = now;
}

uint64_t
pl_pacer_next(pl_pacer *p, uint64_t now, uint64_t rate, uint64_t burst,
              uint64_t size)
{
    uint64_t cap = burst * 1000000;
    if (now > p->last) {
        uint64_t dt = now - p->last;
        uint64_t add = rate > UINT64_MAX / dt ? UINT64_MAX : rate * dt;
        p->tokens = cap - p->tokens < add ? cap : p->tokens + add;
        p->last = now;
    }
    if (p->tokens > cap) {
        p->tokens = cap;
    }
    uint64_t need = size * 1000000;
    if (p->tokens >= need || rate == 0) {
        return now;
    }
    /* Round up so that waking at the returned time always suffices. */
    return now + (need - p->tokens + rate - 1) / rate;
}

void
pl_pacer_spend(pl_pacer *p, uint64_t size)
{
    uint64_t need = size * 1000000;
    p->tokens = p->tokens > need ? p->tokens - need : 0;
}
