/*
 * Connectionless UDP sockets: nonblocking, IPv4 and IPv6, with batched
 * send and receive. The building block for parley-netem and for apps that
 * need raw datagrams next to parley's connections.
 */
#ifndef PARLEY_UDP_H
#define PARLEY_UDP_H

#include "addr.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parley_udp parley_udp;

/* Options for parley_udp_open. */
enum {
    /* An IPv6 wildcard bind also receives IPv4 (where the OS allows). */
    PARLEY_UDP_DUALSTACK = 1 << 0,
    /* SO_REUSEADDR before bind. */
    PARLEY_UDP_REUSEADDR = 1 << 1
};

/*
 * Opens a nonblocking UDP socket bound to *bind (port 0: an ephemeral
 * port). A bind to "::" with PARLEY_UDP_DUALSTACK accepts both families.
 * Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_ENOMEM, PARLEY_EADDRINUSE,
 * PARLEY_EADDRNOTAVAIL, PARLEY_EAFNOSUPPORT, PARLEY_EACCES or PARLEY_EIO.
 */
PARLEY_API int parley_udp_open(const parley_addr *bind, int flags,
                               parley_udp **out);

/* Closes the socket and frees it. NULL is allowed. */
PARLEY_API void parley_udp_close(parley_udp *udp);

/* The address the socket is bound to (with its real port). */
PARLEY_API int parley_udp_local_addr(const parley_udp *udp, parley_addr *out);

/* The file descriptor, for the app's own poll/epoll loop. */
PARLEY_API int parley_udp_fd(const parley_udp *udp);

/*
 * Sends one datagram. Returns PARLEY_OK, PARLEY_EAGAIN (the socket buffer
 * is full: nothing was sent), PARLEY_EMSGSIZE, PARLEY_EINVAL,
 * PARLEY_EAFNOSUPPORT (an IPv4 destination on an IPv6-only socket or the
 * reverse), PARLEY_ENETUNREACH or PARLEY_EIO.
 */
PARLEY_API int parley_udp_send(parley_udp *udp, const parley_addr *to,
                               const void *data, size_t len);

/*
 * Receives one datagram into buf. *len gets its length; a datagram longer
 * than cap is cut to cap and PARLEY_ETRUNC is returned (the rest is lost).
 * Returns PARLEY_OK, PARLEY_EAGAIN (nothing waiting), PARLEY_ETRUNC,
 * PARLEY_EINVAL or PARLEY_EIO. from may be NULL.
 */
PARLEY_API int parley_udp_recv(parley_udp *udp, void *buf, size_t cap,
                               size_t *len, parley_addr *from);

/* One datagram of a batch. */
typedef struct parley_datagram {
    void *data;       /* send: the bytes; receive: the buffer */
    size_t len;       /* send: length; receive: in capacity, out length */
    parley_addr addr; /* send: destination; receive: source */
    int truncated;    /* receive: nonzero if cut to the buffer's size */
} parley_datagram;

/*
 * Sends up to n datagrams with as few system calls as the OS allows
 * (sendmmsg on Linux). *sent gets how many went out, in order; it stops at
 * the first that would block or fails. Returns PARLEY_OK when at least one
 * was sent or n is 0, else the first datagram's error as parley_udp_send.
 */
PARLEY_API int parley_udp_send_batch(parley_udp *udp,
                                     const parley_datagram *dgrams, size_t n,
                                     size_t *sent);

/*
 * Receives up to n waiting datagrams (recvmmsg on Linux) without blocking.
 * *got gets how many were filled. Returns PARLEY_OK when at least one
 * arrived, PARLEY_EAGAIN when none was waiting, or PARLEY_EIO.
 */
PARLEY_API int parley_udp_recv_batch(parley_udp *udp, parley_datagram *dgrams,
                                     size_t n, size_t *got);

/*
 * Waits until the socket is readable or timeout_ms passes (-1: forever).
 * Returns PARLEY_OK (readable), PARLEY_ETIMEDOUT or PARLEY_EINTR.
 */
PARLEY_API int parley_udp_wait(parley_udp *udp, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
