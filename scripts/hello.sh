#!/usr/bin/env bash
# README's first command: on a fresh Debian machine (as root, no container registry
# reachable) install what is needed, build rbuild, make a busybox base image locally with
# rbuild itself, then build examples/hello and run it — it prints Hello World.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v busybox >/dev/null 2>&1 || ! busybox --list >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi

cargo build --release -q
rbuild="${CARGO_TARGET_DIR:-./target}/release/rbuild"

if ! "$rbuild" inspect busybox:latest >/dev/null 2>&1; then
    context=$(mktemp -d)
    trap 'rm -rf "$context"' EXIT
    ./scripts/busybox-context.sh "$context"
    "$rbuild" build -t busybox:latest "$context"
fi

"$rbuild" -t my_first_image examples/hello
"$rbuild" run --rm --name test my_first_image
