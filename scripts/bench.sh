#!/usr/bin/env bash
# Run the benchmark suite (not part of CI): installs the bench extra into .venv; the suite itself
# installs wrk, PostgreSQL + PostGIS and gdal-bin from Debian when they are missing (root).
# Writes docs/benchmarks.md. Pass --quick for a small-scale smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install --quiet -c requirements.lock -e ".[dev,bench]"
exec .venv/bin/python -m benchmarks "$@"
