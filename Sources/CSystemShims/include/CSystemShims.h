#ifndef LEADROUTER_CSYSTEMSHIMS_H
#define LEADROUTER_CSYSTEMSHIMS_H
#include <stdint.h>

/* Placeholder: the HTTP server issue fills this with epoll/eventfd/accept4 wrappers. */
int lr_shims_version(void);
#endif
