/*
 * Tests for the frame codec: golden bytes of every frame type (the same
 * hex as docs/PROTOCOL.md), every truncation, unknown types, malformed
 * ACKs, fragment bounds, random round trips and the size helpers.
 */
#include "pt.h"

#include "parley/parley.h"
#include "wire/frame.h"
#include "wire/packet.h"
#include "golden.h"
#include "wire_util.h"

static const char *const g_golden[] = {
    HEX_PADDING,      HEX_PING,    HEX_ACK,         HEX_DISCONNECT_1,
    HEX_DISCONNECT_2, HEX_WINDOW,  HEX_MSG_RO,      HEX_MSG_US_EMPTY,
    HEX_MSG_U,        HEX_FRAG_RU, HEX_FRAG_U_LAST,
};
#define N_GOLDEN (sizeof g_golden / sizeof g_golden[0])

static const pl_ack_range g_ack_ranges[3] = {{95, 100}, {80, 90}, {70, 70}};

/* Decodes exactly one frame from hex held in an exact-size heap buffer;
   the whole input must be consumed. The buffer is returned in *keep (free
   it) so msg.data stays valid. */
static int
decode_hex(const char *hex, pl_frame *f, uint8_t **keep)
{
    uint8_t b[256];
    size_t n = hex_to_bytes(hex, b, sizeof b);
    PT_TRUE(n != (size_t)-1);
    uint8_t *exact = exact_copy(b, n);
    pl_rd rd;
    pl_rd_init(&rd, exact, n);
    int rc = pl_frame_decode(&rd, f);
    if (rc == PARLEY_OK) {
        PT_EQ_INT(pl_rd_left(&rd), 0);
    }
    *keep = exact;
    return rc;
}

/* Checks that what the encoder wrote into buf[0..len) is exactly hex. */
static void
expect_bytes(const uint8_t *buf, size_t len, const char *hex)
{
    uint8_t want[256];
    size_t n = hex_to_bytes(hex, want, sizeof want);
    PT_EQ_INT(len, n);
    PT_EQ_MEM(buf, want, n);
}

/* ---- golden encode and decode ------------------------------------------- */

PT_TEST(padding_and_ping_golden)
{
    uint8_t buf[8], *keep;
    pl_wr wr;
    pl_frame f;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_padding(&wr, 3));
    expect_bytes(buf, wr.off, HEX_PADDING);
    PT_OK(decode_hex(HEX_PADDING, &f, &keep));
    PT_EQ_INT(f.type, PL_FRAME_PADDING);
    PT_EQ_INT(f.u.padding.len, 3);
    free(keep);

    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_padding(&wr, 0)); /* nothing */
    PT_OK(pl_frame_encode_ping(&wr));
    expect_bytes(buf, wr.off, HEX_PING);
    PT_OK(decode_hex(HEX_PING, &f, &keep));
    PT_EQ_INT(f.type, PL_FRAME_PING);
    free(keep);
}

PT_TEST(ack_golden)
{
    uint8_t buf[64], *keep;
    size_t n = 0;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_ack(&wr, g_ack_ranges, 3, 250, &n));
    PT_EQ_INT(n, 3);
    expect_bytes(buf, wr.off, HEX_ACK);
    PT_EQ_INT(pl_frame_ack_size(g_ack_ranges, 3, 250), wr.off);

    pl_frame f;
    PT_OK(decode_hex(HEX_ACK, &f, &keep));
    PT_EQ_INT(f.type, PL_FRAME_ACK);
    PT_EQ_U64(f.u.ack.largest, 100);
    PT_EQ_U64(f.u.ack.delay_us, 250);
    PT_EQ_INT(f.u.ack.n, 3);
    for (size_t i = 0; i < 3; i++) {
        PT_EQ_U64(f.u.ack.r[i].lo, g_ack_ranges[i].lo);
        PT_EQ_U64(f.u.ack.r[i].hi, g_ack_ranges[i].hi);
    }
    free(keep);
}

PT_TEST(disconnect_and_window_golden)
{
    uint8_t buf[16], *keep;
    pl_wr wr;
    pl_frame f;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_disconnect(&wr, PL_DISC_GRACEFUL, 0));
    expect_bytes(buf, wr.off, HEX_DISCONNECT_1);
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_disconnect(&wr, PL_DISC_KICKED, 1000));
    expect_bytes(buf, wr.off, HEX_DISCONNECT_2);
    PT_OK(decode_hex(HEX_DISCONNECT_2, &f, &keep));
    PT_EQ_INT(f.type, PL_FRAME_DISCONNECT);
    PT_EQ_INT(f.u.disconnect.reason, PL_DISC_KICKED);
    PT_EQ_U64(f.u.disconnect.code, 1000);
    free(keep);

    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_window(&wr, 1048576));
    expect_bytes(buf, wr.off, HEX_WINDOW);
    PT_OK(decode_hex(HEX_WINDOW, &f, &keep));
    PT_EQ_INT(f.type, PL_FRAME_WINDOW);
    PT_EQ_U64(f.u.window.bytes, 1048576);
    free(keep);
}

/* Decodes a golden MESSAGE frame and checks its fields. */
static void
check_msg(const char *hex, uint8_t mode, uint8_t frag, uint8_t channel,
          uint64_t seq, uint64_t total, uint64_t offset, const char *data)
{
    pl_frame f;
    uint8_t *keep;
    PT_OK(decode_hex(hex, &f, &keep));
    PT_EQ_INT(f.type, PL_FRAME_MSG);
    PT_EQ_INT(f.u.msg.mode, mode);
    PT_EQ_INT(f.u.msg.frag, frag);
    PT_EQ_INT(f.u.msg.channel, channel);
    PT_EQ_U64(f.u.msg.seq, seq);
    PT_EQ_U64(f.u.msg.total_len, total);
    PT_EQ_U64(f.u.msg.offset, offset);
    PT_EQ_INT(f.u.msg.len, strlen(data));
    PT_EQ_MEM(f.u.msg.data, data, f.u.msg.len);
    free(keep);
}

PT_TEST(message_golden)
{
    uint8_t buf[32];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_msg(&wr, PL_MODE_RELIABLE_ORDERED, 0, 0,
                              (const uint8_t *)"hi", 2));
    expect_bytes(buf, wr.off, HEX_MSG_RO);
    PT_EQ_INT(pl_frame_msg_size(0, 2), wr.off);
    check_msg(HEX_MSG_RO, 0, 0, 0, 0, 2, 0, "hi");

    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(
        pl_frame_encode_msg(&wr, PL_MODE_UNRELIABLE_SEQUENCED, 1, 70, NULL, 0));
    expect_bytes(buf, wr.off, HEX_MSG_US_EMPTY);
    check_msg(HEX_MSG_US_EMPTY, 2, 0, 1, 70, 0, 0, "");

    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_msg(&wr, PL_MODE_UNRELIABLE, 7, 300,
                              (const uint8_t *)"abc", 3));
    expect_bytes(buf, wr.off, HEX_MSG_U);
    check_msg(HEX_MSG_U, 3, 0, 7, 300, 3, 0, "abc");
}

PT_TEST(fragment_golden)
{
    uint8_t buf[32];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_frag(&wr, PL_MODE_RELIABLE_UNORDERED, 2, 5, 3000,
                               1200, (const uint8_t *)"wxyz", 4));
    expect_bytes(buf, wr.off, HEX_FRAG_RU);
    PT_EQ_INT(pl_frame_frag_header_size(5, 3000, 1200, 4) + 4, wr.off);
    check_msg(HEX_FRAG_RU, 1, 1, 2, 5, 3000, 1200, "wxyz");

    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_frame_encode_frag(&wr, PL_MODE_UNRELIABLE, 255, 63, 10, 8,
                               (const uint8_t *)"zz", 2));
    expect_bytes(buf, wr.off, HEX_FRAG_U_LAST);
    check_msg(HEX_FRAG_U_LAST, 3, 1, 255, 63, 10, 8, "zz");
}

/* Decoding any golden frame and encoding it again gives the same bytes. */
PT_TEST(golden_reencode_identical)
{
    for (size_t i = 0; i < N_GOLDEN; i++) {
        pl_frame f;
        uint8_t *keep, buf[64];
        PT_OK(decode_hex(g_golden[i], &f, &keep));
        pl_wr wr;
        pl_wr_init(&wr, buf, sizeof buf);
        PT_OK(pl_frame_encode(&wr, &f));
        expect_bytes(buf, wr.off, g_golden[i]);
        free(keep);
    }
}

/* A whole DATA packet built from the encoders, then taken apart. */
PT_TEST(data_packet_golden)
{
    uint8_t buf[64];
    size_t n;
    pl_wr wr;
    pl_wr_init(&wr, buf, 29);
    PT_OK(pl_data_hdr_encode(&wr, 0x11223344, UINT64_C(0x512345678)));
    PT_OK(pl_frame_encode_ack(&wr, g_ack_ranges, 3, 250, &n));
    PT_OK(pl_frame_encode_msg(&wr, 0, 0, 0, (const uint8_t *)"hi", 2));
    PT_OK(pl_frame_encode_padding(&wr, pl_wr_left(&wr)));
    expect_bytes(buf, wr.off, HEX_DATA_PACKET);

    uint32_t id, pn;
    PT_OK(pl_data_hdr_decode(buf, wr.off, &id, &pn));
    pl_rd rd;
    pl_rd_init(&rd, buf + PL_DATA_HDR_LEN, wr.off - PL_DATA_HDR_LEN);
    static const uint8_t types[] = {PL_FRAME_ACK, PL_FRAME_MSG,
                                    PL_FRAME_PADDING};
    for (size_t i = 0; i < 3; i++) {
        pl_frame f;
        PT_OK(pl_frame_decode(&rd, &f));
        PT_EQ_INT(f.type, types[i]);
    }
    PT_EQ_INT(pl_rd_left(&rd), 0);
}

/* ---- malformed input ------------------------------------------------------
 */

/* Every proper prefix of every golden frame is an error (PADDING: only
   the empty one), read from an exact-size heap buffer. */
PT_TEST(every_truncation_fails)
{
    for (size_t i = 0; i < N_GOLDEN; i++) {
        uint8_t b[64];
        size_t n = hex_to_bytes(g_golden[i], b, sizeof b);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *p = exact_copy(b, cut);
            pl_rd rd;
            pl_frame f;
            pl_rd_init(&rd, p, cut);
            int rc = pl_frame_decode(&rd, &f);
            if (b[0] == PL_FRAME_PADDING && cut > 0) {
                PT_OK(rc);
                PT_EQ_INT(f.u.padding.len, cut);
            } else {
                PT_ERR(rc, PARLEY_EPROTO);
            }
            free(p);
        }
    }
}

PT_TEST(unknown_types_rejected)
{
    uint8_t b[32];
    for (int t = 0; t < 256; t++) {
        int known = t <= 0x04 || (t >= 0x10 && t <= 0x17);
        memset(b, 0, sizeof b);
        b[0] = (uint8_t)t;
        pl_rd rd;
        pl_frame f;
        pl_rd_init(&rd, b, sizeof b);
        int rc = pl_frame_decode(&rd, &f);
        if (!known) {
            PT_ERR(rc, PARLEY_EPROTO);
        }
        PT_EQ_INT(pl_frame_is_ack_eliciting((uint8_t)t),
                  known && t != PL_FRAME_PADDING && t != PL_FRAME_ACK);
    }
    pl_rd rd;
    pl_frame f;
    pl_rd_init(&rd, b, 0);
    PT_ERR(pl_frame_decode(&rd, &f), PARLEY_EPROTO); /* no frame at all */
}

PT_TEST(padding_must_be_zero)
{
    pl_frame f;
    uint8_t *keep;
    PT_ERR(decode_hex("00 00 00 01", &f, &keep), PARLEY_EPROTO);
    free(keep);
    PT_ERR(decode_hex("00 80", &f, &keep), PARLEY_EPROTO);
    free(keep);
    /* Padding takes the rest of the packet: no frame can follow it. */
    PT_OK(decode_hex("00 00 00 00 00 00", &f, &keep));
    PT_EQ_INT(f.u.padding.len, 6);
    free(keep);
}

PT_TEST(disconnect_reason_zero_rejected)
{
    pl_frame f;
    uint8_t *keep, buf[16];
    PT_ERR(decode_hex("03 00 00", &f, &keep), PARLEY_EPROTO);
    free(keep);
    PT_OK(decode_hex("03 99 00", &f, &keep)); /* unknown reasons pass */
    PT_EQ_INT(f.u.disconnect.reason, 0x99);
    free(keep);
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_ERR(pl_frame_encode_disconnect(&wr, 0, 0), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_disconnect(&wr, 1, PL_VARINT_MAX + 1),
           PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_window(&wr, PL_VARINT_MAX + 1), PARLEY_EINVAL);
    PT_EQ_INT(wr.off, 0);
    PT_OK(pl_frame_encode_window(&wr, PL_VARINT_MAX));
    expect_bytes(buf, wr.off, "04 ffffffffffffffff");
}

PT_TEST(ack_malformed)
{
    static const struct {
        const char *hex;
        int rc;
    } t[] = {
        {"02 05 00 00 05", PARLEY_OK},           /* 0..5 */
        {"02 05 00 00 06", PARLEY_EPROTO},       /* first range below 0 */
        {"02 0a 00 01 05 03 00", PARLEY_OK},     /* 5..10, 0..0 */
        {"02 0a 00 01 05 04 00", PARLEY_EPROTO}, /* gap below 0 */
        {"02 0a 00 01 05 03 01", PARLEY_EPROTO}, /* length below 0 */
        {"02 0a 00 02 05 03 00", PARLEY_EPROTO}, /* a range missing */
        {"02 0a 00 40 05", PARLEY_EPROTO},       /* 64 more ranges */
        {"02 0a 00 bfffffff 05", PARLEY_EPROTO}, /* huge count */
        {"02 ffffffffffffffff 00 00 bfffffff", PARLEY_OK}, /* 2^62-1 */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        pl_frame f;
        uint8_t *keep;
        int rc = decode_hex(t[i].hex, &f, &keep);
        free(keep);
        if (rc != t[i].rc) {
            PT_FAIL_("row %zu (%s): got %s", i, t[i].hex, parley_err_name(rc));
        }
    }
}

/* Writes an ACK frame by hand: largest, then count (gap 0, len 0) pairs,
   which is 1 + count ranges of one packet each. */
static size_t
raw_ack(uint8_t *buf, size_t cap, uint64_t largest, uint64_t count)
{
    pl_wr wr;
    pl_wr_init(&wr, buf, cap);
    pl_wr_u8(&wr, PL_FRAME_ACK);
    pl_wr_varint(&wr, largest);
    pl_wr_varint(&wr, 0);
    pl_wr_varint(&wr, count);
    pl_wr_varint(&wr, 0);
    for (uint64_t i = 0; i < count; i++) {
        pl_wr_varint(&wr, 0);
        pl_wr_varint(&wr, 0);
    }
    PT_EQ_INT(wr.err, 0);
    return wr.off;
}

PT_TEST(ack_range_count_limit)
{
    uint8_t buf[256];
    pl_rd rd;
    pl_frame f;
    size_t n = raw_ack(buf, sizeof buf, 1000, PL_ACK_MAX_RANGES - 1);
    pl_rd_init(&rd, buf, n);
    PT_OK(pl_frame_decode(&rd, &f));
    PT_EQ_INT(f.u.ack.n, PL_ACK_MAX_RANGES);
    for (size_t i = 0; i < PL_ACK_MAX_RANGES; i++) {
        PT_EQ_U64(f.u.ack.r[i].hi, 1000 - 2 * i);
        PT_EQ_U64(f.u.ack.r[i].lo, 1000 - 2 * i);
    }
    n = raw_ack(buf, sizeof buf, 1000, PL_ACK_MAX_RANGES);
    pl_rd_init(&rd, buf, n);
    PT_ERR(pl_frame_decode(&rd, &f), PARLEY_EPROTO);
    /* Exactly reaching packet 0 is fine, one more range is not. */
    n = raw_ack(buf, sizeof buf, 2 * 10, 10);
    pl_rd_init(&rd, buf, n);
    PT_OK(pl_frame_decode(&rd, &f));
    PT_EQ_U64(f.u.ack.r[10].lo, 0);
    n = raw_ack(buf, sizeof buf, 2 * 10 - 1, 10);
    pl_rd_init(&rd, buf, n);
    PT_ERR(pl_frame_decode(&rd, &f), PARLEY_EPROTO);
}

PT_TEST(ack_encode_invalid)
{
    uint8_t buf[64];
    size_t n = 99;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    static const pl_ack_range bad[][2] = {
        {{5, 4}, {0, 0}},   /* lo > hi */
        {{5, 9}, {0, 4}},   /* touching: no missing packet between */
        {{5, 9}, {3, 6}},   /* overlapping */
        {{5, 9}, {11, 12}}, /* ascending */
        {{0, 0}, {0, 0}},   /* nothing below 0 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        PT_ERR(pl_frame_encode_ack(&wr, bad[i], 2, 0, &n), PARLEY_EINVAL);
        PT_EQ_INT(pl_frame_ack_size(bad[i], 2, 0), 0);
    }
    pl_ack_range top = {0, PL_VARINT_MAX + 1};
    PT_ERR(pl_frame_encode_ack(&wr, &top, 1, 0, &n), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_ack(&wr, g_ack_ranges, 0, 0, &n), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_ack(&wr, NULL, 1, 0, &n), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_ack(&wr, g_ack_ranges, 3, PL_VARINT_MAX + 1, &n),
           PARLEY_EINVAL);
    PT_EQ_INT(wr.off, 0);
    PT_EQ_INT(n, 99);
    static const pl_ack_range ok[2] = {{5, 9}, {0, 3}};
    PT_OK(pl_frame_encode_ack(&wr, ok, 2, 0, &n));
    PT_EQ_INT(n, 2);
    top.hi = PL_VARINT_MAX;
    PT_OK(pl_frame_encode_ack(&wr, &top, 1, PL_VARINT_MAX, &n));
}

/* n one-packet ranges 3 apart (two missing between), from hi down. */
static void
spaced_ranges(pl_ack_range *r, size_t n, uint64_t hi)
{
    for (size_t i = 0; i < n; i++) {
        r[i].hi = r[i].lo = hi - 3 * i;
    }
}

/* With a writer of every size, the encoder writes the most ranges that
   fit (highest first), and the writer is untouched when none fits. */
PT_TEST(ack_encode_partial_fit)
{
    pl_ack_range r[80];
    spaced_ranges(r, 80, 100000);
    size_t full = pl_frame_ack_size(r, 80, 5000);
    PT_EQ_INT(full, pl_frame_ack_size(r, PL_ACK_MAX_RANGES, 5000));
    uint8_t buf[512];
    for (size_t cap = 0; cap <= full + 1; cap++) {
        pl_wr wr;
        size_t n = 0;
        pl_wr_init(&wr, buf, cap);
        int rc = pl_frame_encode_ack(&wr, r, 80, 5000, &n);
        if (cap < pl_frame_ack_size(r, 1, 5000)) {
            PT_ERR(rc, PARLEY_ENOBUFS);
            PT_EQ_INT(wr.off, 0);
            PT_EQ_INT(wr.err, 0);
            continue;
        }
        PT_OK(rc);
        PT_EQ_INT(wr.off, pl_frame_ack_size(r, n, 5000));
        PT_LE_INT(wr.off, cap);
        if (n < PL_ACK_MAX_RANGES) {
            PT_GT_INT(pl_frame_ack_size(r, n + 1, 5000), cap);
        }
        pl_rd rd;
        pl_frame f;
        pl_rd_init(&rd, buf, wr.off);
        PT_OK(pl_frame_decode(&rd, &f));
        PT_EQ_INT(f.u.ack.n, n);
        PT_EQ_MEM(f.u.ack.r, r, n * sizeof r[0]);
    }
}

static uint64_t g_x;

static uint64_t
rnd(void)
{
    g_x ^= g_x << 13;
    g_x ^= g_x >> 7;
    g_x ^= g_x << 17;
    return g_x;
}

/* A value spread over every varint length below max. */
static uint64_t
rnd_spread(uint64_t max)
{
    uint64_t v = rnd() >> (2 + rnd() % 62);
    return max ? v % (max + 1) : 0;
}

PT_TEST(ack_random_round_trip)
{
    g_x = UINT64_C(0x853c49e6748fea9b);
    pt_seed(g_x);
    for (int iter = 0; iter < 3000; iter++) {
        pl_ack_range r[PL_ACK_MAX_RANGES];
        size_t n = 1 + rnd() % PL_ACK_MAX_RANGES;
        uint64_t hi = rnd_spread(PL_VARINT_MAX);
        size_t k = 0;
        while (k < n) {
            uint64_t len = rnd_spread(hi);
            r[k].hi = hi;
            r[k].lo = hi - len;
            k++;
            uint64_t gap = rnd_spread(PL_VARINT_MAX);
            if (r[k - 1].lo < 2 || r[k - 1].lo - 2 < gap) {
                break;
            }
            hi = r[k - 1].lo - 2 - gap;
        }
        uint64_t delay = rnd_spread(PL_VARINT_MAX);
        uint8_t buf[1024];
        pl_wr wr;
        size_t got;
        pl_wr_init(&wr, buf, sizeof buf);
        PT_OK(pl_frame_encode_ack(&wr, r, k, delay, &got));
        PT_EQ_INT(got, k);
        pl_rd rd;
        pl_frame f;
        pl_rd_init(&rd, buf, wr.off);
        PT_OK(pl_frame_decode(&rd, &f));
        PT_EQ_INT(pl_rd_left(&rd), 0);
        PT_EQ_U64(f.u.ack.delay_us, delay);
        PT_EQ_INT(f.u.ack.n, k);
        PT_EQ_MEM(f.u.ack.r, r, k * sizeof r[0]);
    }
}

PT_TEST(fragment_bounds)
{
    static const struct {
        const char *hex;
        int rc;
    } t[] = {
        {"11 00 00 05 03 02 6162", PARLEY_OK},     /* 3+2 == 5 */
        {"11 00 00 05 04 02 6162", PARLEY_EPROTO}, /* 4+2 > 5 */
        {"11 00 00 05 06 01 61", PARLEY_EPROTO},   /* offset > total */
        {"11 00 00 05 00 00", PARLEY_EPROTO},      /* len 0 */
        {"11 00 00 00 00 01 61", PARLEY_EPROTO},   /* total 0 */
        {"11 00 00 05 00 03 6162", PARLEY_EPROTO}, /* data cut short */
        {"11 00 00 ffffffffffffffff fffffffffffffffe 01 61", PARLEY_OK},
        {"11 00 00 ffffffffffffffff ffffffffffffffff 01 61", PARLEY_EPROTO},
        {"10 00 00 03 6162", PARLEY_EPROTO}, /* whole message cut short */
        {"10 00 00 c000000000000001 61", PARLEY_OK}, /* non-minimal len */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        pl_frame f;
        uint8_t *keep;
        int rc = decode_hex(t[i].hex, &f, &keep);
        free(keep);
        if (rc != t[i].rc) {
            PT_FAIL_("row %zu (%s): got %s", i, t[i].hex, parley_err_name(rc));
        }
    }
}

PT_TEST(message_encode_invalid)
{
    uint8_t buf[64];
    const uint8_t *d = (const uint8_t *)"abcdef";
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_ERR(pl_frame_encode_msg(&wr, 4, 0, 0, d, 1), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_msg(&wr, 0, 0, PL_VARINT_MAX + 1, d, 1),
           PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_msg(&wr, 0, 0, 0, NULL, 1), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_frag(&wr, 4, 0, 0, 5, 0, d, 1), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_frag(&wr, 0, 0, 0, 5, 4, d, 2), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_frag(&wr, 0, 0, 0, 5, 6, d, 1), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_frag(&wr, 0, 0, 0, 5, 0, d, 0), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_frag(&wr, 0, 0, 0, 0, 0, d, 0), PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_frag(&wr, 0, 0, 0, PL_VARINT_MAX + 1, 0, d, 1),
           PARLEY_EINVAL);
    PT_ERR(pl_frame_encode_frag(&wr, 0, 0, PL_VARINT_MAX + 1, 5, 0, d, 1),
           PARLEY_EINVAL);
    PT_EQ_INT(wr.off, 0);
    PT_OK(pl_frame_encode_frag(&wr, 0, 0, 0, 5, 3, d, 2));
    PT_OK(pl_frame_encode_frag(&wr, 0, 0, 0, PL_VARINT_MAX, PL_VARINT_MAX - 1,
                               d, 1));
}

PT_TEST(message_random_round_trip)
{
    static uint8_t data[20000];
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)(i * 7 + 3);
    }
    static uint8_t buf[sizeof data + 64];
    g_x = UINT64_C(0xdeadbeefcafe1234);
    pt_seed(g_x);
    for (int iter = 0; iter < 5000; iter++) {
        uint8_t mode = (uint8_t)(rnd() % 4), ch = (uint8_t)rnd();
        uint8_t frag = (uint8_t)(rnd() & 1);
        uint64_t seq = rnd_spread(PL_VARINT_MAX);
        size_t len =
            (size_t)(rnd() % 4 == 0 ? rnd() % sizeof data : rnd() % 100);
        uint64_t total = len, off = 0;
        if (frag) {
            len += len == 0;
            off = rnd_spread(PL_VARINT_MAX - len);
            total = off + len + rnd_spread(PL_VARINT_MAX - off - len);
        }
        pl_wr wr;
        pl_wr_init(&wr, buf, sizeof buf);
        if (frag) {
            PT_OK(pl_frame_encode_frag(&wr, mode, ch, seq, total, off, data,
                                       len));
            PT_EQ_INT(wr.off,
                      pl_frame_frag_header_size(seq, total, off, len) + len);
        } else {
            PT_OK(pl_frame_encode_msg(&wr, mode, ch, seq, data, len));
            PT_EQ_INT(wr.off, pl_frame_msg_size(seq, len));
        }
        pl_rd rd;
        pl_frame f;
        pl_rd_init(&rd, buf, wr.off);
        PT_OK(pl_frame_decode(&rd, &f));
        PT_EQ_INT(pl_rd_left(&rd), 0);
        PT_EQ_INT(f.u.msg.mode, mode);
        PT_EQ_INT(f.u.msg.frag, frag);
        PT_EQ_INT(f.u.msg.channel, ch);
        PT_EQ_U64(f.u.msg.seq, seq);
        PT_EQ_U64(f.u.msg.total_len, total);
        PT_EQ_U64(f.u.msg.offset, off);
        PT_EQ_INT(f.u.msg.len, len);
        PT_EQ_MEM(f.u.msg.data, data, len);
    }
}

/* pl_frame_frag_fit gives the largest piece that fits, for every space
   up to 300 bytes and lengths around the varint boundaries. */
PT_TEST(fragment_fit_is_maximal)
{
    static const uint64_t totals[] = {1, 50, 63, 64, 70, 16383, 16384, 100000};
    static const uint64_t seqs[] = {0, 63, 64, 16384};
    uint8_t data[400] = {0}, buf[400];
    for (size_t ti = 0; ti < sizeof totals / sizeof totals[0]; ti++) {
        for (size_t si = 0; si < 4; si++) {
            uint64_t total = totals[ti], seq = seqs[si];
            for (uint64_t off = 0; off < total; off += 1 + total / 3) {
                for (size_t space = 0; space < 300; space++) {
                    size_t fit = pl_frame_frag_fit(seq, total, off, space);
                    uint64_t left = total - off;
                    PT_LE_U64(fit, left);
                    pl_wr wr;
                    pl_wr_init(&wr, buf, space);
                    if (fit > 0) {
                        PT_OK(pl_frame_encode_frag(&wr, 0, 0, seq, total, off,
                                                   data, fit));
                    }
                    if (fit < left) { /* one more byte must not fit */
                        pl_wr_init(&wr, buf, space);
                        PT_ERR(pl_frame_encode_frag(&wr, 0, 0, seq, total, off,
                                                    data, fit + 1),
                               PARLEY_ENOBUFS);
                    }
                }
            }
        }
    }
    PT_EQ_INT(pl_frame_frag_fit(0, 10, 10, 100), 0); /* nothing left */
    PT_EQ_INT(pl_frame_frag_fit(0, 10, 11, 100), 0);
}

PT_TEST(size_helpers_out_of_range)
{
    PT_EQ_INT(pl_frame_msg_size(PL_VARINT_MAX + 1, 1), 0);
    PT_EQ_INT(pl_frame_frag_header_size(0, PL_VARINT_MAX + 1, 0, 1), 0);
    PT_EQ_INT(pl_frame_msg_size(PL_VARINT_MAX, 64), 2 + 8 + 2 + 64);
    PT_EQ_INT(pl_frame_frag_header_size(0, 16384, 64, 63), 2 + 1 + 4 + 2 + 1);
}

/* Every encoder, one byte short: ENOBUFS and the writer unchanged; with
   the error flag already set: that error, nothing written. */
PT_TEST(encoders_change_nothing_on_failure)
{
    uint8_t buf[64];
    const uint8_t *d = (const uint8_t *)"abcd";
    for (int which = 0; which < 7; which++) {
        for (int sticky = 0; sticky < 2; sticky++) {
            const size_t need[] = {1, 3, 5, 7, 6, 12, 4};
            pl_wr wr;
            size_t n = 0;
            pl_wr_init(&wr, buf, 2 + need[which] - 1);
            wr.off = 2; /* something is already there */
            if (sticky) {
                wr.cap = sizeof buf;
                wr.err = PARLEY_ERANGE;
            }
            int rc = PARLEY_OK;
            switch (which) {
            case 0:
                rc = pl_frame_encode_ping(&wr);
                break;
            case 1:
                rc = pl_frame_encode_padding(&wr, 3);
                break;
            case 2:
                rc = pl_frame_encode_window(&wr, 1048576);
                break;
            case 3:
                rc = pl_frame_encode_ack(&wr, g_ack_ranges, 1, 250, &n);
                break;
            case 4:
                rc = pl_frame_encode_msg(&wr, 0, 0, 0, d, 2);
                break;
            case 5:
                rc = pl_frame_encode_frag(&wr, 1, 2, 5, 3000, 1200, d, 4);
                break;
            default:
                rc = pl_frame_encode_disconnect(&wr, 3, 1000);
                break;
            }
            PT_ERR(rc, sticky ? PARLEY_ERANGE : PARLEY_ENOBUFS);
            PT_EQ_INT(wr.off, 2);
            PT_EQ_INT(wr.err, sticky ? PARLEY_ERANGE : 0);
            PT_EQ_INT(n, 0);
        }
    }
}

/* pl_frame_encode writes a decoded frame whole or not at all. */
PT_TEST(generic_encode_whole_or_nothing)
{
    uint8_t buf[64];
    pl_wr wr;
    pl_frame f;
    memset(&f, 0, sizeof f);
    pl_wr_init(&wr, buf, sizeof buf);
    f.type = 0x05;
    PT_ERR(pl_frame_encode(&wr, &f), PARLEY_EINVAL);
    f.type = PL_FRAME_PADDING;
    PT_ERR(pl_frame_encode(&wr, &f), PARLEY_EINVAL); /* len 0 */
    f.type = PL_FRAME_ACK;
    f.u.ack.n = PL_ACK_MAX_RANGES + 1;
    PT_ERR(pl_frame_encode(&wr, &f), PARLEY_EINVAL);
    f.u.ack.n = 3;
    f.u.ack.largest = 100;
    f.u.ack.delay_us = 250;
    memcpy(f.u.ack.r, g_ack_ranges, sizeof g_ack_ranges);
    pl_wr_init(&wr, buf, 10); /* two ranges fit, not three */
    PT_ERR(pl_frame_encode(&wr, &f), PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, 0);
    PT_EQ_INT(wr.err, 0);
    pl_wr_init(&wr, buf, 11);
    PT_OK(pl_frame_encode(&wr, &f));
    expect_bytes(buf, wr.off, HEX_ACK);
}

// clang-format off
PT_MAIN(
    PT_RUN(padding_and_ping_golden)
    PT_RUN(ack_golden)
    PT_RUN(disconnect_and_window_golden)
    PT_RUN(message_golden)
    PT_RUN(fragment_golden)
    PT_RUN(golden_reencode_identical)
    PT_RUN(data_packet_golden)
    PT_RUN(every_truncation_fails)
    PT_RUN(unknown_types_rejected)
    PT_RUN(padding_must_be_zero)
    PT_RUN(disconnect_reason_zero_rejected)
    PT_RUN(ack_malformed)
    PT_RUN(ack_range_count_limit)
    PT_RUN(ack_encode_invalid)
    PT_RUN(ack_encode_partial_fit)
    PT_RUN(ack_random_round_trip)
    PT_RUN(fragment_bounds)
    PT_RUN(message_encode_invalid)
    PT_RUN(message_random_round_trip)
    PT_RUN(fragment_fit_is_maximal)
    PT_RUN(size_helpers_out_of_range)
    PT_RUN(encoders_change_nothing_on_failure)
    PT_RUN(generic_encode_whole_or_nothing))
// clang-format on
