/*
 * Process plumbing for parley-bench (bench_proc.c): children that die with
 * their parent, line reading with deadlines, pinning and resource use.
 */
#ifndef PARLEY_BENCH_PROC_H
#define PARLEY_BENCH_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "bench.h"

typedef struct bench_child {
    pid_t pid;
    int fd; /* its stdout (or stderr) */
    char buf[4096];
    size_t len;
} bench_child;

void bench_pin(int cpu);
uint64_t bench_cpu_us(void);
long bench_rss_kb(void);
void bench_raise_nofile(rlim_t want);
int bench_spawn(char *const argv[], int pin_cpu, int capture_stderr,
                bench_child *out);
/* The next line from the child that starts with prefix, within timeout. */
int bench_read_line(bench_child *c, const char *prefix, int timeout_ms,
                    char *line, size_t cap);
/* SIGTERM, then SIGKILL after grace_ms; reaps it. */
void bench_stop(bench_child *c, int grace_ms);
int bench_kv(const char *line, const char *key, double *out);
int bench_parse_u64(const char *text, uint64_t min, uint64_t max,
                    uint64_t *out);
int bench_self_dir(char *buf, size_t cap);

#endif
