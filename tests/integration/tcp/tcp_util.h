/*
 * Helpers for the TCP integration tests: a server (manager, rendezvous on
 * loopback port 0, listener, reader, writer) and a client side, plus
 * payloads that carry (client, sequence) so order and loss are checkable.
 */
#ifndef TCP_UTIL_H
#define TCP_UTIL_H

#include "pt.h"

#include "parley/addr.h"
#include "parley/error.h"
#include "parley/tcp.h"

typedef struct side {
    parley_tcp *tcp;
    parley_tcp_listener *listener;
    parley_tcp_reader *reader;
    parley_tcp_writer *writer;
    parley_conn rendezvous;
    uint16_t port;
} side;

/* A queue config with threads; 0 threads is polling mode. */
static inline parley_tcp_queue_config
qcfg(int threads)
{
    parley_tcp_queue_config q;
    parley_tcp_queue_config_init(&q);
    q.threads = threads;
    return q;
}

/* Manager + reader + writer; with listen_addr, a rendezvous and listener. */
static inline int
side_open(side *s, const parley_tcp_config *cfg, const char *listen_addr,
          int reader_threads, int writer_threads, int listener_threads)
{
    parley_tcp_config def;
    memset(s, 0, sizeof *s);
    if (!cfg) {
        parley_tcp_config_init(&def);
        cfg = &def;
    }
    int rc = parley_tcp_create(cfg, &s->tcp);
    parley_tcp_queue_config rq = qcfg(reader_threads);
    parley_tcp_queue_config lq = qcfg(listener_threads);
    if (rc == PARLEY_OK) {
        rc = parley_tcp_reader_create(s->tcp, &rq, &s->reader);
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_writer_create(s->tcp, writer_threads, 0, 0, &s->writer);
    }
    if (rc != PARLEY_OK || !listen_addr) {
        return rc;
    }
    rc = parley_tcp_listen(s->tcp, listen_addr, 1000, &s->rendezvous);
    if (rc == PARLEY_OK) {
        rc = parley_tcp_listener_create(s->tcp, &lq, &s->listener);
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_listener_add(s->listener, s->rendezvous);
    }
    parley_tcp_info info;
    if (rc == PARLEY_OK) {
        rc = parley_tcp_get_info(s->tcp, s->rendezvous, &info);
        s->port = info.local.port;
    }
    return rc;
}

static inline void
side_close(side *s)
{
    parley_tcp_destroy(s->tcp);
    memset(s, 0, sizeof *s);
}

/* "127.0.0.1:PORT" or "[::1]:PORT". */
static inline void
addr_text(char *buf, size_t cap, int v6, uint16_t port)
{
    snprintf(buf, cap, v6 ? "[::1]:%u" : "127.0.0.1:%u", (unsigned)port);
}

/* Accepts everything queued into the side's reader; returns how many. */
static inline int
accept_all(side *s, parley_conn *conns, int *n, int cap)
{
    parley_tcp_accept a;
    int got = 0;
    while (parley_tcp_listener_get(s->listener, &a) == 1) {
        if (parley_tcp_reader_add(s->reader, a.conn) != PARLEY_OK) {
            return -1;
        }
        if (conns && *n < cap) {
            conns[(*n)++] = a.conn;
        }
        got++;
    }
    return got;
}

/* Payload: uint16 client, uint32 seq (LE), then len filler bytes. */
static inline size_t
make_payload(uint8_t *buf, unsigned client, unsigned seq, size_t filler)
{
    buf[0] = (uint8_t)client;
    buf[1] = (uint8_t)(client >> 8);
    for (int i = 0; i < 4; i++) {
        buf[2 + i] = (uint8_t)(seq >> (8 * i));
    }
    for (size_t i = 0; i < filler; i++) {
        buf[6 + i] = (uint8_t)(client + seq + i);
    }
    return 6 + filler;
}

/* Checks a payload; gives client and seq. Returns 0 if malformed. */
static inline int
read_payload(const uint8_t *p, size_t len, unsigned *client, unsigned *seq)
{
    if (len < 6) {
        return 0;
    }
    *client = p[0] | (unsigned)p[1] << 8;
    *seq = p[2] | (unsigned)p[3] << 8 | (unsigned)p[4] << 16 |
           (unsigned)p[5] << 24;
    for (size_t i = 6; i < len; i++) {
        if (p[i] != (uint8_t)(*client + *seq + (i - 6))) {
            return 0;
        }
    }
    return 1;
}

static inline uint64_t
now_ms(void)
{
    return parley_time_us() / 1000;
}

#endif
