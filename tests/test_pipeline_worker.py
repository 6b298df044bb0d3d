"""The pipeline's process model: one worker thread per process, woken in-process
by a webhook, polling for other processes' events, recovering dead workers' events,
running the periodic tasks; under gunicorn, the web processes answer.

Real parts: a SQLite file, the fake LINE server, real processes.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest

from bot.storage import Storage
from bot.worker import HOST
from tests.conftest import LineHelper
from tests.support import webhooks
from tests.test_pipeline_claiming import inbox_event


def test_one_worker_thread_woken_at_once_by_a_webhook_runs_the_periodic_tasks(make_app, fake_line):
    before = set(threading.enumerate())
    # A poll so slow that only the in-process wake-up can explain a prompt answer.
    app = make_app(WORKER_POLL=60)
    services = app.extensions["ninbai"]
    started = set(threading.enumerate()) - before
    assert [t.name for t in started] == ["ninbai-worker"]  # the only thread the app starts
    ran_in: list[str] = []
    services.worker.periodic.append(lambda: ran_in.append(threading.current_thread().name))
    line = LineHelper(app, fake_line)
    user = webhooks.make_user_id()
    line.say(user, "こんにちは")
    fake_line.wait_for(lambda: fake_line.messages_to(user), timeout=20)
    time.sleep(1.1)  # the periodic tasks run on the loop's next turn a second later
    line.say(user, "3ヶ月滞納しています")  # woken again at once (its wait is a minute)
    fake_line.wait_for(lambda: len(fake_line.deliveries) == 2, timeout=20)
    assert ran_in and set(ran_in) == {"ninbai-worker"}
    beat = services.storage.db.execute("select value from meta where key = 'ops:worker_heartbeat'").fetchone()
    assert beat and float(beat[0]) > time.time() - 60  # the heartbeat, from the same loop
    services.worker.stop()
    assert not [t for t in threading.enumerate() if t.name == "ninbai-worker"]


def test_events_another_process_accepted_are_picked_up_by_the_poll(make_app, fake_line):
    worker_app = make_app(WORKER_POLL=0.2)
    # The other process: it accepts the webhook; its own worker is not running.
    web_app = make_app(START_WORKER=False)
    user = webhooks.make_user_id()
    LineHelper(web_app, fake_line).say(user, "こんにちは")
    fake_line.wait_for(lambda: fake_line.messages_to(user), timeout=20)
    claimed_by = worker_app.extensions["ninbai"].storage.db.execute("select claimed_by from inbox").fetchone()[0]
    assert claimed_by.startswith(f"{HOST}:")


def test_claims_of_a_dead_process_are_recovered_without_a_restart(make_app, fake_line):
    app = make_app(START_WORKER=False)
    services = app.extensions["ninbai"]
    services.worker.recover_every = 0.3
    services.worker.start()  # nothing to recover yet
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is gone
    user = webhooks.make_user_id()
    body = json.dumps({"text": "こんにちは", "mode": "active"})
    services.storage.accept_events([inbox_event(user, "こんにちは", 0, status="processing", body=body,
                                                reply_token=fake_line.issue_reply_token(user))])
    services.storage.db.execute("update inbox set claimed_by = ?, claimed_at = ?, attempts = 1",
                                [f"{HOST}:{dead.pid}:gone:0", time.time()])
    fake_line.wait_for(lambda: fake_line.messages_to(user), timeout=20)
    assert services.worker.drain(10)
    row = services.storage.db.execute("select status, attempts from inbox").fetchone()
    assert row == ("done", 2)  # taken back once and answered
    assert len(fake_line.deliveries) == 1


# ---------------------------------------------------------------------------
# under gunicorn (make serve): the web processes answer
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_web_chat_under_gunicorn_is_answered_by_the_web_processes(tmp_path):
    import http.cookiejar
    import urllib.request

    from tests.support.server import GunicornProcess

    env = {"NINBAI_DATABASE": str(tmp_path / "ninbai.db"), "NINBAI_SECRET_KEY": "serve"}
    log = tmp_path / "server.log"
    server = GunicornProcess(env, log_path=log).start(timeout=60)
    try:
        web = set(server.pids()) - {server.proc.pid}
        assert len(web) == 2  # the master's only children: no event process, no other child
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
    assert "Traceback" not in log.read_text()
    claims = {int(r[0].split(":")[1]) for r in Storage(tmp_path / "ninbai.db").db.execute(
        "select claimed_by from inbox")}
    assert claims and claims <= web  # answered by a web process's worker thread


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
    # The web processes of `make serve` start together on a file that does not
    # exist yet. Switching it to WAL needs the file to itself, and SQLite then
    # says "database is locked" without waiting: once, in CI, a web process
    # failed to boot and gunicorn stopped (exit 3).
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    outcomes = []
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        for attempt in range(12):
            path = str(tmp_path / f"fresh-{attempt}.db")
            outcomes += pool.starmap(_open_and_migrate, [(path, manager.Barrier(4))] * 4)
    assert outcomes == ["wal"] * 48
