/*
 * Panda3D-compatible framing, sans I/O: the TCP length header (2 or 4
 * bytes, little-endian, payload bytes only, or none in raw mode) with an
 * incremental deframer that never waits for anything but the next bytes,
 * and Panda3D's UDP form (a 2-byte additive checksum before the payload).
 */
#ifndef PL_WIRE_P3D_H
#define PL_WIRE_P3D_H

#include <stddef.h>
#include <stdint.h>

#include "parley/error.h"

/* Header sizes: the values of parley_tcp_header. */
#define PL_P3D_RAW 0
#define PL_P3D_HDR2 2
#define PL_P3D_HDR4 4

/* Largest payload each header can announce. The 4-byte limit is the
   largest a signed 32-bit int holds: Panda3D keeps the size in one. */
#define PL_P3D_MAX2 0xffffu
#define PL_P3D_MAX4 0x7fffffffu

/* Panda3D's maximum_udp_datagram: the payload limit of its UDP form. */
#define PL_P3D_UDP_MAX 1500u
#define PL_P3D_UDP_HDR 2u

/* Results of pl_p3d_deframe besides errors. */
enum {
    PL_P3D_MORE = 0,    /* every byte consumed; no datagram complete */
    PL_P3D_DATAGRAM = 1 /* one datagram complete (see *dg, *dglen) */
};

/*
 * The state of one incoming byte stream. Memory: at most max_dg bytes of
 * body buffer, allocated as the body's bytes arrive (never on the word
 * of a length header alone), so a peer that announces a large datagram
 * and stalls costs only what it actually sent.
 */
typedef struct pl_p3d_deframer {
    uint32_t max_dg; /* largest payload accepted */
    uint8_t hsize;   /* PL_P3D_RAW, _HDR2 or _HDR4 */
    uint8_t hhave;   /* header bytes gathered */
    uint8_t in_body; /* the header is complete */
    uint8_t hdr[4];
    uint32_t need; /* body length announced */
    uint32_t have; /* body bytes gathered in buf */
    uint8_t *buf;  /* body being gathered (NULL when none) */
    size_t cap;
    int err; /* sticky: the stream is unusable once set */
} pl_p3d_deframer;

/*
 * Starts a deframer. hsize is PL_P3D_RAW, _HDR2 or _HDR4; max_dg the
 * largest payload accepted (1 or more). Returns PARLEY_OK or
 * PARLEY_EINVAL. Allocates nothing.
 */
int pl_p3d_deframer_init(pl_p3d_deframer *df, int hsize, uint32_t max_dg);

/* Frees the body buffer; the deframer may be initialised again. */
void pl_p3d_deframer_free(pl_p3d_deframer *df);

/*
 * Changes the header size or the limit. Takes effect at once when the
 * deframer is between datagrams (PARLEY_OK), else PARLEY_ESTATE and
 * nothing changes. PARLEY_EINVAL for a bad size or limit.
 */
int pl_p3d_deframer_set(pl_p3d_deframer *df, int hsize, uint32_t max_dg);

/* Nonzero when part of a header or body is held (mid-datagram). */
int pl_p3d_deframer_partial(const pl_p3d_deframer *df);

/*
 * Feeds in[0..len). Consumes bytes up to the end of the first datagram
 * that completes and sets *used to how many. Returns PL_P3D_DATAGRAM with
 * *dg / *dglen naming the payload (inside in[] when it arrived whole in
 * this call, else inside the deframer; valid until the next call on
 * df), PL_P3D_MORE when all of in[] was consumed without completing one,
 * or an error (sticky; *used is then 0): PARLEY_EMSGSIZE (a header
 * announced more than max_dg), PARLEY_ENOMEM, PARLEY_EINVAL.
 *
 * Raw mode has no boundaries: each call gives what it was fed as one
 * datagram, cut at max_dg bytes (empty input gives PL_P3D_MORE).
 */
int pl_p3d_deframe(pl_p3d_deframer *df, const uint8_t *in, size_t len,
                   size_t *used, const uint8_t **dg, size_t *dglen);

/*
 * Writes the length header for a payload of len bytes into out[0..4)
 * and sets *hlen (0, 2 or 4). Returns PARLEY_OK, PARLEY_EMSGSIZE (over
 * the header's limit) or PARLEY_EINVAL.
 */
int pl_p3d_header(int hsize, size_t len, uint8_t out[4], size_t *hlen);

/* The largest payload a header size can announce (raw: SIZE_MAX). */
size_t pl_p3d_header_limit(int hsize);

/* Panda3D's UDP checksum: the sum of the bytes, modulo 65536. */
uint16_t pl_p3d_checksum(const void *data, size_t len);

/*
 * Panda3D's UDP datagram: checksum (uint16 LE) then payload, or payload
 * alone when raw. Writes into out[0..cap), *outlen the size. Returns
 * PARLEY_OK, PARLEY_EMSGSIZE (payload over PL_P3D_UDP_MAX), PARLEY_ENOBUFS
 * (cap too small) or PARLEY_EINVAL.
 */
int pl_p3d_udp_encode(int raw, const void *payload, size_t len, uint8_t *out,
                      size_t cap, size_t *outlen);

/*
 * The reverse: *payload points into in. Returns PARLEY_OK, PARLEY_ETRUNC
 * (shorter than the header), PARLEY_EPROTO (checksum mismatch) or
 * PARLEY_EINVAL. A payload longer than PL_P3D_UDP_MAX is accepted (the
 * receiver's buffer decides).
 */
int pl_p3d_udp_decode(int raw, const uint8_t *in, size_t len,
                      const uint8_t **payload, size_t *plen);

#endif
