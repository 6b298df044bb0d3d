"""The funnel: recording the steps conversations reach, and counting them.

Recording (:func:`record_conversation`, run by an engine hook after each event)
writes one ``funnel_events`` row per conversation and step reached, and one
per answer (``answer:<question>`` with the answer's bucket as ``value``; a
corrected answer replaces the earlier one). ``day`` is the JST day the
conversation *started*, so a period's funnel is a cohort (later steps are
counted with the day their conversation began) and drop-off is never
negative. The rows survive the purge with ``conversation_id`` set to NULL.

``assigned`` and ``closed`` are also written when the console changes a
conversation's status: the status machine's transitions (dialogs/conversation.py)
name them and ``bot.console.service.change_status`` records them with :func:`add_event`.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.content import labels as content_labels
from bot.storage import Storage, loads, now_iso
from dialogs import conversation
from dialogs.base import JST
from dialogs.diagnosis.vocabulary import QUESTIONS

logger = logging.getLogger(__name__)

#: Questions asked only in some cases: shown, not part of the drop-off chain.
CONDITIONAL = frozenset({"court_letter", "dates"})
#: The funnel, in order.
STEPS: tuple[str, ...] = ("first_message", "consent", *QUESTIONS, "result", "contact", "handoff",
                          "assigned", "closed")
STEP_LABELS = content_labels()["funnel_step"]
ANSWER_STEPS = {
    "answer:arrears": "滞納期間",
    "answer:notice": "最新の書類",
    "answer:co_owned": "名義",
    "answer:divorce": "離婚",
}
VALUE_LABELS = {
    "answer:arrears": {"0": "滞納なし", "1-2": "1〜2ヶ月", "3-5": "3〜5ヶ月", "6+": "6ヶ月以上",
                       "unknown": "わからない"},
    "answer:notice": {**content_labels()["notice"], "unknown": "わからない"},
    "answer:co_owned": {"single": "単独名義", "shared": "共有名義", "unknown": "わからない"},
    "answer:divorce": {"none": "関係なし", "in_progress": "協議中", "done": "離婚済み",
                       "unknown": "わからない"},
}
FEEDBACK_VALUES = conversation.FEEDBACK_VALUES
FEEDBACK_LABELS = content_labels()["feedback"]


def jst_day(iso: str | None) -> str:
    """The JST day of a UTC timestamp (today when there is none)."""
    try:
        t = dt.datetime.fromisoformat((iso or "").replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(JST).date().isoformat()
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(JST).date().isoformat()


def source_of(channel: str, contact_source: str | None) -> tuple[str, str]:
    """(source, campaign): utm_source/utm_campaign for the web chat, "line" for LINE."""
    if channel == "line":
        return "line", ""
    src = loads(contact_source, {}) if contact_source else {}
    if not isinstance(src, dict):
        src = {}
    return (str(src.get("utm_source") or "(direct)")[:100], str(src.get("utm_campaign") or "")[:100])


def arrears_bucket(months: Any) -> str:
    if months is None:
        return "unknown"
    m = int(months)
    if m <= 0:
        return "0"
    if m <= 2:
        return "1-2"
    if m <= 5:
        return "3-5"
    return "6+"


def steps_reached(conv: dict[str, Any], signals: set[str] | frozenset = frozenset()) -> tuple[set[str], dict[str, str]]:
    """(plain steps, {answer step: value}) a conversation row shows it has reached."""
    data = loads(conv.get("data"), {}) or {}
    summary = loads(conv.get("summary"), {}) or {}
    answered = set(data.get("answered") or [])
    seen = set(data.get("history") or []) | {conv.get("state"), conv.get("step")}
    steps = {"first_message"}
    if data.get("consent") or "consent" in signals:
        steps.add("consent")
    for q in QUESTIONS:
        if q in seen or q in answered:
            steps.add(q)
    if "result" in seen:
        steps.add("result")
    contact = {**(summary.get("contact") or {}), **(data.get("contact") or {})}
    if "lead" in signals or contact.get("phone") or contact.get("email") or contact.get("via_line"):
        steps.add("contact")
    answers = data.get("answers") or summary.get("answers") or {}
    if ("handoff" in signals or "handoff" in seen or answers.get("wants_human")
            or conv.get("status") == "waiting"):
        steps.add("handoff")
    if conv.get("status") == "operator" or conv.get("owner_id"):
        steps.add("assigned")
    if conv.get("status") == "closed":
        steps.add("closed")
    values: dict[str, str] = {}
    if "arrears" in answered:
        values["answer:arrears"] = arrears_bucket(answers.get("arrears_months"))
    if "notice" in answered or answers.get("latest_notice"):
        values["answer:notice"] = str(answers.get("latest_notice") or "unknown")
    if "ownership" in answered:
        co = answers.get("co_owned")
        values["answer:co_owned"] = "unknown" if co is None else ("shared" if co else "single")
    if "divorce" in answered:
        values["answer:divorce"] = str(answers.get("divorce") or "unknown")
    return steps, values


def record_conversation(storage: Storage, conv: dict[str, Any], signals: set[str] | frozenset = frozenset()) -> None:
    """Store the steps and answers ``conv`` has reached (idempotent)."""
    steps, values = steps_reached(conv, signals)
    # Most events reach nothing new: read what is stored, write only the news
    # (no write transaction at all when there is none).
    stored = set(storage.db.execute(
        "select step, value from funnel_events where conversation_id = ?", [conv["id"]]
    ).fetchall())
    steps = {s for s in steps if (s, "") not in stored}
    values = {k: v for k, v in values.items() if (k, v) not in stored}
    if not steps and not values:
        return
    origin, day, ts = _origin(storage, conv), jst_day(conv.get("created_at")), now_iso()
    with storage.write() as db:
        for step in steps:
            db.execute(INSERT, [*origin, step, "", day, ts])
        for step, value in values.items():
            db.execute("delete from funnel_events where conversation_id = ? and step = ? and value != ?",
                       [conv["id"], step, value])
            db.execute(INSERT, [*origin, step, value, day, ts])


INSERT = ("insert into funnel_events (conversation_id, channel, source, campaign, step, value, day, created_at)"
          " values (?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing")


def _origin(storage: Storage, conv: dict[str, Any]) -> list[Any]:
    """What every funnel row of ``conv`` carries first: its id, channel, source and campaign."""
    contact = storage.db.execute("select source from contacts where id = ?", [conv["contact_id"]]).fetchone()
    return [conv["id"], conv["channel"], *source_of(conv["channel"], contact[0] if contact else None)]


def add_event(storage: Storage, conv: dict[str, Any], step: str, value: str = "") -> bool:
    """One step for a conversation; True when it was new."""
    cur = storage.db.execute(INSERT, [*_origin(storage, conv), step, value, jst_day(conv.get("created_at")),
                                      now_iso()])
    return cur.rowcount == 1


# -- counting ---------------------------------------------------------------------------
@dataclass
class StepRow:
    step: str
    label: str
    count: int
    conditional: bool = False
    drop: int | None = None  # lost since the previous (non-conditional) step
    drop_pct: float | None = None
    pct_of_start: float | None = None


@dataclass
class Funnel:
    date_from: str
    date_to: str
    channel: str | None
    steps: list[StepRow] = field(default_factory=list)
    answers: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[tuple[str, str, int]] = field(default_factory=list)
    feedback_requested: int = 0


def compute(storage: Storage, date_from: str, date_to: str, channel: str | None = None) -> Funnel:
    """The funnel of the conversations started between the two JST days (inclusive).

    Reads ``funnel_daily``, the per-day roll-up the m004 triggers keep in step
    with ``funnel_events``.
    """
    db = storage.db
    where = "day >= ? and day <= ?" + (" and channel = ?" if channel else "")
    params = [date_from, date_to, *([channel] if channel else [])]
    counts: dict[tuple[str, str], int] = {}
    for step, value, n in db.execute(
        f"select step, value, sum(n) from funnel_daily where {where} group by step, value", params
    ):
        counts[(step, value)] = n
    f = Funnel(date_from, date_to, channel)
    start = counts.get(("first_message", ""), 0)
    prev: int | None = None
    for step in STEPS:
        n = counts.get((step, ""), 0)
        row = StepRow(step, STEP_LABELS[step], n, conditional=step in CONDITIONAL)
        if start:
            row.pct_of_start = 100.0 * n / start
        if not row.conditional:
            # A step reachable without the one before it (a conversation closed
            # without an operator) can count more: no drop-off to show then.
            if prev is not None and n <= prev:
                row.drop = prev - n
                row.drop_pct = (100.0 * (prev - n) / prev) if prev else None
            prev = n
        f.steps.append(row)
    for astep, labels in VALUE_LABELS.items():
        rows = [(v, labels.get(v, v), counts.get((astep, v), 0)) for v in labels]
        extra = [(v, v, n) for (s, v), n in counts.items() if s == astep and v not in labels]
        f.answers[astep] = rows + extra
    f.feedback_requested = counts.get(("feedback_request", ""), 0)
    f.feedback = [(v, FEEDBACK_LABELS[v], counts.get(("feedback", v), 0)) for v in FEEDBACK_VALUES]

    # week by week (weeks start on Monday)
    weekly: dict[str, dict[str, int]] = {}
    for week, step, n in db.execute(
        f"select date(day, '-' || ((cast(strftime('%w', day) as integer) + 6) % 7) || ' days') as week,"
        f" step, sum(n) from funnel_daily where {where} and value = ''"
        f" and step in ('first_message', 'consent', 'result', 'contact', 'handoff', 'assigned')"
        f" group by week, step order by week",
        params,
    ):
        weekly.setdefault(week, {})[step] = n
    f.weeks = [{"week": w, **v} for w, v in sorted(weekly.items())]

    # by source (web chat utm_source / utm_campaign, and LINE)
    by_source: dict[tuple[str, str, str], dict[str, int]] = {}
    for ch, source, campaign, step, n in db.execute(
        f"select channel, source, campaign, step, sum(n) from funnel_daily where {where}"
        f" and value = '' and step in ('first_message', 'consent', 'result', 'contact', 'handoff', 'assigned')"
        f" group by channel, source, campaign, step",
        params,
    ):
        by_source.setdefault((ch, source or "", campaign or ""), {})[step] = n
    rows = []
    for (ch, source, campaign), v in by_source.items():
        started = v.get("first_message", 0)
        rows.append({"channel": ch, "source": source, "campaign": campaign, **v,
                     "lead_rate": (100.0 * v.get("contact", 0) / started) if started else None})
    rows.sort(key=lambda r: -r.get("first_message", 0))
    f.sources = rows
    return f
