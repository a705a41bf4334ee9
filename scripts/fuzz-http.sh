#!/usr/bin/env bash
# Builds the libFuzzer target for the HTTP request parser and runs it for N seconds
# (default 60): scripts/fuzz-http.sh [SECONDS] [extra libFuzzer flags...]
#
# The target is compiled straight from the parser's source files plus
# scripts/fuzz/HTTPParserFuzz.swift with `swiftc -sanitize=fuzzer,address`, into .build-fuzz/.
# It is not a SwiftPM target, so `swift build` / `swift test` never need fuzzer flags.
# The seed corpus (a few valid requests) and a token dictionary are generated here, not committed;
# the working corpus grows in .build-fuzz/corpus (ignored by git) and is reused by later runs.
# A crash leaves its input as .build-fuzz/crash-* (replay: .build-fuzz/http-parser-fuzz FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
out=.build-fuzz
mkdir -p "$out/seeds" "$out/corpus"

sources=(Sources/HTTPServer/HTTPTypes.swift Sources/HTTPServer/Parser/*.swift scripts/fuzz/HTTPParserFuzz.swift)
echo "fuzz-http: compiling ${#sources[@]} files"
swiftc -O -g -parse-as-library -module-name HTTPParserFuzz -sanitize=fuzzer,address \
    "${sources[@]}" -o "$out/http-parser-fuzz" 2> >(grep -v "Cannot export local symbol" >&2)

# Seeds: two control bytes (limits/feeding, split seed), then a request stream.
seed() { printf "$2" > "$out/seeds/$1"; }
seed get      '\x00\x07GET /a/b?x=1&y=%%20 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n'
seed post-cl  '\x00\x11POST /v1/events HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\n{"a":"b"}\r\n'
seed chunked  '\x02\x25POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1;q="a b"\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n'
seed pipeline '\x04\x30GET / HTTP/1.1\r\nHost: h\r\n\r\nHEAD /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n'
seed http10   '\x01\x03\r\nGET http://h:8080/p?q HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n'
seed expect   '\x08\x40PUT /v1/leads/1 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc'

cat > "$out/http.dict" <<'DICT'
"GET"
"HEAD"
"POST"
"OPTIONS"
"CONNECT"
" HTTP/1.1\x0d\x0a"
" HTTP/1.0\x0d\x0a"
"HTTP/2.0"
"\x0d\x0a"
"\x0d\x0a\x0d\x0a"
"Host: "
"Content-Length: "
"Transfer-Encoding: "
"chunked"
"gzip"
"Connection: "
"keep-alive"
"close"
"Expect: "
"100-continue"
"http://"
";ext=\"v\""
"0\x0d\x0a\x0d\x0a"
DICT

echo "fuzz-http: running for ${seconds}s"
exec "$out/http-parser-fuzz" "$out/corpus" "$out/seeds" -dict="$out/http.dict" \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/" "$@"
