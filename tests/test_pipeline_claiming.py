"""The pipeline, claiming and applying: one event per user in order, a batch in one
transaction with a savepoint per event, after-commit callbacks.

Real parts: a SQLite file, the app with the fake LINE server.
"""
from __future__ import annotations

import concurrent.futures
import time

import pytest

from bot.storage import Storage, dumps
from tests.conftest import SECRET
from tests.support import webhooks


def inbox_event(user: str, text: str, n: int, **extra) -> dict:
    return {"event_id": f"ev-{user}-{n}", "channel": "line", "user_key": f"line:{user}", "kind": "text",
            "body": dumps({"text": text}), "reply_token": None, "received_at": time.time(), **extra}


def test_claim_events_takes_one_event_per_user_in_order_up_to_the_limit(tmp_path):
    storage = Storage(tmp_path / "t.db")
    storage.migrate()
    storage.accept_events([inbox_event(u, "はい", n) for n in range(3) for u in ("U1", "U2", "U3")])
    first = storage.claim_events("w", limit=2)
    assert [r["event_id"] for r in first] == ["ev-U1-0", "ev-U2-0"]
    second = storage.claim_events("w", limit=10)
    assert [r["event_id"] for r in second] == ["ev-U3-0"]  # U1 and U2 have one in flight
    assert storage.claim_events("w", limit=10) == []
    # U1's answer is queued: still in flight, its next event waits.
    storage.set_event_status(first[0]["id"], "delivering")
    assert storage.claim_events("w", limit=10) == []
    # Its answer went out: U1's next event is claimable.
    storage.finish_delivering(first[0]["id"])
    third = storage.claim_events("w", limit=10)
    assert [r["event_id"] for r in third] == ["ev-U1-1"]
    assert storage.db.execute("select status from inbox where id = ?", [first[0]["id"]]).fetchone()[0] == "done"


def test_claim_events_from_many_threads_never_claims_twice(tmp_path):
    path = tmp_path / "t.db"
    storage = Storage(path)
    storage.migrate()
    storage.accept_events([inbox_event(f"U{u}", "はい", n) for n in range(5) for u in range(40)])

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
    assert services.worker.run_batch() == 3
    storage = services.storage
    status = {r["user_key"].split(":")[1]: (r["status"], r["attempts"], r["error"])
              for r in storage.db.query("select user_key, status, attempts, error from inbox")}
    assert status[broken] == ("pending", 1, "RuntimeError: boom")  # given back
    assert {status[u][0] for u in users if u != broken} == {"done"}  # applied and answered in the turn
    assert sorted(d["to"] for d in fake_line.deliveries) == sorted(u for u in users if u != broken)
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
    assert services.worker.run_batch() == 1
    db = services.storage.db
    assert db.execute("select count(*) from alerts where kind = 'x'").fetchone()[0] == 0  # undone
    assert db.execute("select count(*) from messages").fetchone()[0] == 2  # the event stayed
    assert db.execute("select count(*) from funnel_events").fetchone()[0] > 0  # later hooks ran
    assert "conversation hook failed" in caplog.text


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
        storage.accept_events([inbox_event("A", "はい", 0)])
        storage.after_commit(lambda: visible("A"))
        assert seen == []
    assert seen == ["A:1"]

    with pytest.raises(RuntimeError), storage.write():
        storage.accept_events([inbox_event("B", "はい", 0)])
        storage.after_commit(lambda: visible("B"))
        raise RuntimeError("rolled back")
    with storage.write():
        storage.accept_events([inbox_event("C", "はい", 0)])
        storage.after_commit(lambda: visible("C"))
        with pytest.raises(ValueError), storage.savepoint("part"):
            storage.after_commit(lambda: seen.append("inside the failed part"))
            raise ValueError("part undone")
    storage.after_commit(lambda: seen.append("outside"))  # no transaction: at once
    assert seen == ["A:1", "C:1", "outside"]
    other.close()
