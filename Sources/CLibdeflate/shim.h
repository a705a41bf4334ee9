#ifndef LEADROUTER_CLIBDEFLATE_SHIM_H
#define LEADROUTER_CLIBDEFLATE_SHIM_H
/* libdeflate: whole-buffer DEFLATE, about twice zlib's speed at the same size. Used for answers
   that are compressed whole (GzipDeflater); streams (request bodies, packed documents) stay on zlib. */
#include <libdeflate.h>
#endif
