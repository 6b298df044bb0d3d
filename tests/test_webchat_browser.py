"""The web chat in a real headless browser (Debian Chromium via Playwright, offline).

* ``test_webchat_round_trip`` drives the real app (``create_app``): greeting, a
  quick-reply chip, free text + Enter; no console errors, nothing loaded from the
  internet; screenshot ``docs/screenshots/webchat.png``.
* The ``*_stub`` tests pin the page's side of the contract (cards, tables, date
  picker, dedupe, IME, XSS, reconnect, 429, operator) against a tiny scripted
  backend defined here, because the real dialog does not produce every case on
  demand. The stub serves the real template and static files under a strict CSP.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
from pathlib import Path

import pytest
from flask import Flask, jsonify, render_template, request

from tests.support.browser import launch_browser, screenshot, watch
from tests.support.live import LiveServer

pytestmark = [pytest.mark.timeout(180), pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 15_000  # ms, for waits on the real worker
RESOURCE_ERRORS = ("Failed to load resource",)  # Chromium logs every 4xx/5xx fetch


# --------------------------------------------------------------------------- real app
@pytest.fixture
def app(tmp_path):
    from bot import create_app

    application = create_app(
        {"DATABASE": str(tmp_path / "t.db"), "TESTING": True, "WORKER_THREADS": 2}
    )
    yield application
    services = application.extensions.get("ninbai")
    if services is not None:
        services.worker.stop()


@pytest.fixture
def live(app):
    server = LiveServer(app).start()
    yield server
    server.stop()


def bot_rows(page):
    return page.locator("#wc-log > li.wc-row--bot, #wc-log > li.wc-row--operator")


def wait_for_answer_after_last_user(page):
    """Wait until a bot/operator row follows the last user row and nothing is pending."""
    page.wait_for_function(
        """() => {
            const rows = [...document.querySelectorAll('#wc-log > li')];
            const lastUser = rows.map(r => r.classList.contains('wc-row--user')).lastIndexOf(true);
            const answered = rows.slice(lastUser + 1).some(
                r => r.classList.contains('wc-row--bot') || r.classList.contains('wc-row--operator'));
            return lastUser >= 0 && answered && document.getElementById('wc-typing').hidden;
        }""",
        timeout=TIMEOUT,
    )


def round_trip(base_url: str, shot: str) -> None:
    """Greeting, a chip, free text + Enter, in a phone-sized headless Chromium."""
    with launch_browser() as context:
        page = context.new_page()
        seen = watch(page)
        page.goto(base_url + "/?utm_source=test&utm_campaign=browser", wait_until="load")

        # The greeting arrives without the visitor typing anything.
        bot_rows(page).first.wait_for(timeout=TIMEOUT)
        chips = page.locator("#wc-chips button.wc-chip:not(.wc-chip--date)")
        chips.first.wait_for(timeout=TIMEOUT)
        assert page.locator("#wc-log").get_attribute("aria-live") == "polite"

        # A quick-reply chip: the label shows as the user's bubble at once, then the bot asks on.
        label = chips.first.inner_text().strip()
        before = bot_rows(page).count()
        chips.first.click()
        user_bubbles = page.locator("#wc-log > li.wc-row--user .wc-bubble")
        assert user_bubbles.last.inner_text(timeout=2_000).strip() == label
        wait_for_answer_after_last_user(page)
        assert bot_rows(page).count() > before
        assert user_bubbles.count() == 1, "the chip's bubble must be rendered once"

        # Free text + Enter.
        box = page.locator("#wc-input")
        box.fill("競売開始決定の通知が届きました")
        box.press("Enter")
        assert user_bubbles.last.inner_text(timeout=2_000).strip() == "競売開始決定の通知が届きました"
        assert box.input_value() == ""
        wait_for_answer_after_last_user(page)
        page.wait_for_timeout(2_500)  # one idle poll: nothing may be rendered twice
        ids = page.eval_on_selector_all("#wc-log > li[data-id]", "els => els.map(e => e.dataset.id)")
        assert len(ids) == len(set(ids)), f"duplicated message ids {ids}"
        assert user_bubbles.count() == 2

        screenshot(page, shot)
        seen.assert_clean()
        assert any("/chat/api/messages" in u for u in seen.requests)

        # Reload: the history comes back from the server, and no second greeting.
        rows = page.locator("#wc-log > li").count()
        page.reload(wait_until="load")
        page.locator("#wc-log > li").nth(rows - 1).wait_for(timeout=TIMEOUT)
        page.wait_for_timeout(2_500)
        assert page.locator("#wc-log > li").count() == rows
        seen.assert_clean()


def test_webchat_round_trip(live):
    """The real app: web blueprint, engine, worker and the diagnosis dialog."""
    round_trip(live.url, "webchat")


class ScriptedDialog:
    """A dialog that always answers, to test page + real web backend without content."""

    name = "scripted"

    def step(self, session, inp):
        from dialogs.answer import Answer
        from dialogs.base import DialogResult

        session.state = "asked"
        if inp.kind == "follow":
            return DialogResult(Answer.from_dict(greeting()))
        if inp.kind == "postback" and str(inp.data).startswith("arrears:"):
            return DialogResult(Answer.from_dict(arrears_answer()))
        said = inp.text or inp.data
        return DialogResult(Answer.from_dict({
            "messages": [{"type": "text", "text": f"「{said}」ですね。\n続けてどうぞ。"}],
            "quick_replies": [{"label": "最初から", "data": "cmd:restart"}],
        }))


def test_webchat_round_trip_real_backend_scripted_dialog(tmp_path):
    """The real web blueprint, CSRF, cookie, inbox, worker; a scripted dialog."""
    from bot import create_app

    application = create_app({"DATABASE": str(tmp_path / "t.db"), "TESTING": True,
                              "WORKER_THREADS": 2, "DIALOG": ScriptedDialog()})
    server = LiveServer(application).start()
    try:
        round_trip(server.url, "webchat-scripted")
        contact = application.extensions["ninbai"].storage.db.execute(
            "select source from contacts where channel = 'web'").fetchone()
        assert contact is not None and "browser" in (contact[0] or "")
    finally:
        server.stop()
        application.extensions["ninbai"].worker.stop()


# ----------------------------------------------------------------------- stub backend
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
XSS = '<img src=x onerror="window.__xss=1">\n2行目も残る'


def greeting():
    return {
        "messages": [
            {"type": "text", "text": "こんにちは。住宅ローンのご相談窓口です。\nお名前なしで相談できます。"},
            {"type": "text", "text": "いま、ローンの返済は何か月分とどこおっていますか？"},
        ],
        "quick_replies": [
            {"label": "まだ滞納していない", "data": "arrears:none", "kind": "postback"},
            {"label": "1〜2か月", "data": "arrears:1-2", "kind": "postback"},
            {"label": "開札日を選ぶ", "data": "auction_date", "kind": "date",
             "initial": "2025-07-01", "min": "2025-01-01", "max": "2026-12-31"},
            {"label": "担当者と話したい", "kind": "message"},
            {"label": "会社概要", "kind": "uri", "uri": "/static/webchat-avatar.svg"},
            {"label": "とても長い選択肢のラベルでも横にスクロールできる", "data": "x:long"},
        ],
    }


def arrears_answer():
    return {
        "messages": [
            {"type": "card", "alt_text": "いまの状況", "title": "いまの状況", "subtitle": "督促の段階です",
             "rows": [["滞納", "1〜2か月"], ["段階", "督促状・催告書"]],
             "paragraphs": ["まだ間に合います。\n早めに相談すると選べる道が増えます。"],
             "buttons": [{"label": "くわしく聞く", "data": "faq:timeline", "kind": "postback"}],
             "tone": "warning"},
            {"type": "table", "alt_text": "任意売却と競売", "title": "任意売却と競売のちがい",
             "columns": ["", "任意売却", "競売", "そのまま放置"],
             "rows": [["売れる値段", "市場価格に近い", "市場価格の5〜7割", "—"],
                      ["引っ越し", "時期を相談できる", "強制退去もある", "強制退去"]],
             "note": "目安です。"},
            {"type": "text", "text": "競売の通知は届いていますか？"},
        ],
        "quick_replies": [
            {"label": "届いていない", "data": "notice:none"},
            {"label": "届いた", "data": "notice:auction_start"},
        ],
    }


def make_stub():
    app = Flask(
        "ninbai_stub",
        root_path=str(ROOT / "bot"),
        template_folder=str(ROOT / "bot" / "templates"),
        static_folder=str(ROOT / "bot" / "static"),
    )
    app.config.update(FAIL_POLLS=0, FAIL_EVENTS_429=0, IGNORE_AFTER=0, DELAY=0.4)
    lock = threading.Lock()
    ids = itertools.count(1)
    state = {"messages": [], "pending": 0, "operator": None, "events": [], "quick_replies": []}
    app.stub = state
    token = "stub-csrf-token"

    def now():
        return dt.datetime.now(dt.timezone.utc).isoformat()

    def add(direction, sender, text, answer=None):
        with lock:
            state["messages"].append({
                "id": next(ids), "direction": direction, "sender": sender, "text": text,
                "answer": answer, "created_at": now()})
            if sender == "bot" and answer is not None:
                state["quick_replies"] = answer.get("quick_replies", [])
            elif direction == "in":
                state["quick_replies"] = []

    def reply_later(answer):
        def run():
            plain = "\n".join(m.get("text") or m.get("alt_text", "") for m in answer["messages"])
            add("out", "bot", plain, answer)
            with lock:
                state["pending"] -= 1
        with lock:
            state["pending"] += 1
        threading.Timer(app.config["DELAY"], run).start()

    def answer_for(event):
        kind = event["type"]
        if kind == "start":
            return greeting()
        if kind == "postback":
            if event.get("params", {}).get("date"):
                return {"messages": [{"type": "text", "text": f"開札日は {event['params']['date']} ですね。"}],
                        "quick_replies": [{"label": "最初から", "data": "cmd:restart"}]}
            if event["data"].startswith("arrears:"):
                return arrears_answer()
            return {"messages": [{"type": "text", "text": f"「{event['display_text']}」ですね。"}],
                    "quick_replies": []}
        return {"messages": [{"type": "text", "text": f"「{event['text']}」を受け付けました。\n続けてどうぞ。"}],
                "quick_replies": [{"label": "最初から", "data": "cmd:restart"}]}

    @app.after_request
    def csp(response):
        response.headers["Content-Security-Policy"] = CSP
        return response

    @app.get("/")
    def page():
        return render_template("webchat.html", csrf_token=token, title="住宅ローンのご相談",
                               company_name="テスト不動産")

    @app.post("/chat/api/events")
    def events():
        if request.headers.get("X-CSRFToken") != token:
            return jsonify({"error": "csrf"}), 400
        event = request.get_json(silent=True)
        if not isinstance(event, dict) or event.get("type") not in ("start", "text", "postback"):
            return jsonify({"error": "bad event"}), 400
        if app.config["FAIL_EVENTS_429"]:
            app.config["FAIL_EVENTS_429"] -= 1
            return jsonify({"error": "too fast"}), 429
        state["events"].append(event)
        if event["type"] == "text":
            add("in", "user", event["text"])
        elif event["type"] == "postback":
            add("in", "user", event.get("display_text"))
        if state["operator"] is None:
            reply_later(answer_for(event))
        return jsonify({"accepted": True, "event_id": f"e{len(state['events'])}"}), 202

    @app.get("/chat/api/messages")
    def messages():
        if app.config["FAIL_POLLS"]:
            app.config["FAIL_POLLS"] -= 1
            return jsonify({"error": "down"}), 503
        after = int(request.args.get("after", "0"))
        if app.config["IGNORE_AFTER"]:
            app.config["IGNORE_AFTER"] -= 1
            after = 0  # a sloppy server resends everything: the page must dedupe
        with lock:
            msgs = [m for m in state["messages"] if m["id"] > after]
            return jsonify({
                "messages": msgs,
                "quick_replies": [] if state["operator"] else state["quick_replies"],
                "pending": state["pending"] > 0,
                "operator": state["operator"],
            })

    return app


@pytest.fixture
def stub():
    app = make_stub()
    server = LiveServer(app).start()
    server.app = app
    yield server
    server.stop()


def test_webchat_page_contract_stub(stub):
    state = stub.app.stub
    with launch_browser() as context:
        page = context.new_page()
        seen = watch(page)
        page.goto(stub.url + "/?utm_source=line_ad&utm_campaign=spring", wait_until="load")

        # Greeting, header, start event with the page's own utm parameters.
        page.locator("#wc-log > li.wc-row--bot").first.wait_for(timeout=5_000)
        assert page.locator(".wc-header__title").inner_text() == "住宅ローンのご相談"
        assert "匿名で相談できます" in page.locator(".wc-header__note").inner_text()
        assert state["events"][0]["type"] == "start"
        assert state["events"][0]["utm_source"] == "line_ad"
        assert state["events"][0]["utm_campaign"] == "spring"
        first = page.locator("#wc-log .wc-bubble").first
        assert first.inner_text() == "こんにちは。住宅ローンのご相談窓口です。\nお名前なしで相談できます。"
        assert first.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
        chips = page.locator("#wc-chips .wc-chip")
        chips.first.wait_for()
        assert chips.count() == 6
        for i in range(chips.count()):
            assert chips.nth(i).bounding_box()["height"] >= 44
        row = page.locator("#wc-chips")
        assert row.evaluate("e => e.scrollWidth > e.clientWidth"), "chips row scrolls sideways"
        link = page.locator("#wc-chips a.wc-chip")
        assert link.get_attribute("href") == "/static/webchat-avatar.svg"

        # Postback chip -> the label as the user's bubble immediately, then card + table.
        page.get_by_role("button", name="1〜2か月").click()
        user = page.locator("#wc-log > li.wc-row--user .wc-bubble")
        assert user.last.inner_text(timeout=1_000) == "1〜2か月"
        assert state["events"][-1] == {"type": "postback", "data": "arrears:1-2",
                                      "display_text": "1〜2か月"}
        card = page.locator(".wc-card.wc-card--warning")
        card.wait_for(timeout=5_000)
        assert card.locator(".wc-card__title").inner_text() == "いまの状況"
        assert card.locator("dt").all_inner_texts() == ["滞納", "段階"]
        assert card.locator("dd").all_inner_texts() == ["1〜2か月", "督促状・催告書"]
        scroller = page.locator(".wc-tablecard__scroll")
        assert scroller.evaluate("e => getComputedStyle(e).overflowX") == "auto"
        assert page.locator(".wc-table thead th").count() == 4
        page.get_by_role("button", name="届いた").wait_for(timeout=5_000)
        screenshot(page, "webchat-cards")

        # A card button works like a chip.
        card.get_by_role("button", name="くわしく聞く").click()
        assert user.last.inner_text(timeout=1_000) == "くわしく聞く"
        page.get_by_text("「くわしく聞く」ですね。").wait_for(timeout=5_000)

        # Free text: IME-confirming Enter does not send; a real Enter does; no HTML injection.
        box = page.locator("#wc-input")
        box.fill(XSS)
        sent = len(state["events"])
        box.evaluate("""e => e.dispatchEvent(new KeyboardEvent('keydown',
            {key: 'Enter', keyCode: 229, isComposing: true, bubbles: true, cancelable: true}))""")
        page.wait_for_timeout(300)
        assert len(state["events"]) == sent and box.input_value() == XSS
        box.press("Enter")
        page.get_by_text("を受け付けました。", exact=False).wait_for(timeout=5_000)
        assert user.last.inner_text() == XSS
        assert page.evaluate("window.__xss") is None
        assert page.locator("#wc-log img[src='x']").count() == 0

        # Date chip -> native date input -> postback with params.date.
        page.get_by_role("button", name="最初から").wait_for()
        state["quick_replies"] = greeting()["quick_replies"]  # offer the date chip again
        page.get_by_role("button", name="開札日を選ぶ").wait_for(timeout=5_000)
        page.get_by_role("button", name="開札日を選ぶ").click()
        picker = page.locator("#wc-date")
        assert picker.get_attribute("type") == "date"
        assert picker.input_value() == "2025-07-01"
        assert picker.get_attribute("min") == "2025-01-01"
        picker.fill("2025-09-16")
        page.get_by_role("button", name="決定").click()
        assert user.last.inner_text(timeout=1_000) == "2025年9月16日"
        assert state["events"][-1]["params"] == {"date": "2025-09-16"}
        assert state["events"][-1]["data"] == "auction_date"
        page.get_by_text("開札日は 2025-09-16 ですね。").wait_for(timeout=5_000)

        # A server that resends old messages must not duplicate bubbles.
        count = page.locator("#wc-log > li").count()
        stub.app.config["IGNORE_AFTER"] = 2
        page.wait_for_timeout(4_500)
        assert page.locator("#wc-log > li").count() == count
        ids = page.eval_on_selector_all("#wc-log > li", "els => els.map(e => e.dataset.id)")
        assert None not in ids and len(ids) == len(set(ids))
        assert [e["type"] for e in state["events"]].count("start") == 1

        seen.assert_clean()


def test_webchat_reconnect_429_and_operator_stub(stub):
    state = stub.app.stub
    with launch_browser() as context:
        page = context.new_page()
        seen = watch(page)
        page.goto(stub.url + "/", wait_until="load")
        page.get_by_role("button", name="1〜2か月").wait_for(timeout=5_000)
        banner = page.locator("#wc-banner")
        assert banner.is_hidden()

        # Polls fail -> small banner; they recover -> it goes away; the chat goes on.
        stub.app.config["FAIL_POLLS"] = 2
        banner.wait_for(state="visible", timeout=6_000)
        assert banner.inner_text() == "通信が不安定です。再接続しています…"
        banner.wait_for(state="hidden", timeout=15_000)

        # 429 on send: retried quietly, delivered once.
        stub.app.config["FAIL_EVENTS_429"] = 1
        page.locator("#wc-input").fill("家を売りたいです")
        page.locator("#wc-send").click()
        page.get_by_text("「家を売りたいです」を受け付けました。", exact=False).wait_for(timeout=8_000)
        assert [e.get("text") for e in state["events"]].count("家を売りたいです") == 1
        assert page.locator(".wc-bubble--failed").count() == 0

        # An operator takes over: name in the header and on their bubbles, no chips.
        state["operator"] = {"name": "担当：山田"}
        with threading.Lock():
            state["messages"].append({
                "id": 999, "direction": "out", "sender": "operator",
                "text": "担当の山田です。\nご事情をうかがえますか。", "answer": None,
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat()})
        op = page.locator("#wc-log > li.wc-row--operator")
        op.wait_for(timeout=5_000)
        assert op.locator(".wc-row__name").inner_text() == "担当：山田"
        assert op.locator(".wc-bubble").inner_text() == "担当の山田です。\nご事情をうかがえますか。"
        assert page.locator("#wc-operator").inner_text() == "担当：山田"
        assert page.locator("#wc-chips").is_hidden()
        page.locator("#wc-input").fill("はい、お願いします")
        page.locator("#wc-input").press("Enter")
        page.wait_for_timeout(1_000)
        assert page.locator("#wc-typing").is_hidden(), "no bot typing while a person answers"
        screenshot(page, "webchat-operator")

        seen.assert_clean(allow_console=RESOURCE_ERRORS)
        assert not re.search(r"Refused to|Content Security Policy", " ".join(seen.console_errors))
