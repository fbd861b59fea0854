#ifndef SOUK_CLIBPQ_SHIM_H
#define SOUK_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
