/* Tests for the bounds-checked cursors: fixed-width integers, varints
   (golden bytes, boundaries, truncation) and the sticky error flag. */
#include "pt.h"

#include "parley/parley.h"
#include "wire/cursor.h"
#include "golden.h"
#include "wire_util.h"

/* Varint golden vectors: RFC 9000's examples and every length boundary. */
static const struct {
    uint64_t v;
    const char *hex;
} g_varints[] = {
#define ROW(v, hex) {v, hex},
    GOLDEN_VARINTS(ROW)
#undef ROW
};
#define N_VARINTS (sizeof g_varints / sizeof g_varints[0])

PT_TEST(fixed_width_golden)
{
    uint8_t buf[15];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    pl_wr_u8(&wr, 0xa1);
    pl_wr_u16(&wr, 0xb2c3);
    pl_wr_u32(&wr, 0xd4e5f607);
    pl_wr_u64(&wr, UINT64_C(0x0123456789abcdef));
    PT_EQ_INT(wr.err, 0);
    PT_EQ_INT(wr.off, 15);
    uint8_t want[15];
    PT_EQ_INT(hex_to_bytes("a1 b2c3 d4e5f607 0123456789abcdef", want, 15), 15);
    PT_EQ_MEM(buf, want, 15);

    pl_rd rd;
    pl_rd_init(&rd, want, sizeof want);
    PT_EQ_INT(pl_rd_u8(&rd), 0xa1);
    PT_EQ_INT(pl_rd_u16(&rd), 0xb2c3);
    PT_EQ_U64(pl_rd_u32(&rd), 0xd4e5f607u);
    PT_EQ_U64(pl_rd_u64(&rd), UINT64_C(0x0123456789abcdef));
    PT_EQ_INT(rd.err, 0);
    PT_EQ_INT(pl_rd_left(&rd), 0);
}

PT_TEST(varint_golden_encode_decode)
{
    for (size_t i = 0; i < N_VARINTS; i++) {
        uint8_t want[8], buf[8];
        size_t n = hex_to_bytes(g_varints[i].hex, want, sizeof want);
        PT_EQ_INT(pl_varint_len(g_varints[i].v), n);
        pl_wr wr;
        pl_wr_init(&wr, buf, sizeof buf);
        pl_wr_varint(&wr, g_varints[i].v);
        PT_EQ_INT(wr.err, 0);
        PT_EQ_INT(wr.off, n);
        PT_EQ_MEM(buf, want, n);

        uint8_t *exact = exact_copy(want, n);
        pl_rd rd;
        pl_rd_init(&rd, exact, n);
        PT_EQ_U64(pl_rd_varint(&rd), g_varints[i].v);
        PT_EQ_INT(rd.err, 0);
        PT_EQ_INT(rd.off, n);
        free(exact);
    }
}

PT_TEST(varint_2_62_rejected_by_encoder)
{
    uint8_t buf[16];
    const uint64_t bad[] = {UINT64_C(1) << 62, UINT64_C(1) << 63, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        PT_EQ_INT(pl_varint_len(bad[i]), 0);
        pl_wr wr;
        pl_wr_init(&wr, buf, sizeof buf);
        pl_wr_u8(&wr, 7);
        pl_wr_varint(&wr, bad[i]);
        PT_ERR(wr.err, PARLEY_ERANGE);
        PT_EQ_INT(wr.off, 1);
        pl_wr_u8(&wr, 8); /* sticky: nothing more is written */
        PT_EQ_INT(wr.off, 1);
        PT_EQ_INT(pl_wr_left(&wr), 0);
    }
}

PT_TEST(varint_non_minimal_accepted)
{
    const char *forms[] = {"25", "4025", "80000025", "c000000000000025"};
    for (size_t i = 0; i < 4; i++) {
        uint8_t b[8];
        size_t n = hex_to_bytes(forms[i], b, sizeof b);
        pl_rd rd;
        pl_rd_init(&rd, b, n);
        PT_EQ_U64(pl_rd_varint(&rd), 37);
        PT_EQ_INT(rd.off, n);
        PT_EQ_INT(rd.err, 0);
    }
}

/* Every proper prefix of every golden varint is an error, read from an
   exact-size heap buffer so ASan sees any over-read. */
PT_TEST(varint_every_truncation_fails)
{
    for (size_t i = 0; i < N_VARINTS; i++) {
        uint8_t b[8];
        size_t n = hex_to_bytes(g_varints[i].hex, b, sizeof b);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *exact = exact_copy(b, cut);
            pl_rd rd;
            pl_rd_init(&rd, exact, cut);
            PT_EQ_U64(pl_rd_varint(&rd), 0);
            PT_ERR(rd.err, PARLEY_ETRUNC);
            PT_EQ_INT(rd.off, 0);
            free(exact);
        }
    }
}

PT_TEST(varint_random_round_trip)
{
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    pt_seed(x);
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = x >> (2 + x % 62); /* spread over all lengths */
        uint8_t buf[8];
        pl_wr wr;
        pl_wr_init(&wr, buf, sizeof buf);
        pl_wr_varint(&wr, v);
        PT_EQ_INT(wr.err, 0);
        PT_EQ_INT(wr.off, pl_varint_len(v));
        pl_rd rd;
        pl_rd_init(&rd, buf, wr.off);
        PT_EQ_U64(pl_rd_varint(&rd), v);
        PT_EQ_INT(pl_rd_left(&rd), 0);
    }
}

PT_TEST(reader_error_is_sticky)
{
    const uint8_t b[3] = {1, 2, 3};
    pl_rd rd;
    pl_rd_init(&rd, b, sizeof b);
    PT_EQ_INT(pl_rd_u16(&rd), 0x0102);
    PT_EQ_U64(pl_rd_u32(&rd), 0); /* only one byte left */
    PT_ERR(rd.err, PARLEY_ETRUNC);
    PT_EQ_INT(rd.off, 2);
    PT_EQ_INT(pl_rd_u8(&rd), 0); /* would fit, but the error sticks */
    PT_EQ_INT(rd.off, 2);
    PT_EQ_INT(pl_rd_left(&rd), 0);
    PT_TRUE(pl_rd_bytes(&rd, 0) == NULL);
}

PT_TEST(reader_bytes)
{
    const uint8_t b[4] = {9, 8, 7, 6};
    pl_rd rd;
    pl_rd_init(&rd, b, sizeof b);
    PT_TRUE(pl_rd_bytes(&rd, 1) == b);
    PT_TRUE(pl_rd_bytes(&rd, 0) == b + 1);
    PT_TRUE(pl_rd_bytes(&rd, 3) == b + 1);
    PT_EQ_INT(pl_rd_left(&rd), 0);
    PT_TRUE(pl_rd_bytes(&rd, 1) == NULL);
    PT_ERR(rd.err, PARLEY_ETRUNC);

    pl_rd_init(&rd, b, sizeof b);
    PT_TRUE(pl_rd_bytes(&rd, SIZE_MAX) == NULL); /* no wrap-around */
    PT_ERR(rd.err, PARLEY_ETRUNC);

    pl_rd_init(&rd, NULL, 5); /* NULL buffer reads as empty */
    PT_EQ_INT(pl_rd_left(&rd), 0);
    PT_EQ_INT(pl_rd_u8(&rd), 0);
    PT_ERR(rd.err, PARLEY_ETRUNC);
}

PT_TEST(writer_never_overflows)
{
    uint8_t buf[8];
    memset(buf, 0xee, sizeof buf);
    pl_wr wr;
    pl_wr_init(&wr, buf, 3);
    pl_wr_u16(&wr, 0x1234);
    pl_wr_u32(&wr, 0x55667788); /* needs 4, 1 left */
    PT_ERR(wr.err, PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, 2);
    pl_wr_u8(&wr, 1);
    pl_wr_bytes(&wr, "x", 1);
    pl_wr_zeros(&wr, 1);
    pl_wr_varint(&wr, 1);
    PT_EQ_INT(wr.off, 2);
    PT_EQ_INT(buf[2], 0xee); /* nothing written past the failure */
    PT_EQ_INT(buf[3], 0xee);

    pl_wr_init(&wr, buf, 2);
    pl_wr_varint(&wr, 16384); /* 4 bytes */
    PT_ERR(wr.err, PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, 0);
}

PT_TEST(writer_bytes_zeros_and_finish)
{
    uint8_t buf[8];
    memset(buf, 0xee, sizeof buf);
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    pl_wr_bytes(&wr, "ab", 2);
    pl_wr_bytes(&wr, NULL, 0);
    pl_wr_zeros(&wr, 3);
    PT_EQ_INT(pl_wr_left(&wr), 3);
    PT_EQ_MEM(buf, "ab\0\0\0", 5);
    PT_EQ_INT(pl_wr_finish(&wr, 0), PARLEY_OK);
    PT_EQ_INT(wr.off, 5);

    size_t start = wr.off;
    pl_wr_u8(&wr, 1);
    pl_wr_u32(&wr, 2); /* fails: 2 bytes left */
    PT_ERR(pl_wr_finish(&wr, start), PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, start); /* rewound, usable again */
    PT_EQ_INT(wr.err, 0);
    pl_wr_u16(&wr, 0x0102);
    PT_EQ_INT(wr.err, 0);
    PT_EQ_INT(wr.off, 7);
}

// clang-format off
PT_MAIN(
    PT_RUN(fixed_width_golden)
    PT_RUN(varint_golden_encode_decode)
    PT_RUN(varint_2_62_rejected_by_encoder)
    PT_RUN(varint_non_minimal_accepted)
    PT_RUN(varint_every_truncation_fails)
    PT_RUN(varint_random_round_trip)
    PT_RUN(reader_error_is_sticky)
    PT_RUN(reader_bytes)
    PT_RUN(writer_never_overflows)
    PT_RUN(writer_bytes_zeros_and_finish))
// clang-format on
