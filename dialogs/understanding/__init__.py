"""Read one free-text message from a homeowner and pull out the facts the dialog needs.

``understand(text, today) -> Reading`` is pure: no I/O, no global state that
changes between calls, never raises, and bounded in time (the input is cut to
``MAX_CHARS`` before any regex runs, and only short windows around date cues
are handed to ja-timex, whose patterns slow down badly on long inputs).

How a message is read
---------------------
1. ``_normalize``: NFKC (全角/半角, ①②), drop spaces, unify line breaks, fold
   hiragana spellings and common typos of the key words onto one form
   (``VARIANTS``), unify the month counter (ヶ月/か月/カ月 → ヶ月).
2. One function per field (``read_arrears``, ``read_co_owned`` ...), each driven
   by the small keyword tables just below.
3. Dates go through ja-timex (``read_dates``); only year-less and relative
   results are resolved here.

The tables are the place to extend when a new phrasing shows up in the logs;
the corpus in ``tests/data/understanding_corpus.yaml`` says what each should do.

Where each reading lives (all reading of free text is in this package)
-----------------------------------------------------------------------
* ``normalize``: NFKC, spelling variants and typos, sentences and clauses.
* ``fields``: arrears, co-ownership, guarantor (the loan's and the person's own role),
  divorce, the official letters and a tax seizure, a wish to talk to a person.
* ``dates``: dates via ja-timex, with the shared year and the court-date rules.
* ``faq``: the free question's FAQ topic (classifier + topic keywords, the two-stage fallback).
* ``context``: a reply read as the answer to the question just asked (``polarity``,
  ``QUESTION_WORDS``, ``POLARITY_ANSWERS``), consent / restart / greeting words, and contact
  details in a sentence (``find_phone``, ``find_email``, ``find_name``, ``find_time``).
* crisis, anger and off-topic words: ``dialogs.care`` (its own content file and classifier),
  called by the dialog before anything else and by ``faq`` for off-topic questions.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from dialogs import care
from dialogs.understanding import faq
from dialogs.understanding.context import (
    BARE_WORD_QUESTIONS,
    POLARITIES,
    POLARITY_ANSWERS,
    QUESTION_WORDS,
    core,
    find_email,
    find_name,
    find_phone,
    find_time,
    looks_like_a_name,
    polarity,
    strip_asides,
)
from dialogs.understanding.dates import read_dates
from dialogs.understanding.faq import faq_classifier, read_faq, read_faq_topic
from dialogs.understanding.fields import (
    Divorce,
    read_arrears,
    read_co_owned,
    read_divorce,
    read_guarantor_self,
    read_joint_guarantor,
    read_notices,
    read_notices_and_tax,
    read_wants_human,
)
from dialogs.understanding.normalize import MAX_CHARS, _nfkc, _normalize

__all__ = [
    "BARE_WORD_QUESTIONS", "MAX_CHARS", "POLARITIES", "POLARITY_ANSWERS", "QUESTION_WORDS", "Divorce", "Reading",
    "core", "faq_classifier", "find_email", "find_name", "find_phone", "find_time", "looks_like_a_name", "polarity",
    "read_arrears", "read_co_owned", "read_dates", "read_divorce", "read_faq", "read_faq_topic", "read_guarantor_self",
    "read_joint_guarantor", "read_notices", "read_notices_and_tax", "read_wants_human", "strip_asides", "understand",
    "warm_up",
]

logger = logging.getLogger(__name__)


@dataclass
class Reading:
    """What one message says about the homeowner's situation; ``None`` = not said."""

    arrears_months: int | None = None
    co_owned: bool | None = None
    joint_guarantor: bool | None = None
    divorce: Divorce | None = None
    notices: set[str] = field(default_factory=set)
    dates: list[dt.date] = field(default_factory=list)
    faq_topic: str | None = None
    #: the closest FAQ topics, best first: the three closest when ``faq_topic`` is None
    #: (below the classifier's confidence threshold; the dialog offers them as 「こちらの
    #: ことですか?」), else the other close ones
    faq_candidates: list[str] = field(default_factory=list)
    wants_human: bool = False
    #: the homeowner is themself a (連帯)保証人, e.g. for a spouse's loan; kept apart from
    #: ``joint_guarantor`` (whether the loan has a guarantor at all)
    guarantor_self: bool | None = None
    #: a seizure by a municipality or tax office (市役所, 税務署, 固定資産税の差押): its own
    #: path (公売), never a 競売開始決定
    tax_seizure: bool = False
    #: the auction is over (「もう落札されたと聞きました」, 「開札は終わりました」) with or without
    #: a date: the stage after 開札, never the 期間入札 (a stage is never understated)
    auction_over: bool = False



# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------


def understand(text: str, today: dt.date) -> Reading:
    """Read ``text`` (one user message) as of ``today``. Pure; never raises."""
    reading = Reading()
    if not isinstance(text, str) or not text:
        return reading
    try:
        plain = _nfkc(text)
        norm = _normalize(plain)
    except Exception:  # pragma: no cover - defensive: normalisation should not fail
        logger.exception("understanding: normalisation failed")
        return reading
    readers = (
        ("arrears_months", lambda: read_arrears(norm, today)),
        ("co_owned", lambda: read_co_owned(norm)),
        ("joint_guarantor", lambda: read_joint_guarantor(norm)),
        ("divorce", lambda: read_divorce(norm)),
        ("notices", lambda: read_notices_and_tax(norm)),
        ("guarantor_self", lambda: read_guarantor_self(norm)),
        ("dates", lambda: read_dates(plain, today)),
        ("wants_human", lambda: read_wants_human(norm)),
        # last: a statement that states a fact of the dialog is that fact, never an implied question
        ("faq", lambda: read_faq(norm, states_a_fact=_states_a_fact(reading))),
    )
    for name, read in readers:
        try:
            value = read()
        except Exception:  # a bug in one field must not lose the others
            logger.exception("understanding: reading %s failed", name)
            continue
        if name == "faq":
            reading.faq_topic, reading.faq_candidates = value
        elif name == "notices":
            reading.notices, reading.tax_seizure, reading.auction_over = value
        else:
            setattr(reading, name, value)
    return reading


def _states_a_fact(reading: Reading) -> bool:
    """The message says something the dialog records (arrears, a letter, a date, the owners,
    a guarantor, a divorce, a seizure, a wish for a person)."""
    return bool(
        reading.arrears_months is not None or reading.co_owned is not None or reading.joint_guarantor is not None
        or reading.divorce is not None or reading.notices or reading.dates or reading.guarantor_self is not None
        or reading.tax_seizure or reading.auction_over or reading.wants_human
    )


def warm_up(background: bool = True) -> None:
    """Load ja-timex and compile its patterns (0.2–0.5 s), and train the FAQ classifier, so the
    first user does not pay for it.

    The classifier costs ~1.6 s of CPU (importing scikit-learn 1.3 s, the fit 0.3 s): in the
    background by default (the event worker calls this before its first event; done inline,
    the first answers of a restarted worker came too late for their reply tokens in the
    SIGKILL drill). Questions read meanwhile fall back to the topic keywords and "other".
    The same thread then trains the crisis classifier (``dialogs.care``, ~0.1 s more);
    meanwhile crisis words are read by the rules alone."""
    understand("令和8年12月3日", dt.date(2026, 11, 27))
    if faq._classifier is not None or faq._classifier_failed or faq._training_in_background:
        return
    if background:
        faq._training_in_background = True
        care.train_in_background()
        threading.Thread(target=_train_classifiers, name="ninbai-faq-classifier", daemon=True).start()
    else:
        _train_classifiers()


def _train_classifiers() -> None:
    """The FAQ classifier, then the crisis classifier, in the one warm-up thread (neither raises)."""
    faq._train_classifier()
    care.train_classifier()
