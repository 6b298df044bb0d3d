"""Tests for dialogs/assessment.py (pure: every call gets ``today`` explicitly)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.assessment import (
    ALL_STAGES,
    NOTICES,
    SPECIAL_CASES,
    Assessment,
    Case,
    TimeLeft,
    add_months,
    court_closed,
    assess,
    inbox_sort_key,
    lead_score,
    special_cases,
    stage,
    time_left,
    urgency,
)

D = dt.date
TODAY = D(2026, 11, 27)


# ---------------------------------------------------------------------------
# add_months
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "d, n, expected",
    [
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2026, 11, 27), 2, D(2027, 1, 27)),
        (D(2026, 3, 31), -1, D(2026, 2, 28)),
        (D(2026, 1, 15), -13, D(2024, 12, 15)),
    ],
)
def test_add_months(d, n, expected):
    assert add_months(d, n) == expected


# ---------------------------------------------------------------------------
# time_left: exact dates
# ---------------------------------------------------------------------------


def test_exact_deadlines_from_kaisatsu():
    tl = time_left(Case(kaisatsu_date=D(2026, 12, 11)), TODAY)
    assert tl.kaisatsu == D(2026, 12, 11)
    assert tl.legal_last_day == D(2026, 12, 10)  # day before 開札
    assert tl.plan_by == D(2026, 12, 9)  # 2 days before 開札
    assert tl.ideal_by == D(2026, 11, 27)  # 開札 − 14 days (rough)
    assert tl.ideal_by_rough is True
    assert tl.days_to_legal_last_day == 13
    assert tl.is_estimate is False
    assert tl.estimate_from is None and tl.estimate_to is None
    assert tl.window_note == "exact_dates"


def test_ideal_by_uses_bidding_start_when_known():
    case = Case(kaisatsu_date=D(2026, 12, 11), bidding_start=D(2026, 11, 24), bidding_end=D(2026, 12, 1))
    tl = time_left(case, TODAY)
    assert tl.ideal_by == D(2026, 11, 20)  # 11/23 勤労感謝の日 and the weekend before are closed
    assert tl.ideal_by_rough is False
    assert tl.legal_last_day == D(2026, 12, 10)
    assert tl.plan_by == D(2026, 12, 9)
    assert tl.days_to_legal_last_day == 13


def test_deadlines_across_month_and_year_end():
    # issue 11: court business days; 12/29–1/3 and the weekend are closed
    tl = time_left(Case(kaisatsu_date=D(2027, 1, 5)), D(2026, 12, 1))
    assert tl.legal_last_day == D(2027, 1, 4)
    assert tl.plan_by == D(2026, 12, 28)
    assert tl.ideal_by == D(2026, 12, 22)
    assert tl.days_to_legal_last_day == 34
    tl = time_left(Case(kaisatsu_date=D(2028, 3, 1)), D(2028, 2, 1))  # leap year
    assert tl.legal_last_day == D(2028, 2, 29)
    assert tl.plan_by == D(2028, 2, 28)


@pytest.mark.parametrize(
    "today, phase, deadline",
    [
        (D(2026, 11, 1), "ideal", D(2026, 11, 27)),
        (D(2026, 11, 27), "ideal", D(2026, 11, 27)),  # the deadline day itself still counts
        (D(2026, 11, 28), "plan", D(2026, 12, 9)),
        (D(2026, 12, 9), "plan", D(2026, 12, 9)),
        (D(2026, 12, 10), "legal", D(2026, 12, 10)),
        (D(2026, 12, 11), "passed", None),  # 開札 day: too late
        (D(2026, 12, 20), "passed", None),
    ],
)
def test_phase_deadline(today, phase, deadline):
    tl = time_left(Case(kaisatsu_date=D(2026, 12, 11)), today)
    assert tl.phase == phase
    assert tl.phase_deadline == deadline


def test_phase_deadline_with_bidding_start():
    case = Case(kaisatsu_date=D(2026, 12, 11), bidding_start=D(2026, 11, 24))
    # issue 11: the business day before the bidding opens (11/23 is a holiday)
    assert time_left(case, D(2026, 11, 20)).phase_deadline == D(2026, 11, 20)
    tl = time_left(case, D(2026, 11, 24))
    assert (tl.phase, tl.phase_deadline) == ("plan", D(2026, 12, 9))


def test_days_negative_after_kaisatsu():
    tl = time_left(Case(kaisatsu_date=D(2026, 12, 11)), D(2026, 12, 15))
    assert tl.days_to_legal_last_day == -5
    assert tl.window_note == "after_kaisatsu"


# ---------------------------------------------------------------------------
# time_left: estimates are never exact
# ---------------------------------------------------------------------------


def _assert_estimate_only(tl: TimeLeft):
    assert tl.is_estimate is True
    assert tl.kaisatsu is None
    assert tl.legal_last_day is None
    assert tl.plan_by is None
    assert tl.phase is None and tl.phase_deadline is None


def test_estimate_from_start_decision():
    # 開始決定 2026-10-01 → 開札 目安 4–10 months later; the early end is floored
    # at today + 1 month (no 期間入札通知 yet).
    tl = time_left(Case(start_decision_date=D(2026, 10, 1)), TODAY)
    _assert_estimate_only(tl)
    assert tl.estimate_kind == "start_decision"
    assert tl.estimate_from == D(2027, 2, 1)
    assert tl.estimate_to == D(2027, 7, 30)  # 8/1 is a Sunday: 開札 is only on court business days
    assert tl.window_note == "estimate_from_start_decision"
    # conservative count to the earliest possible legal last day (Fri 2027-01-29)
    assert tl.days_to_legal_last_day == (D(2027, 1, 29) - TODAY).days


def test_estimate_from_old_start_decision_is_floored():
    tl = time_left(Case(start_decision_date=D(2026, 5, 1)), TODAY)
    _assert_estimate_only(tl)
    assert tl.estimate_from == D(2026, 12, 28)  # today + 1 month (12/27 is a Sunday)
    assert tl.estimate_to == D(2027, 3, 1)


def test_estimate_too_old_asks_for_court_dates():
    tl = time_left(Case(start_decision_date=D(2025, 1, 1)), TODAY)
    assert tl.window_note == "dates_old" and tl.dates_old  # issue 11: says the dates are old
    assert tl.estimate_from is None and tl.kaisatsu is None


def test_estimate_from_site_inspection_only():
    tl = time_left(Case(latest_notice="site_inspection"), TODAY)
    _assert_estimate_only(tl)
    assert tl.estimate_kind == "site_inspection"
    assert tl.estimate_from == D(2027, 3, 1)  # +3 months, a Saturday: the next business day
    assert tl.estimate_to == D(2027, 6, 25)  # +7 months, a Sunday: the business day before


def test_estimate_from_bidding_end():
    case = Case(bidding_start=D(2026, 12, 1), bidding_end=D(2026, 12, 8))
    tl = time_left(case, TODAY)
    _assert_estimate_only(tl)
    assert tl.estimate_kind == "bidding"
    assert tl.estimate_from == D(2026, 12, 9)
    assert tl.estimate_to == D(2026, 12, 15)
    assert tl.ideal_by == D(2026, 11, 30)  # exact: known bidding start − 1
    assert tl.ideal_by_rough is False
    assert tl.days_to_legal_last_day == (D(2026, 12, 8) - TODAY).days


def test_estimate_from_bidding_start_only():
    tl = time_left(Case(bidding_start=D(2026, 12, 1)), TODAY)
    _assert_estimate_only(tl)
    assert tl.estimate_from == D(2026, 12, 8)
    assert tl.estimate_to == D(2027, 1, 8)


def test_arrears_only_estimate():
    # 4 months behind on 2026-11-27 → first miss ≈ 2026-07-27.
    tl = time_left(Case(arrears_months=4), TODAY)
    _assert_estimate_only(tl)
    assert tl.estimate_kind == "arrears"
    assert tl.auction_start_from == D(2027, 1, 27)  # M6
    assert tl.auction_start_to == D(2027, 4, 27)  # M9
    assert tl.estimate_from == D(2027, 5, 27)  # M10
    assert tl.estimate_to == D(2027, 7, 27)  # M12
    assert tl.days_to_legal_last_day is None  # too coarse to count days
    assert tl.window_note == "auction_could_start"


def test_arrears_estimate_clamped_and_any_time():
    tl = time_left(Case(arrears_months=8, latest_notice="subrogation"), TODAY)
    assert tl.auction_start_from == TODAY
    assert tl.auction_start_to == D(2026, 12, 25)  # first miss ≈ 2026-03-27, M9 (a Sunday: Fri)
    assert (tl.estimate_from, tl.estimate_to) == (D(2027, 1, 27), D(2027, 3, 26))  # M10–M12
    assert tl.window_note == "auction_could_start_any_time"
    tl = time_left(Case(arrears_months=14), TODAY)
    assert tl.auction_start_from is None and tl.estimate_from is None
    assert tl.is_estimate is False
    assert tl.window_note == "auction_could_start_any_time"


@pytest.mark.parametrize(
    "case, note",
    [
        (Case(), "unknown"),
        (Case(arrears_months=0), "not_behind"),
        (Case(latest_notice="auction_start"), "ask_court_dates"),
        (Case(latest_notice="bid_notice"), "ask_court_dates"),
        (Case(latest_notice="acceleration"), "auction_could_start"),
    ],
)
def test_window_notes(case, note):
    assert time_left(case, TODAY).window_note == note


_dates = st.dates(min_value=D(2024, 1, 1), max_value=D(2029, 12, 31))


@st.composite
def cases(draw):
    return Case(
        arrears_months=draw(st.none() | st.integers(0, 30)),
        notices=draw(st.sets(st.sampled_from(NOTICES))),
        latest_notice=draw(st.none() | st.sampled_from(NOTICES + ("none", "unknown"))),
        kaisatsu_date=draw(st.none() | _dates),
        bidding_start=draw(st.none() | _dates),
        bidding_end=draw(st.none() | _dates),
        start_decision_date=draw(st.none() | _dates),
        co_owned=draw(st.none() | st.booleans()),
        joint_guarantor=draw(st.none() | st.booleans()),
        divorce=draw(st.none() | st.sampled_from(["none", "in_progress", "done"])),
        lender=draw(st.none() | st.sampled_from(["jhf", "bank", "other", "unknown"])),
        wants_to_stay=draw(st.none() | st.booleans()),
        has_contact=draw(st.booleans()),
        wants_human=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(cases(), _dates)
def test_estimates_never_exact(case, today):
    tl = time_left(case, today)
    if case.kaisatsu_date is None or court_closed(case.kaisatsu_date):
        assert tl.kaisatsu is None and tl.legal_last_day is None and tl.plan_by is None
        assert tl.phase is None
    else:
        assert tl.is_estimate is False and tl.estimate_from is None
    if tl.estimate_from is not None or tl.auction_start_from is not None:
        assert tl.is_estimate is True
    if tl.estimate_from is not None:
        assert tl.estimate_to is not None and tl.estimate_from <= tl.estimate_to
    if tl.auction_start_from is not None:
        assert tl.auction_start_from <= tl.auction_start_to


@settings(max_examples=300, deadline=None)
@given(cases(), _dates)
def test_assess_total_and_json(case, today):
    a = assess(case, today)
    assert a.stage in ALL_STAGES
    assert a.urgency in ("hot", "warm", "cold")
    assert 0 <= a.score <= 100
    assert set(a.special_cases) <= set(SPECIAL_CASES)
    assert a.special_cases == [k for k in SPECIAL_CASES if k in a.special_cases]
    d = json.loads(json.dumps(a.to_dict()))
    assert inbox_sort_key(d) == a.sort_key
    assert Case.from_dict(json.loads(json.dumps(case.to_dict()))) == case


# ---------------------------------------------------------------------------
# stage
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, expected",
    [
        (Case(), "unknown"),
        (Case(latest_notice="unknown"), "unknown"),
        (Case(arrears_months=0), "none"),
        (Case(latest_notice="none"), "none"),
        (Case(arrears_months=0, latest_notice="none"), "none"),
        (Case(arrears_months=1), "dunning"),
        (Case(arrears_months=1, latest_notice="none"), "dunning"),
        (Case(arrears_months=8), "subrogation"),  # issue 11: never understated (may well have come)
        (Case(latest_notice="dunning"), "dunning"),
        (Case(latest_notice="acceleration", arrears_months=2), "acceleration"),
        (Case(notices={"dunning", "subrogation"}), "subrogation"),
        (Case(notices={"dunning"}, latest_notice="auction_start"), "auction_start"),
        (Case(notices={"bid_notice"}, latest_notice="dunning"), "bid_notice"),  # most advanced wins
        (Case(latest_notice="site_inspection"), "site_inspection"),
        (Case(latest_notice="bid_notice"), "bid_notice"),
        (Case(start_decision_date=D(2026, 10, 1)), "auction_start"),
        (Case(start_decision_date=D(2026, 10, 1), latest_notice="site_inspection"), "site_inspection"),
        (Case(kaisatsu_date=D(2026, 12, 11)), "bid_notice"),
        (Case(latest_notice="auction_start", kaisatsu_date=D(2026, 12, 11)), "bid_notice"),
        (Case(bidding_start=D(2026, 12, 1)), "bid_notice"),
        (Case(bidding_end=D(2026, 12, 8)), "bid_notice"),
        (Case(kaisatsu_date=D(2026, 11, 28)), "bid_notice"),
        (Case(kaisatsu_date=D(2026, 11, 27)), "after_kaisatsu"),  # 開札 day itself
        (Case(kaisatsu_date=D(2026, 11, 2), latest_notice="dunning"), "after_kaisatsu"),
        (Case(bidding_end=D(2026, 11, 20)), "bid_notice"),  # 開札 may still be today
        (Case(bidding_end=D(2026, 11, 19)), "after_kaisatsu"),  # end + 7 < today
    ],
)
def test_stage(case, expected):
    assert stage(case, TODAY) == expected


# ---------------------------------------------------------------------------
# special_cases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, key",
    [
        (Case(co_owned=True), "co_owners_must_agree"),
        (Case(joint_guarantor=True), "guarantor_must_agree"),
        (Case(divorce="in_progress"), "divorce_in_progress"),
        (Case(divorce="done"), "divorce_done"),
        (Case(divorce="done", co_owned=True), "divorce_and_co_owned"),
        (Case(divorce="in_progress", co_owned=True), "divorce_and_co_owned"),
        (Case(lender="jhf", latest_notice="auction_start"), "jhf_refuses_after_filing"),
        (Case(lender="jhf", latest_notice="bid_notice"), "jhf_refuses_after_filing"),
        (Case(lender="jhf"), "jhf_no_guarantee_company"),
        (Case(kaisatsu_date=D(2026, 11, 20)), "too_late_after_kaisatsu"),
        (Case(kaisatsu_date=D(2026, 12, 12)), "very_little_time"),  # legal last day in 14 days
        (Case(latest_notice="bid_notice"), "very_little_time"),
        (Case(arrears_months=0), "before_acceleration"),
        (Case(arrears_months=2), "before_acceleration"),
        (Case(arrears_months=6), "acceleration_likely_soon"),
        (Case(arrears_months=6, latest_notice="dunning"), "acceleration_likely_soon"),
        (Case(wants_to_stay=True), "leaseback_wish"),
        (Case(arrears_months=3), "credit_record"),
        (Case(latest_notice="acceleration"), "credit_record"),
    ],
)
def test_special_case_present(case, key):
    assert key in special_cases(case, TODAY)


@pytest.mark.parametrize(
    "case, key",
    [
        (Case(co_owned=False), "co_owners_must_agree"),
        (Case(joint_guarantor=None), "guarantor_must_agree"),
        (Case(divorce="none", co_owned=True), "divorce_and_co_owned"),
        (Case(divorce="done", co_owned=False), "divorce_and_co_owned"),
        (Case(lender="bank", latest_notice="auction_start"), "jhf_refuses_after_filing"),
        (Case(lender="jhf", latest_notice="subrogation"), "jhf_refuses_after_filing"),
        (Case(lender="jhf", kaisatsu_date=D(2026, 11, 2)), "jhf_refuses_after_filing"),
        (Case(lender="bank"), "jhf_no_guarantee_company"),
        (Case(kaisatsu_date=D(2026, 11, 28)), "too_late_after_kaisatsu"),
        (Case(start_decision_date=D(2026, 10, 1)), "very_little_time"),  # 開札 ≥ 2 months away
        (Case(kaisatsu_date=D(2026, 11, 20)), "very_little_time"),  # after 開札: too late instead
        (Case(latest_notice="acceleration"), "before_acceleration"),
        (Case(arrears_months=3), "acceleration_likely_soon"),
        (Case(arrears_months=6, latest_notice="acceleration"), "acceleration_likely_soon"),
        (Case(wants_to_stay=False), "leaseback_wish"),
        (Case(arrears_months=2), "credit_record"),
    ],
)
def test_special_case_absent(case, key):
    assert key not in special_cases(case, TODAY)


def test_very_little_time_boundary():
    # legal last day exactly 14 days away → yes; 15 days → no (when not yet bid_notice
    # by notice; a known 開札 makes the stage bid_notice, so test via the estimate).
    case14 = Case(bidding_end=TODAY + dt.timedelta(days=14))  # earliest legal last day = end
    case15 = Case(bidding_end=TODAY + dt.timedelta(days=15))
    assert time_left(case14, TODAY).days_to_legal_last_day == 14
    assert "very_little_time" in special_cases(case14, TODAY)
    # bid_notice stage always counts as very little time
    assert "very_little_time" in special_cases(case15, TODAY)


def test_special_cases_ordered_and_combined():
    case = Case(
        arrears_months=10,
        latest_notice="auction_start",
        co_owned=True,
        joint_guarantor=True,
        divorce="in_progress",
        lender="jhf",
        wants_to_stay=True,
    )
    assert special_cases(case, TODAY) == [
        "jhf_refuses_after_filing",
        "co_owners_must_agree",
        "guarantor_must_agree",
        "divorce_and_co_owned",
        "divorce_in_progress",
        "jhf_no_guarantee_company",
        "leaseback_wish",
        "credit_record",
    ]


# ---------------------------------------------------------------------------
# urgency
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, expected",
    [
        (Case(), "warm"),  # issue 11: nothing known is a reason to call
        (Case(arrears_months=0), "cold"),
        (Case(arrears_months=1), "cold"),
        (Case(arrears_months=2, latest_notice="dunning"), "cold"),
        (Case(arrears_months=3), "warm"),
        (Case(latest_notice="acceleration"), "warm"),
        (Case(arrears_months=0, divorce="in_progress", co_owned=True), "warm"),
        (Case(arrears_months=0, divorce="done", co_owned=False), "cold"),
        (Case(arrears_months=1, wants_human=True), "warm"),
        (Case(wants_human=True), "warm"),
        (Case(arrears_months=3, wants_human=True), "hot"),
        (Case(latest_notice="subrogation"), "hot"),
        (Case(latest_notice="auction_start"), "hot"),
        (Case(latest_notice="site_inspection"), "hot"),
        (Case(latest_notice="bid_notice"), "hot"),
        (Case(kaisatsu_date=D(2027, 6, 1)), "hot"),
        (Case(kaisatsu_date=D(2026, 11, 1)), "hot"),  # after 開札: help with moving
    ],
)
def test_urgency(case, expected):
    assert urgency(case, TODAY) == expected


# ---------------------------------------------------------------------------
# lead_score
# ---------------------------------------------------------------------------


def test_lead_score_reasons():
    case = Case(kaisatsu_date=D(2026, 12, 9), co_owned=True, has_contact=True, wants_human=True, arrears_months=9)
    score, reasons = lead_score(case, TODAY)
    assert 60 <= score <= 100
    assert reasons[0] == "開札まで12日"
    for r in ["期間入札の通知あり", "滞納9か月", "共有名義: 全員の同意が必要", "連絡先あり", "相談員を希望"]:
        assert r in reasons
    _, reasons = lead_score(Case(latest_notice="auction_start"), TODAY)
    assert "競売開始決定あり" in reasons
    _, reasons = lead_score(Case(start_decision_date=D(2026, 10, 1)), TODAY)
    assert reasons[0].startswith("開札の目安 2027-02-01〜2027-07-30")


def test_lead_score_deterministic():
    case = Case(arrears_months=5, lender="jhf", has_contact=True)
    assert lead_score(case, TODAY) == lead_score(case, TODAY)


def test_score_bands_follow_urgency():
    cold = lead_score(Case(arrears_months=1, has_contact=True), TODAY)[0]
    warm = lead_score(Case(arrears_months=3), TODAY)[0]
    hot = lead_score(Case(latest_notice="subrogation"), TODAY)[0]
    assert cold < 30 <= warm < 60 <= hot


@settings(max_examples=300, deadline=None)
@given(cases(), _dates)
def test_score_band_matches_urgency(case, today):
    score, _ = lead_score(case, today)
    lo, hi = {"hot": (60, 100), "warm": (30, 59), "cold": (0, 29)}[urgency(case, today)]
    assert lo <= score <= hi


@settings(max_examples=300, deadline=None)
@given(cases(), _dates, st.integers(1, 400), st.integers(1, 400))
def test_closer_kaisatsu_never_lowers_score(case, today, a, b):
    near, far = sorted((a, b))
    case.kaisatsu_date = today + dt.timedelta(days=near)
    s_near = lead_score(case, today)[0]
    case.kaisatsu_date = today + dt.timedelta(days=far)
    s_far = lead_score(case, today)[0]
    assert s_near >= s_far


def test_closer_kaisatsu_scores_strictly_higher_when_not_capped():
    near = lead_score(Case(kaisatsu_date=TODAY + dt.timedelta(days=10)), TODAY)[0]
    far = lead_score(Case(kaisatsu_date=TODAY + dt.timedelta(days=100)), TODAY)[0]
    assert near > far


def test_score_capped_at_100():
    case = Case(
        kaisatsu_date=TODAY + dt.timedelta(days=2),
        arrears_months=30,
        has_contact=True,
        wants_human=True,
        co_owned=True,
    )
    assert lead_score(case, TODAY)[0] == 100


# ---------------------------------------------------------------------------
# assess / sort_key
# ---------------------------------------------------------------------------


def test_assess_bundle_and_to_dict():
    a = assess(Case(kaisatsu_date=D(2026, 12, 11), co_owned=True), TODAY)
    assert isinstance(a, Assessment)
    assert a.stage == "bid_notice"
    assert a.urgency == "hot"
    assert "very_little_time" in a.special_cases
    d = a.to_dict()
    json.dumps(d)
    assert d["kaisatsu"] == "2026-12-11"
    assert d["legal_last_day"] == "2026-12-10"
    assert d["time_left"]["plan_by"] == "2026-12-09"
    assert d["time_left"]["ideal_by"] == "2026-11-27"
    assert d["time_left"]["days_to_legal_last_day"] == 13


def test_inbox_order():
    cases_ = {
        "cold": Case(arrears_months=0),
        "warm_hi": Case(arrears_months=5, has_contact=True, wants_to_stay=True),
        "warm_lo": Case(arrears_months=3),
        "hot_far": Case(kaisatsu_date=TODAY + dt.timedelta(days=90), has_contact=True, wants_human=True),
        "hot_near": Case(kaisatsu_date=TODAY + dt.timedelta(days=20)),
        "hot_nodate": Case(latest_notice="subrogation", has_contact=True, wants_human=True, arrears_months=8),
        "hot_after": Case(kaisatsu_date=TODAY - dt.timedelta(days=3)),
    }
    order = sorted(cases_, key=lambda k: assess(cases_[k], TODAY).sort_key)
    assert order[:2] == ["hot_near", "hot_far"]
    assert set(order[2:4]) == {"hot_nodate", "hot_after"}
    assert order[4:] == ["warm_hi", "warm_lo", "cold"]


# ---------------------------------------------------------------------------
# Case JSON round trip
# ---------------------------------------------------------------------------


def test_case_round_trip():
    case = Case(
        arrears_months=7,
        notices={"subrogation", "dunning", "acceleration"},
        latest_notice="subrogation",
        kaisatsu_date=D(2027, 3, 5),
        bidding_start=D(2027, 2, 17),
        bidding_end=D(2027, 2, 24),
        start_decision_date=D(2026, 9, 1),
        co_owned=True,
        joint_guarantor=False,
        divorce="in_progress",
        lender="jhf",
        wants_to_stay=None,
        has_contact=True,
        wants_human=False,
    )
    d = case.to_dict()
    assert d["notices"] == ["dunning", "acceleration", "subrogation"]
    assert d["kaisatsu_date"] == "2027-03-05"
    assert json.loads(json.dumps(d)) == d
    assert Case.from_dict(d) == case
    assert Case.from_dict(Case().to_dict()) == Case()


def test_from_dict_tolerant():
    c = Case.from_dict({"notices": ["dunning", "bogus"], "kaisatsu_date": "2027-03-05T00:00:00", "extra": 1})
    assert c.notices == {"dunning"}
    assert c.kaisatsu_date == D(2027, 3, 5)
    assert Case.from_dict(None) == Case()
    with pytest.raises(ValueError):
        Case.from_dict({"kaisatsu_date": "not a date"})


def test_case_accepts_list_notices_and_rejects_negative_arrears():
    assert Case(notices=["dunning"]).notices == {"dunning"}
    with pytest.raises(ValueError):
        Case(arrears_months=-1)
