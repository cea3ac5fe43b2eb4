/*
 * The poll() backend of the poller, for systems without epoll and as a
 * tested fallback on Linux: a dense pollfd array, O(1) add/mod/del via
 * the slot kept in each registration, and a rotating scan start so that
 * a small out[] does not starve the descriptors at the end.
 */
#include "platform/poller_impl.h"

#include <string.h>

#include "util/alloc.h"

static short
to_poll(unsigned events)
{
    return (short)(((events & PL_OS_POLL_IN) ? POLLIN : 0) |
                   ((events & PL_OS_POLL_OUT) ? POLLOUT : 0));
}

static unsigned
from_poll(short ev)
{
    return ((ev & POLLIN) ? PL_OS_POLL_IN : 0u) |
           ((ev & POLLOUT) ? PL_OS_POLL_OUT : 0u) |
           ((ev & (POLLERR | POLLNVAL)) ? PL_OS_POLL_ERR : 0u) |
           ((ev & POLLHUP) ? PL_OS_POLL_HUP : 0u);
}

static int
poll_init(pl_os_poller *p)
{
    (void)p; /* everything starts empty */
    return PARLEY_OK;
}

static void
poll_fini(pl_os_poller *p)
{
    pl_free(p->pfd);
    p->pfd = NULL;
    p->npfd = p->cappfd = 0;
}

static int
poll_add(pl_os_poller *p, int fd, unsigned events)
{
    if (p->npfd == p->cappfd) {
        size_t n = p->cappfd ? p->cappfd * 2 : 16;
        if (n > UINT32_MAX) {
            return PARLEY_EFULL;
        }
        struct pollfd *a = pl_realloc(p->pfd, n * sizeof *a);
        if (!a) {
            return PARLEY_ENOMEM;
        }
        p->pfd = a;
        p->cappfd = n;
    }
    struct pollfd *slot = &p->pfd[p->npfd];
    slot->fd = fd;
    slot->events = to_poll(events);
    slot->revents = 0;
    p->reg[fd].slot = (uint32_t)p->npfd++;
    return PARLEY_OK;
}

static int
poll_mod(pl_os_poller *p, int fd, unsigned events)
{
    p->pfd[p->reg[fd].slot].events = to_poll(events);
    return PARLEY_OK;
}

static void
poll_del(pl_os_poller *p, int fd)
{
    uint32_t slot = p->reg[fd].slot;
    struct pollfd last = p->pfd[--p->npfd];
    if (slot != p->npfd) {
        p->pfd[slot] = last;
        p->reg[last.fd].slot = slot;
    }
}

static int
poll_wait(pl_os_poller *p, int timeout_ms, pl_os_poll_event *out, size_t cap,
          size_t *got)
{
    int n = poll(p->pfd, (nfds_t)p->npfd, timeout_ms);
    if (n < 0) {
        return errno == EINTR ? PARLEY_EINTR : pl_sa_errno();
    }
    size_t k = 0, i = 0;
    size_t start = p->npfd ? p->rotate % p->npfd : 0;
    for (; i < p->npfd && k < cap && n > 0; i++) {
        const struct pollfd *pf = &p->pfd[(start + i) % p->npfd];
        if (pf->revents == 0) {
            continue;
        }
        out[k].fd = pf->fd;
        out[k].events = from_poll(pf->revents);
        out[k].user = p->reg[pf->fd].user;
        k++;
        n--;
    }
    p->rotate = start + i;
    *got = k;
    return PARLEY_OK;
}

const pl_poller_ops pl_poller_poll_ops = {
    poll_init, poll_fini, poll_add, poll_mod, poll_del, poll_wait,
};
