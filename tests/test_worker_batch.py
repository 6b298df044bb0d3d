"""The batch loop (group commit), the event process and its wake socket, prepared LINE requests.

Real parts throughout: a SQLite file, the fake LINE server (validating every
request against LINE's OpenAPI description), real sockets, a real
``flask --app app worker`` process.
"""
from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from linebot.v3.messaging import ApiClient, Configuration, PushMessageRequest, ReplyMessageRequest

from bot import create_app
from bot.channels import line_render
from bot.channels.line_api import PreparedPush, PreparedReply
from bot.storage import Storage, dumps
from bot.wake import Listener, Nudger
from tests.conftest import SECRET, TOKEN, app_config
from tests.support import webhooks

ROOT = Path(__file__).resolve().parent.parent


def _event(user: str, text: str, n: int) -> dict:
    return {"event_id": f"ev-{user}-{n}", "channel": "line", "user_key": f"line:{user}", "kind": "text",
            "body": dumps({"text": text}), "reply_token": None, "received_at": time.time()}


# ---------------------------------------------------------------------------
# claiming a batch
# ---------------------------------------------------------------------------


def test_claim_events_takes_one_event_per_user_in_order_up_to_the_limit(tmp_path):
    storage = Storage(tmp_path / "t.db")
    storage.migrate()
    storage.accept_events([_event(u, "はい", n) for n in range(3) for u in ("U1", "U2", "U3")])
    first = storage.claim_events("w", limit=2)
    assert [r["event_id"] for r in first] == ["ev-U1-0", "ev-U2-0"]
    second = storage.claim_events("w", limit=10)
    assert [r["event_id"] for r in second] == ["ev-U3-0"]  # U1 and U2 have one in flight
    assert storage.claim_events("w", limit=10) == []
    # Finishing U1's event (with the next claim, in one transaction) frees U1's next one.
    storage.set_event_status(first[0]["id"], "delivering")
    third = storage.claim_events("w", limit=10, finishes=[(None, first[0]["id"], {})])
    assert [r["event_id"] for r in third] == ["ev-U1-1"]
    assert storage.db.execute("select status from inbox where id = ?", [first[0]["id"]]).fetchone()[0] == "done"


def test_claim_events_from_many_threads_never_claims_twice(tmp_path):
    path = tmp_path / "t.db"
    storage = Storage(path)
    storage.migrate()
    storage.accept_events([_event(f"U{u}", "はい", n) for n in range(5) for u in range(40)])

    def claimer(i: int) -> list[str]:
        mine, s = [], Storage(path)
        while True:
            rows = s.claim_events(f"w{i}", limit=7)
            if not rows and not s.has_pending_events():
                break
            for r in rows:
                mine.append(r["event_id"])
                s.set_event_status(r["id"], "done")
        s.close()
        return mine

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        claimed = [e for part in pool.map(claimer, range(6)) for e in part]
    assert len(claimed) == 200 and len(set(claimed)) == 200
    attempts = {r[0] for r in storage.db.execute("select attempts from inbox")}
    assert attempts == {1}


# ---------------------------------------------------------------------------
# one transaction per batch, one savepoint per event
# ---------------------------------------------------------------------------


def test_a_failing_event_is_rolled_back_alone_and_retried(make_app, fake_line):
    app = make_app(START_WORKER=False)
    services = app.extensions["ninbai"]
    users = [webhooks.make_user_id() for _ in range(3)]
    events = [webhooks.text_event(u, "3ヶ月滞納しています", reply_token=fake_line.issue_reply_token(u))
              for u in users]
    raw, headers = webhooks.request(events, SECRET)
    assert app.test_client().post("/callback", data=raw, headers=headers).status_code == 200

    real_apply = services.engine._apply
    broken = users[1]

    def apply(row, *args):
        out = real_apply(row, *args)  # its writes happen, then it fails: all must be undone
        if row["user_key"].endswith(broken):
            raise RuntimeError("boom")
        return out

    services.engine._apply = apply
    assert services.worker.run_batch("w") == 3
    storage = services.storage
    status = {r["user_key"].split(":")[1]: (r["status"], r["attempts"], r["error"])
              for r in storage.db.query("select user_key, status, attempts, error from inbox")}
    assert status[broken] == ("pending", 1, "RuntimeError: boom")  # given back
    assert {status[u][0] for u in users if u != broken} == {"delivering"}
    rows = list(storage.db.query("select c.external_id, count(m.id) as n from contacts c"
                                 " left join messages m on m.contact_id = c.id group by c.id"))
    per_user = {r["external_id"]: r["n"] for r in rows}
    assert per_user.get(broken, 0) == 0  # nothing of the failed event was kept
    assert all(per_user[u] == 2 for u in users if u != broken)  # question + answer

    services.engine._apply = real_apply
    services.worker.start()
    assert services.worker.drain(15)
    assert sorted(d["to"] for d in fake_line.deliveries) == sorted(users)


def test_a_failing_hook_keeps_the_batch(make_app, fake_line, caplog):
    app = make_app(START_WORKER=False)
    services = app.extensions["ninbai"]

    def bad_hook(conv, signals):
        services.storage.db.execute("insert into alerts (conversation_id, kind, created_at, notified)"
                                    " values (?, 'x', 'now', '{}')", [conv["id"]])
        raise ValueError("hook down")

    services.engine.hooks.insert(0, bad_hook)
    user = webhooks.make_user_id()
    raw, headers = webhooks.request(
        [webhooks.text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token(user))], SECRET)
    app.test_client().post("/callback", data=raw, headers=headers)
    assert services.worker.run_batch("w") == 1
    db = services.storage.db
    assert db.execute("select count(*) from alerts where kind = 'x'").fetchone()[0] == 0  # undone
    assert db.execute("select count(*) from messages").fetchone()[0] == 2  # the event stayed
    assert db.execute("select count(*) from funnel_events").fetchone()[0] > 0  # later hooks ran
    assert "conversation hook failed" in caplog.text


def test_sends_finished_by_senders_are_written_with_the_next_claim_and_on_stop(make_app, fake_line):
    app = make_app()
    services = app.extensions["ninbai"]
    user = webhooks.make_user_id()
    raw, headers = webhooks.request(
        [webhooks.text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token(user))], SECRET)
    app.test_client().post("/callback", data=raw, headers=headers)
    assert services.worker.drain(15)
    db = services.storage.db
    assert db.execute("select status, method from outbox").fetchall() == [("sent", "reply")]
    assert db.execute("select status from inbox").fetchall() == [("done",)]
    # A finish still in memory when the worker stops is written by stop().
    services.worker._finish_later(None, None, {})
    send_id = db.execute("select id from outbox").fetchone()[0]
    services.worker._finished.append((send_id, None, {"request_id": "on-stop"}))
    services.worker.stop()
    assert db.execute("select request_id from outbox").fetchone()[0] == "on-stop"


# ---------------------------------------------------------------------------
# the wake socket
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract sockets are Linux only")
def test_nudges_reach_the_listener_and_never_fail_without_one(tmp_path):
    db = str(tmp_path / "t.db")
    lonely = Nudger(db)
    lonely.nudge()  # nobody listens: no error
    lonely.close()
    woken = threading.Event()
    listener = Listener(db, woken.set)
    assert listener.start()
    assert not Listener(db, lambda: None).start()  # the name is taken: the second one polls
    other = Nudger(str(tmp_path / "other.db"))
    other.nudge()
    other.close()
    assert not woken.wait(0.2)  # another database's nudge does not wake it
    nudger = Nudger(db, processes=2)
    nudger.nudge()
    assert woken.wait(2)
    listener.close()
    nudger.close()


# ---------------------------------------------------------------------------
# the event process: `flask --app app worker`
# ---------------------------------------------------------------------------


def test_worker_command_answers_events_nudged_by_the_web_app_and_stops_on_sigterm(tmp_path, fake_line):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NINBAI_", "LINE_"))}
    # A poll so slow that only the nudge can explain a prompt answer.
    env.update(NINBAI_DATABASE=str(tmp_path / "ninbai.db"), NINBAI_SECRET_KEY="x", NINBAI_WORKER_POLL="60",
               LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_API_BASE_URL=fake_line.url)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert "woken by the web processes" in log.read_text()
        # The web side: no worker of its own, it nudges the event process.
        web = create_app(app_config(tmp_path, fake_line, START_WORKER=False, EVENT_PROCESSES=1))
        web.extensions["ninbai"].worker.poll = 60  # would not help anyway: another process
        user = webhooks.make_user_id()
        raw, headers = webhooks.request(
            [webhooks.text_event(user, "こんにちは", reply_token=fake_line.issue_reply_token(user))], SECRET)
        assert web.test_client().post("/callback", data=raw, headers=headers).status_code == 200
        # Woken by the nudge: its next poll would be a minute away.
        fake_line.wait_for(lambda: fake_line.messages_to(user), timeout=20)
        web.extensions["ninbai"].close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "event worker 0 stopped" in text and "Traceback" not in text
    storage = Storage(tmp_path / "ninbai.db")
    assert storage.inbox_counts() == {"done": 1}


# ---------------------------------------------------------------------------
# prepared LINE requests: the same JSON as the SDK's own models
# ---------------------------------------------------------------------------


def _answers() -> list:
    import datetime as dt

    from bot.content import load_content
    from dialogs.base import DialogInput, Session
    from dialogs.diagnosis import DiagnosisDialog

    dialog = DiagnosisDialog(load_content(ROOT / "content"))
    today = dt.date(2026, 11, 27)
    out = []
    for script in (
        [("follow", None), ("tap", "consent:yes"), ("text", "4ヶ月滞納しています"), ("text", "競売開始決定が届きました"),
         ("text", "開札は令和8年12月11日です"), ("text", "共有名義です"), ("text", "引っ越し代は出ますか？"),
         ("text", "担当の人と話したい")],
        [("follow", None), ("text", "わからない"), ("text", "やめます")],
        [("follow", None), ("tap", "consent:yes"), ("text", "4ヶ月滞納しています"), ("tap", "notice:bid_notice"),
         ("text", "開札は令和9年2月10日です"), ("tap", "own:single"), ("tap", "guarantor:no"),
         ("tap", "divorce:none"), ("tap", "lender:bank"), ("tap", "stay:no"),  # -> the result: card, table
         ("tap", "explain:keibai"),  # a table
         ("text", "引っ越し代は出ますか？"), ("text", "人と話したい"), ("tap", "contact:wait")],
    ):
        s = Session()
        for kind, value in script:
            if kind == "follow":
                inp = DialogInput(kind="follow", today=today)
            elif kind == "tap":
                inp = DialogInput(kind="postback", today=today, data=value)
            else:
                inp = DialogInput(kind="text", today=today, text=value)
            out.append(dialog.step(s, inp).answer)
    return out


def test_prepared_requests_serialize_exactly_like_the_sdk_models():
    client = ApiClient(Configuration(access_token="x"))
    answers = _answers()
    assert len(answers) >= 10
    for answer in answers:
        models = line_render.render(answer)
        prepared = line_render.render_for_send(answer)
        before = json.dumps(prepared, sort_keys=True)
        sdk_reply = client.sanitize_for_serialization(ReplyMessageRequest(replyToken="t" * 32, messages=models))
        ours = client.sanitize_for_serialization(PreparedReply.prepared(prepared, reply_token="t" * 32))
        assert ours == sdk_reply
        # what MessagingApi's argument validation does to it (a copy) keeps the messages
        copied = ReplyMessageRequest.validate(PreparedReply.prepared(prepared, reply_token="t" * 32))
        assert client.sanitize_for_serialization(copied) == sdk_reply
        sdk_push = client.sanitize_for_serialization(PushMessageRequest(to="U" + "0" * 32, messages=models))
        assert client.sanitize_for_serialization(PreparedPush.prepared(prepared, to="U" + "0" * 32)) == sdk_push
        assert json.dumps(line_render.render_for_send(answer), sort_keys=True) == before  # cache not changed


def test_answer_to_dict_is_compact_and_renders_the_same():
    """The stored form drops null, empty and default fields (issue 14) and loses nothing
    LINE gets: read back, every answer renders to the same LINE messages."""
    answers = _answers()
    assert {m.type for a in answers for m in a.messages} == {"text", "card", "table"}
    assert any(a.quick_replies for a in answers) and any(m.buttons for a in answers for m in a.messages
                                                         if m.type == "card")
    for answer in answers:
        text = json.dumps(answer.to_dict(), ensure_ascii=False)
        assert "null" not in text and '"postback"' not in text and '"info"' not in text and "[]" not in text
        again = type(answer).from_dict(json.loads(text))
        assert again.to_dict() == answer.to_dict()
        assert line_render.to_dicts(line_render.render(again)) == line_render.to_dicts(line_render.render(answer))


def test_render_for_send_builds_each_distinct_answer_once():
    line_render._render_json.cache_clear()
    answers = _answers()
    for _ in range(3):
        for answer in answers:
            line_render.render_for_send(answer)
    info = line_render._render_json.cache_info()
    distinct = len({json.dumps(a.to_dict(), sort_keys=True, ensure_ascii=False) for a in answers})
    assert info.misses == distinct and info.hits == 3 * len(answers) - distinct


# ---------------------------------------------------------------------------
# checkpoints beside the writers
# ---------------------------------------------------------------------------


def test_the_worker_checkpoints_the_wal_in_the_background(tmp_path):
    from bot.storage import WAL_AUTOCHECKPOINT_PAGES

    storage = Storage(tmp_path / "t.db")
    storage.migrate()
    assert storage.db.execute("pragma wal_autocheckpoint").fetchone()[0] == WAL_AUTOCHECKPOINT_PAGES
    storage.accept_events([_event(f"U{i}", "はい" * 200, 0) for i in range(300)])
    busy, pages, done = storage.checkpoint()
    assert busy == 0 and pages > 0 and done == pages  # nothing else was writing: all copied

    from bot.worker import Worker

    calls = []
    real = storage.checkpoint
    storage.checkpoint = lambda: calls.append(threading.current_thread().name) or real()
    worker = Worker(storage, engine=None, threads=1)
    worker.checkpoint_every = 0.05
    worker._stop.clear()
    t = threading.Thread(target=worker._checkpoint_loop, name="ninbai-checkpoint")
    t.start()
    storage.accept_events([_event(f"V{i}", "はい" * 200, 0) for i in range(300)])
    time.sleep(0.4)
    worker._stop.set()
    t.join(2)
    assert not t.is_alive()
    assert len(calls) >= 3 and set(calls) == {"ninbai-checkpoint"}
    n = len(calls)
    time.sleep(0.2)
    assert len(calls) == n  # stopped with the worker


# ---------------------------------------------------------------------------
# the web chat under make serve: answered by the event process
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_web_chat_under_gunicorn_is_answered_by_the_event_process(tmp_path):
    import http.cookiejar
    import re
    import urllib.request

    from tests.support.server import GunicornProcess

    env = {"NINBAI_DATABASE": str(tmp_path / "ninbai.db"), "NINBAI_SECRET_KEY": "serve"}
    log = tmp_path / "server.log"
    server = GunicornProcess(env, log_path=log).start(timeout=60)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(server.url + "/", timeout=10).read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

        def send(payload: dict) -> int:
            req = urllib.request.Request(server.url + "/chat/api/events", data=json.dumps(payload).encode(),
                                         method="POST", headers={"Content-Type": "application/json",
                                                                 "X-CSRFToken": token, "Referer": server.url + "/"})
            return opener.open(req, timeout=10).status

        def bot_messages(after: int = 0, at_least: int = 1) -> dict:
            deadline = time.monotonic() + 10
            while True:
                got = json.loads(opener.open(f"{server.url}/chat/api/messages?after={after}", timeout=10).read())
                if sum(m["sender"] == "bot" for m in got["messages"]) >= at_least or time.monotonic() > deadline:
                    return got
                time.sleep(0.05)

        assert send({"type": "start"}) == 202
        first = bot_messages()
        assert any(m["sender"] == "bot" for m in first["messages"]), first
        chip = first["quick_replies"][0]
        assert send({"type": "postback", "data": chip["data"], "display_text": chip["label"]}) == 202
        second = bot_messages(after=first["messages"][-1]["id"])
        assert [m["sender"] for m in second["messages"]][:2] == ["user", "bot"]
    finally:
        server.stop()
    text = log.read_text()
    assert "event worker 0" in text and "Traceback" not in text
    claims = {r[0].split(":")[1] for r in Storage(tmp_path / "ninbai.db").db.execute(
        "select claimed_by from inbox")}
    pids = re.findall(r"event process 0 started \(pid (\d+)\)", text)
    assert claims == set(pids)  # answered by the event process, not by a web process


def test_after_commit_callbacks_run_once_committed_and_never_after_a_rollback(tmp_path):
    storage = Storage(tmp_path / "t.db")
    storage.migrate()
    seen: list[str] = []
    other = Storage(tmp_path / "t.db")

    def visible(tag: str):
        # Run after the commit: another connection already sees the row.
        n = other.db.execute("select count(*) from inbox where event_id = ?", [f"ev-{tag}-0"]).fetchone()[0]
        seen.append(f"{tag}:{n}")

    with storage.write():
        storage.accept_events([_event("A", "はい", 0)])
        storage.after_commit(lambda: visible("A"))
        assert seen == []
    assert seen == ["A:1"]

    with pytest.raises(RuntimeError), storage.write():
        storage.accept_events([_event("B", "はい", 0)])
        storage.after_commit(lambda: visible("B"))
        raise RuntimeError("rolled back")
    with storage.write():
        storage.accept_events([_event("C", "はい", 0)])
        storage.after_commit(lambda: visible("C"))
        with pytest.raises(ValueError), storage.savepoint("part"):
            storage.after_commit(lambda: seen.append("inside the failed part"))
            raise ValueError("part undone")
    storage.after_commit(lambda: seen.append("outside"))  # no transaction: at once
    assert seen == ["A:1", "C:1", "outside"]
    other.close()


# ---------------------------------------------------------------------------
# a fresh database opened by several processes at once (make serve's start)
# ---------------------------------------------------------------------------


def _open_and_migrate(path: str, barrier) -> str:
    try:
        barrier.wait(10)
        storage = Storage(path)
        storage.migrate()
        return storage.journal_mode()
    except Exception as exc:  # returned, so the test shows what each process met
        return f"{type(exc).__name__}: {exc}"


def test_processes_opening_a_fresh_database_at_once_all_get_wal_and_the_schema(tmp_path):
    # The web processes and the event process of `make serve` start together on
    # a file that does not exist yet. Switching it to WAL needs the file to
    # itself, and SQLite then says "database is locked" without waiting: once,
    # in CI, a web process failed to boot and gunicorn stopped (exit 3).
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    outcomes = []
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        for attempt in range(12):
            path = str(tmp_path / f"fresh-{attempt}.db")
            outcomes += pool.starmap(_open_and_migrate, [(path, manager.Barrier(4))] * 4)
    assert outcomes == ["wal"] * 48
