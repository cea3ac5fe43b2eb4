/*
 * The engine's internal structures, shared by the files of src/core: the
 * host (pl_core), a connection (pl_conn), a queued outgoing message
 * (pl_msg) and a received message (pl_rxmsg), plus the calls the modules
 * make on one another. Nothing outside src/core includes this.
 */
#ifndef PL_CORE_CORE_INT_H
#define PL_CORE_CORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/ackq.h"
#include "core/cc.h"
#include "core/core.h"
#include "core/fragment.h"
#include "core/loss.h"
#include "core/map.h"
#include "core/peers.h"
#include "core/pmtu.h"
#include "core/pool.h"
#include "core/sched.h"
#include "core/ratelimit.h"
#include "core/rtt.h"
#include "core/sent.h"
#include "wire/frame.h"
#include "wire/packet.h"

/* Flow-control cost of a reliable message beyond its bytes, so that a
   flood of tiny messages is bounded too (both ends count it). */
#define PL_FC_MSG_COST 64
/* Room kept free in every packet for ACK and control frames: a message
   whose frame fits in mtu - header - this is never fragmented. */
#define PL_PKT_RESERVE 96
/* Largest ACK frame piggybacked on a packet that also carries data. */
#define PL_ACK_PIGGYBACK_MAX 64
/* Handshake retransmission: first interval and cap. */
#define PL_HS_RETRY_US 250000u
#define PL_HS_RETRY_MAX_US 1000000u
/* A client stops using a cookie this long after receiving it (cookies
   live PL_COOKIE_LIFETIME_S; leave a second for the trip). */
#define PL_HS_COOKIE_USE_US ((PL_COOKIE_LIFETIME_S - 1) * 1000000ull)
/* Stateless replies (CHALLENGE, REJECT) and last words (a DISCONNECT or
   final ACK of a closed connection) waiting for next_datagram. */
#define PL_RAW_SLOTS 64
#define PL_RAW_MAX 160
/* Unreliable fragmented messages in reassembly at once, per peer. */
#define PL_UPART_MAX 64
/* Packets over which loss_pct is (roughly) measured. */
#define PL_LOSS_WINDOW 1024
/* Graceful close: copies of the DISCONNECT frame sent. */
#define PL_DISC_SENDS 4

typedef struct pl_core pl_core;

/* An outgoing message. */
typedef struct pl_msg {
    struct pl_msg *qnext;         /* send queue */
    struct pl_msg *anext, *aprev; /* the connection's list of all */
    uint8_t *data;
    parley_release_fn release; /* non-NULL: the app's buffer */
    void *user;
    uint64_t seq;
    uint32_t len;
    uint32_t sent_off; /* bytes sent for the first time */
    uint32_t refs;     /* reliable chunks in flight or queued again */
    uint8_t channel, mode;
    uint8_t frag;    /* sent as fragments */
    uint8_t queued;  /* in a send queue */
    uint8_t started; /* reliable, and some of it was sent */
    size_t charge;   /* bytes charged to the send budget */
} pl_msg;

enum {
    PL_RX_PARTIAL = 1, /* fragments arriving, re in use */
    PL_RX_READY = 2,   /* complete, waiting for its turn (ordered) */
    PL_RX_QUEUED = 3   /* handed out in an event */
};

/* A received message (or one being reassembled). */
typedef struct pl_rxmsg {
    struct pl_rxmsg *next, *prev; /* upart list or the core's out list */
    parley_peer owner;
    uint64_t seq;
    uint64_t deadline; /* unreliable partial: dropped after this */
    uint8_t *data;
    uint32_t len;
    uint32_t fc;   /* flow-control bytes returned on release */
    size_t charge; /* record + data buffer, charged */
    uint8_t channel, mode, state;
    pl_reasm re;
} pl_rxmsg;

/* Receive state of one (channel, mode). */
typedef struct pl_chan_rx {
    uint64_t next; /* ordered: next to deliver; unordered: all below
                      are done */
    uint64_t last; /* sequenced: newest delivered */
    uint8_t has_last;
} pl_chan_rx;

/* Graceful close phases. */
enum { PL_DISC_NONE = 0, PL_DISC_FLUSH = 1, PL_DISC_SENT = 2 };

typedef struct pl_conn {
    pl_core *core;
    parley_peer id;
    parley_peer_state state;
    uint8_t is_client;
    parley_addr addr;
    uint32_t local_id, remote_id;
    uint8_t nonce[8];
    uint64_t remote_key; /* server: key in core->remotes */

    /* Handshake (client). */
    uint8_t hs_phase; /* 0: CONNECT, 1: RESPONSE */
    uint8_t cookie[PL_COOKIE_LEN];
    uint8_t user[PL_HS_USER_MAX];
    uint16_t user_len;
    uint64_t hs_deadline, hs_next, hs_interval, hs_sent_time;
    uint64_t hs_cookie_time; /* when the cookie arrived */
    uint32_t hs_tries;       /* sends in this phase */
    uint8_t accept_pending;  /* server: an ACCEPT is owed */

    /* Security (handshake.c, src/crypto). */
    uint8_t enc;         /* DATA packets are sealed (after ACCEPT) */
    uint32_t hs_flags;   /* client: the flags its CONNECT carries */
    uint8_t eph_sk[32];  /* client: ephemeral X25519 secret */
    uint8_t eph_pk[32];  /* client: its public key */
    uint8_t psk_mac[16]; /* client: the CONNECT's PSK proof */
    uint8_t key_tx[32];  /* packets we send */
    uint8_t key_rx[32];  /* packets we receive */
    pl_hs_accept acc;    /* server: the ACCEPT, sent again as needed */

    /* Agreed at the handshake; mtu is then raised by probing (pmtu). */
    uint32_t mtu;
    pl_pmtu pmtu;
    uint8_t channels;
    uint32_t peer_max_message;

    uint64_t last_recv;
    uint64_t last_eliciting_sent;

    /* Reliability, recovery, congestion. */
    pl_ackq ackq;
    pl_sent sent;
    pl_rtt rtt;
    pl_cc cc;
    pl_pacer pacer;
    unsigned pto_count;
    unsigned probes;  /* probe packets owed after a PTO */
    uint8_t ping_due; /* keepalive owed */
    uint64_t delivered, delivered_time, first_sent_time;
    /* The rate sample being gathered while an ACK is applied. */
    uint8_t rs_have;
    uint64_t rs_delivered, rs_delivered_time, rs_first_sent, rs_time;
    uint8_t fatal; /* out of memory in a path that cannot fail */

    /* Flow control, sending side. */
    uint64_t fc_limit;     /* the peer's latest WINDOW (absolute) */
    uint64_t fc_used;      /* credit we consumed */
    uint64_t fc_window_pn; /* packet number the limit came in */
    uint8_t fc_have_pn;
    /* Flow control, receiving side. */
    uint64_t fc_released; /* reliable bytes (+cost) the app released */
    uint64_t fc_partial;  /* reliable bytes (+cost) in reassembly */
    uint64_t fc_adv;      /* the limit we computed (monotonic) */
    uint64_t fc_adv_sent; /* and last advertised */
    uint8_t window_dirty;

    /* Sending. */
    pl_msg *q_head[2], *q_tail[2]; /* 0: whole messages, 1: fragmented */
    uint8_t q_first;               /* which queue a packet serves first */
    pl_chunk *rtx;                 /* ring of chunks to send again */
    size_t rtx_cap, rtx_head, rtx_n;
    pl_msg *all;      /* every message not yet freed */
    uint64_t *tx_seq; /* channels * 4 */
    size_t tx_mem;
    uint64_t rel_unacked;  /* reliable bytes in flight or queued again */
    uint64_t out_bytes;    /* bytes queued, not yet sent once */
    uint64_t rtx_bytes;    /* bytes queued to be sent again */
    uint64_t unacked_msgs; /* reliable messages started, not all acked */

    /* Receiving. */
    pl_chan_rx *rx; /* channels * 4 */
    pl_rxmap rxmap;
    pl_rxmsg *upart_head, *upart_tail; /* unreliable partials, oldest
                                          activity first */
    uint32_t upart_n;
    size_t rx_mem;
    size_t rx_out_charge; /* part of rx_mem held by events */
    uint64_t reorder_n;

    /* Closing. */
    uint8_t disc_phase;
    uint8_t disc_needed; /* a DISCONNECT frame should go out */
    uint8_t disc_acked;  /* a copy was acknowledged: no need for more */
    uint8_t disc_sends;
    uint8_t disc_reason; /* PL_DISC_* we send */
    uint32_t disc_code;
    uint64_t disc_deadline; /* FLUSH: give up waiting for acks */
    uint64_t disc_next;     /* SENT: when the next copy goes */

    parley_peer_stats st; /* counters (the rest is filled on demand) */
    /* Recent loss: in-flight packets sent and declared lost, both halved
       every PL_LOSS_WINDOW packets sent. */
    uint32_t recent_sent, recent_lost;
    uint64_t next_due;  /* when it next has work: its key in core->sched */
    uint64_t sched_seq; /* tie-break in core->sched */
    uint32_t sched_idx; /* place in core->sched, PL_SCHED_NONE: none */
    uint8_t ack_listed; /* in core->ack_ids */
} pl_conn;

/* A datagram waiting to leave without a connection. */
typedef struct pl_raw {
    parley_addr to;
    uint16_t len;
    uint8_t buf[PL_RAW_MAX];
} pl_raw;

struct pl_core {
    parley_host_config cfg;
    pl_core_random_fn random;
    void *random_user;
    uint8_t cookie_key[32];
    uint64_t now;

    /* Security: copies of the config's keys (cfg's pointers are NULL). */
    uint8_t psk[32], id_sk[64], pin[32], token_key[32];
    uint8_t token[PL_HS_TOKEN_LEN];
    uint8_t has_psk, has_id, has_pin, has_token_key, has_token;
    uint8_t *scratch; /* an opened packet (max datagram bytes) */
    pl_ratelimit rl;  /* handshake attempts per source */

    pl_peers peers;
    pl_connmap ids;     /* our connection id -> slot */
    pl_connmap remotes; /* server: (client id, address hash) -> slot */
    uint32_t nconns;    /* live connections */
    pl_sched sched;     /* live connections by next_due */
    /* Connections that may owe a delayed ACK (pl_core_flush_acks); ids,
       so a closed one is simply skipped. Room for every connection. */
    parley_peer *ack_ids;
    uint32_t ack_n, ack_cap;

    parley_event *ev; /* ring */
    size_t ev_cap, ev_head, ev_n;

    pl_raw *raw; /* ring of PL_RAW_SLOTS */
    size_t raw_head, raw_n;

    pl_pool msg_pool, rx_pool;
    pl_bufpool bufs;
    pl_rxmsg *out_head; /* received messages handed to the app */

    size_t mem; /* all peers' queues, both directions */
    pl_core_stats st;
};

/* ---- core.c: host-level services for the modules ---- */

/* Queues an event. PARLEY_OK or PARLEY_ENOMEM. */
int pl_core_push_event(pl_core *core, const parley_event *ev);
/* Queues a connectionless datagram (dropped when the ring is full). */
void pl_core_push_raw(pl_core *core, const parley_addr *to, const uint8_t *buf,
                      size_t len);
/*
 * Ends a connection: frees it, queues the event (type NONE: no event and
 * the id dies at once), and leaves the slot in zstate until the app has
 * taken the event.
 */
void pl_core_close(pl_core *core, pl_conn *c, parley_event_type type,
                   parley_reason reason, uint32_t app_code,
                   parley_peer_state zstate);
/* Room in ack_ids for one more connection. PARLEY_OK or PARLEY_ENOMEM. */
int pl_core_reserve_conn(pl_core *core);
/* The live connection of an id, or NULL. */
pl_conn *pl_core_conn(const pl_core *core, parley_peer id);
/* Random bytes from the app's source (zeros never leak: ids != 0). */
int pl_core_random(pl_core *core, void *buf, size_t len);
/* A fresh nonzero connection id not in use. */
int pl_core_new_id(pl_core *core, uint32_t *id);
/* The peer's budget for receive memory. */
pl_budget pl_core_rx_budget(pl_conn *c);
/*
 * The host's receive budget is full while c has a packet: closes the peer
 * that holds the most receive memory if it holds more than its fair share
 * (PARLEY_REASON_OVERLOAD). Returns 1 when that was c itself.
 */
int pl_core_shed(pl_core *core, pl_conn *c, uint64_t now);
/* Seconds since 1970 (token expiry): the config's clock, else now. */
uint64_t pl_core_unix_time(const pl_core *core, uint64_t now);

/* ---- pmtu.c: path-MTU probing of a connection ---- */

/* The largest datagram the host accepts. */
uint32_t pl_core_max_datagram(const parley_host_config *cfg);
/* The max_mtu it announces and probes up to; 0: no probing. */
uint32_t pl_core_probe_max(const parley_host_config *cfg);
/* Starts the search once c->mtu (the base) is agreed; peer_max is the
   peer's max_mtu, 0 when it does not probe. */
void pl_conn_pmtu_init(pl_conn *c, uint32_t peer_max, uint64_t now);
/* Nonzero when c has enough queued that a larger MTU would help. */
int pl_conn_pmtu_worth(const pl_conn *c);
/* Packet events and timers, from the loss callbacks and pl_conn_tick. */
void pl_conn_pmtu_acked(pl_conn *c, uint64_t pn, const pl_sent_pkt *p);
void pl_conn_pmtu_lost(pl_conn *c, uint64_t pn, const pl_sent_pkt *p);
void pl_conn_pmtu_pto(pl_conn *c, uint64_t now);
void pl_conn_pmtu_tick(pl_conn *c, uint64_t now);
/* The OS refused a datagram of len bytes to c; 1 when it was the probe. */
int pl_conn_pmtu_refused(pl_conn *c, size_t len, uint64_t now);
/* When c's probing next needs a timer or a send (UINT64_MAX: never). */
uint64_t pl_conn_pmtu_due(const pl_conn *c);

/* ---- conn.c: the connection state machine ---- */

int pl_conn_create(pl_core *core, uint64_t now, const parley_addr *addr,
                   int is_client, pl_conn **out);
/* Frees everything of c (messages are released to their owners). */
void pl_conn_free(pl_conn *c);
/* Enters CONNECTED with the agreed parameters. */
int pl_conn_established(pl_conn *c, uint64_t now, uint32_t mtu,
                        uint8_t channels, uint32_t peer_max_message);
void pl_conn_on_data(pl_conn *c, uint64_t now, uint32_t pn_trunc,
                     const uint8_t *pkt, size_t len);
/* Runs c's timers; c may be closed (freed) on return: returns 0 then. */
int pl_conn_tick(pl_conn *c, uint64_t now);
/* Recomputes c->next_due. */
void pl_conn_update_due(pl_conn *c, uint64_t now);
/* Closes c with a protocol error: tells the peer, queues the event. */
void pl_conn_protocol_error(pl_conn *c, uint64_t now);
/* Queues a DATA packet with a DISCONNECT frame as a raw datagram. */
void pl_conn_send_disconnect_raw(pl_conn *c, uint8_t reason, uint32_t code);
int pl_conn_send(pl_conn *c, uint64_t now, uint8_t channel, const void *data,
                 size_t len, uint32_t flags, parley_release_fn release,
                 void *user);
void pl_conn_stats(const pl_conn *c, parley_peer_stats *out);
/* Frees a message that is done (unlinks it, releases the data). */
void pl_conn_msg_free(pl_conn *c, pl_msg *m);
/* Receive side: recompute the flow-control limit we advertise. */
void pl_conn_update_window(pl_conn *c);

/* ---- output.c: building packets ---- */

/* Writes c's next datagram into buf. 1 when one was written. */
int pl_conn_build(pl_conn *c, uint64_t now, uint8_t *buf, size_t cap,
                  size_t *len);
/* Nonzero when new or retransmitted data could go out (ignoring the
   congestion window and pacing). */
int pl_conn_has_data(const pl_conn *c);
/* The pacing rate in bytes/s (congestion control and bandwidth cap). */
uint64_t pl_conn_pacing_rate(const pl_conn *c);
uint64_t pl_conn_pacing_burst(const pl_conn *c);

/* ---- channel.c: delivery modes on the receiving side ---- */

/* A MESSAGE frame arrived. PARLEY_OK or PARLEY_EPROTO (close). */
int pl_chan_on_msg(pl_conn *c, uint64_t now, const pl_frame *f);
/* Drops unreliable partial messages whose time ran out. */
void pl_chan_expire(pl_conn *c, uint64_t now);
/* When the next unreliable partial expires (UINT64_MAX: none). */
uint64_t pl_chan_next_expiry(const pl_conn *c);
/* Frees every receive record still held by c (not those in events). */
void pl_chan_free_all(pl_conn *c);
/* The app released a RECEIVE event's record. */
void pl_chan_release(pl_core *core, pl_rxmsg *rx);

/* ---- handshake.c ---- */

void pl_handshake_on_connect(pl_core *core, uint64_t now,
                             const parley_addr *from, const uint8_t *data,
                             size_t len);
void pl_handshake_on_response(pl_core *core, uint64_t now,
                              const parley_addr *from, const uint8_t *data,
                              size_t len);
void pl_handshake_on_challenge(pl_core *core, uint64_t now,
                               const parley_addr *from, const uint8_t *data,
                               size_t len);
void pl_handshake_on_accept(pl_core *core, uint64_t now,
                            const parley_addr *from, const uint8_t *data,
                            size_t len);
void pl_handshake_on_reject(pl_core *core, uint64_t now,
                            const parley_addr *from, const uint8_t *data,
                            size_t len);
/* Client: writes CONNECT or RESPONSE when due. 1 when written. */
int pl_handshake_build_client(pl_conn *c, uint64_t now, uint8_t *buf,
                              size_t cap, size_t *len);
/* Server: writes the owed ACCEPT. 1 when written. */
int pl_handshake_build_accept(pl_conn *c, uint8_t *buf, size_t cap,
                              size_t *len);
/* Client: draws the ephemeral key and fills the security fields of the
   CONNECT it is about to send. PARLEY_OK or the random source's error. */
int pl_handshake_client_init(pl_conn *c);
/* The key of a (client id, address) pair in core->remotes. */
uint64_t pl_handshake_remote_key(const parley_addr *addr, uint32_t client_id);

#endif
