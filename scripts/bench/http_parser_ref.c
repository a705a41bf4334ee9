/* Reference for scripts/bench-http-parser.sh: the same requests through nodejs/http-parser
 * (libhttp-parser, C, callback based). The callbacks only count bytes: it allocates nothing and
 * builds no strings or header list, so it is a lower bound on parsing cost, not a like-for-like
 * API. Usage: http-parser-ref N → "<kind> <ns per request> <checksum>". */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long checksum;
static int on_data(http_parser *p, const char *at, size_t len) { (void)p; (void)at; checksum += (long)len; return 0; }
static int on_complete(http_parser *p) { (void)p; checksum += 1; return 0; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    const char *kinds[2] = {"get", "post"};
    char post[512];
    snprintf(post, sizeof post, "POST /v1/events HTTP/1.1\r\nHost: localhost:8080\r\nContent-Type: application/json\r\n"
             "Authorization: Bearer 0123456789abcdef\r\nContent-Length: 64\r\n\r\n%064d", 0);
    const char *reqs[2] = {"GET /healthz HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk/4.2.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n", post};
    http_parser_settings settings;
    memset(&settings, 0, sizeof settings);
    settings.on_url = on_data;
    settings.on_header_field = on_data;
    settings.on_header_value = on_data;
    settings.on_body = on_data;
    settings.on_message_complete = on_complete;
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(reqs[k]);
        char *batch = malloc(len * 16);
        for (int i = 0; i < 16; i++) memcpy(batch + i * len, reqs[k], len);
        http_parser parser;
        http_parser_init(&parser, HTTP_REQUEST);
        checksum = 0;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < n / 16; i++) {
            size_t done = http_parser_execute(&parser, &settings, batch, len * 16);
            if (done != len * 16) { fprintf(stderr, "parse error %s\n", http_errno_name(parser.http_errno)); return 1; }
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
        printf("%s %.1f %ld\n", kinds[k], ns / (double)(n / 16 * 16), checksum);
        free(batch);
    }
    return 0;
}
