/*
 * pt: parley's small test harness. Typed asserts print both operands and
 * the place; a failed assert ends the current test (not the run). Each
 * test file defines tests with PT_TEST and lists them in PT_MAIN; the
 * runner prints one line per test and closes with "N passed, N failed".
 *
 *   PT_TEST(parses_ipv4) { PT_EQ_INT(f(), 3); }
 *   PT_MAIN(PT_RUN(parses_ipv4))
 *
 * A test may register a seed to be printed if it fails (pt_seed).
 * Run a single test with: ./unit_test NAME
 */
#ifndef PT_H
#define PT_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jmp_buf pt_jmp_;
static int pt_failed_;
static uint64_t pt_seed_;
static int pt_has_seed_;

static inline void
pt_seed(uint64_t seed)
{
    pt_seed_ = seed;
    pt_has_seed_ = 1;
}

#define PT_FAIL_(...)                                                          \
    do {                                                                       \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                      \
        fprintf(stderr, __VA_ARGS__);                                          \
        fprintf(stderr, "\n");                                                 \
        pt_failed_ = 1;                                                        \
        longjmp(pt_jmp_, 1);                                                   \
    } while (0)

#define PT_TRUE(c)                                                             \
    do {                                                                       \
        if (!(c)) {                                                            \
            PT_FAIL_("expected true: %s", #c);                                 \
        }                                                                      \
    } while (0)

#define PT_CMP_(T, fmt, a, op, b)                                              \
    do {                                                                       \
        T pt_a_ = (T)(a);                                                      \
        T pt_b_ = (T)(b);                                                      \
        if (!(pt_a_ op pt_b_)) {                                               \
            PT_FAIL_("expected %s %s %s, got %" fmt " vs %" fmt, #a, #op, #b,  \
                     pt_a_, pt_b_);                                            \
        }                                                                      \
    } while (0)

#define PT_EQ_INT(a, b) PT_CMP_(intmax_t, PRIdMAX, a, ==, b)
#define PT_NE_INT(a, b) PT_CMP_(intmax_t, PRIdMAX, a, !=, b)
#define PT_LT_INT(a, b) PT_CMP_(intmax_t, PRIdMAX, a, <, b)
#define PT_LE_INT(a, b) PT_CMP_(intmax_t, PRIdMAX, a, <=, b)
#define PT_GT_INT(a, b) PT_CMP_(intmax_t, PRIdMAX, a, >, b)
#define PT_GE_INT(a, b) PT_CMP_(intmax_t, PRIdMAX, a, >=, b)
#define PT_EQ_U64(a, b) PT_CMP_(uint64_t, PRIu64, a, ==, b)
#define PT_LE_U64(a, b) PT_CMP_(uint64_t, PRIu64, a, <=, b)
#define PT_GE_U64(a, b) PT_CMP_(uint64_t, PRIu64, a, >=, b)
#define PT_LT_U64(a, b) PT_CMP_(uint64_t, PRIu64, a, <, b)
#define PT_GT_U64(a, b) PT_CMP_(uint64_t, PRIu64, a, >, b)
#define PT_EQ_DBL(a, b) PT_CMP_(double, "g", a, ==, b)
#define PT_LE_DBL(a, b) PT_CMP_(double, "g", a, <=, b)
#define PT_GE_DBL(a, b) PT_CMP_(double, "g", a, >=, b)
#define PT_NEAR_DBL(a, b, tol)                                                 \
    do {                                                                       \
        double pt_x_ = (double)(a), pt_y_ = (double)(b);                       \
        double pt_d_ = pt_x_ > pt_y_ ? pt_x_ - pt_y_ : pt_y_ - pt_x_;          \
        if (!(pt_d_ <= (double)(tol))) {                                       \
            PT_FAIL_("expected %s ~ %s within %g, got %g vs %g", #a, #b,       \
                     (double)(tol), pt_x_, pt_y_);                             \
        }                                                                      \
    } while (0)

/* A parley status must be PARLEY_OK (prints its name otherwise). */
#define PT_OK(expr) PT_ERR(expr, 0)
#define PT_ERR(expr, want)                                                     \
    do {                                                                       \
        int pt_e_ = (int)(expr);                                               \
        int pt_w_ = (int)(want);                                               \
        if (pt_e_ != pt_w_) {                                                  \
            PT_FAIL_("%s: expected %s (%d), got %s (%d)", #expr,               \
                     parley_err_name(pt_w_), pt_w_, parley_err_name(pt_e_),    \
                     pt_e_);                                                   \
        }                                                                      \
    } while (0)

#define PT_EQ_STR(a, b)                                                        \
    do {                                                                       \
        const char *pt_s_ = (a), *pt_t_ = (b);                                 \
        if (!pt_s_ || !pt_t_ || strcmp(pt_s_, pt_t_) != 0) {                   \
            PT_FAIL_("expected %s == %s, got \"%s\" vs \"%s\"", #a, #b,        \
                     pt_s_ ? pt_s_ : "(null)", pt_t_ ? pt_t_ : "(null)");      \
        }                                                                      \
    } while (0)

/* Byte-exact comparison; reports the first differing offset. */
#define PT_EQ_MEM(a, b, n)                                                     \
    do {                                                                       \
        const unsigned char *pt_p_ = (const unsigned char *)(a);               \
        const unsigned char *pt_q_ = (const unsigned char *)(b);               \
        size_t pt_n_ = (size_t)(n);                                            \
        for (size_t pt_i_ = 0; pt_i_ < pt_n_; pt_i_++) {                       \
            if (pt_p_[pt_i_] != pt_q_[pt_i_]) {                                \
                PT_FAIL_("%s and %s differ at byte %zu of %zu: 0x%02x vs "     \
                         "0x%02x",                                             \
                         #a, #b, pt_i_, pt_n_, pt_p_[pt_i_], pt_q_[pt_i_]);    \
            }                                                                  \
        }                                                                      \
    } while (0)

#define PT_TEST(name) static void name(void)

static const char *pt_only_;
static int pt_pass_n_, pt_fail_n_;

/* Runs one test; setjmp lives here so no caller local is clobbered. */
static void
pt_run_(void (*fn)(void), const char *name)
{
    if (pt_only_ && strcmp(pt_only_, name) != 0) {
        return;
    }
    pt_failed_ = 0;
    pt_has_seed_ = 0;
    if (setjmp(pt_jmp_) == 0) {
        fn();
    }
    if (pt_failed_) {
        pt_fail_n_++;
        if (pt_has_seed_) {
            fprintf(stderr, "  seed: %" PRIu64 "\n", pt_seed_);
        }
        printf("FAIL %s\n", name);
    } else {
        pt_pass_n_++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

#define PT_RUN(name) pt_run_(name, #name);

#define PT_MAIN(...)                                                           \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        pt_only_ = argc > 1 ? argv[1] : NULL;                                  \
        __VA_ARGS__                                                            \
        printf("%d passed, %d failed\n", pt_pass_n_, pt_fail_n_);              \
        return (pt_fail_n_ || pt_pass_n_ == 0) ? 1 : 0;                        \
    }

#endif
