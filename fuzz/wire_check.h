/*
 * Checks shared by the wire fuzz targets: decode arbitrary bytes, and
 * wherever a decode succeeds, encode the result again and require that it
 * decodes to the same values. A failed check aborts, which libFuzzer (and
 * the corpus replay) report as a crash.
 */
#ifndef PARLEY_FUZZ_WIRE_CHECK_H
#define PARLEY_FUZZ_WIRE_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/frame.h"
#include "wire/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                          \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #c);                                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

static void
check_frame_equal(const pl_frame *a, const pl_frame *b)
{
    FUZZ_CHECK(a->type == b->type);
    switch (a->type) {
    case PL_FRAME_PADDING:
        FUZZ_CHECK(a->u.padding.len == b->u.padding.len);
        break;
    case PL_FRAME_ACK:
        FUZZ_CHECK(a->u.ack.largest == b->u.ack.largest);
        FUZZ_CHECK(a->u.ack.delay_us == b->u.ack.delay_us);
        FUZZ_CHECK(a->u.ack.n == b->u.ack.n);
        FUZZ_CHECK(memcmp(a->u.ack.r, b->u.ack.r,
                          a->u.ack.n * sizeof a->u.ack.r[0]) == 0);
        break;
    case PL_FRAME_DISCONNECT:
        FUZZ_CHECK(a->u.disconnect.reason == b->u.disconnect.reason);
        FUZZ_CHECK(a->u.disconnect.code == b->u.disconnect.code);
        break;
    case PL_FRAME_WINDOW:
        FUZZ_CHECK(a->u.window.bytes == b->u.window.bytes);
        break;
    case PL_FRAME_MSG:
        FUZZ_CHECK(a->u.msg.mode == b->u.msg.mode);
        FUZZ_CHECK(a->u.msg.channel == b->u.msg.channel);
        FUZZ_CHECK(a->u.msg.frag == b->u.msg.frag);
        FUZZ_CHECK(a->u.msg.seq == b->u.msg.seq);
        FUZZ_CHECK(a->u.msg.total_len == b->u.msg.total_len);
        FUZZ_CHECK(a->u.msg.offset == b->u.msg.offset);
        FUZZ_CHECK(a->u.msg.len == b->u.msg.len);
        FUZZ_CHECK(a->u.msg.len == 0 ||
                   memcmp(a->u.msg.data, b->u.msg.data, a->u.msg.len) == 0);
        break;
    default:
        FUZZ_CHECK(a->type == PL_FRAME_PING);
    }
}

/* Invariants of a decoded ACK: descending, separated, within 0..2^62. */
static void
check_ack_shape(const pl_frame *f)
{
    FUZZ_CHECK(f->u.ack.n >= 1 && f->u.ack.n <= PL_ACK_MAX_RANGES);
    FUZZ_CHECK(f->u.ack.r[0].hi == f->u.ack.largest);
    for (size_t i = 0; i < f->u.ack.n; i++) {
        FUZZ_CHECK(f->u.ack.r[i].lo <= f->u.ack.r[i].hi);
        if (i > 0) {
            FUZZ_CHECK(f->u.ack.r[i].hi + 2 <= f->u.ack.r[i - 1].lo);
        }
    }
}

/* Encodes f, requires the minimal form to be no longer than the input it
   came from (consumed bytes), and decodes it back to the same values. */
static void
check_frame_round_trip(const pl_frame *f, size_t consumed)
{
    size_t cap = consumed + 16;
    uint8_t *buf = malloc(cap);
    FUZZ_CHECK(buf != NULL);
    pl_wr wr;
    pl_wr_init(&wr, buf, cap);
    FUZZ_CHECK(pl_frame_encode(&wr, f) == PARLEY_OK);
    FUZZ_CHECK(wr.off <= consumed);
    FUZZ_CHECK(pl_frame_is_ack_eliciting(f->type) ==
               (f->type != PL_FRAME_PADDING && f->type != PL_FRAME_ACK));

    pl_rd rd;
    pl_frame g;
    pl_rd_init(&rd, buf, wr.off);
    FUZZ_CHECK(pl_frame_decode(&rd, &g) == PARLEY_OK);
    FUZZ_CHECK(pl_rd_left(&rd) == 0);
    check_frame_equal(f, &g);
    if (f->type == PL_FRAME_ACK) {
        check_ack_shape(f);
        FUZZ_CHECK(pl_frame_ack_size(f->u.ack.r, f->u.ack.n,
                                     f->u.ack.delay_us) == wr.off);
    }
    if (f->type == PL_FRAME_MSG && !f->u.msg.frag) {
        FUZZ_CHECK(pl_frame_msg_size(f->u.msg.seq, f->u.msg.len) == wr.off);
    }
    free(buf);
}

/* An ACK re-encoded into a smaller writer keeps the highest ranges. */
static void
check_ack_partial(const pl_frame *f, size_t cap)
{
    uint8_t buf[1024];
    size_t n = 0;
    pl_wr wr;
    pl_wr_init(&wr, buf, cap < sizeof buf ? cap : sizeof buf);
    int rc =
        pl_frame_encode_ack(&wr, f->u.ack.r, f->u.ack.n, f->u.ack.delay_us, &n);
    if (rc != PARLEY_OK) {
        FUZZ_CHECK(rc == PARLEY_ENOBUFS && wr.off == 0 && wr.err == 0);
        return;
    }
    FUZZ_CHECK(n >= 1 && n <= f->u.ack.n);
    pl_rd rd;
    pl_frame g;
    pl_rd_init(&rd, buf, wr.off);
    FUZZ_CHECK(pl_frame_decode(&rd, &g) == PARLEY_OK);
    FUZZ_CHECK(g.u.ack.n == n);
    FUZZ_CHECK(memcmp(g.u.ack.r, f->u.ack.r, n * sizeof g.u.ack.r[0]) == 0);
}

/* Decodes frames until the end or the first error, checking each. Returns
   the number decoded, or -1 if an error stopped it. */
static int
check_frames(const uint8_t *p, size_t n)
{
    pl_rd rd;
    int count = 0;
    pl_rd_init(&rd, p, n);
    while (pl_rd_left(&rd) > 0) {
        pl_frame f;
        size_t before = rd.off;
        if (pl_frame_decode(&rd, &f) != PARLEY_OK) {
            return -1;
        }
        FUZZ_CHECK(rd.off > before && rd.off <= n);
        check_frame_round_trip(&f, rd.off - before);
        if (f.type == PL_FRAME_ACK) {
            check_ack_partial(&f, (size_t)(p[before] ^ n) % 64);
        }
        count++;
    }
    return count;
}

#endif
