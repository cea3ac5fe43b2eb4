/*
 * UDP over real loopback sockets: round trips on 127.0.0.1 and ::1,
 * dual-stack sockets reporting IPv4 peers as IPv4, truncation, family
 * mismatches, and 10,000 datagrams of varying sizes moved intact and in
 * order through both the batched (sendmmsg/recvmmsg) and the loop paths.
 */
#include "pt.h"

#include "parley/parley.h"
#include "platform/platform.h"

typedef int (*batch_fn)(const pl_os_udp *, parley_datagram *, size_t, size_t *);
typedef int (*send_fn)(const pl_os_udp *, const parley_datagram *, size_t,
                       size_t *);

/* Opens a socket on loopback of the family, or returns 0 when the kernel
 * has no such loopback (printed); fails the test on other errors. */
static int
open_lo(parley_family fam, int flags, parley_udp **u, parley_addr *where)
{
    parley_addr bind;
    PT_OK(parley_addr_loopback(fam, 0, &bind));
    int rc = parley_udp_open(&bind, flags, u);
    if (fam == PARLEY_AF_INET6 &&
        (rc == PARLEY_EADDRNOTAVAIL || rc == PARLEY_EAFNOSUPPORT)) {
        printf("  skip: no IPv6 loopback in this kernel (%s)\n",
               parley_err_name(rc));
        return 0;
    }
    PT_OK(rc);
    PT_OK(parley_udp_local_addr(*u, where));
    PT_GT_INT(where->port, 0);
    PT_TRUE(parley_udp_fd(*u) >= 0);
    return 1;
}

static void
round_trip(parley_family fam)
{
    parley_udp *a, *b;
    parley_addr aa, ba, from;
    char buf[64];
    size_t len = 0;
    if (!open_lo(fam, 0, &a, &aa)) {
        return;
    }
    PT_TRUE(open_lo(fam, 0, &b, &ba));
    PT_EQ_INT(aa.family, fam);
    PT_ERR(parley_udp_recv(b, buf, sizeof buf, &len, &from), PARLEY_EAGAIN);
    PT_OK(parley_udp_send(a, &ba, "hello", 5));
    PT_OK(parley_udp_wait(b, 2000));
    PT_OK(parley_udp_recv(b, buf, sizeof buf, &len, &from));
    PT_EQ_INT(len, 5);
    PT_EQ_MEM(buf, "hello", 5);
    PT_TRUE(parley_addr_equal(&from, &aa));
    PT_OK(parley_udp_send(b, &from, "", 0)); /* empty datagram */
    PT_OK(parley_udp_wait(a, 2000));
    PT_OK(parley_udp_recv(a, buf, sizeof buf, &len, NULL));
    PT_EQ_INT(len, 0);
    parley_udp_close(a);
    parley_udp_close(b);
}

PT_TEST(round_trip_ipv4)
{
    round_trip(PARLEY_AF_INET);
}

PT_TEST(round_trip_ipv6)
{
    round_trip(PARLEY_AF_INET6);
}

PT_TEST(dualstack_reports_ipv4_peer)
{
    parley_udp *dual, *v4;
    parley_addr any6, dual_addr, v4_addr, from, to;
    char buf[32];
    size_t len;
    PT_OK(parley_addr_parse("[::]:0", 0, &any6));
    int rc = parley_udp_open(&any6, PARLEY_UDP_DUALSTACK, &dual);
    if (rc == PARLEY_EAFNOSUPPORT || rc == PARLEY_EADDRNOTAVAIL) {
        printf("  skip: no IPv6 in this kernel (%s)\n", parley_err_name(rc));
        return;
    }
    PT_OK(rc);
    PT_OK(parley_udp_local_addr(dual, &dual_addr));
    PT_TRUE(open_lo(PARLEY_AF_INET, 0, &v4, &v4_addr));
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, dual_addr.port, &to));
    PT_OK(parley_udp_send(v4, &to, "from-v4", 7));
    PT_OK(parley_udp_wait(dual, 2000));
    PT_OK(parley_udp_recv(dual, buf, sizeof buf, &len, &from));
    PT_EQ_INT(len, 7);
    PT_EQ_INT(from.family, PARLEY_AF_INET); /* not ::ffff:127.0.0.1 */
    PT_TRUE(parley_addr_equal(&from, &v4_addr));
    /* The reply to a plain IPv4 address goes out mapped. */
    PT_OK(parley_udp_send(dual, &from, "reply", 5));
    PT_OK(parley_udp_wait(v4, 2000));
    PT_OK(parley_udp_recv(v4, buf, sizeof buf, &len, &from));
    PT_EQ_INT(len, 5);
    PT_TRUE(parley_addr_equal(&from, &to));
    parley_udp_close(dual);
    parley_udp_close(v4);
}

PT_TEST(family_mismatch_is_eafnosupport)
{
    parley_udp *v6only, *v4;
    parley_addr any6, v4_addr, lo6;
    PT_TRUE(open_lo(PARLEY_AF_INET, 0, &v4, &v4_addr));
    PT_OK(parley_addr_loopback(PARLEY_AF_INET6, 9, &lo6));
    PT_ERR(parley_udp_send(v4, &lo6, "x", 1), PARLEY_EAFNOSUPPORT);
    PT_OK(parley_addr_parse("[::]:0", 0, &any6));
    if (parley_udp_open(&any6, 0, &v6only) == PARLEY_OK) {
        /* Without DUALSTACK an IPv6 socket is IPv6-only, whatever the
         * system default says. */
        PT_ERR(parley_udp_send(v6only, &v4_addr, "x", 1), PARLEY_EAFNOSUPPORT);
        parley_udp_close(v6only);
    }
    parley_udp_close(v4);
}

PT_TEST(truncation_reported)
{
    parley_udp *a, *b;
    parley_addr aa, ba;
    unsigned char big[300], buf[300];
    size_t len = 0;
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (unsigned char)(i * 7 + 1);
    }
    PT_TRUE(open_lo(PARLEY_AF_INET, 0, &a, &aa));
    PT_TRUE(open_lo(PARLEY_AF_INET, 0, &b, &ba));
    PT_OK(parley_udp_send(a, &ba, big, 100));
    PT_OK(parley_udp_wait(b, 2000));
    PT_ERR(parley_udp_recv(b, buf, 10, &len, NULL), PARLEY_ETRUNC);
    PT_EQ_INT(len, 10);
    PT_EQ_MEM(buf, big, 10);
    PT_ERR(parley_udp_recv(b, buf, sizeof buf, &len, NULL), PARLEY_EAGAIN);
    parley_udp_close(a);
    parley_udp_close(b);
}

/* Batched receive on both paths: one datagram cut, one whole. */
PT_TEST(truncation_reported_in_batches)
{
    static const batch_fn paths[] = {pl_os_udp_recv_batch, pl_os_udp_recv_loop};
    unsigned char big[300], buf[300];
    parley_addr lo, ra, ta;
    pl_os_udp tx, rx;
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (unsigned char)(i * 7 + 1);
    }
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 0, &lo));
    PT_OK(pl_os_udp_open(&lo, 0, &tx));
    PT_OK(pl_os_udp_open(&lo, 0, &rx));
    PT_OK(pl_os_sock_local_addr(rx.fd, &ra));
    PT_OK(pl_os_sock_local_addr(tx.fd, &ta));
    for (int path = 0; path < 2; path++) {
        parley_datagram d[2] = {{buf, 50, {0}, 0}, {buf + 50, 250, {0}, 0}};
        size_t got = 0;
        PT_OK(pl_os_udp_send(&tx, &ra, big, 200));
        PT_OK(pl_os_udp_send(&tx, &ra, big, 120));
        for (int tries = 0; got < 2 && tries < 100; tries++) {
            size_t k = 0;
            PT_OK(pl_os_wait_fd(rx.fd, PL_OS_POLL_IN, 2000));
            PT_OK(paths[path](&rx, d + got, 2 - got, &k));
            got += k;
        }
        PT_EQ_INT(got, 2);
        PT_EQ_INT(d[0].len, 50);
        PT_TRUE(d[0].truncated);
        PT_EQ_MEM(d[0].data, big, 50);
        PT_EQ_INT(d[1].len, 120);
        PT_TRUE(!d[1].truncated);
        PT_EQ_MEM(d[1].data, big, 120);
        PT_TRUE(parley_addr_equal(&d[0].addr, &ta));
        PT_TRUE(parley_addr_equal(&d[1].addr, &ta));
    }
    pl_os_close(tx.fd);
    pl_os_close(rx.fd);
}

PT_TEST(errors_and_wait_timeout)
{
    parley_udp *a, *b;
    parley_addr aa, none;
    PT_TRUE(open_lo(PARLEY_AF_INET, 0, &a, &aa));
    uint64_t t0 = parley_time_us();
    PT_ERR(parley_udp_wait(a, 80), PARLEY_ETIMEDOUT);
    PT_GE_U64(parley_time_us() - t0, 70000);
    PT_ERR(parley_udp_open(&aa, 0, &b), PARLEY_EADDRINUSE);
    memset(&none, 0, sizeof none);
    PT_ERR(parley_udp_open(&none, 0, &b), PARLEY_EINVAL);
    PT_ERR(parley_udp_open(&aa, 1 << 9, &b), PARLEY_EINVAL);
    PT_ERR(parley_udp_send(a, &none, "x", 1), PARLEY_EINVAL);
    static unsigned char huge[70000];
    PT_ERR(parley_udp_send(a, &aa, huge, sizeof huge), PARLEY_EMSGSIZE);
    size_t sent = 99;
    PT_OK(parley_udp_send_batch(a, NULL, 0, &sent));
    PT_EQ_INT(sent, 0);
    parley_datagram bad = {huge, 1, none, 0};
    PT_ERR(parley_udp_send_batch(a, &bad, 1, &sent), PARLEY_EINVAL);
    parley_udp_close(a);
    parley_udp_close(NULL);
}

/* ---- 10,000 datagrams -------------------------------------------------- */

enum { BULK_N = 10000, BULK_MAX = 1400, WINDOW = 48, CHUNK = 32 };

static size_t
bulk_size(uint32_t seq)
{
    if (seq < 2) {
        return seq == 0 ? 1 : BULK_MAX; /* both extremes, always */
    }
    return 1 + (size_t)((seq * 2654435761u) >> 7) % BULK_MAX;
}

static uint32_t
fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

/* Datagram seq: seeded bytes, then [0..4) = seq, [4..8) = fnv1a of the
 * rest, where the size leaves room for them. */
static size_t
bulk_fill(uint32_t seq, unsigned char *p)
{
    size_t n = bulk_size(seq);
    uint32_t x = seq * 0x9e3779b9u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    if (n >= 4) {
        memcpy(p, &seq, 4);
    }
    if (n >= 8) {
        uint32_t h = fnv1a(p + 8, n - 8);
        memcpy(p + 4, &h, 4);
    }
    return n;
}

static void
bulk_check(uint32_t want_seq, const parley_datagram *d)
{
    unsigned char expect[BULK_MAX];
    size_t n = bulk_fill(want_seq, expect);
    const unsigned char *p = d->data;
    PT_TRUE(!d->truncated);
    PT_EQ_INT(d->len, n);
    if (n >= 4) {
        uint32_t seq;
        memcpy(&seq, p, 4);
        PT_EQ_U64(seq, want_seq); /* in order, none lost */
    }
    if (n >= 8) {
        uint32_t h;
        memcpy(&h, p + 4, 4);
        PT_EQ_U64(h, fnv1a(p + 8, n - 8));
    }
    PT_EQ_MEM(p, expect, n);
}

typedef struct bulk {
    pl_os_udp tx, rx;
    parley_addr rx_addr;
    send_fn send;
    batch_fn recv;
    uint32_t sent, got;
    uint64_t calls;
    unsigned char out[CHUNK][BULK_MAX];
    unsigned char in[CHUNK][2048];
} bulk;

/* Sends what the window allows; on push-back waits until writable. */
static void
bulk_send_some(bulk *b)
{
    parley_datagram d[CHUNK];
    size_t room = WINDOW - (b->sent - b->got);
    size_t n = 0;
    while (n < CHUNK && n < room && b->sent + n < BULK_N) {
        d[n].data = b->out[n];
        d[n].len = bulk_fill(b->sent + (uint32_t)n, b->out[n]);
        d[n].addr = b->rx_addr;
        d[n].truncated = 0;
        n++;
    }
    if (n == 0) {
        return;
    }
    size_t k = 0;
    int rc = b->send(&b->tx, d, n, &k);
    b->calls++;
    if (rc == PARLEY_EAGAIN) {
        PT_OK(pl_os_wait_fd(b->tx.fd, PL_OS_POLL_OUT, 1000));
        return;
    }
    PT_OK(rc);
    b->sent += (uint32_t)k;
}

static void
bulk_recv_some(bulk *b)
{
    parley_datagram d[CHUNK];
    for (size_t i = 0; i < CHUNK; i++) {
        d[i].data = b->in[i];
        d[i].len = sizeof b->in[i];
    }
    size_t k = 0;
    int rc = b->recv(&b->rx, d, CHUNK, &k);
    b->calls++;
    if (rc == PARLEY_EAGAIN) {
        /* Everything in flight is in the kernel already: a timeout here
         * means a datagram was lost. */
        PT_OK(pl_os_wait_fd(b->rx.fd, PL_OS_POLL_IN, 2000));
        return;
    }
    PT_OK(rc);
    for (size_t i = 0; i < k; i++) {
        bulk_check(b->got + (uint32_t)i, &d[i]);
    }
    b->got += (uint32_t)k;
}

static void
bulk_run(send_fn s, batch_fn r, const char *label)
{
    static bulk b;
    parley_addr lo;
    memset(&b, 0, sizeof b);
    b.send = s;
    b.recv = r;
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 0, &lo));
    PT_OK(pl_os_udp_open(&lo, 0, &b.tx));
    PT_OK(pl_os_udp_open(&lo, 0, &b.rx));
    PT_OK(pl_os_sock_local_addr(b.rx.fd, &b.rx_addr));
    uint64_t t0 = parley_time_us();
    while (b.got < BULK_N) {
        PT_LT_U64(parley_time_us() - t0, 20000000); /* 20 s bound */
        bulk_send_some(&b);
        bulk_recv_some(&b);
    }
    double secs = (double)(parley_time_us() - t0) / 1e6;
    printf("  %s: %d datagrams in %.3f s (%.0f/s), %.1f per batch call\n",
           label, BULK_N, secs, BULK_N / secs, 2.0 * BULK_N / (double)b.calls);
    PT_EQ_U64(b.sent, BULK_N);
    pl_os_close(b.tx.fd);
    pl_os_close(b.rx.fd);
}

PT_TEST(bulk_10000_batched)
{
#if defined(__linux__) && !defined(PL_OS_NO_MMSG)
    PT_EQ_INT(pl_os_udp_has_mmsg(), 1); /* Linux builds use the mmsg path */
#endif
    bulk_run(pl_os_udp_send_batch, pl_os_udp_recv_batch, "batched");
}

PT_TEST(bulk_10000_fallback_loop)
{
    bulk_run(pl_os_udp_send_loop, pl_os_udp_recv_loop, "loop");
}

PT_TEST(public_batch_round_trip_ipv6)
{
    parley_udp *a, *b;
    parley_addr aa, ba;
    if (!open_lo(PARLEY_AF_INET6, 0, &a, &aa)) {
        return;
    }
    PT_TRUE(open_lo(PARLEY_AF_INET6, 0, &b, &ba));
    static unsigned char out[CHUNK][BULK_MAX], in[CHUNK][2048];
    parley_datagram d[CHUNK];
    for (uint32_t i = 0; i < CHUNK; i++) {
        d[i].data = out[i];
        d[i].len = bulk_fill(i, out[i]);
        d[i].addr = ba;
    }
    size_t sent = 0, got = 0;
    PT_OK(parley_udp_send_batch(a, d, CHUNK, &sent));
    PT_EQ_INT(sent, CHUNK);
    while (got < CHUNK) {
        size_t k = 0;
        for (size_t i = got; i < CHUNK; i++) {
            d[i].data = in[i];
            d[i].len = sizeof in[i];
        }
        PT_OK(parley_udp_wait(b, 2000));
        PT_OK(parley_udp_recv_batch(b, d + got, CHUNK - got, &k));
        for (size_t i = got; i < got + k; i++) {
            bulk_check((uint32_t)i, &d[i]);
            PT_TRUE(parley_addr_equal(&d[i].addr, &aa));
        }
        got += k;
    }
    parley_udp_close(a);
    parley_udp_close(b);
}

PT_MAIN(PT_RUN(round_trip_ipv4) PT_RUN(round_trip_ipv6)
            PT_RUN(dualstack_reports_ipv4_peer)
                PT_RUN(family_mismatch_is_eafnosupport)
                    PT_RUN(truncation_reported)
                        PT_RUN(truncation_reported_in_batches)
                            PT_RUN(errors_and_wait_timeout)
                                PT_RUN(bulk_10000_batched)
                                    PT_RUN(bulk_10000_fallback_loop)
                                        PT_RUN(public_batch_round_trip_ipv6))
