#!/usr/bin/env bash
# The main job on the shipped default: set up, build a SQLite database with the NEV/ICV chain and the
# 武汉经开区 demo zone, and serve the app on http://127.0.0.1:8000 .
# CHAINATLAS_DATABASE_URL chooses another database; an existing demo database is reused as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
export CHAINATLAS_DATABASE_URL="${CHAINATLAS_DATABASE_URL:-sqlite:///./chainatlas.db}"
atlas=.venv/bin/chainatlas
$atlas init
if ! $atlas demo status >/dev/null 2>&1; then
  $atlas demo load
fi
$atlas gaps --zone 武汉经开区 --top 10
if ! $atlas users list | grep -q $'\tadmin'; then
  # No default password: the first administrator gets a random one, shown here once and stored only as a hash.
  password="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')"
  printf '%s\n' "$password" | $atlas users add admin --role admin --display-name 管理员 --password-stdin
  echo "首个管理员账号 admin 的初始密码（仅显示这一次，请登录后妥善保管）：$password"
fi
echo "打开 http://127.0.0.1:${CHAINATLAS_PORT:-8000} 登录 (open in a browser and log in)"
exec $atlas serve --host 127.0.0.1 --port "${CHAINATLAS_PORT:-8000}"
