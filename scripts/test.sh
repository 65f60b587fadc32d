#!/usr/bin/env bash
# Runs the whole test suite: installs what the tests need into .venv, starts a throwaway PostgreSQL on
# loopback (initdb + pg_ctl in a temporary folder) so the database tests run on SQLite and on PostgreSQL,
# and runs pytest. Extra arguments go to pytest; without any (the whole suite, as CI runs it) the classify tests run
# again on the pure-Python placement kernel, and scripts/check-install.sh builds the wheels and installs without a
# C compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
# the spark extra: the Spark parity tests run in local mode (local[2]) with the Java .ci/run installs
bash scripts/setup-venv.sh test,spark

pg_bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_bin="$d"; done
if [ -n "$pg_bin" ]; then
  pg_dir="$(mktemp -d /tmp/chainatlas-pg.XXXXXX)"
  port=$(( 20000 + RANDOM % 20000 ))
  run_as=()
  if [ "$(id -u)" = "0" ]; then
    # initdb refuses to run as root: use the postgres account the Debian package creates.
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$pg_dir"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U chainatlas --auth=trust -E UTF8 --locale=C.UTF-8 >"$pg_dir/initdb.log" 2>&1
  "${run_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=off -c full_page_writes=off" start >/dev/null
  trap '"${run_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$pg_dir"' EXIT
  export CHAINATLAS_TEST_PG_URL="postgresql+psycopg://chainatlas@127.0.0.1:$port/postgres"
  export CHAINATLAS_REQUIRE_PG=1
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway)"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not installed: .ci/run installs it (apt-get install postgresql)" >&2
  exit 1
fi
.venv/bin/python -m pytest "$@"
if [ $# -eq 0 ]; then
  echo "The classify tests again on the pure-Python kernel (CHAINATLAS_KERNEL=python):"
  CHAINATLAS_KERNEL=python .venv/bin/python -m pytest -q tests/test_classify_kernel.py tests/test_kernel_choice.py \
    tests/test_classify_batch.py -k "kernel or engine or choice or extension or same_bytes or one_process_file"
  bash scripts/check-install.sh
fi
