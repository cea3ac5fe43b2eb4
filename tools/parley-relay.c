/*
 * parley-relay: the viznet server as a daemon. Clients join by name; what
 * one sends to all is relayed to every client with the sender's name.
 * Logs joins and departures to stderr, prints per-client statistics with
 * --stats, takes "kick NAME [REASON]" and "list" commands on stdin, and
 * on SIGINT/SIGTERM tells every client before it exits. Connections are
 * encrypted; --key-file admits only clients with the pre-shared key,
 * --identity proves a key pair made with --gen-keys (docs/SECURITY.md).
 * --tcp-port also takes (plain) TCP clients into the same room.
 * Written on the public parley API and POSIX only.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <parley/parley.h>
#include <parley/security.h>
#include <parley/session.h>

#define PROG "parley-relay"
#define MAX_CMD 1024

static const char usage_text[] =
    "usage: parley-relay [options]\n"
    "Relays events between parley session clients (parley-cat, apps built\n"
    "on parley_client): an event a client sends to all reaches every\n"
    "client, the sender included, carrying the sender's name.\n"
    "  --port PORT        UDP port to listen on (default 14950; 0: any)\n"
    "  --tcp-port PORT    also accept clients over TCP on this port (0:\n"
    "                     any), for networks that block UDP; they join\n"
    "                     the same room. TCP is not encrypted, so not\n"
    "                     with --key-file or --identity\n"
    "  --bind ADDR        address to listen on (default 0.0.0.0; :: for\n"
    "                     IPv6 and IPv4)\n"
    "  --max-clients N    clients at once, 1..65536 (default 64)\n"
    "  --stats SECONDS    print a statistics line per client this often\n"
    "  --quiet            do not log clients joining and leaving\n"
    "  --key-file FILE    admit only clients with this pre-shared key: a\n"
    "                     file of 32 raw bytes or 64 hex digits (make one\n"
    "                     with: head -c 32 /dev/urandom > FILE)\n"
    "  --identity DIR     prove the identity key pair in DIR (parley.key,\n"
    "                     or a key file) to clients that --pin it\n"
    "  --gen-keys DIR     write a new identity key pair into DIR\n"
    "                     (parley.key, mode 0600, and parley.pub; never\n"
    "                     overwrites), print the public key, exit\n"
    "  --no-encrypt       plain connections, for trusted LANs; clients\n"
    "                     must use --no-encrypt too\n"
    "  -h, --help         print this text\n"
    "Commands on stdin, one per line:\n"
    "  kick NAME [REASON] remove a client (it is told the reason)\n"
    "  list               print the clients\n"
    "SIGINT or SIGTERM: every client is told the relay stopped; exit 0.\n";

struct options {
    const char *bind;
    uint32_t port;
    uint32_t max_clients;
    double stats_s;
    int quiet;
    int help;
    const char *key_file;
    const char *identity;
    const char *gen_keys;
    int no_encrypt;
    int tcp; /* --tcp-port given */
    uint32_t tcp_port;
};

/* Key material for the host config; it is copied at start. */
struct keys {
    uint8_t psk[PARLEY_KEY_SIZE];
    uint8_t secret[PARLEY_SECRET_KEY_SIZE];
    uint8_t pub[PARLEY_KEY_SIZE];
};

static volatile sig_atomic_t stop_requested;

/* ---- command line ---- */

static int
bad(const char *opt, const char *v, const char *why)
{
    fprintf(stderr, PROG ": %s: '%s' %s\n", opt, v, why);
    fputs(usage_text, stderr);
    return 2;
}

static int
parse_uint(const char *opt, const char *v, uint32_t lo, uint32_t hi,
           uint32_t *out)
{
    char *end = NULL;
    unsigned long long x;

    if (v[0] < '0' || v[0] > '9') {
        return bad(opt, v, "is not a non-negative integer");
    }
    errno = 0;
    x = strtoull(v, &end, 10);
    if (*end != '\0' || errno != 0 || x < lo || x > hi) {
        fprintf(stderr, PROG ": %s: '%s' is outside %u..%u\n", opt, v,
                (unsigned)lo, (unsigned)hi);
        fputs(usage_text, stderr);
        return 2;
    }
    *out = (uint32_t)x;
    return 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            o->help = 1;
            return 0;
        }
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        if (strcmp(a, "--no-encrypt") == 0) {
            o->no_encrypt = 1;
            continue;
        }
        if (strcmp(a, "--port") && strcmp(a, "--tcp-port") &&
            strcmp(a, "--bind") && strcmp(a, "--max-clients") &&
            strcmp(a, "--stats") && strcmp(a, "--key-file") &&
            strcmp(a, "--identity") && strcmp(a, "--gen-keys")) {
            fprintf(stderr, PROG ": unknown option '%s'\n", a);
            fputs(usage_text, stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, PROG ": %s needs a value\n", a);
            fputs(usage_text, stderr);
            return 2;
        }
        v = argv[++i];
        if (strcmp(a, "--key-file") == 0) {
            o->key_file = v;
        } else if (strcmp(a, "--identity") == 0) {
            o->identity = v;
        } else if (strcmp(a, "--gen-keys") == 0) {
            o->gen_keys = v;
        } else if (strcmp(a, "--bind") == 0) {
            parley_addr probe;
            if (parley_addr_parse(v, 1, &probe) != PARLEY_OK) {
                return bad(a, v, "is not an IPv4 or IPv6 address");
            }
            if (parley_addr_parse(v, 0, &probe) == PARLEY_OK) {
                return bad(a, v, "has a port: give it with --port");
            }
            o->bind = v;
        } else if (strcmp(a, "--port") == 0) {
            if (parse_uint(a, v, 0, 65535, &o->port) != 0) {
                return 2;
            }
        } else if (strcmp(a, "--tcp-port") == 0) {
            if (parse_uint(a, v, 0, 65535, &o->tcp_port) != 0) {
                return 2;
            }
            o->tcp = 1;
        } else if (strcmp(a, "--max-clients") == 0) {
            if (parse_uint(a, v, 1, 65536, &o->max_clients) != 0) {
                return 2;
            }
        } else {
            char *end = NULL;
            errno = 0;
            o->stats_s = strtod(v, &end);
            if (end == v || *end || errno || !isfinite(o->stats_s) ||
                o->stats_s < 0.1 || o->stats_s > 86400) {
                return bad(a, v, "is not a number of seconds (0.1..86400)");
            }
        }
    }
    if (o->no_encrypt && (o->key_file || o->identity)) {
        fprintf(stderr, PROG ": --no-encrypt cannot be combined with "
                             "--key-file or --identity\n");
        fputs(usage_text, stderr);
        return 2;
    }
    if (o->tcp && (o->key_file || o->identity)) {
        fprintf(stderr, PROG ": --tcp-port cannot be combined with "
                             "--key-file or --identity (TCP clients are "
                             "not encrypted or authenticated)\n");
        fputs(usage_text, stderr);
        return 2;
    }
    return 0;
}

/* ---- keys ---- */

/* --gen-keys DIR: the exit status. */
static int
gen_keys(const char *dir)
{
    char pub[PARLEY_KEY_HEX_SIZE];
    int rc = parley_keypair_write_dir(dir, pub);

    if (rc == PARLEY_EEXIST) {
        fprintf(stderr,
                PROG ": --gen-keys: %s/parley.key exists; not "
                     "overwriting it\n",
                dir);
        return 1;
    }
    if (rc != PARLEY_OK) {
        fprintf(stderr,
                PROG ": --gen-keys: cannot write a key pair into "
                     "'%s': %s\n",
                dir, parley_strerror(rc));
        return rc == PARLEY_EINVAL ? 2 : 1;
    }
    printf("%s\n", pub);
    fprintf(stderr, PROG ": wrote %s/parley.key (secret) and %s/parley.pub\n",
            dir, dir);
    return 0;
}

/* Loads --key-file and --identity into k and cfg. 0 or exit status 2. */
static int
load_keys(const struct options *o, struct keys *k, parley_host_config *cfg)
{
    char path[4096];
    struct stat st;
    char hex[PARLEY_KEY_HEX_SIZE];
    int rc;

    parley_host_config_init(cfg);
    cfg->encrypt = !o->no_encrypt;
    if (o->key_file != NULL) {
        rc = parley_key_load_file(o->key_file, k->psk);
        if (rc != PARLEY_OK) {
            fprintf(stderr,
                    PROG ": --key-file: cannot use '%s': %s (it must "
                         "hold 32 raw bytes or 64 hex digits)\n",
                    o->key_file,
                    rc == PARLEY_EIO ? "cannot read it" : "malformed key");
            return 2;
        }
        cfg->psk = k->psk;
    }
    if (o->identity == NULL) {
        return 0;
    }
    if (stat(o->identity, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(path, sizeof path, "%s/parley.key", o->identity);
    } else {
        snprintf(path, sizeof path, "%s", o->identity);
    }
    rc = parley_keypair_load_file(path, k->secret, k->pub);
    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": --identity: cannot use '%s': %s\n", path,
                rc == PARLEY_EIO ? "cannot read it" : "not a key file");
        return 2;
    }
    cfg->identity_secret = k->secret;
    parley_key_to_hex(k->pub, hex);
    fprintf(stderr, PROG ": identity %s\n", hex);
    return 0;
}

/* ---- logging ---- */

static void
format_addr(const parley_addr *a, char *buf, size_t cap)
{
    if (parley_addr_format(a, buf, cap) < 0) {
        snprintf(buf, cap, "?");
    }
}

static void
print_stats(parley_server *srv)
{
    parley_client_id ids[256];
    size_t n = parley_server_clients(srv, ids, 256);

    fprintf(stderr, PROG ": stats: %zu client%s\n", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && i < 256; i++) {
        parley_client_info ci;
        char addr[PARLEY_ADDR_STRLEN];

        if (parley_server_client_info(srv, ids[i], &ci) != PARLEY_OK) {
            continue;
        }
        format_addr(&ci.addr, addr, sizeof addr);
        fprintf(stderr,
                PROG ": stats: %s addr=%s rtt_ms=%.1f loss_pct=%.1f "
                     "events_in=%" PRIu64 " events_out=%" PRIu64
                     " bytes_in=%" PRIu64 " bytes_out=%" PRIu64
                     " retransmits=%" PRIu64 " unacked=%" PRIu64 "\n",
                ci.name, addr, (double)ci.stats.srtt_us / 1000.0,
                ci.stats.loss_pct, ci.events_in, ci.events_out,
                ci.stats.bytes_in, ci.stats.bytes_out, ci.stats.retransmits,
                ci.stats.unacked_messages);
    }
}

static void
on_event(const struct options *o, const parley_session_event *ev)
{
    char addr[PARLEY_ADDR_STRLEN];

    format_addr(&ev->addr, addr, sizeof addr);
    switch (ev->type) {
    case PARLEY_SESSION_CLIENT_CONNECT:
        if (!o->quiet) {
            fprintf(stderr, PROG ": %s joined from %s\n", ev->sender, addr);
        }
        break;
    case PARLEY_SESSION_CLIENT_DISCONNECT:
        if (!o->quiet) {
            fprintf(stderr, PROG ": %s left (%s)\n", ev->sender, ev->reason);
        }
        break;
    case PARLEY_SESSION_ERROR:
        fprintf(stderr, PROG ": rejected an event from %s: %s\n", ev->sender,
                ev->reason);
        break;
    default:
        break; /* events were relayed inside the service call */
    }
}

/* ---- stdin commands ---- */

static void
command(parley_server *srv, char *line)
{
    char *save = NULL;
    char *verb = strtok_r(line, " \t\r", &save);
    parley_client_id id;

    if (verb == NULL) {
        return;
    }
    if (strcmp(verb, "list") == 0) {
        print_stats(srv);
    } else if (strcmp(verb, "kick") == 0) {
        char *name = strtok_r(NULL, " \t\r", &save);
        char *reason = strtok_r(NULL, "\r", &save);
        if (name == NULL) {
            fprintf(stderr, PROG ": kick: which client?\n");
        } else if (parley_server_find_client(srv, name, &id) != PARLEY_OK) {
            fprintf(stderr, PROG ": kick: no client named '%s'\n", name);
        } else {
            while (reason && (*reason == ' ' || *reason == '\t')) {
                reason++;
            }
            parley_server_kick(srv, id, reason && *reason ? reason : NULL);
            fprintf(stderr, PROG ": kicked %s\n", name);
        }
    } else {
        fprintf(stderr, PROG ": unknown command '%s' (kick, list)\n", verb);
    }
}

/* Reads stdin; runs each complete line. Returns 0 at end of input. */
static int
read_commands(parley_server *srv, char *buf, size_t *len)
{
    char chunk[4096];
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);

    if (n <= 0) {
        return n < 0 && (errno == EINTR || errno == EAGAIN);
    }
    for (ssize_t i = 0; i < n; i++) {
        if (chunk[i] == '\n') {
            buf[*len] = '\0';
            command(srv, buf);
            *len = 0;
        } else if (*len < MAX_CMD - 1) {
            buf[(*len)++] = chunk[i];
        }
    }
    return 1;
}

/* ---- the loop ---- */

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

static int
start(const struct options *o, const parley_host_config *udp,
      parley_server **srv)
{
    parley_server_config cfg;
    parley_addr local;
    char text[PARLEY_ADDR_STRLEN];
    int rc;

    parley_server_config_init(&cfg);
    cfg.bind_addr = o->bind;
    cfg.port = (uint16_t)o->port;
    cfg.max_clients = o->max_clients;
    cfg.name = "relay";
    cfg.udp = udp;
    cfg.serve_tcp = o->tcp;
    cfg.tcp_port = (uint16_t)o->tcp_port;
    rc = parley_server_start(&cfg, srv);
    if (rc != PARLEY_OK && o->tcp) {
        fprintf(stderr,
                PROG ": cannot listen on %s UDP port %u and TCP port %u: "
                     "%s\n",
                o->bind, (unsigned)o->port, (unsigned)o->tcp_port,
                parley_strerror(rc));
        return 1;
    }
    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": cannot listen on %s port %u: %s\n", o->bind,
                (unsigned)o->port, parley_strerror(rc));
        return 1;
    }
    parley_server_local_addr(*srv, &local);
    format_addr(&local, text, sizeof text);
    if (!udp->encrypt || udp->psk != NULL) {
        fprintf(stderr, PROG ": %s\n",
                udp->psk ? "encrypted; clients need the pre-shared key"
                         : "not encrypted (--no-encrypt)");
    }
    if (o->tcp) {
        fprintf(stderr, PROG ": TCP clients are not encrypted\n");
    }
    fprintf(stderr, PROG ": listening on %s\n", text);
    if (o->tcp) {
        parley_server_local_addr_of(*srv, PARLEY_TRANSPORT_TCP, &local);
        format_addr(&local, text, sizeof text);
        fprintf(stderr, PROG ": listening on %s (tcp)\n", text);
    }
    return 0;
}

/* Serves until a signal; returns 0, or 1 when the socket failed. */
static int
run(const struct options *o, parley_server *srv)
{
    char cmd[MAX_CMD];
    size_t cmd_len = 0;
    int stdin_open = 1;
    uint64_t stats_us = (uint64_t)(o->stats_s * 1e6);
    uint64_t next_stats = parley_time_us() + stats_us;

    while (!stop_requested) {
        struct pollfd pfd[2] = {{parley_server_fd(srv), POLLIN, 0},
                                {STDIN_FILENO, POLLIN, 0}};
        parley_session_event ev;
        int t = parley_server_next_timeout_ms(srv);
        int rc;

        if (t < 0 || t > 100) {
            t = 100;
        }
        if (poll(pfd, stdin_open ? 2 : 1, t) > 0 && stdin_open &&
            (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            stdin_open = read_commands(srv, cmd, &cmd_len);
        }
        while ((rc = parley_server_service(srv, 0, &ev)) == 1) {
            on_event(o, &ev);
        }
        if (rc < 0) {
            fprintf(stderr, PROG ": %s\n", parley_strerror(rc));
            return 1;
        }
        if (stats_us > 0 && parley_time_us() >= next_stats) {
            print_stats(srv);
            next_stats += stats_us;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct options o = {
        "0.0.0.0", PARLEY_SESSION_PORT, 64, 0, 0, 0, NULL, NULL, NULL, 0, 0, 0};
    struct keys keys;
    parley_host_config udp;
    parley_server *srv = NULL;
    int rc = parse_args(argc, argv, &o);

    if (rc != 0) {
        return rc;
    }
    if (o.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (o.gen_keys != NULL) {
        return gen_keys(o.gen_keys);
    }
    rc = load_keys(&o, &keys, &udp);
    if (rc != 0) {
        return rc;
    }
    catch_signals();
    rc = start(&o, &udp, &srv);
    memset(&keys, 0, sizeof keys); /* the host has its own copies */
    if (rc != 0) {
        return 1;
    }
    rc = run(&o, srv);
    fprintf(stderr, PROG ": stopping: telling %zu client%s\n",
            parley_server_clients(srv, NULL, 0),
            parley_server_clients(srv, NULL, 0) == 1 ? "" : "s");
    parley_server_stop(srv);
    fprintf(stderr, PROG ": stopped\n");
    return rc;
}
