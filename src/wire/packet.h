/*
 * Packet-level codec of parley's UDP protocol (docs/PROTOCOL.md): the type
 * byte, the 9-byte DATA header with packet-number truncation and expansion,
 * and the five handshake packets. Pure functions over (bytes, length).
 */
#ifndef PL_WIRE_PACKET_H
#define PL_WIRE_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "parley/addr.h"
#include "wire/cursor.h"

/* Packet types: byte 0 of every datagram. */
#define PL_PKT_DATA 0x01
#define PL_PKT_CONNECT 0x10
#define PL_PKT_CHALLENGE 0x11
#define PL_PKT_RESPONSE 0x12
#define PL_PKT_ACCEPT 0x13
#define PL_PKT_REJECT 0x14

#define PL_PROTO_VERSION 1
#define PL_PROTO_MAGIC UINT32_C(0x50524C59) /* "PRLY" */

/* CONNECT and RESPONSE are padded to at least this many bytes. */
#define PL_HANDSHAKE_MIN_SIZE 1200
/* Cookie: u64 server time in seconds, then a 32-byte MAC. */
#define PL_COOKIE_LEN 40
#define PL_COOKIE_MAC_LEN 32
/* How long a cookie is valid, in seconds after its time stamp. */
#define PL_COOKIE_LIFETIME_S 10
#define PL_DATA_HDR_LEN 9
/* Most user (connect) data a CONNECT carries. */
#define PL_HS_USER_MAX 256
/* Smallest mtu a CONNECT or ACCEPT may announce. */
#define PL_MTU_MIN 576
/* Exact sizes of the fixed-size handshake packets. */
#define PL_HS_CHALLENGE_LEN 53
#define PL_HS_ACCEPT_LEN 28
#define PL_HS_REJECT_LEN 18
/* CONNECT/ACCEPT flags (docs/PROTOCOL.md 13). */
#define PL_HS_FLAG_ENCRYPT 0x1u /* X25519 key share; packets sealed */
#define PL_HS_FLAG_PSK 0x2u     /* CONNECT carries a PSK proof */
#define PL_HS_FLAG_TOKEN 0x4u   /* CONNECT carries a connect token */
#define PL_HS_FLAG_IDENTITY                                                    \
    0x8u                      /* the client asks for (ACCEPT carries)          \
                                 the server's identity signature */
#define PL_HS_FLAG_PMTU 0x10u /* path-MTU probing: a u16 max_mtu follows */
#define PL_HS_MAXMTU_LEN 2
#define PL_HS_KEY_LEN 32
#define PL_HS_PSK_MAC_LEN 16
#define PL_HS_TOKEN_LEN 80
#define PL_HS_CONFIRM_LEN 16
#define PL_HS_SIG_LEN 64
/* The AEAD tag after the frames of a sealed DATA packet. */
#define PL_AEAD_TAG_LEN 16
/* Longest security extension of a CONNECT. */
#define PL_HS_EXT_MAX                                                          \
    (PL_HS_KEY_LEN + PL_HS_PSK_MAC_LEN + PL_HS_TOKEN_LEN + PL_HS_MAXMTU_LEN)
/* ACCEPT with the key share (and the identity signature). */
#define PL_HS_ACCEPT_ENC_LEN                                                   \
    (PL_HS_ACCEPT_LEN + PL_HS_KEY_LEN + PL_HS_CONFIRM_LEN)
#define PL_HS_ACCEPT_MAX_LEN                                                   \
    (PL_HS_ACCEPT_ENC_LEN + PL_HS_SIG_LEN + PL_HS_MAXMTU_LEN)
/* Largest output of pl_hs_cookie_input. */
#define PL_COOKIE_INPUT_MAX (51 + PL_HS_USER_MAX + PL_HS_EXT_MAX)
/* Packet numbers stay below 2^62. */
#define PL_PN_MAX ((UINT64_C(1) << 62) - 1)

/* REJECT reasons. Receivers treat an unknown nonzero reason as 4. */
#define PL_REJECT_VERSION 1
#define PL_REJECT_FULL 2
#define PL_REJECT_APP 3
#define PL_REJECT_MALFORMED 4
#define PL_REJECT_SECURITY 5 /* app_code: PARLEY_SECURITY_* */

/*
 * The packet type of a datagram: one of PL_PKT_*, or PARLEY_ETRUNC (len 0)
 * or PARLEY_EPROTO (any other type byte).
 */
int pl_pkt_type(const uint8_t *buf, size_t len);

/*
 * Writes the DATA header: type, conn_id (the receiver's id) and the low 32
 * bits of pn. Returns PARLEY_OK, PARLEY_EINVAL (conn_id 0 or pn > PL_PN_MAX)
 * or PARLEY_ENOBUFS (less than 9 bytes of room; the writer is unchanged).
 */
int pl_data_hdr_encode(pl_wr *wr, uint32_t conn_id, uint64_t pn);

/*
 * Reads the DATA header of a datagram. The frames follow at
 * buf + PL_DATA_HDR_LEN. Returns PARLEY_OK, PARLEY_ETRUNC (shorter than 9
 * bytes) or PARLEY_EPROTO (not a DATA packet, or conn_id 0).
 */
int pl_data_hdr_decode(const uint8_t *buf, size_t len, uint32_t *conn_id,
                       uint32_t *pn_trunc);

/*
 * Expands a truncated 32-bit packet number to the full one nearest to
 * largest + 1 (RFC 9000 appendix A.3): the result r has the low 32 bits
 * `truncated` and satisfies largest + 1 - 2^31 < r <= largest + 1 + 2^31,
 * never exceeding PL_PN_MAX. Pass UINT64_MAX as largest when nothing has
 * been received yet (then the expected number is 0).
 */
uint64_t pl_pn_expand(uint64_t largest, uint32_t truncated);

/*
 * CONNECT, and the body RESPONSE repeats. user points into the decoded
 * buffer (NULL when user_len is 0).
 */
typedef struct pl_hs_connect {
    uint16_t version;
    uint32_t client_id;
    uint8_t nonce[8];
    uint16_t mtu;
    uint8_t channels;
    uint32_t max_message;
    uint32_t flags;
    uint16_t user_len;
    const uint8_t *user;
    /* The security extension, present as flags say. */
    uint8_t pk[PL_HS_KEY_LEN];          /* PL_HS_FLAG_ENCRYPT */
    uint8_t psk_mac[PL_HS_PSK_MAC_LEN]; /* PL_HS_FLAG_PSK */
    uint8_t token[PL_HS_TOKEN_LEN];     /* PL_HS_FLAG_TOKEN */
    uint16_t max_mtu; /* PL_HS_FLAG_PMTU: largest datagram accepted */
} pl_hs_connect;

typedef struct pl_hs_challenge {
    uint32_t client_id;
    uint8_t nonce[8];
    uint8_t cookie[PL_COOKIE_LEN];
} pl_hs_challenge;

typedef struct pl_hs_accept {
    uint32_t client_id;
    uint8_t nonce[8];
    uint32_t server_id;
    uint16_t mtu;
    uint8_t channels;
    uint32_t max_message;
    uint32_t flags;
    uint8_t pk[PL_HS_KEY_LEN];          /* PL_HS_FLAG_ENCRYPT */
    uint8_t confirm[PL_HS_CONFIRM_LEN]; /* PL_HS_FLAG_ENCRYPT */
    uint8_t sig[PL_HS_SIG_LEN];         /* PL_HS_FLAG_IDENTITY */
    uint16_t max_mtu; /* PL_HS_FLAG_PMTU: largest datagram accepted */
} pl_hs_accept;

typedef struct pl_hs_reject {
    uint32_t client_id;
    uint8_t nonce[8];
    uint8_t reason;
    uint32_t app_code;
} pl_hs_reject;

/*
 * Encoders write one whole packet at the writer's offset. CONNECT and
 * RESPONSE are zero-padded to PL_HANDSHAKE_MIN_SIZE bytes. Each returns
 * PARLEY_OK, PARLEY_EINVAL (a field a decoder would reject: client_id,
 * server_id or reason 0, mtu below PL_MTU_MIN, with PL_HS_FLAG_PMTU a
 * max_mtu below mtu, channels or max_message 0,
 * user_len over PL_HS_USER_MAX or user NULL with user_len > 0) or
 * PARLEY_ENOBUFS (no room: the writer is unchanged). The version field of
 * a CONNECT is written as given.
 */
int pl_hs_connect_encode(pl_wr *wr, const pl_hs_connect *c);
int pl_hs_response_encode(pl_wr *wr, const pl_hs_connect *c,
                          const uint8_t cookie[PL_COOKIE_LEN]);
int pl_hs_challenge_encode(pl_wr *wr, const pl_hs_challenge *c);
int pl_hs_accept_encode(pl_wr *wr, const pl_hs_accept *a);
int pl_hs_reject_encode(pl_wr *wr, const pl_hs_reject *r);

/*
 * Decoders of a whole datagram. The padding after a CONNECT or RESPONSE is
 * not inspected. Return PARLEY_OK or:
 *   PARLEY_EPROTO  wrong type byte, a CONNECT/RESPONSE under 1200 bytes,
 *                  bad magic, a field outside its range (see the encoders),
 *                  or bytes after a fixed-size packet;
 *   PARLEY_ETRUNC  a fixed-size packet cut short;
 *   PARLEY_EVERSION (CONNECT and RESPONSE) the version is not
 *                  PL_PROTO_VERSION: only version, client_id and nonce are
 *                  filled in, which is enough to answer with a REJECT.
 * On error *out may be partly written.
 */
int pl_hs_connect_decode(const uint8_t *buf, size_t len, pl_hs_connect *out);
int pl_hs_response_decode(const uint8_t *buf, size_t len, pl_hs_connect *out,
                          uint8_t cookie[PL_COOKIE_LEN]);
int pl_hs_challenge_decode(const uint8_t *buf, size_t len,
                           pl_hs_challenge *out);
int pl_hs_accept_decode(const uint8_t *buf, size_t len, pl_hs_accept *out);
int pl_hs_reject_decode(const uint8_t *buf, size_t len, pl_hs_reject *out);

/*
 * Security extension rules: PSK, TOKEN and IDENTITY need ENCRYPT (else
 * the encoders give PARLEY_EINVAL, the decoders PARLEY_EPROTO); other
 * flag bits are carried but mean nothing. PL_HS_FLAG_PMTU adds a u16
 * max_mtu after the rest of the extension (CONNECT, RESPONSE) or at the
 * end (ACCEPT). An ACCEPT is exactly PL_HS_ACCEPT_LEN bytes, plus 48 with
 * ENCRYPT, plus 64 with IDENTITY, plus 2 with PMTU.
 * The bytes of a CONNECT's extension, for the cookie input.
 */
size_t pl_hs_ext_len(uint32_t flags);
/* The length of the ACCEPT that flags describe. */
size_t pl_hs_accept_len(uint32_t flags);

/*
 * Writes the bytes the cookie MAC covers (docs/PROTOCOL.md, "Cookie"):
 * client IP as 16 bytes (IPv4 mapped to ::ffff:a.b.c.d), port, client_id,
 * nonce, time_s, then mtu, channels, max_message, flags, user_len and the
 * user data of c. At most PL_COOKIE_INPUT_MAX bytes. Returns PARLEY_OK,
 * PARLEY_EINVAL (client not IPv4/IPv6, or user NULL with user_len > 0) or
 * PARLEY_ENOBUFS (the writer is unchanged).
 */
int pl_hs_cookie_input(pl_wr *wr, const parley_addr *client,
                       const pl_hs_connect *c, uint64_t time_s);

/* The server time stamp (seconds) a cookie starts with. */
uint64_t pl_hs_cookie_time(const uint8_t cookie[PL_COOKIE_LEN]);

#endif
