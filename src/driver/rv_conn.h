/*
 * One RV connection as a sans-I/O state machine: bytes in (read straight
 * into the space it lends), frames and events out, an output queue the
 * driver drains, and timers driven by the caller's clock. The endpoint
 * (rv.c) joins it to sockets; the compat tests run it on transcripts.
 */
#ifndef PL_DRIVER_RV_CONN_H
#define PL_DRIVER_RV_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "parley/rv.h"
#include "wire/rv.h"

/* Receive memory shared by an endpoint's connections (soft cap). */
typedef struct pl_rv_budget {
    size_t used, limit;
} pl_rv_budget;

/*
 * An event on its way to the app: the public view plus what it owns.
 * Strings live in the same allocation, after the struct.
 */
typedef struct pl_rv_rec {
    struct pl_rv_rec *next;
    parley_rv_event ev;
    uint8_t *payload; /* the frame's own buffer, or NULL */
    size_t charge;    /* bytes counted in budget */
    pl_rv_budget *budget;
} pl_rv_rec;

/* Frees a record and gives its memory back to the budget. */
void pl_rv_rec_free(pl_rv_rec *r);

/* Takes a record (the sink owns it from then on). */
typedef void (*pl_rv_emit_fn)(void *user, pl_rv_rec *rec);

/* Looks up a media's pixel format; 0 when unknown. */
typedef int (*pl_rv_format_fn)(void *user, const uint8_t *media, size_t len,
                               int *channels, int *bytes_per_channel);

/* What every connection of an endpoint shares. */
typedef struct pl_rv_params {
    const char *name; /* ours */
    const char *app;
    pl_rv_limits lim;
    int pingpong;
    int manual_accept;
    uint64_t ping_us, pong_us, transfer_us, handshake_us, linger_us;
    size_t max_queued;
    pl_rv_budget *budget;
    pl_rv_emit_fn emit;
    void *emit_user;
    pl_rv_format_fn format;
    void *format_user;
} pl_rv_params;

typedef enum pl_rv_cstate {
    PL_RVC_CONNECTING = 1,    /* ours: TCP not up yet (greeting queued) */
    PL_RVC_WAIT_REPLY = 2,    /* ours: waiting for the peer's greeting */
    PL_RVC_WAIT_GREETING = 3, /* theirs: waiting for their greeting */
    PL_RVC_REQUESTED = 4,     /* theirs: waiting for accept / reject */
    PL_RVC_READY = 5,
    PL_RVC_CLOSING = 6, /* flush, shut down, wait for the peer's close */
    PL_RVC_DEAD = 7     /* close the socket now */
} pl_rv_cstate;

typedef struct pl_rv_chunk pl_rv_chunk;
typedef struct pl_rv_held pl_rv_held;

typedef struct pl_rv_conn {
    const pl_rv_params *pp;
    uint64_t id;
    parley_addr addr;
    int incoming;
    pl_rv_cstate state;
    int had_contact; /* CONTACT was emitted */
    char *peer_name, *peer_app;

    /* input: the header buffer, and the payload buffer of a frame too
       large to sit in it (read straight from the socket) */
    uint8_t *in;
    size_t in_len, in_cap;
    pl_rv_head cur;      /* the frame being read into payload */
    uint8_t *cur_word;   /* its word, copied */
    uint8_t *payload;    /* NULL when none */
    uint64_t got;        /* payload bytes read so far */
    int blocked;         /* waiting for receive memory */
    size_t blocked_need; /* ... this much */
    int eof;             /* the peer closed its side */
    int shut_wr;         /* we shut down our side */

    /* timers, in the caller's microseconds */
    uint64_t created_us, last_rx_us, last_ping_us, frame_start_us;
    uint64_t closing_deadline_us;
    int pp_on; /* we ping this peer */

    /* RETURN bookkeeping: counts of RETURNEVENTs each way */
    uint64_t rx_rsvp, rx_answered; /* theirs received / answered */
    uint64_t tx_rsvp, tx_returned; /* ours sent / RETURNs received */
    pl_rv_held *held;              /* early answers, by seq */

    /* output */
    pl_rv_chunk *out_head, *out_tail;
    size_t queued;
} pl_rv_conn;

/*
 * A new connection. Outgoing (incoming 0): starts in CONNECTING with our
 * greeting queued. Incoming: WAIT_GREETING. Returns PARLEY_OK or
 * PARLEY_ENOMEM.
 */
int pl_rv_conn_new(const pl_rv_params *pp, uint64_t id, const parley_addr *addr,
                   int incoming, uint64_t now, pl_rv_conn **out);

/* Frees everything, calling the release of owned send buffers. */
void pl_rv_conn_free(pl_rv_conn *c);

/* Our TCP connect completed. */
void pl_rv_conn_connected(pl_rv_conn *c, uint64_t now);

/*
 * Where the next bytes from the socket go: *p and *cap (> 0) with
 * PARLEY_OK, or PARLEY_EAGAIN when nothing should be read now (waiting
 * for the app, for memory, or done).
 */
int pl_rv_conn_read_space(pl_rv_conn *c, uint8_t **p, size_t *cap);

/* Nonzero when the connection waits for memory that the budget now has:
   call pl_rv_conn_on_read(c, 0, now). */
int pl_rv_conn_can_retry(const pl_rv_conn *c);

/* Nonzero when pl_rv_conn_read_space would give space. */
int pl_rv_conn_want_read(const pl_rv_conn *c);

/* n bytes landed where read_space said; processes every complete frame.
   n == 0 retries what was waiting (after accept, or once memory frees). */
void pl_rv_conn_on_read(pl_rv_conn *c, size_t n, uint64_t now);

/* The peer closed in order (read gave end of file). */
void pl_rv_conn_on_eof(pl_rv_conn *c, uint64_t now);

/* A socket error (reset, refused, ...): err is a parley_err. */
void pl_rv_conn_on_error(pl_rv_conn *c, int err, uint64_t now);

/* Runs timers: handshake, transfer, ping / pong, linger. */
void pl_rv_conn_tick(pl_rv_conn *c, uint64_t now);

/* The next time tick has work; UINT64_MAX for none. */
uint64_t pl_rv_conn_next_due(const pl_rv_conn *c);

/* REQUESTED only: PARLEY_OK or PARLEY_ESTATE. */
int pl_rv_conn_accept(pl_rv_conn *c, uint64_t now);
int pl_rv_conn_reject(pl_rv_conn *c);

/* Local close, see parley_rv_disconnect. */
void pl_rv_conn_disconnect(pl_rv_conn *c, uint64_t now);

/* ---- sends: errors as the public send calls ---------------------------- */

int pl_rv_conn_send_message(pl_rv_conn *c, const void *text, size_t len);
int pl_rv_conn_send_event(pl_rv_conn *c, int rsvp, const char *name,
                          const char *target, const void *contents, size_t len,
                          uint64_t *seq);
int pl_rv_conn_reply(pl_rv_conn *c, uint64_t seq, const void *value,
                     size_t len);
/* data NULL-release means copy; otherwise the queue borrows data. */
int pl_rv_conn_send_data(pl_rv_conn *c, const char *interp, size_t ilen,
                         const void *data, size_t len,
                         parley_rv_release_fn release, void *user);
int pl_rv_conn_pingpong(pl_rv_conn *c, int on);

/* Nonzero when sends are allowed in this state. */
int pl_rv_conn_can_send(const pl_rv_conn *c);

/* ---- output ------------------------------------------------------------ */

/* The next bytes to write: PARLEY_OK with *p and *len (> 0), or
   PARLEY_EAGAIN when nothing is queued (or the TCP is not up yet). */
int pl_rv_conn_out_peek(pl_rv_conn *c, const uint8_t **p, size_t *len);

/* n bytes of what peek gave were written. */
void pl_rv_conn_out_consume(pl_rv_conn *c, size_t n, uint64_t now);

/* Nonzero when CLOSING, all is written and the write side is still
   open: the driver shuts it down and sets shut_wr. */
int pl_rv_conn_wants_shutdown(const pl_rv_conn *c);

/* The public state for a connection state. */
parley_rv_state pl_rv_conn_public_state(const pl_rv_conn *c);

#endif
