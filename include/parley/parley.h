/*
 * parley: networking for real-time interactive applications. This
 * umbrella header includes every public parley header.
 */
#ifndef PARLEY_PARLEY_H
#define PARLEY_PARLEY_H

#include "common.h"
#include "error.h"
#include "addr.h"
#include "udp.h"
#include "sim.h"
#include "host.h"
#include "security.h"
#include "tcp.h"
#include "datagram.h"
#include "rv.h"
#include "payload.h"
#include "session.h"
#include "netobj.h"

#endif
