#!/usr/bin/env bash
# The main job on the shipped default: set up, build a SQLite database with the NEV/ICV chain and the
# 武汉经开区 demo zone, and serve the app on http://127.0.0.1:8000 .
# CHAINATLAS_DATABASE_URL chooses another database; an existing demo database is reused as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
export CHAINATLAS_DATABASE_URL="${CHAINATLAS_DATABASE_URL:-sqlite:///./chainatlas.db}"
.venv/bin/chainatlas init
if ! .venv/bin/chainatlas demo status >/dev/null 2>&1; then
  .venv/bin/chainatlas demo load
fi
.venv/bin/chainatlas gaps --zone 武汉经开区 --limit 10 || true
exec .venv/bin/chainatlas serve --host 127.0.0.1 --port "${CHAINATLAS_PORT:-8000}"
