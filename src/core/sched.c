/*
 * The connection scheduler's heap (sched.h). Each connection records its
 * index in the heap so it can be re-keyed or removed in O(log n).
 */
#include "core/sched.h"

#include <string.h>

#include "core/core_int.h"
#include "parley/error.h"
#include "util/alloc.h"

void
pl_sched_init(pl_sched *s)
{
    memset(s, 0, sizeof *s);
}

void
pl_sched_free(pl_sched *s)
{
    pl_free(s->heap);
    memset(s, 0, sizeof *s);
}

int
pl_sched_reserve(pl_sched *s)
{
    if (s->n < s->cap) {
        return PARLEY_OK;
    }
    uint32_t ncap = s->cap ? s->cap * 2 : 16;
    if (ncap < s->cap) {
        return PARLEY_ENOMEM;
    }
    pl_conn **h = pl_realloc(s->heap, (size_t)ncap * sizeof *h);
    if (!h) {
        return PARLEY_ENOMEM;
    }
    s->heap = h;
    s->cap = ncap;
    return PARLEY_OK;
}

static int
before(const pl_conn *a, const pl_conn *b)
{
    return a->next_due < b->next_due ||
           (a->next_due == b->next_due && a->sched_seq < b->sched_seq);
}

static void
place(pl_sched *s, uint32_t i, pl_conn *c)
{
    s->heap[i] = c;
    c->sched_idx = i;
}

static void
sift_up(pl_sched *s, uint32_t i)
{
    pl_conn *c = s->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(c, s->heap[parent])) {
            break;
        }
        place(s, i, s->heap[parent]);
        i = parent;
    }
    place(s, i, c);
}

static void
sift_down(pl_sched *s, uint32_t i)
{
    pl_conn *c = s->heap[i];
    for (;;) {
        uint32_t l = 2 * i + 1;
        if (l >= s->n) {
            break;
        }
        uint32_t m = l;
        if (l + 1 < s->n && before(s->heap[l + 1], s->heap[l])) {
            m = l + 1;
        }
        if (!before(s->heap[m], c)) {
            break;
        }
        place(s, i, s->heap[m]);
        i = m;
    }
    place(s, i, c);
}

void
pl_sched_insert(pl_sched *s, pl_conn *c, uint64_t due)
{
    c->next_due = due;
    c->sched_seq = s->seq++;
    place(s, s->n++, c);
    sift_up(s, c->sched_idx);
}

void
pl_sched_update(pl_sched *s, pl_conn *c, uint64_t due)
{
    uint64_t old = c->next_due;
    if (due == old) {
        return;
    }
    c->next_due = due;
    if (c->sched_idx == PL_SCHED_NONE) {
        return;
    }
    if (due < old) {
        sift_up(s, c->sched_idx);
    } else {
        sift_down(s, c->sched_idx);
    }
}

void
pl_sched_requeue(pl_sched *s, pl_conn *c)
{
    if (c->sched_idx == PL_SCHED_NONE) {
        return;
    }
    c->sched_seq = s->seq++;
    sift_down(s, c->sched_idx);
}

void
pl_sched_remove(pl_sched *s, pl_conn *c)
{
    uint32_t i = c->sched_idx;
    if (i == PL_SCHED_NONE) {
        return;
    }
    c->sched_idx = PL_SCHED_NONE;
    pl_conn *last = s->heap[--s->n];
    if (i == s->n) {
        return;
    }
    place(s, i, last);
    if (i > 0 && before(last, s->heap[(i - 1) / 2])) {
        sift_up(s, i);
    } else {
        sift_down(s, i);
    }
}

pl_conn *
pl_sched_top(const pl_sched *s)
{
    return s->n ? s->heap[0] : NULL;
}
