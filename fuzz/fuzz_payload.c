/*
 * Fuzz target: the payload reader and the session message decoder. The
 * first byte picks which. A payload the reader accepts is walked through
 * every public accessor, copied value by value into a builder (the bytes
 * must come out the same), and cross-checked against msgpack-c's own
 * unpacker, which must accept it too and end at the same byte. A session
 * message that decodes is encoded again and must give the same bytes.
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/parley.h"
#include "parley/payload.h"
#include "payload/evmsg.h"
#include "payload/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
                    #c);                                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* Visits every value below v; returns the deepest container nesting. */
static unsigned
walk(const parley_value *v)
{
    parley_iter it;
    parley_value k, x, y;
    unsigned deepest = 0;
    uint32_t i = 0;
    int64_t n;
    double d;

    (void)parley_value_as_int(v, &n);
    (void)parley_value_as_double(v, &d);
    if (v->type != PARLEY_TYPE_ARRAY && v->type != PARLEY_TYPE_MAP) {
        return 0;
    }
    CHECK(parley_iter_init(&it, v) == PARLEY_OK);
    while (parley_iter_next(&it, &k, &x) == 1) {
        unsigned dx = walk(&x);
        unsigned dk = v->type == PARLEY_TYPE_MAP ? walk(&k) : 0;
        if (dx > deepest) {
            deepest = dx;
        }
        if (dk > deepest) {
            deepest = dk; /* keys may be containers too */
        }
        if (v->type == PARLEY_TYPE_ARRAY) {
            /* Index access finds the same bytes. */
            CHECK(parley_value_at(v, i, &y) == PARLEY_OK);
            CHECK(y.raw == x.raw && y.raw_len == x.raw_len);
        } else if (k.type == PARLEY_TYPE_STR && k.v.str.len < 64 &&
                   memchr(k.v.str.ptr, 0, k.v.str.len) == NULL) {
            char key[64];
            memcpy(key, k.v.str.ptr, k.v.str.len);
            key[k.v.str.len] = '\0';
            CHECK(parley_value_get(v, key, &y) == PARLEY_OK);
        }
        i++;
    }
    CHECK(i == v->v.seq.count);
    CHECK(parley_value_at(v, i, &y) != PARLEY_OK);
    return deepest + 1;
}

/* Rebuilds the payload from its values: the same values, byte for byte. */
static void
rebuild(const parley_payload *p, const uint8_t *data, size_t size)
{
    parley_builder *b;
    parley_value k, v;
    const uint8_t *out;
    size_t len;

    if (parley_builder_create(&b) != PARLEY_OK) {
        return;
    }
    for (uint32_t i = 0; parley_payload_arg(p, i, &v) == PARLEY_OK; i++) {
        CHECK(parley_builder_value(b, &v) == PARLEY_OK);
    }
    for (uint32_t i = 0; parley_payload_kwarg_at(p, i, &k, &v) == PARLEY_OK;
         i++) {
        CHECK(parley_builder_keyn(b, k.v.str.ptr, k.v.str.len) == PARLEY_OK);
        CHECK(parley_builder_value(b, &v) == PARLEY_OK);
    }
    CHECK(parley_builder_finish(b, &out, &len) == PARLEY_OK);
    /* The outer headers may have been written wider than needed. */
    parley_payload q;
    CHECK(parley_payload_parse(out, len, &q) == PARLEY_OK);
    CHECK(q.args.v.seq.len == p->args.v.seq.len &&
          memcmp(q.args.v.seq.ptr, p->args.v.seq.ptr, q.args.v.seq.len) == 0);
    /* Keys are written again (in the smallest form); values are copied. */
    CHECK(q.kwargs.v.seq.count == p->kwargs.v.seq.count);
    for (uint32_t i = 0; parley_payload_kwarg_at(p, i, &k, &v) == PARLEY_OK;
         i++) {
        parley_value k2, v2;
        CHECK(parley_payload_kwarg_at(&q, i, &k2, &v2) == PARLEY_OK);
        CHECK(k2.v.str.len == k.v.str.len &&
              memcmp(k2.v.str.ptr, k.v.str.ptr, k.v.str.len) == 0);
        CHECK(v2.raw_len == v.raw_len && memcmp(v2.raw, v.raw, v.raw_len) == 0);
    }
    (void)data;
    (void)size;
    parley_builder_destroy(b);
}

/* msgpack-c must take whatever the walker takes (within its own stack
   limit of MSGPACK_EMBED_STACK_SIZE nested containers). */
static void
cross_check(const uint8_t *data, size_t size, unsigned depth)
{
    msgpack_unpacked u;
    size_t off = 0;
    msgpack_unpack_return r;

    if (depth >= 32) {
        return;
    }
    msgpack_unpacked_init(&u);
    r = msgpack_unpack_next(&u, (const char *)data, size, &off);
    CHECK(r == MSGPACK_UNPACK_SUCCESS);
    CHECK(off == size);
    CHECK(u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size == 2);
    msgpack_unpacked_destroy(&u);
}

static void
check_payload(const uint8_t *data, size_t size)
{
    parley_payload p;
    unsigned depth;

    if (parley_payload_parse(data, size, &p) != PARLEY_OK) {
        return;
    }
    depth = walk(&p.args);
    unsigned dk = walk(&p.kwargs);
    depth = (dk > depth ? dk : depth) + 1;
    rebuild(&p, data, size);
    cross_check(data, size, depth);
}

static void
check_evmsg(const uint8_t *data, size_t size)
{
    pl_evmsg m;
    uint8_t *buf;
    pl_wr w;
    size_t n;

    if (pl_evmsg_decode(data, size, &m) != PARLEY_OK) {
        return;
    }
    n = pl_evmsg_size(&m);
    CHECK(n <= size); /* HELLO/WELCOME may carry ignored extra bytes */
    buf = malloc(n ? n : 1);
    CHECK(buf != NULL);
    pl_wr_init(&w, buf, n);
    CHECK(pl_evmsg_encode(&w, &m) == PARLEY_OK);
    CHECK(w.off == n && memcmp(buf, data, n) == 0);
    free(buf);
    if (m.kind == PL_EV_EVENT) {
        check_payload(m.payload, m.payload_len);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    if (data[0] & 1) {
        check_evmsg(data + 1, size - 1);
    } else {
        check_payload(data + 1, size - 1);
    }
    return 0;
}
