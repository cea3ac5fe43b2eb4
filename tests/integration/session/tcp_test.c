/*
 * The session layer over TCP on 127.0.0.1 and ::1: the same behaviours
 * as over UDP (joining with names, addresses and ports, events to the
 * server, to one and to all, relaying with the sender's name, kick,
 * client disconnect, server stop, 2,000 ordered events, clear connect
 * errors, a vanished peer noticed) plus what is TCP's own: a full
 * server's refusal, a non-parley server, hostile framing.
 */
#include "pt.h"

#include <pthread.h>
#include <time.h>

#include "parley/parley.h"
#include "parley/session.h"
#include "parley/tcp.h"

#define MAXC 8
#define LOG 4200

#include "session_util.h"

static void
start_server_opt(world *w, int v6, uint32_t max_clients,
                 const parley_tcp_options *opt)
{
    parley_server_config cfg;
    parley_addr a;

    memset(w, 0, sizeof *w);
    memset(&g_srv, 0, sizeof g_srv);
    memset(g_cli, 0, sizeof g_cli);
    parley_server_config_init(&cfg);
    cfg.transport = PARLEY_TRANSPORT_TCP;
    cfg.bind_addr = v6 ? "::1" : "127.0.0.1";
    cfg.port = 0;
    cfg.name = "hub";
    cfg.max_clients = max_clients;
    cfg.hello_timeout_ms = 300;
    cfg.stop_timeout_ms = 2000;
    cfg.tcp = opt;
    PT_OK(parley_server_start(&cfg, &w->srv));
    PT_OK(parley_server_local_addr(w->srv, &a));
    PT_TRUE(a.port != 0);
    PT_EQ_INT(a.family, v6 ? PARLEY_AF_INET6 : PARLEY_AF_INET);
    w->v6 = v6;
    snprintf(w->addr, sizeof w->addr, v6 ? "[::1]:%u" : "127.0.0.1:%u",
             (unsigned)a.port);
}

static void
start_server(world *w, int v6, uint32_t max_clients)
{
    start_server_opt(w, v6, max_clients, NULL);
}

static parley_client *
new_client(const char *name, const parley_tcp_options *opt)
{
    parley_client_config cfg;
    parley_client *c;

    parley_client_config_init(&cfg);
    cfg.transport = PARLEY_TRANSPORT_TCP;
    cfg.name = name;
    cfg.connect_timeout_ms = 2000;
    cfg.tcp = opt;
    PT_OK(parley_client_create(&cfg, &c));
    return c;
}

static parley_client *
add_client_opt(world *w, const char *name, const parley_tcp_options *opt)
{
    parley_client *c = new_client(name, opt);
    side *s;

    PT_OK(parley_client_connect_start(c, w->addr));
    w->cli[w->ncli++] = c;
    PUMP_UNTIL(w, parley_client_is_connected(c), 3000);
    PT_TRUE(parley_client_is_connected(c));
    s = &g_cli[w->ncli - 1];
    PT_EQ_INT(count(s, PARLEY_SESSION_CONNECTED, 0), 1);
    s->n = 0;
    return c;
}

static parley_client *
add_client(world *w, const char *name)
{
    return add_client_opt(w, name, NULL);
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
send_int(parley_client *c, uint64_t id, int64_t v, int all, uint32_t flags)
{
    parley_builder *b;

    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_int(b, v));
    if (all) {
        PT_OK(parley_client_send_all(c, id, b, flags));
    } else {
        PT_OK(parley_client_send(c, id, b, flags));
    }
    parley_builder_destroy(b);
}

/* The server served from its own thread, for calls that block. */
static volatile int g_stop_thread;

static void *
serve_thread(void *arg)
{
    world *w = arg;
    parley_session_event ev;

    while (!__atomic_load_n(&g_stop_thread, __ATOMIC_SEQ_CST)) {
        if (parley_server_service(w->srv, 50, &ev) == 1) {
            record(&g_srv, &ev);
        }
    }
    return NULL;
}

static void
serve_start(world *w, pthread_t *th)
{
    __atomic_store_n(&g_stop_thread, 0, __ATOMIC_SEQ_CST);
    PT_EQ_INT(pthread_create(th, NULL, serve_thread, w), 0);
}

static void
serve_stop(world *w, pthread_t th)
{
    __atomic_store_n(&g_stop_thread, 1, __ATOMIC_SEQ_CST);
    parley_server_interrupt(w->srv);
    pthread_join(th, NULL);
}

/* ---- tests --------------------------------------------------------------- */

static void
join(int v6)
{
    world w;
    parley_client_id ids[8], bob;

    start_server(&w, v6, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    add_client(&w, "alice");
    PT_EQ_STR(parley_client_name(w.cli[0]), "alice");
    PT_EQ_STR(parley_client_name(w.cli[2]), "alice-2");
    PT_EQ_STR(parley_client_server_name(w.cli[1]), "hub");
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 3, 2000);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0), 3);
    for (int i = 0; i < 3; i++) {
        const seen *s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, i);
        parley_addr local;
        parley_client_info info;
        int k = strcmp(s->sender, "alice") == 0 ? 0
                : strcmp(s->sender, "bob") == 0 ? 1
                                                : 2;
        PT_OK(parley_client_local_addr(w.cli[k], &local));
        if (v6) {
            PT_EQ_INT(s->addr.family, PARLEY_AF_INET6);
            PT_EQ_MEM(s->addr.ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);
        } else {
            PT_EQ_INT(s->addr.family, PARLEY_AF_INET);
            PT_EQ_MEM(s->addr.ip, "\x7f\x00\x00\x01", 4);
        }
        PT_TRUE(local.port != 0);
        PT_EQ_INT(s->addr.port, local.port); /* the client's own port */
        PT_OK(parley_server_client_info(w.srv, s->client, &info));
        PT_EQ_STR(info.name, s->sender);
        PT_GT_U64(info.stats.bytes_in, 0);
        PT_EQ_INT(info.stats.state, PARLEY_PEER_CONNECTED);
    }
    PT_EQ_STR(find_seen(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 2)->sender,
              "alice-2");
    PT_EQ_INT(parley_server_clients(w.srv, ids, 8), 3);
    PT_OK(parley_server_find_client(w.srv, "bob", &bob));
    finish(&w);
}

PT_TEST(join_with_names_addresses_and_ports_v4)
{
    join(0);
}

PT_TEST(join_with_names_addresses_and_ports_v6)
{
    join(1);
}

static void
events(int v6)
{
    world w;
    uint64_t chat = parley_event_id("chat");
    parley_client_id bob;
    parley_builder *b;
    const seen *s;

    start_server(&w, v6, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    add_client(&w, "carol");
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 3, 2000);
    PT_OK(parley_event_register(parley_client_events(w.cli[0]), "chat", NULL));
    send_int(w.cli[0], chat, 41, 0, 0);
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_EVENT, chat) == 1, 2000);
    s = find_seen(&g_srv, PARLEY_SESSION_EVENT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_STR(s->sender, "alice");
    PT_EQ_STR(s->name, "chat");
    PT_EQ_INT(s->arg0, 41);
    PT_EQ_INT(s->reliable, 1);
    PT_EQ_INT(s->to_all, 0);
    PT_EQ_INT(count(&g_cli[1], PARLEY_SESSION_EVENT, 0), 0);
    /* Server to one client, then to all. */
    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_int(b, 7));
    PT_OK(parley_server_find_client(w.srv, "bob", &bob));
    PT_OK(parley_server_send(w.srv, bob, chat, b, 0));
    parley_builder_reset(b);
    PT_OK(parley_builder_int(b, 8));
    PT_OK(parley_server_send_all(w.srv, chat, b, PARLEY_SEND_NOW));
    parley_builder_destroy(b);
    PUMP_UNTIL(&w,
               count(&g_cli[2], PARLEY_SESSION_EVENT, 0) == 1 &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, 0) == 2 &&
                   count(&g_cli[0], PARLEY_SESSION_EVENT, 0) == 1,
               2000);
    PT_EQ_INT(count(&g_cli[1], PARLEY_SESSION_EVENT, chat), 2);
    PT_EQ_INT(g_cli[1].log[0].arg0, 7);
    PT_EQ_INT(g_cli[1].log[1].arg0, 8);
    PT_EQ_INT(count(&g_cli[0], PARLEY_SESSION_EVENT, chat), 1);
    PT_EQ_INT(count(&g_cli[2], PARLEY_SESSION_EVENT, chat), 1);
    s = find_seen(&g_cli[2], PARLEY_SESSION_EVENT, 0);
    PT_EQ_STR(s->sender, "hub");
    PT_EQ_STR(s->name, "chat"); /* announced onwards by the server */
    PT_EQ_INT(s->to_all, 0);
    PT_ERR(parley_server_send(w.srv, 12345, chat, NULL, 0), PARLEY_ENOTCONN);
    finish(&w);
}

PT_TEST(events_to_server_to_one_and_to_all_v4)
{
    events(0);
}

PT_TEST(events_to_server_to_one_and_to_all_v6)
{
    events(1);
}

static void
relay(int v6)
{
    world w;
    uint64_t pose;

    start_server(&w, v6, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    add_client(&w, "carol");
    PT_OK(parley_event_register(parley_client_events(w.cli[1]), "pose", &pose));
    for (int i = 0; i < 5; i++) {
        send_int(w.cli[1], pose, i, 1, 0);
    }
    /* Unreliable ones too: over TCP they come, in order, marked as sent. */
    for (int i = 5; i < 10; i++) {
        send_int(w.cli[1], pose, i, 1, PARLEY_SEND_UNRELIABLE);
    }
    PUMP_UNTIL(&w,
               count(&g_cli[0], PARLEY_SESSION_EVENT, 0) == 10 &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, 0) == 10 &&
                   count(&g_cli[2], PARLEY_SESSION_EVENT, 0) == 10,
               2000);
    for (int c = 0; c < 3; c++) {
        PT_EQ_INT(count(&g_cli[c], PARLEY_SESSION_EVENT, pose), 10);
        for (int i = 0; i < 10; i++) {
            const seen *s = find_seen(&g_cli[c], PARLEY_SESSION_EVENT, i);
            PT_EQ_STR(s->sender, "bob");
            PT_EQ_STR(s->name, "pose");
            PT_EQ_INT(s->to_all, 1);
            PT_EQ_INT(s->arg0, i);
            PT_EQ_INT(s->reliable, i < 5);
        }
    }
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, pose), 10);
    PT_EQ_INT(find_seen(&g_srv, PARLEY_SESSION_EVENT, 0)->to_all, 1);
    finish(&w);
}

PT_TEST(send_all_is_relayed_with_the_sender_v4)
{
    relay(0);
}

PT_TEST(send_all_is_relayed_with_the_sender_v6)
{
    relay(1);
}

PT_TEST(kick_gives_server_disconnect_with_reason)
{
    world w;
    parley_client_id bob;
    const seen *s;

    start_server(&w, 0, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 2, 2000);
    PT_OK(parley_server_find_client(w.srv, "bob", &bob));
    PT_OK(parley_server_kick(w.srv, bob, "too slow"));
    PT_ERR(parley_server_kick(w.srv, bob, "again"), PARLEY_ENOTCONN);
    PT_ERR(parley_server_send(w.srv, bob, 1, NULL, 0), PARLEY_ENOTCONN);
    PUMP_UNTIL(&w,
               count(&g_cli[1], PARLEY_SESSION_SERVER_DISCONNECT, 0) == 1 &&
                   count(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0) == 1,
               3000);
    s = find_seen(&g_cli[1], PARLEY_SESSION_SERVER_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_KICKED);
    PT_EQ_STR(s->reason, "kicked: too slow");
    s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_KICKED);
    PT_EQ_STR(s->sender, "bob");
    PT_EQ_INT(s->client, bob);
    PT_TRUE(!parley_client_is_connected(w.cli[1]));
    PT_TRUE(parley_client_is_connected(w.cli[0]));
    PT_EQ_INT(count(&g_cli[0], PARLEY_SESSION_SERVER_DISCONNECT, 0), 0);
    PT_ERR(parley_client_send(w.cli[1], 1, NULL, 0), PARLEY_ENOTCONN);
    finish(&w);
}

PT_TEST(client_disconnect_delivers_first_then_leaves)
{
    world w;
    uint64_t chat = parley_event_id("chat");
    pthread_t th;
    const seen *s;

    start_server(&w, 1, 16);
    add_client(&w, "alice");
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 1, 2000);
    serve_start(&w, &th);
    for (int i = 0; i < 200; i++) {
        send_int(w.cli[0], chat, i, 0, 0);
    }
    uint64_t t0 = parley_time_us();
    PT_OK(parley_client_disconnect(w.cli[0], 3000));
    uint64_t took_ms = (parley_time_us() - t0) / 1000;
    PT_TRUE(!parley_client_is_connected(w.cli[0]));
    uint64_t end = parley_time_us() + 2000000;
    while (parley_time_us() < end &&
           __atomic_load_n(&g_srv.n, __ATOMIC_SEQ_CST) < 202) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    serve_stop(&w, th);
    PT_LT_INT(took_ms, 2000); /* finished, not timed out */
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, chat), 200);
    for (int i = 0; i < 200; i++) {
        PT_EQ_INT(find_seen(&g_srv, PARLEY_SESSION_EVENT, i)->arg0, i);
    }
    s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_STR(s->sender, "alice");
    PT_EQ_INT(s->leave, PARLEY_LEAVE_CLIENT);
    PT_EQ_STR(s->reason, "client left");
    /* Join again with the blocking connect. */
    serve_start(&w, &th);
    PT_OK(parley_client_connect(w.cli[0], w.addr));
    serve_stop(&w, th);
    PT_EQ_STR(parley_client_name(w.cli[0]), "alice");
    finish(&w);
}

static void *
stop_thread(void *srv)
{
    parley_server_stop(srv);
    return NULL;
}

static void
server_stop(int v6)
{
    world w;
    pthread_t st;
    uint64_t end, t0;

    start_server(&w, v6, 16);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        add_client(&w, name);
    }
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 3, 2000);
    t0 = parley_time_us();
    PT_EQ_INT(pthread_create(&st, NULL, stop_thread, w.srv), 0);
    end = parley_time_us() + 3000000;
    while (parley_time_us() < end) {
        int all = 1;
        for (int i = 0; i < 3; i++) {
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
    /* stop() returned once every client had closed, not at its limit. */
    PT_LT_U64((parley_time_us() - t0) / 1000, 1500);
    for (int i = 0; i < 3; i++) {
        const seen *s =
            find_seen(&g_cli[i], PARLEY_SESSION_SERVER_DISCONNECT, 0);
        PT_TRUE(s != NULL);
        PT_EQ_INT(s->leave, PARLEY_LEAVE_STOPPED);
        PT_EQ_STR(s->reason, "server stopped");
        PT_TRUE(!parley_client_is_connected(w.cli[i]));
        parley_client_destroy(w.cli[i]);
    }
}

PT_TEST(server_stop_tells_every_client_v4)
{
    server_stop(0);
}

PT_TEST(server_stop_tells_every_client_v6)
{
    server_stop(1);
}

static void
ordered(int v6)
{
    world w;
    uint64_t seq = parley_event_id("seq");
    const int N = 2000;

    start_server(&w, v6, 16);
    add_client(&w, "a");
    add_client(&w, "b");
    for (int i = 0; i < N; i++) {
        send_int(w.cli[0], seq, i, 1, 0);
        if (i % 100 == 0) {
            pump(&w);
        }
    }
    PUMP_UNTIL(&w,
               count(&g_cli[0], PARLEY_SESSION_EVENT, 0) >= N &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, 0) >= N,
               10000);
    /* Let anything extra (a duplicate) show up before counting. */
    for (int k = 0; k < 20; k++) {
        pump(&w);
    }
    for (int c = 0; c < 2; c++) {
        PT_EQ_INT(count(&g_cli[c], PARLEY_SESSION_EVENT, 0), N);
        for (int i = 0; i < N; i++) {
            PT_EQ_INT(find_seen(&g_cli[c], PARLEY_SESSION_EVENT, i)->arg0, i);
        }
    }
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, seq), N);
    finish(&w);
}

PT_TEST(two_thousand_events_arrive_once_in_order_v4)
{
    ordered(0);
}

PT_TEST(two_thousand_events_arrive_once_in_order_v6)
{
    ordered(1);
}

/* A port on which nothing listens: one that was just free. */
static uint16_t
closed_port(int v6)
{
    parley_tcp *tcp;
    parley_conn r;
    parley_tcp_info info;
    uint16_t port;

    parley_tcp_config tc;

    parley_tcp_config_init(&tc);
    PT_OK(parley_tcp_create(&tc, &tcp));
    PT_OK(parley_tcp_listen(tcp, v6 ? "[::1]:0" : "127.0.0.1:0", 1, &r));
    PT_OK(parley_tcp_get_info(tcp, r, &info));
    port = info.local.port;
    parley_tcp_destroy(tcp);
    return port;
}

PT_TEST(connect_errors_are_clear)
{
    parley_client *c = new_client("x", NULL);
    char addr[64];
    uint64_t t0;

    for (int v6 = 0; v6 < 2; v6++) {
        snprintf(addr, sizeof addr, v6 ? "[::1]:%u" : "127.0.0.1:%u",
                 (unsigned)closed_port(v6));
        t0 = parley_time_us();
        PT_ERR(parley_client_connect(c, addr), PARLEY_ECONNREFUSED);
        PT_LT_U64((parley_time_us() - t0) / 1000, 1000); /* not a timeout */
        PT_EQ_STR(parley_client_last_error(c),
                  "cannot connect: connection refused");
        PT_TRUE(!parley_client_is_connected(c));
    }
    PT_ERR(parley_client_connect(c, "127.0.0.1:99999"), PARLEY_EPORT);
    PT_ERR(parley_client_connect(c, "[::1"), PARLEY_EADDR);
    PT_ERR(parley_client_connect(c, "nothing.invalid:5"), PARLEY_ERESOLVE);
    /* The same client can still connect to a real server afterwards. */
    world w;
    pthread_t th;
    start_server(&w, 0, 1);
    add_client(&w, "first");
    serve_start(&w, &th);
    /* A full server says so. */
    int rc = parley_client_connect(c, w.addr);
    serve_stop(&w, th);
    PT_ERR(rc, PARLEY_EFULL);
    PT_EQ_STR(parley_client_last_error(c), "the server is full");
    parley_client_destroy(c);
    finish(&w);
}

PT_TEST(bad_configurations)
{
    parley_client_config cfg;
    parley_client *c;
    parley_server_config sc;
    parley_server *srv;
    parley_tcp_options opt;
    parley_tcp_config tc;
    world w;
    parley_sim_config sim;

    parley_tcp_config_init(&tc);
    opt = tc.conn;
    opt.idle_timeout_ms = 500;
    opt.keepalive_ms = 0; /* a quiet live peer would look dead */
    parley_client_config_init(&cfg);
    cfg.transport = PARLEY_TRANSPORT_TCP;
    cfg.tcp = &opt;
    PT_ERR(parley_client_create(&cfg, &c), PARLEY_EINVAL);
    opt.keepalive_ms = 500;
    PT_ERR(parley_client_create(&cfg, &c), PARLEY_EINVAL);
    parley_server_config_init(&sc);
    sc.transport = PARLEY_TRANSPORT_TCP;
    sc.bind_addr = "127.0.0.1";
    sc.port = 0;
    sc.tcp = &opt;
    PT_ERR(parley_server_start(&sc, &srv), PARLEY_EINVAL);
    sc.tcp = NULL;
    sc.transport = (parley_session_transport)7;
    PT_ERR(parley_server_start(&sc, &srv), PARLEY_EINVAL);
    /* No link simulator over TCP. */
    start_server(&w, 0, 4);
    parley_sim_config_init(&sim);
    PT_ERR(parley_server_set_sim(w.srv, &sim, &sim), PARLEY_ENOTSUP);
    c = add_client(&w, "a");
    PT_ERR(parley_client_set_sim(c, &sim, NULL), PARLEY_ENOTSUP);
    finish(&w);
}

PT_TEST(not_a_session_server_is_a_clear_error)
{
    parley_tcp_config tc;
    parley_tcp *tcp;
    parley_tcp_listener *l;
    parley_tcp_reader *r;
    parley_tcp_accept a;
    parley_tcp_info info;
    parley_conn rv;
    parley_client_config cfg;
    parley_client *c;
    char addr[64];
    uint64_t t0, end;

    parley_tcp_config_init(&tc);
    tc.conn.header = PARLEY_TCP_HEADER_RAW;
    PT_OK(parley_tcp_create(&tc, &tcp));
    PT_OK(parley_tcp_listener_create(tcp, NULL, &l));
    PT_OK(parley_tcp_reader_create(tcp, NULL, &r));
    PT_OK(parley_tcp_listen(tcp, "127.0.0.1:0", 4, &rv));
    PT_OK(parley_tcp_listener_add(l, rv));
    PT_OK(parley_tcp_get_info(tcp, rv, &info));
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)info.local.port);
    parley_client_config_init(&cfg);
    cfg.transport = PARLEY_TRANSPORT_TCP;
    cfg.name = "x";
    cfg.connect_timeout_ms = 400;
    PT_OK(parley_client_create(&cfg, &c));
    /* One that says nothing: the connect times out, in about the time. */
    PT_OK(parley_client_connect_start(c, addr));
    t0 = parley_time_us();
    end = t0 + 3000000;
    parley_session_event ev;
    int got = 0;
    while (!got && parley_time_us() < end) {
        parley_tcp_poll(tcp);
        while (parley_tcp_listener_get(l, &a) == 1) {
            PT_OK(parley_tcp_reader_add(r, a.conn));
        }
        if (parley_client_service(c, 5, &ev) == 1) {
            PT_EQ_INT(ev.type, PARLEY_SESSION_SERVER_DISCONNECT);
            PT_EQ_INT(ev.leave, PARLEY_LEAVE_LOST);
            got = 1;
        }
    }
    PT_TRUE(got);
    uint64_t ms = (parley_time_us() - t0) / 1000;
    PT_GE_U64(ms, 350);
    PT_LT_U64(ms, 1500);
    PT_EQ_STR(parley_client_last_error(c), "no answer from the server");
    /* One that answers with something else (an HTTP server, say). */
    PT_OK(parley_client_connect_start(c, addr));
    got = 0;
    end = parley_time_us() + 3000000;
    while (!got && parley_time_us() < end) {
        parley_tcp_poll(tcp);
        while (parley_tcp_listener_get(l, &a) == 1) {
            static const char junk[] = "\x0c\x00\x00\x00HTTP/1.0 400";
            PT_OK(parley_tcp_send(tcp, a.conn, junk, sizeof junk - 1));
        }
        if (parley_client_service(c, 5, &ev) == 1) {
            PT_EQ_INT(ev.type, PARLEY_SESSION_SERVER_DISCONNECT);
            got = 1;
        }
    }
    PT_TRUE(got);
    PT_EQ_STR(parley_client_last_error(c), "cannot connect: protocol error");
    PT_TRUE(!parley_client_is_connected(c));
    parley_client_destroy(c);
    parley_tcp_destroy(tcp);
}

PT_TEST(hostile_framing_is_dropped)
{
    world w;
    parley_tcp_config tc;
    parley_tcp *tcp;
    parley_conn big, odd;
    parley_tcp_reader *rd;
    parley_tcp_datagram dg;
    parley_tcp_reset rs;
    int resets = 0;

    start_server(&w, 0, 16);
    add_client(&w, "good");
    parley_tcp_config_init(&tc);
    tc.conn.header = PARLEY_TCP_HEADER_RAW;
    PT_OK(parley_tcp_create(&tc, &tcp));
    PT_OK(parley_tcp_connect(tcp, w.addr, 1000, &big));
    PT_OK(parley_tcp_connect(tcp, w.addr, 1000, &odd));
    PT_OK(parley_tcp_reader_create(tcp, NULL, &rd));
    PT_OK(parley_tcp_reader_add(rd, big));
    PT_OK(parley_tcp_reader_add(rd, odd));
    /* A length far over max_payload, and a frame of an unknown type. */
    PT_OK(parley_tcp_send(tcp, big, "\xff\xff\xff\x7f", 4));
    PT_OK(parley_tcp_send(tcp, odd, "\x02\x00\x00\x00\x7e\x00", 6));
    uint64_t end = parley_time_us() + 3000000;
    while (resets < 2 && parley_time_us() < end) {
        pump(&w);
        parley_tcp_poll(tcp);
        while (parley_tcp_reader_get(rd, &dg) == 1) {
            parley_tcp_datagram_release(&dg); /* the ACCEPT frames */
        }
        while (parley_tcp_get_reset(tcp, &rs) == 1) {
            PT_TRUE(rs.conn == big || rs.conn == odd);
            resets++;
        }
    }
    PT_EQ_INT(resets, 2); /* the server dropped both */
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0), 1);
    PT_EQ_INT(parley_server_clients(w.srv, NULL, 0), 1);
    /* And still serves the good one. */
    send_int(w.cli[0], 9, 1, 0, 0);
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_EVENT, 9) == 1, 2000);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, 9), 1);
    parley_tcp_destroy(tcp);
    finish(&w);
}

/* Reads from a raw-mode connection until want bytes came (or 2 s). */
static size_t
raw_read(parley_tcp *tcp, parley_tcp_reader *rd, uint8_t *buf, size_t want)
{
    parley_tcp_datagram dg;
    size_t got = 0;
    uint64_t end = parley_time_us() + 2000000;

    while (got < want && parley_time_us() < end) {
        parley_tcp_wait(tcp, 5);
        while (parley_tcp_reader_get(rd, &dg) == 1) {
            size_t n = dg.len < want - got ? dg.len : want - got;
            memcpy(buf + got, dg.data, n);
            got += n;
            parley_tcp_datagram_release(&dg);
        }
    }
    return got;
}

/* The bytes docs/PROTOCOL.md (16.6) gives, as a raw peer sees them. */
PT_TEST(framing_matches_the_documented_bytes)
{
    world w;
    parley_tcp_config tc;
    parley_tcp *tcp;
    parley_tcp_reader *rd;
    parley_conn c1, c2;
    uint8_t buf[64];
    parley_client_id id;
    static const uint8_t accept[] = "\x06\x00\x00\x00\x10PLST\x01";
    static const uint8_t welcome[] = "\x0d\x00\x00\x00\x01\x02\x01\x05"
                                     "alice\x03hub";
    static const uint8_t bye[] = "\x0c\x00\x00\x00\x01\x05\x02\x08"
                                 "too slow"
                                 "\x05\x00\x00\x00\x12\x02\x00\x00\x00";

    start_server(&w, 0, 1);
    parley_tcp_config_init(&tc);
    tc.conn.header = PARLEY_TCP_HEADER_RAW;
    PT_OK(parley_tcp_create(&tc, &tcp));
    PT_OK(parley_tcp_reader_create(tcp, NULL, &rd));
    PT_OK(parley_tcp_connect(tcp, w.addr, 1000, &c1));
    PT_OK(parley_tcp_reader_add(rd, c1));
    pump(&w);
    PT_EQ_INT(raw_read(tcp, rd, buf, 10), 10);
    PT_EQ_MEM(buf, accept, 10);
    PT_OK(parley_tcp_send(tcp, c1,
                          "\x09\x00\x00\x00\x01\x01\x01\x05"
                          "alice",
                          13));
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 1, 2000);
    PT_EQ_INT(raw_read(tcp, rd, buf, 17), 17);
    PT_EQ_MEM(buf, welcome, 17);
    /* A second connection finds the server full. */
    PT_OK(parley_tcp_connect(tcp, w.addr, 1000, &c2));
    PT_OK(parley_tcp_reader_remove(rd, c1));
    PT_OK(parley_tcp_reader_add(rd, c2));
    pump(&w);
    PT_EQ_INT(raw_read(tcp, rd, buf, 6), 6);
    PT_EQ_MEM(buf, "\x02\x00\x00\x00\x11\x02", 6);
    PT_OK(parley_tcp_close(tcp, c2));
    /* A kick: BYE in a MSG, then CLOSE with the code. */
    PT_OK(parley_tcp_reader_add(rd, c1));
    PT_OK(parley_server_find_client(w.srv, "alice", &id));
    PT_OK(parley_server_kick(w.srv, id, "too slow"));
    pump(&w);
    PT_EQ_INT(raw_read(tcp, rd, buf, 25), 25);
    PT_EQ_MEM(buf, bye, 25);
    PT_OK(parley_tcp_close(tcp, c1));
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0) == 1,
               2000);
    PT_EQ_INT(find_seen(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0)->leave,
              PARLEY_LEAVE_KICKED);
    parley_tcp_destroy(tcp);
    finish(&w);
}

PT_TEST(vanished_peers_are_noticed)
{
    world w;
    parley_tcp_config tc;
    parley_tcp_options quick;
    parley_client *c;
    parley_session_event ev;
    uint64_t t0, ms;
    const seen *s;

    parley_tcp_config_init(&tc);
    quick = tc.conn;
    quick.keepalive_ms = 50;
    quick.idle_timeout_ms = 400;
    start_server_opt(&w, 0, 4, &quick);
    c = add_client_opt(&w, "lonely", &quick);
    add_client_opt(&w, "quiet", &quick);
    /* Quiet but alive for well over the idle timeout: keepalives hold. */
    t0 = parley_time_us();
    while (parley_time_us() - t0 < 900000) {
        pump(&w);
    }
    PT_TRUE(parley_client_is_connected(c));
    PT_EQ_INT(parley_server_clients(w.srv, NULL, 0), 2);
    /* The server hangs (nothing read, nothing sent): the client notices. */
    t0 = parley_time_us();
    int got = 0;
    while (!got && parley_time_us() - t0 < 3000000) {
        while (parley_client_service(c, 5, &ev) == 1) {
            record(&g_cli[0], &ev);
            got |= ev.type == PARLEY_SESSION_SERVER_DISCONNECT;
        }
    }
    ms = (parley_time_us() - t0) / 1000;
    s = find_seen(&g_cli[0], PARLEY_SESSION_SERVER_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_LOST);
    PT_EQ_STR(s->reason, "connection lost: timeout");
    PT_GE_U64(ms, 300);
    PT_LT_U64(ms, 1500);
    PT_TRUE(!parley_client_is_connected(c));
    /* The other way round: "quiet" hangs, the server notices both. */
    parley_client_destroy(c);
    w.cli[0] = NULL;
    t0 = parley_time_us();
    while (count(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0) < 2 &&
           parley_time_us() - t0 < 3000000) {
        if (parley_server_service(w.srv, 5, &ev) == 1) {
            record(&g_srv, &ev);
        }
    }
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0), 2);
    s = find_sender(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, "quiet");
    PT_TRUE(s != NULL);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_LOST);
    PT_EQ_STR(s->reason, "connection lost: timeout");
    w.ncli = 2;
    finish(&w);
}

PT_MAIN(
    PT_RUN(join_with_names_addresses_and_ports_v4)
        PT_RUN(join_with_names_addresses_and_ports_v6) PT_RUN(
            events_to_server_to_one_and_to_all_v4)
            PT_RUN(events_to_server_to_one_and_to_all_v6) PT_RUN(
                send_all_is_relayed_with_the_sender_v4)
                PT_RUN(send_all_is_relayed_with_the_sender_v6) PT_RUN(
                    kick_gives_server_disconnect_with_reason)
                    PT_RUN(client_disconnect_delivers_first_then_leaves) PT_RUN(
                        server_stop_tells_every_client_v4)
                        PT_RUN(server_stop_tells_every_client_v6) PT_RUN(
                            two_thousand_events_arrive_once_in_order_v4)
                            PT_RUN(two_thousand_events_arrive_once_in_order_v6)
                                PT_RUN(connect_errors_are_clear)
                                    PT_RUN(bad_configurations) PT_RUN(
                                        not_a_session_server_is_a_clear_error)
                                        PT_RUN(hostile_framing_is_dropped) PT_RUN(
                                            framing_matches_the_documented_bytes)
                                            PT_RUN(vanished_peers_are_noticed))
