/*
 * Back-pressure, never silent loss: a full reader queue pauses the
 * connection (TCP slows the sender) and loses nothing, in polling and
 * threaded mode; a full threaded writer queue and a full per-connection
 * output buffer are reported to the caller (PARLEY_ENOBUFS) and every
 * datagram accepted arrives in order; a latest-only reader keeps the
 * newest datagram and counts the ones it replaced.
 */
#include "tcp_util.h"

static void
pair(side *srv, side *cli, const parley_tcp_queue_config *rq, int wthreads,
     parley_conn *c, parley_conn *sc, int add_server)
{
    char addr[64];
    parley_tcp_config cfg;
    parley_tcp_config_init(&cfg);
    PT_OK(parley_tcp_create(&cfg, &srv->tcp));
    PT_OK(parley_tcp_reader_create(srv->tcp, rq, &srv->reader));
    PT_OK(parley_tcp_listen(srv->tcp, "127.0.0.1:0", 4, &srv->rendezvous));
    PT_OK(parley_tcp_listener_create(srv->tcp, NULL, &srv->listener));
    PT_OK(parley_tcp_listener_add(srv->listener, srv->rendezvous));
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(srv->tcp, srv->rendezvous, &info));
    PT_OK(side_open(cli, NULL, NULL, 0, wthreads, 0));
    addr_text(addr, sizeof addr, 0, info.local.port);
    PT_OK(parley_tcp_connect(cli->tcp, addr, 2000, c));
    parley_tcp_accept a;
    int got = 0;
    for (uint64_t t0 = now_ms(); !got && now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv->tcp, 2);
        got = parley_tcp_listener_get(srv->listener, &a);
    }
    PT_EQ_INT(got, 1);
    *sc = a.conn;
    if (add_server) {
        PT_OK(parley_tcp_reader_add(srv->reader, *sc));
    }
}

/* Reads everything; checks seq order from 0; returns the count. */
static int
drain_in_order(side *srv, side *cli, int want, int *bad)
{
    int got = 0;
    parley_tcp_datagram dg;
    for (uint64_t t0 = now_ms(); got < want && now_ms() - t0 < 10000;) {
        parley_tcp_wait(srv->tcp, 2);
        parley_tcp_poll(cli->tcp);
        while (parley_tcp_reader_get(srv->reader, &dg) == 1) {
            unsigned c, seq;
            *bad += !read_payload(dg.data, dg.len, &c, &seq) ||
                    seq != (unsigned)got;
            got++;
            parley_tcp_datagram_release(&dg);
        }
    }
    return got;
}

static void
full_reader(int threads)
{
    side srv, cli;
    parley_conn c, sc;
    uint8_t buf[256];
    parley_tcp_queue_config rq = qcfg(threads);
    rq.max_items = 4;
    pair(&srv, &cli, &rq, 0, &c, &sc, 1);
    for (unsigned i = 0; i < 300; i++) {
        size_t n = make_payload(buf, 0, i, 100);
        PT_OK(parley_tcp_send(cli.tcp, c, buf, n));
    }
    /* Pump without taking anything: the queue stays at its limit. */
    for (uint64_t t0 = now_ms(); now_ms() - t0 < 150;) {
        parley_tcp_wait(srv.tcp, 2);
        parley_tcp_poll(cli.tcp);
    }
    parley_tcp_reader_stats st;
    PT_OK(parley_tcp_reader_get_stats(srv.reader, &st));
    PT_EQ_U64(st.queued, 4);
    PT_GE_U64(st.full, 1);
    int bad = 0;
    PT_EQ_INT(drain_in_order(&srv, &cli, 300, &bad), 300);
    PT_EQ_INT(bad, 0);
    PT_OK(parley_tcp_reader_get_stats(srv.reader, &st));
    PT_EQ_U64(st.delivered, 300);
    PT_EQ_INT(parley_tcp_reset_available(srv.tcp), 0);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(full_reader_queue_loses_nothing_polling)
{
    full_reader(0);
}

PT_TEST(full_reader_queue_loses_nothing_threaded)
{
    full_reader(2);
}

PT_TEST(full_writer_queue_is_reported)
{
    side srv, cli;
    parley_conn c, sc;
    uint8_t buf[64];
    parley_tcp_queue_config rq = qcfg(0);
    pair(&srv, &cli, &rq, 0, &c, &sc, 1);
    parley_tcp_writer *w;
    PT_OK(parley_tcp_writer_create(cli.tcp, 1, 4, 0, &w));
    unsigned accepted = 0;
    int refused = 0;
    for (int i = 0; i < 20000 && accepted < 3000; i++) {
        size_t n = make_payload(buf, 0, accepted, 20);
        int rc = parley_tcp_writer_send(w, c, buf, n);
        if (rc == PARLEY_OK) {
            accepted++;
        } else {
            PT_ERR(rc, PARLEY_ENOBUFS);
            refused++;
        }
    }
    printf("  writer queue of 4: %u accepted, %d refused\n", accepted, refused);
    PT_GT_INT(refused, 0);
    int bad = 0;
    PT_EQ_INT(drain_in_order(&srv, &cli, (int)accepted, &bad), accepted);
    PT_EQ_INT(bad, 0);
    parley_tcp_writer_destroy(w);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(full_output_buffer_is_reported)
{
    side srv, cli;
    parley_conn c, sc;
    static uint8_t buf[1100];
    parley_tcp_queue_config rq = qcfg(0);
    pair(&srv, &cli, &rq, 0, &c, &sc, 0); /* the server does not read */
    parley_tcp_options o;
    PT_OK(parley_tcp_get_options(cli.tcp, c, &o));
    o.max_out_bytes = 64 << 10;
    PT_OK(parley_tcp_set_options(cli.tcp, c, &o));
    unsigned sent = 0;
    int rc = PARLEY_OK;
    while (sent < 200000) {
        size_t n = make_payload(buf, 0, sent, 1000);
        rc = parley_tcp_send(cli.tcp, c, buf, n);
        if (rc != PARLEY_OK) {
            break;
        }
        sent++;
    }
    PT_ERR(rc, PARLEY_ENOBUFS);
    parley_tcp_info info;
    PT_OK(parley_tcp_get_info(cli.tcp, c, &info));
    PT_LE_U64(info.out_queued, 64 << 10);
    printf("  %u datagrams before ENOBUFS (kernel buffers + 64 KiB)\n", sent);
    /* Now the server reads: all of them arrive, in order. */
    PT_OK(parley_tcp_reader_add(srv.reader, sc));
    int bad = 0;
    PT_EQ_INT(drain_in_order(&srv, &cli, (int)sent, &bad), sent);
    PT_EQ_INT(bad, 0);
    PT_OK(parley_tcp_get_info(cli.tcp, c, &info));
    PT_EQ_U64(info.out_queued, 0);
    side_close(&cli);
    side_close(&srv);
}

static void
latest_only(int threads)
{
    side srv, cli;
    parley_conn c, sc;
    uint8_t buf[64];
    parley_tcp_queue_config rq = qcfg(threads);
    rq.latest_only = 1;
    pair(&srv, &cli, &rq, 0, &c, &sc, 1);
    for (unsigned i = 0; i < 100; i++) {
        size_t n = make_payload(buf, 0, i, 8);
        PT_OK(parley_tcp_send(cli.tcp, c, buf, n));
    }
    parley_tcp_info info;
    for (uint64_t t0 = now_ms(); now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv.tcp, 2);
        PT_OK(parley_tcp_get_info(srv.tcp, sc, &info));
        if (info.datagrams_in == 100) {
            break;
        }
    }
    PT_EQ_U64(info.datagrams_in, 100);
    parley_tcp_datagram dg;
    unsigned who, seq;
    PT_EQ_INT(parley_tcp_reader_get(srv.reader, &dg), 1);
    PT_TRUE(read_payload(dg.data, dg.len, &who, &seq));
    PT_EQ_INT(seq, 99);
    parley_tcp_datagram_release(&dg);
    PT_EQ_INT(parley_tcp_reader_get(srv.reader, &dg), 0);
    parley_tcp_reader_stats st;
    PT_OK(parley_tcp_reader_get_stats(srv.reader, &st));
    PT_EQ_U64(st.replaced, 99);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(latest_only_reader_polling)
{
    latest_only(0);
}

PT_TEST(latest_only_reader_threaded)
{
    latest_only(1);
}

PT_MAIN(PT_RUN(full_reader_queue_loses_nothing_polling)
            PT_RUN(full_reader_queue_loses_nothing_threaded)
                PT_RUN(full_writer_queue_is_reported)
                    PT_RUN(full_output_buffer_is_reported)
                        PT_RUN(latest_only_reader_polling)
                            PT_RUN(latest_only_reader_threaded))
