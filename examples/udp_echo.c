/*
 * example_udp_echo ADDR:PORT: sends every UDP datagram back to its sender.
 * A first program with parley's public UDP API (batched receive and send),
 * and the server that parley-netem's test and `make demo` talk to.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <parley/parley.h>

#define BATCH 16
#define MAX_DATAGRAM 65536

static volatile sig_atomic_t stop_requested;
static unsigned char buffers[BATCH][MAX_DATAGRAM];

static void
on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Without SA_RESTART a signal interrupts parley_udp_wait (PARLEY_EINTR),
   so the loop sees stop_requested at once. */
static void
catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Receives what is waiting and echoes it; adds to the two counters. */
static void
echo_batch(parley_udp *udp, unsigned long long *received,
           unsigned long long *echoed)
{
    parley_datagram dgrams[BATCH];
    size_t got = 0;

    for (size_t i = 0; i < BATCH; i++) {
        dgrams[i].data = buffers[i];
        dgrams[i].len = MAX_DATAGRAM; /* in: capacity; out: length */
    }
    if (parley_udp_recv_batch(udp, dgrams, BATCH, &got) != PARLEY_OK) {
        return;
    }
    *received += got;
    /* Each dgrams[i].addr now holds the sender, so sending the same array
       answers everyone. send_batch stops at the first datagram the socket
       refuses: skip that one (UDP may drop) and send the rest. */
    for (size_t off = 0; off < got;) {
        size_t sent = 0;

        if (parley_udp_send_batch(udp, dgrams + off, got - off, &sent) !=
                PARLEY_OK ||
            sent == 0) {
            off++;
            continue;
        }
        *echoed += sent;
        off += sent;
    }
}

int
main(int argc, char **argv)
{
    parley_addr addr;
    parley_udp *udp = NULL;
    char text[PARLEY_ADDR_STRLEN];
    unsigned long long received = 0, echoed = 0;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: example_udp_echo ADDR:PORT\n");
        return 2;
    }
    rc = parley_addr_resolve(argv[1], 0, PARLEY_AF_UNSPEC, &addr);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "udp_echo: bad address '%s': %s\n", argv[1],
                parley_strerror(rc));
        return 2;
    }
    rc = parley_udp_open(&addr, 0, &udp);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "udp_echo: cannot bind %s: %s\n", argv[1],
                parley_strerror(rc));
        return 1;
    }
    catch_signals();
    parley_udp_local_addr(udp, &addr); /* the real port when given 0 */
    parley_addr_format(&addr, text, sizeof text);
    fprintf(stderr, "udp_echo: listening on %s\n", text);

    while (!stop_requested) {
        /* A signal landing just before the wait is caught by the timeout,
           so Ctrl-C takes at most half a second. */
        if (parley_udp_wait(udp, 500) == PARLEY_OK) {
            echo_batch(udp, &received, &echoed);
        }
    }
    fprintf(stderr, "udp_echo: received=%llu echoed=%llu\n", received, echoed);
    parley_udp_close(udp);
    return 0;
}
