/*
 * RTT estimation. We follow RFC 9002 rather than RFC 6298 for sampling:
 * samples come from packet numbers (never ambiguous, so no Karn rule is
 * needed) and the peer's reported ack delay is removed. The smoothing
 * constants (1/8, 1/4) and the RTO formula are RFC 6298's.
 */
#include "core/rtt.h"

void
pl_rtt_init(pl_rtt *r, uint64_t initial_us)
{
    if (initial_us == 0) {
        initial_us = PL_RTT_INITIAL_US;
    }
    r->srtt = initial_us;
    r->rttvar = initial_us / 2;
    r->min_rtt = 0;
    r->latest = 0;
    r->has_sample = 0;
}

void
pl_rtt_sample(pl_rtt *r, uint64_t latest_us, uint64_t ack_delay_us,
              uint64_t max_ack_delay_us)
{
    if (latest_us == 0) {
        latest_us = 1;
    }
    r->latest = latest_us;
    if (!r->has_sample) {
        r->has_sample = 1;
        r->min_rtt = latest_us;
        r->srtt = latest_us;
        r->rttvar = latest_us / 2;
        return;
    }
    if (latest_us < r->min_rtt) {
        r->min_rtt = latest_us;
    }
    if (ack_delay_us > max_ack_delay_us) {
        ack_delay_us = max_ack_delay_us;
    }
    uint64_t adjusted = latest_us;
    if (latest_us >= r->min_rtt + ack_delay_us) {
        adjusted = latest_us - ack_delay_us;
    }
    uint64_t diff =
        r->srtt > adjusted ? r->srtt - adjusted : adjusted - r->srtt;
    r->rttvar = (3 * r->rttvar + diff) / 4;
    r->srtt = (7 * r->srtt + adjusted) / 8;
}

uint64_t
pl_rtt_pto(const pl_rtt *r, uint64_t max_ack_delay_us)
{
    uint64_t var = 4 * r->rttvar;
    if (var < PL_RTT_GRANULARITY_US) {
        var = PL_RTT_GRANULARITY_US;
    }
    return r->srtt + var + max_ack_delay_us;
}

uint64_t
pl_rtt_loss_delay(const pl_rtt *r)
{
    uint64_t base = r->srtt > r->latest ? r->srtt : r->latest;
    uint64_t d = base + base / 8;
    return d < PL_RTT_GRANULARITY_US ? PL_RTT_GRANULARITY_US : d;
}

uint64_t
pl_rtt_rto(const pl_rtt *r, unsigned backoff)
{
    uint64_t var = 4 * r->rttvar;
    if (var < PL_RTT_GRANULARITY_US) {
        var = PL_RTT_GRANULARITY_US;
    }
    uint64_t rto = r->srtt + var;
    if (rto < PL_RTO_MIN_US) {
        rto = PL_RTO_MIN_US;
    }
    for (unsigned i = 0; i < backoff && rto < PL_RTO_MAX_US; i++) {
        rto *= 2;
    }
    return rto > PL_RTO_MAX_US ? PL_RTO_MAX_US : rto;
}
