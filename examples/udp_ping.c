/*
 * example_udp_ping: sends numbered datagrams to a UDP echo server (such as
 * example_udp_echo, perhaps behind parley-netem), checks every byte that
 * comes back and prints one line: sent, received, duplicates, reordered,
 * lost, corrupt and round-trip times. Only parley's public API and libc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/parley.h>

#define MAGIC 0x50494e47u /* "PING" */
#define HEADER 16         /* magic (4), sequence (4), send time in us (8) */
#define MAX_DATAGRAM 65536

struct options {
    uint32_t count;
    uint32_t interval_ms;
    uint32_t size;
    uint32_t wait_ms;
    parley_addr target;
};

struct results {
    uint64_t *sent_at; /* per sequence number: when it was sent */
    uint8_t *seen;     /* per sequence number: 1 once an echo came */
    double *rtt_ms;    /* first echo of each sequence number */
    uint32_t sent;
    uint32_t unique;
    uint64_t received;
    uint64_t duplicates;
    uint64_t reordered;
    uint64_t corrupt;
    int64_t highest; /* highest sequence number back so far; -1: none */
};

static const char usage[] =
    "usage: example_udp_ping [--count N] [--interval-ms M] [--size B] "
    "[--wait-ms W] ADDR:PORT\n";

/* The whole datagram follows from its sequence number and send time, so
   the receiver can rebuild it and compare every byte. */
static void
fill(unsigned char *buf, uint32_t size, uint32_t seq, uint64_t sent_us)
{
    for (int i = 0; i < 4; i++) {
        buf[i] = (unsigned char)(MAGIC >> (24 - 8 * i));
        buf[4 + i] = (unsigned char)(seq >> (24 - 8 * i));
    }
    for (int i = 0; i < 8; i++) {
        buf[8 + i] = (unsigned char)(sent_us >> (56 - 8 * i));
    }
    for (uint32_t i = HEADER; i < size; i++) {
        buf[i] = (unsigned char)(seq * 31u + i * 7u + 0x5au);
    }
}

static void
check_echo(struct results *r, const struct options *o, const unsigned char *buf,
           size_t len, uint64_t now)
{
    static unsigned char want[MAX_DATAGRAM];
    uint32_t seq = 0;

    r->received++;
    if (len != o->size) {
        r->corrupt++;
        return;
    }
    for (int i = 4; i < 8; i++) {
        seq = (seq << 8) | buf[i];
    }
    if (seq >= r->sent) {
        r->corrupt++;
        return;
    }
    fill(want, o->size, seq, r->sent_at[seq]);
    if (memcmp(want, buf, len) != 0) {
        r->corrupt++;
        return;
    }
    if (r->seen[seq]) {
        r->duplicates++;
        return;
    }
    r->seen[seq] = 1;
    if ((int64_t)seq < r->highest) {
        r->reordered++;
    } else {
        r->highest = seq;
    }
    r->rtt_ms[r->unique++] = (double)(now - r->sent_at[seq]) / 1000.0;
}

/* Reads every datagram waiting; answers from other addresses are not
   ours and are ignored. */
static void
receive_all(parley_udp *udp, struct results *r, const struct options *o)
{
    static unsigned char buf[MAX_DATAGRAM];
    parley_addr from;
    size_t len;

    while (parley_udp_recv(udp, buf, sizeof buf, &len, &from) == PARLEY_OK) {
        if (parley_addr_equal(&from, &o->target)) {
            check_echo(r, o, buf, len, parley_time_us());
        }
    }
}

/* Sends sequence number r->sent; waits a little while the socket buffer
   is full. Returns PARLEY_OK or the error. */
static int
send_next(parley_udp *udp, struct results *r, const struct options *o)
{
    static unsigned char buf[MAX_DATAGRAM];
    uint64_t now = parley_time_us();
    int rc;

    fill(buf, o->size, r->sent, now);
    rc = parley_udp_send(udp, &o->target, buf, o->size);
    for (int tries = 0; rc == PARLEY_EAGAIN && tries < 1000; tries++) {
        parley_udp_wait(udp, 1);
        receive_all(udp, r, o);
        rc = parley_udp_send(udp, &o->target, buf, o->size);
    }
    if (rc == PARLEY_OK) {
        r->sent_at[r->sent++] = now;
    }
    return rc;
}

/* Sends one datagram every interval while answers come in, then waits
   until all have come back or wait_ms has passed since the last send. */
static int
run(parley_udp *udp, struct results *r, const struct options *o)
{
    uint64_t next_send = parley_time_us();
    uint64_t deadline = 0;

    for (;;) {
        uint64_t now = parley_time_us();
        uint64_t until;

        if (r->sent < o->count && now >= next_send) {
            int rc = send_next(udp, r, o);

            if (rc != PARLEY_OK) {
                fprintf(stderr, "udp_ping: send: %s\n", parley_strerror(rc));
                return -1;
            }
            next_send += (uint64_t)o->interval_ms * 1000;
            receive_all(udp, r, o);
            if (r->sent == o->count) {
                deadline = now + (uint64_t)o->wait_ms * 1000;
            }
            continue;
        }
        if (r->sent == o->count && (r->unique == o->count || now >= deadline)) {
            return 0;
        }
        until = r->sent < o->count ? next_send : deadline;
        parley_udp_wait(udp,
                        until > now ? (int)((until - now + 999) / 1000) : 0);
        receive_all(udp, r, o);
    }
}

static int
compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void
print_summary(struct results *r)
{
    printf("udp_ping: sent=%u received=%llu duplicates=%llu reordered=%llu "
           "lost=%u corrupt=%llu",
           r->sent, (unsigned long long)r->received,
           (unsigned long long)r->duplicates, (unsigned long long)r->reordered,
           r->sent - r->unique, (unsigned long long)r->corrupt);
    if (r->unique == 0) {
        printf(" rtt_ms min=- p50=- p99=- max=-\n");
        return;
    }
    qsort(r->rtt_ms, r->unique, sizeof r->rtt_ms[0], compare_double);
    printf(" rtt_ms min=%.3f p50=%.3f p99=%.3f max=%.3f\n", r->rtt_ms[0],
           r->rtt_ms[(r->unique - 1) * 50 / 100],
           r->rtt_ms[(r->unique - 1) * 99 / 100], r->rtt_ms[r->unique - 1]);
}

/* Reads an unsigned number within lo..hi; strtoul alone would take "-1". */
static int
parse_number(const char *name, const char *text, uint32_t lo, uint32_t hi,
             uint32_t *out)
{
    char *end = NULL;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 ||
        v < lo || v > hi) {
        fprintf(stderr, "udp_ping: %s wants a number in %u..%u, not '%s'\n",
                name, lo, hi, text);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int
parse_args(int argc, char **argv, struct options *o)
{
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        const char *name = argv[i], *v = argv[i + 1];
        int rc;

        if (strcmp(name, "--count") == 0) {
            rc = parse_number(name, v, 1, 1000000, &o->count);
        } else if (strcmp(name, "--interval-ms") == 0) {
            rc = parse_number(name, v, 0, 60000, &o->interval_ms);
        } else if (strcmp(name, "--size") == 0) {
            rc = parse_number(name, v, HEADER, 65000, &o->size);
        } else if (strcmp(name, "--wait-ms") == 0) {
            rc = parse_number(name, v, 0, 600000, &o->wait_ms);
        } else {
            fprintf(stderr, "udp_ping: unknown option '%s'\n", name);
            return -1;
        }
        if (rc != 0) {
            return -1;
        }
    }
    if (i != argc - 1) {
        fprintf(stderr, "udp_ping: ADDR:PORT missing\n");
        return -1;
    }
    i = parley_addr_resolve(argv[argc - 1], 0, PARLEY_AF_UNSPEC, &o->target);
    if (i != PARLEY_OK) {
        fprintf(stderr, "udp_ping: bad address '%s': %s\n", argv[argc - 1],
                parley_strerror(i));
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct options o = {10, 100, 64, 1000, {0}};
    struct results r = {0};
    parley_addr any = {0};
    parley_udp *udp = NULL;
    int rc;

    if (parse_args(argc, argv, &o) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    r.sent_at = calloc(o.count, sizeof r.sent_at[0]);
    r.seen = calloc(o.count, sizeof r.seen[0]);
    r.rtt_ms = calloc(o.count, sizeof r.rtt_ms[0]);
    r.highest = -1;
    any.family = o.target.family; /* the wildcard address, any port */
    rc = r.sent_at && r.seen && r.rtt_ms ? parley_udp_open(&any, 0, &udp)
                                         : PARLEY_ENOMEM;
    if (rc == PARLEY_OK) {
        rc = run(udp, &r, &o) == 0 ? PARLEY_OK : PARLEY_EIO;
        print_summary(&r);
    } else {
        fprintf(stderr, "udp_ping: cannot open a socket: %s\n",
                parley_strerror(rc));
    }
    parley_udp_close(udp);
    free(r.sent_at);
    free(r.seen);
    free(r.rtt_ms);
    /* Success: something came back and all of it was intact. */
    return rc == PARLEY_OK && r.unique > 0 && r.corrupt == 0 ? 0 : 1;
}
