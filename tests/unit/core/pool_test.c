/* Tests for the free-list pools and the two-level memory budget. */
#include "pt.h"

#include "core/pool.h"
#include "parley/parley.h"
#include "util/alloc.h"

PT_TEST(records_are_reused)
{
    pl_pool p;
    pl_pool_init(&p, 48, 16);
    void *items[16];
    for (int i = 0; i < 16; i++) {
        items[i] = pl_pool_get(&p);
        PT_TRUE(items[i] != NULL);
    }
    for (int i = 0; i < 16; i++) {
        pl_pool_put(&p, items[i]);
    }
    uint64_t n0 = pl_alloc_count();
    for (int round = 0; round < 100; round++) {
        for (int i = 0; i < 16; i++) {
            items[i] = pl_pool_get(&p);
        }
        for (int i = 0; i < 16; i++) {
            pl_pool_put(&p, items[i]);
        }
    }
    PT_EQ_U64(pl_alloc_count(), n0); /* the hot path allocates nothing */
    int64_t live = pl_alloc_live();
    pl_pool_trim(&p);
    PT_EQ_INT(pl_alloc_live(), live - 16);
}

PT_TEST(cache_is_bounded)
{
    pl_pool p;
    pl_pool_init(&p, 32, 4);
    void *items[10];
    for (int i = 0; i < 10; i++) {
        items[i] = pl_pool_get(&p);
    }
    int64_t live = pl_alloc_live();
    for (int i = 0; i < 10; i++) {
        pl_pool_put(&p, items[i]);
    }
    PT_EQ_INT(p.nfree, 4);
    PT_EQ_INT(pl_alloc_live(), live - 6);
    pl_pool_trim(&p);
}

PT_TEST(buffer_classes)
{
    PT_EQ_U64(pl_buf_cap(0), 64);
    PT_EQ_U64(pl_buf_cap(64), 64);
    PT_EQ_U64(pl_buf_cap(65), 128);
    PT_EQ_U64(pl_buf_cap(1200), 2048);
    PT_EQ_U64(pl_buf_cap(65536), 65536);
    PT_EQ_U64(pl_buf_cap(65537), 65537);
    pl_bufpool bp;
    pl_bufpool_init(&bp);
    uint8_t *a = pl_buf_get(&bp, 1000);
    memset(a, 1, 1024);
    pl_buf_put(&bp, a, 1000);
    uint8_t *b = pl_buf_get(&bp, 1024); /* same class: same buffer */
    PT_TRUE(a == b);
    pl_buf_put(&bp, b, 1024);
    uint8_t *big = pl_buf_get(&bp, 100000);
    memset(big, 2, 100000);
    pl_buf_put(&bp, big, 100000);
    pl_bufpool_trim(&bp);
}

PT_TEST(budget_two_levels)
{
    size_t peer = 0, host = 0;
    pl_budget b = {&peer, 100, &host, 150};
    PT_OK(pl_budget_take(&b, 60));
    PT_ERR(pl_budget_take(&b, 41), PARLEY_ENOBUFS);
    PT_EQ_U64(peer, 60); /* a refused charge changes nothing */
    size_t peer2 = 0;
    pl_budget b2 = {&peer2, 100, &host, 150};
    PT_OK(pl_budget_take(&b2, 90));
    PT_ERR(pl_budget_take(&b, 1), PARLEY_EFULL);
    PT_EQ_U64(host, 150);
    pl_budget_give(&b2, 90);
    PT_OK(pl_budget_take(&b, 40));
    pl_budget_give(&b, 1000); /* over-giving clamps at 0 */
    PT_EQ_U64(peer, 0);
}

PT_MAIN(PT_RUN(records_are_reused) PT_RUN(cache_is_bounded)
            PT_RUN(buffer_classes) PT_RUN(budget_two_levels))
