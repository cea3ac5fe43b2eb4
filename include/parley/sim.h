/*
 * The link simulator: a one-way datagram pipe that applies loss, latency,
 * jitter, duplication, reordering, a rate limit with a bounded queue and
 * burst loss (Gilbert-Elliott), driven by a seed so that every run can be
 * repeated. Time is whatever the caller passes in microseconds: virtual
 * time in tests, parley_time_us() in real use. A duplex link is two of
 * them. It never reads a clock and never touches a socket.
 */
#ifndef PARLEY_SIM_H
#define PARLEY_SIM_H

#include "addr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parley_sim parley_sim;

/*
 * Impairments. Percentages are 0..100 and may be fractional. Fill with
 * parley_sim_config_init (no impairment at all), then set fields.
 */
typedef struct parley_sim_config {
    double loss_pct;           /* independent random loss */
    double dup_pct;            /* a datagram is delivered twice */
    double reorder_pct;        /* a datagram is held back so that later ones
                                  overtake it */
    uint32_t latency_ms;       /* one-way delay */
    uint32_t jitter_ms;        /* delay varies uniformly in latency +- jitter
                                  (never below 0); jitter alone never reorders */
    uint32_t reorder_ms;       /* how long a reordered datagram is held back
                                  beyond its normal delay; 0: 10 ms, or
                                  jitter_ms when that is larger */
    uint64_t rate_bytes_per_s; /* bottleneck rate; 0: unlimited */
    size_t queue_bytes;        /* bottleneck queue; a datagram that does not
                                  fit is dropped (tail drop); 0: 64 KiB */
    /* Gilbert-Elliott burst loss, on when ge_p_pct > 0: each datagram the
       chain moves good->bad with ge_p_pct and bad->good with ge_r_pct;
       in the bad state a datagram is lost with ge_loss_bad_pct, in the
       good state with ge_loss_good_pct (on top of loss_pct). */
    double ge_p_pct;
    double ge_r_pct;
    double ge_loss_good_pct;
    double ge_loss_bad_pct; /* config_init leaves it 0: set it (e.g.
                               100) or the bad state loses nothing */
    size_t max_datagram;    /* longest datagram accepted; 0: 65536 */
    size_t path_mtu;        /* the path's MTU as a UDP payload: longer
                               datagrams are taken, dropped silently and
                               counted (dropped_mtu), as a router drops
                               a "don't fragment" packet; 0: none */
    size_t max_held;        /* most datagrams in flight at once (duplicate
                               copies count); beyond it new ones are
                               dropped; 0: 65536 */
    uint64_t seed;          /* same seed + same inputs = same outputs */
} parley_sim_config;

/* Counters since creation. */
typedef struct parley_sim_stats {
    uint64_t pushed;        /* datagrams offered */
    uint64_t delivered;     /* datagrams handed out by pop */
    uint64_t dropped_loss;  /* lost to loss_pct or Gilbert-Elliott */
    uint64_t dropped_queue; /* lost to the rate limiter's full queue or
                               max_held */
    uint64_t dropped_mtu;   /* longer than path_mtu */
    uint64_t duplicated;    /* extra copies made */
    uint64_t reordered;     /* datagrams held back so that later ones
                               may overtake them */
    uint64_t bytes_pushed;
    uint64_t bytes_delivered;
    size_t held;       /* datagrams in flight now */
    size_t held_bytes; /* their bytes */
} parley_sim_stats;

/* Fills *cfg with a perfect link: no loss, no delay, no limit, seed 1. */
PARLEY_API void parley_sim_config_init(parley_sim_config *cfg);

/*
 * Creates a simulator. Returns PARLEY_OK, PARLEY_EINVAL (NULL, a
 * percentage outside 0..100 or not a number) or PARLEY_ENOMEM.
 */
PARLEY_API int parley_sim_create(const parley_sim_config *cfg,
                                 parley_sim **out);

/* Frees the simulator and every datagram it holds. NULL is allowed. */
PARLEY_API void parley_sim_destroy(parley_sim *sim);

/*
 * Changes the impairments at run time. Datagrams already in flight keep
 * the delivery time they were given; the random sequence goes on (the
 * seed field is ignored). Changing latency_ms or jitter_ms lets later
 * datagrams overtake ones already in flight.
 * Returns PARLEY_OK or PARLEY_EINVAL.
 */
PARLEY_API int parley_sim_configure(parley_sim *sim,
                                    const parley_sim_config *cfg);

/*
 * Offers one datagram at time now_us (microseconds; a time earlier than
 * one already seen is taken as the latest seen). The simulator copies the
 * bytes; from and to (either may be NULL) travel with it. Returns PARLEY_OK
 * whether or not the link then drops it (see the stats; over path_mtu is
 * such a drop), PARLEY_EINVAL,
 * PARLEY_EMSGSIZE (longer than max_datagram) or PARLEY_ENOMEM.
 */
PARLEY_API int parley_sim_push(parley_sim *sim, uint64_t now_us,
                               const void *data, size_t len,
                               const parley_addr *from, const parley_addr *to);

/*
 * Takes the next datagram due at or before now_us, earliest first (ties
 * in the order pushed). Copies it into buf; *len gets its full length.
 * from/to may be NULL. Returns PARLEY_OK, PARLEY_EAGAIN (nothing due yet),
 * PARLEY_ETRUNC (buf was too small: the datagram stays queued and *len
 * says how much room it needs) or PARLEY_EINVAL. *len is untouched on
 * PARLEY_EAGAIN.
 */
PARLEY_API int parley_sim_pop(parley_sim *sim, uint64_t now_us, void *buf,
                              size_t cap, size_t *len, parley_addr *from,
                              parley_addr *to);

/* When the next datagram falls due, or UINT64_MAX when none is held. */
PARLEY_API uint64_t parley_sim_next_due_us(const parley_sim *sim);

/* Copies the counters into *out. */
PARLEY_API void parley_sim_get_stats(const parley_sim *sim,
                                     parley_sim_stats *out);

#ifdef __cplusplus
}
#endif

#endif
