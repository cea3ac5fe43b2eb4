/*
 * Stateful fuzz target: two engines (client a, server b) in virtual time
 * through the link simulator (tests/sim/simnet.h), with the input as a
 * script of app calls and attacks on the datagrams in flight: bit flips,
 * truncation, drops, replays and injected datagrams. Checked: no crash or
 * sanitizer report, memory stays inside the budgets, and once the script
 * ends, an encrypted connection the tampering left standing still
 * delivers.
 *
 * Input: byte 0 is the setup (bit 0: plaintext instead of encryption,
 * bit 1: a PSK on both sides); then ops, one byte each plus arguments:
 *   0 send from a (len, channel)   1 send from b (len, channel)
 *   2 run for n ms (n)             3 flip a bit of the next datagram (hi, lo)
 *   4 drop the next datagram       5 inject a datagram (to, len, bytes)
 *   6 replay the last datagram     7 truncate the next datagram (len)
 *   8 a disconnects                9 a reconnects
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/sim/simnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #c);                                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define OPS_MAX 256

enum { ACT_NONE, ACT_FLIP, ACT_DROP, ACT_TRUNC };

typedef struct fz_ {
    int action;
    size_t arg;
    uint8_t last[2048]; /* the last datagram delivered, for replays */
    size_t last_len;
    int last_from;
    parley_peer a_peer, b_peer;
    int a_up, b_up;
    uint64_t received;
} fz_;

static int
tamper(sn_net *n, int from, uint8_t *buf, size_t *len, size_t cap, void *user)
{
    (void)n;
    (void)cap;
    fz_ *f = user;
    int act = f->action;
    f->action = ACT_NONE;
    if (act == ACT_DROP) {
        return 0;
    }
    if (act == ACT_FLIP && *len > 0) {
        size_t bit = f->arg % (*len * 8);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    } else if (act == ACT_TRUNC && f->arg < *len) {
        *len = f->arg;
    }
    if (*len <= sizeof f->last) {
        memcpy(f->last, buf, *len);
        f->last_len = *len;
        f->last_from = from;
    }
    return 1;
}

static void
on_event(sn_net *n, int side, parley_event *ev, void *user)
{
    (void)n;
    fz_ *f = user;
    if (ev->type == PARLEY_EVENT_CONNECT) {
        if (side == 0) {
            f->a_up = 1;
        } else {
            f->b_up = 1;
            f->b_peer = ev->peer;
        }
    } else if (ev->type == PARLEY_EVENT_DISCONNECT ||
               ev->type == PARLEY_EVENT_CONNECT_FAILED) {
        if (side == 0) {
            f->a_up = 0;
        } else if (ev->peer == f->b_peer) {
            f->b_up = 0;
        }
    } else if (ev->type == PARLEY_EVENT_RECEIVE) {
        f->received++;
    }
}

static void
check_budgets(sn_net *n)
{
    for (int i = 0; i < 2; i++) {
        pl_core_stats st;
        pl_core_get_stats(n->s[i].core, &st);
        FUZZ_CHECK(st.memory <= (size_t)8 << 20);
        FUZZ_CHECK(st.peers <= 4);
    }
}

static void
send_from(sn_net *n, fz_ *f, int side, size_t len, uint8_t channel)
{
    static uint8_t msg[4096];
    memset(msg, (int)(len & 0xff), len);
    parley_peer p = side == 0 ? f->a_peer : f->b_peer;
    (void)pl_core_send(n->s[side].core, n->now, p, channel % 2, msg, len, 0,
                       NULL, NULL);
}

/* Runs one op at data[*i]; returns 0 when the input is used up. */
static int
op(sn_net *n, fz_ *f, const uint8_t *data, size_t size, size_t *i)
{
    if (*i >= size) {
        return 0;
    }
    uint8_t code = data[(*i)++] % 10;
    size_t a1 = *i < size ? data[*i] : 0;
    size_t a2 = *i + 1 < size ? data[*i + 1] : 0;
    switch (code) {
    case 0:
    case 1:
        send_from(n, f, code, a1 * 16, (uint8_t)a2);
        *i += 2;
        break;
    case 2:
        sn_run_for(n, (a1 + 1) * SN_MS);
        *i += 1;
        break;
    case 3:
        f->action = ACT_FLIP;
        f->arg = a1 << 8 | a2;
        *i += 2;
        break;
    case 4:
        f->action = ACT_DROP;
        break;
    case 5: {
        size_t len = a2 < size - *i - 2 ? a2 : size - *i - 2;
        int to = (int)(a1 & 1);
        pl_core_on_datagram(n->s[to].core, n->now, &n->s[1 - to].addr,
                            data + *i + 2, len);
        *i += 2 + len;
        break;
    }
    case 6:
        if (f->last_len > 0) {
            int to = 1 - f->last_from;
            pl_core_on_datagram(n->s[to].core, n->now, &n->s[f->last_from].addr,
                                f->last, f->last_len);
        }
        break;
    case 7:
        f->action = ACT_TRUNC;
        f->arg = a1 * 8;
        *i += 1;
        break;
    case 8:
        (void)pl_core_disconnect(n->s[0].core, n->now, f->a_peer, 0,
                                 (int)(a1 & 1));
        *i += 1;
        break;
    default:
        if (!f->a_up) {
            (void)pl_core_connect(n->s[0].core, n->now, &n->s[1].addr, NULL, 0,
                                  &f->a_peer);
        }
        break;
    }
    sn_pump(n);
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    static const uint8_t psk[32] = {7, 7, 7};
    parley_host_config cfg;
    sn_config(&cfg);
    cfg.encrypt = !(data[0] & 1);
    cfg.psk = cfg.encrypt && (data[0] & 2) ? psk : NULL;
    cfg.max_peers = 4;
    cfg.peer_memory = (size_t)2 << 20;
    cfg.host_memory = (size_t)8 << 20;
    cfg.recv_window = 1 << 20;
    cfg.timeout_ms = 2000;
    cfg.disconnect_timeout_ms = 500;
    parley_sim_config link;
    sn_link(&link, 5);
    static sn_net n;
    static fz_ f;
    memset(&f, 0, sizeof f);
    FUZZ_CHECK(sn_init(&n, 1, &cfg, &cfg, &link, &link) == PARLEY_OK);
    n.on_event = on_event;
    n.user = &f;
    n.tamper = tamper;
    n.tamper_user = &f;
    FUZZ_CHECK(pl_core_connect(n.s[0].core, n.now, &n.s[1].addr, NULL, 0,
                               &f.a_peer) == PARLEY_OK);
    size_t i = 1;
    for (int k = 0; k < OPS_MAX && op(&n, &f, data, size, &i); k++) {
        check_budgets(&n);
    }
    /* The script is over: tampering stops. Under encryption, tampering
       can only drop packets, so a connection both ends still hold must
       carry a message (in plaintext a flipped bit may wedge a channel). */
    n.tamper = NULL;
    sn_run_for(&n, 100 * SN_MS);
    if (cfg.encrypt && f.a_up && f.b_up &&
        pl_core_peer_state(n.s[0].core, f.a_peer) == PARLEY_PEER_CONNECTED) {
        uint64_t before = f.received;
        FUZZ_CHECK(pl_core_send(n.s[0].core, n.now, f.a_peer, 0, "ok", 2, 0,
                                NULL, NULL) == PARLEY_OK);
        sn_run_for(&n, 3 * SN_SEC);
        FUZZ_CHECK(f.received > before || !f.a_up || !f.b_up);
    }
    check_budgets(&n);
    sn_free(&n);
    return 0;
}
