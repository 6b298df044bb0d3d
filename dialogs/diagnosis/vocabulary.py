"""The dialog's vocabulary: the questions, the postbacks, the constants and the context words."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Iterable

from dialogs.understanding import faq
from dialogs.understanding.normalize import english_words
from dialogs.assessment import NOTICES
from dialogs.base import format_date  # noqa: F401  (the dialog's modules import it from here)

# ---------------------------------------------------------------------------
# The questions (machine.py declares the states from them)
# ---------------------------------------------------------------------------

#: The questions, in the order they are asked.
QUESTIONS: tuple[str, ...] = (
    "arrears",  # how far behind
    "notice",  # the latest official letter
    "court_letter",  # "a letter from the court": which one?
    "dates",  # 開札日 / 入札期間 / 開始決定の日 (only while an auction runs)
    "ownership",  # 単独 / 共有名義
    "guarantor",  # 連帯保証人
    "divorce",
    "lender",  # 住宅金融支援機構 (フラット35) or a bank
    "stay",  # wants to stay (リースバック)
)
#: Collecting contact details, in order; ``handoff`` follows.
CONTACT_STEPS: tuple[str, ...] = ("contact", "contact_name", "contact_phone", "contact_time")

# ---------------------------------------------------------------------------
# Vocabulary of the postbacks (content/dialog.yaml buttons)
# ---------------------------------------------------------------------------

#: postback name → (question, {value → stored value})
ANSWER_POSTBACKS: dict[str, tuple[str, dict[str, Any]]] = {
    # representative months of each range (the assessment's thresholds: 3 = credit
    # record, 6 = acceleration likely)
    "arrears": ("arrears", {"0": 0, "1-2": 2, "3-5": 4, "6+": 6, "unknown": None}),
    "notice": ("notice", {**{n: n for n in NOTICES}, "none": "none", "unknown": "unknown", "court": "court"}),
    "court": ("court_letter", {"auction_start": "auction_start", "site_inspection": "site_inspection",
                               "bid_notice": "bid_notice", "unknown": "unknown"}),
    "own": ("ownership", {"single": False, "shared": True, "unknown": None}),
    "guarantor": ("guarantor", {"yes": True, "no": False, "unknown": None}),
    "divorce": ("divorce", {"none": "none", "in_progress": "in_progress", "done": "done", "unknown": None}),
    "lender": ("lender", {"jhf": "jhf", "bank": "bank", "unknown": "unknown"}),
    "stay": ("stay", {"yes": True, "no": False, "undecided": None}),
}
#: question → the Case field it fills
FIELD_OF = {
    "arrears": "arrears_months", "ownership": "co_owned", "guarantor": "joint_guarantor",
    "divorce": "divorce", "lender": "lender", "stay": "wants_to_stay",
}
#: question → what わからない (or two replies not understood) records
UNKNOWN_ANSWER: dict[str, Any] = {"arrears": None, "notice": "unknown", "court_letter": "unknown", "dates": {},
                                  "ownership": None, "guarantor": None, "divorce": None, "lender": "unknown",
                                  "stay": None}
DATE_FIELDS = {"kaisatsu": "kaisatsu_date", "start_decision": "start_decision_date",
               "bidding_start": "bidding_start", "bidding_end": "bidding_end", "inspection": "inspection_date"}
EXPLAIN_TOPICS = ("ninbai", "keibai", "merits", "cautions", "steps", "faq", "start")
#: The rich menu's postbacks (bot/channels/richmenu.py): menu:<area> → explanation topic.
RICH_MENU_TOPICS = {"ninbai": "ninbai", "compare": "keibai"}
#: The FAQ topic ids, as dialogs/understanding/faq.py reads them in free text (defined there once).
FAQ_TOPICS: tuple[str, ...] = tuple(topic for topic, _pattern in faq.FAQ_TOPICS)
CONTACT_TIMES = ("morning", "afternoon", "evening", "any")
DEADLINE_KEYS = ("legal_last_day", "plan_by", "ideal_by", "days_left", "estimate", "auction_window",
                 "no_date", "after_kaisatsu")
MEDIA_KINDS = frozenset({"sticker", "image", "video", "audio", "file", "location"})
MAX_MESSAGES = 5  # LINE's reply limit
MAX_QUICK_REPLIES = 13
HISTORY_MAX = 30
_NOTICE_RANK = {n: i for i, n in enumerate(NOTICES)}

MAX_HELD = 5  # messages held before consent
MAX_HELD_CHARS = 2000


def states_facts(reading: Any) -> bool:
    """Does a reading (dialogs/understanding/) state anything about the case?"""
    return bool(reading.arrears_months is not None or reading.co_owned is not None
                or reading.joint_guarantor is not None or reading.divorce is not None or reading.notices
                or reading.dates or getattr(reading, "guarantor_self", None) is not None
                or getattr(reading, "tax_seizure", False) or getattr(reading, "auction_over", False))


def _norm(text: str) -> str:
    """NFKC, trimmed, without closing punctuation: what free-text matching compares."""
    t = english_words(unicodedata.normalize("NFKC", text or "").strip())
    return t.rstrip("。．.！!、 ")


def _iso(d: Any) -> str | None:
    return d.isoformat() if isinstance(d, dt.date) else d


def _parse_iso(v: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(v[:10]) if v else None
    except ValueError:
        return None


def _latest(notices: Iterable[str]) -> str | None:
    ranked = [n for n in notices if n in _NOTICE_RANK]
    return max(ranked, key=_NOTICE_RANK.__getitem__) if ranked else None


_SENTENCE_END = re.compile(r"[。\n!！?？]")


class _Nothing:
    def __repr__(self) -> str:  # pragma: no cover
        return "_NOTHING"


_NOTHING: Any = _Nothing()
