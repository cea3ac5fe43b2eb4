/*
 * libsodium behind crypto.h: the handshake key schedule, the PSK, identity
 * and token proofs, and the DATA packet AEAD. No cryptography is written
 * here, only the ways libsodium's primitives are combined.
 */
#include "crypto/crypto.h"

#include <sodium.h>
#include <string.h>

#define KDF_CONTEXT "parleyk1"

int
pl_crypto_init(void)
{
    /* sodium_init is thread-safe and idempotent (1: already done). */
    return sodium_init() < 0 ? -1 : 0;
}

void
pl_crypto_x25519_public(uint8_t pk[32], const uint8_t sk[32])
{
    crypto_scalarmult_base(pk, sk);
}

static void
put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

static uint64_t
get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

/* client_pk || server_pk || client_id || nonce || server_id (80 bytes). */
static void
transcript_update(crypto_generichash_state *st, const pl_hs_transcript *t)
{
    uint8_t ids[16];
    put_u32(ids, t->client_id);
    memcpy(ids + 4, t->nonce, 8);
    put_u32(ids + 12, t->server_id);
    crypto_generichash_update(st, t->client_pk, 32);
    crypto_generichash_update(st, t->server_pk, 32);
    crypto_generichash_update(st, ids, sizeof ids);
}

int
pl_crypto_schedule(const uint8_t my_sk[32], const uint8_t peer_pk[32],
                   const pl_hs_transcript *t, const uint8_t *psk,
                   pl_session_keys *out)
{
    static const char label[] = "parley-v1-keys";
    uint8_t shared[crypto_scalarmult_BYTES];
    if (crypto_scalarmult(shared, my_sk, peer_pk) != 0) {
        sodium_memzero(shared, sizeof shared);
        return -1;
    }
    crypto_generichash_state st;
    uint8_t prk[crypto_kdf_KEYBYTES];
    crypto_generichash_init(&st, psk, psk ? 32 : 0, sizeof prk);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, shared, sizeof shared);
    transcript_update(&st, t);
    crypto_generichash_final(&st, prk, sizeof prk);
    crypto_kdf_derive_from_key(out->c2s, sizeof out->c2s, 1, KDF_CONTEXT, prk);
    crypto_kdf_derive_from_key(out->s2c, sizeof out->s2c, 2, KDF_CONTEXT, prk);
    crypto_kdf_derive_from_key(out->confirm, sizeof out->confirm, 3,
                               KDF_CONTEXT, prk);
    sodium_memzero(shared, sizeof shared);
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(&st, sizeof st);
    return 0;
}

void
pl_crypto_transcript_hash(const pl_hs_transcript *t, uint8_t out[32])
{
    static const char label[] = "parley-v1-th";
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    transcript_update(&st, t);
    crypto_generichash_final(&st, out, 32);
}

void
pl_crypto_psk_mac(const uint8_t psk[32], const uint8_t client_pk[32],
                  uint32_t client_id, const uint8_t nonce[8],
                  uint8_t out[PL_CRYPTO_MAC_LEN])
{
    static const char label[] = "parley-v1-psk";
    uint8_t ids[12];
    put_u32(ids, client_id);
    memcpy(ids + 4, nonce, 8);
    crypto_generichash_state st;
    crypto_generichash_init(&st, psk, 32, PL_CRYPTO_MAC_LEN);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label - 1);
    crypto_generichash_update(&st, client_pk, 32);
    crypto_generichash_update(&st, ids, sizeof ids);
    crypto_generichash_final(&st, out, PL_CRYPTO_MAC_LEN);
}

void
pl_crypto_mac16(const uint8_t key[32], const uint8_t *msg, size_t len,
                uint8_t out[PL_CRYPTO_MAC_LEN])
{
    crypto_generichash(out, PL_CRYPTO_MAC_LEN, msg, len, key, 32);
}

int
pl_crypto_equal16(const uint8_t *a, const uint8_t *b)
{
    return crypto_verify_16(a, b) == 0;
}

void
pl_crypto_sign_seed_keypair(uint8_t pk[32], uint8_t sk[PL_CRYPTO_SIGN_SK_LEN],
                            const uint8_t seed[32])
{
    crypto_sign_seed_keypair(pk, sk, seed);
}

void
pl_crypto_sign(const uint8_t sk[PL_CRYPTO_SIGN_SK_LEN], const uint8_t *msg,
               size_t len, uint8_t sig[PL_CRYPTO_SIG_LEN])
{
    crypto_sign_detached(sig, NULL, msg, len, sk);
}

int
pl_crypto_verify(const uint8_t pk[32], const uint8_t *msg, size_t len,
                 const uint8_t sig[PL_CRYPTO_SIG_LEN])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0;
}

/* "parley-v1-token" || expires || user_id. */
static size_t
token_msg(const uint8_t body[16], uint8_t msg[31])
{
    static const char label[] = "parley-v1-token";
    memcpy(msg, label, sizeof label - 1);
    memcpy(msg + sizeof label - 1, body, 16);
    return sizeof label - 1 + 16;
}

void
pl_crypto_token_make(const uint8_t sk[PL_CRYPTO_SIGN_SK_LEN],
                     uint64_t expires_s, uint64_t user_id,
                     uint8_t token[PL_CRYPTO_TOKEN_LEN])
{
    uint8_t msg[31];
    put_u64(token, expires_s);
    put_u64(token + 8, user_id);
    size_t n = token_msg(token, msg);
    crypto_sign_detached(token + 16, NULL, msg, n, sk);
}

int
pl_crypto_token_check(const uint8_t pk[32],
                      const uint8_t token[PL_CRYPTO_TOKEN_LEN], uint64_t now_s,
                      uint64_t *user_id)
{
    uint8_t msg[31];
    size_t n = token_msg(token, msg);
    if (crypto_sign_verify_detached(token + 16, msg, n, pk) != 0) {
        return -1;
    }
    if (now_s > get_u64(token)) {
        return -2;
    }
    if (user_id) {
        *user_id = get_u64(token + 8);
    }
    return 0;
}

static void
make_nonce(uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES],
           uint64_t pn)
{
    memset(nonce, 0, 4);
    put_u64(nonce + 4, pn);
}

size_t
pl_crypto_seal(const uint8_t key[32], uint64_t pn, uint8_t *buf, size_t hdr_len,
               size_t len)
{
    uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
    make_nonce(nonce, pn);
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(
        buf + hdr_len, buf + len, NULL, buf + hdr_len, len - hdr_len, buf,
        hdr_len, NULL, nonce, key);
    return len + PL_CRYPTO_TAG_LEN;
}

size_t
pl_crypto_open(const uint8_t key[32], uint64_t pn, const uint8_t *in,
               size_t hdr_len, size_t len, uint8_t *out)
{
    if (len < hdr_len + PL_CRYPTO_TAG_LEN) {
        return 0;
    }
    uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
    make_nonce(nonce, pn);
    size_t clen = len - hdr_len - PL_CRYPTO_TAG_LEN;
    memcpy(out, in, hdr_len);
    if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
            out + hdr_len, NULL, in + hdr_len, clen, in + hdr_len + clen, in,
            hdr_len, nonce, key) != 0) {
        return 0;
    }
    return hdr_len + clen;
}

void
pl_crypto_wipe(void *p, size_t len)
{
    sodium_memzero(p, len);
}
