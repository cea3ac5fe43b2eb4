/*
 * Network addresses as plain values (no OS headers): parse, resolve,
 * format and compare IPv4 and IPv6 endpoints, plus the monotonic clock.
 */
#ifndef PARLEY_ADDR_H
#define PARLEY_ADDR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum parley_family {
    PARLEY_AF_UNSPEC = 0,
    PARLEY_AF_INET = 4,
    PARLEY_AF_INET6 = 6
} parley_family;

/*
 * An IPv4 or IPv6 endpoint. ip holds 4 bytes (IPv4) or 16 bytes (IPv6) in
 * network order; port is in host order. A value type: copy it freely.
 * Zero-initialised, it is "unspecified" (family PARLEY_AF_UNSPEC).
 */
typedef struct parley_addr {
    uint8_t family; /* parley_family */
    uint8_t reserved_;
    uint16_t port;
    uint32_t scope_id; /* IPv6 zone index, 0 otherwise */
    uint8_t ip[16];
} parley_addr;

/* Longest string parley_addr_format writes, with its NUL. */
#define PARLEY_ADDR_STRLEN 64

/*
 * Parses a numeric address: "1.2.3.4:5", "[::1]:5", "[fe80::1%2]:5".
 * When default_port is nonzero the port may be left out ("1.2.3.4",
 * "[::1]", or a bare "::1"); when it is zero a port is required.
 * Never looks up a name.
 * Returns PARLEY_OK, PARLEY_EINVAL (NULL argument), PARLEY_EADDR (not a
 * numeric address) or PARLEY_EPORT (port missing, not a number, or above
 * 65535). On error *out is left unchanged.
 */
PARLEY_API int parley_addr_parse(const char *text, uint16_t default_port,
                                 parley_addr *out);

/*
 * Like parley_addr_parse, but the host part may also be a name
 * ("localhost:9000"), looked up through the system resolver. This call
 * blocks while the resolver works. family restricts the answer
 * (PARLEY_AF_UNSPEC takes the first the resolver gives, IPv4 preferred).
 * Returns PARLEY_OK, PARLEY_EINVAL, PARLEY_EADDR (empty or malformed
 * host), PARLEY_EPORT or PARLEY_ERESOLVE (the name has no address of
 * that family).
 */
PARLEY_API int parley_addr_resolve(const char *text, uint16_t default_port,
                                   parley_family family, parley_addr *out);

/*
 * Writes "1.2.3.4:5" or "[::1]:5" into buf (at most cap bytes, always
 * NUL-terminated when cap > 0). Returns the length the full text has
 * (excluding NUL), or PARLEY_EINVAL for a NULL or unspecified address.
 * A return value >= cap means the text was cut short.
 */
PARLEY_API int parley_addr_format(const parley_addr *addr, char *buf,
                                  size_t cap);

/* Nonzero when a and b are the same family, ip, port and scope. */
PARLEY_API int parley_addr_equal(const parley_addr *a, const parley_addr *b);

/* Sets *out to 127.0.0.1 or ::1 (family 4 or 6) with the given port. */
PARLEY_API int parley_addr_loopback(parley_family family, uint16_t port,
                                    parley_addr *out);

/*
 * Microseconds from a monotonic clock with an arbitrary start; never goes
 * backwards. Thread-safe.
 */
PARLEY_API uint64_t parley_time_us(void);

#ifdef __cplusplus
}
#endif

#endif
