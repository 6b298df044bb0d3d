"""/healthz, /readyz and /metrics (issue 15, item 4) on a real SQLite file and the fake LINE server.

Readiness failures are made for real: the event worker stopped, LINE refusing
the access token (401), a database file the service cannot write.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request


from bot.ops import health
from tests.support import webhooks
from tests.support.server import ROOT, free_port


def poll(fn, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:]+)(?:\{(.*)\})? (\S+)$", line)
        if m and m.group(1) == name:
            got = ",".join(sorted(p for p in (m.group(2) or "").split(",") if p))
            if got == want:
                return float(m.group(3))
    return 0.0


def ready(client) -> tuple[int, dict]:
    r = client.get("/readyz")
    return r.status_code, r.get_json()


def test_ready_when_answering_then_not_when_the_worker_stops(make_app, fake_line):
    app = make_app(READY_WORKER_STALE=2)
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    from tests.conftest import LineHelper

    line = LineHelper(app, fake_line)
    user = webhooks.make_user_id()
    assert line.exchange(user, "こんにちは")  # answered through the fake LINE
    assert poll(lambda: ready(client)[0] == 200), ready(client)
    status, body = ready(client)
    assert body["ok"] is True and body["checks"]["line"] == {"ok": True, "token_accepted": True}
    assert set(body["checks"]) == {"database", "schema", "worker", "queue", "outbox", "line"}

    app.extensions["ninbai"].worker.stop()  # the event worker is gone
    assert poll(lambda: ready(client)[0] == 503, timeout=30), ready(client)
    status, body = ready(client)
    assert body["checks"]["worker"]["ok"] is False and body["checks"]["worker"]["heartbeat_age"] >= 2
    assert body["checks"]["database"]["ok"] and body["checks"]["line"]["ok"]
    # An event that arrives now waits: the queue check fails once it is older than the limit.
    app.config["READY_MAX_EVENT_AGE"] = 1
    line.say(user, "まだですか")
    assert poll(lambda: not ready(client)[1]["checks"]["queue"]["ok"], timeout=30)
    assert ready(client)[1]["checks"]["queue"]["oldest_unanswered_age"] >= 1


def test_line_refusing_the_token_fails_readiness_and_is_counted(make_app, fake_line):
    app = make_app(LINE_CHANNEL_ACCESS_TOKEN="revoked-token")  # the fake LINE answers 401
    client = app.test_client()
    from tests.conftest import LineHelper

    line = LineHelper(app, fake_line)
    before = client.get("/metrics").get_data(as_text=True)
    line.say(webhooks.make_user_id(), "こんにちは")
    line.idle()
    assert poll(lambda: ready(client)[0] == 503 and not ready(client)[1]["checks"]["outbox"]["ok"]), ready(client)
    body = ready(client)[1]
    assert body["checks"]["line"] == {"ok": False, "token_accepted": False}
    assert body["checks"]["outbox"]["failed_recently"] == 1
    assert body["checks"]["worker"]["ok"] and body["checks"]["database"]["ok"]
    after = client.get("/metrics").get_data(as_text=True)
    for name, labels in (("ninbai_line_calls_total", {"call": "reply", "status": "401"}),
                         ("ninbai_line_calls_total", {"call": "push", "status": "401"}),
                         ("ninbai_outbox_failures_total", {"status": "401"})):
        assert metric(after, name, **labels) == metric(before, name, **labels) + 1, (name, labels)
    assert metric(after, "ninbai_outbox_sends", status="failed") == 1
    assert health.get_meta(app.extensions["ninbai"].storage, health.LINE_TOKEN) == "0"


def test_metrics_count_and_measure_answers(make_app, fake_line):
    app = make_app(METRICS_TOKEN="s3cret")
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    auth = {"Authorization": "Bearer s3cret"}
    before = client.get("/metrics", headers=auth).get_data(as_text=True)
    from tests.conftest import LineHelper

    line = LineHelper(app, fake_line)
    users = [webhooks.make_user_id() for _ in range(3)]
    for u in users:
        line.say(u, "こんにちは")
    line.idle()
    fake_line.wait_for(lambda: len(fake_line.deliveries) >= 3)
    after = client.get("/metrics", headers=auth).get_data(as_text=True)
    assert metric(after, "ninbai_events_received_total", channel="line") - \
        metric(before, "ninbai_events_received_total", channel="line") == 3
    answered = poll(lambda: metric(client.get("/metrics", headers=auth).get_data(as_text=True),
                                   "ninbai_answer_latency_seconds_count", channel="line")
                    - metric(before, "ninbai_answer_latency_seconds_count", channel="line") == 3)
    assert answered
    assert metric(after, "ninbai_line_calls_total", call="reply", status="200") >= 3
    assert metric(after, "ninbai_queue_depth", status="pending") == 0
    assert metric(after, "ninbai_followups_overdue") == 0
    assert "ninbai_hot_leads_waiting" in after
    # No personal data in the exposition: no user id, no text.
    assert not any(u in after for u in users) and "こんにちは" not in after


def test_metrics_without_a_token_only_from_this_machine(make_app):
    app = make_app()
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client comes from 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    # Through a proxy on this machine (X-Forwarded-For): not "this machine".
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_readiness_monitor_alerts_the_staff_once_after_a_few_minutes(make_app):
    app = make_app(START_WORKER=False)
    storage = app.extensions["ninbai"].storage
    sent: list[str] = []
    state = {"ok": False}

    def check():
        return {"ok": state["ok"], "checks": {"worker": {"ok": state["ok"]}, "database": {"ok": True}}}

    monitor = health.ReadinessMonitor(check, storage, sent.append, after=180, every=0)
    t0 = time.time() + 1000
    assert monitor(t0) is None  # failing starts
    assert monitor(t0 + 100) is None  # not yet a few minutes
    text = monitor(t0 + 181)
    assert text and "応答ワーカー" in text and "3分" in text
    # A second process (same database) does not alert again.
    other = health.ReadinessMonitor(check, storage, sent.append, after=180, every=0)
    assert other(t0 + 200) is None and monitor(t0 + 300) is None
    state["ok"] = True
    assert "戻りました" in monitor(t0 + 400)
    assert len(sent) == 2


def test_readiness_alert_goes_to_the_staff_on_line(make_app, fake_line):
    """Wiring: the worker's monitor uses the console's staff alert (LINE push to staff)."""
    staff = webhooks.make_user_id()
    app = make_app(ALERT_LINE_USER_IDS=staff, START_WORKER=False)
    services = app.extensions["ninbai"]
    monitor = next(t for t in services.worker.periodic if isinstance(t, health.ReadinessMonitor))
    monitor.every = 0
    monitor.after = 0.5
    monitor()  # no worker running: not ready; failing starts
    assert poll(lambda: monitor() is not None, timeout=10)
    texts = fake_line.wait_for(lambda: fake_line.texts_to(staff))
    assert "正常に動いていません" in texts[0] and "応答ワーカー" in texts[0]


def test_a_database_the_service_cannot_write_is_not_ready(tmp_path, make_app):
    """The classic after a restore done as root: the file belongs to someone else.

    The server (``python app.py``) may read the database file but not write it
    (mode 0444; as root, it runs without the capabilities that ignore file
    modes: ``setpriv``)."""
    app = make_app(START_WORKER=False)  # creates and migrates the database
    app.extensions["ninbai"].close()
    data = tmp_path / "ro"
    data.mkdir()
    target = data / "ninbai.db"
    shutil.copy(app.config["DATABASE"], target)
    target.chmod(0o444)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NINBAI_", "LINE_"))}
    env.update(NINBAI_DATABASE=str(target), NINBAI_SECRET_KEY="x", NINBAI_START_WORKER="0", PORT=str(port))
    argv = [sys.executable, "app.py"]
    if os.geteuid() == 0:
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", *argv]
    with open(data / "server.log", "wb") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            def get():
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                        return r.status, json.loads(r.read())
                except urllib.error.HTTPError as exc:
                    return exc.code, json.loads(exc.read())
                except OSError:
                    return None

            got = poll(get, timeout=60, interval=0.2)
            assert got, (data / "server.log").read_text()
            status, body = got
            assert status == 503
            assert body["checks"]["database"]["ok"] is False
            assert "readonly" in body["checks"]["database"]["error"]
            assert body["checks"]["schema"]["ok"] is True  # it still reads
        finally:
            proc.terminate()
            proc.wait(10)


def test_followups_overdue_counts_the_consoles_table(make_app):
    """The console's ``followups`` table (due_at UTC ISO, done_at null while open)."""
    import datetime as dt

    from bot.ops import metrics

    app = make_app(START_WORKER=False)
    storage = app.extensions["ninbai"].storage
    assert metrics.followups_overdue(storage) == 0
    now = dt.datetime.now(dt.UTC)

    def iso(delta: float) -> str:
        return (now + dt.timedelta(minutes=delta)).isoformat(timespec="milliseconds")

    for due, done in ((-30, None), (-5, None), (-60, iso(-1)), (30, None)):
        storage.db.execute("insert into followups (due_at, done_at) values (?, ?)", [iso(due), done])
    assert metrics.followups_overdue(storage) == 2
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert metric(text, "ninbai_followups_overdue") == 2
