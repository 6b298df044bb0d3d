"""assess() computes time_left once and hands it to the others: its result is the same as
each function asked on its own (lead_score, urgency, special_cases, date_doubts)."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.assessment import NOTICES, Case, assess, date_doubts, lead_score, special_cases, time_left, urgency

TODAY = dt.date(2026, 11, 27)
dates = st.none() | st.dates(min_value=dt.date(2025, 6, 1), max_value=dt.date(2027, 6, 30))

cases = st.builds(
    Case,
    arrears_months=st.none() | st.integers(0, 24),
    latest_notice=st.none() | st.sampled_from(NOTICES),
    kaisatsu_date=dates, bidding_start=dates, bidding_end=dates, start_decision_date=dates,
    inspection_date=dates, co_owned=st.none() | st.booleans(), joint_guarantor=st.none() | st.booleans(),
    divorce=st.sampled_from([None, "in_progress", "done", "no"]), lender=st.sampled_from([None, "jhf", "bank"]),
    wants_to_stay=st.none() | st.booleans(), has_contact=st.booleans(), wants_human=st.booleans(),
    court_letter_unknown=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(cases)
def test_assess_equals_each_function_on_its_own(case: Case) -> None:
    a = assess(case, TODAY)
    assert (a.score, a.reasons) == lead_score(case, TODAY)
    assert a.urgency == urgency(case, TODAY)
    assert a.special_cases == special_cases(case, TODAY)
    assert a.date_doubts == date_doubts(case, TODAY)
    assert a.time_left == time_left(case, TODAY)
