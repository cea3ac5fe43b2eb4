/*
 * The session messages inside a transport message: byte-exact layouts
 * (the vectors in docs/PROTOCOL.md), round trips, and every malformed
 * form a receiver must refuse.
 */
#include "pt.h"

#include "parley/parley.h"
#include "parley/payload.h"
#include "payload/evmsg.h"

static size_t
unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;

    while (hex[0] && n < cap) {
        unsigned v;
        if (hex[0] == ' ') {
            hex++;
            continue;
        }
        sscanf(hex, "%2x", &v);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

static void
expect_encoding(const pl_evmsg *m, const char *hex)
{
    uint8_t buf[512], want[512];
    size_t wn = unhex(hex, want, sizeof want);
    pl_wr w;

    pl_wr_init(&w, buf, sizeof buf);
    PT_OK(pl_evmsg_encode(&w, m));
    PT_EQ_INT(w.off, wn);
    PT_EQ_INT(pl_evmsg_size(m), wn);
    PT_EQ_MEM(buf, want, wn);
}

/* The vectors of docs/PROTOCOL.md, section "Events and payloads". */
PT_TEST(golden_vectors)
{
    pl_evmsg m;
    static const uint8_t payload[] = {0x92, 0x91, 0xa2, 'h', 'i', 0x80};

    memset(&m, 0, sizeof m);
    m.kind = PL_EV_HELLO;
    m.version = 1;
    m.name = "alice";
    m.name_len = 5;
    expect_encoding(&m, "01 01 05 616c696365");

    memset(&m, 0, sizeof m);
    m.kind = PL_EV_WELCOME;
    m.version = 1;
    m.name = "alice-2";
    m.name_len = 7;
    m.sender = "relay";
    m.sender_len = 5;
    expect_encoding(&m, "02 01 07 616c6963652d32 05 72656c6179");

    /* "chat" sent to all, first use: announced inline. */
    memset(&m, 0, sizeof m);
    m.kind = PL_EV_EVENT;
    m.flags = PL_EVF_NAME | PL_EVF_ALL;
    m.id = parley_event_id("chat");
    m.name = "chat";
    m.name_len = 4;
    m.payload = payload;
    m.payload_len = sizeof payload;
    expect_encoding(&m, "03 05 f2a38d910b5b348b 04 63686174 9291a2686980");

    /* The relay's copy to another client: name known there already,
       sender "alice". */
    m.flags = PL_EVF_SENDER;
    m.sender = "alice";
    m.sender_len = 5;
    expect_encoding(&m, "03 02 f2a38d910b5b348b 05 616c696365 9291a2686980");

    memset(&m, 0, sizeof m);
    m.kind = PL_EV_ANNOUNCE;
    m.id = parley_event_id("pose");
    m.name = "pose";
    m.name_len = 4;
    expect_encoding(&m, "04 8c2fd80da8957064 04 706f7365");

    memset(&m, 0, sizeof m);
    m.kind = PL_EV_BYE;
    m.code = PL_BYE_KICKED;
    m.sender = "too slow";
    m.sender_len = 8;
    expect_encoding(&m, "05 02 08 746f6f20736c6f77");
}

PT_TEST(decode_event)
{
    uint8_t buf[64];
    size_t n = unhex("03 03 f2a38d910b5b348b 04 63686174 05 616c696365 "
                     "9291a2686980",
                     buf, sizeof buf);
    pl_evmsg m;

    /* NAME|SENDER together are fine (a relayed first use). */
    PT_OK(pl_evmsg_decode(buf, n, &m));
    PT_EQ_INT(m.kind, PL_EV_EVENT);
    PT_EQ_U64(m.id, parley_event_id("chat"));
    PT_EQ_INT(m.name_len, 4);
    PT_EQ_MEM(m.name, "chat", 4);
    PT_EQ_INT(m.sender_len, 5);
    PT_EQ_MEM(m.sender, "alice", 5);
    PT_EQ_INT(m.payload_len, 6);
    PT_TRUE(m.payload == buf + n - 6);
    for (size_t cut = 0; cut < 1 + 1 + 8 + 1 + 4 + 1 + 5; cut++) {
        PT_ERR(pl_evmsg_decode(buf, cut, &m), PARLEY_EPROTO);
    }
}

static void
expect_bad(const char *hex)
{
    uint8_t buf[300];
    size_t n = unhex(hex, buf, sizeof buf);
    pl_evmsg m;

    if (pl_evmsg_decode(buf, n, &m) != PARLEY_EPROTO) {
        PT_FAIL_("accepted %s", hex);
    }
}

PT_TEST(malformed)
{
    expect_bad("");
    expect_bad("00");
    expect_bad("06 00");
    expect_bad("01 01 05 616c6963"); /* name cut short */
    expect_bad("01 01 03 61 0a 62"); /* control character */
    expect_bad("01 01 02 c3 28");    /* invalid UTF-8 */
    expect_bad("01 01 41"
               "6161616161616161616161616161616161616161616161616161"
               "6161616161616161616161616161616161616161616161616161616161"
               "61616161616161616161616161616161616161616161"); /* 65 */
    expect_bad("02 01 00 00");                         /* empty assigned name */
    expect_bad("03 08 f2a38d910b5b348b 9291a2686980"); /* unknown flag */
    expect_bad("03 06 f2a38d910b5b348b 9291a2686980"); /* SENDER|ALL */
    expect_bad("03 01 f2a38d910b5b348c 04 63686174 80"); /* wrong hash */
    expect_bad("03 01 f2a38d910b5b348b 00 80");          /* empty name */
    expect_bad("04 8c2fd80da8957064 04 706f7365 00");    /* trailing */
    expect_bad("04 8c2fd80da8957064 04 706f7366");       /* wrong hash */
    expect_bad("05 00 00");                              /* BYE code 0 */
    expect_bad("05 05 00");                              /* BYE code 5 */
    expect_bad("05 01 00 00");                           /* trailing */
}

PT_TEST(accepted_forms)
{
    uint8_t buf[64];
    size_t n;
    pl_evmsg m;

    /* A HELLO with fields a later version added is read as version 1. */
    n = unhex("01 02 01 61 ffff", buf, sizeof buf);
    PT_OK(pl_evmsg_decode(buf, n, &m));
    PT_EQ_INT(m.version, 2);
    PT_EQ_INT(m.name_len, 1);
    /* An empty HELLO name (the server then picks one). */
    n = unhex("01 01 00", buf, sizeof buf);
    PT_OK(pl_evmsg_decode(buf, n, &m));
    PT_EQ_INT(m.name_len, 0);
    /* An event with no payload bytes decodes; the payload check is the
       reader's. */
    n = unhex("03 00 0000000000000001", buf, sizeof buf);
    PT_OK(pl_evmsg_decode(buf, n, &m));
    PT_EQ_INT(m.payload_len, 0);
    PT_EQ_U64(m.id, 1);
}

PT_TEST(encoder_refuses_out_of_limits)
{
    uint8_t buf[600];
    char big[300];
    pl_wr w;
    pl_evmsg m;

    memset(big, 'a', sizeof big);
    memset(&m, 0, sizeof m);
    m.kind = PL_EV_HELLO;
    m.name = big;
    m.name_len = 65;
    pl_wr_init(&w, buf, sizeof buf);
    PT_ERR(pl_evmsg_encode(&w, &m), PARLEY_EINVAL);
    m.kind = PL_EV_EVENT;
    m.flags = PL_EVF_NAME;
    m.name_len = 256;
    PT_ERR(pl_evmsg_encode(&w, &m), PARLEY_EINVAL);
    m.name_len = 255;
    m.id = parley_event_id_n(big, 255);
    pl_wr_init(&w, buf, 100); /* too small: nothing written */
    PT_ERR(pl_evmsg_encode(&w, &m), PARLEY_ENOBUFS);
    PT_EQ_INT(w.off, 0);
    pl_wr_init(&w, buf, sizeof buf);
    PT_OK(pl_evmsg_encode(&w, &m));
    PT_OK(pl_evmsg_decode(buf, w.off, &m));
    PT_EQ_INT(m.name_len, 255);
}

PT_MAIN(PT_RUN(golden_vectors) PT_RUN(decode_event) PT_RUN(malformed)
            PT_RUN(accepted_forms) PT_RUN(encoder_refuses_out_of_limits))
