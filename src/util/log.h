/*
 * Internal logging: formats a line and hands it to the app's callback set
 * with parley_log_set. Silent (and cheap) when no callback is set.
 */
#ifndef PL_UTIL_LOG_H
#define PL_UTIL_LOG_H

#include "parley/common.h"

#if defined(__GNUC__) || defined(__clang__)
#define PL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PL_PRINTF(f, a)
#endif

/* Nonzero when a message at this level would reach a callback. */
int pl_log_enabled(parley_log_level level);

void pl_log(parley_log_level level, const char *module, const char *fmt, ...)
    PL_PRINTF(3, 4);

#define PL_LOG_ERROR(mod, ...) pl_log(PARLEY_LOG_ERROR, mod, __VA_ARGS__)
#define PL_LOG_WARN(mod, ...) pl_log(PARLEY_LOG_WARN, mod, __VA_ARGS__)
#define PL_LOG_INFO(mod, ...) pl_log(PARLEY_LOG_INFO, mod, __VA_ARGS__)
#define PL_LOG_DEBUG(mod, ...)                                                 \
    do {                                                                       \
        if (pl_log_enabled(PARLEY_LOG_DEBUG)) {                                \
            pl_log(PARLEY_LOG_DEBUG, mod, __VA_ARGS__);                        \
        }                                                                      \
    } while (0)

#endif
