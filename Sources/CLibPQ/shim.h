#ifndef KONTOR_CLIBPQ_SHIM_H
#define KONTOR_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
