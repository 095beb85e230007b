#!/usr/bin/env bash
# Install the pinned Python peer (inngest on PyPI, served by FastAPI on uvicorn) into
# tests/peers/py/.venv for the protocol tests. Idempotent: the venv is (re)made only when it
# is missing or broken, or requirements.lock changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "install.sh: $python (>= 3.10) is required" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "install.sh: python >= 3.10 is required (found $("$python" --version 2>&1))" >&2
  exit 1
fi
stamp=.venv/.installed-lock
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && cmp -s requirements.lock "$stamp" \
  && .venv/bin/python -c 'import inngest.fast_api, uvicorn, uvloop, httptools' 2>/dev/null; then
  exit 0
fi
rm -rf .venv
"$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input \
  --require-virtualenv -r requirements.lock
cp requirements.lock "$stamp"
