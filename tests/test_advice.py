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
     dict(est=(D(2027, 2, 1), D(2027, 8, 1)), note="estimate_from_start_decision", doubts=[],
          stage="auction_start")),
    ("start_decision_old", T, _c(start_decision_date=D(2026, 6, 1)),
     dict(est=(D(2027, 1, 3), D(2027, 4, 1)), note="estimate_from_start_decision", doubts=["dates_old"])),
    ("start_decision_very_old", T, _c(start_decision_date=D(2025, 9, 1)),
     dict(est=(None, None), note="dates_old", doubts=["dates_old"], legal=None)),
    # -- only the 現況調査 known
    ("inspection_letter", T, _c(latest_notice="site_inspection"),
     dict(est=(D(2027, 3, 3), D(2027, 7, 3)), note="estimate_from_site_inspection")),
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
