"""Fault drills (ISSUE 6): kill -9 under load, LINE failing, the disk full, several processes.

Each drill checks the same promise: every event LINE got a 200 for is answered
exactly once — never lost, never doubled — whatever breaks around it. The fake
LINE server counts what really reached "the user" (``deliveries``), per user,
per reply token and per ``X-Line-Retry-Key``.
"""
from __future__ import annotations


import collections
import concurrent.futures
import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
import sqlite_utils

from tests.conftest import SECRET, TOKEN
from tests.support import webhooks
from tests.support.server import GunicornProcess

TEXTS = [
    "こんにちは", "3ヶ月滞納しています", "督促状が届きました", "はい", "引越し代は出ますか？",
    "共有名義です", "離婚しています", "連帯保証人がいます", "競売が心配です", "ありがとう",
]
BAD_LOG_LINES = ("database is locked", "Traceback", "worker loop error", "retrying sends failed")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def post_event(base_url: str, events: list[dict], timeout: float = 15.0) -> int | None:
    """POST a signed webhook; the status, or None when the connection failed (server gone)."""
    raw, headers = webhooks.request(events, SECRET)
    req = urllib.request.Request(base_url + "/callback", data=raw, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # refused, reset, closed mid-answer: LINE would redeliver
        return None


def steady_load(url: str, fake, status: dict, lock: threading.Lock, stop: threading.Event,
                posted_at: list[float] | None = None) -> None:
    """One user after another, four messages each, one every 0.1 s, until ``stop``: a steady
    load, not a flood (the machine has 2 cores). Records each event's HTTP status."""
    while not stop.is_set():
        user = webhooks.make_user_id()
        for text in TEXTS[:4]:
            ev = webhooks.text_event(user, text, reply_token=fake.issue_reply_token(user, ttl=600))
            code = post_event(url, [ev])
            with lock:
                status[ev["webhookEventId"]] = code
                if posted_at is not None:
                    posted_at.append(time.monotonic())
            if stop.wait(0.1):
                return


def server_env(tmp_path: Path, fake, **extra: str) -> dict[str, str]:
    env = {
        "NINBAI_DATABASE": str(tmp_path / "ninbai.db"),
        "NINBAI_SECRET_KEY": "drill",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": fake.url,
    }
    env.update(extra)
    return env


def read_db(path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(sqlite3.connect(path))


def assert_answered_exactly_once(db: sqlite_utils.Database, fake, event_ids: set[str]) -> dict:
    """Each event: stored once, processed once, one send, delivered exactly once at LINE."""
    inbox = list(db.query("select id, event_id, status, user_key from inbox"))
    stored = collections.Counter(r["event_id"] for r in inbox)
    assert set(stored) == event_ids, "events lost or invented"
    assert max(stored.values()) == 1
    assert {r["status"] for r in inbox} == {"done"}, collections.Counter(r["status"] for r in inbox)
    inbound = collections.Counter(
        r["event_id"] for r in db.query("select event_id from messages where direction = 'in'")
    )
    assert set(inbound) == event_ids and max(inbound.values()) == 1, "an inbound message doubled"
    sends = list(db.query("select inbox_id, status, method, reply_token, retry_key from outbox"))
    per_event = collections.Counter(s["inbox_id"] for s in sends)
    assert len(per_event) == len(inbox) and max(per_event.values()) == 1, "an answer queued twice"
    assert {s["status"] for s in sends} == {"sent"}
    deliveries = fake.deliveries
    by_token = collections.Counter(d["reply_token"] for d in deliveries if d["kind"] == "reply")
    by_key = collections.Counter(d["retry_key"] for d in deliveries if d["kind"] == "push")
    assert not by_token or max(by_token.values()) == 1, "a reply token delivered twice"
    assert not by_key or max(by_key.values()) == 1, "a retry key delivered twice"
    for s in sends:  # every queued answer reached the user once (by reply or by push)
        assert by_token.get(s["reply_token"], 0) + by_key.get(s["retry_key"], 0) == 1, s
    assert len(deliveries) == len(sends), (len(deliveries), len(sends))
    per_user_db = collections.Counter(r["user_key"].split(":", 1)[1] for r in inbox)
    per_user_line = collections.Counter(d["to"] for d in deliveries)
    assert per_user_line == per_user_db
    assert fake.errors == []
    return {
        "events": len(inbox),
        "deliveries": len(deliveries),
        "replies": sum(by_token.values()),
        "pushes": sum(by_key.values()),
        "duplicates": 0,
    }


def assert_clean_log(text: str) -> None:
    for bad in BAD_LOG_LINES:
        assert bad not in text, f"{bad!r} in the server log:\n" + "\n".join(
            line for line in text.splitlines() if bad in line
        )[:3000]


# ---------------------------------------------------------------------------
# drill 1: SIGKILL of gunicorn (master and workers) in the middle of 1,000 events
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_drill_sigkill_gunicorn_under_load(tmp_path, fake_line):
    n_users, per_user = 100, 10
    env = server_env(
        tmp_path, fake_line,
        NINBAI_WEB_WORKERS="2", NINBAI_WEB_THREADS="4",
        NINBAI_REPLY_TOKEN_TTL="3",  # answers that waited longer go out as pushes
        NINBAI_LOADING_AFTER_SECONDS="100",  # keep the fake's log to the answers
    )
    log = tmp_path / "server.log"
    started = time.monotonic()
    server = GunicornProcess(env, log_path=log).start(timeout=60)
    assert len(server.pids()) == 3  # master + 2 web processes (each with its worker thread)
    users = [webhooks.make_user_id() for _ in range(n_users)]
    events = {
        u: [webhooks.text_event(u, TEXTS[i], reply_token=fake_line.issue_reply_token(u, ttl=600))
            for i in range(per_user)]
        for u in users
    }
    # A few answers hang in "LINE" for 2 s: the kill catches sends in flight.
    fake_line.delay_next(6, 2.0, path_prefix="/v2/bot/message/reply")
    status: dict[str, int | None] = {}
    lock = threading.Lock()
    killed = threading.Event()
    kill_at = 450

    def send_user(user: str) -> None:
        for ev in events[user]:
            code = post_event(server.url, [ev])
            with lock:
                status[ev["webhookEventId"]] = code
                accepted = sum(1 for c in status.values() if c == 200)
                kill_now = accepted >= kill_at and not killed.is_set()
                if kill_now:
                    killed.set()
            if kill_now:
                server.kill()  # SIGKILL to the process group: master and workers

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(send_user, users))
    server.kill()
    killed_after = time.monotonic() - started
    accepted = {e for e, c in status.items() if c == 200}
    failed = {e for e, c in status.items() if c != 200}
    answered_before = len(fake_line.deliveries)
    assert killed.is_set() and failed, "the kill came too late to matter"
    assert answered_before < len(accepted), "no accepted work was left behind"
    assert all(c in (200, None) or c >= 500 for c in status.values()), collections.Counter(status.values())

    time.sleep(1.0)
    # What the kill cut off mid-work (claimed, or answered but not yet delivered): how
    # much there is depends on the machine's speed, so the log's word is checked only then.
    with closing(sqlite3.connect(tmp_path / "ninbai.db")) as conn:
        in_flight = conn.execute(
            "select count(*) from inbox where status in ('processing', 'delivering')").fetchone()[0]
    restarted = GunicornProcess(env, port=server.port, log_path=log).start(timeout=60)
    try:
        # LINE redelivers every event it got no 200 for: same webhookEventId, isRedelivery.
        redeliver = [webhooks.redelivered(ev) for u in users for ev in events[u]
                     if ev["webhookEventId"] in failed]
        # and, for good measure, a few it did get a 200 for (a lost answer on its side)
        redeliver += [webhooks.redelivered(ev) for u in users[:5] for ev in events[u][:2]
                      if ev["webhookEventId"] in accepted]
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(lambda ev: post_event(restarted.url, [ev]), redeliver))
        assert set(codes) == {200}, collections.Counter(codes)
        total = n_users * per_user
        fake_line.wait_for(lambda: len(fake_line.deliveries) >= total, timeout=120)
        time.sleep(1.5)  # anything doubled would show up now
    finally:
        restarted.stop()
    elapsed = time.monotonic() - started
    db = read_db(tmp_path / "ninbai.db")
    all_ids = {ev["webhookEventId"] for u in users for ev in events[u]}
    figures = assert_answered_exactly_once(db, fake_line, all_ids)
    assert figures["pushes"] > 0 and figures["replies"] > 0
    answers = collections.Counter(d["to"] for d in fake_line.deliveries)
    assert set(answers.values()) == {per_user} and len(answers) == n_users
    text = log.read_text()
    assert in_flight == 0 or "recovered" in text, in_flight
    assert_clean_log(text)
    print(f"\nDRILL1 sigkill: accepted_before_kill={len(accepted)} failed_posts={len(failed)} in_flight={in_flight} "
          f"answered_before_kill={answered_before} killed_at={killed_after:.1f}s {figures} "
          f"redelivered={len(redeliver)} time={elapsed:.1f}s")


# ---------------------------------------------------------------------------
# drill 2: LINE answers 429 and 500 for a while, then times out
# ---------------------------------------------------------------------------


def _pushes_by_key(fake) -> dict[str, list[dict]]:
    tries: dict[str, list[dict]] = collections.defaultdict(list)
    for r in fake.requests:
        if r["path"] == "/v2/bot/message/push":
            key = {k.lower(): v for k, v in r["headers"].items()}.get("x-line-retry-key")
            tries[key].append(r)
    return tries


@pytest.mark.slow
def test_drill_line_429_500_then_timeouts(make_app, fake_line, caplog):
    from tests.conftest import LineHelper

    caplog.set_level(logging.INFO)
    # Every answer goes out as a push (tokens count as stale at once); LINE calls time out after 1 s.
    app = make_app(REPLY_TOKEN_TTL=0.0, LINE_TIMEOUT=1.0, LINE_RETRIES=2)
    line = LineHelper(app, fake_line)
    push = "/v2/bot/message/push"
    started = time.monotonic()

    # phase 1: LINE is overloaded (429), then broken (500)
    fake_line.fail_next(5, 429, push)
    fake_line.fail_next(5, 500, push)
    first = [webhooks.make_user_id() for _ in range(6)]
    for u in first:
        line.say(u, "3ヶ月滞納しています")
    fake_line.wait_for(lambda: len(fake_line.deliveries) >= len(first), timeout=60)

    # phase 2: LINE accepts but answers later than our timeout (it still delivers)
    fake_line.delay_next(3, 2.5, push)
    second = [webhooks.make_user_id() for _ in range(3)]
    for u in second:
        line.say(u, "督促状が届きました")
    fake_line.wait_for(lambda: len(fake_line.deliveries) >= len(first) + len(second), timeout=60)
    line.idle(30)
    time.sleep(3.0)  # a late request still held by "LINE" lands now: it must not double

    storage = app.extensions["ninbai"].storage
    sends = list(storage.db.query("select retry_key, status, attempts from outbox"))
    assert len(sends) == len(first) + len(second) and {s["status"] for s in sends} == {"sent"}
    deliveries = fake_line.deliveries
    assert collections.Counter(d["to"] for d in deliveries) == {u: 1 for u in first + second}
    delivered_keys = collections.Counter(d["retry_key"] for d in deliveries)
    assert set(delivered_keys) == {s["retry_key"] for s in sends}
    assert max(delivered_keys.values()) == 1  # nothing doubled
    statuses = collections.Counter(a["status"] for a in fake_line.attempts if a["path"] == push)
    assert statuses[429] == 5 and statuses[500] == 5, statuses
    assert statuses[409] >= 1, statuses  # a retry after a timeout: LINE had it already, no repeat
    tries = _pushes_by_key(fake_line)
    assert set(tries) == {s["retry_key"] for s in sends}  # every try carried its send's key
    retried = {k: v for k, v in tries.items() if len(v) > 1}
    assert len(retried) >= 2
    # backoff: within a call urllib3's Retry (at once, then 0.5 s); then the outbox waits 2 s
    longest = max(retried.values(), key=len)
    gaps = [b["at"] - a["at"] for a, b in zip(longest, longest[1:], strict=False)]
    assert max(gaps) >= 0.4, gaps
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert any("next try in" in m for m in logged) or max(gaps) < 1.5, logged[-20:]
    assert fake_line.errors == []
    print(f"\nDRILL2 line-faults: events={len(sends)} deliveries={len(deliveries)} duplicates=0 "
          f"failures={dict(statuses)} tries={sum(len(v) for v in tries.values())} "
          f"longest_gaps={[round(g, 2) for g in gaps]} time={time.monotonic() - started:.1f}s")


# ---------------------------------------------------------------------------
# drill 3: the disk full, the database read-only
# ---------------------------------------------------------------------------


def _inbox_ids(path: str) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("select event_id from inbox")}


def _big_text_event(user: str, fake) -> dict:
    # ~4,900 characters: its row needs new pages (a small event could fit in a page's free space)
    text = "競売開始決定が届きました。" * 370
    return webhooks.text_event(user, text, reply_token=fake.issue_reply_token(user))


def _assert_refused_then_redelivered(line, fake, caplog, ev: dict, why: str) -> None:
    path = line.services.storage.path
    response = line.post([ev])
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.is_json and response.json["message"]
    assert ev["webhookEventId"] not in _inbox_ids(path), "a 5xx for a stored event"
    errors = [r for r in caplog.records
              if r.levelno == logging.ERROR and r.getMessage().startswith("webhook not stored: ")]
    assert errors and why in errors[-1].getMessage(), caplog.text[-2000:]
    return None


@pytest.mark.slow
def test_drill_disk_full_and_read_only_answer_503_and_redelivery_works(make_app, fake_line, caplog):
    from tests.conftest import LineHelper

    caplog.set_level(logging.INFO)
    app = make_app()
    line = LineHelper(app, fake_line)
    storage = line.services.storage
    user = webhooks.make_user_id()
    line.say(user, "こんにちは")
    line.idle()
    answered = len(fake_line.deliveries)

    # (a) disk full. SQLite's own limit on the database size, on the connection the
    # request thread writes with (the Flask test client serves in this thread): the
    # insert fails with SQLITE_FULL, "database or disk is full" -- the very error a
    # full disk gives. (test_drill_disk_full_on_a_tiny_tmpfs fills a real filesystem.)
    db = storage.db
    pages = db.execute("pragma page_count").fetchone()[0]
    db.execute(f"pragma max_page_count = {pages}")
    # and full to the last byte: free pages and free space in pages (left by any delete,
    # e.g. the rate limiter's) would otherwise take a small row
    db.execute("create table drill_filler (x blob)")
    for size in (4000, 1000, 250, 60, 15, 1):
        with contextlib.suppress(sqlite3.OperationalError):  # "database or disk is full"
            for _ in range(10_000):
                db.execute("insert into drill_filler values (zeroblob(?))", [size])
    ev = _big_text_event(user, fake_line)
    _assert_refused_then_redelivered(line, fake_line, caplog, ev, "database or disk is full")
    web = app.test_client()
    web.get("/")
    token = web.get("/").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    r = web.post("/chat/api/events", json={"type": "text", "text": "滞納しています。" * 240},
                 headers={"X-CSRFToken": token})
    assert r.status_code == 503 and r.json["error"]
    assert "web chat event not stored: OperationalError: database or disk is full" in caplog.text
    db.execute("pragma max_page_count = 1073741823")  # space again
    assert line.post([webhooks.redelivered(ev)]).status_code == 200
    line.idle()

    # (b) read-only: the request thread's connection opened read-only (what a
    # read-only mount or file gives; chmod does not stop root, which runs CI here)
    writable = storage._local.db
    storage._local.db = sqlite_utils.Database(
        sqlite3.connect(f"file:{storage.path}?mode=ro", uri=True, isolation_level=None,
                        check_same_thread=False))
    try:
        ev2 = webhooks.text_event(user, "はい", reply_token=fake_line.issue_reply_token(user))
        _assert_refused_then_redelivered(line, fake_line, caplog, ev2, "readonly database")
    finally:
        storage._local.db.close()
        storage._local.db = writable
    assert line.post([webhooks.redelivered(ev2)]).status_code == 200
    line.idle()
    # each refused event was answered once, after LINE redelivered it
    mine = [d for d in fake_line.deliveries if d["to"] == user]
    assert len(mine) == answered + 2
    assert sorted(_inbox_ids(storage.path) & {ev["webhookEventId"], ev2["webhookEventId"]}) == sorted(
        {ev["webhookEventId"], ev2["webhookEventId"]})
    assert fake_line.errors == []


@pytest.mark.slow
def test_drill_disk_full_on_a_tiny_tmpfs(tmp_path, make_app, fake_line, caplog):
    """A real full filesystem: a 2 MB tmpfs, filled up (needs root; skipped elsewhere)."""
    from tests.conftest import LineHelper

    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode()[:200]}")
    caplog.set_level(logging.INFO)
    app = None
    try:
        app = make_app(DATABASE=str(mnt / "ninbai.db"))
        line = LineHelper(app, fake_line)
        storage = line.services.storage
        user = webhooks.make_user_id()
        line.say(user, "こんにちは")
        line.idle()
        storage.db.execute("pragma wal_checkpoint(TRUNCATE)")  # the WAL must grow to take a write
        filler = mnt / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:  # ENOSPC: the disk is full
                pass
        ev = _big_text_event(user, fake_line)
        _assert_refused_then_redelivered(line, fake_line, caplog, ev, "database or disk is full")
        filler.unlink()
        assert line.post([webhooks.redelivered(ev)]).status_code == 200
        line.idle()
        assert len([d for d in fake_line.deliveries if d["to"] == user]) == 2
    finally:
        if app is not None:
            app.extensions["ninbai"].worker.stop()
            app.extensions["ninbai"].storage.close_thread_connection()
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


# ---------------------------------------------------------------------------
# drill 1b: one web process (and its worker thread) killed under load: the master
# starts a new one, which takes back what the dead one left
# ---------------------------------------------------------------------------


def web_pids(server: GunicornProcess) -> set[int]:
    return set(server.pids()) - {server.proc.pid}


@pytest.mark.slow
def test_drill_sigkill_one_web_process_master_restarts_it(tmp_path, fake_line):
    n_users, per_user = 40, 6
    env = server_env(tmp_path, fake_line, NINBAI_WEB_WORKERS="2", NINBAI_WEB_THREADS="4",
                     NINBAI_LOADING_AFTER_SECONDS="100")
    log = tmp_path / "server.log"
    server = GunicornProcess(env, log_path=log).start(timeout=60)
    try:
        before = web_pids(server)
        assert len(before) == 2
        users = [webhooks.make_user_id() for _ in range(n_users)]
        events = [webhooks.text_event(u, TEXTS[i], reply_token=fake_line.issue_reply_token(u, ttl=600))
                  for i in range(per_user) for u in users]
        # Answers hang in "LINE" for a while: the kill catches some in flight.
        fake_line.delay_next(5, 1.5, path_prefix="/v2/bot/message/reply")
        half = len(events) // 2
        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(lambda ev: post_event(server.url, [ev]), events[:half]))
            fake_line.wait_for(lambda: any(r["path"].endswith("/reply") for r in fake_line.requests))
            victim = min(before)
            os.kill(victim, 9)
            codes += list(pool.map(lambda ev: post_event(server.url, [ev]), events[half:]))
            # A request cut off with the process got no 200: LINE sends it again.
            lost = [ev for ev, c in zip(events, codes, strict=True) if c != 200]
            codes = [c for c in codes if c == 200] + list(
                pool.map(lambda ev: post_event(server.url, [webhooks.redelivered(ev)]), lost))
        assert set(codes) == {200}, collections.Counter(codes)
        deadline = time.monotonic() + 60
        while len(web_pids(server) - {victim}) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        after = web_pids(server)
        fake_line.wait_for(lambda: len(fake_line.deliveries) >= len(events), timeout=120)
        time.sleep(1.0)  # anything doubled would show up now
    finally:
        server.stop()
    assert victim not in after and len(after) == 2  # the master started a new one
    db = read_db(tmp_path / "ninbai.db")
    figures = assert_answered_exactly_once(db, fake_line, {e["webhookEventId"] for e in events})
    dead_claims = [r for r in db.query("select attempts, claimed_by from inbox")
                   if r["claimed_by"].split(":")[1] == str(victim)]
    text = log.read_text()
    assert_clean_log(text)
    print(f"\nDRILL1b one web process killed: {figures} claimed_by_the_dead_one={len(dead_claims)} "
          f"recovered={'recovered' in text} lost_posts={len(lost)}")


# ---------------------------------------------------------------------------
# drill 4: several processes claim from one database
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_drill_two_processes_one_database_no_double_processing(tmp_path, fake_line):
    """The two web processes' worker threads claim from one inbox."""
    n_users, per_user = 80, 5
    env = server_env(tmp_path, fake_line, NINBAI_WEB_WORKERS="2", NINBAI_WEB_THREADS="4",
                     NINBAI_LOADING_AFTER_SECONDS="100", NINBAI_WORKER_BATCH="4")
    log = tmp_path / "server.log"
    started = time.monotonic()
    server = GunicornProcess(env, log_path=log).start(timeout=60)
    try:
        users = [webhooks.make_user_id() for _ in range(n_users)]
        events = [webhooks.text_event(u, TEXTS[i], reply_token=fake_line.issue_reply_token(u, ttl=600))
                  for i in range(per_user) for u in users]
        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            codes = list(pool.map(lambda ev: post_event(server.url, [ev]), events))
        assert set(codes) == {200}, collections.Counter(codes)
        fake_line.wait_for(lambda: len(fake_line.deliveries) >= len(events), timeout=120)
        time.sleep(1.0)
    finally:
        server.stop()
    db = read_db(tmp_path / "ninbai.db")
    figures = assert_answered_exactly_once(db, fake_line, {e["webhookEventId"] for e in events})
    claims = list(db.query("select attempts, claimed_by from inbox"))
    assert {c["attempts"] for c in claims} == {1}  # claimed once each: never processed twice
    pids = {c["claimed_by"].split(":")[1] for c in claims}
    assert len(pids) == 2, pids  # both processes did work
    assert_clean_log(log.read_text())
    print(f"\nDRILL4 two-processes: {figures} claims_per_process="
          f"{dict(collections.Counter(c['claimed_by'].split(':')[1] for c in claims))} "
          f"time={time.monotonic() - started:.1f}s")
