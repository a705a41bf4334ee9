#!/usr/bin/env bash
# Date-time parsing micro-benchmark: Essentials' hand-written `InternetDateTime.parse` against
# Foundation's `ISO8601DateFormatter` (one per value, as ingest used to; and one shared), on the
# shapes SDKs send (JS milliseconds Z, Python microseconds +00:00, Go nanoseconds +01:00, whole
# seconds Z):
#   scripts/bench-dates.sh [ROUNDS] [PARSES]     (defaults 5 rounds, 200,000 parses per shape)
# Built with swiftc -O -wmo straight from the source file; prints the median ns per parse.
# Outputs go to .build-bench/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
parses="${2:-200000}"
out=.build-bench
mkdir -p "$out"

swiftc -O -wmo -module-name DateParseBench -parse-as-library Sources/Essentials/InternetDateTime.swift Sources/Essentials/CivilDate.swift \
    scripts/bench/DateParseBench.swift -o "$out/date-parse-bench"

: > "$out/dates.txt"
for ((r = 1; r <= rounds; r++)); do "$out/date-parse-bench" "$parses" >> "$out/dates.txt"; done

python3 - "$out/dates.txt" "$rounds" <<'PY'
import statistics, sys
med = {}
for parser, shape, ns in (line.split() for line in open(sys.argv[1]) if line.strip()):
    med.setdefault((parser, shape), []).append(float(ns))
print(f"median of {sys.argv[2]} rounds, ns per parse (lower is better)")
print(f"{'shape':22} {'InternetDateTime':>16} {'formatter/value':>16} {'shared formatter':>17} {'speed-up vs shared':>19}")
for shape in dict.fromkeys(s for _, s in med):
    a = statistics.median(med[("InternetDateTime", shape)])
    b = statistics.median(med[("formatter-per-value", shape)])
    c = statistics.median(med[("formatter-shared", shape)])
    print(f"{shape:22} {a:16.1f} {b:16.1f} {c:17.1f} {c / a:18.1f}x")
PY
