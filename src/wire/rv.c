/*
 * The RV protocol codec (rv.h): the incremental header parser, the frame
 * encoders and the parsers of greeting, MESSAGE, PIXELTILE and DATAEVENT
 * contents, all over caller buffers through the bounds-checked cursors.
 */
#include "wire/rv.h"

#include <string.h>

/* Longest decimal LEN we read: 2^64 has 20 digits. */
#define LEN_DIGITS_MAX 20

static const struct {
    const char *word;
    size_t len;
    pl_rv_kind kind;
} g_words[] = {
    {"GREETING", 8, PL_RV_GREETING},
    {"NEWGREETING", 11, PL_RV_NEWGREETING},
    {"MESSAGE", 7, PL_RV_MESSAGE},
    {"PING", 4, PL_RV_PING},
    {"PONG", 4, PL_RV_PONG},
    {"PINGPONGCONTROL", 15, PL_RV_PINGPONGCONTROL},
};

static int
fail(pl_rv_head *h, int err, const char *why)
{
    h->why = why;
    return err;
}

/* The kind of a complete WORD, or 0 when it is none. */
static pl_rv_kind
classify(const uint8_t *w, size_t n)
{
    for (size_t i = 0; i < sizeof g_words / sizeof g_words[0]; i++) {
        if (g_words[i].len == n && memcmp(g_words[i].word, w, n) == 0) {
            return g_words[i].kind;
        }
    }
    return n > 0 && w[n - 1] == ')' ? PL_RV_DATA : (pl_rv_kind)0;
}

static int
word_error(pl_rv_head *h, const uint8_t *w, size_t n)
{
    if (n == 0) {
        return fail(h, PARLEY_EPROTO,
                    "empty word (a space where a frame "
                    "should start)");
    }
    if (memchr(w, '(', n) != NULL) {
        return fail(h, PARLEY_EPROTO, "space inside a data header");
    }
    return fail(h, PARLEY_EPROTO, "unknown frame word");
}

/* Reads LEN from p[at..n). Returns 1 (done, *end at its space), 0 (need
   more) or an error. */
static int
parse_len(const uint8_t *p, size_t n, size_t at, uint64_t limit, pl_rv_head *h,
          size_t *end)
{
    uint64_t v = 0;
    size_t i = at;
    for (; i < n && p[i] != ' '; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return fail(h, PARLEY_EPROTO, "LEN is not a decimal number");
        }
        if (i - at >= LEN_DIGITS_MAX) {
            return fail(h, PARLEY_EMSGSIZE, "LEN over the limit");
        }
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10 || v * 10 + d > limit) {
            return fail(h, PARLEY_EMSGSIZE, "LEN over the limit");
        }
        v = v * 10 + d;
    }
    if (i == n) {
        return 0;
    }
    if (i == at) {
        return fail(h, PARLEY_EPROTO, "LEN missing (two spaces)");
    }
    if (v == 0) {
        return fail(h, PARLEY_EPROTO, "LEN is zero");
    }
    h->len = v;
    *end = i;
    return 1;
}

int
pl_rv_head_parse(const uint8_t *p, size_t n, const pl_rv_limits *lim,
                 pl_rv_head *h)
{
    h->why = NULL;
    if (n == 0) {
        return 0;
    }
    size_t scan = n < lim->max_head ? n : lim->max_head;
    const uint8_t *sp = memchr(p, ' ', scan);
    if (sp == NULL) {
        return n >= lim->max_head
                   ? fail(h, PARLEY_EMSGSIZE, "frame header too long")
                   : 0;
    }
    size_t wlen = (size_t)(sp - p);
    pl_rv_kind kind = classify(p, wlen);
    if (kind == 0) {
        return word_error(h, p, wlen);
    }
    uint64_t limit = kind == PL_RV_DATA ? lim->max_data : lim->max_text;
    size_t end = 0;
    int rc = parse_len(p, scan, wlen + 1, limit, h, &end);
    if (rc == 0) {
        return n >= lim->max_head
                   ? fail(h, PARLEY_EMSGSIZE, "frame header too long")
                   : 0;
    }
    if (rc < 0) {
        return rc;
    }
    h->kind = kind;
    h->word = p;
    h->word_len = wlen;
    h->head_len = end + 1;
    return 1;
}

int
pl_rv_frame_parse(const uint8_t *p, size_t n, const pl_rv_limits *lim,
                  pl_rv_frame *f)
{
    int rc = pl_rv_head_parse(p, n, lim, &f->head);
    if (rc <= 0) {
        return rc;
    }
    if (n - f->head.head_len < f->head.len) {
        return 0;
    }
    f->payload = p + f->head.head_len;
    f->size = f->head.head_len + f->head.len;
    return 1;
}

static int
has_prefix(const uint8_t *p, size_t n, const char *pre)
{
    size_t k = strlen(pre);
    return n >= k && memcmp(p, pre, k) == 0;
}

pl_rv_data_kind
pl_rv_data_kind_of(const uint8_t *interp, size_t len)
{
    if (has_prefix(interp, len, "PIXELTILE")) {
        return PL_RV_DATA_PIXELTILE;
    }
    if (has_prefix(interp, len, "DATAEVENT")) {
        return PL_RV_DATA_DATAEVENT;
    }
    return PL_RV_DATA_OTHER;
}

/* ---- encoders ----------------------------------------------------------- */

static size_t
dec_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static void
wr_dec(pl_wr *wr, uint64_t v)
{
    char tmp[LEN_DIGITS_MAX];
    size_t n = 0;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    pl_wr_bytes(wr, tmp + sizeof tmp - n, n);
}

static void
wr_str(pl_wr *wr, const char *s)
{
    pl_wr_bytes(wr, s, strlen(s));
}

int
pl_rv_word_ok(const char *s, size_t len)
{
    return s != NULL && len > 0 && memchr(s, ' ', len) == NULL;
}

size_t
pl_rv_head_size(size_t word_len, uint64_t len)
{
    return word_len + 1 + dec_len(len) + 1;
}

int
pl_rv_head_encode(pl_wr *wr, const char *word, size_t word_len, uint64_t len)
{
    if (!pl_rv_word_ok(word, word_len) || len == 0) {
        return PARLEY_EINVAL;
    }
    size_t start = wr->off;
    pl_wr_bytes(wr, word, word_len);
    pl_wr_u8(wr, ' ');
    wr_dec(wr, len);
    pl_wr_u8(wr, ' ');
    return pl_wr_finish(wr, start);
}

int
pl_rv_frame_encode(pl_wr *wr, const char *word, const void *payload, size_t len)
{
    if (word == NULL || (payload == NULL && len > 0)) {
        return PARLEY_EINVAL;
    }
    size_t start = wr->off;
    int rc = pl_rv_head_encode(wr, word, strlen(word), len);
    if (rc != PARLEY_OK) {
        return rc;
    }
    pl_wr_bytes(wr, payload, len);
    return pl_wr_finish(wr, start);
}

static int
str_word_ok(const char *s)
{
    return s != NULL && pl_rv_word_ok(s, strlen(s));
}

int
pl_rv_greeting_encode(pl_wr *wr, const char *name, const char *app)
{
    if (!str_word_ok(name) || (app != NULL && !str_word_ok(app))) {
        return PARLEY_EINVAL;
    }
    size_t start = wr->off;
    if (app == NULL) {
        return pl_rv_frame_encode(wr, "GREETING", name, strlen(name));
    }
    size_t n = strlen(name) + 1 + strlen(app);
    pl_rv_head_encode(wr, "NEWGREETING", 11, n);
    wr_str(wr, name);
    pl_wr_u8(wr, ' ');
    wr_str(wr, app);
    return pl_wr_finish(wr, start);
}

/* Payload bytes of "TYPE name target contents". */
static size_t
event_payload_len(int rsvp, const char *name, const char *target, size_t len)
{
    return (rsvp ? 11 : 5) + 1 + strlen(name) + 1 + strlen(target) + 1 + len;
}

size_t
pl_rv_event_size(const char *name, const char *target, size_t len)
{
    /* The RETURNEVENT form; EVENT is 6 bytes (or 7) shorter. */
    size_t n = event_payload_len(1, name, target, len);
    return pl_rv_head_size(7, n) + n;
}

int
pl_rv_event_encode(pl_wr *wr, int rsvp, const char *name, const char *target,
                   const void *contents, size_t len)
{
    if (!str_word_ok(name) || !str_word_ok(target) ||
        (contents == NULL && len > 0)) {
        return PARLEY_EINVAL;
    }
    size_t start = wr->off;
    pl_rv_head_encode(wr, "MESSAGE", 7,
                      event_payload_len(rsvp, name, target, len));
    wr_str(wr, rsvp ? "RETURNEVENT " : "EVENT ");
    wr_str(wr, name);
    pl_wr_u8(wr, ' ');
    wr_str(wr, target);
    pl_wr_u8(wr, ' ');
    pl_wr_bytes(wr, contents, len);
    return pl_wr_finish(wr, start);
}

int
pl_rv_return_encode(pl_wr *wr, const void *value, size_t len)
{
    if (value == NULL && len > 0) {
        return PARLEY_EINVAL;
    }
    size_t start = wr->off;
    pl_rv_head_encode(wr, "MESSAGE", 7, 7 + len);
    wr_str(wr, "RETURN ");
    pl_wr_bytes(wr, value, len);
    return pl_wr_finish(wr, start);
}

int
pl_rv_disconnect_encode(pl_wr *wr)
{
    return pl_rv_frame_encode(wr, "MESSAGE", "DISCONNECT", 10);
}

int
pl_rv_ping_encode(pl_wr *wr)
{
    return pl_rv_frame_encode(wr, "PING", "p", 1);
}

int
pl_rv_pong_encode(pl_wr *wr)
{
    return pl_rv_frame_encode(wr, "PONG", "p", 1);
}

int
pl_rv_pingpongcontrol_encode(pl_wr *wr, int on)
{
    return pl_rv_frame_encode(wr, "PINGPONGCONTROL", on ? "1" : "0", 1);
}

/* ---- payload parsers ---------------------------------------------------- */

static pl_rv_slice
slice(const uint8_t *p, size_t len)
{
    pl_rv_slice s = {p, len};
    return s;
}

int
pl_rv_greeting_parse(pl_rv_kind kind, const uint8_t *p, size_t len,
                     pl_rv_slice *name, pl_rv_slice *app)
{
    if (kind == PL_RV_GREETING) {
        *name = slice(p, len);
        *app = slice((const uint8_t *)"rv", 2);
        return PARLEY_OK;
    }
    if (kind != PL_RV_NEWGREETING) {
        return PARLEY_EINVAL;
    }
    const uint8_t *sp = len ? memchr(p, ' ', len) : NULL;
    if (sp == NULL) {
        *name = slice(p, len);
        *app = slice(p + len, 0);
        return PARLEY_OK;
    }
    *name = slice(p, (size_t)(sp - p));
    const uint8_t *a = sp + 1;
    size_t rest = len - (size_t)(a - p);
    const uint8_t *sp2 = rest ? memchr(a, ' ', rest) : NULL;
    *app = slice(a, sp2 ? (size_t)(sp2 - a) : rest);
    return PARLEY_OK;
}

/* Splits off the field before the next space: *field gets it, and *rest
   what follows the space (empty, at the end, if there is none). */
static void
next_field(pl_rv_slice *rest, pl_rv_slice *field)
{
    const uint8_t *sp = rest->len ? memchr(rest->p, ' ', rest->len) : NULL;
    if (sp == NULL) {
        *field = *rest;
        *rest = slice(rest->p + rest->len, 0);
        return;
    }
    *field = slice(rest->p, (size_t)(sp - rest->p));
    size_t used = field->len + 1;
    *rest = slice(rest->p + used, rest->len - used);
}

void
pl_rv_msg_parse(const uint8_t *p, size_t len, pl_rv_msg *m)
{
    memset(m, 0, sizeof *m);
    m->name = m->target = slice(p, 0);
    m->contents = slice(p, len);
    size_t skip = 0;
    if (has_prefix(p, len, "RETURNEVENT ")) {
        m->type = PL_RV_MSG_RETURNEVENT;
        skip = 12;
    } else if (has_prefix(p, len, "EVENT ")) {
        m->type = PL_RV_MSG_EVENT;
        skip = 6;
    } else if (has_prefix(p, len, "RETURN ") ||
               (len == 6 && memcmp(p, "RETURN", 6) == 0)) {
        m->type = PL_RV_MSG_RETURN;
        m->contents = len > 7 ? slice(p + 7, len - 7) : slice(p + len, 0);
        return;
    } else if (has_prefix(p, len, "DISCONNECT")) {
        m->type = PL_RV_MSG_DISCONNECT;
        return;
    } else {
        return;
    }
    pl_rv_slice rest = slice(p + skip, len - skip);
    next_field(&rest, &m->name);
    next_field(&rest, &m->target);
    m->contents = rest;
}

void
pl_rv_tile_defaults(pl_rv_tile *t)
{
    memset(t, 0, sizeof *t);
    t->event = slice((const uint8_t *)"pixel-block", 11);
    t->media = slice((const uint8_t *)"", 0);
    t->layer = slice((const uint8_t *)"-", 1);
    t->view = slice((const uint8_t *)"-", 1);
}

static int
is_sep(uint8_t c)
{
    return c == '(' || c == ')' || c == ',' || c == ' ';
}

/* atoi on a slice: sign, digits, stop at anything else. PARLEY_EPROTO when
   the value does not fit int32. */
static int
parse_i32(pl_rv_slice v, int32_t *out)
{
    size_t i = 0;
    int neg = 0;
    int64_t x = 0;
    if (i < v.len && (v.p[i] == '-' || v.p[i] == '+')) {
        neg = v.p[i] == '-';
        i++;
    }
    for (; i < v.len && v.p[i] >= '0' && v.p[i] <= '9'; i++) {
        x = x * 10 + (v.p[i] - '0');
        if (x > (int64_t)INT32_MAX + 1) {
            return PARLEY_EPROTO;
        }
    }
    x = neg ? -x : x;
    if (x > INT32_MAX) {
        return PARLEY_EPROTO;
    }
    *out = (int32_t)x;
    return PARLEY_OK;
}

/* Splits "k=v" as RV does (on '=', empty parts dropped, exactly two). */
static int
split_kv(pl_rv_slice piece, pl_rv_slice *k, pl_rv_slice *v)
{
    size_t parts = 0;
    size_t i = 0;
    while (i < piece.len) {
        while (i < piece.len && piece.p[i] == '=') {
            i++;
        }
        if (i == piece.len) {
            break;
        }
        size_t s = i;
        while (i < piece.len && piece.p[i] != '=') {
            i++;
        }
        if (++parts > 2) {
            return 0;
        }
        *(parts == 1 ? k : v) = slice(piece.p + s, i - s);
    }
    return parts == 2;
}

static int
key_is(pl_rv_slice k, const char *name)
{
    return k.len == strlen(name) && memcmp(k.p, name, k.len) == 0;
}

static int
tile_field(pl_rv_tile *t, pl_rv_slice k, pl_rv_slice v)
{
    static const char *const ints[] = {"w", "h", "x", "y", "f"};
    int32_t *slots[] = {&t->w, &t->h, &t->x, &t->y, &t->f};
    for (size_t i = 0; i < 5; i++) {
        if (key_is(k, ints[i])) {
            return parse_i32(v, slots[i]);
        }
    }
    if (key_is(k, "event")) {
        t->event = v;
    } else if (key_is(k, "media")) {
        t->media = v;
    } else if (key_is(k, "layer")) {
        t->layer = v;
    } else if (key_is(k, "view")) {
        t->view = v;
    }
    return PARLEY_OK;
}

int
pl_rv_tile_parse(const uint8_t *interp, size_t len, pl_rv_tile *t)
{
    pl_rv_tile_defaults(t);
    size_t i = 0;
    while (i < len) {
        while (i < len && is_sep(interp[i])) {
            i++;
        }
        size_t s = i;
        while (i < len && !is_sep(interp[i])) {
            i++;
        }
        pl_rv_slice k, v;
        if (i > s && split_kv(slice(interp + s, i - s), &k, &v) &&
            tile_field(t, k, v) != PARLEY_OK) {
            return PARLEY_EPROTO;
        }
    }
    return t->w < 0 || t->h < 0 ? PARLEY_EPROTO : PARLEY_OK;
}

static int
tile_str_ok(pl_rv_slice s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (is_sep(s.p[i]) || s.p[i] == '=') {
            return 0;
        }
    }
    return s.p != NULL || s.len == 0;
}

static int
slice_is(pl_rv_slice s, const char *text)
{
    return s.len == strlen(text) &&
           (s.len == 0 || memcmp(s.p, text, s.len) == 0);
}

static void
wr_kv(pl_wr *wr, int *first, const char *key, pl_rv_slice v)
{
    if (!*first) {
        pl_wr_u8(wr, ',');
    }
    *first = 0;
    wr_str(wr, key);
    pl_wr_u8(wr, '=');
    pl_wr_bytes(wr, v.p, v.len);
}

static void
wr_ki(pl_wr *wr, int *first, const char *key, int32_t v)
{
    if (!*first) {
        pl_wr_u8(wr, ',');
    }
    *first = 0;
    wr_str(wr, key);
    pl_wr_u8(wr, '=');
    if (v < 0) {
        pl_wr_u8(wr, '-');
    }
    wr_dec(wr, v < 0 ? (uint64_t)(-(int64_t)v) : (uint64_t)v);
}

int
pl_rv_tile_encode(pl_wr *wr, const pl_rv_tile *t)
{
    if (!tile_str_ok(t->event) || !tile_str_ok(t->media) ||
        !tile_str_ok(t->layer) || !tile_str_ok(t->view) || t->w < 0 ||
        t->h < 0) {
        return PARLEY_EINVAL;
    }
    size_t start = wr->off;
    int first = 1;
    wr_str(wr, "PIXELTILE(");
    if (t->media.len > 0) {
        wr_kv(wr, &first, "media", t->media);
    }
    if (t->layer.len > 0 && !slice_is(t->layer, "-")) {
        wr_kv(wr, &first, "layer", t->layer);
    }
    if (t->view.len > 0 && !slice_is(t->view, "-")) {
        wr_kv(wr, &first, "view", t->view);
    }
    if (t->event.len > 0 && !slice_is(t->event, "pixel-block")) {
        wr_kv(wr, &first, "event", t->event);
    }
    wr_ki(wr, &first, "w", t->w);
    wr_ki(wr, &first, "h", t->h);
    wr_ki(wr, &first, "x", t->x);
    wr_ki(wr, &first, "y", t->y);
    wr_ki(wr, &first, "f", t->f);
    pl_wr_u8(wr, ')');
    return pl_wr_finish(wr, start);
}

int
pl_rv_dataevent_parse(const uint8_t *interp, size_t len, pl_rv_dataevent *d)
{
    pl_rv_slice tok[4];
    size_t n = 0, i = 0;
    while (i < len && n < 4) {
        while (i < len && is_sep(interp[i])) {
            i++;
        }
        size_t s = i;
        while (i < len && !is_sep(interp[i])) {
            i++;
        }
        if (i > s) {
            tok[n++] = slice(interp + s, i - s);
        }
    }
    if (n < 4) {
        return PARLEY_EPROTO;
    }
    d->event = tok[1];
    d->target = tok[2];
    d->content_type = tok[3];
    return PARLEY_OK;
}

static int
dataevent_field_ok(const char *s)
{
    if (s == NULL || *s == '\0') {
        return 0;
    }
    for (; *s; s++) {
        if (is_sep((uint8_t)*s)) {
            return 0;
        }
    }
    return 1;
}

int
pl_rv_dataevent_encode(pl_wr *wr, const char *event, const char *target,
                       const char *content_type)
{
    if (!dataevent_field_ok(event) || !dataevent_field_ok(target) ||
        !dataevent_field_ok(content_type)) {
        return PARLEY_EINVAL;
    }
    size_t start = wr->off;
    wr_str(wr, "DATAEVENT(");
    wr_str(wr, event);
    pl_wr_u8(wr, ',');
    wr_str(wr, target);
    pl_wr_u8(wr, ',');
    wr_str(wr, content_type);
    pl_wr_u8(wr, ')');
    return pl_wr_finish(wr, start);
}
