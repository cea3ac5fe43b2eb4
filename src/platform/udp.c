/*
 * UDP on raw descriptors: open (bind, dual-stack, buffer sizes) and
 * single-datagram send and receive. The batched calls are in udp_batch.c
 * and the public parley_udp object in udp_api.c.
 */
#include "platform/os.h"

#include <string.h>
#include <sys/uio.h>

#include "util/log.h"

/* What we ask for; the kernel caps it at net.core.[rw]mem_max. */
#define WANT_BUF_BYTES (4 * 1024 * 1024)

static void
raise_buffers(int fd)
{
    int want = WANT_BUF_BYTES;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) < 0) {
        PL_LOG_DEBUG("platform", "udp: socket buffer size not raised (%d)",
                     errno);
    }
}

static int
set_int_opt(int fd, int level, int name, int value)
{
    if (setsockopt(fd, level, name, &value, sizeof value) < 0) {
        return pl_sa_errno();
    }
    return PARLEY_OK;
}

/* Don't-fragment without the kernel's path-MTU cache: the engine finds
   the path MTU itself (core/pmtu.c). Failure only costs the probes'
   meaning, so it is logged, not returned. */
static void
set_pmtu_probe(int fd, int family)
{
#if defined(IP_MTU_DISCOVER) && defined(IP_PMTUDISC_PROBE)
    int v4 = IP_PMTUDISC_PROBE;
    /* On a dual-stack IPv6 socket this covers the IPv4-mapped traffic. */
    if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof v4) < 0 &&
        family == PARLEY_AF_INET) {
        PL_LOG_DEBUG("platform", "udp: IP_MTU_DISCOVER not set (%d)", errno);
    }
#endif
#if defined(IPV6_MTU_DISCOVER) && defined(IPV6_PMTUDISC_PROBE)
    if (family == PARLEY_AF_INET6) {
        int v6 = IPV6_PMTUDISC_PROBE;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof v6) <
            0) {
            PL_LOG_DEBUG("platform", "udp: IPV6_MTU_DISCOVER not set (%d)",
                         errno);
        }
    }
#endif
    (void)fd;
    (void)family;
}

/* Options that must precede bind. */
static int
configure(int fd, const parley_addr *bind_addr, int flags)
{
    int rc = PARLEY_OK;
    if (bind_addr->family == PARLEY_AF_INET6) {
        int v6only = (flags & PARLEY_UDP_DUALSTACK) ? 0 : 1;
        rc = set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only);
    }
    if (rc == PARLEY_OK && (flags & PARLEY_UDP_REUSEADDR)) {
        rc = set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    }
    raise_buffers(fd);
    if (flags & PL_OS_UDP_PMTU_PROBE) {
        set_pmtu_probe(fd, bind_addr->family);
    }
    return rc;
}

int
pl_os_udp_open(const parley_addr *bind_addr, int flags, pl_os_udp *out)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;
    if (!out || !bind_addr ||
        pl_sa_from_addr(bind_addr, 0, 0, &ss, &len) != PARLEY_OK) {
        return PARLEY_EINVAL;
    }
    int rc = pl_sa_socket(bind_addr->family, SOCK_DGRAM, &fd);
    if (rc != PARLEY_OK) {
        return rc;
    }
    rc = configure(fd, bind_addr, flags);
    if (rc == PARLEY_OK && bind(fd, (struct sockaddr *)&ss, len) < 0) {
        rc = pl_sa_errno();
    }
    if (rc != PARLEY_OK) {
        pl_os_close(fd);
        return rc;
    }
    out->fd = fd;
    out->family = bind_addr->family;
    out->dualstack = bind_addr->family == PARLEY_AF_INET6 &&
                     (flags & PARLEY_UDP_DUALSTACK) != 0;
    return PARLEY_OK;
}

int
pl_udp_send_error(int err)
{
    switch (err) {
    case EAGAIN:
#if defined(EWOULDBLOCK) && EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case ENOBUFS: /* a full device queue: transient, nothing was sent */
        return PARLEY_EAGAIN;
    default:
        break;
    }
    int rc = pl_os_err_from_errno(err);
    switch (rc) {
    case PARLEY_EMSGSIZE:
    case PARLEY_EINVAL:
    case PARLEY_EAFNOSUPPORT:
    case PARLEY_ENETUNREACH:
        return rc;
    case PARLEY_EACCES: /* e.g. a broadcast address without SO_BROADCAST */
    case PARLEY_EADDRNOTAVAIL:
        return PARLEY_ENETUNREACH;
    default:
        return PARLEY_EIO;
    }
}

int
pl_os_udp_send(const pl_os_udp *s, const parley_addr *to, const void *data,
               size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (!s || !to || (!data && len > 0)) {
        return PARLEY_EINVAL;
    }
    int rc = pl_sa_from_addr(to, s->family, s->dualstack, &ss, &sl);
    if (rc != PARLEY_OK) {
        return rc;
    }
    for (;;) {
        ssize_t n = sendto(s->fd, data, len, PL_OS_MSG_NOSIGNAL,
                           (struct sockaddr *)&ss, sl);
        if (n >= 0) {
            return PARLEY_OK;
        }
        if (errno != EINTR) {
            return pl_udp_send_error(errno);
        }
    }
}

int
pl_udp_recv_error(int err)
{
    int rc = pl_os_err_from_errno(err);
    return (rc == PARLEY_EAGAIN || rc == PARLEY_EINVAL) ? rc : PARLEY_EIO;
}

int
pl_os_udp_recv(const pl_os_udp *s, void *buf, size_t cap, size_t *len,
               parley_addr *from)
{
    struct sockaddr_storage ss;
    struct iovec iov;
    struct msghdr mh;
    if (!s || !len || (!buf && cap > 0)) {
        return PARLEY_EINVAL;
    }
    iov.iov_base = buf;
    iov.iov_len = cap;
    memset(&mh, 0, sizeof mh);
    mh.msg_name = &ss;
    mh.msg_namelen = sizeof ss;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n;
    do {
        n = recvmsg(s->fd, &mh, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return pl_udp_recv_error(errno);
    }
    *len = (size_t)n;
    if (from && pl_sa_to_addr((struct sockaddr *)&ss, mh.msg_namelen, from) !=
                    PARLEY_OK) {
        memset(from, 0, sizeof *from);
    }
    return (mh.msg_flags & MSG_TRUNC) ? PARLEY_ETRUNC : PARLEY_OK;
}
