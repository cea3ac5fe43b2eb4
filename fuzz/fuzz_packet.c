/*
 * Fuzz target: a whole UDP datagram through every packet decoder (DATA
 * header and all its frames, the five handshake packets). Whatever decodes
 * is encoded again and must give the same values (for fixed-size packets,
 * the same bytes). Also checks packet-number expansion on the input.
 */
#include "wire_check.h"

static void
check_connect_equal(const pl_hs_connect *a, const pl_hs_connect *b)
{
    FUZZ_CHECK(a->version == b->version && a->client_id == b->client_id);
    FUZZ_CHECK(memcmp(a->nonce, b->nonce, 8) == 0);
    FUZZ_CHECK(a->mtu == b->mtu && a->channels == b->channels);
    FUZZ_CHECK(a->max_message == b->max_message && a->flags == b->flags);
    FUZZ_CHECK(a->user_len == b->user_len);
    FUZZ_CHECK(a->user_len == 0 || memcmp(a->user, b->user, a->user_len) == 0);
}

/* CONNECT or RESPONSE: re-encode, compare the values and the meaningful
   bytes (everything before the padding is canonical). */
static void
check_connect(const uint8_t *data, size_t size, int response)
{
    pl_hs_connect c, d;
    uint8_t cookie[PL_COOKIE_LEN], cookie2[PL_COOKIE_LEN];
    int rc = response ? pl_hs_response_decode(data, size, &c, cookie)
                      : pl_hs_connect_decode(data, size, &c);
    if (rc == PARLEY_EVERSION) {
        FUZZ_CHECK(c.version != PL_PROTO_VERSION && c.client_id != 0);
        return;
    }
    if (rc != PARLEY_OK) {
        return;
    }
    FUZZ_CHECK(size >= PL_HANDSHAKE_MIN_SIZE);
    static uint8_t buf[PL_HANDSHAKE_MIN_SIZE];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    FUZZ_CHECK((response ? pl_hs_response_encode(&wr, &c, cookie)
                         : pl_hs_connect_encode(&wr, &c)) == PARLEY_OK);
    FUZZ_CHECK(wr.off == PL_HANDSHAKE_MIN_SIZE);
    size_t meaningful = 32 + c.user_len + (response ? PL_COOKIE_LEN : 0);
    FUZZ_CHECK(memcmp(buf, data, meaningful) == 0);
    rc = response ? pl_hs_response_decode(buf, wr.off, &d, cookie2)
                  : pl_hs_connect_decode(buf, wr.off, &d);
    FUZZ_CHECK(rc == PARLEY_OK);
    check_connect_equal(&c, &d);
    FUZZ_CHECK(!response || memcmp(cookie, cookie2, PL_COOKIE_LEN) == 0);

    uint8_t in[PL_COOKIE_INPUT_MAX];
    parley_addr a;
    memset(&a, 0, sizeof a);
    a.family = PARLEY_AF_INET;
    pl_wr_init(&wr, in, sizeof in);
    FUZZ_CHECK(pl_hs_cookie_input(&wr, &a, &c, 1) == PARLEY_OK);
    FUZZ_CHECK(wr.off == 51 + (size_t)c.user_len + pl_hs_ext_len(c.flags));
}

/* CHALLENGE, ACCEPT, REJECT are fixed-size: re-encoding gives the input. */
static void
check_reply(const uint8_t *data, size_t size)
{
    uint8_t buf[PL_HS_ACCEPT_MAX_LEN];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    pl_hs_challenge ch;
    pl_hs_accept ac;
    pl_hs_reject rj;
    int enc = -1;
    if (pl_hs_challenge_decode(data, size, &ch) == PARLEY_OK) {
        enc = pl_hs_challenge_encode(&wr, &ch);
    } else if (pl_hs_accept_decode(data, size, &ac) == PARLEY_OK) {
        enc = pl_hs_accept_encode(&wr, &ac);
    } else if (pl_hs_reject_decode(data, size, &rj) == PARLEY_OK) {
        enc = pl_hs_reject_encode(&wr, &rj);
    } else {
        return;
    }
    FUZZ_CHECK(enc == PARLEY_OK);
    FUZZ_CHECK(wr.off == size && memcmp(buf, data, size) == 0);
}

static void
check_data(const uint8_t *data, size_t size)
{
    uint32_t id, pn;
    if (pl_data_hdr_decode(data, size, &id, &pn) != PARLEY_OK) {
        FUZZ_CHECK(size < PL_DATA_HDR_LEN || data[0] != PL_PKT_DATA ||
                   (data[1] | data[2] | data[3] | data[4]) == 0);
        return;
    }
    uint8_t hdr[PL_DATA_HDR_LEN];
    pl_wr wr;
    pl_wr_init(&wr, hdr, sizeof hdr);
    FUZZ_CHECK(pl_data_hdr_encode(&wr, id, pn) == PARLEY_OK);
    FUZZ_CHECK(memcmp(hdr, data, PL_DATA_HDR_LEN) == 0);
    check_frames(data + PL_DATA_HDR_LEN, size - PL_DATA_HDR_LEN);
}

/* The expansion recovers the truncated bits, stays below 2^62 and lands
   in the window around largest + 1. */
static void
check_pn_expand(const uint8_t *data, size_t size)
{
    if (size < 12) {
        return;
    }
    pl_rd rd;
    pl_rd_init(&rd, data + size - 12, 12);
    uint64_t largest = pl_rd_u64(&rd);
    uint32_t trunc = pl_rd_u32(&rd);
    largest = (largest >> 63) ? UINT64_MAX : largest % (PL_PN_MAX + 1);
    uint64_t r = pl_pn_expand(largest, trunc);
    uint64_t e = largest + 1, h = UINT64_C(1) << 31;
    FUZZ_CHECK((uint32_t)r == trunc && r <= PL_PN_MAX);
    if (largest != UINT64_MAX && e >= h &&
        e + h + (UINT64_C(1) << 32) <= PL_PN_MAX) {
        FUZZ_CHECK(r <= e + h && r + h > e);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int type = pl_pkt_type(data, size);
    if (type == PL_PKT_DATA) {
        check_data(data, size);
    }
    /* Every decoder sees every input: the wrong type must fail safely. */
    check_connect(data, size, 0);
    check_connect(data, size, 1);
    check_reply(data, size);
    if (type < 0) {
        uint32_t id, pn;
        FUZZ_CHECK(pl_data_hdr_decode(data, size, &id, &pn) != PARLEY_OK);
    }
    check_pn_expand(data, size);
    return 0;
}
