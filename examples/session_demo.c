/*
 * example_session_demo: several session clients on one relay, each on
 * its own simulated bad link, sending poses at 20 Hz (unreliable) and
 * chat lines (reliable) to everyone, as a multi-user VR app would. Prints
 * a live table per client and, at the end, checks that every chat line
 * reached every client exactly once and in order. The driver of
 * `make demo` (scripts/demo.sh starts the relay).
 *
 *   example_session_demo [--clients N] [--seconds S] [--loss PCT]
 *                        [--latency MS] [--jitter MS] HOST:PORT
 */
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <parley/parley.h>
#include <parley/session.h>

#define MAX_CLIENTS 8
#define POSE_INTERVAL_US 50000 /* 20 Hz */
#define CHAT_INTERVAL_US 400000
#define DRAIN_LIMIT_US 8000000 /* after the run: time for the last chats */

static const char *const names[MAX_CLIENTS] = {"ada", "bo",  "cy",  "dee",
                                               "eve", "fay", "gus", "hal"};

typedef struct peer_view {
    uint64_t chat_next; /* the chat seq expected next from that sender */
    uint64_t chat_bad;  /* out of order or duplicated */
    uint64_t poses;     /* poses received from that sender */
    uint64_t pose_last; /* highest pose seq seen */
} peer_view;

typedef struct demo_client {
    parley_client *cli;
    const char *name;
    uint64_t chat_sent, pose_sent;
    uint64_t next_pose_us, next_chat_us;
    uint64_t pose_age_sum_us, pose_age_n;
    uint64_t errors;
    peer_view from[MAX_CLIENTS];
    int lost;
} demo_client;

typedef struct demo {
    demo_client c[MAX_CLIENTS];
    int n;
    double seconds, loss;
    unsigned latency, jitter;
    const char *target;
    uint64_t pose_id, chat_id;
    parley_builder *b;
    int tty;
    int table_lines;
} demo;

static int
index_of(const demo *d, const char *name)
{
    for (int i = 0; i < d->n; i++) {
        if (strcmp(d->c[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---- receiving ---- */

static void
on_pose(demo *d, demo_client *me, const parley_session_event *ev)
{
    int from = index_of(d, ev->sender);
    int64_t seq = 0, sent_us = 0;
    parley_value pos;

    if (from < 0 ||
        parley_payload_kwarg_int(&ev->payload, "seq", &seq) != PARLEY_OK ||
        parley_payload_kwarg_int(&ev->payload, "t_us", &sent_us) != PARLEY_OK ||
        parley_payload_arg(&ev->payload, 0, &pos) != PARLEY_OK ||
        pos.type != PARLEY_TYPE_ARRAY || pos.v.seq.count != 3) {
        me->errors++;
        return;
    }
    me->from[from].poses++;
    if ((uint64_t)seq > me->from[from].pose_last) {
        me->from[from].pose_last = (uint64_t)seq;
    }
    /* One process, one clock: the age is the one-way delay. */
    me->pose_age_sum_us += parley_time_us() - (uint64_t)sent_us;
    me->pose_age_n++;
}

static void
on_chat(demo *d, demo_client *me, const parley_session_event *ev)
{
    int from = index_of(d, ev->sender);
    int64_t seq = -1;

    if (from < 0 ||
        parley_payload_kwarg_int(&ev->payload, "seq", &seq) != PARLEY_OK) {
        me->errors++;
        return;
    }
    if ((uint64_t)seq != me->from[from].chat_next) {
        me->from[from].chat_bad++;
    }
    me->from[from].chat_next = (uint64_t)seq + 1;
}

static void
service_client(demo *d, demo_client *me)
{
    parley_session_event ev;

    while (!me->lost && parley_client_service(me->cli, 0, &ev) == 1) {
        if (ev.type == PARLEY_SESSION_EVENT && ev.id == d->pose_id) {
            on_pose(d, me, &ev);
        } else if (ev.type == PARLEY_SESSION_EVENT && ev.id == d->chat_id) {
            on_chat(d, me, &ev);
        } else if (ev.type == PARLEY_SESSION_SERVER_DISCONNECT) {
            fprintf(stderr, "demo: %s: %s\n", me->name, ev.reason);
            me->lost = 1;
        } else if (ev.type == PARLEY_SESSION_ERROR) {
            me->errors++;
        }
    }
}

/* ---- sending ---- */

static void
send_pose(demo *d, demo_client *me, int idx, uint64_t now)
{
    double t = (double)now / 1e6;
    double a = t * 0.8 + idx * 1.3;
    parley_builder *b = d->b;

    parley_builder_reset(b);
    parley_builder_array_begin(b); /* position: walking in a circle */
    parley_builder_double(b, 2.0 * cos(a));
    parley_builder_double(b, 1.7);
    parley_builder_double(b, 2.0 * sin(a));
    parley_builder_array_end(b);
    parley_builder_array_begin(b); /* orientation: yaw, pitch, roll */
    parley_builder_double(b, fmod(a * 57.29578, 360.0));
    parley_builder_double(b, 10.0 * sin(t));
    parley_builder_double(b, 0.0);
    parley_builder_array_end(b);
    parley_builder_key(b, "seq");
    parley_builder_int(b, (int64_t)me->pose_sent);
    parley_builder_key(b, "t_us");
    parley_builder_int(b, (int64_t)now);
    if (parley_client_send_all(me->cli, d->pose_id, b,
                               PARLEY_SEND_UNRELIABLE) == PARLEY_OK) {
        me->pose_sent++;
    }
}

static void
send_chat(demo *d, demo_client *me)
{
    static const char *const lines[] = {
        "look at the model",      "over here",  "rotating it now",
        "can you see the crack?", "zooming in", "ok, next one"};
    char text[96];
    parley_builder *b = d->b;

    snprintf(text, sizeof text, "%s #%" PRIu64, lines[me->chat_sent % 6],
             me->chat_sent);
    parley_builder_reset(b);
    parley_builder_str(b, text);
    parley_builder_key(b, "seq");
    parley_builder_int(b, (int64_t)me->chat_sent);
    if (parley_client_send_all(me->cli, d->chat_id, b, 0) == PARLEY_OK) {
        me->chat_sent++;
    } else {
        me->errors++;
    }
}

/* ---- the table ---- */

static void
print_table(demo *d, double elapsed, const char *title)
{
    char line[256];
    int n = 0;

    if (d->tty && d->table_lines > 0) {
        printf("\033[%dA", d->table_lines); /* redraw in place */
    }
    snprintf(line, sizeof line, "%s  t=%4.1fs", title, elapsed);
    printf("%-78s\n", line);
    printf("  %-5s %7s %6s %8s %8s %9s %9s %7s %8s %6s\n", "name", "rtt ms",
           "loss%", "msgs out", "msgs in", "bytes out", "bytes in", "poses",
           "pose age", "chat");
    n += 2;
    for (int i = 0; i < d->n; i++) {
        demo_client *me = &d->c[i];
        parley_peer_stats st;
        uint64_t poses = 0, chats = 0;

        memset(&st, 0, sizeof st);
        parley_client_get_stats(me->cli, &st);
        for (int k = 0; k < d->n; k++) {
            poses += me->from[k].poses;
            chats += me->from[k].chat_next;
        }
        printf("  %-5s %7.1f %6.1f %8" PRIu64 " %8" PRIu64 " %9" PRIu64
               " %9" PRIu64 " %7" PRIu64 " %6.0fms %6" PRIu64 "%s\n",
               me->name, (double)st.srtt_us / 1000.0, st.loss_pct,
               st.messages_out, st.messages_in, st.bytes_out, st.bytes_in,
               poses,
               me->pose_age_n ? (double)me->pose_age_sum_us /
                                    (double)me->pose_age_n / 1000.0
                              : 0.0,
               chats, me->lost ? "  LOST" : "");
        n++;
    }
    fflush(stdout);
    d->table_lines = n;
}

/* ---- set-up, run, verdict ---- */

static int
connect_all(demo *d)
{
    parley_sim_config sim;
    const parley_field pose_args[] = {{"pos", PARLEY_TYPE_ARRAY, 0},
                                      {"ori", PARLEY_TYPE_ARRAY, 0}};
    const parley_field pose_kwargs[] = {{"seq", PARLEY_TYPE_UINT, 0},
                                        {"t_us", PARLEY_TYPE_UINT, 0}};
    const parley_event_def pose = {"pose", pose_args, 2, pose_kwargs, 2, 0};

    parley_sim_config_init(&sim);
    sim.loss_pct = d->loss;
    sim.latency_ms = d->latency;
    sim.jitter_ms = d->jitter;
    for (int i = 0; i < d->n; i++) {
        parley_client_config cfg;
        demo_client *me = &d->c[i];
        int rc;

        parley_client_config_init(&cfg);
        cfg.name = names[i];
        me->name = names[i];
        if (parley_client_create(&cfg, &me->cli) != PARLEY_OK) {
            return -1;
        }
        /* Each client's own link, both directions, its own seed. */
        sim.seed = 1000 + (uint64_t)i;
        parley_client_set_sim(me->cli, &sim, &sim);
        parley_event_define(parley_client_events(me->cli), &pose, NULL);
        parley_event_register(parley_client_events(me->cli), "chat", NULL);
        rc = parley_client_connect(me->cli, d->target);
        if (rc != PARLEY_OK) {
            fprintf(stderr, "demo: %s cannot join %s: %s (%s)\n", me->name,
                    d->target, parley_strerror(rc),
                    parley_client_last_error(me->cli));
            return -1;
        }
    }
    return 0;
}

/* Waits for any client's socket, at most ms. */
static void
wait_any(demo *d, int ms)
{
    struct pollfd pfd[MAX_CLIENTS];

    for (int i = 0; i < d->n; i++) {
        pfd[i].fd = parley_client_fd(d->c[i].cli);
        pfd[i].events = POLLIN;
    }
    poll(pfd, (nfds_t)d->n, ms);
}

/* 1 when every client has every chat line from every client. */
static int
chats_complete(const demo *d)
{
    for (int i = 0; i < d->n; i++) {
        for (int k = 0; k < d->n; k++) {
            if (d->c[i].from[k].chat_next < d->c[k].chat_sent) {
                return 0;
            }
        }
    }
    return 1;
}

static void
run(demo *d)
{
    uint64_t start = parley_time_us();
    uint64_t end = start + (uint64_t)(d->seconds * 1e6);
    uint64_t next_table = start;

    for (int i = 0; i < d->n; i++) {
        d->c[i].next_pose_us = start + (uint64_t)i * 7000;
        d->c[i].next_chat_us = start + 100000 + (uint64_t)i * 53000;
    }
    for (;;) {
        uint64_t now = parley_time_us();
        int sending = now < end;

        for (int i = 0; i < d->n; i++) {
            demo_client *me = &d->c[i];
            service_client(d, me);
            if (sending && !me->lost && now >= me->next_pose_us) {
                send_pose(d, me, i, now);
                me->next_pose_us += POSE_INTERVAL_US;
            }
            if (sending && !me->lost && now >= me->next_chat_us) {
                send_chat(d, me);
                me->next_chat_us += CHAT_INTERVAL_US + (uint64_t)i * 11000;
            }
        }
        if (now >= next_table) {
            print_table(d, (double)(now - start) / 1e6,
                        sending ? "live: sending poses and chat"
                                : "draining: waiting for the last chat lines");
            next_table += 1000000;
        }
        if (!sending && (chats_complete(d) || now >= end + DRAIN_LIMIT_US)) {
            break;
        }
        wait_any(d, 2);
    }
    print_table(d, (double)(parley_time_us() - start) / 1e6, "final");
}

/* Prints the summary; returns 0 when every chat line arrived. */
static int
verdict(const demo *d)
{
    uint64_t expected = 0, arrived = 0, bad = 0, errors = 0;
    uint64_t poses_sent = 0, poses_got = 0;
    int lost = 0;

    printf("\nsummary\n");
    for (int k = 0; k < d->n; k++) {
        poses_sent += d->c[k].pose_sent * (uint64_t)d->n;
        for (int i = 0; i < d->n; i++) {
            const peer_view *v = &d->c[i].from[k];
            uint64_t got = v->chat_next < d->c[k].chat_sent ? v->chat_next
                                                            : d->c[k].chat_sent;
            expected += d->c[k].chat_sent;
            arrived += got;
            bad += v->chat_bad;
            poses_got += v->poses;
        }
    }
    for (int i = 0; i < d->n; i++) {
        errors += d->c[i].errors;
        lost += d->c[i].lost;
        printf("  %-5s sent %3" PRIu64 " chat lines and %4" PRIu64 " poses\n",
               d->c[i].name, d->c[i].chat_sent, d->c[i].pose_sent);
    }
    printf("  reliable chat: %" PRIu64 " of %" PRIu64
           " deliveries arrived (%d clients x every client's lines, the "
           "sender's own included), %" PRIu64 " out of order or twice\n",
           arrived, expected, d->n, bad);
    printf("  unreliable poses: %" PRIu64 " of %" PRIu64
           " delivered (%.1f%%): lost ones are not resent, by design\n",
           poses_got, poses_sent,
           poses_sent ? 100.0 * (double)poses_got / (double)poses_sent : 0.0);
    if (arrived == expected && bad == 0 && errors == 0 && lost == 0 &&
        expected > 0) {
        printf("PASS: every reliable event arrived exactly once, in order, "
               "at every client\n");
        return 0;
    }
    printf("FAIL: %" PRIu64 " chat deliveries missing, %" PRIu64
           " out of order, %" PRIu64 " bad events, %d clients lost\n",
           expected - arrived, bad, errors, lost);
    return 1;
}

static int
parse(int argc, char **argv, demo *d)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 < argc && strcmp(a, "--clients") == 0) {
            d->n = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(a, "--seconds") == 0) {
            d->seconds = strtod(argv[++i], NULL);
        } else if (i + 1 < argc && strcmp(a, "--loss") == 0) {
            d->loss = strtod(argv[++i], NULL);
        } else if (i + 1 < argc && strcmp(a, "--latency") == 0) {
            d->latency = (unsigned)atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(a, "--jitter") == 0) {
            d->jitter = (unsigned)atoi(argv[++i]);
        } else if (a[0] != '-' && d->target == NULL) {
            d->target = a;
        } else {
            return -1;
        }
    }
    return d->target == NULL || d->n < 1 || d->n > MAX_CLIENTS ||
                   !(d->seconds > 0 && d->seconds <= 3600) ||
                   !(d->loss >= 0 && d->loss <= 50)
               ? -1
               : 0;
}

int
main(int argc, char **argv)
{
    static demo d;
    int rc;

    d.n = 4;
    d.seconds = 10;
    d.loss = 5;
    d.latency = 30;
    d.jitter = 10;
    if (parse(argc, argv, &d) != 0) {
        fprintf(stderr, "usage: example_session_demo [--clients 1..8] "
                        "[--seconds S] [--loss 0..50] [--latency MS] "
                        "[--jitter MS] HOST:PORT\n");
        return 2;
    }
    d.tty = isatty(STDOUT_FILENO);
    d.pose_id = parley_event_id("pose");
    d.chat_id = parley_event_id("chat");
    if (parley_builder_create(&d.b) != PARLEY_OK || connect_all(&d) != 0) {
        rc = 1;
    } else {
        printf("%d clients joined %s; each link: %.0f%% loss, %u ms +- %u ms "
               "each way\n\n",
               d.n, d.target, d.loss, d.latency, d.jitter);
        run(&d);
        rc = verdict(&d);
    }
    for (int i = 0; i < d.n; i++) {
        if (d.c[i].cli != NULL && parley_client_is_connected(d.c[i].cli)) {
            parley_client_disconnect(d.c[i].cli, 1000);
        }
        parley_client_destroy(d.c[i].cli);
    }
    parley_builder_destroy(d.b);
    return rc;
}
