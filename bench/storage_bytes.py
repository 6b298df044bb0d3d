"""Bytes stored per full diagnosis conversation (issue 14, README "Performance"). Not a test.

    .venv/bin/python bench/storage_bytes.py [--conversations 40] [--keep PATH] [--json OUT]

Runs ``--conversations`` typed diagnosis conversations (the typed personas of
tests/test_personas_line.py, in turn: follow, then every answer typed, up to the
result) through the real app: signed LINE webhooks, the worker, the engine, the
insights hooks (funnel, the redacted copy) and the fake LINE server
(tests/support/fakeline.py). Then it copies the database with ``VACUUM INTO`` and
reports bytes per conversation as the difference with an empty database of the
same schema, divided by the number of conversations, with the part of each table
and index (SQLite's ``dbstat``; FTS shadow tables and the redacted copy counted
under their own names):

* ``fresh``: as stored right after the conversations (the raw webhook bodies
  still in the inbox, within ``NINBAI_INBOX_KEEP_HOURS``);
* ``settled``: after ``Storage.reduce_old_inbox`` ran past that time (what a
  conversation costs for as long as it is kept).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import webhooks  # noqa: E402
from tests.support.fakeline import FakeLine  # noqa: E402
from tests.test_personas_line import PERSONAS  # noqa: E402

SECRET, TOKEN = "bench-secret-0123456789abcdef0123", "bench-token"
SCRIPTS = [script for name, (script, *_rest) in sorted(PERSONAS.items()) if name.startswith("typed_")]


def run_conversations(path: Path, n: int) -> dict[str, float]:
    from bot import create_app

    with FakeLine(TOKEN) as fake:
        app = create_app({"DATABASE": str(path), "SECRET_KEY": "x", "START_WORKER": True, "TODAY": "2026-11-27",
                          "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                          "LINE_API_BASE_URL": fake.url, "LOG_LEVEL": "WARNING"})
        services = app.extensions["ninbai"]
        client = app.test_client()
        events = 0
        for i in range(n):
            user = webhooks.make_user_id()
            script = [("follow", None)] + [step for step in SCRIPTS[i % len(SCRIPTS)] if step[0] == "say"]
            for kind, value in script:
                token = fake.issue_reply_token(user)
                ev = (webhooks.follow_event(user, reply_token=token) if kind == "follow"
                      else webhooks.text_event(user, value, reply_token=token))
                raw, headers = webhooks.request([ev], SECRET)
                assert client.post("/callback", data=raw, headers=headers).status_code == 200
                assert services.worker.drain(60), services.storage.inbox_counts()
                events += 1
        states = [r[0] for r in services.storage.db.execute("select state from conversations")]
        assert len(states) == n, states
        services.close()
    return {"events": events, "at_result": sum(1 for s in states if s == "result")}


def reduce_inbox(path: Path) -> int:
    """What the periodic task does once the keep time has passed (called as if it were later)."""
    from bot.storage import Storage

    storage = Storage(path)
    try:
        return storage.reduce_old_inbox(time.time() + 10 * 365 * 86400)
    finally:
        storage.close()


def sizes(path: Path, out_dir: Path, label: str) -> tuple[int, dict[str, int]]:
    """Bytes of a VACUUMed copy, and bytes per table (an index, FTS shadow table: under its own name)."""
    copy = out_dir / f"{label}.vacuumed.db"
    copy.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.execute("VACUUM INTO ?", [str(copy)])
    con.close()
    con = sqlite3.connect(copy)
    per = dict(con.execute("select name, sum(pgsize) from dbstat group by name").fetchall())
    con.close()
    return copy.stat().st_size, per


def empty_db(path: Path) -> None:
    from bot.storage import Storage

    storage = Storage(path)
    storage.migrate()
    storage.close()


def group(name: str) -> str:
    if name.startswith("messages_redacted_fts"):
        return "messages_redacted_fts (marketing's search index)"
    if name.startswith("messages_redacted"):
        return "messages_redacted (the redacted copy) + index"
    if name.startswith("messages_fts"):
        return "messages_fts (search index of user messages)"
    for table in ("messages", "inbox", "outbox", "conversations", "contacts", "funnel_events", "funnel_daily",
                  "audit", "alerts", "contact_proposals", "followups"):
        if name == table or name.startswith(f"sqlite_autoindex_{table}") or name.startswith(f"idx_{table}") \
                or name.startswith(f"{table}_"):
            return table
    return "other"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=40)
    ap.add_argument("--keep", help="keep the databases in this directory")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="ninbai-bytes-"))
    work.mkdir(parents=True, exist_ok=True)
    for f in work.glob("*.db*"):
        f.unlink()
    base_path, path = work / "empty.db", work / "ninbai.db"
    empty_db(base_path)
    base, base_per = sizes(base_path, work, "empty")
    info = run_conversations(path, args.conversations)
    n = args.conversations
    report: dict[str, object] = {"conversations": n, **info}
    fresh, fresh_per = sizes(path, work, "fresh")
    reduced = reduce_inbox(path)
    settled, settled_per = sizes(path, work, "settled")
    report.update(reduced_inbox_rows=reduced)
    rows = {}
    for label, total, per in (("fresh", fresh, fresh_per), ("settled", settled, settled_per)):
        by_group: dict[str, int] = {}
        for name, b in per.items():
            g = group(name)
            by_group[g] = by_group.get(g, 0) + b - base_per.get(name, 0)
        rows[label] = {g: round(b / n) for g, b in sorted(by_group.items(), key=lambda kv: -kv[1])}
        report[f"{label}_bytes_per_conversation"] = round((total - base) / n)
    report["breakdown"] = rows
    print(f"\nninbai storage: {n} typed diagnosis conversations over LINE ({info['events']} events,"
          f" {info['at_result']} reached the result), SQLite {sqlite3.sqlite_version}")
    print(f"empty database (schema only): {base:,} bytes; databases VACUUMed; bytes = (db - empty) / {n}")
    width = max(len(g) for r in rows.values() for g in r)
    print(f"{'table / index'.ljust(width)}  {'fresh':>8}  {'settled':>8}   (bytes per conversation)")
    for g in rows["fresh"]:
        print(f"{g.ljust(width)}  {rows['fresh'][g]:>8,}  {rows['settled'].get(g, 0):>8,}")
    print(f"{'TOTAL'.ljust(width)}  {report['fresh_bytes_per_conversation']:>8,}"
          f"  {report['settled_bytes_per_conversation']:>8,}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
