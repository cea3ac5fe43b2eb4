/*
 * Panda3D datagram fields (parley/datagram.h): golden bytes for every
 * encoding as Panda3D's Datagram writes it (little-endian by default,
 * add_be_* big-endian, uint16/uint32 length prefixes, NUL-terminated and
 * zero-padded strings), the iterator reading them back, and every error:
 * reads past the end, full buffers, limits, allocation failure.
 */
#include "pt.h"

#include <math.h>

#include "parley/datagram.h"
#include "parley/error.h"
#include "util/alloc.h"

/* Builds one field into a fresh datagram and compares its bytes. */
#define GOLDEN(call, bytes)                                                    \
    do {                                                                       \
        parley_dg dg_;                                                         \
        PT_OK(parley_dg_init(&dg_, 0));                                        \
        parley_dg *dg = &dg_;                                                  \
        PT_OK(call);                                                           \
        PT_EQ_INT(parley_dg_len(dg), sizeof(bytes) - 1);                       \
        PT_EQ_MEM(parley_dg_data(dg), bytes, sizeof(bytes) - 1);               \
        parley_dg_free(dg);                                                    \
    } while (0)

PT_TEST(integers_little_endian)
{
    GOLDEN(parley_dg_add_bool(dg, 1), "\x01");
    GOLDEN(parley_dg_add_bool(dg, 0), "\x00");
    GOLDEN(parley_dg_add_bool(dg, 7), "\x01");
    GOLDEN(parley_dg_add_int8(dg, -2), "\xfe");
    GOLDEN(parley_dg_add_uint8(dg, 0xab), "\xab");
    GOLDEN(parley_dg_add_int16(dg, -2), "\xfe\xff");
    GOLDEN(parley_dg_add_uint16(dg, 0x1234), "\x34\x12");
    GOLDEN(parley_dg_add_int32(dg, -2), "\xfe\xff\xff\xff");
    GOLDEN(parley_dg_add_uint32(dg, 0x12345678), "\x78\x56\x34\x12");
    GOLDEN(parley_dg_add_int64(dg, -2), "\xfe\xff\xff\xff\xff\xff\xff\xff");
    GOLDEN(parley_dg_add_uint64(dg, UINT64_C(0x0102030405060708)),
           "\x08\x07\x06\x05\x04\x03\x02\x01");
    GOLDEN(parley_dg_add_int64(dg, INT64_MIN),
           "\x00\x00\x00\x00\x00\x00\x00\x80");
}

PT_TEST(integers_big_endian)
{
    GOLDEN(parley_dg_add_be_int16(dg, -2), "\xff\xfe");
    GOLDEN(parley_dg_add_be_uint16(dg, 0x1234), "\x12\x34");
    GOLDEN(parley_dg_add_be_int32(dg, -2), "\xff\xff\xff\xfe");
    GOLDEN(parley_dg_add_be_uint32(dg, 0x12345678), "\x12\x34\x56\x78");
    GOLDEN(parley_dg_add_be_int64(dg, -2), "\xff\xff\xff\xff\xff\xff\xff\xfe");
    GOLDEN(parley_dg_add_be_uint64(dg, UINT64_C(0x0102030405060708)),
           "\x01\x02\x03\x04\x05\x06\x07\x08");
}

PT_TEST(floats_ieee754)
{
    GOLDEN(parley_dg_add_float32(dg, 1.0f), "\x00\x00\x80\x3f");
    GOLDEN(parley_dg_add_float32(dg, -2.5f), "\x00\x00\x20\xc0");
    GOLDEN(parley_dg_add_float64(dg, 1.0), "\x00\x00\x00\x00\x00\x00\xf0\x3f");
    GOLDEN(parley_dg_add_float64(dg, -0.1), "\x9a\x99\x99\x99\x99\x99\xb9\xbf");
    GOLDEN(parley_dg_add_be_float32(dg, 1.0f), "\x3f\x80\x00\x00");
    GOLDEN(parley_dg_add_be_float64(dg, 1.0),
           "\x3f\xf0\x00\x00\x00\x00\x00\x00");
}

PT_TEST(strings_and_blobs)
{
    GOLDEN(parley_dg_add_string(dg, "hi", 2), "\x02\x00hi");
    GOLDEN(parley_dg_add_string(dg, NULL, 0), "\x00\x00");
    GOLDEN(parley_dg_add_string32(dg, "hi", 2), "\x02\x00\x00\x00hi");
    GOLDEN(parley_dg_add_z_string(dg, "hi", 2), "hi\x00");
    /* Panda3D's add_z_string stops at an inner NUL. */
    GOLDEN(parley_dg_add_z_string(dg, "a\0b", 3), "a\x00");
    GOLDEN(parley_dg_add_z_string(dg, "", 0), "\x00");
    GOLDEN(parley_dg_add_fixed_string(dg, "hi", 2, 4), "hi\x00\x00");
    GOLDEN(parley_dg_add_fixed_string(dg, "hello", 5, 3), "hel");
    GOLDEN(parley_dg_add_blob(dg, "\x01\x02", 2), "\x02\x00\x01\x02");
    GOLDEN(parley_dg_add_blob32(dg, "\x01\x02", 2), "\x02\x00\x00\x00\x01\x02");
    GOLDEN(parley_dg_append(dg, "xyz", 3), "xyz");
    GOLDEN(parley_dg_pad(dg, 3), "\x00\x00\x00");
}

/* A typical Panda3D message: a uint8 code first, then the fields. */
PT_TEST(panda_message_layout)
{
    parley_dg dg;
    PT_OK(parley_dg_init(&dg, 0));
    parley_dg_add_uint8(&dg, 1);
    parley_dg_add_string(&dg, "Hello World!", 12);
    parley_dg_add_int32(&dg, -1);
    parley_dg_add_float64(&dg, 2.0);
    PT_OK(parley_dg_error(&dg));
    static const uint8_t want[] = "\x01"
                                  "\x0c\x00Hello World!"
                                  "\xff\xff\xff\xff"
                                  "\x00\x00\x00\x00\x00\x00\x00\x40";
    PT_EQ_INT(parley_dg_len(&dg), sizeof want - 1);
    PT_EQ_MEM(parley_dg_data(&dg), want, sizeof want - 1);

    parley_dg_iter it;
    size_t n = 0;
    PT_OK(parley_dg_iter_init(&it, parley_dg_data(&dg), parley_dg_len(&dg)));
    PT_EQ_INT(parley_dg_get_uint8(&it), 1);
    const uint8_t *s = parley_dg_get_string(&it, &n);
    PT_EQ_INT(n, 12);
    PT_EQ_MEM(s, "Hello World!", 12);
    PT_EQ_INT(parley_dg_get_int32(&it), -1);
    PT_EQ_DBL(parley_dg_get_float64(&it), 2.0);
    PT_OK(parley_dg_iter_error(&it));
    PT_EQ_INT(parley_dg_iter_remaining(&it), 0);
    parley_dg_free(&dg);
}

PT_TEST(round_trip_every_getter)
{
    parley_dg dg;
    PT_OK(parley_dg_init(&dg, 0));
    parley_dg_add_bool(&dg, 1);
    parley_dg_add_int8(&dg, INT8_MIN);
    parley_dg_add_uint8(&dg, UINT8_MAX);
    parley_dg_add_int16(&dg, INT16_MIN);
    parley_dg_add_uint16(&dg, UINT16_MAX);
    parley_dg_add_int32(&dg, INT32_MIN);
    parley_dg_add_uint32(&dg, UINT32_MAX);
    parley_dg_add_int64(&dg, INT64_MIN);
    parley_dg_add_uint64(&dg, UINT64_MAX);
    parley_dg_add_float32(&dg, 3.25f);
    parley_dg_add_float64(&dg, -1e300);
    parley_dg_add_be_int16(&dg, -300);
    parley_dg_add_be_uint16(&dg, 0xbeef);
    parley_dg_add_be_int32(&dg, -70000);
    parley_dg_add_be_uint32(&dg, 0xdeadbeef);
    parley_dg_add_be_int64(&dg, INT64_MAX);
    parley_dg_add_be_uint64(&dg, UINT64_C(0x8000000000000001));
    parley_dg_add_be_float32(&dg, -0.5f);
    parley_dg_add_be_float64(&dg, INFINITY);
    parley_dg_add_string32(&dg, "long", 4);
    parley_dg_add_z_string(&dg, "zed", 3);
    parley_dg_add_fixed_string(&dg, "ab", 2, 5);
    parley_dg_add_blob(&dg, "\x00\x01", 2);
    parley_dg_add_blob32(&dg, "", 0);
    PT_OK(parley_dg_error(&dg));

    parley_dg_iter it;
    size_t n = 99;
    PT_OK(parley_dg_iter_init(&it, parley_dg_data(&dg), parley_dg_len(&dg)));
    PT_EQ_INT(parley_dg_get_bool(&it), 1);
    PT_EQ_INT(parley_dg_get_int8(&it), INT8_MIN);
    PT_EQ_INT(parley_dg_get_uint8(&it), UINT8_MAX);
    PT_EQ_INT(parley_dg_get_int16(&it), INT16_MIN);
    PT_EQ_INT(parley_dg_get_uint16(&it), UINT16_MAX);
    PT_EQ_INT(parley_dg_get_int32(&it), INT32_MIN);
    PT_EQ_U64(parley_dg_get_uint32(&it), UINT32_MAX);
    PT_EQ_INT(parley_dg_get_int64(&it), INT64_MIN);
    PT_EQ_U64(parley_dg_get_uint64(&it), UINT64_MAX);
    PT_EQ_DBL(parley_dg_get_float32(&it), 3.25);
    PT_EQ_DBL(parley_dg_get_float64(&it), -1e300);
    PT_EQ_INT(parley_dg_get_be_int16(&it), -300);
    PT_EQ_INT(parley_dg_get_be_uint16(&it), 0xbeef);
    PT_EQ_INT(parley_dg_get_be_int32(&it), -70000);
    PT_EQ_U64(parley_dg_get_be_uint32(&it), 0xdeadbeef);
    PT_EQ_INT(parley_dg_get_be_int64(&it), INT64_MAX);
    PT_EQ_U64(parley_dg_get_be_uint64(&it), UINT64_C(0x8000000000000001));
    PT_EQ_DBL(parley_dg_get_be_float32(&it), -0.5);
    PT_TRUE(isinf(parley_dg_get_be_float64(&it)));
    PT_EQ_MEM(parley_dg_get_string32(&it, &n), "long", 4);
    PT_EQ_INT(n, 4);
    PT_EQ_MEM(parley_dg_get_z_string(&it, &n), "zed", 3);
    PT_EQ_INT(n, 3);
    PT_EQ_MEM(parley_dg_get_fixed_string(&it, 5, &n), "ab", 2);
    PT_EQ_INT(n, 2); /* stops at the padding's first NUL */
    PT_EQ_MEM(parley_dg_get_blob(&it, &n), "\x00\x01", 2);
    PT_EQ_INT(n, 2);
    PT_TRUE(parley_dg_get_blob32(&it, &n) != NULL);
    PT_EQ_INT(n, 0);
    PT_OK(parley_dg_iter_error(&it));
    PT_EQ_INT(parley_dg_iter_remaining(&it), 0);
    PT_EQ_INT(parley_dg_iter_pos(&it), parley_dg_len(&dg));
    parley_dg_free(&dg);
}

PT_TEST(reading_past_the_end_is_visible)
{
    /* Exactly three bytes on the heap: ASan catches any over-read. */
    uint8_t *b = malloc(3);
    memcpy(b, "\x01\x02\x03", 3);
    parley_dg_iter it;
    PT_OK(parley_dg_iter_init(&it, b, 3));
    PT_EQ_INT(parley_dg_get_uint16(&it), 0x0201);
    PT_EQ_INT(parley_dg_get_uint32(&it), 0); /* 1 byte left */
    PT_ERR(parley_dg_iter_error(&it), PARLEY_ETRUNC);
    PT_EQ_INT(parley_dg_iter_pos(&it), 2); /* where the failed read began */
    PT_EQ_INT(parley_dg_iter_remaining(&it), 0);
    /* Sticky: even a read that would fit now fails. */
    PT_EQ_INT(parley_dg_get_uint8(&it), 0);
    PT_ERR(parley_dg_iter_error(&it), PARLEY_ETRUNC);
    free(b);
}

PT_TEST(short_string_rewinds_to_its_length)
{
    uint8_t *b = malloc(5);
    memcpy(b,
           "\x0a\x00"
           "abc",
           5); /* says 10, has 3 */
    parley_dg_iter it;
    size_t n = 77;
    PT_OK(parley_dg_iter_init(&it, b, 5));
    PT_TRUE(parley_dg_get_string(&it, &n) == NULL);
    PT_EQ_INT(n, 0);
    PT_ERR(parley_dg_iter_error(&it), PARLEY_ETRUNC);
    PT_EQ_INT(parley_dg_iter_pos(&it), 0);
    free(b);

    b = malloc(6);
    memcpy(b,
           "\xff\xff\xff\xff"
           "ab",
           6); /* string32 of 4 GiB */
    PT_OK(parley_dg_iter_init(&it, b, 6));
    PT_TRUE(parley_dg_get_string32(&it, &n) == NULL);
    PT_ERR(parley_dg_iter_error(&it), PARLEY_ETRUNC);
    free(b);
}

PT_TEST(z_string_without_nul)
{
    uint8_t *b = malloc(3);
    memcpy(b, "abc", 3);
    parley_dg_iter it;
    size_t n;
    PT_OK(parley_dg_iter_init(&it, b, 3));
    PT_TRUE(parley_dg_get_z_string(&it, &n) == NULL);
    PT_ERR(parley_dg_iter_error(&it), PARLEY_EPROTO);
    PT_OK(parley_dg_iter_init(&it, b, 0));
    PT_TRUE(parley_dg_get_z_string(&it, &n) == NULL);
    PT_ERR(parley_dg_iter_error(&it), PARLEY_ETRUNC);
    free(b);
}

PT_TEST(fixed_buffer_is_all_or_nothing)
{
    uint8_t buf[5];
    parley_dg dg;
    PT_OK(parley_dg_init_buffer(&dg, buf, sizeof buf));
    PT_OK(parley_dg_add_uint32(&dg, 1));
    PT_ERR(parley_dg_add_uint16(&dg, 2), PARLEY_ENOBUFS);
    PT_EQ_INT(parley_dg_len(&dg), 4); /* nothing of the failed field */
    PT_OK(parley_dg_add_uint8(&dg, 9));
    PT_EQ_INT(parley_dg_len(&dg), 5);
    PT_ERR(parley_dg_error(&dg), PARLEY_ENOBUFS); /* the first error */
    PT_EQ_MEM(buf, "\x01\x00\x00\x00\x09", 5);
    parley_dg_clear(&dg);
    PT_OK(parley_dg_error(&dg));
    PT_EQ_INT(parley_dg_len(&dg), 0);
    parley_dg_free(&dg);
}

PT_TEST(limits)
{
    parley_dg dg;
    static char big[70000];
    PT_OK(parley_dg_init(&dg, 10));
    PT_OK(parley_dg_add_uint64(&dg, 1));
    PT_ERR(parley_dg_add_uint32(&dg, 1), PARLEY_EMSGSIZE);
    PT_ERR(parley_dg_add_fixed_string(&dg, "x", 1, 3), PARLEY_EMSGSIZE);
    PT_OK(parley_dg_add_int16(&dg, 1));
    parley_dg_free(&dg);

    PT_OK(parley_dg_init(&dg, 0));
    PT_OK(parley_dg_add_string(&dg, big, 65535));
    PT_ERR(parley_dg_add_string(&dg, big, 65536), PARLEY_EMSGSIZE);
    PT_ERR(parley_dg_add_blob(&dg, big, 65536), PARLEY_EMSGSIZE);
    PT_EQ_INT(parley_dg_len(&dg), 65537);
    PT_OK(parley_dg_add_string32(&dg, big, sizeof big));
    PT_EQ_INT(parley_dg_len(&dg), 65537 + 4 + sizeof big);
    PT_ERR(parley_dg_add_string(&dg, NULL, 3), PARLEY_EINVAL);
    PT_ERR(parley_dg_add_bool(NULL, 1), PARLEY_EINVAL);
    parley_dg_free(&dg);
}

PT_TEST(allocation_failure_changes_nothing)
{
    parley_dg dg;
    PT_OK(parley_dg_init(&dg, 0));
    int64_t live = pl_alloc_live();
    pl_alloc_fail_nth(1);
    PT_ERR(parley_dg_add_uint32(&dg, 5), PARLEY_ENOMEM);
    pl_alloc_fail_nth(0);
    PT_EQ_INT(parley_dg_len(&dg), 0);
    PT_EQ_INT(pl_alloc_live(), live);
    PT_OK(parley_dg_add_uint32(&dg, 5));
    PT_EQ_INT(parley_dg_len(&dg), 4);
    parley_dg_free(&dg);
    PT_EQ_INT(pl_alloc_live(), live);
}

PT_TEST(iterator_over_nothing)
{
    parley_dg_iter it;
    PT_OK(parley_dg_iter_init(&it, NULL, 0));
    PT_TRUE(parley_dg_extract(&it, 0) != NULL);
    PT_OK(parley_dg_iter_error(&it));
    PT_EQ_INT(parley_dg_get_bool(&it), 0);
    PT_ERR(parley_dg_iter_error(&it), PARLEY_ETRUNC);
    PT_ERR(parley_dg_iter_init(&it, NULL, 4), PARLEY_EINVAL);
    PT_EQ_INT(parley_dg_get_uint8(&it), 0);
    PT_ERR(parley_dg_iter_error(&it), PARLEY_EINVAL);
    PT_EQ_INT(parley_dg_get_uint8(NULL), 0);
}

PT_TEST(udp_form_helpers)
{
    uint8_t out[64];
    const uint8_t *p;
    size_t n = 0, plen = 0;
    PT_OK(parley_dg_udp_encode(0, "hello", 5, out, sizeof out, &n));
    PT_EQ_INT(n, 7);
    PT_EQ_MEM(out, "\x14\x02hello", 7);
    PT_OK(parley_dg_udp_decode(0, out, n, &p, &plen));
    PT_EQ_INT(plen, 5);
    out[3] ^= 1;
    PT_ERR(parley_dg_udp_decode(0, out, n, &p, &plen), PARLEY_EPROTO);
    PT_EQ_INT(parley_dg_checksum("hello", 5), 0x0214);
}

PT_MAIN(PT_RUN(integers_little_endian) PT_RUN(integers_big_endian)
            PT_RUN(floats_ieee754) PT_RUN(strings_and_blobs)
                PT_RUN(panda_message_layout) PT_RUN(round_trip_every_getter)
                    PT_RUN(reading_past_the_end_is_visible)
                        PT_RUN(short_string_rewinds_to_its_length)
                            PT_RUN(z_string_without_nul) PT_RUN(
                                fixed_buffer_is_all_or_nothing) PT_RUN(limits)
                                PT_RUN(allocation_failure_changes_nothing)
                                    PT_RUN(iterator_over_nothing)
                                        PT_RUN(udp_form_helpers))
