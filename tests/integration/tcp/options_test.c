/*
 * Per-connection options: the idle timeout resets a silent peer within
 * its time; keepalives keep an idle pair alive and are never handed out;
 * collect-tcp batching holds small datagrams until collect_ms (or a
 * flush) and sends them in one piece; TCP_NODELAY is the default; the
 * header size can change between datagrams; raw mode passes bytes.
 */
#include "tcp_util.h"

/* Connects one client to srv and accepts it; both in their readers. */
static void
pair(side *srv, side *cli, const parley_tcp_config *cfg, parley_conn *c,
     parley_conn *sc)
{
    char addr[64];
    PT_OK(side_open(srv, cfg, "127.0.0.1:0", 0, 0, 0));
    PT_OK(side_open(cli, cfg, NULL, 0, 0, 0));
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

PT_TEST(idle_timeout_resets_a_silent_peer)
{
    side srv, cli;
    parley_conn c, sc;
    parley_tcp_config cfg;
    parley_tcp_config_init(&cfg);
    pair(&srv, &cli, &cfg, &c, &sc);
    parley_tcp_options o;
    PT_OK(parley_tcp_get_options(srv.tcp, sc, &o));
    PT_EQ_INT(o.idle_timeout_ms, 0); /* off by default, as Panda3D */
    o.idle_timeout_ms = 200;
    PT_OK(parley_tcp_set_options(srv.tcp, sc, &o));
    uint64_t t0 = now_ms();
    parley_tcp_reset r;
    int got = 0;
    while (!got && now_ms() - t0 < 3000) {
        /* The app's own wait needs no help: the timer wakes it. */
        parley_tcp_wait(srv.tcp, -1);
        got = parley_tcp_get_reset(srv.tcp, &r);
    }
    uint64_t took = now_ms() - t0;
    PT_EQ_INT(got, 1);
    PT_ERR(r.reason, PARLEY_ETIMEDOUT);
    PT_TRUE(r.conn == sc);
    printf("  idle timeout 200 ms fired after %llu ms\n",
           (unsigned long long)took);
    PT_GE_U64(took, 190);
    PT_LE_U64(took, 400);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(keepalives_keep_an_idle_pair_alive)
{
    side srv, cli;
    parley_conn c, sc;
    parley_tcp_config cfg;
    parley_tcp_config_init(&cfg);
    cfg.conn.keepalive_ms = 50;
    cfg.conn.idle_timeout_ms = 200;
    pair(&srv, &cli, &cfg, &c, &sc);
    parley_tcp_datagram dg;
    int delivered = 0;
    for (uint64_t t0 = now_ms(); now_ms() - t0 < 700;) {
        parley_tcp_wait(srv.tcp, 5);
        parley_tcp_wait(cli.tcp, 5);
        while (parley_tcp_reader_get(srv.reader, &dg) == 1 ||
               parley_tcp_reader_get(cli.reader, &dg) == 1) {
            delivered++;
            parley_tcp_datagram_release(&dg);
        }
    }
    PT_EQ_INT(delivered, 0); /* keepalives are not the app's */
    PT_EQ_INT(parley_tcp_reset_available(srv.tcp), 0);
    PT_EQ_INT(parley_tcp_reset_available(cli.tcp), 0);
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(srv.tcp, sc, &info));
    PT_GE_U64(info.datagrams_in, 5); /* ~14 keepalives in 700 ms */
    PT_EQ_U64(info.datagrams_out, 0);
    /* Without keepalives on the client, the server times it out. */
    parley_tcp_options o;
    PT_OK(parley_tcp_get_options(cli.tcp, c, &o));
    o.keepalive_ms = 0;
    o.idle_timeout_ms = 0;
    PT_OK(parley_tcp_set_options(cli.tcp, c, &o));
    parley_tcp_reset r;
    int got = 0;
    for (uint64_t t0 = now_ms(); !got && now_ms() - t0 < 2000;) {
        parley_tcp_wait(srv.tcp, 5);
        parley_tcp_wait(cli.tcp, 0);
        got = parley_tcp_get_reset(srv.tcp, &r);
    }
    PT_EQ_INT(got, 1);
    PT_ERR(r.reason, PARLEY_ETIMEDOUT);
    side_close(&cli);
    side_close(&srv);
}

/* A raw-mode server reader sees what each recv returned: the pieces. */
static int
raw_pieces(side *srv, side *cli, size_t *sizes, int cap, int ms)
{
    int n = 0;
    parley_tcp_datagram dg;
    for (uint64_t t0 = now_ms(); now_ms() - t0 < (uint64_t)ms;) {
        parley_tcp_wait(srv->tcp, 2);
        parley_tcp_poll(cli->tcp);
        while (parley_tcp_reader_get(srv->reader, &dg) == 1) {
            if (n < cap) {
                sizes[n++] = dg.len;
            }
            parley_tcp_datagram_release(&dg);
        }
    }
    return n;
}

PT_TEST(collect_batches_small_datagrams)
{
    side srv, cli;
    parley_conn c, sc;
    parley_tcp_config cfg;
    parley_tcp_config_init(&cfg);
    pair(&srv, &cli, &cfg, &c, &sc);
    parley_tcp_options o;
    PT_OK(parley_tcp_get_options(srv.tcp, sc, &o));
    o.header = PARLEY_TCP_HEADER_RAW;
    PT_OK(parley_tcp_set_options(srv.tcp, sc, &o));
    PT_OK(parley_tcp_get_options(cli.tcp, c, &o));
    PT_EQ_INT(o.nodelay, 1);
    o.collect_ms = 150;
    PT_OK(parley_tcp_set_options(cli.tcp, c, &o));

    uint64_t t0 = now_ms();
    for (int i = 0; i < 10; i++) {
        PT_OK(parley_tcp_send(cli.tcp, c, "12345", 5));
    }
    size_t sizes[16];
    /* Nothing leaves before collect_ms... */
    PT_EQ_INT(raw_pieces(&srv, &cli, sizes, 16, 80), 0);
    /* ...then all ten go in one piece of 10 * (2 + 5) bytes. */
    int n = 0;
    while (n == 0 && now_ms() - t0 < 1000) {
        n = raw_pieces(&srv, &cli, sizes, 16, 20);
    }
    uint64_t took = now_ms() - t0;
    PT_EQ_INT(n, 1);
    PT_EQ_INT(sizes[0], 70);
    PT_GE_U64(took, 140);
    PT_LE_U64(took, 400);

    /* An explicit flush sends at once. */
    PT_OK(parley_tcp_send(cli.tcp, c, "abc", 3));
    PT_OK(parley_tcp_send(cli.tcp, c, "de", 2));
    PT_OK(parley_tcp_flush(cli.tcp, c));
    n = raw_pieces(&srv, &cli, sizes, 16, 40);
    PT_EQ_INT(n, 1);
    PT_EQ_INT(sizes[0], 9);

    /* collect_bytes sends as soon as that much waits. */
    PT_OK(parley_tcp_get_options(cli.tcp, c, &o));
    o.collect_ms = 10000;
    o.collect_bytes = 20;
    PT_OK(parley_tcp_set_options(cli.tcp, c, &o));
    PT_OK(parley_tcp_send(cli.tcp, c, "0123456789", 10));
    PT_EQ_INT(raw_pieces(&srv, &cli, sizes, 16, 30), 0);
    PT_OK(parley_tcp_send(cli.tcp, c, "0123456789", 10));
    n = raw_pieces(&srv, &cli, sizes, 16, 40);
    PT_EQ_INT(n, 1);
    PT_EQ_INT(sizes[0], 24);
    side_close(&cli);
    side_close(&srv);
}

/* Gets one datagram from s's reader within 2 s; its length or -1. */
static int
get_one(side *s, side *other, uint8_t *buf, size_t cap)
{
    parley_tcp_datagram dg;
    for (uint64_t t0 = now_ms(); now_ms() - t0 < 2000;) {
        parley_tcp_wait(s->tcp, 2);
        parley_tcp_poll(other->tcp);
        if (parley_tcp_reader_get(s->reader, &dg) == 1) {
            int n = (int)dg.len;
            memcpy(buf, dg.data, dg.len < cap ? dg.len : cap);
            parley_tcp_datagram_release(&dg);
            return n;
        }
    }
    return -1;
}

PT_TEST(header_size_changes_between_datagrams)
{
    side srv, cli;
    parley_conn c, sc;
    uint8_t buf[128];
    pair(&srv, &cli, NULL, &c, &sc);
    PT_OK(parley_tcp_send(cli.tcp, c, "two", 3));
    PT_EQ_INT(get_one(&srv, &cli, buf, sizeof buf), 3);
    parley_tcp_options o;
    PT_OK(parley_tcp_get_options(cli.tcp, c, &o));
    o.header = PARLEY_TCP_HEADER_4;
    PT_OK(parley_tcp_set_options(cli.tcp, c, &o));
    PT_OK(parley_tcp_set_options(srv.tcp, sc, &o));
    PT_OK(parley_tcp_send(cli.tcp, c, "four", 4));
    PT_EQ_INT(get_one(&srv, &cli, buf, sizeof buf), 4);
    PT_EQ_MEM(buf, "four", 4);
    /* Raw on the server: it sees the 4-byte header itself. */
    o.header = PARLEY_TCP_HEADER_RAW;
    PT_OK(parley_tcp_set_options(srv.tcp, sc, &o));
    PT_OK(parley_tcp_send(cli.tcp, c, "xy", 2));
    PT_EQ_INT(get_one(&srv, &cli, buf, sizeof buf), 6);
    PT_EQ_MEM(buf, "\x02\x00\x00\x00xy", 6);
    /* And raw out: the app writes the 4-byte header itself. */
    PT_OK(parley_tcp_send(srv.tcp, sc,
                          "\x03\x00\x00\x00"
                          "abc",
                          7));
    PT_EQ_INT(get_one(&cli, &srv, buf, sizeof buf), 3);
    PT_EQ_MEM(buf, "abc", 3);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(bad_options_are_refused)
{
    side srv, cli;
    parley_conn c, sc;
    pair(&srv, &cli, NULL, &c, &sc);
    parley_tcp_options o, keep;
    PT_OK(parley_tcp_get_options(cli.tcp, c, &keep));
    o = keep;
    o.header = 3;
    PT_ERR(parley_tcp_set_options(cli.tcp, c, &o), PARLEY_EINVAL);
    o = keep;
    o.header = PARLEY_TCP_HEADER_RAW;
    o.keepalive_ms = 10;
    PT_ERR(parley_tcp_set_options(cli.tcp, c, &o), PARLEY_EINVAL);
    o = keep;
    o.max_datagram = 0;
    PT_ERR(parley_tcp_set_options(cli.tcp, c, &o), PARLEY_EINVAL);
    PT_OK(parley_tcp_get_options(cli.tcp, c, &o));
    PT_EQ_MEM(&o, &keep, sizeof o); /* nothing changed */
    PT_ERR(parley_tcp_send(cli.tcp, c, NULL, 65536), PARLEY_EINVAL);
    static uint8_t big[65536];
    PT_ERR(parley_tcp_send(cli.tcp, c, big, sizeof big), PARLEY_EMSGSIZE);
    PT_ERR(parley_tcp_send(srv.tcp, srv.rendezvous, "x", 1), PARLEY_EINVAL);
    PT_ERR(parley_tcp_reader_add(srv.reader, srv.rendezvous), PARLEY_EINVAL);
    PT_ERR(parley_tcp_listener_add(srv.listener, sc), PARLEY_EINVAL);
    side_close(&cli);
    side_close(&srv);
}

PT_MAIN(PT_RUN(idle_timeout_resets_a_silent_peer)
            PT_RUN(keepalives_keep_an_idle_pair_alive)
                PT_RUN(collect_batches_small_datagrams)
                    PT_RUN(header_size_changes_between_datagrams)
                        PT_RUN(bad_options_are_refused))
