#!/usr/bin/env bash
# Creates .venv (if missing) and installs ChainAtlas into it, with the extras named in $1 (e.g. "test").
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cc >/dev/null && ! command -v gcc >/dev/null; then
  # setup.py then skips the compiled kernel and classify runs the pure-Python one (same output, slower)
  echo "提示：未找到 C 编译器，挂链内核将使用纯 Python 版本，结果相同但较慢；安装 gcc 与 python3-dev 可启用编译版本 (no C compiler: pure-Python placement kernel)" >&2
fi
python3 -m venv .venv 2>/dev/null || python3 -m venv --without-pip .venv
if [ ! -x .venv/bin/pip ]; then .venv/bin/python -m ensurepip --upgrade >/dev/null; fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
extras="${1:-}"
if [ -n "$extras" ]; then .venv/bin/pip install -q -e ".[${extras}]"; else .venv/bin/pip install -q -e .; fi
