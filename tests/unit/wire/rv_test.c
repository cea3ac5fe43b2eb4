/*
 * The RV codec (src/wire/rv.c): the incremental header parser fed whole,
 * byte by byte and at every split point, its malformed-input table, the
 * exact bytes of every encoder, and the greeting / MESSAGE / PIXELTILE /
 * DATAEVENT content parsers against what OpenRV does with each input.
 */
#include "pt.h"

#include "parley/error.h"
#include "wire/rv.h"

static const pl_rv_limits g_lim = {4096, 1 << 20, 1 << 24};

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static int
slice_eq(pl_rv_slice s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

#define PT_SLICE(s, want)                                                      \
    do {                                                                       \
        if (!slice_eq((s), (want))) {                                          \
            PT_FAIL_("%s: expected \"%s\", got \"%.*s\"", #s, (want),          \
                     (int)(s).len, (const char *)(s).p);                       \
        }                                                                      \
    } while (0)

/* ---- header parser ------------------------------------------------------ */

PT_TEST(head_each_kind)
{
    static const struct {
        const char *text;
        pl_rv_kind kind;
        uint64_t len;
        size_t head;
    } cases[] = {
        {"GREETING 5 alice", PL_RV_GREETING, 5, 11},
        {"NEWGREETING 19 x", PL_RV_NEWGREETING, 19, 15},
        {"MESSAGE 10 DISCONNECT", PL_RV_MESSAGE, 10, 11},
        {"PING 1 p", PL_RV_PING, 1, 7},
        {"PONG 1 p", PL_RV_PONG, 1, 7},
        {"PINGPONGCONTROL 1 0", PL_RV_PINGPONGCONTROL, 1, 18},
        {"PIXELTILE(w=1,h=1) 4 ", PL_RV_DATA, 4, 21},
        {"DATAEVENT(a,b,c) 007 ", PL_RV_DATA, 7, 21},
        {"FOO) 3 ", PL_RV_DATA, 3, 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_rv_head h;
        const uint8_t *p = (const uint8_t *)cases[i].text;
        PT_EQ_INT(pl_rv_head_parse(p, strlen(cases[i].text), &g_lim, &h), 1);
        PT_EQ_INT(h.kind, cases[i].kind);
        PT_EQ_U64(h.len, cases[i].len);
        PT_EQ_U64(h.head_len, cases[i].head);
        PT_TRUE(h.word == p);
    }
}

/* Every proper prefix of a frame header needs more; the whole parses. */
PT_TEST(head_needs_more_at_every_prefix)
{
    static const char *const frames[] = {
        "NEWGREETING 12 tester pyapp", "MESSAGE 29 EVENT remote-eval * x",
        "PIXELTILE(media=a,w=2,h=2) 16 ", "PINGPONGCONTROL 1 1"};
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *p = (const uint8_t *)frames[i];
        pl_rv_head h;
        PT_EQ_INT(pl_rv_head_parse(p, strlen(frames[i]), &g_lim, &h), 1);
        size_t head = h.head_len;
        for (size_t n = 0; n < head; n++) {
            PT_EQ_INT(pl_rv_head_parse(p, n, &g_lim, &h), 0);
        }
    }
}

/* A stream of frames for the split tests. */
static const char g_stream[] = "NEWGREETING 19 tester rvController"
                               "PINGPONGCONTROL 1 0"
                               "MESSAGE 29 EVENT remote-eval * redraw();"
                               "PING 1 p"
                               "DATAEVENT(ev,t,ct) 5 \x00\x01 \xff)"
                               "MESSAGE 10 DISCONNECT";
static const pl_rv_kind g_stream_kinds[] = {
    PL_RV_NEWGREETING, PL_RV_PINGPONGCONTROL, PL_RV_MESSAGE, PL_RV_PING,
    PL_RV_DATA,        PL_RV_MESSAGE};

/* Feeds g_stream as reads of [0, split) in pieces of step bytes, then the
   rest at once, parsing whole frames as they complete. */
static void
parse_split(size_t split, size_t step)
{
    size_t n = sizeof g_stream - 1;
    uint8_t buf[256];
    size_t have = 0, at = 0, k = 0;
    while (have < n) {
        size_t take = have < split ? (split - have < step ? split - have : step)
                                   : n - have;
        memcpy(buf + have, g_stream + have, take);
        have += take;
        pl_rv_frame f;
        int rc;
        while ((rc = pl_rv_frame_parse(buf + at, have - at, &g_lim, &f)) == 1) {
            PT_TRUE(k < 6);
            PT_EQ_INT(f.head.kind, g_stream_kinds[k]);
            PT_TRUE(f.payload == buf + at + f.head.head_len);
            at += (size_t)f.size;
            k++;
        }
        PT_EQ_INT(rc, 0);
    }
    PT_EQ_U64(k, 6);
    PT_EQ_U64(at, n);
}

/* The same frames whatever the fragmentation: every split point, and one
   byte at a time. */
PT_TEST(frames_at_every_split)
{
    size_t n = sizeof g_stream - 1;
    for (size_t split = 0; split <= n; split++) {
        parse_split(split, split ? split : 1);
    }
    parse_split(n, 1);
}

PT_TEST(malformed_headers)
{
    static const struct {
        const char *text;
        int err;
    } cases[] = {
        {"MESSAGE 1x ", PARLEY_EPROTO},      /* bad LEN */
        {"MESSAGE 1x", PARLEY_EPROTO},       /* found before the space */
        {"MESSAGE -3 abc", PARLEY_EPROTO},   /* negative LEN */
        {"MESSAGE 0 ", PARLEY_EPROTO},       /* zero LEN */
        {"MESSAGE 000 ", PARLEY_EPROTO},     /* zero LEN */
        {"MESSAGE  5 hello", PARLEY_EPROTO}, /* LEN missing */
        {"HELLO 5 world", PARLEY_EPROTO},    /* unknown word */
        {"message 5 hello", PARLEY_EPROTO},  /* words are case-sensitive */
        {" MESSAGE 5 hello", PARLEY_EPROTO}, /* empty word */
        {"PIXELTILE(media=a b,w=1) 4 ", PARLEY_EPROTO}, /* space in interp */
        {"MESSAGE 1048577 ", PARLEY_EMSGSIZE},          /* over max_text */
        {"MESSAGE 99999999999999999999999 ", PARLEY_EMSGSIZE},
        {"DATAEVENT(a,b,c) 16777217 ", PARLEY_EMSGSIZE}, /* over max_data */
        {"PING 2000000", PARLEY_EMSGSIZE}, /* over, before its space */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pl_rv_head h;
        int rc = pl_rv_head_parse((const uint8_t *)cases[i].text,
                                  strlen(cases[i].text), &g_lim, &h);
        if (rc != cases[i].err) {
            PT_FAIL_("case %zu \"%s\": got %s", i, cases[i].text,
                     parley_err_name(rc));
        }
        PT_TRUE(h.why != NULL && h.why[0] != '\0');
    }
    /* The data frame limit does not apply to text frames and vice versa. */
    pl_rv_head h;
    PT_EQ_INT(pl_rv_head_parse(S("DATAEVENT(a,b,c) 2000000 "), &g_lim, &h), 1);
}

PT_TEST(header_length_limit)
{
    pl_rv_limits lim = {32, 1 << 20, 1 << 20};
    uint8_t buf[64];
    pl_rv_head h;
    memset(buf, 'A', sizeof buf);
    buf[0] = 'X';
    buf[30] = ')';
    /* 31 bytes without a space: not yet too long... */
    PT_EQ_INT(pl_rv_head_parse(buf, 31, &lim, &h), 0);
    /* ...32 are. */
    PT_ERR(pl_rv_head_parse(buf, 32, &lim, &h), PARLEY_EMSGSIZE);
    /* A word that fits but a LEN that runs past the limit. */
    memcpy(buf, "PING ", 5);
    memset(buf + 5, '1', 40);
    lim.max_text = UINT64_MAX;
    PT_ERR(pl_rv_head_parse(buf, 40, &lim, &h), PARLEY_EMSGSIZE);
    /* Exactly at the limit is fine. */
    memcpy(buf, "PING 1 ", 7);
    lim.max_head = 7;
    PT_EQ_INT(pl_rv_head_parse(buf, 7, &lim, &h), 1);
}

/* ---- encoders -------------------------------------------------------------
 */

typedef int (*enc_fn)(pl_wr *wr);

static int
enc_newgreeting(pl_wr *wr)
{
    return pl_rv_greeting_encode(wr, "tester", "rvController");
}
static int
enc_greeting(pl_wr *wr)
{
    return pl_rv_greeting_encode(wr, "fakerv", NULL);
}
static int
enc_event(pl_wr *wr)
{
    return pl_rv_event_encode(wr, 0, "remote-eval", "*", "redraw();", 9);
}
static int
enc_returnevent_empty(pl_wr *wr)
{
    return pl_rv_event_encode(wr, 1, "e8", "*", NULL, 0);
}
static int
enc_return_empty(pl_wr *wr)
{
    return pl_rv_return_encode(wr, NULL, 0);
}
static int
enc_return(pl_wr *wr)
{
    return pl_rv_return_encode(wr, "a b\n", 4);
}
static int
enc_disconnect(pl_wr *wr)
{
    return pl_rv_disconnect_encode(wr);
}
static int
enc_ping(pl_wr *wr)
{
    return pl_rv_ping_encode(wr);
}
static int
enc_pong(pl_wr *wr)
{
    return pl_rv_pong_encode(wr);
}
static int
enc_ppc0(pl_wr *wr)
{
    return pl_rv_pingpongcontrol_encode(wr, 0);
}
static int
enc_ppc1(pl_wr *wr)
{
    return pl_rv_pingpongcontrol_encode(wr, 1);
}
static int
enc_utf8(pl_wr *wr)
{
    /* LEN counts bytes: "é€" is 5 bytes, 2 characters. */
    return pl_rv_event_encode(wr, 0, "e", "*", "\xc3\xa9\xe2\x82\xac", 5);
}
static int
enc_dataevent(pl_wr *wr)
{
    return pl_rv_dataevent_encode(wr, "my-data-event", "unused",
                                  "special-data");
}

PT_TEST(encoders_exact_bytes)
{
    static const struct {
        enc_fn fn;
        const char *want;
    } cases[] = {
        {enc_newgreeting, "NEWGREETING 19 tester rvController"},
        {enc_greeting, "GREETING 6 fakerv"},
        {enc_event, "MESSAGE 29 EVENT remote-eval * redraw();"},
        {enc_returnevent_empty, "MESSAGE 17 RETURNEVENT e8 * "},
        {enc_return_empty, "MESSAGE 7 RETURN "},
        {enc_return, "MESSAGE 11 RETURN a b\n"},
        {enc_disconnect, "MESSAGE 10 DISCONNECT"},
        {enc_ping, "PING 1 p"},
        {enc_pong, "PONG 1 p"},
        {enc_ppc0, "PINGPONGCONTROL 1 0"},
        {enc_ppc1, "PINGPONGCONTROL 1 1"},
        {enc_utf8, "MESSAGE 15 EVENT e * \xc3\xa9\xe2\x82\xac"},
        {enc_dataevent, "DATAEVENT(my-data-event,unused,special-data)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[128];
        pl_wr wr;
        pl_wr_init(&wr, buf, sizeof buf);
        PT_OK(cases[i].fn(&wr));
        PT_EQ_U64(wr.off, strlen(cases[i].want));
        PT_EQ_MEM(buf, cases[i].want, wr.off);
        /* One byte short of room: an error and nothing written. */
        size_t need = wr.off;
        pl_wr_init(&wr, buf, need - 1);
        PT_ERR(cases[i].fn(&wr), PARLEY_ENOBUFS);
        PT_EQ_U64(wr.off, 0);
        PT_EQ_INT(wr.err, 0);
    }
}

PT_TEST(event_size_is_an_upper_bound)
{
    uint8_t buf[256], src[128] = {0};
    pl_wr wr;
    for (size_t len = 0; len < 120; len += 7) {
        for (int rsvp = 0; rsvp < 2; rsvp++) {
            pl_wr_init(&wr, buf, sizeof buf);
            PT_OK(pl_rv_event_encode(&wr, rsvp, "n", "*", src, len));
            PT_LE_U64(wr.off, pl_rv_event_size("n", "*", len));
            if (rsvp) {
                PT_EQ_U64(wr.off, pl_rv_event_size("n", "*", len));
            }
        }
    }
}

PT_TEST(encoders_refuse_what_rv_cannot_carry)
{
    uint8_t buf[128];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_ERR(pl_rv_greeting_encode(&wr, "two words", "app"), PARLEY_EINVAL);
    PT_ERR(pl_rv_greeting_encode(&wr, "", "app"), PARLEY_EINVAL);
    PT_ERR(pl_rv_greeting_encode(&wr, "n", "a b"), PARLEY_EINVAL);
    PT_ERR(pl_rv_event_encode(&wr, 0, "a b", "*", "x", 1), PARLEY_EINVAL);
    PT_ERR(pl_rv_event_encode(&wr, 0, "a", "", "x", 1), PARLEY_EINVAL);
    PT_ERR(pl_rv_event_encode(&wr, 0, "a", "*", NULL, 1), PARLEY_EINVAL);
    PT_ERR(pl_rv_frame_encode(&wr, "MESSAGE", "", 0), PARLEY_EINVAL);
    PT_ERR(pl_rv_head_encode(&wr, "A B", 3, 1), PARLEY_EINVAL);
    PT_ERR(pl_rv_dataevent_encode(&wr, "a", "b", ""), PARLEY_EINVAL);
    PT_ERR(pl_rv_dataevent_encode(&wr, "a,x", "b", "c"), PARLEY_EINVAL);
    PT_ERR(pl_rv_dataevent_encode(&wr, "a", "b c", "c"), PARLEY_EINVAL);
    pl_rv_tile t;
    pl_rv_tile_defaults(&t);
    t.media.p = (const uint8_t *)"a=b";
    t.media.len = 3;
    PT_ERR(pl_rv_tile_encode(&wr, &t), PARLEY_EINVAL);
    pl_rv_tile_defaults(&t);
    t.w = -1;
    PT_ERR(pl_rv_tile_encode(&wr, &t), PARLEY_EINVAL);
    PT_EQ_U64(wr.off, 0);
}

/* ---- content parsers -------------------------------------------------------
 */

PT_TEST(greetings_both_forms)
{
    pl_rv_slice name, app;
    PT_OK(pl_rv_greeting_parse(PL_RV_GREETING, S("alice smith"), &name, &app));
    PT_SLICE(name, "alice smith"); /* the whole payload is the name */
    PT_SLICE(app, "rv");
    PT_OK(pl_rv_greeting_parse(PL_RV_NEWGREETING, S("tester rvController"),
                               &name, &app));
    PT_SLICE(name, "tester");
    PT_SLICE(app, "rvController");
    PT_OK(pl_rv_greeting_parse(PL_RV_NEWGREETING, S("tester app extra words"),
                               &name, &app));
    PT_SLICE(app, "app");
    PT_OK(pl_rv_greeting_parse(PL_RV_NEWGREETING, S("onlyname"), &name, &app));
    PT_SLICE(name, "onlyname");
    PT_SLICE(app, "");
    PT_ERR(pl_rv_greeting_parse(PL_RV_MESSAGE, S("x"), &name, &app),
           PARLEY_EINVAL);
}

static void
check_msg(const char *text, pl_rv_msg_type type, const char *name,
          const char *target, const char *contents)
{
    pl_rv_msg m;
    pl_rv_msg_parse((const uint8_t *)text, strlen(text), &m);
    PT_EQ_INT(m.type, type);
    if (type == PL_RV_MSG_EVENT || type == PL_RV_MSG_RETURNEVENT) {
        PT_SLICE(m.name, name);
        PT_SLICE(m.target, target);
    }
    if (contents) {
        PT_SLICE(m.contents, contents);
    }
}

PT_TEST(messages_as_rv_reads_them)
{
    check_msg("EVENT remote-eval * play();", PL_RV_MSG_EVENT, "remote-eval",
              "*", "play();");
    /* The manual's example has no target: RV takes "red" as the target. */
    check_msg("EVENT my-event-name red green blue", PL_RV_MSG_EVENT,
              "my-event-name", "red", "green blue");
    /* Byte-exact contents: newlines and runs of spaces are kept. */
    check_msg("RETURNEVENT e * a   b\nc ", PL_RV_MSG_RETURNEVENT, "e", "*",
              "a   b\nc ");
    /* Observed in OpenRV: missing pieces are empty. */
    check_msg("RETURNEVENT e8 *", PL_RV_MSG_RETURNEVENT, "e8", "*", "");
    check_msg("RETURNEVENT e8 * ", PL_RV_MSG_RETURNEVENT, "e8", "*", "");
    check_msg("RETURNEVENT e8b", PL_RV_MSG_RETURNEVENT, "e8b", "", "");
    check_msg("RETURNEVENT  double", PL_RV_MSG_RETURNEVENT, "", "double", "");
    check_msg("RETURN ", PL_RV_MSG_RETURN, NULL, NULL, "");
    check_msg("RETURN", PL_RV_MSG_RETURN, NULL, NULL, "");
    check_msg("RETURN 1 2  3", PL_RV_MSG_RETURN, NULL, NULL, "1 2  3");
    check_msg("DISCONNECT", PL_RV_MSG_DISCONNECT, NULL, NULL, NULL);
    check_msg("DISCONNECT now please", PL_RV_MSG_DISCONNECT, NULL, NULL, NULL);
    /* The trailing space is part of the sub-type word. */
    check_msg("EVENT", PL_RV_MSG_OTHER, NULL, NULL, "EVENT");
    check_msg("EVENTS x y z", PL_RV_MSG_OTHER, NULL, NULL, "EVENTS x y z");
    check_msg("RETURNX", PL_RV_MSG_OTHER, NULL, NULL, "RETURNX");
    check_msg("hello", PL_RV_MSG_OTHER, NULL, NULL, "hello");
}

PT_TEST(pixeltile_keys_defaults_and_order)
{
    pl_rv_tile t;
    PT_OK(pl_rv_tile_parse(S("PIXELTILE(media=out.9.exr,layer=diffuse,"
                             "view=left,w=16,h=16,x=160,y=240,f=9)"),
                           &t));
    PT_EQ_INT(t.w, 16);
    PT_EQ_INT(t.h, 16);
    PT_EQ_INT(t.x, 160);
    PT_EQ_INT(t.y, 240);
    PT_EQ_INT(t.f, 9);
    PT_SLICE(t.media, "out.9.exr");
    PT_SLICE(t.layer, "diffuse");
    PT_SLICE(t.view, "left");
    PT_SLICE(t.event, "pixel-block");
    /* Any order; RV's defaults for what is missing (f is 0, not 1). */
    PT_OK(pl_rv_tile_parse(S("PIXELTILE(h=2,event=my-tile,w=3)"), &t));
    PT_EQ_INT(t.w, 3);
    PT_EQ_INT(t.h, 2);
    PT_EQ_INT(t.f, 0);
    PT_SLICE(t.event, "my-tile");
    PT_SLICE(t.media, "");
    PT_SLICE(t.layer, "-");
    PT_SLICE(t.view, "-");
    /* The manual's "event-name" is not a key RV reads; unknown keys, empty
       values and values with '=' are ignored; the last duplicate wins;
       garbage numbers read as atoi does. */
    PT_OK(pl_rv_tile_parse(S("PIXELTILE(event-name=zz,tag=q,media=,view=a=b,"
                             "w=1,w=5,x=7abc,y=junk,f=-3)"),
                           &t));
    PT_SLICE(t.event, "pixel-block");
    PT_SLICE(t.media, "");
    PT_SLICE(t.view, "-");
    PT_EQ_INT(t.w, 5);
    PT_EQ_INT(t.x, 7);
    PT_EQ_INT(t.y, 0);
    PT_EQ_INT(t.f, -3);
    /* What RV cannot handle sanely is refused. */
    PT_ERR(pl_rv_tile_parse(S("PIXELTILE(w=-1,h=1)"), &t), PARLEY_EPROTO);
    PT_ERR(pl_rv_tile_parse(S("PIXELTILE(w=1,h=99999999999)"), &t),
           PARLEY_EPROTO);
    PT_OK(pl_rv_tile_parse(S("PIXELTILE(x=-2147483648)"), &t));
    PT_EQ_INT(t.x, INT32_MIN);
}

PT_TEST(pixeltile_round_trip)
{
    pl_rv_tile t, back;
    pl_rv_tile_defaults(&t);
    t.w = 64;
    t.h = 32;
    t.x = -5;
    t.y = 100;
    t.f = 1;
    t.media = (pl_rv_slice){(const uint8_t *)"m1", 2};
    t.view = (pl_rv_slice){(const uint8_t *)"right", 5};
    uint8_t buf[200];
    pl_wr wr;
    pl_wr_init(&wr, buf, sizeof buf);
    PT_OK(pl_rv_tile_encode(&wr, &t));
    static const char want[] =
        "PIXELTILE(media=m1,view=right,w=64,h=32,x=-5,y=100,f=1)";
    PT_EQ_U64(wr.off, sizeof want - 1);
    PT_EQ_MEM(buf, want, wr.off);
    PT_OK(pl_rv_tile_parse(buf, wr.off, &back));
    PT_EQ_INT(back.w, 64);
    PT_EQ_INT(back.x, -5);
    PT_SLICE(back.view, "right");
    PT_SLICE(back.layer, "-");
    PT_EQ_INT(pl_rv_data_kind_of(buf, wr.off), PL_RV_DATA_PIXELTILE);
}

PT_TEST(dataevent_fields)
{
    pl_rv_dataevent d;
    PT_OK(pl_rv_dataevent_parse(S("DATAEVENT(my-data-event,unused,special)"),
                                &d));
    PT_SLICE(d.event, "my-data-event");
    PT_SLICE(d.target, "unused");
    PT_SLICE(d.content_type, "special");
    /* Extra fields are ignored; empty ones collapse, as in RV. */
    PT_OK(pl_rv_dataevent_parse(S("DATAEVENT(a,,b,c,d,e)"), &d));
    PT_SLICE(d.event, "a");
    PT_SLICE(d.target, "b");
    PT_SLICE(d.content_type, "c");
    /* Fewer than three fields: RV reads past its array; we refuse. */
    PT_ERR(pl_rv_dataevent_parse(S("DATAEVENT(ev)"), &d), PARLEY_EPROTO);
    PT_ERR(pl_rv_dataevent_parse(S("DATAEVENT(a,b)"), &d), PARLEY_EPROTO);
    PT_ERR(pl_rv_dataevent_parse(S("DATAEVENT()"), &d), PARLEY_EPROTO);
    PT_ERR(pl_rv_dataevent_parse(S("DATAEVENT(a,,,b)"), &d), PARLEY_EPROTO);
    PT_EQ_INT(pl_rv_data_kind_of(S("DATAEVENT(a,b,c)")), PL_RV_DATA_DATAEVENT);
    PT_EQ_INT(pl_rv_data_kind_of(S("FOO(bar)")), PL_RV_DATA_OTHER);
}

PT_MAIN(PT_RUN(head_each_kind) PT_RUN(head_needs_more_at_every_prefix)
            PT_RUN(frames_at_every_split) PT_RUN(malformed_headers)
                PT_RUN(header_length_limit) PT_RUN(encoders_exact_bytes)
                    PT_RUN(event_size_is_an_upper_bound)
                        PT_RUN(encoders_refuse_what_rv_cannot_carry)
                            PT_RUN(greetings_both_forms)
                                PT_RUN(messages_as_rv_reads_them)
                                    PT_RUN(pixeltile_keys_defaults_and_order)
                                        PT_RUN(pixeltile_round_trip)
                                            PT_RUN(dataevent_fields))
