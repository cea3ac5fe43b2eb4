/* Tests for peer ids: slots with generations, stale ids never resolve. */
#include "pt.h"

#include "core/peers.h"
#include "parley/parley.h"

PT_TEST(alloc_get_release)
{
    pl_peers p;
    pl_peers_init(&p);
    struct pl_conn *c1 = (struct pl_conn *)(uintptr_t)0x1000;
    struct pl_conn *c2 = (struct pl_conn *)(uintptr_t)0x2000;
    parley_peer a, b;
    PT_OK(pl_peers_alloc(&p, c1, &a));
    PT_OK(pl_peers_alloc(&p, c2, &b));
    PT_NE_INT(a, PARLEY_PEER_NONE);
    PT_NE_INT(a, b);
    PT_TRUE(pl_peers_get(&p, a)->conn == c1);
    PT_TRUE(pl_peers_get(&p, b)->conn == c2);
    PT_TRUE(pl_peers_get(&p, PARLEY_PEER_NONE) == NULL);
    PT_EQ_INT(p.used, 2);
    pl_peers_release(&p, a);
    PT_TRUE(pl_peers_get(&p, a) == NULL);
    PT_EQ_INT(p.used, 1);
    pl_peers_release(&p, a); /* twice: harmless */
    PT_EQ_INT(p.used, 1);
    pl_peers_free(&p);
}

PT_TEST(stale_ids_never_reach_a_new_peer)
{
    pl_peers p;
    pl_peers_init(&p);
    struct pl_conn *c = (struct pl_conn *)(uintptr_t)0x1000;
    parley_peer old;
    PT_OK(pl_peers_alloc(&p, c, &old));
    for (int i = 0; i < 1000; i++) {
        parley_peer id;
        pl_peers_release(&p, old);
        PT_OK(pl_peers_alloc(&p, c, &id));
        /* Same slot, new generation. */
        PT_EQ_INT(pl_peer_slot(id), pl_peer_slot(old));
        PT_NE_INT(id, old);
        PT_TRUE(pl_peers_get(&p, old) == NULL);
        PT_TRUE(pl_peers_get(&p, id) != NULL);
        old = id;
    }
    /* Garbage ids: slot out of range, generation 0. */
    PT_TRUE(pl_peers_get(&p, (parley_peer)0xffffffffffffffffull) == NULL);
    PT_TRUE(pl_peers_get(&p, (parley_peer)1) == NULL);
    pl_peers_free(&p);
}

PT_TEST(grows)
{
    pl_peers p;
    pl_peers_init(&p);
    parley_peer ids[500];
    for (int i = 0; i < 500; i++) {
        PT_OK(
            pl_peers_alloc(&p, (struct pl_conn *)(uintptr_t)(i + 1), &ids[i]));
    }
    for (int i = 0; i < 500; i++) {
        PT_TRUE(pl_peers_get(&p, ids[i])->conn ==
                (struct pl_conn *)(uintptr_t)(i + 1));
    }
    PT_EQ_INT(p.used, 500);
    pl_peers_free(&p);
}

PT_MAIN(PT_RUN(alloc_get_release) PT_RUN(stale_ids_never_reach_a_new_peer)
            PT_RUN(grows))
