/*
 * Named events and typed payloads: 64-bit event ids (FNV-1a of the name,
 * the same in every language), a table of registered names and typed
 * event definitions, a builder that encodes positional and keyword
 * arguments as MessagePack, and a reader that walks the bytes in place.
 * The wire layouts are in docs/PROTOCOL.md, "Events and payloads".
 */
#ifndef PARLEY_PAYLOAD_H
#define PARLEY_PAYLOAD_H

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- event ids -------------------------------------------------------- */

/* Longest event name, in bytes of UTF-8. */
#define PARLEY_EVENT_NAME_MAX 255

/* Longest client, server or computer name, in bytes of UTF-8. */
#define PARLEY_NAME_MAX 64

/*
 * The event id of a name: FNV-1a 64 over the name's bytes (offset basis
 * 0xcbf29ce484222325, prime 0x100000001b3). Pure: no registration, no
 * allocation. parley_event_id("") is 0xcbf29ce484222325; NULL gives the
 * same as "".
 */
PARLEY_API uint64_t parley_event_id(const char *name);

/* The same over len bytes (name need not be NUL-terminated). */
PARLEY_API uint64_t parley_event_id_n(const char *name, size_t len);

/* ---- values ----------------------------------------------------------- */

/*
 * What a value read from a payload holds. Every integer that fits int64
 * reads as INT, whatever its MessagePack encoding; UINT is only for
 * values above INT64_MAX. float32 reads as DOUBLE. PARLEY_TYPE_ANY is
 * used only in typed definitions.
 */
typedef enum parley_type {
    PARLEY_TYPE_NIL = 0,
    PARLEY_TYPE_BOOL = 1,
    PARLEY_TYPE_INT = 2,
    PARLEY_TYPE_UINT = 3,
    PARLEY_TYPE_DOUBLE = 4,
    PARLEY_TYPE_STR = 5,
    PARLEY_TYPE_BYTES = 6,
    PARLEY_TYPE_ARRAY = 7,
    PARLEY_TYPE_MAP = 8,
    PARLEY_TYPE_ANY = 15
} parley_type;

/* A short name for a type: "nil", "int", "array", ... Never NULL. */
PARLEY_API const char *parley_type_name(parley_type type);

/*
 * One value, read in place: strings, bytes and containers point into the
 * payload's bytes and live as long as they do. Strings are NOT
 * NUL-terminated. raw/raw_len is the value's whole MessagePack encoding.
 */
typedef struct parley_value {
    parley_type type;
    union {
        int b;      /* BOOL: 0 or 1 */
        int64_t i;  /* INT */
        uint64_t u; /* UINT (above INT64_MAX) */
        double d;   /* DOUBLE */
        struct {
            const char *ptr;
            size_t len;
        } str; /* STR: UTF-8 as sent (not checked) */
        struct {
            const uint8_t *ptr;
            size_t len;
        } bytes; /* BYTES */
        struct {
            const uint8_t *ptr; /* the first element's encoding */
            size_t len;         /* bytes of all elements */
            uint32_t count;     /* elements (ARRAY) or pairs (MAP) */
        } seq;
    } v;
    const uint8_t *raw;
    size_t raw_len;
} parley_value;

/*
 * The typed readers. Each returns PARLEY_OK, or PARLEY_EINVAL when the
 * value has another type (as_double also takes INT and UINT; as_uint
 * takes a non-negative INT; as_int refuses UINT with PARLEY_ERANGE).
 * as_str gives a pointer into the payload and the length.
 */
PARLEY_API int parley_value_as_bool(const parley_value *v, int *out);
PARLEY_API int parley_value_as_int(const parley_value *v, int64_t *out);
PARLEY_API int parley_value_as_uint(const parley_value *v, uint64_t *out);
PARLEY_API int parley_value_as_double(const parley_value *v, double *out);
PARLEY_API int parley_value_as_str(const parley_value *v, const char **ptr,
                                   size_t *len);
PARLEY_API int parley_value_as_bytes(const parley_value *v, const uint8_t **ptr,
                                     size_t *len);

/* Nonzero when v is a STR equal to the NUL-terminated text s. */
PARLEY_API int parley_value_str_eq(const parley_value *v, const char *s);

/*
 * Element i of an ARRAY (PARLEY_ENOENT past the end, PARLEY_EINVAL for
 * another type), or the value under a string key of a MAP (the first
 * match; PARLEY_ENOENT if none). Both walk the bytes: O(size), no copy.
 */
PARLEY_API int parley_value_at(const parley_value *array, uint32_t i,
                               parley_value *out);
PARLEY_API int parley_value_get(const parley_value *map, const char *key,
                                parley_value *out);

/* Walks an ARRAY's elements or a MAP's pairs in order, without a copy. */
typedef struct parley_iter {
    const uint8_t *p;
    size_t len, off;
    uint32_t left;
    int is_map;
} parley_iter;

/* PARLEY_OK, or PARLEY_EINVAL when v is no container. */
PARLEY_API int parley_iter_init(parley_iter *it, const parley_value *v);

/*
 * The next element: 1 and *val (and *key for a MAP; key may be NULL), or
 * 0 at the end.
 */
PARLEY_API int parley_iter_next(parley_iter *it, parley_value *key,
                                parley_value *val);

/* ---- payloads: reading ------------------------------------------------ */

/* Deepest nesting of arrays and maps inside an argument. */
#define PARLEY_PAYLOAD_MAX_DEPTH 32

/*
 * A received payload: MessagePack [args array, kwargs map], checked once
 * by parley_payload_parse and then read in place. A plain value; it
 * points into the bytes it was parsed from.
 */
typedef struct parley_payload {
    parley_value args;   /* ARRAY */
    parley_value kwargs; /* MAP with string keys */
    const uint8_t *data;
    size_t len;
} parley_payload;

/*
 * Checks that data[0..len) is exactly one MessagePack array of two: an
 * array of positional arguments and a map of keyword arguments with
 * string keys; every value nil, bool, integer, float, str, bin, array or
 * map (no ext), nested at most PARLEY_PAYLOAD_MAX_DEPTH deep, every
 * length inside the buffer. No allocation. Returns PARLEY_OK,
 * PARLEY_EINVAL (NULL), or PARLEY_EPROTO (malformed, too deep, trailing
 * bytes, an ext type or a non-string keyword) with *out untouched.
 */
PARLEY_API int parley_payload_parse(const void *data, size_t len,
                                    parley_payload *out);

/* Fills *out with an empty payload (no arguments), pointing at nothing. */
PARLEY_API void parley_payload_empty(parley_payload *out);

PARLEY_API uint32_t parley_payload_argc(const parley_payload *p);
PARLEY_API uint32_t parley_payload_kwargc(const parley_payload *p);

/* Argument i, or the keyword argument named key: PARLEY_OK or
   PARLEY_ENOENT. */
PARLEY_API int parley_payload_arg(const parley_payload *p, uint32_t i,
                                  parley_value *out);
PARLEY_API int parley_payload_kwarg(const parley_payload *p, const char *key,
                                    parley_value *out);

/* Keyword argument i in the order sent: its key (a STR) and value. */
PARLEY_API int parley_payload_kwarg_at(const parley_payload *p, uint32_t i,
                                       parley_value *key, parley_value *val);

/* Shortcuts: arg/kwarg then the typed reader. PARLEY_ENOENT if missing,
   PARLEY_EINVAL if of another type. */
PARLEY_API int parley_payload_arg_int(const parley_payload *p, uint32_t i,
                                      int64_t *out);
PARLEY_API int parley_payload_arg_double(const parley_payload *p, uint32_t i,
                                         double *out);
PARLEY_API int parley_payload_arg_str(const parley_payload *p, uint32_t i,
                                      const char **ptr, size_t *len);
PARLEY_API int parley_payload_kwarg_int(const parley_payload *p,
                                        const char *key, int64_t *out);
PARLEY_API int parley_payload_kwarg_double(const parley_payload *p,
                                           const char *key, double *out);
PARLEY_API int parley_payload_kwarg_str(const parley_payload *p,
                                        const char *key, const char **ptr,
                                        size_t *len);

/* ---- payloads: building ----------------------------------------------- */

/*
 * Builds a payload with msgpack-c. Values go to the positional arguments
 * in call order; parley_builder_key makes the next value a keyword
 * argument (at the top level) or a map entry (inside a map).
 *
 *   parley_builder_int(b, 5);
 *   parley_builder_str(b, "hello");
 *   parley_builder_key(b, "pos");
 *   parley_builder_array_begin(b);
 *   parley_builder_double(b, 1.0); ... parley_builder_array_end(b);
 *
 * Running out of a limit (PARLEY_ENOMEM, PARLEY_EMSGSIZE, PARLEY_ERANGE)
 * is sticky: every later call returns that error, and so does
 * parley_builder_finish, until reset. A misuse (PARLEY_EINVAL,
 * PARLEY_ESTATE) changes nothing and is not sticky. A builder belongs to
 * one thread at a time.
 */
typedef struct parley_builder parley_builder;

/* Largest payload a builder makes. */
#define PARLEY_PAYLOAD_MAX ((size_t)64 << 20)

/* Returns PARLEY_OK, PARLEY_EINVAL or PARLEY_ENOMEM. */
PARLEY_API int parley_builder_create(parley_builder **out);
/* NULL is allowed. */
PARLEY_API void parley_builder_destroy(parley_builder *b);
/* Empties the builder (keeps its memory) and clears a sticky error. */
PARLEY_API void parley_builder_reset(parley_builder *b);

/*
 * Each returns PARLEY_OK, PARLEY_EINVAL (NULL text with a length, a
 * non-finite number is fine), PARLEY_ESTATE (a map expects a key here,
 * or a key was given twice), PARLEY_ERANGE (nested deeper than
 * PARLEY_PAYLOAD_MAX_DEPTH), PARLEY_EMSGSIZE (over PARLEY_PAYLOAD_MAX) or
 * PARLEY_ENOMEM.
 */
PARLEY_API int parley_builder_nil(parley_builder *b);
PARLEY_API int parley_builder_bool(parley_builder *b, int v);
PARLEY_API int parley_builder_int(parley_builder *b, int64_t v);
PARLEY_API int parley_builder_uint(parley_builder *b, uint64_t v);
PARLEY_API int parley_builder_double(parley_builder *b, double v);
PARLEY_API int parley_builder_str(parley_builder *b, const char *s);
PARLEY_API int parley_builder_strn(parley_builder *b, const char *s,
                                   size_t len);
PARLEY_API int parley_builder_bytes(parley_builder *b, const void *p,
                                    size_t len);
/* A value read elsewhere, copied as encoded (its raw bytes). */
PARLEY_API int parley_builder_value(parley_builder *b, const parley_value *v);

/* The next value is keyword argument key (top level) or map entry key. */
PARLEY_API int parley_builder_key(parley_builder *b, const char *key);
PARLEY_API int parley_builder_keyn(parley_builder *b, const char *key,
                                   size_t len);

PARLEY_API int parley_builder_array_begin(parley_builder *b);
PARLEY_API int parley_builder_array_end(parley_builder *b);
PARLEY_API int parley_builder_map_begin(parley_builder *b);
PARLEY_API int parley_builder_map_end(parley_builder *b);

/*
 * The encoded payload: *data (owned by the builder, valid until the next
 * change, reset or destroy) and *len. Returns PARLEY_OK, the sticky
 * error, or PARLEY_ESTATE when an array or map is still open or a key
 * has no value. May be called more than once; values may be added after.
 */
PARLEY_API int parley_builder_finish(parley_builder *b, const uint8_t **data,
                                     size_t *len);

/* ---- typed event definitions ------------------------------------------ */

/* One declared field. */
typedef struct parley_field {
    const char *name; /* the keyword, or a label for a positional one */
    parley_type type; /* PARLEY_TYPE_ANY accepts every type; DOUBLE also
                         accepts integers; UINT accepts INT >= 0 */
    int optional;     /* a keyword that may be absent, or a trailing
                         positional that may be absent */
} parley_field;

/*
 * An event's fields, declared once on both sides (legume's message
 * classes). Positional fields in order, then keyword fields by name.
 * Unless allow_extra is set, more positionals or undeclared keywords
 * than declared make a payload not match.
 */
typedef struct parley_event_def {
    const char *name;
    const parley_field *args;
    size_t nargs;
    const parley_field *kwargs;
    size_t nkwargs;
    int allow_extra;
} parley_event_def;

/* ---- the event table -------------------------------------------------- */

/*
 * Registered names (and typed definitions) by id, plus names learned from
 * peers' announcements (each checked against its id). Bounded: at most
 * PARLEY_EVENT_TABLE_MAX names, of which at most 4096 learned from peers
 * (beyond that, events still arrive, with a NULL name). Servers and
 * clients own one each; tools may make their own.
 */
typedef struct parley_event_table parley_event_table;

#define PARLEY_EVENT_TABLE_MAX 65536

PARLEY_API int parley_event_table_create(parley_event_table **out);
PARLEY_API void parley_event_table_destroy(parley_event_table *t);

/*
 * Registers a name and gives its id in *id (id may be NULL). Registering
 * the same name again is fine. Returns PARLEY_OK, PARLEY_EINVAL (NULL,
 * empty, longer than PARLEY_EVENT_NAME_MAX, invalid UTF-8 or control
 * characters), PARLEY_EEXIST (a different registered name has the same
 * id: a collision; parley_event_name tells which), PARLEY_EFULL or
 * PARLEY_ENOMEM. A name learned from a peer is replaced silently.
 */
PARLEY_API int parley_event_register(parley_event_table *t, const char *name,
                                     uint64_t *id);

/*
 * Registers def->name and stores a copy of the definition: incoming
 * events with that id are checked against it (see parley_event_check).
 * Defining a name again replaces its definition. Errors as register,
 * plus PARLEY_EINVAL for a bad field (NULL name, unknown type, a
 * required positional after an optional one, a repeated keyword).
 */
PARLEY_API int parley_event_define(parley_event_table *t,
                                   const parley_event_def *def, uint64_t *id);

/* The registered or learned name of id, or NULL. Valid while t lives
   and the name is not replaced. */
PARLEY_API const char *parley_event_name(const parley_event_table *t,
                                         uint64_t id);

/*
 * Checks a payload against id's definition. PARLEY_OK when it matches or
 * id has none; PARLEY_EPROTO when not, with a sentence in why (cap bytes,
 * may be NULL), e.g. "event 'pose': argument 0 'pos' is str, expected
 * array".
 */
PARLEY_API int parley_event_check(const parley_event_table *t, uint64_t id,
                                  const parley_payload *p, char *why,
                                  size_t cap);

#ifdef __cplusplus
}
#endif

#endif
