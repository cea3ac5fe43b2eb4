/*
 * Fuzz target: the Panda3D deframer and datagram iterator. Byte 0 picks
 * the header size (2, 4 or raw) and the chunk size, byte 1 the datagram
 * limit; the rest is a TCP byte stream. It is deframed whole and again in
 * chunks: both runs must give the same datagrams (the same bytes, in raw
 * mode) and the same error. Every datagram is then read field by field
 * by the iterator, getters chosen by its own bytes, until it runs out;
 * the stream is also checked as a UDP datagram. Seeds: fuzz/corpus/p3d/
 * (written by hand from the golden vectors in docs/PROTOCOL.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley/datagram.h"
#include "wire/p3d.h"

#define MAX_DGRAMS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct run {
    uint8_t *bytes; /* all datagrams, back to back */
    size_t nbytes;
    size_t lens[MAX_DGRAMS];
    size_t n;
    int err;
} run;

static void
keep(run *r, const uint8_t *dg, size_t len)
{
    if (r->n < MAX_DGRAMS) {
        r->lens[r->n++] = len;
    }
    if (len) {
        memcpy(r->bytes + r->nbytes, dg, len);
        r->nbytes += len;
    }
}

/* Deframes in[0..len) in pieces of `chunk` bytes (0: whole). */
static void
deframe(run *r, int hsize, uint32_t max, const uint8_t *in, size_t len,
        size_t chunk)
{
    pl_p3d_deframer df;
    if (pl_p3d_deframer_init(&df, hsize, max) != PARLEY_OK) {
        abort();
    }
    size_t off = 0;
    while (off < len && !r->err) {
        size_t piece = chunk && chunk < len - off ? chunk : len - off;
        size_t at = 0;
        while (at < piece) {
            const uint8_t *dg = NULL;
            size_t dglen = 0, used = 0;
            int rc = pl_p3d_deframe(&df, in + off + at, piece - at, &used, &dg,
                                    &dglen);
            if (rc < 0) {
                r->err = rc;
                break;
            }
            if (used > piece - at || dglen > max) {
                abort();
            }
            at += used;
            if (rc == PL_P3D_DATAGRAM) {
                keep(r, dg, dglen);
            } else if (at != piece) {
                abort(); /* "more" must consume everything */
            }
        }
        off += piece;
    }
    pl_p3d_deframer_free(&df);
}

/* Reads fields chosen by the datagram's own bytes until it runs out. */
static void
iterate(const uint8_t *p, size_t len)
{
    parley_dg_iter it;
    size_t n = 0;
    parley_dg_iter_init(&it, p, len);
    for (size_t step = 0; step < len + 1; step++) {
        size_t before = parley_dg_iter_remaining(&it);
        uint8_t op = step < len ? p[step] : 0;
        switch (op % 12) {
        case 0:
            (void)parley_dg_get_uint8(&it);
            break;
        case 1:
            (void)parley_dg_get_int16(&it);
            break;
        case 2:
            (void)parley_dg_get_be_uint32(&it);
            break;
        case 3:
            (void)parley_dg_get_int64(&it);
            break;
        case 4:
            (void)parley_dg_get_float32(&it);
            break;
        case 5:
            (void)parley_dg_get_be_float64(&it);
            break;
        case 6:
            (void)parley_dg_get_string(&it, &n);
            break;
        case 7:
            (void)parley_dg_get_string32(&it, &n);
            break;
        case 8:
            (void)parley_dg_get_z_string(&it, &n);
            break;
        case 9:
            (void)parley_dg_get_fixed_string(&it, op % 7, &n);
            break;
        case 10:
            (void)parley_dg_get_blob(&it, &n);
            break;
        default:
            (void)parley_dg_extract(&it, op % 5);
            break;
        }
        if (parley_dg_iter_error(&it)) {
            if (parley_dg_iter_remaining(&it) != 0 ||
                parley_dg_iter_pos(&it) > len) {
                abort();
            }
            return;
        }
        if (parley_dg_iter_remaining(&it) > before) {
            abort();
        }
    }
}

static void
check_udp(const uint8_t *in, size_t len)
{
    const uint8_t *payload;
    size_t plen, outlen;
    uint8_t out[PL_P3D_UDP_MAX + PL_P3D_UDP_HDR];
    if (pl_p3d_udp_decode(0, in, len, &payload, &plen) != PARLEY_OK) {
        return;
    }
    if (plen > PL_P3D_UDP_MAX) {
        return;
    }
    if (pl_p3d_udp_encode(0, payload, plen, out, sizeof out, &outlen) !=
            PARLEY_OK ||
        outlen != len || memcmp(out, in, len) != 0) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int sizes[3] = {PL_P3D_HDR2, PL_P3D_HDR4, PL_P3D_RAW};
    if (size < 2) {
        return 0;
    }
    int hsize = sizes[data[0] % 3];
    size_t chunk = 1 + (size_t)(data[0] >> 2) % 17;
    uint32_t max = 1 + (uint32_t)data[1] * 37;
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    run *a = calloc(1, sizeof *a);
    run *b = calloc(1, sizeof *b);
    a->bytes = malloc(len + 1);
    b->bytes = malloc(len + 1);
    deframe(a, hsize, max, in, len, 0);
    deframe(b, hsize, max, in, len, chunk);
    if (a->err != b->err || a->nbytes != b->nbytes ||
        memcmp(a->bytes, b->bytes, a->nbytes) != 0) {
        abort();
    }
    if (hsize != PL_P3D_RAW &&
        (a->n != b->n || memcmp(a->lens, b->lens, a->n * sizeof a->lens[0]))) {
        abort();
    }
    size_t off = 0;
    for (size_t i = 0; i < a->n; i++) {
        uint8_t *copy = malloc(a->lens[i] ? a->lens[i] : 1); /* exact */
        memcpy(copy, a->bytes + off, a->lens[i]);
        iterate(copy, a->lens[i]);
        free(copy);
        off += a->lens[i];
    }
    check_udp(in, len);
    free(a->bytes);
    free(b->bytes);
    free(a);
    free(b);
    return 0;
}
