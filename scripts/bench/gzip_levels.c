/* zlib against libdeflate on one answer, compressed whole as GzipDeflater does: per library and
   level, the compressed size and the median process CPU time of ROUNDS compressions. Each
   output is inflated again and compared with the input. Used by scripts/bench-gzip.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include <libdeflate.h>

static double cpu_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static size_t zlib_gzip(const unsigned char *in, size_t n, unsigned char *out, size_t cap, int level) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, level, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    s.next_in = (unsigned char *)in; s.avail_in = (uInt)n;
    s.next_out = out; s.avail_out = (uInt)cap;
    size_t written = deflate(&s, Z_FINISH) == Z_STREAM_END ? s.total_out : 0;
    deflateEnd(&s);
    return written;
}

static int inflates_to(const unsigned char *gz, size_t n, const unsigned char *plain, size_t plain_n) {
    unsigned char *back = malloc(plain_n);
    size_t got = 0;
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    int ok = libdeflate_gzip_decompress(d, gz, n, back, plain_n, &got) == LIBDEFLATE_SUCCESS
        && got == plain_n && memcmp(back, plain, plain_n) == 0;
    libdeflate_free_decompressor(d);
    free(back);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: gzip_levels FILE ROUNDS\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    fseek(f, 0, SEEK_END); long n = ftell(f); rewind(f);
    unsigned char *in = malloc(n);
    if (fread(in, 1, n, f) != (size_t)n) return 2;
    fclose(f);
    int rounds = atoi(argv[2]);
    size_t cap = n + n / 10 + 1024;
    unsigned char *out = malloc(cap);
    double *t = malloc(sizeof(double) * rounds);
    printf("%-12s %5s %10s %8s %8s\n", "library", "level", "bytes", "ratio", "cpu_ms");
    for (int lib = 0; lib < 2; lib++) {
        int levels[] = {1, 2, 6, 9};
        for (int i = 0; i < 4; i++) {
            size_t size = 0;
            struct libdeflate_compressor *c = lib ? libdeflate_alloc_compressor(levels[i]) : NULL;
            for (int r = 0; r < rounds; r++) {
                double start = cpu_ms();
                size = lib ? libdeflate_gzip_compress(c, in, n, out, cap) : zlib_gzip(in, n, out, cap, levels[i]);
                t[r] = cpu_ms() - start;
            }
            if (c) libdeflate_free_compressor(c);
            if (!size || !inflates_to(out, size, in, n)) { fprintf(stderr, "round trip failed\n"); return 1; }
            qsort(t, rounds, sizeof(double), by_value);
            printf("%-12s %5d %10zu %8.3f %8.1f\n", lib ? "libdeflate" : "zlib", levels[i], size,
                   (double)size / n, t[rounds / 2]);
        }
    }
    return 0;
}
