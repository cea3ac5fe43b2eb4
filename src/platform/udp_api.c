/*
 * The public parley_udp object: a heap-held pl_os_udp, so apps get the
 * platform's UDP socket behind the stable API in parley/udp.h.
 */
#include "platform/platform.h"

#include "util/alloc.h"

struct parley_udp {
    pl_os_udp sock;
};

/* Narrows an open failure to the codes parley_udp_open documents. */
static int
open_error(int rc)
{
    switch (rc) {
    case PARLEY_EINVAL:
    case PARLEY_ENOMEM:
    case PARLEY_EADDRINUSE:
    case PARLEY_EADDRNOTAVAIL:
    case PARLEY_EAFNOSUPPORT:
    case PARLEY_EACCES:
        return rc;
    default:
        return PARLEY_EIO;
    }
}

int
parley_udp_open(const parley_addr *bind, int flags, parley_udp **out)
{
    if (!bind || !out ||
        (flags & ~(PARLEY_UDP_DUALSTACK | PARLEY_UDP_REUSEADDR)) != 0) {
        return PARLEY_EINVAL;
    }
    parley_udp *u = pl_calloc(1, sizeof *u);
    if (!u) {
        return PARLEY_ENOMEM;
    }
    int rc = pl_os_udp_open(bind, flags, &u->sock);
    if (rc != PARLEY_OK) {
        pl_free(u);
        return open_error(rc);
    }
    *out = u;
    return PARLEY_OK;
}

void
parley_udp_close(parley_udp *udp)
{
    if (udp) {
        pl_os_close(udp->sock.fd);
        pl_free(udp);
    }
}

int
parley_udp_local_addr(const parley_udp *udp, parley_addr *out)
{
    if (!udp || !out) {
        return PARLEY_EINVAL;
    }
    return pl_os_sock_local_addr(udp->sock.fd, out);
}

int
parley_udp_fd(const parley_udp *udp)
{
    return udp ? udp->sock.fd : PARLEY_EINVAL;
}

int
parley_udp_send(parley_udp *udp, const parley_addr *to, const void *data,
                size_t len)
{
    return udp ? pl_os_udp_send(&udp->sock, to, data, len) : PARLEY_EINVAL;
}

int
parley_udp_recv(parley_udp *udp, void *buf, size_t cap, size_t *len,
                parley_addr *from)
{
    return udp ? pl_os_udp_recv(&udp->sock, buf, cap, len, from)
               : PARLEY_EINVAL;
}

int
parley_udp_send_batch(parley_udp *udp, const parley_datagram *dgrams, size_t n,
                      size_t *sent)
{
    return udp ? pl_os_udp_send_batch(&udp->sock, dgrams, n, sent)
               : PARLEY_EINVAL;
}

int
parley_udp_recv_batch(parley_udp *udp, parley_datagram *dgrams, size_t n,
                      size_t *got)
{
    return udp ? pl_os_udp_recv_batch(&udp->sock, dgrams, n, got)
               : PARLEY_EINVAL;
}

int
parley_udp_wait(parley_udp *udp, int timeout_ms)
{
    if (!udp) {
        return PARLEY_EINVAL;
    }
    int rc = pl_os_wait_fd(udp->sock.fd, PL_OS_POLL_IN, timeout_ms);
    return (rc == PARLEY_OK || rc == PARLEY_ETIMEDOUT || rc == PARLEY_EINTR)
               ? rc
               : PARLEY_EIO;
}
