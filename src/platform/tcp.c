/*
 * Nonblocking TCP on raw descriptors: listen, accept, connect in two
 * steps (start, then finish once writable), send and receive without
 * SIGPIPE, and the socket options the TCP layer needs.
 */
#include "platform/os.h"

#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

static int
set_int_opt(int fd, int level, int name, int value)
{
    if (setsockopt(fd, level, name, &value, sizeof value) < 0) {
        return pl_sa_errno();
    }
    return PARLEY_OK;
}

/* Options before bind: SO_REUSEADDR and an explicit IPV6_V6ONLY. */
static int
configure_listener(int fd, const parley_addr *addr, int dualstack)
{
    int rc = set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (rc == PARLEY_OK && addr->family == PARLEY_AF_INET6) {
        rc = set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dualstack ? 0 : 1);
    }
    return rc;
}

int
pl_os_tcp_listen(const parley_addr *addr, int backlog, int dualstack, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s;
    if (!fd || pl_sa_from_addr(addr, 0, 0, &ss, &len) != PARLEY_OK) {
        return PARLEY_EINVAL;
    }
    int rc = pl_sa_socket(addr->family, SOCK_STREAM, &s);
    if (rc != PARLEY_OK) {
        return rc;
    }
    rc = configure_listener(s, addr, dualstack);
    if (rc == PARLEY_OK && bind(s, (struct sockaddr *)&ss, len) < 0) {
        rc = pl_sa_errno();
    }
    if (rc == PARLEY_OK && listen(s, backlog > 0 ? backlog : 16) < 0) {
        rc = pl_sa_errno();
    }
    if (rc != PARLEY_OK) {
        pl_os_close(s);
        return rc;
    }
    *fd = s;
    return PARLEY_OK;
}

static int
accept_raw(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
    int s;
#ifdef PL_OS_HAVE_ACCEPT4
    do {
        s = accept4(fd, (struct sockaddr *)ss, len,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (s < 0 && errno == EINTR);
#else
    do {
        s = accept(fd, (struct sockaddr *)ss, len);
    } while (s < 0 && errno == EINTR);
    if (s >= 0 && pl_sa_set_nonblock_cloexec(s) != PARLEY_OK) {
        close(s);
        errno = EMFILE;
        return -1;
    }
#endif
    return s;
}

int
pl_os_tcp_accept(int fd, int *newfd, parley_addr *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!newfd) {
        return PARLEY_EINVAL;
    }
    int s = accept_raw(fd, &ss, &len);
    if (s < 0) {
        /* A connection reset while queued is simply gone: try later. */
        return errno == ECONNABORTED ? PARLEY_EAGAIN : pl_sa_errno();
    }
    if (peer && pl_sa_to_addr((struct sockaddr *)&ss, len, peer) != PARLEY_OK) {
        memset(peer, 0, sizeof *peer);
    }
    *newfd = s;
    return PARLEY_OK;
}

int
pl_os_tcp_connect_start(const parley_addr *addr, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int s;
    if (!fd || pl_sa_from_addr(addr, 0, 0, &ss, &len) != PARLEY_OK) {
        return PARLEY_EINVAL;
    }
    int rc = pl_sa_socket(addr->family, SOCK_STREAM, &s);
    if (rc != PARLEY_OK) {
        return rc;
    }
    /* On EINTR the connect goes on in the background: treat as started. */
    if (connect(s, (struct sockaddr *)&ss, len) == 0) {
        rc = PARLEY_OK;
    } else if (errno == EINPROGRESS || errno == EINTR) {
        rc = PARLEY_EAGAIN;
    } else {
        rc = pl_sa_errno();
        pl_os_close(s);
        return rc == PARLEY_EAGAIN ? PARLEY_EIO : rc;
    }
    *fd = s;
    return rc;
}

int
pl_os_tcp_connect_finish(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        return pl_sa_errno();
    }
    if (err != 0) {
        return pl_os_err_from_errno(err);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0) {
        return errno == ENOTCONN ? PARLEY_EAGAIN : pl_sa_errno();
    }
    return PARLEY_OK;
}

int
pl_os_tcp_send(int fd, const void *buf, size_t len, size_t *sent)
{
    if (!sent || (!buf && len > 0)) {
        return PARLEY_EINVAL;
    }
    *sent = 0;
    if (len == 0) {
        return PARLEY_OK;
    }
    ssize_t n;
    do {
        n = send(fd, buf, len, PL_OS_MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return pl_sa_errno();
    }
    *sent = (size_t)n;
    return PARLEY_OK;
}

int
pl_os_tcp_recv(int fd, void *buf, size_t cap, size_t *got)
{
    if (!got || !buf || cap == 0) {
        return PARLEY_EINVAL;
    }
    *got = 0;
    ssize_t n;
    do {
        n = recv(fd, buf, cap, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return pl_sa_errno();
    }
    if (n == 0) {
        return PARLEY_ECLOSED;
    }
    *got = (size_t)n;
    return PARLEY_OK;
}

int
pl_os_tcp_set_nodelay(int fd, int on)
{
    return set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

int
pl_os_tcp_shutdown_write(int fd)
{
    if (shutdown(fd, SHUT_WR) < 0) {
        return pl_sa_errno();
    }
    return PARLEY_OK;
}
