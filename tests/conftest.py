"""The flaskr fixture trio on a real temporary SQLite file, plus LINE helpers.

``app`` has the LINE channel on, pointed at a fake LINE server on loopback
(``fake_line``) that validates every request with line-bot-sdk's models and LINE's
documented limits (and LINE's OpenAPI files when they are beside the repository).
``line`` signs and posts webhook bodies the way LINE does.
"""
from __future__ import annotations

import os
from typing import Any

import pytest

from bot import create_app
from tests.support import openapi, webhooks
from tests.support.fakeline import FakeLine, fake_line_fixture

SECRET = "test-channel-secret-0123456789ab"
TOKEN = "test-token"

fake_line = fake_line_fixture(TOKEN)


def pytest_collection_modifyitems(config, items):
    """Tests of the OpenAPI checks themselves need LINE's files (CI has them; a fresh
    clone does not, and every other test runs without them)."""
    if openapi.available():
        return
    skip = pytest.mark.skip(reason=f"LINE's OpenAPI files are not at {openapi.spec_dir()} (LINE_OPENAPI_DIR)")
    for item in items:
        if "openapi" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _no_ninbai_env(monkeypatch):
    """Tests configure the app explicitly; a developer's environment must not leak in."""
    for key in list(os.environ):
        if key.startswith("NINBAI_") or key.startswith("LINE_"):
            monkeypatch.delenv(key, raising=False)


def app_config(tmp_path, fake: FakeLine | None, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True,
        "DATABASE": str(tmp_path / "ninbai.db"),
        "SECRET_KEY": "test-secret-key",
        "START_WORKER": True,
        "LINE_TIMEOUT": 2.0,
        "LINE_RETRIES": 2,
        "LOG_LEVEL": "INFO",
    }
    if fake is not None:
        config.update(
            LINE_CHANNEL_SECRET=SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
            LINE_API_BASE_URL=fake.url,
        )
    config.update(extra)
    return config


@pytest.fixture
def make_app(tmp_path, fake_line):
    apps = []

    def make(**extra: Any):
        app = create_app(app_config(tmp_path, fake_line, **extra))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["ninbai"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class LineHelper:
    """Posts signed webhooks for a user and waits for the bot to answer."""

    def __init__(self, app, fake: FakeLine):
        self.app = app
        self.client = app.test_client()
        self.fake = fake
        self.services = app.extensions["ninbai"]

    def post(self, events: list[dict], *, secret: str = SECRET):
        raw, headers = webhooks.request(events, secret)
        return self.client.post("/callback", data=raw, headers=headers)

    def token(self, user_id: str) -> str:
        return self.fake.issue_reply_token(user_id)

    def say(self, user_id: str, text: str, **kw: Any) -> dict:
        ev = webhooks.text_event(user_id, text, reply_token=self.token(user_id), **kw)
        assert self.post([ev]).status_code == 200
        return ev

    def tap(self, user_id: str, data: str, params: dict | None = None) -> dict:
        ev = webhooks.postback_event(user_id, data, params, reply_token=self.token(user_id))
        assert self.post([ev]).status_code == 200
        return ev

    def follow(self, user_id: str, is_unblocked: bool = False) -> dict:
        ev = webhooks.follow_event(user_id, is_unblocked, reply_token=self.token(user_id))
        assert self.post([ev]).status_code == 200
        return ev

    def idle(self, timeout: float = 15.0) -> None:
        assert self.services.worker.drain(timeout), self.services.storage.inbox_counts()

    def exchange(self, user_id: str, text: str | None = None, data: str | None = None,
                 params: dict | None = None) -> list[str]:
        """Send one text or tap and return the texts of the bot's answer to it."""
        before = len(self.fake.messages_to(user_id))
        if text is not None:
            self.say(user_id, text)
        else:
            self.tap(user_id, data, params)
        self.idle()
        msgs = self.fake.messages_to(user_id)[before:]
        return [_message_text(m) for m in msgs]


def _message_text(m: dict) -> str:
    if m.get("type") == "text":
        return m["text"]
    return m.get("altText", "")


@pytest.fixture
def line(app, fake_line):
    return LineHelper(app, fake_line)
