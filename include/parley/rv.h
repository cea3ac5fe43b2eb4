/*
 * A wire-compatible RV endpoint: the TCP protocol that RV / OpenRV, rvshell,
 * rvpush and RV's python example speak (greetings, EVENT / RETURNEVENT /
 * RETURN, PING / PONG, PIXELTILE, DATAEVENT, DISCONNECT), with the shape
 * of RV's TwkQtChat Client: one endpoint that listens and connects out,
 * any number of contacts, polled events or a callback. docs/rv.md maps
 * each TwkQtChat call to its parley call.
 *
 * Threading: an endpoint belongs to one thread. Only parley_rv_interrupt
 * may be called from another thread (or a signal handler). Nothing runs
 * in the background: all I/O happens inside parley_rv_service and the
 * blocking calls (parley_rv_call, parley_rv_wait_message,
 * parley_rv_wait_sent, parley_rv_sign_off), and the send calls write what
 * the socket takes at once without ever blocking.
 */
#ifndef PARLEY_RV_H
#define PARLEY_RV_H

#include "addr.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parley_rv parley_rv;

/*
 * A contact (one TCP connection) is named by value: slot and generation
 * in 64 bits. A contact that is gone stays invalid forever: calls with
 * its id give PARLEY_ENOTCONN, never reach another contact.
 */
typedef uint64_t parley_rv_contact;
#define PARLEY_RV_CONTACT_NONE ((parley_rv_contact)0)

/* RV's default port. */
#define PARLEY_RV_PORT 45124

/* The seq of a RETURN that answers none of our RETURNEVENTs. */
#define PARLEY_RV_SEQ_NONE UINT64_MAX

typedef enum parley_rv_event_type {
    PARLEY_RV_EV_NONE = 0,
    /* An incoming peer greeted us (manual_accept only). Answer with
       parley_rv_accept or parley_rv_reject; nothing is sent to the peer
       and nothing more is read from it until then. */
    PARLEY_RV_EV_REQUEST = 1,
    /* Greetings exchanged: the contact is usable (TwkQtChat newContact). */
    PARLEY_RV_EV_CONTACT = 2,
    /* A contact that had a CONTACT event is gone; reason and error say
       why. Its id is invalid from now on. */
    PARLEY_RV_EV_CONTACT_LEFT = 3,
    /* Our connect failed: refused, unreachable, timed out, or closed by
       the peer before its greeting (PARLEY_EREJECTED). No CONTACT_LEFT. */
    PARLEY_RV_EV_CONNECT_FAILED = 4,
    /* Something went wrong on a connection: error and error_text. When
       closing is set, the connection is closed: a CONTACT_LEFT follows if
       there was a CONTACT event (none for an incoming connection that
       never greeted properly). */
    PARLEY_RV_EV_ERROR = 5,
    /* "EVENT name target contents". */
    PARLEY_RV_EV_EVENT = 6,
    /* "RETURNEVENT name target contents": answer it exactly once with
       parley_rv_reply(.., seq, ..). */
    PARLEY_RV_EV_RETURNEVENT = 7,
    /* "RETURN value": answers our RETURNEVENT number seq. */
    PARLEY_RV_EV_RETURN = 8,
    /* Any other MESSAGE payload (text). */
    PARLEY_RV_EV_MESSAGE = 9,
    /* The peer sent DISCONNECT; nothing is sent back, the connection is
       closed gracefully and CONTACT_LEFT follows. */
    PARLEY_RV_EV_DISCONNECT = 10,
    /* A PIXELTILE data frame: tile, data. */
    PARLEY_RV_EV_PIXELTILE = 11,
    /* A DATAEVENT data frame: name, target, content_type, data. */
    PARLEY_RV_EV_DATAEVENT = 12,
    /* Any other data frame (an interp ending in ')'): interp, data. */
    PARLEY_RV_EV_DATA = 13
} parley_rv_event_type;

/* Why a contact left (CONTACT_LEFT). */
typedef enum parley_rv_reason {
    PARLEY_RV_LEFT_NONE = 0,
    PARLEY_RV_LEFT_DISCONNECT = 1, /* the peer sent DISCONNECT */
    PARLEY_RV_LEFT_CLOSED = 2,     /* the peer closed without DISCONNECT */
    PARLEY_RV_LEFT_LOCAL = 3,      /* we disconnected or signed off */
    PARLEY_RV_LEFT_ERROR = 4,      /* a protocol or socket error (an ERROR
                                      event came first) */
    PARLEY_RV_LEFT_TIMEOUT = 5     /* pingpong on and nothing heard for
                                      pong_timeout_ms */
} parley_rv_reason;

/* A short name for a reason, e.g. "disconnect". Never NULL. */
PARLEY_API const char *parley_rv_reason_name(parley_rv_reason reason);

/* A short name for an event type, e.g. "returnevent". Never NULL. */
PARLEY_API const char *parley_rv_event_name(parley_rv_event_type type);

/*
 * PIXELTILE header fields. Received: RV's defaults fill what the header
 * leaves out (event "pixel-block", media "", layer "-", view "-", numbers
 * 0). To send: NULL strings mean the default. Strings must not contain
 * ' ', ',', '(', ')' or '='.
 */
typedef struct parley_rv_tile {
    int32_t w, h, x, y, f;
    const char *event;
    const char *media;
    const char *layer;
    const char *view;
} parley_rv_tile;

/*
 * One event. All pointers point into memory the endpoint owns; they stay
 * valid until parley_rv_event_release (which every event needs, whatever
 * its type; releasing twice is harmless). Strings are NUL-terminated and
 * also have a length (contents and data may hold NUL bytes: the lengths
 * are authoritative). Fields that do not apply are NULL / 0.
 */
typedef struct parley_rv_event {
    parley_rv_event_type type;
    parley_rv_contact contact;
    const char *peer_name; /* the name the peer greeted with ("" before) */
    const char *peer_app;  /* its app ("rv" for a GREETING) */
    parley_addr addr;      /* the peer's address */
    int incoming;          /* nonzero: the peer connected to us */

    /* RETURNEVENT: its number among this contact's RETURNEVENTs (0, 1,
       ...), for parley_rv_reply. RETURN: the number of our RETURNEVENT
       it answers (from parley_rv_send_event's *seq), or
       PARLEY_RV_SEQ_NONE when none was waiting for one. */
    uint64_t seq;

    /* EVENT, RETURNEVENT, RETURN, MESSAGE, DISCONNECT: the whole MESSAGE
       payload, e.g. "EVENT remote-eval * play()". */
    const char *text;
    size_t text_len;
    /* EVENT / RETURNEVENT: event name and target; DATAEVENT: event name
       and target from its header. */
    const char *name;
    size_t name_len;
    const char *target;
    size_t target_len;
    /* EVENT / RETURNEVENT: the contents, byte-exact; RETURN: the value. */
    const char *contents;
    size_t contents_len;

    /* Data frames: the header word (interp) without the space after it,
       the payload in place (never copied after the socket read), and
       for DATAEVENT the content type. */
    const char *interp;
    size_t interp_len;
    const uint8_t *data;
    size_t data_len;
    const char *content_type;
    size_t content_type_len;
    parley_rv_tile tile; /* PIXELTILE */

    /* ERROR, CONNECT_FAILED, CONTACT_LEFT: a parley_err; ERROR and
       CONNECT_FAILED also say what happened in error_text. */
    int error;
    const char *error_text;
    int closing;             /* ERROR: the connection is being closed */
    parley_rv_reason reason; /* CONTACT_LEFT */

    void *internal_; /* the endpoint's; do not touch */
} parley_rv_event;

/*
 * Receives events from inside parley_rv_service and the blocking calls
 * when set in the config (instead of polling them). ev is valid during
 * the call only and released after it; the callback must not release it.
 * The callback may call any parley_rv function, including the blocking
 * ones, and parley_rv_destroy is the one exception: never from inside.
 */
typedef void (*parley_rv_event_fn)(void *user, parley_rv *rv,
                                   const parley_rv_event *ev);

/* Releases a buffer given to parley_rv_send_data_owned. */
typedef void (*parley_rv_release_fn)(void *user, void *data);

typedef struct parley_rv_config {
    /* Our contact name (no spaces, no '@'; default "parley") and app name
       (no spaces, not "rv", which would make an RV start its sync mode;
       default "parley"). Copied by parley_rv_create. */
    const char *contact_name;
    const char *app_name;
    /* Where to listen, "ADDR:PORT" ("[::]:PORT" takes IPv6 and IPv4); a
       name is resolved. Default "0.0.0.0:45124"; NULL: client only (as
       TwkQtChat with port 0). Port 0 picks a free port. */
    const char *listen;
    /* Nonzero: incoming peers wait in a REQUEST event for
       parley_rv_accept / parley_rv_reject. Default 0: accept all. */
    int manual_accept;
    /* Nonzero: ping each contact after ping_interval_ms of inbound
       silence and drop it after pong_timeout_ms (RV's own behaviour).
       Zero (default, as rvshell and rvpush): send "PINGPONGCONTROL 1 0"
       after the greetings. Either way a peer's PINGPONGCONTROL switches
       our pinging for that contact, and every PING gets a PONG. */
    int pingpong;
    uint32_t ping_interval_ms; /* default 15000 */
    uint32_t pong_timeout_ms;  /* default 600000 */
    /* A frame left incomplete this long is an error (RV: 600 s); 0: no
       limit. Default 600000. */
    uint32_t transfer_timeout_ms;
    /* Connect plus greetings must finish within this; 0: no limit.
       Default 60000. Time an incoming peer spends in REQUEST (waiting for
       the app) does not count. */
    uint32_t handshake_timeout_ms;
    /* After our DISCONNECT: how long we keep trying to deliver what is
       queued and wait for the peer to close before closing anyway (reset
       by every byte sent). Default 10000. */
    uint32_t linger_ms;
    uint32_t max_contacts;       /* connections at once; default 1024 */
    size_t max_header;           /* longest "WORD LEN " header, 32..65536;
                                    default 4096 */
    size_t max_text;             /* largest text frame payload (MESSAGE,
                                    greeting, PING ...); default 16 MiB */
    size_t max_data;             /* largest data frame payload; default
                                    256 MiB */
    size_t max_memory;           /* receive memory (frames being read and
                                    events not yet released) across the
                                    endpoint; reading pauses above it.
                                    Default 1 GiB */
    size_t max_queued;           /* bytes queued to send per contact; a send
                                    over it fails with PARLEY_ENOBUFS.
                                    Default 512 MiB */
    parley_rv_event_fn on_event; /* NULL: poll events with service */
    void *user;                  /* passed to on_event */
} parley_rv_config;

/* Fills *cfg with the defaults above. */
PARLEY_API void parley_rv_config_init(parley_rv_config *cfg);

/*
 * Creates an endpoint and, if cfg->listen is set, starts listening.
 * Returns PARLEY_OK, PARLEY_EINVAL (NULL argument, a bad name, app "rv",
 * a zero limit, max_header out of range), PARLEY_EADDR / PARLEY_EPORT /
 * PARLEY_ERESOLVE (listen text), PARLEY_EADDRINUSE, PARLEY_EACCES,
 * PARLEY_ENOMEM or another socket error. On error nothing is left open.
 */
PARLEY_API int parley_rv_create(const parley_rv_config *cfg, parley_rv **out);

/*
 * Sends DISCONNECT to every contact, writes what the sockets take without
 * waiting, closes everything and frees the endpoint, including events not
 * yet released. Never from inside the event callback. NULL is ignored.
 */
PARLEY_API void parley_rv_destroy(parley_rv *rv);

/* Nonzero when the endpoint is listening (TwkQtChat online()). */
PARLEY_API int parley_rv_online(const parley_rv *rv);

/* The listening address, with the real port. PARLEY_OK, PARLEY_EINVAL,
   PARLEY_ENOTCONN (not listening). */
PARLEY_API int parley_rv_local_addr(const parley_rv *rv, parley_addr *out);

/*
 * Starts connecting to "HOST[:PORT]" (default port 45124; a name is
 * resolved, blocking) and gives the contact id at once. Our greeting
 * (NEWGREETING name app) goes first; CONTACT follows when the peer's
 * greeting arrives, or CONNECT_FAILED. Messages may be sent at once: they
 * are queued behind the greeting. Returns PARLEY_OK, PARLEY_EINVAL,
 * PARLEY_EADDR, PARLEY_EPORT, PARLEY_ERESOLVE, PARLEY_EFULL
 * (max_contacts), PARLEY_ENOMEM or a socket error (PARLEY_ECONNREFUSED
 * and the like when the failure is immediate; usually it comes later as
 * CONNECT_FAILED).
 */
PARLEY_API int parley_rv_connect(parley_rv *rv, const char *host_port,
                                 parley_rv_contact *out);

/* The same with an address value. */
PARLEY_API int parley_rv_connect_addr(parley_rv *rv, const parley_addr *addr,
                                      parley_rv_contact *out);

/*
 * Answers a REQUEST. accept: our greeting goes out, CONTACT follows, and
 * what the peer pipelined after its greeting is processed. reject: the
 * connection is closed without a greeting (what RV does; the peer sees a
 * close before any greeting). Returns PARLEY_OK, PARLEY_EINVAL,
 * PARLEY_ENOTCONN (no such contact) or PARLEY_ESTATE (not waiting).
 */
PARLEY_API int parley_rv_accept(parley_rv *rv, parley_rv_contact c);
PARLEY_API int parley_rv_reject(parley_rv *rv, parley_rv_contact c);

typedef enum parley_rv_state {
    PARLEY_RV_GONE = 0,       /* no such contact (or a stale id) */
    PARLEY_RV_CONNECTING = 1, /* ours: TCP connect or greeting pending */
    PARLEY_RV_GREETING = 2,   /* theirs: waiting for the peer's greeting */
    PARLEY_RV_REQUESTED = 3,  /* theirs: waiting for accept / reject */
    PARLEY_RV_READY = 4,      /* greeted: usable */
    PARLEY_RV_CLOSING = 5     /* left: the socket is being closed */
} parley_rv_state;

typedef struct parley_rv_contact_info {
    parley_rv_state state;
    int incoming;
    parley_addr addr;
    const char *name; /* greeted name, "" before; valid while the contact
                         exists and until the next parley_rv call that
                         services the endpoint */
    const char *app;
    int pingpong;          /* we ping this contact */
    size_t queued;         /* bytes waiting to be sent */
    uint64_t returns_owed; /* RETURNEVENTs received, not yet replied */
    uint64_t returns_due;  /* our RETURNEVENTs without a RETURN yet */
} parley_rv_contact_info;

/* Fills *out. Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOTCONN. */
PARLEY_API int parley_rv_contact_get_info(parley_rv *rv, parley_rv_contact c,
                                          parley_rv_contact_info *out);

/* The contact's state; PARLEY_RV_GONE for a stale id. */
PARLEY_API parley_rv_state parley_rv_contact_state(parley_rv *rv,
                                                   parley_rv_contact c);

/*
 * The first usable (READY) contact that greeted with this name; the name
 * may also be given as "name@anything" (TwkQtChat's form), which matches
 * on the part before '@'. Returns PARLEY_OK, PARLEY_EINVAL or
 * PARLEY_ENOENT.
 */
PARLEY_API int parley_rv_find_contact(parley_rv *rv, const char *name,
                                      parley_rv_contact *out);

/*
 * Nonzero when a contact (in any state but GONE) is connected to addr's
 * IP, and to its port unless addr->port is 0 (TwkQtChat hasConnection).
 */
PARLEY_API int parley_rv_has_connection(parley_rv *rv, const parley_addr *addr);

/* Writes up to cap live contact ids into out; returns how many exist. */
PARLEY_API size_t parley_rv_contacts(parley_rv *rv, parley_rv_contact *out,
                                     size_t cap);

/*
 * Send calls. Each frame is queued whole and written at once as far as
 * the socket takes it; the rest goes out from service and the blocking
 * calls. They work on READY contacts and on our own contacts still
 * CONNECTING (queued behind our greeting). All return PARLEY_OK,
 * PARLEY_EINVAL (a NULL or malformed argument, see each), PARLEY_ENOTCONN
 * (no such contact, or it is closing), PARLEY_ESTATE (an incoming
 * contact not yet greeted back), PARLEY_ENOBUFS (over max_queued) or
 * PARLEY_ENOMEM. On error nothing was queued. The library copies what it
 * queues, except the payload of parley_rv_send_data_owned.
 */

/* A text MESSAGE (TwkQtChat sendMessage): len >= 1 bytes of UTF-8. */
PARLEY_API int parley_rv_send_message(parley_rv *rv, parley_rv_contact c,
                                      const char *text, size_t len);

/* Flags for parley_rv_send_event. */
enum {
    PARLEY_RV_RSVP = 1 /* send RETURNEVENT: the peer owes a RETURN */
};

/*
 * "EVENT name target contents", or RETURNEVENT with PARLEY_RV_RSVP, in
 * which case *seq (if not NULL) gets the number its RETURN event will
 * carry. name must be non-empty without spaces; target NULL means "*"
 * (what RV expects) and must otherwise be non-empty without spaces;
 * contents may be empty (NULL with len 0).
 */
PARLEY_API int parley_rv_send_event(parley_rv *rv, parley_rv_contact c,
                                    const char *name, const char *target,
                                    const char *contents, size_t len,
                                    uint32_t flags, uint64_t *seq);

/*
 * Answers the contact's RETURNEVENT number seq with "RETURN value" (value
 * may be empty). RETURNs go out in the order of their RETURNEVENTs: an
 * answer given early is held until the earlier ones are answered.
 * Returns as the send calls, and PARLEY_ENOENT when seq was not received
 * or was already answered.
 */
PARLEY_API int parley_rv_reply(parley_rv *rv, parley_rv_contact c, uint64_t seq,
                               const char *value, size_t len);

/*
 * A data frame "interp LEN payload" (TwkQtChat sendData). interp must be
 * non-empty, without spaces and end in ')'; len >= 1.
 */
PARLEY_API int parley_rv_send_data(parley_rv *rv, parley_rv_contact c,
                                   const char *interp, const void *data,
                                   size_t len);

/*
 * The same without copying data: on PARLEY_OK the endpoint reads data in
 * place until it is sent (or the contact is gone) and then calls
 * release(user, data), from inside a parley_rv call. On error the caller
 * keeps it and release is not called.
 */
PARLEY_API int parley_rv_send_data_owned(parley_rv *rv, parley_rv_contact c,
                                         const char *interp, void *data,
                                         size_t len,
                                         parley_rv_release_fn release,
                                         void *user);

/*
 * A PIXELTILE frame. When the tile's media has a format
 * (parley_rv_set_media_format), len must equal w*h*channels*bytes
 * (PARLEY_EMSGSIZE otherwise). Rows go bottom-up, as RV expects.
 */
PARLEY_API int parley_rv_send_pixels(parley_rv *rv, parley_rv_contact c,
                                     const parley_rv_tile *tile,
                                     const void *data, size_t len);

/*
 * A DATAEVENT frame "DATAEVENT(event,target,content_type)". Each field
 * non-empty without ' ', ',', '(' or ')'; target NULL means "*".
 */
PARLEY_API int parley_rv_send_dataevent(parley_rv *rv, parley_rv_contact c,
                                        const char *event, const char *target,
                                        const char *content_type,
                                        const void *data, size_t len);

/*
 * Formats the interp of a PIXELTILE or DATAEVENT into buf (cap bytes,
 * NUL-terminated), for parley_rv_send_data_owned. Returns the length
 * (without NUL) or PARLEY_EINVAL (a field the header cannot carry) or
 * PARLEY_ENOBUFS (cap too small).
 */
PARLEY_API int parley_rv_format_pixeltile(const parley_rv_tile *tile, char *buf,
                                          size_t cap);
PARLEY_API int parley_rv_format_dataevent(const char *event, const char *target,
                                          const char *content_type, char *buf,
                                          size_t cap);

/*
 * Declares the pixel format of a media name: channels 1..4 and bytes per
 * channel 1, 2 or 4 (0 channels forgets it). A received PIXELTILE of that
 * media whose size is not w*h*channels*bytes gets an ERROR event
 * (PARLEY_EMSGSIZE, not closing) and is dropped, as RV drops it; a sent
 * one is refused. Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOMEM.
 */
PARLEY_API int parley_rv_set_media_format(parley_rv *rv, const char *media,
                                          int channels, int bytes_per_channel);

/* Broadcasts to every READY contact; returns PARLEY_OK or the first
   error (the others are still sent). EINVAL as the single calls. */
PARLEY_API int parley_rv_broadcast_message(parley_rv *rv, const char *text,
                                           size_t len);
PARLEY_API int parley_rv_broadcast_event(parley_rv *rv, const char *name,
                                         const char *target,
                                         const char *contents, size_t len,
                                         uint32_t flags);

/*
 * Sends "PINGPONGCONTROL 1 1" (on) or "... 1 0" (off) and switches our
 * own pinging of that contact the same way (as TwkQtChat does).
 */
PARLEY_API int parley_rv_pingpong(parley_rv *rv, parley_rv_contact c, int on);

/*
 * Sends a RETURNEVENT and waits for its RETURN, doing I/O for every
 * contact meanwhile. Events that arrive in the meantime are queued for
 * service (or given to the callback at once). On PARLEY_OK *ret holds the
 * RETURN event (release it). Returns PARLEY_OK, the send errors,
 * PARLEY_ETIMEDOUT (timeout_ms passed; the RETURN, if it comes later, is
 * an ordinary RETURN event), PARLEY_ENOTCONN (the contact left first; its
 * events are queued) or PARLEY_EINTR (parley_rv_interrupt).
 * timeout_ms < 0 waits forever.
 */
PARLEY_API int parley_rv_call(parley_rv *rv, parley_rv_contact c,
                              const char *name, const char *target,
                              const char *contents, size_t len, int timeout_ms,
                              parley_rv_event *ret);

/*
 * Waits until the contact has an event (any type) ready or timeout_ms
 * passes (TwkQtChat waitForMessage). Returns PARLEY_OK, PARLEY_ETIMEDOUT,
 * PARLEY_ENOTCONN (no such contact) or PARLEY_EINTR.
 */
PARLEY_API int parley_rv_wait_message(parley_rv *rv, parley_rv_contact c,
                                      int timeout_ms);

/*
 * Waits until everything queued for the contact (PARLEY_RV_CONTACT_NONE:
 * for every contact) is handed to the kernel (TwkQtChat waitForSend).
 * Returns PARLEY_OK, PARLEY_ETIMEDOUT, PARLEY_ENOTCONN (the contact went
 * away with data unsent) or PARLEY_EINTR.
 */
PARLEY_API int parley_rv_wait_sent(parley_rv *rv, parley_rv_contact c,
                                   int timeout_ms);

/*
 * Graceful close: queues DISCONNECT, stops reading the contact's frames,
 * and closes once what is queued is written (TwkQtChat disconnectFrom,
 * but always with DISCONNECT first). A CONTACT_LEFT event
 * (PARLEY_RV_LEFT_LOCAL) follows for a contact that had CONTACT; a
 * connect still in progress is cancelled without an event. Returns
 * PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOTCONN.
 */
PARLEY_API int parley_rv_disconnect(parley_rv *rv, parley_rv_contact c);

/*
 * parley_rv_disconnect, then waits up to timeout_ms until the DISCONNECT
 * is written (TwkQtChat signOff). Returns PARLEY_OK, PARLEY_ENOTCONN,
 * PARLEY_ETIMEDOUT (still queued; it keeps going in the background) or
 * PARLEY_EINTR.
 */
PARLEY_API int parley_rv_sign_off(parley_rv *rv, parley_rv_contact c,
                                  int timeout_ms);

/*
 * Does I/O for every contact, runs timers, and hands out the next event
 * in *ev (NULL allowed with a callback). Waits up to timeout_ms for
 * something to happen (0: never waits; < 0: until an event or an
 * interrupt). Without a callback: returns 1 with an event, 0 with none.
 * With one: dispatches every event that is ready and returns how many
 * (waiting only while there are none). PARLEY_EINVAL for a NULL rv (or
 * ev without a callback).
 */
PARLEY_API int parley_rv_service(parley_rv *rv, int timeout_ms,
                                 parley_rv_event *ev);

/* Releases an event's memory. Safe twice and on any event type. */
PARLEY_API void parley_rv_event_release(parley_rv *rv, parley_rv_event *ev);

/* Descriptors for the app's own loop (poll, epoll, Qt socket notifiers):
   when one is ready as asked, call parley_rv_service(rv, 0, ..). */
enum { PARLEY_RV_POLL_IN = 1, PARLEY_RV_POLL_OUT = 2 };
typedef struct parley_rv_pollfd {
    int fd;
    unsigned events;
} parley_rv_pollfd;

/*
 * Writes up to cap descriptors with the readiness they wait for, and
 * returns how many there are (call again with more room if that is more
 * than cap). The set changes as contacts come and go: ask again after
 * every service call. It always includes the wakeup descriptor that
 * parley_rv_interrupt makes readable.
 */
PARLEY_API size_t parley_rv_pollfds(parley_rv *rv, parley_rv_pollfd *out,
                                    size_t cap);

/* Milliseconds until a timer needs service (-1: none; 0: now). */
PARLEY_API int parley_rv_next_timeout_ms(parley_rv *rv);

/* Wakes a service or blocking call waiting in another thread, which
   returns (0 / PARLEY_EINTR). Thread-safe and async-signal-safe. */
PARLEY_API int parley_rv_interrupt(parley_rv *rv);

/* SHA-256 of data[0..len) into out (the library's libsodium), for tools
   that report payload digests. len 0 is fine; NULL data only with 0. */
PARLEY_API void parley_sha256(const void *data, size_t len, uint8_t out[32]);

#ifdef __cplusplus
}
#endif

#endif
