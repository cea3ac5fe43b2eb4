/*
 * parley-bench's transports behind one small interface, so every workload
 * is written once and runs the same way over parley, ENet, raw UDP and
 * TCP: create a server or a client endpoint, send, service, read counters.
 */
#ifndef PARLEY_BENCH_H
#define PARLEY_BENCH_H

#include <stddef.h>
#include <stdint.h>

enum { BENCH_EV_CONNECT = 1, BENCH_EV_RECV = 2, BENCH_EV_DISCONNECT = 3 };

/* Send flags. */
enum {
    BENCH_RELIABLE = 1, /* reliable ordered, channel 0; else unreliable
                           sequenced, channel 1 */
    BENCH_FLUSH = 2     /* hand it to the socket now */
};

/* send's answers besides 0. */
#define BENCH_BUSY 1 /* the library's queue is full: service, retry */
#define BENCH_FAIL (-1)

typedef struct bench_ev {
    int type;
    uint64_t conn; /* the library's name for the connection */
    int reliable;
    const uint8_t *data;
    size_t len;
} bench_ev;

typedef void (*bench_cb)(void *user, const bench_ev *ev);

typedef struct bench_ep bench_ep;

typedef struct bench_ops {
    const char *name;
    int has_reliable;   /* can carry reliable messages */
    int has_unreliable; /* can carry unreliable messages */
    int has_conns;      /* many clients on one server */
    int (*server)(bench_ep **out, uint32_t max_conns);
    int (*client)(bench_ep **out, uint16_t port);
    uint16_t (*port)(bench_ep *ep);
    int (*send)(bench_ep *ep, uint64_t conn, const void *data, size_t len,
                int flags);
    /* Waits up to timeout_ms for the first event, then drains everything
       already there; returns the number of events, or -1. */
    int (*service)(bench_ep *ep, int timeout_ms, bench_cb cb, void *user);
    int (*fd)(bench_ep *ep);
    uint64_t (*dgrams_out)(bench_ep *ep);
    /* Extra key=value figures for the result line ("" if none). */
    void (*extra)(bench_ep *ep, char *buf, size_t cap);
    void (*destroy)(bench_ep *ep);
} bench_ops;

extern const bench_ops bench_parley_ops;
extern const bench_ops bench_enet_ops;
extern const bench_ops bench_udp_ops;
extern const bench_ops bench_tcp_ops;

uint64_t bench_now_us(void);

#endif
