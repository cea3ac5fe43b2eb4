/*
 * parley-cat: a session client for scripts and debugging. Each stdin line
 * is a JSON event to send; each event received is printed as a JSON
 * line. At the end of stdin it waits for every reliable event to be
 * acknowledged, keeps receiving for --wait seconds (or --count events),
 * and leaves gracefully. Connections are encrypted; --key-file, --pin and
 * --no-encrypt choose the security mode (docs/SECURITY.md). --tcp joins
 * over TCP instead of UDP (plain). Written on the public parley API,
 * POSIX and jansson only.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <parley/parley.h>
#include <parley/security.h>
#include <parley/session.h>

#define PROG "parley-cat"
/* The longest stdin line taken; longer ones are reported and skipped. */
#define MAX_LINE ((size_t)4 << 20)
/* How long the final graceful disconnect may take. */
#define LEAVE_MS 3000
/* A JSON value nested deeper than this is refused (the payload limit). */
#define MAX_JSON_DEPTH PARLEY_PAYLOAD_MAX_DEPTH

static const char usage_text[] =
    "usage: parley-cat [options] HOST[:PORT]\n"
    "Joins the parley-relay (or any parley session server) at HOST (default\n"
    "port 14950). Each stdin line is one JSON event to send:\n"
    "  {\"event\": NAME, \"args\": [...], \"kwargs\": {...},\n"
    "   \"to\": \"server\" | \"all\", \"reliable\": true | false}\n"
    "(only \"event\" is required; bytes are {\"$bytes\": \"<base64>\"}, an\n"
    "integer above 2^63-1 is {\"$uint\": \"<decimal>\"}). Each event received\n"
    "is printed as one JSON line. At the end of stdin it waits until every\n"
    "reliable event was acknowledged, then keeps receiving for --wait\n"
    "seconds or until --count events arrived, and disconnects.\n"
    "  --name NAME        the name to join with (default: this computer's)\n"
    "  --events A,B,C     register these event names and print only them\n"
    "  --wait SECONDS     keep receiving this long after stdin ends\n"
    "  --count N          stop after N events were received\n"
    "  --key-file FILE    the relay's pre-shared key: a file of 32 raw bytes\n"
    "                     or 64 hex digits (the relay's --key-file)\n"
    "  --pin HEX          connect only to the server whose identity key is\n"
    "                     this public key (64 hex digits, what\n"
    "                     parley-relay --gen-keys printed)\n"
    "  --no-encrypt       plain connection, for trusted LANs; the server\n"
    "                     must run with --no-encrypt too\n"
    "  --tcp              connect over TCP (to parley-relay --tcp-port),\n"
    "                     for networks that block UDP; not encrypted, so\n"
    "                     not with --key-file, --pin or --no-encrypt\n"
    "  -h, --help         print this text\n"
    "Exit status: 0 done, 1 cannot connect (also a refused key, pin or\n"
    "encryption setting: the reason is printed) or connection lost, 2 bad\n"
    "arguments.\n";

struct options {
    const char *name;
    const char *events;
    const char *target;
    const char *key_file;
    const char *pin;
    int no_encrypt;
    int tcp;
    double wait_s;
    int have_wait;
    uint64_t count;
    int have_count;
    int help;
};

struct cat {
    struct options opt;
    parley_client *cli;
    parley_builder *b;
    parley_event_table *filter; /* --events, or NULL */
    parley_host_config udp;     /* security settings */
    uint8_t psk[PARLEY_KEY_SIZE];
    uint8_t pinned[PARLEY_KEY_SIZE];
    uint64_t received;
    uint64_t line_no;
    char *line;
    size_t line_len;
    int line_too_long;
    int stdin_open;
    int lost;
};

static volatile sig_atomic_t stop_requested;

/* ---- command line ---- */

static int
usage_error(const char *what, const char *arg)
{
    fprintf(stderr, PROG ": %s%s%s\n", what, arg ? arg : "", arg ? "'" : "");
    fputs(usage_text, stderr);
    return 2;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end = NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
            return 0;
        }
        if (a[0] != '-' || a[1] == '\0') {
            if (o->target != NULL) {
                return usage_error("more than one HOST: '", a);
            }
            o->target = a;
            continue;
        }
        if (strcmp(a, "--no-encrypt") == 0) {
            o->no_encrypt = 1;
            continue;
        }
        if (strcmp(a, "--tcp") == 0) {
            o->tcp = 1;
            continue;
        }
        if (strcmp(a, "--name") && strcmp(a, "--events") &&
            strcmp(a, "--wait") && strcmp(a, "--count") &&
            strcmp(a, "--key-file") && strcmp(a, "--pin")) {
            return usage_error("unknown option '", a);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, PROG ": %s needs a value\n", a);
            fputs(usage_text, stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--name") == 0) {
            if (v[0] == '\0') {
                return usage_error("--name: empty", NULL);
            }
            o->name = v;
        } else if (strcmp(a, "--events") == 0) {
            o->events = v;
        } else if (strcmp(a, "--key-file") == 0) {
            o->key_file = v;
        } else if (strcmp(a, "--pin") == 0) {
            o->pin = v;
        } else if (strcmp(a, "--wait") == 0) {
            errno = 0;
            o->wait_s = strtod(v, &end);
            if (end == v || *end || errno || !isfinite(o->wait_s) ||
                o->wait_s < 0 || o->wait_s > 86400 * 365) {
                return usage_error("--wait: not a number of seconds: '", v);
            }
            o->have_wait = 1;
        } else {
            errno = 0;
            o->count = strtoull(v, &end, 10);
            if (v[0] < '0' || v[0] > '9' || *end || errno || o->count == 0) {
                return usage_error("--count: not a positive integer: '", v);
            }
            o->have_count = 1;
        }
    }
    if (o->target == NULL) {
        return usage_error("HOST[:PORT] is required", NULL);
    }
    if (o->no_encrypt && (o->key_file || o->pin)) {
        return usage_error("--no-encrypt cannot be combined with "
                           "--key-file or --pin",
                           NULL);
    }
    if (o->tcp && (o->key_file || o->pin || o->no_encrypt)) {
        return usage_error("--tcp cannot be combined with --key-file, --pin "
                           "or --no-encrypt (TCP is not encrypted)",
                           NULL);
    }
    return 0;
}

/* ---- base64 (RFC 4648, with padding) ---- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
b64_encode(const uint8_t *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    size_t o = 0;

    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)p[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= p[i + 2];
        }
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int
b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decodes into a new buffer; NULL when s is not padded base64. */
static uint8_t *
b64_decode(const char *s, size_t len, size_t *out_len)
{
    uint8_t *out;
    size_t o = 0;

    if (len % 4 != 0) {
        return NULL;
    }
    out = malloc(len / 4 * 3 + 1);
    for (size_t i = 0; out != NULL && i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64_value(s[i + k])) < 0) {
                free(out);
                return NULL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
                     (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2) {
            out[o++] = (uint8_t)(w >> 8);
        }
        if (pad < 1) {
            out[o++] = (uint8_t)w;
        }
    }
    *out_len = o;
    return out;
}

/* ---- JSON -> payload ---- */

static int add_json(parley_builder *b, json_t *v, int depth, char *why,
                    size_t cap);

/* {"$bytes": "..."} or {"$uint": "..."}: 1 if v is one (added), 0 if
   not, -1 on error. */
static int
add_special(parley_builder *b, json_t *v, char *why, size_t cap)
{
    json_t *s;

    if (json_object_size(v) != 1) {
        return 0;
    }
    if ((s = json_object_get(v, "$bytes")) != NULL) {
        size_t n = 0;
        uint8_t *d = json_is_string(s) ? b64_decode(json_string_value(s),
                                                    json_string_length(s), &n)
                                       : NULL;
        int rc;
        if (d == NULL) {
            snprintf(why, cap, "$bytes is not a base64 string");
            return -1;
        }
        rc = parley_builder_bytes(b, d, n);
        free(d);
        return rc == PARLEY_OK ? 1 : -1;
    }
    if ((s = json_object_get(v, "$uint")) != NULL) {
        const char *t = json_is_string(s) ? json_string_value(s) : "";
        char *end = NULL;
        errno = 0;
        unsigned long long u = strtoull(t, &end, 10);
        if (t[0] < '0' || t[0] > '9' || *end || errno) {
            snprintf(why, cap, "$uint is not a decimal string");
            return -1;
        }
        return parley_builder_uint(b, u) == PARLEY_OK ? 1 : -1;
    }
    return 0;
}

static int
add_object(parley_builder *b, json_t *v, int depth, char *why, size_t cap)
{
    const char *key;
    json_t *item;
    int rc = add_special(b, v, why, cap);

    if (rc != 0) {
        return rc > 0 ? 0 : -1;
    }
    if (parley_builder_map_begin(b) != PARLEY_OK) {
        return -1;
    }
    json_object_foreach(v, key, item)
    {
        if (parley_builder_key(b, key) != PARLEY_OK ||
            add_json(b, item, depth + 1, why, cap) != 0) {
            return -1;
        }
    }
    return parley_builder_map_end(b) == PARLEY_OK ? 0 : -1;
}

static int
add_json(parley_builder *b, json_t *v, int depth, char *why, size_t cap)
{
    size_t i;
    json_t *item;
    int rc = PARLEY_OK;

    if (depth > MAX_JSON_DEPTH) {
        snprintf(why, cap, "nested deeper than %d", MAX_JSON_DEPTH);
        return -1;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        rc = parley_builder_nil(b);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        rc = parley_builder_bool(b, json_is_true(v));
        break;
    case JSON_INTEGER:
        rc = parley_builder_int(b, (int64_t)json_integer_value(v));
        break;
    case JSON_REAL:
        rc = parley_builder_double(b, json_real_value(v));
        break;
    case JSON_STRING:
        rc =
            parley_builder_strn(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_ARRAY:
        if (parley_builder_array_begin(b) != PARLEY_OK) {
            return -1;
        }
        json_array_foreach(v, i, item)
        {
            if (add_json(b, item, depth + 1, why, cap) != 0) {
                return -1;
            }
        }
        rc = parley_builder_array_end(b);
        break;
    case JSON_OBJECT:
        return add_object(b, v, depth, why, cap);
    }
    if (rc != PARLEY_OK) {
        snprintf(why, cap, "%s", parley_strerror(rc));
        return -1;
    }
    return 0;
}

/* ---- payload -> JSON ---- */

static json_t *to_json(const parley_value *v);

static json_t *
tagged(const char *tag, json_t *value)
{
    json_t *o = json_object();
    json_object_set_new(o, tag, value);
    return o;
}

static json_t *
bytes_json(const uint8_t *p, size_t n)
{
    char *s = b64_encode(p, n);
    json_t *o = tagged("$bytes", json_string(s ? s : ""));
    free(s);
    return o;
}

static json_t *
double_json(double d)
{
    if (isfinite(d)) {
        return json_real(d);
    }
    return tagged("$double", json_string(isnan(d) ? "nan"
                                         : d > 0  ? "inf"
                                                  : "-inf"));
}

static json_t *
map_json(const parley_value *v)
{
    parley_iter it;
    parley_value k, x;
    json_t *o = json_object();
    json_t *pairs = NULL;

    parley_iter_init(&it, v);
    while (parley_iter_next(&it, &k, &x) == 1) {
        char key[1024];
        if (k.type == PARLEY_TYPE_STR && k.v.str.len < sizeof key &&
            memchr(k.v.str.ptr, 0, k.v.str.len) == NULL) {
            memcpy(key, k.v.str.ptr, k.v.str.len);
            key[k.v.str.len] = '\0';
            if (json_object_set_new(o, key, to_json(&x)) == 0) {
                continue;
            }
        }
        /* A key JSON cannot hold: keep the pair in "$pairs". */
        if (pairs == NULL) {
            pairs = json_array();
            json_object_set_new(o, "$pairs", pairs);
        }
        json_array_append_new(pairs,
                              json_pack("[oo]", to_json(&k), to_json(&x)));
    }
    return o;
}

static json_t *
to_json(const parley_value *v)
{
    parley_iter it;
    parley_value x;
    json_t *a;
    char num[32];

    switch (v->type) {
    case PARLEY_TYPE_NIL:
        return json_null();
    case PARLEY_TYPE_BOOL:
        return json_boolean(v->v.b);
    case PARLEY_TYPE_INT:
        return json_integer((json_int_t)v->v.i);
    case PARLEY_TYPE_UINT:
        snprintf(num, sizeof num, "%" PRIu64, v->v.u);
        return tagged("$uint", json_string(num));
    case PARLEY_TYPE_DOUBLE:
        return double_json(v->v.d);
    case PARLEY_TYPE_STR: {
        json_t *s = json_stringn(v->v.str.ptr, v->v.str.len);
        return s ? s : bytes_json((const uint8_t *)v->v.str.ptr, v->v.str.len);
    }
    case PARLEY_TYPE_BYTES:
        return bytes_json(v->v.bytes.ptr, v->v.bytes.len);
    case PARLEY_TYPE_ARRAY:
        a = json_array();
        parley_iter_init(&it, v);
        while (parley_iter_next(&it, NULL, &x) == 1) {
            json_array_append_new(a, to_json(&x));
        }
        return a;
    case PARLEY_TYPE_MAP:
        return map_json(v);
    default:
        return json_null();
    }
}

/* Prints one JSON line and flushes it (the tool lives in pipes). */
static void
print_line(json_t *o)
{
    char *s = json_dumps(o, JSON_ENCODE_ANY);

    if (s != NULL) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    json_decref(o);
}

static void
print_event(struct cat *c, const parley_session_event *ev)
{
    char id[24];
    json_t *o = json_object();

    snprintf(id, sizeof id, "0x%016" PRIx64, ev->id);
    json_object_set_new(o, "type", json_string("event"));
    json_object_set_new(o, "event",
                        ev->name ? json_string(ev->name) : json_null());
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "from", json_string(ev->sender));
    json_object_set_new(o, "args", to_json(&ev->payload.args));
    json_object_set_new(o, "kwargs", to_json(&ev->payload.kwargs));
    print_line(o);
    c->received++;
}

static void
print_error(const parley_session_event *ev)
{
    char id[24];

    snprintf(id, sizeof id, "0x%016" PRIx64, ev->id);
    print_line(json_pack("{s:s, s:o, s:s, s:s, s:s}", "type", "error", "event",
                         ev->name ? json_string(ev->name) : json_null(), "id",
                         id, "from", ev->sender, "reason", ev->reason));
    fprintf(stderr, PROG ": rejected event: %s\n", ev->reason);
}

/* ---- sending one stdin line ---- */

static int
parse_target(json_t *o, int *to_all, int *reliable, char *why, size_t cap)
{
    json_t *to = json_object_get(o, "to");
    json_t *rel = json_object_get(o, "reliable");

    *to_all = 0;
    *reliable = 1;
    if (to != NULL) {
        const char *t = json_is_string(to) ? json_string_value(to) : "";
        if (strcmp(t, "all") == 0) {
            *to_all = 1;
        } else if (strcmp(t, "server") != 0) {
            snprintf(why, cap, "\"to\" must be \"server\" or \"all\"");
            return -1;
        }
    }
    if (rel != NULL) {
        if (!json_is_boolean(rel)) {
            snprintf(why, cap, "\"reliable\" must be true or false");
            return -1;
        }
        *reliable = json_is_true(rel);
    }
    return 0;
}

static int
check_keys(json_t *o, char *why, size_t cap)
{
    static const char *const known[] = {"event", "args", "kwargs", "to",
                                        "reliable"};
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v)
    {
        size_t i = 0;
        while (i < 5 && strcmp(key, known[i]) != 0) {
            i++;
        }
        if (i == 5) {
            snprintf(why, cap, "unknown key \"%.64s\"", key);
            return -1;
        }
    }
    return 0;
}

/* Fills the builder from "args" and "kwargs". */
static int
build_payload(struct cat *c, json_t *o, char *why, size_t cap)
{
    json_t *args = json_object_get(o, "args");
    json_t *kwargs = json_object_get(o, "kwargs");
    const char *key;
    json_t *v;
    size_t i;

    if ((args && !json_is_array(args)) || (kwargs && !json_is_object(kwargs))) {
        snprintf(why, cap, "\"args\" must be an array, \"kwargs\" an object");
        return -1;
    }
    parley_builder_reset(c->b);
    json_array_foreach(args, i, v)
    {
        if (add_json(c->b, v, 1, why, cap) != 0) {
            return -1;
        }
    }
    json_object_foreach(kwargs, key, v)
    {
        if (parley_builder_key(c->b, key) != PARLEY_OK ||
            add_json(c->b, v, 1, why, cap) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
send_json(struct cat *c, json_t *o, char *why, size_t cap)
{
    json_t *ev = json_object_get(o, "event");
    int to_all, reliable, rc;
    uint64_t id;

    if (!json_is_object(o)) {
        snprintf(why, cap, "not a JSON object");
        return -1;
    }
    if (!json_is_string(ev)) {
        snprintf(why, cap, "\"event\" (a string) is required");
        return -1;
    }
    if (check_keys(o, why, cap) != 0 ||
        parse_target(o, &to_all, &reliable, why, cap) != 0 ||
        build_payload(c, o, why, cap) != 0) {
        return -1;
    }
    rc = parley_event_register(parley_client_events(c->cli),
                               json_string_value(ev), &id);
    if (rc == PARLEY_EINVAL) {
        snprintf(why, cap, "bad event name");
        return -1;
    }
    if (rc == PARLEY_EEXIST) {
        fprintf(stderr, PROG ": warning: '%s' has the same id as '%s'\n",
                json_string_value(ev),
                parley_event_name(parley_client_events(c->cli), id));
        id = parley_event_id(json_string_value(ev));
    }
    uint32_t flags = reliable ? 0 : PARLEY_SEND_UNRELIABLE;
    rc = to_all ? parley_client_send_all(c->cli, id, c->b, flags)
                : parley_client_send(c->cli, id, c->b, flags);
    if (rc != PARLEY_OK) {
        snprintf(why, cap, "not sent: %s", parley_strerror(rc));
        return -1;
    }
    return 0;
}

static void
handle_line(struct cat *c, const char *text, size_t len)
{
    char why[256] = "";
    json_error_t err;
    json_t *o;

    c->line_no++;
    if (len == 0 || strspn(text, " \t\r") == len) {
        return; /* blank lines are skipped quietly */
    }
    o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (o == NULL) {
        fprintf(stderr, PROG ": line %" PRIu64 ": invalid JSON: %s\n",
                c->line_no, err.text);
        return;
    }
    if (send_json(c, o, why, sizeof why) != 0) {
        fprintf(stderr, PROG ": line %" PRIu64 ": %s\n", c->line_no, why);
    }
    json_decref(o);
}

/* Reads what stdin has and sends every complete line. */
static void
read_stdin(struct cat *c)
{
    char buf[65536];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

    if (n < 0) {
        if (errno != EINTR && errno != EAGAIN) {
            c->stdin_open = 0;
        }
        return;
    }
    if (n == 0) {
        if (c->line_len > 0 || c->line_too_long) {
            handle_line(c, c->line, c->line_too_long ? 0 : c->line_len);
        }
        c->stdin_open = 0;
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            if (c->line_too_long) {
                c->line_no++;
                fprintf(stderr,
                        PROG ": line %" PRIu64 ": longer than %zu bytes\n",
                        c->line_no, MAX_LINE);
            } else {
                handle_line(c, c->line, c->line_len);
            }
            c->line_len = 0;
            c->line_too_long = 0;
        } else if (c->line_len < MAX_LINE) {
            c->line[c->line_len++] = buf[i];
        } else {
            c->line_too_long = 1;
        }
    }
}

/* ---- receiving ---- */

/* 1 when --events lets this event through. */
static int
wanted(struct cat *c, const parley_session_event *ev)
{
    return c->filter == NULL || parley_event_name(c->filter, ev->id) != NULL;
}

static void
drain_events(struct cat *c)
{
    parley_session_event ev;

    while (!c->lost && parley_client_service(c->cli, 0, &ev) == 1) {
        if (ev.type == PARLEY_SESSION_EVENT && wanted(c, &ev)) {
            /* Never more lines than --count asked for. */
            if (!c->opt.have_count || c->received < c->opt.count) {
                print_event(c, &ev);
            }
        } else if (ev.type == PARLEY_SESSION_ERROR) {
            print_error(&ev);
        } else if (ev.type == PARLEY_SESSION_SERVER_DISCONNECT) {
            print_line(json_pack("{s:s, s:s}", "type", "disconnected", "reason",
                                 ev.reason));
            fprintf(stderr, PROG ": disconnected: %s\n", ev.reason);
            c->lost = 1;
        }
    }
}

/* Waits for the socket, stdin (when watched) or up to ms. */
static void
wait_io(struct cat *c, int watch_stdin, int ms)
{
    struct pollfd pfd[2];
    int n = 0;
    int t = parley_client_next_timeout_ms(c->cli);

    pfd[n].fd = parley_client_fd(c->cli);
    pfd[n++].events = POLLIN;
    if (watch_stdin) {
        pfd[n].fd = STDIN_FILENO;
        pfd[n++].events = POLLIN;
    }
    if (t < 0 || t > ms) {
        t = ms;
    }
    if (poll(pfd, (nfds_t)n, t) > 0 && watch_stdin &&
        (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
        read_stdin(c);
    }
}

static int
all_acknowledged(struct cat *c)
{
    parley_peer_stats st;

    return parley_client_get_stats(c->cli, &st) == PARLEY_OK &&
           st.unacked_messages == 0 && st.out_buffer_bytes == 0;
}

static uint64_t
now_ms(void)
{
    return parley_time_us() / 1000;
}

/* The loop: stdin, then the acknowledgements, then --wait/--count. */
static int
run(struct cat *c)
{
    uint64_t end = 0;
    int acked = 0;

    while (!stop_requested && !c->lost) {
        drain_events(c);
        if (c->lost) {
            break;
        }
        if (c->stdin_open) {
            wait_io(c, 1, 100);
            continue;
        }
        if (!acked) {
            acked = all_acknowledged(c);
            if (acked) {
                end = now_ms() + (uint64_t)(c->opt.wait_s * 1000.0);
            } else {
                wait_io(c, 0, 10);
                continue;
            }
        }
        if (c->opt.have_count && c->received >= c->opt.count) {
            break;
        }
        if ((!c->opt.have_count || c->opt.have_wait) && now_ms() >= end) {
            break;
        }
        wait_io(c, 0, 50);
    }
    if (c->lost) {
        return 1;
    }
    parley_client_disconnect(c->cli, LEAVE_MS);
    print_line(json_pack("{s:s, s:s}", "type", "disconnected", "reason",
                         stop_requested ? "interrupted" : "done"));
    return 0;
}

/* ---- set-up ---- */

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void
catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* --events a,b,c: registered on the client (names print even if never
   announced) and kept as the filter. */
static int
setup_filter(struct cat *c)
{
    char *list, *save = NULL;

    if (c->opt.events == NULL) {
        return 0;
    }
    if (parley_event_table_create(&c->filter) != PARLEY_OK ||
        (list = strdup(c->opt.events)) == NULL) {
        return -1;
    }
    for (char *t = strtok_r(list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        int rc = parley_event_register(c->filter, t, NULL);
        if (rc == PARLEY_OK) {
            rc = parley_event_register(parley_client_events(c->cli), t, NULL);
        }
        if (rc != PARLEY_OK) {
            fprintf(stderr, PROG ": --events: '%s': %s\n", t,
                    rc == PARLEY_EEXIST ? "collides with another name"
                                        : "not a valid event name");
            free(list);
            return -1;
        }
    }
    free(list);
    return 0;
}

/* --key-file, --pin, --no-encrypt into c->udp. 0, or the exit status. */
static int
setup_security(struct cat *c)
{
    int rc;

    parley_host_config_init(&c->udp);
    c->udp.encrypt = !c->opt.no_encrypt;
    if (c->opt.key_file != NULL) {
        rc = parley_key_load_file(c->opt.key_file, c->psk);
        if (rc != PARLEY_OK) {
            fprintf(stderr,
                    PROG ": --key-file: cannot use '%s': %s (it must hold "
                         "32 raw bytes or 64 hex digits)\n",
                    c->opt.key_file,
                    rc == PARLEY_EIO ? "cannot read it" : "malformed key");
            return 2;
        }
        c->udp.psk = c->psk;
    }
    if (c->opt.pin != NULL) {
        if (parley_key_from_hex(c->opt.pin, c->pinned) != PARLEY_OK) {
            return usage_error("--pin: not 64 hex digits: '", c->opt.pin);
        }
        c->udp.pinned_key = c->pinned;
    }
    return 0;
}

static int
connect_client(struct cat *c)
{
    parley_client_config cfg;
    parley_addr probe;
    int rc;

    rc = setup_security(c);
    if (rc != 0) {
        return rc;
    }
    parley_client_config_init(&cfg);
    cfg.name = c->opt.name;
    if (c->opt.tcp) {
        cfg.transport = PARLEY_TRANSPORT_TCP;
    } else {
        cfg.udp = &c->udp;
    }
    rc = parley_client_create(&cfg, &c->cli);
    if (rc != PARLEY_OK) {
        return usage_error("--name: not a valid name (1-64 bytes of "
                           "printable UTF-8): '",
                           c->opt.name ? c->opt.name : "");
    }
    if (setup_filter(c) != 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    /* A malformed address is a usage error; a name that does not
       resolve or a server that does not answer is not. */
    rc = parley_addr_parse(c->opt.target, PARLEY_SESSION_PORT, &probe);
    if (rc == PARLEY_EPORT) {
        return usage_error("bad port in '", c->opt.target);
    }
    rc = parley_client_connect(c->cli, c->opt.target);
    if (rc == PARLEY_EADDR || rc == PARLEY_EPORT) {
        return usage_error("not a HOST[:PORT]: '", c->opt.target);
    }
    if (rc == PARLEY_ECONNREFUSED || rc == PARLEY_EFULL ||
        rc == PARLEY_EREJECTED || rc == PARLEY_EVERSION) {
        fprintf(stderr, PROG ": connection refused: %s\n",
                parley_client_last_error(c->cli));
        return 1;
    }
    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": cannot connect to %s: %s (%s)\n", c->opt.target,
                parley_strerror(rc), parley_client_last_error(c->cli));
        return 1;
    }
    fprintf(stderr, PROG ": connected to %s%s as %s\n", c->opt.target,
            c->opt.tcp ? " (tcp)" : "", parley_client_name(c->cli));
    print_line(json_pack("{s:s}", "type", "connected"));
    return 0;
}

int
main(int argc, char **argv)
{
    struct cat c;
    int rc;

    memset(&c, 0, sizeof c);
    rc = parse_args(argc, argv, &c.opt);
    if (rc != 0) {
        return rc;
    }
    if (c.opt.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    catch_signals();
    c.line = malloc(MAX_LINE);
    if (c.line == NULL || parley_builder_create(&c.b) != PARLEY_OK) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    rc = connect_client(&c);
    if (rc == 0) {
        c.stdin_open = 1;
        rc = run(&c);
    }
    parley_client_destroy(c.cli);
    parley_builder_destroy(c.b);
    parley_event_table_destroy(c.filter);
    free(c.line);
    return rc;
}
