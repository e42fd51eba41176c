#!/usr/bin/env bash
# Install what the tests need (Python packages into .venv; Debian's chromium and CJK fonts for
# the browser tests and briefings, poppler-utils to read briefing PDFs back, Java 17 for Spark
# in local mode), then lint,
# type-check and run the whole test suite.
# Usage: bash scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null \
        || ! command -v java >/dev/null || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        chromium fonts-noto-cjk fontconfig poppler-utils >/dev/null
    # Spark needs Java 17 or 21: Debian 12's openjdk-17, else the release's default JRE (slim
    # images lack the man folder the JRE's postinst links into)
    $SUDO mkdir -p /usr/share/man/man1
    command -v java >/dev/null \
        || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
            openjdk-17-jre-headless >/dev/null 2>&1 \
        || DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
            default-jre-headless >/dev/null
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# the exact versions of requirements.lock (bash scripts/lock.sh regenerates it), then the
# project itself without resolving again
.venv/bin/python -m pip install --quiet -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps -e .
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports  # the layers of pyproject.toml [tool.importlinter]
.venv/bin/pytest "$@"
