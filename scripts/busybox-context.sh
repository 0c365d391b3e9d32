#!/usr/bin/env bash
# Writes a build context for a busybox base image into DIR: Debian's static busybox with
# its applet links, a minimal /etc/passwd and /etc/group, /tmp, and a FROM-scratch
# Dockerfile. `rbuild -t busybox DIR` then makes the image locally — no registry needed.
set -euo pipefail
dir=${1:?usage: busybox-context.sh DIR}
busybox=${BUSYBOX:-/bin/busybox}
if ! "$busybox" --list >/dev/null 2>&1; then
    echo "busybox-context.sh: $busybox is missing: apt-get install busybox-static" >&2
    exit 1
fi
rm -rf "$dir"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/root"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [[ $applet == busybox ]] || ln -s busybox "$dir/rootfs/bin/$applet"
done
cat > "$dir/rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dir/rootfs/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
nogroup:x:65534:
GROUP
chmod 1777 "$dir/rootfs/tmp"
chmod 700 "$dir/rootfs/root"
cat > "$dir/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
CMD ["sh"]
DOCKERFILE
