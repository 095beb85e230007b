#!/usr/bin/env bash
# Install the pinned JS peer (inngest npm package) for the protocol tests.
# Idempotent: `npm ci` reinstalls exactly what package-lock.json pins.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v node >/dev/null 2>&1; then
  echo "install.sh: node (>= 20) is required" >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "install.sh: node >= 20 is required (found $(node --version))" >&2
  exit 1
fi
npm ci --no-audit --no-fund
