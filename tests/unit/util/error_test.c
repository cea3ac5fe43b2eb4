/* Tests for the error list, the allocation wrapper and the log hook. */
#include "pt.h"

#include "parley/parley.h"
#include "util/alloc.h"
#include "util/log.h"

PT_TEST(names_and_messages)
{
    PT_EQ_INT(PARLEY_OK, 0);
    PT_EQ_STR(parley_err_name(PARLEY_OK), "PARLEY_OK");
    PT_EQ_STR(parley_err_name(PARLEY_ECONNREFUSED), "PARLEY_ECONNREFUSED");
    PT_EQ_STR(parley_strerror(PARLEY_ECONNREFUSED), "connection refused");
    PT_EQ_STR(parley_strerror(PARLEY_ETIMEDOUT), "timed out");
    PT_EQ_STR(parley_err_name(12345), "PARLEY_EUNKNOWN");
    PT_EQ_STR(parley_strerror(-9999), "unknown error");
}

PT_TEST(codes_are_negative_and_distinct)
{
    static const int codes[] = {
#define CODE(name, value, msg) PARLEY_##name,
        PARLEY_ERRNO_MAP(CODE)
#undef CODE
    };
    size_t n = sizeof codes / sizeof codes[0];
    PT_GE_INT(n, 30);
    for (size_t i = 1; i < n; i++) {
        PT_LT_INT(codes[i], 0);
        PT_EQ_INT(codes[i], -(int)i); /* never renumbered: dense from -1 */
        PT_TRUE(strcmp(parley_strerror(codes[i]), "unknown error") != 0);
    }
}

PT_TEST(fail_nth_allocation)
{
    void *a = pl_malloc(8);
    PT_TRUE(a != NULL);
    pl_alloc_fail_nth(2);
    void *b = pl_malloc(8);
    void *c = pl_malloc(8);
    void *d = pl_malloc(8);
    PT_TRUE(b != NULL);
    PT_TRUE(c == NULL);
    PT_TRUE(d != NULL);
    pl_free(a);
    pl_free(b);
    pl_free(d);
}

PT_TEST(calloc_overflow_and_zero)
{
    PT_TRUE(pl_calloc(SIZE_MAX / 2, 4) == NULL);
    unsigned char *p = pl_calloc(16, 4);
    PT_TRUE(p != NULL);
    for (int i = 0; i < 64; i++) {
        PT_EQ_INT(p[i], 0);
    }
    int64_t live = pl_alloc_live();
    pl_free(p);
    PT_EQ_INT(pl_alloc_live(), live - 1);
}

static size_t g_calls;
static void *
count_malloc(size_t n)
{
    g_calls++;
    return malloc(n);
}

PT_TEST(replace_allocator)
{
    PT_ERR(parley_replace_allocator(count_malloc, NULL, free), PARLEY_EINVAL);
    PT_OK(parley_replace_allocator(count_malloc, realloc, free));
    void *p = pl_malloc(4);
    PT_OK(parley_replace_allocator(NULL, NULL, NULL));
    pl_free(p);
    PT_EQ_INT(g_calls, 1);
}

static char g_line[600];
static int g_level = -1;
static void
capture(void *user, parley_log_level level, const char *module, const char *msg)
{
    (void)user;
    g_level = (int)level;
    snprintf(g_line, sizeof g_line, "%s: %s", module, msg);
}

PT_TEST(log_callback_silent_by_default)
{
    PT_TRUE(!pl_log_enabled(PARLEY_LOG_ERROR));
    pl_log(PARLEY_LOG_ERROR, "x", "nobody hears %d", 1);
    parley_log_set(capture, NULL, PARLEY_LOG_INFO);
    pl_log(PARLEY_LOG_WARN, "sim", "queue %d full", 7);
    PT_EQ_STR(g_line, "sim: queue 7 full");
    PT_EQ_INT(g_level, PARLEY_LOG_WARN);
    g_line[0] = 0;
    PL_LOG_DEBUG("sim", "too verbose");
    PT_EQ_STR(g_line, "");
    parley_log_set(NULL, NULL, PARLEY_LOG_ERROR);
    PT_TRUE(!pl_log_enabled(PARLEY_LOG_ERROR));
}

PT_TEST(version)
{
    PT_EQ_STR(parley_version(), PARLEY_VERSION_STRING);
}

PT_MAIN(PT_RUN(names_and_messages) PT_RUN(codes_are_negative_and_distinct)
            PT_RUN(fail_nth_allocation) PT_RUN(calloc_overflow_and_zero)
                PT_RUN(replace_allocator) PT_RUN(log_callback_silent_by_default)
                    PT_RUN(version))
