/*
 * Tests for address text: a table of accepted and rejected strings with
 * their error codes and parsed values, formatting round trips, equality,
 * loopback and resolution (localhost, and a reserved .invalid name).
 *
 * A bare string with more than one colon is an IPv6 literal without a
 * port (platform.h): "::1:5" parses as address ::1:5 with the default
 * port, or PARLEY_EPORT when there is no default.
 */
#include "pt.h"

#include "parley/parley.h"
#include "platform/platform.h"

typedef struct good_case {
    const char *text;
    uint16_t default_port;
    int family;
    uint8_t ip[16];
    uint16_t port;
    uint32_t scope;
} good_case;

static const good_case good[] = {
    {"1.2.3.4:5", 0, 4, {1, 2, 3, 4}, 5, 0},
    {"1.2.3.4:5", 77, 4, {1, 2, 3, 4}, 5, 0},
    {"0.0.0.0:0", 0, 4, {0}, 0, 0},
    {"255.255.255.255:65535", 0, 4, {255, 255, 255, 255}, 65535, 0},
    {"127.0.0.1:080", 0, 4, {127, 0, 0, 1}, 80, 0},
    {"1.2.3.4", 9, 4, {1, 2, 3, 4}, 9, 0},
    {"[::1]:5", 0, 6, {[15] = 1}, 5, 0},
    {"[::1]", 9, 6, {[15] = 1}, 9, 0},
    {"::1", 9, 6, {[15] = 1}, 9, 0},
    {"::", 9, 6, {0}, 9, 0},
    {"::1:5", 9, 6, {[13] = 1, [15] = 5}, 9, 0},
    {"[fe80::1%2]:5", 0, 6, {0xfe, 0x80, [15] = 1}, 5, 2},
    {"fe80::1%7", 3, 6, {0xfe, 0x80, [15] = 1}, 3, 7},
    {"[2001:db8::a:b]:443",
     0,
     6,
     {0x20, 0x01, 0x0d, 0xb8, [13] = 0x0a, [15] = 0x0b},
     443,
     0},
    {"[::ffff:1.2.3.4]:5", 0, 6, {[10] = 0xff, 0xff, 1, 2, 3, 4}, 5, 0},
};

typedef struct bad_case {
    const char *text;
    uint16_t default_port;
    int err;
} bad_case;

static const bad_case bad[] = {
    {"", 0, PARLEY_EADDR},
    {"", 9, PARLEY_EADDR},
    {":5", 0, PARLEY_EADDR},
    {"1.2.3.4:", 0, PARLEY_EPORT},
    {"1.2.3.4:", 9, PARLEY_EPORT},
    {"1.2.3.4:65536", 0, PARLEY_EPORT},
    {"1.2.3.4:99999999999999999999", 0, PARLEY_EPORT},
    {"1.2.3.4:-1", 0, PARLEY_EPORT},
    {"1.2.3.4:+1", 0, PARLEY_EPORT},
    {"1.2.3.4: 5", 0, PARLEY_EPORT},
    {"1.2.3.4:5x", 0, PARLEY_EPORT},
    {"1.2.3.4", 0, PARLEY_EPORT},
    {"[::1", 0, PARLEY_EADDR},
    {"[::1", 9, PARLEY_EADDR},
    {"[::1]x", 9, PARLEY_EADDR},
    {"[::1]:", 0, PARLEY_EPORT},
    {"[::1]", 0, PARLEY_EPORT},
    {"::1", 0, PARLEY_EPORT},
    {"::1:5", 0, PARLEY_EPORT},
    {"[]:5", 0, PARLEY_EADDR},
    {"[1.2.3.4]:5", 0, PARLEY_EADDR},
    {"999.1.1.1:5", 0, PARLEY_EADDR},
    {"1.2.3:5", 0, PARLEY_EADDR},
    {"1.2.3.4.5:5", 0, PARLEY_EADDR},
    {" 1.2.3.4:5", 0, PARLEY_EADDR},
    {"localhost:80", 0, PARLEY_EADDR},
    {"example.com:80", 0, PARLEY_EADDR},
    {"[fe80::1%]:5", 0, PARLEY_EADDR},
    {"[fe80::1%99999999999]:5", 0, PARLEY_EADDR},
    {"[fe80::1%no-such-if0]:5", 0, PARLEY_EADDR},
    {"1.2.3.4%2:5", 0, PARLEY_EADDR},
    {"[::g]:5", 0, PARLEY_EADDR},
    {"1:2:3:4:5:6:7:8:9", 9, PARLEY_EADDR},
};

/* Nonzero when a holds exactly what case c expects. */
static int
matches(const parley_addr *a, const good_case *c)
{
    return a->family == c->family && a->port == c->port &&
           a->scope_id == c->scope &&
           memcmp(a->ip, c->ip, c->family == 4 ? 4 : 16) == 0;
}

PT_TEST(parse_accepts_table)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const good_case *c = &good[i];
        parley_addr a;
        char shown[PARLEY_ADDR_STRLEN] = "";
        memset(&a, 0xee, sizeof a);
        int rc = parley_addr_parse(c->text, c->default_port, &a);
        if (rc == PARLEY_OK) {
            parley_addr_format(&a, shown, sizeof shown);
        }
        if (rc != PARLEY_OK || !matches(&a, c)) {
            PT_FAIL_("\"%s\" (default port %u): got %s, %s", c->text,
                     (unsigned)c->default_port, parley_err_name(rc), shown);
        }
    }
}

PT_TEST(parse_rejects_table)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const bad_case *c = &bad[i];
        parley_addr a, before;
        memset(&a, 0x5a, sizeof a);
        before = a;
        int rc = parley_addr_parse(c->text, c->default_port, &a);
        if (rc != c->err) {
            PT_FAIL_("\"%s\" (default port %u): expected %s, got %s", c->text,
                     (unsigned)c->default_port, parley_err_name(c->err),
                     parley_err_name(rc));
        }
        PT_EQ_MEM(&a, &before, sizeof a); /* unchanged on error */
    }
}

PT_TEST(parse_null_arguments)
{
    parley_addr a;
    PT_ERR(parley_addr_parse(NULL, 0, &a), PARLEY_EINVAL);
    PT_ERR(parley_addr_parse("1.2.3.4:5", 0, NULL), PARLEY_EINVAL);
}

PT_TEST(parse_named_scope_loopback)
{
    /* "lo" exists on Linux; elsewhere a named scope may not resolve. */
    parley_addr a;
    int rc = parley_addr_parse("[fe80::1%lo]:5", 0, &a);
    if (rc == PARLEY_EADDR) {
        printf("  skip: no interface named lo\n");
        return;
    }
    PT_OK(rc);
    PT_GT_U64(a.scope_id, 0);
}

PT_TEST(format_round_trip)
{
    static const char *texts[] = {
        "1.2.3.4:5",
        "0.0.0.0:0",
        "255.255.255.255:65535",
        "[::1]:5",
        "[fe80::1%2]:5",
        "[2001:db8::a:b]:443",
        "[::ffff:1.2.3.4]:9",
        "[::]:0",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        parley_addr a, b;
        char buf[PARLEY_ADDR_STRLEN];
        PT_OK(parley_addr_parse(texts[i], 0, &a));
        int n = parley_addr_format(&a, buf, sizeof buf);
        PT_EQ_INT(n, (int)strlen(texts[i]));
        PT_EQ_STR(buf, texts[i]);
        PT_OK(parley_addr_parse(buf, 0, &b));
        PT_TRUE(parley_addr_equal(&a, &b));
    }
}

PT_TEST(format_short_buffer_and_errors)
{
    parley_addr a, none;
    char buf[6];
    PT_OK(parley_addr_parse("10.20.30.40:5000", 0, &a));
    PT_EQ_INT(parley_addr_format(&a, buf, sizeof buf), 16);
    PT_EQ_STR(buf, "10.20");
    PT_EQ_INT(parley_addr_format(&a, NULL, 0), 16);
    memset(&none, 0, sizeof none);
    PT_ERR(parley_addr_format(&none, buf, sizeof buf), PARLEY_EINVAL);
    PT_ERR(parley_addr_format(NULL, buf, sizeof buf), PARLEY_EINVAL);
    /* The longest form fits PARLEY_ADDR_STRLEN. */
    char big[PARLEY_ADDR_STRLEN];
    PT_OK(parley_addr_parse(
        "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535", 0,
        &a));
    int n = parley_addr_format(&a, big, sizeof big);
    PT_GT_INT(n, 0);
    PT_LT_INT(n, PARLEY_ADDR_STRLEN);
}

PT_TEST(equal_compares_every_field)
{
    parley_addr a, b;
    PT_OK(parley_addr_parse("[fe80::1%2]:5", 0, &a));
    b = a;
    PT_TRUE(parley_addr_equal(&a, &b));
    b.port = 6;
    PT_TRUE(!parley_addr_equal(&a, &b));
    b = a;
    b.scope_id = 3;
    PT_TRUE(!parley_addr_equal(&a, &b));
    b = a;
    b.ip[15] = 2;
    PT_TRUE(!parley_addr_equal(&a, &b));
    PT_OK(parley_addr_parse("1.2.3.4:5", 0, &a));
    PT_OK(parley_addr_parse("[::ffff:1.2.3.4]:5", 0, &b));
    PT_TRUE(!parley_addr_equal(&a, &b)); /* families differ */
    b = a;
    b.ip[8] = 99; /* bytes past an IPv4 address do not count */
    PT_TRUE(parley_addr_equal(&a, &b));
    PT_TRUE(!parley_addr_equal(&a, NULL));
}

PT_TEST(loopback_values)
{
    parley_addr a, want;
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 1234, &a));
    PT_OK(parley_addr_parse("127.0.0.1:1234", 0, &want));
    PT_TRUE(parley_addr_equal(&a, &want));
    PT_OK(parley_addr_loopback(PARLEY_AF_INET6, 99, &a));
    PT_OK(parley_addr_parse("[::1]:99", 0, &want));
    PT_TRUE(parley_addr_equal(&a, &want));
    PT_ERR(parley_addr_loopback(PARLEY_AF_UNSPEC, 1, &a), PARLEY_EINVAL);
    PT_ERR(parley_addr_loopback(PARLEY_AF_INET, 1, NULL), PARLEY_EINVAL);
}

PT_TEST(resolve_localhost)
{
    parley_addr a, lo4, lo6;
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 80, &lo4));
    PT_OK(parley_addr_loopback(PARLEY_AF_INET6, 80, &lo6));
    PT_OK(parley_addr_resolve("localhost:80", 0, PARLEY_AF_UNSPEC, &a));
    PT_TRUE(parley_addr_equal(&a, &lo4) || parley_addr_equal(&a, &lo6));
    PT_OK(parley_addr_resolve("localhost:80", 0, PARLEY_AF_INET, &a));
    PT_TRUE(parley_addr_equal(&a, &lo4));
    PT_OK(parley_addr_resolve("localhost", 80, PARLEY_AF_INET6, &a));
    PT_EQ_INT(a.family, PARLEY_AF_INET6);
    PT_EQ_INT(a.port, 80);
}

PT_TEST(resolve_numeric_and_errors)
{
    parley_addr a, want;
    PT_OK(parley_addr_resolve("1.2.3.4:5", 0, PARLEY_AF_UNSPEC, &a));
    PT_OK(parley_addr_parse("1.2.3.4:5", 0, &want));
    PT_TRUE(parley_addr_equal(&a, &want));
    PT_OK(parley_addr_resolve("[::1]:7", 0, PARLEY_AF_INET6, &a));
    PT_OK(parley_addr_parse("[::1]:7", 0, &want));
    PT_TRUE(parley_addr_equal(&a, &want));
    PT_ERR(parley_addr_resolve("1.2.3.4:5", 0, PARLEY_AF_INET6, &a),
           PARLEY_ERESOLVE);
    PT_ERR(parley_addr_resolve("localhost", 0, PARLEY_AF_UNSPEC, &a),
           PARLEY_EPORT);
    PT_ERR(parley_addr_resolve("localhost:70000", 0, PARLEY_AF_UNSPEC, &a),
           PARLEY_EPORT);
    PT_ERR(parley_addr_resolve(":80", 0, PARLEY_AF_UNSPEC, &a), PARLEY_EADDR);
    PT_ERR(parley_addr_resolve("bad host:80", 0, PARLEY_AF_UNSPEC, &a),
           PARLEY_EADDR);
    PT_ERR(parley_addr_resolve("[localhost]:80", 0, PARLEY_AF_UNSPEC, &a),
           PARLEY_EADDR);
    PT_ERR(parley_addr_resolve(NULL, 0, PARLEY_AF_UNSPEC, &a), PARLEY_EINVAL);
    PT_ERR(parley_addr_resolve("localhost:1", 0, (parley_family)5, &a),
           PARLEY_EINVAL);
}

PT_TEST(resolve_invalid_tld_fails_fast)
{
    static const char *names[] = {"nonexistent.invalid:1", "invalid:1",
                                  "a.b.INVALID.:1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        parley_addr a, before;
        memset(&a, 0x33, sizeof a);
        before = a;
        uint64_t t0 = parley_time_us();
        PT_ERR(parley_addr_resolve(names[i], 0, PARLEY_AF_UNSPEC, &a),
               PARLEY_ERESOLVE);
        PT_LT_U64(parley_time_us() - t0, 1000000); /* under a second */
        PT_EQ_MEM(&a, &before, sizeof a);
    }
}

PT_MAIN(PT_RUN(parse_accepts_table) PT_RUN(parse_rejects_table)
            PT_RUN(parse_null_arguments) PT_RUN(parse_named_scope_loopback)
                PT_RUN(format_round_trip) PT_RUN(format_short_buffer_and_errors)
                    PT_RUN(equal_compares_every_field) PT_RUN(loopback_values)
                        PT_RUN(resolve_localhost)
                            PT_RUN(resolve_numeric_and_errors)
                                PT_RUN(resolve_invalid_tld_fails_fast))
