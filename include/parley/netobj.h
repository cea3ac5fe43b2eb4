/*
 * Network objects in the Vizard style (viz.addNetwork): connectionless
 * UDP messages with positional and keyword arguments, or raw bytes, to a
 * host name or address (default port 4950), and NETWORK / RAW events for
 * what arrives, with the sender's computer name, address and port. No
 * connection, no reliability: a datagram is sent once and may be lost.
 * The datagram layout is in docs/PROTOCOL.md, "Events and payloads".
 */
#ifndef PARLEY_NETOBJ_H
#define PARLEY_NETOBJ_H

#include "addr.h"
#include "payload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Vizard's viz.NETWORK_PORT. */
#define PARLEY_NET_PORT 4950

typedef struct parley_net parley_net;
typedef struct parley_mailbox parley_mailbox;

typedef struct parley_net_config {
    const char *bind_addr; /* default "0.0.0.0"; "::" takes IPv6 and IPv4 */
    uint16_t port;         /* first listening port; default PARLEY_NET_PORT;
                              0: an ephemeral port */
    int listen;            /* default 1; 0: send only until net_listen */
    const char *sender;    /* the computer name we send; NULL: this
                              computer's name (gethostname) */
    size_t max_datagram;   /* longest datagram received; default 65507;
                              longer ones are dropped */
    uint32_t max_ports;    /* listening ports at most; default 16 */
} parley_net_config;

PARLEY_API void parley_net_config_init(parley_net_config *cfg);

/*
 * Creates the network-object context and (unless cfg->listen is 0)
 * listens on cfg->port. Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_EADDR,
 * PARLEY_EADDRINUSE, PARLEY_ENOMEM or another socket error.
 */
PARLEY_API int parley_net_create(const parley_net_config *cfg,
                                 parley_net **out);

/* Closes every socket and frees the context (its mailboxes must be
   destroyed first). NULL is allowed. */
PARLEY_API void parley_net_destroy(parley_net *net);

/*
 * Also listens on port (0: an ephemeral port); *actual (may be NULL) gets
 * the port. PARLEY_OK, PARLEY_EEXIST (already), PARLEY_EFULL (max_ports),
 * PARLEY_EADDRINUSE or another socket error.
 */
PARLEY_API int parley_net_listen(parley_net *net, uint16_t port,
                                 uint16_t *actual);

/* Stops listening on port (e.g. the default one). PARLEY_OK or
   PARLEY_ENOENT. */
PARLEY_API int parley_net_unlisten(parley_net *net, uint16_t port);

/* Fills ports with up to cap listening ports; returns how many there are. */
PARLEY_API size_t parley_net_ports(parley_net *net, uint16_t *ports,
                                   size_t cap);

/*
 * A mailbox that sends to one host: "name", "1.2.3.4", "[::1]" or any of
 * them with ":PORT" (default PARLEY_NET_PORT). The name is resolved now
 * (blocking). Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_EADDR,
 * PARLEY_EPORT, PARLEY_ERESOLVE or PARLEY_ENOMEM.
 */
PARLEY_API int parley_net_add(parley_net *net, const char *host,
                              parley_mailbox **out);

PARLEY_API void parley_mailbox_destroy(parley_mailbox *mb);

/* Changes the destination port (Vizard's <network>.port(n)). */
PARLEY_API int parley_mailbox_port(parley_mailbox *mb, uint16_t port);

/* Where the mailbox sends. */
PARLEY_API int parley_mailbox_addr(const parley_mailbox *mb, parley_addr *out);

/*
 * Sends args and kwargs (payload NULL: none) with our computer name, in
 * one datagram. Returns PARLEY_OK, PARLEY_EMSGSIZE (over 65507 bytes
 * with the header), the builder's error, PARLEY_EAGAIN (socket buffer
 * full: not sent) or another socket error.
 */
PARLEY_API int parley_mailbox_send(parley_mailbox *mb, parley_builder *payload);

/* Sends bytes as they are (Vizard's sendRaw), for programs that are not
   parley. Errors as parley_mailbox_send. */
PARLEY_API int parley_mailbox_send_raw(parley_mailbox *mb, const void *data,
                                       size_t len);

typedef enum parley_net_event_type {
    PARLEY_NET_NONE = 0,
    PARLEY_NET_NETWORK = 1, /* a network-object message: payload, sender */
    PARLEY_NET_RAW = 2      /* any other datagram: data and len */
} parley_net_event_type;

/* One received datagram; pointers valid until the next service call. */
typedef struct parley_net_event {
    parley_net_event_type type;
    const char *sender;     /* NETWORK: the sender's computer name; RAW:
                               "" */
    parley_addr addr;       /* the sender's address and port */
    uint16_t port;          /* our port it arrived on */
    parley_payload payload; /* NETWORK: args and kwargs */
    const uint8_t *data;    /* the whole datagram */
    size_t len;
} parley_net_event;

typedef void (*parley_net_handler)(void *user, const parley_net_event *ev);

/* One handler for every datagram (viz.callback(viz.NETWORK_EVENT, fn));
   fn NULL removes it. */
PARLEY_API int parley_net_on(parley_net *net, parley_net_handler fn,
                             void *user);

/*
 * Receives datagrams on every listening port; each goes to the handler,
 * or the first without one is handed out. Waits up to timeout_ms (0:
 * never, -1: until one comes). Returns 1 with an event, 0, or an error.
 */
PARLEY_API int parley_net_service(parley_net *net, int timeout_ms,
                                  parley_net_event *ev);

#ifdef __cplusplus
}
#endif

#endif
