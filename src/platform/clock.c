/* The monotonic clock: CLOCK_MONOTONIC in microseconds. */
#include "platform/platform.h"

#include <time.h>

uint64_t
pl_os_now_us(void)
{
    struct timespec ts;
    /* Cannot fail for CLOCK_MONOTONIC with a valid pointer (POSIX). */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
parley_time_us(void)
{
    return pl_os_now_us();
}
