/*
 * Common definitions for every parley header: the export macro, the
 * version, the process-wide allocator hook and the log callback.
 * Public headers are C99-compatible and include no OS headers.
 */
#ifndef PARLEY_COMMON_H
#define PARLEY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PARLEY_STATIC)
#define PARLEY_API
#elif defined(__GNUC__) || defined(__clang__)
#define PARLEY_API __attribute__((visibility("default")))
#else
#define PARLEY_API
#endif

#define PARLEY_VERSION_MAJOR 0
#define PARLEY_VERSION_MINOR 1
#define PARLEY_VERSION_PATCH 0
#define PARLEY_VERSION_STRING "0.1.0"

/* The library's version as "MAJOR.MINOR.PATCH". Never NULL. */
PARLEY_API const char *parley_version(void);

/*
 * Replaces the allocator used for everything the library allocates.
 * All three functions must be given, or all three NULL to restore the C
 * library's. Call it before creating any parley object: memory allocated
 * by one allocator must not be freed by another.
 * Returns PARLEY_OK or PARLEY_EINVAL (some but not all NULL).
 * Not thread-safe: call it once at start-up.
 */
typedef void *(*parley_malloc_fn)(size_t size);
typedef void *(*parley_realloc_fn)(void *ptr, size_t size);
typedef void (*parley_free_fn)(void *ptr);
PARLEY_API int parley_replace_allocator(parley_malloc_fn malloc_fn,
                                        parley_realloc_fn realloc_fn,
                                        parley_free_fn free_fn);

/* Log levels, most to least severe. */
typedef enum parley_log_level {
    PARLEY_LOG_ERROR = 0,
    PARLEY_LOG_WARN = 1,
    PARLEY_LOG_INFO = 2,
    PARLEY_LOG_DEBUG = 3
} parley_log_level;

/*
 * Receives the library's diagnostics. module names the part of the
 * library ("platform", "sim", ...); msg is one line without a newline.
 * Both strings live only during the call.
 */
typedef void (*parley_log_fn)(void *user, parley_log_level level,
                              const char *module, const char *msg);

/*
 * Sets the process-wide log callback and the most verbose level passed to
 * it. The library is silent by default (fn NULL). The callback may be
 * called from any thread that calls into parley; it must not call parley.
 * Not thread-safe against concurrent calls of itself.
 */
PARLEY_API void parley_log_set(parley_log_fn fn, void *user,
                               parley_log_level max_level);

#ifdef __cplusplus
}
#endif

#endif
