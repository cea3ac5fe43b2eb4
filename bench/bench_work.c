/*
 * parley-bench's workloads, written once over bench.h: the server role
 * (echo, count, report one "srv ..." line on standard output) and the
 * client side of rtt, small, bulk and conns, each printing one
 * machine-readable result line.
 */
#include "bench_work.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench_proc.h"

static volatile sig_atomic_t stop_flag;

static void
on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* ---- server ---- */

typedef struct srv_state {
    const bench_params *p;
    bench_ep *ep;
    uint64_t recv, bytes, t_first, t_last, cpu_first, conns;
    uint64_t t_end_seen, t_done, cpu_done;
    uint64_t reply_conn;
    long rss0, rss_idle;
    int end_seen, done, failed;
} srv_state;

static void
srv_finish(srv_state *s)
{
    uint8_t f[8] = {'F'};
    const bench_ops *o = s->p->ops;
    int fl = (o->has_reliable ? BENCH_RELIABLE : 0) | BENCH_FLUSH;
    if (o->send(s->ep, s->reply_conn, f, sizeof f, fl) != 0) {
        s->failed = 1;
    }
    if (!s->done) {
        s->done = 1;
        s->t_done = bench_now_us();
        s->cpu_done = bench_cpu_us();
    }
}

static void
srv_print(srv_state *s)
{
    uint64_t now = bench_now_us(), cpu = bench_cpu_us();
    if (!s->done) {
        s->t_done = now;
        s->cpu_done = cpu;
    }
    uint64_t wall = s->t_done > s->t_first ? s->t_done - s->t_first : 0;
    uint64_t cpu_used = s->cpu_done - s->cpu_first;
    long idle_kb = 0;
    if (s->p->k > 0 && s->rss_idle > s->rss0) {
        idle_kb = s->rss_idle - s->rss0;
    }
    printf("srv recv=%llu bytes=%llu t_first=%llu t_last=%llu cpu_us=%llu "
           "wall_us=%llu conns=%llu rss_kb=%ld idle_kb=%ld failed=%d\n",
           (unsigned long long)s->recv, (unsigned long long)s->bytes,
           (unsigned long long)s->t_first, (unsigned long long)s->t_last,
           (unsigned long long)cpu_used, (unsigned long long)wall,
           (unsigned long long)s->conns, bench_rss_kb(), idle_kb, s->failed);
    fflush(stdout);
}

static void
srv_cb(void *user, const bench_ev *ev)
{
    srv_state *s = user;
    const bench_params *p = s->p;
    if (ev->type == BENCH_EV_CONNECT) {
        s->conns++;
        /* From the first connection until all are in (when that never
           happens, the figures still cover the whole run). */
        if (p->is_conns && (s->conns == 1 || s->conns == p->k)) {
            s->rss_idle = s->conns == p->k ? bench_rss_kb() : 0;
            s->t_first = bench_now_us();
            s->cpu_first = bench_cpu_us();
        }
        return;
    }
    if (ev->type != BENCH_EV_RECV || ev->len == 0) {
        return;
    }
    if (p->is_rtt) {
        int fl = (ev->reliable ? BENCH_RELIABLE : 0) | BENCH_FLUSH;
        if (p->ops->send(s->ep, ev->conn, ev->data, ev->len, fl) != 0) {
            s->failed = 1;
        }
        s->recv++;
        return;
    }
    uint64_t now = bench_now_us();
    if (ev->data[0] == 'D') {
        if (s->recv == 0 && !p->is_conns) {
            s->t_first = now;
            s->cpu_first = bench_cpu_us();
        }
        s->recv++;
        s->bytes += ev->len;
        s->t_last = now;
        s->reply_conn = ev->conn;
        if (!s->done && ((p->is_small && p->reliable && s->recv == p->n) ||
                         (p->is_bulk && s->bytes >= p->bytes))) {
            srv_finish(s);
            srv_print(s);
        }
    } else if (ev->data[0] == 'E') {
        s->reply_conn = ev->conn;
        if (s->done) {
            srv_finish(s); /* raw UDP: the client asks again */
        } else if (!s->end_seen) {
            s->end_seen = 1;
            s->t_end_seen = now;
        }
    }
}

int
bench_serve(const bench_params *p)
{
    srv_state s;
    memset(&s, 0, sizeof s);
    s.p = p;
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    if (p->is_conns) {
        bench_raise_nofile(p->k + 256);
    }
    s.rss0 = bench_rss_kb();
    if (p->ops->server(&s.ep, p->is_conns ? (uint32_t)p->k : 4) != 0) {
        fprintf(stderr, "parley-bench: %s server failed\n", p->ops->name);
        return 1;
    }
    printf("port=%u\n", (unsigned)p->ops->port(s.ep));
    fflush(stdout);
    while (!stop_flag) {
        if (p->ops->service(s.ep, 5, srv_cb, &s) < 0) {
            s.failed = 1;
            break;
        }
        if (s.end_seen && !s.done && bench_now_us() - s.t_end_seen > 20000) {
            srv_finish(&s);
            srv_print(&s);
        }
    }
    if (!s.done) {
        srv_print(&s);
    }
    p->ops->destroy(s.ep);
    return 0;
}

/* ---- client ---- */

typedef struct cli_state {
    const bench_params *p;
    int connected, disconnected;
    uint64_t replies, got_f;
} cli_state;

static void
cli_cb(void *user, const bench_ev *ev)
{
    cli_state *c = user;
    if (ev->type == BENCH_EV_CONNECT) {
        c->connected++;
    } else if (ev->type == BENCH_EV_DISCONNECT) {
        c->disconnected++;
    } else if (ev->len > 0 && ev->data[0] == 'F') {
        c->got_f++;
    } else {
        c->replies++;
    }
}

static int
wait_connect(const bench_params *p, bench_ep *ep, cli_state *c)
{
    uint64_t end = bench_now_us() + 5000000u;
    while (!c->connected && bench_now_us() < end) {
        if (p->ops->service(ep, 10, cli_cb, c) < 0) {
            return -1;
        }
    }
    return c->connected ? 0 : -1;
}

/* Asks the server for its report and reads it. */
int
bench_server_report(bench_child *srv, char *line, size_t cap)
{
    kill(srv->pid, SIGTERM);
    return bench_read_line(srv, "srv ", 5000, line, cap);
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int
run_rtt(const bench_params *p, bench_ep *ep, cli_state *c, bench_child *srv)
{
    uint64_t warm = p->n / 10 < 1000 ? p->n / 10 : 1000;
    uint64_t *lat = calloc(p->n, sizeof *lat);
    uint8_t msg[32] = {'P'};
    int fl = (p->ops->has_reliable ? BENCH_RELIABLE : 0) | BENCH_FLUSH;
    if (lat == NULL) {
        return -1;
    }
    for (uint64_t i = 0; i < warm + p->n; i++) {
        uint64_t before = c->replies, t = bench_now_us();
        memcpy(msg + 1, &i, sizeof i);
        if (p->ops->send(ep, 0, msg, sizeof msg, fl) != 0) {
            free(lat);
            return -1;
        }
        while (c->replies == before) {
            if (p->ops->service(ep, 100, cli_cb, c) < 0 ||
                bench_now_us() - t > 2000000u) {
                fprintf(stderr, "parley-bench: rtt: no reply\n");
                free(lat);
                return -1;
            }
        }
        if (i >= warm) {
            lat[i - warm] = bench_now_us() - t;
        }
    }
    uint64_t sum = 0;
    for (uint64_t i = 0; i < p->n; i++) {
        sum += lat[i];
    }
    qsort(lat, p->n, sizeof *lat, cmp_u64);
    char line[512];
    bench_server_report(srv, line, sizeof line);
    printf("%s n=%llu p50_us=%llu p99_us=%llu max_us=%llu mean_us=%.1f\n",
           p->label, (unsigned long long)p->n,
           (unsigned long long)lat[p->n / 2],
           (unsigned long long)lat[p->n * 99 / 100],
           (unsigned long long)lat[p->n - 1], (double)sum / (double)p->n);
    free(lat);
    return 0;
}

/* Sends one message, servicing while the library says its queue is full. */
static int
send_retry(const bench_params *p, bench_ep *ep, cli_state *c, const void *data,
           size_t len, int fl, uint64_t deadline)
{
    for (;;) {
        int r = p->ops->send(ep, 0, data, len, fl);
        if (r != BENCH_BUSY) {
            return r;
        }
        if (p->ops->service(ep, 1, cli_cb, c) < 0 ||
            bench_now_us() > deadline) {
            return BENCH_BUSY;
        }
    }
}

static void
wait_f(const bench_params *p, bench_ep *ep, cli_state *c, uint64_t deadline,
       int resend_end)
{
    uint64_t last = 0;
    uint8_t e[8] = {'E'};
    while (!c->got_f && bench_now_us() < deadline && !c->disconnected) {
        if (resend_end && bench_now_us() - last > 10000) {
            p->ops->send(ep, 0, e, sizeof e, BENCH_FLUSH);
            last = bench_now_us();
        }
        if (p->ops->service(ep, 5, cli_cb, c) < 0) {
            return;
        }
    }
}

static int
run_small(const bench_params *p, bench_ep *ep, cli_state *c, bench_child *srv)
{
    static uint8_t msg[65536];
    msg[0] = 'D';
    int fl = p->reliable ? BENCH_RELIABLE : 0;
    uint64_t deadline = bench_now_us() + p->secs * 1000000u;
    uint64_t t0 = bench_now_us(), cpu0 = bench_cpu_us();
    uint64_t d0 = p->ops->dgrams_out(ep);
    for (uint64_t i = 0; i < p->n; i++) {
        memcpy(msg + 1, &i, sizeof i);
        if (send_retry(p, ep, c, msg, p->msg, fl, deadline) != 0) {
            break;
        }
        if ((i & 255) == 255 && p->ops->service(ep, 0, cli_cb, c) < 0) {
            return -1;
        }
    }
    int raw_end = !p->reliable && !p->ops->has_reliable;
    if (!p->reliable && !raw_end) {
        uint8_t e[8] = {'E'};
        send_retry(p, ep, c, e, sizeof e, BENCH_RELIABLE | BENCH_FLUSH,
                   deadline);
    }
    wait_f(p, ep, c, deadline, raw_end);
    uint64_t t1 = bench_now_us(), cpu1 = bench_cpu_us();
    uint64_t dg = p->ops->dgrams_out(ep) - d0;
    char line[512];
    double recv = 0, t_last = 0, scpu = 0, swall = 0;
    if (bench_server_report(srv, line, sizeof line) != 0 ||
        bench_kv(line, "recv", &recv) || bench_kv(line, "t_last", &t_last) ||
        bench_kv(line, "cpu_us", &scpu) || bench_kv(line, "wall_us", &swall)) {
        fprintf(stderr, "parley-bench: no report from the server\n");
        return -1;
    }
    double secs = (t_last - (double)t0) / 1e6;
    if (secs <= 0) {
        secs = (double)(t1 - t0) / 1e6;
    }
    printf("%s msgs=%llu size=%llu delivered=%.0f msgs_s=%.0f mb_s=%.2f "
           "loss_pct=%.3f dgrams=%llu secs=%.3f cli_cpu_pct=%.0f "
           "srv_cpu_pct=%.0f complete=%d\n",
           p->label, (unsigned long long)p->n, (unsigned long long)p->msg, recv,
           recv / secs, recv * (double)p->msg / secs / 1e6,
           100.0 * ((double)p->n - recv) / (double)p->n, (unsigned long long)dg,
           secs, 100.0 * (double)(cpu1 - cpu0) / (double)(t1 - t0),
           swall > 0 ? 100.0 * scpu / swall : 0.0, c->got_f ? 1 : 0);
    return 0;
}

static int
run_bulk(const bench_params *p, bench_ep *ep, cli_state *c, bench_child *srv)
{
    uint8_t *msg = malloc(p->msg);
    if (msg == NULL) {
        return -1;
    }
    for (uint64_t i = 0; i < p->msg; i++) {
        msg[i] = (uint8_t)(i * 7u);
    }
    msg[0] = 'D';
    uint64_t deadline = bench_now_us() + p->secs * 1000000u;
    uint64_t t0 = bench_now_us(), d0 = p->ops->dgrams_out(ep);
    uint64_t nmsg = p->bytes / p->msg;
    for (uint64_t i = 0; i < nmsg; i++) {
        if (send_retry(p, ep, c, msg, p->msg, BENCH_RELIABLE, deadline) != 0) {
            break;
        }
        if (p->ops->service(ep, 0, cli_cb, c) < 0) {
            break;
        }
    }
    free(msg);
    wait_f(p, ep, c, deadline, 0);
    uint64_t t1 = bench_now_us();
    uint64_t dg = p->ops->dgrams_out(ep) - d0;
    char line[512];
    double bytes = 0, t_last = 0;
    if (bench_server_report(srv, line, sizeof line) != 0 ||
        bench_kv(line, "bytes", &bytes) || bench_kv(line, "t_last", &t_last)) {
        fprintf(stderr, "parley-bench: no report from the server\n");
        return -1;
    }
    double secs = (t_last - (double)t0) / 1e6;
    if (bytes <= 0 || secs <= 0) {
        secs = (double)(t1 - t0) / 1e6; /* nothing arrived */
    }
    char extra[256];
    p->ops->extra(ep, extra, sizeof extra);
    printf("%s bytes=%.0f mb_s=%.2f secs=%.3f dgrams=%llu complete=%d%s\n",
           p->label, bytes, secs > 0 ? bytes / secs / 1e6 : 0.0, secs,
           (unsigned long long)dg, bytes >= (double)(nmsg * p->msg), extra);
    return 0;
}

int
bench_client(const bench_params *p, uint16_t port, bench_child *srv)
{
    if (p->is_conns) {
        return bench_conns(p, port, srv);
    }
    bench_ep *ep;
    cli_state c;
    memset(&c, 0, sizeof c);
    c.p = p;
    if (p->ops->client(&ep, port) != 0) {
        fprintf(stderr, "parley-bench: %s client failed\n", p->ops->name);
        return -1;
    }
    int rc = -1;
    if (wait_connect(p, ep, &c) != 0) {
        fprintf(stderr, "parley-bench: %s: no connection\n", p->ops->name);
    } else if (p->is_rtt) {
        rc = run_rtt(p, ep, &c, srv);
    } else if (p->is_small) {
        rc = run_small(p, ep, &c, srv);
    } else {
        rc = run_bulk(p, ep, &c, srv);
    }
    p->ops->destroy(ep);
    return rc;
}
