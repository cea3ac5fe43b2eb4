/*
 * The golden vectors of docs/PROTOCOL.md section 11, as hex, shared by the
 * wire codec tests (which compare the codec's bytes with them) and
 * protocol_doc_test.c (which checks that the document shows the same).
 */
#ifndef WIRE_GOLDEN_H
#define WIRE_GOLDEN_H

/* ---- varints (section 2): X(value, hex) --------------------------------- */

#define GOLDEN_VARINTS(X)                                                      \
    X(0, "00")                                                                 \
    X(37, "25")                                                                \
    X(63, "3f")                                                                \
    X(64, "4040")                                                              \
    X(15293, "7bbd")                                                           \
    X(16383, "7fff")                                                           \
    X(16384, "80004000")                                                       \
    X(494878333, "9d7f3e7d")                                                   \
    X((UINT64_C(1) << 30) - 1, "bfffffff")                                     \
    X(UINT64_C(1) << 30, "c000000040000000")                                   \
    X(UINT64_C(151288809941952652), "c2197c5eff14e88c")                        \
    X((UINT64_C(1) << 62) - 1, "ffffffffffffffff")

/* ---- packets (section 11.1) ---------------------------------------------- */

#define HEX_DATA_HDR "01 11223344 12345678"

/* The first 37 bytes; 1163 zero bytes follow. */
#define HEX_CONNECT                                                            \
    "10 50524c59 0001 0a0b0c0d 0102030405060708 0578 04 00100000 00000000"     \
    " 0005 68656c6c6f"

#define HEX_COOKIE                                                             \
    "0000000065000000"                                                         \
    " cbc1bf785e7cf8faa817c73622acf90cfd31b95943a2f50837c77e64c7d31841"

/* The first 77 bytes; 1123 zero bytes follow. */
#define HEX_RESPONSE                                                           \
    "12 50524c59 0001 0a0b0c0d 0102030405060708 0578 04 00100000 00000000"     \
    " 0005 68656c6c6f " HEX_COOKIE

#define HEX_CHALLENGE "11 0a0b0c0d 0102030405060708 " HEX_COOKIE

#define HEX_ACCEPT                                                             \
    "13 0a0b0c0d 0102030405060708 cafef00d 0578 04 00010000 00000000"

#define HEX_REJECT "14 0a0b0c0d 0102030405060708 03 0000002a"

/* CONNECT with flags 0x10 and max_mtu 9000 (the first 39 bytes; 1161 zero
   bytes follow). */
#define HEX_CONNECT_PMTU                                                       \
    "10 50524c59 0001 0a0b0c0d 0102030405060708 0578 04 00100000 00000010"     \
    " 0005 68656c6c6f 2328"

/* ACCEPT with flags 0x10 and max_mtu 65507 (30 bytes). */
#define HEX_ACCEPT_PMTU                                                        \
    "13 0a0b0c0d 0102030405060708 cafef00d 0578 04 00010000 00000010 ffe3"

#define HEX_COOKIE_INPUT_V4                                                    \
    "00000000000000000000ffffc0000201 c350 0a0b0c0d 0102030405060708"          \
    " 0000000065000000 0578 04 00100000 00000000 0005 68656c6c6f"

#define HEX_COOKIE_INPUT_V6                                                    \
    "20010db8000000000000000000000001 01bb 0a0b0c0d 0102030405060708"          \
    " 0000000065000000 0578 04 00100000 00000000 0005 68656c6c6f"

/* ---- encryption (section 13.9) -------------------------------------------
   Client: X25519 secret of RFC 7748 6.1 (Alice), server: 00 01 .. 1f,
   client_conn_id 0x0a0b0c0d, nonce 01..08, server_conn_id 0xcafef00d. */

#define HEX_X25519_CLIENT_SK                                                   \
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define HEX_X25519_CLIENT_PK                                                   \
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define HEX_X25519_SERVER_PK                                                   \
    "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f"
#define HEX_KEY_C2S                                                            \
    "8977a3741f65a6b1f8c0a49e4b5026af5b1ebfc4622fbefa40ea74ed5b8c5cb4"
#define HEX_KEY_S2C                                                            \
    "2b10abf92e8548bdd693cdb43dd46d081814904348f5de879a87d8dd5b3988b0"
#define HEX_KEY_CONFIRM                                                        \
    "86345e64ba40c1429ea999d9c68a3b9f2fcc15d36af8eb2fc7500a29cd815f89"
/* The same with the PSK 00 01 .. 1f. */
#define HEX_PSK_C2S                                                            \
    "19ff98719a812c456228ed328cc3f89c8ac647a68decc7392338ebd61edc684f"
#define HEX_PSK_S2C                                                            \
    "90deca5c6bbb04712aeeef696777fbf61c2425810020931e52cef1f26e8814e2"
#define HEX_PSK_CONFIRM                                                        \
    "909c95e7de908d6c6d34c199053b25ea5bce114ae351a9c454ff8253522124f7"
#define HEX_PSK_MAC "cdd4ba0b0538fc3b9d1411d54a73264b"
#define HEX_TRANSCRIPT_HASH                                                    \
    "6316401b7b02ee4830467b06dbed019897aa05c0276ad0fe4717875a1c748053"

/* CONNECT with flags 1 (the first 69 bytes; 1131 zero bytes follow). */
#define HEX_CONNECT_ENC                                                        \
    "10 50524c59 0001 0a0b0c0d 0102030405060708 0578 04 00100000 00000001"     \
    " 0005 68656c6c6f " HEX_X25519_CLIENT_PK

/* CONNECT with flags 3, PSK 00 01 .. 1f (85 bytes, then zeros). */
#define HEX_CONNECT_PSK                                                        \
    "10 50524c59 0001 0a0b0c0d 0102030405060708 0578 04 00100000 00000003"     \
    " 0005 68656c6c6f " HEX_X25519_CLIENT_PK " " HEX_PSK_MAC

/* ACCEPT with flags 1 (76 bytes). */
#define HEX_ACCEPT_ENC                                                         \
    "13 0a0b0c0d 0102030405060708 cafef00d 0578 04 00010000 "                  \
    "00000001 " HEX_X25519_SERVER_PK " d6cede99f940f604372b871ffa319eaf"

/* Identity key from the Ed25519 seed 2a 2a .. 2a. */
#define HEX_IDENTITY_PK                                                        \
    "197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61"

/* ACCEPT with flags 9 (140 bytes): confirmation, then the signature of
   the transcript hash. */
#define HEX_ACCEPT_ID                                                          \
    "13 0a0b0c0d 0102030405060708 cafef00d 0578 04 00010000 "                  \
    "00000009 " HEX_X25519_SERVER_PK " ca294d047067a382b4718c4b703f14b0"       \
    " 120d115e110dbd709049b8b5c3dec0d444ff107fdd32834bffb02211a991fdb1"        \
    "65ca1849f5f50983f8e48488fbf81be35ccb52bdf650a5ed6e6cfa98adeb3d0c"

/* Client to server, pn 0, one PING, sealed with the c2s key. */
#define HEX_SEALED_PING                                                        \
    "01 cafef00d 00000000 c3 fa9eeb3f2bc5bed3abfdc6440a94207d"
/* Server to client, pn 7, MESSAGE "hi", sealed with the s2c key. */
#define HEX_SEALED_HI                                                          \
    "01 0a0b0c0d 00000007 9476e6393609 03f1f19c5156764faad87416cd2d2171"

/* A token signed with the identity key above: expires 0x70000000, user
   42. */
#define HEX_TOKEN                                                              \
    "0000000070000000 000000000000002a"                                        \
    " a7b6af4a127faccdae9b0381e51e62df21c616c17213b252d9e608ecf2915418"        \
    "0dc614b9ce961e7a3d1b15bc3392091b9f71c6a5c13dbf274e71329c3df06d07"

/* ---- frames (section 11.2) ------------------------------------------------
 */

#define HEX_PADDING "000000"
#define HEX_PING "01"
#define HEX_ACK "02 4064 40fa 02 05 030a 0800"
#define HEX_DISCONNECT_1 "03 01 00"
#define HEX_DISCONNECT_2 "03 03 43e8"
#define HEX_WINDOW "04 80100000"
#define HEX_MSG_RO "10 00 00 02 6869"
#define HEX_MSG_US_EMPTY "14 01 4046 00"
#define HEX_MSG_U "16 07 412c 03 616263"
#define HEX_FRAG_RU "13 02 05 4bb8 44b0 04 7778797a"
#define HEX_FRAG_U_LAST "17 ff 3f 0a 08 02 7a7a"
#define HEX_DATA_PACKET                                                        \
    "01 11223344 12345678 " HEX_ACK " " HEX_MSG_RO " " HEX_PADDING

/* Every vector above except the varints, for protocol_doc_test.c. */
// clang-format off
#define GOLDEN_ALL(X) \
    X(HEX_DATA_HDR) \
    X(HEX_CONNECT) \
    X(HEX_COOKIE) \
    X(HEX_RESPONSE) \
    X(HEX_CHALLENGE) \
    X(HEX_ACCEPT) \
    X(HEX_REJECT) \
    X(HEX_COOKIE_INPUT_V4) \
    X(HEX_COOKIE_INPUT_V6) \
    X(HEX_PADDING) \
    X(HEX_PING) \
    X(HEX_ACK) \
    X(HEX_DISCONNECT_1) \
    X(HEX_DISCONNECT_2) \
    X(HEX_WINDOW) \
    X(HEX_MSG_RO) \
    X(HEX_MSG_US_EMPTY) \
    X(HEX_MSG_U) \
    X(HEX_FRAG_RU) \
    X(HEX_FRAG_U_LAST) \
    X(HEX_DATA_PACKET) \
    X(HEX_X25519_CLIENT_PK) \
    X(HEX_X25519_SERVER_PK) \
    X(HEX_KEY_C2S) \
    X(HEX_KEY_S2C) \
    X(HEX_KEY_CONFIRM) \
    X(HEX_PSK_C2S) \
    X(HEX_PSK_S2C) \
    X(HEX_PSK_CONFIRM) \
    X(HEX_PSK_MAC) \
    X(HEX_TRANSCRIPT_HASH) \
    X(HEX_CONNECT_ENC) \
    X(HEX_CONNECT_PSK) \
    X(HEX_ACCEPT_ENC) \
    X(HEX_IDENTITY_PK) \
    X(HEX_ACCEPT_ID) \
    X(HEX_SEALED_PING) \
    X(HEX_SEALED_HI) \
    X(HEX_TOKEN) \
    X(HEX_CONNECT_PMTU) \
    X(HEX_ACCEPT_PMTU)
// clang-format on

#endif
