/* Error names and messages, generated from the list in parley/error.h. */
#include "parley/error.h"

const char *
parley_strerror(int err)
{
    switch (err) {
#define MSG_CASE(name, value, msg)                                             \
    case (value):                                                              \
        return msg;
        PARLEY_ERRNO_MAP(MSG_CASE)
#undef MSG_CASE
    }
    return "unknown error";
}

const char *
parley_err_name(int err)
{
    switch (err) {
#define NAME_CASE(name, value, msg)                                            \
    case (value):                                                              \
        return "PARLEY_" #name;
        PARLEY_ERRNO_MAP(NAME_CASE)
#undef NAME_CASE
    }
    return "PARLEY_EUNKNOWN";
}

const char *
parley_version(void)
{
    return PARLEY_VERSION_STRING;
}
