/*
 * Tests for the connection scheduler heap: it always yields the connection
 * with the smallest (due, insertion) key, against a brute-force model
 * under random inserts, re-keys, requeues and removals; ties are first in,
 * first out (the round robin); and the core uses it, so a host with
 * thousands of idle peers does not scan them per datagram.
 */
#include "pt.h"

#include <stdlib.h>

#include "core/core_int.h"
#include "core/sched.h"

#define N 600

static uint64_t rng_state;

static uint64_t
rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The model: the live connection with the smallest (due, seq). */
static pl_conn *
model_min(pl_conn *cs, const int *live)
{
    pl_conn *best = NULL;
    for (int i = 0; i < N; i++) {
        if (!live[i]) {
            continue;
        }
        pl_conn *c = &cs[i];
        if (!best || c->next_due < best->next_due ||
            (c->next_due == best->next_due && c->sched_seq < best->sched_seq)) {
            best = c;
        }
    }
    return best;
}

PT_TEST(heap_matches_model_under_random_operations)
{
    rng_state = 0x9e3779b97f4a7c15u;
    pt_seed(rng_state);
    pl_conn *cs = calloc(N, sizeof *cs);
    int live[N] = {0};
    PT_TRUE(cs != NULL);
    pl_sched s;
    pl_sched_init(&s);
    for (int i = 0; i < N; i++) {
        cs[i].sched_idx = PL_SCHED_NONE;
    }
    uint32_t count = 0;
    for (int op = 0; op < 200000; op++) {
        int i = (int)(rnd() % N);
        uint64_t due = rnd() % 50; /* many ties */
        switch (rnd() % 4) {
        case 0:
            if (!live[i]) {
                PT_OK(pl_sched_reserve(&s));
                pl_sched_insert(&s, &cs[i], due);
                live[i] = 1;
                count++;
            }
            break;
        case 1:
            if (live[i]) {
                pl_sched_update(&s, &cs[i], due);
                PT_EQ_U64(cs[i].next_due, due);
            }
            break;
        case 2:
            if (live[i]) {
                pl_sched_requeue(&s, &cs[i]);
            }
            break;
        default:
            if (live[i]) {
                pl_sched_remove(&s, &cs[i]);
                PT_EQ_U64(cs[i].sched_idx, PL_SCHED_NONE);
                live[i] = 0;
                count--;
            }
            break;
        }
        PT_EQ_U64(s.n, count);
        PT_TRUE(pl_sched_top(&s) == model_min(cs, live));
    }
    pl_sched_free(&s);
    free(cs);
}

PT_TEST(ties_are_first_in_first_out)
{
    pl_conn cs[5] = {0};
    pl_sched s;
    pl_sched_init(&s);
    for (int i = 0; i < 5; i++) {
        cs[i].sched_idx = PL_SCHED_NONE;
        PT_OK(pl_sched_reserve(&s));
        pl_sched_insert(&s, &cs[i], 100);
    }
    /* Serving the top and requeueing it visits every one in turn. */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 5; i++) {
            pl_conn *c = pl_sched_top(&s);
            PT_TRUE(c == &cs[i]);
            pl_sched_requeue(&s, c);
        }
    }
    /* An earlier due time jumps the queue; a later one goes last. */
    pl_sched_update(&s, &cs[3], 50);
    PT_TRUE(pl_sched_top(&s) == &cs[3]);
    pl_sched_update(&s, &cs[3], 200);
    PT_TRUE(pl_sched_top(&s) == &cs[0]);
    pl_sched_update(&s, &cs[3], 200); /* unchanged: keeps its place */
    for (int i = 0; i < 5; i++) {
        pl_conn *c = pl_sched_top(&s);
        pl_sched_remove(&s, c);
        PT_TRUE(c == &cs[i == 4 ? 3 : (i >= 3 ? i + 1 : i)]);
    }
    PT_TRUE(pl_sched_top(&s) == NULL);
    pl_sched_free(&s);
}

PT_MAIN(PT_RUN(heap_matches_model_under_random_operations)
            PT_RUN(ties_are_first_in_first_out))
