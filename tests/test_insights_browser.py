"""The insights pages in a real headless browser (Debian Chromium via Playwright, offline).

A marketing user logs in through the console login form, opens the funnel (SVG charts
rendered on the server, numbers in tables), the transcript list and a search; the
CSP holds (no console errors, nothing loaded from elsewhere) and personal data is
redacted on screen. Screenshot: docs/screenshots/insights-funnel.png.
"""
from __future__ import annotations

import datetime as dt
import random

import pytest

from bot.auth import create_user
from bot.insights.funnel import add_event, record_conversation
from bot.storage import dumps
from tests.support.browser import launch_browser, screenshot, watch
from tests.support.live import LiveServer

pytestmark = [pytest.mark.timeout(180), pytest.mark.browser]
PASSWORD = "correct-horse-battery"
STEPS = ["privacy", "arrears", "notice", "ownership", "guarantor", "divorce", "lender", "stay", "result"]


@pytest.fixture
def app(tmp_path):
    from bot import create_app

    application = create_app({"DATABASE": str(tmp_path / "t.db"), "TESTING": True, "START_WORKER": False,
                              "SECRET_KEY": "browser-test"})
    yield application
    application.extensions["ninbai"].worker.stop()


def seed(storage, n: int = 240) -> None:
    """Eight weeks of plausible conversations (deterministic)."""
    rnd = random.Random(5)
    today = dt.datetime.now(dt.UTC)
    db = storage.db
    for i in range(n):
        channel = "line" if rnd.random() < 0.55 else "web"
        created = (today - dt.timedelta(days=rnd.random() * 55)).isoformat(timespec="milliseconds")
        source = None if channel == "line" else {"utm_source": rnd.choice(["google", "yahoo", "news"]),
                                                   "utm_campaign": rnd.choice(["spring", "lp2"])}
        depth = min(len(STEPS), int(rnd.expovariate(1 / 5)) + 1)
        history = STEPS[:depth]
        data = {"consent": depth > 1, "history": history,
                "answered": [s for s in history if s not in ("privacy", "result")],
                "answers": {"arrears_months": rnd.choice([0, 2, 4, 6, None]),
                            "latest_notice": rnd.choice(["dunning", "acceleration", "auction_start", "none"]),
                            "co_owned": rnd.random() < 0.3, "divorce": rnd.choice(["none", "in_progress", "done"])}}
        status = "bot"
        if depth == len(STEPS) and rnd.random() < 0.5:
            data["contact"] = {"name": "山田太郎", "phone": "090-1234-5678", "consented": True}
            data["history"] = [*history, "handoff"]
            status = rnd.choice(["waiting", "operator", "closed", "closed"])
        cid = db["contacts"].insert({"channel": channel, "external_id": f"b{i}", "display_name": "ヤマダ",
                                     "source": dumps(source) if source else None, "created_at": created}).last_pk
        conv_id = db["conversations"].insert({
            "contact_id": cid, "channel": channel, "dialog": "diagnosis", "state": history[-1], "step": history[-1],
            "data": dumps(data), "summary": dumps({"stage": "dunning", "urgency": "warm"}), "status": status,
            "urgency": "warm", "lead_score": 40, "unread": 0, "version": 1, "created_at": created,
            "updated_at": created}).last_pk
        db["messages"].insert({"conversation_id": conv_id, "contact_id": cid, "direction": "in", "sender": "user",
                               "kind": "text", "text": "山田太郎と申します。競売の通知が来ました 090-1234-5678",
                               "created_at": created})
        conv = storage.conversation(conv_id)
        record_conversation(storage, conv, set())
        if status == "closed":
            add_event(storage, conv, "feedback_request")
            add_event(storage, conv, "feedback", rnd.choice(["good", "good", "ok", "bad"]))


def test_funnel_and_transcripts_in_a_browser(app):
    storage = app.extensions["ninbai"].storage
    seed(storage)
    create_user("mkt", PASSWORD, "marketing", storage=storage)
    with LiveServer(app) as server, launch_browser(viewport={"width": 1280, "height": 900}, is_mobile=False,
                                                   has_touch=False, device_scale_factor=1) as context:
        page = context.new_page()
        seen = watch(page)
        page.goto(server.url + "/insights/funnel")
        assert "/console/login" in page.url
        page.fill("input[name=login]", "mkt")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/insights/**")
        page.goto(server.url + "/insights/funnel")
        page.locator("#funnel-table").wait_for()
        assert page.locator("svg.chart").count() >= 6
        started = page.locator('#funnel-table tr[data-step="first_message"] td').first.inner_text()
        assert started.replace(",", "") == "240"
        assert page.locator("#source-table tbody tr").count() >= 4
        screenshot(page, "insights-funnel", full_page=True)

        page.goto(server.url + "/insights/?q=競売の通知")
        page.locator(".in-hit").first.wait_for()
        text = page.locator(".in-hits").inner_text()
        assert "山田" not in text and "090-1234-5678" not in text and "【氏名】" in text
        assert page.locator(".in-hit mark").first.inner_text() == "競売の通知"
        page.goto(server.url + "/insights/")
        assert page.locator("table.in-table tbody tr").count() == 50
        page.click("a[rel=next]")
        page.locator("table.in-table").wait_for()
        assert page.locator("table.in-table tbody tr").count() >= 1
        screenshot(page, "insights-list")
        seen.assert_clean(allow_console=("Failed to load resource",))  # the favicon 404
