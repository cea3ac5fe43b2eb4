/*
 * The sans-I/O protocol engine behind a parley host: handshake, peers,
 * channels, reliability, fragmentation, flow and congestion control,
 * keepalive and metrics. It never touches a socket or reads a clock:
 * datagrams and the time (microseconds) go in; datagrams to send, events
 * and the next wake-up time come out. The UDP driver (src/driver/) and the
 * virtual-time tests (tests/sim/) drive it the same way.
 */
#ifndef PL_CORE_CORE_H
#define PL_CORE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "parley/host.h"

typedef struct pl_core pl_core;

/* Secure random bytes (the driver passes the OS's; tests a seeded PRNG).
   Returns PARLEY_OK or an error. */
typedef int (*pl_core_random_fn)(void *user, void *buf, size_t len);

/*
 * Creates an engine with a host configuration (cfg->bind is ignored here:
 * the driver binds). random supplies connection ids, nonces and the
 * cookie key. now_us: the current time.
 * Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOMEM.
 */
int pl_core_create(const parley_host_config *cfg, pl_core_random_fn random,
                   void *random_user, uint64_t now_us, pl_core **out);

/* Frees everything: peers, queues, unreleased event data. */
void pl_core_destroy(pl_core *core);

/* Starts a connection (see parley_host_connect_addr). */
int pl_core_connect(pl_core *core, uint64_t now_us, const parley_addr *to,
                    const void *data, size_t len, parley_peer *out);

/*
 * Takes one received datagram. Anything malformed, unexpected or from an
 * unknown source is dropped and counted; nothing from the network can
 * make this fail or allocate before a handshake cookie is proven.
 */
void pl_core_on_datagram(pl_core *core, uint64_t now_us,
                         const parley_addr *from, const uint8_t *data,
                         size_t len);

/*
 * Runs due timers and writes the next datagram that should leave now
 * (acks, data within the congestion window and pacing, retransmissions,
 * pings, handshake packets) into buf (cap >= the configured MTU and
 * >= 1200, the padded size of handshake packets; path-MTU probes need
 * max_mtu, and a probe larger than cap counts as failed).
 * Returns PARLEY_OK with *len and *to set, or PARLEY_EAGAIN when nothing
 * is due before pl_core_next_wakeup().
 */
int pl_core_next_datagram(pl_core *core, uint64_t now_us, uint8_t *buf,
                          size_t cap, size_t *len, parley_addr *to);

/*
 * The OS refused to send a datagram the engine built to `to` because of
 * its size (err PARLEY_EMSGSIZE: "don't fragment" and over the interface
 * MTU). A path-MTU probe of that length fails at once instead of after a
 * timeout; any other datagram is simply lost. Other errors are ignored.
 */
void pl_core_on_send_error(pl_core *core, uint64_t now_us,
                           const parley_addr *to, size_t len, int err);

/* Absolute time (us) at which the engine next needs
   pl_core_next_datagram called, or UINT64_MAX when it needs nothing. */
uint64_t pl_core_next_wakeup(const pl_core *core);

/*
 * Makes every delayed ACK due now. A driver calls it when it is about to
 * sleep with nothing received: the app has had its events and sent its
 * replies (which carried their ACKs), so an ACK still owed would only
 * cost a wakeup of its own later. Returns nonzero when some became due
 * (then pl_core_next_datagram has them).
 */
int pl_core_flush_acks(pl_core *core, uint64_t now_us);

/* Events queued for the app, not yet taken. */
size_t pl_core_event_count(const pl_core *core);

/* Takes the next event. Returns PARLEY_OK or PARLEY_EAGAIN. */
int pl_core_poll_event(pl_core *core, parley_event *ev);

/* Releases a RECEIVE event's data (see parley_event_release). */
void pl_core_release_event(pl_core *core, parley_event *ev);

/* Queues a message (see parley_peer_send / parley_peer_send_owned; with
   release NULL the data is copied). */
int pl_core_send(pl_core *core, uint64_t now_us, parley_peer peer,
                 uint8_t channel, const void *data, size_t len, uint32_t flags,
                 parley_release_fn release, void *user);

/* Graceful (now == 0) or immediate (now != 0) disconnect. */
int pl_core_disconnect(pl_core *core, uint64_t now_us, parley_peer peer,
                       uint32_t app_code, int now);

/* Immediate disconnect of every peer (as pl_core_disconnect with now != 0):
   used when the host is destroyed. */
void pl_core_disconnect_all(pl_core *core, uint64_t now_us);

int pl_core_peer_stats(const pl_core *core, parley_peer peer,
                       parley_peer_stats *out);
parley_peer_state pl_core_peer_state(const pl_core *core, parley_peer peer);

/* Host-wide counters, for tests and tools. */
typedef struct pl_core_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t dropped_malformed; /* failed to decode */
    uint64_t dropped_unknown;   /* no such connection / wrong source */
    uint64_t dropped_cookie;    /* bad or expired handshake cookie */
    uint64_t challenges_sent;
    uint64_t peers;             /* peers in any state now */
    size_t memory;              /* bytes held for all peers' queues */
    uint64_t dropped_duplicate; /* a packet number seen before */
    uint64_t dropped_memory;    /* the host's memory budget was full */
    uint64_t dropped_auth;      /* DATA that failed to open (AEAD) */
    uint64_t dropped_ratelimit; /* handshake packets over the per-source
                                   rate */
    uint64_t rejected_security; /* REJECTs sent for a security reason */
    uint64_t shed_peers;        /* peers closed to free host memory */
} pl_core_stats;
void pl_core_get_stats(const pl_core *core, pl_core_stats *out);

/*
 * A connection's ids and next packet number, for tests that forge
 * packets: local_id is what the peer puts in DATA headers to us,
 * remote_id what we put in ours. Returns PARLEY_OK or PARLEY_ENOTCONN.
 */
int pl_core_peer_ids(const pl_core *core, parley_peer peer, uint32_t *local_id,
                     uint32_t *remote_id, uint64_t *next_pn);

/* Frees the engine's caches of unused records and buffers (they are
   otherwise kept for reuse). */
void pl_core_trim(pl_core *core);

#endif
