/*
 * Open-addressing tables (see map.h). The load factor stays at or below
 * one half. Keys are mixed with a 64-bit finaliser so that sequential
 * sequence numbers and attacker-chosen ids spread evenly.
 */
#include "core/map.h"

#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"

#define MAP_MIN_CAP 16

static uint64_t
mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static size_t
rx_home(const pl_rxmap *m, uint16_t tag, uint64_t seq)
{
    return (size_t)mix64(seq * 0x9E3779B97F4A7C15u + tag) & (m->cap - 1);
}

void
pl_rxmap_init(pl_rxmap *m)
{
    m->e = NULL;
    m->cap = m->n = 0;
}

void
pl_rxmap_free(pl_rxmap *m)
{
    pl_free(m->e);
    pl_rxmap_init(m);
}

void *
pl_rxmap_get(const pl_rxmap *m, uint16_t tag, uint64_t seq)
{
    if (m->n == 0) {
        return NULL;
    }
    for (size_t i = rx_home(m, tag, seq);; i = (i + 1) & (m->cap - 1)) {
        const pl_rxmap_ent *e = &m->e[i];
        if (!e->val) {
            return NULL;
        }
        if (e->seq == seq && e->tag == tag) {
            return e->val;
        }
    }
}

static void
rx_insert(pl_rxmap *m, uint16_t tag, uint64_t seq, void *val)
{
    for (size_t i = rx_home(m, tag, seq);; i = (i + 1) & (m->cap - 1)) {
        pl_rxmap_ent *e = &m->e[i];
        if (!e->val) {
            e->seq = seq;
            e->tag = tag;
            e->val = val;
            m->n++;
            return;
        }
        if (e->seq == seq && e->tag == tag) {
            e->val = val;
            return;
        }
    }
}

static int
rx_grow(pl_rxmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : MAP_MIN_CAP;
    pl_rxmap_ent *n = pl_calloc(ncap, sizeof *n);
    if (!n) {
        return PARLEY_ENOMEM;
    }
    pl_rxmap old = *m;
    m->e = n;
    m->cap = ncap;
    m->n = 0;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.e[i].val) {
            rx_insert(m, old.e[i].tag, old.e[i].seq, old.e[i].val);
        }
    }
    pl_free(old.e);
    return PARLEY_OK;
}

int
pl_rxmap_put(pl_rxmap *m, uint16_t tag, uint64_t seq, void *val)
{
    if ((m->n + 1) * 2 > m->cap && rx_grow(m) != PARLEY_OK) {
        return PARLEY_ENOMEM;
    }
    rx_insert(m, tag, seq, val);
    return PARLEY_OK;
}

void *
pl_rxmap_del(pl_rxmap *m, uint16_t tag, uint64_t seq)
{
    if (m->n == 0) {
        return NULL;
    }
    size_t mask = m->cap - 1;
    size_t i = rx_home(m, tag, seq);
    while (m->e[i].val && !(m->e[i].seq == seq && m->e[i].tag == tag)) {
        i = (i + 1) & mask;
    }
    void *val = m->e[i].val;
    if (!val) {
        return NULL;
    }
    /* Backward shift: pull later entries of the cluster into the hole
       when their home position allows it. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->e[j].val; j = (j + 1) & mask) {
        size_t home = rx_home(m, m->e[j].tag, m->e[j].seq);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->e[hole] = m->e[j];
            hole = j;
        }
    }
    m->e[hole].val = NULL;
    m->n--;
    return val;
}

static size_t
id_home(const pl_connmap *m, uint64_t key)
{
    return (size_t)mix64(key) & (m->cap - 1);
}

void
pl_connmap_init(pl_connmap *m)
{
    m->e = NULL;
    m->cap = m->n = 0;
}

void
pl_connmap_free(pl_connmap *m)
{
    pl_free(m->e);
    pl_connmap_init(m);
}

int
pl_connmap_get(const pl_connmap *m, uint64_t key, uint32_t *val)
{
    if (m->n == 0) {
        return PARLEY_ENOENT;
    }
    for (size_t i = id_home(m, key);; i = (i + 1) & (m->cap - 1)) {
        const pl_connmap_ent *e = &m->e[i];
        if (!e->used) {
            return PARLEY_ENOENT;
        }
        if (e->key == key) {
            *val = e->val;
            return PARLEY_OK;
        }
    }
}

static void
id_insert(pl_connmap *m, uint64_t key, uint32_t val)
{
    size_t i = id_home(m, key);
    while (m->e[i].used) {
        i = (i + 1) & (m->cap - 1);
    }
    m->e[i].key = key;
    m->e[i].val = val;
    m->e[i].used = 1;
    m->n++;
}

int
pl_connmap_put(pl_connmap *m, uint64_t key, uint32_t val)
{
    uint32_t old;
    if (pl_connmap_get(m, key, &old) == PARLEY_OK) {
        return PARLEY_EEXIST;
    }
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : MAP_MIN_CAP;
        pl_connmap_ent *n = pl_calloc(ncap, sizeof *n);
        if (!n) {
            return PARLEY_ENOMEM;
        }
        pl_connmap o = *m;
        m->e = n;
        m->cap = ncap;
        m->n = 0;
        for (size_t i = 0; i < o.cap; i++) {
            if (o.e[i].used) {
                id_insert(m, o.e[i].key, o.e[i].val);
            }
        }
        pl_free(o.e);
    }
    id_insert(m, key, val);
    return PARLEY_OK;
}

void
pl_connmap_del(pl_connmap *m, uint64_t key)
{
    if (m->n == 0) {
        return;
    }
    size_t mask = m->cap - 1;
    size_t i = id_home(m, key);
    while (m->e[i].used && m->e[i].key != key) {
        i = (i + 1) & mask;
    }
    if (!m->e[i].used) {
        return;
    }
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->e[j].used; j = (j + 1) & mask) {
        size_t home = id_home(m, m->e[j].key);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->e[hole] = m->e[j];
            hole = j;
        }
    }
    m->e[hole].used = 0;
    m->n--;
}
