/*
 * UDP segmentation offload through 127.0.0.1: 3,000 datagrams in runs of
 * equal sizes with shorter tails, interleaved between two receivers, sent
 * with GSO trains and received with GRO (and every mix of either with the
 * one-datagram fallback) must arrive byte-exact and in order; where the
 * kernel grants both, trains must really arrive coalesced.
 */
#include "pt.h"

#include <stdio.h>
#include <string.h>

#include "parley/parley.h"
#include "platform/platform.h"
#include "util/rng.h"

#define TOTAL 3000
#define ROUND 64 /* datagrams in flight at once: within any socket buffer */

typedef struct rx_side {
    pl_os_udp sock;
    parley_addr addr;
    uint32_t next;    /* sequence number expected next */
    size_t trains;    /* slots that held more than one datagram */
    size_t datagrams; /* datagrams taken out of the slots */
} rx_side;

static uint8_t g_rx[ROUND][PL_OS_UDP_TRAIN_MAX];

/* Datagram seq: its number, then bytes that depend on it and the index. */
static void
fill(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seq * 7u + i * 13u + (i >> 8));
    }
    if (len >= 4) {
        memcpy(p, &seq, 4);
    }
}

static void
open_lo(pl_os_udp *s, parley_addr *where)
{
    parley_addr bind;
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 0, &bind));
    PT_OK(pl_os_udp_open(&bind, 0, s));
    PT_OK(pl_os_sock_local_addr(s->fd, where));
}

/* Checks one datagram against the sequence the side expects next. */
static void
check_one(rx_side *r, const uint8_t *p, size_t len, const uint32_t *lens)
{
    static uint8_t want[PL_OS_UDP_TRAIN_MAX];
    uint32_t seq = 0;
    PT_GE_INT(len, 4);
    memcpy(&seq, p, 4);
    PT_EQ_INT(seq, r->next); /* in order, none lost */
    PT_EQ_INT(len, lens[seq]);
    fill(want, len, seq);
    PT_EQ_MEM(p, want, len);
    r->datagrams++;
}

/* Receives until the side has seen every datagram up to `until`. */
static void
drain(rx_side *r, uint32_t until, const uint32_t *lens, const uint32_t *owner,
      int side)
{
    parley_datagram d[ROUND];
    size_t seg[ROUND];
    for (;;) {
        while (r->next < until && owner[r->next] != (uint32_t)side) {
            r->next++;
        }
        if (r->next >= until) {
            return;
        }
        PT_OK(pl_os_wait_fd(r->sock.fd, PL_OS_POLL_IN, 2000));
        for (size_t i = 0; i < ROUND; i++) {
            d[i].data = g_rx[i];
            d[i].len = sizeof g_rx[i];
        }
        size_t got = 0;
        PT_OK(pl_os_udp_recv_gro(&r->sock, d, ROUND, seg, &got));
        for (size_t i = 0; i < got; i++) {
            PT_TRUE(!d[i].truncated);
            size_t step = seg[i] ? seg[i] : d[i].len;
            r->trains += seg[i] != 0;
            for (size_t off = 0; off == 0 || off < d[i].len; off += step) {
                size_t n = d[i].len - off < step ? d[i].len - off : step;
                check_one(r, g_rx[i] + off, n, lens);
                do {
                    r->next++;
                } while (r->next < until && owner[r->next] != (uint32_t)side);
            }
        }
    }
}

static uint32_t
below(pl_rng *rng, uint32_t n)
{
    return (uint32_t)pl_rng_below_of(pl_rng_next(rng), n);
}

/* Runs of 1..70 datagrams of one size (the last of a run may be shorter)
 * to one of the two receivers. */
static void
plan(uint32_t *lens, uint32_t *owner)
{
    pl_rng rng;
    pl_rng_seed(&rng, 0x65736f);
    uint32_t i = 0;
    while (i < TOTAL) {
        uint32_t run = 1 + below(&rng, 70);
        uint32_t size = 4 + below(&rng, 1400);
        uint32_t who = below(&rng, 2);
        for (uint32_t k = 0; k < run && i < TOTAL; k++, i++) {
            lens[i] = size;
            owner[i] = who;
        }
        if (below(&rng, 2) && i > 0 && lens[i - 1] > 4) {
            lens[i - 1] = 4 + below(&rng, lens[i - 1] - 4);
        }
    }
}

static void
run(int gso, int gro, const char *label)
{
    static uint32_t lens[TOTAL], owner[TOTAL];
    static uint8_t tx[ROUND][1500];
    pl_os_udp a;
    parley_addr aa;
    rx_side r[2];
    memset(r, 0, sizeof r);
    plan(lens, owner);
    open_lo(&a, &aa);
    open_lo(&r[0].sock, &r[0].addr);
    open_lo(&r[1].sock, &r[1].addr);
    int got_a = pl_os_udp_offload(&a, gso ? PL_OS_UDP_GSO : 0);
    PT_EQ_INT(got_a & PL_OS_UDP_GRO, 0);
    PT_EQ_INT(a.gso, (got_a & PL_OS_UDP_GSO) != 0);
    int got_r = 0;
    for (int s = 0; s < 2; s++) {
        got_r = pl_os_udp_offload(&r[s].sock, gro ? PL_OS_UDP_GRO : 0);
        PT_EQ_INT(r[s].sock.gro, (got_r & PL_OS_UDP_GRO) != 0);
    }
    for (uint32_t base = 0; base < TOTAL; base += ROUND) {
        parley_datagram d[ROUND];
        uint32_t n = TOTAL - base < ROUND ? TOTAL - base : ROUND;
        for (uint32_t i = 0; i < n; i++) {
            fill(tx[i], lens[base + i], base + i);
            d[i].data = tx[i];
            d[i].len = lens[base + i];
            d[i].addr = r[owner[base + i]].addr;
        }
        size_t done = 0;
        while (done < n) {
            size_t k = 0;
            PT_OK(pl_os_udp_send_gso(&a, d + done, n - done, &k));
            done += k;
        }
        drain(&r[0], base + n, lens, owner, 0);
        drain(&r[1], base + n, lens, owner, 1);
    }
    size_t dgrams = r[0].datagrams + r[1].datagrams;
    size_t trains = r[0].trains + r[1].trains;
    printf("  %s: gso %d gro %d granted; %zu datagrams, %zu trains\n", label,
           a.gso, r[0].sock.gro, dgrams, trains);
    PT_EQ_U64(dgrams, TOTAL);
    if (a.gso && r[0].sock.gro) {
        PT_GT_U64(trains, TOTAL / 100); /* offload really happened */
    } else {
        PT_EQ_U64(trains, 0);
    }
    pl_os_close(a.fd);
    pl_os_close(r[0].sock.fd);
    pl_os_close(r[1].sock.fd);
}

PT_TEST(gso_send_gro_receive)
{
    run(1, 1, "gso+gro");
}

PT_TEST(gso_send_plain_receive)
{
    run(1, 0, "gso only");
}

PT_TEST(plain_send_gro_receive)
{
    run(0, 1, "gro only");
}

PT_TEST(fallback_both_ways)
{
    run(0, 0, "fallback");
}

PT_TEST(bad_arguments)
{
    pl_os_udp a;
    parley_addr aa;
    size_t n = 0, seg[1];
    parley_datagram d = {0};
    open_lo(&a, &aa);
    pl_os_udp_offload(&a, PL_OS_UDP_GSO | PL_OS_UDP_GRO);
    PT_ERR(pl_os_udp_send_gso(NULL, &d, 1, &n), PARLEY_EINVAL);
    PT_ERR(pl_os_udp_recv_gro(&a, &d, 1, NULL, &n), PARLEY_EINVAL);
    d.len = 5; /* NULL data with a length */
    d.addr = aa;
    PT_ERR(pl_os_udp_send_gso(&a, &d, 1, &n), PARLEY_EINVAL);
    PT_ERR(pl_os_udp_recv_gro(&a, &d, 1, seg, &n), PARLEY_EINVAL);
    pl_os_close(a.fd);
}

PT_MAIN(PT_RUN(gso_send_gro_receive) PT_RUN(gso_send_plain_receive)
            PT_RUN(plain_send_gro_receive) PT_RUN(fallback_both_ways)
                PT_RUN(bad_arguments))
