/*
 * The payload reader: a bounded MessagePack walker that reads values in
 * place. Nothing is copied or allocated, whatever is read; every length
 * is checked against the bytes left, and nesting is limited, so hostile
 * bytes give PARLEY_EPROTO and nothing else. (msgpack-c's unpacker builds
 * a tree in a zone allocator; docs/events.md explains why this walker is
 * used for reading instead.)
 */
#include "payload/internal.h"

#include <string.h>

/* Big-endian unsigned integer of n bytes at p (n <= 8). */
static uint64_t
be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void
set_int(parley_value *v, int64_t i)
{
    v->type = PARLEY_TYPE_INT;
    v->v.i = i;
}

static void
set_uint(parley_value *v, uint64_t u)
{
    if (u <= (uint64_t)INT64_MAX) {
        set_int(v, (int64_t)u);
    } else {
        v->type = PARLEY_TYPE_UINT;
        v->v.u = u;
    }
}

/* Sign-extends an n-byte two's complement value. */
static int64_t
sign_extend(uint64_t u, size_t n)
{
    if (n < 8 && (u >> (8 * n - 1)) & 1) {
        u |= ~UINT64_C(0) << (8 * n);
    }
    return (int64_t)u;
}

static void
set_float(parley_value *v, uint64_t bits, size_t n)
{
    v->type = PARLEY_TYPE_DOUBLE;
    if (n == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        v->v.d = (double)f;
    } else {
        memcpy(&v->v.d, &bits, sizeof v->v.d);
    }
}

/* A container header: the count must fit in the bytes left, one byte per
   element at least, so a hostile count cannot make anything loop long. */
static int
set_seq(parley_value *v, parley_type type, uint64_t count, size_t left)
{
    uint64_t items = type == PARLEY_TYPE_MAP ? 2 * count : count;

    if (items > left) {
        return PARLEY_EPROTO;
    }
    v->type = type;
    v->v.seq.count = (uint32_t)count;
    v->v.seq.len = 0;
    return PARLEY_OK;
}

/* Str/bin body of n bytes at *off; moves past it. */
static int
set_blob(parley_value *v, parley_type type, const uint8_t *p, size_t len,
         size_t *off, uint64_t n)
{
    if (n > len - *off) {
        return PARLEY_EPROTO;
    }
    v->type = type;
    if (type == PARLEY_TYPE_STR) {
        v->v.str.ptr = (const char *)p + *off;
        v->v.str.len = (size_t)n;
    } else {
        v->v.bytes.ptr = p + *off;
        v->v.bytes.len = (size_t)n;
    }
    *off += (size_t)n;
    return PARLEY_OK;
}

/* Size of the length/number field that follows each first byte
   0xc0..0xdf (0: none; 0xff: not supported). */
static const uint8_t field_size[32] = {
    0,    0xff, 0, 0, 1,    2,    4,    0xff, /* c0..c7 */
    0xff, 0xff, 4, 8, 1,    2,    4,    8,    /* c8..cf */
    1,    2,    4, 8, 0xff, 0xff, 0xff, 0xff, /* d0..d7 */
    0xff, 1,    2, 4, 2,    4,    2,    4,    /* d8..df */
};

/* The formats 0xc0..0xdf, once the first byte c has been read. */
static int
read_ext_head(const uint8_t *p, size_t len, size_t *off, uint8_t c,
              parley_value *v)
{
    size_t n = field_size[c - 0xc0];
    uint64_t x;

    if (n == 0xff || len - *off < n) {
        return PARLEY_EPROTO;
    }
    x = be(p + *off, n);
    *off += n;
    switch (c) {
    case 0xc0:
        v->type = PARLEY_TYPE_NIL;
        return PARLEY_OK;
    case 0xc2:
    case 0xc3:
        v->type = PARLEY_TYPE_BOOL;
        v->v.b = c == 0xc3;
        return PARLEY_OK;
    case 0xc4:
    case 0xc5:
    case 0xc6:
        return set_blob(v, PARLEY_TYPE_BYTES, p, len, off, x);
    case 0xca:
    case 0xcb:
        set_float(v, x, n);
        return PARLEY_OK;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        set_uint(v, x);
        return PARLEY_OK;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        set_int(v, sign_extend(x, n));
        return PARLEY_OK;
    case 0xd9:
    case 0xda:
    case 0xdb:
        return set_blob(v, PARLEY_TYPE_STR, p, len, off, x);
    case 0xdc:
    case 0xdd:
        return set_seq(v, PARLEY_TYPE_ARRAY, x, len - *off);
    default: /* 0xde, 0xdf */
        return set_seq(v, PARLEY_TYPE_MAP, x, len - *off);
    }
}

/*
 * Reads one value's head at *off: a scalar whole, or a container's count
 * (the elements follow at the new *off). PARLEY_OK or PARLEY_EPROTO.
 */
static int
read_head(const uint8_t *p, size_t len, size_t *off, parley_value *v)
{
    uint8_t c;

    if (*off >= len) {
        return PARLEY_EPROTO;
    }
    c = p[(*off)++];
    if (c <= 0x7f) {
        set_int(v, c);
        return PARLEY_OK;
    }
    if (c >= 0xe0) {
        set_int(v, (int8_t)c);
        return PARLEY_OK;
    }
    if (c >= 0xc0) {
        return read_ext_head(p, len, off, c, v);
    }
    if (c >= 0xa0) {
        return set_blob(v, PARLEY_TYPE_STR, p, len, off, c & 0x1f);
    }
    return set_seq(v, c >= 0x90 ? PARLEY_TYPE_ARRAY : PARLEY_TYPE_MAP, c & 0x0f,
                   len - *off);
}

/* Moves *off past n whole values. */
static int
skip_values(const uint8_t *p, size_t len, size_t *off, uint64_t n)
{
    while (n > 0) {
        parley_value v;
        int rc = read_head(p, len, off, &v);

        if (rc != PARLEY_OK) {
            return rc;
        }
        n--;
        if (v.type == PARLEY_TYPE_ARRAY) {
            n += v.v.seq.count;
        } else if (v.type == PARLEY_TYPE_MAP) {
            n += 2 * (uint64_t)v.v.seq.count;
        }
    }
    return PARLEY_OK;
}

int
pl_mp_read(const uint8_t *p, size_t len, size_t *off, parley_value *v)
{
    size_t start = *off;
    size_t pos = start;
    int rc;

    if (p == NULL && len != 0) {
        return PARLEY_EPROTO;
    }
    rc = read_head(p, len, &pos, v);
    if (rc != PARLEY_OK) {
        return rc;
    }
    if (v->type == PARLEY_TYPE_ARRAY || v->type == PARLEY_TYPE_MAP) {
        size_t body = pos;
        uint64_t items = v->v.seq.count;

        if (v->type == PARLEY_TYPE_MAP) {
            items *= 2;
        }
        rc = skip_values(p, len, &pos, items);
        if (rc != PARLEY_OK) {
            return rc;
        }
        v->v.seq.ptr = p + body;
        v->v.seq.len = pos - body;
    }
    v->raw = p + start;
    v->raw_len = pos - start;
    *off = pos;
    return PARLEY_OK;
}

int
pl_mp_validate(const uint8_t *p, size_t len, unsigned max_depth, size_t *end)
{
    return pl_mp_validate_ex(p, len, max_depth, 0, end);
}

int
pl_mp_validate_ex(const uint8_t *p, size_t len, unsigned max_depth,
                  int top_keys_str, size_t *end)
{
    /* pending[d]: values still to read in the container open at depth d
       (depth 0 is the single top-level value); is_map[d]: it is a map,
       so an even pending count means a key comes next. */
    uint64_t pending[PARLEY_PAYLOAD_MAX_DEPTH + 8];
    uint8_t is_map[PARLEY_PAYLOAD_MAX_DEPTH + 8];
    unsigned depth = 0;
    size_t off = 0;

    if (max_depth > PARLEY_PAYLOAD_MAX_DEPTH + 6 || (p == NULL && len)) {
        return PARLEY_EPROTO;
    }
    pending[0] = 1;
    is_map[0] = 0;
    for (;;) {
        parley_value v;
        int key;

        if (pending[depth] == 0) {
            if (depth == 0) {
                break;
            }
            depth--;
            continue;
        }
        key = is_map[depth] && pending[depth] % 2 == 0;
        pending[depth]--;
        if (read_head(p, len, &off, &v) != PARLEY_OK ||
            (key && depth == 1 && top_keys_str && v.type != PARLEY_TYPE_STR)) {
            return PARLEY_EPROTO;
        }
        if (v.type == PARLEY_TYPE_ARRAY || v.type == PARLEY_TYPE_MAP) {
            if (depth + 1 > max_depth) {
                return PARLEY_EPROTO;
            }
            depth++;
            is_map[depth] = v.type == PARLEY_TYPE_MAP;
            pending[depth] =
                is_map[depth] ? 2 * (uint64_t)v.v.seq.count : v.v.seq.count;
        }
    }
    *end = off;
    return PARLEY_OK;
}

int
pl_mp_read_valid(const uint8_t *p, size_t len, size_t *off, unsigned max_depth,
                 int top_keys_str, parley_value *v)
{
    size_t start = *off, end = 0, pos = start;

    if (start > len ||
        pl_mp_validate_ex(p + start, len - start, max_depth, top_keys_str,
                          &end) != PARLEY_OK ||
        read_head(p, start + end, &pos, v) != PARLEY_OK) {
        return PARLEY_EPROTO;
    }
    if (v->type == PARLEY_TYPE_ARRAY || v->type == PARLEY_TYPE_MAP) {
        v->v.seq.ptr = p + pos;
        v->v.seq.len = start + end - pos;
    }
    v->raw = p + start;
    v->raw_len = end;
    *off = start + end;
    return PARLEY_OK;
}
