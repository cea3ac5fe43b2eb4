/* Tests for reassembly: any order, duplicates, re-cut pieces, bounds. */
#include "pt.h"

#include <stdlib.h>

#include "core/fragment.h"
#include "parley/parley.h"
#include "util/alloc.h"
#include "util/rng.h"

static uint8_t
byte_at(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 9));
}

static void
add(pl_reasm *r, pl_bufpool *bp, const pl_budget *b, const uint8_t *src,
    uint32_t off, uint32_t len, int want)
{
    PT_ERR(pl_reasm_add(r, bp, b, off, src + off, len), want);
}

PT_TEST(any_order_with_duplicates_and_recut)
{
    uint64_t seed = 5;
    pt_seed(seed);
    pl_rng rng;
    pl_rng_seed(&rng, seed);
    size_t peer = 0, host = 0;
    pl_budget b = {&peer, 16 << 20, &host, 16 << 20};
    pl_bufpool bp;
    pl_bufpool_init(&bp);
    uint32_t total = 300000; /* five blocks */
    uint8_t *src = malloc(total);
    for (uint32_t i = 0; i < total; i++) {
        src[i] = byte_at(i);
    }
    pl_reasm r;
    PT_OK(pl_reasm_init(&r, total, &b));
    int pieces = 0;
    while (!pl_reasm_done(&r)) {
        uint32_t off = (uint32_t)pl_rng_range(&rng, 0, total - 1);
        uint32_t len = (uint32_t)pl_rng_range(&rng, 1, 1500);
        if (len > total - off) {
            len = total - off;
        }
        add(&r, &bp, &b, src, off, len, PARLEY_OK);
        PT_LE_U64(r.got, total);
        PT_LE_U64(r.niv, PL_REASM_MAX_RANGES);
        pieces++;
    }
    PT_GT_INT(pieces, 200);
    PT_EQ_INT(r.niv, 1);
    uint8_t *out;
    size_t charged;
    PT_OK(pl_reasm_take(&r, &bp, &b, &out, &charged));
    PT_EQ_MEM(out, src, total);
    PT_EQ_U64(charged, pl_buf_cap(total));
    PT_EQ_U64(peer, charged);
    PT_EQ_U64(host, charged);
    pl_buf_put(&bp, out, total);
    pl_budget_give(&b, charged);
    PT_EQ_U64(peer, 0);
    free(src);
    pl_bufpool_trim(&bp);
}

PT_TEST(small_message_is_not_copied)
{
    size_t peer = 0;
    pl_budget b = {&peer, 1 << 20, NULL, 0};
    pl_bufpool bp;
    pl_bufpool_init(&bp);
    uint8_t src[3000];
    for (size_t i = 0; i < sizeof src; i++) {
        src[i] = byte_at(i);
    }
    pl_reasm r;
    PT_OK(pl_reasm_init(&r, sizeof src, &b));
    add(&r, &bp, &b, src, 2000, 1000, PARLEY_OK);
    uint8_t *block = r.one;
    add(&r, &bp, &b, src, 0, 2000, PARLEY_OK);
    uint8_t *out;
    size_t charged;
    PT_OK(pl_reasm_take(&r, &bp, &b, &out, &charged));
    PT_TRUE(out == block);
    PT_EQ_MEM(out, src, sizeof src);
    pl_buf_put(&bp, out, sizeof src);
    pl_budget_give(&b, charged);
    pl_bufpool_trim(&bp);
}

PT_TEST(bad_pieces_are_refused)
{
    size_t peer = 0;
    pl_budget b = {&peer, 1 << 20, NULL, 0};
    pl_bufpool bp;
    pl_bufpool_init(&bp);
    uint8_t src[100] = {0};
    pl_reasm r;
    PT_ERR(pl_reasm_init(&r, 0, &b), PARLEY_EPROTO);
    PT_OK(pl_reasm_init(&r, 100, &b));
    PT_ERR(pl_reasm_add(&r, &bp, &b, 90, src, 11), PARLEY_EPROTO);
    PT_ERR(pl_reasm_add(&r, &bp, &b, 101, src, 1), PARLEY_EPROTO);
    PT_ERR(pl_reasm_add(&r, &bp, &b, 0, src, 0), PARLEY_EPROTO);
    PT_ERR(pl_reasm_add(&r, &bp, &b, UINT32_MAX, src, 2), PARLEY_EPROTO);
    PT_EQ_U64(r.got, 0);
    pl_reasm_free(&r, &bp, &b);
    PT_EQ_U64(peer, 0);
    pl_bufpool_trim(&bp);
}

PT_TEST(memory_follows_arrivals_not_claims)
{
    size_t peer = 0, host = 0;
    size_t cap = 1 << 20;
    pl_budget b = {&peer, cap, &host, (size_t)1 << 30};
    pl_bufpool bp;
    pl_bufpool_init(&bp);
    uint8_t piece[100];
    memset(piece, 1, sizeof piece);
    int64_t live0 = pl_alloc_live();
    pl_reasm r;
    /* A 4 GiB - 1 claim costs a block table, not 4 GiB. */
    PT_OK(pl_reasm_init(&r, UINT32_MAX, &b));
    PT_LE_U64(peer, (UINT32_MAX / PL_REASM_BLOCK + 1) * sizeof(void *));
    PT_OK(pl_reasm_add(&r, &bp, &b, 12345, piece, sizeof piece));
    PT_LE_U64(peer, 600 * 1024);
    /* Scattered pieces: each new block is charged until the cap says no. */
    int ok = 0, refused = 0;
    for (uint32_t blk = 1; blk < 64; blk++) {
        int rc = pl_reasm_add(&r, &bp, &b, blk * 3 * PL_REASM_BLOCK, piece,
                              sizeof piece);
        if (rc == PARLEY_OK) {
            ok++;
        } else {
            PT_EQ_INT(rc, PARLEY_ENOBUFS);
            refused++;
        }
        PT_LE_U64(peer, cap);
    }
    PT_GT_INT(refused, 0);
    PT_LT_INT(ok, 16);
    pl_reasm_free(&r, &bp, &b);
    PT_EQ_U64(peer, 0);
    PT_EQ_U64(host, 0);
    pl_bufpool_trim(&bp);
    PT_EQ_INT(pl_alloc_live(), live0);
}

PT_TEST(too_many_holes)
{
    size_t peer = 0;
    pl_budget b = {&peer, 64 << 20, NULL, 0};
    pl_bufpool bp;
    pl_bufpool_init(&bp);
    uint32_t total = 2 * PL_REASM_MAX_RANGES + 10;
    pl_reasm r;
    PT_OK(pl_reasm_init(&r, total, &b));
    uint8_t x = 0;
    int rc = PARLEY_OK;
    uint32_t off = 0;
    for (; off < total && rc == PARLEY_OK; off += 2) {
        rc = pl_reasm_add(&r, &bp, &b, off, &x, 1);
    }
    PT_ERR(rc, PARLEY_EPROTO);
    PT_EQ_U64(r.niv, PL_REASM_MAX_RANGES);
    /* Filling holes still works. */
    PT_OK(pl_reasm_add(&r, &bp, &b, 1, &x, 1));
    PT_EQ_U64(r.niv, PL_REASM_MAX_RANGES - 1);
    pl_reasm_free(&r, &bp, &b);
    PT_EQ_U64(peer, 0);
    pl_bufpool_trim(&bp);
}

PT_MAIN(PT_RUN(any_order_with_duplicates_and_recut)
            PT_RUN(small_message_is_not_copied) PT_RUN(bad_pieces_are_refused)
                PT_RUN(memory_follows_arrivals_not_claims)
                    PT_RUN(too_many_holes))
