/*
 * The computer's name, the default sender of network objects and the
 * default client name (Vizard's viz.getComputerName()), made printable
 * ASCII; "parley" when the OS has none.
 */
#include <string.h>

#include "platform/platform.h"
#include "session/session_int.h"

void
pl_sess_hostname(char *buf, size_t cap)
{
    char raw[256];
    size_t n;

    if (cap == 0) {
        return;
    }
    memset(raw, 0, sizeof raw);
    if (pl_os_hostname(raw, sizeof raw) != PARLEY_OK || raw[0] == '\0') {
        pl_sess_copy_name(buf, cap, "parley", 6);
        return;
    }
    n = strlen(raw);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c < 0x21 || c > 0x7e) {
            raw[i] = '_'; /* host names are ASCII; keep them printable */
        }
    }
    pl_sess_copy_name(
        buf, cap < PARLEY_NAME_MAX + 1 ? cap : PARLEY_NAME_MAX + 1, raw, n);
}
