"""Continuous replication (issue 15, item 3): Litestream beside ``make serve``, then a lost disk.

The drill: gunicorn with ``NINBAI_LITESTREAM_CONFIG=deploy/litestream.yml`` and
a file replica; a steady load of signed webhooks; every half second, the set
of events answered so far (read from the live file). Then SIGKILL to every
process (master, web and event processes, Litestream), the database deleted
with its -wal and -shm, ``litestream restore`` from the replica, and the
comparison: every event answered before the last replicated second is there.
"""
from __future__ import annotations

import concurrent.futures
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.server import ROOT, GunicornProcess
from tests.test_drills import server_env, steady_load

LITESTREAM = str(Path(sys.executable).with_name("litestream"))
CONFIG = str(ROOT / "deploy" / "litestream.yml")


def done_events(db_path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return {r[0] for r in conn.execute("select event_id from inbox where status = 'done'")}
    finally:
        conn.close()


def last_replicated(replica: Path) -> float:
    """When Litestream last wrote to the replica (the newest file's mtime), 0 before."""
    times = [p.stat().st_mtime for p in replica.rglob("*") if p.is_file()]
    return max(times, default=0.0)


def test_litestream_turns_the_apps_checkpoints_off(make_app):
    app = make_app(LITESTREAM_CONFIG=CONFIG, START_WORKER=False)
    services = app.extensions["ninbai"]
    assert services.storage.db.execute("pragma wal_autocheckpoint").fetchone()[0] == 0
    assert services.storage.db.execute("pragma busy_timeout").fetchone()[0] >= 5000
    plain = make_app(START_WORKER=False, DATABASE=app.config["DATABASE"] + "-2")
    assert plain.extensions["ninbai"].storage.db.execute("pragma wal_autocheckpoint").fetchone()[0] == 1000


@pytest.mark.slow
def test_drill_litestream_sigkill_delete_restore(tmp_path, fake_line):
    replica = tmp_path / "replica"
    env = server_env(tmp_path, fake_line, NINBAI_WEB_WORKERS="2", NINBAI_WEB_THREADS="4",
                     NINBAI_LOADING_AFTER_SECONDS="100",
                     NINBAI_LITESTREAM_CONFIG=CONFIG, NINBAI_LITESTREAM_REPLICA=str(replica))
    db = Path(env["NINBAI_DATABASE"])
    server = GunicornProcess(env, log_path=tmp_path / "server.log").start(timeout=60)
    names = {Path(os.readlink(f"/proc/{pid}/exe")).name for pid in server.pids() if Path(f"/proc/{pid}").exists()}
    assert "litestream" in names, names  # started beside the web processes
    status: dict[str, int | None] = {}
    stop = threading.Event()
    lock = threading.Lock()

    def load() -> None:
        steady_load(server.url, fake_line, status, lock, stop)

    snapshots: list[tuple[float, set[str]]] = []
    try:
        deadline = time.monotonic() + 60
        while last_replicated(replica) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert last_replicated(replica), (tmp_path / "server.log").read_text()[-3000:]
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(load) for _ in range(8)]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                snapshots.append((time.time(), done_events(db)))
                # Kill once 50 events were answered 4 s ago: a history to compare with.
                if any(len(done) >= 50 and t <= snapshots[-1][0] - 4 for t, done in snapshots):
                    break
                time.sleep(0.5)
            server.kill()  # SIGKILL: master, web and event processes, Litestream
            killed_at = time.time()
            stop.set()
            for f in futures:
                f.result()
    finally:
        server.kill()
    synced_at = last_replicated(replica)
    truth = done_events(db)  # what the lost disk held (SQLite replays its WAL on open)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)

    started = time.monotonic()
    restore_env = {**os.environ, **env}
    result = subprocess.run([LITESTREAM, "restore", "-config", CONFIG, str(db)], env=restore_env,
                            capture_output=True, text=True, timeout=120)
    restore_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    restored = {r[0] for r in conn.execute("select event_id from inbox where status = 'done'")}
    conn.close()

    # Every event answered at least a second before Litestream's last write is there.
    safe = [done for t, done in snapshots if t <= synced_at - 1.0]
    assert safe, (synced_at, [t for t, _ in snapshots])
    assert len(safe[-1]) >= 50, (  # the drill had something to lose
        f"last replica write {killed_at - synced_at:.1f}s before the kill; answered by then: "
        f"{[(round(killed_at - t, 1), len(d)) for t, d in snapshots]}\n"
        + "\n".join(line for line in (tmp_path / "server.log").read_text().splitlines() if "level=" in line)[-3000:])
    missing = safe[-1] - restored
    assert not missing, f"{len(missing)} events answered before the last replicated second are lost"
    lost = truth - restored
    print(f"\nlitestream drill: {len(truth)} events answered when killed, {len(restored)} restored, "
          f"{len(lost)} lost; last replica write {killed_at - synced_at:.2f}s before the kill; "
          f"restore {restore_seconds:.2f}s")
