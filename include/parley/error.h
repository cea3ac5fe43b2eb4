/*
 * parley's error codes. One X-macro list generates the enum, the names and
 * the messages. PARLEY_OK is 0; errors are negative, the same on every OS
 * and never renumbered: add new codes at the end of the list.
 */
#ifndef PARLEY_ERROR_H
#define PARLEY_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, message) */
#define PARLEY_ERRNO_MAP(X)                                                    \
    X(OK, 0, "success")                                                        \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(EADDR, -3, "malformed address")                                          \
    X(EPORT, -4, "missing or invalid port")                                    \
    X(ERESOLVE, -5, "host name could not be resolved")                         \
    X(EAFNOSUPPORT, -6, "address family not supported")                        \
    X(EADDRINUSE, -7, "address already in use")                                \
    X(EADDRNOTAVAIL, -8, "address not available")                              \
    X(EACCES, -9, "permission denied")                                         \
    X(EAGAIN, -10, "resource temporarily unavailable")                         \
    X(ECONNREFUSED, -11, "connection refused")                                 \
    X(ECONNRESET, -12, "connection reset by peer")                             \
    X(ECLOSED, -13, "connection closed")                                       \
    X(ETIMEDOUT, -14, "timed out")                                             \
    X(ENOTCONN, -15, "not connected")                                          \
    X(EMSGSIZE, -16, "message too large")                                      \
    X(ENOBUFS, -17, "queue or buffer full")                                    \
    X(EPROTO, -18, "protocol error")                                           \
    X(ESTATE, -19, "operation not valid in this state")                        \
    X(ENOTSUP, -20, "operation not supported")                                 \
    X(EINTR, -21, "interrupted")                                               \
    X(ERANGE, -22, "value out of range")                                       \
    X(ETRUNC, -23, "data truncated")                                           \
    X(ENOENT, -24, "no such entry")                                            \
    X(EEXIST, -25, "already exists")                                           \
    X(EIO, -26, "input/output error")                                          \
    X(ENETUNREACH, -27, "network unreachable")                                 \
    X(EVERSION, -28, "protocol version mismatch")                              \
    X(EREJECTED, -29, "rejected by the remote side")                           \
    X(EFULL, -30, "limit reached")

typedef enum parley_err {
#define PARLEY_ERR_ENUM_(name, value, msg) PARLEY_##name = (value),
    PARLEY_ERRNO_MAP(PARLEY_ERR_ENUM_)
#undef PARLEY_ERR_ENUM_
} parley_err;

/*
 * A sentence describing err, e.g. "connection refused". For a value that
 * is no parley_err, "unknown error". Never NULL; static storage.
 */
PARLEY_API const char *parley_strerror(int err);

/*
 * The code's name, e.g. "PARLEY_ECONNREFUSED". For a value that is no
 * parley_err, "PARLEY_EUNKNOWN". Never NULL; static storage.
 */
PARLEY_API const char *parley_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif
