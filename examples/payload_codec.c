/*
 * example_payload_codec: builds and reads parley event payloads from the
 * command line, to show the builder and the reader and to let other
 * languages check the bytes (tests/tools/msgpack_python_test.sh).
 *   encode        writes a payload with every value type to stdout
 *   decode        reads a payload from stdin and prints every value
 *   id NAME...    prints each name's event id (FNV-1a 64) in hex
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <parley/parley.h>
#include <parley/payload.h>

#define MAX_INPUT (1 << 20)

/* Vizard's example arguments, plus one of every type at its edges. */
static int
build(parley_builder *b)
{
    static const uint8_t blob[] = {0x00, 0x01, 0xfe, 0xff};

    parley_builder_int(b, 5);
    parley_builder_str(b, "hello");
    parley_builder_array_begin(b);
    for (int i = 1; i <= 3; i++) {
        parley_builder_int(b, i);
    }
    parley_builder_array_end(b);
    parley_builder_nil(b);
    parley_builder_bool(b, 1);
    parley_builder_bool(b, 0);
    parley_builder_int(b, INT64_MIN);
    parley_builder_int(b, -129);
    parley_builder_uint(b, UINT64_MAX);
    parley_builder_double(b, -0.1);
    parley_builder_bytes(b, blob, sizeof blob);
    parley_builder_str(b, "caf\xc3\xa9 \xe2\x9c\x93");
    parley_builder_key(b, "foo");
    parley_builder_int(b, 78);
    parley_builder_key(b, "bar");
    parley_builder_array_begin(b);
    parley_builder_str(b, "more");
    parley_builder_str(b, "data");
    parley_builder_array_end(b);
    parley_builder_key(b, "pose");
    parley_builder_map_begin(b);
    parley_builder_key(b, "pos");
    parley_builder_array_begin(b);
    parley_builder_double(b, 1.5);
    parley_builder_double(b, 0.0);
    parley_builder_double(b, -2.25);
    parley_builder_array_end(b);
    parley_builder_key(b, "empty");
    parley_builder_map_begin(b);
    return parley_builder_map_end(b) == PARLEY_OK &&
                   parley_builder_map_end(b) == PARLEY_OK
               ? 0
               : -1;
}

static void
hex(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf("%02x", ((const uint8_t *)p)[i]);
    }
}

/* One value as text: "int:5", "str:<hex>", "array[...]", "map{k=v,...}". */
static void
print_value(const parley_value *v)
{
    parley_iter it;
    parley_value k, x;
    const char *sep = "";

    switch (v->type) {
    case PARLEY_TYPE_NIL:
        printf("nil");
        break;
    case PARLEY_TYPE_BOOL:
        printf("bool:%s", v->v.b ? "true" : "false");
        break;
    case PARLEY_TYPE_INT:
        printf("int:%" PRId64, v->v.i);
        break;
    case PARLEY_TYPE_UINT:
        printf("int:%" PRIu64, v->v.u);
        break;
    case PARLEY_TYPE_DOUBLE:
        printf("double:%.17g", v->v.d);
        break;
    case PARLEY_TYPE_STR:
        printf("str:");
        hex(v->v.str.ptr, v->v.str.len);
        break;
    case PARLEY_TYPE_BYTES:
        printf("bytes:");
        hex(v->v.bytes.ptr, v->v.bytes.len);
        break;
    case PARLEY_TYPE_ARRAY:
    case PARLEY_TYPE_MAP:
        printf(v->type == PARLEY_TYPE_ARRAY ? "array[" : "map{");
        parley_iter_init(&it, v);
        while (parley_iter_next(&it, &k, &x) == 1) {
            printf("%s", sep);
            if (v->type == PARLEY_TYPE_MAP) {
                print_value(&k);
                printf("=");
            }
            print_value(&x);
            sep = ",";
        }
        printf(v->type == PARLEY_TYPE_ARRAY ? "]" : "}");
        break;
    default:
        printf("?");
        break;
    }
}

static int
decode(void)
{
    static uint8_t buf[MAX_INPUT];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    parley_payload p;
    int rc = parley_payload_parse(buf, n, &p);

    if (rc != PARLEY_OK) {
        fprintf(stderr, "decode: %s\n", parley_strerror(rc));
        return 1;
    }
    printf("args ");
    print_value(&p.args);
    printf("\nkwargs ");
    print_value(&p.kwargs);
    printf("\n");
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "encode") == 0) {
        parley_builder *b;
        const uint8_t *data;
        size_t len;
        if (parley_builder_create(&b) != PARLEY_OK || build(b) != 0 ||
            parley_builder_finish(b, &data, &len) != PARLEY_OK) {
            fprintf(stderr, "encode failed\n");
            return 1;
        }
        fwrite(data, 1, len, stdout);
        parley_builder_destroy(b);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "decode") == 0) {
        return decode();
    }
    if (argc >= 3 && strcmp(argv[1], "id") == 0) {
        for (int i = 2; i < argc; i++) {
            printf("%016" PRIx64 "\n", parley_event_id(argv[i]));
        }
        return 0;
    }
    fprintf(stderr, "usage: example_payload_codec encode | decode | "
                    "id NAME...\n");
    return 2;
}
