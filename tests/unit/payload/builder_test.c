/*
 * The payload builder: byte-exact MessagePack against encodings written
 * out from the MessagePack spec (and checked with Python's msgpack),
 * nesting, keyword arguments, state errors, limits and failed
 * allocations. Every payload built is read back with the reader.
 */
#include "pt.h"

#include "parley/parley.h"
#include "parley/payload.h"
#include "util/alloc.h"

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;

    while (hex[0] && hex[1] && n < cap) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

#define EXPECT_HEX(b, hex)                                                     \
    do {                                                                       \
        const uint8_t *d_;                                                     \
        size_t n_;                                                             \
        uint8_t want_[512];                                                    \
        size_t wn_ = unhex(hex, want_, sizeof want_);                          \
        PT_OK(parley_builder_finish(b, &d_, &n_));                             \
        PT_EQ_INT(n_, wn_);                                                    \
        PT_EQ_MEM(d_, want_, wn_);                                             \
    } while (0)

PT_TEST(empty_payload)
{
    parley_builder *b;

    PT_OK(parley_builder_create(&b));
    EXPECT_HEX(b, "929080");
    parley_builder_destroy(b);
}

/* Vizard's example: send(5, 'hello', [1, 2, 3], foo=78,
   bar=['more', 'data']). */
PT_TEST(vizard_example_bytes)
{
    parley_builder *b;

    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_int(b, 5));
    PT_OK(parley_builder_str(b, "hello"));
    PT_OK(parley_builder_array_begin(b));
    for (int i = 1; i <= 3; i++) {
        PT_OK(parley_builder_int(b, i));
    }
    PT_OK(parley_builder_array_end(b));
    PT_OK(parley_builder_key(b, "foo"));
    PT_OK(parley_builder_int(b, 78));
    PT_OK(parley_builder_key(b, "bar"));
    PT_OK(parley_builder_array_begin(b));
    PT_OK(parley_builder_str(b, "more"));
    PT_OK(parley_builder_str(b, "data"));
    PT_OK(parley_builder_array_end(b));
    EXPECT_HEX(b, "929305a568656c6c6f9301020382a3666f6f4ea362617292a46d6f7265"
                  "a464617461");
    parley_builder_destroy(b);
}

PT_TEST(every_scalar_bytes)
{
    parley_builder *b;
    char x40[41];

    memset(x40, 'x', 40);
    x40[40] = 0;
    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_nil(b));
    PT_OK(parley_builder_bool(b, 1));
    PT_OK(parley_builder_bool(b, 0));
    PT_OK(parley_builder_int(b, -1));
    PT_OK(parley_builder_int(b, -33));
    PT_OK(parley_builder_int(b, 127));
    PT_OK(parley_builder_int(b, 128));
    PT_OK(parley_builder_int(b, -129));
    PT_OK(parley_builder_int(b, 65536));
    PT_OK(parley_builder_int(b, INT64_MIN));
    PT_OK(parley_builder_uint(b, UINT64_MAX));
    PT_OK(parley_builder_double(b, 1.5));
    PT_OK(parley_builder_bytes(b, "\x00\x01", 2));
    PT_OK(parley_builder_str(b, x40));
    EXPECT_HEX(b, "929ec0c3c2ffd0df7fcc80d1ff7fce00010000d38000000000000000"
                  "cfffffffffffffffffcb3ff8000000000000c4020001d928"
                  "7878787878787878787878787878787878787878"
                  "787878787878787878787878787878787878787880");
    parley_builder_destroy(b);
}

PT_TEST(nested_maps_and_headers_shrink)
{
    parley_builder *b;

    PT_OK(parley_builder_create(&b));
    /* {"m": {"a": [], "b": {}}} as a keyword; then 16 elements (array16) */
    PT_OK(parley_builder_key(b, "m"));
    PT_OK(parley_builder_map_begin(b));
    PT_OK(parley_builder_key(b, "a"));
    PT_OK(parley_builder_array_begin(b));
    PT_OK(parley_builder_array_end(b));
    PT_OK(parley_builder_key(b, "b"));
    PT_OK(parley_builder_map_begin(b));
    PT_OK(parley_builder_map_end(b));
    PT_OK(parley_builder_map_end(b));
    PT_OK(parley_builder_array_begin(b));
    for (int i = 0; i < 16; i++) {
        PT_OK(parley_builder_int(b, i));
    }
    PT_OK(parley_builder_array_end(b));
    EXPECT_HEX(b, "9291dc0010000102030405060708090a0b0c0d0e0f"
                  "81a16d82a16190a16280");
    parley_builder_destroy(b);
}

PT_TEST(state_errors)
{
    parley_builder *b;
    const uint8_t *d;
    size_t n;

    PT_OK(parley_builder_create(&b));
    PT_ERR(parley_builder_array_end(b), PARLEY_ESTATE);
    PT_OK(parley_builder_map_begin(b));
    PT_ERR(parley_builder_int(b, 1), PARLEY_ESTATE); /* a key is due */
    PT_ERR(parley_builder_array_end(b), PARLEY_ESTATE);
    PT_OK(parley_builder_key(b, "k"));
    PT_ERR(parley_builder_key(b, "k2"), PARLEY_ESTATE);
    PT_ERR(parley_builder_map_end(b), PARLEY_ESTATE); /* value due */
    PT_ERR(parley_builder_finish(b, &d, &n), PARLEY_ESTATE);
    PT_OK(parley_builder_int(b, 1));
    PT_OK(parley_builder_map_end(b));
    PT_OK(parley_builder_key(b, "top"));
    PT_ERR(parley_builder_key(b, "again"), PARLEY_ESTATE);
    PT_ERR(parley_builder_finish(b, &d, &n), PARLEY_ESTATE);
    PT_OK(parley_builder_nil(b));
    EXPECT_HEX(b, "929181a16b0181a3746f70c0");
    PT_ERR(parley_builder_str(b, NULL), PARLEY_EINVAL);
    PT_ERR(parley_builder_bytes(b, NULL, 3), PARLEY_EINVAL);
    PT_ERR(parley_builder_int(NULL, 1), PARLEY_EINVAL);
    parley_builder_destroy(b);
}

PT_TEST(depth_limit_is_sticky)
{
    parley_builder *b;
    const uint8_t *d;
    size_t n;
    parley_payload p;

    PT_OK(parley_builder_create(&b));
    /* The deepest payload the builder makes is one the reader takes. */
    for (int i = 0; i < PARLEY_PAYLOAD_MAX_DEPTH; i++) {
        PT_OK(parley_builder_array_begin(b));
    }
    for (int i = 0; i < PARLEY_PAYLOAD_MAX_DEPTH; i++) {
        PT_OK(parley_builder_array_end(b));
    }
    PT_OK(parley_builder_finish(b, &d, &n));
    PT_OK(parley_payload_parse(d, n, &p));
    /* One deeper: refused, and the error stays until reset. */
    parley_builder_reset(b);
    for (int i = 0; i < PARLEY_PAYLOAD_MAX_DEPTH; i++) {
        PT_OK(parley_builder_array_begin(b));
    }
    PT_ERR(parley_builder_array_begin(b), PARLEY_ERANGE);
    PT_ERR(parley_builder_array_end(b), PARLEY_ERANGE);
    PT_ERR(parley_builder_int(b, 1), PARLEY_ERANGE);
    PT_ERR(parley_builder_finish(b, &d, &n), PARLEY_ERANGE);
    parley_builder_reset(b);
    EXPECT_HEX(b, "929080");
    parley_builder_destroy(b);
}

PT_TEST(failed_allocation_is_clean)
{
    parley_builder *b;
    int failed = 0;

    /* Fail each allocation in turn: every call either works or reports
       PARLEY_ENOMEM, and a reset builder works again afterwards. */
    for (uint64_t nth = 1; nth < 12; nth++) {
        PT_OK(parley_builder_create(&b));
        pl_alloc_fail_nth(nth);
        int rc = PARLEY_OK;
        for (int i = 0; i < 300 && rc == PARLEY_OK; i++) {
            rc = parley_builder_str(b, "some text to make it grow");
        }
        const uint8_t *d;
        size_t n;
        if (rc == PARLEY_OK) {
            rc = parley_builder_finish(b, &d, &n);
        }
        pl_alloc_fail_nth(0);
        if (rc != PARLEY_OK) {
            PT_ERR(rc, PARLEY_ENOMEM);
            failed++;
        }
        parley_builder_reset(b);
        PT_OK(parley_builder_int(b, 1));
        PT_OK(parley_builder_finish(b, &d, &n));
        PT_EQ_INT(n, 4);
        parley_builder_destroy(b);
    }
    PT_GT_INT(failed, 3);
}

PT_TEST(value_copy_and_roundtrip)
{
    parley_builder *b, *c;
    const uint8_t *d, *e;
    size_t n, m;
    parley_payload p, q;
    parley_value v;

    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_create(&c));
    PT_OK(parley_builder_array_begin(b));
    PT_OK(parley_builder_double(b, -0.25));
    PT_OK(parley_builder_str(b, "\xc3\xa9t\xc3\xa9"));
    PT_OK(parley_builder_array_end(b));
    PT_OK(parley_builder_key(b, "n"));
    PT_OK(parley_builder_uint(b, UINT64_C(1) << 63));
    PT_OK(parley_builder_finish(b, &d, &n));
    PT_OK(parley_payload_parse(d, n, &p));
    /* Copy each value into a second builder: the same bytes come out. */
    PT_OK(parley_payload_arg(&p, 0, &v));
    PT_OK(parley_builder_value(c, &v));
    PT_OK(parley_payload_kwarg(&p, "n", &v));
    PT_OK(parley_builder_key(c, "n"));
    PT_OK(parley_builder_value(c, &v));
    PT_OK(parley_builder_finish(c, &e, &m));
    PT_EQ_INT(m, n);
    PT_EQ_MEM(e, d, n);
    PT_OK(parley_payload_parse(e, m, &q));
    uint64_t u = 0;
    PT_OK(parley_payload_kwarg(&q, "n", &v));
    PT_EQ_INT(v.type, PARLEY_TYPE_UINT);
    PT_OK(parley_value_as_uint(&v, &u));
    PT_EQ_U64(u, UINT64_C(1) << 63);
    parley_builder_destroy(b);
    parley_builder_destroy(c);
}

PT_MAIN(PT_RUN(empty_payload) PT_RUN(vizard_example_bytes)
            PT_RUN(every_scalar_bytes) PT_RUN(nested_maps_and_headers_shrink)
                PT_RUN(state_errors) PT_RUN(depth_limit_is_sticky)
                    PT_RUN(failed_allocation_is_clean)
                        PT_RUN(value_copy_and_roundtrip))
