/*
 * The session layer over real loopback sockets: joining with names (made
 * unique), CLIENT_CONNECT with address and port, events to the server,
 * to one client and to all, send_all relayed to every client with the
 * sender's name, names learned from announcements, unreliable sends,
 * kick, client disconnect, server stop, typed definitions, handlers and
 * polling, connect errors, hello timeout, hostile messages and loss.
 */
#include "pt.h"

#include <pthread.h>
#include <time.h>

#include "parley/parley.h"
#include "parley/session.h"
#include "payload/evmsg.h"

#define MAXC 24
#define LOG 4096

#include "session_util.h"

static void
reset_logs(void)
{
    memset(&g_srv, 0, sizeof g_srv);
    memset(g_cli, 0, sizeof g_cli);
}

static void
start_server(world *w, uint32_t max_clients)
{
    parley_server_config cfg;
    parley_addr a;

    memset(w, 0, sizeof *w);
    reset_logs();
    parley_server_config_init(&cfg);
    cfg.bind_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.name = "hub";
    cfg.max_clients = max_clients;
    cfg.hello_timeout_ms = 300;
    PT_OK(parley_server_start(&cfg, &w->srv));
    PT_OK(parley_server_local_addr(w->srv, &a));
    PT_TRUE(a.port != 0);
    snprintf(w->addr, sizeof w->addr, "127.0.0.1:%u", (unsigned)a.port);
}

static parley_client *
add_client(world *w, const char *name)
{
    parley_client_config cfg;
    parley_client *c;

    parley_client_config_init(&cfg);
    cfg.name = name;
    cfg.connect_timeout_ms = 2000;
    PT_OK(parley_client_create(&cfg, &c));
    /* The server runs in this thread too: connect without blocking and
       service both until the WELCOME is in. */
    PT_OK(parley_client_connect_start(c, w->addr));
    w->cli[w->ncli++] = c;
    PUMP_UNTIL(w, parley_client_is_connected(c), 3000);
    PT_TRUE(parley_client_is_connected(c));
    /* The CONNECTED event was recorded; forget it for the counts. */
    side *s = &g_cli[w->ncli - 1];
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
send_int(parley_client *c, uint64_t id, int64_t v, int all, uint32_t flags)
{
    parley_builder *b;

    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_int(b, v));
    PT_OK(parley_builder_key(b, "note"));
    PT_OK(parley_builder_str(b, "hi"));
    if (all) {
        PT_OK(parley_client_send_all(c, id, b, flags));
    } else {
        PT_OK(parley_client_send(c, id, b, flags));
    }
    parley_builder_destroy(b);
}

/* ---- tests --------------------------------------------------------------- */

PT_TEST(join_with_names_addresses_and_ports)
{
    world w;

    start_server(&w, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    add_client(&w, "alice"); /* the same name twice on one machine */
    PT_EQ_STR(parley_client_name(w.cli[0]), "alice");
    PT_EQ_STR(parley_client_name(w.cli[2]), "alice-2");
    PT_EQ_STR(parley_client_server_name(w.cli[1]), "hub");
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 3, 2000);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0), 3);
    for (int i = 0; i < 3; i++) {
        const seen *s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, i);
        parley_addr local;
        int k = strcmp(s->sender, "alice") == 0 ? 0
                : strcmp(s->sender, "bob") == 0 ? 1
                                                : 2;
        PT_OK(parley_client_local_addr(w.cli[k], &local));
        PT_EQ_INT(s->addr.family, PARLEY_AF_INET);
        PT_EQ_MEM(s->addr.ip, "\x7f\x00\x00\x01", 4);
        PT_EQ_INT(s->addr.port, local.port); /* the client's own port */
        parley_client_info info;
        PT_OK(parley_server_client_info(w.srv, s->client, &info));
        PT_EQ_STR(info.name, s->sender);
    }
    PT_EQ_STR(find_seen(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 2)->sender,
              "alice-2");
    parley_client_id ids[8];
    PT_EQ_INT(parley_server_clients(w.srv, ids, 8), 3);
    parley_client_id bob;
    PT_OK(parley_server_find_client(w.srv, "bob", &bob));
    PT_ERR(parley_server_find_client(w.srv, "carol", &bob), PARLEY_ENOENT);
    finish(&w);
}

PT_TEST(events_to_server_to_one_and_to_all)
{
    world w;
    uint64_t chat = parley_event_id("chat");
    parley_client_id bob;

    start_server(&w, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    add_client(&w, "carol");
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 3, 2000);
    PT_OK(parley_event_register(parley_client_events(w.cli[0]), "chat", NULL));
    send_int(w.cli[0], chat, 41, 0, 0);
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_EVENT, chat) == 1, 2000);
    const seen *s = find_seen(&g_srv, PARLEY_SESSION_EVENT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_STR(s->sender, "alice");
    PT_EQ_STR(s->name, "chat"); /* the server never registered it */
    PT_EQ_INT(s->arg0, 41);
    PT_EQ_INT(s->reliable, 1);
    PT_EQ_INT(s->to_all, 0);
    /* Nothing reached the other clients. */
    PT_EQ_INT(count(&g_cli[1], PARLEY_SESSION_EVENT, 0), 0);

    /* Server to one client. */
    parley_builder *b;
    PT_OK(parley_builder_create(&b));
    PT_OK(parley_builder_int(b, 7));
    PT_OK(parley_server_find_client(w.srv, "bob", &bob));
    PT_OK(parley_server_send(w.srv, bob, chat, b, 0));
    /* Server to all. */
    parley_builder_reset(b);
    PT_OK(parley_builder_int(b, 8));
    PT_OK(parley_server_send_all(w.srv, chat, b, 0));
    PUMP_UNTIL(&w,
               count(&g_cli[2], PARLEY_SESSION_EVENT, 0) == 1 &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, 0) == 2 &&
                   count(&g_cli[0], PARLEY_SESSION_EVENT, 0) == 1,
               2000);
    PT_EQ_INT(count(&g_cli[1], PARLEY_SESSION_EVENT, chat), 2);
    PT_EQ_INT(g_cli[1].log[g_cli[1].n - 2].arg0, 7);
    PT_EQ_INT(g_cli[1].log[g_cli[1].n - 1].arg0, 8);
    PT_EQ_INT(count(&g_cli[0], PARLEY_SESSION_EVENT, chat), 1);
    PT_EQ_INT(count(&g_cli[2], PARLEY_SESSION_EVENT, chat), 1);
    s = find_seen(&g_cli[2], PARLEY_SESSION_EVENT, 0);
    PT_EQ_STR(s->sender, "hub");
    PT_EQ_INT(s->to_all, 0);
    /* The server never registered "chat" but learned it from alice, and
       announces it onwards. */
    PT_EQ_STR(s->name, "chat");
    parley_builder_destroy(b);
    PT_ERR(parley_server_send(w.srv, 12345, chat, NULL, 0), PARLEY_ENOTCONN);
    PT_ERR(parley_server_send(w.srv, bob, chat, NULL, 0x80), PARLEY_EINVAL);
    finish(&w);
}

PT_TEST(send_all_is_relayed_to_everyone_with_the_sender)
{
    world w;
    uint64_t pose;

    start_server(&w, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    add_client(&w, "carol");
    PT_OK(parley_event_register(parley_client_events(w.cli[1]), "pose", &pose));
    for (int i = 0; i < 5; i++) {
        send_int(w.cli[1], pose, i, 1, 0);
    }
    PUMP_UNTIL(&w,
               count(&g_cli[0], PARLEY_SESSION_EVENT, 0) == 5 &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, 0) == 5 &&
                   count(&g_cli[2], PARLEY_SESSION_EVENT, 0) == 5,
               2000);
    for (int c = 0; c < 3; c++) {
        PT_EQ_INT(count(&g_cli[c], PARLEY_SESSION_EVENT, pose), 5);
        for (int i = 0; i < 5; i++) {
            const seen *s = find_seen(&g_cli[c], PARLEY_SESSION_EVENT, i);
            PT_EQ_STR(s->sender, "bob"); /* the sender, not the server */
            PT_EQ_STR(s->name, "pose");  /* learned from the announcement */
            PT_EQ_INT(s->to_all, 1);
            PT_EQ_INT(s->arg0, i); /* in order */
            PT_EQ_INT(s->argc, 1);
        }
    }
    /* The server's app saw them too, marked as send_all. */
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, pose), 5);
    PT_EQ_INT(find_seen(&g_srv, PARLEY_SESSION_EVENT, 0)->to_all, 1);
    finish(&w);
}

PT_TEST(unreliable_sends_are_sequenced_and_named)
{
    world w;
    uint64_t pose;

    start_server(&w, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    PT_OK(parley_event_register(parley_client_events(w.cli[0]), "pose", &pose));
    for (int i = 0; i < 50; i++) {
        send_int(w.cli[0], pose, i, 1, PARLEY_SEND_UNRELIABLE);
        pump(&w);
    }
    PUMP_UNTIL(&w, count(&g_cli[1], PARLEY_SESSION_EVENT, 0) >= 45, 1000);
    int n = count(&g_cli[1], PARLEY_SESSION_EVENT, pose);
    PT_GE_INT(n, 45); /* loopback loses (almost) nothing */
    PT_LE_INT(n, 50);
    int64_t last = -1;
    for (int i = 0; i < n; i++) {
        const seen *s = find_seen(&g_cli[1], PARLEY_SESSION_EVENT, i);
        PT_EQ_INT(s->reliable, 0);
        PT_EQ_STR(s->name, "pose");
        PT_GT_INT(s->arg0, last);
        last = s->arg0;
    }
    finish(&w);
}

PT_TEST(kick_gives_server_disconnect_with_reason)
{
    world w;
    parley_client_id bob;

    start_server(&w, 16);
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
    const seen *s = find_seen(&g_cli[1], PARLEY_SESSION_SERVER_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_KICKED);
    PT_EQ_STR(s->reason, "kicked: too slow");
    s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_KICKED);
    PT_EQ_STR(s->sender, "bob");
    PT_EQ_INT(s->client, bob);
    PT_TRUE(!parley_client_is_connected(w.cli[1]));
    PT_TRUE(parley_client_is_connected(w.cli[0]));
    PT_EQ_INT(count(&g_cli[0], PARLEY_SESSION_SERVER_DISCONNECT, 0), 0);
    PT_ERR(parley_client_send(w.cli[1], 1, NULL, 0), PARLEY_ENOTCONN);
    finish(&w);
}

/* The server served from its own thread, for calls that block a client. */
static volatile int g_stop_thread;

static void *
serve_thread(void *arg)
{
    world *w = arg;
    parley_session_event ev;

    while (!g_stop_thread) {
        if (parley_server_service(w->srv, 50, &ev) == 1) {
            record(&g_srv, &ev);
        }
    }
    return NULL;
}

PT_TEST(client_disconnect_delivers_first_then_leaves)
{
    world w;
    uint64_t chat = parley_event_id("chat");
    pthread_t th;

    start_server(&w, 16);
    add_client(&w, "alice");
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 1, 2000);
    g_stop_thread = 0;
    PT_EQ_INT(pthread_create(&th, NULL, serve_thread, &w), 0);
    for (int i = 0; i < 200; i++) {
        send_int(w.cli[0], chat, i, 0, 0);
    }
    uint64_t t0 = parley_time_us();
    PT_OK(parley_client_disconnect(w.cli[0], 3000));
    uint64_t took_ms = (parley_time_us() - t0) / 1000;
    PT_TRUE(!parley_client_is_connected(w.cli[0]));
    PT_ERR(parley_client_disconnect(w.cli[0], 100), PARLEY_ENOTCONN);
    /* Give the server a moment to see the end, then stop its thread. */
    uint64_t end = parley_time_us() + 2000000;
    while (parley_time_us() < end) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        if (__atomic_load_n(&g_srv.n, __ATOMIC_SEQ_CST) >= 202) {
            break;
        }
    }
    g_stop_thread = 1;
    parley_server_interrupt(w.srv);
    pthread_join(th, NULL);
    PT_LT_INT(took_ms, 2000); /* finished, not timed out */
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, chat), 200);
    for (int i = 0; i < 200; i++) {
        PT_EQ_INT(find_seen(&g_srv, PARLEY_SESSION_EVENT, i)->arg0, i);
    }
    const seen *s = find_seen(&g_srv, PARLEY_SESSION_CLIENT_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_STR(s->sender, "alice");
    PT_EQ_INT(s->leave, PARLEY_LEAVE_CLIENT);
    PT_EQ_STR(s->reason, "client left");
    /* The client can join again, under the same name (the blocking
       connect, with the server served from its thread again). */
    g_stop_thread = 0;
    PT_EQ_INT(pthread_create(&th, NULL, serve_thread, &w), 0);
    PT_OK(parley_client_connect(w.cli[0], w.addr));
    g_stop_thread = 1;
    parley_server_interrupt(w.srv);
    pthread_join(th, NULL);
    PT_EQ_STR(parley_client_name(w.cli[0]), "alice");
    finish(&w);
}

static void *
stop_thread(void *srv)
{
    parley_server_stop(srv);
    return NULL;
}

PT_TEST(server_stop_tells_every_client)
{
    world w;

    start_server(&w, 16);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        add_client(&w, name);
    }
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0) == 3, 2000);
    /* stop() waits for the clients' acknowledgements, so it runs in a
       thread while this one services the clients. */
    pthread_t st;
    PT_EQ_INT(pthread_create(&st, NULL, stop_thread, w.srv), 0);
    uint64_t end = parley_time_us() + 3000000;
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
    for (int i = 0; i < 3; i++) {
        const seen *s =
            find_seen(&g_cli[i], PARLEY_SESSION_SERVER_DISCONNECT, 0);
        PT_TRUE(s != NULL);
        PT_EQ_INT(s->leave, PARLEY_LEAVE_STOPPED);
        PT_EQ_STR(s->reason, "server stopped");
        parley_client_destroy(w.cli[i]);
    }
}

static const parley_field pose_args[] = {{"x", PARLEY_TYPE_DOUBLE, 0}};
static const parley_field pose_kw[] = {{"note", PARLEY_TYPE_STR, 0}};

PT_TEST(typed_definitions_reject_with_an_error_event)
{
    world w;
    parley_event_def def = {"pose", pose_args, 1, pose_kw, 1, 0};
    uint64_t pose;
    parley_builder *b;

    start_server(&w, 16);
    add_client(&w, "alice");
    add_client(&w, "bob");
    PT_OK(parley_event_define(parley_server_events(w.srv), &def, &pose));
    PT_OK(parley_event_register(parley_client_events(w.cli[0]), "pose", NULL));
    PT_OK(parley_builder_create(&b));
    /* Matches: an int is fine for a double, "note" is a string. */
    send_int(w.cli[0], pose, 1, 1, 0);
    /* Does not match: a string where x should be. */
    PT_OK(parley_builder_str(b, "one"));
    PT_OK(parley_builder_key(b, "note"));
    PT_OK(parley_builder_str(b, "hi"));
    PT_OK(parley_client_send_all(w.cli[0], pose, b, 0));
    send_int(w.cli[0], pose, 3, 1, 0);
    PUMP_UNTIL(&w,
               count(&g_cli[1], PARLEY_SESSION_EVENT, 0) == 2 &&
                   count(&g_srv, PARLEY_SESSION_ERROR, 0) == 1,
               2000);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, pose), 2);
    const seen *e = find_seen(&g_srv, PARLEY_SESSION_ERROR, 0);
    PT_TRUE(e != NULL);
    PT_EQ_STR(e->name, "pose");
    PT_EQ_STR(e->sender, "alice");
    PT_EQ_STR(e->reason, "event 'pose': argument 0 'x' is str, expected "
                         "double");
    /* Not relayed either: bob got the two good ones only. */
    PT_EQ_INT(find_seen(&g_cli[1], PARLEY_SESSION_EVENT, 0)->arg0, 1);
    PT_EQ_INT(find_seen(&g_cli[1], PARLEY_SESSION_EVENT, 1)->arg0, 3);
    /* A sender with the definition refuses to send a bad payload. */
    PT_OK(parley_event_define(parley_client_events(w.cli[0]), &def, NULL));
    PT_ERR(parley_client_send(w.cli[0], pose, b, 0), PARLEY_EPROTO);
    PT_ERR(parley_client_send(w.cli[0], pose, NULL, 0), PARLEY_EPROTO);
    parley_builder_destroy(b);
    finish(&w);
}

static int g_handled_chat, g_handled_connect, g_handled_any;

static void
on_chat(void *user, const parley_session_event *ev)
{
    int64_t v = 0;
    parley_server *srv = user;
    parley_builder *b;

    g_handled_chat++;
    /* A handler may send: echo the value back to the sender. */
    parley_payload_arg_int(&ev->payload, 0, &v);
    if (parley_builder_create(&b) == PARLEY_OK) {
        parley_builder_int(b, v + 1000);
        parley_server_send(srv, ev->client, parley_event_id("echo"), b, 0);
        parley_builder_destroy(b);
    }
}

static void
on_connect(void *user, const parley_session_event *ev)
{
    (void)user;
    g_handled_connect += ev->type == PARLEY_SESSION_CLIENT_CONNECT;
}

static void
on_any(void *user, const parley_session_event *ev)
{
    (void)user;
    (void)ev;
    g_handled_any++;
}

PT_TEST(handlers_and_polling)
{
    world w;
    uint64_t chat = parley_event_id("chat"), other = parley_event_id("x");

    g_handled_chat = g_handled_connect = g_handled_any = 0;
    start_server(&w, 16);
    PT_OK(parley_server_on(w.srv, chat, on_chat, w.srv));
    PT_OK(parley_server_on_type(w.srv, PARLEY_SESSION_CLIENT_CONNECT,
                                on_connect, NULL));
    PT_ERR(parley_server_on_type(w.srv, (parley_session_event_type)99, on_any,
                                 NULL),
           PARLEY_EINVAL);
    add_client(&w, "alice");
    for (int i = 0; i < 3; i++) {
        send_int(w.cli[0], chat, i, 0, 0);
        send_int(w.cli[0], other, i, 0, 0);
    }
    PUMP_UNTIL(&w,
               count(&g_srv, PARLEY_SESSION_EVENT, other) == 3 &&
                   g_handled_chat == 3 &&
                   count(&g_cli[0], PARLEY_SESSION_EVENT, 0) == 3,
               2000);
    /* Handled events are not handed out; the rest are. */
    PT_EQ_INT(g_handled_chat, 3);
    PT_EQ_INT(g_handled_connect, 1);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, chat), 0);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0), 0);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, other), 3);
    PT_EQ_INT(find_seen(&g_cli[0], PARLEY_SESSION_EVENT, 2)->arg0, 1002);
    /* A catch-all takes user events without their own handler. */
    PT_OK(parley_server_on_type(w.srv, PARLEY_SESSION_EVENT, on_any, NULL));
    send_int(w.cli[0], other, 9, 0, 0);
    send_int(w.cli[0], chat, 9, 0, 0);
    PUMP_UNTIL(&w, g_handled_any == 1 && g_handled_chat == 4, 2000);
    PT_EQ_INT(g_handled_any, 1);
    PT_EQ_INT(g_handled_chat, 4);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, other), 3);
    /* Removing the handler brings polling back. */
    PT_OK(parley_server_on(w.srv, chat, NULL, NULL));
    PT_OK(parley_server_on_type(w.srv, PARLEY_SESSION_EVENT, NULL, NULL));
    send_int(w.cli[0], chat, 10, 0, 0);
    PUMP_UNTIL(&w, count(&g_srv, PARLEY_SESSION_EVENT, chat) == 1, 2000);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, chat), 1);
    finish(&w);
}

PT_TEST(connect_errors_are_clear)
{
    world w;
    parley_client_config cfg;
    parley_client *c;
    parley_udp *silent;
    parley_addr a;
    char addr[64];

    parley_client_config_init(&cfg);
    cfg.name = "x";
    cfg.connect_timeout_ms = 300;
    PT_OK(parley_client_create(&cfg, &c));
    PT_ERR(parley_client_connect(c, "127.0.0.1:99999"), PARLEY_EPORT);
    PT_ERR(parley_client_connect(c, "[::1"), PARLEY_EADDR);
    PT_ERR(parley_client_connect(c, "nothing.invalid:5"), PARLEY_ERESOLVE);
    /* A UDP port where nobody answers: a timeout, in about the time. */
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 0, &a));
    PT_OK(parley_udp_open(&a, 0, &silent));
    PT_OK(parley_udp_local_addr(silent, &a));
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)a.port);
    uint64_t t0 = parley_time_us();
    PT_ERR(parley_client_connect(c, addr), PARLEY_ETIMEDOUT);
    uint64_t ms = (parley_time_us() - t0) / 1000;
    PT_GE_INT(ms, 250);
    PT_LT_INT(ms, 1500);
    PT_TRUE(strlen(parley_client_last_error(c)) > 0);
    parley_udp_close(silent);
    /* A full server. */
    start_server(&w, 1);
    add_client(&w, "first");
    pthread_t th;
    g_stop_thread = 0;
    PT_EQ_INT(pthread_create(&th, NULL, serve_thread, &w), 0);
    int rc = parley_client_connect(c, w.addr);
    g_stop_thread = 1;
    parley_server_interrupt(w.srv);
    pthread_join(th, NULL);
    PT_ERR(rc, PARLEY_EFULL);
    PT_EQ_STR(parley_client_last_error(c), "the server is full");
    PT_ERR(parley_client_service(c, 0, &(parley_session_event){0}),
           PARLEY_ENOTCONN);
    parley_client_destroy(c);
    finish(&w);
    /* Bad configurations. */
    cfg.name = "bad\nname";
    PT_ERR(parley_client_create(&cfg, &c), PARLEY_EINVAL);
    cfg.name = NULL; /* the computer's name */
    cfg.transport = PARLEY_TRANSPORT_TCP;
    PT_OK(parley_client_create(&cfg, &c));
    parley_client_destroy(c);
    cfg.transport = (parley_session_transport)7;
    PT_ERR(parley_client_create(&cfg, &c), PARLEY_EINVAL);
    parley_server_config sc;
    parley_server *srv;
    parley_server_config_init(&sc);
    sc.port = 0;
    sc.name = "";
    PT_ERR(parley_server_start(&sc, &srv), PARLEY_EINVAL);
}

/* A raw transport connection, to play a broken or hostile client. */
static parley_host *
raw_client(world *w, const char *addr, parley_peer *peer)
{
    parley_host_config hc;
    parley_host *h;
    parley_event ev;

    parley_host_config_init(&hc);
    hc.accept_incoming = 0;
    PT_OK(parley_host_create(&hc, &h));
    PT_OK(parley_host_connect(h, addr, NULL, 0, peer));
    uint64_t end = parley_time_us() + 2000000;
    while (parley_time_us() < end) {
        pump(w);
        if (parley_host_service(h, 1, &ev) == 1) {
            parley_event_release(h, &ev);
            if (ev.type == PARLEY_EVENT_CONNECT) {
                return h;
            }
        }
    }
    PT_FAIL_("raw client did not connect");
    return NULL;
}

static void
raw_send(parley_host *h, parley_peer p, const char *bytes, size_t n)
{
    PT_OK(parley_peer_send(h, p, 0, bytes, n, PARLEY_SEND_FLUSH));
}

PT_TEST(hello_timeout_and_hostile_messages)
{
    world w;
    parley_peer p1, p2;
    parley_host *silent, *bad;
    parley_event ev;

    start_server(&w, 16);
    silent = raw_client(&w, w.addr, &p1);
    bad = raw_client(&w, w.addr, &p2);
    /* The bad one says HELLO, then sends garbage of every kind. */
    raw_send(bad, p2,
             "\x01\x01\x04"
             "evil",
             7);
    raw_send(bad, p2, "\x09\x00", 2); /* unknown kind */
    raw_send(bad, p2,
             "\x03\x00"
             "\0\0\0\0\0\0\0\1"
             "\xc1",
             11); /* bad mp */
    raw_send(bad, p2,
             "\x03\x02"
             "\0\0\0\0\0\0\0\1"
             "\x01x\x92\x90\x80",
             15); /* a sender field from a client */
    raw_send(bad, p2,
             "\x03\x00"
             "\0\0\0\0\0\0\0\2"
             "\x92\x90\x80",
             13);
    uint64_t end = parley_time_us() + 1500000;
    while (parley_time_us() < end &&
           (count(&g_srv, PARLEY_SESSION_EVENT, 0) < 1 ||
            parley_peer_get_state(silent, p1) == PARLEY_PEER_CONNECTED)) {
        pump(&w);
        while (parley_host_service(silent, 0, &ev) == 1) {
            parley_event_release(silent, &ev);
        }
        while (parley_host_service(bad, 0, &ev) == 1) {
            parley_event_release(bad, &ev);
        }
    }
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0), 1);
    PT_EQ_STR(find_seen(&g_srv, PARLEY_SESSION_CLIENT_CONNECT, 0)->sender,
              "evil");
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_ERROR, 0), 3);
    PT_EQ_INT(count(&g_srv, PARLEY_SESSION_EVENT, 2), 1); /* still served */
    /* The silent one was dropped after hello_timeout_ms, unreported. */
    PT_TRUE(parley_peer_get_state(silent, p1) != PARLEY_PEER_CONNECTED);
    PT_EQ_INT(parley_server_clients(w.srv, NULL, 0), 1);
    parley_host_destroy(silent);
    parley_host_destroy(bad);
    finish(&w);
}

PT_TEST(many_clients_on_one_machine)
{
    world w;
    uint64_t ping = parley_event_id("ping");

    start_server(&w, 64);
    for (int i = 0; i < MAXC; i++) {
        add_client(&w, "same");
    }
    send_int(w.cli[MAXC - 1], ping, 5, 1, 0);
    PUMP_UNTIL(&w, count(&g_cli[0], PARLEY_SESSION_EVENT, 0) == 1, 3000);
    for (int i = 0; i < MAXC; i++) {
        PT_EQ_INT(count(&g_cli[i], PARLEY_SESSION_EVENT, ping), 1);
        PT_EQ_STR(find_seen(&g_cli[i], PARLEY_SESSION_EVENT, 0)->sender,
                  parley_client_name(w.cli[MAXC - 1]));
    }
    PT_EQ_STR(parley_client_name(w.cli[MAXC - 1]), "same-24");
    finish(&w);
}

PT_TEST(reliable_events_survive_loss)
{
    world w;
    uint64_t seq = parley_event_id("seq");
    parley_sim_config sim;
    const int N = 300;

    start_server(&w, 16);
    parley_sim_config_init(&sim);
    sim.loss_pct = 20;
    sim.latency_ms = 5;
    sim.seed = 42;
    pt_seed(sim.seed);
    PT_OK(parley_server_set_sim(w.srv, &sim, &sim));
    add_client(&w, "a");
    add_client(&w, "b");
    for (int i = 0; i < N; i++) {
        send_int(w.cli[0], seq, i, 1, 0);
        if (i % 20 == 0) {
            pump(&w);
        }
    }
    PUMP_UNTIL(&w,
               count(&g_cli[0], PARLEY_SESSION_EVENT, 0) == N &&
                   count(&g_cli[1], PARLEY_SESSION_EVENT, 0) == N,
               20000);
    for (int c = 0; c < 2; c++) {
        PT_EQ_INT(count(&g_cli[c], PARLEY_SESSION_EVENT, seq), N);
        for (int i = 0; i < N; i++) {
            PT_EQ_INT(find_seen(&g_cli[c], PARLEY_SESSION_EVENT, i)->arg0, i);
        }
    }
    parley_peer_stats st;
    PT_OK(parley_client_get_stats(w.cli[0], &st));
    PT_GT_U64(st.retransmits + st.packets_lost, 0);
    finish(&w);
}

PT_TEST(server_gone_is_noticed)
{
    world w;
    parley_client_config cfg;
    parley_host_config hc;
    parley_sim_config dead;
    parley_client *c;

    start_server(&w, 4);
    parley_host_config_init(&hc);
    hc.timeout_ms = 400;
    hc.ping_interval_ms = 50;
    parley_client_config_init(&cfg);
    cfg.name = "lonely";
    cfg.udp = &hc;
    PT_OK(parley_client_create(&cfg, &c));
    PT_OK(parley_client_connect_start(c, w.addr));
    w.cli[w.ncli++] = c;
    PUMP_UNTIL(&w, parley_client_is_connected(c), 3000);
    PT_TRUE(parley_client_is_connected(c));
    /* The server vanishes without a word: nothing gets through. */
    parley_sim_config_init(&dead);
    dead.loss_pct = 100;
    PT_OK(parley_server_set_sim(w.srv, &dead, &dead));
    uint64_t t0 = parley_time_us();
    PUMP_UNTIL(&w, count(&g_cli[0], PARLEY_SESSION_SERVER_DISCONNECT, 0) == 1,
               3000);
    uint64_t ms = (parley_time_us() - t0) / 1000;
    const seen *s = find_seen(&g_cli[0], PARLEY_SESSION_SERVER_DISCONNECT, 0);
    PT_TRUE(s != NULL);
    PT_EQ_INT(s->leave, PARLEY_LEAVE_LOST);
    PT_EQ_STR(s->reason, "connection lost: timeout");
    PT_LT_INT(ms, 2000);
    PT_TRUE(!parley_client_is_connected(c));
    finish(&w);
}

PT_MAIN(PT_RUN(join_with_names_addresses_and_ports)
            PT_RUN(events_to_server_to_one_and_to_all)
                PT_RUN(send_all_is_relayed_to_everyone_with_the_sender)
                    PT_RUN(unreliable_sends_are_sequenced_and_named)
                        PT_RUN(kick_gives_server_disconnect_with_reason) PT_RUN(
                            client_disconnect_delivers_first_then_leaves)
                            PT_RUN(server_stop_tells_every_client) PT_RUN(
                                typed_definitions_reject_with_an_error_event)
                                PT_RUN(handlers_and_polling)
                                    PT_RUN(connect_errors_are_clear) PT_RUN(
                                        hello_timeout_and_hostile_messages)
                                        PT_RUN(many_clients_on_one_machine)
                                            PT_RUN(reliable_events_survive_loss)
                                                PT_RUN(server_gone_is_noticed))
