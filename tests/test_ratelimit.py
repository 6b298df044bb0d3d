"""One rate limiter for every process (bot/ratelimit.py): counts in the SQLite file.

Two ``create_app`` on one database file stand for two gunicorn processes: the login
lockout and the web chat's limit hold across them.
"""
from __future__ import annotations

import re

from bot import auth, migrations, ratelimit
from bot.channels import web
from bot.storage import Storage
from tests.test_console_helpers import PASSWORD, login, make_user


def _storage(tmp_path) -> Storage:
    storage = Storage(tmp_path / "rl.db")
    migrations.migrate(storage.db)
    return storage


def test_a_window_allows_limit_hits_then_says_how_long_to_wait(tmp_path):
    db = _storage(tmp_path).db
    t = 1_000_000.0
    assert [ratelimit.hit(db, "k", 3, 60, now=t + i) for i in range(3)] == [(True, 0)] * 3
    assert ratelimit.peek(db, "k", 3, now=t + 3) == (False, 57)
    assert ratelimit.hit(db, "k", 3, 60, now=t + 10) == (False, 50)
    assert ratelimit.hit(db, "k", 3, 60, now=t + 59.5) == (False, 1)
    assert ratelimit.hit(db, "other", 3, 60, now=t + 10) == (True, 0)  # keys are apart
    # the window ends: a new one starts with this hit
    assert ratelimit.hit(db, "k", 3, 60, now=t + 60) == (True, 0)
    assert db.execute("select hits, ends_at from rate_limits where key = 'k'").fetchone() == (1, t + 120)
    ratelimit.reset(db, "k")
    assert ratelimit.peek(db, "k", 1, now=t + 61) == (True, 0)


def test_ended_windows_are_pruned_when_a_new_window_starts(tmp_path):
    db = _storage(tmp_path).db
    t = 2_000_000.0
    for i in range(50):
        ratelimit.hit(db, f"idle-{i}", 5, 10, now=t)
    ratelimit.hit(db, "busy", 5, 100, now=t)
    ratelimit.hit(db, "busy", 5, 100, now=t + 20)  # same window: nothing pruned yet
    assert db["rate_limits"].count == 51
    ratelimit.hit(db, "new", 5, 10, now=t + 20)
    assert sorted(r[0] for r in db.execute("select key from rate_limits")) == ["busy", "new"]


def test_two_connections_share_one_count(tmp_path):
    """What two processes do: their own connection each, one file."""
    a, b = _storage(tmp_path), Storage(tmp_path / "rl.db")
    results = [ratelimit.hit((a if i % 2 else b).db, "visitor", 4, 60)[0] for i in range(6)]
    assert results == [True, True, True, True, False, False]
    a.close()
    b.close()


def _from(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_the_login_lockout_holds_across_two_processes(make_app):
    one, two = make_app(), make_app(START_WORKER=False)  # one database file
    assert one.config["DATABASE"] == two.config["DATABASE"]
    make_user(one, "op1", "operator")
    statuses = [login(_from(one if i % 2 else two, f"10.0.0.{i}"), "op1", "wrong-password-123").status_code
                for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    for app in (one, two):
        blocked = login(_from(app, "10.0.9.9"), "op1", PASSWORD)  # even the right password
        assert blocked.status_code == 429
        assert auth.TOO_MANY in blocked.get_data(as_text=True)
        assert 0 < int(blocked.headers["Retry-After"]) <= auth.FAIL_WINDOW
    # an address that guessed five logins is stopped in the other process too
    for i in range(5):
        login(_from(one, "192.0.2.50"), f"guess{i}", "nope-nope-nope")
    assert login(_from(two, "192.0.2.50"), "someone-else", "x" * 12).status_code == 429


def _chat(app):
    client = app.test_client()
    page = client.get("/")
    client.token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client


def test_the_web_chat_limit_holds_across_two_processes(make_app):
    one, two = make_app(), make_app(START_WORKER=False)
    a = _chat(one)
    b = _chat(two)
    b.set_cookie(web.COOKIE, a.get_cookie(web.COOKIE).value)  # one visitor, answered by either process
    answers = [(a if i % 2 else b).post("/chat/api/events", json={"type": "text", "text": f"相談です{i}"},
                                        headers={"X-CSRFToken": (a if i % 2 else b).token})
               for i in range(web.RATE_MAX + 1)]
    assert [r.status_code for r in answers] == [202] * web.RATE_MAX + [429]
    refused = answers[-1]
    assert refused.get_json() == {"error": "少し時間をおいてから送ってください"}
    assert 1 <= int(refused.headers["Retry-After"]) <= web.RATE_WINDOW
    storage = one.extensions["ninbai"].storage
    assert storage.db.execute("select count(*) from inbox where channel = 'web'").fetchone()[0] == web.RATE_MAX
    # another visitor is not held up
    other = _chat(two)
    assert other.post("/chat/api/events", json={"type": "start"},
                      headers={"X-CSRFToken": other.token}).status_code == 202
