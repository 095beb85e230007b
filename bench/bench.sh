#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md (a measurement, not a test: nothing here fails on a time).
#
# Installs what it needs (wrk from Debian, the pinned JS and Python peers), builds the Rust
# bench server, the bare hyper server and the driver in release mode, then runs `bench-run`
# from the repository's root: the Rust SDK, bare hyper, the JS SDK on node:http and on
# Express, and the Python SDK on FastAPI/uvicorn, each on a free loopback port, driven by wrk
# in alternating rounds; then start-up, idle memory and the macros' compile time. Every load is
# bounded in time and in requests. Prints the report and writes it to target/bench/report.md
# (raw figures: target/bench/results.json).
#
#   bench/bench.sh                      # everything (about 10 minutes on 2 cores)
#   bench/bench.sh --quick              # a smoke run of the harness (about 1 minute)
#   bench/bench.sh --phases throughput,replay --rounds 5
#
# The in-process replay cost is a criterion bench: `cargo bench --bench replay`.
# Arguments are passed to bench-run (see bench/harness/src/bin/bench-run/main.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench.sh: installing wrk (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
    fi
fi
# The peers: `npm ci` of the pinned lock file; a venv from requirements.lock.
if [ ! -d tests/peers/js/node_modules/express ] || [ ! -d tests/peers/js/node_modules/inngest ]; then
    tests/peers/js/install.sh
fi
tests/peers/py/install.sh

cargo build --release --quiet -p inngest-bench --bins
bin="${CARGO_TARGET_DIR:-target}/release"
exec "$bin/bench-run" "$@"
