"""How long a restore takes for 10,000 conversations (README "Operations"). Not a test.

    .venv/bin/python bench/ops_restore.py [--conversations 10000] [--keep DIR]

1. Real conversations: the app in-process with the fake LINE server, 24 LINE
   users each following and sending the drill's ten messages.
2. Copies of them (bench/line_bench.py's ``fill``) up to ``--conversations``.
3. ``flask --app app data backup`` and ``flask --app app data restore`` (wall
   clock of the commands, start-up included), and Litestream: a replica
   written by ``litestream replicate``, then ``litestream restore`` timed.
Results: bench/results/ops_restore.json.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.line_bench import fill  # noqa: E402
from tests.support import webhooks  # noqa: E402
from tests.support.fakeline import FakeLine  # noqa: E402
from tests.test_drills import TEXTS  # noqa: E402

SECRET, TOKEN = "bench-secret-0123456789abcdef0123", "bench-token"


def seed(path: Path) -> None:
    from bot import create_app

    with FakeLine(TOKEN) as fake:
        app = create_app({"DATABASE": str(path), "SECRET_KEY": "x", "START_WORKER": True,
                          "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                          "LINE_API_BASE_URL": fake.url, "LOG_LEVEL": "WARNING"})
        client = app.test_client()
        for _ in range(24):
            user = webhooks.make_user_id()
            events = [webhooks.follow_event(user, reply_token=fake.issue_reply_token(user))]
            events += [webhooks.text_event(user, t, reply_token=fake.issue_reply_token(user)) for t in TEXTS]
            for ev in events:
                raw, headers = webhooks.request([ev], SECRET)
                assert client.post("/callback", data=raw, headers=headers).status_code == 200
                assert app.extensions["ninbai"].worker.drain(60)
        app.extensions["ninbai"].close()


def templates(src: Path) -> list[dict]:
    c = sqlite3.connect(src)
    c.row_factory = sqlite3.Row
    out = []
    for conv in c.execute("select * from conversations where channel = 'line' order by id").fetchall():
        contact = c.execute("select * from contacts where id = ?", [conv["contact_id"]]).fetchone()
        user_key = f"line:{contact['external_id']}"
        out.append({
            "contact": dict(contact), "conversation": dict(conv),
            "messages": [dict(r) for r in c.execute("select * from messages where conversation_id = ?", [conv["id"]])],
            "inbox": [dict(r) for r in c.execute("select * from inbox where user_key = ?", [user_key])],
            "outbox": [dict(r) for r in c.execute("select * from outbox where conversation_id = ?", [conv["id"]])],
            "funnel": [dict(r) for r in c.execute("select * from funnel_events where conversation_id = ?", [conv["id"]])],
        })
    c.close()
    return out


def timed(argv: list[str], env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Wall clock and CPU seconds (user + system) of a command; its last line of output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        raise SystemExit(result.stdout + result.stderr)
    lines = result.stdout.strip().splitlines() or result.stderr.strip().splitlines()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}, lines[-1] if lines else ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=10_000)
    ap.add_argument("--keep")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="ninbai-restore-"))
    work.mkdir(parents=True, exist_ok=True)
    src, db = work / "seed.db", work / "ninbai.db"
    seed(src)
    info = fill(str(db), templates(src), args.conversations)
    flask = [sys.executable, "-m", "flask", "--app", "app", "data"]
    env = {"NINBAI_DATABASE": str(db), "NINBAI_SECRET_KEY": "x"}
    backup_s, backup_out = timed([*flask, "backup", str(work / "backups")], env)
    (file,) = sorted((work / "backups").glob("ninbai-*.db.gz"))
    restore_s, restore_out = timed([*flask, "restore", str(file)], {**env, "NINBAI_DATABASE": str(work / "restored.db")})
    litestream = str(Path(sys.executable).with_name("litestream"))
    replica = work / "replica"
    proc = subprocess.Popen([litestream, "replicate", str(db), f"file://{replica}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not list(replica.rglob("*.ltx")) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)
    proc.terminate()
    proc.wait(60)
    ls_s, _ = timed([litestream, "restore", "-o", str(work / "litestream.db"), f"file://{replica}"], {})
    result = {
        **info,
        "database_bytes": db.stat().st_size,
        "backup_gz_bytes": file.stat().st_size,
        "flask_data_backup": backup_s,
        "backup_output": backup_out,
        "flask_data_restore": restore_s,
        "restore_output": restore_out,
        "litestream_restore": ls_s,
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out = ROOT / "bench" / "results" / "ops_restore.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
