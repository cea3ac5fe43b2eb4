/*
 * Private to src/driver/tcp*.c: the TCP manager's objects and locks.
 *
 * Every connection has at most one "home" worker: the poller that has its
 * descriptor and the only thread that reads it, accepts on it, or closes
 * it while registered. The manager's own "polled" worker is stepped by the
 * app's calls (polling mode); threaded readers and listeners have one
 * worker per thread. Readers and listeners are "sinks": queues that a
 * home worker fills and the app empties.
 *
 * Locks, in the order they may be taken (never the reverse):
 *   tcp->admin_mu  app-side changes of membership (add, remove, close)
 *   w->step_mu     the polled worker's step (app threads take turns)
 *   c->mu          a connection's socket and buffers
 *   then any one of: tcp->mu (table, reset queue), w->mu (commands),
 *   s->mu (a sink's queue), the writer queue's mu.
 */
#ifndef PL_DRIVER_TCP_INT_H
#define PL_DRIVER_TCP_INT_H

#include <stdatomic.h>
#include <pthread.h>
#include <sched.h>

#include "parley/tcp.h"
#include "platform/platform.h"
#include "wire/p3d.h"

typedef struct pl_tcp_conn pl_tcp_conn;
typedef struct pl_tcp_worker pl_tcp_worker;
typedef struct pl_tcp_sink pl_tcp_sink;
typedef struct pl_tcp_item pl_tcp_item;

#define PL_TCP_MAX_THREADS 64

enum { PL_TCP_STREAM = 1, PL_TCP_RENDEZVOUS = 2 };
enum { PL_SINK_READER = 1, PL_SINK_LISTENER = 2 };

/* A queued datagram or accepted connection. */
struct pl_tcp_item {
    pl_tcp_item *next;
    parley_conn conn;
    parley_conn rendezvous;
    parley_addr addr;
    size_t len;
    uint8_t data[];
};

struct pl_tcp_conn {
    /* under tcp->mu */
    uint32_t slot, gen;
    int refs;
    int released;     /* the id is stale; the slot is free */
    int reset_queued; /* a reset entry names this connection */

    /* under c->mu */
    pthread_mutex_t mu;
    struct parley_tcp *tcp;
    int kind;
    int fd;     /* -1 once closed */
    int dead;   /* reset or closed: no more I/O */
    int reason; /* why it died (PARLEY_OK: the app closed it) */
    int app_closed;
    int connecting;               /* a connect_start in progress */
    uint64_t connect_deadline_us; /* UINT64_MAX: the OS decides */
    pl_tcp_worker *home;
    pl_tcp_worker *target; /* where the last move sent it */
    pl_tcp_sink *sink;
    parley_addr local, peer;
    parley_conn id, rendezvous;
    parley_tcp_options opt;
    int hsize_out; /* header size used for sending */
    int df_dirty;  /* opt.header / max changed: apply at a boundary */
    pl_p3d_deframer df;
    uint8_t *out; /* bytes to send: out[out_off..out_len) */
    size_t out_len, out_off, out_cap;
    size_t writer_pending;     /* framed bytes in a threaded writer's queue */
    uint64_t collect_since_us; /* 0: nothing held for collect */
    uint64_t last_rx_us, last_tx_us;
    uint64_t bytes_in, bytes_out, dg_in, dg_out;
    uint8_t *rx; /* received bytes not yet deframed (after a stall) */
    size_t rx_len, rx_off;
    pl_tcp_item *held;        /* waiting for room in the sink */
    uint64_t accept_retry_us; /* rendezvous out of descriptors: resume */

    /* home worker's thread only */
    size_t widx; /* index in home->conns */
    unsigned interest;
    pl_tcp_sink *stalled_on; /* listed in that sink's stalled list */
};

/* Commands to a worker. */
enum { PL_CMD_ADD = 1, PL_CMD_REMOVE = 2, PL_CMD_KICK = 3 };

typedef struct pl_tcp_cmd {
    int op;
    pl_tcp_conn *c; /* holds a reference */
    int *done;      /* REMOVE: set to 1 when applied */
} pl_tcp_cmd;

struct pl_tcp_worker {
    struct parley_tcp *tcp;
    pl_os_poller *poller;
    pl_os_wakeup *wake; /* commands (threaded); the app's (polled) */
    pthread_mutex_t mu;
    pthread_cond_t done_cv;
    pl_tcp_cmd *cmds;
    size_t ncmds, capcmds;
    pthread_mutex_t step_mu; /* polled worker: one stepping thread at a time */
    pl_tcp_conn **conns;     /* registered here */
    size_t nconns, capconns;
    uint8_t *buf; /* receive buffer */
    _Atomic uint64_t next_timer_us;
    atomic_int step_waiters; /* app threads waiting for step_mu */
    int threaded;
    pthread_t thread;
    atomic_int stop;
};

struct pl_tcp_sink {
    struct parley_tcp *tcp;
    int kind;
    int latest;
    pthread_mutex_t mu;
    pl_tcp_item *head, *tail;
    uint64_t count, bytes;
    uint64_t max_count, max_bytes;
    pl_tcp_conn **stalled;
    size_t nstalled, capstalled;
    uint64_t delivered, full, replaced;
    pl_tcp_worker **workers; /* threaded; NULL: the polled worker */
    int nworkers;
    int next_worker;
    pl_tcp_sink *next; /* in tcp->sinks */
};

struct parley_tcp_listener {
    pl_tcp_sink s;
};

struct parley_tcp_reader {
    pl_tcp_sink s;
};

typedef struct pl_tcp_reset_entry {
    parley_conn conn;
    int reason;
    parley_addr peer;
} pl_tcp_reset_entry;

struct parley_tcp {
    parley_tcp_config cfg;
    pthread_mutex_t admin_mu;
    pthread_mutex_t mu;
    pl_tcp_conn **slots;
    uint32_t *gens;
    uint32_t nslots, capslots, nfree_hint, live;
    pl_tcp_reset_entry *resets; /* ring */
    size_t rhead, rcount, rcap;
    pl_tcp_worker *polled;
    pl_os_wakeup *app_wake; /* the app's: parley_tcp_fd */
    atomic_int interrupted;
    atomic_long queued; /* items in all sinks */
    pl_tcp_sink *sinks; /* under admin_mu */
    struct parley_tcp_writer *writers;
};

/* ---- tcp.c: table and references ---- */

/* The connection for an id with a reference taken, or NULL. */
pl_tcp_conn *pl_tcp_lookup(parley_tcp *tcp, parley_conn id);
void pl_tcp_ref(pl_tcp_conn *c);
void pl_tcp_unref(pl_tcp_conn *c);

/*
 * Creates a connection around fd (taking it), kind and addresses, in the
 * table with the manager's default options. Returns PARLEY_OK,
 * PARLEY_EFULL or PARLEY_ENOMEM (fd closed on error).
 */
int pl_tcp_conn_new(parley_tcp *tcp, int fd, int kind, pl_tcp_conn **out);

/*
 * Marks c dead with a reason (c->mu held). The reset is queued unless the
 * app closed it. self is the calling worker (or NULL): when it is c's
 * home, the socket is taken out of its poller and closed now; when c has
 * no home, it is closed now; else its home is kicked to do it.
 */
void pl_tcp_conn_fail(pl_tcp_conn *c, int reason, pl_tcp_worker *self);

/* Signals the app's wakeup (a queue went from empty to not empty). */
void pl_tcp_notify_app(parley_tcp *tcp);

/* ---- tcp_io.c: workers ---- */

int pl_tcp_worker_create(parley_tcp *tcp, int threaded, pl_tcp_worker **out);
/* Stops the thread; every connection left in it is closed. */
void pl_tcp_worker_destroy(pl_tcp_worker *w);

/* Takes c out of w's poller and closes its socket (c->mu held, by w's
   thread; the caller holds a reference). */
void pl_tcp_worker_close_conn(pl_tcp_worker *w, pl_tcp_conn *c);

/* Sets c's poller interest from its state (c->mu held, w's thread). */
void pl_tcp_update_interest(pl_tcp_worker *w, pl_tcp_conn *c);

/* Posts a command; REMOVE waits until applied (sync). */
void pl_tcp_worker_post(pl_tcp_worker *w, int op, pl_tcp_conn *c);

/* Kicks c's home (c->mu held): re-evaluate interest, resume, close. */
void pl_tcp_kick(pl_tcp_conn *c);

/* One pass of the polled worker, waiting up to timeout_ms. */
void pl_tcp_worker_step(pl_tcp_worker *w, int timeout_ms);

/* Moves c (not c->mu held) to worker to (NULL: none), synchronously
   leaving its old home. */
void pl_tcp_move(pl_tcp_conn *c, pl_tcp_worker *to);

/* ---- tcp_send.c: output ---- */

/*
 * Frames data and queues it for the socket, sending what fits now
 * (c->mu held). admitted: a writer thread's datagram, already counted
 * against max_out_bytes. Errors as parley_tcp_send.
 */
int pl_tcp_conn_send(pl_tcp_conn *c, const void *data, size_t len, int admitted,
                     pl_tcp_worker *self);

/* Sends what is waiting (c->mu held). Fails the connection on error. */
void pl_tcp_conn_flush(pl_tcp_conn *c, int force, pl_tcp_worker *self);

/* Nonzero when c has bytes the socket should take now. */
int pl_tcp_conn_wants_out(const pl_tcp_conn *c);

/* Time-driven output (collect, keepalive); returns the next due time. */
uint64_t pl_tcp_conn_timers(pl_tcp_conn *c, uint64_t now, pl_tcp_worker *self);

/* Stops and frees every writer (tcp_destroy). */
void pl_tcp_writers_destroy(parley_tcp *tcp);

/* ---- tcp_queue.c: sinks ---- */

int pl_tcp_sink_init(pl_tcp_sink *s, parley_tcp *tcp, int kind,
                     const parley_tcp_queue_config *cfg);
void pl_tcp_sink_fini(pl_tcp_sink *s);

/*
 * Queues an item (c->mu held). Returns 1 when queued, 0 when the sink is
 * full: c is then on the sink's stalled list and is kicked when room
 * appears.
 */
int pl_tcp_sink_push(pl_tcp_sink *s, pl_tcp_item *it, pl_tcp_conn *c);

/* The worker a new member of s should live in. */
pl_tcp_worker *pl_tcp_sink_worker(pl_tcp_sink *s);

pl_tcp_item *pl_tcp_item_new(size_t len);

/* Default options, and their check. */
void pl_tcp_options_default(parley_tcp_options *opt);
int pl_tcp_options_valid(const parley_tcp_options *opt);

#endif
