#!/usr/bin/env bash
# Export benchmark: the memory of `leadrouter serve` while it answers GET /v1/leads/{id}/export
# for one lead with EVENTS events (default 100 000, then 10×), as JSON and as NDJSON. Before each
# export the server's peak RSS is reset (/proc/PID/clear_refs), so VmHWM afterwards is the peak
# of that export; printed next to the body size, which is what an in-memory answer would have to
# hold at least once. Bounded memory means the peak stays flat while the body grows 10×.
#
#   scripts/bench-export.sh                 # EVENTS=100000 (and 1 000 000)
#   EVENTS=20000 BUILD=debug scripts/bench-export.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/bench.sh

EVENTS=${EVENTS:-100000}
BUILD=${BUILD:-release}

ensure_packages curl libssl-dev zlib1g-dev libdeflate-dev libpq-dev pkg-config postgresql

bench_leadrouter "$BUILD"
bench_cluster_start
bench_workdir bench-export

PORT=$(free_port)
bench_serve "$BIN" "$PORT" "$WORK/leadrouter.log" --migrate --rules config/segments.yaml --log-level warning
KEY=$("$BIN" keys create --name bench --scopes admin | tail -n 1)
curl -sf -u "$KEY:" "http://127.0.0.1:$PORT/v1/identify" -H 'Content-Type: application/json' \
    -d '{"userId": "u-bench", "traits": {"email": "bench@example.org"}}' >/dev/null
LEAD=$(curl -sf -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/v1/leads?user_id=u-bench" |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$BENCH_SERVE_PID/status"; }

printf "%-10s %-7s %12s %10s %14s %14s %12s\n" events format body_MiB seconds rss_before_MiB peak_rss_MiB peak/body
have=0
for total in "$EVENTS" $((EVENTS * 10)); do
    psql -q "$DATABASE_URL" <<SQL
INSERT INTO events (lead_id, occurred_at, received_at, kind, type, name, message_id, message)
SELECT '$LEAD', now() - make_interval(secs => g), now(), 'track', 'product_viewed', 'Product Viewed', 'bulk-' || g,
       jsonb_build_object('type', 'track', 'event', 'Product Viewed', 'messageId', 'bulk-' || g,
                          'context', jsonb_build_object('userAgent', 'Mozilla/5.0 (X11; Linux x86_64)', 'page', jsonb_build_object('path', '/p/' || g)),
                          'properties', jsonb_build_object('product_id', 'p' || g, 'price', g % 100))
FROM generate_series($have + 1, $total) AS g;
ANALYZE events;
SQL
    have=$total
    for format in json ndjson; do
        before=$(kib VmRSS)
        echo 5 >"/proc/$BENCH_SERVE_PID/clear_refs"   # VmHWM := VmRSS
        start=$(date +%s%N)
        curl -sf -H "Authorization: Bearer $KEY" -o "$WORK/export.$format" \
            "http://127.0.0.1:$PORT/v1/leads/$LEAD/export?format=$format"
        end=$(date +%s%N)
        peak=$(kib VmHWM)
        bytes=$(stat -c %s "$WORK/export.$format")
        python3 - "$WORK/export.$format" "$format" "$total" <<'PY'
import json, sys
path, fmt, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
if fmt == "json":
    n = len(json.load(open(path))["events"])
else:
    n = sum(1 for line in open(path) if json.loads(line)["section"] == "events")
assert n == total + 1, f"{n} events exported, expected {total + 1}"  # + the identify
PY
        awk -v e="$total" -v f="$format" -v b="$bytes" -v s="$(( (end - start) / 1000000 ))" -v r="$before" -v p="$peak" \
            'BEGIN { s = s / 1000; printf "%-10d %-7s %12.1f %10.2f %14.1f %14.1f %12.3f\n", e, f, b/1048576, s, r/1024, p/1024, (p*1024)/b }'
        rm -f "$WORK/export.$format"
    done
done
