#!/usr/bin/env bash
# What the Citus-ready statements (issue 19, migrations 0075-0079 and 0082) cost on plain PostgreSQL:
# starts a throwaway PostgreSQL, migrates one database to BASE (default a9645fd, before them)
# and one to this tree, loads the same data into both and prints, per statement, the median
# execution time and WAL bytes of the old statement and its replacement
# (scripts/bench/citus-plain-costs.py; RUNS=15 executions each, rolled back).
# Usage: LEADROUTER_SCRATCH=.build-x scripts/bench-citus-plain-costs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
BASE=${BASE:-a9645fd}
scratch=${LEADROUTER_SCRATCH:-.build}
[ -x "$scratch/debug/leadrouter" ] || swift build --scratch-path "$scratch" --product leadrouter >/dev/null
pg_cluster_start
work=$(mktemp -d)
trap 'pg_cluster_stop; rm -rf "$work"' EXIT
git archive "$BASE" migrations | tar -x -C "$work"
root=${DATABASE_URL%/postgres}
psql -q "$DATABASE_URL" -c 'CREATE DATABASE base' -c 'CREATE DATABASE new'
DATABASE_URL="$root/base" "$scratch/debug/leadrouter" migrate --migrations-dir "$work/migrations" >/dev/null
DATABASE_URL="$root/new" "$scratch/debug/leadrouter" migrate --migrations-dir migrations >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 scripts/bench/citus-plain-costs.py "$root/base" "$root/new"
