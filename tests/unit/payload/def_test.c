/* Typed event definitions: declaring fields, matching payloads, and the
   sentence that explains a mismatch. */
#include "pt.h"

#include "parley/parley.h"
#include "parley/payload.h"

static const parley_field pose_args[] = {
    {"pos", PARLEY_TYPE_ARRAY, 0},
    {"ori", PARLEY_TYPE_ARRAY, 0},
    {"t", PARLEY_TYPE_DOUBLE, 1},
};
static const parley_field pose_kwargs[] = {
    {"client", PARLEY_TYPE_STR, 0},
    {"seq", PARLEY_TYPE_UINT, 1},
};
static const parley_event_def pose_def = {"pose",      pose_args, 3,
                                          pose_kwargs, 2,         0};

/* Builds [pos, ori, (t)] with kwargs as asked. */
static void
build(parley_builder *b, int nargs, int pos_is_str, const char *client,
      int64_t seq, const char *extra_kw)
{
    parley_builder_reset(b);
    if (nargs > 0) {
        if (pos_is_str) {
            parley_builder_str(b, "nope");
        } else {
            parley_builder_array_begin(b);
            parley_builder_double(b, 1.0);
            parley_builder_array_end(b);
        }
    }
    if (nargs > 1) {
        parley_builder_array_begin(b);
        parley_builder_array_end(b);
    }
    for (int i = 2; i < nargs; i++) {
        parley_builder_int(b, 3); /* an int where a double is declared */
    }
    if (client) {
        parley_builder_key(b, "client");
        parley_builder_str(b, client);
    }
    if (seq != -2) {
        parley_builder_key(b, "seq");
        parley_builder_int(b, seq);
    }
    if (extra_kw) {
        parley_builder_key(b, extra_kw);
        parley_builder_nil(b);
    }
}

static int
check(parley_event_table *t, parley_builder *b, char *why, size_t cap)
{
    const uint8_t *d;
    size_t n;
    parley_payload p;

    PT_OK(parley_builder_finish(b, &d, &n));
    PT_OK(parley_payload_parse(d, n, &p));
    why[0] = '\0';
    return parley_event_check(t, parley_event_id("pose"), &p, why, cap);
}

PT_TEST(matching_and_mismatching)
{
    parley_event_table *t;
    parley_builder *b;
    char why[200];
    uint64_t id;

    PT_OK(parley_event_table_create(&t));
    PT_OK(parley_builder_create(&b));
    PT_OK(parley_event_define(t, &pose_def, &id));
    PT_EQ_U64(id, parley_event_id("pose"));
    PT_EQ_STR(parley_event_name(t, id), "pose");

    build(b, 2, 0, "alice", -2, NULL);
    PT_OK(check(t, b, why, sizeof why));
    build(b, 3, 0, "alice", 7, NULL); /* optional t (int ok), seq */
    PT_OK(check(t, b, why, sizeof why));

    build(b, 1, 0, "alice", -2, NULL);
    PT_ERR(check(t, b, why, sizeof why), PARLEY_EPROTO);
    PT_EQ_STR(why, "event 'pose': needs 2 argument(s), got 1");
    build(b, 4, 0, "alice", -2, NULL);
    PT_ERR(check(t, b, why, sizeof why), PARLEY_EPROTO);
    PT_EQ_STR(why, "event 'pose': takes at most 3 argument(s), got 4");
    build(b, 2, 1, "alice", -2, NULL);
    PT_ERR(check(t, b, why, sizeof why), PARLEY_EPROTO);
    PT_EQ_STR(why, "event 'pose': argument 0 'pos' is str, expected array");
    build(b, 2, 0, NULL, -2, NULL);
    PT_ERR(check(t, b, why, sizeof why), PARLEY_EPROTO);
    PT_EQ_STR(why, "event 'pose': keyword 'client' is missing");
    build(b, 2, 0, "alice", -5, NULL);
    PT_ERR(check(t, b, why, sizeof why), PARLEY_EPROTO);
    PT_EQ_STR(why, "event 'pose': keyword 'seq' is int, expected uint");
    build(b, 2, 0, "alice", -2, "colour");
    PT_ERR(check(t, b, why, sizeof why), PARLEY_EPROTO);
    PT_EQ_STR(why, "event 'pose': unexpected keyword 'colour'");

    /* allow_extra accepts more positionals and other keywords. */
    parley_event_def loose = pose_def;
    loose.allow_extra = 1;
    PT_OK(parley_event_define(t, &loose, NULL));
    build(b, 4, 0, "alice", -2, "colour");
    PT_OK(check(t, b, why, sizeof why));

    /* An event without a definition always matches. */
    const uint8_t *d;
    size_t n;
    parley_payload p;
    PT_OK(parley_builder_finish(b, &d, &n));
    PT_OK(parley_payload_parse(d, n, &p));
    PT_OK(parley_event_check(t, parley_event_id("chat"), &p, why, 0));
    parley_builder_destroy(b);
    parley_event_table_destroy(t);
}

PT_TEST(bad_definitions)
{
    parley_event_table *t;
    parley_field f[2] = {{"a", PARLEY_TYPE_INT, 1}, {"b", PARLEY_TYPE_INT, 0}};
    parley_event_def d = {"ev", f, 2, NULL, 0, 0};

    PT_OK(parley_event_table_create(&t));
    /* A required positional after an optional one. */
    PT_ERR(parley_event_define(t, &d, NULL), PARLEY_EINVAL);
    f[0].optional = 0;
    f[1].type = (parley_type)9;
    PT_ERR(parley_event_define(t, &d, NULL), PARLEY_EINVAL);
    f[1].type = PARLEY_TYPE_ANY;
    d.kwargs = f;
    d.nkwargs = 2;
    f[1].name = "a";
    PT_ERR(parley_event_define(t, &d, NULL), PARLEY_EINVAL); /* repeated */
    f[1].name = NULL;
    d.nkwargs = 0;
    PT_ERR(parley_event_define(t, &d, NULL), PARLEY_EINVAL);
    f[1].name = "b";
    PT_OK(parley_event_define(t, &d, NULL));
    d.name = "";
    PT_ERR(parley_event_define(t, &d, NULL), PARLEY_EINVAL);
    parley_event_table_destroy(t);
}

PT_MAIN(PT_RUN(matching_and_mismatching) PT_RUN(bad_definitions))
