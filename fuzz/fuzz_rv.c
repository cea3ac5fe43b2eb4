/*
 * Fuzz target for the RV protocol: the input is parsed frame by frame with
 * every content parser run on what decodes (PIXELTILE and DATAEVENT headers
 * are encoded again and must parse back the same), and the same bytes are
 * fed, cut at input-chosen points, to a sans-I/O RV connection with small
 * limits and a small memory budget. Afterwards every byte of receive
 * memory must have been given back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/rv_conn.h"
#include "wire/rv.h"

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
check_tile(const uint8_t *w, size_t n)
{
    pl_rv_tile t, back;
    uint8_t buf[4096];
    pl_wr wr;
    if (pl_rv_tile_parse(w, n, &t) != PARLEY_OK) {
        return;
    }
    pl_wr_init(&wr, buf, sizeof buf);
    if (pl_rv_tile_encode(&wr, &t) != PARLEY_OK) {
        return; /* a value the encoder refuses (e.g. with '=') */
    }
    FUZZ_CHECK(pl_rv_tile_parse(buf, wr.off, &back) == PARLEY_OK);
    FUZZ_CHECK(back.w == t.w && back.h == t.h && back.x == t.x &&
               back.y == t.y && back.f == t.f);
    FUZZ_CHECK(back.media.len == t.media.len &&
               memcmp(back.media.p, t.media.p, t.media.len) == 0);
}

static void
check_frame(const pl_rv_frame *f)
{
    if (f->head.kind == PL_RV_MESSAGE) {
        pl_rv_msg m;
        pl_rv_msg_parse(f->payload, (size_t)f->head.len, &m);
        FUZZ_CHECK(m.contents.p >= f->payload &&
                   m.contents.p + m.contents.len <= f->payload + f->head.len);
    } else if (f->head.kind == PL_RV_GREETING ||
               f->head.kind == PL_RV_NEWGREETING) {
        pl_rv_slice name, app;
        FUZZ_CHECK(pl_rv_greeting_parse(f->head.kind, f->payload,
                                        (size_t)f->head.len, &name,
                                        &app) == PARLEY_OK);
    } else if (f->head.kind == PL_RV_DATA) {
        pl_rv_dataevent d;
        check_tile(f->head.word, f->head.word_len);
        if (pl_rv_dataevent_parse(f->head.word, f->head.word_len, &d) ==
            PARLEY_OK) {
            FUZZ_CHECK(d.event.len > 0 && d.target.len > 0 &&
                       d.content_type.len > 0);
        }
    }
}

static void
parse_all(const uint8_t *data, size_t size)
{
    static const pl_rv_limits lim = {256, 1 << 16, 1 << 20};
    size_t at = 0;
    pl_rv_frame f;
    while (pl_rv_frame_parse(data + at, size - at, &lim, &f) == 1) {
        FUZZ_CHECK(f.size > 0 && f.size <= size - at);
        check_frame(&f);
        at += (size_t)f.size;
    }
}

/* ---- a connection ------------------------------------------------------- */

static void
sink(void *user, pl_rv_rec *r)
{
    (void)user;
    /* Touch what the app would read. */
    volatile size_t sum = r->ev.contents_len + r->ev.data_len;
    if (r->ev.data_len) {
        sum += r->ev.data[r->ev.data_len - 1];
    }
    (void)sum;
    pl_rv_rec_free(r);
}

static void
drain(pl_rv_conn *c, uint64_t now)
{
    const uint8_t *p;
    size_t len;
    while (pl_rv_conn_out_peek(c, &p, &len) == PARLEY_OK) {
        pl_rv_conn_out_consume(c, len, now);
    }
    if (pl_rv_conn_wants_shutdown(c)) {
        c->shut_wr = 1;
    }
}

static void
drive(const uint8_t *data, size_t size)
{
    pl_rv_budget budget = {0, 40000};
    pl_rv_params pp;
    memset(&pp, 0, sizeof pp);
    uint8_t mode = size ? data[0] : 0;
    pp.name = "fz";
    pp.app = "fuzz";
    pp.lim.max_head = 128;
    pp.lim.max_text = 70000;
    pp.lim.max_data = 70000;
    pp.pingpong = mode & 1;
    pp.manual_accept = (mode >> 1) & 1;
    pp.ping_us = 1000;
    pp.pong_us = 5000;
    pp.transfer_us = 3000;
    pp.handshake_us = 4000;
    pp.linger_us = 2000;
    pp.max_queued = 4096;
    pp.budget = &budget;
    pp.emit = sink;
    pl_rv_conn *c;
    uint64_t now = 1000;
    if (pl_rv_conn_new(&pp, 1, NULL, !((mode >> 2) & 1), now, &c) !=
        PARLEY_OK) {
        return;
    }
    pl_rv_conn_connected(c, now);
    size_t at = size ? 1 : 0;
    uint64_t seq = 0;
    while (at < size) {
        uint8_t *space;
        size_t cap;
        if (c->state == PL_RVC_REQUESTED && (data[at] & 1)) {
            pl_rv_conn_accept(c, now);
        }
        if (pl_rv_conn_read_space(c, &space, &cap) != PARLEY_OK) {
            if (c->state == PL_RVC_REQUESTED) {
                pl_rv_conn_accept(c, now);
                continue;
            }
            if (pl_rv_conn_can_retry(c)) {
                pl_rv_conn_on_read(c, 0, now);
                continue;
            }
            break;
        }
        size_t n = 1 + (data[at] % 37);
        n = n < size - at ? n : size - at;
        n = n < cap ? n : cap;
        memcpy(space, data + at, n);
        at += n;
        now += data[at - 1] % 7 == 0 ? 700 : 1;
        pl_rv_conn_on_read(c, n, now);
        if (pl_rv_conn_reply(c, seq, "r", 1) == PARLEY_OK) {
            seq++;
        }
        pl_rv_conn_tick(c, now);
        drain(c, now);
    }
    for (int i = 0; i < 8; i++) {
        now += 1000;
        pl_rv_conn_tick(c, now);
        drain(c, now);
    }
    pl_rv_conn_on_eof(c, now);
    drain(c, now);
    pl_rv_conn_free(c);
    FUZZ_CHECK(budget.used == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Byte 0 picks the connection's mode; the rest is the stream. */
    if (size > 0) {
        parse_all(data + 1, size - 1);
    }
    drive(data, size);
    return 0;
}
