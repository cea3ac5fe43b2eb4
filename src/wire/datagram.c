/*
 * Panda3D datagram fields (parley/datagram.h): the builder appends
 * little- or big-endian fields to a growing or fixed buffer, the
 * iterator reads them back through a bounds-checked cursor, and the UDP
 * helpers add or check Panda3D's 2-byte checksum header.
 */
#include "parley/datagram.h"

#include <string.h>

#include "util/alloc.h"
#include "wire/cursor.h"
#include "wire/p3d.h"

/* First allocation of a growing datagram. */
#define DG_MIN_CAP 64

/* ---- builder --------------------------------------------------------- */

int
parley_dg_init(parley_dg *dg, size_t max)
{
    if (!dg) {
        return PARLEY_EINVAL;
    }
    memset(dg, 0, sizeof *dg);
    dg->max_ = max ? max : PARLEY_DG_DEFAULT_MAX;
    dg->owned_ = 1;
    return PARLEY_OK;
}

int
parley_dg_init_buffer(parley_dg *dg, void *buf, size_t cap)
{
    if (!dg || (!buf && cap > 0)) {
        return PARLEY_EINVAL;
    }
    memset(dg, 0, sizeof *dg);
    dg->data_ = buf;
    dg->cap_ = cap;
    dg->max_ = cap;
    return PARLEY_OK;
}

void
parley_dg_free(parley_dg *dg)
{
    if (!dg) {
        return;
    }
    if (dg->owned_) {
        pl_free(dg->data_);
        dg->data_ = NULL;
        dg->cap_ = 0;
    }
    dg->len_ = 0;
    dg->err_ = 0;
}

void
parley_dg_clear(parley_dg *dg)
{
    if (dg) {
        dg->len_ = 0;
        dg->err_ = 0;
    }
}

const uint8_t *
parley_dg_data(const parley_dg *dg)
{
    return dg && dg->len_ ? dg->data_ : NULL;
}

size_t
parley_dg_len(const parley_dg *dg)
{
    return dg ? dg->len_ : 0;
}

int
parley_dg_error(const parley_dg *dg)
{
    return dg ? dg->err_ : PARLEY_EINVAL;
}

/* Records the first error and passes err through. */
static int
note(parley_dg *dg, int err)
{
    if (dg && err != PARLEY_OK && dg->err_ == PARLEY_OK) {
        dg->err_ = err;
    }
    return err;
}

/* Makes room for n more bytes (all or nothing). */
static int
reserve(parley_dg *dg, size_t n)
{
    if (n > dg->max_ - dg->len_) {
        return dg->owned_ ? PARLEY_EMSGSIZE : PARLEY_ENOBUFS;
    }
    size_t want = dg->len_ + n;
    if (want <= dg->cap_) {
        return PARLEY_OK;
    }
    size_t cap = dg->cap_ ? dg->cap_ : DG_MIN_CAP;
    while (cap < want) {
        cap = cap > dg->max_ / 2 ? dg->max_ : cap * 2;
    }
    uint8_t *p = pl_realloc(dg->data_, cap);
    if (!p) {
        return PARLEY_ENOMEM;
    }
    dg->data_ = p;
    dg->cap_ = cap;
    return PARLEY_OK;
}

/* Appends a (len bytes, may be NULL when len is 0) then b, as one field,
   or nothing. */
static int
append2(parley_dg *dg, const void *a, size_t alen, const void *b, size_t blen)
{
    if (!dg || (!a && alen > 0) || (!b && blen > 0)) {
        return note(dg, PARLEY_EINVAL);
    }
    if (blen > SIZE_MAX - alen) {
        return note(dg, PARLEY_EMSGSIZE);
    }
    int rc = reserve(dg, alen + blen);
    if (rc != PARLEY_OK) {
        return note(dg, rc);
    }
    pl_wr wr;
    pl_wr_init(&wr, dg->data_ + dg->len_, dg->cap_ - dg->len_);
    pl_wr_bytes(&wr, a, alen);
    pl_wr_bytes(&wr, b, blen);
    dg->len_ += wr.off;
    return PARLEY_OK;
}

/* Appends an n-byte integer, little- (be == 0) or big-endian. */
static int
add_int(parley_dg *dg, uint64_t v, size_t n, int be)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++) {
        size_t shift = be ? 8 * (n - 1 - i) : 8 * i;
        b[i] = (uint8_t)(v >> shift);
    }
    return append2(dg, NULL, 0, b, n);
}

static uint32_t
f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t
f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

int
parley_dg_add_bool(parley_dg *dg, int value)
{
    return add_int(dg, value ? 1 : 0, 1, 0);
}

#define DG_ADD_(name, type, conv, n, be)                                       \
    int parley_dg_add_##name(parley_dg *dg, type value)                        \
    {                                                                          \
        return add_int(dg, conv, n, be);                                       \
    }

DG_ADD_(int8, int8_t, (uint8_t)value, 1, 0)
DG_ADD_(uint8, uint8_t, value, 1, 0)
DG_ADD_(int16, int16_t, (uint16_t)value, 2, 0)
DG_ADD_(uint16, uint16_t, value, 2, 0)
DG_ADD_(int32, int32_t, (uint32_t)value, 4, 0)
DG_ADD_(uint32, uint32_t, value, 4, 0)
DG_ADD_(int64, int64_t, (uint64_t)value, 8, 0)
DG_ADD_(uint64, uint64_t, value, 8, 0)
DG_ADD_(float32, float, f32_bits(value), 4, 0)
DG_ADD_(float64, double, f64_bits(value), 8, 0)
DG_ADD_(be_int16, int16_t, (uint16_t)value, 2, 1)
DG_ADD_(be_uint16, uint16_t, value, 2, 1)
DG_ADD_(be_int32, int32_t, (uint32_t)value, 4, 1)
DG_ADD_(be_uint32, uint32_t, value, 4, 1)
DG_ADD_(be_int64, int64_t, (uint64_t)value, 8, 1)
DG_ADD_(be_uint64, uint64_t, value, 8, 1)
DG_ADD_(be_float32, float, f32_bits(value), 4, 1)
DG_ADD_(be_float64, double, f64_bits(value), 8, 1)

#undef DG_ADD_

/* A length field of lsize bytes (LE), then the bytes, as one field. */
static int
add_counted(parley_dg *dg, const void *s, size_t len, size_t lsize)
{
    uint64_t limit = lsize == 2 ? 0xffffu : 0xffffffffu;
    if ((uint64_t)len > limit) {
        return note(dg, PARLEY_EMSGSIZE);
    }
    uint8_t hdr[4];
    for (size_t i = 0; i < lsize; i++) {
        hdr[i] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    return append2(dg, hdr, lsize, s, len);
}

int
parley_dg_add_string(parley_dg *dg, const void *s, size_t len)
{
    return add_counted(dg, s, len, 2);
}

int
parley_dg_add_string32(parley_dg *dg, const void *s, size_t len)
{
    return add_counted(dg, s, len, 4);
}

int
parley_dg_add_blob(parley_dg *dg, const void *b, size_t len)
{
    return add_counted(dg, b, len, 2);
}

int
parley_dg_add_blob32(parley_dg *dg, const void *b, size_t len)
{
    return add_counted(dg, b, len, 4);
}

int
parley_dg_add_z_string(parley_dg *dg, const void *s, size_t len)
{
    static const uint8_t nul = 0;
    if (!s && len > 0) {
        return note(dg, PARLEY_EINVAL);
    }
    const void *end = len ? memchr(s, 0, len) : NULL;
    if (end) {
        len = (size_t)((const uint8_t *)end - (const uint8_t *)s);
    }
    return append2(dg, s, len, &nul, 1);
}

int
parley_dg_append(parley_dg *dg, const void *b, size_t len)
{
    return append2(dg, NULL, 0, b, len);
}

int
parley_dg_pad(parley_dg *dg, size_t n)
{
    if (!dg) {
        return PARLEY_EINVAL;
    }
    int rc = reserve(dg, n);
    if (rc != PARLEY_OK) {
        return note(dg, rc);
    }
    if (n > 0) {
        memset(dg->data_ + dg->len_, 0, n);
    }
    dg->len_ += n;
    return PARLEY_OK;
}

int
parley_dg_add_fixed_string(parley_dg *dg, const void *s, size_t len,
                           size_t size)
{
    if (!dg || (!s && len > 0)) {
        return note(dg, PARLEY_EINVAL);
    }
    size_t take = len < size ? len : size;
    int rc = reserve(dg, size);
    if (rc != PARLEY_OK) {
        return note(dg, rc);
    }
    if (take > 0) {
        memcpy(dg->data_ + dg->len_, s, take);
    }
    if (size > take) {
        memset(dg->data_ + dg->len_ + take, 0, size - take);
    }
    dg->len_ += size;
    return PARLEY_OK;
}

/* ---- iterator -------------------------------------------------------- */

int
parley_dg_iter_init(parley_dg_iter *it, const void *data, size_t len)
{
    if (!it) {
        return PARLEY_EINVAL;
    }
    memset(it, 0, sizeof *it);
    if (!data && len > 0) {
        it->err_ = PARLEY_EINVAL;
        return PARLEY_EINVAL;
    }
    it->data_ = data;
    it->len_ = len;
    return PARLEY_OK;
}

int
parley_dg_iter_error(const parley_dg_iter *it)
{
    return it ? it->err_ : PARLEY_EINVAL;
}

size_t
parley_dg_iter_pos(const parley_dg_iter *it)
{
    return it ? it->pos_ : 0;
}

size_t
parley_dg_iter_remaining(const parley_dg_iter *it)
{
    return it && !it->err_ ? it->len_ - it->pos_ : 0;
}

/* The next n bytes through a cursor, or NULL with the error set. A
   zero-length take from an empty datagram gives a valid empty pointer. */
static const uint8_t *
take(parley_dg_iter *it, size_t n)
{
    static const uint8_t empty[1];
    if (!it || it->err_) {
        return NULL;
    }
    pl_rd rd;
    pl_rd_init(&rd, it->data_, it->len_);
    rd.off = it->pos_;
    const uint8_t *p = pl_rd_bytes(&rd, n);
    if (rd.err) {
        it->err_ = rd.err;
        return NULL;
    }
    it->pos_ = rd.off;
    return p ? p : empty;
}

static uint64_t
get_int(parley_dg_iter *it, size_t n, int be)
{
    const uint8_t *p = take(it, n);
    uint64_t v = 0;
    if (!p) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        size_t at = be ? i : n - 1 - i;
        v = (v << 8) | p[at];
    }
    return v;
}

static float
bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double
bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

int
parley_dg_get_bool(parley_dg_iter *it)
{
    return get_int(it, 1, 0) != 0;
}

#define DG_GET_(name, type, conv, n, be)                                       \
    type parley_dg_get_##name(parley_dg_iter *it)                              \
    {                                                                          \
        uint64_t v = get_int(it, n, be);                                       \
        return conv;                                                           \
    }

DG_GET_(int8, int8_t, (int8_t)(uint8_t)v, 1, 0)
DG_GET_(uint8, uint8_t, (uint8_t)v, 1, 0)
DG_GET_(int16, int16_t, (int16_t)(uint16_t)v, 2, 0)
DG_GET_(uint16, uint16_t, (uint16_t)v, 2, 0)
DG_GET_(int32, int32_t, (int32_t)(uint32_t)v, 4, 0)
DG_GET_(uint32, uint32_t, (uint32_t)v, 4, 0)
DG_GET_(int64, int64_t, (int64_t)v, 8, 0)
DG_GET_(uint64, uint64_t, v, 8, 0)
DG_GET_(float32, float, bits_f32((uint32_t)v), 4, 0)
DG_GET_(float64, double, bits_f64(v), 8, 0)
DG_GET_(be_int16, int16_t, (int16_t)(uint16_t)v, 2, 1)
DG_GET_(be_uint16, uint16_t, (uint16_t)v, 2, 1)
DG_GET_(be_int32, int32_t, (int32_t)(uint32_t)v, 4, 1)
DG_GET_(be_uint32, uint32_t, (uint32_t)v, 4, 1)
DG_GET_(be_int64, int64_t, (int64_t)v, 8, 1)
DG_GET_(be_uint64, uint64_t, v, 8, 1)
DG_GET_(be_float32, float, bits_f32((uint32_t)v), 4, 1)
DG_GET_(be_float64, double, bits_f64(v), 8, 1)

#undef DG_GET_

static void
set_len(size_t *len, size_t v)
{
    if (len) {
        *len = v;
    }
}

/* A length field then that many bytes; on a short body the iterator
   goes back to the length field, as if nothing had been read. */
static const uint8_t *
get_counted(parley_dg_iter *it, size_t lsize, size_t *len)
{
    set_len(len, 0);
    if (!it || it->err_) {
        return NULL;
    }
    size_t start = it->pos_;
    size_t n = (size_t)get_int(it, lsize, 0);
    const uint8_t *p = take(it, n);
    if (!p) {
        it->pos_ = start;
        return NULL;
    }
    set_len(len, n);
    return p;
}

const uint8_t *
parley_dg_get_string(parley_dg_iter *it, size_t *len)
{
    return get_counted(it, 2, len);
}

const uint8_t *
parley_dg_get_string32(parley_dg_iter *it, size_t *len)
{
    return get_counted(it, 4, len);
}

const uint8_t *
parley_dg_get_blob(parley_dg_iter *it, size_t *len)
{
    return get_counted(it, 2, len);
}

const uint8_t *
parley_dg_get_blob32(parley_dg_iter *it, size_t *len)
{
    return get_counted(it, 4, len);
}

const uint8_t *
parley_dg_get_z_string(parley_dg_iter *it, size_t *len)
{
    set_len(len, 0);
    if (!it || it->err_) {
        return NULL;
    }
    size_t left = it->len_ - it->pos_;
    const uint8_t *at = left ? it->data_ + it->pos_ : NULL;
    const uint8_t *nul = at ? memchr(at, 0, left) : NULL;
    if (!nul) {
        it->err_ = left ? PARLEY_EPROTO : PARLEY_ETRUNC;
        return NULL;
    }
    size_t n = (size_t)(nul - at);
    const uint8_t *p = take(it, n + 1);
    set_len(len, n);
    return p;
}

const uint8_t *
parley_dg_get_fixed_string(parley_dg_iter *it, size_t size, size_t *len)
{
    set_len(len, 0);
    const uint8_t *p = take(it, size);
    if (!p) {
        return NULL;
    }
    const uint8_t *nul = size ? memchr(p, 0, size) : NULL;
    set_len(len, nul ? (size_t)(nul - p) : size);
    return p;
}

const uint8_t *
parley_dg_extract(parley_dg_iter *it, size_t len)
{
    return take(it, len);
}

/* ---- UDP form -------------------------------------------------------- */

uint16_t
parley_dg_checksum(const void *data, size_t len)
{
    if (!data) {
        return 0;
    }
    return pl_p3d_checksum(data, len);
}

int
parley_dg_udp_encode(int raw, const void *payload, size_t len, void *out,
                     size_t cap, size_t *outlen)
{
    return pl_p3d_udp_encode(raw, payload, len, out, cap, outlen);
}

int
parley_dg_udp_decode(int raw, const void *in, size_t len,
                     const uint8_t **payload, size_t *plen)
{
    return pl_p3d_udp_decode(raw, in, len, payload, plen);
}

int
parley_dg_udp_send(parley_udp *udp, const parley_addr *to, int raw,
                   const void *payload, size_t len)
{
    uint8_t buf[PL_P3D_UDP_MAX + PL_P3D_UDP_HDR];
    size_t n = 0;
    if (!udp || !to) {
        return PARLEY_EINVAL;
    }
    int rc = pl_p3d_udp_encode(raw, payload, len, buf, sizeof buf, &n);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return parley_udp_send(udp, to, buf, n);
}

int
parley_dg_udp_recv(parley_udp *udp, int raw, void *buf, size_t cap,
                   const uint8_t **payload, size_t *plen, parley_addr *from)
{
    size_t n = 0;
    if (!udp || !buf || cap == 0 || !payload || !plen) {
        return PARLEY_EINVAL;
    }
    int rc = parley_udp_recv(udp, buf, cap, &n, from);
    if (rc != PARLEY_OK) {
        return rc;
    }
    return pl_p3d_udp_decode(raw, buf, n, payload, plen);
}
