"""Benchmark: the web app (issue 8).

    .venv/bin/python bench/web_bench.py [--firms 5000] [--clients 50] [--seconds 20] [--workers 1] [--client wrk]
                                        [--uncached]

1. Builds a SQLite file: the demo (武汉经开区) plus N generated firms in the zone (程序生成, source "demo"),
   each with a rule placement on a leaf node (bulk insert; the classifier is benchmarked elsewhere), so the chain map counts thousands of local firms.
2. Starts the real app under uvicorn on a free loopback port (one process, as `chainatlas serve` does).
3. Chain map: headless Chromium (Debian's, via Playwright) opens / and waits for the flag the page sets when
   ECharts has finished rendering; the figure is that moment in ms after navigation start. First load (cold:
   the diagnosis is computed) and the median/max of 5 warm loads.
4. JSON load: C concurrent connections share a logged-in session and cycle through the JSON endpoints the pages
   use for S seconds (wrk, from Debian, when installed: it costs the server's CPU little), then each endpoint
   alone for S/4 seconds; or with --client httpx, async httpx clients until R requests or S seconds.
5. --uncached (issue 22): the same clients on requests that each miss the response cache — firms by id, name
   fragments searched, every node's page and target list, the pages' endpoints with a distinct query — with no
   warm-up, once without writes and once with a write every 0.5 s (a committed reset of the bench user's target
   weights: like every write through the app it clears the cached answers).
Prints the figures and appends them to bench/RESULTS.md under "## web (issue 8)".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import func, insert, select

from chainatlas.domain.chain import load_chain
from chainatlas.services.accounts import auth
from chainatlas.services.demo import load_demo
from chainatlas.store import db
from chainatlas.store.models import Enterprise, Placement

from _common import record_results

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
USER, PASSWORD = "bench", "bench-password-123"


def build(path: Path, n_firms: int, seed: int = 8) -> int:
    url = f"sqlite:///{path}"
    db.migrate(url)
    with db.session_scope(url) as s:
        load_demo(s)
        auth.create_user(s, USER, PASSWORD, "analyst")
    db.get_engine(url).dispose()
    rng = random.Random(seed)
    chain = load_chain("nev-icv")
    leaves = [n for n in chain.nodes.values() if not chain.children(n.id)]
    firms, places = [], []
    with db.session_scope(url) as s:
        start = (s.scalar(select(func.max(Enterprise.id))) or 0) + 1
        for i in range(n_firms):
            node = rng.choice(leaves)
            word = rng.choice(node.keywords or (node.name_zh,))
            eid = start + i
            capital = rng.choice([500, 1000, 3000, 5000, 20000]) * 10_000
            firms.append({"id": eid, "name": f"武汉基准{i:05d}{node.name_zh}有限公司", "name_norm": f"基准{i:05d}",
                          "zone_id": "wuhan-edz", "province_code": "42", "city_code": "4201", "district_code": "420114",
                          "registered_capital": capital, "registered_capital_yuan": capital,
                          "business_scope": f"{word}的研发、生产、销售", "status": "存续", "source": "demo"})
            places.append({"enterprise_id": eid, "chain_id": "nev-icv", "node_id": node.id, "method": "rule",
                           "score": 1.0, "confidence": 0.8, "evidence": [{"field": "scope", "word": word}],
                           "node_fingerprint": node.fingerprint(), "created_by": "bench"})
        s.execute(insert(Enterprise.__table__), firms)
        s.execute(insert(Placement.__table__), places)
        total = s.scalar(select(func.count(Enterprise.id)).where(Enterprise.zone_id == "wuhan-edz"))
    db.get_engine(url).dispose()
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, home: Path, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, CHAINATLAS_DATABASE_URL=url, CHAINATLAS_HOME=str(home),
               CHAINATLAS_SECRET_KEY="bench-secret-key-0123456789")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "chainatlas.web.app:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                             "--workers", str(workers)], env=env)
    root = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{root}/login", timeout=2).status_code == 200:
                return proc, root
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def chain_map_times(root: str, warm_runs: int = 5) -> tuple[float, list[float], int]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(f"{root}/login")
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        times = []
        for _ in range(warm_runs + 1):
            page.goto(f"{root}/", wait_until="commit")
            page.wait_for_selector("body[data-chart-ready=\"1\"]", state="attached", timeout=60_000)
            times.append(page.evaluate("window.__chartReadyAt"))
        nodes = page.evaluate("echarts.getInstanceByDom(document.getElementById('chain-chart'))"
                              ".getOption().series[0].data.filter(d => d.raw).length")
        browser.close()
    return times[0], times[1:], nodes


def session_cookie(root: str) -> httpx.Cookies:
    with httpx.Client(base_url=root) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": token})
        assert r.status_code in (200, 303), r.text
        return c.cookies


async def load_run(root: str, cookies: httpx.Cookies, clients: int, max_requests: int, max_seconds: float,
                   endpoints: list[str], warm: bool = True,
                   write_every: float | None = None) -> tuple[dict[str, list[float]], int, float]:
    """Clients share one queue of requests (each path in turn, once per pass). warm=False: no warm-up pass, for
    distinct requests that must miss the response cache; write_every: a writer commits a change that often
    (resetting the bench user's target weights; the commit clears the cached answers)."""
    latencies: dict[str, list[float]] = {e: [] for e in endpoints}
    errors = 0
    issued = 0
    writes = 0
    deadline = time.perf_counter() + max_seconds
    limits = httpx.Limits(max_connections=clients + 1, max_keepalive_connections=clients + 1)

    async with httpx.AsyncClient(base_url=root, cookies=cookies, limits=limits, timeout=30) as client:
        async def worker(k: int) -> None:
            nonlocal errors, issued
            while issued < max_requests and time.perf_counter() < deadline:
                path = endpoints[issued % len(endpoints)]
                issued += 1
                t = time.perf_counter()
                r = await client.get(path)
                latencies[path].append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    errors += 1

        async def writer() -> None:
            nonlocal writes, errors
            token = (await client.get("/api/me")).json()["csrf_token"]
            while issued < max_requests and time.perf_counter() < deadline:
                await asyncio.sleep(write_every)
                r = await client.post("/api/targets/weights/reset", headers={"X-CSRF-Token": token})
                writes += 1
                errors += r.status_code >= 400

        if warm:
            for path in endpoints:  # warm every endpoint once (first diagnosis, first ranking)
                await client.get(path)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)), *([writer()] if write_every else []))
        wall = time.perf_counter() - t0
    return latencies, errors, wall


def distinct_paths(url: str, n: int, seed: int = 22) -> list[str]:
    """n requests that each miss the response cache: firms by id, searches for name fragments, nodes and target
    lists of every node, and the pages' endpoints with a distinct query (their answer computed anew)."""
    rng = random.Random(seed)
    with db.session_scope(url) as s:
        ids = list(s.scalars(select(Enterprise.id)))
        names = list(s.scalars(select(Enterprise.name)))
    nodes = sorted(load_chain("nev-icv").nodes)
    paths = []
    for k in range(n):
        kind = k % 5
        if kind == 0:
            paths.append(f"/api/enterprises/{rng.choice(ids)}")
        elif kind == 1:
            name = rng.choice(names)
            start = rng.randrange(max(1, len(name) - 4))
            paths.append(f"/api/search?q={quote(name[start:start + rng.randint(2, 4)])}&v={k}")
        elif kind == 2:
            paths.append(f"/api/nodes/{rng.choice(nodes)}?v={k}")
        elif kind == 3:
            paths.append(f"/api/targets?node={rng.choice(nodes)}&v={k}")
        else:
            e = ENDPOINTS[k % len(ENDPOINTS)]
            paths.append(e + ("&" if "?" in e else "?") + f"v={k}")
    return paths


WRK_SCRIPT = """
paths = {%s}
n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1], {["Cookie"] = "%s"})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.1f %%.1f %%.1f %%.1f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.duration / 1e6))
end
"""


def wrk_run(root: str, cookie: str, paths: list[str], clients: int, seconds: float) -> dict:
    """One bounded wrk run over `paths` (cycled); p50/p95/p99 in ms from wrk's own latency histogram."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        # wrk sends the path bytes as given: percent-encode the Chinese query words.
        fh.write(WRK_SCRIPT % (", ".join(f'"{quote(p, safe="/?=&")}"' for p in paths), cookie))
        script = fh.name
    out = subprocess.run(["wrk", "-t2", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "10s", "-s", script, root],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT "))
    n, errors, p50, p95, p99, duration = line.split()[1:]
    return {"requests": int(n), "errors": int(errors), "p50": float(p50), "p95": float(p95), "p99": float(p99),
            "rps": int(n) / float(duration)}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) // 1024 // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores, {mem} GiB, Python {platform.python_version()}, {chromium}"


ENDPOINTS = ["/api/chain-map", "/api/gaps", "/api/kpi", "/api/projects", "/api/search?q=激光雷达",
             "/api/nodes/lidar", "/api/targets?node=lidar", "/api/leaders", "/api/me", "/api/screen"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20, help="mixed load run length (wrk); per endpoint: a quarter")
    ap.add_argument("--requests", type=int, default=3000, help="request cap for the httpx client")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--client", choices=("wrk", "httpx"), default="wrk" if shutil.which("wrk") else "httpx")
    ap.add_argument("--uncached", action="store_true",
                    help="also the mix without response-cache hits: distinct requests, cold and with writes (httpx)")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="web_bench_"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    t = time.perf_counter()
    local = build(tmp / "bench.db", args.firms)
    print(f"built {url}: {local} firms in the zone ({time.perf_counter() - t:.1f} s)")
    proc, root = start_server(url, tmp / "home", args.workers)
    try:
        cold, warm, nodes = chain_map_times(root)
        print(f"chain map ({nodes} nodes, {local} zone firms): cold {cold:.0f} ms; warm median "
              f"{statistics.median(warm):.0f} ms, max {max(warm):.0f} ms (navigation start → ECharts finished)")
        cookies = session_cookie(root)
        with httpx.Client(base_url=root, cookies=cookies, timeout=60) as c:
            for path in ENDPOINTS:  # each worker's first answer is computed; measure steady state
                for _ in range(args.workers * 2):
                    c.get(path)
        rows = []
        if args.client == "wrk":
            cookie = f"chainatlas_session={cookies.get('chainatlas_session')}"
            mixed = wrk_run(root, cookie, ENDPOINTS, args.clients, args.seconds)
            for path in ENDPOINTS:
                r = wrk_run(root, cookie, [path], args.clients, max(2.0, args.seconds / 4))
                rows.append((path, r["requests"], r["p50"], r["p95"], r["p99"], r["rps"]))
        else:
            lat, errors, wall = asyncio.run(load_run(root, cookies, args.clients, args.requests, args.seconds,
                                                     ENDPOINTS))
            every = [v for vs in lat.values() for v in vs]
            mixed = {"requests": len(every), "errors": errors, "p50": pct(every, .5), "p95": pct(every, .95),
                     "p99": pct(every, .99), "rps": len(every) / wall}
            rows = [(e, len(v), pct(v, .5), pct(v, .95), pct(v, .99), len(v) / wall) for e, v in lat.items()]
        uncached = []
        if args.uncached:
            for label, write_every in (("distinct requests, no writes", None),
                                       ("distinct requests, a write every 0.5 s", 0.5)):
                paths = distinct_paths(url, args.requests)
                lat, errors, wall = asyncio.run(load_run(root, cookies, args.clients, len(paths), args.seconds,
                                                         paths, warm=False, write_every=write_every))
                every = [v for vs in lat.values() for v in vs]
                uncached.append(f"- Without response-cache hits ({label}; {args.clients} clients, each request "
                                f"asked once): {len(every)} requests, {len(every) / wall:.0f} req/s, {errors} "
                                f"errors; p50 {pct(every, .5):.0f} ms, **p95 {pct(every, .95):.0f} ms**, "
                                f"p99 {pct(every, .99):.0f} ms. Target p95 < 100 ms.")
                print(uncached[-1])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    summary = (f"mixed run over {len(ENDPOINTS)} endpoints: {mixed['requests']} requests, {mixed['rps']:.0f} req/s, "
               f"{mixed['errors']} errors; p50 {mixed['p50']:.0f} ms, **p95 {mixed['p95']:.0f} ms**, "
               f"p99 {mixed['p99']:.0f} ms")
    lines = [f"| `{e}` | {n} | {rps:.0f} | {p50:.0f} | {p95:.0f} | {p99:.0f} |" for e, n, p50, p95, p99, rps in rows]
    print(summary)
    print("\n".join(lines))
    report = "\n".join([
        f"`bench/web_bench.py --firms {args.firms} --clients {args.clients} --seconds {args.seconds:g} "
        f"--workers {args.workers} --client {args.client}` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
        f"Machine: {machine()}; load average at the end {os.getloadavg()[0]:.1f} (other jobs share the machine). "
        f"Server: uvicorn ({args.workers} worker process(es)), SQLite file, loopback; load client {args.client}.", "",
        f"- Chain map page, {local} firms in the zone ({nodes} nodes drawn), navigation start → ECharts finished "
        f"in headless Chromium: cold (diagnosis computed) **{cold:.0f} ms**; warm median "
        f"**{statistics.median(warm):.0f} ms**, max {max(warm):.0f} ms over {len(warm)} loads. Target < 2000 ms.",
        f"- JSON endpoints, {args.clients} concurrent clients, {summary} (response cache hits after the first "
        f"answer). Target p95 < 100 ms.", *uncached, "",
        "| endpoint (alone, same clients) | requests | req/s | p50 ms | p95 ms | p99 ms |",
        "| --- | --- | --- | --- | --- | --- |", *lines, "",
    ])
    record_results("## web (issue 8)", report)


if __name__ == "__main__":
    main()
