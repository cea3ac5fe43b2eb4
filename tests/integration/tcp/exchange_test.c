/*
 * 1,000 datagrams between a listener and 50 clients over loopback, in
 * polling mode and in threaded mode (threaded listener, readers and
 * writers on both sides), with 2- and 4-byte headers and IPv6: every
 * datagram arrives, intact, in order per connection, and is echoed back
 * the same way.
 */
#include "tcp_util.h"

#define CLIENTS 50
#define PER_CLIENT 20
#define TOTAL (CLIENTS * PER_CLIENT)

typedef struct run {
    side srv, cli;
    parley_conn cconn[CLIENTS]; /* client side, by client index */
    parley_conn sconn[CLIENTS]; /* server side, learned from payloads */
    unsigned snext[CLIENTS], cnext[CLIENTS];
    int sgot, cgot, bad;
    int threads;
} run;

/* Sends, pumping both sides while a threaded writer's queue is full. */
static int
send_retry(run *r, side *s, parley_conn c, const uint8_t *p, size_t len)
{
    uint64_t until = now_ms() + 5000;
    for (;;) {
        int rc = parley_tcp_writer_send(s->writer, c, p, len);
        if (rc != PARLEY_ENOBUFS || now_ms() > until) {
            return rc;
        }
        parley_tcp_wait(r->srv.tcp, 1);
        parley_tcp_wait(r->cli.tcp, 1);
    }
}

static void
serve(run *r)
{
    parley_tcp_datagram dg;
    accept_all(&r->srv, NULL, NULL, 0);
    while (parley_tcp_reader_get(r->srv.reader, &dg) == 1) {
        unsigned c, seq;
        if (!read_payload(dg.data, dg.len, &c, &seq) || c >= CLIENTS) {
            r->bad++;
        } else {
            if (r->sconn[c] == PARLEY_CONN_NONE) {
                r->sconn[c] = dg.conn;
            }
            r->bad += r->sconn[c] != dg.conn || seq != r->snext[c];
            r->snext[c] = seq + 1;
            r->sgot++;
            r->bad += send_retry(r, &r->srv, dg.conn, dg.data, dg.len) != 0;
        }
        parley_tcp_datagram_release(&dg);
    }
}

static void
collect(run *r)
{
    parley_tcp_datagram dg;
    while (parley_tcp_reader_get(r->cli.reader, &dg) == 1) {
        unsigned c, seq;
        if (!read_payload(dg.data, dg.len, &c, &seq) || c >= CLIENTS) {
            r->bad++;
        } else {
            r->bad += r->cconn[c] != dg.conn || seq != r->cnext[c];
            r->cnext[c] = seq + 1;
            r->cgot++;
        }
        parley_tcp_datagram_release(&dg);
    }
}

static void
exchange(int threads, int header, int v6)
{
    static run r;
    char addr[64];
    uint8_t buf[512];
    parley_tcp_config cfg;
    memset(&r, 0, sizeof r);
    r.threads = threads;
    parley_tcp_config_init(&cfg);
    cfg.conn.header = header;
    PT_OK(side_open(&r.srv, &cfg, v6 ? "[::1]:0" : "127.0.0.1:0", threads,
                    threads, threads ? 1 : 0));
    PT_OK(side_open(&r.cli, &cfg, NULL, threads, threads, 0));
    addr_text(addr, sizeof addr, v6, r.srv.port);
    for (int i = 0; i < CLIENTS; i++) {
        PT_OK(parley_tcp_connect(r.cli.tcp, addr, 2000, &r.cconn[i]));
        PT_OK(parley_tcp_reader_add(r.cli.reader, r.cconn[i]));
    }
    for (unsigned seq = 0; seq < PER_CLIENT; seq++) {
        for (unsigned i = 0; i < CLIENTS; i++) {
            size_t n = make_payload(buf, i, seq, (i * 7 + seq * 13) % 300);
            PT_OK(send_retry(&r, &r.cli, r.cconn[i], buf, n));
        }
    }
    uint64_t until = now_ms() + 15000;
    while ((r.sgot < TOTAL || r.cgot < TOTAL) && now_ms() < until && !r.bad) {
        parley_tcp_wait(r.srv.tcp, threads ? 2 : 0);
        serve(&r);
        parley_tcp_wait(r.cli.tcp, threads ? 2 : 1);
        collect(&r);
    }
    PT_EQ_INT(r.bad, 0);
    PT_EQ_INT(r.sgot, TOTAL);
    PT_EQ_INT(r.cgot, TOTAL);
    for (int i = 0; i < CLIENTS; i++) {
        PT_EQ_INT(r.snext[i], PER_CLIENT);
        PT_EQ_INT(r.cnext[i], PER_CLIENT);
    }
    PT_EQ_INT(parley_tcp_reset_available(r.srv.tcp), 0);
    PT_EQ_INT(parley_tcp_reset_available(r.cli.tcp), 0);
    side_close(&r.srv);
    side_close(&r.cli);
}

PT_TEST(polling_mode_50_clients)
{
    exchange(0, PARLEY_TCP_HEADER_2, 0);
}

PT_TEST(threaded_mode_50_clients)
{
    exchange(2, PARLEY_TCP_HEADER_2, 0);
}

PT_TEST(polling_mode_4_byte_header_ipv6)
{
    exchange(0, PARLEY_TCP_HEADER_4, 1);
}

PT_TEST(threaded_mode_4_byte_header)
{
    exchange(3, PARLEY_TCP_HEADER_4, 0);
}

PT_MAIN(PT_RUN(polling_mode_50_clients) PT_RUN(threaded_mode_50_clients)
            PT_RUN(polling_mode_4_byte_header_ipv6)
                PT_RUN(threaded_mode_4_byte_header))
