/*
 * Client/server events in the viznet model: a server that clients join by
 * name, user events by 64-bit id with typed payloads, send to one client
 * or to all, a client's send_all relayed to every client (the sender
 * included) carrying the sender's name, kick with a reason, and connect
 * and disconnect events. Runs on parley's reliable UDP transport or,
 * chosen at server start and client create, on TCP (parley_tcp); a
 * server can serve both at once (serve_tcp).
 * docs/events.md shows each viznet call and its parley equivalent.
 */
#ifndef PARLEY_SESSION_H
#define PARLEY_SESSION_H

#include "host.h"
#include "payload.h"
#include "tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default port of parley-relay and parley-cat. */
#define PARLEY_SESSION_PORT 14950

typedef struct parley_server parley_server;
typedef struct parley_client parley_client;

/* A client as the server knows it: the transport's connection id (never
   reused, so a stale id is harmless: calls give PARLEY_ENOTCONN). */
typedef uint64_t parley_client_id;

/* What carries the session. */
typedef enum parley_session_transport {
    PARLEY_TRANSPORT_UDP = 0, /* parley's reliable UDP (parley_host) */
    PARLEY_TRANSPORT_TCP = 1  /* TCP (parley_tcp): for networks that
                                 block UDP; the same API and events.
                                 Unreliable sends travel reliably (and
                                 are dropped when the connection is
                                 backed up); no link simulator.
                                 docs/events.md, "Over TCP" */
} parley_session_transport;

/* Flags for the send calls. */
enum {
    /* Unreliable-sequenced instead of reliable-ordered: for high-rate
       state such as poses (a lost one is not resent; an older one never
       overtakes a newer one). */
    PARLEY_SEND_UNRELIABLE = 1 << 0,
    /* Hand the event to the socket now rather than at the next service. */
    PARLEY_SEND_NOW = 1 << 1
};

typedef enum parley_session_event_type {
    PARLEY_SESSION_NONE = 0,
    PARLEY_SESSION_CLIENT_CONNECT = 1,    /* server: a client joined */
    PARLEY_SESSION_CLIENT_DISCONNECT = 2, /* server: a client is gone */
    PARLEY_SESSION_SERVER_DISCONNECT = 3, /* client: kicked, server
                                             stopped or connection lost */
    PARLEY_SESSION_EVENT = 4,             /* a user event */
    PARLEY_SESSION_ERROR = 5,             /* an incoming event was rejected (bad
                                             payload or typed definition
                                             mismatch) and not delivered */
    PARLEY_SESSION_CONNECTED = 6          /* client: parley_client_connect_start
                                             completed */
} parley_session_event_type;

#define PARLEY_SESSION_EVENT_TYPES 7

/* Why a client and server parted (CLIENT_/SERVER_DISCONNECT). */
typedef enum parley_leave {
    PARLEY_LEAVE_NONE = 0,
    PARLEY_LEAVE_CLIENT = 1,  /* the client disconnected */
    PARLEY_LEAVE_KICKED = 2,  /* the server removed the client */
    PARLEY_LEAVE_STOPPED = 3, /* the server stopped */
    PARLEY_LEAVE_LOST = 4,    /* no answer: timeout or protocol error */
    PARLEY_LEAVE_REFUSED = 5  /* the server refused the connection */
} parley_leave;

/* A short name, e.g. "kicked". Never NULL. */
PARLEY_API const char *parley_leave_name(parley_leave leave);

/*
 * One session event. Every pointer in it points into the server's or
 * client's memory and stays valid until the next service call on it (or
 * its stop/destroy).
 */
typedef struct parley_session_event {
    parley_session_event_type type;
    uint64_t id;             /* EVENT, ERROR: the event id */
    const char *name;        /* EVENT, ERROR: the event's name, or NULL if
                                nobody registered or announced it */
    parley_client_id client; /* server: the client it concerns */
    const char *sender;      /* EVENT: who sent it. On the server, the
                                client's name. On a client, the original
                                sender's name for a relayed event, the
                                server's name otherwise. CLIENT_*: the
                                client's name. Never NULL. */
    parley_addr addr;        /* the client's address (server) or the
                                server's (client); port included */
    parley_payload payload;  /* EVENT: the arguments, read in place */
    int reliable;            /* EVENT: came reliably */
    int to_all;              /* EVENT: sent with send_all (on a client:
                                relayed by the server) */
    parley_leave leave;      /* *_DISCONNECT */
    const char *reason;      /* *_DISCONNECT, ERROR: a sentence, e.g.
                                "kicked: too slow". Never NULL. */
    int error;               /* ERROR: PARLEY_EPROTO */
} parley_session_event;

/* A handler, called from inside a service call. It may send, kick or
   disconnect; it must not call service itself. */
typedef void (*parley_session_handler)(void *user,
                                       const parley_session_event *ev);

/* ---- server ------------------------------------------------------------ */

typedef struct parley_server_config {
    const char *bind_addr;     /* address to listen on; default "0.0.0.0"
                                  ("::" listens on IPv6 and IPv4) */
    uint16_t port;             /* default PARLEY_SESSION_PORT; 0: ephemeral */
    const char *name;          /* the server's name; default "server" */
    uint32_t max_clients;      /* default 64; more are refused (full) */
    int relay;                 /* relay clients' send_all; default 1 */
    uint32_t hello_timeout_ms; /* a connection that has not said its name
                                  by then is dropped; default 5000 */
    uint32_t stop_timeout_ms;  /* parley_server_stop waits at most this
                                  long for clients to be told; 1000 */
    size_t max_payload;        /* largest payload accepted; default 1 MiB */
    parley_session_transport transport; /* default UDP */
    const parley_host_config *udp;      /* NULL, or transport settings to use
                                           (bind, accept and max_peers are set
                                           from the fields above) */
    const parley_tcp_options *tcp;      /* TCP: NULL (keepalive every 1 s, a
                                           peer silent for 5 s is lost), or
                                           options to use; header and
                                           max_datagram are the session's.
                                           idle_timeout_ms needs a shorter
                                           keepalive_ms (else EINVAL) */
    int serve_tcp;     /* UDP only: also accept TCP clients, on bind_addr
                          and tcp_port, into the same session (one
                          client table, names unique across both);
                          default 0. EINVAL with transport TCP */
    uint16_t tcp_port; /* serve_tcp: the TCP port; 0: ephemeral */
} parley_server_config;

/* Fills *cfg with the defaults above. */
PARLEY_API void parley_server_config_init(parley_server_config *cfg);

/*
 * Starts a server (viznet.server.start). Returns PARLEY_OK, PARLEY_EINVAL
 * (a bad field, e.g. a name that is too long or not UTF-8),
 * PARLEY_EADDR, PARLEY_EADDRINUSE, PARLEY_ENOMEM or
 * another socket error.
 */
PARLEY_API int parley_server_start(const parley_server_config *cfg,
                                   parley_server **out);

/*
 * Stops the server (viznet.server.stop): every client gets a
 * SERVER_DISCONNECT (PARLEY_LEAVE_STOPPED); waits up to stop_timeout_ms
 * for them to be told, then frees everything. NULL is allowed.
 */
PARLEY_API void parley_server_stop(parley_server *srv);

/* The table of event names and definitions the server uses. */
PARLEY_API parley_event_table *parley_server_events(parley_server *srv);

/*
 * Sends an event to one client (viznet sendClient). payload may be NULL
 * (no arguments); its builder is finished here. flags: PARLEY_SEND_*.
 * Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_ENOTCONN (no such client),
 * PARLEY_EMSGSIZE, PARLEY_ENOBUFS (the client's queue is full), the
 * builder's error, or PARLEY_EPROTO (the payload does not match the
 * event's typed definition). Nothing is sent on error.
 */
PARLEY_API int parley_server_send(parley_server *srv, parley_client_id client,
                                  uint64_t id, parley_builder *payload,
                                  uint32_t flags);

/* Sends to every connected client (viznet server send). Errors as
   parley_server_send; clients whose queue is full are skipped. */
PARLEY_API int parley_server_send_all(parley_server *srv, uint64_t id,
                                      parley_builder *payload, uint32_t flags);

/*
 * Removes a client (viznet removeClient): it gets SERVER_DISCONNECT with
 * PARLEY_LEAVE_KICKED and "kicked: REASON"; CLIENT_DISCONNECT follows
 * here. reason may be NULL (at most 255 bytes are sent). Returns
 * PARLEY_OK or PARLEY_ENOTCONN.
 */
PARLEY_API int parley_server_kick(parley_server *srv, parley_client_id client,
                                  const char *reason);

/* What the server knows of a client. */
typedef struct parley_client_info {
    parley_client_id id;
    char name[PARLEY_NAME_MAX + 1];
    parley_addr addr;
    uint64_t events_in, events_out;
    parley_peer_stats stats; /* the transport's view */
} parley_client_info;

/* Returns PARLEY_OK or PARLEY_ENOTCONN. */
PARLEY_API int parley_server_client_info(parley_server *srv,
                                         parley_client_id client,
                                         parley_client_info *out);

/* Fills ids with up to cap connected clients; returns how many there are
   (which may be more than cap). */
PARLEY_API size_t parley_server_clients(parley_server *srv,
                                        parley_client_id *ids, size_t cap);

/* The client with this name: PARLEY_OK or PARLEY_ENOENT. */
PARLEY_API int parley_server_find_client(parley_server *srv, const char *name,
                                         parley_client_id *out);

/*
 * A handler for user event id (viz.callback(id, fn)); fn NULL removes it.
 * PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOMEM.
 */
PARLEY_API int parley_server_on(parley_server *srv, uint64_t id,
                                parley_session_handler fn, void *user);

/* A handler for a predefined event type; for PARLEY_SESSION_EVENT it
   takes every user event that has no handler of its own. */
PARLEY_API int parley_server_on_type(parley_server *srv,
                                     parley_session_event_type type,
                                     parley_session_handler fn, void *user);

/*
 * Receives, relays, runs handlers, and hands out the next event that no
 * handler took. Waits up to timeout_ms (0: never; -1: until an event or
 * an interrupt). Returns 1 with an event, 0 when the time ran out, or a
 * negative error.
 */
PARLEY_API int parley_server_service(parley_server *srv, int timeout_ms,
                                     parley_session_event *ev);

/* The address the server listens on (with serve_tcp: the UDP one). */
PARLEY_API int parley_server_local_addr(parley_server *srv, parley_addr *out);
/* The address the server listens on for transport: PARLEY_OK, or
   PARLEY_ENOENT when it does not serve that transport. */
PARLEY_API int parley_server_local_addr_of(parley_server *srv,
                                           parley_session_transport transport,
                                           parley_addr *out);
/* A descriptor readable when service has work (with serve_tcp: an epoll
   descriptor covering both transports). */
PARLEY_API int parley_server_fd(parley_server *srv);
PARLEY_API int parley_server_next_timeout_ms(parley_server *srv);
/* Safe from any thread. */
PARLEY_API int parley_server_interrupt(parley_server *srv);
/* The link simulator on the server's datagrams (see parley_host_set_sim).
   PARLEY_ENOTSUP over TCP; with serve_tcp it acts on the UDP clients. */
PARLEY_API int parley_server_set_sim(parley_server *srv,
                                     const parley_sim_config *outgoing,
                                     const parley_sim_config *incoming);

/* ---- client ------------------------------------------------------------ */

typedef struct parley_client_config {
    const char *name;            /* the name to join with; NULL: this
                                    computer's name. The server makes it
                                    unique ("name-2") */
    uint32_t connect_timeout_ms; /* default 5000 */
    size_t max_payload;          /* largest payload accepted; default 1 MiB */
    parley_session_transport transport; /* default UDP */
    const parley_host_config *udp;      /* NULL, or transport settings */
    const parley_tcp_options *tcp;      /* TCP: as in parley_server_config;
                                           copied at create */
} parley_client_config;

PARLEY_API void parley_client_config_init(parley_client_config *cfg);

/* Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOMEM. Nothing is opened
   until connect. */
PARLEY_API int parley_client_create(const parley_client_config *cfg,
                                    parley_client **out);

/* Drops the connection at once (no waiting) and frees. NULL allowed. */
PARLEY_API void parley_client_destroy(parley_client *cli);

PARLEY_API parley_event_table *parley_client_events(parley_client *cli);

/*
 * Connects to "HOST[:PORT]" (default port PARLEY_SESSION_PORT; a name is
 * resolved) and waits until the server has welcomed us
 * (viznet.client.connect). Returns PARLEY_OK, PARLEY_ESTATE (already
 * connected), PARLEY_EADDR, PARLEY_EPORT, PARLEY_ERESOLVE,
 * PARLEY_ETIMEDOUT (no answer), PARLEY_EFULL (the server is full),
 * PARLEY_EREJECTED (refused; parley_client_last_error says why),
 * PARLEY_EVERSION or a socket error (over TCP: PARLEY_ECONNREFUSED when
 * nothing listens, PARLEY_ENETUNREACH, PARLEY_EPROTO when what answers
 * is not a parley session server).
 */
PARLEY_API int parley_client_connect(parley_client *cli, const char *addr);

/* The same without waiting: PARLEY_SESSION_CONNECTED, or
   SERVER_DISCONNECT with PARLEY_LEAVE_REFUSED or _LOST, follows. */
PARLEY_API int parley_client_connect_start(parley_client *cli,
                                           const char *addr);

/* A sentence on why the last connect failed or the connection ended. */
PARLEY_API const char *parley_client_last_error(parley_client *cli);

/* Nonzero while connected (welcomed and not yet gone). */
PARLEY_API int parley_client_is_connected(parley_client *cli);

/* Our name as the server has it, or NULL when not connected. */
PARLEY_API const char *parley_client_name(parley_client *cli);

/* The server's name, or NULL when not connected. */
PARLEY_API const char *parley_client_server_name(parley_client *cli);

/*
 * Leaves (viznet.client.disconnect): reliable events already sent are
 * delivered first, the server gets CLIENT_DISCONNECT (PARLEY_LEAVE_CLIENT).
 * Waits up to timeout_ms for it to finish; events arriving meanwhile are
 * dropped. Returns PARLEY_OK or PARLEY_ENOTCONN.
 */
PARLEY_API int parley_client_disconnect(parley_client *cli,
                                        uint32_t timeout_ms);

/* Sends an event to the server (viznet.client.send). Errors as
   parley_server_send. */
PARLEY_API int parley_client_send(parley_client *cli, uint64_t id,
                                  parley_builder *payload, uint32_t flags);

/* Sends an event the server relays to every client, this one included
   (viznet.client.sendAll); each copy carries our name as its sender. */
PARLEY_API int parley_client_send_all(parley_client *cli, uint64_t id,
                                      parley_builder *payload, uint32_t flags);

PARLEY_API int parley_client_on(parley_client *cli, uint64_t id,
                                parley_session_handler fn, void *user);
PARLEY_API int parley_client_on_type(parley_client *cli,
                                     parley_session_event_type type,
                                     parley_session_handler fn, void *user);

/* As parley_server_service. Returns PARLEY_ENOTCONN when never
   connected. */
PARLEY_API int parley_client_service(parley_client *cli, int timeout_ms,
                                     parley_session_event *ev);

/* The connection's transport statistics (RTT, loss, bytes, unacked
   messages...). Over TCP: bytes, messages, out_buffer_bytes and
   packets_lost (unreliable events dropped because the connection was
   backed up); no RTT. PARLEY_OK or PARLEY_ENOTCONN. */
PARLEY_API int parley_client_get_stats(parley_client *cli,
                                       parley_peer_stats *out);

/* Our socket's address (with its port). PARLEY_ENOTCONN before connect. */
PARLEY_API int parley_client_local_addr(parley_client *cli, parley_addr *out);

/* -1 when not connected. */
PARLEY_API int parley_client_fd(parley_client *cli);
PARLEY_API int parley_client_next_timeout_ms(parley_client *cli);
PARLEY_API int parley_client_interrupt(parley_client *cli);

/* The link simulator on the client's datagrams, kept across connects.
   PARLEY_ENOTSUP over TCP. */
PARLEY_API int parley_client_set_sim(parley_client *cli,
                                     const parley_sim_config *outgoing,
                                     const parley_sim_config *incoming);

#ifdef __cplusplus
}
#endif

#endif
