"""The web chat's JSON API through the real app (same engine, same storage)."""
from __future__ import annotations

import re

import pytest

from bot.channels import web


@pytest.fixture
def chat(app):
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)

    def send(payload: dict, status: int = 202):
        r = client.post("/chat/api/events", json=payload, headers={"X-CSRFToken": token})
        assert r.status_code == status, r.get_json()
        return r.get_json()

    def messages(after: int = 0):
        app.extensions["ninbai"].worker.drain(10)
        return client.get(f"/chat/api/messages?after={after}").get_json()

    client.send, client.messages, client.token = send, messages, token
    return client


def test_page_is_japanese_and_loads_nothing_from_outside(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    assert '<html lang="ja"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


def test_round_trip_start_text_and_postback(chat, app):
    chat.send({"type": "start", "utm_source": "google", "utm_campaign": "autumn"})
    first = chat.messages()
    bot = [m for m in first["messages"] if m["sender"] == "bot"]
    assert bot and bot[0]["answer"]["messages"]
    assert first["quick_replies"], "the greeting offers buttons"
    chip = first["quick_replies"][0]
    chat.send({"type": "postback", "data": chip["data"], "display_text": chip["label"]})
    second = chat.messages(after=first["messages"][-1]["id"])
    senders = [m["sender"] for m in second["messages"]]
    assert senders[0] == "user" and second["messages"][0]["text"] == chip["label"]
    assert "bot" in senders
    chat.send({"type": "text", "text": "４ヶ月滞納しています"})
    third = chat.messages(after=second["messages"][-1]["id"])
    assert [m["text"] for m in third["messages"] if m["sender"] == "user"] == ["４ヶ月滞納しています"]
    storage = app.extensions["ninbai"].storage
    contact = storage.db.execute("select source from contacts where channel = 'web'").fetchone()
    assert '"utm_source":"google"' in contact[0]


def test_post_without_csrf_token_is_rejected(client):
    client.get("/")
    r = client.post("/chat/api/events", json={"type": "text", "text": "こんにちは"})
    assert r.status_code == 400


def test_bad_input_gets_a_clear_japanese_answer(chat):
    assert "空" in chat.send({"type": "text", "text": "   "}, status=400)["error"]
    assert "2000" in chat.send({"type": "text", "text": "あ" * 2001}, status=400)["error"]
    assert chat.send({"type": "nope"}, status=400)["error"]
    assert chat.send({"type": "postback", "data": "x" * 301}, status=400)["error"]


def test_too_fast_is_429(chat, monkeypatch):
    monkeypatch.setattr(web, "RATE_MAX", 3)
    for _ in range(3):
        chat.send({"type": "text", "text": "こんにちは"})
    r = chat.post("/chat/api/events", json={"type": "text", "text": "こんにちは"},
                  headers={"X-CSRFToken": chat.token})
    assert r.status_code == 429 and r.get_json() == {"error": "少し時間をおいてから送ってください"}
    assert 1 <= int(r.headers["Retry-After"]) <= web.RATE_WINDOW


def test_a_forged_visitor_cookie_sees_nothing(chat, app):
    chat.send({"type": "text", "text": "私だけの相談です"})
    assert chat.messages()["messages"]
    other = app.test_client()
    other.set_cookie(web.COOKIE, "forged.value")
    assert other.get("/chat/api/messages").get_json()["messages"] == []
