// A malloc-counting interposer for benchmarks: LD_PRELOAD it and read the number of allocation
// calls through `lr_malloc_count()` (found with dlsym). Every allocation entry point counts once;
// free does not count. Built by scripts/bench-segmentation.sh with the system C compiler.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static _Atomic uint64_t lr_count;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

// dlsym itself may call calloc before the real one is known: serve it from a static arena.
static char lr_arena[65536];
static size_t lr_arena_used;
static int lr_resolving;

static void lr_resolve(void) {
    if (real_malloc || lr_resolving) return;
    lr_resolving = 1;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    lr_resolving = 0;
}

static void *lr_arena_alloc(size_t size) {
    size_t start = (lr_arena_used + 15) & ~(size_t)15;
    if (start + size > sizeof lr_arena) return NULL;
    lr_arena_used = start + size;
    return lr_arena + start;
}

static int lr_in_arena(void *p) { return (char *)p >= lr_arena && (char *)p < lr_arena + sizeof lr_arena; }

/// Allocation calls so far (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign).
uint64_t lr_malloc_count(void) { return lr_count; }

void *malloc(size_t size) {
    lr_resolve();
    if (!real_malloc) return lr_arena_alloc(size);
    lr_count++;
    return real_malloc(size);
}

void *calloc(size_t n, size_t size) {
    lr_resolve();
    if (!real_calloc) {
        void *p = lr_arena_alloc(n * size);
        if (p) memset(p, 0, n * size);
        return p;
    }
    lr_count++;
    return real_calloc(n, size);
}

void *realloc(void *p, size_t size) {
    lr_resolve();
    lr_count++;
    if (p && lr_in_arena(p)) {
        void *q = real_malloc(size);
        if (q) memcpy(q, p, size);
        return q;
    }
    return real_realloc(p, size);
}

void free(void *p);
static void (*real_free)(void *);
void free(void *p) {
    if (!p || lr_in_arena(p)) return;
    if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
    real_free(p);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    lr_resolve();
    lr_count++;
    return real_posix_memalign(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    lr_resolve();
    lr_count++;
    return real_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    lr_resolve();
    lr_count++;
    return real_memalign(alignment, size);
}
