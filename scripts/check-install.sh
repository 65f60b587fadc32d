#!/usr/bin/env bash
# The two ways ChainAtlas is installed elsewhere, checked (scripts/test.sh runs this after the suite):
# 1. `python -m build` makes an sdist and a wheel (with the compiled kernel) for a wheelhouse (README: offline install);
# 2. in a fresh venv with no working C compiler (CC=/bin/false) `pip install .` succeeds, runs the pure-Python
#    placement kernel, and `chainatlas classify` there writes byte for byte what the compiled kernel in .venv writes
#    on the same diverse input.
#
# By default the fresh venv borrows its dependencies from .venv (all are wheels; installing them again costs ~5 min
# and no compiler), so what is checked is the build of ChainAtlas itself: `--full` installs them as well, as
# `CC=/bin/false pip install .` on a new server does.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d /tmp/chainatlas-nocc.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
unset CHAINATLAS_KERNEL
.venv/bin/python -m build --outdir "$tmp/dist" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
ls "$tmp"/dist/chainatlas-*.tar.gz >/dev/null
contents="$(.venv/bin/python -m zipfile -l "$tmp"/dist/chainatlas-*.whl)"
grep -q "engines/placement_kernel\.cpython" <<<"$contents" || { echo "the wheel has no compiled kernel" >&2; exit 1; }
echo "✓ python -m build: $(cd "$tmp/dist" && echo *)"
python3 -m venv "$tmp/venv"
if [ "${1:-}" = "--full" ]; then
  install=(install -q .)
else
  .venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
    >"$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/deps-from-venv.pth"
  install=(install -q --no-deps .)
fi
CC=/bin/false "$tmp/venv/bin/pip" "${install[@]}" 2>"$tmp/install.log" || { cat "$tmp/install.log" >&2; exit 1; }
"$tmp/venv/bin/python" -c '
import chainatlas, sys
from chainatlas.engines import kernel
assert chainatlas.__file__.startswith(sys.prefix), chainatlas.__file__  # the fresh install, not .venv'"'"'s
assert not kernel.COMPILED, "compiled without a compiler?"'
.venv/bin/python -c 'from chainatlas.engines import kernel; assert kernel.COMPILED, ".venv has no compiled kernel"'
.venv/bin/chainatlas demo generate --enterprises 20000 --seed 5 --out "$tmp/firms.csv" >/dev/null
.venv/bin/chainatlas classify "$tmp/firms.csv" --out "$tmp/compiled.csv" --workers 1 2>/dev/null
"$tmp/venv/bin/chainatlas" classify "$tmp/firms.csv" --out "$tmp/python.csv" --workers 1 2>"$tmp/classify.log"
grep -q "未安装编译的挂链内核" "$tmp/classify.log" || { echo "no notice of the missing kernel on stderr" >&2; exit 1; }
cmp "$tmp/compiled.csv" "$tmp/python.csv"
echo "✓ 无 C 编译器也能安装；纯 Python 内核的挂链结果与编译内核逐字节相同（$(wc -l <"$tmp/compiled.csv") 行）"
