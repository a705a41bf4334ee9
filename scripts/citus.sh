#!/usr/bin/env bash
# A Citus 13.2.2 cluster on loopback: a coordinator and two workers (docs/scale-out.md#citus-the-cluster).
#   scripts/citus.sh install            build Citus from ../shared/vendor/citus and install it, once (cached)
#   scripts/citus.sh run CMD [ARGS...]  install, start the cluster, run CMD with DATABASE_URL (the
#                                       coordinator) and CITUS_WORKER_URLS exported, stop the cluster
#   scripts/citus.sh shell              the same with an interactive shell (psql "$DATABASE_URL")
# Example: scripts/citus.sh run sh -c 'leadrouter migrate && psql "$DATABASE_URL" -c "SELECT * FROM citus_tables"'
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh
source scripts/lib/citus-cluster.sh

case "${1:-}" in
    install) citus_install ;;
    run|shell)
        what=$1; shift
        citus_install
        trap citus_cluster_stop EXIT
        citus_cluster_start
        echo "citus.sh: coordinator $DATABASE_URL, workers $CITUS_WORKER_URLS" >&2
        if [ "$what" = shell ]; then "${SHELL:-bash}"; else "$@"; fi ;;
    *) sed -n '2,7p' "$0" >&2; exit 2 ;;
esac
