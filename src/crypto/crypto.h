/*
 * The cryptography of parley's UDP protocol, all of it libsodium calls:
 * the handshake key schedule (X25519, BLAKE2b, the KDF), the PSK and
 * identity proofs, connect tokens and the per-packet AEAD
 * (ChaCha20-Poly1305-IETF). docs/PROTOCOL.md section 13 gives the bytes.
 */
#ifndef PL_CRYPTO_CRYPTO_H
#define PL_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define PL_CRYPTO_KEY_LEN 32
#define PL_CRYPTO_TAG_LEN 16
#define PL_CRYPTO_MAC_LEN 16
#define PL_CRYPTO_SIG_LEN 64
#define PL_CRYPTO_SIGN_SK_LEN 64
#define PL_CRYPTO_TOKEN_LEN 80

/* Session keys of one connection. */
typedef struct pl_session_keys {
    uint8_t c2s[PL_CRYPTO_KEY_LEN];     /* client to server packets */
    uint8_t s2c[PL_CRYPTO_KEY_LEN];     /* server to client packets */
    uint8_t confirm[PL_CRYPTO_KEY_LEN]; /* the ACCEPT confirmation MAC */
} pl_session_keys;

/* The handshake values both sides hash. */
typedef struct pl_hs_transcript {
    const uint8_t *client_pk; /* 32 bytes */
    const uint8_t *server_pk; /* 32 bytes */
    uint32_t client_id;
    const uint8_t *nonce; /* 8 bytes */
    uint32_t server_id;
} pl_hs_transcript;

/* Initialises libsodium once (thread-safe). 0 or -1. */
int pl_crypto_init(void);

/* pk = X25519 public key of the 32-byte secret sk. */
void pl_crypto_x25519_public(uint8_t pk[32], const uint8_t sk[32]);

/*
 * The key schedule: shared = X25519(my_sk, peer_pk); prk = BLAKE2b-256
 * keyed with psk (unkeyed when psk is NULL) over "parley-v1-keys",
 * shared and the transcript; the three keys = crypto_kdf subkeys 1, 2, 3
 * of prk with context "parleyk1". Returns 0, or -1 when peer_pk is a
 * low-order point (the shared secret is all zeros).
 */
int pl_crypto_schedule(const uint8_t my_sk[32], const uint8_t peer_pk[32],
                       const pl_hs_transcript *t, const uint8_t *psk,
                       pl_session_keys *out);

/* BLAKE2b-256 over "parley-v1-th" and the transcript: what an identity
   key signs. */
void pl_crypto_transcript_hash(const pl_hs_transcript *t, uint8_t out[32]);

/* The CONNECT's proof of the PSK: BLAKE2b-128 keyed with psk over
   "parley-v1-psk", client_pk, client_id and nonce. */
void pl_crypto_psk_mac(const uint8_t psk[32], const uint8_t client_pk[32],
                       uint32_t client_id, const uint8_t nonce[8],
                       uint8_t out[PL_CRYPTO_MAC_LEN]);

/* BLAKE2b-128 keyed with key over msg (ACCEPT confirmation). */
void pl_crypto_mac16(const uint8_t key[32], const uint8_t *msg, size_t len,
                     uint8_t out[PL_CRYPTO_MAC_LEN]);

/* Constant-time comparison of two 16-byte values: 1 when equal. */
int pl_crypto_equal16(const uint8_t *a, const uint8_t *b);

/* An Ed25519 key pair from a 32-byte seed (tests, fuzzers, key files). */
void pl_crypto_sign_seed_keypair(uint8_t pk[32],
                                 uint8_t sk[PL_CRYPTO_SIGN_SK_LEN],
                                 const uint8_t seed[32]);

/* Ed25519 detached signature and its check (1: valid). */
void pl_crypto_sign(const uint8_t sk[PL_CRYPTO_SIGN_SK_LEN], const uint8_t *msg,
                    size_t len, uint8_t sig[PL_CRYPTO_SIG_LEN]);
int pl_crypto_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
                     const uint8_t sig[PL_CRYPTO_SIG_LEN]);

/*
 * Connect tokens: expires_s (u64 BE) || user_id (u64 BE) || Ed25519
 * signature over "parley-v1-token" and those 16 bytes.
 * pl_crypto_token_check returns 0 (valid), -1 (bad signature) or -2
 * (expired: now_s > expires_s).
 */
void pl_crypto_token_make(const uint8_t sk[PL_CRYPTO_SIGN_SK_LEN],
                          uint64_t expires_s, uint64_t user_id,
                          uint8_t token[PL_CRYPTO_TOKEN_LEN]);
int pl_crypto_token_check(const uint8_t pk[32],
                          const uint8_t token[PL_CRYPTO_TOKEN_LEN],
                          uint64_t now_s, uint64_t *user_id);

/*
 * Seals a DATA packet in place: buf holds hdr_len header bytes (the
 * associated data) and then the plaintext, len bytes in all; the frames
 * are encrypted and the 16-byte tag written at buf + len (the caller
 * leaves room). The nonce is 4 zero bytes and pn as u64 BE.
 * Returns len + PL_CRYPTO_TAG_LEN.
 */
size_t pl_crypto_seal(const uint8_t key[32], uint64_t pn, uint8_t *buf,
                      size_t hdr_len, size_t len);

/*
 * Opens a sealed packet of len bytes into out (room for len bytes): the
 * header is copied, the frames decrypted. Returns the plaintext length
 * (len - 16), or 0 when the packet is too short or fails to open.
 */
size_t pl_crypto_open(const uint8_t key[32], uint64_t pn, const uint8_t *in,
                      size_t hdr_len, size_t len, uint8_t *out);

/* Wipes secret bytes. */
void pl_crypto_wipe(void *p, size_t len);

#endif
