/*
 * The epoll backend of the poller (Linux): level-triggered, one
 * epoll_ctl per add/mod/del, one epoll_wait per wait.
 */
#include "platform/poller_impl.h"

#ifdef PL_OS_HAVE_EPOLL

#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Most events taken from the kernel per wait call. */
#define EPOLL_MAX_EVENTS 64

static uint32_t
to_epoll(unsigned events)
{
    return ((events & PL_OS_POLL_IN) ? EPOLLIN : 0u) |
           ((events & PL_OS_POLL_OUT) ? EPOLLOUT : 0u);
}

static unsigned
from_epoll(uint32_t ev)
{
    return ((ev & EPOLLIN) ? PL_OS_POLL_IN : 0u) |
           ((ev & EPOLLOUT) ? PL_OS_POLL_OUT : 0u) |
           ((ev & EPOLLERR) ? PL_OS_POLL_ERR : 0u) |
           ((ev & EPOLLHUP) ? PL_OS_POLL_HUP : 0u);
}

static int
epoll_init(pl_os_poller *p)
{
    p->epfd = epoll_create1(EPOLL_CLOEXEC);
    return p->epfd < 0 ? pl_sa_errno() : PARLEY_OK;
}

static void
epoll_fini(pl_os_poller *p)
{
    pl_os_close(p->epfd);
    p->epfd = -1;
}

static int
ctl(pl_os_poller *p, int op, int fd, unsigned events)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = to_epoll(events);
    ev.data.fd = fd;
    if (epoll_ctl(p->epfd, op, fd, &ev) < 0) {
        return pl_sa_errno();
    }
    return PARLEY_OK;
}

static int
epoll_add(pl_os_poller *p, int fd, unsigned events)
{
    return ctl(p, EPOLL_CTL_ADD, fd, events);
}

static int
epoll_mod(pl_os_poller *p, int fd, unsigned events)
{
    return ctl(p, EPOLL_CTL_MOD, fd, events);
}

static void
epoll_del(pl_os_poller *p, int fd)
{
    /* Fails only if fd was closed first; the registration goes anyway. */
    (void)ctl(p, EPOLL_CTL_DEL, fd, 0);
}

static int
epoll_wait_events(pl_os_poller *p, int timeout_ms, pl_os_poll_event *out,
                  size_t cap, size_t *got)
{
    struct epoll_event evs[EPOLL_MAX_EVENTS];
    int max = cap < EPOLL_MAX_EVENTS ? (int)cap : EPOLL_MAX_EVENTS;
    int n = epoll_wait(p->epfd, evs, max, timeout_ms);
    if (n < 0) {
        return errno == EINTR ? PARLEY_EINTR : pl_sa_errno();
    }
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd < 0 || (size_t)fd >= p->nreg || !p->reg[fd].used) {
            continue; /* cannot happen: deleted fds leave the epoll set */
        }
        out[k].fd = fd;
        out[k].events = from_epoll(evs[i].events);
        out[k].user = p->reg[fd].user;
        k++;
    }
    *got = k;
    return PARLEY_OK;
}

const pl_poller_ops pl_poller_epoll_ops = {
    epoll_init, epoll_fini, epoll_add, epoll_mod, epoll_del, epoll_wait_events,
};

#endif
