/*
 * TCP connections with Panda3D-compatible framing: a connection manager
 * (rendezvous sockets with a backlog, connect with a timeout, a queue of
 * connections reset or closed by the peer), a listener queue of new
 * connections, readers that hand out whole datagrams, and writers.
 * Readers, listeners and writers run in polling mode (0 threads: the app
 * drives them from its own loop) or threaded mode (N threads each, with
 * bounded queues). Threads are opt-in; without them the library starts
 * none. Every datagram is preceded by a little-endian length header of
 * 2 bytes (Panda3D's default), 4 bytes, or none (raw).
 */
#ifndef PARLEY_TCP_H
#define PARLEY_TCP_H

#include "addr.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The manager: Panda3D's QueuedConnectionManager. */
typedef struct parley_tcp parley_tcp;
/* Panda3D's QueuedConnectionListener. */
typedef struct parley_tcp_listener parley_tcp_listener;
/* Panda3D's QueuedConnectionReader (or RecentConnectionReader). */
typedef struct parley_tcp_reader parley_tcp_reader;
/* Panda3D's ConnectionWriter. */
typedef struct parley_tcp_writer parley_tcp_writer;

/*
 * A connection (stream or rendezvous) named by value: slot and
 * generation. Once the connection is closed (or its reset has been
 * taken from the reset queue) the id is stale forever: calls give
 * PARLEY_ENOTCONN, never another connection.
 */
typedef uint64_t parley_conn;
#define PARLEY_CONN_NONE ((parley_conn)0)

/* The length header before every datagram on a connection. */
typedef enum parley_tcp_header {
    PARLEY_TCP_HEADER_RAW = 0, /* none: each read is one datagram */
    PARLEY_TCP_HEADER_2 = 2,   /* uint16 LE, Panda3D's default */
    PARLEY_TCP_HEADER_4 = 4    /* uint32 LE (at most 2^31 - 1) */
} parley_tcp_header;

/*
 * Per-connection options. Connections start with the manager's defaults
 * (parley_tcp_config.conn); parley_tcp_set_options changes one.
 */
typedef struct parley_tcp_options {
    int header;               /* parley_tcp_header; default 2 */
    uint32_t max_datagram;    /* largest datagram accepted from the peer; a
                                 header announcing more resets the
                                 connection (PARLEY_EMSGSIZE). Raw mode:
                                 the largest piece handed out. Default
                                 65535 */
    int nodelay;              /* TCP_NODELAY; default 1 */
    uint32_t collect_ms;      /* Panda3D's collect-tcp: 0 (default) hands
                                 each datagram to the socket at once; N
                                 holds small datagrams up to N ms so they
                                 leave together */
    uint32_t collect_bytes;   /* with collect_ms: send as soon as this many
                                 bytes wait; default 16384 */
    uint32_t idle_timeout_ms; /* reset (PARLEY_ETIMEDOUT) a connection in a
                                reader that received nothing for this
                                long; 0 (default) never */
    uint32_t keepalive_ms;    /* send an empty datagram after this long
                                 without sending; empty datagrams received
                                 are then taken as keepalives, not handed
                                 out. 0 (default): off, as Panda3D.
                                 Not in raw mode */
    uint32_t max_out_bytes;   /* bytes waiting to be sent (collected, not
                                 yet taken by the socket, or queued in a
                                 threaded writer); a send beyond it gets
                                 PARLEY_ENOBUFS. Default 4 MiB */
} parley_tcp_options;

typedef struct parley_tcp_config {
    parley_tcp_options conn;  /* defaults for every connection */
    uint32_t max_connections; /* streams and rendezvous at once; an
                                 accept beyond it is closed at once.
                                 Default 4096 */
} parley_tcp_config;

/* Fills *cfg with the defaults above. */
PARLEY_API void parley_tcp_config_init(parley_tcp_config *cfg);

/*
 * Creates a manager. Starts no thread. Returns PARLEY_OK, PARLEY_EINVAL
 * (NULL argument or a bad option), PARLEY_ENOMEM or PARLEY_EFULL (out of
 * descriptors).
 */
PARLEY_API int parley_tcp_create(const parley_tcp_config *cfg,
                                 parley_tcp **out);

/*
 * Stops every thread, destroys every listener, reader and writer still
 * made from this manager, closes every connection and frees everything,
 * including datagrams not yet released. Queued output is not waited
 * for. NULL is allowed.
 */
PARLEY_API void parley_tcp_destroy(parley_tcp *tcp);

/*
 * Opens a rendezvous (listening) socket on "ADDR:PORT" ("[::]:PORT"
 * listens on IPv6 and IPv4; port 0 picks a free one) with the given
 * backlog (0 or less: 16). Add it to a listener to accept connections.
 * Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_EADDR, PARLEY_EPORT,
 * PARLEY_ERESOLVE, PARLEY_EADDRINUSE, PARLEY_EADDRNOTAVAIL,
 * PARLEY_EACCES, PARLEY_EFULL (max_connections) or PARLEY_ENOMEM.
 */
PARLEY_API int parley_tcp_listen(parley_tcp *tcp, const char *addr, int backlog,
                                 parley_conn *out);

/* The same with an address value. */
PARLEY_API int parley_tcp_listen_addr(parley_tcp *tcp, const parley_addr *addr,
                                      int backlog, parley_conn *out);

/*
 * Panda3D's open_TCP_server_rendezvous(port, backlog): every interface,
 * IPv6 and IPv4 when the system has IPv6, else IPv4.
 */
PARLEY_API int parley_tcp_listen_port(parley_tcp *tcp, uint16_t port,
                                      int backlog, parley_conn *out);

/*
 * Opens a client connection to "HOST:PORT" (a name is resolved first,
 * blocking) and waits up to timeout_ms for the connect to finish (0 or
 * less: no limit of parley's own). Blocks the caller, as Panda3D's
 * open_TCP_client_connection; nothing else waits on it. The new
 * connection is in no reader yet. Returns PARLEY_OK, PARLEY_EINVAL,
 * PARLEY_EADDR, PARLEY_EPORT, PARLEY_ERESOLVE, PARLEY_ECONNREFUSED,
 * PARLEY_ETIMEDOUT, PARLEY_ENETUNREACH, PARLEY_EINTR (a signal ended the
 * wait: nothing is left open), PARLEY_EFULL or PARLEY_ENOMEM.
 */
PARLEY_API int parley_tcp_connect(parley_tcp *tcp, const char *addr,
                                  int timeout_ms, parley_conn *out);

/* The same with an address value. */
PARLEY_API int parley_tcp_connect_addr(parley_tcp *tcp, const parley_addr *addr,
                                       int timeout_ms, parley_conn *out);

/*
 * Starts a client connection without waiting (for an event loop, or a
 * session layer on top). The id is usable at once: add it to a reader,
 * send on it (datagrams wait until the connection is up, within
 * max_out_bytes). Success needs no event; failure (refused, unreachable,
 * or not connected within timeout_ms; 0 or less: the OS's limit) comes
 * as a reset with that reason. The connect proceeds while the
 * connection's reader (or parley_tcp_poll) runs. A name in addr is
 * resolved first, blocking. Returns PARLEY_OK, or the errors of
 * parley_tcp_connect that are known at once.
 */
PARLEY_API int parley_tcp_connect_start(parley_tcp *tcp, const char *addr,
                                        int timeout_ms, parley_conn *out);

/*
 * Closes a connection or rendezvous: it leaves its reader or listener,
 * output not yet taken by the socket is dropped, and the id becomes
 * stale. A connection the app closes is never reported in the reset
 * queue. Closing a connection that was reset (its reset not yet taken)
 * just releases the id. Returns PARLEY_OK or PARLEY_ENOTCONN.
 */
PARLEY_API int parley_tcp_close(parley_tcp *tcp, parley_conn conn);

/*
 * Changes a connection's options. A new header size applies from the
 * next datagram boundary in each direction. Returns PARLEY_OK,
 * PARLEY_EINVAL (a bad value, or keepalive in raw mode) or
 * PARLEY_ENOTCONN.
 */
PARLEY_API int parley_tcp_set_options(parley_tcp *tcp, parley_conn conn,
                                      const parley_tcp_options *opt);
PARLEY_API int parley_tcp_get_options(parley_tcp *tcp, parley_conn conn,
                                      parley_tcp_options *out);

/* What is known about a connection. */
typedef struct parley_tcp_info {
    int rendezvous; /* nonzero for a listening socket */
    int open;       /* 0 once reset (the reset is queued) */
    int connecting; /* a parley_tcp_connect_start not finished yet */
    parley_addr local;
    parley_addr peer;             /* unspecified for a rendezvous */
    parley_conn rendezvous_id;    /* the rendezvous it came from, if any */
    uint64_t bytes_in, bytes_out; /* TCP payload bytes */
    uint64_t datagrams_in, datagrams_out;
    uint32_t out_queued; /* bytes waiting to be sent */
} parley_tcp_info;

/* Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOTCONN. */
PARLEY_API int parley_tcp_get_info(parley_tcp *tcp, parley_conn conn,
                                   parley_tcp_info *out);

/* ---- the reset queue --------------------------------------------------- */

/*
 * A connection that ended without the app closing it. reason:
 * PARLEY_ECLOSED (the peer closed), PARLEY_ECONNRESET, PARLEY_EMSGSIZE
 * (the peer announced a datagram over max_datagram), PARLEY_ETIMEDOUT
 * (idle timeout, or connect_start's timeout), PARLEY_ECONNREFUSED
 * (connect_start), PARLEY_ENOMEM, or another socket error. The socket is
 * already closed and the connection has left its reader.
 */
typedef struct parley_tcp_reset {
    parley_conn conn;
    int reason;
    parley_addr peer;
} parley_tcp_reset;

/* Nonzero when a reset is queued (Panda3D's reset_connection_available);
   runs one polling pass first, like the _available calls below. */
PARLEY_API int parley_tcp_reset_available(parley_tcp *tcp);

/*
 * Takes the oldest reset: 1 with *out filled, 0 when none, or
 * PARLEY_EINVAL. Taking it releases the id (it becomes stale), so there
 * is no need to close it. Each connection is reported at most once.
 */
PARLEY_API int parley_tcp_get_reset(parley_tcp *tcp, parley_tcp_reset *out);

/* ---- polling and waiting ----------------------------------------------- */

/*
 * One pass over the connections served in polling mode (those in no
 * reader or listener, or in one with 0 threads): accepts, reads, sends
 * what the sockets take, runs timers. Never waits. Returns PARLEY_OK or
 * PARLEY_EINVAL. The _available calls do this too.
 */
PARLEY_API int parley_tcp_poll(parley_tcp *tcp);

/*
 * Polls until a listener, reader or the reset queue has something for
 * the app, timeout_ms passes (negative: no limit; 0: one pass) or
 * parley_tcp_interrupt is called. Costs no CPU while it waits. Returns
 * 1 (something is queued), 0 (time ran out or interrupted) or
 * PARLEY_EINVAL.
 */
PARLEY_API int parley_tcp_wait(parley_tcp *tcp, int timeout_ms);

/* Ends a parley_tcp_wait in another thread. Safe from any thread and
   from a signal handler. */
PARLEY_API int parley_tcp_interrupt(parley_tcp *tcp);

/*
 * A descriptor for the app's own poll/epoll loop: it becomes readable
 * when a connection served in polling mode has input or a pending
 * connection to accept, when a threaded reader or listener queues
 * something or a thread queues a reset, or when parley_tcp_interrupt is
 * called. After it fires, call parley_tcp_poll and empty the queues; for
 * timers (collect, keepalive, idle) see parley_tcp_next_timeout_ms. (On a
 * system without epoll it covers only the threaded cases and interrupt;
 * polling-mode connections then need parley_tcp_poll or parley_tcp_wait.)
 */
PARLEY_API int parley_tcp_fd(const parley_tcp *tcp);

/* Milliseconds until a polling-mode timer (collect, keepalive, idle
   timeout) needs parley_tcp_poll; -1 when none. */
PARLEY_API int parley_tcp_next_timeout_ms(parley_tcp *tcp);

/* ---- sending ------------------------------------------------------------ */

/*
 * Sends one datagram on a connection from the caller's thread: frames it
 * and hands it to the socket without blocking; what the socket does not
 * take at once waits in the connection's buffer and leaves as the socket
 * drains (served by the connection's reader, or parley_tcp_poll).
 * Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_ENOTCONN (stale or reset),
 * PARLEY_EMSGSIZE (over what the header can announce: 65535 bytes with
 * 2), PARLEY_ENOBUFS (over max_out_bytes: nothing was queued) or
 * PARLEY_ENOMEM. Safe from any thread.
 */
PARLEY_API int parley_tcp_send(parley_tcp *tcp, parley_conn conn,
                               const void *data, size_t len);

/* Sends collected datagrams now (Panda3D's flush). PARLEY_OK or
   PARLEY_ENOTCONN. */
PARLEY_API int parley_tcp_flush(parley_tcp *tcp, parley_conn conn);

/* ---- listener ----------------------------------------------------------- */

/* Queue limits and threads for a listener or a reader. */
typedef struct parley_tcp_queue_config {
    int threads;        /* 0 (default): polling mode; 1..64 threads */
    uint32_t max_items; /* queued datagrams or connections; default
                           50000 (Panda3D's net-max-response-queue) */
    uint64_t max_bytes; /* queued datagram bytes; default 64 MiB */
    int latest_only;    /* readers: keep only the newest datagram
                           (Panda3D's RecentConnectionReader) */
} parley_tcp_queue_config;

/* Fills *cfg with the defaults above. */
PARLEY_API void parley_tcp_queue_config_init(parley_tcp_queue_config *cfg);

/*
 * Creates a listener (cfg NULL: the defaults). Returns PARLEY_OK,
 * PARLEY_EINVAL, PARLEY_ENOMEM or PARLEY_EIO (a thread did not start).
 */
PARLEY_API int parley_tcp_listener_create(parley_tcp *tcp,
                                          const parley_tcp_queue_config *cfg,
                                          parley_tcp_listener **out);

/* Stops its threads; its rendezvous stay open but accept no more;
   connections accepted but not yet taken are closed. */
PARLEY_API void parley_tcp_listener_destroy(parley_tcp_listener *l);

/*
 * Accepts connections on a rendezvous through this listener. Returns
 * PARLEY_OK, PARLEY_EINVAL (not a rendezvous) or PARLEY_ENOTCONN.
 */
PARLEY_API int parley_tcp_listener_add(parley_tcp_listener *l,
                                       parley_conn rendezvous);
PARLEY_API int parley_tcp_listener_remove(parley_tcp_listener *l,
                                          parley_conn rendezvous);

/* A new connection: Panda3D's get_new_connection triple. */
typedef struct parley_tcp_accept {
    parley_conn rendezvous;
    parley_addr addr; /* the peer's */
    parley_conn conn; /* in no reader yet: add it to one */
} parley_tcp_accept;

/* Nonzero when a new connection is queued (polls first). */
PARLEY_API int parley_tcp_listener_available(parley_tcp_listener *l);

/* Takes one: 1 with *out, 0 when none, or PARLEY_EINVAL. */
PARLEY_API int parley_tcp_listener_get(parley_tcp_listener *l,
                                       parley_tcp_accept *out);

/* ---- reader ------------------------------------------------------------- */

/*
 * Creates a reader (cfg NULL: polling mode, default limits). With
 * threads, each connection added is served by one of them. When the
 * queue is full the reader stops reading the connections that have more
 * (TCP then slows their senders): nothing is dropped, and the stats
 * count it. Returns as parley_tcp_listener_create.
 */
PARLEY_API int parley_tcp_reader_create(parley_tcp *tcp,
                                        const parley_tcp_queue_config *cfg,
                                        parley_tcp_reader **out);

/* Stops its threads and frees queued datagrams not yet taken; its
   connections stay open, in no reader. */
PARLEY_API void parley_tcp_reader_destroy(parley_tcp_reader *r);

/*
 * Starts reading a stream connection (moving it from another reader if
 * it was in one). Returns PARLEY_OK, PARLEY_EINVAL (a rendezvous) or
 * PARLEY_ENOTCONN.
 */
PARLEY_API int parley_tcp_reader_add(parley_tcp_reader *r, parley_conn conn);

/* Stops reading it; the connection stays open. PARLEY_OK, PARLEY_ENOENT
   (not in this reader) or PARLEY_ENOTCONN. */
PARLEY_API int parley_tcp_reader_remove(parley_tcp_reader *r, parley_conn conn);

/* One received datagram. data stays valid until
   parley_tcp_datagram_release. */
typedef struct parley_tcp_datagram {
    parley_conn conn;
    parley_addr addr; /* the peer's */
    const uint8_t *data;
    size_t len;
    void *internal_; /* the library's */
} parley_tcp_datagram;

/* Nonzero when a datagram is queued (Panda3D's data_available; polls
   first). */
PARLEY_API int parley_tcp_reader_available(parley_tcp_reader *r);

/* Takes the oldest: 1 with *out, 0 when none, or PARLEY_EINVAL. Safe
   from any thread. */
PARLEY_API int parley_tcp_reader_get(parley_tcp_reader *r,
                                     parley_tcp_datagram *out);

/* Frees a datagram's memory. Safe to call twice; NULL allowed. */
PARLEY_API void parley_tcp_datagram_release(parley_tcp_datagram *dg);

typedef struct parley_tcp_reader_stats {
    uint64_t queued; /* datagrams waiting now */
    uint64_t queued_bytes;
    uint64_t delivered; /* taken by the app so far */
    uint64_t full;      /* times a connection was paused by a full queue */
    uint64_t replaced;  /* latest_only: older datagrams replaced */
} parley_tcp_reader_stats;

PARLEY_API int parley_tcp_reader_get_stats(parley_tcp_reader *r,
                                           parley_tcp_reader_stats *out);

/* ---- writer ------------------------------------------------------------- */

/*
 * Creates a writer. threads 0: parley_tcp_writer_send sends at once on
 * the caller's thread (as parley_tcp_send). threads N: sends are queued
 * (at most max_items datagrams and max_bytes bytes, 0: the defaults
 * 10000, Panda3D's net-max-write-queue, and 64 MiB) and N threads hand
 * them to the sockets; one connection always uses the same thread, so
 * its datagrams keep their order. Returns as
 * parley_tcp_listener_create.
 */
PARLEY_API int parley_tcp_writer_create(parley_tcp *tcp, int threads,
                                        uint32_t max_items, uint64_t max_bytes,
                                        parley_tcp_writer **out);

/* Hands what is queued to the sockets, stops the threads, frees. */
PARLEY_API void parley_tcp_writer_destroy(parley_tcp_writer *w);

/*
 * Sends (or queues) one datagram. Errors as parley_tcp_send, plus
 * PARLEY_ENOBUFS when the writer's queue is full: nothing was queued,
 * try again later. A connection that fails after queueing is reported
 * in the reset queue. Safe from any thread.
 */
PARLEY_API int parley_tcp_writer_send(parley_tcp_writer *w, parley_conn conn,
                                      const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
