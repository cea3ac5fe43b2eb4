/*
 * The one allocation wrapper: every allocation in the library goes through
 * these, so that the app can replace the allocator and tests can make the
 * Nth allocation fail.
 */
#ifndef PL_UTIL_ALLOC_H
#define PL_UTIL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *pl_malloc(size_t size);
void *pl_calloc(size_t count, size_t size); /* overflow-checked */
void *pl_realloc(void *ptr, size_t size);
void pl_free(void *ptr);

/*
 * Test hook: the nth allocation from now fails (1 = the next one), and
 * only that one; 0 turns the hook off. Returns nothing; see
 * pl_alloc_count for how many allocations succeeded so far.
 */
void pl_alloc_fail_nth(uint64_t n);

/* Allocations attempted since start (successful or not). */
uint64_t pl_alloc_count(void);

/* Allocations not yet freed (balance of malloc/calloc and free). */
int64_t pl_alloc_live(void);

#endif
