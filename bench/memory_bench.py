"""Memory of the app with 1,000 and 100,000 stored conversations (issue 14, README "Performance"). Not a test.

    .venv/bin/python bench/memory_bench.py [--scales 1000,100000] [--loads 30] [--keep DIR]

For each scale: a database filled directly in SQLite by bench/insights_bench.py's
``generate`` (conversations with ten messages each, funnel events, the redacted
copy written by ``masked.backfill``), then the real app as its own process
(``python app.py``, worker on), an admin logged in over HTTP, and ``--loads``
loads of each page: the console's inbox (``/console/``, ``/console/api/inbox``),
the insights list (``/insights/``) and a marketing search on it. Reported: the
app process's resident memory (VmRSS) after start and after the loads, its peak
(VmHWM), and the median time of each page as the browser waits for it.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.insights_bench import generate  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

PAGES = {
    "console inbox (/console/)": "/console/",
    "console inbox API (/console/api/inbox)": "/console/api/inbox",
    "insights list (/insights/)": "/insights/",
    "insights search (/insights/?q=競売)": "/insights/?q=" + urllib.parse.quote("競売"),
}


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def fill(path: Path, n: int) -> float:
    from bot.auth import create_user
    from bot.insights import masked
    from bot.storage import Storage

    t = time.perf_counter()
    generate(str(path), n, 10)
    storage = Storage(path)
    masked.backfill(storage, batch=5000)
    storage.db.execute("ANALYZE")
    create_user("bench-admin", "bench-password-123", "admin", storage=storage)
    storage.close()
    return time.perf_counter() - t


def login(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(base + "/console/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "login": "bench-admin",
                                   "password": "bench-password-123"}).encode()
    opener.open(base + "/console/login", data=data).read()
    return opener


def measure(path: Path, loads: int, log: Path) -> dict[str, object]:
    env = {"NINBAI_DATABASE": str(path), "NINBAI_SECRET_KEY": "bench", "NINBAI_START_WORKER": "1",
           "NINBAI_LOG_LEVEL": "WARNING"}
    server = ServerProcess(env, log_path=log).start(timeout=120)
    try:
        pid = server.proc.pid
        time.sleep(2)
        after_start = memory_kb(pid)
        opener = login(server.url)
        times: dict[str, list[float]] = {label: [] for label in PAGES}
        for i in range(loads):
            for label, url in PAGES.items():
                t = time.perf_counter()
                with opener.open(server.url + url) as r:
                    assert r.status == 200, (url, r.status)
                    r.read()
                if i:  # the first load warms the caches
                    times[label].append((time.perf_counter() - t) * 1000)
        after = memory_kb(pid)
    finally:
        server.stop()
    return {"rss_start_mb": round(after_start["VmRSS"] / 1024, 1), "rss_after_mb": round(after["VmRSS"] / 1024, 1),
            "peak_mb": round(after["VmHWM"] / 1024, 1),
            "pages_ms": {label: round(statistics.median(v), 1) for label, v in times.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1000,100000")
    ap.add_argument("--loads", type=int, default=30)
    ap.add_argument("--keep", help="keep the databases in this directory")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="ninbai-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for n in (int(s) for s in args.scales.split(",")):
        path = work / f"memory-{n}.db"
        for f in work.glob(f"memory-{n}.db*"):
            f.unlink()
        fill_s = fill(path, n)
        result = measure(path, args.loads, work / f"memory-{n}.log")
        result.update(conversations=n, fill_s=round(fill_s), db_mb=round(os.path.getsize(path) / 1e6))
        results[n] = result
        print(json.dumps(result, ensure_ascii=False), flush=True)
    scales = list(results)
    print(f"\nninbai memory: app process (python app.py, worker on), {args.loads} loads of each page")
    print(f"{'':42}" + "".join(f"{n:>14,}" for n in scales))
    print(f"{'database (MB)':42}" + "".join(f"{results[n]['db_mb']:>14}" for n in scales))
    for key, label in (("rss_start_mb", "RSS after start (MB)"), ("rss_after_mb", "RSS after the loads (MB)"),
                       ("peak_mb", "peak RSS (MB)")):
        print(f"{label:42}" + "".join(f"{results[n][key]:>14}" for n in scales))
    for page in PAGES:
        print(f"{page + ' ms':42}" + "".join(f"{results[n]['pages_ms'][page]:>14}" for n in scales))
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
