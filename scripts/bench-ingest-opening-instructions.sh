#!/usr/bin/env bash
# What the ingest transaction's opening statements cost PostgreSQL, counted by callgrind in a
# single-user backend (deterministic at any load; docs/benchmarks/ingest.md, 2026-12-08
# "pg-stmts"): main 34b9942's three (the ingest settings; the advisory locks on 18 key hashes;
# the index-plan settings again before the staged writes) against one statement (the settings
# with the locks, `Store.ingestPlansAndLocks`), each prepared once and executed in N1 and N2
# transactions; the difference of the two counts over N2 - N1 is one transaction's.
# It writes the statements itself (as they were and as they are); they do not follow the code.
#
#   scripts/bench-ingest-opening-instructions.sh        # N1=20 N2=220
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-20}
N2=${N2:-220}
source scripts/lib/pg-cluster.sh
ensure_packages postgresql valgrind
pg_cluster_start >/dev/null
(cd / && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null)
W=$(mktemp -d "${TMPDIR:-/tmp}/opening-instructions.XXXXXX"); chmod 1777 "$W"; trap 'rm -rf "$W"; pg_cluster_stop' EXIT
S="set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), set_config('jit', 'off', true)"
gen() { # arm n
  if [ $1 = main ]; then
    printf "PREPARE a AS SELECT %s, set_config('citus.enable_deadlock_prevention', 'off', true);\n\n" "$S"
    printf "PREPARE b(int8[]) AS SELECT pg_advisory_xact_lock(k) FROM unnest(\$1) AS t(k) ORDER BY k;\n\n"
    printf "PREPARE c AS SELECT %s;\n\n" "$S"
  else
    printf "PREPARE a(int8[]) AS SELECT %s, set_config('citus.enable_deadlock_prevention', 'off', true), (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(k) FROM unnest(\$1) AS t(k) ORDER BY k) AS l) AS locked;\n\n" "$S"
  fi
  for i in $(seq 1 $2); do
    h="{$((i*7+1)),$((i*7+2)),$((i*7+3)),$((i*7+4)),$((i*7+5)),$((i*7+6)),$((i*7+7)),$((i*7+8)),$((i*7+9)),$((i*7+10)),$((i*7+11)),$((i*7+12)),$((i*7+13)),$((i*7+14)),$((i*7+15)),$((i*7+16)),$((i*7+17)),$((i*7+18))}"
    printf "BEGIN;\n\n"
    if [ $1 = main ]; then printf "EXECUTE a;\n\nEXECUTE b('%s');\n\nEXECUTE c;\n\n" "$h"; else printf "EXECUTE a('%s');\n\n" "$h"; fi
    printf "COMMIT;\n\n"
  done
}
for arm in main new; do
  for n in $N1 $N2; do
    gen $arm $n > $W/$arm.$n.sql
    (cd / && as_pg valgrind --tool=callgrind --callgrind-out-file=$W/cg.$arm.$n "$PG_BIN/postgres" --single -j -D "$PG_DIR/data" postgres < $W/$arm.$n.sql > $W/out.$arm.$n 2> $W/log.$arm.$n)
    if grep -m2 ERROR "$W/out.$arm.$n" >&2; then exit 1; fi
    eval "c_${arm}_$n=$(awk '/^summary:/ {print $2}' $W/cg.$arm.$n)"
  done
done
eval "main=\$(( (c_main_$N2 - c_main_$N1) / (N2 - N1) ))"; eval "new=\$(( (c_new_$N2 - c_new_$N1) / (N2 - N1) ))"
echo "instructions per transaction: main (three statements) $main, one statement $new, saved $((main - new))"
