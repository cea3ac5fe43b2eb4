/*
 * Tests for the poller on both backends (epoll and poll) and the wakeup
 * on both backends (eventfd and pipe): UDP readiness with the user
 * pointer, timeouts, add/mod/del rules, and a wakeup from another thread
 * ending a wait that would otherwise last seconds.
 */
#include "pt.h"

#include <pthread.h>
#include <time.h>

#include "parley/parley.h"
#include "platform/platform.h"

static const pl_os_poller_backend backends[] = {PL_OS_POLLER_EPOLL,
                                                PL_OS_POLLER_POLL};
static const char *backend_names[] = {"epoll", "poll"};

/* A poller of backend b, or NULL (printed) when it is not built in. */
static pl_os_poller *
make_poller(pl_os_poller_backend b)
{
    pl_os_poller *p = NULL;
    int rc = pl_os_poller_create(b, &p);
    if (rc == PARLEY_ENOTSUP) {
        printf("  skip: poller backend %d not compiled in\n", (int)b);
        return NULL;
    }
    PT_OK(rc);
    PT_EQ_INT(pl_os_poller_backend_of(p), b);
    return p;
}

static void
open_loopback_udp(parley_udp **u, parley_addr *addr)
{
    parley_addr bind;
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 0, &bind));
    PT_OK(parley_udp_open(&bind, 0, u));
    PT_OK(parley_udp_local_addr(*u, addr));
}

static void
udp_readiness_on(pl_os_poller *p)
{
    parley_udp *rx, *tx;
    parley_addr rx_addr, tx_addr;
    int tag = 42;
    pl_os_poll_event ev[4];
    size_t got = 99;
    open_loopback_udp(&rx, &rx_addr);
    open_loopback_udp(&tx, &tx_addr);
    int fd = parley_udp_fd(rx);
    PT_OK(pl_os_poller_add(p, fd, PL_OS_POLL_IN, &tag));
    PT_OK(pl_os_poller_wait(p, 0, ev, 4, &got));
    PT_EQ_INT(got, 0); /* nothing sent yet */
    PT_OK(parley_udp_send(tx, &rx_addr, "ping", 4));
    PT_OK(pl_os_poller_wait(p, 2000, ev, 4, &got));
    PT_EQ_INT(got, 1);
    PT_EQ_INT(ev[0].fd, fd);
    PT_TRUE(ev[0].user == &tag);
    PT_TRUE(ev[0].events & PL_OS_POLL_IN);
    /* Level-triggered: still reported until read. */
    PT_OK(pl_os_poller_wait(p, 0, ev, 4, &got));
    PT_EQ_INT(got, 1);
    char buf[16];
    size_t len;
    PT_OK(parley_udp_recv(rx, buf, sizeof buf, &len, NULL));
    PT_OK(pl_os_poller_wait(p, 0, ev, 4, &got));
    PT_EQ_INT(got, 0);
    /* Writable interest through mod, with a new user pointer. */
    PT_OK(pl_os_poller_mod(p, fd, PL_OS_POLL_IN | PL_OS_POLL_OUT, buf));
    PT_OK(pl_os_poller_wait(p, 1000, ev, 4, &got));
    PT_EQ_INT(got, 1);
    PT_TRUE(ev[0].user == buf);
    PT_EQ_INT(ev[0].events & (PL_OS_POLL_IN | PL_OS_POLL_OUT), PL_OS_POLL_OUT);
    PT_OK(pl_os_poller_del(p, fd));
    PT_OK(pl_os_poller_wait(p, 0, ev, 4, &got));
    PT_EQ_INT(got, 0);
    parley_udp_close(rx);
    parley_udp_close(tx);
}

PT_TEST(udp_readiness_both_backends)
{
    for (size_t i = 0; i < 2; i++) {
        printf("  backend %s\n", backend_names[i]);
        pl_os_poller *p = make_poller(backends[i]);
        if (p) {
            udp_readiness_on(p);
            pl_os_poller_destroy(p);
        }
    }
}

PT_TEST(timeout_honoured_both_backends)
{
    for (size_t i = 0; i < 2; i++) {
        pl_os_poller *p = make_poller(backends[i]);
        if (!p) {
            continue;
        }
        parley_udp *u;
        parley_addr a;
        open_loopback_udp(&u, &a);
        PT_OK(pl_os_poller_add(p, parley_udp_fd(u), PL_OS_POLL_IN, NULL));
        pl_os_poll_event ev[2];
        size_t got = 7;
        uint64_t t0 = parley_time_us();
        PT_OK(pl_os_poller_wait(p, 120, ev, 2, &got));
        uint64_t dt = parley_time_us() - t0;
        PT_EQ_INT(got, 0);
        PT_GE_U64(dt, 110000); /* kernels round to the tick, never short */
        PT_LT_U64(dt, 1500000);
        pl_os_poller_destroy(p);
        parley_udp_close(u);
    }
}

/* A 300 us wait is kept to the microsecond, not rounded up to 1 ms, and
   never ends early; readiness still ends it at once. */
PT_TEST(microsecond_waits_both_backends)
{
    for (size_t i = 0; i < 2; i++) {
        pl_os_poller *p = make_poller(backends[i]);
        if (!p) {
            continue;
        }
        parley_udp *u;
        parley_addr a;
        open_loopback_udp(&u, &a);
        PT_OK(pl_os_poller_add(p, parley_udp_fd(u), PL_OS_POLL_IN, u));
        pl_os_poll_event ev[2];
        size_t got = 7;
        uint64_t best = UINT64_MAX;
        for (int k = 0; k < 20; k++) {
            uint64_t t0 = parley_time_us();
            PT_OK(pl_os_poller_wait_us(p, 300, ev, 2, &got));
            uint64_t dt = parley_time_us() - t0;
            PT_EQ_INT(got, 0);
            PT_GE_U64(dt, 300);
            best = dt < best ? dt : best;
        }
        printf("  %s: best 300 us wait took %llu us\n", backend_names[i],
               (unsigned long long)best);
        PT_LT_U64(best, 1000); /* a rounded-up wait takes >= 1000 */
        PT_OK(parley_udp_send(u, &a, "x", 1));
        uint64_t t0 = parley_time_us();
        PT_OK(pl_os_poller_wait_us(p, 900, ev, 2, &got));
        PT_EQ_INT(got, 1);
        PT_TRUE(ev[0].user == u);
        PT_LT_U64(parley_time_us() - t0, 900);
        pl_os_poller_destroy(p);
        parley_udp_close(u);
    }
}

PT_TEST(registration_rules_both_backends)
{
    for (size_t i = 0; i < 2; i++) {
        pl_os_poller *p = make_poller(backends[i]);
        if (!p) {
            continue;
        }
        parley_udp *u;
        parley_addr a;
        pl_os_poll_event ev[1];
        size_t got;
        open_loopback_udp(&u, &a);
        int fd = parley_udp_fd(u);
        PT_ERR(pl_os_poller_mod(p, fd, PL_OS_POLL_IN, NULL), PARLEY_ENOENT);
        PT_ERR(pl_os_poller_del(p, fd), PARLEY_ENOENT);
        PT_OK(pl_os_poller_add(p, fd, PL_OS_POLL_IN, NULL));
        PT_ERR(pl_os_poller_add(p, fd, PL_OS_POLL_IN, NULL), PARLEY_EEXIST);
        PT_ERR(pl_os_poller_add(p, -1, PL_OS_POLL_IN, NULL), PARLEY_EINVAL);
        PT_ERR(pl_os_poller_wait(p, 0, ev, 0, &got), PARLEY_EINVAL);
        PT_OK(pl_os_poller_del(p, fd));
        PT_OK(pl_os_poller_add(p, fd, PL_OS_POLL_IN, NULL)); /* again */
        pl_os_poller_destroy(p);
        parley_udp_close(u);
    }
    pl_os_poller *p = NULL;
    PT_ERR(pl_os_poller_create((pl_os_poller_backend)99, &p), PARLEY_ENOTSUP);
    PT_TRUE(p == NULL);
}

/* Many descriptors, a small out[]: every ready one is seen in turn. */
PT_TEST(small_out_array_does_not_starve)
{
    enum { K = 6 };
    for (size_t i = 0; i < 2; i++) {
        pl_os_poller *p = make_poller(backends[i]);
        if (!p) {
            continue;
        }
        pl_os_wakeup *w[K];
        int seen[K] = {0};
        for (int k = 0; k < K; k++) {
            PT_OK(pl_os_wakeup_create(PL_OS_WAKEUP_PIPE, &w[k]));
            PT_OK(pl_os_wakeup_signal(w[k]));
            PT_OK(pl_os_poller_add(p, pl_os_wakeup_fd(w[k]), PL_OS_POLL_IN,
                                   &seen[k]));
        }
        for (int round = 0; round < K; round++) {
            pl_os_poll_event ev[2];
            size_t got;
            PT_OK(pl_os_poller_wait(p, 1000, ev, 2, &got));
            PT_GT_INT(got, 0);
            for (size_t e = 0; e < got; e++) {
                ((int *)ev[e].user)[0]++;
            }
        }
        for (int k = 0; k < K; k++) {
            PT_GT_INT(seen[k], 0);
            PT_OK(pl_os_poller_del(p, pl_os_wakeup_fd(w[k])));
            pl_os_wakeup_destroy(w[k]);
        }
        pl_os_poller_destroy(p);
    }
}

typedef struct waker {
    pl_os_wakeup *w;
    int delay_ms;
} waker;

static void *
waker_main(void *arg)
{
    waker *k = arg;
    struct timespec ts = {0, (long)k->delay_ms * 1000000L};
    nanosleep(&ts, NULL);
    pl_os_wakeup_signal(k->w);
    return NULL;
}

static void
wakeup_from_thread(pl_os_poller_backend pb, pl_os_wakeup_backend wb)
{
    pl_os_poller *p = make_poller(pb);
    if (!p) {
        return;
    }
    pl_os_wakeup *w;
    int rc = pl_os_wakeup_create(wb, &w);
    if (rc == PARLEY_ENOTSUP) {
        printf("  skip: wakeup backend %d not compiled in\n", (int)wb);
        pl_os_poller_destroy(p);
        return;
    }
    PT_OK(rc);
    int fd = pl_os_wakeup_fd(w);
    PT_OK(pl_os_poller_add(p, fd, PL_OS_POLL_IN, w));
    waker k = {w, 50};
    pthread_t th;
    PT_EQ_INT(pthread_create(&th, NULL, waker_main, &k), 0);
    pl_os_poll_event ev[2];
    size_t got = 0;
    uint64_t t0 = parley_time_us();
    PT_OK(pl_os_poller_wait(p, 5000, ev, 2, &got));
    uint64_t dt = parley_time_us() - t0;
    pthread_join(th, NULL);
    PT_EQ_INT(got, 1);
    PT_TRUE(ev[0].user == w);
    PT_LT_U64(dt, 2500000); /* woken, not timed out */
    /* Several signals coalesce; drain makes it quiet again. */
    PT_OK(pl_os_wakeup_signal(w));
    PT_OK(pl_os_wakeup_signal(w));
    pl_os_wakeup_drain(w);
    PT_OK(pl_os_poller_wait(p, 0, ev, 2, &got));
    PT_EQ_INT(got, 0);
    pl_os_wakeup_destroy(w);
    pl_os_poller_destroy(p);
}

PT_TEST(wakeup_from_thread_all_combinations)
{
    static const pl_os_wakeup_backend wbs[] = {PL_OS_WAKEUP_EVENTFD,
                                               PL_OS_WAKEUP_PIPE};
    for (size_t i = 0; i < 2; i++) {
        for (size_t j = 0; j < 2; j++) {
            printf("  poller %s, wakeup %s\n", backend_names[i],
                   j == 0 ? "eventfd" : "pipe");
            wakeup_from_thread(backends[i], wbs[j]);
        }
    }
}

PT_TEST(wakeup_pipe_survives_many_signals)
{
    /* More signals than a pipe holds: the writer never blocks. */
    pl_os_wakeup *w;
    PT_OK(pl_os_wakeup_create(PL_OS_WAKEUP_PIPE, &w));
    for (int i = 0; i < 200000; i++) {
        PT_OK(pl_os_wakeup_signal(w));
    }
    pl_os_wakeup_drain(w);
    PT_ERR(pl_os_wait_fd(pl_os_wakeup_fd(w), PL_OS_POLL_IN, 0),
           PARLEY_ETIMEDOUT);
    PT_OK(pl_os_wakeup_signal(w));
    PT_OK(pl_os_wait_fd(pl_os_wakeup_fd(w), PL_OS_POLL_IN, 0));
    pl_os_wakeup_destroy(w);
}

PT_MAIN(PT_RUN(udp_readiness_both_backends)
            PT_RUN(microsecond_waits_both_backends)
                PT_RUN(timeout_honoured_both_backends)
                    PT_RUN(registration_rules_both_backends)
                        PT_RUN(small_out_array_does_not_starve)
                            PT_RUN(wakeup_from_thread_all_combinations)
                                PT_RUN(wakeup_pipe_survives_many_signals))
