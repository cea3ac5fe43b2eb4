/*
 * Private to src/platform: the poller object shared by the common code
 * (poller.c) and its two backends (poller_epoll.c, poller_poll.c).
 */
#ifndef PL_PLATFORM_POLLER_IMPL_H
#define PL_PLATFORM_POLLER_IMPL_H

#include <poll.h>

#include "platform/os.h"

/* One backend: called by poller.c after its own argument checks. */
typedef struct pl_poller_ops {
    int (*init)(pl_os_poller *p);
    void (*fini)(pl_os_poller *p);
    int (*add)(pl_os_poller *p, int fd, unsigned events);
    int (*mod)(pl_os_poller *p, int fd, unsigned events);
    void (*del)(pl_os_poller *p, int fd);
    int (*wait)(pl_os_poller *p, int timeout_ms, pl_os_poll_event *out,
                size_t cap, size_t *got);
} pl_poller_ops;

#ifdef PL_OS_HAVE_EPOLL
extern const pl_poller_ops pl_poller_epoll_ops;
#endif
extern const pl_poller_ops pl_poller_poll_ops;

/* What is known about one registered descriptor, indexed by fd. */
typedef struct pl_poller_reg {
    void *user;
    unsigned events;
    uint32_t slot; /* poll backend: index into pfd */
    uint8_t used;
} pl_poller_reg;

struct pl_os_poller {
    const pl_poller_ops *ops;
    pl_os_poller_backend backend;
    pl_poller_reg *reg; /* reg[fd] for fd < nreg */
    size_t nreg;
    int epfd;            /* epoll backend */
    struct pollfd *pfd;  /* poll backend: dense array of npfd */
    size_t npfd, cappfd; /* poll backend */
    size_t rotate;       /* poll backend: where the next scan starts */
};

#endif
