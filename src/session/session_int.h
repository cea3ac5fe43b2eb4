/*
 * Internals shared by the session server and client: handler tables,
 * the scratch buffer events are encoded into, name checks, announcement
 * bookkeeping and the computer-name helper.
 */
#ifndef PL_SESSION_INT_H
#define PL_SESSION_INT_H

#include <stddef.h>
#include <stdint.h>

#include "parley/session.h"
#include "payload/evmsg.h"
#include "payload/internal.h"
#include "session/transport.h"

/* Ids announced per connection before we stop remembering (and announce
   inline every time instead). */
#define PL_SESS_MAX_ANNOUNCED 4096

/* BYE codes double as disconnect app codes, so that the reason survives
   even when the BYE itself cannot be delivered. */

typedef struct pl_handler {
    parley_session_handler fn;
    void *user;
} pl_handler;

typedef struct pl_handlers {
    pl_idmap by_id; /* event id -> pl_handler */
    pl_handler by_type[PARLEY_SESSION_EVENT_TYPES];
} pl_handlers;

int pl_handlers_set_id(pl_handlers *h, uint64_t id, parley_session_handler fn,
                       void *user);
int pl_handlers_set_type(pl_handlers *h, parley_session_event_type type,
                         parley_session_handler fn, void *user);
/* Runs the handler for ev, if there is one: 1 if one ran, else 0. */
int pl_handlers_dispatch(const pl_handlers *h, const parley_session_event *ev);
void pl_handlers_free(pl_handlers *h);

/* A growing buffer messages are encoded into before they are sent. */
typedef struct pl_outbuf {
    uint8_t *p;
    size_t cap;
} pl_outbuf;

void pl_outbuf_free(pl_outbuf *ob);

/*
 * Encodes m into ob; *len gets the size. PARLEY_OK, PARLEY_EINVAL or
 * PARLEY_ENOMEM.
 */
int pl_sess_encode(pl_outbuf *ob, const pl_evmsg *m, size_t *len);

/*
 * The bytes of a payload to send: the builder's (finished here), or the
 * empty payload for NULL. Checked against max and against id's typed
 * definition in t. Errors: the builder's, PARLEY_EMSGSIZE, PARLEY_EPROTO.
 */
int pl_sess_payload(parley_builder *b, const parley_event_table *t, uint64_t id,
                    size_t max, const uint8_t **data, size_t *len);

/*
 * Sends one event on conn with the name inlined if this is its first use
 * on that connection (announced is the connection's set); an unreliable
 * first use also sends an ANNOUNCE reliably. sender may be NULL.
 */
int pl_sess_send_event(pl_st *tr, uint64_t conn, pl_idmap *announced,
                       pl_outbuf *ob, const parley_event_table *t,
                       uint8_t flags, uint64_t id, const char *sender,
                       const uint8_t *payload, size_t len, uint32_t sflags);

/* Forgets a connection's announcement set. */
void pl_sess_announced_free(pl_idmap *announced);

/*
 * Checks and loads an incoming EVENT's payload into ev (name from t, the
 * inline name learned first). On a problem fills why and returns
 * PARLEY_EPROTO.
 */
int pl_sess_read_event(parley_event_table *t, const pl_evmsg *m, size_t max,
                       parley_session_event *ev, char *why, size_t cap);

/* A client or server name: UTF-8, no control characters, 0..max bytes. */
int pl_sess_name_ok(const char *s, size_t len, size_t max);

/* Copies at most cap-1 bytes of s[0..len) without splitting a UTF-8
   character, NUL-terminated. */
void pl_sess_copy_name(char *dst, size_t cap, const char *s, size_t len);

/*
 * This computer's name (gethostname), cut to PARLEY_NAME_MAX bytes and
 * with anything that is not printable UTF-8 replaced by '_'; "parley"
 * when the system has none. (An OS call outside src/platform: see the
 * note in hostname.c.)
 */
void pl_sess_hostname(char *buf, size_t cap);

#endif
