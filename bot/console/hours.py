"""Business hours (JST): weekdays, not Japanese public holidays, not 12/29–1/3.

``NINBAI_BUSINESS_HOURS`` = ``"09:00-18:00"`` (default). Out of hours, when the
user asks for a person, the bot's answer gets one sentence saying when a
person will reply (:func:`out_of_hours_note`, registered as an
``Engine.answer_filters`` function by :func:`bot.console.init_app`).
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

import jpholiday

from bot.console.service import TIME_LABELS, add_promise
from bot.storage import loads
from dialogs.base import JST, WEEKDAYS

logger = logging.getLogger(__name__)

DEFAULT_HOURS = "09:00-18:00"


def parse_hours(spec: str | None) -> tuple[dt.time, dt.time]:
    """``"09:00-18:00"`` → (09:00, 18:00); a bad value falls back to the default (logged)."""
    try:
        start_s, end_s = (spec or DEFAULT_HOURS).replace("〜", "-").replace("~", "-").split("-")
        start = dt.time.fromisoformat(start_s.strip().zfill(5))
        end = dt.time.fromisoformat(end_s.strip().zfill(5))
        if start >= end:
            raise ValueError("start after end")
        return start, end
    except ValueError:
        logger.error("NINBAI_BUSINESS_HOURS=%r is not like 09:00-18:00; using %s", spec, DEFAULT_HOURS)
        return parse_hours(DEFAULT_HOURS)


def is_business_day(day: dt.date) -> bool:
    if day.weekday() >= 5:
        return False
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return False
    return not jpholiday.is_holiday(day)


def _jst(now: dt.datetime) -> dt.datetime:
    return now.replace(tzinfo=JST) if now.tzinfo is None else now.astimezone(JST)


def _next_business_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def is_open(now: dt.datetime, hours: tuple[dt.time, dt.time]) -> bool:
    now = _jst(now)
    start, end = hours
    return is_business_day(now.date()) and start <= now.time() < end


def next_opening(now: dt.datetime, hours: tuple[dt.time, dt.time]) -> dt.datetime:
    """The next moment a person is at work (``now`` itself when open)."""
    now = _jst(now)
    start, _ = hours
    if is_open(now, hours):
        return now
    day = now.date()
    if not (is_business_day(day) and now.time() < start):
        day = _next_business_day(day)
    return dt.datetime.combine(day, start, tzinfo=JST)


def _clock(t: dt.time) -> str:
    return f"{t.hour}時" if t.minute == 0 else f"{t.hour}時{t.minute}分"


def reply_note(now: dt.datetime, hours: tuple[dt.time, dt.time]) -> str | None:
    """The sentence for out of hours, or None while open."""
    now = _jst(now)
    if is_open(now, hours):
        return None
    opening = next_opening(now, hours)
    when = _clock(opening.time())
    if opening.date() == now.date():
        return f"ただいま営業時間外のため、担当者は本日{when}以降にご連絡します。"
    d = opening.date()
    return (f"ただいま営業時間外のため、担当者は翌営業日 {d.month}月{d.day}日"
            f"（{WEEKDAYS[d.weekday()]}）{when}以降にご連絡します。")


def now_jst() -> dt.datetime:
    return dt.datetime.now(JST)


def make_answer_filter(hours: tuple[dt.time, dt.time], clock: Callable[[], dt.datetime],
                       storage: Any) -> Callable[[Any, Any], None]:
    """An ``Engine.answer_filters`` function: adds the note to a handoff answer out of hours.

    The promise the note makes becomes a follow-up due at the next opening
    (written in the engine's transaction: kept only if the answer is).
    """

    def out_of_hours_note(conv: dict, result: Any) -> None:
        if "handoff" not in (getattr(result, "signals", None) or ()):
            return
        answer = getattr(result, "answer", None)
        if answer is None or not answer.messages:
            return
        now = clock()
        note = reply_note(now, hours)
        if not note:
            return
        add_promise(storage, conv["id"], next_opening(now, hours),
                    "営業時間外の自動応答で、この時刻以降の連絡を約束しました")
        last = answer.messages[-1]
        if getattr(last, "type", None) == "text":
            last.text = f"{last.text}\n\n{note}"
        else:
            answer.say(note)

    return out_of_hours_note


# The time slots of the dialog's question 「ご連絡してよい時間帯は」 (content: contact_time).
SLOTS = {"morning": (dt.time(9, 0), dt.time(12, 0)), "afternoon": (dt.time(13, 0), dt.time(17, 0)),
         "evening": (dt.time(17, 0), dt.time(23, 59))}


def slot_due(now: dt.datetime, hours: tuple[dt.time, dt.time], preferred: str | None) -> dt.datetime:
    """When a contact promised 「ご希望の時間帯に」 falls due: the next business day's
    slot start (within business hours), today's when still ahead or under way."""
    now = _jst(now)
    if preferred not in SLOTS:
        return next_opening(now, hours)
    start = max(SLOTS[preferred][0], hours[0])
    end = min(SLOTS[preferred][1], hours[1])
    if start >= end:  # the slot lies outside business hours: the next opening
        return next_opening(now, hours)
    day = now.date()
    if is_business_day(day) and now.time() < end:
        return max(now, dt.datetime.combine(day, start, tzinfo=JST))
    return dt.datetime.combine(_next_business_day(day), start, tzinfo=JST)


def make_lead_hook(hours: tuple[dt.time, dt.time], storage: Any,
                   clock: Callable[[], dt.datetime] = now_jst) -> Callable[[dict, set], None]:
    """An ``Engine.hooks`` function: the bot's 「相談員から、ご希望の時間帯にご連絡します」
    (signal ``lead``) becomes a follow-up due at the start of that slot."""

    def lead_promise(conv: dict, signals: set) -> None:
        if "lead" not in (signals or ()):
            return
        preferred = ((loads(conv.get("data"), {}) or {}).get("contact") or {}).get("preferred_time")
        label = TIME_LABELS.get(preferred, "")
        with storage.write():
            add_promise(storage, conv["id"], slot_due(clock(), hours, preferred),
                        f"ボットが「ご希望の時間帯{'（' + label + '）' if label else ''}に連絡」と約束しました")

    return lead_promise
