/*
 * The machine's own limits behind bench.h: raw UDP (one message per
 * datagram, sent in sendmmsg batches, received with recvmmsg; nothing
 * reliable) and TCP (one connection, TCP_NODELAY, 4-byte length prefix,
 * buffered writes). One client per server.
 */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_BATCH 64
#define UDP_MAX 2048
#define TCP_OUT_MAX (8u << 20)
#define TCP_MSG_MAX ((64u << 20) + 4)

typedef struct raw_ep {
    int fd;  /* UDP socket, or the connected TCP socket */
    int lfd; /* TCP listen socket, -1 otherwise */
    int is_tcp;
    int announced; /* CONNECT handed out */
    struct sockaddr_in peer;
    int have_peer;
    uint64_t dgrams;
    /* UDP send batch */
    uint8_t out[UDP_BATCH][UDP_MAX];
    size_t out_len[UDP_BATCH];
    int out_n;
    /* TCP buffers */
    uint8_t *wbuf;
    size_t wlen, wcap;
    uint8_t *rbuf;
    size_t rlen, rcap;
} raw_ep;

static int
bind_loopback(int type, uint16_t *port)
{
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static raw_ep *
ep_new(int is_tcp)
{
    raw_ep *ep = calloc(1, sizeof *ep);
    if (ep != NULL) {
        ep->fd = -1;
        ep->lfd = -1;
        ep->is_tcp = is_tcp;
    }
    return ep;
}

static void
raw_destroy(bench_ep *bep)
{
    raw_ep *ep = (raw_ep *)bep;
    if (ep->fd >= 0) {
        close(ep->fd);
    }
    if (ep->lfd >= 0) {
        close(ep->lfd);
    }
    free(ep->wbuf);
    free(ep->rbuf);
    free(ep);
}

static uint16_t
raw_port(bench_ep *bep)
{
    raw_ep *ep = (raw_ep *)bep;
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = ep->lfd >= 0 ? ep->lfd : ep->fd;
    if (getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        return 0;
    }
    return ntohs(a.sin_port);
}

static int
raw_fd(bench_ep *bep)
{
    raw_ep *ep = (raw_ep *)bep;
    return ep->fd >= 0 ? ep->fd : ep->lfd;
}

static void
raw_extra(bench_ep *bep, char *buf, size_t cap)
{
    (void)bep;
    if (cap > 0) {
        buf[0] = '\0';
    }
}

static uint64_t
raw_dgrams(bench_ep *bep)
{
    return ((raw_ep *)bep)->dgrams;
}

/* ---- UDP ---- */

static int
udp_server(bench_ep **out, uint32_t max_conns)
{
    (void)max_conns;
    raw_ep *ep = ep_new(0);
    uint16_t port;
    if (ep == NULL || (ep->fd = bind_loopback(SOCK_DGRAM, &port)) < 0) {
        free(ep);
        return -1;
    }
    int sz = 4 << 20;
    setsockopt(ep->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    *out = (bench_ep *)ep;
    return 0;
}

static int
udp_client(bench_ep **out, uint16_t port)
{
    raw_ep *ep = ep_new(0);
    uint16_t lp;
    if (ep == NULL || (ep->fd = bind_loopback(SOCK_DGRAM, &lp)) < 0) {
        free(ep);
        return -1;
    }
    ep->peer.sin_family = AF_INET;
    ep->peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ep->peer.sin_port = htons(port);
    ep->have_peer = 1;
    *out = (bench_ep *)ep;
    return 0;
}

static void
udp_flush(raw_ep *ep)
{
    struct mmsghdr m[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    int done = 0;
    memset(m, 0, sizeof m);
    for (int i = 0; i < ep->out_n; i++) {
        iov[i].iov_base = ep->out[i];
        iov[i].iov_len = ep->out_len[i];
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_name = &ep->peer;
        m[i].msg_hdr.msg_namelen = sizeof ep->peer;
    }
    while (done < ep->out_n) {
        int r = sendmmsg(ep->fd, m + done, (unsigned)(ep->out_n - done), 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            break; /* dropped, as UDP may */
        }
        done += r;
        ep->dgrams += (uint64_t)r;
    }
    ep->out_n = 0;
}

static int
udp_send(bench_ep *bep, uint64_t conn, const void *data, size_t len, int flags)
{
    raw_ep *ep = (raw_ep *)bep;
    (void)conn;
    if (!ep->have_peer || len > UDP_MAX || (flags & BENCH_RELIABLE)) {
        return BENCH_FAIL;
    }
    memcpy(ep->out[ep->out_n], data, len);
    ep->out_len[ep->out_n++] = len;
    if (ep->out_n == UDP_BATCH || (flags & BENCH_FLUSH)) {
        udp_flush(ep);
    }
    return 0;
}

static int
udp_recv_all(raw_ep *ep, bench_cb cb, void *user)
{
    static uint8_t buf[UDP_BATCH][UDP_MAX];
    struct mmsghdr m[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    struct sockaddr_in from[UDP_BATCH];
    int n = 0;
    for (;;) {
        memset(m, 0, sizeof m);
        for (int i = 0; i < UDP_BATCH; i++) {
            iov[i].iov_base = buf[i];
            iov[i].iov_len = UDP_MAX;
            m[i].msg_hdr.msg_iov = &iov[i];
            m[i].msg_hdr.msg_iovlen = 1;
            m[i].msg_hdr.msg_name = &from[i];
            m[i].msg_hdr.msg_namelen = sizeof from[i];
        }
        int r = recvmmsg(ep->fd, m, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (r <= 0) {
            return n;
        }
        for (int i = 0; i < r; i++) {
            ep->peer = from[i];
            ep->have_peer = 1;
            bench_ev ev = {BENCH_EV_RECV, 1, 0, buf[i], m[i].msg_len};
            cb(user, &ev);
            n++;
        }
    }
}

static int
udp_service(bench_ep *bep, int timeout_ms, bench_cb cb, void *user)
{
    raw_ep *ep = (raw_ep *)bep;
    udp_flush(ep);
    int n = 0;
    if (!ep->announced && ep->have_peer) {
        ep->announced = 1;
        bench_ev ev = {BENCH_EV_CONNECT, 1, 0, NULL, 0};
        cb(user, &ev);
        n++;
    }
    n += udp_recv_all(ep, cb, user);
    if (n == 0 && timeout_ms != 0) {
        struct pollfd p = {ep->fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) > 0) {
            n += udp_recv_all(ep, cb, user);
        }
    }
    return n;
}

const bench_ops bench_udp_ops = {
    "udp",      0,         1,           0,           udp_server,
    udp_client, raw_port,  udp_send,    udp_service, raw_fd,
    raw_dgrams, raw_extra, raw_destroy,
};

/* ---- TCP ---- */

static void
tcp_tune(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int
tcp_server(bench_ep **out, uint32_t max_conns)
{
    (void)max_conns;
    raw_ep *ep = ep_new(1);
    uint16_t port;
    if (ep == NULL || (ep->lfd = bind_loopback(SOCK_STREAM, &port)) < 0) {
        free(ep);
        return -1;
    }
    if (listen(ep->lfd, 16) != 0) {
        raw_destroy((bench_ep *)ep);
        return -1;
    }
    *out = (bench_ep *)ep;
    return 0;
}

static int
tcp_client(bench_ep **out, uint16_t port)
{
    raw_ep *ep = ep_new(1);
    if (ep == NULL || (ep->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
        free(ep);
        return -1;
    }
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (connect(ep->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        raw_destroy((bench_ep *)ep);
        return -1;
    }
    tcp_tune(ep->fd);
    ep->have_peer = 1;
    *out = (bench_ep *)ep;
    return 0;
}

static void
tcp_write_some(raw_ep *ep)
{
    size_t off = 0;
    if (ep->wlen == 0) {
        return;
    }
    while (off < ep->wlen) {
        ssize_t w = send(ep->fd, ep->wbuf + off, ep->wlen - off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w <= 0) {
            break;
        }
        off += (size_t)w;
        ep->dgrams++; /* writes, for TCP */
    }
    memmove(ep->wbuf, ep->wbuf + off, ep->wlen - off);
    ep->wlen -= off;
}

static int
grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return 0;
    }
    size_t nc = *cap ? *cap : 65536;
    while (nc < need) {
        nc *= 2;
    }
    uint8_t *nb = realloc(*buf, nc);
    if (nb == NULL) {
        return -1;
    }
    *buf = nb;
    *cap = nc;
    return 0;
}

static int
tcp_send(bench_ep *bep, uint64_t conn, const void *data, size_t len, int flags)
{
    raw_ep *ep = (raw_ep *)bep;
    (void)conn;
    if (ep->fd < 0 || !(flags & BENCH_RELIABLE)) {
        return BENCH_FAIL;
    }
    if (ep->wlen >= TCP_OUT_MAX) {
        tcp_write_some(ep);
        if (ep->wlen >= TCP_OUT_MAX) {
            return BENCH_BUSY;
        }
    }
    if (grow(&ep->wbuf, &ep->wcap, ep->wlen + len + 4) != 0) {
        return BENCH_FAIL;
    }
    uint32_t l = (uint32_t)len;
    memcpy(ep->wbuf + ep->wlen, &l, 4);
    memcpy(ep->wbuf + ep->wlen + 4, data, len);
    ep->wlen += len + 4;
    if (flags & BENCH_FLUSH) {
        tcp_write_some(ep);
    }
    return 0;
}

/* Reads what is there and hands out whole messages; -1 on EOF/error. */
static int
tcp_read(raw_ep *ep, bench_cb cb, void *user, int *n)
{
    for (;;) {
        if (grow(&ep->rbuf, &ep->rcap, ep->rlen + 65536) != 0) {
            return -1;
        }
        ssize_t r = recv(ep->fd, ep->rbuf + ep->rlen, ep->rcap - ep->rlen,
                         MSG_DONTWAIT);
        if (r == 0) {
            return -1;
        }
        if (r < 0) {
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        }
        ep->rlen += (size_t)r;
        size_t off = 0;
        while (ep->rlen - off >= 4) {
            uint32_t l;
            memcpy(&l, ep->rbuf + off, 4);
            if (l > TCP_MSG_MAX) {
                return -1;
            }
            if (ep->rlen - off < 4 + (size_t)l) {
                break;
            }
            bench_ev ev = {BENCH_EV_RECV, 1, 1, ep->rbuf + off + 4, l};
            cb(user, &ev);
            (*n)++;
            off += 4 + (size_t)l;
        }
        memmove(ep->rbuf, ep->rbuf + off, ep->rlen - off);
        ep->rlen -= off;
    }
}

static int
tcp_service(bench_ep *bep, int timeout_ms, bench_cb cb, void *user)
{
    raw_ep *ep = (raw_ep *)bep;
    int n = 0;
    if (ep->fd >= 0) {
        tcp_write_some(ep);
    }
    struct pollfd p = {ep->fd >= 0 ? ep->fd : ep->lfd, POLLIN, 0};
    if (ep->wlen > 0) {
        p.events |= POLLOUT;
    }
    int ready = 1;
    if (ep->announced || ep->fd < 0) {
        ready = poll(&p, 1, timeout_ms) > 0;
    }
    if (ep->fd < 0 && ready) {
        ep->fd = accept(ep->lfd, NULL, NULL);
        if (ep->fd >= 0) {
            tcp_tune(ep->fd);
        }
    }
    if (ep->fd >= 0 && !ep->announced) {
        ep->announced = 1;
        bench_ev ev = {BENCH_EV_CONNECT, 1, 1, NULL, 0};
        cb(user, &ev);
        n++;
    }
    if (ep->fd >= 0 && ready) {
        if (ep->wlen > 0) {
            tcp_write_some(ep);
        }
        if (tcp_read(ep, cb, user, &n) != 0) {
            bench_ev ev = {BENCH_EV_DISCONNECT, 1, 1, NULL, 0};
            cb(user, &ev);
            close(ep->fd);
            ep->fd = -1;
            return n + 1;
        }
    }
    return n;
}

const bench_ops bench_tcp_ops = {
    "tcp",      1,         0,           0,           tcp_server,
    tcp_client, raw_port,  tcp_send,    tcp_service, raw_fd,
    raw_dgrams, raw_extra, raw_destroy,
};
