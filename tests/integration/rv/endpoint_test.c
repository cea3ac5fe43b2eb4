/*
 * The RV endpoint over real loopback sockets: a parley server endpoint
 * running in its own thread (answering through the event callback), parley
 * clients and raw sockets speaking RV bytes. Greetings both ways, calls
 * with EVENTs interleaved, timeouts, a 16 MiB DATAEVENT without copies,
 * many contacts, a stalled contact that must not delay others, malformed
 * input, refusal, sign-off, ping timeouts and the memory bound.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "pt.h"

#include "driver/rv_ep.h"
#include "parley/error.h"
#include "parley/rv.h"
#include "platform/platform.h"

/* ---- a server endpoint in a thread ----------------------------------------
 */

typedef struct srv {
    parley_rv *rv;
    pthread_t th;
    atomic_int stop;
    pthread_mutex_t mu;
    parley_addr addr;
    int contacts, left, errors, dataevents, events;
    int last_left_reason, last_error;
    uint8_t last_sha[32];
    size_t last_data_len;
    uint64_t slow_seq;
    parley_rv_contact slow_contact;
    int have_slow;
    int order_ok;     /* EVENT contents arrive per contact in order */
    int next_seq[64]; /* by contact slot */
} srv;

static int
ev_is(const parley_rv_event *e, const char *name)
{
    return e->name_len == strlen(name) &&
           memcmp(e->name, name, e->name_len) == 0;
}

static void
srv_returnevent(srv *s, parley_rv *rv, const parley_rv_event *e)
{
    if (ev_is(e, "slow")) {
        s->slow_seq = e->seq;
        s->slow_contact = e->contact;
        s->have_slow = 1;
        return;
    }
    if (ev_is(e, "bye")) {
        parley_rv_disconnect(rv, e->contact); /* never answers */
        return;
    }
    if (ev_is(e, "interleave")) {
        parley_rv_send_event(rv, e->contact, "pre1", NULL, "a", 1, 0, NULL);
        parley_rv_send_event(rv, e->contact, "pre2", NULL, "b", 1, 0, NULL);
    }
    if (ev_is(e, "answer-late") && s->have_slow) {
        /* answers the slow one too, in order */
        parley_rv_reply(rv, s->slow_contact, s->slow_seq, "late", 4);
        s->have_slow = 0;
    }
    parley_rv_reply(rv, e->contact, e->seq, e->contents, e->contents_len);
}

static void
srv_event(srv *s, const parley_rv_event *e)
{
    size_t slot = (size_t)(e->contact & 0xffffffffu) % 64;
    long n = strtol(e->contents, NULL, 10);
    if (n != s->next_seq[slot]) {
        s->order_ok = 0;
    }
    s->next_seq[slot] = (int)n + 1;
    s->events++;
}

static void
srv_on_event(void *user, parley_rv *rv, const parley_rv_event *e)
{
    srv *s = user;
    pthread_mutex_lock(&s->mu);
    switch (e->type) {
    case PARLEY_RV_EV_CONTACT:
        s->contacts++;
        s->next_seq[(e->contact & 0xffffffffu) % 64] = 0;
        break;
    case PARLEY_RV_EV_CONTACT_LEFT:
        s->left++;
        s->last_left_reason = e->reason;
        break;
    case PARLEY_RV_EV_ERROR:
        s->errors++;
        s->last_error = e->error;
        break;
    case PARLEY_RV_EV_RETURNEVENT:
        srv_returnevent(s, rv, e);
        break;
    case PARLEY_RV_EV_EVENT:
        srv_event(s, e);
        break;
    case PARLEY_RV_EV_DATAEVENT:
        s->dataevents++;
        s->last_data_len = e->data_len;
        parley_sha256(e->data, e->data_len, s->last_sha);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&s->mu);
}

static void *
srv_main(void *arg)
{
    srv *s = arg;
    while (!atomic_load(&s->stop)) {
        parley_rv_service(s->rv, 50, NULL);
    }
    return NULL;
}

static void
srv_start(srv *s, parley_rv_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->order_ok = 1;
    pthread_mutex_init(&s->mu, NULL);
    cfg->contact_name = "srv";
    cfg->app_name = "srvapp";
    cfg->listen = "127.0.0.1:0";
    cfg->on_event = srv_on_event;
    cfg->user = s;
    PT_OK(parley_rv_create(cfg, &s->rv));
    PT_OK(parley_rv_local_addr(s->rv, &s->addr));
    PT_TRUE(parley_rv_online(s->rv));
    PT_EQ_INT(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void
srv_stop(srv *s)
{
    atomic_store(&s->stop, 1);
    parley_rv_interrupt(s->rv);
    pthread_join(s->th, NULL);
    parley_rv_destroy(s->rv);
    pthread_mutex_destroy(&s->mu);
}

/* Reads an int field of the server under its lock. */
#define SRV_GET(s, field, out)                                                 \
    do {                                                                       \
        pthread_mutex_lock(&(s)->mu);                                          \
        (out) = (s)->field;                                                    \
        pthread_mutex_unlock(&(s)->mu);                                        \
    } while (0)

/* Waits up to ms for the server's field to reach want. */
static int
srv_wait(srv *s, int *field, int want, int ms)
{
    for (int i = 0; i < ms / 5; i++) {
        pthread_mutex_lock(&s->mu);
        int v = *field;
        pthread_mutex_unlock(&s->mu);
        if (v >= want) {
            return v;
        }
        usleep(5000);
    }
    pthread_mutex_lock(&s->mu);
    int v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* ---- clients ------------------------------------------------------------ */

static parley_rv *
client_new(const char *name)
{
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.contact_name = name;
    cfg.app_name = "tester";
    cfg.listen = NULL;
    parley_rv *rv;
    PT_OK(parley_rv_create(&cfg, &rv));
    PT_TRUE(!parley_rv_online(rv));
    return rv;
}

/* One service call; any event is dropped. */
static void
pump(parley_rv *rv, int ms)
{
    parley_rv_event ev;
    if (parley_rv_service(rv, ms, &ev) == 1) {
        parley_rv_event_release(rv, &ev);
    }
}

/* Services rv until an event of type arrives (others are released). */
static void
wait_type(parley_rv *rv, parley_rv_event_type type, int ms,
          parley_rv_event *out)
{
    uint64_t end = parley_time_us() + (uint64_t)ms * 1000;
    while (parley_time_us() < end) {
        parley_rv_event ev;
        if (parley_rv_service(rv, 20, &ev) == 1) {
            if (ev.type == type) {
                *out = ev;
                return;
            }
            parley_rv_event_release(rv, &ev);
        }
    }
    PT_FAIL_("no %s event within %d ms", parley_rv_event_name(type), ms);
}

static parley_rv_contact
connect_to(parley_rv *rv, const srv *s)
{
    parley_rv_contact c;
    PT_OK(parley_rv_connect_addr(rv, &s->addr, &c));
    PT_EQ_INT(parley_rv_contact_state(rv, c), PARLEY_RV_CONNECTING);
    parley_rv_event ev;
    wait_type(rv, PARLEY_RV_EV_CONTACT, 3000, &ev);
    PT_EQ_U64(ev.contact, c);
    PT_EQ_STR(ev.peer_name, "srv");
    PT_EQ_STR(ev.peer_app, "srvapp");
    PT_EQ_INT(ev.incoming, 0);
    parley_rv_event_release(rv, &ev);
    PT_EQ_INT(parley_rv_contact_state(rv, c), PARLEY_RV_READY);
    return c;
}

/* ---- raw sockets -------------------------------------------------------- */

static int
raw_connect(const parley_addr *to)
{
    int fd = -1;
    int rc = pl_os_tcp_connect_start(to, &fd);
    PT_TRUE(rc == PARLEY_OK || rc == PARLEY_EAGAIN);
    PT_OK(pl_os_wait_fd(fd, PL_OS_POLL_OUT, 2000));
    PT_OK(pl_os_tcp_connect_finish(fd));
    return fd;
}

static void
raw_send(int fd, const char *s, size_t n)
{
    size_t at = 0;
    while (at < n) {
        size_t sent = 0;
        int rc = pl_os_tcp_send(fd, s + at, n - at, &sent);
        if (rc == PARLEY_EAGAIN) {
            PT_OK(pl_os_wait_fd(fd, PL_OS_POLL_OUT, 2000));
            continue;
        }
        PT_OK(rc);
        at += sent;
    }
}

/* Reads until the peer closes (or ms pass); returns the bytes read. */
static size_t
raw_read_all(int fd, char *buf, size_t cap, int ms, int *closed)
{
    size_t have = 0;
    uint64_t end = parley_time_us() + (uint64_t)ms * 1000;
    *closed = 0;
    while (parley_time_us() < end && have < cap) {
        if (pl_os_wait_fd(fd, PL_OS_POLL_IN, 20) != PARLEY_OK) {
            continue;
        }
        size_t got = 0;
        int rc = pl_os_tcp_recv(fd, buf + have, cap - have, &got);
        if (rc == PARLEY_ECLOSED || rc == PARLEY_ECONNRESET) {
            *closed = 1;
            break;
        }
        if (rc == PARLEY_OK) {
            have += got;
        }
    }
    return have;
}

/* ---- tests --------------------------------------------------------------- */

PT_TEST(greetings_and_call)
{
    srv s;
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    srv_start(&s, &cfg);
    parley_rv *cl = client_new("alice");
    parley_rv_contact c = connect_to(cl, &s);
    parley_rv_contact_info info;
    PT_OK(parley_rv_contact_get_info(cl, c, &info));
    PT_EQ_STR(info.name, "srv");
    PT_TRUE(parley_rv_has_connection(cl, &s.addr));
    parley_rv_contact found;
    PT_OK(parley_rv_find_contact(cl, "srv@localhost", &found));
    PT_EQ_U64(found, c);
    PT_ERR(parley_rv_find_contact(cl, "nobody", &found), PARLEY_ENOENT);

    parley_rv_event ret;
    PT_OK(parley_rv_call(cl, c, "echo", NULL, "a  b\nc", 6, 3000, &ret));
    PT_EQ_INT(ret.type, PARLEY_RV_EV_RETURN);
    PT_EQ_U64(ret.seq, 0);
    PT_EQ_U64(ret.contents_len, 6);
    PT_EQ_MEM(ret.contents, "a  b\nc", 6);
    parley_rv_event_release(cl, &ret);
    parley_rv_event_release(cl, &ret); /* harmless twice */

    /* EVENTs that arrive before the RETURN are kept, in order. */
    PT_OK(parley_rv_call(cl, c, "interleave", "*", "x", 1, 3000, &ret));
    PT_EQ_U64(ret.seq, 1);
    PT_EQ_MEM(ret.contents, "x", 1);
    parley_rv_event_release(cl, &ret);
    parley_rv_event ev;
    PT_EQ_INT(parley_rv_service(cl, 0, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_RV_EV_EVENT);
    PT_EQ_STR(ev.name, "pre1");
    parley_rv_event_release(cl, &ev);
    PT_EQ_INT(parley_rv_service(cl, 0, &ev), 1);
    PT_EQ_STR(ev.name, "pre2");
    parley_rv_event_release(cl, &ev);

    /* A RETURN that is late: the call times out; the RETURN comes later
       as an ordinary event carrying its seq. */
    uint64_t t0 = parley_time_us();
    PT_ERR(parley_rv_call(cl, c, "slow", NULL, NULL, 0, 200, &ret),
           PARLEY_ETIMEDOUT);
    uint64_t took = parley_time_us() - t0;
    PT_GE_U64(took, 190000);
    PT_LT_U64(took, 1500000);
    PT_OK(parley_rv_call(cl, c, "answer-late", NULL, "y", 1, 3000, &ret));
    PT_EQ_U64(ret.seq, 3);
    parley_rv_event_release(cl, &ret);
    PT_EQ_INT(parley_rv_service(cl, 0, &ev), 1);
    PT_EQ_INT(ev.type, PARLEY_RV_EV_RETURN);
    PT_EQ_U64(ev.seq, 2);
    PT_EQ_MEM(ev.contents, "late", 4);
    parley_rv_event_release(cl, &ev);

    /* wait_message: returns once something arrives for the contact. */
    PT_ERR(parley_rv_wait_message(cl, c, 50), PARLEY_ETIMEDOUT);
    uint64_t seq = 0;
    PT_OK(parley_rv_send_event(cl, c, "interleave", NULL, "z", 1,
                               PARLEY_RV_RSVP, &seq));
    PT_EQ_U64(seq, 4);
    PT_OK(parley_rv_wait_message(cl, c, 2000));
    wait_type(cl, PARLEY_RV_EV_RETURN, 2000, &ev);
    PT_EQ_U64(ev.seq, 4);
    parley_rv_event_release(cl, &ev);

    /* Tiles of a declared format must have its size. */
    PT_OK(parley_rv_set_media_format(cl, "m", 4, 1));
    parley_rv_tile t = {2, 2, 0, 0, 1, NULL, "m", NULL, NULL};
    PT_ERR(parley_rv_send_pixels(cl, c, &t, "0123456789abcde", 15),
           PARLEY_EMSGSIZE);
    PT_OK(parley_rv_send_pixels(cl, c, &t, "0123456789abcdef", 16));
    PT_ERR(parley_rv_set_media_format(cl, "m", 5, 1), PARLEY_EINVAL);

    /* Sign off: DISCONNECT reaches the server, which sends nothing back. */
    PT_OK(parley_rv_sign_off(cl, c, 2000));
    wait_type(cl, PARLEY_RV_EV_CONTACT_LEFT, 2000, &ev);
    PT_EQ_INT(ev.reason, PARLEY_RV_LEFT_LOCAL);
    parley_rv_event_release(cl, &ev);
    PT_EQ_INT(srv_wait(&s, &s.left, 1, 2000), 1);
    int reason;
    SRV_GET(&s, last_left_reason, reason);
    PT_EQ_INT(reason, PARLEY_RV_LEFT_DISCONNECT);
    PT_ERR(parley_rv_send_message(cl, c, "x", 1), PARLEY_ENOTCONN);
    parley_rv_destroy(cl);
    srv_stop(&s);
}

/* A call whose contact leaves instead of answering ends at once. */
PT_TEST(call_ends_when_contact_leaves)
{
    srv s;
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    srv_start(&s, &cfg);
    parley_rv *cl = client_new("leaver");
    parley_rv_contact c = connect_to(cl, &s);
    uint64_t t0 = parley_time_us();
    parley_rv_event ret;
    PT_ERR(parley_rv_call(cl, c, "bye", NULL, NULL, 0, 5000, &ret),
           PARLEY_ENOTCONN);
    PT_LT_U64(parley_time_us() - t0, 1000000);
    parley_rv_event ev;
    wait_type(cl, PARLEY_RV_EV_CONTACT_LEFT, 2000, &ev);
    PT_EQ_INT(ev.reason, PARLEY_RV_LEFT_DISCONNECT);
    parley_rv_event_release(cl, &ev);
    parley_rv_destroy(cl);
    srv_stop(&s);
}

static atomic_int g_released;

static void
release_buf(void *user, void *data)
{
    (void)user;
    free(data);
    atomic_fetch_add(&g_released, 1);
}

PT_TEST(big_dataevent_zero_copy)
{
    srv s;
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    srv_start(&s, &cfg);
    parley_rv *cl = client_new("bulk");
    parley_rv_contact c = connect_to(cl, &s);
    size_t n = (size_t)16 << 20;
    uint8_t *buf = malloc(n);
    PT_TRUE(buf != NULL);
    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    }
    uint8_t want[32];
    parley_sha256(buf, n, want);
    char interp[128];
    PT_GT_INT(parley_rv_format_dataevent("blob", NULL, "application/x", interp,
                                         sizeof interp),
              0);
    PT_EQ_STR(interp, "DATAEVENT(blob,*,application/x)");
    atomic_store(&g_released, 0);
    uint64_t t0 = parley_time_us();
    PT_OK(parley_rv_send_data_owned(cl, c, interp, buf, n, release_buf, NULL));
    PT_OK(parley_rv_wait_sent(cl, c, 10000));
    PT_EQ_INT(atomic_load(&g_released), 1);
    PT_EQ_INT(srv_wait(&s, &s.dataevents, 1, 10000), 1);
    double secs = (double)(parley_time_us() - t0) / 1e6;
    printf("  16 MiB DATAEVENT over loopback in %.3f s\n", secs);
    pthread_mutex_lock(&s.mu);
    PT_EQ_U64(s.last_data_len, n);
    PT_EQ_MEM(s.last_sha, want, 32);
    pthread_mutex_unlock(&s.mu);
    parley_rv_destroy(cl);
    srv_stop(&s);
}

PT_TEST(many_contacts_in_order)
{
    srv s;
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    srv_start(&s, &cfg);
    parley_rv *cl = client_new("many");
    enum { N = 20, M = 50 };
    parley_rv_contact cs[N];
    for (int i = 0; i < N; i++) {
        PT_OK(parley_rv_connect_addr(cl, &s.addr, &cs[i]));
    }
    for (int m = 0; m < M; m++) {
        for (int i = 0; i < N; i++) {
            char txt[16];
            int len = snprintf(txt, sizeof txt, "%d", m);
            /* queued behind the greeting while still connecting */
            PT_OK(parley_rv_send_event(cl, cs[i], "n", NULL, txt, (size_t)len,
                                       0, NULL));
        }
    }
    PT_EQ_U64(parley_rv_contacts(cl, NULL, 0), N);
    /* Once all are usable, one broadcast reaches each as its next. */
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 300 && parley_rv_contact_state(cl, cs[i]) ==
                                       PARLEY_RV_CONNECTING;
             k++) {
            pump(cl, 10);
        }
    }
    char last[16];
    int ll = snprintf(last, sizeof last, "%d", M);
    PT_OK(parley_rv_broadcast_event(cl, "n", NULL, last, (size_t)ll, 0));
    PT_OK(parley_rv_wait_sent(cl, PARLEY_RV_CONTACT_NONE, 5000));
    PT_EQ_INT(srv_wait(&s, &s.events, N * (M + 1), 5000), N * (M + 1));
    int ok, contacts;
    SRV_GET(&s, order_ok, ok);
    SRV_GET(&s, contacts, contacts);
    PT_EQ_INT(ok, 1);
    PT_EQ_INT(contacts, N);
    parley_rv_destroy(cl);
    PT_EQ_INT(srv_wait(&s, &s.left, N, 3000), N);
    srv_stop(&s);
}

/* A contact that never reads, with 64 MiB queued for it, does not delay
   a call on another contact. */
PT_TEST(stalled_contact_does_not_block_others)
{
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.contact_name = "hub";
    parley_rv *hub;
    PT_OK(parley_rv_create(&cfg, &hub));
    parley_addr where;
    PT_OK(parley_rv_local_addr(hub, &where));
    int raw = raw_connect(&where);
    raw_send(raw, "NEWGREETING 8 stall xx", 22);
    parley_rv_event ev;
    wait_type(hub, PARLEY_RV_EV_CONTACT, 2000, &ev);
    parley_rv_contact stalled = ev.contact;
    PT_EQ_STR(ev.peer_name, "stall");
    PT_EQ_INT(ev.incoming, 1);
    parley_rv_event_release(hub, &ev);
    size_t big = (size_t)64 << 20;
    uint8_t *junk = calloc(1, big);
    PT_OK(parley_rv_send_data(hub, stalled, "FOO(x)", junk, big));
    free(junk);

    srv s;
    parley_rv_config scfg;
    parley_rv_config_init(&scfg);
    srv_start(&s, &scfg);
    parley_rv_contact c = connect_to(hub, &s);
    uint64_t t0 = parley_time_us();
    parley_rv_event ret;
    PT_OK(parley_rv_call(hub, c, "echo", NULL, "ok", 2, 2000, &ret));
    parley_rv_event_release(hub, &ret);
    PT_LT_U64(parley_time_us() - t0, 500000);
    parley_rv_contact_info info;
    PT_OK(parley_rv_contact_get_info(hub, stalled, &info));
    PT_GT_U64(info.queued, 0);
    PT_ERR(parley_rv_wait_sent(hub, stalled, 100), PARLEY_ETIMEDOUT);
    pl_os_close(raw);
    parley_rv_destroy(hub);
    srv_stop(&s);
}

/* Bad bytes from one peer: ERROR, DISCONNECT, close; the others go on. */
PT_TEST(malformed_input_closes_only_that_contact)
{
    srv s;
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    srv_start(&s, &cfg);
    parley_rv *cl = client_new("good");
    parley_rv_contact c = connect_to(cl, &s);
    int raw = raw_connect(&s.addr);
    raw_send(raw, "NEWGREETING 5 bad x", 19);
    raw_send(raw, "MESSAGE 0 ", 10);
    char buf[256];
    int closed;
    size_t n = raw_read_all(raw, buf, sizeof buf, 2000, &closed);
    static const char want[] = "NEWGREETING 10 srv srvapp"
                               "PINGPONGCONTROL 1 0"
                               "MESSAGE 10 DISCONNECT";
    PT_EQ_U64(n, sizeof want - 1);
    PT_EQ_MEM(buf, want, n);
    PT_TRUE(closed);
    pl_os_close(raw);
    PT_EQ_INT(srv_wait(&s, &s.errors, 1, 2000), 1);
    int err;
    SRV_GET(&s, last_error, err);
    PT_EQ_INT(err, PARLEY_EPROTO);

    /* A peer whose first frame is not a greeting gets nothing at all. */
    raw = raw_connect(&s.addr);
    raw_send(raw, "PINGPONGCONTROL 1 0", 19);
    n = raw_read_all(raw, buf, sizeof buf, 2000, &closed);
    PT_EQ_U64(n, 0);
    PT_TRUE(closed);
    pl_os_close(raw);

    parley_rv_event ret;
    PT_OK(parley_rv_call(cl, c, "echo", NULL, "still", 5, 2000, &ret));
    PT_EQ_MEM(ret.contents, "still", 5);
    parley_rv_event_release(cl, &ret);
    parley_rv_destroy(cl);
    srv_stop(&s);
}

PT_TEST(refused_and_rejected)
{
    /* Nobody listening: CONNECT_FAILED (or an immediate error). */
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    parley_rv *tmp;
    PT_OK(parley_rv_create(&cfg, &tmp));
    parley_addr dead;
    PT_OK(parley_rv_local_addr(tmp, &dead));
    parley_rv_destroy(tmp);
    parley_rv *cl = client_new("x");
    parley_rv_contact c;
    int rc = parley_rv_connect_addr(cl, &dead, &c);
    if (rc == PARLEY_OK) {
        parley_rv_event ev;
        wait_type(cl, PARLEY_RV_EV_CONNECT_FAILED, 2000, &ev);
        PT_EQ_INT(ev.error, PARLEY_ECONNREFUSED);
        parley_rv_event_release(cl, &ev);
    } else {
        PT_ERR(rc, PARLEY_ECONNREFUSED);
    }
    PT_EQ_INT(parley_rv_contact_state(cl, c), PARLEY_RV_GONE);

    /* A server app that rejects: closed before its greeting. */
    parley_rv_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.manual_accept = 1;
    parley_rv *sv;
    PT_OK(parley_rv_create(&cfg, &sv));
    parley_addr where;
    PT_OK(parley_rv_local_addr(sv, &where));
    PT_OK(parley_rv_connect_addr(cl, &where, &c));
    parley_rv_event ev;
    for (int i = 0; i < 20; i++) {
        pump(cl, 10);
    }
    wait_type(sv, PARLEY_RV_EV_REQUEST, 2000, &ev);
    PT_EQ_STR(ev.peer_name, "x");
    PT_EQ_INT(parley_rv_contact_state(sv, ev.contact), PARLEY_RV_REQUESTED);
    PT_OK(parley_rv_reject(sv, ev.contact));
    PT_ERR(parley_rv_accept(sv, ev.contact), PARLEY_ENOTCONN);
    parley_rv_event_release(sv, &ev);
    wait_type(cl, PARLEY_RV_EV_CONNECT_FAILED, 2000, &ev);
    PT_EQ_INT(ev.error, PARLEY_EREJECTED);
    parley_rv_event_release(cl, &ev);
    parley_rv_destroy(sv);
    parley_rv_destroy(cl);
}

/* Pinging on: a silent raw peer gets PINGs and is dropped after the pong
   timeout; a parley peer answers PINGs by itself and stays. */
PT_TEST(ping_timeout_drops_dead_peer)
{
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.pingpong = 1;
    cfg.ping_interval_ms = 50;
    cfg.pong_timeout_ms = 300;
    parley_rv *sv;
    PT_OK(parley_rv_create(&cfg, &sv));
    parley_addr where;
    PT_OK(parley_rv_local_addr(sv, &where));
    int raw = raw_connect(&where);
    raw_send(raw, "NEWGREETING 6 mute x", 20);
    parley_rv *cl = client_new("alive");
    parley_rv_contact c;
    PT_OK(parley_rv_connect_addr(cl, &where, &c));
    parley_rv_contact dropped = PARLEY_RV_CONTACT_NONE;
    int reason = -1;
    uint64_t end = parley_time_us() + 3000000;
    while (parley_time_us() < end && reason < 0) {
        pump(cl, 5);
        parley_rv_event ev;
        if (parley_rv_service(sv, 5, &ev) == 1) {
            if (ev.type == PARLEY_RV_EV_CONTACT &&
                strcmp(ev.peer_name, "mute") == 0) {
                dropped = ev.contact;
            }
            if (ev.type == PARLEY_RV_EV_CONTACT_LEFT) {
                PT_EQ_U64(ev.contact, dropped);
                reason = (int)ev.reason;
            }
            parley_rv_event_release(sv, &ev);
        }
    }
    PT_EQ_INT(reason, PARLEY_RV_LEFT_TIMEOUT);
    char buf[512];
    int closed;
    size_t n = raw_read_all(raw, buf, sizeof buf - 1, 500, &closed);
    buf[n] = '\0';
    PT_TRUE(strstr(buf, "PING 1 p") != NULL);
    PT_TRUE(strstr(buf, "MESSAGE 10 DISCONNECT") != NULL);
    PT_TRUE(closed);
    PT_EQ_INT(parley_rv_contact_state(cl, c), PARLEY_RV_READY);
    pl_os_close(raw);
    parley_rv_destroy(cl);
    parley_rv_destroy(sv);
}

/* Receive memory stays near max_memory: reading pauses while the app
   holds events, and resumes when it releases them. */
PT_TEST(memory_bound_pauses_reading)
{
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.max_memory = (size_t)4 << 20;
    parley_rv *sv;
    PT_OK(parley_rv_create(&cfg, &sv));
    parley_addr where;
    PT_OK(parley_rv_local_addr(sv, &where));
    parley_rv *cl = client_new("flood");
    parley_rv_contact c;
    PT_OK(parley_rv_connect_addr(cl, &where, &c));
    size_t sz = (size_t)3 << 20;
    uint8_t *blob = calloc(1, sz);
    for (int i = 0; i < 4; i++) {
        PT_OK(parley_rv_send_dataevent(cl, c, "d", NULL, "raw", blob, sz));
    }
    free(blob);
    parley_rv_event held[4];
    int got = 0;
    size_t peak = 0;
    uint64_t end = parley_time_us() + 600000;
    while (parley_time_us() < end) {
        pump(cl, 0);
        parley_rv_event ev;
        if (parley_rv_service(sv, 5, &ev) == 1) {
            if (ev.type == PARLEY_RV_EV_DATAEVENT) {
                held[got++] = ev; /* kept: not released */
                continue;
            }
            parley_rv_event_release(sv, &ev);
        }
        peak = sv->budget.used > peak ? sv->budget.used : peak;
    }
    /* One 3 MiB frame held by the app: the next does not fit in 4 MiB,
       so it is not read (the kernel's buffers hold the rest). */
    PT_EQ_INT(got, 1);
    PT_LE_U64(peak, cfg.max_memory);
    for (int i = 0; i < got; i++) {
        parley_rv_event_release(sv, &held[i]);
    }
    int more = got;
    end = parley_time_us() + 3000000;
    while (parley_time_us() < end && more < 4) {
        pump(cl, 0);
        parley_rv_event ev;
        if (parley_rv_service(sv, 5, &ev) == 1) {
            more += ev.type == PARLEY_RV_EV_DATAEVENT;
            parley_rv_event_release(sv, &ev);
        }
    }
    PT_EQ_INT(more, 4);
    PT_EQ_U64(sv->budget.used, 0);
    parley_rv_destroy(cl);
    parley_rv_destroy(sv);
}

static void *
interrupter(void *arg)
{
    usleep(100000);
    parley_rv_interrupt(arg);
    return NULL;
}

PT_TEST(interrupt_and_pollfds)
{
    parley_rv_config cfg;
    parley_rv_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    parley_rv *rv;
    PT_OK(parley_rv_create(&cfg, &rv));
    parley_rv_pollfd fds[4];
    PT_EQ_U64(parley_rv_pollfds(rv, fds, 4), 2); /* wakeup and listener */
    PT_EQ_U64(fds[0].events, PARLEY_RV_POLL_IN);
    PT_EQ_INT(parley_rv_next_timeout_ms(rv), -1);
    pthread_t th;
    PT_EQ_INT(pthread_create(&th, NULL, interrupter, rv), 0);
    uint64_t t0 = parley_time_us();
    parley_rv_event ev;
    PT_EQ_INT(parley_rv_service(rv, 5000, &ev), 0);
    PT_LT_U64(parley_time_us() - t0, 2000000);
    pthread_join(th, NULL);
    parley_rv_destroy(rv);

    /* Bad configurations are refused. */
    parley_rv_config_init(&cfg);
    cfg.app_name = "rv";
    PT_ERR(parley_rv_create(&cfg, &rv), PARLEY_EINVAL);
    parley_rv_config_init(&cfg);
    cfg.contact_name = "a b";
    PT_ERR(parley_rv_create(&cfg, &rv), PARLEY_EINVAL);
    parley_rv_config_init(&cfg);
    cfg.contact_name = "me@host";
    PT_ERR(parley_rv_create(&cfg, &rv), PARLEY_EINVAL);
}

PT_MAIN(PT_RUN(greetings_and_call) PT_RUN(call_ends_when_contact_leaves)
            PT_RUN(big_dataevent_zero_copy) PT_RUN(many_contacts_in_order)
                PT_RUN(stalled_contact_does_not_block_others)
                    PT_RUN(malformed_input_closes_only_that_contact)
                        PT_RUN(refused_and_rejected)
                            PT_RUN(ping_timeout_drops_dead_peer)
                                PT_RUN(memory_bound_pauses_reading)
                                    PT_RUN(interrupt_and_pollfds))
