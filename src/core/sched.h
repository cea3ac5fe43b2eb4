/*
 * The connection scheduler: a binary min-heap of live connections keyed by
 * (next_due, sequence), so the host finds the next connection with work or
 * a timer in O(1) and re-keys one in O(log n) instead of scanning every
 * peer per datagram. Ties go first in, first out: a connection that has
 * just sent is re-queued behind every other one due as early, which is the
 * round robin that shares the link between peers.
 */
#ifndef PL_CORE_SCHED_H
#define PL_CORE_SCHED_H

#include <stdint.h>

struct pl_conn;

typedef struct pl_sched {
    struct pl_conn **heap;
    uint32_t n, cap;
    uint64_t seq; /* insertion counter (ties) */
} pl_sched;

#define PL_SCHED_NONE UINT32_MAX

void pl_sched_init(pl_sched *s);
void pl_sched_free(pl_sched *s);
/* Room for one more connection. PARLEY_OK or PARLEY_ENOMEM. */
int pl_sched_reserve(pl_sched *s);
/* Inserts c due at due (room must have been reserved). */
void pl_sched_insert(pl_sched *s, struct pl_conn *c, uint64_t due);
/* Changes c's due time; its place among equals is kept unless it moves. */
void pl_sched_update(pl_sched *s, struct pl_conn *c, uint64_t due);
/* Puts c behind every connection due as early as it is (round robin). */
void pl_sched_requeue(pl_sched *s, struct pl_conn *c);
void pl_sched_remove(pl_sched *s, struct pl_conn *c);
/* The connection due first, or NULL. */
struct pl_conn *pl_sched_top(const pl_sched *s);

#endif
