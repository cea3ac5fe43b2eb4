/*
 * UTF-8 validation for names that travel on the wire (event names,
 * client and computer names): they end up in logs and JSON, so they must
 * be well-formed text.
 */
#include "payload/internal.h"

/* Length of the sequence a lead byte starts, or 0 for an invalid lead. */
static int
seq_len(uint8_t c)
{
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        return 2;
    }
    if (c >= 0xe0 && c <= 0xef) {
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        return 4;
    }
    return 0;
}

/* Checks the continuation bytes and the overlong/surrogate/range rules
   (RFC 3629 section 4). */
static int
seq_ok(const uint8_t *s, int n)
{
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    if (n == 3) {
        if (s[0] == 0xe0 && s[1] < 0xa0) {
            return 0; /* overlong */
        }
        if (s[0] == 0xed && s[1] >= 0xa0) {
            return 0; /* surrogate */
        }
    } else if (n == 4) {
        if (s[0] == 0xf0 && s[1] < 0x90) {
            return 0; /* overlong */
        }
        if (s[0] == 0xf4 && s[1] >= 0x90) {
            return 0; /* above U+10FFFF */
        }
    }
    return 1;
}

int
pl_utf8_valid(const char *text, size_t len, int allow_ctrl)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0;

    if (text == NULL) {
        return len == 0;
    }
    while (i < len) {
        int n = seq_len(s[i]);

        if (n == 0 || len - i < (size_t)n || !seq_ok(s + i, n)) {
            return 0;
        }
        if (n == 1 && !allow_ctrl && (s[i] < 0x20 || s[i] == 0x7f)) {
            return 0;
        }
        i += (size_t)n;
    }
    return 1;
}
