/*
 * What every socket needs: parley_addr <-> struct sockaddr, creating
 * nonblocking close-on-exec sockets, local and peer addresses, closing,
 * and mapping errno values to parley_err.
 */
#include "platform/os.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                            0, 0, 0, 0, 0xff, 0xff};

static void
fill_v4(const parley_addr *a, struct sockaddr_storage *sa, socklen_t *len)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(a->port);
    memcpy(&s4->sin_addr, a->ip, 4);
    *len = sizeof *s4;
}

static void
fill_v6(const parley_addr *a, int map4, struct sockaddr_storage *sa,
        socklen_t *len)
{
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a->port);
    if (map4) {
        memcpy(s6->sin6_addr.s6_addr, v4mapped_prefix, 12);
        memcpy(s6->sin6_addr.s6_addr + 12, a->ip, 4);
    } else {
        memcpy(s6->sin6_addr.s6_addr, a->ip, 16);
        s6->sin6_scope_id = a->scope_id;
    }
    *len = sizeof *s6;
}

int
pl_sa_from_addr(const parley_addr *a, int sock_family, int map4,
                struct sockaddr_storage *sa, socklen_t *len)
{
    if (!a || (a->family != PARLEY_AF_INET && a->family != PARLEY_AF_INET6)) {
        return PARLEY_EINVAL;
    }
    if (sock_family == 0) {
        sock_family = a->family;
    }
    memset(sa, 0, sizeof *sa);
    if (sock_family == PARLEY_AF_INET) {
        if (a->family != PARLEY_AF_INET) {
            return PARLEY_EAFNOSUPPORT;
        }
        fill_v4(a, sa, len);
        return PARLEY_OK;
    }
    if (a->family == PARLEY_AF_INET && !map4) {
        return PARLEY_EAFNOSUPPORT;
    }
    fill_v6(a, a->family == PARLEY_AF_INET, sa, len);
    return PARLEY_OK;
}

static int
from_v6(const struct sockaddr_in6 *s6, parley_addr *out)
{
    memset(out, 0, sizeof *out);
    out->port = ntohs(s6->sin6_port);
    if (memcmp(s6->sin6_addr.s6_addr, v4mapped_prefix, 12) == 0) {
        out->family = PARLEY_AF_INET;
        memcpy(out->ip, s6->sin6_addr.s6_addr + 12, 4);
        return PARLEY_OK;
    }
    out->family = PARLEY_AF_INET6;
    memcpy(out->ip, s6->sin6_addr.s6_addr, 16);
    out->scope_id = s6->sin6_scope_id;
    return PARLEY_OK;
}

int
pl_sa_to_addr(const struct sockaddr *sa, socklen_t len, parley_addr *out)
{
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in s4;
        memcpy(&s4, sa, sizeof s4);
        memset(out, 0, sizeof *out);
        out->family = PARLEY_AF_INET;
        out->port = ntohs(s4.sin_port);
        memcpy(out->ip, &s4.sin_addr, 4);
        return PARLEY_OK;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 s6;
        memcpy(&s6, sa, sizeof s6);
        return from_v6(&s6, out);
    }
    return PARLEY_EAFNOSUPPORT;
}

int
pl_sa_set_nonblock_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        return pl_sa_errno();
    }
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) {
        return pl_sa_errno();
    }
    return PARLEY_OK;
}

int
pl_sa_socket(int family, int type, int *fd)
{
    int af = family == PARLEY_AF_INET6 ? AF_INET6 : AF_INET;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int s = socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
        return pl_sa_errno();
    }
#else
    int s = socket(af, type, 0);
    if (s < 0) {
        return pl_sa_errno();
    }
    int rc = pl_sa_set_nonblock_cloexec(s);
    if (rc != PARLEY_OK) {
        close(s);
        return rc;
    }
#endif
#ifdef SO_NOSIGPIPE
    /* Where send() has no MSG_NOSIGNAL, the socket option does its job. */
    int one = 1;
    (void)setsockopt(s, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    *fd = s;
    return PARLEY_OK;
}

void
pl_os_close(int fd)
{
    if (fd >= 0) {
        /* No retry on EINTR: on Linux the descriptor is gone either way. */
        (void)close(fd);
    }
}

int
pl_os_sock_local_addr(int fd, parley_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!out) {
        return PARLEY_EINVAL;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        return pl_sa_errno();
    }
    return pl_sa_to_addr((struct sockaddr *)&ss, len, out);
}

int
pl_os_sock_peer_addr(int fd, parley_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (!out) {
        return PARLEY_EINVAL;
    }
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
        return pl_sa_errno();
    }
    return pl_sa_to_addr((struct sockaddr *)&ss, len, out);
}

int
pl_os_wait_fd(int fd, unsigned events, int timeout_ms)
{
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = (short)(((events & PL_OS_POLL_IN) ? POLLIN : 0) |
                         ((events & PL_OS_POLL_OUT) ? POLLOUT : 0));
    pfd.revents = 0;
    int n = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (n < 0) {
        return errno == EINTR ? PARLEY_EINTR : pl_sa_errno();
    }
    return n == 0 ? PARLEY_ETIMEDOUT : PARLEY_OK;
}

/* errno -> parley_err; the first match wins, so aliases may repeat. */
static const struct {
    int os;
    int pl;
} errno_map[] = {
    {0, PARLEY_OK},
    {EAGAIN, PARLEY_EAGAIN},
    {EWOULDBLOCK, PARLEY_EAGAIN},
    {EINPROGRESS, PARLEY_EAGAIN},
    {EALREADY, PARLEY_EAGAIN},
    {EINTR, PARLEY_EINTR},
    {ENOMEM, PARLEY_ENOMEM},
    {ENOBUFS, PARLEY_ENOBUFS},
    {EMFILE, PARLEY_EFULL},
    {ENFILE, PARLEY_EFULL},
    {EINVAL, PARLEY_EINVAL},
    {EBADF, PARLEY_EINVAL},
    {ENOTSOCK, PARLEY_EINVAL},
    {EFAULT, PARLEY_EINVAL},
    {EDESTADDRREQ, PARLEY_EINVAL},
    {EISCONN, PARLEY_EINVAL},
    {EADDRINUSE, PARLEY_EADDRINUSE},
    {EADDRNOTAVAIL, PARLEY_EADDRNOTAVAIL},
    {EAFNOSUPPORT, PARLEY_EAFNOSUPPORT},
    {EPFNOSUPPORT, PARLEY_EAFNOSUPPORT},
    {EPROTONOSUPPORT, PARLEY_EAFNOSUPPORT},
    {EACCES, PARLEY_EACCES},
    {EPERM, PARLEY_EACCES},
    {ECONNREFUSED, PARLEY_ECONNREFUSED},
    {ECONNRESET, PARLEY_ECONNRESET},
    {ECONNABORTED, PARLEY_ECONNRESET},
    {EPIPE, PARLEY_ECLOSED},
    {ESHUTDOWN, PARLEY_ECLOSED},
    {ETIMEDOUT, PARLEY_ETIMEDOUT},
    {ENOTCONN, PARLEY_ENOTCONN},
    {EMSGSIZE, PARLEY_EMSGSIZE},
    {ENETUNREACH, PARLEY_ENETUNREACH},
    {EHOSTUNREACH, PARLEY_ENETUNREACH},
    {ENETDOWN, PARLEY_ENETUNREACH},
    {EHOSTDOWN, PARLEY_ENETUNREACH},
    {EOPNOTSUPP, PARLEY_ENOTSUP},
    {ENOTSUP, PARLEY_ENOTSUP},
    {ENOSYS, PARLEY_ENOTSUP},
    {ERANGE, PARLEY_ERANGE},
    {EOVERFLOW, PARLEY_ERANGE},
    {ENOENT, PARLEY_ENOENT},
    {EEXIST, PARLEY_EEXIST},
};

int
pl_os_err_from_errno(int err)
{
    for (size_t i = 0; i < sizeof errno_map / sizeof errno_map[0]; i++) {
        if (errno_map[i].os == err) {
            return errno_map[i].pl;
        }
    }
    return PARLEY_EIO;
}
