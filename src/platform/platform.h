/*
 * The platform contract: every OS service parley uses (UDP and TCP
 * sockets, a poller, a cross-thread wakeup, the clock, secure random)
 * behind pl_os_ functions. Only src/platform/ includes OS headers; this
 * header includes none, so drivers stay portable.
 */
#ifndef PL_PLATFORM_H
#define PL_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "parley/addr.h"
#include "parley/error.h"
#include "parley/udp.h"

/*
 * Conventions for everything below.
 *
 * - Every call returns PARLEY_OK or a negative parley_err; on error no
 *   out-parameter is changed unless it says otherwise.
 * - Sockets are plain ints (file descriptors), always nonblocking and
 *   close-on-exec. An interrupted system call (EINTR) is retried inside,
 *   except in the waits, which report PARLEY_EINTR.
 * - Addresses cross this boundary only as parley_addr; the conversion to
 *   and from struct sockaddr stays inside src/platform.
 * - An IPv4-mapped IPv6 source (::ffff:a.b.c.d) is always reported as a
 *   plain IPv4 parley_addr.
 *
 * Address text (parley_addr_parse): a string with more than one colon
 * and no brackets is a bare IPv6 literal WITHOUT a port. "::1:5" is
 * therefore the address ::1:5 with the default port, or PARLEY_EPORT when
 * the default port is 0; write "[::1]:5" for ::1 port 5. The port is
 * decimal 0..65535 (0 is valid: an ephemeral bind). The scope after '%'
 * is a number or an interface name known to if_nametoindex.
 *
 * Resolution (parley_addr_resolve): getaddrinfo without AI_ADDRCONFIG, so
 * "localhost" works in a network namespace that has only loopback. As
 * RFC 6761 asks, names under ".invalid" fail at once with
 * PARLEY_ERESOLVE without asking the resolver, and "localhost" (or a name
 * under ".localhost") falls back to the loopback address when the
 * resolver has no answer for the family asked.
 */

/* ---- errors ---------------------------------------------------------- */

/* Maps an errno value to the nearest parley_err (PARLEY_EIO if none). */
int pl_os_err_from_errno(int err);

/* ---- sockets, generic ------------------------------------------------ */

/* Closes a socket or other descriptor; a negative fd is ignored. */
void pl_os_close(int fd);

/* The local / remote address of a socket (IPv4-mapped shown as IPv4). */
int pl_os_sock_local_addr(int fd, parley_addr *out);
int pl_os_sock_peer_addr(int fd, parley_addr *out);

/*
 * Waits until fd is ready for events (PL_OS_POLL_IN and/or _OUT) or
 * timeout_ms passes (negative: forever). Returns PARLEY_OK (ready, or an
 * error or hang-up is pending on fd), PARLEY_ETIMEDOUT or PARLEY_EINTR.
 */
int pl_os_wait_fd(int fd, unsigned events, int timeout_ms);

/* ---- UDP on raw descriptors ------------------------------------------ */

/*
 * A UDP socket as the platform sees it: the descriptor plus what the
 * send path needs to know to map destinations. A plain value.
 */
typedef struct pl_os_udp {
    int fd;
    uint8_t family;    /* parley_family of the socket: 4 or 6 */
    uint8_t dualstack; /* IPv6 socket with IPV6_V6ONLY cleared */
    uint8_t gso;       /* pl_os_udp_offload: send trains in one call */
    uint8_t gro;       /* pl_os_udp_offload: receive coalesced trains */
} pl_os_udp;

/*
 * Opens a nonblocking UDP socket bound to *bind. flags are the
 * PARLEY_UDP_ options. An IPv6 socket always gets IPV6_V6ONLY set
 * explicitly: cleared with PARLEY_UDP_DUALSTACK, set otherwise, whatever
 * the system default. SO_RCVBUF and SO_SNDBUF are raised towards 4 MiB
 * (the kernel may grant less). Errors as parley_udp_open.
 */
int pl_os_udp_open(const parley_addr *bind, int flags, pl_os_udp *out);
/*
 * An internal pl_os_udp_open flag (above the public PARLEY_UDP_ bits):
 * datagrams go out with "don't fragment" and the kernel's path-MTU cache
 * is ignored (Linux IP_PMTUDISC_PROBE), so that a path-MTU probe either
 * arrives whole or is lost; a datagram over the interface MTU fails with
 * PARLEY_EMSGSIZE. A no-op where the OS has no such option.
 */
#define PL_OS_UDP_PMTU_PROBE (1 << 16)

/*
 * One datagram out / in; semantics and errors as parley_udp_send and
 * parley_udp_recv. An IPv4 destination on a dual-stack socket is sent to
 * its IPv4-mapped form; on an IPv6-only socket it is PARLEY_EAFNOSUPPORT.
 */
int pl_os_udp_send(const pl_os_udp *s, const parley_addr *to, const void *data,
                   size_t len);
int pl_os_udp_recv(const pl_os_udp *s, void *buf, size_t cap, size_t *len,
                   parley_addr *from);

/*
 * Batched I/O as parley_udp_send_batch / parley_udp_recv_batch: one
 * sendmmsg/recvmmsg per up to PL_OS_UDP_BATCH datagrams where the OS has
 * them (PL_OS_HAVE_MMSG, off with -DPL_OS_NO_MMSG), the loop functions
 * otherwise. The loops are always compiled, so tests run both paths.
 */
#define PL_OS_UDP_BATCH 64
int pl_os_udp_send_batch(const pl_os_udp *s, const parley_datagram *d, size_t n,
                         size_t *sent);
int pl_os_udp_recv_batch(const pl_os_udp *s, parley_datagram *d, size_t n,
                         size_t *got);
int pl_os_udp_send_loop(const pl_os_udp *s, const parley_datagram *d, size_t n,
                        size_t *sent);
int pl_os_udp_recv_loop(const pl_os_udp *s, parley_datagram *d, size_t n,
                        size_t *got);

/* Nonzero when this build uses sendmmsg/recvmmsg for the batch calls. */
int pl_os_udp_has_mmsg(void);

/*
 * Segmentation offload (Linux UDP GSO and GRO; PL_OS_HAVE_GSO, off with
 * -DPL_OS_NO_GSO or -DPL_OS_NO_MMSG). pl_os_udp_offload asks the kernel
 * for what `want` names (PL_OS_UDP_GSO, PL_OS_UDP_GRO), sets s->gso and
 * s->gro to what it granted and returns those bits; 0 where the kernel or
 * the build has neither. Once GRO is on, one received datagram may be a
 * train of up to PL_OS_UDP_TRAIN_MAX bytes: receive buffers must be that
 * large or the train is truncated (and lost).
 */
enum { PL_OS_UDP_GSO = 1, PL_OS_UDP_GRO = 2 };
#define PL_OS_UDP_TRAIN_MAX 65536
#define PL_OS_UDP_TRAIN_SEGS 64
int pl_os_udp_offload(pl_os_udp *s, int want);

/*
 * As pl_os_udp_send_batch, but with s->gso runs of consecutive datagrams
 * to one destination whose lengths are equal (the last may be shorter) go
 * out as one train each: one kernel datagram, split into the original
 * datagrams on the wire (or by the receiver's GRO). Several trains share
 * one sendmmsg. A train the kernel refuses (EIO, EINVAL: a device without
 * checksum offload, a route MTU below the segment) clears s->gso and the
 * datagrams go out one by one from then on.
 */
int pl_os_udp_send_gso(pl_os_udp *s, const parley_datagram *d, size_t n,
                       size_t *sent);

/*
 * As pl_os_udp_recv_batch, and seg[i] gets the segment size of d[i] when
 * d[i] is a coalesced train (d[i].len > seg[i]: split it every seg[i]
 * bytes, the last piece may be shorter), else 0. Without s->gro it is
 * pl_os_udp_recv_batch with every seg[i] 0.
 */
int pl_os_udp_recv_gro(const pl_os_udp *s, parley_datagram *d, size_t n,
                       size_t *seg, size_t *got);

/* ---- TCP ------------------------------------------------------------- */

/*
 * A nonblocking listening socket on *addr with SO_REUSEADDR. dualstack
 * nonzero clears IPV6_V6ONLY on an IPv6 address (set otherwise).
 * Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_EADDRINUSE,
 * PARLEY_EADDRNOTAVAIL, PARLEY_EAFNOSUPPORT, PARLEY_EACCES or PARLEY_EIO.
 */
int pl_os_tcp_listen(const parley_addr *addr, int backlog, int dualstack,
                     int *fd);

/*
 * Takes one pending connection: *newfd (nonblocking) and, if peer is not
 * NULL, its address. Returns PARLEY_OK, PARLEY_EAGAIN (none pending),
 * PARLEY_EFULL (out of descriptors) or another mapped error.
 */
int pl_os_tcp_accept(int fd, int *newfd, parley_addr *peer);

/*
 * Starts a nonblocking connect to *addr and gives the socket in *fd.
 * Returns PARLEY_OK (connected at once), PARLEY_EAGAIN (in progress: wait
 * for PL_OS_POLL_OUT, then call pl_os_tcp_connect_finish), or an error
 * (PARLEY_ECONNREFUSED, PARLEY_ENETUNREACH, ...) with *fd unchanged and
 * nothing left open.
 */
int pl_os_tcp_connect_start(const parley_addr *addr, int *fd);

/*
 * The outcome of a connect in progress. Returns PARLEY_OK (connected),
 * PARLEY_EAGAIN (still in progress), PARLEY_ECONNREFUSED,
 * PARLEY_ETIMEDOUT, PARLEY_ENETUNREACH or another mapped error. The
 * socket is not closed on failure: the caller closes it.
 */
int pl_os_tcp_connect_finish(int fd);

/*
 * Sends what the socket takes of buf[0..len) without blocking (never
 * raises SIGPIPE); *sent gets how much (0 on error). Returns PARLEY_OK
 * (*sent > 0, or len 0), PARLEY_EAGAIN (nothing fits now), PARLEY_ECLOSED (the
 * connection was shut down), PARLEY_ECONNRESET or another mapped error.
 */
int pl_os_tcp_send(int fd, const void *buf, size_t len, size_t *sent);

/*
 * Reads up to cap bytes without blocking; *got gets how many (0 on
 * error). Returns
 * PARLEY_OK (*got > 0), PARLEY_EAGAIN (nothing waiting), PARLEY_ECLOSED
 * (the peer closed in order), PARLEY_ECONNRESET (the peer reset),
 * PARLEY_EINVAL (cap 0) or another mapped error.
 */
int pl_os_tcp_recv(int fd, void *buf, size_t cap, size_t *got);

/* TCP_NODELAY on (nonzero) or off. */
int pl_os_tcp_set_nodelay(int fd, int on);

/* Half-close: no more sends from this side (the peer reads ECLOSED). */
int pl_os_tcp_shutdown_write(int fd);

/* ---- poller ---------------------------------------------------------- */

enum {
    PL_OS_POLL_IN = 1 << 0,  /* readable (or a connection to accept) */
    PL_OS_POLL_OUT = 1 << 1, /* writable (or a connect finished) */
    PL_OS_POLL_ERR = 1 << 2, /* reported only: an error is pending */
    PL_OS_POLL_HUP = 1 << 3  /* reported only: the peer hung up */
};

/* Backends: epoll on Linux (PL_OS_HAVE_EPOLL, off with -DPL_OS_NO_EPOLL),
 * poll() everywhere. Both are compiled on Linux so both are tested. */
typedef enum pl_os_poller_backend {
    PL_OS_POLLER_DEFAULT = 0, /* epoll when compiled in, else poll */
    PL_OS_POLLER_EPOLL = 1,
    PL_OS_POLLER_POLL = 2
} pl_os_poller_backend;

typedef struct pl_os_poll_event {
    int fd;
    unsigned events; /* PL_OS_POLL_ bits */
    void *user;      /* as given to add or mod */
} pl_os_poll_event;

typedef struct pl_os_poller pl_os_poller;

/* Returns PARLEY_OK, PARLEY_ENOMEM, PARLEY_ENOTSUP (backend not compiled
 * in) or PARLEY_EFULL (out of descriptors). */
int pl_os_poller_create(pl_os_poller_backend backend, pl_os_poller **out);
void pl_os_poller_destroy(pl_os_poller *p);
pl_os_poller_backend pl_os_poller_backend_of(const pl_os_poller *p);

/*
 * One descriptor that is readable whenever a wait would report an event
 * (the epoll descriptor), so an app's own loop can watch everything the
 * poller watches through it. PARLEY_ENOTSUP for the poll backend, which
 * has no such descriptor.
 */
int pl_os_poller_fd(const pl_os_poller *p);

/*
 * Level-triggered interest in fd. add: PARLEY_EEXIST if fd is already
 * there; mod and del: PARLEY_ENOENT if it is not. All: PARLEY_EINVAL for
 * a negative fd, PARLEY_ENOMEM. Del an fd before closing it: the poller
 * keeps its registration until then, and a new descriptor with the same
 * number could not be added.
 */
int pl_os_poller_add(pl_os_poller *p, int fd, unsigned events, void *user);
int pl_os_poller_mod(pl_os_poller *p, int fd, unsigned events, void *user);
int pl_os_poller_del(pl_os_poller *p, int fd);

/*
 * Waits up to timeout_ms (negative: forever, 0: just look) and fills up
 * to cap events. Returns PARLEY_OK with *got >= 0 (0 when the time ran
 * out) or PARLEY_EINTR (a signal arrived; *got is 0). Not thread-safe:
 * one thread owns a poller; use a wakeup to stop its wait from another.
 */
int pl_os_poller_wait(pl_os_poller *p, int timeout_ms, pl_os_poll_event *out,
                      size_t cap, size_t *got);

/*
 * As pl_os_poller_wait with the timeout in microseconds (negative:
 * forever). Waits under a millisecond are kept to the microsecond where
 * the OS allows (ppoll on Linux) instead of being rounded up to a whole
 * millisecond: a paced sender's gaps are often that short.
 */
int pl_os_poller_wait_us(pl_os_poller *p, int64_t timeout_us,
                         pl_os_poll_event *out, size_t cap, size_t *got);

/* ---- wakeup ---------------------------------------------------------- */

/* Backends: eventfd on Linux (PL_OS_HAVE_EVENTFD, off with
 * -DPL_OS_NO_EVENTFD), a self-pipe everywhere. */
typedef enum pl_os_wakeup_backend {
    PL_OS_WAKEUP_DEFAULT = 0,
    PL_OS_WAKEUP_EVENTFD = 1,
    PL_OS_WAKEUP_PIPE = 2
} pl_os_wakeup_backend;

typedef struct pl_os_wakeup pl_os_wakeup;

/* Returns PARLEY_OK, PARLEY_ENOMEM, PARLEY_ENOTSUP or PARLEY_EFULL. */
int pl_os_wakeup_create(pl_os_wakeup_backend backend, pl_os_wakeup **out);
void pl_os_wakeup_destroy(pl_os_wakeup *w);

/* The descriptor to poll for PL_OS_POLL_IN. */
int pl_os_wakeup_fd(const pl_os_wakeup *w);

/*
 * Makes the fd readable until the next drain. Async-signal-safe and
 * thread-safe (one write(2), errno preserved); many signals before a
 * drain coalesce. Returns PARLEY_OK or PARLEY_EIO.
 */
int pl_os_wakeup_signal(pl_os_wakeup *w);

/* Consumes all pending signals. Owner thread only. */
void pl_os_wakeup_drain(pl_os_wakeup *w);

/* ---- host ------------------------------------------------------------ */

/*
 * The computer's name as the OS gives it (gethostname), cut to fit cap
 * and NUL-terminated. Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_EIO (no
 * name; buf is then the empty string).
 */
int pl_os_hostname(char *buf, size_t cap);

/* ---- clock and random ------------------------------------------------ */

/* Microseconds of CLOCK_MONOTONIC; never decreases. Thread-safe. */
uint64_t pl_os_now_us(void);

/*
 * Fills buf with n bytes from the OS's secure generator: getrandom()
 * (PL_OS_HAVE_GETRANDOM, off with -DPL_OS_NO_GETRANDOM), or /dev/urandom
 * when that is missing or fails with ENOSYS. Returns PARLEY_OK or
 * PARLEY_EIO (nothing usable; buf contents are then unspecified).
 */
int pl_os_random(void *buf, size_t n);

/* The /dev/urandom path alone, exposed so tests exercise the fallback. */
int pl_os_random_urandom(void *buf, size_t n);

#endif
