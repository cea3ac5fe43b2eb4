/*
 * Process plumbing for parley-bench: starting the server role and
 * parley-netem as child processes that die with us, reading their
 * one-line reports with a deadline, stopping them, CPU pinning, resource
 * use, and key=value parsing of result lines.
 */
#include "bench_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

void
bench_pin(int cpu)
{
    if (cpu < 0) {
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}

uint64_t
bench_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

long
bench_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f == NULL) {
        return 0;
    }
    if (fscanf(f, "%ld %ld", &size, &res) != 2) {
        res = 0;
    }
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

void
bench_raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return;
    }
    if (rl.rlim_cur >= want) {
        return;
    }
    struct rlimit up = {want, want > rl.rlim_max ? want : rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
        return; /* privileged: the hard limit could be raised too */
    }
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
}

int
bench_spawn(char *const argv[], int pin_cpu, int capture_stderr,
            bench_child *out)
{
    int p[2];
    if (pipe(p) != 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(p[1], capture_stderr ? 2 : 1);
        close(p[0]);
        close(p[1]);
        bench_pin(pin_cpu);
        execvp(argv[0], argv);
        fprintf(stderr, "parley-bench: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    out->pid = pid;
    out->fd = p[0];
    out->len = 0;
    return 0;
}

int
bench_read_line(bench_child *c, const char *prefix, int timeout_ms, char *line,
                size_t cap)
{
    uint64_t end = bench_now_us() + (uint64_t)timeout_ms * 1000u;
    for (;;) {
        char *nl;
        while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
            size_t l = (size_t)(nl - c->buf);
            int match = strncmp(c->buf, prefix, strlen(prefix)) == 0 &&
                        l >= strlen(prefix);
            if (match) {
                size_t n = l < cap - 1 ? l : cap - 1;
                memcpy(line, c->buf, n);
                line[n] = '\0';
            }
            memmove(c->buf, nl + 1, c->len - l - 1);
            c->len -= l + 1;
            if (match) {
                return 0;
            }
        }
        uint64_t now = bench_now_us();
        if (now >= end) {
            return -1;
        }
        struct pollfd pf = {c->fd, POLLIN, 0};
        int r = poll(&pf, 1, (int)((end - now) / 1000u) + 1);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        if (c->len == sizeof c->buf) {
            c->len = 0; /* a line too long to be ours */
        }
        ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                continue;
            }
            return -1;
        }
        c->len += (size_t)n;
    }
}

void
bench_stop(bench_child *c, int grace_ms)
{
    if (c->pid <= 0) {
        return;
    }
    kill(c->pid, SIGTERM);
    uint64_t end = bench_now_us() + (uint64_t)grace_ms * 1000u;
    int st;
    while (waitpid(c->pid, &st, WNOHANG) == 0) {
        if (bench_now_us() >= end) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            break;
        }
        usleep(2000);
    }
    c->pid = 0;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

int
bench_kv(const char *line, const char *key, double *out)
{
    size_t kl = strlen(key);
    const char *p = line;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == line || p[-1] == ' ') && p[kl] == '=') {
            char *end;
            errno = 0;
            double v = strtod(p + kl + 1, &end);
            if (end == p + kl + 1 || errno != 0) {
                return -1;
            }
            *out = v;
            return 0;
        }
        p += kl;
    }
    return -1;
}

int
bench_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (text == NULL || *text == '\0' || *text == '-') {
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int
bench_self_dir(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    return 0;
}
