"""Accounts, login, sessions, rate limiting, CSRF and redirects (bot/auth.py)."""
from __future__ import annotations

import time

from bot import auth
from tests.test_console_helpers import PASSWORD, csrf_token, login, logged_in, make_staff, make_user


def _client_from(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


# -- CLI ------------------------------------------------------------------------------
def test_cli_users_create_list_set_password_disable(app, runner):
    result = runner.invoke(args=["users", "create", "Yamada", "--role", "operator", "--name", "山田",
                                 "--password-stdin"], input="s3cret-passw0rd\n")
    assert result.exit_code == 0, result.output
    storage = app.extensions["ninbai"].storage
    row = storage.db.execute("select login, role, display_name, password_hash, active from users").fetchone()
    assert row[:3] == ("yamada", "operator", "山田")
    assert row[3].startswith("scrypt:"), "werkzeug's default scheme (scrypt)"
    assert "s3cret" not in row[3]

    # prompted twice without --password-stdin
    result = runner.invoke(args=["users", "create", "boss", "--role", "admin"],
                           input="another-passw0rd\nanother-passw0rd\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "create", "x", "--role", "admin"], input="short\nshort\n")
    assert result.exit_code != 0
    result = runner.invoke(args=["users", "create", "yamada", "--role", "operator", "--password-stdin"],
                           input="s3cret-passw0rd\n")
    assert result.exit_code != 0 and "すでに" in result.output

    listing = runner.invoke(args=["users", "list"])
    assert "yamada" in listing.output and "boss" in listing.output and "admin" in listing.output

    old_hash = row[3]
    result = runner.invoke(args=["users", "set-password", "yamada", "--password-stdin"],
                           input="new-passw0rd-123\n")
    assert result.exit_code == 0, result.output
    assert storage.db.execute("select password_hash from users where login='yamada'").fetchone()[0] != old_hash
    client = app.test_client()
    assert login(client, "yamada", "s3cret-passw0rd").status_code == 401
    assert login(client, "yamada", "new-passw0rd-123").status_code == 302

    assert runner.invoke(args=["users", "disable", "yamada"]).exit_code == 0
    assert storage.db.execute("select active from users where login='yamada'").fetchone()[0] == 0
    assert login(app.test_client(), "yamada", "new-passw0rd-123").status_code == 401
    assert runner.invoke(args=["users", "disable", "nobody"]).exit_code != 0


# -- login and landing pages ------------------------------------------------------------
def test_login_lands_by_role(app):
    make_staff(app)
    for name, expected in (("op1", "/console/"), ("admin1", "/console/")):
        response = login(app.test_client(), name)
        assert response.status_code == 302
        assert response.headers["Location"] == expected
    response = login(app.test_client(), "mk1")
    has_insights = any(r.rule == "/insights/" for r in app.url_map.iter_rules())
    assert response.headers["Location"] == ("/insights/" if has_insights else "/console/welcome")
    client = logged_in(app, "mk1")
    assert client.get("/console/").status_code == 403
    assert "準備中" in client.get("/console/welcome").get_data(as_text=True) or has_insights


def test_login_page_is_japanese_and_csp_clean(client):
    page = client.get("/console/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "ログインID" in html and "パスワード" in html
    assert "style=" not in html and "onclick" not in html and "<script>" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_wrong_password_and_unknown_user_get_the_same_answer(app):
    make_user(app, "op1", "operator")
    a = login(app.test_client(), "op1", "wrong-password!")
    b = login(app.test_client(), "ghost", "wrong-password!")
    assert a.status_code == b.status_code == 401
    assert auth.BAD_LOGIN in a.get_data(as_text=True) and auth.BAD_LOGIN in b.get_data(as_text=True)


def test_five_failures_for_a_login_give_429_until_the_window_passes(app):
    make_user(app, "op1", "operator")
    client = app.test_client()
    statuses = [login(client, "op1", f"wrong-{i}-password").status_code for i in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    blocked = login(client, "op1")  # even the right password, from anywhere
    assert blocked.status_code == 429
    assert auth.TOO_MANY in blocked.get_data(as_text=True)
    assert 0 < int(blocked.headers["Retry-After"]) <= auth.FAIL_WINDOW
    other = _client_from(app, "10.0.0.9")
    assert login(other, "op1").status_code == 429

    # the window passes
    storage = app.extensions["ninbai"].storage
    storage.db.execute("update rate_limits set ends_at = ?", [time.time() - 1])
    assert login(other, "op1").status_code == 302
    audit = [r[0] for r in storage.db.execute("select action from audit order by id")]
    assert audit.count("login_failed") == 5 and "login_blocked" in audit and "login" in audit


def test_five_failures_from_one_address_block_that_address(app):
    make_user(app, "op1", "operator")
    client = _client_from(app, "192.0.2.7")
    for i in range(5):
        login(client, f"guess{i}", "nope-nope-nope")
    assert login(client, "op1").status_code == 429
    elsewhere = _client_from(app, "192.0.2.8")
    assert login(elsewhere, "op1").status_code == 302


# -- sessions ------------------------------------------------------------------------
def test_no_session_fixation(app):
    make_user(app, "op1", "operator")
    client = app.test_client()
    token = csrf_token(client)
    before = _session_cookie(client)
    assert before, "the login page sets a (pre-login) session for its CSRF token"
    with client.session_transaction() as s:
        s["planted"] = "attacker"
    planted = _session_cookie(client)
    response = client.post("/console/login", data={"login": "op1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    after = _session_cookie(client)
    assert after and after not in (before, planted)
    with client.session_transaction() as s:
        assert "planted" not in s, "the anonymous session's content must not survive login"
        assert s.get("sid") and s.get("_user_id")
        assert "csrf_token" not in s or s["csrf_token"]
    # the pre-login cookie is still anonymous
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert attacker.get("/console/").status_code == 302
    # cookie flags
    login_again = app.test_client()
    token = csrf_token(login_again)
    r = login_again.post("/console/login", data={"login": "op1", "password": PASSWORD, "csrf_token": token})
    header = [h for h in r.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "HttpOnly" in header and "SameSite=Lax" in header


def test_open_redirects_are_ignored(app):
    make_user(app, "op1", "operator")
    for evil in ("https://evil.example", "//evil.example/x", "/\\evil.example", "https:/evil.example",
                 "javascript:alert(1)", "\t//evil.example"):
        response = login(app.test_client(), "op1", next_url=evil)
        assert response.status_code == 302
        assert response.headers["Location"] == "/console/", evil
    response = login(app.test_client(), "op1", next_url="/console/c/1?x=1")
    assert response.headers["Location"] == "/console/c/1?x=1"
    # the login page carries a safe next only
    page = app.test_client().get("/console/login?next=https://evil.example").get_data(as_text=True)
    assert "evil.example" not in page
    assert app.test_client().get("/console/c/3").headers["Location"] == "/console/login?next=/console/c/3"


def test_logout_is_a_csrf_protected_post(app):
    make_user(app, "op1", "operator")
    client = logged_in(app, "op1")
    assert client.get("/console/logout").status_code == 405
    assert client.post("/console/logout").status_code == 400  # no CSRF token
    assert client.get("/console/").status_code == 200
    response = client.post("/console/logout", data={"csrf_token": client.csrf})
    assert response.status_code == 302
    assert client.get("/console/").status_code == 302


def test_login_post_without_csrf_token_is_400(app):
    make_user(app, "op1", "operator")
    assert app.config["WTF_CSRF_ENABLED"] is not False
    response = app.test_client().post("/console/login", data={"login": "op1", "password": PASSWORD})
    assert response.status_code == 400


def test_disable_or_password_reset_ends_open_sessions(app):
    ids = make_staff(app)
    client = logged_in(app, "op1")
    assert client.get("/console/").status_code == 200
    with app.app_context():
        auth.set_password(ids["operator"], "a-brand-new-password")
    assert client.get("/console/").status_code == 302
    client = logged_in(app, "op2")
    with app.app_context():
        auth.set_active(ids["operator2"], False)
    assert client.get("/console/api/inbox").status_code == 401


def test_anonymous_api_gets_401_json_and_pages_redirect(client):
    r = client.get("/console/api/inbox")
    assert r.status_code == 401 and r.json["error"]
    r = client.get("/console/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/console/login")


def test_safe_next_unit():
    assert auth.is_safe_next("/console/")
    for bad in ("", None, "console", "//x", "/\\x", "http://x/", "https://x", "/x\r\nLocation: y"):
        assert not auth.is_safe_next(bad), bad
