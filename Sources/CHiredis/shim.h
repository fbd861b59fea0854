#ifndef SOUK_CHIREDIS_SHIM_H
#define SOUK_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
