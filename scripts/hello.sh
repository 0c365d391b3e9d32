#!/usr/bin/env bash
# README's first command. Until the builder lands this builds rbuild and checks the
# example Dockerfile; it grows into: make a busybox base image, build examples/hello, run it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
./target/release/rbuild check examples/hello
