/*
 * parley-rv: talk RV's network protocol from the command line, the
 * rvshell / rvpush of parley. "serve" accepts any number of RV clients and
 * prints what they send as JSON lines; the client form connects to an RV
 * (or another parley-rv) and runs commands: events, remote eval, data,
 * pixels, listen. Written on the public parley API, libc and jansson.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <parley/rv.h>

#define PROG "parley-rv"

/* Exit codes. */
enum { EXIT_LOST = 1, EXIT_USAGE = 2, EXIT_NO_RETURN = 124 };

static const char usage_text[] =
    "usage: parley-rv serve [--port N] [--bind ADDR] [--contact NAME]\n"
    "                       [--app APP] [--reply TEXT | --echo] [--ping]\n"
    "                       [--max-data BYTES]\n"
    "       parley-rv [--contact NAME] [--app APP] [--timeout S]\n"
    "                 HOST[:PORT] COMMAND...\n"
    "serve prints one JSON line per thing received and answers every\n"
    "RETURNEVENT with --reply TEXT (default empty) or its contents (--echo).\n"
    "Commands (several may follow one another on one connection):\n"
    "  event NAME CONTENTS           send EVENT NAME * CONTENTS\n"
    "  returnevent NAME CONTENTS     send RETURNEVENT, print the RETURN value\n"
    "  eval CODE / pyeval CODE       remote-eval / remote-pyeval RETURNEVENT\n"
    "  data EVENT CONTENT-TYPE FILE  send FILE as DATAEVENT(EVENT,*,TYPE)\n"
    "  pixels MEDIA IMAGE.ppm [--tiles NxM]\n"
    "                                create an image source in RV and send\n"
    "                                the image as RGBA8 tiles, bottom-up\n"
    "  listen                        stay connected, print what arrives\n"
    "Defaults: port 45124, contact parley-rv, app parley-rv, timeout 10 s.\n"
    "Exit: 0 done, 1 connection refused or lost, 2 bad arguments,\n"
    "124 a RETURN did not come in time.\n";

static volatile sig_atomic_t g_stop;
static parley_rv *g_rv;

static void
on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
    if (g_rv) {
        parley_rv_interrupt(g_rv);
    }
}

static void
install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(parley-rv --help for usage)\n");
    va_end(ap);
    return EXIT_USAGE;
}

/* ---- JSON output -----------------------------------------------------------
 */

/* s[0..n) as valid UTF-8: bad bytes become U+FFFD (as RV decodes). */
static char *
utf8_clean(const char *s, size_t n, size_t *out_len)
{
    unsigned char *o = malloc(n * 3 + 1);
    size_t k = 0;
    if (!o) {
        return NULL;
    }
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80         ? 1
                     : (c >> 5) == 6  ? 2
                     : (c >> 4) == 14 ? 3
                     : (c >> 3) == 30 ? 4
                                      : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t j = 1; ok && j < len; j++) {
            ok = ((unsigned char)s[i + j] >> 6) == 2;
        }
        if (ok && len > 1) {
            /* reject overlong forms and surrogates: jansson would */
            unsigned v = c & (0xff >> (len + 1));
            for (size_t j = 1; j < len; j++) {
                v = (v << 6) | ((unsigned char)s[i + j] & 0x3f);
            }
            ok = (len == 2 && v >= 0x80) ||
                 (len == 3 && v >= 0x800 && (v < 0xd800 || v > 0xdfff)) ||
                 (len == 4 && v >= 0x10000 && v <= 0x10ffff);
        }
        if (!ok) {
            memcpy(o + k, "\xef\xbf\xbd", 3);
            k += 3;
            i++;
            continue;
        }
        memcpy(o + k, s + i, len);
        k += len;
        i += len;
    }
    o[k] = '\0';
    *out_len = k;
    return (char *)o;
}

static void
set_str(json_t *o, const char *key, const char *s, size_t n)
{
    size_t len;
    char *clean = utf8_clean(s ? s : "", s ? n : 0, &len);
    json_object_set_new(o, key, clean ? json_stringn(clean, len) : json_null());
    free(clean);
}

static void
set_cstr(json_t *o, const char *key, const char *s)
{
    set_str(o, key, s, s ? strlen(s) : 0);
}

static void
set_int(json_t *o, const char *key, long long v)
{
    json_object_set_new(o, key, json_integer(v));
}

static void
set_sha(json_t *o, const uint8_t *data, size_t n)
{
    uint8_t h[32];
    char hex[65];
    parley_sha256(data, n, h);
    for (int i = 0; i < 32; i++) {
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    }
    set_int(o, "bytes", (long long)n);
    set_cstr(o, "sha256", hex);
}

/* Prints o as one line and flushes; takes o. */
static void
emit_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    json_decref(o);
}

static void
add_tile(json_t *o, const parley_rv_event *e)
{
    set_int(o, "w", e->tile.w);
    set_int(o, "h", e->tile.h);
    set_int(o, "x", e->tile.x);
    set_int(o, "y", e->tile.y);
    set_int(o, "f", e->tile.f);
    set_cstr(o, "event", e->tile.event);
    set_cstr(o, "media", e->tile.media);
    set_cstr(o, "layer", e->tile.layer);
    set_cstr(o, "view", e->tile.view);
    set_cstr(o, "interp", e->interp);
    set_sha(o, e->data, e->data_len);
}

static void
add_message(json_t *o, const parley_rv_event *e)
{
    switch (e->type) {
    case PARLEY_RV_EV_RETURNEVENT:
        set_int(o, "seq", (long long)e->seq);
        /* fall through */
    case PARLEY_RV_EV_EVENT:
        set_str(o, "name", e->name, e->name_len);
        set_str(o, "target", e->target, e->target_len);
        set_str(o, "contents", e->contents, e->contents_len);
        break;
    case PARLEY_RV_EV_RETURN:
        set_str(o, "contents", e->contents, e->contents_len);
        break;
    case PARLEY_RV_EV_MESSAGE:
        set_str(o, "text", e->text, e->text_len);
        break;
    case PARLEY_RV_EV_DATAEVENT:
        set_str(o, "name", e->name, e->name_len);
        set_str(o, "target", e->target, e->target_len);
        set_str(o, "content_type", e->content_type, e->content_type_len);
        set_sha(o, e->data, e->data_len);
        break;
    case PARLEY_RV_EV_DATA:
        set_str(o, "interp", e->interp, e->interp_len);
        set_sha(o, e->data, e->data_len);
        break;
    case PARLEY_RV_EV_PIXELTILE:
        add_tile(o, e);
        break;
    default:
        break;
    }
}

/* The JSON line for an event. */
static void
print_event(const parley_rv_event *e)
{
    json_t *o = json_object();
    const char *type = e->type == PARLEY_RV_EV_CONTACT
                           ? "greeting"
                           : parley_rv_event_name(e->type);
    set_cstr(o, "type", type);
    set_cstr(o, "contact", e->peer_name);
    set_int(o, "id", (long long)e->contact);
    if (e->type == PARLEY_RV_EV_CONTACT) {
        char addr[PARLEY_ADDR_STRLEN];
        set_cstr(o, "app", e->peer_app);
        if (parley_addr_format(&e->addr, addr, sizeof addr) > 0) {
            set_cstr(o, "addr", addr);
        }
    } else if (e->type == PARLEY_RV_EV_CONTACT_LEFT) {
        set_cstr(o, "reason", parley_rv_reason_name(e->reason));
    } else if (e->type == PARLEY_RV_EV_ERROR ||
               e->type == PARLEY_RV_EV_CONNECT_FAILED) {
        set_cstr(o, "error", parley_err_name(e->error));
        set_cstr(o, "message", e->error_text);
        json_object_set_new(o, "closing", json_boolean(e->closing));
    } else {
        add_message(o, e);
    }
    emit_json(o);
}

/* ---- serve -----------------------------------------------------------------
 */

typedef struct serve_opts {
    long port;
    const char *bind;
    const char *contact, *app, *reply;
    int echo, ping;
    size_t max_data;
} serve_opts;

static void
serve_event(parley_rv *rv, const serve_opts *o, const parley_rv_event *e)
{
    print_event(e);
    if (e->type == PARLEY_RV_EV_RETURNEVENT) {
        const char *v = o->echo ? e->contents : o->reply;
        size_t n = o->echo ? e->contents_len : strlen(o->reply);
        int rc = parley_rv_reply(rv, e->contact, e->seq, v, n);
        if (rc != PARLEY_OK) {
            fprintf(stderr, PROG ": reply: %s\n", parley_strerror(rc));
        }
    }
}

static int
parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0 || s[0] == '-') {
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int
parse_serve(int argc, char **argv, serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->port = 45124;
    o->bind = "0.0.0.0";
    o->contact = "parley-rv";
    o->app = "parley-rv";
    o->reply = "";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--port") == 0 || strcmp(a, "--bind") == 0 ||
                    strcmp(a, "--contact") == 0 || strcmp(a, "--app") == 0 ||
                    strcmp(a, "--reply") == 0 || strcmp(a, "--max-data") == 0;
        if (takes && !v) {
            return usage_error("%s needs a value", a);
        }
        if (strcmp(a, "--port") == 0) {
            char *end;
            o->port = strtol(v, &end, 10);
            if (*end || end == v || o->port < 0 || o->port > 65535) {
                return usage_error("bad port: %s", v);
            }
        } else if (strcmp(a, "--bind") == 0) {
            o->bind = v;
        } else if (strcmp(a, "--contact") == 0) {
            o->contact = v;
        } else if (strcmp(a, "--app") == 0) {
            o->app = v;
        } else if (strcmp(a, "--reply") == 0) {
            o->reply = v;
        } else if (strcmp(a, "--max-data") == 0) {
            if (parse_size(v, &o->max_data) != 0) {
                return usage_error("bad size: %s", v);
            }
        } else if (strcmp(a, "--echo") == 0) {
            o->echo = 1;
        } else if (strcmp(a, "--ping") == 0) {
            o->ping = 1;
        } else {
            return usage_error("unknown serve option: %s", a);
        }
        i += takes;
    }
    if (o->echo && strcmp(o->reply, "") != 0) {
        return usage_error("%s", "--reply and --echo exclude each other");
    }
    return 0;
}

static int
serve(int argc, char **argv)
{
    serve_opts o;
    int rc = parse_serve(argc, argv, &o);
    if (rc != 0) {
        return rc;
    }
    char listen[300];
    int v6 = strchr(o.bind, ':') != NULL && o.bind[0] != '[';
    snprintf(listen, sizeof listen, v6 ? "[%s]:%ld" : "%s:%ld", o.bind, o.port);
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.contact_name = o.contact;
    cfg.app_name = o.app;
    cfg.listen = listen;
    cfg.pingpong = o.ping;
    if (o.max_data) {
        cfg.max_data = o.max_data;
    }
    rc = parley_rv_create(&cfg, &g_rv);
    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": cannot listen on %s: %s\n", listen,
                parley_strerror(rc));
        return rc == PARLEY_EINVAL ? EXIT_USAGE : EXIT_LOST;
    }
    parley_addr where;
    parley_rv_local_addr(g_rv, &where);
    fprintf(stderr, PROG ": listening on %u\n", (unsigned)where.port);
    fflush(stderr);
    while (!g_stop) {
        parley_rv_event ev;
        if (parley_rv_service(g_rv, 1000, &ev) == 1) {
            serve_event(g_rv, &o, &ev);
            parley_rv_event_release(g_rv, &ev);
        }
    }
    parley_rv *rv = g_rv;
    g_rv = NULL;
    parley_rv_wait_sent(rv, PARLEY_RV_CONTACT_NONE, 2000);
    parley_rv_destroy(rv);
    return 0;
}

/* ---- client commands
 * --------------------------------------------------------- */

typedef enum cmd_kind {
    CMD_EVENT,
    CMD_RETURNEVENT,
    CMD_EVAL,
    CMD_PYEVAL,
    CMD_DATA,
    CMD_PIXELS,
    CMD_LISTEN
} cmd_kind;

typedef struct cmd {
    cmd_kind kind;
    const char *a, *b, *c; /* the command's words */
    int tiles_x, tiles_y;
} cmd;

typedef struct client_opts {
    const char *contact, *app, *host;
    double timeout_s;
    cmd cmds[64];
    int ncmds;
} client_opts;

static int
parse_tiles(const char *s, cmd *c)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (end == s || (*end != 'x' && *end != 'X') || x < 1 || x > 4096) {
        return -1;
    }
    const char *ys = end + 1;
    long y = strtol(ys, &end, 10);
    if (end == ys || *end || y < 1 || y > 4096) {
        return -1;
    }
    c->tiles_x = (int)x;
    c->tiles_y = (int)y;
    return 0;
}

/* One command from argv[*i]; moves *i past it. */
static int
parse_cmd(int argc, char **argv, int *i, cmd *c)
{
    static const struct {
        const char *name;
        cmd_kind kind;
        int nargs;
    } table[] = {{"event", CMD_EVENT, 2},  {"returnevent", CMD_RETURNEVENT, 2},
                 {"eval", CMD_EVAL, 1},    {"pyeval", CMD_PYEVAL, 1},
                 {"data", CMD_DATA, 3},    {"pixels", CMD_PIXELS, 2},
                 {"listen", CMD_LISTEN, 0}};
    const char *name = argv[*i];
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
        if (strcmp(name, table[k].name) != 0) {
            continue;
        }
        if (*i + table[k].nargs >= argc) {
            return usage_error("%s: missing arguments", name);
        }
        memset(c, 0, sizeof *c);
        c->kind = table[k].kind;
        c->tiles_x = c->tiles_y = 1;
        const char **slots[] = {&c->a, &c->b, &c->c};
        for (int j = 0; j < table[k].nargs; j++) {
            *slots[j] = argv[*i + 1 + j];
        }
        *i += 1 + table[k].nargs;
        if (c->kind == CMD_PIXELS && *i + 1 < argc &&
            strcmp(argv[*i], "--tiles") == 0) {
            if (parse_tiles(argv[*i + 1], c) != 0) {
                return usage_error("bad --tiles (want NxM): %s", argv[*i + 1]);
            }
            *i += 2;
        }
        return 0;
    }
    return usage_error("unknown command: %s", name);
}

static int
parse_client(int argc, char **argv, client_opts *o)
{
    memset(o, 0, sizeof *o);
    o->contact = "parley-rv";
    o->app = "parley-rv";
    o->timeout_s = 10;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) {
            return usage_error("%s needs a value", argv[i]);
        }
        if (strcmp(argv[i], "--contact") == 0) {
            o->contact = argv[i + 1];
        } else if (strcmp(argv[i], "--app") == 0) {
            o->app = argv[i + 1];
        } else if (strcmp(argv[i], "--timeout") == 0) {
            char *end;
            o->timeout_s = strtod(argv[i + 1], &end);
            if (*end || end == argv[i + 1] || !(o->timeout_s > 0) ||
                o->timeout_s > 86400) {
                return usage_error("bad --timeout: %s", argv[i + 1]);
            }
        } else {
            return usage_error("unknown option: %s", argv[i]);
        }
    }
    if (i >= argc) {
        return usage_error("%s", "missing HOST[:PORT]");
    }
    o->host = argv[i++];
    if (i >= argc) {
        return usage_error("%s", "missing COMMAND");
    }
    while (i < argc) {
        if (o->ncmds == 64) {
            return usage_error("%s", "too many commands");
        }
        int rc = parse_cmd(argc, argv, &i, &o->cmds[o->ncmds++]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* ---- files -----------------------------------------------------------------
 */

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            break;
        }
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

typedef struct image {
    int w, h;
    uint8_t *rgba; /* bottom row first, as RV wants */
} image;

/* Skips whitespace and '#' comments in a PPM header. */
static size_t
ppm_skip(const uint8_t *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' ||
                     p[i] == '\t' || p[i] == '#')) {
        if (p[i] == '#') {
            while (i < n && p[i] != '\n') {
                i++;
            }
        } else {
            i++;
        }
    }
    return i;
}

static long
ppm_int(const uint8_t *p, size_t n, size_t *i)
{
    *i = ppm_skip(p, n, *i);
    long v = 0;
    size_t start = *i;
    while (*i < n && p[*i] >= '0' && p[*i] <= '9' && v < 1000000) {
        v = v * 10 + (p[(*i)++] - '0');
    }
    return *i == start ? -1 : v;
}

/* A binary PPM (P6, maxval 255) as RGBA8, rows bottom-up. */
static const char *
load_ppm(const char *path, image *img)
{
    size_t n, i = 2;
    uint8_t *p = read_file(path, &n);
    if (!p) {
        return "cannot read the file";
    }
    long w = -1, h = -1, maxval = -1;
    if (n >= 2 && p[0] == 'P' && p[1] == '6') {
        w = ppm_int(p, n, &i);
        h = ppm_int(p, n, &i);
        maxval = ppm_int(p, n, &i);
    }
    i++; /* the one whitespace byte before the pixels */
    if (w < 1 || h < 1 || w > 65536 || h > 65536 || maxval != 255 || i > n ||
        n - i < (size_t)w * (size_t)h * 3) {
        free(p);
        return "not a binary PPM (P6, maxval 255)";
    }
    img->w = (int)w;
    img->h = (int)h;
    img->rgba = malloc((size_t)w * (size_t)h * 4);
    if (!img->rgba) {
        free(p);
        return "out of memory";
    }
    for (long y = 0; y < h; y++) {
        const uint8_t *src = p + i + (size_t)(h - 1 - y) * (size_t)w * 3;
        uint8_t *dst = img->rgba + (size_t)y * (size_t)w * 4;
        for (long x = 0; x < w; x++) {
            memcpy(dst + x * 4, src + x * 3, 3);
            dst[x * 4 + 3] = 255;
        }
    }
    free(p);
    return NULL;
}

/* ---- running commands ------------------------------------------------------
 */

typedef struct session {
    parley_rv *rv;
    parley_rv_contact c;
    int timeout_ms;
    int listening; /* print what arrives */
    int lost;      /* the contact is gone (1) or left politely (2) */
} session;

/* Handles an event that arrived while doing something else. */
static void
side_event(session *s, parley_rv_event *ev)
{
    if (s->listening) {
        print_event(ev);
    }
    if (ev->type == PARLEY_RV_EV_RETURNEVENT) {
        parley_rv_reply(s->rv, ev->contact, ev->seq, "", 0);
    }
    if (ev->type == PARLEY_RV_EV_DISCONNECT) {
        s->lost = 2;
    } else if (ev->type == PARLEY_RV_EV_CONTACT_LEFT && !s->lost) {
        s->lost = 1;
    }
    parley_rv_event_release(s->rv, ev);
}

/* Handles everything already queued. */
static void
drain_events(session *s)
{
    parley_rv_event ev;
    while (parley_rv_service(s->rv, 0, &ev) == 1) {
        side_event(s, &ev);
    }
}

static int
lost(session *s, const char *what)
{
    (void)s;
    fprintf(stderr, PROG ": %s: connection lost\n", what);
    return EXIT_LOST;
}

static int
call(session *s, const char *name, const char *contents, int print)
{
    parley_rv_event ret;
    int rc = parley_rv_call(s->rv, s->c, name, "*", contents, strlen(contents),
                            s->timeout_ms, &ret);
    drain_events(s);
    if (rc == PARLEY_ETIMEDOUT || rc == PARLEY_EINTR) {
        fprintf(stderr, PROG ": %s: no RETURN in time\n", name);
        return EXIT_NO_RETURN;
    }
    if (rc != PARLEY_OK) {
        return lost(s, name);
    }
    if (print) {
        fwrite(ret.contents, 1, ret.contents_len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    parley_rv_event_release(s->rv, &ret);
    return 0;
}

static int
sent_or_lost(session *s, const char *what)
{
    (void)s;
    int rc = parley_rv_wait_sent(s->rv, s->c, s->timeout_ms);
    drain_events(s);
    if (rc == PARLEY_ETIMEDOUT) {
        fprintf(stderr, PROG ": %s: not sent in time\n", what);
        return EXIT_LOST;
    }
    return rc == PARLEY_OK && s->lost != 1 ? 0 : lost(s, what);
}

static void
free_release(void *user, void *data)
{
    (void)user;
    free(data);
}

static int
run_data(session *s, const cmd *c)
{
    char interp[1024];
    size_t n;
    if (parley_rv_format_dataevent(c->a, NULL, c->b, interp, sizeof interp) <
        0) {
        return usage_error("data: EVENT and CONTENT-TYPE must be words "
                           "without ' ' , ( ): %s",
                           c->a);
    }
    uint8_t *buf = read_file(c->c, &n);
    if (!buf) {
        return usage_error("data: cannot read %s", c->c);
    }
    if (n == 0) {
        free(buf);
        return usage_error("data: %s is empty (RV frames cannot be)", c->c);
    }
    int rc = parley_rv_send_data_owned(s->rv, s->c, interp, buf, n,
                                       free_release, NULL);
    if (rc != PARLEY_OK) {
        free(buf);
        return rc == PARLEY_ENOTCONN ? lost(s, "data") : EXIT_LOST;
    }
    return sent_or_lost(s, "data");
}

/* The remote-eval code that makes RV create the image source (as rvshell
   does, with one view). */
static void
create_source_code(char *buf, size_t cap, const char *media, const image *img)
{
    snprintf(buf, cap,
             "{ let s = newImageSource(\"%s\", %d, %d, %d, %d, 0, 0, 1.0, 4, "
             "8, false, 1, 1, 24.0, nil, nil); "
             "newImageSourcePixels(s, 1, nil, nil); }",
             media, img->w, img->h, img->w, img->h);
}

static int
send_tile(session *s, const char *media, const image *img, int x, int y, int tw,
          int th)
{
    size_t row = (size_t)tw * 4;
    uint8_t *tile = malloc(row * (size_t)th);
    if (!tile) {
        return EXIT_LOST;
    }
    for (int r = 0; r < th; r++) {
        memcpy(tile + (size_t)r * row,
               img->rgba + ((size_t)(y + r) * (size_t)img->w + (size_t)x) * 4,
               row);
    }
    parley_rv_tile t = {tw, th, x, y, 1, NULL, media, NULL, NULL};
    int rc = parley_rv_send_pixels(s->rv, s->c, &t, tile, row * (size_t)th);
    free(tile);
    if (rc != PARLEY_OK) {
        return lost(s, "pixels");
    }
    return sent_or_lost(s, "pixels");
}

static int
send_tiles(session *s, const cmd *c, const image *img)
{
    int nx = c->tiles_x < img->w ? c->tiles_x : img->w;
    int ny = c->tiles_y < img->h ? c->tiles_y : img->h;
    for (int tx = 0; tx < nx; tx++) {
        int tw = img->w / nx, x = tw * tx;
        tw = tx == nx - 1 ? img->w - x : tw;
        for (int ty = 0; ty < ny; ty++) {
            int th = img->h / ny, y = th * ty;
            th = ty == ny - 1 ? img->h - y : th;
            int rc = send_tile(s, c->a, img, x, y, tw, th);
            if (rc != 0) {
                return rc;
            }
        }
    }
    json_t *o = json_object();
    set_cstr(o, "type", "pixels");
    set_cstr(o, "media", c->a);
    set_int(o, "w", img->w);
    set_int(o, "h", img->h);
    set_int(o, "tiles", (long long)nx * ny);
    set_sha(o, img->rgba, (size_t)img->w * (size_t)img->h * 4);
    emit_json(o);
    return 0;
}

static int
run_pixels(session *s, const cmd *c)
{
    image img;
    const char *err = load_ppm(c->b, &img);
    if (err) {
        return usage_error("pixels: %s", err);
    }
    char code[1024];
    create_source_code(code, sizeof code, c->a, &img);
    int rc = parley_rv_set_media_format(s->rv, c->a, 4, 1);
    if (rc == PARLEY_OK) {
        rc = call(s, "remote-eval", code, 0);
    } else {
        rc = usage_error("pixels: bad media name %s", c->a);
    }
    if (rc == 0) {
        rc = send_tiles(s, c, &img);
    }
    if (rc == 0 && parley_rv_send_event(s->rv, s->c, "remote-eval", "*",
                                        "redraw();", 9, 0, NULL) != PARLEY_OK) {
        rc = lost(s, "pixels");
    }
    free(img.rgba);
    return rc;
}

static int
run_listen(session *s)
{
    s->listening = 1;
    drain_events(s);
    while (!g_stop && !s->lost) {
        parley_rv_event ev;
        if (parley_rv_service(s->rv, 1000, &ev) == 1) {
            side_event(s, &ev);
        }
    }
    return s->lost == 1 ? EXIT_LOST : 0;
}

static int
run_cmd(session *s, const cmd *c)
{
    int rc;
    if (s->lost) {
        return lost(s, "send");
    }
    switch (c->kind) {
    case CMD_EVENT:
        rc = parley_rv_send_event(s->rv, s->c, c->a, "*", c->b, strlen(c->b), 0,
                                  NULL);
        if (rc == PARLEY_EINVAL) {
            return usage_error("event: bad event name: %s", c->a);
        }
        return rc == PARLEY_OK ? sent_or_lost(s, "event") : lost(s, "event");
    case CMD_RETURNEVENT:
        return call(s, c->a, c->b, 1);
    case CMD_EVAL:
        return call(s, "remote-eval", c->a, 1);
    case CMD_PYEVAL:
        return call(s, "remote-pyeval", c->a, 1);
    case CMD_DATA:
        return run_data(s, c);
    case CMD_PIXELS:
        return run_pixels(s, c);
    default:
        return run_listen(s);
    }
}

/* Checks what can be checked before connecting: files, images, names.
   0 or EXIT_USAGE (with a message). */
static int
validate(const client_opts *o)
{
    char interp[1024];
    for (int i = 0; i < o->ncmds; i++) {
        const cmd *c = &o->cmds[i];
        if ((c->kind == CMD_EVENT || c->kind == CMD_RETURNEVENT) &&
            (!*c->a || strchr(c->a, ' '))) {
            return usage_error("bad event name (empty or with a space): "
                               "\"%s\"",
                               c->a);
        }
        if (c->kind == CMD_DATA) {
            size_t n;
            uint8_t *buf;
            if (parley_rv_format_dataevent(c->a, NULL, c->b, interp,
                                           sizeof interp) < 0) {
                return usage_error("data: EVENT and CONTENT-TYPE must be "
                                   "words without ' ' , ( ): %s %s",
                                   c->a, c->b);
            }
            buf = read_file(c->c, &n);
            free(buf);
            if (!buf || n == 0) {
                return usage_error("data: cannot read %s, or it is empty",
                                   c->c);
            }
        }
        if (c->kind == CMD_PIXELS) {
            image img;
            const char *err = load_ppm(c->b, &img);
            if (err) {
                return usage_error("pixels: %s: %s", c->b, err);
            }
            free(img.rgba);
            parley_rv_tile t = {1, 1, 0, 0, 1, NULL, c->a, NULL, NULL};
            if (!*c->a ||
                parley_rv_format_pixeltile(&t, interp, sizeof interp) < 0) {
                return usage_error("pixels: bad media name: %s", c->a);
            }
        }
    }
    return 0;
}

/* Connects and waits for the greetings; 0 or an exit code. */
static int
open_session(session *s, const client_opts *o)
{
    int rc = parley_rv_connect(s->rv, o->host, &s->c);
    if (rc == PARLEY_EADDR || rc == PARLEY_EPORT || rc == PARLEY_EINVAL) {
        return usage_error("bad HOST[:PORT]: %s", o->host);
    }
    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": %s: %s\n", o->host, parley_strerror(rc));
        return EXIT_LOST;
    }
    for (;;) {
        parley_rv_event ev;
        rc = parley_rv_service(s->rv, s->timeout_ms, &ev);
        if (rc != 1) {
            fprintf(stderr, PROG ": %s: no greeting in time\n", o->host);
            return EXIT_LOST;
        }
        parley_rv_event_type t = ev.type;
        if (t == PARLEY_RV_EV_CONNECT_FAILED) {
            fprintf(stderr, PROG ": %s: %s\n", o->host, ev.error_text);
        }
        parley_rv_event_release(s->rv, &ev);
        if (t == PARLEY_RV_EV_CONTACT) {
            return 0;
        }
        if (t == PARLEY_RV_EV_CONNECT_FAILED) {
            return EXIT_LOST;
        }
    }
}

static int
client(int argc, char **argv)
{
    client_opts o;
    int rc = parse_client(argc, argv, &o);
    if (rc == 0) {
        rc = validate(&o);
    }
    if (rc != 0) {
        return rc;
    }
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.contact_name = o.contact;
    cfg.app_name = o.app;
    cfg.listen = NULL;
    session s;
    memset(&s, 0, sizeof s);
    s.timeout_ms = (int)(o.timeout_s * 1000);
    rc = parley_rv_create(&cfg, &s.rv);
    if (rc != PARLEY_OK) {
        return usage_error("bad --contact or --app (no spaces; app not "
                           "\"rv\"): %s",
                           o.contact);
    }
    g_rv = s.rv;
    rc = open_session(&s, &o);
    for (int i = 0; rc == 0 && i < o.ncmds; i++) {
        rc = run_cmd(&s, &o.cmds[i]);
    }
    if (!s.lost && parley_rv_contact_state(s.rv, s.c) == PARLEY_RV_READY) {
        parley_rv_sign_off(s.rv, s.c, 2000);
    }
    g_rv = NULL;
    parley_rv_destroy(s.rv);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 &&
        (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage_text, stdout);
        return 0;
    }
    install_signals();
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) {
        return serve(argc, argv);
    }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    return client(argc, argv);
}
