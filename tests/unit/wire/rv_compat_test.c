/*
 * Golden transcripts for the RV protocol (the .txt files of tests/compat/rv):
 * bytes in, and the exact bytes and events out, run through the sans-I/O RV
 * connection (src/driver/rv_conn.c) with a virtual clock. Each transcript
 * runs three times: every "in" line fed whole, one byte at a time, and
 * cut at random points (seeded; RV_COMPAT_SEED=N repeats a run). The
 * format is described in tests/compat/rv/README.
 */
#include <dirent.h>
#include <time.h>

#include "pt.h"

#include "driver/rv_conn.h"
#include "parley/error.h"

enum { FEED_WHOLE = 0, FEED_BYTES = 1, FEED_RANDOM = 2 };

#define LINE_MAX_ 8192
#define TOKEN_MAX 200000

typedef struct run {
    const char *file;
    int line;
    int mode;
    uint64_t rng;
    pl_rv_params pp;
    pl_rv_budget budget;
    pl_rv_conn *c;
    uint64_t now;
    char name[64], app[64];
    /* what the connection produced and the transcript has not matched */
    uint8_t *out;
    size_t out_len, out_cap;
    char *evs[64];
    size_t nev;
    /* bytes the connection would not take yet (the socket buffer) */
    uint8_t *pending;
    size_t pending_len;
    /* media formats from the config line */
    char fmt_media[8][32];
    int fmt_ch[8], fmt_bpc[8];
    size_t nfmt;
} run;

static uint64_t
rng_next(run *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

#define RUN_FAIL(r, ...)                                                       \
    PT_FAIL_("%s:%d (mode %d): %s", (r)->file, (r)->line, (r)->mode,           \
             (snprintf(g_msg, sizeof g_msg, __VA_ARGS__), g_msg))
static char g_msg[1024];

/* ---- text helpers ---------------------------------------------------------
 */

/* Appends s[0..n) as a quoted, escaped string. */
static void
quote(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = strlen(dst);
    if (o + 2 >= cap) {
        return;
    }
    dst[o++] = '"';
    for (size_t i = 0; i < n && o + 6 < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)ch;
        } else if (ch == '\n') {
            dst[o++] = '\\';
            dst[o++] = 'n';
        } else if (ch < 0x20 || ch >= 0x7f) {
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", ch);
        } else {
            dst[o++] = (char)ch;
        }
    }
    dst[o++] = '"';
    dst[o] = '\0';
}

/* Appends the strings a and b. */
static void
add(char *dst, size_t cap, const char *a, const char *b)
{
    size_t o = strlen(dst);
    snprintf(dst + o, cap - o, "%s%s", a, b);
}

static void
add_kv(char *dst, size_t cap, const char *key, const char *s, size_t n)
{
    add(dst, cap, " ", key);
    add(dst, cap, "=", "");
    quote(dst, cap, s, n);
}

static void
add_int(char *dst, size_t cap, const char *key, long long v)
{
    size_t o = strlen(dst);
    snprintf(dst + o, cap - o, " %s=%lld", key, v);
}

/* Short byte strings in full, long ones as their size and SHA-256. */
static void
add_bytes(char *dst, size_t cap, const char *key, const void *p, size_t n)
{
    if (n <= 64) {
        add_kv(dst, cap, key, p, n);
        return;
    }
    uint8_t h[32];
    char hex[65];
    parley_sha256(p, n, h);
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    }
    size_t o = strlen(dst);
    snprintf(dst + o, cap - o, " %s=%zu:%s", key, n, hex);
}

static void
add_data(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    add_bytes(dst, cap, "data", p, n);
}

/* The one-line form of an event that transcripts expect. */
static void
format_event(const parley_rv_event *e, char *s, size_t cap)
{
    s[0] = '\0';
    add(s, cap, parley_rv_event_name(e->type), "");
    switch (e->type) {
    case PARLEY_RV_EV_REQUEST:
    case PARLEY_RV_EV_CONTACT:
        add_kv(s, cap, "peer", e->peer_name, strlen(e->peer_name));
        add_kv(s, cap, "app", e->peer_app, strlen(e->peer_app));
        break;
    case PARLEY_RV_EV_RETURNEVENT:
        add_int(s, cap, "seq", (long long)e->seq);
        /* fall through */
    case PARLEY_RV_EV_EVENT:
        add_kv(s, cap, "name", e->name, e->name_len);
        add_kv(s, cap, "target", e->target, e->target_len);
        add_bytes(s, cap, "contents", e->contents, e->contents_len);
        break;
    case PARLEY_RV_EV_RETURN:
        if (e->seq == PARLEY_RV_SEQ_NONE) {
            add(s, cap, " seq=", "none");
        } else {
            add_int(s, cap, "seq", (long long)e->seq);
        }
        add_bytes(s, cap, "contents", e->contents, e->contents_len);
        break;
    case PARLEY_RV_EV_MESSAGE:
    case PARLEY_RV_EV_DISCONNECT:
        add_bytes(s, cap, "text", e->text, e->text_len);
        break;
    case PARLEY_RV_EV_PIXELTILE:
        add_int(s, cap, "w", e->tile.w);
        add_int(s, cap, "h", e->tile.h);
        add_int(s, cap, "x", e->tile.x);
        add_int(s, cap, "y", e->tile.y);
        add_int(s, cap, "f", e->tile.f);
        add_kv(s, cap, "event", e->tile.event, strlen(e->tile.event));
        add_kv(s, cap, "media", e->tile.media, strlen(e->tile.media));
        add_kv(s, cap, "layer", e->tile.layer, strlen(e->tile.layer));
        add_kv(s, cap, "view", e->tile.view, strlen(e->tile.view));
        add_data(s, cap, e->data, e->data_len);
        break;
    case PARLEY_RV_EV_DATAEVENT:
        add_kv(s, cap, "name", e->name, e->name_len);
        add_kv(s, cap, "target", e->target, e->target_len);
        add_kv(s, cap, "type", e->content_type, e->content_type_len);
        add_data(s, cap, e->data, e->data_len);
        break;
    case PARLEY_RV_EV_DATA:
        add_kv(s, cap, "interp", e->interp, e->interp_len);
        add_data(s, cap, e->data, e->data_len);
        break;
    case PARLEY_RV_EV_ERROR:
        add(s, cap, " ", parley_err_name(e->error));
        add_int(s, cap, "closing", e->closing);
        break;
    case PARLEY_RV_EV_CONTACT_LEFT:
        add(s, cap, " reason=", parley_rv_reason_name(e->reason));
        add(s, cap, " ", parley_err_name(e->error));
        break;
    case PARLEY_RV_EV_CONNECT_FAILED:
        add(s, cap, " ", parley_err_name(e->error));
        break;
    default:
        break;
    }
}

/* ---- the connection's world ------------------------------------------------
 */

static void
push_ev(run *r, const char *text)
{
    if (r->nev == sizeof r->evs / sizeof r->evs[0]) {
        RUN_FAIL(r, "too many unmatched events");
    }
    r->evs[r->nev++] = strdup(text);
}

static void
sink(void *user, pl_rv_rec *rec)
{
    run *r = user;
    char line[LINE_MAX_];
    format_event(&rec->ev, line, sizeof line);
    pl_rv_rec_free(rec);
    push_ev(r, line);
}

static int
media_format(void *user, const uint8_t *media, size_t len, int *ch, int *bpc)
{
    run *r = user;
    for (size_t i = 0; i < r->nfmt; i++) {
        if (strlen(r->fmt_media[i]) == len &&
            memcmp(r->fmt_media[i], media, len) == 0) {
            *ch = r->fmt_ch[i];
            *bpc = r->fmt_bpc[i];
            return 1;
        }
    }
    return 0;
}

/* Takes everything the connection wants to write. */
static void
drain(run *r)
{
    const uint8_t *p;
    size_t len;
    while (pl_rv_conn_out_peek(r->c, &p, &len) == PARLEY_OK) {
        if (r->out_len + len > r->out_cap) {
            r->out_cap = (r->out_len + len) * 2;
            r->out = realloc(r->out, r->out_cap);
        }
        memcpy(r->out + r->out_len, p, len);
        r->out_len += len;
        pl_rv_conn_out_consume(r->c, len, r->now);
    }
    if (pl_rv_conn_wants_shutdown(r->c)) {
        r->c->shut_wr = 1;
        push_ev(r, "shutdown");
    }
}

/* Offers pending bytes to the connection, in the run's cut pattern. */
static void
feed_pending(run *r)
{
    size_t at = 0;
    while (at < r->pending_len) {
        uint8_t *space;
        size_t cap;
        if (pl_rv_conn_read_space(r->c, &space, &cap) != PARLEY_OK) {
            break;
        }
        size_t n = r->pending_len - at;
        if (r->mode == FEED_BYTES) {
            n = 1;
        } else if (r->mode == FEED_RANDOM) {
            n = 1 + (size_t)(rng_next(r) % n);
        }
        n = n < cap ? n : cap;
        memcpy(space, r->pending + at, n);
        at += n;
        pl_rv_conn_on_read(r->c, n, r->now);
        drain(r);
    }
    if (at > 0) {
        memmove(r->pending, r->pending + at, r->pending_len - at);
        r->pending_len -= at;
    }
    if (r->c->state == PL_RVC_DEAD) {
        r->pending_len = 0; /* the socket is closed: nobody reads it */
    }
}

static void
add_pending(run *r, const uint8_t *p, size_t n)
{
    r->pending = realloc(r->pending, r->pending_len + n + 1);
    memcpy(r->pending + r->pending_len, p, n);
    r->pending_len += n;
}

/* ---- transcript parsing
 * ------------------------------------------------------
 */

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/*
 * The next token of *s: a bare word, or a "quoted" string with C escapes
 * (\n \r \t \0 \\ \" \xHH). Returns its length (bytes in out), or -1 at
 * the end of the line.
 */
static long
token(run *r, const char **s, char *out, size_t cap)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '\0' || *p == '\n' || *p == '#') {
        *s = p;
        return -1;
    }
    size_t n = 0;
    if (*p != '"') {
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && n + 1 < cap) {
            out[n++] = *p++;
        }
        out[n] = '\0';
        *s = p;
        return (long)n;
    }
    for (p++; *p && *p != '"' && n + 1 < cap; p++) {
        char ch = *p;
        if (ch == '\\') {
            p++;
            if (*p == 'x' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                ch = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                p += 2;
            } else {
                ch = *p == 'n'   ? '\n'
                     : *p == 'r' ? '\r'
                     : *p == 't' ? '\t'
                     : *p == '0' ? '\0'
                                 : *p;
            }
        }
        out[n++] = ch;
    }
    if (*p != '"') {
        RUN_FAIL(r, "unterminated string");
    }
    *s = p + 1;
    out[n] = '\0';
    return (long)n;
}

static void
expect_drained(run *r)
{
    if (r->out_len > 0) {
        char q[512] = "";
        quote(q, sizeof q, (const char *)r->out,
              r->out_len < 100 ? r->out_len : 100);
        RUN_FAIL(r, "unexpected output %s", q);
    }
    if (r->nev > 0) {
        RUN_FAIL(r, "unexpected event: %s", r->evs[0]);
    }
}

static void
expect_out(run *r, const char *want, size_t n)
{
    if (r->out_len < n || memcmp(r->out, want, n) != 0) {
        char got[512] = "", exp[512] = "";
        quote(got, sizeof got, (const char *)r->out,
              r->out_len < 120 ? r->out_len : 120);
        quote(exp, sizeof exp, want, n < 120 ? n : 120);
        RUN_FAIL(r, "output: expected %s, got %s", exp, got);
    }
    memmove(r->out, r->out + n, r->out_len - n);
    r->out_len -= n;
}

static void
expect_ev(run *r, const char *rest)
{
    while (*rest == ' ') {
        rest++;
    }
    char want[LINE_MAX_];
    snprintf(want, sizeof want, "%s", rest);
    size_t wl = strlen(want);
    while (wl > 0 && (want[wl - 1] == '\n' || want[wl - 1] == ' ')) {
        want[--wl] = '\0';
    }
    if (r->nev == 0) {
        RUN_FAIL(r, "expected event \"%s\", got none", want);
    }
    if (strcmp(r->evs[0], want) != 0) {
        RUN_FAIL(r, "expected event\n      %s\n  got %s", want, r->evs[0]);
    }
    free(r->evs[0]);
    memmove(r->evs, r->evs + 1, (r->nev - 1) * sizeof r->evs[0]);
    r->nev--;
}

static const char *const g_states[] = {
    [PL_RVC_CONNECTING] = "connecting",
    [PL_RVC_WAIT_REPLY] = "wait-reply",
    [PL_RVC_WAIT_GREETING] = "wait-greeting",
    [PL_RVC_REQUESTED] = "requested",
    [PL_RVC_READY] = "ready",
    [PL_RVC_CLOSING] = "closing",
    [PL_RVC_DEAD] = "dead",
};

static void
config_key(run *r, const char *kv, int *incoming)
{
    const char *eq = strchr(kv, '=');
    if (!eq) {
        RUN_FAIL(r, "config wants key=value, got %s", kv);
    }
    const char *v = eq + 1;
    unsigned long long n = strtoull(v, NULL, 10);
    size_t kl = (size_t)(eq - kv);
#define KEY(k) (kl == strlen(k) && memcmp(kv, k, kl) == 0)
    if (KEY("incoming")) {
        *incoming = (int)n;
    } else if (KEY("manual")) {
        r->pp.manual_accept = (int)n;
    } else if (KEY("pingpong")) {
        r->pp.pingpong = (int)n;
    } else if (KEY("ping_ms")) {
        r->pp.ping_us = n * 1000;
    } else if (KEY("pong_ms")) {
        r->pp.pong_us = n * 1000;
    } else if (KEY("transfer_ms")) {
        r->pp.transfer_us = n * 1000;
    } else if (KEY("handshake_ms")) {
        r->pp.handshake_us = n * 1000;
    } else if (KEY("linger_ms")) {
        r->pp.linger_us = n * 1000;
    } else if (KEY("max_head")) {
        r->pp.lim.max_head = n;
    } else if (KEY("max_text")) {
        r->pp.lim.max_text = n;
    } else if (KEY("max_data")) {
        r->pp.lim.max_data = n;
    } else if (KEY("max_queued")) {
        r->pp.max_queued = n;
    } else if (KEY("name")) {
        snprintf(r->name, sizeof r->name, "%s", v);
    } else if (KEY("app")) {
        snprintf(r->app, sizeof r->app, "%s", v);
    } else if (KEY("format") && r->nfmt < 8) {
        /* format=MEDIA:CHANNELS:BYTES */
        char media[32];
        int ch, bpc;
        if (sscanf(v, "%31[^:]:%d:%d", media, &ch, &bpc) != 3) {
            RUN_FAIL(r, "format=MEDIA:CH:BYTES");
        }
        snprintf(r->fmt_media[r->nfmt], 32, "%s", media);
        r->fmt_ch[r->nfmt] = ch;
        r->fmt_bpc[r->nfmt++] = bpc;
    } else {
        RUN_FAIL(r, "unknown config key %s", kv);
    }
#undef KEY
}

static void
run_init(run *r)
{
    memset(&r->pp, 0, sizeof r->pp);
    snprintf(r->name, sizeof r->name, "parley");
    snprintf(r->app, sizeof r->app, "parley");
    r->pp.lim.max_head = 4096;
    r->pp.lim.max_text = 1 << 20;
    r->pp.lim.max_data = 1 << 24;
    r->pp.ping_us = 15000000;
    r->pp.pong_us = 600000000;
    r->pp.transfer_us = 600000000;
    r->pp.handshake_us = 60000000;
    r->pp.linger_us = 10000000;
    r->pp.max_queued = 1 << 24;
    r->budget.limit = (size_t)1 << 30;
    r->pp.budget = &r->budget;
    r->pp.emit = sink;
    r->pp.emit_user = r;
    r->pp.format = media_format;
    r->pp.format_user = r;
    r->now = 1000000;
}

static void
do_config(run *r, const char *rest)
{
    int incoming = 1;
    char tok[256];
    while (token(r, &rest, tok, sizeof tok) >= 0) {
        config_key(r, tok, &incoming);
    }
    r->pp.name = r->name;
    r->pp.app = r->app;
    parley_addr a;
    parley_addr_loopback(PARLEY_AF_INET, 5000, &a);
    PT_OK(pl_rv_conn_new(&r->pp, 7, &a, incoming, r->now, &r->c));
    drain(r);
}

/* "=> PARLEY_EXXX" at the end of an action line: the status it expects. */
static int
want_status(run *r, const char **rest)
{
    char tok[64];
    const char *save = *rest;
    if (token(r, rest, tok, sizeof tok) < 0 || strcmp(tok, "=>") != 0) {
        *rest = save;
        return PARLEY_OK;
    }
    token(r, rest, tok, sizeof tok);
    for (int e = 0; e >= -40; e--) {
        if (strcmp(parley_err_name(e), tok) == 0) {
            return e;
        }
    }
    RUN_FAIL(r, "unknown status %s", tok);
    return 0;
}

static void
check_status(run *r, const char *what, int got, int want)
{
    if (got != want) {
        RUN_FAIL(r, "%s: expected %s, got %s", what, parley_err_name(want),
                 parley_err_name(got));
    }
}

static char g_a[TOKEN_MAX], g_b[TOKEN_MAX], g_c[TOKEN_MAX];

/* The next argument of an action, or -1 at the end or at "=>". */
static long
arg(run *r, const char **rest, char *out)
{
    const char *save = *rest;
    long n = token(r, rest, out, TOKEN_MAX);
    if (n == 2 && strcmp(out, "=>") == 0 && (*rest)[-1] != '"') {
        *rest = save;
        return -1;
    }
    return n;
}

static void
do_send(run *r, const char *cmd, const char *rest)
{
    long la = arg(r, &rest, g_a);
    long lb = la >= 0 ? arg(r, &rest, g_b) : -1;
    long lc = lb >= 0 ? arg(r, &rest, g_c) : -1;
    int rc;
    if (strcmp(cmd, "send-message") == 0) {
        rc = pl_rv_conn_send_message(r->c, g_a, (size_t)la);
    } else if (strcmp(cmd, "send-event") == 0 ||
               strcmp(cmd, "send-returnevent") == 0) {
        uint64_t seq = 99;
        int rsvp = cmd[5] == 'r';
        rc = pl_rv_conn_send_event(r->c, rsvp, g_a, g_b, g_c,
                                   lc < 0 ? 0 : (size_t)lc, &seq);
        if (rc == PARLEY_OK && rsvp) {
            char want[32];
            snprintf(want, sizeof want, "seq %llu", (unsigned long long)seq);
            push_ev(r, want);
        }
    } else if (strcmp(cmd, "send-data") == 0) {
        rc = pl_rv_conn_send_data(r->c, g_a, (size_t)la, g_b, (size_t)lb, NULL,
                                  NULL);
    } else if (strcmp(cmd, "reply") == 0) {
        rc = pl_rv_conn_reply(r->c, strtoull(g_a, NULL, 10), g_b,
                              lb < 0 ? 0 : (size_t)lb);
    } else {
        rc = pl_rv_conn_pingpong(r->c, (int)strtol(g_a, NULL, 10));
    }
    check_status(r, cmd, rc, want_status(r, &rest));
}

static void
do_action(run *r, const char *cmd, const char *rest)
{
    if (strcmp(cmd, "accept") == 0) {
        check_status(r, cmd, pl_rv_conn_accept(r->c, r->now),
                     want_status(r, &rest));
    } else if (strcmp(cmd, "reject") == 0) {
        check_status(r, cmd, pl_rv_conn_reject(r->c), want_status(r, &rest));
    } else if (strcmp(cmd, "disconnect") == 0) {
        pl_rv_conn_disconnect(r->c, r->now);
    } else if (strcmp(cmd, "connected") == 0) {
        pl_rv_conn_connected(r->c, r->now);
    } else if (strcmp(cmd, "eof") == 0) {
        feed_pending(r);
        pl_rv_conn_on_eof(r->c, r->now);
    } else if (strcmp(cmd, "reset") == 0) {
        pl_rv_conn_on_error(r->c, PARLEY_ECONNRESET, r->now);
    } else if (strcmp(cmd, "time") == 0) {
        long ms =
            token(r, &rest, g_a, sizeof g_a) >= 0 ? strtol(g_a, NULL, 10) : 0;
        r->now += (uint64_t)ms * 1000;
        pl_rv_conn_tick(r->c, r->now);
    } else {
        do_send(r, cmd, rest);
    }
    drain(r);
    feed_pending(r);
}

static void
do_state(run *r, const char *rest)
{
    char tok[64];
    token(r, &rest, tok, sizeof tok);
    const char *got = g_states[r->c->state];
    if (strcmp(got, tok) != 0) {
        RUN_FAIL(r, "state: expected %s, got %s", tok, got);
    }
}

static void
do_in(run *r, const char *cmd, const char *rest)
{
    long n = token(r, &rest, g_a, sizeof g_a);
    if (n < 0) {
        RUN_FAIL(r, "in wants a string");
    }
    long times = 1;
    if (strcmp(cmd, "inrep") == 0) {
        char t[32];
        times = token(r, &rest, t, sizeof t) >= 0 ? strtol(t, NULL, 10) : 1;
    }
    for (long i = 0; i < times; i++) {
        add_pending(r, (const uint8_t *)g_a, (size_t)n);
    }
    feed_pending(r);
}

static void
do_line(run *r, const char *line)
{
    char cmd[64];
    const char *rest = line;
    if (token(r, &rest, cmd, sizeof cmd) < 0) {
        return;
    }
    if (strcmp(cmd, "config") == 0) {
        do_config(r, rest);
        return;
    }
    if (!r->c) {
        RUN_FAIL(r, "the first line must be config");
    }
    if (strcmp(cmd, "out") == 0) {
        long n = token(r, &rest, g_a, sizeof g_a);
        expect_out(r, g_a, (size_t)n);
    } else if (strcmp(cmd, "ev") == 0) {
        expect_ev(r, rest);
    } else if (strcmp(cmd, "state") == 0) {
        do_state(r, rest);
    } else {
        expect_drained(r);
        if (strcmp(cmd, "in") == 0 || strcmp(cmd, "inrep") == 0) {
            do_in(r, cmd, rest);
        } else {
            do_action(r, cmd, rest);
        }
    }
}

static void
run_file(const char *path, const char *name, int mode, uint64_t seed)
{
    static run r;
    memset(&r, 0, sizeof r);
    run_init(&r);
    r.file = name;
    r.mode = mode;
    r.rng = seed | 1;
    FILE *f = fopen(path, "r");
    PT_TRUE(f != NULL);
    static char line[TOKEN_MAX];
    while (fgets(line, sizeof line, f)) {
        r.line++;
        do_line(&r, line);
    }
    fclose(f);
    expect_drained(&r);
    PT_EQ_U64(r.pending_len, 0);
    pl_rv_conn_free(r.c);
    PT_EQ_U64(r.budget.used, 0); /* every byte of receive memory returned */
    free(r.out);
    free(r.pending);
}

/* tests/compat/rv/, found from this file's own path. */
static void
compat_dir(char *out, size_t cap)
{
    const char *me = __FILE__;
    const char *at = strstr(me, "tests/unit/wire/");
    PT_TRUE(at != NULL);
    snprintf(out, cap, "%.*stests/compat/rv", (int)(at - me), me);
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

PT_TEST(transcripts)
{
    char dir[4096];
    compat_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    PT_TRUE(d != NULL);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".txt") == 0) {
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    PT_GE_U64(n, 20);
    const char *env = getenv("RV_COMPAT_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    pt_seed(seed);
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        for (int mode = 0; mode < 3; mode++) {
            run_file(path, names[i], mode, seed + i);
        }
        free(names[i]);
    }
    printf("  %zu transcripts, 3 feeds each\n", n);
}

PT_MAIN(PT_RUN(transcripts))
