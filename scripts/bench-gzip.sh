#!/usr/bin/env bash
# The gzip of a large answer, libdeflate (what GzipDeflater uses) against zlib, in one run:
#   scripts/bench-gzip.sh [FILE] [ROUNDS]          (defaults: a year of the stage funnel by hour, 7 rounds)
# Without FILE it writes a stand-in for the largest answer leadrouter compresses — a year of
# `GET /v1/stages/metrics?interval=hour` over five stages, ~5 MB of JSON shaped as the real one
# (save a real answer with curl and pass it to measure that instead). Prints each library and
# level's compressed bytes and median CPU ms; every output is inflated and compared.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
ensure_packages zlib1g-dev libdeflate-dev
out=.build-bench
mkdir -p "$out"
file="${1:-}"
rounds="${2:-7}"
if [ -z "$file" ]; then
    file="$out/stage-funnel-year-by-hour.json"
    python3 - "$file" <<'PY'
import datetime, random, sys
random.seed(1)
start = datetime.datetime(2025, 12, 1)
stages = []
for s in range(5):
    steps = []
    for h in range(8761):
        t = (start + datetime.timedelta(hours=h)).strftime('%Y-%m-%dT%H:00:00.000Z')
        e = random.randint(0, 40); n = random.randint(0, e); later = n + random.randint(0, 3)
        back = random.randint(0, 3); left = random.randint(0, 3)
        steps.append('{"start":"%s","entries":%d,"moved_next":%d,"moved_later":%d,"moved_back":%d,"left":%d,"exits":%d}'
                     % (t, e, n, later, back, left, later + back + left))
    stages.append('{"stage":"s%d","next":"s%d","totals":{"entries":1},"steps":[%s]}' % (s, s + 1, ",".join(steps)))
open(sys.argv[1], "w").write('{"from":"2025-12-01T00:00:00.000Z","to":"2026-12-01T00:00:00.000Z","interval":"hour","stages":[%s]}'
                             % ",".join(stages))
PY
fi
cc -O2 -Wall -o "$out/gzip-levels" scripts/bench/gzip_levels.c -lz -ldeflate
echo "$(wc -c < "$file") bytes from $file, $rounds rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$out/gzip-levels" "$file" "$rounds"
