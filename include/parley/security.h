/*
 * Keys and connect tokens for parley's secured UDP connections: helpers to
 * make, print, parse and load the 32-byte pre-shared key, the server's
 * long-term identity key pair (Ed25519) and the connect tokens an app's
 * backend signs. docs/SECURITY.md explains the modes; the host config
 * fields that use these keys are in host.h.
 */
#ifndef PARLEY_SECURITY_H
#define PARLEY_SECURITY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A pre-shared key, and an identity or backend public key. */
#define PARLEY_KEY_SIZE 32
/* An identity or backend secret key (Ed25519, public key included). */
#define PARLEY_SECRET_KEY_SIZE 64
/* Hex text of a 32-byte key, with its terminating NUL. */
#define PARLEY_KEY_HEX_SIZE 65
/* A connect token: expiry (u64), user id (u64), Ed25519 signature. */
#define PARLEY_TOKEN_SIZE 80

/*
 * Details of a PARLEY_REASON_SECURITY failure, in the event's app_code.
 * Codes 1..4 come from the server's REJECT, 5 and 6 from the client's own
 * checks of the server's ACCEPT.
 */
enum {
    PARLEY_SECURITY_ENCRYPTION = 1,  /* one side encrypts, the other not */
    PARLEY_SECURITY_PSK = 2,         /* no or the wrong pre-shared key */
    PARLEY_SECURITY_TOKEN = 3,       /* token missing, invalid or expired */
    PARLEY_SECURITY_NO_IDENTITY = 4, /* pinned, but the server has no key */
    PARLEY_SECURITY_IDENTITY = 5,    /* the server's key is not the pinned */
    PARLEY_SECURITY_CONFIRM = 6      /* the key exchange did not agree (a
                                        man in the middle, or keys differ) */
};

/* Fills key with 32 random bytes (a fresh pre-shared key). PARLEY_OK. */
PARLEY_API int parley_key_generate(uint8_t key[PARLEY_KEY_SIZE]);

/*
 * Parses exactly 64 hex digits (either case; surrounding spaces and
 * newlines allowed) into key. PARLEY_OK or PARLEY_EINVAL.
 */
PARLEY_API int parley_key_from_hex(const char *hex,
                                   uint8_t key[PARLEY_KEY_SIZE]);

/* Writes 64 lowercase hex digits and a NUL to out. PARLEY_OK/EINVAL. */
PARLEY_API int parley_key_to_hex(const uint8_t key[PARLEY_KEY_SIZE],
                                 char out[PARLEY_KEY_HEX_SIZE]);

/*
 * Loads a 32-byte key from a file holding either exactly 32 raw bytes or
 * 64 hex digits (optionally followed by a newline). PARLEY_OK,
 * PARLEY_EINVAL (bad arguments or content) or PARLEY_EIO (unreadable).
 */
PARLEY_API int parley_key_load_file(const char *path,
                                    uint8_t key[PARLEY_KEY_SIZE]);

/*
 * Makes a long-term identity key pair (Ed25519): for a server's identity
 * (clients pin pub) or for a backend that signs connect tokens (servers
 * get pub as token_key). PARLEY_OK or PARLEY_EINVAL.
 */
PARLEY_API int parley_keypair_generate(uint8_t pub[PARLEY_KEY_SIZE],
                                       uint8_t secret[PARLEY_SECRET_KEY_SIZE]);

/*
 * Makes a key pair and writes it into the existing directory dir as
 * "parley.key" (the 32-byte seed as 64 hex digits, mode 0600) and
 * "parley.pub" (the public key as 64 hex digits). Fills pub_hex.
 * Refuses to overwrite an existing parley.key. PARLEY_OK, PARLEY_EINVAL,
 * PARLEY_EEXIST or PARLEY_EIO.
 */
PARLEY_API int parley_keypair_write_dir(const char *dir,
                                        char pub_hex[PARLEY_KEY_HEX_SIZE]);

/*
 * Loads a secret key written by parley_keypair_write_dir (a 32-byte seed,
 * raw or hex, as parley_key_load_file reads it) and expands it into the
 * 64-byte secret key (and, if pub is not NULL, the public key).
 */
PARLEY_API int parley_keypair_load_file(const char *path,
                                        uint8_t secret[PARLEY_SECRET_KEY_SIZE],
                                        uint8_t pub[PARLEY_KEY_SIZE]);

/*
 * For the app's backend: signs a connect token that lets one client
 * connect to servers configured with the matching token_key until
 * expires_unix_s (seconds since 1970, UTC). user_id is the app's own.
 * PARLEY_OK or PARLEY_EINVAL.
 */
PARLEY_API int parley_token_create(const uint8_t secret[PARLEY_SECRET_KEY_SIZE],
                                   uint64_t expires_unix_s, uint64_t user_id,
                                   uint8_t token[PARLEY_TOKEN_SIZE]);

/*
 * Checks a token's signature against pub and its expiry against
 * now_unix_s. PARLEY_OK (fills *user_id if not NULL), PARLEY_EINVAL
 * (bad arguments), PARLEY_EPROTO (forged or tampered) or PARLEY_ETIMEDOUT
 * (expired).
 */
PARLEY_API int parley_token_verify(const uint8_t pub[PARLEY_KEY_SIZE],
                                   const uint8_t token[PARLEY_TOKEN_SIZE],
                                   uint64_t now_unix_s, uint64_t *user_id);

/*
 * A sentence for a PARLEY_SECURITY_* detail code (the app_code of a
 * CONNECT_FAILED or DISCONNECT event whose reason is
 * PARLEY_REASON_SECURITY), e.g. "wrong or missing pre-shared key". For an
 * unknown code, "security check failed". Never NULL; static storage.
 */
PARLEY_API const char *parley_security_detail_text(uint32_t detail);

#ifdef __cplusplus
}
#endif

#endif
