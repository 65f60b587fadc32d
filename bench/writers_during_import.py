"""Benchmark: web writes while a long import holds SQLite's write lock (issue 22).

    .venv/bin/python bench/writers_during_import.py [--firms 200000] [--every 2] [--busy 60] [--web]

A generated enterprise list (程序生成) is imported by `chainatlas import enterprises` (--web: as the web's import
job does it, the import and then the classification of every firm in one transaction) in another process while
this one, through the real app (in-process, signed in as an analyst), commits a small write every E seconds (resetting
the user's target weights). Counts the writes that went through, that were refused with 503 (the wait ran out:
CHAINATLAS_SQLITE_BUSY_SECONDS = --busy) and that failed with 500, and how long the longest one waited.
Appends the figures to bench/RESULTS.md under "## writers during an import (issue 22)".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from fastapi.testclient import TestClient

from chainatlas.services.accounts import auth
from chainatlas.store import db

from _common import fresh_zone_db, record_results

USER, PASSWORD = "bench", "bench-password-123"
CLI = Path(sys.executable).parent / "chainatlas"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=200_000)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between two writes")
    ap.add_argument("--busy", type=float, default=60.0, help="CHAINATLAS_SQLITE_BUSY_SECONDS for the writes")
    ap.add_argument("--web", action="store_true", help="the web's import job (import + classification)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="writers_"))
    url = fresh_zone_db(tmp / "bench.db")
    with db.session_scope(url) as s:
        auth.create_user(s, USER, PASSWORD, "analyst")
    data = tmp / "firms.csv"
    subprocess.run([str(CLI), "demo", "generate", "--enterprises", str(args.firms), "--out", str(data)], check=True,
                   capture_output=True)
    os.environ.update(CHAINATLAS_SECRET_KEY="bench-secret-key-for-cookies", CHAINATLAS_HOME=str(tmp / "home"),
                      CHAINATLAS_SQLITE_BUSY_SECONDS=str(args.busy))
    from chainatlas.web.app import create_app

    outcomes: list[tuple[int, float]] = []
    with TestClient(create_app(url + "?writers")) as client:
        page = client.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": token})
        csrf = client.get("/api/me").json()["csrf_token"]
        env = dict(os.environ, CHAINATLAS_DATABASE_URL=url)
        started = time.perf_counter()
        command = [str(CLI), "import", "enterprises", str(data)]
        if args.web:
            command = [sys.executable, "-c", "import sys; from pathlib import Path; "
                       "from chainatlas.web.imports_web import import_in_worker; "
                       "import_in_worker(sys.argv[1], Path(sys.argv[2]), 'enterprises', None, 'wuhan-edz', 'nev-icv', "
                       "'bench', lambda *a: None)", url, str(data)]
        importer = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        while importer.poll() is None:
            time.sleep(args.every)
            t = time.perf_counter()
            r = client.post("/api/targets/weights/reset", headers={"X-CSRF-Token": csrf})
            outcomes.append((r.status_code, time.perf_counter() - t))
        seconds = time.perf_counter() - started
    ok = sum(1 for code, _ in outcomes if code < 400)
    busy = sum(1 for code, _ in outcomes if code == 503)
    failed = sum(1 for code, _ in outcomes if code >= 500 and code != 503)
    longest = max((w for _, w in outcomes), default=0.0)
    how = "web import job (import + classification, one transaction)" if args.web else "`chainatlas import`"
    line = (f"{how} of {args.firms:,} generated firms took {seconds:.0f} s (exit {importer.returncode}); "
            f"{len(outcomes)} writes, one every {args.every:g} s: {ok} went through, {busy} refused with 503 "
            f"(wait {args.busy:g} s ran out), {failed} server errors (500); longest wait {longest:.1f} s")
    print(line)
    record_results("## writers during an import (issue 22)", "\n".join([
        f"`bench/writers_during_import.py --firms {args.firms} --every {args.every:g} --busy {args.busy:g}"
        f"{' --web' if args.web else ''}` — "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
        f"Machine: AMD EPYC, 2 vCPUs, 24 GiB, shared with other helpers' jobs (load average at the end "
        f"{os.getloadavg()[0]:.1f}); SQLite file; the import in a process of its own, the writes through the app "
        f"in-process.", "", f"- {line}.", ""]))


if __name__ == "__main__":
    main()
