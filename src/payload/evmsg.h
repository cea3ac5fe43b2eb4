/*
 * The session layer's messages inside one transport message: HELLO and
 * WELCOME (names), EVENT (id, optional announced name, optional relayed
 * sender, MessagePack payload), ANNOUNCE and BYE. Byte layouts are in
 * docs/PROTOCOL.md, "Events and payloads".
 */
#ifndef PL_PAYLOAD_EVMSG_H
#define PL_PAYLOAD_EVMSG_H

#include <stddef.h>
#include <stdint.h>

#include "wire/cursor.h"

#define PL_SESSION_VERSION 1

/* Longest client, server or computer name, in bytes of UTF-8. */
#define PL_PEER_NAME_MAX 64
/* Longest BYE reason. */
#define PL_REASON_MAX 255

enum pl_evkind {
    PL_EV_HELLO = 0x01,
    PL_EV_WELCOME = 0x02,
    PL_EV_EVENT = 0x03,
    PL_EV_ANNOUNCE = 0x04,
    PL_EV_BYE = 0x05
};

/* EVENT flags. */
enum {
    PL_EVF_NAME = 0x01,   /* the event's name follows the id */
    PL_EVF_SENDER = 0x02, /* server to client: relayed, sender name follows */
    PL_EVF_ALL = 0x04     /* client to server: relay to every client */
};

/* BYE codes. */
enum {
    PL_BYE_LEAVING = 1,  /* the client disconnects */
    PL_BYE_KICKED = 2,   /* the server removed the client */
    PL_BYE_STOPPING = 3, /* the server is shutting down */
    PL_BYE_REFUSED = 4   /* the server refused the HELLO */
};

/*
 * One decoded message; strings point into the message (not
 * NUL-terminated). Which fields mean something depends on kind:
 *   HELLO:    version, name (the client's name; may be empty)
 *   WELCOME:  version, name (the client's name as the server has it),
 *             sender (the server's name)
 *   EVENT:    flags, id, name (if PL_EVF_NAME), sender (if
 *             PL_EVF_SENDER), payload (the rest of the message)
 *   ANNOUNCE: id, name
 *   BYE:      code, sender (the reason text)
 */
typedef struct pl_evmsg {
    uint8_t kind;
    uint8_t flags;
    uint8_t version;
    uint8_t code;
    uint64_t id;
    const char *name;
    size_t name_len;
    const char *sender;
    size_t sender_len;
    const uint8_t *payload;
    size_t payload_len;
} pl_evmsg;

/*
 * Decodes and checks a message: known kind, lengths inside the message,
 * names valid UTF-8 without control characters and within their limits,
 * an announced name hashing to its id, no unknown flags. The payload's
 * MessagePack is NOT checked here (parley_payload_parse does that).
 * Returns PARLEY_OK or PARLEY_EPROTO.
 */
int pl_evmsg_decode(const uint8_t *p, size_t len, pl_evmsg *out);

/* Bytes pl_evmsg_encode writes for m. */
size_t pl_evmsg_size(const pl_evmsg *m);

/*
 * Writes m (for EVENT, the payload bytes too). Returns PARLEY_OK,
 * PARLEY_EINVAL (a field out of its limits) or the writer's error; on
 * error the writer is back where it began.
 */
int pl_evmsg_encode(pl_wr *w, const pl_evmsg *m);

#endif
