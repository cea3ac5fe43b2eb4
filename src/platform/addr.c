/*
 * Numeric address text: parse "1.2.3.4:5" / "[::1]:5" / "[fe80::1%2]:5",
 * format back, compare and make loopback addresses. See platform.h for
 * how a bare "::1:5" is read (an IPv6 literal without a port).
 */
#include "platform/os.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

static int
copy_host(const char *start, size_t len, pl_addr_text *t)
{
    if (len == 0 || len >= sizeof t->host) {
        return PARLEY_EADDR;
    }
    memcpy(t->host, start, len);
    t->host[len] = '\0';
    return PARLEY_OK;
}

static int
split_bracketed(const char *text, pl_addr_text *t)
{
    const char *close = strchr(text, ']');
    if (!close) {
        return PARLEY_EADDR;
    }
    int rc = copy_host(text + 1, (size_t)(close - text - 1), t);
    if (rc != PARLEY_OK) {
        return rc;
    }
    t->bracketed = 1;
    if (close[1] == '\0') {
        t->port = NULL;
    } else if (close[1] == ':') {
        t->port = close + 2;
    } else {
        return PARLEY_EADDR;
    }
    return PARLEY_OK;
}

int
pl_addr_split(const char *text, pl_addr_text *t)
{
    memset(t, 0, sizeof *t);
    if (text[0] == '[') {
        return split_bracketed(text, t);
    }
    const char *colon = strchr(text, ':');
    if (!colon || strchr(colon + 1, ':')) {
        /* No colon: host alone. Two or more: a bare IPv6 literal. */
        return copy_host(text, strlen(text), t);
    }
    t->port = colon + 1;
    return copy_host(text, (size_t)(colon - text), t);
}

int
pl_addr_port(const char *port, uint16_t default_port, uint16_t *out)
{
    if (!port) {
        if (default_port == 0) {
            return PARLEY_EPORT;
        }
        *out = default_port;
        return PARLEY_OK;
    }
    if (*port == '\0') {
        return PARLEY_EPORT;
    }
    uint32_t v = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9') {
            return PARLEY_EPORT;
        }
        v = v * 10 + (uint32_t)(*p - '0');
        if (v > 65535) {
            return PARLEY_EPORT;
        }
    }
    *out = (uint16_t)v;
    return PARLEY_OK;
}

/* "2" or an interface name; 0 (never a valid scope here) on failure. */
static uint32_t
parse_scope(const char *s)
{
    if (*s >= '0' && *s <= '9') {
        uint64_t v = 0;
        for (; *s; s++) {
            if (*s < '0' || *s > '9') {
                return 0;
            }
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > UINT32_MAX) {
                return 0;
            }
        }
        return (uint32_t)v;
    }
    return *s ? (uint32_t)if_nametoindex(s) : 0;
}

static int
parse_v6(const char *host, parley_addr *out)
{
    char ip[PL_ADDR_HOST_MAX];
    struct in6_addr in6;
    uint32_t scope = 0;
    const char *pct = strchr(host, '%');
    size_t n = pct ? (size_t)(pct - host) : strlen(host);
    memcpy(ip, host, n);
    ip[n] = '\0';
    if (inet_pton(AF_INET6, ip, &in6) != 1) {
        return PARLEY_EADDR;
    }
    if (pct && (scope = parse_scope(pct + 1)) == 0) {
        return PARLEY_EADDR;
    }
    memset(out, 0, sizeof *out);
    out->family = PARLEY_AF_INET6;
    out->scope_id = scope;
    memcpy(out->ip, in6.s6_addr, 16);
    return PARLEY_OK;
}

int
pl_addr_numeric(const pl_addr_text *t, parley_addr *out)
{
    struct in_addr in4;
    if (!t->bracketed && inet_pton(AF_INET, t->host, &in4) == 1) {
        memset(out, 0, sizeof *out);
        out->family = PARLEY_AF_INET;
        memcpy(out->ip, &in4, 4);
        return PARLEY_OK;
    }
    if (!t->bracketed && !strchr(t->host, ':')) {
        return PARLEY_EADDR; /* neither IPv4 nor an IPv6 literal */
    }
    return parse_v6(t->host, out);
}

int
parley_addr_parse(const char *text, uint16_t default_port, parley_addr *out)
{
    pl_addr_text t;
    parley_addr a;
    uint16_t port;
    if (!text || !out) {
        return PARLEY_EINVAL;
    }
    int rc = pl_addr_split(text, &t);
    if (rc == PARLEY_OK) {
        rc = pl_addr_numeric(&t, &a);
    }
    if (rc == PARLEY_OK) {
        rc = pl_addr_port(t.port, default_port, &port);
    }
    if (rc != PARLEY_OK) {
        return rc;
    }
    a.port = port;
    *out = a;
    return PARLEY_OK;
}

int
parley_addr_format(const parley_addr *addr, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    int n;
    if (!addr || (!buf && cap > 0)) {
        return PARLEY_EINVAL;
    }
    if (addr->family == PARLEY_AF_INET) {
        inet_ntop(AF_INET, addr->ip, ip, sizeof ip);
        n = snprintf(buf, cap, "%s:%u", ip, (unsigned)addr->port);
    } else if (addr->family == PARLEY_AF_INET6) {
        inet_ntop(AF_INET6, addr->ip, ip, sizeof ip);
        if (addr->scope_id) {
            n = snprintf(buf, cap, "[%s%%%lu]:%u", ip,
                         (unsigned long)addr->scope_id, (unsigned)addr->port);
        } else {
            n = snprintf(buf, cap, "[%s]:%u", ip, (unsigned)addr->port);
        }
    } else {
        return PARLEY_EINVAL;
    }
    return n < 0 ? PARLEY_EIO : n;
}

int
parley_addr_equal(const parley_addr *a, const parley_addr *b)
{
    if (!a || !b || a->family != b->family || a->port != b->port ||
        a->scope_id != b->scope_id) {
        return 0;
    }
    switch (a->family) {
    case PARLEY_AF_INET:
        return memcmp(a->ip, b->ip, 4) == 0;
    case PARLEY_AF_INET6:
        return memcmp(a->ip, b->ip, 16) == 0;
    default:
        return 1; /* two unspecified addresses */
    }
}

int
parley_addr_loopback(parley_family family, uint16_t port, parley_addr *out)
{
    if (!out || (family != PARLEY_AF_INET && family != PARLEY_AF_INET6)) {
        return PARLEY_EINVAL;
    }
    memset(out, 0, sizeof *out);
    out->family = (uint8_t)family;
    out->port = port;
    if (family == PARLEY_AF_INET) {
        out->ip[0] = 127;
        out->ip[3] = 1;
    } else {
        out->ip[15] = 1;
    }
    return PARLEY_OK;
}
