#!/usr/bin/env bash
# Refreshes the dashboard screenshots in docs/images/ (README.md and docs/dashboard.md show them):
# runs DashboardBrowserTests through scripts/test.sh (its throwaway PostgreSQL, headless Chromium),
# which seeds thirty days of history through the HTTP API under a manual clock (new researchers
# every day, some moving on to a product segment, unmapped event names for drift alerts, a lead
# whose trait holds <script>), then takes every page at 1280x800 and 390x844.
#   bash scripts/dashboard-screenshots.sh            # into docs/images
#   bash scripts/dashboard-screenshots.sh /tmp/shots # elsewhere
# LEADROUTER_SCRATCH picks the build folder, as for scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
DASHBOARD_SCREENSHOTS="${1:-docs/images}" bash scripts/test.sh --filter DashboardBrowserTests
ls -l "${1:-docs/images}"/dashboard-*.png
