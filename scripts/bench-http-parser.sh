#!/usr/bin/env bash
# Parser micro-benchmark, side by side with a C reference in one run:
#   scripts/bench-http-parser.sh [ROUNDS] [REQUESTS]     (defaults 5 rounds, 1,000,000 requests)
# Builds leadrouter's HTTPRequestParser (swiftc -O -wmo, straight from its sources, like the
# fuzzer) and nodejs/http-parser (libhttp-parser-dev, callbacks that only count), alternates
# them ROUNDS times on the same pipelined GET and POST requests, and prints the median
# ns/request of each and the ratio. When valgrind is installed it also counts instructions per
# request (callgrind), which stays meaningful on a busy machine where wall time does not.
# Outputs go to .build-bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
ensure_packages libhttp-parser-dev
rounds="${1:-5}"
requests="${2:-1000000}"
out=.build-bench
mkdir -p "$out"

swiftc -O -wmo -module-name HTTPParserBench -parse-as-library Sources/HTTPServer/HTTPTypes.swift Sources/HTTPServer/Parser/*.swift \
    scripts/bench/HTTPParserBench.swift -o "$out/http-parser-bench"
cc -O2 -Wall -o "$out/http-parser-ref" scripts/bench/http_parser_ref.c -lhttp_parser

: > "$out/results.txt"
for ((r = 1; r <= rounds; r++)); do
    "$out/http-parser-bench" "$requests" | sed 's/^/leadrouter /' >> "$out/results.txt"
    "$out/http-parser-ref" "$requests" | sed 's/^/http-parser /' >> "$out/results.txt"
done

python3 - "$out/results.txt" "$rounds" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
med = {}
for impl, kind, ns, _ in rows:
    med.setdefault((impl, kind), []).append(float(ns))
print(f"median of {sys.argv[2]} rounds, ns per request (lower is better)")
print(f"{'request':8} {'leadrouter':>11} {'http-parser':>12} {'ratio':>7}")
for kind in ("get", "post"):
    a, b = statistics.median(med[("leadrouter", kind)]), statistics.median(med[("http-parser", kind)])
    print(f"{kind:8} {a:11.1f} {b:12.1f} {a / b:6.2f}x")
PY

if command -v valgrind >/dev/null 2>&1; then
    echo "instructions per request (callgrind; difference of 48,000 and 16,000 requests of each kind):"
    for bin in http-parser-bench http-parser-ref; do
        count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$out/$bin" "$1" 2>&1 | awk '/Collected/ {print $4}'; }
        small=$(count 16000); large=$(count 48000)
        echo "  $bin: $(( (large - small) / 64000 )) (GET and POST averaged)"
    done
fi
