#!/usr/bin/env bash
# Creates .venv (if missing) and installs ChainAtlas into it, with the extras named in $1 (e.g. "test").
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cc >/dev/null && ! command -v gcc >/dev/null; then
  echo "需要 C 编译器来构建挂链内核 (a C compiler builds the placement kernel): apt-get install gcc python3-dev" >&2
  exit 1
fi
python3 -m venv .venv 2>/dev/null || python3 -m venv --without-pip .venv
if [ ! -x .venv/bin/pip ]; then .venv/bin/python -m ensurepip --upgrade >/dev/null; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
extras="${1:-}"
if [ -n "$extras" ]; then .venv/bin/pip install -q -e ".[${extras}]"; else .venv/bin/pip install -q -e .; fi
