/*
 * Peers that misbehave: one that sends half a header and stalls, one
 * that stalls mid-body, must not delay the others (Panda3D's blocking
 * reads do); a length announcement over max_datagram gives a reset event
 * (PARLEY_EMSGSIZE) and costs no memory; other clients carry on. Both in
 * polling and threaded mode.
 */
#include "tcp_util.h"

#include "util/alloc.h"

/* A client connection whose bytes go out unframed (raw mode). */
static parley_conn
raw_client(side *cli, const char *addr)
{
    parley_conn c = PARLEY_CONN_NONE;
    parley_tcp_options o;
    if (parley_tcp_connect(cli->tcp, addr, 2000, &c) != PARLEY_OK ||
        parley_tcp_get_options(cli->tcp, c, &o) != PARLEY_OK) {
        return PARLEY_CONN_NONE;
    }
    o.header = PARLEY_TCP_HEADER_RAW;
    parley_tcp_set_options(cli->tcp, c, &o);
    return c;
}

/* Pumps until n datagrams arrived from the client whose local port is
   from_port (0: any; others are counted in *other); returns the
   milliseconds it took, or -1. */
static int
wait_datagrams(side *srv, side *cli, int n, int *other, int *got_from,
               uint16_t from_port)
{
    uint64_t t0 = now_ms();
    parley_tcp_datagram dg;
    while (*got_from < n && now_ms() - t0 < 5000) {
        parley_tcp_wait(srv->tcp, 1);
        accept_all(srv, NULL, NULL, 0);
        parley_tcp_poll(cli->tcp);
        while (parley_tcp_reader_get(srv->reader, &dg) == 1) {
            parley_tcp_info info;
            parley_tcp_get_info(srv->tcp, dg.conn, &info);
            if (from_port == 0 || info.peer.port == from_port) {
                (*got_from)++;
            } else {
                (*other)++;
            }
            parley_tcp_datagram_release(&dg);
        }
    }
    return *got_from >= n ? (int)(now_ms() - t0) : -1;
}

static uint16_t
local_port(side *s, parley_conn c)
{
    parley_tcp_info info;
    parley_tcp_get_info(s->tcp, c, &info);
    return info.local.port;
}

static void
stalled_peers(int threads)
{
    side srv, cli;
    char addr[64];
    uint8_t buf[64];
    PT_OK(side_open(&srv, NULL, "127.0.0.1:0", threads, 0, threads ? 1 : 0));
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);

    parley_conn half_hdr = raw_client(&cli, addr);
    parley_conn half_body = raw_client(&cli, addr);
    parley_conn good = PARLEY_CONN_NONE;
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &good));
    PT_TRUE(half_hdr && half_body);
    PT_OK(parley_tcp_send(cli.tcp, half_hdr, "\x05", 1));
    PT_OK(parley_tcp_send(cli.tcp, half_body,
                          "\x10\x00"
                          "abc",
                          5));

    /* 100 datagrams from the good client, one at a time: each must
       arrive at once although two peers sit on half a datagram. */
    int other = 0, got = 0;
    int worst = 0;
    for (unsigned i = 0; i < 100; i++) {
        size_t n = make_payload(buf, 1, i, 10);
        PT_OK(parley_tcp_send(cli.tcp, good, buf, n));
        int ms = wait_datagrams(&srv, &cli, (int)i + 1, &other, &got,
                                local_port(&cli, good));
        PT_GE_INT(ms, 0);
        worst = ms > worst ? ms : worst;
    }
    printf("  worst delivery with two stalled peers: %d ms\n", worst);
    PT_LT_INT(worst, 200);
    PT_EQ_INT(other, 0);

    /* The stalled peers finish later; their datagrams arrive whole. */
    got = 0;
    PT_OK(parley_tcp_send(cli.tcp, half_hdr,
                          "\x00"
                          "hello",
                          6));
    PT_GE_INT(
        wait_datagrams(&srv, &cli, 1, &other, &got, local_port(&cli, half_hdr)),
        0);
    got = 0;
    PT_OK(parley_tcp_send(cli.tcp, half_body, "defghijklmnop", 13));
    PT_GE_INT(wait_datagrams(&srv, &cli, 1, &other, &got,
                             local_port(&cli, half_body)),
              0);
    PT_EQ_INT(other, 0);
    PT_EQ_INT(parley_tcp_reset_available(srv.tcp), 0);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(stalled_half_frame_polling)
{
    stalled_peers(0);
}

PT_TEST(stalled_half_frame_threaded)
{
    stalled_peers(2);
}

/* Waits for a reset on s; returns its reason (or 1 if none came). */
static int
wait_reset(side *s, side *other, parley_tcp_reset *out)
{
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < 5000) {
        parley_tcp_wait(s->tcp, 5);
        accept_all(s, NULL, NULL, 0);
        if (other) {
            parley_tcp_poll(other->tcp);
        }
        if (parley_tcp_get_reset(s->tcp, out) == 1) {
            return out->reason;
        }
    }
    return 1;
}

static void
oversize(int threads, int header, const char *announce, size_t alen)
{
    side srv, cli;
    char addr[64];
    parley_tcp_config cfg;
    parley_tcp_config_init(&cfg);
    cfg.conn.header = header;
    cfg.conn.max_datagram = 1000;
    PT_OK(side_open(&srv, &cfg, "127.0.0.1:0", threads, 0, threads ? 1 : 0));
    PT_OK(side_open(&cli, &cfg, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);
    parley_conn good, bad = raw_client(&cli, addr);
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &good));
    PT_OK(parley_tcp_reader_add(cli.reader, bad));

    /* Let the server accept both before the bad one speaks. */
    int n = 0;
    parley_conn conns[2];
    for (uint64_t t0 = now_ms(); n < 2 && now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv.tcp, 5);
        accept_all(&srv, conns, &n, 2);
    }
    PT_EQ_INT(n, 2);
    int64_t live = pl_alloc_live();
    PT_OK(parley_tcp_send(cli.tcp, bad, announce, alen));
    parley_tcp_reset r;
    PT_ERR(wait_reset(&srv, &cli, &r), PARLEY_EMSGSIZE);
    PT_TRUE(r.conn == conns[0] || r.conn == conns[1]);
    /* The bad peer's connection is gone, and nothing grew with the
       announcement (a few small allocations at most). */
    PT_LT_INT(pl_alloc_live() - live, 8);
    parley_tcp_info info;
    PT_ERR(parley_tcp_get_info(srv.tcp, r.conn, &info), PARLEY_ENOTCONN);
    /* The client hears the close. */
    parley_tcp_reset cr;
    int why = wait_reset(&cli, &srv, &cr);
    PT_TRUE(why == PARLEY_ECLOSED || why == PARLEY_ECONNRESET);
    PT_TRUE(cr.conn == bad);

    /* The other client is unaffected. */
    uint8_t buf[32];
    size_t len = make_payload(buf, 7, 1, 5);
    PT_OK(parley_tcp_send(cli.tcp, good, buf, len));
    int other = 0, got = 0;
    PT_GE_INT(wait_datagrams(&srv, &cli, 1, &other, &got, 0), 0);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(oversize_announcement_resets_polling)
{
    oversize(0, PARLEY_TCP_HEADER_2, "\xe9\x03", 2); /* 1001 */
}

PT_TEST(oversize_announcement_resets_threaded)
{
    oversize(2, PARLEY_TCP_HEADER_4, "\xff\xff\xff\x7f", 4);
}

PT_MAIN(PT_RUN(stalled_half_frame_polling) PT_RUN(stalled_half_frame_threaded)
            PT_RUN(oversize_announcement_resets_polling)
                PT_RUN(oversize_announcement_resets_threaded))
