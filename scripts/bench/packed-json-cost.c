/* Instructions of one PackedJSON pack and unpack (scripts/bench-pack-cost.sh): the zlib calls
 * SmallDeflate makes — a raw deflate stream primed once with DICTIONARY (level 6, memory level 4,
 * 2^WINDOW_BITS of window), copied per document (deflateCopy) and finished; an unpack inflates
 * with the same dictionary. REPS packs and unpacks of DOCUMENT; run under callgrind twice (REPS 1
 * and 101) and the difference over 100 is the cost of one.
 * Usage: packed-json-cost DICTIONARY DOCUMENT WINDOW_BITS REPS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(1); }
    fseek(f, 0, SEEK_END); *n = (size_t)ftell(f); fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    if (fread(b, 1, *n, f) != *n) { perror(path); exit(1); }
    fclose(f);
    return b;
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s pack|unpack DICTIONARY DOCUMENT WINDOW_BITS REPS\n", argv[0]); return 2; }
    int unpack = strcmp(argv[1], "unpack") == 0, bits = atoi(argv[4]), reps = atoi(argv[5]);
    size_t dn, sn;
    unsigned char *dict = slurp(argv[2], &dn), *doc = slurp(argv[3], &sn);
    z_stream primed;
    memset(&primed, 0, sizeof primed);
    deflateInit2(&primed, 6, Z_DEFLATED, -bits, 4, Z_DEFAULT_STRATEGY);
    deflateSetDictionary(&primed, dict, (uInt)dn);
    static unsigned char packed[1 << 16], out[1 << 16];
    size_t pn = 0;
    for (int i = 0; i < (unpack ? 1 : reps); i++) {
        z_stream z;
        deflateCopy(&z, &primed);
        z.next_in = doc; z.avail_in = (uInt)sn; z.next_out = packed; z.avail_out = sizeof packed;
        deflate(&z, Z_FINISH);
        pn = z.total_out;
        deflateEnd(&z);
    }
    for (int i = 0; unpack && i < reps; i++) {
        z_stream u;
        memset(&u, 0, sizeof u);
        inflateInit2(&u, -15);
        inflateSetDictionary(&u, dict, (uInt)dn);
        u.next_in = packed; u.avail_in = (uInt)pn; u.next_out = out; u.avail_out = sizeof out;
        inflate(&u, Z_NO_FLUSH);
        inflateEnd(&u);
    }
    printf("%zu -> %zu bytes\n", sn, pn + 1);  /* + the byte naming the dictionary */
    return 0;
}
