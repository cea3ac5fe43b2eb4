/*
 * Network objects over loopback: messages with args and kwargs and the
 * sender's computer name, raw datagrams from a non-parley socket, the
 * destination port changed, extra listening ports, stopping the first
 * one, handlers, the default port and names, and hostile datagrams.
 */
#include "pt.h"

#include <unistd.h>

#include "parley/netobj.h"
#include "parley/parley.h"

static parley_net *
make_net(const char *sender, uint16_t *port)
{
    parley_net_config cfg;
    parley_net *net;

    parley_net_config_init(&cfg);
    cfg.bind_addr = "127.0.0.1";
    cfg.port = 0;
    cfg.sender = sender;
    PT_OK(parley_net_create(&cfg, &net));
    PT_EQ_INT(parley_net_ports(net, port, 1), 1);
    return net;
}

/* Waits up to ms for one event. */
static int
wait_event(parley_net *net, int ms, parley_net_event *ev)
{
    return parley_net_service(net, ms, ev);
}

static parley_mailbox *
mailbox_to(parley_net *net, uint16_t port)
{
    char addr[64];
    parley_mailbox *mb;

    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
    PT_OK(parley_net_add(net, addr, &mb));
    return mb;
}

PT_TEST(message_with_args_kwargs_and_sender)
{
    uint16_t pa, pb;
    parley_net *a = make_net("ALPHA", &pa);
    parley_net *b = make_net("BETA", &pb);
    parley_mailbox *mb = mailbox_to(a, pb);
    parley_builder *bl;
    parley_net_event ev;
    int64_t v;

    PT_OK(parley_builder_create(&bl));
    PT_OK(parley_builder_int(bl, 5));
    PT_OK(parley_builder_str(bl, "hello"));
    PT_OK(parley_builder_key(bl, "foo"));
    PT_OK(parley_builder_int(bl, 78));
    PT_OK(parley_mailbox_send(mb, bl));
    PT_EQ_INT(wait_event(b, 2000, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_NET_NETWORK);
    PT_EQ_STR(ev.sender, "ALPHA");
    PT_EQ_INT(ev.port, pb);      /* the port it arrived on */
    PT_EQ_INT(ev.addr.port, pa); /* sent from A's listening port */
    PT_EQ_MEM(ev.addr.ip, "\x7f\0\0\1", 4);
    PT_EQ_INT(parley_payload_argc(&ev.payload), 2);
    PT_OK(parley_payload_arg_int(&ev.payload, 0, &v));
    PT_EQ_INT(v, 5);
    PT_OK(parley_payload_kwarg_int(&ev.payload, "foo", &v));
    PT_EQ_INT(v, 78);
    /* No arguments at all. */
    PT_OK(parley_mailbox_send(mb, NULL));
    PT_EQ_INT(wait_event(b, 2000, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_NET_NETWORK);
    PT_EQ_INT(parley_payload_argc(&ev.payload), 0);
    PT_EQ_INT(wait_event(b, 0, &ev), 0);
    parley_builder_destroy(bl);
    parley_mailbox_destroy(mb);
    parley_net_destroy(a);
    parley_net_destroy(b);
}

PT_TEST(raw_datagrams_both_ways)
{
    uint16_t pb;
    parley_net *b = make_net("BETA", &pb);
    parley_udp *plain;
    parley_addr any, to, mine;
    parley_net_event ev;
    uint8_t buf[64];
    size_t len;

    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 0, &any));
    PT_OK(parley_udp_open(&any, 0, &plain));
    PT_OK(parley_udp_local_addr(plain, &mine));
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, pb, &to));
    /* From a program that is not parley: a RAW event. */
    PT_OK(parley_udp_send(plain, &to, "Some raw data", 13));
    PT_EQ_INT(wait_event(b, 2000, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_NET_RAW);
    PT_EQ_INT(ev.len, 13);
    PT_EQ_MEM(ev.data, "Some raw data", 13);
    PT_EQ_INT(ev.addr.port, mine.port);
    PT_EQ_STR(ev.sender, "");
    /* The magic with a broken payload is RAW too, intact. */
    PT_OK(parley_udp_send(plain, &to, "\xc1PN\x01\x01x\xc1", 7));
    PT_EQ_INT(wait_event(b, 2000, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_NET_RAW);
    PT_EQ_INT(ev.len, 7);
    PT_OK(parley_udp_send(plain, &to, "\xc1PN\x01\x50", 5)); /* name > data */
    PT_EQ_INT(wait_event(b, 2000, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_NET_RAW);
    /* send_raw reaches a plain socket byte for byte. */
    parley_mailbox *mb = mailbox_to(b, mine.port);
    PT_OK(parley_mailbox_send_raw(mb, "\x00\x01\x02", 3));
    PT_OK(parley_udp_wait(plain, 2000));
    PT_OK(parley_udp_recv(plain, buf, sizeof buf, &len, NULL));
    PT_EQ_INT(len, 3);
    PT_EQ_MEM(buf, "\x00\x01\x02", 3);
    /* And a network-object message has the documented layout. */
    PT_OK(parley_mailbox_send(mb, NULL));
    PT_OK(parley_udp_wait(plain, 2000));
    PT_OK(parley_udp_recv(plain, buf, sizeof buf, &len, NULL));
    PT_EQ_INT(len, 4 + 1 + 4 + 3);
    PT_EQ_MEM(buf,
              "\xc1PN\x01\x04"
              "BETA"
              "\x92\x90\x80",
              len);
    parley_mailbox_destroy(mb);
    parley_udp_close(plain);
    parley_net_destroy(b);
}

PT_TEST(ports_added_changed_and_removed)
{
    uint16_t pa, pb, pb2 = 0, ports[4];
    parley_net *a = make_net("ALPHA", &pa);
    parley_net *b = make_net("BETA", &pb);
    parley_mailbox *mb = mailbox_to(a, pb);
    parley_net_event ev;

    PT_OK(parley_net_listen(b, 0, &pb2));
    PT_TRUE(pb2 != 0 && pb2 != pb);
    PT_ERR(parley_net_listen(b, pb2, NULL), PARLEY_EEXIST);
    PT_EQ_INT(parley_net_ports(b, ports, 4), 2);
    /* Change the destination port: it arrives on the second port. */
    PT_OK(parley_mailbox_port(mb, pb2));
    PT_OK(parley_mailbox_send(mb, NULL));
    PT_EQ_INT(wait_event(b, 2000, &ev), 1);
    PT_EQ_INT(ev.port, pb2);
    /* Stop listening on the first port: only the second hears. */
    PT_OK(parley_net_unlisten(b, pb));
    PT_ERR(parley_net_unlisten(b, pb), PARLEY_ENOENT);
    PT_EQ_INT(parley_net_ports(b, ports, 4), 1);
    PT_EQ_INT(ports[0], pb2);
    PT_OK(parley_mailbox_port(mb, pb));
    parley_mailbox_send(mb, NULL); /* may fail: nobody listens */
    PT_EQ_INT(wait_event(b, 150, &ev), 0);
    PT_OK(parley_mailbox_port(mb, pb2));
    PT_OK(parley_mailbox_send(mb, NULL));
    PT_EQ_INT(wait_event(b, 2000, &ev), 1);
    PT_EQ_INT(ev.port, pb2);
    PT_ERR(parley_mailbox_port(mb, 0), PARLEY_EINVAL);
    parley_mailbox_destroy(mb);
    parley_net_destroy(a);
    parley_net_destroy(b);
}

static int g_calls;
static char g_sender[80];

static void
on_net(void *user, const parley_net_event *ev)
{
    (void)user;
    g_calls++;
    snprintf(g_sender, sizeof g_sender, "%s", ev->sender);
}

PT_TEST(handler_takes_every_datagram)
{
    uint16_t pa, pb;
    parley_net *a = make_net("ALPHA", &pa);
    parley_net *b = make_net("BETA", &pb);
    parley_mailbox *mb = mailbox_to(a, pb);
    parley_net_event ev;

    g_calls = 0;
    PT_OK(parley_net_on(b, on_net, NULL));
    for (int i = 0; i < 10; i++) {
        PT_OK(parley_mailbox_send(mb, NULL));
    }
    uint64_t end = parley_time_us() + 2000000;
    while (g_calls < 10 && parley_time_us() < end) {
        PT_EQ_INT(parley_net_service(b, 10, &ev), 0);
    }
    PT_EQ_INT(g_calls, 10);
    PT_EQ_STR(g_sender, "ALPHA");
    parley_mailbox_destroy(mb);
    parley_net_destroy(a);
    parley_net_destroy(b);
}

PT_TEST(defaults_and_errors)
{
    parley_net_config cfg;
    parley_net *net;
    parley_mailbox *mb;
    parley_addr a;
    char host[256] = {0};

    parley_net_config_init(&cfg);
    PT_EQ_INT(cfg.port, 4950);
    PT_EQ_INT(cfg.listen, 1);
    cfg.listen = 0; /* send only: the default port is not taken here */
    PT_OK(parley_net_create(&cfg, &net));
    PT_EQ_INT(parley_net_ports(net, NULL, 0), 0);
    PT_OK(parley_net_add(net, "127.0.0.1", &mb));
    PT_OK(parley_mailbox_addr(mb, &a));
    PT_EQ_INT(a.port, PARLEY_NET_PORT);
    parley_mailbox_destroy(mb);
    PT_ERR(parley_net_add(net, "[::1", &mb), PARLEY_EADDR);
    PT_ERR(parley_net_add(net, "host.invalid", &mb), PARLEY_ERESOLVE);
    /* The default sender is this computer's name. */
    uint16_t p = 0;
    PT_OK(parley_net_listen(net, 0, &p));
    PT_OK(parley_net_add(net, "127.0.0.1", &mb));
    PT_OK(parley_mailbox_port(mb, p));
    PT_OK(parley_mailbox_send(mb, NULL));
    parley_net_event ev;
    PT_EQ_INT(parley_net_service(net, 2000, &ev), 1);
    gethostname(host, sizeof host - 1);
    if (strlen(host) <= PARLEY_NAME_MAX && host[0]) {
        PT_EQ_STR(ev.sender, host);
    }
    parley_mailbox_destroy(mb);
    parley_net_destroy(net);
    cfg.sender = "bad\tname";
    PT_ERR(parley_net_create(&cfg, &net), PARLEY_EINVAL);
    cfg.sender = NULL;
    cfg.max_ports = 1;
    cfg.listen = 1;
    cfg.port = 0;
    cfg.bind_addr = "127.0.0.1";
    PT_OK(parley_net_create(&cfg, &net));
    PT_ERR(parley_net_listen(net, 0, NULL), PARLEY_EFULL);
    parley_net_destroy(net);
}

PT_TEST(ipv6_dual_stack)
{
    parley_net_config cfg;
    parley_net *b;
    uint16_t pb;
    parley_udp *plain;
    parley_addr any, to;
    parley_net_event ev;

    parley_net_config_init(&cfg);
    cfg.bind_addr = "::";
    cfg.port = 0;
    if (parley_net_create(&cfg, &b) != PARLEY_OK) {
        return; /* no IPv6 here */
    }
    PT_EQ_INT(parley_net_ports(b, &pb, 1), 1);
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, 0, &any));
    PT_OK(parley_udp_open(&any, 0, &plain));
    PT_OK(parley_addr_loopback(PARLEY_AF_INET, pb, &to));
    PT_OK(parley_udp_send(plain, &to, "v4", 2));
    PT_EQ_INT(parley_net_service(b, 2000, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_NET_RAW);
    PT_EQ_INT(ev.addr.family, PARLEY_AF_INET); /* shown as IPv4 */
    parley_udp_close(plain);
    parley_net_destroy(b);
}

PT_MAIN(PT_RUN(message_with_args_kwargs_and_sender)
            PT_RUN(raw_datagrams_both_ways)
                PT_RUN(ports_added_changed_and_removed)
                    PT_RUN(handler_takes_every_datagram)
                        PT_RUN(defaults_and_errors) PT_RUN(ipv6_dual_stack))
