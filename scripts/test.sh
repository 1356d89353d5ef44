#!/usr/bin/env bash
# Install dev dependencies into .venv and run lint, type checks and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e ".[dev]"
.venv/bin/ruff check spatial app tests scripts
.venv/bin/mypy
.venv/bin/pytest "$@"
