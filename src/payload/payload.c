/*
 * The public payload reader: parse checks a received [args, kwargs]
 * payload once, then arguments are found by walking the checked bytes in
 * place (by index or by keyword), with typed accessors on top.
 */
#include "payload/internal.h"

#include <string.h>

const char *
parley_type_name(parley_type type)
{
    switch (type) {
    case PARLEY_TYPE_NIL:
        return "nil";
    case PARLEY_TYPE_BOOL:
        return "bool";
    case PARLEY_TYPE_INT:
        return "int";
    case PARLEY_TYPE_UINT:
        return "uint";
    case PARLEY_TYPE_DOUBLE:
        return "double";
    case PARLEY_TYPE_STR:
        return "str";
    case PARLEY_TYPE_BYTES:
        return "bytes";
    case PARLEY_TYPE_ARRAY:
        return "array";
    case PARLEY_TYPE_MAP:
        return "map";
    case PARLEY_TYPE_ANY:
        return "any";
    }
    return "unknown";
}

int
parley_payload_parse(const void *data, size_t len, parley_payload *out)
{
    /* One pass over each part: the walker checks and measures at once.
       The args and kwargs containers each add one level to the user's
       own nesting. */
    const unsigned depth = PARLEY_PAYLOAD_MAX_DEPTH + 1;
    const uint8_t *p = data;
    parley_payload pl;
    size_t off = 1;

    if ((data == NULL && len != 0) || out == NULL) {
        return PARLEY_EINVAL;
    }
    /* The outer array of two: fixarray 0x92 (or array16/32 of 2). */
    if (len >= 1 && p[0] == 0x92) {
        off = 1;
    } else if (len >= 3 && p[0] == 0xdc && p[1] == 0 && p[2] == 2) {
        off = 3;
    } else if (len >= 5 && p[0] == 0xdd && p[1] == 0 && p[2] == 0 &&
               p[3] == 0 && p[4] == 2) {
        off = 5;
    } else {
        return PARLEY_EPROTO;
    }
    if (pl_mp_read_valid(p, len, &off, depth, 0, &pl.args) != PARLEY_OK ||
        pl.args.type != PARLEY_TYPE_ARRAY ||
        pl_mp_read_valid(p, len, &off, depth, 1, &pl.kwargs) != PARLEY_OK ||
        pl.kwargs.type != PARLEY_TYPE_MAP || off != len) {
        return PARLEY_EPROTO;
    }
    pl.data = p;
    pl.len = len;
    *out = pl;
    return PARLEY_OK;
}

void
parley_payload_empty(parley_payload *out)
{
    /* Static bytes so that the views point at a real (empty) encoding. */
    static const uint8_t empty[] = {0x92, 0x90, 0x80};

    memset(out, 0, sizeof *out);
    out->args.type = PARLEY_TYPE_ARRAY;
    out->args.v.seq.ptr = empty + 2;
    out->args.raw = empty + 1;
    out->args.raw_len = 1;
    out->kwargs.type = PARLEY_TYPE_MAP;
    out->kwargs.v.seq.ptr = empty + 3;
    out->kwargs.raw = empty + 2;
    out->kwargs.raw_len = 1;
    out->data = empty;
    out->len = sizeof empty;
}

uint32_t
parley_payload_argc(const parley_payload *p)
{
    return p ? p->args.v.seq.count : 0;
}

uint32_t
parley_payload_kwargc(const parley_payload *p)
{
    return p ? p->kwargs.v.seq.count : 0;
}

int
parley_payload_arg(const parley_payload *p, uint32_t i, parley_value *out)
{
    if (p == NULL) {
        return PARLEY_EINVAL;
    }
    return parley_value_at(&p->args, i, out);
}

int
parley_payload_kwarg(const parley_payload *p, const char *key,
                     parley_value *out)
{
    if (p == NULL) {
        return PARLEY_EINVAL;
    }
    return parley_value_get(&p->kwargs, key, out);
}

int
parley_payload_kwarg_at(const parley_payload *p, uint32_t i, parley_value *key,
                        parley_value *val)
{
    parley_iter it;
    parley_value k, v;

    if (p == NULL || parley_iter_init(&it, &p->kwargs) != PARLEY_OK) {
        return PARLEY_EINVAL;
    }
    for (uint32_t n = 0; parley_iter_next(&it, &k, &v) == 1; n++) {
        if (n == i) {
            if (key) {
                *key = k;
            }
            if (val) {
                *val = v;
            }
            return PARLEY_OK;
        }
    }
    return PARLEY_ENOENT;
}

/* ---- containers ------------------------------------------------------- */

int
parley_iter_init(parley_iter *it, const parley_value *v)
{
    if (it == NULL || v == NULL ||
        (v->type != PARLEY_TYPE_ARRAY && v->type != PARLEY_TYPE_MAP)) {
        return PARLEY_EINVAL;
    }
    it->p = v->v.seq.ptr;
    it->len = v->v.seq.len;
    it->off = 0;
    it->left = v->v.seq.count;
    it->is_map = v->type == PARLEY_TYPE_MAP;
    return PARLEY_OK;
}

int
parley_iter_next(parley_iter *it, parley_value *key, parley_value *val)
{
    parley_value k, v;
    size_t off;

    if (it == NULL || it->left == 0) {
        return 0;
    }
    off = it->off;
    if (it->is_map && pl_mp_read(it->p, it->len, &off, &k) != PARLEY_OK) {
        return 0;
    }
    if (pl_mp_read(it->p, it->len, &off, &v) != PARLEY_OK) {
        return 0;
    }
    it->off = off;
    it->left--;
    if (key != NULL && it->is_map) {
        *key = k;
    }
    if (val != NULL) {
        *val = v;
    }
    return 1;
}

int
parley_value_at(const parley_value *array, uint32_t i, parley_value *out)
{
    parley_iter it;
    parley_value v;

    if (out == NULL || array == NULL || array->type != PARLEY_TYPE_ARRAY) {
        return PARLEY_EINVAL;
    }
    if (i >= array->v.seq.count) {
        return PARLEY_ENOENT;
    }
    parley_iter_init(&it, array);
    for (uint32_t n = 0; parley_iter_next(&it, NULL, &v) == 1; n++) {
        if (n == i) {
            *out = v;
            return PARLEY_OK;
        }
    }
    return PARLEY_ENOENT;
}

int
parley_value_get(const parley_value *map, const char *key, parley_value *out)
{
    parley_iter it;
    parley_value k, v;

    if (out == NULL || key == NULL || map == NULL ||
        map->type != PARLEY_TYPE_MAP) {
        return PARLEY_EINVAL;
    }
    parley_iter_init(&it, map);
    while (parley_iter_next(&it, &k, &v) == 1) {
        if (parley_value_str_eq(&k, key)) {
            *out = v;
            return PARLEY_OK;
        }
    }
    return PARLEY_ENOENT;
}

/* ---- typed accessors -------------------------------------------------- */

int
parley_value_str_eq(const parley_value *v, const char *s)
{
    size_t n;

    if (v == NULL || s == NULL || v->type != PARLEY_TYPE_STR) {
        return 0;
    }
    n = strlen(s);
    return v->v.str.len == n && memcmp(v->v.str.ptr, s, n) == 0;
}

int
parley_value_as_bool(const parley_value *v, int *out)
{
    if (v == NULL || out == NULL || v->type != PARLEY_TYPE_BOOL) {
        return PARLEY_EINVAL;
    }
    *out = v->v.b;
    return PARLEY_OK;
}

int
parley_value_as_int(const parley_value *v, int64_t *out)
{
    if (v == NULL || out == NULL) {
        return PARLEY_EINVAL;
    }
    if (v->type == PARLEY_TYPE_UINT) {
        return PARLEY_ERANGE;
    }
    if (v->type != PARLEY_TYPE_INT) {
        return PARLEY_EINVAL;
    }
    *out = v->v.i;
    return PARLEY_OK;
}

int
parley_value_as_uint(const parley_value *v, uint64_t *out)
{
    if (v == NULL || out == NULL) {
        return PARLEY_EINVAL;
    }
    if (v->type == PARLEY_TYPE_UINT) {
        *out = v->v.u;
        return PARLEY_OK;
    }
    if (v->type != PARLEY_TYPE_INT) {
        return PARLEY_EINVAL;
    }
    if (v->v.i < 0) {
        return PARLEY_ERANGE;
    }
    *out = (uint64_t)v->v.i;
    return PARLEY_OK;
}

int
parley_value_as_double(const parley_value *v, double *out)
{
    if (v == NULL || out == NULL) {
        return PARLEY_EINVAL;
    }
    switch (v->type) {
    case PARLEY_TYPE_DOUBLE:
        *out = v->v.d;
        return PARLEY_OK;
    case PARLEY_TYPE_INT:
        *out = (double)v->v.i;
        return PARLEY_OK;
    case PARLEY_TYPE_UINT:
        *out = (double)v->v.u;
        return PARLEY_OK;
    default:
        return PARLEY_EINVAL;
    }
}

int
parley_value_as_str(const parley_value *v, const char **ptr, size_t *len)
{
    if (v == NULL || ptr == NULL || len == NULL || v->type != PARLEY_TYPE_STR) {
        return PARLEY_EINVAL;
    }
    *ptr = v->v.str.ptr;
    *len = v->v.str.len;
    return PARLEY_OK;
}

int
parley_value_as_bytes(const parley_value *v, const uint8_t **ptr, size_t *len)
{
    if (v == NULL || ptr == NULL || len == NULL ||
        v->type != PARLEY_TYPE_BYTES) {
        return PARLEY_EINVAL;
    }
    *ptr = v->v.bytes.ptr;
    *len = v->v.bytes.len;
    return PARLEY_OK;
}

int
parley_payload_arg_int(const parley_payload *p, uint32_t i, int64_t *out)
{
    parley_value v;
    int rc = parley_payload_arg(p, i, &v);
    return rc != PARLEY_OK ? rc : parley_value_as_int(&v, out);
}

int
parley_payload_arg_double(const parley_payload *p, uint32_t i, double *out)
{
    parley_value v;
    int rc = parley_payload_arg(p, i, &v);
    return rc != PARLEY_OK ? rc : parley_value_as_double(&v, out);
}

int
parley_payload_arg_str(const parley_payload *p, uint32_t i, const char **ptr,
                       size_t *len)
{
    parley_value v;
    int rc = parley_payload_arg(p, i, &v);
    return rc != PARLEY_OK ? rc : parley_value_as_str(&v, ptr, len);
}

int
parley_payload_kwarg_int(const parley_payload *p, const char *key, int64_t *out)
{
    parley_value v;
    int rc = parley_payload_kwarg(p, key, &v);
    return rc != PARLEY_OK ? rc : parley_value_as_int(&v, out);
}

int
parley_payload_kwarg_double(const parley_payload *p, const char *key,
                            double *out)
{
    parley_value v;
    int rc = parley_payload_kwarg(p, key, &v);
    return rc != PARLEY_OK ? rc : parley_value_as_double(&v, out);
}

int
parley_payload_kwarg_str(const parley_payload *p, const char *key,
                         const char **ptr, size_t *len)
{
    parley_value v;
    int rc = parley_payload_kwarg(p, key, &v);
    return rc != PARLEY_OK ? rc : parley_value_as_str(&v, ptr, len);
}
