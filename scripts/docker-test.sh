#!/usr/bin/env bash
# Builds docker/Dockerfile and runs the image for real on this machine, where no image registry
# is reachable:
#   1. installs docker.io and debootstrap when missing, starts dockerd when it is not running;
#   2. builds local stand-ins for the Dockerfile's two base images (cached, by name):
#      - leadrouter-standin/debian:bookworm-slim: `debootstrap --variant=minbase bookworm`;
#      - leadrouter-standin/swift:bookworm: the same plus the build's Debian packages, the local
#        Swift toolchain (/opt/swift) and this machine's Swift package mirror (/opt/swift-packages,
#        only the packages Package.swift names) in place of GitHub;
#   3. builds the image with --build-arg overrides pointing at them (and the git revision);
#   4. runs it with --network host against a throwaway PostgreSQL (scripts/lib/pg-cluster.sh):
#      `migrate`, a key, `serve`, waits for the HEALTHCHECK to say healthy, then the README quick
#      start against it (identify, event with its decision, lead, segments, claim);
#   5. checks docker/compose.yaml with `docker compose config` (or Debian's docker-compose).
# Prints the time of each step. Stand-ins live under $LEADROUTER_DOCKER_CACHE
# (/var/cache/leadrouter-docker); delete the images to rebuild them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/pg-cluster.sh

cache=${LEADROUTER_DOCKER_CACHE:-/var/cache/leadrouter-docker}
runtime_image=leadrouter-standin/debian:bookworm-slim
builder_image=leadrouter-standin/swift:bookworm
image=leadrouter:docker-test
swift_root=${SWIFT_TOOLCHAIN:-/opt/swift}
started=$SECONDS
step() { echo "docker-test: [$((SECONDS - started))s] $*" >&2; }

step "packages"
ensure_packages docker.io debootstrap
if ! docker info >/dev/null 2>&1; then
    step "starting dockerd"
    (nohup dockerd >/var/log/leadrouter-dockerd.log 2>&1 &)
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { tail -20 /var/log/leadrouter-dockerd.log >&2; exit 1; }
fi

# Debian bookworm, minimal, for both stand-ins (kept in the cache folder).
rootfs=$cache/bookworm
if [ ! -x "$rootfs/bin/bash" ]; then
    step "debootstrap bookworm (once)"
    mkdir -p "$cache"
    rm -rf "$rootfs.tmp"
    debootstrap --variant=minbase bookworm "$rootfs.tmp" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
        || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
    mv "$rootfs.tmp" "$rootfs"
fi

if ! docker image inspect "$runtime_image" >/dev/null 2>&1; then
    step "stand-in $runtime_image (once)"
    tar -C "$rootfs" -c . | docker import \
        -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]' - "$runtime_image" >/dev/null
fi

if ! docker image inspect "$builder_image.base" >/dev/null 2>&1; then
    step "stand-in $builder_image.base (once; copies the toolchain)"
    work=$(mktemp -d "${TMPDIR:-/tmp}/leadrouter-builder.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/opt/swift-packages"
    # Only the packages Package.swift depends on, from this machine's mirror of GitHub.
    for url in $(grep -o 'https://github.com/[^"]*' Package.swift); do
        repo=${url#https://github.com/}
        mkdir -p "$work/opt/swift-packages/$(dirname "$repo")"
        cp -a "/opt/swift-packages/$repo.git" "$work/opt/swift-packages/$repo.git" 2>/dev/null \
            || cp -a "/opt/swift-packages/$repo" "$work/opt/swift-packages/$repo"
    done
    tar -c -C "$rootfs" . -C "$work" opt/swift-packages -C / "${swift_root#/}" \
        | docker import -c "ENV PATH=$swift_root/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
            - "$builder_image.base" >/dev/null
    rm -rf "$work"; trap - EXIT
fi

if ! docker image inspect "$builder_image" >/dev/null 2>&1; then
    # What the official swift image has besides the toolchain (the libraries its tools load,
    # the C toolchain and git), and git reading GitHub from the mirror copied in above.
    step "stand-in $builder_image (once)"
    docker build --network host -t "$builder_image" - >/dev/null <<DOCKERFILE
FROM $builder_image.base
RUN printf '[url "/opt/swift-packages/"]\\n\\tinsteadOf = https://github.com/\\n[safe]\\n\\tdirectory = *\\n' >/etc/gitconfig \\
    && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      binutils binutils-gold git libc6-dev libcurl4 libedit2 libgcc-12-dev libncurses6 libpython3.11 libsqlite3-0 \\
      libstdc++-12-dev libxml2 libz3-4 pkg-config tzdata zlib1g-dev libdeflate-dev ca-certificates \\
    && rm -rf /var/lib/apt/lists/*
DOCKERFILE
fi

step "docker build (release build inside the builder stand-in)"
revision=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
docker build --network host -f docker/Dockerfile \
    --build-arg SWIFT_IMAGE="$builder_image" --build-arg RUNTIME_IMAGE="$runtime_image" \
    --build-arg LEADROUTER_REVISION="$revision" -t "$image" . >"$cache/docker-build.log" 2>&1 \
    || { tail -40 "$cache/docker-build.log" >&2; exit 1; }
docker image ls "$image" --format 'docker-test: image {{.Repository}}:{{.Tag}} {{.Size}}' >&2

step "throwaway PostgreSQL, migrate and a key from the container"
pg_cluster_start
container=
cleanup() {
    [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1 || true
    pg_cluster_stop
}
trap cleanup EXIT
run() { docker run --rm --network host -e DATABASE_URL="$DATABASE_URL" "$image" "$@"; }
run --version
run migrate
key=$(run keys create --name docker-test --scopes ingest,read,write,queue | tail -n 1)

port=$(free_port)
step "serve on 127.0.0.1:$port, waiting for the health check"
container=$(docker run -d --network host -e DATABASE_URL="$DATABASE_URL" -e LEADROUTER_HOST=127.0.0.1 \
    -e LEADROUTER_PORT="$port" "$image")
for _ in $(seq 90); do
    health=$(docker inspect -f '{{.State.Health.Status}}' "$container")
    [ "$health" = healthy ] && break
    [ "$(docker inspect -f '{{.State.Running}}' "$container")" = true ] || break
    sleep 1
done
[ "$health" = healthy ] || { docker logs "$container" >&2; echo "docker-test: container is $health" >&2; exit 1; }

step "README quick start against the container"
base=http://127.0.0.1:$port
check() {  # check NAME EXPECTED-SUBSTRING CURL-ARGS...
    local name=$1 expected=$2; shift 2
    local body; body=$(curl -sS --fail-with-body "$@")
    case $body in *"$expected"*) echo "docker-test: ok  $name" >&2 ;;
        *) echo "docker-test: FAIL $name: $body" >&2; exit 1 ;; esac
}
check identify '"success":true' -u "$key:" "$base/v1/identify" -H 'Content-Type: application/json' \
    -d '{"userId": "u1", "traits": {"email": "lena@example.com", "country": "DE"}}'
check event '"decision.high-intent.pricing"' -H "Authorization: Bearer $key" "$base/v1/events" \
    -H 'Content-Type: application/json' -d '{"userId": "u1", "event": "Pricing Requested", "properties": {"plan": "team"}}'
check lead '"status":"qualified"' -H "Authorization: Bearer $key" "$base/v1/leads?email=lena@example.com"
check segments '"ruleset_version"' -H "Authorization: Bearer $key" "$base/v1/segments"
check claim '"claim_token"' -H "Authorization: Bearer $key" "$base/v1/queues/high-intent/claim" \
    -H 'Content-Type: application/json' -d '{"limit": 1, "lease_seconds": 300}'
check openapi 'openapi: 3.1.0' "$base/openapi.yaml"
check version "$revision" "$base/healthz"
docker exec "$container" id -u | grep -qx 10001 || { echo "docker-test: FAIL the server does not run as uid 10001" >&2; exit 1; }
echo "docker-test: ok  runs as a non-root user" >&2

step "compose file"
if docker compose version >/dev/null 2>&1; then
    docker compose -f docker/compose.yaml config --quiet && echo "docker-test: ok  docker compose config" >&2
else
    # Debian has no compose v2 plugin (docker-compose-plugin); its docker-compose (v1) reads the file.
    ensure_packages docker-compose
    docker-compose -f docker/compose.yaml config --quiet && echo "docker-test: ok  docker-compose config (v1; no compose v2 plugin in Debian)" >&2
fi
step "done"
