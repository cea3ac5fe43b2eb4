/*
 * Private to src/platform: the OS headers, the compile-time feature
 * switches, and the conversion between parley_addr and struct sockaddr.
 * Nothing outside src/platform may include this file.
 */
#ifndef PL_PLATFORM_OS_H
#define PL_PLATFORM_OS_H

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "platform/platform.h"

/* Feature switches: each is on where the OS has the call and can be
 * turned off with -DPL_OS_NO_<NAME> to build and test the fallback. */
#if defined(__linux__) && !defined(PL_OS_NO_MMSG)
#define PL_OS_HAVE_MMSG 1
#endif
#if defined(__linux__) && !defined(PL_OS_NO_EPOLL)
#define PL_OS_HAVE_EPOLL 1
#endif
#if defined(__linux__) && !defined(PL_OS_NO_EVENTFD)
#define PL_OS_HAVE_EVENTFD 1
#endif
#if defined(__linux__) && defined(__GLIBC__) && !defined(PL_OS_NO_GETRANDOM)
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25)
#define PL_OS_HAVE_GETRANDOM 1
#endif
#endif
#if defined(__linux__) && !defined(PL_OS_NO_ACCEPT4)
#define PL_OS_HAVE_ACCEPT4 1
#endif
/* UDP segmentation offload rides on the sendmmsg/recvmmsg path; whether
 * the running kernel has it (>= 4.18 GSO, >= 5.0 GRO) is probed. */
#if defined(PL_OS_HAVE_MMSG) && !defined(PL_OS_NO_GSO)
#define PL_OS_HAVE_GSO 1
#endif

#ifdef MSG_NOSIGNAL
#define PL_OS_MSG_NOSIGNAL MSG_NOSIGNAL
#else
#define PL_OS_MSG_NOSIGNAL 0
#endif

/*
 * Fills *sa for a socket of family sock_family (4 or 6; 0 = the address's
 * own family). An IPv4 address for an IPv6 socket becomes ::ffff:a.b.c.d
 * when map4 is nonzero, else PARLEY_EAFNOSUPPORT; an IPv6 address for an
 * IPv4 socket is PARLEY_EAFNOSUPPORT. PARLEY_EINVAL for an unspecified
 * address.
 */
int pl_sa_from_addr(const parley_addr *a, int sock_family, int map4,
                    struct sockaddr_storage *sa, socklen_t *len);

/* The reverse; IPv4-mapped IPv6 becomes IPv4. PARLEY_EAFNOSUPPORT for a
 * family that is neither. */
int pl_sa_to_addr(const struct sockaddr *sa, socklen_t len, parley_addr *out);

/* A nonblocking close-on-exec socket of the address's family. */
int pl_sa_socket(int family, int type, int *fd);

/* O_NONBLOCK and FD_CLOEXEC on an existing descriptor. */
int pl_sa_set_nonblock_cloexec(int fd);

/* ---- address text, shared by parse and resolve ---- */

/* Longest host part (a DNS name is at most 253 characters). */
#define PL_ADDR_HOST_MAX 256

typedef struct pl_addr_text {
    char host[PL_ADDR_HOST_MAX]; /* brackets removed, NUL-terminated */
    const char *port;            /* text after the ':', NULL if none */
    int bracketed;               /* the host was written in [ ] */
} pl_addr_text;

/* Splits "host:port", "[v6]:port", "host", "[v6]" or a bare IPv6
 * literal (two or more colons: no port). PARLEY_EADDR for an empty or
 * overlong host, a missing ']' or text after it other than ":port". */
int pl_addr_split(const char *text, pl_addr_text *t);

/* The port from t->port, or default_port when none was written (zero:
 * PARLEY_EPORT). Decimal digits only, at most 65535. */
int pl_addr_port(const char *port, uint16_t default_port, uint16_t *out);

/* A numeric host (IPv4, or IPv6 with optional %scope) into out->family,
 * ip and scope_id. PARLEY_EADDR when it is not one. */
int pl_addr_numeric(const pl_addr_text *t, parley_addr *out);

/* ---- UDP, shared by udp.c and udp_batch.c ---- */

/* Narrow an errno from a send / receive to the codes parley_udp_send and
 * parley_udp_recv document (ENOBUFS on send is a transient EAGAIN). */
int pl_udp_send_error(int err);
int pl_udp_recv_error(int err);

/* The mapped errno of the last failed call. */
static inline int
pl_sa_errno(void)
{
    return pl_os_err_from_errno(errno);
}

#endif
