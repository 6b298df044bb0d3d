"""Issue 11: deadlines on court business days, the stage, and the result a homeowner sees.

The deadline table is written by hand from the calendar (weekdays checked against
``jpholiday`` and the 裁判所の休日に関する法律: Sat, Sun, national holidays, 12/29–1/3),
not computed by the code under test.
"""
from __future__ import annotations

import datetime as dt

import pytest

from dialogs.assessment import Case, assess, court_closed, date_doubts, stage, time_left

D = dt.date
T = D(2026, 12, 3)  # a Thursday


def _c(**kw) -> Case:
    return Case(**kw)


# id, today, case, expected fields (only the ones named are checked)
DEADLINE_TABLE = [
    # -- 開札 on a weekday: legal last day = the business day before, plan = the one before that
    ("fri", T, _c(kaisatsu_date=D(2026, 12, 11)),
     dict(legal=D(2026, 12, 10), plan=D(2026, 12, 9), days=6, note="exact_dates", stage="bid_notice")),
    ("mon_over_weekend", T, _c(kaisatsu_date=D(2026, 12, 14)),
     dict(legal=D(2026, 12, 11), plan=D(2026, 12, 10), days=7)),
    ("tue_plan_on_fri", T, _c(kaisatsu_date=D(2026, 12, 15)),
     dict(legal=D(2026, 12, 14), plan=D(2026, 12, 11), days=8)),
    ("wed", T, _c(kaisatsu_date=D(2026, 12, 16)),
     dict(legal=D(2026, 12, 15), plan=D(2026, 12, 14), days=11)),
    ("plan_tomorrow", T, _c(kaisatsu_date=D(2026, 12, 8)),
     dict(legal=D(2026, 12, 7), plan=D(2026, 12, 4), days=1, phase="plan")),
    ("plan_today", T, _c(kaisatsu_date=D(2026, 12, 7)),
     dict(legal=D(2026, 12, 4), plan=D(2026, 12, 3), days=0, phase="plan")),
    ("kaisatsu_tomorrow", T, _c(kaisatsu_date=D(2026, 12, 4)),
     dict(legal=D(2026, 12, 3), plan=D(2026, 12, 2), days=-1, phase="legal", stage="bid_notice")),
    ("kaisatsu_today", T, _c(kaisatsu_date=D(2026, 12, 3)),
     dict(legal=D(2026, 12, 2), phase="passed", stage="after_kaisatsu", note="after_kaisatsu")),
    ("kaisatsu_yesterday", T, _c(kaisatsu_date=D(2026, 12, 2)),
     dict(phase="passed", stage="after_kaisatsu")),
    # -- 開札 on a closed day: a likely misreading, nothing computed from it
    ("kaisatsu_sat", T, _c(kaisatsu_date=D(2026, 12, 5)),
     dict(legal=None, plan=None, note="date_doubt", doubts=["kaisatsu_closed_day"], stage="bid_notice")),
    ("kaisatsu_sun", T, _c(kaisatsu_date=D(2026, 12, 6)),
     dict(legal=None, note="date_doubt", doubts=["kaisatsu_closed_day"])),
    ("kaisatsu_past_holiday", T, _c(kaisatsu_date=D(2026, 11, 23)),
     dict(legal=None, note="date_doubt", stage="bid_notice", doubts=["kaisatsu_closed_day"])),
    ("kaisatsu_dec30", T, _c(kaisatsu_date=D(2026, 12, 30)),
     dict(legal=None, note="date_doubt", doubts=["kaisatsu_closed_day"])),
    ("kaisatsu_jan1", T, _c(kaisatsu_date=D(2027, 1, 1)),
     dict(legal=None, note="date_doubt", doubts=["kaisatsu_closed_day"])),
    # -- the year end (12/29–1/3 closed)
    ("jan4", T, _c(kaisatsu_date=D(2027, 1, 4)),
     dict(legal=D(2026, 12, 28), plan=D(2026, 12, 25), days=22)),
    ("jan5", T, _c(kaisatsu_date=D(2027, 1, 5)),
     dict(legal=D(2027, 1, 4), plan=D(2026, 12, 28), days=25)),
    ("jan6", T, _c(kaisatsu_date=D(2027, 1, 6)),
     dict(legal=D(2027, 1, 5), plan=D(2027, 1, 4), days=32)),
    # -- national holidays (jpholiday)
    ("after_seijin_no_hi", T, _c(kaisatsu_date=D(2027, 1, 12)),
     dict(legal=D(2027, 1, 8), plan=D(2027, 1, 7), days=35)),
    ("after_kenkoku", T, _c(kaisatsu_date=D(2027, 2, 12)),
     dict(legal=D(2027, 2, 10), plan=D(2027, 2, 9), days=68)),
    ("after_tenno_tanjobi", T, _c(kaisatsu_date=D(2027, 2, 24)),
     dict(legal=D(2027, 2, 22), plan=D(2027, 2, 19), days=78)),
    ("golden_week", T, _c(kaisatsu_date=D(2027, 5, 7)),
     dict(legal=D(2027, 5, 6), plan=D(2027, 4, 30), days=148)),
    ("furikae_kyujitsu", T, _c(kaisatsu_date=D(2027, 3, 23)),
     dict(legal=D(2027, 3, 19), plan=D(2027, 3, 18))),
    ("silver_week", D(2026, 9, 1), _c(kaisatsu_date=D(2026, 9, 24)),
     dict(legal=D(2026, 9, 18), plan=D(2026, 9, 17), days=16)),
    # -- the ideal day: before the bidding period opens
    ("ideal_from_bidding", T, _c(kaisatsu_date=D(2027, 1, 8), bidding_start=D(2026, 12, 24)),
     dict(ideal=D(2026, 12, 23), legal=D(2027, 1, 7), plan=D(2027, 1, 6))),
    ("ideal_over_year_end", T, _c(kaisatsu_date=D(2027, 1, 15), bidding_start=D(2027, 1, 4)),
     dict(ideal=D(2026, 12, 28), legal=D(2027, 1, 14), plan=D(2027, 1, 13))),
    ("ideal_before_holiday", D(2026, 11, 2), _c(kaisatsu_date=D(2026, 12, 11), bidding_start=D(2026, 11, 24)),
     dict(ideal=D(2026, 11, 20))),
    ("ideal_rough", T, _c(kaisatsu_date=D(2026, 12, 28)),
     dict(ideal=D(2026, 12, 14), legal=D(2026, 12, 25), plan=D(2026, 12, 24))),
    ("ideal_rough_holiday", T, _c(kaisatsu_date=D(2027, 1, 25)),
     dict(ideal=D(2027, 1, 8), legal=D(2027, 1, 22), plan=D(2027, 1, 21))),
    # -- only the 開始決定 known
    ("start_decision", T, _c(start_decision_date=D(2026, 10, 1)),
     dict(est=(D(2027, 2, 1), D(2027, 7, 30)), note="estimate_from_start_decision", doubts=[],
          stage="auction_start")),
    ("start_decision_old", T, _c(start_decision_date=D(2026, 6, 1)),
     dict(est=(D(2027, 1, 4), D(2027, 4, 1)), note="estimate_from_start_decision", doubts=["dates_old"])),
    ("start_decision_very_old", T, _c(start_decision_date=D(2025, 9, 1)),
     dict(est=(None, None), note="dates_old", doubts=["dates_old"], legal=None)),
    # -- only the 現況調査 known
    ("inspection_letter", T, _c(latest_notice="site_inspection"),
     dict(est=(D(2027, 3, 3), D(2027, 7, 2)), note="estimate_from_site_inspection")),
    ("inspection_date_ahead", T, _c(latest_notice="site_inspection", inspection_date=D(2026, 12, 15)),
     dict(est=(D(2027, 3, 15), D(2027, 7, 15)), note="estimate_from_site_inspection", doubts=[])),
    ("inspection_date_old", T, _c(latest_notice="site_inspection", inspection_date=D(2026, 5, 1)),
     dict(est=(None, None), note="dates_old", doubts=["dates_old"])),
    # -- both dates narrow the range
    ("both_dates", T, _c(start_decision_date=D(2026, 10, 1), inspection_date=D(2026, 11, 10),
                         latest_notice="site_inspection"),
     dict(est=(D(2027, 2, 10), D(2027, 6, 10)), note="estimate_from_court_dates")),
    # -- bidding period only; past dates
    ("bidding_end_only", T, _c(bidding_end=D(2026, 12, 10)),
     dict(est=(D(2026, 12, 11), D(2026, 12, 17)), note="estimate_from_bidding", legal=None)),
    ("bidding_long_past", T, _c(bidding_end=D(2026, 11, 20)),
     dict(stage="after_kaisatsu", legal=None)),
]


@pytest.mark.parametrize("today, case, want", [r[1:] for r in DEADLINE_TABLE], ids=[r[0] for r in DEADLINE_TABLE])
def test_deadline_table(today: dt.date, case: Case, want: dict) -> None:
    tl = time_left(case, today)
    got = dict(legal=tl.legal_last_day, plan=tl.plan_by, ideal=tl.ideal_by, days=tl.days_to_plan_by,
               phase=tl.phase, note=tl.window_note, est=(tl.estimate_from, tl.estimate_to),
               stage=stage(case, today), doubts=date_doubts(case, today))
    assert {k: got[k] for k in want} == want
    for d in (tl.legal_last_day, tl.plan_by, tl.ideal_by, tl.kaisatsu):
        assert d is None or not court_closed(d), d  # never a day the court is closed


def test_table_has_enough_rows() -> None:
    assert len(DEADLINE_TABLE) >= 30


def test_court_closed_days() -> None:
    assert court_closed(D(2026, 12, 5)) and court_closed(D(2026, 12, 6))  # Sat, Sun
    assert court_closed(D(2026, 11, 23))  # 勤労感謝の日
    assert all(court_closed(D(2026, 12, d)) for d in (29, 30, 31))
    assert all(court_closed(D(2027, 1, d)) for d in (1, 2, 3))
    assert not court_closed(D(2026, 12, 28)) and not court_closed(D(2027, 1, 4))


# ---------------------------------------------------------------------------
# The stage is never understated
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("case, st, basis", [
    (_c(arrears_months=2, latest_notice="dunning"), "dunning", "letter"),
    (_c(arrears_months=4, latest_notice="dunning"), "acceleration", "arrears"),
    (_c(arrears_months=12, latest_notice="dunning"), "subrogation", "arrears"),
    (_c(arrears_months=6, latest_notice="none"), "subrogation", "arrears"),
    (_c(arrears_months=6, latest_notice="unknown"), "subrogation", "arrears"),
    (_c(arrears_months=12, latest_notice="auction_start"), "auction_start", "letter"),
    (_c(arrears_months=3), "dunning", "arrears"),
    (_c(), "unknown", "none"),
])
def test_stage_from_arrears(case: Case, st: str, basis: str) -> None:
    a = assess(case, T)
    assert (a.stage, a.stage_basis) == (st, basis)
    assert a.to_dict()["stage_basis"] == basis


def test_unknown_is_not_cold() -> None:
    assert assess(_c(), T).urgency == "warm"
    assert assess(_c(latest_notice="unknown"), T).urgency == "warm"
    assert assess(_c(arrears_months=12, latest_notice="dunning"), T).urgency == "hot"


def test_old_dates_flagged_for_the_operator() -> None:
    a = assess(_c(start_decision_date=D(2025, 9, 1)), T)
    assert a.date_doubts == ["dates_old"]
    assert any("執行係" in r for r in a.reasons)
    a = assess(_c(kaisatsu_date=D(2026, 12, 6)), T)
    assert a.date_doubts == ["kaisatsu_closed_day"] and a.urgency == "hot"
    assert a.to_dict()["date_doubts"] == ["kaisatsu_closed_day"]


# ---------------------------------------------------------------------------
# The result a homeowner sees, through the real dialog and the real content
# ---------------------------------------------------------------------------

import json  # noqa: E402
import re  # noqa: E402
from typing import Any  # noqa: E402

from bot.content import Content, load_content, utf16_len  # noqa: E402
from dialogs import advice  # noqa: E402
from dialogs.answer import Card, Text  # noqa: E402
from dialogs.base import DialogInput, DialogResult, Session  # noqa: E402
from dialogs.diagnosis import DiagnosisDialog  # noqa: E402

JST = dt.timezone(dt.timedelta(hours=9))
DAY, NIGHT = dt.datetime(2026, 12, 3, 10, 0, tzinfo=JST), dt.datetime(2026, 12, 3, 23, 30, tzinfo=JST)


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content("content")


class Person:
    def __init__(self, content: Content, today: dt.date = T, now: dt.datetime | None = None) -> None:
        self.c, self.dialog, self.today, self.now = content, DiagnosisDialog(content), today, now
        self.session = Session()
        self.last: DialogResult | None = None
        self.send("follow")
        self.tap("consent:yes")

    def send(self, kind: str, **kw: Any) -> DialogResult:
        self.session = Session(self.session.state, json.loads(json.dumps(self.session.data)))
        inp = DialogInput(kind=kind, today=self.today, now=self.now, **kw)
        self.last = self.dialog.step(self.session, inp)
        check_line_limits(self.last)
        return self.last

    def tap(self, *data: str, date: str | None = None) -> DialogResult:
        for d in data:
            self.send("postback", data=d, params={"date": date} if date else None)
        return self.last

    def say(self, text: str) -> DialogResult:
        return self.send("text", text=text)

    def card(self) -> Card:
        return next(m for m in self.last.answer.messages if isinstance(m, Card))

    def row(self, i: int) -> str:
        return self.card().rows[i][1]

    def text(self) -> str:
        return self.last.answer.plain_text()

    def points(self) -> list[str]:
        return [q.data for q in self.last.answer.quick_replies if (q.data or "").startswith("point:")]

    def t(self, key: str, **kw: Any) -> str:
        return self.c.text(f"knowledge.advice.{key}", **kw)


def check_line_limits(r: DialogResult) -> None:
    ans = r.answer
    assert len(ans.messages) <= 5 and len(ans.quick_replies) <= 13
    for q in ans.quick_replies:
        assert utf16_len(q.label) <= 20, q.label
    for m in ans.messages:
        if isinstance(m, Text):
            assert utf16_len(m.text) <= 5000
        if isinstance(m, Card):
            assert utf16_len(m.alt_text) <= 1500 and len(m.buttons) <= 4
            assert len(m.rows) == 3 and m.paragraphs == []  # no card exceeds three lines before its buttons


ANSWERS = ("own:single", "guarantor:no", "divorce:none", "lender:bank", "stay:no")


def to_result(p: Person, *taps: str, date: str | None = None, rest: tuple[str, ...] = ANSWERS) -> DialogResult:
    p.tap(*taps)
    if date:
        kind = {"bid_notice": "kaisatsu", "auction_start": "start_decision", "site_inspection": "inspection"}
        field = next(kind[t.split(":")[1]] for t in reversed(taps) if t.split(":")[1] in kind)
        p.tap(f"date:{field}", date=date)
    r = p.tap(*rest)
    assert p.session.state == "result"
    return r


_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")


def _dates_in(text: str, today: dt.date) -> list[dt.date]:
    return [D(int(y) if y else today.year, int(m), int(d)) for y, m, d in _DATE.findall(text)]


def test_the_card_is_three_lines_and_the_points_sit_behind_buttons(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:bid_notice", date="2026-12-14",
              rest=("own:shared", "guarantor:yes", "divorce:none", "lender:jhf", "stay:yes"))
    assert [r[0] for r in p.card().rows] == ["今の段階", "いつまでに", "今日やること"]
    assert p.row(1) == p.t("by_when.plan", date="12月10日（木）", days=7)
    assert p.points() == ["point:lender", "point:co_owners", "point:guarantor", "point:alternatives",
                          "point:moving", "point:leaseback", "point:credit", "point:worries"]
    # no point's text is in the result itself
    for key in advice.POINT_KEYS:
        assert p.t(f"points.{key}.text") not in p.text()
    # each tap shows one point, which is then no longer offered; the rest stay reachable
    shown = []
    while p.points():
        pid = p.points()[0]
        r = p.tap(pid)
        assert len(r.answer.messages) == 1 and pid not in p.points()
        shown.append(r.answer.plain_text())
    assert len(shown) == 8 and len(set(shown)) == 8
    assert p.t("points.lender_jhf_filed.text") in shown and p.t("points.leaseback.text") in shown


def test_a_point_that_does_not_apply_is_not_shown(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:1-2", "notice:dunning")
    r = p.tap("point:after_kaisatsu")
    assert p.t("points.after_kaisatsu.text") not in r.answer.plain_text()
    assert p.session.state == "result"


@pytest.mark.parametrize("kaisatsu", ["2026-12-07", "2026-12-04", "2026-12-08", "2026-12-14", "2027-01-05",
                                      "2027-01-12", "2027-05-07"])
def test_no_target_date_in_the_past_and_no_closed_day(content: Content, kaisatsu: str) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:bid_notice", date=kaisatsu)
    dates_bubble = p.last.answer.messages[3].text
    for d in _dates_in(p.row(1), T) + _dates_in(dates_bubble, T):
        assert d >= T and not court_closed(d), (kaisatsu, d)
    assert "あと0日" not in p.text()


def test_plan_day_today_says_today_is_the_last_day(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:bid_notice", date="2026-12-07")  # plan = 12/3 (today)
    assert p.row(1) == p.t("by_when.plan_today", date="12月3日（木）") and "今日" in p.row(1)
    p2 = Person(content)
    to_result(p2, "arrears:6+", "notice:bid_notice", date="2026-12-04")  # 開札 tomorrow: legal day today
    assert p2.row(1) == p2.t("by_when.legal_today", date="12月3日（木）")
    assert "12月2日" not in p2.text()  # the passed planning day is never shown


def test_no_today_at_night(content: Content) -> None:
    night = Person(content, now=NIGHT)
    to_result(night, "arrears:6+", "notice:bid_notice", date="2026-12-08")
    assert "今日のうちに" not in night.text()
    assert night.card().rows[2][0] == content.text("dialog.states.result.rows.todo_night")
    assert night.t("urgent.night") in night.text()
    assert night.t("situation.days.text", when=night.t("when.night")) in night.text()
    day = Person(content, now=DAY)
    to_result(day, "arrears:6+", "notice:bid_notice", date="2026-12-08")
    assert day.t("urgent.day") in day.text() and "今日のうちに" in day.text()
    assert day.card().rows[2][0] == "今日やること"


def test_honest_by_time_left(content: Content) -> None:
    weeks = Person(content)
    to_result(weeks, "arrears:6+", "notice:bid_notice", date="2027-01-12")
    assert weeks.t("situation.weeks.text") in weeks.text()
    days = Person(content)
    to_result(days, "arrears:6+", "notice:bid_notice", date="2026-12-11")
    assert days.t("situation.days.text", when=days.t("when.unknown")) in days.text()
    assert days.row(2) == days.t("todo.days")
    closed = Person(content)
    closed.tap("arrears:6+", "notice:bid_notice")
    closed.say("入札期間は11月24日から12月1日、開札は12月8日です")
    closed.tap(*ANSWERS)
    assert closed.session.data["answers"]["bidding_end"] == "2026-12-01"
    assert closed.t("situation.bidding_closed.text", when=closed.t("when.unknown")) in closed.text()
    after = Person(content)
    to_result(after, "arrears:6+", "notice:bid_notice", date="2026-11-30")
    assert after.row(1) == after.t("by_when.after_kaisatsu")
    assert after.t("situation.after_kaisatsu.text") in after.text()
    assert after.points()[0] == "point:after_kaisatsu"
    path = after.tap("point:after_kaisatsu").answer.plain_text()
    assert path == after.t("points.after_kaisatsu.text")
    assert all(w in path for w in ("売却許可決定", "確定", "代金納付", "引渡命令", "6か月", "強制執行", "特別売却"))


def test_a_closed_day_kaisatsu_is_questioned_then_corrected(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:bid_notice", date="2026-12-13")  # a Sunday
    s = p.last.summary
    assert s["date_doubts"] == ["kaisatsu_closed_day"] and s["legal_last_day"] is None
    doubt = p.t("doubts.kaisatsu_closed_day.text", date="12月13日（日）", closed=p.t("closed_day.sunday"))
    assert doubt in p.text()
    assert p.row(1) == p.t("by_when.date_doubt")
    assert "12月11日" not in p.text() and "12月10日" not in p.text()  # nothing computed from it
    assert p.last.answer.quick_replies[0].data == "date:kaisatsu"
    # the person looks again and writes the date
    p.say("開札は12月14日でした")
    assert p.session.state == "result"
    assert p.last.summary["date_doubts"] == [] and p.last.summary["legal_last_day"] == "2026-12-11"
    assert p.row(1) == p.t("by_when.plan", date="12月10日（木）", days=7)
    # or picks it with the button
    p.tap("date:kaisatsu", date="2027-01-01")
    assert p.t("closed_day.year_end") in p.text()


def test_never_understated_from_arrears(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:dunning")
    assert p.last.summary["stage"] == "subrogation" and p.last.summary["stage_basis"] == "arrears"
    assert p.row(0) == p.t("stage_line.from_arrears_subrogation")
    assert p.t("situation.from_arrears_subrogation.text") in p.text()
    assert "余裕" not in p.text()
    assert p.last.summary["urgency"] == "hot"


def test_an_unidentified_court_letter_stays_a_court_letter(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:court", "court:unknown", "date:unknown")
    assert p.session.data["answers"]["court_letter_unknown"] is True
    assert p.row(0) == p.t("stage_line.court_letter_unknown")
    assert p.row(2) == p.t("todo.court_letter_unknown")
    assert p.t("situation.court_letter_unknown.text") in p.text()
    assert content.text("knowledge.stages.auction_start.title") not in p.text()
    # named later: no longer unknown
    p.say("期間入札の通知でした")
    assert p.session.data["answers"]["court_letter_unknown"] is False


def test_a_later_message_never_moves_the_case_back(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:auction_start", "date:unknown")
    assert p.last.summary["stage"] == "auction_start"
    p.say("そういえば督促状も来ていました")
    assert p.last.summary["stage"] == "auction_start"
    assert p.session.data["answers"]["latest_notice"] == "auction_start"
    p.say("催告書も届いています")
    assert p.last.summary["stage"] == "auction_start"


def test_old_dates_ask_the_court_and_flag_the_operator(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:auction_start", date="2025-09-01")
    s = p.last.summary
    assert s["date_doubts"] == ["dates_old"] and s["time_left"]["window_note"] == "dates_old"
    assert any("執行係" in r for r in s["reasons"])
    assert p.t("doubts.dates_old.text") in p.text()
    assert p.row(1) == p.t("by_when.ask_court") and p.row(2) == p.t("todo.ask_court")
    lines = dict(advice.case_lines(advice.case_from(p.session.data), T, content))
    assert lines["要確認"] == content.text("dialog.states.result.checks.dates_old")


def test_the_inspection_date_is_used(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:site_inspection", date="2026-12-15")
    s = p.last.summary
    assert s["inspection_date"] == "2026-12-15"
    assert (s["time_left"]["estimate_from"], s["time_left"]["estimate_to"]) == ("2027-03-15", "2027-07-15")
    assert p.row(1) == p.t("by_when.estimate", date_from="2027年3月15日（月）", date_to="2027年7月15日（木）")


def test_flat35_by_stage(content: Content) -> None:
    early = Person(content)
    to_result(early, "arrears:1-2", "notice:dunning",
              rest=("own:single", "guarantor:no", "divorce:none", "lender:jhf", "stay:no"))
    assert early.tap("point:lender").answer.plain_text() == early.t("points.lender_jhf_early.text")
    assert "返済方法の変更" in early.text()
    urgent = Person(content)
    to_result(urgent, "arrears:3-5", "notice:acceleration",
              rest=("own:single", "guarantor:no", "divorce:none", "lender:jhf", "stay:no"))
    assert urgent.row(2) == urgent.t("todo.jhf_urgent")
    assert "申出書" in urgent.tap("point:lender").answer.plain_text()
    assert urgent.tap("point:moving").answer.plain_text() == urgent.t("points.moving_jhf.text")


def test_alternatives_guarantor_tax_and_worries(content: Content) -> None:
    p = Person(content)
    p.tap("arrears:6+", "notice:subrogation")
    # keys another developer's understanding fills (Reading.guarantor_self, Reading.tax_seizure)
    p.session.data["answers"].update(user_is_guarantor=True, tax_seizure=True)
    to_result(p)
    alt = p.tap("point:alternatives").answer.plain_text()
    assert all(w in alt for w in ("個人再生", "198条2項", "6か月", "197条", "自己破産", "法テラス", "0570-078374"))
    assert p.tap("point:guarantor").answer.plain_text() == p.t("points.guarantor_self.text")
    assert "残りのローン全部" in p.text() and "ペアローン" in p.text()
    tax = p.tap("point:tax").answer.plain_text()
    assert tax == p.t("points.tax.text") and "公売" in tax and "自己破産をしても" in tax
    worries = p.tap("point:worries").answer.plain_text()
    assert all(w in worries for w in ("差押の登記", "勤務先", "判決", "費用", "わざと滞納"))
    assert "leaseback" not in " ".join(p.points())


def test_credit_and_leaseback_say_the_true_terms(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:3-5", "notice:acceleration",
              rest=("own:single", "guarantor:no", "divorce:none", "lender:bank", "stay:yes"))
    credit = p.tap("point:credit").answer.plain_text()
    assert "返している間" in credit and "5年" in credit
    lease = p.tap("point:leaseback").answer.plain_text()
    assert all(w in lease for w in ("高く", "2〜3年", "買い戻す"))
    moving = p.tap("point:moving").answer.plain_text()
    assert moving == p.t("points.moving_bank.text") and "約束はできません" in moving and "立退料" in moving


def test_case_lines_show_the_same_facts_as_the_card(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:bid_notice", date="2026-12-14",
              rest=("own:shared", "guarantor:no", "divorce:done", "lender:bank", "stay:no"))
    lines = advice.case_lines(advice.case_from(p.session.data), T, content)
    assert lines[:3] == p.card().rows
    d = dict(lines)
    assert d["取り下げの最終期限（一般的な考え方）"] == "12月11日（金）" and d["開札"] == "12月14日（月）"
    assert "共有名義のこと" in d["当てはまる点"] and "離婚のこと" not in d["当てはまる点"]


def test_summary_keys_stay_and_new_ones_are_added(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:bid_notice", date="2026-12-14")
    s = p.last.summary
    for k in ("stage", "urgency", "lead_score", "reasons", "kaisatsu", "legal_last_day", "time_left",
              "special_cases", "score", "sort_key", "step"):
        assert k in s, k
    assert (s["plan_by"], s["days_left"], s["stage_basis"], s["date_doubts"]) == ("2026-12-10", 7, "letter", [])
    assert s["time_left"]["days_to_legal_last_day"] == 8


def test_privacy_notice_says_consent_fee_and_who_negotiates(content: Content) -> None:
    text = content.text("legal.privacy_notice")
    assert all(w in text for w in ("同意なしに", "借入先", "家族", "勤務先", "仲介手数料", "弁護士"))


def test_notice_buttons_in_plain_words(content: Content) -> None:
    labels = {b["data"]: b["label"] for b in content.get("dialog.states.notice.buttons")}
    assert labels["notice:acceleration"] == "一括で払うよう求める手紙"
    assert not any("期限の利益" in v or "代位弁済" in v for v in labels.values())


def test_points_stay_offered_after_a_question_at_the_result(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:bid_notice", date="2026-12-14",
              rest=("own:shared", "guarantor:no", "divorce:none", "lender:bank", "stay:no"))
    p.tap("point:co_owners")
    r = p.say("引っ越し代は出ますか？")
    assert "Q. " in r.answer.plain_text() and p.session.state == "result"
    assert p.points() == ["point:alternatives", "point:moving", "point:credit", "point:worries"]
    p.say("信用情報のこと")  # a label typed counts as the button
    assert p.last.answer.plain_text() == p.t("points.credit.text")


def test_the_operator_sees_a_guess_as_a_guess() -> None:
    a = assess(_c(arrears_months=12, latest_notice="dunning"), T)
    assert a.reasons[0].startswith("代位弁済・裁判所の手紙の可能性") and "推定" in a.reasons[0]
    assert "代位弁済あり" not in a.reasons
    assert assess(_c(latest_notice="subrogation"), T).reasons[0] == "代位弁済あり"


def test_night_is_judged_in_jst() -> None:
    assert advice.is_night(dt.datetime(2026, 12, 3, 14, 0, tzinfo=dt.timezone.utc)) is True  # 23:00 JST
    assert advice.is_night(dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.timezone.utc)) is False  # 10:00 JST
    assert advice.is_night(dt.datetime(2026, 12, 3, 7, 59, tzinfo=JST)) is True
    assert advice.is_night(dt.datetime(2026, 12, 3, 8, 0, tzinfo=JST)) is False
    assert advice.is_night(dt.datetime(2026, 12, 3, 20, 0, tzinfo=JST)) is True
    assert advice.is_night(None) is None


def test_a_restart_offers_the_points_again(content: Content) -> None:
    p = Person(content)
    to_result(p, "arrears:6+", "notice:acceleration")
    p.tap("point:worries")
    assert "point:worries" not in p.points()
    p.tap("cmd:restart")
    to_result(p, "arrears:6+", "notice:acceleration")
    assert "point:worries" in p.points()


def test_point_postbacks_have_their_labels_for_transcripts(content: Content) -> None:
    d = DiagnosisDialog(content)
    assert d.label_for("point:lender") == "フラット35のこと"
    assert d.label_for("point:co_owners") == "共有名義のこと"
    assert {d.label_for(f"point:{p}") for p in advice.POINTS} >= {"開札のあとの流れ", "知られる？費用は？"}
    assert None not in {d.label_for(f"point:{p}") for p in advice.POINTS}


@pytest.mark.parametrize("today, case", [
    (T, _c(start_decision_date=D(2026, 10, 1))), (T, _c(latest_notice="site_inspection")),
    (T, _c(arrears_months=8, latest_notice="subrogation")), (T, _c(arrears_months=4)),
    (T, _c(start_decision_date=D(2026, 6, 1))), (T, _c(bidding_start=D(2026, 12, 1))),
])
def test_estimated_court_dates_never_fall_on_a_closed_day(today, case) -> None:
    """An estimate of 開札 or of the 開始決定 is a range of court dates: both ends are days
    the court is open (no 「3月20日（土）〜」)."""
    tl = time_left(case, today)
    ends = [d for d in (tl.estimate_from, tl.estimate_to, tl.auction_start_from, tl.auction_start_to) if d]
    assert ends and not [d for d in ends if court_closed(d)], ends
