/*
 * Keeps docs/PROTOCOL.md honest: every golden vector the codec tests check
 * (golden.h) must appear in the document, as a whole run of hex digits,
 * once whitespace is ignored. Editing a vector in one place and not the
 * other fails here.
 */
#include "pt.h"

#include <ctype.h>

#include "parley/parley.h"
#include "golden.h"

#define DOC_SUFFIX "tests/unit/wire/protocol_doc_test.c"
#define DOC_MAX (1 << 20)

static char g_doc[DOC_MAX];
static size_t g_doc_len;

/* Loads docs/PROTOCOL.md (found from this file's path) without
   whitespace. */
static void
load_doc(void)
{
    char path[4096];
    const char *file = __FILE__;
    size_t n = strlen(file), s = strlen(DOC_SUFFIX);
    PT_TRUE(n >= s && strcmp(file + n - s, DOC_SUFFIX) == 0);
    PT_TRUE(snprintf(path, sizeof path, "%.*sdocs/PROTOCOL.md", (int)(n - s),
                     file) < (int)sizeof path);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        PT_FAIL_("cannot open %s", path);
    }
    int c;
    g_doc_len = 0;
    while ((c = fgetc(f)) != EOF && g_doc_len < DOC_MAX - 1) {
        if (!isspace(c)) {
            g_doc[g_doc_len++] = (char)c;
        }
    }
    fclose(f);
    g_doc[g_doc_len] = 0;
    PT_GT_INT(g_doc_len, 1000);
}

static int
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Nonzero when hex (spaces dropped) occurs in the document with no other
   hex digit directly before or after it. */
static int
doc_has(const char *hex)
{
    char want[1024];
    size_t n = 0;
    for (const char *s = hex; *s && n < sizeof want - 1; s++) {
        if (*s != ' ') {
            want[n++] = *s;
        }
    }
    want[n] = 0;
    for (const char *p = strstr(g_doc, want); p; p = strstr(p + 1, want)) {
        int before = p > g_doc && is_hex(p[-1]);
        int after = is_hex(p[n]);
        if (!before && !after) {
            return 1;
        }
    }
    return 0;
}

PT_TEST(doc_shows_every_golden_vector)
{
    load_doc();
    static const struct {
        const char *name, *hex;
    } v[] = {
#define ROW(h) {#h, h},
        GOLDEN_ALL(ROW)
#undef ROW
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (!doc_has(v[i].hex)) {
            PT_FAIL_("docs/PROTOCOL.md lacks %s: %s", v[i].name, v[i].hex);
        }
    }
}

PT_TEST(doc_shows_every_varint)
{
    load_doc();
    static const char *const v[] = {
#define ROW(value, hex) hex,
        GOLDEN_VARINTS(ROW)
#undef ROW
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (!doc_has(v[i])) {
            PT_FAIL_("docs/PROTOCOL.md lacks the varint %s", v[i]);
        }
    }
}

PT_TEST(check_is_not_vacuous)
{
    load_doc();
    PT_TRUE(!doc_has("02 4064 40fa 02 05 030a 0801"));
    PT_TRUE(!doc_has("4064 40fa 02 05 030a 08")); /* not a whole run */
}

// clang-format off
PT_MAIN(
    PT_RUN(doc_shows_every_golden_vector)
    PT_RUN(doc_shows_every_varint)
    PT_RUN(check_is_not_vacuous))
// clang-format on
