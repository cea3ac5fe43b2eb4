/*
 * Helpers shared by the wire codec tests: hex golden vectors to bytes, and
 * exact-size heap copies so AddressSanitizer catches any read past the end
 * of a truncated input.
 */
#ifndef WIRE_UTIL_H
#define WIRE_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Parses hex digits into out (spaces ignored); returns the byte count. Any
   other character, or an odd digit count, returns (size_t)-1. */
static size_t
hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int half = -1;
    for (const char *s = hex; *s; s++) {
        int v;
        if (*s == ' ' || *s == '\n') {
            continue;
        } else if (*s >= '0' && *s <= '9') {
            v = *s - '0';
        } else if (*s >= 'a' && *s <= 'f') {
            v = *s - 'a' + 10;
        } else {
            return (size_t)-1;
        }
        if (half < 0) {
            half = v;
        } else {
            if (n == cap) {
                return (size_t)-1;
            }
            out[n++] = (uint8_t)(half << 4 | v);
            half = -1;
        }
    }
    return half < 0 ? n : (size_t)-1;
}

/* A heap copy of exactly n bytes (one byte allocated for n == 0, but the
   caller passes length 0). Free with free(). */
static uint8_t *
exact_copy(const uint8_t *src, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (p && n) {
        memcpy(p, src, n);
    }
    return p;
}

#endif
