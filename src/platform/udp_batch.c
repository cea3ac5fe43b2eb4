/*
 * Batched UDP: sendmmsg/recvmmsg where the OS has them (PL_OS_HAVE_MMSG),
 * and plain loops over single sends and receives that are always built,
 * both as the fallback and so that tests can run that path too.
 */
#include "platform/os.h"

#include <string.h>
#include <sys/uio.h>

int
pl_os_udp_send_loop(const pl_os_udp *s, const parley_datagram *d, size_t n,
                    size_t *sent)
{
    size_t i = 0;
    int rc = PARLEY_OK;
    if (!s || (!d && n > 0) || !sent) {
        return PARLEY_EINVAL;
    }
    for (; i < n; i++) {
        rc = pl_os_udp_send(s, &d[i].addr, d[i].data, d[i].len);
        if (rc != PARLEY_OK) {
            break;
        }
    }
    *sent = i;
    return i > 0 ? PARLEY_OK : rc;
}

int
pl_os_udp_recv_loop(const pl_os_udp *s, parley_datagram *d, size_t n,
                    size_t *got)
{
    size_t i = 0;
    int rc = PARLEY_EAGAIN;
    if (!s || (!d && n > 0) || !got) {
        return PARLEY_EINVAL;
    }
    for (; i < n; i++) {
        size_t len = 0;
        rc = pl_os_udp_recv(s, d[i].data, d[i].len, &len, &d[i].addr);
        if (rc != PARLEY_OK && rc != PARLEY_ETRUNC) {
            break;
        }
        d[i].len = len;
        d[i].truncated = rc == PARLEY_ETRUNC;
    }
    *got = i;
    return (i > 0 || n == 0) ? PARLEY_OK : rc;
}

#ifdef PL_OS_HAVE_MMSG

/* Scratch for one sendmmsg/recvmmsg call. */
typedef struct mmsg_chunk {
    struct mmsghdr mm[PL_OS_UDP_BATCH];
    struct iovec iov[PL_OS_UDP_BATCH];
    struct sockaddr_storage ss[PL_OS_UDP_BATCH];
} mmsg_chunk;

static void
set_msg(mmsg_chunk *c, size_t i, void *data, size_t len, socklen_t namelen)
{
    memset(&c->mm[i], 0, sizeof c->mm[i]);
    c->iov[i].iov_base = data;
    c->iov[i].iov_len = len;
    c->mm[i].msg_hdr.msg_name = &c->ss[i];
    c->mm[i].msg_hdr.msg_namelen = namelen;
    c->mm[i].msg_hdr.msg_iov = &c->iov[i];
    c->mm[i].msg_hdr.msg_iovlen = 1;
}

/* Sends d[0..n), n <= PL_OS_UDP_BATCH. An error only if none went out. */
static int
send_chunk(const pl_os_udp *s, mmsg_chunk *c, const parley_datagram *d,
           size_t n, size_t *sent)
{
    size_t k = 0;
    int rc = PARLEY_OK;
    for (; k < n; k++) {
        socklen_t sl = 0;
        rc = (!d[k].data && d[k].len > 0)
                 ? PARLEY_EINVAL
                 : pl_sa_from_addr(&d[k].addr, s->family, s->dualstack,
                                   &c->ss[k], &sl);
        if (rc != PARLEY_OK) {
            break; /* send what came before; this one fails next call */
        }
        set_msg(c, k, d[k].data, d[k].len, sl);
    }
    *sent = 0;
    if (k == 0) {
        return rc;
    }
    int r;
    do {
        r = sendmmsg(s->fd, c->mm, (unsigned)k, PL_OS_MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return pl_udp_send_error(errno);
    }
    *sent = (size_t)r;
    return PARLEY_OK;
}

int
pl_os_udp_send_batch(const pl_os_udp *s, const parley_datagram *d, size_t n,
                     size_t *sent)
{
    mmsg_chunk c;
    size_t total = 0;
    int rc = PARLEY_OK;
    if (!s || (!d && n > 0) || !sent) {
        return PARLEY_EINVAL;
    }
    while (total < n) {
        size_t want = n - total < PL_OS_UDP_BATCH ? n - total : PL_OS_UDP_BATCH;
        size_t k = 0;
        rc = send_chunk(s, &c, d + total, want, &k);
        total += k;
        if (rc != PARLEY_OK || k < want) {
            break;
        }
    }
    *sent = total;
    return total > 0 ? PARLEY_OK : rc;
}

/* Receives into d[0..n), n <= PL_OS_UDP_BATCH. */
static int
recv_chunk(const pl_os_udp *s, mmsg_chunk *c, parley_datagram *d, size_t n,
           size_t *got)
{
    for (size_t i = 0; i < n; i++) {
        set_msg(c, i, d[i].data, d[i].len, sizeof c->ss[i]);
    }
    int r;
    do {
        r = recvmmsg(s->fd, c->mm, (unsigned)n, MSG_DONTWAIT, NULL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        *got = 0;
        return pl_udp_recv_error(errno);
    }
    for (int i = 0; i < r; i++) {
        const struct msghdr *h = &c->mm[i].msg_hdr;
        d[i].len = c->mm[i].msg_len;
        d[i].truncated = (h->msg_flags & MSG_TRUNC) != 0;
        if (pl_sa_to_addr(h->msg_name, h->msg_namelen, &d[i].addr) !=
            PARLEY_OK) {
            memset(&d[i].addr, 0, sizeof d[i].addr);
        }
    }
    *got = (size_t)r;
    return PARLEY_OK;
}

int
pl_os_udp_recv_batch(const pl_os_udp *s, parley_datagram *d, size_t n,
                     size_t *got)
{
    mmsg_chunk c;
    size_t total = 0;
    int rc = PARLEY_EAGAIN;
    if (!s || (!d && n > 0) || !got) {
        return PARLEY_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!d[i].data && d[i].len > 0) {
            return PARLEY_EINVAL;
        }
    }
    while (total < n) {
        size_t want = n - total < PL_OS_UDP_BATCH ? n - total : PL_OS_UDP_BATCH;
        size_t k = 0;
        rc = recv_chunk(s, &c, d + total, want, &k);
        total += k;
        if (rc != PARLEY_OK || k < want) {
            break;
        }
    }
    *got = total;
    return (total > 0 || n == 0) ? PARLEY_OK : rc;
}

int
pl_os_udp_has_mmsg(void)
{
    return 1;
}

#else /* !PL_OS_HAVE_MMSG */

int
pl_os_udp_send_batch(const pl_os_udp *s, const parley_datagram *d, size_t n,
                     size_t *sent)
{
    return pl_os_udp_send_loop(s, d, n, sent);
}

int
pl_os_udp_recv_batch(const pl_os_udp *s, parley_datagram *d, size_t n,
                     size_t *got)
{
    return pl_os_udp_recv_loop(s, d, n, got);
}

int
pl_os_udp_has_mmsg(void)
{
    return 0;
}

#endif
