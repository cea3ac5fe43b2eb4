/*
 * TCP over real loopback sockets through the platform contract: a
 * nonblocking connect driven by a poller on 127.0.0.1 and ::1, bulk data
 * both ways, accept reporting the peer, refused connects, orderly close
 * (ECLOSED), reset (ECONNRESET) and a dual-stack listener.
 */
#include "pt.h"

#include "parley/parley.h"
#include "platform/platform.h"

/* A listener on loopback of fam, or 0 (printed) without that loopback. */
static int
listen_lo(parley_family fam, int *fd, parley_addr *where)
{
    parley_addr lo;
    PT_OK(parley_addr_loopback(fam, 0, &lo));
    int rc = pl_os_tcp_listen(&lo, 8, 0, fd);
    if (fam == PARLEY_AF_INET6 &&
        (rc == PARLEY_EADDRNOTAVAIL || rc == PARLEY_EAFNOSUPPORT)) {
        printf("  skip: no IPv6 loopback in this kernel (%s)\n",
               parley_err_name(rc));
        return 0;
    }
    PT_OK(rc);
    PT_OK(pl_os_sock_local_addr(*fd, where));
    PT_GT_INT(where->port, 0);
    return 1;
}

typedef struct pair {
    int server;            /* accepted side */
    int client;            /* connecting side */
    parley_addr peer_seen; /* what accept reported */
} pair;

/* Connects to the listener through a poller until both ends exist. */
static void
connect_pair(int lfd, const parley_addr *to, pair *pr)
{
    pl_os_poller *p;
    int lis_tag = 1, cli_tag = 2, connected = 0;
    pr->server = pr->client = -1;
    PT_ERR(pl_os_tcp_accept(lfd, &pr->server, NULL), PARLEY_EAGAIN);
    PT_OK(pl_os_poller_create(PL_OS_POLLER_DEFAULT, &p));
    int rc = pl_os_tcp_connect_start(to, &pr->client);
    PT_TRUE(rc == PARLEY_OK || rc == PARLEY_EAGAIN);
    connected = rc == PARLEY_OK;
    PT_OK(pl_os_poller_add(p, lfd, PL_OS_POLL_IN, &lis_tag));
    PT_OK(pl_os_poller_add(p, pr->client, PL_OS_POLL_OUT, &cli_tag));
    uint64_t t0 = parley_time_us();
    while (!connected || pr->server < 0) {
        pl_os_poll_event ev[4];
        size_t got = 0;
        PT_LT_U64(parley_time_us() - t0, 5000000);
        PT_OK(pl_os_poller_wait(p, 1000, ev, 4, &got));
        for (size_t i = 0; i < got; i++) {
            if (ev[i].user == &cli_tag) {
                PT_OK(pl_os_tcp_connect_finish(pr->client));
                connected = 1;
                PT_OK(pl_os_poller_del(p, pr->client));
            } else if (pr->server < 0) {
                PT_OK(pl_os_tcp_accept(lfd, &pr->server, &pr->peer_seen));
            }
        }
    }
    PT_OK(pl_os_tcp_connect_finish(pr->client));
    pl_os_poller_destroy(p);
}

/* Moves n bytes from one socket to the other, both nonblocking. */
static void
pump(int from, int to, const unsigned char *data, size_t n, unsigned char *dst)
{
    size_t sent = 0, got = 0;
    uint64_t t0 = parley_time_us();
    while (got < n) {
        PT_LT_U64(parley_time_us() - t0, 10000000);
        if (sent < n) {
            size_t k = 0;
            int rc = pl_os_tcp_send(from, data + sent, n - sent, &k);
            PT_TRUE(rc == PARLEY_OK || rc == PARLEY_EAGAIN);
            sent += k;
        }
        size_t k = 0;
        int rc = pl_os_tcp_recv(to, dst + got, n - got, &k);
        if (rc == PARLEY_EAGAIN) {
            /* While sending, a short wait; once all is sent, the rest
             * must arrive. */
            int w = pl_os_wait_fd(to, PL_OS_POLL_IN, sent < n ? 10 : 2000);
            PT_TRUE(w == PARLEY_OK || (sent < n && w == PARLEY_ETIMEDOUT));
            continue;
        }
        PT_OK(rc);
        got += k;
    }
    PT_EQ_U64(sent, n);
}

static void
round_trip(parley_family fam)
{
    enum { N = 1 << 20 };
    int lfd;
    parley_addr laddr, caddr, cpeer;
    pair pr;
    if (!listen_lo(fam, &lfd, &laddr)) {
        return;
    }
    connect_pair(lfd, &laddr, &pr);
    PT_OK(pl_os_sock_local_addr(pr.client, &caddr));
    PT_TRUE(parley_addr_equal(&pr.peer_seen, &caddr));
    PT_OK(pl_os_sock_peer_addr(pr.client, &cpeer));
    PT_TRUE(parley_addr_equal(&cpeer, &laddr));
    PT_OK(pl_os_tcp_set_nodelay(pr.client, 1));
    PT_OK(pl_os_tcp_set_nodelay(pr.server, 1));
    unsigned char *a = malloc(N), *b = malloc(N);
    PT_TRUE(a && b);
    PT_OK(pl_os_random(a, N));
    /* 1 MiB is more than the socket buffers: sends see EAGAIN. */
    pump(pr.client, pr.server, a, N, b);
    PT_EQ_MEM(a, b, N);
    memset(b, 0, N);
    pump(pr.server, pr.client, a, 4096, b);
    PT_EQ_MEM(a, b, 4096);
    free(a);
    free(b);
    pl_os_close(pr.client);
    pl_os_close(pr.server);
    pl_os_close(lfd);
}

PT_TEST(round_trip_ipv4)
{
    round_trip(PARLEY_AF_INET);
}

PT_TEST(round_trip_ipv6)
{
    round_trip(PARLEY_AF_INET6);
}

PT_TEST(closed_port_refused)
{
    int lfd, fd = -1;
    parley_addr addr;
    PT_TRUE(listen_lo(PARLEY_AF_INET, &lfd, &addr));
    pl_os_close(lfd); /* the port is now closed */
    int rc = pl_os_tcp_connect_start(&addr, &fd);
    if (rc == PARLEY_EAGAIN) {
        PT_OK(pl_os_wait_fd(fd, PL_OS_POLL_OUT, 2000));
        rc = pl_os_tcp_connect_finish(fd);
        pl_os_close(fd);
    } else {
        PT_EQ_INT(fd, -1); /* nothing handed out on failure */
    }
    PT_ERR(rc, PARLEY_ECONNREFUSED);
}

PT_TEST(peer_close_is_eclosed)
{
    int lfd;
    parley_addr addr;
    pair pr;
    unsigned char buf[16];
    size_t got = 0, sent = 0;
    PT_TRUE(listen_lo(PARLEY_AF_INET, &lfd, &addr));
    connect_pair(lfd, &addr, &pr);
    PT_OK(pl_os_tcp_send(pr.server, "bye", 3, &sent));
    PT_EQ_INT(sent, 3);
    pl_os_close(pr.server);
    PT_OK(pl_os_wait_fd(pr.client, PL_OS_POLL_IN, 2000));
    PT_OK(pl_os_tcp_recv(pr.client, buf, sizeof buf, &got));
    PT_EQ_INT(got, 3);
    PT_EQ_MEM(buf, "bye", 3);
    PT_OK(pl_os_wait_fd(pr.client, PL_OS_POLL_IN, 2000));
    PT_ERR(pl_os_tcp_recv(pr.client, buf, sizeof buf, &got), PARLEY_ECLOSED);
    PT_EQ_INT(got, 0);
    PT_ERR(pl_os_tcp_recv(pr.client, buf, 0, &got), PARLEY_EINVAL);
    pl_os_close(pr.client);
    pl_os_close(lfd);
}

PT_TEST(half_close_then_reply)
{
    int lfd;
    parley_addr addr;
    pair pr;
    unsigned char buf[16];
    size_t got = 0, sent = 0;
    PT_TRUE(listen_lo(PARLEY_AF_INET, &lfd, &addr));
    connect_pair(lfd, &addr, &pr);
    PT_OK(pl_os_tcp_shutdown_write(pr.client));
    PT_OK(pl_os_wait_fd(pr.server, PL_OS_POLL_IN, 2000));
    PT_ERR(pl_os_tcp_recv(pr.server, buf, sizeof buf, &got), PARLEY_ECLOSED);
    PT_ERR(pl_os_tcp_send(pr.client, "x", 1, &sent), PARLEY_ECLOSED);
    PT_OK(pl_os_tcp_send(pr.server, "ok", 2, &sent)); /* other way open */
    PT_OK(pl_os_wait_fd(pr.client, PL_OS_POLL_IN, 2000));
    PT_OK(pl_os_tcp_recv(pr.client, buf, sizeof buf, &got));
    PT_EQ_MEM(buf, "ok", 2);
    pl_os_close(pr.client);
    pl_os_close(pr.server);
    pl_os_close(lfd);
}

PT_TEST(unread_data_at_close_is_reset)
{
    /* Closing with unread received data makes the kernel send RST. */
    int lfd;
    parley_addr addr;
    pair pr;
    unsigned char buf[16];
    size_t got = 0, sent = 0;
    PT_TRUE(listen_lo(PARLEY_AF_INET, &lfd, &addr));
    connect_pair(lfd, &addr, &pr);
    PT_OK(pl_os_tcp_send(pr.client, "unread", 6, &sent));
    PT_OK(pl_os_wait_fd(pr.server, PL_OS_POLL_IN, 2000));
    pl_os_close(pr.server);
    PT_OK(pl_os_wait_fd(pr.client, PL_OS_POLL_IN, 2000));
    PT_ERR(pl_os_tcp_recv(pr.client, buf, sizeof buf, &got), PARLEY_ECONNRESET);
    pl_os_close(pr.client);
    pl_os_close(lfd);
}

PT_TEST(dualstack_listener_reports_ipv4_peer)
{
    int lfd;
    parley_addr any6, laddr, to, caddr;
    pair pr;
    PT_OK(parley_addr_parse("[::]:0", 0, &any6));
    int rc = pl_os_tcp_listen(&any6, 8, 1, &lfd);
    if (rc == PARLEY_EAFNOSUPPORT || rc == PARLEY_EADDRNOTAVAIL) {
        printf("  skip: no IPv6 in this kernel (%s)\n", parley_err_name(rc));
        return;
    }
    PT_OK(rc);
    PT_OK(pl_os_sock_local_addr(lfd, &laddr));
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, laddr.port, &to));
    connect_pair(lfd, &to, &pr);
    PT_EQ_INT(pr.peer_seen.family, PARLEY_AF_INET);
    PT_OK(pl_os_sock_local_addr(pr.client, &caddr));
    PT_TRUE(parley_addr_equal(&pr.peer_seen, &caddr));
    pl_os_close(pr.client);
    pl_os_close(pr.server);
    pl_os_close(lfd);
}

PT_TEST(listen_errors)
{
    int lfd, other;
    parley_addr addr, none;
    PT_TRUE(listen_lo(PARLEY_AF_INET, &lfd, &addr));
    /* SO_REUSEADDR does not let two listeners share a port. */
    PT_ERR(pl_os_tcp_listen(&addr, 8, 0, &other), PARLEY_EADDRINUSE);
    memset(&none, 0, sizeof none);
    PT_ERR(pl_os_tcp_listen(&none, 8, 0, &other), PARLEY_EINVAL);
    PT_ERR(pl_os_tcp_connect_start(&none, &other), PARLEY_EINVAL);
    pl_os_close(lfd);
}

PT_MAIN(PT_RUN(round_trip_ipv4) PT_RUN(round_trip_ipv6)
            PT_RUN(closed_port_refused) PT_RUN(peer_close_is_eclosed)
                PT_RUN(half_close_then_reply)
                    PT_RUN(unread_data_at_close_is_reset)
                        PT_RUN(dualstack_listener_reports_ipv4_peer)
                            PT_RUN(listen_errors))
