#!/usr/bin/env bash
# Runs leadrouter locally with no setup: installs the Debian packages it needs (once), then
# `swift run leadrouter dev`, which starts a private PostgreSQL in ./.leadrouter/pg, migrates,
# prints an API key with every scope and serves on 127.0.0.1:8080. Ctrl-C stops both.
# Extra arguments go to `leadrouter dev` (e.g. scripts/dev.sh --port 9090). See docs/dev.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh

ensure_packages libpq-dev libssl-dev postgresql zlib1g-dev libdeflate-dev pkg-config
exec swift run leadrouter dev "$@"
