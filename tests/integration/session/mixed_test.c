/*
 * One session server on UDP and TCP at once (serve_tcp): a UDP client and
 * a TCP client join the same room with names unique across both, see each
 * other's send_all events with the sender's name and in order, get the
 * server's events, and are kicked and told of a stop alike; max_clients
 * counts both, interrupt wakes a waiting service, bad setups fail clean.
 */
#include "pt.h"

#include <pthread.h>
#include <time.h>

#include "parley/parley.h"
#include "parley/session.h"

#define MAXC 4
#define LOG 256

#include "session_util.h"

static void
fmt_addr(char *buf, size_t cap, int v6, uint16_t port)
{
    if (v6) {
        snprintf(buf, cap, "[::1]:%u", (unsigned)port);
    } else {
        snprintf(buf, cap, "127.0.0.1:%u", (unsigned)port);
    }
}

static void
start_server(world *w, int v6)
{
    parley_server_config cfg;
    parley_addr a;
    uint16_t udp_port;

    memset(w, 0, sizeof *w);
    memset(&g_srv, 0, sizeof g_srv);
    memset(g_cli, 0, sizeof g_cli);
    parley_server_config_init(&cfg);
    cfg.bind_addr = v6 ? "::1" : "127.0.0.1";
    cfg.port = 0;
    cfg.serve_tcp = 1;
    cfg.tcp_port = 0;
    cfg.name = "hub";
    cfg.hello_timeout_ms = 300;
    cfg.stop_timeout_ms = 2000;
    PT_OK(parley_server_start(&cfg, &w->srv));
    PT_OK(parley_server_local_addr_of(w->srv, PARLEY_TRANSPORT_UDP, &a));
    PT_TRUE(a.port != 0);
    fmt_addr(w->addr, sizeof w->addr, v6, a.port);
    udp_port = a.port;
    PT_OK(parley_server_local_addr(w->srv, &a)); /* the UDP one */
    PT_EQ_INT(a.port, udp_port);
    PT_OK(parley_server_local_addr_of(w->srv, PARLEY_TRANSPORT_TCP, &a));
    PT_TRUE(a.port != 0);
    PT_EQ_INT(a.family, v6 ? PARLEY_AF_INET6 : PARLEY_AF_INET);
    fmt_addr(w->tcp_addr, sizeof w->tcp_addr, v6, a.port);
}

static parley_client *
add_client(world *w, const char *name, int tcp)
{
    parley_client_config cfg;
    parley_client *c;
    side *s;

    parley_client_config_init(&cfg);
    cfg.name = name;
    cfg.connect_timeout_ms = 2000;
    cfg.transport = tcp ? PARLEY_TRANSPORT_TCP : PARLEY_TRANSPORT_UDP;
    PT_OK(parley_client_create(&cfg, &c));
    PT_OK(parley_client_connect_start(c, tcp ? w->tcp_addr : w->addr));
    w->cli[w->ncli++] = c;
    PUMP_UNTIL(w, parley_client_is_connected(c), 3000);
    PT_TRUE(parley_client_is_connected(c));
    s = &g_cli[w->ncli - 1];
    PT_EQ_INT(count(s, PARLEY_SESSION_CONNECTED, 0), 1);
    s->n = 0;
    return c;
}

static void
finish(world *w)
{
    for (int i = 0; i < w->ncli; i++) {
        parley_client_destroy(w->cli[i]);
    }
    parley_server_stop(w->srv);
}

static void
send_int(parley_client *c, uint64_t id, int64_t v)
{
    parley_builder *b;

    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_int(b, v));
    PT_OK(parley_client_send_all(c, id, b, 0));
    parley_builder_destroy(b);
}

/* The n-th event from sender on a side, or NULL. */
static const seen *
nth_from(const side *s, const char *sender, int nth)
{
    for (int i = 0; i < s->n; i++) {
        if (s->log[i].type == PARLEY_SESSION_EVENT &&
            strcmp(s->log[i].sender, sender) == 0 && nth-- == 0) {
            return &s->log[i];
        }
    }
    return NULL;
}

/* ---- tests --------------------------------------------------------------- */

PT_TEST(names_are_unique_across_transports)
{
    world w;
    parley_client_id ids[4];
    parley_client_info udp_info, tcp_info;
    const seen *s;

    start_server(&w, 0);
    add_client(&w, "ann", 0);
    add_client(&w, "ann", 1);
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 2, 2000);
    PT_EQ_U64(parley_server_clients(w.srv, ids, 4), 2);
    PT_TRUE(ids[0] != ids[1]);
    PT_EQ_STR(parley_client_name(w.cli[0]), "ann");
    PT_EQ_STR(parley_client_name(w.cli[1]), "ann-2");
    s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 1);
    PT_TRUE(s != NULL);
    PT_EQ_STR(s->sender, "ann-2");
    PT_OK(parley_server_find_client(w.srv, "ann", &ids[0]));
    PT_OK(parley_server_find_client(w.srv, "ann-2", &ids[1]));
    PT_OK(parley_server_client_info(w.srv, ids[0], &udp_info));
    PT_OK(parley_server_client_info(w.srv, ids[1], &tcp_info));
    PT_EQ_STR(udp_info.name, "ann");
    PT_EQ_STR(tcp_info.name, "ann-2");
    PT_EQ_U64(tcp_info.id, ids[1]);
    /* Each client's address is its own socket's: compare the ports. */
    {
        parley_addr a;
        PT_OK(parley_client_local_addr(w.cli[0], &a));
        PT_EQ_INT(udp_info.addr.port, a.port);
        PT_OK(parley_client_local_addr(w.cli[1], &a));
        PT_EQ_INT(tcp_info.addr.port, a.port);
    }
    PT_TRUE(parley_server_fd(w.srv) >= 0);
    finish(&w);
}

static void
send_all_both_ways(int v6)
{
    world w;
    uint64_t chat = parley_event_id("chat");
    parley_builder *b;

    start_server(&w, v6);
    add_client(&w, "udpy", 0);
    add_client(&w, "tcpy", 1);
    for (int i = 0; i < 20; i++) {
        send_int(w.cli[i % 2], chat, i);
    }
    PUMP_UNTIL(&w,
               count(&g_cli[0], PARLEY_SESSION_EVENT, chat) == 20 &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, chat) == 20,
               3000);
    for (int c = 0; c < 2; c++) {
        PT_EQ_INT(count(&g_cli[c], PARLEY_SESSION_EVENT, chat), 20);
        for (int k = 0; k < 10; k++) {
            const seen *u = nth_from(&g_cli[c], "udpy", k);
            const seen *t = nth_from(&g_cli[c], "tcpy", k);
            PT_TRUE(u != NULL && t != NULL);
            PT_EQ_INT(u->arg0, 2 * k); /* in order, per sender */
            PT_EQ_INT(t->arg0, 2 * k + 1);
            PT_EQ_INT(u->to_all, 1);
            PT_EQ_INT(t->to_all, 1);
        }
    }
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, chat), 20);
    /* The server's own send_all reaches both. */
    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_int(b, 77));
    PT_OK(parley_server_send_all(w.srv, chat, b, 0));
    parley_builder_destroy(b);
    PUMP_UNTIL(&w,
               count(&g_cli[0], PARLEY_SESSION_EVENT, chat) == 21 &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, chat) == 21,
               3000);
    for (int c = 0; c < 2; c++) {
        const seen *s = find_seen(&g_cli[c], PARLEY_SESSION_EVENT, 20);
        PT_TRUE(s != NULL);
        PT_EQ_STR(s->sender, "hub");
        PT_EQ_INT(s->arg0, 77);
    }
    finish(&w);
}

PT_TEST(send_all_between_udp_and_tcp_clients_v4)
{
    send_all_both_ways(0);
}

PT_TEST(send_all_between_udp_and_tcp_clients_v6)
{
    send_all_both_ways(1);
}

PT_TEST(kick_the_tcp_client_leaves_the_udp_one)
{
    world w;
    parley_client_id id;
    uint64_t chat = parley_event_id("chat");
    const seen *s;

    start_server(&w, 0);
    add_client(&w, "udpy", 0);
    add_client(&w, "tcpy", 1);
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 2, 2000);
    PT_OK(parley_server_find_client(w.srv, "tcpy", &id));
    PT_OK(parley_server_kick(w.srv, id, "go away"));
    PUMP_UNTIL(&w,
               count(&g_cli[1], PARLEY_SESSION_SERVER_DISCONNECT, 0) == 1 &&
                   count(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0) == 1,
               3000);
    s = find_seen(&g_cli[1], PARLEY_SESSION_SERVER_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_KICKED);
    PT_EQ_STR(s->reason, "kicked: go away");
    s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_STR(s->sender, "tcpy");
    PT_EQ_U64(s->client, id);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_KICKED);
    PT_EQ_U64(parley_server_clients(w.srv, NULL, 0), 1);
    PT_TRUE(parley_client_is_connected(w.cli[0]));
    PT_EQ_INT(count(&g_cli[0], PARLEY_SESSION_SERVER_DISCONNECT, 0), 0);
    /* The UDP client carries on; "tcpy" is free for a new TCP client. */
    send_int(w.cli[0], chat, 5);
    PUMP_UNTIL(&w, count(&g_cli[0], PARLEY_SESSION_EVENT, chat) == 1, 2000);
    PT_EQ_INT(count(&g_cli[0], PARLEY_SESSION_EVENT, chat), 1);
    add_client(&w, "tcpy", 1);
    PT_EQ_STR(parley_client_name(w.cli[2]), "tcpy");
    finish(&w);
}

PT_TEST(max_clients_counts_both_transports)
{
    world w;
    parley_server_config cfg;
    parley_client_config cc;
    parley_client *extra;
    parley_addr a;
    int rc = 0;
    uint64_t end;

    memset(&w, 0, sizeof w);
    memset(&g_srv, 0, sizeof g_srv);
    memset(g_cli, 0, sizeof g_cli);
    parley_server_config_init(&cfg);
    cfg.bind_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.serve_tcp = 1;
    cfg.max_clients = 1;
    PT_OK(parley_server_start(&cfg, &w.srv));
    PT_OK(parley_server_local_addr_of(w.srv, PARLEY_TRANSPORT_UDP, &a));
    fmt_addr(w.addr, sizeof w.addr, 0, a.port);
    PT_OK(parley_server_local_addr_of(w.srv, PARLEY_TRANSPORT_TCP, &a));
    fmt_addr(w.tcp_addr, sizeof w.tcp_addr, 0, a.port);
    add_client(&w, "first", 0);
    /* A TCP client is one too many: refused with the reason. */
    parley_client_config_init(&cc);
    cc.name = "second";
    cc.transport = PARLEY_TRANSPORT_TCP;
    cc.connect_timeout_ms = 2000;
    PT_OK(parley_client_create(&cc, &extra));
    PT_OK(parley_client_connect_start(extra, w.tcp_addr));
    end = parley_time_us() + 3000000;
    while (rc == 0 && parley_time_us() < end) {
        parley_session_event ev;
        pump(&w);
        if (parley_client_service(extra, 1, &ev) == 1) {
            rc = ev.type == PARLEY_SESSION_SERVER_DISCONNECT ? 1 : 2;
            if (rc == 1) {
                PT_EQ_INT(ev.leave, PARLEY_LEAVE_REFUSED);
                PT_TRUE(strstr(ev.reason, "full") != NULL);
            }
        }
    }
    PT_EQ_INT(rc, 1);
    PT_TRUE(!parley_client_is_connected(extra));
    PT_EQ_U64(parley_server_clients(w.srv, NULL, 0), 1);
    parley_client_destroy(extra);
    finish(&w);
}

static void *
stop_thread(void *srv)
{
    parley_server_stop(srv);
    return NULL;
}

PT_TEST(server_stop_tells_both)
{
    world w;
    pthread_t st;
    uint64_t end;

    start_server(&w, 0);
    add_client(&w, "udpy", 0);
    add_client(&w, "tcpy", 1);
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 2, 2000);
    PT_EQ_INT(pthread_create(&st, NULL, stop_thread, w.srv), 0);
    end = parley_time_us() + 3000000;
    while (parley_time_us() < end) {
        int all = 1;
        for (int i = 0; i < 2; i++) {
            parley_session_event ev;
            while (parley_client_service(w.cli[i], 1, &ev) == 1) {
                record(&g_cli[i], &ev);
            }
            all &= count(&g_cli[i], PARLEY_SESSION_SERVER_DISCONNECT, 0) == 1;
        }
        if (all) {
            break;
        }
    }
    pthread_join(st, NULL);
    for (int i = 0; i < 2; i++) {
        const seen *s =
            find_seen(&g_cli[i], PARLEY_SESSION_SERVER_DISCONNECT, 0);
        PT_TRUE(s != NULL);
        PT_EQ_INT(s->leave, PARLEY_LEAVE_STOPPED);
        PT_EQ_STR(s->reason, "server stopped");
        parley_client_destroy(w.cli[i]);
    }
}

static void
sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static volatile int g_returned;

static void *
wait_thread(void *srv)
{
    parley_session_event ev;
    int rc = parley_server_service(srv, -1, &ev);

    __atomic_store_n(&g_returned, rc == 0 ? 1 : 2, __ATOMIC_SEQ_CST);
    return NULL;
}

PT_TEST(interrupt_wakes_a_waiting_service)
{
    world w;
    pthread_t th;
    uint64_t t0, end;

    start_server(&w, 0);
    __atomic_store_n(&g_returned, 0, __ATOMIC_SEQ_CST);
    PT_EQ_INT(pthread_create(&th, NULL, wait_thread, w.srv), 0);
    sleep_ms(100);
    PT_EQ_INT(__atomic_load_n(&g_returned, __ATOMIC_SEQ_CST), 0);
    t0 = parley_time_us();
    PT_OK(parley_server_interrupt(w.srv));
    end = t0 + 2000000;
    while (__atomic_load_n(&g_returned, __ATOMIC_SEQ_CST) == 0 &&
           parley_time_us() < end) {
        sleep_ms(1);
    }
    PT_EQ_INT(__atomic_load_n(&g_returned, __ATOMIC_SEQ_CST), 1);
    PT_LT_U64((parley_time_us() - t0) / 1000, 500);
    pthread_join(th, NULL);
    finish(&w);
}

PT_TEST(configurations)
{
    parley_server_config cfg;
    parley_server *srv, *other;
    parley_addr a;

    parley_server_config_init(&cfg);
    PT_EQ_INT(cfg.serve_tcp, 0);
    cfg.bind_addr = "127.0.0.1";
    cfg.port = 0;
    /* serve_tcp is for a UDP server. */
    cfg.transport = PARLEY_TRANSPORT_TCP;
    cfg.serve_tcp = 1;
    PT_ERR(parley_server_start(&cfg, &srv), PARLEY_EINVAL);
    /* Without serve_tcp there is no TCP address. */
    cfg.transport = PARLEY_TRANSPORT_UDP;
    cfg.serve_tcp = 0;
    PT_OK(parley_server_start(&cfg, &srv));
    PT_OK(parley_server_local_addr_of(srv, PARLEY_TRANSPORT_UDP, &a));
    PT_ERR(parley_server_local_addr_of(srv, PARLEY_TRANSPORT_TCP, &a),
           PARLEY_ENOENT);
    PT_ERR(parley_server_local_addr_of(srv, (parley_session_transport)7, &a),
           PARLEY_EINVAL);
    parley_server_stop(srv);
    /* A TCP port in use: the start fails, the UDP side is closed. */
    cfg.transport = PARLEY_TRANSPORT_TCP;
    PT_OK(parley_server_start(&cfg, &other));
    PT_OK(parley_server_local_addr(other, &a));
    PT_ERR(parley_server_local_addr_of(other, PARLEY_TRANSPORT_UDP, &a),
           PARLEY_ENOENT);
    PT_OK(parley_server_local_addr_of(other, PARLEY_TRANSPORT_TCP, &a));
    cfg.transport = PARLEY_TRANSPORT_UDP;
    cfg.serve_tcp = 1;
    cfg.tcp_port = a.port;
    PT_ERR(parley_server_start(&cfg, &srv), PARLEY_EADDRINUSE);
    parley_server_stop(other);
}

/* clang-format off */
PT_MAIN(
    PT_RUN(names_are_unique_across_transports)
    PT_RUN(send_all_between_udp_and_tcp_clients_v4)
    PT_RUN(send_all_between_udp_and_tcp_clients_v6)
    PT_RUN(kick_the_tcp_client_leaves_the_udp_one)
    PT_RUN(max_clients_counts_both_transports)
    PT_RUN(server_stop_tells_both)
    PT_RUN(interrupt_wakes_a_waiting_service)
    PT_RUN(configurations))
/* clang-format on */
