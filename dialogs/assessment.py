"""Case assessment: facts about one homeowner's situation → stage, deadlines, urgency.

Pure functions only (no I/O, no Flask, no clock): every function takes ``today``
explicitly so that results are reproducible and testable.

Vocabulary (see ``docs/ARCHITECTURE.md`` and ``/work/shared/domain.md``):

* **Stage ids**: ``none`` (not behind yet), ``dunning`` (督促状・催告書),
  ``acceleration`` (期限の利益喪失), ``subrogation`` (代位弁済),
  ``auction_start`` (競売開始決定), ``site_inspection`` (現況調査),
  ``bid_notice`` (期間入札の通知), ``after_kaisatsu`` (開札 is over), ``unknown``.
* **Notice ids**: the stage ids from ``dunning`` to ``bid_notice``.

Deadlines (domain.md, "Correction to the seed"): legally the filing creditor must
withdraw the auction **by the day before 開札** (民事執行法76条 as read in
practice), which requires the sale to be settled already; plan to settle **at
least 2 days before 開札** (a safety margin some firms use, no statute); ideally
settle **before the 入札期間 opens** (≈2 weeks before 開札), which creditors
prefer.

All three days are **court business days** (domain.md, "Court business days"):
courts are closed on Saturdays, Sundays, national holidays (``jpholiday``) and
12/29–1/3 (裁判所の休日に関する法律1条); a 取下書 is filed at the court's office and
a closing needs the banks and the 法務局 open. So the legal last day is the last
business day before 開札, the planning day the business day before that. A 開札
given on a closed day is a likely misreading: it is reported in
:func:`date_doubts` and no deadline is computed from it.

Every date that is derived from a rough timeline (rather than from a date the
court has fixed) is an *estimate* (目安) and lives in separate ``estimate_*`` /
``auction_start_*`` fields; the exact fields (``kaisatsu``, ``legal_last_day``,
``plan_by``) are only ever filled from a known 開札期日, so an estimate can never
be shown as an exact deadline by accident.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import jpholiday

__all__ = [
    "NOTICES",
    "SPECIAL_CASES",
    "STAGES",
    "Assessment",
    "Case",
    "TimeLeft",
    "add_months",
    "assess",
    "court_closed",
    "court_day_before",
    "date_doubts",
    "inbox_sort_key",
    "lead_score",
    "special_cases",
    "stage",
    "stage_basis",
    "time_left",
    "urgency",
]

# ---------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------

#: Notice ids in the order they arrive (domain.md timeline rows 2–10).
NOTICES: tuple[str, ...] = (
    "dunning",  # rows 2–3: 督促状 / 催告書
    "acceleration",  # row 4: 期限の利益喪失通知
    "subrogation",  # row 5: 代位弁済通知
    "auction_start",  # row 7: 担保不動産競売開始決定
    "site_inspection",  # row 8: 現況調査
    "bid_notice",  # row 10: 期間入札の通知
)

#: Stage ids in order of progress (``unknown`` is outside the order).
STAGES: tuple[str, ...] = ("none",) + NOTICES + ("after_kaisatsu",)
ALL_STAGES: tuple[str, ...] = STAGES + ("unknown",)

_RANK = {s: i for i, s in enumerate(STAGES)}

#: Urgency ids, hottest first (the lead score's bands).
URGENCIES: tuple[str, ...] = ("hot", "warm", "cold")

#: Stages at which a court auction is running (開始決定 .. before 開札).
AUCTION_STAGES = frozenset({"auction_start", "site_inspection", "bid_notice"})

#: Stable ids of the special cases, in the order :func:`special_cases` returns them
#: (most time-critical first). The content writer writes one text per id.
SPECIAL_CASES: tuple[str, ...] = (
    "too_late_after_kaisatsu",
    "very_little_time",
    "jhf_refuses_after_filing",
    "acceleration_likely_soon",
    "before_acceleration",
    "co_owners_must_agree",
    "guarantor_must_agree",
    "divorce_and_co_owned",
    "divorce_in_progress",
    "divorce_done",
    "jhf_no_guarantee_company",
    "leaseback_wish",
    "credit_record",
)

LATEST_NOTICE_VALUES = frozenset(NOTICES) | {"none", "unknown"}
DIVORCE_VALUES = frozenset({"none", "in_progress", "done"})
LENDER_VALUES = frozenset({"jhf", "bank", "other", "unknown"})

Urgency = Literal["hot", "warm", "cold"]
_URGENCY_RANK = {"hot": 0, "warm": 1, "cold": 2}

# ---------------------------------------------------------------------------
# Numbers (each one justified from domain.md)
# ---------------------------------------------------------------------------

#: ideal_by when the 入札期間 start is unknown: 開札 − 14 days. Creditors prefer
#: closing before the bidding period opens, "roughly 2 weeks before 開札"
#: (domain.md §"Until when…" point 3; row 12: Tokyo/Osaka bid for 8 days and
#: row 13: 開札 within 1 week after bidding ends → 8 + ≤7 ≈ 2 weeks).
IDEAL_DAYS_BEFORE_KAISATSU = 14

#: plan_by: 開札 − 2 days — the seed's "2 days before" kept as a safety margin
#: (domain.md §"Until when…" point 2), not a legal rule.
PLAN_DAYS_BEFORE_KAISATSU = 2

#: 開始決定 → 開札, in months (目安). Built from the timeline rows:
#:   row 8  現況調査       ≈1 month after 開始決定 (range 1–3)
#:   row 10 期間入札通知    2–4 months after 現況調査
#:   row 10 bidding opens   ≈1–2 months after the notice
#:   row 12 入札期間        ≥1 week, ≤1 month (Tokyo/Osaka 8 days)
#:   row 13 開札            within 1 week after bidding ends
#: Fast path: 1 + 2 + 1 months + ~8 days bidding + ≥1 day → a little over 4
#: months → we say 4 (rounded down: the early end must never be late).
#: Slow path: 3 + 4 + 2 + 1 months + 1 week ≈ 10¼ months → 10, which also
#: matches "Tokyo: 開始決定 → 期日指定 7–10か月" (eiwaf) in the overall durations.
START_DECISION_TO_KAISATSU_MONTHS = (4, 10)

#: 現況調査 → 開札, in months (目安), used when only a site inspection is known
#: (its date ≈ today: the letter announcing it has just arrived). Rows 10, 12, 13:
#: fast 2 + 1 months + ~8 days ≈ 3; slow 4 + 2 + 1 months + 1 week ≈ 7.
SITE_INSPECTION_TO_KAISATSU_MONTHS = (3, 7)

#: Someone who has not received the 期間入札通知 yet is at least ≈1 month away
#: from the bidding period (row 10: the notice arrives ≈1–2か月 before bidding
#: opens; gentosha 1–1.5か月). Estimates from a 開始決定 / 現況調査 therefore never
#: start earlier than today + 1 month.
NO_BID_NOTICE_FLOOR_MONTHS = 1

#: 入札期間 bounds (row 12: 1週間以上1月以内, 規則46条1項) and 開札 within
#: 1 week after bidding ends (row 13). With only the bidding start S known the
#: earliest 開札 is S + 7 days (7-day period ending S+6, 開札 the next day), the
#: latest is S + 1 month + 7 days.
MIN_BIDDING_DAYS = 7
MAX_DAYS_BIDDING_END_TO_KAISATSU = 7

#: Arrears-only estimate (nothing known about an auction), months after the
#: first missed payment:
#:   row 4  期限の利益喪失  ≈M6 typical, range M3–6
#:   row 7  競売開始決定    notice ≈M6–9 of arrears   → auction_start_from/to
#:   seed   "when auctions come: typically 10–12 months after arrears start"
#:          → estimate_from/to for the 開札 itself (consistent with M6 + the
#:          4-month minimum above = M10). Slower courts run later (senri-c: 滞納 →
#:          競売 ≈15か月), so the range is a 目安, not a bound.
ARREARS_TO_AUCTION_START_MONTHS = (6, 9)
ARREARS_TO_KAISATSU_MONTHS = (10, 12)

#: Row 3a / seed "credit record": 3 or more missed payments usually register a
#: delinquency (kept ≈5 years).
CREDIT_RECORD_ARREARS = 3

#: Stage from the arrears when no letter beyond a 督促状 is known (domain.md
#: "Stage from arrears"): from ≈4 months an 一括請求 (期限の利益喪失, row 4: M3–6)
#: may well have come; from ≈6 months 代位弁済 (row 5) or a court letter (row 7:
#: ≈M6–9).
ARREARS_ACCELERATION_POSSIBLE = 4
ARREARS_COURT_POSSIBLE = 6

#: "very little time": legal last day within this many days.
VERY_LITTLE_TIME_DAYS = 14
#: urgency "hot" when the legal last day is within this many days.
HOT_DAYS = 60
#: urgency thresholds on arrears (months).
WARM_ARREARS = 3


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` shifted by whole calendar months; the day is clamped to the month's end.

    >>> add_months(dt.date(2026, 1, 31), 1)
    datetime.date(2026, 2, 28)
    """
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def court_closed(d: dt.date) -> bool:
    """The court's office is closed on ``d``: Saturday, Sunday, a national holiday
    (``jpholiday``) or 12/29–1/3 (裁判所の休日に関する法律1条)."""
    return (
        d.weekday() >= 5
        or jpholiday.is_holiday(d)
        or (d.month == 12 and d.day >= 29)
        or (d.month == 1 and d.day <= 3)
    )


def court_day_on_or_before(d: dt.date) -> dt.date:
    """``d`` itself when the court is open, else the last business day before it."""
    while court_closed(d):
        d -= dt.timedelta(days=1)
    return d


def court_day_on_or_after(d: dt.date) -> dt.date:
    """``d`` itself when the court is open, else the next business day after it."""
    while court_closed(d):
        d += dt.timedelta(days=1)
    return d


def court_range(lo: dt.date, hi: dt.date) -> tuple[dt.date, dt.date]:
    """An estimated range of court dates (開札, 開始決定) with both ends on business days:
    the court decides and opens bids only on those (no 「3月20日（土）ごろ」)."""
    return court_day_on_or_after(lo), max(court_day_on_or_after(lo), court_day_on_or_before(hi))


def court_day_before(d: dt.date) -> dt.date:
    """The last court business day strictly before ``d``."""
    return court_day_on_or_before(d - dt.timedelta(days=1))


def _parse_date(v: Any) -> dt.date | None:
    if v is None or v == "":
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        return dt.date.fromisoformat(v[:10])
    raise ValueError(f"not a date: {v!r}")


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _opt_bool(v: Any) -> bool | None:
    return None if v is None else bool(v)


# ---------------------------------------------------------------------------
# Case
# ---------------------------------------------------------------------------


@dataclass
class Case:
    """What we know about one homeowner. Every field may be unknown (``None``).

    Attributes:
        arrears_months: months behind; ``0`` = not behind yet (just worried).
        notices: notice ids received (subset of :data:`NOTICES`).
        latest_notice: the most recent notice id, or ``"none"`` (nothing received
            yet) or ``"unknown"`` (received something, cannot tell which).
        kaisatsu_date: 開札期日 (from the 期間入札通知).
        bidding_start / bidding_end: 入札期間.
        start_decision_date: date of the 競売開始決定.
        co_owned: the home is in several names (共有名義, ペアローン).
        joint_guarantor: there is a 連帯保証人.
        divorce: ``"none"`` | ``"in_progress"`` | ``"done"``.
        lender: ``"jhf"`` (住宅金融支援機構・フラット35) | ``"bank"`` (bank +
            保証会社) | ``"other"`` | ``"unknown"``.
        wants_to_stay: wants to keep living there (リースバック).
        has_contact: left a phone number / asked to be contacted.
        wants_human: asked for a human consultant.
        inspection_date: date of the 現況調査 (the dialog keeps it in its data).
        court_letter_unknown: a court letter arrived but the person could not
            tell which one (stored as ``auction_start``, the earliest court letter).
        user_is_guarantor: the person is (also) a 連帯保証人 (ペアローン etc.).
        tax_seizure: a 差押 by the tax office / city for taxes (公売 path).
        auction_over: the person says the auction is over (落札された, 開札は終わった),
            with or without a date: stage ``after_kaisatsu``.
    """

    arrears_months: int | None = None
    notices: set[str] = field(default_factory=set)
    latest_notice: str | None = None
    kaisatsu_date: dt.date | None = None
    bidding_start: dt.date | None = None
    bidding_end: dt.date | None = None
    start_decision_date: dt.date | None = None
    co_owned: bool | None = None
    joint_guarantor: bool | None = None
    divorce: str | None = None
    lender: str | None = None
    wants_to_stay: bool | None = None
    has_contact: bool = False
    wants_human: bool = False
    inspection_date: dt.date | None = None
    court_letter_unknown: bool = False
    user_is_guarantor: bool | None = None
    tax_seizure: bool | None = None
    auction_over: bool = False

    def __post_init__(self) -> None:
        # Accept any iterable (e.g. a list from JSON) for ``notices``.
        self.notices = set(self.notices or ())
        if self.arrears_months is not None and self.arrears_months < 0:
            raise ValueError("arrears_months must be >= 0")

    # -- JSON -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict: dates as ISO strings, ``notices`` as a sorted list."""
        return {
            "arrears_months": self.arrears_months,
            "notices": sorted(self.notices, key=_notice_sort_key),
            "latest_notice": self.latest_notice,
            "kaisatsu_date": _iso(self.kaisatsu_date),
            "bidding_start": _iso(self.bidding_start),
            "bidding_end": _iso(self.bidding_end),
            "start_decision_date": _iso(self.start_decision_date),
            "co_owned": self.co_owned,
            "joint_guarantor": self.joint_guarantor,
            "divorce": self.divorce,
            "lender": self.lender,
            "wants_to_stay": self.wants_to_stay,
            "has_contact": self.has_contact,
            "wants_human": self.wants_human,
            "inspection_date": _iso(self.inspection_date),
            "court_letter_unknown": self.court_letter_unknown,
            "user_is_guarantor": self.user_is_guarantor,
            "tax_seizure": self.tax_seizure,
            "auction_over": self.auction_over,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Case:
        """Inverse of :meth:`to_dict`. Tolerant of stored data from older versions:
        missing and unknown keys are ignored, unknown notice ids are dropped,
        dates may be ISO strings (a time part is ignored) or ``date`` objects.
        A malformed date raises ``ValueError``.
        """
        d = d or {}
        arrears = d.get("arrears_months")
        latest = d.get("latest_notice")
        return cls(
            arrears_months=None if arrears is None else int(arrears),
            notices={n for n in (d.get("notices") or ()) if n in NOTICES},
            latest_notice=latest if latest in LATEST_NOTICE_VALUES else None,
            kaisatsu_date=_parse_date(d.get("kaisatsu_date")),
            bidding_start=_parse_date(d.get("bidding_start")),
            bidding_end=_parse_date(d.get("bidding_end")),
            start_decision_date=_parse_date(d.get("start_decision_date")),
            co_owned=_opt_bool(d.get("co_owned")),
            joint_guarantor=_opt_bool(d.get("joint_guarantor")),
            divorce=d.get("divorce") if d.get("divorce") in DIVORCE_VALUES else None,
            lender=d.get("lender") if d.get("lender") in LENDER_VALUES else None,
            wants_to_stay=_opt_bool(d.get("wants_to_stay")),
            has_contact=bool(d.get("has_contact", False)),
            wants_human=bool(d.get("wants_human", False)),
            inspection_date=_parse_date(d.get("inspection_date")),
            court_letter_unknown=bool(d.get("court_letter_unknown", False)),
            user_is_guarantor=_opt_bool(d.get("user_is_guarantor")),
            tax_seizure=_opt_bool(d.get("tax_seizure")),
            auction_over=bool(d.get("auction_over", False)),
        )


def _notice_sort_key(n: str) -> tuple[int, str]:
    return (NOTICES.index(n) if n in NOTICES else len(NOTICES), n)


# ---------------------------------------------------------------------------
# Bidding-period estimate of 開札 (used by both stage() and time_left())
# ---------------------------------------------------------------------------


def _kaisatsu_range_from_bidding(case: Case) -> tuple[dt.date, dt.date] | None:
    """Range for 開札 when the 入札期間 is known but the 開札期日 is not.

    Rule-bound (規則46条1項, rows 12–13), so tighter than the other estimates:
    with the end E known → [E+1, E+7]; with only the start S → [S+7, S+1month+7].
    """
    if case.bidding_end is not None:
        e = case.bidding_end
        return e + dt.timedelta(days=1), e + dt.timedelta(days=MAX_DAYS_BIDDING_END_TO_KAISATSU)
    if case.bidding_start is not None:
        s = case.bidding_start
        return (
            s + dt.timedelta(days=MIN_BIDDING_DAYS),
            add_months(s, 1) + dt.timedelta(days=MAX_DAYS_BIDDING_END_TO_KAISATSU),
        )
    return None


# ---------------------------------------------------------------------------
# stage
# ---------------------------------------------------------------------------


def _trusted_kaisatsu(case: Case) -> dt.date | None:
    """The 開札期日, unless it falls on a day the court is closed (then it is in
    :func:`date_doubts` and nothing is computed from it)."""
    k = case.kaisatsu_date
    return None if k is None or court_closed(k) else k


def _arrears_stage(arrears: int) -> str:
    if arrears >= ARREARS_COURT_POSSIBLE:
        return "subrogation"
    if arrears >= ARREARS_ACCELERATION_POSSIBLE:
        return "acceleration"
    return "dunning" if arrears >= 1 else "none"


def stage_basis(case: Case, today: dt.date) -> tuple[str, str]:
    """``(stage, basis)``: the stage (see :func:`stage`) and what it rests on:
    ``"dates"`` (a court date), ``"letter"`` (a letter the person named),
    ``"arrears"`` (months behind only: the stage is what *may well* have come,
    never stated as fact) or ``"none"`` (nothing known)."""
    if case.auction_over:  # told so, with or without a date: never the 期間入札 (understated)
        return "after_kaisatsu", "letter"
    k = _trusted_kaisatsu(case)
    if k is not None:
        if k <= today:
            return "after_kaisatsu", "dates"
    elif case.kaisatsu_date is None:
        rng = _kaisatsu_range_from_bidding(case)
        if rng is not None and rng[1] < today:
            return "after_kaisatsu", "dates"

    rank, basis = -1, "none"
    for n in set(case.notices) | {case.latest_notice}:
        if n in NOTICES and _RANK[n] > rank:
            rank, basis = _RANK[n], "letter"
    if (case.kaisatsu_date or case.bidding_start or case.bidding_end) and rank < _RANK["bid_notice"]:
        rank, basis = _RANK["bid_notice"], "dates"
    if case.start_decision_date is not None and rank < _RANK["auction_start"]:
        rank, basis = _RANK["auction_start"], "dates"
    if case.arrears_months is not None and rank <= _RANK["dunning"]:
        # No letter beyond a 督促状 known: the arrears say what may well have come
        # (never understate: domain.md "Stage from arrears when no letter is known").
        by_arrears = _arrears_stage(case.arrears_months)
        if _RANK[by_arrears] > rank:
            return by_arrears, "arrears"
    if rank >= 0:
        return STAGES[rank], basis
    if case.latest_notice == "none":
        return "none", "letter"
    return "unknown", "none"


def stage(case: Case, today: dt.date) -> str:
    """Where the case stands: one of :data:`ALL_STAGES`. Never understated.

    Rules, in order:

    1. A known 開札期日 on or before ``today`` → ``after_kaisatsu``. (On the
       開札 day itself the legal last day has passed.) Without a 開札期日, a known
       入札期間 whose latest possible 開札 (end + 1 week, 規則46条1項) is before
       today also → ``after_kaisatsu``. A 開札 on a day the court is closed is a
       likely misreading (:func:`date_doubts`) and never makes a case "after".
    2. The most advanced notice wins, taken from ``notices`` and
       ``latest_notice`` together.
    3. A known 開札 or 入札 date → at least ``bid_notice``; a known 開始決定 date →
       at least ``auction_start``.
    4. With no letter beyond a 督促状 known, the arrears decide: ≥ 6 months →
       ``subrogation`` (代位弁済 or a court letter may well have come), ≥ 4 →
       ``acceleration`` (an 一括請求 may well have come), ≥ 1 → ``dunning``, 0 →
       ``none``. :func:`stage_basis` tells that this is a guess from the arrears.
    5. ``latest_notice == "none"`` with unknown arrears → ``none``; otherwise
       ``unknown``.
    """
    return stage_basis(case, today)[0]


def _at_least(st: str, other: str) -> bool:
    return st in _RANK and _RANK[st] >= _RANK[other]


# ---------------------------------------------------------------------------
# time_left
# ---------------------------------------------------------------------------

EstimateKind = Literal["bidding", "start_decision", "site_inspection", "court_dates", "arrears", "doubtful_date"]


@dataclass
class TimeLeft:
    """Deadlines for a voluntary sale (任意売却) before the auction's 開札.

    Exact fields (filled only from a known 開札期日 on a court business day, never
    from an estimate; all of them court business days, see :func:`court_closed`):
        kaisatsu: the 開札期日.
        legal_last_day: the last business day before 開札. The filing creditor must
            withdraw by then (民事執行法76条 as read in practice), with the sale
            already settled.
        plan_by: the business day before legal_last_day (safety margin, no statute).
        days_to_plan_by: ``(plan_by − today).days`` (the time left the homeowner
            is told; 0 = 「今日が最終日です」).
        days_to_legal_last_day: ``(legal_last_day − today).days``; negative once
            passed. When 開札 is only estimated from court data (kinds
            ``bidding``, ``start_decision``, ``site_inspection``) this holds the
            *conservative* count to the earliest possible legal last day
            (``estimate_from − 1``), for sorting and alerts only — never display it
            as an exact count; ``is_estimate`` tells. ``None`` otherwise.
        phase / phase_deadline: the next deadline still ahead (on or after today)
            among ideal_by → plan_by → legal_last_day: ``"ideal"``, ``"plan"`` or
            ``"legal"``; ``"passed"`` (deadline None) once legal_last_day is behind
            us. ``None`` unless 開札 is known exactly.

    ideal_by: settle before the 入札期間 opens: the business day before
        ``bidding_start`` when the bidding start is known (``ideal_by_rough``
        False) — this is exact even if 開札 is not known — else the business day on
        or before 開札 − 14 days (``ideal_by_rough`` True, "about 2 weeks before
        開札"). ``None`` when neither date is known.

    Estimate fields (目安; ``is_estimate`` True, ``estimate_kind`` says from what):
        estimate_from / estimate_to: a range for the 開札期日.
        auction_start_from / auction_start_to: a range for the 競売開始決定
            (arrears-only estimate).

    window_note: a stable key the content writer writes a text for:
        ``exact_dates``, ``estimate_from_bidding``, ``estimate_from_start_decision``,
        ``estimate_from_site_inspection``, ``estimate_from_court_dates`` (both the
        開始決定 and the 現況調査 date), ``ask_court_dates`` (an auction is running
        but we have no usable date), ``dates_old`` (the known dates are so old the
        timeline should be over: ask the court), ``date_doubt`` (開札 given on a day
        the court is closed: asked again, nothing computed; ``days_to_legal_last_day``
        then counts conservatively to the business day before it), ``auction_could_start``,
        ``auction_could_start_any_time``, ``after_kaisatsu``, ``not_behind``,
        ``unknown``.
    """

    kaisatsu: dt.date | None = None
    legal_last_day: dt.date | None = None
    plan_by: dt.date | None = None
    ideal_by: dt.date | None = None
    ideal_by_rough: bool = False
    days_to_legal_last_day: int | None = None
    days_to_plan_by: int | None = None
    is_estimate: bool = False
    estimate_kind: EstimateKind | None = None
    estimate_from: dt.date | None = None
    estimate_to: dt.date | None = None
    auction_start_from: dt.date | None = None
    auction_start_to: dt.date | None = None
    phase: Literal["ideal", "plan", "legal", "passed"] | None = None
    phase_deadline: dt.date | None = None
    window_note: str = "unknown"
    dates_old: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (dates as ISO strings)."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            out[k] = v.isoformat() if isinstance(v, dt.date) else v
        return out


def time_left(case: Case, today: dt.date) -> TimeLeft:
    """Deadlines and estimates for ``case`` as of ``today`` (see :class:`TimeLeft`)."""
    st = stage(case, today)
    tl = TimeLeft()

    if case.bidding_start is not None:
        tl.ideal_by = court_day_before(case.bidding_start)

    # 0. A 開札 on a closed day: ask again before computing anything from it.
    if case.kaisatsu_date is not None and court_closed(case.kaisatsu_date):
        tl.is_estimate, tl.estimate_kind = True, "doubtful_date"
        tl.days_to_legal_last_day = (court_day_before(case.kaisatsu_date) - today).days
        tl.window_note = "date_doubt"
        return tl

    # 1. Exact: the court fixed the 開札期日.
    if case.kaisatsu_date is not None:
        k = case.kaisatsu_date
        tl.kaisatsu = k
        tl.legal_last_day = court_day_before(k)
        tl.plan_by = court_day_before(tl.legal_last_day)
        if tl.ideal_by is None:
            tl.ideal_by = court_day_on_or_before(k - dt.timedelta(days=IDEAL_DAYS_BEFORE_KAISATSU))
            tl.ideal_by_rough = True
        tl.days_to_legal_last_day = (tl.legal_last_day - today).days
        tl.days_to_plan_by = (tl.plan_by - today).days
        for name, d in (("ideal", tl.ideal_by), ("plan", tl.plan_by), ("legal", tl.legal_last_day)):
            if d >= today:
                tl.phase, tl.phase_deadline = name, d  # type: ignore[assignment]
                break
        else:
            tl.phase = "passed"
        tl.window_note = "after_kaisatsu" if st == "after_kaisatsu" else "exact_dates"
        return tl

    if st == "after_kaisatsu":
        tl.window_note = "after_kaisatsu"
        return tl

    # 2. 開札 estimated from the bidding period (rule-bound, tight).
    rng = _kaisatsu_range_from_bidding(case)
    if rng is not None:
        _set_court_estimate(tl, "bidding", rng, today)
        tl.window_note = "estimate_from_bidding"
        return tl

    # 3. 開札 estimated from the 開始決定 date and/or the 現況調査 date (≈ today
    #    when only the letter announcing it is known).
    if st in ("auction_start", "site_inspection"):
        floor = add_months(today, NO_BID_NOTICE_FLOOR_MONTHS)
        bases: list[tuple[EstimateKind, dt.date, tuple[int, int]]] = []
        if case.start_decision_date is not None:
            bases.append(("start_decision", case.start_decision_date, START_DECISION_TO_KAISATSU_MONTHS))
        inspection = case.inspection_date or (today if st == "site_inspection" else None)
        if inspection is not None:
            bases.append(("site_inspection", inspection, SITE_INSPECTION_TO_KAISATSU_MONTHS))
        if not bases:
            tl.window_note = "ask_court_dates"
            return tl
        ranges = [(kind, add_months(base, lo), add_months(base, hi)) for kind, base, (lo, hi) in bases]
        # Old dates: the fastest path from a known date would have reached 開札
        # already, so the 期間入札 may be scheduled or over (domain.md "Old dates").
        tl.dates_old = any(frm < today for _, frm, _ in ranges)
        kind: EstimateKind = ranges[0][0] if len(ranges) == 1 else "court_dates"
        frm, to = max(r[1] for r in ranges), min(r[2] for r in ranges)
        if frm > to:  # the two dates disagree: trust the later letter (the inspection)
            kind, frm, to = ranges[-1]
        if to < floor:
            # The timeline says it should be over already: ask the court, no guess.
            tl.window_note = "dates_old"
            tl.dates_old = True
            return tl
        _set_court_estimate(tl, kind, (max(frm, floor), to), today)
        tl.window_note = f"estimate_from_{kind}"
        return tl

    if st == "bid_notice":
        # The 期間入札通知 states the dates: ask for them instead of guessing.
        tl.window_note = "ask_court_dates"
        return tl

    # 4. Nothing about an auction known: estimate from the arrears.
    if st == "none":
        tl.window_note = "not_behind"
        return tl
    if case.arrears_months is None or case.arrears_months < 1:
        if st == "subrogation":
            tl.window_note = "auction_could_start_any_time"
        elif st in ("dunning", "acceleration"):
            tl.window_note = "auction_could_start"
        else:
            tl.window_note = "unknown"
        return tl
    first_miss = add_months(today, -case.arrears_months)
    a_lo, a_hi = ARREARS_TO_AUCTION_START_MONTHS
    k_lo, k_hi = ARREARS_TO_KAISATSU_MONTHS
    as_from, as_to = add_months(first_miss, a_lo), add_months(first_miss, a_hi)
    k_from, k_to = add_months(first_miss, k_lo), add_months(first_miss, k_hi)
    any_time = st == "subrogation" or as_to < today  # row 6: 申立 半月–1か月 after 代位弁済
    if as_to >= today:
        tl.auction_start_from, tl.auction_start_to = court_range(max(as_from, today), as_to)
    if k_to >= today:
        tl.estimate_from, tl.estimate_to = court_range(max(k_from, today), k_to)
    if tl.auction_start_from or tl.estimate_from:
        tl.is_estimate, tl.estimate_kind = True, "arrears"
    tl.window_note = "auction_could_start_any_time" if any_time else "auction_could_start"
    return tl


def date_doubts(case: Case, today: dt.date, tl: TimeLeft | None = None) -> list[str]:
    """Dates to check with the person before relying on them (stable keys):

    * ``kaisatsu_closed_day``: the 開札期日 falls on a day the court is closed
      (weekend, holiday, 12/29–1/3): likely a misreading; no deadline is computed.
    * ``dates_old``: the 開始決定 / 現況調査 dates are old enough that the 期間入札
      may already be scheduled or over: confirm with the court's 執行係 (事件番号)
      or on BIT.
    """
    out = []
    if case.kaisatsu_date is not None and court_closed(case.kaisatsu_date):
        out.append("kaisatsu_closed_day")
    if (tl or time_left(case, today)).dates_old:
        out.append("dates_old")
    return out


def _set_court_estimate(
    tl: TimeLeft, kind: EstimateKind, rng: tuple[dt.date, dt.date], today: dt.date
) -> None:
    tl.is_estimate = True
    tl.estimate_kind = kind
    tl.estimate_from, tl.estimate_to = rng = court_range(*rng)
    # Conservative: count to the earliest possible legal last day.
    tl.days_to_legal_last_day = (court_day_before(rng[0]) - today).days


# ---------------------------------------------------------------------------
# special_cases
# ---------------------------------------------------------------------------


def special_cases(case: Case, today: dt.date, tl: TimeLeft | None = None) -> list[str]:
    """Stable ids of the special situations that apply, in :data:`SPECIAL_CASES` order.

    * ``too_late_after_kaisatsu``: stage ``after_kaisatsu`` — nothing stops the
      auction after 開札; focus on moving and the remaining debt.
    * ``very_little_time``: stage ``bid_notice``, or the (possibly conservative,
      see :class:`TimeLeft`) legal last day within 14 days (or passed) while 開札
      has not happened yet. Note that a known 開札/入札 date implies the stage
      ``bid_notice``, so every case with a 開札期日 still ahead gets this key
      (domain.md: once the 期間入札通知 arrives there is usually too little time);
      the 14-day rule matters for estimates.
    * ``jhf_refuses_after_filing``: lender ``jhf`` and an auction running
      (auction_start / site_inspection / bid_notice). Not emitted after 開札,
      where ``too_late_after_kaisatsu`` says everything.
    * ``acceleration_likely_soon``: the stage comes from the arrears alone and
      is ``acceleration`` or later (≥ 4 months, no letter beyond a 督促状 known):
      an 一括請求 may well have come already (row 4: M3–6).
    * ``before_acceleration``: stage ``none`` or ``dunning`` — talk to the lender
      now; a 任意売却 usually becomes possible once 期限の利益喪失 arrives.
    * ``co_owners_must_agree`` / ``guarantor_must_agree``: co_owned /
      joint_guarantor is True.
    * ``divorce_and_co_owned``: divorce in progress or done, and co_owned.
    * ``divorce_in_progress`` / ``divorce_done``: from ``divorce``.
    * ``jhf_no_guarantee_company``: lender ``jhf`` (no 代位弁済 by a 保証会社;
      a servicer collects, row 5). Emitted at every stage.
    * ``leaseback_wish``: wants_to_stay is True.
    * ``credit_record``: arrears ≥ 3, or a stage from ``acceleration`` on (row
      3a: the delinquency is registered ≈M2–3, before acceleration).
    """
    st = stage(case, today)
    arrears = case.arrears_months
    found: set[str] = set()

    if st == "after_kaisatsu":
        found.add("too_late_after_kaisatsu")
    else:
        days = (tl or time_left(case, today)).days_to_legal_last_day
        if st == "bid_notice" or (days is not None and days <= VERY_LITTLE_TIME_DAYS):
            found.add("very_little_time")
    if case.lender == "jhf":
        found.add("jhf_no_guarantee_company")
        if st in AUCTION_STAGES:
            found.add("jhf_refuses_after_filing")
    if stage_basis(case, today)[1] == "arrears" and st in ("acceleration", "subrogation"):
        found.add("acceleration_likely_soon")
    if st in ("none", "dunning"):
        found.add("before_acceleration")
    if case.co_owned:
        found.add("co_owners_must_agree")
    if case.joint_guarantor:
        found.add("guarantor_must_agree")
    if case.divorce == "in_progress":
        found.add("divorce_in_progress")
    if case.divorce == "done":
        found.add("divorce_done")
    if case.divorce in ("in_progress", "done") and case.co_owned:
        found.add("divorce_and_co_owned")
    if case.wants_to_stay:
        found.add("leaseback_wish")
    if (arrears is not None and arrears >= CREDIT_RECORD_ARREARS) or _at_least(st, "acceleration"):
        found.add("credit_record")
    return [k for k in SPECIAL_CASES if k in found]


# ---------------------------------------------------------------------------
# urgency
# ---------------------------------------------------------------------------


def urgency(case: Case, today: dt.date, tl: TimeLeft | None = None) -> Urgency:
    """``hot`` | ``warm`` | ``cold``.

    * hot: an auction is running (auction_start / site_inspection / bid_notice);
      or ``subrogation`` (the 申立 follows within 半月–1か月, row 6); or the legal
      last day within 60 days; or the person wants a human and is ≥ 3 months
      behind; or ``after_kaisatsu`` — a choice: the sale can no longer be saved,
      but the person is about to lose the home and needs help moving and with the
      remaining debt now.
    * warm: ``acceleration``; ``unknown`` or arrears and letters both unknown (an
      unknown stage is a reason to call, not a low priority); arrears ≥ 3; divorce
      (in progress/done) with a co-owned home; a tax seizure; or wants a human.
    * cold: everything else (just worried, no arrears, early dunning, unknown).
    """
    st = stage(case, today)
    arrears = case.arrears_months or 0
    days = (tl or time_left(case, today)).days_to_legal_last_day
    if st in AUCTION_STAGES or st in ("subrogation", "after_kaisatsu"):
        return "hot"
    if days is not None and days <= HOT_DAYS:
        return "hot"
    if case.wants_human and arrears >= WARM_ARREARS:
        return "hot"
    if st in ("acceleration", "unknown") or arrears >= WARM_ARREARS or case.wants_human:
        return "warm"
    if case.arrears_months is None and case.latest_notice in (None, "unknown"):
        return "warm"  # nothing known: a reason to call, not a low priority
    if case.tax_seizure:
        return "warm"
    if case.divorce in ("in_progress", "done") and case.co_owned:
        return "warm"
    return "cold"


# ---------------------------------------------------------------------------
# lead_score
# ---------------------------------------------------------------------------

#: Score bands per urgency, so a hotter case always outscores a cooler one.
_BAND = {"hot": (60, 100), "warm": (30, 59), "cold": (0, 29)}

_STAGE_POINTS = {
    "none": 0,
    "unknown": 0,
    "dunning": 2,
    "acceleration": 4,
    "subrogation": 4,
    "auction_start": 6,
    "site_inspection": 8,
    "bid_notice": 10,
    "after_kaisatsu": 0,
}
_CONTACT_POINTS = 4
_HUMAN_POINTS = 4


_STAGE_REASON = {
    "none": "滞納なし(不安の相談)",
    "dunning": "督促あり",
    "acceleration": "期限の利益喪失あり",
    "subrogation": "代位弁済あり",
    "auction_start": "競売開始決定あり",
    "site_inspection": "現況調査あり",
    "bid_notice": "期間入札の通知あり",
    "after_kaisatsu": "開札済み: 引越し・残債の相談",
    "unknown": "状況不明",
}

_ARREARS_STAGE_REASON = {
    "acceleration": "一括請求の可能性(滞納月数から推定、手紙は未確認)",
    "subrogation": "代位弁済・裁判所の手紙の可能性(滞納月数から推定、手紙は未確認)",
}

_SPECIAL_REASON = {
    "co_owners_must_agree": "共有名義: 全員の同意が必要",
    "guarantor_must_agree": "連帯保証人あり: 同意が必要",
    "divorce_in_progress": "離婚協議中",
    "divorce_done": "離婚済み",
    "jhf_refuses_after_filing": "住宅金融支援機構: 競売申立後は任意売却を断られやすい",
    "leaseback_wish": "住み続けたい(リースバック希望)",
}


_DOUBT_REASON = {
    "kaisatsu_closed_day": "開札日が裁判所の休日: 日付を要確認",
    "dates_old": "日付が古い: 裁判所(執行係)に要確認",
}


def _time_points(days: int | None) -> int:
    """0–20 points, non-increasing in ``days`` (fewer days left → more points)."""
    if days is None:
        return 0
    return max(0, 20 - max(days, 0) // 7)


def lead_score(case: Case, today: dt.date, tl: TimeLeft | None = None) -> tuple[int, list[str]]:
    """A 0–100 priority score for staff, with short Japanese reasons.

    Deterministic. The score lies in the band of the case's urgency (hot 60–100,
    warm 30–59, cold 0–29), so it is monotone in urgency; inside the band it adds
    stage points (0–10, later stage → more), time points (0–20, one point fewer
    per full week left until the (possibly conservative) legal last day, so a
    closer 開札 never scores lower), arrears points (months // 4, at most 3),
    連絡先あり +4 and 相談員を希望 +4, then caps at the band's top.
    """
    st = stage(case, today)
    tl = tl or time_left(case, today)
    urg = urgency(case, today, tl)
    lo, hi = _BAND[urg]
    arrears = case.arrears_months

    score = lo + _STAGE_POINTS[st]
    reasons: list[str] = [_STAGE_REASON[st]]
    if stage_basis(case, today)[1] == "arrears" and st in ("acceleration", "subrogation"):
        reasons = [_ARREARS_STAGE_REASON[st]]  # a guess from the arrears, not a letter seen

    if st != "after_kaisatsu":
        score += _time_points(tl.days_to_legal_last_day)
    if tl.kaisatsu is not None:
        n = (tl.kaisatsu - today).days
        reasons.insert(0, f"開札まで{n}日" if n >= 0 else f"開札から{-n}日経過")
    elif tl.is_estimate and tl.estimate_kind != "arrears" and tl.estimate_from:
        reasons.insert(0, f"開札の目安 {tl.estimate_from:%Y-%m-%d}〜{tl.estimate_to:%Y-%m-%d}")

    if arrears is not None and arrears > 0:
        score += min(arrears, 12) // 4
        reasons.append(f"滞納{arrears}か月")

    for key in special_cases(case, today, tl):
        if key in _SPECIAL_REASON:
            reasons.append(_SPECIAL_REASON[key])
    for key in date_doubts(case, today, tl):
        reasons.insert(0, _DOUBT_REASON[key])
    if case.court_letter_unknown:
        reasons.append("裁判所の手紙: 種類不明(開札期日を確認)")
    if case.tax_seizure:
        reasons.append("税金の差押あり(公売)")
    if case.user_is_guarantor:
        reasons.append("本人が連帯保証人")

    if case.has_contact:
        score += _CONTACT_POINTS
        reasons.append("連絡先あり")
    if case.wants_human:
        score += _HUMAN_POINTS
        reasons.append("相談員を希望")

    return max(lo, min(score, hi, 100)), reasons


# ---------------------------------------------------------------------------
# assess
# ---------------------------------------------------------------------------


@dataclass
class Assessment:
    """Everything the dialog, the console's case card and the inbox need."""

    stage: str
    time_left: TimeLeft
    special_cases: list[str]
    urgency: Urgency
    score: int
    reasons: list[str]
    stage_basis: str = "letter"
    date_doubts: list[str] = field(default_factory=list)

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        """Inbox order: hot first, then the closest deadline first, then score desc.

        ``sorted(assessments, key=lambda a: a.sort_key)``. Cases without a
        deadline still ahead (none known, or already passed) come after those
        with one inside the same urgency.
        """
        return _sort_key(self.urgency, self.time_left.days_to_legal_last_day, self.score)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict for the console and for storage (dates as ISO strings)."""
        return {
            "stage": self.stage,
            "time_left": self.time_left.to_dict(),
            "special_cases": list(self.special_cases),
            "urgency": self.urgency,
            "score": self.score,
            "reasons": list(self.reasons),
            "kaisatsu": _iso(self.time_left.kaisatsu),
            "legal_last_day": _iso(self.time_left.legal_last_day),
            "plan_by": _iso(self.time_left.plan_by),
            "days_left": self.time_left.days_to_plan_by,
            "stage_basis": self.stage_basis,
            "date_doubts": list(self.date_doubts),
            "sort_key": list(self.sort_key),
        }


def _sort_key(urg: str, days: int | None, score: int) -> tuple[int, int, int, int]:
    has_deadline = days is not None and days >= 0
    return (_URGENCY_RANK.get(urg, 3), 0 if has_deadline else 1, days if has_deadline else 0, -score)


def inbox_sort_key(summary: dict[str, Any]) -> tuple[int, int, int, int]:
    """Same order as :attr:`Assessment.sort_key`, from a stored ``to_dict()``."""
    tl = summary.get("time_left") or {}
    return _sort_key(summary.get("urgency", ""), tl.get("days_to_legal_last_day"), int(summary.get("score") or 0))


def assess(case: Case, today: dt.date) -> Assessment:
    """Bundle :func:`stage`, :func:`time_left`, :func:`special_cases`,
    :func:`urgency` and :func:`lead_score` for ``case`` as of ``today``
    (``time_left`` computed once and handed to the others: it is the costly part)."""
    tl = time_left(case, today)
    score, reasons = lead_score(case, today, tl)
    st, basis = stage_basis(case, today)
    return Assessment(
        stage=st,
        stage_basis=basis,
        date_doubts=date_doubts(case, today, tl),
        time_left=tl,
        special_cases=special_cases(case, today, tl),
        urgency=urgency(case, today, tl),
        score=score,
        reasons=reasons,
    )
