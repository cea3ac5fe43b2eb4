/*
 * Tests for the packet codec: golden bytes of every packet type (the same
 * hex as docs/PROTOCOL.md), round trips, every truncation, field limits,
 * packet-number expansion and the cookie input.
 */
#include "pt.h"

#include <sodium.h>

#include "parley/parley.h"
#include "wire/packet.h"
#include "golden.h"
#include "wire_util.h"

static const uint8_t g_nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static pl_hs_connect
golden_connect(void)
{
    pl_hs_connect c;
    memset(&c, 0, sizeof c);
    c.version = PL_PROTO_VERSION;
    c.client_id = 0x0a0b0c0d;
    memcpy(c.nonce, g_nonce, 8);
    c.mtu = 1400;
    c.channels = 4;
    c.max_message = 1 << 20;
    c.flags = 0;
    c.user_len = 5;
    c.user = (const uint8_t *)"hello";
    return c;
}

static void
golden_cookie(uint8_t cookie[PL_COOKIE_LEN])
{
    PT_EQ_INT(hex_to_bytes(HEX_COOKIE, cookie, PL_COOKIE_LEN), PL_COOKIE_LEN);
}

static void
check_connect_eq(const pl_hs_connect *a, const pl_hs_connect *b)
{
    PT_EQ_INT(a->version, b->version);
    PT_EQ_U64(a->client_id, b->client_id);
    PT_EQ_MEM(a->nonce, b->nonce, 8);
    PT_EQ_INT(a->mtu, b->mtu);
    PT_EQ_INT(a->channels, b->channels);
    PT_EQ_U64(a->max_message, b->max_message);
    PT_EQ_U64(a->flags, b->flags);
    PT_EQ_INT(a->user_len, b->user_len);
    PT_EQ_MEM(a->user, b->user, a->user_len);
}

/* ---- packet type and DATA header ---------------------------------------- */

PT_TEST(packet_type_every_byte)
{
    for (int t = 0; t < 256; t++) {
        uint8_t b = (uint8_t)t;
        int known = t == 0x01 || (t >= 0x10 && t <= 0x14);
        PT_EQ_INT(pl_pkt_type(&b, 1), known ? t : PARLEY_EPROTO);
    }
    uint8_t b = 1;
    PT_ERR(pl_pkt_type(&b, 0), PARLEY_ETRUNC);
    PT_ERR(pl_pkt_type(NULL, 0), PARLEY_ETRUNC);
}

PT_TEST(data_header_golden)
{
    uint8_t want[9], buf[16];
    PT_EQ_INT(hex_to_bytes(HEX_DATA_HDR, want, sizeof want), 9);
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_data_hdr_encode(&wr, 0x11223344, UINT64_C(0x512345678)));
    PT_EQ_INT(wr.off, PL_DATA_HDR_LEN);
    PT_EQ_MEM(buf, want, 9);

    uint32_t id = 0, pn = 0;
    uint8_t *exact = exact_copy(want, 9);
    PT_OK(pl_data_hdr_decode(exact, 9, &id, &pn));
    PT_EQ_U64(id, 0x11223344);
    PT_EQ_U64(pn, 0x12345678);
    for (size_t cut = 0; cut < 9; cut++) {
        PT_ERR(pl_data_hdr_decode(exact, cut, &id, &pn), PARLEY_ETRUNC);
    }
    free(exact);
}

PT_TEST(data_header_errors)
{
    uint8_t buf[9];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_ERR(pl_data_hdr_encode(&wr, 0, 1), PARLEY_EINVAL);
    PT_ERR(pl_data_hdr_encode(&wr, 1, PL_PN_MAX + 1), PARLEY_EINVAL);
    PT_OK(pl_data_hdr_encode(&wr, 1, PL_PN_MAX));
    PT_ERR(pl_data_hdr_encode(&wr, 1, 1), PARLEY_ENOBUFS); /* full */
    PT_EQ_INT(wr.off, 9);
    PT_EQ_INT(wr.err, 0);

    pl_wr_init(&wr, buf, 8);
    PT_ERR(pl_data_hdr_encode(&wr, 1, 1), PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, 0);

    uint32_t id, pn;
    uint8_t zero_id[9] = {0x01, 0, 0, 0, 0, 0, 0, 0, 5};
    PT_ERR(pl_data_hdr_decode(zero_id, 9, &id, &pn), PARLEY_EPROTO);
    uint8_t not_data[9] = {0x02, 0, 0, 0, 1, 0, 0, 0, 5};
    PT_ERR(pl_data_hdr_decode(not_data, 9, &id, &pn), PARLEY_EPROTO);
}

/* ---- packet numbers ------------------------------------------------------ */

PT_TEST(pn_expand_table)
{
    static const struct {
        uint64_t largest;
        uint32_t trunc;
        uint64_t want;
    } t[] = {
        /* nothing received yet: expected 0 */
        {UINT64_MAX, 0, 0},
        {UINT64_MAX, 5, 5},
        {UINT64_MAX, 0x7fffffff, 0x7fffffff},
        {UINT64_MAX, 0xffffffff, 0xffffffff},
        /* plain in-order and slightly late packets */
        {0, 1, 1},
        {0x12345678, 0x12345679, 0x12345679},
        {0x12345678, 0x12345600, 0x12345600},
        /* the worked example in PROTOCOL.md: across 2^32 */
        {UINT64_C(0xfffffffe), 0x00000003, UINT64_C(0x100000003)},
        {UINT64_C(0x1fffffffe), 0x00000002, UINT64_C(0x200000002)},
        /* a late packet from before the wrap */
        {UINT64_C(0x200000001), 0xfffffffe, UINT64_C(0x1fffffffe)},
        {UINT64_C(0x300000010), 0xfffffff0, UINT64_C(0x2fffffff0)},
        /* window edges: expected E = 0x180000000; (E - 2^31, E + 2^31] */
        {UINT64_C(0x17fffffff), 0x00000000, UINT64_C(0x200000000)},
        {UINT64_C(0x17fffffff), 0x00000001, UINT64_C(0x100000001)},
        {UINT64_C(0x17fffffff), 0x80000000, UINT64_C(0x180000000)},
        {UINT64_C(0x17fffffff), 0x7fffffff, UINT64_C(0x17fffffff)},
        /* E = 0x100000000: E + 2^31 stays, E + 2^31 + 1 is taken as late */
        {UINT64_C(0xffffffff), 0x80000000, UINT64_C(0x180000000)},
        {UINT64_C(0xffffffff), 0x80000001, UINT64_C(0x080000001)},
        /* never above 2^62 - 1 */
        {UINT64_C(0x3ffffffffffffff0), 0x00000005,
         UINT64_C(0x3fffffff00000005)},
        {PL_PN_MAX - 1, 0xffffffff, PL_PN_MAX},
        {PL_PN_MAX, 0x5b02fa40, UINT64_C(0x3fffffff5b02fa40)}, /* fuzz */
        {PL_PN_MAX, 0xffffffff, PL_PN_MAX},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint64_t got = pl_pn_expand(t[i].largest, t[i].trunc);
        if (got != t[i].want) {
            PT_FAIL_("row %zu: expand(0x%" PRIx64 ", 0x%08" PRIx32
                     ") = 0x%" PRIx64 ", want 0x%" PRIx64,
                     i, t[i].largest, t[i].trunc, got, t[i].want);
        }
    }
}

/* Any packet within (expected - 2^31, expected + 2^31] is recovered. */
PT_TEST(pn_expand_random)
{
    uint64_t x = UINT64_C(0x2545f4914f6cdd1d);
    pt_seed(x);
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t largest = (x >> 3) % (PL_PN_MAX - (UINT64_C(1) << 33));
        if (i % 4 == 0) {
            largest &= 0xffffffffu; /* near zero and the first wrap */
        }
        uint64_t expected = largest + 1;
        uint64_t off = x % (UINT64_C(1) << 32); /* 0 .. 2^32 - 1 */
        if (expected + (UINT64_C(1) << 31) - 1 < off) {
            continue; /* would be below 0 */
        }
        uint64_t pn = expected + (UINT64_C(1) << 31) - off;
        PT_EQ_U64(pl_pn_expand(largest, (uint32_t)pn), pn);
    }
}

/* ---- CONNECT and RESPONSE ------------------------------------------------ */

PT_TEST(connect_golden)
{
    uint8_t want[64], buf[1300];
    size_t n = hex_to_bytes(HEX_CONNECT, want, sizeof want);
    PT_EQ_INT(n, 37);
    pl_hs_connect c = golden_connect();
    memset(buf, 0xee, sizeof buf);
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, &c));
    PT_EQ_INT(wr.off, PL_HANDSHAKE_MIN_SIZE);
    PT_EQ_MEM(buf, want, n);
    for (size_t i = n; i < PL_HANDSHAKE_MIN_SIZE; i++) {
        PT_EQ_INT(buf[i], 0);
    }

    pl_hs_connect d;
    uint8_t *exact = exact_copy(buf, PL_HANDSHAKE_MIN_SIZE);
    PT_OK(pl_hs_connect_decode(exact, PL_HANDSHAKE_MIN_SIZE, &d));
    check_connect_eq(&d, &c);
    PT_TRUE(d.user == exact + 32); /* points into the datagram */
    for (size_t cut = 0; cut < PL_HANDSHAKE_MIN_SIZE; cut++) {
        uint8_t *p = exact_copy(exact, cut);
        PT_NE_INT(pl_hs_connect_decode(p, cut, &d), PARLEY_OK);
        free(p);
    }
    /* The padding is not inspected, and longer datagrams are fine. */
    buf[1000] = 0x55;
    PT_OK(pl_hs_connect_decode(buf, 1300, &d));
    free(exact);
}

static pl_hs_accept golden_accept(void);

/* Path-MTU probing: a u16 max_mtu after the extension (section 5.9). */
PT_TEST(connect_pmtu_golden)
{
    uint8_t want[64], buf[PL_HANDSHAKE_MIN_SIZE];
    size_t n = hex_to_bytes(HEX_CONNECT_PMTU, want, sizeof want);
    PT_EQ_INT(n, 39);
    pl_hs_connect c = golden_connect(), d;
    c.flags = PL_HS_FLAG_PMTU;
    c.max_mtu = 9000;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, &c));
    PT_EQ_INT(wr.off, PL_HANDSHAKE_MIN_SIZE);
    PT_EQ_MEM(buf, want, n);
    PT_OK(pl_hs_connect_decode(buf, sizeof buf, &d));
    PT_EQ_INT(d.max_mtu, 9000);
    PT_EQ_U64(d.flags, PL_HS_FLAG_PMTU);
    /* A max_mtu below the mtu is refused both ways. */
    c.max_mtu = 1399;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
    buf[37] = 0x05, buf[38] = 0x77; /* 1399 */
    PT_ERR(pl_hs_connect_decode(buf, sizeof buf, &d), PARLEY_EPROTO);
    buf[38] = 0x78; /* 1400: equal is allowed */
    PT_OK(pl_hs_connect_decode(buf, sizeof buf, &d));
    /* Without the flag the same bytes are padding: max_mtu reads 0. */
    c.flags = 0;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, &c));
    PT_OK(pl_hs_connect_decode(buf, sizeof buf, &d));
    PT_EQ_INT(d.max_mtu, 0);
}

PT_TEST(accept_pmtu_golden)
{
    uint8_t want[64], buf[64];
    PT_EQ_INT(hex_to_bytes(HEX_ACCEPT_PMTU, want, sizeof want), 30);
    PT_EQ_INT(pl_hs_accept_len(PL_HS_FLAG_PMTU), 30);
    pl_hs_accept a = golden_accept(), d;
    a.flags = PL_HS_FLAG_PMTU;
    a.max_mtu = 65507;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_accept_encode(&wr, &a));
    PT_EQ_INT(wr.off, 30);
    PT_EQ_MEM(buf, want, 30);
    PT_OK(pl_hs_accept_decode(want, 30, &d));
    PT_EQ_INT(d.max_mtu, 65507);
    PT_ERR(pl_hs_accept_decode(want, 29, &d), PARLEY_ETRUNC);
    PT_ERR(pl_hs_accept_decode(want, 31, &d), PARLEY_EPROTO);
    want[28] = 0x05, want[29] = 0x77; /* 1399 < mtu 1400 */
    PT_ERR(pl_hs_accept_decode(want, 30, &d), PARLEY_EPROTO);
}

PT_TEST(connect_no_user_data)
{
    uint8_t buf[PL_HANDSHAKE_MIN_SIZE];
    pl_hs_connect c = golden_connect(), d;
    c.user_len = 0;
    c.user = NULL;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, &c));
    PT_OK(pl_hs_connect_decode(buf, sizeof buf, &d));
    PT_EQ_INT(d.user_len, 0);
    PT_TRUE(d.user == NULL);

    c.user_len = PL_HS_USER_MAX;
    static const uint8_t big[PL_HS_USER_MAX] = {1};
    c.user = big;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, &c));
    PT_OK(pl_hs_connect_decode(buf, sizeof buf, &d));
    check_connect_eq(&d, &c);
}

/* Decodes the golden CONNECT (or RESPONSE) with the bytes at `at`
   replaced by patch (hex). */
static int
decode_patched(int response, size_t at, const char *patch, pl_hs_connect *d)
{
    uint8_t buf[PL_HANDSHAKE_MIN_SIZE], p[8], cookie[PL_COOKIE_LEN];
    pl_hs_connect c = golden_connect();
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    golden_cookie(cookie);
    if (response) {
        PT_OK(pl_hs_response_encode(&wr, &c, cookie));
    } else {
        PT_OK(pl_hs_connect_encode(&wr, &c));
    }
    size_t n = hex_to_bytes(patch, p, sizeof p);
    PT_TRUE(n != (size_t)-1 && at + n <= sizeof buf);
    memcpy(buf + at, p, n);
    return response ? pl_hs_response_decode(buf, sizeof buf, d, cookie)
                    : pl_hs_connect_decode(buf, sizeof buf, d);
}

/* Offsets in CONNECT: type 0, magic 1, version 5, client_id 7, nonce 11,
   mtu 19, channels 21, max_message 22, flags 26, user_len 30, user 32. */
PT_TEST(connect_decode_rejects_bad_fields)
{
    pl_hs_connect d;
    for (int r = 0; r < 2; r++) {
        PT_OK(decode_patched(r, 0, "", &d));
        PT_ERR(decode_patched(r, 0, r ? "10" : "12", &d), PARLEY_EPROTO);
        PT_ERR(decode_patched(r, 0, "01", &d), PARLEY_EPROTO);
        PT_ERR(decode_patched(r, 1, "50524c58", &d), PARLEY_EPROTO);
        PT_ERR(decode_patched(r, 7, "00000000", &d), PARLEY_EPROTO);
        PT_ERR(decode_patched(r, 19, "023f", &d), PARLEY_EPROTO); /* 575 */
        PT_OK(decode_patched(r, 19, "0240", &d));                 /* 576 */
        PT_EQ_INT(d.mtu, 576);
        PT_ERR(decode_patched(r, 21, "00", &d), PARLEY_EPROTO);
        PT_OK(decode_patched(r, 21, "ff", &d));
        PT_ERR(decode_patched(r, 22, "00000000", &d), PARLEY_EPROTO);
        PT_OK(decode_patched(r, 26, "ffffffef", &d)); /* flags pass through */
        PT_EQ_U64(d.flags, 0xffffffefu);
        /* PMTU reads a max_mtu (here from the padding: 0 < mtu). */
        PT_ERR(decode_patched(r, 26, "00000010", &d), PARLEY_EPROTO);
        PT_ERR(decode_patched(r, 30, "0101", &d), PARLEY_EPROTO); /* 257 */
        PT_OK(decode_patched(r, 30, "0100", &d));                 /* 256 */
        PT_EQ_INT(d.user_len, 256);
    }
}

/* Another version: only the version-invariant fields are decoded, enough
   for a REJECT with reason 1. */
PT_TEST(connect_other_version)
{
    pl_hs_connect d;
    memset(&d, 0, sizeof d);
    PT_ERR(decode_patched(0, 5, "0002", &d), PARLEY_EVERSION);
    PT_EQ_INT(d.version, 2);
    PT_EQ_U64(d.client_id, 0x0a0b0c0d);
    PT_EQ_MEM(d.nonce, g_nonce, 8);
    PT_ERR(decode_patched(1, 5, "0000", &d), PARLEY_EVERSION);
    PT_EQ_INT(d.version, 0);
    /* A bad magic or id is still EPROTO, whatever the version. */
    PT_ERR(decode_patched(0, 1, "00000000", &d), PARLEY_EPROTO);

    /* The encoder writes the version it is given (for tests and REJECT
       paths); a v1 decoder answers EVERSION. */
    uint8_t buf[PL_HANDSHAKE_MIN_SIZE];
    pl_hs_connect c = golden_connect();
    c.version = 7;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, &c));
    PT_ERR(pl_hs_connect_decode(buf, sizeof buf, &d), PARLEY_EVERSION);
    PT_EQ_INT(d.version, 7);
}

PT_TEST(connect_encode_errors)
{
    uint8_t buf[PL_HANDSHAKE_MIN_SIZE];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    pl_hs_connect c;
    c = golden_connect(), c.client_id = 0;
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
    c = golden_connect(), c.mtu = PL_MTU_MIN - 1;
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
    c = golden_connect(), c.channels = 0;
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
    c = golden_connect(), c.max_message = 0;
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
    c = golden_connect(), c.user_len = PL_HS_USER_MAX + 1;
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
    c = golden_connect(), c.user = NULL;
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
    PT_ERR(pl_hs_response_encode(&wr, &c, NULL), PARLEY_EINVAL);
    PT_EQ_INT(wr.off, 0);

    /* One byte short of the padded size: nothing is written. */
    c = golden_connect();
    pl_wr_init(&wr, buf, PL_HANDSHAKE_MIN_SIZE - 1);
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, 0);
    PT_EQ_INT(wr.err, 0);
}

PT_TEST(response_golden)
{
    uint8_t want[96], buf[PL_HANDSHAKE_MIN_SIZE], cookie[PL_COOKIE_LEN];
    size_t n = hex_to_bytes(HEX_RESPONSE, want, sizeof want);
    PT_EQ_INT(n, 77);
    golden_cookie(cookie);
    pl_hs_connect c = golden_connect(), d;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_response_encode(&wr, &c, cookie));
    PT_EQ_INT(wr.off, PL_HANDSHAKE_MIN_SIZE);
    PT_EQ_MEM(buf, want, n);
    for (size_t i = n; i < PL_HANDSHAKE_MIN_SIZE; i++) {
        PT_EQ_INT(buf[i], 0);
    }

    uint8_t got_cookie[PL_COOKIE_LEN];
    uint8_t *exact = exact_copy(buf, sizeof buf);
    PT_OK(pl_hs_response_decode(exact, sizeof buf, &d, got_cookie));
    check_connect_eq(&d, &c);
    PT_EQ_MEM(got_cookie, cookie, PL_COOKIE_LEN);
    PT_EQ_U64(pl_hs_cookie_time(got_cookie), 0x65000000);
    for (size_t cut = 0; cut < sizeof buf; cut++) {
        uint8_t *p = exact_copy(exact, cut);
        PT_NE_INT(pl_hs_response_decode(p, cut, &d, got_cookie), PARLEY_OK);
        free(p);
    }
    /* A CONNECT is no RESPONSE and the other way round. */
    PT_ERR(pl_hs_connect_decode(exact, sizeof buf, &d), PARLEY_EPROTO);
    free(exact);
}

/* ---- CHALLENGE, ACCEPT, REJECT ------------------------------------------- */

/* Checks a fixed-size golden packet: every prefix is ETRUNC, one more byte
   is EPROTO, a different type byte is EPROTO. decode(buf, len) -> rc. */
typedef int (*decode_fn)(const uint8_t *buf, size_t len);

static void
check_fixed_size(const uint8_t *pkt, size_t n, decode_fn decode)
{
    uint8_t *exact = exact_copy(pkt, n);
    PT_OK(decode(exact, n));
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = exact_copy(pkt, cut);
        PT_ERR(decode(p, cut), PARLEY_ETRUNC);
        free(p);
    }
    uint8_t longer[64];
    memcpy(longer, pkt, n);
    longer[n] = 0;
    PT_ERR(decode(longer, n + 1), PARLEY_EPROTO);
    exact[0] = PL_PKT_DATA;
    PT_ERR(decode(exact, n), PARLEY_EPROTO);
    free(exact);
}

static int
decode_challenge(const uint8_t *buf, size_t len)
{
    pl_hs_challenge c;
    return pl_hs_challenge_decode(buf, len, &c);
}

static int
decode_accept(const uint8_t *buf, size_t len)
{
    pl_hs_accept a;
    return pl_hs_accept_decode(buf, len, &a);
}

static int
decode_reject(const uint8_t *buf, size_t len)
{
    pl_hs_reject r;
    return pl_hs_reject_decode(buf, len, &r);
}

PT_TEST(challenge_golden)
{
    uint8_t want[64], buf[64];
    PT_EQ_INT(hex_to_bytes(HEX_CHALLENGE, want, sizeof want),
              PL_HS_CHALLENGE_LEN);
    pl_hs_challenge c, d;
    c.client_id = 0x0a0b0c0d;
    memcpy(c.nonce, g_nonce, 8);
    golden_cookie(c.cookie);
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_challenge_encode(&wr, &c));
    PT_EQ_INT(wr.off, PL_HS_CHALLENGE_LEN);
    PT_EQ_MEM(buf, want, PL_HS_CHALLENGE_LEN);
    PT_OK(pl_hs_challenge_decode(want, PL_HS_CHALLENGE_LEN, &d));
    PT_EQ_U64(d.client_id, c.client_id);
    PT_EQ_MEM(d.nonce, c.nonce, 8);
    PT_EQ_MEM(d.cookie, c.cookie, PL_COOKIE_LEN);
    check_fixed_size(want, PL_HS_CHALLENGE_LEN, decode_challenge);

    c.client_id = 0;
    PT_ERR(pl_hs_challenge_encode(&wr, &c), PARLEY_EINVAL);
    memset(want + 1, 0, 4);
    PT_ERR(pl_hs_challenge_decode(want, PL_HS_CHALLENGE_LEN, &d),
           PARLEY_EPROTO);
}

static pl_hs_accept
golden_accept(void)
{
    pl_hs_accept a;
    a.client_id = 0x0a0b0c0d;
    memcpy(a.nonce, g_nonce, 8);
    a.server_id = 0xcafef00d;
    a.mtu = 1400;
    a.channels = 4;
    a.max_message = 65536;
    a.flags = 0;
    return a;
}

PT_TEST(accept_golden)
{
    uint8_t want[64], buf[64];
    PT_EQ_INT(hex_to_bytes(HEX_ACCEPT, want, sizeof want), PL_HS_ACCEPT_LEN);
    pl_hs_accept a = golden_accept(), d;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_accept_encode(&wr, &a));
    PT_EQ_INT(wr.off, PL_HS_ACCEPT_LEN);
    PT_EQ_MEM(buf, want, PL_HS_ACCEPT_LEN);
    PT_OK(pl_hs_accept_decode(want, PL_HS_ACCEPT_LEN, &d));
    PT_EQ_U64(d.client_id, a.client_id);
    PT_EQ_MEM(d.nonce, a.nonce, 8);
    PT_EQ_U64(d.server_id, a.server_id);
    PT_EQ_INT(d.mtu, a.mtu);
    PT_EQ_INT(d.channels, a.channels);
    PT_EQ_U64(d.max_message, a.max_message);
    PT_EQ_U64(d.flags, a.flags);
    check_fixed_size(want, PL_HS_ACCEPT_LEN, decode_accept);
}

PT_TEST(accept_limits)
{
    uint8_t buf[64];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    pl_hs_accept a;
    a = golden_accept(), a.client_id = 0;
    PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_EINVAL);
    a = golden_accept(), a.server_id = 0;
    PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_EINVAL);
    a = golden_accept(), a.mtu = PL_MTU_MIN - 1;
    PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_EINVAL);
    a = golden_accept(), a.channels = 0;
    PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_EINVAL);
    a = golden_accept(), a.max_message = 0;
    PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_EINVAL);
    PT_EQ_INT(wr.off, 0);

    /* The same fields patched into the golden bytes are EPROTO.
       Offsets: server_id 13, mtu 17, channels 19, max_message 20. */
    static const struct {
        size_t at;
        const char *hex;
    } bad[] = {{1, "00000000"},
               {13, "00000000"},
               {17, "023f"},
               {19, "00"},
               {20, "00000000"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t pkt[64], p[4];
        hex_to_bytes(HEX_ACCEPT, pkt, sizeof pkt);
        size_t n = hex_to_bytes(bad[i].hex, p, sizeof p);
        memcpy(pkt + bad[i].at, p, n);
        PT_ERR(decode_accept(pkt, PL_HS_ACCEPT_LEN), PARLEY_EPROTO);
    }
    pl_wr_init(&wr, buf, PL_HS_ACCEPT_LEN - 1);
    a = golden_accept();
    PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, 0);
}

PT_TEST(reject_golden)
{
    uint8_t want[64], buf[64];
    PT_EQ_INT(hex_to_bytes(HEX_REJECT, want, sizeof want), PL_HS_REJECT_LEN);
    pl_hs_reject r, d;
    r.client_id = 0x0a0b0c0d;
    memcpy(r.nonce, g_nonce, 8);
    r.reason = PL_REJECT_APP;
    r.app_code = 42;
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_reject_encode(&wr, &r));
    PT_EQ_INT(wr.off, PL_HS_REJECT_LEN);
    PT_EQ_MEM(buf, want, PL_HS_REJECT_LEN);
    PT_OK(pl_hs_reject_decode(want, PL_HS_REJECT_LEN, &d));
    PT_EQ_U64(d.client_id, r.client_id);
    PT_EQ_MEM(d.nonce, r.nonce, 8);
    PT_EQ_INT(d.reason, PL_REJECT_APP);
    PT_EQ_U64(d.app_code, 42);
    check_fixed_size(want, PL_HS_REJECT_LEN, decode_reject);

    r.reason = 0;
    PT_ERR(pl_hs_reject_encode(&wr, &r), PARLEY_EINVAL);
    want[13] = 0;
    PT_ERR(decode_reject(want, PL_HS_REJECT_LEN), PARLEY_EPROTO);
    want[13] = 0x77; /* unknown nonzero reasons pass through */
    PT_OK(pl_hs_reject_decode(want, PL_HS_REJECT_LEN, &d));
    PT_EQ_INT(d.reason, 0x77);
}

/* ---- cookie ---------------------------------------------------------------
 */

PT_TEST(cookie_input_golden)
{
    uint8_t want[128], buf[PL_COOKIE_INPUT_MAX];
    size_t n = hex_to_bytes(HEX_COOKIE_INPUT_V4, want, sizeof want);
    PT_EQ_INT(n, 56);
    parley_addr a;
    PT_OK(parley_addr_parse("192.0.2.1:50000", 0, &a));
    pl_hs_connect c = golden_connect();
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_cookie_input(&wr, &a, &c, 0x65000000));
    PT_EQ_INT(wr.off, n);
    PT_EQ_MEM(buf, want, n);

    n = hex_to_bytes(HEX_COOKIE_INPUT_V6, want, sizeof want);
    PT_EQ_INT(n, 56);
    PT_OK(parley_addr_parse("[2001:db8::1]:443", 0, &a));
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_cookie_input(&wr, &a, &c, 0x65000000));
    PT_EQ_MEM(buf, want, n);

    /* The largest input fits PL_COOKIE_INPUT_MAX exactly. */
    static const uint8_t big[PL_HS_USER_MAX];
    c.user = big;
    c.user_len = PL_HS_USER_MAX;
    c.flags = PL_HS_FLAG_ENCRYPT | PL_HS_FLAG_PSK | PL_HS_FLAG_TOKEN |
              PL_HS_FLAG_PMTU;
    c.max_mtu = 65507;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_cookie_input(&wr, &a, &c, 0));
    PT_EQ_INT(wr.off, PL_COOKIE_INPUT_MAX);
    pl_wr_init(&wr, buf, sizeof buf - 1);
    PT_ERR(pl_hs_cookie_input(&wr, &a, &c, 0), PARLEY_ENOBUFS);
    PT_EQ_INT(wr.off, 0);

    memset(&a, 0, sizeof a); /* unspecified family */
    PT_ERR(pl_hs_cookie_input(&wr, &a, &c, 0), PARLEY_EINVAL);
    PT_ERR(pl_hs_cookie_input(&wr, NULL, &c, 0), PARLEY_EINVAL);
}

/* The golden cookie is time || crypto_auth(key 00..1f, cookie input): this
   pins the MAC construction a second implementation must reproduce. */
PT_TEST(cookie_mac_golden)
{
    uint8_t key[crypto_auth_KEYBYTES], in[PL_COOKIE_INPUT_MAX];
    uint8_t mac[crypto_auth_BYTES], cookie[PL_COOKIE_LEN];
    PT_EQ_INT(crypto_auth_BYTES, PL_COOKIE_MAC_LEN);
    PT_EQ_INT(sodium_init() >= 0, 1);
    for (size_t i = 0; i < sizeof key; i++) {
        key[i] = (uint8_t)i;
    }
    parley_addr a;
    PT_OK(parley_addr_parse("192.0.2.1:50000", 0, &a));
    pl_hs_connect c = golden_connect();
    pl_wr wr;
    pl_wr_init(&wr, in, sizeof in);
    PT_OK(pl_hs_cookie_input(&wr, &a, &c, 0x65000000));
    crypto_auth(mac, in, wr.off, key);
    golden_cookie(cookie);
    PT_EQ_U64(pl_hs_cookie_time(cookie), 0x65000000);
    PT_EQ_MEM(mac, cookie + 8, PL_COOKIE_MAC_LEN);
    PT_EQ_INT(crypto_auth_verify(cookie + 8, in, wr.off, key), 0);
}

/* A writer already in error is left alone by every packet encoder. */
PT_TEST(encoders_respect_sticky_error)
{
    uint8_t buf[PL_HANDSHAKE_MIN_SIZE], cookie[PL_COOKIE_LEN] = {0};
    pl_hs_connect c = golden_connect();
    pl_hs_challenge ch = {.client_id = 1};
    pl_hs_accept a = golden_accept();
    pl_hs_reject r = {.client_id = 1, .reason = 1};
    parley_addr addr;
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 1, &addr));
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    wr.err = PARLEY_ERANGE;
    PT_ERR(pl_data_hdr_encode(&wr, 1, 1), PARLEY_ERANGE);
    PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_ERANGE);
    PT_ERR(pl_hs_response_encode(&wr, &c, cookie), PARLEY_ERANGE);
    PT_ERR(pl_hs_challenge_encode(&wr, &ch), PARLEY_ERANGE);
    PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_ERANGE);
    PT_ERR(pl_hs_reject_encode(&wr, &r), PARLEY_ERANGE);
    PT_ERR(pl_hs_cookie_input(&wr, &addr, &c, 0), PARLEY_ERANGE);
    PT_EQ_INT(wr.off, 0);
    PT_EQ_INT(wr.err, PARLEY_ERANGE);

    pl_wr_init(&wr, buf, sizeof buf);
    c.user = NULL;
    PT_ERR(pl_hs_cookie_input(&wr, &addr, &c, 0), PARLEY_EINVAL);
    PT_ERR(pl_hs_response_decode(buf, sizeof buf, &c, NULL), PARLEY_EINVAL);
}

// clang-format off
/* ---- the security extension (PROTOCOL.md 13) ---- */

static void
golden_client_pk(uint8_t pk[32])
{
    PT_EQ_INT(hex_to_bytes(HEX_X25519_CLIENT_PK, pk, 32), 32);
}

/* Encodes c and compares with the n golden bytes of hex, then decodes. */
static void
check_connect_ext(const pl_hs_connect *c, const char *hex, size_t n)
{
    uint8_t want[128], buf[PL_HANDSHAKE_MIN_SIZE];
    PT_EQ_INT(hex_to_bytes(hex, want, sizeof want), n);
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, c));
    PT_EQ_INT(wr.off, PL_HANDSHAKE_MIN_SIZE);
    PT_EQ_MEM(buf, want, n);
    for (size_t i = n; i < PL_HANDSHAKE_MIN_SIZE; i++) {
        PT_EQ_INT(buf[i], 0);
    }
    pl_hs_connect d;
    memset(&d, 0, sizeof d);
    PT_OK(pl_hs_connect_decode(buf, wr.off, &d));
    check_connect_eq(&d, c);
    PT_EQ_MEM(d.pk, c->pk, 32);
    PT_EQ_MEM(d.psk_mac, c->psk_mac, 16);
    /* The cookie covers the extension too. */
    uint8_t in[PL_COOKIE_INPUT_MAX];
    parley_addr a;
    PT_OK(parley_addr_parse("192.0.2.1:50000", 0, &a));
    pl_wr_init(&wr, in, sizeof in);
    PT_OK(pl_hs_cookie_input(&wr, &a, c, 1));
    PT_EQ_INT(wr.off, 51 + c->user_len + pl_hs_ext_len(c->flags));
    PT_EQ_MEM(in + 56, buf + 37, pl_hs_ext_len(c->flags));
}

PT_TEST(connect_with_key_share_golden)
{
    pl_hs_connect c = golden_connect();
    c.flags = PL_HS_FLAG_ENCRYPT;
    golden_client_pk(c.pk);
    check_connect_ext(&c, HEX_CONNECT_ENC, 69);
    c.flags |= PL_HS_FLAG_PSK;
    PT_EQ_INT(hex_to_bytes(HEX_PSK_MAC, c.psk_mac, 16), 16);
    check_connect_ext(&c, HEX_CONNECT_PSK, 85);
    /* A token rides after the PSK proof. */
    c.flags |= PL_HS_FLAG_TOKEN | PL_HS_FLAG_IDENTITY;
    PT_EQ_INT(hex_to_bytes(HEX_TOKEN, c.token, 80), 80);
    uint8_t buf[PL_HANDSHAKE_MIN_SIZE];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_connect_encode(&wr, &c));
    pl_hs_connect d;
    PT_OK(pl_hs_connect_decode(buf, wr.off, &d));
    PT_EQ_MEM(d.token, c.token, 80);
    PT_EQ_MEM(buf + 85, c.token, 80);
    PT_EQ_U64(d.flags, 0xf);
}

PT_TEST(security_flags_need_encryption)
{
    static const uint32_t bad[] = {PL_HS_FLAG_PSK, PL_HS_FLAG_TOKEN,
                                   PL_HS_FLAG_IDENTITY};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pl_hs_connect c = golden_connect(), d;
        c.flags = bad[i];
        uint8_t buf[PL_HANDSHAKE_MIN_SIZE];
        pl_wr wr;
        pl_wr_init(&wr, buf, sizeof buf);
        PT_ERR(pl_hs_connect_encode(&wr, &c), PARLEY_EINVAL);
        c.flags = 0;
        PT_OK(pl_hs_connect_encode(&wr, &c));
        buf[29] = (uint8_t)bad[i]; /* flags' low byte */
        PT_ERR(pl_hs_connect_decode(buf, wr.off, &d), PARLEY_EPROTO);
        pl_hs_accept a = golden_accept();
        a.flags = bad[i];
        pl_wr_init(&wr, buf, sizeof buf);
        PT_ERR(pl_hs_accept_encode(&wr, &a), PARLEY_EINVAL);
    }
}

/* Encodes, compares, decodes; every cut is ETRUNC, a longer one EPROTO. */
static void
check_accept_ext(const char *hex, size_t n, uint32_t flags)
{
    uint8_t want[PL_HS_ACCEPT_MAX_LEN + 1], buf[PL_HS_ACCEPT_MAX_LEN + 1];
    PT_EQ_INT(hex_to_bytes(hex, want, sizeof want), n);
    PT_EQ_INT(pl_hs_accept_len(flags), n);
    pl_hs_accept a;
    PT_OK(pl_hs_accept_decode(want, n, &a));
    PT_EQ_U64(a.flags, flags);
    PT_EQ_U64(a.server_id, 0xcafef00d);
    uint8_t pk[32];
    PT_EQ_INT(hex_to_bytes(HEX_X25519_SERVER_PK, pk, 32), 32);
    PT_EQ_MEM(a.pk, pk, 32);
    PT_EQ_MEM(a.confirm, want + 60, 16);
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_hs_accept_encode(&wr, &a));
    PT_EQ_INT(wr.off, n);
    PT_EQ_MEM(buf, want, n);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = exact_copy(want, cut);
        PT_ERR(decode_accept(p, cut), PARLEY_ETRUNC);
        free(p);
    }
    want[n] = 0;
    PT_ERR(decode_accept(want, n + 1), PARLEY_EPROTO);
}

PT_TEST(accept_with_key_share_golden)
{
    check_accept_ext(HEX_ACCEPT_ENC, PL_HS_ACCEPT_ENC_LEN, PL_HS_FLAG_ENCRYPT);
    check_accept_ext(HEX_ACCEPT_ID, PL_HS_ACCEPT_ENC_LEN + PL_HS_SIG_LEN,
                     PL_HS_FLAG_ENCRYPT | PL_HS_FLAG_IDENTITY);
    /* The reply stays far smaller than the 1200-byte request. */
    PT_LT_INT(PL_HS_ACCEPT_MAX_LEN * 8, PL_HANDSHAKE_MIN_SIZE);
}

PT_MAIN(
    PT_RUN(packet_type_every_byte)
    PT_RUN(data_header_golden)
    PT_RUN(data_header_errors)
    PT_RUN(pn_expand_table)
    PT_RUN(pn_expand_random)
    PT_RUN(connect_golden)
    PT_RUN(connect_with_key_share_golden)
    PT_RUN(security_flags_need_encryption)
    PT_RUN(accept_with_key_share_golden)
    PT_RUN(connect_pmtu_golden)
    PT_RUN(accept_pmtu_golden)
    PT_RUN(connect_no_user_data)
    PT_RUN(connect_decode_rejects_bad_fields)
    PT_RUN(connect_other_version)
    PT_RUN(connect_encode_errors)
    PT_RUN(response_golden)
    PT_RUN(challenge_golden)
    PT_RUN(accept_golden)
    PT_RUN(accept_limits)
    PT_RUN(reject_golden)
    PT_RUN(cookie_input_golden)
    PT_RUN(cookie_mac_golden)
    PT_RUN(encoders_respect_sticky_error))
// clang-format on
