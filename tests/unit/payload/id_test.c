/* Event ids (FNV-1a 64 test vectors), the event table: registration,
   collisions (with a real colliding pair), learned names and limits. */
#include "pt.h"

#include "parley/parley.h"
#include "parley/payload.h"
#include "payload/internal.h"

/* Two names with the same FNV-1a 64 value, found with a Pollard rho
   search over 11-character names; both hash to 0xdb4ad10fe22850f7. */
#define COLLIDE_A "EJYlUBbYPRJ"
#define COLLIDE_B "qMQh-vtdLdL"

PT_TEST(fnv1a_vectors)
{
    /* The first three are from the FNV reference test suite. */
    PT_EQ_U64(parley_event_id(""), UINT64_C(0xcbf29ce484222325));
    PT_EQ_U64(parley_event_id("a"), UINT64_C(0xaf63dc4c8601ec8c));
    PT_EQ_U64(parley_event_id("foobar"), UINT64_C(0x85944171f73967e8));
    PT_EQ_U64(parley_event_id("update"), UINT64_C(0xa0ad68312a3d0454));
    PT_EQ_U64(parley_event_id("chat"), UINT64_C(0xf2a38d910b5b348b));
    PT_EQ_U64(parley_event_id("pose"), UINT64_C(0x8c2fd80da8957064));
    /* UTF-8 bytes are hashed as they are: "é" is c3 a9. */
    PT_EQ_U64(parley_event_id("\xc3\xa9"), parley_event_id_n("\xc3\xa9x", 2));
    PT_EQ_U64(parley_event_id(NULL), parley_event_id(""));
    PT_EQ_U64(parley_event_id(COLLIDE_A), UINT64_C(0xdb4ad10fe22850f7));
    PT_EQ_U64(parley_event_id(COLLIDE_B), UINT64_C(0xdb4ad10fe22850f7));
}

PT_TEST(register_and_name)
{
    parley_event_table *t;
    uint64_t id = 0, id2 = 0;

    PT_OK(parley_event_table_create(&t));
    PT_OK(parley_event_register(t, "update", &id));
    PT_EQ_U64(id, parley_event_id("update"));
    PT_EQ_STR(parley_event_name(t, id), "update");
    PT_OK(parley_event_register(t, "update", &id2)); /* again: fine */
    PT_EQ_U64(id2, id);
    PT_TRUE(parley_event_name(t, parley_event_id("other")) == NULL);
    PT_ERR(parley_event_register(t, "", NULL), PARLEY_EINVAL);
    PT_ERR(parley_event_register(t, "bad\nname", NULL), PARLEY_EINVAL);
    PT_ERR(parley_event_register(t, "\xff\xfe", NULL), PARLEY_EINVAL);
    PT_ERR(parley_event_register(t, "\xed\xa0\x80", NULL), PARLEY_EINVAL);
    char longname[300];
    memset(longname, 'x', sizeof longname);
    longname[256] = '\0';
    PT_ERR(parley_event_register(t, longname, NULL), PARLEY_EINVAL);
    longname[255] = '\0';
    PT_OK(parley_event_register(t, longname, NULL));
    PT_OK(parley_event_register(t, "caf\xc3\xa9", NULL));
    parley_event_table_destroy(t);
}

PT_TEST(collision_is_reported)
{
    parley_event_table *t;
    uint64_t id = 0;

    PT_OK(parley_event_table_create(&t));
    PT_OK(parley_event_register(t, COLLIDE_A, &id));
    PT_ERR(parley_event_register(t, COLLIDE_B, NULL), PARLEY_EEXIST);
    /* The first keeps the id; the table tells which name owns it. */
    PT_EQ_STR(parley_event_name(t, id), COLLIDE_A);
    /* A peer announcing the other name for that id is a collision too. */
    PT_ERR(pl_event_learn(t, id, COLLIDE_B, strlen(COLLIDE_B)), PARLEY_EEXIST);
    PT_EQ_STR(parley_event_name(t, id), COLLIDE_A);
    parley_event_table_destroy(t);
}

PT_TEST(learned_names)
{
    parley_event_table *t;
    uint64_t id = parley_event_id("chat");

    PT_OK(parley_event_table_create(&t));
    /* A name that does not hash to the id is refused. */
    PT_ERR(pl_event_learn(t, id + 1, "chat", 4), PARLEY_EPROTO);
    PT_TRUE(parley_event_name(t, id + 1) == NULL);
    PT_ERR(pl_event_learn(t, parley_event_id_n("a\x01", 2), "a\x01", 2),
           PARLEY_EPROTO);
    PT_OK(pl_event_learn(t, id, "chat", 4));
    PT_EQ_STR(parley_event_name(t, id), "chat");
    PT_OK(pl_event_learn(t, id, "chat", 4));
    /* Two learned names colliding: the first stays. */
    PT_OK(pl_event_learn(t, parley_event_id(COLLIDE_B), COLLIDE_B, 11));
    PT_ERR(pl_event_learn(t, parley_event_id(COLLIDE_A), COLLIDE_A, 11),
           PARLEY_EEXIST);
    PT_EQ_STR(parley_event_name(t, parley_event_id(COLLIDE_A)), COLLIDE_B);
    /* Registering replaces a learned name (the app's word wins). */
    PT_OK(parley_event_register(t, COLLIDE_A, NULL));
    PT_EQ_STR(parley_event_name(t, parley_event_id(COLLIDE_A)), COLLIDE_A);
    parley_event_table_destroy(t);
}

PT_TEST(table_is_bounded)
{
    parley_event_table *t;
    char name[32];
    int rc = PARLEY_OK;
    uint32_t n = 0;

    PT_OK(parley_event_table_create(&t));
    /* Peers can fill only the learned part... */
    while (rc == PARLEY_OK && n <= PL_EVENT_LEARNED_MAX) {
        snprintf(name, sizeof name, "ev%u", (unsigned)n);
        rc = pl_event_learn(t, parley_event_id(name), name, strlen(name));
        n++;
    }
    PT_ERR(rc, PARLEY_EFULL);
    PT_EQ_INT(n, PL_EVENT_LEARNED_MAX + 1);
    /* ...and the app can still register its own, up to the whole table
       (registering a learned name moves it to the registered side). */
    PT_OK(parley_event_register(t, "ev0", NULL));
    PT_OK(pl_event_learn(t, parley_event_id("late"), "late", 4));
    rc = PARLEY_OK;
    n = 0;
    while (rc == PARLEY_OK && n <= PARLEY_EVENT_TABLE_MAX) {
        snprintf(name, sizeof name, "app%u", (unsigned)n);
        rc = parley_event_register(t, name, NULL);
        n++;
    }
    PT_ERR(rc, PARLEY_EFULL);
    /* 4097 names were in: 65536 - 4097 more fit, the next one failed. */
    PT_EQ_INT(n, PARLEY_EVENT_TABLE_MAX - (PL_EVENT_LEARNED_MAX + 1) + 1);
    PT_EQ_STR(parley_event_name(t, parley_event_id("ev77")), "ev77");
    PT_EQ_STR(parley_event_name(t, parley_event_id("app77")), "app77");
    parley_event_table_destroy(t);
}

PT_TEST(idmap_insert_delete)
{
    pl_idmap m;
    static int vals[2000];

    pl_idmap_init(&m);
    for (int i = 0; i < 2000; i++) {
        PT_OK(pl_idmap_put(&m, (uint64_t)i * 7919, &vals[i]));
    }
    for (int i = 0; i < 2000; i += 2) {
        PT_TRUE(pl_idmap_del(&m, (uint64_t)i * 7919) == &vals[i]);
    }
    PT_EQ_INT(m.count, 1000);
    for (int i = 0; i < 2000; i++) {
        void *v = pl_idmap_get(&m, (uint64_t)i * 7919);
        PT_TRUE(i % 2 ? v == &vals[i] : v == NULL);
    }
    PT_TRUE(pl_idmap_del(&m, 12345678) == NULL);
    PT_ERR(pl_idmap_put(&m, 1, NULL), PARLEY_EINVAL);
    pl_idmap_free(&m);
}

PT_MAIN(PT_RUN(fnv1a_vectors) PT_RUN(register_and_name)
            PT_RUN(collision_is_reported) PT_RUN(learned_names)
                PT_RUN(table_is_bounded) PT_RUN(idmap_insert_delete))
