"""The console in headless Chromium (Debian's, offline) against the real app and the fake LINE server.

Log in; a hot lead and a cold one arrive by LINE webhooks and appear in the
inbox without a reload, the hot one above; take over; a typed reply reaches
LINE as exactly one push; the user's next message shows up in the console and
the bot stays silent; hand back and the bot answers again. Screenshots:
docs/screenshots/console-inbox.png and console-conversation.png (1280×800).
"""
from __future__ import annotations

import pytest

from tests.conftest import LineHelper
from tests.support import webhooks
from tests.support.browser import launch_browser, screenshot, watch
from tests.support.live import LiveServer
from tests.test_console_helpers import PASSWORD, make_staff

pytestmark = [pytest.mark.timeout(240), pytest.mark.browser]

LAPTOP = {"width": 1280, "height": 800}
TIMEOUT = 15_000
RESOURCE_ERRORS = ("Failed to load resource",)
HOT = "競売開始決定が届きました。開札は令和8年12月11日です"
COLD = "まだ滞納していませんが不安です"
REPLY = "担当の山田です。明日10時にお電話してもよろしいですか？"


@pytest.fixture
def live(make_app):
    app = make_app(CONSOLE_POLL_MS=1000)
    make_staff(app)
    server = LiveServer(app).start()
    yield app, server
    server.stop()


def conv_id_of(app, user: str) -> int:
    storage = app.extensions["ninbai"].storage
    return storage.db.execute(
        "select c.id from conversations c join contacts ct on ct.id = c.contact_id"
        " where ct.external_id = ? order by c.id desc limit 1", [user]).fetchone()[0]


def test_console_end_to_end(live, fake_line):
    app, server = live
    line = LineHelper(app, fake_line)
    with launch_browser(viewport=LAPTOP, is_mobile=False, has_touch=False, device_scale_factor=1) as context:
        page = context.new_page()
        seen = watch(page)
        page.goto(server.url + "/console/", wait_until="load")
        assert "/console/login" in page.url
        page.fill("input[name=login]", "op1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(server.url + "/console/", timeout=TIMEOUT)
        page.locator("#cs-empty").wait_for(timeout=TIMEOUT)

        # two users write on LINE; the inbox updates itself (no reload)
        cold, hot = webhooks.make_user_id(), webhooks.make_user_id()
        for user, text in ((cold, COLD), (hot, HOT)):
            line.follow(user)
            line.idle()
            line.exchange(user, data="consent:yes")
            line.exchange(user, text)
        hot_id, cold_id = conv_id_of(app, hot), conv_id_of(app, cold)
        navigations = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url))
        page.locator(f'#cs-rows li[data-id="{hot_id}"]').wait_for(timeout=TIMEOUT)
        page.locator(f'#cs-rows li[data-id="{cold_id}"]').wait_for(timeout=TIMEOUT)
        order = page.eval_on_selector_all("#cs-rows > li", "els => els.map(e => Number(e.dataset.id))")
        assert order.index(hot_id) < order.index(cold_id), order
        assert navigations == [], "the inbox must update without a reload"
        hot_row = page.locator(f'#cs-rows li[data-id="{hot_id}"]')
        assert "緊急" in hot_row.inner_text() and "LINE" in hot_row.inner_text()
        page.locator("#cs-alert-badge").wait_for(state="visible", timeout=TIMEOUT)
        screenshot(page, "console-inbox")

        # open the hot conversation and take it over
        hot_row.locator("a").click()
        page.wait_for_url(f"{server.url}/console/c/{hot_id}", timeout=TIMEOUT)
        page.locator("#cs-log > li").first.wait_for(timeout=TIMEOUT)
        assert HOT in page.locator("#cs-log").inner_text()
        assert page.locator("#cs-reply").is_disabled()
        page.click("#cs-takeover")
        page.wait_for_function("() => document.getElementById('cs-conv').dataset.status === 'operator'",
                               timeout=TIMEOUT)
        assert "対応中" in page.locator("#cs-status").inner_text()

        # a typed reply: exactly one push with that text
        before = len(fake_line.deliveries)
        page.fill("#cs-reply", REPLY)
        page.click("#cs-send")
        fake_line.wait_for(lambda: [d for d in fake_line.deliveries if d["to"] == hot and d["kind"] == "push"])
        page.locator("#cs-log > li.cs-msg--operator").wait_for(timeout=TIMEOUT)
        assert page.locator("#cs-reply").input_value() == ""
        page.wait_for_timeout(1500)
        pushes = [d for d in fake_line.deliveries[before:] if d["to"] == hot]
        assert len(pushes) == 1 and pushes[0]["kind"] == "push"
        assert pushes[0]["messages"] == [{"type": "text", "text": REPLY}]

        # the user writes again: shown in the console, the bot says nothing
        before = len(fake_line.messages_to(hot))
        line.say(hot, "はい、お願いします")
        line.idle()
        page.locator("#cs-log > li.cs-msg--user", has_text="はい、お願いします").wait_for(timeout=TIMEOUT)
        assert len(fake_line.messages_to(hot)) == before
        page.wait_for_timeout(1200)
        screenshot(page, "console-conversation")

        # hand back: the dialog resumes, and answers the next message
        page.once("dialog", lambda d: d.accept())
        page.click("#cs-handback")
        page.wait_for_function("() => document.getElementById('cs-conv').dataset.status === 'bot'",
                               timeout=TIMEOUT)
        fake_line.wait_for(lambda: len(fake_line.messages_to(hot)) > before)
        after_handback = len(fake_line.messages_to(hot))
        assert line.exchange(hot, "3か月です")
        assert len(fake_line.messages_to(hot)) > after_handback
        assert fake_line.errors == []
        seen.assert_clean(allow_console=RESOURCE_ERRORS)


def test_console_on_a_phone_and_a_second_operator_is_told(live, fake_line):
    app, server = live
    line = LineHelper(app, fake_line)
    user = webhooks.make_user_id()
    line.follow(user)
    line.idle()
    conv_id = conv_id_of(app, user)
    storage = app.extensions["ninbai"].storage
    op2 = storage.db.execute("select id from users where login = 'op2'").fetchone()[0]
    storage.db.execute("update conversations set status = 'operator', owner_id = ? where id = ?", [op2, conv_id])
    with launch_browser() as context:  # phone viewport
        page = context.new_page()
        seen = watch(page)
        page.goto(server.url + f"/console/login?next=/console/c/{conv_id}", wait_until="load")
        page.fill("input[name=login]", "op1")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/console/c/{conv_id}", timeout=TIMEOUT)
        page.locator("#cs-composer-note", has_text="佐藤さんが対応中です").wait_for(timeout=TIMEOUT)
        assert page.locator("#cs-reply").is_disabled()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390 + 1, f"no horizontal scrolling on a phone ({width}px)"
        seen.assert_clean(allow_console=RESOURCE_ERRORS)
