#!/usr/bin/env bash
# benches/run.sh - rbuild against buildah and BuildKit on the same scenarios, one run.
#
#   benches/run.sh                      full run (all scenarios, 5 measured runs each)
#   BENCH_RUNS=2 BENCH_SCENARIOS="1 2" benches/run.sh     a quick run
#
# Each scenario variant does one unmeasured warm-up build per builder, then BENCH_RUNS
# rounds alternating rbuild, buildah, BuildKit (A B C A B C ...). Every build is timed by
# benches/measure.py (wall, CPU user+sys incl. the daemons for BuildKit, peak RSS).
# Results: $BENCH_DIR/results.jsonl, then benches/report.py writes benches/RESULTS.md.
#
# Needs the peer lab (/work/shared/lab/all.sh): the registry on 127.0.0.1:5000 with busybox
# and debian:bookworm-slim, buildah, and dockerd started by peer-docker.sh.
#
# Env:
#   BENCH_RUNS        measured runs per builder and variant (default 5)
#   BENCH_SCENARIOS   scenario numbers to run, from 1..6 (default "1 2 3 4 5 6")
#   BENCH_BUILDERS    subset of "rbuild buildah buildkit" (default all three)
#   BENCH_FILES       files in the large context (default 50000)
#   BENCH_MB          size of the large context in MB (default 500)
#   BENCH_DIR         scratch directory (default /tmp/rbuild-bench; the large context,
#                     the stores and the logs go here, never into the repository)
#   RBUILD            the rbuild binary (default: cargo build --release, then
#                     $CARGO_TARGET_DIR/release/rbuild)
#   BENCH_KEEP=1      keep $BENCH_DIR afterwards (default: remove stores, keep results)
#   BENCH_WARMUP=0    no warm-up build (the large scenarios: each build takes ~40 s here)
#   BENCH_APPEND=1    append to $BENCH_DIR/results.jsonl instead of starting it afresh
#                     (run heavy scenarios with other settings, then report on the union)
#   BENCH_REPORT      where the report goes (default benches/RESULTS.md; "-" to skip)
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
LAB="${LAB:-/work/shared/lab}"

RUNS="${BENCH_RUNS:-5}"
SCENARIOS="${BENCH_SCENARIOS:-1 2 3 4 5 6}"
BUILDERS="${BENCH_BUILDERS:-rbuild buildah buildkit}"
FILES="${BENCH_FILES:-50000}"
MB="${BENCH_MB:-500}"
BD="${BENCH_DIR:-/tmp/rbuild-bench}"
REPORT="${BENCH_REPORT:-$HERE/RESULTS.md}"
RES="$BD/results.jsonl"
export MEASURE_LOG="$BD/builds.log"

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
has() { case " $BUILDERS " in *" $1 "*) return 0 ;; esac; return 1; }
want() { case " $SCENARIOS " in *" $1 "*) return 0 ;; esac; return 1; }

mkdir -p "$BD"
: "${BENCH_APPEND:=0}" "${BENCH_WARMUP:=1}"
[ "$BENCH_APPEND" = 1 ] || { : > "$RES"; : > "$MEASURE_LOG"; }
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---------------------------------------------------------------- builders
if [ -z "${RBUILD:-}" ]; then
    say "cargo build --release -p rbuild"
    (cd "$REPO" && cargo build --release -q -p rbuild) || die "cargo build failed"
    RBUILD="${CARGO_TARGET_DIR:-$REPO/target}/release/rbuild"
fi
[ -x "$RBUILD" ] || die "no rbuild binary at $RBUILD"
RB_STORE="$BD/rbuild-store"
export RBUILD_REGISTRY_MIRRORS=http://127.0.0.1:5000 RBUILD_INSECURE_REGISTRIES=127.0.0.1:5000 \
       RBUILD_NO_HUB_FALLBACK=1
rb() { "$RBUILD" --root "$RB_STORE" "$@"; }

BH_ROOT="$BD/buildah"
if has buildah; then
    # shellcheck source=/dev/null
    . "$LAB/lib.sh"
    lab_containers_env   # registries.conf: docker.io -> the lab registry; containers.conf
fi
bh() { buildah --root "$BH_ROOT/root" --runroot "$BH_ROOT/run" --storage-driver overlay "$@"; }

export DOCKER_HOST="unix:///tmp/lab-docker/docker.sock"
DK=/usr/bin/docker
DK_NET=()
DAEMONS=""
if has buildkit; then
    [ -f /tmp/lab-docker/dockerd.pid ] && kill -0 "$(cat /tmp/lab-docker/dockerd.pid)" 2>/dev/null ||
        "$LAB/peer-docker.sh" start || die "dockerd would not start"
    dpid=$(cat /tmp/lab-docker/dockerd.pid)
    cpid=$(pgrep -P "$dpid" -x containerd | head -1)
    DAEMONS="$dpid${cpid:+,$cpid}"
    ip link show docker0 >/dev/null 2>&1 || DK_NET=(--network=host)
fi

# build BUILDER TAG CONTEXT [extra flags...]: the build command of each builder
build_cmd() {
    local b=$1 tag=$2 ctx=$3; shift 3
    case $b in
        rbuild)   echo "$RBUILD" --root "$RB_STORE" build --progress=plain -t "$tag" "$@" "$ctx" ;;
        buildah)  echo buildah --root "$BH_ROOT/root" --runroot "$BH_ROOT/run" --storage-driver overlay \
                       build --layers --isolation chroot -t "$tag" "$@" "$ctx" ;;
        buildkit) echo env DOCKER_BUILDKIT=1 "$DK" build --progress=plain "${DK_NET[@]}" -t "$tag" "$@" "$ctx" ;;
    esac
}

# measure SCENARIO BUILDER RUN CMD...
measure() {
    local s=$1 b=$2 r=$3; shift 3
    local d=()
    [ "$b" = buildkit ] && d=(--daemon-pids "$DAEMONS")
    echo "### $s $b run $r: $*" >> "$MEASURE_LOG"
    # Untimed: nothing dirty from the previous build (one builder's 600 MB of writeback
    # would otherwise be charged to the next one).
    sync
    python3 "$HERE/measure.py" "$RES" "$s" "$b" "$r" "${d[@]}" -- "$@" ||
        say "FAILED: $s $b run $r (see $MEASURE_LOG)"
}

# variant NAME PREP_FN CMD_FN : warm-up, then RUNS rounds alternating the builders.
# PREP_FN BUILDER RUN runs untimed before each build; CMD_FN BUILDER prints the command.
variant() {
    local name=$1 prep=$2 cmdf=$3 r b
    say "scenario $name"
    for r in $(seq $((1 - BENCH_WARMUP)) "$RUNS"); do   # run 0 is the warm-up (not reported)
        for b in $BUILDERS; do
            $prep "$b" "$r"
            # shellcheck disable=SC2046
            measure "$name" "$b" "$r" $($cmdf "$b")
        done
    done
}
noprep() { :; }

# ---------------------------------------------------------------- contexts
CTX="$BD/ctx"
mkdir -p "$CTX"/{hello,multi,debian}
cat > "$CTX/hello/Dockerfile" <<'EOF'
FROM busybox
RUN echo hi > /hi
CMD ["echo", "Hello World"]
EOF
cat > "$CTX/multi/Dockerfile" <<'EOF'
FROM busybox AS one
RUN sleep 1 && echo one > /one
FROM busybox AS two
RUN sleep 1 && echo two > /two
FROM busybox AS three
RUN sleep 1 && echo three > /three
FROM busybox
COPY --from=one /one /one
COPY --from=two /two /two
COPY --from=three /three /three
CMD ["cat", "/one", "/two", "/three"]
EOF
cat > "$CTX/debian/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN echo snapshot > /one-file
EOF
LARGE="$CTX/large"
if want 4 || want 6; then
    if [ ! -f "$LARGE/.complete-$FILES-$MB" ]; then
        say "generating the large context: $FILES files, $MB MB in $LARGE"
        rm -rf "$LARGE"
        python3 "$HERE/gen_context.py" "$LARGE" "$FILES" "$MB" || die "context generation failed"
        printf 'FROM busybox\nCOPY . /app\n' > "$LARGE/Dockerfile"
        printf 'Dockerfile\n.complete-*\n' > "$LARGE/.dockerignore"
        touch "$LARGE/.complete-$FILES-$MB"
    fi
fi

# ---------------------------------------------------------------- base images
say "base images (pulled through the lab registry before any timing)"
curl -fsS http://127.0.0.1:5000/v2/ >/dev/null || die "lab registry not up on 127.0.0.1:5000"
if has rbuild; then
    rb pull busybox:latest >/dev/null && rb pull debian:bookworm-slim >/dev/null || die "rbuild pull failed"
fi
if has buildah; then
    bh pull -q busybox:latest >/dev/null && bh pull -q debian:bookworm-slim >/dev/null || die "buildah pull failed"
fi
if has buildkit; then
    $DK pull -q busybox:latest >/dev/null && $DK pull -q debian:bookworm-slim >/dev/null || die "docker pull failed"
fi

# ---------------------------------------------------------------- scenarios
c_hello_cold()  { build_cmd "$1" bench-hello "$CTX/hello" --no-cache; }
c_hello()       { build_cmd "$1" bench-hello "$CTX/hello"; }
c_multi_cold()  { build_cmd "$1" bench-multi "$CTX/multi" --no-cache; }
c_large_cold()  { build_cmd "$1" bench-large "$LARGE" --no-cache; }
c_large()       { build_cmd "$1" bench-large "$LARGE"; }
c_debian_cold() { build_cmd "$1" bench-debian "$CTX/debian" --no-cache; }
# one file changed since this builder's previous build: always the same file, new bytes
p_touch_one()   { printf 'changed %s %s %s\n' "$1" "$2" "$(date +%s%N)" > "$LARGE/d0000/changed.txt"; }

want 1 && variant 1-hello-cold noprep c_hello_cold
want 2 && variant 2-hello-cached noprep c_hello
want 3 && variant 3-multistage-cold noprep c_multi_cold
if want 4; then
    variant 4a-large-cold noprep c_large_cold
    variant 4b-large-cached noprep c_large
    variant 4c-large-1-changed p_touch_one c_large
fi
want 5 && variant 5-debian-run-cold noprep c_debian_cold

# scenario 6: export the large image (one ~500 MB layer) with gzip and zstd.
# rbuild: a fully cached build plus the OCI output, which compresses the stored plain layer
# (its compressed copies are removed before each run, or the second run would reuse one).
# buildah: push of the built image to an OCI layout, which compresses it.
# BuildKit in dockerd 20.10 has no OCI/image exporter with compression: not measured.
EXP="$BD/export"
c_export() { # BUILDER FORMAT
    case $1 in
        rbuild)  build_cmd rbuild bench-large "$LARGE" \
                   -o "type=oci,dest=$EXP/rbuild-$2.tar,compression=$2" ;;
        buildah) echo buildah --root "$BH_ROOT/root" --runroot "$BH_ROOT/run" --storage-driver overlay \
                   push --quiet --compression-format "$2" bench-large "oci:$EXP/buildah-$2:latest" ;;
    esac
}
p_export() { rm -rf "$EXP" "$RB_STORE/variants"; mkdir -p "$EXP"; }
c_export_gzip() { c_export "$1" gzip; }
c_export_zstd() { c_export "$1" zstd; }
if want 6; then
    saved=$BUILDERS
    BUILDERS=$(for b in $saved; do [ "$b" = buildkit ] || printf '%s ' "$b"; done)
    want 4 || variant 6-prepare-large noprep c_large   # the image must exist
    variant 6a-export-gzip p_export c_export_gzip
    variant 6b-export-zstd p_export c_export_zstd
    BUILDERS=$saved
    rm -rf "$EXP"
fi

# ---------------------------------------------------------------- versions and report
{
    echo "start=$START"
    echo "end=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "runs=$RUNS"
    echo "scenarios=$SCENARIOS"
    echo "builders=$BUILDERS"
    echo "files=$FILES"
    echo "mb=$MB"
    echo "rbuild=$("$RBUILD" --version 2>&1) (git $(git -C "$REPO" rev-parse --short HEAD))"
    echo "buildah=$(buildah --version 2>&1)"
    echo "docker=$($DK version --format 'client {{.Client.Version}}, dockerd {{.Server.Version}}' 2>&1)"
    echo "nproc=$(nproc)"
    echo "mem=$(free -h | awk '/^Mem:/{print $2}')"
    echo "kernel=$(uname -r)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "fs=$(df -T "$BD" | awk 'NR==2{print $2}')"
    dev=$(basename "$(df --output=source "$BD" | tail -1)")
    if ls -d /proc/fs/jbd2/"$dev"-* >/dev/null 2>&1; then echo "fs_journal=yes"; else echo "fs_journal=no"; fi
    echo "cmd_rbuild=$(build_cmd rbuild TAG CONTEXT)"
    echo "cmd_buildah=$(build_cmd buildah TAG CONTEXT)"
    echo "cmd_buildkit=$(build_cmd buildkit TAG CONTEXT)"
    echo "cmd_export_rbuild=$(c_export rbuild FORMAT)"
    echo "cmd_export_buildah=$(c_export buildah FORMAT)"
} > "$BD/meta.txt"
say "load at start of report: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$REPORT" != "-" ]; then
    python3 "$HERE/report.py" "$RES" "$BD/meta.txt" "$REPORT" && say "wrote $REPORT"
fi

if [ "${BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$RB_STORE"
    has buildah && { bh rmi -a -f >/dev/null 2>&1; umount "$BH_ROOT/root/overlay" 2>/dev/null; rm -rf "$BH_ROOT"; }
    has buildkit && { $DK rmi -f bench-hello bench-multi bench-large bench-debian >/dev/null 2>&1
                      $DK builder prune -af >/dev/null 2>&1; }
fi
say "done; raw results in $RES"
