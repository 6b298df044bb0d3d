"""The result a homeowner sees, composed from the assessment and ``content/knowledge.yaml`` (``advice``).

Pure functions: no I/O, no clock (``today`` and the JST time ``now`` are arguments).

The result (:func:`compose`) is at most five messages:

1. the intro;
2. a card with three rows only — 今の段階 / いつまでに (dates with weekday) /
   今日やること — and one button (a person);
3. one short bubble with the honest picture for the time left (``advice.situation``
   or the stage's summary);
4. the dates (exact ones still ahead, 「正確な日は裁判所・債権者に確認」) or the kind
   question about a doubtful date (``advice.doubts``);
5. the closing line (urgent when the case is hot; never 「今日のうちに」 at night).

Every point that applies (co-owners, guarantor, divorce, lender, leaseback, credit,
alternatives, tax seizure, after 開札, worries, moving money) sits behind a quick
reply ``point:<id>`` and is shown by :func:`point_answer`, once per tap; a point is
offered again only until it has been seen. A day that has passed is never shown as
a target, and no deadline is computed from a 開札 on a day the court is closed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

import jpholiday

from dialogs.answer import Answer, Card, QuickReply
from dialogs.assessment import ALL_STAGES, AUCTION_STAGES, Assessment, Case, assess
from dialogs.base import JST, format_date

__all__ = ["POINTS", "case_from", "case_lines", "compose", "content_keys", "format_date", "is_night",
           "point_answer", "point_key", "point_labels", "points", "result_buttons", "show_point", "show_result"]

#: Point ids (postback ``point:<id>``), most time-critical first.
POINTS: tuple[str, ...] = ("after_kaisatsu", "tax", "lender", "co_owners", "guarantor", "divorce", "alternatives",
                           "moving", "leaseback", "credit", "worries")
#: Every content key a point may resolve to (:func:`point_key`).
POINT_KEYS: tuple[str, ...] = (
    "after_kaisatsu", "tax", "lender_jhf_early", "lender_jhf_urgent", "lender_jhf_filed", "co_owners",
    "co_owners_divorce", "guarantor", "guarantor_self", "divorce_in_progress", "divorce_done", "alternatives",
    "moving_bank", "moving_jhf", "leaseback", "credit", "worries",
)
#: Situations with their own bubble (``advice.situation``); others use the stage's summary.
SITUATIONS = ("weeks", "days", "bidding_closed", "after_kaisatsu", "from_arrears_acceleration",
              "from_arrears_subrogation", "court_letter_unknown")
#: Before 8:00 and from 20:00 JST it is night: no 「今日のうちに」.
DAY_STARTS, NIGHT_STARTS = 8, 20
#: Weeks band: at least this many days left to the planning day.
WEEKS_DAYS = 14
MAX_QUICK_REPLIES = 13


def is_night(now: dt.datetime | None) -> bool | None:
    """True at night (JST), False by day, None when the time is not known."""
    if now is None:
        return None
    if now.tzinfo is not None:
        now = now.astimezone(JST)
    return not (DAY_STARTS <= now.hour < NIGHT_STARTS)


def case_from(data: dict[str, Any]) -> Case:
    """The :class:`Case` of a diagnosis session's ``data`` (answers + the 現況調査 date)."""
    answers = dict(data.get("answers") or {})
    if data.get("inspection_date") and not answers.get("inspection_date"):
        answers["inspection_date"] = data["inspection_date"]
    return Case.from_dict(answers)


# ---------------------------------------------------------------------------
# Which lines and points apply
# ---------------------------------------------------------------------------


def _when(night: bool | None) -> str:
    return {None: "unknown", True: "night", False: "day"}[night]


def _band(case: Case, a: Assessment, today: dt.date) -> str | None:
    """weeks / days / bidding_closed / after_kaisatsu, or None without an exact 開札."""
    tl = a.time_left
    if a.stage == "after_kaisatsu":
        return "after_kaisatsu"
    if tl.kaisatsu is None or tl.legal_last_day is None:
        return None
    if case.bidding_end is not None and case.bidding_end < today:
        return "bidding_closed"
    if tl.days_to_plan_by is not None and tl.days_to_plan_by >= WEEKS_DAYS:
        return "weeks"
    return "days"


def _stage_line_key(case: Case, a: Assessment) -> str:
    if case.court_letter_unknown and a.stage == "auction_start" and not case.start_decision_date:
        return "court_letter_unknown"
    if a.stage_basis == "arrears" and a.stage in ("acceleration", "subrogation"):
        return f"from_arrears_{a.stage}"
    return a.stage


def _jhf_urgent(case: Case, a: Assessment) -> bool:
    return case.lender == "jhf" and a.stage in ("acceleration", "subrogation")


def _todo_key(case: Case, a: Assessment, band: str | None) -> str:
    tl = a.time_left
    if band == "after_kaisatsu":
        return "after_kaisatsu"
    if band in ("days", "bidding_closed"):
        return "days"
    if band == "weeks":
        return "weeks"
    if "kaisatsu_closed_day" in a.date_doubts:
        return "date_doubt"
    if tl.window_note == "dates_old":
        return "ask_court"
    if _stage_line_key(case, a) == "court_letter_unknown" or (a.stage == "bid_notice" and tl.kaisatsu is None):
        return "court_letter_unknown"
    if a.stage in AUCTION_STAGES:
        return "auction_running"
    if _jhf_urgent(case, a):
        return "jhf_urgent"
    if a.stage_basis == "arrears" and a.stage in ("acceleration", "subrogation"):
        return "from_arrears"
    if a.stage in ("subrogation", "acceleration", "dunning", "none"):
        return a.stage
    if case.tax_seizure:
        return "tax"
    return "unknown"


def _by_when(c: Any, case: Case, a: Assessment, today: dt.date) -> str:
    tl, fmt = a.time_left, (lambda d: format_date(d, today))
    t = lambda k, **kw: c.text(f"knowledge.advice.by_when.{k}", **kw)  # noqa: E731
    if a.stage == "after_kaisatsu":
        return t("after_kaisatsu")
    if "kaisatsu_closed_day" in a.date_doubts:
        return t("date_doubt")
    if tl.plan_by is not None and tl.legal_last_day is not None:
        if tl.plan_by > today:
            return t("plan", date=fmt(tl.plan_by), days=(tl.plan_by - today).days)
        if tl.plan_by == today:
            return t("plan_today", date=fmt(tl.plan_by))
        if tl.legal_last_day == today:
            return t("legal_today", date=fmt(tl.legal_last_day))
        return t("legal", date=fmt(tl.legal_last_day))  # plan passed, legal day still ahead
    if tl.window_note in ("dates_old", "ask_court_dates"):
        return t("ask_court")
    if tl.is_estimate and tl.estimate_kind != "arrears" and tl.estimate_from and tl.estimate_to:
        return t("estimate", date_from=fmt(tl.estimate_from), date_to=fmt(tl.estimate_to))
    if tl.window_note == "auction_could_start_any_time":
        return t("any_time")
    if tl.auction_start_from and tl.auction_start_to:
        return t("auction_window", date_from=fmt(tl.auction_start_from), date_to=fmt(tl.auction_start_to))
    if a.stage == "none":
        return t("not_behind")
    return t("unknown")


def point_key(pid: str, case: Case, a: Assessment) -> str | None:
    """The content key (under ``knowledge.advice.points``) of point ``pid`` for this
    case, or None when the point does not apply."""
    st, behind = a.stage, a.stage not in ("none",)
    if pid == "after_kaisatsu":
        return "after_kaisatsu" if st == "after_kaisatsu" else None
    if pid == "tax":
        return "tax" if case.tax_seizure else None
    if pid == "lender":
        if case.lender != "jhf" or st == "after_kaisatsu":
            return None
        if st in AUCTION_STAGES:
            return "lender_jhf_filed"
        return "lender_jhf_urgent" if _jhf_urgent(case, a) else "lender_jhf_early"
    if pid == "co_owners":
        if not case.co_owned:
            return None
        return "co_owners_divorce" if case.divorce in ("in_progress", "done") else "co_owners"
    if pid == "guarantor":
        if case.user_is_guarantor:
            return "guarantor_self"
        return "guarantor" if case.joint_guarantor else None
    if pid == "divorce":
        if case.co_owned or case.divorce not in ("in_progress", "done"):
            return None
        return f"divorce_{case.divorce}"
    if pid == "alternatives":
        return "alternatives" if behind else None
    if pid == "moving":
        if st in ("none", "dunning", "unknown"):
            return None
        return "moving_jhf" if case.lender == "jhf" else "moving_bank"
    if pid == "leaseback":
        return "leaseback" if case.wants_to_stay else None
    if pid == "credit":
        return "credit" if "credit_record" in a.special_cases else None
    if pid == "worries":
        return "worries"
    return None


def point_labels(c: Any) -> dict[str, str]:
    """``{"point:<id>": label}`` for transcripts (a LINE postback does not carry its label).
    Variants of one point share its label."""
    out: dict[str, str] = {}
    for key in POINT_KEYS:
        pid = next(p for p in POINTS if key == p or key.startswith(p + "_"))
        out.setdefault(f"point:{pid}", c.text(f"knowledge.advice.points.{key}.label"))
    return out


def points(case: Case, a: Assessment) -> list[str]:
    """The point ids that apply, in :data:`POINTS` order."""
    return [p for p in POINTS if point_key(p, case, a) is not None]


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------


def _closed_reason(d: dt.date) -> str:
    if (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3):
        return "year_end"
    if jpholiday.is_holiday(d):
        return "holiday"
    return "saturday" if d.weekday() == 5 else "sunday"


def _situation(c: Any, case: Case, a: Assessment, band: str | None, when: str) -> str:
    key = band or _stage_line_key(case, a)
    if key in SITUATIONS:
        text = c.text(f"knowledge.advice.situation.{key}.text", when=when)
    else:
        text = c.text(f"knowledge.stages.{a.stage}.summary")
    if case.tax_seizure and band is None:
        text += "\n" + c.text("knowledge.advice.situation.tax.text")
    return text


def _dates_text(c: Any, a: Assessment, today: dt.date) -> str | None:
    tl = a.time_left
    if tl.kaisatsu is None or a.stage == "after_kaisatsu":
        return None
    fmt = lambda d: format_date(d, today)  # noqa: E731
    lines = [c.text("knowledge.advice.dates.kaisatsu", date=fmt(tl.kaisatsu))]
    for key, d in (("ideal", tl.ideal_by), ("plan", tl.plan_by), ("legal", tl.legal_last_day)):
        if d is not None and d >= today:  # a passed day is never a target
            lines.append(c.text(f"knowledge.advice.dates.{key}", date=fmt(d)))
    lines.append(c.text("knowledge.advice.dates.confirm"))
    return "\n".join(lines)


def _doubt_text(c: Any, case: Case, a: Assessment, today: dt.date) -> str | None:
    out = []
    if "kaisatsu_closed_day" in a.date_doubts and case.kaisatsu_date is not None:
        closed = c.text(f"knowledge.advice.closed_day.{_closed_reason(case.kaisatsu_date)}")
        out.append(c.text("knowledge.advice.doubts.kaisatsu_closed_day.text",
                          date=format_date(case.kaisatsu_date, today), closed=closed))
    if "dates_old" in a.date_doubts:
        out.append(c.text("knowledge.advice.doubts.dates_old.text"))
    return "\n\n".join(out) or None


def quick_replies(buttons: Iterable[dict[str, Any]], today: dt.date) -> list[QuickReply]:
    """Content buttons as quick replies (the result's and the dialog's questions'); a
    ``kind: date`` button opens a date picker two years either side of today."""
    out = []
    for b in buttons:
        if b.get("kind") == "date":
            out.append(QuickReply(label=b["label"], data=b["data"], kind="date", initial=today.isoformat(),
                                  min=(today - dt.timedelta(days=730)).isoformat(),
                                  max=(today + dt.timedelta(days=730)).isoformat()))
        else:
            out.append(QuickReply(label=b["label"], data=b["data"], text=b["label"]))
    return out


def _buttons(c: Any, case: Case, a: Assessment, seen: Iterable[str]) -> list[dict[str, Any]]:
    """A date picker for a doubtful 開札, the points not seen yet, then the result
    menu — at most 13 (points give way to the menu)."""
    menu = list(c.get("dialog.states.result.buttons"))
    first = [c.get("knowledge.advice.doubts.date_button")] if "kaisatsu_closed_day" in a.date_doubts else []
    room = MAX_QUICK_REPLIES - len(menu) - len(first)
    seen = set(seen)
    pts = [{"label": c.text(f"knowledge.advice.points.{point_key(p, case, a)}.label"), "data": f"point:{p}"}
           for p in points(case, a) if p not in seen][:room]
    return [*first, *pts, *menu]


def _menu(c: Any, case: Case, a: Assessment, today: dt.date, seen: Iterable[str]) -> list[QuickReply]:
    return quick_replies(_buttons(c, case, a, seen), today)


def compose(c: Any, case: Case, today: dt.date, now: dt.datetime | None = None,
            seen: Iterable[str] = ()) -> Answer:
    """The result: intro, the three-line card, one short bubble, the dates (or a kind
    question about them), the closing line; points behind quick replies."""
    a = assess(case, today)
    night = is_night(now)
    when = c.text(f"knowledge.advice.when.{_when(night)}")
    band = _band(case, a, today)
    stage_line = c.text(f"knowledge.advice.stage_line.{_stage_line_key(case, a)}")
    by_when = _by_when(c, case, a, today)
    todo = c.text(f"knowledge.advice.todo.{_todo_key(case, a, band)}")
    r = lambda k: c.text(f"dialog.states.result.rows.{k}")  # noqa: E731
    rows = [(r("stage"), stage_line), (r("by_when"), by_when), (r("todo_night" if night else "todo"), todo)]
    tone = {"hot": "urgent", "warm": "warning"}.get(a.urgency, "info")
    card = Card(
        alt_text=c.text("dialog.states.result.alt_text", stage=stage_line, by_when=by_when, todo=todo),
        title=c.text("dialog.states.result.title"),
        subtitle=c.text("dialog.states.result.subtitle", today=format_date(today)),
        rows=rows, paragraphs=[], buttons=quick_replies([c.get("dialog.states.result.buttons.0")], today),
        tone=tone,  # type: ignore[arg-type]
    )
    ans = Answer()
    ans.say(c.text("dialog.states.result.intro"))
    ans.messages.append(card)
    doubt = _doubt_text(c, case, a, today)
    if not (doubt and "dates_old" in a.date_doubts and band is None):  # old dates: the stage's timing is moot
        ans.say(_situation(c, case, a, band, when))
    extra = doubt or _dates_text(c, a, today)
    if extra:
        ans.say(extra)
    closing = c.text("dialog.states.result.text")
    if a.urgency == "hot":
        closing = c.text(f"knowledge.advice.urgent.{_when(night)}") + "\n\n" + closing
    ans.say(closing)
    ans.quick_replies = _menu(c, case, a, today, seen)
    return ans


def point_answer(c: Any, case: Case, today: dt.date, pid: str, seen: Iterable[str] = ()) -> Answer | None:
    """One point's bubble (None when ``pid`` does not apply); quick replies offer the
    points not seen yet (``pid`` counts as seen) and the result menu."""
    a = assess(case, today)
    key = point_key(pid, case, a)
    if key is None:
        return None
    ans = Answer()
    ans.say(c.text(f"knowledge.advice.points.{key}.text"))
    ans.quick_replies = _menu(c, case, a, today, {*seen, pid})
    return ans


# ---------------------------------------------------------------------------
# The diagnosis dialog's two calls (dialogs/diagnosis.py)
# ---------------------------------------------------------------------------


def _now(turn: Any) -> dt.datetime | None:
    """The JST time of the message, when the engine gives it (``DialogInput.now``)."""
    return turn.inp.now


def show_result(c: Any, turn: Any) -> None:
    """Write the result into ``turn.answer`` (the diagnosis dialog's ``result`` state)."""
    ans = compose(c, case_from(turn.data), turn.today, _now(turn), turn.data.get("points_seen", ()))
    turn.answer.messages.extend(ans.messages)
    turn.answer.quick_replies = ans.quick_replies


def result_buttons(c: Any, turn: Any) -> list[dict[str, Any]]:
    """The result state's buttons (the points not seen yet + the menu), for the dialog's
    own re-asking after a FAQ answer or a miss."""
    case = case_from(turn.data)
    return _buttons(c, case, assess(case, turn.today), turn.data.get("points_seen", ()))


def show_point(c: Any, turn: Any, pid: str) -> list[str]:
    """A ``point:<id>`` tap: show the point; returns the triggers still to fire."""
    if not turn.data.get("consent") or pid not in POINTS:
        return ["miss"]
    seen = turn.data.setdefault("points_seen", [])
    ans = point_answer(c, case_from(turn.data), turn.today, pid, seen)
    if ans is None:
        return ["miss"]
    if pid not in seen:
        seen.append(pid)
    turn.answer.messages.extend(ans.messages)
    if turn.state == "result":
        turn.answer.quick_replies = ans.quick_replies
        return []
    return ["reask"]  # an old button elsewhere: the current question follows


def content_keys() -> set[str]:
    """Every dotted content key the result reads (for ``check_content``)."""
    keys = {f"dialog.states.result.{k}" for k in ("intro", "title", "alt_text", "subtitle", "text", "buttons",
                                                    "reprompt")}
    keys |= {f"dialog.states.result.rows.{k}" for k in ("stage", "by_when", "todo", "todo_night", "check",
                                                         "points")}
    keys |= {f"dialog.states.result.checks.{k}" for k in ("kaisatsu_closed_day", "dates_old")}
    base = "knowledge.advice"
    keys |= {f"{base}.when.{k}" for k in ("day", "night", "unknown")}
    keys |= {f"{base}.urgent.{k}" for k in ("day", "night", "unknown")}
    keys |= {f"{base}.closed_day.{k}" for k in ("saturday", "sunday", "holiday", "year_end")}
    keys |= {f"{base}.stage_line.{k}" for k in (*ALL_STAGES, "from_arrears_acceleration",
                                               "from_arrears_subrogation", "court_letter_unknown")}
    keys |= {f"{base}.by_when.{k}" for k in ("plan", "plan_today", "legal", "legal_today", "after_kaisatsu",
                                            "estimate", "auction_window", "any_time", "date_doubt", "ask_court",
                                            "not_behind", "unknown")}
    keys |= {f"{base}.todo.{k}" for k in ("after_kaisatsu", "days", "weeks", "date_doubt", "ask_court",
                                         "court_letter_unknown", "auction_running", "subrogation", "from_arrears",
                                         "jhf_urgent", "acceleration", "dunning", "none", "unknown", "tax")}
    keys |= {f"{base}.situation.{k}.text" for k in (*SITUATIONS, "tax")}
    keys |= {f"{base}.dates.{k}" for k in ("kaisatsu", "legal", "plan", "ideal", "confirm")}
    keys |= {f"{base}.doubts.{k}" for k in ("kaisatsu_closed_day.text", "dates_old.text", "date_button")}
    keys |= {f"{base}.points.{k}.{f}" for k in POINT_KEYS for f in ("label", "text", "source")}
    keys |= {f"knowledge.stages.{st}.summary" for st in ALL_STAGES}
    return keys


# ---------------------------------------------------------------------------
# The operator's case card: the same facts, compact
# ---------------------------------------------------------------------------


def case_lines(case: Case, today: dt.date, c: Any) -> list[tuple[str, str]]:
    """(label, value) rows for the console's case card: the three lines the homeowner
    saw, the exact dates still ahead, the doubts to check and the points that apply."""
    a = assess(case, today)
    band = _band(case, a, today)
    r = lambda k: c.text(f"dialog.states.result.rows.{k}")  # noqa: E731
    out = [
        (r("stage"), c.text(f"knowledge.advice.stage_line.{_stage_line_key(case, a)}")),
        (r("by_when"), _by_when(c, case, a, today)),
        (r("todo"), c.text(f"knowledge.advice.todo.{_todo_key(case, a, band)}")),
    ]
    dates = _dates_text(c, a, today)
    if dates:
        for line in dates.splitlines()[:-1]:
            label, _, value = line.partition("：")
            out.append((label, value))
    for doubt in a.date_doubts:
        out.append((r("check"), c.text(f"dialog.states.result.checks.{doubt}")))
    labels = [c.text(f"knowledge.advice.points.{point_key(p, case, a)}.label") for p in points(case, a)]
    if labels:
        out.append((r("points"), "、".join(labels)))
    return out
