/*
 * Tests for the monotonic clock (never decreases, follows a sleep) and
 * secure random (fills whole buffers, draws differ) on both the
 * getrandom and the /dev/urandom paths.
 */
#include "pt.h"

#include <time.h>

#include "parley/parley.h"
#include "platform/platform.h"

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

PT_TEST(clock_never_decreases)
{
    uint64_t prev = pl_os_now_us();
    for (int i = 0; i < 200000; i++) {
        uint64_t now = (i & 1) ? pl_os_now_us() : parley_time_us();
        PT_LE_U64(prev, now);
        prev = now;
    }
}

PT_TEST(clock_follows_sleep)
{
    uint64_t t0 = parley_time_us();
    sleep_ms(50);
    uint64_t dt = parley_time_us() - t0;
    PT_GE_U64(dt, 50000);
    PT_LT_U64(dt, 2000000); /* generous: a loaded machine */
}

/* Counts bits set, to see the bytes are spread over the whole buffer. */
static int
popcount_range(const unsigned char *p, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++) {
        for (unsigned v = p[i]; v; v >>= 1) {
            c += (int)(v & 1u);
        }
    }
    return c;
}

static void
check_generator(int (*fill)(void *, size_t))
{
    enum { N = 4096 };
    static unsigned char a[N], b[N];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    PT_OK(fill(a, sizeof a));
    PT_OK(fill(b, sizeof b));
    PT_TRUE(memcmp(a, b, N) != 0);
    /* Each quarter holds about half ones: 4096 of 8192 bits, sd ~45. */
    for (int q = 0; q < 4; q++) {
        int ones = popcount_range(a + q * (N / 4), N / 4);
        PT_GT_INT(ones, 4096 - 600);
        PT_LT_INT(ones, 4096 + 600);
    }
    /* Both ends are written: 8 zero bytes by chance is 2^-64. */
    static const unsigned char zero[8];
    PT_TRUE(memcmp(a, zero, 8) != 0);
    PT_TRUE(memcmp(a + N - 8, zero, 8) != 0);
    PT_TRUE(memcmp(b + N - 8, zero, 8) != 0);
    /* Single bytes too: 64 draws of one byte cannot all be zero. */
    int nonzero = 0;
    for (int i = 0; i < 64; i++) {
        unsigned char one = 0;
        PT_OK(fill(&one, 1));
        nonzero += one != 0;
    }
    PT_GT_INT(nonzero, 32);
    PT_OK(fill(NULL, 0));
    PT_ERR(fill(NULL, 1), PARLEY_EINVAL);
}

PT_TEST(random_default)
{
    check_generator(pl_os_random);
}

PT_TEST(random_urandom_fallback)
{
    check_generator(pl_os_random_urandom);
}

PT_TEST(random_large_buffer)
{
    /* 1 MiB: far more than getrandom() promises in one call (256 bytes),
     * so the loop around it must complete the buffer. */
    enum { N = 1 << 20 };
    unsigned char *p = calloc(1, N);
    PT_TRUE(p != NULL);
    PT_OK(pl_os_random(p, N));
    int zero_tail = 1;
    for (size_t i = N - 64; i < N; i++) {
        zero_tail &= p[i] == 0;
    }
    int ones = popcount_range(p, N);
    free(p);
    PT_TRUE(!zero_tail);
    PT_GT_INT(ones, N * 4 - 20000);
    PT_LT_INT(ones, N * 4 + 20000);
}

PT_MAIN(PT_RUN(clock_never_decreases) PT_RUN(clock_follows_sleep)
            PT_RUN(random_default) PT_RUN(random_urandom_fallback)
                PT_RUN(random_large_buffer))
