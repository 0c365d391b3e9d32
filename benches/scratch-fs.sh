#!/usr/bin/env bash
# benches/scratch-fs.sh - a journaled ext4 scratch file system for benches/run.sh.
#
#   benches/scratch-fs.sh up [SIZE]   make SIZE (default 40G, sparse) ext4 in a file, mount it
#                                     on /mnt/rbuild-bench, and put the lab dockerd's data root
#                                     on it too (dockerd is restarted)
#   benches/scratch-fs.sh down        restart dockerd on its own data root, unmount, delete
#
# Then: BENCH_DIR=/mnt/rbuild-bench/run benches/run.sh
#
# Why: this machine's root file system is ext4 *without a journal*. There, every inode
# allocation first skips the inodes freed in the last 1-6 minutes (ext4's
# `recently_deleted` check, which only runs without a journal), so creating 50,000 files
# soon after anything deleted as many in the same block groups costs a quadratic scan:
# a cold 50,000-file COPY measured 3.6 s on a fresh journaled ext4 and 11-13 s on the
# root fs after a neighbour's deletion, with 70 % of the time in `find_inode_bit` and
# `recently_deleted` (perf). Which builder pays depends on where its store happens to
# sit, which is noise, not a property of the builders. A journaled ext4 is what Debian
# and every other distribution make by default.
set -euo pipefail
IMG=/tmp/rbuild-bench-fs.img
MNT=/mnt/rbuild-bench
LAB="${LAB:-/work/shared/lab}"
DOCKER_DATA=/tmp/lab-docker/data

say() { printf '[scratch-fs] %s\n' "$*" >&2; }

up() {
    local size=${1:-40G}
    [ "$(id -u)" = 0 ] || { say "needs root (mount)"; exit 1; }
    if mountpoint -q "$MNT"; then say "$MNT is mounted already"; return 0; fi
    truncate -s "$size" "$IMG"
    mkfs.ext4 -q -F "$IMG"          # the default features, journal included
    mkdir -p "$MNT"
    mount -o loop "$IMG" "$MNT"
    if [ -x "$LAB/peer-docker.sh" ]; then
        "$LAB/peer-docker.sh" stop || true
        mkdir -p "$MNT/docker-data" "$DOCKER_DATA"
        mount --bind "$MNT/docker-data" "$DOCKER_DATA"
        "$LAB/peer-docker.sh" start
    fi
    say "journaled ext4 on $MNT ($size); dockerd data root on it"
}

down() {
    if [ -x "$LAB/peer-docker.sh" ] && mountpoint -q "$DOCKER_DATA"; then
        "$LAB/peer-docker.sh" stop || true
        # dockerd leaves overlay mounts under its data root
        { grep -o " $DOCKER_DATA/[^ ]*" /proc/mounts || true; } | sort -r |
            while read -r m; do umount "$m" || true; done
        umount "$DOCKER_DATA"
        "$LAB/peer-docker.sh" start
    fi
    if mountpoint -q "$MNT"; then
        { grep -o " $MNT/[^ ]*" /proc/mounts || true; } | sort -r |
            while read -r m; do umount "$m" || true; done
        umount "$MNT"
    fi
    rm -f "$IMG"
    say "removed"
}

case "${1:-}" in
    up) up "${2:-}" ;;
    down) down ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
esac
