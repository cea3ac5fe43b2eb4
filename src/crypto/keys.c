/*
 * The public key helpers of include/parley/security.h: make, print, parse
 * and load pre-shared keys, identity key pairs and connect tokens, for
 * apps and for the tools' --key-file and --gen-keys options.
 */
#include "parley/security.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "parley/error.h"

/* Longest key file content read: 64 hex digits and some white space. */
#define KEY_FILE_MAX 128

int
parley_key_generate(uint8_t key[PARLEY_KEY_SIZE])
{
    if (!key || pl_crypto_init() != 0) {
        return PARLEY_EINVAL;
    }
    randombytes_buf(key, PARLEY_KEY_SIZE);
    return PARLEY_OK;
}

static int
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Parses 64 hex digits with optional white space around them. */
static int
parse_hex(const char *text, size_t len, uint8_t key[PARLEY_KEY_SIZE])
{
    while (len > 0 && is_space(text[0])) {
        text++;
        len--;
    }
    while (len > 0 && is_space(text[len - 1])) {
        len--;
    }
    size_t bin_len = 0;
    const char *end = NULL;
    if (len != 2 * PARLEY_KEY_SIZE ||
        sodium_hex2bin(key, PARLEY_KEY_SIZE, text, len, NULL, &bin_len, &end) !=
            0 ||
        bin_len != PARLEY_KEY_SIZE || end != text + len) {
        sodium_memzero(key, PARLEY_KEY_SIZE);
        return PARLEY_EINVAL;
    }
    return PARLEY_OK;
}

int
parley_key_from_hex(const char *hex, uint8_t key[PARLEY_KEY_SIZE])
{
    if (!hex || !key) {
        return PARLEY_EINVAL;
    }
    return parse_hex(hex, strlen(hex), key);
}

int
parley_key_to_hex(const uint8_t key[PARLEY_KEY_SIZE],
                  char out[PARLEY_KEY_HEX_SIZE])
{
    if (!key || !out) {
        return PARLEY_EINVAL;
    }
    sodium_bin2hex(out, PARLEY_KEY_HEX_SIZE, key, PARLEY_KEY_SIZE);
    return PARLEY_OK;
}

int
parley_key_load_file(const char *path, uint8_t key[PARLEY_KEY_SIZE])
{
    if (!path || !key) {
        return PARLEY_EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        return PARLEY_EIO;
    }
    char buf[KEY_FILE_MAX + 1];
    size_t n = fread(buf, 1, sizeof buf, f);
    int err = ferror(f);
    fclose(f);
    int rc;
    if (err) {
        rc = PARLEY_EIO;
    } else if (n == PARLEY_KEY_SIZE) {
        memcpy(key, buf, PARLEY_KEY_SIZE);
        rc = PARLEY_OK;
    } else if (n > KEY_FILE_MAX) {
        rc = PARLEY_EINVAL;
    } else {
        rc = parse_hex(buf, n, key);
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

int
parley_keypair_generate(uint8_t pub[PARLEY_KEY_SIZE],
                        uint8_t secret[PARLEY_SECRET_KEY_SIZE])
{
    if (!pub || !secret || pl_crypto_init() != 0) {
        return PARLEY_EINVAL;
    }
    crypto_sign_keypair(pub, secret);
    return PARLEY_OK;
}

/* Writes text to dir/name, creating it with mode; excl: must not exist. */
static int
write_file(const char *dir, const char *name, const char *text, int mode,
           int excl)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        return PARLEY_EINVAL;
    }
    int flags = O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC);
    int fd = open(path, flags, mode);
    if (fd < 0) {
        return excl && access(path, F_OK) == 0 ? PARLEY_EEXIST : PARLEY_EIO;
    }
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int rc = close(fd);
    return w == (ssize_t)len && rc == 0 ? PARLEY_OK : PARLEY_EIO;
}

int
parley_keypair_write_dir(const char *dir, char pub_hex[PARLEY_KEY_HEX_SIZE])
{
    if (!dir || !pub_hex || pl_crypto_init() != 0) {
        return PARLEY_EINVAL;
    }
    uint8_t pub[PARLEY_KEY_SIZE], sk[PARLEY_SECRET_KEY_SIZE];
    uint8_t seed[crypto_sign_SEEDBYTES];
    char text[PARLEY_KEY_HEX_SIZE + 1];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pub, sk, seed);
    sodium_bin2hex(text, PARLEY_KEY_HEX_SIZE, seed, sizeof seed);
    memcpy(text + 64, "\n", 2);
    int rc = write_file(dir, "parley.key", text, 0600, 1);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(text, sizeof text);
    if (rc == PARLEY_OK) {
        sodium_bin2hex(text, PARLEY_KEY_HEX_SIZE, pub, sizeof pub);
        memcpy(text + 64, "\n", 2);
        rc = write_file(dir, "parley.pub", text, 0644, 0);
    }
    if (rc == PARLEY_OK) {
        sodium_bin2hex(pub_hex, PARLEY_KEY_HEX_SIZE, pub, sizeof pub);
    }
    return rc;
}

int
parley_keypair_load_file(const char *path,
                         uint8_t secret[PARLEY_SECRET_KEY_SIZE],
                         uint8_t pub[PARLEY_KEY_SIZE])
{
    if (!path || !secret || pl_crypto_init() != 0) {
        return PARLEY_EINVAL;
    }
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t pk[PARLEY_KEY_SIZE];
    int rc = parley_key_load_file(path, seed);
    if (rc == PARLEY_OK) {
        crypto_sign_seed_keypair(pk, secret, seed);
        if (pub) {
            memcpy(pub, pk, sizeof pk);
        }
    }
    sodium_memzero(seed, sizeof seed);
    return rc;
}

int
parley_token_create(const uint8_t secret[PARLEY_SECRET_KEY_SIZE],
                    uint64_t expires_unix_s, uint64_t user_id,
                    uint8_t token[PARLEY_TOKEN_SIZE])
{
    if (!secret || !token || pl_crypto_init() != 0) {
        return PARLEY_EINVAL;
    }
    pl_crypto_token_make(secret, expires_unix_s, user_id, token);
    return PARLEY_OK;
}

int
parley_token_verify(const uint8_t pub[PARLEY_KEY_SIZE],
                    const uint8_t token[PARLEY_TOKEN_SIZE], uint64_t now_unix_s,
                    uint64_t *user_id)
{
    if (!pub || !token || pl_crypto_init() != 0) {
        return PARLEY_EINVAL;
    }
    int r = pl_crypto_token_check(pub, token, now_unix_s, user_id);
    return r == 0 ? PARLEY_OK : r == -1 ? PARLEY_EPROTO : PARLEY_ETIMEDOUT;
}

const char *
parley_security_detail_text(uint32_t detail)
{
    switch (detail) {
    case PARLEY_SECURITY_ENCRYPTION:
        return "encryption mismatch: one side encrypts, the other does not";
    case PARLEY_SECURITY_PSK:
        return "wrong or missing pre-shared key";
    case PARLEY_SECURITY_TOKEN:
        return "connect token missing, invalid or expired";
    case PARLEY_SECURITY_NO_IDENTITY:
        return "the server has no identity key to match the pinned one";
    case PARLEY_SECURITY_IDENTITY:
        return "the server's identity key is not the pinned one";
    case PARLEY_SECURITY_CONFIRM:
        return "the key exchange did not agree (another pre-shared key, "
               "or a man in the middle)";
    default:
        return "security check failed";
    }
}
