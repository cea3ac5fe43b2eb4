/*
 * parley-bench's workloads (bench_work.c, bench_conns.c): what one run
 * measures, the server role, and the client side of each workload.
 */
#ifndef PARLEY_BENCH_WORK_H
#define PARLEY_BENCH_WORK_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "bench_proc.h"

typedef struct bench_params {
    const bench_ops *ops;
    const char *label; /* "lib=X workload=Y[ netem=Z]", the line's start */
    int is_rtt, is_small, is_bulk, is_conns;
    int reliable;   /* small: reliable or unreliable */
    uint64_t n;     /* rtt round trips, small messages */
    uint64_t bytes; /* bulk: total */
    uint64_t msg;   /* bulk: message size */
    uint64_t k;     /* conns: clients */
    uint64_t secs;  /* conns: sending time; others: cap on the run */
} bench_params;

/* The server role: prints "port=P", serves until SIGTERM or done, prints
   one "srv ..." line. Returns the process exit status. */
int bench_serve(const bench_params *p);

/* The client side of one workload against the server at port; prints the
   result line. srv is the server process, asked for its report. */
int bench_client(const bench_params *p, uint16_t port, bench_child *srv);

/* Asks the server process for its "srv ..." line and reads it. */
int bench_server_report(bench_child *srv, char *line, size_t cap);

/* conns: K client endpoints in this process. */
int bench_conns(const bench_params *p, uint16_t port, bench_child *srv);

#endif
