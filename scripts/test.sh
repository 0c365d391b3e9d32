#!/usr/bin/env bash
# The project's test command (README, second command; also what .ci/run calls).
# Installs what the tests need from Debian's packages, starts a throwaway registry on
# 127.0.0.1 at a free port, then runs the whole suite. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=(busybox-static git docker-registry skopeo umoci uidmap pigz zstd xz-utils bzip2 iproute2 apache2-utils)
missing=()
for p in "${need_pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        export DEBIAN_FRONTEND=noninteractive
        # policy-rc.d keeps the packages from starting their own daemons.
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
        fi
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "test.sh: missing packages (${missing[*]}); tests that need them will skip" >&2
    fi
fi

# A registry of our own on a free loopback port, with its own storage, stopped on exit.
source scripts/lib/registry.sh
if command -v docker-registry >/dev/null 2>&1; then
    start_test_registry
    trap stop_test_registry EXIT
fi

# Benches are type-checked by clippy --all-targets in .ci/run, not run here.
cargo test --workspace "$@"
