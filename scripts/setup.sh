#!/usr/bin/env bash
# One-command setup: a virtual environment in .venv with the CPU build of torch 2.13.0 first
# (an unpinned torch would pull a multi-GB CUDA build), then wincli with its dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet torch==2.13.0
# setuptools explains editable installs at length on every run; nothing to act on
PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/win --version
