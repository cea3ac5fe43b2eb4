/*
 * Opening and closing: connect refused, unresolvable names and bad
 * address text give clear errors; IPv6 and dual-stack rendezvous; the
 * reset queue reports a peer's close once (with datagrams sent before it
 * still delivered), never a close of our own, and taking a reset makes
 * the id stale; max_connections refuses the excess.
 */
#include "tcp_util.h"

/* A loopback port with nothing listening (bound, then closed). */
static uint16_t
dead_port(void)
{
    side s;
    if (side_open(&s, NULL, "127.0.0.1:0", 0, 0, 0) != PARLEY_OK) {
        return 0;
    }
    uint16_t port = s.port;
    side_close(&s);
    return port;
}

PT_TEST(connect_refused)
{
    side cli;
    char addr[64];
    parley_conn c = 12345;
    uint16_t port = dead_port();
    PT_NE_INT(port, 0);
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, port);
    uint64_t t0 = now_ms();
    PT_ERR(parley_tcp_connect(cli.tcp, addr, 3000, &c), PARLEY_ECONNREFUSED);
    PT_LT_U64(now_ms() - t0, 1000); /* refused at once, not timed out */
    PT_EQ_U64(c, 12345);            /* untouched on error */
    side_close(&cli);
}

PT_TEST(bad_addresses)
{
    side cli;
    parley_conn c;
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    PT_ERR(parley_tcp_connect(cli.tcp, "no-such-host.invalid:80", 1000, &c),
           PARLEY_ERESOLVE);
    PT_ERR(parley_tcp_connect(cli.tcp, "127.0.0.1", 1000, &c), PARLEY_EPORT);
    PT_ERR(parley_tcp_connect(cli.tcp, "127.0.0.1:99999", 1000, &c),
           PARLEY_EPORT);
    PT_ERR(parley_tcp_connect(cli.tcp, "[::1:80", 1000, &c), PARLEY_EADDR);
    PT_ERR(parley_tcp_connect(NULL, "127.0.0.1:1", 1000, &c), PARLEY_EINVAL);
    PT_ERR(parley_tcp_listen(cli.tcp, "127.0.0.1:x", 5, &c), PARLEY_EPORT);
    side_close(&cli);
}

/* A rendezvous from listen_port (Panda3D's port-only form) takes IPv4
   and IPv6 clients. */
PT_TEST(dual_stack_rendezvous)
{
    side srv, cli;
    char addr[64];
    parley_conn r, c4, c6;
    PT_OK(side_open(&srv, NULL, NULL, 0, 0, 0));
    PT_OK(parley_tcp_listen_port(srv.tcp, 0, 16, &r));
    PT_OK(parley_tcp_listener_create(srv.tcp, NULL, &srv.listener));
    PT_OK(parley_tcp_listener_add(srv.listener, r));
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(srv.tcp, r, &info));
    PT_TRUE(info.rendezvous);
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, info.local.port);
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &c4));
    addr_text(addr, sizeof addr, 1, info.local.port);
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &c6));
    parley_tcp_accept a[2];
    int n = 0;
    for (uint64_t t0 = now_ms(); n < 2 && now_ms() - t0 < 3000;) {
        if (parley_tcp_listener_available(srv.listener)) {
            PT_EQ_INT(parley_tcp_listener_get(srv.listener, &a[n]), 1);
            PT_TRUE(a[n].rendezvous == r);
            n++;
        }
        parley_tcp_wait(srv.tcp, 5);
    }
    PT_EQ_INT(n, 2);
    int fam4 = a[0].addr.family == PARLEY_AF_INET ||
               a[1].addr.family == PARLEY_AF_INET;
    int fam6 = a[0].addr.family == PARLEY_AF_INET6 ||
               a[1].addr.family == PARLEY_AF_INET6;
    PT_TRUE(fam4 && fam6);
    PT_OK(parley_tcp_get_info(srv.tcp, a[0].conn, &info));
    PT_TRUE(info.rendezvous_id == r);
    PT_TRUE(parley_addr_equal(&info.peer, &a[0].addr));
    side_close(&cli);
    side_close(&srv);
}

/* Pumps both sides until srv has n connections accepted into conns. */
static void
accept_n(side *srv, side *cli, parley_conn *conns, int n)
{
    int got = 0;
    for (uint64_t t0 = now_ms(); got < n && now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv->tcp, 2);
        accept_all(srv, conns, &got, n);
        parley_tcp_poll(cli->tcp);
    }
}

PT_TEST(peer_close_is_reported_once_after_its_data)
{
    side srv, cli;
    char addr[64];
    parley_conn c, sc;
    PT_OK(side_open(&srv, NULL, "127.0.0.1:0", 0, 0, 0));
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &c));
    accept_n(&srv, &cli, &sc, 1);
    PT_OK(parley_tcp_send(cli.tcp, c, "last words", 10));
    PT_OK(parley_tcp_close(cli.tcp, c));
    PT_ERR(parley_tcp_send(cli.tcp, c, "x", 1), PARLEY_ENOTCONN);
    PT_ERR(parley_tcp_close(cli.tcp, c), PARLEY_ENOTCONN);

    parley_tcp_reset r;
    int got_reset = 0, got_data = 0;
    for (uint64_t t0 = now_ms(); !got_reset && now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv.tcp, 5);
        parley_tcp_datagram dg;
        while (parley_tcp_reader_get(srv.reader, &dg) == 1) {
            got_data += dg.len == 10 && memcmp(dg.data, "last words", 10) == 0;
            parley_tcp_datagram_release(&dg);
        }
        got_reset = parley_tcp_get_reset(srv.tcp, &r);
    }
    PT_EQ_INT(got_reset, 1);
    PT_EQ_INT(got_data, 1);
    PT_TRUE(r.conn == sc);
    PT_ERR(r.reason, PARLEY_ECLOSED);
    PT_EQ_INT(r.peer.family, PARLEY_AF_INET);
    /* Once taken, the id is stale and nothing more is reported. */
    PT_ERR(parley_tcp_send(srv.tcp, sc, "x", 1), PARLEY_ENOTCONN);
    parley_tcp_wait(srv.tcp, 50);
    PT_EQ_INT(parley_tcp_get_reset(srv.tcp, &r), 0);
    /* Our own close was never reported on the client side. */
    PT_EQ_INT(parley_tcp_reset_available(cli.tcp), 0);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(closing_a_reset_connection_releases_it)
{
    side srv, cli;
    char addr[64];
    parley_conn c, sc;
    PT_OK(side_open(&srv, NULL, "127.0.0.1:0", 0, 0, 0));
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &c));
    accept_n(&srv, &cli, &sc, 1);
    PT_OK(parley_tcp_close(cli.tcp, c));
    for (uint64_t t0 = now_ms(); now_ms() - t0 < 3000;) {
        if (parley_tcp_reset_available(srv.tcp)) {
            break;
        }
        parley_tcp_wait(srv.tcp, 5);
    }
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(srv.tcp, sc, &info));
    PT_EQ_INT(info.open, 0);
    PT_OK(parley_tcp_close(srv.tcp, sc)); /* releases; drops the reset */
    parley_tcp_reset r;
    PT_EQ_INT(parley_tcp_get_reset(srv.tcp, &r), 0);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(max_connections_refuses_the_excess)
{
    side srv, cli;
    char addr[64];
    parley_tcp_config cfg;
    parley_tcp_config_init(&cfg);
    cfg.max_connections = 3; /* the rendezvous and two streams */
    PT_OK(side_open(&srv, &cfg, "127.0.0.1:0", 0, 0, 0));
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);
    parley_conn c[3], sc[3];
    for (int i = 0; i < 3; i++) {
        PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &c[i]));
        PT_OK(parley_tcp_reader_add(cli.reader, c[i]));
    }
    int got = 0;
    for (uint64_t t0 = now_ms(); now_ms() - t0 < 300;) {
        parley_tcp_wait(srv.tcp, 2);
        accept_all(&srv, sc, &got, 3);
        parley_tcp_poll(cli.tcp);
    }
    PT_EQ_INT(got, 2);
    /* The third was closed at once: its client sees the close. */
    parley_tcp_reset r;
    int resets = 0;
    for (uint64_t t0 = now_ms(); !resets && now_ms() - t0 < 3000;) {
        parley_tcp_wait(cli.tcp, 5);
        resets = parley_tcp_get_reset(cli.tcp, &r);
    }
    PT_EQ_INT(resets, 1);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(connect_start_queues_until_connected)
{
    side srv, cli;
    char addr[64];
    parley_conn c, sc;
    PT_OK(side_open(&srv, NULL, "127.0.0.1:0", 0, 0, 0));
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);
    PT_OK(parley_tcp_connect_start(cli.tcp, addr, 2000, &c));
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(cli.tcp, c, &info));
    /* Sends are taken at once, whether or not the connect is done. */
    PT_OK(parley_tcp_send(cli.tcp, c, "one", 3));
    PT_OK(parley_tcp_send(cli.tcp, c, "two", 3));
    PT_OK(parley_tcp_reader_add(cli.reader, c));
    accept_n(&srv, &cli, &sc, 1);
    const char *want[2] = {"one", "two"};
    int got = 0;
    parley_tcp_datagram dg;
    for (uint64_t t0 = now_ms(); got < 2 && now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv.tcp, 2);
        parley_tcp_poll(cli.tcp);
        while (got < 2 && parley_tcp_reader_get(srv.reader, &dg) == 1) {
            PT_EQ_INT(dg.len, 3);
            PT_EQ_MEM(dg.data, want[got], 3);
            got++;
            parley_tcp_datagram_release(&dg);
        }
    }
    PT_EQ_INT(got, 2);
    PT_OK(parley_tcp_get_info(cli.tcp, c, &info));
    PT_EQ_INT(info.connecting, 0);
    PT_EQ_INT(info.open, 1);
    PT_EQ_INT(info.peer.port, srv.port);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(connect_start_refused_is_a_reset)
{
    side cli;
    char addr[64];
    parley_conn c;
    uint16_t port = dead_port();
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, port);
    PT_OK(parley_tcp_connect_start(cli.tcp, addr, 2000, &c));
    parley_tcp_reset r;
    int got = 0;
    for (uint64_t t0 = now_ms(); !got && now_ms() - t0 < 3000;) {
        parley_tcp_wait(cli.tcp, 5);
        got = parley_tcp_get_reset(cli.tcp, &r);
    }
    PT_EQ_INT(got, 1);
    PT_TRUE(r.conn == c);
    PT_ERR(r.reason, PARLEY_ECONNREFUSED);
    PT_EQ_INT(r.peer.port, port);
    PT_ERR(parley_tcp_send(cli.tcp, c, "x", 1), PARLEY_ENOTCONN);
    side_close(&cli);
}

PT_MAIN(PT_RUN(connect_refused) PT_RUN(connect_start_queues_until_connected)
            PT_RUN(connect_start_refused_is_a_reset) PT_RUN(bad_addresses)
                PT_RUN(dual_stack_rendezvous)
                    PT_RUN(peer_close_is_reported_once_after_its_data)
                        PT_RUN(closing_a_reset_connection_releases_it)
                            PT_RUN(max_connections_refuses_the_excess))
