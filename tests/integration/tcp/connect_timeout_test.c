/*
 * Connect timeout against a host that drops SYNs: two network namespaces
 * made for this test only (a veth pair with 10.203.0.1/30 and
 * 10.203.0.2/30, traffic never leaves them), an nftables rule in the
 * server namespace dropping TCP SYNs. From the client namespace,
 * parley_tcp_connect must report PARLEY_ETIMEDOUT within 20% of the time
 * asked. First the same connect without the rule must be refused at once,
 * proving the path works and the timeout comes from the dropped SYNs.
 * The namespaces are always deleted. Without the rights to make them
 * (not root, no ip/nft), the test prints "SKIP: why" and exits 0.
 */
#include "tcp_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_TIME_LIMIT_S 25

static char g_ns_srv[64], g_ns_cli[64];
static const char *g_ip, *g_nft;
static int g_made;

/* Runs argv (no shell), output discarded; the exit status or -1. */
static int
run(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
delete_namespaces(void)
{
    if (!g_made) {
        return;
    }
    char *a[] = {(char *)g_ip, "netns", "del", g_ns_srv, NULL};
    char *b[] = {(char *)g_ip, "netns", "del", g_ns_cli, NULL};
    run(a);
    run(b);
    g_made = 0;
}

static void
on_signal(int sig)
{
    /* fork, execv and waitpid are async-signal-safe. */
    delete_namespaces();
    signal(sig, SIG_DFL);
    raise(sig);
}

static const char *
find_tool(const char *name)
{
    static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/",
                                       "/bin/"};
    static char paths[2][64];
    static int n;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char *p = paths[n % 2];
        snprintf(p, sizeof paths[0], "%s%s", dirs[i], name);
        if (access(p, X_OK) == 0) {
            n++;
            return p;
        }
    }
    return NULL;
}

/* ip -n NS ARGS... */
static int
ip_in(const char *ns, const char *a1, const char *a2, const char *a3,
      const char *a4, const char *a5, const char *a6)
{
    char *argv[] = {(char *)g_ip, "-n",       (char *)ns, (char *)a1,
                    (char *)a2,   (char *)a3, (char *)a4, (char *)a5,
                    (char *)a6,   NULL};
    return run(argv);
}

/* The two namespaces and the veth pair between them. */
static const char *
make_namespaces(void)
{
    char *add_s[] = {(char *)g_ip, "netns", "add", g_ns_srv, NULL};
    char *add_c[] = {(char *)g_ip, "netns", "add", g_ns_cli, NULL};
    if (run(add_s) != 0) {
        return "cannot create a network namespace (ip netns add failed)";
    }
    g_made = 1;
    if (run(add_c) != 0) {
        return "cannot create a second network namespace";
    }
    /* Made inside the client namespace, its peer moved straight to the
       server's: nothing touches the namespace the test runs in. */
    char *veth[] = {(char *)g_ip, "-n",    g_ns_cli, "link", "add",
                    "p3da",       "type",  "veth",   "peer", "name",
                    "p3db",       "netns", g_ns_srv, NULL};
    int rc = run(veth);
    rc = rc ? rc
            : ip_in(g_ns_cli, "addr", "add", "10.203.0.1/30", "dev", "p3da",
                    NULL);
    rc = rc ? rc
            : ip_in(g_ns_srv, "addr", "add", "10.203.0.2/30", "dev", "p3db",
                    NULL);
    rc = rc ? rc : ip_in(g_ns_cli, "link", "set", "p3da", "up", NULL, NULL);
    rc = rc ? rc : ip_in(g_ns_srv, "link", "set", "p3db", "up", NULL, NULL);
    return rc ? "cannot set up a veth pair between the namespaces" : NULL;
}

static int
drop_syns(void)
{
    char path[] = "/tmp/parley-p3d-nft-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        return -1;
    }
    static const char rules[] =
        "table inet parley_p3d {\n"
        "  chain input {\n"
        "    type filter hook input priority 0; policy accept;\n"
        "    tcp flags & (syn | ack) == syn drop\n"
        "  }\n"
        "}\n";
    int ok = write(fd, rules, sizeof rules - 1) == (ssize_t)(sizeof rules - 1);
    close(fd);
    char *argv[] = {(char *)g_ip,  "netns", "exec", g_ns_srv,
                    (char *)g_nft, "-f",    path,   NULL};
    int rc = ok ? run(argv) : -1;
    unlink(path);
    return rc;
}

/* parley_tcp_connect_start, then waits for its reset; the reason. */
static int
connect_start(parley_tcp *tcp, int timeout_ms)
{
    parley_conn c;
    parley_tcp_reset r;
    int rc = parley_tcp_connect_start(tcp, "10.203.0.2:9", timeout_ms, &c);
    if (rc != PARLEY_OK) {
        return rc;
    }
    uint64_t t0 = parley_time_us();
    while (parley_time_us() - t0 < (uint64_t)timeout_ms * 2000) {
        parley_tcp_wait(tcp, timeout_ms);
        if (parley_tcp_get_reset(tcp, &r) == 1) {
            return r.reason;
        }
    }
    return PARLEY_OK;
}

/* Runs a connect from inside the client namespace (blocking, or with
   connect_start when async); elapsed ms. */
static int
connect_from_client(int timeout_ms, int async, uint64_t *elapsed_ms)
{
    char path[128];
    snprintf(path, sizeof path, "/run/netns/%s", g_ns_cli);
    int home = open("/proc/self/ns/net", O_RDONLY);
    int ns = open(path, O_RDONLY);
    int rc = PARLEY_EIO;
    if (home >= 0 && ns >= 0 && setns(ns, CLONE_NEWNET) == 0) {
        parley_tcp_config cfg;
        parley_tcp *tcp = NULL;
        parley_conn c;
        parley_tcp_config_init(&cfg);
        if (parley_tcp_create(&cfg, &tcp) == PARLEY_OK) {
            uint64_t t0 = parley_time_us();
            rc = async
                     ? connect_start(tcp, timeout_ms)
                     : parley_tcp_connect(tcp, "10.203.0.2:9", timeout_ms, &c);
            *elapsed_ms = (parley_time_us() - t0) / 1000;
            parley_tcp_destroy(tcp);
        }
        if (setns(home, CLONE_NEWNET) != 0) {
            rc = PARLEY_EIO;
        }
    }
    if (home >= 0) {
        close(home);
    }
    if (ns >= 0) {
        close(ns);
    }
    return rc;
}

static void
timeout_within_20_percent(void)
{
    uint64_t ms = 0;
    /* Without the rule: port 9 is closed, so the connect is refused at
       once. This proves the route between the namespaces works. */
    PT_ERR(connect_from_client(3000, 0, &ms), PARLEY_ECONNREFUSED);
    PT_LT_U64(ms, 500);
    PT_ERR(connect_from_client(3000, 1, &ms), PARLEY_ECONNREFUSED);
    PT_EQ_INT(drop_syns(), 0);
    static const int asked[] = {300, 1500, 400};
    for (size_t i = 0; i < 3; i++) {
        int async = i == 2;
        PT_ERR(connect_from_client(asked[i], async, &ms), PARLEY_ETIMEDOUT);
        printf("  %s asked %d ms, timed out after %llu ms\n",
               async ? "connect_start:" : "connect:", asked[i],
               (unsigned long long)ms);
        PT_GE_U64(ms * 10, (uint64_t)asked[i] * 8);
        PT_LE_U64(ms * 10, (uint64_t)asked[i] * 12);
    }
}

static int
skip(const char *why)
{
    printf("SKIP connect_timeout: %s\n", why);
    return 0;
}

int
main(void)
{
    if (geteuid() != 0) {
        return skip("needs root to create network namespaces");
    }
    g_ip = find_tool("ip");
    g_nft = find_tool("nft");
    if (!g_ip || !g_nft) {
        return skip("needs the ip and nft commands");
    }
    snprintf(g_ns_srv, sizeof g_ns_srv, "parley-p3d-%ld-s", (long)getpid());
    snprintf(g_ns_cli, sizeof g_ns_cli, "parley-p3d-%ld-c", (long)getpid());
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGALRM, on_signal);
    alarm(TEST_TIME_LIMIT_S);
    atexit(delete_namespaces);
    const char *why = make_namespaces();
    if (why) {
        delete_namespaces();
        return skip(why);
    }
    PT_RUN(timeout_within_20_percent);
    delete_namespaces();
    printf("%d passed, %d failed\n", pt_pass_n_, pt_fail_n_);
    return pt_fail_n_ ? 1 : 0;
}
