/*
 * parley-netem: a UDP impairment proxy for any UDP program. Datagrams from
 * clients of --listen go to --to and the replies come back, each direction
 * through its own parley link simulator (loss, delay, jitter, duplication,
 * reordering, rate). Written on the public parley API plus POSIX only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <parley/parley.h>

#define PROG "parley-netem"

/* Directions: client -> server is "up", server -> client is "down". */
enum { UP = 0, DOWN = 1 };

/* The longest datagram carried; larger ones are dropped. */
#define MAX_DGRAM 65536
/* Datagrams taken from a socket per recv_batch call. */
#define RX_BATCH 32
/* recv_batch calls per socket per wake-up, so one busy socket cannot
   starve the others or the delivery of due datagrams. */
#define RX_ROUNDS 8
/* Outgoing datagrams are popped into one arena and sent in batches. */
#define TX_BATCH 64
#define TX_ARENA (4 * MAX_DGRAM)
/* Bytes in flight per direction: beyond this new datagrams are dropped,
   so a fast sender on a long delay cannot use unbounded memory. */
#define MAX_HELD_BYTES ((size_t)64 << 20)

#define NO_CLIENT UINT32_MAX

static const char usage_text[] =
    "usage: parley-netem --listen ADDR:PORT --to ADDR:PORT [options]\n"
    "Forwards UDP between the clients of --listen and the server at --to,\n"
    "impairing both directions (each direction separately).\n"
    "  --loss PCT           random loss, 0..100 (fractions allowed)\n"
    "  --delay MS           one-way delay in milliseconds\n"
    "  --jitter MS          the delay varies by up to +-MS\n"
    "  --dup PCT            deliver a datagram twice\n"
    "  --reorder PCT        hold a datagram back so later ones overtake it\n"
    "  --reorder-ms MS      how long it is held (default 10, or --jitter)\n"
    "  --rate BYTES_PER_S   bottleneck rate; 0 (default) is unlimited\n"
    "  --queue BYTES        bottleneck queue, tail drop (default 65536)\n"
    "  --mtu BYTES          path MTU as a UDP payload: longer datagrams are\n"
    "                       dropped, as a router drops a don't-fragment\n"
    "                       packet (default: none; 1472 is Ethernet)\n"
    "  --burst-loss P,R,L   Gilbert-Elliott burst loss: good->bad P%,\n"
    "                       bad->good R%, loss in the bad state L%\n"
    "  --seed N             random seed (default: from the clock)\n"
    "  --idle-timeout S     forget a client after S seconds without\n"
    "                       traffic (default 60)\n"
    "  --max-clients N      clients at once, 1..65536 (default 1024)\n"
    "  -v, --verbose        report clients coming and going\n"
    "  -h, --help           print this text\n";

struct options {
    const char *listen_text;
    const char *to_text;
    parley_addr listen;
    parley_addr to;
    parley_sim_config sim;
    uint64_t seed;
    int have_seed;
    double idle_timeout_s;
    uint32_t max_clients;
    int verbose;
    int help;
};

/* One client: its address and the socket that speaks for it upstream. */
struct client {
    parley_addr addr;
    parley_udp *up;   /* bound to an ephemeral port of --to's family */
    uint64_t last_us; /* last datagram in either direction */
    uint32_t next;    /* next slot in the same hash bucket */
    uint32_t pos;     /* index in active[] */
};

/* Clients in fixed slots, a chained hash by address, a dense list of the
   slots in use (for poll and the idle sweep) and a stack of free slots. */
struct table {
    struct client *slots;
    uint32_t cap;
    uint32_t *heads;
    uint32_t mask;
    uint32_t *active;
    uint32_t count;
    uint32_t *free_slots;
    uint32_t nfree;
    uint32_t salt;
};

struct netem {
    struct options opt;
    parley_udp *listen;
    parley_sim *sim[2];
    uint64_t forwarded[2];
    uint64_t dropped[2]; /* lost outside the simulator (see the docs) */
    struct table clients;
    uint64_t idle_us;
    uint64_t next_sweep_us;
    parley_datagram rx[RX_BATCH];
    unsigned char *rx_bufs;
    parley_datagram tx[TX_BATCH];
    size_t ntx;
    size_t arena_used;
    unsigned char *arena;
    struct pollfd *pfd;
    int sig_fd;
    int full_warned;
    int open_warned;
};

static int signal_write_fd = -1;

/* ---- command line ---- */

static int
bad_value(const char *opt, const char *text, const char *why)
{
    fprintf(stderr, PROG ": %s: '%s' %s\n", opt, text, why);
    return -1;
}

static int
parse_double(const char *opt, const char *text, double lo, double hi,
             double *out)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        return bad_value(opt, text, "is not a number");
    }
    if (v < lo || v > hi) {
        fprintf(stderr, PROG ": %s: %s is outside %g..%g\n", opt, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int
parse_u64(const char *opt, const char *text, uint64_t lo, uint64_t hi,
          uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    /* strtoull would accept "-1" (as a huge number) and leading spaces. */
    if (text[0] < '0' || text[0] > '9') {
        return bad_value(opt, text, "is not a non-negative integer");
    }
    errno = 0;
    v = strtoull(text, &end, 10);
    if (*end != '\0') {
        return bad_value(opt, text, "is not a non-negative integer");
    }
    if (errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, PROG ": %s: %s is outside %llu..%llu\n", opt, text,
                (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int
parse_u32(const char *opt, const char *text, uint32_t lo, uint32_t hi,
          uint32_t *out)
{
    uint64_t v;

    if (parse_u64(opt, text, lo, hi, &v) != 0) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* "P,R,LOSS_BAD": three percentages separated by commas. */
static int
parse_burst(const char *opt, const char *text, parley_sim_config *cfg)
{
    double v[3];
    const char *p = text;

    for (int i = 0; i < 3; i++) {
        char *end = NULL;
        char want = i < 2 ? ',' : '\0';

        errno = 0;
        v[i] = strtod(p, &end);
        if (end == p || *end != want || errno == ERANGE || !isfinite(v[i])) {
            return bad_value(opt, text, "is not P,R,LOSS_BAD");
        }
        if (v[i] < 0.0 || v[i] > 100.0) {
            return bad_value(opt, text, "has a percentage outside 0..100");
        }
        p = end + 1;
    }
    cfg->ge_p_pct = v[0];
    cfg->ge_r_pct = v[1];
    cfg->ge_loss_bad_pct = v[2];
    return 0;
}

static int
parse_addr(const char *opt, const char *text, parley_addr *out)
{
    int rc = parley_addr_resolve(text, 0, PARLEY_AF_UNSPEC, out);

    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": %s: cannot use '%s': %s\n", opt, text,
                parley_strerror(rc));
        return -1;
    }
    return 0;
}

/* Options that take a value, in one place so that the usage and the
   parser cannot disagree on what needs an argument. */
static const char *const value_options[] = {
    "--listen",       "--to",          "--loss",       "--delay",
    "--jitter",       "--dup",         "--reorder",    "--reorder-ms",
    "--rate",         "--queue",       "--burst-loss", "--seed",
    "--idle-timeout", "--max-clients", "--mtu",        NULL};

static int
takes_value(const char *name)
{
    for (int i = 0; value_options[i] != NULL; i++) {
        if (strcmp(name, value_options[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
apply_impairment(struct options *o, const char *name, const char *v)
{
    parley_sim_config *c = &o->sim;
    const uint32_t max_ms = 3600 * 1000;

    if (strcmp(name, "--loss") == 0) {
        return parse_double(name, v, 0.0, 100.0, &c->loss_pct);
    } else if (strcmp(name, "--dup") == 0) {
        return parse_double(name, v, 0.0, 100.0, &c->dup_pct);
    } else if (strcmp(name, "--reorder") == 0) {
        return parse_double(name, v, 0.0, 100.0, &c->reorder_pct);
    } else if (strcmp(name, "--delay") == 0) {
        return parse_u32(name, v, 0, max_ms, &c->latency_ms);
    } else if (strcmp(name, "--jitter") == 0) {
        return parse_u32(name, v, 0, max_ms, &c->jitter_ms);
    } else if (strcmp(name, "--reorder-ms") == 0) {
        return parse_u32(name, v, 0, max_ms, &c->reorder_ms);
    } else if (strcmp(name, "--rate") == 0) {
        return parse_u64(name, v, 0, UINT64_C(1) << 40, &c->rate_bytes_per_s);
    } else if (strcmp(name, "--burst-loss") == 0) {
        return parse_burst(name, v, c);
    } else if (strcmp(name, "--mtu") == 0) {
        uint32_t mtu;
        if (parse_u32(name, v, 68, MAX_DGRAM, &mtu) != 0) {
            return -1;
        }
        c->path_mtu = mtu;
        return 0;
    } else {
        uint64_t q;

        if (parse_u64(name, v, 0, MAX_HELD_BYTES, &q) != 0) {
            return -1;
        }
        c->queue_bytes = (size_t)q;
        return 0;
    }
}

static int
apply_option(struct options *o, const char *name, const char *v)
{
    if (strcmp(name, "--listen") == 0) {
        o->listen_text = v;
        return parse_addr(name, v, &o->listen);
    } else if (strcmp(name, "--to") == 0) {
        o->to_text = v;
        return parse_addr(name, v, &o->to);
    } else if (strcmp(name, "--seed") == 0) {
        o->have_seed = 1;
        return parse_u64(name, v, 0, UINT64_MAX, &o->seed);
    } else if (strcmp(name, "--idle-timeout") == 0) {
        return parse_double(name, v, 0.001, 86400.0, &o->idle_timeout_s);
    } else if (strcmp(name, "--max-clients") == 0) {
        return parse_u32(name, v, 1, 65536, &o->max_clients);
    }
    return apply_impairment(o, name, v);
}

/* Accepts "--name value" and "--name=value". Returns 0, or -1 after
   printing what is wrong. */
static int
parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        char name[32];
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        const char *value = NULL;
        size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            o->help = 1;
            return 0;
        }
        if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            o->verbose = 1;
            continue;
        }
        if (len >= sizeof name) {
            len = sizeof name - 1;
        }
        memcpy(name, arg, len);
        name[len] = '\0';
        if (!takes_value(name)) {
            fprintf(stderr, PROG ": unknown option '%s'\n", arg);
            return -1;
        }
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, PROG ": %s needs a value\n", name);
            return -1;
        }
        if (apply_option(o, name, value) != 0) {
            return -1;
        }
    }
    if (o->listen_text == NULL || o->to_text == NULL) {
        fprintf(stderr, PROG ": %s is required\n",
                o->listen_text == NULL ? "--listen" : "--to");
        return -1;
    }
    return 0;
}

/* ---- clients ---- */

static uint32_t
addr_hash(const parley_addr *a, uint32_t salt)
{
    uint32_t h = 2166136261u ^ salt;
    size_t n = a->family == PARLEY_AF_INET ? 4 : 16;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ a->ip[i]) * 16777619u;
    }
    h = (h ^ a->port) * 16777619u;
    h = (h ^ a->scope_id) * 16777619u;
    return h ^ (h >> 15);
}

static int
table_init(struct table *t, uint32_t cap, uint32_t salt)
{
    uint32_t nb = 1;

    while (nb < 2 * cap) {
        nb <<= 1;
    }
    memset(t, 0, sizeof *t);
    t->slots = calloc(cap, sizeof *t->slots);
    t->heads = malloc(nb * sizeof *t->heads);
    t->active = calloc(cap, sizeof *t->active);
    t->free_slots = calloc(cap, sizeof *t->free_slots);
    if (!t->slots || !t->heads || !t->active || !t->free_slots) {
        return -1;
    }
    for (uint32_t i = 0; i < nb; i++) {
        t->heads[i] = NO_CLIENT;
    }
    for (uint32_t i = 0; i < cap; i++) {
        t->free_slots[i] = cap - 1 - i;
    }
    t->cap = cap;
    t->nfree = cap;
    t->mask = nb - 1;
    t->salt = salt;
    return 0;
}

static void
table_free(struct table *t)
{
    for (uint32_t i = 0; i < t->count; i++) {
        parley_udp_close(t->slots[t->active[i]].up);
    }
    free(t->slots);
    free(t->heads);
    free(t->active);
    free(t->free_slots);
}

static struct client *
table_find(const struct table *t, const parley_addr *a)
{
    uint32_t i = t->heads[addr_hash(a, t->salt) & t->mask];

    while (i != NO_CLIENT) {
        if (parley_addr_equal(&t->slots[i].addr, a)) {
            return &t->slots[i];
        }
        i = t->slots[i].next;
    }
    return NULL;
}

static void
table_remove(struct table *t, struct client *c)
{
    uint32_t slot = (uint32_t)(c - t->slots);
    uint32_t *link = &t->heads[addr_hash(&c->addr, t->salt) & t->mask];
    uint32_t moved;

    while (*link != slot) {
        link = &t->slots[*link].next;
    }
    *link = c->next;
    moved = t->active[--t->count];
    t->active[c->pos] = moved;
    t->slots[moved].pos = c->pos;
    parley_udp_close(c->up);
    memset(c, 0, sizeof *c);
    t->free_slots[t->nfree++] = slot;
}

/* With -v: "client ADDR added (upstream ADDR:PORT, N now)" or
   "client ADDR forgotten (N now)". up is NULL for the latter. */
static void
log_client(const struct netem *n, const parley_addr *a, const parley_udp *up)
{
    char text[PARLEY_ADDR_STRLEN], up_text[PARLEY_ADDR_STRLEN];
    parley_addr local;

    if (!n->opt.verbose) {
        return;
    }
    parley_addr_format(a, text, sizeof text);
    if (up == NULL) {
        fprintf(stderr, PROG ": client %s forgotten (%u now)\n", text,
                (unsigned)n->clients.count);
        return;
    }
    parley_udp_local_addr(up, &local);
    parley_addr_format(&local, up_text, sizeof up_text);
    fprintf(stderr, PROG ": client %s added (upstream %s, %u now)\n", text,
            up_text, (unsigned)n->clients.count);
}

/* The client for address a, created (with its upstream socket) when new.
   NULL when the table is full or the socket cannot be opened. */
static struct client *
client_get(struct netem *n, const parley_addr *a, uint64_t now)
{
    struct table *t = &n->clients;
    struct client *c = table_find(t, a);
    parley_addr any;
    parley_udp *up = NULL;
    uint32_t slot, bucket;
    int rc;

    if (c != NULL) {
        return c;
    }
    if (t->nfree == 0) {
        if (!n->full_warned && n->opt.verbose) {
            fprintf(stderr,
                    PROG ": client table full (%u): dropping "
                         "datagrams from new clients\n",
                    (unsigned)t->cap);
        }
        n->full_warned = 1;
        return NULL;
    }
    memset(&any, 0, sizeof any); /* the wildcard address, port 0 */
    any.family = n->opt.to.family;
    rc = parley_udp_open(&any, 0, &up);
    if (rc != PARLEY_OK) {
        if (!n->open_warned) { /* once, not once per datagram */
            fprintf(stderr, PROG ": cannot open an upstream socket: %s\n",
                    parley_strerror(rc));
        }
        n->open_warned = 1;
        return NULL;
    }
    n->open_warned = 0;
    slot = t->free_slots[--t->nfree];
    bucket = addr_hash(a, t->salt) & t->mask;
    c = &t->slots[slot];
    c->addr = *a;
    c->up = up;
    c->last_us = now;
    c->next = t->heads[bucket];
    c->pos = t->count;
    t->heads[bucket] = slot;
    t->active[t->count++] = slot;
    if (now + n->idle_us < n->next_sweep_us) {
        n->next_sweep_us = now + n->idle_us;
    }
    n->full_warned = 0;
    log_client(n, a, up);
    return c;
}

/* Forgets clients idle for the timeout; remembers when to look again. */
static void
sweep_idle(struct netem *n, uint64_t now)
{
    struct table *t = &n->clients;
    uint64_t next = UINT64_MAX;
    uint32_t i = 0;

    if (now < n->next_sweep_us) {
        return;
    }
    while (i < t->count) {
        struct client *c = &t->slots[t->active[i]];

        if (now - c->last_us >= n->idle_us) {
            parley_addr gone = c->addr;

            table_remove(t, c); /* moves the last client to index i */
            log_client(n, &gone, NULL);
            continue;
        }
        if (c->last_us + n->idle_us < next) {
            next = c->last_us + n->idle_us;
        }
        i++;
    }
    n->next_sweep_us = next;
}

/* ---- datagrams ---- */

static void
push(struct netem *n, int dir, uint64_t now, const parley_datagram *d,
     const parley_addr *from, const parley_addr *to)
{
    parley_sim_stats st;

    parley_sim_get_stats(n->sim[dir], &st);
    if (d->truncated || st.held_bytes + d->len > MAX_HELD_BYTES ||
        parley_sim_push(n->sim[dir], now, d->data, d->len, from, to) !=
            PARLEY_OK) {
        n->dropped[dir]++;
    }
}

/* Takes one batch from udp into n->rx; returns how many arrived. */
static size_t
receive(struct netem *n, parley_udp *udp)
{
    size_t got = 0;

    for (size_t i = 0; i < RX_BATCH; i++) {
        n->rx[i].data = n->rx_bufs + i * MAX_DGRAM;
        n->rx[i].len = MAX_DGRAM;
        n->rx[i].truncated = 0;
    }
    if (parley_udp_recv_batch(udp, n->rx, RX_BATCH, &got) != PARLEY_OK) {
        return 0;
    }
    return got;
}

static void
read_clients(struct netem *n, uint64_t now)
{
    for (int round = 0; round < RX_ROUNDS; round++) {
        size_t got = receive(n, n->listen);

        for (size_t i = 0; i < got; i++) {
            const parley_datagram *d = &n->rx[i];
            struct client *c = client_get(n, &d->addr, now);

            if (c == NULL) {
                n->dropped[UP]++;
                continue;
            }
            c->last_us = now;
            push(n, UP, now, d, &c->addr, NULL);
        }
        if (got < RX_BATCH) {
            return;
        }
    }
}

/* Replies are accepted only from the --to address: anyone else who finds
   the upstream port gets nothing through. */
static void
read_upstream(struct netem *n, struct client *c, uint64_t now)
{
    for (int round = 0; round < RX_ROUNDS; round++) {
        size_t got = receive(n, c->up);

        for (size_t i = 0; i < got; i++) {
            const parley_datagram *d = &n->rx[i];

            if (!parley_addr_equal(&d->addr, &n->opt.to)) {
                n->dropped[DOWN]++;
                continue;
            }
            c->last_us = now;
            push(n, DOWN, now, d, NULL, &c->addr);
        }
        if (got < RX_BATCH) {
            return;
        }
    }
}

/* Sends the batch through udp. A datagram the socket refuses (its buffer
   is full, the route is gone) is dropped, as a real link would. */
static void
flush(struct netem *n, int dir, parley_udp *udp)
{
    size_t off = 0;

    while (off < n->ntx) {
        size_t sent = 0;
        int rc = parley_udp_send_batch(udp, n->tx + off, n->ntx - off, &sent);

        if (rc != PARLEY_OK || sent == 0) {
            n->dropped[dir]++;
            off++;
            continue;
        }
        n->forwarded[dir] += sent;
        off += sent;
    }
    n->ntx = 0;
    n->arena_used = 0;
}

/* Pops the next due datagram of dir into the arena as n->tx[n->ntx].
   Returns 1 when one was taken, 0 when nothing is due or the arena must
   be flushed first (*full set). */
static int
pop_one(struct netem *n, int dir, uint64_t now, parley_addr *from, int *full)
{
    parley_datagram *d = &n->tx[n->ntx];
    size_t len = 0;
    int rc;

    *full = 0;
    rc = parley_sim_pop(n->sim[dir], now, n->arena + n->arena_used,
                        TX_ARENA - n->arena_used, &len, from, &d->addr);
    if (rc == PARLEY_ETRUNC && n->ntx > 0) {
        *full = 1;
        return 0;
    }
    if (rc != PARLEY_OK) {
        return 0; /* EAGAIN; ETRUNC on an empty arena cannot happen */
    }
    d->data = n->arena + n->arena_used;
    d->len = len;
    d->truncated = 0;
    n->arena_used += len;
    return 1;
}

static void
deliver_down(struct netem *n, uint64_t now)
{
    for (;;) {
        int full;

        if (pop_one(n, DOWN, now, NULL, &full)) {
            if (++n->ntx == TX_BATCH) {
                flush(n, DOWN, n->listen);
            }
        } else if (full) {
            flush(n, DOWN, n->listen);
        } else {
            break;
        }
    }
    flush(n, DOWN, n->listen);
}

/* Up: consecutive datagrams of one client go out in one batch through its
   upstream socket; a client forgotten meanwhile loses its datagram. */
static void
deliver_up(struct netem *n, uint64_t now)
{
    struct client *batch_owner = NULL;

    for (;;) {
        parley_addr from;
        struct client *c;
        int full;

        if (!pop_one(n, UP, now, &from, &full)) {
            if (!full) {
                break;
            }
            flush(n, UP, batch_owner->up);
            continue;
        }
        c = table_find(&n->clients, &from);
        if (c == NULL) {
            n->arena_used -= n->tx[n->ntx].len;
            n->dropped[UP]++;
            continue;
        }
        if (c != batch_owner && n->ntx > 0) {
            /* Send the previous client's batch; keep the new datagram. */
            parley_datagram keep = n->tx[n->ntx];

            flush(n, UP, batch_owner->up);
            memmove(n->arena, keep.data, keep.len);
            keep.data = n->arena;
            n->tx[0] = keep;
            n->arena_used = keep.len;
        }
        batch_owner = c;
        n->tx[n->ntx].addr = n->opt.to;
        if (++n->ntx == TX_BATCH) {
            flush(n, UP, c->up);
        }
    }
    if (n->ntx > 0) {
        flush(n, UP, batch_owner->up);
    }
}

/* ---- signals: a self-pipe, so a signal always wakes poll() ---- */

static void
on_signal(int sig)
{
    int saved = errno;
    char byte = (char)sig;

    if (write(signal_write_fd, &byte, 1) < 0) {
        /* The pipe is full: a wake-up is already pending. */
    }
    errno = saved;
}

static int
catch_signals(int fds[2])
{
    struct sigaction sa;

    if (pipe(fds) != 0) {
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    signal_write_fd = fds[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGTERM, &sa, NULL) != 0) {
        return -1;
    }
    return 0;
}

/* ---- set-up and the loop ---- */

static uint64_t
splitmix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static int
open_sims(struct netem *n)
{
    for (int dir = UP; dir <= DOWN; dir++) {
        parley_sim_config cfg = n->opt.sim;
        int rc;

        /* Each direction its own random sequence, both from --seed. */
        cfg.seed = splitmix64(n->opt.seed + (uint64_t)dir);
        cfg.max_datagram = MAX_DGRAM;
        rc = parley_sim_create(&cfg, &n->sim[dir]);
        if (rc != PARLEY_OK) {
            fprintf(stderr, PROG ": cannot create the simulator: %s\n",
                    parley_strerror(rc));
            return -1;
        }
    }
    return 0;
}

static void
print_config(const struct netem *n)
{
    const parley_sim_config *c = &n->opt.sim;
    char to[PARLEY_ADDR_STRLEN];

    parley_addr_format(&n->opt.to, to, sizeof to);
    fprintf(stderr,
            PROG ": to %s, each way: loss %g%% delay %u ms jitter %u ms "
                 "dup %g%% reorder %g%% rate %llu B/s",
            to, c->loss_pct, (unsigned)c->latency_ms, (unsigned)c->jitter_ms,
            c->dup_pct, c->reorder_pct,
            (unsigned long long)c->rate_bytes_per_s);
    if (c->ge_p_pct > 0.0) {
        fprintf(stderr, " burst-loss %g,%g,%g", c->ge_p_pct, c->ge_r_pct,
                c->ge_loss_bad_pct);
    }
    fprintf(stderr, ", seed %llu\n", (unsigned long long)n->opt.seed);
}

/* Each client holds a socket: lift the soft descriptor limit as far as the
   hard one allows, so the default 1024 clients fit under a default
   soft limit of 1024. If it stays too low, new clients are refused. */
static void
raise_fd_limit(uint32_t max_clients)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_clients + 64;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) {
        return;
    }
    rl.rlim_cur =
        rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* Opens everything; returns 0, or the exit status after printing why. */
static int
setup(struct netem *n, int sig_fds[2])
{
    parley_addr local;
    char text[PARLEY_ADDR_STRLEN];
    int flags = 0;
    int rc;

    n->rx_bufs = malloc((size_t)RX_BATCH * MAX_DGRAM);
    n->arena = malloc(TX_ARENA);
    n->pfd = calloc((size_t)n->opt.max_clients + 2, sizeof *n->pfd);
    if (!n->rx_bufs || !n->arena || !n->pfd ||
        table_init(&n->clients, n->opt.max_clients,
                   (uint32_t)splitmix64(parley_time_us())) != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    if (open_sims(n) != 0) {
        return 1;
    }
    raise_fd_limit(n->opt.max_clients);
    /* "[::]:PORT" serves IPv4 clients too, where the OS allows. */
    if (n->opt.listen.family == PARLEY_AF_INET6) {
        flags |= PARLEY_UDP_DUALSTACK;
    }
    rc = parley_udp_open(&n->opt.listen, flags, &n->listen);
    if (rc != PARLEY_OK) {
        fprintf(stderr, PROG ": cannot listen on %s: %s\n", n->opt.listen_text,
                parley_strerror(rc));
        return 1;
    }
    parley_udp_local_addr(n->listen, &local);
    if (parley_addr_equal(&local, &n->opt.to)) {
        fprintf(stderr, PROG ": --to is the listen address itself\n");
        return 2;
    }
    if (catch_signals(sig_fds) != 0) {
        fprintf(stderr, PROG ": cannot set up signals\n");
        return 1;
    }
    n->sig_fd = sig_fds[0];
    print_config(n);
    parley_addr_format(&local, text, sizeof text);
    fprintf(stderr, PROG ": listening on %s\n", text);
    return 0;
}

/* Milliseconds until the next datagram falls due or a client may expire,
   rounded up so that poll never wakes early; -1 when nothing is pending,
   so an idle proxy sleeps. */
static int
poll_timeout_ms(const struct netem *n, uint64_t now)
{
    uint64_t due = n->next_sweep_us;

    for (int dir = UP; dir <= DOWN; dir++) {
        uint64_t d = parley_sim_next_due_us(n->sim[dir]);

        if (d < due) {
            due = d;
        }
    }
    if (due == UINT64_MAX) {
        return -1;
    }
    if (due <= now) {
        return 0;
    }
    if ((due - now) / 1000 >= (uint64_t)INT_MAX) {
        return INT_MAX;
    }
    return (int)((due - now + 999) / 1000);
}

/* Waits for input and reads it. Returns 0 to go on, 1 when a signal asks
   to stop, -1 when poll fails. */
static int
wait_and_read(struct netem *n)
{
    struct table *t = &n->clients;
    nfds_t nfds = 2 + t->count;
    uint32_t count = t->count;
    uint64_t now;

    n->pfd[0] = (struct pollfd){.fd = n->sig_fd, .events = POLLIN};
    n->pfd[1] =
        (struct pollfd){.fd = parley_udp_fd(n->listen), .events = POLLIN};
    for (uint32_t i = 0; i < count; i++) {
        n->pfd[2 + i] = (struct pollfd){
            .fd = parley_udp_fd(t->slots[t->active[i]].up), .events = POLLIN};
    }
    if (poll(n->pfd, nfds, poll_timeout_ms(n, parley_time_us())) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
            return -1;
        }
        return 0; /* the signal's byte is read on the next turn */
    }
    if (n->pfd[0].revents != 0) {
        return 1;
    }
    now = parley_time_us();
    /* Upstream sockets first: reading the listen socket adds clients at
       the end of active[], which leaves the indices above intact. */
    for (uint32_t i = 0; i < count; i++) {
        if (n->pfd[2 + i].revents != 0) {
            read_upstream(n, &t->slots[t->active[i]], now);
        }
    }
    if (n->pfd[1].revents != 0) {
        read_clients(n, now);
    }
    return 0;
}

static void
print_summary(const struct netem *n)
{
    parley_sim_stats st[2];

    for (int dir = UP; dir <= DOWN; dir++) {
        parley_sim_get_stats(n->sim[dir], &st[dir]);
    }
    fprintf(stderr,
            PROG ": up: forwarded=%llu dropped=%llu duplicated=%llu "
                 "reordered=%llu down: forwarded=%llu dropped=%llu "
                 "duplicated=%llu reordered=%llu\n",
            (unsigned long long)n->forwarded[UP],
            (unsigned long long)(n->dropped[UP] + st[UP].dropped_loss +
                                 st[UP].dropped_queue + st[UP].dropped_mtu),
            (unsigned long long)st[UP].duplicated,
            (unsigned long long)st[UP].reordered,
            (unsigned long long)n->forwarded[DOWN],
            (unsigned long long)(n->dropped[DOWN] + st[DOWN].dropped_loss +
                                 st[DOWN].dropped_queue + st[DOWN].dropped_mtu),
            (unsigned long long)st[DOWN].duplicated,
            (unsigned long long)st[DOWN].reordered);
}

static void
teardown(struct netem *n, int sig_fds[2])
{
    if (n->clients.slots != NULL) {
        table_free(&n->clients);
    }
    parley_udp_close(n->listen);
    parley_sim_destroy(n->sim[UP]);
    parley_sim_destroy(n->sim[DOWN]);
    free(n->rx_bufs);
    free(n->arena);
    free(n->pfd);
    for (int i = 0; i < 2; i++) {
        if (sig_fds[i] >= 0) {
            close(sig_fds[i]);
        }
    }
}

static void
log_to_stderr(void *user, parley_log_level level, const char *module,
              const char *msg)
{
    (void)user;
    (void)level;
    fprintf(stderr, PROG ": [%s] %s\n", module, msg);
}

int
main(int argc, char **argv)
{
    static struct netem n; /* large; zeroed */
    int sig_fds[2] = {-1, -1};
    int status;

    parley_sim_config_init(&n.opt.sim);
    n.opt.idle_timeout_s = 60.0;
    n.opt.max_clients = 1024;
    if (parse_args(argc, argv, &n.opt) != 0) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (n.opt.help) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!n.opt.have_seed) {
        n.opt.seed = splitmix64(parley_time_us() ^ (uint64_t)getpid());
    }
    if (n.opt.verbose) {
        parley_log_set(log_to_stderr, NULL, PARLEY_LOG_INFO);
    }
    n.idle_us = (uint64_t)(n.opt.idle_timeout_s * 1e6);
    n.next_sweep_us = UINT64_MAX;
    status = setup(&n, sig_fds);
    if (status == 0) {
        int rc;

        do {
            uint64_t now = parley_time_us();

            deliver_up(&n, now);
            deliver_down(&n, now);
            sweep_idle(&n, now);
        } while ((rc = wait_and_read(&n)) == 0);
        print_summary(&n);
        status = rc < 0 ? 1 : 0;
    }
    teardown(&n, sig_fds);
    return status;
}
