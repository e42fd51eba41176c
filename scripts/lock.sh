#!/usr/bin/env bash
# Regenerate requirements.lock, the exact versions CI installs (scripts/test.sh), from
# pyproject.toml's ranges. Existing pins are kept; `bash scripts/lock.sh --upgrade` moves every
# package to the newest version the ranges allow (then run the tests before committing).
# Usage: bash scripts/lock.sh [uv pip compile options]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet "uv>=0.5,<1"
.venv/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
    --python-platform x86_64-manylinux_2_34 --output-file requirements.lock "$@"
