/*
 * A descriptor that another thread or a signal handler can make readable
 * to end a poller wait: eventfd on Linux, a nonblocking self-pipe
 * elsewhere (and on request, so both paths are tested).
 */
#include "platform/os.h"

#include <fcntl.h>
#include <unistd.h>
#ifdef PL_OS_HAVE_EVENTFD
#include <sys/eventfd.h>
#endif

#include "util/alloc.h"

struct pl_os_wakeup {
    int rfd; /* polled and drained */
    int wfd; /* written by signal; == rfd for eventfd */
    pl_os_wakeup_backend backend;
};

static int
open_pipe(pl_os_wakeup *w)
{
    int fds[2];
#if defined(__linux__)
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) {
        return pl_sa_errno();
    }
#else
    if (pipe(fds) < 0) {
        return pl_sa_errno();
    }
    if (pl_sa_set_nonblock_cloexec(fds[0]) != PARLEY_OK ||
        pl_sa_set_nonblock_cloexec(fds[1]) != PARLEY_OK) {
        close(fds[0]);
        close(fds[1]);
        return PARLEY_EIO;
    }
#endif
    w->rfd = fds[0];
    w->wfd = fds[1];
    return PARLEY_OK;
}

static int
open_backend(pl_os_wakeup *w)
{
    switch (w->backend) {
#ifdef PL_OS_HAVE_EVENTFD
    case PL_OS_WAKEUP_EVENTFD:
        w->rfd = w->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        return w->rfd < 0 ? pl_sa_errno() : PARLEY_OK;
#endif
    case PL_OS_WAKEUP_PIPE:
        return open_pipe(w);
    default:
        return PARLEY_ENOTSUP;
    }
}

int
pl_os_wakeup_create(pl_os_wakeup_backend backend, pl_os_wakeup **out)
{
    if (!out) {
        return PARLEY_EINVAL;
    }
    if (backend == PL_OS_WAKEUP_DEFAULT) {
#ifdef PL_OS_HAVE_EVENTFD
        backend = PL_OS_WAKEUP_EVENTFD;
#else
        backend = PL_OS_WAKEUP_PIPE;
#endif
    }
    pl_os_wakeup *w = pl_calloc(1, sizeof *w);
    if (!w) {
        return PARLEY_ENOMEM;
    }
    w->backend = backend;
    int rc = open_backend(w);
    if (rc != PARLEY_OK) {
        pl_free(w);
        return rc;
    }
    *out = w;
    return PARLEY_OK;
}

void
pl_os_wakeup_destroy(pl_os_wakeup *w)
{
    if (!w) {
        return;
    }
    if (w->wfd != w->rfd) {
        pl_os_close(w->wfd);
    }
    pl_os_close(w->rfd);
    pl_free(w);
}

int
pl_os_wakeup_fd(const pl_os_wakeup *w)
{
    return w ? w->rfd : PARLEY_EINVAL;
}

int
pl_os_wakeup_signal(pl_os_wakeup *w)
{
    /* Only write(2) and errno here: both are async-signal-safe. */
    uint64_t one = 1;
    size_t len = w->backend == PL_OS_WAKEUP_PIPE ? 1 : sizeof one;
    int saved = errno;
    ssize_t n;
    do {
        n = write(w->wfd, &one, len);
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full or the counter saturated, so the fd is
     * already readable and the wakeup is not lost. */
    int rc = (n >= 0 || errno == EAGAIN) ? PARLEY_OK : PARLEY_EIO;
    errno = saved;
    return rc;
}

void
pl_os_wakeup_drain(pl_os_wakeup *w)
{
    uint64_t buf[16];
    size_t len = w->backend == PL_OS_WAKEUP_PIPE ? sizeof buf : sizeof buf[0];
    ssize_t n;
    do {
        n = read(w->rfd, buf, len);
    } while (n > 0 || (n < 0 && errno == EINTR));
}
