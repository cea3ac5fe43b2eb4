/*
 * Event ids and the event table: FNV-1a 64 of a name, registered and
 * learned names by id with collision detection, and typed definitions
 * (legume's message factory) that incoming payloads are checked against.
 */
#include "parley/payload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "payload/internal.h"
#include "util/alloc.h"
#include "util/log.h"

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

typedef struct entry {
    char *name;
    int registered; /* 0: learned from a peer's announcement */
    parley_event_def *def;
} entry;

struct parley_event_table {
    pl_idmap ids;   /* id -> entry */
    size_t learned; /* entries only learned from peers */
};

uint64_t
parley_event_id_n(const char *name, size_t len)
{
    uint64_t h = FNV_OFFSET;

    for (size_t i = 0; name != NULL && i < len; i++) {
        h ^= (uint8_t)name[i];
        h *= FNV_PRIME;
    }
    return h;
}

uint64_t
parley_event_id(const char *name)
{
    return parley_event_id_n(name, name ? strlen(name) : 0);
}

static int
name_ok(const char *name, size_t len)
{
    return name != NULL && len > 0 && len <= PARLEY_EVENT_NAME_MAX &&
           pl_utf8_valid(name, len, 0);
}

static char *
dup_text(const char *s, size_t len)
{
    char *d = pl_malloc(len + 1);

    if (d != NULL) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static void
free_def(parley_event_def *def)
{
    if (def == NULL) {
        return;
    }
    for (size_t i = 0; i < def->nargs; i++) {
        pl_free((char *)def->args[i].name);
    }
    for (size_t i = 0; i < def->nkwargs; i++) {
        pl_free((char *)def->kwargs[i].name);
    }
    pl_free((void *)def->args);
    pl_free((void *)def->kwargs);
    pl_free((char *)def->name);
    pl_free(def);
}

static void
free_entry(entry *e)
{
    free_def(e->def);
    pl_free(e->name);
    pl_free(e);
}

int
parley_event_table_create(parley_event_table **out)
{
    parley_event_table *t;

    if (out == NULL) {
        return PARLEY_EINVAL;
    }
    t = pl_calloc(1, sizeof *t);
    if (t == NULL) {
        return PARLEY_ENOMEM;
    }
    pl_idmap_init(&t->ids);
    *out = t;
    return PARLEY_OK;
}

void
parley_event_table_destroy(parley_event_table *t)
{
    if (t == NULL) {
        return;
    }
    for (size_t i = 0; i < t->ids.cap; i++) {
        if (t->ids.ents[i].val != NULL) {
            free_entry(t->ids.ents[i].val);
        }
    }
    pl_idmap_free(&t->ids);
    pl_free(t);
}

/* Adds or upgrades the entry for a valid name. */
static int
add_name(parley_event_table *t, const char *name, size_t len, int registered,
         entry **out)
{
    uint64_t id = parley_event_id_n(name, len);
    entry *e = pl_idmap_get(&t->ids, id);

    if (e != NULL) {
        int same = strlen(e->name) == len && memcmp(e->name, name, len) == 0;
        if (!same && (e->registered || !registered)) {
            return PARLEY_EEXIST;
        }
        if (!same) { /* a registered name replaces a learned one */
            char *n = dup_text(name, len);
            if (n == NULL) {
                return PARLEY_ENOMEM;
            }
            pl_free(e->name);
            e->name = n;
        }
        if (registered && !e->registered) {
            t->learned--;
        }
        e->registered |= registered;
        *out = e;
        return PARLEY_OK;
    }
    /* Peers may fill only part of the table, so a hostile one cannot
       keep the app from registering its own names. */
    if (t->ids.count >= PARLEY_EVENT_TABLE_MAX ||
        (!registered && t->learned >= PL_EVENT_LEARNED_MAX)) {
        return PARLEY_EFULL;
    }
    e = pl_calloc(1, sizeof *e);
    if (e == NULL || (e->name = dup_text(name, len)) == NULL ||
        pl_idmap_put(&t->ids, id, e) != PARLEY_OK) {
        if (e != NULL) {
            pl_free(e->name);
        }
        pl_free(e);
        return PARLEY_ENOMEM;
    }
    e->registered = registered;
    t->learned += !registered;
    *out = e;
    return PARLEY_OK;
}

int
parley_event_register(parley_event_table *t, const char *name, uint64_t *id)
{
    entry *e;
    size_t len;
    int rc;

    if (t == NULL || name == NULL) {
        return PARLEY_EINVAL;
    }
    len = strlen(name);
    if (!name_ok(name, len)) {
        return PARLEY_EINVAL;
    }
    rc = add_name(t, name, len, 1, &e);
    if (rc == PARLEY_OK && id != NULL) {
        *id = parley_event_id_n(name, len);
    }
    return rc;
}

int
pl_event_learn(parley_event_table *t, uint64_t id, const char *name, size_t len)
{
    entry *e;

    if (t == NULL || !name_ok(name, len) ||
        parley_event_id_n(name, len) != id) {
        return PARLEY_EPROTO;
    }
    return add_name(t, name, len, 0, &e);
}

const char *
parley_event_name(const parley_event_table *t, uint64_t id)
{
    entry *e = t ? pl_idmap_get(&t->ids, id) : NULL;
    return e ? e->name : NULL;
}

const parley_event_def *
pl_event_def_of(const parley_event_table *t, uint64_t id)
{
    entry *e = t ? pl_idmap_get(&t->ids, id) : NULL;
    return e ? e->def : NULL;
}

/* ---- definitions ------------------------------------------------------ */

static int
type_ok(parley_type t)
{
    return (t >= PARLEY_TYPE_NIL && t <= PARLEY_TYPE_MAP) ||
           t == PARLEY_TYPE_ANY;
}

/* Checks the fields: names, types, optional positionals only trailing,
   keywords unique. */
static int
fields_ok(const parley_event_def *def)
{
    int seen_optional = 0;

    if ((def->nargs && def->args == NULL) ||
        (def->nkwargs && def->kwargs == NULL) || def->nargs > 4096 ||
        def->nkwargs > 4096) {
        return 0;
    }
    for (size_t i = 0; i < def->nargs; i++) {
        const parley_field *f = &def->args[i];
        if (f->name == NULL || !type_ok(f->type) ||
            (seen_optional && !f->optional)) {
            return 0;
        }
        seen_optional |= f->optional;
    }
    for (size_t i = 0; i < def->nkwargs; i++) {
        const parley_field *f = &def->kwargs[i];
        if (f->name == NULL || !type_ok(f->type)) {
            return 0;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(def->kwargs[j].name, f->name) == 0) {
                return 0;
            }
        }
    }
    return 1;
}

static parley_field *
copy_fields(const parley_field *src, size_t n)
{
    parley_field *f;

    if (n == 0) {
        return NULL;
    }
    f = pl_calloc(n, sizeof *f);
    for (size_t i = 0; f != NULL && i < n; i++) {
        f[i] = src[i];
        f[i].name = dup_text(src[i].name, strlen(src[i].name));
        if (f[i].name == NULL) {
            for (size_t j = 0; j < i; j++) {
                pl_free((char *)f[j].name);
            }
            pl_free(f);
            f = NULL;
        }
    }
    return f;
}

static parley_event_def *
copy_def(const parley_event_def *src)
{
    parley_event_def *d = pl_calloc(1, sizeof *d);

    if (d == NULL) {
        return NULL;
    }
    d->name = dup_text(src->name, strlen(src->name));
    d->args = copy_fields(src->args, src->nargs);
    d->kwargs = copy_fields(src->kwargs, src->nkwargs);
    d->allow_extra = src->allow_extra;
    if (d->args) {
        d->nargs = src->nargs;
    }
    if (d->kwargs) {
        d->nkwargs = src->nkwargs;
    }
    if (d->name == NULL || d->nargs != src->nargs ||
        d->nkwargs != src->nkwargs) {
        free_def(d);
        return NULL;
    }
    return d;
}

int
parley_event_define(parley_event_table *t, const parley_event_def *def,
                    uint64_t *id)
{
    parley_event_def *copy;
    entry *e;
    uint64_t eid;
    int rc;

    if (t == NULL || def == NULL || def->name == NULL || !fields_ok(def)) {
        return PARLEY_EINVAL;
    }
    copy = copy_def(def);
    if (copy == NULL) {
        return PARLEY_ENOMEM;
    }
    rc = parley_event_register(t, def->name, &eid);
    if (rc != PARLEY_OK) {
        free_def(copy);
        return rc;
    }
    e = pl_idmap_get(&t->ids, eid);
    free_def(e->def);
    e->def = copy;
    if (id != NULL) {
        *id = eid;
    }
    return PARLEY_OK;
}

/* ---- checking --------------------------------------------------------- */

static int
matches(parley_type want, const parley_value *v)
{
    switch (want) {
    case PARLEY_TYPE_ANY:
        return 1;
    case PARLEY_TYPE_DOUBLE:
        return v->type == PARLEY_TYPE_DOUBLE || v->type == PARLEY_TYPE_INT ||
               v->type == PARLEY_TYPE_UINT;
    case PARLEY_TYPE_UINT:
        return v->type == PARLEY_TYPE_UINT ||
               (v->type == PARLEY_TYPE_INT && v->v.i >= 0);
    default:
        return v->type == want;
    }
}

static int fail(char *why, size_t cap, const char *fmt, ...) PL_PRINTF(3, 4);

static int
fail(char *why, size_t cap, const char *fmt, ...)
{
    if (why != NULL && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return PARLEY_EPROTO;
}

static int
check_args(const parley_event_def *d, const parley_payload *p, char *why,
           size_t cap)
{
    uint32_t argc = parley_payload_argc(p);
    size_t required = 0;

    while (required < d->nargs && !d->args[required].optional) {
        required++;
    }
    if (argc < required) {
        return fail(why, cap, "event '%s': needs %zu argument(s), got %u",
                    d->name, required, (unsigned)argc);
    }
    if (argc > d->nargs && !d->allow_extra) {
        return fail(why, cap,
                    "event '%s': takes at most %zu argument(s), "
                    "got %u",
                    d->name, d->nargs, (unsigned)argc);
    }
    for (uint32_t i = 0; i < argc && i < d->nargs; i++) {
        parley_value v;
        if (parley_payload_arg(p, i, &v) != PARLEY_OK ||
            !matches(d->args[i].type, &v)) {
            return fail(
                why, cap, "event '%s': argument %u '%s' is %s, expected %s",
                d->name, (unsigned)i, d->args[i].name, parley_type_name(v.type),
                parley_type_name(d->args[i].type));
        }
    }
    return PARLEY_OK;
}

static int
check_kwargs(const parley_event_def *d, const parley_payload *p, char *why,
             size_t cap)
{
    parley_iter it;
    parley_value k, v;

    for (size_t i = 0; i < d->nkwargs; i++) {
        const parley_field *f = &d->kwargs[i];
        int rc = parley_payload_kwarg(p, f->name, &v);
        if (rc != PARLEY_OK && !f->optional) {
            return fail(why, cap, "event '%s': keyword '%s' is missing",
                        d->name, f->name);
        }
        if (rc == PARLEY_OK && !matches(f->type, &v)) {
            return fail(why, cap, "event '%s': keyword '%s' is %s, expected %s",
                        d->name, f->name, parley_type_name(v.type),
                        parley_type_name(f->type));
        }
    }
    if (d->allow_extra) {
        return PARLEY_OK;
    }
    parley_iter_init(&it, &p->kwargs);
    while (parley_iter_next(&it, &k, &v) == 1) {
        size_t i = 0;
        while (i < d->nkwargs && !parley_value_str_eq(&k, d->kwargs[i].name)) {
            i++;
        }
        if (i == d->nkwargs) {
            int n = k.v.str.len > 64 ? 64 : (int)k.v.str.len;
            return fail(why, cap, "event '%s': unexpected keyword '%.*s'",
                        d->name, n, k.v.str.ptr);
        }
    }
    return PARLEY_OK;
}

int
parley_event_check(const parley_event_table *t, uint64_t id,
                   const parley_payload *p, char *why, size_t cap)
{
    const parley_event_def *d = pl_event_def_of(t, id);
    int rc;

    if (d == NULL) {
        return PARLEY_OK;
    }
    if (p == NULL) {
        return PARLEY_EINVAL;
    }
    rc = check_args(d, p, why, cap);
    if (rc == PARLEY_OK) {
        rc = check_kwargs(d, p, why, cap);
    }
    return rc;
}
