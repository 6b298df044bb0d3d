"""Helpers shared by the console tests (accounts, login, CSRF tokens). No tests here."""
from __future__ import annotations

import re
from typing import Any

from bot import auth

PASSWORD = "correct horse battery"
ROLE_LOGINS = {"admin": "admin1", "operator": "op1", "marketing": "mk1"}

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_user(app, login: str, role: str, name: str | None = None, password: str = PASSWORD) -> int:
    with app.app_context():
        return auth.create_user(login, password, role, name)


def make_staff(app) -> dict[str, int]:
    """One account per role (admin1 / op1 / mk1) plus a second operator (op2)."""
    ids = {role: make_user(app, login, role, f"{role}さん") for role, login in ROLE_LOGINS.items()}
    ids["operator2"] = make_user(app, "op2", "operator", "佐藤")
    return ids


def csrf_token(client, path: str = "/console/login") -> str:
    page = client.get(path)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match, f"no csrf meta tag on {path} ({page.status_code})"
    return match.group(1)


def login(client, login_name: str, password: str = PASSWORD, next_url: str | None = None):
    token = csrf_token(client)
    data: dict[str, Any] = {"login": login_name, "password": password, "csrf_token": token}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/console/login", data=data)


def logged_in(app, login_name: str):
    """A fresh test client, signed in, with its CSRF token (``client.csrf``)."""
    client = app.test_client()
    response = login(client, login_name)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    client.csrf = csrf_token(client, "/console/welcome")  # any signed-in page has the meta tag
    return client


def post_json(client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"X-CSRFToken": token if token is not None else client.csrf}
    return client.post(path, json=body or {}, headers=headers)
