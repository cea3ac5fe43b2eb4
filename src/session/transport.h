/*
 * What the session layer needs from a transport, as an ops table (nng's
 * transport model): connections by 64-bit id, reliable-ordered and
 * unreliable-sequenced messages, graceful disconnect with a code, events
 * polled one at a time, statistics. UDP (parley_host) implements it in
 * transport_udp.c, TCP (parley_tcp) in transport_tcp.c.
 */
#ifndef PL_SESSION_TRANSPORT_H
#define PL_SESSION_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "parley/host.h"
#include "parley/tcp.h"

typedef enum pl_st_event_type {
    PL_ST_NONE = 0,
    PL_ST_CONNECT = 1,       /* a connection is up (either side) */
    PL_ST_DISCONNECT = 2,    /* an established connection is gone */
    PL_ST_RECEIVE = 3,       /* a message */
    PL_ST_CONNECT_FAILED = 4 /* our connect did not succeed */
} pl_st_event_type;

typedef struct pl_st_event {
    pl_st_event_type type;
    uint64_t conn;
    parley_addr addr;
    parley_reason reason; /* DISCONNECT, CONNECT_FAILED */
    uint32_t app_code;    /* DISCONNECT, CONNECT_FAILED: the remote's */
    const uint8_t *data;  /* RECEIVE: valid until release */
    size_t len;
    int reliable;      /* RECEIVE */
    int error;         /* CONNECT_FAILED, DISCONNECT: a parley_err when
                          the transport knows one (TCP: refused,
                          unreachable, reset), else 0 */
    parley_event raw_; /* the transport's own, for release */
} pl_st_event;

/* Settings common to every transport. */
typedef struct pl_st_config {
    const char *bind; /* "ADDR:PORT" */
    int accept_incoming;
    uint32_t max_conns;
    uint32_t max_message;
    uint32_t connect_timeout_ms;
    const parley_host_config *udp; /* UDP: a base configuration or NULL */
    const parley_tcp_options *tcp; /* TCP: keepalive, idle timeout...;
                                      NULL: the defaults */
} pl_st_config;

typedef struct pl_st_ops {
    const char *name;
    /* 1 with an event, 0 when the time ran out, or an error. */
    int (*service)(void *self, int timeout_ms, pl_st_event *ev);
    void (*release)(void *self, pl_st_event *ev);
    int (*connect)(void *self, const parley_addr *to, uint64_t *conn);
    /* reliable: reliable-ordered; else unreliable-sequenced. */
    int (*send)(void *self, uint64_t conn, const void *data, size_t len,
                int reliable, int now);
    int (*flush)(void *self);
    int (*disconnect)(void *self, uint64_t conn, uint32_t app_code);
    int (*disconnect_now)(void *self, uint64_t conn, uint32_t app_code);
    int (*stats)(void *self, uint64_t conn, parley_peer_stats *out);
    int (*local_addr)(void *self, parley_addr *out);
    int (*fd)(void *self);
    int (*next_timeout_ms)(void *self);
    int (*interrupt)(void *self);
    int (*set_sim)(void *self, const parley_sim_config *out,
                   const parley_sim_config *in);
    void (*destroy)(void *self);
} pl_st_ops;

/* A transport instance: its ops and its state. */
typedef struct pl_st {
    const pl_st_ops *ops;
    void *self;
} pl_st;

/* Opens the UDP transport. Errors as parley_host_create. */
int pl_st_udp_open(const pl_st_config *cfg, pl_st *out);

/*
 * Opens the TCP transport: a listener on cfg->bind when accept_incoming,
 * else a client manager. Errors as parley_tcp_create and
 * parley_tcp_listen; PARLEY_EINVAL for a bad cfg->tcp.
 */
int pl_st_tcp_open(const pl_st_config *cfg, pl_st *out);

#endif
