// hiredis (Debian libhiredis-dev 0.14) for Swift: every entry point used is a plain,
// non-variadic C function or a struct field, called from Swift directly; nothing else
// needs C here.
#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

#endif
