"""Backups that restore (issue 15, item 2): an online copy while the bot answers, then a restore.

The drill runs ``make serve``'s gunicorn (web processes + an event process) on
a real SQLite file, posts signed webhooks from many users, takes
``flask --app app data backup`` in the middle of it, restores the file into a
fresh place with ``flask --app app data restore`` and finds there every event
that was answered before the backup began.
"""
from __future__ import annotations

import concurrent.futures
import gzip
import os
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from bot.ops import backup as backups
from tests.support.server import ROOT, GunicornProcess
from tests.test_ops_health import metric
from tests.test_drills import server_env, steady_load


def flask_cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("NINBAI_", "LINE_"))}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=timeout)


def done_events(db_path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return {r[0] for r in conn.execute("select event_id from inbox where status = 'done'")}
    finally:
        conn.close()


def test_backup_names_keeps_the_newest_and_restore_checks(tmp_path, make_app):
    app = make_app(START_WORKER=False)
    db = Path(app.config["DATABASE"])
    storage = app.extensions["ninbai"].storage
    with storage.write() as conn:
        conn.execute("insert into meta (key, value) values ('drill', 'before')")
    out = tmp_path / "backups"
    made = [backups.backup(db, out, keep=2) for _ in range(4)]
    assert [p.name for p in backups.backups(out)] == [p.name for p in made[-2:]]
    assert all(backups.NAME.match(p.name) for p in made)
    # gzip of a database whose integrity is fine, and smaller than the file
    raw = gzip.decompress(made[-1].read_bytes())
    assert raw[:16] == b"SQLite format 3\x00" and made[-1].stat().st_size < len(raw)

    # This test's own process holds the database open: a restore is refused...
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from bot.ops import backup as b; "
         "print(b.in_use(sys.argv[1]))", str(db)], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr
    # ... and allowed once nobody has it open (a crashed process holds nothing).
    app.extensions["ninbai"].close()
    assert backups.in_use(db) is False

    fresh = tmp_path / "fresh" / "ninbai.db"
    info = backups.restore(made[-1], fresh)
    assert info["integrity"] == "ok" and backups.integrity(fresh) == "ok"
    conn = sqlite3.connect(fresh)
    assert conn.execute("select value from meta where key = 'drill'").fetchone() == ("before",)
    conn.close()

    # A damaged backup never replaces anything.
    bad = out / "ninbai-20260101T000000000Z.db.gz"
    bad.write_bytes(gzip.compress(raw[: len(raw) // 3]))
    before = fresh.read_bytes()
    try:
        backups.restore(bad, fresh)
    except backups.RestoreRefused as exc:
        assert "integrity" in str(exc)
    else:
        raise AssertionError("a damaged backup was restored")
    assert fresh.read_bytes() == before


@pytest.mark.slow
def test_drill_backup_under_load_then_restore(tmp_path, fake_line):
    env = server_env(tmp_path, fake_line, NINBAI_WEB_WORKERS="2", NINBAI_WEB_THREADS="4",
                     NINBAI_WORKER_THREADS="3", NINBAI_LOADING_AFTER_SECONDS="100")
    server = GunicornProcess(env, log_path=tmp_path / "server.log").start(timeout=60)
    db = Path(env["NINBAI_DATABASE"])
    status: dict[str, int | None] = {}
    posted_at: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(n: int) -> None:
        steady_load(server.url, fake_line, status, lock, stop, posted_at)

    out = tmp_path / "backups"
    db_env = {"NINBAI_DATABASE": str(db), "NINBAI_SECRET_KEY": "drill"}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(load, n) for n in range(8)]
            deadline = time.monotonic() + 120
            while len(done_events(db)) < 40 and time.monotonic() < deadline:
                time.sleep(0.2)
            answered_before = done_events(db)  # answered before the backup began
            started = time.monotonic()
            result = flask_cli(db_env, "data", "backup", str(out))
            ended = time.monotonic()
            stop.set()
            for f in futures:
                f.result()
        backup_seconds = ended - started
        assert result.returncode == 0, result.stdout + result.stderr
        assert all(c == 200 for c in status.values()), "a webhook failed while the backup ran"
        assert len(answered_before) >= 40
        during = sum(1 for t in posted_at if started <= t <= ended)
        assert during > 0, "no webhook was accepted while the backup ran"
        # /metrics adds up the processes: events counted by the two web processes,
        # answers by the event process (prometheus-client's multiprocess mode).
        def scrape() -> str:
            with urllib.request.urlopen(server.url + "/metrics", timeout=30) as r:
                return r.read().decode()

        fake_line.wait_for(lambda: done_events(db) == set(status), timeout=120)
        fake_line.wait_for(lambda: metric(scrape(), "ninbai_answer_latency_seconds_count", channel="line")
                           == len(status), timeout=30)
        text = scrape()
        assert metric(text, "ninbai_events_received_total", channel="line") == len(status)
        assert metric(text, "ninbai_queue_depth", status="pending") == 0
        # Restoring over the running database is refused.
        refused = flask_cli(db_env, "data", "restore", str(backups.backups(out)[-1]))
        assert refused.returncode == 1 and "in use" in refused.stderr, refused.stderr
    finally:
        server.stop()

    (file,) = backups.backups(out)
    fresh = tmp_path / "restored" / "ninbai.db"
    started = time.monotonic()
    result = flask_cli({"NINBAI_DATABASE": str(fresh), "NINBAI_SECRET_KEY": "drill"}, "data", "restore", str(file))
    restore_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    conn = sqlite3.connect(fresh)
    assert conn.execute("pragma integrity_check").fetchone() == ("ok",)
    restored_done = {r[0] for r in conn.execute("select event_id from inbox where status = 'done'")}
    restored_all = {r[0] for r in conn.execute("select event_id from inbox")}
    conn.close()
    missing = answered_before - restored_done
    assert not missing, f"{len(missing)} answered events missing from the backup"
    assert restored_all <= set(status)  # nothing invented
    print(f"\nbackup drill: {len(answered_before)} answered before the backup, {len(restored_all)} events "
          f"in it, {during} webhooks accepted while it ran; backup {backup_seconds:.1f}s "
          f"(CLI incl. start-up), restore {restore_seconds:.1f}s, {file.stat().st_size} bytes")


def test_daily_backup_in_the_worker_once_a_day_at_the_hour(tmp_path, make_app):
    from bot.ops import JST, DailyBackup

    out = tmp_path / "daily"
    app = make_app(START_WORKER=False, BACKUP_DIR=str(out), BACKUP_HOUR=3, BACKUP_KEEP=2)
    services = app.extensions["ninbai"]
    daily = next(t for t in services.worker.periodic if isinstance(t, DailyBackup))
    other = DailyBackup(services.storage, str(out), 2, 3)  # a second event process
    import datetime as dt

    day = dt.datetime(2026, 12, 3, 2, 59, tzinfo=JST)
    assert daily(day) is None  # not the hour yet
    made = daily(day.replace(hour=3, minute=0))
    assert made is not None and made.exists()
    assert other(day.replace(hour=3, minute=30)) is None  # the day is taken
    assert daily(day.replace(hour=3, minute=59)) is None
    for n in (4, 5, 6):  # the next days: the newest two kept
        assert daily(day.replace(day=n, hour=3)) is not None
    assert len(backups.backups(out)) == 2
