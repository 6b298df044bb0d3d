"""Every route × every role gets the right status — checked over ``app.url_map``.

A rule that is not classified in ``EXPECTATIONS`` (or by the ``/insights``
prefix) fails the test: a new route cannot skip its access decision.
"""
from __future__ import annotations

import re

import pytest

from tests.support import webhooks
from tests.test_console_helpers import csrf_token, login, make_staff, make_user

ROLES = ("anonymous", "marketing", "operator", "admin")

PUBLIC = frozenset(ROLES)
SIGNED_IN = frozenset({"marketing", "operator", "admin"})
STAFF = frozenset({"operator", "admin"})
ADMIN = frozenset({"admin"})
INSIGHTS = frozenset({"marketing", "admin"})

#: endpoint → who may use it. Everyone else: anonymous → login (401 for APIs), others → 403.
EXPECTATIONS: dict[str, frozenset[str]] = {
    # web chat, LINE webhook, health, static files: public
    "web.page": PUBLIC,
    "web.post_event": PUBLIC,
    "web.get_messages": PUBLIC,
    "web.healthz": PUBLIC,
    "ops.readyz": PUBLIC,  # 200 or 503 (bot/ops)
    "ops.metrics": frozenset(),  # no role: a bearer token, or loopback (tests/test_ops_health.py)
    "line.callback": PUBLIC,
    "static": PUBLIC,
    # login / logout
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    # any signed-in user
    "console.coming": SIGNED_IN,
    # operators and admins
    "console.inbox": STAFF,
    "console.api_inbox": STAFF,
    "console.api_alerts_seen": STAFF,
    "console.conversation": STAFF,
    "console.api_conversation": STAFF,
    "console.api_takeover": STAFF,
    "console.api_reply": STAFF,
    "console.api_handback": STAFF,
    "console.api_status": STAFF,
    "console.api_assign": STAFF,
    "console.api_note": STAFF,
    "console.api_followup_add": STAFF,
    "console.api_followup_done": STAFF,
    "console.api_proposal": STAFF,
    "console.search_page": STAFF,
    "console.api_search": STAFF,
    # admins only
    "console.canned": ADMIN,
    "console.canned_create": ADMIN,
    "console.canned_update": ADMIN,
    "console.canned_delete": ADMIN,
    "console.users": ADMIN,
    "console.users_create": ADMIN,
    "console.users_update": ADMIN,
    "console.audit_log": ADMIN,
}
PREFIXES: dict[str, frozenset[str]] = {"/insights": INSIGHTS}


def allowed_for(rule) -> frozenset[str] | None:
    if rule.endpoint in EXPECTATIONS:
        return EXPECTATIONS[rule.endpoint]
    for prefix, roles in PREFIXES.items():
        if rule.rule == prefix or rule.rule.startswith(prefix + "/"):
            return roles
    return None


def test_every_rule_is_classified(app):
    missing = sorted(f"{r.endpoint} {r.rule}" for r in app.url_map.iter_rules() if allowed_for(r) is None)
    assert not missing, f"routes without an access expectation (add them to EXPECTATIONS): {missing}"


SAMPLES = {"filename": "console.css", "kind": "conversations", "fmt": "csv", "followup_id": 1,
           "proposal_id": 1}


def build_url(rule, ids: dict[str, int]) -> str:
    values = {**SAMPLES, **ids}
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(values[name]), url)
    return url


@pytest.fixture
def world(app, line):
    """A conversation (LINE), a canned reply, a spare user, one account per role."""
    staff = make_staff(app)
    spare = make_user(app, "spare", "operator")
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    storage = app.extensions["ninbai"].storage
    conv_id = storage.db.execute("select max(id) from conversations").fetchone()[0]
    canned_id = storage.db["canned_replies"].insert({"title": "挨拶", "text": "こんにちは", "position": 0}).last_pk
    return {"conv_id": conv_id, "canned_id": canned_id, "user_id": spare, "staff": staff}


def client_for(app, role: str, index: int):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.1.0.{index}"  # the login POST probe counts as a failure
    if role != "anonymous":
        name = {"marketing": "mk1", "operator": "op1", "admin": "admin1"}[role]
        assert login(client, name).status_code == 302
        client.csrf = csrf_token(client, "/console/welcome")
    else:
        client.csrf = csrf_token(client, "/console/login")
    return client


def is_login_redirect(response) -> bool:
    return response.status_code in (302, 303) and response.headers["Location"].startswith("/console/login")


def test_every_route_for_every_role(app, world):
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    failures = []
    checked = 0
    for index, role in enumerate(ROLES):
        client = client_for(app, role, index + 1)
        for rule in rules:
            allowed = allowed_for(rule)
            assert allowed is not None, rule
            url = build_url(rule, {k: v for k, v in world.items() if k != "staff"})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                headers = {"X-CSRFToken": client.csrf}
                if method == "GET":
                    response = client.get(url, headers=headers)
                else:
                    response = client.open(url, method=method, data={"csrf_token": client.csrf},
                                           headers=headers)
                status = response.status_code
                response.get_data()
                response.close()  # static files are streamed from open files
                checked += 1
                where = f"{role:<9} {method:<4} {url} -> {status}"
                if rule.endpoint in ("auth.login", "auth.logout"):
                    # about credentials, not access: a bad login is 401, a logout goes to the login page
                    if status not in (200, 302, 401):
                        failures.append(f"{where}: unexpected")
                elif rule.endpoint in ("ops.readyz", "ops.metrics"):  # not about roles
                    if status not in ((200, 503) if rule.endpoint == "ops.readyz" else (403,)):
                        failures.append(f"{where}: unexpected")
                elif role in allowed:
                    if status in (401, 403) or (role != "anonymous" and is_login_redirect(response)):
                        failures.append(f"{where}: should be allowed")
                    if status >= 500:
                        failures.append(f"{where}: server error")
                elif role == "anonymous":
                    api = "/api/" in url
                    if rule.rule.startswith("/insights"):
                        ok = status == 401 or is_login_redirect(response)
                    else:
                        ok = status == 401 if api else is_login_redirect(response)
                    if not ok:
                        failures.append(f"{where}: anonymous should get {'401' if api else 'the login page'}")
                elif status != 403:
                    failures.append(f"{where}: should be 403")
    assert checked > 40
    assert not failures, "\n".join(failures)


def test_post_without_csrf_token_is_400(app, world):
    make_user(app, "csrf-op", "operator")
    client = app.test_client()
    login(client, "csrf-op")
    conv = world["conv_id"]
    assert client.post(f"/console/api/c/{conv}/takeover", json={}).status_code == 400
    assert client.post(f"/console/api/c/{conv}/takeover", json={},
                       headers={"X-CSRFToken": "forged"}).status_code == 400
    admin = app.test_client()
    login(admin, "admin1")
    assert admin.post("/console/users", data={"login": "x1", "password": "y" * 12, "role": "admin"}).status_code == 400
    storage = app.extensions["ninbai"].storage
    assert storage.conversation(conv)["status"] != "operator"
    assert not storage.db.execute("select 1 from users where login = 'x1'").fetchone()
