"""The narrow interface between the engine and a dialog.

The engine loads a :class:`Session` from SQLite, builds a :class:`DialogInput`
from the inbound event, calls ``dialog.step(session, inp)`` once, stores the
mutated session and sends ``result.answer``. Dialogs hold no I/O.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from dialogs.answer import Answer

#: Japan's time zone: every date the product shows or reasons with is a day in Japan.
JST = zoneinfo.ZoneInfo("Asia/Tokyo")
#: The days of the week as a date is written in Japanese (「12月3日（木）」), Monday first.
WEEKDAYS = "月火水木金土日"


def format_date(d: dt.date, today: dt.date | None = None) -> str:
    """「12月10日（木）」; with the year when it is not this year's."""
    s = f"{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"
    if today is not None and d.year != today.year:
        s = f"{d.year}年{s}"
    return s

InputKind = Literal[
    "follow",  # first follow, or first visit of the web chat
    "refollow",  # follow again after a block
    "text",
    "postback",  # button tap; ``data`` and maybe ``params`` (datetime picker)
    "sticker",
    "image",
    "video",
    "audio",
    "file",
    "location",
    "handback",  # an operator handed the conversation back to the bot
]


@dataclass
class Session:
    """One conversation's dialog state: a state name plus JSON-able data."""

    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DialogInput:
    kind: InputKind
    today: dt.date
    channel: Literal["line", "web"] = "line"
    text: str | None = None
    data: str | None = None
    params: dict[str, str] | None = None
    display_name: str | None = None
    #: the time in Japan when the message came (None: not known; then nothing is worded
    #: by the time of day, e.g. 「今日のうちに」 is not said at night)
    now: dt.datetime | None = None


@dataclass
class DialogResult:
    answer: Answer
    # Signals for the engine/console: "handoff" (the user asked for a person or
    # gave contact details), "lead" (contact details complete), "consent",
    # "restart", "delete_request", "deleted".
    signals: set[str] = field(default_factory=set)
    # Case summary for the console and insights (stage, urgency, lead_score,
    # reasons, auction/開札 date as ISO string, ...). Merged into the conversation.
    summary: dict[str, Any] = field(default_factory=dict)


class Dialog(Protocol):
    name: str

    def step(self, session: Session, inp: DialogInput) -> DialogResult: ...
