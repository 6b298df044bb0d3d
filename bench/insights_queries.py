"""Time the insights queries (both roles) on an existing database (not a test).

    .venv/bin/python bench/insights_queries.py PATH.db

Used on the 1 M-message database of bench/insights_bench.py (``--keep PATH``) when its
backfill of the redacted copy cannot finish on a loaded machine: prints how many copies
exist, the median of 5 for each query (admin on the originals' index, marketing on the
copy's) and the sizes (dbstat) of the copy and of the indexes.
"""
from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.insights import funnel, transcripts  # noqa: E402
from bot.insights.transcripts import Filters  # noqa: E402
from bot.storage import Storage  # noqa: E402


def timed(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main(path: str) -> None:
    storage = Storage(path)
    db = storage.db
    db.execute("ANALYZE")
    today = dt.datetime.now(funnel.JST).date()
    year = {"from": (today - dt.timedelta(days=366)).isoformat(), "to": today.isoformat()}
    out: list[str] = []

    def q(label: str, fn) -> None:
        ms, res = timed(fn)
        out.append(f"{label:<48} {ms:8.1f} ms  {len(res) if isinstance(res, list) else ''}")

    print("messages", db.execute("select count(*) from messages").fetchone()[0],
          "copies", db.execute("select count(*) from messages_redacted").fetchone()[0])
    f_default, f_year = Filters.from_args({}), Filters.from_args(year)
    q("list: last 30 days, page 1", lambda: transcripts.list_conversations(db, f_default))
    q("list: 1 year, page 1", lambda: transcripts.list_conversations(db, f_year))
    page1 = transcripts.list_conversations(db, f_year)
    q("list: 1 year, page 2 (keyset)", lambda: transcripts.list_conversations(db, f_year, before=page1[-1]["id"]))
    f_filtered = Filters.from_args({**year, "channel": "web", "lead": "yes", "stage": "auction_start"})
    q("list: web + lead + stage", lambda: transcripts.list_conversations(db, f_filtered))
    for term in ("競売開始決定", "開札はいつ", "家族に知られ", "離婚", "競", "該当なし語句"):
        fs = Filters.from_args({**year, "q": term})
        q(f"search (admin): {term!r} ({transcripts.search_mode(term)})",
          lambda fs=fs: transcripts.search_messages(db, fs))
    for term in ("競売開始決定", "開札はいつ", "家族に知られ", "離婚", "競", "【電話番号】", "090-1234", "山田太郎",
                 "該当なし語句"):
        fs = Filters.from_args({**year, "q": term})
        q(f"marketing search: {term!r} ({transcripts.search_mode(term)})",
          lambda fs=fs: transcripts.search_messages(db, fs, redacted=True))
    fs = Filters.from_args({**year, "q": "競売開始決定", "channel": "web", "lead": "yes"})
    q("marketing search: '競売開始決定' + web + lead", lambda: transcripts.search_messages(db, fs, redacted=True))
    sizes = dict(db.execute(
        "select case when name like 'messages_redacted_fts%' then 'fts' when name like 'messages_redacted%'"
        " then 'copy' when name like 'messages_fts%' then 'fts_originals' else 'other' end, sum(pgsize)"
        " from dbstat group by 1").fetchall())
    print("\n".join(out))
    print({k: f"{v / 1e6:.0f} MB" for k, v in sizes.items()})


if __name__ == "__main__":
    main(sys.argv[1])
