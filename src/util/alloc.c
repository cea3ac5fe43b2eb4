/*
 * Allocation wrapper with a replaceable allocator and a fail-the-Nth hook
 * for tests. Counters are atomic so that threaded layers may allocate.
 */
#include "util/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "parley/error.h"

static parley_malloc_fn g_malloc = malloc;
static parley_realloc_fn g_realloc = realloc;
static parley_free_fn g_free = free;

static _Atomic uint64_t g_count;
static _Atomic uint64_t g_fail_at; /* absolute attempt number, 0 = off */
static _Atomic int64_t g_live;

int
parley_replace_allocator(parley_malloc_fn malloc_fn,
                         parley_realloc_fn realloc_fn, parley_free_fn free_fn)
{
    if (!malloc_fn && !realloc_fn && !free_fn) {
        g_malloc = malloc;
        g_realloc = realloc;
        g_free = free;
        return PARLEY_OK;
    }
    if (!malloc_fn || !realloc_fn || !free_fn) {
        return PARLEY_EINVAL;
    }
    g_malloc = malloc_fn;
    g_realloc = realloc_fn;
    g_free = free_fn;
    return PARLEY_OK;
}

/* Counts one attempt; true when the test hook says it must fail. */
static int
attempt_fails(void)
{
    uint64_t n = atomic_fetch_add(&g_count, 1) + 1;
    uint64_t at = atomic_load(&g_fail_at);
    if (at != 0 && n == at) {
        atomic_store(&g_fail_at, 0);
        return 1;
    }
    return 0;
}

void *
pl_malloc(size_t size)
{
    if (attempt_fails()) {
        return NULL;
    }
    void *p = g_malloc(size ? size : 1);
    if (p) {
        atomic_fetch_add(&g_live, 1);
    }
    return p;
}

void *
pl_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        return NULL;
    }
    size_t total = count * size;
    unsigned char *p = pl_malloc(total);
    if (p) {
        for (size_t i = 0; i < total; i++) {
            p[i] = 0;
        }
    }
    return p;
}

void *
pl_realloc(void *ptr, size_t size)
{
    if (!ptr) {
        return pl_malloc(size);
    }
    if (attempt_fails()) {
        return NULL;
    }
    return g_realloc(ptr, size ? size : 1);
}

void
pl_free(void *ptr)
{
    if (ptr) {
        atomic_fetch_sub(&g_live, 1);
        g_free(ptr);
    }
}

void
pl_alloc_fail_nth(uint64_t n)
{
    atomic_store(&g_fail_at, n ? atomic_load(&g_count) + n : 0);
}

uint64_t
pl_alloc_count(void)
{
    return atomic_load(&g_count);
}

int64_t
pl_alloc_live(void)
{
    return atomic_load(&g_live);
}
