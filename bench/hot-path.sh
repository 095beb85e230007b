#!/usr/bin/env bash
# The hot path (BENCHMARKS.md, "The hot path"): the ten-step call request, served.
#
#   bench/hot-path.sh [BEFORE_DIR]
#
# 1. Server CPU time per request, the SDK against bare hyper (bench-cpu: /proc/<pid>/stat
#    user + system before and after a fixed number of requests at 1, 16 and 64 connections,
#    median of 3 rounds), with throughput and p50/p99 beside it.
# 2. Instructions per request of the whole server process, hyper and tokio included
#    (callgrind; deterministic, so the shared machine's load does not move it; the kernel's
#    share is not in it): the server under valgrind answers N1 and then N2 requests, and
#    (I(N2) - I(N1)) / (N2 - N1) cancels start-up out.
# 3. Instructions per request of the handler alone, in-process (bench-calls), and heap
#    allocations per request (bench-allocs).
#
# BEFORE_DIR, if given, holds bench-sdk-server, bench-calls and bench-allocs built in release
# mode from an earlier commit (e.g. `git worktree add /dev/shm/before <commit>` and
# `cargo build --release -p inngest-bench --bins` there): measured in the same run.
# The generator spins while it measures (bench-cpu's default, BENCHMARKS.md says why);
# GENERATOR=sleep measures the old way.
# REQUESTS (200000) and ROUNDS (3) set the size of part 1; PIN=0 leaves the generator and the
# servers unpinned. Needs valgrind for parts 2 and 3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p inngest-bench --bins
R=target/release
BEFORE=${1:-}
servers=(--server "after=$R/bench-sdk-server" --server "hyper=$R/bench-hyper-server")
[ -n "$BEFORE" ] && servers=(--server "before=$BEFORE/bench-sdk-server" "${servers[@]}")

echo "## 1. Server CPU time per request (bench-cpu)"
# The generator on CPU 0 and each server on CPU 1, so that they do not preempt each other on
# one core (PIN=0 to let the scheduler place them).
pin=()
if [ "${PIN:-1}" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    pin=(--server-cpus 1)
    run() { taskset -c 0 "$@"; }
else
    run() { "$@"; }
fi
run "$R/bench-cpu" "${servers[@]}" "${pin[@]}" --requests "${REQUESTS:-200000}" --rounds "${ROUNDS:-3}" \
    --generator "${GENERATOR:-spin}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Instructions the server at $2 spends on $3 requests (16 connections, 100 of warm-up).
server_instructions() {
    local name=$1 program=$2 requests=$3
    printf '#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s/%s-%s.out %s\n' \
        "$work" "$name" "$requests" "$program" >"$work/$name.sh"
    chmod +x "$work/$name.sh"
    "$R/bench-cpu" --server "$name=$work/$name.sh" --connections 16 --requests "$requests" \
        --warmup 100 --rounds 1 >/dev/null 2>&1
    grep '^summary:' "$work/$name-$requests.out" | cut -d' ' -f2
}
per_request() { # name program: instructions per request, from 2,000 and 12,000 requests
    local a b
    a=$(server_instructions "$1" "$2" 2000)
    b=$(server_instructions "$1" "$2" 12000)
    echo "| $1 | $(((b - a) / 10000)) |"
}
echo
echo "## 2. Instructions per request, whole server process (callgrind)"
echo "| server | instructions per request |"
echo "|---|---:|"
[ -n "$BEFORE" ] && per_request before "$BEFORE/bench-sdk-server"
per_request after "$R/bench-sdk-server"
per_request hyper "$R/bench-hyper-server"

handler() { # bench-calls: instructions per request in-process, from 100 and 600 requests
    local a b
    a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" none 10 100 2>&1 |
        sed -n 's/.*Collected : //p')
    b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" none 10 600 2>&1 |
        sed -n 's/.*Collected : //p')
    echo $(((b - a) / 500))
}
echo
echo "## 3. The handler alone, in-process"
echo "| build | instructions per request (bench-calls) | allocations, bytes per request (bench-allocs) |"
echo "|---|---:|---|"
for build in ${BEFORE:+before} after; do
    dir=$R
    [ "$build" = before ] && dir=$BEFORE
    allocs=$("$dir/bench-allocs" | awk -F'|' '$2 ~ /^ 10 /{print $3 "allocations," $4 "bytes"}')
    echo "| $build | $(handler "$dir/bench-calls") | $allocs |"
done
