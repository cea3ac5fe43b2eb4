/*
 * The link simulator behind include/parley/sim.h: a one-way datagram pipe
 * with loss (independent and Gilbert-Elliott), a rate-limited bottleneck
 * with a tail-drop queue, latency, jitter, reordering and duplication, in
 * caller-supplied microseconds.
 *
 * How a pushed datagram is handled, in order:
 *  1. Exactly DRAWS (6) random values are drawn, one per decision, for
 *     every push that returns PARLEY_OK, whatever the settings and
 *     whether or not the datagram is then dropped. Push number i always
 *     uses draws 6i..6i+5, so changing one setting (say loss_pct) never
 *     shifts the random sequence another one (say jitter) sees.
 *  2. Loss: the Gilbert-Elliott chain (when ge_p_pct > 0) takes one step,
 *     then the datagram is lost with loss_pct, or with the loss of the
 *     chain's state (dropped_loss). While ge_p_pct is 0 the chain rests in
 *     the good state.
 *  3. max_held: no room -> dropped_queue.
 *  4. Bottleneck (rate_bytes_per_s > 0): when the bytes pushed but not yet
 *     serialised plus this datagram exceed queue_bytes it is tail-dropped
 *     (dropped_queue). Otherwise its last bit leaves at max(now,
 *     link_free) + len * 1e6 / rate, kept exactly as whole microseconds
 *     plus a remainder, and rounded up to a microsecond for delivery.
 *  5. Delay: uniform in [latency - jitter, latency + jitter] (clamped at
 *     0) after serialisation. An in-order datagram is due at max(its own
 *     time, the last in-order due time), so jitter never reorders and its
 *     delay stays within the band. A reordered one (reorder_pct) is due at
 *     that in-order time plus the hold, and does not move the in-order
 *     floor, so every later datagram pushed within the hold overtakes it.
 *  6. Duplication (dup_pct): the copy gets the same due time and is
 *     delivered right after the original (ties go in push order). The
 *     copy does not pass through the bottleneck (the link duplicates on
 *     its far side), and it is skipped when max_held leaves room for only
 *     one of the two.
 *
 * A configure that changes latency_ms or jitter_ms resets the in-order
 * floor, so a lower latency takes effect at once for later datagrams (they
 * may overtake ones pushed before, as on a route change); in-flight
 * datagrams keep their due times.
 *
 * Memory: held datagrams live in a binary min-heap keyed on (due, push
 * sequence); their bytes in buffers of power-of-two size classes that are
 * recycled through per-class free lists, so the steady path does not
 * allocate; a class that runs dry is restocked with half as many again as
 * it has out. Each pop trims the free lists to CACHE_FLOOR + the buffer
 * bytes held + 4 buffers of the largest class used, so whatever is pushed
 * the buffers stay below twice the buffer bytes held (each at most twice
 * its datagram) + CACHE_FLOOR + a few of the largest buffers, and the heap
 * below max_held entries. Everything a push may need is reserved before
 * the random draws, so a push that fails with PARLEY_ENOMEM changes
 * nothing, not even the random sequence.
 */
#include "parley/sim.h"

#include <limits.h>
#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"
#include "util/rng.h"

#define DEFAULT_QUEUE_BYTES ((size_t)64 * 1024)
#define DEFAULT_MAX_DATAGRAM ((size_t)65536)
#define DEFAULT_MAX_HELD ((size_t)65536)
#define DEFAULT_HOLD_US ((uint64_t)10000)
#define MIN_CLASS_SHIFT 6 /* smallest buffer: 64 bytes */
#define NUM_CLASSES (sizeof(size_t) * CHAR_BIT - MIN_CLASS_SHIFT)
#define CACHE_FLOOR ((size_t)256 * 1024)
#define MIN_ARRAY 16

/* Which raw draw decides what (see step 1 above). */
enum {
    DRAW_GE_STEP,
    DRAW_LOSS,
    DRAW_GE_LOSS,
    DRAW_JITTER,
    DRAW_REORDER,
    DRAW_DUP,
    DRAWS
};

/* A datagram in flight: one heap entry, owning its buffer. */
struct held {
    uint64_t due;
    uint64_t seq;
    unsigned char *data;
    size_t len;
    parley_addr from;
    parley_addr to;
};

/* A datagram in the bottleneck: when its last bit leaves, and its size. */
struct wire {
    uint64_t finish_us;
    size_t len;
};

struct parley_sim {
    parley_sim_config cfg; /* as last set; seed as created */
    uint64_t latency_us;
    uint64_t jitter_us;
    uint64_t hold_us;
    size_t queue_bytes;
    size_t max_datagram;
    size_t max_held;

    pl_rng rng;
    int ge_bad;
    uint64_t clock_us; /* latest time seen: later calls never go back */
    uint64_t floor_us; /* due time of the last in-order datagram */
    uint64_t next_seq;

    struct held *heap;
    size_t heap_cap;

    struct wire *wire; /* ring, in serialisation order */
    size_t wire_head;
    size_t wire_n;
    size_t wire_cap;
    size_t wire_bytes;
    uint64_t link_us;   /* the link is free at link_us + link_frac / rate */
    uint64_t link_frac; /* always < rate */

    unsigned char *free_bufs[NUM_CLASSES];
    size_t cached_bytes; /* in the free lists */
    size_t live_bytes;   /* buffers held or reserved */
    size_t class_live[NUM_CLASSES];
    size_t largest_class_bytes; /* of any buffer allocated so far */

    parley_sim_stats stats;
};

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int
valid_pct(double p)
{
    return p >= 0.0 && p <= 100.0; /* false for NaN */
}

static int
valid_config(const parley_sim_config *cfg)
{
    return valid_pct(cfg->loss_pct) && valid_pct(cfg->dup_pct) &&
           valid_pct(cfg->reorder_pct) && valid_pct(cfg->ge_p_pct) &&
           valid_pct(cfg->ge_r_pct) && valid_pct(cfg->ge_loss_good_pct) &&
           valid_pct(cfg->ge_loss_bad_pct);
}

/* Copies a validated config in and works out the defaults. */
static void
apply_config(parley_sim *sim, const parley_sim_config *cfg)
{
    uint64_t seed = sim->cfg.seed;
    sim->cfg = *cfg;
    sim->cfg.seed = seed;
    sim->latency_us = (uint64_t)cfg->latency_ms * 1000;
    sim->jitter_us = (uint64_t)cfg->jitter_ms * 1000;
    if (cfg->reorder_ms != 0) {
        sim->hold_us = (uint64_t)cfg->reorder_ms * 1000;
    } else {
        sim->hold_us =
            sim->jitter_us > DEFAULT_HOLD_US ? sim->jitter_us : DEFAULT_HOLD_US;
    }
    sim->queue_bytes =
        cfg->queue_bytes ? cfg->queue_bytes : DEFAULT_QUEUE_BYTES;
    sim->max_datagram =
        cfg->max_datagram ? cfg->max_datagram : DEFAULT_MAX_DATAGRAM;
    sim->max_held = cfg->max_held ? cfg->max_held : DEFAULT_MAX_HELD;
}

/* A free buffer keeps the free list's next pointer in its first bytes. */
static unsigned char *
next_free(const unsigned char *p)
{
    unsigned char *next;
    memcpy(&next, p, sizeof next);
    return next;
}

static void
set_next_free(unsigned char *p, unsigned char *next)
{
    memcpy(p, &next, sizeof next);
}

void
parley_sim_config_init(parley_sim_config *cfg)
{
    if (!cfg) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
}

int
parley_sim_create(const parley_sim_config *cfg, parley_sim **out)
{
    if (!cfg || !out || !valid_config(cfg)) {
        return PARLEY_EINVAL;
    }
    parley_sim *sim = pl_calloc(1, sizeof *sim);
    if (!sim) {
        return PARLEY_ENOMEM;
    }
    sim->cfg.seed = cfg->seed;
    apply_config(sim, cfg);
    pl_rng_seed(&sim->rng, cfg->seed);
    *out = sim;
    return PARLEY_OK;
}

void
parley_sim_destroy(parley_sim *sim)
{
    if (!sim) {
        return;
    }
    for (size_t i = 0; i < sim->stats.held; i++) {
        pl_free(sim->heap[i].data);
    }
    for (size_t k = 0; k < NUM_CLASSES; k++) {
        unsigned char *p = sim->free_bufs[k];
        while (p) {
            unsigned char *next = next_free(p);
            pl_free(p);
            p = next;
        }
    }
    pl_free(sim->heap);
    pl_free(sim->wire);
    pl_free(sim);
}

int
parley_sim_configure(parley_sim *sim, const parley_sim_config *cfg)
{
    if (!sim || !cfg || !valid_config(cfg)) {
        return PARLEY_EINVAL;
    }
    if (cfg->latency_ms != sim->cfg.latency_ms ||
        cfg->jitter_ms != sim->cfg.jitter_ms) {
        sim->floor_us = 0;
    }
    if (cfg->rate_bytes_per_s != sim->cfg.rate_bytes_per_s) {
        /* The remainder is in units of the old rate: round it up. */
        if (sim->link_frac != 0) {
            sim->link_us = sat_add(sim->link_us, 1);
        }
        sim->link_frac = 0;
    }
    apply_config(sim, cfg);
    return PARLEY_OK;
}

/* ---- buffers ---------------------------------------------------------- */

/* The smallest class k whose buffers (64 << k bytes) hold len bytes. */
static size_t
size_class(size_t len)
{
    size_t k = 0;
    size_t cap = (size_t)1 << MIN_CLASS_SHIFT;
    while (cap < len) {
        cap <<= 1;
        k++;
    }
    return k;
}

static size_t
class_bytes(size_t k)
{
    return (size_t)1 << (k + MIN_CLASS_SHIFT);
}

/* The most the free lists may keep: CACHE_FLOOR plus the bytes held plus
   four buffers of the largest class used, so that even rare big datagrams
   cycle without allocating. */
static size_t
cache_limit(const parley_sim *sim)
{
    size_t limit = CACHE_FLOOR;
    size_t big = sim->largest_class_bytes;
    limit +=
        sim->live_bytes < SIZE_MAX - limit ? sim->live_bytes : SIZE_MAX - limit;
    if (big <= (SIZE_MAX - limit) / 4) {
        limit += 4 * big;
    } else {
        limit = SIZE_MAX;
    }
    return limit;
}

/*
 * Called when class k has run dry: stocks its free list with half as
 * many buffers again as it has out (within max_held and the cache limit).
 * Under a steady load each class's peak keeps creeping up now and then;
 * this headroom makes such a peak cost no allocation, and the number of
 * times a class runs dry grows only with the log of its peak. Best effort:
 * an allocation failure here is no error.
 */
static void
stock_class(parley_sim *sim, size_t k)
{
    size_t bytes = class_bytes(k);
    size_t n = sim->class_live[k] / 2;
    size_t room = sim->max_held > sim->class_live[k] + 1
                      ? sim->max_held - sim->class_live[k] - 1
                      : 0;
    size_t limit = cache_limit(sim);
    size_t fit =
        limit > sim->cached_bytes ? (limit - sim->cached_bytes) / bytes : 0;
    n = n < room ? n : room;
    n = n < fit ? n : fit;
    for (size_t i = 0; i < n; i++) {
        unsigned char *p = pl_malloc(bytes);
        if (!p) {
            return;
        }
        set_next_free(p, sim->free_bufs[k]);
        sim->free_bufs[k] = p;
        sim->cached_bytes += bytes;
    }
}

static unsigned char *
take_buf(parley_sim *sim, size_t k)
{
    size_t bytes = class_bytes(k);
    unsigned char *p = sim->free_bufs[k];
    if (p) {
        sim->free_bufs[k] = next_free(p);
        sim->cached_bytes -= bytes;
    } else {
        p = pl_malloc(bytes);
        if (!p) {
            return NULL;
        }
        if (bytes > sim->largest_class_bytes) {
            sim->largest_class_bytes = bytes;
        }
        stock_class(sim, k);
    }
    sim->class_live[k]++;
    sim->live_bytes += bytes;
    return p;
}

/* Frees cached buffers, largest first, until the cache is within limit. */
static void
trim_cache(parley_sim *sim, size_t limit)
{
    size_t k = NUM_CLASSES;
    while (sim->cached_bytes > limit && k > 0) {
        unsigned char *p = sim->free_bufs[k - 1];
        if (!p) {
            k--;
            continue;
        }
        sim->free_bufs[k - 1] = next_free(p);
        sim->cached_bytes -= class_bytes(k - 1);
        pl_free(p);
    }
}

/* Returns a buffer to its free list; trim bounds what the lists keep. */
static void
put_buf(parley_sim *sim, size_t k, unsigned char *p, int trim)
{
    size_t bytes = class_bytes(k);
    set_next_free(p, sim->free_bufs[k]);
    sim->free_bufs[k] = p;
    sim->cached_bytes += bytes;
    sim->live_bytes -= bytes;
    sim->class_live[k]--;
    if (trim) {
        trim_cache(sim, cache_limit(sim));
    }
}

/* ---- arrays ----------------------------------------------------------- */

/* A new capacity of at least need: doubling, capped at limit if it can. */
static size_t
next_cap(size_t cap, size_t need, size_t limit, size_t elem)
{
    size_t c = cap < MIN_ARRAY ? MIN_ARRAY : cap;
    while (c < need && c <= SIZE_MAX / 2) {
        c *= 2;
    }
    if (c < need) {
        c = need;
    }
    if (c > limit && limit >= need) {
        c = limit;
    }
    return c > SIZE_MAX / elem ? 0 : c;
}

static int
grow_heap(parley_sim *sim, size_t need)
{
    if (need <= sim->heap_cap) {
        return PARLEY_OK;
    }
    size_t cap =
        next_cap(sim->heap_cap, need, sim->max_held, sizeof *sim->heap);
    struct held *h = cap ? pl_realloc(sim->heap, cap * sizeof *h) : NULL;
    if (!h) {
        return PARLEY_ENOMEM;
    }
    sim->heap = h;
    sim->heap_cap = cap;
    return PARLEY_OK;
}

static int
grow_wire(parley_sim *sim, size_t need)
{
    if (need <= sim->wire_cap) {
        return PARLEY_OK;
    }
    size_t cap =
        next_cap(sim->wire_cap, need, sim->max_held, sizeof *sim->wire);
    struct wire *w = cap ? pl_malloc(cap * sizeof *w) : NULL;
    if (!w) {
        return PARLEY_ENOMEM;
    }
    for (size_t i = 0; i < sim->wire_n; i++) {
        w[i] = sim->wire[(sim->wire_head + i) % sim->wire_cap];
    }
    pl_free(sim->wire);
    sim->wire = w;
    sim->wire_head = 0;
    sim->wire_cap = cap;
    return PARLEY_OK;
}

/* How many buffers a push may fill: the datagram and maybe its copy. */
static size_t
room_for(const parley_sim *sim)
{
    size_t held = sim->stats.held;
    if (held >= sim->max_held) {
        return 0;
    }
    return (sim->cfg.dup_pct > 0.0 && held + 1 < sim->max_held) ? 2 : 1;
}

/* Makes sure nothing can fail after the random draws. */
static int
reserve(parley_sim *sim, size_t len, size_t n, unsigned char **bufs)
{
    if (n == 0) {
        return PARLEY_OK;
    }
    if (grow_heap(sim, sim->stats.held + n) != PARLEY_OK) {
        return PARLEY_ENOMEM;
    }
    if (sim->cfg.rate_bytes_per_s != 0 &&
        grow_wire(sim, sim->wire_n + 1) != PARLEY_OK) {
        return PARLEY_ENOMEM;
    }
    size_t k = size_class(len);
    for (size_t i = 0; i < n; i++) {
        bufs[i] = take_buf(sim, k);
        if (!bufs[i]) {
            while (i > 0) {
                i--;
                put_buf(sim, k, bufs[i], 0);
            }
            return PARLEY_ENOMEM;
        }
    }
    return PARLEY_OK;
}

/* ---- the heap --------------------------------------------------------- */

static int
before(const struct held *a, const struct held *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
sift_up(struct held *h, size_t i)
{
    struct held x = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&x, &h[parent])) {
            break;
        }
        h[i] = h[parent];
        i = parent;
    }
    h[i] = x;
}

static void
sift_down(struct held *h, size_t n, size_t i)
{
    struct held x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) {
            break;
        }
        if (c + 1 < n && before(&h[c + 1], &h[c])) {
            c++;
        }
        if (!before(&h[c], &x)) {
            break;
        }
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static void
insert(parley_sim *sim, uint64_t due, unsigned char *buf, const void *data,
       size_t len, const parley_addr *from, const parley_addr *to)
{
    size_t i = sim->stats.held;
    struct held *e = &sim->heap[i];
    memset(e, 0, sizeof *e);
    e->due = due;
    e->seq = sim->next_seq++;
    e->data = buf;
    e->len = len;
    if (len > 0) {
        memcpy(buf, data, len);
    }
    if (from) {
        e->from = *from;
    }
    if (to) {
        e->to = *to;
    }
    sim->stats.held++;
    sim->stats.held_bytes += len;
    sift_up(sim->heap, i);
}

/* ---- the impairments -------------------------------------------------- */

static int
is_lost(parley_sim *sim, const uint64_t *x)
{
    const parley_sim_config *c = &sim->cfg;
    int ge_lost = 0;
    if (c->ge_p_pct > 0.0) {
        if (sim->ge_bad) {
            sim->ge_bad = !pl_rng_chance_of(x[DRAW_GE_STEP], c->ge_r_pct);
        } else {
            sim->ge_bad = pl_rng_chance_of(x[DRAW_GE_STEP], c->ge_p_pct);
        }
        double pct = sim->ge_bad ? c->ge_loss_bad_pct : c->ge_loss_good_pct;
        ge_lost = pl_rng_chance_of(x[DRAW_GE_LOSS], pct);
    } else {
        sim->ge_bad = 0;
    }
    return pl_rng_chance_of(x[DRAW_LOSS], c->loss_pct) || ge_lost;
}

/* Adds len bytes of serialisation time to the link's busy time. */
static void
serialise(parley_sim *sim, size_t len)
{
    uint64_t rate = sim->cfg.rate_bytes_per_s;
    if ((uint64_t)len > UINT64_MAX / 1000000) {
        sim->link_us = UINT64_MAX;
        return;
    }
    uint64_t numer = (uint64_t)len * 1000000;
    uint64_t r = numer % rate;
    sim->link_us = sat_add(sim->link_us, numer / rate);
    if (r >= rate - sim->link_frac) {
        sim->link_frac = r - (rate - sim->link_frac);
        sim->link_us = sat_add(sim->link_us, 1);
    } else {
        sim->link_frac += r;
    }
}

/* Forgets the datagrams whose last bit has left the bottleneck. */
static void
drain_wire(parley_sim *sim, uint64_t now)
{
    while (sim->wire_n > 0 && sim->wire[sim->wire_head].finish_us <= now) {
        sim->wire_bytes -= sim->wire[sim->wire_head].len;
        sim->wire_head = (sim->wire_head + 1) % sim->wire_cap;
        sim->wire_n--;
    }
}

/*
 * Queues len bytes on the bottleneck; *sent gets when the last bit leaves.
 * Returns 0 (tail drop) when the queue has no room.
 */
static int
bottleneck(parley_sim *sim, uint64_t now, size_t len, uint64_t *sent)
{
    if (sim->cfg.rate_bytes_per_s == 0) {
        *sent = now;
        return 1;
    }
    if (sim->wire_bytes > sim->queue_bytes ||
        len > sim->queue_bytes - sim->wire_bytes) {
        return 0;
    }
    if (sim->link_us < now) {
        sim->link_us = now;
        sim->link_frac = 0;
    }
    serialise(sim, len);
    *sent = sim->link_frac ? sat_add(sim->link_us, 1) : sim->link_us;
    size_t tail = (sim->wire_head + sim->wire_n) % sim->wire_cap;
    sim->wire[tail].finish_us = *sent;
    sim->wire[tail].len = len;
    sim->wire_n++;
    sim->wire_bytes += len;
    return 1;
}

/* Latency, jitter and reordering: the due time of a datagram sent then. */
static uint64_t
schedule(parley_sim *sim, uint64_t sent, const uint64_t *x)
{
    uint64_t j = sim->jitter_us;
    uint64_t off = pl_rng_below_of(x[DRAW_JITTER], 2 * j + 1); /* 0..2j */
    uint64_t up = sim->latency_us + off;
    uint64_t due = sat_add(sent, up > j ? up - j : 0);
    if (due < sim->floor_us) {
        due = sim->floor_us;
    }
    if (pl_rng_chance_of(x[DRAW_REORDER], sim->cfg.reorder_pct)) {
        sim->stats.reordered++;
        return sat_add(due, sim->hold_us);
    }
    sim->floor_us = due;
    return due;
}

/* Steps 2-6 for one datagram; returns how many reserved buffers it used. */
static size_t
admit(parley_sim *sim, uint64_t now, const uint64_t *x, const void *data,
      size_t len, const parley_addr *from, const parley_addr *to,
      unsigned char **bufs, size_t nbufs)
{
    if (is_lost(sim, x)) {
        sim->stats.dropped_loss++;
        return 0;
    }
    uint64_t sent;
    if (nbufs == 0 || !bottleneck(sim, now, len, &sent)) {
        sim->stats.dropped_queue++;
        return 0;
    }
    uint64_t due = schedule(sim, sent, x);
    insert(sim, due, bufs[0], data, len, from, to);
    if (nbufs < 2 || !pl_rng_chance_of(x[DRAW_DUP], sim->cfg.dup_pct)) {
        return 1;
    }
    insert(sim, due, bufs[1], data, len, from, to);
    sim->stats.duplicated++;
    return 2;
}

int
parley_sim_push(parley_sim *sim, uint64_t now_us, const void *data, size_t len,
                const parley_addr *from, const parley_addr *to)
{
    if (!sim || (!data && len > 0)) {
        return PARLEY_EINVAL;
    }
    if (len > sim->max_datagram) {
        return PARLEY_EMSGSIZE;
    }
    if (len > SIZE_MAX / 2) {
        return PARLEY_ENOMEM; /* no size class would hold it */
    }
    if (now_us > sim->clock_us) {
        sim->clock_us = now_us;
    }
    if (sim->cfg.path_mtu != 0 && len > sim->cfg.path_mtu) {
        sim->stats.pushed++;
        sim->stats.bytes_pushed += len;
        sim->stats.dropped_mtu++;
        return PARLEY_OK;
    }
    drain_wire(sim, sim->clock_us);
    unsigned char *bufs[2] = {NULL, NULL};
    size_t nbufs = room_for(sim);
    if (reserve(sim, len, nbufs, bufs) != PARLEY_OK) {
        return PARLEY_ENOMEM;
    }
    uint64_t x[DRAWS];
    for (size_t i = 0; i < DRAWS; i++) {
        x[i] = pl_rng_next(&sim->rng);
    }
    sim->stats.pushed++;
    sim->stats.bytes_pushed += len;
    size_t used =
        admit(sim, sim->clock_us, x, data, len, from, to, bufs, nbufs);
    for (size_t i = used; i < nbufs; i++) {
        put_buf(sim, size_class(len), bufs[i], 0);
    }
    return PARLEY_OK;
}

int
parley_sim_pop(parley_sim *sim, uint64_t now_us, void *buf, size_t cap,
               size_t *len, parley_addr *from, parley_addr *to)
{
    if (!sim || !len || (!buf && cap > 0)) {
        return PARLEY_EINVAL;
    }
    if (sim->stats.held == 0 || sim->heap[0].due > now_us) {
        return PARLEY_EAGAIN;
    }
    struct held top = sim->heap[0];
    *len = top.len;
    if (top.len > cap) {
        return PARLEY_ETRUNC;
    }
    if (top.len > 0) {
        memcpy(buf, top.data, top.len);
    }
    if (from) {
        *from = top.from;
    }
    if (to) {
        *to = top.to;
    }
    if (now_us > sim->clock_us) {
        sim->clock_us = now_us; /* keeps the bottleneck ring <= held */
    }
    size_t n = --sim->stats.held;
    sim->stats.held_bytes -= top.len;
    sim->stats.delivered++;
    sim->stats.bytes_delivered += top.len;
    if (n > 0) {
        sim->heap[0] = sim->heap[n];
        sift_down(sim->heap, n, 0);
    }
    put_buf(sim, size_class(top.len), top.data, 1);
    return PARLEY_OK;
}

uint64_t
parley_sim_next_due_us(const parley_sim *sim)
{
    if (!sim || sim->stats.held == 0) {
        return UINT64_MAX;
    }
    return sim->heap[0].due;
}

void
parley_sim_get_stats(const parley_sim *sim, parley_sim_stats *out)
{
    if (!out) {
        return;
    }
    if (!sim) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = sim->stats;
}
