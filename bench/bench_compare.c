/*
 * parley-bench compare: every workload for parley and ENet alternately
 * (A B A B ..., each run its own `parley-bench run` process with its own
 * timeout), the raw-socket limit once per pair where it applies, each
 * result line echoed, then one "compare ..." line per workload with the
 * medians and the median of the per-pair ratios parley/ENet.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_work.h"

#define MIB (1024ull * 1024ull)
#define MAX_PAIRS 15

typedef struct entry {
    const char *name, *workload, *netem, *metric, *raw;
    int lower_better;
    uint64_t n, bytes, k, secs;     /* full run; 0: the default */
    uint64_t qn, qbytes, qk, qsecs; /* --quick */
} entry;

static const entry entries[] = {
    {"rtt", "rtt", NULL, "p50_us", "udp", 1, 10000, 0, 0, 0, 1000, 0, 0, 0},
    {"rtt1core", "rtt1core", NULL, "p50_us", "udp", 1, 10000, 0, 0, 0, 1000, 0,
     0, 0},
    {"small_rel", "small_rel", NULL, "msgs_s", "tcp", 0, 1000000, 0, 0, 0,
     100000, 0, 0, 0},
    {"small_unrel", "small_unrel", NULL, "msgs_s", "udp", 0, 1000000, 0, 0, 0,
     100000, 0, 0, 0},
    {"bulk", "bulk", NULL, "mb_s", "tcp", 0, 0, 64 * MIB, 0, 0, 0, 8 * MIB, 0,
     0},
    {"bulk_loss5", "bulk", "--loss 5 --mtu 1472", "mb_s", NULL, 0, 0, 16 * MIB,
     0, 30, 0, 2 * MIB, 0, 8},
    {"bulk_rtt20", "bulk", "--delay 10 --mtu 1472", "mb_s", NULL, 0, 0,
     32 * MIB, 0, 40, 0, 1 * MIB, 0, 8},
    {"bulk_rtt20_loss5", "bulk", "--delay 10 --loss 5 --mtu 1472", "mb_s", NULL,
     0, 0, 8 * MIB, 0, 40, 0, 1 * MIB, 0, 8},
    /* 5 s rather than the 10 s so that three pairs fit in the
       five minutes; conns at 10,000 runs the full 10 s (scripts/bench.sh). */
    {"conns_100", "conns", NULL, "srv_us_per_msg", NULL, 1, 0, 0, 100, 5, 0, 0,
     100, 2},
    {"conns_1000", "conns", NULL, "srv_us_per_msg", NULL, 1, 0, 0, 1000, 5, 0,
     0, 1000, 2},
};

static int
cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
wait_child(bench_child *c, int ms)
{
    uint64_t end = bench_now_us() + (uint64_t)ms * 1000u;
    int st;
    while (waitpid(c->pid, &st, WNOHANG) == 0) {
        if (bench_now_us() >= end) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &st, 0);
            break;
        }
        usleep(5000);
    }
    close(c->fd);
}

/* Runs one `parley-bench run`, echoes its line, gives the metric. */
static int
one_run(const entry *e, const char *lib, int quick, const char *netem_path,
        double *value)
{
    char self[4096], n[32], bytes[32], k[32], secs[32];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        return -1;
    }
    self[sl] = '\0';
    uint64_t vn = quick ? e->qn : e->n, vb = quick ? e->qbytes : e->bytes;
    uint64_t vk = quick ? e->qk : e->k, vs = quick ? e->qsecs : e->secs;
    char *argv[32];
    int c = 0;
    argv[c++] = self;
    argv[c++] = "run";
    argv[c++] = "--lib";
    argv[c++] = (char *)lib;
    argv[c++] = "--workload";
    argv[c++] = (char *)e->workload;
    argv[c++] = "--name";
    argv[c++] = (char *)e->name;
    if (vn) {
        snprintf(n, sizeof n, "%llu", (unsigned long long)vn);
        argv[c++] = "--n";
        argv[c++] = n;
    }
    if (vb) {
        snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)vb);
        argv[c++] = "--bytes";
        argv[c++] = bytes;
    }
    if (vk) {
        snprintf(k, sizeof k, "%llu", (unsigned long long)vk);
        argv[c++] = "--k";
        argv[c++] = k;
    }
    if (vs) {
        snprintf(secs, sizeof secs, "%llu", (unsigned long long)vs);
        argv[c++] = "--secs";
        argv[c++] = secs;
    }
    if (e->netem != NULL) {
        argv[c++] = "--via-netem";
        argv[c++] = (char *)e->netem;
    }
    if (netem_path != NULL) {
        argv[c++] = "--netem";
        argv[c++] = (char *)netem_path;
    }
    argv[c] = NULL;
    bench_child ch = {0, -1, {0}, 0};
    if (bench_spawn(argv, -1, 0, &ch) != 0) {
        return -1;
    }
    char line[1024];
    int limit_ms = (int)((vs ? vs : 60) + 90) * 1000;
    int rc = bench_read_line(&ch, "lib=", limit_ms, line, sizeof line);
    wait_child(&ch, 10000);
    if (rc != 0) {
        printf("lib=%s workload=%s error=no_result\n", lib, e->name);
        return -1;
    }
    printf("%s\n", line);
    if (bench_kv(line, e->metric, value) != 0 || *value <= 0) {
        return -1;
    }
    return 0;
}

static void
compare_entry(const entry *e, int pairs, int quick, const char *netem_path)
{
    double pv[MAX_PAIRS], ev[MAX_PAIRS], ratio[MAX_PAIRS], rv[MAX_PAIRS];
    double rawratio[MAX_PAIRS];
    int np = 0, nr = 0;
    for (int i = 0; i < pairs; i++) {
        double a = 0, b = 0, r = 0;
        int ok_a = one_run(e, "parley", quick, netem_path, &a) == 0;
        int ok_b = one_run(e, "enet", quick, netem_path, &b) == 0;
        if (ok_a && ok_b) {
            pv[np] = a;
            ev[np] = b;
            ratio[np++] = a / b;
        }
        if (e->raw != NULL && one_run(e, e->raw, quick, netem_path, &r) == 0) {
            rv[nr] = r;
            rawratio[nr++] = ok_a ? a / r : 0;
        }
    }
    if (np == 0) {
        printf("compare workload=%s metric=%s pairs=0 error=no_pair\n", e->name,
               e->metric);
        return;
    }
    double mr = median(ratio, np), mp = median(pv, np), me = median(ev, np);
    int parley_better = e->lower_better ? mr < 1.0 : mr > 1.0;
    printf("compare workload=%s metric=%s pairs=%d parley=%.6g enet=%.6g "
           "ratio=%.3f better=%s",
           e->name, e->metric, np, mp, me, mr,
           parley_better ? "parley" : "enet");
    if (nr > 0) {
        /* parley_vs_raw: the median of per-pair ratios, like ratio. */
        printf(" raw=%s raw_value=%.6g parley_vs_raw=%.3f", e->raw,
               median(rv, nr), median(rawratio, nr));
    }
    printf("\n");
}

int bench_compare(int argc, char **argv);

int
bench_compare(int argc, char **argv)
{
    int quick = 0;
    uint64_t pairs = 3;
    const char *only = NULL, *netem_path = NULL;
    int i = 0, have_pairs = 0;
    while (i < argc) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
            i++;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "parley-bench: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--pairs") == 0) {
            if (bench_parse_u64(v, 1, MAX_PAIRS, &pairs) != 0) {
                fprintf(stderr, "parley-bench: bad --pairs: %s (1..%d)\n", v,
                        MAX_PAIRS);
                return 2;
            }
            have_pairs = 1;
        } else if (strcmp(argv[i], "--only") == 0) {
            only = v;
        } else if (strcmp(argv[i], "--netem") == 0) {
            netem_path = v;
        } else {
            fprintf(stderr, "parley-bench: bad compare option: %s\n", argv[i]);
            return 2;
        }
        i += 2;
    }
    if (quick && !have_pairs) {
        pairs = 1;
    }
    signal(SIGPIPE, SIG_IGN);
    for (size_t e = 0; e < sizeof entries / sizeof entries[0]; e++) {
        if (only != NULL) {
            char list[512];
            snprintf(list, sizeof list, ",%s,", only);
            char key[64];
            snprintf(key, sizeof key, ",%s,", entries[e].name);
            if (strstr(list, key) == NULL) {
                continue;
            }
        }
        compare_entry(&entries[e], (int)pairs, quick, netem_path);
    }
    return 0;
}
