/*
 * Internal to the RV endpoint: the parley_rv object shared by rv.c (life
 * cycle, sockets, the service loop) and rv_api.c (sends, queries and the
 * blocking calls).
 */
#ifndef PL_DRIVER_RV_EP_H
#define PL_DRIVER_RV_EP_H

#include <stdatomic.h>

#include "driver/rv_conn.h"
#include "platform/platform.h"

/* One contact slot; a contact id is (gen << 32) | (index + 1). */
typedef struct pl_rv_slot {
    pl_rv_conn *c; /* NULL: free */
    uint32_t gen;
    int fd;
    unsigned interest; /* PL_OS_POLL_ bits registered (0: not in poller) */
    int tcp_up;
    int out_full; /* the last write hit EAGAIN: wait for writability */
} pl_rv_slot;

/* A blocking call waiting for something about one contact. */
typedef struct pl_rv_waiter {
    struct pl_rv_waiter *next;
    parley_rv_contact contact;
    uint64_t seq;    /* RETURN wanted, or PARLEY_RV_SEQ_NONE */
    pl_rv_rec *got;  /* that RETURN, taken out of the queue */
    uint64_t hits;   /* events emitted for the contact meanwhile */
    int gone;        /* the contact was closed */
    int gone_unsent; /* ... with bytes still queued */
} pl_rv_waiter;

typedef struct pl_rv_fmt {
    struct pl_rv_fmt *next;
    int channels, bpc;
    size_t len;
    char media[];
} pl_rv_fmt;

struct parley_rv {
    parley_rv_event_fn on_event;
    void *user;
    char *name, *app;
    pl_rv_params pp;
    pl_rv_budget budget;
    pl_os_poller *poller;
    pl_os_wakeup *wake;
    atomic_int interrupted;
    int lfd;
    pl_rv_slot *slots;
    uint32_t nslots;
    pl_rv_rec *qhead, *qtail; /* events for the app, in order */
    pl_rv_waiter *waiters;
    pl_rv_fmt *fmts;
};

/* The slot of a live contact id, or NULL. */
pl_rv_slot *pl_rv_ep_lookup(parley_rv *rv, parley_rv_contact id);

/* The id of a slot. */
parley_rv_contact pl_rv_ep_id(const parley_rv *rv, const pl_rv_slot *s);

/* Writes what the socket takes of the slot's queue, then refreshes its
   poller interest (after any call that queued something). */
void pl_rv_ep_kick(parley_rv *rv, pl_rv_slot *s);

/*
 * Runs I/O until pred(rv, arg) returns something other than 1 (that is
 * returned), the deadline passes (PARLEY_ETIMEDOUT) or an interrupt
 * (PARLEY_EINTR). Events go to the callback, if any, or stay queued.
 * deadline UINT64_MAX: none.
 */
int pl_rv_ep_pump(parley_rv *rv, uint64_t deadline,
                  int (*pred)(parley_rv *rv, void *arg), void *arg);

/* The deadline for a timeout in milliseconds from now (< 0: none). */
uint64_t pl_rv_ep_deadline(int timeout_ms);

#endif
