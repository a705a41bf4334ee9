#ifndef LEADROUTER_CZLIB_SHIM_H
#define LEADROUTER_CZLIB_SHIM_H
#include <zlib.h>
/* inflateInit2 is a macro: wrap it so Swift can call it. */
static inline int lr_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
