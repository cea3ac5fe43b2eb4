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

#define HEX_COOKIE_INPUT_V4                                                    \
    "00000000000000000000ffffc0000201 c350 0a0b0c0d 0102030405060708"          \
    " 0000000065000000 0578 04 00100000 00000000 0005 68656c6c6f"

#define HEX_COOKIE_INPUT_V6                                                    \
    "20010db8000000000000000000000001 01bb 0a0b0c0d 0102030405060708"          \
    " 0000000065000000 0578 04 00100000 00000000 0005 68656c6c6f"

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
    X(HEX_DATA_PACKET)
// clang-format on

#endif
