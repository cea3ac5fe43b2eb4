/*
 * Panda3D framing (p3d.h): the incremental TCP deframer, the length
 * header and the UDP checksum form. Pure functions over caller buffers;
 * the only allocation is a deframer's body buffer, bounded by max_dg.
 */
#include "wire/p3d.h"

#include <string.h>

#include "util/alloc.h"
#include "wire/cursor.h"

/* The first body allocation; later growth doubles, up to the need. */
#define BODY_MIN 256
/* A body buffer larger than this is freed after its datagram, so an idle
   connection does not keep a large datagram's memory. */
#define BODY_KEEP 65536

static int
valid_hsize(int hsize)
{
    return hsize == PL_P3D_RAW || hsize == PL_P3D_HDR2 || hsize == PL_P3D_HDR4;
}

int
pl_p3d_deframer_init(pl_p3d_deframer *df, int hsize, uint32_t max_dg)
{
    if (!df || !valid_hsize(hsize) || max_dg == 0) {
        return PARLEY_EINVAL;
    }
    memset(df, 0, sizeof *df);
    df->hsize = (uint8_t)hsize;
    df->max_dg = max_dg;
    return PARLEY_OK;
}

void
pl_p3d_deframer_free(pl_p3d_deframer *df)
{
    if (df) {
        pl_free(df->buf);
        df->buf = NULL;
        df->cap = 0;
        df->have = 0;
    }
}

int
pl_p3d_deframer_partial(const pl_p3d_deframer *df)
{
    return df->hhave > 0 || df->in_body;
}

int
pl_p3d_deframer_set(pl_p3d_deframer *df, int hsize, uint32_t max_dg)
{
    if (!df || !valid_hsize(hsize) || max_dg == 0) {
        return PARLEY_EINVAL;
    }
    if (pl_p3d_deframer_partial(df)) {
        return PARLEY_ESTATE;
    }
    df->hsize = (uint8_t)hsize;
    df->max_dg = max_dg;
    return PARLEY_OK;
}

size_t
pl_p3d_header_limit(int hsize)
{
    if (hsize == PL_P3D_HDR2) {
        return PL_P3D_MAX2;
    }
    if (hsize == PL_P3D_HDR4) {
        return PL_P3D_MAX4;
    }
    return SIZE_MAX;
}

int
pl_p3d_header(int hsize, size_t len, uint8_t out[4], size_t *hlen)
{
    if (!out || !hlen || !valid_hsize(hsize)) {
        return PARLEY_EINVAL;
    }
    if (len > pl_p3d_header_limit(hsize)) {
        return PARLEY_EMSGSIZE;
    }
    for (int i = 0; i < hsize; i++) {
        out[i] = (uint8_t)(len >> (8 * i));
    }
    *hlen = (size_t)hsize;
    return PARLEY_OK;
}

/* The body length in the gathered header (little-endian). */
static uint32_t
header_value(const pl_p3d_deframer *df)
{
    uint32_t v = 0;
    for (int i = df->hsize - 1; i >= 0; i--) {
        v = (v << 8) | df->hdr[i];
    }
    return v;
}

/* Makes room for `more` body bytes, growing towards the announced need. */
static int
grow_body(pl_p3d_deframer *df, size_t more)
{
    size_t want = (size_t)df->have + more;
    if (want <= df->cap) {
        return PARLEY_OK;
    }
    size_t n = df->cap ? df->cap : BODY_MIN;
    while (n < want) {
        n *= 2;
    }
    if (n > df->need) {
        n = df->need;
    }
    uint8_t *b = pl_realloc(df->buf, n);
    if (!b) {
        return PARLEY_ENOMEM;
    }
    df->buf = b;
    df->cap = n;
    return PARLEY_OK;
}

/* Called when a datagram is handed out: ready for the next header. */
static void
reset_frame(pl_p3d_deframer *df)
{
    df->hhave = 0;
    df->in_body = 0;
    df->need = 0;
    df->have = 0;
}

static int
fail(pl_p3d_deframer *df, int err, size_t *used)
{
    df->err = err;
    *used = 0;
    return err;
}

/* Raw mode: one datagram per call, cut at max_dg. */
static int
deframe_raw(pl_p3d_deframer *df, const uint8_t *in, size_t len, size_t *used,
            const uint8_t **dg, size_t *dglen)
{
    if (len == 0) {
        *used = 0;
        return PL_P3D_MORE;
    }
    size_t n = len < df->max_dg ? len : df->max_dg;
    *used = n;
    *dg = in;
    *dglen = n;
    return PL_P3D_DATAGRAM;
}

/* Gathers header bytes; on completion checks the announced size.
   Returns 1 (complete), 0 (need more) or PARLEY_EMSGSIZE. */
static int
take_header(pl_p3d_deframer *df, pl_rd *rd)
{
    while (df->hhave < df->hsize && pl_rd_left(rd) > 0) {
        df->hdr[df->hhave++] = pl_rd_u8(rd);
    }
    if (df->hhave < df->hsize) {
        return 0;
    }
    uint32_t need = header_value(df);
    if (need > df->max_dg) {
        return PARLEY_EMSGSIZE;
    }
    df->need = need;
    df->in_body = 1;
    return 1;
}

/* The body: in place when it is all in this call's input, else copied. */
static int
take_body(pl_p3d_deframer *df, pl_rd *rd, const uint8_t **dg, size_t *dglen)
{
    size_t want = df->need - df->have;
    size_t take = pl_rd_left(rd) < want ? pl_rd_left(rd) : want;
    if (df->have == 0 && take == want) {
        *dg = pl_rd_bytes(rd, take);
        *dglen = take;
        reset_frame(df);
        return PL_P3D_DATAGRAM;
    }
    if (take > 0) {
        int rc = grow_body(df, take);
        if (rc != PARLEY_OK) {
            return rc;
        }
        memcpy(df->buf + df->have, pl_rd_bytes(rd, take), take);
        df->have += (uint32_t)take;
    }
    if (df->have < df->need) {
        return PL_P3D_MORE;
    }
    *dg = df->buf;
    *dglen = df->have;
    reset_frame(df);
    return PL_P3D_DATAGRAM;
}

/* Drops a large body buffer from the datagram handed out last time. */
static void
trim_body(pl_p3d_deframer *df)
{
    if (df->cap > BODY_KEEP && df->have == 0) {
        pl_free(df->buf);
        df->buf = NULL;
        df->cap = 0;
    }
}

int
pl_p3d_deframe(pl_p3d_deframer *df, const uint8_t *in, size_t len, size_t *used,
               const uint8_t **dg, size_t *dglen)
{
    if (!df || !used || !dg || !dglen || (!in && len > 0)) {
        return PARLEY_EINVAL;
    }
    if (df->err) {
        *used = 0;
        return df->err;
    }
    if (df->hsize == PL_P3D_RAW) {
        return deframe_raw(df, in, len, used, dg, dglen);
    }
    if (!df->in_body) {
        trim_body(df);
    }
    pl_rd rd;
    pl_rd_init(&rd, in, len);
    int rc = df->in_body ? 1 : take_header(df, &rd);
    if (rc == 1) {
        rc = take_body(df, &rd, dg, dglen);
    }
    if (rc < 0) {
        return fail(df, rc, used);
    }
    *used = rd.off;
    return rc;
}

uint16_t
pl_p3d_checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += p[i];
    }
    return (uint16_t)sum;
}

int
pl_p3d_udp_encode(int raw, const void *payload, size_t len, uint8_t *out,
                  size_t cap, size_t *outlen)
{
    if (!out || !outlen || (!payload && len > 0)) {
        return PARLEY_EINVAL;
    }
    if (len > PL_P3D_UDP_MAX) {
        return PARLEY_EMSGSIZE;
    }
    pl_wr wr;
    pl_wr_init(&wr, out, cap);
    if (!raw) {
        uint16_t sum = pl_p3d_checksum(payload, len);
        pl_wr_u8(&wr, (uint8_t)sum);
        pl_wr_u8(&wr, (uint8_t)(sum >> 8));
    }
    pl_wr_bytes(&wr, payload, len);
    if (wr.err) {
        return PARLEY_ENOBUFS;
    }
    *outlen = wr.off;
    return PARLEY_OK;
}

int
pl_p3d_udp_decode(int raw, const uint8_t *in, size_t len,
                  const uint8_t **payload, size_t *plen)
{
    if (!payload || !plen || (!in && len > 0)) {
        return PARLEY_EINVAL;
    }
    if (raw) {
        *payload = in;
        *plen = len;
        return PARLEY_OK;
    }
    if (len < PL_P3D_UDP_HDR) {
        return PARLEY_ETRUNC;
    }
    uint16_t want = (uint16_t)(in[0] | (in[1] << 8));
    if (pl_p3d_checksum(in + 2, len - 2) != want) {
        return PARLEY_EPROTO;
    }
    *payload = in + 2;
    *plen = len - 2;
    return PARLEY_OK;
}
