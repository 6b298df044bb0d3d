"""Personas, end to end through DiagnosisDialog.step, on a fixed day (2026-11-27).

Each checks the advice the person gets: stage, deadline dates, special cases.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from bot.content import Content, load_content
from dialogs.answer import Card
from dialogs.base import DialogInput, DialogResult, Session
from dialogs.diagnosis import DiagnosisDialog

TODAY = dt.date(2026, 11, 27)  # a Friday


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content("content")


@pytest.fixture()
def person(content: Content) -> "Person":
    return Person(DiagnosisDialog(content))


class Person:
    def __init__(self, dialog: DiagnosisDialog, channel: str = "line") -> None:
        self.dialog, self.channel = dialog, channel
        self.session = Session()
        self.last: DialogResult | None = None

    @property
    def state(self) -> str | None:
        return self.session.state

    def send(self, kind: str, **kw: Any) -> DialogResult:
        self.session = Session(self.session.state, json.loads(json.dumps(self.session.data)))
        self.last = self.dialog.step(self.session, DialogInput(kind=kind, today=TODAY, channel=self.channel, **kw))
        assert len(self.last.answer.messages) <= 5 and len(self.last.answer.quick_replies) <= 13
        return self.last

    def tap(self, *data: str, date: str | None = None) -> DialogResult:
        for d in data:
            self.send("postback", data=d, params={"date": date} if date else None)
        return self.last

    def say(self, *texts: str) -> DialogResult:
        for t in texts:
            self.send("text", text=t)
        return self.last

    def card(self) -> Card:
        return next(m for m in self.last.answer.messages if isinstance(m, Card))

    def card_text(self) -> str:
        c = self.card()
        return "\n".join([c.title, *(f"{a} {b}" for a, b in c.rows), *c.paragraphs])

    def row(self, i: int) -> str:
        """The value of the card's row ``i`` (0 今の段階, 1 いつまでに, 2 今日やること)."""
        return self.card().rows[i][1]

    def text(self) -> str:
        return self.last.answer.plain_text()

    def points(self) -> list[str]:
        return [q.data for q in self.last.answer.quick_replies if (q.data or "").startswith("point:")]


def advice(content: Content, key: str, **kw: Any) -> str:
    return content.text(f"knowledge.advice.{key}", **kw)


def test_worried_with_no_arrears(person: Person, content: Content) -> None:
    person.send("follow")
    person.tap("consent:yes", "arrears:0")
    assert person.state == "ownership"  # no letters to ask about
    person.tap("own:single", "guarantor:no", "divorce:none", "lender:bank", "stay:undecided")
    assert person.state == "result"
    s = person.last.summary
    assert s["stage"] == "none" and s["urgency"] == "cold"
    assert s["special_cases"] == ["before_acceleration"]
    # issue 11: three short lines first; the rest behind buttons
    assert [r[1] for r in person.card().rows] == [advice(content, "stage_line.none"),
                                                  advice(content, "by_when.not_behind"),
                                                  advice(content, "todo.none")]
    assert person.card().tone == "info" and person.card().paragraphs == []
    assert content.text("knowledge.stages.none.summary") in person.text()
    assert "残された時間が短い" not in person.text()
    assert person.points() == ["point:worries"]


def test_four_months_behind_with_a_dunning_letter(person: Person, content: Content) -> None:
    person.send("follow")
    person.tap("consent:yes")
    person.say("4ヶ月")
    assert person.state == "notice"
    person.tap("notice:dunning", "own:single", "guarantor:no", "divorce:none", "lender:bank", "stay:no")
    s = person.last.summary
    # issue 11: 4 months behind with only a 督促状 named: an 一括請求 may well have come (never 余裕)
    assert s["stage"] == "acceleration" and s["stage_basis"] == "arrears" and s["urgency"] == "warm"
    assert set(s["special_cases"]) == {"acceleration_likely_soon", "credit_record"}
    # an estimate from the arrears: the auction could start 6–9 months after the first miss (2026-07-27)
    assert s["time_left"]["auction_start_from"] == "2027-01-27"
    assert s["time_left"]["auction_start_to"] == "2027-04-27"
    assert person.row(0) == advice(content, "stage_line.from_arrears_acceleration")
    assert "2027年1月27日（水）" in person.row(1) and "2027年4月27日（火）" in person.row(1)
    assert person.row(2) == advice(content, "todo.from_arrears")
    assert advice(content, "situation.from_arrears_acceleration.text") in person.text()
    assert "余裕があります" not in person.text()
    assert person.points() == ["point:alternatives", "point:moving", "point:credit", "point:worries"]
    assert person.card().tone == "warning"


def test_auction_with_a_wareki_kaisatsu_two_weeks_away(person: Person, content: Content) -> None:
    person.send("follow")
    person.tap("consent:yes", "arrears:6+", "notice:bid_notice")
    assert person.state == "dates"
    person.say("開札は令和8年12月11日です")
    assert person.session.data["answers"]["kaisatsu_date"] == "2026-12-11"
    person.tap("own:single", "guarantor:no", "divorce:none", "lender:bank", "stay:no")
    s = person.last.summary
    assert s["stage"] == "bid_notice" and s["urgency"] == "hot"
    assert s["kaisatsu"] == "2026-12-11" and s["legal_last_day"] == "2026-12-10"
    assert "very_little_time" in s["special_cases"]
    card = person.card()
    assert card.tone == "urgent"
    # issue 11: time left counts to the planning day (the business day before the legal last day)
    assert person.row(1) == advice(content, "by_when.plan", date="12月9日（水）", days=12)
    text = person.text()
    assert advice(content, "dates.legal", date="12月10日（木）") in text  # the business day before 開札
    assert advice(content, "dates.kaisatsu", date="12月11日（金）") in text
    assert advice(content, "dates.confirm") in text
    assert advice(content, "situation.days.text", when=advice(content, "when.unknown")) in text
    assert advice(content, "urgent.unknown") in text


def test_divorced_co_owners_with_the_ex_spouse_as_guarantor(person: Person, content: Content) -> None:
    person.send("follow")
    person.tap("consent:yes", "arrears:3-5", "notice:acceleration", "own:shared", "guarantor:yes", "divorce:done",
               "lender:bank", "stay:no")
    s = person.last.summary
    assert s["stage"] == "acceleration"
    assert {"co_owners_must_agree", "guarantor_must_agree", "divorce_done", "divorce_and_co_owned"} <= set(
        s["special_cases"])
    # issue 11: each point behind its own button, none repeated (divorce sits in the co-owners point)
    assert person.points() == ["point:co_owners", "point:guarantor", "point:alternatives", "point:moving",
                               "point:credit", "point:worries"]
    assert advice(content, "points.co_owners_divorce.text") not in person.text()
    r = person.tap("point:co_owners")
    assert person.state == "result"
    assert r.answer.plain_text() == advice(content, "points.co_owners_divorce.text")
    assert "point:co_owners" not in person.points() and "point:guarantor" in person.points()
    assert person.tap("point:guarantor").answer.plain_text() == advice(content, "points.guarantor.text")


def test_flat35_after_acceleration(person: Person, content: Content) -> None:
    person.send("follow")
    person.tap("consent:yes", "arrears:6+", "notice:acceleration", "own:single", "guarantor:no", "divorce:none",
               "lender:jhf", "stay:undecided")
    s = person.last.summary
    assert s["stage"] == "acceleration" and s["urgency"] == "warm"
    assert "jhf_no_guarantee_company" in s["special_cases"]
    assert "jhf_refuses_after_filing" not in s["special_cases"]  # no auction filed yet
    # issue 11: フラット35 from the 一括請求 on: ask the 機構 for a 任意売却 before it files
    assert person.row(0) == advice(content, "stage_line.acceleration")
    assert person.row(2) == advice(content, "todo.jhf_urgent")
    assert person.points()[0] == "point:lender"
    assert person.tap("point:lender").answer.plain_text() == advice(content, "points.lender_jhf_urgent.text")


def test_free_text_only(person: Person, content: Content) -> None:
    person.say("こんにちは。住宅ローンのことで相談したいです")
    assert person.state == "privacy"
    person.say("同意します")
    assert person.state == "arrears"
    person.say("5ヶ月くらい払えていません。裁判所から封筒が来ました")
    assert person.state == "court_letter"
    person.say("期間入札の通知でした")
    assert person.state == "dates"
    person.say("令和8年12月11日")
    assert person.state == "ownership"
    person.say("夫婦の共有名義です")
    person.say("いません")
    person.say("関係ないです")
    person.say("フラット35です")
    person.say("できれば住み続けたい")
    assert person.state == "result"
    a = person.session.data["answers"]
    assert a == {**a, "arrears_months": 5, "latest_notice": "bid_notice", "kaisatsu_date": "2026-12-11",
                 "co_owned": True, "joint_guarantor": False, "divorce": "none", "lender": "jhf",
                 "wants_to_stay": True}
    s = person.last.summary
    assert s["stage"] == "bid_notice" and s["legal_last_day"] == "2026-12-10"
    assert {"very_little_time", "jhf_refuses_after_filing", "co_owners_must_agree", "leaseback_wish"} <= set(
        s["special_cases"])
    assert "12月9日（水）" in person.row(1)
    assert "point:lender" in person.points() and "point:leaseback" in person.points()
    # and then asks for a person, in words
    r = person.say("電話で相談したいです")
    assert "handoff" in r.signals and person.state == "contact"
    person.say("はい")
    person.say("佐藤と申します")
    person.say("090-1111-2222")
    r = person.say("夕方以降でお願いします")
    assert person.state == "handoff" and {"handoff", "lead"} <= r.signals
    assert person.session.data["contact"]["phone"] == "09011112222"
    assert person.session.data["contact"]["name"] == "佐藤"
    assert r.summary["lead_score"] >= 60


def test_asks_for_a_person_at_the_first_question(person: Person, content: Content) -> None:
    person.send("follow")
    person.tap("consent:yes")
    r = person.say("人と話したい")
    assert "handoff" in r.signals and person.state == "contact"
    assert content.text("legal.contact_consent") in r.answer.plain_text()
    assert r.summary["step"] == "contact"
    r = person.tap("contact:wait")
    assert person.state == "handoff" and "handoff" in r.signals and "lead" not in r.signals
    assert content.text("dialog.states.handoff.text_wait") in r.answer.plain_text()
    # the operator hands back: the pending question again
    r = person.send("handback")
    assert person.state == "arrears" and "arrears:3-5" in [q.data for q in r.answer.quick_replies]
