/*
 * The payload reader: every MessagePack type (bytes written by Python's
 * msgpack), access by index and keyword in place with no allocation,
 * nested values and iteration, and hostile input: every truncation,
 * trailing bytes, unsupported types, nesting past the limit, counts
 * larger than the data and non-string keywords.
 */
#include "pt.h"

#include "parley/parley.h"
#include "parley/payload.h"
#include "payload/internal.h"
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

/* msgpack.packb([[None, True, False, -1, -33, 127, 128, -129, 65536,
   -2**63, 2**64-1, 1.5, b'\x00\x01', 'x'*40], {}]) */
static const char every_type_hex[] =
    "929ec0c3c2ffd0df7fcc80d1ff7fce00010000d38000000000000000cfffffffffffff"
    "ffffcb3ff8000000000000c4020001d92878787878787878787878787878787878787878"
    "78787878787878787878787878787878787878787880";

PT_TEST(every_type)
{
    uint8_t buf[256];
    size_t n = unhex(every_type_hex, buf, sizeof buf);
    parley_payload p;
    parley_value v;
    int64_t i;
    uint64_t u;
    double d;
    int b;

    PT_OK(parley_payload_parse(buf, n, &p));
    PT_EQ_INT(parley_payload_argc(&p), 14);
    PT_EQ_INT(parley_payload_kwargc(&p), 0);
    PT_OK(parley_payload_arg(&p, 0, &v));
    PT_EQ_INT(v.type, PARLEY_TYPE_NIL);
    PT_OK(parley_payload_arg(&p, 1, &v));
    PT_OK(parley_value_as_bool(&v, &b));
    PT_EQ_INT(b, 1);
    PT_OK(parley_payload_arg(&p, 2, &v));
    PT_OK(parley_value_as_bool(&v, &b));
    PT_EQ_INT(b, 0);
    static const int64_t ints[] = {-1, -33, 127, 128, -129, 65536, INT64_MIN};
    for (uint32_t k = 0; k < 7; k++) {
        PT_OK(parley_payload_arg_int(&p, 3 + k, &i));
        PT_EQ_INT(i, ints[k]);
    }
    PT_OK(parley_payload_arg(&p, 10, &v));
    PT_EQ_INT(v.type, PARLEY_TYPE_UINT);
    PT_ERR(parley_value_as_int(&v, &i), PARLEY_ERANGE);
    PT_OK(parley_value_as_uint(&v, &u));
    PT_EQ_U64(u, UINT64_MAX);
    PT_OK(parley_payload_arg_double(&p, 11, &d));
    PT_EQ_DBL(d, 1.5);
    PT_OK(parley_payload_arg_double(&p, 5, &d)); /* an int reads as double */
    PT_EQ_DBL(d, 127.0);
    PT_OK(parley_payload_arg(&p, 12, &v));
    PT_EQ_INT(v.type, PARLEY_TYPE_BYTES);
    PT_EQ_INT(v.v.bytes.len, 2);
    PT_EQ_MEM(v.v.bytes.ptr, "\x00\x01", 2);
    const char *s;
    size_t len;
    PT_OK(parley_payload_arg_str(&p, 13, &s, &len));
    PT_EQ_INT(len, 40);
    /* In place: the string points into the buffer. */
    PT_TRUE(s > (const char *)buf && s + len <= (const char *)buf + n);
    PT_ERR(parley_payload_arg(&p, 14, &v), PARLEY_ENOENT);
    PT_ERR(parley_payload_arg_str(&p, 0, &s, &len), PARLEY_EINVAL);
    PT_ERR(parley_payload_arg_int(&p, 11, &i), PARLEY_EINVAL);
    PT_OK(parley_payload_arg(&p, 3, &v));
    PT_ERR(parley_value_as_uint(&v, &u), PARLEY_ERANGE); /* -1 */
}

/* float32 and the 16/32-bit header forms Python never writes for small
   values but other encoders may. */
PT_TEST(float32_and_wide_headers)
{
    uint8_t buf[600];
    parley_payload p;
    double d;
    size_t n;

    /* [[21, float32 1.5], {}] */
    n = unhex("929215ca3fc0000080", buf, sizeof buf);
    PT_OK(parley_payload_parse(buf, n, &p));
    PT_OK(parley_payload_arg_double(&p, 1, &d));
    PT_EQ_DBL(d, 1.5);
    /* array16 / map16 / str16 / bin16 / array32 / map32 forms */
    n = unhex("92dc0002da0003616263c50002ffeede0001a16bc0", buf, sizeof buf);
    PT_OK(parley_payload_parse(buf, n, &p));
    const char *s;
    size_t len;
    PT_OK(parley_payload_arg_str(&p, 0, &s, &len));
    PT_EQ_INT(len, 3);
    PT_EQ_MEM(s, "abc", 3);
    n = unhex("92dd00000001c0df00000001a16bc3", buf, sizeof buf);
    PT_OK(parley_payload_parse(buf, n, &p));
    parley_value v;
    int b;
    PT_OK(parley_payload_kwarg(&p, "k", &v));
    PT_OK(parley_value_as_bool(&v, &b));
    PT_EQ_INT(b, 1);
}

/* Vizard's example payload: args (5, 'hello', [1, 2, 3]), kwargs foo=78,
   bar=['more', 'data']. */
static const char vizard[] = "929305a568656c6c6f9301020382a3666f6f4ea36261"
                             "7292a46d6f7265a464617461";

PT_TEST(kwargs_and_nesting)
{
    uint8_t buf[128];
    size_t n = unhex(vizard, buf, sizeof buf);
    parley_payload p;
    parley_value v, w, k;
    int64_t i;

    PT_OK(parley_payload_parse(buf, n, &p));
    PT_EQ_INT(parley_payload_argc(&p), 3);
    PT_EQ_INT(parley_payload_kwargc(&p), 2);
    PT_OK(parley_payload_kwarg_int(&p, "foo", &i));
    PT_EQ_INT(i, 78);
    PT_ERR(parley_payload_kwarg(&p, "fo", &v), PARLEY_ENOENT);
    PT_ERR(parley_payload_kwarg(&p, "fooo", &v), PARLEY_ENOENT);
    PT_OK(parley_payload_kwarg(&p, "bar", &v));
    PT_EQ_INT(v.type, PARLEY_TYPE_ARRAY);
    PT_EQ_INT(v.v.seq.count, 2);
    PT_OK(parley_value_at(&v, 1, &w));
    PT_TRUE(parley_value_str_eq(&w, "data"));
    PT_ERR(parley_value_at(&v, 2, &w), PARLEY_ENOENT);
    PT_OK(parley_payload_kwarg_at(&p, 1, &k, &w));
    PT_TRUE(parley_value_str_eq(&k, "bar"));
    PT_ERR(parley_payload_kwarg_at(&p, 2, &k, &w), PARLEY_ENOENT);
    /* Iterate the nested array and sum it. */
    parley_iter it;
    PT_OK(parley_payload_arg(&p, 2, &v));
    PT_OK(parley_iter_init(&it, &v));
    int64_t sum = 0;
    while (parley_iter_next(&it, NULL, &w) == 1) {
        PT_OK(parley_value_as_int(&w, &i));
        sum += i;
    }
    PT_EQ_INT(sum, 6);
    /* The raw span of a value is its exact encoding. */
    PT_EQ_INT(v.raw_len, 4);
    PT_EQ_MEM(v.raw, "\x93\x01\x02\x03", 4);
    PT_ERR(parley_iter_init(&it, &w), PARLEY_EINVAL);
}

PT_TEST(reading_does_not_allocate)
{
    uint8_t buf[128];
    size_t n = unhex(vizard, buf, sizeof buf);
    parley_payload p;
    parley_value v;
    int64_t i;
    uint64_t before = pl_alloc_count();

    for (int round = 0; round < 1000; round++) {
        PT_OK(parley_payload_parse(buf, n, &p));
        PT_OK(parley_payload_arg(&p, 2, &v));
        PT_OK(parley_payload_kwarg_int(&p, "foo", &i));
        PT_OK(parley_payload_kwarg(&p, "bar", &v));
    }
    PT_EQ_U64(pl_alloc_count(), before);
}

PT_TEST(every_truncation_is_rejected)
{
    uint8_t buf[256];
    size_t n = unhex(every_type_hex, buf, sizeof buf);
    parley_payload p;

    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, buf, cut);
        PT_ERR(parley_payload_parse(copy, cut, &p), PARLEY_EPROTO);
        free(copy);
    }
    buf[n] = 0xc0; /* a trailing byte */
    PT_ERR(parley_payload_parse(buf, n + 1, &p), PARLEY_EPROTO);
    PT_ERR(parley_payload_parse(NULL, 0, &p), PARLEY_EPROTO);
    PT_ERR(parley_payload_parse(NULL, 3, &p), PARLEY_EINVAL);
}

static void
expect_bad(const char *hex)
{
    uint8_t buf[128];
    size_t n = unhex(hex, buf, sizeof buf);
    parley_payload p;

    if (parley_payload_parse(buf, n, &p) != PARLEY_EPROTO) {
        PT_FAIL_("accepted %s", hex);
    }
}

PT_TEST(malformed_shapes)
{
    expect_bad("c0");         /* not an array */
    expect_bad("91 90");      /* one element */
    expect_bad("93908080");   /* three elements */
    expect_bad("928080");     /* args is a map */
    expect_bad("929090");     /* kwargs is an array */
    expect_bad("92908101c0"); /* an integer keyword */
    expect_bad("929190c1"
               "80"); /* 0xc1 is never used */
    expect_bad("9291d40100"
               "80"); /* fixext: unsupported */
    expect_bad("9291c70101ff"
               "80"); /* ext8: unsupported */
    expect_bad("9291dcffff"
               "80");               /* count past the data */
    expect_bad("9291ddffffffff80"); /* count past the data */
    expect_bad("9291dfffffffff80"); /* map count past the data */
    expect_bad("9291dbffffffff80"); /* str32 length past the data */
    expect_bad("9291c6ffffffff80"); /* bin32 length past the data */
}

PT_TEST(depth_limit)
{
    /* [[ 32 nested arrays ], {}] is fine; 33 is not. */
    uint8_t buf[64];
    parley_payload p;

    for (int depth = 30; depth <= 36; depth++) {
        size_t n = 0;
        buf[n++] = 0x92;
        buf[n++] = 0x91;
        for (int i = 0; i < depth; i++) {
            buf[n++] = i + 1 < depth ? 0x91 : 0x90;
        }
        buf[n++] = 0x80;
        int rc = parley_payload_parse(buf, n, &p);
        if (depth <= PARLEY_PAYLOAD_MAX_DEPTH) {
            PT_OK(rc);
        } else {
            PT_ERR(rc, PARLEY_EPROTO);
        }
    }
}

PT_TEST(big_payload_many_args)
{
    parley_builder *b;
    const uint8_t *d;
    size_t n;
    parley_payload p;
    int64_t v;

    PT_OK(parley_builder_create(&b));
    for (int i = 0; i < 70000; i++) {
        PT_OK(parley_builder_int(b, i * 3));
    }
    PT_OK(parley_builder_finish(b, &d, &n));
    PT_OK(parley_payload_parse(d, n, &p));
    PT_EQ_INT(parley_payload_argc(&p), 70000);
    PT_OK(parley_payload_arg_int(&p, 69999, &v));
    PT_EQ_INT(v, 69999 * 3);
    parley_builder_destroy(b);
}

PT_MAIN(PT_RUN(every_type) PT_RUN(float32_and_wide_headers)
            PT_RUN(kwargs_and_nesting) PT_RUN(reading_does_not_allocate)
                PT_RUN(every_truncation_is_rejected) PT_RUN(malformed_shapes)
                    PT_RUN(depth_limit) PT_RUN(big_payload_many_args))
