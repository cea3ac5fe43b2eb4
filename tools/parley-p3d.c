/*
 * parley-p3d: try the Panda3D-compatible TCP path from a shell. "serve"
 * accepts any number of connections and prints each datagram (and each
 * connect and reset) as a JSON line, optionally echoing it back; "send"
 * sends hex datagrams to a server and prints what comes back. Written on
 * the public parley API only.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <parley/parley.h>
#include <parley/tcp.h>

#define PROG "parley-p3d"

static const char usage_text[] =
    "usage: parley-p3d serve [--port PORT] [--bind ADDR] [--header 2|4|raw]\n"
    "                        [--echo]\n"
    "       parley-p3d send HOST:PORT [--header 2|4|raw] [--wait MS] HEX...\n"
    "serve: accept Panda3D-framed TCP connections on PORT (default 9099;\n"
    "  0 picks a free one; all interfaces unless --bind ADDR) and print\n"
    "  every datagram as a JSON line; --echo sends each one back.\n"
    "send: send each HEX argument as one datagram, then print the\n"
    "  datagrams that come back (until as many as were sent came back,\n"
    "  or nothing arrived for --wait MS, default 2000).\n"
    "--header: the length header before each datagram: 2 (Panda3D's\n"
    "  default), 4, or raw (none).\n";

static volatile sig_atomic_t g_stop;
static parley_tcp *g_tcp;

static void
on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_tcp) {
        parley_tcp_interrupt(g_tcp);
    }
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

/* ---- small helpers ---------------------------------------------------- */

static int
parse_uint(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (!text || !*text || *text == '-' || *text == '+') {
        return -1;
    }
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || *end || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

static int
parse_header(const char *text, int *out)
{
    if (text && strcmp(text, "2") == 0) {
        *out = PARLEY_TCP_HEADER_2;
    } else if (text && strcmp(text, "4") == 0) {
        *out = PARLEY_TCP_HEADER_4;
    } else if (text && strcmp(text, "raw") == 0) {
        *out = PARLEY_TCP_HEADER_RAW;
    } else {
        return -1;
    }
    return 0;
}

static int
hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Decodes hex text into a new buffer; NULL (with *len 0) if malformed. */
static unsigned char *
unhex(const char *text, size_t *len)
{
    size_t n = strlen(text);
    *len = 0;
    if (n % 2) {
        return NULL;
    }
    unsigned char *b = malloc(n / 2 + 1);
    for (size_t i = 0; b && i < n; i += 2) {
        int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return NULL;
        }
        b[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    return b;
}

static char *
to_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * n + 1);
    if (!s) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = 0;
    return s;
}

/* ---- connection numbers: parley ids to 1, 2, 3 ... -------------------- */

typedef struct conn_map {
    parley_conn *keys;
    unsigned long *vals;
    size_t cap, used;
    unsigned long next;
} conn_map;

static size_t
slot_of(const conn_map *m, parley_conn c)
{
    uint64_t h = c * UINT64_C(0x9e3779b97f4a7c15);
    size_t i = (size_t)(h >> 32) & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != c) {
        i = (i + 1) & (m->cap - 1);
    }
    return i;
}

static int
map_grow(conn_map *m)
{
    conn_map n = {0};
    n.cap = m->cap ? m->cap * 2 : 64;
    n.keys = calloc(n.cap, sizeof *n.keys);
    n.vals = calloc(n.cap, sizeof *n.vals);
    n.next = m->next;
    if (!n.keys || !n.vals) {
        free(n.keys);
        free(n.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            size_t j = slot_of(&n, m->keys[i]);
            n.keys[j] = m->keys[i];
            n.vals[j] = m->vals[i];
            n.used++;
        }
    }
    free(m->keys);
    free(m->vals);
    *m = n;
    return 0;
}

/* The number for c, given on first sight. Ids are never reused by
   parley, so entries are never removed. */
static unsigned long
conn_number(conn_map *m, parley_conn c)
{
    if ((m->used + 1) * 2 > m->cap && map_grow(m) != 0) {
        return 0;
    }
    size_t i = slot_of(m, c);
    if (!m->keys[i]) {
        m->keys[i] = c;
        m->vals[i] = ++m->next;
        m->used++;
    }
    return m->vals[i];
}

/* ---- JSON lines --------------------------------------------------------- */

static void
print_json(json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_PRESERVE_ORDER) : NULL;
    if (s) {
        puts(s);
        free(s);
    }
    json_decref(obj);
}

static void
format_addr(const parley_addr *a, char *buf, size_t cap)
{
    if (parley_addr_format(a, buf, cap) < 0) {
        snprintf(buf, cap, "?");
    }
}

static void
print_datagram(unsigned long n, const parley_tcp_datagram *dg)
{
    char from[PARLEY_ADDR_STRLEN];
    char *hex = to_hex(dg->data, dg->len);
    format_addr(&dg->addr, from, sizeof from);
    print_json(json_pack("{s:s, s:I, s:s, s:I, s:s}", "type", "datagram",
                         "conn", (json_int_t)n, "from", from, "len",
                         (json_int_t)dg->len, "hex", hex ? hex : ""));
    free(hex);
}

static void
print_event(const char *type, unsigned long n, const parley_addr *addr,
            int reason)
{
    char from[PARLEY_ADDR_STRLEN];
    format_addr(addr, from, sizeof from);
    if (reason) {
        print_json(json_pack("{s:s, s:I, s:s, s:s}", "type", type, "conn",
                             (json_int_t)n, "from", from, "reason",
                             parley_err_name(reason)));
    } else {
        print_json(json_pack("{s:s, s:I, s:s}", "type", type, "conn",
                             (json_int_t)n, "from", from));
    }
}

/* ---- serve -------------------------------------------------------------- */

struct serve_opts {
    unsigned long port;
    const char *bind;
    int header;
    int echo;
};

static int
parse_serve(int argc, char **argv, struct serve_opts *o)
{
    o->port = 9099;
    o->bind = NULL;
    o->header = PARLEY_TCP_HEADER_2;
    o->echo = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--echo") == 0) {
            o->echo = 1;
        } else if (strcmp(a, "--port") == 0) {
            if (parse_uint(v, 65535, &o->port) != 0) {
                return usage_error("--port: '%s' is not a port (0..65535)",
                                   v ? v : "");
            }
            i++;
        } else if (strcmp(a, "--bind") == 0 && v) {
            o->bind = v;
            i++;
        } else if (strcmp(a, "--header") == 0) {
            if (parse_header(v, &o->header) != 0) {
                return usage_error("--header: '%s' is not 2, 4 or raw",
                                   v ? v : "");
            }
            i++;
        } else {
            return usage_error("unknown or incomplete option '%s'", a);
        }
    }
    return 0;
}

/* Connection defaults for a header size: large enough for the tool. */
static void
tool_config(parley_tcp_config *cfg, int header)
{
    parley_tcp_config_init(cfg);
    cfg->conn.header = header;
    cfg->conn.max_datagram = header == PARLEY_TCP_HEADER_2 ? 65535 : 16u << 20;
    cfg->conn.max_out_bytes = 64u << 20;
}

static int
open_server(const struct serve_opts *o, parley_tcp *tcp, parley_conn *r)
{
    char text[300];
    if (!o->bind) {
        return parley_tcp_listen_port(tcp, (uint16_t)o->port, 1000, r);
    }
    if (strchr(o->bind, ':') && o->bind[0] != '[') {
        snprintf(text, sizeof text, "[%s]:%lu", o->bind, o->port);
    } else {
        snprintf(text, sizeof text, "%s:%lu", o->bind, o->port);
    }
    return parley_tcp_listen(tcp, text, 1000, r);
}

static void
serve_round(parley_tcp *tcp, parley_tcp_listener *l, parley_tcp_reader *rd,
            conn_map *map, int echo)
{
    parley_tcp_accept a;
    parley_tcp_datagram dg;
    parley_tcp_reset rs;
    while (parley_tcp_listener_get(l, &a) == 1) {
        print_event("connect", conn_number(map, a.conn), &a.addr, 0);
        int rc = parley_tcp_reader_add(rd, a.conn);
        if (rc != PARLEY_OK) {
            fprintf(stderr, PROG ": cannot read connection: %s\n",
                    parley_strerror(rc));
        }
    }
    while (parley_tcp_reader_get(rd, &dg) == 1) {
        unsigned long n = conn_number(map, dg.conn);
        print_datagram(n, &dg);
        if (echo) {
            int rc = parley_tcp_send(tcp, dg.conn, dg.data, dg.len);
            if (rc != PARLEY_OK && rc != PARLEY_ENOTCONN) {
                fprintf(stderr, PROG ": echo to conn %lu: %s\n", n,
                        parley_strerror(rc));
            }
        }
        parley_tcp_datagram_release(&dg);
    }
    while (parley_tcp_get_reset(tcp, &rs) == 1) {
        print_event("reset", conn_number(map, rs.conn), &rs.peer, rs.reason);
    }
}

static int
cmd_serve(int argc, char **argv)
{
    struct serve_opts o;
    int rc = parse_serve(argc, argv, &o);
    if (rc != 0) {
        return rc;
    }
    parley_tcp_config cfg;
    parley_tcp *tcp = NULL;
    parley_tcp_listener *l = NULL;
    parley_tcp_reader *rd = NULL;
    parley_conn r;
    parley_tcp_info info;
    conn_map map = {0};
    tool_config(&cfg, o.header);
    rc = parley_tcp_create(&cfg, &tcp);
    if (rc == PARLEY_OK) {
        g_tcp = tcp;
        rc = open_server(&o, tcp, &r);
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_listener_create(tcp, NULL, &l);
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_listener_add(l, r);
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_reader_create(tcp, NULL, &rd);
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_get_info(tcp, r, &info);
    }
    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": cannot listen: %s\n", parley_strerror(rc));
        parley_tcp_destroy(tcp);
        return 1;
    }
    fprintf(stderr, PROG ": listening on %u\n", (unsigned)info.local.port);
    while (!g_stop) {
        parley_tcp_wait(tcp, -1);
        serve_round(tcp, l, rd, &map, o.echo);
    }
    g_tcp = NULL;
    parley_tcp_destroy(tcp);
    free(map.keys);
    free(map.vals);
    return 0;
}

/* ---- send --------------------------------------------------------------- */

struct send_state {
    parley_tcp *tcp;
    parley_tcp_reader *rd;
    parley_conn conn;
    conn_map map;
    size_t want_dgrams, want_bytes;
    size_t got_dgrams, got_bytes;
    int raw, reset;
};

/* Prints what arrived; returns nonzero once everything is back. */
static int
collect_replies(struct send_state *s)
{
    parley_tcp_datagram dg;
    parley_tcp_reset rs;
    int any = 0;
    while (parley_tcp_reader_get(s->rd, &dg) == 1) {
        print_datagram(conn_number(&s->map, dg.conn), &dg);
        s->got_dgrams++;
        s->got_bytes += dg.len;
        any = 1;
        parley_tcp_datagram_release(&dg);
    }
    while (parley_tcp_get_reset(s->tcp, &rs) == 1) {
        print_event("reset", conn_number(&s->map, rs.conn), &rs.peer,
                    rs.reason);
        s->reset = 1;
    }
    return any;
}

static int
send_all(struct send_state *s, int first, int argc, char **argv)
{
    for (int i = first; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            i++; /* an option and its value, checked already */
            continue;
        }
        size_t len = 0;
        unsigned char *b = unhex(argv[i], &len);
        int rc = b ? parley_tcp_send(s->tcp, s->conn, b, len) : PARLEY_OK;
        free(b);
        if (rc != PARLEY_OK) {
            fprintf(stderr, PROG ": send: %s\n", parley_strerror(rc));
            return 1;
        }
        s->want_dgrams++;
        s->want_bytes += len;
    }
    return 0;
}

static int
wait_replies(struct send_state *s, unsigned long wait_ms)
{
    uint64_t quiet_until = parley_time_us() + (uint64_t)wait_ms * 1000;
    while (!g_stop && !s->reset) {
        int done = s->raw ? s->got_bytes >= s->want_bytes
                          : s->got_dgrams >= s->want_dgrams;
        uint64_t now = parley_time_us();
        if (done || now >= quiet_until) {
            break;
        }
        parley_tcp_wait(s->tcp, (int)((quiet_until - now + 999) / 1000));
        if (collect_replies(s)) {
            quiet_until = parley_time_us() + (uint64_t)wait_ms * 1000;
        }
    }
    return 0;
}

/* Checks the options and HEX arguments before anything is opened. */
static int
parse_send(int argc, char **argv, int *header, unsigned long *wait_ms)
{
    *header = PARLEY_TCP_HEADER_2;
    *wait_ms = 2000;
    for (int i = 3; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--header") == 0) {
            if (parse_header(v, header) != 0) {
                return usage_error("--header: '%s' is not 2, 4 or raw",
                                   v ? v : "");
            }
            i++;
        } else if (strcmp(argv[i], "--wait") == 0) {
            if (parse_uint(v, 3600000, wait_ms) != 0) {
                return usage_error("--wait: '%s' is not a number of ms",
                                   v ? v : "");
            }
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return usage_error("unknown option '%s'", argv[i]);
        } else {
            size_t len;
            unsigned char *b = unhex(argv[i], &len);
            if (!b) {
                return usage_error("'%s' is not hex (pairs of 0-9a-f)",
                                   argv[i]);
            }
            free(b);
        }
    }
    return 0;
}

static int
cmd_send(int argc, char **argv)
{
    struct send_state s;
    unsigned long wait_ms;
    int header;
    if (argc < 3 || argv[2][0] == '-') {
        return usage_error("send needs HOST:PORT");
    }
    int rc = parse_send(argc, argv, &header, &wait_ms);
    if (rc != 0) {
        return rc;
    }
    memset(&s, 0, sizeof s);
    s.raw = header == PARLEY_TCP_HEADER_RAW;
    parley_tcp_config cfg;
    tool_config(&cfg, header);
    rc = parley_tcp_create(&cfg, &s.tcp);
    if (rc == PARLEY_OK) {
        g_tcp = s.tcp;
        rc = parley_tcp_reader_create(s.tcp, NULL, &s.rd);
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_connect(s.tcp, argv[2], 5000, &s.conn);
        if (rc != PARLEY_OK) {
            fprintf(stderr, PROG ": cannot connect to %s: %s\n", argv[2],
                    parley_strerror(rc));
        }
    }
    if (rc == PARLEY_OK) {
        rc = parley_tcp_reader_add(s.rd, s.conn);
    }
    if (rc == PARLEY_OK) {
        rc = send_all(&s, 3, argc, argv) ? PARLEY_EIO : PARLEY_OK;
    }
    if (rc == PARLEY_OK) {
        wait_replies(&s, wait_ms);
    }
    g_tcp = NULL;
    parley_tcp_destroy(s.tcp);
    free(s.map.keys);
    free(s.map.vals);
    return rc == PARLEY_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (strcmp(argv[1], "serve") == 0) {
        return cmd_serve(argc, argv);
    }
    if (strcmp(argv[1], "send") == 0) {
        return cmd_send(argc, argv);
    }
    return usage_error("unknown command '%s'", argv[1]);
}
