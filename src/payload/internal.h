/*
 * Internal helpers shared by the payload and session code: a hash map
 * keyed by 64-bit ids, UTF-8 checks, the bounded MessagePack walker and
 * the event table's learned names.
 */
#ifndef PL_PAYLOAD_INTERNAL_H
#define PL_PAYLOAD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "parley/payload.h"

/* ---- id map: uint64 key -> non-NULL pointer --------------------------- */

typedef struct pl_idmap_ent {
    uint64_t key;
    void *val; /* NULL: the slot is free */
} pl_idmap_ent;

typedef struct pl_idmap {
    pl_idmap_ent *ents;
    size_t cap; /* 0 or a power of two */
    size_t count;
} pl_idmap;

void pl_idmap_init(pl_idmap *m);
void pl_idmap_free(pl_idmap *m);
void *pl_idmap_get(const pl_idmap *m, uint64_t key);
/* Inserts or replaces (val must not be NULL). PARLEY_OK, PARLEY_EINVAL or
   PARLEY_ENOMEM (the map is unchanged). */
int pl_idmap_put(pl_idmap *m, uint64_t key, void *val);
/* Removes key; returns its value or NULL. */
void *pl_idmap_del(pl_idmap *m, uint64_t key);

/* ---- text ------------------------------------------------------------- */

/* Nonzero when s[0..len) is valid UTF-8 (no overlongs, no surrogates)
   and, unless allow_ctrl, has no C0 control character or DEL. */
int pl_utf8_valid(const char *s, size_t len, int allow_ctrl);

/* ---- MessagePack walking ---------------------------------------------- */

/*
 * Reads one whole value at *off of p[0..len): scalars and the span of
 * containers (elements skipped, not checked for depth). Advances *off.
 * Returns PARLEY_OK or PARLEY_EPROTO (truncated, 0xc1, ext types, or a
 * container count larger than the bytes left).
 */
int pl_mp_read(const uint8_t *p, size_t len, size_t *off, parley_value *v);

/*
 * Checks that p[0..len) starts with one well-formed value nested at most
 * max_depth containers deep; *end gets the offset just past it.
 * PARLEY_OK or PARLEY_EPROTO. Iterative, no allocation.
 */
int pl_mp_validate(const uint8_t *p, size_t len, unsigned max_depth,
                   size_t *end);

/* The same; with top_keys_str, a top-level map's keys must be strings. */
int pl_mp_validate_ex(const uint8_t *p, size_t len, unsigned max_depth,
                      int top_keys_str, size_t *end);

/*
 * Checks one value at *off as pl_mp_validate_ex does and reads it (its
 * span included) in the same single pass; advances *off.
 */
int pl_mp_read_valid(const uint8_t *p, size_t len, size_t *off,
                     unsigned max_depth, int top_keys_str, parley_value *v);

/* ---- event table internals --------------------------------------------- */

/* Names a table takes from peers' announcements, at most. */
#define PL_EVENT_LEARNED_MAX 4096

/*
 * Records a name a peer announced for id, if it really hashes to id and
 * no registered name owns id. PARLEY_OK (learned, or already known),
 * PARLEY_EPROTO (bad name or wrong hash), PARLEY_EEXIST (a registered
 * name with the same id differs: a collision), PARLEY_EFULL, or
 * PARLEY_ENOMEM.
 */
int pl_event_learn(parley_event_table *t, uint64_t id, const char *name,
                   size_t len);

/* The definition of id, or NULL. */
const parley_event_def *pl_event_def_of(const parley_event_table *t,
                                        uint64_t id);

#endif
