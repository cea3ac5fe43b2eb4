/*
 * The RV network protocol codec (docs/PROTOCOL.md, "RV protocol (TCP)"),
 * sans I/O: an incremental frame-header parser in the Redis style (need
 * more / consumed n / protocol error) with hard limits, frame encoders, and
 * parsers for the contents of greetings, MESSAGE payloads and the
 * PIXELTILE / DATAEVENT data headers. Nothing here allocates.
 */
#ifndef PL_WIRE_RV_H
#define PL_WIRE_RV_H

#include <stddef.h>
#include <stdint.h>

#include "wire/cursor.h"

/* RV's default TCP port. */
#define PL_RV_PORT 45124

/* Frame kinds, from the first word of a frame. */
typedef enum pl_rv_kind {
    PL_RV_GREETING = 1,        /* "GREETING": RV's own greeting */
    PL_RV_NEWGREETING = 2,     /* "NEWGREETING": everyone else's */
    PL_RV_MESSAGE = 3,         /* "MESSAGE": UTF-8 text */
    PL_RV_PING = 4,            /* "PING" */
    PL_RV_PONG = 5,            /* "PONG" */
    PL_RV_PINGPONGCONTROL = 6, /* "PINGPONGCONTROL" */
    PL_RV_DATA = 7             /* an interp ending in ')': binary payload */
} pl_rv_kind;

/* Kinds of data frame, from the interp's prefix (as RV decides). */
typedef enum pl_rv_data_kind {
    PL_RV_DATA_OTHER = 0,
    PL_RV_DATA_PIXELTILE = 1,
    PL_RV_DATA_DATAEVENT = 2
} pl_rv_data_kind;

/*
 * Hard limits for the parser. max_head bounds "WORD SP LEN SP" (RV's own
 * cap is 1024000); max_text bounds the payload of every frame that is not
 * data, max_data the payload of a data frame. Each must be nonzero.
 */
typedef struct pl_rv_limits {
    size_t max_head;
    uint64_t max_text;
    uint64_t max_data;
} pl_rv_limits;

/* A parsed frame header. word points into the parsed buffer. */
typedef struct pl_rv_head {
    pl_rv_kind kind;
    const uint8_t *word; /* the WORD (for data: the interp), no space */
    size_t word_len;
    uint64_t len;    /* payload bytes that follow the header */
    size_t head_len; /* bytes of "WORD SP LEN SP" */
    const char *why; /* on an error: what was wrong, static text */
} pl_rv_head;

/*
 * Parses the header at p[0..n). Returns 1 with *h filled in (head_len
 * bytes consumed), 0 when more bytes are needed (a header may be split at
 * any byte), or an error with h->why set:
 * - PARLEY_EPROTO: an empty or unknown WORD (a data interp must end in
 *   ')'; one with a space in it shows up as unknown), a LEN that is not
 *   decimal digits, or a LEN of zero;
 * - PARLEY_EMSGSIZE: the header is longer than lim->max_head, or LEN is
 *   over lim->max_text / lim->max_data.
 * Errors are found as early as the bytes allow: a bad LEN digit or an
 * over-limit LEN fails before its terminating space arrives.
 */
int pl_rv_head_parse(const uint8_t *p, size_t n, const pl_rv_limits *lim,
                     pl_rv_head *h);

/* A whole frame: the header and its payload, both inside the buffer. */
typedef struct pl_rv_frame {
    pl_rv_head head;
    const uint8_t *payload; /* head.len bytes */
    uint64_t size;          /* head_len + payload length */
} pl_rv_frame;

/* As pl_rv_head_parse, but 1 only once the whole payload is there too. */
int pl_rv_frame_parse(const uint8_t *p, size_t n, const pl_rv_limits *lim,
                      pl_rv_frame *f);

/* The kind of data frame an interp names ("PIXELTILE..." etc.). */
pl_rv_data_kind pl_rv_data_kind_of(const uint8_t *interp, size_t len);

/* ---- encoders ----------------------------------------------------------
 * Each writes a complete frame (or, for pl_rv_head_encode, the header
 * alone) and returns PARLEY_OK, PARLEY_EINVAL (an argument the protocol
 * cannot carry) or PARLEY_ENOBUFS (no room; nothing written). */

/* Bytes "WORD SP LEN SP" takes. */
size_t pl_rv_head_size(size_t word_len, uint64_t len);

/* "WORD SP LEN SP". word must be non-empty without spaces; len > 0. */
int pl_rv_head_encode(pl_wr *wr, const char *word, size_t word_len,
                      uint64_t len);

/* "WORD SP LEN SP PAYLOAD"; len > 0. */
int pl_rv_frame_encode(pl_wr *wr, const char *word, const void *payload,
                       size_t len);

/*
 * Greetings. With app NULL: "GREETING n name" (RV's form: the whole
 * payload is the name). Otherwise "NEWGREETING n name app". name and app
 * must be non-empty and free of spaces.
 */
int pl_rv_greeting_encode(pl_wr *wr, const char *name, const char *app);

/*
 * "MESSAGE n EVENT name target contents" (RETURNEVENT when rsvp). name
 * and target must be non-empty and without spaces; contents may be empty
 * (the space before it is still sent, as TwkQtChat does).
 */
int pl_rv_event_encode(pl_wr *wr, int rsvp, const char *name,
                       const char *target, const void *contents, size_t len);

/* Bytes pl_rv_event_encode writes at most (exact for RETURNEVENT). */
size_t pl_rv_event_size(const char *name, const char *target, size_t len);

/* "MESSAGE n RETURN value" ("MESSAGE 7 RETURN " for an empty value). */
int pl_rv_return_encode(pl_wr *wr, const void *value, size_t len);

/* "MESSAGE 10 DISCONNECT". */
int pl_rv_disconnect_encode(pl_wr *wr);

/* "PING 1 p", "PONG 1 p", "PINGPONGCONTROL 1 0" or "... 1 1". */
int pl_rv_ping_encode(pl_wr *wr);
int pl_rv_pong_encode(pl_wr *wr);
int pl_rv_pingpongcontrol_encode(pl_wr *wr, int on);

/* ---- payload parsers ---------------------------------------------------
 * Slices point into the parsed payload. */

typedef struct pl_rv_slice {
    const uint8_t *p;
    size_t len;
} pl_rv_slice;

/*
 * A greeting's payload. GREETING: the whole payload is the name and the
 * app is "rv". NEWGREETING: the name is the text before the first space,
 * the app the word after it (up to the next space; the rest is ignored);
 * no space gives an empty app. Returns PARLEY_OK or PARLEY_EINVAL (kind
 * is no greeting).
 */
int pl_rv_greeting_parse(pl_rv_kind kind, const uint8_t *p, size_t len,
                         pl_rv_slice *name, pl_rv_slice *app);

typedef enum pl_rv_msg_type {
    PL_RV_MSG_OTHER = 0,
    PL_RV_MSG_EVENT = 1,
    PL_RV_MSG_RETURNEVENT = 2,
    PL_RV_MSG_RETURN = 3,
    PL_RV_MSG_DISCONNECT = 4
} pl_rv_msg_type;

/*
 * A MESSAGE payload, as RV reads it. "EVENT " and "RETURNEVENT " (with
 * their space) start events: name and target are the next two fields on
 * single spaces and contents is everything after "TYPE name target ",
 * byte-exact; missing fields are empty. "RETURN " (or exactly "RETURN")
 * gives the value in contents. Anything starting with "DISCONNECT" is a
 * disconnect. Everything else is OTHER. Never fails.
 */
typedef struct pl_rv_msg {
    pl_rv_msg_type type;
    pl_rv_slice name, target, contents;
} pl_rv_msg;

void pl_rv_msg_parse(const uint8_t *p, size_t len, pl_rv_msg *m);

/*
 * PIXELTILE header fields, with RV's defaults: event "pixel-block",
 * media "", layer "-", view "-", x = y = w = h = f = 0.
 */
typedef struct pl_rv_tile {
    int32_t w, h, x, y, f;
    pl_rv_slice event, media, layer, view;
} pl_rv_tile;

void pl_rv_tile_defaults(pl_rv_tile *t);

/*
 * Parses an interp "PIXELTILE(k=v,...)" as RV does: split on '(' ')' ','
 * (the interp holds no space), ignore pieces that are not exactly k=v with
 * both sides non-empty, unknown keys and the leading word; the last of a
 * repeated key wins. Integers are optional sign and decimal digits, read
 * up to the first other character (garbage gives 0, as RV's atoi).
 * Returns PARLEY_OK, or PARLEY_EPROTO when w or h is negative or a number
 * does not fit 32 bits (RV's behaviour is undefined there).
 */
int pl_rv_tile_parse(const uint8_t *interp, size_t len, pl_rv_tile *t);

/*
 * Writes "PIXELTILE(media=..,layer=..,view=..,event=..,w=..,h=..,x=..,
 * y=..,f=..)" without its NUL into wr; string fields equal to their
 * default are left out. Strings must not contain ' ', ',', '(', ')' or
 * '=' (PARLEY_EINVAL).
 */
int pl_rv_tile_encode(pl_wr *wr, const pl_rv_tile *t);

/*
 * DATAEVENT header fields. RV splits the interp on '(' ')' ',' dropping
 * empty pieces, then takes pieces 1..3 as event, target and content type
 * and ignores the rest. Returns PARLEY_OK or PARLEY_EPROTO with fewer
 * than three fields (RV itself reads past its array there).
 */
typedef struct pl_rv_dataevent {
    pl_rv_slice event, target, content_type;
} pl_rv_dataevent;

int pl_rv_dataevent_parse(const uint8_t *interp, size_t len,
                          pl_rv_dataevent *d);

/* "DATAEVENT(event,target,type)"; each field non-empty, without ' ', ',',
   '(' or ')' (PARLEY_EINVAL). */
int pl_rv_dataevent_encode(pl_wr *wr, const char *event, const char *target,
                           const char *content_type);

/* Nonzero when s[0..len) is a usable word: non-empty, no space. */
int pl_rv_word_ok(const char *s, size_t len);

#endif
