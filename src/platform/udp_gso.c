/*
 * UDP segmentation offload: runs of equal-size datagrams to one peer go
 * out as one train per sendmmsg entry with a UDP_SEGMENT control message
 * (GSO), and coalesced trains come in with their segment size (GRO).
 * Where the build or the kernel lacks them, both fall back to udp_batch.c.
 */
#include "platform/os.h"

#include <string.h>
#include <sys/uio.h>

#ifdef PL_OS_HAVE_GSO
#include <netinet/udp.h>

/* Under the 64 KiB an IP packet (v4 or v6) can carry as UDP payload. */
#define TRAIN_BYTES 65000

typedef union pl_cmsg_space {
    char buf[CMSG_SPACE(sizeof(int))];
    size_t align; /* as struct cmsghdr */
} pl_cmsg_space;

/* Scratch for one sendmmsg/recvmmsg of up to PL_OS_UDP_BATCH datagrams. */
typedef struct gso_chunk {
    struct mmsghdr mm[PL_OS_UDP_BATCH];
    struct iovec iov[PL_OS_UDP_BATCH];
    struct sockaddr_storage ss[PL_OS_UDP_BATCH];
    pl_cmsg_space ctl[PL_OS_UDP_BATCH];
    size_t count[PL_OS_UDP_BATCH]; /* send: datagrams in entry i */
} gso_chunk;

int
pl_os_udp_offload(pl_os_udp *s, int want)
{
    if (!s) {
        return 0;
    }
    int v = 0;
    socklen_t vl = sizeof v;
    s->gso = (want & PL_OS_UDP_GSO) &&
             getsockopt(s->fd, SOL_UDP, UDP_SEGMENT, &v, &vl) == 0;
    v = (want & PL_OS_UDP_GRO) ? 1 : 0;
    s->gro = setsockopt(s->fd, SOL_UDP, UDP_GRO, &v, sizeof v) == 0 && v;
    return (s->gso ? PL_OS_UDP_GSO : 0) | (s->gro ? PL_OS_UDP_GRO : 0);
}

/* How many of d[0..n) form one train: one destination, every length
 * that of the first but the last, which may be shorter. */
static size_t
train_len(const parley_datagram *d, size_t n)
{
    size_t seg = d[0].len, total = seg, k = 1;
    if (seg == 0) {
        return 1;
    }
    while (k < n && k < PL_OS_UDP_TRAIN_SEGS && d[k].len > 0 &&
           d[k].len <= seg && total + d[k].len <= TRAIN_BYTES &&
           parley_addr_equal(&d[k].addr, &d[0].addr)) {
        total += d[k].len;
        if (d[k++].len < seg) {
            break;
        }
    }
    return k;
}

/* Entry e of c: d[0..k) to the address already in c->ss[e]. */
static void
set_train(gso_chunk *c, unsigned e, size_t first, const parley_datagram *d,
          size_t k, socklen_t sl)
{
    struct msghdr *h = &c->mm[e].msg_hdr;
    memset(&c->mm[e], 0, sizeof c->mm[e]);
    for (size_t j = 0; j < k; j++) {
        c->iov[first + j].iov_base = d[j].data;
        c->iov[first + j].iov_len = d[j].len;
    }
    h->msg_name = &c->ss[e];
    h->msg_namelen = sl;
    h->msg_iov = &c->iov[first];
    h->msg_iovlen = k;
    c->count[e] = k;
    if (k < 2) {
        return;
    }
    uint16_t seg = (uint16_t)d[0].len;
    h->msg_control = c->ctl[e].buf;
    h->msg_controllen = CMSG_SPACE(sizeof seg);
    struct cmsghdr *cm = CMSG_FIRSTHDR(h);
    cm->cmsg_level = SOL_UDP;
    cm->cmsg_type = UDP_SEGMENT;
    cm->cmsg_len = CMSG_LEN(sizeof seg);
    memcpy(CMSG_DATA(cm), &seg, sizeof seg);
}

/* Fills c with trains from d[0..n), n <= PL_OS_UDP_BATCH, up to the first
 * datagram that cannot be sent (its error is returned). */
static int
build_chunk(const pl_os_udp *s, gso_chunk *c, const parley_datagram *d,
            size_t n, unsigned *entries)
{
    size_t i = 0;
    unsigned e = 0;
    int rc = PARLEY_OK;
    while (i < n) {
        socklen_t sl = 0;
        rc = (!d[i].data && d[i].len > 0)
                 ? PARLEY_EINVAL
                 : pl_sa_from_addr(&d[i].addr, s->family, s->dualstack,
                                   &c->ss[e], &sl);
        if (rc != PARLEY_OK) {
            break;
        }
        size_t k = train_len(d + i, n - i);
        set_train(c, e++, i, d + i, k, sl);
        i += k;
    }
    *entries = e;
    return rc;
}

static int
send_chunk(pl_os_udp *s, gso_chunk *c, const parley_datagram *d, size_t n,
           size_t *sent)
{
    unsigned e = 0;
    int rc = build_chunk(s, c, d, n, &e);
    *sent = 0;
    if (e == 0) {
        return rc;
    }
    int r;
    do {
        r = sendmmsg(s->fd, c->mm, e, PL_OS_MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        int err = errno;
        rc = pl_udp_send_error(err);
        if (c->count[0] > 1 && rc != PARLEY_EAGAIN) {
            /* Refused here: one datagram at a time from now. Too long is
               the exception: a path-MTU probe in the train, which the
               batch below reports on its own; trains stay on. */
            if (rc != PARLEY_EMSGSIZE) {
                s->gso = 0;
            }
            return pl_os_udp_send_batch(s, d, n, sent);
        }
        return rc;
    }
    for (int j = 0; j < r; j++) {
        *sent += c->count[j];
    }
    return PARLEY_OK;
}

int
pl_os_udp_send_gso(pl_os_udp *s, const parley_datagram *d, size_t n,
                   size_t *sent)
{
    if (!s || (!d && n > 0) || !sent) {
        return PARLEY_EINVAL;
    }
    if (!s->gso) {
        return pl_os_udp_send_batch(s, d, n, sent);
    }
    gso_chunk c;
    size_t total = 0;
    int rc = PARLEY_OK;
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

/* The segment size in a received message's UDP_GRO control message. */
static size_t
gro_segment(struct msghdr *h)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
        if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO &&
            cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int v;
            memcpy(&v, CMSG_DATA(cm), sizeof v);
            return v > 0 ? (size_t)v : 0;
        }
    }
    return 0;
}

/* Receives into d[0..n), n <= PL_OS_UDP_BATCH. */
static int
recv_chunk(const pl_os_udp *s, gso_chunk *c, parley_datagram *d, size_t n,
           size_t *seg, size_t *got)
{
    for (size_t i = 0; i < n; i++) {
        struct msghdr *h = &c->mm[i].msg_hdr;
        memset(&c->mm[i], 0, sizeof c->mm[i]);
        c->iov[i].iov_base = d[i].data;
        c->iov[i].iov_len = d[i].len;
        h->msg_name = &c->ss[i];
        h->msg_namelen = sizeof c->ss[i];
        h->msg_iov = &c->iov[i];
        h->msg_iovlen = 1;
        h->msg_control = c->ctl[i].buf;
        h->msg_controllen = sizeof c->ctl[i].buf;
    }
    int r;
    do {
        r = recvmmsg(s->fd, c->mm, (unsigned)n, MSG_DONTWAIT, NULL);
    } while (r < 0 && errno == EINTR);
    *got = 0;
    if (r < 0) {
        return pl_udp_recv_error(errno);
    }
    for (int i = 0; i < r; i++) {
        struct msghdr *h = &c->mm[i].msg_hdr;
        size_t sz = gro_segment(h);
        d[i].len = c->mm[i].msg_len;
        d[i].truncated = (h->msg_flags & MSG_TRUNC) != 0;
        seg[i] = sz < d[i].len ? sz : 0;
        if (pl_sa_to_addr(h->msg_name, h->msg_namelen, &d[i].addr) !=
            PARLEY_OK) {
            memset(&d[i].addr, 0, sizeof d[i].addr);
        }
    }
    *got = (size_t)r;
    return PARLEY_OK;
}

int
pl_os_udp_recv_gro(const pl_os_udp *s, parley_datagram *d, size_t n,
                   size_t *seg, size_t *got)
{
    if (!s || (!d && n > 0) || !seg || !got) {
        return PARLEY_EINVAL;
    }
    if (!s->gro) {
        memset(seg, 0, n * sizeof *seg);
        return pl_os_udp_recv_batch(s, d, n, got);
    }
    for (size_t i = 0; i < n; i++) {
        if (!d[i].data && d[i].len > 0) {
            return PARLEY_EINVAL;
        }
    }
    gso_chunk c;
    size_t total = 0;
    int rc = PARLEY_EAGAIN;
    while (total < n) {
        size_t want = n - total < PL_OS_UDP_BATCH ? n - total : PL_OS_UDP_BATCH;
        size_t k = 0;
        rc = recv_chunk(s, &c, d + total, want, seg + total, &k);
        total += k;
        if (rc != PARLEY_OK || k < want) {
            break;
        }
    }
    *got = total;
    return (total > 0 || n == 0) ? PARLEY_OK : rc;
}

#else /* !PL_OS_HAVE_GSO */

int
pl_os_udp_offload(pl_os_udp *s, int want)
{
    (void)want;
    if (s) {
        s->gso = 0;
        s->gro = 0;
    }
    return 0;
}

int
pl_os_udp_send_gso(pl_os_udp *s, const parley_datagram *d, size_t n,
                   size_t *sent)
{
    return pl_os_udp_send_batch(s, d, n, sent);
}

int
pl_os_udp_recv_gro(const pl_os_udp *s, parley_datagram *d, size_t n,
                   size_t *seg, size_t *got)
{
    if (!seg) {
        return PARLEY_EINVAL;
    }
    memset(seg, 0, n * sizeof *seg);
    return pl_os_udp_recv_batch(s, d, n, got);
}

#endif
