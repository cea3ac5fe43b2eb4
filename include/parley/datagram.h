/*
 * Panda3D-compatible datagrams: a builder and an iterator with Panda3D's
 * field encodings (little-endian integers and floats by default, big-
 * endian variants, uint16- and uint32-length strings and blobs, NUL-
 * terminated and fixed-size strings), plus Panda3D's UDP datagram form.
 * Bytes built here read back in Panda3D's Datagram/DatagramIterator and
 * the reverse. Reading past the end is an error the caller sees.
 */
#ifndef PARLEY_DATAGRAM_H
#define PARLEY_DATAGRAM_H

#include "addr.h"
#include "udp.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A datagram being built: Panda3D's Datagram. A value the caller holds
 * (on the stack is fine); its fields are the library's, read them only
 * through the functions. Initialise it with parley_dg_init (growing heap
 * buffer, up to a limit) or parley_dg_init_buffer (the caller's buffer,
 * no allocation); release it with parley_dg_free.
 *
 * Every add either appends the whole field and returns PARLEY_OK, or
 * changes nothing and returns an error. The first error is also kept
 * (parley_dg_error), so a run of adds can be checked once at the end.
 * Not thread-safe: one datagram belongs to one thread at a time.
 */
typedef struct parley_dg {
    uint8_t *data_;
    size_t len_;
    size_t cap_;
    size_t max_;
    int err_;
    int owned_;
} parley_dg;

/* The default limit of a growing datagram: 64 MiB. */
#define PARLEY_DG_DEFAULT_MAX ((size_t)64 << 20)

/*
 * A growing datagram of at most max bytes (0: PARLEY_DG_DEFAULT_MAX).
 * Allocates nothing until the first add. Returns PARLEY_OK or
 * PARLEY_EINVAL.
 */
PARLEY_API int parley_dg_init(parley_dg *dg, size_t max);

/*
 * A datagram over the caller's buf[0..cap): adds past cap fail with
 * PARLEY_ENOBUFS. Nothing is allocated; parley_dg_free only forgets buf.
 * Returns PARLEY_OK or PARLEY_EINVAL (NULL dg, or NULL buf with cap > 0).
 */
PARLEY_API int parley_dg_init_buffer(parley_dg *dg, void *buf, size_t cap);

/* Frees a growing datagram's memory; dg is then empty. NULL is allowed. */
PARLEY_API void parley_dg_free(parley_dg *dg);

/* Empties the datagram (keeping its memory) and clears its error. */
PARLEY_API void parley_dg_clear(parley_dg *dg);

/* The bytes so far (NULL while empty) and their count. */
PARLEY_API const uint8_t *parley_dg_data(const parley_dg *dg);
PARLEY_API size_t parley_dg_len(const parley_dg *dg);

/* The first error of any add since init or clear, or PARLEY_OK. */
PARLEY_API int parley_dg_error(const parley_dg *dg);

/*
 * Adders. Errors: PARLEY_EINVAL (NULL dg, or NULL data with a length),
 * PARLEY_ENOBUFS (a caller's buffer is full), PARLEY_EMSGSIZE (over the
 * datagram's max, or a string/blob longer than its length field holds:
 * 65535 bytes for string and blob, 4294967295 for the 32 forms),
 * PARLEY_ENOMEM.
 */
PARLEY_API int parley_dg_add_bool(parley_dg *dg, int value); /* 0 or 1 */
PARLEY_API int parley_dg_add_int8(parley_dg *dg, int8_t value);
PARLEY_API int parley_dg_add_uint8(parley_dg *dg, uint8_t value);
PARLEY_API int parley_dg_add_int16(parley_dg *dg, int16_t value);
PARLEY_API int parley_dg_add_uint16(parley_dg *dg, uint16_t value);
PARLEY_API int parley_dg_add_int32(parley_dg *dg, int32_t value);
PARLEY_API int parley_dg_add_uint32(parley_dg *dg, uint32_t value);
PARLEY_API int parley_dg_add_int64(parley_dg *dg, int64_t value);
PARLEY_API int parley_dg_add_uint64(parley_dg *dg, uint64_t value);
PARLEY_API int parley_dg_add_float32(parley_dg *dg, float value);
PARLEY_API int parley_dg_add_float64(parley_dg *dg, double value);
/* Big-endian variants (Panda3D's add_be_*). */
PARLEY_API int parley_dg_add_be_int16(parley_dg *dg, int16_t value);
PARLEY_API int parley_dg_add_be_uint16(parley_dg *dg, uint16_t value);
PARLEY_API int parley_dg_add_be_int32(parley_dg *dg, int32_t value);
PARLEY_API int parley_dg_add_be_uint32(parley_dg *dg, uint32_t value);
PARLEY_API int parley_dg_add_be_int64(parley_dg *dg, int64_t value);
PARLEY_API int parley_dg_add_be_uint64(parley_dg *dg, uint64_t value);
PARLEY_API int parley_dg_add_be_float32(parley_dg *dg, float value);
PARLEY_API int parley_dg_add_be_float64(parley_dg *dg, double value);

/* uint16 LE length, then the bytes (add_string). len <= 65535. */
PARLEY_API int parley_dg_add_string(parley_dg *dg, const void *s, size_t len);
/* uint32 LE length, then the bytes (add_string32). */
PARLEY_API int parley_dg_add_string32(parley_dg *dg, const void *s, size_t len);
/*
 * The bytes up to the first NUL within s[0..len), then one NUL
 * (add_z_string: a string cannot carry an inner NUL this way).
 */
PARLEY_API int parley_dg_add_z_string(parley_dg *dg, const void *s, size_t len);
/* Exactly size bytes: s cut to size, or padded with zero bytes. */
PARLEY_API int parley_dg_add_fixed_string(parley_dg *dg, const void *s,
                                          size_t len, size_t size);
/* The same layouts for binary data (add_blob, add_blob32). */
PARLEY_API int parley_dg_add_blob(parley_dg *dg, const void *b, size_t len);
PARLEY_API int parley_dg_add_blob32(parley_dg *dg, const void *b, size_t len);
/* Raw bytes with no length (append_data) and n zero bytes (pad_bytes). */
PARLEY_API int parley_dg_append(parley_dg *dg, const void *b, size_t len);
PARLEY_API int parley_dg_pad(parley_dg *dg, size_t n);

/*
 * Reads the fields of a datagram in order: Panda3D's DatagramIterator.
 * A value over the caller's bytes, which must outlive it; nothing is
 * copied or allocated. A read past the end (or of a malformed z-string)
 * sets a sticky error, returns 0 (or NULL) and leaves the position
 * where that read began; every later read fails the same way. Check
 * parley_dg_iter_error once after a run of reads.
 */
typedef struct parley_dg_iter {
    const uint8_t *data_;
    size_t len_;
    size_t pos_;
    int err_;
} parley_dg_iter;

/* Starts at byte 0. data may be NULL when len is 0. PARLEY_EINVAL for a
   NULL it (or NULL data with len > 0: the iterator is then empty and
   in error). */
PARLEY_API int parley_dg_iter_init(parley_dg_iter *it, const void *data,
                                   size_t len);

/* PARLEY_OK, or the first error: PARLEY_ETRUNC (read past the end),
   PARLEY_EPROTO (a z-string without its NUL), PARLEY_EINVAL. */
PARLEY_API int parley_dg_iter_error(const parley_dg_iter *it);

/* Bytes read so far, and bytes left (0 once in error). */
PARLEY_API size_t parley_dg_iter_pos(const parley_dg_iter *it);
PARLEY_API size_t parley_dg_iter_remaining(const parley_dg_iter *it);

/* Getters: the value, or 0 with the iterator's error set. */
PARLEY_API int parley_dg_get_bool(parley_dg_iter *it); /* nonzero byte: 1 */
PARLEY_API int8_t parley_dg_get_int8(parley_dg_iter *it);
PARLEY_API uint8_t parley_dg_get_uint8(parley_dg_iter *it);
PARLEY_API int16_t parley_dg_get_int16(parley_dg_iter *it);
PARLEY_API uint16_t parley_dg_get_uint16(parley_dg_iter *it);
PARLEY_API int32_t parley_dg_get_int32(parley_dg_iter *it);
PARLEY_API uint32_t parley_dg_get_uint32(parley_dg_iter *it);
PARLEY_API int64_t parley_dg_get_int64(parley_dg_iter *it);
PARLEY_API uint64_t parley_dg_get_uint64(parley_dg_iter *it);
PARLEY_API float parley_dg_get_float32(parley_dg_iter *it);
PARLEY_API double parley_dg_get_float64(parley_dg_iter *it);
PARLEY_API int16_t parley_dg_get_be_int16(parley_dg_iter *it);
PARLEY_API uint16_t parley_dg_get_be_uint16(parley_dg_iter *it);
PARLEY_API int32_t parley_dg_get_be_int32(parley_dg_iter *it);
PARLEY_API uint32_t parley_dg_get_be_uint32(parley_dg_iter *it);
PARLEY_API int64_t parley_dg_get_be_int64(parley_dg_iter *it);
PARLEY_API uint64_t parley_dg_get_be_uint64(parley_dg_iter *it);
PARLEY_API float parley_dg_get_be_float32(parley_dg_iter *it);
PARLEY_API double parley_dg_get_be_float64(parley_dg_iter *it);

/*
 * Strings and blobs are read in place: the return value points into the
 * iterator's bytes (NOT NUL-terminated) and *len gets the length; NULL
 * on error (*len 0). A zero-length field gives a non-NULL pointer when
 * the datagram has bytes. len may be NULL to skip the field.
 *
 * string/blob: uint16 length; string32/blob32: uint32 length; z_string:
 * up to the NUL, which is consumed but not counted; fixed_string: size
 * bytes consumed, *len counts those before the first NUL (Panda3D's
 * get_fixed_string); extract: len bytes, no length field.
 */
PARLEY_API const uint8_t *parley_dg_get_string(parley_dg_iter *it, size_t *len);
PARLEY_API const uint8_t *parley_dg_get_string32(parley_dg_iter *it,
                                                 size_t *len);
PARLEY_API const uint8_t *parley_dg_get_z_string(parley_dg_iter *it,
                                                 size_t *len);
PARLEY_API const uint8_t *parley_dg_get_fixed_string(parley_dg_iter *it,
                                                     size_t size, size_t *len);
PARLEY_API const uint8_t *parley_dg_get_blob(parley_dg_iter *it, size_t *len);
PARLEY_API const uint8_t *parley_dg_get_blob32(parley_dg_iter *it, size_t *len);
PARLEY_API const uint8_t *parley_dg_extract(parley_dg_iter *it, size_t len);

/* ---- Panda3D's UDP datagram form ------------------------------------- */

/* The UDP header's checksum: the sum of the payload bytes mod 65536. */
PARLEY_API uint16_t parley_dg_checksum(const void *data, size_t len);

/* Largest payload of the UDP form (Panda3D's maximum_udp_datagram). */
#define PARLEY_DG_UDP_MAX 1500

/*
 * Encodes a UDP datagram: a uint16 LE checksum then the payload, or the
 * payload alone when raw is nonzero. Writes out[0..cap), *outlen the
 * size (len + 2, or len). Returns PARLEY_OK, PARLEY_EINVAL,
 * PARLEY_EMSGSIZE (len > PARLEY_DG_UDP_MAX) or PARLEY_ENOBUFS.
 */
PARLEY_API int parley_dg_udp_encode(int raw, const void *payload, size_t len,
                                    void *out, size_t cap, size_t *outlen);

/*
 * Checks and strips the header: *payload points into in. Returns
 * PARLEY_OK, PARLEY_EINVAL, PARLEY_ETRUNC (under 2 bytes) or
 * PARLEY_EPROTO (the checksum does not match: Panda3D ignores such a
 * datagram, so should the caller).
 */
PARLEY_API int parley_dg_udp_decode(int raw, const void *in, size_t len,
                                    const uint8_t **payload, size_t *plen);

/*
 * Sends one Panda3D UDP datagram on a parley UDP socket. Errors as
 * parley_dg_udp_encode and parley_udp_send.
 */
PARLEY_API int parley_dg_udp_send(parley_udp *udp, const parley_addr *to,
                                  int raw, const void *payload, size_t len);

/*
 * Receives one into buf[0..cap) and checks it; *payload points into buf.
 * Returns PARLEY_OK, PARLEY_EAGAIN (nothing waiting), PARLEY_EPROTO (bad
 * checksum: the datagram is consumed), PARLEY_ETRUNC (too short, or
 * longer than cap) or another parley_udp_recv error. from may be NULL.
 */
PARLEY_API int parley_dg_udp_recv(parley_udp *udp, int raw, void *buf,
                                  size_t cap, const uint8_t **payload,
                                  size_t *plen, parley_addr *from);

#ifdef __cplusplus
}
#endif

#endif
