#!/usr/bin/env bash
# Install yibao-graph into .venv and run the one-command demo on the embedded store; it ends by
# starting the workbench (Ctrl-C stops it; --no-workbench prepares the data only).
# Usage: bash scripts/demo.sh [yibao demo options, e.g. --scale 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/yibao demo "$@"
