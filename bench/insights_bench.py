"""Insights benchmark (not a test): 100,000 conversations and 1,000,000 messages.

    .venv/bin/python bench/insights_bench.py [--conversations 100000] [--messages-per 10] [--keep PATH]
                                             [--no-exports]

Builds a temporary SQLite file with the real schema (migrations, FTS5 trigram
triggers), bulk-inserted in one transaction, then times the insights queries
exactly as the pages run them (median of 5 runs, warm cache) and streams full
exports, reporting the peak Python memory of each (tracemalloc) and the
process's max RSS. Also writes the redacted copy marketing searches (one user
message in ten carries personal data) and reports its CPU cost per message, its
size and its index's, and times marketing's searches on it. Prints a table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.insights import exports, funnel, masked, transcripts  # noqa: E402
from bot.insights.transcripts import Filters  # noqa: E402
from bot.storage import Storage  # noqa: E402

JST = funnel.JST
USER_LINES = [
    "競売開始決定の通知が届きました", "3ヶ月滞納しています", "督促状が来ました。どうすればいいですか",
    "離婚して共有名義のままです", "住み続けたいです", "フラット35です", "連帯保証人は妻です",
    "期間入札の通知が来ました。開札はいつですか", "引っ越し費用が心配です", "任意売却について知りたい",
    "銀行から代位弁済の連絡がありました", "ボーナス払いができなくなりました", "家族に知られたくないです",
]
# One user message in ten carries personal data, as people write it (redaction cost is measured on the mix).
PERSONAL_LINES = [
    "山田太郎と申します。電話は090-{a}-{b}です", "担当の佐藤さんから連絡がありました。{a}",
    "昭和50年4月3日生まれです。開札は令和8年2月10日", "令和7年(ケ)第{a}号の件です",
    "住所は東京都練馬区豊玉北{n}-2-3です", "メールは taro{a}@example.com です",
    "元夫の鈴木一郎と共有です\n小松原 由紀", "080 の {a} の {b} に夕方お願いします",
]
BOT_LINES = ["ありがとうございます。次の質問です。", "診断結果をお知らせします。", "担当者からご連絡します。"]
STEP_PATH = ["first_message", "consent", "arrears", "notice", "ownership", "guarantor", "divorce", "lender",
             "stay", "result", "contact", "handoff", "assigned", "closed"]


def generate(path: str, n_conv: int, per_conv: int, seed: int = 7) -> dict[str, float]:
    rnd = random.Random(seed)
    storage = Storage(path)
    storage.migrate()
    db = storage.db
    now = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    db.execute("BEGIN")
    contacts, convs, msgs, events = [], [], [], []
    msg_id = 0
    # conversations are created in time order (ids follow created_at), as in production
    starts = sorted(now - dt.timedelta(days=rnd.random() * 365) for _ in range(n_conv))
    for cid in range(1, n_conv + 1):
        channel = "line" if rnd.random() < 0.6 else "web"
        created = starts[cid - 1]
        created_iso = created.isoformat(timespec="milliseconds")
        src = (None if channel == "line" else
               json.dumps({"utm_source": rnd.choice(["google", "yahoo", "news", "direct"]),
                           "utm_campaign": rnd.choice(["spring", "autumn", ""])}))
        contacts.append((cid, channel, f"u{cid}", f"名前{cid}" if rnd.random() < 0.3 else None, 1, 0, src,
                         created_iso, created_iso))
        depth = min(len(STEP_PATH), int(rnd.expovariate(1 / 6)) + 1)
        steps = STEP_PATH[:depth]
        status = "closed" if "closed" in steps else ("operator" if "assigned" in steps else
                                                     ("waiting" if "handoff" in steps else "bot"))
        stage = rnd.choice(["dunning", "acceleration", "subrogation", "auction_start", "bid_notice", "unknown"])
        arrears = rnd.choice([0, 2, 4, 6, None])
        data = {"consent": "consent" in steps, "answered": [s for s in steps if s in funnel.QUESTIONS],
                "answers": {"arrears_months": arrears, "latest_notice": stage, "co_owned": rnd.random() < 0.3,
                            "divorce": rnd.choice(["none", "in_progress", "done"])}}
        if "contact" in steps:
            data["contact"] = {"name": "山田太郎", "phone": "090-1234-5678", "consented": True}
        summary = {"stage": stage, "urgency": rnd.choice(["hot", "warm", "cold"]), "lead_score": rnd.randint(0, 100)}
        updated = (created + dt.timedelta(minutes=rnd.randint(1, 600))).isoformat(timespec="milliseconds")
        convs.append((cid, cid, channel, "diagnosis", steps[-1], json.dumps(data, ensure_ascii=False),
                      json.dumps(summary), status, summary["urgency"], summary["lead_score"], steps[-1], 0, 1,
                      created_iso, updated, updated))
        day = created.astimezone(JST).date().isoformat()
        source, campaign = funnel.source_of(channel, src)
        for s in steps:
            events.append((cid, channel, source, campaign, s, "", day, created_iso))
        if "arrears" in steps:
            events.append((cid, channel, source, campaign, "answer:arrears", funnel.arrears_bucket(arrears), day,
                           created_iso))
        for i in range(per_conv):
            msg_id += 1
            incoming = i % 2 == 0
            if incoming and rnd.random() < 0.1:
                text = rnd.choice(PERSONAL_LINES).format(a=rnd.randint(1000, 9999), b=rnd.randint(1000, 9999),
                                                         n=rnd.randint(1, 9))
            else:
                text = (rnd.choice(USER_LINES) + ("" if rnd.random() < 0.7 else f" {rnd.randint(1, 999)}")
                        if incoming else rnd.choice(BOT_LINES))
            msgs.append((msg_id, cid, cid, "in" if incoming else "out", "user" if incoming else "bot",
                         "text" if incoming else "answer", text, updated))
        if len(msgs) >= 50_000:
            _flush(db, contacts, convs, msgs, events)
    _flush(db, contacts, convs, msgs, events)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    elapsed = time.perf_counter() - t0
    storage.close_thread_connection()
    return {"generate_s": elapsed, "messages": msg_id}


def _flush(db, contacts, convs, msgs, events) -> None:
    c = db.conn
    c.executemany("insert into contacts (id, channel, external_id, display_name, followed, blocked, source,"
                  " created_at, updated_at) values (?,?,?,?,?,?,?,?,?)", contacts)
    c.executemany("insert into conversations (id, contact_id, channel, dialog, state, data, summary, status,"
                  " urgency, lead_score, step, unread, version, created_at, updated_at, last_user_at)"
                  " values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", convs)
    c.executemany("insert into messages (id, conversation_id, contact_id, direction, sender, kind, text, created_at)"
                  " values (?,?,?,?,?,?,?,?)", msgs)
    c.executemany("insert or ignore into funnel_events (conversation_id, channel, source, campaign, step, value,"
                  " day, created_at) values (?,?,?,?,?,?,?,?)", events)
    for lst in (contacts, convs, msgs, events):
        lst.clear()


def timed(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def export_run(path: str, kind: str, fmt: str, f: Filters, redacted: bool,
               trace: bool = False) -> tuple[float, float | None, int, int]:
    """Stream a whole export; with ``trace`` also the peak Python memory (tracemalloc, slower)."""
    if trace:
        tracemalloc.start()
    t = time.perf_counter()
    size = rows = 0
    for chunk in exports.stream(path, kind, fmt, f, redacted):
        size += len(chunk.encode("utf-8"))
        rows += chunk.count("\n")
    elapsed = time.perf_counter() - t
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return elapsed, peak, rows, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--messages-per", type=int, default=10)
    ap.add_argument("--keep", help="keep the database at this path")
    ap.add_argument("--no-exports", action="store_true", help="time the queries only")
    args = ap.parse_args()
    tmpdir = tempfile.TemporaryDirectory(prefix="ninbai-bench-")
    path = args.keep or os.path.join(tmpdir.name, "bench.db")
    info = generate(path, args.conversations, args.messages_per)
    size_mb = os.path.getsize(path) / 1e6
    storage = Storage(path)
    db = storage.db
    # The redacted copy marketing searches (bot/insights/masked.py): the backfill writes
    # what the engine hook writes at each event, one message at a time.
    cpu0, wall0 = time.process_time(), time.perf_counter()
    n_redacted = masked.backfill(storage, batch=5000)
    redact_cpu, redact_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    db.execute("ANALYZE")
    sizes = dict(db.execute(
        "select case when name like 'messages_redacted_fts%' then 'fts' when name like 'messages_redacted%' then 'copy'"
        " when name like 'messages_fts%' then 'fts_originals' else 'other' end, sum(pgsize) from dbstat group by 1"
    ).fetchall())
    today = dt.datetime.now(JST).date()
    year = {"from": (today - dt.timedelta(days=366)).isoformat(), "to": today.isoformat()}
    f_default = Filters.from_args({})
    f_year = Filters.from_args(year)
    f_filtered = Filters.from_args({**year, "channel": "web", "lead": "yes", "stage": "auction_start"})
    f_rare = Filters.from_args({**year, "stage": "after_kaisatsu"})
    f_left = Filters.from_args({**year, "left_at": "notice", "idle_hours": "24"})
    results: list[tuple[str, str]] = []

    def q(label, fn):
        ms, res = timed(fn)
        n = len(res) if isinstance(res, list) else ""
        results.append((label, f"{ms:8.1f} ms  {n}"))

    q("list: last 30 days, page 1", lambda: transcripts.list_conversations(db, f_default))
    q("list: 1 year, page 1", lambda: transcripts.list_conversations(db, f_year))
    page1 = transcripts.list_conversations(db, f_year)
    q("list: 1 year, page 2 (keyset)", lambda: transcripts.list_conversations(db, f_year, before=page1[-1]["id"]))
    q("list: web + lead + stage", lambda: transcripts.list_conversations(db, f_filtered))
    q("list: stage matching nothing", lambda: transcripts.list_conversations(db, f_rare))
    q("list: left at 'notice'", lambda: transcripts.list_conversations(db, f_left))
    for term in ("競売開始決定", "開札はいつ", "家族に知られ", "離婚", "競", "該当なし語句"):
        fs = Filters.from_args({**year, "q": term})
        q(f"search: {term!r} ({transcripts.search_mode(term)})", lambda fs=fs: transcripts.search_messages(db, fs))
    fs = Filters.from_args({**year, "q": "競売開始決定", "channel": "web", "lead": "yes"})
    q("search: '競売開始決定' + web + lead", lambda: transcripts.search_messages(db, fs))
    for term in ("競売開始決定", "開札はいつ", "離婚", "競", "【電話番号】", "090-1234", "山田太郎", "該当なし語句"):
        fs = Filters.from_args({**year, "q": term})
        q(f"marketing search: {term!r} ({transcripts.search_mode(term)})",
          lambda fs=fs: transcripts.search_messages(db, fs, redacted=True))
    q("marketing page: catch-up check (nothing pending)", lambda: masked.catch_up(storage))
    q("funnel: 1 year, all channels", lambda: funnel.compute(storage, year["from"], year["to"]))
    q("funnel: 8 weeks, LINE", lambda: funnel.compute(storage, (today - dt.timedelta(weeks=8)).isoformat(),
                                                      year["to"], "line"))
    f_month = Filters.from_args({"from": (today - dt.timedelta(days=30)).isoformat(), "to": year["to"]})
    for label, kind, fmt, flt, redacted, trace in () if args.no_exports else (
        ("1 month", "messages", "csv", f_month, False, True),
        ("1 year", "messages", "csv", f_year, False, True),
        ("1 year", "conversations", "csv", f_year, True, False),
        ("1 year", "leads", "csv", f_year, True, False),
        ("1 year", "messages", "csv", f_year, False, False),
        ("1 year", "messages", "jsonl", f_year, True, False),
    ):
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        elapsed, peak, rows, size = export_run(path, kind, fmt, flt, redacted, trace)
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        who = "marketing, redacted" if redacted else "admin"
        mem = (f"peak Python memory {peak:.1f} MB (tracemalloc on)" if trace
               else f"max RSS growth {rss1 - rss0:.0f} MB")
        results.append((f"export {kind}.{fmt}, {label}, {who}",
                        f"{elapsed:8.1f} s   {rows:,} rows, {size / 1e6:.0f} MB, {mem}"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\nninbai insights benchmark: {args.conversations:,} conversations, {info['messages']:,} messages"
          f" (db {size_mb:.0f} MB, generated in {info['generate_s']:.0f} s), SQLite {__import__('sqlite3').sqlite_version}")
    width = max(len(label) for label, _ in results)
    print(f"{'measure'.ljust(width)}  result (median of 5 for queries)")
    print("-" * (width + 60))
    for label, value in results:
        print(f"{label.ljust(width)}  {value}")
    print(f"{'process max RSS'.ljust(width)}  {rss:8.0f} MB")
    print(f"redacted copy: {n_redacted:,} user messages in {redact_wall:.0f} s"
          f" ({redact_cpu * 1000 / max(1, n_redacted):.3f} ms CPU per message);"
          f" copy {sizes.get('copy', 0) / 1e6:.0f} MB + trigram index {sizes.get('fts', 0) / 1e6:.0f} MB"
          f" (index of the originals {sizes.get('fts_originals', 0) / 1e6:.0f} MB; everything else"
          f" {sizes.get('other', 0) / 1e6:.0f} MB)")
    storage.close_thread_connection()
    tmpdir.cleanup()


if __name__ == "__main__":
    main()
