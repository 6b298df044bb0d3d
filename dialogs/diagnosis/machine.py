"""The states, the routing table (``TRANSITIONS``), the per-message model ``Turn`` and ``MACHINE``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from transitions import Machine

from dialogs.answer import Answer
from dialogs.assessment import AUCTION_STAGES
from dialogs.base import DialogInput, Session
from dialogs.diagnosis.vocabulary import (
    CONTACT_STEPS,
    QUESTIONS,
    _latest,
)

if TYPE_CHECKING:
    from dialogs.diagnosis.dialog import DiagnosisDialog

#: Every state, declared once.
STATES: list[dict[str, Any]] = [
    {"name": "welcome"},  # nothing said yet (a new session)
    {"name": "privacy", "on_enter": "ask"},  # privacy notice + disclaimer, consent buttons
    {"name": "explain", "on_enter": "ask"},  # "just read the explanations" menu
    {"name": "stopped", "on_enter": "ask"},  # declined the privacy notice
    *({"name": q, "on_enter": "ask"} for q in QUESTIONS),
    {"name": "result", "on_enter": "show_result"},  # the personal result card
    *({"name": c, "on_enter": "ask"} for c in CONTACT_STEPS),
    {"name": "handoff", "on_enter": "confirm_handoff"},  # waiting for a person
]
STATE_NAMES: tuple[str, ...] = tuple(s["name"] for s in STATES)

_CHAINED = frozenset(QUESTIONS) | frozenset(CONTACT_STEPS)
_NOT_IN_CONTACT = [s for s in STATE_NAMES if s not in CONTACT_STEPS and s != "handoff"]
_RESUMABLE = ["explain", "result", *CONTACT_STEPS, "handoff"]


def _chain(trigger: str, states: Iterable[str], last: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    seq = list(states)
    out = [{"trigger": trigger, "source": a, "dest": b} for a, b in zip(seq, seq[1:], strict=False)]
    if last:
        out[-1].update(last)
    return out


# ---------------------------------------------------------------------------
# Transitions: the whole dialog in one table
# ---------------------------------------------------------------------------

TRANSITIONS: list[dict[str, Any]] = [
    # -- start: greeting, privacy notice, consent ---------------------------
    {"trigger": "follow", "source": "welcome", "dest": "privacy", "before": "greet"},
    {"trigger": "agree", "source": ["privacy", "stopped"], "dest": "arrears", "before": "record_consent"},
    {"trigger": "read", "source": ["privacy", "stopped"], "dest": "explain", "before": "drop_held"},
    {"trigger": "decline", "source": "privacy", "dest": "stopped", "before": "drop_held"},
    # -- the questions; answered ones are passed over, the last loops back while one is open
    *_chain("next", (*QUESTIONS, "result"), last={"conditions": "is_complete"}),
    {"trigger": "next", "source": QUESTIONS[-1], "dest": QUESTIONS[0], "unless": "is_complete"},
    # -- back to the questions (or the result) from a side path --------------
    {"trigger": "resume", "source": _RESUMABLE, "dest": "privacy", "unless": "has_consent"},
    {"trigger": "resume", "source": _RESUMABLE, "dest": "arrears"},
    {"trigger": "update", "source": "result", "dest": "result"},  # an answer changed: show it again
    # -- a person ------------------------------------------------------------
    {"trigger": "human", "source": _NOT_IN_CONTACT, "dest": "handoff", "conditions": "has_contact_details",
     "before": "note_human"},
    {"trigger": "human", "source": _NOT_IN_CONTACT, "dest": "contact", "before": "note_human"},
    *_chain("next", (*CONTACT_STEPS, "handoff")),
    {"trigger": "wait", "source": ["contact", "contact_phone"], "dest": "handoff", "before": "note_wait"},
    # -- from every state ----------------------------------------------------
    {"trigger": "restart", "source": "*", "dest": "arrears", "conditions": "has_consent", "before": "clear_answers"},
    {"trigger": "restart", "source": "*", "dest": "privacy", "before": "clear_answers"},
    # internal (no state change): say something, then the dialog asks again
    {"trigger": "faq", "source": "*", "dest": None, "after": "answer_faq"},
    {"trigger": "explain", "source": "*", "dest": None, "after": "show_explanation"},
    {"trigger": "note", "source": "*", "dest": None, "after": "confirm_changes"},
    {"trigger": "media", "source": "*", "dest": None, "after": "explain_media"},
    {"trigger": "refollow", "source": "*", "dest": None, "after": "welcome_back"},
    {"trigger": "handback", "source": "*", "dest": None, "after": "say_handback"},
    {"trigger": "miss", "source": "*", "dest": None, "after": "reprompt"},
    {"trigger": "care", "source": "*", "dest": None, "after": "show_care"},  # words of despair: hotlines, a person
    {"trigger": "reask", "source": "*", "dest": None, "after": "ask"},
]


# ---------------------------------------------------------------------------
# The model the machine runs on for one message
# ---------------------------------------------------------------------------


class Turn:
    """One message's model: the session, the input and the answer being written.

    ``transitions`` reads and sets ``turn.state`` (→ ``session.state``) and resolves
    the callback names of ``STATES``/``TRANSITIONS`` on this object.
    """

    def __init__(self, dialog: "DiagnosisDialog", session: Session, inp: DialogInput) -> None:
        self.dialog = dialog
        self.session = session
        self.inp = inp
        self.today = inp.today
        self.answer = Answer()
        self.signals: set[str] = set()
        self.changes: list[tuple[str, str]] = []  # ("noted"|"corrected", question)
        self.faq: tuple[str, str] | None = None  # (topic, text asked)
        self.faq_candidates: list[str] = []  # topics offered as 「こちらのことですか?」
        self.topic: str | None = None  # explanation asked for
        self.menu_only = False  # show the result menu, not the whole card
        self.offer_human = False  # add the "talk to a person" button
        self.offer_restart = False  # add the "start again" button
        self.offer_phone = False  # add 「この番号を保存」「保存しない」 (a number typed outside the contact steps)
        self.offered_phone: str | None = None  # the number offered in the last reply (a typed yes saves it)
        self.aside = False  # the reply is about the number offered, not the question (no ask counted)

    # -- state, as transitions sees it ---------------------------------------
    @property
    def state(self) -> str | None:
        return self.session.state

    @state.setter
    def state(self, value: str) -> None:
        self.session.state = value

    @property
    def data(self) -> dict[str, Any]:
        return self.session.data

    @property
    def answers(self) -> dict[str, Any]:
        return self.session.data["answers"]

    @property
    def contact(self) -> dict[str, Any]:
        return self.session.data["contact"]

    # -- guards (named like questions) ---------------------------------------
    def has_consent(self, _event=None) -> bool:
        return bool(self.data.get("consent"))

    def is_complete(self, _event=None) -> bool:
        return not any(self.is_pending(q) for q in QUESTIONS)

    def has_contact_details(self, _event=None) -> bool:
        return not any(self.is_pending(c) for c in CONTACT_STEPS)

    def is_pending(self, state: str) -> bool:
        """Does ``state`` still have something to ask?"""
        answered = self.data["answered"]
        a = self.answers
        if state == "notice":
            return "notice" not in answered and a.get("arrears_months") != 0
        if state == "court_letter":
            return bool(self.data.get("court_letter"))
        if state == "dates":
            return "dates" not in answered and self.latest_notice() in AUCTION_STAGES
        if state in QUESTIONS:
            return state not in answered
        c = self.contact
        if state == "contact":
            return not c.get("consented")
        if state == "contact_name":
            return "name" not in c
        if state == "contact_phone":
            return not (c.get("phone") or c.get("email") or c.get("via_line"))
        if state == "contact_time":
            return "preferred_time" not in c
        return True

    def latest_notice(self) -> str | None:
        a = self.answers
        return _latest([*a.get("notices", []), a.get("latest_notice") or ""])

    def next_open(self) -> str:
        """The first open question, or ``result``."""
        return next((q for q in QUESTIONS if self.is_pending(q)), "result")

    # -- callbacks (named in STATES / TRANSITIONS) -----------------------------
    def greet(self, _event=None) -> None:
        self.dialog._greet(self)

    def record_consent(self, _event=None) -> None:
        self.data["consent"] = True
        self.data.pop("consent_typed", None)
        self.signals.add("consent")
        self.dialog._use_held(self)

    def drop_held(self, _event=None) -> None:
        """Declined or only reading: what was told before consent is not kept (nor a consent
        said in a message that got the care reply)."""
        self.data.pop("held", None)
        self.data.pop("consent_said", None)

    def ask(self, _event=None) -> None:
        self.dialog._ask(self)

    def show_result(self, _event=None) -> None:
        self.dialog._show_result(self)

    def confirm_handoff(self, _event=None) -> None:
        self.dialog._confirm_handoff(self)

    def note_human(self, _event=None) -> None:
        self.data["return_to"] = self.dialog._return_point(self)
        self.answers["wants_human"] = True
        self.signals.add("handoff")

    def note_wait(self, _event=None) -> None:
        self.data["waiting"] = True

    def clear_answers(self, _event=None) -> None:
        self.dialog._clear(self)
        self.signals.add("restart")
        self.answer.say(self.dialog.c.text("dialog.common.restart"))

    def answer_faq(self, _event=None) -> None:
        self.dialog._answer_faq(self)

    def show_explanation(self, _event=None) -> None:
        self.dialog._show_explanation(self)

    def confirm_changes(self, _event=None) -> None:
        self.dialog._confirm_changes(self)

    def explain_media(self, _event=None) -> None:
        self.answer.say(self.dialog.c.text("dialog.common.media"))

    def welcome_back(self, _event=None) -> None:
        self.answer.say(self.dialog.c.text("dialog.common.follow_again"))

    def say_handback(self, _event=None) -> None:
        self.data.pop("waiting", None)
        self.answer.say(self.dialog.c.text("dialog.common.handback"))

    def show_care(self, _event=None) -> None:
        self.dialog._show_care(self)

    def reprompt(self, _event=None) -> None:
        self.dialog._reprompt(self)


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial=None,
    auto_transitions=False,
    send_event=True,
)

