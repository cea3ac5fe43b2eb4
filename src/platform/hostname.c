/* The computer's name (Vizard's viz.getComputerName()). */
#include <string.h>
#include <unistd.h>

#include "platform/platform.h"

int
pl_os_hostname(char *buf, size_t cap)
{
    if (!buf || cap == 0) {
        return PARLEY_EINVAL;
    }
    char raw[256];
    memset(raw, 0, sizeof raw);
    if (gethostname(raw, sizeof raw - 1) != 0 || raw[0] == '\0') {
        buf[0] = '\0';
        return PARLEY_EIO;
    }
    size_t n = strlen(raw);
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(buf, raw, n);
    buf[n] = '\0';
    return PARLEY_OK;
}
