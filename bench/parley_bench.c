/*
 * parley-bench: parley side by side with ENet and raw UDP/TCP on
 * 127.0.0.1. `run` measures one workload for one library (the server is
 * this program again, exec'd with the `serve` role; parley-netem can sit
 * between them) and prints one machine-readable line; `compare` runs
 * parley and ENet alternately and prints the median ratio per workload.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_work.h"

#define MIB (1024u * 1024u)

typedef struct opts {
    const char *lib, *workload, *name, *netem_args, *netem_path;
    uint64_t n, bytes, msg, k, secs, timeout, seed;
    int have_n, have_bytes, have_secs, have_msg;
} opts;

static const char usage[] =
    "usage: parley-bench run --lib parley|enet|udp|tcp --workload W [opts]\n"
    "       parley-bench compare [--quick] [--pairs N] [--only W,W...]\n"
    "workloads: rtt rtt1core small small_rel small_unrel bulk conns\n"
    "run options: --n N (rtt round trips, small messages; default 10000,\n"
    "  1000000) --bytes B (bulk total, 64 MiB) --msg B (message size: bulk\n"
    "  1 MiB, small 32, at most 64 KiB)\n"
    "  --k K (conns clients, 1000) --secs S (conns sending time 10; cap on\n"
    "  other runs 60) --via-netem \"ARGS\" (parley-netem between the two)\n"
    "  --netem PATH --name NAME (workload= in the result) --timeout S\n"
    "  --seed N (parley-netem's seed, default 1)\n";

static const bench_ops *
find_lib(const char *name)
{
    static const bench_ops *const all[] = {&bench_parley_ops, &bench_enet_ops,
                                           &bench_udp_ops, &bench_tcp_ops};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (name != NULL && strcmp(name, all[i]->name) == 0) {
            return all[i];
        }
    }
    return NULL;
}

static int
bad(const char *what, const char *val)
{
    fprintf(stderr, "parley-bench: bad %s: %s\n%s", what, val ? val : "(none)",
            usage);
    return 2;
}

static int
num_opt(const char *name, const char *val, uint64_t min, uint64_t max,
        uint64_t *out)
{
    if (bench_parse_u64(val, min, max, out) != 0) {
        return bad(name, val);
    }
    return 0;
}

static int
parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->msg = MIB;
    o->k = 1000;
    o->seed = 1;
    for (int i = 0; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (v == NULL) {
            return bad("option (missing value)", a);
        }
        if (strcmp(a, "--lib") == 0) {
            o->lib = v;
        } else if (strcmp(a, "--workload") == 0) {
            o->workload = v;
        } else if (strcmp(a, "--name") == 0) {
            o->name = v;
        } else if (strcmp(a, "--via-netem") == 0) {
            o->netem_args = v;
        } else if (strcmp(a, "--netem") == 0) {
            o->netem_path = v;
        } else if (strcmp(a, "--n") == 0) {
            rc = num_opt(a, v, 1, 100000000, &o->n);
            o->have_n = 1;
        } else if (strcmp(a, "--bytes") == 0) {
            rc = num_opt(a, v, 1, 1ull << 34, &o->bytes);
            o->have_bytes = 1;
        } else if (strcmp(a, "--msg") == 0) {
            rc = num_opt(a, v, 16, 64 * MIB, &o->msg);
            o->have_msg = 1;
        } else if (strcmp(a, "--k") == 0) {
            rc = num_opt(a, v, 1, 20000, &o->k);
        } else if (strcmp(a, "--secs") == 0) {
            rc = num_opt(a, v, 1, 3600, &o->secs);
            o->have_secs = 1;
        } else if (strcmp(a, "--timeout") == 0) {
            rc = num_opt(a, v, 1, 7200, &o->timeout);
        } else if (strcmp(a, "--seed") == 0) {
            rc = num_opt(a, v, 0, UINT64_MAX, &o->seed);
        } else {
            return bad("option", a);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Fills p from o for one workload name; 0, or 2 after a message. */
static int
make_params(const opts *o, const char *w, bench_params *p)
{
    memset(p, 0, sizeof *p);
    p->ops = find_lib(o->lib);
    if (p->ops == NULL) {
        return bad("--lib", o->lib);
    }
    p->is_rtt = strcmp(w, "rtt") == 0 || strcmp(w, "rtt1core") == 0;
    p->is_small = strncmp(w, "small_", 6) == 0;
    p->reliable = strcmp(w, "small_rel") == 0;
    p->is_bulk = strcmp(w, "bulk") == 0;
    p->is_conns = strcmp(w, "conns") == 0;
    if (!(p->is_rtt || p->is_bulk || p->is_conns || p->reliable ||
          strcmp(w, "small_unrel") == 0)) {
        return bad("--workload", w);
    }
    p->n = o->have_n ? o->n : (p->is_rtt ? 10000 : 1000000);
    p->bytes = o->have_bytes ? o->bytes : 64ull * MIB;
    p->msg = o->msg < p->bytes ? o->msg : p->bytes;
    if (p->is_small) {
        p->msg = o->have_msg ? o->msg : 32;
        if (p->msg > 65536) {
            fprintf(stderr, "parley-bench: small: --msg is at most 65536\n");
            return 2;
        }
    }
    p->k = o->k;
    p->secs = o->have_secs ? o->secs : (p->is_conns ? 10 : 60);
    const bench_ops *ops = p->ops;
    int ok = p->is_rtt || (p->is_conns && ops->has_conns) ||
             (p->is_small && p->reliable && ops->has_reliable) ||
             (p->is_small && !p->reliable && ops->has_unreliable) ||
             (p->is_bulk && ops->has_reliable);
    if (!ok) {
        fprintf(stderr, "parley-bench: %s does not apply to --lib %s\n", w,
                ops->name);
        return 2;
    }
    return 0;
}

/* ---- run: one workload, one library ---- */

static volatile pid_t g_srv_pid, g_netem_pid;
static char g_errline[320];

static void
on_alarm(int sig)
{
    (void)sig;
    ssize_t w = write(1, g_errline, strlen(g_errline));
    (void)w;
    if (g_srv_pid > 0) {
        kill(g_srv_pid, SIGKILL);
    }
    if (g_netem_pid > 0) {
        kill(g_netem_pid, SIGKILL);
    }
    _exit(3);
}

static int
start_server(const opts *o, const char *w, const bench_params *p, int cpu,
             bench_child *srv, uint16_t *port)
{
    char self[4096], n[32], bytes[32], msg[32], k[32];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) {
        return -1;
    }
    self[sl] = '\0';
    snprintf(n, sizeof n, "%llu", (unsigned long long)p->n);
    snprintf(bytes, sizeof bytes, "%llu", (unsigned long long)p->bytes);
    snprintf(msg, sizeof msg, "%llu", (unsigned long long)p->msg);
    snprintf(k, sizeof k, "%llu", (unsigned long long)p->k);
    char *args[] = {self,         "serve",   "--lib", (char *)o->lib,
                    "--workload", (char *)w, "--n",   n,
                    "--bytes",    bytes,     "--msg", msg,
                    "--k",        k,         NULL};
    /* PARLEY_BENCH_SERVER_WRAP="valgrind --tool=callgrind" runs the
       server under a profiler (words split at spaces; up to 8). */
    char *argv[24], wrap[512];
    size_t na = 0;
    const char *env = getenv("PARLEY_BENCH_SERVER_WRAP");
    if (env != NULL && strlen(env) < sizeof wrap) {
        memcpy(wrap, env, strlen(env) + 1);
        for (char *t = strtok(wrap, " "); t != NULL && na < 8;
             t = strtok(NULL, " ")) {
            argv[na++] = t;
        }
    }
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        argv[na++] = args[i];
    }
    if (bench_spawn(argv, cpu, 0, srv) != 0) {
        return -1;
    }
    g_srv_pid = srv->pid;
    char line[128];
    double v;
    if (bench_read_line(srv, "port=", 10000, line, sizeof line) != 0 ||
        bench_kv(line, "port", &v) != 0 || v <= 0 || v > 65535) {
        fprintf(stderr, "parley-bench: the server did not start\n");
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

static int
netem_path(const opts *o, char *buf, size_t cap)
{
    if (o->netem_path != NULL) {
        snprintf(buf, cap, "%s", o->netem_path);
        return 0;
    }
    char dir[4096];
    if (bench_self_dir(dir, sizeof dir) != 0) {
        return -1;
    }
    const char *tries[] = {"/../parley-netem", "/parley-netem",
                           "/../tools/parley-netem"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(buf, cap, "%s%s", dir, tries[i]);
        if (access(buf, X_OK) == 0) {
            return 0;
        }
    }
    fprintf(stderr, "parley-bench: parley-netem not found (use --netem)\n");
    return -1;
}

static int
start_netem(const opts *o, uint16_t srv_port, bench_child *nc, uint16_t *port)
{
    static char path[4096], to[64], seed[32], args[512];
    char *argv[48];
    int argc = 0;
    if (netem_path(o, path, sizeof path) != 0) {
        return -1;
    }
    snprintf(to, sizeof to, "127.0.0.1:%u", (unsigned)srv_port);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(args, sizeof args, "%s", o->netem_args);
    argv[argc++] = path;
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    argv[argc++] = "--to";
    argv[argc++] = to;
    argv[argc++] = "--seed";
    argv[argc++] = seed;
    for (char *t = strtok(args, " "); t != NULL && argc < 46;
         t = strtok(NULL, " ")) {
        argv[argc++] = t;
    }
    argv[argc] = NULL;
    if (bench_spawn(argv, -1, 1, nc) != 0) {
        return -1;
    }
    g_netem_pid = nc->pid;
    char line[256];
    if (bench_read_line(nc, "parley-netem: listening on", 5000, line,
                        sizeof line) != 0) {
        fprintf(stderr, "parley-bench: parley-netem did not start\n");
        return -1;
    }
    char *colon = strrchr(line, ':');
    uint64_t v;
    if (colon == NULL || bench_parse_u64(colon + 1, 1, 65535, &v) != 0) {
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

static void
unpin(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    for (long i = 0; i < n && i < CPU_SETSIZE; i++) {
        CPU_SET((int)i, &set);
    }
    (void)sched_setaffinity(0, sizeof set, &set);
}

static int
run_one(const opts *o, const char *w)
{
    bench_params p;
    int rc = make_params(o, w, &p);
    if (rc != 0) {
        return rc;
    }
    char label[256], netem[128] = "";
    if (o->netem_args != NULL) {
        snprintf(netem, sizeof netem, " netem=%s", o->netem_args);
        for (char *c = netem + 7; *c; c++) {
            *c = *c == ' ' ? ',' : *c;
        }
    }
    snprintf(label, sizeof label, "lib=%s workload=%s%s", p.ops->name,
             o->name ? o->name : w, netem);
    p.label = label;
    snprintf(g_errline, sizeof g_errline, "%s error=timeout\n", label);
    uint64_t limit = o->timeout ? o->timeout : p.secs + 60;
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)limit);
    int two = sysconf(_SC_NPROCESSORS_ONLN) > 1;
    int srv_cpu = p.is_rtt ? 0 : -1;
    int cli_cpu = p.is_rtt ? (strcmp(w, "rtt") == 0 && two ? 1 : 0) : -1;
    bench_child srv = {0, -1, {0}, 0}, nc = {0, -1, {0}, 0};
    uint16_t port = 0;
    rc = 1;
    if (start_server(o, w, &p, srv_cpu, &srv, &port) == 0 &&
        (o->netem_args == NULL || start_netem(o, port, &nc, &port) == 0)) {
        bench_pin(cli_cpu);
        rc = bench_client(&p, port, &srv) == 0 ? 0 : 1;
        unpin();
    }
    if (rc != 0) {
        printf("%s error=failed\n", label);
    }
    fflush(stdout);
    bench_stop(&nc, 1000);
    g_netem_pid = 0;
    bench_stop(&srv, 2000);
    g_srv_pid = 0;
    alarm(0);
    return rc;
}

static int
cmd_run(int argc, char **argv)
{
    opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0) {
        return rc;
    }
    if (o.workload == NULL) {
        return bad("--workload", NULL);
    }
    if (strcmp(o.workload, "small") == 0) {
        rc = run_one(&o, "small_rel");
        int rc2 = run_one(&o, "small_unrel");
        return rc ? rc : rc2;
    }
    return run_one(&o, o.workload);
}

static int
cmd_serve(int argc, char **argv)
{
    opts o;
    bench_params p;
    int rc = parse_opts(argc, argv, &o);
    if (rc == 0) {
        rc = make_params(&o, o.workload ? o.workload : "", &p);
    }
    if (rc != 0) {
        return rc;
    }
    return bench_serve(&p);
}

int bench_compare(int argc, char **argv);

int
main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "run") == 0) {
        return cmd_run(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "serve") == 0) {
        return cmd_serve(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "compare") == 0) {
        return bench_compare(argc - 2, argv + 2);
    }
    return bad("command", argv[1]);
}
