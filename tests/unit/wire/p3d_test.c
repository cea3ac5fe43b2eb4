/*
 * Panda3D framing (src/wire/p3d.c): golden length headers (2 and 4 bytes,
 * little-endian, payload bytes only), the deframer fed whole, byte by
 * byte and at random split points, its limits and memory, raw mode, and
 * the UDP checksum form.
 */
#include "pt.h"

#include "parley/error.h"
#include "util/alloc.h"
#include "util/rng.h"
#include "wire/p3d.h"

/* Collected output of a deframer run. */
#define MAX_OUT 4096
typedef struct outv {
    size_t n;
    size_t len[MAX_OUT];
    uint8_t *data[MAX_OUT];
    int err;
} outv;

static void
outv_free(outv *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->data[i]);
    }
    o->n = 0;
}

/* Feeds in[0..len) in one call sequence, keeping every datagram. */
static void
feed_all(pl_p3d_deframer *df, const uint8_t *in, size_t len, outv *o)
{
    size_t off = 0;
    while (off < len) {
        const uint8_t *dg = NULL;
        size_t dglen = 0, used = 0;
        int rc = pl_p3d_deframe(df, in + off, len - off, &used, &dg, &dglen);
        if (rc < 0) {
            o->err = rc;
            return;
        }
        size_t before = off;
        off += used;
        if (rc == PL_P3D_DATAGRAM) {
            if (o->n == MAX_OUT) {
                o->err = PARLEY_EFULL;
                return;
            }
            o->data[o->n] = malloc(dglen ? dglen : 1);
            memcpy(o->data[o->n], dg, dglen);
            o->len[o->n++] = dglen;
        } else if (used != len - before) {
            o->err = PARLEY_EIO; /* MORE must consume everything */
            return;
        }
    }
}

static size_t
unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        int v;
        char ch = *hex;
        if (ch >= '0' && ch <= '9') {
            v = ch - '0';
        } else if (ch >= 'a' && ch <= 'f') {
            v = ch - 'a' + 10;
        } else {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

PT_TEST(header_golden_bytes)
{
    uint8_t h[4];
    size_t n = 9;
    PT_OK(pl_p3d_header(PL_P3D_HDR2, 5, h, &n));
    PT_EQ_INT(n, 2);
    PT_EQ_MEM(h, "\x05\x00", 2);
    PT_OK(pl_p3d_header(PL_P3D_HDR2, 0x1234, h, &n));
    PT_EQ_MEM(h, "\x34\x12", 2);
    PT_OK(pl_p3d_header(PL_P3D_HDR2, 27, h, &n)); /* PROTOCOL.md message */
    PT_EQ_MEM(h, "\x1b\x00", 2);
    PT_OK(pl_p3d_header(PL_P3D_HDR2, 0xffff, h, &n));
    PT_EQ_MEM(h, "\xff\xff", 2);
    PT_OK(pl_p3d_header(PL_P3D_HDR4, 0x12345678, h, &n));
    PT_EQ_INT(n, 4);
    PT_EQ_MEM(h, "\x78\x56\x34\x12", 4);
    PT_OK(pl_p3d_header(PL_P3D_HDR4, 0, h, &n));
    PT_EQ_MEM(h, "\x00\x00\x00\x00", 4);
    PT_OK(pl_p3d_header(PL_P3D_RAW, 1000, h, &n));
    PT_EQ_INT(n, 0);
    PT_ERR(pl_p3d_header(PL_P3D_HDR2, 0x10000, h, &n), PARLEY_EMSGSIZE);
    PT_ERR(pl_p3d_header(PL_P3D_HDR4, 0x80000000u, h, &n), PARLEY_EMSGSIZE);
    PT_ERR(pl_p3d_header(3, 1, h, &n), PARLEY_EINVAL);
}

/* Three datagrams ("hello", empty, "abc") with a 2-byte header. */
static const char *const stream2 = "0500 68656c6c6f 0000 0300 616263";
/* The same with a 4-byte header. */
static const char *const stream4 =
    "05000000 68656c6c6f 00000000 03000000 616263";

static void
check_three(const outv *o)
{
    PT_EQ_INT(o->err, 0);
    PT_EQ_INT(o->n, 3);
    PT_EQ_INT(o->len[0], 5);
    PT_EQ_MEM(o->data[0], "hello", 5);
    PT_EQ_INT(o->len[1], 0);
    PT_EQ_INT(o->len[2], 3);
    PT_EQ_MEM(o->data[2], "abc", 3);
}

PT_TEST(deframe_golden_2_and_4)
{
    uint8_t buf[64];
    pl_p3d_deframer df;
    outv o = {0};
    size_t n = unhex(stream2, buf);
    PT_EQ_INT(n, 14);
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR2, 65535));
    feed_all(&df, buf, n, &o);
    check_three(&o);
    PT_EQ_INT(pl_p3d_deframer_partial(&df), 0);
    outv_free(&o);
    pl_p3d_deframer_free(&df);

    n = unhex(stream4, buf);
    PT_EQ_INT(n, 20);
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR4, 65535));
    feed_all(&df, buf, n, &o);
    check_three(&o);
    outv_free(&o);
    pl_p3d_deframer_free(&df);
}

PT_TEST(deframe_byte_by_byte)
{
    uint8_t buf[64];
    const char *streams[2] = {stream2, stream4};
    int sizes[2] = {PL_P3D_HDR2, PL_P3D_HDR4};
    for (int s = 0; s < 2; s++) {
        pl_p3d_deframer df;
        outv o = {0};
        size_t n = unhex(streams[s], buf);
        PT_OK(pl_p3d_deframer_init(&df, sizes[s], 100));
        for (size_t i = 0; i < n; i++) {
            uint8_t *one = malloc(1); /* exact size: ASan sees over-reads */
            one[0] = buf[i];
            feed_all(&df, one, 1, &o);
            free(one);
            /* Mid-stream the deframer holds a partial datagram exactly
               when the byte was not the last of one. */
        }
        check_three(&o);
        outv_free(&o);
        pl_p3d_deframer_free(&df);
    }
}

PT_TEST(partial_state_is_reported)
{
    pl_p3d_deframer df;
    const uint8_t *dg;
    size_t used, len;
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR2, 100));
    PT_EQ_INT(pl_p3d_deframe(&df, (const uint8_t *)"\x03", 1, &used, &dg, &len),
              PL_P3D_MORE);
    PT_EQ_INT(used, 1);
    PT_EQ_INT(pl_p3d_deframer_partial(&df), 1);
    /* A header change mid-datagram is refused and changes nothing. */
    PT_ERR(pl_p3d_deframer_set(&df, PL_P3D_HDR4, 100), PARLEY_ESTATE);
    PT_EQ_INT(pl_p3d_deframe(&df,
                             (const uint8_t *)"\x00"
                                              "ab",
                             3, &used, &dg, &len),
              PL_P3D_MORE);
    PT_EQ_INT(used, 3);
    PT_EQ_INT(pl_p3d_deframe(&df, (const uint8_t *)"cXY", 3, &used, &dg, &len),
              PL_P3D_DATAGRAM);
    PT_EQ_INT(used, 1); /* stops at the datagram's end */
    PT_EQ_INT(len, 3);
    PT_EQ_MEM(dg, "abc", 3);
    PT_EQ_INT(pl_p3d_deframer_partial(&df), 0);
    PT_OK(pl_p3d_deframer_set(&df, PL_P3D_HDR4, 100));
    pl_p3d_deframer_free(&df);
}

PT_TEST(whole_datagram_is_not_copied)
{
    uint8_t in[] = {0x02, 0x00, 'h', 'i', 0x01, 0x00};
    pl_p3d_deframer df;
    const uint8_t *dg = NULL;
    size_t used, len;
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR2, 100));
    PT_EQ_INT(pl_p3d_deframe(&df, in, sizeof in, &used, &dg, &len),
              PL_P3D_DATAGRAM);
    PT_EQ_INT(used, 4);
    PT_TRUE(dg == in + 2);
    PT_TRUE(df.buf == NULL);
    pl_p3d_deframer_free(&df);
}

/* Random datagrams, framed, cut at random points: the same come out. */
static void
random_splits(int hsize, uint64_t seed)
{
    pl_rng rng;
    pl_rng_seed(&rng, seed);
    enum { N = 300 };
    size_t lens[N];
    size_t total = 0;
    for (size_t i = 0; i < N; i++) {
        uint32_t r = (uint32_t)pl_rng_next(&rng);
        lens[i] = r % 16 == 0 ? r % 5000 : r % 300;
        total += lens[i] + (size_t)hsize;
    }
    uint8_t *stream = malloc(total);
    size_t off = 0;
    for (size_t i = 0; i < N; i++) {
        size_t hl;
        pl_p3d_header(hsize, lens[i], stream + off, &hl);
        off += hl;
        for (size_t k = 0; k < lens[i]; k++) {
            stream[off++] = (uint8_t)(i * 7 + k);
        }
    }
    pl_p3d_deframer df;
    outv *o = calloc(1, sizeof *o);
    PT_OK(pl_p3d_deframer_init(&df, hsize, 5000));
    for (off = 0; off < total;) {
        size_t cut = 1 + (uint32_t)pl_rng_next(&rng) % 700;
        if (cut > total - off) {
            cut = total - off;
        }
        uint8_t *piece = malloc(cut);
        memcpy(piece, stream + off, cut);
        feed_all(&df, piece, cut, o);
        free(piece);
        off += cut;
    }
    int ok = o->err == 0 && o->n == N;
    for (size_t i = 0; ok && i < N; i++) {
        ok = o->len[i] == lens[i];
        for (size_t k = 0; ok && k < lens[i]; k++) {
            ok = o->data[i][k] == (uint8_t)(i * 7 + k);
        }
    }
    outv_free(o);
    free(o);
    free(stream);
    pl_p3d_deframer_free(&df);
    PT_TRUE(ok);
}

PT_TEST(random_split_points)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        pt_seed(seed);
        random_splits(PL_P3D_HDR2, seed);
        random_splits(PL_P3D_HDR4, seed * 1000);
    }
}

PT_TEST(oversize_announcement_is_an_error_without_memory)
{
    pl_p3d_deframer df;
    const uint8_t *dg;
    size_t used = 99, len;
    int64_t live = pl_alloc_live();
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR4, 1000));
    /* 0x7fffffff announced: refused at once, nothing allocated. */
    PT_ERR(pl_p3d_deframe(&df, (const uint8_t *)"\xff\xff\xff\x7f", 4, &used,
                          &dg, &len),
           PARLEY_EMSGSIZE);
    PT_EQ_INT(used, 0);
    PT_EQ_INT(pl_alloc_live(), live);
    /* Sticky: the stream is out of step for good. */
    PT_ERR(pl_p3d_deframe(&df, (const uint8_t *)"\x01\x00\x00\x00x", 5, &used,
                          &dg, &len),
           PARLEY_EMSGSIZE);
    pl_p3d_deframer_free(&df);

    /* One over the limit with a 2-byte header; the limit itself passes. */
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR2, 3));
    PT_EQ_INT(pl_p3d_deframe(&df, (const uint8_t *)"\x03\x00xyz", 5, &used, &dg,
                             &len),
              PL_P3D_DATAGRAM);
    PT_ERR(
        pl_p3d_deframe(&df, (const uint8_t *)"\x04\x00", 2, &used, &dg, &len),
        PARLEY_EMSGSIZE);
    pl_p3d_deframer_free(&df);
}

PT_TEST(memory_follows_bytes_not_announcements)
{
    pl_p3d_deframer df;
    const uint8_t *dg;
    size_t used, len;
    uint8_t body[10] = {0};
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR2, 65535));
    PT_EQ_INT(
        pl_p3d_deframe(&df, (const uint8_t *)"\x60\xea", 2, &used, &dg, &len),
        PL_P3D_MORE); /* 60000 announced */
    PT_TRUE(df.buf == NULL);
    PT_EQ_INT(pl_p3d_deframe(&df, body, sizeof body, &used, &dg, &len),
              PL_P3D_MORE);
    PT_LE_U64(df.cap, 256);
    pl_p3d_deframer_free(&df);
}

PT_TEST(allocation_failure_is_an_error)
{
    pl_p3d_deframer df;
    const uint8_t *dg;
    size_t used, len;
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_HDR2, 100));
    PT_EQ_INT(
        pl_p3d_deframe(&df, (const uint8_t *)"\x05\x00", 2, &used, &dg, &len),
        PL_P3D_MORE);
    pl_alloc_fail_nth(1);
    PT_ERR(pl_p3d_deframe(&df, (const uint8_t *)"ab", 2, &used, &dg, &len),
           PARLEY_ENOMEM);
    pl_alloc_fail_nth(0);
    pl_p3d_deframer_free(&df);
}

PT_TEST(raw_mode_passes_pieces)
{
    pl_p3d_deframer df;
    const uint8_t *dg;
    size_t used, len;
    const uint8_t in[] = "abcdefg";
    PT_OK(pl_p3d_deframer_init(&df, PL_P3D_RAW, 4));
    PT_EQ_INT(pl_p3d_deframe(&df, in, 7, &used, &dg, &len), PL_P3D_DATAGRAM);
    PT_EQ_INT(used, 4);
    PT_EQ_INT(len, 4);
    PT_TRUE(dg == in);
    PT_EQ_INT(pl_p3d_deframe(&df, in + 4, 3, &used, &dg, &len),
              PL_P3D_DATAGRAM);
    PT_EQ_INT(len, 3);
    PT_EQ_MEM(dg, "efg", 3);
    PT_EQ_INT(pl_p3d_deframe(&df, in, 0, &used, &dg, &len), PL_P3D_MORE);
    pl_p3d_deframer_free(&df);
}

PT_TEST(bad_arguments)
{
    pl_p3d_deframer df;
    const uint8_t *dg;
    size_t used, len;
    PT_ERR(pl_p3d_deframer_init(&df, 1, 10), PARLEY_EINVAL);
    PT_ERR(pl_p3d_deframer_init(&df, 2, 0), PARLEY_EINVAL);
    PT_OK(pl_p3d_deframer_init(&df, 2, 10));
    PT_ERR(pl_p3d_deframe(&df, NULL, 3, &used, &dg, &len), PARLEY_EINVAL);
    PT_EQ_INT(pl_p3d_deframe(&df, NULL, 0, &used, &dg, &len), PL_P3D_MORE);
    PT_EQ_INT(pl_p3d_header_limit(PL_P3D_HDR2), 65535);
    PT_EQ_U64(pl_p3d_header_limit(PL_P3D_HDR4), 0x7fffffffu);
}

PT_TEST(udp_checksum_golden)
{
    uint8_t out[2 + PL_P3D_UDP_MAX];
    uint8_t big[300];
    size_t n = 0;
    /* "hello": 0x68+0x65+0x6c+0x6c+0x6f = 0x0214, little-endian. */
    PT_EQ_INT(pl_p3d_checksum("hello", 5), 0x0214);
    PT_OK(pl_p3d_udp_encode(0, "hello", 5, out, sizeof out, &n));
    PT_EQ_INT(n, 7);
    PT_EQ_MEM(out, "\x14\x02hello", 7);
    /* The sum wraps at 65536: 300 * 0xff = 0x12ad4 -> 0x2ad4. */
    memset(big, 0xff, sizeof big);
    PT_EQ_INT(pl_p3d_checksum(big, sizeof big), 0x2ad4);
    PT_OK(pl_p3d_udp_encode(0, big, sizeof big, out, sizeof out, &n));
    PT_EQ_MEM(out, "\xd4\x2a", 2);
    /* Empty payload: header 00 00. */
    PT_OK(pl_p3d_udp_encode(0, NULL, 0, out, sizeof out, &n));
    PT_EQ_INT(n, 2);
    PT_EQ_MEM(out, "\x00\x00", 2);
    /* Raw: the payload alone. */
    PT_OK(pl_p3d_udp_encode(1, "hi", 2, out, sizeof out, &n));
    PT_EQ_INT(n, 2);
    PT_EQ_MEM(out, "hi", 2);
}

PT_TEST(udp_limits_and_decode)
{
    static uint8_t big[PL_P3D_UDP_MAX + 1];
    uint8_t out[2 + PL_P3D_UDP_MAX];
    const uint8_t *p;
    size_t n = 0, plen = 0;
    PT_OK(pl_p3d_udp_encode(0, big, PL_P3D_UDP_MAX, out, sizeof out, &n));
    PT_ERR(pl_p3d_udp_encode(0, big, PL_P3D_UDP_MAX + 1, out, sizeof out, &n),
           PARLEY_EMSGSIZE);
    PT_ERR(pl_p3d_udp_encode(0, "abc", 3, out, 4, &n), PARLEY_ENOBUFS);

    const uint8_t good[] = {0x14, 0x02, 'h', 'e', 'l', 'l', 'o'};
    PT_OK(pl_p3d_udp_decode(0, good, sizeof good, &p, &plen));
    PT_EQ_INT(plen, 5);
    PT_TRUE(p == good + 2);
    const uint8_t bad[] = {0x15, 0x02, 'h', 'e', 'l', 'l', 'o'};
    PT_ERR(pl_p3d_udp_decode(0, bad, sizeof bad, &p, &plen), PARLEY_EPROTO);
    PT_ERR(pl_p3d_udp_decode(0, good, 1, &p, &plen), PARLEY_ETRUNC);
    PT_OK(pl_p3d_udp_decode(1, good, 1, &p, &plen));
    PT_EQ_INT(plen, 1);
}

PT_MAIN(PT_RUN(header_golden_bytes) PT_RUN(deframe_golden_2_and_4)
            PT_RUN(deframe_byte_by_byte) PT_RUN(partial_state_is_reported)
                PT_RUN(whole_datagram_is_not_copied) PT_RUN(random_split_points)
                    PT_RUN(oversize_announcement_is_an_error_without_memory)
                        PT_RUN(memory_follows_bytes_not_announcements)
                            PT_RUN(allocation_failure_is_an_error)
                                PT_RUN(raw_mode_passes_pieces)
                                    PT_RUN(bad_arguments)
                                        PT_RUN(udp_checksum_golden)
                                            PT_RUN(udp_limits_and_decode))
