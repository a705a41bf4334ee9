#!/usr/bin/env bash
# Runs the generative ingest test (Tests/LeadRouterTests/GenerativeIngestTests.swift) for a long
# budget: scripts/generative-ingest.sh [SECONDS] (default 300). `swift test` alone runs it for
# 12 s. LEADROUTER_GEN_SEED=<seed> replays a failing run (the seed is printed at the start and in
# every failure); LEADROUTER_GEN_WORKERS sets the number of concurrent connections (default 2).
# Goes through scripts/test.sh (throwaway PostgreSQL), so LEADROUTER_SCRATCH works as there.
set -euo pipefail
cd "$(dirname "$0")/.."
export LEADROUTER_GEN_SECONDS="${1:-300}"
exec scripts/test.sh --filter GenerativeIngestTests
