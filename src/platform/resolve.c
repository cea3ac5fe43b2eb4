/*
 * Name resolution for parley_addr_resolve: numeric text is parsed
 * directly, names go through getaddrinfo (without AI_ADDRCONFIG), with
 * the RFC 6761 special cases for ".invalid" and "localhost".
 */
#include "platform/os.h"

#include <netdb.h>
#include <string.h>
#include <strings.h>

/* Letters, digits, '-', '_' and '.'; nothing else reaches the resolver. */
static int
valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

/* Nonzero when name is label or ends in ".label" (one trailing dot ok). */
static int
in_domain(const char *name, const char *label)
{
    size_t n = strlen(name), l = strlen(label);
    if (n > 0 && name[n - 1] == '.') {
        n--;
    }
    if (n < l || strncasecmp(name + n - l, label, l) != 0) {
        return 0;
    }
    return n == l || name[n - l - 1] == '.';
}

static int
map_gai_error(int rc)
{
    switch (rc) {
    case EAI_MEMORY:
        return PARLEY_ENOMEM;
    case EAI_FAMILY:
        return PARLEY_EAFNOSUPPORT;
    default:
        return PARLEY_ERESOLVE;
    }
}

/* The first answer of the family wanted (UNSPEC: IPv4, else IPv6). */
static int
pick(const struct addrinfo *list, parley_family family, parley_addr *out)
{
    const struct addrinfo *v6 = NULL;
    for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && family != PARLEY_AF_INET6) {
            return pl_sa_to_addr(ai->ai_addr, ai->ai_addrlen, out);
        }
        if (ai->ai_family == AF_INET6 && !v6) {
            v6 = ai;
        }
    }
    if (v6 && family != PARLEY_AF_INET) {
        return pl_sa_to_addr(v6->ai_addr, v6->ai_addrlen, out);
    }
    return PARLEY_ERESOLVE;
}

static int
lookup(const char *name, parley_family family, parley_addr *out)
{
    struct addrinfo hints, *list = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family == PARLEY_AF_INET    ? AF_INET
                      : family == PARLEY_AF_INET6 ? AF_INET6
                                                  : AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM; /* one answer per address */
    int rc = getaddrinfo(name, NULL, &hints, &list);
    if (rc != 0) {
        return map_gai_error(rc);
    }
    rc = pick(list, family, out);
    freeaddrinfo(list);
    return rc;
}

static int
resolve_name(const char *name, parley_family family, parley_addr *out)
{
    if (!valid_name(name)) {
        return PARLEY_EADDR;
    }
    if (in_domain(name, "invalid")) {
        return PARLEY_ERESOLVE;
    }
    int rc = lookup(name, family, out);
    if (rc == PARLEY_ERESOLVE && in_domain(name, "localhost")) {
        rc = parley_addr_loopback(family == PARLEY_AF_INET6 ? PARLEY_AF_INET6
                                                            : PARLEY_AF_INET,
                                  0, out);
    }
    return rc;
}

int
parley_addr_resolve(const char *text, uint16_t default_port,
                    parley_family family, parley_addr *out)
{
    pl_addr_text t;
    parley_addr a;
    uint16_t port;
    if (!text || !out ||
        (family != PARLEY_AF_UNSPEC && family != PARLEY_AF_INET &&
         family != PARLEY_AF_INET6)) {
        return PARLEY_EINVAL;
    }
    int rc = pl_addr_split(text, &t);
    if (rc != PARLEY_OK) {
        return rc;
    }
    rc = pl_addr_port(t.port, default_port, &port);
    if (rc != PARLEY_OK) {
        return rc;
    }
    if (pl_addr_numeric(&t, &a) == PARLEY_OK) {
        rc = (family == PARLEY_AF_UNSPEC || family == a.family)
                 ? PARLEY_OK
                 : PARLEY_ERESOLVE;
    } else {
        rc = t.bracketed ? PARLEY_EADDR : resolve_name(t.host, family, &a);
    }
    if (rc != PARLEY_OK) {
        return rc;
    }
    a.port = port;
    *out = a;
    return PARLEY_OK;
}
