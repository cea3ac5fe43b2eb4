/*
 * The log hook. Messages longer than one line buffer are cut short; the
 * library never writes to stdout or stderr itself.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

static parley_log_fn g_fn;
static void *g_user;
static parley_log_level g_max = PARLEY_LOG_WARN;

void
parley_log_set(parley_log_fn fn, void *user, parley_log_level max_level)
{
    g_fn = fn;
    g_user = user;
    g_max = max_level;
}

int
pl_log_enabled(parley_log_level level)
{
    return g_fn != NULL && level <= g_max;
}

void
pl_log(parley_log_level level, const char *module, const char *fmt, ...)
{
    if (!pl_log_enabled(level)) {
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    g_fn(g_user, level, module ? module : "parley", line);
}
