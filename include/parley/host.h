/*
 * Hosts, peers and messages: parley's reliable-UDP transport. A host owns
 * one UDP socket and any number of peers (connections). The app drives it
 * from its own loop with parley_host_service, which sends, receives and
 * hands out one event at a time. No hidden threads; a host belongs to one
 * thread, and only parley_host_interrupt may be called from another.
 */
#ifndef PARLEY_HOST_H
#define PARLEY_HOST_H

#include "addr.h"
#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parley_host parley_host;

/*
 * A peer is named by value: slot and generation packed in 64 bits. An id
 * whose connection is gone stays invalid forever (calls give
 * PARLEY_ENOTCONN), so a stale id never reaches another peer.
 */
typedef uint64_t parley_peer;
#define PARLEY_PEER_NONE ((parley_peer)0)

#define PARLEY_MAX_CHANNELS 255

/* How a channel (or one message) is delivered. */
typedef enum parley_delivery {
    PARLEY_RELIABLE_ORDERED = 0,     /* exactly once, in send order */
    PARLEY_RELIABLE_UNORDERED = 1,   /* exactly once, as it arrives */
    PARLEY_UNRELIABLE_SEQUENCED = 2, /* at most once, never older than the
                                        newest already delivered */
    PARLEY_UNRELIABLE = 3            /* at most once, any order */
} parley_delivery;

/* Flags for parley_peer_send. */
enum {
    /* Override the channel's delivery mode for this message:
       PARLEY_SEND_MODE(PARLEY_UNRELIABLE) etc. 0 keeps the channel's. */
    PARLEY_SEND_MODE_MASK = 0x7,
    /* Hand the message to the socket at once rather than at the next
       service or flush (it may still share a datagram with others). */
    PARLEY_SEND_FLUSH = 0x8
};
#define PARLEY_SEND_MODE(m) ((uint32_t)(m) + 1u)

typedef enum parley_peer_state {
    PARLEY_PEER_DISCONNECTED = 0,
    PARLEY_PEER_CONNECTING = 1,
    PARLEY_PEER_CONNECTED = 2,
    PARLEY_PEER_DISCONNECTING = 3,
    PARLEY_PEER_ERROR = 4 /* closed by a protocol error or timeout; the
                             DISCONNECT event is pending */
} parley_peer_state;

/* Why a connection ended or was refused (carried on events). */
typedef enum parley_reason {
    PARLEY_REASON_NONE = 0,
    PARLEY_REASON_GRACEFUL = 1, /* the remote side disconnected */
    PARLEY_REASON_TIMEOUT = 2,  /* nothing heard for timeout_ms */
    PARLEY_REASON_KICKED = 3,   /* the server removed us */
    PARLEY_REASON_REJECTED = 4, /* the server's accept callback said no */
    PARLEY_REASON_PROTOCOL = 5, /* the remote side broke the protocol */
    PARLEY_REASON_LOCAL = 6,    /* we disconnected (disconnect_now, or a
                                   graceful disconnect that completed) */
    PARLEY_REASON_VERSION = 7,  /* protocol versions differ */
    PARLEY_REASON_FULL = 8,     /* the server has max_peers peers */
    PARLEY_REASON_CONNECT_TIMEOUT = 9, /* no answer to the handshake */
    PARLEY_REASON_SECURITY = 10,       /* encryption or access control failed:
                                          app_code is a PARLEY_SECURITY_* detail
                                          (parley/security.h) */
    PARLEY_REASON_OVERLOAD = 11        /* the host's memory budget was full and
                                          this peer held the most of it */
} parley_reason;

/* A short name for a reason, e.g. "timeout". Never NULL. */
PARLEY_API const char *parley_reason_name(parley_reason reason);

typedef enum parley_event_type {
    PARLEY_EVENT_NONE = 0,
    PARLEY_EVENT_CONNECT = 1,       /* a peer is connected (either side) */
    PARLEY_EVENT_DISCONNECT = 2,    /* a connected peer is gone; reason */
    PARLEY_EVENT_RECEIVE = 3,       /* a message: channel, data, len */
    PARLEY_EVENT_CONNECT_FAILED = 4 /* our connect did not succeed; reason */
} parley_event_type;

/*
 * One event. For RECEIVE, data points at the message inside the host's
 * memory; it stays valid until parley_event_release (required for RECEIVE
 * events, harmless for others). The peer id stays meaningful in
 * DISCONNECT and CONNECT_FAILED events only as a name: the peer is gone.
 */
typedef struct parley_event {
    parley_event_type type;
    parley_peer peer;
    parley_addr addr;     /* the peer's address */
    uint8_t channel;      /* RECEIVE */
    uint8_t delivery;     /* RECEIVE: parley_delivery it came with */
    parley_reason reason; /* DISCONNECT, CONNECT_FAILED */
    uint32_t app_code;    /* DISCONNECT/CONNECT_FAILED: the remote
                             side's code, if it gave one */
    const uint8_t *data;  /* RECEIVE */
    size_t len;           /* RECEIVE */
    void *internal_;      /* the library's; do not touch */
} parley_event;

/*
 * A server's say on an incoming connection, called from inside service
 * after the client proved its address (the handshake cookie came back).
 * data/len: what the client passed to parley_host_connect. Return nonzero
 * to accept; return 0 and set *app_code to reject (the client gets
 * CONNECT_FAILED with PARLEY_REASON_REJECTED and that code).
 */
typedef int (*parley_accept_fn)(void *user, const parley_addr *from,
                                const void *data, size_t len,
                                uint32_t *app_code);

/* Releases a buffer given to parley_peer_send_owned. */
typedef void (*parley_release_fn)(void *user, void *data);

typedef struct parley_host_config {
    const char *bind;      /* "ADDR:PORT" to bind; default "0.0.0.0:0".
                              "[::]:PORT" listens on IPv6 and IPv4 */
    int accept_incoming;   /* nonzero: accept connections (a server);
                              default 1 */
    uint32_t max_peers;    /* default 64 */
    uint8_t channel_count; /* 1..255; default 2 */
    uint8_t channel_modes[PARLEY_MAX_CHANNELS]; /* parley_delivery per
                               channel; default: 0 reliable ordered, 1
                               unreliable sequenced, the rest reliable
                               ordered */
    uint16_t mtu;                   /* largest UDP payload sent until the
                                       path is probed; always assumed safe;
                                       default 1200 */
    uint16_t max_mtu;               /* path-MTU probing (docs/PROTOCOL.md
                                       5.9): the largest UDP payload this
                                       host accepts; receive buffers are
                                       sized for it. It probes for and
                                       announces at most this and 1/32 of
                                       min(peer_memory, host_memory); 0 or
                                       <= mtu: no probing. Default 65507
                                       (the IPv4 maximum; IPv6 paths
                                       settle a little lower) */
    uint32_t max_message;           /* largest message accepted or sent; default
                                       64 MiB */
    uint32_t connect_timeout_ms;    /* default 5000 */
    uint32_t ping_interval_ms;      /* PING after the peer was silent and
                                       we asked nothing for this long;
                                       default 250 */
    uint32_t timeout_ms;            /* silence before timeout; default 5000 */
    uint32_t disconnect_timeout_ms; /* graceful disconnect's limit for
                                       delivering pending reliable data;
                                       default 3000 */
    uint32_t recv_window;           /* bytes of reliable data a peer may have in
                                       flight to us beyond what the app took;
                                       default 16 MiB */
    size_t peer_memory;             /* reassembly + receive queues per peer;
                                       default 128 MiB */
    size_t host_memory;         /* the same for the whole host; default 1 GiB */
    uint64_t bandwidth_out;     /* per-peer send cap in bytes/s; 0: none */
    parley_accept_fn accept_cb; /* NULL: accept everyone */
    void *accept_user;

    /* ---- security (docs/SECURITY.md); key buffers are copied at create */
    int encrypt;        /* nonzero: every connection is encrypted (X25519 key
                           exchange, ChaCha20-Poly1305 per packet); both ends
                           must agree or the connect fails with
                           PARLEY_REASON_SECURITY; default 1 */
    const uint8_t *psk; /* 32-byte pre-shared key or NULL; a server with
                           one admits only clients with the same key, and
                           the key is mixed into the session keys; needs
                           encrypt */
    const uint8_t *identity_secret; /* server: 64-byte Ed25519 secret key
                                       (parley_keypair_*) proving its
                                       identity to pinning clients; NULL:
                                       none; needs encrypt */
    const uint8_t *pinned_key;      /* client: the 32-byte public identity key
                                       the server must prove; NULL: no pin */
    const uint8_t *token_key;       /* server: the backend's 32-byte public key;
                                       non-NULL: only clients with a valid,
                                       unexpired connect token get in */
    const uint8_t *connect_token;   /* client: PARLEY_TOKEN_SIZE bytes from
                                       the backend, sent with CONNECT */
    uint32_t handshake_rate; /* handshake packets per second admitted from
                                one source IP (burst: twice that); 0: no
                                limit; default 50 */
    /* Seconds since 1970 for token expiry; NULL: the system clock. */
    uint64_t (*unix_time)(void *user);
    void *unix_time_user;
} parley_host_config;

/* Fills *cfg with the defaults above. */
PARLEY_API void parley_host_config_init(parley_host_config *cfg);

/*
 * Creates a host and binds its socket. Returns PARLEY_OK, PARLEY_EINVAL
 * (bad config), PARLEY_EADDR/PARLEY_EPORT (bind text), PARLEY_EADDRINUSE,
 * PARLEY_ENOMEM or another socket error. On error nothing is left open.
 */
PARLEY_API int parley_host_create(const parley_host_config *cfg,
                                  parley_host **out);

/*
 * Sends a DISCONNECT to every peer (best effort, no waiting), closes the
 * socket and frees everything, including unreleased events' data.
 */
PARLEY_API void parley_host_destroy(parley_host *host);

/* The bound address, with the real port. */
PARLEY_API int parley_host_local_addr(const parley_host *host,
                                      parley_addr *out);

/*
 * Starts connecting to "ADDR:PORT" (a name is resolved, blocking) and
 * gives the peer id at once; a CONNECT or CONNECT_FAILED event follows.
 * data/len (at most 256 bytes, may be NULL/0) reach the server's accept
 * callback. Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_EADDR, PARLEY_EPORT,
 * PARLEY_ERESOLVE, PARLEY_EFULL (max_peers) or PARLEY_ENOMEM.
 */
PARLEY_API int parley_host_connect(parley_host *host, const char *addr,
                                   const void *data, size_t len,
                                   parley_peer *out);

/* The same with an address value. */
PARLEY_API int parley_host_connect_addr(parley_host *host,
                                        const parley_addr *addr,
                                        const void *data, size_t len,
                                        parley_peer *out);

/*
 * Sends what is due, receives what has arrived, runs timers, and hands
 * out the next event in *event. Waits up to timeout_ms for something to
 * happen (0: never waits; -1: until an event or an interrupt). Returns 1
 * with an event, 0 with none (time ran out or interrupted), or a negative
 * error (PARLEY_EINVAL, or a socket error that ended the host's I/O).
 */
PARLEY_API int parley_host_service(parley_host *host, int timeout_ms,
                                   parley_event *event);

/* Hands out an event already queued, without any I/O. 1, 0 or error. */
PARLEY_API int parley_host_check_events(parley_host *host, parley_event *event);

/* Releases an event's data. Safe to call twice and on any event type. */
PARLEY_API void parley_event_release(parley_host *host, parley_event *event);

/*
 * Queues a message of len bytes on a channel; the data is copied. flags:
 * PARLEY_SEND_MODE(m) to override the channel's delivery mode,
 * PARLEY_SEND_FLUSH to send at once. Messages longer than the MTU are
 * fragmented (an unreliable one is dropped whole if a piece is lost).
 * Returns PARLEY_OK, PARLEY_EINVAL (bad channel, flags or NULL data with
 * len > 0), PARLEY_ENOTCONN (not connected, or a stale id),
 * PARLEY_EMSGSIZE (over either side's max_message), PARLEY_ENOBUFS (the
 * peer's queue is over its memory budget) or PARLEY_ENOMEM. On error
 * nothing was queued.
 */
PARLEY_API int parley_peer_send(parley_host *host, parley_peer peer,
                                uint8_t channel, const void *data, size_t len,
                                uint32_t flags);

/*
 * Zero-copy form: on PARLEY_OK the host owns data and calls
 * release(user, data) when it no longer needs it (acknowledged, dropped
 * or the peer gone). On error the caller keeps ownership.
 */
PARLEY_API int parley_peer_send_owned(parley_host *host, parley_peer peer,
                                      uint8_t channel, void *data, size_t len,
                                      uint32_t flags, parley_release_fn release,
                                      void *user);

/* Sends everything queued that congestion control allows, now. */
PARLEY_API int parley_host_flush(parley_host *host);

/*
 * Graceful disconnect: pending reliable data is delivered first (up to
 * disconnect_timeout_ms), then a DISCONNECT with app_code is sent and a
 * DISCONNECT event (PARLEY_REASON_LOCAL) follows. On a CONNECTING peer it
 * cancels the attempt (CONNECT_FAILED, PARLEY_REASON_LOCAL).
 * Returns PARLEY_OK or PARLEY_ENOTCONN.
 */
PARLEY_API int parley_peer_disconnect(parley_host *host, parley_peer peer,
                                      uint32_t app_code);

/*
 * Immediate disconnect: one DISCONNECT datagram is sent, queued data is
 * dropped, the peer is gone at once and no event follows.
 */
PARLEY_API int parley_peer_disconnect_now(parley_host *host, parley_peer peer,
                                          uint32_t app_code);

/* Per-peer metrics: a superset of legume's. */
typedef struct parley_peer_stats {
    parley_peer_state state;
    parley_addr addr;
    uint32_t mtu;       /* the largest packet we send now: the agreed
                           base, raised by path-MTU probing */
    uint64_t srtt_us;   /* smoothed RTT */
    uint64_t rttvar_us; /* RTT variation */
    uint64_t min_rtt_us;
    uint64_t latest_rtt_us;
    double loss_pct;              /* packets declared lost / sent, recent */
    uint64_t bytes_out, bytes_in; /* UDP payload bytes */
    uint64_t packets_out, packets_in;
    uint64_t messages_out, messages_in;
    uint64_t packets_lost;     /* declared lost */
    uint64_t retransmits;      /* message frames sent again */
    uint64_t unacked_messages; /* sent, reliable, not yet acked */
    uint64_t unacked_bytes;
    uint64_t out_buffer_bytes;  /* queued, not yet sent */
    uint64_t reorder_queue;     /* messages held back for order */
    uint64_t keepalives;        /* pings sent while idle */
    uint64_t cwnd_bytes;        /* congestion window */
    uint64_t send_rate_bps;     /* pacing rate, bytes/s */
    uint64_t peer_window_bytes; /* the peer's receive window */
    uint64_t auth_failures;     /* packets dropped: failed to decrypt or
                                   authenticate */
    uint64_t mtu_probes;        /* path-MTU probes sent */
    uint64_t mtu_probes_lost;   /* of them, lost (or refused by the OS) */
    uint64_t mtu_blackholes;    /* falls back to the base mtu after
                                   packets above it stopped arriving */
} parley_peer_stats;

/* Fills *out. Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOTCONN. */
PARLEY_API int parley_peer_get_stats(parley_host *host, parley_peer peer,
                                     parley_peer_stats *out);

/* The peer's state; PARLEY_PEER_DISCONNECTED for a stale id. */
PARLEY_API parley_peer_state parley_peer_get_state(parley_host *host,
                                                   parley_peer peer);

/* A file descriptor that is readable when service has work to do, for the
   app's own epoll/libuv/Qt loop. */
PARLEY_API int parley_host_fd(const parley_host *host);

/* Milliseconds until the host needs service for its timers (-1: none);
   rounded up, so servicing then is never early. */
PARLEY_API int parley_host_next_timeout_ms(parley_host *host);

/* Wakes a service call waiting in another thread. The one call that is
   safe from any thread (and from a signal handler). */
PARLEY_API int parley_host_interrupt(parley_host *host);

/*
 * Puts the link simulator on the host's datagram path (outgoing and
 * incoming datagrams each through their own simulator), or takes it off
 * (NULL). May be called at any time. Returns PARLEY_OK, PARLEY_EINVAL or
 * PARLEY_ENOMEM.
 */
PARLEY_API int parley_host_set_sim(parley_host *host,
                                   const parley_sim_config *outgoing,
                                   const parley_sim_config *incoming);

#ifdef __cplusplus
}
#endif

#endif
