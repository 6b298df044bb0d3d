"""Personas end to end through signed LINE webhooks, the engine and the fake LINE server.

Each persona follows the bot, talks by taps and/or free text, and must get the
right advice on LINE: the stage, the deadline dates and the special cases, with
every request the bot sends valid against LINE's OpenAPI description.
"""
from __future__ import annotations

import json

import pytest

from bot.storage import loads
from tests.conftest import LineHelper
from tests.support import webhooks


@pytest.fixture
def app(make_app):
    # The advice depends on the date: fix "today" (a Friday) as the personas assume.
    return make_app(TODAY="2026-11-27")


@pytest.fixture
def line(app, fake_line):
    return LineHelper(app, fake_line)

PERSONAS = {
    "worried_no_arrears": (
        [("tap", "consent:yes"), ("tap", "arrears:0"), ("tap", "own:single"), ("tap", "guarantor:no"),
         ("tap", "divorce:none"), ("tap", "lender:bank"), ("tap", "stay:undecided")],
        {"stage": "none", "urgency": "cold"}, ["before_acceleration"], [],
    ),
    "four_months_dunning": (
        [("tap", "consent:yes"), ("say", "４ヶ月滞納しています"), ("tap", "notice:dunning"),
         ("tap", "own:single"), ("tap", "guarantor:no"), ("tap", "divorce:none"), ("tap", "lender:bank"),
         ("tap", "stay:no")],
        # issue 11: 4 months behind, only a 督促状 named: an 一括請求 may well have come
        {"stage": "acceleration", "stage_basis": "arrears", "urgency": "warm"},
        ["acceleration_likely_soon", "credit_record"], ["2027年1月27日"],
    ),
    "auction_wareki_two_weeks": (
        [("tap", "consent:yes"), ("tap", "arrears:6+"), ("tap", "notice:bid_notice"),
         ("say", "開札は令和８年１２月１１日です"), ("tap", "own:single"), ("tap", "guarantor:no"),
         ("tap", "divorce:none"), ("tap", "lender:bank"), ("tap", "stay:no")],
        {"stage": "bid_notice", "urgency": "hot", "kaisatsu": "2026-12-11", "legal_last_day": "2026-12-10"},
        ["very_little_time"], ["12月9日（水）までに決済（あと12日）", "取り下げの最終期限（一般的な考え方）：12月10日（木）"],
    ),
    "divorced_co_owners_ex_guarantor": (
        [("tap", "consent:yes"), ("tap", "arrears:3-5"), ("tap", "notice:acceleration"),
         ("say", "元妻との共有名義で、元妻が連帯保証人です"), ("tap", "divorce:done"), ("tap", "lender:bank"),
         ("tap", "stay:no")],
        {"stage": "acceleration"},
        ["co_owners_must_agree", "guarantor_must_agree", "divorce_done", "divorce_and_co_owned"], [],
    ),
    "flat35_after_acceleration": (
        [("tap", "consent:yes"), ("tap", "arrears:6+"), ("tap", "notice:acceleration"), ("tap", "own:single"),
         ("tap", "guarantor:no"), ("tap", "divorce:none"), ("tap", "lender:jhf"), ("tap", "stay:undecided")],
        {"stage": "acceleration"}, ["jhf_no_guarantee_company"], [],
    ),
    "free_text_only": (
        [("say", "同意します"), ("say", "5ヶ月くらい払えていません。裁判所から封筒が来ました"),
         ("say", "期間入札の通知でした"), ("say", "R8.12.11"), ("say", "夫婦の共有名義です"), ("say", "いません"),
         ("say", "関係ないです"), ("say", "フラット35です"), ("say", "できれば住み続けたい")],
        {"stage": "bid_notice", "legal_last_day": "2026-12-10"},
        ["very_little_time", "jhf_refuses_after_filing", "co_owners_must_agree", "leaseback_wish"],
        ["12月9日（水）", "12月10日（木）"],
    ),
}


def run(line, user: str, script) -> None:
    line.follow(user)
    line.idle()
    for kind, value in script:
        if kind == "tap":
            line.tap(user, value)
        else:
            line.say(user, value)
        line.idle()


def conversation(app, user: str) -> dict:
    storage = app.extensions["ninbai"].storage
    contact = storage.get_contact("line", user)
    return next(storage.db.query(
        "select * from conversations where contact_id = ? order by id desc limit 1", [contact["id"]]))


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_persona_on_line(name, line, fake_line, app):
    script, expect, cases, dates = PERSONAS[name]
    user = webhooks.make_user_id()
    run(line, user, script)
    conv = conversation(app, user)
    assert conv["state"] == "result", (name, conv["state"])
    summary = loads(conv["summary"])
    for key, value in expect.items():
        assert summary[key] == value, (name, key, summary[key])
    assert set(cases) <= set(summary["special_cases"]), summary["special_cases"]
    # The result went out as a Flex card with a plain-text altText carrying the planning day,
    # and a short text bubble with the other dates (issue 11).
    last = fake_line.messages_to(user)[-5:]
    flex = [m for m in last if m["type"] == "flex"]
    assert flex, last
    assert any(d in flex[0]["altText"] for d in dates) or not dates
    shown = json.dumps(flex, ensure_ascii=False) + "".join(m.get("altText", "") or m.get("text", "") for m in last)
    for d in dates:
        assert d in shown, (name, d)
    # Every answer was one reply to one webhook, and LINE accepted every request.
    assert all(d["kind"] == "reply" for d in fake_line.deliveries if d["to"] == user)
    assert fake_line.errors == []


def test_persona_asks_for_a_person_at_the_first_question(line, fake_line, app):
    user = webhooks.make_user_id()
    run(line, user, [("tap", "consent:yes")])
    texts = line.exchange(user, text="人と話したい")
    assert any("相談員" in t for t in texts)
    conv = conversation(app, user)
    assert conv["status"] == "waiting"  # shows in the operators' inbox
    texts = line.exchange(user, data="contact:wait")
    assert texts and conversation(app, user)["state"] == "handoff"
    assert fake_line.errors == []
