/*
 * The conns workload's client side: K endpoints (one host and one socket
 * each, for every library alike) in one process, all connecting at once,
 * then each sending 10 reliable 64-byte messages a second, spread evenly
 * in time (split over several processes past the open-files limit);
 * endpoints with incoming data are found with epoll and every
 * endpoint is serviced at least every 100 ms for its timers.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_work.h"

#define RATE 10 /* messages per second per client */
#define MSG_LEN 64
#define DRAIN_US 2000000u
#define PER_CLIENT_FDS 3
#define MAX_WORKERS 16

typedef struct conns_state {
    uint64_t connected, disconnected;
} conns_state;

static void
conns_cb(void *user, const bench_ev *ev)
{
    conns_state *s = user;
    if (ev->type == BENCH_EV_CONNECT) {
        s->connected++;
    } else if (ev->type == BENCH_EV_DISCONNECT) {
        s->disconnected++;
    }
}

/* Services the endpoints epoll says have input, waiting up to wait_ms. */
static int
service_ready(const bench_params *p, int epfd, bench_ep **eps, conns_state *s,
              int wait_ms)
{
    struct epoll_event evs[256];
    int n = epoll_wait(epfd, evs, 256, wait_ms);
    for (int i = 0; i < n; i++) {
        if (p->ops->service(eps[evs[i].data.u32], 0, conns_cb, s) < 0) {
            return -1;
        }
    }
    return 0;
}

static void
service_all(const bench_params *p, bench_ep **eps, conns_state *s)
{
    for (uint64_t i = 0; i < p->k; i++) {
        (void)p->ops->service(eps[i], 0, conns_cb, s);
    }
}

static int
open_all(const bench_params *p, uint16_t port, bench_ep **eps, int epfd)
{
    for (uint64_t i = 0; i < p->k; i++) {
        if (p->ops->client(&eps[i], port) != 0) {
            fprintf(stderr,
                    "parley-bench: conns: client %llu of %llu failed "
                    "(open files limit?)\n",
                    (unsigned long long)i + 1, (unsigned long long)p->k);
            return -1;
        }
        struct epoll_event ev = {EPOLLIN, {.u32 = (uint32_t)i}};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, p->ops->fd(eps[i]), &ev) != 0) {
            perror("parley-bench: epoll_ctl");
            p->ops->destroy(eps[i]);
            eps[i] = NULL;
            return -1;
        }
    }
    return 0;
}

/* Sends for p->secs seconds; returns the number of messages sent. */
static uint64_t
send_phase(const bench_params *p, int epfd, bench_ep **eps, conns_state *s)
{
    uint8_t msg[MSG_LEN] = {'D'};
    uint64_t start = bench_now_us(), end = start + p->secs * 1000000u;
    uint64_t total = p->k * RATE * p->secs, sent = 0, failed = 0;
    uint64_t now;
    while ((now = bench_now_us()) < end && sent < total) {
        uint64_t target = (now - start) * p->k * RATE / 1000000u;
        while (sent < target && sent < total) {
            bench_ep *ep = eps[sent % p->k];
            memcpy(msg + 1, &sent, sizeof sent);
            if (p->ops->send(ep, 0, msg, sizeof msg, BENCH_RELIABLE) != 0) {
                failed++;
            }
            (void)p->ops->service(ep, 0, conns_cb, s);
            sent++;
        }
        if (service_ready(p, epfd, eps, s, 1) != 0) {
            break;
        }
    }
    if (failed > 0) {
        fprintf(stderr, "parley-bench: conns: %llu sends refused\n",
                (unsigned long long)failed);
    }
    return sent - failed;
}

static void
report(const bench_params *p, bench_child *srv, uint64_t connected,
       double connect_ms, uint64_t sent, double cli_cpu_pct)
{
    char line[512];
    double recv = 0, scpu = 0, swall = 0, rss = 0, idle = 0;
    if (bench_server_report(srv, line, sizeof line) != 0 ||
        bench_kv(line, "recv", &recv) || bench_kv(line, "cpu_us", &scpu) ||
        bench_kv(line, "wall_us", &swall) || bench_kv(line, "rss_kb", &rss) ||
        bench_kv(line, "idle_kb", &idle)) {
        fprintf(stderr, "parley-bench: no report from the server\n");
        printf("%s k=%llu error=no_report\n", p->label,
               (unsigned long long)p->k);
        return;
    }
    printf("%s k=%llu connected=%llu connect_ms=%.1f sent=%llu "
           "delivered=%.0f delivered_pct=%.3f srv_cpu_pct=%.1f "
           "srv_us_per_msg=%.2f srv_rss_kb=%.0f idle_kb_per_conn=%.2f "
           "cli_cpu_pct=%.0f\n",
           p->label, (unsigned long long)p->k, (unsigned long long)connected,
           connect_ms, (unsigned long long)sent, recv,
           sent ? 100.0 * recv / (double)sent : 0.0,
           swall > 0 ? 100.0 * scpu / swall : 0.0, recv > 0 ? scpu / recv : 0.0,
           rss, idle / (double)p->k, cli_cpu_pct);
}

typedef struct slice_result {
    uint64_t connected, sent, cpu_us, wall_us;
    double connect_ms;
    int ok;
} slice_result;

/* One process's share of the clients: p->k of them, connected, sending,
   drained. */
static void
run_slice(const bench_params *p, uint16_t port, slice_result *r)
{
    bench_ep **eps = calloc(p->k, sizeof *eps);
    int epfd = epoll_create1(0);
    conns_state s = {0, 0};
    memset(r, 0, sizeof *r);
    if (eps == NULL || epfd < 0) {
        goto out;
    }
    uint64_t t0 = bench_now_us();
    if (open_all(p, port, eps, epfd) != 0) {
        goto out;
    }
    uint64_t last_all = 0, limit = t0 + 20000000u;
    while (s.connected < p->k && bench_now_us() < limit) {
        if (bench_now_us() - last_all > 100000u) {
            service_all(p, eps, &s);
            last_all = bench_now_us();
        }
        if (service_ready(p, epfd, eps, &s, 2) != 0) {
            goto out;
        }
    }
    r->connect_ms = (double)(bench_now_us() - t0) / 1000.0;
    r->connected = s.connected;
    uint64_t cpu0 = bench_cpu_us(), w0 = bench_now_us();
    r->sent = send_phase(p, epfd, eps, &s);
    uint64_t drain_end = bench_now_us() + DRAIN_US;
    while (bench_now_us() < drain_end) {
        if (bench_now_us() - last_all > 100000u) {
            service_all(p, eps, &s);
            last_all = bench_now_us();
        }
        (void)service_ready(p, epfd, eps, &s, 5);
    }
    r->cpu_us = bench_cpu_us() - cpu0;
    r->wall_us = bench_now_us() - w0;
    r->ok = 1;
out:
    if (eps != NULL) {
        for (uint64_t i = 0; i < p->k; i++) {
            if (eps[i] != NULL) {
                p->ops->destroy(eps[i]);
            }
        }
        free(eps);
    }
    if (epfd >= 0) {
        close(epfd);
    }
}

/* Runs a slice in a child process; its result comes back on a pipe. */
static int
fork_slice(const bench_params *p, uint16_t port, pid_t *pid, int *fd)
{
    int pf[2];
    if (pipe(pf) != 0) {
        return -1;
    }
    *pid = fork();
    if (*pid < 0) {
        close(pf[0]);
        close(pf[1]);
        return -1;
    }
    if (*pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(pf[0]);
        slice_result r;
        run_slice(p, port, &r);
        ssize_t w = write(pf[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(pf[1]);
    *fd = pf[0];
    return 0;
}

int
bench_conns(const bench_params *p, uint16_t port, bench_child *srv)
{
    /* Each client holds up to PER_CLIENT_FDS descriptors (parley: socket,
       epoll, eventfd); beyond one process's open-files limit the clients
       are split over several processes, the same way for every library. */
    bench_raise_nofile(p->k * PER_CLIENT_FDS + 256);
    struct rlimit rl;
    uint64_t cap = 1000;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 512) {
        cap = (rl.rlim_cur - 256) / PER_CLIENT_FDS;
    }
    uint64_t workers = (p->k + cap - 1) / cap;
    if (workers > MAX_WORKERS) {
        fprintf(stderr, "parley-bench: conns: too many clients for the "
                        "open-files limit\n");
        return -1;
    }
    slice_result total;
    memset(&total, 0, sizeof total);
    total.ok = 1;
    if (workers <= 1) {
        run_slice(p, port, &total);
    } else {
        pid_t pids[MAX_WORKERS];
        int fds[MAX_WORKERS];
        uint64_t n = 0;
        for (uint64_t w = 0; w < workers; w++) {
            bench_params sp = *p;
            sp.k = p->k / workers + (w < p->k % workers);
            n += sp.k;
            if (fork_slice(&sp, port, &pids[w], &fds[w]) != 0) {
                return -1;
            }
        }
        for (uint64_t w = 0; w < workers; w++) {
            slice_result r;
            int st;
            if (read(fds[w], &r, sizeof r) != (ssize_t)sizeof r) {
                memset(&r, 0, sizeof r);
            }
            close(fds[w]);
            waitpid(pids[w], &st, 0);
            total.ok &= r.ok;
            total.connected += r.connected;
            total.sent += r.sent;
            total.cpu_us += r.cpu_us;
            total.wall_us =
                r.wall_us > total.wall_us ? r.wall_us : total.wall_us;
            if (r.connect_ms > total.connect_ms) {
                total.connect_ms = r.connect_ms;
            }
        }
        (void)n;
    }
    if (!total.ok) {
        return -1;
    }
    report(p, srv, total.connected, total.connect_ms, total.sent,
           total.wall_us ? 100.0 * (double)total.cpu_us / (double)total.wall_us
                         : 0.0);
    return 0;
}
