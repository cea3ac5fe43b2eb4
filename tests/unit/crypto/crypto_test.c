/*
 * Known-answer tests of the handshake key schedule, the PSK proof, the
 * identity signature, connect tokens and the DATA packet AEAD (the vectors
 * of docs/PROTOCOL.md 13.9, in tests/unit/wire/golden.h), plus the public
 * key helpers of parley/security.h: hex, key files and key pairs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../wire/golden.h"
#include "../wire/wire_util.h"
#include "crypto/crypto.h"
#include "parley/error.h"
#include "parley/security.h"
#include "pt.h"
#include "wire/packet.h"

static void
unhex(const char *hex, uint8_t *out, size_t want)
{
    uint8_t tmp[512];
    size_t n = hex_to_bytes(hex, tmp, sizeof tmp);
    PT_EQ_INT(n, want);
    memcpy(out, tmp, want);
}

typedef struct kat_ {
    uint8_t a_sk[32], a_pk[32], b_sk[32], b_pk[32], nonce[8];
    pl_hs_transcript t;
} kat_;

static void
kat_init(kat_ *k)
{
    unhex(HEX_X25519_CLIENT_SK, k->a_sk, 32);
    for (int i = 0; i < 32; i++) {
        k->b_sk[i] = (uint8_t)i;
    }
    pl_crypto_x25519_public(k->a_pk, k->a_sk);
    pl_crypto_x25519_public(k->b_pk, k->b_sk);
    for (int i = 0; i < 8; i++) {
        k->nonce[i] = (uint8_t)(i + 1);
    }
    pl_hs_transcript t = {k->a_pk, k->b_pk, 0x0a0b0c0d, k->nonce, 0xcafef00d};
    k->t = t;
}

static void
expect_hex(const uint8_t *got, const char *hex, size_t n)
{
    uint8_t want[256];
    unhex(hex, want, n);
    PT_EQ_MEM(got, want, n);
}

PT_TEST(x25519_public_keys)
{
    PT_EQ_INT(pl_crypto_init(), 0);
    kat_ k;
    kat_init(&k);
    /* RFC 7748 section 6.1: Alice's public key. */
    expect_hex(k.a_pk, HEX_X25519_CLIENT_PK, 32);
    expect_hex(k.b_pk, HEX_X25519_SERVER_PK, 32);
}

PT_TEST(key_schedule_known_answers)
{
    kat_ k;
    kat_init(&k);
    pl_session_keys c, s;
    PT_EQ_INT(pl_crypto_schedule(k.a_sk, k.b_pk, &k.t, NULL, &c), 0);
    PT_EQ_INT(pl_crypto_schedule(k.b_sk, k.a_pk, &k.t, NULL, &s), 0);
    expect_hex(c.c2s, HEX_KEY_C2S, 32);
    expect_hex(c.s2c, HEX_KEY_S2C, 32);
    expect_hex(c.confirm, HEX_KEY_CONFIRM, 32);
    PT_EQ_MEM(&c, &s, sizeof c); /* both ends agree */
    /* The PSK changes every key. */
    uint8_t psk[32];
    for (int i = 0; i < 32; i++) {
        psk[i] = (uint8_t)i;
    }
    PT_EQ_INT(pl_crypto_schedule(k.a_sk, k.b_pk, &k.t, psk, &c), 0);
    expect_hex(c.c2s, HEX_PSK_C2S, 32);
    expect_hex(c.s2c, HEX_PSK_S2C, 32);
    expect_hex(c.confirm, HEX_PSK_CONFIRM, 32);
    uint8_t mac[16];
    pl_crypto_psk_mac(psk, k.a_pk, 0x0a0b0c0d, k.nonce, mac);
    expect_hex(mac, HEX_PSK_MAC, 16);
    /* Every transcript field is bound. */
    pl_session_keys d;
    k.t.server_id ^= 1;
    PT_EQ_INT(pl_crypto_schedule(k.a_sk, k.b_pk, &k.t, psk, &d), 0);
    PT_TRUE(memcmp(d.c2s, c.c2s, 32) != 0);
    k.t.server_id ^= 1;
    k.nonce[7] ^= 1;
    PT_EQ_INT(pl_crypto_schedule(k.a_sk, k.b_pk, &k.t, psk, &d), 0);
    PT_TRUE(memcmp(d.c2s, c.c2s, 32) != 0);
}

PT_TEST(low_order_point_is_refused)
{
    kat_ k;
    kat_init(&k);
    uint8_t zero[32] = {0};
    pl_session_keys c;
    PT_EQ_INT(pl_crypto_schedule(k.a_sk, zero, &k.t, NULL, &c), -1);
}

PT_TEST(transcript_and_identity_signature)
{
    kat_ k;
    kat_init(&k);
    uint8_t th[32];
    pl_crypto_transcript_hash(&k.t, th);
    expect_hex(th, HEX_TRANSCRIPT_HASH, 32);
    /* ACCEPT_ID's signature verifies with the identity key. */
    uint8_t acc[PL_HS_ACCEPT_MAX_LEN], pk[32];
    unhex(HEX_ACCEPT_ID, acc, PL_HS_ACCEPT_ENC_LEN + PL_HS_SIG_LEN);
    unhex(HEX_IDENTITY_PK, pk, 32);
    PT_TRUE(pl_crypto_verify(pk, th, 32, acc + PL_HS_ACCEPT_ENC_LEN));
    th[0] ^= 1;
    PT_TRUE(!pl_crypto_verify(pk, th, 32, acc + PL_HS_ACCEPT_ENC_LEN));
    /* And its confirmation MAC is the schedule's over bytes 0..59. */
    pl_session_keys c;
    PT_EQ_INT(pl_crypto_schedule(k.a_sk, k.b_pk, &k.t, NULL, &c), 0);
    uint8_t mac[16];
    pl_crypto_mac16(c.confirm, acc, 60, mac);
    PT_EQ_MEM(mac, acc + 60, 16);
    uint8_t enc[PL_HS_ACCEPT_ENC_LEN];
    unhex(HEX_ACCEPT_ENC, enc, sizeof enc);
    pl_crypto_mac16(c.confirm, enc, 60, mac);
    PT_EQ_MEM(mac, enc + 60, 16);
}

/* Seals plain (hex) with key at pn and compares with sealed (hex); opens
   it back, and every single-bit flip fails to open. */
static void
check_sealed(const uint8_t key[32], uint64_t pn, const uint8_t *plain,
             size_t plen, const char *sealed_hex)
{
    uint8_t buf[128], want[128], out[128];
    size_t n = hex_to_bytes(sealed_hex, want, sizeof want);
    PT_EQ_INT(n, plen + 16);
    memcpy(buf, plain, plen);
    PT_EQ_INT(pl_crypto_seal(key, pn, buf, 9, plen), plen + 16);
    PT_EQ_MEM(buf, want, n);
    PT_EQ_INT(pl_crypto_open(key, pn, buf, 9, n, out), plen);
    PT_EQ_MEM(out, plain, plen);
    PT_EQ_INT(pl_crypto_open(key, pn + 1, buf, 9, n, out), 0);
    for (size_t bit = 0; bit < n * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        PT_EQ_INT(pl_crypto_open(key, pn, buf, 9, n, out), 0);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    PT_EQ_INT(pl_crypto_open(key, pn, buf, 9, 24, out), 0); /* too short */
}

PT_TEST(sealed_packets_known_answers)
{
    uint8_t c2s[32], s2c[32];
    unhex(HEX_KEY_C2S, c2s, 32);
    unhex(HEX_KEY_S2C, s2c, 32);
    static const uint8_t ping[] = {0x01, 0xca, 0xfe, 0xf0, 0x0d, 0, 0, 0, 0, 1};
    check_sealed(c2s, 0, ping, sizeof ping, HEX_SEALED_PING);
    static const uint8_t hi[] = {0x01, 0x0a, 0x0b, 0x0c, 0x0d, 0,    0,   0,
                                 7,    0x10, 0,    0,    2,    0x68, 0x69};
    check_sealed(s2c, 7, hi, sizeof hi, HEX_SEALED_HI);
}

PT_TEST(tokens)
{
    uint8_t seed[32], pub[32], sk[64], token[PARLEY_TOKEN_SIZE];
    memset(seed, 0x2a, sizeof seed);
    FILE *f = fopen("parley_test_seed.key", "wb");
    PT_TRUE(f != NULL);
    PT_EQ_INT(fwrite(seed, 1, 32, f), 32);
    fclose(f);
    PT_OK(parley_keypair_load_file("parley_test_seed.key", sk, pub));
    remove("parley_test_seed.key");
    expect_hex(pub, HEX_IDENTITY_PK, 32);
    PT_OK(parley_token_create(sk, 0x70000000, 42, token));
    expect_hex(token, HEX_TOKEN, PARLEY_TOKEN_SIZE);
    uint64_t user = 0;
    PT_OK(parley_token_verify(pub, token, 0x70000000, &user));
    PT_EQ_U64(user, 42);
    PT_ERR(parley_token_verify(pub, token, 0x70000001, NULL), PARLEY_ETIMEDOUT);
    for (size_t i = 0; i < PARLEY_TOKEN_SIZE; i++) {
        token[i] ^= 0x10;
        PT_ERR(parley_token_verify(pub, token, 0, NULL), PARLEY_EPROTO);
        token[i] ^= 0x10;
    }
    PT_ERR(parley_token_create(NULL, 1, 1, token), PARLEY_EINVAL);
}

PT_TEST(key_hex)
{
    uint8_t key[32], back[32];
    char hex[PARLEY_KEY_HEX_SIZE];
    PT_OK(parley_key_generate(key));
    PT_OK(parley_key_to_hex(key, hex));
    PT_EQ_INT(strlen(hex), 64);
    PT_OK(parley_key_from_hex(hex, back));
    PT_EQ_MEM(key, back, 32);
    PT_OK(parley_key_from_hex(HEX_KEY_C2S, back));
    expect_hex(back, HEX_KEY_C2S, 32);
    char upper[80];
    snprintf(
        upper, sizeof upper, "  %s\n",
        "8977A3741F65A6B1F8C0A49E4B5026AF5B1EBFC4622FBEFA40EA74ED5B8C5CB4");
    PT_OK(parley_key_from_hex(upper, back));
    expect_hex(back, HEX_KEY_C2S, 32);
    PT_ERR(parley_key_from_hex("abcd", back), PARLEY_EINVAL);
    hex[10] = 'g';
    PT_ERR(parley_key_from_hex(hex, back), PARLEY_EINVAL);
    PT_ERR(parley_key_from_hex(NULL, back), PARLEY_EINVAL);
    PT_ERR(parley_key_to_hex(NULL, hex), PARLEY_EINVAL);
}

static void
write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    PT_TRUE(f != NULL);
    PT_EQ_INT(fwrite(p, 1, n, f), n);
    fclose(f);
}

PT_TEST(key_files)
{
    const char *path = "parley_test_psk.key";
    uint8_t key[32], got[32];
    for (int i = 0; i < 32; i++) {
        key[i] = (uint8_t)(200 + i);
    }
    write_bytes(path, key, 32); /* raw */
    PT_OK(parley_key_load_file(path, got));
    PT_EQ_MEM(got, key, 32);
    char hex[PARLEY_KEY_HEX_SIZE + 1];
    PT_OK(parley_key_to_hex(key, hex));
    hex[64] = '\n';
    hex[65] = 0;
    write_bytes(path, hex, 65); /* hex with a newline */
    memset(got, 0, sizeof got);
    PT_OK(parley_key_load_file(path, got));
    PT_EQ_MEM(got, key, 32);
    write_bytes(path, key, 31); /* short */
    PT_ERR(parley_key_load_file(path, got), PARLEY_EINVAL);
    write_bytes(path, hex, 63); /* odd hex */
    PT_ERR(parley_key_load_file(path, got), PARLEY_EINVAL);
    char big[300];
    memset(big, 'a', sizeof big);
    write_bytes(path, big, sizeof big); /* too long */
    PT_ERR(parley_key_load_file(path, got), PARLEY_EINVAL);
    remove(path);
    PT_ERR(parley_key_load_file(path, got), PARLEY_EIO);
}

PT_TEST(key_pair_directory)
{
    char dir[] = "/tmp/parley_keys_XXXXXX";
    PT_TRUE(mkdtemp(dir) != NULL);
    char pub_hex[PARLEY_KEY_HEX_SIZE];
    PT_OK(parley_keypair_write_dir(dir, pub_hex));
    PT_EQ_INT(strlen(pub_hex), 64);
    char path[256];
    snprintf(path, sizeof path, "%s/parley.key", dir);
    struct stat st;
    PT_EQ_INT(stat(path, &st), 0);
    PT_EQ_INT(st.st_mode & 0777, 0600);
    uint8_t sk[64], pub[32], pub2[32];
    PT_OK(parley_keypair_load_file(path, sk, pub));
    PT_OK(parley_key_from_hex(pub_hex, pub2));
    PT_EQ_MEM(pub, pub2, 32);
    snprintf(path, sizeof path, "%s/parley.pub", dir);
    PT_OK(parley_key_load_file(path, pub2));
    PT_EQ_MEM(pub, pub2, 32);
    /* A key signed with the loaded secret verifies with the public key. */
    uint8_t token[PARLEY_TOKEN_SIZE];
    PT_OK(parley_token_create(sk, 100, 1, token));
    PT_OK(parley_token_verify(pub, token, 50, NULL));
    /* Never overwrites a secret key. */
    PT_ERR(parley_keypair_write_dir(dir, pub_hex), PARLEY_EEXIST);
    PT_ERR(parley_keypair_write_dir("/nonexistent/dir", pub_hex), PARLEY_EIO);
    remove(path);
    snprintf(path, sizeof path, "%s/parley.key", dir);
    remove(path);
    PT_EQ_INT(rmdir(dir), 0);
}

PT_MAIN(PT_RUN(x25519_public_keys) PT_RUN(key_schedule_known_answers)
            PT_RUN(low_order_point_is_refused)
                PT_RUN(transcript_and_identity_signature)
                    PT_RUN(sealed_packets_known_answers) PT_RUN(tokens)
                        PT_RUN(key_hex) PT_RUN(key_files)
                            PT_RUN(key_pair_directory))
