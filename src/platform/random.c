/*
 * Secure random bytes from the OS: getrandom() where present, else
 * /dev/urandom. Used for connection ids, cookies' secrets and nonces.
 */
#include "platform/os.h"

#include <fcntl.h>
#include <unistd.h>
#ifdef PL_OS_HAVE_GETRANDOM
#include <sys/random.h>
#endif

int
pl_os_random_urandom(void *buf, size_t n)
{
    unsigned char *p = buf;
    if (!buf && n > 0) {
        return PARLEY_EINVAL;
    }
    int fd;
    do {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return PARLEY_EIO;
    }
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            close(fd);
            return PARLEY_EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return PARLEY_OK;
}

#ifdef PL_OS_HAVE_GETRANDOM
/* PARLEY_ENOTSUP when the kernel lacks the call (older than 3.17). */
static int
fill_getrandom(unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return errno == ENOSYS ? PARLEY_ENOTSUP : PARLEY_EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    return PARLEY_OK;
}
#endif

int
pl_os_random(void *buf, size_t n)
{
    if (!buf && n > 0) {
        return PARLEY_EINVAL;
    }
#ifdef PL_OS_HAVE_GETRANDOM
    int rc = fill_getrandom(buf, n);
    if (rc != PARLEY_ENOTSUP) {
        return rc;
    }
#endif
    return pl_os_random_urandom(buf, n);
}
