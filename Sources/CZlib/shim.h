#ifndef LEADROUTER_CZLIB_SHIM_H
#define LEADROUTER_CZLIB_SHIM_H
#include <zlib.h>
/* inflateInit2 is a macro: wrap it so Swift can call it. */
static inline int lr_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
/* deflateInit2 is a macro too (lr.js is served gzip-compressed, compressed once at start). */
static inline int lr_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 9, Z_DEFAULT_STRATEGY);
}
#endif
