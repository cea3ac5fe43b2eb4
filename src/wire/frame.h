/*
 * Frame codec for the payload of DATA packets (docs/PROTOCOL.md, "Frames"):
 * PADDING, PING, ACK, DISCONNECT, WINDOW and MESSAGE frames, one at a time
 * through the bounds-checked cursors, plus size helpers the engine uses to
 * plan what fits in a packet.
 */
#ifndef PL_WIRE_FRAME_H
#define PL_WIRE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "wire/ack_range.h"
#include "wire/cursor.h"

/* Frame types: byte 0 of a frame. MESSAGE frames use 0x10..0x17:
   0x10 | mode << 1 | frag. */
#define PL_FRAME_PADDING 0x00
#define PL_FRAME_PING 0x01
#define PL_FRAME_ACK 0x02
#define PL_FRAME_DISCONNECT 0x03
#define PL_FRAME_WINDOW 0x04
#define PL_FRAME_MSG 0x10
#define PL_FRAME_MSG_LAST 0x17
#define PL_FRAME_MSG_FRAG_BIT 0x01

/* Delivery modes, as carried in bits 1-2 of a MESSAGE frame's type. */
#define PL_MODE_RELIABLE_ORDERED 0
#define PL_MODE_RELIABLE_UNORDERED 1
#define PL_MODE_UNRELIABLE_SEQUENCED 2
#define PL_MODE_UNRELIABLE 3

/* DISCONNECT reasons (the same numbers as parley_reason 1-5). Receivers
   treat an unknown nonzero reason as 5. */
#define PL_DISC_GRACEFUL 1
#define PL_DISC_TIMEOUT 2
#define PL_DISC_KICKED 3
#define PL_DISC_REJECTED 4
#define PL_DISC_PROTOCOL 5

/*
 * The flow-control limit each side assumes for its peer until the peer's
 * first WINDOW frame: bytes of reliable message data (docs/PROTOCOL.md,
 * "WINDOW").
 */
#define PL_WINDOW_INITIAL 65536

/*
 * One decoded frame. type is the frame type, except that every MESSAGE
 * frame (0x10..0x17) decodes as PL_FRAME_MSG with mode and frag set. For an
 * unfragmented message total_len == len and offset == 0. msg.data points
 * into the decoded buffer.
 */
typedef struct pl_frame {
    uint8_t type;
    union {
        struct {
            uint64_t largest, delay_us;
            size_t n; /* 1..PL_ACK_MAX_RANGES, r[0].hi == largest */
            pl_ack_range r[PL_ACK_MAX_RANGES]; /* descending */
        } ack;
        struct {
            uint8_t reason;
            uint64_t code;
        } disconnect;
        struct {
            uint64_t bytes; /* absolute limit, see PROTOCOL.md */
        } window;
        struct {
            uint8_t mode, channel, frag;
            uint64_t seq, total_len, offset;
            size_t len;
            const uint8_t *data;
        } msg;
        struct {
            size_t len; /* bytes including the type byte */
        } padding;
    } u;
} pl_frame;

/*
 * Decodes the frame at the reader's position and moves past it. A PADDING
 * frame takes the rest of the reader. Returns PARLEY_OK, or PARLEY_EPROTO
 * for anything malformed: an empty reader, an unknown type, a frame cut
 * short, nonzero padding, a DISCONNECT reason 0, an ACK that underflows
 * below packet 0 or has more than PL_ACK_MAX_RANGES ranges, a fragment
 * with total_len or len 0 or offset + len > total_len. After an error the
 * reader's position is unspecified: drop the whole packet.
 */
int pl_frame_decode(pl_rd *rd, pl_frame *f);

/*
 * Encoders. Each returns PARLEY_OK, PARLEY_EINVAL (an argument a decoder
 * would reject, or a value of 2^62 or more where a varint goes) or
 * PARLEY_ENOBUFS (it does not fit: the writer is unchanged).
 */

/* n zero bytes: a PADDING frame of n bytes (n == 0 writes nothing). */
int pl_frame_encode_padding(pl_wr *wr, size_t n);
int pl_frame_encode_ping(pl_wr *wr);
int pl_frame_encode_disconnect(pl_wr *wr, uint8_t reason, uint64_t app_code);
int pl_frame_encode_window(pl_wr *wr, uint64_t bytes);

/*
 * Writes an ACK of the ranges r[0..n) (descending, lo <= hi, separated by
 * at least one missing packet, r[0].hi < 2^62), as many as fit from the
 * highest, at most PL_ACK_MAX_RANGES. *n_written gets how many. ENOBUFS
 * when not even r[0] fits.
 */
int pl_frame_encode_ack(pl_wr *wr, const pl_ack_range *r, size_t n,
                        uint64_t delay_us, size_t *n_written);

/* A whole message (frag 0). mode is a PL_MODE_*; data may be NULL when
   len is 0. */
int pl_frame_encode_msg(pl_wr *wr, uint8_t mode, uint8_t channel, uint64_t seq,
                        const uint8_t *data, size_t len);

/* A piece of a message: len > 0, total_len > 0, offset + len <= total_len. */
int pl_frame_encode_frag(pl_wr *wr, uint8_t mode, uint8_t channel, uint64_t seq,
                         uint64_t total_len, uint64_t offset,
                         const uint8_t *data, size_t len);

/*
 * Encodes any decoded frame (an ACK with all its ranges, or ENOBUFS).
 * Encoding what pl_frame_decode produced gives bytes that decode to the
 * same values (the minimal form of the input).
 */
int pl_frame_encode(pl_wr *wr, const pl_frame *f);

/* Bytes pl_frame_encode_msg writes, or 0 if seq or len is out of range. */
size_t pl_frame_msg_size(uint64_t seq, size_t len);

/* Bytes pl_frame_encode_frag writes before the data, or 0 if a value is
   out of range. */
size_t pl_frame_frag_header_size(uint64_t seq, uint64_t total_len,
                                 uint64_t offset, size_t len);

/*
 * The most data bytes a fragment at offset of a total_len message can carry
 * in space bytes (header included), never more than total_len - offset; 0
 * if not even one byte fits.
 */
size_t pl_frame_frag_fit(uint64_t seq, uint64_t total_len, uint64_t offset,
                         size_t space);

/* Bytes pl_frame_encode_ack writes for all of r[0..n) (n capped at
   PL_ACK_MAX_RANGES); 0 if the ranges are invalid. */
size_t pl_frame_ack_size(const pl_ack_range *r, size_t n, uint64_t delay_us);

/* Nonzero for frames that oblige the receiver to acknowledge the packet:
   everything but PADDING and ACK. Takes a wire type or PL_FRAME_MSG. */
int pl_frame_is_ack_eliciting(uint8_t type);

#endif
