#!/usr/bin/env bash
# generate-expected.sh [CASE...] - build each fidelity case (testdata/fidelity/CASE/context) with
# BuildKit (dockerd 20.10 of the peer lab) and with buildah, and write the normalised
# results next to the Dockerfile:
#   expected.json          BuildKit's image: what rbuild's fidelity test compares against
#   expected-buildah.json  buildah's image, for reference (not compared by the test)
#   buildah-vs-buildkit.txt  the differences between the two (absent when there are none)
# and testdata/fidelity/base.json, the lab's busybox base image that rbuild's test mirrors.
# Needs the peer lab running (/work/shared/lab/all.sh, or registry.sh start,
# base-images.sh all, peer-docker.sh start). Cases that a builder cannot build get an
# error file (buildkit-error.txt / buildah-error.txt) instead of expected data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
lab=${LAB:-$repo/../shared/lab}
. "$lab/lib.sh"
cases_dir=$repo/testdata/fidelity
norm="python3 $here/normalise.py"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

export DOCKER_HOST=unix:///tmp/lab-docker/docker.sock
docker=/usr/bin/docker     # the 20.10 client: the 28.x one needs buildx for BuildKit
lab_containers_env
bah() { buildah --root "$LAB_DATA/buildah/fidelity/root" --runroot "$LAB_DATA/buildah/fidelity/run" \
          --storage-driver overlay "$@"; }

base_tar=$LAB_IMAGES/busybox.tar
[ -f "$base_tar" ] || die "no $base_tar: run $lab/base-images.sh all"
"$lab/peer-docker.sh" status >/dev/null || die "dockerd not running: $lab/peer-docker.sh start"
bk_version="BuildKit of dockerd $($docker version --format '{{.Server.Version}}')"
bh_version="buildah $(buildah --version | awk '{print $3}') (overlay, chroot isolation)"
log "peers: $bk_version; $bh_version"

$norm base "$base_tar" "lab base-images.sh busybox (rbuild-lab rootfs_to_oci)" > "$cases_dir/base.json"

if [ $# -gt 0 ]; then cases=("$@"); else
  cases=(); for d in "$cases_dir"/*/; do [ -f "$d/context/Dockerfile" ] && cases+=("$(basename "$d")"); done
fi
for name in "${cases[@]}"; do
  dir=$cases_dir/$name; ctx=$dir/context
  rm -f "$dir"/expected.json "$dir"/expected-buildah.json "$dir"/buildah-vs-buildkit.txt \
        "$dir"/buildkit-error.txt "$dir"/buildah-error.txt
  if DOCKER_BUILDKIT=1 $docker build -q --no-cache --pull -t "fidelity-$name" "$ctx" > "$work/bk.log" 2>&1 \
     && $docker save -o "$work/bk.tar" "fidelity-$name"; then
    $norm image "$work/bk.tar" "$base_tar" "$bk_version" > "$dir/expected.json"
    log "$name: BuildKit OK"
  else
    cp "$work/bk.log" "$dir/buildkit-error.txt"; log "$name: BuildKit FAILED (see buildkit-error.txt)"
  fi
  rm -f "$work/bh.tar"
  if bah build --no-cache --pull-always --isolation chroot -t "fidelity-$name" "$ctx" > "$work/bh.log" 2>&1 \
     && bah push --quiet "fidelity-$name" "docker-archive:$work/bh.tar:fidelity-$name:latest" > /dev/null 2>&1; then
    $norm image "$work/bh.tar" "$base_tar" "$bh_version" > "$dir/expected-buildah.json"
    log "$name: buildah OK"
  else
    cp "$work/bh.log" "$dir/buildah-error.txt"; log "$name: buildah FAILED (see buildah-error.txt)"
  fi
  if [ -f "$dir/expected.json" ] && [ -f "$dir/expected-buildah.json" ]; then
    (cd "$dir" && $norm diff expected.json expected-buildah.json) > "$dir/buildah-vs-buildkit.txt" \
      || log "$name: buildah differs from BuildKit"
    [ -s "$dir/buildah-vs-buildkit.txt" ] || rm -f "$dir/buildah-vs-buildkit.txt"
  fi
done
