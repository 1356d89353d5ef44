#!/usr/bin/env bash
# Install dev dependencies into .venv and run lint, type checks and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# System packages the tests use as real peers: GDAL's ogrinfo (an OGC API client nobody here
# wrote), Debian Chromium (browser tests and PDF printing), poppler (PDF → PNG), CJK fonts.
need=()
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
fc-list 2>/dev/null | grep -qi "noto.*cjk" || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -c requirements.lock -e ".[dev]"
# Known vulnerabilities in the pinned dependencies (PyPI advisory data; packages the index
# cannot describe are listed as skipped rather than silently passed).
.venv/bin/pip-audit --progress-spinner off --local --skip-editable || { echo "pip-audit found vulnerabilities"; exit 1; }
.venv/bin/ruff check spatial app tests scripts benchmarks
.venv/bin/mypy
.venv/bin/pytest "$@"
