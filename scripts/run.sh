#!/usr/bin/env bash
# Install into .venv (first run only) and start the service on the shipped demo data.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/redline ]; then
  "$PY" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -c requirements.lock -e .
fi
exec .venv/bin/redline serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
