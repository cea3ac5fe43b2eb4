/*
 * The poller's common part: backend choice, the fd -> registration table
 * and argument checks. The OS work is done by poller_epoll.c (Linux) or
 * poller_poll.c (everywhere).
 */
#include "platform/poller_impl.h"

#include <string.h>
#include <time.h>

#include "util/alloc.h"

static const pl_poller_ops *
pick_ops(pl_os_poller_backend *backend)
{
    switch (*backend) {
    case PL_OS_POLLER_DEFAULT:
#ifdef PL_OS_HAVE_EPOLL
        *backend = PL_OS_POLLER_EPOLL;
        return &pl_poller_epoll_ops;
#else
        *backend = PL_OS_POLLER_POLL;
        return &pl_poller_poll_ops;
#endif
#ifdef PL_OS_HAVE_EPOLL
    case PL_OS_POLLER_EPOLL:
        return &pl_poller_epoll_ops;
#endif
    case PL_OS_POLLER_POLL:
        return &pl_poller_poll_ops;
    default:
        return NULL;
    }
}

int
pl_os_poller_create(pl_os_poller_backend backend, pl_os_poller **out)
{
    if (!out) {
        return PARLEY_EINVAL;
    }
    const pl_poller_ops *ops = pick_ops(&backend);
    if (!ops) {
        return PARLEY_ENOTSUP;
    }
    pl_os_poller *p = pl_calloc(1, sizeof *p);
    if (!p) {
        return PARLEY_ENOMEM;
    }
    p->ops = ops;
    p->backend = backend;
    p->epfd = -1;
    int rc = ops->init(p);
    if (rc != PARLEY_OK) {
        pl_free(p);
        return rc;
    }
    *out = p;
    return PARLEY_OK;
}

void
pl_os_poller_destroy(pl_os_poller *p)
{
    if (p) {
        p->ops->fini(p);
        pl_free(p->reg);
        pl_free(p);
    }
}

pl_os_poller_backend
pl_os_poller_backend_of(const pl_os_poller *p)
{
    return p->backend;
}

int
pl_os_poller_fd(const pl_os_poller *p)
{
    if (!p) {
        return PARLEY_EINVAL;
    }
    return p->backend == PL_OS_POLLER_EPOLL ? p->epfd : PARLEY_ENOTSUP;
}

/* Makes reg[fd] exist. */
static int
grow_reg(pl_os_poller *p, int fd)
{
    size_t need = (size_t)fd + 1;
    if (need <= p->nreg) {
        return PARLEY_OK;
    }
    size_t n = p->nreg ? p->nreg : 16;
    while (n < need) {
        n *= 2;
    }
    if (n > SIZE_MAX / sizeof *p->reg) {
        return PARLEY_ENOMEM;
    }
    pl_poller_reg *r = pl_realloc(p->reg, n * sizeof *r);
    if (!r) {
        return PARLEY_ENOMEM;
    }
    memset(r + p->nreg, 0, (n - p->nreg) * sizeof *r);
    p->reg = r;
    p->nreg = n;
    return PARLEY_OK;
}

static int
registered(const pl_os_poller *p, int fd)
{
    return fd >= 0 && (size_t)fd < p->nreg && p->reg[fd].used;
}

int
pl_os_poller_add(pl_os_poller *p, int fd, unsigned events, void *user)
{
    if (!p || fd < 0) {
        return PARLEY_EINVAL;
    }
    if (registered(p, fd)) {
        return PARLEY_EEXIST;
    }
    int rc = grow_reg(p, fd);
    if (rc == PARLEY_OK) {
        rc = p->ops->add(p, fd, events);
    }
    if (rc != PARLEY_OK) {
        return rc;
    }
    p->reg[fd].used = 1;
    p->reg[fd].events = events;
    p->reg[fd].user = user;
    return PARLEY_OK;
}

int
pl_os_poller_mod(pl_os_poller *p, int fd, unsigned events, void *user)
{
    if (!p || fd < 0) {
        return PARLEY_EINVAL;
    }
    if (!registered(p, fd)) {
        return PARLEY_ENOENT;
    }
    int rc = p->ops->mod(p, fd, events);
    if (rc != PARLEY_OK) {
        return rc;
    }
    p->reg[fd].events = events;
    p->reg[fd].user = user;
    return PARLEY_OK;
}

int
pl_os_poller_del(pl_os_poller *p, int fd)
{
    if (!p || fd < 0) {
        return PARLEY_EINVAL;
    }
    if (!registered(p, fd)) {
        return PARLEY_ENOENT;
    }
    p->ops->del(p, fd);
    memset(&p->reg[fd], 0, sizeof p->reg[fd]);
    return PARLEY_OK;
}

int
pl_os_poller_wait(pl_os_poller *p, int timeout_ms, pl_os_poll_event *out,
                  size_t cap, size_t *got)
{
    if (!p || !out || cap == 0 || !got) {
        return PARLEY_EINVAL;
    }
    *got = 0;
    return p->ops->wait(p, timeout_ms < 0 ? -1 : timeout_ms, out, cap, got);
}

/*
 * Sleeps up to us (< 1 ms) until something the poller watches is ready.
 * epoll and poll() count whole milliseconds, which would stall a paced
 * sender for up to a millisecond per gap; ppoll takes a timespec. With
 * epoll the epoll descriptor itself is polled (it is readable whenever a
 * wait would report something); with poll() the descriptor array is.
 */
#if defined(__linux__)
static int
sleep_short(pl_os_poller *p, uint64_t us)
{
    struct timespec ts = {0, (long)us * 1000};
    struct pollfd one = {p->epfd, POLLIN, 0};
    int n = p->backend == PL_OS_POLLER_EPOLL
                ? ppoll(&one, 1, &ts, NULL)
                : ppoll(p->pfd, (nfds_t)p->npfd, &ts, NULL);
    if (n < 0 && errno == EINTR) {
        return PARLEY_EINTR;
    }
    return PARLEY_OK;
}
#endif

int
pl_os_poller_wait_us(pl_os_poller *p, int64_t timeout_us, pl_os_poll_event *out,
                     size_t cap, size_t *got)
{
    if (!p || !out || cap == 0 || !got) {
        return PARLEY_EINVAL;
    }
    *got = 0;
    if (timeout_us < 0) {
        return p->ops->wait(p, -1, out, cap, got);
    }
    if (timeout_us == 0 || timeout_us >= 1000) {
        int64_t ms = (timeout_us + 999) / 1000;
        return p->ops->wait(p, ms > 0x7fffffff ? 0x7fffffff : (int)ms, out, cap,
                            got);
    }
#if defined(__linux__)
    int rc = sleep_short(p, (uint64_t)timeout_us);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return p->ops->wait(p, 0, out, cap, got);
#else
    return p->ops->wait(p, 1, out, cap, got);
#endif
}
