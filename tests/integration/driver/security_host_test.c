/*
 * Secured connections over real loopback sockets through the public API:
 * encryption by default, a PSK loaded from key files (right and wrong
 * key), a pinned server identity from a key directory, and an encryption
 * mismatch. Failures must be clear (PARLEY_REASON_SECURITY with a detail)
 * and quick, never a timeout.
 */
#include "pt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parley/host.h"
#include "parley/parley.h"
#include "parley/security.h"

typedef struct side {
    parley_host *host;
    parley_peer peer;
    int connected, failed, received;
    parley_reason reason;
    uint32_t code;
    char last[64];
} side;

static void
take(side *s)
{
    parley_event ev;
    while (parley_host_service(s->host, 0, &ev) == 1) {
        if (ev.type == PARLEY_EVENT_CONNECT) {
            s->connected = 1;
            s->peer = ev.peer;
        } else if (ev.type == PARLEY_EVENT_CONNECT_FAILED ||
                   ev.type == PARLEY_EVENT_DISCONNECT) {
            s->failed = 1;
            s->reason = ev.reason;
            s->code = ev.app_code;
        } else if (ev.type == PARLEY_EVENT_RECEIVE) {
            s->received++;
            size_t n =
                ev.len < sizeof s->last - 1 ? ev.len : sizeof s->last - 1;
            memcpy(s->last, ev.data, n);
            s->last[n] = 0;
        }
        parley_event_release(s->host, &ev);
    }
}

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Services both until the client connected and the server saw it, or the
   client failed, or 3 s passed. Returns the milliseconds it took. */
static double
handshake(side *srv, side *cli)
{
    double t0 = now_ms();
    while (now_ms() - t0 < 3000 &&
           !((cli->connected && srv->connected) || cli->failed)) {
        take(cli);
        take(srv);
        usleep(1000);
    }
    return now_ms() - t0;
}

static void
start(side *srv, side *cli, const parley_host_config *cs,
      const parley_host_config *cc)
{
    memset(srv, 0, sizeof *srv);
    memset(cli, 0, sizeof *cli);
    parley_host_config s = *cs, c = *cc;
    s.bind = "127.0.0.1:0";
    c.bind = "127.0.0.1:0";
    c.accept_incoming = 0;
    c.connect_timeout_ms = 2500;
    PT_OK(parley_host_create(&s, &srv->host));
    PT_OK(parley_host_create(&c, &cli->host));
    parley_addr a;
    PT_OK(parley_host_local_addr(srv->host, &a));
    PT_OK(parley_host_connect_addr(cli->host, &a, NULL, 0, &cli->peer));
}

static void
stop(side *srv, side *cli)
{
    parley_host_destroy(cli->host);
    parley_host_destroy(srv->host);
}

PT_TEST(default_config_encrypts_and_talks)
{
    parley_host_config cfg;
    parley_host_config_init(&cfg);
    PT_EQ_INT(cfg.encrypt, 1);
    side srv, cli;
    start(&srv, &cli, &cfg, &cfg);
    handshake(&srv, &cli);
    PT_TRUE(cli.connected && srv.connected);
    PT_OK(parley_peer_send(cli.host, cli.peer, 0, "over the wire", 13,
                           PARLEY_SEND_FLUSH));
    double t0 = now_ms();
    while (srv.received == 0 && now_ms() - t0 < 2000) {
        take(&cli);
        take(&srv);
        usleep(1000);
    }
    PT_EQ_STR(srv.last, "over the wire");
    parley_peer_stats st;
    PT_OK(parley_peer_get_stats(srv.host, srv.peer, &st));
    PT_EQ_U64(st.auth_failures, 0);
    PT_GT_U64(st.packets_in, 0);
    stop(&srv, &cli);
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    PT_TRUE(f != NULL);
    fputs(text, f);
    fclose(f);
}

PT_TEST(psk_from_key_files)
{
    char dir[] = "/tmp/parley_sec_XXXXXX";
    PT_TRUE(mkdtemp(dir) != NULL);
    char good_path[128], bad_path[128];
    snprintf(good_path, sizeof good_path, "%s/good.key", dir);
    snprintf(bad_path, sizeof bad_path, "%s/bad.key", dir);
    uint8_t key[32];
    char hex[PARLEY_KEY_HEX_SIZE];
    PT_OK(parley_key_generate(key));
    PT_OK(parley_key_to_hex(key, hex));
    write_file(good_path, hex);
    key[0] ^= 1;
    PT_OK(parley_key_to_hex(key, hex));
    write_file(bad_path, hex);
    uint8_t good[32], bad[32];
    PT_OK(parley_key_load_file(good_path, good));
    PT_OK(parley_key_load_file(bad_path, bad));
    remove(good_path);
    remove(bad_path);
    rmdir(dir);

    parley_host_config cs, cc;
    parley_host_config_init(&cs);
    parley_host_config_init(&cc);
    cs.psk = good;
    cc.psk = good;
    side srv, cli;
    start(&srv, &cli, &cs, &cc);
    handshake(&srv, &cli);
    PT_TRUE(cli.connected && srv.connected);
    stop(&srv, &cli);

    cc.psk = bad;
    start(&srv, &cli, &cs, &cc);
    double ms = handshake(&srv, &cli);
    printf("  wrong key refused in %.1f ms\n", ms);
    PT_TRUE(cli.failed);
    PT_EQ_INT(cli.connected, 0);
    PT_EQ_INT(srv.connected, 0);
    PT_EQ_INT(cli.reason, PARLEY_REASON_SECURITY);
    PT_EQ_INT(cli.code, PARLEY_SECURITY_PSK);
    PT_EQ_STR(parley_reason_name(cli.reason), "security");
    PT_LE_DBL(ms, 1000.0); /* a clear answer, not the connect timeout */
    stop(&srv, &cli);
}

PT_TEST(pinned_identity_from_a_key_directory)
{
    char dir[] = "/tmp/parley_id_XXXXXX";
    PT_TRUE(mkdtemp(dir) != NULL);
    char pub_hex[PARLEY_KEY_HEX_SIZE], path[128];
    PT_OK(parley_keypair_write_dir(dir, pub_hex));
    snprintf(path, sizeof path, "%s/parley.key", dir);
    uint8_t sk[PARLEY_SECRET_KEY_SIZE], pub[32], other[32], other_sk[64];
    PT_OK(parley_keypair_load_file(path, sk, NULL));
    remove(path);
    snprintf(path, sizeof path, "%s/parley.pub", dir);
    remove(path);
    rmdir(dir);
    PT_OK(parley_key_from_hex(pub_hex, pub));
    PT_OK(parley_keypair_generate(other, other_sk));

    parley_host_config cs, cc;
    parley_host_config_init(&cs);
    parley_host_config_init(&cc);
    cs.identity_secret = sk;
    cc.pinned_key = pub;
    side srv, cli;
    start(&srv, &cli, &cs, &cc);
    handshake(&srv, &cli);
    PT_TRUE(cli.connected && srv.connected);
    stop(&srv, &cli);

    cc.pinned_key = other;
    start(&srv, &cli, &cs, &cc);
    handshake(&srv, &cli);
    PT_TRUE(cli.failed);
    PT_EQ_INT(cli.connected, 0);
    PT_EQ_INT(cli.reason, PARLEY_REASON_SECURITY);
    PT_EQ_INT(cli.code, PARLEY_SECURITY_IDENTITY);
    stop(&srv, &cli);
}

PT_TEST(encryption_mismatch_over_sockets)
{
    parley_host_config cs, cc;
    parley_host_config_init(&cs);
    parley_host_config_init(&cc);
    cs.encrypt = 0;
    side srv, cli;
    start(&srv, &cli, &cs, &cc);
    handshake(&srv, &cli);
    PT_TRUE(cli.failed);
    PT_EQ_INT(cli.reason, PARLEY_REASON_SECURITY);
    PT_EQ_INT(cli.code, PARLEY_SECURITY_ENCRYPTION);
    stop(&srv, &cli);
    /* Both off: plaintext works (trusted LANs, benchmarks). */
    cc.encrypt = 0;
    start(&srv, &cli, &cs, &cc);
    handshake(&srv, &cli);
    PT_TRUE(cli.connected && srv.connected);
    stop(&srv, &cli);
    /* Access control without encryption is a configuration error. */
    uint8_t key[32] = {1};
    cs.psk = key;
    parley_host *h = NULL;
    PT_ERR(parley_host_create(&cs, &h), PARLEY_EINVAL);
    PT_TRUE(h == NULL);
}

PT_MAIN(PT_RUN(default_config_encrypts_and_talks) PT_RUN(psk_from_key_files)
            PT_RUN(pinned_identity_from_a_key_directory)
                PT_RUN(encryption_mismatch_over_sockets))
