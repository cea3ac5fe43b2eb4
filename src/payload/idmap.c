/*
 * A small open-addressing hash map from 64-bit keys (event ids, peer ids)
 * to pointers: linear probing, at most half full, backward-shift deletion
 * so no tombstones build up.
 */
#include "payload/internal.h"

#include <string.h>

#include "parley/error.h"
#include "util/alloc.h"

/* splitmix64's finaliser: peer ids are sequential, so mix them. */
static size_t
slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 30;
    key *= UINT64_C(0xbf58476d1ce4e5b9);
    key ^= key >> 27;
    key *= UINT64_C(0x94d049bb133111eb);
    key ^= key >> 31;
    return (size_t)key & (cap - 1);
}

void
pl_idmap_init(pl_idmap *m)
{
    memset(m, 0, sizeof *m);
}

void
pl_idmap_free(pl_idmap *m)
{
    pl_free(m->ents);
    memset(m, 0, sizeof *m);
}

void *
pl_idmap_get(const pl_idmap *m, uint64_t key)
{
    if (m->cap == 0) {
        return NULL;
    }
    for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->ents[i].val == NULL) {
            return NULL;
        }
        if (m->ents[i].key == key) {
            return m->ents[i].val;
        }
    }
}

static void
insert_fresh(pl_idmap_ent *ents, size_t cap, uint64_t key, void *val)
{
    size_t i = slot_of(key, cap);

    while (ents[i].val != NULL) {
        i = (i + 1) & (cap - 1);
    }
    ents[i].key = key;
    ents[i].val = val;
}

static int
grow(pl_idmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    pl_idmap_ent *ents = pl_calloc(cap, sizeof *ents);

    if (ents == NULL) {
        return PARLEY_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->ents[i].val != NULL) {
            insert_fresh(ents, cap, m->ents[i].key, m->ents[i].val);
        }
    }
    pl_free(m->ents);
    m->ents = ents;
    m->cap = cap;
    return PARLEY_OK;
}

int
pl_idmap_put(pl_idmap *m, uint64_t key, void *val)
{
    if (val == NULL) {
        return PARLEY_EINVAL;
    }
    if (m->cap != 0) {
        for (size_t i = slot_of(key, m->cap); m->ents[i].val != NULL;
             i = (i + 1) & (m->cap - 1)) {
            if (m->ents[i].key == key) {
                m->ents[i].val = val;
                return PARLEY_OK;
            }
        }
    }
    if ((m->count + 1) * 2 > m->cap) {
        int rc = grow(m);
        if (rc != PARLEY_OK) {
            return rc;
        }
    }
    insert_fresh(m->ents, m->cap, key, val);
    m->count++;
    return PARLEY_OK;
}

void *
pl_idmap_del(pl_idmap *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    size_t i;
    void *old;

    if (m->cap == 0) {
        return NULL;
    }
    for (i = slot_of(key, m->cap);; i = (i + 1) & mask) {
        if (m->ents[i].val == NULL) {
            return NULL;
        }
        if (m->ents[i].key == key) {
            break;
        }
    }
    old = m->ents[i].val;
    m->ents[i].val = NULL;
    m->count--;
    /* Backward shift: move later entries of the run into the hole when
       their home slot does not lie (cyclically) between hole and them. */
    for (size_t j = (i + 1) & mask; m->ents[j].val != NULL;
         j = (j + 1) & mask) {
        size_t home = slot_of(m->ents[j].key, m->cap);
        int between =
            i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            m->ents[i] = m->ents[j];
            m->ents[j].val = NULL;
            i = j;
        }
    }
    return old;
}
