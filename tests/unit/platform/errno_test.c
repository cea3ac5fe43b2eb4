/*
 * Tests for the errno -> parley_err mapper that every platform call
 * reports through: the codes the drivers branch on, and the catch-all.
 */
#include "pt.h"

#include <errno.h>

#include "parley/parley.h"
#include "platform/platform.h"

PT_TEST(maps_the_codes_drivers_branch_on)
{
    PT_OK(pl_os_err_from_errno(0));
    PT_ERR(pl_os_err_from_errno(EAGAIN), PARLEY_EAGAIN);
    PT_ERR(pl_os_err_from_errno(EWOULDBLOCK), PARLEY_EAGAIN);
    PT_ERR(pl_os_err_from_errno(EINPROGRESS), PARLEY_EAGAIN);
    PT_ERR(pl_os_err_from_errno(EINTR), PARLEY_EINTR);
    PT_ERR(pl_os_err_from_errno(ECONNREFUSED), PARLEY_ECONNREFUSED);
    PT_ERR(pl_os_err_from_errno(ECONNRESET), PARLEY_ECONNRESET);
    PT_ERR(pl_os_err_from_errno(EPIPE), PARLEY_ECLOSED);
    PT_ERR(pl_os_err_from_errno(ETIMEDOUT), PARLEY_ETIMEDOUT);
    PT_ERR(pl_os_err_from_errno(ENETUNREACH), PARLEY_ENETUNREACH);
    PT_ERR(pl_os_err_from_errno(EHOSTUNREACH), PARLEY_ENETUNREACH);
    PT_ERR(pl_os_err_from_errno(EADDRINUSE), PARLEY_EADDRINUSE);
    PT_ERR(pl_os_err_from_errno(EADDRNOTAVAIL), PARLEY_EADDRNOTAVAIL);
    PT_ERR(pl_os_err_from_errno(EAFNOSUPPORT), PARLEY_EAFNOSUPPORT);
    PT_ERR(pl_os_err_from_errno(EACCES), PARLEY_EACCES);
    PT_ERR(pl_os_err_from_errno(EMSGSIZE), PARLEY_EMSGSIZE);
    PT_ERR(pl_os_err_from_errno(ENOMEM), PARLEY_ENOMEM);
    PT_ERR(pl_os_err_from_errno(EMFILE), PARLEY_EFULL);
    PT_ERR(pl_os_err_from_errno(EBADF), PARLEY_EINVAL);
    PT_ERR(pl_os_err_from_errno(ENOTCONN), PARLEY_ENOTCONN);
}

PT_TEST(unknown_is_eio)
{
    PT_ERR(pl_os_err_from_errno(EIO), PARLEY_EIO);
    PT_ERR(pl_os_err_from_errno(123456), PARLEY_EIO);
    PT_ERR(pl_os_err_from_errno(-1), PARLEY_EIO);
}

PT_MAIN(PT_RUN(maps_the_codes_drivers_branch_on) PT_RUN(unknown_is_eio))
