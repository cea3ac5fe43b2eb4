/*
 * A flood over loopback against a real host while three clients chat:
 * 100,000 datagrams of garbage, truncated handshakes, forged DATA and
 * 10,000 well-formed CONNECTs from an attacker socket. The clients must
 * lose nothing, the host's memory must stay flat (live library allocations
 * and RSS measured before and after) and its CPU must return to idle.
 */
#include "pt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "parley/host.h"
#include "parley/parley.h"
#include "parley/udp.h"
#include "util/alloc.h"
#include "util/rng.h"
#include "wire/packet.h"

#define NCLIENTS 3
#define NMSG 300
#define FLOOD 100000

typedef struct cli_ {
    parley_host *host;
    parley_peer peer;
    int connected;
    uint32_t sent;
} cli_;

typedef struct srv_ {
    parley_host *host;
    parley_peer peers[NCLIENTS];
    uint32_t next[NCLIENTS]; /* next sequence number expected per peer */
    int npeers, bad;
} srv_;

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double
cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static long
rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static void
serve(srv_ *s)
{
    parley_event ev;
    while (parley_host_service(s->host, 0, &ev) == 1) {
        if (ev.type == PARLEY_EVENT_CONNECT && s->npeers < NCLIENTS) {
            s->peers[s->npeers++] = ev.peer;
        } else if (ev.type == PARLEY_EVENT_RECEIVE) {
            int k = -1;
            for (int i = 0; i < s->npeers; i++) {
                k = s->peers[i] == ev.peer ? i : k;
            }
            uint32_t seq = 0;
            if (ev.len == sizeof seq) {
                memcpy(&seq, ev.data, sizeof seq);
            }
            if (k < 0 || ev.len != sizeof seq || seq != s->next[k]) {
                s->bad++;
            } else {
                s->next[k]++;
            }
        } else if (ev.type == PARLEY_EVENT_DISCONNECT) {
            s->bad++;
        }
        parley_event_release(s->host, &ev);
    }
}

static void
chat(cli_ *c, int send)
{
    parley_event ev;
    while (parley_host_service(c->host, 0, &ev) == 1) {
        if (ev.type == PARLEY_EVENT_CONNECT) {
            c->connected = 1;
        }
        parley_event_release(c->host, &ev);
    }
    if (send && c->connected && c->sent < NMSG &&
        parley_peer_send(c->host, c->peer, 0, &c->sent, sizeof c->sent, 0) ==
            PARLEY_OK) {
        c->sent++;
    }
}

/* One flood datagram of kind i % 4. */
static size_t
flood_one(pl_rng *rng, uint64_t i, uint8_t *buf, size_t cap)
{
    size_t len = 1 + pl_rng_next(rng) % 1300;
    len = len < cap ? len : cap;
    for (size_t k = 0; k < len; k++) {
        buf[k] = (uint8_t)pl_rng_next(rng);
    }
    pl_hs_connect h;
    memset(&h, 0, sizeof h);
    h.version = PL_PROTO_VERSION;
    h.client_id = (uint32_t)pl_rng_next(rng) | 1;
    h.mtu = 1200;
    h.channels = 2;
    h.max_message = 1000;
    h.flags = PL_HS_FLAG_ENCRYPT;
    pl_wr w;
    pl_wr_init(&w, buf, cap);
    switch (i % 10) {
    case 0: /* a well-formed CONNECT (10% of the flood: 10,000) */
        (void)pl_hs_connect_encode(&w, &h);
        return w.off;
    case 1: /* a truncated one */
        (void)pl_hs_connect_encode(&w, &h);
        return w.off ? 1 + pl_rng_next(rng) % (w.off - 1) : 0;
    case 2: /* forged DATA to a guessed connection id */
    case 3:
        buf[0] = PL_PKT_DATA;
        return len > 30 ? 30 + len % 200 : len;
    case 4: /* a RESPONSE with a forged cookie */
        buf[0] = PL_PKT_RESPONSE;
        return len;
    default: /* garbage */
        return len;
    }
}

PT_TEST(flood_while_three_clients_chat)
{
    pl_rng rng;
    pl_rng_seed(&rng, 8);
    srv_ s;
    memset(&s, 0, sizeof s);
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    cfg.bind = "127.0.0.1:0";
    PT_OK(parley_host_create(&cfg, &s.host));
    parley_addr srv_addr;
    PT_OK(parley_host_local_addr(s.host, &srv_addr));
    cli_ c[NCLIENTS];
    memset(c, 0, sizeof c);
    cfg.accept_incoming = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        PT_OK(parley_host_create(&cfg, &c[i].host));
        PT_OK(parley_host_connect_addr(c[i].host, &srv_addr, NULL, 0,
                                       &c[i].peer));
    }
    double t0 = now_ms();
    while (s.npeers < NCLIENTS && now_ms() - t0 < 3000) {
        serve(&s);
        for (int i = 0; i < NCLIENTS; i++) {
            chat(&c[i], 0);
        }
        usleep(500);
    }
    PT_EQ_INT(s.npeers, NCLIENTS);
    for (int k = 0; k < 50; k++) { /* settle, then measure */
        serve(&s);
        usleep(1000);
    }
    int64_t live0 = pl_alloc_live();
    long rss0 = rss_kib();

    parley_addr any;
    PT_OK(parley_addr_parse("127.0.0.1:0", 0, &any));
    parley_udp *atk;
    PT_OK(parley_udp_open(&any, 0, &atk));
    static uint8_t buf[1400];
    uint64_t sent = 0;
    t0 = now_ms();
    while ((sent < FLOOD || c[0].sent < NMSG || c[1].sent < NMSG ||
            c[2].sent < NMSG) &&
           now_ms() - t0 < 20000) {
        for (int k = 0; k < 200 && sent < FLOOD; k++, sent++) {
            size_t len = flood_one(&rng, sent, buf, sizeof buf);
            (void)parley_udp_send(atk, &srv_addr, buf, len);
        }
        serve(&s);
        for (int i = 0; i < NCLIENTS; i++) {
            chat(&c[i], 1);
        }
    }
    double flood_ms = now_ms() - t0;
    /* Let the last messages arrive. */
    t0 = now_ms();
    while ((s.next[0] < NMSG || s.next[1] < NMSG || s.next[2] < NMSG) &&
           now_ms() - t0 < 5000) {
        serve(&s);
        for (int i = 0; i < NCLIENTS; i++) {
            chat(&c[i], 0);
        }
        usleep(200);
    }
    parley_udp_close(atk);
    serve(&s);
    int64_t live1 = pl_alloc_live();
    long rss1 = rss_kib();
    /* Idle: 300 ms of service with nothing to do. */
    double cpu0 = cpu_ms(), w0 = now_ms();
    parley_event ev;
    while (now_ms() - w0 < 300) {
        if (parley_host_service(s.host, 50, &ev) == 1) {
            parley_event_release(s.host, &ev);
        }
        for (int i = 0; i < NCLIENTS; i++) {
            chat(&c[i], 0);
        }
    }
    double idle_cpu = cpu_ms() - cpu0, idle_wall = now_ms() - w0;
    printf("  %llu flood datagrams in %.0f ms; live allocations %lld -> %lld"
           ", RSS %ld -> %ld KiB; idle CPU %.0f ms of %.0f ms\n",
           (unsigned long long)sent, flood_ms, (long long)live0,
           (long long)live1, rss0, rss1, idle_cpu, idle_wall);
    PT_EQ_U64(sent, FLOOD);
    for (int i = 0; i < NCLIENTS; i++) {
        PT_EQ_INT(s.next[i], NMSG); /* every message, in order */
    }
    PT_EQ_INT(s.bad, 0);
    /* Pools grow with the chat itself; per-datagram state would be
       thousands. */
    PT_LE_INT(live1 - live0, 200);
    PT_LE_INT(rss1 - rss0, 16 * 1024);
    PT_LE_DBL(idle_cpu, idle_wall * 0.5);
    for (int i = 0; i < NCLIENTS; i++) {
        parley_host_destroy(c[i].host);
    }
    parley_host_destroy(s.host);
}

PT_MAIN(PT_RUN(flood_while_three_clients_chat))
