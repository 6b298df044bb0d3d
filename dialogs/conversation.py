"""The conversation around the dialog: its status, and the steps taken before the dialog.

Pure (no Flask, no I/O), like the dialog in :mod:`dialogs.diagnosis.machine`.

**Status** — who answers the homeowner — is one ``transitions`` machine::

    bot ──handoff──▶ waiting ──take_over──▶ operator ──hand_back──▶ bot
     └───────────take_over──────────────────▲
    bot | waiting | operator ──close──▶ closed ──reopen──▶ bot

:func:`decide` runs one trigger on a conversation's status and owner and returns
the :class:`Change`: the columns to write and the funnel steps reached
(``assigned``, ``closed``), or raises :class:`Refused` with a reason
(``busy``: another operator owns it; ``closed``; ``not_taken``: nobody owns
it; ``no_assignee``). A trigger that changes nothing (closing a closed case,
taking over one's own case) gives an empty change. The engine (``handoff``)
and the console (every other trigger) both call it; the console writes the
change with a compare-and-set UPDATE, so of two operators taking the same
case one wins.

**Before the dialog**, two steps of the conversation itself, for any status
but ``operator`` (a person answers then):

* :func:`deletion_step` — 「データを削除して」 asks for a confirmation
  (削除する / やめる); 削除する erases the homeowner's data (the caller runs it).
* :func:`feedback_step` — a tap on the satisfaction question asked after a
  closed consultation (:func:`feedback_question`) is recorded and thanked.

The words are in ``content/service.yaml``.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError

from dialogs.answer import Answer, QuickReply

# ---------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------

STATUSES: tuple[str, ...] = ("bot", "waiting", "operator", "closed")
OPEN = ["bot", "waiting", "operator"]

STATES: list[dict[str, Any]] = [
    {"name": "bot", "on_enter": "enter"},
    {"name": "waiting", "on_enter": "enter"},
    {"name": "operator", "on_enter": ["enter", "record_assigned"]},
    {"name": "closed", "on_enter": ["enter", "record_closed"]},
]

TRANSITIONS: list[dict[str, Any]] = [
    # the homeowner asked for a person
    {"trigger": "handoff", "source": "bot", "dest": "waiting"},
    {"trigger": "handoff", "source": ["waiting", "operator", "closed"], "dest": None},
    # an operator takes the case (again: nothing changes)
    {"trigger": "take_over", "source": ["bot", "waiting"], "dest": "operator", "before": "own"},
    {"trigger": "take_over", "source": "operator", "dest": None, "conditions": "is_owner"},
    # back to the bot: the owner, or an admin
    {"trigger": "hand_back", "source": "operator", "dest": "bot", "conditions": "may_act", "before": "release"},
    {"trigger": "close", "source": ["bot", "waiting"], "dest": "closed", "before": "release"},
    {"trigger": "close", "source": "operator", "dest": "closed", "conditions": "may_act", "before": "release"},
    {"trigger": "close", "source": "closed", "dest": None},
    {"trigger": "reopen", "source": "closed", "dest": "bot", "before": "clear_closed"},
    {"trigger": "reopen", "source": OPEN, "dest": None},
    # the person in charge (no status change); an owned case moves only by its owner or an admin
    {"trigger": "assign", "source": ["bot", "waiting"], "dest": None, "after": "set_assignee"},
    {"trigger": "assign", "source": "operator", "dest": None, "conditions": ["may_act", "has_assignee"],
     "after": "set_assignee"},
    # the homeowner's data was erased: nobody waits to call them any more
    {"trigger": "withdraw", "source": "waiting", "dest": "bot"},
    {"trigger": "withdraw", "source": ["bot", "operator", "closed"], "dest": None},
]
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(t["trigger"] for t in TRANSITIONS))


class Refused(Exception):
    """A transition the machine does not allow; ``reason`` says why."""

    def __init__(self, trigger: str, status: str, reason: str) -> None:
        super().__init__(f"{trigger} refused in {status}: {reason}")
        self.trigger, self.status, self.reason = trigger, status, reason


@dataclass
class Change:
    """One transition's outcome: the model ``transitions`` runs on, and its result."""

    state: str
    owner_id: int | None
    actor: int | None = None
    is_admin: bool = False
    assignee: int | None = None
    now: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # columns to write
    funnel: list[str] = field(default_factory=list)  # funnel steps reached

    # -- conditions ----------------------------------------------------------
    def is_owner(self, _event: Any = None) -> bool:
        return self.actor is not None and self.owner_id == self.actor

    def may_act(self, _event: Any = None) -> bool:
        return self.is_admin or self.is_owner()

    def has_assignee(self, _event: Any = None) -> bool:
        return self.assignee is not None

    # -- callbacks -------------------------------------------------------------
    def own(self, _event: Any = None) -> None:
        self.fields.update(owner_id=self.actor, unread=0)

    def release(self, _event: Any = None) -> None:
        self.fields.update(owner_id=None, unread=0)

    def clear_closed(self, _event: Any = None) -> None:
        self.fields["closed_at"] = None

    def set_assignee(self, _event: Any = None) -> None:
        if self.assignee != self.owner_id:
            self.fields["owner_id"] = self.assignee
        if self.assignee is not None:
            self.funnel.append("assigned")

    def enter(self, _event: Any = None) -> None:
        self.fields["status"] = self.state

    def record_assigned(self, _event: Any = None) -> None:
        self.funnel.append("assigned")

    def record_closed(self, _event: Any = None) -> None:
        self.fields["closed_at"] = self.now
        self.funnel.append("closed")

    @property
    def changed(self) -> bool:
        return bool(self.fields)


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial=None,
    auto_transitions=False,
    send_event=True,
)


def decide(trigger: str, status: str, owner_id: int | None = None, *, actor: int | None = None,
           is_admin: bool = False, assignee: int | None = None, now: str | None = None) -> Change:
    """Run ``trigger`` on a conversation (its ``status`` and ``owner_id``) for ``actor``.

    Returns the :class:`Change` (``fields`` empty when nothing changes); raises
    :class:`Refused` when the machine does not allow it.
    """
    if trigger not in TRIGGERS or status not in STATUSES:
        raise ValueError(f"unknown trigger or status: {trigger!r}, {status!r}")
    change = Change(status, owner_id, actor=actor, is_admin=is_admin, assignee=assignee, now=now)
    try:
        done = MACHINE.events[trigger].trigger(change)
    except MachineError:  # no transition for it from this status
        done = False
    if not done:
        raise Refused(trigger, status, _why(trigger, change))
    return change


def _why(trigger: str, change: Change) -> str:
    if change.state == "closed":
        return "closed"
    if change.state != "operator":
        return "not_taken"
    if trigger == "assign" and change.assignee is None and change.may_act():
        return "no_assignee"
    return "busy"


def allowed(status: str) -> list[str]:
    """The triggers that may change something from ``status`` (for pages and tests)."""
    return [t for t in TRIGGERS
            if any(tr["trigger"] == t and tr["dest"] is not None and status in _sources(tr)
                   for tr in TRANSITIONS)]


def _sources(transition: dict[str, Any]) -> list[str]:
    src = transition["source"]
    return list(STATUSES) if src == "*" else ([src] if isinstance(src, str) else list(src))


def bot_answers(status: str) -> bool:
    """Whether the bot answers the homeowner: not while an operator owns the conversation."""
    return status != "operator"


# ---------------------------------------------------------------------------
# Before the dialog: deletion on request, the satisfaction question
# ---------------------------------------------------------------------------

DELETE_WORDS = re.compile(
    r"(データ|個人情報|情報|記録|履歴|連絡先|会話).{0,8}(削除|消して|消去|消してほしい|けして)|^削除して"
)
YES_WORDS = re.compile(r"^(削除する|削除します|はい|お願いします|消して)")
NO_WORDS = re.compile(r"^(やめる|やめます|いいえ|キャンセル|取り消し)")
#: Session data key of a deletion waiting for its confirmation (the time it was asked).
DELETE_PENDING = "delete_confirm"
FEEDBACK_VALUES = ("good", "ok", "bad")

DELETION_KEYS = frozenset(f"service.deletion.{k}" for k in ("ask", "done", "cancelled", "closed", "buttons"))
FEEDBACK_KEYS = frozenset({"service.feedback.question", "service.feedback.thanks", "service.feedback.buttons"})


@dataclass
class Step:
    """What the conversation does with a message before the dialog.

    ``action``: ``ask`` (ask to confirm a deletion), ``forget`` (erase the data),
    ``cancel`` (the deletion called off), ``expired`` (a confirmation tapped
    after it was over), ``drop`` (forget the pending confirmation, then let the
    dialog answer: ``answer`` is None), ``feedback`` (record ``value``).
    """

    action: str
    answer: Answer | None = None
    value: str = ""


def _norm(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def _buttons(content: Any, key: str) -> list[QuickReply]:
    return [QuickReply(label=b["label"], data=b["data"], text=b["label"]) for b in content.get(key)]


def deletion_step(content: Any, kind: str, text: str | None, data: str | None, *,
                  status: str | None, pending: bool) -> Step | None:
    """The deletion request and its confirmation; None: not about deletion.

    ``status``: the homeowner's latest conversation's (None: they have none);
    ``pending``: a confirmation was asked and not answered yet.
    """
    if kind not in ("text", "postback") or (status is not None and not bot_answers(status)):
        return None  # a person is answering: they handle it
    said = _norm(text) if kind == "text" else ""
    asks = bool(said) and bool(DELETE_WORDS.search(said))
    tapped = data if data in ("delete:yes", "delete:no") else None
    if tapped and not pending:
        return None if status is None else Step("expired", Answer().say(content.text("service.deletion.closed")))
    if pending and not asks:
        if tapped == "delete:yes" or YES_WORDS.search(said):
            return Step("forget", Answer().say(content.text("service.deletion.done")))
        if tapped == "delete:no" or NO_WORDS.search(said):
            return Step("cancel", Answer().say(content.text("service.deletion.cancelled")))
        return Step("drop")
    if asks:
        answer = Answer(quick_replies=_buttons(content, "service.deletion.buttons"))
        return Step("ask", answer.say(content.text("service.deletion.ask")))
    return None


def feedback_tap(kind: str, data: str | None) -> str | None:
    """The value of a tap on the satisfaction question (``feedback:<value>``), else None."""
    name, _, value = (data or "").partition(":")
    return value if kind == "postback" and name == "feedback" else None


def feedback_step(content: Any, value: str, *, asked: bool) -> Step | None:
    """A satisfaction tap: recorded (known values) and thanked; None when no
    question was asked (the dialog says it did not understand)."""
    if not asked:
        return None
    return Step("feedback", Answer().say(content.text("service.feedback.thanks")),
                value if value in FEEDBACK_VALUES else "")


def feedback_question(content: Any) -> Answer:
    """The one-tap satisfaction question, sent after a handed-off conversation is closed."""
    return Answer(quick_replies=_buttons(content, "service.feedback.buttons")).say(
        content.text("service.feedback.question"))
