"""The diagnosis dialog (任売相談ボット): consent → a few questions → a personal result → a person.

Read it like python-telegram-bot's conversation examples: the states are listed once
below, ``TRANSITIONS`` is the whole routing table, the guards are small methods named
like questions, and ``MACHINE`` is built once at import with ``model=None``.

Per message the engine loads a :class:`~dialogs.base.Session` (state text + JSON data),
calls :meth:`DiagnosisDialog.step` once and saves the session. ``step`` wraps the session
in a :class:`Turn` (the model the shared machine runs on for this one message), decides
which trigger(s) the input means (:meth:`DiagnosisDialog._route`) and fires them with
``MACHINE.events[name].trigger(turn)``. The callbacks named in the state config and in
``TRANSITIONS`` write the reply; every word comes from ``content/`` (``dialog.yaml``,
``knowledge.yaml``, ``faq.yaml``, ``legal.yaml``): this module only names keys.

The questions form one chain (``next``). A question that is already answered (free
text often answers several at once) or does not apply (no auction → no court dates)
is passed over silently: after firing, ``step`` fires ``next`` again while the current
state has nothing to ask. The last question loops back to the first while something
is still open (after a correction, say), so nothing is asked twice and nothing is
skipped. The contact details form a second chain ending in ``handoff``.

``session.data`` holds:
    answers   ``Case.to_dict()`` (see dialogs/assessment.py)
    answered  names of the questions answered (``わからない`` counts as an answer)
    consent   the privacy notice was accepted
    misses    inputs not understood in a row
    return_to the question (or ``result``) to come back to after a FAQ/a person
    contact   {name, phone, email, via_line, preferred_time, consented}
    history   the last states visited (bounded)
    court_letter / inspection_date   a court letter not yet identified / a 現況調査 date
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from typing import Any, Iterable

from transitions import Machine, MachineError

from dialogs import advice
from dialogs.answer import Answer, QuickReply, Table, Text
from dialogs.assessment import ALL_STAGES, AUCTION_STAGES, NOTICES, SPECIAL_CASES, Case, assess
from dialogs.base import DialogInput, DialogResult, Session
from dialogs.understanding import understand

logger = logging.getLogger(__name__)

__all__ = ["STATES", "TRANSITIONS", "MACHINE", "QUESTIONS", "DiagnosisDialog", "Turn", "format_date"]

# ---------------------------------------------------------------------------
# States (declared once)
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
    {"trigger": "read", "source": ["privacy", "stopped"], "dest": "explain"},
    {"trigger": "decline", "source": "privacy", "dest": "stopped"},
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
    {"trigger": "wait", "source": "contact", "dest": "handoff", "before": "note_wait"},
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
    {"trigger": "reask", "source": "*", "dest": None, "after": "ask"},
]

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
DATE_FIELDS = {"kaisatsu": "kaisatsu_date", "start_decision": "start_decision_date",
               "bidding_start": "bidding_start", "bidding_end": "bidding_end", "inspection": "inspection_date"}
EXPLAIN_TOPICS = ("ninbai", "keibai", "merits", "cautions", "steps", "faq", "start")
#: The rich menu's postbacks (bot/channels/richmenu.py): menu:<area> → explanation topic.
RICH_MENU_TOPICS = {"ninbai": "ninbai", "compare": "keibai"}
FAQ_TOPICS = ("moving_costs", "credit_blacklist", "residual_debt", "stay_after_sale", "timeline",
              "costs_fees", "auction_vs_voluntary", "eligibility", "divorce", "guarantor")
CONTACT_TIMES = ("morning", "afternoon", "evening", "any")
DEADLINE_KEYS = ("legal_last_day", "plan_by", "ideal_by", "days_left", "estimate", "auction_window",
                 "no_date", "after_kaisatsu")
MEDIA_KINDS = frozenset({"sticker", "image", "video", "audio", "file", "location"})
MAX_MESSAGES = 5  # LINE's reply limit
MAX_QUICK_REPLIES = 13
HISTORY_MAX = 30
WEEKDAYS = "月火水木金土日"
_NOTICE_RANK = {n: i for i, n in enumerate(NOTICES)}

# ---------------------------------------------------------------------------
# Reading free text (what dialogs/understanding.py does not cover: context words)
# ---------------------------------------------------------------------------

_DONT_KNOW = re.compile(r"わから|分から|わかりません|分かりません|不明|知らない|しらない|覚えてない|覚えていない")
_RESTART = re.compile(r"^(最初から|はじめから|初めから|やり直(し|す)|リセット|もう一度最初)")
_QUESTION = re.compile(r"[?？]|ですか|ますか|でしょうか|どうなる|どうすれ|どうしたら|教えて|知りたい|とは$")
_YES = re.compile(r"^(はい|同意|いいよ|いいです|ok|オーケー|うん|お願い|進む|大丈夫)", re.I)
_NO = re.compile(r"^(いいえ|やめ|結構|けっこう|同意しない|しない)")
_READ = re.compile(r"説明|読むだけ|見るだけ")
_WAIT = re.compile(r"待つ|待ちます|このまま")
_COURT = re.compile(r"裁判所")
_ARREARS_NONE = re.compile(r"(滞納|遅れ|延滞).{0,6}(ない|なし|ありません|していません|してない)|払えて(い|)る|まだ払え|滞納なし")
_NOTICE_NONE = re.compile(r"まだ何も|何も(来て|届いて|き)|(来て|届いて)(い)?ない|(来て|届いて)いません|^なし|^ない")
_OWN_SINGLE = re.compile(r"単独|自分(だけ|ひとり|一人|の名義)|私(だけ|ひとり|一人|の名義)|一人|ひとり")
_OWN_SHARED = re.compile(r"共有|夫婦|ペアローン|二人|ふたり|妻と|夫と")
_YES_WORD = re.compile(r"^(いる|います|いた|はい|あり|いるよ)|いる$|います$")
_NO_WORD = re.compile(r"^(いない|いません|いいえ|なし|ない)|いない$|いません$")
_DIVORCE_NONE = re.compile(r"関係ない|関係ありません|していない|してない|離婚してません|^いいえ|^なし|^ない")
_LENDER_JHF = re.compile(r"フラット|機構|公庫|jhf", re.I)
_LENDER_BANK = re.compile(r"銀行|信金|信用金庫|労金|ろうきん|ja|農協|組合|保証会社", re.I)
_STAY_YES = re.compile(r"住み続け|住みたい|住んでいたい|残りたい|リースバック|離れたくない|出たくない")
_STAY_NO = re.compile(r"引っ?越し?て?(も|)(いい|よい|かまわない|構わない|大丈夫)|出て(も|)(いい|よい)|手放して(も|)(いい|よい)")
_STAY_UNDECIDED = re.compile(r"決めていない|決めてない|迷って|まだ|考え中")
_PHONE = re.compile(r"(?:\+81[- ]?|0)\d{1,4}[- ]?\d{1,4}[- ]?\d{3,4}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LINE = re.compile(r"line|ライン", re.I)
_TIMES = (
    ("morning", re.compile(r"午前|朝")),
    ("afternoon", re.compile(r"午後|昼")),
    ("evening", re.compile(r"夕方|夜|晩|以降")),
    ("any", re.compile(r"いつでも|何時でも|いつも")),
)
_NAME_NOISE = re.compile(r"^(名前は|なまえは|私は|わたしは)|(です|と申します|といいます|でございます)[。.！!]*$")
_SKIP = re.compile(r"伝えない|言いたくない|いいたくない|なし|スキップ|匿名|^いいえ")


def _norm(text: str) -> str:
    """NFKC, trimmed, without closing punctuation: what free-text matching compares."""
    t = unicodedata.normalize("NFKC", text or "").strip()
    return t.rstrip("。．.！!、 ")


def format_date(d: dt.date, today: dt.date | None = None) -> str:
    """「12月10日（木）」; with the year when it is not this year's."""
    s = f"{d.month}月{d.day}日（{WEEKDAYS[d.weekday()]}）"
    if today is not None and d.year != today.year:
        s = f"{d.year}年{s}"
    return s


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


# ---------------------------------------------------------------------------
# The model the machine runs on for one message
# ---------------------------------------------------------------------------


_SENTENCE_END = re.compile(r"[。\n!！?？]")

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
        self.topic: str | None = None  # explanation asked for
        self.menu_only = False  # show the result menu, not the whole card
        self.offer_human = False  # add the "talk to a person" button
        self.offer_restart = False  # add the "start again" button

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
        self.signals.add("consent")

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


# ---------------------------------------------------------------------------
# The dialog
# ---------------------------------------------------------------------------


class DiagnosisDialog:
    """``DiagnosisDialog(content).step(session, inp) -> DialogResult`` (see module doc)."""

    name = "diagnosis"

    def __init__(self, content: Any) -> None:
        self.c = content
        # postback data -> the label of its button, for transcripts (a LINE
        # postback event does not carry the text the user saw).
        self._labels: dict[str, str] = {}
        for state in self.c.get("dialog.states", {}).values():
            for button in state.get("buttons", []) if isinstance(state, dict) else []:
                self._labels.setdefault(button["data"], button["label"])
        self._labels.update(advice.point_labels(self.c))  # the result's point buttons

    def label_for(self, data: str) -> str | None:
        """The button label a postback came from (None when unknown)."""
        return self._labels.get(data)

    # -- public --------------------------------------------------------------
    def step(self, session: Session, inp: DialogInput) -> DialogResult:
        """Handle one input: route it to trigger(s), fire them, ask what is open next."""
        self._init_data(session)
        if session.state not in STATE_NAMES:
            session.state = "welcome"
        turn = Turn(self, session, inp)
        for trigger in self._route(turn):
            self._fire(turn, trigger)
        # pass over questions / contact steps that have nothing to ask
        for _ in range(2 * len(STATE_NAMES)):
            if session.state in _CHAINED and not turn.is_pending(session.state):
                self._fire(turn, "next")
            else:
                break
        self._remember(turn)
        return DialogResult(answer=self._fit(turn.answer), signals=turn.signals, summary=self.summary(turn))

    def summary(self, turn: Turn) -> dict[str, Any]:
        """Assessment ``to_dict()`` plus stage, urgency, lead_score, reasons, kaisatsu, step."""
        a = assess(advice.case_from(turn.data), turn.today)
        out = a.to_dict()
        out.update(
            stage=a.stage, urgency=a.urgency, lead_score=a.score, reasons=list(a.reasons),
            kaisatsu=_iso(a.time_left.kaisatsu), step=turn.state,
        )
        if turn.data.get("inspection_date"):
            out["inspection_date"] = turn.data["inspection_date"]
        return out

    @classmethod
    def content_keys(cls) -> set[str]:
        """Every dotted content key this dialog reads (for ``check_content``)."""
        keys = {"dialog.states.welcome.text", "legal.company_note", "legal.privacy_notice", "legal.disclaimer",
                "legal.contact_consent", "faq"}
        for s in ("privacy", "explain", "stopped", *QUESTIONS, "contact", "contact_name", "contact_time"):
            if s != "dates":
                keys |= {f"dialog.states.{s}.{k}" for k in ("text", "buttons", "reprompt")}
        for v in ("bid_notice", "auction_start", "site_inspection"):
            keys |= {f"dialog.states.dates.variants.{v}.text", f"dialog.states.dates.variants.{v}.buttons"}
        keys.add("dialog.states.dates.reprompt")
        keys.add("dialog.states")  # every button's label, for transcripts (label_for)
        keys |= advice.content_keys()
        keys |= {f"dialog.states.contact_phone.{k}" for k in ("text", "text_web", "buttons", "web_no_line",
                                                              "reprompt", "reprompt_web")}
        keys |= {f"dialog.states.handoff.{k}" for k in ("text_lead", "text_wait", "text", "buttons", "reprompt")}
        keys |= {f"dialog.common.{k}" for k in (
            "follow_again", "handback", "restart", "media", "offer_human", "human_button", "restart_button",
            "back_question", "back_menu", "noted", "corrected", "item", "item_sep", "months", "unknown_value", "faq_answer",
            "faq_other", "faq_menu")}
        keys |= {f"dialog.facts.{k}" for k in (
            "arrears", "notice", "kaisatsu_date", "bidding", "bidding_range", "start_decision_date",
            "inspection_date", "ownership", "guarantor", "divorce", "lender", "stay")}
        keys |= {f"dialog.faq_topics.{t}" for t in FAQ_TOPICS}
        keys |= {f"dialog.explain.{k}" for k in ("item", "merits", "cautions", "steps", "list_item", "step_item")}
        keys |= {"knowledge.explain.ninbai", "knowledge.explain.keibai", "knowledge.comparison",
                 "knowledge.merits", "knowledge.cautions", "knowledge.steps"}
        for st in ALL_STAGES:
            keys |= {f"knowledge.stages.{st}.{k}" for k in ("title", "summary", "next_step")}
        keys |= {f"knowledge.special_cases.{k}" for k in SPECIAL_CASES}
        keys |= {f"knowledge.deadlines.{k}" for k in DEADLINE_KEYS}
        return keys

    # -- plumbing ------------------------------------------------------------
    @staticmethod
    def _init_data(session: Session) -> None:
        d = session.data
        d.setdefault("answers", Case().to_dict())
        d.setdefault("answered", [])
        d.setdefault("consent", False)
        d.setdefault("misses", 0)
        d.setdefault("return_to", None)
        d.setdefault("contact", {})
        d.setdefault("history", [])

    def _fire(self, turn: Turn, trigger: str) -> bool:
        try:
            ok = MACHINE.events[trigger].trigger(turn)
        except MachineError:
            ok = False
        if not ok:
            logger.debug("trigger %s not accepted in %s", trigger, turn.state)
            MACHINE.events["reask"].trigger(turn)
        return ok

    @staticmethod
    def _remember(turn: Turn) -> None:
        hist = turn.data["history"]
        if not hist or hist[-1] != turn.state:
            hist.append(turn.state)
            del hist[:-HISTORY_MAX]
        if turn.state in QUESTIONS or turn.state == "result":
            turn.data["return_to"] = turn.state

    @staticmethod
    def _return_point(turn: Turn) -> str:
        if turn.state in QUESTIONS or turn.state == "result":
            return turn.state
        return turn.data.get("return_to") or turn.next_open()

    @staticmethod
    def _clear(turn: Turn) -> None:
        """Forget the answers (a restart); consent and contact details stay."""
        d = turn.data
        contact = d.get("contact", {})
        d["answers"] = Case().to_dict()
        d["answered"] = []
        d["misses"] = 0
        d["return_to"] = None
        for k in ("court_letter", "inspection_date", "waiting", "points_seen"):
            d.pop(k, None)
        d["answers"]["has_contact"] = bool(contact) and turn.has_contact_details()

    @staticmethod
    def _fit(answer: Answer) -> Answer:
        """At most 5 messages (texts merged from the top) and 13 quick replies."""
        msgs = answer.messages
        while len(msgs) > MAX_MESSAGES:
            i = next((i for i in range(len(msgs) - 1)
                      if isinstance(msgs[i], Text) and isinstance(msgs[i + 1], Text)), None)
            if i is None:
                del msgs[MAX_MESSAGES - 1:-1]
                break
            msgs[i : i + 2] = [Text(msgs[i].text + "\n\n" + msgs[i + 1].text)]
        del answer.quick_replies[MAX_QUICK_REPLIES:]
        return answer

    # -- routing: which trigger(s) does this input mean? -----------------------
    def _route(self, turn: Turn) -> list[str]:
        inp, state = turn.inp, turn.state
        if inp.kind in ("follow", "refollow"):
            turn.offer_restart = True
            return ["follow"] if state == "welcome" else ["refollow", "reask"]
        if inp.kind == "handback":
            if state in CONTACT_STEPS or state == "handoff":
                turn.menu_only = True
                return ["handback", "resume"]
            return ["handback", "reask"]
        if inp.kind in MEDIA_KINDS:
            return ["follow"] if state == "welcome" else ["media", "reask"]
        if inp.kind == "postback":
            return self._route_postback(turn, inp.data or "", inp.params or {})
        if inp.kind == "text":
            return self._route_text(turn, inp.text or "")
        return ["reask"]

    def _route_postback(self, turn: Turn, data: str, params: dict[str, str]) -> list[str]:
        name, _, value = data.partition(":")
        state = turn.state
        if name == "menu" and value in RICH_MENU_TOPICS:  # a rich-menu tap, in any state
            turn.topic = RICH_MENU_TOPICS[value]
            return ["follow", "explain"] if state == "welcome" else ["explain", "reask"]
        if state == "welcome" and not (name == "cmd" and value in ("human", "restart")):
            return ["follow"]
        if name == "cmd" and value == "start":  # 診断をはじめる (rich menu)
            return ["resume"] if state in _RESUMABLE else ["reask"]
        if name == "cmd":
            if value == "restart":
                return ["restart"]
            if value == "human":
                return self._route_human(turn)
            if value == "resume":
                return ["resume"] if state in _RESUMABLE else ["reask"]
            if value == "menu":
                return ["reask"]
            return ["miss"]
        if name == "point":  # a point of the result (dialogs/advice.py)
            return advice.show_point(self.c, turn, value)
        if name == "faq" and value in FAQ_TOPICS:
            turn.faq = (value, "")
            return ["faq", "reask"]
        if name == "explain" and value in EXPLAIN_TOPICS:
            if value == "start":
                return ["resume"] if state in _RESUMABLE else ["reask"]
            turn.topic = value
            return ["explain"] if value == "faq" else ["explain", "reask"]
        if name == "consent":
            trig = {"yes": "agree", "read": "read", "no": "decline"}.get(value)
            return [trig] if trig else ["miss"]
        if name == "contact" and state == "contact":
            if value == "yes":
                turn.contact["consented"] = True
                return ["next"]
            if value == "wait":
                return ["wait"]
        if state in CONTACT_STEPS:
            return self._contact_postback(turn, name, value)
        if name == "date":
            return self._date_postback(turn, value, params)
        if name in ANSWER_POSTBACKS:
            question, values = ANSWER_POSTBACKS[name]
            if value not in values or not turn.has_consent():
                return ["miss"]
            was_current = question == state
            self._apply(turn, {question: values[value]}, current=state)
            return self._after_apply(turn, was_current)
        return ["miss"]

    def _after_apply(self, turn: Turn, answered_current: bool) -> list[str]:
        state = turn.state
        note = ["note"] if turn.changes else []
        if state == "result":
            return note + (["update"] if turn.is_complete() else ["resume"])
        if state in QUESTIONS and (answered_current or not turn.is_pending(state)):
            turn.data["misses"] = 0
            return note + ["next"]
        if turn.changes:
            turn.data["misses"] = 0
            return note + ["reask"]
        return ["reask"]

    def _date_postback(self, turn: Turn, value: str, params: dict[str, str]) -> list[str]:
        if not turn.has_consent():
            return ["miss"]
        if value == "unknown":
            if turn.state == "dates":
                self._apply(turn, {"dates": {}}, current="dates")
                return self._after_apply(turn, True)
            return ["reask"]
        d = _parse_iso(params.get("date"))
        if value not in DATE_FIELDS or d is None:
            return ["miss"]
        self._apply(turn, {"dates": {value: d}}, current=turn.state)
        return self._after_apply(turn, turn.state == "dates")

    def _contact_postback(self, turn: Turn, name: str, value: str) -> list[str]:
        state, c = turn.state, turn.contact
        if state == "contact_name" and name == "name" and value == "skip":
            c["name"] = None
            return ["next"]
        if state == "contact_phone" and name == "phone" and value == "line":
            if turn.inp.channel == "web":
                turn.answer.say(self.c.text("dialog.states.contact_phone.web_no_line"))
                return ["reask"]
            c["via_line"] = True
            return ["next"]
        if state == "contact_time" and name == "time" and value in CONTACT_TIMES:
            c["preferred_time"] = value
            return ["next"]
        return ["miss"]

    def _route_human(self, turn: Turn) -> list[str]:
        if turn.state in CONTACT_STEPS or turn.state == "handoff":
            turn.signals.add("handoff")
            return ["reask"]
        return ["human"]

    def _route_text(self, turn: Turn, raw: str) -> list[str]:
        text = _norm(raw)
        state = turn.state
        # a button label typed (or sent by a web chip) counts as the button
        data = self._label_data(turn, text)
        if data is not None:
            return self._route_postback(turn, data, {})
        if _RESTART.search(text):
            return ["restart"]
        if state == "welcome":
            # the first words get the greeting and the privacy notice, even "相談したい"
            return ["follow"]
        reading = understand(raw, turn.today)
        if state == "privacy" or state == "stopped":
            if reading.wants_human:
                return self._route_human(turn)
            if _READ.search(text):
                return ["read"]
            if state == "privacy" and _YES.search(text):
                return ["agree"]
            if _NO.search(text):
                return ["decline"] if state == "privacy" else ["reask"]
            return self._faq_or_miss(turn, text, reading)
        if reading.wants_human and (state in CONTACT_STEPS or state == "handoff"):
            return self._route_human(turn)
        if state in CONTACT_STEPS:
            return self._contact_text(turn, text, reading)
        if state == "handoff":
            if reading.faq_topic and _QUESTION.search(text):
                turn.faq = (reading.faq_topic, text)
                return ["faq", "reask"]
            return ["reask"]
        if state == "explain":
            if reading.wants_human:
                return self._route_human(turn)
            return self._faq_or_miss(turn, text, reading)
        # a question, or the result: facts first (they may also be a correction)
        question_like = bool(_QUESTION.search(text))
        updates = self._facts(turn, text, raw, reading, weak=not (question_like and reading.faq_topic))
        if state == "court_letter" and updates.get("notice") in AUCTION_STAGES:
            updates["court_letter"] = updates.pop("notice")  # the answer to "which court letter?"
        if state in QUESTIONS and state not in updates:
            value = self._interpret(turn, state, text, reading)
            if value is not _NOTHING:
                updates[state] = value
        answered_current = state in updates
        self._apply(turn, updates, current=state)
        pre: list[str] = []
        if reading.faq_topic and (question_like or not updates):
            turn.faq = (reading.faq_topic, text)
            pre = ["faq"]
        if reading.wants_human:
            return (["note"] if turn.changes else []) + self._route_human(turn)
        if updates:
            trig = self._after_apply(turn, answered_current)
            if pre:
                note = [t for t in trig if t == "note"]
                return note + pre + [t for t in trig if t != "note"]
            return trig
        if pre:
            return pre + ["reask"]
        return ["miss"]

    def _faq_or_miss(self, turn: Turn, text: str, reading: Any) -> list[str]:
        if reading.faq_topic:
            turn.faq = (reading.faq_topic, text)
            return ["faq", "reask"]
        return ["miss"]

    def _contact_text(self, turn: Turn, text: str, reading: Any) -> list[str]:
        state, c = turn.state, turn.contact
        phone = _PHONE.search(text.replace("ー", "-").replace("−", "-"))
        email = _EMAIL.search(text)
        if reading.faq_topic and _QUESTION.search(text):
            turn.faq = (reading.faq_topic, text)
            return ["faq", "reask"]
        if phone or email:
            # a number typed right under the consent notice is consent to use it
            c["consented"] = True
            if phone:
                c["phone"] = re.sub(r"[^\d+]", "", phone.group(0))
            if email:
                c["email"] = email.group(0)
            if state == "contact_name":
                c.setdefault("name", None)
            return ["next"]
        if state == "contact":
            if _WAIT.search(text):
                return ["wait"]
            if _YES.search(text):
                c["consented"] = True
                return ["next"]
            if _NO.search(text):
                return ["resume"]
            return ["miss"]
        if state == "contact_name":
            if _SKIP.search(text):
                c["name"] = None
                return ["next"]
            name = _NAME_NOISE.sub("", _NAME_NOISE.sub("", text)).strip()
            if 0 < len(name) <= 30 and not _QUESTION.search(text):
                c["name"] = name
                return ["next"]
            return ["miss"]
        if state == "contact_phone":
            if _LINE.search(text):
                return self._contact_postback(turn, "phone", "line")
            return ["miss"]
        if state == "contact_time":
            for value, rx in _TIMES:
                if rx.search(text):
                    c["preferred_time"] = value
                    return ["next"]
            return ["miss"]
        return ["miss"]

    def _label_data(self, turn: Turn, text: str) -> str | None:
        """The postback data of the current state's button whose label is ``text``."""
        if not text:
            return None
        for b in self._buttons(turn):
            if _norm(b.get("label", "")) == text and b.get("kind") != "date":
                return b["data"]
        return None

    # -- understanding answers -------------------------------------------------
    def _facts(self, turn: Turn, text: str, raw: str, reading: Any, weak: bool) -> dict[str, Any]:
        """Facts the text states, for any question (not only the one asked)."""
        up: dict[str, Any] = {}
        if reading.arrears_months is not None:
            up["arrears"] = reading.arrears_months
        notices = set(reading.notices or ())
        if notices:
            up["notice"] = _latest(notices)
            up["_notices"] = notices
        elif _COURT.search(text) and turn.state in ("arrears", "notice") and "notice" not in turn.data["answered"]:
            up["notice"] = "court"
        if weak:
            if reading.co_owned is not None:
                up["ownership"] = reading.co_owned
            if reading.joint_guarantor is not None:
                up["guarantor"] = reading.joint_guarantor
            if reading.divorce is not None:
                up["divorce"] = reading.divorce
            if _LENDER_JHF.search(text):
                up["lender"] = "jhf"
            if _STAY_YES.search(text) and turn.state != "stay":
                up["stay"] = True
        if reading.dates:
            latest = up.get("notice") if up.get("notice") not in (None, "court", "none", "unknown") \
                else turn.latest_notice()
            dates = self._assign_dates(turn, latest, list(reading.dates), text)
            if dates:
                up["dates"] = dates
        return up

    def _assign_dates(self, turn: Turn, latest: str | None, dates: list[dt.date], text: str) -> dict[str, dt.date]:
        ds = sorted(set(dates))
        kai, nyu = "開札" in text, "入札" in text.replace("期間入札の通知", "")
        start, insp = "開始決定" in text or "決定" in text, "調査" in text
        if kai + nyu + start + insp > 1:
            # Several letters named (「開始決定が届いた。開札は…」): read sentence by sentence.
            parts = [p for p in _SENTENCE_END.split(text) if p.strip()]
            if len(parts) > 1:
                out: dict[str, dt.date] = {}
                for part in parts:
                    part_dates = understand(part, turn.today).dates
                    if part_dates:
                        out.update(self._assign_dates(turn, latest, list(part_dates), part))
                if out:
                    return out
        if len(ds) >= 3:
            return {"bidding_start": ds[0], "bidding_end": ds[1], "kaisatsu": ds[-1]}
        if len(ds) == 2:
            if kai:
                return {"bidding_start": ds[0], "kaisatsu": ds[1]} if nyu else {"kaisatsu": ds[1]}
            if nyu:
                return {"bidding_start": ds[0], "bidding_end": ds[1]}
        d = ds[-1]
        if start:
            # A decision already made: 「10月1日」 read as next year's is last year's.
            first = ds[0]
            if first > turn.today:
                try:
                    earlier = first.replace(year=first.year - 1)
                except ValueError:  # 29 February
                    earlier = first - dt.timedelta(days=365)
                first = earlier if earlier <= turn.today else first
            return {"start_decision": first}
        if insp:
            return {"inspection": d}
        if kai:
            return {"kaisatsu": d}
        if nyu:
            return {"bidding_start": d}
        if turn.state != "dates":
            return {}  # a bare date somewhere else: not sure what it is
        if latest == "bid_notice":
            return {"kaisatsu": d}
        if latest == "site_inspection" and d > turn.today:
            return {"inspection": d}
        if latest in AUCTION_STAGES and d <= turn.today:
            return {"start_decision": d}
        if latest in AUCTION_STAGES:
            return {"inspection": d}
        return {}

    def _interpret(self, turn: Turn, state: str, text: str, reading: Any) -> Any:
        """The answer to ``state``'s own question in ``text`` (context words), or _NOTHING."""
        if _DONT_KNOW.search(text):
            return {"arrears": None, "notice": "unknown", "court_letter": "unknown", "dates": {},
                    "ownership": None, "guarantor": None, "divorce": None, "lender": "unknown",
                    "stay": None}[state]
        if state == "arrears" and _ARREARS_NONE.search(text):
            return 0
        if state == "notice":
            if _COURT.search(text):
                return "court"
            if _NOTICE_NONE.search(text):
                return "none"
        if state == "court_letter":
            if "開始" in text:
                return "auction_start"
            if "調査" in text:
                return "site_inspection"
            if "入札" in text or "開札" in text:
                return "bid_notice"
        if state == "ownership":
            if _OWN_SHARED.search(text):
                return True
            if _OWN_SINGLE.search(text):
                return False
        if state == "guarantor":
            if _NO_WORD.search(text):
                return False
            if _YES_WORD.search(text):
                return True
        if state == "divorce" and _DIVORCE_NONE.search(text):
            return "none"
        if state == "lender":
            if _LENDER_JHF.search(text):
                return "jhf"
            if _LENDER_BANK.search(text):
                return "bank"
            if "その他" in text or "ほか" in text:
                return "other"
        if state == "stay":
            if _STAY_NO.search(text):
                return False
            if _STAY_YES.search(text):
                return True
            if _STAY_UNDECIDED.search(text):
                return None
        return _NOTHING

    def _apply(self, turn: Turn, updates: dict[str, Any], current: str | None) -> None:
        """Store answers; remember what changed ("corrected") or came unasked ("noted")."""
        a, d = turn.answers, turn.data
        answered: list[str] = d["answered"]
        notices = updates.pop("_notices", None)

        def mark(q: str, changed: bool) -> None:
            was = q in answered
            if not was:
                answered.append(q)
                if q != current and q in QUESTIONS:
                    turn.changes.append(("noted", q))
            elif changed and q != current:
                turn.changes.append(("corrected", q))

        for q, value in updates.items():
            if q in FIELD_OF:
                f = FIELD_OF[q]
                changed = a.get(f) != value
                a[f] = value
                mark(q, changed)
            elif q == "notice":
                before = (a.get("latest_notice"), bool(d.get("court_letter")))
                if value == "court":
                    if a.get("latest_notice") in AUCTION_STAGES:
                        continue  # already more precise
                    d["court_letter"] = True
                    a["latest_notice"] = "auction_start"
                    a["notices"] = ["auction_start"]
                else:
                    d.pop("court_letter", None)
                    if current != "notice" and _NOTICE_RANK.get(a.get("latest_notice"), -1) > _NOTICE_RANK.get(value, -1):
                        continue  # never back to an earlier letter (issue 11)
                    a["court_letter_unknown"] = False
                    a["latest_notice"] = value
                    a["notices"] = sorted(notices or ({value} if value in NOTICES else set()),
                                          key=_NOTICE_RANK.get)
                changed = before != (a.get("latest_notice"), bool(d.get("court_letter")))
                if changed and "notice" in answered and "dates" not in updates and "dates" in answered:
                    answered.remove("dates")  # another letter: its date is asked again
                mark("notice", changed)
            elif q == "court_letter":
                d.pop("court_letter", None)
                latest = "auction_start" if value == "unknown" else value
                a["court_letter_unknown"] = value == "unknown"  # stays "a court letter" (issue 11)
                changed = a.get("latest_notice") != latest
                a["latest_notice"] = latest
                a["notices"] = [latest]
                if "court_letter" not in answered:
                    answered.append("court_letter")
                if changed and current != "court_letter" and "notice" in answered:
                    turn.changes.append(("corrected", "notice"))
            elif q == "dates":
                changed = False
                for key, day in value.items():
                    field = DATE_FIELDS[key]
                    store = d if key == "inspection" else a
                    iso = _iso(day)
                    changed |= store.get(field) != iso
                    store[field] = iso
                mark("dates", changed and bool(value))
        a["notices"] = sorted(set(a.get("notices") or []), key=_NOTICE_RANK.get)

    # -- what the bot says ----------------------------------------------------
    def _buttons(self, turn: Turn, state: str | None = None) -> list[dict[str, Any]]:
        state = state or turn.state
        if state == "dates":
            variant = self._dates_variant(turn)
            return list(self.c.get(f"dialog.states.dates.variants.{variant}.buttons"))
        if state == "contact_phone" and turn.inp.channel == "web":
            return []
        if state == "welcome":
            return []
        if state == "result":  # the points not seen yet + the menu (dialogs/advice.py)
            return advice.result_buttons(self.c, turn)
        key = f"dialog.states.{state}.buttons"
        return list(self.c.get(key))

    def _dates_variant(self, turn: Turn) -> str:
        latest = turn.latest_notice()
        return latest if latest in AUCTION_STAGES else "auction_start"

    def _quick(self, turn: Turn, buttons: Iterable[dict[str, Any]]) -> list[QuickReply]:
        out = []
        for b in buttons:
            if b.get("kind") == "date":
                today = turn.today
                out.append(QuickReply(label=b["label"], data=b["data"], kind="date", initial=today.isoformat(),
                                      min=(today - dt.timedelta(days=730)).isoformat(),
                                      max=(today + dt.timedelta(days=730)).isoformat()))
            else:
                out.append(QuickReply(label=b["label"], data=b["data"], text=b["label"]))
        return out

    def _question_text(self, turn: Turn, state: str) -> str:
        if state == "dates":
            return self.c.text(f"dialog.states.dates.variants.{self._dates_variant(turn)}.text")
        if state == "contact_phone" and turn.inp.channel == "web":
            return self.c.text("dialog.states.contact_phone.text_web")
        if state == "result":
            return self.c.text("dialog.states.result.text")
        return self.c.text(f"dialog.states.{state}.text")

    def _greet(self, turn: Turn) -> None:
        turn.answer.say(self.c.text("dialog.states.welcome.text") + "\n" + self.c.text("legal.company_note"))

    def _ask(self, turn: Turn) -> None:
        """Ask the current state's question (nothing if it is already answered)."""
        state = turn.state
        if state in _CHAINED and not turn.is_pending(state):
            return
        if state == "welcome":
            return
        if state == "privacy":
            turn.answer.say(self.c.text("legal.privacy_notice"))
            turn.answer.say(self.c.text("legal.disclaimer") + "\n\n" + self.c.text("dialog.states.privacy.text"))
        elif state == "contact":
            turn.answer.say(self.c.text("dialog.states.contact.text") + "\n\n" + self.c.text("legal.contact_consent"))
        elif state == "handoff":
            turn.answer.say(self.c.text("dialog.states.handoff.text"))
        else:
            turn.answer.say(self._question_text(turn, state))
        turn.answer.quick_replies = self._quick(turn, self._buttons(turn))
        self._add_common_buttons(turn)

    def _add_common_buttons(self, turn: Turn) -> None:
        qr = turn.answer.quick_replies
        extra = []
        if (turn.offer_human or turn.data.get("misses", 0) >= 2) and turn.state not in CONTACT_STEPS \
                and turn.state != "handoff":
            extra.append(self.c.get("dialog.common.human_button"))
        if turn.offer_restart and turn.state not in ("privacy", "welcome"):
            extra.append(self.c.get("dialog.common.restart_button"))
        for b in extra:
            if all(q.data != b["data"] for q in qr):
                qr.extend(self._quick(turn, [b]))

    def _reprompt(self, turn: Turn) -> None:
        d = turn.data
        d["misses"] = d.get("misses", 0) + 1
        state = turn.state
        if state == "welcome":
            return
        key = f"dialog.states.{state}.reprompt"
        if state == "contact_phone" and turn.inp.channel == "web":
            key = "dialog.states.contact_phone.reprompt_web"
        text = self.c.text(key)
        if d["misses"] >= 2 and state not in CONTACT_STEPS and state != "handoff":
            text += "\n\n" + self.c.text("dialog.common.offer_human")
        turn.answer.say(text)
        turn.answer.quick_replies = self._quick(turn, self._buttons(turn))
        self._add_common_buttons(turn)

    def _confirm_changes(self, turn: Turn) -> None:
        if not turn.changes:
            return
        sep = self.c.text("dialog.common.item_sep")
        for kind in ("corrected", "noted"):
            qs = []
            for k, q in turn.changes:
                if k == kind and q not in qs:
                    qs.append(q)
            items = [i for q in qs for i in self._describe(turn, q)]
            if items:
                turn.answer.say(self.c.text(f"dialog.common.{kind}", items=sep.join(items)))
        turn.changes.clear()

    def _describe(self, turn: Turn, q: str) -> list[str]:
        """「滞納は「4ヶ月」」: how a stored answer reads back."""
        a, c = turn.answers, self.c
        unknown = c.text("dialog.common.unknown_value")

        def item(label_key: str, value: str) -> str:
            return c.text("dialog.common.item", label=c.text(f"dialog.facts.{label_key}"), value=value)

        if q == "arrears":
            n = a.get("arrears_months")
            value = unknown if n is None else (self._button_label("arrears", "arrears:0") if n == 0
                                               else c.text("dialog.common.months", n=n))
            return [item("arrears", value)]
        if q == "notice":
            latest = a.get("latest_notice")
            data = "notice:court" if turn.data.get("court_letter") else f"notice:{latest or 'unknown'}"
            return [item("notice", self._button_label("notice", data) or unknown)]
        if q == "dates":
            out = []
            for key in ("kaisatsu_date", "start_decision_date"):
                if a.get(key):
                    out.append(item(key, format_date(_parse_iso(a[key]), turn.today)))
            if a.get("bidding_start"):
                start = format_date(_parse_iso(a["bidding_start"]), turn.today)
                end = format_date(_parse_iso(a["bidding_end"]), turn.today) if a.get("bidding_end") else ""
                out.append(item("bidding", c.text("dialog.facts.bidding_range", start=start, end=end)))
            if turn.data.get("inspection_date"):
                out.append(item("inspection_date", format_date(_parse_iso(turn.data["inspection_date"]),
                                                               turn.today)))
            return out
        if q in FIELD_OF:
            value = a.get(FIELD_OF[q])
            name = next(n for n, (qq, _) in ANSWER_POSTBACKS.items() if qq == q)
            _, values = ANSWER_POSTBACKS[name]
            key = next((k for k, v in values.items() if v == value and type(v) is type(value)), "unknown")
            label = self._button_label(q, f"{name}:{key}") or unknown
            return [item(q, label)]
        return []

    def _button_label(self, state: str, data: str) -> str | None:
        for b in self.c.get(f"dialog.states.{state}.buttons"):
            if b["data"] == data:
                return b["label"]
        return None

    # -- FAQ and explanations --------------------------------------------------
    def _faq_entry(self, topic: str, text: str) -> dict[str, Any] | None:
        entries = [e for e in self.c.get("faq") if e.get("topic") == topic]
        best, hits = None, 0
        for e in entries:
            n = sum(1 for w in e.get("keywords", []) if w and w in text)
            if n > hits:
                best, hits = e, n
        if best is None:
            best = next((e for e in entries if e.get("primary")), None)
        return best

    def _answer_faq(self, turn: Turn) -> None:
        topic, text = turn.faq or ("other", "")
        entry = self._faq_entry(topic, text)
        if entry is None:
            turn.answer.say(self.c.text("dialog.common.faq_other"))
            turn.offer_human = True
            return
        turn.answer.say(self.c.text("dialog.common.faq_answer", question=entry["question"], answer=entry["answer"]))

    def _show_explanation(self, turn: Turn) -> None:
        topic, c, ans = turn.topic, self.c, turn.answer
        if topic == "ninbai":
            e = c.get("knowledge.explain.ninbai")
            ans.say(c.text("dialog.explain.item", title=e["title"], text=e["text"]))
        elif topic == "keibai":
            e = c.get("knowledge.explain.keibai")
            ans.say(c.text("dialog.explain.item", title=e["title"], text=e["text"]))
            t = c.get("knowledge.comparison")
            ans.messages.append(Table(alt_text=t["alt_text"], title=t["title"], columns=list(t["columns"]),
                                      rows=[list(r) for r in t["rows"]], note=t.get("note")))
        elif topic in ("merits", "cautions"):
            lines = [c.text("dialog.explain.list_item", title=i["title"], text=i["text"])
                     for i in c.get(f"knowledge.{topic}")]
            ans.say(c.text(f"dialog.explain.{topic}") + "\n\n" + "\n\n".join(lines))
        elif topic == "steps":
            lines = [c.text("dialog.explain.step_item", n=n, title=i["title"], text=i["text"])
                     for n, i in enumerate(c.get("knowledge.steps"), 1)]
            ans.say(c.text("dialog.explain.steps") + "\n\n" + "\n\n".join(lines))
        elif topic == "faq":
            ans.say(c.text("dialog.common.faq_menu"))
            buttons = [{"label": c.text(f"dialog.faq_topics.{t}"), "data": f"faq:{t}"} for t in FAQ_TOPICS]
            back = c.get("dialog.common.back_question" if turn.state in QUESTIONS else "dialog.common.back_menu")
            ans.quick_replies = self._quick(turn, [*buttons, back])

    # -- result and handoff ---------------------------------------------------
    def _show_result(self, turn: Turn) -> None:
        if turn.menu_only:
            self._ask(turn)
            return
        advice.show_result(self.c, turn)
        turn.data["finished"] = True

    def _confirm_handoff(self, turn: Turn) -> None:
        c = turn.contact
        turn.signals.add("handoff")
        if not turn.is_pending("contact_phone") and c.get("consented"):
            turn.answers["has_contact"] = True
            turn.signals.add("lead")
            turn.answer.say(self.c.text("dialog.states.handoff.text_lead"))
        else:
            turn.answer.say(self.c.text("dialog.states.handoff.text_wait"))
        turn.answer.quick_replies = self._quick(turn, self._buttons(turn, "handoff"))


class _Nothing:
    def __repr__(self) -> str:  # pragma: no cover
        return "_NOTHING"


_NOTHING: Any = _Nothing()
