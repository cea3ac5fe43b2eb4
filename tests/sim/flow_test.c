/*
 * Flow control in virtual time: a receiving app that stops taking
 * messages must not be flooded; the sender stalls at the advertised
 * window and resumes when the app catches up.
 */
#include "pt.h"

#include <stdlib.h>

#include "parley/parley.h"
#include "simnet.h"

#define MSG 10000
#define TOTAL 2000 /* messages: 20 MB */

typedef struct flow_ {
    parley_peer a_peer;
    uint64_t sent, got, got_bytes;
    parley_event *held;
    size_t nheld;
    int bad;
    uint8_t buf[MSG];
} flow_;

static void
on_event(sn_net *n, int side, parley_event *ev, void *user)
{
    flow_ *f = user;
    if (side != 1 || ev->type != PARLEY_EVENT_RECEIVE) {
        if (ev->type == PARLEY_EVENT_RECEIVE) {
            pl_core_release_event(n->s[side].core, ev);
        }
        return;
    }
    uint64_t idx;
    memcpy(&idx, ev->data, sizeof idx);
    if (ev->len != MSG || idx != f->got) {
        f->bad++;
    }
    f->got++;
    f->got_bytes += ev->len;
    if (n->keep[1]) {
        f->held[f->nheld++] = *ev;
    }
}

static int
feed(sn_net *n, void *arg)
{
    flow_ *f = arg;
    parley_peer_stats st;
    pl_core_peer_stats(n->s[0].core, f->a_peer, &st);
    while (f->sent < TOTAL && st.out_buffer_bytes < 512 * 1024) {
        memcpy(f->buf, &f->sent, sizeof f->sent);
        if (pl_core_send(n->s[0].core, n->now, f->a_peer, 0, f->buf, MSG, 0,
                         NULL, NULL) != PARLEY_OK) {
            break;
        }
        f->sent++;
        st.out_buffer_bytes += MSG;
    }
    return f->got == TOTAL;
}

PT_TEST(slow_app_is_not_flooded)
{
    uint64_t seed = 91;
    pt_seed(seed);
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    uint32_t window = 256 * 1024;
    cb.recv_window = window;
    parley_sim_config link;
    sn_link(&link, 10);
    link.loss_pct = 2;
    sn_net n;
    flow_ *f = calloc(1, sizeof *f);
    f->held = calloc(TOTAL, sizeof *f->held);
    PT_OK(sn_init(&n, seed, &ca, &cb, &link, &link));
    parley_peer bp;
    PT_TRUE(sn_connect(&n, &f->a_peer, &bp));
    n.on_event = on_event;
    n.user = f;
    n.keep[1] = 1; /* the app takes events but releases none */
    sn_run(&n, n.now + 10 * SN_SEC, feed, f);
    pl_core_stats cs;
    pl_core_get_stats(n.s[1].core, &cs);
    parley_peer_stats st;
    PT_OK(pl_core_peer_stats(n.s[0].core, f->a_peer, &st));
    printf("  stalled app holds %" PRIu64 " bytes (window %u), receiver "
           "memory %zu, sender queue %" PRIu64 "\n",
           f->got_bytes, window, cs.memory, st.out_buffer_bytes);
    /* At most one window plus what was in flight when it closed. */
    PT_GE_U64(f->got_bytes, window / 2);
    PT_LE_U64(f->got_bytes, window + window / 4 + 2 * MSG);
    PT_LE_U64(st.peer_window_bytes, MSG + 64);
    /* The app catches up: everything flows. */
    n.keep[1] = 0;
    for (size_t i = 0; i < f->nheld; i++) {
        pl_core_release_event(n.s[1].core, &f->held[i]);
    }
    f->nheld = 0;
    PT_TRUE(sn_run(&n, n.now + 300 * SN_SEC, feed, f));
    PT_EQ_U64(f->got, TOTAL);
    PT_EQ_INT(f->bad, 0);
    sn_free(&n);
    free(f->held);
    free(f);
}

PT_TEST(host_budget_drops_instead_of_disconnecting)
{
    uint64_t seed = 92;
    pt_seed(seed);
    parley_host_config ca, cb;
    sn_config(&ca);
    sn_config(&cb);
    cb.host_memory = 400 * 1024; /* far below the 16 MiB window */
    parley_sim_config link;
    sn_link(&link, 10);
    sn_net n;
    flow_ *f = calloc(1, sizeof *f);
    f->held = calloc(TOTAL, sizeof *f->held);
    PT_OK(sn_init(&n, seed, &ca, &cb, &link, &link));
    parley_peer bp;
    PT_TRUE(sn_connect(&n, &f->a_peer, &bp));
    n.on_event = on_event;
    n.user = f;
    n.keep[1] = 1;
    sn_run(&n, n.now + 5 * SN_SEC, feed, f);
    pl_core_stats cs;
    pl_core_get_stats(n.s[1].core, &cs);
    printf("  host budget %zu: holding %zu, %" PRIu64 " packets dropped\n",
           cb.host_memory, cs.memory, cs.dropped_memory);
    PT_LE_U64(cs.memory, cb.host_memory);
    PT_GT_U64(cs.dropped_memory, 0);
    PT_EQ_INT(pl_core_peer_state(n.s[1].core, bp), PARLEY_PEER_CONNECTED);
    n.keep[1] = 0;
    for (size_t i = 0; i < f->nheld; i++) {
        pl_core_release_event(n.s[1].core, &f->held[i]);
    }
    f->nheld = 0;
    PT_TRUE(sn_run(&n, n.now + 600 * SN_SEC, feed, f));
    PT_EQ_U64(f->got, TOTAL);
    PT_EQ_INT(f->bad, 0);
    sn_free(&n);
    free(f->held);
    free(f);
}

PT_MAIN(PT_RUN(slow_app_is_not_flooded)
            PT_RUN(host_budget_drops_instead_of_disconnecting))
