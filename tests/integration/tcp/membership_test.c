/*
 * Moving connections: between a polling and a threaded reader, out of
 * every reader (data waits, nothing is lost) and back; destroying a
 * reader leaves its connections open; destroying a listener closes the
 * connections it accepted that nobody took; stale ids stay stale. Then
 * every allocation of a receive path fails in turn: the connection
 * either works or ends with a reset, never a crash or a leak.
 */
#include "tcp_util.h"

#include "util/alloc.h"

static void
pair(side *srv, side *cli, parley_conn *c, parley_conn *sc)
{
    char addr[64];
    PT_OK(side_open(srv, NULL, "127.0.0.1:0", 0, 0, 0));
    PT_OK(side_open(cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv->port);
    PT_OK(parley_tcp_connect(cli->tcp, addr, 2000, c));
    PT_OK(parley_tcp_reader_add(cli->reader, *c));
    int n = 0;
    for (uint64_t t0 = now_ms(); n < 1 && now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv->tcp, 2);
        accept_all(srv, sc, &n, 1);
    }
    PT_EQ_INT(n, 1);
}

/* Sends datagram number seq on c. */
static int
send_seq(side *cli, parley_conn c, unsigned seq)
{
    uint8_t buf[32];
    size_t n = make_payload(buf, 3, seq, 4);
    return parley_tcp_send(cli->tcp, c, buf, n) == PARLEY_OK;
}

/* Waits up to ms for r to yield a datagram; 1 if it is number seq. */
static int
receive_seq(side *srv, side *cli, parley_tcp_reader *r, unsigned seq, int ms)
{
    parley_tcp_datagram dg;
    for (uint64_t t0 = now_ms(); now_ms() - t0 < (uint64_t)ms;) {
        parley_tcp_wait(srv->tcp, 2);
        parley_tcp_poll(cli->tcp);
        if (parley_tcp_reader_get(r, &dg) == 1) {
            unsigned who, s;
            int ok = read_payload(dg.data, dg.len, &who, &s) && s == seq;
            parley_tcp_datagram_release(&dg);
            return ok;
        }
    }
    return 0;
}

PT_TEST(moving_between_readers_loses_nothing)
{
    side srv, cli;
    parley_conn c, sc;
    pair(&srv, &cli, &c, &sc);
    parley_tcp_queue_config q = qcfg(2);
    parley_tcp_reader *threaded;
    PT_OK(parley_tcp_reader_create(srv.tcp, &q, &threaded));

    PT_TRUE(send_seq(&cli, c, 0));
    PT_TRUE(receive_seq(&srv, &cli, srv.reader, 0, 2000));
    /* To the threaded reader: the next datagram arrives there. */
    PT_OK(parley_tcp_reader_add(threaded, sc));
    PT_TRUE(send_seq(&cli, c, 1));
    PT_TRUE(receive_seq(&srv, &cli, threaded, 1, 2000));
    /* Out of every reader: nothing is read, nothing is lost. */
    PT_ERR(parley_tcp_reader_remove(srv.reader, sc), PARLEY_ENOENT);
    PT_OK(parley_tcp_reader_remove(threaded, sc));
    PT_TRUE(send_seq(&cli, c, 2));
    PT_TRUE(send_seq(&cli, c, 3));
    PT_EQ_INT(receive_seq(&srv, &cli, threaded, 2, 100), 0);
    PT_EQ_INT(receive_seq(&srv, &cli, srv.reader, 2, 100), 0);
    /* Back into the threaded reader: both waited and arrive in order.
       Then destroy it: the connection stays open and a polling reader
       picks it up again. */
    PT_OK(parley_tcp_reader_add(threaded, sc));
    PT_TRUE(receive_seq(&srv, &cli, threaded, 2, 2000));
    PT_TRUE(receive_seq(&srv, &cli, threaded, 3, 2000));
    parley_tcp_reader_destroy(threaded);
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(srv.tcp, sc, &info));
    PT_EQ_INT(info.open, 1);
    PT_OK(parley_tcp_reader_add(srv.reader, sc));
    PT_TRUE(send_seq(&cli, c, 4));
    PT_TRUE(receive_seq(&srv, &cli, srv.reader, 4, 2000));
    PT_EQ_INT(parley_tcp_reset_available(srv.tcp), 0);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(destroying_a_listener_closes_untaken_connections)
{
    side srv, cli;
    char addr[64];
    parley_conn c;
    parley_tcp_queue_config q = qcfg(1);
    PT_OK(side_open(&srv, NULL, "127.0.0.1:0", 0, 0, 0));
    parley_tcp_listener_destroy(srv.listener);
    PT_OK(parley_tcp_listener_create(srv.tcp, &q, &srv.listener));
    PT_OK(parley_tcp_listener_add(srv.listener, srv.rendezvous));
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &c));
    PT_OK(parley_tcp_reader_add(cli.reader, c));
    for (uint64_t t0 = now_ms(); now_ms() - t0 < 2000;) {
        if (parley_tcp_listener_available(srv.listener)) {
            break;
        }
        parley_tcp_wait(srv.tcp, 5);
    }
    PT_EQ_INT(parley_tcp_listener_available(srv.listener), 1);
    parley_tcp_listener_destroy(srv.listener);
    srv.listener = NULL;
    parley_tcp_reset r;
    int got = 0;
    for (uint64_t t0 = now_ms(); !got && now_ms() - t0 < 3000;) {
        parley_tcp_poll(srv.tcp);
        parley_tcp_wait(cli.tcp, 5);
        got = parley_tcp_get_reset(cli.tcp, &r);
    }
    PT_EQ_INT(got, 1);
    PT_TRUE(r.conn == c);
    /* The rendezvous itself is still open. */
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(srv.tcp, srv.rendezvous, &info));
    PT_EQ_INT(info.open, 1);
    PT_OK(parley_tcp_close(srv.tcp, srv.rendezvous));
    PT_ERR(parley_tcp_get_info(srv.tcp, srv.rendezvous, &info),
           PARLEY_ENOTCONN);
    PT_ERR(parley_tcp_close(srv.tcp, PARLEY_CONN_NONE), PARLEY_ENOTCONN);
    PT_ERR(parley_tcp_close(srv.tcp, ~(parley_conn)0), PARLEY_ENOTCONN);
    side_close(&cli);
    side_close(&srv);
}

/* The nth allocation from now fails while a datagram is received. */
static int
receive_with_failure(uint64_t nth)
{
    side srv, cli;
    parley_conn c, sc;
    pair(&srv, &cli, &c, &sc);
    uint8_t buf[64];
    size_t n = make_payload(buf, 1, 1, 40);
    PT_OK(parley_tcp_send(cli.tcp, c, buf, n));
    pl_alloc_fail_nth(nth);
    int outcome = 0; /* 1 delivered, 2 reset */
    parley_tcp_datagram dg;
    parley_tcp_reset r;
    for (uint64_t t0 = now_ms(); !outcome && now_ms() - t0 < 2000;) {
        parley_tcp_wait(srv.tcp, 2);
        if (parley_tcp_reader_get(srv.reader, &dg) == 1) {
            outcome = 1;
            parley_tcp_datagram_release(&dg);
        } else if (parley_tcp_get_reset(srv.tcp, &r) == 1) {
            outcome = 2;
            PT_ERR(r.reason, PARLEY_ENOMEM);
        }
    }
    pl_alloc_fail_nth(0);
    side_close(&cli);
    side_close(&srv);
    return outcome;
}

PT_TEST(allocation_failures_end_in_a_reset_or_nothing)
{
    int64_t live = pl_alloc_live();
    int resets = 0;
    for (uint64_t nth = 1; nth <= 6; nth++) {
        int outcome = receive_with_failure(nth);
        PT_NE_INT(outcome, 0);
        resets += outcome == 2;
    }
    PT_GE_INT(resets, 1); /* the datagram's own allocation failed once */
    PT_EQ_INT(pl_alloc_live(), live);
}

PT_MAIN(PT_RUN(moving_between_readers_loses_nothing)
            PT_RUN(destroying_a_listener_closes_untaken_connections)
                PT_RUN(allocation_failures_end_in_a_reset_or_nothing))
