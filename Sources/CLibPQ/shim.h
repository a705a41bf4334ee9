#ifndef LEADROUTER_CLIBPQ_SHIM_H
#define LEADROUTER_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
