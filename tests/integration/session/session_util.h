/*
 * What the session tests share: a log of every session event each side
 * saw (kept after the event is released), a world of one server and its
 * clients, and a pump that services them all. The including test defines
 * MAXC (most clients) and LOG (events kept per side) first.
 */
#ifndef SESSION_UTIL_H
#define SESSION_UTIL_H

#include "pt.h"

#include "parley/parley.h"

typedef struct seen {
    parley_session_event_type type;
    parley_client_id client;
    uint64_t id;
    char name[64];
    char sender[80];
    char reason[300];
    parley_leave leave;
    int reliable, to_all;
    int64_t arg0;
    uint32_t argc;
    parley_addr addr;
} seen;

typedef struct side {
    seen log[LOG];
    int n;
} side;

static side g_srv, g_cli[MAXC];

static void
record(side *s, const parley_session_event *ev)
{
    seen *x;

    if (s->n >= LOG) {
        return;
    }
    x = &s->log[s->n];
    memset(x, 0, sizeof *x);
    x->type = ev->type;
    x->client = ev->client;
    x->id = ev->id;
    snprintf(x->name, sizeof x->name, "%s", ev->name ? ev->name : "(null)");
    snprintf(x->sender, sizeof x->sender, "%s", ev->sender);
    snprintf(x->reason, sizeof x->reason, "%s", ev->reason);
    x->leave = ev->leave;
    x->reliable = ev->reliable;
    x->to_all = ev->to_all;
    x->addr = ev->addr;
    if (ev->type == PARLEY_SESSION_EVENT) {
        x->argc = parley_payload_argc(&ev->payload);
        if (parley_payload_arg_int(&ev->payload, 0, &x->arg0) != PARLEY_OK) {
            x->arg0 = -1;
        }
    }
    __atomic_store_n(&s->n, s->n + 1, __ATOMIC_SEQ_CST);
}

typedef struct world {
    parley_server *srv;
    parley_client *cli[MAXC];
    int ncli;
    int v6;
    char addr[64];     /* the server's (UDP, or TCP for a TCP server) */
    char tcp_addr[64]; /* a dual server's TCP address */
} world;

static void
pump(world *w)
{
    parley_session_event ev;

    while (w->srv != NULL && parley_server_service(w->srv, 0, &ev) == 1) {
        record(&g_srv, &ev);
    }
    for (int i = 0; i < w->ncli; i++) {
        while (w->cli[i] != NULL &&
               parley_client_service(w->cli[i], 0, &ev) == 1) {
            record(&g_cli[i], &ev);
        }
    }
    if (w->srv != NULL && parley_server_service(w->srv, 1, &ev) == 1) {
        record(&g_srv, &ev);
    }
}

#define PUMP_UNTIL(w, cond, ms)                                                \
    do {                                                                       \
        uint64_t end_ = parley_time_us() + (uint64_t)(ms)*1000;                \
        while (!(cond) && parley_time_us() < end_) {                           \
            pump(w);                                                           \
        }                                                                      \
    } while (0)

static int
count(const side *s, parley_session_event_type type, uint64_t id)
{
    int n = 0;

    for (int i = 0; i < s->n; i++) {
        if (s->log[i].type == type && (id == 0 || s->log[i].id == id)) {
            n++;
        }
    }
    return n;
}

static const seen *
find_seen(const side *s, parley_session_event_type type, int nth)
{
    for (int i = 0; i < s->n; i++) {
        if (s->log[i].type == type && nth-- == 0) {
            return &s->log[i];
        }
    }
    return NULL;
}

static const seen *
find_sender(const side *s, parley_session_event_type type, const char *who)
{
    for (int i = 0; i < s->n; i++) {
        if (s->log[i].type == type && strcmp(s->log[i].sender, who) == 0) {
            return &s->log[i];
        }
    }
    return NULL;
}

#endif
