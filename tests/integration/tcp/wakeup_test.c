/*
 * Waiting costs no CPU: the wake-up descriptor becomes readable when a
 * threaded reader queues a datagram or a polled connection has input
 * (for the app's own poll loop);
 * parley_tcp_wait sleeps with idle connections in polling and threaded
 * mode; parley_tcp_interrupt ends a wait from another thread.
 */
#include "tcp_util.h"

#include <poll.h>
#include <pthread.h>
#include <time.h>

static double
cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A server with n idle clients accepted into its reader. */
static void
idle_pair(side *srv, side *cli, int threads, int n)
{
    char addr[64];
    PT_OK(side_open(srv, NULL, "127.0.0.1:0", threads, 0, threads ? 1 : 0));
    PT_OK(side_open(cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv->port);
    for (int i = 0; i < n; i++) {
        parley_conn c;
        PT_OK(parley_tcp_connect(cli->tcp, addr, 2000, &c));
        PT_OK(parley_tcp_reader_add(cli->reader, c));
    }
    int got = 0;
    for (uint64_t t0 = now_ms(); got < n && now_ms() - t0 < 3000;) {
        parley_tcp_wait(srv->tcp, 2);
        int k = accept_all(srv, NULL, NULL, 0);
        got += k > 0 ? k : 0;
    }
    PT_EQ_INT(got, n);
}

/* threads 0: the listener and reader are served in polling mode, and the
   fd is the manager's epoll descriptor; 1: a threaded listener and reader
   signal it. Either way the app's loop sleeps on it alone. */
static void
fd_wakes(int threads)
{
    side srv, cli;
    char addr[64];
    parley_conn c;
    PT_OK(side_open(&srv, NULL, "127.0.0.1:0", threads, 0, threads));
    PT_OK(side_open(&cli, NULL, NULL, 0, 0, 0));
    addr_text(addr, sizeof addr, 0, srv.port);
    int fd = parley_tcp_fd(srv.tcp);
    PT_GE_INT(fd, 0);
    PT_OK(parley_tcp_connect(cli.tcp, addr, 2000, &c));

    /* The app's loop: sleep on the fd, then poll (which clears it) and
       empty the queues; the threaded listener's new connection and the
       reader's datagram each end such a sleep. */
    parley_tcp_accept a;
    int got = 0, wakes = 0;
    for (uint64_t t0 = now_ms(); !got && now_ms() - t0 < 2000;) {
        struct pollfd p = {fd, POLLIN, 0};
        wakes += poll(&p, 1, 2000) == 1;
        parley_tcp_poll(srv.tcp);
        got = parley_tcp_listener_get(srv.listener, &a);
    }
    PT_EQ_INT(got, 1);
    PT_GE_INT(wakes, 1);
    PT_OK(parley_tcp_reader_add(srv.reader, a.conn));
    /* Handing a connection to the reader may itself wake the loop once;
       after a poll with nothing pending the fd must be quiet. */
    parley_tcp_poll(srv.tcp);
    struct pollfd p = {fd, POLLIN, 0};
    PT_EQ_INT(poll(&p, 1, 0), 0); /* cleared, nothing new */

    uint64_t t0 = now_ms();
    PT_OK(parley_tcp_send(cli.tcp, c, "ping", 4));
    parley_tcp_datagram dg;
    got = 0;
    while (!got && now_ms() - t0 < 2000) {
        PT_EQ_INT(poll(&p, 1, 2000), 1);
        parley_tcp_poll(srv.tcp);
        got = parley_tcp_reader_get(srv.reader, &dg);
    }
    PT_EQ_INT(got, 1);
    PT_LT_U64(now_ms() - t0, 500);
    PT_EQ_INT(dg.len, 4);
    parley_tcp_datagram_release(&dg);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(fd_wakes_the_apps_own_loop_threaded)
{
    fd_wakes(1);
}

PT_TEST(fd_wakes_the_apps_own_loop_polling)
{
    fd_wakes(0);
}

static void
idle_costs_nothing(int threads)
{
    side srv, cli;
    idle_pair(&srv, &cli, threads, 20);
    double c0 = cpu_ms();
    uint64_t t0 = now_ms();
    PT_EQ_INT(parley_tcp_wait(srv.tcp, 400), 0);
    uint64_t took = now_ms() - t0;
    double used = cpu_ms() - c0;
    printf("  %s: 400 ms idle wait, 20 connections: %.2f ms CPU\n",
           threads ? "threaded" : "polling", used);
    PT_GE_U64(took, 395);
    PT_LT_U64(took, 600);
    PT_LT_INT((int)used, 20);
    side_close(&cli);
    side_close(&srv);
}

PT_TEST(idle_wait_costs_no_cpu_polling)
{
    idle_costs_nothing(0);
}

PT_TEST(idle_wait_costs_no_cpu_threaded)
{
    idle_costs_nothing(2);
}

static void *
interrupter(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    parley_tcp_interrupt(arg);
    return NULL;
}

PT_TEST(interrupt_ends_a_wait)
{
    side srv;
    pthread_t t;
    PT_OK(side_open(&srv, NULL, "127.0.0.1:0", 0, 0, 0));
    uint64_t t0 = now_ms();
    PT_EQ_INT(pthread_create(&t, NULL, interrupter, srv.tcp), 0);
    PT_EQ_INT(parley_tcp_wait(srv.tcp, -1), 0);
    pthread_join(t, NULL);
    uint64_t took = now_ms() - t0;
    PT_GE_U64(took, 45);
    PT_LT_U64(took, 1000);
    side_close(&srv);
}

PT_MAIN(PT_RUN(fd_wakes_the_apps_own_loop_threaded)
            PT_RUN(fd_wakes_the_apps_own_loop_polling)
                PT_RUN(idle_wait_costs_no_cpu_polling)
                    PT_RUN(idle_wait_costs_no_cpu_threaded)
                        PT_RUN(interrupt_ends_a_wait))
