/*
 * Internal to the RV driver: what rv_conn.c (the incoming half of a
 * connection) and rv_out.c (the output queue, sends and event records)
 * share. Not for the endpoint (rv.c), which uses rv_conn.h.
 */
#ifndef PL_DRIVER_RV_INT_H
#define PL_DRIVER_RV_INT_H

#include "driver/rv_conn.h"

/* Control frames the connection queues by itself. */
typedef enum pl_rv_ctl {
    PL_RV_CTL_GREETING = 1,
    PL_RV_CTL_DISCONNECT = 2,
    PL_RV_CTL_PING = 3,
    PL_RV_CTL_PONG = 4,
    PL_RV_CTL_PINGPONGCONTROL = 5
} pl_rv_ctl;

/* Queues one control frame (arg: PINGPONGCONTROL's 0 or 1). These may
   exceed max_queued by a small slack. PARLEY_OK, ENOBUFS or ENOMEM. */
int pl_rv_queue_control(pl_rv_conn *c, pl_rv_ctl what, int arg);

/* Room for n bytes at the end of the queue, or NULL with *err set;
   pl_rv_out_commit then adds what was written. */
uint8_t *pl_rv_out_reserve(pl_rv_conn *c, size_t n, int control, int *err);
void pl_rv_out_commit(pl_rv_conn *c, size_t n);

/* Queues a frame written by enc(wr, arg) into at most max bytes. */
int pl_rv_out_frame(pl_rv_conn *c, size_t max, int control,
                    int (*enc)(pl_wr *wr, const void *arg), const void *arg);

/* Drops everything queued (releasing borrowed buffers) and held RETURNs. */
void pl_rv_out_clear(pl_rv_conn *c);

/*
 * A record for the app, with the peer's name and app copied in and extra
 * bytes of string storage after them; charged to the budget. NULL when
 * out of memory.
 */
pl_rv_rec *pl_rv_rec_new(pl_rv_conn *c, parley_rv_event_type type,
                         size_t extra);

/* Where the record's extra storage starts. */
char *pl_rv_rec_store(pl_rv_rec *r);

/* Copies n bytes and a NUL to *at, moves *at past them, returns the copy. */
const char *pl_rv_rec_put(char **at, const void *p, size_t n);

/* The record takes payload (size bytes charged to the budget already
   by the caller's reservation accounting: added to its charge). */
void pl_rv_rec_own_payload(pl_rv_rec *r, uint8_t *payload, size_t size);

#endif
