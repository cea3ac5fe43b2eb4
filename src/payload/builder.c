/*
 * The payload builder: encodes positional and keyword arguments as
 * MessagePack with msgpack-c's packer, into two growing buffers (args and
 * kwargs) joined by finish. Arrays and maps are opened and closed without
 * a count up front: a 5-byte header is reserved and shrunk to the
 * smallest form when the container closes, so the output is the same as
 * any MessagePack library's.
 */
#include "parley/payload.h"

#include <msgpack.h>
#include <string.h>

#include "payload/internal.h"
#include "util/alloc.h"

/* The largest container header: 0xdd or 0xdf and a 32-bit count. */
#define MAX_HDR 5

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

typedef struct frame {
    uint8_t part; /* 0: args, 1: kwargs */
    uint8_t is_map;
    uint8_t want_value; /* a map: a key was written, its value is due */
    uint32_t count;     /* elements, or complete pairs */
    size_t hdr_off;     /* where the reserved header starts */
} frame;

struct parley_builder {
    buf part[2]; /* encoded positional values / keyword pairs */
    buf out;     /* the joined payload, made by finish */
    buf *target; /* where the packer writes now */
    uint32_t nargs, nkw;
    int top_key; /* a keyword was written; its value is due */
    unsigned depth;
    frame stack[PARLEY_PAYLOAD_MAX_DEPTH];
    int err;
    int fresh; /* out matches the parts */
};

static int
buf_reserve(buf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 64;

    if (b->len + more <= b->cap) {
        return PARLEY_OK;
    }
    if (more > PARLEY_PAYLOAD_MAX + 64 - b->len) {
        return PARLEY_EMSGSIZE;
    }
    while (cap < b->len + more) {
        cap *= 2;
    }
    uint8_t *p = pl_realloc(b->p, cap);
    if (p == NULL) {
        return PARLEY_ENOMEM;
    }
    b->p = p;
    b->cap = cap;
    return PARLEY_OK;
}

/* msgpack-c calls this for every piece it packs. */
static int
pack_write(void *data, const char *src, size_t len)
{
    parley_builder *b = data;
    buf *t = b->target;
    int rc;

    if (len == 0) {
        return 0;
    }
    if (t != &b->out &&
        b->part[0].len + b->part[1].len + len > PARLEY_PAYLOAD_MAX) {
        b->err = PARLEY_EMSGSIZE;
        return -1;
    }
    rc = buf_reserve(t, len);
    if (rc != PARLEY_OK) {
        b->err = rc;
        return -1;
    }
    memcpy(t->p + t->len, src, len);
    t->len += len;
    return 0;
}

int
parley_builder_create(parley_builder **out)
{
    parley_builder *b;

    if (out == NULL) {
        return PARLEY_EINVAL;
    }
    b = pl_calloc(1, sizeof *b);
    if (b == NULL) {
        return PARLEY_ENOMEM;
    }
    *out = b;
    return PARLEY_OK;
}

void
parley_builder_destroy(parley_builder *b)
{
    if (b == NULL) {
        return;
    }
    pl_free(b->part[0].p);
    pl_free(b->part[1].p);
    pl_free(b->out.p);
    pl_free(b);
}

void
parley_builder_reset(parley_builder *b)
{
    if (b == NULL) {
        return;
    }
    b->part[0].len = 0;
    b->part[1].len = 0;
    b->out.len = 0;
    b->nargs = 0;
    b->nkw = 0;
    b->top_key = 0;
    b->depth = 0;
    b->err = 0;
    b->fresh = 0;
}

/* Chooses the buffer the next value goes to; checks a map's state. */
static int
before_value(parley_builder *b)
{
    if (b == NULL) {
        return PARLEY_EINVAL;
    }
    if (b->err) {
        return b->err;
    }
    b->fresh = 0;
    if (b->depth > 0) {
        frame *f = &b->stack[b->depth - 1];
        if (f->is_map && !f->want_value) {
            return PARLEY_ESTATE;
        }
        b->target = &b->part[f->part];
    } else {
        b->target = &b->part[b->top_key ? 1 : 0];
    }
    return PARLEY_OK;
}

/* Counts a value just written in its container (or the top level). */
static void
after_value(parley_builder *b)
{
    if (b->depth > 0) {
        frame *f = &b->stack[b->depth - 1];
        f->want_value = 0;
        f->count++;
    } else if (b->top_key) {
        b->top_key = 0;
        b->nkw++;
    } else {
        b->nargs++;
    }
}

/* Ends a call: a packer failure becomes the sticky error. */
static int
done(parley_builder *b, int pack_rc)
{
    if (pack_rc != 0) {
        if (!b->err) {
            b->err = PARLEY_ENOMEM;
        }
        return b->err;
    }
    after_value(b);
    return PARLEY_OK;
}

#define BEGIN_PACK(b, pk)                                                      \
    msgpack_packer pk;                                                         \
    int rc_ = before_value(b);                                                 \
    if (rc_ != PARLEY_OK) {                                                    \
        return rc_;                                                            \
    }                                                                          \
    msgpack_packer_init(&pk, (b), pack_write)

int
parley_builder_nil(parley_builder *b)
{
    BEGIN_PACK(b, pk);
    return done(b, msgpack_pack_nil(&pk));
}

int
parley_builder_bool(parley_builder *b, int v)
{
    BEGIN_PACK(b, pk);
    return done(b, v ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk));
}

int
parley_builder_int(parley_builder *b, int64_t v)
{
    BEGIN_PACK(b, pk);
    return done(b, msgpack_pack_int64(&pk, v));
}

int
parley_builder_uint(parley_builder *b, uint64_t v)
{
    BEGIN_PACK(b, pk);
    return done(b, msgpack_pack_uint64(&pk, v));
}

int
parley_builder_double(parley_builder *b, double v)
{
    BEGIN_PACK(b, pk);
    return done(b, msgpack_pack_double(&pk, v));
}

int
parley_builder_strn(parley_builder *b, const char *s, size_t len)
{
    if (b != NULL && s == NULL && len != 0) {
        return PARLEY_EINVAL;
    }
    if (len > PARLEY_PAYLOAD_MAX) {
        return PARLEY_EMSGSIZE;
    }
    BEGIN_PACK(b, pk);
    int rc = msgpack_pack_str(&pk, len);
    if (rc == 0 && len > 0) {
        rc = msgpack_pack_str_body(&pk, s, len);
    }
    return done(b, rc);
}

int
parley_builder_str(parley_builder *b, const char *s)
{
    if (s == NULL) {
        return PARLEY_EINVAL;
    }
    return parley_builder_strn(b, s, strlen(s));
}

int
parley_builder_bytes(parley_builder *b, const void *p, size_t len)
{
    if (b != NULL && p == NULL && len != 0) {
        return PARLEY_EINVAL;
    }
    if (len > PARLEY_PAYLOAD_MAX) {
        return PARLEY_EMSGSIZE;
    }
    BEGIN_PACK(b, pk);
    int rc = msgpack_pack_bin(&pk, len);
    if (rc == 0 && len > 0) {
        rc = msgpack_pack_bin_body(&pk, p, len);
    }
    return done(b, rc);
}

int
parley_builder_value(parley_builder *b, const parley_value *v)
{
    size_t end = 0;

    if (v == NULL || v->raw == NULL || v->raw_len == 0) {
        return PARLEY_EINVAL;
    }
    if (b != NULL && !b->err &&
        (pl_mp_validate(v->raw, v->raw_len, PARLEY_PAYLOAD_MAX_DEPTH - b->depth,
                        &end) != PARLEY_OK ||
         end != v->raw_len)) {
        return PARLEY_EINVAL;
    }
    BEGIN_PACK(b, pk);
    (void)pk;
    return done(b, pack_write(b, (const char *)v->raw, v->raw_len));
}

int
parley_builder_keyn(parley_builder *b, const char *key, size_t len)
{
    msgpack_packer pk;
    int rc;

    if (b == NULL || (key == NULL && len != 0)) {
        return PARLEY_EINVAL;
    }
    if (b->err) {
        return b->err;
    }
    b->fresh = 0;
    if (b->depth > 0) {
        frame *f = &b->stack[b->depth - 1];
        if (!f->is_map || f->want_value) {
            return PARLEY_ESTATE;
        }
        b->target = &b->part[f->part];
    } else {
        if (b->top_key) {
            return PARLEY_ESTATE;
        }
        b->target = &b->part[1];
    }
    msgpack_packer_init(&pk, b, pack_write);
    rc = msgpack_pack_str(&pk, len);
    if (rc == 0 && len > 0) {
        rc = msgpack_pack_str_body(&pk, key, len);
    }
    if (rc != 0) {
        return b->err ? b->err : (b->err = PARLEY_ENOMEM);
    }
    if (b->depth > 0) {
        b->stack[b->depth - 1].want_value = 1;
    } else {
        b->top_key = 1;
    }
    return PARLEY_OK;
}

int
parley_builder_key(parley_builder *b, const char *key)
{
    if (key == NULL) {
        return PARLEY_EINVAL;
    }
    return parley_builder_keyn(b, key, strlen(key));
}

static int
begin(parley_builder *b, int is_map)
{
    static const char zeros[MAX_HDR] = {0};
    int rc = before_value(b);
    frame *f;

    if (rc != PARLEY_OK) {
        return rc;
    }
    if (b->depth >= PARLEY_PAYLOAD_MAX_DEPTH) {
        return b->err = PARLEY_ERANGE;
    }
    if (pack_write(b, zeros, MAX_HDR) != 0) {
        return b->err;
    }
    f = &b->stack[b->depth++];
    f->part = (uint8_t)(b->target - b->part);
    f->is_map = (uint8_t)is_map;
    f->want_value = 0;
    f->count = 0;
    f->hdr_off = b->target->len - MAX_HDR;
    return PARLEY_OK;
}

/* Writes the smallest header for the closed container over the reserved
   bytes and moves the elements up against it. */
static int
end(parley_builder *b, int is_map)
{
    char hdr[MAX_HDR];
    buf tmp = {(uint8_t *)hdr, 0, sizeof hdr};
    buf *saved;
    msgpack_packer pk;
    frame *f;
    buf *t;

    if (b == NULL) {
        return PARLEY_EINVAL;
    }
    if (b->err) {
        return b->err;
    }
    if (b->depth == 0) {
        return PARLEY_ESTATE;
    }
    f = &b->stack[b->depth - 1];
    if (f->is_map != is_map || f->want_value) {
        return PARLEY_ESTATE;
    }
    saved = b->target;
    b->target = &tmp;
    msgpack_packer_init(&pk, b, pack_write);
    if (is_map) {
        msgpack_pack_map(&pk, f->count);
    } else {
        msgpack_pack_array(&pk, f->count);
    }
    b->target = saved;
    t = &b->part[f->part];
    memmove(t->p + f->hdr_off + tmp.len, t->p + f->hdr_off + MAX_HDR,
            t->len - f->hdr_off - MAX_HDR);
    memcpy(t->p + f->hdr_off, hdr, tmp.len);
    t->len -= MAX_HDR - tmp.len;
    b->depth--;
    b->fresh = 0;
    after_value(b);
    return PARLEY_OK;
}

int
parley_builder_array_begin(parley_builder *b)
{
    return begin(b, 0);
}

int
parley_builder_array_end(parley_builder *b)
{
    return end(b, 0);
}

int
parley_builder_map_begin(parley_builder *b)
{
    return begin(b, 1);
}

int
parley_builder_map_end(parley_builder *b)
{
    return end(b, 1);
}

int
parley_builder_finish(parley_builder *b, const uint8_t **data, size_t *len)
{
    msgpack_packer pk;

    if (b == NULL || data == NULL || len == NULL) {
        return PARLEY_EINVAL;
    }
    if (b->err) {
        return b->err;
    }
    if (b->depth > 0 || b->top_key) {
        return PARLEY_ESTATE;
    }
    if (!b->fresh) {
        b->out.len = 0;
        b->target = &b->out;
        msgpack_packer_init(&pk, b, pack_write);
        if (buf_reserve(&b->out, b->part[0].len + b->part[1].len + 16) !=
                PARLEY_OK ||
            msgpack_pack_array(&pk, 2) != 0 ||
            msgpack_pack_array(&pk, b->nargs) != 0 ||
            pack_write(b, (const char *)b->part[0].p, b->part[0].len) != 0 ||
            msgpack_pack_map(&pk, b->nkw) != 0 ||
            pack_write(b, (const char *)b->part[1].p, b->part[1].len) != 0) {
            int rc = b->err ? b->err : PARLEY_ENOMEM;
            b->err = 0; /* the parts are intact: finish may be retried */
            return rc;
        }
        b->fresh = 1;
    }
    *data = b->out.p;
    *len = b->out.len;
    return PARLEY_OK;
}
