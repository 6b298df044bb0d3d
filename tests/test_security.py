"""Security checks (ISSUE 6): signature compare, body limits, headers everywhere, no personal data in logs."""
from __future__ import annotations

import hmac
import http.cookiejar
import json
import logging
import re
import urllib.request

import pytest
from flask import url_for

from tests.conftest import SECRET, TOKEN, LineHelper
from tests.support import webhooks
from tests.support.server import ServerProcess
from tests.test_console_helpers import logged_in, make_staff

TWO_MB = 2 * 1024 * 1024


# ---------------------------------------------------------------------------
# signature: constant-time compare
# ---------------------------------------------------------------------------


def test_signature_is_compared_in_constant_time(line, monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    user = webhooks.make_user_id()
    ev = webhooks.text_event(user, "こんにちは")
    raw, headers = webhooks.request([ev], SECRET)
    assert line.client.post("/callback", data=raw, headers=headers).status_code == 200
    assert len(calls) == 1 and calls[0][1] == headers["x-line-signature"].encode()  # the SDK's path
    bad = {**headers, "x-line-signature": webhooks.sign(raw, "not-the-secret")}
    assert line.client.post("/callback", data=raw, headers=bad).status_code == 400
    assert len(calls) == 2  # a wrong signature goes through the same constant-time compare


# ---------------------------------------------------------------------------
# body size limits
# ---------------------------------------------------------------------------


def test_bodies_over_2_mb_get_413(app, client):
    big = b"{" + b" " * (TWO_MB + 10) + b"}"
    sig = webhooks.sign(big, SECRET)
    r = client.post("/callback", data=big, headers={"Content-Type": "application/json",
                                                   "x-line-signature": sig})
    assert r.status_code == 413
    page = client.get("/")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    body = json.dumps({"type": "text", "text": "x" * (TWO_MB + 10)}).encode()
    r = client.post("/chat/api/events", data=body,
                    headers={"Content-Type": "application/json", "X-CSRFToken": token})
    assert r.status_code == 413
    assert app.extensions["ninbai"].storage.inbox_counts() == {}


# ---------------------------------------------------------------------------
# security headers on every page and response
# ---------------------------------------------------------------------------

SAMPLES = {"filename": "webchat.css", "kind": "conversations", "fmt": "csv"}


def _check_headers(response, what: str) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src"))
    assert script is not None, f"{what}: no script-src in CSP {csp!r}"
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, f"{what}: {csp}"
    assert h.get("X-Frame-Options") in ("DENY", "SAMEORIGIN") or "frame-ancestors" in directives, what
    assert h.get("Referrer-Policy"), what
    assert h.get("X-Content-Type-Options") == "nosniff", what


def _get_urls(app) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            values = {a: SAMPLES.get(a, 1) for a in rule.arguments}
            urls.append(url_for(rule.endpoint, **values))
    return urls


def test_security_headers_on_every_get_route_for_everyone(app, line):
    make_staff(app)
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    urls = _get_urls(app)
    assert len(urls) >= 10
    clients = {"anonymous": app.test_client(), "admin": logged_in(app, "admin1"),
               "operator": logged_in(app, "op1"), "marketing": logged_in(app, "mk1")}
    seen = 0
    for who, client in clients.items():
        for url in urls:
            response = client.get(url)
            _check_headers(response, f"GET {url} as {who} -> {response.status_code}")
            response.close()  # static files are streamed
            seen += 1
    # and on answers that are not pages: errors, API answers, the webhook
    anon = clients["anonymous"]
    _check_headers(anon.get("/no/such/page"), "404")
    _check_headers(anon.post("/callback", data=b"{}"), "webhook 400")
    _check_headers(anon.post("/chat/api/events", json={}), "web API 400 (CSRF)")
    _check_headers(anon.delete("/"), "405")
    assert seen >= 4 * 10


# ---------------------------------------------------------------------------
# no personal data or tokens in the logs
# ---------------------------------------------------------------------------

NAME, PHONE, EMAIL = "山田太郎", "090-1234-5678", "taro.yamada@example.jp"
SAYINGS = [
    f"{NAME}です",
    PHONE,
    EMAIL,
    f"名前は{NAME}、電話は{PHONE}、メールは{EMAIL}です。3ヶ月滞納しています",
]


def _forbidden(extra: list[str]) -> list[str]:
    return [NAME, PHONE, PHONE.replace("-", ""), EMAIL, SECRET, TOKEN, *extra]


def _leaks(text: str, forbidden: list[str]) -> list[str]:
    return [f for f in forbidden if f and f in text]


def test_no_personal_data_or_tokens_in_logs_in_process(make_app, fake_line, caplog):
    caplog.set_level(logging.DEBUG)  # everything: bot, werkzeug, urllib3, linebot ...
    app = make_app(LOG_LEVEL="DEBUG")
    line = LineHelper(app, fake_line)
    user = webhooks.make_user_id()
    tokens = []
    line.follow(user)
    line.idle()
    for step in ["consent:yes", *SAYINGS, "cmd:human", *SAYINGS]:
        token = fake_line.issue_reply_token(user)
        tokens.append(token)
        if ":" in step and step.isascii() and "@" not in step:
            ev = webhooks.postback_event(user, step, reply_token=token)
        else:
            ev = webhooks.text_event(user, step, reply_token=token)
        assert line.post([ev]).status_code == 200
        line.idle()
    web = app.test_client()
    page = web.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    for payload in [{"type": "start"}, {"type": "postback", "data": "consent:yes"},
                    *({"type": "text", "text": s} for s in SAYINGS)]:
        assert web.post("/chat/api/events", json=payload, headers={"X-CSRFToken": csrf}).status_code == 202
        app.extensions["ninbai"].worker.drain(10)
        web.get("/chat/api/messages")
    assert fake_line.deliveries  # the conversation really happened
    stored = app.extensions["ninbai"].storage.db.execute(
        "select count(*) from messages where text like ?", [f"%{NAME}%"]).fetchone()[0]
    assert stored >= 2
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records if not r.name.startswith("tests.")
    )
    assert len(caplog.records) > 20
    assert _leaks(text, _forbidden(tokens)) == []


@pytest.mark.slow
def test_no_personal_data_or_tokens_in_a_server_log(tmp_path, fake_line):
    env = {
        "NINBAI_DATABASE": str(tmp_path / "ninbai.db"),
        "NINBAI_SECRET_KEY": "log-test",
        "NINBAI_LOG_LEVEL": "DEBUG",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": fake_line.url,
    }
    log = tmp_path / "server.log"
    server = ServerProcess(env, log_path=log).start()
    tokens = []
    try:
        user = webhooks.make_user_id()
        for step in ["follow", "consent:yes", *SAYINGS, "cmd:human", *SAYINGS]:
            token = fake_line.issue_reply_token(user)
            tokens.append(token)
            if step == "follow":
                ev = webhooks.follow_event(user, reply_token=token)
            elif ":" in step and step.isascii() and "@" not in step:
                ev = webhooks.postback_event(user, step, reply_token=token)
            else:
                ev = webhooks.text_event(user, step, reply_token=token)
            raw, headers = webhooks.request([ev], SECRET)
            assert server.post("/callback", raw, headers) == 200
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(server.url + "/", timeout=10).read().decode()
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        for payload in [{"type": "start"}, {"type": "postback", "data": "consent:yes"},
                        *({"type": "text", "text": s} for s in SAYINGS)]:
            req = urllib.request.Request(
                server.url + "/chat/api/events", data=json.dumps(payload).encode(), method="POST",
                headers={"Content-Type": "application/json", "X-CSRFToken": csrf})
            assert opener.open(req, timeout=10).status == 202
            opener.open(server.url + "/chat/api/messages", timeout=10).read()
        fake_line.wait_for(lambda: len(fake_line.deliveries) >= 10, timeout=30)
    finally:
        server.stop()
    text = log.read_text()
    # the log really has the traffic (NINBAI_LOG_LEVEL=DEBUG; the SDK keeps its own loggers
    # and urllib3's at WARNING unless its Configuration.debug is on)
    assert "POST /callback HTTP/1.1" in text and "POST /chat/api/events HTTP/1.1" in text
    assert _leaks(text, _forbidden(tokens)) == []
