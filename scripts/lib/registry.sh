# shellcheck shell=bash
# Start/stop Debian's docker-registry on 127.0.0.1 at a free port with private storage.
# Exports RBUILD_TEST_REGISTRY=127.0.0.1:PORT for the tests.

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_test_registry() {
    REGISTRY_DIR=$(mktemp -d /tmp/rbuild-test-registry.XXXXXX)
    local port
    port=$(free_port)
    cat > "$REGISTRY_DIR/config.yml" <<CFG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
CFG
    docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 &
    REGISTRY_PID=$!
    for _ in $(seq 1 100); do
        if python3 - "$port" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1)
PY
        sleep 0.1
    done
    export RBUILD_TEST_REGISTRY=127.0.0.1:$port
    echo "test registry: $RBUILD_TEST_REGISTRY (pid $REGISTRY_PID)" >&2
}

stop_test_registry() {
    if [[ -n "${REGISTRY_PID:-}" ]]; then
        kill "$REGISTRY_PID" 2>/dev/null || true
        wait "$REGISTRY_PID" 2>/dev/null || true
    fi
    [[ -n "${REGISTRY_DIR:-}" ]] && rm -rf "$REGISTRY_DIR"
}
