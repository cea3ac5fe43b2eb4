/*
 * parley_host_service after a receive that drained the socket waits in
 * the poller without receiving first: it must still return at once for
 * a message that came before the call, wake for one that arrives during
 * the wait (sent from another thread's host), and wake for an interrupt.
 */
#include "pt.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "parley/host.h"
#include "parley/parley.h"

typedef struct pair {
    parley_host *srv, *cli;
    parley_peer to_srv;
} pair;

typedef struct later {
    pair *p;
    int interrupt; /* else send "late" from the client */
    int rc;
} later;

static double
now_ms(void)
{
    return (double)parley_time_us() / 1000.0;
}

/* Services the server until a message arrives; its length, or -1. */
static int
srv_receive(pair *p, int timeout_ms, char *out, size_t cap)
{
    double end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        parley_event ev;
        int r = parley_host_service(p->srv, (int)(end - now_ms()) + 1, &ev);
        if (r != 1) {
            return -1;
        }
        int len = -1;
        if (ev.type == PARLEY_EVENT_RECEIVE && ev.len < cap) {
            memcpy(out, ev.data, ev.len);
            len = (int)ev.len;
        }
        parley_event_release(p->srv, &ev);
        if (len >= 0) {
            return len;
        }
    }
    return -1;
}

/* The server's socket left drained: service until nothing is left. */
static void
drain_srv(pair *p)
{
    parley_event ev;
    while (parley_host_service(p->srv, 0, &ev) == 1) {
        parley_event_release(p->srv, &ev);
    }
}

static void
make_pair(pair *p)
{
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    PT_OK(parley_host_create(&cfg, &p->srv));
    cfg.accept_incoming = 0;
    PT_OK(parley_host_create(&cfg, &p->cli));
    parley_addr a;
    PT_OK(parley_host_local_addr(p->srv, &a));
    char text[64];
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)a.port);
    PT_OK(parley_host_connect(p->cli, text, NULL, 0, &p->to_srv));
    int up = 0;
    double end = now_ms() + 5000;
    while (!up && now_ms() < end) {
        parley_event ev;
        if (parley_host_service(p->cli, 1, &ev) == 1) {
            up = ev.type == PARLEY_EVENT_CONNECT;
            parley_event_release(p->cli, &ev);
        }
        drain_srv(p);
    }
    PT_TRUE(up);
}

static void *
act_later(void *arg)
{
    later *l = arg;
    usleep(150 * 1000);
    if (l->interrupt) {
        l->rc = parley_host_interrupt(l->p->srv);
    } else {
        l->rc = parley_peer_send(l->p->cli, l->p->to_srv, 0, "late", 4,
                                 PARLEY_SEND_FLUSH);
    }
    return NULL;
}

PT_TEST(drained_then_waiting)
{
    pair p;
    char buf[16];
    make_pair(&p);
    /* Sent before the call: found at once although the last receive
       drained the socket. */
    PT_OK(parley_peer_send(p.cli, p.to_srv, 0, "early", 5, PARLEY_SEND_FLUSH));
    usleep(20 * 1000);
    double t0 = now_ms();
    PT_EQ_INT(srv_receive(&p, 3000, buf, sizeof buf), 5);
    PT_EQ_MEM(buf, "early", 5);
    PT_LT_INT(now_ms() - t0, 1000);
    /* Sent during the wait, from another thread: wakes the wait. */
    drain_srv(&p);
    later l = {&p, 0, -1};
    pthread_t t;
    t0 = now_ms();
    PT_EQ_INT(pthread_create(&t, NULL, act_later, &l), 0);
    int len = srv_receive(&p, 3000, buf, sizeof buf);
    double waited = now_ms() - t0;
    pthread_join(t, NULL);
    PT_OK(l.rc);
    PT_EQ_INT(len, 4);
    PT_EQ_MEM(buf, "late", 4);
    PT_GE_INT(waited, 140);
    PT_LT_INT(waited, 1500);
    /* An interrupt wakes a drained wait too. */
    drain_srv(&p);
    later li = {&p, 1, -1};
    parley_event ev;
    t0 = now_ms();
    PT_EQ_INT(pthread_create(&t, NULL, act_later, &li), 0);
    int r = parley_host_service(p.srv, 3000, &ev);
    waited = now_ms() - t0;
    pthread_join(t, NULL);
    PT_OK(li.rc);
    PT_EQ_INT(r, 0);
    PT_GE_INT(waited, 140);
    PT_LT_INT(waited, 1500);
    parley_host_destroy(p.cli);
    parley_host_destroy(p.srv);
}

PT_MAIN(PT_RUN(drained_then_waiting))
