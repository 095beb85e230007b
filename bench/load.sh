#!/usr/bin/env bash
# Load test of the serve endpoint (not part of `cargo test`).
#
# Builds bench/load in release mode, starts `load-server` on a free loopback port, runs
# `load-gen` against it (50,000 checked call requests over 64 keep-alive connections after a
# warm-up), prints a summary, stops the server gracefully, and exits non-zero on any transport
# error, wrong answer, server memory change over 10%, lost panic, or unclean server stop.
#
# Settings (environment): REQUESTS (50000), CONNECTIONS (64), WARMUP (10000),
# TIME_LIMIT (300 s, for the whole generator run).
set -euo pipefail

REQUESTS=${REQUESTS:-50000}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-10000}
TIME_LIMIT=${TIME_LIMIT:-300}

cd "$(dirname "$0")/.."
cargo build --release --quiet -p inngest-load --bins
bin="${CARGO_TARGET_DIR:-target}/release"

work=$(mktemp -d)
server_pid=""

# Stops the server (SIGTERM, then SIGKILL after 10 s); returns its exit status.
stop_server() {
    local pid=$server_pid status=0
    server_pid=""
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "load.sh: the server did not stop within 10 s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" || status=$?
    return "$status"
}

cleanup() {
    stop_server || true
    rm -rf "$work"
}
trap cleanup EXIT

# Backtraces would add a `stack` to the serialized errors the generator checks exactly.
env -u RUST_BACKTRACE -u RUST_LIB_BACKTRACE "$bin/load-server" 0 \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!

addr=""
for _ in $(seq 100); do
    addr=$(head -n 1 "$work/server.out" 2>/dev/null || true)
    [[ $addr =~ ^127\.0\.0\.1:[0-9]+$ ]] && break
    addr=""
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$addr" ]; then
    echo "load.sh: the server did not start:" >&2
    cat "$work/server.err" >&2
    exit 1
fi
echo "load-server pid $server_pid on $addr"

failed=0
timeout "$((TIME_LIMIT + 30))" "$bin/load-gen" \
    --addr "$addr" \
    --requests "$REQUESTS" \
    --connections "$CONNECTIONS" \
    --warmup "$WARMUP" \
    --server-pid "$server_pid" \
    --time-limit "$TIME_LIMIT" | tee "$work/gen.out" || failed=1

server_status=0
stop_server || server_status=$?
stopped=$(grep '^load-server: stopped' "$work/server.err" || true)
echo "${stopped:-load-server: no shutdown line}"
if [ "$server_status" -ne 0 ] || [ -z "$stopped" ]; then
    echo "load.sh: the server did not stop cleanly (status $server_status):" >&2
    cat "$work/server.err" >&2
    failed=1
fi

sent=$(sed -n 's/^panicking calls *\([0-9]*\)$/\1/p' "$work/gen.out")
caught=$(sed -n 's/^load-server: stopped; \([0-9]*\) panics caught$/\1/p' "$work/server.err")
if [ -z "$sent" ] || [ "$sent" != "$caught" ]; then
    echo "load.sh: the generator sent ${sent:-?} panicking calls, the server caught ${caught:-?} panics" >&2
    failed=1
fi

if [ "$failed" -ne 0 ]; then
    echo "load.sh: FAIL" >&2
    exit 1
fi
echo "load.sh: PASS"
